//! The language server under load: eight editors' worth of interleaved edits and requests on one
//! connection to the real `krepis lsp`, for a minute (`KREPIS_LSP_SOAK_SECS` shortens it for
//! local runs). Every request must get exactly one answer, with its id and of the right shape,
//! and when the storm is over every document's diagnostics must be what `krepis check` reports
//! for the same final texts on disk.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use krepis_analyzer::line_index::{ColumnUnit, LineIndex, Position};
use serde_json::{Value, json};
use support::lsp_client::{LspClient, uri};

const CLIENTS: usize = 8;
const SEED: u64 = 0x6b72_6570_6973_2021;
/// Requests in flight before the clients wait for answers.
const MAX_IN_FLIGHT: usize = 48;
/// With no answer at all for this long, the server is stuck.
const STUCK: Duration = Duration::from_secs(90);

/// xorshift64*: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

struct Doc {
    path: PathBuf,
    uri: String,
    /// What the client's buffer holds (the disk's text while closed).
    text: String,
    /// What is saved on disk.
    disk: String,
    open: bool,
    version: i64,
}

fn layer_files(k: usize) -> [(String, String); 3] {
    [
        (
            format!("src/c{k}/domain/model.ts"),
            "import type { Id } from \"../../shared/domain/ids.ts\";\nexport interface Model { id: Id }\nexport async function loadModel(id: Id): Promise<Model> {\n  return { id };\n}\n".to_string(),
        ),
        (
            format!("src/c{k}/application/service.ts"),
            "import type { KrepisContext } from \"@krepis/core\";\nimport { loadModel } from \"../domain/model.ts\";\nexport async function serve(ctx: KrepisContext, id: string) {\n  return await loadModel(id);\n}\n".to_string(),
        ),
        (
            format!("src/c{k}/infrastructure/store.ts"),
            "import { serve } from \"../application/service.ts\";\nexport async function persist(id: string) {\n  await serve(id as never, id);\n}\n".to_string(),
        ),
    ]
}

/// Files on disk that no client opens.
const SHARED: [(&str, &str); 2] = [
    (
        "src/shared/domain/ids.ts",
        "export type Id = string;\nexport function newId(): Id {\n  return \"x\";\n}\n",
    ),
    (
        "src/shared/application/clock.ts",
        "import { AsyncLocalStorage } from \"node:async_hooks\";\nexport const store = new AsyncLocalStorage();\n",
    ),
];

/// What the clients type: code that adds or removes violations (within the file and across
/// files), half constructs that break the parse, and every kind of line break and wide character.
fn snippet(rng: &mut Rng) -> String {
    let other = rng.below(CLIENTS);
    let pieces: [&str; 24] = [
        "export async function f(id: string) {}\n",
        "import { serve } from \"../application/service.ts\";\n",
        "import { persist } from \"../infrastructure/store.ts\";\n",
        "import { loadModel } from \"../../cOTHER/domain/model.ts\";\n",
        "import { persist as p2 } from \"../../cOTHER/infrastructure/store.ts\";\n",
        "const t = Date.now();\n",
        "await serve(ctx, id);\n",
        "new AsyncLocalStorage();\n",
        "export function g(ctx: KrepisContext) { return persist(\"x\"); }\n",
        "(",
        ")",
        "{",
        "}",
        "`${",
        "\"",
        "//",
        "/*",
        "\n",
        "\r\n",
        "\r",
        "\u{2028}",
        "😀",
        "é",
        "",
    ];
    pieces[rng.below(pieces.len())].replace("OTHER", &other.to_string())
}

/// A position somewhere in `text`, sometimes past the end of its line or of the text.
fn position(rng: &mut Rng, text: &str) -> (u32, u32) {
    let index = LineIndex::new(text);
    let lines = index.line_count() as u32;
    let line = if rng.chance(5) {
        lines + rng.below(5) as u32
    } else {
        rng.below(lines as usize) as u32
    };
    let width = index
        .line_range(text, line)
        .map_or(0, |r| text[r].encode_utf16().count() as u32);
    let character = if rng.chance(5) {
        width + 1 + rng.below(1000) as u32
    } else {
        rng.below(width as usize + 1) as u32
    };
    (line, character)
}

fn lsp_position(p: (u32, u32)) -> Value {
    json!({ "line": p.0, "character": p.1 })
}

