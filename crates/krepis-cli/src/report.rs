//! `krepis report`: one self-contained HTML page with the layer diagram, the module graph, the
//! import cycles, coupling metrics and every finding (new and baselined) with its code frame.
//!
//! The page is the vendored Graphviz build, our script and style, and one JSON blob of
//! [`PageData`]; the script lays out only what the reader selects, so a large project opens fast.

mod page;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;

use krepis_analyzer::FileResult;
use krepis_analyzer::Workspace;
use krepis_analyzer::db::resolved_imports;
use krepis_analyzer::diagnostic::{Diagnostic, Severity};
use krepis_analyzer::graph::ProjectGraph;
use krepis_analyzer::layers::{LayerMap, LayerMatch};
use krepis_analyzer::line_index::LineIndex;
use krepis_analyzer::queries::file_layer;
use krepis_analyzer::resolve::Resolution;
use serde::Serialize;

use crate::baseline::Applied;
use crate::output::{display_path, locate};

/// How many characters of a source line a code frame keeps (minified files have huge lines).
const FRAME_LINE_CHARS: usize = 240;

/// Everything the page shows, as the script reads it.
#[derive(Serialize)]
pub struct PageData {
    pub version: u32,
    pub tool: String,
    pub project: String,
    pub files_checked: usize,
    pub summary: Summary,
    /// Findings per rule and severity, new and baselined.
    pub rules: Vec<RuleCount>,
    pub layers: Vec<Group>,
    pub features: Vec<Group>,
    pub layer_edges: Vec<LayerEdge>,
    pub modules: Vec<Module>,
    pub cycles: Vec<Cycle>,
    pub findings: Vec<Finding>,
}

/// The counts `krepis check --format json` prints, and a few more.
#[derive(Serialize, Default)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub fixable: usize,
    /// Findings the baseline accepts (not in `errors` / `warnings`).
    pub baselined: usize,
    pub stale_baseline: usize,
    pub modules: usize,
    pub imports: usize,
    pub cycles: usize,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleCount {
    pub rule: String,
    pub severity: &'static str,
    pub new: usize,
    pub baselined: usize,
}

/// A layer or a feature with its coupling: afferent = modules outside that import it, efferent =
/// modules outside it imports, instability = efferent / (afferent + efferent).
#[derive(Serialize, Default)]
pub struct Group {
    pub name: String,
    pub files: usize,
    pub findings: usize,
    pub baselined: usize,
    pub afferent: usize,
    pub efferent: usize,
    pub instability: Option<f64>,
    /// The layers it may import (layers only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
}

/// Imports between two layers: configured, made, or both.
#[derive(Serialize)]
pub struct LayerEdge {
    pub from: String,
    pub to: String,
    pub imports: usize,
    pub allowed: bool,
    /// Module imports this way that break the layer rules.
    pub violations: usize,
}

#[derive(Serialize)]
pub struct Module {
    pub path: String,
    pub layer: Option<usize>,
    pub feature: Option<usize>,
    pub imports: Vec<Import>,
    /// Indexes into `findings`.
    pub findings: Vec<usize>,
}

/// One import of a module. On the page it is an array, `[specifier, line, target, kind, flags]`
/// (kind `m`odule, `e`xternal, `o`utside, `a`sset, `u`nresolved; flags 1 = violation, 2 = in a cycle): a
/// project of thousands of files has tens of thousands of imports, and field names would be most
/// of its page.
pub struct Import {
    pub specifier: String,
    pub line: u32,
    /// The imported module, when it is one of the checked modules.
    pub target: Option<usize>,
    pub kind: ImportKind,
    pub violation: bool,
    pub cycle: bool,
}

/// Where an import leads.
#[derive(Clone, Copy)]
pub enum ImportKind {
    /// A checked module.
    Module,
    /// A package, a built-in or a URL.
    External,
    /// A project file that was not checked.
    Outside,
    /// A file that is not code (a style sheet, JSON).
    Asset,
    Unresolved,
}

