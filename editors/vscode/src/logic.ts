// Pure logic of the extension: no `vscode` import, so it runs (and is tested) under plain Node.

/** The language ids Krepis checks (the client's document selector and fix-on-save). */
export const LANGUAGE_IDS: readonly string[] = [
  "typescript",
  "typescriptreact",
  "javascript",
  "javascriptreact",
];

/** The code action kind of the server's "fix every problem in this file" action. */
export const FIX_ALL_KIND = "source.fixAll.krepis";

/** The `source` every Krepis diagnostic carries. */
export const DIAGNOSTIC_SOURCE = "krepis";

// ---------------------------------------------------------------------------------------------
// Finding the binary
// ---------------------------------------------------------------------------------------------

export interface ResolveInput {
  /** The `krepis.path` setting ("" or unset: look for `krepis` on PATH). */
  setting: string | undefined;
  /** The process environment (PATH, and PATHEXT on Windows). */
  env: Record<string, string | undefined>;
  /** `process.platform`. */
  platform: string;
  /** `process.arch`: which `@krepis/cli-<platform>` package a workspace's node_modules holds. */
  arch?: string;
  /** True when `file` exists, is a regular file and may be executed. */
  isExecutable: (file: string) => boolean;
  /** The first workspace folder, against which a relative `krepis.path` is resolved. */
  workspaceFolder?: string;
  /** Whether the workspace is trusted: only then is a binary inside it (node_modules) run. */
  trusted?: boolean;
  /** The extension's own folder: a platform-specific package bundles the binary in `bin/`. */
  extensionDir?: string;
  /** The user's home folder, for a `krepis.path` starting with `~`. */
  homeDir?: string;
}

/** Where the binary was found, in the order they are tried (see `resolveBinary`). */
export type BinarySource = "setting" | "node_modules" | "PATH" | "bundled";

export type Resolved =
  | { ok: true; path: string; from: BinarySource }
  | { ok: false; message: string };

const BINARY = "krepis";

/** How each source is named in the output ("Starting … (found via …)"). */
export const SOURCE_LABELS: Readonly<Record<BinarySource, string>> = {
  setting: "the krepis.path setting",
  node_modules: "the workspace's @krepis/cli",
  PATH: "PATH",
  bundled: "the binary bundled with the extension",
};

/**
 * The npm package holding the native binary of each platform (`@krepis/cli` depends on the one
 * that fits), by `process.platform`-`process.arch`. The same table as the npm launcher's
 * (packages/cli/lib/platforms.cjs); a unit test keeps the two equal. VS Code on Linux runs on
 * glibc, so only the glibc packages are looked for.
 */
export const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  "linux-x64": "@krepis/cli-linux-x64-gnu",
  "linux-arm64": "@krepis/cli-linux-arm64-gnu",
  "darwin-x64": "@krepis/cli-darwin-x64",
  "darwin-arm64": "@krepis/cli-darwin-arm64",
  "win32-x64": "@krepis/cli-win32-x64-msvc",
};

function binaryName(platform: string): string {
  return platform === "win32" ? `${BINARY}.exe` : BINARY;
}

/** The binary a platform-specific build of the extension carries: `<extension>/bin/krepis[.exe]`. */
export function bundledBinary(extensionDir: string, platform: string): string {
  return joinPath(joinPath(extensionDir, "bin", platform), binaryName(platform), platform);
}

/** The native binary of a workspace's npm-installed `@krepis/cli`, or undefined for a platform
 * without a package. */
export function projectBinary(workspaceFolder: string, platform: string, arch: string): string | undefined {
  const name = PLATFORM_PACKAGES[`${platform}-${arch}`];
  if (name === undefined) {
    return undefined;
  }
  const parts = ["node_modules", ...name.split("/"), "bin", binaryName(platform)];
  return parts.reduce((dir, part) => joinPath(dir, part, platform), workspaceFolder);
}

function isAbsolute(file: string, platform: string): boolean {
  if (file.startsWith("/")) {
    return true;
  }
  return platform === "win32" && (/^[A-Za-z]:[\\/]/.test(file) || file.startsWith("\\\\"));
}

function joinPath(dir: string, name: string, platform: string): string {
  const sep = platform === "win32" ? "\\" : "/";
  if (dir.endsWith("/") || (platform === "win32" && dir.endsWith("\\"))) {
    return dir + name;
  }
  return dir + sep + name;
}

/** The `krepis.path` setting as a file name: `~` and `${workspaceFolder}` expanded, relative
 * paths taken from the workspace folder. */
export function expandSetting(
  setting: string,
  platform: string,
  workspaceFolder?: string,
  homeDir?: string,
): string {
  let file = setting.trim();
  if (workspaceFolder !== undefined) {
    file = file.split("${workspaceFolder}").join(workspaceFolder);
  }
  if (homeDir !== undefined && (file === "~" || file.startsWith("~/") || file.startsWith("~\\"))) {
    file = homeDir + file.slice(1);
  }
  if (!isAbsolute(file, platform) && workspaceFolder !== undefined) {
    file = joinPath(workspaceFolder, file.replace(/^\.[\\/]/, ""), platform);
  }
  return file;
}

