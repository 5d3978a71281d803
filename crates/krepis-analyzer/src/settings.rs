//! What config says of each rule: its severity and its options, read and validated when the
//! configuration is. The rules read them from here; config builds them without knowing the rules.

use crate::catalog::{ConfiguredSeverity, RuleId};
use crate::diagnostic::{Diagnostic, Fix, Severity, TextRange};

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
    pub invalid_suppression: invalid_suppression::Options,
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

/// The default of the options that are on unless config turns them off.
fn yes() -> bool {
    true
}

pub mod explicit_context {
    /// Options of `explicit-context`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Options {
        /// Also check async callbacks passed straight to a call (`app.get("/", async (req) => …)`).
        #[serde(default)]
        pub check_inline_callbacks: bool,
        /// Also check methods that may implement or override a type from outside the project (a
        /// framework's interface or base class); by default they are entry points, which make a
        /// context rather than take one.
        #[serde(default)]
        pub check_external_implementations: bool,
    }
}

pub mod no_implicit_context {
    /// Options of `no-implicit-context`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Options {
        /// More implicit-context packages to ban.
        #[serde(default)]
        pub packages: Vec<String>,
        /// Project modules (globs relative to the configuration's folder) that read implicit
        /// context in a way Krepis cannot see: their importers are reported like a wrapper's.
        #[serde(default)]
        pub modules: Globs,
    }

    /// Globs as written, compiled once when the configuration is read.
    #[derive(Debug, Clone, Default)]
    pub struct Globs {
        pub patterns: Vec<String>,
        set: globset::GlobSet,
    }

    impl Globs {
        pub fn is_empty(&self) -> bool {
            self.patterns.is_empty()
        }

        pub fn is_match(&self, relative: &str) -> bool {
            self.set.is_match(relative)
        }
    }

    impl PartialEq for Globs {
        fn eq(&self, other: &Self) -> bool {
            self.patterns == other.patterns
        }
    }

    impl Eq for Globs {}

    impl<'de> serde::Deserialize<'de> for Globs {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let patterns = Vec::<String>::deserialize(deserializer)?;
            let mut builder = globset::GlobSetBuilder::new();
            for glob in &patterns {
                let glob = globset::Glob::new(glob).map_err(|e| {
                    serde::de::Error::custom(format!("`{glob}` is not a glob: {e}"))
                })?;
                builder.add(glob);
            }
            let set = builder.build().map_err(serde::de::Error::custom)?;
            Ok(Globs { patterns, set })
        }
    }
}

pub mod pure_domain {
    /// Options of `pure-domain`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Options {
        /// More modules the domain may not import: package patterns (see [`crate::packages`]).
        #[serde(default)]
        pub banned_modules: Vec<String>,
        /// `banned_modules`, compiled (when the options are read).
        #[serde(skip)]
        pub banned: crate::packages::PackageMatcher,
        /// Globals the domain may use after all (`process`, `Date.now`…).
        #[serde(default)]
        pub allow_globals: Vec<String>,
        /// More functions of packages that read time or randomness: `"uuid#v4"`,
        /// `"dayjs#default()"` (only when called with no argument), `"luxon#DateTime.now"`.
        #[serde(default)]
        pub nondeterministic_calls: Vec<CallSpec>,
        /// Built-in entries of [`crate::rules::pure_domain::NONDETERMINISTIC`] the domain may call after all (same form).
        #[serde(default)]
        pub allow_calls: Vec<CallSpec>,
    }

    /// A function of a package: `package#path`, `()` at the end when only a call with no argument
    /// counts.
    #[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
    #[serde(try_from = "String")]
    pub struct CallSpec {
        pub package: String,
        /// What the package exports, then members: `v4`, `default`, `DateTime.now`.
        pub path: String,
        pub only_without_arguments: bool,
    }

    impl TryFrom<String> for CallSpec {
        type Error = String;

        fn try_from(text: String) -> Result<Self, String> {
            let (package, path) = text.rsplit_once('#').ok_or_else(|| {
                format!(
                    "`{text}` is not `package#function` (for example `uuid#v4` or `dayjs#default()`)"
                )
            })?;
            let (path, only_without_arguments) = match path.strip_suffix("()") {
                Some(path) => (path, true),
                None => (path, false),
            };
            let valid = |part: &str| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            };
            if package.is_empty() || !path.split('.').all(valid) {
                return Err(format!(
                    "`{text}` is not `package#function` (for example `uuid#v4` or `dayjs#default()`)"
                ));
            }
            Ok(CallSpec {
                package: crate::packages::package_name(package).to_string(),
                path: path.to_string(),
                only_without_arguments,
            })
        }
    }
}

pub mod layer_boundary {
    /// Options of `layer-boundary`.
    #[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Options {
        /// Check each name imported through a barrel against the layer of the module that defines
        /// it, too.
        #[serde(default = "super::yes")]
        pub trace_barrels: bool,
    }

    impl Default for Options {
        fn default() -> Self {
            Options {
                trace_barrels: true,
            }
        }
    }
}

pub mod command_query_separation {
    /// Options of `command-query-separation`.
    #[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase", default)]
    pub struct Options {
        pub command_patterns: Vec<String>,
        pub query_patterns: Vec<String>,
        pub command_folders: Vec<String>,
        pub query_folders: Vec<String>,
        pub handler_methods: Vec<String>,
        pub mutating_verbs: Vec<String>,
    }

    impl Default for Options {
        fn default() -> Self {
            let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
            Self {
                command_patterns: strings(&["*CommandHandler"]),
                query_patterns: strings(&["*QueryHandler"]),
                command_folders: strings(&["commands"]),
                query_folders: strings(&["queries"]),
                handler_methods: strings(&["handle", "execute"]),
                mutating_verbs: strings(&[
                    "save", "create", "update", "delete", "remove", "insert", "upsert", "publish",
                    "dispatch", "emit", "send", "set",
                ]),
            }
        }
    }
}

pub mod import_cycle {
    /// Options of `import-cycle`.
    #[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Options {
        /// Leave out imports that vanish at run time (`import type`, every name `type`,
        /// `import("x").T`). On by default: the evaluation order a cycle breaks is decided by the
        /// imports that remain in the JavaScript.
        #[serde(default = "super::yes")]
        pub ignore_type_imports: bool,
        /// Compute cycles on the graph where a name imported through a barrel is an import of the
        /// module that defines it (barrels cause most cycles that are no design problem).
        #[serde(default)]
        pub through_barrels: bool,
    }

    impl Default for Options {
        fn default() -> Self {
            Options {
                ignore_type_imports: true,
                through_barrels: false,
            }
        }
    }
}

pub mod invalid_suppression {
    /// Options of `invalid-suppression`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Options {
        /// Every suppression must say why after `--`.
        #[serde(default = "super::yes")]
        pub require_reason: bool,
    }

    impl Default for Options {
        fn default() -> Self {
            Self {
                require_reason: true,
            }
        }
    }
}
