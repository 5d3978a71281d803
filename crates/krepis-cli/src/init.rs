//! `krepis init`: a commented `krepis.json` for the layout found in the tree.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

/// Folder names that mean a layer, by layer (in dependency order).
const LAYER_FOLDERS: [(&str, &[&str]); 4] = [
    ("domain", &["domain", "entities", "model"]),
    (
        "application",
        &[
            "application",
            "app",
            "usecases",
            "use-cases",
            "use_cases",
            "services",
        ],
    ),
    (
        "infrastructure",
        &["infrastructure", "infra", "persistence"],
    ),
    (
        "adapters",
        &[
            "adapters",
            "adapter",
            "interfaces",
            "presentation",
            "controllers",
            "http",
        ],
    ),
];

const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/krepis/krepis/main/schemas/krepis.schema.json";

/// Which folder names of each layer occur in the tree under `root` (gitignore respected).
fn detect(root: &Path) -> BTreeMap<usize, Vec<String>> {
    let mut found: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .max_depth(Some(8))
        .filter_entry(|e| e.file_name() != "node_modules" && e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_string();
        for (index, (_, names)) in LAYER_FOLDERS.iter().enumerate() {
            if names.contains(&name.as_str()) {
                let list = found.entry(index).or_default();
                if !list.contains(&name) {
                    list.push(name.clone());
                }
            }
        }
    }
    found
}

/// The text of the file: the detected layers, each allowed to import the ones before it.
pub fn config_text(found: &BTreeMap<usize, Vec<String>>) -> String {
    let mut layers: Vec<String> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    // Without any layer folder, the conventional four are written so the file shows the idea.
    let default: BTreeMap<usize, Vec<String>> = (0..LAYER_FOLDERS.len())
        .map(|i| (i, vec![LAYER_FOLDERS[i].0.to_string()]))
        .collect();
    let found = if found.is_empty() { &default } else { found };
    for (index, folders) in found {
        let name = LAYER_FOLDERS[*index].0;
        let paths: Vec<String> = folders.iter().map(|f| format!("\"**/{f}/**\"")).collect();
        let allow: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        layers.push(format!(
            "    {{ \"name\": \"{name}\", \"paths\": [{}], \"allow\": [{}] }}",
            paths.join(", "),
            allow.join(", ")
        ));
        names.push(name);
    }
    format!(
        r#"{{
  "$schema": "{SCHEMA_URL}",

  // The request context every async function takes first (rule `explicit-context`), and where
  // the fix imports its type from.
  "context": {{ "type": "KrepisContext", "param": "ctx", "module": "@krepis/core" }},

  // Layers are tried in order; the first whose glob matches a file owns it. A layer may import
  // itself and the layers in its `allow` list. Files outside every layer are unconstrained.
  // A `<name>` path segment captures a folder name; `"isolate": "name"` keeps such folders apart.
  "layers": [
{}
  ],

  // "rule": "error" | "warn" | "off", or ["error", {{ options }}]; `krepis explain RULE` has each
  // rule's options. Rules not listed keep their default severity.
  "rules": {{
    "command-query-separation": "warn",
    "import-cycle": "warn"
  }},

  // Files never checked (globs relative to this file).
  "ignore": ["**/node_modules/**", "**/*.test.ts", "**/*_test.ts", "**/*.spec.ts", "**/*.d.ts"]
}}
"#,
        layers.join(",\n")
    )
}

pub fn init(dir: &Path) -> ExitCode {
    let path = dir.join("krepis.json");
    if path.exists() {
        eprintln!(
            "error: {} already exists; not overwriting it",
            path.display()
        );
        return ExitCode::from(2);
    }
    let found = detect(dir);
    let text = config_text(&found);
    if let Err(error) = std::fs::write(&path, &text) {
        eprintln!("error: cannot write {}: {error}", path.display());
        return ExitCode::from(2);
    }
    // The journal and the cache are local state: keep them out of version control.
    if dir.join(".git").exists() || dir.join(".gitignore").exists() {
        let ignore_path = dir.join(".gitignore");
        let existing = std::fs::read_to_string(&ignore_path).unwrap_or_default();
        let listed = existing
            .lines()
            .any(|l| matches!(l.trim(), ".krepis" | ".krepis/" | "/.krepis" | "/.krepis/"));
        if !listed {
            let separator = if existing.is_empty() || existing.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            if std::fs::write(&ignore_path, format!("{existing}{separator}.krepis/\n")).is_ok() {
                println!("Added .krepis/ (journal and cache) to .gitignore.");
            }
        }
    }
    let summary: Vec<String> = found
        .iter()
        .map(|(i, folders)| format!("{} ({})", LAYER_FOLDERS[*i].0, folders.join(", ")))
        .collect();
    if summary.is_empty() {
        println!("Wrote krepis.json with the conventional layers (no layer folders found yet).");
    } else {
        println!(
            "Wrote krepis.json with the layers found: {}.",
            summary.join("; ")
        );
    }
    if !context_module_resolves(dir, "@krepis/core") {
        println!(
            "The fixes import `KrepisContext` from `@krepis/core`, which this project does not have yet:\n  npm i @krepis/core        (or pnpm add / yarn add)\n  deno add jsr:@krepis/core (Deno)\nTo use a context type of your own instead, set `context.module` (and `context.type`) in krepis.json."
        );
    }
    println!("Run `krepis check` to see what it reports.");
    ExitCode::SUCCESS
}

/// Whether an import of `module` can resolve from `dir`: an installed package above it, or an
/// entry for it in a `deno.json(c)` import map or `package.json` dependencies.
fn context_module_resolves(dir: &Path, module: &str) -> bool {
    let quoted = format!("\"{module}\"");
    dir.ancestors().any(|d| {
        d.join("node_modules")
            .join(module)
            .join("package.json")
            .is_file()
            || ["deno.json", "deno.jsonc", "package.json"]
                .iter()
                .any(|name| {
                    std::fs::read_to_string(d.join(name)).is_ok_and(|text| text.contains(&quoted))
                })
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use krepis_analyzer::config::{Config, ConfigSource};

    #[test]
    fn the_written_config_is_valid_for_any_detection() {
        let mut found = std::collections::BTreeMap::new();
        for case in [
            vec![],
            vec![(0, "domain"), (2, "infra")],
            vec![(1, "usecases"), (3, "http")],
        ] {
            found.clear();
            for (i, name) in case {
                found.insert(i, vec![name.to_string()]);
            }
            let text = super::config_text(&found);
            let config = Config::parse(
                &text,
                ConfigSource::Default,
                Path::new("/p"),
                Path::new("/p/krepis.json"),
            );
            assert!(config.is_ok(), "{text}\n{:?}", config.err());
        }
    }
}
