//! `krepis.json` (or the `"krepis"` key of `deno.json`): reading, validating and defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

pub use crate::catalog::ConfiguredSeverity;
use crate::catalog::RuleId;
use crate::jsonc;
use crate::layers::LayerMap;
pub use crate::layers::{AllowDetail, LayerConfig, PackagesConfig};
use crate::settings::RuleSettings;

/// The configuration embedded in the binary, used when no file is found (DESIGN §3).
pub const DEFAULT_CONFIG: &str = r#"{
  "context": { "type": "KrepisContext", "param": "ctx", "module": "@krepis/core" },
  "layers": [
    { "name": "domain",         "paths": ["**/domain/**"],         "allow": [] },
    { "name": "application",    "paths": ["**/application/**"],    "allow": ["domain"] },
    { "name": "infrastructure", "paths": ["**/infrastructure/**"], "allow": ["domain", "application"] },
    { "name": "adapters",       "paths": ["**/adapters/**"],       "allow": ["domain", "application", "infrastructure"] }
  ],
  "rules": {},                       // "rule": "error" | "warn" | "off" | ["error", { options }]
  "ignore": ["**/node_modules/**", "**/*.test.ts", "**/*_test.ts", "**/*.spec.ts", "**/*.d.ts"]
}
"#;

/// A configuration that could not be used: always names the file and, where known, the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// Where a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConfigSource {
    /// The embedded default, applied relative to this folder.
    Default,
    /// A `krepis.json` file.
    File(PathBuf),
    /// The `"krepis"` key of a `deno.json` / `deno.jsonc`.
    DenoJson(PathBuf),
}

/// The context convention: the type of the context parameter, its usual name and its module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    #[serde(rename = "type", default = "default_context_type")]
    pub type_name: String,
    #[serde(default = "default_context_param")]
    pub param: String,
    #[serde(default = "default_context_module")]
    pub module: String,
    /// Functions of `module` that make a new context (entry points call them): an argument made
    /// by one of them is a context, and the first is what a fix calls where none is in scope.
    #[serde(default = "default_context_factories")]
    pub factories: Vec<String>,
}

fn default_context_type() -> String {
    "KrepisContext".into()
}
fn default_context_param() -> String {
    "ctx".into()
}
fn default_context_module() -> String {
    "@krepis/core".into()
}
fn default_context_factories() -> Vec<String> {
    [
        "createContext",
        "testContext",
        "contextFromRequest",
        "contextFromIncomingMessage",
    ]
    .map(String::from)
    .to_vec()
}

impl Default for ContextConfig {
    fn default() -> Self {
        Self {
            type_name: default_context_type(),
            param: default_context_param(),
            module: default_context_module(),
            factories: default_context_factories(),
        }
    }
}

/// One entry of `"rules"`: a severity, or `[severity, { options }]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEntry {
    pub severity: ConfiguredSeverity,
    pub options: Option<serde_json::Value>,
}

const SEVERITY_EXPECTED: &str = "\"error\", \"warn\" or \"off\", or [severity, { options }]";

fn parse_severity<E: de::Error>(value: &str) -> Result<ConfiguredSeverity, E> {
    match value {
        "error" => Ok(ConfiguredSeverity::Error),
        "warn" => Ok(ConfiguredSeverity::Warn),
        "off" => Ok(ConfiguredSeverity::Off),
        other => Err(E::invalid_value(
            de::Unexpected::Str(other),
            &SEVERITY_EXPECTED,
        )),
    }
}

