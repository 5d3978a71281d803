//! `explicit-context`: every async function takes the request context first.
//!
//! The user page is `rules/explicit-context.md`. The fix inserts `ctx: KrepisContext` first (or
//! moves an existing context parameter first) and imports the type when it is not in scope.

use super::{RuleContext, RuleId};
use crate::diagnostic::{Fix, TextEdit};
use crate::facts::{FunctionFact, FunctionKind, ParamFact};

/// Options of `explicit-context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// Also check async callbacks passed straight to a call (`app.get("/", async (req) => …)`).
    #[serde(default)]
    pub check_inline_callbacks: bool,
}

fn is_context_param(cx: &RuleContext<'_>, param: &ParamFact) -> bool {
    crate::signatures::is_context_param(cx.config, cx.is_typescript, param)
}

fn describe(function: &FunctionFact) -> String {
    let what = match function.kind {
        FunctionKind::Method
        | FunctionKind::ClassField
        | FunctionKind::ObjectMember
        | FunctionKind::Signature => "method",
        FunctionKind::InlineCallback => {
            let prefix = if function.is_async { "async " } else { "" };
            return format!("{prefix}callback passed to `{}`", function.name);
        }
        _ => "function",
    };
    if function.is_async {
        format!("async {what} `{}`", function.name)
    } else {
        format!("{what} `{}` returns a Promise and", function.name)
    }
}

pub fn check(cx: &mut RuleContext<'_>) {
    let options = &cx.config.rules.explicit_context;
    for function in &cx.facts.functions {
        let in_scope = match function.kind {
            FunctionKind::Anonymous => false,
            FunctionKind::InlineCallback => options.check_inline_callbacks,
            _ => true,
        };
        if !in_scope || !(function.is_async || function.returns_promise()) {
            continue;
        }
        let position = function.params.iter().position(|p| is_context_param(cx, p));
        if position == Some(0) {
            continue;
        }
        let context = &cx.config.context;
        let wanted = if cx.is_typescript {
            format!("{}: {}", context.param, context.type_name)
        } else {
            context.param.clone()
        };
        let (message, fix) = match position {
            None => (
                format!(
                    "{} must take `{wanted}` as its first parameter",
                    describe(function)
                ),
                insert_fix(cx, function, &wanted),
            ),
            Some(index) => (
                format!(
                    "the context parameter of `{}` must come first, not at position {}",
                    function.name,
                    index + 1
                ),
                move_fix(cx, function, index),
            ),
        };
        let note = Some(format!(
            "request state travels explicitly: every async function takes `{wanted}` first and passes it on"
        ));
        cx.report(
            RuleId::ExplicitContext,
            function.name_range,
            message,
            note,
            fix,
        );
    }
}

/// Adds the context parameter first, plus the type import when the name is not in scope.
fn insert_fix(cx: &RuleContext<'_>, function: &FunctionFact, wanted: &str) -> Option<Fix> {
    let context = &cx.config.context;
    // A parameter already named like the context would clash with the inserted one.
    if function
        .params
        .iter()
        .any(|p| p.name.as_deref() == Some(context.param.as_str()))
    {
        return None;
    }
    let mut edits = Vec::new();
    if cx.is_typescript
        && !context.type_name.contains('.')
        && !cx.facts.has_top_level_name(&context.type_name)
    {
        edits.push(TextEdit::insert(
            cx.facts.import_insert_offset,
            format!(
                "import type {{ {} }} from \"{}\";\n",
                context.type_name, context.module
            ),
        ));
    }
    match (function.params.first(), function.params_parenthesized) {
        (None, _) => edits.push(TextEdit::insert(function.params_range.start + 1, wanted)),
        (Some(first), true) => {
            edits.push(TextEdit::insert(first.range.start, format!("{wanted}, ")))
        }
        (Some(first), false) => edits.push(TextEdit {
            range: first.range,
            text: format!("({wanted}, {})", first.text),
        }),
    }
    Some(Fix::safe(format!("Add `{wanted}`"), edits))
}

/// Moves the existing context parameter at `index` to the front.
fn move_fix(cx: &RuleContext<'_>, function: &FunctionFact, index: usize) -> Option<Fix> {
    let param = function.params.get(index)?;
    let previous = function.params.get(index.checked_sub(1)?)?;
    let first = function.params.first()?;
    let _ = cx;
    // Callers pass the arguments in the old order: only a person can tell them apart.
    Some(
        Fix::safe(
            format!("Move `{}` first", param.text),
            vec![
                TextEdit::insert(first.range.start, format!("{}, ", param.text)),
                TextEdit::delete(crate::diagnostic::TextRange::new(
                    previous.range.end,
                    param.range.end,
                )),
            ],
        )
        .unsafe_if(true),
    )
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_annotations, fix_all};

    #[test]
    fn reports_every_form() {
        assert_annotations(
            "src/orders/application/ports.ts",
            r#"
import type { KrepisContext } from "@krepis/core";
export async function load(id: string) {}
//                    ^^^^ explicit-context
export async function ok(ctx: KrepisContext, id: string) {}
const save = async (order: Order) => {};
//    ^^^^ explicit-context
class Repo {
  async get(id: string) {}
//      ^^^ explicit-context
  list = async () => [];
//^^^^ explicit-context
  sync(): number { return 1 }
}
export interface OrderPort {
  find(id: string): Promise<Order>;
//^^^^ explicit-context
  findOk(ctx: KrepisContext, id: string): Promise<Order>;
  count(): number;
}
abstract class Base { abstract run(): Promise<void> }
//                             ^^^ explicit-context
const handlers = { async onPaid(id: string) {} };
//                       ^^^^^^ explicit-context
app.get("/", async (req) => {});
function later(): Promise<void> { return Promise.resolve(); }
//       ^^^^^ explicit-context
async function late(id: string, ctx: KrepisContext) {}
//             ^^^^ explicit-context
const wired = { onPaid: async (_ctx, id: string) => {}, onLost: async (ctx: string) => {} };
//                                                      ^^^^^^ explicit-context
"#,
        );
    }

    #[test]
    fn fixes_insert_move_and_import() {
        let fixed = fix_all(
            "src/a.ts",
            "// header\nexport async function load(id: string) {}\nconst f = async () => {};\nconst g = async x => x;\nasync function h(a: A, ctx: KrepisContext) {}\n",
        );
        assert_eq!(
            fixed,
            "// header\nimport type { KrepisContext } from \"@krepis/core\";\nexport async function load(ctx: KrepisContext, id: string) {}\nconst f = async (ctx: KrepisContext) => {};\nconst g = async (ctx: KrepisContext, x) => x;\nasync function h(a: A, ctx: KrepisContext) {}\n"
        );
        // Moving the context first changes what every caller must pass: only `--unsafe` does it.
        let text = "async function h(a: A, ctx: KrepisContext) {}\n";
        let diagnostics = crate::testing::check_source("src/a.ts", text);
        let edits = crate::fix::merge_fixes(&diagnostics, true).edits;
        assert_eq!(
            crate::diagnostic::apply_edits(text, &edits).0,
            "async function h(ctx: KrepisContext, a: A) {}\n"
        );
    }

    #[test]
    fn javascript_files_get_an_untyped_parameter() {
        let fixed = fix_all("src/a.js", "export async function load(id) {}\n");
        assert_eq!(fixed, "export async function load(ctx, id) {}\n");
    }
}
