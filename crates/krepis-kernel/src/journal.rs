//! The transactional journal in `.krepis/journal` (sled).
//!
//! Writing a transaction:
//! 1. the original bytes of every file and the hash of its new content are recorded, and the
//!    database is flushed (durable) — before any file is touched;
//! 2. each file is replaced atomically: a temporary file in the same folder, fsync, rename over
//!    the original, fsync of the folder;
//! 3. the transaction is marked complete and flushed.
//!
//! A process killed anywhere leaves every file wholly old or wholly new, and the journal knows
//! which transaction to undo.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What went wrong; nothing is half-written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal at {}: {source}", path.display())]
    Open { path: PathBuf, source: sled::Error },
    #[error("journal storage failed: {0}")]
    Storage(#[from] sled::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: the file is read-only; nothing was changed", .0.display())]
    ReadOnly(PathBuf),
    #[error("{}: the file changed while the fix was being prepared; nothing was changed, run it again", .0.display())]
    ChangedMeanwhile(PathBuf),
    #[error("{}: the file changed while the fix was being written, and so did a file already written; transaction {id} is unfinished: run `krepis undo {id}`", path.display())]
    Interrupted { path: PathBuf, id: u64 },
    #[error("a journal record is damaged: {0}")]
    Corrupt(String),
    #[error("no transaction {0} in the journal")]
    NoSuchTransaction(u64),
    #[error("nothing to undo")]
    NothingToUndo,
    #[error("transaction {id} was already undone by transaction {by}")]
    AlreadyUndone { id: u64, by: u64 },
    #[error(
        "these files changed since transaction {id}; undoing would lose those changes (use --force to undo anyway):\n{}",
        files.iter().map(|f| format!("  {}", f.display())).collect::<Vec<_>>().join("\n")
    )]
    ChangedSince { id: u64, files: Vec<PathBuf> },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One file to write: its new content, or `None` to delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: PathBuf,
    pub new: Option<Vec<u8>>,
    /// The hash (see [`content_hash`]) of the content the change was computed from: if the file
    /// holds something else when the transaction starts, nothing is written.
    pub base_hash: Option<u64>,
}

/// The hash the journal records for file contents.
pub fn content_hash(bytes: &[u8]) -> u64 {
    hash(bytes)
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxState {
    /// Recorded; files may be partly written (the process stopped before finishing).
    Pending,
    Complete,
    /// Rolled back by transaction `by`.
    Undone {
        by: u64,
    },
}

/// One file of a transaction. Hashes are xxh3-64 of the bytes; `None` means the file did not
/// exist (before) or was deleted (after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: PathBuf,
    pub original_hash: Option<u64>,
    pub new_hash: Option<u64>,
}

/// One journaled change of files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: u64,
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The command line that made it.
    pub command: String,
    pub state: TxState,
    pub files: Vec<FileRecord>,
    /// For an undo: the transaction it rolled back.
    pub undoes: Option<u64>,
}

/// The journal of one project.
pub struct Journal {
    db: sled::Db,
    transactions: sled::Tree,
    originals: sled::Tree,
    meta: sled::Tree,
}

fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, JournalError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(JournalError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Test hook: `KREPIS_JOURNAL_CRASH_AT=after-record|after-file:N|before-complete` aborts the
/// process at that step, the way a kill would, so tests can check what a crash leaves behind.
fn crash_point(step: &str) {
    if let Ok(wanted) = std::env::var("KREPIS_JOURNAL_CRASH_AT")
        && wanted == step
    {
        std::process::abort();
    }
}

/// Names of the writer's temporary files, so leftovers of a killed write can be recognised.
const TEMP_PREFIX: &str = ".krepis-";
const TEMP_SUFFIX: &str = ".tmp";

fn original_key(id: u64, index: usize) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&id.to_be_bytes());
    key[8..].copy_from_slice(&(index as u32).to_be_bytes());
    key
}

/// Whether `path` still holds the content hashed as `expected` (`None`: the file is absent).
fn holds(path: &Path, expected: Option<u64>) -> Result<bool, JournalError> {
    Ok(read_optional(path)?.as_deref().map(hash) == expected)
}

