//! Fixture expectations written under the code they describe, rust-analyzer style:
//!
//! ```text
//! async function load(id: string) {}
//! //             ^^^^ explicit-context
//! ```
//!
//! Used by the unit tests of each rule and by the fixture harness.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::diagnostic::{Diagnostic, TextRange, apply_edits};
use crate::line_index::{ColumnUnit, LineIndex};
use crate::project::ProjectSettings;
use crate::workspace::Workspace;

/// One expected diagnostic: 0-based line, UTF-16 columns `start..end`, rule name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expectation {
    pub line: u32,
    pub start: u32,
    pub end: u32,
    pub rule: String,
}

fn annotation(line: &str) -> Option<(u32, u32, String)> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix("//")?;
    let carets_at = rest.find('^')?;
    if !rest[..carets_at].chars().all(|c| c == ' ') {
        return None;
    }
    let carets = rest[carets_at..].chars().take_while(|&c| c == '^').count();
    let rule = rest[carets_at + carets..].trim();
    if rule.is_empty() || !rule.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return None;
    }
    let prefix = line.len() - rest.len() + carets_at;
    let start: u32 = line[..prefix].chars().map(|c| c.len_utf16() as u32).sum();
    Some((start, start + carets as u32, rule.to_string()))
}

/// The expectations written in `text`; each annotates the nearest line above that is not one.
pub fn parse_expectations(text: &str) -> Vec<Expectation> {
    let mut out = Vec::new();
    let mut target: Option<u32> = None;
    for (i, line) in text.lines().enumerate() {
        match annotation(line) {
            Some((start, end, rule)) => {
                if let Some(line) = target {
                    out.push(Expectation {
                        line,
                        start,
                        end,
                        rule,
                    });
                }
            }
            None => target = Some(i as u32),
        }
    }
    out.sort();
    out
}

/// What the diagnostics look like as expectations (multi-line spans end at the first line's end).
pub fn actual_expectations(text: &str, diagnostics: &[Diagnostic]) -> Vec<Expectation> {
    let index = LineIndex::new(text);
    let mut out: Vec<Expectation> = diagnostics
        .iter()
        .map(|d| {
            let start = index.position(text, d.range.start, ColumnUnit::Utf16);
            let end = index.position(text, d.range.end, ColumnUnit::Utf16);
            let end_col = if end.line != start.line {
                let range = index.line_range(text, start.line).unwrap_or(0..0);
                text[range].encode_utf16().count() as u32
            } else {
                end.column.max(start.column + 1)
            };
            Expectation {
                line: start.line,
                start: start.column,
                end: end_col,
                rule: d.rule_name().to_string(),
            }
        })
        .collect();
    out.sort();
    out
}

fn render(text: &str, list: &[Expectation]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    list.iter()
        .map(|e| {
            let code = lines.get(e.line as usize).copied().unwrap_or("");
            format!(
                "{}:{}..{} {}\n    {code}\n",
                e.line + 1,
                e.start,
                e.end,
                e.rule
            )
        })
        .collect()
}

/// Compares what a file's annotations expect with what was reported; the message shows both.
pub fn compare(path: &Path, text: &str, diagnostics: &[Diagnostic]) -> Result<(), String> {
    let expected = parse_expectations(text);
    let actual = actual_expectations(text, diagnostics);
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "{}: diagnostics differ from annotations\n--- expected\n{}--- actual\n{}",
        path.display(),
        render(text, &expected),
        render(text, &actual)
    ))
}

/// A workspace in memory under `/project` with the default config; returns it and the root.
pub fn memory_workspace(files: &[(&str, &str)]) -> (Workspace, PathBuf) {
    let root = PathBuf::from("/project");
    let mut settings = ProjectSettings::new(&root, None);
    settings.insert_config(root.clone(), Config::default_for(&root));
    let sources = files
        .iter()
        .map(|(p, t)| (root.join(p), t.to_string()))
        .collect();
    (Workspace::from_memory(settings, sources), root)
}

