//! `krepis init`: a commented `krepis.json` for the layout found in the tree.
//!
//! The tree is read the way an architect reads it: folder names of the common schools
//! (hexagonal, clean, onion, DDD, NestJS CQRS) and file-name suffixes (`*.controller.ts`,
//! `*.port.ts`…) say which layer a file belongs to, from the one table [`SIGNS`], which
//! `docs/init.md` shows (a test keeps the two equal). What is written is explained: each layer with
//! the globs chosen and the files each matched, the files left outside every layer, what
//! `krepis check` would then report, and feature folders that could be kept apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use krepis_analyzer::config::LayerConfig;
use krepis_analyzer::layers::{EdgeViolation, LayerMap};

/// The four layers, innermost first: each may import the ones before it.
pub const LAYERS: [&str; 4] = ["domain", "application", "infrastructure", "adapters"];

/// What a sign looks at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// The name of a folder the file is in.
    Folder,
    /// The end of the file's name, before the extension.
    Suffix,
}

/// How much a name says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Strength {
    /// A file-name suffix naming a role only one layer has (a controller is an adapter wherever
    /// it is, say in a use case's folder): decides before any folder.
    Role,
    /// Names only a layer has (`domain`, `infrastructure`): they decide, whatever the file is called.
    Strong,
    /// A file-name suffix: decides unless a strong folder says otherwise.
    Name,
    /// Names that group code but also mean other things (`commands`, `database`, `api`): they
    /// decide only when neither a strong folder nor the file's name does.
    Weak,
}

/// One row of the table: a folder name or file-name suffix, and the layer it means.
pub struct Sign {
    pub kind: Kind,
    /// A folder name (matched ignoring case, `-` and `_`), or a suffix in kebab case, matched as
    /// `.word`, `-word`, `_word` or `Word` at the end of the file's name (`user.port.ts`,
    /// `delete-user.http-controller.ts`, `CreateUserController.ts`).
    pub word: &'static str,
    pub layer: usize,
    pub strength: Strength,
    /// Where the name comes from, for the docs.
    #[cfg_attr(not(test), allow(dead_code))]
    pub school: &'static str,
}

const fn folder(
    word: &'static str,
    layer: usize,
    strength: Strength,
    school: &'static str,
) -> Sign {
    Sign {
        kind: Kind::Folder,
        word,
        layer,
        strength,
        school,
    }
}

const fn suffix(word: &'static str, layer: usize, school: &'static str) -> Sign {
    Sign {
        kind: Kind::Suffix,
        word,
        layer,
        strength: Strength::Name,
        school,
    }
}

const fn role(word: &'static str, layer: usize, school: &'static str) -> Sign {
    Sign {
        kind: Kind::Suffix,
        word,
        layer,
        strength: Strength::Role,
        school,
    }
}

use Strength::{Strong, Weak};

/// The table `init` reads the tree with (rendered in `docs/init.md`).
pub const SIGNS: &[Sign] = &[
    folder("domain", 0, Strong, "hexagonal, onion, DDD"),
    folder(
        "core",
        0,
        Weak,
        "clean (the inner circle); a container when it holds layer folders",
    ),
    folder("model", 0, Weak, "DDD, MVC"),
    folder("models", 0, Weak, "NestJS CQRS (the aggregates)"),
    folder("entities", 0, Weak, "clean"),
    folder("aggregates", 0, Weak, "DDD"),
    folder("value-objects", 0, Weak, "DDD"),
    suffix("entity", 0, "DDD, NestJS (`user.entity.ts`)"),
    suffix("value-object", 0, "DDD (`address.value-object.ts`)"),
    suffix("aggregate", 0, "DDD"),
    suffix("aggregate-root", 0, "DDD"),
    suffix("event", 0, "CQRS (`hero-killed-dragon.event.ts`)"),
    suffix("domain-event", 0, "DDD (`user-created.domain-event.ts`)"),
    folder("application", 1, Strong, "hexagonal, onion, DDD"),
    folder(
        "use-cases",
        1,
        Strong,
        "clean (`usecases`, `use_cases`, `useCases` too)",
    ),
    folder("ports", 1, Strong, "hexagonal"),
    folder("interactors", 1, Strong, "clean"),
    folder(
        "commands",
        1,
        Weak,
        "CQRS (a command's slice may hold its controller)",
    ),
    folder("queries", 1, Weak, "CQRS"),
    folder("services", 1, Weak, "layered, NestJS"),
    folder("service", 1, Weak, "layered"),
    suffix("port", 1, "hexagonal (`user.repository.port.ts`)"),
    suffix("use-case", 1, "clean (`CreateUserUseCase.ts`)"),
    suffix("usecase", 1, "clean"),
    suffix("interactor", 1, "clean"),
    suffix("service", 1, "NestJS, layered (`create-user.service.ts`)"),
    suffix("command-handler", 1, "CQRS"),
    suffix("query-handler", 1, "CQRS (`find-users.query-handler.ts`)"),
    suffix("event-handler", 1, "DDD, CQRS"),
    folder("infrastructure", 2, Strong, "hexagonal, onion, DDD"),
    folder("infra", 2, Strong, "hexagonal, DDD"),
    folder("persistence", 2, Strong, "hexagonal, onion"),
    folder(
        "database",
        2,
        Weak,
        "NestJS hexagonal (a module's repositories and their ports)",
    ),
    folder("db", 2, Weak, "layered"),
    folder("repositories", 2, Weak, "layered, DDD"),
    folder("gateways", 2, Weak, "clean (driven gateways)"),
    suffix("repository", 2, "DDD, NestJS (`user.repository.ts`)"),
    folder("adapters", 3, Strong, "hexagonal (`adapter` too)"),
    folder("adapter", 3, Strong, "hexagonal"),
    folder("controllers", 3, Strong, "MVC, NestJS, clean"),
    folder("presentation", 3, Strong, "layered, onion"),
    folder("interface-adapters", 3, Strong, "clean"),
    folder(
        "api",
        3,
        Weak,
        "a container when it holds layer folders (`apps/api`)",
    ),
    folder("http", 3, Weak, "hexagonal"),
    folder("web", 3, Weak, "clean, layered"),
    folder("rest", 3, Weak, "hexagonal"),
    folder("graphql", 3, Weak, "NestJS"),
    folder("resolvers", 3, Weak, "GraphQL"),
    folder("routes", 3, Weak, "Express"),
    folder("cli", 3, Weak, "hexagonal (a driving adapter)"),
    folder("interfaces", 3, Weak, "clean (interface adapters)"),
    role(
        "controller",
        3,
        "NestJS, MVC (`create-user.http.controller.ts`)",
    ),
    role(
        "resolver",
        3,
        "NestJS GraphQL (`find-users.graphql-resolver.ts`)",
    ),
    suffix("adapter", 3, "hexagonal (`mysql.adapter.ts`)"),
    role("middleware", 3, "Express, NestJS"),
];

