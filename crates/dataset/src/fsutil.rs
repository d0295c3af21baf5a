//! Atomic file writes: write to a temporary sibling, flush, then rename over the target.

use crate::error::DatasetError;
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically (a reader sees the old file or the whole new one).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::file(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(DatasetError::file(path, e));
    }
    Ok(())
}

/// Hard-link `src` to `dst` (copy when linking is not possible), replacing `dst`.
pub fn link_or_copy(src: &Path, dst: &Path) -> Result<(), DatasetError> {
    if let Some(d) = dst.parent() {
        std::fs::create_dir_all(d).map_err(|e| DatasetError::file(d, e))?;
    }
    let _ = std::fs::remove_file(dst);
    if std::fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    let bytes = std::fs::read(src).map_err(|e| DatasetError::file(src, e))?;
    write_atomic(dst, &bytes)
}
