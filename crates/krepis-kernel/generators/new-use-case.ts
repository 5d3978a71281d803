// "New use case": on a selected capitalised name that the file does not define (`PlaceOrder`),
// writes a command or query handler in the application layer, with the port it needs in a file of
// its own. Names starting with a reading verb (Get, Find, List…) make a query; any other, a command.
// Only a selection offers it: a bare cursor on a word is too common to mean "create this".

import type { Request } from "krepis:prelude";
import { fileName, dirname, relativeSpecifier, extensionStyle, withExtension, contextImport } from "krepis:prelude";

const QUERY_VERBS = ["Get", "Find", "List", "Count", "Search", "Load", "Fetch", "Read", "Is", "Has", "Can", "Show"];

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function generate(_ctx: unknown, req: Request) {
  const word = req.selection.word;
  if (req.selection.text.trim() !== word) return null;
  if (word === null || !/^[A-Z][A-Za-z0-9]*$/.test(word) || !/[a-z]/.test(word)) return null;
  const name = word.replace(/(CommandHandler|QueryHandler|Handler|UseCase)$/, "");
  if (name === "" || req.file.facts.bound_names.includes(word)) return null;
  const query = QUERY_VERBS.some((v) => name.startsWith(v) && /^[A-Z0-9]/.test(name.slice(v.length)));
  const title = `New ${query ? "query" : "command"} use case \`${name}\``;
  const kind = "refactor.extract.krepis.newUseCase";
  const application = req.layers.find((l) => l.name === "application");
  if (!application || application.folder === null) {
    return { title, kind, refused: "no folder for the application layer follows from the configured layer paths" };
  }
  const context = req.context;
  const folder = application.folder === "" ? "" : `${application.folder}/`;
  const base = fileName(name, req.file.path);
  const separator = base.includes("_") || req.file.path.split("/").pop()!.includes("_") ? "_" : "-";
  const useCasePath = `${folder}${base}.ts`;
  const portPath = `${folder}${base}${separator}port.ts`;
  const style = extensionStyle(req.file.facts);
  const portSpecifier = withExtension(relativeSpecifier(dirname(useCasePath), portPath), style);
  const ctxParam = `${context.param}: ${context.type}`;
  const operation = lowerFirst(name);
  const result = query ? `${name}Result` : "void";

  const port = [
    contextImport(context).trimEnd(),
    "",
    `/** The input of \`${name}\`. */`,
    `export interface ${name}Input {`,
    "  // Add the fields the use case needs.",
    "}",
    ...(query ? ["", `/** What \`${name}\` answers. */`, `export interface ${name}Result {`, "  // Add the fields of the answer.", "}"] : []),
    "",
    `/** What \`${name}\` needs from the outside world; an adapter implements it. */`,
    `export interface ${name}Port {`,
    `  ${operation}(${ctxParam}, input: ${name}Input): Promise<${result}>;`,
    "}",
    "",
  ].join("\n");

  const handler = `${name}${query ? "Query" : "Command"}Handler`;
  const names = [`${name}Input`, `${name}Port`, ...(query ? [`${name}Result`] : [])].sort();
  const useCase = [
    contextImport(context).trimEnd(),
    `import type { ${names.join(", ")} } from "${portSpecifier}";`,
    "",
    query
      ? `/** Query: answers \`${name}\` and changes nothing. */`
      : `/** Command: carries out \`${name}\` and returns nothing. */`,
    `export class ${handler} {`,
    `  constructor(private readonly port: ${name}Port) {}`,
    "",
    `  async handle(${ctxParam}, input: ${name}Input): Promise<${result}> {`,
    query
      ? `    return await this.port.${operation}(${context.param}, input);`
      : `    await this.port.${operation}(${context.param}, input);`,
    "  }",
    "}",
    "",
  ].join("\n");

  return {
    title,
    kind,
    changes: [
      { kind: "create", path: portPath, text: port },
      { kind: "create", path: useCasePath, text: useCase },
    ],
  };
}
