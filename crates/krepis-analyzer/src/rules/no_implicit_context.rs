//! `no-implicit-context`: no `AsyncLocalStorage` and friends; the context is passed explicitly.
//!
//! The user page is `rules/no-implicit-context.md`.

use super::{RuleContext, RuleId};
use crate::facts::ImportKind;

/// Options of `no-implicit-context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// More implicit-context packages to ban.
    #[serde(default)]
    pub packages: Vec<String>,
}

const ASYNC_HOOKS_APIS: [&str; 4] = [
    "AsyncLocalStorage",
    "AsyncResource",
    "createHook",
    "executionAsyncResource",
];
const IMPLICIT_CONTEXT_PACKAGES: [&str; 3] =
    ["cls-hooked", "continuation-local-storage", "zone.js"];

/// The package a specifier names: `npm:cls-hooked@4/x` → `cls-hooked`, `node:async_hooks` → `async_hooks`.
fn package_name(specifier: &str) -> &str {
    let bare = specifier
        .strip_prefix("node:")
        .or_else(|| specifier.strip_prefix("npm:"))
        .unwrap_or(specifier);
    let bare = bare.trim_start_matches('/');
    let mut end = bare.len();
    let scoped = bare.starts_with('@');
    let mut slashes = 0;
    for (i, c) in bare.char_indices() {
        if c == '/' {
            slashes += 1;
            if !scoped || slashes == 2 {
                end = i;
                break;
            }
        }
    }
    let name = &bare[..end];
    // A version suffix (`cls-hooked@4`, `@scope/pkg@1`) is not part of the name.
    // (Any text may be a specifier: an empty one, or one that starts with a wide character.)
    match name.char_indices().skip(1).find(|&(_, c)| c == '@') {
        Some((at, _)) => &name[..at],
        None => name,
    }
}

pub fn check(cx: &mut RuleContext<'_>) {
    let extra = cx.config.rules.no_implicit_context.packages.clone();
    let param = format!(
        "{}: {}",
        cx.config.context.param, cx.config.context.type_name
    );
    let note = Some(format!(
        "pass `{param}` explicitly instead of relying on ambient request state"
    ));
    for import in &cx.facts.imports {
        if import.type_only {
            continue;
        }
        let package = package_name(&import.specifier);
        if package == "async_hooks" {
            if import.names.is_empty() {
                if matches!(import.kind, ImportKind::Require | ImportKind::Dynamic) {
                    cx.report(
                        RuleId::NoImplicitContext,
                        import.range,
                        format!(
                            "`{}` gives access to implicit async context",
                            import.specifier
                        ),
                        note.clone(),
                        None,
                    );
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
                cx.report(
                    RuleId::NoImplicitContext,
                    name.range,
                    message,
                    note.clone(),
                    None,
                );
            }
        } else if IMPLICIT_CONTEXT_PACKAGES.contains(&package) || extra.iter().any(|p| p == package)
        {
            cx.report(
                RuleId::NoImplicitContext,
                import.range,
                format!("`{package}` carries request state implicitly"),
                note.clone(),
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::package_name;
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
}