/// Child folders of a feature parent that every feature shares: never isolated.
const SHARED_FOLDERS: [&str; 9] = [
    "shared",
    "common",
    "core",
    "kernel",
    "sharedkernel",
    "lib",
    "libs",
    "util",
    "utils",
];

/// Folders that group features or packages rather than being one.
const GROUPING_FOLDERS: [&str; 10] = [
    "src",
    "app",
    "apps",
    "packages",
    "modules",
    "features",
    "contexts",
    "boundedcontexts",
    "domains",
    "components",
];

const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/krepis/krepis/main/schemas/krepis.schema.json";

const DOCS_URL: &str = "https://github.com/krepis/krepis/blob/main/docs/init.md";

/// A folder name as the table compares it: lower case, without `-` and `_`.
fn normal(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn folder_sign(name: &str) -> Option<&'static Sign> {
    let name = normal(name);
    SIGNS
        .iter()
        .find(|s| s.kind == Kind::Folder && normal(s.word) == name)
}

/// `value-object` → `ValueObject`.
fn pascal(word: &str) -> String {
    word.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// The longest suffix sign the file name ends with, and the glob that selects such names.
fn suffix_sign(file_name: &str) -> Option<(&'static Sign, String)> {
    let (stem, extension) = file_name.rsplit_once('.')?;
    let mut best: Option<(&'static Sign, String)> = None;
    for sign in SIGNS.iter().filter(|s| s.kind == Kind::Suffix) {
        let forms = [
            format!(".{}", sign.word),
            format!("-{}", sign.word),
            format!("_{}", sign.word.replace('-', "_")),
            pascal(sign.word),
        ];
        for form in forms {
            if stem.len() > form.len()
                && stem.ends_with(&form)
                && best
                    .as_ref()
                    .is_none_or(|(b, _)| b.word.len() < sign.word.len())
            {
                best = Some((sign, format!("**/*{form}.{extension}")));
            }
        }
    }
    best
}

/// A path segment as a glob that matches only it; `None` for names a glob cannot spell here.
fn glob_literal(segment: &str) -> Option<String> {
    if segment.contains(['<', '>', '\\', '"']) || segment.chars().any(char::is_control) {
        return None;
    }
    Some(
        segment
            .chars()
            .map(|c| match c {
                '*' | '?' | '[' | ']' | '{' | '}' | '!' => format!("[{c}]"),
                c => c.to_string(),
            })
            .collect(),
    )
}

/// The tree as `init` sees it, relative to the project folder, `/`-separated.
#[derive(Default)]
struct Tree {
    dirs: BTreeSet<String>,
    files: Vec<String>,
    /// Folders the walk could not read.
    unreadable: usize,
}

/// The TypeScript files `krepis check` would check and every folder, gitignore respected.
fn walk(root: &Path) -> Tree {
    let defaults = krepis_analyzer::config::Config::default_for(root);
    let mut tree = Tree::default();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && (e.file_name() == "node_modules" || e.file_name() == ".git"))
        })
        .build();
    for entry in walker {
        let Ok(entry) = entry else {
            tree.unreadable += 1;
            continue;
        };
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative = krepis_analyzer::config::slash_path(relative);
        if relative.is_empty() {
            continue;
        }
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            tree.dirs.insert(relative);
        } else if krepis_analyzer::facts::is_checkable_path(entry.path())
            && !defaults.is_ignored(entry.path())
        {
            tree.files.push(relative);
        }
    }
    tree.files.sort();
    tree
}

/// Why a file is in its layer.
#[derive(Clone, Debug)]
struct Reason {
    layer: usize,
    /// The glob that expresses the reason.
    glob: String,
}

/// A layer folder: its layer, and whether its name is strong.
#[derive(Clone, Copy)]
struct LayerDir {
    layer: usize,
    strong: bool,
}

/// One layer as it is written.
#[derive(Clone, Debug)]
pub struct PlannedLayer {
    pub layer: usize,
    /// Globs with the number of files each one owns.
    pub globs: Vec<(String, usize)>,
}

/// Feature folders under a common parent.
#[derive(Debug, Default)]
pub struct Features {
    pub parent: String,
    pub names: Vec<String>,
    pub shared: Vec<String>,
    pub layers: Vec<LayerConfig>,
    /// Imports between files of different features, and those of them `isolate` reports.
    pub cross_imports: Option<(usize, usize)>,
}

/// Everything `init` found, and the layers it chose.
#[derive(Default)]
pub struct Plan {
    pub files: usize,
    pub unreadable: usize,
    pub layers: Vec<PlannedLayer>,
    /// Files of each layer (by plan index).
    pub counts: Vec<usize>,
    pub outside: Vec<String>,
    /// Folders named like a layer that hold other layers, with what they hold.
    pub containers: Vec<(String, Vec<String>)>,
    /// Files whose names or folders say one layer while the globs give them another.
    pub misplaced: Vec<(String, Option<usize>, Option<usize>)>,
    /// Why a layer comes before another: (earlier, later, files, an example).
    pub order_reasons: Vec<(usize, usize, usize, String)>,
    /// Imports `layer-boundary` would report, by (from layer, to layer), with an example.
    pub violations: Option<BTreeMap<(usize, usize), (usize, String)>>,
    pub features: Option<Features>,
}

impl Plan {
    pub fn layer_configs(&self) -> Vec<LayerConfig> {
        self.layers
            .iter()
            .map(|planned| LayerConfig {
                name: LAYERS[planned.layer].to_string(),
                paths: planned.globs.iter().map(|(g, _)| g.clone()).collect(),
                allow: allowed(planned.layer, &self.layers),
                ..LayerConfig::default()
            })
            .collect()
    }
}

/// The layers a layer may import: the planned ones inside it, innermost first.
fn allowed(layer: usize, planned: &[PlannedLayer]) -> Vec<String> {
    let mut inner: Vec<usize> = planned
        .iter()
        .map(|p| p.layer)
        .filter(|l| *l < layer)
        .collect();
    inner.sort();
    inner.into_iter().map(|l| LAYERS[l].to_string()).collect()
}

/// A matcher for one glob (a layer map with that one pattern).
fn matcher(glob: &str) -> Option<LayerMap> {
    LayerMap::new(&[LayerConfig {
        name: "m".into(),
        paths: vec![glob.to_string()],
        allow: vec![],
        ..LayerConfig::default()
    }])
    .ok()
}

fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Reads the tree and decides the layers; `imports` are (importer, imported) file pairs.
fn plan(tree: &Tree, imports: Option<&[(String, String)]>) -> Plan {
    // Folders named like a layer.
    let mut layer_dirs: BTreeMap<&str, LayerDir> = BTreeMap::new();
    for dir in &tree.dirs {
        let name = dir.rsplit('/').next().unwrap_or(dir);
        if let Some(sign) = folder_sign(name) {
            layer_dirs.insert(
                dir,
                LayerDir {
                    layer: sign.layer,
                    strong: sign.strength == Strong,
                },
            );
        }
    }
    // A layer folder holding what cannot be inside it is a container of layers, not a layer:
    // `src/application/{domain,adapter}`, `apps/api/src/domain`, `core/{domain,application}`.
    let mut containers: Vec<(String, Vec<String>)> = Vec::new();
    for (&dir, info) in &layer_dirs {
        let inside: Vec<(&str, LayerDir)> = layer_dirs
            .range::<str, _>((std::ops::Bound::Excluded(dir), std::ops::Bound::Unbounded))
            .take_while(|(d, _)| d.starts_with(dir))
            .filter(|(d, l)| is_under(d, dir) && l.strong)
            .map(|(d, l)| (*d, *l))
            .collect();
        let others: BTreeSet<usize> = inside
            .iter()
            .map(|(_, l)| l.layer)
            .filter(|l| *l != info.layer)
            .collect();
        let container = (!info.strong && !others.is_empty())
            || inside.iter().any(|(_, l)| l.layer < info.layer)
            || others.len() >= 2;
        if container {
            let mut held: Vec<String> = inside
                .iter()
                .map(|(d, _)| d.rsplit('/').next().unwrap_or(d).to_string())
                .collect();
            held.dedup();
            containers.push((dir.to_string(), held));
        }
    }
    let container_set: BTreeSet<&str> = containers.iter().map(|(d, _)| d.as_str()).collect();
    for (dir, _) in &containers {
        layer_dirs.remove(dir.as_str());
    }
    // Spelled names that are a container somewhere are written as the paths of their layers.
    let ambiguous: BTreeSet<&str> = container_set
        .iter()
        .map(|d| d.rsplit('/').next().unwrap_or(d))
        .collect();
    let folder_glob = |dir: &str| -> Option<String> {
        let name = dir.rsplit('/').next().unwrap_or(dir);
        if ambiguous.contains(name) {
            let segments: Option<Vec<String>> = dir.split('/').map(glob_literal).collect();
            Some(format!("{}/**", segments?.join("/")))
        } else {
            Some(format!("**/{}/**", glob_literal(name)?))
        }
    };

    // What each file says: the outermost strong folder, else its name, else the outermost weak
    // folder.
    let mut intended: Vec<Option<Reason>> = Vec::with_capacity(tree.files.len());
    for file in &tree.files {
        let segments: Vec<&str> = file.split('/').collect();
        let mut strong: Option<Reason> = None;
        let mut weak: Option<Reason> = None;
        for depth in 1..segments.len() {
            let dir = segments[..depth].join("/");
            let Some(info) = layer_dirs.get(dir.as_str()) else {
                continue;
            };
            let slot = if info.strong { &mut strong } else { &mut weak };
            if slot.is_none()
                && let Some(glob) = folder_glob(&dir)
            {
                *slot = Some(Reason {
                    layer: info.layer,
                    glob,
                });
            }
        }
        let name = segments.last().copied().unwrap_or_default();
        let (role, by_name) = match suffix_sign(name) {
            Some((sign, glob)) => {
                let reason = Reason {
                    layer: sign.layer,
                    glob,
                };
                if sign.strength == Strength::Role {
                    (Some(reason), None)
                } else {
                    (None, Some(reason))
                }
            }
            None => (None, None),
        };
        intended.push(role.or(strong).or(by_name).or(weak));
    }

    // The globs of each layer: those that decided a file, and those of empty layer folders.
    let mut globs: BTreeMap<usize, Vec<(String, usize)>> = BTreeMap::new();
    for reason in intended.iter().flatten() {
        let list = globs.entry(reason.layer).or_default();
        match list.iter_mut().find(|(g, _)| *g == reason.glob) {
            Some((_, n)) => *n += 1,
            None => list.push((reason.glob.clone(), 1)),
        }
    }
    for (dir, info) in &layer_dirs {
        let nested = layer_dirs
            .keys()
            .any(|other| other != dir && is_under(dir, other));
        let empty = !nested && !tree.files.iter().any(|f| is_under(f, dir));
        if let Some(glob) = folder_glob(dir)
            && empty
        {
            let list = globs.entry(info.layer).or_default();
            if !list.iter().any(|(g, _)| *g == glob) {
                list.push((glob, 0));
            }
        }
    }
    for list in globs.values_mut() {
        // Folders first, then names; the most used first.
        list.sort_by(|a, b| {
            let folder = |g: &str| !g.ends_with("/**");
            (folder(&a.0), std::cmp::Reverse(a.1), &a.0).cmp(&(
                folder(&b.0),
                std::cmp::Reverse(b.1),
                &b.0,
            ))
        });
    }
    let matchers: BTreeMap<String, LayerMap> = globs
        .values()
        .flatten()
        .filter_map(|(g, _)| Some((g.clone(), matcher(g)?)))
        .collect();
    let matches = |glob: &str, file: &str| {
        matchers
            .get(glob)
            .is_some_and(|m| m.classify(file).is_some())
    };

    // The first matching layer owns a file, so a layer whose files other layers' globs also
    // match goes first: `adapters` before `application` for `commands/x.controller.ts`.
    let present: Vec<usize> = globs.keys().copied().collect();
    let mut before: BTreeMap<(usize, usize), (usize, String)> = BTreeMap::new();
    for (file, reason) in tree.files.iter().zip(&intended) {
        let Some(reason) = reason else { continue };
        for (&layer, list) in &globs {
            if layer != reason.layer && list.iter().any(|(g, _)| matches(g, file)) {
                let entry = before
                    .entry((reason.layer, layer))
                    .or_insert((0, file.clone()));
                entry.0 += 1;
            }
        }
    }
    let mut order: Vec<usize> = Vec::new();
    let mut remaining: Vec<usize> = present.clone();
    let mut order_reasons = Vec::new();
    while !remaining.is_empty() {
        // The innermost layer left, unless a layer must come before it: then that one (and so
        // on). In a cycle (controllers in `database/`, repositories in `http/`) the walk stops
        // where it started, and the files that land elsewhere are listed as misplaced.
        let mut next = remaining[0];
        let mut seen = vec![next];
        while let Some(&blocker) = remaining
            .iter()
            .find(|&&other| other != next && before.contains_key(&(other, next)))
        {
            if seen.contains(&blocker) {
                break;
            }
            seen.push(blocker);
            next = blocker;
        }
        for &later in &remaining {
            if let Some((n, example)) = before.get(&(next, later))
                && later < next
            {
                order_reasons.push((next, later, *n, example.clone()));
            }
        }
        order.push(next);
        remaining.retain(|&l| l != next);
    }

    let layers: Vec<PlannedLayer> = order
        .iter()
        .map(|&layer| PlannedLayer {
            layer,
            globs: globs.get(&layer).cloned().unwrap_or_default(),
        })
        .collect();
    let mut plan = Plan {
        files: tree.files.len(),
        unreadable: tree.unreadable,
        layers,
        containers,
        order_reasons,
        ..Plan::default()
    };
    // What the written globs really do, counted with the analyzer's own matcher.
    let Ok(map) = LayerMap::new(&plan.layer_configs()) else {
        return plan;
    };
    plan.counts = vec![0; plan.layers.len()];
    for planned in &mut plan.layers {
        for glob in &mut planned.globs {
            glob.1 = 0;
        }
    }
    let mut classified: BTreeMap<&str, usize> = BTreeMap::new();
    for (file, reason) in tree.files.iter().zip(&intended) {
        let found = map.classify(file).map(|m| m.layer);
        match found {
            Some(index) => {
                classified.insert(file, plan.layers[index].layer);
                plan.counts[index] += 1;
                let planned = &mut plan.layers[index];
                // The glob that stands for the file's reason, else the first that matches.
                let position = reason
                    .as_ref()
                    .and_then(|r| planned.globs.iter().position(|(g, _)| *g == r.glob))
                    .or_else(|| planned.globs.iter().position(|(g, _)| matches(g, file)));
                if let Some(position) = position {
                    planned.globs[position].1 += 1;
                }
            }
            None => plan.outside.push(file.clone()),
        }
        let found_layer = found.map(|i| plan.layers[i].layer);
        let meant = reason.as_ref().map(|r| r.layer);
        if found_layer != meant {
            plan.misplaced.push((file.clone(), meant, found_layer));
        }
    }
    if let Some(imports) = imports {
        let mut violations: BTreeMap<(usize, usize), (usize, String)> = BTreeMap::new();
        for (from, to) in imports {
            let (Some(a), Some(b)) = (map.classify(from), map.classify(to)) else {
                continue;
            };
            if map.check_edge(&a, &b).is_err() {
                let key = (plan.layers[a.layer].layer, plan.layers[b.layer].layer);
                let entry = violations
                    .entry(key)
                    .or_insert((0, format!("{from} → {to}")));
                entry.0 += 1;
            }
        }
        plan.violations = Some(violations);
    }
    plan.features = features(tree, &layer_dirs, &classified, &plan, imports);
    plan
}

