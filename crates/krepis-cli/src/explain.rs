//! `krepis check --explain-resolution FILE`: each import of one module, what it resolved to, and
//! where each name it takes through barrels is defined.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use krepis_analyzer::facts::{ImportFact, ImportKind};
use krepis_analyzer::line_index::{ColumnUnit, LineIndex};
use krepis_analyzer::resolve::Resolution;
use krepis_analyzer::workspace::Workspace;
use serde_json::json;

use crate::Format;
use crate::output::display_path;

fn kind_name(import: &ImportFact) -> &'static str {
    match import.kind {
        ImportKind::Static => "import",
        ImportKind::ReExport => "re-export",
        ImportKind::Dynamic => "import()",
        ImportKind::Require => "require",
        ImportKind::ImportEquals => "import =",
        ImportKind::ImportType => "type import()",
    }
}

/// Prints the imports of `file` (which `workspace` checks) and what each resolved to.
pub fn explain(workspace: &Workspace, file: &Path, format: Format, cwd: &Path) -> ExitCode {
    let wanted = krepis_analyzer::resolve::normalize(&cwd.join(file));
    let db = workspace.db();
    let found = workspace
        .checked_files()
        .iter()
        .copied()
        .find(|f| f.path(db) == &wanted);
    let Some(source) = found else {
        if wanted.is_dir() {
            eprintln!(
                "error: {} is a folder; --explain-resolution takes one file",
                display_path(file, cwd)
            );
            return ExitCode::from(2);
        }
        eprintln!(
            "error: {} is not a module Krepis checks (an ignored file, or not TypeScript or JavaScript)",
            display_path(file, cwd)
        );
        return ExitCode::from(2);
    };
    let path = source.path(db).clone();
    let text = source.text(db).clone();
    let index = LineIndex::new(&text);
    let imports = workspace.resolutions(source);
    // Names taken through barrels, by import: where each is defined, and what passes it on.
    let traced = krepis_analyzer::barrels::traced_imports(db, source).clone();
    let traced_of = |i: usize| -> Vec<(String, String, Vec<String>)> {
        traced
            .iter()
            .filter(|t| t.import as usize == i)
            .filter_map(|t| {
                let name = imports.get(i)?.0.names.get(t.name as usize)?;
                Some((
                    name.imported.to_string(),
                    display_path(&t.origin, cwd),
                    t.through.iter().map(|p| display_path(p, cwd)).collect(),
                ))
            })
            .collect()
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if format == Format::Json {
        let rows: Vec<_> = imports
            .iter()
            .enumerate()
            .map(|(i, (import, resolution))| {
                let at = index.position(&text, import.range.start, ColumnUnit::Utf16);
                let (status, target) = match resolution {
                    Resolution::File(target) => ("file", Some(display_path(target, cwd))),
                    Resolution::External => ("external", None),
                    Resolution::Asset(target) => ("asset", Some(display_path(target, cwd))),
                    Resolution::Unresolved => ("unresolved", None),
                };
                json!({
                    "specifier": import.specifier.as_str(),
                    "line": at.line + 1,
                    "column": at.column + 1,
                    "kind": kind_name(import),
                    "type_only": import.is_type_only(),
                    "status": status,
                    "target": target,
                    "traced": traced_of(i)
                        .into_iter()
                        .map(|(name, origin, through)| {
                            json!({ "name": name, "defined_in": origin, "through": through })
                        })
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        let unresolved = imports
            .iter()
            .filter(|(_, r)| matches!(r, Resolution::Unresolved))
            .count();
        serde_json::to_writer_pretty(
            &mut stdout,
            &json!({
                "file": display_path(&path, cwd),
                "imports": rows,
                "unresolved": unresolved,
            }),
        )
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(stdout))
    } else {
        write_text(&mut stdout, &path, &text, &index, &imports, &traced_of, cwd)
    };
    if let Err(error) = written.and_then(|()| stdout.flush())
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write output: {error}");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn write_text(
    out: &mut impl Write,
    path: &Path,
    text: &str,
    index: &LineIndex,
    imports: &[(ImportFact, Resolution)],
    traced_of: &dyn Fn(usize) -> Vec<(String, String, Vec<String>)>,
    cwd: &Path,
) -> std::io::Result<()> {
    let shown = display_path(path, cwd);
    if imports.is_empty() {
        return writeln!(out, "{shown} imports nothing.");
    }
    let count = imports.len();
    writeln!(
        out,
        "{shown}: {count} import{}",
        if count == 1 { "" } else { "s" }
    )?;
    for (i, (import, resolution)) in imports.iter().enumerate() {
        let at = index.position(text, import.range.start, ColumnUnit::Utf16);
        let what = match resolution {
            Resolution::File(target) => display_path(target, cwd),
            Resolution::External => "outside the project (a package, built-in or URL)".to_string(),
            Resolution::Asset(target) => {
                format!("{} (not code: no rule reads it)", display_path(target, cwd))
            }
            Resolution::Unresolved => {
                "UNRESOLVED: looks local, but no file matches (tried the path as is, with \
                 .ts/.tsx/.d.ts and the other extensions, and as a folder's index)"
                    .to_string()
            }
        };
        let types = if import.is_type_only() {
            ", types only"
        } else {
            ""
        };
        writeln!(
            out,
            "  {shown}:{}:{}  {} {:?}{types}  → {what}",
            at.line + 1,
            at.column + 1,
            kind_name(import),
            import.specifier.as_str(),
        )?;
        for (name, origin, through) in traced_of(i) {
            writeln!(
                out,
                "      `{name}` is defined in {origin} (passed on by {})",
                through.join(" → ")
            )?;
        }
    }
    Ok(())
}
