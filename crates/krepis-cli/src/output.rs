//! Rendering diagnostics: text with code frames, JSON (a public contract), SARIF and GitHub.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use krepis_analyzer::FileResult;
use krepis_analyzer::diagnostic::{Diagnostic, Severity, TextRange};
use krepis_analyzer::line_index::{ColumnUnit, LineIndex};
use krepis_analyzer::rules::RuleId;
use serde_json::{Value, json};
use std::rc::Rc;

/// A path relative to `cwd` with `/` separators, or absolute when it is elsewhere.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    krepis_analyzer::config::slash_path(shown)
}

/// A 1-based line and UTF-16 column range.
#[derive(Debug, Clone, Copy)]
pub struct Location {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

pub fn locate(index: &LineIndex, text: &str, range: TextRange) -> Location {
    let start = index.position(text, range.start, ColumnUnit::Utf16);
    let end = index.position(text, range.end, ColumnUnit::Utf16);
    Location {
        line: start.line + 1,
        column: start.column + 1,
        end_line: end.line + 1,
        end_column: end.column + 1,
    }
}

/// One file's results. Its text is read when output reaches the file, and let go after it: a
/// lean check keeps no texts, and holding those of every file with findings at once cost as
/// much memory as a fifth of the project's facts.
pub struct FileReport<'a> {
    pub path: String,
    pub result: &'a FileResult,
    pub diagnostics: &'a [Diagnostic],
}

/// The text of the file output is at, and where its lines start.
struct Source {
    text: std::sync::Arc<str>,
    index: LineIndex,
}

/// A file as output sees it while writing its findings.
pub struct FileView<'r> {
    pub path: &'r str,
    source: Rc<Source>,
}

impl FileView<'_> {
    pub fn text(&self) -> &str {
        &self.source.text
    }

    pub fn index(&self) -> &LineIndex {
        &self.source.index
    }
}

/// Everything a check found.
pub struct Report<'a> {
    pub files: Vec<FileReport<'a>>,
    pub files_checked: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Diagnostics with a safe fix: exactly what a plain `krepis fix` applies.
    pub fixable: usize,
    /// Diagnostics whose fix only `krepis fix --unsafe` applies.
    pub unsafe_fixable: usize,
    /// Findings a baseline accepts, left out of the report.
    pub baselined: usize,
    /// Baseline entries that match no finding any more.
    pub stale_baseline: usize,
    /// Imports of the checked modules that look local but name no file.
    pub unresolved_imports: usize,
}

impl<'a> Report<'a> {
    pub fn new(results: &'a [FileResult], cwd: &Path) -> Self {
        let mut report = Report {
            files: Vec::new(),
            files_checked: results.len(),
            errors: 0,
            warnings: 0,
            fixable: 0,
            unsafe_fixable: 0,
            baselined: 0,
            stale_baseline: 0,
            unresolved_imports: 0,
        };
        for result in results {
            for d in result.diagnostics.iter() {
                match d.severity {
                    Severity::Error => report.errors += 1,
                    Severity::Warning => report.warnings += 1,
                    Severity::Info | Severity::Hint => {}
                }
                match &d.fix {
                    Some(fix) if fix.is_safe() => report.fixable += 1,
                    Some(_) => report.unsafe_fixable += 1,
                    None => {}
                }
            }
            if !result.diagnostics.is_empty() {
                report.files.push(FileReport {
                    path: display_path(&result.path, cwd),
                    result,
                    diagnostics: &result.diagnostics,
                });
            }
        }
        // Sorted by file, then by line and column: the contract of every format.
        report.files.sort_by(|a, b| a.path.cmp(&b.path));
        report
    }

    /// Where every file's findings are. Reading the texts and counting columns is most of the
    /// work of a format that shows no code: done for all files at once, in parallel.
    fn locate(&self) -> Vec<Located> {
        use rayon::prelude::*;
        self.files.par_iter().map(Located::of).collect()
    }

