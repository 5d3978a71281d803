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
    let (file, metadata) = open_regular(path)?;
    read_open(file, &metadata)
}

/// Whether `metadata` is a regular file of an acceptable size; `Err` says why not.
fn check_regular(metadata: &std::fs::Metadata) -> Result<(), String> {
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
    Ok(())
}

/// Opens `path` if it is a regular file of an acceptable size, with its metadata: one lookup of
/// the path for both. Opening does not wait on a named pipe (it is opened non-blocking, then
/// refused for not being a regular file).
pub fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let metadata = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    check_regular(&metadata)?;
    Ok((file, metadata))
}

/// The text of a file [`open_regular`] opened (see [`text_of`]).
pub fn read_open(mut file: std::fs::File, metadata: &std::fs::Metadata) -> Result<String, String> {
    use std::io::Read;
    // One byte more than the file holds, so the read that finds the end needs no growth.
    let mut bytes = Vec::with_capacity(metadata.len() as usize + 1);
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    text_of(bytes)
}

/// The text of a regular file's bytes: UTF-8, not binary, without a byte-order mark.
fn text_of(bytes: Vec<u8>) -> Result<String, String> {
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
