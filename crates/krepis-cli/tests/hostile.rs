//! Hostile input as a user meets it: the real `krepis` on real files that are huge, absurdly
//! nested, not text, unreadable, looping, self-referring, or edited while `krepis fix` writes
//! them. Whatever the input, the command finishes without a panic, says clearly what it skipped
//! or refused, and still checks every other file (a known violation in a sibling file is still
//! reported).
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::lsp_client::{LspClient, uri};
use support::run::{reported, write};

/// A run that takes longer than this is a hang (generous: debug builds on a busy machine).
const HANG: Duration = Duration::from_secs(300);

/// A file with a known violation, next to every hostile one.
const SIBLING: &str = "export async function sibling(id: string) {}\n";

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `krepis ARGS` in `dir` (through `wrapper`, if any), killing it if it hangs.
fn run_with(wrapper: &[&str], dir: &Path, args: &[&str]) -> Run {
    let binary = env!("CARGO_BIN_EXE_krepis");
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let mut child = command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start krepis");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`krepis {}` hung (killed after {HANG:?})", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = stderr.join().unwrap();
    let Some(code) = status.code() else {
        panic!(
            "`krepis {}` was killed by a signal ({status}); stderr:\n{stderr}",
            args.join(" ")
        );
    };
    Run {
        stdout: stdout.join().unwrap(),
        stderr,
        code,
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(&[], dir, args)
}

/// The run ended by itself, without a panic or a stack overflow, with one of `codes`.
fn assert_finished(run: &Run, codes: &[i32]) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("overflow"),
        "{}",
        run.stderr
    );
    assert_ne!(run.code, 101, "a panic: {}", run.stderr);
    assert!(
        codes.contains(&run.code),
        "exit code {} (wanted {codes:?})\nstdout:\n{}\nstderr:\n{}",
        run.code,
        truncated(&run.stdout),
        run.stderr
    );
}

fn truncated(text: &str) -> &str {
    let mut end = text.len().min(4000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `krepis check --format json --no-cache` (exit 0 or 1), parsed.
fn check_json(dir: &Path) -> Value {
    check_json_in(dir, &[])
}

fn check_json_in(dir: &Path, paths: &[&str]) -> Value {
    let mut args = vec!["check", "--format", "json", "--no-cache"];
    args.extend_from_slice(paths);
    let run = run(dir, &args);
    assert_finished(&run, &[0, 1]);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", truncated(&run.stdout), run.stderr))
}

fn pair(file: &str, rule: &str) -> (String, String) {
    (file.to_string(), rule.to_string())
}

fn diagnostic<'r>(report: &'r Value, file: &str, rule: &str) -> &'r Value {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"] == file && d["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {file}: {report:#}"))
}

/// 1-based line and UTF-16 column of byte `offset` as an editor shows it: lines end at `\r\n`,
/// `\r` or `\n` (what the LSP specifies); U+2028 and U+2029 are characters within a line.
fn editor_position(text: &str, offset: usize) -> (u64, u64) {
    let (mut line, mut column) = (1, 1);
    let mut chars = text[..offset].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                column = 1;
            }
            c => column += c.len_utf16() as u64,
        }
    }
    (line, column)
}

fn pull_capabilities() -> Value {
    json!({ "textDocument": { "diagnostic": { "dynamicRegistration": false } } })
}

