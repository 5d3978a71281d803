//! The baseline: findings a team has accepted for now, so that adopting a rule on legacy code
//! stops only new violations.
//!
//! `krepis-baseline.json` sits beside the configuration that governs the files (the folder of
//! `krepis.json` or `deno.json`, else the project root). It is keyed by file, rule and a
//! fingerprint of the finding (its rule, message and the code it points at, never its line), with
//! a count per key, so unrelated edits leave it matching; entries of a file that no longer exists
//! match the same finding in another file, so a moved or renamed file keeps its entries.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::catalog::RuleId;
use crate::diagnostic::Diagnostic;

/// The baseline's file name, in the folder of the governing configuration.
pub const FILE_NAME: &str = "krepis-baseline.json";

const VERSION: u32 = 1;

/// One accepted finding (or several equal ones, counted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    pub fingerprint: String,
    pub count: u32,
    /// The finding's message, for people reviewing the file (the fingerprint is what matches).
    pub message: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    version: u32,
    #[serde(default)]
    findings: BTreeMap<String, Vec<Entry>>,
}

/// A baseline file's contents, keyed by path relative to its folder (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub path: PathBuf,
    pub files: BTreeMap<String, Vec<Entry>>,
}

/// A baseline entry that matched no finding: fixed, so it should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub file: String,
    pub rule: String,
    pub fingerprint: String,
    pub message: String,
    pub count: u32,
}

/// Whether a finding can be baselined: every rule's but a file that does not parse, and those
/// about `krepis-ignore` comments (written for Krepis, so never legacy: each says why, or goes).
pub fn baselinable(d: &Diagnostic) -> bool {
    !matches!(
        d.rule,
        RuleId::SyntaxError | RuleId::InvalidSuppression | RuleId::UnusedSuppression
    )
}

/// What identifies a finding across edits: its rule, its message and the code it points at
/// (blanks collapsed), hashed. Line and column are left out on purpose.
pub fn fingerprint(text: &str, d: &Diagnostic) -> String {
    let code = text
        .get(d.range.start as usize..d.range.end as usize)
        .unwrap_or("");
    let code: String = code
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(240)
        .collect();
    let key = format!("{}\0{}\0{}", d.rule_name(), d.message, code);
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

impl Baseline {
    /// An empty baseline to be written at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            files: BTreeMap::new(),
        }
    }

    /// The folder the keys are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// Reads the baseline at `path`: `Ok(None)` when there is none, an error naming the file
    /// (and line) when it cannot be used.
    pub fn read(path: &Path) -> Result<Option<Baseline>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: cannot read the baseline: {e}", path.display())),
        };
        let stored: Stored = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}: not a Krepis baseline: {e}; write it again with `krepis baseline`",
                path.display(),
                e.line()
            )
        })?;
        if stored.version != VERSION {
            return Err(format!(
                "{}: baseline version {} is not supported (this krepis writes version {VERSION}); write it again with `krepis baseline`",
                path.display(),
                stored.version
            ));
        }
        Ok(Some(Baseline {
            path: path.to_path_buf(),
            files: stored.findings,
        }))
    }

    /// The key of `file`: its path relative to the baseline's folder.
    pub fn key(&self, file: &Path) -> String {
        let relative = file.strip_prefix(self.dir()).unwrap_or(file);
        crate::config::slash_path(relative)
    }

    /// Adds every finding of `file` that can be baselined.
    pub fn record(&mut self, file: &Path, text: &str, diagnostics: &[Diagnostic]) {
        let key = self.key(file);
        let mut counted: BTreeMap<(String, String), (u32, String)> = BTreeMap::new();
        for d in diagnostics.iter().filter(|d| baselinable(d)) {
            let entry = counted
                .entry((d.rule_name().to_string(), fingerprint(text, d)))
                .or_insert((0, d.message.clone()));
            entry.0 += 1;
        }
        if counted.is_empty() {
            self.files.remove(&key);
            return;
        }
        let mut entries: Vec<Entry> = counted
            .into_iter()
            .map(|((rule, fingerprint), (count, message))| Entry {
                rule,
                fingerprint,
                count,
                message,
            })
            .collect();
        entries.sort_by(|a, b| {
            (&a.rule, &a.message, &a.fingerprint).cmp(&(&b.rule, &b.message, &b.fingerprint))
        });
        self.files.insert(key, entries);
    }

    /// Removes the entries of `file`.
    pub fn forget(&mut self, file: &Path) {
        let key = self.key(file);
        self.files.remove(&key);
    }

    /// How many findings it holds.
    pub fn len(&self) -> usize {
        self.files
            .values()
            .flatten()
            .map(|e| e.count as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file's text: sorted keys, one entry per line group, a final newline; stable under
    /// unrelated edits.
    pub fn to_json(&self) -> String {
        let stored = Stored {
            version: VERSION,
            findings: self.files.clone(),
        };
        let mut text = serde_json::to_string_pretty(&stored).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes the file (through a temporary file, so a crash leaves the old one whole).
    pub fn write(&self) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, self.to_json())?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Drops the stale entries (as [`Matcher::stale`] found them).
    pub fn prune(&mut self, stale: &[Stale]) {
        for s in stale {
            let Some(entries) = self.files.get_mut(&s.file) else {
                continue;
            };
            for entry in entries.iter_mut() {
                if entry.rule == s.rule && entry.fingerprint == s.fingerprint {
                    entry.count = entry.count.saturating_sub(s.count);
                }
            }
            entries.retain(|e| e.count > 0);
            if entries.is_empty() {
                self.files.remove(&s.file);
            }
        }
    }
}

/// The entries of files that no longer exist, by rule and fingerprint: a moved or renamed
/// file's, which match the same finding wherever it is now.
#[derive(Debug, Clone, Default)]
pub struct Gone {
    by_print: HashMap<(String, String), Vec<(String, usize)>>,
}

impl Gone {
    /// Looks on disk for the files of `baseline`.
    pub fn of(baseline: &Baseline) -> Gone {
        let mut by_print: HashMap<(String, String), Vec<(String, usize)>> = HashMap::new();
        for (file, entries) in &baseline.files {
            if baseline.dir().join(file).exists() {
                continue;
            }
            for (i, e) in entries.iter().enumerate() {
                by_print
                    .entry((e.rule.clone(), e.fingerprint.clone()))
                    .or_default()
                    .push((file.clone(), i));
            }
        }
        Gone { by_print }
    }
}

/// Matches one run's findings against a baseline, consuming counts.
pub struct Matcher<'a> {
    baseline: &'a Baseline,
    gone: &'a Gone,
    /// Counts left, per file key, per entry (for the files looked at so far).
    left: HashMap<String, Vec<u32>>,
}

