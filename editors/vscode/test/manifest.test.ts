import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LANGUAGE_IDS } from "../src/logic";

// The tests run from out/; the package root is one folder up.
const root = join(__dirname, "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const extensionSource = readFileSync(join(root, "src", "extension.ts"), "utf8");

describe("package.json", () => {
  it("activates for the languages the client serves and for krepis.json", () => {
    const expected = LANGUAGE_IDS.map((id) => `onLanguage:${id}`).concat("workspaceContains:**/krepis.json");
    assert.deepEqual([...manifest.activationEvents].sort(), expected.sort());
  });

  it("declares exactly the commands the extension registers", () => {
    const declared = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    const registered = [...extensionSource.matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(declared, ["krepis.fixAllInWorkspace", "krepis.restartServer", "krepis.showOutput", "krepis.undoLastFix"]);
    assert.deepEqual(registered, declared);
  });

  it("declares the settings the extension reads", () => {
    const properties = manifest.contributes.configuration.properties;
    assert.equal(properties["krepis.path"].default, "");
    assert.deepEqual(properties["krepis.trace.server"].enum, ["off", "messages", "verbose"]);
    assert.equal(properties["krepis.fixOnSave"].default, false);
  });

  it("validates krepis.json with the bundled schema", () => {
    assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: "krepis.json", url: "./schemas/krepis.schema.json" }]);
    const schema = JSON.parse(readFileSync(join(root, "schemas", "krepis.schema.json"), "utf8"));
    assert.equal(schema.type, "object");
    assert.ok(schema.properties.layers, "the schema describes `layers`");
  });

  it("keeps the schema identical to the repository's (when built inside it)", (t) => {
    const source = join(root, "..", "..", "schemas", "krepis.schema.json");
    if (!existsSync(source)) {
      t.skip("outside the repository");
      return;
    }
    assert.equal(
      readFileSync(join(root, "schemas", "krepis.schema.json"), "utf8"),
      readFileSync(source, "utf8"),
      "schemas/krepis.schema.json drifted: run `npm run copy-schema`",
    );
  });
});
