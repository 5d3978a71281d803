// The prelude, `krepis:prelude`: the types of a generator's request and the helpers the built-in
// generators share. Any generator or custom rule may import it.

export interface Range { start: number; end: number }
export interface Param { name: string | null; type_name: string | null; text: string; range: Range; is_rest: boolean }
export interface Fn {
  name: string;
  kind: string;
  is_async: boolean;
  return_type: string | null;
  params: Param[];
  params_range: Range;
  params_parenthesized: boolean;
  container: string | null;
  parent: number | null;
}
export interface Imported { imported: string; local: string; type_only: boolean }
export interface Import { specifier: string; kind: string; type_only: boolean; names: Imported[] }
export interface Facts {
  imports: Import[];
  exports: { exported: string; local: string }[];
  functions: Fn[];
  calls: {
    callee: { Name?: string; Member?: { object: string; property: string } } | string;
    args_start: number;
    argument_count: number;
    enclosing_function: number | null;
  }[];
  top_level_names: string[];
  bound_names: string[];
  import_insert_offset: number;
  interfaces: { name: string; name_range: Range; range: Range }[];
}
export interface Context { type: string; param: string; module: string }
export interface Request {
  file: { path: string; layer: string | null; text: string; facts: Facts };
  selection: { start: number; end: number; word: string | null; text: string };
  layers: { name: string; folder: string | null }[];
  context: Context;
}
export type Change =
  | { kind: "create"; path: string; text: string }
  | { kind: "edit"; path: string; edits: { start: number; end: number; text: string }[] };

/** `OrderStore` → `order_store` or `order-store`, following the style of `like` (a file name). */
export function fileName(name: string, like: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z])([A-Z][a-z])/g, "$1 $2")
    .toLowerCase().split(" ");
  const base = like.split("/").pop() ?? "";
  return words.join(base.includes("_") ? "_" : "-");
}

export function dirname(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? "" : path.slice(0, at);
}

export function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/** The specifier that imports `target` from a file in `fromDir` (both relative to the root). */
export function relativeSpecifier(fromDir: string, target: string): string {
  const from = fromDir === "" ? [] : fromDir.split("/");
  const to = target.split("/");
  let same = 0;
  while (same < from.length && same < to.length - 1 && from[same] === to[same]) same++;
  const up = from.slice(same).map(() => "..");
  const rest = to.slice(same);
  const joined = [...up, ...rest].join("/");
  return up.length === 0 ? `./${joined}` : joined;
}

/** How the file's relative imports end: `.ts`, `.js` or nothing. */
export function extensionStyle(facts: Facts): string {
  const relative = facts.imports.map((i) => i.specifier).filter((s) => s.startsWith("."));
  if (relative.some((s) => s.endsWith(".js"))) return ".js";
  if (relative.length > 0 && relative.every((s) => !/\.[cm]?[tj]sx?$/.test(s))) return "";
  return ".ts";
}

export function withExtension(pathWithTs: string, style: string): string {
  return pathWithTs.replace(/\.ts$/, style);
}

/** Whether a parameter is the context: typed with the context type. */
export function isContext(param: Param, context: Context): boolean {
  return param.type_name === context.type || (param.type_name ?? "").endsWith(`.${context.type}`);
}

export function returnsPromise(fn: Fn): boolean {
  const t = fn.return_type ?? "";
  return fn.is_async || t === "Promise" || t.startsWith("Promise<");
}

export function contextImport(context: Context): string {
  return `import type { ${context.type} } from "${context.module}";\n`;
}

/** An edit adding the context import, unless the file has the name already. */
export function contextImportEdit(facts: Facts, context: Context): { start: number; end: number; text: string }[] {
  if (facts.top_level_names.includes(context.type)) return [];
  const at = facts.import_insert_offset;
  return [{ start: at, end: at, text: contextImport(context) }];
}

/** The edit that puts `ctx: KrepisContext` first in a parameter list. */
export function contextParamEdit(fn: Fn, context: Context): { start: number; end: number; text: string } {
  const param = `${context.param}: ${context.type}`;
  if (!fn.params_parenthesized) {
    // `x => …` becomes `(ctx: KrepisContext, x) => …`.
    return { start: fn.params_range.start, end: fn.params_range.end, text: `(${param}, ${fn.params.map((p) => p.text).join(", ")})` };
  }
  const at = fn.params_range.start + 1;
  return { start: at, end: at, text: fn.params.length === 0 ? param : `${param}, ` };
}
