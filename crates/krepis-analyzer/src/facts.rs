//! Owned per-module facts, extracted from the oxc AST in one walk.
//!
//! Rules never see the AST: they read these facts, so a file is parsed once and an edit that
//! leaves a module's facts unchanged re-runs nothing downstream.

use std::collections::HashMap;
use std::path::Path;

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_ast_visit::{Visit, walk};
use oxc_parser::{ParseOptions, Parser};
use oxc_span::{GetSpan, SourceType, Span};
use oxc_syntax::scope::ScopeFlags;

use crate::diagnostic::TextRange;

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
    /// Whether the declared return type is `Promise<…>`.
    pub fn returns_promise(&self) -> bool {
        self.return_type
            .as_deref()
            .is_some_and(|t| t.starts_with("Promise<") || t == "Promise")
    }
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

/// Whether `path` looks like a module Krepis checks, by extension.
pub fn is_checkable_path(path: &Path) -> bool {
    source_type_for(path).is_some()
}

fn source_type_for(path: &Path) -> Option<SourceType> {
    let ext = path.extension()?.to_str()?;
    let source_type = match ext {
        "ts" | "mts" | "cts" => SourceType::ts(),
        "tsx" => SourceType::tsx(),
        "js" | "mjs" => SourceType::mjs(),
        "jsx" => SourceType::jsx(),
        "cjs" => SourceType::cjs(),
        _ => return None,
    };
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".d.ts") || name.ends_with(".d.mts") || name.ends_with(".d.cts") {
        return Some(SourceType::d_ts());
    }
    Some(source_type)
}

/// Stack size for threads that analyse code: parsing recurses as deep as the code nests.
pub const ANALYSIS_STACK_BYTES: usize = 256 << 20;

/// Deeper nesting than this is not parsed: no hand-written module comes near it, and a parser
/// recursing through a hostile file must not exhaust the stack.
pub const MAX_NESTING: u32 = 1_000;

/// How many `name<` may be open (not closed by `>`) at once, across enclosing brackets, before a
/// file is not parsed: each costs the parser a speculative branch (real code stays far below).
pub const MAX_OPEN_TYPE_ARGUMENTS: u32 = 24;

