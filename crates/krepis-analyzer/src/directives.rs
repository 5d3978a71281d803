//! Inline suppressions as written in comments, each with its reason (read into the facts here;
//! applied by [`crate::suppressions`]):
//!
//! - `// krepis-ignore-next-line layer-boundary -- reason`: the line below;
//! - `foo(); // krepis-ignore pure-domain -- reason`: the line the comment is on;
//! - `// krepis-ignore-file import-cycle, pure-domain -- reason`: the whole file.
//!
//! Block comments work the same. A suppression names the rules it silences (comma- or
//! space-separated); one that silences nothing is reported by `unused-suppression`, one without a
//! reason, or naming a rule that does not exist, by `invalid-suppression`.

use compact_str::CompactString as Name;

use crate::diagnostic::TextRange;

/// What a suppression covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SuppressionKind {
    /// `krepis-ignore-next-line`: the line after the comment.
    NextLine,
    /// `krepis-ignore`: the line the comment starts on.
    Line,
    /// `krepis-ignore-file`: the whole file.
    File,
}

impl SuppressionKind {
    /// The directive as written.
    pub fn directive(self) -> &'static str {
        match self {
            SuppressionKind::NextLine => "krepis-ignore-next-line",
            SuppressionKind::Line => "krepis-ignore",
            SuppressionKind::File => "krepis-ignore-file",
        }
    }
}

/// The reason the editor's "suppress" actions write, for the user to replace.
pub const REASON_PLACEHOLDER: &str = "TODO: reason";

/// One suppression comment of a module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SuppressionFact {
    pub kind: SuppressionKind,
    /// The comment, delimiters included.
    pub range: TextRange,
    /// What it covers: a line (without its line break), or the whole file.
    pub scope: TextRange,
    /// The rules it names, each with the span of its name.
    pub rules: Vec<(Name, TextRange)>,
    /// The text after `--`, when there is any.
    pub reason: Option<String>,
    /// What to delete to remove the comment: its whole line when it is alone there, else the
    /// comment and the blanks before it.
    pub removal: TextRange,
    /// A block comment (`/* … */`) rather than a line comment.
    pub block: bool,
}

impl SuppressionFact {
    /// Whether this suppression covers a finding that starts at `offset`.
    pub fn covers(&self, offset: u32) -> bool {
        self.scope.start <= offset && offset <= self.scope.end
    }

    /// The comment as it would be written with only `rules` (same kind, same reason).
    pub fn rewritten(&self, rules: &[&str]) -> String {
        let mut body = format!("{} {}", self.kind.directive(), rules.join(", "));
        if let Some(reason) = &self.reason {
            body.push_str(" -- ");
            body.push_str(reason);
        }
        if self.block {
            format!("/* {body} */")
        } else {
            format!("// {body}")
        }
    }
}

/// Reads a suppression out of the comment at `comment` (delimiters included), if it is one.
pub fn parse(text: &str, comment: TextRange, block: bool) -> Option<SuppressionFact> {
    let (start, end) = (comment.start as usize, comment.end as usize);
    let inner_end = if block { end.checked_sub(2)? } else { end };
    let inner = text.get(start + 2..inner_end)?;
    // `/** krepis-ignore … */` and `// krepis-ignore`: skip blanks and a doc comment's stars.
    let skipped = inner.len() - inner.trim_start_matches([' ', '\t', '*']).len();
    let body = &inner[skipped..];
    let kind = [
        SuppressionKind::NextLine,
        SuppressionKind::File,
        SuppressionKind::Line,
    ]
    .into_iter()
    .find(|k| {
        body.strip_prefix(k.directive())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    })?;
    let body_start = start + 2 + skipped + kind.directive().len();
    let rest = &inner[skipped + kind.directive().len()..];
    let (names, reason) = match rest.find("--") {
        Some(at) => (&rest[..at], Some(rest[at + 2..].trim())),
        None => (rest, None),
    };
    let mut rules = Vec::new();
    let mut offset = body_start;
    for piece in names.split_inclusive([',', ' ', '\t', '\n', '\r']) {
        let name = piece.trim_end_matches([',', ' ', '\t', '\n', '\r']);
        if !name.is_empty() {
            let at = offset as u32;
            rules.push((Name::from(name), TextRange::new(at, at + name.len() as u32)));
        }
        offset += piece.len();
    }
    let reason = reason
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|r| !r.is_empty());
    let bytes = text.as_bytes();
    let line_start = |at: usize| {
        bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n' || b == b'\r')
            .map_or(0, |p| p + 1)
    };
    let line_end = |at: usize| {
        bytes[at..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(bytes.len(), |p| at + p)
    };
    let break_len = |at: usize| match (bytes.get(at), bytes.get(at + 1)) {
        (Some(b'\r'), Some(b'\n')) => 2,
        (Some(_), _) => 1,
        (None, _) => 0,
    };
    let scope = match kind {
        SuppressionKind::File => TextRange::new(0, text.len() as u32),
        SuppressionKind::Line => TextRange::new(line_start(start) as u32, line_end(start) as u32),
        SuppressionKind::NextLine => {
            let this_end = line_end(end);
            let next = (this_end + break_len(this_end)).min(bytes.len());
            TextRange::new(next as u32, line_end(next) as u32)
        }
    };
    let (first, last) = (line_start(start), line_end(end));
    let blank = |s: &[u8]| s.iter().all(|b| *b == b' ' || *b == b'\t');
    let removal = if blank(&bytes[first..start]) && blank(&bytes[end..last]) {
        TextRange::new(first as u32, (last + break_len(last)) as u32)
    } else {
        let before = bytes[..start]
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |p| p + 1)
            .max(first);
        TextRange::new(before as u32, end as u32)
    };
    Some(SuppressionFact {
        kind,
        range: comment,
        scope,
        rules,
        reason,
        removal,
        block,
    })
}
