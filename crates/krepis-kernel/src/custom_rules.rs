//! A project's own rules: TypeScript modules in `.krepis/rules/`, run in the kernel.
//!
//! Each module exports `check(ctx, module)`, where `module` is `{ path, facts }` (the same facts the
//! built-in rules read), and returns `[{ message, start, end, severity? }]` with byte offsets.
//! Each worker thread keeps one sandboxed engine instance per rule (see [`engine::Engine::session`]): the
//! module is loaded once, and every file is a call with its own context and time budget. A rule
//! that throws, loops or returns nonsense becomes one warning about the rule on that file, never a
//! crash; one that ran out of time or heap gets a fresh instance for the next file. Module state
//! is kept between the files a thread checks, so a rule should keep none.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::engine::{self, ExecutionContext, KrepisError, Limits, Session};
use crate::scripts::{self, Stamp};
use krepis_analyzer::config::Config;
use krepis_analyzer::diagnostic::{Diagnostic, Severity, TextRange};
use krepis_analyzer::facts::ModuleFacts;
use krepis_analyzer::rules::RuleId;
use krepis_analyzer::{FileResult, Workspace};
use rayon::prelude::*;
use serde::Deserialize;

/// Time each rule may take on one file.
const BUDGET_MS: u64 = 1_000;

pub struct CustomRule {
    pub name: String,
    /// The module compiled to JavaScript once, or why it does not compile.
    pub javascript: Result<Arc<str>, String>,
    /// What it may import (see [`engine::Imports`]).
    pub imports: engine::Imports,
    /// This load of the rule, which names its engine instances.
    id: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The rules in `root/.krepis/rules/` (`*.ts`, `*.js`), by name.
pub fn load(root: &Path) -> Vec<CustomRule> {
    scripts::load(root, "rules")
        .into_iter()
        .map(|script| CustomRule {
            name: script.name,
            javascript: script.javascript.map(Arc::from),
            imports: script.imports,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
        .collect()
}

/// The rules of `root`, read again when the folder changed (looked at no more than once a second).
pub fn load_cached(root: &Path) -> Arc<Vec<CustomRule>> {
    type Loaded = HashMap<std::path::PathBuf, (Instant, Stamp, Arc<Vec<CustomRule>>)>;
    static CACHE: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((seen, _, rules)) = cache.get(root)
        && seen.elapsed() < Duration::from_secs(1)
    {
        return rules.clone();
    }
    let stamp = scripts::stamp(root, "rules");
    if let Some((seen, known, rules)) = cache.get_mut(root)
        && *known == stamp
    {
        *seen = Instant::now();
        return rules.clone();
    }
    let rules = Arc::new(load(root));
    cache.insert(root.to_path_buf(), (Instant::now(), stamp, rules.clone()));
    rules
}

/// [`check_module`] for the language server: findings are remembered by rule set, path and
/// text, so unchanged files are not run again.
pub fn check_module_cached(
    rules: &Arc<Vec<CustomRule>>,
    relative: &str,
    facts: &krepis_analyzer::facts::ModuleFacts,
    text: &str,
) -> Arc<Vec<Diagnostic>> {
    type Key = (usize, String, u64);
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Vec<Diagnostic>>>>> = OnceLock::new();
    let key = (
        Arc::as_ptr(rules) as usize,
        relative.to_string(),
        xxhash_rust::xxh3::xxh3_64(text.as_bytes()),
    );
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return found.clone();
    }
    let found = Arc::new(check_module(rules, relative, facts, &|| text.len() as u32));
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    // Old rule sets and old texts pile up; start afresh now and then.
    if cache.len() > 20_000 {
        cache.clear();
    }
    cache.insert(key, found.clone());
    found
}

#[derive(Deserialize)]
struct Finding {
    message: String,
    start: u32,
    end: u32,
    #[serde(default)]
    severity: Option<String>,
}

fn diagnostic(
    rule: &CustomRule,
    severity: Severity,
    range: TextRange,
    message: String,
) -> Diagnostic {
    Diagnostic {
        rule: RuleId::Custom,
        custom_rule: Some(rule.name.clone()),
        severity,
        range,
        message,
        note: None,
        fix: None,
    }
}

/// Every rule's findings on one module (`relative` is its path as the rules see it).
pub fn check_module(
    rules: &[CustomRule],
    relative: &str,
    facts: &ModuleFacts,
    text_len: &dyn Fn() -> u32,
) -> Vec<Diagnostic> {
    // The argument, `{ path, facts }`, is written once for all the rules, from the facts as they
    // are; the facts go as JSON text that the engine parses when a rule first reads them. The
    // text is written into this thread's buffer, which keeps its size from file to file.
    thread_local! {
        static FACTS: RefCell<Vec<u8>> = RefCell::default();
    }
    FACTS.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        let args = serde_json::to_string(&[serde_json::json!({ "path": relative })]);
        let facts = serde_json::to_writer(&mut *buffer, facts).map(|()| &buffer[..]);
        rules
            .iter()
            .flat_map(|rule| match (&args, &facts) {
                (Ok(args), Ok(facts)) => {
                    // serde_json writes UTF-8.
                    let facts = std::str::from_utf8(facts).unwrap_or("null");
                    run_one(rule, relative, args, &[("facts", facts)], text_len)
                }
                (Err(e), _) | (_, Err(e)) => {
                    vec![failure(rule, format!("{}: {e}", engine::codes::INTERNAL))]
                }
            })
            .collect()
    })
}

