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

/// How many `name<` may be open (not closed by `>`) at once, across enclosing brackets, before a
/// file is not parsed: each costs the parser a speculative branch (real code stays far below).
pub const MAX_OPEN_TYPE_ARGUMENTS: u32 = 24;

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
            // Only an escape, the closing backtick or `${` matter inside a template.
            match memchr::memchr3(b'\\', b'`', b'$', &bytes[i..]) {
                Some(skip) => i += skip,
                None => break,
            }
            match bytes[i] {
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
        if !NESTING_BYTES[b as usize] {
            // Step over the whole run of bytes that change nothing before looking again.
            i += 1;
            while i < bytes.len() && !NESTING_BYTES[bytes[i] as usize] {
                i += 1;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => {
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
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |skip| i + skip);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                i = memchr::memmem::find(&bytes[i.min(bytes.len())..], b"*/")
                    .map_or(bytes.len(), |skip| i + skip);
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

    /// The scan as it was, byte by byte, before it learnt to step over runs that cannot matter.
    fn reference(text: &str) -> Option<(u32, String)> {
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
                        return Some((
                            i as u32,
                            deep("brackets or template literals", MAX_NESTING),
                        ));
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_scan_finds_what_the_byte_by_byte_one_finds(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "(", ")", "[", "]", "{", "}", "`", "${", "\\", "\"", "'", "//", "/*", "*/",
                    "\n", "=>", "a<", "<", ">", ";", ",", "x", " ", "$", "*", "/",
                ]),
                0..400,
            ),
            repeat in 1usize..4,
        ) {
            let text = parts.concat().repeat(repeat);
            prop_assert_eq!(excessive_nesting(&text), reference(&text));
        }
    }

    #[test]
    fn the_limits_hold_to_the_unit() {
        let angles = |n: usize| format!("f({});", "a<".repeat(n));
        let arrows = |n: usize| format!("const f = {}0;", "x => ".repeat(n));
        let limit = MAX_OPEN_TYPE_ARGUMENTS as usize;
        assert_eq!(excessive_nesting(&angles(limit)), None);
        assert!(excessive_nesting(&angles(limit + 1)).is_some());
        assert_eq!(excessive_nesting(&arrows(MAX_NESTING as usize)), None);
        assert!(excessive_nesting(&arrows(MAX_NESTING as usize + 1)).is_some());
        for text in [angles(limit + 1), arrows(MAX_NESTING as usize + 1)] {
            assert_eq!(excessive_nesting(&text), reference(&text));
        }
    }

    #[test]
    fn deep_nesting_is_still_found_past_strings_comments_and_templates() {
        let prefix = "const s = \"((((\"; // ((((\n/* [[[[ */ `${'{'}`;\n";
        let deep = format!("{prefix}{}", "(".repeat(MAX_NESTING as usize + 1));
        assert_eq!(excessive_nesting(&deep), reference(&deep));
        assert!(excessive_nesting(&deep).is_some());
        assert_eq!(excessive_nesting(prefix), None);
    }
}
