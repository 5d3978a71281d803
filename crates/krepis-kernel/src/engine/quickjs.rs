//! The embedded engine: QuickJS through rquickjs.
//!
//! A [`QuickJsSession`] is one runtime with the module loaded once; an execution is a session
//! used for one call. The time limit is a deadline that QuickJS's interrupt handler
//! compares the clock against (it runs every few thousand operations, loops and regular
//! expressions included), so no thread is started per call. A call that ran out of time or heap
//! leaves its runtime behind: the next call starts a fresh one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rquickjs::{
    CatchResultExt, CaughtError, Context, Function, Module, Object, Persistent, Runtime, Value,
};

use super::{
    Ending, Engine, ExecutionContext, Imports, KrepisError, Limits, PRELUDE, Session, codes,
    conclude,
};

/// QuickJS (rquickjs), one runtime per execution or per session.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuickJs;

impl Engine for QuickJs {
    fn name(&self) -> &'static str {
        "QuickJS (rquickjs 0.14)"
    }

    fn key(&self) -> &'static str {
        "quickjs"
    }

    fn session(
        &self,
        javascript: Arc<str>,
        imports: Imports,
        export: String,
        limits: Limits,
    ) -> Box<dyn Session> {
        Box::new(QuickJsSession::new(javascript, imports, export, limits))
    }
}

/// A module loaded once in a runtime of its own, its export called again and again.
pub struct QuickJsSession {
    javascript: Arc<str>,
    imports: Imports,
    export: String,
    limits: Limits,
    live: Option<Live>,
}

/// A runtime with the module evaluated. Fields drop in order: the handle before its runtime.
struct Live {
    /// `(fields, args) => export(makeContext(fields), ...args)`.
    run: Persistent<Function<'static>>,
    context: Context,
    runtime: Runtime,
    clock: Arc<Clock>,
}

/// The deadline of the call under way, which the interrupt handler checks.
struct Clock {
    epoch: Instant,
    /// Nanoseconds after `epoch`; `u64::MAX` between calls.
    deadline: AtomicU64,
    /// Set by the handler when it stopped a call.
    expired: std::sync::atomic::AtomicBool,
}

impl Clock {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// A failure inside the engine: code, message, stack.
type Failure = (String, String, Option<String>);

impl QuickJsSession {
    pub fn new(javascript: Arc<str>, imports: Imports, export: String, limits: Limits) -> Self {
        Self {
            javascript,
            imports,
            export,
            limits,
            live: None,
        }
    }

    /// A fresh runtime with the module loaded and its export found.
    fn start(&self, clock: &Arc<Clock>) -> Result<Live, Failure> {
        let internal = |e: rquickjs::Error| (codes::INTERNAL.to_string(), e.to_string(), None);
        let runtime = Runtime::new().map_err(internal)?;
        runtime.set_memory_limit(self.limits.max_heap_bytes);
        runtime.set_max_stack_size(1 << 20);
        runtime.set_loader(
            QuickJsImports(self.imports.clone()),
            QuickJsImports(self.imports.clone()),
        );
        {
            let clock = clock.clone();
            runtime.set_interrupt_handler(Some(Box::new(move || {
                let stop = clock.now() > clock.deadline.load(Ordering::Relaxed);
                if stop {
                    clock.expired.store(true, Ordering::Relaxed);
                }
                stop
            })));
        }
        let context = Context::full(&runtime).map_err(internal)?;
        let run = context.with(|js| -> Result<_, Failure> {
            js.eval::<(), _>(PRELUDE)
                .catch(&js)
                .map_err(script_error)?;
            let (module, evaluated) =
                Module::declare(js.clone(), self.imports.main(), self.javascript.as_bytes())
                    .catch(&js)
                    .map_err(script_error)?
                    .eval()
                    .catch(&js)
                    .map_err(script_error)?;
            evaluated.finish::<()>().catch(&js).map_err(script_error)?;
            let namespace: Object = module.namespace().catch(&js).map_err(script_error)?;
            let function: Function = namespace.get(self.export.as_str()).catch(&js).map_err(|_| {
                (
                    codes::INVALID_ARGUMENT.to_string(),
                    format!("the module exports no function `{}`", self.export),
                    None,
                )
            })?;
            let bind: Function = js
                .eval("(f) => (fields, args, lazy) => __krepisCall(f, __krepisMakeContext(fields), args, lazy)")
                .catch(&js)
                .map_err(script_error)?;
            let run: Function = bind.call((function,)).catch(&js).map_err(script_error)?;
            Ok(Persistent::save(&js, run))
        })?;
        Ok(Live {
            run,
            context,
            runtime,
            clock: clock.clone(),
        })
    }

