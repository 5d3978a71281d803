//! Sandboxed execution: one fresh JavaScript engine instance per call, with an explicit context,
//! a wall-clock watchdog, a heap cap and an output cap.
//!
//! The engine sits behind [`Engine`]. The default build embeds QuickJS through `rquickjs`
//! ([`QuickJs`], feature `rquickjs`); the features `deno-quickjs` and `deno-v8` build
//! [`DenoCore`], deno_core's `JsRuntime` on its QuickJS-ng or its V8 backend, and make it the
//! kernel's engine ([`kernel`]). deno_core on QuickJS-ng replaces rquickjs (the two QuickJS
//! libraries define the same C symbols); on V8 both can be in one build.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    fn execute(
        &self,
        ctx: &ExecutionContext,
        source: &str,
        imports: &Imports,
        export: &str,
        args: &[serde_json::Value],
        limits: Limits,
    ) -> Result<serde_json::Value, KrepisError>;
}

mod modules;
pub use modules::{Imports, PRELUDE_SOURCE, PRELUDE_SPECIFIER};

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

/// A wall-clock limit on a thread of its own: when time is up before [`Watchdog::finish`], it
/// raises its flag and calls `on_expiry` (which tells the engine to stop).
pub(crate) struct Watchdog {
    expired: Arc<AtomicBool>,
    done: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn start(timeout_ms: u64, on_expiry: impl FnOnce() + Send + 'static) -> Self {
        let expired = Arc::new(AtomicBool::new(false));
        let done = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let thread = {
            let (expired, done) = (expired.clone(), done.clone());
            let limit = Duration::from_millis(timeout_ms);
            std::thread::spawn(move || {
                let (lock, condvar) = &*done;
                let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (finished, _) = condvar
                    .wait_timeout_while(guard, limit, |finished| !*finished)
                    .unwrap_or_else(|p| p.into_inner());
                if !*finished {
                    expired.store(true, Ordering::SeqCst);
                    on_expiry();
                }
            })
        };
        Self {
            expired,
            done,
            thread: Some(thread),
        }
    }

