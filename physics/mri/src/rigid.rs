//! Rigid-body helpers shared by the motion simulators: k-space phase ramps (exact translation),
//! band-limited image rotation by three Fourier shears (2-D), trilinear rigid resampling (3-D)
//! and a rayon-parallel centred 3-D FFT.
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
//! In 3-D ([`rotate_trilinear`]) the object is resampled with trilinear interpolation (zero
//! outside the field of view): a 6-DoF band-limited rotation needs four or more 3-D shear
//! passes over a volume of 8.7 M voxels, while trilinear interpolation is a single pass and its
//! mild low-pass is confined to the k-space lines acquired in the moved pose.
//! [`trilinear_planes`] is the fast form used by the motion simulator (the same interpolation
//! onto a possibly larger, axis-permuted grid, stepped in fixed point along each row);
//! [`rotate_trilinear`] is its reference.

use crate::rfft::{kspace2_real_half, shear_cols_real, shear_rows_real, ShearPhasors};
use artefact_core::fft::{fftc_axis, Direction};
use artefact_core::Complex32;
use ndarray::{Array2, Array3, Axis};
use rayon::prelude::*;
use std::f64::consts::PI;

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

/// Rotation matrix (array-axis order) from angles in radians about array axes 0, 1 and 2:
/// `R = R₀(α₀) · R₁(α₁) · R₂(α₂)` where `Rₐ` rotates the plane of the other two axes (taken in
/// increasing order) from the lower toward the higher axis.
pub fn rotation_matrix3(angles: [f64; 3]) -> [[f64; 3]; 3] {
    let plane = |axis: usize, t: f64| -> [[f64; 3]; 3] {
        let (s, c) = t.sin_cos();
        let (p, q) = match axis {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        let mut m = [[0.0; 3]; 3];
        m[axis][axis] = 1.0;
        m[p][p] = c;
        m[q][q] = c;
        m[q][p] = s;
        m[p][q] = -s;
        m
    };
    let mul = |a: [[f64; 3]; 3], b: [[f64; 3]; 3]| -> [[f64; 3]; 3] {
        let mut m = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        m
    };
    mul(
        mul(plane(0, angles[0]), plane(1, angles[1])),
        plane(2, angles[2]),
    )
}

/// `out(p) = in(R⁻¹ (p − c) + c)` with trilinear interpolation (zero outside), `p` and `c` in
/// mm (`c` = the FFT centre, voxel `n/2` on each axis). Parallel over output slices; each voxel
/// is computed independently, so the result does not depend on the thread count.
pub fn rotate_trilinear(vol: &Array3<f32>, rot: [[f64; 3]; 3], spacing: [f64; 3]) -> Array3<f32> {
    let (n0, n1, n2) = vol.dim();
    let dims = [n0, n1, n2];
    let h = [(n0 / 2) as f64, (n1 / 2) as f64, (n2 / 2) as f64];
    // source voxel = A · (p − h) + h with A = S⁻¹ Rᵀ S (Rᵀ = R⁻¹)
    let mut a = [[0.0f64; 3]; 3];
    for (i, row) in a.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = rot[j][i] * spacing[j] / spacing[i];
        }
    }
    let src = vol.as_slice().map(|s| s.to_vec());
    let src = src.unwrap_or_else(|| vol.iter().copied().collect());
    let (s1, s0) = (n2, n1 * n2);
    let mut out = Array3::<f32>::zeros((n0, n1, n2));
    let planes: Vec<_> = out.axis_iter_mut(Axis(0)).collect();
    planes
        .into_par_iter()
        .enumerate()
        .for_each(|(i0, mut plane)| {
            let d0 = i0 as f64 - h[0];
            for i1 in 0..n1 {
                let d1 = i1 as f64 - h[1];
                let base = [
                    a[0][0] * d0 + a[0][1] * d1 + h[0],
                    a[1][0] * d0 + a[1][1] * d1 + h[1],
                    a[2][0] * d0 + a[2][1] * d1 + h[2],
                ];
                for i2 in 0..n2 {
                    let d2 = i2 as f64 - h[2];
                    let p = [
                        base[0] + a[0][2] * d2,
                        base[1] + a[1][2] * d2,
                        base[2] + a[2][2] * d2,
                    ];
                    let f = [floor(p[0]), floor(p[1]), floor(p[2])];
                    if f[0] < -1.0
                        || f[1] < -1.0
                        || f[2] < -1.0
                        || f[0] >= dims[0] as f64
                        || f[1] >= dims[1] as f64
                        || f[2] >= dims[2] as f64
                    {
                        continue;
                    }
                    let w = [
                        (p[0] - f[0]) as f32,
                        (p[1] - f[1]) as f32,
                        (p[2] - f[2]) as f32,
                    ];
                    let j = [f[0] as i64, f[1] as i64, f[2] as i64];
                    let inside = |j0: i64, j1: i64, j2: i64| -> f32 {
                        if j0 < 0
                            || j1 < 0
                            || j2 < 0
                            || j0 >= n0 as i64
                            || j1 >= n1 as i64
                            || j2 >= n2 as i64
                        {
                            0.0
                        } else {
                            src[j0 as usize * s0 + j1 as usize * s1 + j2 as usize]
                        }
                    };
                    let interior = j[0] >= 0
                        && j[1] >= 0
                        && j[2] >= 0
                        && j[0] + 1 < n0 as i64
                        && j[1] + 1 < n1 as i64
                        && j[2] + 1 < n2 as i64;
                    let c = if interior {
                        let o = j[0] as usize * s0 + j[1] as usize * s1 + j[2] as usize;
                        [
                            src[o],
                            src[o + 1],
                            src[o + s1],
                            src[o + s1 + 1],
                            src[o + s0],
                            src[o + s0 + 1],
                            src[o + s0 + s1],
                            src[o + s0 + s1 + 1],
                        ]
                    } else {
                        [
                            inside(j[0], j[1], j[2]),
                            inside(j[0], j[1], j[2] + 1),
                            inside(j[0], j[1] + 1, j[2]),
                            inside(j[0], j[1] + 1, j[2] + 1),
                            inside(j[0] + 1, j[1], j[2]),
                            inside(j[0] + 1, j[1], j[2] + 1),
                            inside(j[0] + 1, j[1] + 1, j[2]),
                            inside(j[0] + 1, j[1] + 1, j[2] + 1),
                        ]
                    };
                    let lerp = |u: f32, v: f32, t: f32| u + (v - u) * t;
                    let c00 = lerp(c[0], c[1], w[2]);
                    let c01 = lerp(c[2], c[3], w[2]);
                    let c10 = lerp(c[4], c[5], w[2]);
                    let c11 = lerp(c[6], c[7], w[2]);
                    let c0 = lerp(c00, c01, w[1]);
                    let c1 = lerp(c10, c11, w[1]);
                    plane[[i1, i2]] = lerp(c0, c1, w[0]);
                }
            }
        });
    out
}

