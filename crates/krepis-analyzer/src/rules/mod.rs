//! The rules: one module each, with its docs (the page in `rules/` at the repository root), its
//! options, its check and its fix.

use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Fix, TextRange};
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

pub use crate::catalog::{RuleId, closest_rule, edit_distance};

pub use crate::packages::package_name;
pub use crate::settings::RuleSettings;

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
    /// The project's compiler reads `import type` (TypeScript 3.8 and later, and Deno); an
    /// import a fix adds for a type is a plain one otherwise.
    pub type_only_imports: bool,
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
            type_only_imports: true,
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
