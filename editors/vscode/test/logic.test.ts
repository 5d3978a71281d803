import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FIX_ALL_KIND,
  SEVERITY,
  countProblems,
  describeFix,
  errorLine,
  expandSetting,
  isFixAllKind,
  parseFixSummary,
  parseUndoSummary,
  resolveBinary,
  shouldFixOnSave,
  statusView,
} from "../src/logic";

/** An `isExecutable` that knows only the given files. */
function only(...files: string[]): (file: string) => boolean {
  const set = new Set(files);
  return (file) => set.has(file);
}

describe("resolveBinary", () => {
  it("uses the setting, even when krepis is also on PATH", () => {
    const r = resolveBinary({
      setting: "/opt/krepis/bin/krepis",
      env: { PATH: "/usr/bin:/usr/local/bin" },
      platform: "linux",
      isExecutable: only("/opt/krepis/bin/krepis", "/usr/local/bin/krepis"),
    });
    assert.deepEqual(r, { ok: true, path: "/opt/krepis/bin/krepis", from: "setting" });
  });

  it("reports a setting that names no executable instead of falling back to PATH", () => {
    const r = resolveBinary({
      setting: "/nowhere/krepis",
      env: { PATH: "/usr/local/bin" },
      platform: "linux",
      isExecutable: only("/usr/local/bin/krepis"),
    });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : "", /krepis\.path.*\/nowhere\/krepis.*not an executable/);
  });

  it("resolves a relative or ~ setting", () => {
    assert.equal(expandSetting("./target/release/krepis", "linux", "/home/u/proj"), "/home/u/proj/target/release/krepis");
    assert.equal(expandSetting("~/bin/krepis", "linux", "/w", "/home/u"), "/home/u/bin/krepis");
    assert.equal(expandSetting("${workspaceFolder}/bin/krepis", "linux", "/w"), "/w/bin/krepis");
    assert.equal(expandSetting("C:\\tools\\krepis.exe", "win32", "D:\\w"), "C:\\tools\\krepis.exe");
  });

  it("takes the first executable krepis in PATH order, skipping empty entries", () => {
    const r = resolveBinary({
      setting: "",
      env: { PATH: "::/usr/bin:/home/u/.cargo/bin:/usr/local/bin" },
      platform: "linux",
      isExecutable: only("/home/u/.cargo/bin/krepis", "/usr/local/bin/krepis"),
    });
    assert.deepEqual(r, { ok: true, path: "/home/u/.cargo/bin/krepis", from: "PATH" });
  });

  it("tries PATHEXT extensions and ; separators on Windows", () => {
    const r = resolveBinary({
      setting: undefined,
      env: { Path: "C:\\Windows;C:\\Users\\u\\.cargo\\bin", PATHEXT: ".COM;.EXE;.BAT" },
      platform: "win32",
      isExecutable: only("C:\\Users\\u\\.cargo\\bin\\krepis.exe"),
    });
    assert.deepEqual(r, { ok: true, path: "C:\\Users\\u\\.cargo\\bin\\krepis.exe", from: "PATH" });
  });

  it("explains a missing binary", () => {
    const r = resolveBinary({ setting: "  ", env: { PATH: "/usr/bin" }, platform: "linux", isExecutable: only() });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : "", /not found on PATH.*krepis\.path/);
  });
});

describe("status bar", () => {
  const none = { errors: 0, warnings: 0, infos: 0, files: 0 };

  it("shows each server state", () => {
    assert.equal(statusView("starting", none).text, "$(sync~spin) Krepis");
    const stopped = statusView("stopped", { ...none, errors: 3 }, "Start failed: spawn EACCES");
    assert.equal(stopped.text, "$(warning) Krepis: stopped");
    assert.equal(stopped.warning, true);
    assert.match(stopped.tooltip, /not running\.\nStart failed: spawn EACCES/);
    assert.equal(statusView("running", none).text, "$(check) Krepis");
  });

  it("counts errors and warnings of source krepis only", () => {
    const counts = countProblems([
      ["a.ts", [
        { source: "krepis", severity: SEVERITY.error },
        { source: "ts", severity: SEVERITY.error },
        { source: "krepis", severity: SEVERITY.warning },
      ]],
      ["b.ts", [{ source: "eslint", severity: SEVERITY.warning }]],
      ["c.ts", [{ source: "krepis", severity: SEVERITY.hint }]],
    ]);
    assert.deepEqual(counts, { errors: 1, warnings: 1, infos: 1, files: 2 });
    const view = statusView("running", counts);
    assert.equal(view.text, "$(error) Krepis: 2");
    assert.equal(view.warning, false);
    assert.match(view.tooltip, /1 error and 1 warning in 2 files/);
    assert.equal(statusView("running", { errors: 0, warnings: 0, infos: 4, files: 1 }).text, "$(check) Krepis");
  });
});

