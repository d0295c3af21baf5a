//! The one error type of artefact-core.

use thiserror::Error;

/// Errors raised by core types and helpers.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// Array shape does not fit the operation (e.g. mismatched images, empty axis).
    #[error("shape error: {0}")]
    Shape(String),
    /// An argument is outside its valid domain.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A parameter spec cannot be used to sample a parameter.
    #[error("parameter `{param}`: {reason}")]
    Spec { param: String, reason: String },
}

impl CoreError {
    pub fn spec(param: &str, reason: impl Into<String>) -> Self {
        CoreError::Spec {
            param: param.to_string(),
            reason: reason.into(),
        }
    }
}
