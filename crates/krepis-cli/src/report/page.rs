//! The HTML page: the template with the style, the data, the vendored Graphviz and the script
//! put in, each where its marker is, and nothing read back from what was put in.

use super::PageData;

const TEMPLATE: &str = include_str!("../../assets/report/report.html");
const STYLE: &str = include_str!("../../assets/report/report.css");
const SCRIPT: &str = include_str!("../../assets/report/report.js");
/// `@hpcc-js/wasm-graphviz` (see `assets/report/README.md`), run by the page in a worker.
const GRAPHVIZ: &str = include_str!("../../assets/report/graphviz.js");

/// JSON that is safe inside a `<script>` element: `<`, `>` and `&` occur only inside strings
/// there, where their `\u` escapes mean the same, so no `</script>` or `<!--` can form.
pub fn script_safe_json(data: &PageData) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(data)?;
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            // Valid in JSON, but line terminators in older JavaScript parsers.
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole page.
pub fn render(data: &PageData) -> Result<String, serde_json::Error> {
    let json = script_safe_json(data)?;
    let title = escape_html(&format!("Krepis report: {}", data.project));
    let parts: [(&str, &str); 5] = [
        ("{{title}}", &title),
        ("{{style}}", STYLE),
        ("{{data}}", &json),
        ("{{graphviz}}", GRAPHVIZ),
        ("{{script}}", SCRIPT),
    ];
    let mut out = String::with_capacity(TEMPLATE.len() + json.len() + GRAPHVIZ.len() + 65_536);
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match parts.iter().find(|(marker, _)| tail.starts_with(marker)) {
            Some((marker, value)) => {
                out.push_str(value);
                rest = &tail[marker.len()..];
            }
            None => {
                out.push_str("{{");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text inside a raw-text element ends at `</script`; the embedded parts must hold none.
    #[test]
    fn embedded_parts_cannot_end_their_script_element() {
        for (name, part) in [("graphviz.js", GRAPHVIZ), ("report.js", SCRIPT)] {
            let lower = part.to_ascii_lowercase();
            assert!(!lower.contains("</script"), "{name} contains </script");
            assert!(!lower.contains("<!--"), "{name} contains <!--");
        }
    }
}
