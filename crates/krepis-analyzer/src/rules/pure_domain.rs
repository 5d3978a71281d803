//! `pure-domain`: the domain does no I/O and reads no ambient time or randomness.
//!
//! The user page is `rules/pure-domain.md`.

use super::{RuleContext, RuleId, package_name};
use crate::facts::{Callee, ImportedName};

pub use crate::settings::pure_domain::{CallSpec, Options};

/// What a call of a package function brings into the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ambient {
    Time,
    Randomness,
    /// Configured by the project: not known which.
    Either,
}

/// Functions of well-known packages that read the clock or draw randomness:
/// (package, path, only when called with no argument, what they read).
const NONDETERMINISTIC: &[(&str, &str, bool, Ambient)] = &[
    ("uuid", "v1", false, Ambient::Randomness),
    ("uuid", "v4", false, Ambient::Randomness),
    ("uuid", "v6", false, Ambient::Randomness),
    ("uuid", "v7", false, Ambient::Randomness),
    ("uuidv7", "uuidv7", false, Ambient::Randomness),
    ("nanoid", "nanoid", false, Ambient::Randomness),
    ("ulid", "ulid", false, Ambient::Randomness),
    (
        "@paralleldrive/cuid2",
        "createId",
        false,
        Ambient::Randomness,
    ),
    ("cuid", "default", false, Ambient::Randomness),
    ("crypto", "randomBytes", false, Ambient::Randomness),
    ("crypto", "randomUUID", false, Ambient::Randomness),
    ("crypto", "randomInt", false, Ambient::Randomness),
    ("crypto", "randomFillSync", false, Ambient::Randomness),
    ("crypto", "getRandomValues", false, Ambient::Randomness),
    ("dayjs", "default", true, Ambient::Time),
    ("moment", "default", true, Ambient::Time),
    ("moment", "default.now", false, Ambient::Time),
    ("moment", "default.utc", true, Ambient::Time),
    ("luxon", "DateTime.now", false, Ambient::Time),
    ("luxon", "DateTime.local", true, Ambient::Time),
    ("luxon", "DateTime.utc", true, Ambient::Time),
];

