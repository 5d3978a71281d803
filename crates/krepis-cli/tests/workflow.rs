//! Adopting Krepis: `krepis init`, `krepis explain`, and the pre-commit hooks with the real
//! `pre-commit` tool.

mod support;

use std::path::Path;
use std::process::Command;

use krepis_analyzer::rules::RuleId;
use support::run::krepis;

fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn init_writes_a_working_config_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    for folder in [
        "src/orders/domain",
        "src/orders/usecases",
        "src/orders/infra",
        "src/orders/http",
    ] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
    }
    std::fs::write(
        dir.path().join("src/orders/domain/order.ts"),
        "import { Db } from \"../infra/db.ts\";\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/orders/infra/db.ts"),
        "export class Db {}\n",
    )
    .unwrap();
    let (stdout, stderr, code) = krepis(dir.path(), &["init"]);
    assert_eq!(code, 0, "{stderr}");
    // Empty layer folders still make layers; the file's folder names make the others.
    assert!(
        stdout.contains("  application — 0 files") && stdout.contains("**/usecases/**"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  infrastructure — 1 file") && stdout.contains("**/infra/**"),
        "{stdout}"
    );
    // No context package yet: the user is told how to install the one the fixes import.
    assert!(
        stdout.contains("npm i @krepis/core") && stdout.contains("deno add jsr:@krepis/core"),
        "{stdout}"
    );
    let written = std::fs::read_to_string(dir.path().join("krepis.json")).unwrap();
    assert!(written.contains("\"$schema\"") && written.contains("// Layers are tried in order"));
    // The detected layers are in force: `infra` is the infrastructure layer now.
    let (stdout, _, code) = krepis(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["rule"], "layer-boundary");
    assert!(
        !dir.path().join(".gitignore").exists(),
        "no git, no .gitignore written"
    );
    let (_, stderr, code) = krepis(dir.path(), &["init"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
    // A project that depends on it hears nothing of it.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("package.json"),
        "{ \"dependencies\": { \"@krepis/core\": \"^0.1.0\" } }\n",
    )
    .unwrap();
    let (stdout, _, code) = krepis(other.path(), &["init"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("npm i @krepis/core"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("krepis.json")).unwrap(),
        written
    );
}

#[test]
fn explain_prints_the_rule_pages_and_suggests_names() {
    let root = repo_root();
    for rule in RuleId::CONFIGURABLE {
        let page =
            std::fs::read_to_string(root.join("rules").join(format!("{}.md", rule.as_str())))
                .unwrap();
        let (stdout, _, code) = krepis(&root, &["explain", rule.as_str()]);
        assert_eq!(code, 0);
        assert_eq!(
            stdout,
            page,
            "`krepis explain {}` differs from its page",
            rule.as_str()
        );
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## Options",
            "## Fix",
        ] {
            assert!(
                page.contains(section),
                "{}: missing {section}",
                rule.as_str()
            );
        }
    }
    let (_, stderr, code) = krepis(&root, &["explain", "layer-boundry"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did you mean `layer-boundary`?"),
        "{stderr}"
    );
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .unwrap()
}

#[test]
fn the_pre_commit_hook_refuses_a_violating_commit() {
    // The hooks file as pre-commit reads it: from a repository at a commit.
    let hooks_repo = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join(".pre-commit-hooks.yaml"),
        hooks_repo.path().join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    assert!(git(hooks_repo.path(), &["init", "-q"]).status.success());
    git(hooks_repo.path(), &["add", "."]);
    assert!(
        git(hooks_repo.path(), &["commit", "-q", "-m", "hooks"])
            .status
            .success()
    );
    let rev = String::from_utf8(git(hooks_repo.path(), &["rev-parse", "HEAD"]).stdout).unwrap();

    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    assert!(git(project.path(), &["init", "-q"]).status.success());
    std::fs::write(
        project.path().join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: krepis-check\n",
            hooks_repo.path().display(),
            rev.trim()
        ),
    )
    .unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_krepis"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pre_commit = |args: &[&str]| {
        Command::new("pre-commit")
            .args(args)
            .current_dir(project.path())
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path())
            .output()
            .expect("pre-commit must be installed (pip install pre-commit); .ci/run installs it")
    };
    std::fs::write(project.path().join(".gitignore"), "dist/").unwrap();
    let (stdout, _, code) = krepis(project.path(), &["init"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Added .krepis/"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(project.path().join(".gitignore")).unwrap(),
        "dist/\n.krepis/\n"
    );
    let installed = pre_commit(&["install"]);
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );

    let commit = |message: &str| {
        let output = Command::new("git")
            .args(["commit", "-q", "-m", message])
            .current_dir(project.path())
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path())
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .output()
            .unwrap();
        (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    };
    std::fs::create_dir_all(project.path().join("src/orders/application")).unwrap();
    let file = project.path().join("src/orders/application/place.ts");
    std::fs::write(&file, "export async function place(id: string) {}\n").unwrap();
    git(project.path(), &["add", "."]);
    let (ok, log) = commit("violating");
    assert!(!ok, "the violating commit went through:\n{log}");
    assert!(
        log.contains("krepis check") && log.contains("explicit-context"),
        "{log}"
    );
    assert!(
        log.contains("must take `ctx: KrepisContext` as its first parameter"),
        "{log}"
    );

    std::fs::write(&file, "import type { KrepisContext } from \"@krepis/core\";\nexport async function place(ctx: KrepisContext, id: string) {}\n").unwrap();
    git(project.path(), &["add", "."]);
    let (ok, log) = commit("fixed");
    assert!(ok, "the fixed commit was refused:\n{log}");

    // The hook checks the staged files and the files that import them: a staged store that
    // now takes the context makes the unchanged caller wrong, and the commit is refused.
    let store = project.path().join("src/orders/domain/store.ts");
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    std::fs::write(&store, "export function save(id: string): void {}\n").unwrap();
    std::fs::write(&file, "import type { KrepisContext } from \"@krepis/core\";\nimport { save } from \"../domain/store.ts\";\nexport function place(id: string): void {\n  save(id);\n}\n").unwrap();
    git(project.path(), &["add", "."]);
    let (ok, log) = commit("a store");
    assert!(ok, "{log}");
    std::fs::write(&store, "import type { KrepisContext } from \"@krepis/core\";\nexport async function save(ctx: KrepisContext, id: string): Promise<void> {}\n").unwrap();
    git(project.path(), &["add", "src/orders/domain/store.ts"]);
    let (ok, log) = commit("store takes the context");
    assert!(!ok, "the commit breaking an importer went through:\n{log}");
    assert!(log.contains("src/orders/application/place.ts"), "{log}");
}