/// Feature folders: two or more sibling folders that hold layered files and are not layers
/// themselves (`src/modules/{user,wallet}`, `src/Contexts/{Mooc,Backoffice}`).
fn features(
    tree: &Tree,
    layer_dirs: &BTreeMap<&str, LayerDir>,
    classified: &BTreeMap<&str, usize>,
    plan: &Plan,
    imports: Option<&[(String, String)]>,
) -> Option<Features> {
    let in_layer = |dir: &str| {
        let segments: Vec<&str> = dir.split('/').collect();
        (1..=segments.len()).any(|n| layer_dirs.contains_key(segments[..n].join("/").as_str()))
    };
    let mut best: Option<(usize, usize, Features)> = None;
    let parents = std::iter::once(String::new()).chain(tree.dirs.iter().cloned());
    for parent in parents {
        if !parent.is_empty() && in_layer(&parent) {
            continue;
        }
        let prefix = if parent.is_empty() {
            String::new()
        } else {
            format!("{parent}/")
        };
        let mut names = Vec::new();
        let mut shared = Vec::new();
        let mut layered = 0;
        for child in tree.dirs.iter().filter(|d| {
            d.strip_prefix(&prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        }) {
            let name = &child[prefix.len()..];
            if layer_dirs.contains_key(child.as_str())
                || glob_literal(name).as_deref() != Some(name)
            {
                continue;
            }
            let inside: Vec<usize> = classified
                .iter()
                .filter(|(f, _)| is_under(f, child))
                .map(|(_, &layer)| layer)
                .collect();
            if inside.is_empty() {
                continue;
            }
            let kinds: BTreeSet<usize> = inside.iter().copied().collect();
            if SHARED_FOLDERS.contains(&normal(name).as_str()) {
                shared.push(name.to_string());
            } else if kinds.len() >= 2 && !GROUPING_FOLDERS.contains(&normal(name).as_str()) {
                // A feature is a slice through the layers, not a folder of folders.
                names.push(name.to_string());
                layered += inside.len();
            }
        }
        if names.len() < 2 {
            continue;
        }
        let depth = parent.matches('/').count() + usize::from(!parent.is_empty());
        // Bounded contexts before the modules inside them: the shallowest parent wins.
        let better = best
            .as_ref()
            .is_none_or(|(n, d, _)| depth < *d || (depth == *d && layered > *n));
        if better {
            best = Some((
                layered,
                depth,
                Features {
                    parent,
                    names,
                    shared,
                    ..Features::default()
                },
            ));
        }
    }
    let (_, _, mut found) = best?;
    let base = |child: &str| {
        if found.parent.is_empty() {
            child.to_string()
        } else {
            format!("{}/{child}", found.parent)
        }
    };
    // `isolate` needs the capture in every path of a layer, so each layer becomes two: its
    // files inside the features (captured, isolated), and the same layer elsewhere (`shared-…`:
    // `libs/`, the apps around the features). The shared kernel among the features is one layer
    // of its own, first, so that it is never captured as a feature.
    let main = plan.layer_configs();
    let shared_name = |name: &str| format!("shared-{name}");
    let mut layers: Vec<LayerConfig> = Vec::new();
    if !found.shared.is_empty() {
        layers.push(LayerConfig {
            name: "shared-kernel".into(),
            paths: found
                .shared
                .iter()
                .map(|s| format!("{}/**", base(s)))
                .collect(),
            allow: main
                .iter()
                .flat_map(|l| [l.name.clone(), shared_name(&l.name)])
                .collect(),
            ..LayerConfig::default()
        });
    }
    let kernel: Vec<String> = layers.iter().map(|l| l.name.clone()).collect();
    for layer in &main {
        let within = |glob: &str| -> Option<String> {
            let folder = base("<feature>");
            if let Some(rest) = glob.strip_prefix("**/") {
                return Some(format!("{folder}/**/{rest}"));
            }
            let parent_prefix = if found.parent.is_empty() {
                String::new()
            } else {
                format!("{}/", found.parent)
            };
            let (child, tail) = glob.strip_prefix(&parent_prefix)?.split_once('/')?;
            found
                .names
                .iter()
                .any(|n| n == child)
                .then(|| format!("{folder}/{tail}"))
        };
        let mut paths: Vec<String> = Vec::new();
        for glob in &layer.paths {
            if let Some(p) = within(glob)
                && !paths.contains(&p)
            {
                paths.push(p);
            }
        }
        let mut allow: Vec<String> = Vec::new();
        for inner in &layer.allow {
            allow.push(inner.clone());
            allow.push(shared_name(inner));
        }
        allow.extend(kernel.iter().cloned());
        if !paths.is_empty() {
            let mut own = allow.clone();
            own.push(shared_name(&layer.name));
            layers.push(LayerConfig {
                name: layer.name.clone(),
                paths,
                allow: own,
                isolate: Some("feature".into()),
                ..LayerConfig::default()
            });
            allow.push(layer.name.clone());
        }
        layers.push(LayerConfig {
            name: shared_name(&layer.name),
            paths: layer.paths.clone(),
            allow,
            ..LayerConfig::default()
        });
    }
    // Every name an `allow` list gives must be a layer.
    let known: BTreeSet<String> = layers.iter().map(|l| l.name.clone()).collect();
    for layer in &mut layers {
        layer.allow.retain(|a| known.contains(a));
    }
    if let (Some(imports), Ok(map)) = (imports, LayerMap::new(&layers)) {
        let feature_of = |file: &str| -> Option<String> {
            let rest = if found.parent.is_empty() {
                file
            } else {
                file.strip_prefix(&format!("{}/", found.parent))?
            };
            // Any folder under the parent is captured, features or not; the shared kernel is not.
            let (name, _) = rest.split_once('/')?;
            (!found.shared.iter().any(|n| n == name)).then(|| name.to_string())
        };
        let (mut all, mut isolated) = (0, 0);
        for (from, to) in imports {
            let (Some(a), Some(b)) = (feature_of(from), feature_of(to)) else {
                continue;
            };
            if a == b {
                continue;
            }
            all += 1;
            if let (Some(x), Some(y)) = (map.classify(from), map.classify(to))
                && matches!(map.check_edge(&x, &y), Err(EdgeViolation::Isolated { .. }))
            {
                isolated += 1;
            }
        }
        found.cross_imports = Some((all, isolated));
    }
    found.layers = layers;
    Some(found)
}

fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn layer_line(layer: &LayerConfig) -> String {
    let list = |items: &[String]| items.iter().map(|s| json(s)).collect::<Vec<_>>().join(", ");
    let isolate = layer
        .isolate
        .as_ref()
        .map(|i| format!(", \"isolate\": {}", json(i)))
        .unwrap_or_default();
    format!(
        "{{ \"name\": {}, \"paths\": [{}], \"allow\": [{}]{isolate} }}",
        json(&layer.name),
        list(&layer.paths),
        list(&layer.allow)
    )
}

/// The text of the file.
pub fn config_text(plan: &Plan) -> String {
    let mut configs = plan.layer_configs();
    if configs.is_empty() {
        // Without any layer folder, the conventional four are written so the file shows the idea.
        configs = LAYERS
            .iter()
            .enumerate()
            .map(|(i, name)| LayerConfig {
                name: name.to_string(),
                paths: vec![format!("**/{name}/**")],
                allow: LAYERS[..i].iter().map(|s| s.to_string()).collect(),
                ..LayerConfig::default()
            })
            .collect();
    }
    let layers: Vec<String> = configs
        .iter()
        .map(|l| format!("    {}", layer_line(l)))
        .collect();
    let mut features = String::new();
    if let Some(found) = &plan.features {
        let shown = if found.parent.is_empty() {
            "<feature>".to_string()
        } else {
            format!("{}/<feature>", found.parent)
        };
        features.push_str(&format!(
            "\n  // Feature folders: {shown} ({}).\n",
            found.names.join(", ")
        ));
        features.push_str(
            "  // To keep them apart, replace \"layers\" above with the block below: the same layers,\n  // each split into its files inside the features (captured, isolated) and elsewhere\n  // (`shared-…`); an import between two features is reported when both files are in the\n  // same layer.\n",
        );
        if !found.shared.is_empty() {
            features.push_str(&format!(
                "  // The shared kernel ({}) is one layer every feature may use.\n",
                found.shared.join(", ")
            ));
        }
        if let Some((all, isolated)) = found.cross_imports {
            features.push_str(&format!(
                "  // Today: {} between features, of which `krepis check` would report {isolated}.\n",
                plural(all, "import")
            ));
        }
        features.push_str("  // \"layers\": [\n");
        for layer in &found.layers {
            features.push_str(&format!("  //   {},\n", layer_line(layer)));
        }
        features.push_str("  // ],\n");
    }
    format!(
        r#"{{
  "$schema": "{SCHEMA_URL}",

  // The request context every async function takes first (rule `explicit-context`), and where
  // the fix imports its type from.
  "context": {{ "type": "KrepisContext", "param": "ctx", "module": "@krepis/core" }},

  // Layers are tried in order; the first whose glob matches a file owns it. A layer may import
  // itself and the layers in its `allow` list. Files outside every layer are unconstrained.
  // A `<name>` path segment captures a folder name; `"isolate": "name"` keeps such folders apart.
  // `krepis init` chose these from the folder and file names it found; how it reads them:
  // {DOCS_URL}
  "layers": [
{}
  ],
{features}
  // "rule": "error" | "warn" | "off", or ["error", {{ options }}]; `krepis explain RULE` has each
  // rule's options. Rules not listed keep their default severity.
  "rules": {{
    "command-query-separation": "warn",
    "import-cycle": "warn"
  }},

  // Files never checked (globs relative to this file).
  "ignore": ["**/node_modules/**", "**/*.test.ts", "**/*_test.ts", "**/*.spec.ts", "**/*.d.ts"]
}}
"#,
        layers.join(",\n")
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Paths grouped by folder for a short list: `src/libs/ddd/ (9 files)`.
fn grouped(paths: &[String], limit: usize) -> Vec<String> {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for path in paths {
        let folder = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        groups.entry(folder).or_default().push(path);
    }
    let mut lines: Vec<String> = Vec::new();
    for (folder, files) in &groups {
        if files.len() <= 3 {
            lines.extend(files.iter().map(|f| f.to_string()));
        } else {
            let shown = if folder.is_empty() { "." } else { folder };
            lines.push(format!("{shown}/ ({} files)", files.len()));
        }
    }
    if lines.len() > limit {
        let rest = lines.len() - limit;
        lines.truncate(limit);
        lines.push(format!("… and {rest} more (files or folders)"));
    }
    lines
}

fn layer_name(layer: Option<usize>) -> &'static str {
    layer.map_or("no layer", |l| LAYERS[l])
}

