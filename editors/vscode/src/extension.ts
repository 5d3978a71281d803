import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
} from "vscode-languageclient/node";
import {
  FIX_ALL_KIND,
  LANGUAGE_IDS,
  countProblems,
  describeFix,
  errorLine,
  isFixAllKind,
  parseFixSummary,
  parseUndoSummary,
  resolveBinary,
  SOURCE_LABELS,
  shouldFixOnSave,
  statusView,
  type Resolved,
  type ServerState,
} from "./logic";

const CLIENT_ID = "krepis";
const CLIENT_NAME = "Krepis";
/** How long fix-on-save may take before the save goes ahead without it (VS Code also caps it). */
const FIX_ON_SAVE_TIMEOUT_MS = 1500;

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let serverState: ServerState = "stopped";
let stoppedDetail: string | undefined;
/** Serialises start/stop so a restart never races another one. */
let lifecycle: Promise<void> = Promise.resolve();
/** The extension's folder: a platform-specific build carries the server binary in its `bin/`. */
let extensionDir: string | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionDir = context.extensionPath;
  output = vscode.window.createOutputChannel(CLIENT_NAME);
  statusItem = vscode.window.createStatusBarItem("krepis.status", vscode.StatusBarAlignment.Right, 100);
  statusItem.name = CLIENT_NAME;
  statusItem.command = "krepis.showOutput";
  statusItem.show();
  context.subscriptions.push(output, statusItem);

  context.subscriptions.push(
    vscode.commands.registerCommand("krepis.showOutput", () => output.show(true)),
    vscode.commands.registerCommand("krepis.restartServer", () => restart()),
    vscode.commands.registerCommand("krepis.fixAllInWorkspace", () => fixAllInWorkspace()),
    vscode.commands.registerCommand("krepis.undoLastFix", () => undoLastFix()),
    vscode.languages.onDidChangeDiagnostics(() => updateStatus()),
    vscode.workspace.onWillSaveTextDocument((event) => fixOnSave(event)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("krepis.path") || event.affectsConfiguration("krepis.baseline")) {
        output.appendLine("Krepis settings changed: restarting the language server.");
        void restart();
      }
    }),
    { dispose: () => void stop() },
  );

  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

// ---------------------------------------------------------------------------------------------
// The language client
// ---------------------------------------------------------------------------------------------

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== "win32") {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function findBinary(): Resolved {
  const setting = vscode.workspace.getConfiguration("krepis").get<string>("path", "");
  return resolveBinary({
    setting,
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    isExecutable,
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    trusted: vscode.workspace.isTrusted,
    extensionDir,
    homeDir: os.homedir(),
  });
}

/** Reports a missing or wrong binary without throwing, with a way to the setting. */
function reportMissingBinary(message: string): void {
  output.appendLine(message);
  void vscode.window.showErrorMessage(message, "Open Settings").then((choice) => {
    if (choice === "Open Settings") {
      void vscode.commands.executeCommand("workbench.action.openSettings", "krepis.path");
    }
  });
}

function setState(state: ServerState, detail?: string): void {
  serverState = state;
  stoppedDetail = state === "stopped" ? detail : undefined;
  updateStatus();
}

function updateStatus(): void {
  if (!statusItem) {
    return;
  }
  const view = statusView(serverState, countProblems(vscode.languages.getDiagnostics()), stoppedDetail);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.backgroundColor = view.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
}

function start(): Promise<void> {
  lifecycle = lifecycle.then(startNow, startNow);
  return lifecycle;
}

function stop(): Promise<void> {
  lifecycle = lifecycle.then(stopNow, stopNow);
  return lifecycle;
}

function restart(): Promise<void> {
  output.appendLine("Restarting the Krepis language server.");
  return stop().then(() => start());
}

async function startNow(): Promise<void> {
  if (client) {
    return;
  }
  setState("starting");
  const binary = findBinary();
  if (!binary.ok) {
    setState("stopped", "The krepis binary was not found.");
    reportMissingBinary(binary.message);
    return;
  }
  output.appendLine(`Starting ${binary.path} lsp (found via ${SOURCE_LABELS[binary.from]}).`);

  const serverOptions: ServerOptions = {
    command: binary.path,
    args: ["lsp"],
    options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGE_IDS.map((language) => ({ scheme: "file", language })),
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher(
        "**/{krepis.json,deno.json,deno.jsonc,tsconfig.json,krepis-baseline.json}",
      ),
    },
    // How findings that krepis-baseline.json accepts are shown: faint hints, or not at all.
    initializationOptions: {
      baseline: vscode.workspace.getConfiguration("krepis").get<string>("baseline", "hint"),
    },
    outputChannel: output,
  };
  const created = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  client = created;
  created.onDidChangeState((event) => {
    if (client !== created) {
      return;
    }
    if (event.newState === State.Running) {
      setState("running");
    } else if (event.newState === State.Starting) {
      setState("starting");
    } else {
      setState("stopped", "The language server stopped; run “Krepis: Restart Server”.");
    }
  });
  try {
    await created.start();
    setState("running");
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.appendLine(`The Krepis language server failed to start: ${message}`);
    if (client === created) {
      client = undefined;
    }
    try {
      await created.dispose();
    } catch {
      // It never ran; nothing to clean up.
    }
    setState("stopped", `Start failed: ${message}`);
    void vscode.window
      .showErrorMessage(`Krepis: the language server failed to start (${message}).`, "Show Output", "Open Settings")
      .then((choice) => {
        if (choice === "Show Output") {
          output.show(true);
        } else if (choice === "Open Settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "krepis.path");
        }
      });
  }
}