/// Affine map from output grid indices `q` to source voxel coordinates `M·q + off`, for
/// [`trilinear_planes`].
#[derive(Clone, Copy, Debug)]
pub struct GridMap {
    pub m: [[f64; 3]; 3],
    pub off: [f64; 3],
}

impl GridMap {
    /// The map of [`rotate_trilinear`] (`out(p) = in(A (p − h) + h)`, `A = S⁻¹ Rᵀ S`, `h` the
    /// centre of the output grid `out_dims`) for a source that sits at offset `src_offset` in
    /// that grid (source index = grid index − offset), with the output stored with its axes
    /// permuted: output axis `j` is grid axis `perm[j]`.
    pub fn rigid(
        rot: [[f64; 3]; 3],
        spacing: [f64; 3],
        out_dims: [usize; 3],
        src_offset: [usize; 3],
        perm: [usize; 3],
    ) -> Self {
        let h = out_dims.map(|n| (n / 2) as f64);
        let mut a = [[0.0f64; 3]; 3];
        for (i, row) in a.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                *v = rot[k][i] * spacing[k] / spacing[i];
            }
        }
        let mut m = [[0.0f64; 3]; 3];
        let mut off = [0.0f64; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = a[i][perm[j]];
            }
            off[i] = h[i] - src_offset[i] as f64 - (0..3).map(|k| a[i][k] * h[k]).sum::<f64>();
        }
        GridMap { m, off }
    }
}

