//! `krepis baseline` and the baseline in `krepis check`: accepted findings are left out of the
//! report and counted; entries that match nothing any more are stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use krepis_analyzer::baseline::{Baseline, FILE_NAME, Gone, Matcher, Stale};
use krepis_analyzer::diagnostic::Diagnostic;
use krepis_analyzer::{FileResult, Workspace};

use crate::output::display_path;

/// What the baselines did to one run's results.
#[derive(Default)]
pub struct Applied {
    /// Findings left out because a baseline accepts them.
    pub baselined: usize,
    /// Entries that matched no finding, with the baseline file they are in.
    pub stale: Vec<(PathBuf, Stale)>,
    /// The findings left out, each with the index of its file in the results.
    pub accepted: Vec<(usize, Diagnostic)>,
}

/// The baseline file that governs `path`: `explicit`, else the one beside its configuration.
fn baseline_path(workspace: &Workspace, path: &Path, explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(file) => file.to_path_buf(),
        None => workspace.config_for(path).dir.join(FILE_NAME),
    }
}

/// Groups `results` by the baseline file that governs them.
fn group(
    workspace: &Workspace,
    results: &[FileResult],
    explicit: Option<&Path>,
) -> BTreeMap<PathBuf, Vec<usize>> {
    let mut groups: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, result) in results.iter().enumerate() {
        groups
            .entry(baseline_path(workspace, &result.path, explicit))
            .or_default()
            .push(i);
    }
    groups
}

/// Whether this run judged the baseline entries of `path`: it checked the file, or the file is
/// gone and lies under a checked folder.
fn judged(workspace: &Workspace, checked: &[&Path], path: &Path) -> bool {
    checked.contains(&path)
        || !path.exists() && workspace.roots().iter().any(|root| path.starts_with(root))
}

/// Leaves the findings the baselines accept out of `results`. An explicit baseline that does
/// not exist, or any baseline that cannot be read, is an error.
pub fn apply(
    workspace: &Workspace,
    results: &mut [FileResult],
    explicit: Option<&Path>,
) -> Result<Applied, String> {
    if let Some(file) = explicit
        && !file.exists()
    {
        return Err(format!(
            "{}: no such baseline; write one with `krepis baseline`",
            file.display()
        ));
    }
    let mut applied = Applied::default();
    let checked: Vec<PathBuf> = results.iter().map(|r| r.path.clone()).collect();
    let checked: Vec<&Path> = checked.iter().map(PathBuf::as_path).collect();
    for (path, members) in group(workspace, results, explicit) {
        let Some(baseline) = Baseline::read(&path)? else {
            continue;
        };
        let gone = Gone::of(&baseline);
        let mut matcher = Matcher::new(&baseline, &gone);
        for &i in &members {
            let result = &mut results[i];
            let before = result.diagnostics.len();
            let mut kept = Vec::with_capacity(before);
            let text = result.findings_text();
            for d in result.diagnostics.iter() {
                if matcher.take(&result.path, &text, d) {
                    applied.accepted.push((i, d.clone()));
                } else {
                    kept.push(d.clone());
                }
            }
            applied.baselined += before - kept.len();
            if kept.len() != before {
                result.diagnostics = Arc::new(kept);
            }
        }
        let stale = matcher.stale(&|p| judged(workspace, &checked, p));
        applied
            .stale
            .extend(stale.into_iter().map(|s| (path.clone(), s)));
    }
    Ok(applied)
}

/// Prints the stale entries (as errors under `--strict-baseline`).
pub fn report_stale(applied: &Applied, cwd: &Path, strict: bool) {
    if applied.stale.is_empty() {
        return;
    }
    let level = if strict { "error" } else { "warning" };
    let count: u32 = applied.stale.iter().map(|(_, s)| s.count).sum();
    let mut files: Vec<String> = applied
        .stale
        .iter()
        .map(|(path, _)| display_path(path, cwd))
        .collect();
    files.dedup();
    eprintln!(
        "{level}: {count} {} of {} no longer {} a finding: fixed, so drop {} with `krepis baseline --prune`",
        if count == 1 { "entry" } else { "entries" },
        files.join(", "),
        if count == 1 { "matches" } else { "match" },
        if count == 1 { "it" } else { "them" },
    );
    for (path, stale) in applied.stale.iter().take(20) {
        let dir = path.parent().unwrap_or(Path::new(""));
        let times = if stale.count > 1 {
            format!(" (×{})", stale.count)
        } else {
            String::new()
        };
        eprintln!(
            "  {}: {}: {}{times}",
            display_path(&dir.join(&stale.file), cwd),
            stale.rule,
            stale.message
        );
    }
    if applied.stale.len() > 20 {
        eprintln!("  … and {} more", applied.stale.len() - 20);
    }
}

