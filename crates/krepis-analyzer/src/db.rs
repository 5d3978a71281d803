//! The Salsa database: inputs are file texts and the project settings; facts, resolutions, layers
//! and diagnostics are queries over them, so an edit recomputes only what it can change.
//!
//! Durability: files as read from disk and the project's settings are inputs of high
//! durability, a module's text once an editor changed it one of low durability. After an edit,
//! Salsa takes what was computed only from high-durability inputs as still valid without
//! walking its dependencies again, so the project-wide queries (the import graph, the names
//! used as values, the methods called on unknown receivers) look again only at the modules
//! whose share can have changed. The first edit of a module lowers its durability, and once
//! invalidates everything as any high-durability change does.

use rustc_hash::FxHashMap;
use salsa::Durability;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::facts::{self, ModuleFacts, Name};
use crate::project::ProjectSettings;
use crate::resolve::{self, Resolution};

/// The one database behind the CLI and the language server.
#[salsa::db]
#[derive(Clone, Default)]
pub struct AnalysisDatabase {
    storage: salsa::Storage<Self>,
    /// Facts persisted across runs, keyed by content (the CLI's is [`crate::cache`]).
    cache: Option<Arc<dyn FactsStore>>,
}

#[salsa::db]
impl salsa::Database for AnalysisDatabase {}

/// Where module facts are kept between runs, keyed by the hash of the text they come from and
/// of how it is parsed.
pub trait FactsStore: Send + Sync {
    fn facts(&self, content: u64, kind: u64) -> Option<ModuleFacts>;
    fn store_facts(&self, content: u64, kind: u64, facts: &ModuleFacts);
}

/// The database as queries see it: Salsa's, plus the persistent facts store when there is one.
#[salsa::db]
pub trait Db: salsa::Database {
    fn facts_cache(&self) -> Option<&dyn FactsStore>;
}

#[salsa::db]
impl Db for AnalysisDatabase {
    fn facts_cache(&self) -> Option<&dyn FactsStore> {
        self.cache.as_deref()
    }
}

/// The queries a database executed (not those it reused), for tests of incrementality.
#[derive(Clone, Default)]
pub struct ExecutionLog(Arc<std::sync::Mutex<Vec<String>>>);

impl ExecutionLog {
    /// Takes what was logged so far, like `file_diagnostics(Id(3))`.
    pub fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl AnalysisDatabase {
    /// A database that records every query it executes into `log`.
    pub fn with_execution_log(log: ExecutionLog) -> Self {
        let callback = move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind
                && let Ok(mut entries) = log.0.lock()
            {
                entries.push(format!("{database_key:?}"));
            }
        };
        Self {
            storage: salsa::Storage::new(Some(Box::new(callback))),
            cache: None,
        }
    }

    /// A database that reads and writes module facts through `cache`.
    pub fn with_cache(cache: Arc<dyn FactsStore>) -> Self {
        Self {
            storage: salsa::Storage::default(),
            cache: Some(cache),
        }
    }
}

/// One module's path and content.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    /// The text as read or edited; `None` for a module left unread at load because its file is
    /// known (by size, times and inode) to hold what an earlier run read: [`SourceFile::text`]
    /// reads it on first use, which most runs over a few changed files never need.
    #[returns(ref)]
    loaded: Option<Arc<str>>,
    /// xxh3 of the text, known without reading it for an unread module.
    #[returns(copy)]
    pub content: u64,
    /// The facts, for a module analysed as it was read and its text let go (see
    /// [`crate::LoadOptions::lean`]); `None` once its text is replaced.
    #[returns(ref)]
    preloaded_facts: Option<Arc<ModuleFacts>>,
}

impl SourceFile {
    /// A module with this text.
    pub fn with_text(db: &dyn Db, path: PathBuf, text: Arc<str>) -> SourceFile {
        let content = crate::config::xxhash(text.as_bytes());
        SourceFile::settled(db, path, Some(text), content, None)
    }