/// The warning that a rule failed on a file.
fn failure(rule: &CustomRule, why: String) -> Diagnostic {
    diagnostic(
        rule,
        Severity::Warning,
        TextRange::default(),
        format!("custom rule `{}` failed on this file: {why}", rule.name),
    )
}

thread_local! {
    /// This thread's engine instances, by rule.
    static SESSIONS: RefCell<HashMap<u64, Box<dyn Session>>> = RefCell::default();
}

/// Calls `rule` on this thread's instance of it.
fn call(
    rule: &CustomRule,
    javascript: &Arc<str>,
    ctx: &ExecutionContext,
    args: &str,
    lazy: &[(&str, &str)],
) -> Result<serde_json::Value, KrepisError> {
    let limits = Limits {
        timeout_ms: BUDGET_MS,
        ..Limits::default()
    };
    SESSIONS.with(|sessions| {
        let mut sessions = sessions.borrow_mut();
        // Rules loaded again (the server, after an edit) leave their old instances behind.
        if sessions.len() >= 32 && !sessions.contains_key(&rule.id) {
            sessions.clear();
        }
        let session = sessions.entry(rule.id).or_insert_with(|| {
            engine::kernel().session(
                javascript.clone(),
                rule.imports.clone(),
                "check".into(),
                limits,
            )
        });
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            session.call(ctx, args, lazy)
        }));
        called.unwrap_or_else(|_| {
            sessions.remove(&rule.id);
            Err(KrepisError {
                code: engine::codes::INTERNAL.into(),
                message: "the engine failed unexpectedly".into(),
                stack: None,
                tenant_id: ctx.tenant_id.clone(),
                snapshot: engine::ResourceSnapshot {
                    heap_used_bytes: 0,
                    elapsed_ms: 0,
                    limit_ms: limits.timeout_ms,
                },
            })
        })
    })
}

fn run_one(
    rule: &CustomRule,
    relative: &str,
    args: &str,
    lazy: &[(&str, &str)],
    text_len: &dyn Fn() -> u32,
) -> Vec<Diagnostic> {
    let ctx = ExecutionContext::new(&format!("rule-{}-{relative}", rule.name));
    let failed = |why: String| vec![failure(rule, why)];
    let javascript = match &rule.javascript {
        Ok(javascript) => javascript,
        Err(why) => return failed(format!("SCRIPT_ERROR: {why}")),
    };
    let value = match call(rule, javascript, &ctx, args, lazy) {
        Ok(value) => value,
        Err(error) => return failed(format!("{}: {}", error.code, error.message)),
    };
    let findings: Vec<Finding> = match serde_json::from_value(value) {
        Ok(findings) => findings,
        Err(error) => {
            return failed(format!(
                "it must return [{{ message, start, end, severity? }}] ({error})"
            ));
        }
    };
    if findings.is_empty() {
        return Vec::new();
    }
    let text_len = text_len();
    findings
        .into_iter()
        .map(|f| {
            let severity = match f.severity.as_deref() {
                Some("error") => Severity::Error,
                Some("info") => Severity::Info,
                _ => Severity::Warning,
            };
            let start = f.start.min(text_len);
            diagnostic(
                rule,
                severity,
                TextRange::new(start, f.end.clamp(start, text_len)),
                f.message,
            )
        })
        .collect()
}

/// Adds the custom rules' findings to `results` (files with syntax errors are skipped).
pub fn apply(rules: &[CustomRule], workspace: &Workspace, cwd: &Path, results: &mut [FileResult]) {
    if rules.is_empty() {
        return;
    }
    // The workspace is single-threaded; facts are gathered first, the engines run in parallel,
    // reading the texts that results lack (a lean load keeps none) from disk.
    type Input = (Arc<ModuleFacts>, Arc<Config>);
    let inputs: Vec<Option<Input>> = results
        .iter()
        .map(|result| {
            let file = workspace.file(&result.path)?;
            let facts = workspace.facts(file);
            if !facts.syntax_errors.is_empty() {
                return None;
            }
            Some((facts, workspace.config_for(&result.path)))
        })
        .collect();
    results
        .par_iter_mut()
        .zip(inputs)
        .for_each(|(result, input)| {
            let Some((facts, config)) = input else {
                return;
            };
            let relative = krepis_analyzer::config::slash_path(
                result.path.strip_prefix(cwd).unwrap_or(&result.path),
            );
            // The text is needed only to keep findings inside it, and to show them.
            let text = std::cell::OnceCell::new();
            let text_of = || text.get_or_init(|| result.source());
            let found = check_module(rules, &relative, &facts, &|| text_of().len() as u32);
            if found.is_empty() {
                return;
            }
            let text = text_of().clone();
            result.text = text;
            // The project's rules obey the same `krepis-ignore` comments as the built-in ones.
            let found = krepis_analyzer::suppressions::apply_custom(&facts, &config, found);
            let mut all = result.diagnostics.to_vec();
            all.extend(found);
            all.sort_by_key(|d| (d.range.start, d.range.end));
            result.diagnostics = Arc::new(all);
        });
}
