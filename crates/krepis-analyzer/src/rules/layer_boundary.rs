//! `layer-boundary`: imports only go where the layer map allows.
//!
//! The user page is `rules/layer-boundary.md`.

use super::{RuleContext, RuleId};
use crate::layers::EdgeViolation;
use crate::resolve::Resolution;

pub fn check(cx: &mut RuleContext<'_>) {
    let Some(from) = cx.layer else { return };
    let layers = &cx.config.layers;
    for (import, resolution) in cx.facts.imports.iter().zip(cx.resolutions) {
        let Resolution::File(target) = resolution else {
            continue;
        };
        let Some(relative) = cx.config.relative(target) else {
            continue;
        };
        let Some(to) = layers.classify(&relative) else {
            continue;
        };
        let (message, note) = match layers.check_edge(from, &to) {
            Ok(()) => continue,
            Err(EdgeViolation::NotAllowed {
                from: from_name,
                to: to_name,
            }) => {
                let allowed = &layers.layers()[from.layer].allow;
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
                    allowed,
                )
            }
            Err(EdgeViolation::Isolated {
                layer,
                capture,
                from: a,
                to: b,
            }) => (
                format!(
                    "`{a}` must not import `{b}`: layer `{layer}` keeps each `{capture}` apart (`{relative}`)"
                ),
                "move what both need into a layer they may both import".to_string(),
            ),
        };
        cx.report(
            RuleId::LayerBoundary,
            import.range,
            message,
            Some(note),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::assert_project;

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
