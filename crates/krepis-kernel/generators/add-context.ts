// "Add context parameter to every async function in this file": puts `ctx: KrepisContext` first in
// every asynchronous function that has no context parameter, passes `ctx` on in this file's calls
// to them from functions that have it, and imports the context type.

import type { Fn, Request } from "krepis:prelude";
import { isContext, returnsPromise, contextImportEdit, contextParamEdit } from "krepis:prelude";

const IGNORED_KINDS = new Set(["InlineCallback"]);

export function generate(_ctx: unknown, req: Request) {
  const facts = req.file.facts;
  const context = req.context;
  const missing = new Set<number>();
  facts.functions.forEach((fn, index) => {
    if (!returnsPromise(fn) || IGNORED_KINDS.has(fn.kind)) return;
    if (fn.params.some((p) => isContext(p, context))) return;
    missing.add(index);
  });
  if (missing.size === 0) return null;
  const title = "Add context parameter to every async function in this file";
  const kind = "refactor.rewrite.krepis.addContext";

  const edits: { start: number; end: number; text: string }[] = [...contextImportEdit(facts, context)];
  for (const index of missing) edits.push(contextParamEdit(facts.functions[index], context));

  // Which functions will have the context once the edit is made.
  const hasContext = (index: number | null): boolean =>
    index !== null && (missing.has(index) || facts.functions[index].params.some((p) => isContext(p, context)));
  // Local functions (and methods of the same class) that gain the parameter, by name.
  const gaining = new Map<string, Fn>();
  for (const index of missing) {
    const fn = facts.functions[index];
    if (fn.kind !== "Signature") gaining.set(fn.container ? `${fn.container}.${fn.name}` : fn.name, fn);
  }
  for (const call of facts.calls) {
    if (!hasContext(call.enclosing_function)) continue;
    const caller = facts.functions[call.enclosing_function!];
    let target: string | null = null;
    if (typeof call.callee === "object" && call.callee.Name) target = call.callee.Name;
    if (typeof call.callee === "object" && call.callee.Member?.object === "this" && caller.container) {
      target = `${caller.container}.${call.callee.Member.property}`;
    }
    if (target === null || !gaining.has(target)) continue;
    const at = call.args_start;
    edits.push({ start: at, end: at, text: call.argument_count === 0 ? context.param : `${context.param}, ` });
  }
  return { title, kind, changes: [{ kind: "edit", path: req.file.path, edits }] };
}
