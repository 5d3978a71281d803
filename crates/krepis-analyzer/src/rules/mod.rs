//! The rules: one module each, with its docs (the page in `rules/` at the repository root), its
//! options, its check and its fix.

use crate::config::ConfiguredSeverity;
use crate::diagnostic::Severity;

pub mod explicit_context;
pub mod layer_boundary;
pub mod no_implicit_context;

/// A rule's fixed name, as it appears in config, output and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    ExplicitContext,
    ContextPropagation,
    NoImplicitContext,
    LayerBoundary,
    PureDomain,
    CommandQuerySeparation,
    ImportCycle,
    /// Not a configurable rule: a file that does not parse.
    SyntaxError,
}

impl RuleId {
    /// The rules that can be configured, in documentation order.
    pub const CONFIGURABLE: [RuleId; 7] = [
        RuleId::ExplicitContext,
        RuleId::ContextPropagation,
        RuleId::NoImplicitContext,
        RuleId::LayerBoundary,
        RuleId::PureDomain,
        RuleId::CommandQuerySeparation,
        RuleId::ImportCycle,
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
            RuleId::SyntaxError => "syntax-error",
        }
    }

    /// The configurable rule with this name.
    pub fn from_name(name: &str) -> Option<RuleId> {
        Self::CONFIGURABLE.into_iter().find(|r| r.as_str() == name)
    }

    /// The severity a rule has when the config does not mention it.
    pub fn default_severity(self) -> ConfiguredSeverity {
        match self {
            RuleId::CommandQuerySeparation | RuleId::ImportCycle => ConfiguredSeverity::Warn,
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
            RuleId::SyntaxError => "# syntax-error\n\nThe file does not parse as TypeScript or JavaScript. Other rules skip it until it does.\n",
        }
    }

    /// The link to the rule's page, for editors and SARIF.
    pub fn url(self) -> String {
        format!("https://github.com/krepis/krepis/blob/main/rules/{}.md", self.as_str())
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
            let next = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Severity and options of every rule, after config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    severities: [ConfiguredSeverity; 7],
    pub explicit_context: explicit_context::Options,
    pub no_implicit_context: no_implicit_context::Options,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self {
            severities: RuleId::CONFIGURABLE.map(RuleId::default_severity),
            explicit_context: Default::default(),
            no_implicit_context: Default::default(),
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
            _ => {
                let index = RuleId::CONFIGURABLE.iter().position(|r| *r == rule)?;
                self.severities[index].severity()
            }
        }
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
