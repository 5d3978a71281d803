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

fn memory_workspace(files: &[(&str, &str)]) -> (Workspace, PathBuf) {
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

/// The diagnostics of one file checked alone with the default config.
pub fn check_source(path: &str, text: &str) -> Vec<Diagnostic> {
    let (workspace, _) = memory_workspace(&[(path, text)]);
    workspace.check(&|| {}).remove(0).diagnostics.to_vec()
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
        let Some(fix) = result.diagnostics.iter().find_map(|d| d.fix.clone()) else {
            return text;
        };
        text = apply_edits(&text, &fix.edits).0;
    }
    text
}

/// Rounds of fixing before [`fix_invariants`] calls the fixes non-converging (as `krepis fix`).
pub const MAX_FIX_ROUNDS: usize = 10;

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

/// Every diagnostic and fix edit of `text` lies inside it on character boundaries, and each
/// fix's edits are sorted and do not overlap (what [`crate::diagnostic::Fix`] promises).
fn check_diagnostics(text: &str, diagnostics: &[Diagnostic]) -> Result<(), String> {
    for d in diagnostics {
        check_range(text, d.range, &format!("`{}` range", d.rule_name()))?;
        let Some(fix) = &d.fix else { continue };
        if fix.edits.is_empty() {
            return Err(format!("`{}` offers a fix without edits", d.rule_name()));
        }
        for (i, edit) in fix.edits.iter().enumerate() {
            check_range(text, edit.range, &format!("`{}` fix edit", d.rule_name()))?;
            if let Some(next) = fix.edits.get(i + 1)
                && (next.range.start < edit.range.end
                    || next.range.start == edit.range.start && next.range.end <= edit.range.end)
            {
                return Err(format!(
                    "`{}` fix edits overlap or are out of order: {:?} then {:?}",
                    d.rule_name(),
                    edit.range,
                    next.range
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
            let merged = crate::fix::merge_fixes(&result.diagnostics);
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