impl<'a> Matcher<'a> {
    pub fn new(baseline: &'a Baseline, gone: &'a Gone) -> Self {
        Self {
            baseline,
            gone,
            left: HashMap::new(),
        }
    }

    fn take_at(&mut self, file: &str, index: usize) -> bool {
        if !self.left.contains_key(file) {
            let Some(entries) = self.baseline.files.get(file) else {
                return false;
            };
            self.left
                .insert(file.to_string(), entries.iter().map(|e| e.count).collect());
        }
        match self.left.get_mut(file).and_then(|l| l.get_mut(index)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Whether `d` (a finding of `file`, whose text is `text`) is in the baseline; a match uses
    /// up one of the entry's count.
    pub fn take(&mut self, file: &Path, text: &str, d: &Diagnostic) -> bool {
        if !baselinable(d) {
            return false;
        }
        let key = self.baseline.key(file);
        let print = fingerprint(text, d);
        let rule = d.rule_name();
        let found = self.baseline.files.get(&key).and_then(|entries| {
            entries
                .iter()
                .position(|e| e.rule == rule && e.fingerprint == print)
        });
        if let Some(i) = found
            && self.take_at(&key, i)
        {
            return true;
        }
        let gone = self.gone;
        gone.by_print
            .get(&(rule.to_string(), print))
            .into_iter()
            .flatten()
            .any(|(orphan, i)| self.take_at(orphan, *i))
    }

    /// Entries with counts left over, among files `judged` says this run has seen in full (a
    /// file that no longer exists is judged by its path too).
    pub fn stale(&self, judged: &dyn Fn(&Path) -> bool) -> Vec<Stale> {
        let mut out = Vec::new();
        for (file, entries) in &self.baseline.files {
            if !judged(&self.baseline.dir().join(file)) {
                continue;
            }
            for (i, entry) in entries.iter().enumerate() {
                let count = self
                    .left
                    .get(file.as_str())
                    .and_then(|l| l.get(i).copied())
                    .unwrap_or(entry.count);
                if count > 0 {
                    out.push(Stale {
                        file: file.clone(),
                        rule: entry.rule.clone(),
                        fingerprint: entry.fingerprint.clone(),
                        message: entry.message.clone(),
                        count,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_source;

    #[test]
    fn findings_match_after_unrelated_edits_and_counts_are_kept() {
        let text = "export async function a(id: string) {}\nexport async function b() {}\n";
        let diagnostics = check_source("src/a.ts", text);
        assert_eq!(diagnostics.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("src/a.ts");
        let mut baseline = Baseline::new(dir.path().join(FILE_NAME));
        baseline.record(&file, text, &diagnostics);
        assert_eq!(baseline.len(), 2);
        baseline.write().unwrap();
        let read = Baseline::read(&baseline.path).unwrap().unwrap();
        assert_eq!(read, baseline);

        // Lines above move everything down; the findings still match, by content.
        let moved = format!("// a comment\n\n{text}");
        let later = check_source("src/a.ts", &moved);
        let gone = Gone::of(&read);
        let mut matcher = Matcher::new(&read, &gone);
        assert!(later.iter().all(|d| matcher.take(&file, &moved, d)));
        // Each entry is used up once: the same finding again is new.
        assert!(!matcher.take(&file, &moved, &later[0]));
        assert!(matcher.stale(&|_| true).is_empty());
    }

    #[test]
    fn broken_baselines_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{\n  \"version\": 1,\n  \"findings\": {\n").unwrap();
        let error = Baseline::read(&path).unwrap_err();
        assert!(
            error.contains("krepis-baseline.json:4: not a Krepis baseline"),
            "{error}"
        );
        std::fs::write(&path, "{ \"version\": 9 }").unwrap();
        let error = Baseline::read(&path).unwrap_err();
        assert!(
            error.contains("baseline version 9 is not supported"),
            "{error}"
        );
        assert_eq!(Baseline::read(&dir.path().join("none.json")), Ok(None));
    }
}
