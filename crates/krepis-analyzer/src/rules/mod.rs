//! The rules: one module each, with its docs (the page in `rules/` at the repository root), its
//! options, its check and its fix.

use std::path::Path;
use std::sync::Arc;

use crate::config::{Config, ConfiguredSeverity};
use crate::diagnostic::{Diagnostic, Fix, Severity, TextRange};
use crate::facts::ModuleFacts;
use crate::layers::LayerMatch;
use crate::resolve::Resolution;
use crate::signatures::CalleeIndex;

pub mod command_query_separation;
pub mod context_propagation;
pub mod explicit_context;
pub mod import_cycle;
pub mod layer_boundary;
pub mod no_implicit_context;
pub mod pure_domain;

/// A rule's fixed name, as it appears in config, output and docs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum RuleId {
    ExplicitContext,
    ContextPropagation,
    NoImplicitContext,
    LayerBoundary,
    PureDomain,
    CommandQuerySeparation,
    ImportCycle,
    /// A `krepis-ignore` comment that silences nothing.
    UnusedSuppression,
    /// A `krepis-ignore` comment without a reason, or naming no rule or an unknown one.
    InvalidSuppression,
    /// Not a configurable rule: a file that does not parse.
    SyntaxError,
    /// A project's own rule from `.krepis/rules/` (its name is on the diagnostic).
    Custom,
}

impl RuleId {
    /// The rules that can be configured, in documentation order.
    pub const CONFIGURABLE: [RuleId; 9] = [
        RuleId::ExplicitContext,
        RuleId::ContextPropagation,
        RuleId::NoImplicitContext,
        RuleId::LayerBoundary,
        RuleId::PureDomain,
        RuleId::CommandQuerySeparation,
        RuleId::ImportCycle,
        RuleId::UnusedSuppression,
        RuleId::InvalidSuppression,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::ExplicitContext => "explicit-context",
            RuleId::ContextPropagation => "context-propagation",
            RuleId::NoImplicitContext => "no-implicit-context",
            RuleId::LayerBoundary => "layer-boundary",
            RuleId::PureDomain => "pure-domain",
            RuleId::CommandQuerySeparation => "command-query-separation",
            RuleId::ImportCycle => "import-cycle",
            RuleId::UnusedSuppression => "unused-suppression",
            RuleId::InvalidSuppression => "invalid-suppression",
            RuleId::SyntaxError => "syntax-error",
            RuleId::Custom => "custom",
        }
    }

    /// The configurable rule with this name.
    pub fn from_name(name: &str) -> Option<RuleId> {
        Self::CONFIGURABLE.into_iter().find(|r| r.as_str() == name)
    }

    /// The severity a rule has when the config does not mention it.
    pub fn default_severity(self) -> ConfiguredSeverity {
        match self {
            RuleId::CommandQuerySeparation | RuleId::ImportCycle | RuleId::UnusedSuppression => {
                ConfiguredSeverity::Warn
            }
            _ => ConfiguredSeverity::Error,
        }
    }

    /// The rule's page: what, why, examples, options and fix.
    pub fn docs(self) -> &'static str {
        match self {
            RuleId::ExplicitContext => include_str!("../../../../rules/explicit-context.md"),
            RuleId::ContextPropagation => include_str!("../../../../rules/context-propagation.md"),
            RuleId::NoImplicitContext => include_str!("../../../../rules/no-implicit-context.md"),
            RuleId::LayerBoundary => include_str!("../../../../rules/layer-boundary.md"),
            RuleId::PureDomain => include_str!("../../../../rules/pure-domain.md"),
            RuleId::CommandQuerySeparation => {
                include_str!("../../../../rules/command-query-separation.md")
            }
            RuleId::ImportCycle => include_str!("../../../../rules/import-cycle.md"),
            RuleId::UnusedSuppression => include_str!("../../../../rules/unused-suppression.md"),
            RuleId::InvalidSuppression => {
                include_str!("../../../../rules/invalid-suppression.md")
            }
            RuleId::SyntaxError => {
                "# syntax-error\n\nThe file does not parse as TypeScript or JavaScript. Other rules skip it until it does.\n"
            }
            RuleId::Custom => {
                "# custom rules\n\nA project's own rules, from `.krepis/rules/*.ts`; see the README.\n"
            }
        }
    }

    /// The link to the rule's page, for editors and SARIF.
    pub fn url(self) -> String {
        format!(
            "https://github.com/krepis/krepis/blob/main/rules/{}.md",
            self.as_str()
        )
    }
}

