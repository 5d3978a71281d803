//! Import resolution as Deno and TypeScript do it: relative paths with or without extension,
//! `.js` specifiers naming `.ts` files, `index.ts`, `deno.json` import maps and `tsconfig.json`
//! `paths`. Bare, `npm:`, `jsr:`, `node:` and URL specifiers are external.
//!
//! Resolution runs against a file-existence callback rather than the disk alone, so editor buffers
//! that are not saved yet still resolve.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::jsonc;

/// `paths` entries: a pattern and its targets.
type PathsMap = Vec<(String, Vec<String>)>;

/// Where a specifier leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// A file of the project (it exists).
    File(PathBuf),
    /// A package, a built-in or a URL: not part of the project.
    External,
    /// A file that is not code (`./media/panel.css`, `./data.json`): it exists, and no rule
    /// reads it.
    Asset(PathBuf),
    /// Looks local but no file matches.
    Unresolved,
}

/// The `imports` of a `deno.json` (or of the import map file it names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportMap {
    /// Relative targets are relative to this folder.
    pub dir: PathBuf,
    /// Keys and targets, longest key first so prefix matches pick the most specific entry.
    pub entries: Vec<(String, String)>,
}

/// `compilerOptions.paths` and `baseUrl` of a `tsconfig.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TsPaths {
    /// `baseUrl`, if the file sets one (bare specifiers are then tried below it).
    pub base_url: Option<PathBuf>,
    /// Targets of `paths` are relative to this folder (`baseUrl` or the tsconfig's folder).
    pub paths_base: PathBuf,
    pub paths: Vec<(String, Vec<String>)>,
    /// `compilerOptions.noUnusedParameters`: a parameter nobody reads is a compile error.
    pub no_unused_parameters: bool,
}

/// The resolution settings that apply to one importing file.
#[derive(Debug, Clone, Default)]
pub struct ResolverSettings {
    pub import_map: Option<Arc<ImportMap>>,
    pub ts_paths: Option<Arc<TsPaths>>,
    /// The monorepo workspace the file is in: its member packages resolve to their source.
    pub workspace: Option<Arc<crate::workspaces::Monorepo>>,
}

pub use crate::workspaces::ResolveConfigError;

