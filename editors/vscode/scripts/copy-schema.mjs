// Copies the repository's krepis.json schema (../../schemas) into schemas/, so the extension
// validates exactly what the CLI accepts. Outside the repository (the folder copied on its own)
// the checked-in copy is kept, with a note.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const source = join(here, "..", "..", "schemas", "krepis.schema.json");
const target = join(here, "schemas", "krepis.schema.json");

if (existsSync(source)) {
  JSON.parse(readFileSync(source, "utf8")); // fail loudly on a broken schema
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  console.log("copy-schema: schemas/krepis.schema.json updated from ../../schemas");
} else if (existsSync(target)) {
  console.log("copy-schema: ../../schemas not found (outside the repository); keeping schemas/krepis.schema.json");
} else {
  console.error(`copy-schema: neither ${source} nor ${target} exists`);
  process.exit(1);
}