impl Serialize for Import {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let kind = match self.kind {
            ImportKind::Module => "m",
            ImportKind::External => "e",
            ImportKind::Outside => "o",
            ImportKind::Asset => "a",
            ImportKind::Unresolved => "u",
        };
        let flags = u8::from(self.violation) | u8::from(self.cycle) << 1;
        let mut tuple = serializer.serialize_tuple(5)?;
        tuple.serialize_element(&self.specifier)?;
        tuple.serialize_element(&self.line)?;
        tuple.serialize_element(&self.target)?;
        tuple.serialize_element(kind)?;
        tuple.serialize_element(&flags)?;
        tuple.end()
    }
}

/// A strongly connected set of modules: every one reaches every other.
#[derive(Serialize)]
pub struct Cycle {
    pub modules: Vec<usize>,
    /// Imports between its members.
    pub imports: usize,
    /// The `import-cycle` finding reported for it, if any.
    pub finding: Option<usize>,
}

#[derive(Serialize)]
pub struct Finding {
    pub file: String,
    pub module: Option<usize>,
    pub rule: String,
    pub severity: &'static str,
    pub message: String,
    pub note: Option<String>,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub baselined: bool,
    pub fix: Option<String>,
    /// Index into the module's `imports` when the finding points at an import.
    pub import: Option<usize>,
    pub frame: Frame,
}

/// Source lines around a finding, starting at 1-based `first_line`.
#[derive(Serialize)]
pub struct Frame {
    pub first_line: u32,
    pub lines: Vec<String>,
}

/// What `krepis report` writes, gathered.
pub struct Inputs<'a> {
    pub workspace: &'a Workspace,
    /// The findings `check` reports (the baseline's already left out).
    pub results: &'a [FileResult],
    pub applied: &'a Applied,
    pub cwd: &'a Path,
    pub output: &'a Path,
}

/// Builds the page and writes it to `inputs.output` (whole or not at all).
pub fn write(inputs: &Inputs<'_>) -> ExitCode {
    let data = collect(inputs);
    let html = match page::render(&data) {
        Ok(html) => html,
        Err(error) => {
            eprintln!("error: cannot encode the report: {error}");
            return ExitCode::from(2);
        }
    };
    let shown = display_path(inputs.output, inputs.cwd);
    if let Err(error) = write_whole(inputs.output, html.as_bytes()) {
        eprintln!("error: cannot write {shown}: {error}");
        return ExitCode::from(2);
    }
    let new = data.summary.errors + data.summary.warnings + data.summary.infos;
    let baselined = if data.summary.baselined > 0 {
        format!(", {} in the baseline", data.summary.baselined)
    } else {
        String::new()
    };
    println!(
        "Wrote {shown}: {} files, {} findings{baselined}, {} import cycles.",
        data.files_checked, new, data.summary.cycles
    );
    ExitCode::SUCCESS
}

/// Writes through a temporary file beside `path` and a rename, so a failed write leaves nothing.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::other("it is a folder"));
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let mut temporary = name.to_os_string();
    temporary.push(".krepis-tmp");
    let temporary = path.with_file_name(temporary);
    let written =
        std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn severity_name(severity: Severity) -> &'static str {
    severity.as_str()
}

/// Where a module's feature comes from, before folders are merged.
enum Seen {
    /// The values its layer pattern captured (`src/features/<feature>/**` gives `cart`).
    Captured(String),
    /// The folder holding the first folder above it that a layer owns (`src/orders` for
    /// `src/orders/domain/x.ts`; `""` for a layer folder at the root).
    Folder(String),
    /// A path relative to the configuration, to be placed in a feature folder above it.
    Path(String),
}

