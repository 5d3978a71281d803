//! The layer map: which layer owns a file, and which imports between layers are allowed.

use std::path::{Path, PathBuf};

use crate::packages::PackageMatcher;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// One layer as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(from = "RawLayerConfig")]
pub struct LayerConfig {
    pub name: String,
    pub paths: Vec<String>,
    /// The layers it may import (every `allow` entry's layer, however written).
    pub allow: Vec<String>,
    /// The `allow` entries written as objects: an allowance with a condition or a reason.
    pub allow_details: Vec<AllowDetail>,
    pub isolate: Option<String>,
    /// Which outside packages its files may import.
    pub packages: Option<PackagesConfig>,
    /// The files through which files outside one of its elements (the folder a `<name>` capture
    /// or the layer's pattern names) may import it, relative to that folder.
    pub entry: Vec<String>,
    /// The team's reason for the layer's rules, shown with its findings.
    pub message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayerConfig {
    name: String,
    paths: Vec<String>,
    #[serde(default)]
    allow: Vec<AllowEntry>,
    #[serde(default)]
    isolate: Option<String>,
    #[serde(default)]
    packages: Option<PackagesConfig>,
    #[serde(default)]
    entry: Vec<String>,
    #[serde(default)]
    message: Option<String>,
}

impl From<RawLayerConfig> for LayerConfig {
    fn from(raw: RawLayerConfig) -> LayerConfig {
        let mut allow = Vec::with_capacity(raw.allow.len());
        let mut allow_details = Vec::new();
        for entry in raw.allow {
            match entry {
                AllowEntry::Layer(name) => allow.push(name),
                AllowEntry::Detailed(detail) => {
                    allow.push(detail.layer.clone());
                    allow_details.push(detail);
                }
            }
        }
        LayerConfig {
            name: raw.name,
            paths: raw.paths,
            allow,
            allow_details,
            isolate: raw.isolate,
            packages: raw.packages,
            entry: raw.entry,
            message: raw.message,
        }
    }
}

/// An `allow` entry: a layer's name, or `{ "layer": …, "typeOnly": true, "message": … }`.
enum AllowEntry {
    Layer(String),
    Detailed(AllowDetail),
}

impl<'de> Deserialize<'de> for AllowEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = AllowEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a layer name or { \"layer\": name, \"typeOnly\": bool, \"message\": text }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AllowEntry, E> {
                Ok(AllowEntry::Layer(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<AllowEntry, A::Error> {
                AllowDetail::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(AllowEntry::Detailed)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

/// An allowance written as an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AllowDetail {
    pub layer: String,
    /// Only type-only imports (`import type`) of that layer are allowed.
    #[serde(default)]
    pub type_only: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// A layer's `packages`: globs over package names (see [`crate::packages`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackagesConfig {
    /// Only these packages may be imported (absent: any that `deny` does not name).
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    /// These packages may not be imported (even when `allow` names them).
    #[serde(default)]
    pub deny: Vec<String>,
    /// Type-only imports are not checked.
    #[serde(default)]
    pub ignore_type_imports: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// A layer setting that cannot be used; `key` locates it in the config file.
#[derive(Debug)]
pub struct LayerError {
    pub key: String,
    pub message: String,
}

#[derive(Debug)]
enum PathPattern {
    Glob(globset::GlobMatcher),
    /// A glob with `<name>` segments, matched as a regex whose groups are the captures.
    Capture(regex::bytes::Regex),
}

/// One configured layer.
#[derive(Debug)]
pub struct Layer {
    pub name: String,
    pub allow: Vec<String>,
    /// `allow` entries with a condition or a reason.
    pub allow_details: Vec<AllowDetail>,
    pub isolate: Option<String>,
    pub patterns: Vec<String>,
    compiled: Vec<PathPattern>,
    /// The folder part of each pattern (`<name>` as `*`), which names the layer's elements.
    element_globs: Vec<Option<globset::GlobMatcher>>,
    pub packages: Option<LayerPackages>,
    /// The entry points of its elements, relative to an element's folder.
    pub entry: Vec<String>,
    entry_set: Option<globset::GlobSet>,
    /// The team's reason for the layer's rules.
    pub message: Option<String>,
    /// Where in the configuration file the layer is written (1-based line), when known.
    pub line: Option<usize>,
}

/// A layer's rules for outside packages.
#[derive(Debug)]
pub struct LayerPackages {
    /// Only these (absent: any package `deny` does not name).
    pub allow: Option<PackageMatcher>,
    pub deny: PackageMatcher,
    pub ignore_type_imports: bool,
    pub message: Option<String>,
    /// Line of each pattern (and of the `packages` key, under `""`) in the configuration file.
    pub lines: Vec<(String, usize)>,
}

impl LayerPackages {
    /// The line where `pattern` (or, with `""`, the `packages` key) is written.
    pub fn line_of(&self, pattern: &str) -> Option<usize> {
        self.lines
            .iter()
            .find(|(p, _)| p == pattern)
            .map(|(_, line)| *line)
    }
}

/// Layers in the order they are tried.
#[derive(Debug, Default)]
pub struct LayerMap {
    layers: Vec<Layer>,
    /// The file they are written in, for findings that point at a rule.
    file: Option<PathBuf>,
}

/// Why an import of an outside package is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageViolation {
    /// A `packages.deny` pattern names it.
    Denied { pattern: String },
    /// `packages.allow` does not name it.
    NotAllowed,
}

/// The layer that owns a file, with the folder names its pattern captured.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerMatch {
    pub layer: usize,
    pub captures: Vec<(String, String)>,
}

impl LayerMatch {
    fn capture(&self, name: &str) -> Option<&str> {
        self.captures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why an import between two layered files is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeViolation {
    /// The target's layer is not in the importer's `allow` list.
    NotAllowed { from: String, to: String },
    /// Same isolated layer, different captured folder.
    Isolated {
        layer: String,
        capture: String,
        from: String,
        to: String,
    },
}

const CAPTURE_MARK: &str = "KREPISCAPTURE";

/// The folder part of a layer pattern, made concrete: a leading `**/` is dropped (the caller puts
/// an ancestor folder in front), the trailing file part (`**`, `*.ts`) is cut, `<name>` takes
/// the capture of that name and a `*` segment takes the segment of `near` at the same depth.
/// `None` when a segment cannot be made concrete.
fn pattern_folder(pattern: &str, near: &[&str], captures: &[(String, String)]) -> Option<String> {
    let mut segments: Vec<&str> = pattern.trim_start_matches("./").split('/').collect();
    while segments.first() == Some(&"**") {
        segments.remove(0);
    }
    while segments
        .last()
        .is_some_and(|s| s.contains(['*', '?', '[', '{']))
    {
        segments.pop();
    }
    let mut folder = Vec::with_capacity(segments.len());
    for (depth, segment) in segments.iter().enumerate() {
        if let Some(name) = segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
            let (_, value) = captures.iter().find(|(n, _)| n == name)?;
            folder.push(value.clone());
        } else if *segment == "*" {
            folder.push((*near.get(depth)?).to_string());
        } else if segment.contains(['*', '?', '[', '{', '<']) {
            return None;
        } else {
            folder.push((*segment).to_string());
        }
    }
    Some(folder.join("/"))
}

impl LayerMap {
    /// Compiles and checks the configured layers.
    pub fn new(configs: &[LayerConfig]) -> Result<Self, LayerError> {
        let mut layers: Vec<Layer> = Vec::with_capacity(configs.len());
        for config in configs {
            let err = |message: String| LayerError {
                key: config.name.clone(),
                message,
            };
            if config.name.is_empty() {
                return Err(LayerError {
                    key: "name".into(),
                    message: "a layer name must not be empty".into(),
                });
            }
            if layers.iter().any(|l| l.name == config.name) {
                return Err(err(format!("layer `{}` is defined twice", config.name)));
            }
            if config.paths.is_empty() {
                return Err(err(format!("layer `{}` has no `paths`", config.name)));
            }
            let mut compiled = Vec::with_capacity(config.paths.len());
            for pattern in &config.paths {
                let (glob_text, captures) = split_captures(pattern).map_err(|m| LayerError {
                    key: pattern.clone(),
                    message: format!("layer `{}`: {m}", config.name),
                })?;
                if let Some(isolate) = &config.isolate
                    && !captures.contains(isolate)
                {
                    return Err(LayerError {
                        key: pattern.clone(),
                        message: format!(
                            "layer `{}` isolates by `{isolate}`, but the path `{pattern}` has no `<{isolate}>` segment",
                            config.name
                        ),
                    });
                }
                let glob = globset::GlobBuilder::new(&glob_text)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| LayerError {
                        key: pattern.clone(),
                        message: format!("layer `{}`: invalid glob `{pattern}`: {e}", config.name),
                    })?;
                if captures.is_empty() {
                    compiled.push(PathPattern::Glob(glob.compile_matcher()));
                } else {
                    let mut regex = glob.regex().to_string();
                    for (i, name) in captures.iter().enumerate() {
                        regex = regex.replacen(
                            &format!("{CAPTURE_MARK}{i}X"),
                            &format!("(?P<{name}>[^/]+)"),
                            1,
                        );
                    }
                    let regex = regex::bytes::Regex::new(&regex).map_err(|e| LayerError {
                        key: pattern.clone(),
                        message: format!("layer `{}`: cannot use `{pattern}`: {e}", config.name),
                    })?;
                    compiled.push(PathPattern::Capture(regex));
                }
            }
            let element_globs = config
                .paths
                .iter()
                .map(|pattern| element_glob(pattern))
                .collect();
            let packages = match &config.packages {
                None => None,
                Some(packages) => {
                    let compile = |patterns: &[String]| {
                        PackageMatcher::new(patterns).map_err(|(pattern, message)| LayerError {
                            key: pattern,
                            message: format!("layer `{}`: {message}", config.name),
                        })
                    };
                    Some(LayerPackages {
                        allow: packages.allow.as_deref().map(compile).transpose()?,
                        deny: compile(&packages.deny)?,
                        ignore_type_imports: packages.ignore_type_imports,
                        message: packages.message.clone(),
                        lines: Vec::new(),
                    })
                }
            };
            let entry_set = if config.entry.is_empty() {
                None
            } else {
                let mut builder = globset::GlobSetBuilder::new();
                for pattern in &config.entry {
                    let glob = globset::GlobBuilder::new(pattern.trim_start_matches("./"))
                        .literal_separator(true)
                        .build()
                        .map_err(|e| LayerError {
                            key: pattern.clone(),
                            message: format!(
                                "layer `{}`: invalid entry glob `{pattern}`: {e}",
                                config.name
                            ),
                        })?;
                    builder.add(glob);
                }
                Some(builder.build().map_err(|e| LayerError {
                    key: "entry".into(),
                    message: format!("layer `{}`: invalid entry globs: {e}", config.name),
                })?)
            };
            layers.push(Layer {
                name: config.name.clone(),
                allow: config.allow.clone(),
                allow_details: config.allow_details.clone(),
                isolate: config.isolate.clone(),
                patterns: config.paths.clone(),
                compiled,
                element_globs,
                packages,
                entry: config.entry.clone(),
                entry_set,
                message: config.message.clone(),
                line: None,
            });
        }
        for layer in &layers {
            for allowed in &layer.allow {
                if !layers.iter().any(|l| &l.name == allowed) {
                    return Err(LayerError {
                        key: allowed.clone(),
                        message: format!(
                            "layer `{}` allows unknown layer `{allowed}`; known layers: {}",
                            layer.name,
                            layers
                                .iter()
                                .map(|l| l.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        Ok(Self { layers, file: None })
    }

    /// Notes where each layer and package pattern is written in `text`, the file at `file`.
    pub fn with_lines(mut self, text: &str, file: &Path) -> Self {
        let line_at = |offset: usize| text[..offset].matches('\n').count() + 1;
        for layer in &mut self.layers {
            let Some(start) = layer_offset(text, &layer.name) else {
                continue;
            };
            layer.line = Some(line_at(start));
            // Its `packages` is the first after its name (keys written after `packages` in the
            // layer's object would make this a neighbour's: then the line is only approximate).
            let rest = &text[start..];
            let Some(packages) = &mut layer.packages else {
                continue;
            };
            let Some(key) = rest.find("\"packages\"") else {
                continue;
            };
            packages.lines.push((String::new(), line_at(start + key)));
            let after = start + key;
            let patterns: Vec<String> = packages
                .allow
                .iter()
                .chain(std::iter::once(&packages.deny))
                .flat_map(|m| m.patterns().iter().cloned())
                .collect();
            for pattern in patterns {
                let quoted = serde_json::to_string(&pattern).unwrap_or_default();
                if let Some(at) = text[after..].find(&quoted) {
                    packages.lines.push((pattern, line_at(after + at)));
                }
            }
        }
        self.file = Some(file.to_path_buf());
        self
    }

    /// `file:line` of a rule written in the configuration (just the file's name: it lies
    /// beside the files it governs), or the file alone.
    pub fn location(&self, line: Option<usize>) -> Option<String> {
        let name = self
            .file
            .as_ref()?
            .file_name()?
            .to_string_lossy()
            .into_owned();
        Some(match line {
            Some(line) => format!("{name}:{line}"),
            None => name,
        })
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Whether files of `layer` may import the outside module `specifier` (type-only or not).
    pub fn check_package(
        &self,
        layer: usize,
        specifier: &str,
        type_only: bool,
    ) -> Result<(), PackageViolation> {
        let Some(packages) = self.layers.get(layer).and_then(|l| l.packages.as_ref()) else {
            return Ok(());
        };
        if type_only && packages.ignore_type_imports {
            return Ok(());
        }
        if let Some(pattern) = packages.deny.find(specifier, None) {
            return Err(PackageViolation::Denied {
                pattern: pattern.to_string(),
            });
        }
        match &packages.allow {
            Some(allow) if allow.find(specifier, None).is_none() => {
                Err(PackageViolation::NotAllowed)
            }
            _ => Ok(()),
        }
    }

    /// The folder (relative, `/`-separated, `""` for the configuration's own) of the element of
    /// its layer that holds the file at `relative_path`: what a `<name>` capture or the layer's
    /// pattern names (`src/features/orders` for `src/features/<feature>/**`, the nearest
    /// `domain` folder for `**/domain/**`).
    pub fn element_folder(&self, m: &LayerMatch, relative_path: &str) -> Option<String> {
        let layer = self.layers.get(m.layer)?;
        let segments: Vec<&str> = relative_path.split('/').collect();
        for n in 0..segments.len() {
            let folder = segments[..n].join("/");
            let matches = layer.element_globs.iter().flatten().any(|glob| {
                if folder.is_empty() {
                    glob.glob().glob().is_empty()
                } else {
                    glob.is_match(&folder)
                }
            });
            if matches {
                return Some(folder);
            }
        }
        None
    }

    /// Whether the file at `within` (relative to its element's folder) is an entry point of the
    /// element; always for a layer that declares none.
    pub fn is_entry(&self, layer: usize, within: &str) -> bool {
        match self.layers.get(layer).and_then(|l| l.entry_set.as_ref()) {
            Some(set) => set.is_match(within),
            None => true,
        }
    }

    pub fn name(&self, layer: usize) -> &str {
        self.layers.get(layer).map_or("?", |l| l.name.as_str())
    }

    /// The first layer whose pattern matches `relative_path` (relative to the config, `/`-separated).
    pub fn classify(&self, relative_path: &str) -> Option<LayerMatch> {
        for (index, layer) in self.layers.iter().enumerate() {
            for pattern in &layer.compiled {
                match pattern {
                    PathPattern::Glob(glob) => {
                        if glob.is_match(relative_path) {
                            return Some(LayerMatch {
                                layer: index,
                                captures: Vec::new(),
                            });
                        }
                    }
                    PathPattern::Capture(regex) => {
                        if let Some(caps) = regex.captures(relative_path.as_bytes()) {
                            let captures = regex
                                .capture_names()
                                .flatten()
                                .filter_map(|name| {
                                    let value = caps.name(name)?;
                                    Some((
                                        name.to_string(),
                                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                                    ))
                                })
                                .collect();
                            return Some(LayerMatch {
                                layer: index,
                                captures,
                            });
                        }
                    }
                }
            }
        }
        None
    }

    /// The folder (relative to the config, `/`-separated, `""` for the config's own folder) where
    /// new files of `layer` belong, seen from the file at `near`: the deepest ancestor of `near`
    /// under which the layer's pattern names a folder that really classifies as that layer. So
    /// `**/adapters/**` seen from `src/orders/application/ports.ts` gives `src/orders/adapters`,
    /// and `src/<feature>/adapters/**` takes `<feature>` from `near`'s own captures.
    pub fn folder_near(&self, layer: usize, near: &str) -> Option<String> {
        let target = self.layers.get(layer)?;
        let own = self.classify(near);
        let captures = own.as_ref().map(|m| m.captures.as_slice()).unwrap_or(&[]);
        let segments: Vec<&str> = near.split('/').collect();
        let ancestors = (0..segments.len()).rev().map(|n| segments[..n].join("/"));
        let probe = |folder: &str| {
            let path = if folder.is_empty() {
                "krepis-probe.ts".to_string()
            } else {
                format!("{folder}/krepis-probe.ts")
            };
            self.classify(&path).is_some_and(|m| m.layer == layer)
        };
        for ancestor in ancestors {
            // Already inside the layer's folder: the folder itself is further up.
            if probe(&ancestor) {
                continue;
            }
            for pattern in &target.patterns {
                let Some(folder) = pattern_folder(pattern, &segments, captures) else {
                    continue;
                };
                let candidate = match (ancestor.is_empty(), folder.is_empty()) {
                    (true, _) => folder.clone(),
                    (false, true) => ancestor.clone(),
                    (false, false) => format!("{ancestor}/{folder}"),
                };
                if probe(&candidate) {
                    return Some(candidate);
                }
            }
        }
        None
    }

    /// Whether a file in `from` may import a file in `to`.
    pub fn check_edge(&self, from: &LayerMatch, to: &LayerMatch) -> Result<(), EdgeViolation> {
        let (Some(from_layer), Some(to_layer)) =
            (self.layers.get(from.layer), self.layers.get(to.layer))
        else {
            return Ok(());
        };
        if from.layer == to.layer {
            if let Some(isolate) = &from_layer.isolate {
                let (a, b) = (from.capture(isolate), to.capture(isolate));
                if let (Some(a), Some(b)) = (a, b)
                    && a != b
                {
                    return Err(EdgeViolation::Isolated {
                        layer: from_layer.name.clone(),
                        capture: isolate.clone(),
                        from: a.to_string(),
                        to: b.to_string(),
                    });
                }
            }
            return Ok(());
        }
        if from_layer.allow.iter().any(|a| a == &to_layer.name) {
            Ok(())
        } else {
            Err(EdgeViolation::NotAllowed {
                from: from_layer.name.clone(),
                to: to_layer.name.clone(),
            })
        }
    }
}

/// The folder part of a layer pattern as a glob over folders: the trailing file part (`**`,
/// `*.ts`) cut, `<name>` segments as `*`, so `packages/*-domain/**` names each
/// `packages/…-domain` folder. `None` when it cannot be compiled.
fn element_glob(pattern: &str) -> Option<globset::GlobMatcher> {
    let mut segments: Vec<&str> = pattern.trim_start_matches("./").split('/').collect();
    while segments
        .last()
        .is_some_and(|s| *s == "**" || (s.contains('.') && !s.starts_with('<')))
    {
        segments.pop();
    }
    let folder: Vec<&str> = segments
        .iter()
        .map(|s| if s.starts_with('<') { "*" } else { s })
        .collect();
    globset::GlobBuilder::new(&folder.join("/"))
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// Where the layer named `name` begins in the configuration text: its `"name": "…"` member.
fn layer_offset(text: &str, name: &str) -> Option<usize> {
    let quoted = serde_json::to_string(name).ok()?;
    let mut from = 0;
    while let Some(at) = text[from..].find("\"name\"") {
        let key = from + at;
        let rest = text[key + 6..].trim_start();
        if let Some(value) = rest.strip_prefix(':')
            && value.trim_start().starts_with(&quoted)
        {
            return Some(key);
        }
        from = key + 6;
    }
    None
}

/// Replaces each `<name>` segment by a marker the glob keeps literally; returns the capture names.
fn split_captures(pattern: &str) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(pattern.len());
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            return Err(format!("unclosed `<` in `{pattern}`"));
        };
        let name = &rest[open + 1..open + close];
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!(
                "`<{name}>` in `{pattern}` is not a capture name (letters, digits, `_`)"
            ));
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("capture `<{name}>` appears twice in `{pattern}`"));
        }
        out.push_str(&rest[..open]);
        out.push_str(&format!("{CAPTURE_MARK}{}X", names.len()));
        names.push(name.to_string());
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok((out, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(name: &str, paths: &[&str], allow: &[&str], isolate: Option<&str>) -> LayerConfig {
        LayerConfig {
            name: name.into(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
            allow: allow.iter().map(|s| s.to_string()).collect(),
            isolate: isolate.map(String::from),
            ..LayerConfig::default()
        }
    }

    #[test]
    fn first_matching_layer_owns_the_file() {
        let map = LayerMap::new(&[
            layer("domain", &["**/domain/**"], &[], None),
            layer("application", &["**/application/**"], &["domain"], None),
        ])
        .unwrap();
        assert_eq!(
            map.classify("src/orders/domain/order.ts").map(|m| m.layer),
            Some(0)
        );
        assert_eq!(map.classify("domain/order.ts").map(|m| m.layer), Some(0));
        assert_eq!(
            map.classify("src/application/domain/x.ts").map(|m| m.layer),
            Some(0)
        );
        assert_eq!(map.classify("src/main.ts"), None);
        let (d, a) = (
            map.classify("domain/a.ts").unwrap(),
            map.classify("application/b.ts").unwrap(),
        );
        assert!(map.check_edge(&a, &d).is_ok());
        assert_eq!(
            map.check_edge(&d, &a),
            Err(EdgeViolation::NotAllowed {
                from: "domain".into(),
                to: "application".into()
            })
        );
    }

    #[test]
    fn new_files_go_to_the_layer_folder_nearest_the_selection() {
        let map = LayerMap::new(&[
            layer("domain", &["**/domain/**"], &[], None),
            layer("application", &["**/application/**"], &["domain"], None),
            layer("adapters", &["**/adapters/**"], &["application"], None),
        ])
        .unwrap();
        let near = "src/orders/application/ports.ts";
        assert_eq!(
            map.folder_near(2, near).as_deref(),
            Some("src/orders/adapters")
        );
        assert_eq!(
            map.folder_near(1, near).as_deref(),
            Some("src/orders/application")
        );
        assert_eq!(map.folder_near(0, "main.ts").as_deref(), Some("domain"));

        let anchored = LayerMap::new(&[
            layer("application", &["src/<feature>/app/**"], &[], None),
            layer("adapters", &["src/adapters/*.ts"], &[], None),
            layer("infra", &["src/*/infra/**"], &[], None),
        ])
        .unwrap();
        let near = "src/billing/app/invoice.ts";
        assert_eq!(
            anchored.folder_near(0, near).as_deref(),
            Some("src/billing/app")
        );
        assert_eq!(
            anchored.folder_near(1, near).as_deref(),
            Some("src/adapters")
        );
        assert_eq!(
            anchored.folder_near(2, near).as_deref(),
            Some("src/billing/infra")
        );
        // A capture the selection does not have cannot be guessed.
        assert_eq!(anchored.folder_near(0, "lib/x.ts"), None);
        assert_eq!(anchored.folder_near(7, near), None);
    }

    #[test]
    fn captures_isolate_sibling_features() {
        let map = LayerMap::new(&[layer(
            "features",
            &["src/features/<feature>/**"],
            &[],
            Some("feature"),
        )])
        .unwrap();
        let cart = map.classify("src/features/cart/ui/list.ts").unwrap();
        let cart2 = map.classify("src/features/cart/model.ts").unwrap();
        let users = map.classify("src/features/users/model.ts").unwrap();
        assert_eq!(
            cart.captures,
            vec![("feature".to_string(), "cart".to_string())]
        );
        assert!(map.check_edge(&cart, &cart2).is_ok());
        assert!(matches!(
            map.check_edge(&cart, &users),
            Err(EdgeViolation::Isolated { .. })
        ));
        assert!(map.classify("src/features/readme.md").is_none());
    }

    #[test]
    fn bad_patterns_are_reported() {
        assert!(LayerMap::new(&[layer("a", &["src/<x/**"], &[], None)]).is_err());
        assert!(LayerMap::new(&[layer("a", &["src/**"], &[], Some("feature"))]).is_err());
        assert!(
            LayerMap::new(&[
                layer("a", &["src/**"], &[], None),
                layer("a", &["b/**"], &[], None)
            ])
            .is_err()
        );
    }
}
