//! The fixture projects under `fixtures/`: every file's inline `// ^^^ rule` annotations must be
//! exactly what `krepis check` reports, and the rendered outputs are snapshotted.

mod support;

use std::path::{Path, PathBuf};

use krepis_analyzer::testing::compare;
use krepis_analyzer::{LoadOptions, Workspace};
use support::run::krepis;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .canonicalize()
        .expect("fixtures folder")
}

const PROJECTS: [&str; 11] = [
    "shop",
    "boundaries",
    "monorepo",
    "features",
    "broken",
    "propagation",
    "pure-domain",
    "cqs",
    "cycles",
    "suppressions",
    "nest-hexagonal",
];

#[test]
fn annotations_match_diagnostics_in_every_fixture() {
    let mut failures = String::new();
    for name in PROJECTS {
        let root = fixtures_dir().join(name);
        let options = LoadOptions {
            config_file: None,
            base_dir: root.clone(),
            cache: None,
            lean: false,
        };
        let workspace = Workspace::load(&[], &options).expect("fixture loads");
        let results = workspace.check(&|| {});
        assert!(!results.is_empty(), "{name}: no files checked");
        for result in &results {
            if let Err(e) = compare(&result.path, &result.text, &result.diagnostics) {
                failures.push_str(&e);
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// A lean load (what `krepis check` does: no text kept once its facts exist) finds exactly what a
/// full one finds, and gives back, read again when asked, the text of every file it has
/// findings in.
#[test]
fn a_lean_load_finds_the_same_and_reads_back_the_texts_it_shows() {
    for name in PROJECTS {
        let root = fixtures_dir().join(name);
        let check = |lean| {
            let options = LoadOptions {
                config_file: None,
                base_dir: root.clone(),
                cache: None,
                lean,
            };
            Workspace::load(&[], &options)
                .expect("fixture loads")
                .check(&|| {})
        };
        let (full, lean) = (check(false), check(true));
        assert_eq!(full.len(), lean.len(), "{name}");
        for (full, lean) in full.iter().zip(&lean) {
            assert_eq!(full.path, lean.path, "{name}");
            assert_eq!(
                full.diagnostics, lean.diagnostics,
                "{name}: {:?}",
                full.path
            );
            if !full.diagnostics.is_empty() {
                // Read again when output reaches the file, not kept all at once.
                assert!(lean.text.is_empty(), "{name}: {:?}", full.path);
                assert_eq!(full.text, lean.source(), "{name}: {:?}", full.path);
            }
        }
    }
}

/// Warnings alone (command-query-separation, import-cycle) do not fail a check.
fn expected_exit(name: &str) -> i32 {
    if matches!(name, "cqs" | "cycles") {
        0
    } else {
        1
    }
}

/// The timing at the end of the text summary changes from run to run.
fn without_timing(text: &str) -> String {
    text.lines()
        .map(|line| match line.rfind(" (") {
            Some(i) if line.ends_with("s).") => format!("{} (TIME).", &line[..i]),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn text_output_snapshots() {
    for name in PROJECTS {
        let (stdout, stderr, code) = krepis(&fixtures_dir().join(name), &["check", "--no-cache"]);
        assert_eq!(code, expected_exit(name), "{name}: {stderr}");
        insta::assert_snapshot!(
            format!("text_{name}"),
            format!("{stderr}{}", without_timing(&stdout))
        );
    }
}

#[test]
fn json_output_snapshots() {
    for name in PROJECTS {
        let (stdout, _, code) = krepis(
            &fixtures_dir().join(name),
            &["check", "--no-cache", "--format", "json"],
        );
        assert_eq!(code, expected_exit(name));
        let value: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
        insta::assert_json_snapshot!(format!("json_{name}"), value);
    }
}

#[test]
fn sarif_and_github_snapshots() {
    let shop = fixtures_dir().join("shop");
    let (github, _, code) = krepis(&shop, &["check", "--no-cache", "--format", "github"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("github_shop", github);
    let (sarif, _, _) = krepis(
        &shop,
        &[
            "check",
            "--no-cache",
            "--format",
            "sarif",
            "src/orders/application",
        ],
    );
    let value: serde_json::Value = serde_json::from_str(&sarif).expect("valid SARIF JSON");
    assert_eq!(value["version"], "2.1.0");
    insta::assert_json_snapshot!("sarif_shop_application", value["runs"][0]["results"]);
}

#[test]
fn exit_codes_follow_the_contract() {
    let shop = fixtures_dir().join("shop");
    assert_eq!(
        krepis(&shop, &["check", "--no-cache", "src/shared", "src/main.ts"]).2,
        0
    );
    assert_eq!(krepis(&shop, &["check", "--no-cache", "src/orders"]).2, 1);
    let (_, stderr, code) = krepis(&shop, &["check", "--no-cache", "no/such/dir"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no/such/dir: no such file or folder"),
        "{stderr}"
    );
    let (_, stderr, code) = krepis(&fixtures_dir().join("bad-config"), &["check", "--no-cache"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "error: krepis.json:4: layer `domain` allows unknown layer `core`; known layers: domain"
    );
    let (_, stderr, code) = krepis(&shop, &["check", "--no-cache", "--format", "xml"]);
    assert_eq!(code, 2, "{stderr}");
}