/// What `init` tells the user about the plan.
pub fn explanation(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Read {} (tests and .d.ts files aside, as the \"ignore\" list says).\n",
        plural(plan.files, "source file")
    ));
    if plan.unreadable > 0 {
        out.push_str(&format!(
            "{} could not be read and {} not counted.\n",
            plural(plan.unreadable, "entry"),
            if plan.unreadable == 1 { "is" } else { "are" }
        ));
    }
    if plan.layers.is_empty() {
        out.push_str(
            "No layer folders or file names found: writing the conventional layers (domain, application, infrastructure, adapters) so the file shows the idea.\n",
        );
        return out;
    }
    out.push_str("\nLayers, tried in this order (the first whose globs match a file owns it):\n");
    for (index, planned) in plan.layers.iter().enumerate() {
        let allow = allowed(planned.layer, &plan.layers);
        let imports = if allow.is_empty() {
            "imports no other layer".to_string()
        } else {
            format!("may import {}", allow.join(", "))
        };
        out.push_str(&format!(
            "  {} — {}, {imports}\n",
            LAYERS[planned.layer],
            plural(plan.counts.get(index).copied().unwrap_or(0), "file")
        ));
        for (glob, count) in &planned.globs {
            out.push_str(&format!("    {count:>5}  {glob}\n"));
        }
    }
    for (earlier, later, files, example) in &plan.order_reasons {
        out.push_str(&format!(
            "{} comes before {}: {} match globs of both and {} {} (e.g. {example}).\n",
            LAYERS[*earlier],
            LAYERS[*later],
            plural(*files, "file"),
            if *files == 1 {
                "its name or folder says"
            } else {
                "their names or folders say"
            },
            LAYERS[*earlier]
        ));
    }
    for (dir, held) in &plan.containers {
        out.push_str(&format!(
            "{dir}/ is named like a layer but holds layer folders ({}): read as a container, not a layer.\n",
            held.join(", ")
        ));
    }
    if !plan.misplaced.is_empty() {
        out.push_str(&format!(
            "{} that the globs put elsewhere than their names or folders say:\n",
            plural(plan.misplaced.len(), "file")
        ));
        for (file, meant, found) in plan.misplaced.iter().take(10) {
            out.push_str(&format!(
                "  {file}: {} by its name or folder, {} by the globs\n",
                layer_name(*meant),
                layer_name(*found)
            ));
        }
    }
    if plan.outside.is_empty() {
        out.push_str("Every file is in a layer.\n");
    } else {
        out.push_str(&format!(
            "Outside every layer (unconstrained: composition roots, shared code): {}\n",
            plural(plan.outside.len(), "file")
        ));
        for line in grouped(&plan.outside, 12) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    match &plan.violations {
        Some(violations) if violations.is_empty() => {
            out.push_str("With these layers `krepis check` reports no layer-boundary import.\n");
        }
        Some(violations) => {
            let total: usize = violations.values().map(|(n, _)| n).sum();
            out.push_str(&format!(
                "With these layers `krepis check` reports {} (layer-boundary):\n",
                plural(total, "import")
            ));
            for ((from, to), (n, example)) in violations {
                out.push_str(&format!(
                    "  {} → {}: {n} (e.g. {example})\n",
                    LAYERS[*from], LAYERS[*to]
                ));
            }
        }
        None => {}
    }
    if let Some(found) = &plan.features {
        let shown = if found.parent.is_empty() {
            ".".to_string()
        } else {
            found.parent.clone()
        };
        out.push_str(&format!(
            "Feature folders under {shown}/: {}",
            found.names.join(", ")
        ));
        if !found.shared.is_empty() {
            out.push_str(&format!(" (shared: {})", found.shared.join(", ")));
        }
        out.push_str(
            ".\n  krepis.json offers, commented out, layers with `<feature>` captures and \"isolate\": \"feature\"",
        );
        match found.cross_imports {
            Some((all, isolated)) => out.push_str(&format!(
                ":\n  {} between features today, {isolated} of them between files of the same layer, which it would report.\n",
                plural(all, "import")
            )),
            None => out.push_str(".\n"),
        }
    }
    out
}