/// The import binding `local` names, if a value import binds it.
fn binding<'f>(
    imports: &'f [crate::facts::ImportFact],
    local: &str,
) -> Option<(&'f crate::facts::ImportFact, &'f ImportedName)> {
    imports.iter().find_map(|import| {
        let name = import
            .names
            .iter()
            .find(|n| n.local == local && !n.type_only)?;
        (!import.type_only).then_some((import, name))
    })
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

fn banned_module(specifier: &str, extra: &crate::packages::PackageMatcher) -> Option<&'static str> {
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
    if extra.find(specifier, None).is_some() {
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
        if import.is_type_only() {
            continue;
        }
        if let Some(why) = banned_module(&import.specifier, &options.banned) {
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
    package_calls(cx, &options, &param);
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

/// Calls of package functions that read the clock or draw randomness: `v4()` imported from
/// `uuid`, `uuid.v4()` through a namespace, `DateTime.now()` from `luxon`, `dayjs()`.
fn package_calls(cx: &mut RuleContext<'_>, options: &Options, param: &str) {
    for call in &cx.facts.calls {
        // The local name the callee starts from, and the member path after it.
        let (root, members) = match &call.callee {
            Callee::Name(name) => (name.as_str(), String::new()),
            Callee::Member { object, property } => match object.split_once('.') {
                Some((root, rest)) => (root, format!("{rest}.{property}")),
                None => (object.as_str(), property.to_string()),
            },
            Callee::Computed { .. } | Callee::Other => continue,
        };
        let Some((import, name)) = binding(&cx.facts.imports, root) else {
            continue;
        };
        // A module the import rules already report is not reported again call by call.
        if banned_module(&import.specifier, &options.banned).is_some() {
            continue;
        }
        let package = package_name(&import.specifier);
        let path = match (name.imported.as_str(), members.is_empty()) {
            ("*", true) => continue,
            ("*", false) => members.clone(),
            (imported, true) => imported.to_string(),
            (imported, false) => format!("{imported}.{members}"),
        };
        let matches = |p: &str, at: &str, bare: bool| {
            p == package && at == path && (!bare || call.argument_count == 0)
        };
        let allowed = options
            .allow_calls
            .iter()
            .any(|c| matches(&c.package, &c.path, c.only_without_arguments));
        if allowed {
            continue;
        }
        let ambient = NONDETERMINISTIC
            .iter()
            .find(|(p, at, bare, _)| matches(p, at, *bare))
            .map(|e| e.3)
            .or_else(|| {
                options
                    .nondeterministic_calls
                    .iter()
                    .any(|c| matches(&c.package, &c.path, c.only_without_arguments))
                    .then_some(Ambient::Either)
            });
        let Some(ambient) = ambient else { continue };
        let shown = match &call.callee {
            Callee::Member { object, property } => format!("{object}.{property}()"),
            Callee::Name(name) => format!("{name}()"),
            Callee::Computed { .. } | Callee::Other => continue,
        };
        let (what, instead) = match ambient {
            Ambient::Time => (
                "reads ambient time",
                format!("read the time from `{param}.clock`"),
            ),
            Ambient::Randomness => (
                "draws ambient randomness",
                format!("draw randomness from `{param}.random`, or take the id as an argument"),
            ),
            Ambient::Either => (
                "is not deterministic",
                format!("pass the value in, or take it from `{param}`"),
            ),
        };
        cx.report(
            RuleId::PureDomain,
            call.name_range,
            format!("`{shown}` from `{package}` {what} in the domain"),
            Some(format!("{instead}; the domain stays deterministic")),
            None,
        );
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
            "import { v4 } from \"uuid\";\nexport const now = () => Date.now() + v4();\n",
        );
        assert_annotations(
            "src/orders/application/clock.ts",
            "export const now = () => Date.now();\n",
        );
    }

    #[test]
    fn reports_time_and_randomness_from_packages() {
        assert_annotations(
            "src/orders/domain/order-id.ts",
            r#"
import { v4 as uuidv4, v5 } from "uuid";
import * as uuid from "npm:uuid@9";
import { nanoid } from "nanoid/non-secure";
import { randomBytes, createHash } from "crypto";
import dayjs from "dayjs";
import moment from "moment";
import { DateTime } from "luxon";
import type { v1 } from "uuid";
export class OrderId {
  static create(): OrderId {
    return new OrderId(uuidv4() + uuid.v4() + v5("x", NS) + nanoid());
//                     ^^^^^^ pure-domain
//                                     ^^ pure-domain
//                                                          ^^^^^^ pure-domain
  }
  static salt(): string {
    return randomBytes(8).toString("hex") + createHash("sha1").digest("hex");
//         ^^^^^^^^^^^ pure-domain
  }
  static dates(at: string) {
    return [dayjs(), dayjs(at), moment(), moment(at), moment.now(), DateTime.now(), DateTime.fromISO(at)];
//          ^^^^^ pure-domain
//                              ^^^^^^ pure-domain
//                                                           ^^^ pure-domain
//                                                                           ^^^ pure-domain
  }
}
"#,
        );
    }

    #[test]
    fn configured_calls_and_allowed_ones() {
        crate::testing::assert_project_with_config(
            r#"{ "rules": { "pure-domain": ["error", {
                "nondeterministicCalls": ["@acme/ids#newId", "@acme/clock#Clock.read()"],
                "allowCalls": ["uuid#v4"]
            }] } }"#,
            &[(
                "src/orders/domain/order.ts",
                r#"
import { newId } from "@acme/ids";
import { Clock } from "@acme/clock";
import { v4, v7 } from "uuid";
export const a = [newId(), Clock.read(), Clock.read(1), v4(), v7()];
//                ^^^^^ pure-domain
//                               ^^^^ pure-domain
//                                                            ^^ pure-domain
"#,
            )],
        );
        let error = crate::testing::config_at_root(
            r#"{ "rules": { "pure-domain": ["error", { "nondeterministicCalls": ["uuid.v4"] }] } }"#,
        )
        .expect_err("a spec without # is refused");
        assert!(
            error.to_string().contains("is not `package#function`"),
            "{error}"
        );
    }
}
