//! AVX2 kernels of the FBP back-projections (x86-64 only), each the same operations in the
//! same order as its portable twin in `crate::fbp::{parallel, fan}`, so both give the same
//! bytes (the bit-for-bit tests are at the end of this file).
//!
//! AVX2 kernel of the parallel-beam back-projection.
//!
//! Same tiles of `TILE` image rows as the portable code, [`VIEWS`] views per pass
//! over a row, 8 pixels per vector: `x = base + j·step` (a multiply and an add, no FMA, as in
//! `BpLine::interp`), clamped into `[0, n_det + 1]`, truncated to the index `k`,
//! `f = x − k`, the value `v0 + f·d` with `v0 = q[k]` and `d = q[k+1] − q[k]` (the difference
//! precomputed per view: the same subtraction of the same two numbers), and the views added
//! one after another to the pixel, `((o + a) + b) + …`.
//!
//! Fetching `q[k]` and `d[k]`: `k` is monotonic along the row, and the 8 indices of a chunk
//! span at most `⌊7·|step| + rounding⌋ + 1`. For `|step| < 1` (less a rounding margin) they
//! lie within `k_first + [0, 7]`: one 8-float load each at `k_first` and an in-register
//! permute (`vpermps`) replace the gathers; for `|step| ≤ 1` within `k_first + [0, 8]` (two
//! loads, two permutes, a blend); steeper views use two 8-lane gathers.
//!
//! Inside a view's detector range the clamp changes nothing, so every value equals the
//! portable one; outside it the clamped position reads the zero padding and the value is ±0,
//! and adding ±0 leaves a pixel unchanged (a sum that starts at +0 is never −0). Hence the
//! bytes equal the portable path's.

use crate::fbp::tile::{FanTile, ATAN_C, TILE};

use crate::geometry::Grid;
use ndarray::Array2;
use rayon::prelude::*;
use std::arch::x86_64::*;

/// Views added per pass over a row.
pub(crate) const VIEWS: usize = 4;

/// Zeros behind the detector row (index `n_det + 1` onwards): positions are clamped into
/// `[0, n_det + 1]` and 16 values are loaded from there.
const BEHIND: usize = 17;

/// Whether the kernel's 32-bit lane arithmetic covers this size (column index exact in
/// f32, detector index in i32).
pub(crate) fn fits(grid: &Grid, n_det: usize) -> bool {
    grid.cols < (1 << 24) && n_det < (1 << 24)
}

/// One view as seen from one image row.
#[derive(Clone, Copy)]
struct Line<'a> {
    /// padded weighted filtered row: `q[k + 1]` for bin `k`, zeros around
    q: &'a [f32],
    /// `d[i] = q[i + 1] − q[i]`
    d: &'a [f32],
    base: f32,
    step: f32,
    lo: usize,
    hi: usize,
}

/// See the module notes; `qp` holds the weighted filtered rows, `stride = n_det + 3`
/// apart, with one zero in front and two behind; `coef[v] = (A, B, C)` with padded
/// position `A + B·i + C·j`.
pub(crate) fn bp_parallel(
    qp: &[f32],
    stride: usize,
    coef: &[(f64, f64, f64)],
    grid: &Grid,
    n_det: usize,
) -> Array2<f32> {
    assert!(stride == n_det + 3 && qp.len() == coef.len() * stride);
    let (rows, cols) = (grid.rows, grid.cols);
    let nv = coef.len();
    // rows with more zeros behind, and their differences
    let s2 = n_det + 1 + BEHIND;
    let mut q2 = vec![0.0f32; nv * s2];
    let mut d2 = vec![0.0f32; nv * s2];
    q2.par_chunks_mut(s2)
        .zip(d2.par_chunks_mut(s2))
        .zip(qp.par_chunks(stride))
        .for_each(|((dst, diff), src)| {
            dst[..stride].copy_from_slice(src);
            for (d, w) in diff.iter_mut().zip(dst.windows(2)) {
                *d = w[1] - w[0];
            }
        });
    let kmax = (n_det + 1) as f32;
    let step: Vec<f32> = coef.iter().map(|c| c.2 as f32).collect();
    // 1/step (0 for a step too small to matter: the whole row is then visited)
    let inv: Vec<f64> = step
        .iter()
        .map(|&s| if s.abs() < 1e-20 { 0.0 } else { 1.0 / s as f64 })
        .collect();
    let mut out = Array2::<f32>::zeros((rows, cols));
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols * TILE)
        .enumerate()
        .for_each(|(ti, tile)| {
            let mut v0 = 0;
            while v0 < nv {
                let n = (nv - v0).min(VIEWS);
                for (r, row) in tile.chunks_mut(cols).enumerate() {
                    let i = (ti * TILE + r) as f64;
                    let line = |v: usize| {
                        let (a, bi, _) = coef[v];
                        let base = (a + bi * i) as f32;
                        let (lo, hi) = cover(base, inv[v], kmax, cols);
                        Line {
                            q: &q2[v * s2..(v + 1) * s2],
                            d: &d2[v * s2..(v + 1) * s2],
                            base,
                            step: step[v],
                            lo,
                            hi,
                        }
                    };
                    if n == VIEWS {
                        let ls: [Line; VIEWS] = std::array::from_fn(|m| line(v0 + m));
                        // SAFETY: AVX2 is available (checked by the caller); every line
                        // has n_det + 1 + BEHIND = kmax + BEHIND elements
                        unsafe { add_views(row, ls, kmax) };
                    } else {
                        for m in 0..n {
                            // SAFETY: as above
                            unsafe { add_views(row, [line(v0 + m)], kmax) };
                        }
                    }
                }
                v0 += n;
            }
        });
    out
}