async function stopNow(): Promise<void> {
  const running = client;
  client = undefined;
  if (!running) {
    return;
  }
  try {
    if (running.isRunning()) {
      await running.stop(2000);
    }
  } catch (error) {
    output.appendLine(`Stopping the language server: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    await running.dispose(2000);
  } catch {
    // Already stopped.
  }
  setState("stopped", "The language server was stopped.");
}

// ---------------------------------------------------------------------------------------------
// Fix on save
// ---------------------------------------------------------------------------------------------

function fixOnSave(event: vscode.TextDocumentWillSaveEvent): void {
  const enabled = vscode.workspace.getConfiguration("krepis", event.document.uri).get<boolean>("fixOnSave", false);
  if (!shouldFixOnSave(enabled, event.document.languageId, event.document.uri.scheme)) {
    return;
  }
  if (!client || serverState !== "running") {
    return;
  }
  event.waitUntil(fixAllEdits(event.document));
}

/** The edits of the server's `source.fixAll.krepis` action for a document (none on timeout). */
async function fixAllEdits(document: vscode.TextDocument): Promise<vscode.TextEdit[]> {
  const version = document.version;
  const range = new vscode.Range(0, 0, 0, 0);
  const request = vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
    "vscode.executeCodeActionProvider",
    document.uri,
    range,
    FIX_ALL_KIND,
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), FIX_ON_SAVE_TIMEOUT_MS);
  });
  try {
    const actions = await Promise.race([request, timeout]);
    if (!actions) {
      output.appendLine(`Fix on save: no answer in time for ${document.uri.fsPath}; saved without fixing.`);
      return [];
    }
    if (document.version !== version) {
      return [];
    }
    for (const action of actions) {
      // Commands have neither `kind` nor `edit`; the server's fix-all action has both.
      const candidate = action as vscode.CodeAction;
      if (isFixAllKind(candidate.kind?.value) && candidate.edit) {
        return candidate.edit.get(document.uri);
      }
    }
    return [];
  } catch (error) {
    output.appendLine(`Fix on save failed: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Running `krepis fix` and `krepis undo`
// ---------------------------------------------------------------------------------------------

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(binary: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" }, windowsHide: true },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          // Not an exit code: the binary could not be run at all.
          reject(error);
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage("Krepis: open a folder first.");
    return undefined;
  }
  if (folders.length === 1) {
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: "Folder to run Krepis in" });
}

/** `krepis fix` writes files on disk: unsaved editors in the folder are saved first (asked). */
async function saveDirty(folder: vscode.WorkspaceFolder): Promise<boolean> {
  const dirty = vscode.workspace.textDocuments.filter(
    (d) => d.isDirty && vscode.workspace.getWorkspaceFolder(d.uri)?.uri.toString() === folder.uri.toString(),
  );
  if (dirty.length === 0) {
    return true;
  }
  const choice = await vscode.window.showWarningMessage(
    `Krepis changes files on disk; ${dirty.length} file(s) in ${folder.name} have unsaved changes.`,
    { modal: true },
    "Save All and Continue",
  );
  if (choice !== "Save All and Continue") {
    return false;
  }
  for (const document of dirty) {
    await document.save();
  }
  return true;
}

async function runInFolder(title: string, args: string[]): Promise<{ folder: vscode.WorkspaceFolder; result: RunResult } | undefined> {
  const folder = await pickFolder();
  if (!folder) {
    return undefined;
  }
  const binary = findBinary();
  if (!binary.ok) {
    reportMissingBinary(binary.message);
    return undefined;
  }
  if (!(await saveDirty(folder))) {
    return undefined;
  }
  const cwd = folder.uri.fsPath;
  output.appendLine(`\n$ ${binary.path} ${args.join(" ")}   (in ${cwd})`);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title },
      () => run(binary.path, args, cwd),
    );
    output.append(result.stdout);
    if (result.stderr.trim() !== "") {
      output.append(result.stderr);
    }
    output.appendLine(`(exit code ${result.code})`);
    return { folder, result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.appendLine(`Could not run ${binary.path}: ${message}`);
    void vscode.window.showErrorMessage(`Krepis: could not run ${binary.path}: ${message}`);
    return undefined;
  }
}