/// The configurable rule whose name is closest to `name` (for "did you mean").
pub fn closest_rule(name: &str) -> Option<RuleId> {
    RuleId::CONFIGURABLE
        .into_iter()
        .map(|r| (edit_distance(name, r.as_str()), r))
        .filter(|(d, _)| *d <= 3.max(name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, r)| r)
}

/// Levenshtein distance, for suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Severity and options of every rule, after config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    severities: [ConfiguredSeverity; RuleId::CONFIGURABLE.len()],
    pub explicit_context: explicit_context::Options,
    pub no_implicit_context: no_implicit_context::Options,
    pub pure_domain: pure_domain::Options,
    pub layer_boundary: layer_boundary::Options,
    pub command_query_separation: command_query_separation::Options,
    pub import_cycle: import_cycle::Options,
    pub invalid_suppression: crate::suppressions::Options,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self {
            severities: RuleId::CONFIGURABLE.map(RuleId::default_severity),
            explicit_context: Default::default(),
            no_implicit_context: Default::default(),
            pure_domain: Default::default(),
            layer_boundary: Default::default(),
            command_query_separation: Default::default(),
            import_cycle: Default::default(),
            invalid_suppression: Default::default(),
        }
    }
}

fn parse_options<T: serde::de::DeserializeOwned + Default>(
    options: Option<&serde_json::Value>,
) -> Result<T, String> {
    match options {
        None => Ok(T::default()),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| e.to_string()),
    }
}

impl RuleSettings {
    /// The severity of `rule`, or `None` when it is off.
    pub fn severity(&self, rule: RuleId) -> Option<Severity> {
        match rule {
            RuleId::SyntaxError => Some(Severity::Error),
            RuleId::Custom => Some(Severity::Warning),
            _ => {
                let index = RuleId::CONFIGURABLE.iter().position(|r| *r == rule)?;
                self.severities[index].severity()
            }
        }
    }

    /// A finding of `rule` with its configured severity, or `None` when the rule is off.
    pub fn finding(
        &self,
        rule: RuleId,
        range: TextRange,
        message: String,
        note: Option<String>,
        fix: Option<Fix>,
    ) -> Option<Diagnostic> {
        Some(Diagnostic {
            rule,
            custom_rule: None,
            severity: self.severity(rule)?,
            range,
            message,
            note,
            fix,
        })
    }

    /// Applies one `"rules"` entry; the error says what is wrong with the options.
    pub fn set(
        &mut self,
        rule: RuleId,
        severity: ConfiguredSeverity,
        options: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let Some(index) = RuleId::CONFIGURABLE.iter().position(|r| *r == rule) else {
            return Err("not a configurable rule".into());
        };
        self.severities[index] = severity;
        match rule {
            RuleId::ExplicitContext => self.explicit_context = parse_options(options)?,
            RuleId::NoImplicitContext => self.no_implicit_context = parse_options(options)?,
            RuleId::PureDomain => {
                let mut parsed: pure_domain::Options = parse_options(options)?;
                parsed.banned = crate::packages::PackageMatcher::new(&parsed.banned_modules)
                    .map_err(|(pattern, message)| {
                        format!("`bannedModules`: `{pattern}`: {message}")
                    })?;
                self.pure_domain = parsed;
            }
            RuleId::CommandQuerySeparation => {
                self.command_query_separation = parse_options(options)?
            }
            RuleId::ImportCycle => self.import_cycle = parse_options(options)?,
            RuleId::LayerBoundary => self.layer_boundary = parse_options(options)?,
            RuleId::InvalidSuppression => self.invalid_suppression = parse_options(options)?,
            _ => {
                if let Some(options) = options
                    && options.as_object().is_some_and(|o| !o.is_empty())
                {
                    return Err("this rule has no options".into());
                }
            }
        }
        Ok(())
    }
}

/// The package a specifier names: `npm:cls-hooked@4/x` → `cls-hooked`, `node:async_hooks` → `async_hooks`.
pub fn package_name(specifier: &str) -> &str {
    let bare = specifier
        .strip_prefix("node:")
        .or_else(|| specifier.strip_prefix("npm:"))
        .unwrap_or(specifier);
    crate::packages::package_of(bare.trim_start_matches('/'))
}

