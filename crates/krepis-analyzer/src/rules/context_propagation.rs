//! `context-propagation`: a function that has the context passes it on to every call that takes it.
//!
//! The user page is `rules/context-propagation.md`. What "takes the context first" means for a
//! callee comes from [`crate::signatures::callee_index`] for functions (same module, or imported
//! through re-exports) and from [`crate::model`] for methods: the receiver's type (`this`,
//! `super`, fields, parameters, locals, generic containers), its supertypes across modules, and
//! whether the model could tell at all.

use super::{RuleContext, RuleId};
use crate::diagnostic::{Fix, TextEdit};
use crate::facts::{ArgumentFact, CallFact, Callee, FunctionFact, FunctionKind};
use crate::model::Reached;
use crate::signatures::{Signature, is_context_param, signature};

/// The nearest enclosing function (from `start` outward) whose first parameter is the context,
/// with that parameter's name.
fn context_holder<'f>(
    cx: &'f RuleContext<'_>,
    start: Option<u32>,
) -> Option<(&'f FunctionFact, &'f str)> {
    let mut at = start;
    while let Some(index) = at {
        let function = cx.facts.functions.get(index as usize)?;
        if let Some(first) = function.params.first()
            && is_context_param(cx.config, cx.is_typescript, first)
        {
            return Some((function, first.name.as_deref()?));
        }
        at = function.parent;
    }
    None
}

/// What a call reaches, as far as the analysis can tell.
enum CallTarget {
    Takes(Signature),
    Unknown,
    Other,
}

fn callee_signature(
    cx: &RuleContext<'_>,
    call: &CallFact,
    reached: Option<&Reached>,
) -> CallTarget {
    let index = cx.callees;
    let known = |sig: Option<Signature>| sig.map_or(CallTarget::Other, CallTarget::Takes);
    match &call.callee {
        Callee::Name(name) => {
            // Inner declarations and parameters shadow module-level names.
            let mut at = call.enclosing_function;
            while let Some(i) = at {
                let Some(function) = cx.facts.functions.get(i as usize) else {
                    return CallTarget::Other;
                };
                if function
                    .params
                    .iter()
                    .any(|p| p.name.as_deref() == Some(name.as_str()))
                {
                    return CallTarget::Other;
                }
                let inner = cx.facts.functions.iter().find(|f| {
                    f.parent == Some(i)
                        && f.name == *name
                        && matches!(f.kind, FunctionKind::Declaration | FunctionKind::Variable)
                });
                if let Some(inner) = inner {
                    return CallTarget::Takes(signature(cx.config, cx.is_typescript, inner));
                }
                at = function.parent;
            }
            known(index.function(name))
        }
        Callee::Member { object, property } => {
            if let Some(namespace) = index.namespaces.get(object.as_str()) {
                return known(namespace.get(property.as_str()).copied());
            }
            match reached {
                Some(Reached::Method(sig)) => CallTarget::Takes(*sig),
                Some(Reached::NotProject) | None => CallTarget::Other,
                Some(Reached::Unknown) => CallTarget::Unknown,
            }
        }
        // Nothing tells what the receiver is: the method may be one that takes the context.
        Callee::Computed { .. } => CallTarget::Unknown,
        Callee::Other => CallTarget::Other,
    }
}

/// Whether an argument is provably a context: made by a configured context factory
/// (`createContext(…)`), or cast to the context type (`{ … } as KrepisContext`).
fn is_made_context(cx: &RuleContext<'_>, argument: &ArgumentFact) -> bool {
    let context = &cx.config.context;
    match argument {
        ArgumentFact::Call { callee } => context.factories.iter().any(|f| f == callee),
        ArgumentFact::Cast { type_name } => {
            *type_name == context.type_name
                || type_name.rsplit('.').next() == Some(context.type_name.as_str())
        }
        _ => false,
    }
}

