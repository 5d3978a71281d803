//! `krepis fix` and `krepis undo` on real files: round trips, line endings, refusals, and crash
//! safety under kills at named steps and at random times.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::fixtures::fixture_copy;
use support::run::{check_json, krepis};

/// Every file under `root` (except the journal), with its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".krepis") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

#[test]
fn fix_then_undo_round_trips_every_fixture_byte_for_byte() {
    for name in ["shop", "propagation", "features", "pure-domain"] {
        let dir = fixture_copy(name);
        let before = snapshot(dir.path());
        let fixable_before = check_json(dir.path())["summary"]["fixable"]
            .as_u64()
            .unwrap();
        let (stdout, stderr, code) = krepis(dir.path(), &["fix"]);
        assert!(code == 0 || code == 1, "{name}: {stdout}{stderr}");
        let after = check_json(dir.path());
        assert_eq!(
            after["summary"]["fixable"], 0,
            "{name}: fixes left after `krepis fix`: {after:#}"
        );
        if fixable_before > 0 {
            assert!(stdout.contains("(transaction 1;"), "{name}: {stdout}");
            assert_ne!(snapshot(dir.path()), before, "{name}: nothing was written");
        }
        let (stdout, stderr, code) = krepis(dir.path(), &["undo"]);
        if fixable_before > 0 {
            assert_eq!(code, 0, "{name}: {stdout}{stderr}");
            assert_eq!(
                snapshot(dir.path()),
                before,
                "{name}: undo did not restore the originals"
            );
        }
    }
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let dir = fixture_copy("shop");
    let before = snapshot(dir.path());
    let moved = "-  async retry(orderId: string, ctx: KrepisContext): Promise<void> {\n+  async retry(ctx: KrepisContext, orderId: string): Promise<void> {";
    let (stdout, _, code) = krepis(dir.path(), &["fix", "--dry-run"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("--- a/src/orders/application/place_order.ts\n+++ b/src/orders/application/place_order.ts"), "{stdout}");
    // The move is unsafe (callers pass the old order): only `--unsafe` makes it.
    assert!(!stdout.contains(moved), "{stdout}");
    assert!(
        stdout.contains("1 more with `krepis fix --unsafe`"),
        "{stdout}"
    );
    let (stdout, _, _) = krepis(dir.path(), &["fix", "--dry-run", "--unsafe"]);
    assert!(stdout.contains(moved), "{stdout}");
    assert_eq!(snapshot(dir.path()), before);
    assert!(
        !dir.path().join(".krepis").exists(),
        "a dry run opens no journal"
    );
}

#[test]
fn line_endings_bom_and_non_ascii_text_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let crlf = dir.path().join("src/crlf.ts");
    let bom = dir.path().join("src/bom.ts");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        &crlf,
        "// 주문 😀\r\nexport async function load(id: string) {}\r\n",
    )
    .unwrap();
    std::fs::write(
        &bom,
        "\u{feff}/* ü */ export async function save(n: number) {}\n",
    )
    .unwrap();
    let (stdout, stderr, code) = krepis(dir.path(), &["fix"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(&crlf).unwrap(),
        "// 주문 😀\r\nimport type { KrepisContext } from \"@krepis/core\";\r\nexport async function load(ctx: KrepisContext, id: string) {}\r\n"
    );
    assert_eq!(
        std::fs::read_to_string(&bom).unwrap(),
        "\u{feff}import type { KrepisContext } from \"@krepis/core\";\n/* ü */ export async function save(ctx: KrepisContext, n: number) {}\n"
    );
    assert_eq!(krepis(dir.path(), &["undo"]).2, 0);
    assert!(std::fs::read(&bom).unwrap().starts_with(b"\xef\xbb\xbf/* "));
}

