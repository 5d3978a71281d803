//! Names imported through barrels, traced to the module that really defines them.
//!
//! `import { Db } from "../index.ts"`, where `index.ts` says `export { Db } from
//! "./infrastructure/db.ts"` (or `export *`, or imports `Db` and exports it again), reaches
//! `infrastructure/db.ts` at run time: `layer-boundary` checks the import against that module's
//! layer too, and shows the modules in between.

use rustc_hash::FxHashSet as HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::db::{Db, SourceFile, module_facts};
use crate::facts::Name;

/// A name a module imports from another that only passes it on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TracedName {
    /// Index into the importer's `ModuleFacts::imports`.
    pub import: u32,
    /// Index into that import's `names`.
    pub name: u32,
    /// The module that defines the name.
    pub origin: PathBuf,
    /// The modules that pass it on, from the imported one to the last before `origin`.
    pub through: Vec<PathBuf>,
    /// The name is an interface or a type alias there: it vanishes at run time.
    pub is_type: bool,
}

/// The longest chain of re-exports followed.
const MAX_DEPTH: usize = 32;

/// Every name `file` imports (or re-exports) from a project module that does not define it.
#[salsa::tracked]
pub fn traced_imports(db: &dyn Db, file: SourceFile) -> Arc<Vec<TracedName>> {
    let facts = module_facts(db, file);
    let mut out = Vec::new();
    for (i, import) in facts.imports.iter().enumerate() {
        let Some(target) = crate::db::import_target(db, file, i) else {
            continue;
        };
        for (n, name) in import.names.iter().enumerate() {
            if name.imported == "*" {
                continue;
            }
            let Some((origin, local, through)) =
                trace(db, target, &name.imported, &mut HashSet::default(), 0)
            else {
                continue;
            };
            if through.is_empty() {
                continue;
            }
            out.push(TracedName {
                import: i as u32,
                name: n as u32,
                origin: origin.path(db).clone(),
                through: through.iter().map(|f| f.path(db).clone()).collect(),
                is_type: declares_type(db, origin, &local),
            });
        }
    }
    Arc::new(out)
}

/// Where `name`, exported by `file`, is defined, under which local name, and the modules from
/// `file` on that pass it on (empty when `file` defines it). `None` when it leads outside the
/// project or nowhere.
fn trace(
    db: &dyn Db,
    file: SourceFile,
    name: &str,
    seen: &mut HashSet<(SourceFile, Name)>,
    depth: usize,
) -> Option<(SourceFile, Name, Vec<SourceFile>)> {
    if depth > MAX_DEPTH || !seen.insert((file, Name::from(name))) {
        return None;
    }
    let facts = module_facts(db, file);
    let passed_on = |next: SourceFile, next_name: &str, seen: &mut HashSet<_>| {
        let (origin, local, mut through) = if next_name == "*" {
            // A namespace passed on (`export * as ns from`): the module itself.
            (next, Name::from("*"), Vec::new())
        } else {
            trace(db, next, next_name, seen, depth + 1)?
        };
        through.insert(0, file);
        Some((origin, local, through))
    };
    match crate::signatures::find_export(db, facts, file, name) {
        Some(export) => {
            let (index, next_name) = match export.from_import {
                Some(index) => (index as usize, export.local.clone()),
                None => {
                    // `import { Db } from "./db"; export { Db }`: passed on as well.
                    let imported = crate::signatures::find_import(db, facts, file, &export.local);
                    match imported {
                        Some((i, imported)) => (i, imported.clone()),
                        None => return Some((file, export.local.clone(), Vec::new())),
                    }
                }
            };
            let next = crate::db::import_target(db, file, index)?;
            passed_on(next, &next_name, seen)
        }
        None => facts
            .exports
            .iter()
            .filter(|e| e.exported == "*")
            .filter_map(|star| crate::db::import_target(db, file, star.from_import? as usize))
            .find_map(|next| passed_on(next, name, seen)),
    }
}

/// Whether each import of `file` vanishes at run time: written type-only, or naming only
/// interfaces and type aliases of the project (which TypeScript erases), wherever they are
/// defined. What a `typeOnly` allowance lets through.
#[salsa::tracked]
pub fn erased_imports(db: &dyn Db, file: SourceFile) -> Arc<Vec<bool>> {
    let facts = module_facts(db, file);
    // Names passed on by barrels are traced once, by `traced_imports`; the others are defined
    // in the module they are imported from.
    let traced = traced_imports(db, file);
    let erased = facts
        .imports
        .iter()
        .enumerate()
        .map(|(i, import)| {
            if import.is_type_only() {
                return true;
            }
            let Some(target) = crate::db::import_target(db, file, i) else {
                return false;
            };
            !import.names.is_empty()
                && import.names.iter().enumerate().all(|(n, name)| {
                    let passed_on = traced
                        .iter()
                        .find(|t| t.import as usize == i && t.name as usize == n);
                    name.type_only
                        || match passed_on {
                            Some(t) => t.is_type,
                            None => {
                                name.imported != "*" && defined_as_type(db, target, &name.imported)
                            }
                        }
                })
        })
        .collect();
    Arc::new(erased)
}

/// Whether `file` itself defines the export `name` as an interface or a type alias.
fn defined_as_type(db: &dyn Db, file: SourceFile, name: &str) -> bool {
    match trace(db, file, name, &mut HashSet::default(), 0) {
        Some((origin, local, through)) => through.is_empty() && declares_type(db, origin, &local),
        None => false,
    }
}

/// Whether `origin` declares `local` as an interface or a type alias, and not also as a value.
fn declares_type(db: &dyn Db, origin: SourceFile, local: &str) -> bool {
    let facts = module_facts(db, origin);
    let interface = facts.types.iter().any(|t| t.name == local && !t.is_class);
    let alias = facts.type_aliases.iter().any(|t| t == local);
    (interface || alias) && !facts.bound_names.iter().any(|n| n == local && !interface)
}

/// The import edges of `file` with each name taken through a barrel leading to the module that
/// defines it instead: the graph `import-cycle`'s `throughBarrels` computes cycles on. An import
/// keeps its edge to the imported module for what that module defines itself (or for a
/// namespace, a default export defined there, or an import of nothing by name).
#[salsa::tracked]
pub fn traced_edges(db: &dyn Db, file: SourceFile) -> Arc<Vec<crate::db::ImportEdge>> {
    let edges = crate::db::import_edges(db, file);
    let traced = traced_imports(db, file);
    if traced.is_empty() {
        return edges.clone();
    }
    let facts = module_facts(db, file);
    let mut out: Vec<crate::db::ImportEdge> = Vec::with_capacity(edges.len());
    for edge in edges.iter() {
        let Some(import) = facts.imports.get(edge.import as usize) else {
            continue;
        };
        let here: Vec<&TracedName> = traced.iter().filter(|t| t.import == edge.import).collect();
        if import.names.is_empty() || here.len() < import.names.len() {
            out.push(*edge);
        }
        for name in here {
            let Some(target) = crate::db::project_file(db, &name.origin) else {
                continue;
            };
            let type_only = edge.type_only
                || name.is_type
                || import
                    .names
                    .get(name.name as usize)
                    .is_some_and(|n| n.type_only);
            let traced_edge = crate::db::ImportEdge {
                target,
                import: edge.import,
                type_only,
            };
            if !out.contains(&traced_edge) {
                out.push(traced_edge);
            }
        }
    }
    Arc::new(out)
}
