//! Inputs that made a fuzz target fail (`fuzz/`), kept so the bug stays fixed. Each entry in
//! `tests/regressions/` is named after the target that found it: `config-*` files are settings
//! files separated by NUL bytes, as the `config` target reads them; `fragments-*` folders are the
//! projects `analyzer_fragments` generated (printed with `KREPIS_FUZZ_PRINT=1`), with the
//! `krepis.json` they were checked under.

use std::path::{Path, PathBuf};

use krepis_analyzer::config::{Config, ConfigSource};
use krepis_analyzer::jsonc;
use krepis_analyzer::testing::fix_invariants;

fn regressions(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|path| {
            // Folders (whole projects) are named here and read by the test.
            let bytes = if path.is_dir() {
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no `{prefix}` inputs in {}", dir.display());
    out
}

fn line_breaks(text: &str) -> Vec<usize> {
    text.match_indices('\n').map(|(i, _)| i).collect()
}

/// Every `config-*` input: comment stripping keeps lengths and lines, errors name a line of the
/// file, and a valid configuration's fixes parse.
///
/// `config-block-comment-line-breaks`: a `/*` outside any string (the fuzzer cut a string short)
/// opened a block comment across lines, and stripping it blanked the line breaks too, so JSON
/// errors after it named the wrong line.
#[test]
fn settings_files_keep_their_lines_through_comment_stripping() {
    for (name, bytes) in regressions("config-") {
        for part in bytes.split(|&b| b == 0) {
            let text = String::from_utf8_lossy(part);
            let json = jsonc::to_json(&text);
            assert_eq!(json.len(), text.len(), "{name}");
            assert_eq!(line_breaks(&json), line_breaks(&text), "{name}");
            let file = PathBuf::from("/project/krepis.json");
            let dir = Path::new("/project");
            match Config::parse(&text, ConfigSource::File(file.clone()), dir, &file) {
                Err(error) => {
                    let lines = text.split('\n').count();
                    let line = error.line.unwrap_or(1);
                    assert!((1..=lines).contains(&line), "{name}: {error}");
                }
                // What a valid configuration makes the fixes write still parses.
                Ok(_) => {
                    let module = "export async function show(id: string) { return id; }\n";
                    if let Err(failure) = fix_invariants(&[("src/a.ts", module)], Some(&text)) {
                        panic!("{name}: {failure}");
                    }
                }
            }
        }
    }
}

/// `config-context-type-not-an-identifier`: `context.type` was `R\u{FFFD}…ntext`, accepted, and the
/// `explicit-context` fix wrote it into code that no longer parsed. The context's type and
/// parameter must be identifiers, and its module fit in a string literal.
#[test]
fn the_context_names_must_be_identifiers() {
    let file = PathBuf::from("/project/krepis.json");
    let parse = |context: &str| {
        let text = format!("{{\n  \"context\": {context}\n}}\n");
        Config::parse(
            &text,
            ConfigSource::File(file.clone()),
            Path::new("/project"),
            &file,
        )
    };
    for bad in [
        r#"{ "type": "R\ufffdntext" }"#,
        r#"{ "type": "Ctx<T>" }"#,
        r#"{ "type": "core.Ctx" }"#,
        r#"{ "param": "my-ctx" }"#,
        r#"{ "param": "class" }"#,
        r#"{ "module": "a\"b" }"#,
        r#"{ "module": "line\nbreak" }"#,
    ] {
        let error = parse(bad).expect_err(bad);
        assert_eq!(error.line, Some(2), "{bad}: {error}");
        assert!(error.message.contains("context."), "{bad}: {error}");
    }
    for good in [
        r#"{ "type": "RequestContext", "param": "rc" }"#,
        r#"{ "type": "Kontext\u00e9", "param": "$ctx", "module": "~platform/context.ts" }"#,
    ] {
        assert!(parse(good).is_ok(), "{good}");
    }
}

/// A JSON error after a multi-line block comment names the line it is on.
#[test]
fn config_errors_after_block_comments_name_the_right_line() {
    let text = "{\n  /* the layers\n     come later */\n  \"layers\": nope\n}\n";
    let file = PathBuf::from("/project/krepis.json");
    let error = Config::parse(
        text,
        ConfigSource::File(file.clone()),
        Path::new("/project"),
        &file,
    )
    .unwrap_err();
    assert_eq!(error.line, Some(4), "{error}");
}

/// The modules under `dir` (relative `/`-separated paths) and its `krepis.json`, if any.
fn project(dir: &Path) -> (Vec<(String, String)>, Option<String>) {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e != "json") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((relative.replace('\\', "/"), text));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    (files, std::fs::read_to_string(dir.join("krepis.json")).ok())
}

/// `fragments-export-star-cycle/`: `place_order.ts` re-exports everything of `http.tsx`, which
/// re-exports from `place_order.ts`. Looking up a name neither declares went round the
/// `export *` cycle until the stack overflowed (the guard only caught a module re-exporting
/// itself).
#[test]
fn export_star_cycles_end() {
    let files = [
        (
            "src/a.ts",
            "export * from \"./b\";\nexport { g } from \"./c\";\n",
        ),
        ("src/b.ts", "export * from \"./a\";\n"),
        (
            "src/c.ts",
            "import type { KrepisContext } from \"@krepis/core\";\nimport { missing, g } from \"./a\";\nexport async function f(ctx: KrepisContext) { await missing(); await g(); }\n",
        ),
    ];
    fix_invariants(&files, None).unwrap();
    for (name, _) in regressions("fragments-") {
        let (files, config) = project(Path::new(&name));
        assert!(!files.is_empty(), "{name}");
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        if let Err(failure) = fix_invariants(&refs, config.as_deref()) {
            panic!("{name}: {failure}");
        }
    }
}