fn read_json(path: &Path) -> Result<serde_json::Value, ResolveConfigError> {
    // Opening a named pipe would wait for a writer forever.
    if let Ok(metadata) = std::fs::metadata(path)
        && !metadata.is_file()
    {
        return Err(ResolveConfigError {
            file: path.to_path_buf(),
            message: "cannot read: not a regular file".into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| ResolveConfigError {
        file: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    serde_json::from_str(&jsonc::to_json(&text)).map_err(|e| ResolveConfigError {
        file: path.to_path_buf(),
        message: format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    })
}

impl ImportMap {
    /// The import map of a `deno.json(c)`: its `imports`, or the file named by `importMap`.
    pub fn from_deno_json(path: &Path) -> Result<Option<ImportMap>, ResolveConfigError> {
        let value = read_json(path)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        if let Some(imports) = value.get("imports") {
            return Ok(Some(Self::from_imports(dir, imports)));
        }
        if let Some(file) = value.get("importMap").and_then(|v| v.as_str()) {
            let map_path = normalize(&dir.join(file));
            let map = read_json(&map_path)?;
            let map_dir = map_path.parent().unwrap_or(Path::new(".")).to_path_buf();
            if let Some(imports) = map.get("imports") {
                return Ok(Some(Self::from_imports(map_dir, imports)));
            }
        }
        Ok(None)
    }

    fn from_imports(dir: PathBuf, imports: &serde_json::Value) -> ImportMap {
        let mut entries: Vec<(String, String)> = imports
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        entries.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        ImportMap { dir, entries }
    }

    /// The mapped specifier, if an entry matches exactly or as a `/`-ending prefix.
    fn map(&self, specifier: &str) -> Option<String> {
        for (key, target) in &self.entries {
            if key == specifier {
                return Some(target.clone());
            }
            if key.ends_with('/')
                && target.ends_with('/')
                && let Some(rest) = specifier.strip_prefix(key.as_str())
            {
                return Some(format!("{target}{rest}"));
            }
        }
        None
    }
}

impl TsPaths {
    /// `paths`/`baseUrl` of a `tsconfig.json`, following `extends` of relative files.
    pub fn from_tsconfig(path: &Path) -> Result<Option<TsPaths>, ResolveConfigError> {
        let mut current = path.to_path_buf();
        let mut base_url: Option<PathBuf> = None;
        let mut paths: Option<(PathBuf, PathsMap)> = None;
        let mut no_unused_parameters: Option<bool> = None;
        // Every file of the chain, by its real path: one seen twice is a loop, refused as
        // TypeScript refuses it.
        let mut chain: Vec<(PathBuf, PathBuf)> = Vec::new();
        loop {
            let shown = normalize(&current);
            let real = std::fs::canonicalize(&current).unwrap_or_else(|_| shown.clone());
            if let Some(first) = chain.iter().position(|(r, _)| *r == real) {
                let names: Vec<String> = chain[first..]
                    .iter()
                    .map(|(_, s)| s)
                    .chain(std::iter::once(&shown))
                    .map(|p| p.display().to_string())
                    .collect();
                return Err(ResolveConfigError {
                    file: path.to_path_buf(),
                    message: format!("`extends` loops: {}", names.join(" → ")),
                });
            }
            chain.push((real, shown));
            let value = read_json(&current)?;
            let dir = current.parent().unwrap_or(Path::new(".")).to_path_buf();
            let options = value.get("compilerOptions");
            if no_unused_parameters.is_none() {
                no_unused_parameters = options
                    .and_then(|o| o.get("noUnusedParameters"))
                    .and_then(|v| v.as_bool());
            }
            if base_url.is_none()
                && let Some(url) = options
                    .and_then(|o| o.get("baseUrl"))
                    .and_then(|v| v.as_str())
            {
                base_url = Some(normalize(&dir.join(url)));
            }
            if paths.is_none()
                && let Some(map) = options
                    .and_then(|o| o.get("paths"))
                    .and_then(|v| v.as_object())
            {
                let entries = map
                    .iter()
                    .map(|(k, v)| {
                        let targets = v
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|t| t.as_str().map(String::from))
                            .collect();
                        (k.clone(), targets)
                    })
                    .collect();
                paths = Some((dir.clone(), entries));
            }
            match value.get("extends").and_then(|v| v.as_str()) {
                Some(parent) if parent.starts_with('.') => {
                    let mut next = dir.join(parent);
                    if next.extension().is_none() {
                        next.set_extension("json");
                    }
                    current = next;
                }
                _ => break,
            }
        }
        let no_unused_parameters = no_unused_parameters.unwrap_or(false);
        if base_url.is_none() && paths.is_none() && !no_unused_parameters {
            return Ok(None);
        }
        let (paths_dir, paths) = paths.unwrap_or_else(|| {
            (
                path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                Vec::new(),
            )
        });
        Ok(Some(TsPaths {
            paths_base: base_url.clone().unwrap_or(paths_dir),
            base_url,
            paths,
            no_unused_parameters,
        }))
    }
}

/// Whether a specifier names something outside the project by its form alone.
fn is_external_scheme(specifier: &str) -> bool {
    const SCHEMES: [&str; 8] = [
        "npm:", "jsr:", "node:", "http:", "https:", "data:", "blob:", "bun:",
    ];
    SCHEMES.iter().any(|s| specifier.starts_with(s))
}

/// How resolution learns whether a file exists.
pub struct Lookup<'a> {
    /// Whether the project knows the file (without touching the disk).
    pub known: &'a dyn Fn(&Path) -> bool,
    /// Whether a file the project does not know may be looked for on disk.
    pub disk: bool,
}

/// Resolves `specifier` imported from `importer`.
pub fn resolve(
    importer: &Path,
    specifier: &str,
    settings: &ResolverSettings,
    lookup: &Lookup<'_>,
) -> Resolution {
    let dir = importer.parent().unwrap_or(Path::new("."));
    if specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier == "."
        || specifier == ".."
    {
        return probe(&dir.join(specifier), lookup);
    }
    if specifier.starts_with('/') {
        return probe(Path::new(specifier), lookup);
    }
    if let Some(path) = specifier.strip_prefix("file://") {
        return probe(Path::new(path), lookup);
    }
    if let Some(map) = &settings.import_map
        && let Some(target) = map.map(specifier)
    {
        if target.starts_with("./") || target.starts_with("../") || target.starts_with('/') {
            return probe(&map.dir.join(&target), lookup);
        }
        return Resolution::External;
    }
    if is_external_scheme(specifier) {
        return Resolution::External;
    }
    if let Some(ts) = &settings.ts_paths {
        for (pattern, targets) in &ts.paths {
            let Some(captured) = match_paths_pattern(pattern, specifier) else {
                continue;
            };
            for target in targets {
                let target = target.replacen('*', captured, 1);
                if let Resolution::File(path) = probe(&ts.paths_base.join(target), lookup) {
                    return Resolution::File(path);
                }
            }
        }
        if let Some(base) = &ts.base_url
            && let Resolution::File(path) = probe(&base.join(specifier), lookup)
        {
            return Resolution::File(path);
        }
    }
    if let Some(workspace) = &settings.workspace
        && let Some(found) = workspace.resolve(specifier, &|path| match probe(path, lookup) {
            Resolution::File(found) => Some(found),
            _ => None,
        })
    {
        return found.map_or(Resolution::Unresolved, Resolution::File);
    }
    Resolution::External
}

/// For a `paths` key like `@app/*`, the part of `specifier` the `*` stands for.
fn match_paths_pattern<'s>(pattern: &str, specifier: &'s str) -> Option<&'s str> {
    match pattern.split_once('*') {
        None => (pattern == specifier).then_some(""),
        Some((prefix, suffix)) => {
            let rest = specifier.strip_prefix(prefix)?;
            rest.strip_suffix(suffix)
                .filter(|_| rest.len() >= suffix.len())
        }
    }
}

