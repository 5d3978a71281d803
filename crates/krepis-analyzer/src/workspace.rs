//! A workspace: the files found under the paths a user asked for, loaded into the database, and
//! checked in parallel. The CLI and the language server both go through here.

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use salsa::Setter;

use crate::config::Config;
use crate::db::{AnalysisDatabase, Project, SourceFile, resolved_imports};
use crate::diagnostic::Diagnostic;
use crate::facts::is_checkable_path;
pub use crate::files::{MAX_FILE_BYTES, read_source};
use crate::files::{open_regular, read_open};
use crate::project::{ProjectSettings, SettingsError};
use crate::queries::file_diagnostics;
use crate::summary::FileStamp;

/// Why a workspace could not be loaded: always a usage, config or I/O problem (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{}: no such file or folder", .0.display())]
    NotFound(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A file that was seen but not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub path: PathBuf,
    pub message: String,
}

/// How to load a workspace.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config FILE`: one configuration for every file.
    pub config_file: Option<PathBuf>,
    /// The folder relative paths are taken from and the embedded default applies to.
    pub base_dir: PathBuf,
    /// Module facts persisted across runs.
    pub cache: Option<Arc<crate::cache::Cache>>,
    /// Keep no text in memory once its module's facts exist: the facts are gathered as each file
    /// is read, and a text is read again only when something asks for it (the diagnostics of a
    /// file to show). For runs that analyse each file once and do not edit (`krepis check`).
    pub lean: bool,
}

/// The diagnostics of one checked file.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub path: PathBuf,
    /// The file's text; empty when it is not in memory (a lean load's, see
    /// [`LoadOptions::lean`]): [`FileResult::source`] reads it when it is needed.
    pub text: Arc<str>,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

impl FileResult {
    /// The file's text: the one in memory, else read from disk again (empty if it cannot be
    /// read any more). Not kept: the caller lets it go when it is done with the file.
    pub fn source(&self) -> Arc<str> {
        if !self.text.is_empty() {
            return self.text.clone();
        }
        crate::files::read_source(&self.path)
            .map(Arc::from)
            .unwrap_or_else(|_| Arc::from(""))
    }

    /// The text this result's findings are shown in: [`FileResult::source`] when it has any; a
    /// result without findings has nothing to show and reads nothing.
    pub fn findings_text(&self) -> Arc<str> {
        if self.diagnostics.is_empty() {
            self.text.clone()
        } else {
            self.source()
        }
    }
}

/// A read-only view of the database at one revision, for answering requests on other threads.
///
/// Queries on a snapshot unwind with `salsa::Cancelled` when the workspace is edited; callers run
/// them inside [`salsa::Cancelled::catch`] and drop stale answers.
#[derive(Clone)]
pub struct Snapshot {
    db: AnalysisDatabase,
}

/// What hovering an import shows: the layers of both ends and the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    pub range: crate::diagnostic::TextRange,
    pub specifier: String,
    /// The file it resolves to, relative to the config's folder; `None` when external.
    pub target: Option<String>,
    pub from_layer: Option<String>,
    pub to_layer: Option<String>,
    /// `Err` with the reason when the layer rules forbid the import.
    pub verdict: Result<(), String>,
}

impl Snapshot {
    /// The module at `path`.
    pub fn file(&self, path: &Path) -> Option<SourceFile> {
        Project::get(&self.db).files(&self.db).get(path).copied()
    }

    /// Every known module, in path order.
    pub fn files(&self) -> Vec<SourceFile> {
        crate::db::sorted_files(&self.db).to_vec()
    }

    pub fn path(&self, file: SourceFile) -> PathBuf {
        file.path(&self.db).clone()
    }

    pub fn text(&self, file: SourceFile) -> Arc<str> {
        file.text(&self.db).clone()
    }

    pub fn diagnostics(&self, file: SourceFile) -> Arc<Vec<Diagnostic>> {
        file_diagnostics(&self.db, file).clone()
    }

    pub fn facts(&self, file: SourceFile) -> Arc<crate::facts::ModuleFacts> {
        crate::db::module_facts(&self.db, file).clone()
    }

    /// The configuration that governs the file at `path`.
    pub fn config_for(&self, path: &Path) -> Arc<crate::config::Config> {
        Project::get(&self.db)
            .settings(&self.db)
            .config_for(path)
            .clone()
    }

    /// The import whose specifier covers byte `offset`, with its layers.
    pub fn import_at(&self, file: SourceFile, offset: u32) -> Option<ImportInfo> {
        let db = &self.db;
        let facts = crate::db::module_facts(db, file);
        let position = facts
            .imports
            .iter()
            .position(|i| i.range.contains(offset))?;
        let import = &facts.imports[position];
        let settings = Project::get(db).settings(db);
        let config = settings.config_for(file.path(db));
        let from = crate::queries::file_layer(db, file);
        let (target, to) = match &resolved_imports(db, file)[position] {
            crate::resolve::Resolution::File(path) => {
                let relative = config.relative(path);
                let to = relative.as_deref().and_then(|r| config.layers.classify(r));
                (
                    Some(relative.unwrap_or_else(|| crate::config::slash_path(path))),
                    to,
                )
            }
            _ => (None, None),
        };
        let verdict = match (&from, &to) {
            (Some(a), Some(b)) => config.layers.check_edge(a, b).map_err(|v| match v {
                crate::layers::EdgeViolation::NotAllowed { from, to } => {
                    format!("layer `{from}` must not import layer `{to}`")
                }
                crate::layers::EdgeViolation::Isolated { layer, capture, from, to } => {
                    format!("`{from}` must not import `{to}`: layer `{layer}` keeps each `{capture}` apart")
                }
            }),
            _ => Ok(()),
        };
        Some(ImportInfo {
            range: import.range,
            specifier: import.specifier.to_string(),
            target,
            from_layer: from
                .as_ref()
                .map(|m| config.layers.name(m.layer).to_string()),
            to_layer: to.map(|m| config.layers.name(m.layer).to_string()),
            verdict,
        })
    }
}

