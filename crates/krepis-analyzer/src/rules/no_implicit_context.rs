//! `no-implicit-context`: no `AsyncLocalStorage` and friends; the context is passed explicitly.
//!
//! Two steps: a module that imports an implicit-context package (or `AsyncLocalStorage`) is
//! reported at the import; a module that uses what such a module exports (a wrapper like a
//! `RequestContextService`) is reported at its import of the wrapper, with the chain.
//!
//! The user page is `rules/no-implicit-context.md`.

use super::{RuleContext, RuleId, package_name};
use crate::db::{Db, Project, SourceFile, module_facts, resolved_imports};
use crate::diagnostic::TextRange;
use crate::facts::{ImportFact, ImportKind, ModuleFacts, Name};
use crate::resolve::Resolution;

pub use crate::settings::no_implicit_context::{Globs, Options};

const ASYNC_HOOKS_APIS: [&str; 4] = [
    "AsyncLocalStorage",
    "AsyncResource",
    "createHook",
    "executionAsyncResource",
];

/// Packages whose purpose is request state that follows async calls (`AsyncLocalStorage`,
/// `async_hooks` or zones underneath).
pub const IMPLICIT_CONTEXT_PACKAGES: [&str; 18] = [
    "asyncctx",
    "async-local-storage",
    "cls-hooked",
    "cls-proxify",
    "cls-rtracer",
    "continuation-local-storage",
    "express-cls-hooked",
    "express-http-context",
    "express-http-context2",
    "fastify-request-context",
    "@fastify/request-context",
    "@medibloc/nestjs-request-context",
    "nestjs-cls",
    "nestjs-request-context",
    "node-request-context",
    "request-context",
    "zone.js",
    "@nestjs-cls/transactional",
];

/// One import that reads implicit context directly.
struct Direct {
    range: TextRange,
    message: String,
    /// What it reads through: the package (or `async_hooks`).
    through: String,
    /// Only the package's NestJS module or middleware (`RequestContextModule`,
    /// `ClsMiddleware`): that sets the store up for requests, it reads nothing.
    setup_only: bool,
}

fn is_implicit_package(package: &str, extra: &[String]) -> bool {
    IMPLICIT_CONTEXT_PACKAGES.contains(&package) || extra.iter().any(|p| p == package)
}

/// The imports of a module that read implicit context directly.
fn direct(facts: &ModuleFacts, extra: &[String]) -> Vec<Direct> {
    let mut found = Vec::new();
    for import in &facts.imports {
        if import.is_type_only() {
            continue;
        }
        let package = package_name(&import.specifier);
        if package == "async_hooks" {
            if import.names.is_empty() {
                if matches!(import.kind, ImportKind::Require | ImportKind::Dynamic) {
                    found.push(Direct {
                        range: import.range,
                        message: format!(
                            "`{}` gives access to implicit async context",
                            import.specifier
                        ),
                        through: import.specifier.to_string(),
                        setup_only: false,
                    });
                }
                continue;
            }
            for name in &import.names {
                if name.type_only {
                    continue;
                }
                let message = match name.imported.as_str() {
                    "*" | "default" => format!(
                        "`{}` imports all of `{}`, which carries request state implicitly",
                        name.local, import.specifier
                    ),
                    api if ASYNC_HOOKS_APIS.contains(&api) => {
                        format!("`{api}` carries request state implicitly")
                    }
                    _ => continue,
                };
                found.push(Direct {
                    range: name.range,
                    message,
                    through: format!("{}` from `{}", name.imported, import.specifier),
                    setup_only: false,
                });
            }
        } else if is_implicit_package(package, extra) {
            found.push(Direct {
                range: import.range,
                message: format!("`{package}` carries request state implicitly"),
                through: package.to_string(),
                setup_only: !import.names.is_empty()
                    && import.names.iter().all(|n| {
                        n.type_only
                            || n.imported.ends_with("Module")
                            || n.imported.ends_with("Middleware")
                    }),
            });
        }
    }
    found
}

/// What a project module reads implicit context through, when it does: a package it imports,
/// or the configuration naming it in `modules`. The rule's importers step asks this of the
/// modules a file imports; it depends on that module's facts alone.
#[salsa::tracked]
pub fn reads_implicit_context(db: &dyn Db, file: SourceFile) -> Option<Name> {
    let path = file.path(db);
    let settings = Project::get(db).settings(db);
    let config = settings.config_for(path);
    if config.is_ignored(path) {
        return None;
    }
    let options = &config.rules.no_implicit_context;
    if !options.modules.is_empty()
        && let Some(relative) = config.relative(path)
        && options.modules.is_match(&relative)
    {
        return Some("`modules` in the configuration".into());
    }
    let facts = module_facts(db, file);
    direct(facts, &options.packages)
        .into_iter()
        .find(|d| !d.setup_only)
        .map(|d| format!("`{}`", d.through).into())
}