/// What decides a module's feature: its layer's captures, else the folders above it.
fn seen_feature(
    layers: &LayerMap,
    relative: &str,
    found: Option<&LayerMatch>,
    folders: &mut HashMap<String, bool>,
) -> Seen {
    if let Some(found) = found
        && !found.captures.is_empty()
    {
        let values: Vec<&str> = found.captures.iter().map(|(_, v)| v.as_str()).collect();
        return Seen::Captured(values.join("/"));
    }
    let segments: Vec<&str> = relative.split('/').collect();
    for n in 1..segments.len() {
        let folder = segments[..n].join("/");
        let layered = *folders.entry(folder.clone()).or_insert_with(|| {
            layers
                .classify(&format!("{folder}/krepis-probe.ts"))
                .is_some()
        });
        if layered {
            return Seen::Folder(segments[..n - 1].join("/"));
        }
    }
    Seen::Path(relative.to_string())
}

/// Features by name for every module: a captured name, or the outermost feature folder above it
/// (a layer folder nested inside a feature, like `src/modules/user/dtos/graphql`, stays in
/// `src/modules/user`). Modules in no feature folder are in none.
fn features(seen: Vec<Seen>) -> Vec<Option<String>> {
    let folders: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Folder(f) if !f.is_empty() => Some(f.clone()),
            _ => None,
        })
        .collect();
    // The outermost feature folder that holds `path` (a folder or a file), itself included.
    let outermost = |path: &str| {
        let segments: Vec<&str> = path.split('/').collect();
        (1..=segments.len())
            .map(|n| segments[..n].join("/"))
            .find(|prefix| folders.contains(prefix))
    };
    seen.into_iter()
        .map(|s| match s {
            Seen::Captured(name) => Some(name),
            Seen::Folder(f) if f.is_empty() => Some(ROOT_FEATURE.to_string()),
            Seen::Folder(f) => outermost(&f).or(Some(f)),
            Seen::Path(p) => outermost(&p),
        })
        .collect()
}

/// The feature of layer folders at the configuration's own folder.
const ROOT_FEATURE: &str = "(root)";

/// Source lines around `range`: two before, the span's (at most six), one after.
fn frame(index: &LineIndex, text: &str, line: u32, end_line: u32) -> Frame {
    let first = line.saturating_sub(2).max(1);
    let last = end_line.min(line + 5) + 1;
    let mut lines = Vec::new();
    for number in first..=last {
        let Some(range) = index.line_range(text, number - 1) else {
            break;
        };
        let content = text[range].trim_end_matches(['\n', '\r']);
        lines.push(content.chars().take(FRAME_LINE_CHARS).collect());
    }
    Frame {
        first_line: first,
        lines,
    }
}