/// Replaces `path` with `bytes` (or deletes it), but only while it still holds the content hashed
/// as `expected`: the check comes last, just before the rename, so an edit saved while the
/// transaction was being written is kept, never overwritten. `Ok(false)`: it changed; nothing
/// was done to it.
fn replace_if_unchanged(
    path: &Path,
    bytes: Option<&[u8]>,
    expected: Option<u64>,
) -> Result<bool, JournalError> {
    #[cfg(test)]
    tests::before_write(path);
    match bytes {
        Some(bytes) => replace_file(path, bytes, expected),
        None => {
            if !holds(path, expected)? {
                return Ok(false);
            }
            match std::fs::remove_file(path) {
                Ok(()) => sync_dir(path.parent().unwrap_or(Path::new(".")))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(JournalError::Io {
                        path: path.to_path_buf(),
                        source: e,
                    });
                }
            }
            Ok(true)
        }
    }
}

/// Replaces `path` with `bytes` atomically: temporary file in the same folder, fsync, rename,
/// fsync of the folder. Keeps the file's permissions. Returns `Ok(false)`, leaving the file as it
/// is, when it no longer holds the content hashed as `expected`.
fn replace_file(path: &Path, bytes: &[u8], expected: Option<u64>) -> Result<bool, JournalError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io(path))?;
    temp.write_all(bytes).map_err(io(path))?;
    temp.as_file().sync_all().map_err(io(path))?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(temp.path(), permissions).map_err(io(path))?;
    }
    if !holds(path, expected)? {
        return Ok(false);
    }
    temp.persist(path).map_err(|e| JournalError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    sync_dir(dir)?;
    Ok(true)
}