/// (importer, imported) pairs of the project's files, relative to `root`, one per import.
fn imports(root: &Path) -> Option<Vec<(String, String)>> {
    let options = krepis_analyzer::LoadOptions {
        config_file: None,
        base_dir: root.to_path_buf(),
        cache: None,
        lean: false,
    };
    let workspace = krepis_analyzer::Workspace::load(&[root.to_path_buf()], &options).ok()?;
    let db = workspace.db();
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .ok()
            .map(krepis_analyzer::config::slash_path)
    };
    let mut pairs = Vec::new();
    for &file in workspace.checked_files() {
        let Some(from) = relative(file.path(db)) else {
            continue;
        };
        let facts = krepis_analyzer::db::module_facts(db, file);
        let resolved = krepis_analyzer::db::resolved_imports(db, file);
        for (_, resolution) in facts.imports.iter().zip(resolved.iter()) {
            if let krepis_analyzer::resolve::Resolution::File(target) = resolution
                && let Some(to) = relative(target)
            {
                pairs.push((from.clone(), to));
            }
        }
    }
    // Freeing every parsed module one allocation at a time only delays the answer.
    std::mem::forget(workspace);
    Some(pairs)
}

/// Reads the project at `dir` and plans its layers.
pub fn plan_for(dir: &Path) -> Plan {
    let root: PathBuf = krepis_analyzer::resolve::normalize(
        &std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
    );
    let tree = walk(&root);
    let pairs = imports(&root);
    plan(&tree, pairs.as_deref())
}