impl<'de> Deserialize<'de> for RuleEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RuleEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SEVERITY_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleEntry, E> {
                Ok(RuleEntry {
                    severity: parse_severity(v)?,
                    options: None,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleEntry, A::Error> {
                let severity: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let severity = parse_severity(&severity)?;
                let options: Option<serde_json::Value> = seq.next_element()?;
                if let Some(options) = &options
                    && !options.is_object()
                {
                    return Err(de::Error::custom("rule options must be an object"));
                }
                if seq.next_element::<serde_json::Value>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(RuleEntry { severity, options })
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

/// The file's shape, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    #[serde(default)]
    context: Option<ContextConfig>,
    #[serde(default)]
    layers: Option<Vec<LayerConfig>>,
    #[serde(default)]
    rules: BTreeMap<String, RuleEntry>,
    #[serde(default)]
    ignore: Option<Vec<String>>,
    #[serde(rename = "checkAmbientModules", default)]
    check_ambient_modules: bool,
}

/// The names of the rules in `dir/.krepis/rules/` (`*.ts`, `*.js`), sorted.
fn custom_rule_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join(".krepis").join("rules")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("ts" | "js")))
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A validated configuration, ready to use.
#[derive(Debug)]
pub struct Config {
    pub source: ConfigSource,
    /// Globs are relative to this folder.
    pub dir: PathBuf,
    pub context: ContextConfig,
    pub layers: LayerMap,
    pub rules: RuleSettings,
    pub ignore: globset::GlobSet,
    /// The ignore globs as written, for display.
    pub ignore_patterns: Vec<String>,
    /// Check modules made only of ambient declarations (`declare …`) like other code, instead
    /// of leaving them alone like `.d.ts` files.
    pub check_ambient_modules: bool,
    /// A hash of the file's contents (and of the project rules' names), for cache keys.
    pub content_hash: u64,
    /// The names of the project's own rules (`.krepis/rules/*.ts` beside the config), which
    /// suppressions may name.
    pub custom_rules: Vec<String>,
}

impl Config {
    /// The embedded default, with globs relative to `dir`.
    pub fn default_for(dir: &Path) -> Arc<Config> {
        // The embedded default is tested to parse; fall back to an empty layer set rather than panic.
        match Self::parse(
            DEFAULT_CONFIG,
            ConfigSource::Default,
            dir,
            Path::new("<default>"),
        ) {
            Ok(config) => Arc::new(config),
            Err(_) => Arc::new(Config {
                source: ConfigSource::Default,
                dir: dir.to_path_buf(),
                context: ContextConfig::default(),
                layers: LayerMap::default(),
                rules: RuleSettings::default(),
                ignore: globset::GlobSet::empty(),
                ignore_patterns: Vec::new(),
                check_ambient_modules: false,
                content_hash: 0,
                custom_rules: Vec::new(),
            }),
        }
    }

    /// Reads `krepis.json` (JSONC) at `path`.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = read_text(path)?;
        let dir = parent_dir(path);
        Self::parse(&text, ConfigSource::File(path.to_path_buf()), &dir, path)
    }

