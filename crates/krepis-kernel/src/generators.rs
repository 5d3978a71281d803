//! Generators: TypeScript modules that turn facts about a selection into file changes.
//!
//! A generator exports `generate(ctx, request)`. The request says which file is open (its path
//! relative to the project root, layer, text and facts), what is selected, where each layer's
//! folder is seen from that file, and how the context is spelled. The generator returns `null`
//! when it has nothing to offer there, or a proposal:
//!
//! ```ts
//! { title: "Implement port `OrderStore` as an adapter", kind?: "refactor.extract",
//!   refused?: "why it cannot be offered",
//!   changes: [{ kind: "create", path: "src/orders/adapters/order_store.ts", text: "…" },
//!             { kind: "edit", path: "src/orders/application/ports.ts",
//!               edits: [{ start: 10, end: 10, text: "…" }] }] }
//! ```
//!
//! Offsets are byte offsets into the UTF-8 text, like the ranges in the facts. Paths are relative
//! to the project root and may not leave it. Built-in generators ship in the binary; a project's
//! own live in `.krepis/generators/`. Each run gets a fresh sandboxed engine with a time budget.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use krepis_analyzer::db::SourceFile;
use krepis_analyzer::workspace::Snapshot;

use serde::{Deserialize, Serialize};

use crate::engine::{self, ExecutionContext, Limits};
use crate::scripts::{self, Stamp};

/// Time one generator may take for one request.
pub const BUDGET_MS: u64 = 1_000;

/// The generators that ship in the binary, by name.
const BUILTIN_SOURCES: [(&str, &str); 3] = [
    (
        "implement-port",
        include_str!("../generators/implement-port.ts"),
    ),
    (
        "new-use-case",
        include_str!("../generators/new-use-case.ts"),
    ),
    ("add-context", include_str!("../generators/add-context.ts")),
];

/// One generator, compiled to JavaScript once.
#[derive(Debug, Clone)]
pub struct Generator {
    pub name: String,
    pub builtin: bool,
    /// The module as JavaScript, or why it does not compile.
    javascript: Result<String, String>,
    /// What it may import: the prelude, and a project generator's own folder.
    imports: engine::Imports,
}

impl Generator {
    /// A generator from TypeScript or JavaScript source that may import the prelude; `path`
    /// decides how it is read.
    pub fn new(name: &str, path: &Path, source: &str, builtin: bool) -> Self {
        Self {
            name: name.into(),
            builtin,
            javascript: engine::strip_types(path, source),
            imports: engine::Imports::prelude_only(),
        }
    }
}

/// The built-in generators (compiled once per process).
pub fn builtins() -> &'static [Generator] {
    static BUILTINS: OnceLock<Vec<Generator>> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        BUILTIN_SOURCES
            .iter()
            .map(|(name, source)| {
                Generator::new(name, Path::new(&format!("{name}.ts")), source, true)
            })
            .collect()
    })
}

/// The project's own generators in `root/.krepis/generators/` (`*.ts`, `*.js`), by name.
pub fn load_project(root: &Path) -> Vec<Generator> {
    scripts::load(root, "generators")
        .into_iter()
        .map(|script| Generator {
            name: script.name,
            builtin: false,
            javascript: script.javascript,
            imports: script.imports,
        })
        .collect()
}

/// The project generators of `root`, compiled again only when a file in the folder changed.
pub fn project_cached(root: &Path) -> Vec<Generator> {
    type Loaded = HashMap<PathBuf, (Stamp, Vec<Generator>)>;
    static CACHE: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let stamp = scripts::stamp(root, "generators");
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((known, generators)) = cache.get(root)
        && *known == stamp
    {
        return generators.clone();
    }
    let generators = load_project(root);
    cache.insert(root.to_path_buf(), (stamp, generators.clone()));
    generators
}

/// The request about the selection `start..end` (byte offsets) in `file`, with the project root
/// that the request's paths are relative to.
pub fn request_for(
    snapshot: &Snapshot,
    file: SourceFile,
    start: u32,
    end: u32,
) -> Option<(PathBuf, Request)> {
    let path = snapshot.path(file);
    let config = snapshot.config_for(&path);
    let relative = config.relative(&path)?;
    let text = snapshot.text(file);
    let facts = serde_json::to_value(&*snapshot.facts(file)).ok()?;
    let layer = config
        .layers
        .classify(&relative)
        .map(|m| config.layers.name(m.layer).to_string());
    let layers = config
        .layers
        .layers()
        .iter()
        .enumerate()
        .map(|(index, l)| LayerFolder {
            name: l.name.clone(),
            folder: config.layers.folder_near(index, &relative),
        })
        .collect();
    let word = word_at(&text, start as usize);
    let selected = text
        .get(start as usize..(end as usize).min(start as usize + 4096))
        .unwrap_or_default()
        .to_string();
    Some((
        config.dir.clone(),
        Request {
            file: RequestFile {
                path: relative,
                layer,
                text: text.to_string(),
                facts,
            },
            selection: Selection {
                start,
                end,
                word,
                text: selected,
            },
            layers,
            context: ContextSpelling {
                type_name: config.context.type_name.clone(),
                param: config.context.param.clone(),
                module: config.context.module.clone(),
            },
        },
    ))
}

/// The identifier around byte `offset`, if any.
fn word_at(text: &str, offset: usize) -> Option<String> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    let word = &text[start..end];
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit())).then(|| word.to_string())
}

