//! Rigid resampling of volumes by trilinear interpolation (zero outside the field of view),
//! used by the 3-D motion simulator, and the 3-D rotation matrix.
//!
//! In 3-D ([`rotate_trilinear`]) the object is resampled with trilinear interpolation (zero
//! outside the field of view): a 6-DoF band-limited rotation needs four or more 3-D shear
//! passes over a volume of 8.7 M voxels, while trilinear interpolation is a single pass and its
//! mild low-pass is confined to the k-space lines acquired in the moved pose.
//! [`trilinear_planes`] is the fast form used by the motion simulator (the same interpolation
//! onto a possibly larger, axis-permuted grid, stepped in fixed point along each row);
//! [`rotate_trilinear`] is its reference.
//!
//! The AVX2 form of the span loop is `crate::simd::trilinear` (same bytes, tested there).

use ndarray::{Array3, Axis};
use rayon::prelude::*;

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
pub(crate) const FIX_ONE: f64 = 4_294_967_296.0;

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
        done = unsafe { crate::simd::trilinear::trilinear_span(src, sdims, start, step, out) };
    }
    trilinear_span_portable(src, sdims, start, step, done, out);
}

/// Portable [`interior_span`] from voxel `first` on (the reference of the AVX2 kernel).
pub(crate) fn trilinear_span_portable(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
