// Drives a real VS Code (code-server, started by ./ci.sh) through Chromium and checks, step by
// step, what a user of the Krepis extension sees. Every step leaves a screenshot in the artefacts
// folder; a failed step prints the text of the part of the page it looked at.
//
// Expected findings come from `krepis check --format json` on the same project copy, so the editor
// is held to what the command line reports.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`vscode-e2e: ${name} is not set (run ci.sh, not this file)`);
    process.exit(2);
  }
  return value;
};
const URL_BASE = env("E2E_URL");
const PROJECT = env("E2E_PROJECT");
const USER_DATA = env("E2E_USER_DATA");
const BINARY = env("E2E_BINARY");
const CHROMIUM = env("E2E_CHROMIUM");
const ARTIFACTS = env("E2E_ARTIFACTS");
const WORK = env("E2E_WORK");
/**
 * The platform .vsix with the server inside, and no `krepis.path` and no `krepis` on PATH: what a
 * user who only installs the extension gets. Only the first step runs, then the output must say
 * the bundled binary is the one serving.
 */
const BUNDLED = process.env.E2E_BUNDLED === "1";

/** How long one wait on the page may take: generous, since CI machines are slow and shared. */
const WAIT_MS = 30_000;
/** How long a whole step may take before it counts as failed. */
const STEP_MS = 120_000;

const SETTINGS_FILE = path.join(USER_DATA, "User", "settings.json");
/**
 * The settings of the machine code-server runs on ("Remote" in the Settings editor).
 * `krepis.path` is machine-overridable: in a remote window, and code-server's is one, VS Code
 * takes it from here; from the user settings it is dropped once they are reloaded.
 */
const MACHINE_SETTINGS_FILE = path.join(USER_DATA, "Machine", "settings.json");
/** Settings that keep the window quiet and typing literal; the Krepis ones are what is tested. */
const BASE_SETTINGS = {
  "krepis.fixOnSave": false,
  // The protocol in the Krepis output, copied to the artefacts: what to read when a step fails.
  "krepis.trace.server": "messages",
  "workbench.startupEditor": "none",
  "workbench.editor.enablePreview": false,
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "chat.disableAIFeatures": true,
  "explorer.compactFolders": false,
  "editor.minimap.enabled": false,
  "editor.autoClosingBrackets": "never",
  "editor.autoClosingQuotes": "never",
  "editor.autoSurround": "never",
  "editor.autoIndent": "none",
  "editor.formatOnType": false,
  "editor.quickSuggestions": { other: false, comments: false, strings: false },
  "editor.suggestOnTriggerCharacters": false,
  "editor.parameterHints.enabled": false,
  "editor.wordBasedSuggestions": "off",
  // The built-in TypeScript checker would add its own squiggles (the fixture's imports do not
  // resolve); only Krepis's are under test.
  "typescript.validate.enable": false,
  "javascript.validate.enable": false,
  "files.autoSave": "off",
  "files.refactoring.autoSave": true,
  "git.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "security.workspace.trust.enabled": false,
};

function writeSettings() {
  fs.mkdirSync(path.dirname(SETTINGS_FILE), { recursive: true });
  fs.writeFileSync(SETTINGS_FILE, JSON.stringify(BASE_SETTINGS, null, 2) + "\n");
  fs.mkdirSync(path.dirname(MACHINE_SETTINGS_FILE), { recursive: true });
  const machine = BUNDLED ? {} : { "krepis.path": BINARY };
  fs.writeFileSync(MACHINE_SETTINGS_FILE, JSON.stringify(machine, null, 2) + "\n");
}

function readSettings() {
  return JSON.parse(fs.readFileSync(SETTINGS_FILE, "utf8"));
}

const projectFile = (rel) => path.join(PROJECT, ...rel.split("/"));
const readProject = (rel) => fs.readFileSync(projectFile(rel), "utf8");

