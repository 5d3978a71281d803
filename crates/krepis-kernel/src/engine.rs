//! Sandboxed execution: one fresh JavaScript engine instance per call, with an explicit context,
//! a wall-clock watchdog, a heap cap and an output cap.
//!
//! The engine sits behind [`Engine`]; [`Engine::session`] keeps one instance for many calls. The
//! default build embeds QuickJS through `rquickjs`
//! ([`QuickJs`], feature `rquickjs`); the features `deno-quickjs` and `deno-v8` build
//! [`DenoCore`], deno_core's `JsRuntime` on its QuickJS-ng or its V8 backend, and make it the
//! kernel's engine ([`kernel`]). deno_core on QuickJS-ng replaces rquickjs (the two QuickJS
//! libraries define the same C symbols); on V8 both can be in one build.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The request context a script receives as its first argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionContext {
    pub request_id: String,
    pub tenant_id: String,
    pub trace_id: String,
    pub is_turbo_mode: bool,
    /// The time `ctx.clock.now()` starts from (milliseconds since the epoch): scripts never read
    /// the host clock, so a run can be replayed exactly.
    pub clock_start_ms: u64,
}

impl ExecutionContext {
    /// A context for `request_id`, with the other fields derived from it.
    pub fn new(request_id: &str) -> Self {
        Self {
            request_id: request_id.to_string(),
            tenant_id: "default".into(),
            trace_id: format!("trace-{request_id}"),
            is_turbo_mode: false,
            clock_start_ms: 0,
        }
    }
}

/// Hard limits of one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout_ms: u64,
    pub max_heap_bytes: usize,
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout_ms: 5_000,
            max_heap_bytes: 64 << 20,
            max_output_bytes: 1 << 20,
        }
    }
}

/// Resource use at the moment an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSnapshot {
    pub heap_used_bytes: u64,
    pub elapsed_ms: u64,
    pub limit_ms: u64,
}

/// Why an execution failed: a stable code, a message, the script's stack where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct KrepisError {
    pub code: String,
    pub message: String,
    pub stack: Option<String>,
    pub tenant_id: String,
    pub snapshot: ResourceSnapshot,
}

/// Error codes (the public contract of `krepis run --format json` and the bridge).
pub mod codes {
    pub const EXECUTION_TIMEOUT: &str = "EXECUTION_TIMEOUT";
    pub const HEAP_LIMIT: &str = "HEAP_LIMIT";
    pub const SCRIPT_ERROR: &str = "SCRIPT_ERROR";
    pub const OUTPUT_LIMIT: &str = "OUTPUT_LIMIT";
    pub const ABI_MISMATCH: &str = "ABI_MISMATCH";
    pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";
    pub const INTERNAL: &str = "INTERNAL";
}

/// What an engine must offer: run a module's export with a context under limits.
pub trait Engine: Send + Sync {
    /// The engine's name, as the README and `krepis run --version` report it.
    fn name(&self) -> &'static str;
    /// The engine's short name, as `KREPIS_ENGINE` spells it (`quickjs`, `deno`).
    fn key(&self) -> &'static str;
    /// Runs `export(ctx, ...args)` of the JavaScript module `source` in a fresh, isolated
    /// instance; `args` arrive as JSON values, and the module's imports come from `imports`.
    /// It is a [`Engine::session`] called once.
    fn execute(
        &self,
        ctx: &ExecutionContext,
        source: &str,
        imports: &Imports,
        export: &str,
        args: &[serde_json::Value],
        limits: Limits,
    ) -> Result<serde_json::Value, KrepisError> {
        let args = serde_json::to_string(args)
            .map_err(|e| outside_error(ctx, limits, codes::INTERNAL, e.to_string()))?;
        self.session(source.into(), imports.clone(), export.into(), limits)
            .call(ctx, &args, &[])
    }

    /// The module `javascript` loaded once, its `export` called many times (a custom rule over
    /// every file of a project) on an instance the engine keeps between calls. Each call gets
    /// its own context and time limit; module state is kept between calls, and a call that runs
    /// out of time or heap costs the instance, which the next call replaces.
    fn session(
        &self,
        javascript: Arc<str>,
        imports: Imports,
        export: String,
        limits: Limits,
    ) -> Box<dyn Session>;
}

/// The calls of one [`Engine::session`].
pub trait Session {
    /// Runs `export(ctx, ...args)`; `args` is a JSON array's text, written once by the caller.
    /// `lazy` adds fields to the first argument (an object) as `(name, JSON text)`: the engine
    /// parses each only when the script first reads it.
    fn call(
        &mut self,
        ctx: &ExecutionContext,
        args: &str,
        lazy: &[(&str, &str)],
    ) -> Result<serde_json::Value, KrepisError>;
}

mod modules;
pub use modules::{Imports, PRELUDE_SOURCE, PRELUDE_SPECIFIER};