/// A transaction stopped while writing may have left a writer's temporary file (never a
/// replaced original) beside its files; this removes them.
fn remove_temporary_files(tx: &Transaction) -> Result<(), JournalError> {
    let mut dirs: Vec<&Path> = tx.files.iter().filter_map(|f| f.path.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
                std::fs::remove_file(entry.path()).map_err(io(dir))?;
            }
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Journal {
    /// Opens (or creates) the journal in `root/.krepis/journal`.
    pub fn open(root: &Path) -> Result<Journal, JournalError> {
        let path = root.join(".krepis").join("journal");
        let db = sled::Config::new()
            .path(&path)
            .open()
            .map_err(|source| JournalError::Open {
                path: path.clone(),
                source,
            })?;
        let transactions = db.open_tree("transactions")?;
        let originals = db.open_tree("originals")?;
        let meta = db.open_tree("meta")?;
        Ok(Journal {
            db,
            transactions,
            originals,
            meta,
        })
    }

    /// The next transaction number: 1, 2, 3… (what people type after `krepis undo`).
    fn next_id(&self) -> Result<u64, JournalError> {
        let next = self.meta.update_and_fetch("last_id", |old| {
            let last = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            Some((last + 1).to_be_bytes().to_vec())
        })?;
        next.and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| JournalError::Corrupt("transaction counter".into()))
    }

    fn put(&self, tx: &Transaction) -> Result<(), JournalError> {
        let value = serde_json::to_vec(tx).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        self.transactions.insert(tx.id.to_be_bytes(), value)?;
        Ok(())
    }

    /// The transaction with `id`.
    pub fn get(&self, id: u64) -> Result<Transaction, JournalError> {
        let value = self
            .transactions
            .get(id.to_be_bytes())?
            .ok_or(JournalError::NoSuchTransaction(id))?;
        serde_json::from_slice(&value)
            .map_err(|e| JournalError::Corrupt(format!("transaction {id}: {e}")))
    }

    /// Every transaction, oldest first.
    pub fn list(&self) -> Result<Vec<Transaction>, JournalError> {
        self.transactions
            .iter()
            .map(|entry| {
                let (_, value) = entry?;
                serde_json::from_slice(&value).map_err(|e| JournalError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// Transactions that were recorded but never marked complete (the process stopped).
    pub fn incomplete(&self) -> Result<Vec<Transaction>, JournalError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|t| t.state == TxState::Pending)
            .collect())
    }

    /// Writes `changes` as one transaction (see the module docs for the protocol).
    pub fn apply(
        &self,
        command: &str,
        changes: &[FileChange],
    ) -> Result<Transaction, JournalError> {
        self.apply_inner(command, changes, None)
    }

    fn apply_inner(
        &self,
        command: &str,
        changes: &[FileChange],
        undoes: Option<u64>,
    ) -> Result<Transaction, JournalError> {
        // Everything that can fail is checked before the first byte is written.
        let mut originals = Vec::with_capacity(changes.len());
        for change in changes {
            if let Ok(metadata) = std::fs::metadata(&change.path)
                && metadata.permissions().readonly()
            {
                return Err(JournalError::ReadOnly(change.path.clone()));
            }
            let original = read_optional(&change.path)?;
            if let Some(base) = change.base_hash
                && original.as_deref().map(hash) != Some(base)
            {
                return Err(JournalError::ChangedMeanwhile(change.path.clone()));
            }
            originals.push(original);
        }
        let id = self.next_id()?;
        let files = changes
            .iter()
            .zip(&originals)
            .map(|(change, original)| FileRecord {
                path: change.path.clone(),
                original_hash: original.as_deref().map(hash),
                new_hash: change.new.as_deref().map(hash),
            })
            .collect();
        let mut tx = Transaction {
            id,
            time: now(),
            command: command.to_string(),
            state: TxState::Pending,
            files,
            undoes,
        };
        for (index, original) in originals.iter().enumerate() {
            if let Some(bytes) = original {
                self.originals
                    .insert(original_key(id, index), bytes.as_slice())?;
            }
        }
        self.put(&tx)?;
        self.db.flush()?;
        crash_point("after-record");
        for (index, change) in changes.iter().enumerate() {
            let original = tx.files[index].original_hash;
            if !replace_if_unchanged(&change.path, change.new.as_deref(), original)? {
                // Saved by someone else since the check above: their edit stays, and so that
                // nothing is half-done, the files already written get their originals back.
                return Err(self.roll_back(&tx, &changes[..index], &originals, &change.path));
            }
            crash_point(&format!("after-file:{index}"));
        }
        crash_point("before-complete");
        tx.state = TxState::Complete;
        self.put(&tx)?;
        self.db.flush()?;
        Ok(tx)
    }

    /// Puts back the originals of `written` (the first files of `tx`) after `changed` was found
    /// edited in the middle of the transaction, then forgets the transaction. A written file that
    /// was edited too is left as it is, and the transaction stays unfinished for `krepis undo`.
    fn roll_back(
        &self,
        tx: &Transaction,
        written: &[FileChange],
        originals: &[Option<Vec<u8>>],
        changed: &Path,
    ) -> JournalError {
        let mut restored = true;
        for (index, change) in written.iter().enumerate().rev() {
            let record = &tx.files[index];
            match replace_if_unchanged(&change.path, originals[index].as_deref(), record.new_hash) {
                Ok(true) => {}
                Ok(false) | Err(_) => restored = false,
            }
        }
        if !restored {
            return JournalError::Interrupted {
                path: changed.to_path_buf(),
                id: tx.id,
            };
        }
        let forget = || -> Result<(), JournalError> {
            for index in 0..tx.files.len() {
                self.originals.remove(original_key(tx.id, index))?;
            }
            self.transactions.remove(tx.id.to_be_bytes())?;
            self.db.flush()?;
            Ok(())
        };
        match forget() {
            Ok(()) => JournalError::ChangedMeanwhile(changed.to_path_buf()),
            Err(error) => error,
        }
    }

    /// The transaction `krepis undo` without an id rolls back: the newest one not undone yet
    /// (an undo included, which makes undoing it a redo).
    pub fn last_undoable(&self) -> Result<Transaction, JournalError> {
        self.list()?
            .into_iter()
            .rev()
            .find(|t| !matches!(t.state, TxState::Undone { .. }))
            .ok_or(JournalError::NothingToUndo)
    }

    /// Restores the files of transaction `id` (or the last one) byte for byte, as a transaction of
    /// its own. Refuses, naming the files, when one changed since — unless `force`.
    pub fn undo(
        &self,
        id: Option<u64>,
        force: bool,
        command: &str,
    ) -> Result<Transaction, JournalError> {
        let target = match id {
            Some(id) => self.get(id)?,
            None => self.last_undoable()?,
        };
        if let TxState::Undone { by } = target.state {
            return Err(JournalError::AlreadyUndone { id: target.id, by });
        }
        let mut changed = Vec::new();
        let mut changes = Vec::with_capacity(target.files.len());
        for (index, file) in target.files.iter().enumerate() {
            let current = read_optional(&file.path)?.as_deref().map(hash);
            // A transaction that stopped half-way left some files old: those are fine too.
            let expected = current == file.new_hash
                || (target.state == TxState::Pending && current == file.original_hash);
            if !expected {
                changed.push(file.path.clone());
            }
            let original = match file.original_hash {
                Some(_) => {
                    let bytes = self
                        .originals
                        .get(original_key(target.id, index))?
                        .ok_or_else(|| {
                            JournalError::Corrupt(format!(
                                "original of {} is missing",
                                file.path.display()
                            ))
                        })?;
                    Some(bytes.to_vec())
                }
                None => None,
            };
            changes.push(FileChange {
                path: file.path.clone(),
                new: original,
                base_hash: None,
            });
        }
        if !changed.is_empty() && !force {
            return Err(JournalError::ChangedSince {
                id: target.id,
                files: changed,
            });
        }
        if target.state == TxState::Pending {
            remove_temporary_files(&target)?;
        }
        let undo = self.apply_inner(command, &changes, Some(target.id))?;
        let mut target = target;
        target.state = TxState::Undone { by: undo.id };
        self.put(&target)?;
        self.db.flush()?;
        Ok(undo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    type Hook = Box<dyn FnMut(&Path)>;

    thread_local! {
        /// Runs before each file is written: a test's stand-in for an editor saving meanwhile.
        static BEFORE_WRITE: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    pub(super) fn before_write(path: &Path) {
        BEFORE_WRITE.with(|hook| {
            if let Some(hook) = hook.borrow_mut().as_mut() {
                hook(path);
            }
        });
    }

    fn on_write(hook: impl FnMut(&Path) + 'static) {
        BEFORE_WRITE.with(|slot| *slot.borrow_mut() = Some(Box::new(hook)));
    }

    /// Three files `a`, `b`, `c` holding "old …", and the changes that fix them to "new …".
    fn three_files(dir: &Path) -> (Vec<PathBuf>, Vec<FileChange>) {
        let paths: Vec<PathBuf> = ["a.ts", "b.ts", "c.ts"]
            .iter()
            .map(|n| dir.join(n))
            .collect();
        let changes = paths
            .iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                std::fs::write(p, format!("old {name}")).unwrap();
                FileChange {
                    path: p.clone(),
                    new: Some(format!("new {name}").into_bytes()),
                    base_hash: Some(content_hash(format!("old {name}").as_bytes())),
                }
            })
            .collect();
        (paths, changes)
    }

    #[test]
    fn an_edit_saved_while_files_are_written_is_kept_and_the_rest_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let (paths, changes) = three_files(dir.path());
        let c = paths[2].clone();
        let mut saved = false;
        on_write(move |path| {
            if path == c && !saved {
                saved = true;
                std::fs::write(path, "saved by the user").unwrap();
            }
        });
        let journal = Journal::open(dir.path()).unwrap();
        let result = journal.apply("fix", &changes);
        on_write(|_| {});
        assert!(
            matches!(&result, Err(JournalError::ChangedMeanwhile(p)) if *p == paths[2]),
            "{result:?}"
        );
        let texts: Vec<String> = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert_eq!(texts, ["old a.ts", "old b.ts", "saved by the user"]);
        assert!(journal.list().unwrap().is_empty());
        assert!(matches!(
            journal.undo(None, false, "undo"),
            Err(JournalError::NothingToUndo)
        ));
    }

    #[test]
    fn edits_saved_into_written_files_too_leave_an_unfinished_transaction_to_undo() {
        let dir = tempfile::tempdir().unwrap();
        let (paths, changes) = three_files(dir.path());
        let (a, c) = (paths[0].clone(), paths[2].clone());
        let mut saved = false;
        on_write(move |path| {
            if path == c && !saved {
                saved = true;
                std::fs::write(&a, "a saved by the user").unwrap();
                std::fs::write(path, "c saved by the user").unwrap();
            }
        });
        let journal = Journal::open(dir.path()).unwrap();
        let result = journal.apply("fix", &changes);
        on_write(|_| {});
        let id = match result {
            Err(JournalError::Interrupted { path, id }) if path == paths[2] => id,
            other => panic!("{other:?}"),
        };
        let texts: Vec<String> = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert_eq!(
            texts,
            ["a saved by the user", "old b.ts", "c saved by the user"]
        );
        assert_eq!(journal.incomplete().unwrap().len(), 1);
        let refused = journal.undo(Some(id), false, "undo").unwrap_err();
        assert!(
            matches!(&refused, JournalError::ChangedSince { files, .. } if *files == [paths[0].clone(), paths[2].clone()]),
            "{refused}"
        );
    }

    #[test]
    fn apply_then_undo_restores_bytes_and_undo_of_undo_redoes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.ts");
        let b = dir.path().join("b.ts");
        std::fs::write(&a, b"old a\r\n\xef\xbb\xbf").unwrap();
        std::fs::write(&b, b"old b").unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let changes = vec![
            FileChange {
                path: a.clone(),
                new: Some(b"new a".to_vec()),
                base_hash: None,
            },
            FileChange {
                path: b.clone(),
                new: None,
                base_hash: None,
            },
        ];
        let tx = journal.apply("krepis fix", &changes).unwrap();
        assert_eq!(tx.state, TxState::Complete);
        assert_eq!(std::fs::read(&a).unwrap(), b"new a");
        assert!(!b.exists());
        let undo = journal.undo(None, false, "krepis undo").unwrap();
        assert_eq!(undo.undoes, Some(tx.id));
        assert_eq!((tx.id, undo.id), (1, 2));
        assert_eq!(std::fs::read(&a).unwrap(), b"old a\r\n\xef\xbb\xbf");
        assert_eq!(std::fs::read(&b).unwrap(), b"old b");
        assert!(
            matches!(journal.get(tx.id).unwrap().state, TxState::Undone { by } if by == undo.id)
        );
        // Redo: undoing the undo brings the fix back.
        journal.undo(None, false, "krepis undo").unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"new a");
        assert_eq!(journal.list().unwrap().len(), 3);
        assert!(matches!(
            journal.undo(Some(tx.id), false, "x"),
            Err(JournalError::AlreadyUndone { .. })
        ));
    }

    #[test]
    fn undo_refuses_when_a_file_changed_since_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.ts");
        std::fs::write(&a, "old").unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal
            .apply(
                "fix",
                &[FileChange {
                    path: a.clone(),
                    new: Some(b"new".to_vec()),
                    base_hash: None,
                }],
            )
            .unwrap();
        std::fs::write(&a, "edited by hand").unwrap();
        let err = journal.undo(None, false, "undo").unwrap_err();
        assert!(
            matches!(&err, JournalError::ChangedSince { files, .. } if files == std::slice::from_ref(&a)),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "edited by hand");
        journal.undo(None, true, "undo --force").unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old");
    }

    #[test]
    fn a_file_changed_since_the_fix_was_computed_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.ts");
        std::fs::write(&a, "edited meanwhile").unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let change = FileChange {
            path: a.clone(),
            new: Some(b"fixed".to_vec()),
            base_hash: Some(content_hash(b"original")),
        };
        assert!(
            matches!(journal.apply("fix", &[change]), Err(JournalError::ChangedMeanwhile(p)) if p == a)
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "edited meanwhile");
        assert!(journal.list().unwrap().is_empty());
    }

    #[test]
    fn read_only_files_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.ts");
        let b = dir.path().join("b.ts");
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let mut permissions = std::fs::metadata(&b).unwrap().permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&b, permissions).unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let changes = [
            FileChange {
                path: a.clone(),
                new: Some(b"A".to_vec()),
                base_hash: None,
            },
            FileChange {
                path: b.clone(),
                new: Some(b"B".to_vec()),
                base_hash: None,
            },
        ];
        assert!(matches!(journal.apply("fix", &changes), Err(JournalError::ReadOnly(p)) if p == b));
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a");
        assert!(journal.list().unwrap().is_empty());
    }
}