    /// Every finding in order, with its file, where it is and where its fix's edits are, as
    /// `located` (from [`Report::locate`]) says.
    fn each_located<'r>(
        &'r self,
        located: &'r [Located],
    ) -> impl Iterator<Item = (&'r FileReport<'a>, &'r Diagnostic, Location, &'r [Location])> {
        self.files.iter().zip(located).flat_map(|(file, located)| {
            located
                .each(file)
                .map(move |(d, at, edits)| (file, d, at, edits))
        })
    }

    /// Every finding in order, with its file's text (for code frames) and where it is; each
    /// file's text is read when the iteration reaches it and let go after it.
    fn each(&self) -> impl Iterator<Item = (FileView<'_>, &Diagnostic, Location)> {
        self.files.iter().flat_map(|f| {
            let text = f.result.source();
            let index = LineIndex::new(&text);
            let source = Rc::new(Source { text, index });
            f.diagnostics.iter().map(move |d| {
                let at = locate(&source.index, &source.text, d.range);
                let view = FileView {
                    path: &f.path,
                    source: source.clone(),
                };
                (view, d, at)
            })
        })
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Code frames like rustc's, then a one-line summary.
pub fn write_text(out: &mut impl Write, report: &Report<'_>, elapsed: Duration) -> io::Result<()> {
    let renderer = if anstream::stdout().current_choice() == anstream::ColorChoice::Never {
        Renderer::plain()
    } else {
        Renderer::styled()
    };
    for (file, d, loc) in report.each() {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Info | Severity::Hint => Level::INFO,
        };
        // Only the lines of the span go to the renderer, so large files cost nothing extra.
        let first_line = loc.line - 1;
        let last_line = (loc.end_line - 1).min(first_line + 5);
        let start = file.index().line_start(first_line).unwrap_or(0) as usize;
        let end = file
            .index()
            .line_range(file.text(), last_line)
            .map_or(file.text().len(), |r| r.end);
        let source = &file.text()[start..end];
        let span_start = (d.range.start as usize)
            .saturating_sub(start)
            .min(source.len());
        let span_end = (d.range.end as usize)
            .saturating_sub(start)
            .clamp(span_start, source.len());
        let label = match &d.fix {
            Some(fix) if fix.is_safe() => format!("fix: {}", fix.description),
            Some(fix) => format!("unsafe fix: {}", fix.description),
            None => String::new(),
        };
        let mut group = level
            .primary_title(d.message.as_str())
            .id(d.rule_name())
            .element(
                Snippet::source(source)
                    .line_start(loc.line as usize)
                    .path(file.path)
                    .annotation(
                        AnnotationKind::Primary
                            .span(span_start..span_end)
                            .label(label),
                    ),
            );
        if let Some(note) = &d.note {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        let groups: Vec<Group<'_>> = vec![group];
        writeln!(out, "{}\n", renderer.render(&groups))?;
    }
    let problems = report.errors + report.warnings;
    let seconds = elapsed.as_secs_f64();
    let baselined = if report.baselined > 0 {
        format!(", {} in the baseline", report.baselined)
    } else {
        String::new()
    };
    if problems == 0 {
        writeln!(
            out,
            "No problems in {}{baselined} ({seconds:.2}s).",
            plural(report.files_checked, "file")
        )
    } else {
        let mut fixable = if report.fixable > 0 {
            format!(", {} fixable", report.fixable)
        } else {
            String::new()
        };
        if report.unsafe_fixable > 0 {
            fixable.push_str(&format!(
                ", {} more with `krepis fix --unsafe`",
                report.unsafe_fixable
            ));
        }
        writeln!(
            out,
            "Found {} and {} in {} of {} checked{fixable}{baselined} ({seconds:.2}s).",
            plural(report.errors, "error"),
            plural(report.warnings, "warning"),
            plural(report.files.len(), "file"),
            report.files_checked,
        )
    }
}

/// The JSON object of DESIGN §4, written as it is made: no tree of values in between.
pub fn write_json(out: &mut impl Write, report: &Report<'_>) -> io::Result<()> {
    let head = JsonHead {
        version: 1,
        files_checked: report.files_checked,
        summary: JsonSummary {
            errors: report.errors,
            warnings: report.warnings,
            fixable: report.fixable,
            unsafe_fixable: report.unsafe_fixable,
            baselined: report.baselined,
            stale_baseline: report.stale_baseline,
            unresolved_imports: report.unresolved_imports,
        },
    };
    // The report is what `serde_json::to_writer_pretty` makes of `{ …head, "diagnostics": [...] }`,
    // written in pieces: the diagnostics of a batch of files are serialised in parallel (a
    // large project has megabytes of them), each at the depth it takes in the whole.
    let mut head = serde_json::to_vec_pretty(&head)?;
    // The head without its closing brace: the diagnostics come before it.
    head.truncate(head.len() - "\n}".len());
    out.write_all(&head)?;
    out.write_all(b",\n  \"diagnostics\": [")?;
    let located = report.locate();
    let mut first = true;
    for (files, located) in report
        .files
        .chunks(JSON_BATCH_FILES)
        .zip(located.chunks(JSON_BATCH_FILES))
    {
        use rayon::prelude::*;
        let pieces: Vec<Vec<u8>> = files
            .par_iter()
            .zip(located)
            .map(|(file, located)| json_file_diagnostics(file, located))
            .collect::<serde_json::Result<_>>()?;
        for piece in pieces.iter().filter(|p| !p.is_empty()) {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            out.write_all(piece)?;
            first = false;
        }
    }
    out.write_all(if first { b"]\n}\n" } else { b"\n  ]\n}\n" })
}

/// How many files' diagnostics are serialised at once: enough to keep every thread busy, few
/// enough that the pieces waiting to be written stay small.
const JSON_BATCH_FILES: usize = 64;

/// One file's diagnostics as elements of the report's `diagnostics` array: pretty-printed,
/// indented by the array's depth, separated by `,\n` (empty without diagnostics).
fn json_file_diagnostics(file: &FileReport<'_>, located: &Located) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    for (k, (d, at, edits)) in located.each(file).enumerate() {
        if k > 0 {
            out.extend_from_slice(b",\n");
        }
        let element = serde_json::to_vec_pretty(&json_diagnostic(file, d, at, edits))?;
        // Two levels deep: a JSON string never holds a raw line break, so every one in the
        // text is the formatter's.
        out.extend_from_slice(b"    ");
        for &byte in &element {
            out.push(byte);
            if byte == b'\n' {
                out.extend_from_slice(b"    ");
            }
        }
    }
    Ok(out)
}

