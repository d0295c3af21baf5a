//! Run-time CPU feature selection for the photo hot loops (the only module of the crate with
//! SIMD code).
//!
//! The crate is built for the baseline `x86-64` target (SSE2). The loops here are written once,
//! portably (`*_impl`), and the same source is also compiled with
//! `#[target_feature(enable = "avx2")]`, chosen at run time when the CPU has AVX2. The AVX2
//! build uses no FMA and performs the portable code's element-wise operations in the same
//! order (one multiply, one add per element), so both give the same bytes (tested).
//!
//! Loops with an AVX2 build:
//! - [`axpy`] and [`axpy4`]: `out[k] += w · x[k]` for one or four taps, the inner loop of the
//!   direct convolution ([`crate::convolve`]), in f32 and f64.
//! - [`rescale_od_row`]: optical density scaled and offset, back to intensity
//!   ([`crate::stain::rescale_od`]), the bubble interior of `crate::air_bubble`.
//! - [`pow_unit_row`]: `x ↦ xᵃ` over a row of `[0, 1]` values
//!   ([`artefact_core::fastmath::pow_unit`]), the Blinn–Phong lobe of `crate::specular`.
//!
//! Setting the environment variable `ARTEFACT_PHOTO_NO_SIMD` (to anything) makes [`avx2`]
//! return `false` for the whole process (read once), to time the portable code.

#![allow(unsafe_code)]

use std::ops::{Add, Mul};
use std::sync::OnceLock;

/// `true` if the AVX2 builds are to be used: the CPU has AVX2 and `ARTEFACT_PHOTO_NO_SIMD` is
/// not set. Decided once per process.
pub(crate) fn avx2() -> bool {
    static USE: OnceLock<bool> = OnceLock::new();
    artefact_core::simd::avx2_unless("ARTEFACT_PHOTO_NO_SIMD", &USE)
}

/// An element type of the direct convolution (f32 or f64).
pub(crate) trait Real:
    Copy + Default + PartialEq + Add<Output = Self> + Mul<Output = Self> + Send + Sync + 'static
{
    fn from_f64(v: f64) -> Self;
}

impl Real for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
}

impl Real for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }
}

/// The portable source of [`axpy`].
#[inline(always)]
fn axpy_impl<T: Real>(out: &mut [T], x: &[T], w: T) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = *o + w * v;
    }
}

/// The portable source of [`axpy4`]: four taps per pass over `out`, added in the order of
/// four successive [`axpy`] calls (so the same bytes), with a quarter of the loads and stores
/// of `out`.
#[inline(always)]
fn axpy4_impl<T: Real>(out: &mut [T], x: [&[T]; 4], w: [T; 4]) {
    let n = out
        .len()
        .min(x[0].len())
        .min(x[1].len())
        .min(x[2].len())
        .min(x[3].len());
    let (a, b, c, d) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    for (k, o) in out[..n].iter_mut().enumerate() {
        *o = *o + w[0] * a[k] + w[1] * b[k] + w[2] * c[k] + w[3] * d[k];
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn axpy_avx2<T: Real>(out: &mut [T], x: &[T], w: T) {
    axpy_impl(out, x, w)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn axpy4_avx2<T: Real>(out: &mut [T], x: [&[T]; 4], w: [T; 4]) {
    axpy4_impl(out, x, w)
}

/// `out[k] += w₀·x₀[k]`, then `+= w₁·x₁[k]`, … (four taps; AVX2 build when [`avx2`]); equal
/// to four [`axpy`] calls bit for bit.
#[inline]
pub(crate) fn axpy4<T: Real>(out: &mut [T], x: [&[T]; 4], w: [T; 4]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { axpy4_avx2(out, x, w) };
    }
    axpy4_impl(out, x, w)
}

/// `out[k] += w · x[k]` over the common length (AVX2 build when [`avx2`]).
#[inline]
pub(crate) fn axpy<T: Real>(out: &mut [T], x: &[T], w: T) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { axpy_avx2(out, x, w) };
    }
    axpy_impl(out, x, w)
}

/// The portable source of [`pow_unit_row`].
#[inline(always)]
fn pow_unit_row_impl(row: &mut [f64], a: f64) {
    for v in row.iter_mut() {
        *v = artefact_core::fastmath::pow_unit(*v, a);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pow_unit_row_avx2(row: &mut [f64], a: f64) {
    pow_unit_row_impl(row, a)
}

/// `row[k] ← row[k]ᵃ` by [`artefact_core::fastmath::pow_unit`] (AVX2 build when [`avx2`],
/// the same bytes).
#[inline]
pub(crate) fn pow_unit_row(row: &mut [f64], a: f64) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { pow_unit_row_avx2(row, a) };
    }
    pow_unit_row_impl(row, a)
}