/// The name of the callee as the message shows it.
fn callee_name(call: &CallFact) -> Option<&str> {
    match &call.callee {
        Callee::Name(name) => Some(name),
        Callee::Member { property, .. } | Callee::Computed { property } => Some(property),
        Callee::Other => None,
    }
}

/// Whether the call leaves out the context: fewer arguments than the callee's parameters (the
/// call was written before the callee took the context), or none at all.
fn misses_context(call: &CallFact, signature: &Signature) -> bool {
    call.argument_count < signature.params || call.argument_count == 0
}

/// The edit that passes `value` as the call's first argument, before what it already passes.
fn insert_first(call: &CallFact, value: &str) -> TextEdit {
    let text = if call.argument_count == 0 {
        value.to_string()
    } else {
        format!("{value}, ")
    };
    TextEdit::insert(call.args_start, text)
}

pub fn check(cx: &mut RuleContext<'_>) {
    let reached = cx.model.method_calls();
    for (k, call) in cx.facts.calls.iter().enumerate() {
        let Some(callee) = callee_name(call) else {
            continue;
        };
        let signature = match callee_signature(cx, call, reached.get(k).and_then(Option::as_ref)) {
            CallTarget::Takes(signature) if signature.context_first => signature,
            CallTarget::Unknown => {
                unresolved_call(cx, call, callee);
                continue;
            }
            _ => continue,
        };
        let Some((holder, context)) = context_holder(cx, call.enclosing_function) else {
            entry_point_call(cx, call, &signature, callee);
            continue;
        };
        let first = call.first_argument.as_ref();
        let passes_context = first.is_some_and(|(argument, _)| match argument {
            ArgumentFact::Identifier(name) | ArgumentFact::Derived { root: name } => {
                name == context
                    || holder.params.iter().any(|p| {
                        p.name.as_deref() == Some(name.as_str())
                            && is_context_param(cx.config, cx.is_typescript, p)
                    })
            }
            _ => false,
        });
        if passes_context {
            continue;
        }
        let note = Some(format!(
            "`{callee}` takes the context first; pass `{context}` (or a context derived from it) so request state keeps flowing"
        ));
        // A value is replaced only when it is provably a context: a factory's, a cast to the
        // context type, or an object literal in the context's place of a call that passes every
        // parameter. Anything else is the caller's own argument, and the context goes before it.
        let replaceable = first.filter(|(argument, _)| {
            is_made_context(cx, argument)
                || matches!(argument, ArgumentFact::ObjectLiteral)
                    && !signature.rest
                    && call.argument_count >= signature.params
        });
        if let Some((_, range)) = replaceable {
            let fix = Fix::safe(
                format!("Pass `{context}` instead"),
                vec![TextEdit {
                    range: *range,
                    text: context.to_string(),
                }],
            );
            cx.report(
                RuleId::ContextPropagation,
                call.name_range,
                format!("`{callee}` is given a fresh context instead of `{context}`"),
                note,
                Some(fix),
            );
        } else if misses_context(call, &signature) || signature.rest {
            let fix = Fix::safe(
                format!("Pass `{context}` first"),
                vec![insert_first(call, context)],
            );
            cx.report(
                RuleId::ContextPropagation,
                call.name_range,
                format!("call to `{callee}` does not pass `{context}`"),
                note,
                Some(fix),
            );
        }
    }
}

