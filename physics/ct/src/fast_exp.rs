//! The branch-free exponential for non-positive arguments shared by the spectral sum of
//! `ct.metal` (`crate::spectrum::Transmission3`) and its AVX2 kernel (`crate::simd::spectral`),
//! which perform the same operations in the same order on these constants. It lives in
//! [`artefact_core::fastmath`] (the photo crate's Blinn–Phong lobes use it too); this module
//! names it and the kernel's lane count for the CT crate.
//!
//! Model: Cody–Waite reduction `x = k·ln2 + r` with `|r| ≤ ln2/2`, a degree-13 Taylor
//! polynomial of `eʳ` (truncation < 2e-16) and `2ᵏ` assembled in the exponent bits; within
//! 2 ulp of `f64::exp` on `[−707.6, 0]`, 0 below −708 (tested in `artefact_core::fastmath`).

/// Energies per lane group of the spectral sum (the AVX2 kernel's 4 f64 lanes).
pub(crate) const LANES: usize = 4;

pub use artefact_core::fastmath::exp_nonpositive;
pub(crate) use artefact_core::fastmath::{
    EXP_FLUSH, EXP_HORNER, EXP_LN2_HI, EXP_LN2_LO, EXP_LOG2E, EXP_SHIFTER, EXP_TOP,
};
