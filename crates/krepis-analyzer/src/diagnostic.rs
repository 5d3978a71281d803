//! What a rule reports: a diagnostic with a byte span, a severity, a message and maybe a fix.

use crate::catalog::RuleId;
pub use crate::catalog::Severity;

/// A half-open byte range `start..end` in one file's text.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: u32, end: u32) -> Self {
        Self { start, end }
    }

    /// An empty range at `offset` (an insertion point).
    pub fn empty(offset: u32) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }

    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }
}

impl From<oxc_span::Span> for TextRange {
    fn from(span: oxc_span::Span) -> Self {
        Self {
            start: span.start,
            end: span.end,
        }
    }
}

/// Replace `range` of the diagnostic's file with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TextEdit {
    pub range: TextRange,
    pub text: String,
}

impl TextEdit {
    pub fn insert(offset: u32, text: impl Into<String>) -> Self {
        Self {
            range: TextRange::empty(offset),
            text: text.into(),
        }
    }

    pub fn delete(range: TextRange) -> Self {
        Self {
            range,
            text: String::new(),
        }
    }
}

/// Whether a fix can be applied without a person looking at it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Applicability {
    /// Keeps the code compiling and its meaning: `krepis fix` applies it, editors prefer it.
    #[default]
    Safe,
    /// May break code the analysis cannot see (a call it could not resolve, a changed parameter
    /// order): applied only by `krepis fix --unsafe`, shown but not preferred in the editor.
    Unsafe,
}

impl Applicability {
    /// The name used in JSON output: `safe` or `unsafe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// A fix: edits to the diagnostic's file that resolve it, applied together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fix {
    pub description: String,
    /// Non-overlapping edits, sorted by position.
    pub edits: Vec<TextEdit>,
    #[serde(default)]
    pub applicability: Applicability,
}

impl Fix {
    /// A safe fix.
    pub fn safe(description: impl Into<String>, mut edits: Vec<TextEdit>) -> Fix {
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        Fix {
            description: description.into(),
            edits,
            applicability: Applicability::Safe,
        }
    }

    /// The same fix, marked unsafe when `unsafe_` holds.
    pub fn unsafe_if(mut self, unsafe_: bool) -> Fix {
        if unsafe_ {
            self.applicability = Applicability::Unsafe;
        }
        self
    }

    pub fn is_safe(&self) -> bool {
        self.applicability == Applicability::Safe
    }
}

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub rule: RuleId,
    /// The name of a custom rule (with `rule` = `RuleId::Custom`).
    pub custom_rule: Option<String>,
    pub severity: Severity,
    pub range: TextRange,
    /// One line saying what is wrong.
    pub message: String,
    /// Why it matters or what to do, when there is more to say.
    pub note: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// The rule's name as output shows it: a built-in rule's, or a custom rule's own.
    pub fn rule_name(&self) -> &str {
        self.custom_rule.as_deref().unwrap_or(self.rule.as_str())
    }

    /// The fix `krepis fix` applies: the safe one, or also an unsafe one when `unsafe_` is set.
    pub fn fix_to_apply(&self, unsafe_: bool) -> Option<&Fix> {
        self.fix.as_ref().filter(|f| unsafe_ || f.is_safe())
    }
}

/// Applies non-overlapping edits to `text`; edits that overlap an earlier one are skipped.
///
/// Returns the new text and how many edits were applied.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> (String, usize) {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut cursor = 0usize;
    let mut applied = 0;
    for edit in sorted {
        let (start, end) = (edit.range.start as usize, edit.range.end as usize);
        if start < cursor || end > text.len() || start > end {
            continue;
        }
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        out.push_str(&text[cursor..start]);
        out.push_str(&edit.text);
        cursor = end;
        applied += 1;
    }
    out.push_str(&text[cursor..]);
    (out, applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_edits_are_skipped() {
        let edits = vec![
            TextEdit {
                range: TextRange::new(0, 3),
                text: "x".into(),
            },
            TextEdit {
                range: TextRange::new(2, 4),
                text: "y".into(),
            },
            TextEdit::insert(5, "!"),
        ];
        assert_eq!(apply_edits("abcdef", &edits), ("xde!f".to_string(), 2));
    }
}
