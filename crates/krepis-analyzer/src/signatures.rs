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

/// Where import `index` of `file` leads: a project module, or outside the project
/// (`Err(true)`); `Err(false)` when it leads nowhere known.
fn target_of(db: &dyn Db, file: SourceFile, index: usize) -> Result<SourceFile, bool> {
    match resolved_imports(db, file).get(index) {
        Some(Resolution::External) => Err(true),
        Some(_) => crate::db::import_target(db, file, index).ok_or(false),
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

/// Modules with fewer exports and imported names than this are searched in order: a table
/// would cost more memory than the scan costs time.
const EXPORT_TABLE_MIN: usize = 64;

/// A large module's exports and imports by name: what following a name through re-exports asks
/// of each module on the way, answered without scanning its lists (a barrel exports hundreds
/// of names, and each is followed from many importers). Each list is sorted by a hash of the
/// name, then by position, so the first of equal names is found first; names are compared in
/// the facts (8 or 12 bytes an entry: a project has hundreds of thousands of them).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExportTable {
    /// (hash of the exported name, index into `ModuleFacts::exports`).
    exports: Box<[(u32, u32)]>,
    /// (hash of the local name, index of the import, index of the name in it).
    imports: Box<[(u32, u32, u32)]>,
}

fn name_hash(name: &str) -> u32 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name) as u32
}

/// Whether a module is large enough for an [`export_table`]. Asked before the query, so a small
/// module has no entry in the database at all.
fn wants_export_table(facts: &ModuleFacts) -> bool {
    let names: usize = facts.imports.iter().map(|i| i.names.len()).sum();
    facts.exports.len() + names >= EXPORT_TABLE_MIN
}

/// The table of a module [`wants_export_table`] says is large enough.
#[salsa::tracked(returns(ref))]
pub fn export_table(db: &dyn Db, file: SourceFile) -> Arc<ExportTable> {
    let facts = module_facts(db, file);
    let names: usize = facts.imports.iter().map(|i| i.names.len()).sum();
    let mut exports: Vec<(u32, u32)> = facts
        .exports
        .iter()
        .enumerate()
        .map(|(i, e)| (name_hash(&e.exported), i as u32))
        .collect();
    exports.sort_unstable();
    let mut imports: Vec<(u32, u32, u32)> = Vec::with_capacity(names);
    for (i, import) in facts.imports.iter().enumerate() {
        for (k, name) in import.names.iter().enumerate() {
            imports.push((name_hash(&name.local), i as u32, k as u32));
        }
    }
    imports.sort_unstable();
    Arc::new(ExportTable {
        exports: exports.into(),
        imports: imports.into(),
    })
}

/// The first export of `name` by `file`.
pub(crate) fn find_export<'f>(
    db: &dyn Db,
    facts: &'f ModuleFacts,
    file: SourceFile,
    name: &str,
) -> Option<&'f crate::facts::ExportFact> {
    if !wants_export_table(facts) {
        return facts.exports.iter().find(|e| e.exported == name);
    }
    let table = export_table(db, file);
    let hash = name_hash(name);
    let start = table.exports.partition_point(|&(h, _)| h < hash);
    table.exports[start..]
        .iter()
        .take_while(|&&(h, _)| h == hash)
        .map(|&(_, i)| &facts.exports[i as usize])
        .find(|e| e.exported == name)
}

/// The first import of `file` that binds `local`: its index, and the name it imports.
pub(crate) fn find_import<'f>(
    db: &dyn Db,
    facts: &'f ModuleFacts,
    file: SourceFile,
    local: &str,
) -> Option<(usize, &'f Name)> {
    if !wants_export_table(facts) {
        return facts.imports.iter().enumerate().find_map(|(i, imp)| {
            imp.names
                .iter()
                .find(|n| n.local == local)
                .map(|n| (i, &n.imported))
        });
    }
    let table = export_table(db, file);
    let hash = name_hash(local);
    let start = table.imports.partition_point(|&(h, _, _)| h < hash);
    table.imports[start..]
        .iter()
        .take_while(|&&(h, _, _)| h == hash)
        .map(|&(_, i, k)| (i as usize, &facts.imports[i as usize].names[k as usize]))
        .find(|(_, n)| n.local == local)
        .map(|(i, n)| (i, &n.imported))
}

/// Follows `name` exported by `file` to its declaration, through re-exports and imports.
pub fn export_origin(db: &dyn Db, file: SourceFile, name: &str) -> Option<Origin> {
    export_origin_in(db, file, name, &mut HashSet::default())
}

