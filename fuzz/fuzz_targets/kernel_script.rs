//! The kernel's script entry: any text as a TypeScript module whose `main(ctx, ...args)` runs in a
//! fresh engine under a 50 ms watchdog and a 16 MB heap, then twice in one session (with a lazy
//! field, as custom rules are called). Every outcome must be a value within the output cap or an
//! error with a known code, and the watchdog must stop the script in time.
//! With `KREPIS_FUZZ_LAST=FILE` each input is written to FILE before it runs, so a crash that
//! takes the process down before libFuzzer can save it (a stack overflow) can still be replayed.
#![no_main]

use std::path::Path;
use std::time::{Duration, Instant};

use krepis_kernel::engine::{self, Engine, ExecutionContext, Limits, QuickJs, codes};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    timeout_ms: 50,
    max_heap_bytes: 16 << 20,
    max_output_bytes: 64 << 10,
};

const CODES: [&str; 7] = [
    codes::EXECUTION_TIMEOUT,
    codes::HEAP_LIMIT,
    codes::SCRIPT_ERROR,
    codes::OUTPUT_LIMIT,
    codes::ABI_MISMATCH,
    codes::INVALID_ARGUMENT,
    codes::INTERNAL,
];

fuzz_target!(|data: &[u8]| {
    if let Some(path) = std::env::var_os("KREPIS_FUZZ_LAST") {
        let _ = std::fs::write(path, data);
    }
    let source = String::from_utf8_lossy(data);
    let ctx = ExecutionContext::new("fuzz");
    let args = [
        serde_json::json!({ "id": "o-1", "n": [1, 2] }),
        serde_json::json!("x"),
    ];
    // JavaScript files are not type-stripped the same way: alternate by length, like the paths
    // of the analyzer targets, so the seeds stay plain text.
    let path = if data.len().is_multiple_of(2) {
        "main.ts"
    } else {
        "main.js"
    };
    // Compiling (type stripping) is not under the watchdog; libFuzzer's `-timeout` bounds it.
    let result = match engine::strip_types(Path::new(path), &source) {
        Err(message) => {
            assert!(message.starts_with("syntax error") || message.starts_with("cannot compile"));
            return;
        }
        Ok(javascript) => {
            let started = Instant::now();
            // No folder: any import but the prelude is refused.
            let imports = engine::Imports::prelude_only();
            let result = engine::execute_javascript(
                &QuickJs,
                &ctx,
                &javascript,
                &imports,
                "main",
                &args,
                LIMITS,
            );
            // Running is capped at 50 ms: the watchdog must stop any script well within a second.
            let elapsed = started.elapsed();
            assert!(
                elapsed < Duration::from_millis(500),
                "the execution took {elapsed:?}"
            );
            // The same module as a session (what custom rules use), called twice: what the
            // first call leaves behind (state, a stopped runtime) must not break the second.
            let mut session =
                QuickJs.session(javascript.as_str().into(), imports, "main".into(), LIMITS);
            let args = serde_json::to_string(&args).unwrap_or_default();
            for _ in 0..2 {
                let started = Instant::now();
                let called = session.call(&ctx, &args, &[("facts", r#"{"n": [1, 2]}"#)]);
                let elapsed = started.elapsed();
                assert!(
                    elapsed < Duration::from_millis(500),
                    "a call took {elapsed:?}"
                );
                if let Err(error) = called {
                    assert!(CODES.contains(&error.code.as_str()), "{error:?}");
                }
            }
            result
        }
    };
    match result {
        Ok(value) => {
            let json = value.to_string();
            assert!(
                json.len() <= LIMITS.max_output_bytes + 64,
                "{} bytes",
                json.len()
            );
        }
        Err(error) => {
            assert!(CODES.contains(&error.code.as_str()), "{error:?}");
            assert_eq!(error.tenant_id, ctx.tenant_id);
        }
    }
});