    /// A module not read yet, whose text hashes to `content`.
    pub fn unread(db: &dyn Db, path: PathBuf, content: u64) -> SourceFile {
        SourceFile::settled(db, path, None, content, None)
    }

    /// A module read and analysed at load, whose text is not kept: its content hash and its
    /// facts. The text is read again on first use.
    pub fn analysed(
        db: &dyn Db,
        path: PathBuf,
        content: u64,
        facts: Arc<ModuleFacts>,
    ) -> SourceFile {
        SourceFile::settled(db, path, None, content, Some(facts))
    }

    /// A module as read from disk: it changes seldom (see [`crate::db`]'s durability note), so
    /// an edit of another module leaves what is computed from it alone without looking again.
    fn settled(
        db: &dyn Db,
        path: PathBuf,
        loaded: Option<Arc<str>>,
        content: u64,
        facts: Option<Arc<ModuleFacts>>,
    ) -> SourceFile {
        SourceFile::builder(path, loaded, content, facts)
            .durability(Durability::HIGH)
            .new(db)
    }

    /// The module's text (read from disk on first use if it was left unread).
    pub fn text(self, db: &dyn Db) -> &Arc<str> {
        match self.loaded(db) {
            Some(text) => text,
            None => unread_text(db, self),
        }
    }

    /// Whether the text is in memory (it was read, or given by an editor).
    pub fn is_loaded(self, db: &dyn Db) -> bool {
        self.loaded(db).is_some()
    }

    /// Replaces the text.
    pub fn replace_text(self, db: &mut AnalysisDatabase, text: Arc<str>) {
        use salsa::Setter;
        let content = crate::config::xxhash(text.as_bytes());
        // An edited module is edited again soon: from now on its changes are the frequent kind.
        if self.content(db) != content {
            self.set_content(db)
                .with_durability(Durability::LOW)
                .to(content);
        }
        self.set_loaded(db)
            .with_durability(Durability::LOW)
            .to(Some(text));
        if self.preloaded_facts(db).is_some() {
            self.set_preloaded_facts(db)
                .with_durability(Durability::LOW)
                .to(None);
        }
    }
}

/// The text of a module left unread at load. A file that cannot be read any more (deleted
/// since) reads as empty; the next run sees it gone.
#[salsa::tracked(returns(ref))]
fn unread_text(db: &dyn Db, file: SourceFile) -> Arc<str> {
    Arc::from(crate::files::read_source(file.path(db)).unwrap_or_default())
}

/// The set of known files and the settings that govern them.
#[salsa::input(singleton)]
pub struct Project {
    #[returns(ref)]
    pub files: Arc<FxHashMap<PathBuf, SourceFile>>,
    #[returns(ref)]
    pub settings: Arc<ProjectSettings>,
    /// Whether import targets may also be looked up on disk (not for in-memory projects).
    pub disk_fallback: bool,
    /// Modules whose share of the project-wide queries an earlier run computed and that
    /// nothing since can have changed (see [`crate::summary`]); empty but in the CLI.
    #[returns(ref)]
    pub summaries: Arc<FxHashMap<SourceFile, Arc<ModuleSummary>>>,
    /// Whether the receiver of every method call is typed, not only of the calls a rule may
    /// ask about (see [`crate::model::watched_methods`]): a run that stores the modules'
    /// summaries for the next one needs them all, as its summaries must hold whatever the
    /// other modules become.
    pub types_every_receiver: bool,
}

/// What an earlier run learned of `file` for the project-wide queries, when it still holds.
pub fn summary_of(db: &dyn Db, file: SourceFile) -> Option<&Arc<ModuleSummary>> {
    Project::get(db).summaries(db).get(&file)
}

