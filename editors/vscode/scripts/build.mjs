// Bundles the extension (and, with --tests, the unit tests) with esbuild.
//   node scripts/build.mjs           -> dist/extension.js
//   node scripts/build.mjs --tests   -> out/*.test.js
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  logLevel: "warning",
  absWorkingDir: root,
};

if (process.argv.includes("--tests")) {
  rmSync(join(root, "out"), { recursive: true, force: true });
  const tests = readdirSync(join(root, "test"))
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => join("test", f));
  await build({ ...common, entryPoints: tests, outdir: "out", external: ["vscode"], sourcemap: "inline" });
} else {
  await build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    external: ["vscode"],
    minify: true,
    sourcemap: false,
  });
}