    /// Reads the `"krepis"` key of a `deno.json(c)`; `Ok(None)` when the key is absent.
    pub fn load_deno_json(path: &Path) -> Result<Option<Config>, ConfigError> {
        let text = read_text(path)?;
        let json = jsonc::to_json(&text);
        let value: serde_json::Value = serde_json::from_str(&json).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: Some(e.line()),
            message: format!("invalid JSON: {e}"),
        })?;
        let Some(section) = value.get("krepis") else {
            return Ok(None);
        };
        let line = jsonc::line_of_key(&text, "krepis");
        let raw: RawConfig = serde_json::from_value(section.clone()).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line,
            message: format!("in \"krepis\": {e}"),
        })?;
        let dir = parent_dir(path);
        Self::validate(
            raw,
            ConfigSource::DenoJson(path.to_path_buf()),
            &dir,
            path,
            &text,
        )
        .map(Some)
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn parse(
        text: &str,
        source: ConfigSource,
        dir: &Path,
        file: &Path,
    ) -> Result<Config, ConfigError> {
        let json = jsonc::to_json(text);
        if json.trim().is_empty() {
            return Err(ConfigError {
                file: file.to_path_buf(),
                line: Some(1),
                message: "the file is empty; expected a JSON object".into(),
            });
        }
        let raw: RawConfig = serde_json::from_str(&json).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: Some(e.line()),
            message: describe_serde_error(&e),
        })?;
        Self::validate(raw, source, dir, file, text)
    }

    fn validate(
        raw: RawConfig,
        source: ConfigSource,
        dir: &Path,
        file: &Path,
        text: &str,
    ) -> Result<Config, ConfigError> {
        let error = |key: &str, message: String| ConfigError {
            file: file.to_path_buf(),
            line: jsonc::line_of_key(text, key),
            message,
        };
        let default_layers = || -> Vec<LayerConfig> {
            vec![
                layer("domain", "**/domain/**", &[]),
                layer("application", "**/application/**", &["domain"]),
                layer(
                    "infrastructure",
                    "**/infrastructure/**",
                    &["domain", "application"],
                ),
                layer(
                    "adapters",
                    "**/adapters/**",
                    &["domain", "application", "infrastructure"],
                ),
            ]
        };
        let layers = raw.layers.unwrap_or_else(default_layers);
        let layers = LayerMap::new(&layers).map_err(|e| error(&e.key, e.message))?;
        let layers = match source {
            ConfigSource::Default => layers,
            _ => layers.with_lines(text, file),
        };

        let mut rules = RuleSettings::default();
        for (name, entry) in &raw.rules {
            let Some(rule) = RuleId::from_name(name) else {
                let mut message = format!("unknown rule `{name}`; expected one of: ");
                message.push_str(&RuleId::CONFIGURABLE.map(|r| r.as_str()).join(", "));
                if let Some(close) = crate::catalog::closest_rule(name) {
                    message = format!("unknown rule `{name}` (did you mean `{}`?)", close.as_str());
                }
                return Err(error(name, message));
            };
            rules
                .set(rule, entry.severity, entry.options.as_ref())
                .map_err(|message| error(name, format!("rule `{name}`: {message}")))?;
        }

        let context = raw.context.unwrap_or_default();
        if context.type_name.is_empty() || context.param.is_empty() {
            return Err(error(
                "context",
                "`context.type` and `context.param` must not be empty".into(),
            ));
        }
        // Fixes write `param: Type` and `import type { Type } from "module"` into code: both
        // must stay valid TypeScript.
        let factories = context.factories.iter().map(|f| ("factories", f));
        for (key, value) in [("type", &context.type_name), ("param", &context.param)]
            .into_iter()
            .chain(factories)
        {
            if !oxc_syntax::identifier::is_identifier_name(value)
                || oxc_syntax::keyword::is_reserved_keyword(value)
            {
                return Err(error(
                    "context",
                    format!("`context.{key}` must be a TypeScript identifier, not `{value}`"),
                ));
            }
        }
        if context.module.contains(['"', '\\', '\n', '\r']) {
            return Err(error(
                "context",
                "`context.module` must not contain quotes, backslashes or line breaks".into(),
            ));
        }

        let ignore_patterns = raw.ignore.unwrap_or_else(|| {
            [
                "**/node_modules/**",
                "**/*.test.ts",
                "**/*_test.ts",
                "**/*.spec.ts",
                "**/*.d.ts",
            ]
            .map(String::from)
            .to_vec()
        });
        let mut ignore = globset::GlobSetBuilder::new();
        for pattern in &ignore_patterns {
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| error(pattern, format!("invalid ignore glob `{pattern}`: {e}")))?;
            ignore.add(glob);
        }
        let ignore = ignore
            .build()
            .map_err(|e| error("ignore", format!("invalid ignore globs: {e}")))?;

        let custom_rules = custom_rule_names(dir);
        let content_hash = xxhash(format!("{text}\0{}", custom_rules.join(",")).as_bytes());
        Ok(Config {
            source,
            dir: dir.to_path_buf(),
            context,
            layers,
            rules,
            ignore,
            ignore_patterns,
            check_ambient_modules: raw.check_ambient_modules,
            content_hash,
            custom_rules,
        })
    }

    /// `path` relative to the config folder with `/` separators, if it is inside it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.dir).ok()?;
        Some(slash_path(rel))
    }

    /// Whether the config's `ignore` globs exclude `path`.
    pub fn is_ignored(&self, path: &Path) -> bool {
        match self.relative(path) {
            Some(rel) => self.ignore.is_match(rel),
            None => self.ignore.is_match(slash_path(path)),
        }
    }
}

fn layer(name: &str, path: &str, allow: &[&str]) -> LayerConfig {
    LayerConfig {
        name: name.into(),
        paths: vec![path.into()],
        allow: allow.iter().map(|s| s.to_string()).collect(),
        ..LayerConfig::default()
    }
}

/// A path with `/` separators.
pub fn slash_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace('\\', "/")
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|_| ConfigError {
        file: path.to_path_buf(),
        line: None,
        message: "not UTF-8 text".into(),
    })
}

/// serde_json's message without its trailing " at line L column C" (the line is reported apart).
fn describe_serde_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    format!("{message} (column {})", e.column())
}

