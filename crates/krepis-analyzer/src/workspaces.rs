//! Monorepo workspaces: npm, yarn and pnpm workspaces (`package.json` `workspaces`,
//! `pnpm-workspace.yaml`) and Deno workspaces (`deno.json` `workspace`). A bare specifier that
//! names a member package (`@acme/orders`, `@acme/orders/domain`) resolves to the member's
//! source through its `package.json` `exports` (conditions `source`, `types`, `import`,
//! `module`, `deno`, `node`, `default`, `require`), `types`, `module` or `main`, or its `deno.json`
//! `exports`; a target in a build folder (`dist/index.js`) that is not in the tree is looked for
//! in `src/` as TypeScript. So layers, context propagation and cycles work across packages.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A file resolution depends on (`deno.json`, `tsconfig.json`, a workspace manifest) cannot be
/// read: reported, never silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct ResolveConfigError {
    pub file: PathBuf,
    pub message: String,
}

/// The members of one monorepo workspace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Monorepo {
    /// The folder of the file that declares it.
    pub root: PathBuf,
    pub members: Vec<Member>,
}

/// One member package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its name, as other packages import it.
    pub name: String,
    pub dir: PathBuf,
    /// `exports` of its `package.json`, or of its `deno.json`.
    pub exports: Option<Value>,
    /// `types`, `typings`, `module` and `main`, in that order, for a package without `exports`.
    pub entries: Vec<String>,
}

/// The conditions tried in an `exports` object, as a type checker looking for source would.
const CONDITIONS: [&str; 8] = [
    "source", "types", "import", "module", "deno", "node", "default", "require",
];

/// Build folders whose files are looked for in `src/` when the tree does not have them.
const BUILD_DIRS: [&str; 5] = ["dist", "build", "lib", "out", "esm"];

fn error(file: &Path, message: String) -> ResolveConfigError {
    ResolveConfigError {
        file: file.to_path_buf(),
        message,
    }
}