#[cfg(feature = "rquickjs")]
mod quickjs;
#[cfg(feature = "rquickjs")]
pub use quickjs::{QuickJs, QuickJsSession};

#[cfg(any(feature = "deno-quickjs", feature = "deno-v8"))]
mod deno;
#[cfg(any(feature = "deno-quickjs", feature = "deno-v8"))]
pub use deno::DenoCore;

#[cfg(all(feature = "deno-quickjs", feature = "deno-v8"))]
compile_error!("deno_core has one backend per build: enable `deno-quickjs` or `deno-v8`, not both");
#[cfg(all(feature = "deno-quickjs", feature = "rquickjs"))]
compile_error!(
    "rquickjs and deno_core's QuickJS-ng backend define the same C symbols: build deno-quickjs with --no-default-features"
);
#[cfg(not(any(feature = "rquickjs", feature = "deno-quickjs", feature = "deno-v8")))]
compile_error!(
    "the kernel needs an engine: enable `rquickjs` (the default), `deno-quickjs` or `deno-v8`"
);

/// The engines this build contains, the kernel's own first.
pub fn engines() -> Vec<&'static dyn Engine> {
    vec![
        #[cfg(any(feature = "deno-quickjs", feature = "deno-v8"))]
        &DenoCore,
        #[cfg(feature = "rquickjs")]
        &QuickJs,
    ]
}

/// The engine that runs generators, custom rules, `krepis run` and the bridge: deno_core in a
/// build with one of its features, QuickJS otherwise. `KREPIS_ENGINE=quickjs` (or `deno`) picks
/// another engine of the same build, for comparing them.
pub fn kernel() -> &'static dyn Engine {
    static CHOSEN: std::sync::OnceLock<&'static dyn Engine> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let engines = engines();
        let wanted = std::env::var("KREPIS_ENGINE")
            .unwrap_or_default()
            .to_ascii_lowercase();
        engines
            .iter()
            .copied()
            .find(|engine| !wanted.is_empty() && engine.key() == wanted)
            .unwrap_or(engines[0])
    })
}

/// How an execution ended, as an engine tells it to [`conclude`].
pub(crate) enum Ending {
    /// The result, as JSON text.
    Answered(String),
    /// The watchdog stopped it.
    TimedOut(Option<String>),
    /// The heap cap stopped it.
    OutOfHeap(Option<String>),
    /// Any other failure: its code, message and stack.
    Failed(String, String, Option<String>),
}

/// The outcome of an execution, the same on every engine: the errors' codes and messages, the
/// output cap and the snapshot of what it used.
pub(crate) fn conclude(
    ending: Ending,
    ctx: &ExecutionContext,
    limits: Limits,
    started: Instant,
    heap: u64,
) -> Result<serde_json::Value, KrepisError> {
    let fail = |code: &str, message: String, stack: Option<String>| KrepisError {
        code: code.to_string(),
        message,
        stack,
        tenant_id: ctx.tenant_id.clone(),
        snapshot: ResourceSnapshot {
            heap_used_bytes: heap,
            elapsed_ms: started.elapsed().as_millis() as u64,
            limit_ms: limits.timeout_ms,
        },
    };
    match ending {
        Ending::Answered(json) if json.len() > limits.max_output_bytes => Err(fail(
            codes::OUTPUT_LIMIT,
            format!(
                "the result is {} bytes, over the {}-byte limit",
                json.len(),
                limits.max_output_bytes
            ),
            None,
        )),
        Ending::Answered(json) => {
            serde_json::from_str(&json).map_err(|e| fail(codes::INTERNAL, e.to_string(), None))
        }
        Ending::TimedOut(stack) => Err(fail(
            codes::EXECUTION_TIMEOUT,
            format!(
                "the script ran past its {} ms limit and was stopped",
                limits.timeout_ms
            ),
            stack,
        )),
        Ending::OutOfHeap(stack) => Err(fail(
            codes::HEAP_LIMIT,
            format!(
                "the script needed more than {} MB of heap and was stopped",
                limits.max_heap_bytes >> 20
            ),
            stack,
        )),
        Ending::Failed(code, message, stack) => Err(fail(&code, message, stack)),
    }
}

