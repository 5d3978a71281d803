//! The Salsa database: inputs are file texts and the project settings; facts, resolutions, layers
//! and diagnostics are queries over them, so an edit recomputes only what it can change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::facts::{self, ModuleFacts};
use crate::layers::LayerMatch;
use crate::project::ProjectSettings;
use crate::resolve::{self, Resolution};
use crate::rules::{self, RuleContext};

/// The one database behind the CLI and the language server.
#[salsa::db]
#[derive(Clone, Default)]
pub struct AnalysisDatabase {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for AnalysisDatabase {}

/// One module's text. `None` for a file that is not text (binary, not UTF-8).
#[salsa::input]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: Arc<str>,
}

/// The set of known files and the settings that govern them.
#[salsa::input(singleton)]
pub struct Project {
    #[returns(ref)]
    pub files: Arc<BTreeMap<PathBuf, SourceFile>>,
    #[returns(ref)]
    pub settings: Arc<ProjectSettings>,
    /// Whether import targets may also be looked up on disk (not for in-memory projects).
    pub disk_fallback: bool,
}

/// The facts of one module: parsed once, owned, compared for equality so unchanged facts stop
/// recomputation here.
#[salsa::tracked]
pub fn module_facts(db: &dyn salsa::Database, file: SourceFile) -> Arc<ModuleFacts> {
    Arc::new(facts::extract(file.path(db), file.text(db)))
}

/// Where each import of a module leads, in the order of `ModuleFacts::imports`.
#[salsa::tracked]
pub fn resolved_imports(db: &dyn salsa::Database, file: SourceFile) -> Arc<Vec<Resolution>> {
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
pub fn file_layer(db: &dyn salsa::Database, file: SourceFile) -> Option<LayerMatch> {
    let settings = Project::get(db).settings(db);
    let config = settings.config_for(file.path(db));
    config.layers.classify(&config.relative(file.path(db))?)
}

/// Every diagnostic of one module, sorted by position.
#[salsa::tracked]
pub fn file_diagnostics(db: &dyn salsa::Database, file: SourceFile) -> Arc<Vec<Diagnostic>> {
    let settings = Project::get(db).settings(db);
    let path = file.path(db);
    let config = settings.config_for(path);
    let facts = module_facts(db, file);
    let resolutions = resolved_imports(db, file);
    let layer = file_layer(db, file);
    let cx = RuleContext::new(path, facts, config, resolutions, layer.as_ref());
    Arc::new(rules::check_module(cx))
}