/// A call inside a context-holding function to a method whose receiver the analysis cannot type,
/// when some project method of that name takes the context: reported, never guessed at.
fn unresolved_call(cx: &mut RuleContext<'_>, call: &CallFact, callee: &str) {
    let Some((_, context)) = context_holder(cx, call.enclosing_function) else {
        return;
    };
    if !cx.model.context_methods().contains(callee) {
        return;
    }
    let passes_first = matches!(
        call.first_argument.as_ref(),
        Some((ArgumentFact::Identifier(n) | ArgumentFact::Derived { root: n }, _)) if n == context
    );
    if passes_first {
        return;
    }
    let (shown, receiver) = match &call.callee {
        Callee::Member { object, .. } => (format!("{object}.{callee}"), format!("`{object}`")),
        // `make().m()`, `items[0].m()`: the receiver is a value no declaration names.
        Callee::Computed { .. } => (callee.to_string(), "its receiver".to_string()),
        _ => return,
    };
    let note = Some(format!(
        "a project method named `{callee}` takes the context first, but the type of {receiver} is not written where Krepis can read it (an annotation, `new`, a typed field or parameter); annotate it, or pass `{context}` if this is that method"
    ));
    cx.report(
        RuleId::ContextPropagation,
        call.name_range,
        format!("cannot tell whether `{shown}` takes the context"),
        note,
        None,
    );
}

/// Whether `name`, seen from the function `at`, is a context: a parameter typed as one, or a local
/// (`const ctx = createContext()`). A parameter of another type that happens to be named `ctx`
/// (a test framework's) is not.
fn is_local_context(cx: &RuleContext<'_>, mut at: Option<u32>, name: &str) -> bool {
    loop {
        if let Some(index) = at {
            let Some(function) = cx.facts.functions.get(index as usize) else {
                return false;
            };
            if let Some(param) = function
                .params
                .iter()
                .find(|p| p.name.as_deref() == Some(name))
            {
                return is_context_param(cx.config, cx.is_typescript, param);
            }
        }
        if cx.model.has_local(at, name) {
            return true;
        }
        match at {
            Some(index) => at = cx.facts.functions[index as usize].parent,
            None => return false,
        }
    }
}

/// A call that leaves out the context where no context is in scope (top-level code, a callback
/// passed to a framework, a function that is not async): this is where a context is made.
fn entry_point_call(
    cx: &mut RuleContext<'_>,
    call: &CallFact,
    signature: &Signature,
    callee: &str,
) {
    if !misses_context(call, signature) {
        return;
    }
    let context = &cx.config.context;
    // With optional parameters a call passing the context can still pass fewer than the callee
    // takes: a context made here (`createContext()`), or a local named like it, is passed.
    let passes = call.first_argument.as_ref().is_some_and(|(argument, _)| {
        is_made_context(cx, argument)
            || matches!(argument, ArgumentFact::Identifier(n) if *n == context.param && is_local_context(cx, call.enclosing_function, n))
    });
    if passes {
        return;
    }
    // An added import would make a script that says `await` as a name a module that cannot.
    let importable = cx
        .facts
        .has_top_level_name(context.factories.first().map_or("", String::as_str))
        || !cx.facts.await_as_name;
    let fix = context
        .factories
        .first()
        .filter(|_| importable)
        .map(|factory| {
            let mut edits = vec![insert_first(call, &format!("{factory}()"))];
            if !cx.facts.has_top_level_name(factory) {
                edits.push(TextEdit::insert(
                    cx.facts.import_insert_offset,
                    format!("import {{ {factory} }} from \"{}\";\n", context.module),
                ));
            }
            Fix::safe(format!("Pass a new context: `{factory}()`"), edits)
        });
    let note = Some(format!(
        "no `{}` is in scope here, so this is an entry point: make the request's context once (`{}()` from `{}`) and pass it down",
        context.type_name,
        context
            .factories
            .first()
            .map_or("createContext", String::as_str),
        context.module
    ));
    cx.report(
        RuleId::ContextPropagation,
        call.name_range,
        format!("call to `{callee}` passes no context, and none is in scope"),
        note,
        fix,
    );
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_project, fix_project};

    const PORTS: &str = r#"
