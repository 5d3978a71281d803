//! Owned per-module facts, extracted from the oxc AST in one walk.
//!
//! Rules never see the AST: they read these facts, so a file is parsed once and an edit that
//! leaves a module's facts unchanged re-runs nothing downstream.

use crate::diagnostic::TextRange;

mod collector;
mod extract;
pub use extract::*;

/// A short string stored inline: most names fit, so facts need few allocations.
pub type Name = compact_str::CompactString;

/// Everything the rules need to know about one module.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ModuleFacts {
    pub imports: Vec<ImportFact>,
    pub exports: Vec<ExportFact>,
    pub functions: Vec<FunctionFact>,
    pub calls: Vec<CallFact>,
    /// Names bound at the top level (imports, declarations), to know what a fix must import.
    pub top_level_names: Vec<Name>,
    /// Where a new import statement goes: the start of the first import, else of the first statement.
    pub import_insert_offset: u32,
    pub syntax_errors: Vec<SyntaxError>,
    /// Uses of globals that matter to purity (`Date.now`, `fetch`, `Deno.readFile`…).
    pub global_uses: Vec<GlobalUse>,
    /// Every name bound anywhere in the module: a global by that name is shadowed.
    pub bound_names: Vec<Name>,
    /// Typed fields of classes, constructor parameter properties included.
    pub fields: Vec<FieldFact>,
    /// Interface declarations (their methods are `functions` with this container).
    pub interfaces: Vec<InterfaceFact>,
    /// Names of the type aliases it declares (`type Row = …`).
    pub type_aliases: Vec<Name>,
    /// `await` is used as a name (a script can): an added import would make the file a module,
    /// where it is a keyword, so fixes that add one are not offered.
    pub await_as_name: bool,
    /// Classes and interfaces with what they extend and implement.
    pub types: Vec<TypeDeclFact>,
    /// Local variables whose type can be told from their declaration.
    pub locals: Vec<LocalFact>,
    /// Names of type parameters declared anywhere in the module (`T` of `Repo<T>`): a type of
    /// that name is not a global one.
    pub type_parameters: Vec<Name>,
    /// Names of functions and methods used as values rather than called: passed as an argument
    /// (`items.map(load)`, `on(this.handle)`) or bound (`this.onMessage.bind(this)`).
    pub value_uses: Vec<Name>,
    /// `// krepis-ignore…` comments, in order.
    pub suppressions: Vec<crate::directives::SuppressionFact>,
    /// Only ambient declarations (at least one `declare`, besides interfaces, types and
    /// imports): hand-written typings in a `.ts` file, which describe code elsewhere.
    #[serde(default)]
    pub ambient_only: bool,
}

/// A class or interface declaration and its supertypes, as written (`Base<T>`, `ports.Store`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TypeDeclFact {
    pub name: Name,
    pub is_class: bool,
    /// A class's superclass; an interface's `extends` list.
    pub extends: Vec<Name>,
    /// A class's `implements` list.
    pub implements: Vec<Name>,
    /// Named types a class casts `this` to in its own body (`new LockManager(this as
    /// WorkerContext)`): the class stands in for them as if it implemented them.
    #[serde(default)]
    pub casts: Vec<Name>,
}

/// A local variable and what its declaration says of its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LocalFact {
    pub name: Name,
    /// The function it is declared in (`None`: the module's top level).
    pub function: Option<u32>,
    pub value: ValueFact,
}

/// Where a value comes from, as far as a declaration shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ValueFact {
    /// A written type: an annotation, or `… as T`.
    Type(Name),
    /// `new C(…)`: the class as written.
    New(Name),
    /// `this.store`, `other`: a dotted path.
    Path(Name),
    /// `this.handlers.get(…)`, `make(…)`: the callee's dotted path.
    Call(Name),
    /// `await …`.
    Await(Box<ValueFact>),
    /// An element of `…` (`for (const x of …)`).
    Element(Box<ValueFact>),
    /// Anything else: the name is bound, its type unknown.
    Other,
}

/// An interface declaration: a port, when it lives in an inner layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct InterfaceFact {
    pub name: Name,
    pub name_range: TextRange,
    pub range: TextRange,
}