/// A range of columns `[lo, hi)` containing every `j` with `0 ≤ base + j·step < kmax`
/// (a superset: columns outside the detector add zeros in [`add_views`]).
#[inline]
fn cover(base: f32, inv_step: f64, kmax: f32, cols: usize) -> (usize, usize) {
    if inv_step == 0.0 {
        return (0, cols);
    }
    let t0 = -(base as f64) * inv_step;
    let t1 = (kmax as f64 - base as f64) * inv_step;
    let (a, b) = if t0 < t1 { (t0, t1) } else { (t1, t0) };
    let lo = (a.floor() - 1.0).clamp(0.0, cols as f64) as usize;
    let hi = (b.ceil() + 2.0).clamp(0.0, cols as f64) as usize;
    (lo, hi)
}

/// `row[j] += Σ_m interp_m(j)` (views in order) for the 8-pixel chunks covering the
/// union of the views' `[lo, hi)`.
///
/// # Safety
/// AVX2 must be available, and every line must hold at least `kmax as usize + BEHIND`
/// elements in `q` and `d` (positions are clamped into `[0, kmax]`).
#[target_feature(enable = "avx2")]
unsafe fn add_views<const N: usize>(row: &mut [f32], lines: [Line; N], kmax: f32) {
    // the 8 positions of a chunk span at most 7·|step| plus rounding (a few ulp of
    // positions ≤ kmax + 8, bounded generously by `slack`); the indices then span at most
    // ⌊that⌋ + 1 … so one register of 8 values suffices below 7, two below 8
    let slack = (kmax as f64 + 16.0) * 1e-6;
    let span = lines
        .iter()
        .map(|l| 7.0 * l.step.abs() as f64)
        .fold(0.0, f64::max)
        + slack;
    if span < 7.0 {
        add_views_mode::<N, ONE_REGISTER>(row, lines, kmax)
    } else if span < 8.0 {
        add_views_mode::<N, TWO_REGISTERS>(row, lines, kmax)
    } else {
        add_views_mode::<N, GATHER>(row, lines, kmax)
    }
}

/// How [`add_views_mode`] fetches `q[k]` and `d[k]`.
const ONE_REGISTER: u8 = 1;
const TWO_REGISTERS: u8 = 2;
const GATHER: u8 = 0;

