//! `krepis check` as a user runs it: on real files in a temporary folder.

mod support;

use std::path::Path;

use krepis_analyzer::diagnostic::{TextEdit, TextRange, apply_edits};
use krepis_analyzer::line_index::{ColumnUnit, LineIndex, Position};
use serde_json::Value;
use support::run::{check_json, check_json_with, krepis, reported, write};

/// Applies the first fix of each file from the JSON, as an editor or script would.
fn apply_json_fixes(dir: &Path, report: &Value) -> usize {
    let mut done = std::collections::HashSet::new();
    for d in report["diagnostics"].as_array().unwrap() {
        let file = d["file"].as_str().unwrap();
        if d["fix"].is_null() || !done.insert(file.to_string()) {
            continue;
        }
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let index = LineIndex::new(&text);
        let offset = |line: &Value, column: &Value| {
            let position = Position {
                line: line.as_u64().unwrap() as u32 - 1,
                column: column.as_u64().unwrap() as u32 - 1,
            };
            index.offset(&text, position, ColumnUnit::Utf16).unwrap()
        };
        let edits: Vec<TextEdit> = d["fix"]["edits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| TextEdit {
                range: TextRange::new(
                    offset(&e["line"], &e["column"]),
                    offset(&e["end_line"], &e["end_column"]),
                ),
                text: e["text"].as_str().unwrap().to_string(),
            })
            .collect();
        std::fs::write(&path, apply_edits(&text, &edits).0).unwrap();
    }
    done.len()
}

#[test]
fn json_fixes_applied_by_a_client_clear_the_violations() {
    let dir = support::fixtures::fixture_copy("shop");
    let before = check_json(dir.path());
    assert_eq!(before["summary"]["fixable"], 4);
    // Moving `retry`'s context first changes what its callers must pass: unsafe.
    assert_eq!(before["summary"]["unsafe_fixable"], 1);
    for _ in 0..10 {
        let report = check_json(dir.path());
        if apply_json_fixes(dir.path(), &report) == 0 {
            break;
        }
    }
    let after = check_json(dir.path());
    let rules: Vec<&str> = after["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["no-implicit-context", "layer-boundary"],
        "{after:#}"
    );
    assert_eq!(after["summary"]["fixable"], 0);
    let invoice =
        std::fs::read_to_string(dir.path().join("src/billing/application/invoice.ts")).unwrap();
    assert!(
        invoice.contains("export async function tenantOfRequest(ctx: KrepisContext): Promise"),
        "{invoice}"
    );
    let place =
        std::fs::read_to_string(dir.path().join("src/orders/application/place_order.ts")).unwrap();
    assert!(
        place.contains("async retry(ctx: KrepisContext, orderId: string): Promise<void>"),
        "{place}"
    );
}

#[test]
fn columns_count_utf16_code_units() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/a.ts",
        "const s = \"한글😀\"; export async function load(id: string) {}\n",
    );
    let report = check_json(dir.path());
    let d = &report["diagnostics"][0];
    // `한글` is 2 units, the emoji 2: `load` starts at UTF-16 column 41 (1-based).
    assert_eq!(
        (
            d["line"].as_u64(),
            d["column"].as_u64(),
            d["end_column"].as_u64()
        ),
        (Some(1), Some(41), Some(45))
    );
    assert_eq!(d["fix"]["edits"][1]["column"], 46);
}

#[test]
fn config_is_found_upward_and_from_deno_json() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "deno.json",
        r#"{ "imports": { "@core/": "./src/core/" }, "krepis": { "layers": [
            { "name": "core", "paths": ["src/core/**"] },
            { "name": "app", "paths": ["src/app/**"], "allow": ["core"] } ],
            "rules": { "explicit-context": "off", "import-cycle": "off" } } }"#,
    );
    write(
        dir.path(),
        "src/core/a.ts",
        "import { b } from \"../app/b.ts\";\nexport async function a() {}\n",
    );
    write(
        dir.path(),
        "src/app/b.ts",
        "import \"@core/a.ts\";\nexport const b = 1;\n",
    );
    let (stdout, stderr, code) = krepis(
        &dir.path().join("src/app"),
        &["check", "--format", "json", "../core"],
    );
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{report:#}");
    assert_eq!(diagnostics[0]["rule"], "layer-boundary");
    assert_eq!(
        diagnostics[0]["file"],
        format!("{}/src/core/a.ts", dir.path().display())
    );
    // `--config` replaces discovery: here it turns explicit-context back on and layers off.
    write(
        dir.path(),
        "other.json",
        "{ \"layers\": [], \"rules\": { \"import-cycle\": \"off\" } }",
    );
    let (stdout, _, _) = krepis(
        dir.path(),
        &["check", "--format", "json", "--config", "other.json"],
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["explicit-context"]);
}

