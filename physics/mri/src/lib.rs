//! artefact-mri: MRI artefacts simulated in k-space.
//!
//! Model: a real (magnitude) slice is taken as the complex image `x` (zero phase unless an
//! operator adds phase), transformed with the centred orthonormal FFT of
//! [`artefact_core::fft`] to k-space, corrupted there, transformed back, and returned as the
//! magnitude `|x|` (or root-sum-of-squares over coils) — never the real part.
//!
//! Conventions: array axis 0 = rows, axis 1 = columns; the phase-encode axis is selectable
//! ([`PhaseEncode`]), the other axis is readout. Lengths in mm, times in ms, fields in ppm or Hz
//! as documented per operator. Every operator is a unit struct implementing
//! [`artefact_core::Operator`] with a serde-serialisable `Params`.
//!
//! (Per-operator model notes and references are in each module.)

pub mod error;
pub mod kspace;

pub mod bias_field;
pub mod bias_field_volume;
pub mod coils;
pub mod ghosting;
pub mod gibbs;
pub mod masks;
pub mod motion;
pub mod motion_volume;
pub mod noise;
pub mod nufft;
pub mod resample;
pub mod rfft;
pub mod rigid;
mod simd;
pub mod spike;
pub mod susceptibility;
pub mod undersampling;
pub mod undersampling_volume;
pub mod wraparound;

pub use error::MriError;

// The operators of this crate, in registry order. Adding an operator: its module above, one
// line here (see physics/README.md).
artefact_core::operators! {
    undersampling::Undersampling [volume],
    motion::Motion [volume],
    ghosting::Ghosting,
    spike::Spike,
    gibbs::Gibbs,
    noise::Noise [volume],
    bias_field::BiasField [volume],
    wraparound::Wraparound [volume],
    susceptibility::Susceptibility,
}
pub use kspace::PhaseEncode;

/// Result alias for this crate.
pub type Result<T, E = MriError> = std::result::Result<T, E>;
