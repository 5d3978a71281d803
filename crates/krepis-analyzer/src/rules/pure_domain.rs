//! `pure-domain`: the domain does no I/O and reads no ambient time or randomness.
//!
//! The user page is `rules/pure-domain.md`.

use super::{RuleContext, RuleId};

/// Options of `pure-domain`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// More module specifiers (or prefixes) the domain may not import.
    #[serde(default)]
    pub banned_modules: Vec<String>,
    /// Globals the domain may use after all (`process`, `Date.now`…).
    #[serde(default)]
    pub allow_globals: Vec<String>,
}

/// Node built-ins that do I/O, importable without the `node:` prefix.
const NODE_IO_MODULES: [&str; 22] = [
    "fs",
    "fs/promises",
    "net",
    "http",
    "https",
    "http2",
    "child_process",
    "dgram",
    "dns",
    "tls",
    "os",
    "cluster",
    "worker_threads",
    "process",
    "readline",
    "repl",
    "vm",
    "inspector",
    "module",
    "sqlite",
    "perf_hooks",
    "async_hooks",
];

/// Deno standard library modules that do I/O.
const DENO_STD_IO: [&str; 9] = [
    "fs",
    "http",
    "io",
    "streams",
    "net",
    "dotenv",
    "log",
    "cli",
    "fmt/printf",
];

fn banned_module(specifier: &str, extra: &[String]) -> Option<&'static str> {
    if specifier.starts_with("node:") {
        return Some("Node built-ins belong behind a port");
    }
    let base = specifier.split('/').next().unwrap_or(specifier);
    if NODE_IO_MODULES.contains(&specifier) || NODE_IO_MODULES.contains(&base) {
        return Some("Node I/O modules belong behind a port");
    }
    let std_path = specifier
        .strip_prefix("jsr:@std/")
        .or_else(|| {
            specifier
                .split_once("/std@")
                .and_then(|(_, rest)| rest.split_once('/').map(|(_, p)| p))
        })
        .or_else(|| {
            specifier
                .split_once("/std/")
                .map(|(_, p)| p)
                .filter(|_| specifier.starts_with("http"))
        });
    if let Some(path) = std_path {
        let module = path.split(['@', '/']).next().unwrap_or(path);
        if DENO_STD_IO
            .iter()
            .any(|m| *m == module || path.starts_with(m))
        {
            return Some("Deno std I/O modules belong behind a port");
        }
    }
    if extra
        .iter()
        .any(|b| specifier == b || (b.ends_with('/') && specifier.starts_with(b.as_str())))
    {
        return Some("this module is banned from the domain by configuration");
    }
    None
}

/// What a watched global use means, and what to use instead.
fn global_finding(path: &str, param: &str) -> Option<(String, String)> {
    let root = path.split('.').next().unwrap_or(path);
    let io = |what: &str| {
        Some((
            format!("`{path}` {what} in the domain"),
            "the domain stays pure: ask for it through a port in the application layer".to_string(),
        ))
    };
    match root {
        "Deno" | "process" => io("reaches the runtime"),
        "fetch" | "XMLHttpRequest" | "WebSocket" => io("does network I/O"),
        "localStorage" => io("reads storage"),
        "require" => io("loads modules at run time"),
        _ => {
            let instead = match path {
                "Date.now" | "new Date()" | "performance.now" => {
                    format!("read the time from `{param}.clock`")
                }
                "Math.random" | "crypto.randomUUID" | "crypto.getRandomValues" => {
                    format!("draw randomness from `{param}.random`")
                }
                "setTimeout" | "setInterval" | "setImmediate" => {
                    "schedule through a port; the domain does not run timers".to_string()
                }
                _ => return None,
            };
            let what = if path.starts_with("set") {
                "runs a timer"
            } else if instead.contains("clock") {
                "reads ambient time"
            } else {
                "reads ambient randomness"
            };
            Some((format!("`{path}` {what} in the domain"), instead))
        }
    }
}

pub fn check(cx: &mut RuleContext<'_>) {
    let Some(layer) = cx.layer else { return };
    if cx.config.layers.name(layer.layer) != "domain" {
        return;
    }
    let options = cx.config.rules.pure_domain.clone();
    for import in &cx.facts.imports {
        if import.type_only {
            continue;
        }
        if let Some(why) = banned_module(&import.specifier, &options.banned_modules) {
            cx.report(
                RuleId::PureDomain,
                import.range,
                format!("the domain must not import `{}`", import.specifier),
                Some(format!("{why}; the domain stays deterministic")),
                None,
            );
        }
    }
    let param = cx.config.context.param.clone();
    for global in &cx.facts.global_uses {
        let root = global
            .path
            .trim_start_matches("new ")
            .split(['.', '('])
            .next()
            .unwrap_or("");
        if cx.facts.bound_names.iter().any(|n| n == root)
            || options
                .allow_globals
                .iter()
                .any(|a| a == global.path || a == root)
        {
            continue;
        }
        if let Some((message, note)) = global_finding(&global.path, &param) {
            cx.report(RuleId::PureDomain, global.range, message, Some(note), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::assert_annotations;

    #[test]
    fn reports_io_time_and_randomness_in_the_domain_only() {
        assert_annotations(
            "src/orders/domain/order.ts",
            r#"
import { readFile } from "node:fs/promises";
//                       ^^^^^^^^^^^^^^^^^^ pure-domain
import { join } from "jsr:@std/path";
import { exists } from "jsr:@std/fs@1/exists";
//                     ^^^^^^^^^^^^^^^^^^^^^^ pure-domain
import type { Stats } from "node:fs";
export function stamp(at: Date, ws: WebSocket): string {
  const now = Date.now();
//            ^^^^^^^^ pure-domain
  const today = new Date();
//              ^^^^^^^^^^ pure-domain
  const parsed = new Date("2024-01-01");
  const id = crypto.randomUUID() + Math.random() + Math.max(1, 2);
//           ^^^^^^^^^^^^^^^^^ pure-domain
//                                 ^^^^^^^^^^^ pure-domain
  setTimeout(() => {}, 10);
//^^^^^^^^^^ pure-domain
  const home = Deno.env.get("HOME") ?? process.env.HOME;
//             ^^^^^^^^ pure-domain
//                                     ^^^^^^^^^^^ pure-domain
  return `${now}${today}${parsed}${id}${home}`;
}
export async function load(ctx: KrepisContext, fetch: (u: string) => Promise<Response>) {
  return fetch("/orders");
}
"#,
        );
        assert_annotations(
            "src/orders/application/clock.ts",
            "export const now = () => Date.now();\n",
        );
    }
}
