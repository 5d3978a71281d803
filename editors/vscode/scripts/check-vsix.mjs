// Checks a packaged .vsix (a zip): it must hold the manifest, the bundle, the schema and the
// README, and nothing from src/ or node_modules/. vsce stores README.md as `extension/readme.md`
// (and CHANGELOG.md as `changelog.md`), so those names are compared without regard to case.
//   node scripts/check-vsix.mjs krepis.vsix
import yauzl from "yauzl";

const file = process.argv[2] ?? "krepis.vsix";

function entries(path) {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (error, zip) => {
      if (error) {
        reject(error);
        return;
      }
      const names = [];
      zip.on("entry", (entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on("end", () => resolve(names));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

const names = await entries(file);
for (const name of names) {
  console.log(`  ${name}`);
}
const required = [
  "extension/package.json",
  "extension/dist/extension.js",
  "extension/schemas/krepis.schema.json",
  "extension/README.md",
];
const problems = [];
const caseless = new Set(["extension/readme.md"]);
const has = (wanted) =>
  names.includes(wanted) ||
  (caseless.has(wanted.toLowerCase()) && names.some((n) => n.toLowerCase() === wanted.toLowerCase()));
for (const name of required) {
  if (!has(name)) {
    problems.push(`missing ${name}`);
  }
}
for (const name of names) {
  if (/(^|\/)(src|node_modules)\//.test(name)) {
    problems.push(`must not contain ${name}`);
  }
}
if (problems.length > 0) {
  console.error(`check-vsix: ${file}: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`check-vsix: ${file} is complete (${names.length} entries, no src/ or node_modules/).`);