/// Strips TypeScript syntax (types, interfaces, `as` casts…) with oxc; JavaScript passes through.
pub fn strip_types(path: &Path, source: &str) -> Result<String, String> {
    use oxc_allocator::Allocator;
    use oxc_parser::Parser;
    use oxc_span::SourceType;
    // Parsing, lowering and printing recurse as deep as the code nests: absurd nesting is refused
    // before it can exhaust the stack, with the limit the analyzer applies.
    let source_type = SourceType::from_path(path)
        .unwrap_or_else(|_| SourceType::ts())
        .with_module(true);
    if let Some((offset, what)) =
        krepis_analyzer::facts::excessive_nesting(source, source_type.is_typescript())
    {
        return Err(format!("syntax error: {what} at byte {offset}"));
    }
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        return Err(format!("syntax error: {}", error.message));
    }
    let mut program = parsed.program;
    // Enums are lowered from member values the semantic pass computes only when asked to.
    let scoping = oxc_semantic::SemanticBuilder::new()
        .with_enum_eval(true)
        .build(&program)
        .semantic
        .into_scoping();
    let options = oxc_transformer::TransformOptions::default();
    let transformed = oxc_transformer::Transformer::new(&allocator, path, &options)
        .build_with_scoping(scoping, &mut program);
    if let Some(error) = transformed.diagnostics.errors().next() {
        return Err(format!("cannot compile: {}", error.message));
    }
    Ok(oxc_codegen::Codegen::new().build(&program).code)
}

/// Sets up the context object: the fields, plus a deterministic clock and random source.
const PRELUDE: &str = r#"
// `lazy`, when given, holds fields of the first argument as JSON text: each is parsed when first
// read (a custom rule that never reads a module's facts does not pay for them).
globalThis.__krepisCall = ((withLazy) => (f, ctx, args, lazy) => {
  if (lazy !== undefined) args[0] = withLazy(args[0], lazy);
  return f(ctx, ...args);
})((arg, lazy) => {
  const object = arg !== null && typeof arg === "object" ? arg : {};
  for (const key of Object.keys(lazy)) {
    const text = lazy[key];
    let parsed = false, value;
    Object.defineProperty(object, key, {
      enumerable: true, configurable: true,
      get() { if (!parsed) { value = JSON.parse(text); parsed = true; } return value; },
      set(v) { value = v; parsed = true; },
    });
  }
  return object;
});
globalThis.__krepisMakeContext = (fields) => {
  let now = fields.clock_start_ms;
  // xorshift32 seeded from the request id: the same request draws the same numbers.
  let seed = 2166136261;
  for (const ch of fields.request_id) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619) >>> 0;
  if (seed === 0) seed = 1;
  const next = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };
  return Object.freeze({
    request_id: fields.request_id,
    tenant_id: fields.tenant_id,
    trace_id: fields.trace_id,
    is_turbo_mode: fields.is_turbo_mode,
    clock: Object.freeze({ now: () => now++ }),
    random: Object.freeze({ next }),
  });
};
"#;

/// Runs `export` of a TypeScript or JavaScript module in a fresh isolated engine; `path` says
/// which of the two it is, `imports` what it may import.
pub fn execute_isolated(
    engine: &dyn Engine,
    ctx: &ExecutionContext,
    path: &Path,
    source: &str,
    imports: &Imports,
    export: &str,
    limits: Limits,
) -> Result<serde_json::Value, KrepisError> {
    execute_isolated_with(engine, ctx, path, source, imports, export, &[], limits)
}

/// An error raised before or around the engine run (compile errors, panics).
fn outside_error(
    ctx: &ExecutionContext,
    limits: Limits,
    code: &str,
    message: String,
) -> KrepisError {
    KrepisError {
        code: code.into(),
        message,
        stack: None,
        tenant_id: ctx.tenant_id.clone(),
        snapshot: ResourceSnapshot {
            heap_used_bytes: 0,
            elapsed_ms: 0,
            limit_ms: limits.timeout_ms,
        },
    }
}

/// [`execute_isolated`] with more arguments after the context, passed as JSON values.
#[allow(clippy::too_many_arguments)]
pub fn execute_isolated_with(
    engine: &dyn Engine,
    ctx: &ExecutionContext,
    path: &Path,
    source: &str,
    imports: &Imports,
    export: &str,
    args: &[serde_json::Value],
    limits: Limits,
) -> Result<serde_json::Value, KrepisError> {
    let javascript = strip_types(path, source)
        .map_err(|message| outside_error(ctx, limits, codes::SCRIPT_ERROR, message))?;
    execute_javascript(engine, ctx, &javascript, imports, export, args, limits)
}

/// Runs already-compiled JavaScript (see [`strip_types`]), for callers that run one script many
/// times. A panic inside the engine must not take the host down: it becomes an INTERNAL error.
pub fn execute_javascript(
    engine: &dyn Engine,
    ctx: &ExecutionContext,
    javascript: &str,
    imports: &Imports,
    export: &str,
    args: &[serde_json::Value],
    limits: Limits,
) -> Result<serde_json::Value, KrepisError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.execute(ctx, javascript, imports, export, args, limits)
    }))
    .unwrap_or_else(|_| {
        Err(outside_error(
            ctx,
            limits,
            codes::INTERNAL,
            "the engine failed unexpectedly".into(),
        ))
    })
}

#[cfg(test)]
mod tests;
