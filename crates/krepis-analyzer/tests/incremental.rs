//! Edits recompute only what they can change, and cross-file results follow edits.

use std::path::{Path, PathBuf};

use krepis_analyzer::config::Config;
use krepis_analyzer::db::{AnalysisDatabase, ExecutionLog};
use krepis_analyzer::project::ProjectSettings;
use krepis_analyzer::workspace::Workspace;

fn workspace(files: &[(&str, &str)]) -> (Workspace, ExecutionLog) {
    let root = PathBuf::from("/p");
    let mut settings = ProjectSettings::new(&root, None);
    settings.insert_config(root.clone(), Config::default_for(&root));
    let log = ExecutionLog::default();
    let db = AnalysisDatabase::with_execution_log(log.clone());
    let sources = files
        .iter()
        .map(|(p, t)| (root.join(p), t.to_string()))
        .collect();
    (Workspace::from_memory_in(db, settings, sources), log)
}

fn rules_of(workspace: &Workspace, path: &str) -> Vec<&'static str> {
    let file = workspace
        .file(&Path::new("/p").join(path))
        .expect("known file");
    workspace
        .diagnostics(file)
        .iter()
        .map(|d| d.rule.as_str())
        .collect()
}

const PORT: &str = "import type { KrepisContext } from \"@krepis/core\";\nexport async function audit(ctx: KrepisContext, what: string) {}\n";
const CALLER: &str = "import type { KrepisContext } from \"@krepis/core\";\nimport { audit } from \"./port.ts\";\nexport async function run(ctx: KrepisContext) {\n  const note = \"hello\";\n  await audit(\"x\");\n}\n";

/// The first edit of a module read from disk is a change of the settled kind (see the
/// durability note in `db`): everything computed from it is looked at again once. Edits after it
/// are what the assertions below are about.
fn first_edit(ws: &mut Workspace, path: &str, text: &str) {
    ws.set_text(&Path::new("/p").join(path), text);
    ws.check(&|| {});
}

#[test]
fn an_edit_that_keeps_the_facts_reruns_nothing_downstream() {
    let (mut ws, log) = workspace(&[("src/port.ts", PORT), ("src/caller.ts", CALLER)]);
    ws.check(&|| {});
    first_edit(&mut ws, "src/caller.ts", &CALLER.replace("hello", "there"));
    log.take();
    // Same length, same facts: only the text of a string literal changes.
    ws.set_text(
        Path::new("/p/src/caller.ts"),
        &CALLER.replace("hello", "world"),
    );
    ws.check(&|| {});
    let executed = log.take();
    assert!(
        executed.iter().any(|q| q.starts_with("module_facts")),
        "{executed:?}"
    );
    let downstream: Vec<_> = executed
        .iter()
        .filter(|q| !q.starts_with("module_facts"))
        .collect();
    assert!(
        downstream.is_empty(),
        "recomputed after a no-op edit: {downstream:?}"
    );
}

#[test]
fn cross_file_diagnostics_follow_edits_of_the_callee() {
    let (mut ws, log) = workspace(&[("src/port.ts", PORT), ("src/caller.ts", CALLER)]);
    assert_eq!(rules_of(&ws, "src/caller.ts"), ["context-propagation"]);
    // The callee stops taking the context: the caller's call is fine now.
    ws.set_text(
        Path::new("/p/src/port.ts"),
        "export async function audit(what: string) {}\n",
    );
    assert_eq!(rules_of(&ws, "src/caller.ts"), Vec::<&str>::new());
    assert_eq!(rules_of(&ws, "src/port.ts"), ["explicit-context"]);
    log.take();
    // Back again; and a new module that imports the caller recomputes only what it touches.
    ws.set_text(Path::new("/p/src/port.ts"), PORT);
    assert_eq!(rules_of(&ws, "src/caller.ts"), ["context-propagation"]);
    ws.set_text(
        Path::new("/p/src/domain/x.ts"),
        "import \"../adapters/y.ts\";\n",
    );
    ws.set_text(Path::new("/p/src/adapters/y.ts"), "export const y = 1;\n");
    assert_eq!(rules_of(&ws, "src/domain/x.ts"), ["layer-boundary"]);
    ws.remove(Path::new("/p/src/adapters/y.ts"));
    assert_eq!(rules_of(&ws, "src/domain/x.ts"), Vec::<&str>::new());
}

#[test]
fn a_text_edit_does_not_rebuild_project_wide_lists() {
    let (mut ws, log) = workspace(&[("src/port.ts", PORT), ("src/caller.ts", CALLER)]);
    ws.check(&|| {});
    first_edit(&mut ws, "src/caller.ts", &format!("// first\n{CALLER}"));
    ws.snapshot().files();
    log.take();
    ws.set_text(
        Path::new("/p/src/caller.ts"),
        &format!("// moved\n{CALLER}"),
    );
    ws.check(&|| {});
    ws.snapshot().files();
    let executed = log.take();
    assert!(
        !executed
            .iter()
            .any(|q| q.starts_with("sorted_files") || q.starts_with("import_cycles")),
        "{executed:?}"
    );
}