const EXTENSIONS: [&str; 8] = ["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"];

/// Finds the file a local path names: as is, with a TypeScript twin of a JS extension, with an
/// added extension, or as a folder's `index`. The project's known files are asked first, for
/// every candidate, and only then the disk (when `lookup` may): most imports name a known
/// module, often through a `.js` specifier of a `.ts` file, and the disk is never asked for them.
fn probe(path: &Path, lookup: &Lookup<'_>) -> Resolution {
    let path = normalize(path);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if let Some(found) = candidates(&path, ext).find(|c| (lookup.known)(c)) {
        return Resolution::File(found);
    }
    if lookup.disk
        && let Some(found) = candidates(&path, ext).find(|c| c.is_file())
    {
        return Resolution::File(found);
    }
    // A style sheet, JSON or image imported for a bundler: a file, but not a module.
    if !EXTENSIONS.contains(&ext) && !ext.is_empty() && exists_on_disk(&path, lookup.known) {
        return Resolution::Asset(path);
    }
    Resolution::Unresolved
}

/// The modules a local path may name, in the order resolution prefers them.
fn candidates<'p>(path: &'p Path, ext: &'p str) -> impl Iterator<Item = PathBuf> + 'p {
    let itself = EXTENSIONS.contains(&ext).then(|| path.to_path_buf());
    // A `.js` specifier names the TypeScript source, or the declarations that describe a
    // hand-written script (`./xterm-private.js` → `xterm-private.d.ts`).
    let twins: &[&str] = match ext {
        "js" => &["ts", "tsx", "d.ts"],
        "jsx" => &["tsx"],
        "mjs" => &["mts", "d.mts"],
        "cjs" => &["cts", "d.cts"],
        _ => &[],
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let added = EXTENSIONS
        .iter()
        .chain(&["d.ts"])
        .map(move |ext| path.with_file_name(format!("{file_name}.{ext}")));
    let index = EXTENSIONS
        .iter()
        .chain(&["d.ts"])
        .map(move |ext| path.join(format!("index.{ext}")));
    itself
        .into_iter()
        .chain(twins.iter().map(move |twin| path.with_extension(twin)))
        .chain(added)
        .chain(index)
}

/// Whether a file that is not code exists: the known set holds only modules, so ask the disk
/// when the caller's lookup does not know it.
fn exists_on_disk(path: &Path, exists: &dyn Fn(&Path) -> bool) -> bool {
    exists(path) || path.is_file()
}

/// Removes `.` and `..` components without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    #[cfg(unix)]
    {
        normalize_bytes(path)
    }
    #[cfg(not(unix))]
    {
        normalize_components(path)
    }
}

