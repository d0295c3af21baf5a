//! Pixel-driven parallel-beam back-projection with linear interpolation along the detector,
//! parallel over tiles of [`TILE`] image rows, views added in pairs as `(o + a) + b` (the same
//! order as one at a time, so the bytes do not depend on the thread count). The AVX2 build is
//! `crate::simd::fbp::bp_parallel` (same bytes, tested there).

use super::tile::TILE;
use crate::geometry::{Geometry, Grid};
use ndarray::Array2;
use rayon::prelude::*;

/// Pixel-driven parallel-beam back-projection with linear interpolation; `vw` = per-view weights.
/// Uses the AVX2 kernel when the CPU has it (same bytes as the portable code).
pub(crate) fn bp_parallel(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
) -> Array2<f32> {
    bp_parallel_with(q, geom, grid, vw, crate::simd::avx2())
}

/// [`bp_parallel`] with the kernel chosen by the caller (`avx2` is ignored where AVX2 is not
/// available).
pub(crate) fn bp_parallel_with(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
    avx2: bool,
) -> Array2<f32> {
    let nd = geom.n_det;
    // padded filtered rows: one zero in front (index k+1) and two behind (the AVX2 kernel
    // clamps positions into [0, nd+1] and reads index and index + 1)
    let stride = nd + 3;
    let mut qp = vec![0.0f32; geom.n_views() * stride];
    for (v, row) in q.outer_iter().enumerate() {
        for (k, &x) in row.iter().enumerate() {
            qp[v * stride + k + 1] = x * vw[v];
        }
    }
    // k*(i, j) + 1 = A_v + B_v·i + C_v·j  (padded detector index)
    let c0 = (nd as f64 - 1.0) / 2.0 + 1.0;
    let cc = (grid.cols as f64 - 1.0) / 2.0;
    let cr = (grid.rows as f64 - 1.0) / 2.0;
    let pix = grid.pixel_mm;
    let coef: Vec<(f64, f64, f64)> = geom
        .angles_rad
        .iter()
        .map(|&th| {
            let (s, c) = th.sin_cos();
            // s = x cos + y sin, x = (j−cc)pix, y = (cr−i)pix ; k* = (s − off)/pitch + (nd−1)/2
            let cj = c * pix / geom.det_pitch_mm;
            let bi = -s * pix / geom.det_pitch_mm;
            let a = c0 + (-cc * c * pix + cr * s * pix - geom.det_offset_mm) / geom.det_pitch_mm;
            (a, bi, cj)
        })
        .collect();
    #[cfg(target_arch = "x86_64")]
    if avx2 && crate::simd::avx2_available() && crate::simd::fbp::fits(grid, nd) {
        return crate::simd::fbp::bp_parallel(&qp, stride, &coef, grid, nd);
    }
    let _ = avx2;
    let mut out = Array2::<f32>::zeros((grid.rows, grid.cols));
    let cols = grid.cols;
    let kmax = (nd + 1) as f32; // valid padded index range [0, nd+1)

    // tiles of TILE rows: each view's filtered row is reused from L1 across the tile; every
    // pixel still sums its views in increasing order (bit-identical to the row-wise loop)
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols * TILE)
        .enumerate()
        .for_each(|(ti, tile)| {
            // views in pairs: a pixel seen by both adds them in the same order as one view at a
            // time, `(o + a) + b`, but loads and stores its accumulator once
            for (pv, pair) in coef.chunks(2).enumerate() {
                let setup = |m: usize, i: usize| {
                    let v = 2 * pv + m;
                    let (a, bi, cj) = pair[m];
                    let line = &qp[v * stride..(v + 1) * stride];
                    // line[k] and line[k + 1] as two equally long windows (see `interp`)
                    let base = (a + bi * i as f64) as f32;
                    let step = cj as f32;
                    // j range where 0 ≤ base + j·step < nd+1
                    let (lo, hi) = j_range(base, step, kmax, cols);
                    BpLine {
                        l0: &line[..stride - 1],
                        l1: &line[1..],
                        base,
                        step,
                        lo,
                        hi,
                    }
                };
                for (r, row) in tile.chunks_mut(cols).enumerate() {
                    let i = ti * TILE + r;
                    let la = setup(0, i);
                    if pair.len() == 1 {
                        la.add(row, la.lo, la.hi);
                        continue;
                    }
                    let lb = setup(1, i);
                    let (lo, hi) = (la.lo.max(lb.lo), la.hi.min(lb.hi));
                    if lo >= hi {
                        la.add(row, la.lo, la.hi);
                        lb.add(row, lb.lo, lb.hi);
                        continue;
                    }
                    // pixels seen by one view only
                    la.add(row, la.lo, lo);
                    la.add(row, hi.max(lo), la.hi);
                    lb.add(row, lb.lo, lo);
                    lb.add(row, hi.max(lo), lb.hi);
                    for (j, o) in (lo..hi).zip(row[lo..hi].iter_mut()) {
                        *o = (*o + la.interp(j)) + lb.interp(j);
                    }
                }
            }
        });
    out
}

/// One view's filtered row as seen from one image row (parallel-beam back-projection).
struct BpLine<'a> {
    l0: &'a [f32],
    l1: &'a [f32],
    base: f32,
    step: f32,
    lo: usize,
    hi: usize,
}

