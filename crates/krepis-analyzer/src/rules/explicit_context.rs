//! `explicit-context`: every async function takes the request context first.
//!
//! The user page is `rules/explicit-context.md`. The fix inserts `ctx: KrepisContext` first (or
//! moves an existing context parameter first) and imports the type when it is not in scope.

use super::{RuleContext, RuleId};
use crate::diagnostic::{Fix, TextEdit};
use crate::facts::{FunctionFact, FunctionKind, ParamFact, ValueFact};

pub use crate::settings::explicit_context::Options;

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

/// Whether a method belongs to a class that may implement it for a type outside the project.
fn is_external_implementation(cx: &RuleContext<'_>, function: &FunctionFact) -> bool {
    // A private member implements nothing: interfaces and subclasses cannot see it.
    matches!(
        function.kind,
        FunctionKind::Method | FunctionKind::ClassField
    ) && !function.is_private
        && function
            .container
            .as_deref()
            .is_some_and(|class| cx.model.implements_external(class, &function.name))
}

/// Whether `next` is one more declaration of the overloaded `first` (same name and owner, one
/// after the other): `function f(a): A; function f(a, b): B; function f(…) {…}`.
fn same_overload(first: &FunctionFact, next: &FunctionFact) -> bool {
    first.name == next.name
        && first.kind == next.kind
        && first.container == next.container
        && first.parent == next.parent
        && matches!(
            first.kind,
            FunctionKind::Declaration | FunctionKind::Method | FunctionKind::Signature
        )
}