/// Applies one incremental change as the protocol defines it (a position past the end of its
/// line means the end of the line, a line past the end means the end of the text).
fn apply_change(text: &mut String, start: (u32, u32), end: (u32, u32), new: &str) {
    let index = LineIndex::new(text);
    let offset = |(line, column): (u32, u32)| {
        index
            .offset(text, Position { line, column }, ColumnUnit::Utf16)
            .unwrap_or(text.len() as u32) as usize
    };
    let (a, b) = (offset(start), offset(end));
    text.replace_range(a.min(b)..a.max(b), new);
}

/// What a request expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Hover,
    CodeAction,
    Diagnostic,
    WorkspaceDiagnostic,
    MethodNotFound,
}

struct Pending {
    expect: Expect,
    /// `$/cancelRequest` was sent for it: "cancelled" is then an answer too.
    cancelled: bool,
    uri: String,
}

#[derive(Default, Debug)]
struct Stats {
    requests: BTreeMap<&'static str, usize>,
    did_change: usize,
    content_changes: usize,
    opens: usize,
    closes: usize,
    saves: usize,
    cancels: usize,
    answered_cancelled: usize,
    server_cancelled: usize,
    full_reports_without_id: usize,
}

fn check_answer(pending: &Pending, message: &Value, stats: &mut Stats) -> Result<(), String> {
    if let Some(error) = message.get("error") {
        let code = error["code"].as_i64();
        return match (pending.expect, code) {
            (Expect::MethodNotFound, Some(-32601)) => Ok(()),
            // A pull outdated by an edit: the server asks the client to pull again.
            (Expect::Diagnostic, Some(-32802)) if error["data"]["retriggerRequest"] == true => {
                stats.server_cancelled += 1;
                Ok(())
            }
            (_, Some(-32800))
                if pending.cancelled || pending.expect == Expect::WorkspaceDiagnostic =>
            {
                stats.answered_cancelled += 1;
                Ok(())
            }
            _ => Err("an unexpected error".into()),
        };
    }
    let result = &message["result"];
    match pending.expect {
        Expect::MethodNotFound => Err("a result for a method the server does not have".into()),
        Expect::Hover if result.is_null() => Ok(()),
        Expect::Hover => {
            let value = result["contents"]["value"]
                .as_str()
                .ok_or("hover without contents")?;
            value
                .starts_with("**krepis**")
                .then_some(())
                .ok_or_else(|| "hover of another kind".into())
        }
        Expect::CodeAction if result.is_null() => Ok(()),
        Expect::CodeAction => {
            for action in result.as_array().ok_or("code actions not a list")? {
                action["title"]
                    .as_str()
                    .ok_or("an action without a title")?;
                let kind = action["kind"].as_str().ok_or("an action without a kind")?;
                if kind.starts_with("refactor") {
                    // Generators: new files and edits elsewhere, or only a title saying why not.
                    continue;
                }
                // Fixes edit the document they were asked for, and only it.
                let changes = action["edit"]["changes"]
                    .as_object()
                    .ok_or("a fix without edits")?;
                if changes.len() != 1 || !changes.contains_key(&pending.uri) {
                    return Err("a fix editing another document".into());
                }
            }
            Ok(())
        }
        Expect::Diagnostic => match result["kind"].as_str() {
            Some("full") => {
                let items = result["items"].as_array().ok_or("a report without items")?;
                if result["resultId"].is_null() {
                    stats.full_reports_without_id += 1;
                }
                for item in items {
                    if item["source"] != "krepis" || !item["code"].is_string() {
                        return Err("a diagnostic without source or code".into());
                    }
                }
                Ok(())
            }
            Some("unchanged") if result["resultId"].is_string() => Ok(()),
            _ => Err("not a document diagnostic report".into()),
        },
        Expect::WorkspaceDiagnostic => result["items"]
            .as_array()
            .map(|_| ())
            .ok_or_else(|| "not a workspace report".into()),
    }
}

/// Everything a client sees of one diagnostic, in 0-based UTF-16 positions.
type Seen = (String, u64, u64, u64, u64, u64, String);

