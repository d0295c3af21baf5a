//! Atomic file writes: the bytes go to a temporary file in the target's directory, are
//! flushed to disk, and the temporary file is renamed over the target. A reader never sees a
//! half-written file, and a killed writer leaves at most a stray temporary file.

use crate::IoError;
use std::io::{BufWriter, Write};
use std::path::Path;

pub(crate) fn write_atomic<F>(path: &Path, fill: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".artefact-tmp-")
        .tempfile_in(dir)
        .map_err(|e| IoError::os(path, e))?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        fill(&mut w).map_err(|e| IoError::os(path, e))?;
        w.flush().map_err(|e| IoError::os(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| IoError::os(path, e))?;
    tmp.persist(path).map_err(|e| IoError::os(path, e.error))?;
    Ok(())
}
