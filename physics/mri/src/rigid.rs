//! Rigid-body helpers shared by the motion simulators: k-space phase ramps (exact translation),
//! band-limited image rotation by three Fourier shears (2-D) and a rayon-parallel centred 3-D
//! FFT.
//!
//! # Conventions
//! Centred orthonormal FFT of [`artefact_core::fft`]: along an axis of length `n`, k-space index
//! `k` has frequency `(k − h)/n` cycles per pixel with `h = n/2`. Moving the object by `s`
//! pixels (`x'[m] = x[m − s]`, circular) multiplies k-space by `exp(−2πi (k − h) s / n)`
//! ([`shift_phasors`]); this is exact for integer `s` and the band-limited (sinc) shift for
//! fractional `s`.
//!
//! Rotations act about the FFT centre (index `n/2` on each axis, the scanner isocentre of the
//! field of view) in millimetre coordinates, so anisotropic pixel spacing is handled. In 2-D
//! a rotation by θ (from the +row axis toward the +column axis) is written in pixel units as
//! `M = S⁻¹ R(θ) S` (`S = diag(spacing)`, `det M = 1`) and factored into three shears
//! `M = L(a) · U(b) · L(c)` with `L` shifting along columns and `U` along rows
//! (Unser, Thévenaz & Yaroslavsky, "Convolution-based interpolation for fast, high-quality
//! rotation of images", IEEE TIP 4(10), 1995; Larkin et al., "Fast Fourier method for the
//! accurate rotation of sampled images", Opt. Commun. 139, 1997). Each shear is a per-lane
//! Fourier shift, so the rotation is band-limited (no interpolation blur, energy preserved),
//! which is the natural model for an MR image that is itself a band-limited k-space
//! reconstruction. The shear factors grow as `tan(θ/2)`, so rotations are limited to ±45°.
//!
//! The 3-D trilinear resampler of the motion simulator is in [`crate::resample`] (its items
//! are re-exported here).

use crate::rfft::{kspace2_real_half, shear_cols_real, shear_rows_real, ShearPhasors};
use artefact_core::fft::{fftc_axis, Direction};
use artefact_core::Complex32;
use ndarray::{Array2, Array3, Axis};
use rayon::prelude::*;
use std::f64::consts::PI;

pub use crate::resample::{rotate_trilinear, rotation_matrix3, trilinear_planes, GridMap};

/// `exp(−2πi (k − n/2) s / n)` for `k = 0..n`: the k-space factor moving the object by `s`
/// pixels along an axis of length `n`.
pub fn shift_phasors(n: usize, s: f64) -> Vec<Complex32> {
    // p_k = p_0 · r^k by a recurrence in f64 (two trig calls per vector instead of 2n; the
    // accumulated rounding after n ≤ 2¹⁶ steps stays far below f32 precision)
    let h = (n / 2) as f64;
    let ph0 = -2.0 * PI * (-h) * s / n as f64;
    let dph = -2.0 * PI * s / n as f64;
    let (mut re, mut im) = (ph0.cos(), ph0.sin());
    let (cr, ci) = (dph.cos(), dph.sin());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(Complex32::new(re as f32, im as f32));
        let t = re * cr - im * ci;
        im = re * ci + im * cr;
        re = t;
    }
    out
}

/// Like [`shift_phasors`] but with the unpaired Nyquist bin of an even length given the real
/// factor `cos(π s)`, so a real signal stays real (the symmetric band-limited shift).
fn shift_phasors_real(n: usize, s: f64) -> Vec<Complex32> {
    let mut p = shift_phasors(n, s);
    if n % 2 == 0 && n > 0 {
        p[0] = Complex32::new((PI * s).cos() as f32, 0.0);
    }
    p
}

/// Shear in the hybrid domain: `x` must already be Fourier transformed along `axis`; lane `b`
/// (index along the other axis) is shifted by `coeff · (b − h_b)` pixels along `axis`.
fn shear_phase(x: &mut Array2<Complex32>, axis: usize, coeff: f64) {
    let other = 1 - axis;
    let nb = x.len_of(Axis(other));
    let n = x.len_of(Axis(axis));
    let hb = (nb / 2) as f64;
    for (b, mut lane) in x.axis_iter_mut(Axis(other)).enumerate() {
        let s = coeff * (b as f64 - hb);
        if s == 0.0 {
            continue;
        }
        let ph = shift_phasors_real(n, s);
        lane.iter_mut().zip(ph.iter()).for_each(|(z, p)| *z *= p);
    }
}