/// A use of a global that can be ambient I/O, time or randomness.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GlobalUse {
    /// `Date.now`, `new Date()`, `fetch`, `Deno.readTextFile`…: the root, then one property.
    pub path: Name,
    pub range: TextRange,
}

/// A class field with a declared type (`private readonly store: OrderStore`), or one made with
/// `new` (`private readonly clock = new SystemClock()`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FieldFact {
    pub class: Name,
    pub name: Name,
    /// The type as written: `OrderStore`, `Map<string, Handler>`, `Handler[]`.
    pub type_text: Name,
}

/// Globals whose uses are recorded (the rest cannot break purity).
const WATCHED_GLOBALS: [&str; 14] = [
    "Deno",
    "fetch",
    "process",
    "require",
    "XMLHttpRequest",
    "WebSocket",
    "localStorage",
    "Date",
    "Math",
    "crypto",
    "performance",
    "setTimeout",
    "setInterval",
    "setImmediate",
];

impl ModuleFacts {
    /// Whether `name` is bound at the module's top level.
    pub fn has_top_level_name(&self, name: &str) -> bool {
        self.top_level_names.iter().any(|n| n == name)
    }

    /// Gives back the room the lists grew into while the facts were gathered: facts live as long
    /// as the analysis, and a list grown by doubling holds up to twice what it needs.
    pub fn shrink_to_fit(&mut self) {
        self.imports.shrink_to_fit();
        for import in &mut self.imports {
            import.names.shrink_to_fit();
        }
        self.exports.shrink_to_fit();
        self.functions.shrink_to_fit();
        for function in &mut self.functions {
            function.params.shrink_to_fit();
        }
        self.calls.shrink_to_fit();
        self.top_level_names.shrink_to_fit();
        self.syntax_errors.shrink_to_fit();
        self.global_uses.shrink_to_fit();
        self.bound_names.shrink_to_fit();
        self.fields.shrink_to_fit();
        self.interfaces.shrink_to_fit();
        self.type_aliases.shrink_to_fit();
        self.types.shrink_to_fit();
        for declaration in &mut self.types {
            declaration.extends.shrink_to_fit();
            declaration.implements.shrink_to_fit();
            declaration.casts.shrink_to_fit();
        }
        self.locals.shrink_to_fit();
        self.type_parameters.shrink_to_fit();
        self.value_uses.shrink_to_fit();
        self.suppressions.shrink_to_fit();
    }
}

/// A parse error, with the span oxc points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SyntaxError {
    pub message: String,
    pub range: TextRange,
}

/// How a module names another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ImportKind {
    /// `import … from "x"` or `import "x"`.
    Static,
    /// `export … from "x"` / `export * from "x"`.
    ReExport,
    /// `import("x")` with a literal specifier.
    Dynamic,
    /// `require("x")`.
    Require,
    /// `import x = require("x")`.
    ImportEquals,
    /// `import("x").T` in a type: it names the module, and vanishes at run time.
    ImportType,
}

/// One imported name: `imported` is `default`, `*` for a namespace, or the exported name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ImportedName {
    pub imported: Name,
    pub local: Name,
    pub range: TextRange,
    pub type_only: bool,
}

/// One module reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ImportFact {
    pub specifier: Name,
    /// The specifier's string literal, quotes included.
    pub range: TextRange,
    pub kind: ImportKind,
    /// `import type …` / `export type … from` (every name type-only).
    pub type_only: bool,
    pub names: Vec<ImportedName>,
}

impl ImportFact {
    /// Whether the import vanishes at run time: `import type`, `export type … from`, or a list
    /// whose every name is marked `type` (`import { type A, type B }`, `export { type X } from`).
    pub fn is_type_only(&self) -> bool {
        self.type_only || (!self.names.is_empty() && self.names.iter().all(|n| n.type_only))
    }
}

/// One exported name and what it refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ExportFact {
    /// The name other modules import (`default` for the default export, `*` for `export *`).
    pub exported: Name,
    /// The local binding, or the name in the source module for a re-export.
    pub local: Name,
    /// For re-exports: the index into `imports` of the module it comes from.
    pub from_import: Option<u32>,
}

