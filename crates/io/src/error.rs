//! The one error type of artefact-io.
//!
//! Every error names the file it concerns and the reason, so a message printed on its own
//! (`{path}: {reason}`) is enough to act on. No error message ever contains patient names,
//! IDs, birth dates or other identifying header values.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong while reading or writing one file.
#[derive(Debug)]
#[non_exhaustive]
pub enum IoErrorKind {
    /// The operating system refused (missing file, permission, disk full, …).
    Os(std::io::Error),
    /// The file ends before the data its header announces.
    Truncated(String),
    /// The file is not in any format artefact-io reads (magic bytes not recognised).
    UnknownFormat(String),
    /// The header is inconsistent or invalid (bad magic, impossible sizes, …).
    Invalid(String),
    /// A valid file using a feature this build cannot decode (e.g. a transfer syntax).
    Unsupported(String),
    /// A valid object that is not an image to degrade (DICOM SEG, SR, RTSTRUCT, …).
    NotAnImage(String),
    /// A colour image where a grey image is required.
    Colour(String),
    /// Pixels that may carry burned-in text (patient or clinic names) outside a known region.
    BurnedIn(String),
    /// Voxels that are NaN or ±Inf (see [`crate::NonFinitePolicy`]).
    NonFinite { count: usize, total: usize },
    /// Header dimensions that would need more memory than allowed (refused before allocating).
    TooLarge(String),
    /// A directory that holds no readable image, or more than one series where one is required.
    Selection(String),
    /// Reading took longer than the time budget ([`crate::LoadOptions::time_budget`]).
    TimedOut(String),
}

/// An I/O error: the file concerned and the reason.
#[derive(Debug)]
pub struct IoError {
    pub path: PathBuf,
    pub kind: IoErrorKind,
}

impl IoError {
    pub fn new(path: &Path, kind: IoErrorKind) -> IoError {
        IoError {
            path: path.to_path_buf(),
            kind,
        }
    }

    pub(crate) fn os(path: &Path, e: std::io::Error) -> IoError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return IoError::new(
                path,
                IoErrorKind::Truncated(format!("file ends early ({e})")),
            );
        }
        IoError::new(path, IoErrorKind::Os(e))
    }

    pub(crate) fn invalid(path: &Path, reason: impl Into<String>) -> IoError {
        IoError::new(path, IoErrorKind::Invalid(reason.into()))
    }

    pub(crate) fn truncated(path: &Path, reason: impl Into<String>) -> IoError {
        IoError::new(path, IoErrorKind::Truncated(reason.into()))
    }

    pub(crate) fn unsupported(path: &Path, reason: impl Into<String>) -> IoError {
        IoError::new(path, IoErrorKind::Unsupported(reason.into()))
    }

    pub(crate) fn too_large(path: &Path, reason: impl Into<String>) -> IoError {
        IoError::new(path, IoErrorKind::TooLarge(reason.into()))
    }

    /// The reason alone, without the path.
    pub fn reason(&self) -> String {
        match &self.kind {
            IoErrorKind::Os(e) => e.to_string(),
            IoErrorKind::Truncated(s) => format!("truncated: {s}"),
            IoErrorKind::UnknownFormat(s) => format!("unknown format: {s}"),
            IoErrorKind::Invalid(s) => format!("invalid: {s}"),
            IoErrorKind::Unsupported(s) => format!("unsupported: {s}"),
            IoErrorKind::NotAnImage(s) => format!("not an image: {s}"),
            IoErrorKind::Colour(s) => format!("colour image: {s}"),
            IoErrorKind::BurnedIn(s) => format!("burned-in text: {s}"),
            IoErrorKind::NonFinite { count, total } => format!(
                "{count} of {total} voxels are NaN or infinite (--non-finite-to-zero replaces \
                 them by 0)"
            ),
            IoErrorKind::TooLarge(s) => format!("too large: {s}"),
            IoErrorKind::Selection(s) => s.clone(),
            IoErrorKind::TimedOut(s) => format!("timed out: {s}"),
        }
    }

    /// A short machine-friendly name of the error kind.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            IoErrorKind::Os(_) => "os",
            IoErrorKind::Truncated(_) => "truncated",
            IoErrorKind::UnknownFormat(_) => "unknown-format",
            IoErrorKind::Invalid(_) => "invalid",
            IoErrorKind::Unsupported(_) => "unsupported",
            IoErrorKind::NotAnImage(_) => "not-an-image",
            IoErrorKind::Colour(_) => "colour",
            IoErrorKind::BurnedIn(_) => "burned-in",
            IoErrorKind::NonFinite { .. } => "non-finite",
            IoErrorKind::TooLarge(_) => "too-large",
            IoErrorKind::Selection(_) => "selection",
            IoErrorKind::TimedOut(_) => "timed-out",
        }
    }
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason())
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            IoErrorKind::Os(e) => Some(e),
            _ => None,
        }
    }
}
