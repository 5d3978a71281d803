//! The one walk over the oxc AST that turns a module's text into its [`ModuleFacts`], with
//! the guards that keep the parser away from what it cannot take (nesting deep enough to
//! overflow its stack).

use std::path::Path;

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_ast_visit::Visit;
use oxc_parser::{ParseOptions, Parser};
use oxc_span::SourceType;

use super::collector::Collector;
use super::*;
use crate::diagnostic::TextRange;

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

/// How many `<` after an operand may be open (not closed by `>`) at once, across enclosing
/// brackets, before a file is not parsed: the parser tries each as type arguments and backtracks,
/// so each costs it a pass over what follows. The real code measured stays at or below 7.
pub const MAX_OPEN_TYPE_ARGUMENTS: u32 = 24;

/// How many ways the parser may have to read the open `<` before a file is not parsed: the product,
/// over the enclosing brackets, of one more than the open `<` each holds. Each bracket's `<` nest in
/// the outer ones' attempts, so with an object type's computed key or a parameter list between them
/// the work multiplies (`x<({[` twelve deep took a third of a second, sixteen deep forty seconds;
/// nine deep, 512 ways, takes milliseconds). The real code measured stays at or below 36.
pub const MAX_TYPE_ARGUMENT_WAYS: u64 = 512;

/// The open `<` that may be type arguments, per open bracket (the first for the top level).
struct OpenAngles {
    per_level: Vec<u32>,
    open: u32,
    /// The product of one more than each level's count: at most twice the limit, as each `<`
    /// at most doubles it and is refused once past the limit.
    ways: u64,
}

impl OpenAngles {
    fn new() -> Self {
        OpenAngles {
            per_level: vec![0],
            open: 0,
            ways: 1,
        }
    }

    fn enter(&mut self) {
        self.per_level.push(0);
    }

    /// A bracket closes, and with it every `<` left open inside it.
    fn leave(&mut self) {
        if self.per_level.len() > 1 {
            let closed = self.per_level.pop().unwrap_or(0);
            self.open -= closed;
            self.ways /= u64::from(closed) + 1;
        }
    }

    /// A statement ends: its `<` were comparisons.
    fn end_statement(&mut self) {
        if let Some(current) = self.per_level.last_mut() {
            let closed = std::mem::take(current);
            self.open -= closed;
            self.ways /= u64::from(closed) + 1;
        }
    }

    /// A `<` opens; says which limit it passes, if any.
    fn open(&mut self) -> Option<String> {
        let current = self.per_level.last_mut()?;
        self.ways = self.ways / (u64::from(*current) + 1) * (u64::from(*current) + 2);
        *current += 1;
        self.open += 1;
        if self.open > MAX_OPEN_TYPE_ARGUMENTS {
            Some(format!(
                "unclosed `<` (type arguments) nest more than {MAX_OPEN_TYPE_ARGUMENTS} levels deep"
            ))
        } else if self.ways > MAX_TYPE_ARGUMENT_WAYS {
            Some(format!(
                "unclosed `<` (type arguments) in nested brackets could be read more than \
                 {MAX_TYPE_ARGUMENT_WAYS} ways"
            ))
        } else {
            None
        }
    }

    fn close(&mut self) {
        if let Some(current) = self.per_level.last_mut()
            && *current > 0
        {
            self.ways = self.ways / (u64::from(*current) + 1) * u64::from(*current);
            *current -= 1;
            self.open -= 1;
        }
    }
}

/// Whether a `<` after `prev` (the last byte the parser sees before it) may open type arguments:
/// `prev` ends an operand (a name, a literal, a closing bracket, or bytes the lexer rejects, which
/// the parser recovers from as a name). After an operator or an opening bracket it cannot.
fn after_operand(prev: u8) -> bool {
    prev.is_ascii_alphanumeric()
        || prev >= 0x80
        || matches!(
            prev,
            b'_' | b'$'
                | b'\\'
                | b')'
                | b']'
                | b'}'
                | b'"'
                | b'\''
                | b'`'
                | b'/'
                | b'!'
                | b'#'
                | b'@'
        )
}

/// The bytes [`excessive_nesting`] looks at outside templates; it steps over every other.
const NESTING_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let interesting = b"\"'/`([{)]};,=<>";
    let mut k = 0;
    while k < interesting.len() {
        table[interesting[k] as usize] = true;
        k += 1;
    }
    table
};

