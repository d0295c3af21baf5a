//! The one error type of artefact-ct.

use artefact_core::CoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CtError {
    /// Error from a core helper (shape, spec sampling, …).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A parameter or geometry value that cannot be simulated.
    #[error("invalid parameter `{param}`: {reason}")]
    Param { param: &'static str, reason: String },
    /// The input image does not suit the operator.
    #[error("unsuitable input: {0}")]
    Input(String),
}
