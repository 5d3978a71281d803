//! The kernel on deno_core: one `JsRuntime` per execution, on whichever backend deno_core was
//! built with (`quickjs`: QuickJS-ng through v8x, builds offline; `v8`: rusty_v8's archive).
//!
//! What a script can reach is what the sandbox extension grants: two ops, which the prelude
//! captures and hides before any script code runs (`Deno`, `__bootstrap` and deno_core's console
//! are removed from the global object). Modules load through [`SandboxLoader`], which serves the
//! script, the prelude module and the files of the script's folder, as [`Imports`] allows. The watchdog ends a run through
//! `terminate_execution`; the heap cap is the isolate's heap limit, with a near-heap-limit
//! callback that terminates the run instead of letting the host die.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deno_core::error::{CoreError, CoreErrorKind, JsError};
use deno_core::{
    JsRuntime, ModuleLoadOptions, ModuleLoadReferrer, ModuleLoadResponse, ModuleLoader,
    ModuleResolveResponse, ModuleSource, ModuleSourceCode, ModuleSpecifier, ModuleType, OpState,
    PollEventLoopOptions, ResolutionKind, RuntimeOptions, op2, v8,
};
use deno_error::JsErrorBox;

use super::{
    Ending, Engine, ExecutionContext, Imports, KrepisError, Limits, PRELUDE, PRELUDE_SPECIFIER,
    Session, codes, conclude,
};

/// Captures the granted ops, removes everything deno_core put on the global object (so a script
/// sees the same globals as on the other engine), and evaluates to the function that runs the
/// script's export with the context and hands back its result as JSON.
const SANDBOX: &str = r#"
((ops, call, makeContext) => {
  delete globalThis.Deno;
  delete globalThis.__bootstrap;
  delete globalThis.console;
  delete globalThis.__krepisCall;
  delete globalThis.__krepisMakeContext;
  const { op_krepis_request: request, op_krepis_respond: respond, op_krepis_missing_export: missing } = ops;
  return async (script) => {
    const { context, export: name, args, lazy } = JSON.parse(request());
    const f = script[name];
    if (typeof f !== "function") { missing(); return; }
    const value = await call(f, makeContext(context), args, lazy ?? undefined);
    respond(JSON.stringify(value) ?? "null");
  };
})(globalThis.Deno.core.ops, globalThis.__krepisCall, globalThis.__krepisMakeContext);
"#;

/// What the run asked for (taken once) and what it answered.
#[derive(Default)]
struct Exchange {
    request: String,
    response: Option<String>,
    missing_export: bool,
}

type SharedExchange = Rc<RefCell<Exchange>>;

#[op2]
#[string]
fn op_krepis_request(state: &mut OpState) -> String {
    std::mem::take(&mut state.borrow::<SharedExchange>().borrow_mut().request)
}

#[op2(fast)]
fn op_krepis_respond(state: &mut OpState, #[string] json: String) {
    state.borrow::<SharedExchange>().borrow_mut().response = Some(json);
}

#[op2(fast)]
fn op_krepis_missing_export(state: &mut OpState) {
    state.borrow::<SharedExchange>().borrow_mut().missing_export = true;
}

deno_core::extension!(
    krepis_sandbox,
    ops = [
        op_krepis_request,
        op_krepis_respond,
        op_krepis_missing_export
    ],
);

/// Serves what [`Imports`] allows: modules are named `file:///<path in the script's folder>`, and
/// the prelude by its own specifier; everything else is refused.
struct SandboxLoader(Imports);

/// The module name of a specifier (see [`Imports`]).
fn name_of(specifier: &ModuleSpecifier) -> String {
    if specifier.as_str() == PRELUDE_SPECIFIER {
        return PRELUDE_SPECIFIER.into();
    }
    specifier
        .to_file_path()
        .map(|path| path.to_string_lossy().into_owned())
        .unwrap_or_else(|_| specifier.path().to_string())
}

/// The specifier of a module name.
fn specifier_of(name: &str) -> Result<ModuleSpecifier, JsErrorBox> {
    if name == PRELUDE_SPECIFIER {
        return ModuleSpecifier::parse(name).map_err(JsErrorBox::from_err);
    }
    ModuleSpecifier::parse(&format!("file://{name}")).map_err(JsErrorBox::from_err)
}