/// The facts of one module: parsed once, owned, compared for equality so unchanged facts stop
/// recomputation here.
#[salsa::tracked]
pub fn module_facts(db: &dyn Db, file: SourceFile) -> Arc<ModuleFacts> {
    if let Some(facts) = file.preloaded_facts(db) {
        return facts.clone();
    }
    Arc::new(facts_of(
        db.facts_cache(),
        file.path(db),
        file.content(db),
        || file.text(db),
    ))
}

/// The facts of a module whose text hashes to `content`: from `store` if it has them (the text
/// is then not read), gathered from `text()` otherwise and stored, keyed by the hash of the text
/// they come from (an unread file may have changed since `content` was taken).
pub(crate) fn facts_of<'a>(
    store: Option<&dyn FactsStore>,
    path: &Path,
    content: u64,
    text: impl FnOnce() -> &'a str,
) -> ModuleFacts {
    let Some(store) = store else {
        return facts::extract(path, text());
    };
    let kind = facts_kind(path);
    if let Some(facts) = store.facts(content, kind) {
        return facts;
    }
    let text = text();
    let facts = facts::extract(path, text);
    store.store_facts(crate::config::xxhash(text.as_bytes()), kind, &facts);
    facts
}

/// What facts depend on besides the text: how it is parsed (TS, TSX, JS…), told by the
/// extension; never the configuration.
fn facts_kind(path: &Path) -> u64 {
    crate::config::xxhash(
        path.extension()
            .map(|e| e.as_encoded_bytes())
            .unwrap_or_default(),
    )
}

/// Where each import of a module leads, in the order of `ModuleFacts::imports`.
#[salsa::tracked]
pub fn resolved_imports(db: &dyn Db, file: SourceFile) -> Arc<Vec<Resolution>> {
    let project = Project::get(db);
    let settings = project.settings(db).resolver_for(file.path(db));
    let disk = project.disk_fallback(db);
    let known = |p: &Path| project_file(db, p).is_some();
    let lookup = resolve::Lookup {
        known: &known,
        disk: *disk,
    };
    let facts = module_facts(db, file);
    let path = file.path(db);
    Arc::new(
        facts
            .imports
            .iter()
            .map(|import| resolve::resolve(path, &import.specifier, &settings, &lookup))
            .collect(),
    )
}

/// The project's modules by [`path_key`]: the same map as `Project::files`, whose lookups
/// (every candidate of every import) hash a path component by component.
#[salsa::tracked(returns(ref))]
pub fn files_by_key(db: &dyn Db) -> Arc<FxHashMap<Box<[u8]>, SourceFile>> {
    let files = Project::get(db).files(db);
    let mut out = FxHashMap::default();
    out.reserve(files.len());
    for (path, &file) in files.iter() {
        out.insert(path_key(path).into_owned().into_boxed_slice(), file);
    }
    Arc::new(out)
}

/// The project module at `path`, if there is one.
pub fn project_file(db: &dyn Db, path: &Path) -> Option<SourceFile> {
    files_by_key(db).get(path_key(path).as_ref()).copied()
}

