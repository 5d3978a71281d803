// Packages a platform-specific .vsix that bundles the krepis server binary as bin/krepis (or
// bin/krepis.exe), which the extension runs when `krepis.path` is unset and neither the
// workspace's node_modules nor PATH has a `krepis`. The extension is copied into a temporary
// folder first, so the binary never lands in this folder (and never in the universal package).
//
//   node scripts/package-platform.mjs <krepis-binary> [--target linux-x64] [--out krepis-linux-x64.vsix]
//
// --target is a `vsce --target` (linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64;
// default: this machine's); --out defaults to krepis-<target>.vsix here. Prints the .vsix path.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64"];
/** What is not copied: dependencies (linked instead), build output, local test set-ups. */
const SKIP = new Set(["node_modules", "dist", "out", "bin", "e2e", ".vscode-test"]);

function fail(message) {
  process.stderr.write(`package-platform: ${message}\n`);
  process.exit(2);
}

const positional = [];
let target = `${process.platform}-${process.arch}`;
let out;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const arg = argv[i];
  if (arg === "--target" || arg === "--out") {
    const value = argv[++i];
    if (value === undefined) fail(`${arg} needs a value`);
    if (arg === "--target") target = value;
    else out = resolve(value);
  } else if (arg.startsWith("-")) {
    fail(`unknown option ${arg}`);
  } else {
    positional.push(arg);
  }
}
if (positional.length !== 1) {
  fail("usage: node scripts/package-platform.mjs <krepis-binary> [--target <vsce target>] [--out <file.vsix>]");
}
if (!TARGETS.includes(target)) fail(`unknown target ${target} (one of ${TARGETS.join(", ")})`);
const binary = resolve(positional[0]);
if (!existsSync(binary) || !statSync(binary).isFile()) fail(`${binary} is not a file`);
out ??= join(root, `krepis-${target}.vsix`);
const vsce = join(root, "node_modules", "@vscode", "vsce", "vsce");
if (!existsSync(vsce)) fail("@vscode/vsce is not installed here: run `npm ci` first");

const stage = mkdtempSync(join(tmpdir(), "krepis-vsix-"));
try {
  // The copy sits at the same depth as here, next to a copy of the repository's schemas/, so its
  // build (copy-schema) takes the repository's schema as the universal package does.
  const ext = join(stage, "editors", "vscode");
  const schemas = join(root, "..", "..", "schemas");
  if (existsSync(schemas)) cpSync(schemas, join(stage, "schemas"), { recursive: true });
  cpSync(root, ext, {
    recursive: true,
    filter: (source) => {
      const relative = source.slice(root.length + 1);
      const top = relative.split(/[\\/]/)[0];
      return relative === "" || (!SKIP.has(top) && !(top === relative && top.endsWith(".vsix")));
    },
  });
  symlinkSync(join(root, "node_modules"), join(ext, "node_modules"), process.platform === "win32" ? "junction" : "dir");
  const name = target.startsWith("win32-") ? "krepis.exe" : "krepis";
  mkdirSync(join(ext, "bin"));
  copyFileSync(binary, join(ext, "bin", name));
  chmodSync(join(ext, "bin", name), 0o755);
  mkdirSync(dirname(out), { recursive: true });
  // vsce runs `vscode:prepublish` (the esbuild bundle) in the copy, then packs what
  // .vscodeignore lets through, bin/krepis included.
  execFileSync(process.execPath, [vsce, "package", "--no-dependencies", "--target", target, "-o", out], {
    cwd: ext,
    stdio: ["ignore", "inherit", "inherit"],
  });
} finally {
  rmSync(stage, { recursive: true, force: true });
}
console.log(out);
