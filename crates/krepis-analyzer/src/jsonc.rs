//! JSON with comments and trailing commas, read through `serde_json` so errors keep line and column.

/// Turns JSONC into plain JSON of the same length and line structure.
///
/// Comments and trailing commas become spaces, so every byte keeps its line and column and
/// `serde_json`'s error positions point into the user's file. Line breaks inside block comments
/// stay. A text whose comments do not parse (an unclosed `/*`, a lone `/`) is returned as it is,
/// for `serde_json` to report where.
pub fn to_json(text: &str) -> String {
    let mut stripped = strip_comments(text).unwrap_or_else(|| text.to_owned());
    blank_trailing_commas(&mut stripped);
    stripped
}

/// `text` with `//` and `/* */` comments blanked (line breaks kept); `None` when a comment is
/// malformed.
fn strip_comments(text: &str) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Top,
        String,
        Escape,
        Slash,
        Line,
        Block,
        BlockStar,
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut state = State::Top;
    for b in bytes.iter_mut() {
        let c = *b;
        let (next, blank) = match (state, c) {
            (State::Top, b'"') => (State::String, false),
            (State::Top, b'/') => (State::Slash, true),
            (State::Top, _) => (State::Top, false),
            (State::String, b'"') => (State::Top, false),
            (State::String, b'\\') => (State::Escape, false),
            (State::String, _) => (State::String, false),
            (State::Escape, _) => (State::String, false),
            (State::Slash, b'/') => (State::Line, true),
            (State::Slash, b'*') => (State::Block, true),
            (State::Slash, _) => return None,
            (State::Line, b'\n') => (State::Top, false),
            (State::Line, _) => (State::Line, c != b'\r'),
            (State::Block, b'*') | (State::BlockStar, b'*') => (State::BlockStar, true),
            (State::BlockStar, b'/') => (State::Top, true),
            (State::Block, _) | (State::BlockStar, _) => (State::Block, c != b'\n' && c != b'\r'),
        };
        if blank {
            *b = b' ';
        }
        state = next;
    }
    if matches!(state, State::Slash | State::Block | State::BlockStar) {
        return None;
    }
    // Only ASCII bytes and whole comments were blanked: a comment's multi-byte characters are
    // replaced byte by byte, so the text is still UTF-8.
    String::from_utf8(bytes).ok()
}

fn blank_trailing_commas(json: &mut String) {
    let bytes = json.as_bytes();
    let mut blank = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut pending_comma: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                pending_comma = None;
            }
            b',' => pending_comma = Some(i),
            b'}' | b']' => {
                if let Some(comma) = pending_comma.take() {
                    blank.push(comma);
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => pending_comma = None,
        }
    }
    if blank.is_empty() {
        return;
    }
    let mut owned = std::mem::take(json).into_bytes();
    for i in blank {
        owned[i] = b' ';
    }
    // Only ASCII commas were replaced by ASCII spaces, so the text is still UTF-8.
    *json = String::from_utf8(owned).unwrap_or_default();
}

/// 1-based line of the first occurrence of `"key"` in `text`, for errors found after parsing.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    let offset = text.find(&quoted)?;
    Some(text[..offset].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_trailing_commas_keep_positions() {
        let text = "{\n  // note\n  \"a\": [1, 2,], /* x */\n  \"b\": \"no, ] here\",\n}";
        let json = to_json(text);
        assert_eq!(json.len(), text.len());
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["a"], serde_json::json!([1, 2]));
        assert_eq!(value["b"], "no, ] here");
        assert_eq!(line_of_key(text, "b"), Some(4));
    }

    #[test]
    fn block_comments_keep_their_line_breaks() {
        // Found by fuzzing: block comments lost their line breaks, so errors after a
        // multi-line comment named the wrong line.
        let text = "{\r\n  /* one\r\n     two é */\n  \"a\": 1, # not a comment\n}";
        let json = to_json(text);
        assert_eq!(json.len(), text.len());
        assert_eq!(
            json,
            "{\r\n        \r\n              \n  \"a\": 1, # not a comment\n}"
        );
        let error = serde_json::from_str::<serde_json::Value>(&json).unwrap_err();
        assert_eq!(error.line(), 4);
        // Malformed comments are left for the JSON parser to point at.
        for broken in ["{ /* open", "{ / }", "{ \"a\": 1 } /"] {
            assert_eq!(to_json(broken), broken);
        }
        assert_eq!(
            to_json("{\"u\": \"//x\\\"/*\"} // c"),
            "{\"u\": \"//x\\\"/*\"}     "
        );
    }
}