/// [`add_views`] with the fetch chosen: permutes of one or two 8-float loads (the chunk's
/// indices must span at most 7, resp. 8), or gathers.
///
/// # Safety
/// As [`add_views`], and the span condition of `MODE`.
#[target_feature(enable = "avx2")]
unsafe fn add_views_mode<const N: usize, const MODE: u8>(
    row: &mut [f32],
    lines: [Line; N],
    kmax: f32,
) {
    let cols = row.len();
    let lo = lines.iter().map(|l| l.lo).min().unwrap_or(0);
    let hi = lines.iter().map(|l| l.hi).max().unwrap_or(0).min(cols);
    if lo >= hi {
        return;
    }
    for l in &lines {
        assert!(l.q.len() >= kmax as usize + BEHIND && l.d.len() >= kmax as usize + BEHIND);
    }
    let zero = _mm256_setzero_ps();
    let vkmax = _mm256_set1_ps(kmax);
    let lane = _mm256_setr_ps(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    let lane_i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let seven = _mm256_set1_epi32(7);
    let vb: [__m256; N] = std::array::from_fn(|m| _mm256_set1_ps(lines[m].base));
    let vs: [__m256; N] = std::array::from_fn(|m| _mm256_set1_ps(lines[m].step));
    // lane holding the smallest index of a chunk: the first for an increasing position
    let first: [__m256i; N] =
        std::array::from_fn(|m| _mm256_set1_epi32(if lines[m].step >= 0.0 { 0 } else { 7 }));
    let pq: [*const f32; N] = std::array::from_fn(|m| lines[m].q.as_ptr());
    let pd: [*const f32; N] = std::array::from_fn(|m| lines[m].d.as_ptr());
    let mut j = lo & !7;
    let out = row.as_mut_ptr();
    while j < hi {
        let jf = _mm256_add_ps(_mm256_set1_ps(j as f32), lane);
        let full = j + 8 <= cols;
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((cols - j) as i32), lane_i);
        let o = out.add(j);
        let mut acc = if full {
            _mm256_loadu_ps(o)
        } else {
            _mm256_maskload_ps(o, mask)
        };
        for m in 0..N {
            let x = _mm256_add_ps(vb[m], _mm256_mul_ps(jf, vs[m]));
            let x = _mm256_min_ps(_mm256_max_ps(x, zero), vkmax);
            let k = _mm256_cvttps_epi32(x);
            let f = _mm256_sub_ps(x, _mm256_cvtepi32_ps(k));
            let (v0, d) = if MODE == ONE_REGISTER {
                let kb = _mm256_permutevar8x32_epi32(k, first[m]);
                let k0 = _mm256_cvtsi256_si32(kb) as usize;
                // 0 ≤ kr ≤ 7
                let kr = _mm256_sub_epi32(k, kb);
                (
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(pq[m].add(k0)), kr),
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(pd[m].add(k0)), kr),
                )
            } else if MODE == TWO_REGISTERS {
                let kb = _mm256_permutevar8x32_epi32(k, first[m]);
                let k0 = _mm256_cvtsi256_si32(kb) as usize;
                // 0 ≤ kr ≤ 8: entries 0–7 from the first load, 8 from the second
                let kr = _mm256_sub_epi32(k, kb);
                let second = _mm256_castsi256_ps(_mm256_cmpgt_epi32(kr, seven));
                let (q, d) = (pq[m].add(k0), pd[m].add(k0));
                let v0 = _mm256_blendv_ps(
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(q), kr),
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(q.add(8)), kr),
                    second,
                );
                let d = _mm256_blendv_ps(
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(d), kr),
                    _mm256_permutevar8x32_ps(_mm256_loadu_ps(d.add(8)), kr),
                    second,
                );
                (v0, d)
            } else {
                (
                    _mm256_i32gather_ps::<4>(pq[m], k),
                    _mm256_i32gather_ps::<4>(pd[m], k),
                )
            };
            let val = _mm256_add_ps(v0, _mm256_mul_ps(f, d));
            acc = _mm256_add_ps(acc, val);
        }
        if full {
            _mm256_storeu_ps(o, acc);
        } else {
            _mm256_maskstore_ps(o, mask, acc);
        }
        j += 8;
    }
}