impl BpLine<'_> {
    /// Linearly interpolated value at column `j ∈ [lo, hi)`. The index clamp never changes an
    /// index on that range and lets the compiler drop the bounds checks.
    #[inline(always)]
    fn interp(&self, j: usize) -> f32 {
        let x = self.base + j as f32 * self.step;
        // x ≥ 0 on the range: the i32 truncation equals `x as usize`
        let k = (x as i32 as usize).min(self.l0.len() - 1);
        let f = x - k as f32;
        let v0 = self.l0[k];
        let v1 = self.l1[..self.l0.len()][k];
        v0 + f * (v1 - v0)
    }

    /// `row[j] += interp(j)` for `j ∈ [j0, j1)` (empty if `j0 ≥ j1`).
    #[inline(always)]
    fn add(&self, row: &mut [f32], j0: usize, j1: usize) {
        if j0 < j1 {
            for (j, o) in (j0..j1).zip(row[j0..j1].iter_mut()) {
                *o += self.interp(j);
            }
        }
    }
}

/// Half-open range of `j ∈ [0, n)` with `0 ≤ base + j·step` and `(base + j·step) as usize + 1 < kmax + 1`.
#[inline]
pub(crate) fn j_range(base: f32, step: f32, kmax: f32, n: usize) -> (usize, usize) {
    let ok = |j: usize| {
        let x = base + j as f32 * step;
        x >= 0.0 && x < kmax && (x as usize) < kmax as usize
    };
    let (mut lo, mut hi);
    if step.abs() < 1e-20 {
        return if ok(0) { (0, n) } else { (0, 0) };
    }
    let t0 = (0.0 - base as f64) / step as f64;
    let t1 = (kmax as f64 - base as f64) / step as f64;
    let (a, b) = if t0 < t1 { (t0, t1) } else { (t1, t0) };
    lo = (a.ceil() - 1.0).max(0.0).min(n as f64) as usize;
    hi = (b.floor() + 2.0).max(0.0).min(n as f64) as usize;
    while lo < hi && !ok(lo) {
        lo += 1;
    }
    while hi > lo && !ok(hi - 1) {
        hi -= 1;
    }
    (lo, hi)
}

/// Slow reference for [`bp_parallel`] (row by row, bounds-checked).
#[cfg(test)]
pub(crate) fn bp_parallel_reference(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
) -> Array2<f32> {
    let nd = geom.n_det;
    // padded filtered rows: one zero on each side → index k+1
    let stride = nd + 2;
    let mut qp = vec![0.0f32; geom.n_views() * stride];
    for (v, row) in q.outer_iter().enumerate() {
        for (k, &x) in row.iter().enumerate() {
            qp[v * stride + k + 1] = x * vw[v];
        }
    }
    // k*(i, j) + 1 = A_v + B_v·i + C_v·j  (padded detector index)
    let c0 = (nd as f64 - 1.0) / 2.0 + 1.0;
    let cc = (grid.cols as f64 - 1.0) / 2.0;
    let cr = (grid.rows as f64 - 1.0) / 2.0;
    let pix = grid.pixel_mm;
    let coef: Vec<(f64, f64, f64)> = geom
        .angles_rad
        .iter()
        .map(|&th| {
            let (s, c) = th.sin_cos();
            // s = x cos + y sin, x = (j−cc)pix, y = (cr−i)pix ; k* = (s − off)/pitch + (nd−1)/2
            let cj = c * pix / geom.det_pitch_mm;
            let bi = -s * pix / geom.det_pitch_mm;
            let a = c0 + (-cc * c * pix + cr * s * pix - geom.det_offset_mm) / geom.det_pitch_mm;
            (a, bi, cj)
        })
        .collect();
    let mut out = Array2::<f32>::zeros((grid.rows, grid.cols));
    let cols = grid.cols;
    let kmax = (nd + 1) as f32; // valid padded index range [0, nd+1)
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols)
        .enumerate()
        .for_each(|(i, row)| {
            for (v, &(a, bi, cj)) in coef.iter().enumerate() {
                let line = &qp[v * stride..(v + 1) * stride];
                let base = (a + bi * i as f64) as f32;
                let step = cj as f32;
                // j range where 0 ≤ base + j·step < nd+1
                let (lo, hi) = j_range(base, step, kmax, cols);
                for (j, o) in row.iter_mut().enumerate().take(hi).skip(lo) {
                    let x = base + j as f32 * step;
                    let k = x as usize;
                    let f = x - k as f32;
                    let v0 = line[k];
                    let v1 = line[k + 1];
                    *o += v0 + f * (v1 - v0);
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fbp::tests::random;
    use crate::fbp::view_weights;

    #[test]
    fn fast_parallel_backprojection_equals_reference_bitwise() {
        // odd sizes (a partial row tile), a detector offset, a detector narrower than the grid
        for (rows, cols, nd, pitch, off) in [
            (37, 29, 61, 0.8, 0.35),
            (64, 64, 91, 1.0, 0.0),
            (50, 70, 40, 1.1, -2.0),
        ] {
            let grid = Grid::new(rows, cols, 1.0);
            let mut geom = Geometry::parallel(nd, pitch, 45, 180.0);
            geom.det_offset_mm = off;
            let q = random((geom.n_views(), nd), 21);
            let vw: Vec<f32> = view_weights(&geom.angles_rad)
                .iter()
                .map(|&d| d as f32)
                .collect();
            let slow = bp_parallel_reference(&q, &geom, &grid, &vw);
            for fast in [
                bp_parallel(&q, &geom, &grid, &vw),
                bp_parallel_with(&q, &geom, &grid, &vw, false),
            ] {
                for (a, b) in fast.iter().zip(slow.iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
                }
            }
        }
    }
}
