//! The project model: which configuration and which resolution settings govern each file.

use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigError};
use crate::resolve::{ImportMap, ResolveConfigError, ResolverSettings, TsPaths};

/// A settings file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Resolve(#[from] ResolveConfigError),
}

/// Files that mark the root of a project when no `krepis.json` says where it is: what Deno, npm,
/// TypeScript and git take for one.
const PROJECT_MARKERS: [&str; 6] = [
    "krepis.json",
    "deno.json",
    "deno.jsonc",
    "package.json",
    "tsconfig.json",
    ".git",
];

/// The nearest folder at or above `dir` that holds a project marker ([`PROJECT_MARKERS`]).
pub fn project_root_of(dir: &Path) -> Option<&Path> {
    dir.ancestors()
        .find(|d| PROJECT_MARKERS.iter().any(|m| d.join(m).exists()))
}

/// The settings files of one folder, as read (see [`ProjectSettings::scan_dir`]).
struct FolderSettings {
    config: Result<Option<Config>, SettingsError>,
    import_map: Result<Option<ImportMap>, SettingsError>,
    workspace: Result<Option<crate::workspaces::Monorepo>, SettingsError>,
    typescript: Option<(u32, u32)>,
    ts_paths: Result<Option<TsPaths>, SettingsError>,
}

impl FolderSettings {
    /// Reads `dir`'s settings files; its configuration only `with_config` (no `--config`).
    fn read(dir: &Path, with_config: bool) -> FolderSettings {
        // One listing of the folder instead of a look for each settings file: most folders
        // have none. (A folder that cannot be listed is looked into file by file.)
        let listed: Option<rustc_hash::FxHashSet<std::ffi::OsString>> = std::fs::read_dir(dir)
            .ok()
            .map(|entries| entries.filter_map(|e| Some(e.ok()?.file_name())).collect());
        let has = |name: &str| {
            listed
                .as_ref()
                .is_none_or(|names| names.contains(std::ffi::OsStr::new(name)))
        };
        let krepis = dir.join("krepis.json");
        let deno = ["deno.json", "deno.jsonc"]
            .into_iter()
            .filter(|n| has(n))
            .map(|n| dir.join(n))
            .find(|p| p.is_file());
        let config = if !with_config {
            Ok(None)
        } else if has("krepis.json") && krepis.is_file() {
            Config::load_file(&krepis).map(Some)
        } else if let Some(deno) = &deno {
            Config::load_deno_json(deno)
        } else {
            Ok(None)
        };
        let import_map = match &deno {
            Some(deno) => ImportMap::from_deno_json(deno).map_err(SettingsError::from),
            None => Ok(None),
        };
        let manifests = [
            "package.json",
            "pnpm-workspace.yaml",
            "deno.json",
            "deno.jsonc",
        ];
        let workspace = if manifests.iter().any(|m| has(m)) {
            crate::workspaces::Monorepo::at(dir).map_err(SettingsError::from)
        } else {
            Ok(None)
        };
        let typescript = if has("package.json") || has("node_modules") {
            typescript_version(dir)
        } else {
            None
        };
        let tsconfig = dir.join("tsconfig.json");
        let ts_paths = if has("tsconfig.json") && tsconfig.is_file() {
            TsPaths::from_tsconfig(&tsconfig).map_err(SettingsError::from)
        } else {
            Ok(None)
        };
        FolderSettings {
            config: config.map_err(SettingsError::from),
            import_map,
            workspace,
            typescript,
            ts_paths,
        }
    }
}

/// Keeps what one settings file of `dir` gave: its value in `values`, or its error in `broken`
/// unless a file read before it in the same folder is broken already (an import map's error in
/// `deno.json` is the one to show before `tsconfig.json`'s).
fn keep<T>(
    dir: &Path,
    found: Result<Option<T>, SettingsError>,
    values: &mut HashMap<PathBuf, Arc<T>>,
    broken: &mut HashMap<PathBuf, SettingsError>,
) {
    match found {
        Ok(Some(value)) => {
            values.insert(dir.to_path_buf(), Arc::new(value));
        }
        Ok(None) => {}
        Err(error) => {
            broken.entry(dir.to_path_buf()).or_insert(error);
        }
    }
}

