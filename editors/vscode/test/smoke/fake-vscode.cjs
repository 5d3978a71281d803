// A small stand-in for the `vscode` module: enough of the API for the bundled extension and
// vscode-languageclient to run under plain Node against a real `krepis lsp`. It records what the
// extension shows (messages, status bar text) so the smoke test can check it.
"use strict";

const path = require("node:path");
const { pathToFileURL, fileURLToPath } = require("node:url");

class Disposable {
  constructor(fn) {
    this._fn = fn;
  }
  static from(...items) {
    return new Disposable(() => items.forEach((d) => d && d.dispose && d.dispose()));
  }
  dispose() {
    if (this._fn) {
      this._fn();
      this._fn = undefined;
    }
  }
}

class EventEmitter {
  constructor() {
    this._listeners = new Set();
    this.event = (listener, thisArg, disposables) => {
      const bound = thisArg ? listener.bind(thisArg) : listener;
      this._listeners.add(bound);
      const d = new Disposable(() => this._listeners.delete(bound));
      if (Array.isArray(disposables)) {
        disposables.push(d);
      }
      return d;
    };
  }
  fire(value) {
    for (const l of [...this._listeners]) {
      l(value);
    }
  }
  dispose() {
    this._listeners.clear();
  }
}

class Uri {
  constructor(scheme, fsPath) {
    this.scheme = scheme;
    this.fsPath = fsPath;
    this.path = fsPath;
    this.authority = "";
    this.query = "";
    this.fragment = "";
  }
  static file(p) {
    return new Uri("file", path.resolve(p));
  }
  static parse(value) {
    if (value.startsWith("file:")) {
      return new Uri("file", fileURLToPath(value));
    }
    const scheme = value.split(":")[0];
    return new Uri(scheme, value.slice(scheme.length + 1));
  }
  with(change) {
    return new Uri(change.scheme ?? this.scheme, change.path ?? this.fsPath);
  }
  toString() {
    return this.scheme === "file" ? pathToFileURL(this.fsPath).href : `${this.scheme}:${this.path}`;
  }
  toJSON() {
    return { scheme: this.scheme, path: this.path, fsPath: this.fsPath };
  }
}

class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
  isBefore(other) {
    return this.line < other.line || (this.line === other.line && this.character < other.character);
  }
  isEqual(other) {
    return this.line === other.line && this.character === other.character;
  }
}

