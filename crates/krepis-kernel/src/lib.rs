//! The Krepis kernel.
//!
//! Today it holds the journal: every file that `krepis fix` (and later the server and the
//! generators) writes goes through a transaction recorded durably before any file is touched, so
//! a crash leaves each file wholly old or wholly new and `krepis undo` can always restore it.
//! The sandboxed script engine and the C-ABI bridge join this crate later.

pub mod journal;

pub use journal::{FileChange, FileRecord, Journal, JournalError, Transaction, TxState};
