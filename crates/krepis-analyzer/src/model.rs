//! The project's types, as its TypeScript says them in the open: classes and interfaces with
//! their supertypes across modules (through imports, re-exports and barrels), members with their
//! declared types, and the type of the receiver at a call site.
//!
//! It reads facts and resolutions only (no second parse) and answers one question for the
//! context rules: which method does `receiver.method(…)` call, and does it take the context?
//! "Unknown" is an answer too: the rules report such calls instead of guessing.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::db::{Db, Project, SourceFile, module_facts, sorted_files};
use crate::facts::{FunctionKind, ModuleFacts, Name, ValueFact};
use crate::signatures::{Origin, Signature, import_origin, module_signatures, signature};

/// A class or interface of the project: the module that declares it and its name there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeKey {
    pub file: SourceFile,
    pub name: Name,
}

/// What a type written somewhere turns out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A class or interface of the project, with the type arguments as written.
    Project(TypeKey),
    /// A built-in container whose element the model follows (`Map<K, V>`, `T[]`, `Promise<T>`).
    Builtin(Name, Vec<Written>),
    /// A package's type, or a built-in the model does not follow: no project method lives there.
    External,
    /// Nothing the model can tell (an unannotated value, a type parameter, a union).
    Unknown,
}

/// A type as written, with the module its names are resolved in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub text: Name,
    pub scope: SourceFile,
}

/// What a method call reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reached {
    /// A method of the project.
    Method(Signature),
    /// Something outside the project, or a member that is not a project method.
    NotProject,
    /// The receiver's type is unknown.
    Unknown,
}

/// One method as a type declares it.
#[derive(Debug, Clone)]
struct Method {
    signature: Signature,
    returns: Option<Written>,
    /// Takes the context, or will once `explicit-context` is fixed (async, or returns a Promise).
    takes_context: bool,
}

/// A supertype as a type's declaration writes it (`extends`, `implements`, then the project
/// types it casts `this` to), resolved in the declaring module.
#[derive(Debug, Clone)]
enum Parent {
    Project(TypeKey),
    /// A framework's interface or base class, or a built-in.
    External,
    /// A name that resolves to nothing the model knows.
    Unknown,
}

/// What a type's supertypes, all the way up, are like.
#[derive(Debug, Clone, Copy, Default)]
struct Ancestry {
    /// A supertype lies outside the project (a framework's interface or base class).
    external: bool,
    /// A supertype could not be resolved at all (or the walk met a loop, or went too deep).
    unknown: bool,
}

/// What a member lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lookup {
    /// The method of that name, the type's own or the nearest supertype's.
    Method,
    /// The same, among the supertypes only.
    Inherited,
    /// The field of that name, the type's own or the nearest supertype's.
    Field,
}

/// A member found by a lookup.
#[derive(Debug, Clone)]
enum Member {
    Method(Method),
    Field(Written),
}

/// How deep a hierarchy of supertypes is followed (a loop of `extends` must end).
const MAX_SUPERTYPE_DEPTH: u32 = 32;

/// Built-in generic types whose element a call or `await` can produce.
const CONTAINERS: [&str; 8] = [
    "Map",
    "ReadonlyMap",
    "Array",
    "ReadonlyArray",
    "Set",
    "ReadonlySet",
    "Promise",
    "Readonly",
];

/// Built-in types with no project methods.
const OPAQUE: [&str; 14] = [
    "string", "number", "boolean", "bigint", "symbol", "object", "void", "String", "Number",
    "Boolean", "Date", "RegExp", "Error", "Record",
];

/// Splits `Map<string, Handler<X>>` into `Map` and its top-level arguments.
fn split_generic(text: &str) -> (&str, Vec<&str>) {
    let Some(open) = text.find('<') else {
        return (text.trim(), Vec::new());
    };
    if !text.ends_with('>') {
        return (text.trim(), Vec::new());
    }
    let inner = &text[open + 1..text.len() - 1];
    let mut args = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' | '{' => depth += 1,
            '>' | ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push(inner[start..].trim());
    (text[..open].trim(), args)
}

/// Whether `text` has one of `wanted` outside any `<…>`: `A | B` does, `Promise<A | B>` does not.
fn top_level_any(text: &str, wanted: &[char]) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            c if depth == 0 && wanted.contains(&c) => return true,
            _ => {}
        }
    }
    false
}

