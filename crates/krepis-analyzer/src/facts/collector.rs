//! The visitor behind [`super::extract`]: one pass over a module's AST that collects its
//! imports, exports, functions, calls, types and locals as owned facts.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use oxc_ast::ast::*;
use oxc_ast_visit::{Visit, walk};
use oxc_span::{GetSpan, Span};
use oxc_syntax::scope::ScopeFlags;

use super::extract::ambient_only;
use crate::diagnostic::TextRange;
use crate::facts::*;

#[derive(Clone)]
struct Binding {
    name: Name,
    range: TextRange,
    kind: FunctionKind,
    container: Option<Name>,
}

pub(super) struct Collector<'t> {
    text: &'t str,
    facts: &'t mut ModuleFacts,
    /// Names for function nodes, keyed by the node's span start, set by the parent before the walk.
    bindings: HashMap<u32, Binding>,
    /// Callbacks passed straight to a call, with the callee's name.
    inline_callbacks: HashMap<u32, Name>,
    function_stack: Vec<u32>,
    containers: Vec<Name>,
    /// Identifier references already recorded as part of a longer global use.
    consumed_refs: HashSet<u32>,
    /// Function nodes (by span start) that are private class members.
    private_members: HashSet<u32>,
    /// Object literals (by span start) passed straight to a call or `new`.
    argument_objects: HashSet<u32>,
    /// Object literals (by span start) whose type is written: `const repo: Repo = { … }`,
    /// `{ … } satisfies Repo`.
    typed_objects: HashMap<u32, Name>,
    /// For each object literal being walked: whether it is such an argument, and its written type.
    object_stack: Vec<(bool, Option<Name>)>,
    /// The classes being walked, innermost last, by index into `facts.types`.
    class_stack: Vec<usize>,
}

impl<'t> Collector<'t> {
    pub(super) fn new(text: &'t str, facts: &'t mut ModuleFacts) -> Self {
        Self {
            text,
            facts,
            bindings: HashMap::default(),
            inline_callbacks: HashMap::default(),
            function_stack: Vec::new(),
            containers: Vec::new(),
            consumed_refs: Default::default(),
            private_members: Default::default(),
            argument_objects: Default::default(),
            typed_objects: HashMap::default(),
            object_stack: Vec::new(),
            class_stack: Vec::new(),
        }
    }

    /// `const repo: Repo = { … }`, `{ … } satisfies Repo`: the literal's members implement the
    /// named type's methods.
    fn typed_object(&mut self, expr: &Expression<'_>, annotation: &TSType<'_>) {
        if let Expression::ObjectExpression(object) = expr.get_inner_expression()
            && let Some(name) = type_name(annotation)
        {
            self.typed_objects.insert(object.span.start, name);
        }
    }

