//! `krepis fix` and `krepis undo`: rewriting files through the journal.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use krepis_analyzer::db::SourceFile;
use krepis_analyzer::diagnostic::{Diagnostic, TextEdit, apply_edits};
use krepis_analyzer::facts;
use krepis_analyzer::fix::merge_fixes_in_round;
use krepis_analyzer::rules::RuleId;
use krepis_kernel::{FileChange, Journal, JournalError, Transaction, TxState};

use crate::output;

const BOM: &[u8] = b"\xef\xbb\xbf";

/// The folder whose `.krepis/` holds the journal: the nearest one above `cwd` that already has
/// one, else the nearest project root (config, `deno.json`, `.git`), else `cwd`.
pub fn project_root(cwd: &Path) -> PathBuf {
    if let Some(dir) = cwd.ancestors().find(|d| d.join(".krepis").is_dir()) {
        return dir.to_path_buf();
    }
    let markers = ["krepis.json", "deno.json", "deno.jsonc", ".git"];
    cwd.ancestors()
        .find(|d| markers.iter().any(|m| d.join(m).exists()))
        .unwrap_or(cwd)
        .to_path_buf()
}

fn open_journal(root: &Path) -> Result<Journal, ExitCode> {
    Journal::open(root).map_err(|error| {
        let hint = if error.to_string().contains("lock") {
            "\nanother `krepis fix` or `krepis undo` may be running"
        } else {
            ""
        };
        eprintln!("error: {error}{hint}");
        ExitCode::from(2)
    })
}

fn describe(tx: &Transaction) -> String {
    format!("transaction {} (`{}`)", tx.id, tx.command)
}

/// The command line, for the journal.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("krepis {}", args.join(" "))
}

/// The line break a file uses: `\r\n`, a lone `\r` (old Mac files), else `\n`.
fn line_break(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else if text.contains('\r') && !text.contains('\n') {
        "\r"
    } else {
        "\n"
    }
}

/// Writes inserted line breaks the way the file writes its own.
fn with_line_endings(edits: Vec<TextEdit>, line_break: &str) -> Vec<TextEdit> {
    if line_break == "\n" {
        return edits;
    }
    edits
        .into_iter()
        .map(|mut e| {
            e.text = e.text.replace("\r\n", "\n").replace('\n', line_break);
            e
        })
        .collect()
}

pub struct FixOptions {
    pub paths: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub dry_run: bool,
    /// `--unsafe`: unsafe fixes too.
    pub unsafe_fixes: bool,
    /// `--no-baseline`: fix what the baseline accepts too.
    pub no_baseline: bool,
}