/// The diagnostics `krepis lsp` reports for `path` after opening it with its text on disk.
fn lsp_diagnostics(client: &mut LspClient, path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(path), "languageId": "typescript", "version": 1, "text": text } }),
    );
    let report = client.request(
        "textDocument/diagnostic",
        json!({ "textDocument": { "uri": uri(path) } }),
    );
    report["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_ten_megabyte_file_and_a_five_megabyte_line_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);
    let line = "export const value = [1, 2, 3].map((x) => x * 2).filter(Boolean);\n";
    let mut big = String::with_capacity(11 << 20);
    while big.len() < 10 << 20 {
        big.push_str(line);
    }
    let big_lines = big.matches('\n').count() as u64;
    big.push_str("export async function last(id: string) {}\n");
    write(root, "src/big.ts", &big);
    let long = format!(
        "export const a = [{}]; export async function tail(id: string) {{}}\n",
        "1,".repeat(5 << 19)
    );
    assert!(long.len() > 5 << 20);
    write(root, "src/long.ts", &long);

    let report = check_json(root);
    assert_eq!(
        reported(&report),
        [
            pair("src/big.ts", "explicit-context"),
            pair("src/long.ts", "explicit-context"),
            pair("src/sibling.ts", "explicit-context"),
        ]
    );
    let last = diagnostic(&report, "src/big.ts", "explicit-context");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(big_lines + 1), Some(23))
    );
    let tail = diagnostic(&report, "src/long.ts", "explicit-context");
    let (_, column) = editor_position(&long, long.find("tail").unwrap());
    assert_eq!(
        (tail["line"].as_u64(), tail["column"].as_u64()),
        (Some(1), Some(column))
    );

    // The code frame of the long line is cut around the span: the terminal is not flooded.
    let text = run(root, &["check", "--no-cache"]);
    assert_finished(&text, &[1]);
    assert!(
        text.stdout.contains(&format!("src/long.ts:1:{column}")),
        "{}",
        truncated(&text.stdout)
    );
    assert!(
        text.stdout.len() < 64 * 1024,
        "{} bytes of output",
        text.stdout.len()
    );

    // Fixing them rewrites both without losing a byte of the rest.
    let fixed = run(root, &["fix"]);
    assert_finished(&fixed, &[0]);
    let long_after = std::fs::read_to_string(root.join("src/long.ts")).unwrap();
    assert!(long_after.contains("tail(ctx: KrepisContext, id: string)"));
    assert_eq!(
        long_after.len(),
        long.len()
            + "import type { KrepisContext } from \"@krepis/core\";\n".len()
            + "ctx: KrepisContext, ".len()
    );
}

#[test]
fn absurd_nesting_gets_a_diagnostic_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);
    let n = 100_000;
    write(
        root,
        "src/brackets.ts",
        format!("export const x = {}1{};\n", "[".repeat(n), "]".repeat(n)),
    );
    write(
        root,
        "src/braces.ts",
        format!("export const x = {}{};\n", "{ a: ".repeat(n), "}".repeat(n)),
    );
    write(
        root,
        "src/templates.ts",
        format!("export const x = {}1{};\n", "`${".repeat(n), "}`".repeat(n)),
    );
    let report = check_json(root);
    assert_eq!(
        reported(&report),
        [
            pair("src/braces.ts", "syntax-error"),
            pair("src/brackets.ts", "syntax-error"),
            pair("src/sibling.ts", "explicit-context"),
            pair("src/templates.ts", "syntax-error"),
        ]
    );
    for file in ["src/braces.ts", "src/brackets.ts", "src/templates.ts"] {
        let d = diagnostic(&report, file, "syntax-error");
        assert!(
            d["message"].as_str().unwrap().contains("nest more than"),
            "{d}"
        );
    }
    // Every command that reads the files survives them.
    assert_finished(&run(root, &["check", "--no-cache"]), &[1]);
    assert_finished(&run(root, &["graph", "--modules"]), &[0]);
    let fixed = run(root, &["fix"]);
    assert_finished(&fixed, &[1]);
    assert!(
        std::fs::read_to_string(root.join("src/sibling.ts"))
            .unwrap()
            .contains("sibling(ctx: KrepisContext, id: string)")
    );

    // And the editor: opened in the language server, each gets the same diagnostic.
    let (mut client, _) = LspClient::start(root, pull_capabilities());
    for file in ["src/braces.ts", "src/brackets.ts", "src/templates.ts"] {
        let items = lsp_diagnostics(&mut client, &root.join(file));
        assert_eq!(items.len(), 1, "{file}: {items:?}");
        assert_eq!(items[0]["code"], "syntax-error");
    }
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn files_that_are_not_text_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);
    write(root, "src/latin1.ts", b"export const name = '\xe9t\xe9';\n");
    write(root, "src/nul.ts", b"export const a = 1;\0\n");
    // A NUL byte far into a file that is otherwise text: the parser meets it.
    let mut late = "// padding\n".repeat(2000).into_bytes();
    late.extend_from_slice(b"export const b = 1;\0\n");
    write(root, "src/late_nul.ts", &late);
    // A named pipe with a module's name: reading it would wait forever for a writer.
    let status = Command::new("mkfifo")
        .arg(root.join("src/pipe.ts"))
        .status()
        .expect("mkfifo");
    assert!(status.success());

    let run = run(root, &["check", "--format", "json", "--no-cache"]);
    assert_finished(&run, &[1]);
    for note in [
        "note: src/latin1.ts: skipped: not UTF-8 text",
        "note: src/nul.ts: skipped: binary file",
        "note: src/pipe.ts: skipped: not a regular file",
    ] {
        assert!(run.stderr.contains(note), "{note}\n{}", run.stderr);
    }
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["files_checked"], 2);
    assert_eq!(
        reported(&report),
        [
            pair("src/late_nul.ts", "syntax-error"),
            pair("src/sibling.ts", "explicit-context")
        ]
    );
    assert_eq!(
        diagnostic(&report, "src/late_nul.ts", "syntax-error")["line"],
        2001
    );
    // Fixing writes only the sibling and leaves the others byte for byte.
    assert_finished(&self::run(root, &["fix"]), &[1]);
    assert_eq!(
        std::fs::read(root.join("src/latin1.ts")).unwrap(),
        b"export const name = '\xe9t\xe9';\n"
    );
    assert_eq!(std::fs::read(root.join("src/late_nul.ts")).unwrap(), late);
}

