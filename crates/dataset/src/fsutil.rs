//! Atomic file writes: write to a temporary sibling, flush, then rename over the target.

use crate::error::DatasetError;
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically (a reader sees the old file or the whole new one), and
/// sync it to disk before the rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    replace(path, bytes, true)
}

/// Write `bytes` to `path` atomically like [`write_atomic`], without waiting for the disk: for
/// the per-image files of a build (PNGs, records), where a sync per file cost two disk flushes
/// per image (13 ms per image, 27 % of an MRI build's worker time). Whatever a crash leaves,
/// `--resume` checks each image against its record's hash and makes it again if it differs;
/// the build's tables, written last, are synced.
pub fn write_replace(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    replace(path, bytes, false)
}

/// The temporary file beside `path` (its folder created) that is renamed onto it.
fn temp_beside(path: &Path) -> Result<std::path::PathBuf, DatasetError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::file(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    Ok(dir.join(format!(".{name}.tmp-{}", std::process::id())))
}

fn replace(path: &Path, bytes: &[u8], sync: bool) -> Result<(), DatasetError> {
    let tmp = temp_beside(path)?;
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
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
    write_replace(dst, &bytes)
}

/// A file written in pieces and put in place atomically: the bytes go to a temporary sibling,
/// which [`AtomicFile::commit`] flushes, syncs and renames over the target. Dropped without
/// `commit` (an error on the way), the temporary is removed and the target is untouched.
pub struct AtomicFile {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    w: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile, DatasetError> {
        let tmp = temp_beside(path)?;
        let f = std::fs::File::create(&tmp).map_err(|e| DatasetError::file(path, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            w: Some(std::io::BufWriter::with_capacity(1 << 20, f)),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), DatasetError> {
        let w = self.w.as_mut().expect("an open file");
        w.write_all(bytes)
            .map_err(|e| DatasetError::file(&self.path, e))
    }

    /// One value as a JSON line.
    pub fn json_line<T: serde::Serialize>(&mut self, v: &T) -> Result<(), DatasetError> {
        let w = self.w.as_mut().expect("an open file");
        serde_json::to_writer(&mut *w, v)
            .map_err(|e| DatasetError::file(&self.path, e.to_string()))?;
        w.write_all(b"\n")
            .map_err(|e| DatasetError::file(&self.path, e))
    }

    pub fn commit(mut self) -> Result<(), DatasetError> {
        let w = self.w.take().expect("an open file");
        let res = (|| -> std::io::Result<()> {
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)
        })();
        res.map_err(|e| DatasetError::file(&self.path, e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.w.is_some() || self.tmp.exists() {
            self.w = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write `rows` as JSON Lines to `path` atomically, one row at a time.
pub fn write_jsonl<'a, T: serde::Serialize + 'a>(
    path: &Path,
    rows: impl IntoIterator<Item = &'a T>,
) -> Result<(), DatasetError> {
    let mut f = AtomicFile::create(path)?;
    for r in rows {
        f.json_line(r)?;
    }
    f.commit()
}
