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
    /// What it may import: the prelude and the files of its folder (helpers in subfolders, which
    /// are not scripts themselves).
    pub imports: engine::Imports,
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
            let imports = engine::Imports::beside(&path);
            Some(Script {
                name,
                path,
                javascript,
                imports,
            })
        })
        .collect();
    scripts.sort_by(|a, b| a.name.cmp(&b.name));
    scripts
}

/// What a folder holds, by path, modification time and size: equal stamps, same scripts. The
/// folders below count too (the helpers scripts import live there), to a depth of 8.
pub type Stamp = Vec<(PathBuf, Option<SystemTime>, u64)>;

pub fn stamp(root: &Path, kind: &str) -> Stamp {
    fn walk(folder: &Path, depth: usize, stamp: &mut Stamp) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        for entry in entries.flatten() {
            let meta = entry.metadata().ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            if depth < 8 && meta.as_ref().is_some_and(|m| m.is_dir()) {
                walk(&entry.path(), depth + 1, stamp);
            }
            stamp.push((entry.path(), modified, meta.map_or(0, |m| m.len())));
        }
    }
    let mut stamp = Stamp::new();
    walk(&root.join(".krepis").join(kind), 0, &mut stamp);
    stamp.sort();
    stamp
}
