//! `command-query-separation`: commands return nothing, queries change nothing.
//!
//! The user page is `rules/command-query-separation.md`.

use super::{RuleContext, RuleId};
use crate::facts::{Callee, FunctionFact, FunctionKind};

pub use crate::settings::command_query_separation::Options;

/// `*` matches any run of characters; everything else is literal.
fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            let Some(tail) = name.strip_prefix(prefix) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| wildcard(rest, &tail[i..]))
        }
    }
}

/// `saveOrder`, `save`, `set_name` start with the verb `save`/`set`; `settings` and `settle` do not.
fn starts_with_verb(name: &str, verb: &str) -> bool {
    match name.strip_prefix(verb) {
        Some("") => true,
        Some(rest) => {
            rest.starts_with(|c: char| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        }
        None => false,
    }
}

fn returns_nothing(function: &FunctionFact) -> bool {
    let declared_void = match function.return_type.as_deref() {
        None => true,
        Some(t) => {
            let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            matches!(
                t.as_str(),
                "void" | "undefined" | "Promise<void>" | "Promise<undefined>" | "never"
            )
        }
    };
    declared_void && !function.returns_value
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Command,
    Query,
}

pub fn check(cx: &mut RuleContext<'_>) {
    let options = cx.config.rules.command_query_separation.clone();
    let segments: Vec<String> = cx
        .path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let folder_role = if segments.iter().any(|s| options.command_folders.contains(s)) {
        Some(Role::Command)
    } else if segments.iter().any(|s| options.query_folders.contains(s)) {
        Some(Role::Query)
    } else {
        None
    };
    let role_of = |function: &FunctionFact| -> Option<Role> {
        if !options.handler_methods.iter().any(|m| m == function.name)
            || function.kind == FunctionKind::Signature
        {
            return None;
        }
        let by_class = function.container.as_deref().and_then(|class| {
            if options.command_patterns.iter().any(|p| wildcard(p, class)) {
                Some(Role::Command)
            } else if options.query_patterns.iter().any(|p| wildcard(p, class)) {
                Some(Role::Query)
            } else {
                None
            }
        });
        by_class.or(folder_role)
    };
    let functions = &cx.facts.functions;
    let roles: Vec<Option<Role>> = functions
        .iter()
        .map(|f| if f.has_body { role_of(f) } else { None })
        .collect();
    for (function, role) in functions.iter().zip(&roles) {
        if *role == Some(Role::Command) && !returns_nothing(function) {
            cx.report(
                RuleId::CommandQuerySeparation,
                function.name_range,
                format!("command handler `{}` returns a value", function.name),
                Some("a command changes state and returns nothing (`void` / `Promise<void>`); read results with a query".into()),
                None,
            );
        }
    }
    for call in &cx.facts.calls {
        let Callee::Member { property, .. } = &call.callee else {
            continue;
        };
        let Some(verb) = options
            .mutating_verbs
            .iter()
            .find(|v| starts_with_verb(property, v))
        else {
            continue;
        };
        // The handler this call runs in, through any callbacks nested inside it.
        let mut at = call.enclosing_function;
        let mut in_query = None;
        while let Some(index) = at {
            if roles[index as usize] == Some(Role::Query) {
                in_query = Some(index);
                break;
            }
            at = functions[index as usize].parent;
        }
        let Some(handler) = in_query else { continue };
        cx.report(
            RuleId::CommandQuerySeparation,
            call.name_range,
            format!(
                "query handler `{}` calls `{property}`, which changes state",
                functions[handler as usize].name
            ),
            Some(format!(
                "a query returns data and changes nothing; `{verb}…` belongs in a command"
            )),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{starts_with_verb, wildcard};
    use crate::testing::assert_annotations;

    #[test]
    fn names() {
        assert!(wildcard("*CommandHandler", "PlaceOrderCommandHandler"));
        assert!(!wildcard("*CommandHandler", "PlaceOrderHandler"));
        assert!(starts_with_verb("saveOrder", "save") && starts_with_verb("set", "set"));
        assert!(!starts_with_verb("settings", "set") && !starts_with_verb("createdAt", "create"));
        assert!(!starts_with_verb("settle", "set"));
    }

    #[test]
    fn commands_return_nothing_and_queries_change_nothing() {
        assert_annotations(
            "src/orders/application/handlers.ts",
            r#"
export class PlaceOrderCommandHandler {
  async handle(ctx: KrepisContext, id: string): Promise<string> {
//      ^^^^^^ command-query-separation
    await this.repo.save(ctx, id);
    return id;
  }
}
export class CancelOrderCommandHandler {
  async handle(ctx: KrepisContext, id: string): Promise<void> {
    await this.repo.save(ctx, id);
    const ids = [id].map((x) => x.trim());
  }
}
export class OrderQueryHandler {
  async handle(ctx: KrepisContext, id: string) {
    const order = await this.repo.load(ctx, id);
    await this.audit.saveAccess(ctx, id);
//                   ^^^^^^^^^^ command-query-separation
    [1].forEach(() => this.cache.set(id, order));
//                               ^^^ command-query-separation
    return this.settings.read(order);
  }
  helper() { this.repo.delete(1); }
}
"#,
        );
        assert_annotations(
            "src/orders/application/commands/rename.ts",
            "export async function handle(ctx: KrepisContext): Promise<number> { return 1; }\n//                    ^^^^^^ command-query-separation\nexport function other() { return 2; }\n",
        );
    }
}