/// What the nesting scan carries from byte to byte.
struct Nesting {
    /// Open brackets, with `b'$'` for a template substitution and `b'`'` for a template literal.
    stack: Vec<u8>,
    arrows: u32,
    /// `<` after an operand not yet closed by `>` (in TypeScript only).
    angles: OpenAngles,
    typescript: bool,
    /// The last byte the parser sees: whitespace and comments are not seen, a string is a `"`.
    prev: u8,
}

/// Where a scan passed a limit, with what nests.
type TooDeep = (u32, String);

/// `what` nests past [`MAX_NESTING`] at byte `i`.
#[cold]
fn too_deep(i: usize, what: &str) -> TooDeep {
    (
        i as u32,
        format!("{what} nest more than {MAX_NESTING} levels deep"),
    )
}

impl Nesting {
    fn new(typescript: bool) -> Self {
        Nesting {
            stack: Vec::new(),
            arrows: 0,
            angles: OpenAngles::new(),
            typescript,
            prev: 0,
        }
    }

    fn in_template(&self) -> bool {
        self.stack.last() == Some(&b'`')
    }

    /// The backtick that ends the template literal the scan is in.
    fn close_template(&mut self) {
        self.stack.pop();
        self.angles.leave();
        self.prev = b'`';
    }

    /// A `${` in a template literal.
    fn open_substitution(&mut self) {
        self.stack.push(b'$');
        self.angles.enter();
        self.prev = b'{';
    }

    /// Byte `i`, one of [`NESTING_BYTES`] outside strings and comments: how many bytes it takes
    /// (two for `=>`, `<<` and `<=`), or the limit it passes.
    #[inline(always)]
    fn step(&mut self, bytes: &[u8], i: usize) -> Result<usize, TooDeep> {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let prev = std::mem::replace(&mut self.prev, b);
        match b {
            b'`' | b'(' | b'[' | b'{' => {
                self.stack.push(b);
                self.angles.enter();
                if self.stack.len() as u32 > MAX_NESTING {
                    return Err(too_deep(i, "brackets or template literals"));
                }
            }
            // `)` does not end an arrow chain: `x => (y) => (z) => …` still nests.
            b')' | b']' | b'}' => {
                self.stack.pop();
                self.angles.leave();
                if b != b')' {
                    self.arrows = 0;
                }
            }
            b';' | b',' => {
                self.arrows = 0;
                if b == b';' {
                    self.angles.end_statement();
                }
            }
            b'=' if next == Some(b'>') => {
                self.prev = b'>';
                self.arrows += 1;
                if self.arrows > MAX_NESTING {
                    return Err(too_deep(i, "arrow functions"));
                }
                return Ok(2);
            }
            // `<<` and `<=` are operators, never type arguments.
            b'<' if matches!(next, Some(b'<' | b'=')) => return Ok(2),
            b'<' if self.typescript && after_operand(prev) => {
                if let Some(what) = self.angles.open() {
                    return Err((i as u32, what));
                }
            }
            b'>' => self.angles.close(),
            _ => {}
        }
        Ok(1)
    }
}