/// For each import of `file` that leads to a project module reading implicit context: the
/// import's index, what that module reads through, and its path relative to the configuration.
pub fn wrappers_imported(db: &dyn Db, file: SourceFile) -> Vec<(u32, Name, String)> {
    let project = Project::get(db);
    let config = project.settings(db).config_for(file.path(db));
    let facts = module_facts(db, file);
    let resolutions = resolved_imports(db, file);
    let targets = crate::db::import_targets(db, file);
    let mut out = Vec::new();
    for (k, (import, resolution)) in facts.imports.iter().zip(resolutions.iter()).enumerate() {
        let Resolution::File(target) = resolution else {
            continue;
        };
        if import.is_type_only() || target == file.path(db) {
            continue;
        }
        let Some(module) = targets.get(k).copied().flatten() else {
            continue;
        };
        if let Some(through) = reads_implicit_context(db, module).clone() {
            let shown = config
                .relative(target)
                .unwrap_or_else(|| crate::config::slash_path(target));
            out.push((k as u32, through, shown));
        }
    }
    out
}

/// Whether the module uses the value `local` binds: calls it or a member of it, constructs it,
/// takes it as a (constructor-injected) parameter or field type, or passes it on.
fn uses(facts: &ModuleFacts, local: &str) -> bool {
    let root = |path: &str| path.split('.').next() == Some(local);
    facts.calls.iter().any(|call| {
        let callee = match &call.callee {
            crate::facts::Callee::Name(name) => root(name),
            crate::facts::Callee::Member { object, .. } => root(object),
            crate::facts::Callee::Computed { .. } | crate::facts::Callee::Other => false,
        };
        callee
            || matches!(&call.first_argument, Some((crate::facts::ArgumentFact::Identifier(n), _)) if n == local)
    }) || facts.functions.iter().any(|f| {
        f.params
            .iter()
            .any(|p| p.type_name.as_deref().is_some_and(root))
    }) || facts
        .fields
        .iter()
        .any(|f| f.type_text.split('<').next() == Some(local))
        || facts.value_uses.iter().any(|n| n == local)
        // `class UserEntity extends BaseEntity`: the base class's hooks run in every subclass.
        || facts.types.iter().any(|t| {
            t.is_class && t.extends.iter().any(|e| e.split('<').next().is_some_and(root))
        })
        || facts.global_uses.iter().any(|g| root(&g.path))
}

pub fn check(cx: &mut RuleContext<'_>) {
    let extra = cx.config.rules.no_implicit_context.packages.clone();
    let param = format!(
        "{}: {}",
        cx.config.context.param, cx.config.context.type_name
    );
    let note = format!("pass `{param}` explicitly instead of relying on ambient request state");
    for found in direct(cx.facts, &extra) {
        cx.report(
            RuleId::NoImplicitContext,
            found.range,
            found.message,
            Some(note.clone()),
            None,
        );
    }
    let me = cx
        .config
        .relative(cx.path)
        .unwrap_or_else(|| crate::config::slash_path(cx.path));
    for (k, through, wrapper) in cx.implicit_wrappers.clone() {
        let Some(import) = cx.facts.imports.get(k as usize) else {
            continue;
        };
        let used = used_names(cx.facts, import);
        if used.is_empty() {
            continue;
        }
        let named = used
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let range = if used.len() == 1 {
            used[0].1
        } else {
            import.range
        };
        let through_text = through.replace('`', "");
        cx.report(
            RuleId::NoImplicitContext,
            range,
            format!("{named} from `{wrapper}` reads request state implicitly (through {through})"),
            Some(format!("{me} → {wrapper} → {through_text}; {note}")),
            None,
        );
    }
}