/// How a function came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FunctionKind {
    /// `function f() {}` (also overload signatures and `declare function`).
    Declaration,
    /// A function expression or arrow bound to a variable.
    Variable,
    /// A class method (`abstract` ones too).
    Method,
    /// A class field holding a function.
    ClassField,
    /// An object-literal method or a property holding a function.
    ObjectMember,
    /// An interface or type-literal method signature, or a property typed as a function.
    Signature,
    /// `export default function () {}` / `export default async () => …`.
    DefaultExport,
    /// A function passed straight to a call: `app.get("/", async (req) => …)`.
    InlineCallback,
    /// Any other function value (returned, in an array, immediately invoked…).
    Anonymous,
}

/// One parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ParamFact {
    /// The bound name for a plain identifier parameter.
    pub name: Option<Name>,
    /// The annotated type's name: `KrepisContext`, or `core.KrepisContext` for a qualified name.
    pub type_name: Option<Name>,
    /// The annotation as written, when there is one: `Map<string, Handler>`.
    pub type_text: Option<Name>,
    pub range: TextRange,
    /// The parameter as written, to move it without reading the file again.
    pub text: Name,
    pub is_rest: bool,
}

/// One function, method or signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FunctionFact {
    pub name: Name,
    /// What to underline: the name, or the keyword of an anonymous function.
    pub name_range: TextRange,
    pub kind: FunctionKind,
    pub is_async: bool,
    /// The declared return type, as written.
    pub return_type: Option<Name>,
    pub params: Vec<ParamFact>,
    /// The parameter list; includes the parentheses when there are some.
    pub params_range: TextRange,
    /// `false` only for `x => …`.
    pub params_parenthesized: bool,
    pub range: TextRange,
    /// The class, interface or type alias the function belongs to.
    pub container: Option<Name>,
    /// The index of the enclosing function, if any.
    pub parent: Option<u32>,
    /// Whether the body has `return <value>;` (its own, not a nested function's).
    pub returns_value: bool,
    pub has_body: bool,
    /// A `private` or `#private` class member: nothing outside the class sees it.
    #[serde(default)]
    pub is_private: bool,
}

impl FunctionFact {
    /// Whether the declared return type is `Promise<…>`: the whole type, not a union that has a
    /// promise in it (`Promise<T> | T` may be called for its plain value).
    pub fn returns_promise(&self) -> bool {
        self.return_type.as_deref().is_some_and(is_promise_type)
    }
}

