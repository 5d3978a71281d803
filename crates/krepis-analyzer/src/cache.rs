//! The persistent cache in `.krepis/cache` (sled): module facts keyed by content, whole-run
//! results keyed by everything a run depends on, so an unchanged tree re-checks fast, and the
//! module summaries of the last run (see [`crate::summary`]), so a run over a few changed files
//! does not analyse the rest again.
//!
//! Keys carry the Krepis version and a format number; a cache written by another version, or one
//! that cannot be read, is discarded with a note and never trusted.

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

use crate::diagnostic::Diagnostic;
use crate::facts::ModuleFacts;
use crate::summary::Snapshot;

/// Bumped whenever what is stored changes shape.
const FORMAT: u32 = 8;

/// What this build writes into the cache header.
fn stamp() -> String {
    format!("krepis {} cache format {FORMAT}", env!("CARGO_PKG_VERSION"))
}

/// The cache of one project.
#[derive(Debug)]
pub struct Cache {
    facts: sled::Tree,
    runs: sled::Tree,
    snapshots: sled::Tree,
    db: sled::Db,
}

/// Opening the cache never fails a check: at worst it runs without one, and says why.
pub struct Opened {
    pub cache: Option<Cache>,
    /// Something the user should know (a discarded or unusable cache).
    pub note: Option<String>,
}

fn ready(cache: Cache, note: Option<String>) -> Opened {
    Opened {
        cache: Some(cache),
        note,
    }
}

fn unavailable(note: String) -> Opened {
    Opened {
        cache: None,
        note: Some(note),
    }
}

fn key_bytes(parts: &[u64]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.to_be_bytes()).collect()
}

impl Cache {
    /// Opens `root/.krepis/cache`, discarding it when it is foreign or damaged.
    pub fn open(root: &Path) -> Opened {
        let path = root.join(".krepis").join("cache");
        let attempt = || -> Result<Cache, String> {
            let db = sled::Config::new()
                .path(&path)
                .open()
                .map_err(|e| e.to_string())?;
            let cache = Cache {
                facts: db.open_tree("facts").map_err(|e| e.to_string())?,
                runs: db.open_tree("runs").map_err(|e| e.to_string())?,
                snapshots: db.open_tree("snapshots").map_err(|e| e.to_string())?,
                db,
            };
            Ok(cache)
        };
        let mut note = None;
        let cache = match attempt() {
            Ok(cache) => cache,
            Err(error) if error.contains("lock") => {
                return unavailable(format!(
                    "the cache is in use by another krepis ({error}); running without it"
                ));
            }
            Err(error) => {
                // Damaged beyond opening: start over.
                let _ = std::fs::remove_dir_all(&path);
                note = Some(format!(
                    "the cache was unreadable ({error}) and was rebuilt"
                ));
                match attempt() {
                    Ok(cache) => cache,
                    Err(again) => {
                        return unavailable(format!(
                            "cannot use the cache at {}: {again}",
                            path.display()
                        ));
                    }
                }
            }
        };
        match cache.db.get("stamp") {
            Ok(Some(found)) if found.as_ref() == stamp().as_bytes() => ready(cache, note),
            Ok(found) => {
                let foreign = found.is_some();
                let _ = cache.facts.clear();
                let _ = cache.runs.clear();
                let _ = cache.snapshots.clear();
                let _ = cache.db.insert("stamp", stamp().as_bytes());
                let foreign = foreign.then(|| {
                    "the cache was written by another version of krepis and was discarded"
                        .to_string()
                });
                ready(cache, note.or(foreign))
            }
            Err(error) => unavailable(format!("cannot read the cache: {error}")),
        }
    }

    fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &[u8]) -> Option<T> {
        let bytes = tree.get(key).ok()??;
        // A value that does not decode is treated as absent: never trusted, later overwritten.
        bincode::deserialize(&bytes).ok()
    }

    fn put<T: Serialize>(tree: &sled::Tree, key: &[u8], value: &T) {
        if let Ok(bytes) = bincode::serialize(value) {
            let _ = tree.insert(key, bytes);
        }
    }

    /// The facts of a module with this content hash and source kind, if cached.
    pub fn facts(&self, content_hash: u64, kind: u64) -> Option<ModuleFacts> {
        Self::get(&self.facts, &key_bytes(&[content_hash, kind]))
    }

    pub fn store_facts(&self, content_hash: u64, kind: u64, facts: &ModuleFacts) {
        Self::put(&self.facts, &key_bytes(&[content_hash, kind]), facts);
    }

    /// The diagnostics of a whole run with this fingerprint, per file, if cached.
    pub fn run(&self, fingerprint: u64) -> Option<Vec<(PathBuf, Vec<Diagnostic>)>> {
        Self::get(&self.runs, &key_bytes(&[fingerprint]))
    }

    /// Stores a run's results; older runs are dropped (only the latest tree state is useful).
    pub fn store_run(&self, fingerprint: u64, results: &[(PathBuf, Vec<Diagnostic>)]) {
        let _ = self.runs.clear();
        Self::put(&self.runs, &key_bytes(&[fingerprint]), &results);
    }

    /// The module summaries of the last run over these checked paths (see [`crate::summary`]).
    pub fn snapshot(&self, key: u64) -> Option<Snapshot> {
        Self::get(&self.snapshots, &key_bytes(&[key]))
    }

    /// Stores the summaries of a run; those of other checked paths are dropped.
    pub fn store_snapshot(&self, key: u64, snapshot: &Snapshot) {
        let _ = self.snapshots.clear();
        Self::put(&self.snapshots, &key_bytes(&[key]), snapshot);
    }

    /// Writes everything to disk (at the end of a run).
    pub fn flush(&self) {
        let _ = self.db.flush();
    }
}
impl crate::db::FactsStore for Cache {
    fn facts(&self, content: u64, kind: u64) -> Option<ModuleFacts> {
        Cache::facts(self, content, kind)
    }

    fn store_facts(&self, content: u64, kind: u64, facts: &ModuleFacts) {
        Cache::store_facts(self, content, kind, facts)
    }
}
