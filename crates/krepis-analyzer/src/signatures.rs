//! Which functions and methods take the context first, across modules: the knowledge
//! `context-propagation` needs to judge a call. Imports are followed through re-exports.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use crate::config::Config;
use crate::db::{Db, Project, SourceFile, module_facts, resolved_imports};
use crate::facts::{FunctionFact, FunctionKind, ModuleFacts, Name, ParamFact};
use crate::resolve::Resolution;

/// What a call site needs to know about its callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    pub context_first: bool,
    /// Parameters before any rest parameter.
    pub params: u32,
    /// Whether a rest parameter follows them.
    pub rest: bool,
}

/// Methods of a class, interface or type alias, by name.
pub type Methods = HashMap<Name, Signature>;

/// The signatures a module declares at its top level.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleSignatures {
    pub functions: HashMap<Name, Signature>,
    pub types: HashMap<Name, Arc<Methods>>,
}

/// Function signatures visible in one module: its own and those it imports, by local name.
/// (Methods are looked up through [`crate::model`], which knows the receiver's type.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CalleeIndex {
    /// The module's own declarations (shared with [`module_signatures`]).
    own: Arc<ModuleSignatures>,
    /// Imported functions, by local name; an import shadows a declaration of the same name.
    imported: HashMap<Name, Signature>,
    /// `import * as ns`: the exported functions of `ns` (one table per module, shared by all
    /// the modules that import it so).
    pub namespaces: HashMap<Name, Arc<HashMap<Name, Signature>>>,
}

impl CalleeIndex {
    /// The function a plain call of `name` reaches, when the module declares or imports one.
    pub fn function(&self, name: &str) -> Option<Signature> {
        self.imported
            .get(name)
            .or_else(|| self.own.functions.get(name))
            .copied()
    }
}

/// Whether `param` is the context parameter: typed with the context type, or, where no type is
/// written (JavaScript, or a callback typed by where it is passed), named like it (`ctx`, `_ctx`).
pub fn is_context_param(config: &Config, is_typescript: bool, param: &ParamFact) -> bool {
    let context = &config.context;
    match param.type_name.as_deref() {
        Some(t) => {
            t == context.type_name || t.rsplit('.').next() == Some(context.type_name.as_str())
        }
        None if is_typescript && param.text.contains(':') => false,
        None => param
            .name
            .as_deref()
            .is_some_and(|n| n.strip_prefix('_').unwrap_or(n) == context.param),
    }
}

/// Whether a path names a TypeScript module.
pub fn is_typescript_path(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "ts" | "tsx" | "mts" | "cts"))
}

/// The signature of one function under `config`.
pub fn signature(config: &Config, is_typescript: bool, function: &FunctionFact) -> Signature {
    Signature {
        context_first: function
            .params
            .first()
            .is_some_and(|p| is_context_param(config, is_typescript, p)),
        params: function.params.iter().filter(|p| !p.is_rest).count() as u32,
        rest: function.params.iter().any(|p| p.is_rest),
    }
}

fn collect(config: &Config, is_typescript: bool, facts: &ModuleFacts) -> ModuleSignatures {
    let mut out = ModuleSignatures::default();
    for function in &facts.functions {
        let sig = signature(config, is_typescript, function);
        match function.kind {
            FunctionKind::Declaration | FunctionKind::Variable if function.parent.is_none() => {
                out.functions.insert(function.name.clone(), sig);
            }
            FunctionKind::Method | FunctionKind::Signature | FunctionKind::ClassField => {
                if let Some(container) = &function.container {
                    Arc::make_mut(out.types.entry(container.clone()).or_default())
                        .insert(function.name.clone(), sig);
                }
            }
            _ => {}
        }
    }
    out
}

/// The top-level signatures of one module.
#[salsa::tracked]
pub fn module_signatures(db: &dyn Db, file: SourceFile) -> Arc<ModuleSignatures> {
    let settings = Project::get(db).settings(db);
    let path = file.path(db);
    let config = settings.config_for(path);
    Arc::new(collect(
        config,
        is_typescript_path(path),
        module_facts(db, file),
    ))
}

/// Where a name a module exports (or imports) is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// At the top level of `file`, under the name `local`.
    Declared(SourceFile, Name),
    /// In a package, a built-in or a URL: outside the project.
    External,
}

fn project_file(db: &dyn Db, resolution: &Resolution) -> Option<SourceFile> {
    let Resolution::File(path) = resolution else {
        return None;
    };
    Project::get(db).files(db).get(path).copied()
}

/// Where `resolution` leads: a project module, or outside the project (`Err(true)`); `Err(false)`
/// when it leads nowhere known.
fn target_of(db: &dyn Db, resolution: Option<&Resolution>) -> Result<SourceFile, bool> {
    match resolution {
        Some(Resolution::External) => Err(true),
        Some(r) => project_file(db, r).ok_or(false),
        None => Err(false),
    }
}

