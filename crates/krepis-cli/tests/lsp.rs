//! The language server as an editor meets it: the real `krepis lsp` process over stdio.

mod support;

use serde_json::{Value, json};
use support::fixtures::fixture_copy;
use support::lsp_client::{LspClient, apply_lsp_edits, uri};

fn push_capabilities() -> Value {
    json!({ "window": { "workDoneProgress": true },
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } })
}

fn rules(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn open(client: &mut LspClient, path: &std::path::Path, version: i64) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(path), "languageId": "typescript", "version": version, "text": text } }),
    );
    text
}

fn change_full(client: &mut LspClient, path: &std::path::Path, version: i64, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(path), "version": version }, "contentChanges": [{ "text": text }] }),
    );
}

#[test]
fn indexing_pushes_diagnostics_and_quick_fixes_apply() {
    let dir = fixture_copy("shop");
    let root = dir.path();
    let (mut client, init) = LspClient::start(root, push_capabilities());
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(
        init["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );

    // Indexing reports progress and pushes diagnostics for files that are not open.
    client.wait_for("indexing progress end", |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    });
    let invoice = root.join("src/billing/application/invoice.ts");
    let diagnostics = client.diagnostics_for(&uri(&invoice), |d| d.len() == 2);
    assert_eq!(
        rules(&diagnostics),
        ["no-implicit-context", "explicit-context"]
    );
    let d = &diagnostics[1];
    assert_eq!(d["source"], "krepis");
    assert_eq!(d["severity"], 1);
    assert_eq!(
        d["range"],
        json!({ "start": { "line": 12, "character": 22 }, "end": { "line": 12, "character": 37 } })
    );
    assert!(
        d["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("rules/explicit-context.md")
    );

    // The quick fix of the misplaced context parameter, applied as an editor would.
    let place = root.join("src/orders/application/place_order.ts");
    let text = open(&mut client, &place, 1);
    client.diagnostics_for(&uri(&place), |d| d.len() == 2);
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&place) },
                "range": { "start": { "line": 18, "character": 9 }, "end": { "line": 18, "character": 9 } },
                "context": { "diagnostics": [] } }),
    );
    let quick_fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quickfix" && a["diagnostics"].is_array())
        .expect("a quick fix");
    // Moving the parameter changes what callers pass: offered, said to be unsafe, not preferred.
    assert_eq!(
        quick_fix["title"],
        "Move `ctx: KrepisContext` first (unsafe: check the callers)"
    );
    assert_eq!(quick_fix["isPreferred"], false);
    let edits = quick_fix["edit"]["changes"][uri(&place)]
        .as_array()
        .unwrap()
        .clone();
    let fixed = apply_lsp_edits(&text, &edits);
    assert!(fixed.contains("async retry(ctx: KrepisContext, orderId: string)"));
    change_full(&mut client, &place, 2, &fixed);
    let after = client.diagnostics_for(&uri(&place), |d| d.len() == 1);
    assert_eq!(rules(&after), ["explicit-context"]);
    assert_eq!(after[0]["range"]["start"]["line"], 24);

    // Fix-all for fix-on-save: everything fixable in the file at once.
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&place) },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "context": { "diagnostics": [], "only": ["source.fixAll.krepis"] } }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["kind"], "source.fixAll.krepis");
    let edits = actions[0]["edit"]["changes"][uri(&place)]
        .as_array()
        .unwrap()
        .clone();
    let all_fixed = apply_lsp_edits(&fixed, &edits);
    change_full(&mut client, &place, 3, &all_fixed);
    client.diagnostics_for(&uri(&place), |d| d.is_empty());

    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn cross_file_and_config_changes_recheck_what_they_affect() {
    let dir = fixture_copy("propagation");
    let root = dir.path();
    let (mut client, _) = LspClient::start(root, push_capabilities());
    let repo = root.join("src/orders/infrastructure/sql_repository.ts");
    let before = client.diagnostics_for(&uri(&repo), |d| d.len() == 2);
    assert_eq!(
        rules(&before),
        ["context-propagation", "context-propagation"]
    );

    // Editing the callee in another file (unsaved) changes the caller's diagnostics.
    let ports = root.join("src/orders/application/ports.ts");
    let text = open(&mut client, &ports, 1);
    let changed = text.replace(
        "publish(ctx: KrepisContext, topic: string",
        "publish(topic: string",
    );
    change_full(&mut client, &ports, 2, &changed);
    let after = client.diagnostics_for(&uri(&repo), |d| d.len() == 1);
    assert_eq!(
        after[0]["message"].as_str().unwrap().lines().next(),
        Some("call to `load` does not pass `ctx`")
    );

    // A new krepis.json turns the rule off: the server re-reads settings on the watched-file event.
    std::fs::write(
        root.join("krepis.json"),
        "{ \"rules\": { \"context-propagation\": \"off\" } }",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&root.join("krepis.json")), "type": 1 }] }),
    );
    client.diagnostics_for(&uri(&repo), |d| d.is_empty());

    // Hover on an import shows both layers.
    let http = root.join("src/orders/adapters/http.ts");
    open(&mut client, &http, 1);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&http) }, "position": { "line": 1, "character": 40 } }),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("layer `adapters` → layer `application`: allowed"),
        "{value}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn clients_that_pull_get_document_and_workspace_reports() {
    let dir = fixture_copy("shop");
    let root = dir.path();
    let capabilities = json!({ "textDocument": { "diagnostic": { "dynamicRegistration": false } },
                               "general": { "positionEncodings": ["utf-8", "utf-16"] } });
    let (mut client, init) = LspClient::start(root, capabilities);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(
        init["capabilities"]["diagnosticProvider"]["workspaceDiagnostics"],
        true
    );
    let pricing = root.join("src/orders/domain/pricing.ts");
    let report = client.request(
        "textDocument/diagnostic",
        json!({ "textDocument": { "uri": uri(&pricing) } }),
    );
    assert_eq!(report["kind"], "full");
    assert_eq!(
        rules(report["items"].as_array().unwrap()),
        ["layer-boundary"]
    );
    let workspace = client.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let with_problems = workspace["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["items"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(with_problems, 5);
    // Result ids: asking again with the last id gets "unchanged" instead of the same report.
    let id = report["resultId"].as_str().unwrap().to_string();
    let again = client.request(
        "textDocument/diagnostic",
        json!({ "textDocument": { "uri": uri(&pricing) }, "previousResultId": id }),
    );
    assert_eq!(again["kind"], "unchanged");
    let items = workspace["items"].as_array().unwrap();
    let mut previous: Vec<Value> = items
        .iter()
        .map(|i| json!({ "uri": i["uri"], "value": i["resultId"] }))
        .collect();
    previous.pop();
    let second = client.request(
        "workspace/diagnostic",
        json!({ "previousResultIds": previous }),
    );
    let kinds: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "full").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "unchanged").count(),
        items.len() - 1
    );
    // Nothing is pushed to a pulling client.
    assert!(
        !client
            .notifications
            .iter()
            .any(|m| m["method"] == "textDocument/publishDiagnostics")
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn hostile_input_is_answered_or_ignored_never_a_crash() {
    let dir = fixture_copy("shop");
    let root = dir.path();
    let (mut client, _) = LspClient::start(root, push_capabilities());
    let invoice = root.join("src/billing/application/invoice.ts");
    client.diagnostics_for(&uri(&invoice), |d| d.len() == 2);

    // Malformed JSON and an unknown method.
    client.send_raw("{ this is not json");
    let response = client.request_raw("krepis/noSuchMethod", json!({}));
    assert_eq!(response["error"]["code"], -32601);

    // Positions far outside the document, and a document the server never saw.
    let outside = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&invoice) },
                "range": { "start": { "line": 9999, "character": 9999 }, "end": { "line": 99999, "character": 0 } },
                "context": { "diagnostics": [] } }),
    );
    assert!(outside.as_array().unwrap().iter().all(|a| a["kind"] != "quickfix" || a["title"].as_str().unwrap().starts_with("Fix all")));
    let nowhere = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nowhere/at/all.ts" }, "position": { "line": 3, "character": 4 } }),
    );
    assert!(nowhere.is_null());
    client.request("textDocument/hover", json!({ "textDocument": { "uri": "untitled:Untitled-1" }, "position": { "line": 0, "character": 0 } }));

    // A 10 MB file, a binary one and a file outside the workspace.
    let big = root.join("src/big.ts");
    let mut text = String::from("export async function big(id: string) {}\n");
    while text.len() < 10 << 20 {
        text.push_str("export const value = [1, 2, 3].map((x) => x * 2).filter(Boolean);\n");
    }
    std::fs::write(&big, &text).unwrap();
    open(&mut client, &big, 1);
    let diagnostics = client.diagnostics_for(&uri(&big), |d| !d.is_empty());
    assert_eq!(rules(&diagnostics), ["explicit-context"]);
    let binary = root.join("src/blob.ts");
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&binary), "languageId": "typescript", "version": 1, "text": "\u{0}\u{1}\u{2}garbage\u{0}" } }),
    );
    let diagnostics = client.diagnostics_for(&uri(&binary), |d| !d.is_empty());
    assert!(rules(&diagnostics).iter().all(|r| r == "syntax-error"));
    let elsewhere = tempfile::tempdir().unwrap();
    let stray = elsewhere.path().join("stray.ts");
    std::fs::write(&stray, "export async function stray() {}\n").unwrap();
    open(&mut client, &stray, 1);
    client.diagnostics_for(&uri(&stray), |d| rules(d) == ["explicit-context"]);

    // A thousand rapid incremental edits: the final diagnostics describe the final text.
    let place = root.join("src/orders/application/place_order.ts");
    open(&mut client, &place, 1);
    for version in 2..1002 {
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(&place), "version": version },
                    "contentChanges": [{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }, "text": "//\n" }] }),
        );
    }
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&place), "version": 1002 },
                "contentChanges": [{ "text": "export async function last(id: string) {}\n" }] }),
    );
    let last = client.diagnostics_for(&uri(&place), |d| {
        d.len() == 1 && d[0]["range"]["start"]["line"] == 0
    });
    assert_eq!(
        last[0]["message"].as_str().unwrap().lines().next(),
        Some("async function `last` must take `ctx: KrepisContext` as its first parameter")
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn requests_sent_before_indexing_ends_are_answered() {
    // Requests wait until the workspace is indexed. If indexing itself waited for the client's
    // answer to `window/workDoneProgress/create` (or to the watcher registration), that answer,
    // queued behind these requests, would never be read once they fill the server's handlers.
    let dir = fixture_copy("shop");
    let root = dir.path();
    let (mut client, _) = LspClient::start(root, push_capabilities());
    let invoice = root.join("src/billing/application/invoice.ts");
    let ids: Vec<i64> = (0..16)
        .map(|_| {
            client.send_request(
                "textDocument/hover",
                json!({ "textDocument": { "uri": uri(&invoice) },
                        "position": { "line": 1, "character": 40 } }),
            )
        })
        .collect();
    let mut answered = Vec::new();
    while answered.len() < ids.len() {
        let message = client
            .try_next(std::time::Duration::from_secs(30))
            .expect("every request is answered");
        if let Some(id) = message["id"].as_i64()
            && message.get("method").is_none()
        {
            assert!(message.get("error").is_none(), "{message}");
            assert!(
                message["result"]["contents"]["value"]
                    .as_str()
                    .unwrap()
                    .contains("layer `application` → layer `domain`: allowed"),
                "{message}"
            );
            answered.push(id);
        }
    }
    answered.sort();
    assert_eq!(answered, ids);
    assert_eq!(client.shutdown(), Some(0));
}

/// In a monorepo, the editor sees findings across workspace packages (resolved by name to their
/// source), and an edit in one package rechecks what it changes in another.
#[test]
fn workspace_packages_are_checked_across_packages_as_you_type() {
    let dir = fixture_copy("monorepo");
    let root = dir.path();
    let (mut client, _) = LspClient::start(root, push_capabilities());
    client.wait_for("indexing progress end", |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    });
    let place = root.join("packages/orders-application/src/place-order.ts");
    let http = root.join("packages/orders-adapters/src/http.ts");
    let found = client.diagnostics_for(&uri(&place), |d| d.len() == 2);
    assert_eq!(rules(&found), ["layer-boundary", "layer-boundary"]);
    assert!(
        found[1]["message"]
            .as_str()
            .unwrap()
            .contains("must not import layer `adapters`"),
        "{found:?}"
    );
    let cycle = client.diagnostics_for(&uri(&http), |d| d.len() == 1);
    assert_eq!(rules(&cycle), ["import-cycle"]);
    // The application stops importing the adapters package: the cycle across packages is gone.
    let text = open(&mut client, &place, 1);
    let edited = text
        .replace("import { notify } from \"@acme/orders-adapters\";\n", "")
        .replace("  await notify(ctx, priceOf(order).cents);\n", "");
    change_full(&mut client, &place, 2, &edited);
    let found = client.diagnostics_for(&uri(&place), |d| d.len() == 1);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("not one of its entry points"),
        "{found:?}"
    );
    client.diagnostics_for(&uri(&http), |d| d.is_empty());
}