/// Loaded files and the database that analyses them.
pub struct Workspace {
    db: AnalysisDatabase,
    /// The files the user asked about (others are known only so imports resolve).
    checked: Vec<SourceFile>,
    /// Files skipped with a reason (binary, too large, unreadable).
    pub notes: Vec<Note>,
    /// Files under the checked paths that the config ignores (tests, say): known but not checked,
    /// so their calls count when a fix decides whether it can see every caller, and `krepis fix`
    /// threads the context through them (see [`Workspace::ignored_files`]).
    ignored: Vec<SourceFile>,
    /// The paths the user asked about, absolute (files or folders).
    roots: Vec<PathBuf>,
    /// Each file's stamp when it was read and the hash of what it held then, for the files that
    /// had settled (see [`crate::summary::FileStamp`]).
    stamps: FxHashMap<PathBuf, (FileStamp, u64)>,
    /// The persistent cache the database reads facts through, which also keeps the summaries.
    cache: Option<Arc<crate::cache::Cache>>,
}

fn absolute(path: &Path, base: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    crate::resolve::normalize(&joined)
}

/// The key under which the summaries of a run over these checked paths are kept.
fn snapshot_key(roots: &[PathBuf]) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    for root in roots {
        hasher.update(root.as_os_str().as_encoded_bytes());
        hasher.update(b"\0");
    }
    hasher.digest()
}

/// A module of the database for what loading found, noting its stamp.
fn new_file(
    db: &AnalysisDatabase,
    stamps: &mut FxHashMap<PathBuf, (FileStamp, u64)>,
    path: PathBuf,
    loaded: Loaded,
) -> SourceFile {
    match loaded {
        Loaded::Text(text, stamp) => {
            if let Some(stamp) = stamp {
                stamps.insert(path.clone(), stamp);
            }
            SourceFile::with_text(db, path, Arc::from(text))
        }
        Loaded::Unread(stamp, content) => {
            stamps.insert(path.clone(), (stamp, content));
            SourceFile::unread(db, path, content)
        }
        Loaded::Analysed(content, stamp, facts) => {
            if let Some(stamp) = stamp {
                stamps.insert(path.clone(), (stamp, content));
            }
            SourceFile::analysed(db, path, content, facts)
        }
    }
}

/// Walks `root`, honouring `.gitignore` and always skipping `node_modules` and `.git`.
/// Folders the walk could not enter become `notes`: the check goes on without them.
/// The walk runs on several threads; what it finds is the same whatever order they find it in
/// (a set of files, the folders' settings, and the notes in path order).
fn walk(
    root: &Path,
    settings: &mut ProjectSettings,
    out: &mut FxHashSet<PathBuf>,
    notes: &mut Vec<Note>,
) {
    #[derive(Default)]
    struct Found {
        dirs: Vec<PathBuf>,
        files: Vec<PathBuf>,
        notes: Vec<Note>,
    }
    let found = std::sync::Mutex::new(Found::default());
    crate::files::project_walk_builder(root)
        .build_parallel()
        .run(|| {
            let found = &found;
            Box::new(move |entry| {
                // A few thousand entries: one short lock each costs nothing beside the listing.
                let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                // An unreadable folder deep in the tree should not stop the check of everything
                // else.
                match entry {
                    Ok(entry) => {
                        let path = entry.path();
                        if entry.file_type().is_some_and(|t| t.is_dir()) {
                            found.dirs.push(path.to_path_buf());
                        } else if is_checkable_path(path) {
                            found.files.push(path.to_path_buf());
                        }
                    }
                    Err(error) => found.notes.push(walk_note(error, root)),
                }
                ignore::WalkState::Continue
            })
        });
    let Found {
        dirs,
        files,
        notes: mut found_notes,
    } = found.into_inner().unwrap_or_else(|e| e.into_inner());
    in_analysis_pool(|| settings.scan_dirs(&dirs));
    out.extend(files);
    found_notes.sort_by(|a, b| a.path.cmp(&b.path));
    notes.extend(found_notes);
}