/// Checks files in memory with the default config and asserts their annotations.
pub fn assert_project(files: &[(&str, &str)]) {
    let (workspace, _) = memory_workspace(files);
    let mut failures = String::new();
    for result in workspace.check(&|| {}) {
        if let Err(e) = compare(&result.path, &result.text, &result.diagnostics) {
            failures.push_str(&e);
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// The text of a `krepis.json` at `/project`, parsed as `krepis check` would.
pub fn config_at_root(text: &str) -> Result<Config, crate::config::ConfigError> {
    let root = PathBuf::from("/project");
    Config::parse(
        text,
        crate::config::ConfigSource::File(root.join("krepis.json")),
        &root,
        &root.join("krepis.json"),
    )
}

/// [`assert_project`] with `config`, the text of a `krepis.json` at the root.
pub fn assert_project_with_config(config: &str, files: &[(&str, &str)]) {
    let root = PathBuf::from("/project");
    let parsed = config_at_root(config).unwrap_or_else(|e| panic!("{e}"));
    let mut settings = ProjectSettings::new(&root, None);
    settings.insert_config(root.clone(), std::sync::Arc::new(parsed));
    let sources = files
        .iter()
        .map(|(p, t)| (root.join(p), t.to_string()))
        .collect();
    let workspace = Workspace::from_memory(settings, sources);
    let mut failures = String::new();
    for result in workspace.check(&|| {}) {
        if let Err(e) = compare(&result.path, &result.text, &result.diagnostics) {
            failures.push_str(&e);
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// The diagnostics of one file checked alone with the default config.
pub fn check_source(path: &str, text: &str) -> Vec<Diagnostic> {
    let (workspace, _) = memory_workspace(&[(path, text)]);
    workspace.check(&|| {}).remove(0).diagnostics.to_vec()
}

/// The diagnostics of `path`, one of `files` checked together with the default config.
pub fn check_project_file(files: &[(&str, &str)], path: &str) -> Vec<Diagnostic> {
    let (workspace, root) = memory_workspace(files);
    let wanted = root.join(path);
    workspace
        .check(&|| {})
        .into_iter()
        .find(|r| r.path == wanted)
        .map(|r| r.diagnostics.to_vec())
        .unwrap_or_default()
}

/// [`assert_project`] for a single file.
pub fn assert_annotations(path: &str, text: &str) {
    assert_project(&[(path, text)]);
}

/// Applies fixes in rounds until none is left; returns the final text.
pub fn fix_all(path: &str, text: &str) -> String {
    fix_project(&[], path, text)
}

/// Like [`fix_all`] for `path`, with `others` beside it (they are read, not fixed).
pub fn fix_project(others: &[(&str, &str)], path: &str, text: &str) -> String {
    let mut text = text.to_string();
    for _ in 0..10 {
        let mut files = others.to_vec();
        files.push((path, &text));
        let (workspace, root) = memory_workspace(&files);
        let results = workspace.check(&|| {});
        let Some(result) = results.iter().find(|r| r.path == root.join(path)) else {
            return text;
        };
        let Some(fix) = result
            .diagnostics
            .iter()
            .find_map(|d| d.fix_to_apply(false).cloned())
        else {
            return text;
        };
        text = apply_edits(&text, &fix.edits).0;
    }
    text
}

/// Rounds of fixing before [`fix_invariants`] calls the fixes non-converging (as `krepis fix`).
pub use crate::fix::MAX_FIX_ROUNDS;

fn check_range(text: &str, range: TextRange, what: &str) -> Result<(), String> {
    let (start, end) = (range.start as usize, range.end as usize);
    if start > end || end > text.len() {
        return Err(format!(
            "{what} {start}..{end} lies outside the text ({} bytes)",
            text.len()
        ));
    }
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return Err(format!(
            "{what} {start}..{end} splits a character of the text"
        ));
    }
    Ok(())
}

/// Every diagnostic and fix edit of `text` lies inside it on character boundaries, and no two
/// edits of one fix overlap (so the whole fix applies).
fn check_diagnostics(text: &str, diagnostics: &[Diagnostic]) -> Result<(), String> {
    for d in diagnostics {
        check_range(text, d.range, &format!("`{}` range", d.rule_name()))?;
        let Some(fix) = &d.fix else { continue };
        if fix.edits.is_empty() {
            return Err(format!("`{}` offers a fix without edits", d.rule_name()));
        }
        let mut edits: Vec<TextRange> = fix.edits.iter().map(|e| e.range).collect();
        edits.sort();
        for (i, edit) in edits.iter().enumerate() {
            check_range(text, *edit, &format!("`{}` fix edit", d.rule_name()))?;
            if let Some(next) = edits.get(i + 1)
                && next.start < edit.end
            {
                return Err(format!(
                    "`{}` fix edits overlap: {edit:?} and {next:?}",
                    d.rule_name()
                ));
            }
        }
    }
    Ok(())
}

fn parses(path: &Path, text: &str) -> bool {
    crate::facts::extract(path, text).syntax_errors.is_empty()
}

/// What must hold for any project (fuzzing and property tests check it on generated ones):
///
/// - checking never panics, and every diagnostic and fix edit lies inside its file, on character
///   boundaries;
/// - fixes applied in rounds, the way `krepis fix` applies them, all apply, and reach a point
///   where nothing more is offered within [`MAX_FIX_ROUNDS`];
/// - a file that parsed still parses after every round;
/// - the incrementally updated workspace reports exactly what a fresh one does for the fixed
///   texts, and a fresh check of the fixed texts offers no further fix (fixing is idempotent).
///
/// `files` are relative to the project root and checked with the default configuration (plus
/// `config`, the text of a `krepis.json` at the root, when given). Returns the fixed texts.
pub fn fix_invariants(
    files: &[(&str, &str)],
    config: Option<&str>,
) -> Result<Vec<(PathBuf, String)>, String> {
    let root = PathBuf::from("/project");
    let settings = || {
        let mut settings = ProjectSettings::new(&root, None);
        let parsed = config.and_then(|text| {
            Config::parse(
                text,
                crate::config::ConfigSource::File(root.join("krepis.json")),
                &root,
                &root.join("krepis.json"),
            )
            .ok()
        });
        match parsed {
            Some(config) => settings.insert_config(root.clone(), std::sync::Arc::new(config)),
            None => settings.insert_config(root.clone(), Config::default_for(&root)),
        }
        settings
    };
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .map(|(p, t)| (root.join(p), t.to_string()))
        .collect();
    let mut workspace = Workspace::from_memory(settings(), sources);
    let _ = workspace.graph();
    let mut round = 0;
    let results = loop {
        let results = workspace.check(&|| {});
        let mut changes = Vec::new();
        for result in &results {
            check_diagnostics(&result.text, &result.diagnostics)
                .map_err(|e| format!("{}: {e}", result.path.display()))?;
            let merged = crate::fix::merge_fixes(&result.diagnostics, false);
            if merged.fixes == 0 {
                continue;
            }
            let (fixed, applied) = apply_edits(&result.text, &merged.edits);
            if applied != merged.edits.len() {
                return Err(format!(
                    "{}: round {round}: only {applied} of {} merged edits apply",
                    result.path.display(),
                    merged.edits.len()
                ));
            }
            if fixed == *result.text {
                return Err(format!(
                    "{}: round {round}: fixes are offered that change nothing",
                    result.path.display()
                ));
            }
            if parses(&result.path, &result.text) && !parses(&result.path, &fixed) {
                return Err(format!(
                    "{}: round {round}: the fixed text no longer parses:\n{fixed}",
                    result.path.display()
                ));
            }
            changes.push((result.path.clone(), fixed));
        }
        if changes.is_empty() {
            break results;
        }
        round += 1;
        if round > MAX_FIX_ROUNDS {
            return Err(format!(
                "fixes are still offered after {MAX_FIX_ROUNDS} rounds: {:?}",
                changes.iter().map(|(p, _)| p).collect::<Vec<_>>()
            ));
        }
        for (path, text) in changes {
            workspace.set_text(&path, &text);
        }
    };
    let texts: Vec<(PathBuf, String)> = results
        .iter()
        .map(|r| (r.path.clone(), r.text.to_string()))
        .collect();
    let fresh = Workspace::from_memory(settings(), texts.clone()).check(&|| {});
    for (incremental, fresh) in results.iter().zip(&fresh) {
        if incremental.diagnostics != fresh.diagnostics {
            return Err(format!(
                "{}: the edited workspace and a fresh one disagree:\n{:#?}\n{:#?}",
                incremental.path.display(),
                incremental.diagnostics,
                fresh.diagnostics
            ));
        }
    }
    let _ = workspace.graph();
    Ok(texts)
}

/// Where generated projects put their files: every layer, command and query folders, TSX and JS.
pub const GENERATED_PATHS: [&str; 8] = [
    "src/orders/domain/order.ts",
    "src/orders/application/place_order.ts",
    "src/orders/application/commands/cancel.ts",
    "src/orders/application/queries/count.ts",
    "src/orders/infrastructure/store.ts",
    "src/orders/adapters/http.tsx",
    "src/main.js",
    "src/orders/domain/index.ts",
];

/// Pieces of TypeScript, whole and broken, that [`generated_file`] strings together with
/// whole statements: what the rules look at, brackets, templates, comments and odd characters.
pub const TS_FRAGMENTS: &[&str] = &[
    "async function f(",
    "function g(",
    "export async function load(",
    "ctx: KrepisContext",
    "ctx: KrepisContext, ",
    "id: string",
    ", ",
    ")",
    "(",
    "{",
    "}",
    "[",
    "]",
    " => ",
    "async (",
    "await ",
    "load(",
    "g(ctx, ",
    "return ",
    ";",
    "\n",
    "\r\n",
    ": Promise<void>",
    "<T>",
    "import { f } from \"../domain/order\";\n",
    "import type { KrepisContext } from \"@krepis/core\";\n",
    "import { AsyncLocalStorage } from \"node:async_hooks\";\n",
    "export { load } from \"./index.ts\";\n",
    "export * from \"../application/place_order\";\n",
    "import(\"../infrastructure/store\")",
    "require(\"fs\")",
    "class OrderCommandHandler {",
    "async handle(",
    "interface OrderStore {",
    "save(ctx: KrepisContext, o: Order): Promise<void>;",
    "abstract class A {",
    "abstract run(): Promise<void>;",
    "type Port = { m(): Promise<void> };",
    "`",
    "`t ${",
    "${",
    "\"s\"",
    "'q'",
    "// c\n",
    "/* c */",
    "/re+g/",
    "Date.now()",
    "Math.random()",
    "new Date()",
    "fetch(",
    "Deno.readTextFile(",
    "this.store.save(",
    "const x = ",
    "let y = ",
    "export default async function (",
    "@dec ",
    "enum E { A }",
    "namespace N {",
    "declare ",
    "?.",
    "?",
    ":",
    "!",
    "...",
    "=",
    "<div>{",
    "</div>",
    "\u{1F600}",
    "\u{feff}",
    "\u{2028}",
    "é",
];

const NAMES: [&str; 6] = ["load", "save", "handle", "f", "g", "publish"];
const CLASSES: [&str; 4] = [
    "OrderCommandHandler",
    "OrderQueryHandler",
    "Service",
    "OrderStore",
];
const PARAMS: [&str; 8] = [
    "ctx: KrepisContext",
    "id: string",
    "ctx",
    "n = 1",
    "{ a, b }: Opts",
    "c: KrepisContext",
    "store: OrderStore",
    "cb: (ctx: KrepisContext) => Promise<void>",
];
/// Parameters that must come last.
const LAST_PARAMS: [&str; 2] = ["o?: Order", "...rest: unknown[]"];
const RETURNS: [&str; 6] = [
    "",
    ": Promise<void>",
    ": Promise<string>",
    ": void",
    ": number",
    ": Promise<Order | undefined>",
];
const SPECIFIERS: [&str; 13] = [
    "./order",
    "../domain/order",
    "../application/place_order",
    "../infrastructure/store",
    "../adapters/http",
    "./index.ts",
    "../../main.js",
    "./commands/cancel.js",
    "@krepis/core",
    "node:fs",
    "node:async_hooks",
    "jsr:@std/fs",
    "npm:zod",
];
const EXPRESSIONS: [&str; 18] = [
    "1",
    "ctx",
    "id",
    "Date.now()",
    "Math.random()",
    "new Date()",
    "crypto.randomUUID()",
    "performance.now()",
    "fetch(\"/x\")",
    "Deno.readTextFile(\"a\")",
    "process.env.X",
    "`t${id}`",
    "createContext()",
    "ctx.child(\"x\")",
    "this.store",
    "{ ...o }",
    "[1, 2]",
    "\"\u{1F600}\"",
];

fn pick<'a>(choose: &mut dyn FnMut(usize) -> usize, items: &[&'a str]) -> &'a str {
    items[choose(items.len()).min(items.len() - 1)]
}

fn params(choose: &mut dyn FnMut(usize) -> usize) -> String {
    let mut list: Vec<&str> = (0..choose(4)).map(|_| pick(choose, &PARAMS)).collect();
    if choose(4) == 0 {
        list.push(pick(choose, &LAST_PARAMS));
    }
    list.join(", ")
}

fn call(choose: &mut dyn FnMut(usize) -> usize) -> String {
    let callee = match choose(4) {
        0 => format!("this.store.{}", pick(choose, &NAMES)),
        1 => format!("store.{}", pick(choose, &NAMES)),
        _ => pick(choose, &NAMES).to_string(),
    };
    let args: Vec<&str> = (0..choose(4)).map(|_| pick(choose, &EXPRESSIONS)).collect();
    format!("{callee}({})", args.join(", "))
}

/// Statements of a function body; `awaits` when the function is async.
fn body(choose: &mut dyn FnMut(usize) -> usize, depth: u32, awaits: bool, out: &mut String) {
    let wait = if awaits { "await " } else { "" };
    for _ in 0..choose(5) {
        let indent = "  ".repeat(depth as usize + 1);
        match choose(if depth < 2 { 9 } else { 6 }) {
            0 | 1 => out.push_str(&format!("{indent}{wait}{};\n", call(choose))),
            2 => out.push_str(&format!("{indent}{};\n", call(choose))),
            3 => out.push_str(&format!("{indent}return {};\n", pick(choose, &EXPRESSIONS))),
            4 => out.push_str(&format!(
                "{indent}const v = {};\n",
                pick(choose, &EXPRESSIONS)
            )),
            5 => out.push_str(&format!(
                "{indent}{wait}Promise.all([1].map(async (n) => {}));\n",
                call(choose)
            )),
            6 => {
                out.push_str(&format!("{indent}app.get(\"/\", async (req) => {{\n"));
                body(choose, depth + 1, true, out);
                out.push_str(&format!("{indent}}});\n"));
            }
            7 => {
                let asyncness = choose(3) != 0;
                out.push_str(&format!(
                    "{indent}const inner = {}({}) => {{\n",
                    if asyncness { "async " } else { "" },
                    params(choose)
                ));
                body(choose, depth + 1, asyncness, out);
                out.push_str(&format!("{indent}}};\n"));
            }
            _ => {
                out.push_str(&format!("{indent}if ({}) {{\n", pick(choose, &EXPRESSIONS)));
                body(choose, depth + 1, awaits, out);
                out.push_str(&format!("{indent}}}\n"));
            }
        }
    }
}

fn function(choose: &mut dyn FnMut(usize) -> usize, out: &mut String) {
    let export = if choose(2) == 0 { "" } else { "export " };
    let awaits = choose(3) != 0;
    let asyncness = if awaits { "async " } else { "" };
    let name = pick(choose, &NAMES);
    let params = params(choose);
    let ret = pick(choose, &RETURNS);
    match choose(4) {
        0 => out.push_str(&format!(
            "{export}const {name} = {asyncness}({params}){ret} => {{\n"
        )),
        1 => out.push_str(&format!(
            "{export}const {name} = {asyncness}function ({params}){ret} {{\n"
        )),
        _ => out.push_str(&format!(
            "{export}{asyncness}function {name}({params}){ret} {{\n"
        )),
    }
    body(choose, 0, awaits, out);
    out.push_str("}\n");
}

/// One statement of a generated module; with `raw`, sometimes a bare fragment instead.
fn statement(choose: &mut dyn FnMut(usize) -> usize, raw: bool, out: &mut String) {
    match choose(if raw { 12 } else { 10 }) {
        0 => out.push_str(&format!(
            "import {{ {} }} from \"{}\";\n",
            pick(choose, &NAMES),
            pick(choose, &SPECIFIERS)
        )),
        1 => out.push_str("import type { KrepisContext } from \"@krepis/core\";\n"),
        2 => out.push_str(&format!(
            "{} from \"{}\";\n",
            pick(
                choose,
                &["import * as m", "export * ", "export { load }", "import d"]
            ),
            pick(choose, &SPECIFIERS)
        )),
        3 | 4 => function(choose, out),
        5 => {
            let class = pick(choose, &CLASSES);
            out.push_str(&format!(
                "export class {class} {{\n  constructor(private readonly store: OrderStore) {{}}\n"
            ));
            for _ in 0..choose(3) {
                let awaits = choose(3) != 0;
                let asyncness = if awaits { "async " } else { "" };
                out.push_str(&format!(
                    "  {asyncness}{}({}){} {{\n",
                    pick(choose, &NAMES),
                    params(choose),
                    pick(choose, &RETURNS)
                ));
                body(choose, 1, awaits, out);
                out.push_str("  }\n");
            }
            out.push_str("}\n");
        }
        6 => {
            out.push_str("export interface OrderStore {\n");
            for _ in 0..choose(3) {
                out.push_str(&format!(
                    "  {}({}){};\n",
                    pick(choose, &NAMES),
                    params(choose),
                    pick(choose, &RETURNS)
                ));
            }
            out.push_str("}\n");
        }
        7 => out.push_str(&format!(
            "type Port = {{ {}({}){} }};\n",
            pick(choose, &NAMES),
            params(choose),
            pick(choose, &RETURNS)
        )),
        8 => out.push_str(&format!(
            "{};\n",
            pick(
                choose,
                &[
                    "import { AsyncLocalStorage } from \"node:async_hooks\"",
                    "const als = new AsyncLocalStorage()",
                    "export default async function (id: string) {}",
                    "const t = Date.now()",
                ]
            )
        )),
        9 => out.push_str(&format!("await {};\n", call(choose))),
        _ => out.push_str(pick(choose, TS_FRAGMENTS)),
    }
}

/// A module built from `choose` (which returns an index below its argument): imports, functions
/// of every kind, classes, interfaces and calls, so that most rules and fixes have something to
/// do. With `raw`, bare fragments ([`TS_FRAGMENTS`]) are mixed in and the text may not parse.
/// The size is bounded: at most 16 statements, bodies at most three levels deep.
pub fn generated_file(choose: &mut dyn FnMut(usize) -> usize, raw: bool) -> String {
    let mut out = String::new();
    for _ in 0..choose(17) {
        statement(choose, raw, &mut out);
    }
    out
}

/// A project of up to four files at distinct [`GENERATED_PATHS`], each a [`generated_file`].
pub fn generated_project(
    choose: &mut dyn FnMut(usize) -> usize,
    raw: bool,
) -> Vec<(&'static str, String)> {
    let mut files: Vec<(&'static str, String)> = Vec::new();
    for _ in 0..=choose(4) {
        let path = GENERATED_PATHS[choose(GENERATED_PATHS.len()).min(GENERATED_PATHS.len() - 1)];
        let text = generated_file(choose, raw);
        match files.iter_mut().find(|(p, _)| *p == path) {
            Some(existing) => existing.1 = text,
            None => files.push((path, text)),
        }
    }
    files
}

/// Every path of up to `parts` pieces drawn from a set of awkward ones (empty, `.`, `..`, repeated
/// and trailing slashes), sorted and without repeats: for tests of path handling.
pub fn awkward_paths(parts: usize) -> Vec<String> {
    let pieces = [
        "", "/", "a", "bc", ".", "..", "//", "./", "../", "x.ts", "/.", "/..",
    ];
    let mut paths = vec![String::new()];
    for _ in 0..parts {
        let longer: Vec<String> = paths
            .iter()
            .flat_map(|p| pieces.iter().map(move |q| format!("{p}{q}")))
            .collect();
        paths.extend(longer);
        paths.sort();
        paths.dedup();
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_must_match_exactly() {
        let text = "async function load() {}\n//             ^^^^ explicit-context\n";
        let expected = parse_expectations(text);
        assert_eq!(
            expected,
            vec![Expectation {
                line: 0,
                start: 15,
                end: 19,
                rule: "explicit-context".into()
            }]
        );
        let (workspace, _) = memory_workspace(&[("a.ts", text)]);
        let result = &workspace.check(&|| {})[0];
        assert!(compare(&result.path, text, &result.diagnostics).is_ok());
        // A missing, a shifted and an extra annotation are all failures.
        for wrong in [
            "async function load() {}\n",
            "async function load() {}\n//              ^^^^ explicit-context\n",
            "async function load() {}\n//             ^^^^ explicit-context\n//   ^ layer-boundary\n",
        ] {
            assert!(
                compare(Path::new("a.ts"), wrong, &result.diagnostics).is_err(),
                "{wrong}"
            );
        }
    }
}