    /// The flag the watchdog raises, for engines that poll it.
    #[cfg(feature = "rquickjs")]
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.expired.clone()
    }

    /// Stops the watchdog; says whether time ran out first.
    pub(crate) fn finish(mut self) -> bool {
        self.stop();
        self.expired.load(Ordering::SeqCst)
    }

    fn stop(&mut self) {
        let (lock, condvar) = &*self.done;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        condvar.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
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
    if let Some((offset, what)) = krepis_analyzer::facts::excessive_nesting(source) {
        return Err(format!("syntax error: {what} at byte {offset}"));
    }
    let allocator = Allocator::default();
    let source_type = SourceType::from_path(path)
        .unwrap_or_else(|_| SourceType::ts())
        .with_module(true);
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

/// The embedded engine: QuickJS, one runtime per execution.
#[cfg(feature = "rquickjs")]
#[derive(Debug, Default, Clone, Copy)]
pub struct QuickJs;

/// Sets up the context object: the fields, plus a deterministic clock and random source.
const PRELUDE: &str = r#"
globalThis.__krepisCall = (f, ctx, args) => f(ctx, ...args);
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

#[cfg(feature = "rquickjs")]
impl Engine for QuickJs {
    fn name(&self) -> &'static str {
        "QuickJS (rquickjs 0.14)"
    }

    fn key(&self) -> &'static str {
        "quickjs"
    }

    fn execute(
        &self,
        ctx: &ExecutionContext,
        source: &str,
        imports: &Imports,
        export: &str,
        args: &[serde_json::Value],
        limits: Limits,
    ) -> Result<serde_json::Value, KrepisError> {
        use rquickjs::{
            CatchResultExt, CaughtError, Context, Function, Module, Object, Promise, Runtime, Value,
        };

        let started = Instant::now();
        let internal = |message: String| {
            conclude(
                Ending::Failed(codes::INTERNAL.into(), message, None),
                ctx,
                limits,
                started,
                0,
            )
        };
        let runtime = match Runtime::new() {
            Ok(runtime) => runtime,
            Err(e) => return internal(e.to_string()),
        };
        runtime.set_memory_limit(limits.max_heap_bytes);
        runtime.set_max_stack_size(1 << 20);
        runtime.set_loader(
            QuickJsImports(imports.clone()),
            QuickJsImports(imports.clone()),
        );
        // The watchdog: a thread raises the flag when time is up; the engine polls it and unwinds
        // the script from wherever it is, loops included.
        let watchdog = Watchdog::start(limits.timeout_ms, || {});
        {
            let expired = watchdog.flag();
            runtime.set_interrupt_handler(Some(Box::new(move || expired.load(Ordering::SeqCst))));
        }
        let context = match Context::full(&runtime) {
            Ok(context) => context,
            Err(e) => return internal(e.to_string()),
        };
        let outcome: Result<String, (String, String, Option<String>)> = context.with(|js| {
            let script_error = |error: CaughtError<'_>| -> (String, String, Option<String>) {
                match error {
                    CaughtError::Exception(exception) => (
                        codes::SCRIPT_ERROR.to_string(),
                        exception
                            .message()
                            .unwrap_or_else(|| "the script threw".into()),
                        exception.stack(),
                    ),
                    CaughtError::Value(value) => {
                        let text = value
                            .as_string()
                            .and_then(|s| s.to_string().ok())
                            .unwrap_or_else(|| format!("{value:?}"));
                        (
                            codes::SCRIPT_ERROR.to_string(),
                            format!("the script threw {text}"),
                            None,
                        )
                    }
                    CaughtError::Error(error) => {
                        (codes::SCRIPT_ERROR.to_string(), error.to_string(), None)
                    }
                }
            };
            js.eval::<(), _>(PRELUDE).catch(&js).map_err(script_error)?;
            let (module, evaluated) = Module::declare(js.clone(), imports.main(), source)
                .catch(&js)
                .map_err(script_error)?
                .eval()
                .catch(&js)
                .map_err(script_error)?;
            evaluated.finish::<()>().catch(&js).map_err(script_error)?;
            let namespace: Object = module.namespace().catch(&js).map_err(script_error)?;
            let function: Function = namespace.get(export).catch(&js).map_err(|_| {
                (
                    codes::INVALID_ARGUMENT.to_string(),
                    format!("the module exports no function `{export}`"),
                    None,
                )
            })?;
            let fields = rquickjs_json(&js, &serde_json::to_string(ctx).unwrap_or_default())
                .map_err(script_error)?;
            let make: Function = js
                .globals()
                .get("__krepisMakeContext")
                .catch(&js)
                .map_err(script_error)?;
            let context_object: Value = make.call((fields,)).catch(&js).map_err(script_error)?;
            let arguments = rquickjs_json(&js, &serde_json::to_string(args).unwrap_or_default())
                .map_err(script_error)?;
            let call: Function = js
                .globals()
                .get("__krepisCall")
                .catch(&js)
                .map_err(script_error)?;
            let result: Value = call
                .call((function, context_object, arguments))
                .catch(&js)
                .map_err(script_error)?;
            // A promise is driven to completion here; the watchdog still applies.
            let result: Value = match result.clone().into_promise() {
                Some(promise) => {
                    let promise: Promise = promise;
                    promise.finish::<Value>().catch(&js).map_err(script_error)?
                }
                None => result,
            };
            let json = js.json_stringify(result).catch(&js).map_err(script_error)?;
            Ok(json
                .map(|s| s.to_string().unwrap_or_default())
                .unwrap_or_else(|| "null".into()))
        });
        let expired = watchdog.finish();
        let heap = runtime.memory_usage().memory_used_size.max(0) as u64;
        let ending = match outcome {
            Ok(json) => Ending::Answered(json),
            Err((_, _, stack)) if expired => Ending::TimedOut(stack),
            Err((_, message, stack))
                if message.contains("out of memory")
                    || message.contains("memory")
                        && heap as usize + (1 << 16) >= limits.max_heap_bytes =>
            {
                Ending::OutOfHeap(stack)
            }
            Err((code, message, stack)) => Ending::Failed(code, message, stack),
        };
        conclude(ending, ctx, limits, started, heap)
    }
}

/// The module resolver and loader of a QuickJS run: what [`Imports`] allows, nothing else.
#[cfg(feature = "rquickjs")]
struct QuickJsImports(Imports);

#[cfg(feature = "rquickjs")]
impl rquickjs::loader::Resolver for QuickJsImports {
    fn resolve<'js>(
        &mut self,
        ctx: &rquickjs::Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        self.0
            .resolve(base, name)
            .map_err(|message| throw(ctx, &message))
    }
}

#[cfg(feature = "rquickjs")]
impl rquickjs::loader::Loader for QuickJsImports {
    fn load<'js>(
        &mut self,
        ctx: &rquickjs::Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<rquickjs::Module<'js, rquickjs::module::Declared>> {
        let code = self.0.load(name).map_err(|message| throw(ctx, &message))?;
        rquickjs::Module::declare(ctx.clone(), name, code.as_bytes())
    }
}

/// Throws an `Error` with `message` (what deno_core's loader does with a refusal), so a script
/// reads the same message on both engines.
#[cfg(feature = "rquickjs")]
fn throw(ctx: &rquickjs::Ctx<'_>, message: &str) -> rquickjs::Error {
    match rquickjs::Exception::from_message(ctx.clone(), message) {
        Ok(exception) => ctx.throw(exception.into_value()),
        Err(error) => error,
    }
}

/// Parses JSON into an engine value.
#[cfg(feature = "rquickjs")]
fn rquickjs_json<'js>(
    js: &rquickjs::Ctx<'js>,
    json: &str,
) -> Result<rquickjs::Value<'js>, rquickjs::CaughtError<'js>> {
    use rquickjs::CatchResultExt;
    js.json_parse(json.to_string()).catch(js)
}

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
