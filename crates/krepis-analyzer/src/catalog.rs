//! The rules' names and severities: what config, output and docs call each rule, and how
//! serious its findings are. A leaf: every other module may use it.

use std::fmt;

/// How serious a diagnostic is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    Error,
    Warning,
    Info,
    /// Shown faintly: a finding the baseline accepts, as the editor shows it.
    Hint,
}

impl Severity {
    /// The name used in JSON output: `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity as written in config: `"error"`, `"warn"` or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfiguredSeverity {
    Error,
    Warn,
    Off,
}

impl ConfiguredSeverity {
    /// The diagnostic severity, or `None` when the rule is off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            ConfiguredSeverity::Error => Some(Severity::Error),
            ConfiguredSeverity::Warn => Some(Severity::Warning),
            ConfiguredSeverity::Off => None,
        }
    }
}

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
            RuleId::ExplicitContext => include_str!("../../../rules/explicit-context.md"),
            RuleId::ContextPropagation => include_str!("../../../rules/context-propagation.md"),
            RuleId::NoImplicitContext => include_str!("../../../rules/no-implicit-context.md"),
            RuleId::LayerBoundary => include_str!("../../../rules/layer-boundary.md"),
            RuleId::PureDomain => include_str!("../../../rules/pure-domain.md"),
            RuleId::CommandQuerySeparation => {
                include_str!("../../../rules/command-query-separation.md")
            }
            RuleId::ImportCycle => include_str!("../../../rules/import-cycle.md"),
            RuleId::UnusedSuppression => include_str!("../../../rules/unused-suppression.md"),
            RuleId::InvalidSuppression => {
                include_str!("../../../rules/invalid-suppression.md")
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