/** The candidate file names of `krepis` in one PATH folder (with PATHEXT on Windows). */
function candidates(dir: string, input: ResolveInput): string[] {
  if (input.platform !== "win32") {
    return [joinPath(dir, BINARY, input.platform)];
  }
  const pathext = (input.env.PATHEXT ?? input.env.Pathext ?? ".COM;.EXE;.BAT;.CMD")
    .split(";")
    .filter((e) => e !== "");
  return pathext.map((ext) => joinPath(dir, BINARY + ext.toLowerCase(), input.platform));
}

/**
 * Finds the `krepis` binary. The order, first found wins:
 *
 * 1. the `krepis.path` setting: an explicit choice (and an error when it names no executable,
 *    rather than silently running something else);
 * 2. the workspace's own `@krepis/cli` (`node_modules/@krepis/cli-<platform>/bin/krepis`), in a
 *    trusted workspace only: the version the project pins and runs in `npm run lint` and CI, so
 *    the editor reports what CI reports;
 * 3. `krepis` on PATH: a binary the user installed on purpose (`cargo install`, a global npm
 *    install, a build of their own) is preferred to the one that merely ships with the extension;
 * 4. the binary bundled in a platform-specific build of the extension: always there, so it comes
 *    last, or it would shadow every deliberate choice above; it is what makes installing the
 *    extension all a user has to do.
 *
 * The output names the source of the binary it starts, so a stale `krepis` on PATH is visible.
 */
export function resolveBinary(input: ResolveInput): Resolved {
  const setting = (input.setting ?? "").trim();
  if (setting !== "") {
    const file = expandSetting(setting, input.platform, input.workspaceFolder, input.homeDir);
    if (input.isExecutable(file)) {
      return { ok: true, path: file, from: "setting" };
    }
    return {
      ok: false,
      message:
        `Krepis: the setting "krepis.path" is "${setting}", but ${file} is not an executable ` +
        `file. Point it at the krepis binary, or clear it to use \`krepis\` from PATH.`,
    };
  }
  if (input.trusted === true && input.workspaceFolder !== undefined && input.arch !== undefined) {
    const file = projectBinary(input.workspaceFolder, input.platform, input.arch);
    if (file !== undefined && input.isExecutable(file)) {
      return { ok: true, path: file, from: "node_modules" };
    }
  }
  // Windows spells it `Path`; take whichever is set.
  const pathVar = input.env.PATH ?? input.env.Path ?? input.env.path ?? "";
  const delimiter = input.platform === "win32" ? ";" : ":";
  for (const rawDir of pathVar.split(delimiter)) {
    const dir = rawDir.trim().replace(/^"(.*)"$/, "$1");
    if (dir === "") {
      continue;
    }
    for (const file of candidates(dir, input)) {
      if (input.isExecutable(file)) {
        return { ok: true, path: file, from: "PATH" };
      }
    }
  }
  if (input.extensionDir !== undefined) {
    const file = bundledBinary(input.extensionDir, input.platform);
    if (input.isExecutable(file)) {
      return { ok: true, path: file, from: "bundled" };
    }
  }
  return {
    ok: false,
    message:
      "Krepis: the `krepis` binary was not found on PATH, in the workspace's node_modules or " +
      "bundled with this build of the extension. Install the extension for your platform from " +
      "the Marketplace, add it to the project (`npm install --save-dev @krepis/cli`), or set " +
      '"krepis.path" to its location.',
  };
}

// ---------------------------------------------------------------------------------------------
// The status bar item
// ---------------------------------------------------------------------------------------------

export type ServerState = "starting" | "running" | "stopped";

export interface ProblemCounts {
  errors: number;
  warnings: number;
  /** Other severities (information, hints). */
  infos: number;
  /** Files with at least one Krepis diagnostic. */
  files: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** True when the item should carry the warning background (the server is not running). */
  warning: boolean;
}

/** Severities as `vscode.DiagnosticSeverity` numbers them. */
export const SEVERITY = { error: 0, warning: 1, information: 2, hint: 3 } as const;

/** Counts the Krepis diagnostics in `languages.getDiagnostics()`'s shape of result. */
export function countProblems(
  perFile: ReadonlyArray<readonly [unknown, ReadonlyArray<{ source?: string; severity: number }>]>,
): ProblemCounts {
  const counts: ProblemCounts = { errors: 0, warnings: 0, infos: 0, files: 0 };
  for (const [, diagnostics] of perFile) {
    let any = false;
    for (const d of diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) {
        continue;
      }
      any = true;
      if (d.severity === SEVERITY.error) {
        counts.errors += 1;
      } else if (d.severity === SEVERITY.warning) {
        counts.warnings += 1;
      } else {
        counts.infos += 1;
      }
    }
    if (any) {
      counts.files += 1;
    }
  }
  return counts;
}

function plural(n: number, word: string): string {
  return n === 1 ? `1 ${word}` : `${n} ${word}s`;
}

