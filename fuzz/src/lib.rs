//! Shared pieces of the fuzz targets: an in-memory LSP client that drives the real language
//! server (`krepis_lsp::serve`) over pipes, with a small workspace on disk.

pub mod lsp {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;
    use std::time::Duration;

    use serde_json::{Value, json};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::sync::mpsc;

    /// How long one session may take before it counts as a hang.
    pub const SESSION_LIMIT: Duration = Duration::from_secs(10);

    /// The id of the request every session ends with.
    pub const FINAL_ID: &str = "krepis-fuzz-final";

    /// One runtime for every session, set up as `krepis lsp` sets up its own.
    pub fn runtime() -> &'static tokio::runtime::Runtime {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(krepis_analyzer::facts::ANALYSIS_STACK_BYTES)
                .enable_all()
                .build()
                .expect("a Tokio runtime")
        })
    }

    /// The files of the workspace every session opens (relative path, text).
    pub const WORKSPACE_FILES: [(&str, &str); 6] = [
        (
            "krepis.json",
            "{\n  // defaults, plus a rule with options\n  \"rules\": { \"explicit-context\": [\"error\", { \"checkInlineCallbacks\": true }], },\n}\n",
        ),
        (
            "tsconfig.json",
            "{ \"compilerOptions\": { \"baseUrl\": \".\", \"paths\": { \"~/*\": [\"src/*\"] } } }\n",
        ),
        (
            "src/orders/domain/order.ts",
            "import type { KrepisContext } from \"@krepis/core\";\nexport interface OrderStore {\n  load(ctx: KrepisContext, id: string): Promise<string>;\n}\nexport const stamp = () => Date.now();\n",
        ),
        (
            "src/orders/application/place_order.ts",
            "import type { OrderStore } from \"../domain/order\";\nimport { AsyncLocalStorage } from \"node:async_hooks\";\nimport { send } from \"../adapters/http\";\n\nexport async function place(store: OrderStore, id: string) {\n  return store.load(id);\n}\n",
        ),
        (
            "src/orders/adapters/http.ts",
            "import type { KrepisContext } from \"@krepis/core\";\nimport { place } from \"~/orders/application/place_order\";\nexport async function send(ctx: KrepisContext, id: string) {\n  await place(id);\n  app.get(\"/\", async (req) => place(req));\n}\n",
        ),
        (
            "src/orders/application/commands/cancel.ts",
            "export class CancelCommandHandler {\n  async handle(ctx: KrepisContext): Promise<number> { return 1; }\n}\n",
        ),
    ];

    /// The workspace folder: `krepis-fuzz-lsp` in the temporary folder (a fixed path, so seeds
    /// can name its files).
    pub fn workspace() -> &'static Path {
        static ROOT: OnceLock<PathBuf> = OnceLock::new();
        ROOT.get_or_init(|| {
            let root = std::env::temp_dir().join("krepis-fuzz-lsp");
            for (path, text) in WORKSPACE_FILES {
                let path = root.join(path);
                if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
                    std::fs::create_dir_all(path.parent().expect("a parent folder"))
                        .expect("a temporary folder");
                    std::fs::write(&path, text).expect("a temporary file");
                }
            }
            root
        })
    }

    /// `file://` URI of a path.
    pub fn uri(path: &Path) -> String {
        format!("file://{}", path.display())
    }

    /// One message in LSP framing.
    pub fn frame(message: &Value) -> Vec<u8> {
        let body = message.to_string();
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }

    /// Splits well-formed frames (`Content-Length` header, blank line, JSON body); `Err` says
    /// what is wrong with the first frame that is not.
    pub fn parse_frames(mut bytes: &[u8]) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let end = bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .ok_or("headers without an end")?;
            let headers = std::str::from_utf8(&bytes[..end]).map_err(|_| "headers not UTF-8")?;
            let length: usize = headers
                .strip_prefix("Content-Length: ")
                .ok_or_else(|| format!("unexpected headers {headers:?}"))?
                .parse()
                .map_err(|_| format!("bad length in {headers:?}"))?;
            let body = bytes
                .get(end + 4..end + 4 + length)
                .ok_or("a body shorter than its length")?;
            out.push(serde_json::from_slice(body).map_err(|e| format!("body not JSON: {e}"))?);
            bytes = &bytes[end + 4 + length..];
        }
        Ok(out)
    }

    /// What a client announces it can do.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Capabilities {
        /// Pulls diagnostics (`textDocument/diagnostic`) instead of taking pushes.
        pub pull: bool,
        /// Counts columns in UTF-8 bytes instead of UTF-16 units.
        pub utf8: bool,
        pub progress: bool,
        pub watch: bool,
    }

    fn initialize(root: &Path, caps: Capabilities) -> Value {
        let mut capabilities = json!({
            "general": { "positionEncodings": if caps.utf8 { json!(["utf-8", "utf-16"]) } else { json!(["utf-16"]) } },
            "window": { "workDoneProgress": caps.progress },
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": caps.watch } },
            "textDocument": {},
        });
        if caps.pull {
            capabilities["textDocument"]["diagnostic"] = json!({ "dynamicRegistration": false });
        }
        json!({
            "jsonrpc": "2.0", "id": "init", "method": "initialize",
            "params": {
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{ "uri": uri(root), "name": "fuzz" }],
                "capabilities": capabilities,
            }
        })
    }

    /// Everything the server sent in one session.
    #[derive(Debug, Default)]
    pub struct Transcript {
        /// Responses to the client's requests, by id (as JSON text).
        pub responses: HashMap<String, Value>,
        /// Notifications (diagnostics, log messages, progress).
        pub notifications: Vec<Value>,
        /// Requests the server made of the client (all answered with `null`).
        pub server_requests: usize,
        /// The server ended the session itself (an `exit` it was sent).
        pub ended_early: bool,
    }

    async fn read_frame(
        input: &mut (impl tokio::io::AsyncBufRead + Unpin),
    ) -> std::io::Result<Option<Value>> {
        let mut length = None;
        loop {
            let mut line = String::new();
            if input.read_line(&mut line).await? == 0 {
                return Ok(None);
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse::<usize>().ok();
            }
        }
        let length = length.expect("the server framed a message without Content-Length");
        let mut body = vec![0; length];
        input.read_exact(&mut body).await?;
        Ok(Some(
            serde_json::from_slice(&body).expect("the server sent a body that is not JSON"),
        ))
    }

    /// Runs one session against a fresh server: `initialize` (answered before anything else is
    /// sent) and `initialized`, then `payload` (whole frames), then a final `shutdown` request
    /// whose answer is awaited, then `exit`. Panics when the session takes longer than
    /// [`SESSION_LIMIT`] or the server misbehaves on the wire.
    ///
    /// The final request waits until every id in `answered_first` (JSON text of the ids) has its
    /// answer: the server may answer `shutdown` before requests sent earlier, and drops what is
    /// still running at `exit`.
    pub fn session(caps: Capabilities, payload: &[u8], answered_first: &[String]) -> Transcript {
        let root = workspace();
        let payload = payload.to_vec();
        let mut waiting: std::collections::HashSet<String> =
            answered_first.iter().cloned().collect();
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let log = events.clone();
        let note = move |event: String| log.lock().expect("event log").push(event);
        runtime().block_on(async move {
            let run = async move {
                let (client, server) = tokio::io::duplex(1 << 16);
                let (server_read, server_write) = tokio::io::split(server);
                let server = tokio::spawn(krepis_lsp::serve(server_read, server_write));
                let (client_read, mut client_write) = tokio::io::split(client);

                let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
                let writer = tokio::spawn(async move {
                    while let Some(bytes) = out_rx.recv().await {
                        if client_write.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                    let _ = client_write.shutdown().await;
                });

                let (response_tx, mut response_rx) = mpsc::unbounded_channel::<(String, Value)>();
                let answers = out_tx.clone();
                let reader_note = note.clone();
                let reader = tokio::spawn(async move {
                    let mut input = BufReader::new(client_read);
                    let mut notifications = Vec::new();
                    let mut server_requests = 0;
                    while let Some(message) = read_frame(&mut input).await.expect("readable pipe") {
                        let text = message.to_string();
                        reader_note(format!("received {}", &text[..text.len().min(160)]));
                        assert_eq!(message["jsonrpc"], "2.0", "{message}");
                        match (message.get("id"), message.get("method")) {
                            (Some(id), Some(_)) => {
                                server_requests += 1;
                                let answer = json!({ "jsonrpc": "2.0", "id": id, "result": null });
                                let _ = answers.send(frame(&answer));
                            }
                            (Some(id), None) => {
                                let _ = response_tx.send((id.to_string(), message));
                            }
                            (None, Some(_)) => notifications.push(message),
                            (None, None) => panic!("the server sent {message}"),
                        }
                    }
                    (notifications, server_requests)
                });

                let mut transcript = Transcript::default();
                let _ = out_tx.send(frame(&initialize(root, caps)));
                note("sent initialize".into());
                let mut final_seen = false;
                let mut initialized = false;
                let shutdown = frame(&json!({
                    "jsonrpc": "2.0", "id": FINAL_ID, "method": "shutdown"
                }));
                while let Some((id, message)) = response_rx.recv().await {
                    transcript.responses.insert(id.clone(), message);
                    if id == "\"init\"" {
                        let _ = out_tx.send(frame(
                            &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }),
                        ));
                        let _ = out_tx.send(payload.clone());
                        note("sent the payload".into());
                        initialized = true;
                        if waiting.is_empty() {
                            let _ = out_tx.send(shutdown.clone());
                        }
                    } else if initialized && waiting.remove(&id) && waiting.is_empty() {
                        let _ = out_tx.send(shutdown.clone());
                        note("sent the final request".into());
                    }
                    if id == format!("\"{FINAL_ID}\"") {
                        final_seen = true;
                        break;
                    }
                }
                transcript.ended_early = !final_seen;
                note(format!("final answer seen: {final_seen}"));
                let _ = out_tx.send(frame(&json!({ "jsonrpc": "2.0", "method": "exit" })));
                drop(out_tx);
                server.await.expect("the server task");
                note("server ended".into());
                // Whatever was still queued is answered or dropped; the reader ends with the pipe.
                while let Ok((id, message)) = response_rx.try_recv() {
                    transcript.responses.insert(id, message);
                }
                let (notifications, server_requests) = reader.await.expect("the reader task");
                note("reader ended".into());
                transcript.notifications = notifications;
                transcript.server_requests = server_requests;
                let _ = writer.await;
                transcript
            };
            match tokio::time::timeout(SESSION_LIMIT, run).await {
                Ok(transcript) => transcript,
                Err(_) => panic!(
                    "the language server session did not end within {SESSION_LIMIT:?}; events:\n{}",
                    events.lock().expect("event log").join("\n")
                ),
            }
        })
    }

    /// Checks what every session must show: the server survived (answered the final request
    /// unless told to exit first), and no analysis or update failed along the way.
    pub fn check_transcript(transcript: &Transcript) {
        for message in &transcript.notifications {
            if message["method"] == "window/logMessage" || message["method"] == "window/showMessage"
            {
                let text = message["params"]["message"].as_str().unwrap_or_default();
                assert!(
                    !text.contains("failed"),
                    "the server reported a failure: {text}"
                );
            }
            if message["method"] == "textDocument/publishDiagnostics" {
                check_ranges(&message["params"]["diagnostics"]);
            }
        }
        for response in transcript.responses.values() {
            assert!(
                response.get("result").is_some() != response.get("error").is_some(),
                "a response needs a result or an error: {response}"
            );
        }
    }

    /// Every range in `value` (any nesting) starts no later than it ends.
    pub fn check_ranges(value: &Value) {
        match value {
            Value::Object(map) => {
                if let (Some(start), Some(end)) = (map.get("start"), map.get("end"))
                    && let (Some(a), Some(b)) = (position(start), position(end))
                {
                    assert!(a <= b, "a range that ends before it starts: {value}");
                }
                map.values().for_each(check_ranges);
            }
            Value::Array(items) => items.iter().for_each(check_ranges),
            _ => {}
        }
    }

    fn position(value: &Value) -> Option<(u64, u64)> {
        Some((
            value.get("line")?.as_u64()?,
            value.get("character")?.as_u64()?,
        ))
    }
}