/// A fast, stable 64-bit hash of bytes.
pub(crate) fn xxhash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(
            text,
            ConfigSource::Default,
            Path::new("/p"),
            Path::new("/p/krepis.json"),
        )
    }

    #[test]
    fn embedded_default_is_exactly_the_design() {
        let config = parse(DEFAULT_CONFIG).unwrap();
        assert_eq!(config.context, ContextConfig::default());
        let names: Vec<_> = config
            .layers
            .layers()
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["domain", "application", "infrastructure", "adapters"]
        );
        assert!(config.is_ignored(Path::new("/p/src/a.test.ts")));
        assert!(config.is_ignored(Path::new("/p/node_modules/x/index.ts")));
        assert!(!config.is_ignored(Path::new("/p/src/a.ts")));
    }

    #[test]
    fn unknown_key_names_line_and_expected_keys() {
        let err = parse("{\n  \"context\": {},\n  \"layer\": []\n}").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.message.contains("unknown field `layer`"),
            "{}",
            err.message
        );
        assert!(err.message.contains("layers"), "{}", err.message);
    }

    #[test]
    fn wrong_type_and_unknown_rule_are_errors() {
        let err = parse("{ \"layers\": { } }").unwrap_err();
        assert!(
            err.message.contains("expected a sequence"),
            "{}",
            err.message
        );
        let err = parse("{\n\"rules\": {\n \"explicit-contex\": \"error\" } }").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.message.contains("did you mean `explicit-context`"),
            "{}",
            err.message
        );
        let err = parse("{ \"rules\": { \"layer-boundary\": \"fatal\" } }").unwrap_err();
        assert!(err.message.contains("\"warn\""), "{}", err.message);
    }

    #[test]
    fn unknown_allowed_layer_is_an_error() {
        let err = parse(
            "{ \"layers\": [\n { \"name\": \"domain\", \"paths\": [\"d/**\"], \"allow\": [\"core\"] } ] }",
        )
        .unwrap_err();
        assert!(
            err.message.contains("unknown layer `core`"),
            "{}",
            err.message
        );
        assert_eq!(err.line, Some(2));
    }

    /// The error for `layer`, a layer object's members after `name` and `paths`, on line 3.
    fn layer_error(members: &str) -> ConfigError {
        parse(&format!(
            "{{ \"layers\": [\n  {{ \"name\": \"infra\", \"paths\": [\"i/**\"] }},\n  {{ \"name\": \"domain\", \"paths\": [\"d/<part>/**\"], {members} }}\n] }}"
        ))
        .unwrap_err()
    }

    #[test]
    fn the_new_layer_keys_are_checked_with_file_and_line() {
        let cases = [
            (r#""packages": { "allow": "zod" }"#, "expected a sequence"),
            (
                r#""packages": { "deny": ["[abc"] }"#,
                "invalid package pattern",
            ),
            (r#""packages": { "deny": [""] }"#, "must not be empty"),
            (
                r#""packages": { "denied": ["x"] }"#,
                "unknown field `denied`",
            ),
            (r#""allow": [{ "layer": "core" }]"#, "unknown layer `core`"),
            (r#""allow": [{ "layr": "infra" }]"#, "unknown field `layr`"),
            (r#""allow": [3]"#, "a layer name or"),
            (
                r#""allow": [{ "layer": "infra", "typeOnly": "yes" }]"#,
                "expected a boolean",
            ),
            (r#""entry": ["index.{ts"]"#, "invalid entry glob"),
            (r#""entry": "index.ts""#, "expected a sequence"),
            (r#""message": 12"#, "expected a string"),
        ];
        for (members, expected) in cases {
            let err = layer_error(members);
            assert!(err.message.contains(expected), "{members}: {}", err.message);
            assert_eq!(err.file, Path::new("/p/krepis.json"), "{members}");
            assert!(
                err.line.is_some_and(|l| l <= 3),
                "{members}: {:?}",
                err.line
            );
        }
        // Written well, they are accepted.
        let ok = parse(
            r#"{ "layers": [
  { "name": "infra", "paths": ["i/**"] },
  { "name": "domain", "paths": ["d/<part>/**"], "message": "why",
    "allow": ["infra", { "layer": "infra", "typeOnly": true, "message": "types" }],
    "packages": { "allow": ["zod"], "deny": ["node:*"], "ignoreTypeImports": true, "message": "m" },
    "entry": ["index.ts"] }
] }"#,
        );
        assert!(ok.is_ok(), "{:?}", ok.err());
    }
}