fn json_diagnostic<'r>(
    file: &'r FileReport<'_>,
    d: &'r Diagnostic,
    loc: Location,
    edits: &[Location],
) -> JsonDiagnostic<'r> {
    JsonDiagnostic {
        file: &file.path,
        rule: d.rule_name(),
        severity: d.severity.as_str(),
        message: &d.message,
        note: d.note.as_deref(),
        line: loc.line,
        column: loc.column,
        end_line: loc.end_line,
        end_column: loc.end_column,
        fix: d.fix.as_ref().map(|fix| JsonFix {
            description: &fix.description,
            applicability: fix.applicability.as_str(),
            edits: fix
                .edits
                .iter()
                .zip(edits)
                .map(|(e, at)| JsonEdit {
                    file: &file.path,
                    line: at.line,
                    column: at.column,
                    end_line: at.end_line,
                    end_column: at.end_column,
                    text: &e.text,
                })
                .collect(),
        }),
    }
}

#[derive(serde::Serialize)]
struct JsonHead {
    version: u32,
    files_checked: usize,
    summary: JsonSummary,
}

#[derive(serde::Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    fixable: usize,
    unsafe_fixable: usize,
    baselined: usize,
    stale_baseline: usize,
    unresolved_imports: usize,
}

/// Where one file's findings are: each diagnostic's place and those of its fix's edits.
struct Located {
    at: Vec<Location>,
    edits: Vec<Vec<Location>>,
}

impl Located {
    /// `file`'s diagnostics, each with where it is and where its fix's edits are.
    fn each<'r>(
        &'r self,
        file: &'r FileReport<'_>,
    ) -> impl Iterator<Item = (&'r Diagnostic, Location, &'r [Location])> {
        file.diagnostics
            .iter()
            .zip(&self.at)
            .zip(&self.edits)
            .map(|((d, &at), edits)| (d, at, edits.as_slice()))
    }

    /// Reads the file's text, works out every place and lets the text go.
    fn of(file: &FileReport<'_>) -> Located {
        let text = file.result.source();
        let index = LineIndex::new(&text);
        let place = |range| locate(&index, &text, range);
        Located {
            at: file.diagnostics.iter().map(|d| place(d.range)).collect(),
            edits: file
                .diagnostics
                .iter()
                .map(|d| {
                    d.fix
                        .iter()
                        .flat_map(|fix| &fix.edits)
                        .map(|e| place(e.range))
                        .collect()
                })
                .collect(),
        }
    }
}

#[derive(serde::Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
    note: Option<&'a str>,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    fix: Option<JsonFix<'a>>,
}

#[derive(serde::Serialize)]
struct JsonFix<'a> {
    description: &'a str,
    applicability: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(serde::Serialize)]
struct JsonEdit<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    text: &'a str,
}

/// The message and, on the next line, the note (the why, or the team's reason), for outputs that
/// have one text per finding.
fn with_note(d: &Diagnostic) -> String {
    match &d.note {
        Some(note) => format!("{}\n{note}", d.message),
        None => d.message.clone(),
    }
}

/// SARIF 2.1.0 with UTF-16 columns, one run, the rules that fired described with their links.
pub fn write_sarif(out: &mut impl Write, report: &Report<'_>) -> io::Result<()> {
    let rules: Vec<Value> = RuleId::CONFIGURABLE
        .iter()
        .chain(std::iter::once(&RuleId::SyntaxError))
        .map(|r| {
            let summary = r
                .docs()
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .unwrap_or("");
            json!({
                "id": r.as_str(),
                "shortDescription": { "text": summary },
                "helpUri": r.url(),
            })
        })
        .collect();
    let located = report.locate();
    let results: Vec<Value> = report
        .each_located(&located)
        .map(|(file, d, loc, _)| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Hint => "note",
            };
            json!({
                "ruleId": d.rule_name(),
                "level": level,
                "message": { "text": with_note(d) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": file.path },
                    "region": { "startLine": loc.line, "startColumn": loc.column, "endLine": loc.end_line, "endColumn": loc.end_column },
                }}],
            })
        })
        .collect();
    let value = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "krepis",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/krepis/krepis",
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}

fn escape_github(value: &str, property: bool) -> String {
    let mut s = value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s = s.replace(':', "%3A").replace(',', "%2C");
    }
    s
}

/// GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request.
pub fn write_github(out: &mut impl Write, report: &Report<'_>) -> io::Result<()> {
    let located = report.locate();
    for (file, d, loc, _) in report.each_located(&located) {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Hint => "notice",
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_github(&file.path, true),
            loc.line,
            loc.column,
            loc.end_line,
            loc.end_column,
            escape_github(&format!("krepis({})", d.rule_name()), true),
            escape_github(&with_note(d), false),
        )?;
    }
    Ok(())
}
