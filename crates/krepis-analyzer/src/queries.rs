//! The database's queries that run the rules: the layer of a module, its diagnostics, and the
//! project's import cycles. They sit above the model and the rules, as the workspace sits above
//! them.

use std::path::Path;
use std::sync::Arc;

use crate::db::{
    Db, Project, SourceFile, import_edges, module_facts, resolved_imports, sorted_files,
};
use crate::diagnostic::Diagnostic;
use crate::layers::LayerMatch;
use crate::rules::{self, CycleFinding, RuleContext, RuleId, import_cycle};

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
    cx.type_only_imports = settings.type_only_imports_for(path);
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

/// Whether the configuration that governs `file` ignores it (a test, say): remembered per file,
/// so the project-wide import graph, rebuilt after an edit, matches no globs again.
#[salsa::tracked]
pub fn ignored_by_config(db: &dyn Db, file: SourceFile) -> bool {
    let path = file.path(db);
    Project::get(db)
        .settings(db)
        .config_for(path)
        .is_ignored(path)
}

/// The imports of `file` that count for `import-cycle` under its configuration, each as its
/// target and the index of the import: none when the rule is off there or the file is ignored,
/// no type-only ones unless they count, and through barrels when `throughBarrels` says so. Per
/// file, so the project-wide graph is put together again after an edit without looking at any
/// configuration.
#[salsa::tracked]
pub fn cycle_edges(db: &dyn Db, file: SourceFile) -> Arc<Vec<(SourceFile, u32)>> {
    let settings = Project::get(db).settings(db);
    let config = settings.config_for(file.path(db));
    // Files the config ignores (tests) are known so calls into the project count, but they are
    // no part of its import graph.
    if config.rules.severity(RuleId::ImportCycle).is_none() || *ignored_by_config(db, file) {
        return Arc::default();
    }
    let skip_types = config.rules.import_cycle.ignore_type_imports;
    let file_edges = if config.rules.import_cycle.through_barrels {
        crate::barrels::traced_edges(db, file).clone()
    } else {
        import_edges(db, file).clone()
    };
    Arc::new(
        file_edges
            .iter()
            .filter(|edge| !(skip_types && edge.type_only || *ignored_by_config(db, edge.target)))
            .map(|edge| (edge.target, edge.import))
            .collect(),
    )
}

/// The modules `file`'s imports lead to in the graph of [`cycle_edges`], each once, in the order
/// of its imports: all the strongly connected sets depend on. Moving imports about, or adding
/// one of a package, leaves it as it was, and the sets are not looked for again.
#[salsa::tracked(returns(ref))]
fn cycle_targets(db: &dyn Db, file: SourceFile) -> Arc<[SourceFile]> {
    let mut targets: Vec<SourceFile> = Vec::new();
    for &(target, _) in cycle_edges(db, file).iter() {
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets.into()
}

/// The strongly connected sets of the import graph that hold a cycle, each as the positions of
/// its modules in [`sorted_files`], in ascending order.
#[salsa::tracked(returns(ref))]
fn cycle_components(db: &dyn Db) -> Arc<Vec<Vec<usize>>> {
    let files = sorted_files(db);
    let position: rustc_hash::FxHashMap<SourceFile, usize> =
        files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let edges: Vec<Vec<usize>> = files
        .iter()
        .map(|&file| {
            cycle_targets(db, file)
                .iter()
                .filter_map(|target| position.get(target).copied())
                .collect()
        })
        .collect();
    Arc::new(import_cycle::cyclic_components(&edges))
}

/// Every import cycle of the project, each as the module and import that report it.
///
/// One finding per strongly connected component: the shortest cycle through its first file (by
/// path), reported on that file's import of the next module.
#[salsa::tracked]
pub fn import_cycles(db: &dyn Db) -> Arc<ImportCycles> {
    let project = Project::get(db);
    let files = sorted_files(db);
    let position: rustc_hash::FxHashMap<SourceFile, usize> =
        files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let settings = project.settings(db);
    let components = cycle_components(db);
    // edges[i]: modules that module i imports; via[i]: the import behind each of them. Only the
    // modules of a cycle need theirs.
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    let mut via: Vec<Vec<u32>> = vec![Vec::new(); files.len()];
    for &i in components.iter().flatten() {
        for &(target, import) in cycle_edges(db, files[i]).iter() {
            if let Some(&j) = position.get(&target)
                && !edges[i].contains(&j)
            {
                edges[i].push(j);
                via[i].push(import);
            }
        }
    }
    let mut out = ImportCycles::default();
    for component in components.iter() {
        out.sets
            .push(component.iter().map(|&i| files[i]).collect::<Vec<_>>());
        let start = component[0];
        let cycle = import_cycle::cycle_through(&edges, component, start);
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