/// Prints to stdout; a closed pipe (`krepis init --dry-run | head`) is not an error.
fn say(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

pub fn init(dir: &Path, dry_run: bool) -> ExitCode {
    let path = dir.join("krepis.json");
    if path.exists() {
        eprintln!(
            "error: {} already exists; not overwriting it",
            path.display()
        );
        return ExitCode::from(2);
    }
    if !dir.is_dir() {
        eprintln!("error: {} is not a folder", dir.display());
        return ExitCode::from(2);
    }
    let plan = plan_for(dir);
    let text = config_text(&plan);
    say(&explanation(&plan));
    if dry_run {
        say(&format!(
            "\nDry run: nothing written. {} would be:\n\n{text}",
            path.display()
        ));
        return ExitCode::SUCCESS;
    }
    if let Err(error) = std::fs::write(&path, &text) {
        eprintln!("error: cannot write {}: {error}", path.display());
        return ExitCode::from(2);
    }
    // The journal and the cache are local state: keep them out of version control.
    if dir.join(".git").exists() || dir.join(".gitignore").exists() {
        let ignore_path = dir.join(".gitignore");
        let existing = std::fs::read_to_string(&ignore_path).unwrap_or_default();
        let listed = existing
            .lines()
            .any(|l| matches!(l.trim(), ".krepis" | ".krepis/" | "/.krepis" | "/.krepis/"));
        if !listed {
            let separator = if existing.is_empty() || existing.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            if std::fs::write(&ignore_path, format!("{existing}{separator}.krepis/\n")).is_ok() {
                say("Added .krepis/ (journal and cache) to .gitignore.\n");
            }
        }
    }
    say(&format!("\nWrote {}.\n", path.display()));
    if !context_module_resolves(dir, "@krepis/core") {
        say(
            "The fixes import `KrepisContext` from `@krepis/core`, which this project does not have yet:\n  npm i @krepis/core        (or pnpm add / yarn add)\n  deno add jsr:@krepis/core (Deno)\nTo use a context type of your own instead, set `context.module` (and `context.type`) in krepis.json.\n",
        );
    }
    say("Run `krepis check` to see what it reports.\n");
    ExitCode::SUCCESS
}

/// Whether an import of `module` can resolve from `dir`: an installed package above it, or an
/// entry for it in a `deno.json(c)` import map or `package.json` dependencies.
fn context_module_resolves(dir: &Path, module: &str) -> bool {
    let quoted = format!("\"{module}\"");
    dir.ancestors().any(|d| {
        d.join("node_modules")
            .join(module)
            .join("package.json")
            .is_file()
            || ["deno.json", "deno.jsonc", "package.json"]
                .iter()
                .any(|name| {
                    std::fs::read_to_string(d.join(name)).is_ok_and(|text| text.contains(&quoted))
                })
    })
}

/// The table of [`SIGNS`] as the docs page shows it.
#[cfg(test)]
pub fn signs_table() -> String {
    let mut out = String::from(
        "| layer | folder names (strong) | folder names (weak) | file names end in |\n|---|---|---|---|\n",
    );
    for (layer, name) in LAYERS.iter().enumerate() {
        let list = |kind: Kind, strength: Strength| {
            SIGNS
                .iter()
                .filter(|s| s.layer == layer && s.kind == kind && s.strength == strength)
                .map(|s| match kind {
                    Kind::Folder => format!("`{}`", s.word),
                    Kind::Suffix => format!("`.{}`", s.word),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            list(Kind::Folder, Strong),
            list(Kind::Folder, Weak),
            [
                list(Kind::Suffix, Strength::Role),
                list(Kind::Suffix, Strength::Name)
            ]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
        ));
    }
    out.push_str("\n| sign | layer | where the name comes from |\n|---|---|---|\n");
    for sign in SIGNS {
        let shown = match sign.kind {
            Kind::Folder => format!("`{}/`", sign.word),
            Kind::Suffix => format!("`*.{}.ts`", sign.word),
        };
        let strength = match sign.strength {
            Strong => " (strong)",
            Weak => " (weak)",
            Strength::Role => " (role)",
            Strength::Name => "",
        };
        out.push_str(&format!(
            "| {shown}{strength} | {} | {} |\n",
            LAYERS[sign.layer], sign.school
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use krepis_analyzer::config::{Config, ConfigSource};

    use super::*;

    fn tree(files: &[&str], empty_dirs: &[&str]) -> Tree {
        let mut tree = Tree::default();
        for path in files.iter().chain(empty_dirs) {
            let segments: Vec<&str> = path.split('/').collect();
            let dirs = if files.contains(path) {
                segments.len() - 1
            } else {
                segments.len()
            };
            for n in 1..=dirs {
                tree.dirs.insert(segments[..n].join("/"));
            }
        }
        tree.files = files.iter().map(|s| s.to_string()).collect();
        tree.files.sort();
        tree
    }

    fn parses(text: &str) {
        let config = Config::parse(
            text,
            ConfigSource::Default,
            Path::new("/p"),
            Path::new("/p/krepis.json"),
        );
        assert!(config.is_ok(), "{text}\n{:?}", config.err());
    }

    fn layer_of(plan: &Plan, file: &str) -> Option<&'static str> {
        let map = LayerMap::new(&plan.layer_configs()).unwrap();
        map.classify(file)
            .map(|m| LAYERS[plan.layers[m.layer].layer])
    }

    #[test]
    fn suffixes_match_dotted_dashed_and_pascal_names() {
        let layer = |name: &str| suffix_sign(name).map(|(s, g)| (LAYERS[s.layer], g));
        assert_eq!(
            layer("delete-user.http-controller.ts"),
            Some(("adapters", "**/*-controller.ts".to_string()))
        );
        assert_eq!(layer("CreateUserController.ts").unwrap().0, "adapters");
        assert_eq!(layer("user.repository.port.ts").unwrap().0, "application");
        assert_eq!(layer("address.value-object.ts").unwrap().0, "domain");
        assert_eq!(layer("a.domain-event-handler.ts").unwrap().0, "application");
        // Whole words only: `Support` is not a port, `controller.ts` alone names nothing.
        assert_eq!(layer("Support.ts"), None);
        assert_eq!(layer("controller.ts"), None);
        assert_eq!(layer("report.ts"), None);
    }

    #[test]
    fn names_beat_weak_folders_and_strong_folders_beat_names() {
        let plan = plan(
            &tree(
                &[
                    "src/modules/user/commands/create-user/create-user.http.controller.ts",
                    "src/modules/user/commands/create-user/create-user.service.ts",
                    "src/modules/user/database/user.repository.port.ts",
                    "src/modules/user/database/user.repository.ts",
                    "src/modules/user/domain/user.entity.ts",
                    "src/modules/user/domain/user.repository.ts",
                    "src/infrastructure/orm/user.entity.ts",
                    "src/modules/user/user.module.ts",
                    "src/modules/forum/useCases/createPost/CreatePostController.ts",
                    "src/modules/forum/useCases/createPost/CreatePost.ts",
                ],
                &[],
            ),
            None,
        );
        let expect = [
            (
                "src/modules/user/commands/create-user/create-user.http.controller.ts",
                Some("adapters"),
            ),
            (
                "src/modules/user/commands/create-user/create-user.service.ts",
                Some("application"),
            ),
            (
                "src/modules/user/database/user.repository.port.ts",
                Some("application"),
            ),
            (
                "src/modules/user/database/user.repository.ts",
                Some("infrastructure"),
            ),
            ("src/modules/user/domain/user.entity.ts", Some("domain")),
            ("src/modules/user/domain/user.repository.ts", Some("domain")),
            (
                "src/infrastructure/orm/user.entity.ts",
                Some("infrastructure"),
            ),
            ("src/modules/user/user.module.ts", None),
            // A controller is an adapter even in a use case's folder.
            (
                "src/modules/forum/useCases/createPost/CreatePostController.ts",
                Some("adapters"),
            ),
            (
                "src/modules/forum/useCases/createPost/CreatePost.ts",
                Some("application"),
            ),
        ];
        for (file, layer) in expect {
            assert_eq!(layer_of(&plan, file), layer, "{file}");
        }
        assert!(plan.misplaced.is_empty(), "{:?}", plan.misplaced);
        parses(&config_text(&plan));
    }

    #[test]
    fn a_layer_folder_holding_layers_is_a_container() {
        let plan = plan(
            &tree(
                &[
                    "src/application/domain/account.model.ts",
                    "src/application/service/account.service.ts",
                    "src/application/adapter/controller/account.controller.ts",
                    "src/application/main.ts",
                    "src/domain/services/pricing.ts",
                    "src/application/service/ports/account.port.ts",
                    "src/application/service/account.service.ts",
                ],
                &[],
            ),
            None,
        );
        // `service/ports` is one layer: `service` is no container.
        assert_eq!(plan.containers.len(), 1, "{:?}", plan.containers);
        assert_eq!(plan.containers[0].0, "src/application");
        assert_eq!(layer_of(&plan, "src/application/main.ts"), None);
        assert_eq!(
            layer_of(&plan, "src/application/domain/account.model.ts"),
            Some("domain")
        );
        assert_eq!(
            layer_of(
                &plan,
                "src/application/adapter/controller/account.controller.ts"
            ),
            Some("adapters")
        );
        // `services` inside `domain` are domain services, not a container.
        assert_eq!(
            layer_of(&plan, "src/domain/services/pricing.ts"),
            Some("domain")
        );
        assert!(!config_text(&plan).contains("**/application/**"));
    }

    #[test]
    fn the_written_config_is_valid_for_odd_trees() {
        let cases: [&[&str]; 5] = [
            &[],
            &[
                "app/[id]/api/route.ts",
                "app/[id]/api/domain/x.ts",
                "api/y.ts",
            ],
            &["a\"b/domain/x.ts", "c<d>/infra/y.ts", "{x}/http/z.ts"],
            &[
                "domain/x.controller.ts",
                "http/y.repository.ts",
                "database/z.controller.ts",
            ],
            &[
                "modules/a/domain/x.ts",
                "modules/a/infra/x.repository.ts",
                "modules/b/domain/y.ts",
                "modules/b/http/y.controller.ts",
                "modules/shared/domain/z.ts",
                "modules/[id]/domain/z.ts",
                "modules/[id]/api/z.ts",
                "domain/top.ts",
            ],
        ];
        let mut featured = 0;
        for files in cases {
            let plan = plan(&tree(files, &[]), None);
            let text = config_text(&plan);
            parses(&text);
            // The commented feature layers load too.
            if let Some(features) = &plan.features {
                assert!(LayerMap::new(&features.layers).is_ok(), "{text}");
                featured += 1;
            }
        }
        assert_eq!(featured, 1, "the feature case offers features");
    }

    #[test]
    fn feature_layers_keep_the_same_layers_and_capture_features() {
        let files = [
            "src/modules/user/domain/user.entity.ts",
            "src/modules/user/commands/create-user.service.ts",
            "src/modules/wallet/domain/wallet.entity.ts",
            "src/modules/wallet/database/wallet.repository.ts",
            "src/modules/shared/domain/id.ts",
            // One layer only: a folder, not a feature.
            "src/modules/notes/domain/note.ts",
            "src/libs/ddd/entity.base.ts",
        ];
        let imports: Vec<(String, String)> = [
            (
                "src/modules/wallet/domain/wallet.entity.ts",
                "src/modules/user/domain/user.entity.ts",
            ),
            (
                "src/modules/user/commands/create-user.service.ts",
                "src/modules/wallet/domain/wallet.entity.ts",
            ),
            (
                "src/modules/user/domain/user.entity.ts",
                "src/modules/shared/domain/id.ts",
            ),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let plan = plan(&tree(&files, &[]), Some(&imports));
        let features = plan.features.as_ref().expect("features");
        assert_eq!(features.parent, "src/modules");
        assert_eq!(features.names, ["user", "wallet"]);
        assert_eq!(features.shared, ["shared"]);
        // Two imports cross features; only the domain → domain one is within one layer.
        assert_eq!(features.cross_imports, Some((2, 1)));
        let map = LayerMap::new(&features.layers).unwrap();
        let main = LayerMap::new(&plan.layer_configs()).unwrap();
        let name = |m: &LayerMap, file: &str| {
            m.classify(file).map(|found| {
                m.name(found.layer)
                    .trim_start_matches("shared-")
                    .to_string()
            })
        };
        // The same layers as before; the shared kernel is a layer of its own, never captured.
        for file in files {
            if file.starts_with("src/modules/shared/") {
                let found = map.classify(file).unwrap();
                assert_eq!(map.name(found.layer), "shared-kernel");
                assert!(found.captures.is_empty());
            } else {
                assert_eq!(name(&map, file), name(&main, file), "{file}");
            }
        }
        let user = map
            .classify("src/modules/user/domain/user.entity.ts")
            .unwrap();
        assert_eq!(map.name(user.layer), "domain");
        assert_eq!(user.captures, [("feature".to_string(), "user".to_string())]);
        let libs = map.classify("src/libs/ddd/entity.base.ts");
        assert!(libs.is_none());
    }

    #[test]
    fn the_docs_page_shows_the_table_in_the_code() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/init.md");
        let page = std::fs::read_to_string(&path).unwrap();
        let start = "<!-- signs: generated from crates/krepis-cli/src/init.rs -->\n";
        let end = "<!-- /signs -->";
        // `KREPIS_UPDATE_DOCS=1 cargo test -p krepis-cli the_docs_page` rewrites the table.
        if std::env::var_os("KREPIS_UPDATE_DOCS").is_some()
            && let Some((head, rest)) = page.split_once(start)
            && let Some((_, tail)) = rest.split_once(end)
        {
            let updated = format!("{head}{start}{}{end}{tail}", signs_table());
            std::fs::write(&path, updated).unwrap();
            return;
        }
        let table = page
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(table, _)| table)
            .expect("docs/init.md has the table markers");
        assert_eq!(
            table,
            signs_table(),
            "docs/init.md is out of date; paste signs_table() between the markers"
        );
    }
}