/// Whether `file` declares `name` at its top level (a function, class, interface or alias).
fn declares(db: &dyn Db, file: SourceFile, name: &str) -> bool {
    let own = module_signatures(db, file);
    own.functions.contains_key(name)
        || own.types.contains_key(name)
        || module_facts(db, file).types.iter().any(|t| t.name == name)
}

/// Follows `name` exported by `file` to its declaration, through re-exports and imports.
pub fn export_origin(db: &dyn Db, file: SourceFile, name: &str) -> Option<Origin> {
    export_origin_in(db, file, name, &mut HashSet::default())
}

/// Where the name `local`, imported by `file`, is declared (`None`: not an import).
pub fn import_origin(db: &dyn Db, file: SourceFile, local: &str) -> Option<Origin> {
    let facts = module_facts(db, file);
    let resolutions = resolved_imports(db, file);
    let (index, imported) = facts.imports.iter().enumerate().find_map(|(i, imp)| {
        imp.names
            .iter()
            .find(|n| n.local == local)
            .map(|n| (i, n.imported.clone()))
    })?;
    match target_of(db, resolutions.get(index)) {
        Ok(target) if imported == "*" => Some(Origin::Declared(target, "*".into())),
        Ok(target) => export_origin(db, target, &imported),
        Err(true) => Some(Origin::External),
        Err(false) => None,
    }
}

/// [`export_origin`], never looking for one name in one module twice: `export *` cycles end, and
/// barrels re-exporting barrels are searched once each.
fn export_origin_in(
    db: &dyn Db,
    mut file: SourceFile,
    name: &str,
    seen: &mut HashSet<(SourceFile, Name)>,
) -> Option<Origin> {
    let mut name = Name::from(name);
    for _ in 0..16 {
        if !seen.insert((file, name.clone())) {
            return None;
        }
        let facts = module_facts(db, file);
        let resolutions = resolved_imports(db, file);
        let export = facts.exports.iter().find(|e| e.exported == name);
        let Some(export) = export else {
            // `export * from "./x"`: the name may come from any of them.
            for star in facts.exports.iter().filter(|e| e.exported == "*") {
                let target = star
                    .from_import
                    .and_then(|i| target_of(db, resolutions.get(i as usize)).ok());
                if let Some(target) = target
                    && let Some(found) = export_origin_in(db, target, &name, seen)
                {
                    return Some(found);
                }
            }
            return None;
        };
        let index = match export.from_import {
            None if declares(db, file, &export.local) => {
                return Some(Origin::Declared(file, export.local.clone()));
            }
            // `export { load }` of an imported binding: follow the import.
            None => {
                let (index, imported) = facts.imports.iter().enumerate().find_map(|(i, imp)| {
                    imp.names
                        .iter()
                        .find(|n| n.local == export.local)
                        .map(|n| (i, n.imported.clone()))
                })?;
                name = imported;
                index
            }
            Some(index) => {
                name = export.local.clone();
                index as usize
            }
        };
        match target_of(db, resolutions.get(index)) {
            Ok(target) => file = target,
            Err(true) => return Some(Origin::External),
            Err(false) => return None,
        }
    }
    None
}

/// The signature of the function `name` exported by `file`, wherever it is declared.
fn exported_function(db: &dyn Db, file: SourceFile, name: &str) -> Option<Signature> {
    match export_origin(db, file, name)? {
        Origin::Declared(at, local) => module_signatures(db, at).functions.get(&local).copied(),
        Origin::External => None,
    }
}

/// The callee signatures visible in `file`: its own declarations and what it imports.
#[salsa::tracked]
pub fn callee_index(db: &dyn Db, file: SourceFile) -> Arc<CalleeIndex> {
    let mut index = CalleeIndex {
        own: module_signatures(db, file).clone(),
        imported: HashMap::default(),
        namespaces: HashMap::default(),
    };
    let facts = module_facts(db, file);
    let resolutions = resolved_imports(db, file);
    for (import, resolution) in facts.imports.iter().zip(resolutions.iter()) {
        let Some(target) = project_file(db, resolution) else {
            continue;
        };
        for name in &import.names {
            if name.imported == "*" {
                index
                    .namespaces
                    .insert(name.local.clone(), namespace_functions(db, target).clone());
                continue;
            }
            if let Some(sig) = exported_function(db, target, &name.imported) {
                index.imported.insert(name.local.clone(), sig);
            }
        }
    }
    Arc::new(index)
}

/// The functions `file` exports, by exported name, wherever each is declared: what
/// `import * as ns` of it offers as `ns.f(…)`. Computed once per module, however many modules
/// import it so (a module that exports a few hundred names is imported so by hundreds).
#[salsa::tracked(returns(ref))]
pub fn namespace_functions(db: &dyn Db, file: SourceFile) -> Arc<HashMap<Name, Signature>> {
    let facts = module_facts(db, file);
    Arc::new(
        facts
            .exports
            .iter()
            .filter_map(|export| {
                let sig = exported_function(db, file, &export.exported)?;
                Some((export.exported.clone(), sig))
            })
            .collect(),
    )
}
