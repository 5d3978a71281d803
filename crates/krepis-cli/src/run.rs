//! `krepis run`: a module's exported function in the kernel, with a fresh context, under limits.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use krepis_kernel::engine::{self, ExecutionContext, Limits};
use serde_json::json;

pub struct RunOptions {
    pub file: PathBuf,
    pub export: String,
    pub timeout_ms: u64,
    pub max_heap_mb: usize,
    pub json: bool,
}

pub fn run(options: RunOptions) -> ExitCode {
    let source = match std::fs::read_to_string(&options.file) {
        Ok(source) => source,
        Err(error) => {
            eprintln!("error: {}: {error}", options.file.display());
            return ExitCode::from(2);
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut context = ExecutionContext::new(&format!("run-{}-{nanos:x}", std::process::id()));
    context.clock_start_ms = (nanos / 1_000_000) as u64;
    let limits = Limits {
        timeout_ms: options.timeout_ms,
        max_heap_bytes: options.max_heap_mb.saturating_mul(1 << 20),
        ..Limits::default()
    };
    let outcome = engine::execute_isolated(
        engine::kernel(),
        &context,
        &options.file,
        &source,
        &engine::Imports::beside(&options.file),
        &options.export,
        limits,
    );
    let mut stdout = std::io::stdout().lock();
    let code = match &outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    };
    if options.json {
        let document = match outcome {
            Ok(value) => json!({ "ok": true, "value": value }),
            Err(error) => json!({ "ok": false, "error": {
                "code": error.code, "message": error.message, "stack": error.stack,
                "snapshot": { "heap_used_bytes": error.snapshot.heap_used_bytes,
                              "elapsed_ms": error.snapshot.elapsed_ms, "limit_ms": error.snapshot.limit_ms },
            }}),
        };
        let _ = writeln!(stdout, "{document}");
    } else {
        match outcome {
            Ok(value) => {
                let _ = writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            }
            Err(error) => {
                eprintln!("error[{}]: {}", error.code, error.message);
                if let Some(stack) = error.stack.filter(|s| !s.trim().is_empty()) {
                    eprintln!("{}", stack.trim_end());
                }
                eprintln!(
                    "  = heap used {} KB, {} ms elapsed of {} ms",
                    error.snapshot.heap_used_bytes / 1024,
                    error.snapshot.elapsed_ms,
                    error.snapshot.limit_ms
                );
            }
        }
    }
    code
}
