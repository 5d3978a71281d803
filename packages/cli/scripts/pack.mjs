#!/usr/bin/env node
// Packs the npm packages of one platform: `@krepis/cli-<target>` around a krepis binary, and the
// `@krepis/cli` launcher, both with the version of the Cargo workspace, as tarballs in <out-dir>.
// The release workflow runs it once per target; the tests run it with this machine's binary.
//
//   node scripts/pack.mjs <krepis-binary> <out-dir> [--target linux-x64-gnu]
//
// --target defaults to this machine's. When the binary can run here, its `--version` must be the
// version being packed. Prints the path of each tarball it writes, one per line.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { LAUNCHER, TARGETS, byTarget, hostLibc, packageName, targetFor } = require("../lib/platforms.cjs");

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(here);
const repoRoot = resolve(packageDir, "..", "..");

function fail(message) {
  process.stderr.write(`pack: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const positional = [];
  let target;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--target") {
      target = argv[++i];
      if (target === undefined) fail("--target needs a value");
    } else if (arg.startsWith("--target=")) {
      target = arg.slice("--target=".length);
    } else if (arg.startsWith("-")) {
      fail(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 2) {
    fail("usage: node scripts/pack.mjs <krepis-binary> <out-dir> [--target <target>]");
  }
  return { binary: resolve(positional[0]), outDir: resolve(positional[1]), target };
}

/** The `version = "…"` of a TOML table (`[package]` or `[workspace.package]`), or undefined. */
function tomlVersion(text, table) {
  let inTable = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      inTable = header[1].trim() === table;
      continue;
    }
    if (!inTable) continue;
    const literal = /^version\s*=\s*"([^"]+)"/.exec(line);
    if (literal) return { version: literal[1] };
    if (/^version(\.workspace\s*=\s*true|\s*=\s*\{\s*workspace\s*=\s*true\s*\})/.test(line)) {
      return { workspace: true };
    }
  }
  return undefined;
}

/** The version of the `krepis` binary's crate, as Cargo would build it. */
export function cargoVersion(root = repoRoot) {
  const crate = tomlVersion(readFileSync(join(root, "crates", "krepis-cli", "Cargo.toml"), "utf8"), "package");
  if (crate?.version) return crate.version;
  const workspace = tomlVersion(readFileSync(join(root, "Cargo.toml"), "utf8"), "workspace.package");
  if (crate?.workspace && workspace?.version) return workspace.version;
  throw new Error("no version in crates/krepis-cli/Cargo.toml or the workspace's [workspace.package]");
}

function npm(args, cwd) {
  // npm is a .cmd script on Windows, which only a shell runs.
  return execFileSync("npm", args, { cwd, encoding: "utf8", shell: process.platform === "win32" });
}

function npmPack(dir, outDir) {
  const out = npm(["pack", "--json", "--pack-destination", outDir, "--loglevel=error"], dir);
  const [result] = JSON.parse(out);
  return join(outDir, result.filename);
}

/** `linux x64 (glibc, x86_64-unknown-linux-gnu)`. */
function platformDescription(row) {
  return row.libc ? `${row.os} ${row.cpu} (${row.libc}, ${row.rust})` : `${row.os} ${row.cpu} (${row.rust})`;
}

function platformManifest(row, version) {
  const template = readFileSync(join(here, "platform-package.template.json"), "utf8");
  const description = platformDescription(row);
  const fields = { name: packageName(row.target), version, description, binary: row.binary, os: row.os, cpu: row.cpu, libc: row.libc ?? "" };
  const manifest = JSON.parse(template.replace(/\{\{(\w+)\}\}/g, (_, key) => {
    if (!(key in fields)) fail(`the template names an unknown field {{${key}}}`);
    return fields[key];
  }));
  if (!row.libc) delete manifest.libc;
  return manifest;
}

function launcherManifest(version) {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  manifest.version = version;
  manifest.optionalDependencies = Object.fromEntries(TARGETS.map((t) => [packageName(t.target), version]));
  delete manifest.scripts;
  delete manifest.devDependencies;
  return manifest;
}

function writeJson(file, value) {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function main() {
  const { binary, outDir, target: wanted } = parseArgs(process.argv.slice(2));
  const host = { platform: process.platform, arch: process.arch, libc: hostLibc() };
  const row = wanted === undefined ? targetFor(host) : byTarget(wanted);
  if (row === undefined) {
    const known = TARGETS.map((t) => t.target).join(", ");
    fail(wanted === undefined ? `this machine has no target; pass --target (one of ${known})` : `unknown target ${wanted} (one of ${known})`);
  }
  try {
    if (!statSync(binary).isFile()) fail(`${binary} is not a file`);
  } catch {
    fail(`${binary} does not exist`);
  }
  const version = cargoVersion();

  mkdirSync(outDir, { recursive: true });
  const stage = mkdtempSync(join(tmpdir(), "krepis-pack-"));
  try {
    const platformDir = join(stage, "platform");
    mkdirSync(join(platformDir, "bin"), { recursive: true });
    const manifest = platformManifest(row, version);
    writeJson(join(platformDir, "package.json"), manifest);
    writeFileSync(
      join(platformDir, "README.md"),
      `# ${manifest.name}\n\nThe \`krepis\` binary for ${platformDescription(row)}.\n\n` +
        `Install [\`${LAUNCHER}\`](https://www.npmjs.com/package/${LAUNCHER}) instead: it depends on this package ` +
        "on the platforms it fits and runs the binary from it.\n",
    );
    const staged = join(platformDir, "bin", row.binary);
    copyFileSync(binary, staged);
    // Executable whatever the source's mode (a downloaded CI artifact has lost it).
    chmodSync(staged, 0o755);
    if (targetFor(host) === row) {
      const printed = execFileSync(staged, ["--version"], { encoding: "utf8" }).trim();
      if (!printed.split(/\s+/).includes(version)) {
        rmSync(stage, { recursive: true, force: true });
        fail(`${binary} --version printed "${printed}", but the Cargo workspace is at ${version}: rebuild it`);
      }
    }

    const launcherDir = join(stage, "launcher");
    const launcher = launcherManifest(version);
    for (const file of [...launcher.files, "README.md"]) {
      mkdirSync(dirname(join(launcherDir, file)), { recursive: true });
      copyFileSync(join(packageDir, file), join(launcherDir, file));
    }
    chmodSync(join(launcherDir, launcher.bin.krepis), 0o755);
    writeJson(join(launcherDir, "package.json"), launcher);

    for (const dir of [platformDir, launcherDir]) {
      console.log(npmPack(dir, outDir));
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
