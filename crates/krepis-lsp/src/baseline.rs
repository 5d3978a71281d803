//! The baseline in the editor: the findings `krepis-baseline.json` accepts are shown as hints
//! (or hidden, with the `baseline` initialization option), never as errors, so the editor and
//! `krepis check` in CI agree on what is new.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use krepis_analyzer::baseline::{Baseline, FILE_NAME, Gone, Matcher};
use krepis_analyzer::diagnostic::{Diagnostic, Severity};

/// How baselined findings are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As hints, without their fixes (the default).
    Hint,
    /// Not at all.
    Hide,
}

static MODE: AtomicU8 = AtomicU8::new(0);

/// Sets how baselined findings are shown (from the client's `initializationOptions`).
pub fn set_mode(mode: Mode) {
    MODE.store(matches!(mode, Mode::Hide) as u8, Ordering::SeqCst);
}

fn mode() -> Mode {
    if MODE.load(Ordering::SeqCst) == 1 {
        Mode::Hide
    } else {
        Mode::Hint
    }
}

type Loaded = Option<Arc<(Baseline, Gone)>>;
type Stamp = Option<(SystemTime, u64)>;

type Cache = Mutex<HashMap<PathBuf, (Instant, Stamp, Loaded)>>;

fn cache() -> std::sync::MutexGuard<'static, HashMap<PathBuf, (Instant, Stamp, Loaded)>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The baseline beside the configuration in `dir`, read again when the file changed (looked at
/// no more than once a second, or at once after [`invalidate`]). A baseline that cannot be read
/// counts as none; `krepis check` says why.
fn load(dir: &Path) -> Loaded {
    let path = dir.join(FILE_NAME);
    let mut cache = cache();
    if let Some((seen, _, loaded)) = cache.get(&path)
        && seen.elapsed() < Duration::from_secs(1)
    {
        return loaded.clone();
    }
    let stamp = std::fs::metadata(&path)
        .ok()
        .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
    if let Some((seen, known, loaded)) = cache.get_mut(&path)
        && *known == stamp
    {
        *seen = Instant::now();
        return loaded.clone();
    }
    let loaded = match stamp {
        None => None,
        Some(_) => Baseline::read(&path).ok().flatten().map(|baseline| {
            let gone = Gone::of(&baseline);
            Arc::new((baseline, gone))
        }),
    };
    cache.insert(path, (Instant::now(), stamp, loaded.clone()));
    loaded
}

/// Forgets every baseline read, so the next look reads the file again: the client said it
/// changed on disk.
pub fn invalidate() {
    cache().clear();
}

/// Flags each finding of the file at `path` with whether `loaded` (its baseline) accepts it.
fn split(
    loaded: &(Baseline, Gone),
    path: &Path,
    text: &str,
    diagnostics: Vec<Diagnostic>,
) -> Vec<(bool, Diagnostic)> {
    let (baseline, gone) = loaded;
    let mut matcher = Matcher::new(baseline, gone);
    diagnostics
        .into_iter()
        .map(|d| (matcher.take(path, text, &d), d))
        .collect()
}

/// The findings of the file at `path` (governed by the configuration in `config_dir`) with those
/// the baseline accepts turned into hints without fixes, or left out. Without a baseline, the
/// findings as they are (not copied: this runs for every file at every publish).
pub fn mark(
    config_dir: &Path,
    path: &Path,
    text: &str,
    diagnostics: &Arc<Vec<Diagnostic>>,
) -> Arc<Vec<Diagnostic>> {
    let Some(loaded) = load(config_dir) else {
        return diagnostics.clone();
    };
    let hide = mode() == Mode::Hide;
    let marked = split(&loaded, path, text, diagnostics.to_vec())
        .into_iter()
        .filter_map(|(accepted, mut d)| {
            if !accepted {
                return Some(d);
            }
            if hide {
                return None;
            }
            d.severity = Severity::Hint;
            d.fix = None;
            let accepted = format!("accepted in {FILE_NAME}");
            d.note = Some(match d.note.take() {
                Some(note) => format!("{note}\n{accepted}"),
                None => accepted,
            });
            Some(d)
        })
        .collect();
    Arc::new(marked)
}

/// The findings `krepis fix` would fix in the file: those the baseline does not accept.
pub fn unaccepted(
    config_dir: &Path,
    path: &Path,
    text: &str,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let Some(loaded) = load(config_dir) else {
        return diagnostics;
    };
    split(&loaded, path, text, diagnostics)
        .into_iter()
        .filter_map(|(accepted, d)| (!accepted).then_some(d))
        .collect()
}