#[test]
fn broken_configs_name_file_line_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/a.ts", "export const a = 1;\n");
    for (config, expected) in [
        (
            "{\n  \"layers\": [],\n  \"rule\": {}\n}",
            "krepis.json:3: unknown field `rule`, expected one of",
        ),
        (
            "{\n  \"rules\": { \"explicit-context\": \"loud\" }\n}",
            "krepis.json:2: invalid value: string \"loud\", expected \"error\", \"warn\" or \"off\"",
        ),
        (
            "{\n  \"ignore\": \"dist\"\n}",
            "krepis.json:2: invalid type: string \"dist\", expected a sequence",
        ),
        (
            "{ \"layers\": [ { \"name\": \"x\" } ] }",
            "krepis.json:1: missing field `paths`",
        ),
        (
            "{ \"rules\": { \"explicit-context\": [\"error\", { \"inline\": true }] } }",
            "krepis.json:1: rule `explicit-context`: unknown field `inline`, expected `checkInlineCallbacks`",
        ),
        ("{ oops", "krepis.json:1: key must be a string"),
        ("", "krepis.json:1: the file is empty"),
    ] {
        write(dir.path(), "krepis.json", config);
        let (stdout, stderr, code) = krepis(dir.path(), &["check"]);
        assert_eq!(code, 2, "{config}: {stdout}{stderr}");
        assert!(
            stderr.starts_with(&format!("error: {expected}")),
            "{config}\n{stderr}"
        );
    }
}

#[test]
fn gitignore_and_config_ignore_are_respected() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "dist/\n");
    write(dir.path(), "krepis.json", "{ \"ignore\": [\"legacy/**\"] }");
    for path in [
        "dist/a.ts",
        "legacy/b.ts",
        "node_modules/pkg/c.ts",
        "src/ok.ts",
    ] {
        write(
            dir.path(),
            path,
            "export async function f(ctx: KrepisContext) {}\n",
        );
    }
    let report = check_json(dir.path());
    assert_eq!(report["files_checked"], 1);
}

#[test]
fn absurdly_nested_files_get_a_diagnostic_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/parens.ts",
        format!(
            "const x = {}1{};\n",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
    );
    write(
        dir.path(),
        "src/arrows.ts",
        format!("export const f = {}1;\n", "(x) => ".repeat(100_000)),
    );
    write(
        dir.path(),
        "src/fine.ts",
        "export async function ok(id: string) {}\n",
    );
    let report = check_json(dir.path());
    let rules: Vec<(&str, &str)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["file"].as_str().unwrap(), d["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("src/arrows.ts", "syntax-error"),
            ("src/fine.ts", "explicit-context"),
            ("src/parens.ts", "syntax-error")
        ]
    );
    let (_, _, code) = krepis(dir.path(), &["graph", "--modules"]);
    assert_eq!(code, 0);
}