/// A path's bytes as path equality sees them: equal paths have equal keys. Separators
/// collapse and `.` components drop out, as `Path`'s own comparison does; `..` stays.
/// (On Unix; elsewhere, the path's text as it is.)
fn path_key(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    let bytes = path.as_os_str().as_encoded_bytes();
    if !cfg!(unix) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    // Already in that form (the usual case): no `//`, no `/./`, no `/` or `/.` at the end, no
    // leading `./`.
    // (`//` and `/./` found from each `/`: a path has a few, and every candidate of every
    // import is looked up.)
    let unusual = bytes.starts_with(b"./")
        || bytes == b"."
        || memchr::memchr_iter(b'/', bytes).any(|k| match bytes.get(k + 1) {
            Some(b'/') => true,
            Some(b'.') => bytes.get(k + 2) == Some(&b'/'),
            _ => false,
        })
        || (bytes.len() > 1 && bytes.ends_with(b"/"))
        || bytes.ends_with(b"/.");
    if !unusual {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let rooted = bytes.first() == Some(&b'/');
    let mut out = Vec::with_capacity(bytes.len());
    if rooted {
        out.push(b'/');
    } else if bytes.starts_with(b"./") || bytes == b"." {
        // A leading `.` is a component of its own to `Path`.
        out.push(b'.');
    }
    let mut first = true;
    for segment in bytes.split(|&b| b == b'/') {
        if segment.is_empty() || segment == b"." {
            continue;
        }
        if !first || (!rooted && out == b".") {
            out.push(b'/');
        }
        out.extend_from_slice(segment);
        first = false;
    }
    std::borrow::Cow::Owned(out)
}

/// Every module, in path order: the order project-wide results are reported in.
#[salsa::tracked]
pub fn sorted_files(db: &dyn Db) -> Arc<Vec<SourceFile>> {
    let mut files: Vec<SourceFile> = Project::get(db).files(db).values().copied().collect();
    // Byte order: stable across runs, and cheaper than comparing path components.
    files.sort_by(|a, b| a.path(db).as_os_str().cmp(b.path(db).as_os_str()));
    Arc::new(files)
}

/// One module's share of the project-wide queries, in memory (see [`crate::summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSummary {
    pub edges: Arc<Vec<ImportEdge>>,
    pub unresolved_methods: Arc<Vec<Name>>,
    pub value_uses: Vec<Name>,
    pub context_methods: Vec<Name>,
}

/// One import from a module to another module of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImportEdge {
    pub target: SourceFile,
    /// Index into the importer's `ModuleFacts::imports`.
    pub import: u32,
    pub type_only: bool,
}

/// The project module each import of `file` leads to, by import (`None`: outside the project,
/// or nowhere): looked up once per module rather than by path at every question.
#[salsa::tracked(returns(ref))]
pub fn import_targets(db: &dyn Db, file: SourceFile) -> Arc<[Option<SourceFile>]> {
    resolved_imports(db, file)
        .iter()
        .map(|resolution| match resolution {
            Resolution::File(path) => project_file(db, path),
            _ => None,
        })
        .collect()
}

/// The project module import `index` of `file` leads to.
pub fn import_target(db: &dyn Db, file: SourceFile, index: usize) -> Option<SourceFile> {
    import_targets(db, file).get(index).copied().flatten()
}

/// The imports of a module that lead to project modules. Spans are left out on purpose: an edit
/// that only moves code leaves the edges equal, and the project-wide graph is not rebuilt.
#[salsa::tracked]
pub fn import_edges(db: &dyn Db, file: SourceFile) -> Arc<Vec<ImportEdge>> {
    if let Some(summary) = summary_of(db, file) {
        return summary.edges.clone();
    }
    let facts = module_facts(db, file);
    let targets = import_targets(db, file);
    let mut edges: Vec<ImportEdge> = Vec::new();
    for (k, (import, target)) in facts.imports.iter().zip(targets.iter()).enumerate() {
        let Some(target) = *target else {
            continue;
        };
        let type_only = import.is_type_only();
        edges.push(ImportEdge {
            target,
            import: k as u32,
            type_only,
        });
    }
    Arc::new(edges)
}

#[cfg(test)]
mod tests {
    use super::path_key;
    use std::path::Path;

    #[cfg(unix)]
    #[test]
    fn paths_equal_as_paths_have_equal_keys() {
        let paths = crate::testing::awkward_paths(3);
        let all: Vec<String> = paths
            .iter()
            .flat_map(|p| [p.clone(), format!("/{p}")])
            .collect();
        for a in &all {
            for b in all.iter().step_by(7) {
                let (pa, pb) = (Path::new(a), Path::new(b));
                assert_eq!(pa == pb, path_key(pa) == path_key(pb), "{a:?} and {b:?}");
            }
        }
    }
}
