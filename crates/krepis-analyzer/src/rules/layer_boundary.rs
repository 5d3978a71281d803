//! `layer-boundary`: imports only go where the layer map allows.
//!
//! The user page is `rules/layer-boundary.md`.

use super::{RuleContext, RuleId};
use crate::layers::{EdgeViolation, LayerMap, PackageViolation};
use crate::resolve::Resolution;

pub use crate::settings::layer_boundary::Options;

/// A note made of the team's reason (when the config gives one), what the rule says, and where
/// the rule is written.
fn note(reason: Option<&str>, what: String, at: Option<String>) -> String {
    let what = match at {
        Some(at) => format!("{what} ({at})"),
        None => what,
    };
    match reason {
        Some(reason) => format!("{reason}: {what}"),
        None => what,
    }
}

pub fn check(cx: &mut RuleContext<'_>) {
    let mut found = findings(cx, cx.config, cx.layer);
    // In a monorepo, the layers the workspace root's configuration draws across packages hold
    // for a package with a configuration of its own too.
    if let Some(root) = cx.workspace_config.clone() {
        let from = root
            .relative(cx.path)
            .and_then(|relative| root.layers.classify(&relative));
        found.extend(findings(cx, &root, from.as_ref()));
    }
    for (range, message, note) in found {
        cx.report(RuleId::LayerBoundary, range, message, Some(note), None);
    }
}

/// The findings of `config`'s layers on the imports of the file (whose layer there is `from`):
/// where to report, what, and the note.
fn findings(
    cx: &RuleContext<'_>,
    config: &crate::config::Config,
    from: Option<&crate::layers::LayerMatch>,
) -> Vec<(crate::diagnostic::TextRange, String, String)> {
    let mut out = Vec::new();
    let layers = &config.layers;
    let here = config.relative(cx.path);
    for (index, (import, resolution)) in cx.facts.imports.iter().zip(cx.resolutions).enumerate() {
        let found = match resolution {
            Resolution::External => match from {
                Some(from) => package_finding(layers, from.layer, import),
                None => None,
            },
            Resolution::File(target) => {
                let relative = config.relative(target);
                let to = relative
                    .as_deref()
                    .and_then(|r| Some((r, layers.classify(r)?)));
                match to {
                    None => None,
                    Some((relative, to)) => match from.map(|from| layers.check_edge(from, &to)) {
                        Some(Err(violation)) => {
                            Some(edge_finding(layers, from, violation, relative))
                        }
                        _ => from
                            .filter(|_| !cx.erased.get(index).copied().unwrap_or(false))
                            .and_then(|from| {
                                type_only_finding(layers, from.layer, &to, import, relative)
                            })
                            .or_else(|| entry_finding(layers, &to, relative, here.as_deref())),
                    },
                }
            }
            _ => None,
        };
        if let Some((message, note)) = found {
            out.push((import.range, message, note));
            continue;
        }
        // The import itself may go where it goes: what it takes through barrels may not.
        let Some(from) = from else { continue };
        let traced: Vec<_> = cx
            .traced
            .iter()
            .filter(|t| t.import as usize == index)
            .cloned()
            .collect();
        for traced in traced {
            let Some(name) = import.names.get(traced.name as usize) else {
                continue;
            };
            let Some(relative) = config.relative(&traced.origin) else {
                continue;
            };
            let Some(to) = layers.classify(&relative) else {
                continue;
            };
            let (message, note) = match layers.check_edge(from, &to) {
                Err(violation) => edge_finding(layers, Some(from), violation, &relative),
                Ok(()) if import.is_type_only() || name.type_only || traced.is_type => continue,
                // Allowed for types only, and the name is a value.
                Ok(()) => match type_only_finding(layers, from.layer, &to, import, &relative) {
                    Some((message, note)) => (message, note),
                    None => continue,
                },
            };
            let through = traced
                .through
                .iter()
                .map(|p| match config.relative(p) {
                    Some(r) => format!("`{r}`"),
                    None => format!("`{}`", p.display()),
                })
                .collect::<Vec<_>>()
                .join(" → ");
            out.push((
                name.range,
                format!("{message}: `{}` is defined there", name.imported),
                format!("imported through {through}; {note}"),
            ));
        }
    }
    out
}