#[test]
fn a_warm_cache_gives_the_same_results_and_follows_changes() {
    let dir = support::fixtures::fixture_copy("propagation");
    let cold = check_json(dir.path());
    assert!(
        dir.path().join(".krepis/cache").is_dir(),
        "the first run writes the cache"
    );
    let warm = check_json(dir.path());
    assert_eq!(warm, cold);
    // A changed file, or a changed setting, is seen at once.
    let ports = dir.path().join("src/orders/application/ports.ts");
    let text = std::fs::read_to_string(&ports).unwrap();
    std::fs::write(
        &ports,
        text.replace(
            "publish(ctx: KrepisContext, topic: string",
            "publish(topic: string",
        ),
    )
    .unwrap();
    let changed = check_json(dir.path());
    assert_ne!(changed["diagnostics"], cold["diagnostics"]);
    write(
        dir.path(),
        "krepis.json",
        "{ \"rules\": { \"explicit-context\": \"off\", \"context-propagation\": \"off\" } }",
    );
    assert_eq!(check_json(dir.path())["diagnostics"], Value::Array(vec![]));
    // A damaged cache is discarded with a note, never trusted.
    std::fs::remove_file(dir.path().join("krepis.json")).unwrap();
    let cache = dir.path().join(".krepis/cache");
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, b"garbage").unwrap();
        }
    }
    let (stdout, stderr, code) = krepis(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let recovered: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(recovered["diagnostics"], changed["diagnostics"]);
    assert!(stderr.contains("note: the cache"), "{stderr}");
    // --no-cache neither reads nor needs it.
    std::fs::remove_dir_all(&cache).unwrap();
    let (_, _, code) = krepis(dir.path(), &["check", "--no-cache"]);
    assert_eq!(code, 1);
    assert!(!cache.exists());
}

#[test]
fn custom_rules_in_typescript_run_per_file_and_fail_safely() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".krepis/rules/no-legacy.ts",
        r#"import type { Facts } from "krepis:prelude";
import { isLegacy, advice } from "./lib/legacy.js";
interface Fn { name: string; name_range: { start: number; end: number } }
export function check(ctx: unknown, module: { path: string; facts: Facts & { functions: Fn[] } }) {
  return module.facts.functions
    .filter((f) => isLegacy(f.name))
    .map((f) => ({ message: advice(f.name), start: f.name_range.start, end: f.name_range.end, severity: "error" }));
}
"#,
    );
    // A helper the rule imports from a folder of its own: not a rule itself.
    write(
        dir.path(),
        ".krepis/rules/lib/legacy.ts",
        "export const isLegacy = (name: string): boolean => name.startsWith(\"legacy\");\nexport const advice = (name: string): string => `\\`${name}\\` is legacy: use the new API`;\n",
    );
    write(
        dir.path(),
        ".krepis/rules/spins.ts",
        "export function check(ctx, module) { if (module.path.endsWith('b.ts')) for (;;) {} return []; }\n",
    );
    write(
        dir.path(),
        "src/a.ts",
        "export function legacyLoad(id: string) { return id; }\nexport function fresh() {}\n",
    );
    write(dir.path(), "src/b.ts", "export const b = 1;\n");
    let report = check_json(dir.path());
    let found: Vec<(String, String, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().into(),
                d["rule"].as_str().unwrap().into(),
                d["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "src/a.ts".to_string(),
                "no-legacy".to_string(),
                "error".to_string()
            ),
            (
                "src/b.ts".to_string(),
                "spins".to_string(),
                "warning".to_string()
            ),
        ],
        "{report:#}"
    );
    let legacy = &report["diagnostics"][0];
    assert_eq!(
        (
            legacy["line"].as_u64(),
            legacy["column"].as_u64(),
            legacy["end_column"].as_u64()
        ),
        (Some(1), Some(17), Some(27))
    );
    assert_eq!(
        legacy["message"].as_str(),
        Some("`legacyLoad` is legacy: use the new API")
    );
    assert!(
        report["diagnostics"][1]["message"]
            .as_str()
            .unwrap()
            .contains("EXECUTION_TIMEOUT")
    );
    // Checked from another folder, the project's rules still run.
    let elsewhere = tempfile::tempdir().unwrap();
    let from_elsewhere = check_json_with(elsewhere.path(), &[dir.path().to_str().unwrap()]);
    let rules: Vec<String> = reported(&from_elsewhere)
        .into_iter()
        .map(|(_, rule)| rule)
        .collect();
    assert_eq!(rules, ["no-legacy", "spins"], "{from_elsewhere:#}");
}