async function fixAllInWorkspace(): Promise<void> {
  const ran = await runInFolder("Krepis: fixing all problems…", ["fix"]);
  if (!ran) {
    return;
  }
  const { result } = ran;
  const summary = parseFixSummary(result.stdout);
  // Exit code 1 only means errors remain that no fix removes.
  if (result.code > 1 || summary === null) {
    const why = errorLine(result.stderr) || `exit code ${result.code}`;
    const choice = await vscode.window.showErrorMessage(`Krepis fix failed: ${why}`, "Show Output");
    if (choice === "Show Output") {
      output.show(true);
    }
    return;
  }
  const message = describeFix(summary);
  const buttons = summary.fixed > 0 ? ["Show Output", "Undo"] : ["Show Output"];
  const choice = await vscode.window.showInformationMessage(message, ...buttons);
  if (choice === "Show Output") {
    output.show(true);
  } else if (choice === "Undo") {
    await undoLastFix();
  }
}

async function undoLastFix(force = false): Promise<void> {
  const args = force ? ["undo", "--force"] : ["undo"];
  const ran = await runInFolder("Krepis: undoing the last fix…", args);
  if (!ran) {
    return;
  }
  const { result } = ran;
  if (result.code === 0) {
    const summary = parseUndoSummary(result.stdout);
    const what = summary?.transaction !== undefined ? ` transaction ${summary.transaction}` : " the last change";
    const files = summary ? ` and restored ${summary.files} file(s)` : "";
    void vscode.window.showInformationMessage(`Krepis undid${what}${files}. Undo again to redo it.`);
    return;
  }
  const why = errorLine(result.stderr) || `exit code ${result.code}`;
  if (result.code === 1 && !force) {
    // The files changed since the fix: undo would overwrite those changes.
    const choice = await vscode.window.showWarningMessage(
      `Krepis undo refused: ${why}`,
      { modal: true, detail: "Undo anyway overwrites the changes made since." },
      "Undo Anyway",
    );
    if (choice === "Undo Anyway") {
      await undoLastFix(true);
    }
    return;
  }
  const choice = await vscode.window.showErrorMessage(`Krepis undo failed: ${why}`, "Show Output");
  if (choice === "Show Output") {
    output.show(true);
  }
}
