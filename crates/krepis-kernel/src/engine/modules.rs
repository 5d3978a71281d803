//! What a script may import, the same on every engine: the built-in prelude as `krepis:prelude`,
//! and the files of the script's own folder (and the folders below it) by relative specifier,
//! compiled from TypeScript like the script. Everything else (packages, URLs, `node:`, absolute
//! paths, a `..` that leaves the folder, a symbolic link that points out of it) is refused with a
//! message that says so.
//!
//! Modules are named by their path inside the folder (`/rule.ts`, `/lib/names.ts`): the names a
//! script's stack traces show, and what relative specifiers are resolved against. A compiled
//! module is kept for the next run of a script from the same [`Imports`].

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The specifier of the built-in prelude: the helpers and types the built-in generators use.
pub const PRELUDE_SPECIFIER: &str = "krepis:prelude";

/// The prelude's TypeScript source.
pub const PRELUDE_SOURCE: &str = include_str!("../../generators/prelude.ts");

/// The largest module file a script may import.
const MAX_MODULE_BYTES: u64 = 1 << 20;

/// The extensions of the modules a script may import.
const EXTENSIONS: [&str; 4] = ["ts", "mts", "js", "mjs"];

/// Where one script's imports come from. Cheap to clone; clones share the compiled modules.
#[derive(Clone, Debug)]
pub struct Imports {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The script's folder (canonical), or `None` for a script that came as text.
    folder: Option<PathBuf>,
    /// The script's own name, e.g. `/rule.ts`.
    main: String,
    compiled: Mutex<HashMap<String, Result<Arc<str>, String>>>,
}

impl Default for Imports {
    fn default() -> Self {
        Self::prelude_only()
    }
}

impl Imports {
    /// For a script given as text (the bridge's): it may import the prelude and nothing else.
    pub fn prelude_only() -> Self {
        Self::new(None, "/main.js".into())
    }

    /// For the script in the file `path`: the prelude and the files of its folder and below.
    pub fn beside(path: &Path) -> Self {
        let folder = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .and_then(|p| p.canonicalize().ok());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "main.js".into());
        Self::new(folder, format!("/{name}"))
    }

    fn new(folder: Option<PathBuf>, main: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                folder,
                main,
                compiled: Mutex::default(),
            }),
        }
    }

    /// The name the script itself is loaded under.
    pub fn main(&self) -> &str {
        &self.inner.main
    }

    /// The name of the module `specifier` imported from the module named `referrer`.
    pub fn resolve(&self, referrer: &str, specifier: &str) -> Result<String, String> {
        if specifier == PRELUDE_SPECIFIER {
            return Ok(PRELUDE_SPECIFIER.into());
        }
        if !(specifier.starts_with("./") || specifier.starts_with("../")) {
            return Err(format!(
                "`{specifier}` cannot be imported: a Krepis script may import `{PRELUDE_SPECIFIER}` and the files of its own folder (`./name.ts`); packages, URLs, `node:` and absolute paths are out of its reach"
            ));
        }
        let Some(folder) = &self.inner.folder else {
            return Err(format!(
                "`{specifier}` cannot be imported: this script was not read from a folder, so it may import only `{PRELUDE_SPECIFIER}`"
            ));
        };
        if referrer == PRELUDE_SPECIFIER {
            return Err(format!("`{specifier}` cannot be imported from the prelude"));
        }
        let mut parts: Vec<&str> = referrer.split('/').filter(|p| !p.is_empty()).collect();
        parts.pop();
        for part in specifier.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(format!(
                            "`{specifier}` cannot be imported from `{referrer}`: it leaves the script's folder"
                        ));
                    }
                }
                part => parts.push(part),
            }
        }
        let wanted = format!("/{}", parts.join("/"));
        candidates(&wanted)
            .into_iter()
            .find(|name| folder.join(&name[1..]).is_file())
            .ok_or_else(|| {
                format!(
                    "`{specifier}` imported from `{referrer}`: there is no such module in the script's folder"
                )
            })
    }

    /// The JavaScript of the module named `name` (a name [`Imports::resolve`] gave).
    pub fn load(&self, name: &str) -> Result<Arc<str>, String> {
        if name == PRELUDE_SPECIFIER {
            return prelude();
        }
        let mut compiled = self
            .inner
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(known) = compiled.get(name) {
            return known.clone();
        }
        let loaded = self.read(name);
        compiled.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn read(&self, name: &str) -> Result<Arc<str>, String> {
        let folder = self
            .inner
            .folder
            .as_ref()
            .ok_or_else(|| format!("`{name}` cannot be loaded: the script has no folder"))?;
        let relative = Path::new(name.trim_start_matches('/'));
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "`{name}` cannot be loaded: not a path inside the folder"
            ));
        }
        let path = folder
            .join(relative)
            .canonicalize()
            .map_err(|e| format!("`{name}` cannot be read: {e}"))?;
        if !path.starts_with(folder) {
            return Err(format!(
                "`{name}` cannot be loaded: it links to a file outside the script's folder"
            ));
        }
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("`{name}` cannot be read: {e}"))?
            .len();
        if size > MAX_MODULE_BYTES {
            return Err(format!(
                "`{name}` is {size} bytes, over the {MAX_MODULE_BYTES}-byte limit of an imported module"
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("`{name}` cannot be read: {e}"))?;
        let source = String::from_utf8(bytes)
            .map_err(|_| format!("`{name}` cannot be loaded: it is not UTF-8 text"))?;
        super::strip_types(&path, &source)
            .map(Arc::from)
            .map_err(|e| format!("`{name}`: {e}"))
    }
}