/// `T | undefined`, `T | null`, `(T)`, `readonly T`: the `T`. Other unions are left as they are.
fn strip_nullish(text: &str) -> &str {
    let mut text = text.trim();
    loop {
        let before = text;
        if let Some(rest) = text.strip_prefix("readonly ") {
            text = rest.trim();
        }
        for suffix in ["| undefined", "| null"] {
            if let Some(rest) = text.strip_suffix(suffix) {
                text = rest.trim();
            }
        }
        if text.starts_with('(') && text.ends_with(')') {
            text = text[1..text.len() - 1].trim();
        }
        if text == before {
            return text;
        }
    }
}

/// The type model seen from one module, with what it learnt memoised for the rest of its check.
pub struct Model<'db> {
    db: &'db dyn Db,
    pub file: SourceFile,
    facts: &'db ModuleFacts,
    /// The last declaration of each local, by function and name: looked up once per receiver.
    /// Built on first use: most receivers are `this.…` and need none.
    locals: std::cell::OnceCell<HashMap<(Option<u32>, &'db str), &'db crate::facts::LocalFact>>,
    /// What each written type turned out to be, by scope and text: a module names the same
    /// few types again and again.
    types: RefCell<HashMap<(SourceFile, Name), Ty>>,
    /// The type of each receiver path, by the function it is read in.
    paths: RefCell<HashMap<(Option<u32>, Name), Ty>>,
    /// The supertypes of the types this module looked into.
    parents: RefCell<HashMap<TypeKey, Rc<[Parent]>>>,
    /// What those types' supertypes are like, with the height of the walk that found it
    /// (`None`: the walk was cut short and its answer holds for that path only).
    ancestry: RefCell<HashMap<TypeKey, (Ancestry, Option<u32>)>>,
    /// The members this module looked up, by type, name and kind of lookup. A lookup walks the
    /// supertypes for one name only: building every type's whole member table cost more than
    /// all the lookups of a module together.
    lookups: RefCell<HashMap<(TypeKey, Name, Lookup), Option<Member>>>,
    /// The configuration of each module whose types it read, and whether it is TypeScript.
    configs: RefCell<HashMap<SourceFile, (Arc<crate::config::Config>, bool)>>,
}

impl<'db> Model<'db> {
    pub fn new(db: &'db dyn Db, file: SourceFile) -> Self {
        Model {
            db,
            file,
            facts: module_facts(db, file),
            locals: std::cell::OnceCell::new(),
            types: RefCell::default(),
            paths: RefCell::default(),
            parents: RefCell::default(),
            ancestry: RefCell::default(),
            lookups: RefCell::default(),
            configs: RefCell::default(),
        }
    }

    /// The last declaration of each local, by function and name.
    fn locals(&self) -> &HashMap<(Option<u32>, &'db str), &'db crate::facts::LocalFact> {
        self.locals.get_or_init(|| {
            self.facts
                .locals
                .iter()
                .map(|l| ((l.function, l.name.as_str()), l))
                .collect()
        })
    }

    /// Whether the function `at` (or the top level) declares a local `name`.
    pub fn has_local(&self, at: Option<u32>, name: &str) -> bool {
        self.locals().contains_key(&(at, name))
    }

    /// What the name `name` (maybe `ns.Name`) means as a type in `scope`.
    fn resolve_name(&self, scope: SourceFile, name: &str) -> Ty {
        let db = self.db;
        let facts = module_facts(db, scope);
        let (head, rest) = match name.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (name, None),
        };
        if rest.is_none() && facts.types.iter().any(|t| t.name == head) {
            return Ty::Project(TypeKey {
                file: scope,
                name: head.into(),
            });
        }
        match import_origin(db, scope, head) {
            Some(Origin::External) => Ty::External,
            Some(Origin::Declared(file, local)) => match (local.as_str(), rest) {
                // `import * as ports`: `ports.OrderStore`.
                ("*", Some(member)) if !member.contains('.') => {
                    match crate::signatures::export_origin(db, file, member) {
                        Some(Origin::Declared(at, local)) => self.declared_type(at, local),
                        Some(Origin::External) => Ty::External,
                        None => Ty::Unknown,
                    }
                }
                (_, None) => self.declared_type(file, local),
                _ => Ty::Unknown,
            },
            None if rest.is_none() && CONTAINERS.contains(&head) => {
                Ty::Builtin(head.into(), Vec::new())
            }
            None if rest.is_none() && OPAQUE.contains(&head) => Ty::External,
            // A type parameter stands for anything; any other name nobody declares or imports
            // is a global one (`Request`, `URL`, `Headers`, `NodeJS.Timeout`), not the project's.
            None if facts.type_parameters.iter().any(|t| t == head) => Ty::Unknown,
            // Imported from a module that does not resolve: nothing is known of it.
            None if facts
                .imports
                .iter()
                .any(|i| i.names.iter().any(|n| n.local == head)) =>
            {
                Ty::Unknown
            }
            None if head.starts_with(|c: char| c.is_ascii_uppercase()) => Ty::External,
            None => Ty::Unknown,
        }
    }

