//! `krepis report`: the real binary writes one self-contained page whose data says what
//! `krepis check --format json` says, and nothing at all when it cannot.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use support::fixtures::fixture_copy;
use support::run::{krepis, write};

/// The page's JSON blob, parsed.
fn page_data(html: &str) -> Value {
    let open = r#"<script type="application/json" id="krepis-data">"#;
    let start = html.find(open).expect("data element") + open.len();
    let end = start
        + html[start..]
            .find("</script>")
            .expect("end of the data element");
    serde_json::from_str(&html[start..end]).expect("the embedded JSON parses")
}

fn report(dir: &Path, args: &[&str]) -> (String, Value) {
    let mut all = vec!["report", "-o", "out.html"];
    all.extend_from_slice(args);
    let (stdout, stderr, code) = krepis(dir, &all);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("Wrote out.html: "), "{stdout}");
    let html = std::fs::read_to_string(dir.join("out.html")).expect("the page is written");
    let data = page_data(&html);
    (html, data)
}

fn check(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["check", "--format", "json", "--no-cache"];
    all.extend_from_slice(args);
    let (stdout, stderr, code) = krepis(dir, &all);
    assert!(code <= 1, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"))
}

/// New findings per (rule, severity), as check lists them.
fn check_counts(check: &Value) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for d in check["diagnostics"].as_array().unwrap() {
        let key = (
            d["rule"].as_str().unwrap().to_string(),
            d["severity"].as_str().unwrap().to_string(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

fn page_counts(data: &Value) -> BTreeMap<(String, String), u64> {
    data["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["new"].as_u64().unwrap() > 0)
        .map(|r| {
            (
                (
                    r["rule"].as_str().unwrap().to_string(),
                    r["severity"].as_str().unwrap().to_string(),
                ),
                r["new"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_same_counts(data: &Value, check: &Value, name: &str) {
    assert_eq!(data["files_checked"], check["files_checked"], "{name}");
    for key in ["errors", "warnings", "baselined", "fixable"] {
        assert_eq!(data["summary"][key], check["summary"][key], "{name}: {key}");
    }
    assert_eq!(page_counts(data), check_counts(check), "{name}");
    let new = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baselined"] == false)
        .count();
    assert_eq!(
        new,
        check["diagnostics"].as_array().unwrap().len(),
        "{name}"
    );
}

#[test]
fn the_page_is_self_contained_and_counts_what_check_counts() {
    for name in ["shop", "features", "cycles", "pure-domain", "suppressions"] {
        let dir = fixture_copy(name);
        let (html, data) = report(dir.path(), &[]);
        let lower = html.to_ascii_lowercase();
        for external in [
            "src=\"http",
            "src='http",
            "href=\"http",
            "href='http",
            "<link",
        ] {
            assert!(!lower.contains(external), "{name}: {external}");
        }
        // Every script is inline: none has a src attribute.
        for tag in lower.split("<script").skip(1) {
            let open = &tag[..tag.find('>').unwrap()];
            assert!(!open.contains("src"), "{name}: <script{open}>");
        }
        assert_same_counts(&data, &check(dir.path(), &[]), name);
    }
}

#[test]
fn every_cycle_is_a_strongly_connected_set_with_its_finding() {
    let dir = fixture_copy("cycles");
    let (_, data) = report(dir.path(), &[]);
    let check = check(dir.path(), &[]);
    let cycle_findings = check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "import-cycle")
        .count();
    let cycles = data["cycles"].as_array().unwrap();
    assert!(cycle_findings > 0);
    assert_eq!(cycles.len(), cycle_findings);
    assert_eq!(data["summary"]["cycles"], cycle_findings);
    let modules = data["modules"].as_array().unwrap();
    for cycle in cycles {
        let members: Vec<u64> = cycle["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_u64().unwrap())
            .collect();
        // Each member imports another member: the set is closed under the cycle.
        for &m in &members {
            let imports = modules[m as usize]["imports"].as_array().unwrap();
            assert!(
                imports
                    .iter()
                    .any(|i| i[2].as_u64().is_some_and(|t| members.contains(&t))),
                "{m} imports no member of {members:?}"
            );
        }
        let finding = &data["findings"][cycle["finding"].as_u64().unwrap() as usize];
        assert_eq!(finding["rule"], "import-cycle");
        assert!(members.contains(&finding["module"].as_u64().unwrap()));
    }
}

#[test]
fn a_violation_names_its_import() {
    let dir = fixture_copy("shop");
    let (_, data) = report(dir.path(), &[]);
    let finding = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "layer-boundary")
        .expect("shop has a layer violation");
    let module = &data["modules"][finding["module"].as_u64().unwrap() as usize];
    let import = &module["imports"][finding["import"].as_u64().unwrap() as usize];
    // [specifier, line, target, kind, flags]; flag 1 is a violation.
    assert_eq!(import[0], "../infrastructure/order_repository.ts");
    assert_eq!(import[3], "m");
    assert_eq!(import[4].as_u64().unwrap() & 1, 1);
    let target = &data["modules"][import[2].as_u64().unwrap() as usize];
    assert_eq!(
        target["path"],
        "src/orders/infrastructure/order_repository.ts"
    );
    let frame = finding["frame"]["lines"].as_array().unwrap();
    let first = finding["frame"]["first_line"].as_u64().unwrap();
    let line = finding["line"].as_u64().unwrap();
    assert!(
        frame[(line - first) as usize]
            .as_str()
            .unwrap()
            .contains("../infrastructure/order_repository.ts")
    );
}

#[test]
fn baselined_and_new_findings_are_told_apart() {
    let dir = fixture_copy("shop");
    let (stdout, stderr, code) = krepis(dir.path(), &["baseline"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    write(
        dir.path(),
        "src/orders/domain/late.ts",
        "export async function late(id: string) {\n  return id;\n}\n",
    );
    let (_, data) = report(dir.path(), &[]);
    let check_now = check(dir.path(), &[]);
    assert_same_counts(&data, &check_now, "baselined shop");
    assert_eq!(data["summary"]["baselined"], 7);
    let baselined = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baselined"] == true)
        .count();
    assert_eq!(baselined, 7);
    assert_eq!(data["summary"]["errors"], 1);

    let (_, all) = report(dir.path(), &["--no-baseline"]);
    assert_same_counts(
        &all,
        &check(dir.path(), &["--no-baseline"]),
        "--no-baseline",
    );
    assert_eq!(all["summary"]["baselined"], 0);
    assert_eq!(all["summary"]["errors"], 8);
}

#[test]
fn script_end_tags_in_paths_and_code_stay_inside_the_data() {
    let dir = fixture_copy("shop");
    let hostile = "</script><script>document.title='owned'</script><!--";
    write(
        dir.path(),
        "src/orders/domain/<!--<script>.ts",
        format!("// {hostile}\nexport async function load(id: string) {{\n  return id;\n}}\n"),
    );
    let (html, data) = report(dir.path(), &[]);
    // Four script elements: the library, the worker that runs it, the data, the page's script.
    assert_eq!(html.matches("</script>").count(), 4);
    assert!(!html.contains(hostile));
    let finding = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "src/orders/domain/<!--<script>.ts")
        .expect("the finding in the oddly named file");
    assert_eq!(finding["frame"]["lines"][0], format!("// {hostile}"));
}

#[test]
fn an_output_that_cannot_be_written_is_an_error_and_nothing_is_written() {
    let dir = fixture_copy("shop");
    let (stdout, stderr, code) = krepis(dir.path(), &["report", "-o", "missing/out.html"]);
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(
        stderr.trim(),
        "error: cannot write missing/out.html: no such folder missing"
    );
    assert!(!dir.path().join("missing").exists());

    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let (_, stderr, code) = krepis(dir.path(), &["report", "-o", "taken"]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim(), "error: cannot write taken: it is a folder");
    assert_eq!(
        std::fs::read_dir(dir.path().join("taken")).unwrap().count(),
        0
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("krepis-tmp")), "{names:?}");
}

#[test]
fn a_bad_configuration_writes_no_page() {
    let dir = fixture_copy("bad-config");
    let (_, stderr, code) = krepis(dir.path(), &["report", "-o", "out.html"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!dir.path().join("out.html").exists());

    let dir = fixture_copy("shop");
    let (_, stderr, code) = krepis(
        dir.path(),
        &["report", "-o", "out.html", "--baseline", "none.json"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("no such baseline"), "{stderr}");
    assert!(!dir.path().join("out.html").exists());
}