import type { KrepisContext } from "@krepis/core";
export interface OrderStore {
  load(ctx: KrepisContext, id: string): Promise<string>;
  size(): number;
}
export async function audit(ctx: KrepisContext, what: string): Promise<void> {}
export function format(id: string): string { return id; }
"#;

    #[test]
    fn follows_same_file_imports_reexports_and_typed_receivers() {
        assert_project(&[
            ("src/app/ports.ts", PORTS),
            (
                "src/app/index.ts",
                "export * from \"./ports.ts\";\nexport { audit as record } from \"./ports.ts\";\n",
            ),
            (
                "src/app/service.ts",
                r#"
import type { KrepisContext } from "@krepis/core";
import { record, type OrderStore } from "./index.ts";
import * as ports from "./ports.ts";
import { createContext } from "@krepis/core";

async function local(ctx: KrepisContext, n: number) {}

export class OrderService {
  constructor(private readonly store: OrderStore) {}

  async place(ctx: KrepisContext, id: string, other: OrderStore) {
    await this.store.load(ctx, id);
    await this.store.load(id);
//                   ^^^^ context-propagation
    await this.store.load(createContext(), id);
//                   ^^^^ context-propagation
    await other.load({ request_id: "x" } as KrepisContext, id);
//              ^^^^ context-propagation
    await this.store.load(ctx.child("place"), id);
    this.store.size();
    await record("placed");
//        ^^^^^^ context-propagation
    await ports.audit(ctx, "placed");
    await ports.audit("placed");
//              ^^^^^ context-propagation
    ports.format(id);
    await local(1);
//        ^^^^^ context-propagation
    await [id].map(async (x) => local(ctx, 2));
    await this.again(id);
//             ^^^^^ context-propagation
  }

  async again(ctx: KrepisContext, id: string) {}
}

export function notAsync(id: string) {
  local(1);
//^^^^^ context-propagation
}
"#,
            ),
        ]);
    }

    #[test]
    fn methods_with_the_same_name_on_unrelated_types_are_left_alone() {
        assert_project(&[
            ("src/app/ports.ts", PORTS),
            (
                "src/app/cache.ts",
                r#"
import type { KrepisContext } from "@krepis/core";
import type { OrderStore } from "./ports.ts";
class Cache { load(id: string) { return id; } }
export async function warm(ctx: KrepisContext, cache: Cache, load: (id: string) => void) {
  cache.load("1");
  load("2");
  const audit = (x: string) => x;
  audit("3");
}
import { audit } from "./ports.ts";
export async function shadowed(ctx: KrepisContext, audit: (what: string) => void) {
  audit("4");
}
export async function inner(ctx: KrepisContext) {
  function audit(what: string) {}
  audit("5");
}
"#,
            ),
        ]);
    }

    #[test]
    fn the_fix_passes_the_context_across_files() {
        let fixed = fix_project(
            &[("src/app/ports.ts", PORTS)],
            "src/app/use.ts",
            "import type { KrepisContext } from \"@krepis/core\";\nimport { audit } from \"./ports.ts\";\nexport async function run(context: KrepisContext) {\n  await audit(\"a\");\n  await audit({});\n}\n",
        );
        assert_eq!(
            fixed,
            "import type { KrepisContext } from \"@krepis/core\";\nimport { audit } from \"./ports.ts\";\nexport async function run(context: KrepisContext) {\n  await audit(context, \"a\");\n  await audit(context, {});\n}\n"
        );
    }

    #[test]
    fn the_callers_own_arguments_are_never_replaced() {
        let creator = "import type { KrepisContext } from \"@krepis/core\";\nexport class CourseCreator {\n  async run(ctx: KrepisContext, input: { id: string; name: string }): Promise<void> {}\n}\n";
        let fixed = fix_project(
            &[("src/app/creator.ts", creator)],
            "src/app/controller.ts",
            "import type { KrepisContext } from \"@krepis/core\";\nimport type { CourseCreator } from \"./creator.ts\";\nexport class CoursePutController {\n  constructor(private readonly creator: CourseCreator) {}\n  async put(ctx: KrepisContext, id: string, name: string) {\n    await this.creator.run({ id, name });\n  }\n}\n",
        );
        assert!(
            fixed.contains("await this.creator.run(ctx, { id, name });"),
            "{fixed}"
        );
    }
}