/// Where the name `local`, imported by `file`, is declared (`None`: not an import).
pub fn import_origin(db: &dyn Db, file: SourceFile, local: &str) -> Option<Origin> {
    let facts = module_facts(db, file);
    let (index, imported) = find_import(db, facts, file, local)?;
    match target_of(db, file, index) {
        Ok(target) if imported == "*" => Some(Origin::Declared(target, "*".into())),
        Ok(target) => export_origin(db, target, imported),
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
        let Some(export) = find_export(db, facts, file, &name) else {
            // `export * from "./x"`: the name may come from any of them.
            for star in facts.exports.iter().filter(|e| e.exported == "*") {
                let target = star
                    .from_import
                    .and_then(|i| target_of(db, file, i as usize).ok());
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
                let (index, imported) = find_import(db, facts, file, &export.local)?;
                name = imported.clone();
                index
            }
            Some(index) => {
                name = export.local.clone();
                index as usize
            }
        };
        match target_of(db, file, index) {
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
    let targets = crate::db::import_targets(db, file);
    for (import, target) in facts.imports.iter().zip(targets.iter()) {
        let Some(target) = *target else {
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

/// The functions `file` exports by name, by exported name (the first export of a name, as for
/// a named import), wherever each is declared: what `import * as ns` of it offers as `ns.f(…)`.
/// Computed once per module, however many modules import it so (a module that exports a few
/// hundred names is imported so by hundreds). Named imports follow just the names they import:
/// a table of every module's exported functions saved 1 % of a check of VS Code's `src` and
/// cost 3.5 MB at peak on the generated project.
#[salsa::tracked(returns(ref))]
pub fn namespace_functions(db: &dyn Db, file: SourceFile) -> Arc<HashMap<Name, Signature>> {
    let facts = module_facts(db, file);
    let mut seen: HashSet<&str> = HashSet::default();
    let mut out = HashMap::default();
    for export in &facts.exports {
        if export.exported == "*" || !seen.insert(export.exported.as_str()) {
            continue;
        }
        if let Some(sig) = exported_function(db, file, &export.exported) {
            out.insert(export.exported.clone(), sig);
        }
    }
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_project, memory_workspace};

    /// A barrel large enough for [`export_table`]: 40 modules re-exported by name, one name
    /// exported twice (the first wins), one re-exported from an import, and `export *`.
    fn large_barrel() -> Vec<(String, String)> {
        let mut files = Vec::new();
        let mut barrel = String::new();
        for k in 0..40 {
            files.push((
                format!("src/lib/f{k}.ts"),
                format!(
                    "import type {{ KrepisContext }} from \"@krepis/core\";\nexport async function f{k}(ctx: KrepisContext): Promise<void> {{}}\nexport function plain{k}(): void {{}}\n"
                ),
            ));
            barrel.push_str(&format!("export {{ f{k} }} from \"./f{k}.ts\";\n"));
        }
        // `twice` names f1 first, then plain2: the first export of a name is the one followed.
        barrel.push_str("export { f1 as twice } from \"./f1.ts\";\n");
        barrel.push_str("export { plain2 as twice } from \"./f2.ts\";\n");
        barrel.push_str("import { f3 as viaImport } from \"./f3.ts\";\nexport { viaImport };\n");
        barrel.push_str("export * from \"./f29.ts\";\n");
        files.push(("src/lib/index.ts".to_string(), barrel));
        files
    }

    #[test]
    fn the_export_table_finds_what_scanning_the_lists_finds() {
        let files = large_barrel();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let (workspace, root) = memory_workspace(&borrowed);
        let db = workspace.db();
        let file = workspace.file(&root.join("src/lib/index.ts")).unwrap();
        let facts = module_facts(db, file);
        assert!(
            wants_export_table(facts),
            "the barrel is large enough for a table"
        );
        let mut names: Vec<&str> = facts.exports.iter().map(|e| e.exported.as_str()).collect();
        names.extend(["missing", "plain29", "*"]);
        for name in names {
            assert_eq!(
                find_export(db, facts, file, name),
                facts.exports.iter().find(|e| e.exported == name),
                "export {name}"
            );
        }
        let mut locals: Vec<&str> = facts
            .imports
            .iter()
            .flat_map(|i| i.names.iter().map(|n| n.local.as_str()))
            .collect();
        locals.extend(["missing", "f3"]);
        for local in locals {
            let scanned = facts.imports.iter().enumerate().find_map(|(i, imp)| {
                imp.names
                    .iter()
                    .find(|n| n.local == local)
                    .map(|n| (i, &n.imported))
            });
            assert_eq!(
                find_import(db, facts, file, local),
                scanned,
                "import {local}"
            );
        }
    }

    #[test]
    fn calls_through_a_large_barrel_are_judged_by_their_declarations() {
        let mut files = large_barrel();
        files.push((
            "src/app/use.ts".to_string(),
            r#"import type { KrepisContext } from "@krepis/core";
import { f7, twice, viaImport, plain29, f29 } from "../lib/index.ts";
import * as lib from "../lib/index.ts";

export async function run(ctx: KrepisContext): Promise<void> {
  await f7();
//      ^^ context-propagation
  await twice();
//      ^^^^^ context-propagation
  await lib.twice();
//          ^^^^^ context-propagation
  lib.plain3();
  await viaImport();
//      ^^^^^^^^^ context-propagation
  await f29();
//      ^^^ context-propagation
  plain29();
  await f7(ctx);
}
"#
            .to_string(),
        ));
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        assert_project(&borrowed);
    }
}
