//! Run-time CPU feature selection: the switch used by every crate's AVX2 kernels
//! ([`avx2_unless`], [`avx2_available`]) and core's own hot loops.
//!
//! The crate is built for the baseline `x86-64` target (SSE2). The Otsu bin loop
//! (`Image::otsu_threshold` on contiguous data) also has an AVX2 build of the same source
//! (4 f64 lanes), chosen at run time when the CPU has AVX2. It uses no FMA and performs the
//! portable code's operations in the same order, so both give the same bins (tested).
//!
//! Setting the environment variable `ARTEFACT_CORE_NO_SIMD` (to anything) makes `avx2()`
//! return `false` for the whole process (read once), to time the portable code.

use std::sync::OnceLock;

/// `true` if the AVX2 kernels are to be used: the CPU has AVX2 and `ARTEFACT_CORE_NO_SIMD` is
/// not set. Decided once per process.
pub(crate) fn avx2() -> bool {
    static USE: OnceLock<bool> = OnceLock::new();
    avx2_unless("ARTEFACT_CORE_NO_SIMD", &USE)
}

/// The run-time switch every crate's kernels use: `true` if the CPU has AVX2 and the
/// environment variable `env` is not set, decided once per process and kept in `cell`.
pub fn avx2_unless(env: &str, cell: &OnceLock<bool>) -> bool {
    *cell.get_or_init(|| std::env::var_os(env).is_none() && avx2_available())
}

/// `true` if the CPU has AVX2 (detected once; `std` caches the CPUID result).
pub fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