/// Configurations and resolution settings by folder; a file takes the nearest above it.
///
/// A settings file that cannot be read is remembered, not raised: it is an error only for the
/// files it governs ([`ProjectSettings::error_for`]), so a broken file elsewhere in a repository
/// never stops the check of a folder it has nothing to do with.
#[derive(Debug, Clone)]
pub struct ProjectSettings {
    /// `--config FILE`: governs every file.
    override_config: Option<Arc<Config>>,
    default_config: Arc<Config>,
    configs: HashMap<PathBuf, Arc<Config>>,
    import_maps: HashMap<PathBuf, Arc<ImportMap>>,
    ts_paths: HashMap<PathBuf, Arc<TsPaths>>,
    /// Monorepo workspaces by root folder (see [`crate::workspaces`]).
    workspaces: HashMap<PathBuf, Arc<crate::workspaces::Monorepo>>,
    /// Folders already looked at, so discovery reads each settings file once.
    scanned: rustc_hash::FxHashSet<PathBuf>,
    /// Folders whose `krepis.json` (or `deno.json` `krepis` key) could not be used.
    broken_configs: HashMap<PathBuf, SettingsError>,
    /// Folders whose import map or `tsconfig.json` could not be used.
    broken_resolvers: HashMap<PathBuf, SettingsError>,
    /// The TypeScript (major, minor) a folder's project compiles with, where it says (see
    /// [`typescript_version`]).
    typescript: HashMap<PathBuf, (u32, u32)>,
}

impl ProjectSettings {
    /// Settings with the embedded default relative to `base_dir`, or `override_config` for all.
    pub fn new(base_dir: &Path, override_config: Option<Arc<Config>>) -> Self {
        Self {
            override_config,
            default_config: Config::default_for(base_dir),
            configs: HashMap::default(),
            import_maps: HashMap::default(),
            ts_paths: HashMap::default(),
            workspaces: HashMap::default(),
            scanned: Default::default(),
            broken_configs: HashMap::default(),
            broken_resolvers: HashMap::default(),
            typescript: HashMap::default(),
        }
    }

    /// Reads the settings files in `dir` (once): `krepis.json`, `deno.json(c)`, `tsconfig.json`.
    /// Files that cannot be used are remembered for [`ProjectSettings::error_for`].
    pub fn scan_dir(&mut self, dir: &Path) {
        if self.scanned.contains(dir) {
            return;
        }
        let found = FolderSettings::read(dir, self.override_config.is_none());
        self.record(dir, found);
    }

    /// Scans the folders not scanned yet, reading them in parallel: a walk finds thousands,
    /// and each costs a listing and a few file reads. What is recorded does not depend on the
    /// order the reads end in.
    pub fn scan_dirs(&mut self, dirs: &[PathBuf]) {
        use rayon::prelude::*;
        let mut fresh: Vec<&PathBuf> = dirs.iter().filter(|d| !self.scanned.contains(*d)).collect();
        fresh.sort_unstable();
        fresh.dedup();
        let with_config = self.override_config.is_none();
        let found: Vec<FolderSettings> = fresh
            .par_iter()
            .map(|dir| FolderSettings::read(dir, with_config))
            .collect();
        for (dir, found) in fresh.into_iter().zip(found) {
            self.record(dir, found);
        }
    }

    /// Keeps what [`FolderSettings::read`] found in `dir`.
    fn record(&mut self, dir: &Path, found: FolderSettings) {
        if !self.scanned.insert(dir.to_path_buf()) {
            return;
        }
        let FolderSettings {
            config,
            import_map,
            workspace,
            typescript,
            ts_paths,
        } = found;
        keep(dir, config, &mut self.configs, &mut self.broken_configs);
        keep(
            dir,
            import_map,
            &mut self.import_maps,
            &mut self.broken_resolvers,
        );
        keep(
            dir,
            workspace,
            &mut self.workspaces,
            &mut self.broken_resolvers,
        );
        if let Some(version) = typescript {
            self.typescript.insert(dir.to_path_buf(), version);
        }
        keep(
            dir,
            ts_paths,
            &mut self.ts_paths,
            &mut self.broken_resolvers,
        );
    }

    /// Scans `dir` and every folder above it.
    pub fn scan_ancestors(&mut self, dir: &Path) {
        for ancestor in dir.ancestors() {
            self.scan_dir(ancestor);
        }
    }