impl ModuleLoader for SandboxLoader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        _kind: ResolutionKind,
    ) -> ModuleResolveResponse {
        let main = specifier_of(self.0.main())?;
        // The script itself, as deno_core names it when it loads the code it was given.
        if specifier == main.as_str() {
            return Ok(main);
        }
        let referrer = ModuleSpecifier::parse(referrer)
            .map(|r| name_of(&r))
            .unwrap_or_else(|_| self.0.main().to_string());
        let name = self
            .0
            .resolve(&referrer, specifier)
            .map_err(JsErrorBox::generic)?;
        specifier_of(&name)
    }

    fn load(
        &self,
        specifier: &ModuleSpecifier,
        _referrer: Option<&ModuleLoadReferrer>,
        _options: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        let loaded = self.0.load(&name_of(specifier)).map(|code| {
            ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(code.to_string().into()),
                specifier,
                None,
            )
        });
        ModuleLoadResponse::Sync(loaded.map_err(JsErrorBox::generic))
    }
}

/// A wall-clock limit on a thread of its own: when time is up before [`Watchdog::finish`], it
/// raises its flag and calls `on_expiry` (which tells the engine to stop).
struct Watchdog {
    expired: Arc<AtomicBool>,
    done: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(timeout_ms: u64, on_expiry: impl FnOnce() + Send + 'static) -> Self {
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

    /// Stops the watchdog; says whether time ran out first.
    fn finish(mut self) -> bool {
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

/// deno_core's `JsRuntime`: one per execution, or one per session (see [`DenoSession`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct DenoCore;

/// How a run ended, before it is told as a [`KrepisError`].
enum Failure {
    Script(String, Option<String>),
    Internal(String),
}

impl Engine for DenoCore {
    fn name(&self) -> &'static str {
        if cfg!(feature = "deno-v8") {
            "deno_core 0.413 (V8)"
        } else {
            "deno_core 0.413 (QuickJS-ng)"
        }
    }

    fn key(&self) -> &'static str {
        "deno"
    }

    fn session(
        &self,
        javascript: Arc<str>,
        imports: Imports,
        export: String,
        limits: Limits,
    ) -> Box<dyn Session> {
        Box::new(DenoSession {
            javascript,
            imports,
            export,
            limits,
            worker: None,
        })
    }
}

/// The stack of an execution's thread: deep recursion in a script ends in a RangeError well
/// before it.
const STACK_BYTES: usize = 8 << 20;

fn internal(ctx: &ExecutionContext, limits: Limits, message: String) -> KrepisError {
    super::outside_error(ctx, limits, codes::INTERNAL, message)
}

/// What the sandbox's `request` op hands the script: the context fields, the export, the
/// arguments (a JSON array's text) and the lazy fields of the first one (see [`Session::call`]).
fn request_text(
    ctx: &ExecutionContext,
    export: &str,
    args: &str,
    lazy: &[(&str, &str)],
) -> serde_json::Result<String> {
    #[derive(serde::Serialize)]
    struct Request<'a> {
        context: &'a ExecutionContext,
        export: &'a str,
        args: &'a serde_json::value::RawValue,
        lazy: Option<std::collections::BTreeMap<&'a str, &'a str>>,
    }
    let args: &serde_json::value::RawValue = serde_json::from_str(args)?;
    serde_json::to_string(&Request {
        context: ctx,
        export,
        args,
        lazy: (!lazy.is_empty()).then(|| lazy.iter().copied().collect()),
    })
}

/// A runtime with the sandbox set up, on the thread that made it; `loaded` once the script's
/// module is evaluated. Fields drop in order: the handles before the runtime.
struct Instance {
    run: Option<v8::Global<v8::Function>>,
    namespace: Option<v8::Global<v8::Value>>,
    reactor: tokio::runtime::Runtime,
    runtime: JsRuntime,
    exchange: SharedExchange,
    isolate: v8::IsolateHandle,
    out_of_heap: Arc<AtomicBool>,
}