#[test]
fn odd_import_specifiers_are_checked_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);
    // Specifiers that are empty, start with a line separator or an emoji, or are only a scope.
    write(
        root,
        "src/odd.ts",
        "import a from \"\";\nimport b from \"\u{2028}e.ts\";\nimport c from \"@\";\nimport d from \"😀@1\";\nconst e = require(\"\");\nexport async function odd(id: string) {\n  return [a, b, c, d, e];\n}\n",
    );
    let report = check_json(root);
    assert_eq!(
        reported(&report),
        [
            pair("src/odd.ts", "explicit-context"),
            pair("src/sibling.ts", "explicit-context")
        ]
    );
    assert_finished(&run(root, &["graph", "--modules"]), &[0]);
    assert_finished(&run(root, &["fix"]), &[0]);
}

#[test]
fn symlink_loops_are_not_followed_forever() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);
    write(root, "src/a/inner.ts", "export const inner = 1;\n");
    // A folder that contains its parent, a module that is a link to itself, and two that link
    // to each other.
    symlink("..", root.join("src/a/up")).unwrap();
    symlink("self.ts", root.join("src/a/self.ts")).unwrap();
    symlink("pong.ts", root.join("src/a/ping.ts")).unwrap();
    symlink("ping.ts", root.join("src/a/pong.ts")).unwrap();

    let run = run(root, &["check", "--format", "json", "--no-cache"]);
    assert_finished(&run, &[1]);
    for file in ["src/a/self.ts", "src/a/ping.ts", "src/a/pong.ts"] {
        assert!(
            run.stderr.contains(&format!("note: {file}: cannot read:")),
            "{file}\n{}",
            run.stderr
        );
    }
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["files_checked"], 2, "each real module once");
    assert_eq!(
        reported(&report),
        [pair("src/sibling.ts", "explicit-context")]
    );

    // Asked to check a path through the loop, it finishes too.
    let through = self::run(root, &["check", "--no-cache", "src/a/up/a/up/a"]);
    assert_finished(&through, &[0]);
    assert_finished(&self::run(root, &["graph", "--modules"]), &[0]);
    assert_finished(&self::run(root, &["fix"]), &[0]);
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