    /// The error of a settings file that governs `path`: the nearest configuration above it is
    /// broken, or a broken import map or `tsconfig.json` sits nearer than any usable one.
    pub fn error_for(&self, path: &Path) -> Option<&SettingsError> {
        if self.broken_configs.is_empty() && self.broken_resolvers.is_empty() {
            return None;
        }
        let mut config_found = self.override_config.is_some();
        let mut resolver_found = false;
        for dir in path.ancestors().skip(1) {
            if !config_found {
                if let Some(error) = self.broken_configs.get(dir) {
                    return Some(error);
                }
                config_found = self.configs.contains_key(dir);
            }
            if !resolver_found {
                if let Some(error) = self.broken_resolvers.get(dir) {
                    return Some(error);
                }
                resolver_found = self.import_maps.contains_key(dir)
                    || self.ts_paths.contains_key(dir)
                    || self.workspaces.contains_key(dir);
            }
            if config_found && resolver_found {
                break;
            }
        }
        None
    }

    /// Makes the embedded default govern `root` and below when no configuration file does, so
    /// layer globs are relative to the project a file belongs to, not to where the command runs.
    pub fn default_at(&mut self, root: &Path) {
        if self.override_config.is_none() && self.config_dir_for(&root.join("x")).is_none() {
            self.configs
                .insert(root.to_path_buf(), Config::default_for(root));
        }
    }

    /// Adds an already-made configuration for `dir` (editors, tests).
    pub fn insert_config(&mut self, dir: PathBuf, config: Arc<Config>) {
        self.configs.insert(dir, config);
    }

    fn nearest<'s, T>(map: &'s HashMap<PathBuf, T>, path: &Path) -> Option<&'s T> {
        if map.is_empty() {
            return None;
        }
        // A few folders (most projects have one configuration): comparing prefixes costs less
        // than hashing every ancestor of a deep path, which this is asked for again and again.
        if map.len() <= 4 {
            return map
                .iter()
                .filter(|(dir, _)| path.starts_with(dir) && path != dir.as_path())
                .max_by_key(|(dir, _)| dir.components().count())
                .map(|(_, value)| value);
        }
        path.ancestors().skip(1).find_map(|dir| map.get(dir))
    }

    /// A hash of the settings that decide results: every configuration's content and every
    /// import map and `paths` table, in a stable order.
    pub fn fingerprint(&self) -> u64 {
        let mut parts: Vec<String> = Vec::new();
        if let Some(config) = &self.override_config {
            parts.push(format!(
                "override {} {}",
                config.dir.display(),
                config.content_hash
            ));
        }
        parts.push(format!("default {}", self.default_config.dir.display()));
        for (dir, config) in &self.configs {
            parts.push(format!("config {} {}", dir.display(), config.content_hash));
        }
        for (dir, map) in &self.import_maps {
            parts.push(format!(
                "imports {} {:?} {:?}",
                dir.display(),
                map.dir,
                map.entries
            ));
        }
        for (dir, paths) in &self.ts_paths {
            parts.push(format!("paths {} {paths:?}", dir.display()));
        }
        for (dir, workspace) in &self.workspaces {
            parts.push(format!(
                "workspace {} {:?}",
                dir.display(),
                workspace.members
            ));
        }
        for (dir, version) in &self.typescript {
            parts.push(format!("typescript {} {version:?}", dir.display()));
        }
        parts.sort();
        crate::config::xxhash(parts.join("\n").as_bytes())
    }

    /// The configuration that governs `path`.
    pub fn config_for(&self, path: &Path) -> &Arc<Config> {
        if let Some(config) = &self.override_config {
            return config;
        }
        Self::nearest(&self.configs, path).unwrap_or(&self.default_config)
    }

    /// The folder of the nearest configuration file above `path`, if there is one.
    pub fn config_dir_for(&self, path: &Path) -> Option<&Path> {
        if let Some(config) = &self.override_config {
            return Some(&config.dir);
        }
        Self::nearest(&self.configs, path).map(|c| c.dir.as_path())
    }

    /// The configuration of the monorepo workspace root above `path`'s own configuration, if
    /// the root has one and `path` is governed by a nearer one (a package's own).
    pub fn workspace_config_for(&self, path: &Path) -> Option<&Arc<Config>> {
        if self.override_config.is_some() || self.workspaces.is_empty() {
            return None;
        }
        let own = self.config_dir_for(path)?;
        own.ancestors()
            .skip(1)
            .find(|dir| self.workspaces.contains_key(*dir) && self.configs.contains_key(*dir))
            .and_then(|dir| self.configs.get(dir))
    }

    /// Whether the TypeScript that compiles `path` reads `import type` (3.8 and later). Yes when
    /// nothing says which TypeScript it is: Deno, and every current compiler, do.
    pub fn type_only_imports_for(&self, path: &Path) -> bool {
        Self::nearest(&self.typescript, path).is_none_or(|&version| version >= (3, 8))
    }

    /// The import map and `paths` that apply to `path`.
    pub fn resolver_for(&self, path: &Path) -> ResolverSettings {
        ResolverSettings {
            import_map: Self::nearest(&self.import_maps, path).cloned(),
            ts_paths: Self::nearest(&self.ts_paths, path).cloned(),
            workspace: Self::nearest(&self.workspaces, path).cloned(),
        }
    }
}
/// The TypeScript a project in `dir` compiles with, as (major, minor): the version of the
/// installed `node_modules/typescript`, else the lowest version `package.json` asks for in its
/// `devDependencies` or `dependencies` (`"~3.6.3"`, `"^4.9"`, `"3.x"`). `None` when neither says.
fn typescript_version(dir: &Path) -> Option<(u32, u32)> {
    let read = |path: &Path| -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    };
    let installed = dir.join("node_modules/typescript/package.json");
    if let Some(version) = read(&installed)
        .as_ref()
        .and_then(|p| p.get("version")?.as_str().and_then(major_minor))
    {
        return Some(version);
    }
    let package = read(&dir.join("package.json"))?;
    ["devDependencies", "dependencies"]
        .iter()
        .find_map(|key| package.get(key)?.get("typescript")?.as_str())
        .and_then(major_minor)
}

