//! SIMD of this crate: run-time CPU feature selection for the hot loops of the projectors, the
//! AVX2 kernels of the FBP back-projections ([`fbp`], beside the bit-for-bit tests against
//! their portable twins in `crate::fbp`) and of `ct.metal`'s spectral sum ([`spectral`],
//! twin of `crate::spectrum::Transmission3::at`).
//!
//! The crate is built for the baseline `x86-64` target (SSE2). The FBP back-projections
//! (parallel and fan beam) and the Joseph forward projector have AVX2 kernels (8 lanes;
//! in-register permutes of contiguous loads where the indices are close together, `vgatherdps`
//! otherwise) that are chosen at run time when the CPU has AVX2. They use no FMA and keep the
//! portable code's operation order, so both paths give the same bytes (tested bit for bit);
//! the portable code is the fallback everywhere else.
//!
//! Setting the environment variable `ARTEFACT_CT_NO_SIMD` (to anything) makes [`avx2`] return
//! `false` for the whole process (read once), to time the portable code.

use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
pub(crate) mod fbp;
#[cfg(target_arch = "x86_64")]
pub(crate) mod spectral;

pub(crate) use artefact_core::simd::avx2_available;

/// `true` if the AVX2 kernels are to be used: the CPU has AVX2 and `ARTEFACT_CT_NO_SIMD` is
/// not set. Decided once per process.
pub(crate) fn avx2() -> bool {
    static USE: OnceLock<bool> = OnceLock::new();
    artefact_core::simd::avx2_unless("ARTEFACT_CT_NO_SIMD", &USE)
}
