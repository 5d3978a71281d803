//! Structure-aware: sessions of document edits and requests against the real server: opening
//! documents (workspace files, new ones, odd URIs), incremental changes at arbitrary positions
//! (past line ends, past the end, inside characters), hovers, code actions, pulls, watched-file
//! events and cancellations, in either position encoding, pushed or pulled.
#![no_main]

use arbitrary::Arbitrary;
use krepis_analyzer::testing::{TS_FRAGMENTS, generated_file};
use krepis_fuzz::lsp::{self, Capabilities, WORKSPACE_FILES};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

#[derive(Debug, Arbitrary)]
struct Session {
    pull: bool,
    utf8: bool,
    progress: bool,
    watch: bool,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Open {
        doc: u8,
        text: Text,
    },
    Change {
        doc: u8,
        changes: Vec<Change>,
    },
    Close {
        doc: u8,
    },
    Save {
        doc: u8,
    },
    Hover {
        doc: u8,
        at: Pos,
    },
    CodeAction {
        doc: u8,
        start: Pos,
        end: Pos,
        only: u8,
    },
    Diagnostic {
        doc: u8,
        previous: Option<u8>,
    },
    WorkspaceDiagnostic,
    Watched {
        doc: u8,
        kind: u8,
    },
    Cancel {
        back: u8,
    },
}