#[test]
fn a_preview_names_what_an_edit_would_break_and_changes_nothing() {
    let lib = "import type { KrepisContext } from \"@krepis/core\";\nexport function audit() {}\n";
    let user = "import type { KrepisContext } from \"@krepis/core\";\nimport { audit } from \"./lib.ts\";\nexport async function run(ctx: KrepisContext) {\n  await audit();\n}\n";
    let (mut ws, _) = workspace(&[("src/lib.ts", lib), ("src/user.ts", user)]);
    let files_before = ws.checked_files().len();

    // A new file that breaks a rule, and an edit of `lib.ts` that breaks its importer.
    let new_file = Path::new("/p/src/domain/clock.ts").to_path_buf();
    let broken_lib = lib.replace(
        "function audit()",
        "async function audit(ctx: KrepisContext)",
    );
    let introduced = ws.preview(&[
        (
            new_file.clone(),
            "export function now() { return Date.now(); }\n".into(),
        ),
        (Path::new("/p/src/lib.ts").to_path_buf(), broken_lib),
    ]);
    let mut found: Vec<(String, &str)> = introduced
        .iter()
        .map(|(p, d)| (p.display().to_string(), d.rule_name()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("/p/src/domain/clock.ts".to_string(), "pure-domain"),
            ("/p/src/user.ts".to_string(), "context-propagation"),
        ]
    );

    // Nothing of the preview stays behind.
    assert!(ws.file(&new_file).is_none());
    assert_eq!(ws.checked_files().len(), files_before);
    assert!(rules_of(&ws, "src/user.ts").is_empty());

    // An edit that fixes something introduces nothing.
    let fixed = user.replace("audit();", "audit();\n  await audit();");
    assert!(
        ws.preview(&[(Path::new("/p/src/user.ts").to_path_buf(), fixed)])
            .is_empty()
    );
}

#[test]
fn implicit_context_findings_follow_edits_of_the_wrapper() {
    let wrapper = "import { ClsService } from \"nestjs-cls\";\nexport const tenant = (cls: ClsService) => cls.get(\"tenant\");\n";
    let user = "import { tenant } from \"../shared/tenant.ts\";\nexport const bill = (cls: never) => tenant(cls);\n";
    let (mut ws, _) = workspace(&[
        ("src/shared/tenant.ts", wrapper),
        ("src/billing/bill.ts", user),
    ]);
    ws.check(&|| {});
    assert_eq!(
        rules_of(&ws, "src/billing/bill.ts"),
        ["no-implicit-context"]
    );
    // The wrapper stops reading implicit context: its user is no longer reported.
    ws.set_text(
        Path::new("/p/src/shared/tenant.ts"),
        "export const tenant = (t: string) => t;\n",
    );
    ws.check(&|| {});
    assert!(rules_of(&ws, "src/billing/bill.ts").is_empty());
    // Reading through it again brings the finding back.
    ws.set_text(Path::new("/p/src/shared/tenant.ts"), wrapper);
    ws.check(&|| {});
    assert_eq!(
        rules_of(&ws, "src/billing/bill.ts"),
        ["no-implicit-context"]
    );
}

#[test]
fn an_edit_of_one_module_leaves_the_other_modules_shares_alone() {
    let other = "export class Store {\n  async save() {}\n}\nexport function keep(store: Store) {\n  store.save();\n}\n";
    let (mut ws, log) = workspace(&[
        ("src/port.ts", PORT),
        ("src/caller.ts", CALLER),
        ("src/other.ts", other),
    ]);
    ws.check(&|| {});
    first_edit(&mut ws, "src/caller.ts", &format!("// first\n{CALLER}"));
    log.take();
    // The facts change: an import of a package comes first, so the import of `port.ts` is the
    // third now. No name is used as a value anew and no import leads elsewhere in the project.
    ws.set_text(
        Path::new("/p/src/caller.ts"),
        &format!("import {{ join }} from \"node:path\";\n{CALLER}"),
    );
    let diagnostics = ws.check(&|| {});
    assert!(!diagnostics.is_empty());
    let executed = log.take();
    let count = |query: &str| {
        executed
            .iter()
            .filter(|q| q.starts_with(&format!("{query}(")))
            .count()
    };
    assert_eq!(count("module_facts"), 1, "{executed:?}");
    // Only the edited module's share of the graph is taken again, and the sets stay.
    assert_eq!(count("cycle_edges"), 1, "{executed:?}");
    assert_eq!(count("cycle_targets"), 1, "{executed:?}");
    assert_eq!(count("cycle_components"), 0, "{executed:?}");
    assert_eq!(count("import_cycles"), 0, "{executed:?}");
    assert_eq!(count("value_uses"), 0, "{executed:?}");
    // No other module imports it: their calls are not resolved again.
    assert_eq!(count("method_calls"), 1, "{executed:?}");
}
