//! `krepis check --changed`: the files git says changed, for checking them and their dependents.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What to compare with.
pub struct Since<'a> {
    /// The commit to compare the working tree with (`HEAD` by default).
    pub base: &'a str,
    /// Only what is staged (a pre-commit hook's view).
    pub staged: bool,
}

/// Names of settings files: when one changes, what every file reports may change.
const SETTINGS: [&str; 7] = [
    "krepis.json",
    "deno.json",
    "deno.jsonc",
    "tsconfig.json",
    "package.json",
    "pnpm-workspace.yaml",
    "krepis-baseline.json",
];

/// Whether `path` is one of the project's own rules or generators (`.krepis/rules/…`), not its
/// cache or journal.
fn is_project_script(path: &Path) -> bool {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str()).collect();
    parts
        .windows(2)
        .any(|w| w[0] == ".krepis" && (w[1] == "rules" || w[1] == "generators"))
}

/// What changed, as git reports it.
pub enum Changed {
    /// These files (absolute paths; deleted ones included).
    Files(Vec<PathBuf>),
    /// A settings file or a project rule changed: everything must be checked.
    Everything(PathBuf),
}

fn git(cwd: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .output()
        .map_err(|e| format!("--changed needs git, which cannot be run: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "--changed: `git {}` failed: {}",
            args.join(" "),
            stderr.trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The files changed in the repository around `cwd` since `since`.
pub fn changed(cwd: &Path, since: &Since<'_>) -> Result<Changed, String> {
    let top = git(cwd, &["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(top.trim_end_matches(['\n', '\r']));
    let mut names: Vec<String> = Vec::new();
    let listed = if since.staged {
        git(
            &top,
            &["diff", "--name-only", "-z", "--no-renames", "--cached"],
        )?
    } else {
        // Staged and unstaged changes against the base, and files git does not track yet.
        let mut listed = git(
            &top,
            &["diff", "--name-only", "-z", "--no-renames", since.base],
        )?;
        listed.push_str(&git(
            &top,
            &["ls-files", "--others", "--exclude-standard", "-z"],
        )?);
        listed
    };
    names.extend(
        listed
            .split('\0')
            .filter(|n| !n.is_empty())
            .map(String::from),
    );
    let mut files: Vec<PathBuf> = names.iter().map(|n| top.join(n)).collect();
    files.sort();
    files.dedup();
    if let Some(settings) = files.iter().find(|f| {
        f.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| SETTINGS.contains(&n))
            || is_project_script(f)
    }) {
        return Ok(Changed::Everything(settings.clone()));
    }
    Ok(Changed::Files(files))
}