#[derive(Debug, Arbitrary)]
enum Text {
    /// A workspace file's text.
    Workspace(u8),
    /// A generated module (see `generated_file`).
    Generated(Vec<u8>),
    /// Fragments strung together.
    Fragments(Vec<u8>),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Change {
    range: Option<(Pos, Pos)>,
    text: Text,
}

#[derive(Debug, Arbitrary)]
struct Pos {
    line: u8,
    character: u8,
    /// Far past anything: `u32::MAX`.
    far: bool,
}

impl Pos {
    fn json(&self) -> Value {
        if self.far {
            json!({ "line": u32::MAX, "character": u32::MAX })
        } else {
            json!({ "line": self.line % 16, "character": self.character })
        }
    }
}

fn text(text: &Text) -> String {
    match text {
        Text::Workspace(i) => WORKSPACE_FILES[*i as usize % WORKSPACE_FILES.len()]
            .1
            .to_string(),
        Text::Generated(bytes) => {
            let mut at = 0;
            generated_file(
                &mut |n| {
                    let byte = bytes.get(at).copied().unwrap_or(0) as usize;
                    at += 1;
                    if n == 0 { 0 } else { byte % n }
                },
                true,
            )
        }
        Text::Fragments(bytes) => bytes
            .iter()
            .take(64)
            .map(|b| TS_FRAGMENTS[*b as usize % TS_FRAGMENTS.len()])
            .collect(),
        Text::Raw(raw) => raw.chars().take(512).collect(),
    }
}

/// Documents: the workspace's modules and settings, new modules, and URIs that are not files.
fn doc_uri(doc: u8) -> String {
    let root = lsp::workspace();
    match doc % 10 {
        i @ 0..=5 => lsp::uri(&root.join(WORKSPACE_FILES[i as usize].0)),
        6 => lsp::uri(&root.join("src/orders/application/new.ts")),
        7 => lsp::uri(&root.join("src/orders/domain/new file é.tsx")),
        8 => "untitled:Untitled-1".into(),
        _ => lsp::uri(&root.join("../elsewhere/x.ts")),
    }
}

const KINDS: [&str; 5] = [
    "",
    "quickfix",
    "source.fixAll",
    "source.fixAll.krepis",
    "refactor",
];

/// The messages of a session, with the ids of its requests.
#[derive(Default)]
struct Messages {
    payload: Vec<u8>,
    ids: Vec<u32>,
}

impl Messages {
    fn request(&mut self, method: &str, params: Value) {
        let id = self.ids.len() as u32 + 1;
        self.ids.push(id);
        self.payload.extend(lsp::frame(
            &json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
        ));
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.payload.extend(lsp::frame(
            &json!({ "jsonrpc": "2.0", "method": method, "params": params }),
        ));
    }
}

fuzz_target!(|session: Session| {
    let mut out = Messages::default();
    let mut versions = [0i32; 10];
    for op in session.ops.iter().take(24) {
        match op {
            Op::Open { doc, text: t } => {
                versions[*doc as usize % 10] = 1;
                out.notify(
                    "textDocument/didOpen",
                    json!({ "textDocument": {
                        "uri": doc_uri(*doc), "languageId": "typescript", "version": 1, "text": text(t)
                    } }),
                );
            }
            Op::Change { doc, changes } => {
                let version = &mut versions[*doc as usize % 10];
                *version += 1;
                let changes: Vec<Value> = changes
                    .iter()
                    .take(4)
                    .map(|c| match &c.range {
                        Some((start, end)) => json!({
                            "range": { "start": start.json(), "end": end.json() },
                            "text": text(&c.text),
                        }),
                        None => json!({ "text": text(&c.text) }),
                    })
                    .collect();
                out.notify(
                    "textDocument/didChange",
                    json!({
                        "textDocument": { "uri": doc_uri(*doc), "version": *version },
                        "contentChanges": changes,
                    }),
                );
            }
            Op::Close { doc } => out.notify(
                "textDocument/didClose",
                json!({ "textDocument": { "uri": doc_uri(*doc) } }),
            ),
            Op::Save { doc } => out.notify(
                "textDocument/didSave",
                json!({ "textDocument": { "uri": doc_uri(*doc) } }),
            ),
            Op::Hover { doc, at } => {
                out.request(
                    "textDocument/hover",
                    json!({ "textDocument": { "uri": doc_uri(*doc) }, "position": at.json() }),
                );
            }
            Op::CodeAction {
                doc,
                start,
                end,
                only,
            } => {
                let kind = KINDS[*only as usize % KINDS.len()];
                let only = if kind.is_empty() {
                    Value::Null
                } else {
                    json!([kind])
                };
                out.request(
                    "textDocument/codeAction",
                    json!({
                        "textDocument": { "uri": doc_uri(*doc) },
                        "range": { "start": start.json(), "end": end.json() },
                        "context": { "diagnostics": [], "only": only },
                    }),
                );
            }
            Op::Diagnostic { doc, previous } => {
                out.request(
                    "textDocument/diagnostic",
                    json!({
                        "textDocument": { "uri": doc_uri(*doc) },
                        "previousResultId": previous.map(|p| format!("{p:016x}")),
                    }),
                );
            }
            // Without previous result ids: with them, an unchanged workspace holds the request
            // open for a while by design (a long poll), which is not a hang.
            Op::WorkspaceDiagnostic => {
                out.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
            }
            Op::Watched { doc, kind } => out.notify(
                "workspace/didChangeWatchedFiles",
                json!({ "changes": [{ "uri": doc_uri(*doc), "type": 1 + kind % 3 }] }),
            ),
            Op::Cancel { back } => {
                if let Some(id) = out.ids.iter().rev().nth(*back as usize % 4).copied() {
                    out.notify("$/cancelRequest", json!({ "id": id }));
                }
            }
        }
    }
    let caps = Capabilities {
        pull: session.pull,
        utf8: session.utf8,
        progress: session.progress,
        watch: session.watch,
    };
    let ids: Vec<String> = out.ids.iter().map(u32::to_string).collect();
    let transcript = lsp::session(caps, &out.payload, &ids);
    assert!(!transcript.ended_early, "the server stopped answering");
    lsp::check_transcript(&transcript);
    for id in &out.ids {
        let response = transcript
            .responses
            .get(&id.to_string())
            .unwrap_or_else(|| panic!("request {id} got no answer"));
        lsp::check_ranges(response);
    }
});
