//! The Krepis language server over stdio (tower-lsp).
//!
//! This crate only translates between the protocol and `krepis-analyzer`: it owns the one mutable
//! analysis database, answers requests from snapshots on blocking threads, and pushes (or lets the
//! client pull) diagnostics. Nothing here knows how rules work.

mod convert;
mod server;
mod transport;

pub use server::{Backend, FIX_ALL_KIND};

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
    runtime.block_on(async {
        let (service, socket) = LspService::build(Backend::new)
            .custom_method(transport::MALFORMED_METHOD, Backend::malformed_message)
            .finish();
        let (guarded, reader) = tokio::io::duplex(1 << 20);
        tokio::spawn(transport::guard(tokio::io::stdin(), guarded));
        Server::new(reader, tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // The stdin reader may still be blocked in a read the client will never complete.
    runtime.shutdown_background();
    Ok(())
}