/// Runs `work` on a thread pool whose threads have room for the parser's recursion on deeply
/// nested code.
fn in_analysis_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    // One pool for the life of the process, made on first use: every phase (the load's parse
    // included, which recurses as deep as the code nests) runs on the same threads with the
    // analysis stack, instead of starting and ending threads per phase.
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(crate::facts::ANALYSIS_STACK_BYTES)
            .thread_name(|i| format!("krepis-analysis-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// What the user is told about a part of the tree the walk could not read.
fn walk_note(mut error: ignore::Error, root: &Path) -> Note {
    let mut path = root.to_path_buf();
    loop {
        error = match error {
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                *err
            }
            ignore::Error::WithPath { path: p, err } => {
                path = p;
                *err
            }
            other => {
                error = other;
                break;
            }
        };
    }
    // The kind of error alone (`permission denied`): the path is already the note's. (The
    // parallel walk hands over the system's error, the sequential one its kind only: both say
    // the kind.) A kind that says nothing gives way to the system's words, without the number.
    let io = error.io_error().map(|io| {
        let kind = io.kind().to_string();
        match io.raw_os_error() {
            Some(code)
                if io.kind() == std::io::ErrorKind::Other || kind == "uncategorized error" =>
            {
                let said = std::io::Error::from_raw_os_error(code).to_string();
                match said.split_once(" (os error") {
                    Some((words, _)) => words.to_string(),
                    None => said,
                }
            }
            _ => kind,
        }
    });
    let message = match io {
        Some(io) if path.is_dir() => format!("folder skipped: cannot read: {io}"),
        Some(io) => format!("cannot read: {io}"),
        None => format!("skipped: {error}"),
    };
    Note { path, message }
}

/// What loading found of a module.
enum Loaded {
    /// Read now; with its stamp if the file had settled.
    Text(String, Option<(FileStamp, u64)>),
    /// Read now and analysed, the text let go (see [`LoadOptions::lean`]): its content hash, its
    /// stamp if the file had settled, and its facts.
    Analysed(u64, Option<FileStamp>, Arc<crate::facts::ModuleFacts>),
    /// Left unread: its stamp is the one an earlier run read this content (by hash) under.
    Unread(FileStamp, u64),
}

/// Reads a module, unless its stamp is `earlier`'s (then its content is what that says).
fn load_module(
    path: &Path,
    earlier: Option<&(FileStamp, u64)>,
    read_at: std::time::SystemTime,
) -> Result<Loaded, String> {
    let (file, metadata) = open_regular(path)?;
    let stamp = FileStamp::of(&metadata);
    if let Some(&(known, content)) = earlier
        && known == stamp
    {
        return Ok(Loaded::Unread(stamp, content));
    }
    let text = read_open(file, &metadata)?;
    let settled = stamp
        .settled(read_at)
        .then(|| (stamp, crate::config::xxhash(text.as_bytes())));
    Ok(Loaded::Text(text, settled))
}

/// The facts of a module just read, for a lean load: from the facts cache if it has them,
/// gathered now otherwise (and stored there); the text is dropped either way.
fn analyse_now(
    path: &Path,
    text: String,
    settled: Option<(FileStamp, u64)>,
    cache: Option<&crate::cache::Cache>,
) -> Loaded {
    let content = settled.map_or_else(|| crate::config::xxhash(text.as_bytes()), |(_, c)| c);
    let store = cache.map(|cache| cache as &dyn crate::db::FactsStore);
    let facts = crate::db::facts_of(store, path, content, || &text);
    Loaded::Analysed(content, settled.map(|(stamp, _)| stamp), Arc::new(facts))
}

/// The text a result carries: the text in memory, if there is one (see [`FileResult::source`]).
fn result_text(db: &AnalysisDatabase, file: SourceFile) -> Arc<str> {
    if file.is_loaded(db) {
        file.text(db).clone()
    } else {
        Arc::from("")
    }
}

/// Computes `file`'s share of the project-wide queries that a check of any module asks for.
fn warm_project_shares(db: &AnalysisDatabase, file: SourceFile) {
    crate::db::import_edges(db, file);
    let config = Project::get(db).settings(db).config_for(file.path(db));
    let rules = &config.rules;
    if rules
        .severity(crate::catalog::RuleId::ExplicitContext)
        .is_some()
        || rules
            .severity(crate::catalog::RuleId::ContextPropagation)
            .is_some()
    {
        crate::model::module_unresolved_methods(db, file);
        crate::signatures::module_signatures(db, file);
    }
}

impl Workspace {
    /// Finds and reads the modules under `paths` (files or folders), with their settings.
    pub fn load(paths: &[PathBuf], options: &LoadOptions) -> Result<Workspace, LoadError> {
        let base = absolute(
            &options.base_dir,
            &std::env::current_dir().unwrap_or_default(),
        );
        let override_config = match &options.config_file {
            Some(file) => {
                let file = absolute(file, &base);
                Some(Arc::new(
                    Config::load_file(&file).map_err(SettingsError::from)?,
                ))
            }
            None => None,
        };
        let mut settings = ProjectSettings::new(&base, override_config);
        let mut notes = Vec::new();
        let roots: Vec<PathBuf> = if paths.is_empty() {
            vec![base.clone()]
        } else {
            paths.iter().map(|p| absolute(p, &base)).collect()
        };
        let mut requested = FxHashSet::default();
        // Projects some checked paths lie inside of without covering them: imports from the
        // checked files into the rest of such a project are followed (and only those).
        let mut partial_projects: Vec<PathBuf> = Vec::new();
        for root in &roots {
            if !root.exists() {
                return Err(LoadError::NotFound(root.clone()));
            }
            let dir = if root.is_dir() {
                root.clone()
            } else {
                root.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            settings.scan_ancestors(&dir);
            if let Some(error) = settings.error_for(&dir.join("x")) {
                return Err(error.clone().into());
            }
            // Without a configuration, the project is the nearest folder that looks like one
            // (a `package.json`, `tsconfig.json`, `.git`…), never more.
            let project_dir = match settings.config_dir_for(&dir.join("x")) {
                Some(config_dir) => config_dir.to_path_buf(),
                None => {
                    // …and never above the folder the command runs in, when that lies between.
                    let marked = crate::project::project_root_of(&dir);
                    let root_dir =
                        if dir.starts_with(&base) && marked.is_none_or(|m| base.starts_with(m)) {
                            base.clone()
                        } else {
                            marked.map_or_else(|| dir.clone(), Path::to_path_buf)
                        };
                    settings.default_at(&root_dir);
                    root_dir
                }
            };
            walk(root, &mut settings, &mut requested, &mut notes);
            if project_dir != *root && root.starts_with(&project_dir) {
                partial_projects.push(project_dir);
            }
        }
        let (mut requested, mut ignored): (Vec<PathBuf>, Vec<PathBuf>) = requested
            .into_iter()
            .partition(|p| !settings.config_for(p).is_ignored(p));
        // Declarations and packages are not the project's code to edit.
        ignored.retain(|p| {
            !p.to_string_lossy().ends_with(".d.ts")
                && !p.components().any(|c| c.as_os_str() == "node_modules")
        });
        ignored.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        // Byte order: stable across runs, and cheaper than comparing path components.
        requested.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        // A settings file is an error only for the files it governs.
        if let Some(error) = requested.iter().find_map(|p| settings.error_for(p)) {
            return Err(error.clone().into());
        }
        // What the last run over these paths read: files with the same stamp are not read again.
        let earlier = options
            .cache
            .as_ref()
            .and_then(|cache| cache.snapshot(snapshot_key(&roots)));
        let stamped: FxHashMap<&Path, (FileStamp, u64)> = earlier
            .iter()
            .flat_map(|s| &s.files)
            .filter_map(|m| Some((m.path.as_path(), (m.stamp?, m.content))))
            .collect();
        let read_at = std::time::SystemTime::now();
        let facts_cache = options.cache.clone();
        let load = |p: &PathBuf| {
            let loaded = load_module(p, stamped.get(p.as_path()), read_at);
            match loaded {
                Ok(Loaded::Text(text, settled)) if options.lean => {
                    Ok(analyse_now(p, text, settled, facts_cache.as_deref()))
                }
                other => other,
            }
        };
        let texts: Vec<(PathBuf, Result<Loaded, String>, bool)> = in_analysis_pool(|| {
            let texts = requested
                .par_iter()
                .map(|p| (p.clone(), load(p), true))
                .chain(ignored.par_iter().map(|p| (p.clone(), load(p), false)))
                .collect();
            // The syntax trees are gone: each thread hands back the arena its largest file
            // grew, for the queries to come.
            rayon::broadcast(|_| crate::facts::release_parse_arena());
            texts
        });
        let db = match &options.cache {
            Some(cache) => AnalysisDatabase::with_cache(cache.clone()),
            None => AnalysisDatabase::default(),
        };
        let mut files = FxHashMap::default();
        let mut checked = Vec::new();
        let mut ignored = Vec::new();
        let mut stamps = FxHashMap::default();
        for (path, text, is_checked) in texts {
            match text {
                Ok(loaded) => {
                    let file = new_file(&db, &mut stamps, path.clone(), loaded);
                    files.insert(path, file);
                    if is_checked {
                        checked.push(file);
                    } else {
                        ignored.push(file);
                    }
                }
                Err(message) if is_checked => notes.push(Note { path, message }),
                // An ignored file that cannot be read is simply not followed.
                Err(_) => {}
            }
        }
        let _ = Project::builder(
            Arc::new(files),
            Arc::new(settings.clone()),
            true,
            Arc::default(),
            options.cache.is_some(),
        )
        .durability(salsa::Durability::HIGH)
        .new(&db);
        let mut workspace = Workspace {
            db,
            checked,
            notes,
            ignored,
            roots,
            stamps,
            cache: options.cache.clone(),
        };
        if !partial_projects.is_empty() {
            workspace.load_imported(settings, &partial_projects, &stamped, read_at);
        }
        if let Some(earlier) = &earlier {
            workspace.attach_summaries(earlier);
        }
        Ok(workspace)
    }

    /// Reads, on demand, the modules that the known ones import inside `projects`, and theirs in
    /// turn, so checking one folder costs what that folder and its dependencies cost.
    fn load_imported(
        &mut self,
        mut settings: ProjectSettings,
        projects: &[PathBuf],
        stamped: &FxHashMap<&Path, (FileStamp, u64)>,
        read_at: std::time::SystemTime,
    ) {
        let mut frontier: Vec<SourceFile> = self.checked.clone();
        frontier.extend(&self.ignored);
        while !frontier.is_empty() {
            let db = self.db.clone();
            let targets: Vec<PathBuf> = in_analysis_pool(|| {
                frontier
                    .par_iter()
                    .map_with(db, |db, &file| {
                        resolved_imports(db, file)
                            .iter()
                            .filter_map(|r| match r {
                                crate::resolve::Resolution::File(path) => Some(path.clone()),
                                _ => None,
                            })
                            .collect::<Vec<_>>()
                    })
                    .flatten()
                    .collect()
            });
            let project = Project::get(&self.db);
            let known = project.files(&self.db);
            let mut new: Vec<PathBuf> = targets
                .into_iter()
                .filter(|p| {
                    !known.contains_key(p)
                        && projects.iter().any(|dir| p.starts_with(dir))
                        && is_checkable_path(p)
                        && !p.components().any(|c| c.as_os_str() == "node_modules")
                })
                .collect();
            new.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
            new.dedup();
            for path in &new {
                if let Some(dir) = path.parent() {
                    settings.scan_ancestors(dir);
                }
            }
            new.retain(|p| !settings.config_for(p).is_ignored(p));
            let texts: Vec<(PathBuf, Result<Loaded, String>)> = new
                .par_iter()
                .map(|p| (p.clone(), load_module(p, stamped.get(p.as_path()), read_at)))
                .collect();
            let mut files = (**known).clone();
            frontier.clear();
            for (path, text) in texts {
                // A dependency that cannot be read is simply not followed: it is not checked.
                if let Ok(loaded) = text {
                    let file = new_file(&self.db, &mut self.stamps, path.clone(), loaded);
                    files.insert(path, file);
                    frontier.push(file);
                }
            }
            if frontier.is_empty() {
                break;
            }
            project.set_files(&mut self.db).to(Arc::new(files));
            project
                .set_settings(&mut self.db)
                .to(Arc::new(settings.clone()));
        }
    }

    /// A workspace of in-memory files (tests, editors): no disk access at all.
    pub fn from_memory(settings: ProjectSettings, sources: Vec<(PathBuf, String)>) -> Workspace {
        Self::from_memory_in(AnalysisDatabase::default(), settings, sources)
    }

    /// [`Workspace::from_memory`] on a given database (one with an execution log, say).
    pub fn from_memory_in(
        db: AnalysisDatabase,
        settings: ProjectSettings,
        sources: Vec<(PathBuf, String)>,
    ) -> Workspace {
        let mut files = FxHashMap::default();
        let mut checked = Vec::new();
        for (path, text) in sources {
            let file = SourceFile::with_text(&db, path.clone(), Arc::from(text));
            files.insert(path, file);
            checked.push(file);
        }
        let _ = Project::builder(
            Arc::new(files),
            Arc::new(settings),
            false,
            Arc::default(),
            false,
        )
        .durability(salsa::Durability::HIGH)
        .new(&db);
        Workspace {
            db,
            checked,
            notes: Vec::new(),
            ignored: Vec::new(),
            roots: Vec::new(),
            stamps: FxHashMap::default(),
            cache: None,
        }
    }

    /// Narrows the checked files to `changed` and the checked files whose findings can depend on
    /// them: those that import a changed file, directly or through other modules (layers and
    /// cycles follow imports; so do the signatures that context propagation checks calls
    /// against). The whole project stays loaded, so every finding is what a full run gives.
    /// Returns how many files are left to check.
    pub fn retain_changed(&mut self, changed: &[PathBuf]) -> usize {
        let db = self.db.clone();
        let files = Project::get(&self.db).files(&self.db).clone();
        let all: Vec<SourceFile> = files.values().copied().collect();
        let edges: Vec<(SourceFile, Vec<SourceFile>)> = in_analysis_pool(move || {
            all.par_iter()
                .map_with(db, |db, &file| {
                    let targets = crate::db::import_edges(db, file)
                        .iter()
                        .map(|e| e.target)
                        .collect();
                    (file, targets)
                })
                .collect()
        });
        let mut importers: FxHashMap<SourceFile, Vec<SourceFile>> = FxHashMap::default();
        for (file, targets) in edges {
            for target in targets {
                importers.entry(target).or_default().push(file);
            }
        }
        let mut keep: FxHashSet<SourceFile> = FxHashSet::default();
        let mut queue: Vec<SourceFile> = changed
            .iter()
            .filter_map(|p| files.get(p).copied())
            .collect();
        while let Some(file) = queue.pop() {
            if keep.insert(file) {
                queue.extend(importers.get(&file).into_iter().flatten().copied());
            }
        }
        self.checked.retain(|f| keep.contains(f));
        self.checked.len()
    }

    /// Takes from the cache the summaries of the modules that neither changed since the last
    /// run nor import a changed one, when the settings and the set of files are the same as
    /// then (see [`crate::summary`]).
    fn attach_summaries(&mut self, snapshot: &crate::summary::Snapshot) {
        let db = &self.db;
        let project = Project::get(db);
        if snapshot.settings != project.settings(db).fingerprint() {
            return;
        }
        let files = project.files(db);
        if !crate::summary::same_files(snapshot, files.keys()) {
            return;
        }
        let stored: Vec<(SourceFile, &crate::summary::StoredModule)> = snapshot
            .files
            .iter()
            .filter_map(|m| Some((*files.get(&m.path)?, m)))
            .collect();
        let changed: Vec<bool> = stored
            .iter()
            .map(|(file, m)| file.content(db) != m.content)
            .collect();
        let trusted = crate::summary::trusted(snapshot, &changed);
        let mut summaries = FxHashMap::default();
        for (i, (file, m)) in stored.iter().enumerate() {
            if !trusted[i] {
                continue;
            }
            let edges = m
                .edges
                .iter()
                .filter_map(|&(target, import, type_only)| {
                    Some(crate::db::ImportEdge {
                        target: stored.get(target as usize)?.0,
                        import,
                        type_only,
                    })
                })
                .collect();
            let summary = crate::summary::ModuleSummary {
                edges: Arc::new(edges),
                unresolved_methods: Arc::new(m.unresolved_methods.clone()),
                value_uses: m.value_uses.clone(),
                context_methods: m.context_methods.clone(),
            };
            summaries.insert(*file, Arc::new(summary));
        }
        project.set_summaries(&mut self.db).to(Arc::new(summaries));
    }

    /// Forgets the summaries of an earlier run: an edit or a new file may change what they say.
    fn drop_summaries(&mut self) {
        let project = Project::get(&self.db);
        if !project.summaries(&self.db).is_empty() {
            project.set_summaries(&mut self.db).to(Arc::default());
        }
    }

    /// Stores every module's share of the project-wide queries in the cache, for the next run
    /// (see [`crate::summary`]). Cheap after a check: what it stores is already computed, but
    /// for the modules a `--changed` run did not look into, which keep what they had.
    pub fn store_summaries(&self) {
        let Some(cache) = self.cache.as_deref() else {
            return;
        };
        let db = self.db.clone();
        let stamps = &self.stamps;
        let files = crate::db::sorted_files(&self.db).clone();
        let position: FxHashMap<SourceFile, u32> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, i as u32))
            .collect();
        let modules: Vec<crate::summary::StoredModule> = in_analysis_pool(|| {
            files
                .par_iter()
                .map_with(db, |db, &file| {
                    let edges = crate::db::import_edges(db, file)
                        .iter()
                        .filter_map(|e| Some((*position.get(&e.target)?, e.import, e.type_only)))
                        .collect();
                    let (value_uses, context_methods) = match crate::db::summary_of(db, file) {
                        Some(s) => (s.value_uses.clone(), s.context_methods.clone()),
                        None => (
                            crate::model::module_value_uses(db, file).to_vec(),
                            crate::model::module_context_methods(db, file),
                        ),
                    };
                    let path = file.path(db);
                    let content = file.content(db);
                    // A stamp stands for the content it was taken with, not for an edit since.
                    let stamp = stamps
                        .get(path)
                        .filter(|(_, read)| *read == content)
                        .map(|(stamp, _)| *stamp);
                    crate::summary::StoredModule {
                        path: path.clone(),
                        content,
                        stamp,
                        edges,
                        unresolved_methods: crate::model::module_unresolved_methods(db, file)
                            .to_vec(),
                        value_uses,
                        context_methods,
                    }
                })
                .collect()
        });
        let snapshot = crate::summary::Snapshot {
            settings: Project::get(&self.db).settings(&self.db).fingerprint(),
            files: modules,
        };
        cache.store_snapshot(snapshot_key(&self.roots), &snapshot);
    }

    /// The files and folders the user asked about, absolute.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    pub fn db(&self) -> &AnalysisDatabase {
        &self.db
    }

    /// A read-only view for other threads (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            db: self.db.clone(),
        }
    }

    /// The module at `path`, if the workspace knows it.
    pub fn file(&self, path: &Path) -> Option<SourceFile> {
        Project::get(&self.db).files(&self.db).get(path).copied()
    }

    /// Types the receiver of every method call from now on (see
    /// [`Project::types_every_receiver`]), for a workspace that answers edits: typing only the
    /// calls rules ask about makes every module's typing depend on one project-wide set of
    /// method names, which each edit would then verify module by module.
    pub fn type_every_receiver(&mut self) {
        let project = Project::get(&self.db);
        if !project.types_every_receiver(&self.db) {
            project.set_types_every_receiver(&mut self.db).to(true);
        }
    }

    /// Replaces (or adds) the text of the module at `path`; only what depends on it recomputes.
    pub fn set_text(&mut self, path: &Path, text: &str) -> SourceFile {
        if let Some(file) = self.file(path) {
            if **file.text(&self.db) != *text {
                self.drop_summaries();
                file.replace_text(&mut self.db, Arc::from(text));
            }
            return file;
        }
        self.drop_summaries();
        let file = SourceFile::with_text(&self.db, path.to_path_buf(), Arc::from(text));
        let project = Project::get(&self.db);
        let mut files = (**project.files(&self.db)).clone();
        files.insert(path.to_path_buf(), file);
        project.set_files(&mut self.db).to(Arc::new(files));
        self.checked.push(file);
        file
    }

    /// The text of the module at `path` with its fixes applied in rounds (a parameter added, then
    /// the calls in the file that pass it), as `krepis fix` would write it for this file alone.
    /// The workspace is left as it was.
    pub fn fixed_text(&mut self, path: &Path, unsafe_fixes: bool) -> Option<String> {
        self.fixed_text_keeping(path, unsafe_fixes, &|_, diagnostics| diagnostics)
    }

    /// [`Workspace::fixed_text`], fixing only the findings `keep` leaves of each round's (given
    /// the text of that round): the editor leaves out what the baseline accepts.
    pub fn fixed_text_keeping(
        &mut self,
        path: &Path,
        unsafe_fixes: bool,
        keep: &dyn Fn(&str, Vec<Diagnostic>) -> Vec<Diagnostic>,
    ) -> Option<String> {
        let file = self.file(path)?;
        let original = file.text(&self.db).clone();
        let parsed = crate::facts::extract(path, &original)
            .syntax_errors
            .is_empty();
        let mut text = original.to_string();
        for round in 0..crate::fix::MAX_FIX_ROUNDS {
            let diagnostics = keep(&text, file_diagnostics(&self.db, file).to_vec());
            let merged = crate::fix::merge_fixes_in_round(&diagnostics, unsafe_fixes, round);
            if merged.fixes == 0 {
                break;
            }
            let (next, _) = crate::diagnostic::apply_edits(&text, &merged.edits);
            // A fix never leaves a file that no longer parses.
            if parsed && !crate::facts::extract(path, &next).syntax_errors.is_empty() {
                break;
            }
            self.set_text(path, &next);
            text = next;
        }
        self.set_text(path, &original);
        Some(text)
    }

    /// Whether the `tsconfig.json` governing `path` makes an unread parameter an error.
    pub fn no_unused_parameters(&self, path: &Path) -> bool {
        Project::get(&self.db)
            .settings(&self.db)
            .resolver_for(path)
            .ts_paths
            .is_some_and(|t| t.no_unused_parameters)
    }

    /// The files under the checked paths that the config ignores: known, not checked.
    pub fn ignored_files(&self) -> &[SourceFile] {
        &self.ignored
    }

    /// Forgets the module at `path` (deleted on disk).
    pub fn remove(&mut self, path: &Path) {
        let Some(file) = self.file(path) else { return };
        self.drop_summaries();
        let project = Project::get(&self.db);
        let mut files = (**project.files(&self.db)).clone();
        files.remove(path);
        project.set_files(&mut self.db).to(Arc::new(files));
        self.checked.retain(|f| *f != file);
    }

    /// A hash of everything a check of this workspace depends on: the Krepis version, every
    /// module's path and content, which of them are checked, and the settings. Equal
    /// fingerprints give equal results.
    pub fn fingerprint(&self) -> u64 {
        let db = &self.db;
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        for file in crate::db::sorted_files(db).iter() {
            hasher.update(file.path(db).as_os_str().as_encoded_bytes());
            hasher.update(&file.content(db).to_le_bytes());
        }
        hasher.update(b"checked");
        let mut checked: Vec<&PathBuf> = self.checked.iter().map(|f| f.path(db)).collect();
        checked.sort();
        for path in checked {
            hasher.update(path.as_os_str().as_encoded_bytes());
        }
        hasher.update(&Project::get(db).settings(db).fingerprint().to_le_bytes());
        hasher.digest()
    }

    /// Results for the checked files taken from an earlier run (see [`Workspace::fingerprint`]).
    pub fn results_from(&self, cached: Vec<(PathBuf, Vec<Diagnostic>)>) -> Option<Vec<FileResult>> {
        let mut by_path: std::collections::HashMap<PathBuf, Vec<Diagnostic>> =
            cached.into_iter().collect();
        let mut results = Vec::with_capacity(self.checked.len());
        for &file in &self.checked {
            let path = file.path(&self.db).clone();
            let diagnostics = by_path.remove(&path)?;
            results.push(FileResult {
                text: result_text(&self.db, file),
                diagnostics: Arc::new(diagnostics),
                path,
            });
        }
        results.sort_by(|a, b| a.path.cmp(&b.path));
        Some(results)
    }

    /// The diagnostics that writing `changes` (path, new text; new paths are created) would
    /// introduce in the changed files and in the files importing them, compared with now, by
    /// file, rule and message. The workspace is left as it was.
    ///
    /// New files are analysed detached: they join no file list, so nothing that depends on the
    /// set of files recomputes (only a file that imports a path not yet created could notice them,
    /// and that import is already reported as unresolved). Only edits of existing files set inputs.
    pub fn preview(&mut self, changes: &[(PathBuf, String)]) -> Vec<(PathBuf, Diagnostic)> {
        let (edited, created): (Vec<_>, Vec<_>) = changes
            .iter()
            .partition(|(path, _)| self.file(path).is_some());
        let changed: FxHashSet<&Path> = edited.iter().map(|(p, _)| p.as_path()).collect();
        let before = self.diagnostics_around(&changed);
        let originals: Vec<(PathBuf, Arc<str>)> = edited
            .iter()
            .filter_map(|(path, _)| Some((path.clone(), self.file(path)?.text(&self.db).clone())))
            .collect();
        for (path, text) in &edited {
            self.set_text(path, text);
        }
        let mut after = self.diagnostics_around(&changed);
        // Files Krepis does not check (a README, a JSON file) cannot break a rule.
        for (path, text) in created.iter().filter(|(p, _)| is_checkable_path(p)) {
            let file = SourceFile::with_text(&self.db, path.clone(), Arc::from(text.as_str()));
            after.extend(
                file_diagnostics(&self.db, file)
                    .iter()
                    .map(|d| (path.clone(), d.clone())),
            );
        }
        for (path, text) in originals {
            self.set_text(&path, &text);
        }
        let mut known: std::collections::HashMap<(PathBuf, String, String), usize> =
            std::collections::HashMap::new();
        for (path, d) in before {
            *known
                .entry((path, d.rule_name().to_string(), d.message.clone()))
                .or_default() += 1;
        }
        let mut introduced = Vec::new();
        for (path, d) in after {
            let key = (path, d.rule_name().to_string(), d.message.clone());
            match known.get_mut(&key) {
                Some(count) if *count > 0 => *count -= 1,
                _ => introduced.push((key.0, d)),
            }
        }
        introduced
    }

    /// The diagnostics of the `changed` modules and of every module importing one of them.
    fn diagnostics_around(&self, changed: &FxHashSet<&Path>) -> Vec<(PathBuf, Diagnostic)> {
        let db = &self.db;
        let mut out = Vec::new();
        if changed.is_empty() {
            return out;
        }
        for file in crate::db::sorted_files(db).iter().copied() {
            let path = file.path(db);
            let involved = changed.contains(path.as_path())
                || crate::db::resolved_imports(db, file).iter().any(|r| {
                    matches!(r, crate::resolve::Resolution::File(target) if changed.contains(target.as_path()))
                });
            if involved {
                out.extend(
                    file_diagnostics(db, file)
                        .iter()
                        .map(|d| (path.clone(), d.clone())),
                );
            }
        }
        out
    }

    /// The facts of one module.
    pub fn facts(&self, file: SourceFile) -> Arc<crate::facts::ModuleFacts> {
        crate::db::module_facts(&self.db, file).clone()
    }

    /// The diagnostics of one module.
    pub fn diagnostics(&self, file: SourceFile) -> Arc<Vec<Diagnostic>> {
        file_diagnostics(&self.db, file).clone()
    }

    /// The configuration that governs the file at `path`.
    pub fn config_for(&self, path: &Path) -> Arc<crate::config::Config> {
        Project::get(&self.db)
            .settings(&self.db)
            .config_for(path)
            .clone()
    }

    /// The files that are checked.
    pub fn checked_files(&self) -> &[SourceFile] {
        &self.checked
    }

    /// Every import of a module with what it resolved to, in source order.
    pub fn resolutions(
        &self,
        file: SourceFile,
    ) -> Vec<(crate::facts::ImportFact, crate::resolve::Resolution)> {
        let facts = crate::db::module_facts(&self.db, file);
        let resolutions = resolved_imports(&self.db, file);
        facts
            .imports
            .iter()
            .cloned()
            .zip(resolutions.iter().cloned())
            .collect()
    }

    /// Every import cycle that involves a checked module: each strongly connected set of
    /// modules, in path order.
    pub fn cycle_sets(&self) -> Vec<Vec<PathBuf>> {
        let checked: std::collections::HashSet<SourceFile> = self.checked.iter().copied().collect();
        crate::queries::import_cycles(&self.db)
            .sets
            .iter()
            .filter(|set| set.iter().any(|f| checked.contains(f)))
            .map(|set| set.iter().map(|f| f.path(&self.db).clone()).collect())
            .collect()
    }

    /// How many imports of the checked modules look local (a relative or absolute path, or a
    /// mapped one) but name no file.
    pub fn unresolved_imports(&self) -> usize {
        self.checked
            .iter()
            .map(|&file| {
                resolved_imports(&self.db, file)
                    .iter()
                    .filter(|r| matches!(r, crate::resolve::Resolution::Unresolved))
                    .count()
            })
            .sum()
    }

    /// Checks every requested file in parallel; `progress` is called once per file done.
    pub fn check(&self, progress: &(dyn Fn() + Sync)) -> Vec<FileResult> {
        let db = self.db.clone();
        let checked = &self.checked;
        let all: Vec<SourceFile> = Project::get(&self.db)
            .files(&self.db)
            .values()
            .copied()
            .collect();
        let run = move || {
            // Parse and resolve everything first, in parallel: the project-wide queries
            // (import cycles, signatures across modules) then find every module's facts ready
            // instead of computing them on one thread while the others wait.
            // (A module an earlier run summarised is looked into only if a checked one needs it.)
            // With them, each module's methods that rules ask about at calls (see
            // `model::watched_methods`), which the first module to type its calls would
            // otherwise gather from every module alone.
            let watched = !Project::get(&db).types_every_receiver(&db);
            all.par_iter().for_each_with(db.clone(), |db, &file| {
                if crate::db::summary_of(db, file).is_none() {
                    resolved_imports(db, file);
                    crate::signatures::module_signatures(db, file);
                    if watched {
                        crate::model::module_async_methods(db, file);
                    }
                }
            });
            // Then each module's share of the project-wide queries (the import graph, and the
            // calls whose receivers the model cannot type), which need the others' facts: the
            // first check that asks for the whole would otherwise compute every share alone.
            all.par_iter().for_each_with(db.clone(), |db, &file| {
                if crate::db::summary_of(db, file).is_none() {
                    warm_project_shares(db, file);
                }
            });
            checked
                .par_iter()
                .map_with(db, |db, &file| {
                    let diagnostics = file_diagnostics(db, file).clone();
                    progress();
                    FileResult {
                        path: file.path(db).clone(),
                        text: result_text(db, file),
                        diagnostics,
                    }
                })
                .collect::<Vec<_>>()
        };
        let mut results = in_analysis_pool(run);
        results.sort_by(|a, b| a.path.cmp(&b.path));
        results
    }
}