#[test]
fn unreadable_files_and_folders_get_a_note() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);
    let secret = write(
        root,
        "src/secret.ts",
        "export async function secret(id: string) {}\n",
    );
    write(
        root,
        "src/locked/hidden.ts",
        "export async function hidden(id: string) {}\n",
    );
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    mode(root, 0o755);
    mode(&root.join("src"), 0o755);
    mode(&secret, 0o000);
    mode(&root.join("src/locked"), 0o000);

    // Permissions do not stop root: there the check runs as the unprivileged `nobody` when
    // `setpriv` can drop to it; otherwise root reads both and that is what is checked.
    let as_nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
    ];
    let (run, unprivileged) = if !is_root() {
        (
            run(root, &["check", "--format", "json", "--no-cache"]),
            true,
        )
    } else {
        let run = run_with(
            &as_nobody,
            root,
            &["check", "--format", "json", "--no-cache"],
        );
        // `setpriv` missing, or the binary not reachable for `nobody`: fall back to root.
        if run.stderr.contains("setpriv") || run.code == 126 || run.code == 127 {
            eprintln!(
                "cannot drop to `nobody` ({}); checking as root",
                run.stderr.trim()
            );
            (
                self::run(root, &["check", "--format", "json", "--no-cache"]),
                false,
            )
        } else {
            (run, true)
        }
    };
    assert_finished(&run, &[1]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    if unprivileged {
        assert!(
            run.stderr
                .contains("note: src/secret.ts: cannot read: Permission denied"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("note: src/locked: folder skipped: cannot read: permission denied"),
            "{}",
            run.stderr
        );
        assert_eq!(
            reported(&report),
            [pair("src/sibling.ts", "explicit-context")]
        );
    } else {
        assert_eq!(
            reported(&report),
            [
                pair("src/locked/hidden.ts", "explicit-context"),
                pair("src/secret.ts", "explicit-context"),
                pair("src/sibling.ts", "explicit-context"),
            ]
        );
    }
    mode(&root.join("src/locked"), 0o755);
    mode(&secret, 0o644);
}

#[test]
fn settings_that_refer_to_themselves_are_refused_clearly_or_handled() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/sibling.ts", SIBLING);

    // A tsconfig.json that extends itself, then two that extend each other.
    write(root, "tsconfig.json", r#"{ "extends": "./tsconfig.json" }"#);
    let run = run(root, &["check", "--no-cache"]);
    assert_finished(&run, &[2]);
    assert_eq!(
        run.stderr.trim(),
        "error: tsconfig.json: `extends` loops: tsconfig.json → tsconfig.json"
    );
    write(
        root,
        "tsconfig.json",
        r#"{ "extends": "./config/base", "compilerOptions": { "baseUrl": "." } }"#,
    );
    write(
        root,
        "config/base.json",
        r#"{ "extends": "../tsconfig.json" }"#,
    );
    let run = self::run(root, &["check", "--no-cache"]);
    assert_finished(&run, &[2]);
    assert_eq!(
        run.stderr.trim(),
        "error: tsconfig.json: `extends` loops: tsconfig.json → config/base.json → tsconfig.json"
    );
    // The language server says so too, and keeps answering.
    let (mut client, _) = LspClient::start(root, pull_capabilities());
    let shown = client.wait_for("the settings error", |m| {
        m["method"] == "window/showMessage"
    });
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("`extends` loops"),
        "{shown}"
    );
    assert_eq!(client.shutdown(), Some(0));
    std::fs::remove_file(root.join("tsconfig.json")).unwrap();

    // A deno.json whose import map is the deno.json itself: it maps nothing, and that is fine.
    write(root, "deno.json", r#"{ "importMap": "./deno.json" }"#);
    write(
        root,
        "src/uses_map.ts",
        "import { x } from \"@app/x\";\nexport const y = x;\n",
    );
    let report = check_json(root);
    assert_eq!(
        reported(&report),
        [pair("src/sibling.ts", "explicit-context")]
    );
    // One that names a named pipe is refused instead of waiting for a writer forever.
    let status = Command::new("mkfifo")
        .arg(root.join("map.json"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    write(root, "deno.json", r#"{ "importMap": "./map.json" }"#);
    let run = self::run(root, &["check", "--no-cache"]);
    assert_finished(&run, &[2]);
    assert_eq!(
        run.stderr.trim(),
        "error: map.json: cannot read: not a regular file"
    );
}

#[test]
fn ten_thousand_layers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let n = 10_000;
    let layers: Vec<Value> = (0..n)
        .map(|i| {
            let allow: Vec<String> = if i == 0 {
                vec![]
            } else {
                vec![format!("l{}", i - 1)]
            };
            json!({ "name": format!("l{i}"), "paths": [format!("src/l{i}/**")], "allow": allow })
        })
        .collect();
    write(
        root,
        "krepis.json",
        serde_json::to_string(&json!({ "layers": layers })).unwrap(),
    );
    write(root, "src/sibling.ts", SIBLING);
    write(
        root,
        "src/l0/a.ts",
        "import { b } from \"../l1/b.ts\";\nexport const a = b;\n",
    );
    write(root, "src/l1/b.ts", "export const b = 1;\n");
    write(
        root,
        "src/l9999/z.ts",
        "import { y } from \"../l9998/y.ts\";\nexport const z = y;\n",
    );
    write(root, "src/l9998/y.ts", "export const y = 1;\n");
    let report = check_json(root);
    assert_eq!(
        reported(&report),
        [
            pair("src/l0/a.ts", "layer-boundary"),
            pair("src/sibling.ts", "explicit-context"),
        ]
    );
    assert_eq!(
        diagnostic(&report, "src/l0/a.ts", "layer-boundary")["message"],
        "layer `l0` must not import layer `l1` (`src/l1/b.ts`)"
    );
    assert_finished(&run(root, &["graph"]), &[0]);
}

#[test]
fn an_import_cycle_of_ten_thousand_modules_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let n = 10_000;
    for i in 0..n {
        let next = (i + 1) % n;
        write(
            root,
            &format!("src/m{i}.ts"),
            format!(
                "import {{ v{next} }} from \"./m{next}.ts\";\nexport const v{i} = 1;\nexport const w{i} = v{next};\n"
            ),
        );
    }
    write(root, "src/sibling.ts", SIBLING);
    let report = check_json(root);
    assert_eq!(report["files_checked"], n + 1);
    assert_eq!(
        reported(&report),
        [
            pair("src/m0.ts", "import-cycle"),
            pair("src/sibling.ts", "explicit-context")
        ]
    );
    // Named relative to the project, by its ends: not ten thousand absolute paths.
    let message = diagnostic(&report, "src/m0.ts", "import-cycle")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("import cycle: src/m0.ts → src/m1.ts → src/m2.ts"),
        "{message}"
    );
    assert!(message.ends_with("→ src/m9999.ts → src/m0.ts"), "{message}");
    assert!(message.contains("… 9989 more …"), "{message}");
    assert!(message.len() < 400, "{message}");
    assert_finished(&run(root, &["graph", "--modules"]), &[0]);
    assert_finished(&run(root, &["check", "--no-cache"]), &[1]);
}

#[test]
fn every_line_terminator_gives_the_positions_an_editor_shows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let terminators = [
        ("lf", "\n"),
        ("crlf", "\r\n"),
        ("cr", "\r"),
        ("ls", "\u{2028}"),
        ("ps", "\u{2029}"),
    ];
    let mut texts = BTreeMap::new();
    for (name, end) in terminators {
        let text = format!(
            "// first{end}const s = \"한😀\";{end}export async function load(id: string) {{}}{end}"
        );
        write(root, &format!("src/{name}.ts"), &text);
        texts.insert(name, text);
    }
    let report = check_json(root);
    let (mut client, _) = LspClient::start(root, pull_capabilities());
    for (name, text) in &texts {
        let file = format!("src/{name}.ts");
        let d = diagnostic(&report, &file, "explicit-context");
        let at = |value: &Value| {
            (
                (
                    value["line"].as_u64().unwrap(),
                    value["column"].as_u64().unwrap(),
                ),
                (
                    value["end_line"].as_u64().unwrap(),
                    value["end_column"].as_u64().unwrap(),
                ),
            )
        };
        let start = text.find("load").unwrap();
        let expected = (
            editor_position(text, start),
            editor_position(text, start + 4),
        );
        assert_eq!(at(d), expected, "{name}");
        // The edits of the fix: the import at the start of the first statement's line (as the
        // editor sees lines), the parameter inside the parentheses.
        let statement = text.find("const").unwrap();
        let line_start = text[..statement].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let paren = text.find("(id").unwrap() + 1;
        let edits = d["fix"]["edits"].as_array().unwrap();
        assert_eq!(
            edits.iter().map(at).collect::<Vec<_>>(),
            [
                (
                    editor_position(text, line_start),
                    editor_position(text, line_start)
                ),
                (editor_position(text, paren), editor_position(text, paren)),
            ],
            "{name}"
        );
        // The language server puts the diagnostic at the same place (0-based there).
        let items = lsp_diagnostics(&mut client, &root.join(&file));
        let range = &items[0]["range"];
        let lsp = |p: &Value| {
            (
                p["line"].as_u64().unwrap() + 1,
                p["character"].as_u64().unwrap() + 1,
            )
        };
        assert_eq!(
            (lsp(&range["start"]), lsp(&range["end"])),
            expected,
            "{name}"
        );
    }
    assert_eq!(client.shutdown(), Some(0));

    // Fixing keeps each file's own line breaks.
    assert_finished(&run(root, &["fix"]), &[0]);
    for (name, end) in terminators {
        let fixed = std::fs::read_to_string(root.join(format!("src/{name}.ts"))).unwrap();
        assert!(
            fixed.contains("load(ctx: KrepisContext, id: string)"),
            "{name}: {fixed:?}"
        );
        let breaks = fixed.matches(['\n', '\r']).count();
        match name {
            "lf" => assert!(!fixed.contains('\r'), "{fixed:?}"),
            "crlf" => assert_eq!(fixed.matches("\r\n").count() * 2, breaks, "{fixed:?}"),
            "cr" => assert!(!fixed.contains('\n'), "{fixed:?}"),
            _ => assert!(fixed.contains(end), "{fixed:?}"),
        }
    }
    assert_eq!(check_json(root)["diagnostics"], json!([]));
}