/// Three-shear factors `(a, b, c)` of a rotation by `theta` (radians) in pixel units.
fn shear_factors(theta: f64, spacing: [f64; 2]) -> (f64, f64, f64) {
    let (s, c) = theta.sin_cos();
    let (dy, dx) = (spacing[0], spacing[1]);
    // M = S⁻¹ R S acting on (row, col) pixel coordinates
    let m11 = c;
    let m12 = -s * dx / dy;
    let m22 = c;
    let b = m12;
    ((m22 - 1.0) / b, b, (m11 - 1.0) / b)
}

/// Centred orthonormal 2-D k-space of `img` rotated by `theta` radians about the FFT centre
/// (three Fourier shears; the last inverse transform is fused with the forward 2-D FFT).
/// `theta == 0` is the plain `fft2c`.
pub fn rotated_kspace(img: &Array2<Complex32>, theta: f64, spacing: [f64; 2]) -> Array2<Complex32> {
    let mut x = img.clone();
    if theta == 0.0 {
        fftc_axis(&mut x.view_mut(), 1, Direction::Forward);
        fftc_axis(&mut x.view_mut(), 0, Direction::Forward);
        return x;
    }
    let (a, b, c) = shear_factors(theta, spacing);
    // L(c): shift along columns by c·(row − h)
    fftc_axis(&mut x.view_mut(), 1, Direction::Forward);
    shear_phase(&mut x, 1, c);
    fftc_axis(&mut x.view_mut(), 1, Direction::Inverse);
    // U(b): shift along rows by b·(col − h)
    fftc_axis(&mut x.view_mut(), 0, Direction::Forward);
    shear_phase(&mut x, 0, b);
    fftc_axis(&mut x.view_mut(), 0, Direction::Inverse);
    // L(a), then the 2-D FFT: the inverse column transform of the shear and the forward one of
    // the FFT cancel, so only the row transform remains.
    fftc_axis(&mut x.view_mut(), 1, Direction::Forward);
    shear_phase(&mut x, 1, a);
    fftc_axis(&mut x.view_mut(), 0, Direction::Forward);
    x
}

/// Fast path of [`rotated_kspace`] for a real image (same model, same shears): the first two
/// shears run on real rows two per complex FFT (the column shear on the transposed image), the
/// third shear is fused into the real row transform of [`crate::rfft::kspace2_real`], and the
/// column transform covers only the non-negative readout frequencies (Hermitian symmetry
/// gives the rest). About 2.5× fewer FFT operations than [`rotated_kspace`], which is kept as
/// the reference it is tested against.
pub fn rotated_kspace_real(img: &Array2<f32>, theta: f64, spacing: [f64; 2]) -> Array2<Complex32> {
    let (n0, n1) = img.dim();
    let half = rotated_kspace_half_real(img, theta, spacing);
    let h1 = n1 / 2;
    Array2::from_shape_fn((n0, n1), |(k0, k1)| {
        if k1 >= h1 {
            half[[k0, k1 - h1]]
        } else {
            half[[crate::rfft::mirror(k0, n0), h1 - k1]].conj()
        }
    })
}

/// The non-negative column frequencies of [`rotated_kspace_real`] (layout of
/// [`crate::rfft::kspace2_real_half`]). The column shear runs on adjacent column pairs
/// gathered in batches ([`crate::rfft::shear_cols_real`]), so the image is never transposed.
pub fn rotated_kspace_half_real(
    img: &Array2<f32>,
    theta: f64,
    spacing: [f64; 2],
) -> Array2<Complex32> {
    let (n0, n1) = img.dim();
    let mut x: Vec<f32> = match img.as_slice() {
        Some(s) => s.to_vec(),
        None => img.iter().copied().collect(),
    };
    if theta == 0.0 {
        return kspace2_real_half(&x, n0, n1, None);
    }
    let (a, b, c) = shear_factors(theta, spacing);
    let (h0, h1) = ((n0 / 2) as f64, (n1 / 2) as f64);
    // L(c): row r moves by c·(r − h0) along the columns
    shear_rows_real(&mut x, n1, c, h0);
    // U(b): column j moves by b·(j − h1) along the rows
    shear_cols_real(&mut x, n0, n1, b, h1);
    // L(a) fused with the 2-D transform
    let mut third = ShearPhasors::new(n1, a, h0);
    kspace2_real_half(&x, n0, n1, Some(&mut third))
}