/// Gathers the page's data from the workspace, its graph and the findings.
pub fn collect(inputs: &Inputs<'_>) -> PageData {
    let Inputs {
        workspace,
        results,
        applied,
        cwd,
        ..
    } = *inputs;
    let db = workspace.db();
    let graph: ProjectGraph = workspace.graph();
    let files = workspace.checked_files();
    let paths: Vec<String> = files
        .iter()
        .map(|f| display_path(f.path(db), cwd))
        .collect();
    let position: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path(db).as_path(), i))
        .collect();
    let layer_index: HashMap<&str, usize> = graph
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();

    // Features, by the configuration that governs each module.
    let mut seen: Vec<Seen> = Vec::with_capacity(files.len());
    let mut probes: HashMap<String, bool> = HashMap::new();
    let mut config_dir = None;
    for &file in files {
        let path = file.path(db);
        let config = workspace.config_for(path);
        if config_dir.as_ref() != Some(&config.dir) {
            probes.clear();
            config_dir = Some(config.dir.clone());
        }
        let relative = config
            .relative(path)
            .unwrap_or_else(|| krepis_analyzer::config::slash_path(path));
        let found = file_layer(db, file);
        seen.push(seen_feature(
            &config.layers,
            &relative,
            found.as_ref(),
            &mut probes,
        ));
    }
    let feature_names = features(seen);
    let distinct: std::collections::BTreeSet<&String> = feature_names.iter().flatten().collect();
    let feature_list: Vec<String> = distinct.into_iter().cloned().collect();
    let feature_index: HashMap<&str, usize> = feature_list
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();

    let mut modules: Vec<Module> = (0..files.len())
        .map(|i| Module {
            path: paths[i].clone(),
            layer: graph.modules[i]
                .layer
                .as_deref()
                .and_then(|l| layer_index.get(l).copied()),
            feature: feature_names[i]
                .as_deref()
                .and_then(|f| feature_index.get(f).copied()),
            imports: Vec::new(),
            findings: Vec::new(),
        })
        .collect();

    // The graph's edges carry the layer verdicts; the facts carry the specifiers and lines.
    let violations_at: HashSet<(usize, usize)> = graph
        .edges
        .iter()
        .filter(|e| e.violation)
        .map(|e| (e.from, e.to))
        .collect();
    let mut indexes: Vec<LineIndex> = Vec::with_capacity(files.len());
    for (i, &file) in files.iter().enumerate() {
        let text = file.text(db);
        let index = LineIndex::new(text);
        let facts = workspace.facts(file);
        let resolutions = resolved_imports(db, file);
        for (import, resolution) in facts.imports.iter().zip(resolutions.iter()) {
            let (target, kind) = match resolution {
                Resolution::File(path) => match position.get(path.as_path()) {
                    Some(&j) => (Some(j), ImportKind::Module),
                    None => (None, ImportKind::Outside),
                },
                Resolution::External => (None, ImportKind::External),
                Resolution::Asset(_) => (None, ImportKind::Asset),
                Resolution::Unresolved => (None, ImportKind::Unresolved),
            };
            let violation = target.is_some_and(|j| violations_at.contains(&(i, j)));
            modules[i].imports.push(Import {
                specifier: import.specifier.to_string(),
                line: locate(&index, text, import.range).line,
                target,
                kind,
                violation,
                // Set once the cycles are known, below.
                cycle: false,
            });
        }
        indexes.push(index);
    }

    // Findings: what check reports and what the baseline accepts, in check's order.
    let mut accepted: HashMap<usize, Vec<&Diagnostic>> = HashMap::new();
    for (i, d) in &applied.accepted {
        accepted.entry(*i).or_default().push(d);
    }
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary = Summary {
        baselined: applied.baselined,
        stale_baseline: applied.stale.iter().map(|(_, s)| s.count as usize).sum(),
        modules: files.len(),
        imports: graph.edges.len(),
        ..Summary::default()
    };
    let mut order: Vec<usize> = (0..results.len()).collect();
    let result_paths: Vec<String> = results.iter().map(|r| display_path(&r.path, cwd)).collect();
    order.sort_by(|&a, &b| result_paths[a].cmp(&result_paths[b]));
    let mut rule_counts: BTreeMap<(String, &'static str), (usize, usize)> = BTreeMap::new();
    for r in order {
        let result = &results[r];
        // Findings the baseline accepted are shown too, in a file that may have no others.
        let text = if accepted.get(&r).is_some_and(|a| !a.is_empty()) {
            result.source()
        } else {
            result.findings_text()
        };
        let module = position.get(result.path.as_path()).copied();
        let own_index;
        let index = match module {
            Some(m) => &indexes[m],
            None => {
                own_index = LineIndex::new(&text);
                &own_index
            }
        };
        let mut all: Vec<(&Diagnostic, bool)> =
            result.diagnostics.iter().map(|d| (d, false)).collect();
        all.extend(accepted.get(&r).into_iter().flatten().map(|d| (*d, true)));
        let mut located: Vec<_> = all
            .into_iter()
            .map(|(d, baselined)| (locate(index, &text, d.range), d, baselined))
            .collect();
        located.sort_by_key(|(at, _, _)| (at.line, at.column));
        for (at, d, baselined) in located {
            let severity = severity_name(d.severity);
            let counts = rule_counts
                .entry((d.rule_name().to_string(), severity))
                .or_default();
            if baselined {
                counts.1 += 1;
            } else {
                counts.0 += 1;
                match d.severity {
                    Severity::Error => summary.errors += 1,
                    Severity::Warning => summary.warnings += 1,
                    Severity::Info | Severity::Hint => summary.infos += 1,
                }
                if d.fix.as_ref().is_some_and(|f| f.is_safe()) {
                    summary.fixable += 1;
                }
            }
            let import = module.and_then(|m| {
                let facts = workspace.facts(files[m]);
                let within = |r: &krepis_analyzer::diagnostic::TextRange| {
                    r.start <= d.range.start && d.range.end <= r.end
                };
                // On the specifier, or on one of its names (a name taken through a barrel).
                facts
                    .imports
                    .iter()
                    .position(|i| within(&i.range) || i.names.iter().any(|n| within(&n.range)))
            });
            let k = findings.len();
            if let Some(m) = module {
                modules[m].findings.push(k);
            }
            findings.push(Finding {
                file: result_paths[r].clone(),
                module,
                rule: d.rule_name().to_string(),
                severity,
                message: d.message.clone(),
                note: d.note.clone(),
                line: at.line,
                column: at.column,
                end_line: at.end_line,
                end_column: at.end_column,
                baselined,
                fix: d.fix.as_ref().map(|f| f.description.clone()),
                import,
                frame: frame(index, &text, at.line, at.end_line),
            });
        }
    }
    let rules = rule_counts
        .into_iter()
        .map(|((rule, severity), (new, baselined))| RuleCount {
            rule,
            severity,
            new,
            baselined,
        })
        .collect();

    // Cycles: the strongly connected sets `import-cycle` reports (so type-only imports count as
    // its options say), each with the finding reported for it.
    let mut cycle_of: Vec<Option<usize>> = vec![None; files.len()];
    let sets: Vec<Vec<usize>> = workspace
        .cycle_sets()
        .iter()
        .map(|set| {
            let mut members: Vec<usize> = set
                .iter()
                .filter_map(|p| position.get(p.as_path()).copied())
                .collect();
            members.sort_unstable();
            members
        })
        .filter(|members| !members.is_empty())
        .collect();
    for (c, members) in sets.iter().enumerate() {
        for &m in members {
            cycle_of[m] = Some(c);
        }
    }
    let cycles: Vec<Cycle> = sets
        .into_iter()
        .enumerate()
        .map(|(c, members)| {
            let imports = graph
                .edges
                .iter()
                .filter(|e| cycle_of[e.from] == Some(c) && cycle_of[e.to] == Some(c))
                .count();
            let finding = members.iter().find_map(|&m| {
                modules[m]
                    .findings
                    .iter()
                    .copied()
                    .find(|&f| findings[f].rule == "import-cycle")
            });
            Cycle {
                modules: members,
                imports,
                finding,
            }
        })
        .collect();
    for (i, module) in modules.iter_mut().enumerate() {
        for import in &mut module.imports {
            import.cycle =
                cycle_of[i].is_some() && import.target.and_then(|t| cycle_of[t]) == cycle_of[i];
        }
    }
    summary.cycles = cycles.len();

    let layer_of: Vec<Option<usize>> = modules.iter().map(|m| m.layer).collect();
    let feature_of_module: Vec<Option<usize>> = modules.iter().map(|m| m.feature).collect();
    let mut layers = groups(&graph.layers, &layer_of, &graph, &modules, &findings);
    for (group, layer) in layers.iter_mut().zip(workspace_layers(workspace, files)) {
        group.allow = layer;
    }
    let features = groups(
        &feature_list,
        &feature_of_module,
        &graph,
        &modules,
        &findings,
    );
    let mut violations: HashMap<(usize, usize), usize> = HashMap::new();
    for edge in graph.edges.iter().filter(|e| e.violation) {
        if let (Some(a), Some(b)) = (layer_of[edge.from], layer_of[edge.to]) {
            *violations.entry((a, b)).or_default() += 1;
        }
    }
    let layer_edges = graph
        .layer_edges
        .iter()
        .map(|e| {
            let key = (
                layer_index.get(e.from.as_str()).copied(),
                layer_index.get(e.to.as_str()).copied(),
            );
            let violations = match key {
                (Some(a), Some(b)) => violations.get(&(a, b)).copied().unwrap_or(0),
                _ => 0,
            };
            LayerEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                imports: e.imports,
                allowed: e.allowed,
                violations,
            }
        })
        .collect();
    let project = cwd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".to_string());
    PageData {
        version: 1,
        tool: format!("krepis {}", env!("CARGO_PKG_VERSION")),
        project,
        files_checked: results.len(),
        summary,
        rules,
        layers,
        features,
        layer_edges,
        modules,
        cycles,
        findings,
    }
}

