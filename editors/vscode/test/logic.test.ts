import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  PLATFORM_PACKAGES,
  bundledBinary,
  projectBinary,
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

describe("resolveBinary: setting, the workspace's node_modules, PATH, the bundled binary", () => {
  const workspace = "/home/u/shop";
  const extensionDir = "/home/u/.vscode/extensions/krepis.krepis-0.1.0-linux-x64";
  const setting = "/opt/krepis";
  const project = "/home/u/shop/node_modules/@krepis/cli-linux-x64-gnu/bin/krepis";
  const onPath = "/home/u/.cargo/bin/krepis";
  const bundled = `${extensionDir}/bin/krepis`;
  const base = {
    env: { PATH: "/usr/bin:/home/u/.cargo/bin" },
    platform: "linux",
    arch: "x64",
    workspaceFolder: workspace,
    trusted: true,
    extensionDir,
  };
  const all = [setting, project, onPath, bundled];
  const pick = (setting: string, files: string[], extra: object = {}) =>
    resolveBinary({ ...base, setting, isExecutable: only(...files), ...extra });

  it("locates the bundled and the npm-installed binaries", () => {
    assert.equal(bundledBinary(extensionDir, "linux"), bundled);
    assert.equal(bundledBinary("C:\\ext", "win32"), "C:\\ext\\bin\\krepis.exe");
    assert.equal(projectBinary(workspace, "linux", "x64"), project);
    assert.equal(projectBinary("D:\\w", "win32", "x64"), "D:\\w\\node_modules\\@krepis\\cli-win32-x64-msvc\\bin\\krepis.exe");
    assert.equal(projectBinary(workspace, "darwin", "arm64"), "/home/u/shop/node_modules/@krepis/cli-darwin-arm64/bin/krepis");
    assert.equal(projectBinary(workspace, "linux", "ia32"), undefined);
  });

  it("takes each source in order, the first one present", () => {
    assert.deepEqual(pick(setting, all), { ok: true, path: setting, from: "setting" });
    assert.deepEqual(pick("", all), { ok: true, path: project, from: "node_modules" });
    assert.deepEqual(pick("", [onPath, bundled]), { ok: true, path: onPath, from: "PATH" });
    assert.deepEqual(pick("", [bundled]), { ok: true, path: bundled, from: "bundled" });
  });

  it("does not fall back from a wrong setting to the bundled binary", () => {
    const r = pick("/nowhere/krepis", [bundled]);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : "", /krepis\.path.*not an executable/);
  });

  it("runs nothing from an untrusted workspace's node_modules", () => {
    assert.deepEqual(pick("", all, { trusted: false }), { ok: true, path: onPath, from: "PATH" });
    assert.deepEqual(pick("", [project, bundled], { trusted: false }), { ok: true, path: bundled, from: "bundled" });
    assert.deepEqual(pick("", [project, bundled], { trusted: undefined }), { ok: true, path: bundled, from: "bundled" });
  });

  it("uses the bundled krepis.exe on Windows", () => {
    const ext = "C:\\Users\\u\\.vscode\\extensions\\krepis.krepis-0.1.0-win32-x64";
    const r = resolveBinary({
      setting: "",
      env: { Path: "C:\\Windows" },
      platform: "win32",
      arch: "x64",
      isExecutable: only(`${ext}\\bin\\krepis.exe`),
      extensionDir: ext,
    });
    assert.deepEqual(r, { ok: true, path: `${ext}\\bin\\krepis.exe`, from: "bundled" });
  });

  it("explains every way to get a binary when there is none", () => {
    const r = pick("", []);
    assert.equal(r.ok, false);
    const message = !r.ok ? r.message : "";
    assert.match(message, /not found on PATH, in the workspace's node_modules or bundled/);
    assert.match(message, /npm install --save-dev @krepis\/cli/);
    assert.match(message, /krepis\.path/);
  });

  it("looks for the same platform packages the npm launcher installs (when built inside the repository)", async (t) => {
    const table = join(__dirname, "..", "..", "..", "packages", "cli", "lib", "platforms.cjs");
    if (!existsSync(table)) {
      t.skip("outside the repository");
      return;
    }
    // A path unknown to esbuild at bundle time: loaded from disk when the test runs.
    const { TARGETS, packageName } = require(table) as {
      TARGETS: { target: string; os: string; cpu: string }[];
      packageName: (target: string) => string;
    };
    const expected = Object.fromEntries(TARGETS.map((row) => [`${row.os}-${row.cpu}`, packageName(row.target)]));
    assert.deepEqual(PLATFORM_PACKAGES, expected);
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
