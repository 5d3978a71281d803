//! Package patterns: which outside module an import names, matched by globs over package names
//! (`express`, `@nestjs/*`, `node:*`, `npm:zod`, `jsr:@std/*`) or over whole specifiers (URLs,
//! `https://esm.sh/**`). One matcher serves the layers' `packages` rules and `pure-domain`'s
//! `bannedModules`.
//!
//! An import is matched under every name it can be known by: `node:fs/promises` as itself, as
//! `node:fs` and as `fs`; `fs` (a Node built-in) also as `node:fs`; `npm:express@4/router` as
//! itself, `npm:express` and `express`; `jsr:@std/fs@1` as `jsr:@std/fs` and `@std/fs`;
//! `express/router` as itself and `express`. A pattern that ends with `/` (`@aws-sdk/`) is a
//! prefix: it matches everything below.

/// Node's built-in modules, importable with or without `node:`.
const NODE_BUILTINS: [&str; 45] = [
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "sea",
    "sqlite",
    "stream",
    "string_decoder",
    "sys",
    "test",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// Globs over the names of outside modules.
#[derive(Debug, Clone, Default)]
pub struct PackageMatcher {
    patterns: Vec<String>,
    set: globset::GlobSet,
}

/// Matchers of the same patterns are the same.
impl PartialEq for PackageMatcher {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for PackageMatcher {}

impl PackageMatcher {
    /// Compiles `patterns`; `Err` names the pattern that is not a glob, and why.
    pub fn new(patterns: &[String]) -> Result<PackageMatcher, (String, String)> {
        let mut builder = globset::GlobSetBuilder::new();
        for pattern in patterns {
            if pattern.trim().is_empty() {
                return Err((
                    pattern.clone(),
                    "a package pattern must not be empty".into(),
                ));
            }
            let glob = match pattern.strip_suffix('/') {
                Some(prefix) => format!("{prefix}/**"),
                None => pattern.clone(),
            };
            let glob = globset::GlobBuilder::new(&glob)
                .literal_separator(true)
                .build()
                .map_err(|e| (pattern.clone(), format!("invalid package pattern: {e}")))?;
            builder.add(glob);
        }
        let set = builder
            .build()
            .map_err(|e| (patterns.join(", "), format!("invalid package pattern: {e}")))?;
        Ok(PackageMatcher {
            patterns: patterns.to_vec(),
            set,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The first pattern an import of `specifier` matches under any of its names; `mapped` is
    /// what an import map made of it (`"zod"` → `"npm:zod@3"`), matched as well.
    pub fn find(&self, specifier: &str, mapped: Option<&str>) -> Option<&str> {
        if self.patterns.is_empty() {
            return None;
        }
        let mut names = names(specifier);
        if let Some(mapped) = mapped {
            names.extend(self::names(mapped));
        }
        names
            .iter()
            .filter_map(|name| self.set.matches(name).into_iter().min())
            .min()
            .map(|i| self.patterns[i].as_str())
    }
}

/// Whether `specifier` names a module outside the project by itself: a package, a built-in or
/// a URL (not a relative or absolute path).
pub fn is_outside_specifier(specifier: &str) -> bool {
    !(specifier.is_empty()
        || specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier == "."
        || specifier == ".."
        || specifier.starts_with('/')
        || specifier.starts_with("file:"))
}

/// The name of the package an outside import names, as findings show it: `express` for
/// `express/router`, `node:fs` for `fs/promises`, `jsr:@std/fs` for `jsr:@std/fs@1/copy`, the
/// whole URL for a URL.
pub fn display_name(specifier: &str) -> String {
    let names = names(specifier);
    // The shortest name that still says where the module comes from.
    let scheme = |n: &str| n.starts_with("node:") || n.starts_with("npm:") || n.starts_with("jsr:");
    if let Some(name) = names.iter().filter(|n| scheme(n)).min_by_key(|n| n.len())
        && !specifier.starts_with("npm:")
    {
        return name.clone();
    }
    names
        .iter()
        .min_by_key(|n| n.len())
        .cloned()
        .unwrap_or_else(|| specifier.to_string())
}

/// Every name an import of `specifier` can be matched under (see the module's comment).
pub fn names(specifier: &str) -> Vec<String> {
    let mut out = vec![specifier.to_string()];
    if !is_outside_specifier(specifier)
        || specifier.contains("://")
        || specifier.starts_with("data:")
    {
        return out;
    }
    let (scheme, bare) = match specifier.split_once(':') {
        Some((scheme @ ("node" | "npm" | "jsr"), rest)) => (Some(scheme), rest),
        Some(_) => return out,
        None => (None, specifier),
    };
    let bare = bare.trim_start_matches('/');
    let package = package_of(bare);
    if package.is_empty() {
        return out;
    }
    let mut push = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    match scheme {
        Some("node") => {
            push(format!("node:{package}"));
            push(package.to_string());
        }
        Some(scheme) => {
            push(format!("{scheme}:{package}"));
            push(package.to_string());
        }
        None => {
            push(package.to_string());
            if NODE_BUILTINS.contains(&package) {
                push(format!("node:{package}"));
            }
        }
    }
    out
}

/// The package part of a bare specifier without its scheme: `@scope/name` or `name`, without a
/// version (`zod@3`, `@std/fs@1.0.0`) and without the path inside the package. (Any text may be
/// a specifier: an empty one, or one that starts with a wide character.)
pub(crate) fn package_of(bare: &str) -> &str {
    let scoped = bare.starts_with('@');
    let mut end = bare.len();
    let mut slashes = 0;
    for (i, c) in bare.char_indices() {
        if c == '/' {
            slashes += 1;
            if !scoped || slashes == 2 {
                end = i;
                break;
            }
        }
    }
    let name = &bare[..end];
    match name.char_indices().skip(1).find(|&(_, c)| c == '@') {
        Some((at, _)) => &name[..at],
        None => name,
    }
}

/// The package a specifier names: `npm:cls-hooked@4/x` → `cls-hooked`, `node:async_hooks` → `async_hooks`.
pub fn package_name(specifier: &str) -> &str {
    let bare = specifier
        .strip_prefix("node:")
        .or_else(|| specifier.strip_prefix("npm:"))
        .unwrap_or(specifier);
    package_of(bare.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[&str]) -> PackageMatcher {
        PackageMatcher::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_import_is_known_by_every_name_it_has() {
        assert_eq!(
            names("node:fs/promises"),
            ["node:fs/promises", "node:fs", "fs"]
        );
        assert_eq!(names("fs/promises"), ["fs/promises", "fs", "node:fs"]);
        assert_eq!(
            names("npm:express@4/router"),
            ["npm:express@4/router", "npm:express", "express"]
        );
        assert_eq!(
            names("jsr:@std/fs@1"),
            ["jsr:@std/fs@1", "jsr:@std/fs", "@std/fs"]
        );
        assert_eq!(
            names("@nestjs/common/x"),
            ["@nestjs/common/x", "@nestjs/common"]
        );
        assert_eq!(
            names("https://deno.land/x/oak@v12/mod.ts"),
            ["https://deno.land/x/oak@v12/mod.ts"]
        );
        assert_eq!(names(""), [""]);
    }

    #[test]
    fn globs_match_package_names_and_prefixes() {
        let m = matcher(&[
            "node:*",
            "@nestjs/*",
            "express",
            "@aws-sdk/",
            "https://esm.sh/**",
        ]);
        assert_eq!(m.find("fs", None), Some("node:*"));
        assert_eq!(m.find("node:fs/promises", None), Some("node:*"));
        assert_eq!(m.find("@nestjs/common", None), Some("@nestjs/*"));
        assert_eq!(m.find("express/lib/router", None), Some("express"));
        assert_eq!(m.find("npm:express@4", None), Some("express"));
        assert_eq!(m.find("@aws-sdk/client-s3", None), Some("@aws-sdk/"));
        assert_eq!(
            m.find("https://esm.sh/preact@10", None),
            Some("https://esm.sh/**")
        );
        assert_eq!(m.find("zod", None), None);
        assert_eq!(m.find("expression", None), None);
        // What an import map makes of a specifier counts too.
        assert_eq!(
            matcher(&["npm:zod"]).find("zod", Some("npm:zod@3.22.0")),
            Some("npm:zod")
        );
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let err = PackageMatcher::new(&["[abc".to_string()]).unwrap_err();
        assert_eq!(err.0, "[abc");
        assert!(err.1.contains("invalid package pattern"), "{}", err.1);
        assert!(PackageMatcher::new(&[String::new()]).is_err());
    }

    #[test]
    fn findings_name_the_package_not_the_path_inside_it() {
        assert_eq!(display_name("express/lib/router"), "express");
        assert_eq!(display_name("fs/promises"), "node:fs");
        assert_eq!(display_name("node:fs/promises"), "node:fs");
        assert_eq!(display_name("jsr:@std/fs@1/copy"), "jsr:@std/fs");
        assert_eq!(display_name("npm:zod@3"), "zod");
        assert_eq!(
            display_name("https://esm.sh/preact"),
            "https://esm.sh/preact"
        );
    }
}
