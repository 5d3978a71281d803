//! The project model: which configuration and which resolution settings govern each file.

use std::collections::HashMap;
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

/// Configurations and resolution settings by folder; a file takes the nearest above it.
#[derive(Debug)]
pub struct ProjectSettings {
    /// `--config FILE`: governs every file.
    override_config: Option<Arc<Config>>,
    default_config: Arc<Config>,
    configs: HashMap<PathBuf, Arc<Config>>,
    import_maps: HashMap<PathBuf, Arc<ImportMap>>,
    ts_paths: HashMap<PathBuf, Arc<TsPaths>>,
    /// Folders already looked at, so discovery reads each settings file once.
    scanned: std::collections::HashSet<PathBuf>,
}

impl ProjectSettings {
    /// Settings with the embedded default relative to `base_dir`, or `override_config` for all.
    pub fn new(base_dir: &Path, override_config: Option<Arc<Config>>) -> Self {
        Self {
            override_config,
            default_config: Config::default_for(base_dir),
            configs: HashMap::new(),
            import_maps: HashMap::new(),
            ts_paths: HashMap::new(),
            scanned: Default::default(),
        }
    }

    /// Reads the settings files in `dir` (once): `krepis.json`, `deno.json(c)`, `tsconfig.json`.
    pub fn scan_dir(&mut self, dir: &Path) -> Result<(), SettingsError> {
        if !self.scanned.insert(dir.to_path_buf()) {
            return Ok(());
        }
        let krepis = dir.join("krepis.json");
        let deno = ["deno.json", "deno.jsonc"]
            .map(|n| dir.join(n))
            .into_iter()
            .find(|p| p.is_file());
        if self.override_config.is_none() {
            if krepis.is_file() {
                self.configs
                    .insert(dir.to_path_buf(), Arc::new(Config::load_file(&krepis)?));
            } else if let Some(deno) = &deno
                && let Some(config) = Config::load_deno_json(deno)?
            {
                self.configs.insert(dir.to_path_buf(), Arc::new(config));
            }
        }
        if let Some(deno) = &deno
            && let Some(map) = ImportMap::from_deno_json(deno)?
        {
            self.import_maps.insert(dir.to_path_buf(), Arc::new(map));
        }
        let tsconfig = dir.join("tsconfig.json");
        if tsconfig.is_file()
            && let Some(paths) = TsPaths::from_tsconfig(&tsconfig)?
        {
            self.ts_paths.insert(dir.to_path_buf(), Arc::new(paths));
        }
        Ok(())
    }

    /// Scans `dir` and every folder above it.
    pub fn scan_ancestors(&mut self, dir: &Path) -> Result<(), SettingsError> {
        for ancestor in dir.ancestors() {
            self.scan_dir(ancestor)?;
        }
        Ok(())
    }

    /// Adds an already-made configuration for `dir` (editors, tests).
    pub fn insert_config(&mut self, dir: PathBuf, config: Arc<Config>) {
        self.configs.insert(dir, config);
    }

    fn nearest<'s, T>(map: &'s HashMap<PathBuf, T>, path: &Path) -> Option<&'s T> {
        if map.is_empty() {
            return None;
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

    /// The import map and `paths` that apply to `path`.
    pub fn resolver_for(&self, path: &Path) -> ResolverSettings {
        ResolverSettings {
            import_map: Self::nearest(&self.import_maps, path).cloned(),
            ts_paths: Self::nearest(&self.ts_paths, path).cloned(),
        }
    }
}