describe("fix on save", () => {
  it("applies only when enabled, to TS/JS files on disk", () => {
    for (const id of ["typescript", "typescriptreact", "javascript", "javascriptreact"]) {
      assert.equal(shouldFixOnSave(true, id, "file"), true, id);
      assert.equal(shouldFixOnSave(false, id, "file"), false, id);
    }
    assert.equal(shouldFixOnSave(true, "json", "file"), false);
    assert.equal(shouldFixOnSave(true, "jsonc", "file"), false);
    assert.equal(shouldFixOnSave(true, "typescript", "untitled"), false);
  });

  it("recognises the fix-all kind", () => {
    assert.equal(FIX_ALL_KIND, "source.fixAll.krepis");
    assert.equal(isFixAllKind("source.fixAll.krepis"), true);
    assert.equal(isFixAllKind("source.fixAll.eslint"), false);
    assert.equal(isFixAllKind("quickfix"), false);
    assert.equal(isFixAllKind(undefined), false);
  });
});

describe("krepis fix / undo output", () => {
  // Exactly what `krepis fix` prints on the sample shop project.
  const fixed = [
    "fixed src/billing/application/invoice.ts",
    "fixed src/orders/application/place_order.ts",
    "Fixed 5 problems in 4 files (transaction 1; `krepis undo` restores them).",
    "",
    "error[layer-boundary]: layer `domain` must not import layer `infrastructure`",
    " --> src/orders/domain/pricing.ts:2:33",
    "",
    "Found 2 errors and 0 warnings in 2 files of 10 checked (0.03s).",
    "",
  ].join("\n");

  it("parses a fix that wrote files", () => {
    const s = parseFixSummary(fixed);
    assert.deepEqual(s, { fixed: 5, files: 4, transaction: 1, remaining: { errors: 2, warnings: 0 } });
    assert.equal(
      describeFix(s!),
      "Krepis fixed 5 problems in 4 files (transaction 1). 2 errors and 0 warnings remain (not automatically fixable).",
    );
  });

  it("parses singulars, CRLF and colours", () => {
    const s = parseFixSummary("\x1b[1mFixed 1 problems in 1 files (transaction 12; …).\x1b[0m\r\nNo problems in 3 files (0.01s).\r\n");
    assert.deepEqual(s, { fixed: 1, files: 1, transaction: 12, remaining: { errors: 0, warnings: 0 } });
    assert.equal(describeFix(s!), "Krepis fixed 1 problem in 1 file (transaction 12). No problems remain.");
  });

  it("parses nothing to fix", () => {
    const s = parseFixSummary("Nothing to fix.\n\nFound 1 error and 2 warnings in 2 files of 9 checked (0.01s).\n");
    assert.deepEqual(s, { fixed: 0, files: 0, remaining: { errors: 1, warnings: 2 } });
    assert.match(describeFix(s!), /^Krepis: nothing to fix\. 1 error and 2 warnings remain/);
  });

  it("returns null without a summary", () => {
    assert.equal(parseFixSummary(""), null);
    assert.equal(parseFixSummary("Found 2 errors and 0 warnings in 2 files of 10 checked (0.03s).\n"), null);
  });

  it("parses undo and error lines", () => {
    assert.deepEqual(
      parseUndoSummary("Undid transaction 1 (`krepis fix .`): restored 4 files.\nrestored a.ts\n"),
      { transaction: 1, files: 4 },
    );
    assert.equal(parseUndoSummary("nothing"), null);
    assert.equal(errorLine("note: x\nerror: no journal in .krepis: nothing to undo\n"), "no journal in .krepis: nothing to undo");
    assert.equal(errorLine(""), "");
  });
});