/// The `allow` lists of the layers, in configuration order.
fn workspace_layers(
    workspace: &Workspace,
    files: &[krepis_analyzer::db::SourceFile],
) -> Vec<Vec<String>> {
    let Some(first) = files.first() else {
        return Vec::new();
    };
    let config = workspace.config_for(first.path(workspace.db()));
    config
        .layers
        .layers()
        .iter()
        .map(|l| l.allow.clone())
        .collect()
}

/// Files, findings and coupling of each group, given which group each module is in.
fn groups(
    names: &[String],
    group_of: &[Option<usize>],
    graph: &ProjectGraph,
    modules: &[Module],
    findings: &[Finding],
) -> Vec<Group> {
    let mut out: Vec<Group> = names
        .iter()
        .map(|name| Group {
            name: name.clone(),
            ..Group::default()
        })
        .collect();
    let mut afferent: Vec<HashSet<usize>> = vec![HashSet::new(); names.len()];
    let mut efferent: Vec<HashSet<usize>> = vec![HashSet::new(); names.len()];
    for (m, module) in modules.iter().enumerate() {
        let Some(g) = group_of[m] else { continue };
        out[g].files += 1;
        for &f in &module.findings {
            if findings[f].baselined {
                out[g].baselined += 1;
            } else {
                out[g].findings += 1;
            }
        }
    }
    for edge in &graph.edges {
        let (a, b) = (group_of[edge.from], group_of[edge.to]);
        if a == b {
            continue;
        }
        if let Some(b) = b {
            afferent[b].insert(edge.from);
        }
        if let Some(a) = a {
            efferent[a].insert(edge.to);
        }
    }
    for (g, group) in out.iter_mut().enumerate() {
        group.afferent = afferent[g].len();
        group.efferent = efferent[g].len();
        let total = group.afferent + group.efferent;
        group.instability =
            (total > 0).then(|| (group.efferent as f64 / total as f64 * 100.0).round() / 100.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Seen, features};

    fn folder(f: &str) -> Seen {
        Seen::Folder(f.to_string())
    }

    #[test]
    fn features_are_captures_or_the_outermost_folder_holding_layer_folders() {
        let seen = vec![
            Seen::Captured("cart".to_string()),
            folder("src/modules/user"),
            // `src/modules/user/dtos/graphql` is a layer folder nested in the user feature.
            folder("src/modules/user/dtos"),
            folder(""),
            // Layered by a file-name glob, in no layer folder: the feature folder above it.
            Seen::Path("src/modules/user/user.controller.ts".to_string()),
            Seen::Path("src/main.ts".to_string()),
        ];
        assert_eq!(
            features(seen),
            [
                Some("cart".to_string()),
                Some("src/modules/user".to_string()),
                Some("src/modules/user".to_string()),
                Some("(root)".to_string()),
                Some("src/modules/user".to_string()),
                None,
            ]
        );
    }
}
