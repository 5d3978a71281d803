//! A project's own rules: TypeScript modules in `.krepis/rules/`, run in the kernel.
//!
//! Each module exports `check(ctx, module)`, where `module` is `{ path, facts }` (the same facts the
//! built-in rules read), and returns `[{ message, start, end, severity? }]` with byte offsets.
//! Every file gets a fresh sandboxed engine with a time budget; a rule that throws, loops or
//! returns nonsense becomes one warning about the rule on that file, never a crash.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::engine::{self, ExecutionContext, Limits};
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
    pub javascript: Result<String, String>,
    /// What it may import (see [`engine::Imports`]).
    pub imports: engine::Imports,
}

/// The rules in `root/.krepis/rules/` (`*.ts`, `*.js`), by name.
pub fn load(root: &Path) -> Vec<CustomRule> {
    scripts::load(root, "rules")
        .into_iter()
        .map(|script| CustomRule {
            name: script.name,
            javascript: script.javascript,
            imports: script.imports,
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
    let found = match serde_json::to_value(facts) {
        Ok(facts) => Arc::new(check_module(rules, relative, &facts, text.len() as u32)),
        Err(_) => Arc::default(),
    };
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
    facts: &serde_json::Value,
    text_len: u32,
) -> Vec<Diagnostic> {
    rules
        .iter()
        .flat_map(|rule| run_one(rule, relative, facts.clone(), text_len))
        .collect()
}

fn run_one(
    rule: &CustomRule,
    relative: &str,
    facts: serde_json::Value,
    text_len: u32,
) -> Vec<Diagnostic> {
    let module = serde_json::json!({ "path": relative, "facts": facts });
    let limits = Limits {
        timeout_ms: BUDGET_MS,
        ..Limits::default()
    };
    let ctx = ExecutionContext::new(&format!("rule-{}-{relative}", rule.name));
    let failed = |why: String| {
        vec![diagnostic(
            rule,
            Severity::Warning,
            TextRange::default(),
            format!("custom rule `{}` failed on this file: {why}", rule.name),
        )]
    };
    let javascript = match &rule.javascript {
        Ok(javascript) => javascript,
        Err(why) => return failed(format!("SCRIPT_ERROR: {why}")),
    };
    let value = match engine::execute_javascript(
        engine::kernel(),
        &ctx,
        javascript,
        &rule.imports,
        "check",
        &[module],
        limits,
    ) {
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
    // The workspace is single-threaded; facts are gathered first, the engines run in parallel.
    type Input = (serde_json::Value, Arc<ModuleFacts>, Arc<Config>);
    let inputs: Vec<Option<Input>> = results
        .iter()
        .map(|result| {
            let facts = workspace.facts(workspace.file(&result.path)?);
            if !facts.syntax_errors.is_empty() {
                return None;
            }
            let json = serde_json::to_value(&*facts).ok()?;
            Some((json, facts, workspace.config_for(&result.path)))
        })
        .collect();
    results
        .par_iter_mut()
        .zip(inputs)
        .for_each(|(result, input)| {
            let Some((json, facts, config)) = input else {
                return;
            };
            let relative = krepis_analyzer::config::slash_path(
                result.path.strip_prefix(cwd).unwrap_or(&result.path),
            );
            let found = check_module(rules, &relative, &json, result.text.len() as u32);
            // The project's rules obey the same `krepis-ignore` comments as the built-in ones.
            let found = krepis_analyzer::suppressions::apply_custom(&facts, &config, found);
            let mut all = result.diagnostics.to_vec();
            all.extend(found);
            all.sort_by_key(|d| (d.range.start, d.range.end));
            result.diagnostics = Arc::new(all);
        });
}