/// The first `major.minor` in a version or range (`^3.7.2` → (3, 7); `4` → (4, 0)); `None` for
/// what names no version (`latest`, a URL, `workspace:*`).
fn major_minor(range: &str) -> Option<(u32, u32)> {
    let start = range.find(|c: char| c.is_ascii_digit())?;
    if range[..start].chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut parts = range[start..].split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_ranges_give_their_lowest_major_and_minor() {
        assert_eq!(major_minor("3.6.3"), Some((3, 6)));
        assert_eq!(major_minor("~3.7.2"), Some((3, 7)));
        assert_eq!(major_minor("^4.9"), Some((4, 9)));
        assert_eq!(major_minor(">=3.8 <6"), Some((3, 8)));
        assert_eq!(major_minor("5"), Some((5, 0)));
        assert_eq!(major_minor("3.x"), Some((3, 0)));
        assert_eq!(major_minor("latest"), None);
        assert_eq!(major_minor("workspace:*"), None);
        assert_eq!(major_minor("npm:typescript@3.6"), None);
    }

    #[test]
    fn the_installed_compiler_decides_then_the_manifest_and_else_import_type_is_assumed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "old/package.json",
            r#"{ "devDependencies": { "typescript": "^3.6.3" } }"#,
        );
        write(
            "new/package.json",
            r#"{ "devDependencies": { "typescript": "^3.6.3" } }"#,
        );
        write(
            "new/node_modules/typescript/package.json",
            r#"{ "version": "5.9.3" }"#,
        );
        write("deno/deno.json", "{}");
        let mut settings = ProjectSettings::new(root, None);
        for folder in ["old", "new", "deno"] {
            settings.scan_dir(&root.join(folder));
        }
        assert!(!settings.type_only_imports_for(&root.join("old/src/a.ts")));
        assert!(settings.type_only_imports_for(&root.join("new/src/a.ts")));
        assert!(settings.type_only_imports_for(&root.join("deno/main.ts")));
        let before = settings.fingerprint();
        write(
            "deno/package.json",
            r#"{ "dependencies": { "typescript": "3.7.5" } }"#,
        );
        let mut again = ProjectSettings::new(root, None);
        for folder in ["old", "new", "deno"] {
            again.scan_dir(&root.join(folder));
        }
        assert!(!again.type_only_imports_for(&root.join("deno/main.ts")));
        assert_ne!(
            again.fingerprint(),
            before,
            "a cached run must not outlive a compiler change"
        );
    }
}
