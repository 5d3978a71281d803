// Build helpers without dependencies.
//   node scripts/dist.mjs clean DIR...   removes the folders
//   node scripts/dist.mjs dts DIR        rewrites relative `.ts` specifiers in DIR/**/*.d.ts to `.js`
// tsc's rewriteRelativeImportExtensions turns `./x.ts` into `./x.js` in the emitted JavaScript but
// keeps `./x.ts` in declarations; `.js` there works with every TypeScript version and resolution.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [command, ...dirs] = process.argv.slice(2);

function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

if (command === "clean") {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
} else if (command === "dts") {
  const specifier = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"']*?)\.ts\2/g;
  for (const file of dirs.flatMap(declarations)) {
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(specifier, (_, head, quote, path) => `${head}${quote}${path}.js${quote}`);
    if (fixed !== text) writeFileSync(file, fixed);
  }
} else {
  console.error(`usage: node scripts/dist.mjs clean DIR... | dts DIR...`);
  process.exit(2);
}
