//! Byte offsets ↔ line/column positions, in UTF-16 code units (what editors count) or bytes.

/// Which unit a column counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUnit {
    /// UTF-16 code units: the LSP default and what the JSON output uses.
    Utf16,
    /// Bytes of UTF-8.
    Utf8,
}

/// A 0-based position: `line` and `column` (in the unit it was asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// Line starts of one text, for converting offsets both ways.
///
/// A line ends at `\n`, `\r\n` or a lone `\r` (as the LSP counts them). U+2028 and U+2029 end
/// lines for ECMAScript but not for the LSP or editors, which show them inside a line: positions
/// are what the editor shows, so they are ordinary characters here (one UTF-16 unit each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        // `\r\n` ends one line: its `\n` is passed over.
        let mut next = 0;
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if i < next {
                continue;
            }
            next = if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            line_starts.push(next as u32);
        }
        Self {
            line_starts,
            len: bytes.len() as u32,
        }
    }

    /// Number of lines (at least 1).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where 0-based `line` starts, if it exists.
    pub fn line_start(&self, line: u32) -> Option<u32> {
        self.line_starts.get(line as usize).copied()
    }

    /// Byte range of 0-based `line` without its line terminator.
    pub fn line_range(&self, text: &str, line: u32) -> Option<std::ops::Range<usize>> {
        let start = self.line_start(line)? as usize;
        let mut end = self.line_start(line + 1).map_or(text.len(), |e| e as usize);
        let bytes = text.as_bytes();
        while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        Some(start..end)
    }

    /// The 0-based position of byte `offset` (clamped to the text and to a char boundary).
    pub fn position(&self, text: &str, offset: u32, unit: ColumnUnit) -> Position {
        let mut offset = offset.min(self.len) as usize;
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let start = self.line_starts[line] as usize;
        let before = &text[start..offset];
        // ASCII (most code) counts the same in every unit: no walk over a long minified line.
        let column = match unit {
            ColumnUnit::Utf8 => (offset - start) as u32,
            ColumnUnit::Utf16 if before.is_ascii() => before.len() as u32,
            ColumnUnit::Utf16 => before.chars().map(|c| c.len_utf16() as u32).sum(),
        };
        Position {
            line: line as u32,
            column,
        }
    }

    /// The byte offset of a 0-based position; `None` when the line does not exist.
    ///
    /// A column past the end of its line is clamped to the line's end, as the LSP asks.
    pub fn offset(&self, text: &str, position: Position, unit: ColumnUnit) -> Option<u32> {
        let range = self.line_range(text, position.line)?;
        let line_text = &text[range.clone()];
        if unit == ColumnUnit::Utf8 || line_text.is_ascii() {
            let mut at = (position.column as usize).min(line_text.len());
            while !line_text.is_char_boundary(at) {
                at += 1;
            }
            return Some((range.start + at) as u32);
        }
        let mut counted = 0u32;
        for (i, c) in line_text.char_indices() {
            if counted >= position.column {
                return Some((range.start + i) as u32);
            }
            counted += match unit {
                ColumnUnit::Utf8 => c.len_utf8() as u32,
                ColumnUnit::Utf16 => c.len_utf16() as u32,
            };
        }
        Some(range.end as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        let text = "const a = \"😀\"; async function f() {}\nx";
        let index = LineIndex::new(text);
        let offset = text.find("async").unwrap() as u32;
        let pos = index.position(text, offset, ColumnUnit::Utf16);
        // The emoji is 4 bytes but 2 UTF-16 units.
        assert_eq!(
            pos,
            Position {
                line: 0,
                column: 16
            }
        );
        assert_eq!(index.position(text, offset, ColumnUnit::Utf8).column, 18);
        assert_eq!(index.offset(text, pos, ColumnUnit::Utf16), Some(offset));
    }

    proptest::proptest! {
        #[test]
        fn line_starts_follow_every_line_break(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["a", "\n", "\r", "\r\n", "é", "\n\r"]),
                0..60,
            ),
        ) {
            let text = parts.concat();
            let bytes = text.as_bytes();
            // One line per `\n`, lone `\r` or `\r\n`, read byte by byte.
            let mut expected = vec![0u32];
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                if matches!(bytes[i], b'\n' | b'\r') {
                    expected.push(i as u32 + 1);
                }
                i += 1;
            }
            proptest::prop_assert_eq!(LineIndex::new(&text).line_starts, expected);
        }
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let text = "a\r\nb\rc\nd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        assert_eq!(
            index.position(text, 3, ColumnUnit::Utf16),
            Position { line: 1, column: 0 }
        );
        assert_eq!(
            index.position(text, 5, ColumnUnit::Utf16),
            Position { line: 2, column: 0 }
        );
        assert_eq!(index.line_range(text, 0), Some(0..1));
    }

    #[test]
    fn line_and_paragraph_separators_stay_inside_the_line() {
        let text = "a\u{2028}b\u{2029}c\r\nd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 2);
        let c = text.find('c').unwrap() as u32;
        assert_eq!(
            index.position(text, c, ColumnUnit::Utf16),
            Position { line: 0, column: 4 }
        );
        assert_eq!(index.position(text, c, ColumnUnit::Utf8).column, 8);
        assert_eq!(
            index.offset(text, Position { line: 0, column: 4 }, ColumnUnit::Utf16),
            Some(c)
        );
        assert_eq!(index.line_range(text, 0), Some(0..9));
    }

    #[test]
    fn out_of_range_positions_are_clamped_or_refused() {
        let text = "abc\ndef";
        let index = LineIndex::new(text);
        assert_eq!(
            index.offset(
                text,
                Position {
                    line: 0,
                    column: 99
                },
                ColumnUnit::Utf16
            ),
            Some(3)
        );
        assert_eq!(
            index.offset(text, Position { line: 9, column: 0 }, ColumnUnit::Utf16),
            None
        );
        assert_eq!(
            index.position(text, 999, ColumnUnit::Utf16),
            Position { line: 1, column: 3 }
        );
    }
}