/// Looks for nesting the parser would recurse through too deeply: brackets and template
/// substitutions, chains of arrows (`x => y => z …`), and in `typescript`, `<` the parser may
/// backtrack from nested in one another (JavaScript has no type arguments to try). Strings and
/// comments are skipped. Returns the offset where a limit is passed, with what nests.
pub fn excessive_nesting(text: &str, typescript: bool) -> Option<TooDeep> {
    let bytes = text.as_bytes();
    // Owned here, not borrowed: its fields then stay in registers through the loop.
    let mut scan = Nesting::new(typescript);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if scan.in_template() {
            // Only an escape, the closing backtick or `${` matter inside a template.
            match memchr::memchr3(b'\\', b'`', b'$', &bytes[i..]) {
                Some(skip) => i += skip,
                None => break,
            }
            match bytes[i] {
                b'\\' => i += 1,
                b'`' => scan.close_template(),
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    scan.open_substitution();
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        if !NESTING_BYTES[b as usize] {
            // Step over the whole run of bytes that change nothing before looking again.
            let run = i;
            i += 1;
            while i < bytes.len() && !NESTING_BYTES[bytes[i] as usize] {
                i += 1;
            }
            if let Some(last) = bytes[run..i].iter().rposition(|b| !b.is_ascii_whitespace()) {
                scan.prev = bytes[run + last];
            }
            continue;
        }
        match b {
            b'"' | b'\'' => {
                scan.prev = b'"';
                i += 1;
                // To the closing quote or the end of the line, stepping over escapes.
                loop {
                    match memchr::memchr3(b, b'\n', b'\\', bytes.get(i..).unwrap_or_default()) {
                        Some(skip) if bytes[i + skip] == b'\\' => i += skip + 2,
                        Some(skip) => {
                            i += skip;
                            break;
                        }
                        None => {
                            i = bytes.len();
                            break;
                        }
                    }
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |skip| i + skip);
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                i = memchr::memmem::find(&bytes[i.min(bytes.len())..], b"*/")
                    .map_or(bytes.len(), |skip| i + skip);
                i += 2;
            }
            _ => match scan.step(bytes, i) {
                Ok(taken) => i += taken,
                Err(found) => return Some(found),
            },
        }
    }
    None
}

thread_local! {
    /// One arena per thread, reset between files: parsing allocates nothing new once warm.
    static ARENA: std::cell::RefCell<Allocator> = std::cell::RefCell::new(Allocator::default());
}

/// An arena this large came from an unusual file; give it back rather than keep it.
const ARENA_KEEP_BYTES: usize = 64 << 20;

/// Gives back this thread's parsing arena (a later parse makes a new one).
pub fn release_parse_arena() {
    ARENA.with(|arena| {
        if let Ok(mut allocator) = arena.try_borrow_mut() {
            *allocator = Allocator::default();
        }
    });
}

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
    let source_type = source_type_for(path).unwrap_or_else(SourceType::ts);
    if let Some((offset, what)) = excessive_nesting(text, source_type.is_typescript()) {
        let message = format!("{what} here; Krepis does not analyse this file");
        let range = TextRange::new(offset, offset + 1);
        return ModuleFacts {
            syntax_errors: vec![SyntaxError { message, range }],
            ..ModuleFacts::default()
        };
    }
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
    facts.shrink_to_fit();
    facts
}