/// Range of integer `t ∈ [0, n)` with `lo ≤ b + t·d ≤ hi` for every axis (conservative by
/// construction of the callers' slack), as `(first, end)`; empty if `first ≥ end`.
fn t_range(b: [f64; 3], d: [f64; 3], lo: [f64; 3], hi: [f64; 3], n: usize) -> (usize, usize) {
    let (mut t0, mut t1) = (0.0f64, n as f64 - 1.0);
    for i in 0..3 {
        if d[i] == 0.0 {
            if b[i] < lo[i] || b[i] > hi[i] {
                return (0, 0);
            }
            continue;
        }
        let (u, v) = ((lo[i] - b[i]) / d[i], (hi[i] - b[i]) / d[i]);
        let (u, v) = if u <= v { (u, v) } else { (v, u) };
        t0 = t0.max(u);
        t1 = t1.min(v);
    }
    if t0 > t1 {
        return (0, 0);
    }
    let first = t0.ceil().max(0.0) as usize;
    let end = ((t1.floor() + 1.0).max(0.0) as usize).min(n);
    (first.min(end), end)
}

/// Output planes `planes` (each `n1 × n2`, row major, stored one after the other in `out`) of
/// a trilinear resampling (zero outside the source `src`, `sdims`, row major):
/// `out[q0, q1, q2] = src(map.m · (q0, q1, q2) + map.off)`. Rows are visited with the plane
/// index innermost, so consecutive rows read nearly the same source neighbourhood (for small
/// rotations the source of one output plane spreads over many source planes; visiting a few
/// output planes together keeps that neighbourhood in cache). Along each output row the source
/// coordinates are stepped arithmetically; the span whose eight neighbours all lie inside the
/// source runs without bounds logic, the span that cannot touch the source is zero-filled, and
/// only the few voxels in between take the checked path (the same arithmetic as
/// [`rotate_trilinear`]). Each voxel is computed independently.
///
/// `zero_faces` declares that the first and last plane of `src` along every axis are zero (a
/// one-voxel zero margin): samples outside `[0, n − 1]` on any axis then only touch zeros, so
/// they are written as zero directly and (up to a band of 10⁻⁶ voxel) no sample needs the
/// checked path. The result is the same as without the flag.
#[allow(clippy::too_many_arguments)]
pub fn trilinear_planes(
    src: &[f32],
    sdims: [usize; 3],
    zero_faces: bool,
    map: &GridMap,
    planes: std::ops::Range<usize>,
    n1: usize,
    n2: usize,
    out: &mut [f32],
) {
    let plane_len = n1 * n2;
    for q1 in 0..n1 {
        for (i, q0) in planes.clone().enumerate() {
            let row = &mut out[i * plane_len + q1 * n2..i * plane_len + (q1 + 1) * n2];
            trilinear_row(src, sdims, zero_faces, map, q0, q1, row);
        }
    }
}