#[test]
fn explain_resolution_lists_every_import_and_the_summary_counts_unresolved_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "package.json", "{}");
    write(
        dir.path(),
        "src/app.ts",
        "import { a } from \"./a.js\";\nimport type { T } from \"./types.js\";\nimport { gone } from \"./gone.ts\";\nimport { z } from \"zod\";\nlet x: import(\"./a.js\").A;\nimport \"./panel.css\";\nexport const y = [a, gone, z];\n",
    );
    write(dir.path(), "src/panel.css", ".panel {}\n");
    write(
        dir.path(),
        "src/a.ts",
        "export const a = 1;\nexport type A = 1;\n",
    );
    write(dir.path(), "src/types.d.ts", "export type T = string;\n");
    let (stdout, stderr, code) =
        krepis(dir.path(), &["check", "--explain-resolution", "src/app.ts"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "src/app.ts: 6 imports", "{stdout}");
    assert!(
        lines[1].ends_with("import \"./a.js\"  → src/a.ts"),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with("import \"./types.js\", types only  → src/types.d.ts"),
        "{stdout}"
    );
    assert!(lines[3].contains("\"./gone.ts\"  → UNRESOLVED"), "{stdout}");
    assert!(
        lines[4].contains("\"zod\"  → outside the project"),
        "{stdout}"
    );
    assert!(
        lines[5].starts_with("  src/app.ts:5:15  type import() \"./a.js\", types only  → src/a.ts"),
        "{stdout}"
    );
    assert!(
        lines[6].ends_with("import \"./panel.css\"  → src/panel.css (not code: no rule reads it)"),
        "{stdout}"
    );
    let (json, _, _) = krepis(
        dir.path(),
        &[
            "check",
            "--explain-resolution",
            "src/app.ts",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["unresolved"], 1);
    assert_eq!(json["imports"][2]["status"], "unresolved");
    assert_eq!(json["imports"][2]["line"], 3);
    assert_eq!(json["imports"][1]["target"], "src/types.d.ts");

    let report = check_json(dir.path());
    assert_eq!(report["summary"]["unresolved_imports"], 1);
    let (_, stderr, _) = krepis(dir.path(), &["check"]);
    assert!(
        stderr.contains(
            "note: 1 local import name no file; `krepis check --explain-resolution FILE`"
        ),
        "{stderr}"
    );
    // A file Krepis does not check is an error, not an empty list.
    write(dir.path(), "README.md", "# x\n");
    let (_, stderr, code) = krepis(dir.path(), &["check", "--explain-resolution", "README.md"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("README.md is not a module Krepis checks"),
        "{stderr}"
    );
    let (_, stderr, code) = krepis(dir.path(), &["check", "--explain-resolution", "src"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("src is a folder; --explain-resolution takes one file"),
        "{stderr}"
    );
    // From another folder, the path is taken relative to it.
    let (stdout, stderr, code) = krepis(
        &dir.path().join("src"),
        &["check", "--explain-resolution", "a.ts"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "a.ts imports nothing.\n");
}

#[test]
fn graph_cycles_lists_every_module_of_every_set() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "package.json", "{}");
    write(
        dir.path(),
        "src/a.ts",
        "import \"./b.ts\";\nimport \"./c.ts\";\n",
    );
    write(dir.path(), "src/b.ts", "import \"./a.ts\";\n");
    write(dir.path(), "src/c.ts", "import \"./d.ts\";\n");
    write(dir.path(), "src/d.ts", "import \"./a.ts\";\n");
    write(dir.path(), "src/e.ts", "import \"./e.ts\";\n");
    write(
        dir.path(),
        "src/t.ts",
        "import type { U } from \"./u.ts\";\nexport type T = 1;\n",
    );
    write(
        dir.path(),
        "src/u.ts",
        "import type { T } from \"./t.ts\";\nexport type U = 1;\n",
    );
    let (stdout, stderr, code) = krepis(dir.path(), &["graph", "--cycles"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "2 import cycles (5 modules in sets that import each other):\n\n1. 4 modules\n   src/a.ts\n   src/b.ts\n   src/c.ts\n   src/d.ts\n\n2. 1 module that imports itself\n   src/e.ts\n"
    );
    let report = check_json(dir.path());
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "import cycles among 4 modules that import each other; one of them: src/a.ts → src/b.ts → src/a.ts",
            "`src/e.ts` imports itself"
        ]
    );
    write(
        dir.path(),
        "krepis.json",
        "{ \"rules\": { \"import-cycle\": [\"warn\", { \"ignoreTypeImports\": false }] } }",
    );
    let (stdout, _, _) = krepis(dir.path(), &["graph", "--cycles"]);
    assert!(stdout.starts_with("3 import cycles"), "{stdout}");
    assert!(stdout.contains("   src/t.ts\n   src/u.ts\n"), "{stdout}");
}