#[cfg(test)]
mod tests {
    use super::{LoadOptions, Workspace, walk_note};
    use crate::db::Project;
    use salsa::Setter;
    use std::path::{Path, PathBuf};

    /// Every checked file's diagnostics, typing the receivers of every method call or only of
    /// the calls a rule may ask about.
    fn diagnostics_both_ways(
        mut workspace: Workspace,
    ) -> [Vec<(PathBuf, Vec<crate::diagnostic::Diagnostic>)>; 2] {
        let mut run = |every: bool| {
            let project = Project::get(&workspace.db);
            project
                .set_types_every_receiver(&mut workspace.db)
                .to(every);
            workspace
                .check(&|| {})
                .into_iter()
                .map(|r| (r.path, r.diagnostics.to_vec()))
                .collect::<Vec<_>>()
        };
        [run(true), run(false)]
    }

    /// Typing only the receivers a rule may ask about changes no diagnostic and no fix: not the
    /// unresolved calls `context-propagation` reports, nor whether `explicit-context`'s fix of a
    /// method is safe (it is not when the method has a call whose receiver is unknown), nor the
    /// contract an implementation takes from the type it implements.
    #[test]
    fn typing_only_the_receivers_rules_ask_about_changes_nothing() {
        let (workspace, _) = crate::testing::memory_workspace(&[
            (
                "src/orders/domain/repo.ts",
                "import type { KrepisContext } from \"@krepis/core\";\n\
                 export interface Repo { load(ctx: KrepisContext, id: string): Promise<string>; }\n\
                 export class Store { async save(id: string): Promise<void> {} helper(): number { return 1; } }\n\
                 export class Local implements Repo { load(ctx: KrepisContext, id: string): Promise<string> { return Promise.resolve(id); } }\n",
            ),
            (
                "src/orders/application/use.ts",
                "import type { KrepisContext } from \"@krepis/core\";\n\
                 import { Store, type Repo } from \"../domain/repo\";\n\
                 declare function make(): any;\n\
                 export async function run(ctx: KrepisContext, repo: Repo, other: any) {\n\
                   other.save(\"1\");\n  other.helper();\n  other.load(\"2\");\n\
                   make().load(\"3\");\n  await repo.load(ctx, \"4\");\n\
                   new Store().helper();\n  await new Store().save(\"5\");\n}\n\
                 export class Memory implements Repo { async load(id: string) { return id; } }\n",
            ),
        ]);
        let [every, watched] = diagnostics_both_ways(workspace);
        assert_eq!(every, watched);
        let all: Vec<&crate::diagnostic::Diagnostic> = every.iter().flat_map(|(_, d)| d).collect();
        // The unknown receivers of `load`, which takes the context, are reported…
        let unresolved = all
            .iter()
            .filter(|d| d.message.starts_with("cannot tell whether"))
            .count();
        assert_eq!(unresolved, 2, "{all:#?}");
        // …and `save`, called on one, is fixed only with `--unsafe`.
        let save = all
            .iter()
            .find(|d| d.message.contains("`save`"))
            .and_then(|d| d.fix.as_ref());
        assert!(save.is_some_and(|fix| !fix.is_safe()), "{all:#?}");
    }