/// Output row `(q0, q1)` of [`trilinear_planes`].
fn trilinear_row(
    src: &[f32],
    sdims: [usize; 3],
    zero_faces: bool,
    map: &GridMap,
    q0: usize,
    q1: usize,
    row: &mut [f32],
) {
    let n2 = row.len();
    let d = [map.m[0][2], map.m[1][2], map.m[2][2]];
    const EPS: f64 = 1e-6;
    let inner_lo = [EPS; 3];
    let inner_hi = sdims.map(|n| n as f64 - 1.0 - EPS);
    // beyond the outer bounds every neighbour is outside `src` (or, with zero faces, in a
    // zero face or outside), so the sample is zero
    let (outer_lo, outer_hi) = if zero_faces {
        ([-EPS; 3], sdims.map(|n| n as f64 - 1.0 + EPS))
    } else {
        ([-1.0 - EPS; 3], sdims.map(|n| n as f64 + EPS))
    };
    let b = [0, 1, 2].map(|i| map.m[i][0] * q0 as f64 + map.m[i][1] * q1 as f64 + map.off[i]);
    let (z0, z1) = t_range(b, d, outer_lo, outer_hi, n2);
    if z0 >= z1 {
        row.fill(0.0);
        return;
    }
    let (mut f0, mut f1) = t_range(b, d, inner_lo, inner_hi, n2);
    if f0 >= f1 {
        (f0, f1) = (z1, z1);
    }
    row[..z0].fill(0.0);
    row[z1..].fill(0.0);
    let checked = |t: usize| -> f32 {
        let p = [0, 1, 2].map(|i| b[i] + t as f64 * d[i]);
        sample_checked(src, sdims, p)
    };
    for (t, v) in row.iter_mut().enumerate().take(f0).skip(z0) {
        *v = checked(t);
    }
    for (t, v) in row.iter_mut().enumerate().take(z1).skip(f1.max(z0)) {
        *v = checked(t);
    }
    if f0 >= f1 {
        return;
    }
    // interior span in 32.32 fixed point: the coordinates advance by exact integer steps
    // (the quantisation of the step, ≤ 2⁻³³ voxel, accumulates to < 10⁻⁷ voxel over a
    // row), the integer part is the floor and the fraction the weight
    let start = [0, 1, 2].map(|i| ((b[i] + f0 as f64 * d[i]) * FIX_ONE).round() as i64);
    let step = d.map(|v| (v * FIX_ONE).round() as i64);
    interior_span(src, sdims, start, step, &mut row[f0..f1]);
}

/// One in 32.32 fixed point.
const FIX_ONE: f64 = 4_294_967_296.0;

/// Interpolation weight of a 32.32 fixed-point coordinate: its fraction truncated to 24 bits
/// (exact in `f32`, so the scalar and vector conversions agree).
#[inline(always)]
fn fix_weight(p: i64) -> f32 {
    ((p as u64 & 0xFFFF_FFFF) >> 8) as i32 as f32 * (1.0 / 16_777_216.0)
}

/// Trilinear samples along a row whose 32.32 fixed-point source coordinates start at `start`
/// and advance by `step` per voxel. Every sample's eight neighbours must lie inside `src`;
/// this is checked at the span's two ends, which bound every axis's integer part along the
/// whole span (each is a monotone function of the voxel index).
fn interior_span(src: &[f32], sdims: [usize; 3], start: [i64; 3], step: [i64; 3], out: &mut [f32]) {
    let n = out.len();
    if n == 0 {
        return;
    }
    assert_eq!(src.len(), sdims[0] * sdims[1] * sdims[2]);
    for t in [0, n as i64 - 1] {
        for a in 0..3 {
            let i = (start[a] + t * step[a]) >> 32;
            assert!(
                i >= 0 && i + 1 < sdims[a] as i64,
                "trilinear span leaves the source (axis {a}, index {i})"
            );
        }
    }
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if n >= 8 && crate::simd::avx2() {
        // SAFETY: AVX2 is available (checked at run time) and every neighbour of every
        // sample is inside `src` (checked above).
        done = unsafe { avx2_kernels::trilinear_span(src, sdims, start, step, out) };
    }
    trilinear_span_portable(src, sdims, start, step, done, out);
}

