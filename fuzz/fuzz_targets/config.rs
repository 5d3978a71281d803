//! Settings files: `krepis.json`, `deno.json` (with an import map file) and `tsconfig.json`,
//! with comments and trailing commas, read from disk as the CLI reads them, then used: layers,
//! ignore globs, resolution through import maps and `paths`, and the rules under that config.
//!
//! Input: up to four files separated by NUL bytes, in the order `krepis.json`, `deno.json`,
//! `tsconfig.json`, `import_map.json`; a missing part means no such file.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use krepis_analyzer::Workspace;
use krepis_analyzer::config::{Config, ConfigSource};
use krepis_analyzer::jsonc;
use krepis_analyzer::project::ProjectSettings;
use krepis_analyzer::resolve::{Lookup, Resolution, resolve};
use krepis_analyzer::testing::fix_invariants;
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 4] = [
    "krepis.json",
    "deno.json",
    "tsconfig.json",
    "import_map.json",
];

/// Modules of the project the settings apply to.
const MODULES: [(&str, &str); 5] = [
    (
        "src/features/cart/view.ts",
        "import { total } from \"@cart/model.ts\";\nimport { handle } from \"~platform/http\";\nimport { s } from \"../users/session.ts\";\nexport async function show(id: string) { return handle(id); }\n",
    ),
    ("src/features/cart/model.ts", "export const total = 1;\n"),
    (
        "src/features/users/session.ts",
        "import \"@cart/model.ts\";\nexport const s = 1;\n",
    ),
    (
        "src/platform/http.ts",
        "import type { RequestContext } from \"./context.ts\";\nexport async function handle(rc: RequestContext, id: string) { return id; }\n",
    ),
    (
        "src/orders/domain/order.ts",
        "import { show } from \"../../features/cart/view\";\nexport const now = Date.now();\n",
    ),
];

const SPECIFIERS: [&str; 9] = [
    "@cart/model.ts",
    "~platform/http",
    "~platform/",
    "zod",
    "./model",
    "../users/session.ts",
    "/abs/x",
    "file:///x.ts",
    "lib/a",
];

fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("krepis-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

/// A config error names its file, and its line (when it has one) is a line of that file.
fn check_error_line(text: &str, line: Option<usize>, error: &dyn std::fmt::Display) {
    if let Some(line) = line {
        let lines = text.split('\n').count();
        assert!(
            (1..=lines).contains(&line),
            "error line {line} outside the file's {lines} lines: {error}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<String> = data
        .split(|&b| b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let root = root();
    for (i, name) in FILES.iter().enumerate() {
        let path = root.join(name);
        match parts.get(i) {
            Some(text) => std::fs::write(&path, text).expect("writable temporary folder"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    // Comment stripping keeps every byte's line and column.
    for text in &parts {
        let json = jsonc::to_json(text);
        assert_eq!(json.len(), text.len(), "length changed");
        let lines = |s: &str| s.match_indices('\n').map(|(i, _)| i).collect::<Vec<_>>();
        assert_eq!(lines(&json), lines(text), "line breaks moved");
    }

    let krepis = &parts[0];
    let file = root.join("krepis.json");
    let in_memory = Config::parse(krepis, ConfigSource::File(file.clone()), root, &file);
    if let Err(error) = &in_memory {
        assert!(error.to_string().contains("krepis.json"), "{error}");
        check_error_line(krepis, error.line, error);
    }

    let mut settings = ProjectSettings::new(root, None);
    settings.scan_dir(root);
    // A settings file that cannot be used is an error for the files it governs.
    if let Some(error) = settings.error_for(&root.join("src/x.ts")).cloned() {
        let message = error.to_string();
        assert!(FILES.iter().any(|f| message.contains(f)), "{message}");
        if let krepis_analyzer::project::SettingsError::Config(config) = &error {
            let index = FILES
                .iter()
                .position(|f| config.file.ends_with(f))
                .unwrap_or(0);
            check_error_line(parts.get(index).map_or("", |s| s), config.line, config);
        }
        return;
    }

    let paths: Vec<PathBuf> = MODULES.iter().map(|(p, _)| root.join(p)).collect();
    let exists = |p: &Path| paths.iter().any(|known| known == p);
    let lookup = Lookup {
        known: &exists,
        disk: false,
    };
    for path in &paths {
        let config = settings.config_for(path);
        if let Some(relative) = config.relative(path) {
            let _ = config.layers.classify(&relative);
        }
        let _ = config.is_ignored(path);
        let resolver = settings.resolver_for(path);
        for specifier in SPECIFIERS {
            if let Resolution::File(target) = resolve(path, specifier, &resolver, &lookup) {
                assert!(
                    exists(&target),
                    "{specifier} resolved to a file that is not there"
                );
            }
        }
    }
    let _ = settings.fingerprint();
    let sources = MODULES
        .iter()
        .map(|(p, t)| (root.join(p), t.to_string()))
        .collect();
    let workspace = Workspace::from_memory(settings, sources);
    let _ = workspace.check(&|| {});
    let _ = workspace.graph();

    if in_memory.is_ok()
        && let Err(failure) = fix_invariants(&MODULES, Some(krepis))
    {
        panic!("{failure}");
    }
});