/// `krepis baseline`: records every finding of the checked files (or, with `prune`, only drops
/// the entries that no longer match), keeping the entries of files this run did not look at.
pub fn write(
    workspace: &Workspace,
    results: &[FileResult],
    explicit: Option<&Path>,
    prune: bool,
    cwd: &Path,
) -> ExitCode {
    let checked: Vec<&Path> = results.iter().map(|r| r.path.as_path()).collect();
    for (path, members) in group(workspace, results, explicit) {
        let existing = match Baseline::read(&path) {
            Ok(existing) => existing,
            Err(error) if prune => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
            // A broken baseline is replaced: that is what `krepis baseline` is for.
            Err(error) => {
                eprintln!("note: {error}; writing a new one");
                None
            }
        };
        let shown = display_path(&path, cwd);
        let mut baseline = existing
            .clone()
            .unwrap_or_else(|| Baseline::new(path.clone()));
        if prune {
            let Some(existing) = &existing else {
                eprintln!("note: {shown}: no baseline to prune");
                continue;
            };
            let gone = Gone::of(existing);
            let mut matcher = Matcher::new(existing, &gone);
            for &i in &members {
                let result = &results[i];
                let text = result.findings_text();
                for d in result.diagnostics.iter() {
                    matcher.take(&result.path, &text, d);
                }
            }
            let stale = matcher.stale(&|p| judged(workspace, &checked, p));
            let dropped: u32 = stale.iter().map(|s| s.count).sum();
            baseline.prune(&stale);
            if dropped == 0 {
                println!("{shown}: nothing to prune ({} findings).", baseline.len());
                continue;
            }
            if let Err(error) = baseline.write() {
                eprintln!("error: cannot write {shown}: {error}");
                return ExitCode::from(2);
            }
            println!(
                "{shown}: dropped {dropped} stale {}; {} findings left.",
                if dropped == 1 { "entry" } else { "entries" },
                baseline.len()
            );
            continue;
        }
        // Files gone from under the checked folders lose their entries; others keep theirs.
        let gone: Vec<String> = baseline
            .files
            .keys()
            .filter(|k| judged(workspace, &checked, &baseline.dir().join(k.as_str())))
            .cloned()
            .collect();
        for key in gone {
            baseline.files.remove(&key);
        }
        for &i in &members {
            let result = &results[i];
            let text = result.findings_text();
            baseline.record(&result.path, &text, &result.diagnostics);
        }
        if baseline.is_empty() && existing.is_none() {
            println!("No findings to baseline; {shown} not written.");
            continue;
        }
        if let Err(error) = baseline.write() {
            eprintln!("error: cannot write {shown}: {error}");
            return ExitCode::from(2);
        }
        println!(
            "Wrote {shown}: {} findings in {} files. `krepis check` now reports only new ones.",
            baseline.len(),
            baseline.files.len()
        );
    }
    ExitCode::SUCCESS
}

/// The baselines that govern a workspace's checked files, for `krepis fix`: the findings they
/// accept are left alone, as `check` leaves them out.
#[derive(Default)]
pub struct Accepted {
    baselines: BTreeMap<PathBuf, (Baseline, Gone)>,
    explicit: Option<PathBuf>,
}

impl Accepted {
    /// Reads the baselines of the workspace's checked files.
    pub fn load(workspace: &Workspace, explicit: Option<&Path>) -> Result<Accepted, String> {
        let mut accepted = Accepted {
            explicit: explicit.map(Path::to_path_buf),
            ..Accepted::default()
        };
        let snapshot = workspace.snapshot();
        for &file in workspace.checked_files() {
            let path = baseline_path(workspace, &snapshot.path(file), explicit);
            if accepted.baselines.contains_key(&path) {
                continue;
            }
            if let Some(baseline) = Baseline::read(&path)? {
                let gone = Gone::of(&baseline);
                accepted.baselines.insert(path, (baseline, gone));
            }
        }
        Ok(accepted)
    }

    /// `diagnostics` of the file at `path` without those its baseline accepts.
    pub fn filter(
        &self,
        workspace: &Workspace,
        path: &Path,
        text: &str,
        diagnostics: Vec<Diagnostic>,
    ) -> Vec<Diagnostic> {
        if self.baselines.is_empty() {
            return diagnostics;
        }
        let which = baseline_path(workspace, path, self.explicit.as_deref());
        let Some((baseline, gone)) = self.baselines.get(&which) else {
            return diagnostics;
        };
        let mut matcher = Matcher::new(baseline, gone);
        diagnostics
            .into_iter()
            .filter(|d| !matcher.take(path, text, d))
            .collect()
    }
}