/// Portable [`interior_span`] from voxel `first` on (the reference of the AVX2 kernel).
fn trilinear_span_portable(
    src: &[f32],
    sdims: [usize; 3],
    start: [i64; 3],
    step: [i64; 3],
    first: usize,
    out: &mut [f32],
) {
    let (s0, s1) = (sdims[1] * sdims[2], sdims[2]);
    let lerp = |u: f32, v: f32, t: f32| u + (v - u) * t;
    const AHEAD: i64 = 12;
    let f = first as i64;
    let (mut p0, mut p1, mut p2) = (
        start[0] + f * step[0],
        start[1] + f * step[1],
        start[2] + f * step[2],
    );
    for v in out[first..].iter_mut() {
        let o = (p0 >> 32) as usize * s0 + (p1 >> 32) as usize * s1 + (p2 >> 32) as usize;
        let (w0, w1, w2) = (fix_weight(p0), fix_weight(p1), fix_weight(p2));
        #[cfg(target_arch = "x86_64")]
        {
            // the voxel AHEAD steps on: fetch its four source rows early (a hint only; beyond
            // the row end the address may be anything: wrap, then clamp into `src`)
            let at = |p: i64, s: i64| ((p + AHEAD * s) >> 32) as usize;
            let oa = at(p0, step[0])
                .wrapping_mul(s0)
                .wrapping_add(at(p1, step[1]).wrapping_mul(s1))
                .wrapping_add(at(p2, step[2]))
                .min(src.len() - 1 - s0 - s1);
            let base = src.as_ptr();
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            for o in [oa, oa + s1, oa + s0, oa + s0 + s1] {
                // SAFETY: SSE is part of the x86-64 baseline; a prefetch is only a hint and
                // does not fault (the address is inside `src` anyway)
                unsafe { _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(o) as *const i8) };
            }
        }
        let c = &src[o..o + s0 + s1 + 2];
        let c00 = lerp(c[0], c[1], w2);
        let c01 = lerp(c[s1], c[s1 + 1], w2);
        let c10 = lerp(c[s0], c[s0 + 1], w2);
        let c11 = lerp(c[s0 + s1], c[s0 + s1 + 1], w2);
        let c0 = lerp(c00, c01, w1);
        let c1 = lerp(c10, c11, w1);
        *v = lerp(c0, c1, w0);
        p0 += step[0];
        p1 += step[1];
        p2 += step[2];
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2_kernels {
    use std::arch::x86_64::*;

    /// AVX2 form of the portable span loop, 8 voxels per pass. The neighbours of each voxel
    /// are read as four (x, x + 1) pairs with 64-bit loads and transposed in registers (no
    /// `vgatherdps`, which is slow on several x86 cores); offsets and weights are computed 8
    /// lanes at a time; the interpolation uses the same f32 operations in the same order as
    /// the portable loop (no FMA), so the bytes are the same. Returns the number of leading
    /// voxels written (a multiple of 8); the caller finishes the rest.
    ///
    /// # Safety
    /// AVX2 must be available, `src.len()` must be the product of `sdims`, and every
    /// voxel's eight neighbours must lie inside `src`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn trilinear_span(
        src: &[f32],
        sdims: [usize; 3],
        start: [i64; 3],
        step: [i64; 3],
        out: &mut [f32],
    ) -> usize {
        let (s0, s1) = (sdims[1] * sdims[2], sdims[2]);
        let blocks = out.len() / 8;
        // 64-bit coordinates of voxels {0, 1, 4, 5} (`lo`) and {2, 3, 6, 7} (`hi`) of a block:
        // taking the high (integer) or low (fraction) 32-bit halves of lo and hi with one
        // in-lane shuffle then gives voxels 0..8 in order
        let lanes = |a: usize, idx: [i64; 4]| {
            _mm256_set_epi64x(
                start[a] + idx[3] * step[a],
                start[a] + idx[2] * step[a],
                start[a] + idx[1] * step[a],
                start[a] + idx[0] * step[a],
            )
        };
        let mut lo = [0, 1, 2].map(|a| lanes(a, [0, 1, 4, 5]));
        let mut hi = [0, 1, 2].map(|a| lanes(a, [2, 3, 6, 7]));
        let adv = [0, 1, 2].map(|a| _mm256_set1_epi64x(8 * step[a]));
        let scale = _mm256_set1_ps(1.0 / 16_777_216.0);
        let (vs0, vs1) = (_mm256_set1_epi32(s0 as i32), _mm256_set1_epi32(s1 as i32));
        let base = src.as_ptr();
        let clamp = src.len() - 1 - s0 - s1;
        let lerp = |u: __m256, v: __m256, t: __m256| {
            _mm256_add_ps(u, _mm256_mul_ps(_mm256_sub_ps(v, u), t))
        };
        let mut offs = [0i32; 8];
        for blk in 0..blocks {
            {
                // prefetch the four source rows 16 voxels on (a hint; clamped into `src`)
                let t = (blk * 8 + 16) as i64;
                let at = |a: usize| ((start[a] + t * step[a]) >> 32) as usize;
                let oa = at(0)
                    .wrapping_mul(s0)
                    .wrapping_add(at(1).wrapping_mul(s1))
                    .wrapping_add(at(2))
                    .min(clamp);
                for o in [oa, oa + s1, oa + s0, oa + s0 + s1] {
                    _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(o) as *const i8);
                }
            }
            let mut int = [_mm256_setzero_si256(); 3];
            let mut w = [_mm256_setzero_ps(); 3];
            for a in 0..3 {
                let (l, h) = (_mm256_castsi256_ps(lo[a]), _mm256_castsi256_ps(hi[a]));
                int[a] = _mm256_castps_si256(_mm256_shuffle_ps::<0b11_01_11_01>(l, h));
                let frac = _mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(l, h));
                w[a] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<8>(frac)), scale);
                lo[a] = _mm256_add_epi64(lo[a], adv[a]);
                hi[a] = _mm256_add_epi64(hi[a], adv[a]);
            }
            let o = _mm256_add_epi32(
                _mm256_add_epi32(
                    _mm256_mullo_epi32(int[0], vs0),
                    _mm256_mullo_epi32(int[1], vs1),
                ),
                int[2],
            );
            _mm256_storeu_si256(offs.as_mut_ptr() as *mut __m256i, o);
            // (left, right) neighbours of the 8 voxels in the row `row_off` away
            let pairs = |row_off: usize| {
                let pair = |v: usize| {
                    let p = base.add(offs[v] as usize + row_off) as *const i64;
                    std::ptr::read_unaligned(p)
                };
                // [l0 r0 l1 r1 | l4 r4 l5 r5] and [l2 r2 l3 r3 | l6 r6 l7 r7]
                let a = _mm256_castsi256_ps(_mm256_set_epi64x(pair(5), pair(4), pair(1), pair(0)));
                let b = _mm256_castsi256_ps(_mm256_set_epi64x(pair(7), pair(6), pair(3), pair(2)));
                (
                    _mm256_shuffle_ps::<0b10_00_10_00>(a, b),
                    _mm256_shuffle_ps::<0b11_01_11_01>(a, b),
                )
            };
            let (l, r) = pairs(0);
            let c00 = lerp(l, r, w[2]);
            let (l, r) = pairs(s1);
            let c01 = lerp(l, r, w[2]);
            let (l, r) = pairs(s0);
            let c10 = lerp(l, r, w[2]);
            let (l, r) = pairs(s0 + s1);
            let c11 = lerp(l, r, w[2]);
            let c0 = lerp(c00, c01, w[1]);
            let c1 = lerp(c10, c11, w[1]);
            _mm256_storeu_ps(out.as_mut_ptr().add(blk * 8), lerp(c0, c1, w[0]));
        }
        blocks * 8
    }
}

