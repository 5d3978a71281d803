//! Krepis analysis: configuration, parsing into per-module facts, the Salsa database, the project
//! model (files, resolution, layers) and the rules with their fixes.
//!
//! This crate knows nothing of LSP, terminals or the kernel: `krepis-cli` and `krepis-lsp` are thin
//! layers over [`Workspace`]. Its modules form a stack (`ARCHITECTURE.md` draws it): facts →
//! model → rules → queries → workspace, over the leaves that name the rules and read the files.

pub mod barrels;
pub mod baseline;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod db;
pub mod diagnostic;
pub mod directives;
pub mod facts;
pub mod files;
pub mod fix;
pub mod graph;
pub mod jsonc;
pub mod layers;
pub mod line_index;
pub mod model;
pub mod packages;
pub mod project;
pub mod queries;
pub mod resolve;
pub mod rules;
pub mod settings;
pub mod signatures;
pub mod summary;
pub mod suppressions;
#[doc(hidden)]
pub mod testing;
pub mod workspace;
pub mod workspaces;

pub use workspace::{FileResult, LoadError, LoadOptions, Note, Workspace};
