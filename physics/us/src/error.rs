//! The one error type of artefact-us.
//!
//! Every failure of the simulator — a bad parameter, an unsuitable input image, a probe that
//! cannot be simulated, or an error bubbled up from a core helper — is a [`UsError`] with a
//! message that names the offending parameter and the allowed range.

use artefact_core::CoreError;
use thiserror::Error;

/// Errors raised by the ultrasound simulator.
#[derive(Debug, Error)]
pub enum UsError {
    /// Error from a core helper (shape, spec sampling, …).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A parameter value that cannot be simulated.
    #[error("invalid parameter `{param}`: {reason}")]
    Param { param: &'static str, reason: String },
    /// The input image does not suit the simulator.
    #[error("unsuitable input: {0}")]
    Input(String),
}

impl UsError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        UsError::Param {
            param,
            reason: reason.into(),
        }
    }
}

/// Check that `v` is finite and within `[lo, hi]`.
pub(crate) fn check_range(param: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), UsError> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(UsError::param(
            param,
            format!("{v} is outside the allowed range [{lo}, {hi}]"),
        ));
    }
    Ok(())
}
