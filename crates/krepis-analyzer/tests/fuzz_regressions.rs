//! Inputs that made a fuzz target fail (`fuzz/`), kept so the bug stays fixed. Each file in
//! `tests/regressions/` is named after the target that found it: `config-*` files are settings
//! files separated by NUL bytes, as the `config` target reads them.

use std::path::{Path, PathBuf};

use krepis_analyzer::config::{Config, ConfigSource};
use krepis_analyzer::jsonc;

fn regressions(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no `{prefix}` inputs in {}", dir.display());
    out
}

fn line_breaks(text: &str) -> Vec<usize> {
    text.match_indices('\n').map(|(i, _)| i).collect()
}

/// `config-block-comment-line-breaks`: a `/*` outside any string (the fuzzer cut a string short)
/// opened a block comment across lines, and stripping it blanked the line breaks too, so JSON
/// errors after it named the wrong line.
#[test]
fn settings_files_keep_their_lines_through_comment_stripping() {
    for (name, bytes) in regressions("config-") {
        for part in bytes.split(|&b| b == 0) {
            let text = String::from_utf8_lossy(part);
            let json = jsonc::to_json(&text);
            assert_eq!(json.len(), text.len(), "{name}");
            assert_eq!(line_breaks(&json), line_breaks(&text), "{name}");
            let file = PathBuf::from("/project/krepis.json");
            let dir = Path::new("/project");
            if let Err(error) = Config::parse(&text, ConfigSource::File(file.clone()), dir, &file) {
                let lines = text.split('\n').count();
                let line = error.line.unwrap_or(1);
                assert!((1..=lines).contains(&line), "{name}: {error}");
            }
        }
    }
}

/// A JSON error after a multi-line block comment names the line it is on.
#[test]
fn config_errors_after_block_comments_name_the_right_line() {
    let text = "{\n  /* the layers\n     come later */\n  \"layers\": nope\n}\n";
    let file = PathBuf::from("/project/krepis.json");
    let error = Config::parse(
        text,
        ConfigSource::File(file.clone()),
        Path::new("/project"),
        &file,
    )
    .unwrap_err();
    assert_eq!(error.line, Some(4), "{error}");
}