class Range {
  constructor(a, b, c, d) {
    if (typeof a === "number") {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
  get isEmpty() {
    return this.start.isEqual(this.end);
  }
}

class Selection extends Range {}

class TextEdit {
  constructor(range, newText) {
    this.range = range;
    this.newText = newText;
  }
  static replace(range, text) {
    return new TextEdit(range, text);
  }
  static insert(position, text) {
    return new TextEdit(new Range(position, position), text);
  }
  static delete(range) {
    return new TextEdit(range, "");
  }
}

class WorkspaceEdit {
  constructor() {
    this._edits = new Map();
  }
  _list(uri) {
    const key = uri.toString();
    if (!this._edits.has(key)) {
      this._edits.set(key, [uri, []]);
    }
    return this._edits.get(key)[1];
  }
  replace(uri, range, text) {
    this._list(uri).push(new TextEdit(range, text));
  }
  insert(uri, position, text) {
    this._list(uri).push(TextEdit.insert(position, text));
  }
  delete(uri, range) {
    this._list(uri).push(TextEdit.delete(range));
  }
  set(uri, edits) {
    const list = this._list(uri);
    list.length = 0;
    for (const e of edits ?? []) {
      list.push(Array.isArray(e) ? e[0] : e);
    }
  }
  get(uri) {
    const entry = this._edits.get(uri.toString());
    return entry ? [...entry[1]] : [];
  }
  has(uri) {
    return this._edits.has(uri.toString());
  }
  entries() {
    return [...this._edits.values()].map(([uri, edits]) => [uri, [...edits]]);
  }
  get size() {
    return this._edits.size;
  }
  createFile() {}
  deleteFile() {}
  renameFile() {}
}

class CodeActionKind {
  constructor(value) {
    this.value = value;
  }
  append(part) {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other) {
    return this.value === other.value || other.value.startsWith(this.value + ".");
  }
  intersects(other) {
    return this.contains(other) || other.contains(this);
  }
}
CodeActionKind.Empty = new CodeActionKind("");
for (const [name, value] of Object.entries({
  QuickFix: "quickfix",
  Refactor: "refactor",
  RefactorExtract: "refactor.extract",
  RefactorInline: "refactor.inline",
  RefactorMove: "refactor.move",
  RefactorRewrite: "refactor.rewrite",
  Source: "source",
  SourceOrganizeImports: "source.organizeImports",
  SourceFixAll: "source.fixAll",
  Notebook: "notebook",
})) {
  CodeActionKind[name] = new CodeActionKind(value);
}

class CodeAction {
  constructor(title, kind) {
    this.title = title;
    this.kind = kind;
  }
}

class Diagnostic {
  constructor(range, message, severity = 0) {
    this.range = range;
    this.message = message;
    this.severity = severity;
  }
}

class DiagnosticRelatedInformation {
  constructor(location, message) {
    this.location = location;
    this.message = message;
  }
}

class Location {
  constructor(uri, rangeOrPosition) {
    this.uri = uri;
    this.range = rangeOrPosition;
  }
}

class MarkdownString {
  constructor(value = "", supportThemeIcons = false) {
    this.value = value;
    this.supportThemeIcons = supportThemeIcons;
  }
  appendMarkdown(v) {
    this.value += v;
    return this;
  }
  appendText(v) {
    this.value += v;
    return this;
  }
  appendCodeblock(v) {
    this.value += v;
    return this;
  }
}

class Hover {
  constructor(contents, range) {
    this.contents = Array.isArray(contents) ? contents : [contents];
    this.range = range;
  }
}

class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}

class CancellationError extends Error {}

class CancellationTokenSource {
  constructor() {
    const emitter = new EventEmitter();
    this._emitter = emitter;
    this.token = { isCancellationRequested: false, onCancellationRequested: emitter.event };
  }
  cancel() {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this._emitter.fire();
    }
  }
  dispose() {
    this._emitter.dispose();
  }
}

class RelativePattern {
  constructor(base, pattern) {
    this.baseUri = typeof base === "string" ? Uri.file(base) : base.uri ?? base;
    this.base = this.baseUri.fsPath;
    this.pattern = pattern;
  }
}

// Classes the client subclasses for its protocol items; plain data holders are enough here.
class CallHierarchyItem {
  constructor(kind, name, detail, uri, range, selectionRange) {
    Object.assign(this, { kind, name, detail, uri, range, selectionRange });
  }
}
class TypeHierarchyItem extends CallHierarchyItem {}
class CodeLens {
  constructor(range, command) {
    Object.assign(this, { range, command });
  }
}
class CompletionItem {
  constructor(label, kind) {
    Object.assign(this, { label, kind });
  }
}
class DocumentLink {
  constructor(range, target) {
    Object.assign(this, { range, target });
  }
}
class InlayHint {
  constructor(position, label, kind) {
    Object.assign(this, { position, label, kind });
  }
}
class SymbolInformation {
  constructor(name, kind, containerName, location) {
    Object.assign(this, { name, kind, containerName, location });
  }
}

class TabInputText {}
class TabInputTextDiff {}
class TabInputCustom {}
class TabInputNotebook {}
class TabInputNotebookDiff {}