/// The names a specifier may mean, in the order they are tried: the file itself, a TypeScript
/// file written with its JavaScript extension (`./names.js` for `names.ts`, as `tsc` wants it
/// spelled), and a file or folder index without the extension.
fn candidates(wanted: &str) -> Vec<String> {
    let extension = Path::new(wanted).extension().and_then(|e| e.to_str());
    match extension {
        Some(ext) if EXTENSIONS.contains(&ext) => {
            let mut names = vec![wanted.to_string()];
            let stem = &wanted[..wanted.len() - ext.len()];
            match ext {
                "js" => names.push(format!("{stem}ts")),
                "mjs" => names.push(format!("{stem}mts")),
                _ => {}
            }
            names
        }
        _ => EXTENSIONS
            .iter()
            .map(|ext| format!("{wanted}.{ext}"))
            .chain(EXTENSIONS.iter().map(|ext| format!("{wanted}/index.{ext}")))
            .collect(),
    }
}

/// The prelude, compiled once per process.
fn prelude() -> Result<Arc<str>, String> {
    static COMPILED: OnceLock<Result<Arc<str>, String>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            super::strip_types(Path::new("prelude.ts"), PRELUDE_SOURCE)
                .map(Arc::from)
                .map_err(|e| format!("{PRELUDE_SPECIFIER}: {e}"))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> (tempfile::TempDir, Imports) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("rule.ts"), "export const a = 1;").unwrap();
        std::fs::write(
            dir.path().join("lib/names.ts"),
            "export const n: number = 2;",
        )
        .unwrap();
        std::fs::write(dir.path().join("lib/index.js"), "export const i = 3;").unwrap();
        let imports = Imports::beside(&dir.path().join("rule.ts"));
        (dir, imports)
    }

    #[test]
    fn relative_specifiers_resolve_inside_the_folder_with_typescript_spellings() {
        let (_dir, imports) = folder();
        assert_eq!(imports.main(), "/rule.ts");
        let resolve = |s: &str| imports.resolve("/rule.ts", s);
        assert_eq!(resolve("./lib/names.ts").unwrap(), "/lib/names.ts");
        assert_eq!(resolve("./lib/names.js").unwrap(), "/lib/names.ts");
        assert_eq!(resolve("./lib/names").unwrap(), "/lib/names.ts");
        assert_eq!(resolve("./lib").unwrap(), "/lib/index.js");
        assert_eq!(
            imports.resolve("/lib/names.ts", "../rule.ts").unwrap(),
            "/rule.ts"
        );
        assert_eq!(resolve(PRELUDE_SPECIFIER).unwrap(), PRELUDE_SPECIFIER);
        assert_eq!(
            &*imports.load("/lib/names.ts").unwrap(),
            "export const n = 2;\n"
        );
    }

    #[test]
    fn everything_outside_the_folder_is_refused_with_the_reason() {
        let (dir, imports) = folder();
        let resolve = |s: &str| imports.resolve("/rule.ts", s).unwrap_err();
        assert!(resolve("../secret.ts").contains("leaves the script's folder"));
        assert!(resolve("./lib/../../x.ts").contains("leaves the script's folder"));
        for outside in [
            "fs",
            "node:fs",
            "/etc/passwd",
            "https://example.com/x.js",
            "npm:x",
        ] {
            assert!(resolve(outside).contains("out of its reach"), "{outside}");
        }
        assert!(resolve("./missing.ts").contains("no such module"));
        // A link inside the folder that points out of it.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.ts"), "export const s = 1;").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(
                outside.path().join("secret.ts"),
                dir.path().join("link.ts"),
            )
            .unwrap();
            let name = imports.resolve("/rule.ts", "./link.ts").unwrap();
            assert!(
                imports
                    .load(&name)
                    .unwrap_err()
                    .contains("outside the script's folder")
            );
        }
        // A script that came as text may import only the prelude.
        let text = Imports::prelude_only();
        assert!(
            text.resolve("/main.js", "./lib/names.ts")
                .unwrap_err()
                .contains("only")
        );
        assert!(text.load(PRELUDE_SPECIFIER).is_ok());
    }

    #[test]
    fn unreadable_modules_are_refused_not_run() {
        let (dir, imports) = folder();
        std::fs::write(dir.path().join("binary.ts"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
        assert!(
            imports
                .load("/binary.ts")
                .unwrap_err()
                .contains("not UTF-8")
        );
        std::fs::write(dir.path().join("broken.ts"), "export const = ;").unwrap();
        assert!(
            imports
                .load("/broken.ts")
                .unwrap_err()
                .contains("syntax error")
        );
        let big = "// padding\n".repeat(100_000);
        std::fs::write(dir.path().join("big.ts"), big).unwrap();
        assert!(imports.load("/big.ts").unwrap_err().contains("limit"));
    }
}
