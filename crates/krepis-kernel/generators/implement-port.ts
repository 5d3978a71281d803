// "Implement port `X` as an adapter": on an interface, writes a class in the adapters layer that
// implements every method, asynchronous ones with the context first. Port methods that are
// asynchronous but lack the context get it too, so the class really implements the port.

import type { Facts, Request, Change } from "krepis:prelude";
import { fileName, dirname, normalize, relativeSpecifier, extensionStyle, withExtension, isContext, returnsPromise, contextImport, contextImportEdit, contextParamEdit } from "krepis:prelude";

const GLOBAL_TYPES = new Set([
  "Promise", "Array", "ReadonlyArray", "Record", "Partial", "Required", "Readonly", "Pick", "Omit",
  "Map", "Set", "ReadonlyMap", "ReadonlySet", "Date", "Error", "Uint8Array", "ArrayBuffer",
  "Request", "Response", "Headers", "URL", "AsyncIterable", "Iterable", "NonNullable",
  "ReturnType", "Parameters", "Awaited", "Exclude", "Extract", "Blob", "ReadableStream",
]);

function adapterName(port: string): string {
  const bare = port.replace(/^I(?=[A-Z][a-z])/, "").replace(/Port$/, "");
  return `${bare || port}Adapter`;
}

function typeNames(text: string): string[] {
  // Identifiers that start with a capital, outside string literals.
  const found = text.replace(/"[^"]*"|'[^']*'/g, "").match(/\b[A-Z][A-Za-z0-9_]*\b/g) ?? [];
  return [...new Set(found)];
}

/** Where the adapter imports `name` from: the module the port imports it from, or the port. */
function importSource(name: string, req: Request, adapterDir: string, style: string): string | null {
  const facts = req.file.facts;
  const portDir = dirname(req.file.path);
  for (const imp of facts.imports) {
    if (!imp.names.some((n) => n.local === name)) continue;
    if (!imp.specifier.startsWith(".")) return imp.specifier;
    return relativeSpecifier(adapterDir, normalize(`${portDir}/${imp.specifier}`));
  }
  if (facts.exports.some((e) => e.exported === name)) {
    return withExtension(relativeSpecifier(adapterDir, req.file.path), style);
  }
  return null;
}

function importedAs(name: string, facts: Facts): string {
  for (const imp of facts.imports) {
    const n = imp.names.find((n) => n.local === name);
    if (n) return n.imported;
  }
  return name;
}

export function generate(_ctx: unknown, req: Request) {
  const facts = req.file.facts;
  const sel = req.selection.start;
  const port = facts.interfaces.find((i) => i.range.start <= sel && sel <= i.range.end);
  if (!port) return null;
  const title = `Implement port \`${port.name}\` as an adapter`;
  const kind = "refactor.extract.krepis.implementPort";
  if (!facts.exports.some((e) => e.local === port.name)) {
    return { title, kind, refused: `\`${port.name}\` is not exported, so an adapter cannot import it` };
  }
  const adapters = req.layers.find((l) => l.name === "adapters") ?? req.layers[req.layers.length - 1];
  if (!adapters || adapters.folder === null) {
    return { title, kind, refused: "no folder for the adapters layer follows from the configured layer paths" };
  }
  const context = req.context;
  const methods = facts.functions.filter((f) => f.kind === "Signature" && f.container === port.name);
  const className = adapterName(port.name);
  const path = `${adapters.folder === "" ? "" : adapters.folder + "/"}${fileName(className.replace(/Adapter$/, ""), req.file.path)}.ts`;
  const adapterDir = dirname(path);
  const style = extensionStyle(facts);

  const bodies: string[] = [];
  const portEdits: { start: number; end: number; text: string }[] = [];
  const used = new Set<string>();
  for (const m of methods) {
    const asynchronous = returnsPromise(m);
    const params = m.params.map((p) => p.text);
    if (asynchronous && !(m.params.length > 0 && isContext(m.params[0], context))) {
      if (!m.params.some((p) => isContext(p, context))) {
        params.unshift(`${context.param}: ${context.type}`);
        portEdits.push(contextParamEdit(m, context));
      }
    }
    const returns = m.return_type ?? (asynchronous ? "Promise<void>" : "void");
    for (const t of typeNames(`${params.join(", ")} ${returns}`)) used.add(t);
    const signature = `${m.name}(${params.join(", ")}): ${returns}`;
    const body = `    throw new Error("${className}.${m.name} is not implemented yet");`;
    bodies.push(`  ${asynchronous ? "async " : ""}${signature} {\n${body}\n  }`);
  }

  const imports = new Map<string, Set<string>>();
  const add = (source: string, name: string) => {
    if (!imports.has(source)) imports.set(source, new Set());
    imports.get(source)!.add(name);
  };
  const portSource = withExtension(relativeSpecifier(adapterDir, req.file.path), style);
  add(portSource, port.name);
  let needsContext = false;
  for (const t of used) {
    if (GLOBAL_TYPES.has(t) || t === port.name) continue;
    if (t === context.type) { needsContext = true; continue; }
    const source = importSource(t, req, adapterDir, style);
    if (source === null) continue;
    const imported = importedAs(t, facts);
    add(source, imported === t ? t : `${imported} as ${t}`);
  }
  const lines: string[] = [];
  if (needsContext) lines.push(contextImport(context).trimEnd());
  for (const [source, names] of imports) {
    lines.push(`import type { ${[...names].sort().join(", ")} } from "${source}";`);
  }
  const text = `${lines.join("\n")}\n\n/** Implements the \`${port.name}\` port. */\nexport class ${className} implements ${port.name} {\n${bodies.join("\n\n")}\n}\n`;

  const changes: Change[] = [{ kind: "create", path, text }];
  if (portEdits.length > 0) {
    changes.push({ kind: "edit", path: req.file.path, edits: [...contextImportEdit(facts, context), ...portEdits] });
  }
  return { title, kind, changes };
}
