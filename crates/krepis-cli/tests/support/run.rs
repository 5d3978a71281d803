//! Running the real `krepis` binary.

use std::path::Path;
use std::process::Command;

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