fn edge_finding(
    layers: &LayerMap,
    from: Option<&crate::layers::LayerMatch>,
    violation: EdgeViolation,
    relative: &str,
) -> (String, String) {
    let from_layer = from.and_then(|f| layers.layers().get(f.layer));
    let reason = from_layer.and_then(|l| l.message.as_deref());
    // Said where the layer is written only along with the team's reason for it.
    let at = reason.and_then(|_| layers.location(from_layer.and_then(|l| l.line)));
    match violation {
        EdgeViolation::NotAllowed {
            from: from_name,
            to: to_name,
        } => {
            let allowed = from_layer.map(|l| l.allow.as_slice()).unwrap_or(&[]);
            let allowed = if allowed.is_empty() {
                format!("`{from_name}` may import only itself")
            } else {
                format!(
                    "`{from_name}` may import {}",
                    std::iter::once(from_name.as_str())
                        .chain(allowed.iter().map(String::as_str))
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            (
                format!("layer `{from_name}` must not import layer `{to_name}` (`{relative}`)"),
                note(reason, allowed, at),
            )
        }
        EdgeViolation::Isolated {
            layer,
            capture,
            from: a,
            to: b,
        } => (
            format!(
                "`{a}` must not import `{b}`: layer `{layer}` keeps each `{capture}` apart (`{relative}`)"
            ),
            note(
                reason,
                "move what both need into a layer they may both import".to_string(),
                None,
            ),
        ),
    }
}

/// An import of an outside package that the importer's layer does not allow.
fn package_finding(
    layers: &LayerMap,
    from: usize,
    import: &crate::facts::ImportFact,
) -> Option<(String, String)> {
    let violation = layers
        .check_package(from, &import.specifier, import.is_type_only())
        .err()?;
    let layer = layers.layers().get(from)?;
    let packages = layer.packages.as_ref()?;
    let package = crate::packages::display_name(&import.specifier);
    let message = format!("layer `{}` must not import package `{package}`", layer.name);
    let (what, line) = match violation {
        PackageViolation::Denied { pattern } => (
            format!(
                "`{pattern}` is in the `packages.deny` of layer `{}`",
                layer.name
            ),
            packages.line_of(&pattern),
        ),
        PackageViolation::NotAllowed => {
            let allowed = packages.allow.as_ref().map(|m| m.patterns()).unwrap_or(&[]);
            let what = if allowed.is_empty() {
                format!("layer `{}` may import no package", layer.name)
            } else {
                format!(
                    "layer `{}` may import only the packages {}",
                    layer.name,
                    allowed
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            (what, packages.line_of(""))
        }
    };
    let reason = packages.message.as_deref().or(layer.message.as_deref());
    Some((message, note(reason, what, layers.location(line))))
}

/// A value import of a layer the importer's layer may import for types only.
fn type_only_finding(
    layers: &LayerMap,
    from: usize,
    to: &crate::layers::LayerMatch,
    import: &crate::facts::ImportFact,
    relative: &str,
) -> Option<(String, String)> {
    if import.is_type_only() || from == to.layer {
        return None;
    }
    let layer = layers.layers().get(from)?;
    let to_name = layers.name(to.layer);
    let detail = layer
        .allow_details
        .iter()
        .find(|d| d.layer == to_name && d.type_only)?;
    Some((
        format!(
            "layer `{}` may import only types from layer `{to_name}` (`{relative}`)",
            layer.name
        ),
        note(
            detail.message.as_deref().or(layer.message.as_deref()),
            "write `import type`, or move what runs into a layer it may import".to_string(),
            layers.location(layer.line),
        ),
    ))
}

/// An import from outside an element of a layer that declares entry points, of a file that is
/// not one of them.
fn entry_finding(
    layers: &LayerMap,
    to: &crate::layers::LayerMatch,
    relative: &str,
    importer: Option<&str>,
) -> Option<(String, String)> {
    let layer = layers.layers().get(to.layer)?;
    if layer.entry.is_empty() {
        return None;
    }
    let folder = layers.element_folder(to, relative)?;
    let within = if folder.is_empty() {
        relative
    } else {
        relative.strip_prefix(&folder)?.strip_prefix('/')?
    };
    let inside =
        importer.is_some_and(|i| folder.is_empty() || i.starts_with(&format!("{folder}/")));
    if inside || layers.is_entry(to.layer, within) {
        return None;
    }
    let element = folder.rsplit('/').next().filter(|s| !s.is_empty());
    let element = match element {
        Some(name) => format!("`{name}`"),
        None => format!("layer `{}`", layer.name),
    };
    let entries = layer
        .entry
        .iter()
        .map(|e| {
            let e = e.trim_start_matches("./");
            if folder.is_empty() {
                format!("`{e}`")
            } else {
                format!("`{folder}/{e}`")
            }
        })
        .collect::<Vec<_>>()
        .join(" or ");
    Some((
        format!(
            "`{relative}` is inside {element} (layer `{}`) and not one of its entry points",
            layer.name
        ),
        note(
            layer.message.as_deref(),
            format!("import it through {entries}"),
            layers.location(layer.line),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_project, assert_project_with_config};

    /// The layer-boundary findings of `path` as (line, message, note), with `config` at the root.
    fn findings(config: &str, files: &[(&str, &str)], path: &str) -> Vec<(usize, String, String)> {
        use std::path::PathBuf;
        let root = PathBuf::from("/project");
        let parsed = crate::testing::config_at_root(config).unwrap_or_else(|e| panic!("{e}"));
        let mut settings = crate::project::ProjectSettings::new(&root, None);
        settings.insert_config(root.clone(), std::sync::Arc::new(parsed));
        let sources = files
            .iter()
            .map(|(p, t)| (root.join(p), t.to_string()))
            .collect();
        let workspace = crate::workspace::Workspace::from_memory(settings, sources);
        let result = workspace
            .check(&|| {})
            .into_iter()
            .find(|r| r.path == root.join(path))
            .unwrap();
        let text = result.text.clone();
        result
            .diagnostics
            .iter()
            .filter(|d| d.rule == super::RuleId::LayerBoundary)
            .map(|d| {
                (
                    text[..d.range.start as usize].matches('\n').count() + 1,
                    d.message.clone(),
                    d.note.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    const PACKAGES: &str = r#"{
  "layers": [
    {
      "name": "domain",
      "paths": ["src/*/domain/**"],
      "packages": { "allow": ["zod", "@acme/money"] },
      "message": "the domain is plain TypeScript: see ADR-12"
    },
    {
      "name": "application",
      "paths": ["src/*/application/**"],
      "allow": ["domain"],
      "packages": {
        "deny": ["express", "node:*", "@nestjs/*"],
        "ignoreTypeImports": true,
        "message": "HTTP and the runtime belong in adapters"
      }
    },
    { "name": "adapters", "paths": ["src/*/adapters/**"], "allow": ["domain", "application"] }
  ]
}"#;

    #[test]
    fn layers_may_import_only_the_packages_they_allow() {
        assert_project_with_config(
            PACKAGES,
            &[
                (
                    "src/orders/domain/order.ts",
                    r#"
import { z } from "zod";
import { Money } from "@acme/money/types";
import { readFile } from "node:fs/promises";
//                       ^^^^^^^^^^^^^^^^^^ layer-boundary
//                       ^^^^^^^^^^^^^^^^^^ pure-domain
import type { Request } from "express";
//                           ^^^^^^^^^ layer-boundary
import dayjs from "npm:dayjs@1";
//                ^^^^^^^^^^^^^ layer-boundary
"#,
                ),
                (
                    "src/orders/application/place.ts",
                    r#"
import { z } from "zod";
import type { Request } from "express";
import express from "express";
//                  ^^^^^^^^^ layer-boundary
import { join } from "path";
//                   ^^^^^^ layer-boundary
import { Injectable } from "@nestjs/common";
//                         ^^^^^^^^^^^^^^^^ layer-boundary
import { Order } from "../domain/order.ts";
"#,
                ),
                (
                    "src/orders/adapters/http.ts",
                    "import express from \"express\";\nimport { join } from \"node:path\";\n",
                ),
            ],
        );
    }

    #[test]
    fn package_findings_name_the_package_the_layer_the_rule_and_the_reason() {
        let files = [
            (
                "src/orders/domain/order.ts",
                "import { readFile } from \"node:fs/promises\";\n",
            ),
            (
                "src/orders/application/place.ts",
                "import express from \"express/lib/router\";\n",
            ),
        ];
        assert_eq!(
            findings(PACKAGES, &files, "src/orders/domain/order.ts"),
            [(
                1,
                "layer `domain` must not import package `node:fs`".to_string(),
                "the domain is plain TypeScript: see ADR-12: layer `domain` may import only the \
                 packages `zod`, `@acme/money` (krepis.json:6)"
                    .to_string()
            )]
        );
        assert_eq!(
            findings(PACKAGES, &files, "src/orders/application/place.ts"),
            [(
                1,
                "layer `application` must not import package `express`".to_string(),
                "HTTP and the runtime belong in adapters: `express` is in the `packages.deny` of \
                 layer `application` (krepis.json:14)"
                    .to_string()
            )]
        );
    }

    const TRINITY: &str = r#"{
  "layers": [
    { "name": "domain", "paths": ["src/domain/**"] },
    { "name": "application", "paths": ["src/application/**"], "allow": ["domain"] },
    { "name": "infrastructure", "paths": ["src/infrastructure/**"], "allow": ["domain", "application"] }
  ]
}"#;

    /// A barrel outside every layer that passes on names from the domain and from the
    /// infrastructure, by every form of re-export.
    const BARRELS: [(&str, &str); 6] = [
        (
            "src/index.ts",
            "export { Order } from \"./domain/order.ts\";\nexport * from \"./shared/index.ts\";\nimport { Cache } from \"./infrastructure/cache.ts\";\nexport { Cache };\n",
        ),
        (
            "src/shared/index.ts",
            "export { Db as Database } from \"../infrastructure/db.ts\";\nexport * as infra from \"../infrastructure/db.ts\";\n",
        ),
        ("src/domain/order.ts", "export class Order {}\n"),
        ("src/infrastructure/db.ts", "export class Db {}\n"),
        ("src/infrastructure/cache.ts", "export class Cache {}\n"),
        (
            "src/shared/cycle.ts",
            "export * from \"./cycle.ts\";\n//            ^^^^^^^^^^^^ import-cycle\n",
        ),
    ];

    #[test]
    fn names_taken_through_barrels_are_checked_where_they_are_defined() {
        let mut files = BARRELS.to_vec();
        files.push((
            "src/application/place.ts",
            r#"
import { Order, Database, Cache, infra } from "../index.ts";
//              ^^^^^^^^ layer-boundary
//                        ^^^^^ layer-boundary
//                               ^^^^^ layer-boundary
import { Nothing } from "../shared/cycle.ts";
import type { Database as Db } from "../index.ts";
//            ^^^^^^^^^^^^^^ layer-boundary
"#,
        ));
        assert_project_with_config(TRINITY, &files);
        let found = findings(TRINITY, &files, "src/application/place.ts");
        assert_eq!(
            found[0],
            (
                2,
                "layer `application` must not import layer `infrastructure` \
                 (`src/infrastructure/db.ts`): `Database` is defined there"
                    .to_string(),
                "imported through `src/index.ts` → `src/shared/index.ts`; `application` may \
                 import `application`, `domain`"
                    .to_string()
            )
        );
        // The option turns it off.
        let off = TRINITY.replacen(
            "\"layers\"",
            "\"rules\": { \"layer-boundary\": [\"error\", { \"traceBarrels\": false }] },\n  \"layers\"",
            1,
        );
        assert_eq!(findings(&off, &files, "src/application/place.ts"), []);
    }

    const FEATURES: &str = r#"{
  "layers": [
    { "name": "shared", "paths": ["src/shared/**"] },
    {
      "name": "features",
      "paths": ["src/features/<feature>/**"],
      "allow": ["shared", { "layer": "infra", "typeOnly": true, "message": "features see the database's types only" }],
      "entry": ["index.ts", "public/**"],
      "message": "features talk through their public API"
    },
    { "name": "infra", "paths": ["src/infra/**"], "allow": ["shared"] }
  ]
}"#;

    #[test]
    fn elements_are_imported_through_their_entry_points() {
        assert_project_with_config(
            FEATURES,
            &[
                (
                    "src/features/orders/index.ts",
                    "export { price } from \"./domain/internal/price.ts\";\n",
                ),
                (
                    "src/features/orders/domain/internal/price.ts",
                    "export const price = 1;\n",
                ),
                (
                    "src/features/orders/public/api.ts",
                    "export const api = 1;\n",
                ),
                (
                    "src/features/billing/invoice.ts",
                    r#"
import { price } from "../orders/index.ts";
import { api } from "../orders/public/api.ts";
import { price as deep } from "../orders/domain/internal/price.ts";
//                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ layer-boundary
import { own } from "./own.ts";
"#,
                ),
                ("src/features/billing/own.ts", "export const own = 1;\n"),
                (
                    "src/main.ts",
                    r#"
import { price } from "./features/orders/domain/internal/price.ts";
//                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ layer-boundary
"#,
                ),
            ],
        );
        let files = [
            (
                "src/features/orders/domain/internal/price.ts",
                "export const price = 1;\n",
            ),
            (
                "src/main.ts",
                "import { price } from \"./features/orders/domain/internal/price.ts\";\n",
            ),
        ];
        assert_eq!(
            findings(FEATURES, &files, "src/main.ts"),
            [(
                1,
                "`src/features/orders/domain/internal/price.ts` is inside `orders` (layer \
                 `features`) and not one of its entry points"
                    .to_string(),
                "features talk through their public API: import it through \
                 `src/features/orders/index.ts` or `src/features/orders/public/**` (krepis.json:5)"
                    .to_string()
            )]
        );
    }

    #[test]
    fn an_allowance_for_types_only_reports_value_imports_with_its_reason() {
        let files = [
            (
                "src/infra/db.ts",
                "export class Db {}\nexport type Row = {};\nexport interface Port {}\ntype Local = {};\nexport { Local as Alias };\n",
            ),
            ("src/infra/index.ts", "export * from \"./db.ts\";\n"),
            (
                "src/features/orders/repo.ts",
                "import type { Row } from \"../../infra/db.ts\";\nimport { Db } from \"../../infra/db.ts\";\n\
                 // Interfaces and aliases vanish at run time, however imported.\n\
                 import { Port, Alias, type Row as R } from \"../../infra/index.ts\";\n\
                 import { Port as P, Db as D } from \"../../infra/index.ts\";\n",
            ),
        ];
        assert_eq!(
            findings(FEATURES, &files, "src/features/orders/repo.ts")[..1],
            [(
                2,
                "layer `features` may import only types from layer `infra` (`src/infra/db.ts`)"
                    .to_string(),
                "features see the database's types only: write `import type`, or move what runs \
                 into a layer it may import (krepis.json:5)"
                    .to_string()
            )]
        );
        let lines: Vec<usize> = findings(FEATURES, &files, "src/features/orders/repo.ts")
            .iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(lines, [2, 5]);
    }

    #[test]
    fn reports_imports_against_the_layer_order() {
        assert_project(&[
            (
                "src/orders/domain/order.ts",
                r#"
import { Db } from "../infrastructure/db.ts";
//                 ^^^^^^^^^^^^^^^^^^^^^^^^^ layer-boundary
import type { Port } from "../application/port.ts";
//                        ^^^^^^^^^^^^^^^^^^^^^^^^ layer-boundary
import { money } from "./money.ts";
export const x = () => import("../adapters/http.ts");
//                            ^^^^^^^^^^^^^^^^^^^^^ layer-boundary
"#,
            ),
            ("src/orders/domain/money.ts", "export const money = 1;\n"),
            (
                "src/orders/application/port.ts",
                r#"
import { money } from "../domain/money";
export * from "../infrastructure/db.js";
//            ^^^^^^^^^^^^^^^^^^^^^^^^^ layer-boundary
export interface Port {}
"#,
            ),
            (
                "src/orders/infrastructure/db.ts",
                "import { money } from \"../domain/money.ts\";\nexport class Db {}\n",
            ),
            (
                "src/orders/adapters/http.ts",
                "import { Db } from \"../infrastructure/db.ts\";\nimport { money } from \"../domain/money.ts\";\n",
            ),
            (
                "src/main.ts",
                "import { Db } from \"./orders/infrastructure/db.ts\";\n",
            ),
        ]);
    }
}
