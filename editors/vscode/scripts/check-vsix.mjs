// Checks a packaged .vsix (a zip): it must hold the manifest, the bundle, the schema and the
// README, and nothing from src/ or node_modules/. vsce stores README.md as `extension/readme.md`
// (and CHANGELOG.md as `changelog.md`), so those names are compared without regard to case.
// A platform-specific package (--target, as given to scripts/package-platform.mjs) must also hold
// the server binary, executable; the universal one must hold none.
//   node scripts/check-vsix.mjs krepis.vsix
//   node scripts/check-vsix.mjs krepis-linux-x64.vsix --target linux-x64
import yauzl from "yauzl";

const args = process.argv.slice(2);
const targetAt = args.indexOf("--target");
const target = targetAt === -1 ? undefined : args.splice(targetAt, 2)[1];
const file = args[0] ?? "krepis.vsix";

/** The Unix permission bits of each entry (zip's external attributes, as vsce writes them). */
const modes = new Map();

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
        modes.set(entry.fileName, (entry.externalFileAttributes >>> 16) & 0o7777);
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
let bundled = "no bundled binary";
if (target === undefined) {
  for (const name of names.filter((n) => n.startsWith("extension/bin/"))) {
    problems.push(`the universal package must not contain ${name}`);
  }
} else {
  const binary = `extension/bin/${target.startsWith("win32-") ? "krepis.exe" : "krepis"}`;
  if (!names.includes(binary)) {
    problems.push(`missing ${binary} (the server binary of a ${target} package)`);
  } else if (!target.startsWith("win32-") && (modes.get(binary) & 0o111) !== 0o111) {
    problems.push(`${binary} is not executable (mode ${modes.get(binary).toString(8)})`);
  } else {
    bundled = `${binary} mode ${modes.get(binary).toString(8)}`;
  }
}
if (problems.length > 0) {
  console.error(`check-vsix: ${file}: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`check-vsix: ${file} is complete (${names.length} entries, no src/ or node_modules/, ${bundled}).`);