    fn declared_type(&self, file: SourceFile, name: Name) -> Ty {
        if module_facts(self.db, file)
            .types
            .iter()
            .any(|t| t.name == name)
        {
            Ty::Project(TypeKey { file, name })
        } else {
            // A function or a value, not a type the model follows.
            Ty::Unknown
        }
    }

    /// What a written type is.
    pub fn ty(&self, written: &Written) -> Ty {
        let key = (written.scope, written.text.clone());
        if let Some(known) = self.types.borrow().get(&key) {
            return known.clone();
        }
        let ty = self.ty_uncached(written);
        self.types.borrow_mut().insert(key, ty.clone());
        ty
    }

    fn ty_uncached(&self, written: &Written) -> Ty {
        let text = strip_nullish(&written.text);
        if let Some(element) = text.strip_suffix("[]") {
            return Ty::Builtin(
                "Array".into(),
                vec![Written {
                    text: element.into(),
                    scope: written.scope,
                }],
            );
        }
        if top_level_any(text, &['|', '&', '{', '(', '"', '\'']) || text.is_empty() {
            return if text.starts_with('{') || text.starts_with('"') {
                Ty::External
            } else {
                Ty::Unknown
            };
        }
        let (name, args) = split_generic(text);
        match self.resolve_name(written.scope, name) {
            Ty::Builtin(name, _) => Ty::Builtin(
                name,
                args.into_iter()
                    .map(|a| Written {
                        text: a.into(),
                        scope: written.scope,
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// The configuration governing `file`, and whether it is TypeScript (looked up once per file).
    fn config_of(&self, file: SourceFile) -> (Arc<crate::config::Config>, bool) {
        if let Some(known) = self.configs.borrow().get(&file) {
            return known.clone();
        }
        let path = file.path(self.db);
        let settings = Project::get(self.db).settings(self.db);
        let found = (
            settings.config_for(path).clone(),
            crate::signatures::is_typescript_path(path),
        );
        self.configs.borrow_mut().insert(file, found.clone());
        found
    }

    /// The supertypes of `key`, in the order its declaration writes them; none for a type
    /// without a declaration.
    fn parents(&self, key: &TypeKey) -> Rc<[Parent]> {
        if let Some(known) = self.parents.borrow().get(key) {
            return known.clone();
        }
        let facts = module_facts(self.db, key.file);
        let parents: Rc<[Parent]> = match facts.types.iter().find(|t| t.name == key.name) {
            None => Rc::from(Vec::new()),
            Some(decl) => {
                let written = decl
                    .extends
                    .iter()
                    .chain(&decl.implements)
                    .map(|p| (p, false));
                // A type the class casts `this` to counts when it is the project's: anything
                // else (`this as any`, a package's type) says nothing of its own supertypes.
                let casts = decl.casts.iter().map(|p| (p, true));
                written
                    .chain(casts)
                    .filter_map(|(parent, cast)| {
                        let (name, _) = split_generic(parent);
                        match self.resolve_name(key.file, name) {
                            Ty::Project(parent) => Some(Parent::Project(parent)),
                            _ if cast => None,
                            Ty::External | Ty::Builtin(..) => Some(Parent::External),
                            Ty::Unknown => Some(Parent::Unknown),
                        }
                    })
                    .collect()
            }
        };
        self.parents
            .borrow_mut()
            .insert(key.clone(), parents.clone());
        parents
    }

    /// What the supertypes of `key` are like, all the way up.
    fn ancestry(&self, key: &TypeKey) -> Ancestry {
        if let Some(&(known, _)) = self.ancestry.borrow().get(key) {
            return known;
        }
        let (ancestry, height) = self.walk_ancestry(key, &mut HashSet::default(), 0);
        self.ancestry
            .borrow_mut()
            .insert(key.clone(), (ancestry, height));
        ancestry
    }

    /// [`Model::ancestry`] of `key`, reached `depth` supertypes below the type first asked
    /// about, with `seen` the types on the way there; and the height of its hierarchy, `None`
    /// when the walk was cut short (a loop, or too deep).
    fn walk_ancestry(
        &self,
        key: &TypeKey,
        seen: &mut HashSet<TypeKey>,
        depth: u32,
    ) -> (Ancestry, Option<u32>) {
        // `class A extends B`, `class B extends A`: not TypeScript, but it must end.
        if depth > MAX_SUPERTYPE_DEPTH || !seen.insert(key.clone()) {
            let cut = Ancestry {
                external: false,
                unknown: true,
            };
            return (cut, None);
        }
        let mut out = Ancestry::default();
        let mut height = Some(0);
        for parent in self.parents(key).iter() {
            match parent {
                Parent::Project(parent) => {
                    let (above, below) = self.supertype_ancestry(parent, seen, depth + 1);
                    height = height.zip(below).map(|(h, b)| h.max(b + 1));
                    out.external |= above.external;
                    out.unknown |= above.unknown;
                }
                Parent::External => out.external = true,
                Parent::Unknown => out.unknown = true,
            }
        }
        // Seen on this path only: two interfaces extending one base is a diamond, not a loop.
        seen.remove(key);
        (out, height)
    }

    /// The ancestry of the supertype `key`, `depth` below the type first asked about: the one
    /// this module already found when that walk was whole (no loop can pass through a whole
    /// walk, and it stays within the depth limit from here), else walked again.
    fn supertype_ancestry(
        &self,
        key: &TypeKey,
        seen: &mut HashSet<TypeKey>,
        depth: u32,
    ) -> (Ancestry, Option<u32>) {
        if let Some(&(known, Some(height))) = self.ancestry.borrow().get(key)
            && depth + height <= MAX_SUPERTYPE_DEPTH
        {
            return (known, Some(height));
        }
        let (ancestry, height) = self.walk_ancestry(key, seen, depth);
        if height.is_some() {
            self.ancestry
                .borrow_mut()
                .insert(key.clone(), (ancestry, height));
        }
        (ancestry, height)
    }

    /// The member `name` of the type `key` (see [`Lookup`]).
    fn member(&self, key: &TypeKey, name: &str, lookup: Lookup) -> Option<Member> {
        let memo = (key.clone(), Name::from(name), lookup);
        if let Some(known) = self.lookups.borrow().get(&memo) {
            return known.clone();
        }
        let mut seen = HashSet::default();
        let found = match lookup {
            Lookup::Inherited => {
                // The supertypes as the type's own walk meets them: one below it.
                seen.insert(key.clone());
                self.parents(key).iter().find_map(|parent| match parent {
                    Parent::Project(parent) => {
                        self.find_member(parent, name, Lookup::Method, &mut seen, 1)
                    }
                    _ => None,
                })
            }
            _ => self.find_member(key, name, lookup, &mut seen, 0),
        };
        self.lookups.borrow_mut().insert(memo, found.clone());
        found
    }

    /// The nearest declaration of `name` in `key` or its supertypes, depth first in the order
    /// the declarations write them (an override hides its base), `depth` supertypes below the
    /// type first asked about, with `seen` the types on the way there.
    fn find_member(
        &self,
        key: &TypeKey,
        name: &str,
        lookup: Lookup,
        seen: &mut HashSet<TypeKey>,
        depth: u32,
    ) -> Option<Member> {
        if depth > MAX_SUPERTYPE_DEPTH || !seen.insert(key.clone()) {
            return None;
        }
        let own = self.own_member(key, name, lookup);
        let found = own.or_else(|| {
            self.parents(key).iter().find_map(|parent| match parent {
                Parent::Project(parent) => self.find_member(parent, name, lookup, seen, depth + 1),
                _ => None,
            })
        });
        seen.remove(key);
        found
    }

    /// The first declaration of `name` in the type `key` itself.
    fn own_member(&self, key: &TypeKey, name: &str, lookup: Lookup) -> Option<Member> {
        let db = self.db;
        let facts = module_facts(db, key.file);
        let index = member_index(db, key.file);
        let written = |text: &str| Written {
            text: text.into(),
            scope: key.file,
        };
        match lookup {
            Lookup::Field => {
                let fields = index.fields.get(&key.name)?;
                fields
                    .iter()
                    .map(|&i| &facts.fields[i as usize])
                    .find(|f| f.name == name)
                    .map(|f| Member::Field(written(&f.type_text)))
            }
            Lookup::Method | Lookup::Inherited => {
                let methods = index.methods.get(&key.name)?;
                let function = methods
                    .iter()
                    .map(|&i| &facts.functions[i as usize])
                    .find(|f| f.name == name)?;
                let (config, is_typescript) = self.config_of(key.file);
                let signature = signature(&config, is_typescript, function);
                Some(Member::Method(Method {
                    signature,
                    returns: function.return_type.as_deref().map(written),
                    takes_context: signature.context_first
                        || function.is_async
                        || function.returns_promise(),
                }))
            }
        }
    }

    /// The method `name` of `key`, its own or the nearest supertype's.
    fn method(&self, key: &TypeKey, name: &str) -> Option<Method> {
        match self.member(key, name, Lookup::Method) {
            Some(Member::Method(method)) => Some(method),
            _ => None,
        }
    }

    /// What each call of this module reaches (see [`method_calls`]).
    pub fn method_calls(&self) -> Arc<Vec<Option<Reached>>> {
        method_calls(self.db, self.file).clone()
    }

    /// Method names called somewhere in the project on a receiver the model could not resolve.
    pub fn unresolved_methods(&self) -> Arc<HashSet<Name>> {
        unresolved_methods(self.db).clone()
    }

    /// Names of functions and methods used somewhere in the project as values.
    pub fn value_uses(&self) -> Arc<HashSet<Name>> {
        value_uses(self.db).clone()
    }

    /// Names of project methods that take the context first.
    pub fn context_methods(&self) -> Arc<HashSet<Name>> {
        context_methods(self.db).clone()
    }

    /// Whether a method of the class `class` of this module may implement or override a type
    /// outside the project: the class has such a supertype, and no project supertype declares
    /// the method.
    pub fn implements_external(&self, class: &str, method: &str) -> bool {
        let key = TypeKey {
            file: self.file,
            name: class.into(),
        };
        let ancestry = self.ancestry(&key);
        (ancestry.external || ancestry.unknown)
            && self.member(&key, method, Lookup::Inherited).is_none()
    }

    /// Whether a project supertype of the class `class` of this module declares `method`, and if
    /// so whether that declaration takes the context: an implementation must match it.
    pub fn inherited_contract(&self, class: &str, method: &str) -> Option<bool> {
        let key = TypeKey {
            file: self.file,
            name: class.into(),
        };
        match self.member(&key, method, Lookup::Inherited) {
            Some(Member::Method(inherited)) => Some(inherited.takes_context),
            _ => None,
        }
    }

    /// Whether the project type written `type_name` in this module declares `method`, and if so
    /// whether that declaration takes the context: a member of an object literal of that type
    /// (`const repo: Repo = { async save(…) {…} }`) must match it.
    pub fn written_contract(&self, type_name: &str, method: &str) -> Option<bool> {
        let written = Written {
            text: type_name.into(),
            scope: self.file,
        };
        match self.ty(&written) {
            Ty::Project(key) => self.method(&key, method).map(|m| m.takes_context),
            _ => None,
        }
    }

    /// The type of the value a dotted path names (`this.store`, `handler`, `super`) inside the
    /// function `at` of this module.
    pub fn path_type(&self, path: &str, at: Option<u32>) -> Ty {
        let key = (at, Name::from(path));
        if let Some(known) = self.paths.borrow().get(&key) {
            return known.clone();
        }
        let ty = self.path_type_uncached(path, at);
        self.paths.borrow_mut().insert(key, ty.clone());
        ty
    }

    fn path_type_uncached(&self, path: &str, at: Option<u32>) -> Ty {
        if let Some(class) = path.strip_prefix("new ") {
            return self.ty(&Written {
                text: class.into(),
                scope: self.file,
            });
        }
        if let Some(awaited) = path.strip_prefix("await ") {
            let inner = ValueFact::Await(Box::new(ValueFact::Path(awaited.into())));
            return self.value_type(&inner, at, 0);
        }
        let mut segments = path.split('.');
        let Some(head) = segments.next() else {
            return Ty::Unknown;
        };
        let mut ty = match head {
            "this" => match self.enclosing_class(at) {
                Some(class) => self.class_ty(class),
                None => Ty::Unknown,
            },
            "super" => match self.enclosing_class(at).and_then(|c| self.superclass(c)) {
                Some(ty) => ty,
                None => Ty::Unknown,
            },
            name => self.name_type(name, at),
        };
        for segment in segments {
            ty = if let Some(method) = segment.strip_suffix("()") {
                self.result_of(ty, method)
            } else if segment == "[]" {
                self.element_of(ty)
            } else {
                match ty {
                    Ty::Project(key) => match self.member(&key, segment, Lookup::Field) {
                        Some(Member::Field(field)) => self.ty(&field),
                        _ => Ty::Unknown,
                    },
                    Ty::External => Ty::External,
                    _ => Ty::Unknown,
                }
            };
        }
        ty
    }

    fn class_ty(&self, class: &str) -> Ty {
        if self.facts.types.iter().any(|t| t.name == class) {
            Ty::Project(TypeKey {
                file: self.file,
                name: class.into(),
            })
        } else {
            Ty::Unknown
        }
    }

    fn superclass(&self, class: &str) -> Option<Ty> {
        let decl = self.facts.types.iter().find(|t| t.name == class)?;
        let parent = decl.extends.first()?;
        Some(self.ty(&Written {
            text: parent.clone(),
            scope: self.file,
        }))
    }

    /// The class a function belongs to, through nested callbacks.
    pub fn enclosing_class(&self, mut at: Option<u32>) -> Option<&'db str> {
        while let Some(index) = at {
            let function = self.facts.functions.get(index as usize)?;
            if let Some(container) = &function.container
                && matches!(
                    function.kind,
                    FunctionKind::Method | FunctionKind::ClassField
                )
            {
                return Some(container);
            }
            at = function.parent;
        }
        None
    }

    /// The type of a plain name: a parameter or local of an enclosing function, a module-level
    /// local, or a class named for a static call.
    fn name_type(&self, name: &str, at: Option<u32>) -> Ty {
        let mut scope = at;
        loop {
            if let Some(index) = scope {
                let Some(function) = self.facts.functions.get(index as usize) else {
                    return Ty::Unknown;
                };
                if let Some(param) = function
                    .params
                    .iter()
                    .find(|p| p.name.as_deref() == Some(name))
                {
                    return match &param.type_text {
                        Some(text) => self.ty(&Written {
                            text: text.clone(),
                            scope: self.file,
                        }),
                        None => Ty::Unknown,
                    };
                }
            }
            if let Some(local) = self.locals().get(&(scope, name)) {
                return self.value_type(&local.value, scope, 0);
            }
            match scope {
                Some(index) => scope = self.facts.functions[index as usize].parent,
                None => break,
            }
        }
        // `OrderService.load(…)`: a static method on a class.
        match self.resolve_name(self.file, name) {
            ty @ Ty::Project(_) => ty,
            Ty::External => Ty::External,
            _ => Ty::Unknown,
        }
    }

    /// The type of a declared value.
    fn value_type(&self, value: &ValueFact, at: Option<u32>, depth: u32) -> Ty {
        if depth > 8 {
            return Ty::Unknown;
        }
        match value {
            ValueFact::Type(text) | ValueFact::New(text) => self.ty(&Written {
                text: text.clone(),
                scope: self.file,
            }),
            ValueFact::Path(path) => self.path_type(path, at),
            ValueFact::Call(path) => match path.rsplit_once('.') {
                Some((receiver, method)) => self.call_result(receiver, method, at),
                None => Ty::Unknown,
            },
            ValueFact::Await(inner) => match self.value_type(inner, at, depth + 1) {
                Ty::Builtin(name, args) if name == "Promise" => match args.first() {
                    Some(arg) => self.ty(arg),
                    None => Ty::Unknown,
                },
                other => other,
            },
            ValueFact::Element(inner) => self.element_of(self.value_type(inner, at, depth + 1)),
            ValueFact::Other => Ty::Unknown,
        }
    }

    /// The type of an element of a value of type `ty` (`for (const x of …)`, `items[0]`).
    fn element_of(&self, ty: Ty) -> Ty {
        match ty {
            Ty::Builtin(name, args)
                if matches!(
                    name.as_str(),
                    "Array" | "ReadonlyArray" | "Set" | "ReadonlySet"
                ) =>
            {
                match args.first() {
                    Some(arg) => self.ty(arg),
                    None => Ty::Unknown,
                }
            }
            Ty::External => Ty::External,
            _ => Ty::Unknown,
        }
    }

    /// The type `receiver.method(…)` returns.
    fn call_result(&self, receiver: &str, method: &str, at: Option<u32>) -> Ty {
        self.result_of(self.path_type(receiver, at), method)
    }

    /// The type a call of `method` on a value of type `ty` returns.
    fn result_of(&self, ty: Ty, method: &str) -> Ty {
        match ty {
            Ty::Builtin(name, args) => {
                let element = match (name.as_str(), method) {
                    ("Map" | "ReadonlyMap", "get") => args.get(1),
                    ("Array" | "ReadonlyArray", "find" | "at" | "pop" | "shift" | "findLast") => {
                        args.first()
                    }
                    ("Readonly", _) => return Ty::Unknown,
                    _ => return Ty::External,
                };
                element.map_or(Ty::Unknown, |e| self.ty(e))
            }
            Ty::Project(key) => match self.method(&key, method) {
                Some(Method {
                    returns: Some(returns),
                    ..
                }) => self.ty(&returns),
                _ => Ty::Unknown,
            },
            Ty::External => Ty::External,
            Ty::Unknown => Ty::Unknown,
        }
    }

    /// What `receiver.method(…)` calls, from inside the function `at`.
    pub fn method_call(&self, receiver: &str, method: &str, at: Option<u32>) -> Reached {
        match self.path_type(receiver, at) {
            Ty::Project(key) => {
                match self.method(&key, method) {
                    Some(method) => Reached::Method(method.signature),
                    // Inherited from a supertype the model cannot see into.
                    None if self.ancestry(&key).unknown => Reached::Unknown,
                    None => Reached::NotProject,
                }
            }
            Ty::Builtin(..) | Ty::External => Reached::NotProject,
            Ty::Unknown => Reached::Unknown,
        }
    }
}

/// Where each type's members sit in its module's facts, by type name: the indices of its
/// methods (method signatures, function-valued fields) in `ModuleFacts::functions` and of its
/// typed fields in `ModuleFacts::fields`, in declaration order. Built once per module: a
/// module declaring a few thousand functions is looked into from hundreds of others.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemberIndex {
    methods: HashMap<Name, Vec<u32>>,
    fields: HashMap<Name, Vec<u32>>,
}

#[salsa::tracked(returns(ref))]
pub fn member_index(db: &dyn Db, file: SourceFile) -> Arc<MemberIndex> {
    let facts = module_facts(db, file);
    let mut index = MemberIndex::default();
    for (i, function) in facts.functions.iter().enumerate() {
        if let Some(container) = &function.container
            && matches!(
                function.kind,
                FunctionKind::Method | FunctionKind::Signature | FunctionKind::ClassField
            )
        {
            index
                .methods
                .entry(container.clone())
                .or_default()
                .push(i as u32);
        }
    }
    for (i, field) in facts.fields.iter().enumerate() {
        index
            .fields
            .entry(field.class.clone())
            .or_default()
            .push(i as u32);
    }
    Arc::new(index)
}

/// What each method call of this module reaches, in the order of `ModuleFacts::calls` (`None`
/// for calls of plain functions and of `import * as ns` members, and for calls of a method no
/// rule asks about, unless [`Project::types_every_receiver`]): computed once per module for
/// `context-propagation` and for the project-wide [`unresolved_methods`].
#[salsa::tracked]
pub fn method_calls(db: &dyn Db, file: SourceFile) -> Arc<Vec<Option<Reached>>> {
    let facts = module_facts(db, file);
    let model = Model::new(db, file);
    let namespaces = &crate::signatures::callee_index(db, file).namespaces;
    let watched = (!Project::get(db).types_every_receiver(db)).then(|| watched_methods(db));
    Arc::new(
        facts
            .calls
            .iter()
            .map(|call| match &call.callee {
                crate::facts::Callee::Member { property, .. }
                    if watched
                        .as_ref()
                        .is_some_and(|watched| !watched.contains(property.as_str())) =>
                {
                    None
                }
                crate::facts::Callee::Member { object, property }
                    if !namespaces.contains_key(object.as_str()) =>
                {
                    Some(model.method_call(object, property, call.enclosing_function))
                }
                crate::facts::Callee::Computed { .. } => Some(Reached::Unknown),
                _ => None,
            })
            .collect(),
    )
}

/// Method names the model could not resolve at a call site of this module.
#[salsa::tracked]
pub fn module_unresolved_methods(db: &dyn Db, file: SourceFile) -> Arc<Vec<Name>> {
    if let Some(summary) = crate::db::summary_of(db, file) {
        return summary.unresolved_methods.clone();
    }
    let facts = module_facts(db, file);
    let reached = method_calls(db, file);
    let mut names: Vec<Name> = facts
        .calls
        .iter()
        .zip(reached.iter())
        .filter_map(|(call, reached)| match (&call.callee, reached) {
            (
                crate::facts::Callee::Member { property, .. }
                | crate::facts::Callee::Computed { property },
                Some(Reached::Unknown),
            ) => Some(property.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    Arc::new(names)
}

/// Method names called somewhere in the project on a receiver the model could not resolve: a
/// fix that changes such a method's parameters might break a call no one can see.
#[salsa::tracked]
pub fn unresolved_methods(db: &dyn Db) -> Arc<HashSet<Name>> {
    let mut out = HashSet::default();
    for &file in sorted_files(db).iter() {
        out.extend(module_unresolved_methods(db, file).iter().cloned());
    }
    Arc::new(out)
}

/// Names of functions and methods used somewhere in the project as values (passed, bound): a
/// parameter added to one of them changes what its unseen caller receives.
#[salsa::tracked]
pub fn value_uses(db: &dyn Db) -> Arc<HashSet<Name>> {
    let mut out = HashSet::default();
    for &file in sorted_files(db).iter() {
        match crate::db::summary_of(db, file) {
            Some(summary) => out.extend(summary.value_uses.iter().cloned()),
            None => out.extend(module_value_uses(db, file).iter().cloned()),
        }
    }
    Arc::new(out)
}

/// The names this module uses as values (its share of [`value_uses`]), sorted and without
/// repeats: an edit that changes the module's facts but not these leaves [`value_uses`] alone.
#[salsa::tracked(returns(ref))]
pub fn module_value_uses(db: &dyn Db, file: SourceFile) -> Arc<[Name]> {
    let mut names = module_facts(db, file).value_uses.clone();
    names.sort_unstable();
    names.dedup();
    names.into()
}

/// Names of the project's methods a rule may ask about at a call whose receiver the model
/// cannot type: those that take the context first (`context-propagation` asks whether such a
/// call passes it on), and the async ones and those returning a promise (`explicit-context`,
/// before adding the context to one, asks whether it has a caller no one can see; a method it
/// adds it to for the contract of a supertype's has the name of that one, async or taking the
/// context). Typing a call's receiver is most of what [`method_calls`] costs, and most calls
/// in a project call something else (`push`, `get`, `dispose`…).
#[salsa::tracked]
pub fn watched_methods(db: &dyn Db) -> Arc<HashSet<Name>> {
    let mut out = HashSet::clone(context_methods(db));
    for &file in sorted_files(db).iter() {
        out.extend(module_async_methods(db, file).iter().cloned());
    }
    Arc::new(out)
}

/// The names of this module's async methods and methods returning a promise (its share of
/// [`watched_methods`]).
#[salsa::tracked]
pub fn module_async_methods(db: &dyn Db, file: SourceFile) -> Arc<Vec<Name>> {
    let mut out: Vec<Name> = module_facts(db, file)
        .functions
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FunctionKind::Method
                    | FunctionKind::ClassField
                    | FunctionKind::ObjectMember
                    | FunctionKind::Signature
            ) && (f.is_async || f.returns_promise())
        })
        .map(|f| f.name.clone())
        .collect();
    out.sort();
    out.dedup();
    Arc::new(out)
}

/// Names of project methods that take the context first.
#[salsa::tracked]
pub fn context_methods(db: &dyn Db) -> Arc<HashSet<Name>> {
    let mut out = HashSet::default();
    for &file in sorted_files(db).iter() {
        match crate::db::summary_of(db, file) {
            Some(summary) => out.extend(summary.context_methods.iter().cloned()),
            None => out.extend(module_context_methods(db, file)),
        }
    }
    Arc::new(out)
}

/// The methods of this module's types that take the context first (its share of
/// [`context_methods`]).
pub fn module_context_methods(db: &dyn Db, file: SourceFile) -> Vec<Name> {
    let mut out: Vec<Name> = module_signatures(db, file)
        .types
        .values()
        .flat_map(|methods| {
            methods
                .iter()
                .filter(|(_, sig)| sig.context_first)
                .map(|(name, _)| name.clone())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::{split_generic, strip_nullish};

    #[test]
    fn generic_arguments_split_at_the_top_level() {
        assert_eq!(
            split_generic("Map<string, Handler<Map<A, B>>>"),
            ("Map", vec!["string", "Handler<Map<A, B>>"])
        );
        assert_eq!(split_generic("OrderStore"), ("OrderStore", vec![]));
        assert_eq!(strip_nullish("readonly (Store | undefined)"), "Store");
        assert_eq!(strip_nullish("A | B"), "A | B");
        assert!(super::top_level_any("A | B", &['|']));
        assert!(!super::top_level_any("Promise<A | undefined>", &['|']));
    }
}