    /// The outcome of one call, before it is told as a result or a [`KrepisError`].
    fn attempt(
        &mut self,
        ctx: &ExecutionContext,
        args: &str,
        lazy: &[(&str, &str)],
    ) -> (Result<String, Failure>, bool) {
        let clock = match &self.live {
            Some(live) => live.clock.clone(),
            None => Arc::new(Clock {
                epoch: Instant::now(),
                deadline: AtomicU64::new(u64::MAX),
                expired: false.into(),
            }),
        };
        clock.expired.store(false, Ordering::Relaxed);
        let limit = self.limits.timeout_ms.saturating_mul(1_000_000);
        // Loading the module counts against the first call's time, as it always has.
        clock
            .deadline
            .store(clock.now().saturating_add(limit), Ordering::Relaxed);
        if self.live.is_none() {
            match self.start(&clock) {
                Ok(live) => self.live = Some(live),
                Err(failure) => {
                    clock.deadline.store(u64::MAX, Ordering::Relaxed);
                    return (Err(failure), clock.expired.load(Ordering::Relaxed));
                }
            }
        }
        let Some(live) = &self.live else {
            return (
                Err((codes::INTERNAL.into(), "no runtime".into(), None)),
                false,
            );
        };
        let fields = serde_json::to_string(ctx).unwrap_or_default();
        let outcome = live.context.with(|js| -> Result<String, Failure> {
            let run = live
                .run
                .clone()
                .restore(&js)
                .map_err(|e| (codes::INTERNAL.to_string(), e.to_string(), None))?;
            let fields: Value = js.json_parse(fields).catch(&js).map_err(script_error)?;
            let args: Value = js.json_parse(args).catch(&js).map_err(script_error)?;
            // Lazy fields go in as strings as they are: no escaping, no parsing until read.
            let lazy = if lazy.is_empty() {
                Value::new_undefined(js.clone())
            } else {
                let object = Object::new(js.clone()).catch(&js).map_err(script_error)?;
                for (name, text) in lazy {
                    let text = rquickjs::String::from_str(js.clone(), text)
                        .catch(&js)
                        .map_err(script_error)?;
                    object.set(*name, text).catch(&js).map_err(script_error)?;
                }
                object.into_value()
            };
            let result: Value = run
                .call((fields, args, lazy))
                .catch(&js)
                .map_err(script_error)?;
            // A promise is driven to completion here; the deadline still applies.
            let result: Value = match result.clone().into_promise() {
                Some(promise) => promise.finish::<Value>().catch(&js).map_err(script_error)?,
                None => result,
            };
            let json = js.json_stringify(result).catch(&js).map_err(script_error)?;
            Ok(json
                .map(|s| s.to_string().unwrap_or_default())
                .unwrap_or_else(|| "null".into()))
        });
        clock.deadline.store(u64::MAX, Ordering::Relaxed);
        (outcome, clock.expired.load(Ordering::Relaxed))
    }
}

impl Session for QuickJsSession {
    fn call(
        &mut self,
        ctx: &ExecutionContext,
        args: &str,
        lazy: &[(&str, &str)],
    ) -> Result<serde_json::Value, KrepisError> {
        let started = Instant::now();
        let (outcome, expired) = self.attempt(ctx, args, lazy);
        let heap = || {
            self.live.as_ref().map_or(0, |live| {
                live.runtime.memory_usage().memory_used_size.max(0) as u64
            })
        };
        let ending = match outcome {
            Ok(json) => Ending::Answered(json),
            Err((_, _, stack)) if expired => Ending::TimedOut(stack),
            Err((_, message, stack))
                if message.contains("out of memory")
                    || message.contains("memory")
                        && heap() as usize + (1 << 16) >= self.limits.max_heap_bytes =>
            {
                Ending::OutOfHeap(stack)
            }
            Err((code, message, stack)) => Ending::Failed(code, message, stack),
        };
        let used = match &ending {
            Ending::Answered(_) => 0,
            _ => heap(),
        };
        // A runtime stopped mid-way (time, heap) or that never loaded the module is not reused.
        if matches!(ending, Ending::TimedOut(_) | Ending::OutOfHeap(_))
            || matches!(&ending, Ending::Failed(code, ..) if code == codes::INTERNAL)
        {
            self.live = None;
        }
        conclude(ending, ctx, self.limits, started, used)
    }
}

/// A script's exception as code, message and stack.
fn script_error(error: CaughtError<'_>) -> Failure {
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
        CaughtError::Error(error) => (codes::SCRIPT_ERROR.to_string(), error.to_string(), None),
    }
}

/// The module resolver and loader of a QuickJS run: what [`Imports`] allows, nothing else.
struct QuickJsImports(Imports);

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

impl rquickjs::loader::Loader for QuickJsImports {
    fn load<'js>(
        &mut self,
        ctx: &rquickjs::Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, rquickjs::module::Declared>> {
        let code = self.0.load(name).map_err(|message| throw(ctx, &message))?;
        Module::declare(ctx.clone(), name, code.as_bytes())
    }
}

/// Throws an `Error` with `message` (what deno_core's loader does with a refusal), so a script
/// reads the same message on both engines.
fn throw(ctx: &rquickjs::Ctx<'_>, message: &str) -> rquickjs::Error {
    match rquickjs::Exception::from_message(ctx.clone(), message) {
        Ok(exception) => ctx.throw(exception.into_value()),
        Err(error) => error,
    }
}