    /// `this as T` inside a class: the class is used as a `T`.
    fn cast_of_this(&mut self, expr: &Expression<'_>, annotation: &TSType<'_>) {
        if !matches!(expr.get_inner_expression(), Expression::ThisExpression(_)) {
            return;
        }
        let (Some(&class), Some(name)) = (self.class_stack.last(), type_name(annotation)) else {
            return;
        };
        let casts = &mut self.facts.types[class].casts;
        if !casts.contains(&name) {
            casts.push(name);
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

    pub(super) fn finish(&mut self, program: &Program<'_>) {
        self.facts.bound_names.sort();
        self.facts.bound_names.dedup();
        // A parameter or a local passed on is a value, not a function escaping: keep only names
        // that can be functions (declared here as one, or not bound here at all).
        let facts = &mut *self.facts;
        let bound: HashSet<&str> = facts
            .functions
            .iter()
            .flat_map(|f| f.params.iter().filter_map(|p| p.name.as_deref()))
            .chain(facts.locals.iter().map(|l| l.name.as_str()))
            .collect();
        let functions: HashSet<&str> = facts.functions.iter().map(|f| f.name.as_str()).collect();
        let mut uses = std::mem::take(&mut facts.value_uses);
        // Sorted and without repeats first: each name is looked up once.
        uses.sort();
        uses.dedup();
        uses.retain(|n| functions.contains(n.as_str()) || !bound.contains(n.as_str()));
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

    /// A method signature of an interface or type literal (`m(a): R` or `m: (a) => R`), named
    /// by `key`, whose parameters and return type `span` covers.
    fn push_signature(
        &mut self,
        name: Name,
        key: &PropertyKey<'_>,
        span: Span,
        params: &FormalParameters<'_>,
        return_type: Option<&TSTypeAnnotation<'_>>,
    ) {
        self.bindings.insert(
            span.start,
            Binding {
                name,
                range: key.span().into(),
                kind: FunctionKind::Signature,
                container: self.containers.last().cloned(),
            },
        );
        let range = TextRange::from(key.span());
        self.push_function(
            span,
            range,
            false,
            params,
            return_type,
            false,
            None,
            FunctionKind::Signature,
        );
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

/// Methods of test-double libraries that replace `object[name]` given as `(object, "name")`:
/// jest's and vitest's `spyOn`, sinon's `spy` and `stub`.
const SPY_CALLS: [&str; 3] = ["spyOn", "spy", "stub"];

/// `a`, `this`, `a.b.c`, `this.#c` → the dotted path; anything else → `None`.
fn dotted_path(expr: &Expression<'_>) -> Option<Name> {
    member_path(expr, false)
}

/// The receiver of a method call as a path the type model reads: a dotted path, `new C`
/// (`new C().m()`), `await path` (`(await x).m()`), or a chain through method results and
/// elements (`this.repos.get(id).save()`: `this.repos.get()`; `nodes[0].job`: `nodes.[].job`).
fn receiver_path(expr: &Expression<'_>) -> Option<Name> {
    match expr.get_inner_expression() {
        Expression::NewExpression(new) => Some(compact_str::format_compact!(
            "new {}",
            dotted_path(&new.callee)?
        )),
        Expression::AwaitExpression(a) => Some(compact_str::format_compact!(
            "await {}",
            chain_path(&a.argument)?
        )),
        other => chain_path(other),
    }
}

/// A dotted path whose segments may also be a method's result (`get()`) or an element (`[]`).
fn chain_path(expr: &Expression<'_>) -> Option<Name> {
    member_path(expr, true)
}

/// `a.b.#c`: identifiers, `this` and `super`, then properties and private fields; with `chain`,
/// also method results (`get()`) and elements (`[]`).
fn member_path(expr: &Expression<'_>, chain: bool) -> Option<Name> {
    match expr.get_inner_expression() {
        Expression::Identifier(id) => Some(id.name.as_str().into()),
        Expression::ThisExpression(_) => Some("this".into()),
        Expression::Super(_) => Some("super".into()),
        Expression::StaticMemberExpression(member) => Some(compact_str::format_compact!(
            "{}.{}",
            member_path(&member.object, chain)?,
            member.property.name
        )),
        // `this.#store`: a private field, named as its declaration is (`#store`).
        Expression::PrivateFieldExpression(field) => Some(compact_str::format_compact!(
            "{}.#{}",
            member_path(&field.object, chain)?,
            field.field.name
        )),
        Expression::ComputedMemberExpression(member) if chain => Some(
            compact_str::format_compact!("{}.[]", member_path(&member.object, chain)?),
        ),
        Expression::CallExpression(call) if chain => match call.callee.get_inner_expression() {
            Expression::StaticMemberExpression(member) => Some(compact_str::format_compact!(
                "{}.{}()",
                member_path(&member.object, chain)?,
                member.property.name
            )),
            _ => None,
        },
        _ => None,
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
                None => (
                    Callee::Computed {
                        property: member.property.name.as_str().into(),
                    },
                    member.property.span.into(),
                ),
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
        // `jest.spyOn(repo, "save")`, `sinon.stub(repo, "save")`: a test double records and
        // answers the method's arguments by position, so the method is handed out as a value.
        if let Callee::Member { property, .. } | Callee::Computed { property } = &callee
            && SPY_CALLS.contains(&property.as_str())
            && let Some(Expression::StringLiteral(method)) =
                it.arguments.get(1).and_then(|a| a.as_expression())
        {
            self.facts.value_uses.push(method.value.as_str().into());
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
            Callee::Member { property, .. } | Callee::Computed { property } => property.clone(),
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
        if let (Some(annotation), Some(init)) = (&it.type_annotation, &it.init) {
            self.typed_object(init, &annotation.type_annotation);
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
            casts: Vec::new(),
        });
        self.class_stack.push(self.facts.types.len() - 1);
        self.containers.push(name);
        walk::walk_class(self, it);
        self.containers.pop();
        self.class_stack.pop();
    }

    fn visit_ts_as_expression(&mut self, it: &TSAsExpression<'a>) {
        self.cast_of_this(&it.expression, &it.type_annotation);
        walk::walk_ts_as_expression(self, it);
    }

    fn visit_ts_satisfies_expression(&mut self, it: &TSSatisfiesExpression<'a>) {
        self.cast_of_this(&it.expression, &it.type_annotation);
        self.typed_object(&it.expression, &it.type_annotation);
        walk::walk_ts_satisfies_expression(self, it);
    }

    fn visit_ts_type_assertion(&mut self, it: &TSTypeAssertion<'a>) {
        self.cast_of_this(&it.expression, &it.type_annotation);
        walk::walk_ts_type_assertion(self, it);
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
            casts: Vec::new(),
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
        let written = self.typed_objects.remove(&it.span.start);
        self.object_stack.push((is_argument, written));
        walk::walk_object_expression(self, it);
        self.object_stack.pop();
    }

    fn visit_object_property(&mut self, it: &ObjectProperty<'a>) {
        // `{ run: runner }`, `{ runner }`: the function escapes as a value.
        self.value_use(&it.value);
        if let Some(name) = property_key_name(&it.key) {
            // `new Readable({ async read() {} })`: the library calls it, with its own arguments.
            let (kind, container) = match self.object_stack.last() {
                Some((true, _)) => (FunctionKind::InlineCallback, None),
                // A member of `const repo: Repo = { … }` implements `Repo`'s method.
                Some((false, written)) => (FunctionKind::ObjectMember, written.clone()),
                None => (FunctionKind::ObjectMember, None),
            };
            let binding = Binding {
                name,
                range: it.key.span().into(),
                kind,
                container,
            };
            self.bind(&it.value, binding);
        }
        walk::walk_object_property(self, it);
    }

    fn visit_ts_method_signature(&mut self, it: &TSMethodSignature<'a>) {
        if it.kind == TSMethodSignatureKind::Method
            && let Some(name) = property_key_name(&it.key)
        {
            self.push_signature(
                name,
                &it.key,
                it.span,
                &it.params,
                it.return_type.as_deref(),
            );
        }
        walk::walk_ts_method_signature(self, it);
    }

    fn visit_ts_property_signature(&mut self, it: &TSPropertySignature<'a>) {
        if let (Some(name), Some(annotation)) = (property_key_name(&it.key), &it.type_annotation)
            && let TSType::TSFunctionType(function) = &annotation.type_annotation
        {
            self.push_signature(
                name,
                &it.key,
                function.span,
                &function.params,
                Some(&function.return_type),
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
