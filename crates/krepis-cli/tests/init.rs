//! `krepis init` on trees modelled on real layouts (`fixtures/init-*`): what it detects, what it
//! explains, and what `krepis check` reports with the config it writes.

mod support;

use std::path::Path;

use support::fixtures::fixture_copy;
use support::run::{check_json, krepis};

/// A copy of the fixture in a fresh folder, as a user's checkout.
fn project(name: &str) -> tempfile::TempDir {
    fixture_copy(name)
}

/// `(file, message)` of every `layer-boundary` finding.
fn boundary_findings(dir: &Path) -> Vec<(String, String)> {
    let report = check_json(dir);
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "layer-boundary")
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs `init --dry-run` (which must write nothing), then `init`; returns the explanation and
/// the written file.
fn init(dir: &Path) -> (String, String) {
    let (dry, stderr, code) = krepis(dir, &["init", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !dir.join("krepis.json").exists(),
        "--dry-run wrote krepis.json"
    );
    assert!(dry.contains("Dry run: nothing written"), "{dry}");
    let (stdout, stderr, code) = krepis(dir, &["init"]);
    assert_eq!(code, 0, "{stderr}");
    let written = std::fs::read_to_string(dir.join("krepis.json")).unwrap();
    // The dry run shows the very file that is then written, after the same explanation.
    assert!(dry.ends_with(&written), "{dry}\n---\n{written}");
    let explanation = stdout.split("\nWrote ").next().unwrap().to_string();
    assert!(dry.starts_with(&explanation), "{dry}\n---\n{explanation}");
    (explanation, written)
}

/// The written file with its commented feature layers in place of `"layers"`.
fn with_feature_layers(written: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let mut feature_block = String::new();
    for line in written.lines() {
        if let Some(rest) = line.strip_prefix("  // ")
            && (rest.starts_with("\"layers\"") || rest.starts_with("  {") || rest == "],")
            && (!feature_block.is_empty() || rest.starts_with("\"layers\""))
        {
            feature_block.push_str(&format!("  {rest}\n"));
            continue;
        }
        if line.starts_with("  \"layers\": [") {
            skipping = true;
            continue;
        }
        if skipping {
            if line == "  ]," {
                skipping = false;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(!feature_block.is_empty(), "no feature layers in\n{written}");
    out.replacen("  \"rules\"", &format!("{feature_block}  \"rules\""), 1)
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn nest_hexagonal_modules_get_all_four_layers() {
    let dir = project("init-nest-hexagonal");
    let (explanation, written) = init(dir.path());
    // The slices of a NestJS CQRS module: controllers and resolvers are adapters though they sit
    // in `commands/` and `queries/`, the port beside its repository is the application's.
    for expected in [
        "Read 18 source files",
        "  domain — 4 files, imports no other layer",
        "        4  **/domain/**",
        "  adapters — 2 files, may import domain, application, infrastructure",
        "        1  **/*.controller.ts",
        "        1  **/*-resolver.ts",
        "  application — 6 files, may import domain",
        "        2  **/commands/**",
        "        1  **/*.port.ts",
        "        1  **/*.service.ts",
        "        1  **/*.query-handler.ts",
        "        1  **/application/**",
        "  infrastructure — 2 files, may import domain, application",
        "        2  **/*.repository.ts",
        "adapters comes before application: 1 file match globs of both and its name or folder says adapters (e.g. src/modules/user/commands/create-user/create-user.http.controller.ts)",
        "Outside every layer (unconstrained: composition roots, shared code): 4 files",
        "  src/libs/ddd/entity.base.ts",
        "  src/modules/user/dtos/user.response.dto.ts",
        "With these layers `krepis check` reports 1 import (layer-boundary):",
        "  domain → infrastructure: 1 (e.g. src/modules/user/domain/user.entity.ts → src/modules/user/database/user.repository.ts)",
        "Feature folders under src/modules/: user, wallet.",
        "  2 imports between features today, 1 of them between files of the same layer",
    ] {
        assert!(
            explanation.contains(expected),
            "missing {expected:?} in\n{explanation}"
        );
    }
    // The request DTO of a command slice goes with its folder; the response DTOs stay outside.
    assert!(!explanation.contains("elsewhere than"), "{explanation}");
    assert!(!explanation.contains("**/database/**"), "{explanation}");
    // Adapters are tried before application, or the controller would be an application file.
    let order: Vec<&str> = written
        .lines()
        .filter_map(|l| l.trim().strip_prefix("{ \"name\": \""))
        .filter_map(|l| l.split('"').next())
        .collect();
    let position = |name: &str| order.iter().position(|n| *n == name).unwrap();
    assert!(position("adapters") < position("application"), "{written}");

    assert_eq!(
        boundary_findings(dir.path()),
        [(
            "src/modules/user/domain/user.entity.ts".to_string(),
            "layer `domain` must not import layer `infrastructure` (`src/modules/user/database/user.repository.ts`)"
                .to_string()
        )]
    );

    // The commented feature layers, put in place, report what the explanation promised.
    std::fs::write(
        dir.path().join("krepis.json"),
        with_feature_layers(&written),
    )
    .unwrap();
    let findings = boundary_findings(dir.path());
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(
        findings.iter().any(
            |(file, message)| file == "src/modules/wallet/domain/wallet.entity.ts"
                && message.contains("user")
        ),
        "{findings:?}"
    );
}

#[test]
fn clean_architecture_core_is_a_container() {
    let dir = project("init-clean");
    let (explanation, _) = init(dir.path());
    for expected in [
        "src/core/ is named like a layer but holds layer folders (ports, use-cases): read as a container",
        "  domain — 1 file",
        "        1  **/entities/**",
        "  application — 3 files",
        "        2  **/use-cases/**",
        "        1  **/ports/**",
        "  infrastructure — 2 files",
        "  adapters — 1 file",
        // A controller is an adapter by its name, wherever it is.
        "        1  **/*-controller.ts",
        "  src/main.ts",
        "  application → infrastructure: 1 (e.g. src/core/use-cases/list-users.ts → src/infrastructure/db/sql-user-gateway.ts)",
    ] {
        assert!(
            explanation.contains(expected),
            "missing {expected:?} in\n{explanation}"
        );
    }
    assert!(!explanation.contains("**/core/**"), "{explanation}");
    assert!(!explanation.contains("Feature folders"), "{explanation}");
    let findings = boundary_findings(dir.path());
    assert_eq!(
        findings.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        ["src/core/use-cases/list-users.ts"]
    );
}

#[test]
fn ddd_bounded_contexts_are_features_with_a_shared_kernel() {
    let dir = project("init-ddd-contexts");
    let (explanation, written) = init(dir.path());
    for expected in [
        "Read 9 source files",
        "  domain — 4 files",
        "  application — 2 files",
        "  infrastructure — 1 file",
        "  adapters — 1 file",
        "        1  **/*Controller.ts",
        "  src/apps/mooc/backend/start.ts",
        "Feature folders under src/Contexts/: Backoffice, Mooc (shared: Shared).",
        "2 imports between features today, 1 of them between files of the same layer",
    ] {
        assert!(
            explanation.contains(expected),
            "missing {expected:?} in\n{explanation}"
        );
    }
    // The shared kernel is a layer of its own, tried first, so it is never captured as a feature.
    for line in [
        "//   { \"name\": \"shared-kernel\", \"paths\": [\"src/Contexts/Shared/**\"]",
        "//   { \"name\": \"domain\", \"paths\": [\"src/Contexts/<feature>/**/domain/**\"], \"allow\": [\"shared-kernel\", \"shared-domain\"], \"isolate\": \"feature\" },",
        "//   { \"name\": \"shared-domain\", \"paths\": [\"**/domain/**\"], \"allow\": [\"shared-kernel\", \"domain\"] },",
    ] {
        assert!(written.contains(line), "missing {line:?} in\n{written}");
    }
    assert_eq!(
        boundary_findings(dir.path())
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>(),
        ["src/Contexts/Backoffice/Courses/application/BackofficeCourseCreator.ts"]
    );
    std::fs::write(
        dir.path().join("krepis.json"),
        with_feature_layers(&written),
    )
    .unwrap();
    let findings = boundary_findings(dir.path());
    let files: Vec<&str> = findings.iter().map(|(f, _)| f.as_str()).collect();
    // The Backoffice model using Mooc's is reported; both using the shared kernel is not.
    assert_eq!(
        files,
        [
            "src/Contexts/Backoffice/Courses/application/BackofficeCourseCreator.ts",
            "src/Contexts/Backoffice/Courses/domain/BackofficeCourse.ts"
        ],
        "{findings:?}"
    );
}

#[test]
fn deno_project_layers_follow_the_import_map() {
    let dir = project("init-deno");
    let (explanation, written) = init(dir.path());
    for expected in [
        // `order_test.ts` is a test: not read, not counted.
        "Read 7 source files",
        "  domain — 2 files",
        "  application — 2 files",
        "  infrastructure — 1 file",
        "  adapters — 1 file",
        "        1  **/adapters/**",
        "  src/main.ts",
        "  domain → infrastructure: 1 (e.g. src/domain/pricing.ts → src/infrastructure/kv_order_repository.ts)",
    ] {
        assert!(
            explanation.contains(expected),
            "missing {expected:?} in\n{explanation}"
        );
    }
    // The conventional order when nothing forces another.
    let names: Vec<&str> = lines_with(&written, "{ \"name\"")
        .iter()
        .map(|l| l.split('"').nth(3).unwrap())
        .collect();
    assert_eq!(
        names,
        ["domain", "application", "infrastructure", "adapters"]
    );
    assert_eq!(
        boundary_findings(dir.path())
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>(),
        ["src/domain/pricing.ts"]
    );
}

#[test]
fn flat_express_app_reads_its_folder_names() {
    let dir = project("init-express-flat");
    let (explanation, _) = init(dir.path());
    for expected in [
        "  domain — 1 file",
        "        1  **/models/**",
        "  application — 1 file",
        // `userService.ts` says it by its name, before its weak folder.
        "        1  **/*Service.ts",
        "  adapters — 2 files",
        "        1  **/routes/**",
        "        1  **/*Controller.ts",
        "Outside every layer (unconstrained: composition roots, shared code): 3 files",
        "  src/db.ts",
        "  src/utils/format.ts",
        "  application → adapters: 1 (e.g. src/services/userService.ts → src/routes/users.ts)",
    ] {
        assert!(
            explanation.contains(expected),
            "missing {expected:?} in\n{explanation}"
        );
    }
    assert!(!explanation.contains("infrastructure —"), "{explanation}");
    assert!(!explanation.contains("Feature folders"), "{explanation}");
    assert_eq!(
        boundary_findings(dir.path())
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>(),
        ["src/services/userService.ts"]
    );
}

#[test]
fn init_refuses_to_overwrite_and_dry_run_needs_no_write_access() {
    let dir = project("init-deno");
    std::fs::write(dir.path().join("krepis.json"), "{}\n").unwrap();
    for args in [&["init"][..], &["init", "--dry-run"]] {
        let (_, stderr, code) = krepis(dir.path(), args);
        assert_eq!(code, 2);
        assert!(stderr.contains("already exists"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("krepis.json")).unwrap(),
        "{}\n"
    );
    let (_, stderr, code) = krepis(dir.path(), &["init", "no-such-folder"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a folder"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn unreadable_folders_and_symlink_loops_do_not_stop_init() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project("init-deno");
    std::os::unix::fs::symlink(dir.path().join("src"), dir.path().join("src/domain/loop")).unwrap();
    let locked = dir.path().join("src/locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("x.ts"), "export const x = 1;\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (stdout, stderr, code) = krepis(dir.path(), &["init", "--dry-run"]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("  domain — 2 files"), "{stdout}");
}