    #[test]
    fn the_fixture_projects_give_the_same_findings_however_many_receivers_are_typed() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut projects: Vec<PathBuf> = std::fs::read_dir(&fixtures)
            .expect("fixtures")
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(|path| path.is_dir())
            .collect();
        projects.sort();
        assert!(projects.len() >= 10, "{projects:?}");
        for project in projects {
            let options = LoadOptions {
                config_file: None,
                base_dir: project.clone(),
                cache: None,
                lean: false,
            };
            let Ok(workspace) = Workspace::load(std::slice::from_ref(&project), &options) else {
                continue;
            };
            let [every, watched] = diagnostics_both_ways(workspace);
            assert_eq!(every, watched, "{}", project.display());
        }
    }

    fn note_of(io: std::io::Error) -> String {
        let error = ignore::Error::WithPath {
            path: "/nowhere/file.ts".into(),
            err: Box::new(ignore::Error::Io(io)),
        };
        walk_note(error, Path::new("/nowhere")).message
    }

    #[cfg(unix)]
    #[test]
    fn a_walk_note_says_the_kind_of_error_however_the_walk_reported_it() {
        // The parallel walk passes the system's error on, the sequential one a kind.
        let raw = std::io::Error::from_raw_os_error(13);
        let kind = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(note_of(raw), "cannot read: permission denied");
        assert_eq!(note_of(kind), "cannot read: permission denied");
        // A kind that says nothing gives way to the system's words.
        let other = std::io::Error::from_raw_os_error(libc::ENXIO);
        let said = note_of(other);
        assert!(!said.contains("os error"), "{said}");
        assert!(!said.contains("uncategorized"), "{said}");
    }
}