/// Whether a written type is `Promise` or `Promise<…>` as a whole: the `<` after `Promise`
/// closes at the very end.
pub fn is_promise_type(text: &str) -> bool {
    let text = text.trim();
    let Some(args) = text.strip_prefix("Promise") else {
        return false;
    };
    if args.is_empty() {
        return true;
    }
    if !args.starts_with('<') {
        return false;
    }
    let mut depth = 0i32;
    for (i, c) in args.char_indices() {
        match c {
            '<' | '(' | '[' | '{' => depth += 1,
            // `=>` in a function type is no closing bracket.
            '>' if i > 0 && args.as_bytes()[i - 1] == b'=' => {}
            '>' | ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return i == args.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// The first argument of a call, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ArgumentFact {
    /// A plain identifier.
    Identifier(Name),
    /// `a.b.c`, `a.b()`, `a?.b` — rooted at the identifier `root`.
    Derived {
        root: Name,
    },
    /// A call to a plain function: `createContext(…)`.
    Call {
        callee: Name,
    },
    ObjectLiteral,
    /// `value as T` (or `<T>value`, `value satisfies T`) for a named type `T`.
    Cast {
        type_name: Name,
    },
    Other,
}

/// The callee of a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Callee {
    /// `f(…)`.
    Name(Name),
    /// `object.path.method(…)`; `object` is `this`, an identifier or a dotted path.
    Member {
        object: Name,
        property: Name,
    },
    /// `expr.method(…)` on a receiver that is no path the type model reads (`make().m()`,
    /// `items[0].job.m()`): only the method's name is known, never its receiver's type.
    Computed {
        property: Name,
    },
    Other,
}

/// One call expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CallFact {
    pub callee: Callee,
    /// The callee name (or member property) to underline.
    pub name_range: TextRange,
    /// Offset just after the opening parenthesis of the arguments.
    pub args_start: u32,
    pub first_argument: Option<(ArgumentFact, TextRange)>,
    pub argument_count: u32,
    pub enclosing_function: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn facts(text: &str) -> ModuleFacts {
        extract(Path::new("a.ts"), text)
    }

    #[test]
    fn only_a_whole_promise_type_returns_a_promise() {
        for yes in [
            "Promise",
            "Promise<void>",
            "Promise<Map<string, Array<() => Promise<T>>>>",
            " Promise<T | undefined> ",
            "Promise<(a: A) => B>",
        ] {
            assert!(is_promise_type(yes), "{yes}");
        }
        for no in [
            "Promise<T> | T",
            "Promise<void> | void",
            "Promise<A> & Extra",
            "PromiseLike<T>",
            "Promises",
            "T",
            "Promise<T>[]",
        ] {
            assert!(!is_promise_type(no), "{no}");
        }
    }

    #[test]
    fn functions_of_every_form_are_named() {
        let f = facts(
            r#"
export async function load(ctx: KrepisContext, id: string) {}
const save = async (order: Order) => {};
const find = async function (id) {};
class Repo { async get(id: string) {} field = async () => {}; static sync() {} }
interface Port { load(id: string): Promise<Order>; size(): number; cb: (x: number) => Promise<void> }
abstract class Base { abstract run(): Promise<void> }
const obj = { async m() {}, p: async () => {} };
app.get("/", async (req) => {});
function later(): Promise<void> { return Promise.resolve() }
x => x;
"#,
        );
        let summary: Vec<(String, FunctionKind, bool, bool)> = f
            .functions
            .iter()
            .map(|f| (f.name.to_string(), f.kind, f.is_async, f.returns_promise()))
            .collect();
        use FunctionKind::*;
        let expected: Vec<(String, FunctionKind, bool, bool)> = vec![
            ("load", Declaration, true, false),
            ("save", Variable, true, false),
            ("find", Variable, true, false),
            ("get", Method, true, false),
            ("field", ClassField, true, false),
            ("sync", Method, false, false),
            ("load", Signature, false, true),
            ("size", Signature, false, false),
            ("cb", Signature, false, true),
            ("run", Method, false, true),
            ("m", ObjectMember, true, false),
            ("p", ObjectMember, true, false),
            ("get", InlineCallback, true, false),
            ("later", Declaration, false, true),
            ("<anonymous>", Anonymous, false, false),
        ]
        .into_iter()
        .map(|(n, k, a, p)| (n.into(), k, a, p))
        .collect();
        assert_eq!(summary, expected);
        let load = &f.functions[0];
        assert_eq!(load.params[0].type_name.as_deref(), Some("KrepisContext"));
        assert_eq!(load.params[0].name.as_deref(), Some("ctx"));
        assert!(load.params_parenthesized);
        assert!(!f.functions.last().unwrap().params_parenthesized);
        assert_eq!(f.functions[3].container.as_deref(), Some("Repo"));
        assert_eq!(f.functions[6].container.as_deref(), Some("Port"));
    }

    #[test]
    fn imports_of_every_form() {
        let f = facts(
            r#"import type { A } from "./a.ts";
import B, * as C from "./b";
export { d } from "../d.js";
export * from "./e";
const f = await import("./f.ts");
const g = require("g");
import h = require("./h");
"#,
        );
        let summary: Vec<(&str, ImportKind, bool)> = f
            .imports
            .iter()
            .map(|i| (i.specifier.as_str(), i.kind, i.type_only))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("./a.ts", ImportKind::Static, true),
                ("./b", ImportKind::Static, false),
                ("../d.js", ImportKind::ReExport, false),
                ("./e", ImportKind::ReExport, false),
                ("./f.ts", ImportKind::Dynamic, false),
                ("g", ImportKind::Require, false),
                ("./h", ImportKind::ImportEquals, false),
            ]
        );
        assert_eq!(
            f.imports[1]
                .names
                .iter()
                .map(|n| n.imported.as_str())
                .collect::<Vec<_>>(),
            ["default", "*"]
        );
        assert_eq!(
            &"import type { A } from \"./a.ts\";"
                [f.imports[0].range.start as usize..f.imports[0].range.end as usize],
            "\"./a.ts\""
        );
        assert!(
            f.has_top_level_name("A") && f.has_top_level_name("C") && f.has_top_level_name("h")
        );
        assert_eq!(f.import_insert_offset, 0);
    }

    #[test]
    fn type_positions_and_inline_type_names_are_type_only_imports() {
        let f = facts(
            r#"export { type Db, type Row } from "./db.ts";
export { type Port, make } from "./port.ts";
import { type A } from "./a.ts";
let term: import("./xterm-private.js").Terminal.Options;
type Mod = typeof import("./mod.ts");
function load(): Promise<import("../order.js").Order> { return null!; }
"#,
        );
        let summary: Vec<(&str, ImportKind, bool, Vec<&str>)> = f
            .imports
            .iter()
            .map(|i| {
                (
                    i.specifier.as_str(),
                    i.kind,
                    i.is_type_only(),
                    i.names.iter().map(|n| n.imported.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("./db.ts", ImportKind::ReExport, true, vec!["Db", "Row"]),
                (
                    "./port.ts",
                    ImportKind::ReExport,
                    false,
                    vec!["Port", "make"]
                ),
                ("./a.ts", ImportKind::Static, true, vec!["A"]),
                (
                    "./xterm-private.js",
                    ImportKind::ImportType,
                    true,
                    vec!["Terminal"]
                ),
                ("./mod.ts", ImportKind::ImportType, true, vec!["*"]),
                ("../order.js", ImportKind::ImportType, true, vec!["Order"]),
            ]
        );
    }

    #[test]
    fn ambient_only_modules() {
        assert!(
            facts("export declare class A { run(): Promise<void> }\ninterface B {}\n").ambient_only
        );
        assert!(facts("declare module \"x\" { export const y: number; }\n").ambient_only);
        assert!(
            facts("import type { Z } from \"./z\";\ndeclare global { var q: Z }\nexport {};\n")
                .ambient_only
        );
        assert!(!facts("export interface Port { save(): Promise<void> }\n").ambient_only);
        assert!(!facts("declare const a: number;\nexport const b = a + 1;\n").ambient_only);
        assert!(!facts("").ambient_only);
    }

    #[test]
    fn new_imports_go_at_the_start_of_a_line_whatever_ends_it() {
        for end in ["\n", "\r\n", "\r"] {
            let text = format!("// header{end}const a = 1;{end}");
            assert_eq!(
                facts(&text).import_insert_offset as usize,
                text.find("const").unwrap(),
                "{end:?}"
            );
        }
    }

    #[test]
    fn calls_record_callee_and_first_argument() {
        let f = facts(
            "async function a(ctx: C) { await this.repo.load(ctx.child(), 1); b(); c(createContext()); }",
        );
        assert_eq!(f.calls.len(), 5);
        let load = &f.calls[0];
        assert_eq!(
            load.callee,
            Callee::Member {
                object: "this.repo".into(),
                property: "load".into()
            }
        );
        assert_eq!(
            load.first_argument.as_ref().map(|a| a.0.clone()),
            Some(ArgumentFact::Derived { root: "ctx".into() })
        );
        assert_eq!(load.enclosing_function, Some(0));
        let b = f
            .calls
            .iter()
            .find(|c| c.callee == Callee::Name("b".into()))
            .unwrap();
        assert_eq!(b.first_argument, None);
        assert_eq!(
            &f.calls
                .iter()
                .find(|c| c.callee == Callee::Name("c".into()))
                .unwrap()
                .first_argument
                .as_ref()
                .unwrap()
                .0,
            &ArgumentFact::Call {
                callee: "createContext".into()
            }
        );
    }

    #[test]
    fn absurd_nesting_is_refused_before_parsing() {
        let deep = format!("const x = {}1{};", "(".repeat(100_000), ")".repeat(100_000));
        let f = facts(&deep);
        assert_eq!(f.syntax_errors.len(), 1);
        assert!(
            f.syntax_errors[0].message.contains("more than 1000 levels"),
            "{}",
            f.syntax_errors[0].message
        );
        let templates = format!("const t = {}1{};", "`${".repeat(5_000), "}`".repeat(5_000));
        assert_eq!(facts(&templates).syntax_errors.len(), 1);
        let arrows = format!("const f = {}1;", "x => ".repeat(50_000));
        assert!(
            facts(&arrows).syntax_errors[0]
                .message
                .starts_with("arrow functions")
        );
        let parenthesised = format!("const f = {}1;", "(x) => ".repeat(50_000));
        assert!(
            facts(&parenthesised).syntax_errors[0]
                .message
                .starts_with("arrow functions")
        );
        // Brackets inside strings and comments, and many sibling arrows, are fine.
        let fine = format!(
            "const s = \"{}\"; // {}\nconst h = {{ {} }};",
            "(".repeat(5_000),
            "[".repeat(5_000),
            "a: () => 1, ".repeat(3_000)
        );
        assert!(facts(&fine).syntax_errors.is_empty());
    }

    #[test]
    fn unclosed_type_arguments_in_brackets_are_refused_before_parsing() {
        // Each `name<` left open inside brackets doubles the parser's work: sixteen of these took
        // over a minute before any limit. The fuzzer's shape below (reduced) took 0.8 s under the
        // first limit, which counted neither `\<`, U+FFFD `<` nor `x <`.
        let fuzzed = concat!(
            "\\<\\\u{fffd}<x<\\\u{fffd}<\\\u{fffd}<e<{[\\\u{fffd}<\\\u{fffd}<\\\u{fffd}<ex<[[",
            "[[[[[[[[[[[[[[[[[[[[[[[([[[[[[[[[[{[[[[memr\\\u{fffd}<Tlxport[([[[[[[[[[[[[[[[[[",
            "[[[[[{[[[[[mor\\\u{fffd}<Tlxport[([[[[[[[[[[[[[[[ [[[[[[[{[[[[[[[[[[[[[[[[[[w[[[",
            "memory\\\u{fffd}<Texnamespa[[mor\\\u{fffd}<Tlxport[([[[[[[[[[[[[[[[ [[[[[[[{[[[[",
            "[[[[[[[[[[[[[ce<Proemory\\\u{fffd}<Texnamespa[[mor\\\u{fffd}<Tlxport[([[[[[[[[[[",
            "[[[[[ [[[[[{[[[[[[[[[[[[[[[[[ce<Promise\\\u{fffd}<Tlxportex[\u{c} {b\\ retu f:u;",
            "[[[[[[[:[[[ }",
        );
        let exponential = format!("({}\n", "a<T<c[{[".repeat(16));
        for text in [exponential.as_str(), fuzzed, &"x <({[".repeat(13)] {
            let f = facts(text);
            assert_eq!(f.syntax_errors.len(), 1);
            let expected = format!(
                "unclosed `<` (type arguments) in nested brackets could be read more than {} ways",
                super::MAX_TYPE_ARGUMENT_WAYS
            );
            assert!(
                f.syntax_errors[0].message.starts_with(&expected),
                "{}",
                f.syntax_errors[0].message
            );
        }
        // Generics that close, comparisons that a statement or bracket ends, and minified loops
        // are ordinary code.
        let ordinary = format!(
            "const m: Map<string, Array<Promise<Record<K, V>>>> = f(g(h<A>(x < y && a<b)));\n{}{}",
            "for(let i=0;i<n;i++){if(a<b&&c<d&&e<f){g(h<i)}}\n".repeat(50),
            "const ok = (p: Array<Set<number>>) => p.length<3 ? 1 : 2;\n".repeat(50)
        );
        assert!(
            facts(&ordinary).syntax_errors.is_empty(),
            "{:?}",
            facts(&ordinary).syntax_errors
        );
    }

    #[test]
    fn syntax_errors_are_collected_not_fatal() {
        let f = facts("async function ok(ctx: C) {}\nconst = ;\n");
        assert!(!f.syntax_errors.is_empty());
        let f = facts("\u{0}\u{1}binary");
        assert!(!f.syntax_errors.is_empty());
    }
}