impl Instance {
    fn create(imports: &Imports, limits: Limits) -> Result<Instance, String> {
        let exchange: SharedExchange = Rc::default();
        let reactor = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string())?;
        let mut runtime = JsRuntime::try_new(RuntimeOptions {
            extensions: vec![krepis_sandbox::init()],
            module_loader: Some(Rc::new(SandboxLoader(imports.clone()))),
            create_params: Some(v8::CreateParams::default().heap_limits(0, limits.max_heap_bytes)),
            ..RuntimeOptions::default()
        })
        .map_err(|e| e.to_string())?;
        runtime.op_state().borrow_mut().put(exchange.clone());
        let isolate = runtime.v8_isolate().thread_safe_handle();
        // Near the cap: stop the script, and give it a little room once so it can unwind.
        let out_of_heap = Arc::new(AtomicBool::new(false));
        {
            let (isolate, out_of_heap) = (isolate.clone(), out_of_heap.clone());
            runtime.add_near_heap_limit_callback(move |current, _initial| {
                isolate.terminate_execution();
                if out_of_heap.swap(true, Ordering::SeqCst) {
                    current
                } else {
                    current + current / 4
                }
            });
        }
        Ok(Instance {
            run: None,
            namespace: None,
            reactor,
            runtime,
            exchange,
            isolate,
            out_of_heap,
        })
    }

    /// Sets up the sandbox and evaluates the script's module.
    fn load(&mut self, source: &str, imports: &Imports) -> Result<(), Failure> {
        let runtime = &mut self.runtime;
        let (run, namespace) = self.reactor.block_on(async {
            let run = runtime
                .execute_script("krepis:sandbox", format!("{PRELUDE}\n{SANDBOX}"))
                .map_err(|e| script_failure(CoreErrorKind::Js(e).into()))?;
            let run: v8::Global<v8::Function> = {
                deno_core::scope!(scope, runtime);
                let local = v8::Local::new(scope, run);
                let function = v8::Local::<v8::Function>::try_from(local)
                    .map_err(|e| Failure::Internal(e.to_string()))?;
                v8::Global::new(scope, function)
            };
            let main =
                specifier_of(imports.main()).map_err(|e| Failure::Internal(e.to_string()))?;
            let id = runtime
                .load_main_es_module_from_code(&main, source.to_string())
                .await
                .map_err(script_failure)?;
            let evaluated = runtime.mod_evaluate(id);
            runtime
                .with_event_loop_future(evaluated, PollEventLoopOptions::default())
                .await
                .map_err(script_failure)?;
            let namespace = runtime.get_module_namespace(id).map_err(script_failure)?;
            let namespace: v8::Global<v8::Value> = {
                deno_core::scope!(scope, runtime);
                let local: v8::Local<v8::Value> = v8::Local::new(scope, namespace).into();
                v8::Global::new(scope, local)
            };
            Ok::<_, Failure>((run, namespace))
        })?;
        self.run = Some(run);
        self.namespace = Some(namespace);
        Ok(())
    }

    /// One call of the export with `request`; the answer is left in the exchange.
    fn call(&mut self, request: String) -> Result<(), Failure> {
        let (Some(run), Some(namespace)) = (&self.run, &self.namespace) else {
            return Err(Failure::Internal("the module is not loaded".into()));
        };
        *self.exchange.borrow_mut() = Exchange {
            request,
            ..Exchange::default()
        };
        let runtime = &mut self.runtime;
        self.reactor.block_on(async {
            let called = runtime.call_with_args(run, std::slice::from_ref(namespace));
            runtime
                .with_event_loop_promise(called, PollEventLoopOptions::default())
                .await
                .map(|_| ())
                .map_err(script_failure)
        })
    }

    fn heap(&mut self) -> u64 {
        self.runtime
            .v8_isolate()
            .get_heap_statistics()
            .used_heap_size() as u64
    }
}

/// One call on `instance` (made, and the module loaded, if there is none yet) under the time
/// limit: how it ended, the heap it used, and whether the instance can serve another call (it is
/// left `None` if not).
fn attempt(
    instance: &mut Option<Instance>,
    source: &str,
    imports: &Imports,
    export: &str,
    request: String,
    limits: Limits,
) -> (Ending, u64, bool) {
    let fresh = instance.is_none();
    if fresh {
        match Instance::create(imports, limits) {
            Ok(made) => *instance = Some(made),
            Err(message) => {
                return (
                    Ending::Failed(codes::INTERNAL.into(), message, None),
                    0,
                    false,
                );
            }
        }
    }
    let Some(live) = instance.as_mut() else {
        return (
            Ending::Failed(codes::INTERNAL.into(), "no runtime".into(), None),
            0,
            false,
        );
    };
    let watchdog = {
        let isolate = live.isolate.clone();
        Watchdog::start(limits.timeout_ms, move || {
            isolate.terminate_execution();
        })
    };
    // Loading the module counts against the first call's time.
    let loaded = if fresh {
        live.load(source, imports)
    } else {
        Ok(())
    };
    let load_failed = loaded.is_err();
    let outcome = loaded.and_then(|()| live.call(request));
    let expired = watchdog.finish();
    let heap = live.heap();
    let out_of_heap = live.out_of_heap.load(Ordering::SeqCst);
    let exchange = std::mem::take(&mut *live.exchange.borrow_mut());
    let ending = match outcome {
        _ if expired => Ending::TimedOut(None),
        _ if out_of_heap => Ending::OutOfHeap(None),
        Err(Failure::Internal(message)) => Ending::Failed(codes::INTERNAL.into(), message, None),
        Err(Failure::Script(message, stack)) if message.contains("out of memory") => {
            Ending::OutOfHeap(stack)
        }
        Err(Failure::Script(message, stack)) => {
            Ending::Failed(codes::SCRIPT_ERROR.into(), message, stack)
        }
        Ok(()) if exchange.missing_export => Ending::Failed(
            codes::INVALID_ARGUMENT.into(),
            format!("the module exports no function `{export}`"),
            None,
        ),
        Ok(()) => Ending::Answered(exchange.response.unwrap_or_else(|| "null".into())),
    };
    // A runtime stopped mid-way (time, heap), broken, or whose module did not load is not reused.
    let reusable = !(expired
        || out_of_heap
        || load_failed
        || matches!(&ending, Ending::OutOfHeap(_))
        || matches!(&ending, Ending::Failed(code, ..) if code == codes::INTERNAL));
    if !reusable {
        *instance = None;
    }
    (ending, heap, reusable)
}