/// Trilinear sample of `src` at voxel coordinates `p`, zero outside (bounds-checked).
fn sample_checked(src: &[f32], dims: [usize; 3], p: [f64; 3]) -> f32 {
    let (s1, s0) = (dims[2], dims[1] * dims[2]);
    let f = [floor(p[0]), floor(p[1]), floor(p[2])];
    if (0..3).any(|i| f[i] < -1.0 || f[i] >= dims[i] as f64) {
        return 0.0;
    }
    let w = [
        (p[0] - f[0]) as f32,
        (p[1] - f[1]) as f32,
        (p[2] - f[2]) as f32,
    ];
    let j = [f[0] as i64, f[1] as i64, f[2] as i64];
    let at = |j0: i64, j1: i64, j2: i64| -> f32 {
        if j0 < 0
            || j1 < 0
            || j2 < 0
            || j0 >= dims[0] as i64
            || j1 >= dims[1] as i64
            || j2 >= dims[2] as i64
        {
            0.0
        } else {
            src[j0 as usize * s0 + j1 as usize * s1 + j2 as usize]
        }
    };
    let lerp = |u: f32, v: f32, t: f32| u + (v - u) * t;
    let c00 = lerp(at(j[0], j[1], j[2]), at(j[0], j[1], j[2] + 1), w[2]);
    let c01 = lerp(at(j[0], j[1] + 1, j[2]), at(j[0], j[1] + 1, j[2] + 1), w[2]);
    let c10 = lerp(at(j[0] + 1, j[1], j[2]), at(j[0] + 1, j[1], j[2] + 1), w[2]);
    let c11 = lerp(
        at(j[0] + 1, j[1] + 1, j[2]),
        at(j[0] + 1, j[1] + 1, j[2] + 1),
        w[2],
    );
    let c0 = lerp(c00, c01, w[1]);
    let c1 = lerp(c10, c11, w[1]);
    lerp(c0, c1, w[0])
}

