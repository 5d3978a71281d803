//! The Krepis kernel.
//!
//! Today it holds the journal: every file that `krepis fix` (and later the server and the
//! generators) writes goes through a transaction recorded durably before any file is touched, so
//! a crash leaves each file wholly old or wholly new and `krepis undo` can always restore it.
//! `engine` runs JavaScript/TypeScript in a fresh sandboxed instance per execution, under a
//! watchdog and heap and output caps (QuickJS embedded, behind the `Engine` trait).
//! `custom_rules` runs a project's rules written in TypeScript, and `generators` the built-in and
//! project generators whose file changes the language server offers as code actions.

pub mod custom_rules;
pub mod engine;
pub mod generators;
pub mod journal;
pub mod scripts;

pub use journal::{FileChange, FileRecord, Journal, JournalError, Transaction, TxState};