fn from_lsp(item: &Value) -> Seen {
    let p = |v: &Value| v.as_u64().unwrap();
    let range = &item["range"];
    (
        item["code"].as_str().unwrap().to_string(),
        p(&range["start"]["line"]),
        p(&range["start"]["character"]),
        p(&range["end"]["line"]),
        p(&range["end"]["character"]),
        p(&item["severity"]),
        // The note follows the message on its own line.
        item["message"]
            .as_str()
            .unwrap()
            .split('\n')
            .next()
            .unwrap()
            .to_string(),
    )
}

fn from_json(d: &Value) -> Seen {
    let p = |v: &Value| v.as_u64().unwrap() - 1;
    let severity = match d["severity"].as_str().unwrap() {
        "error" => 1,
        "warning" => 2,
        _ => 3,
    };
    (
        d["rule"].as_str().unwrap().to_string(),
        p(&d["line"]),
        p(&d["column"]),
        p(&d["end_line"]),
        p(&d["end_column"]),
        severity,
        d["message"].as_str().unwrap().to_string(),
    )
}

/// Sends a request without waiting, recording what it expects.
fn send(
    client: &mut LspClient,
    pending: &mut HashMap<i64, Pending>,
    stats: &mut Stats,
    uri: &str,
    method: &'static str,
    params: Value,
    expect: Expect,
) -> i64 {
    let id = client.send_request(method, params);
    *stats.requests.entry(method).or_default() += 1;
    pending.insert(
        id,
        Pending {
            expect,
            cancelled: false,
            uri: uri.to_string(),
        },
    );
    id
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn eight_clients_of_edits_and_requests_for_a_minute() {
    let seconds: u64 = std::env::var("KREPIS_LSP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (path, text) in SHARED {
        write(root, path, text);
    }
    let mut docs: Vec<Doc> = Vec::new();
    let mut owned: Vec<Vec<usize>> = Vec::new();
    for k in 0..CLIENTS {
        let mut mine = Vec::new();
        for (path, text) in layer_files(k) {
            write(root, &path, &text);
            mine.push(docs.len());
            docs.push(Doc {
                uri: uri(&root.join(&path)),
                path: root.join(&path),
                disk: text.clone(),
                text,
                open: false,
                version: 0,
            });
        }
        owned.push(mine);
    }

    let capabilities = json!({ "textDocument": { "diagnostic": { "dynamicRegistration": false } },
                               "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let (mut client, _) = LspClient::start(root, capabilities);

    // A server that stops reading leaves the test blocked in a write: the watchdog ends it.
    let progress = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let watchdog = {
        let (progress, finished, pid) = (progress.clone(), finished.clone(), client.pid());
        std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                let last = Duration::from_millis(progress.load(Ordering::SeqCst));
                if started.elapsed() > last + STUCK {
                    let _ = std::process::Command::new("kill")
                        .arg(pid.to_string())
                        .status();
                    return true;
                }
            }
            false
        })
    };
    let mark = || progress.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);

    let mut rngs: Vec<Rng> = (0..CLIENTS)
        .map(|k| Rng::new(SEED ^ (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect();
    let mut scheduler = Rng::new(SEED);
    let mut pending: HashMap<i64, Pending> = HashMap::new();
    let mut answered: HashMap<i64, usize> = HashMap::new();
    let mut stats = Stats::default();
    let mut unexpected: Vec<String> = Vec::new();

    let mut handle = |message: Value,
                      pending: &mut HashMap<i64, Pending>,
                      stats: &mut Stats,
                      unexpected: &mut Vec<String>| {
        mark();
        if message.get("method").is_some() {
            // Notifications and the server's own requests (already answered).
            let method = message["method"].as_str().unwrap_or("");
            if method == "textDocument/publishDiagnostics" {
                unexpected.push("diagnostics pushed to a client that pulls".into());
            }
            if method == "window/logMessage" && message["params"]["type"] == 1 {
                unexpected.push(format!("server error: {}", message["params"]["message"]));
            }
            return;
        }
        let Some(id) = message["id"].as_i64() else {
            unexpected.push(format!("a response without a numeric id: {message}"));
            return;
        };
        *answered.entry(id).or_default() += 1;
        match pending.remove(&id) {
            Some(request) => {
                if let Err(why) = check_answer(&request, &message, stats) {
                    unexpected.push(format!("{:?} #{id}: {why}: {message}", request.expect));
                }
            }
            None => unexpected.push(format!("an answer to no pending request: {message}")),
        }
    };

    let deadline = started + Duration::from_secs(seconds);
    mark();
    while Instant::now() < deadline && unexpected.is_empty() {
        let k = scheduler.below(CLIENTS);
        let rng = &mut rngs[k];
        let d = owned[k][rng.below(owned[k].len())];
        let doc = &mut docs[d];
        if !doc.open {
            doc.open = true;
            doc.version += 1;
            doc.text = doc.disk.clone();
            client.notify(
                "textDocument/didOpen",
                json!({ "textDocument": { "uri": doc.uri, "languageId": "typescript", "version": doc.version, "text": doc.text } }),
            );
            stats.opens += 1;
        } else {
            let roll = rng.below(100);
            let text_document = json!({ "uri": doc.uri });
            let uri = doc.uri.clone();
            let mut request =
                |client: &mut LspClient, method: &'static str, params: Value, expect: Expect| {
                    send(
                        client,
                        &mut pending,
                        &mut stats,
                        &uri,
                        method,
                        params,
                        expect,
                    )
                };
            match roll {
                0..=44 => {
                    // One to three incremental changes in one notification, or now and then the
                    // whole text at once.
                    let mut changes = Vec::new();
                    if rng.chance(3) || doc.text.len() > 4000 {
                        doc.text = doc.disk.clone();
                        changes.push(json!({ "text": doc.text }));
                    } else {
                        for _ in 0..1 + rng.below(3) {
                            let start = position(rng, &doc.text);
                            let end = if rng.chance(50) {
                                start
                            } else {
                                let far = position(rng, &doc.text);
                                if far < start {
                                    (start.0, start.1 + rng.below(8) as u32)
                                } else {
                                    far
                                }
                            };
                            let new = snippet(rng);
                            apply_change(&mut doc.text, start, end, &new);
                            changes.push(json!({ "range": { "start": lsp_position(start), "end": lsp_position(end) }, "text": new }));
                        }
                    }
                    doc.version += 1;
                    stats.did_change += 1;
                    stats.content_changes += changes.len();
                    client.notify(
                        "textDocument/didChange",
                        json!({ "textDocument": { "uri": doc.uri, "version": doc.version }, "contentChanges": changes }),
                    );
                }
                45..=56 => {
                    let at = position(rng, &doc.text);
                    let id = request(
                        &mut client,
                        "textDocument/hover",
                        json!({ "textDocument": text_document, "position": lsp_position(at) }),
                        Expect::Hover,
                    );
                    if rng.chance(30) {
                        client.notify("$/cancelRequest", json!({ "id": id }));
                        pending.get_mut(&id).unwrap().cancelled = true;
                        stats.cancels += 1;
                    }
                }
                57..=68 => {
                    let (a, b) = (position(rng, &doc.text), position(rng, &doc.text));
                    request(
                        &mut client,
                        "textDocument/codeAction",
                        json!({ "textDocument": text_document,
                                "range": { "start": lsp_position(a.min(b)), "end": lsp_position(a.max(b)) },
                                "context": { "diagnostics": [] } }),
                        Expect::CodeAction,
                    );
                }
                69..=82 => {
                    request(
                        &mut client,
                        "textDocument/diagnostic",
                        json!({ "textDocument": text_document }),
                        Expect::Diagnostic,
                    );
                }
                83..=86 => {
                    request(
                        &mut client,
                        "textDocument/documentSymbol",
                        json!({ "textDocument": text_document }),
                        Expect::MethodNotFound,
                    );
                }
                87..=88 => {
                    request(
                        &mut client,
                        "krepis/noSuchRequest",
                        json!({ "textDocument": text_document }),
                        Expect::MethodNotFound,
                    );
                }
                89 => {
                    request(
                        &mut client,
                        "workspace/diagnostic",
                        json!({ "previousResultIds": [] }),
                        Expect::WorkspaceDiagnostic,
                    );
                }
                90..=94 => {
                    // Save: the buffer goes to disk, as the editor and the file watcher report.
                    std::fs::write(&doc.path, &doc.text).unwrap();
                    doc.disk = doc.text.clone();
                    client.notify(
                        "textDocument/didSave",
                        json!({ "textDocument": text_document }),
                    );
                    client.notify(
                        "workspace/didChangeWatchedFiles",
                        json!({ "changes": [{ "uri": doc.uri, "type": 2 }] }),
                    );
                    stats.saves += 1;
                }
                _ => {
                    // Close without saving: the disk is the truth again.
                    doc.open = false;
                    doc.text = doc.disk.clone();
                    client.notify(
                        "textDocument/didClose",
                        json!({ "textDocument": text_document }),
                    );
                    stats.closes += 1;
                }
            }
        }
        while let Some(message) = client.try_next(Duration::ZERO) {
            handle(message, &mut pending, &mut stats, &mut unexpected);
        }
        while pending.len() > MAX_IN_FLIGHT {
            let message = client
                .try_next(STUCK)
                .expect("the server stopped answering");
            handle(message, &mut pending, &mut stats, &mut unexpected);
        }
    }
    // Every request still in flight gets its answer.
    while !pending.is_empty() && unexpected.is_empty() {
        let message = client.try_next(STUCK).unwrap_or_else(|| {
            panic!(
                "{} requests never answered: {:?}",
                pending.len(),
                pending.keys().collect::<Vec<_>>()
            )
        });
        handle(message, &mut pending, &mut stats, &mut unexpected);
    }
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    let twice: Vec<_> = answered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "answered more than once: {twice:?}");

    // The storm is over: the final texts go to disk, and each document's diagnostics, pulled
    // now, must be what `krepis check` finds in them.
    for doc in &docs {
        std::fs::write(&doc.path, &doc.text).unwrap();
    }
    let mut from_server: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    let all: Vec<PathBuf> = docs
        .iter()
        .map(|d| d.path.clone())
        .chain(SHARED.iter().map(|(p, _)| root.join(p)))
        .collect();
    for path in &all {
        // A change still being applied cancels an analysis (the server answers ServerCancelled
        // with `retriggerRequest`): ask again until the answer is a real one.
        let mut report = Value::Null;
        for _ in 0..100 {
            let response = client.request_raw(
                "textDocument/diagnostic",
                json!({ "textDocument": { "uri": uri(path) } }),
            );
            if let Some(error) = response.get("error") {
                assert_eq!(error["code"], -32802, "{response}");
                assert_eq!(error["data"]["retriggerRequest"], true, "{response}");
            } else {
                report = response["result"].clone();
                if !report["resultId"].is_null() {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(report["kind"], "full", "{report}");
        assert!(report["resultId"].is_string(), "{report}");
        let mut seen: Vec<Seen> = report["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(from_lsp)
            .collect();
        seen.sort();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        from_server.insert(relative, seen);
    }
    mark();
    let (stdout, stderr, code) =
        support::run::krepis(root, &["check", "--format", "json", "--no-cache"]);
    assert!(code == 0 || code == 1, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let mut from_check: BTreeMap<String, Vec<Seen>> = from_server
        .keys()
        .map(|k| (k.clone(), Vec::new()))
        .collect();
    for d in report["diagnostics"].as_array().unwrap() {
        from_check
            .entry(d["file"].as_str().unwrap().to_string())
            .or_default()
            .push(from_json(d));
    }
    for seen in from_check.values_mut() {
        seen.sort();
    }
    for (file, seen) in &from_server {
        assert_eq!(
            seen,
            &from_check[file],
            "{file}: the server and `krepis check` disagree; its text:\n{:?}",
            std::fs::read_to_string(root.join(file)).unwrap()
        );
    }
    assert_eq!(
        from_server.len(),
        from_check.len(),
        "files only `krepis check` reports"
    );
    let total: usize = from_check.values().map(Vec::len).sum();
    assert!(total > 0, "the final texts have diagnostics to compare");

    assert_eq!(client.shutdown(), Some(0));
    finished.store(true, Ordering::SeqCst);
    assert!(!watchdog.join().unwrap(), "the server had to be killed");
    let requests: usize = stats.requests.values().sum();
    eprintln!(
        "{seconds} s, {CLIENTS} clients: {requests} requests {:?}, {} didChange ({} changes), {} opens, {} closes, {} saves, {} cancels ({} answered as cancelled), {} pulls outdated by an edit (ServerCancelled), {} full reports without a result id; {total} diagnostics compared at the end",
        stats.requests,
        stats.did_change,
        stats.content_changes,
        stats.opens,
        stats.closes,
        stats.saves,
        stats.cancels,
        stats.answered_cancelled,
        stats.server_cancelled,
        stats.full_reports_without_id,
    );
}