/** A text document over a string (offsets in UTF-16 code units, like VS Code). */
class FakeDocument {
  constructor(uri, languageId, text) {
    this.uri = uri;
    this.fileName = uri.fsPath;
    this.languageId = languageId;
    this.version = 1;
    this.isDirty = false;
    this.isClosed = false;
    this.isUntitled = false;
    this.eol = 1;
    this._text = text;
  }
  getText(range) {
    if (!range) {
      return this._text;
    }
    return this._text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }
  get lineCount() {
    return this._text.split("\n").length;
  }
  offsetAt(position) {
    const lines = this._text.split("\n");
    let offset = 0;
    for (let i = 0; i < position.line && i < lines.length; i++) {
      offset += lines[i].length + 1;
    }
    return offset + position.character;
  }
  positionAt(offset) {
    const before = this._text.slice(0, offset).split("\n");
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  lineAt(line) {
    const text = this._text.split("\n")[line] ?? "";
    return { text, range: new Range(line, 0, line, text.length), lineNumber: line };
  }
  /** Applies edits (non-overlapping) like the editor would, last first. */
  applyEdits(edits) {
    const sorted = [...edits].sort((a, b) => this.offsetAt(b.range.start) - this.offsetAt(a.range.start));
    let text = this._text;
    for (const e of sorted) {
      text = text.slice(0, this.offsetAt(e.range.start)) + e.newText + text.slice(this.offsetAt(e.range.end));
    }
    this._text = text;
    this.version += 1;
  }
  save() {
    return Promise.resolve(true);
  }
}

function createFakeVscode({ workspaceFolder, settings }) {
  const recorded = { messages: [], statusItems: [], output: [], commandsRun: [] };
  const answers = []; // queued answers for show*Message: [pattern, answer]
  const commands = new Map();
  const collections = new Set();
  const codeActionProviders = [];
  const onDidChangeDiagnostics = new EventEmitter();
  const onDidChangeConfiguration = new EventEmitter();
  const onWillSave = new EventEmitter();
  const onDidOpen = new EventEmitter();
  const onDidClose = new EventEmitter();
  const onDidChange = new EventEmitter();
  const onDidSave = new EventEmitter();
  const noEvent = new EventEmitter().event;
  const textDocuments = [];

  function message(level) {
    return (text, ...items) => {
      const buttons = items.filter((i) => typeof i === "string");
      recorded.messages.push({ level, text, buttons });
      const index = answers.findIndex(([pattern]) => pattern.test(text));
      if (index >= 0) {
        const [[, answer]] = answers.splice(index, 1);
        return Promise.resolve(answer);
      }
      return Promise.resolve(undefined);
    };
  }

  function match(selector, document) {
    const filters = Array.isArray(selector) ? selector : [selector];
    let score = 0;
    for (const f of filters) {
      if (typeof f === "string") {
        if (f === document.languageId || f === "*") score = Math.max(score, 10);
        continue;
      }
      if (f.language && f.language !== "*" && f.language !== document.languageId) continue;
      if (f.scheme && f.scheme !== "*" && f.scheme !== document.uri.scheme) continue;
      score = Math.max(score, 10);
    }
    return score;
  }

  function getConfiguration(section) {
    const read = (key) => {
      const full = section ? `${section}.${key}` : key;
      return settings[full];
    };
    return {
      get: (key, fallback) => {
        const value = read(key);
        return value === undefined ? fallback : value;
      },
      has: (key) => read(key) !== undefined,
      inspect: () => undefined,
      update: () => Promise.resolve(),
    };
  }

  const folder = { uri: Uri.file(workspaceFolder), name: path.basename(workspaceFolder), index: 0 };

  const vscode = {
    version: "1.85.0",
    Disposable,
    EventEmitter,
    Uri,
    Position,
    Range,
    Selection,
    TextEdit,
    WorkspaceEdit,
    CodeAction,
    CodeActionKind,
    Diagnostic,
    DiagnosticRelatedInformation,
    Location,
    MarkdownString,
    Hover,
    ThemeColor,
    CancellationError,
    CancellationTokenSource,
    RelativePattern,
    CallHierarchyItem,
    TypeHierarchyItem,
    CodeLens,
    CompletionItem,
    DocumentLink,
    InlayHint,
    SymbolInformation,
    TabInputText,
    TabInputTextDiff,
    TabInputCustom,
    TabInputNotebook,
    TabInputNotebookDiff,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
    CodeActionTriggerKind: { Invoke: 1, Automatic: 2 },
    TextDocumentSaveReason: { Manual: 1, AfterDelay: 2, FocusOut: 3 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ViewColumn: { Active: -1, Beside: -2, One: 1 },
    NotebookCellKind: { Markup: 1, Code: 2 },
    ExtensionMode: { Production: 1, Development: 2, Test: 3 },
    env: {
      appName: "Visual Studio Code",
      language: "en",
      machineId: "smoke",
      sessionId: "smoke",
      uiKind: 1,
      openExternal: () => Promise.resolve(true),
    },
    commands: {
      registerCommand(id, fn) {
        commands.set(id, fn);
        return new Disposable(() => commands.delete(id));
      },
      async executeCommand(id, ...args) {
        recorded.commandsRun.push([id, ...args]);
        if (commands.has(id)) {
          return commands.get(id)(...args);
        }
        if (id === "vscode.executeCodeActionProvider") {
          const [uri, range, kind] = args;
          const document = textDocuments.find((d) => d.uri.toString() === uri.toString());
          const results = [];
          for (const { selector, provider } of codeActionProviders) {
            if (!document || match(selector, document) === 0) continue;
            const context = {
              diagnostics: [],
              only: kind ? new CodeActionKind(kind) : undefined,
              triggerKind: 1,
            };
            const token = new CancellationTokenSource().token;
            const actions = await provider.provideCodeActions(document, range, context, token);
            results.push(...(actions ?? []));
          }
          return results;
        }
        return undefined;
      },
      getCommands: () => Promise.resolve([...commands.keys()]),
    },
    window: {
      createOutputChannel(name) {
        return {
          name,
          append: (v) => recorded.output.push(v),
          appendLine: (v) => recorded.output.push(v + "\n"),
          replace: () => {},
          clear: () => {},
          show: () => {},
          hide: () => {},
          dispose: () => {},
        };
      },
      createStatusBarItem(id, alignment, priority) {
        const item = { id, alignment, priority, text: "", tooltip: "", show() {}, hide() {}, dispose() {} };
        recorded.statusItems.push(item);
        return item;
      },
      showInformationMessage: message("info"),
      showWarningMessage: message("warning"),
      showErrorMessage: message("error"),
      showWorkspaceFolderPick: () => Promise.resolve(folder),
      showTextDocument: () => Promise.resolve(undefined),
      withProgress: (_options, task) => task({ report() {} }, new CancellationTokenSource().token),
      activeTextEditor: undefined,
      visibleTextEditors: [],
      onDidChangeActiveTextEditor: noEvent,
      onDidChangeVisibleTextEditors: noEvent,
      tabGroups: { all: [], onDidChangeTabs: noEvent, onDidChangeTabGroups: noEvent },
    },
    workspace: {
      workspaceFolders: [folder],
      getWorkspaceFolder: (uri) => (uri.fsPath.startsWith(folder.uri.fsPath) ? folder : undefined),
      getConfiguration,
      textDocuments,
      notebookDocuments: [],
      onDidOpenTextDocument: onDidOpen.event,
      onDidCloseTextDocument: onDidClose.event,
      onDidChangeTextDocument: onDidChange.event,
      onDidSaveTextDocument: onDidSave.event,
      onWillSaveTextDocument: onWillSave.event,
      onDidChangeConfiguration: onDidChangeConfiguration.event,
      onDidChangeWorkspaceFolders: noEvent,
      onDidOpenNotebookDocument: noEvent,
      onDidCloseNotebookDocument: noEvent,
      onDidChangeNotebookDocument: noEvent,
      onDidSaveNotebookDocument: noEvent,
      onDidCreateFiles: noEvent,
      onDidDeleteFiles: noEvent,
      onDidRenameFiles: noEvent,
      onWillCreateFiles: noEvent,
      onWillDeleteFiles: noEvent,
      onWillRenameFiles: noEvent,
      createFileSystemWatcher: () => ({
        onDidCreate: noEvent,
        onDidChange: noEvent,
        onDidDelete: noEvent,
        dispose() {},
      }),
      applyEdit: () => Promise.resolve(true),
      saveAll: () => Promise.resolve(true),
    },
    languages: {
      match,
      createDiagnosticCollection(name) {
        const entries = new Map();
        const changed = (uris) => onDidChangeDiagnostics.fire({ uris });
        const collection = {
          name,
          set(uriOrEntries, diagnostics) {
            if (Array.isArray(uriOrEntries)) {
              for (const [uri, d] of uriOrEntries) {
                entries.set(uri.toString(), [uri, d ?? []]);
              }
              changed(uriOrEntries.map(([uri]) => uri));
            } else {
              entries.set(uriOrEntries.toString(), [uriOrEntries, diagnostics ?? []]);
              changed([uriOrEntries]);
            }
          },
          delete(uri) {
            entries.delete(uri.toString());
            changed([uri]);
          },
          clear() {
            entries.clear();
            changed([]);
          },
          get: (uri) => entries.get(uri.toString())?.[1],
          has: (uri) => entries.has(uri.toString()),
          forEach: (cb) => entries.forEach(([uri, d]) => cb(uri, d, collection)),
          dispose() {
            entries.clear();
            collections.delete(collection);
            changed([]);
          },
          _entries: entries,
        };
        collections.add(collection);
        return collection;
      },
      getDiagnostics(uri) {
        if (uri) {
          return [...collections].flatMap((c) => c.get(uri) ?? []);
        }
        const all = [];
        for (const c of collections) {
          for (const [u, d] of c._entries.values()) {
            all.push([u, d]);
          }
        }
        return all;
      },
      onDidChangeDiagnostics: onDidChangeDiagnostics.event,
      registerCodeActionsProvider(selector, provider) {
        const entry = { selector, provider };
        codeActionProviders.push(entry);
        return new Disposable(() => codeActionProviders.splice(codeActionProviders.indexOf(entry), 1));
      },
    },
  };

  // Any other `languages.register…Provider` returns a disposable and does nothing.
  vscode.languages = new Proxy(vscode.languages, {
    get(target, name) {
      if (name in target) return target[name];
      if (typeof name === "string" && name.startsWith("register")) return () => new Disposable(() => {});
      return undefined;
    },
  });

  const control = {
    recorded,
    folder,
    /** Queues the answer the next show*Message whose text matches `pattern` returns. */
    answer(pattern, value) {
      answers.push([pattern, value]);
    },
    setSetting(key, value) {
      settings[key] = value;
      onDidChangeConfiguration.fire({ affectsConfiguration: (s) => key === s || key.startsWith(s + ".") });
    },
    openDocument(file, languageId, text) {
      const document = new FakeDocument(Uri.file(file), languageId, text);
      textDocuments.push(document);
      onDidOpen.fire(document);
      return document;
    },
    /** Fires onWillSaveTextDocument and returns the edits the participants contributed. */
    async willSave(document) {
      const pending = [];
      onWillSave.fire({
        document,
        reason: 1,
        waitUntil: (thenable) => pending.push(Promise.resolve(thenable)),
      });
      const results = await Promise.all(pending);
      return results.flat().filter(Boolean);
    },
    runCommand: (id, ...args) => vscode.commands.executeCommand(id, ...args),
  };
  return { vscode, control };
}

module.exports = { createFakeVscode };