/// `n` modules `src/fNNN.ts`, each with one fixable violation.
fn fixable_project(n: usize) -> (tempfile::TempDir, BTreeMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "krepis.json", "{}\n");
    let mut originals = BTreeMap::new();
    for i in 0..n {
        let name = format!("src/f{i:03}.ts");
        let text = format!("export async function f{i:03}(id: string) {{}}\n");
        write(dir.path(), &name, &text);
        originals.insert(name, text);
    }
    (dir, originals)
}

fn contents(root: &Path, names: impl Iterator<Item = String>) -> BTreeMap<String, String> {
    names
        .map(|name| {
            let text = std::fs::read_to_string(root.join(&name))
                .unwrap_or_else(|e| panic!("{name} is gone: {e}"));
            (name, text)
        })
        .collect()
}

/// Runs `krepis fix` while `writer` edits files; returns the run when both are done.
fn fix_while(root: &Path, writer: impl FnOnce(&AtomicBool) + Send + 'static) -> Run {
    let done = Arc::new(AtomicBool::new(false));
    let handle = {
        let done = done.clone();
        std::thread::spawn(move || writer(&done))
    };
    let run = run(root, &["fix"]);
    done.store(true, Ordering::SeqCst);
    handle.join().unwrap();
    run
}

#[test]
fn editing_a_file_while_fix_writes_it_loses_nothing() {
    const N: usize = 300;
    let last = format!("src/f{:03}.ts", N - 1);
    let edit = |k: usize| {
        format!(
            "export async function f{:03}(id: string) {{ /* edit {k} */ }}\n",
            N - 1
        )
    };
    // What a fix without interference writes.
    let (reference, originals) = fixable_project(N);
    assert_finished(&run(reference.path(), &["fix"]), &[0]);
    let fixed = contents(reference.path(), originals.keys().cloned());
    let others = || originals.keys().filter(|k| **k != last).cloned();

    // 1. One file is rewritten again and again (as an editor saving on every keystroke) for as
    // long as the fix runs.
    let (dir, _) = fixable_project(N);
    let root = dir.path().to_path_buf();
    let written = Arc::new(AtomicUsize::new(0));
    let run = fix_while(&root, {
        let (path, written) = (root.join(&last), written.clone());
        move |done| {
            let mut k = 0;
            while !done.load(Ordering::SeqCst) {
                k += 1;
                std::fs::write(&path, edit(k)).unwrap();
                written.store(k, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(500));
            }
        }
    });
    assert_finished(&run, &[0, 1, 2]);
    let after = contents(&root, others());
    let originals_of_others: BTreeMap<String, String> = others()
        .map(|k| (k.clone(), originals[&k].clone()))
        .collect();
    let fixed_others: BTreeMap<String, String> =
        others().map(|k| (k.clone(), fixed[&k].clone())).collect();
    // All or nothing: every other file wholly fixed, or every one as it was.
    if run.code == 2 {
        assert!(
            run.stderr
                .contains(&format!("{last}: the file changed while the fix was being")),
            "{}",
            run.stderr
        );
        assert_eq!(after, originals_of_others);
    } else {
        assert_eq!(after, fixed_others);
    }
    // The contested file holds the last edit, or the fix of exactly that edit: never an older
    // one, never a mix.
    let final_edit = edit(written.load(Ordering::SeqCst));
    let text = std::fs::read_to_string(root.join(&last)).unwrap();
    let marker = final_edit[final_edit.find("/*").unwrap()..].to_string();
    assert!(
        text == final_edit || (text.contains("ctx: KrepisContext") && text.contains(&marker)),
        "{text:?} (last edit: {final_edit:?})"
    );
    // Undo works, or refuses clearly.
    let undo = self::run(&root, &["undo"]);
    assert_finished(&undo, &[0, 1, 2]);
    match undo.code {
        0 => assert_eq!(contents(&root, others()), originals_of_others),
        1 => assert!(
            undo.stderr.contains("changed since") && undo.stderr.contains(&last),
            "{}",
            undo.stderr
        ),
        _ => assert!(undo.stderr.contains("nothing to undo"), "{}", undo.stderr),
    }

    // 2. One save, landing after the fix has started writing and before it reaches the file:
    // the save is kept and the fix puts back what it wrote. Retried if the save came too late.
    let first = originals.keys().next().unwrap().clone();
    let mut landed = false;
    for _ in 0..3 {
        let (dir, _) = fixable_project(N);
        let root = dir.path().to_path_buf();
        let saved = Arc::new(AtomicBool::new(false));
        let run = fix_while(&root, {
            let (first_fixed, target_original) = (fixed[&first].clone(), originals[&last].clone());
            let (first, target) = (root.join(&first), root.join(&last));
            let saved = saved.clone();
            let save = edit(1);
            move |done| {
                while !done.load(Ordering::SeqCst) {
                    if std::fs::read_to_string(&first).is_ok_and(|t| t == first_fixed) {
                        if std::fs::read_to_string(&target).is_ok_and(|t| t == target_original) {
                            std::fs::write(&target, save).unwrap();
                            saved.store(true, Ordering::SeqCst);
                        }
                        return;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        if !saved.load(Ordering::SeqCst) {
            continue;
        }
        landed = true;
        assert_finished(&run, &[2]);
        assert!(
            run.stderr
                .contains(&format!("{last}: the file changed while the fix was being")),
            "{}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(root.join(&last)).unwrap(), edit(1));
        assert_eq!(contents(&root, others()), originals_of_others);
        let undo = self::run(&root, &["undo"]);
        assert_finished(&undo, &[2]);
        assert!(undo.stderr.contains("nothing to undo"), "{}", undo.stderr);
        // Run again, it fixes everything, the saved edit included; undo restores it all.
        assert_finished(&self::run(&root, &["fix"]), &[0]);
        assert_eq!(contents(&root, others()), fixed_others);
        let text = std::fs::read_to_string(root.join(&last)).unwrap();
        assert!(
            text.contains("ctx: KrepisContext") && text.contains("/* edit 1 */"),
            "{text}"
        );
        assert_finished(&self::run(&root, &["undo"]), &[0]);
        assert_eq!(contents(&root, others()), originals_of_others);
        assert_eq!(std::fs::read_to_string(root.join(&last)).unwrap(), edit(1));
        break;
    }
    assert!(landed, "the save never landed while the fix was writing");
}
