//! A guard in front of the JSON-RPC reader.
//!
//! The protocol library stops reading for good after one undecodable message, which would leave
//! the editor without a server. Every frame is checked here first: broken framing is skipped,
//! and a body that is not a JSON-RPC message is replaced by a `krepis/malformedMessage`
//! notification, which the server logs to the client and otherwise ignores.

use serde_json::Value;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};

/// How many members the top-level object of `body` has as written, duplicates included.
fn written_members(body: &[u8]) -> Option<usize> {
    struct Count;
    impl<'de> serde::de::Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
            let mut n = 0;
            while map.next_entry::<String, serde::de::IgnoredAny>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde::Deserializer::deserialize_map(&mut de, Count).ok()
}

/// A message whose object names a member twice (`"id":2,…,"id":1`) is passed on with the last
/// one only, as JSON readers take it; the typed decoding behind would refuse it and end the
/// session.
fn without_duplicate_members(body: Vec<u8>) -> Vec<u8> {
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(message)) if written_members(&body) != Some(message.len()) => {
            serde_json::to_vec(&Value::Object(message)).unwrap_or(body)
        }
        _ => body,
    }
}

/// The notification a malformed message becomes.
pub const MALFORMED_METHOD: &str = "krepis/malformedMessage";

/// Bodies larger than this are not read into memory (a 10 MB document is far below it).
const MAX_BODY: usize = 256 << 20;

/// Whether `body` decodes as a JSON-RPC request, notification or response.
#[cfg(test)]
fn is_jsonrpc(body: &[u8]) -> bool {
    jsonrpc_kind(body).is_some()
}

/// What `body` is: `None` when it is not a JSON-RPC message, else whether it is the `exit`
/// notification.
fn jsonrpc_kind(body: &[u8]) -> Option<bool> {
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return None;
    }
    let id_ok = match message.get("id") {
        None | Some(Value::Null | Value::Number(_) | Value::String(_)) => true,
        Some(_) => false,
    };
    let params_ok = matches!(
        message.get("params"),
        None | Some(Value::Object(_) | Value::Array(_) | Value::Null)
    );
    match message.get("method") {
        Some(Value::String(method)) => {
            (id_ok && params_ok).then(|| method == "exit" && !message.contains_key("id"))
        }
        Some(_) => None,
        None => (message.contains_key("id")
            && (message.contains_key("result") || message.contains_key("error")))
        .then_some(false),
    }
}

fn malformed(reason: &str) -> Vec<u8> {
    let body = serde_json::json!({ "jsonrpc": "2.0", "method": MALFORMED_METHOD, "params": { "reason": reason } });
    let body = body.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Reads one frame's headers; `Ok(None)` at the end of input, `Ok(Some(None))` when the headers
/// carry no usable length.
async fn read_headers(
    input: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<Option<usize>>> {
    let mut length = None;
    let mut saw_any = false;
    loop {
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_any {
                return Ok(Some(length));
            }
            continue;
        }
        saw_any = true;
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
}

/// Copies frames from `input` to `output`, replacing what the protocol reader would choke on.
///
/// Returns after passing on the `exit` notification (the server reads nothing after it) or when
/// the input ends.
pub async fn guard(
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> std::io::Result<()> {
    let mut input = BufReader::new(input);
    while let Some(length) = read_headers(&mut input).await? {
        let Some(length) = length else {
            output
                .write_all(&malformed(
                    "a message without a valid Content-Length header",
                ))
                .await?;
            continue;
        };
        if length > MAX_BODY {
            let skipped = tokio::io::copy(
                &mut (&mut input).take(length as u64),
                &mut tokio::io::sink(),
            )
            .await?;
            if skipped < length as u64 {
                break;
            }
            output
                .write_all(&malformed("a message larger than 256 MB"))
                .await?;
            continue;
        }
        let mut body = vec![0; length];
        if input.read_exact(&mut body).await.is_err() {
            break;
        }
        match jsonrpc_kind(&body) {
            Some(exit) => {
                let body = without_duplicate_members(body);
                let length = body.len();
                output
                    .write_all(format!("Content-Length: {length}\r\n\r\n").as_bytes())
                    .await?;
                output.write_all(&body).await?;
                if exit {
                    break;
                }
            }
            None => {
                output
                    .write_all(&malformed("a message that is not JSON-RPC 2.0"))
                    .await?;
            }
        }
        output.flush().await?;
    }
    output.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_named_twice_is_passed_on_once() {
        let body = br#"{"jsonrpc":"2.0","id":2,"x":"2.0","id":1,"method":"shutdown"}"#.to_vec();
        let out = without_duplicate_members(body);
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["id"], 1);
        assert_eq!(written_members(&out), Some(4));
        // A message without duplicates passes byte for byte.
        let plain = br#"{"jsonrpc":"2.0", "id":1,"method":"shutdown"}"#.to_vec();
        assert_eq!(without_duplicate_members(plain.clone()), plain);
    }

    #[test]
    fn recognises_jsonrpc_messages() {
        assert!(is_jsonrpc(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(is_jsonrpc(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        assert!(is_jsonrpc(br#"{"jsonrpc":"2.0","id":3,"result":null}"#));
        assert!(!is_jsonrpc(b"{ not json"));
        assert!(!is_jsonrpc(br#"[{"jsonrpc":"2.0","method":"exit"}]"#));
        assert!(!is_jsonrpc(br#"{"jsonrpc":"1.0","method":"x"}"#));
        assert!(!is_jsonrpc(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#));
        assert!(!is_jsonrpc(br#"{"jsonrpc":"2.0","method":"x","params":3}"#));
    }

    #[tokio::test]
    async fn broken_frames_become_notifications_and_good_ones_pass() {
        let good = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let input = format!(
            "Content-Length: 4\r\n\r\n{{x}}Garbage: yes\r\n\r\nContent-Length: {}\r\n\r\n{good}",
            good.len()
        );
        let mut output = Vec::new();
        guard(input.as_bytes(), &mut output).await.unwrap();
        let output = String::from_utf8(output).unwrap();
        assert_eq!(output.matches(MALFORMED_METHOD).count(), 2, "{output}");
        assert!(output.ends_with(good));
    }
}
