//! The Krepis language server over stdio (tower-lsp).
//!
//! This crate only translates between the protocol and `krepis-analyzer`: it owns the one mutable
//! analysis database, answers requests from snapshots on blocking threads, and pushes (or lets the
//! client pull) diagnostics. Nothing here knows how rules work.

mod baseline;
mod convert;
mod generate;
mod server;
mod transport;

pub use server::{Backend, FIX_ALL_KIND};

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Serves the protocol on stdin/stdout until the client says `exit`.
pub fn run_stdio() -> std::io::Result<()> {
    // Parsing recurses as deep as the code nests: analysis threads get a large stack (address
    // space only; untouched pages cost nothing), and `facts` refuses absurd nesting outright.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(krepis_analyzer::facts::ANALYSIS_STACK_BYTES)
        .enable_all()
        .build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // The stdin reader may still be blocked in a read the client will never complete.
    runtime.shutdown_background();
    Ok(())
}

/// Serves the protocol on `input`/`output` until the client says `exit` or the input ends: the
/// whole server, guarded transport included, as [`run_stdio`] runs it (tests and fuzzing drive it
/// over in-memory pipes). Call it inside a multi-threaded Tokio runtime.
pub async fn serve(
    input: impl AsyncRead + Unpin + Send + 'static,
    output: impl AsyncWrite + Unpin,
) {
    let (service, socket) = LspService::build(Backend::new)
        .custom_method(transport::MALFORMED_METHOD, Backend::malformed_message)
        .finish();
    let (guarded, reader) = tokio::io::duplex(1 << 20);
    let guard = tokio::spawn(transport::guard(input, guarded));
    let server = Server::new(reader, output, socket).serve(service);
    tokio::pin!(server);
    tokio::select! {
        () = &mut server => return,
        _ = guard => {}
    }
    // The client said `exit` or went away. The protocol library keeps waiting for handlers that
    // wait for an answer from the client (a capability registration, say), which will never
    // come: give the server a moment to finish, then end regardless.
    let _ = tokio::time::timeout(EXIT_GRACE, server).await;
}

/// How long the server may go on after `exit` or the end of its input.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// The transport guard alone: copies LSP frames from `input` to `output`, replacing every frame
/// that is not a JSON-RPC 2.0 message with a `krepis/malformedMessage` notification.
#[doc(hidden)]
pub use transport::{MALFORMED_METHOD, guard};
