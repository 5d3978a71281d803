//! A project's scripts: the TypeScript or JavaScript modules in a folder of `.krepis/` (rules,
//! generators), compiled once, and a stamp that tells when the folder changed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::engine;

/// One module, by file name without extension.
pub struct Script {
    pub name: String,
    pub path: PathBuf,
    /// The module compiled to JavaScript, or why it does not compile.
    pub javascript: Result<String, String>,
}

/// The `*.ts` and `*.js` modules in `root/.krepis/<kind>/`, sorted by name.
pub fn load(root: &Path, kind: &str) -> Vec<Script> {
    let Ok(entries) = std::fs::read_dir(root.join(".krepis").join(kind)) else {
        return Vec::new();
    };
    let mut scripts: Vec<Script> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("ts" | "js")))
        .filter_map(|path| {
            let source = std::fs::read_to_string(&path).ok()?;
            let name = path.file_stem()?.to_string_lossy().into_owned();
            let javascript = engine::strip_types(&path, &source);
            Some(Script {
                name,
                path,
                javascript,
            })
        })
        .collect();
    scripts.sort_by(|a, b| a.name.cmp(&b.name));
    scripts
}

/// What a folder holds, by path, modification time and size: equal stamps, same scripts.
pub type Stamp = Vec<(PathBuf, Option<SystemTime>, u64)>;

pub fn stamp(root: &Path, kind: &str) -> Stamp {
    let mut stamp: Stamp = std::fs::read_dir(root.join(".krepis").join(kind))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let meta = e.metadata().ok();
                    let modified = meta.as_ref().and_then(|m| m.modified().ok());
                    (e.path(), modified, meta.map_or(0, |m| m.len()))
                })
                .collect()
        })
        .unwrap_or_default();
    stamp.sort();
    stamp
}
