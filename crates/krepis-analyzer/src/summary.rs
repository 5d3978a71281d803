//! What the project-wide queries need of each module, kept in the cache between runs, so a run
//! that checks a few files (`krepis check --changed`) does not analyse the rest of the project
//! again to learn it.
//!
//! Four project-wide queries look at every module: the import graph (cycles, and the importers
//! `--changed` adds), the method names called on receivers the model cannot type, the functions
//! used as values, and the methods that take the context. A module's share of each depends only
//! on its own text, on the modules it imports (directly or not), on which files exist and on the
//! settings. So after a run the shares are stored with each module's content hash; the next run
//! with the same settings and the same files takes the share of every module that neither changed
//! nor imports a changed one from there, and computes only the others.
//!
//! Each module's entry also keeps the [`FileStamp`] of its file when it was read, so the next run
//! does not even read a file whose stamp is the same: it knows the content by its hash.

use std::path::PathBuf;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

pub use crate::db::ModuleSummary;
use crate::facts::Name;

/// The summaries of one project state, as stored: modules by index into `files`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`crate::project::ProjectSettings::fingerprint`] of the run that wrote it.
    pub settings: u64,
    pub files: Vec<StoredModule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredModule {
    pub path: PathBuf,
    /// xxh3 of the text the summary was computed from.
    pub content: u64,
    /// Import edges: (index of the target in `files`, index of the import, type only).
    pub edges: Vec<(u32, u32, bool)>,
    pub unresolved_methods: Vec<Name>,
    pub value_uses: Vec<Name>,
    pub context_methods: Vec<Name>,
    /// The file's stamp when it was read, if it was settled by then (see [`FileStamp::settled`]).
    pub stamp: Option<FileStamp>,
}

/// What the file system says of a file without reading it: equal stamps mean an unchanged file,
/// as git's index assumes. The change time and inode catch a file replaced or rewritten with its
/// old modification time put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub size: u64,
    pub modified_ns: i128,
    pub changed_ns: i128,
    pub inode: u64,
}

/// How long before a read a file must have last changed for its stamp to be trusted later: a
/// write in the same tick of a coarse clock (two seconds on FAT) as an earlier one may leave the
/// stamp as it was ("racy git").
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

impl FileStamp {
    pub fn of(metadata: &std::fs::Metadata) -> FileStamp {
        let ns = |time: std::io::Result<std::time::SystemTime>| -> i128 {
            match time {
                Ok(t) => match t.duration_since(std::time::UNIX_EPOCH) {
                    Ok(d) => d.as_nanos() as i128,
                    Err(e) => -(e.duration().as_nanos() as i128),
                },
                Err(_) => 0,
            }
        };
        #[cfg(unix)]
        let (changed_ns, inode) = {
            use std::os::unix::fs::MetadataExt;
            (
                i128::from(metadata.ctime()) * 1_000_000_000 + i128::from(metadata.ctime_nsec()),
                metadata.ino(),
            )
        };
        #[cfg(not(unix))]
        let (changed_ns, inode) = (ns(metadata.created()), 0);
        FileStamp {
            size: metadata.len(),
            modified_ns: ns(metadata.modified()),
            changed_ns,
            inode,
        }
    }

    /// Whether the file last changed well before `read_at`, when it was read: only then may an
    /// equal stamp later stand for equal content.
    pub fn settled(&self, read_at: std::time::SystemTime) -> bool {
        let Ok(read_at) = read_at.duration_since(std::time::UNIX_EPOCH) else {
            return false;
        };
        let latest = self.modified_ns.max(self.changed_ns);
        latest + (SETTLE.as_nanos() as i128) < read_at.as_nanos() as i128
    }
}

/// Which stored modules may still be trusted: those whose text is unchanged and that import no
/// changed module, directly or not. `changed[i]` says whether module `i` of the snapshot changed.
pub fn trusted(snapshot: &Snapshot, changed: &[bool]) -> Vec<bool> {
    let n = snapshot.files.len();
    let mut importers: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, module) in snapshot.files.iter().enumerate() {
        for &(target, _, _) in &module.edges {
            if let Some(list) = importers.get_mut(target as usize) {
                list.push(i as u32);
            }
        }
    }
    let mut stale = vec![false; n];
    let mut queue: Vec<usize> = (0..n).filter(|&i| changed[i]).collect();
    while let Some(i) = queue.pop() {
        if std::mem::replace(&mut stale[i], true) {
            continue;
        }
        queue.extend(importers[i].iter().map(|&j| j as usize));
    }
    stale.iter().map(|s| !s).collect()
}

/// Whether `paths` is exactly the set of modules the snapshot describes.
pub fn same_files<'a>(snapshot: &Snapshot, paths: impl Iterator<Item = &'a PathBuf>) -> bool {
    let stored: FxHashSet<&PathBuf> = snapshot.files.iter().map(|m| &m.path).collect();
    let mut count = 0;
    for path in paths {
        if !stored.contains(path) {
            return false;
        }
        count += 1;
    }
    count == stored.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str, edges: &[u32]) -> StoredModule {
        StoredModule {
            path: PathBuf::from(path),
            content: 0,
            edges: edges.iter().map(|&t| (t, 0, false)).collect(),
            unresolved_methods: Vec::new(),
            value_uses: Vec::new(),
            context_methods: Vec::new(),
            stamp: None,
        }
    }

    #[test]
    fn a_changed_module_and_its_importers_are_not_trusted() {
        // 0 imports 1, 1 imports 2, 3 imports nothing, 4 imports 3.
        let snapshot = Snapshot {
            settings: 0,
            files: vec![
                module("/a.ts", &[1]),
                module("/b.ts", &[2]),
                module("/c.ts", &[]),
                module("/d.ts", &[]),
                module("/e.ts", &[3]),
            ],
        };
        let trusted = trusted(&snapshot, &[false, false, true, false, false]);
        assert_eq!(trusted, vec![false, false, false, true, true]);
    }

    #[test]
    fn the_file_set_must_match_exactly() {
        let snapshot = Snapshot {
            settings: 0,
            files: vec![module("/a.ts", &[]), module("/b.ts", &[])],
        };
        let a = PathBuf::from("/a.ts");
        let b = PathBuf::from("/b.ts");
        let c = PathBuf::from("/c.ts");
        assert!(same_files(&snapshot, [&b, &a].into_iter()));
        assert!(!same_files(&snapshot, [&a].into_iter()));
        assert!(!same_files(&snapshot, [&a, &b, &c].into_iter()));
    }

    #[test]
    fn a_stamp_is_trusted_only_when_the_file_had_settled_before_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ts");
        std::fs::write(&path, "export const a = 1;\n").unwrap();
        let stamp = FileStamp::of(&std::fs::metadata(&path).unwrap());
        let now = std::time::SystemTime::now();
        // Just written: a second write in the same clock tick could leave the stamp unchanged.
        assert!(!stamp.settled(now));
        assert!(stamp.settled(now + std::time::Duration::from_secs(3)));
        // Rewritten with another size: another stamp.
        std::fs::write(&path, "export const a = 12;\n").unwrap();
        assert_ne!(FileStamp::of(&std::fs::metadata(&path).unwrap()), stamp);
    }
}
