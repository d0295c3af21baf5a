//! The one error type of artefact-dataset.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DatasetError {
    #[error(transparent)]
    Recipe(#[from] artefact_recipe::RecipeError),
    #[error(transparent)]
    Source(#[from] artefact_io::IoError),
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("sample {id}: {reason}")]
    Sample { id: String, reason: String },
    #[error("output directory {path}: {reason}")]
    Output { path: PathBuf, reason: String },
    #[error("{0}")]
    Plan(String),
}

impl DatasetError {
    pub(crate) fn file(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        DatasetError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}
