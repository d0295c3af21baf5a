//! Run-time CPU feature selection: the switch used by every crate's AVX2 kernels
//! ([`avx2_unless`], [`avx2_available`]) and core's own hot loops.
//!
//! The crate is built for the baseline `x86-64` target (SSE2). The finite-range scan of
//! `crate::stats` uses SSE2 intrinsics on x86-64 (`min_max_lanes_sse2`). The Otsu bin loop
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

#[cfg(target_arch = "x86_64")]
/// Lane-wise `(min, max)` over the 8-value chunks of a slice of finite values, and the
/// remainder; `None` if a chunk holds a non-finite value.
#[allow(clippy::type_complexity)]
pub(crate) fn min_max_lanes_sse2(values: &[f32]) -> Option<([(f32, f32); 8], &[f32])> {
    use std::arch::x86_64::*;
    let mut chunks = values.chunks_exact(8);
    let (mut lo, mut hi) = ([0f32; 8], [0f32; 8]);
    // SAFETY: SSE2 is part of the x86-64 baseline; the loads read the 8 f32 of a chunk and the
    // stores write 4 f32 into each half of 8-element arrays
    let bad = unsafe {
        let exp = _mm_set1_epi32(0x7f80_0000);
        let (mut lo0, mut lo1) = (_mm_set1_ps(f32::INFINITY), _mm_set1_ps(f32::INFINITY));
        let (mut hi0, mut hi1) = (
            _mm_set1_ps(f32::NEG_INFINITY),
            _mm_set1_ps(f32::NEG_INFINITY),
        );
        let mut bad = _mm_setzero_si128();
        for c in &mut chunks {
            let (a, b) = (_mm_loadu_ps(c.as_ptr()), _mm_loadu_ps(c.as_ptr().add(4)));
            let ea = _mm_and_si128(_mm_castps_si128(a), exp);
            let eb = _mm_and_si128(_mm_castps_si128(b), exp);
            bad = _mm_or_si128(
                bad,
                _mm_or_si128(_mm_cmpeq_epi32(ea, exp), _mm_cmpeq_epi32(eb, exp)),
            );
            // minps(x, m) = x < m ? x : m, maxps(x, m) = x > m ? x : m
            lo0 = _mm_min_ps(a, lo0);
            lo1 = _mm_min_ps(b, lo1);
            hi0 = _mm_max_ps(a, hi0);
            hi1 = _mm_max_ps(b, hi1);
        }
        _mm_storeu_ps(lo.as_mut_ptr(), lo0);
        _mm_storeu_ps(lo.as_mut_ptr().add(4), lo1);
        _mm_storeu_ps(hi.as_mut_ptr(), hi0);
        _mm_storeu_ps(hi.as_mut_ptr().add(4), hi1);
        _mm_movemask_epi8(bad) != 0
    };
    (!bad).then(|| (std::array::from_fn(|k| (lo[k], hi[k])), chunks.remainder()))
}

/// The AVX2 build of `crate::otsu_kernel::otsu_bins_impl` (same source, same bins).
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn otsu_bins_avx2(block: &[f32], lo: f32, scale: f64, bins: &mut [u32]) {
    crate::otsu_kernel::otsu_bins_impl(block, lo, scale, bins)
}

#[cfg(test)]
mod tests {
    use crate::stats::{otsu_bins, OTSU_BINS};

    /// The AVX2 build of the bin loop gives the portable bins (tails, non-finite values,
    /// values on and next to bin edges, an overflowing range).
    #[test]
    fn avx2_otsu_bins_match_the_portable_loop() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path exists");
            return;
        }
        let mut v: Vec<f32> = (0..1031)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.255 - 1.0)
            .collect();
        v[3] = f32::NAN;
        v[10] = f32::INFINITY;
        v[11] = f32::NEG_INFINITY;
        for (lo, hi) in [(-1.0f32, 253.745f32), (0.0, 255.0), (-3e38, 3e38)] {
            let scale = (OTSU_BINS as f64) / ((hi - lo) as f64);
            for n in [0usize, 1, 3, 4, 5, 8, 13, 1031] {
                let (mut a, mut b) = (vec![0u32; n], vec![7u32; n]);
                otsu_bins(&v[..n], lo, scale, &mut a, false);
                otsu_bins(&v[..n], lo, scale, &mut b, true);
                assert_eq!(a, b, "lo {lo} n {n}");
            }
        }
    }
}
