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
//!   ([`crate::pixel::rescale_od`]), the bubble interior of `crate::air_bubble`.
//! - [`pow_unit_row`]: `x ↦ xᵃ` over a row of `[0, 1]` values
//!   ([`artefact_core::fastmath::pow_unit`]), the Blinn–Phong lobe of `crate::specular`.
//! - [`od_row`] and [`stain_shift_row`]: optical density of a row, and a row's stains
//!   perturbed back to intensity ([`crate::pixel::StainShift`]), the two passes of
//!   `crate::stain_variation`.
//! - [`ndh_row`]: the Blinn–Phong `n·h` of a row from central differences
//!   (`crate::specular`).
//! - [`angle_bins`] and [`covariance_upper`]: the histogram bins of Macenko's plane angles
//!   and its covariance (`crate::stain`).
//!
//! Setting the environment variable `ARTEFACT_PHOTO_NO_SIMD` (to anything) makes [`avx2`]
//! return `false` for the whole process (read once), to time the portable code.

#![allow(unsafe_code)]

use crate::pixel::StainShift;
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
        *v = crate::pixel::rescale_od(*v, a, contrast, i0);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn rescale_od_row_avx2(v: &mut [f64], add: &[f64], contrast: f64, i0: f64) {
    rescale_od_row_impl(v, add, contrast, i0)
}

/// `v[k] ← rescale_od(v[k], add[k], contrast, i0)` ([`crate::pixel::rescale_od`]; AVX2
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

/// The portable source of [`od_row`]; `UNIT` when `i0 = 1` (`x / 1 = x`: the division is
/// left out, the same bytes).
#[inline(always)]
fn od_row_impl<const UNIT: bool>(src: &[f32], i0: f64, dst: &mut [f64]) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = if UNIT {
            crate::pixel::od_fast_unit(v as f64)
        } else {
            crate::pixel::od_fast(v as f64, i0)
        };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn od_row_avx2<const UNIT: bool>(src: &[f32], i0: f64, dst: &mut [f64]) {
    od_row_impl::<UNIT>(src, i0, dst)
}

/// `dst[k] ← od_fast(src[k], i0)` ([`crate::pixel::od_fast`]; AVX2 build when [`avx2`], the
/// same bytes) over the common length.
#[inline]
pub(crate) fn od_row(src: &[f32], i0: f64, dst: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe {
            if i0 == 1.0 {
                od_row_avx2::<true>(src, i0, dst)
            } else {
                od_row_avx2::<false>(src, i0, dst)
            }
        };
    }
    if i0 == 1.0 {
        od_row_impl::<true>(src, i0, dst)
    } else {
        od_row_impl::<false>(src, i0, dst)
    }
}

