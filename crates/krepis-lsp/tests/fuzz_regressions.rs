//! Regressions found by fuzzing the language server (`fuzz/fuzz_targets/lsp_*.rs`), driven
//! in-process through `krepis_lsp::serve` over in-memory pipes.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn frame(message: Value) -> Vec<u8> {
    let body = message.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

async fn read(input: &mut (impl AsyncBufRead + Unpin)) -> Option<Value> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        match line.trim_end() {
            "" => break,
            header => {
                if let Some(value) = header.strip_prefix("Content-Length: ") {
                    length = value.parse().ok()?;
                }
            }
        }
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body).await.ok()?;
    serde_json::from_slice(&body).ok()
}

/// Reads until a message satisfies `wanted`.
async fn read_until(input: &mut (impl AsyncBufRead + Unpin), wanted: impl Fn(&Value) -> bool) {
    loop {
        let message = read(input).await.expect("the server ended early");
        if wanted(&message) {
            return;
        }
    }
}

/// A server started over pipes, initialized by a client that can register file watchers (so the
/// server asks it to), and left with that request unanswered.
async fn server_waiting_for_the_client(
    root: &std::path::Path,
) -> (
    tokio::task::JoinHandle<()>,
    BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>,
    tokio::io::WriteHalf<tokio::io::DuplexStream>,
) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server);
    let serve = tokio::spawn(krepis_lsp::serve(server_read, server_write));
    let (client_read, mut output) = tokio::io::split(client);
    let mut input = BufReader::new(client_read);
    let uri = format!("file://{}", root.display());
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "processId": null, "rootUri": uri,
            "capabilities": { "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } }
        }
    });
    output.write_all(&frame(initialize)).await.unwrap();
    read_until(&mut input, |m| m["id"] == 1).await;
    let initialized = json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} });
    output.write_all(&frame(initialized)).await.unwrap();
    read_until(&mut input, |m| m["method"] == "client/registerCapability").await;
    (serve, input, output)
}

/// Found by `lsp_requests`: `shutdown` and `exit` while the server waited for the answer to its
/// capability registration left the server running for good (the protocol library waits for every
/// handler, and the answer was never read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_ends_the_server_while_it_waits_for_the_client() {
    let root = tempfile::tempdir().unwrap();
    let (serve, mut input, mut output) = server_waiting_for_the_client(root.path()).await;
    let shutdown = json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" });
    output.write_all(&frame(shutdown)).await.unwrap();
    read_until(&mut input, |m| m["id"] == 2).await;
    let exit = json!({ "jsonrpc": "2.0", "method": "exit" });
    output.write_all(&frame(exit)).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), serve).await;
    assert!(ended.is_ok(), "the server still runs 5 s after `exit`");
}

/// The same when the client goes away without a word: the end of the input ends the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_input_ends_the_server_while_it_waits_for_the_client() {
    let root = tempfile::tempdir().unwrap();
    let (serve, _input, mut output) = server_waiting_for_the_client(root.path()).await;
    output.shutdown().await.unwrap();
    drop(output);
    let ended = tokio::time::timeout(Duration::from_secs(5), serve).await;
    assert!(
        ended.is_ok(),
        "the server still runs 5 s after its input ended"
    );
}

/// The guard passes on `exit` and stops there: the server reads nothing after it.
#[tokio::test]
async fn the_guard_stops_after_exit() {
    let exit = frame(json!({ "jsonrpc": "2.0", "method": "exit" }));
    let mut input = frame(json!({ "jsonrpc": "2.0", "id": 1, "method": "shutdown" }));
    input.extend_from_slice(&exit);
    input.extend(frame(
        json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }),
    ));
    let mut output = Vec::new();
    krepis_lsp::guard(input.as_slice(), &mut output)
        .await
        .unwrap();
    assert!(
        output.ends_with(&exit),
        "{}",
        String::from_utf8_lossy(&output)
    );
    assert_eq!(
        String::from_utf8_lossy(&output).matches("shutdown").count(),
        1
    );
}