/// The names an import binds that the module uses as values, with their ranges.
fn used_names(facts: &ModuleFacts, import: &ImportFact) -> Vec<(Name, TextRange)> {
    if import.names.is_empty() {
        // `import("./wrapper")` / `require("./wrapper")`: what it gives is used where it lands.
        return if matches!(import.kind, ImportKind::Dynamic | ImportKind::Require) {
            vec![(import.specifier.clone(), import.range)]
        } else {
            Vec::new()
        };
    }
    import
        .names
        .iter()
        .filter(|n| !n.type_only && !n.local.is_empty() && uses(facts, &n.local))
        .map(|n| {
            let shown = if n.imported == "*" || n.imported == "default" {
                n.local.clone()
            } else {
                n.imported.clone()
            };
            (shown, n.range)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::rules::package_name;
    use crate::testing::assert_annotations;

    #[test]
    fn package_names() {
        assert_eq!(package_name("node:async_hooks"), "async_hooks");
        assert_eq!(package_name("npm:cls-hooked@4.2.2"), "cls-hooked");
        assert_eq!(package_name("zone.js/node"), "zone.js");
        assert_eq!(package_name("@scope/pkg@1/x"), "@scope/pkg");
        assert_eq!(package_name(""), "");
        assert_eq!(package_name("@"), "@");
        assert_eq!(package_name("\u{2028}e.ts"), "\u{2028}e.ts");
        assert_eq!(package_name("é@2"), "é");
    }

    #[test]
    fn reports_implicit_context_apis() {
        assert_annotations(
            "src/shared/als.ts",
            r#"
import { AsyncLocalStorage, executionAsyncId } from "node:async_hooks";
//       ^^^^^^^^^^^^^^^^^ no-implicit-context
import type { AsyncResource } from "async_hooks";
import * as hooks from "async_hooks";
//     ^^^^^^^^^^ no-implicit-context
import cls from "npm:cls-hooked@4";
//              ^^^^^^^^^^^^^^^^^^ no-implicit-context
const h = require("node:async_hooks");
//                ^^^^^^^^^^^^^^^^^^ no-implicit-context
import "zone.js";
//     ^^^^^^^^^ no-implicit-context
"#,
        );
    }

    #[test]
    fn reports_packages_real_services_use() {
        assert_annotations(
            "src/shared/context.ts",
            r#"
import { ClsService } from "nestjs-cls";
//                         ^^^^^^^^^^^^ no-implicit-context
import httpContext from "express-http-context";
//                      ^^^^^^^^^^^^^^^^^^^^^^ no-implicit-context
import { requestContext } from "@fastify/request-context";
//                             ^^^^^^^^^^^^^^^^^^^^^^^^^^ no-implicit-context
import type { ClsStore } from "nestjs-cls";
import rTracer = require("cls-rtracer");
//                       ^^^^^^^^^^^^^ no-implicit-context
"#,
        );
    }

    #[test]
    fn importers_that_use_a_wrapper_are_reported_with_the_chain() {
        let wrapper = r#"import { RequestContext } from "nestjs-request-context";
//                             ^^^^^^^^^^^^^^^^^^^^^^^^ no-implicit-context
export class RequestContextService {
  static getRequestId(): string {
    return RequestContext.currentContext.req.id;
  }
}
export type RequestId = string;
"#;
        crate::testing::assert_project(&[
            ("src/shared/request-context.service.ts", wrapper),
            (
                "src/orders/domain/order.ts",
                r#"import { RequestContextService, type RequestId } from "../../shared/request-context.service.ts";
//       ^^^^^^^^^^^^^^^^^^^^^ no-implicit-context
export function stamp(): RequestId {
  return RequestContextService.getRequestId();
}
"#,
            ),
            (
                "src/orders/application/audit.ts",
                r#"import { RequestContextService } from "../../shared/request-context.service.ts";
//       ^^^^^^^^^^^^^^^^^^^^^ no-implicit-context
export class Audit {
  constructor(private readonly requests: RequestContextService) {}
}
"#,
            ),
            // Registering the package's module sets the store up; it reads nothing.
            (
                "src/app.module.ts",
                "import { RequestContextModule } from \"nestjs-request-context\";\n//                                   ^^^^^^^^^^^^^^^^^^^^^^^^ no-implicit-context\nexport const AppModule = { imports: [RequestContextModule] };\n",
            ),
            (
                "src/main.ts",
                "import { AppModule } from \"./app.module.ts\";\ncreate(AppModule);\n",
            ),
            (
                "src/orders/application/types.ts",
                "import type { RequestId } from \"../../shared/request-context.service.ts\";\nimport { RequestContextService } from \"../../shared/request-context.service.ts\";\nexport type Id = RequestId;\nexport type S = typeof RequestContextService;\n",
            ),
        ]);
        let diagnostics = crate::testing::check_project_file(
            &[
                ("src/shared/request-context.service.ts", wrapper),
                (
                    "src/orders/domain/order.ts",
                    "import { RequestContextService } from \"../../shared/request-context.service.ts\";\nexport const id = () => RequestContextService.getRequestId();\n",
                ),
            ],
            "src/orders/domain/order.ts",
        );
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(
            diagnostics[0].message,
            "`RequestContextService` from `src/shared/request-context.service.ts` reads request state implicitly (through `nestjs-request-context`)"
        );
        let note = diagnostics[0].note.as_deref().unwrap_or_default();
        assert!(
            note.starts_with("src/orders/domain/order.ts → src/shared/request-context.service.ts → nestjs-request-context; pass"),
            "{note}"
        );
    }

    #[test]
    fn configured_source_modules() {
        crate::testing::assert_project_with_config(
            r#"{ "rules": { "no-implicit-context": ["error", { "modules": ["src/shared/tenant/**"] }] } }"#,
            &[
                (
                    "src/shared/tenant/current.ts",
                    "export const currentTenant = () => globalThis.__tenant;\n",
                ),
                (
                    "src/billing/application/bill.ts",
                    "import { currentTenant } from \"../../shared/tenant/current.ts\";\n//       ^^^^^^^^^^^^^ no-implicit-context\nexport const bill = () => currentTenant();\n",
                ),
            ],
        );
        let error = crate::testing::config_at_root(
            r#"{ "rules": { "no-implicit-context": ["error", { "modules": ["src/[x"] }] } }"#,
        )
        .expect_err("a bad glob is refused");
        assert!(error.to_string().contains("is not a glob"), "{error}");
    }
}
