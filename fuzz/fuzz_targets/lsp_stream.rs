//! The language server's input stream: any bytes after a proper `initialize` handshake.
//!
//! First the transport guard alone: whatever comes in, what it passes on is a sequence of
//! well-formed frames, each a JSON-RPC 2.0 message, and guarding that again changes nothing.
//! Then the whole server reads it (guard, JSON-RPC decoding, dispatch, analysis) and must still
//! answer a final request, unless the input told it to exit.
#![no_main]

use krepis_fuzz::lsp::{self, Capabilities};
use libfuzzer_sys::fuzz_target;

fn guard(input: &[u8]) -> Vec<u8> {
    let input = input.to_vec();
    lsp::runtime().block_on(async move {
        let mut output = Vec::new();
        krepis_lsp::guard(input.as_slice(), &mut output)
            .await
            .expect("in-memory I/O does not fail");
        output
    })
}

fuzz_target!(|data: &[u8]| {
    let guarded = guard(data);
    let messages = match lsp::parse_frames(&guarded) {
        Ok(messages) => messages,
        Err(problem) => panic!("the guard passed on a broken frame: {problem}"),
    };
    for message in &messages {
        assert_eq!(message["jsonrpc"], "2.0", "{message}");
    }
    assert_eq!(
        guard(&guarded),
        guarded,
        "guarding twice changed the stream"
    );

    let exits = messages.iter().any(|m| m["method"] == "exit");
    let caps = Capabilities {
        pull: data.len() % 2 == 1,
        utf8: data.len() % 3 == 1,
        progress: data.len() % 5 == 1,
        watch: true,
    };
    let transcript = lsp::session(caps, &guarded, &[]);
    if !exits {
        assert!(!transcript.ended_early, "the server stopped answering");
    }
    lsp::check_transcript(&transcript);
});