/// The portable source of [`rescale_od_row`].
#[inline(always)]
fn rescale_od_row_impl(v: &mut [f64], add: &[f64], contrast: f64, i0: f64) {
    for (v, &a) in v.iter_mut().zip(add) {
        *v = crate::stain::rescale_od(*v, a, contrast, i0);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn rescale_od_row_avx2(v: &mut [f64], add: &[f64], contrast: f64, i0: f64) {
    rescale_od_row_impl(v, add, contrast, i0)
}

/// `v[k] ← rescale_od(v[k], add[k], contrast, i0)` ([`crate::stain::rescale_od`]; AVX2
/// build when [`avx2`], the same bytes).
#[inline]
pub(crate) fn rescale_od_row(v: &mut [f64], add: &[f64], contrast: f64, i0: f64) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { rescale_od_row_avx2(v, add, contrast, i0) };
    }
    rescale_od_row_impl(v, add, contrast, i0)
}

/// The portable build, whatever the CPU (for the equality test).
#[cfg(test)]
pub(crate) fn axpy_portable<T: Real>(out: &mut [T], x: &[T], w: T) {
    axpy_impl(out, x, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx2_build_gives_the_portable_bytes() {
        let x32: Vec<f32> = (0..1037).map(|k| ((k * 37 % 101) as f32).sin()).collect();
        let x64: Vec<f64> = x32.iter().map(|&v| v as f64 * 1.3).collect();
        let (mut a32, mut b32) = (vec![0.25f32; 1037], vec![0.25f32; 1037]);
        let (mut a64, mut b64) = (vec![0.25f64; 1037], vec![0.25f64; 1037]);
        for w in [0.3f64, 1e-3, 7.5] {
            axpy(&mut a32, &x32[3..], w as f32);
            axpy_portable(&mut b32, &x32[3..], w as f32);
            axpy(&mut a64, &x64, w);
            axpy_portable(&mut b64, &x64, w);
        }
        // four taps at once: the bytes of four single taps
        let mut c32 = vec![0.25f32; 1000];
        let mut d32 = c32.clone();
        let xs = [&x32[0..1000], &x32[5..1005], &x32[17..1017], &x32[30..1030]];
        let ws = [0.1f32, -2.5, 3e-3, 0.7];
        axpy4(&mut c32, xs, ws);
        for (x, w) in xs.iter().zip(ws) {
            axpy_portable(&mut d32, x, w);
        }
        assert!(c32
            .iter()
            .zip(&d32)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(a32
            .iter()
            .zip(&b32)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(a64
            .iter()
            .zip(&b64)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn avx2_pow_row_gives_the_portable_bytes() {
        let x: Vec<f64> = (0..1037)
            .map(|k| ((k * 37 % 101) as f64 * 0.37).sin().abs())
            .chain([0.0, 1.0, 1e-320, f64::MIN_POSITIVE])
            .collect();
        for a in [1.0, 137.5, 999.0] {
            let mut fast = x.clone();
            pow_unit_row(&mut fast, a);
            let mut portable = x.clone();
            pow_unit_row_impl(&mut portable, a);
            assert!(fast
                .iter()
                .zip(&portable)
                .all(|(p, q)| p.to_bits() == q.to_bits()));
            assert!(fast.iter().zip(&x).any(|(p, q)| p != q));
        }
    }

    #[test]
    fn avx2_rescale_od_row_gives_the_portable_bytes() {
        let v: Vec<f64> = (0..1037)
            .map(|k| (k as f64 * 0.001_9).fract() * 1.1)
            .collect();
        let add: Vec<f64> = (0..1037).map(|k| (k % 7) as f64 * 0.2 - 0.1).collect();
        let mut fast = v.clone();
        rescale_od_row(&mut fast, &add, 0.55, 0.92);
        let mut portable = v.clone();
        rescale_od_row_impl(&mut portable, &add, 0.55, 0.92);
        assert!(fast
            .iter()
            .zip(&portable)
            .all(|(p, q)| p.to_bits() == q.to_bits()));
        assert!(fast.iter().zip(&v).any(|(p, q)| p != q));
    }
}
