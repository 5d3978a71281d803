//! Which project a checked path belongs to, and which files of it are read: `krepis check PATH`
//! at the root of a monorepo, beside broken settings that govern other folders.

mod support;

use support::run::{krepis, reported, write};

const CONTEXT: &str = "export interface KrepisContext { request_id: string }\n";

/// A repository with two packages: `orders` (checked) imports `shared`, which is not asked about;
/// `legacy` has a broken `krepis.json` and `tools` a broken `tsconfig.json`.
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(root, "packages/shared/src/context.ts", CONTEXT);
    write(
        root,
        "packages/shared/src/audit.ts",
        "import type { KrepisContext } from \"./context.ts\";\nimport { place } from \"../../orders/src/application/place.ts\";\nexport async function audit(ctx: KrepisContext, what: string): Promise<void> { void place; }\n",
    );
    write(
        root,
        "packages/orders/src/application/place.ts",
        "import type { KrepisContext } from \"../../../shared/src/context.ts\";\nimport { audit } from \"../../../shared/src/audit.ts\";\nexport async function place(ctx: KrepisContext, id: string): Promise<void> {\n  await audit(id);\n}\n",
    );
    write(
        root,
        "packages/legacy/krepis.json",
        "{\n  \"layers\": [\n    { \"name\": \"domain\", \"paths\": [\"**/domain/**\"], \"allow\": [\"core\"] }\n  ]\n}\n",
    );
    write(
        root,
        "packages/legacy/src/domain/a.ts",
        "export const a = 1;\n",
    );
    write(
        root,
        "packages/tools/tsconfig.json",
        "{ \"compilerOptions\": ",
    );
    write(root, "packages/tools/src/b.ts", "export const b = 1;\n");
    dir
}

#[test]
fn a_broken_config_elsewhere_does_not_stop_the_check_of_a_folder() {
    let repo = monorepo();
    let (stdout, stderr, code) = krepis(
        repo.path(),
        &["check", "packages/orders", "--format", "json"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The call into `shared` (read only because `place.ts` imports it) is judged, and the cycle
    // through it found, exactly as a check of the whole repository finds them.
    assert_eq!(
        reported(&report),
        vec![
            (
                "packages/orders/src/application/place.ts".to_string(),
                "import-cycle".to_string()
            ),
            (
                "packages/orders/src/application/place.ts".to_string(),
                "context-propagation".to_string()
            ),
        ]
    );
    assert_eq!(report["files_checked"], 1);
}

#[test]
fn a_broken_settings_file_that_governs_a_checked_file_is_an_error() {
    let repo = monorepo();
    let (stdout, stderr, code) = krepis(repo.path(), &["check", "packages/legacy"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr
            .contains("packages/legacy/krepis.json:3: layer `domain` allows unknown layer `core`"),
        "{stderr}"
    );
    let (stdout, stderr, code) = krepis(repo.path(), &["check", "packages/tools/src/b.ts"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("packages/tools/tsconfig.json"), "{stderr}");
    // The whole repository is governed by both: the error names the first.
    let (_, stderr, code) = krepis(repo.path(), &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("packages/legacy/krepis.json"), "{stderr}");
}

#[test]
fn without_a_config_the_project_is_the_nearest_folder_that_looks_like_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // `app` is a package of its own; run from outside it, its default layers still apply, since
    // the default config's globs are taken from `app`, not from where the command runs.
    write(root, "app/package.json", "{ \"name\": \"app\" }\n");
    write(
        root,
        "app/src/domain/order.ts",
        "import { Db } from \"../infrastructure/db.ts\";\nexport const o = Db;\n",
    );
    write(root, "app/src/infrastructure/db.ts", "export class Db {}\n");
    let outside = tempfile::tempdir().unwrap();
    let target = root.join("app/src/domain");
    let (stdout, stderr, code) = krepis(
        outside.path(),
        &["check", target.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rules: Vec<String> = reported(&report)
        .into_iter()
        .map(|(_, rule)| rule)
        .collect();
    assert_eq!(rules, ["layer-boundary"], "{stdout}");
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(`src/infrastructure/db.ts`)"),
        "{stdout}"
    );
}
