//! The Salsa database: inputs are file texts and the project settings; facts, resolutions, layers
//! and diagnostics are queries over them, so an edit recomputes only what it can change.

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::Cache;
use crate::diagnostic::Diagnostic;
use crate::facts::{self, ModuleFacts};
use crate::layers::LayerMatch;
use crate::project::ProjectSettings;
use crate::resolve::{self, Resolution};
use crate::rules::{self, CycleFinding, RuleContext, RuleId, import_cycle};

/// The one database behind the CLI and the language server.
#[salsa::db]
#[derive(Clone, Default)]
pub struct AnalysisDatabase {
    storage: salsa::Storage<Self>,
    /// Facts persisted across runs, keyed by content (see [`crate::cache`]).
    cache: Option<Arc<Cache>>,
}

#[salsa::db]
impl salsa::Database for AnalysisDatabase {}

/// The database as queries see it: Salsa's, plus the persistent facts cache when there is one.
#[salsa::db]
pub trait Db: salsa::Database {
    fn facts_cache(&self) -> Option<&Cache>;
}

#[salsa::db]
impl Db for AnalysisDatabase {
    fn facts_cache(&self) -> Option<&Cache> {
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
    pub fn with_cache(cache: Arc<Cache>) -> Self {
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
}

impl SourceFile {
    /// A module with this text.
    pub fn with_text(db: &dyn Db, path: PathBuf, text: Arc<str>) -> SourceFile {
        let content = crate::config::xxhash(text.as_bytes());
        SourceFile::new(db, path, Some(text), content)
    }

    /// A module not read yet, whose text hashes to `content`.
    pub fn unread(db: &dyn Db, path: PathBuf, content: u64) -> SourceFile {
        SourceFile::new(db, path, None, content)
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
        if self.content(db) != content {
            self.set_content(db).to(content);
        }
        self.set_loaded(db).to(Some(text));
    }
}

/// The text of a module left unread at load. A file that cannot be read any more (deleted
/// since) reads as empty; the next run sees it gone.
#[salsa::tracked(returns(ref))]
fn unread_text(db: &dyn Db, file: SourceFile) -> Arc<str> {
    Arc::from(crate::workspace::read_source(file.path(db)).unwrap_or_default())
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
    pub summaries: Arc<FxHashMap<SourceFile, Arc<crate::summary::ModuleSummary>>>,
}

/// What an earlier run learned of `file` for the project-wide queries, when it still holds.
pub fn summary_of(db: &dyn Db, file: SourceFile) -> Option<&Arc<crate::summary::ModuleSummary>> {
    Project::get(db).summaries(db).get(&file)
}

/// The facts of one module: parsed once, owned, compared for equality so unchanged facts stop
/// recomputation here.
#[salsa::tracked]
pub fn module_facts(db: &dyn Db, file: SourceFile) -> Arc<ModuleFacts> {
    let path = file.path(db);
    let Some(cache) = db.facts_cache() else {
        return Arc::new(facts::extract(path, file.text(db)));
    };
    // Facts depend on the text and on how it is parsed (TS, TSX, JS…), never on config.
    let kind = crate::config::xxhash(
        path.extension()
            .map(|e| e.as_encoded_bytes())
            .unwrap_or_default(),
    );
    if let Some(facts) = cache.facts(file.content(db), kind) {
        return Arc::new(facts);
    }
    let text = file.text(db);
    let facts = facts::extract(path, text);
    // Keyed by the text the facts come from (an unread file may have changed since its hash).
    cache.store_facts(crate::config::xxhash(text.as_bytes()), kind, &facts);
    Arc::new(facts)
}

/// Where each import of a module leads, in the order of `ModuleFacts::imports`.
#[salsa::tracked]
pub fn resolved_imports(db: &dyn Db, file: SourceFile) -> Arc<Vec<Resolution>> {
    let project = Project::get(db);
    let files = project.files(db);
    let settings = project.settings(db).resolver_for(file.path(db));
    let disk = project.disk_fallback(db);
    let exists = |p: &Path| files.contains_key(p) || (*disk && p.is_file());
    let facts = module_facts(db, file);
    let path = file.path(db);
    Arc::new(
        facts
            .imports
            .iter()
            .map(|import| resolve::resolve(path, &import.specifier, &settings, &exists))
            .collect(),
    )
}

/// The layer that owns a module, by the configuration that governs it.
#[salsa::tracked]
pub fn file_layer(db: &dyn Db, file: SourceFile) -> Option<LayerMatch> {
    let settings = Project::get(db).settings(db);
    let config = settings.config_for(file.path(db));
    config.layers.classify(&config.relative(file.path(db))?)
}

/// Every diagnostic of one module, sorted by position.
#[salsa::tracked]
pub fn file_diagnostics(db: &dyn Db, file: SourceFile) -> Arc<Vec<Diagnostic>> {
    let settings = Project::get(db).settings(db);
    let path = file.path(db);
    let config = settings.config_for(path);
    let facts = module_facts(db, file);
    // Hand-written typings describe code elsewhere, like a `.d.ts`: nothing in them runs.
    if facts.ambient_only && !config.check_ambient_modules && facts.syntax_errors.is_empty() {
        return Arc::new(Vec::new());
    }
    let resolutions = resolved_imports(db, file);
    let layer = file_layer(db, file);
    let callees = crate::signatures::callee_index(db, file);
    let model = crate::model::Model::new(db, file);
    let mut cx = RuleContext::new(
        path,
        facts,
        config,
        resolutions,
        layer.as_ref(),
        callees,
        &model,
    );
    if cx.enabled(RuleId::NoImplicitContext) {
        cx.implicit_wrappers = rules::no_implicit_context::wrappers_imported(db, file);
    }
    if cx.enabled(RuleId::LayerBoundary) {
        if config.rules.layer_boundary.trace_barrels {
            cx.traced = crate::barrels::traced_imports(db, file).clone();
        }
        cx.workspace_config = settings.workspace_config_for(path).cloned();
        let types_only = |l: &crate::layers::Layer| l.allow_details.iter().any(|d| d.type_only);
        let root_types_only = cx
            .workspace_config
            .as_ref()
            .is_some_and(|c| c.layers.layers().iter().any(types_only));
        if root_types_only
            || layer
                .as_ref()
                .and_then(|m| config.layers.layers().get(m.layer))
                .is_some_and(types_only)
        {
            cx.erased = crate::barrels::erased_imports(db, file).clone();
        }
    }
    let cycles = import_cycles(db);
    let mine: Vec<CycleFinding> = cycles
        .findings
        .iter()
        .filter(|(f, _)| *f == file)
        .map(|(_, c)| c.clone())
        .collect();
    let found = rules::check_module(cx, &mine);
    Arc::new(crate::suppressions::apply(facts, config, found))
}

/// Every module, in path order: the order project-wide results are reported in.
#[salsa::tracked]
pub fn sorted_files(db: &dyn Db) -> Arc<Vec<SourceFile>> {
    let mut files: Vec<SourceFile> = Project::get(db).files(db).values().copied().collect();
    // Byte order: stable across runs, and cheaper than comparing path components.
    files.sort_by(|a, b| a.path(db).as_os_str().cmp(b.path(db).as_os_str()));
    Arc::new(files)
}

/// One import from a module to another module of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImportEdge {
    pub target: SourceFile,
    /// Index into the importer's `ModuleFacts::imports`.
    pub import: u32,
    pub type_only: bool,
}

/// The imports of a module that lead to project modules. Spans are left out on purpose: an edit
/// that only moves code leaves the edges equal, and the project-wide graph is not rebuilt.
#[salsa::tracked]
pub fn import_edges(db: &dyn Db, file: SourceFile) -> Arc<Vec<ImportEdge>> {
    if let Some(summary) = summary_of(db, file) {
        return summary.edges.clone();
    }
    let files = Project::get(db).files(db);
    let facts = module_facts(db, file);
    let resolutions = resolved_imports(db, file);
    let mut edges: Vec<ImportEdge> = Vec::new();
    for (k, (import, resolution)) in facts.imports.iter().zip(resolutions.iter()).enumerate() {
        let Resolution::File(path) = resolution else {
            continue;
        };
        let Some(&target) = files.get(path) else {
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

/// The project's import cycles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCycles {
    /// One finding per set: the module that reports it and what it says.
    pub findings: Vec<(SourceFile, CycleFinding)>,
    /// Every strongly connected set of modules (each in path order), in the order of their
    /// first module.
    pub sets: Vec<Vec<SourceFile>>,
}

/// How many modules an import-cycle message names before it leaves the middle out.
const MAX_NAMED_IN_CYCLE: usize = 12;

/// Every import cycle of the project, each as the module and import that report it.
///
/// One finding per strongly connected component: the shortest cycle through its first file (by
/// path), reported on that file's import of the next module.
#[salsa::tracked]
pub fn import_cycles(db: &dyn Db) -> Arc<ImportCycles> {
    let project = Project::get(db);
    let files = sorted_files(db);
    let position: std::collections::HashMap<SourceFile, usize> =
        files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let settings = project.settings(db);
    // edges[i]: modules that module i imports; via[i]: the import behind each of them.
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    let mut via: Vec<Vec<u32>> = vec![Vec::new(); files.len()];
    // Files the config ignores (tests) are known so calls into the project count, but they are
    // no part of its import graph.
    let ignored = |file: SourceFile| settings.config_for(file.path(db)).is_ignored(file.path(db));
    for (i, &file) in files.iter().enumerate() {
        let config = settings.config_for(file.path(db));
        if config.rules.severity(RuleId::ImportCycle).is_none() || ignored(file) {
            continue;
        }
        let skip_types = config.rules.import_cycle.ignore_type_imports;
        let through_barrels = config.rules.import_cycle.through_barrels;
        let file_edges = if through_barrels {
            crate::barrels::traced_edges(db, file).clone()
        } else {
            import_edges(db, file).clone()
        };
        for edge in file_edges.iter() {
            if skip_types && edge.type_only || ignored(edge.target) {
                continue;
            }
            if let Some(&j) = position.get(&edge.target)
                && !edges[i].contains(&j)
            {
                edges[i].push(j);
                via[i].push(edge.import);
            }
        }
    }
    let mut out = ImportCycles::default();
    for component in import_cycle::cyclic_components(&edges) {
        out.sets
            .push(component.iter().map(|&i| files[i]).collect::<Vec<_>>());
        let start = component[0];
        let cycle = import_cycle::cycle_through(&edges, &component, start);
        let next = cycle.get(1).copied().unwrap_or(start);
        let Some(slot) = edges[start].iter().position(|&t| t == next) else {
            continue;
        };
        // Named relative to the governing config's folder (the embedded default's included).
        let base = Some(settings.config_for(files[start].path(db)).dir.as_path());
        let mut names: Vec<String> = cycle
            .iter()
            .chain(std::iter::once(&start))
            .map(|&i| display_name(files[i].path(db), base))
            .collect();
        // A long cycle is named by its ends: a message of ten thousand paths helps nobody.
        if names.len() > MAX_NAMED_IN_CYCLE {
            let tail = names.split_off(names.len() - MAX_NAMED_IN_CYCLE / 2);
            let left_out = names.len() - MAX_NAMED_IN_CYCLE / 2;
            names.truncate(MAX_NAMED_IN_CYCLE / 2);
            names.push(format!("… {left_out} more …"));
            names.extend(tail);
        }
        let message = if cycle.len() == 1 {
            format!("`{}` imports itself", names[0])
        } else if component.len() > cycle.len() {
            format!(
                "import cycles among {} modules that import each other; one of them: {}",
                component.len(),
                names.join(" → ")
            )
        } else {
            format!("import cycle: {}", names.join(" → "))
        };
        let note = if component.len() > cycle.len() {
            format!(
                "breaking this one cycle leaves the others: the finding stays until none of the {} modules reaches itself again (`krepis graph --cycles` lists them); move what they share into a module they all import",
                component.len()
            )
        } else {
            "break the cycle by moving what the modules share into a module they all import"
                .to_string()
        };
        out.findings.push((
            files[start],
            CycleFinding {
                import: via[start][slot],
                message,
                note,
            },
        ));
    }
    Arc::new(out)
}

fn display_name(path: &Path, base: Option<&Path>) -> String {
    let relative = base.and_then(|b| path.strip_prefix(b).ok()).unwrap_or(path);
    crate::config::slash_path(relative)
}