/// Looks for nesting the parser would recurse through too deeply: brackets and template
/// substitutions, and chains of arrows (`x => y => z …`). Strings and comments are skipped.
/// Returns the offset where the limit is passed, with what nests.
pub fn excessive_nesting(text: &str) -> Option<(u32, String)> {
    let bytes = text.as_bytes();
    // Open brackets, with `b'$'` for a template substitution and `b'`'` for a template literal.
    let mut stack: Vec<u8> = Vec::new();
    let mut arrows = 0u32;
    // `name<` not yet closed by `>`, per open bracket (the first for the top level), and in all.
    let mut angles: Vec<u32> = vec![0];
    let mut open_angles = 0u32;
    let deep = |what: &str, limit: u32| format!("{what} nest more than {limit} levels deep");
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let in_template = stack.last() == Some(&b'`');
        if in_template {
            match b {
                b'\\' => i += 1,
                b'`' => {
                    stack.pop();
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(b'$');
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'`' | b'(' | b'[' | b'{' => {
                stack.push(b);
                angles.push(0);
                if stack.len() as u32 > MAX_NESTING {
                    return Some((i as u32, deep("brackets or template literals", MAX_NESTING)));
                }
            }
            // `)` does not end an arrow chain: `x => (y) => (z) => …` still nests.
            b')' | b']' | b'}' => {
                stack.pop();
                if angles.len() > 1 {
                    open_angles -= angles.pop().unwrap_or(0);
                }
                if b != b')' {
                    arrows = 0;
                }
            }
            b';' | b',' => {
                arrows = 0;
                if b == b';'
                    && let Some(current) = angles.last_mut()
                {
                    open_angles -= *current;
                    *current = 0;
                }
            }
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                arrows += 1;
                if arrows > MAX_NESTING {
                    return Some((i as u32, deep("arrow functions", MAX_NESTING)));
                }
                i += 1;
            }
            // The parser tries each `name<` as type arguments and backtracks: unclosed ones
            // nested in brackets cost time exponential in their number.
            b'<' if i > 0
                && (bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b'$') =>
            {
                if let Some(current) = angles.last_mut() {
                    *current += 1;
                    open_angles += 1;
                }
                if open_angles > MAX_OPEN_TYPE_ARGUMENTS {
                    return Some((
                        i as u32,
                        deep("unclosed `<` (type arguments)", MAX_OPEN_TYPE_ARGUMENTS),
                    ));
                }
            }
            b'>' => {
                if let Some(current) = angles.last_mut()
                    && *current > 0
                {
                    *current -= 1;
                    open_angles -= 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

thread_local! {
    /// One arena per thread, reset between files: parsing allocates nothing new once warm.
    static ARENA: std::cell::RefCell<Allocator> = std::cell::RefCell::new(Allocator::default());
}

/// An arena this large came from an unusual file; give it back rather than keep it.
const ARENA_KEEP_BYTES: usize = 64 << 20;

/// Parses `text` (named `path`, which decides TS/TSX/JS) into facts.
pub fn extract(path: &Path, text: &str) -> ModuleFacts {
    ARENA.with(|arena| match arena.try_borrow_mut() {
        Ok(mut allocator) => {
            allocator.reset();
            let facts = extract_in(&allocator, path, text);
            if allocator.capacity() > ARENA_KEEP_BYTES {
                *allocator = Allocator::default();
            }
            facts
        }
        Err(_) => extract_in(&Allocator::default(), path, text),
    })
}

fn extract_in(allocator: &Allocator, path: &Path, text: &str) -> ModuleFacts {
    if let Some((offset, what)) = excessive_nesting(text) {
        let message = format!("{what} here; Krepis does not analyse this file");
        let range = TextRange::new(offset, offset + 1);
        return ModuleFacts {
            syntax_errors: vec![SyntaxError { message, range }],
            ..ModuleFacts::default()
        };
    }
    let source_type = source_type_for(path).unwrap_or_else(SourceType::ts);
    let options = ParseOptions {
        parse_regular_expression: false,
        ..ParseOptions::default()
    };
    let ret = Parser::new(allocator, text, source_type)
        .with_options(options)
        .parse();
    let mut facts = ModuleFacts::default();
    for error in ret.diagnostics.errors() {
        let range = error
            .labels
            .iter()
            .next()
            .map(|l| TextRange::new(l.offset(), l.offset() + l.len()))
            .unwrap_or_default();
        facts.syntax_errors.push(SyntaxError {
            message: error.message.to_string(),
            range,
        });
    }
    if ret.panicked {
        if facts.syntax_errors.is_empty() {
            facts.syntax_errors.push(SyntaxError {
                message: "the file could not be parsed".into(),
                range: TextRange::default(),
            });
        }
        return facts;
    }
    // Most files have no suppression: look at comments only when the word is there at all.
    if memchr::memmem::find(text.as_bytes(), b"krepis-ignore").is_some() {
        for comment in &ret.program.comments {
            let block = !matches!(comment.kind, oxc_ast::ast::CommentKind::Line);
            if let Some(found) = crate::directives::parse(text, comment.span.into(), block) {
                facts.suppressions.push(found);
            }
        }
    }
    let mut collector = Collector::new(text, &mut facts);
    collector.visit_program(&ret.program);
    collector.finish(&ret.program);
    facts
}

/// Whether a program holds only ambient declarations (see [`ModuleFacts::ambient_only`]).
fn ambient_only(program: &Program<'_>) -> bool {
    // Some(true): `declare …`; Some(false): no code either way (types, imports); None: code.
    fn declaration(declaration: &Declaration<'_>) -> Option<bool> {
        let declared = match declaration {
            Declaration::VariableDeclaration(d) => d.declare,
            Declaration::FunctionDeclaration(f) => f.declare,
            Declaration::ClassDeclaration(c) => c.declare,
            Declaration::TSEnumDeclaration(e) => e.declare,
            Declaration::TSExternalModuleDeclaration(m) => m.declare,
            Declaration::TSNamespaceDeclaration(n) => n.declare,
            Declaration::TSGlobalDeclaration(g) => g.declare,
            Declaration::TSTypeAliasDeclaration(_)
            | Declaration::TSInterfaceDeclaration(_)
            | Declaration::TSImportEqualsDeclaration(_) => return Some(false),
        };
        declared.then_some(true)
    }
    let mut declared = false;
    for statement in &program.body {
        let kind = match statement {
            Statement::ImportDeclaration(_)
            | Statement::ExportAllDeclaration(_)
            | Statement::ExportFromDeclaration(_)
            | Statement::ExportNamedDeclaration(_)
            | Statement::TSNamespaceExportDeclaration(_)
            | Statement::EmptyStatement(_) => Some(false),
            Statement::ExportDeclaration(export) => declaration(&export.declaration),
            other => other.as_declaration().and_then(declaration),
        };
        match kind {
            Some(true) => declared = true,
            Some(false) => {}
            None => return false,
        }
    }
    declared
}

#[derive(Clone)]
struct Binding {
    name: Name,
    range: TextRange,
    kind: FunctionKind,
    container: Option<Name>,
}

struct Collector<'t> {
    text: &'t str,
    facts: &'t mut ModuleFacts,
    /// Names for function nodes, keyed by the node's span start, set by the parent before the walk.
    bindings: HashMap<u32, Binding>,
    /// Callbacks passed straight to a call, with the callee's name.
    inline_callbacks: HashMap<u32, Name>,
    function_stack: Vec<u32>,
    containers: Vec<Name>,
    /// Identifier references already recorded as part of a longer global use.
    consumed_refs: std::collections::HashSet<u32>,
    /// Function nodes (by span start) that are private class members.
    private_members: std::collections::HashSet<u32>,
    /// Object literals (by span start) passed straight to a call or `new`.
    argument_objects: std::collections::HashSet<u32>,
    /// For each object literal being walked: whether it is such an argument.
    object_stack: Vec<bool>,
}

impl<'t> Collector<'t> {
    fn new(text: &'t str, facts: &'t mut ModuleFacts) -> Self {
        Self {
            text,
            facts,
            bindings: HashMap::new(),
            inline_callbacks: HashMap::new(),
            function_stack: Vec::new(),
            containers: Vec::new(),
            consumed_refs: Default::default(),
            private_members: Default::default(),
            argument_objects: Default::default(),
            object_stack: Vec::new(),
        }
    }

    fn slice(&self, span: Span) -> &'t str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    fn watch(&mut self, path: String, span: Span, root_start: u32) {
        if self.consumed_refs.insert(root_start) {
            self.facts.global_uses.push(GlobalUse {
                path: path.into(),
                range: span.into(),
            });
        }
    }

    fn finish(&mut self, program: &Program<'_>) {
        self.facts.bound_names.sort();
        self.facts.bound_names.dedup();
        // A parameter or a local passed on is a value, not a function escaping: keep only names
        // that can be functions (declared here as one, or not bound here at all).
        let facts = &mut *self.facts;
        let bound: std::collections::HashSet<&str> = facts
            .functions
            .iter()
            .flat_map(|f| f.params.iter().filter_map(|p| p.name.as_deref()))
            .chain(facts.locals.iter().map(|l| l.name.as_str()))
            .collect();
        let functions: std::collections::HashSet<&str> =
            facts.functions.iter().map(|f| f.name.as_str()).collect();
        let mut uses = std::mem::take(&mut facts.value_uses);
        uses.retain(|n| functions.contains(n.as_str()) || !bound.contains(n.as_str()));
        uses.sort();
        uses.dedup();
        uses.shrink_to_fit();
        facts.value_uses = uses;
        self.facts.type_parameters.sort();
        self.facts.type_parameters.dedup();
        let mut first_import = None;
        for statement in &program.body {
            let names = &mut self.facts.top_level_names;
            match statement {
                Statement::ImportDeclaration(decl) => {
                    first_import.get_or_insert(decl.span.start);
                    for spec in decl.specifiers.iter().flatten() {
                        names.push(spec.local().name.as_str().into());
                    }
                }
                Statement::TSImportEqualsDeclaration(decl) => {
                    names.push(decl.id.name.as_str().into())
                }
                Statement::ExportDeclaration(export) => declared_names(&export.declaration, names),
                Statement::ExportDefaultDeclaration(export) => match &export.declaration {
                    ExportDefaultDeclarationKind::FunctionDeclaration(f) => {
                        names.extend(f.id.as_ref().map(|id| id.name.as_str().into()))
                    }
                    ExportDefaultDeclarationKind::ClassDeclaration(c) => {
                        names.extend(c.id.as_ref().map(|id| id.name.as_str().into()))
                    }
                    ExportDefaultDeclarationKind::TSInterfaceDeclaration(i) => {
                        names.push(i.id.name.as_str().into())
                    }
                    _ => {}
                },
                other => {
                    if let Some(declaration) = other.as_declaration() {
                        declared_names(declaration, names);
                    }
                }
            }
        }
        self.facts.ambient_only = ambient_only(program);
        let first_statement = program.body.first().map(|s| s.span().start);
        let offset = first_import.or(first_statement).unwrap_or(program.span.end);
        // Insert at the start of that line, so the new import keeps the file's indentation.
        let mut line_start = self.text[..offset as usize]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1) as u32;
        // A new line must not come between `// krepis-ignore-next-line` and the line it covers:
        // the new import goes above such comments.
        while let Some(above) = self.facts.suppressions.iter().find(|s| {
            s.kind == crate::directives::SuppressionKind::NextLine
                && s.scope.start == line_start
                && s.removal.end == line_start
        }) {
            line_start = above.removal.start;
        }
        self.facts.import_insert_offset = line_start;
    }

    fn add_import(
        &mut self,
        specifier: &StringLiteral<'_>,
        kind: ImportKind,
        type_only: bool,
        names: Vec<ImportedName>,
    ) -> u32 {
        self.facts.imports.push(ImportFact {
            specifier: specifier.value.as_str().into(),
            range: specifier.span.into(),
            kind,
            type_only,
            names,
        });
        (self.facts.imports.len() - 1) as u32
    }

    fn params(&self, params: &FormalParameters<'_>) -> Vec<ParamFact> {
        let mut out: Vec<ParamFact> = params
            .items
            .iter()
            .map(|p| ParamFact {
                name: binding_name(&p.pattern),
                type_name: p
                    .type_annotation
                    .as_ref()
                    .and_then(|t| type_name(&t.type_annotation)),
                type_text: p
                    .type_annotation
                    .as_ref()
                    .map(|t| self.slice(t.type_annotation.span()).trim().into()),
                range: p.span.into(),
                text: self.slice(p.span).into(),
                is_rest: false,
            })
            .collect();
        if let Some(rest) = &params.rest {
            out.push(ParamFact {
                name: binding_name(&rest.rest.argument),
                type_name: None,
                type_text: None,
                range: rest.span.into(),
                text: self.slice(rest.span).into(),
                is_rest: true,
            });
        }
        out
    }

    fn return_type(&self, annotation: Option<&TSTypeAnnotation<'_>>) -> Option<Name> {
        annotation.map(|t| self.slice(t.type_annotation.span()).trim().into())
    }

    /// Records a function and returns its index; the caller walks the body and pops.
    #[allow(clippy::too_many_arguments)]
    fn push_function(
        &mut self,
        span: Span,
        fallback_name_range: TextRange,
        is_async: bool,
        params: &FormalParameters<'_>,
        return_type: Option<&TSTypeAnnotation<'_>>,
        has_body: bool,
        own_name: Option<(&str, Span)>,
        default_kind: FunctionKind,
    ) -> u32 {
        let binding = self.bindings.remove(&span.start).or_else(|| {
            if let Some(callee) = self.inline_callbacks.remove(&span.start) {
                return Some(Binding {
                    name: callee,
                    range: fallback_name_range,
                    kind: FunctionKind::InlineCallback,
                    container: None,
                });
            }
            own_name.map(|(name, range)| Binding {
                name: name.into(),
                range: range.into(),
                kind: default_kind,
                container: None,
            })
        });
        let binding = binding.unwrap_or(Binding {
            name: "<anonymous>".into(),
            range: fallback_name_range,
            kind: FunctionKind::Anonymous,
            container: None,
        });
        let parenthesized = self.text.as_bytes().get(params.span.start as usize) == Some(&b'(');
        let fact = FunctionFact {
            name: binding.name,
            name_range: binding.range,
            kind: binding.kind,
            is_async,
            return_type: self.return_type(return_type),
            params: self.params(params),
            params_range: params.span.into(),
            params_parenthesized: parenthesized,
            range: span.into(),
            container: binding.container,
            parent: self.function_stack.last().copied(),
            returns_value: false,
            has_body,
            is_private: self.private_members.remove(&span.start),
        };
        self.facts.functions.push(fact);
        (self.facts.functions.len() - 1) as u32
    }

    fn bind(&mut self, value: &Expression<'_>, binding: Binding) {
        match value.get_inner_expression() {
            Expression::ArrowFunctionExpression(arrow) => {
                self.bindings.insert(arrow.span.start, binding);
            }
            Expression::FunctionExpression(function) => {
                self.bindings.insert(function.span.start, binding);
            }
            _ => {}
        }
    }

    /// What a declaration's initializer says of its value (`None`: nothing usable).
    fn value_fact(&self, expr: &Expression<'_>) -> Option<ValueFact> {
        match expr {
            Expression::ParenthesizedExpression(e) => self.value_fact(&e.expression),
            Expression::TSNonNullExpression(e) => self.value_fact(&e.expression),
            Expression::TSAsExpression(e) => Some(ValueFact::Type(
                self.slice(e.type_annotation.span()).trim().into(),
            )),
            Expression::TSSatisfiesExpression(e) => self.value_fact(&e.expression),
            Expression::TSTypeAssertion(e) => Some(ValueFact::Type(
                self.slice(e.type_annotation.span()).trim().into(),
            )),
            Expression::AwaitExpression(e) => {
                Some(ValueFact::Await(Box::new(self.value_fact(&e.argument)?)))
            }
            Expression::NewExpression(e) => self.constructed(e).map(ValueFact::New),
            Expression::CallExpression(e) => dotted_path(&e.callee).map(ValueFact::Call),
            Expression::Identifier(_)
            | Expression::ThisExpression(_)
            | Expression::StaticMemberExpression(_) => dotted_path(expr).map(ValueFact::Path),
            _ => None,
        }
    }

    /// The type `new C<A>(…)` makes, as written: `C<A>`.
    fn constructed(&self, new: &NewExpression<'_>) -> Option<Name> {
        dotted_path(&new.callee)?;
        let start = new.callee.span().start;
        let end = new
            .type_arguments
            .as_ref()
            .map_or(new.callee.span().end, |t| t.span.end);
        Some(self.slice(Span::new(start, end)).into())
    }

    /// Records `expr` when it names a function or method as a value rather than calling it.
    fn value_use(&mut self, expr: &Expression<'_>) {
        match expr.get_inner_expression() {
            Expression::Identifier(id) => self.facts.value_uses.push(id.name.as_str().into()),
            Expression::StaticMemberExpression(m) => {
                self.facts.value_uses.push(m.property.name.as_str().into())
            }
            _ => {}
        }
    }

    fn add_local(&mut self, name: Name, value: Option<ValueFact>) {
        // A local whose value says nothing of its type matters only when it is named like a
        // context parameter (the fix must not add a clashing one): keep the facts small.
        if value.is_none() && !name.contains("ctx") && !name.contains("ontext") {
            return;
        }
        self.facts.locals.push(LocalFact {
            name,
            function: self.function_stack.last().copied(),
            value: value.unwrap_or(ValueFact::Other),
        });
    }

    fn keyword_range(&self, span: Span) -> TextRange {
        // Underline the leading keyword(s) of an anonymous function: `async`, `function` or `(`.
        let text = self.slice(span);
        let len = text
            .find(['(', ' ', '<'])
            .filter(|&l| l > 0)
            .unwrap_or(text.len().min(1));
        TextRange::new(span.start, span.start + len as u32)
    }
}

fn declared_names(declaration: &Declaration<'_>, names: &mut Vec<Name>) {
    match declaration {
        Declaration::VariableDeclaration(decl) => {
            for d in &decl.declarations {
                names.extend(binding_name(&d.id));
            }
        }
        Declaration::FunctionDeclaration(f) => {
            names.extend(f.id.as_ref().map(|id| id.name.as_str().into()))
        }
        Declaration::ClassDeclaration(c) => {
            names.extend(c.id.as_ref().map(|id| id.name.as_str().into()))
        }
        Declaration::TSTypeAliasDeclaration(t) => names.push(t.id.name.as_str().into()),
        Declaration::TSInterfaceDeclaration(i) => names.push(i.id.name.as_str().into()),
        Declaration::TSEnumDeclaration(e) => names.push(e.id.name.as_str().into()),
        _ => {}
    }
}

fn binding_name(pattern: &BindingPattern<'_>) -> Option<Name> {
    match pattern {
        BindingPattern::BindingIdentifier(id) => Some(id.name.as_str().into()),
        BindingPattern::AssignmentPattern(assign) => binding_name(&assign.left),
        _ => None,
    }
}

fn type_name(ty: &TSType<'_>) -> Option<Name> {
    fn name_of(name: &TSTypeName<'_>) -> Option<Name> {
        match name {
            TSTypeName::IdentifierReference(id) => Some(id.name.as_str().into()),
            TSTypeName::QualifiedName(q) => Some(compact_str::format_compact!(
                "{}.{}",
                name_of(&q.left)?,
                q.right.name
            )),
            TSTypeName::ThisExpression(_) => None,
        }
    }
    match ty {
        TSType::TSTypeReference(reference) => name_of(&reference.type_name),
        _ => None,
    }
}

fn property_key_name(key: &PropertyKey<'_>) -> Option<Name> {
    match key {
        PropertyKey::StaticIdentifier(id) => Some(id.name.as_str().into()),
        PropertyKey::PrivateIdentifier(id) => Some(compact_str::format_compact!("#{}", id.name)),
        PropertyKey::StringLiteral(s) => Some(s.value.as_str().into()),
        _ => None,
    }
}

fn module_export_name(name: &ModuleExportName<'_>) -> Name {
    match name {
        ModuleExportName::IdentifierName(id) => id.name.as_str().into(),
        ModuleExportName::IdentifierReference(id) => id.name.as_str().into(),
        ModuleExportName::StringLiteral(s) => s.value.as_str().into(),
    }
}

/// `a`, `this`, `a.b.c` → the dotted path; anything else → `None`.
fn dotted_path(expr: &Expression<'_>) -> Option<Name> {
    match expr.get_inner_expression() {
        Expression::Identifier(id) => Some(id.name.as_str().into()),
        Expression::ThisExpression(_) => Some("this".into()),
        Expression::Super(_) => Some("super".into()),
        Expression::StaticMemberExpression(member) => Some(compact_str::format_compact!(
            "{}.{}",
            dotted_path(&member.object)?,
            member.property.name
        )),
        _ => None,
    }
}

/// The receiver of a method call as a path the type model reads: a dotted path, `new C`
/// (`new C().m()`) or `await path` (`(await x).m()`).
fn receiver_path(expr: &Expression<'_>) -> Option<Name> {
    match expr.get_inner_expression() {
        Expression::NewExpression(new) => Some(compact_str::format_compact!(
            "new {}",
            dotted_path(&new.callee)?
        )),
        Expression::AwaitExpression(a) => Some(compact_str::format_compact!(
            "await {}",
            dotted_path(&a.argument)?
        )),
        other => dotted_path(other),
    }
}

/// The identifier an expression chain starts from: `ctx` in `ctx.child("x").with(y)`.
fn root_identifier<'a>(expr: &'a Expression<'a>) -> Option<&'a str> {
    match expr.get_inner_expression() {
        Expression::Identifier(id) => Some(id.name.as_str()),
        Expression::StaticMemberExpression(m) => root_identifier(&m.object),
        Expression::ComputedMemberExpression(m) => root_identifier(&m.object),
        Expression::CallExpression(c) => match c.callee.get_inner_expression() {
            Expression::StaticMemberExpression(m) => root_identifier(&m.object),
            _ => None,
        },
        Expression::ChainExpression(chain) => match &chain.expression {
            ChainElement::StaticMemberExpression(m) => root_identifier(&m.object),
            ChainElement::CallExpression(c) => match c.callee.get_inner_expression() {
                Expression::StaticMemberExpression(m) => root_identifier(&m.object),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn summarize_argument(expr: &Expression<'_>) -> ArgumentFact {
    let mut outer = expr;
    while let Expression::ParenthesizedExpression(p) = outer {
        outer = &p.expression;
    }
    let cast = match outer {
        Expression::TSAsExpression(e) => Some(&e.type_annotation),
        Expression::TSSatisfiesExpression(e) => Some(&e.type_annotation),
        Expression::TSTypeAssertion(e) => Some(&e.type_annotation),
        _ => None,
    };
    if let Some(type_name) = cast.and_then(type_name) {
        return ArgumentFact::Cast { type_name };
    }
    let inner = expr.get_inner_expression();
    match inner {
        Expression::Identifier(id) => ArgumentFact::Identifier(id.name.as_str().into()),
        Expression::ObjectExpression(_) => ArgumentFact::ObjectLiteral,
        Expression::CallExpression(call) => {
            if let Expression::Identifier(id) = call.callee.get_inner_expression() {
                return ArgumentFact::Call {
                    callee: id.name.as_str().into(),
                };
            }
            root_identifier(inner).map_or(ArgumentFact::Other, |r| ArgumentFact::Derived {
                root: r.into(),
            })
        }
        _ => root_identifier(inner).map_or(ArgumentFact::Other, |r| ArgumentFact::Derived {
            root: r.into(),
        }),
    }
}

impl<'a> Visit<'a> for Collector<'_> {
    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let type_only = it.import_kind.is_type();
        let names = it
            .specifiers
            .iter()
            .flatten()
            .map(|spec| match spec {
                ImportDeclarationSpecifier::ImportSpecifier(s) => ImportedName {
                    imported: module_export_name(&s.imported),
                    local: s.local.name.as_str().into(),
                    range: s.span.into(),
                    type_only: type_only || s.import_kind.is_type(),
                },
                ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => ImportedName {
                    imported: "default".into(),
                    local: s.local.name.as_str().into(),
                    range: s.span.into(),
                    type_only,
                },
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => ImportedName {
                    imported: "*".into(),
                    local: s.local.name.as_str().into(),
                    range: s.span.into(),
                    type_only,
                },
            })
            .collect();
        self.add_import(&it.source, ImportKind::Static, type_only, names);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        let type_only = it.export_kind.is_type();
        let names: Vec<ImportedName> = it
            .specifiers
            .iter()
            .map(|s| ImportedName {
                imported: module_export_name(&s.local),
                local: module_export_name(&s.exported),
                range: s.span.into(),
                type_only: type_only || s.export_kind.is_type(),
            })
            .collect();
        let index = self.add_import(&it.source, ImportKind::ReExport, type_only, names.clone());
        for name in names {
            self.facts.exports.push(ExportFact {
                exported: name.local,
                local: name.imported,
                from_import: Some(index),
            });
        }
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        let exported = it.exported.as_ref().map(module_export_name);
        let names = exported
            .iter()
            .map(|e| ImportedName {
                imported: "*".into(),
                local: e.clone(),
                range: it.span.into(),
                type_only: it.export_kind.is_type(),
            })
            .collect();
        let index = self.add_import(
            &it.source,
            ImportKind::ReExport,
            it.export_kind.is_type(),
            names,
        );
        self.facts.exports.push(ExportFact {
            exported: exported.unwrap_or_else(|| "*".into()),
            local: "*".into(),
            from_import: Some(index),
        });
    }

    fn visit_export_named_declaration(&mut self, it: &ExportNamedDeclaration<'a>) {
        for s in &it.specifiers {
            self.facts.exports.push(ExportFact {
                exported: module_export_name(&s.exported),
                local: module_export_name(&s.local),
                from_import: None,
            });
        }
        walk::walk_export_named_declaration(self, it);
    }

    fn visit_export_declaration(&mut self, it: &ExportDeclaration<'a>) {
        let mut names = Vec::new();
        declared_names(&it.declaration, &mut names);
        for name in names {
            self.facts.exports.push(ExportFact {
                exported: name.clone(),
                local: name,
                from_import: None,
            });
        }
        walk::walk_export_declaration(self, it);
    }

    fn visit_export_default_declaration(&mut self, it: &ExportDefaultDeclaration<'a>) {
        if let Some(expr) = it.declaration.as_expression() {
            self.value_use(expr);
        }
        let keyword = TextRange::new(it.span.start, (it.span.start + 14).min(it.span.end));
        let binding = Binding {
            name: "default".into(),
            range: keyword,
            kind: FunctionKind::DefaultExport,
            container: None,
        };
        let local = match &it.declaration {
            ExportDefaultDeclarationKind::FunctionDeclaration(f) => match &f.id {
                Some(id) => id.name.as_str().into(),
                None => {
                    self.bindings.insert(f.span.start, binding);
                    "default".into()
                }
            },
            ExportDefaultDeclarationKind::ClassDeclaration(c) => {
                c.id.as_ref()
                    .map_or_else(|| "default".into(), |id| id.name.as_str().into())
            }
            ExportDefaultDeclarationKind::TSInterfaceDeclaration(i) => i.id.name.as_str().into(),
            other => match other.as_expression() {
                Some(Expression::Identifier(id)) => id.name.as_str().into(),
                Some(expr) => {
                    self.bind(expr, binding);
                    "default".into()
                }
                None => "default".into(),
            },
        };
        self.facts.exports.push(ExportFact {
            exported: "default".into(),
            local,
            from_import: None,
        });
        walk::walk_export_default_declaration(self, it);
    }

    fn visit_ts_import_equals_declaration(&mut self, it: &TSImportEqualsDeclaration<'a>) {
        if let TSModuleReference::ExternalModuleReference(ext) = &it.module_reference {
            let names = vec![ImportedName {
                imported: "*".into(),
                local: it.id.name.as_str().into(),
                range: it.id.span.into(),
                type_only: it.import_kind.is_type(),
            }];
            self.add_import(
                &ext.expression,
                ImportKind::ImportEquals,
                it.import_kind.is_type(),
                names,
            );
        }
        walk::walk_ts_import_equals_declaration(self, it);
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        if let Expression::StringLiteral(source) = &it.source {
            self.add_import(source, ImportKind::Dynamic, false, Vec::new());
        } else if let Expression::TemplateLiteral(t) = &it.source
            && t.expressions.is_empty()
            && let Some(quasi) = t.quasis.first()
        {
            let specifier = quasi
                .value
                .cooked
                .as_ref()
                .map_or_else(|| quasi.value.raw.as_str().into(), |c| c.as_str().into());
            self.facts.imports.push(ImportFact {
                specifier,
                range: t.span.into(),
                kind: ImportKind::Dynamic,
                type_only: false,
                names: Vec::new(),
            });
        }
        walk::walk_import_expression(self, it);
    }

    fn visit_ts_import_type(&mut self, it: &TSImportType<'a>) {
        // `import("./x.js").Outer.Inner<T>`: the first name of the qualifier is what the module
        // exports; a bare `import("./x")` (a `typeof import(…)`) is the whole module.
        let mut qualifier = it.qualifier.as_ref();
        while let Some(TSImportTypeQualifier::QualifiedName(q)) = qualifier {
            qualifier = Some(&q.left);
        }
        let (imported, range) = match qualifier {
            Some(TSImportTypeQualifier::Identifier(id)) => (id.name.as_str().into(), id.span),
            _ => ("*".into(), it.span),
        };
        let names = vec![ImportedName {
            local: "".into(),
            imported,
            range: range.into(),
            type_only: true,
        }];
        self.add_import(&it.source, ImportKind::ImportType, true, names);
        walk::walk_ts_import_type(self, it);
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        let callee_inner = it.callee.get_inner_expression();
        if let Expression::Identifier(id) = callee_inner
            && id.name == "require"
            && it.arguments.len() == 1
            && let Some(Expression::StringLiteral(source)) = it.arguments[0].as_expression()
        {
            // Reported as an import; the bare `require` global is not a second finding.
            self.consumed_refs.insert(id.span.start);
            self.add_import(source, ImportKind::Require, false, Vec::new());
        }
        let (callee, name_range) = match callee_inner {
            Expression::Identifier(id) => (Callee::Name(id.name.as_str().into()), id.span.into()),
            Expression::StaticMemberExpression(member) => match receiver_path(&member.object) {
                Some(object) => (
                    Callee::Member {
                        object,
                        property: member.property.name.as_str().into(),
                    },
                    member.property.span.into(),
                ),
                None => (Callee::Other, member.property.span.into()),
            },
            other => (Callee::Other, other.span().into()),
        };
        let after_callee = it
            .type_arguments
            .as_ref()
            .map_or(it.callee.span().end, |t| t.span.end);
        let args_start = self.text[after_callee as usize..it.span.end as usize]
            .find('(')
            .map_or(after_callee, |i| after_callee + i as u32 + 1);
        let first_argument = it.arguments.first().map(|arg| {
            let summary = arg
                .as_expression()
                .map_or(ArgumentFact::Other, summarize_argument);
            (summary, TextRange::from(arg.span()))
        });
        // `this.onMessage.bind(this)`: the method escapes as a value.
        if let Callee::Member { object, property } = &callee
            && matches!(property.as_str(), "bind" | "call" | "apply")
            && let Some((_, method)) = object.rsplit_once('.')
        {
            self.facts.value_uses.push(method.into());
        }
        for arg in &it.arguments {
            match arg.as_expression().map(|e| e.get_inner_expression()) {
                Some(Expression::Identifier(id)) => {
                    self.facts.value_uses.push(id.name.as_str().into())
                }
                Some(Expression::StaticMemberExpression(m)) => {
                    self.facts.value_uses.push(m.property.name.as_str().into())
                }
                _ => {}
            }
        }
        let callee_for_fact = callee.clone();
        self.facts.calls.push(CallFact {
            callee: callee_for_fact,
            name_range,
            args_start,
            first_argument,
            argument_count: it.arguments.len() as u32,
            enclosing_function: self.function_stack.last().copied(),
        });
        let callee_name = match &callee {
            Callee::Name(name) => name.clone(),
            Callee::Member { property, .. } => property.clone(),
            Callee::Other => "a call".into(),
        };
        for arg in &it.arguments {
            match arg.as_expression().map(|e| e.get_inner_expression()) {
                Some(Expression::ObjectExpression(o)) => {
                    self.argument_objects.insert(o.span.start);
                }
                Some(Expression::ArrowFunctionExpression(f)) => {
                    self.inline_callbacks
                        .insert(f.span.start, callee_name.clone());
                }
                Some(Expression::FunctionExpression(f)) => {
                    self.inline_callbacks
                        .insert(f.span.start, callee_name.clone());
                }
                _ => {}
            }
        }
        walk::walk_call_expression(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let Some(init) = &it.init {
            self.value_use(init);
        }
        if let BindingPattern::BindingIdentifier(id) = &it.id {
            let value = match (&it.type_annotation, &it.init) {
                (Some(annotation), _) => Some(ValueFact::Type(
                    self.slice(annotation.type_annotation.span()).trim().into(),
                )),
                (None, Some(init)) => self.value_fact(init),
                (None, None) => None,
            };
            self.add_local(id.name.as_str().into(), value);
        }
        if let (BindingPattern::BindingIdentifier(id), Some(init)) = (&it.id, &it.init) {
            let binding = Binding {
                name: id.name.as_str().into(),
                range: id.span.into(),
                kind: FunctionKind::Variable,
                container: None,
            };
            self.bind(init, binding);
        }
        walk::walk_variable_declarator(self, it);
    }

    fn visit_for_of_statement(&mut self, it: &ForOfStatement<'a>) {
        if let ForStatementLeft::VariableDeclaration(declaration) = &it.left
            && let [declarator] = declaration.declarations.as_slice()
            && let BindingPattern::BindingIdentifier(id) = &declarator.id
        {
            let value = self
                .value_fact(&it.right)
                .map(|v| ValueFact::Element(Box::new(v)));
            self.add_local(id.name.as_str().into(), value);
        }
        walk::walk_for_of_statement(self, it);
    }

    fn visit_class(&mut self, it: &Class<'a>) {
        let name: Name = it
            .id
            .as_ref()
            .map_or_else(|| "<class>".into(), |id| id.name.as_str().into());
        let extends = it
            .heritage
            .as_ref()
            .map(|h| {
                let arguments = h.type_arguments.as_ref().map_or("", |t| self.slice(t.span));
                compact_str::format_compact!("{}{arguments}", self.slice(h.expression.span()))
            })
            .into_iter()
            .collect();
        let implements = it
            .implements
            .iter()
            .map(|i| self.slice(i.span).trim().into())
            .collect();
        self.facts.types.push(TypeDeclFact {
            name: name.clone(),
            is_class: true,
            extends,
            implements,
        });
        self.containers.push(name);
        walk::walk_class(self, it);
        self.containers.pop();
    }

    fn visit_ts_interface_declaration(&mut self, it: &TSInterfaceDeclaration<'a>) {
        self.facts.types.push(TypeDeclFact {
            name: it.id.name.as_str().into(),
            is_class: false,
            extends: it
                .extends
                .iter()
                .map(|h| self.slice(h.span).trim().into())
                .collect(),
            implements: Vec::new(),
        });
        self.facts.interfaces.push(InterfaceFact {
            name: it.id.name.as_str().into(),
            name_range: it.id.span.into(),
            range: it.span.into(),
        });
        self.containers.push(it.id.name.as_str().into());
        walk::walk_ts_interface_declaration(self, it);
        self.containers.pop();
    }

    fn visit_ts_type_alias_declaration(&mut self, it: &TSTypeAliasDeclaration<'a>) {
        self.facts.type_aliases.push(it.id.name.as_str().into());
        self.containers.push(it.id.name.as_str().into());
        walk::walk_ts_type_alias_declaration(self, it);
        self.containers.pop();
    }

    fn visit_method_definition(&mut self, it: &MethodDefinition<'a>) {
        if it.accessibility == Some(TSAccessibility::Private)
            || matches!(it.key, PropertyKey::PrivateIdentifier(_))
        {
            self.private_members.insert(it.value.span.start);
        }
        if it.kind == MethodDefinitionKind::Method
            && let Some(name) = property_key_name(&it.key)
        {
            self.bindings.insert(
                it.value.span.start,
                Binding {
                    name,
                    range: it.key.span().into(),
                    kind: FunctionKind::Method,
                    container: self.containers.last().cloned(),
                },
            );
        }
        walk::walk_method_definition(self, it);
    }

    fn visit_property_definition(&mut self, it: &PropertyDefinition<'a>) {
        let type_text: Option<Name> = match (&it.type_annotation, &it.value) {
            (Some(annotation), _) => {
                Some(self.slice(annotation.type_annotation.span()).trim().into())
            }
            (None, Some(Expression::NewExpression(new))) => self.constructed(new),
            _ => None,
        };
        if let (Some(name), Some(type_text), Some(class)) = (
            property_key_name(&it.key),
            type_text,
            self.containers.last(),
        ) {
            self.facts.fields.push(FieldFact {
                class: class.clone(),
                name: name.clone(),
                type_text,
            });
        }
        if let (Some(value), Some(name)) = (&it.value, property_key_name(&it.key)) {
            let binding = Binding {
                name,
                range: it.key.span().into(),
                kind: FunctionKind::ClassField,
                container: self.containers.last().cloned(),
            };
            self.bind(value, binding);
        }
        walk::walk_property_definition(self, it);
    }

    fn visit_object_expression(&mut self, it: &ObjectExpression<'a>) {
        let is_argument = self.argument_objects.remove(&it.span.start);
        self.object_stack.push(is_argument);
        walk::walk_object_expression(self, it);
        self.object_stack.pop();
    }

    fn visit_object_property(&mut self, it: &ObjectProperty<'a>) {
        // `{ run: runner }`, `{ runner }`: the function escapes as a value.
        self.value_use(&it.value);
        if let Some(name) = property_key_name(&it.key) {
            // `new Readable({ async read() {} })`: the library calls it, with its own arguments.
            let kind = if self.object_stack.last() == Some(&true) {
                FunctionKind::InlineCallback
            } else {
                FunctionKind::ObjectMember
            };
            let binding = Binding {
                name,
                range: it.key.span().into(),
                kind,
                container: None,
            };
            self.bind(&it.value, binding);
        }
        walk::walk_object_property(self, it);
    }

    fn visit_ts_method_signature(&mut self, it: &TSMethodSignature<'a>) {
        if it.kind == TSMethodSignatureKind::Method
            && let Some(name) = property_key_name(&it.key)
        {
            self.bindings.insert(
                it.span.start,
                Binding {
                    name,
                    range: it.key.span().into(),
                    kind: FunctionKind::Signature,
                    container: self.containers.last().cloned(),
                },
            );
            let range = TextRange::from(it.key.span());
            self.push_function(
                it.span,
                range,
                false,
                &it.params,
                it.return_type.as_deref(),
                false,
                None,
                FunctionKind::Signature,
            );
        }
        walk::walk_ts_method_signature(self, it);
    }

    fn visit_ts_property_signature(&mut self, it: &TSPropertySignature<'a>) {
        if let (Some(name), Some(annotation)) = (property_key_name(&it.key), &it.type_annotation)
            && let TSType::TSFunctionType(function) = &annotation.type_annotation
        {
            self.bindings.insert(
                function.span.start,
                Binding {
                    name,
                    range: it.key.span().into(),
                    kind: FunctionKind::Signature,
                    container: self.containers.last().cloned(),
                },
            );
            let range = TextRange::from(it.key.span());
            self.push_function(
                function.span,
                range,
                false,
                &function.params,
                Some(&function.return_type),
                false,
                None,
                FunctionKind::Signature,
            );
        }
        walk::walk_ts_property_signature(self, it);
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: ScopeFlags) {
        let fallback = self.keyword_range(it.span);
        let own_name = it.id.as_ref().map(|id| (id.name.as_str(), id.span));
        let default_kind = match it.r#type {
            FunctionType::FunctionDeclaration | FunctionType::TSDeclareFunction => {
                FunctionKind::Declaration
            }
            _ => FunctionKind::Anonymous,
        };
        let index = self.push_function(
            it.span,
            fallback,
            it.r#async,
            &it.params,
            it.return_type.as_deref(),
            it.body.is_some(),
            own_name,
            default_kind,
        );
        self.function_stack.push(index);
        walk::walk_function(self, it, flags);
        self.function_stack.pop();
    }

    fn visit_arrow_function_expression(&mut self, it: &ArrowFunctionExpression<'a>) {
        let fallback = self.keyword_range(it.span);
        let index = self.push_function(
            it.span,
            fallback,
            it.r#async,
            &it.params,
            it.return_type.as_deref(),
            true,
            None,
            FunctionKind::Anonymous,
        );
        if it.is_expression() {
            self.facts.functions[index as usize].returns_value = true;
        }
        self.function_stack.push(index);
        walk::walk_arrow_function_expression(self, it);
        self.function_stack.pop();
    }

    fn visit_ts_type_parameter(&mut self, it: &TSTypeParameter<'a>) {
        self.facts
            .type_parameters
            .push(it.name.name.as_str().into());
        walk::walk_ts_type_parameter(self, it);
    }

    fn visit_ts_type_reference(&mut self, it: &TSTypeReference<'a>) {
        // A type named `Date` or `WebSocket` is not a use of the global; only its arguments
        // can hold function types worth recording.
        if let Some(arguments) = &it.type_arguments {
            self.visit_ts_type_parameter_instantiation(arguments);
        }
    }

    fn visit_binding_identifier(&mut self, it: &BindingIdentifier<'a>) {
        if it.name == "await" {
            self.facts.await_as_name = true;
        }
        if WATCHED_GLOBALS.contains(&it.name.as_str()) {
            self.facts.bound_names.push(it.name.as_str().into());
        }
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        for arg in &it.arguments {
            if let Some(Expression::ObjectExpression(o)) =
                arg.as_expression().map(|e| e.get_inner_expression())
            {
                self.argument_objects.insert(o.span.start);
            }
        }
        if let Expression::Identifier(id) = it.callee.get_inner_expression()
            && id.name == "Date"
            && it.arguments.is_empty()
        {
            self.watch("new Date()".into(), it.span, id.span.start);
        }
        walk::walk_new_expression(self, it);
    }

    fn visit_static_member_expression(&mut self, it: &StaticMemberExpression<'a>) {
        if let Expression::Identifier(id) = it.object.get_inner_expression()
            && WATCHED_GLOBALS.contains(&id.name.as_str())
        {
            self.watch(
                format!("{}.{}", id.name, it.property.name),
                it.span,
                id.span.start,
            );
        }
        walk::walk_static_member_expression(self, it);
    }

    fn visit_identifier_reference(&mut self, it: &IdentifierReference<'a>) {
        if it.name == "await" {
            self.facts.await_as_name = true;
        }
        if WATCHED_GLOBALS.contains(&it.name.as_str()) {
            self.watch(it.name.as_str().into(), it.span, it.span.start);
        }
    }

    fn visit_formal_parameter(&mut self, it: &FormalParameter<'a>) {
        // `constructor(private readonly store: OrderStore)` declares a typed field.
        if (it.accessibility.is_some() || it.readonly)
            && let (Some(name), Some(annotation)) =
                (binding_name(&it.pattern), it.type_annotation.as_ref())
            && let Some(class) = self.containers.last()
        {
            let type_text = self.slice(annotation.type_annotation.span()).trim().into();
            self.facts.fields.push(FieldFact {
                class: class.clone(),
                name,
                type_text,
            });
        }
        walk::walk_formal_parameter(self, it);
    }

    fn visit_array_expression(&mut self, it: &ArrayExpression<'a>) {
        for element in &it.elements {
            if let Some(expr) = element.as_expression() {
                self.value_use(expr);
            }
        }
        walk::walk_array_expression(self, it);
    }

    fn visit_return_statement(&mut self, it: &ReturnStatement<'a>) {
        if let Some(argument) = &it.argument {
            self.value_use(argument);
        }
        if it.argument.is_some()
            && let Some(&current) = self.function_stack.last()
        {
            self.facts.functions[current as usize].returns_value = true;
        }
        walk::walk_return_statement(self, it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> ModuleFacts {
        extract(Path::new("a.ts"), text)
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
        // over a minute before this limit.
        let exponential = format!("({}\n", "a<T<c[{[".repeat(16));
        let f = facts(&exponential);
        assert_eq!(f.syntax_errors.len(), 1);
        assert!(
            f.syntax_errors[0]
                .message
                .starts_with("unclosed `<` (type arguments) nest more than 24 levels deep"),
            "{}",
            f.syntax_errors[0].message
        );
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
