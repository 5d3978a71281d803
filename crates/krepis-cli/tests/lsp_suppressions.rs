//! Suppressions in the editor: the "suppress" quick fixes, the removal of an unused suppression,
//! and what the server reports about them as the user types.

mod support;

use serde_json::{Value, json};
use support::fixtures::fixture_copy;
use support::lsp_client::{LspClient, apply_lsp_edits, uri};

fn rules(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn actions_at(
    client: &mut LspClient,
    path: &std::path::Path,
    line: u32,
    character: u32,
) -> Vec<Value> {
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(path) },
                "range": { "start": { "line": line, "character": character }, "end": { "line": line, "character": character } },
                "context": { "diagnostics": [] } }),
    );
    actions.as_array().cloned().unwrap_or_default()
}

fn edit_of(action: &Value, path: &std::path::Path) -> Vec<Value> {
    action["edit"]["changes"][uri(path)]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn suppress_actions_write_a_comment_the_rules_then_hold_to() {
    let dir = fixture_copy("suppressions");
    let root = dir.path();
    let (mut client, _) = LspClient::start(root, json!({}));
    let place = root.join("src/orders/application/place-order.ts");
    let text = std::fs::read_to_string(&place).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&place), "languageId": "typescript", "version": 1, "text": text } }),
    );
    let diagnostics = client.diagnostics_for(&uri(&place), |d| d.len() == 4);
    assert_eq!(
        rules(&diagnostics),
        [
            "layer-boundary",
            "invalid-suppression",
            "explicit-context",
            "unused-suppression"
        ]
    );

    // On the layer-boundary finding (line 4): a suppression of it, above the import.
    let actions = actions_at(&mut client, &place, 3, 30);
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(
        titles.contains(&"Suppress `layer-boundary` on this line"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Suppress `layer-boundary` in this file"),
        "{titles:?}"
    );
    let on_line = actions
        .iter()
        .find(|a| a["title"] == "Suppress `layer-boundary` on this line")
        .unwrap();
    assert_eq!(on_line["isPreferred"], false);
    let suppressed = apply_lsp_edits(&text, &edit_of(on_line, &place));
    assert!(
        suppressed.contains(
            "// krepis-ignore-next-line layer-boundary -- TODO: reason\nimport { loadOrder }"
        ),
        "{suppressed}"
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&place), "version": 2 }, "contentChanges": [{ "text": suppressed }] }),
    );
    // The finding is gone; the placeholder reason is reported until it is replaced.
    let after = client.diagnostics_for(&uri(&place), |d| {
        !d.iter().any(|d| d["code"] == "layer-boundary")
    });
    assert_eq!(
        rules(&after),
        [
            "invalid-suppression",
            "invalid-suppression",
            "explicit-context",
            "unused-suppression"
        ]
    );
    assert!(
        after[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("this suppression's reason is still the placeholder"),
        "{after:?}"
    );
    let reasoned = suppressed.replace("TODO: reason", "the store moves behind a port in ADR-12");

    // The unused suppression on `archiveOrder`'s line: its quick fix removes the comment only.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&place), "version": 3 }, "contentChanges": [{ "text": reasoned }] }),
    );
    let now = client.diagnostics_for(&uri(&place), |d| d.len() == 3);
    let unused = now
        .iter()
        .find(|d| d["code"] == "unused-suppression")
        .unwrap();
    let line = unused["range"]["start"]["line"].as_u64().unwrap() as u32;
    let character = unused["range"]["start"]["character"].as_u64().unwrap() as u32;
    let actions = actions_at(&mut client, &place, line, character + 3);
    let remove = actions
        .iter()
        .find(|a| a["title"] == "remove the unused suppression")
        .expect("the removal quick fix");
    assert_eq!(remove["isPreferred"], true);
    let removed = apply_lsp_edits(&reasoned, &edit_of(remove, &place));
    assert!(
        removed.contains("export async function archiveOrder(id: string): Promise<void> {\n"),
        "{removed}"
    );
    assert_eq!(
        removed.len(),
        reasoned.len() - " // krepis-ignore-next-line explicit-context -- wrong line".len()
    );
    // No suppression is offered for findings about suppressions.
    assert!(!actions.iter().any(|a| {
        a["title"]
            .as_str()
            .is_some_and(|t| t.contains("Suppress `unused-suppression`"))
    }));
    assert_eq!(client.shutdown(), Some(0));
}
