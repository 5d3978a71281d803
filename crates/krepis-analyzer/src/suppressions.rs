//! Applying the inline suppressions (see [`crate::directives`] for how they are written): the
//! findings they silence are dropped, and those that silence nothing, say no reason or name no
//! rule are findings of their own.

use crate::catalog::{RuleId, closest_rule};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Fix, TextEdit, TextRange};
pub use crate::directives::{REASON_PLACEHOLDER, SuppressionFact, SuppressionKind, parse};
use crate::facts::ModuleFacts;

pub use crate::settings::invalid_suppression::Options;

/// Which rules a suppression may name in this module.
enum Named {
    /// A built-in rule, whose findings are here.
    BuiltIn,
    /// One of the project's rules, whose findings come later ([`apply_custom`]).
    Custom,
    /// Not a rule, or not one that can be suppressed.
    Invalid(String, Option<String>),
}

fn classify(name: &str, config: &Config) -> Named {
    if let Some(rule) = RuleId::from_name(name) {
        return if matches!(rule, RuleId::UnusedSuppression | RuleId::InvalidSuppression) {
            Named::Invalid(
                format!("`{name}` cannot be suppressed inline"),
                Some(format!(
                    "turn it off in the configuration instead: `\"rules\": {{ \"{name}\": \"off\" }}`"
                )),
            )
        } else {
            Named::BuiltIn
        };
    }
    if config.custom_rules.iter().any(|r| r == name) {
        return Named::Custom;
    }
    if name == RuleId::SyntaxError.as_str() {
        return Named::Invalid(
            "a syntax error cannot be suppressed".into(),
            Some("the other rules skip a file until it parses".into()),
        );
    }
    let note = closest_rule(name).map(|r| format!("did you mean `{}`?", r.as_str()));
    Named::Invalid(format!("unknown rule `{name}` in a suppression"), note)
}

/// Drops the findings of built-in rules that a suppression of `facts` covers, and adds the
/// findings about the suppressions themselves. Files that do not parse keep every finding: their
/// other rules did not run.
pub fn apply(
    facts: &ModuleFacts,
    config: &Config,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    if facts.suppressions.is_empty() || !facts.syntax_errors.is_empty() {
        return diagnostics;
    }
    let (mut kept, used) = silence(facts, diagnostics, |d| {
        (!matches!(d.rule, RuleId::SyntaxError | RuleId::Custom)).then(|| d.rule.as_str())
    });
    let mut report = Reporter::new(config);
    for (i, suppression) in facts.suppressions.iter().enumerate() {
        let directive = suppression.kind.directive();
        if suppression.rules.is_empty() {
            report.invalid(
                suppression.range,
                format!("`{directive}` names no rule"),
                Some(format!(
                    "name the rules it silences, like `// {directive} layer-boundary -- why`"
                )),
            );
        }
        report.reason(suppression);
        let mut unused: Vec<&str> = Vec::new();
        for (k, (name, range)) in suppression.rules.iter().enumerate() {
            match classify(name, config) {
                Named::BuiltIn if !used[i][k] => unused.push(name),
                Named::BuiltIn | Named::Custom => {}
                Named::Invalid(message, note) => report.invalid(*range, message, note),
            }
        }
        report.unused(suppression, &unused);
    }
    kept.extend(report.found);
    kept.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
    });
    kept
}

/// Drops the diagnostics a suppression of `facts` covers, where `name` gives the rule name a
/// suppression must give to silence a diagnostic (`None`: it cannot be silenced). Also returns,
/// per suppression and per rule it names, whether that name silenced something.
fn silence(
    facts: &ModuleFacts,
    diagnostics: Vec<Diagnostic>,
    name: impl Fn(&Diagnostic) -> Option<&str>,
) -> (Vec<Diagnostic>, Vec<Vec<bool>>) {
    let mut used: Vec<Vec<bool>> = facts
        .suppressions
        .iter()
        .map(|s| vec![false; s.rules.len()])
        .collect();
    let mut kept = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        let mut silenced = false;
        if let Some(rule) = name(&diagnostic) {
            for (i, suppression) in facts.suppressions.iter().enumerate() {
                if !suppression.covers(diagnostic.range.start) {
                    continue;
                }
                for (k, (named, _)) in suppression.rules.iter().enumerate() {
                    if named == rule {
                        used[i][k] = true;
                        silenced = true;
                    }
                }
            }
        }
        if !silenced {
            kept.push(diagnostic);
        }
    }
    (kept, used)
}

/// [`apply`] for the project's own rules, whose findings come after the built-in ones: drops
/// those a suppression covers and reports suppressions of project rules that silenced nothing.
pub fn apply_custom(
    facts: &ModuleFacts,
    config: &Config,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    if facts.suppressions.is_empty() || !facts.syntax_errors.is_empty() {
        return diagnostics;
    }
    let (mut kept, used) = silence(facts, diagnostics, |d| d.custom_rule.as_deref());
    let mut report = Reporter::new(config);
    for (i, suppression) in facts.suppressions.iter().enumerate() {
        let unused: Vec<&str> = suppression
            .rules
            .iter()
            .enumerate()
            .filter(|(k, (name, _))| {
                !used[i][*k] && matches!(classify(name, config), Named::Custom)
            })
            .map(|(_, (name, _))| name.as_str())
            .collect();
        report.unused(suppression, &unused);
    }
    kept.extend(report.found);
    kept
}

