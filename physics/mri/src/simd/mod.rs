//! Run-time CPU feature selection for the MRI hot loops.
//!
//! The crate is built for the baseline `x86-64` target (SSE2). Loops listed here also have an
//! AVX2 version (8 lanes), chosen at run time when the CPU has AVX2. An AVX2 version uses no
//! FMA and performs the portable code's f32/f64 operations in the same order, so both paths
//! give the same bytes (tested bit for bit); the portable code is the fallback everywhere else.
//!
//! Loops with an AVX2 version (the same source compiled with
//! `#[target_feature(enable = "avx2")]`):
//! - `mri.noise`: the per-pixel Box–Muller draw and, with one coil, `|x + σn|` (`noise.rs`);
//!
//! and one written with AVX2 intrinsics:
//! - the interior spans of the trilinear resampler of 3-D motion (`resample.rs`, kernel in
//!   `simd/trilinear.rs`: 8 voxels per
//!   pass, neighbours read as 64-bit pairs and transposed in registers).
//!
//! Setting the environment variable `ARTEFACT_MRI_NO_SIMD` (to anything) makes [`avx2`] return
//! `false` for the whole process (read once), to time the portable code.

use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
pub(crate) mod trilinear;

pub(crate) use artefact_core::simd::avx2_available;

/// `true` if the AVX2 kernels are to be used: the CPU has AVX2 and `ARTEFACT_MRI_NO_SIMD` is
/// not set. Decided once per process.
pub(crate) fn avx2() -> bool {
    static USE: OnceLock<bool> = OnceLock::new();
    artefact_core::simd::avx2_unless("ARTEFACT_MRI_NO_SIMD", &USE)
}
