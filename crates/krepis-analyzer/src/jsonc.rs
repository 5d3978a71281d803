//! JSON with comments and trailing commas, read through `serde_json` so errors keep line and column.

use std::io::Read;

/// Turns JSONC into plain JSON of the same length and line structure.
///
/// Comments and trailing commas become spaces, so every byte keeps its line and column and
/// `serde_json`'s error positions point into the user's file.
pub fn to_json(text: &str) -> String {
    let mut stripped = String::with_capacity(text.len());
    // Reading from a byte slice cannot fail; a comment-stripping error would only come from I/O.
    if json_comments::StripComments::new(text.as_bytes())
        .read_to_string(&mut stripped)
        .is_err()
    {
        stripped = text.to_owned();
    }
    blank_trailing_commas(&mut stripped);
    stripped
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
}