/// Whether a finding of `rule` may be silenced by a `krepis-ignore` comment.
pub fn suppressible(rule: RuleId) -> bool {
    !matches!(
        rule,
        RuleId::SyntaxError | RuleId::UnusedSuppression | RuleId::InvalidSuppression
    )
}

/// The edit that silences `diagnostic` (of the rule named `rule`) on its line or in its file,
/// with the placeholder reason: a rule added to the suppression already there, or a new comment
/// (`krepis-ignore-next-line` above the line, with its indentation; `krepis-ignore-file` at the
/// top, below a `#!` line).
pub fn suppress_edit(
    text: &str,
    facts: &ModuleFacts,
    diagnostic: &Diagnostic,
    rule: &str,
    kind: SuppressionKind,
) -> TextEdit {
    let existing = facts.suppressions.iter().find(|s| {
        s.kind == kind
            && (kind == SuppressionKind::File || s.covers(diagnostic.range.start))
            && !s.rules.is_empty()
    });
    if let Some(existing) = existing
        && let Some((_, last)) = existing.rules.last()
    {
        return TextEdit::insert(last.end, format!(", {rule}"));
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let comment = format!("// {} {rule} -- {REASON_PLACEHOLDER}", kind.directive());
    let bytes = text.as_bytes();
    match kind {
        SuppressionKind::File => {
            let at = if text.starts_with("#!") {
                bytes
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(text.len(), |p| p + 1)
            } else {
                0
            };
            let lead = if at == text.len() && at > 0 && !text.ends_with('\n') {
                newline
            } else {
                ""
            };
            TextEdit::insert(at as u32, format!("{lead}{comment}{newline}"))
        }
        _ => {
            let at = (diagnostic.range.start as usize).min(text.len());
            let line_start = bytes[..at]
                .iter()
                .rposition(|&b| b == b'\n' || b == b'\r')
                .map_or(0, |p| p + 1);
            let indent: String = text[line_start..]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            TextEdit::insert(
                line_start as u32,
                format!(
                    "{indent}// {} {rule} -- {REASON_PLACEHOLDER}{newline}",
                    SuppressionKind::NextLine.directive()
                ),
            )
        }
    }
}

/// Collects the findings about suppressions, each with its configured severity.
struct Reporter<'a> {
    config: &'a Config,
    found: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    fn new(config: &'a Config) -> Self {
        Self {
            config,
            found: Vec::new(),
        }
    }

    fn push(
        &mut self,
        rule: RuleId,
        range: TextRange,
        message: String,
        note: Option<String>,
        fix: Option<Fix>,
    ) {
        if let Some(found) = self.config.rules.finding(rule, range, message, note, fix) {
            self.found.push(found);
        }
    }

    fn invalid(&mut self, range: TextRange, message: String, note: Option<String>) {
        self.push(RuleId::InvalidSuppression, range, message, note, None);
    }

    fn reason(&mut self, suppression: &SuppressionFact) {
        if !self.config.rules.invalid_suppression.require_reason {
            return;
        }
        let directive = suppression.kind.directive();
        match suppression.reason.as_deref() {
            None => self.invalid(
                suppression.range,
                "a suppression must say why".into(),
                Some(format!(
                    "add the reason after `--`: `// {directive} rule -- the reason`"
                )),
            ),
            Some(REASON_PLACEHOLDER) => self.invalid(
                suppression.range,
                "this suppression's reason is still the placeholder".into(),
                Some(format!(
                    "replace `{REASON_PLACEHOLDER}` with why the rule does not apply here"
                )),
            ),
            Some(_) => {}
        }
    }

    /// Reports the rules of `suppression` in `unused`, with a fix that removes them (or the whole
    /// comment when nothing else is left in it).
    fn unused(&mut self, suppression: &SuppressionFact, unused: &[&str]) {
        if unused.is_empty() {
            return;
        }
        let directive = suppression.kind.directive();
        let rest: Vec<&str> = suppression
            .rules
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !unused.contains(n))
            .collect();
        let listed = unused
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (range, fix) = if rest.is_empty() {
            let fix = Fix::safe(
                "remove the unused suppression",
                vec![TextEdit::delete(suppression.removal)],
            );
            (suppression.range, fix)
        } else {
            let fix = Fix::safe(
                format!("remove {listed} from the suppression"),
                vec![TextEdit {
                    range: suppression.range,
                    text: suppression.rewritten(&rest),
                }],
            );
            let range = suppression
                .rules
                .iter()
                .find(|(n, _)| unused.contains(&n.as_str()))
                .map_or(suppression.range, |(_, r)| *r);
            (range, fix)
        };
        let scope = match suppression.kind {
            SuppressionKind::NextLine => "on the next line",
            SuppressionKind::Line => "on this line",
            SuppressionKind::File => "in this file",
        };
        self.push(
            RuleId::UnusedSuppression,
            range,
            format!("`{directive}` {listed}: no such finding {scope}"),
            Some("the finding it was written for is gone; remove the suppression so it cannot hide a new one".into()),
            Some(fix),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> SuppressionFact {
        let start = text.find("//").or_else(|| text.find("/*")).unwrap();
        let block = text[start..].starts_with("/*");
        let end = if block {
            start + text[start..].find("*/").unwrap() + 2
        } else {
            start + text[start..].find('\n').unwrap_or(text.len() - start)
        };
        parse(text, TextRange::new(start as u32, end as u32), block).unwrap()
    }

    #[test]
    fn next_line_names_rules_and_reason() {
        let text = "  // krepis-ignore-next-line layer-boundary, pure-domain -- legacy ADR-7\nimport x from './x';\n";
        let s = first(text);
        assert_eq!(s.kind, SuppressionKind::NextLine);
        let names: Vec<&str> = s.rules.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["layer-boundary", "pure-domain"]);
        let (_, r) = &s.rules[1];
        assert_eq!(&text[r.start as usize..r.end as usize], "pure-domain");
        assert_eq!(s.reason.as_deref(), Some("legacy ADR-7"));
        assert_eq!(
            &text[s.scope.start as usize..s.scope.end as usize],
            "import x from './x';"
        );
        // Alone on its line: removing it removes the line.
        assert_eq!(
            s.removal,
            TextRange::new(0, text.find('\n').unwrap() as u32 + 1)
        );
    }

    #[test]
    fn trailing_comment_covers_its_line_and_removes_only_itself() {
        let text = "a();\nconst t = Date.now(); /* krepis-ignore pure-domain -- clock */\nb();\n";
        let s = first(text);
        assert_eq!(s.kind, SuppressionKind::Line);
        assert!(s.block);
        assert_eq!(
            &text[s.scope.start as usize..s.scope.end as usize],
            "const t = Date.now(); /* krepis-ignore pure-domain -- clock */"
        );
        let (out, _) = crate::diagnostic::apply_edits(text, &[TextEdit::delete(s.removal)]);
        assert_eq!(out, "a();\nconst t = Date.now();\nb();\n");
    }

    #[test]
    fn other_comments_are_not_suppressions() {
        let text = "// krepis-ignored is not a directive\n";
        let range = TextRange::new(0, text.len() as u32 - 1);
        assert!(parse(text, range, false).is_none());
        let text = "// see krepis-ignore-file for details\n";
        assert!(parse(text, TextRange::new(0, text.len() as u32 - 1), false).is_none());
    }

    #[test]
    fn suppress_edits_add_to_an_existing_comment_or_write_one() {
        use crate::testing::check_source;
        let text = "export async function a(id: string) {\n  await b(id);\n}\n";
        let diagnostics = check_source("src/a.ts", text);
        let facts = crate::facts::extract(std::path::Path::new("src/a.ts"), text);
        let d = &diagnostics[0];
        let line = suppress_edit(
            text,
            &facts,
            d,
            "explicit-context",
            SuppressionKind::NextLine,
        );
        let shift = line.text.len() as u32;
        let (fixed, _) = crate::diagnostic::apply_edits(text, &[line]);
        assert!(
            fixed.starts_with(
                "// krepis-ignore-next-line explicit-context -- TODO: reason\nexport async"
            ),
            "{fixed}"
        );
        let facts = crate::facts::extract(std::path::Path::new("src/a.ts"), &fixed);
        let again = check_source("src/a.ts", &fixed);
        // Silenced; only the placeholder reason is reported.
        assert!(
            again.iter().all(|d| d.rule == RuleId::InvalidSuppression),
            "{again:?}"
        );
        let moved = Diagnostic {
            range: TextRange::new(d.range.start + shift, d.range.end + shift),
            ..d.clone()
        };
        let more = suppress_edit(
            &fixed,
            &facts,
            &moved,
            "pure-domain",
            SuppressionKind::NextLine,
        );
        let (twice, _) = crate::diagnostic::apply_edits(&fixed, &[more]);
        assert!(
            twice.starts_with("// krepis-ignore-next-line explicit-context, pure-domain -- TODO"),
            "{twice}"
        );
        let file = suppress_edit(
            "#!/usr/bin/env -S deno run\nx();\n",
            &ModuleFacts::default(),
            d,
            "pure-domain",
            SuppressionKind::File,
        );
        assert_eq!(file.range.start, 27);
        assert_eq!(
            file.text,
            "// krepis-ignore-file pure-domain -- TODO: reason\n"
        );
    }

    #[test]
    fn file_directive_without_reason_covers_everything() {
        let text = "// krepis-ignore-file import-cycle\nx();\n";
        let s = first(text);
        assert_eq!(s.kind, SuppressionKind::File);
        assert_eq!(s.reason, None);
        assert_eq!(s.scope, TextRange::new(0, text.len() as u32));
        assert_eq!(
            s.rewritten(&["import-cycle"]),
            "// krepis-ignore-file import-cycle"
        );
    }
}