fn read_json(path: &Path) -> Result<Value, ResolveConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| error(path, format!("cannot read: {e}")))?;
    serde_json::from_str(&crate::jsonc::to_json(&text)).map_err(|e| {
        error(
            path,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The strings of a JSON array (nothing for anything else).
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

/// The member globs `dir` declares as a workspace root (pnpm's, npm's or yarn's, and Deno's:
/// a repository may have both), and the first file that declares them.
fn member_globs(dir: &Path) -> Result<Option<(PathBuf, Vec<String>)>, ResolveConfigError> {
    let mut found: Option<(PathBuf, Vec<String>)> = None;
    for source in [node_globs(dir)?, deno_globs(dir)?].into_iter().flatten() {
        match &mut found {
            Some((_, globs)) => globs.extend(source.1),
            None => found = Some(source),
        }
    }
    Ok(found)
}

/// `pnpm-workspace.yaml`, else `package.json` `workspaces`.
fn node_globs(dir: &Path) -> Result<Option<(PathBuf, Vec<String>)>, ResolveConfigError> {
    let pnpm = dir.join("pnpm-workspace.yaml");
    if pnpm.is_file() {
        let text = std::fs::read_to_string(&pnpm)
            .map_err(|e| error(&pnpm, format!("cannot read: {e}")))?;
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .map_err(|e| error(&pnpm, format!("invalid YAML: {e}")))?;
        let globs = docs
            .first()
            .and_then(|doc| doc["packages"].as_vec())
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        return Ok(Some((pnpm, globs)));
    }
    let package = dir.join("package.json");
    if package.is_file() {
        let value = read_json(&package)?;
        // `"workspaces": [...]` (npm, yarn) or `"workspaces": { "packages": [...] }` (yarn).
        let globs = match value.get("workspaces") {
            Some(list @ Value::Array(_)) => Some(strings(list)),
            Some(object) => object.get("packages").map(strings),
            None => None,
        };
        if let Some(globs) = globs {
            return Ok(Some((package, globs)));
        }
    }
    Ok(None)
}

/// `deno.json(c)` `workspace`.
fn deno_globs(dir: &Path) -> Result<Option<(PathBuf, Vec<String>)>, ResolveConfigError> {
    for name in ["deno.json", "deno.jsonc"] {
        let deno = dir.join(name);
        if deno.is_file() {
            let value = read_json(&deno)?;
            if let Some(list) = value.get("workspace") {
                // `"workspace": [...]` or `"workspace": { "members": [...] }`.
                let globs = match list {
                    Value::Array(_) => strings(list),
                    other => other.get("members").map(strings).unwrap_or_default(),
                };
                return Ok(Some((deno, globs)));
            }
        }
    }
    Ok(None)
}

impl Monorepo {
    /// The workspace `dir` is the root of, if it is one. A member whose manifest cannot be read
    /// is left out; a root manifest that cannot be read is an error.
    pub fn at(dir: &Path) -> Result<Option<Monorepo>, ResolveConfigError> {
        let Some((file, globs)) = member_globs(dir)? else {
            return Ok(None);
        };
        let (mut include, mut exclude) = (
            globset::GlobSetBuilder::new(),
            globset::GlobSetBuilder::new(),
        );
        for glob in &globs {
            let (set, pattern) = match glob.strip_prefix('!') {
                Some(negated) => (&mut exclude, negated),
                None => (&mut include, glob.as_str()),
            };
            let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
            let compiled = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| error(&file, format!("invalid workspace glob `{glob}`: {e}")))?;
            set.add(compiled);
        }
        let build = |b: globset::GlobSetBuilder| {
            b.build()
                .map_err(|e| error(&file, format!("invalid workspace globs: {e}")))
        };
        let (include, exclude) = (build(include)?, build(exclude)?);
        let mut members = Vec::new();
        for entry in crate::files::project_walk(dir).flatten() {
            if !entry.file_type().is_some_and(|t| t.is_dir()) || entry.path() == dir {
                continue;
            }
            let Ok(relative) = entry.path().strip_prefix(dir) else {
                continue;
            };
            let relative = relative.to_string_lossy().replace('\\', "/");
            if !include.is_match(&relative) || exclude.is_match(&relative) {
                continue;
            }
            if let Some(member) = Member::at(entry.path()) {
                members.push(member);
            }
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(Monorepo {
            root: dir.to_path_buf(),
            members,
        }))
    }

    /// The member whose folder holds `path` (the innermost one).
    pub fn member_of(&self, path: &Path) -> Option<&Member> {
        self.members
            .iter()
            .filter(|m| path.starts_with(&m.dir))
            .max_by_key(|m| m.dir.components().count())
    }

    /// Where `specifier` leads if it names a member (`None`: it names none; `Some(None)`: it
    /// names one, but nothing there is a module). `probe` finds the module a path names, with
    /// the extensions resolution tries.
    pub fn resolve(
        &self,
        specifier: &str,
        probe: &dyn Fn(&Path) -> Option<PathBuf>,
    ) -> Option<Option<PathBuf>> {
        let member = self.members.iter().find(|m| {
            specifier == m.name
                || specifier
                    .strip_prefix(m.name.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })?;
        let subpath = match &specifier[member.name.len()..] {
            "" => ".".to_string(),
            rest => format!(".{rest}"),
        };
        let mut targets: Vec<String> = Vec::new();
        match &member.exports {
            Some(exports) => exports_targets(exports, &subpath, &mut targets),
            None if subpath == "." => {
                targets.extend(member.entries.iter().cloned());
                targets.push("index".into());
                targets.push("src/index".into());
                targets.push("mod".into());
            }
            None => targets.push(subpath.clone()),
        }
        for target in &targets {
            let path = member.dir.join(target.trim_start_matches("./"));
            if let Some(found) = probe(&path) {
                return Some(Some(found));
            }
        }
        // Nothing in the tree where the manifest points: the package is not built here.
        for target in &targets {
            for source in sources_of(&member.dir, target) {
                if let Some(found) = probe(&source) {
                    return Some(Some(found));
                }
            }
        }
        Some(None)
    }
}

impl Member {
    /// The package in `dir`: its `package.json`, else its `deno.json(c)`, with a `name`.
    fn at(dir: &Path) -> Option<Member> {
        let package = dir.join("package.json");
        if package.is_file() {
            let value = read_json(&package).ok()?;
            let name = value.get("name")?.as_str()?.to_string();
            let entries = ["types", "typings", "module", "main"]
                .iter()
                .filter_map(|k| value.get(*k)?.as_str().map(String::from))
                .collect();
            return Some(Member {
                name,
                dir: dir.to_path_buf(),
                exports: value.get("exports").cloned(),
                entries,
            });
        }
        for file in ["deno.json", "deno.jsonc"] {
            let deno = dir.join(file);
            if deno.is_file() {
                let value = read_json(&deno).ok()?;
                let name = value.get("name")?.as_str()?.to_string();
                return Some(Member {
                    name,
                    dir: dir.to_path_buf(),
                    exports: value.get("exports").cloned(),
                    entries: Vec::new(),
                });
            }
        }
        None
    }
}

/// The targets `exports` gives for `subpath` (`"."`, `"./domain"`), best first.
fn exports_targets(exports: &Value, subpath: &str, out: &mut Vec<String>) {
    let is_subpath_map = exports
        .as_object()
        .is_some_and(|o| o.keys().next().is_some_and(|k| k.starts_with('.')));
    if !is_subpath_map {
        // A string, a condition object or a list: all for ".".
        if subpath == "." {
            conditions(exports, "", out);
        }
        return;
    }
    let Some(map) = exports.as_object() else {
        return;
    };
    if let Some(value) = map.get(subpath) {
        conditions(value, "", out);
        return;
    }
    // Subpath patterns: `"./*": "./src/*.ts"`, the longest prefix first.
    let mut patterns: Vec<(&String, &Value)> =
        map.iter().filter(|(k, _)| k.contains('*')).collect();
    patterns.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    for (key, value) in patterns {
        let Some((prefix, suffix)) = key.split_once('*') else {
            continue;
        };
        if let Some(rest) = subpath.strip_prefix(prefix)
            && let Some(matched) = rest.strip_suffix(suffix)
        {
            conditions(value, matched, out);
            return;
        }
    }
}

/// The targets of one `exports` value, conditions in their written order, `*` replaced.
fn conditions(value: &Value, star: &str, out: &mut Vec<String>) {
    match value {
        Value::String(target) => out.push(target.replace('*', star)),
        Value::Array(list) => list.iter().for_each(|v| conditions(v, star, out)),
        Value::Object(map) => {
            // The known conditions first, in written order; then any other (a project's own,
            // like `@acme/source`), whose target is taken when it is in the tree.
            for (key, nested) in map {
                if CONDITIONS.contains(&key.as_str()) {
                    conditions(nested, star, out);
                }
            }
            for (key, nested) in map {
                if !CONDITIONS.contains(&key.as_str()) && !key.starts_with('.') {
                    conditions(nested, star, out);
                }
            }
        }
        _ => {}
    }
}

/// For a target in a build folder (`./dist/orders/index.js`, `./build/esm/index.d.ts`), the
/// sources it may have been built from, best first (`src/orders/index`, then without the
/// folders a build adds: `src/index`), extensions left to probing.
fn sources_of(dir: &Path, target: &str) -> Vec<PathBuf> {
    let target = target.trim_start_matches("./");
    let Some((first, rest)) = target.split_once('/') else {
        return Vec::new();
    };
    if !BUILD_DIRS.contains(&first) {
        return Vec::new();
    }
    let stem = rest
        .strip_suffix(".d.ts")
        .or_else(|| rest.strip_suffix(".d.mts"))
        .or_else(|| rest.strip_suffix(".d.cts"))
        .or_else(|| rest.rsplit_once('.').map(|(s, _)| s))
        .unwrap_or(rest);
    let src = dir.join("src");
    let mut out = vec![src.join(stem)];
    // `build/modern/index.js`, `dist/esm/index.js`: the build's own folders dropped, one by one.
    let mut parts: Vec<&str> = stem.split('/').collect();
    while parts.len() > 1 {
        parts.remove(0);
        out.push(src.join(parts.join("/")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn probe_on_disk(path: &Path) -> Option<PathBuf> {
        [
            path.to_path_buf(),
            path.with_extension("ts"),
            PathBuf::from(format!("{}.ts", path.display())),
            path.join("index.ts"),
        ]
        .into_iter()
        .find(|candidate| candidate.is_file())
    }

    #[test]
    fn members_of_every_kind_of_workspace_are_found_and_resolved_to_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "pnpm-workspace.yaml",
            "packages:\n  - 'packages/*'\n  - \"apps/**\"\n  - '!packages/legacy'\n",
        );
        write(
            root,
            "packages/orders/package.json",
            r#"{ "name": "@acme/orders", "exports": { ".": { "types": "./dist/index.d.ts", "import": "./dist/index.js" }, "./domain/*": "./src/domain/*.ts" } }"#,
        );
        write(root, "packages/orders/src/index.ts", "export {};\n");
        write(root, "packages/orders/src/domain/order.ts", "export {};\n");
        write(
            root,
            "packages/shared/package.json",
            r#"{ "name": "@acme/shared", "main": "lib/main.js" }"#,
        );
        write(root, "packages/shared/src/main.ts", "export {};\n");
        write(
            root,
            "packages/legacy/package.json",
            r#"{ "name": "@acme/legacy" }"#,
        );
        write(
            root,
            "apps/web/server/deno.json",
            r#"{ "name": "@acme/server", "exports": "./mod.ts" }"#,
        );
        write(root, "apps/web/server/mod.ts", "export {};\n");
        // A project's own condition naming the source; a build folder with folders of its own.
        write(
            root,
            "packages/query/package.json",
            r#"{ "name": "@acme/query", "exports": { ".": { "@acme/source": "./src/main.ts", "import": { "types": "./build/modern/index.d.ts" } } } }"#,
        );
        write(root, "packages/query/src/main.ts", "export {};\n");
        write(
            root,
            "packages/tools/package.json",
            r#"{ "name": "@acme/tools", "exports": { ".": { "import": { "types": "./build/modern/index.d.ts", "default": "./build/modern/index.js" } } } }"#,
        );
        write(root, "packages/tools/src/index.ts", "export {};\n");
        let ws = Monorepo::at(root).unwrap().unwrap();
        let names: Vec<&str> = ws.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "@acme/orders",
                "@acme/query",
                "@acme/server",
                "@acme/shared",
                "@acme/tools"
            ]
        );
        assert_eq!(
            ws.resolve("@acme/query", &probe_on_disk),
            Some(Some(root.join("packages/query/src/main.ts")))
        );
        assert_eq!(
            ws.resolve("@acme/tools", &probe_on_disk),
            Some(Some(root.join("packages/tools/src/index.ts")))
        );
        let resolve = |s: &str| ws.resolve(s, &probe_on_disk);
        assert_eq!(
            resolve("@acme/orders"),
            Some(Some(root.join("packages/orders/src/index.ts")))
        );
        assert_eq!(
            resolve("@acme/orders/domain/order"),
            Some(Some(root.join("packages/orders/src/domain/order.ts")))
        );
        assert_eq!(resolve("@acme/orders/missing"), Some(None));
        assert_eq!(
            resolve("@acme/shared"),
            Some(Some(root.join("packages/shared/src/main.ts")))
        );
        assert_eq!(
            resolve("@acme/server"),
            Some(Some(root.join("apps/web/server/mod.ts")))
        );
        assert_eq!(resolve("@acme/legacy"), None);
        assert_eq!(resolve("@acme/ordersx"), None);
        assert_eq!(resolve("express"), None);
    }

    #[test]
    fn npm_yarn_and_deno_roots_declare_their_members() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "package.json",
            r#"{ "workspaces": { "packages": ["libs/*"] } }"#,
        );
        write(root, "libs/a/package.json", r#"{ "name": "a" }"#);
        let ws = Monorepo::at(root).unwrap().unwrap();
        assert_eq!(ws.members.len(), 1);

        let deno = tempfile::tempdir().unwrap();
        write(
            deno.path(),
            "deno.json",
            r#"{ "workspace": ["./add", "./sub"] }"#,
        );
        write(
            deno.path(),
            "add/deno.json",
            r#"{ "name": "@x/add", "exports": { ".": "./mod.ts" } }"#,
        );
        write(deno.path(), "sub/deno.json", r#"{ "exports": "./mod.ts" }"#);
        let ws = Monorepo::at(deno.path()).unwrap().unwrap();
        // A member without a name cannot be imported by one.
        assert_eq!(ws.members.len(), 1);

        let none = tempfile::tempdir().unwrap();
        write(none.path(), "package.json", r#"{ "name": "solo" }"#);
        assert_eq!(Monorepo::at(none.path()).unwrap(), None);
        write(none.path(), "pnpm-workspace.yaml", "packages: [\n");
        let err = Monorepo::at(none.path()).unwrap_err();
        assert!(err.message.contains("invalid YAML"), "{}", err.message);
    }
}