pub fn check(cx: &mut RuleContext<'_>) {
    let options = &cx.config.rules.explicit_context;
    let functions = &cx.facts.functions;
    let ignored = cx.config.is_ignored(cx.path);
    // Locals named like the context parameter: few, so found once rather than per function.
    let param = cx.config.context.param.as_str();
    let context_locals: Vec<&crate::facts::LocalFact> =
        cx.facts.locals.iter().filter(|l| l.name == param).collect();
    let mut i = 0;
    while i < functions.len() {
        let function = &functions[i];
        // The declarations of one overloaded function are reported, and fixed, together.
        let mut group = 1;
        // Overload signatures have no body; the implementation (with one) ends the group.
        while i + group < functions.len()
            && !functions[i + group - 1].has_body
            && same_overload(function, &functions[i + group])
        {
            group += 1;
        }
        let overloads = &functions[i..i + group];
        let body = (i + group - 1) as u32;
        i += group;
        let in_scope = match function.kind {
            FunctionKind::Anonymous => false,
            FunctionKind::InlineCallback => options.check_inline_callbacks,
            _ => true,
        };
        // An implementation keeps the contract of the project type it implements: it takes the
        // context exactly when the declaration it implements does (or will).
        let contract = match (function.kind, function.container.as_deref()) {
            (FunctionKind::Method | FunctionKind::ClassField, Some(class))
                if !function.is_private =>
            {
                cx.model.inherited_contract(class, &function.name)
            }
            (FunctionKind::ObjectMember, Some(written)) => {
                cx.model.written_contract(written, &function.name)
            }
            _ => None,
        };
        let async_like = overloads.iter().any(|f| f.is_async || f.returns_promise());
        if !in_scope || !contract.unwrap_or(async_like) {
            continue;
        }
        // In a file the config ignores (a test), only what keeps the project compiling: an
        // implementation of a project type whose method takes the context.
        if ignored && contract != Some(true) {
            continue;
        }
        if !options.check_external_implementations && is_external_implementation(cx, function) {
            continue;
        }
        // `const ctx = createContext()` in the body: this function is where a context is made.
        let local_context = context_locals
            .iter()
            .find(|l| l.function == Some(body))
            .copied();
        if let Some(local) = local_context
            && matches!(&local.value, ValueFact::Call(callee) if cx.config.context.factories.iter().any(|f| f == callee))
        {
            continue;
        }
        let positions: Vec<Option<usize>> = overloads
            .iter()
            .map(|f| f.params.iter().position(|p| is_context_param(cx, p)))
            .collect();
        if positions.iter().all(|p| *p == Some(0)) {
            continue;
        }
        let context = &cx.config.context;
        let wanted = if cx.is_typescript {
            format!("{}: {}", context.param, context.type_name)
        } else {
            context.param.clone()
        };
        let (message, fix) = match positions.iter().find_map(|p| p.filter(|&at| at > 0)) {
            None => (
                format!(
                    "{} must take `{wanted}` as its first parameter",
                    describe(function)
                ),
                // A local of that name in the body would clash with the parameter.
                local_context
                    .is_none()
                    .then(|| insert_fix(cx, overloads, &positions, &wanted))
                    .flatten(),
            ),
            Some(index) => (
                format!(
                    "the context parameter of `{}` must come first, not at position {}",
                    function.name,
                    index + 1
                ),
                move_fix(overloads, &positions),
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

/// Adds the context parameter first to every declaration that lacks it, plus the type import
/// when the name is not in scope.
fn insert_fix(
    cx: &RuleContext<'_>,
    overloads: &[FunctionFact],
    positions: &[Option<usize>],
    wanted: &str,
) -> Option<Fix> {
    let context = &cx.config.context;
    let mut edits = Vec::new();
    for (function, position) in overloads.iter().zip(positions) {
        if position.is_some() {
            continue;
        }
        // A parameter already named like the context would clash with the inserted one.
        if function
            .params
            .iter()
            .any(|p| p.name.as_deref() == Some(context.param.as_str()))
        {
            return None;
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
    }
    if cx.is_typescript
        && !context.type_name.contains('.')
        && !cx.facts.has_top_level_name(&context.type_name)
    {
        // The import would make a script that says `await` as a name a module that cannot.
        if cx.facts.await_as_name {
            return None;
        }
        // TypeScript before 3.8 cannot read `import type`; its `import` of a type is erased too.
        let keyword = if cx.type_only_imports {
            "import type"
        } else {
            "import"
        };
        edits.push(TextEdit::insert(
            cx.facts.import_insert_offset,
            format!(
                "{keyword} {{ {} }} from \"{}\";\n",
                context.type_name, context.module
            ),
        ));
    }
    // A method called somewhere on a receiver the analysis cannot type, or any function passed
    // around as a value, may have callers this fix would leave without the new argument.
    // A callback handed to a call is called by that call, with the arguments it chooses.
    let function = &overloads[0];
    let unseen_callers = match function.kind {
        FunctionKind::InlineCallback => true,
        FunctionKind::Declaration | FunctionKind::Variable | FunctionKind::DefaultExport => {
            cx.model.value_uses().contains(&function.name)
        }
        _ => {
            cx.model.unresolved_methods().contains(&function.name)
                || cx.model.value_uses().contains(&function.name)
        }
    };
    Some(Fix::safe(format!("Add `{wanted}`"), edits).unsafe_if(unseen_callers))
}

/// Moves the existing context parameter first in every declaration.
fn move_fix(overloads: &[FunctionFact], positions: &[Option<usize>]) -> Option<Fix> {
    let mut edits = Vec::new();
    let mut text = None;
    for (function, position) in overloads.iter().zip(positions) {
        let Some(index) = position.filter(|&at| at > 0) else {
            continue;
        };
        let param = function.params.get(index)?;
        let previous = function.params.get(index - 1)?;
        let first = function.params.first()?;
        // An optional context (`ctx?: KrepisContext`) before required parameters is an error
        // (TS1016): once first, it is required.
        let moved = param.text.replacen("?:", ":", 1);
        edits.push(TextEdit::insert(first.range.start, format!("{moved}, ")));
        edits.push(TextEdit::delete(crate::diagnostic::TextRange::new(
            previous.range.end,
            param.range.end,
        )));
        text.get_or_insert(moved);
    }
    // Callers pass the arguments in the old order: only a person can tell them apart.
    Some(Fix::safe(format!("Move `{}` first", text?), edits).unsafe_if(true))
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_annotations, fix_all};

    #[test]
    fn a_script_that_says_await_as_a_name_is_not_made_a_module_by_a_fix() {
        // Found by the fix property tests: the import the fix adds made `await` a keyword.
        let text = "async function load(id: string) {\n  return id;\n}\nconst await = 1;\n";
        let found = crate::testing::check_source("src/orders/application/a.ts", text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, crate::rules::RuleId::ExplicitContext);
        assert!(found[0].fix.is_none());
        assert_eq!(fix_all("src/orders/application/a.ts", text), text);
    }

    const TYPINGS: &str = r#"import type { Readable } from "node:stream";
export declare class MongoClient {
  connect(): Promise<MongoClient>;
  close(force?: boolean): Promise<void>;
}
export declare function connect(url: string): Promise<MongoClient>;
export interface CursorOptions { stream(): Promise<Readable> }
export type Document = Record<string, unknown>;
"#;

    #[test]
    fn hand_written_typings_are_left_alone_like_a_d_ts() {
        // Only declarations: nothing in the module runs, it describes a package.
        assert_annotations("src/driver/mongodb/typings.ts", TYPINGS);
        // One line of code makes it the project's own module again.
        let with_code = format!("{TYPINGS}export async function open(url: string) {{}}\n");
        let found = crate::testing::check_source("src/driver/mongodb/typings.ts", &with_code);
        assert!(found.len() > 1, "{found:?}");
        // A port (interfaces only, no `declare`) is checked as always.
        let port = "export interface OrderStore { save(order: Order): Promise<void> }\n";
        assert_eq!(
            crate::testing::check_source("src/orders/application/store.ts", port).len(),
            1
        );
        // And the option checks typings too.
        crate::testing::assert_project_with_config(
            r#"{ "checkAmbientModules": true }"#,
            &[(
                "src/driver/mongodb/typings.ts",
                r#"export declare class MongoClient {
  connect(): Promise<MongoClient>;
//^^^^^^^ explicit-context
}
"#,
            )],
        );
    }

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