/// The portable source of [`stain_shift_row`].
#[inline(always)]
fn stain_shift_row_impl(shift: &StainShift, od: [&[f64]; 3], out: [&mut [f32]; 3]) {
    let [o0, o1, o2] = od;
    let [r0, r1, r2] = out;
    let n = o0.len().min(o1.len()).min(o2.len());
    let (r0, r1, r2) = (&mut r0[..n], &mut r1[..n], &mut r2[..n]);
    for k in 0..n {
        let v = shift.intensity([o0[k], o1[k], o2[k]]);
        r0[k] = v[0] as f32;
        r1[k] = v[1] as f32;
        r2[k] = v[2] as f32;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn stain_shift_row_avx2(shift: &StainShift, od: [&[f64]; 3], out: [&mut [f32]; 3]) {
    stain_shift_row_impl(shift, od, out)
}

/// `out[·][k] ← shift.intensity(od[·][k])` as f32 ([`crate::pixel::StainShift`]; AVX2 build
/// when [`avx2`], the same bytes) over the common length.
#[inline]
pub(crate) fn stain_shift_row(shift: &StainShift, od: [&[f64]; 3], out: [&mut [f32]; 3]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { stain_shift_row_avx2(shift, od, out) };
    }
    stain_shift_row_impl(shift, od, out)
}

/// The portable source of [`angle_bins`].
#[inline(always)]
fn angle_bins_impl(od: [&[f64]; 3], keep: &[bool], e: [[f64; 3]; 2], bins: &mut [u16]) -> bool {
    use crate::pixel::{angle_bin, atan2_bounded, ANGLE_BINS};
    let [x, y, z] = od;
    let [e1, e2] = e;
    let n = bins.len();
    let (x, y, z, keep) = (&x[..n], &y[..n], &z[..n], &keep[..n]);
    let mut finite = true;
    for j in 0..n {
        let a = x[j] * e1[0] + y[j] * e1[1] + z[j] * e1[2];
        let b = x[j] * e2[0] + y[j] * e2[1] + z[j] * e2[2];
        finite &= !keep[j] | (a.is_finite() & b.is_finite());
        let bin = angle_bin(atan2_bounded(b, a));
        bins[j] = if keep[j] { bin } else { ANGLE_BINS as u16 };
    }
    finite
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn angle_bins_avx2(od: [&[f64]; 3], keep: &[bool], e: [[f64; 3]; 2], bins: &mut [u16]) -> bool {
    angle_bins_impl(od, keep, e, bins)
}

/// Macenko's angle bin of every kept sample's plane coordinates `(od·e₁, od·e₂)` into `bins`
/// (`crate::pixel::angle_bin` of `crate::pixel::atan2_bounded`), `ANGLE_BINS` for samples
/// not kept (AVX2 build when [`avx2`], the same bytes); `false` if a kept sample's
/// coordinate is not finite (the bins are then meaningless).
#[inline]
pub(crate) fn angle_bins(
    od: [&[f64]; 3],
    keep: &[bool],
    e: [[f64; 3]; 2],
    bins: &mut [u16],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { angle_bins_avx2(od, keep, e, bins) };
    }
    angle_bins_impl(od, keep, e, bins)
}

/// The portable source of [`covariance_upper`].
#[inline(always)]
fn covariance_upper_impl(od: [&[f64]; 3], keep: &[bool], mean: [f64; 3], n: f64) -> [f64; 6] {
    let [x, y, z] = od;
    let len = keep.len();
    let (x, y, z) = (&x[..len], &y[..len], &z[..len]);
    let mut upper = [0.0f64; 6];
    for j in 0..len {
        let dev = [x[j] - mean[0], y[j] - mean[1], z[j] - mean[2]];
        let terms = [
            dev[0] * dev[0],
            dev[0] * dev[1],
            dev[0] * dev[2],
            dev[1] * dev[1],
            dev[1] * dev[2],
            dev[2] * dev[2],
        ];
        // −0 is the identity of addition: samples not kept leave the sums' bits alone
        for (acc, t) in upper.iter_mut().zip(terms) {
            *acc += if keep[j] { t / (n - 1.0) } else { -0.0 };
        }
    }
    upper
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn covariance_upper_avx2(od: [&[f64]; 3], keep: &[bool], mean: [f64; 3], n: f64) -> [f64; 6] {
    covariance_upper_impl(od, keep, mean, n)
}

/// Macenko's covariance of the kept samples, upper triangle `(0,0), (0,1), (0,2), (1,1),
/// (1,2), (2,2)`: `Σ dᵢ·dⱼ/(n − 1)` over the kept samples in order, `d = od − mean` (AVX2
/// build when [`avx2`], the same bytes).
#[inline]
pub(crate) fn covariance_upper(od: [&[f64]; 3], keep: &[bool], mean: [f64; 3], n: f64) -> [f64; 6] {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { covariance_upper_avx2(od, keep, mean, n) };
    }
    covariance_upper_impl(od, keep, mean, n)
}

/// The portable source of [`ndh_row`].
#[inline(always)]
fn ndh_row_impl(out: &mut [f64], ls: [&[f64]; 4], vx: &[f64], k: [f64; 3]) {
    let [left, right, up, down] = ls;
    let [scale, vy, focal] = k;
    let n = out
        .len()
        .min(left.len())
        .min(right.len())
        .min(up.len())
        .min(down.len())
        .min(vx.len());
    let (left, right, up, down, vx) = (&left[..n], &right[..n], &up[..n], &down[..n], &vx[..n]);
    for (c, o) in out[..n].iter_mut().enumerate() {
        let hx = scale * ((right[c] - left[c]) / 2.0);
        let hy = scale * ((down[c] - up[c]) / 2.0);
        *o = crate::pixel::ndh(hx, hy, [vx[c], vy, focal]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn ndh_row_avx2(out: &mut [f64], ls: [&[f64]; 4], vx: &[f64], k: [f64; 3]) {
    ndh_row_impl(out, ls, vx, k)
}

/// `out[c] ← ndh(hx, hy, [vx[c], vy, focal])` ([`crate::pixel::ndh`]) with the central
/// differences `hx = scale·((right[c] − left[c])/2)`, `hy = scale·((down[c] − up[c])/2)` of
/// the smoothed relative luminance, `k = [scale, vy, focal]`, over the common length (AVX2
/// build when [`avx2`], the same bytes).
#[inline]
pub(crate) fn ndh_row(out: &mut [f64], ls: [&[f64]; 4], vx: &[f64], k: [f64; 3]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: `avx2()` checked that the CPU supports AVX2
        return unsafe { ndh_row_avx2(out, ls, vx, k) };
    }
    ndh_row_impl(out, ls, vx, k)
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

    /// The stain-variation and Macenko rows: the AVX2 builds give the portable bytes (and
    /// the rows compute what their per-element functions do).
    #[test]
    fn avx2_stain_rows_give_the_portable_bytes() {
        let same64 =
            |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
        let src: Vec<f32> = (0..1037)
            .map(|k| (k as f32 * 0.0019).fract() * 1.2)
            .chain([0.0, f32::INFINITY, f32::NAN, 1e-9, 2.0])
            .collect();
        let mut od = [
            vec![0.0; src.len()],
            vec![0.0; src.len()],
            vec![0.0; src.len()],
        ];
        for (i0, o) in [1.0, 0.93, 1.07].into_iter().zip(od.iter_mut()) {
            od_row(&src, i0, o);
            let mut portable = vec![0.0; src.len()];
            if i0 == 1.0 {
                od_row_impl::<true>(&src, i0, &mut portable);
            } else {
                od_row_impl::<false>(&src, i0, &mut portable);
            }
            assert!(same64(o, &portable));
            assert!(o
                .iter()
                .zip(&src)
                .all(|(o, &v)| o.to_bits() == crate::pixel::od_fast(v as f64, i0).to_bits()));
        }
        let shift = StainShift {
            unmix: [[1.2, -0.3, 0.1], [-0.4, 1.1, -0.2]],
            from: [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11]],
            to: [[0.60, 0.74, 0.30], [0.12, 0.97, 0.15]],
            scale: [1.4, 0.7],
            i0: 0.95,
        };
        let n = src.len();
        let (mut a, mut b) = (vec![0f32; 3 * n], vec![0f32; 3 * n]);
        fn split(v: &mut [f32], n: usize) -> [&mut [f32]; 3] {
            let (x, rest) = v.split_at_mut(n);
            let (y, z) = rest.split_at_mut(n);
            [x, y, z]
        }
        stain_shift_row(&shift, [&od[0], &od[1], &od[2]], split(&mut a, n));
        stain_shift_row_impl(&shift, [&od[0], &od[1], &od[2]], split(&mut b, n));
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        let j = 500;
        let want = shift.intensity([od[0][j], od[1][j], od[2][j]]);
        assert_eq!([a[j], a[n + j], a[2 * n + j]], want.map(|v| v as f32));
        // Macenko's rows over finite ODs with some samples not kept
        let fin: [Vec<f64>; 3] = std::array::from_fn(|c| {
            (0..1037)
                .map(|k| ((k * (3 + c)) as f64 * 0.37).sin() * 1.5)
                .collect()
        });
        let keep: Vec<bool> = (0..1037).map(|k| k % 7 != 3).collect();
        let e = [[0.6, 0.7, 0.3], [-0.5, 0.2, 0.8]];
        let (mut b1, mut b2) = (vec![0u16; 1037], vec![0u16; 1037]);
        let x = [&fin[0][..], &fin[1][..], &fin[2][..]];
        assert!(angle_bins(x, &keep, e, &mut b1));
        assert!(angle_bins_impl(x, &keep, e, &mut b2));
        assert_eq!(b1, b2);
        assert!(b1
            .iter()
            .zip(&keep)
            .all(|(&b, &k)| k != (b as usize == crate::pixel::ANGLE_BINS)));
        let m = [0.1, -0.2, 0.05];
        let (c1, c2) = (
            covariance_upper(x, &keep, m, 880.0),
            covariance_upper_impl(x, &keep, m, 880.0),
        );
        assert!(same64(&c1, &c2));
        // the definition, in the kept samples' order
        let mut want = [0.0f64; 6];
        let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
        for j in (0..1037).filter(|&j| keep[j]) {
            let d = [x[0][j] - m[0], x[1][j] - m[1], x[2][j] - m[2]];
            for (w, &(p, q)) in want.iter_mut().zip(&pairs) {
                *w += d[p] * d[q] / 879.0;
            }
        }
        assert!(same64(&c1, &want));
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

    #[test]
    fn avx2_ndh_row_gives_the_portable_bytes() {
        let ls: Vec<f64> = (0..1040)
            .map(|k| ((k * 37 % 101) as f64 * 0.37).sin())
            .collect();
        let vx: Vec<f64> = (0..1037).map(|c| -(c as f64 - 518.3)).collect();
        let rows = [&ls[0..1037], &ls[2..1039], &ls[1..1038], &ls[3..1040]];
        for k in [[3.0, 12.5, 600.0], [40.0, -300.0, 50.0]] {
            let mut fast = vec![0.0; 1037];
            ndh_row(&mut fast, rows, &vx, k);
            let mut portable = vec![0.0; 1037];
            ndh_row_impl(&mut portable, rows, &vx, k);
            assert!(fast
                .iter()
                .zip(&portable)
                .all(|(p, q)| p.to_bits() == q.to_bits()));
            assert!(fast.iter().any(|&v| v > 0.5) && fast.contains(&0.0));
        }
    }
}
