//! A small LSP client speaking JSON-RPC to the real `krepis lsp` process over stdio.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct LspClient {
    child: Child,
    /// Frames for the writer thread, which alone writes to the server's input: neither the test
    /// nor the reader thread (answering the server's requests) ever blocks on a full pipe, so a
    /// server that is busy writing cannot deadlock with a client that is busy writing.
    outgoing: Sender<String>,
    messages: Receiver<Value>,
    /// Notifications seen while waiting for something else.
    pub notifications: Vec<Value>,
    next_id: i64,
}

/// `file://` URI of a path.
pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn write_message(outgoing: &Sender<String>, body: &str) {
    // The writer is gone only when the server's input is closed; the test sees that otherwise.
    let _ = outgoing.send(format!("Content-Length: {}\r\n\r\n{body}", body.len()));
}

/// Writes queued frames to the server's input, in order, until the client is dropped.
fn writer(mut stdin: ChildStdin, frames: Receiver<String>) {
    for frame in frames {
        if stdin
            .write_all(frame.as_bytes())
            .and_then(|()| stdin.flush())
            .is_err()
        {
            return;
        }
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    match serde_json::from_slice(&body) {
        Ok(value) => Some(value),
        Err(error) => panic!(
            "the server sent a message that is not JSON ({error}): {}",
            String::from_utf8_lossy(&body)
        ),
    }
}

impl LspClient {
    /// Starts `krepis lsp` on `root` and completes the initialize handshake.
    pub fn start(root: &Path, capabilities: Value) -> (LspClient, Value) {
        Self::start_with_options(root, capabilities, Value::Null)
    }

    /// [`LspClient::start`] with `initializationOptions`.
    pub fn start_with_options(
        root: &Path,
        capabilities: Value,
        options: Value,
    ) -> (LspClient, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_krepis"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start krepis lsp");
        let (outgoing, frames) = channel();
        let stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || writer(stdin, frames));
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = channel();
        let answers = outgoing.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                // Requests from the server (progress, registrations, refresh) get an empty answer
                // at once, as an editor gives it, whatever the test is doing meanwhile.
                if message.get("method").is_some() && message.get("id").is_some() {
                    let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": null });
                    write_message(&answers, &reply.to_string());
                }
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = LspClient {
            child,
            outgoing,
            messages,
            notifications: Vec::new(),
            next_id: 1,
        };
        let result = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": uri(root), "capabilities": capabilities,
                    "initializationOptions": options,
                    "workspaceFolders": [{ "uri": uri(root), "name": "fixture" }] }),
        );
        client.notify("initialized", json!({}));
        (client, result)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send_raw(&mut self, body: &str) {
        write_message(&self.outgoing, body);
    }

    fn send(&mut self, message: Value) {
        self.send_raw(&message.to_string());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.try_next(left) {
            Some(message) => message,
            None => panic!("no message from the server in time"),
        }
    }

    /// The next message from the server (requests from it already answered), or `None` when
    /// none comes within `wait`.
    pub fn try_next(&mut self, wait: Duration) -> Option<Value> {
        match self.messages.recv_timeout(wait) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                let mut stderr = String::new();
                if let Some(mut err) = self.child.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                panic!("the server closed its output; stderr:\n{stderr}")
            }
        }
    }

    /// Sends a request without waiting for its response; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// Sends a request and waits for its response (the whole response object).
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline);
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            if message.get("id").is_none() {
                self.notifications.push(message);
            }
        }
    }

    /// Sends a request and returns its result; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Waits for a notification matching `accept` (looking at buffered ones first).
    pub fn wait_for(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.notifications.iter().position(&accept) {
            return self.notifications.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline);
            if message.get("id").is_some() {
                continue;
            }
            if accept(&message) {
                return message;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}");
            }
            self.notifications.push(message);
        }
    }

    /// The next `publishDiagnostics` for `uri` whose diagnostics satisfy `accept`.
    pub fn diagnostics_for(&mut self, uri: &str, accept: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let message = self.wait_for(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && accept(
                    m["params"]["diagnostics"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                )
        });
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `shutdown` then `exit`; returns the process's exit status code.
    pub fn shutdown(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut err) = self.child.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                assert!(
                    stderr.is_empty() || !stderr.contains("panicked"),
                    "server stderr: {stderr}"
                );
                return status.code();
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Applies LSP text edits (UTF-16 positions) to `text`.
pub fn apply_lsp_edits(text: &str, edits: &[Value]) -> String {
    use krepis_analyzer::diagnostic::{TextEdit, TextRange, apply_edits};
    use krepis_analyzer::line_index::{ColumnUnit, LineIndex, Position};
    let index = LineIndex::new(text);
    let offset = |p: &Value| {
        let position = Position {
            line: p["line"].as_u64().unwrap() as u32,
            column: p["character"].as_u64().unwrap() as u32,
        };
        index
            .offset(text, position, ColumnUnit::Utf16)
            .unwrap_or(text.len() as u32)
    };
    let edits: Vec<TextEdit> = edits
        .iter()
        .map(|e| TextEdit {
            range: TextRange::new(offset(&e["range"]["start"]), offset(&e["range"]["end"])),
            text: e["newText"].as_str().unwrap().to_string(),
        })
        .collect();
    apply_edits(text, &edits).0
}
