//! Generator code actions as an editor meets them: the real `krepis lsp` offers them, the test
//! applies their workspace edits to the files on disk, and the real `krepis check` judges the result.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::fixtures::fixture_copy;
use support::lsp_client::{LspClient, apply_lsp_edits, uri};
use support::run::{check_json, reported, write};

/// A client that can create files and show disabled actions, like VS Code.
fn capable() -> Value {
    json!({ "window": { "workDoneProgress": true },
            "workspace": { "workspaceEdit": { "documentChanges": true, "resourceOperations": ["create"] } },
            "textDocument": { "codeAction": { "disabledSupport": true } } })
}

fn start(root: &Path, capabilities: Value) -> LspClient {
    let (mut client, _) = LspClient::start(root, capabilities);
    client.wait_for("indexing progress end", |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    });
    client
}

/// The refactor actions at a position (line and UTF-16 column, 0-based), or a selection.
fn refactors(
    client: &mut LspClient,
    path: &Path,
    start: (u32, u32),
    end: (u32, u32),
) -> Vec<Value> {
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(path) },
                "range": { "start": { "line": start.0, "character": start.1 },
                           "end": { "line": end.0, "character": end.1 } },
                "context": { "diagnostics": [], "only": ["refactor"] } }),
    );
    actions.as_array().cloned().unwrap_or_default()
}

fn titled<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action `{title}` in {actions:#?}"))
}

/// Applies a workspace edit's document changes to the files, as an editor does.
fn apply(edit: &Value) -> Vec<String> {
    let mut touched = Vec::new();
    for operation in edit["documentChanges"].as_array().expect("documentChanges") {
        let path = |uri: &Value| {
            uri.as_str()
                .and_then(|u| u.strip_prefix("file://"))
                .map(|p| p.replace("%20", " "))
                .expect("a file URI")
        };
        if operation["kind"] == "create" {
            let file = path(&operation["uri"]);
            assert!(!Path::new(&file).exists(), "{file} must not exist yet");
            assert_eq!(operation["options"]["overwrite"], false);
            std::fs::create_dir_all(Path::new(&file).parent().unwrap()).unwrap();
            std::fs::write(&file, "").unwrap();
            continue;
        }
        let file = path(&operation["textDocument"]["uri"]);
        let text = std::fs::read_to_string(&file).unwrap();
        let edits = operation["edits"].as_array().unwrap();
        std::fs::write(&file, apply_lsp_edits(&text, edits)).unwrap();
        touched.push(file);
    }
    touched
}

/// `krepis check --format json` on the project: (file relative to root, rule) pairs, sorted.
fn check(root: &Path) -> Vec<(String, String)> {
    let mut found = reported(&check_json(root));
    found.sort();
    found
}

