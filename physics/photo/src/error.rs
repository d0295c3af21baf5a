//! The one error type of artefact-photo.
//!
//! Every failure — a bad parameter, an unsuitable image, an error from a core helper or the
//! JPEG codec — is a [`PhotoError`] whose message names the parameter and its allowed range.

use artefact_core::CoreError;
use thiserror::Error;

/// Errors raised by the optical simulators.
#[derive(Debug, Error)]
pub enum PhotoError {
    /// Error from a core helper (shape, spec sampling, …).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A parameter value that cannot be simulated.
    #[error("invalid parameter `{param}`: {reason}")]
    Param { param: &'static str, reason: String },
    /// The input image does not suit the model.
    #[error("unsuitable input: {0}")]
    Input(String),
    /// The in-memory JPEG encoder or decoder failed.
    #[error("JPEG codec: {0}")]
    Codec(String),
}

impl PhotoError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        PhotoError::Param {
            param,
            reason: reason.into(),
        }
    }
}

/// Check that `v` is finite and within `[lo, hi]`.
pub(crate) fn check_range(param: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), PhotoError> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(PhotoError::param(
            param,
            format!("{v} is outside the allowed range [{lo}, {hi}]"),
        ));
    }
    Ok(())
}