pub fn fix(options: FixOptions) -> ExitCode {
    let started = Instant::now();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = project_root(&cwd);
    // An existing journal is opened first, to refuse while a transaction is unfinished; a new
    // one is only created when there is something to write.
    let journal = if options.dry_run || !root.join(".krepis").join("journal").exists() {
        None
    } else {
        match open_journal(&root) {
            Ok(journal) => Some(journal),
            Err(code) => return code,
        }
    };
    if let Some(journal) = &journal {
        match journal.incomplete() {
            Ok(pending) if !pending.is_empty() => {
                for tx in pending {
                    eprintln!(
                        "error: {} did not finish; run `krepis undo {}` to restore its files first",
                        describe(&tx),
                        tx.id
                    );
                }
                return ExitCode::from(2);
            }
            Ok(_) => {}
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        }
    }
    let mut workspace = match crate::load(&options.paths, options.config, &cwd) {
        Ok(workspace) => workspace,
        Err(code) => return code,
    };
    // What the baseline accepts is left as it is, as `check` leaves it out.
    let accepted = if options.no_baseline {
        crate::baseline::Accepted::default()
    } else {
        match crate::baseline::Accepted::load(&workspace, None) {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        }
    };
    let mut originals: HashMap<PathBuf, Arc<str>> = HashMap::new();
    let mut rounds = FixRounds {
        originals: &mut originals,
        dropped: Vec::new(),
        fixed: 0,
        unsafe_fixes: options.unsafe_fixes,
        cwd: &cwd,
        accepted: &accepted,
    };
    rounds.run(&mut workspace, None);
    // Files the config ignores (tests, say) are not checked, but a signature that gained the
    // context must not leave them behind: their calls are threaded, and their implementations
    // of project types follow the types (the rules report nothing else there).
    let ignored = workspace.ignored_files().to_vec();
    if !ignored.is_empty() {
        rounds.run(&mut workspace, Some(&ignored));
    }
    let fixed = rounds.fixed;
    mark_unread_contexts(&mut workspace, &originals);
    // What to write: files whose text changed, with their byte-order mark kept.
    let mut changes: Vec<(PathBuf, String, String)> = Vec::new();
    for (path, original) in &originals {
        let Some(file) = workspace.file(path) else {
            continue;
        };
        let current = workspace.snapshot().text(file);
        if *current != **original {
            changes.push((path.clone(), original.to_string(), current.to_string()));
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut stdout = anstream::stdout();
    if options.dry_run {
        for (path, old, new) in &changes {
            let shown = output::display_path(path, &cwd);
            let diff = similar::TextDiff::from_lines(old, new);
            let _ = write!(
                stdout,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        }
        let _ = writeln!(
            stdout,
            "{fixed} fixes in {} files would be applied (dry run: nothing written).",
            changes.len()
        );
        return remaining(&workspace, &accepted, &cwd, started, &mut stdout);
    }
    if !changes.is_empty() {
        let mut file_changes = Vec::with_capacity(changes.len());
        for (path, old, new) in &changes {
            let had_bom = std::fs::read(path)
                .map(|bytes| bytes.starts_with(BOM))
                .unwrap_or(false);
            let with_bom = |text: &str| {
                let mut bytes = Vec::with_capacity(text.len() + 3);
                if had_bom {
                    bytes.extend_from_slice(BOM);
                }
                bytes.extend_from_slice(text.as_bytes());
                bytes
            };
            // The fix was computed from `old`: if the file holds anything else now (an edit
            // saved meanwhile), the journal refuses rather than overwrite it.
            file_changes.push(FileChange {
                path: path.clone(),
                new: Some(with_bom(new)),
                base_hash: Some(krepis_kernel::journal::content_hash(&with_bom(old))),
            });
        }
        let journal = match journal {
            Some(journal) => journal,
            None => match open_journal(&root) {
                Ok(journal) => journal,
                Err(code) => return code,
            },
        };
        match journal.apply(&command_line(), &file_changes) {
            Ok(tx) => {
                for (path, _, _) in &changes {
                    let _ = writeln!(stdout, "fixed {}", output::display_path(path, &cwd));
                }
                let _ = writeln!(
                    stdout,
                    "Fixed {fixed} problems in {} files (transaction {}; `krepis undo` restores them).\n",
                    changes.len(),
                    tx.id
                );
            }
            Err(error) => {
                let prefix = format!("{}{}", cwd.display(), std::path::MAIN_SEPARATOR);
                eprintln!("error: {}", error.to_string().replace(&prefix, ""));
                return ExitCode::from(2);
            }
        }
    } else {
        let _ = writeln!(stdout, "Nothing to fix.\n");
    }
    remaining(&workspace, &accepted, &cwd, started, &mut stdout)
}

/// Under `noUnusedParameters`, a context the fix added to a function that never reads it (a leaf:
/// an in-memory adapter, a flag lookup) would be a compile error: it is named `_ctx` instead, as
/// TypeScript allows.
fn mark_unread_contexts(
    workspace: &mut krepis_analyzer::Workspace,
    originals: &HashMap<PathBuf, Arc<str>>,
) {
    for (path, original) in originals {
        if !workspace.no_unused_parameters(path) {
            continue;
        }
        let Some(file) = workspace.file(path) else {
            continue;
        };
        let text = workspace.snapshot().text(file);
        let config = workspace.snapshot().config_for(path);
        let context = &config.context;
        let added = format!("{}: {}", context.param, context.type_name);
        let before = facts::extract(path, original);
        let had_context = |f: &facts::FunctionFact| {
            before.functions.iter().any(|b| {
                b.name == f.name
                    && b.container == f.container
                    && b.params.iter().any(|p| p.text == *added)
            })
        };
        let after = facts::extract(path, &text);
        let mut edits = Vec::new();
        for function in &after.functions {
            let Some(first) = function.params.first() else {
                continue;
            };
            if first.text != *added || !function.has_body || had_context(function) {
                continue;
            }
            let body = text
                .get(function.params_range.end as usize..function.range.end as usize)
                .unwrap_or("");
            let reads = body.match_indices(context.param.as_str()).any(|(at, _)| {
                let before = body[..at].chars().next_back();
                let after = body[at + context.param.len()..].chars().next();
                let ident = |c: Option<char>| {
                    c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
                };
                !ident(before) && !ident(after)
            });
            if !reads {
                edits.push(TextEdit {
                    range: krepis_analyzer::diagnostic::TextRange::new(
                        first.range.start,
                        first.range.start + context.param.len() as u32,
                    ),
                    text: format!("_{}", context.param),
                });
            }
        }
        if !edits.is_empty() {
            let (new_text, _) = apply_edits(&text, &edits);
            workspace.set_text(path, &new_text);
        }
    }
}

/// Fixing in rounds: a fix can enable another (a moved parameter, then a call that passes it).
struct FixRounds<'a> {
    originals: &'a mut HashMap<PathBuf, Arc<str>>,
    /// Files whose fixes would not parse: left alone.
    dropped: Vec<PathBuf>,
    fixed: usize,
    unsafe_fixes: bool,
    cwd: &'a Path,
    accepted: &'a crate::baseline::Accepted,
}

impl FixRounds<'_> {
    /// Runs rounds over the checked files, or over `only` (ignored files, whose calls alone are
    /// threaded), until no fix is left.
    fn run(&mut self, workspace: &mut krepis_analyzer::Workspace, only: Option<&[SourceFile]>) {
        for round in 0..krepis_analyzer::fix::MAX_FIX_ROUNDS {
            let results: Vec<(PathBuf, Arc<str>, Vec<Diagnostic>)> = match only {
                None => workspace
                    .check(&|| {})
                    .into_iter()
                    .map(|r| {
                        let text = r.source();
                        (r.path, text, r.diagnostics.to_vec())
                    })
                    .collect(),
                Some(files) => {
                    let snapshot = workspace.snapshot();
                    files
                        .iter()
                        .map(|&f| {
                            let threading: Vec<Diagnostic> = snapshot
                                .diagnostics(f)
                                .iter()
                                .filter(|d| {
                                    matches!(
                                        d.rule,
                                        RuleId::ContextPropagation | RuleId::ExplicitContext
                                    )
                                })
                                .cloned()
                                .collect();
                            (snapshot.path(f), snapshot.text(f), threading)
                        })
                        .collect()
                }
            };
            let mut changed_any = false;
            for (path, text, diagnostics) in results {
                if self.dropped.contains(&path) {
                    continue;
                }
                let diagnostics = self.accepted.filter(workspace, &path, &text, diagnostics);
                let merged = merge_fixes_in_round(&diagnostics, self.unsafe_fixes, round);
                if merged.fixes == 0 {
                    continue;
                }
                let (new_text, _) =
                    apply_edits(&text, &with_line_endings(merged.edits, line_break(&text)));
                // A fix must never leave a file that no longer parses.
                if !facts::extract(&path, &new_text).syntax_errors.is_empty() {
                    eprintln!(
                        "warning: {}: fixes dropped: the result would not parse",
                        output::display_path(&path, self.cwd)
                    );
                    self.dropped.push(path);
                    continue;
                }
                self.originals
                    .entry(path.clone())
                    .or_insert_with(|| text.clone());
                workspace.set_text(&path, &new_text);
                self.fixed += merged.fixes;
                changed_any = true;
            }
            if !changed_any {
                break;
            }
        }
    }
}

/// Reports what is left after fixing, like `check`, and returns `check`'s exit code.
fn remaining(
    workspace: &krepis_analyzer::Workspace,
    accepted: &crate::baseline::Accepted,
    cwd: &Path,
    started: Instant,
    out: &mut impl Write,
) -> ExitCode {
    let mut results = workspace.check(&|| {});
    let before: usize = results.iter().map(|r| r.diagnostics.len()).sum();
    for result in &mut results {
        let text = result.source();
        let kept = accepted.filter(workspace, &result.path, &text, result.diagnostics.to_vec());
        result.diagnostics = Arc::new(kept);
    }
    let mut report = output::Report::new(&results, cwd);
    report.baselined = before - results.iter().map(|r| r.diagnostics.len()).sum::<usize>();
    let _ = output::write_text(out, &report, started.elapsed());
    if report.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub struct UndoOptions {
    pub id: Option<u64>,
    pub list: bool,
    pub force: bool,
}

fn time_of(seconds: u64) -> String {
    // Civil date from days since the epoch (proleptic Gregorian), so the list needs no time crate.
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

pub fn undo(options: UndoOptions) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = project_root(&cwd);
    if !root.join(".krepis").join("journal").exists() {
        eprintln!(
            "error: no journal in {}: nothing to undo",
            output::display_path(&root.join(".krepis"), &cwd)
        );
        return ExitCode::from(2);
    }
    let journal = match open_journal(&root) {
        Ok(journal) => journal,
        Err(code) => return code,
    };
    let mut stdout = anstream::stdout();
    if options.list {
        let list = match journal.list() {
            Ok(list) => list,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
        let _ = writeln!(
            stdout,
            "{:>4}  {:<20}  {:<16}  {:>5}  command",
            "id", "time", "state", "files"
        );
        for tx in list.iter().rev() {
            let state = match tx.state {
                TxState::Pending => "INCOMPLETE".to_string(),
                TxState::Complete => "done".to_string(),
                TxState::Undone { by } => format!("undone by {by}"),
            };
            let _ = writeln!(
                stdout,
                "{:>4}  {:<20}  {:<16}  {:>5}  {}",
                tx.id,
                time_of(tx.time),
                state,
                tx.files.len(),
                tx.command
            );
        }
        return ExitCode::SUCCESS;
    }
    match journal.undo(options.id, options.force, &command_line()) {
        Ok(tx) => {
            let target = tx.undoes.and_then(|id| journal.get(id).ok());
            let what = target.map_or_else(String::new, |t| format!(" {}", describe(&t)));
            let _ = writeln!(stdout, "Undid{what}: restored {} files.", tx.files.len());
            for file in &tx.files {
                let _ = writeln!(
                    stdout,
                    "restored {}",
                    output::display_path(&file.path, &cwd)
                );
            }
            let _ = writeln!(
                stdout,
                "This undo is transaction {}; `krepis undo` again redoes the change.",
                tx.id
            );
            ExitCode::SUCCESS
        }
        Err(error @ JournalError::ChangedSince { .. }) => {
            eprintln!(
                "error: {}",
                error
                    .to_string()
                    .replace(&format!("{}/", cwd.display()), "")
            );
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_time() {
        assert_eq!(super::time_of(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::time_of(1_795_400_000), "2026-11-23 02:13 UTC");
        assert_eq!(super::time_of(951_782_400), "2000-02-29 00:00 UTC");
    }
}