/// `fan_tile` with AVX2 intrinsics, 8 pixels per vector in one pass: the same IEEE
/// operations in the same order as the portable code (no FMA; the clamped position is in
/// `[0, n_det + 1]`, where truncation by `vcvttps2dq` equals `as i32`; a −0 position gives
/// the same sum as +0, see the parallel-beam kernel), two 8-lane gathers, so the same bytes.
///
/// # Safety
/// AVX2 must be available.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn fan_tile_avx2<const ARC: bool>(p: &FanTile, ti: usize, tile: &mut [f32]) {
    use std::arch::x86_64::*;
    let FanTile {
        trig,
        qp,
        stride,
        pix,
        cr,
        rs,
        rs32,
        cols,
        kmax,
        x0,
        scale,
        shift,
    } = *p;
    // positions are clamped into [0, kmax], and 16 values are loaded from an index ≤ kmax
    assert!(kmax as usize + 16 <= stride && qp.len() % stride == 0);
    let lane_i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let zero_i = _mm256_setzero_si256();
    let one_i = _mm256_set1_epi32(1);
    let seven = _mm256_set1_epi32(7);
    let fourteen = _mm256_set1_epi32(14);
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let sign = _mm256_set1_ps(-0.0);
    let half_pi = _mm256_set1_ps(std::f32::consts::FRAC_PI_2);
    let (vscale, vshift, vkmax, vrs) = (
        _mm256_set1_ps(scale),
        _mm256_set1_ps(shift),
        _mm256_set1_ps(kmax),
        _mm256_set1_ps(rs32),
    );
    let c: [__m256; 8] = std::array::from_fn(|i| _mm256_set1_ps(ATAN_C[i]));
    // column positions of a chunk, `x0 + j` (exact in f32 for any column count the kernel
    // takes, so stepping by 8 gives the same values as converting `j`)
    let vx0_lanes = _mm256_add_ps(_mm256_set1_ps(x0), _mm256_cvtepi32_ps(lane_i));
    let eight = _mm256_set1_ps(8.0);
    for (v, &(s, cth)) in trig.iter().enumerate() {
        let line = qp.as_ptr().add(v * stride);
        let along1 = _mm256_set1_ps((-s * pix) as f32);
        let across1 = _mm256_set1_ps((cth * pix) as f32);
        for (r, row) in tile.chunks_mut(cols).enumerate() {
            let y = (cr - (ti * TILE + r) as f64) * pix;
            let along0 = _mm256_set1_ps((rs + y * cth) as f32);
            let across0 = _mm256_set1_ps((y * s) as f32);
            // the row's ends, exactly: `along`/`across` are linear along the row, so what
            // holds at both ends holds for every pixel
            let ends = [0.0, (cols - 1) as f64].map(|j| {
                let xj = x0 as f64 + j;
                (rs + y * cth - xj * s * pix, y * s + xj * cth * pix)
            });
            // no pixel of the row lies more than 45° off the central ray (≈ 44.7° with the
            // margin for f32 rounding): atan needs no argument swap, `z = across/along`
            // directly (the same bits: IEEE division and products are sign-symmetric and
            // the polynomial is positive)
            let narrow = ends
                .iter()
                .all(|&(al, ac)| al > 0.0 && ac.abs() <= 0.99 * al);
            // the lane holding the chunk's smallest detector index (`across/along` is
            // monotonic along the row; a wrong guess only sends chunks to the gathers)
            let rising = ends[1].1 * ends[0].0 >= ends[0].1 * ends[1].0;
            let first = _mm256_set1_epi32(if rising { 0 } else { 7 });
            let out = row.as_mut_ptr();
            let mut j = 0;
            let mut xj = vx0_lanes;
            while j < cols {
                let along = _mm256_add_ps(along0, _mm256_mul_ps(xj, along1));
                let across = _mm256_add_ps(across0, _mm256_mul_ps(xj, across1));
                xj = _mm256_add_ps(xj, eight);
                let (coord, wgt) = if ARC && narrow {
                    let z = _mm256_div_ps(across, along);
                    let z2 = _mm256_mul_ps(z, z);
                    let mut pz = c[7];
                    for &ci in c[..7].iter().rev() {
                        pz = _mm256_add_ps(_mm256_mul_ps(pz, z2), ci);
                    }
                    let g = _mm256_mul_ps(pz, z);
                    let l2 =
                        _mm256_add_ps(_mm256_mul_ps(along, along), _mm256_mul_ps(across, across));
                    (g, _mm256_div_ps(one, l2))
                } else if ARC {
                    // atan2_pos(across, along)
                    let ay = _mm256_andnot_ps(sign, across);
                    let swap = _mm256_cmp_ps::<_CMP_GT_OQ>(ay, along);
                    let num = _mm256_blendv_ps(ay, along, swap);
                    let den = _mm256_blendv_ps(along, ay, swap);
                    let z = _mm256_div_ps(num, den);
                    let z2 = _mm256_mul_ps(z, z);
                    let mut pz = c[7];
                    for &ci in c[..7].iter().rev() {
                        pz = _mm256_add_ps(_mm256_mul_ps(pz, z2), ci);
                    }
                    let pz = _mm256_mul_ps(pz, z);
                    let rr = _mm256_blendv_ps(pz, _mm256_sub_ps(half_pi, pz), swap);
                    let g = _mm256_or_ps(_mm256_andnot_ps(sign, rr), _mm256_and_ps(sign, across));
                    let l2 =
                        _mm256_add_ps(_mm256_mul_ps(along, along), _mm256_mul_ps(across, across));
                    (g, _mm256_div_ps(one, l2))
                } else {
                    let inv = _mm256_div_ps(one, along);
                    let u = _mm256_mul_ps(vrs, inv);
                    (_mm256_mul_ps(across, u), _mm256_mul_ps(u, u))
                };
                let x = _mm256_add_ps(_mm256_mul_ps(coord, vscale), vshift);
                let x = _mm256_min_ps(_mm256_max_ps(x, zero), vkmax);
                let k = _mm256_cvttps_epi32(x);
                let f = _mm256_sub_ps(x, _mm256_cvtepi32_ps(k));
                // the chunk's indices relative to its first or last lane (k is monotonic
                // along a row: a straight row seen from the source); when they all lie in
                // [0, 14], `q[k]` and `q[k + 1]` come from two 8-value loads by permutes,
                // otherwise (pixels close to the source, steep magnification) by gathers
                let kb = _mm256_permutevar8x32_epi32(k, first);
                let k0 = _mm256_cvtsi256_si32(kb);
                let kr = _mm256_sub_epi32(k, kb);
                let out_of_window = _mm256_or_si256(
                    _mm256_cmpgt_epi32(zero_i, kr),
                    _mm256_cmpgt_epi32(kr, fourteen),
                );
                let (v0, v1) = if _mm256_testz_si256(out_of_window, out_of_window) != 0 {
                    let w = line.add(k0 as usize);
                    let (lo, hi) = (_mm256_loadu_ps(w), _mm256_loadu_ps(w.add(8)));
                    let kr1 = _mm256_add_epi32(kr, one_i);
                    let hi0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(kr, seven));
                    let hi1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(kr1, seven));
                    (
                        _mm256_blendv_ps(
                            _mm256_permutevar8x32_ps(lo, kr),
                            _mm256_permutevar8x32_ps(hi, kr),
                            hi0,
                        ),
                        _mm256_blendv_ps(
                            _mm256_permutevar8x32_ps(lo, kr1),
                            _mm256_permutevar8x32_ps(hi, kr1),
                            hi1,
                        ),
                    )
                } else {
                    (
                        _mm256_i32gather_ps::<4>(line, k),
                        _mm256_i32gather_ps::<4>(line.add(1), k),
                    )
                };
                let val = _mm256_mul_ps(
                    wgt,
                    _mm256_add_ps(v0, _mm256_mul_ps(f, _mm256_sub_ps(v1, v0))),
                );
                let o = out.add(j);
                if j + 8 <= cols {
                    _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), val));
                } else {
                    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((cols - j) as i32), lane_i);
                    let acc = _mm256_maskload_ps(o, mask);
                    _mm256_maskstore_ps(o, mask, _mm256_add_ps(acc, val));
                }
                j += 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fbp::fan::bp_fan_with;
    use crate::fbp::parallel::{bp_parallel_reference, bp_parallel_with};
    use crate::fbp::tests::random;
    use crate::fbp::view_weights;
    use crate::geometry::{Geometry, Grid};
    use rand::Rng;
    use std::f64::consts::PI;

    #[test]
    fn avx2_parallel_backprojection_equals_portable_bitwise() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path is exercised");
            return;
        }
        // angles in all four quadrants (and exactly on the axes), a view count that is not a
        // multiple of the views per pass, odd sizes (partial 8-pixel chunks and row tiles), a
        // detector offset, and detectors narrower than the grid (pixels whose ray misses the
        // detector) and much finer than the pixels
        let mut rng = artefact_core::Seed::from_u64(31).rng();
        let mut angles: Vec<f64> = (0..27)
            .map(|_| rng.random::<f64>() * 4.0 * PI - 2.0 * PI)
            .collect();
        angles.extend([0.0, PI / 2.0, PI, 1.5 * PI, -PI / 2.0, 1e-9]);
        for (rows, cols, nd, pitch, off, pix) in [
            (37, 29, 61, 0.8, 0.35, 1.0),
            (64, 64, 91, 1.0, 0.0, 1.0),
            (50, 70, 40, 1.1, -2.0, 1.0),
            (23, 41, 200, 0.13, 1.7, 0.9),
            (9, 3, 5, 1.0, 0.0, 1.0),
            // |step| = 1 at 0 and 180° with positions crossing 512, 1024 and 2048, where
            // rounding can widen a chunk's index span to 8
            (3, 2100, 2101, 1.0, 0.37, 1.0),
        ] {
            let grid = Grid::new(rows, cols, pix);
            let mut geom = Geometry::parallel(nd, pitch, 45, 180.0);
            geom.det_offset_mm = off;
            for geom in [geom.clone(), geom.with_angles(angles.clone())] {
                let q = random((geom.n_views(), nd), 24);
                let vw: Vec<f32> = view_weights(&geom.angles_rad)
                    .iter()
                    .map(|&d| d as f32)
                    .collect();
                let simd = bp_parallel_with(&q, &geom, &grid, &vw, true);
                let portable = bp_parallel_with(&q, &geom, &grid, &vw, false);
                let slow = bp_parallel_reference(&q, &geom, &grid, &vw);
                assert!(portable.iter().any(|&v| v != 0.0));
                for ((a, b), c) in simd.iter().zip(portable.iter()).zip(slow.iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{rows}x{cols}, {nd}: {a} vs {b}");
                    assert_eq!(b.to_bits(), c.to_bits(), "{rows}x{cols}, {nd}: {b} vs {c}");
                }
            }
        }
    }

    #[test]
    fn avx2_fan_backprojection_equals_portable_bitwise() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path is exercised");
            return;
        }
        let grid = Grid::new(61, 53, 1.3);
        let mut flat = Geometry::fan_flat(120, 1.3, 150.0, 100.0, 41, 360.0);
        flat.det_offset_mm = -0.4;
        let mut arc = Geometry::fan_arc(110, 1.4, 160.0, 90.0, 29, 360.0);
        arc.det_offset_mm = 0.7;
        // a narrow detector: most pixels project outside it
        let narrow = Geometry::fan_arc(30, 1.0, 200.0, 100.0, 33, 360.0);
        // the source just outside the grid (circumscribed radius ≈ 52.5 mm): rows whose
        // pixels lie more than 45° off the central ray (the atan argument swap) and
        // magnifications that spread a chunk over more than 15 bins (the gathers)
        let near_arc = Geometry::fan_arc(400, 0.9, 56.0, 60.0, 41, 360.0);
        let near_flat = Geometry::fan_flat(400, 1.4, 56.0, 60.0, 41, 360.0);
        // the operators' default scan of a 128² slice: permutes almost everywhere
        let m = 1085.6 / 595.0;
        let default = Geometry::fan_arc(184, 1.3 * m, 595.0, 490.6, 60, 360.0);
        for (geom, is_arc) in [
            (flat, false),
            (arc.clone(), true),
            (arc.short_scan(30), true),
            (narrow, true),
            (near_arc, true),
            (near_flat, false),
            (default, true),
        ] {
            let grid = if geom.n_det == 184 {
                Grid::new(128, 128, 1.3)
            } else {
                grid
            };
            let q = random((geom.n_views(), geom.n_det), 22);
            let vw: Vec<f32> = view_weights(&geom.angles_rad)
                .iter()
                .map(|&d| d as f32)
                .collect();
            let simd = bp_fan_with(&q, &geom, &grid, &vw, is_arc, true);
            let portable = bp_fan_with(&q, &geom, &grid, &vw, is_arc, false);
            assert!(portable.iter().any(|&v| v != 0.0));
            for (a, b) in simd.iter().zip(portable.iter()) {
                assert_eq!(a.to_bits(), b.to_bits(), "{:?}: {a} vs {b}", geom.beam);
            }
        }
    }
}