/** `krepis check --format json` on the project, as the command line sees it now. */
function cliCheck() {
  let stdout;
  try {
    stdout = execFileSync(BINARY, ["check", ".", "--format", "json", "--no-cache"], {
      cwd: PROJECT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
  } catch (error) {
    if (error.status !== 1) {
      throw new Error(`krepis check failed (exit ${error.status}): ${error.stderr}`);
    }
    stdout = error.stdout;
  }
  return JSON.parse(stdout);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// ---------------------------------------------------------------------------------------------
// Waiting on the page, and saying what it showed when the wait fails
// ---------------------------------------------------------------------------------------------

class StepFailure extends Error {}

let page;

/** innerText of the first element matching `selector` (or of the whole workbench). */
async function textOf(selector) {
  try {
    return await page.evaluate((sel) => {
      const element = document.querySelector(sel);
      return element ? element.innerText : `(nothing matches ${sel})`;
    }, selector);
  } catch (error) {
    return `(could not read ${selector}: ${error.message})`;
  }
}

/**
 * Polls `probe` until it returns something truthy (returned), or fails with what the page showed in
 * `part` (a CSS selector) and, when given, what `detail` returns.
 */
async function waitUntil(what, probe, { part = ".monaco-workbench", timeout = WAIT_MS, detail } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last) {
        return last;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      break;
    }
    await sleep(100);
  }
  let message = `${what}: not seen within ${timeout / 1000} s`;
  if (lastError) {
    message += ` (last error: ${lastError.message.split("\n")[0]})`;
  }
  if (detail) {
    message += `\n  what it found: ${JSON.stringify(await detail().catch((e) => e.message))}`;
  }
  const seen = await textOf(part);
  message += `\n  --- text of ${part} ---\n${indent(seen)}`;
  throw new StepFailure(message);
}

function indent(text) {
  return String(text)
    .split("\n")
    .map((line) => `  | ${line}`)
    .join("\n");
}

function check(condition, message) {
  if (!condition) {
    throw new StepFailure(message);
  }
}

/** Clicks, then waits for `until`; clicks again (up to `tries` times) when the UI missed it. */
async function clickUntil(what, click, until, { tries = 4, each = 5_000, part } = {}) {
  for (let attempt = 1; ; attempt++) {
    let clickError = "";
    try {
      await click();
    } catch (error) {
      if (attempt >= tries) {
        throw new StepFailure(`${what}: the click failed: ${error.message.split("\n")[0]}`);
      }
      clickError = ` (the click failed: ${error.message.split("\n")[0]})`;
    }
    const last = attempt >= tries;
    try {
      return await waitUntil(what, until, { part, timeout: last ? WAIT_MS : each });
    } catch (error) {
      if (last) {
        throw error;
      }
      console.log(`vscode-e2e:      (not yet: ${what}${clickError}; trying again)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the workbench
// ---------------------------------------------------------------------------------------------

/**
 * Installed into the page: reads an editor's lines, squiggles and text positions from the DOM.
 * `group` is an index into the editor groups (left to right) or "active".
 */
function pageHelpers() {
  const norm = (s) => s.replace(/\u00a0/g, " ");
  const editorOf = (group) => {
    const groups = [...document.querySelectorAll(".editor-group-container")];
    const container = group === "active" ? document.querySelector(".editor-group-container.active") : groups[group];
    return container?.querySelector(".editor-container .monaco-editor") ?? null;
  };
  const lineNumberAt = (editor, y) => {
    for (const n of editor.querySelectorAll(".margin-view-overlays .line-numbers")) {
      const r = n.getBoundingClientRect();
      if (r.top <= y && y < r.bottom) {
        return Number(n.textContent.trim());
      }
    }
    return null;
  };
  const lines = (editor) =>
    [...editor.querySelectorAll(".view-lines .view-line")]
      .map((l) => {
        const r = l.getBoundingClientRect();
        return { element: l, top: r.top, number: lineNumberAt(editor, r.top + r.height / 2), text: norm(l.textContent) };
      })
      .sort((a, b) => a.top - b.top);
  /** Calls `each(textNode, index, rect)` for every character of a rendered line. */
  const eachChar = (line, each) => {
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let offset = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        if (each(node.data[i], offset + i, range.getBoundingClientRect()) === false) {
          return;
        }
      }
      offset += node.data.length;
    }
  };
  window.__krepisE2E = {
    hasEditor: (group) => editorOf(group) !== null,
    /**
     * The editor's text as rendered (every line of the small fixture files is on screen), lines
     * joined by "\n": a file ending in a newline shows an empty last line, so this equals the file.
     */
    text: (group) => {
      const editor = editorOf(group);
      return editor ? lines(editor).map((l) => l.text).join("\n") : null;
    },
    /** Each squiggle of `kind` ("error", "warning"): its line and the characters it underlines. */
    squiggles: (group, kind) => {
      const editor = editorOf(group);
      if (!editor) {
        return null;
      }
      const rendered = lines(editor);
      return [...editor.querySelectorAll(`.view-overlays .squiggly-${kind}`)]
        .map((squiggle) => {
          const r = squiggle.getBoundingClientRect();
          const mid = r.top + r.height / 2;
          const line = rendered.find((l) => {
            const lr = l.element.getBoundingClientRect();
            return lr.top <= mid && mid < lr.bottom;
          });
          if (!line) {
            return { line: null, text: "" };
          }
          let text = "";
          eachChar(line.element, (ch, _i, cr) => {
            const cx = cr.left + cr.width / 2;
            if (cx >= r.left && cx <= r.right) {
              text += norm(ch);
            }
          });
          return { line: line.number, text, x: r.left + Math.min(4, r.width / 2), y: mid };
        })
        .sort((a, b) => a.line - b.line || a.x - b.x);
    },
    /** Where on screen the `nth` character of `needle` on line `number` is (null: not shown). */
    point: (group, number, needle, nth) => {
      const editor = editorOf(group);
      const line = editor && lines(editor).find((l) => l.number === number);
      if (!line) {
        return null;
      }
      const at = line.text.indexOf(needle);
      if (at < 0) {
        return null;
      }
      let found = null;
      eachChar(line.element, (_ch, i, cr) => {
        if (i === at + nth) {
          found = { x: cr.left + cr.width / 2, y: cr.top + cr.height / 2 };
          return false;
        }
        return true;
      });
      return found;
    },
  };
}

async function helper(name, ...args) {
  return page.evaluate(
    ([fn, name, args]) => {
      if (!window.__krepisE2E) {
        // eslint-disable-next-line no-new-func
        new Function(`(${fn})()`)();
      }
      return window.__krepisE2E[name](...args);
    },
    [pageHelpers.toString(), name, args],
  );
}

const editorText = (group = "active") => helper("text", group);
const squiggles = (group, kind) => helper("squiggles", group, kind);

/** The part of an editor group, for failure reports. */
const groupPart = (group) =>
  group === "active" ? ".editor-group-container.active" : `.editor-group-container:nth-of-type(${group + 1})`;

async function activeTab() {
  return page.evaluate(() => {
    const tab = document.querySelector(".editor-group-container.active .tab.active");
    return tab ? { label: tab.getAttribute("aria-label") ?? "", dirty: tab.classList.contains("dirty") } : null;
  });
}

/**
 * The Explorer row of `parts` (a path split at "/"), as a locator by its list index: the first
 * row named parts[0] at the top level, then parts[1] among that folder's children, and so on.
 * Null while a folder on the way is collapsed or the row is not rendered.
 */
async function explorerRow(parts) {
  const index = await page.evaluate((parts) => {
    const rows = [...document.querySelectorAll(".explorer-folders-view .monaco-list-row")]
      .map((r) => ({ index: Number(r.dataset.index), level: Number(r.getAttribute("aria-level")), name: r.getAttribute("aria-label") }))
      .sort((a, b) => a.index - b.index);
    let from = 0;
    let found = null;
    for (let depth = 0; depth < parts.length; depth++) {
      found = null;
      for (let i = from; i < rows.length; i++) {
        if (rows[i].level < depth + 1 || (depth > 0 && i > from && rows[i].level === depth)) {
          break;
        }
        if (rows[i].level === depth + 1 && rows[i].name === parts[depth]) {
          found = rows[i];
          from = i + 1;
          break;
        }
      }
      if (!found) {
        return null;
      }
    }
    return found.index;
  }, parts);
  return index === null ? null : page.locator(`.explorer-folders-view .monaco-list-row[data-index="${index}"]`);
}

/** Opens a project file by clicking through the Explorer, as a user does. */
async function openFile(rel) {
  const parts = rel.split("/");
  const explorer = ".explorer-folders-view";
  // A folder's rows appear a moment after it expands (they are read from the server).
  const rowShown = (row) => waitUntil(`the Explorer row ${row.join("/")}`, () => explorerRow(row), { part: explorer });
  for (let i = 0; i < parts.length - 1; i++) {
    const folder = parts.slice(0, i + 1);
    await rowShown(folder);
    await clickUntil(
      `the Explorer folder ${folder.join("/")} expanded`,
      async () => {
        const row = await explorerRow(folder);
        if (row && (await row.getAttribute("aria-expanded", { timeout: 5_000 })) !== "true") {
          await row.click({ timeout: 5_000 });
        }
      },
      async () => {
        const row = await explorerRow(folder);
        return row !== null && (await row.getAttribute("aria-expanded", { timeout: 1_000 })) === "true";
      },
      { part: explorer, each: 1_000 },
    );
  }
  const name = parts[parts.length - 1];
  await rowShown(parts);
  await clickUntil(
    `${rel} open in the editor`,
    async () => {
      const row = await explorerRow(parts);
      if (!row) {
        throw new Error(`no Explorer row for ${rel}`);
      }
      await row.click({ timeout: 5_000 });
    },
    async () => {
      const tab = await activeTab();
      return tab?.label.startsWith(name) && (await editorText("active"))?.trim().length > 0;
    },
    { part: explorer, each: 3_000 },
  );
  // The rendered text is the file's.
  const expected = readProject(rel).split("\n")[0];
  await waitUntil(`${rel}'s first line in the editor`, async () => (await editorText("active"))?.startsWith(expected), {
    part: ".editor-group-container.active",
  });
}

/** Clicks into the active editor on the `nth` character of `needle` on line `number`. */
async function clickInEditor(number, needle, nth = 0) {
  const where = await waitUntil(
    `\`${needle}\` on line ${number} of the editor`,
    () => helper("point", "active", number, needle, nth),
    { part: ".editor-group-container.active" },
  );
  await page.mouse.click(where.x, where.y);
  return where;
}

/** Clicks right of the active editor's last line, which puts the cursor at the end of the file. */
async function clickAfterLastLine() {
  const where = await waitUntil(
    "the last line of the editor",
    () =>
      page.evaluate(() => {
        const editor = document.querySelector(".editor-group-container.active .editor-container .monaco-editor");
        const lines = [...(editor?.querySelectorAll(".view-lines .view-line") ?? [])];
        const last = lines.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).pop();
        if (!last) {
          return null;
        }
        const r = last.getBoundingClientRect();
        // Just right of the line's text, inside the text area (not on the scroll bar).
        const range = document.createRange();
        range.selectNodeContents(last);
        const text = range.getBoundingClientRect();
        const area = editor.querySelector(".editor-scrollable").getBoundingClientRect();
        const end = text.width > 0 ? text.right : r.left;
        return { x: Math.min(end + 30, area.right - 30), y: r.top + r.height / 2 };
      }),
    { part: ".editor-group-container.active" },
  );
  await page.mouse.click(where.x, where.y);
  await waitUntil("the cursor in the editor", () => page.evaluate(() => document.activeElement?.closest(".monaco-editor") != null), {
    part: ".editor-group-container.active",
    detail: () => page.evaluate(() => { const chain = []; for (let e = document.activeElement; e && chain.length < 6; e = e.parentElement) chain.push(`${e.tagName}.${e.className}`); return chain; }),
  });
}

/** Runs a command from the command palette (F1), by its exact title. */
async function runCommand(title) {
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await clickUntil(
    "the command palette",
    async () => {
      await page.keyboard.press("Escape");
      await page.keyboard.press("F1");
    },
    () => input.isVisible(),
    { part: ".monaco-workbench" },
  );
  await input.fill(`>${title}`);
  // A recently used command reads "Title, recently used".
  const row = page
    .locator(`.quick-input-widget .monaco-list-row[aria-label="${title}"], .quick-input-widget .monaco-list-row[aria-label^="${title}, "]`)
    .first();
  await waitUntil(`"${title}" in the command palette`, () => row.isVisible(), { part: ".quick-input-widget" });
  await clickUntil(
    `"${title}" run`,
    () => row.click({ timeout: 5_000 }),
    async () => !(await input.isVisible()),
    { part: ".quick-input-widget" },
  );
}

/** The notification toasts on screen, each as { message, buttons, source }. */
async function toasts() {
  return page.evaluate(() =>
    [...document.querySelectorAll(".notifications-toasts .notification-toast .notification-list-item")].map((item) => ({
      // Faded in completely (a screenshot taken before shows it half transparent).
      shown: item.closest(".notification-toast").classList.contains("notification-fade-in-done"),
      message: item.querySelector(".notification-list-item-message")?.innerText ?? "",
      source: item.querySelector(".notification-list-item-source")?.innerText ?? "",
      buttons: [...item.querySelectorAll(".notification-list-item-buttons-container .monaco-button")].map((b) => b.innerText),
    })),
  );
}

async function waitForToast(what, matches) {
  return waitUntil(what, async () => (await toasts()).find((t) => t.shown && matches(t.message)), {
    part: ".notifications-toasts",
  });
}

/** Dismisses every notification, so the next step's toast is the only one on screen. */
async function clearToasts() {
  if ((await toasts()).length === 0) {
    return;
  }
  await runCommand("Notifications: Clear All Notifications");
  await waitUntil("no notification on screen", async () => (await toasts()).length === 0, {
    part: ".notifications-toasts",
  });
}

/** The status bar's problem counts (errors, warnings) and the Krepis item's text and tooltip. */
async function statusBar() {
  return page.evaluate(() => {
    const problems = document.getElementById("status.problems");
    const krepis = [...document.querySelectorAll(".statusbar-item")].find((i) => i.id.endsWith("krepis.status"));
    const numbers = (problems?.innerText ?? "").match(/\d+/g)?.map(Number) ?? [];
    return {
      errors: numbers[0] ?? null,
      warnings: numbers[1] ?? null,
      krepis: krepis ? krepis.innerText.trim() : null,
      krepisLabel: krepis ? krepis.getAttribute("aria-label") ?? "" : null,
    };
  });
}

/** Types `query` into the Settings editor's search box and waits for the list to follow it. */
async function searchSettings(query) {
  const search = page.locator(".settings-editor .settings-header .suggest-input-container .monaco-editor");
  await waitUntil("the Settings editor's search box", () => search.isVisible(), { part: ".settings-editor" });
  await search.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(query);
  await waitUntil(`the Settings search reading ${query}`, async () => (await search.innerText()).replace(/\u00a0/g, " ").trim() === query, {
    part: ".settings-editor .settings-header",
  });
}

/** The Settings editor opens as a modal here: Escape closes it. */
async function closeSettings() {
  await clickUntil("the Settings editor closed", () => page.keyboard.press("Escape"), async () => !(await page.locator(".settings-editor").isVisible()), {
    part: ".monaco-workbench",
  });
}

async function saveActive() {
  await page.keyboard.press("Control+S");
  await waitUntil("the editor saved (no unsaved dot on its tab)", async () => (await activeTab())?.dirty === false, {
    part: ".editor-group-container.active .tabs-container",
  });
}

/** The CLI's findings in one file, as the editor should underline them: line and text. */
function expectedSpans(report, rel, severity) {
  const text = readProject(rel).split("\n");
  return report.diagnostics
    .filter((d) => d.file === rel && d.severity === severity)
    .map((d) => ({ line: d.line, text: text[d.line - 1].slice(d.column - 1, d.end_column - 1), rule: d.rule, message: d.message }));
}

function sameSpans(seen, expected) {
  return (
    seen.length === expected.length && seen.every((s, i) => s.line === expected[i].line && s.text === expected[i].text)
  );
}

const spanList = (spans) => spans.map((s) => `line ${s.line} \`${s.text}\``).join(", ") || "none";

// ---------------------------------------------------------------------------------------------
// The steps
// ---------------------------------------------------------------------------------------------

const PLACE_ORDER = "src/orders/application/place_order.ts";
const PORTS = "src/orders/application/ports.ts";
const INVOICE = "src/billing/application/invoice.ts";
const ADAPTER = "src/orders/adapters/order-store.ts";
const RULE_URL = (rule) => `https://github.com/krepis/krepis/blob/main/rules/${rule}.md`;

const steps = [];
const step = (title, run) => steps.push({ title, run });

let initial; // the CLI's report on the untouched copy

step("squiggles on the right spans, the Krepis message on hover, the rule link", async () => {
  await openFile(PLACE_ORDER);
  const expected = expectedSpans(initial, PLACE_ORDER, "error");
  check(expected.length === 2, `the fixture should have two errors in ${PLACE_ORDER}, the CLI found ${spanList(expected)}`);
  const seen = await waitUntil(
    `error squiggles under ${spanList(expected)}`,
    async () => {
      const now = await squiggles("active", "error");
      return now && sameSpans(now, expected) ? now : null;
    },
    { part: ".editor-group-container.active", detail: () => squiggles("active", "error") },
  );
  // Hover the `explicit-context` squiggle (on `retry`).
  const target = expected.findIndex((e) => e.rule === "explicit-context");
  const hover = page.locator(".monaco-hover:not(.hidden) .marker.hover-contents");
  await clickUntil(
    "the hover over the squiggle with the Krepis message",
    async () => {
      await page.mouse.move(seen[target].x + 20, seen[target].y + 40);
      await page.mouse.move(seen[target].x + 2, seen[target].y);
    },
    async () => (await hover.count()) > 0 && (await hover.first().innerText()).includes(expected[target].message),
    { part: ".monaco-hover", each: 2_500 },
  );
  const link = await hover.first().evaluate((el) => {
    const a = el.querySelector("a.code-link");
    return a ? { text: a.innerText, href: a.getAttribute("href") } : null;
  });
  // The hover also offers the quick fix once the code actions are in. Moving away and back asks
  // again, as a user would when it says there is none.
  const hoverActions = page.locator(".monaco-hover:not(.hidden) .hover-row.status-bar");
  const quickFixInHover = async () => {
    const text = await hoverActions.innerText({ timeout: 1_000 });
    if (text.includes("No quick fixes available")) {
      console.log("vscode-e2e:      (the hover said “No quick fixes available”; hovering again)");
      throw new Error(text);
    }
    return text.includes("Quick Fix");
  };
  await clickUntil(
    "“Quick Fix...” in the hover",
    async () => {
      if (!(await quickFixInHover().catch(() => false))) {
        await page.mouse.move(seen[target].x + 20, seen[target].y + 80);
        await hover.first().waitFor({ state: "detached", timeout: 3_000 }).catch(() => {});
        await page.mouse.move(seen[target].x + 2, seen[target].y);
      }
    },
    async () => {
      try {
        return await quickFixInHover();
      } catch (error) {
        return false;
      }
    },
    { part: ".monaco-hover", each: 3_000 },
  );
  const hoverText = await hover.first().innerText();
  check(hoverText.includes("krepis"), `the hover does not name the source krepis:\n${indent(hoverText)}`);
  check(
    link && link.text === "explicit-context" && link.href === RULE_URL("explicit-context"),
    `the hover's rule link is ${JSON.stringify(link)}, expected explicit-context → ${RULE_URL("explicit-context")}:\n${indent(hoverText)}`,
  );
});

step("the Problems panel and the status bar count the findings", async () => {
  const { errors, warnings } = initial.summary;
  const files = new Set(initial.diagnostics.map((d) => d.file));
  await waitUntil(
    `the status bar showing ${errors} errors, ${warnings} warnings and "Krepis: ${errors + warnings}"`,
    async () => {
      const s = await statusBar();
      return (
        s.errors === errors &&
        s.warnings === warnings &&
        s.krepis === `Krepis: ${errors + warnings}` &&
        s.krepisLabel.includes(`${plural(errors, "error")} and ${plural(warnings, "warning")} in ${plural(files.size, "file")}`)
      );
    },
    { part: ".statusbar", detail: statusBar },
  );
  // Clicking the problem counts opens the Problems panel.
  const panel = page.locator(".markers-panel");
  await clickUntil("the Problems panel", () => page.locator("#status\\.problems").click({ timeout: 5_000 }), () => panel.isVisible(), {
    part: ".monaco-workbench",
  });
  // Big enough to show every row (the list only renders the rows in view).
  await runCommand("View: Toggle Maximized Panel");
  const perFile = new Map();
  for (const d of initial.diagnostics) {
    perFile.set(d.file, (perFile.get(d.file) ?? 0) + 1);
  }
  const readPanel = () =>
    page.evaluate(() => ({
      badge: [...document.querySelectorAll(".part.panel .composite-bar .action-item")]
        .map((a) => a.innerText)
        .find((t) => t.startsWith("Problems")),
      files: [...document.querySelectorAll(".markers-panel .monaco-list-row")]
        .map((r) => r.getAttribute("aria-label") ?? "")
        .filter((l) => / problems? in file /.test(l)),
    }));
  await waitUntil(
    `the Problems panel with ${errors + warnings} problems in ${perFile.size} files`,
    async () => {
      const p = await readPanel();
      if (p.badge?.replace(/\s+/g, " ").trim() !== `Problems ${errors + warnings}` || p.files.length !== perFile.size) {
        return false;
      }
      return [...perFile].every(([file, count]) => {
        const dir = path.posix.dirname(file);
        const base = path.posix.basename(file);
        return p.files.some((l) => l.startsWith(`${count} problem`) && l.includes(`in file ${base} of folder ${dir}`));
      });
    },
    { part: ".part.panel", detail: readPanel },
  );
  // Every finding's message is listed.
  const panelText = await panel.innerText();
  for (const d of initial.diagnostics) {
    check(panelText.includes(d.message), `the Problems panel does not list "${d.message}":\n${indent(panelText)}`);
  }
});

step("a quick fix through the light bulb", async () => {
  await runCommand("View: Toggle Maximized Panel");
  await page.keyboard.press("Control+Shift+M"); // close the Problems panel again
  await openFile(PLACE_ORDER);
  const before = readProject(PLACE_ORDER);
  const line = before.split("\n").findIndex((l) => l.includes("async retry(")) + 1;
  const bulb = page.locator(".lightBulbWidget");
  const menu = page.locator(".action-widget");
  const action = menu.locator('.monaco-list-row.action[aria-label^="Add `ctx: KrepisContext`"]');
  await clickInEditor(line, "retry", 1);
  await waitUntil("the light bulb next to line with the squiggle", () => bulb.isVisible(), {
    part: ".editor-group-container.active",
  });
  await clickUntil("the code action menu offering “Add `ctx: KrepisContext`”", () => bulb.click({ timeout: 5_000 }), () => action.isVisible(), {
    part: ".action-widget",
  });
  await shot("light-bulb-menu");
  const after = before.replace("async retry(orderId: string)", "async retry(ctx: KrepisContext, orderId: string)");
  await clickUntil(
    "the fix in the editor",
    () => action.click({ timeout: 5_000 }),
    async () => (await editorText("active")) === after,
    { part: ".editor-group-container.active" },
  );
  check((await activeTab()).dirty, "the quick fix should leave the editor with unsaved changes");
  // The fixed squiggle is gone, the other one stays.
  const left = expectedSpans(initial, PLACE_ORDER, "error").filter((s) => s.rule !== "explicit-context");
  await waitUntil(
    `only ${spanList(left)} still underlined`,
    async () => sameSpans((await squiggles("active", "error")) ?? [], left),
    { part: ".editor-group-container.active", detail: () => squiggles("active", "error") },
  );
  await saveActive();
  await waitUntil(`${PLACE_ORDER} on disk with the fix`, async () => readProject(PLACE_ORDER) === after, {
    part: ".editor-group-container.active",
    detail: async () => readProject(PLACE_ORDER),
  });
});

step("fix-on-save (krepis.fixOnSave, turned on in the Settings editor)", async () => {
  // Turn the setting on the way a user does.
  await clickUntil("the Settings editor", () => page.keyboard.press("Control+Comma"), () => page.locator(".settings-editor").isVisible(), {
    part: ".monaco-workbench",
  });
  await searchSettings("krepis.fixOnSave");
  const checkbox = page.locator('.settings-editor .setting-item-bool .setting-value-checkbox[aria-label="krepis.fixOnSave"]');
  await waitUntil("the Krepis: Fix On Save checkbox", () => checkbox.isVisible(), { part: ".settings-editor" });
  await clickUntil(
    "the Fix On Save checkbox checked and saved in the user settings",
    async () => {
      if ((await checkbox.getAttribute("aria-checked")) !== "true") {
        await checkbox.click({ timeout: 5_000 });
      }
    },
    async () => (await checkbox.getAttribute("aria-checked")) === "true" && readSettings()["krepis.fixOnSave"] === true,
    { part: ".settings-editor" },
  );
  await shot("fix-on-save-setting");
  await closeSettings();
  await openFile(PLACE_ORDER);
  // Type a new async function at the end of the file, without a context, and save.
  await clickAfterLastLine();
  await page.keyboard.press("Control+End");
  const typed = "export async function audit(orderId: string): Promise<void> {}";
  await page.keyboard.type(`\n${typed}`);
  await waitUntil("the typed function in the editor", async () => (await editorText("active"))?.includes(typed), {
    part: ".editor-group-container.active",
  });
  await waitUntil(
    "a squiggle under `audit`",
    async () => ((await squiggles("active", "error")) ?? []).some((s) => s.text === "audit"),
    { part: ".editor-group-container.active", detail: () => squiggles("active", "error") },
  );
  await saveActive();
  const fixed = [
    "export async function audit(ctx: KrepisContext, orderId: string): Promise<void> {}",
    "    await this.notify(ctx, orderId);",
  ];
  await waitUntil(
    `${PLACE_ORDER} saved with every fix (${fixed.join(" / ")})`,
    () => {
      const disk = readProject(PLACE_ORDER);
      return fixed.every((l) => disk.split("\n").includes(l));
    },
    { part: ".editor-group-container.active", detail: async () => readProject(PLACE_ORDER) },
  );
  await waitUntil(
    "the editor showing the saved text, with no squiggle left",
    async () =>
      (await editorText("active")) === readProject(PLACE_ORDER) &&
      ((await squiggles("active", "error")) ?? [null]).length === 0,
    { part: ".editor-group-container.active", detail: () => squiggles("active", "error") },
  );
});

step("“Fix All Problems in Workspace” and “Undo Last Fix” from the command palette", async () => {
  await openFile(PORTS);
  const portLine = readProject(PORTS).split("\n").findIndex((l) => l.includes("list(tenantId")) + 1;
  await waitUntil(
    "the squiggle under the port's `list`",
    async () => sameSpans((await squiggles("active", "error")) ?? [], [{ line: portLine, text: "list" }]),
    { part: ".editor-group-container.active", detail: () => squiggles("active", "error") },
  );
  const report = cliCheck();
  const fixable = report.diagnostics.filter((d) => d.fix?.applicability === "safe");
  const fixableFiles = new Set(fixable.map((d) => d.file));
  const remaining = { errors: report.summary.errors, warnings: report.summary.warnings };
  for (const d of fixable) {
    remaining[d.severity === "error" ? "errors" : "warnings"] -= 1;
  }
  const snapshot = new Map([...fixableFiles].map((f) => [f, readProject(f)]));
  check(fixable.length === 2, `the CLI should see two fixable problems now, it sees ${JSON.stringify(fixable.map((d) => d.file))}`);

  await clearToasts();
  await runCommand("Krepis: Fix All Problems in Workspace");
  const fixedRe = new RegExp(
    `^Krepis fixed ${escapeRe(plural(fixable.length, "problem"))} in ${escapeRe(plural(fixableFiles.size, "file"))} \\(transaction (\\d+)\\)\\. ` +
      `${escapeRe(plural(remaining.errors, "error"))} and ${escapeRe(plural(remaining.warnings, "warning"))} remain`,
  );
  const done = await waitForToast(`the notification "Krepis fixed ${plural(fixable.length, "problem")} …"`, (m) => fixedRe.test(m));
  check(
    done.buttons.includes("Undo") && done.buttons.includes("Show Output"),
    `the notification's buttons are ${JSON.stringify(done.buttons)}, expected Show Output and Undo`,
  );
  const transaction = fixedRe.exec(done.message)[1];
  for (const file of fixableFiles) {
    check(readProject(file) !== snapshot.get(file), `${file} did not change on disk`);
  }
  const fixedPort = "  list(ctx: KrepisContext, tenantId: string): Promise<Order[]>;";
  check(readProject(PORTS).includes(`${fixedPort}\n`), `${PORTS} on disk:\n${indent(readProject(PORTS))}`);
  await waitUntil(
    "the open ports.ts reloaded with the fix, its squiggle gone, the status bar at the remaining count",
    async () =>
      (await editorText("active"))?.split("\n")[portLine - 1] === fixedPort &&
      ((await squiggles("active", "error")) ?? [null]).length === 0 &&
      (await statusBar()).krepis === `Krepis: ${remaining.errors + remaining.warnings}`,
    { part: ".monaco-workbench", detail: async () => ({ squiggles: await squiggles("active", "error"), status: await statusBar() }) },
  );
  await shot("fix-all");

  await clearToasts();
  await runCommand("Krepis: Undo Last Fix");
  const undone = await waitForToast(
    `the notification "Krepis undid transaction ${transaction} and restored ${fixableFiles.size} file(s)"`,
    (m) => m.startsWith(`Krepis undid transaction ${transaction} and restored ${fixableFiles.size} file(s).`),
  );
  check(undone, "no undo notification");
  for (const [file, text] of snapshot) {
    check(readProject(file) === text, `${file} was not restored byte for byte:\n${indent(readProject(file))}`);
  }
  await waitUntil(
    "the open ports.ts back as it was, with its squiggle, and the status bar back",
    async () =>
      (await editorText("active")) === snapshot.get(PORTS) &&
      sameSpans((await squiggles("active", "error")) ?? [], [{ line: portLine, text: "list" }]) &&
      (await statusBar()).krepis === `Krepis: ${report.summary.errors + report.summary.warnings}`,
    { part: ".monaco-workbench", detail: async () => ({ squiggles: await squiggles("active", "error"), status: await statusBar() }) },
  );
  await clearToasts();
});

step("the generator “Implement port `OrderStore` as an adapter” creates the adapter", async () => {
  await openFile(PORTS);
  const before = cliCheck();
  const line = readProject(PORTS).split("\n").findIndex((l) => l.startsWith("export interface OrderStore")) + 1;
  const bulb = page.locator(".lightBulbWidget");
  const title = "Implement port `OrderStore` as an adapter";
  const action = page.locator(`.action-widget .monaco-list-row.action[aria-label^="${title}"]`);
  await clickInEditor(line, "OrderStore", 3);
  await waitUntil("the light bulb on the interface", () => bulb.isVisible(), { part: ".editor-group-container.active" });
  await clickUntil(`the code action menu offering “${title}”`, () => bulb.click({ timeout: 5_000 }), () => action.isVisible(), {
    part: ".action-widget",
  });
  check((await action.getAttribute("aria-disabled")) !== "true", `“${title}” is disabled:\n${indent(await textOf(".action-widget"))}`);
  await clickUntil("the adapter file on disk", () => action.click({ timeout: 5_000 }), () => fs.existsSync(projectFile(ADAPTER)), {
    part: ".monaco-workbench",
  });
  await waitUntil(
    `${ADAPTER} written with the adapter class, ports.ts saved with the context on \`list\``,
    () =>
      readProject(ADAPTER).includes("export class OrderStoreAdapter implements OrderStore {") &&
      readProject(ADAPTER).includes("async list(ctx: KrepisContext, tenantId: string): Promise<Order[]> {") &&
      readProject(PORTS).includes("  list(ctx: KrepisContext, tenantId: string): Promise<Order[]>;\n"),
    { part: ".monaco-workbench", detail: async () => ({ adapter: readProject(ADAPTER), ports: readProject(PORTS) }) },
  );
  // The new code passes the rules: the CLI finds what it found before, less the port's finding.
  const after = cliCheck();
  const key = (d) => `${d.file}:${d.rule}:${d.message}`;
  const expected = before.diagnostics.filter((d) => !(d.file === PORTS && d.rule === "explicit-context")).map(key);
  check(
    JSON.stringify(after.diagnostics.map(key)) === JSON.stringify(expected),
    `after the generator the CLI reports ${JSON.stringify(after.diagnostics.map(key))}, expected ${JSON.stringify(expected)}`,
  );
  // The user sees the new file in the Explorer and opens it: no squiggle.
  await openFile(ADAPTER);
  await waitUntil("the adapter open with no squiggle", async () => ((await squiggles("active", "error")) ?? [null]).length === 0, {
    part: ".editor-group-container.active",
  });
});

step("editing krepis.json re-checks the open files", async () => {
  await openFile(INVOICE);
  const expected = expectedSpans(cliCheck(), INVOICE, "error");
  await waitUntil(
    `the error squiggles ${spanList(expected)} in invoice.ts`,
    async () => sameSpans((await squiggles("active", "error")) ?? [], expected),
    { part: ".editor-group-container.active", detail: () => squiggles("active", "error") },
  );
  // invoice.ts stays on the left; krepis.json opens on the right.
  await runCommand("View: Split Editor Right");
  await waitUntil("two editor groups", async () => (await page.locator(".editor-group-container").count()) === 2);
  await openFile("krepis.json");
  const config = readProject("krepis.json");
  check(config.includes('"explicit-context": "error"'), `the fixture's krepis.json changed:\n${indent(config)}`);
  const line = config.split("\n").findIndex((l) => l.includes('"explicit-context": "error"')) + 1;
  // Select the word error (double click) and type warn over it.
  const at = await clickInEditor(line, '"error"', 2);
  await page.mouse.dblclick(at.x, at.y);
  await page.keyboard.type("warn");
  await waitUntil(
    'krepis.json reading "explicit-context": "warn"',
    async () => (await editorText("active"))?.includes('"explicit-context": "warn"'),
    { part: ".editor-group-container.active" },
  );
  await saveActive();
  check(readProject("krepis.json").includes('"explicit-context": "warn"'), `krepis.json on disk:\n${indent(readProject("krepis.json"))}`);
  const report = cliCheck();
  const warned = expectedSpans(report, INVOICE, "warning");
  check(warned.length === expected.length, `the CLI now reports ${JSON.stringify(report.summary)}`);
  await waitUntil(
    `invoice.ts (left) re-checked: warning squiggles ${spanList(warned)}, no error squiggle, status bar ${report.summary.errors} errors and ${report.summary.warnings} warnings`,
    async () => {
      const s = await statusBar();
      return (
        sameSpans((await squiggles(0, "warning")) ?? [], warned) &&
        ((await squiggles(0, "error")) ?? [null]).length === 0 &&
        s.errors === report.summary.errors &&
        s.warnings === report.summary.warnings
      );
    },
    {
      part: groupPart(0),
      detail: async () => ({ warnings: await squiggles(0, "warning"), errors: await squiggles(0, "error"), status: await statusBar() }),
    },
  );
});

step("a wrong krepis.path shows the error with its button", async () => {
  await clearToasts();
  // krepis.path is machine-overridable, so in a remote window (code-server is one) the Settings
  // editor lists it under the Remote tab, not User.
  const machinePath = () => JSON.parse(fs.readFileSync(MACHINE_SETTINGS_FILE, "utf8"))["krepis.path"];
  const field = page.locator('.settings-editor .setting-item-text input[aria-label="krepis.path"]');
  const remoteTab = page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" });
  const setPath = async (value) => {
    await clickUntil("the krepis.path field under the Remote tab", () => remoteTab.click({ timeout: 5_000 }), () => field.isVisible(), {
      part: ".settings-editor",
    });
    await field.fill(value);
    await waitUntil(`krepis.path = ${value} saved in the remote settings`, () => machinePath() === value, {
      part: ".settings-editor",
      detail: async () => machinePath(),
    });
  };

  await clickUntil("the Settings editor", () => page.keyboard.press("Control+Comma"), () => page.locator(".settings-editor").isVisible(), {
    part: ".monaco-workbench",
  });
  await searchSettings("krepis.path");
  const wrong = path.join(WORK, "no-such-dir", "krepis");
  await setPath(wrong);
  await closeSettings();
  const toast = await waitForToast(
    "the error about krepis.path",
    (m) => m.startsWith(`Krepis: the setting "krepis.path" is "${wrong}", but ${wrong} is not an executable file.`),
  );
  check(toast.buttons.includes("Open Settings"), `the error's buttons are ${JSON.stringify(toast.buttons)}, expected Open Settings`);
  await waitUntil(
    'the status bar showing "Krepis: stopped"',
    async () => (await statusBar()).krepis === "Krepis: stopped",
    { part: ".statusbar", detail: statusBar },
  );
  await shot("wrong-path");

  // The button opens the Settings editor on krepis.path; the user corrects it and Krepis is back.
  const button = page.locator(".notifications-toasts .notification-list-item-buttons-container .monaco-button", {
    hasText: "Open Settings",
  });
  const search = page.locator(".settings-editor .settings-header .suggest-input-container .monaco-editor");
  await clickUntil(
    "the Settings editor searching krepis.path",
    () => button.first().click({ timeout: 5_000 }),
    async () => (await search.isVisible()) && (await search.innerText()).replace(/\u00a0/g, " ").trim() === "krepis.path",
    { part: ".monaco-workbench" },
  );
  await shot("open-settings");
  await setPath(BINARY);
  await waitUntil(
    "the server back (Krepis: N in the status bar)",
    async () => /^Krepis: \d+$/.test((await statusBar()).krepis ?? ""),
    { part: ".statusbar", detail: statusBar },
  );
  await closeSettings();
});

// ---------------------------------------------------------------------------------------------
// Running them
// ---------------------------------------------------------------------------------------------

let shots = 0;
let currentStep = 0;
async function shot(name) {
  shots++;
  const file = path.join(ARTIFACTS, `${String(currentStep).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file }).catch((error) => console.log(`  (no screenshot ${file}: ${error.message})`));
}

const slug = (title) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 48);

async function waitForServer() {
  await waitUntil(
    `code-server answering at ${URL_BASE}`,
    async () => {
      const response = await fetch(new URL("healthz", URL_BASE)).catch(() => null);
      return response?.ok;
    },
    { timeout: 60_000, part: "body" },
  ).catch((error) => {
    throw new Error(error.message.split("\n")[0]);
  });
}

async function main() {
  const started = Date.now();
  initial = cliCheck();
  await waitForServer();
  // A fresh profile for every run; Playwright takes it as the persistent context's folder.
  const context = await chromium.launchPersistentContext(path.join(WORK, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const consoleLog = fs.createWriteStream(path.join(ARTIFACTS, "browser-console.log"));
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => consoleLog.write(`[pageerror] ${e.message}\n`));

  let passed = 0;
  let failed = 0;
  let ready = true;
  try {
    await page.goto(`${URL_BASE}?folder=${encodeURIComponent(PROJECT)}`);
    await waitUntil("the Explorer listing the project", () => page.locator(".explorer-folders-view .monaco-list-row").first().isVisible(), {
      timeout: 90_000,
    });
    await waitUntil(
      "the Krepis status bar item with the project's problem count",
      async () => /^Krepis: \d+$/.test((await statusBar()).krepis ?? ""),
      { timeout: 90_000, part: ".statusbar", detail: statusBar },
    );
    console.log(`vscode-e2e: VS Code ready with Krepis running in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    ready = false;
    console.log(`vscode-e2e: FAIL start: ${error.message}`);
    currentStep = 0;
    await shot("start");
    failed++;
  }

  if (BUNDLED) {
    steps.splice(1);
    step("the server bundled with the extension is the one running", async () => {
      await waitUntil(
        "the Krepis output saying it started the bundled binary",
        () => {
          collectLogs();
          const log = path.join(ARTIFACTS, "krepis-output.log");
          return fs.existsSync(log) && /Starting .*[\\/]bin[\\/]krepis(\.exe)? lsp \(found via the binary bundled with the extension\)/.test(fs.readFileSync(log, "utf8"));
        },
        { detail: async () => {
          const log = path.join(ARTIFACTS, "krepis-output.log");
          return fs.existsSync(log) ? fs.readFileSync(log, "utf8").slice(0, 2000) : "(no Krepis output yet)";
        } },
      );
    });
  }
  for (let i = 0; ready && i < steps.length; i++) {
    const { title, run } = steps[i];
    currentStep = i + 1;
    const t0 = Date.now();
    let timer;
    try {
      await Promise.race([
        run(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new StepFailure(`the step took longer than ${STEP_MS / 1000} s`)), STEP_MS);
        }),
      ]);
      passed++;
      await shot(slug(title));
      console.log(`vscode-e2e: ok   ${currentStep}. ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed++;
      await shot(`${slug(title)}-FAILED`);
      const message = error instanceof StepFailure ? error.message : error.stack;
      console.log(`vscode-e2e: FAIL ${currentStep}. ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${indent(message)}`);
      // Leave menus, hovers and the palette before the next step.
      await page.keyboard.press("Escape").catch(() => {});
      await page.keyboard.press("Escape").catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  }
  if (!ready) {
    failed += steps.length;
  }
  collectLogs();
  await context.close().catch(() => {});
  consoleLog.end();
  console.log(`vscode-e2e: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in ${path.relative(process.cwd(), ARTIFACTS) || "."})`);
  process.exitCode = failed === 0 ? 0 : 1;
}

/** Copies the Krepis output channel and the extension host's log next to the screenshots. */
function collectLogs() {
  const walk = (dir) =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
      : [];
  for (const file of walk(path.join(USER_DATA, "logs"))) {
    const base = path.basename(file);
    if (/Krepis\.log$/.test(base)) {
      fs.copyFileSync(file, path.join(ARTIFACTS, "krepis-output.log"));
    } else if (base === "remoteexthost.log" || base === "exthost.log") {
      fs.copyFileSync(file, path.join(ARTIFACTS, base));
    }
  }
}

if (process.argv[2] === "--write-settings") {
  // ci.sh writes the user settings before code-server starts, as a user's would be.
  writeSettings();
} else {
  main().catch((error) => {
  console.log(`vscode-e2e: FAIL ${error.stack}`);
    console.log("vscode-e2e: 0 passed, 1 failed");
    process.exit(1);
  });
}