/// What a rule sees of one file, and where it reports.
pub struct RuleContext<'a> {
    pub path: &'a Path,
    pub facts: &'a ModuleFacts,
    pub config: &'a Config,
    /// The resolution of each entry of `facts.imports`, in order.
    pub resolutions: &'a [Resolution],
    /// The layer that owns this file.
    pub layer: Option<&'a LayerMatch>,
    /// TypeScript (types can be written) rather than JavaScript.
    pub is_typescript: bool,
    /// What the functions this module can call take.
    pub callees: &'a CalleeIndex,
    /// Imports of project modules that read implicit context: the import's index, what the
    /// module reads through, and its path (see [`no_implicit_context::wrappers_imported`]).
    pub implicit_wrappers: Vec<(u32, crate::facts::Name, String)>,
    /// Names this module imports through barrels, with the module that defines each (see
    /// [`crate::barrels`]); filled when `layer-boundary` traces them.
    pub traced: Arc<Vec<crate::barrels::TracedName>>,
    /// Whether each import vanishes at run time (see [`crate::barrels::erased_imports`]);
    /// filled when a layer allows another for types only.
    pub erased: Arc<Vec<bool>>,
    /// The configuration at the root of the monorepo workspace the file is in, when the file
    /// has a nearer one of its own: its layers hold across packages (see `layer-boundary`).
    pub workspace_config: Option<Arc<crate::config::Config>>,
    /// The project's types, for methods called on a receiver.
    pub model: &'a crate::model::Model<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> RuleContext<'a> {
    pub fn new(
        path: &'a Path,
        facts: &'a ModuleFacts,
        config: &'a Config,
        resolutions: &'a [Resolution],
        layer: Option<&'a LayerMatch>,
        callees: &'a CalleeIndex,
        model: &'a crate::model::Model<'a>,
    ) -> Self {
        let is_typescript = crate::signatures::is_typescript_path(path);
        Self {
            callees,
            model,
            path,
            facts,
            config,
            resolutions,
            layer,
            is_typescript,
            implicit_wrappers: Vec::new(),
            traced: Arc::default(),
            erased: Arc::default(),
            workspace_config: None,
            diagnostics: Vec::new(),
        }
    }

    /// Whether `rule` is on for this file.
    pub fn enabled(&self, rule: RuleId) -> bool {
        self.config.rules.severity(rule).is_some()
    }

    /// Reports a finding of `rule` with its configured severity (nothing when the rule is off).
    pub fn report(
        &mut self,
        rule: RuleId,
        range: TextRange,
        message: String,
        note: Option<String>,
        fix: Option<Fix>,
    ) {
        if let Some(found) = self.config.rules.finding(rule, range, message, note, fix) {
            self.diagnostics.push(found);
        }
    }

    /// The diagnostics, sorted by position.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by(|a, b| {
            (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
        });
        self.diagnostics
    }
}

/// Runs every rule on one file. Files with syntax errors get only those: the other rules would
/// see a partial tree and report things that are not there.
/// An import cycle to report on one of this module's imports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CycleFinding {
    /// Index into the module's `ModuleFacts::imports`.
    pub import: u32,
    pub message: String,
    pub note: String,
}

pub fn check_module(mut cx: RuleContext<'_>, cycles: &[CycleFinding]) -> Vec<Diagnostic> {
    if !cx.facts.syntax_errors.is_empty() {
        for error in &cx.facts.syntax_errors {
            cx.report(
                RuleId::SyntaxError,
                error.range,
                error.message.clone(),
                Some("other rules skip this file until it parses".into()),
                None,
            );
        }
        return cx.finish();
    }
    if cx.enabled(RuleId::ExplicitContext) {
        explicit_context::check(&mut cx);
    }
    if cx.enabled(RuleId::ContextPropagation) {
        context_propagation::check(&mut cx);
    }
    if cx.enabled(RuleId::NoImplicitContext) {
        no_implicit_context::check(&mut cx);
    }
    if cx.enabled(RuleId::LayerBoundary) {
        layer_boundary::check(&mut cx);
    }
    if cx.enabled(RuleId::PureDomain) {
        pure_domain::check(&mut cx);
    }
    if cx.enabled(RuleId::CommandQuerySeparation) {
        command_query_separation::check(&mut cx);
    }
    for cycle in cycles {
        if let Some(import) = cx.facts.imports.get(cycle.import as usize) {
            let note = Some(cycle.note.clone());
            cx.report(
                RuleId::ImportCycle,
                import.range,
                cycle.message.clone(),
                note,
                None,
            );
        }
    }
    cx.finish()
}