/// `x.floor()` for `|x| < 2⁶³` without the libm call (baseline x86-64 has no `roundsd`): the
/// same value, inlined. Sample coordinates here are bounded by a few times the array size.
#[inline]
fn floor(x: f64) -> f64 {
    let t = (x as i64) as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
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
    fn trilinear_rotation_of_a_gaussian_moves_its_centre() {
        let n = 32;
        let (p0, p1, p2) = (16.0 + 6.0, 16.0, 16.0 - 3.0);
        let g = |c: [f64; 3]| {
            Array3::from_shape_fn((n, n, n), |(i, j, k)| {
                let r2 = (i as f64 - c[0]).powi(2)
                    + (j as f64 - c[1]).powi(2)
                    + (k as f64 - c[2]).powi(2);
                (-r2 / 18.0).exp() as f32
            })
        };
        let rot = rotation_matrix3([0.0, 0.3, 0.0]);
        let out = rotate_trilinear(&g([p0, p1, p2]), rot, [1.0; 3]);
        let d = [p0 - 16.0, p1 - 16.0, p2 - 16.0];
        let mut e = [16.0; 3];
        for i in 0..3 {
            e[i] += (0..3).map(|j| rot[i][j] * d[j]).sum::<f64>();
        }
        let want = g(e);
        let err = out
            .iter()
            .zip(want.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.03, "max error {err}");
        let ident = rotate_trilinear(&want, rotation_matrix3([0.0; 3]), [1.0; 3]);
        assert_eq!(ident, want);
    }

    #[test]
    fn plane_resampler_matches_rotate_trilinear() {
        let (n0, n1, n2) = (13usize, 17usize, 11usize);
        let vol = Array3::from_shape_fn((n0, n1, n2), |(i, j, k)| {
            ((i * 7 + j * 3 + k * 5) % 11) as f32 / 11.0 + 0.1 * (j as f32).sin()
        });
        let sp = [1.2, 0.9, 1.0];
        for angles in [[0.0, 0.0, 0.0], [0.1, -0.2, 0.3], [-0.5, 0.4, 0.05]] {
            let r = rotation_matrix3(angles);
            let want = rotate_trilinear(&vol, r, sp);
            let map = GridMap::rigid(r, sp, [n0, n1, n2], [0; 3], [0, 1, 2]);
            let mut got = vec![0.0f32; n0 * n1 * n2];
            for (z0, chunk) in got.chunks_mut(3 * n1 * n2).enumerate() {
                let k = chunk.len() / (n1 * n2);
                let src = vol.as_slice().unwrap();
                trilinear_planes(
                    src,
                    [n0, n1, n2],
                    false,
                    &map,
                    z0 * 3..z0 * 3 + k,
                    n1,
                    n2,
                    chunk,
                );
            }
            let err = got
                .iter()
                .zip(want.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 1e-5, "{angles:?}: {err}");
        }
        // a source with zero faces: the `zero_faces` shortcut gives the same samples
        let mut vol = vol;
        for a in 0..3 {
            let n = vol.len_of(Axis(a));
            vol.index_axis_mut(Axis(a), 0).fill(0.0);
            vol.index_axis_mut(Axis(a), n - 1).fill(0.0);
        }
        let src = vol.as_slice().unwrap();
        // output grid larger than the source, source off centre: samples fall outside on
        // every side
        let out_dims = [n0 + 6, n1 + 3, n2 + 5];
        for angles in [[0.0, 0.0, 0.0], [0.1, -0.2, 0.3], [-0.5, 0.4, 0.05]] {
            let r = rotation_matrix3(angles);
            let map = GridMap::rigid(r, sp, out_dims, [4, 1, 2], [0, 1, 2]);
            let plane = out_dims[1] * out_dims[2];
            let mut a = vec![0.0f32; out_dims[0] * plane];
            let mut b = vec![1.0f32; out_dims[0] * plane];
            for zf in [false, true] {
                let out = if zf { &mut b } else { &mut a };
                for (z0, chunk) in out.chunks_mut(4 * plane).enumerate() {
                    let k = chunk.len() / plane;
                    let (n1, n2) = (out_dims[1], out_dims[2]);
                    trilinear_planes(
                        src,
                        [n0, n1 - 3, n2 - 5],
                        zf,
                        &map,
                        z0 * 4..z0 * 4 + k,
                        n1,
                        n2,
                        chunk,
                    );
                }
            }
            let err = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 1e-6, "{angles:?}: zero faces {err}");
            assert!(a.iter().any(|&v| v != 0.0));
        }
    }

    #[test]
    fn avx2_trilinear_span_gives_the_portable_bytes() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        let sdims = [23usize, 29, 31];
        let src: Vec<f32> = (0..sdims.iter().product::<usize>())
            .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 37.0 - 5.0)
            .collect();
        let fix = |v: f64| (v * FIX_ONE).round() as i64;
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cases = 0;
        while cases < 400 {
            // random start and step (some exactly axis-aligned or zero); keep spans whose
            // two ends, and so every sample, have all neighbours inside
            let n = 1 + (next() * 45.0) as usize;
            let start = [0, 1, 2].map(|a| next() * (sdims[a] as f64 - 1.0));
            let step = [0, 1, 2].map(|a| match (cases % 5, a) {
                (0, 2) => 1.0,
                (0, _) | (1, 0) => 0.0,
                _ => (next() - 0.5) * 1.6,
            });
            let inside = (0..3).all(|a| {
                [0.0, (n - 1) as f64].iter().all(|&t| {
                    let p = start[a] + t * step[a];
                    p >= 0.0 && p < sdims[a] as f64 - 1.0 - 1e-6
                })
            });
            if !inside {
                continue;
            }
            cases += 1;
            let (st, sp) = (start.map(fix), step.map(fix));
            let mut want = vec![0.0f32; n];
            trilinear_span_portable(&src, sdims, st, sp, 0, &mut want);
            let mut got = vec![0.0f32; n];
            // SAFETY: AVX2 checked above; every sample's neighbours are inside the source
            let done = unsafe { avx2_kernels::trilinear_span(&src, sdims, st, sp, &mut got) };
            assert_eq!(done, n / 8 * 8);
            trilinear_span_portable(&src, sdims, st, sp, done, &mut got);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&want),
                bits(&got),
                "start {start:?} step {step:?} n {n}"
            );
        }
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
    fn inline_floor_matches_std() {
        for &x in &[
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999_999,
            -2.000_001,
            1e6 + 0.25,
            -1e6 - 0.75,
        ] {
            assert_eq!(floor(x), x.floor(), "{x}");
        }
        let mut v = -300.0;
        while v < 300.0 {
            assert_eq!(floor(v), v.floor());
            v += 0.012_345;
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