/// [`normalize`] by path components: what it means, and what the byte version must equal.
#[cfg_attr(unix, allow(dead_code))]
fn normalize_components(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// [`normalize`] on a Unix path's bytes: the segments between slashes, `.` and empty ones
/// dropped, `..` taking the one before it away (or kept, when there is none), joined once.
/// Resolution normalises every candidate of every import; pushing component by component
/// cost more than the lookups.
#[cfg(unix)]
fn normalize_bytes(path: &Path) -> PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = path.as_os_str().as_bytes();
    let rooted = bytes.first() == Some(&b'/');
    let mut segments: Vec<&[u8]> = Vec::with_capacity(16);
    for segment in bytes.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                if segments.pop().is_none() {
                    segments.push(b"..");
                }
            }
            other => segments.push(other),
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    if rooted {
        out.push(b'/');
    }
    for (k, segment) in segments.iter().enumerate() {
        if k > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(segment);
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[cfg(unix)]
    #[test]
    fn normalising_bytes_equals_normalising_components() {
        // Every path of up to four parts, with and without a leading slash.
        let paths = crate::testing::awkward_paths(4);
        for path in paths {
            for path in [path.clone(), format!("/{path}"), format!("{path}/")] {
                let path = Path::new(&path);
                assert_eq!(
                    normalize_bytes(path),
                    normalize_components(path),
                    "{}",
                    path.display()
                );
            }
        }
    }

    fn files(paths: &[&str]) -> HashSet<PathBuf> {
        paths.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn relative_specifiers_in_every_form() {
        let set = files(&[
            "/p/src/a.ts",
            "/p/src/b.tsx",
            "/p/src/lib/index.ts",
            "/p/src/c.mts",
            "/p/src/x.d.ts",
            "/p/src/m.d.mts",
            "/p/src/types/index.d.ts",
        ]);
        let exists = |p: &Path| set.contains(p);
        let none = ResolverSettings::default();
        let from = Path::new("/p/src/x/y.ts");
        let lookup = Lookup {
            known: &exists,
            disk: false,
        };
        let r = |s: &str| resolve(from, s, &none, &lookup);
        assert_eq!(r("../a.ts"), Resolution::File("/p/src/a.ts".into()));
        assert_eq!(r("../a"), Resolution::File("/p/src/a.ts".into()));
        assert_eq!(r("../a.js"), Resolution::File("/p/src/a.ts".into()));
        assert_eq!(r("../b.js"), Resolution::File("/p/src/b.tsx".into()));
        assert_eq!(r("../c.mjs"), Resolution::File("/p/src/c.mts".into()));
        assert_eq!(r("../lib"), Resolution::File("/p/src/lib/index.ts".into()));
        assert_eq!(r("./missing"), Resolution::Unresolved);
        assert_eq!(r("../x.js"), Resolution::File("/p/src/x.d.ts".into()));
        assert_eq!(r("../x"), Resolution::File("/p/src/x.d.ts".into()));
        assert_eq!(r("../m.mjs"), Resolution::File("/p/src/m.d.mts".into()));
        assert_eq!(
            r("../types"),
            Resolution::File("/p/src/types/index.d.ts".into())
        );
        assert_eq!(r("npm:zod@3"), Resolution::External);
        assert_eq!(r("jsr:@std/fs"), Resolution::External);
        assert_eq!(r("node:fs"), Resolution::External);
        assert_eq!(r("https://deno.land/x/a.ts"), Resolution::External);
        assert_eq!(r("react"), Resolution::External);
    }

    #[test]
    fn import_maps_and_tsconfig_paths() {
        let set = files(&[
            "/p/src/domain/order.ts",
            "/p/src/shared/util/index.ts",
            "/p/lib/x.ts",
        ]);
        let exists = |p: &Path| set.contains(p);
        let settings = ResolverSettings {
            import_map: Some(Arc::new(ImportMap::from_imports(
                "/p".into(),
                &serde_json::json!({ "@domain/": "./src/domain/", "zod": "npm:zod@3" }),
            ))),
            ts_paths: Some(Arc::new(TsPaths {
                base_url: Some("/p".into()),
                paths_base: "/p".into(),
                paths: vec![("~shared/*".into(), vec!["src/shared/*".into()])],
                no_unused_parameters: false,
            })),
            workspace: None,
        };
        let from = Path::new("/p/src/app.ts");
        let lookup = Lookup {
            known: &exists,
            disk: false,
        };
        let r = |s: &str| resolve(from, s, &settings, &lookup);
        assert_eq!(
            r("@domain/order.ts"),
            Resolution::File("/p/src/domain/order.ts".into())
        );
        assert_eq!(r("zod"), Resolution::External);
        assert_eq!(
            r("~shared/util"),
            Resolution::File("/p/src/shared/util/index.ts".into())
        );
        assert_eq!(r("lib/x"), Resolution::File("/p/lib/x.ts".into()));
    }
}