/// Image `img` rotated by `theta` radians about the FFT centre (band-limited, three shears).
pub fn rotate_fourier(img: &Array2<Complex32>, theta: f64, spacing: [f64; 2]) -> Array2<Complex32> {
    let mut k = rotated_kspace(img, theta, spacing);
    fftc_axis(&mut k.view_mut(), 1, Direction::Inverse);
    fftc_axis(&mut k.view_mut(), 0, Direction::Inverse);
    k
}

/// Centred orthonormal FFT of a 3-D array along `axes` (in that order), lanes spread over the
/// rayon pool. Every lane is transformed independently, so results do not depend on the
/// number of threads.
pub fn par_fftc3(x: &mut Array3<Complex32>, axes: &[usize], dir: Direction) {
    let threads = rayon::current_num_threads().max(1);
    for &axis in axes {
        let split = if axis == 0 { 1 } else { 0 };
        let len = x.len_of(Axis(split));
        let chunk = len.div_ceil(threads * 4).max(1);
        let chunks: Vec<_> = x.axis_chunks_iter_mut(Axis(split), chunk).collect();
        chunks.into_par_iter().for_each(|mut c| {
            fftc_axis(&mut c, axis, dir);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(n0: usize, n1: usize, c0: f64, c1: f64, s: f64) -> Array2<Complex32> {
        Array2::from_shape_fn((n0, n1), |(i, j)| {
            let r2 = (i as f64 - c0).powi(2) + (j as f64 - c1).powi(2);
            Complex32::new((-r2 / (2.0 * s * s)).exp() as f32, 0.0)
        })
    }

    #[test]
    fn fourier_rotation_of_a_gaussian_matches_the_analytic_rotation() {
        // off-centre isotropic Gaussian: rotation about (32, 32) moves its centre only
        let theta = 20f64.to_radians();
        let (c0, c1) = (32.0 + 10.0, 32.0 - 4.0);
        let img = gaussian(64, 64, c0, c1, 3.0);
        let rot = rotate_fourier(&img, theta, [1.0, 1.0]);
        // centre moves by R(θ) about (32, 32): (d0, d1) → (c d0 − s d1, s d0 + c d1)
        let (s, c) = theta.sin_cos();
        let (d0, d1) = (c0 - 32.0, c1 - 32.0);
        let e0 = 32.0 + c * d0 - s * d1;
        let e1 = 32.0 + s * d0 + c * d1;
        let want = gaussian(64, 64, e0, e1, 3.0);
        let err = rot
            .iter()
            .zip(want.iter())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0f32, f32::max);
        assert!(err < 2e-3, "max error {err}");
    }

    #[test]
    fn real_rotated_kspace_matches_the_complex_reference() {
        for &(n0, n1, sp) in &[
            (32usize, 32usize, [1.0, 1.0]),
            (31, 24, [1.0, 1.3]),
            (20, 27, [0.8, 1.0]),
        ] {
            let img = Array2::from_shape_fn((n0, n1), |(i, j)| {
                let r2 =
                    (i as f64 - n0 as f64 * 0.45).powi(2) + (j as f64 - n1 as f64 * 0.55).powi(2);
                ((-r2 / 30.0).exp() + 0.2 * ((i * 3 + j * 5) % 7) as f64 / 7.0) as f32
            });
            let cx = img.mapv(|v| Complex32::new(v, 0.0));
            for deg in [0.0f64, 3.0, -7.5, 20.0, 45.0, -45.0] {
                let t = deg.to_radians();
                let slow = rotated_kspace(&cx, t, sp);
                let fast = rotated_kspace_real(&img, t, sp);
                let scale = slow.iter().map(|z| z.norm()).fold(0.0f32, f32::max);
                let err = fast
                    .iter()
                    .zip(slow.iter())
                    .map(|(a, b)| (a - b).norm())
                    .fold(0.0f32, f32::max);
                assert!(
                    err <= 2e-5 * scale,
                    "{n0}x{n1} {deg}°: {err} (scale {scale})"
                );
            }
        }
    }

    #[test]
    fn parallel_fft3_matches_core() {
        let x = Array3::from_shape_fn((5, 6, 7), |(i, j, k)| {
            Complex32::new((i * 7 + j * 3 + k) as f32 % 5.0, (i + 2 * k) as f32 % 3.0)
        });
        let mut a = x.clone();
        artefact_core::fft::fft3c(&mut a);
        let mut b = x.clone();
        par_fftc3(&mut b, &[2, 1, 0], Direction::Forward);
        assert_eq!(a, b);
    }
}
