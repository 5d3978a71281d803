//! Files on disk as the project sees them: which ones a walk finds, and which can be read as
//! source text (regular, not too large, UTF-8 and not binary).

use std::path::Path;

/// Files larger than this are skipped with a note: nobody writes a module this big by hand.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The files and folders under `root` as the project sees them: `.gitignore` honoured,
/// `node_modules` and `.git` never entered.
pub fn project_walk(root: &Path) -> ignore::Walk {
    project_walk_builder(root).build()
}

/// The walk of [`project_walk`], to run on one thread or several.
pub fn project_walk_builder(root: &Path) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(root);
    builder.require_git(false).filter_entry(|entry| {
        let name = entry.file_name();
        !(entry.file_type().is_some_and(|t| t.is_dir())
            && (name == "node_modules" || name == ".git"))
    });
    builder
}

/// Reads a module's text; `Err` says why it is skipped.
pub fn read_source(path: &Path) -> Result<String, String> {
    regular_file(path)?;
    read_text(path)
}

/// The file's metadata, if it is a regular file of an acceptable size; `Err` says why not.
pub fn regular_file(path: &Path) -> Result<std::fs::Metadata, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    // A named pipe or a device would block the read (or never end): only regular files are read.
    if !metadata.is_file() {
        return Err("skipped: not a regular file".into());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "skipped: {} MB is larger than the {} MB limit",
            metadata.len() >> 20,
            MAX_FILE_BYTES >> 20
        ));
    }
    Ok(metadata)
}

/// The text of a regular file: UTF-8, not binary, without a byte-order mark.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Err("skipped: binary file".into());
    }
    let mut text = String::from_utf8(bytes).map_err(|_| "skipped: not UTF-8 text".to_string())?;
    // A byte-order mark is not part of the code, and editors do not count it in columns;
    // writers put it back (see `krepis fix`).
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok(text)
}