#[test]
fn implement_port_creates_an_adapter_that_passes_the_rules() {
    let dir = fixture_copy("shop");
    let root = dir.path();
    let before = check(root);
    let mut client = start(root, capable());
    let ports = root.join("src/orders/application/ports.ts");

    // Outside an interface there is no port to implement.
    let none = refactors(&mut client, &ports, (0, 0), (0, 0));
    assert!(
        none.iter()
            .all(|a| !a["title"].as_str().unwrap().starts_with("Implement port")),
        "{none:#?}"
    );

    let actions = refactors(&mut client, &ports, (5, 4), (5, 4));
    let action = titled(&actions, "Implement port `OrderStore` as an adapter");
    assert!(
        action["kind"]
            .as_str()
            .unwrap()
            .starts_with("refactor.extract")
    );
    assert!(action.get("disabled").is_none(), "{action:#}");
    let changes = action["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(changes[0]["kind"], "create");
    assert!(
        changes[0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/src/orders/adapters/order-store.ts")
    );
    apply(&action["edit"]);

    let adapter = std::fs::read_to_string(root.join("src/orders/adapters/order-store.ts")).unwrap();
    assert!(adapter.contains("export class OrderStoreAdapter implements OrderStore {"));
    assert!(
        adapter.contains("async list(ctx: KrepisContext, tenantId: string): Promise<Order[]> {")
    );
    assert!(adapter.contains("import type { OrderStore } from \"../application/ports.ts\";"));
    // The port's `list` got its context, so its explicit-context finding is gone and nothing new
    // appeared anywhere.
    let mut expected = before.clone();
    let fixed = expected
        .iter()
        .position(|(file, rule)| {
            file.ends_with("application/ports.ts") && rule == "explicit-context"
        })
        .expect("the port's finding before");
    expected.remove(fixed);
    assert_eq!(check(root), expected);

    // The same action again would overwrite the adapter: it is shown, disabled, with the reason.
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [
            { "uri": uri(&root.join("src/orders/adapters/order-store.ts")), "type": 1 },
            { "uri": uri(&ports), "type": 2 } ] }),
    );
    let again = loop {
        let actions = refactors(&mut client, &ports, (5, 4), (5, 4));
        let action = titled(&actions, "Implement port `OrderStore` as an adapter").clone();
        if action.get("disabled").is_some() {
            break action;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(
        again["disabled"]["reason"],
        "`src/orders/adapters/order-store.ts` exists already"
    );
    assert!(again.get("edit").is_none());
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn new_use_case_and_add_context_apply_cleanly() {
    let dir = fixture_copy("shop");
    let root = dir.path();
    let invoice = root.join("src/billing/application/invoice.ts");
    let text = std::fs::read_to_string(&invoice).unwrap();
    std::fs::write(&invoice, format!("{text}\n// Next: IssueRefund\n")).unwrap();
    let before = check(root);
    let mut client = start(root, capable());

    // "New use case" needs the name selected.
    let line = text.lines().count() as u32 + 1;
    let bare = refactors(&mut client, &invoice, (line, 12), (line, 12));
    assert!(
        bare.iter()
            .all(|a| !a["title"].as_str().unwrap().starts_with("New "))
    );
    let actions = refactors(&mut client, &invoice, (line, 9), (line, 20));
    let action = titled(&actions, "New command use case `IssueRefund`");
    apply(&action["edit"]);
    let use_case =
        std::fs::read_to_string(root.join("src/billing/application/issue-refund.ts")).unwrap();
    assert!(use_case.contains("export class IssueRefundCommandHandler {"));
    assert!(
        root.join("src/billing/application/issue-refund-port.ts")
            .exists()
    );
    assert_eq!(check(root), before, "the new files are clean");

    // "Add context parameter to every async function in this file".
    let actions = refactors(&mut client, &invoice, (0, 0), (0, 0));
    let action = titled(
        &actions,
        "Add context parameter to every async function in this file",
    );
    assert!(
        action["kind"]
            .as_str()
            .unwrap()
            .starts_with("refactor.rewrite")
    );
    apply(&action["edit"]);
    let after = check(root);
    assert!(
        !after
            .iter()
            .any(|(f, r)| f.ends_with("invoice.ts") && r == "explicit-context"),
        "{after:?}"
    );
    assert_eq!(after.len(), before.len() - 1);
    assert!(std::fs::read_to_string(&invoice).unwrap().contains(
        "export async function tenantOfRequest(ctx: KrepisContext): Promise<string | undefined> {"
    ));
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn generator_edits_that_break_a_rule_are_refused_with_the_reason() {
    let dir = fixture_copy("shop");
    let root = dir.path();
    let generators = root.join(".krepis/generators");
    std::fs::create_dir_all(&generators).unwrap();
    // A project generator whose file would import infrastructure from the domain.
    std::fs::write(
        generators.join("leaky.ts"),
        r#"export function generate(_ctx: unknown, req: { file: { path: string } }) {
  return {
    title: "Add a leaky domain helper",
    changes: [{ kind: "create", path: "src/orders/domain/leak.ts",
                text: 'import { OrderRepository } from "../infrastructure/order_repository.ts";\nexport const leak = OrderRepository;\n' }],
  };
}
"#,
    )
    .unwrap();
    // A generator that imports a helper of its own folder and one of the prelude.
    std::fs::write(
        generators.join("notes.ts"),
        "import type { Request } from \"krepis:prelude\";\nimport { dirname } from \"krepis:prelude\";\nimport { heading } from \"./lib/text.js\";\nexport function generate(_ctx: unknown, req: Request) {\n  return { title: \"Add notes\", changes: [{ kind: \"create\", path: req.file.path.replace(/\\.ts$/, \".md\"), text: heading(dirname(req.file.path)) }] };\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(generators.join("lib")).unwrap();
    std::fs::write(
        generators.join("lib/text.ts"),
        "export const heading = (folder: string): string => `# Notes on ${folder}\\n`;\n",
    )
    .unwrap();
    std::fs::write(
        generators.join("broken.ts"),
        "export function generate() { while (true) {} }\n",
    )
    .unwrap();
    let mut client = start(root, capable());
    let order = root.join("src/orders/domain/order.ts");
    let actions = refactors(&mut client, &order, (0, 0), (0, 0));
    let leaky = titled(&actions, "Add a leaky domain helper");
    assert!(leaky.get("edit").is_none());
    let reason = leaky["disabled"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("it would introduce `layer-boundary` in src/orders/domain/leak.ts: "),
        "{reason}"
    );
    // A file Krepis does not check cannot break a rule.
    let notes = titled(&actions, "Add notes");
    assert!(notes.get("disabled").is_none(), "{notes:#}");
    assert!(
        notes["edit"]["documentChanges"][0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/src/orders/domain/order.md")
    );
    assert!(
        notes["edit"]
            .to_string()
            .contains("# Notes on src/orders/domain\\n"),
        "{notes:#}"
    );
    // The helper folder holds no generator of its own.
    assert!(
        !actions
            .iter()
            .any(|a| a["title"].as_str().unwrap_or("").contains("text"))
    );
    let broken = titled(&actions, "Generator `broken`");
    assert!(
        broken["disabled"]["reason"]
            .as_str()
            .unwrap()
            .contains("EXECUTION_TIMEOUT"),
        "{broken:#}"
    );
    // The preview left nothing behind: the domain file that was never written has no diagnostics.
    assert!(!root.join("src/orders/domain/leak.ts").exists());
    let diagnostics = client.request(
        "textDocument/diagnostic",
        json!({ "textDocument": { "uri": uri(&root.join("src/orders/domain/leak.ts")) } }),
    );
    assert_eq!(diagnostics["items"], json!([]));
    assert_eq!(client.shutdown(), Some(0));

    // An editor that cannot create files is told so instead of getting a half-applied edit.
    let mut client = start(root, json!({ "window": { "workDoneProgress": true } }));
    let ports = root.join("src/orders/application/ports.ts");
    let actions = refactors(&mut client, &ports, (5, 4), (5, 4));
    let action = titled(
        &actions,
        "Implement port `OrderStore` as an adapter (unavailable: this editor cannot create files from a code action)",
    );
    assert!(action.get("edit").is_none());
    // Choosing it shows the reason.
    let command = &action["command"];
    client.request(
        "workspace/executeCommand",
        json!({ "command": command["command"], "arguments": command["arguments"] }),
    );
    let shown = client.wait_for("the reason", |m| m["method"] == "window/showMessage");
    assert_eq!(
        shown["params"]["message"],
        "krepis: this editor cannot create files from a code action"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn custom_rules_report_in_the_editor_and_follow_edits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        ".krepis/rules/no-legacy.ts",
        r#"export function check(_ctx: unknown, module: { facts: { functions: { name: string; name_range: { start: number; end: number } }[] } }) {
  return module.facts.functions
    .filter((f) => f.name.startsWith("legacy"))
    .map((f) => ({ message: `\`${f.name}\` is legacy`, start: f.name_range.start, end: f.name_range.end }));
}
"#,
    );
    write(
        root,
        ".krepis/rules/throws.ts",
        "export function check() { throw new Error(\"boom\"); }\n",
    );
    write(
        root,
        "src/a.ts",
        "export function legacyLoad(id: string) {\n  return id;\n}\n",
    );
    let mut client = start(root, capable());
    let a = root.join("src/a.ts");
    let text = std::fs::read_to_string(&a).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&a), "languageId": "typescript", "version": 1, "text": text } }),
    );
    let diagnostics = client.diagnostics_for(&uri(&a), |d| d.len() == 2);
    let legacy = diagnostics
        .iter()
        .find(|d| d["code"] == "no-legacy")
        .expect("the custom rule's finding");
    assert_eq!(legacy["message"], "`legacyLoad` is legacy");
    assert_eq!(
        legacy["range"],
        json!({ "start": { "line": 0, "character": 16 }, "end": { "line": 0, "character": 26 } })
    );
    assert_eq!(legacy["severity"], 2);
    let failed = diagnostics
        .iter()
        .find(|d| d["code"] == "throws")
        .expect("the failing rule, as one warning");
    assert!(
        failed["message"].as_str().unwrap().contains("boom"),
        "{failed:#}"
    );

    // Renaming the function clears the finding as you type.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&a), "version": 2 },
                "contentChanges": [{ "range": { "start": { "line": 0, "character": 16 }, "end": { "line": 0, "character": 22 } }, "text": "" }] }),
    );
    let after = client.diagnostics_for(&uri(&a), |d| d.len() == 1);
    assert_eq!(after[0]["code"], "throws");
    assert_eq!(client.shutdown(), Some(0));
}
