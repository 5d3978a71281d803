//! Analysis values ↔ protocol values: positions in the negotiated encoding, diagnostics, edits.

use krepis_analyzer::diagnostic::{Diagnostic, Severity, TextEdit, TextRange};
use krepis_analyzer::line_index::{ColumnUnit, LineIndex, Position};
use tower_lsp_server::ls_types as lsp;

/// A document's text with its line index, for converting positions both ways.
pub struct Text<'a> {
    pub text: &'a str,
    pub index: LineIndex,
    pub unit: ColumnUnit,
}

impl<'a> Text<'a> {
    pub fn new(text: &'a str, unit: ColumnUnit) -> Self {
        Self {
            text,
            index: LineIndex::new(text),
            unit,
        }
    }

    pub fn position(&self, offset: u32) -> lsp::Position {
        let p = self.index.position(self.text, offset, self.unit);
        lsp::Position {
            line: p.line,
            character: p.column,
        }
    }

    pub fn range(&self, range: TextRange) -> lsp::Range {
        lsp::Range {
            start: self.position(range.start),
            end: self.position(range.end),
        }
    }

    /// The byte offset of a protocol position; a line past the end clamps to the end of the text.
    pub fn offset(&self, position: lsp::Position) -> u32 {
        let p = Position {
            line: position.line,
            column: position.character,
        };
        self.index
            .offset(self.text, p, self.unit)
            .unwrap_or(self.text.len() as u32)
    }

    pub fn text_range(&self, range: lsp::Range) -> TextRange {
        let (start, end) = (self.offset(range.start), self.offset(range.end));
        TextRange::new(start.min(end), start.max(end))
    }

    pub fn edit(&self, edit: &TextEdit) -> lsp::TextEdit {
        lsp::TextEdit {
            range: self.range(edit.range),
            new_text: edit.text.clone(),
        }
    }
}

/// A diagnostic as the protocol carries it: source `krepis`, the rule as code, a link to its page.
pub fn diagnostic(text: &Text<'_>, d: &Diagnostic) -> lsp::Diagnostic {
    let severity = match d.severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    };
    let href = d.rule.url().parse::<lsp::Uri>().ok();
    lsp::Diagnostic {
        range: text.range(d.range),
        severity: Some(severity),
        code: Some(lsp::NumberOrString::String(d.rule_name().to_string())),
        code_description: href.map(|href| lsp::CodeDescription { href }),
        source: Some("krepis".into()),
        message: match &d.note {
            Some(note) => format!("{}\n{note}", d.message),
            None => d.message.clone(),
        },
        ..Default::default()
    }
}

/// Applies one `didChange` content change to `text`.
pub fn apply_change(
    text: &mut String,
    change: &lsp::TextDocumentContentChangeEvent,
    unit: ColumnUnit,
) {
    match change.range {
        None => *text = change.text.clone(),
        Some(range) => {
            let converted = Text::new(text, unit).text_range(range);
            let (start, end) = (converted.start as usize, converted.end as usize);
            if text.is_char_boundary(start) && text.is_char_boundary(end) {
                text.replace_range(start..end, &change.text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_changes_in_utf16_and_utf8() {
        let mut text = "const a = \"😀\";\nlet b = 1;\n".to_string();
        let change = |line, start, end, new: &str| lsp::TextDocumentContentChangeEvent {
            range: Some(lsp::Range {
                start: lsp::Position {
                    line,
                    character: start,
                },
                end: lsp::Position {
                    line,
                    character: end,
                },
            }),
            range_length: None,
            text: new.to_string(),
        };
        // After the closing quote: UTF-16 column 14 is byte 16 (the emoji is 2 units, 4 bytes).
        apply_change(&mut text, &change(0, 14, 14, "!"), ColumnUnit::Utf16);
        assert_eq!(text, "const a = \"😀\"!;\nlet b = 1;\n");
        apply_change(&mut text, &change(0, 16, 17, ""), ColumnUnit::Utf8);
        assert_eq!(text, "const a = \"😀\";\nlet b = 1;\n");
        // Out-of-range positions clamp instead of failing.
        apply_change(&mut text, &change(99, 0, 5, "x"), ColumnUnit::Utf16);
        assert_eq!(text, "const a = \"😀\";\nlet b = 1;\nx");
    }
}