/// A module loaded once in a `JsRuntime` on a thread of its own, its export called again and
/// again (an execution is a session called once). A runtime stays on the thread that made it;
/// its thread gives it fresh thread-local state (the QuickJS-ng backend keeps per-thread tables
/// of script names that it trims by clearing them at 256 entries, which broke the 260th runtime
/// started on one thread) and keeps deno_core's event loop apart from any async runtime the
/// caller is in (the language server's). A call that ran out of time or heap ends the thread;
/// the next call starts another.
pub struct DenoSession {
    javascript: Arc<str>,
    imports: Imports,
    export: String,
    limits: Limits,
    worker: Option<Worker>,
}

/// The thread of a [`DenoSession`] and the way to it.
struct Worker {
    jobs: std::sync::mpsc::Sender<String>,
    answers: std::sync::mpsc::Receiver<(Ending, u64, bool)>,
    thread: std::thread::JoinHandle<()>,
}

impl DenoSession {
    fn spawn(&self) -> std::io::Result<Worker> {
        let (jobs, incoming) = std::sync::mpsc::channel::<String>();
        let (answer, answers) = std::sync::mpsc::channel();
        let (javascript, imports, export, limits) = (
            self.javascript.clone(),
            self.imports.clone(),
            self.export.clone(),
            self.limits,
        );
        let thread = std::thread::Builder::new()
            .name("krepis-deno-session".into())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                let mut instance = None;
                for request in incoming {
                    let answered = attempt(
                        &mut instance,
                        &javascript,
                        &imports,
                        &export,
                        request,
                        limits,
                    );
                    let reusable = answered.2;
                    if answer.send(answered).is_err() || !reusable {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            jobs,
            answers,
            thread,
        })
    }
}

impl Session for DenoSession {
    fn call(
        &mut self,
        ctx: &ExecutionContext,
        args: &str,
        lazy: &[(&str, &str)],
    ) -> Result<serde_json::Value, KrepisError> {
        let started = Instant::now();
        let request = request_text(ctx, &self.export, args, lazy).map_err(|e| {
            super::outside_error(ctx, self.limits, codes::INVALID_ARGUMENT, e.to_string())
        })?;
        if self.worker.is_none() {
            self.worker = Some(
                self.spawn()
                    .map_err(|e| internal(ctx, self.limits, e.to_string()))?,
            );
        }
        let answered = self.worker.as_ref().and_then(|worker| {
            worker.jobs.send(request).ok()?;
            worker.answers.recv().ok()
        });
        let (ending, heap) = match answered {
            Some((ending, heap, true)) => (ending, heap),
            // The thread has ended (or died): wait for it, and start another next time.
            other => {
                if let Some(worker) = self.worker.take() {
                    drop(worker.jobs);
                    let _ = worker.thread.join();
                }
                match other {
                    Some((ending, heap, _)) => (ending, heap),
                    None => (
                        Ending::Failed(
                            codes::INTERNAL.into(),
                            "the engine failed unexpectedly".into(),
                            None,
                        ),
                        0,
                    ),
                }
            }
        };
        conclude(ending, ctx, self.limits, started, heap)
    }
}

impl Drop for DenoSession {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            drop(worker.jobs);
            let _ = worker.thread.join();
        }
    }
}

/// A script's exception as message and stack; any other failure by its description.
fn script_failure(error: CoreError) -> Failure {
    match error.into_kind() {
        CoreErrorKind::Js(js) => {
            let JsError {
                message,
                exception_message,
                stack,
                ..
            } = *js;
            Failure::Script(
                message.unwrap_or_else(|| {
                    exception_message
                        .strip_prefix("Uncaught ")
                        .unwrap_or(&exception_message)
                        .to_string()
                }),
                stack,
            )
        }
        other => Failure::Script(other.to_string(), None),
    }
}
