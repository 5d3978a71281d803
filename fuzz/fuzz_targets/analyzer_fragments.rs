//! Structure-aware: projects of up to four modules built from whole statements (functions of
//! every kind, classes, interfaces, imports across layers, calls that pass or drop the context)
//! and bare TypeScript fragments, checked under one of a few configurations, fixed in rounds.
//! With `KREPIS_FUZZ_PRINT` set, each project is printed (to turn a finding into a test).
#![no_main]

use arbitrary::Unstructured;
use krepis_analyzer::testing::{fix_invariants, generated_project};
use libfuzzer_sys::fuzz_target;

/// Configurations that change what the rules do: the default, renamed context with inline
/// callbacks checked, feature folders kept apart, and rules switched off or to warnings.
const CONFIGS: [Option<&str>; 4] = [
    None,
    Some(
        r#"{ "context": { "type": "RequestContext", "param": "rc", "module": "~platform/context.ts" },
             "rules": { "explicit-context": ["error", { "checkInlineCallbacks": true }] } }"#,
    ),
    Some(
        r#"{ "layers": [
               { "name": "domain", "paths": ["src/<feature>/domain/**"], "allow": [], "isolate": "feature" },
               { "name": "rest", "paths": ["src/**"], "allow": ["domain"] } ] }"#,
    ),
    Some(
        r#"{ "rules": { "layer-boundary": "off", "pure-domain": "warn",
                        "context-propagation": "warn", "import-cycle": "error" } }"#,
    ),
];

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let raw: bool = u.arbitrary().unwrap_or(false);
    let config = CONFIGS[u.choose_index(CONFIGS.len()).unwrap_or(0)];
    let mut choose = |n: usize| u.choose_index(n).unwrap_or(0);
    let files = generated_project(&mut choose, raw);
    if std::env::var_os("KREPIS_FUZZ_PRINT").is_some() {
        eprintln!("config: {config:?}");
        for (path, text) in &files {
            eprintln!("--- {path}\n{text}");
        }
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    if let Err(failure) = fix_invariants(&refs, config) {
        panic!("{failure}\n--- project\n{files:#?}");
    }
});