/** What the status bar shows for a server state and the current problem counts. */
export function statusView(state: ServerState, counts: ProblemCounts, detail?: string): StatusView {
  const click = "Click to show the Krepis output.";
  if (state === "starting") {
    return { text: "$(sync~spin) Krepis", tooltip: `Krepis: starting the language server…\n${click}`, warning: false };
  }
  if (state === "stopped") {
    const why = detail ? `\n${detail}` : "";
    return { text: "$(warning) Krepis: stopped", tooltip: `Krepis: the language server is not running.${why}\n${click}`, warning: true };
  }
  const problems = counts.errors + counts.warnings;
  if (problems === 0) {
    return { text: "$(check) Krepis", tooltip: `Krepis: no problems.\n${click}`, warning: false };
  }
  return {
    text: `$(error) Krepis: ${problems}`,
    tooltip:
      `Krepis: ${plural(counts.errors, "error")} and ${plural(counts.warnings, "warning")} ` +
      `in ${plural(counts.files, "file")}.\n${click}`,
    warning: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Fix on save
// ---------------------------------------------------------------------------------------------

/** Whether a document being saved gets `source.fixAll.krepis` applied first. */
export function shouldFixOnSave(enabled: boolean, languageId: string, scheme: string): boolean {
  return enabled && scheme === "file" && LANGUAGE_IDS.includes(languageId);
}

/** Whether a code action kind (e.g. from `executeCodeActionProvider`) is the fix-all kind. */
export function isFixAllKind(kind: string | undefined): boolean {
  return kind === FIX_ALL_KIND || (kind !== undefined && kind.startsWith(FIX_ALL_KIND + "."));
}

// ---------------------------------------------------------------------------------------------
// `krepis fix` and `krepis undo` output
// ---------------------------------------------------------------------------------------------

export interface FixSummary {
  /** Problems fixed and files written (0 and 0 for "Nothing to fix."). */
  fixed: number;
  files: number;
  /** The journal transaction `krepis undo` restores, when something was written. */
  transaction?: number;
  /** What is left: null when the closing line was not found. */
  remaining: { errors: number; warnings: number } | null;
}

/**
 * Reads the summary of `krepis fix`'s standard output:
 * `Fixed 5 problems in 4 files (transaction 1; …)` or `Nothing to fix.`, then `check`'s closing
 * line (`Found 2 errors and 0 warnings in …` or `No problems in …`). Null when neither summary
 * line is there (e.g. the command failed before fixing).
 */
export function parseFixSummary(stdout: string): FixSummary | null {
  const text = stdout.replace(/\x1b\[[0-9;]*m/g, "");
  let summary: FixSummary | null = null;
  const fixed = /^Fixed (\d+) problems? in (\d+) files?(?: \(transaction (\d+)\b)?/m.exec(text);
  if (fixed) {
    summary = { fixed: Number(fixed[1]), files: Number(fixed[2]), remaining: null };
    if (fixed[3] !== undefined) {
      summary.transaction = Number(fixed[3]);
    }
  } else if (/^Nothing to fix\./m.test(text)) {
    summary = { fixed: 0, files: 0, remaining: null };
  }
  if (summary === null) {
    return null;
  }
  const found = /^Found (\d+) errors? and (\d+) warnings? in /m.exec(text);
  if (found) {
    summary.remaining = { errors: Number(found[1]), warnings: Number(found[2]) };
  } else if (/^No problems in /m.test(text)) {
    summary.remaining = { errors: 0, warnings: 0 };
  }
  return summary;
}

/** The one-line notification for a parsed `krepis fix` summary. */
export function describeFix(summary: FixSummary): string {
  let head: string;
  if (summary.fixed === 0) {
    head = "Krepis: nothing to fix.";
  } else {
    const tx = summary.transaction !== undefined ? ` (transaction ${summary.transaction})` : "";
    head = `Krepis fixed ${plural(summary.fixed, "problem")} in ${plural(summary.files, "file")}${tx}.`;
  }
  const r = summary.remaining;
  if (r === null) {
    return head;
  }
  if (r.errors + r.warnings === 0) {
    return `${head} No problems remain.`;
  }
  return `${head} ${plural(r.errors, "error")} and ${plural(r.warnings, "warning")} remain (not automatically fixable).`;
}

/** The first line of `krepis undo`'s output (`Undid transaction 1 (…): restored 4 files.`). */
export function parseUndoSummary(stdout: string): { transaction?: number; files: number } | null {
  const m = /^Undid(?: transaction (\d+))?.*: restored (\d+) files?\.$/m.exec(
    stdout.replace(/\x1b\[[0-9;]*m/g, ""),
  );
  if (!m) {
    return null;
  }
  const result: { transaction?: number; files: number } = { files: Number(m[2]) };
  if (m[1] !== undefined) {
    result.transaction = Number(m[1]);
  }
  return result;
}

/** The last `error: …` line a failed command wrote to stderr (else its last non-empty line). */
export function errorLine(stderr: string): string {
  const lines = stderr
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const errors = lines.filter((l) => l.startsWith("error:"));
  const line = errors.length > 0 ? errors[errors.length - 1] : lines[lines.length - 1];
  return line === undefined ? "" : line.replace(/^error:\s*/, "");
}