/// Whether a program holds only ambient declarations (see [`ModuleFacts::ambient_only`]).
pub(super) fn ambient_only(program: &Program<'_>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scan as it was, byte by byte, before it learnt to step over runs that cannot matter
    /// (strings, comments and templates with `memchr`, other bytes with a table); what each byte
    /// that matters does is [`Nesting::step`] in both.
    fn reference(text: &str, typescript: bool) -> Option<TooDeep> {
        let bytes = text.as_bytes();
        let mut scan = Nesting::new(typescript);
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if scan.in_template() {
                match b {
                    b'\\' => i += 1,
                    b'`' => scan.close_template(),
                    b'$' if bytes.get(i + 1) == Some(&b'{') => {
                        scan.open_substitution();
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            match b {
                b'"' | b'\'' => {
                    scan.prev = b'"';
                    i += 1;
                    while i < bytes.len() && bytes[i] != b && bytes[i] != b'\n' {
                        if bytes[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                        i += 1;
                    }
                    i += 2;
                }
                b if !NESTING_BYTES[b as usize] => {
                    if !b.is_ascii_whitespace() {
                        scan.prev = b;
                    }
                    i += 1;
                }
                _ => match scan.step(bytes, i) {
                    Ok(taken) => i += taken,
                    Err(found) => return Some(found),
                },
            }
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_scan_finds_what_the_byte_by_byte_one_finds(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "(", ")", "[", "]", "{", "}", "`", "${", "\\", "\"", "'", "//", "/*", "*/",
                    "\n", "=>", "a<", "<", ">", ";", ",", "x", " ", "$", "*", "/", "<<", "<=",
                    "=", "\t", "é", "\\<", "!", "+",
                ]),
                0..400,
            ),
            repeat in 1usize..4,
            typescript: bool,
        ) {
            let text = parts.concat().repeat(repeat);
            prop_assert_eq!(excessive_nesting(&text, typescript), reference(&text, typescript));
        }
    }

    #[test]
    fn the_limits_hold_to_the_unit() {
        let angles = |n: usize| format!("f({});", "a<".repeat(n));
        let arrows = |n: usize| format!("const f = {}0;", "x => ".repeat(n));
        let limit = MAX_OPEN_TYPE_ARGUMENTS as usize;
        assert_eq!(excessive_nesting(&angles(limit), true), None);
        assert!(excessive_nesting(&angles(limit + 1), true).is_some());
        assert_eq!(excessive_nesting(&arrows(MAX_NESTING as usize), true), None);
        assert!(excessive_nesting(&arrows(MAX_NESTING as usize + 1), true).is_some());
        // Brackets holding open `<`: 2 ways each, and 3 for two `<` in one bracket.
        let levels = |n: usize| format!("f({});", "a<(".repeat(n));
        assert_eq!(excessive_nesting(&levels(9), true), None);
        let (_, what) = excessive_nesting(&levels(10), true).unwrap_or_default();
        assert!(what.ends_with("could be read more than 512 ways"), "{what}");
        let pairs = |n: usize| format!("f({});", "a<b<(".repeat(n));
        assert_eq!(excessive_nesting(&pairs(5), true), None);
        assert!(excessive_nesting(&pairs(6), true).is_some());
        // Closed `<` and ended statements give their ways back.
        let nine = format!("{}{}", "a<(".repeat(9), ")>".repeat(9));
        let closed = format!("f({});", [nine.as_str(); 40].join(", "));
        assert_eq!(excessive_nesting(&closed, true), None);
        let ended = format!("{}{}", "{ a<b<c; ".repeat(40), "}".repeat(40));
        assert_eq!(excessive_nesting(&ended, true), None);
        let limit = MAX_TYPE_ARGUMENT_WAYS;
        assert_eq!(limit, 512, "the counts above assume 512 ways");
        for text in [
            angles(MAX_OPEN_TYPE_ARGUMENTS as usize + 1),
            arrows(MAX_NESTING as usize + 1),
            levels(10),
            pairs(6),
        ] {
            assert_eq!(excessive_nesting(&text, true), reference(&text, true));
        }
    }

    /// Shapes that made the parser backtrack for seconds to minutes (`x<({[` sixteen deep took
    /// forty seconds): each `<` here follows an operand, whatever stands between them.
    #[test]
    fn every_lt_after_an_operand_counts_whatever_comes_between() {
        // 2 ways each: ten of them are more than 512.
        let deep = 10;
        for unit in [
            "x<({[",
            "x <{[",
            "x\n<{[",
            "x/* */<{[",
            "x // (\n<{[",
            "\\<{[",
            "\u{fffd}<{[",
            "f()<{[",
            "a[0]<{[",
            "\"s\"<{[",
            "x!<{[",
        ] {
            let text = format!("const a = {}", unit.repeat(deep));
            let found = excessive_nesting(&text, true);
            assert!(
                found
                    .as_ref()
                    .is_some_and(|(_, what)| what.contains("unclosed `<`")),
                "{unit:?}: {found:?}"
            );
            assert_eq!(found, reference(&text, true), "{unit:?}");
            // JavaScript has no type arguments: nothing to backtrack from.
            assert_eq!(excessive_nesting(&text, false), None, "{unit:?}");
        }
        // After an operator or an opening bracket a `<` is a JSX tag or a type assertion, and
        // `<<` and `<=` are operators: none of these counts.
        let uncounted = format!(
            "const a = ({});",
            [
                "(<T>x",
                "[<div>",
                "a = <b>c",
                "x << y",
                "x <= y",
                "x ? <T>y : z"
            ]
            .iter()
            .map(|unit| unit.repeat(deep))
            .collect::<Vec<_>>()
            .join(", ")
        );
        assert_eq!(excessive_nesting(&uncounted, true), None);
    }

    /// A `<` inside a template literal's substitution is closed with it, not left open for the
    /// rest of the file (a test file of `toEqualTypeOf<\`${number}\`>()` lines was refused so).
    #[test]
    fn template_literals_close_what_opened_inside_them() {
        let line = "expectTypeOf<z.infer<typeof a>>().toEqualTypeOf<`${number}` | ``>();\n";
        let text = line.repeat(MAX_OPEN_TYPE_ARGUMENTS as usize * 4);
        assert_eq!(excessive_nesting(&text, true), None);
        assert_eq!(reference(&text, true), None);
        let text = format!(
            "f({});",
            "`${a<b}`, ".repeat(MAX_OPEN_TYPE_ARGUMENTS as usize * 4)
        );
        assert_eq!(excessive_nesting(&text, true), None);
        assert_eq!(reference(&text, true), None);
    }

    #[test]
    fn deep_nesting_is_still_found_past_strings_comments_and_templates() {
        let prefix = "const s = \"((((\"; // ((((\n/* [[[[ */ `${'{'}`;\n";
        let deep = format!("{prefix}{}", "(".repeat(MAX_NESTING as usize + 1));
        assert_eq!(excessive_nesting(&deep, true), reference(&deep, true));
        assert!(excessive_nesting(&deep, true).is_some());
        assert_eq!(excessive_nesting(prefix, true), None);
    }
}