/// What a generator is asked about.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub file: RequestFile,
    pub selection: Selection,
    /// Every configured layer with its folder as seen from the file (`null` when none can be
    /// derived from the layer's patterns).
    pub layers: Vec<LayerFolder>,
    pub context: ContextSpelling,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestFile {
    /// Relative to the project root, `/`-separated.
    pub path: String,
    pub layer: Option<String>,
    pub text: String,
    pub facts: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub start: u32,
    pub end: u32,
    /// The identifier under the cursor, if any.
    pub word: Option<String>,
    /// The selected text (empty for a bare cursor; cut after 4 KB).
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerFolder {
    pub name: String,
    pub folder: Option<String>,
}

/// How the project spells its context: `ctx: KrepisContext` from `@krepis/core`.
#[derive(Debug, Clone, Serialize)]
pub struct ContextSpelling {
    #[serde(rename = "type")]
    pub type_name: String,
    pub param: String,
    pub module: String,
}

/// What a generator offers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub title: String,
    #[serde(default)]
    pub kind: Option<String>,
    /// Set when the generator applies here but cannot do its work (shown, not applied).
    #[serde(default)]
    pub refused: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One file change of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Change {
    Create { path: String, text: String },
    Edit { path: String, edits: Vec<Edit> },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub start: u32,
    pub end: u32,
    pub text: String,
}

/// The outcome of one generator: `Ok(None)` when it has nothing to offer.
pub fn run(generator: &Generator, request: &Request) -> Result<Option<Proposal>, String> {
    run_on(engine::kernel(), generator, request)
}

/// [`run`] on a given engine of the build (benchmarks compare them).
pub fn run_on(
    engine: &dyn engine::Engine,
    generator: &Generator,
    request: &Request,
) -> Result<Option<Proposal>, String> {
    let javascript = generator
        .javascript
        .as_ref()
        .map_err(|why| format!("SCRIPT_ERROR: {why}"))?;
    let request = serde_json::to_value(request).map_err(|e| e.to_string())?;
    let limits = Limits {
        timeout_ms: BUDGET_MS,
        ..Limits::default()
    };
    let ctx = ExecutionContext::new(&format!("generator-{}", generator.name));
    let value = engine::execute_javascript(
        engine,
        &ctx,
        javascript,
        &generator.imports,
        "generate",
        &[request],
        limits,
    )
    .map_err(|error| format!("{}: {}", error.code, error.message))?;
    if value.is_null() {
        return Ok(None);
    }
    let proposal: Proposal = serde_json::from_value(value).map_err(|error| {
        format!(
            "it must return null or {{ title, kind?, refused?, changes: [{{ kind: \"create\", path, text }} | {{ kind: \"edit\", path, edits: [{{ start, end, text }}] }}] }} ({error})"
        )
    })?;
    if proposal.title.trim().is_empty() {
        return Err("its proposal has an empty title".into());
    }
    Ok(Some(proposal))
}

/// A proposal's changes made concrete: each file's path, text before (`None` for a new file)
/// and text after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    pub before: Option<String>,
    pub after: String,
    /// For edited files: the edits, sorted, with byte offsets into `before`.
    pub edits: Vec<Edit>,
}

/// Turns `changes` into new file texts under `root`; `read` gives a file's current text (open
/// buffers first), `None` when it does not exist. Refuses paths outside the root, creating a
/// file that exists, editing one that does not, and edits outside the text or overlapping.
pub fn plan(
    root: &Path,
    changes: &[Change],
    read: impl Fn(&Path) -> Option<String>,
) -> Result<Vec<Planned>, String> {
    let mut planned: Vec<Planned> = Vec::new();
    for change in changes {
        match change {
            Change::Create { path, text } => {
                let full = inside(root, path)?;
                if read(&full).is_some() || planned.iter().any(|p| p.path == full) {
                    return Err(format!("`{path}` exists already"));
                }
                planned.push(Planned {
                    path: full,
                    before: None,
                    after: text.clone(),
                    edits: Vec::new(),
                });
            }
            Change::Edit { path, edits } => {
                let full = inside(root, path)?;
                if planned.iter().any(|p| p.path == full) {
                    return Err(format!("`{path}` is changed twice"));
                }
                let before = read(&full).ok_or_else(|| format!("`{path}` does not exist"))?;
                let mut edits = edits.clone();
                edits.sort_by_key(|e| (e.start, e.end));
                let mut after = String::with_capacity(before.len());
                let mut at = 0usize;
                for edit in &edits {
                    let (start, end) = (edit.start as usize, edit.end as usize);
                    if start > end
                        || end > before.len()
                        || !before.is_char_boundary(start)
                        || !before.is_char_boundary(end)
                    {
                        return Err(format!(
                            "an edit of `{path}` ({start}..{end}) lies outside its text or splits a character"
                        ));
                    }
                    if start < at {
                        return Err(format!("edits of `{path}` overlap at {start}"));
                    }
                    after.push_str(&before[at..start]);
                    after.push_str(&edit.text);
                    at = end;
                }
                after.push_str(&before[at..]);
                planned.push(Planned {
                    path: full,
                    before: Some(before),
                    after,
                    edits,
                });
            }
        }
    }
    Ok(planned)
}

/// `relative` joined to `root`, refused when it is absolute or climbs out.
fn inside(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let path = Path::new(relative);
    let mut out = root.to_path_buf();
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::Normal(part) => {
                out.push(part);
                depth += 1;
            }
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            _ => return Err(format!("`{relative}` is not a path inside the project")),
        }
    }
    if depth == 0 {
        return Err(format!("`{relative}` is not a file path"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