#[test]
fn read_only_files_and_changed_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let a = dir.path().join("src/a.ts");
    let b = dir.path().join("src/b.ts");
    std::fs::write(&a, "export async function a(x: number) {}\n").unwrap();
    std::fs::write(&b, "export async function b(y: number) {}\n").unwrap();
    let mut permissions = std::fs::metadata(&b).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&b, permissions.clone()).unwrap();
    let before = snapshot(dir.path());
    let (_, stderr, code) = krepis(dir.path(), &["fix"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("src/b.ts: the file is read-only; nothing was changed"),
        "{stderr}"
    );
    assert_eq!(snapshot(dir.path()), before, "nothing half-written");

    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&b, permissions).unwrap();
    assert_eq!(krepis(dir.path(), &["fix"]).2, 0);
    std::fs::write(&a, "// edited by hand\n").unwrap();
    let (_, stderr, code) = krepis(dir.path(), &["undo"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("these files changed since transaction 1") && stderr.contains("src/a.ts"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "// edited by hand\n");
    let (stdout, _, code) = krepis(dir.path(), &["undo", "--force"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(snapshot(dir.path()), before);
    let (list, _, _) = krepis(dir.path(), &["undo", "--list"]);
    assert!(
        list.contains("undone by 2") && list.contains("krepis fix"),
        "{list}"
    );
}

/// A project of `n` modules, each with one fixable violation.
fn crash_project(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let path = dir
            .path()
            .join(format!("src/m{:03}/application/service.ts", i));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = format!(
            "import type {{ KrepisContext }} from \"@krepis/core\";\n\n/** Service {i}. */\nexport async function load{i}(id: string): Promise<string> {{\n  return `${{id}}-{i}`;\n}}\n"
        );
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for (path, bytes) in snapshot(from) {
        let target = to.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

/// After a crash: every file is wholly old or wholly new, and `krepis undo` brings back the
/// originals exactly.
fn assert_recoverable(
    dir: &Path,
    old: &BTreeMap<PathBuf, Vec<u8>>,
    new: &BTreeMap<PathBuf, Vec<u8>>,
    what: &str,
) {
    // A kill during a write may leave the writer's temporary file beside the original (never in
    // its place); undo clears it away.
    let mut now = snapshot(dir);
    now.retain(|path, _| {
        !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".krepis-"))
    });
    let extra: Vec<_> = now.keys().filter(|p| !old.contains_key(*p)).collect();
    let missing: Vec<_> = old.keys().filter(|p| !now.contains_key(*p)).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: files appeared {extra:?} or vanished {missing:?}"
    );
    for (path, bytes) in &now {
        assert!(
            bytes == &old[path] || bytes == &new[path],
            "{what}: {} is neither old nor new",
            path.display()
        );
    }
    let any_new = now.iter().any(|(p, b)| b != &old[p]);
    let (stdout, stderr, code) = krepis(dir, &["undo"]);
    if any_new || code == 0 {
        assert_eq!(code, 0, "{what}: undo failed: {stdout}{stderr}");
    }
    let restored = snapshot(dir);
    let wrong: Vec<_> = restored
        .iter()
        .filter(|(p, b)| old.get(*p) != Some(*b))
        .map(|(p, _)| p)
        .collect();
    assert!(
        wrong.is_empty() && restored.len() == old.len(),
        "{what}: undo left {wrong:?}"
    );
    // With the journal settled, a new fix starts normally.
    let (stdout, stderr, code) = krepis(dir, &["fix"]);
    assert_eq!(code, 0, "{what}: fix after recovery: {stdout}{stderr}");
    assert!(&snapshot(dir) == new, "{what}: fix after recovery differs");
}

#[test]
fn a_killed_fix_leaves_files_whole_and_undo_restores_them() {
    let files = 300;
    let template = crash_project(files);
    let old = snapshot(template.path());
    let reference = tempfile::tempdir().unwrap();
    copy_dir(template.path(), reference.path());
    let started = Instant::now();
    assert_eq!(krepis(reference.path(), &["fix"]).2, 0);
    let fix_time = started.elapsed();
    let new = snapshot(reference.path());
    assert!(
        old.iter().all(|(p, b)| b != &new[p]),
        "every file has a fix"
    );

    let long = std::env::var("KREPIS_LONG_TESTS").is_ok();
    let mut points: Vec<String> = vec!["after-record".into(), "before-complete".into()];
    let files_to_hit: Vec<usize> = if long {
        (0..files).step_by(6).collect()
    } else {
        vec![0, 1, 149, 299]
    };
    points.extend(files_to_hit.iter().map(|i| format!("after-file:{i}")));
    for point in &points {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(template.path(), dir.path());
        let status = Command::new(env!("CARGO_BIN_EXE_krepis"))
            .arg("fix")
            .current_dir(dir.path())
            .env("KREPIS_JOURNAL_CRASH_AT", point)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{point}: the crash hook did not fire");
        // A stopped transaction is reported, and a new fix refuses to start until it is undone.
        let (_, stderr, code) = krepis(dir.path(), &["fix"]);
        assert_eq!(code, 2, "{point}");
        assert!(
            stderr.contains("did not finish; run `krepis undo 1`"),
            "{point}: {stderr}"
        );
        assert_recoverable(dir.path(), &old, &new, point);
    }

    // Kills at pseudo-random moments across the whole run (a fixed-seed generator: repeatable).
    let kills = if long { 50 } else { 6 };
    let mut seed: u64 = 0x5eed;
    for k in 0..kills {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_micros((seed >> 33) % (fix_time.as_micros() as u64 * 3 / 2 + 1));
        let dir = tempfile::tempdir().unwrap();
        copy_dir(template.path(), dir.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_krepis"))
            .arg("fix")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        assert_recoverable(dir.path(), &old, &new, &format!("kill {k} after {delay:?}"));
    }
}

#[test]
fn calls_in_ignored_test_files_are_threaded_and_nothing_else_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src/orders")).unwrap();
    std::fs::write(
        root.join("src/orders/place.ts"),
        "export async function place(id: string): Promise<string> { return id; }\n",
    )
    .unwrap();
    // A test calls the function that gains the context; it also has async helpers of its own,
    // which are not the fix's to change (test files are ignored).
    let test = "import { place } from \"./place.ts\";\nasync function helper(id: string) { return place(id); }\nDeno.test(\"places\", async () => {\n  await place(\"1\");\n  await helper(\"2\");\n});\n";
    std::fs::write(root.join("src/orders/place.test.ts"), test).unwrap();
    let (stdout, stderr, code) = krepis(root, &["fix"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(root.join("src/orders/place.ts")).unwrap(),
        "import type { KrepisContext } from \"@krepis/core\";\nexport async function place(ctx: KrepisContext, id: string): Promise<string> { return id; }\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("src/orders/place.test.ts")).unwrap(),
        "import { createContext } from \"@krepis/core\";\nimport { place } from \"./place.ts\";\nasync function helper(id: string) { return place(createContext(), id); }\nDeno.test(\"places\", async () => {\n  await place(createContext(), \"1\");\n  await helper(\"2\");\n});\n"
    );
    // Undo restores both.
    let (_, _, code) = krepis(root, &["undo"]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read_to_string(root.join("src/orders/place.test.ts")).unwrap(),
        test
    );
}
