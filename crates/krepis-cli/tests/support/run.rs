//! Running the real `krepis` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Runs `krepis ARGS` in `dir` without colours; returns stdout, stderr and the exit code.
pub fn krepis(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_krepis"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run krepis");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

/// `krepis check --format json` in `dir`, parsed.
pub fn check_json(dir: &Path) -> Value {
    check_json_with(dir, &[])
}

/// `krepis check --format json ARGS…` in `dir`, parsed.
pub fn check_json_with(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let (stdout, stderr, _) = krepis(dir, &all);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"))
}

/// `(file, rule)` of every diagnostic of a JSON report, in its order.
pub fn reported(report: &Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Writes `bytes` to `dir/path`, creating folders; returns the full path.
pub fn write(dir: &Path, path: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}
