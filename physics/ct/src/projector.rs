//! Joseph's forward projector and its exactly matched (transposed) backprojector, for parallel,
//! flat-fan and arc-fan geometries.
//!
//! # Model
//! The image is the bilinear-in-one-axis interpolant of its pixel values (zero outside the grid).
//! Each ray is sampled where it crosses the centre line of every pixel column (if the ray is
//! closer to horizontal, `|cos φ| ≥ |sin φ|`) or row (otherwise); the value there is linearly
//! interpolated between the two nearest pixels of that column/row and weighted by the
//! intersection length of the ray with the column/row slab, `pixel_mm / max(|cos φ|, |sin φ|)`
//! (Joseph 1982). Input `μ` in mm⁻¹ gives dimensionless line integrals. The sinogram has shape
//! `(views, n_det)`.
//!
//! [`backproject`] is the exact transpose `Aᵀ` of [`forward`] (`⟨Ax, y⟩ = ⟨x, Aᵀy⟩` up to float
//! rounding), as needed by iterative methods and adjoint tests; it is *not* the FBP
//! backprojector (see [`crate::fbp`]).
//!
//! # Determinism and parallelism
//! The forward projection runs in parallel over views (each sinogram row is computed by one
//! task in a fixed order). Within a view, groups of 8 neighbouring rays are traced in lock step
//! over their common range (independent accumulators), each ray still summing its steps in
//! increasing order, so the result equals the one-ray-at-a-time reference bit for bit. On CPUs
//! with AVX2 (detected at run time, see `crate::simd`) the 8 rays run in the lanes of one
//! vector on a driving-major copy of the image, all groups of a view advancing block by block
//! along the driving axis — the same operations in the same order, the same bytes (tested).
//! The ray table depends only on the grid and geometry: a [`Projector`] builds it once and
//! projects any number of images ([`try_forward`] and [`try_backproject`] plan and run once;
//! there is no hidden cache). The backprojection never reduces over
//! views in parallel: it runs in parallel over image columns (for column-stepped rays) and over
//! image rows (for row-stepped rays), each output pixel accumulating its views and rays in a
//! fixed order. Results do not depend on the number of threads.
//!
//! # References
//! - P. M. Joseph, "An improved algorithm for reprojecting rays through pixel images",
//!   IEEE TMI 1(3), 1982.
//! - W. van Aarle et al., "The ASTRA Toolbox", Ultramicroscopy 157, 2015 (its `linear`
//!   projector is a Joseph-type projector).

use crate::geometry::{check_source_outside, param, Beam, Geometry, Grid};
use crate::Result;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// One ray restricted to the grid: for driving index `t ∈ [lo, hi]` (column `j` or row `i`) the
/// ray crosses the perpendicular axis at padded index `a + t·b` (true index + 1), with step
/// weight `w` mm.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seg {
    pub k: u32,
    pub a: f32,
    pub b: f32,
    pub w: f32,
    pub lo: u32,
    pub hi: u32,
}

/// The segments of one view, split by driving axis.
#[derive(Clone, Debug, Default)]
pub(crate) struct ViewRays {
    /// Rays stepping over columns (perpendicular coordinate: row).
    pub col: Vec<Seg>,
    /// Rays stepping over rows (perpendicular coordinate: column).
    pub row: Vec<Seg>,
}

/// Ray through point `p` (mm) with direction `d` (any length), in index coordinates.
fn make_seg(k: usize, p: [f64; 2], d: [f64; 2], grid: &Grid) -> Option<(bool, Seg)> {
    let pix = grid.pixel_mm;
    let cc = (grid.cols as f64 - 1.0) / 2.0;
    let cr = (grid.rows as f64 - 1.0) / 2.0;
    // index coordinates: c = x/pix + cc, r = cr − y/pix
    let (pc, pr) = (p[0] / pix + cc, cr - p[1] / pix);
    let (dc, dr) = (d[0], -d[1]);
    let col_driven = dc.abs() >= dr.abs();
    // driving axis n_drive, perpendicular axis n_perp
    let (p_drive, p_perp, d_drive, d_perp, n_drive, n_perp) = if col_driven {
        (pc, pr, dc, dr, grid.cols, grid.rows)
    } else {
        (pr, pc, dr, dc, grid.rows, grid.cols)
    };
    if d_drive == 0.0 {
        return None;
    }
    let b = d_perp / d_drive;
    let a = p_perp - p_drive * b + 1.0; // padded perpendicular index at driving index 0
    let (a32, b32) = (a as f32, b as f32);
    // valid: 0 ≤ a + t·b < n_perp + 1 (so floor and floor+1 lie in the padded range)
    let upper = n_perp as f64 + 1.0;
    let (mut lo_f, mut hi_f) = (0.0f64, n_drive as f64 - 1.0);
    if b.abs() < 1e-300 {
        if !(0.0..upper).contains(&a) {
            return None;
        }
    } else {
        let t0 = (0.0 - a) / b;
        let t1 = (upper - a) / b;
        let (tmin, tmax) = if t0 < t1 { (t0, t1) } else { (t1, t0) };
        lo_f = lo_f.max(tmin.ceil() - 1.0);
        hi_f = hi_f.min(tmax.floor() + 1.0);
    }
    if lo_f > hi_f {
        return None;
    }
    let valid = |t: i64| -> bool {
        if t < 0 || t >= n_drive as i64 {
            return false;
        }
        let r = a32 + t as f32 * b32;
        r >= 0.0 && r < n_perp as f32 + 1.0 && (r as usize) < n_perp + 1
    };
    let (mut lo, mut hi) = (lo_f.max(0.0) as i64, hi_f.min(n_drive as f64 - 1.0) as i64);
    while lo <= hi && !valid(lo) {
        lo += 1;
    }
    while hi >= lo && !valid(hi) {
        hi -= 1;
    }
    if lo > hi {
        return None;
    }
    let w = pix * (1.0 + b * b).sqrt();
    Some((
        col_driven,
        Seg {
            k: k as u32,
            a: a32,
            b: b32,
            w: w as f32,
            lo: lo as u32,
            hi: hi as u32,
        },
    ))
}

/// A point on the ray and its direction (mm; for fan beams the point is the source) of bin `k`
/// in a view at angle `ang` (radians).
#[inline]
pub fn ray_of(geom: &Geometry, ang: f64, k: usize) -> ([f64; 2], [f64; 2]) {
    ray_of_sc(geom, ang.sin_cos(), k)
}

/// [`ray_of`] with the view's `(sin, cos)` precomputed (hoisted out of the per-bin loop).
#[inline]
fn ray_of_sc(geom: &Geometry, (s, c): (f64, f64), k: usize) -> ([f64; 2], [f64; 2]) {
    match geom.beam {
        Beam::Parallel => {
            let u = geom.det_u_mm(k);
            ([u * c, u * s], [-s, c])
        }
        Beam::FanFlat { source_iso_mm, .. } | Beam::FanArc { source_iso_mm, .. } => {
            let g = geom.gamma_rad(k);
            let (sg, cg) = g.sin_cos();
            let d0 = [-s, c];
            let e = [c, s];
            (
                [source_iso_mm * s, -source_iso_mm * c],
                [cg * d0[0] + sg * e[0], cg * d0[1] + sg * e[1]],
            )
        }
    }
}

/// Precompute every ray of every view.
pub(crate) fn ray_table(grid: &Grid, geom: &Geometry) -> Vec<ViewRays> {
    ray_table_shifted(grid, geom, None)
}

/// [`ray_table`] with the rays of view `v` moved by `−shifts[v]` (mm): the line integrals of
/// the object translated by `shifts[v]`, `f(x − s)`. A zero shift gives the unshifted rays
/// bit for bit.
fn ray_table_shifted(grid: &Grid, geom: &Geometry, shifts: Option<&[[f64; 2]]>) -> Vec<ViewRays> {
    geom.angles_rad
        .par_iter()
        .enumerate()
        .map(|(v, &ang)| {
            let mut rays = ViewRays::default();
            let sc = ang.sin_cos();
            let shift = shifts.map(|s| s[v]);
            for k in 0..geom.n_det {
                let (mut p, d) = ray_of_sc(geom, sc, k);
                if let Some([sx, sy]) = shift {
                    p = [p[0] - sx, p[1] - sy];
                }
                if let Some((is_col, seg)) = make_seg(k, p, d, grid) {
                    if is_col {
                        rays.col.push(seg);
                    } else {
                        rays.row.push(seg);
                    }
                }
            }
            rays
        })
        .collect()
}

pub(crate) fn check(grid: &Grid, geom: &Geometry) -> Result<()> {
    grid.validate()?;
    geom.validate()?;
    check_source_outside(geom, grid)?;
    if grid.rows >= u32::MAX as usize / 2 || grid.cols >= u32::MAX as usize / 2 {
        return Err(param("grid", "grid too large".into()));
    }
    Ok(())
}

/// Line integral along one segment through a padded image stored perpendicular-major:
/// element `(perpendicular q, driving t)` at `q·n_drive + t` (so consecutive steps of a ray,
/// whose perpendicular index changes by at most one, stay in the same cache lines).
/// Slow reference for [`project_segs`] (which gives bit-identical results).
#[cfg(test)]
fn seg_sum(img: &[f32], n_drive: usize, s: &Seg) -> f32 {
    let mut acc = 0.0f32;
    for t in s.lo as usize..=s.hi as usize {
        let r = s.a + t as f32 * s.b;
        let q = r as usize;
        let f = r - q as f32;
        let i0 = q * n_drive + t;
        let v0 = img[i0];
        let v1 = img[i0 + n_drive];
        acc += v0 + f * (v1 - v0);
    }
    acc * s.w
}

/// Rays traced together by [`project_segs`].
const LANES: usize = 8;

/// The padded image as two equally long overlapping windows: `lo[i] = img[i]`,
/// `hi[i] = img[i + n_drive]` (the pixel one perpendicular step further). Indices are clamped to
/// `lo.len() − 1` in the hot loops, which lets the compiler drop the bounds checks; for the
/// precomputed valid `[lo, hi]` ranges of a [`Seg`] the clamp never changes an index.
#[inline]
fn windows(img: &[f32], n_drive: usize) -> (&[f32], &[f32]) {
    let m = img.len() - n_drive;
    (&img[..m], &img[n_drive..])
}

/// Continue the Joseph sum of `s` over `t ∈ [t0, t1)` from `acc` (same arithmetic and order as
/// [`seg_sum`]).
#[inline(always)]
fn seg_partial(lo: &[f32], hi: &[f32], n_drive: usize, s: &Seg, t0: usize, t1: usize) -> f32 {
    seg_continue(lo, hi, n_drive, s, t0, t1, 0.0)
}

#[inline(always)]
fn seg_continue(
    lo: &[f32],
    hi: &[f32],
    n_drive: usize,
    s: &Seg,
    t0: usize,
    t1: usize,
    mut acc: f32,
) -> f32 {
    let last = lo.len() - 1;
    let hi = &hi[..lo.len()];
    for t in t0..t1 {
        let r = s.a + t as f32 * s.b;
        // r ≥ 0 on the valid range, so the i32 truncation equals `r as usize`
        let q = r as i32;
        let f = r - q as f32;
        let i0 = (q as usize * n_drive + t).min(last);
        let v0 = lo[i0];
        let v1 = hi[i0];
        acc += v0 + f * (v1 - v0);
    }
    acc
}

/// Line integrals of all `segs` (one view, one driving axis) into `out[k]`. Groups of
/// [`LANES`] consecutive rays are traced in lock step over their common driving range (eight
/// independent accumulators instead of one serial chain); each ray still sums its steps in
/// increasing `t`, so the result equals [`seg_sum`] bit for bit.
///
/// `dm`: the same padded image driving-major (see [`avx2_fp::DrivingMajor`]); if given, the
/// lock-step groups are traced with the AVX2 kernel (same bytes).
fn project_segs(
    out: &mut [f32],
    segs: &[Seg],
    img: &[f32],
    n_drive: usize,
    dm: Option<&avx2_fp::DrivingMajor>,
) {
    let (lo, hi) = windows(img, n_drive);
    let hi = &hi[..lo.len()];
    let last = lo.len() - 1;
    let mut groups = segs.chunks_exact(LANES);
    type Pending<'a> = (
        &'a [Seg],
        usize,
        usize,
        [f32; LANES],
        [f32; LANES],
        [f32; LANES],
    );
    let mut pending: Vec<Pending> = Vec::new();
    for g in &mut groups {
        let clo = g.iter().map(|s| s.lo).max().unwrap_or(0) as usize;
        let chi = g.iter().map(|s| s.hi).min().unwrap_or(0) as usize;
        if clo > chi {
            for s in g {
                out[s.k as usize] =
                    seg_partial(lo, hi, n_drive, s, s.lo as usize, s.hi as usize + 1) * s.w;
            }
            continue;
        }
        let mut acc = [0.0f32; LANES];
        for (a, s) in acc.iter_mut().zip(g) {
            *a = seg_partial(lo, hi, n_drive, s, s.lo as usize, clo);
        }
        let ra: [f32; LANES] = std::array::from_fn(|l| g[l].a);
        let rb: [f32; LANES] = std::array::from_fn(|l| g[l].b);
        if dm.is_some() {
            // traced below, all groups together
            pending.push((g, clo, chi, acc, ra, rb));
            continue;
        }
        for t in clo..=chi {
            let tf = t as f32;
            for l in 0..LANES {
                let r = ra[l] + tf * rb[l];
                let q = r as i32;
                let f = r - q as f32;
                let i0 = (q as usize * n_drive + t).min(last);
                let v0 = lo[i0];
                let v1 = hi[i0];
                acc[l] += v0 + f * (v1 - v0);
            }
        }
        for (a, s) in acc.iter().zip(g) {
            let total = seg_continue(lo, hi, n_drive, s, chi + 1, s.hi as usize + 1, *a);
            out[s.k as usize] = total * s.w;
        }
    }
    for s in groups.remainder() {
        out[s.k as usize] = seg_partial(lo, hi, n_drive, s, s.lo as usize, s.hi as usize + 1) * s.w;
    }
    if let Some(dm) = dm {
        // AVX2: every group advances through the same block of T_BLOCK driving indices before
        // any goes on, so the image lines of a block are reused from cache by all the groups
        // (each ray still sums its steps in increasing t)
        let start = pending.iter().map(|p| p.1).min().unwrap_or(0);
        let end = pending.iter().map(|p| p.2 + 1).max().unwrap_or(0);
        for t in (start..end).step_by(T_BLOCK) {
            for (_, clo, chi, acc, ra, rb) in pending.iter_mut() {
                let (t0, t1) = (t.max(*clo), (t + T_BLOCK - 1).min(*chi));
                if t0 <= t1 {
                    dm.lock_step(acc, ra, rb, t0, t1);
                }
            }
        }
        for (g, _, chi, acc, _, _) in pending {
            for (a, s) in acc.iter().zip(g) {
                let total = seg_continue(lo, hi, n_drive, s, chi + 1, s.hi as usize + 1, *a);
                out[s.k as usize] = total * s.w;
            }
        }
    }
}

/// Line integrals of `segs` into `out[k]` over the part of each ray that can read a pixel of
/// the box `((t0, t1), (q0, q1))` (driving indices, padded perpendicular indices); the image
/// is zero outside the box. See [`Projector::forward_sparse`].
fn project_segs_in_box(
    out: &mut [f32],
    segs: &[Seg],
    img: &[f32],
    n_drive: usize,
    ((t0, t1), (q0, q1)): ((usize, usize), (usize, usize)),
) {
    let (lo, hi) = windows(img, n_drive);
    for s in segs {
        let mut a = (s.lo as usize).max(t0) as f64;
        let mut b = (s.hi as usize).min(t1) as f64;
        // a term at t reads padded rows ⌊r⌋ and ⌊r⌋ + 1, r = a + t·b: it can be non-zero only
        // for r ∈ [q0 − 1, q1 + 1); widened by one more on each side for the f32 rounding of r
        let (ra, rb) = (s.a as f64, s.b as f64);
        let (p0, p1) = (q0 as f64 - 2.0, q1 as f64 + 2.0);
        if rb != 0.0 {
            let (x, y) = ((p0 - ra) / rb, (p1 - ra) / rb);
            let (x, y) = if x < y { (x, y) } else { (y, x) };
            a = a.max(x.floor());
            b = b.min(y.ceil());
        } else if !(p0..=p1).contains(&ra) {
            b = a - 1.0;
        }
        let total = if a <= b {
            seg_partial(lo, hi, n_drive, s, a as usize, b as usize + 1)
        } else {
            0.0
        };
        out[s.k as usize] = total * s.w;
    }
}

/// Driving indices per block of the AVX2 forward projection (see [`project_segs`]).
const T_BLOCK: usize = 64;

/// AVX2 kernel of the Joseph forward projector: the 8 rays of a lock-step group in the lanes
/// of one vector, on a driving-major copy of the padded image (at a fixed driving index the
/// 8 neighbouring rays read neighbouring elements). Per driving index `t`: `r = a + t·b`
/// (multiply then add, no FMA), `q = ⌊r⌋` by truncation, `f = r − q`, the values at `q` and
/// `q + 1` and `acc += v0 + f·(v1 − v0)` — the portable loop's operations in the same order,
/// so the same bytes.
///
/// The values are picked from a 16-element window of the image line `t` loaded at
/// `k0 = q_first − 1` (`q_first`: the lane with the smallest intercept) with in-register
/// permutes, if the group's rays stay ordered and within 12 elements of each other over
/// their common range (checked in f64 at both ends, the spread being affine in `t`);
/// otherwise (widely spaced or crossing rays) with 8-lane gathers.
mod avx2_fp {
    use rayon::prelude::*;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    /// Zeros behind the padded perpendicular axis of a driving-major line (16-element
    /// windows start at most at the last valid index).
    const BEHIND: usize = 16;

    /// Padded image stored driving-major: element `(perpendicular q, driving t)` at
    /// `t·stride + q`, `q ∈ [0, n_perp + 1]` (zero rows around the image), then zeros up to
    /// `stride = n_perp + 2 + BEHIND`.
    pub(super) struct DrivingMajor {
        data: Vec<f32>,
        stride: usize,
    }

    impl DrivingMajor {
        /// The driving-major copy of a padded perpendicular-major image `img`
        /// (`(n_perp + 2) × n_drive`), or `None` if AVX2 is not available or the sizes do not
        /// fit the kernel's 32-bit lanes.
        pub(super) fn new(img: &[f32], n_drive: usize, use_avx2: bool) -> Option<Self> {
            if !(use_avx2 && crate::simd::avx2_available()) || n_drive == 0 {
                return None;
            }
            let n_pad = img.len() / n_drive; // n_perp + 2
            let stride = n_pad + BEHIND;
            if n_drive >= (1 << 24) || n_drive.checked_mul(stride)? >= i32::MAX as usize {
                return None;
            }
            let mut data = vec![0.0f32; n_drive * stride];
            data.par_chunks_mut(stride)
                .enumerate()
                .for_each(|(t, line)| {
                    for (x, src) in line.iter_mut().zip(img.chunks_exact(n_drive)) {
                        *x = src[t];
                    }
                });
            Some(DrivingMajor { data, stride })
        }

        /// Continue the sums `acc` of 8 rays with intercepts `ra` and slopes `rb` (padded
        /// perpendicular index `a + t·b`) over `t ∈ [t0, t1]`, which must lie in every ray's
        /// valid range.
        #[allow(unused_variables)]
        pub(super) fn lock_step(
            &self,
            acc: &mut [f32; 8],
            ra: &[f32; 8],
            rb: &[f32; 8],
            t0: usize,
            t1: usize,
        ) {
            let n_drive = self.data.len() / self.stride;
            assert!(t1 < n_drive);
            #[cfg(target_arch = "x86_64")]
            {
                let first = window_lane(ra, rb, t0, t1);
                // SAFETY: `new` only succeeds with AVX2 available and sizes that fit the i32
                // lanes; t1 < n_drive
                unsafe {
                    match first {
                        Some(first) => {
                            lock_step_window(acc, ra, rb, &self.data, self.stride, t0, t1, first)
                        }
                        None => lock_step_gather(acc, ra, rb, &self.data, self.stride, t0, t1),
                    }
                }
            }
        }
    }

    /// The lane to anchor the 16-element window on (the smallest intercept), if every lane
    /// stays within `[−0.5, 12]` of it over `[t0, t1]`.
    #[cfg(target_arch = "x86_64")]
    fn window_lane(ra: &[f32; 8], rb: &[f32; 8], t0: usize, t1: usize) -> Option<i32> {
        let at = |l: usize, t: usize| ra[l] as f64 + t as f64 * rb[l] as f64;
        let first = if at(0, t0) <= at(7, t0) { 0 } else { 7 };
        for t in [t0, t1] {
            let r0 = at(first, t);
            for l in 0..8 {
                let d = at(l, t) - r0;
                if !(-0.5..=12.0).contains(&d) {
                    return None;
                }
            }
        }
        Some(first as i32)
    }

    /// See [`DrivingMajor::lock_step`]; window variant.
    ///
    /// # Safety
    /// AVX2 available, `t1 < data.len() / stride`, `data.len() < i32::MAX`, and on `[t0, t1]`
    /// every lane's `a + t·b` lies in `[0, stride − BEHIND − 1)` and within `[−0.5, 12]` of
    /// lane `first`'s.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn lock_step_window(
        acc: &mut [f32; 8],
        ra: &[f32; 8],
        rb: &[f32; 8],
        data: &[f32],
        stride: usize,
        t0: usize,
        t1: usize,
        first: i32,
    ) {
        let va = _mm256_loadu_ps(ra.as_ptr());
        let vb = _mm256_loadu_ps(rb.as_ptr());
        let mut vacc = _mm256_loadu_ps(acc.as_ptr());
        let vfirst = _mm256_set1_epi32(first);
        let one = _mm256_set1_epi32(1);
        let seven = _mm256_set1_epi32(7);
        let zero = _mm256_setzero_si256();
        // highest window start that keeps the 16 loaded elements inside a line
        let kcap = _mm256_set1_epi32((stride - 16) as i32);
        let k14 = _mm256_set1_epi32(14);
        for t in t0..=t1 {
            let r = _mm256_add_ps(va, _mm256_mul_ps(_mm256_set1_ps(t as f32), vb));
            let q = _mm256_cvttps_epi32(r);
            let f = _mm256_sub_ps(r, _mm256_cvtepi32_ps(q));
            let kb = _mm256_permutevar8x32_epi32(q, vfirst);
            let kb = _mm256_min_epi32(_mm256_max_epi32(_mm256_sub_epi32(kb, one), zero), kcap);
            let k0 = _mm256_cvtsi256_si32(kb) as usize;
            // offsets in the window; the clamp only guards the registers (never active when
            // the preconditions hold)
            let kr = _mm256_min_epi32(_mm256_max_epi32(_mm256_sub_epi32(q, kb), zero), k14);
            let kr1 = _mm256_add_epi32(kr, one);
            let p = data.as_ptr().add(t * stride + k0);
            let w0 = _mm256_loadu_ps(p);
            let w1 = _mm256_loadu_ps(p.add(8));
            let v0 = _mm256_blendv_ps(
                _mm256_permutevar8x32_ps(w0, kr),
                _mm256_permutevar8x32_ps(w1, kr),
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(kr, seven)),
            );
            let v1 = _mm256_blendv_ps(
                _mm256_permutevar8x32_ps(w0, kr1),
                _mm256_permutevar8x32_ps(w1, kr1),
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(kr1, seven)),
            );
            vacc = _mm256_add_ps(
                vacc,
                _mm256_add_ps(v0, _mm256_mul_ps(f, _mm256_sub_ps(v1, v0))),
            );
        }
        _mm256_storeu_ps(acc.as_mut_ptr(), vacc);
    }

    /// See [`DrivingMajor::lock_step`]; gather variant.
    ///
    /// # Safety
    /// AVX2 available, `t1 < data.len() / stride`, `data.len() < i32::MAX`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn lock_step_gather(
        acc: &mut [f32; 8],
        ra: &[f32; 8],
        rb: &[f32; 8],
        data: &[f32],
        stride: usize,
        t0: usize,
        t1: usize,
    ) {
        let va = _mm256_loadu_ps(ra.as_ptr());
        let vb = _mm256_loadu_ps(rb.as_ptr());
        let mut vacc = _mm256_loadu_ps(acc.as_ptr());
        let zero = _mm256_setzero_si256();
        // q + 1 stays inside the line: q ≤ stride − 2 (never active on a valid range)
        let qcap = _mm256_set1_epi32((stride - 2) as i32);
        let p = data.as_ptr();
        for t in t0..=t1 {
            let r = _mm256_add_ps(va, _mm256_mul_ps(_mm256_set1_ps(t as f32), vb));
            let q = _mm256_cvttps_epi32(r);
            let f = _mm256_sub_ps(r, _mm256_cvtepi32_ps(q));
            let qc = _mm256_min_epi32(_mm256_max_epi32(q, zero), qcap);
            let i0 = _mm256_add_epi32(qc, _mm256_set1_epi32((t * stride) as i32));
            let v0 = _mm256_i32gather_ps::<4>(p, i0);
            let v1 = _mm256_i32gather_ps::<4>(p.add(1), i0);
            vacc = _mm256_add_ps(
                vacc,
                _mm256_add_ps(v0, _mm256_mul_ps(f, _mm256_sub_ps(v1, v0))),
            );
        }
        _mm256_storeu_ps(acc.as_mut_ptr(), vacc);
    }
}

/// Padded perpendicular-major copies of the image for column-stepped rays `(rows+2, cols)`
/// and row-stepped rays `(cols+2, rows)`.
/// Tile size (pixels) of [`nonzero_boxes`].
const PART_TILE: usize = 16;

/// Inclusive bounding boxes `(r0, r1, c0, c1)` of the separate groups of non-zero (or NaN)
/// pixels of `mu`: tiles of `tile × tile` pixels holding any are joined by 8-neighbourhood
/// into groups, each group's box is the exact bounds of its pixels, and boxes that come
/// within 3 pixels of each other are merged (a Joseph term of one box reads a pixel or two
/// beyond it, which must not belong to another box). Sorted by `(r0, c0)`; empty when all
/// pixels are zero.
pub(crate) fn nonzero_boxes(mu: ArrayView2<f32>, tile: usize) -> Vec<(usize, usize, usize, usize)> {
    let (rows, cols) = mu.dim();
    let tile = tile.max(1);
    let (tr, tc) = (rows.div_ceil(tile), cols.div_ceil(tile));
    // per tile: pixel bounds of its non-zero pixels
    let mut tb = vec![(usize::MAX, 0usize, usize::MAX, 0usize); tr * tc];
    for ((i, j), &v) in mu.indexed_iter() {
        if v != 0.0 {
            let b = &mut tb[(i / tile) * tc + j / tile];
            *b = (b.0.min(i), b.1.max(i), b.2.min(j), b.3.max(j));
        }
    }
    let occupied = |t: usize| tb[t].0 != usize::MAX;
    let mut seen = vec![false; tr * tc];
    let mut boxes = Vec::new();
    for start in 0..tr * tc {
        if seen[start] || !occupied(start) {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let mut b = tb[start];
        while let Some(t) = stack.pop() {
            let (ti, tj) = (t / tc, t % tc);
            let o = tb[t];
            b = (b.0.min(o.0), b.1.max(o.1), b.2.min(o.2), b.3.max(o.3));
            for di in [-1i64, 0, 1] {
                for dj in [-1i64, 0, 1] {
                    let (ni, nj) = (ti as i64 + di, tj as i64 + dj);
                    if ni < 0 || nj < 0 || ni >= tr as i64 || nj >= tc as i64 {
                        continue;
                    }
                    let n = ni as usize * tc + nj as usize;
                    if !seen[n] && occupied(n) {
                        seen[n] = true;
                        stack.push(n);
                    }
                }
            }
        }
        boxes.push(b);
    }
    // merge boxes within 3 pixels of each other until none are
    const GAP: usize = 3;
    let near = |a: &(usize, usize, usize, usize), b: &(usize, usize, usize, usize)| {
        a.0 <= b.1 + GAP && b.0 <= a.1 + GAP && a.2 <= b.3 + GAP && b.2 <= a.3 + GAP
    };
    loop {
        let mut merged = false;
        'outer: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                if near(&boxes[i], &boxes[j]) {
                    let (a, b) = (boxes[i], boxes.swap_remove(j));
                    boxes[i] = (a.0.min(b.0), a.1.max(b.1), a.2.min(b.2), a.3.max(b.3));
                    merged = true;
                    break 'outer;
                }
            }
        }
        if !merged {
            break;
        }
    }
    boxes.sort_unstable();
    boxes
}

fn padded_copies(mu: ArrayView2<f32>) -> (Vec<f32>, Vec<f32>) {
    let (rows, cols) = mu.dim();
    let mut for_col = vec![0.0f32; (rows + 2) * cols];
    let mut for_row = vec![0.0f32; (cols + 2) * rows];
    for ((i, j), &v) in mu.indexed_iter() {
        for_col[(i + 1) * cols + j] = v;
        for_row[(j + 1) * rows + i] = v;
    }
    (for_col, for_row)
}

/// Forward projection: line integrals of `mu` (mm⁻¹) on `grid` for every ray of `geom`.
/// Returns the sinogram `(views, n_det)`.
///
/// Never panics: if the grid, geometry or image shape is invalid (see [`try_forward`], which
/// reports why) the result is an all-zero sinogram. Callers that take user parameters should
/// use [`try_forward`] (or `Geometry::validate`) to get the error.
pub fn forward(mu: ArrayView2<f32>, grid: &Grid, geom: &Geometry) -> Array2<f32> {
    try_forward(mu, grid, geom).unwrap_or_else(|_| Array2::zeros((geom.n_views(), geom.n_det)))
}

/// Forward projection with validation of the grid, geometry and image shape (plans a
/// [`Projector`] and projects once).
pub fn try_forward(mu: ArrayView2<f32>, grid: &Grid, geom: &Geometry) -> Result<Array2<f32>> {
    Projector::new(grid, geom)?.forward(mu)
}

/// Joseph's projector planned for one grid and geometry: the table of every ray's segment
/// through the grid (≈ 12 MB and ≈ 7 % of a single-thread forward projection for 720 views ×
/// 726 bins), built once. [`Projector::forward`] and [`Projector::backproject`] give the same
/// bytes as [`try_forward`] and [`try_backproject`].
#[derive(Clone, Debug)]
pub struct Projector {
    grid: Grid,
    geom: Geometry,
    table: Vec<ViewRays>,
}

impl Projector {
    /// Validate the grid and geometry and trace every ray.
    pub fn new(grid: &Grid, geom: &Geometry) -> Result<Projector> {
        check(grid, geom)?;
        Ok(Projector {
            grid: *grid,
            geom: geom.clone(),
            table: ray_table(grid, geom),
        })
    }

    /// The image grid.
    /// A projector whose view `v` sees the object translated by `shifts[v] = (x, y)` mm
    /// (x right, y up): projecting `f` gives the exact line integrals of `f(x − shifts[v])` in
    /// view `v` (the rays, source included, are moved by `−shifts[v]` instead of resampling
    /// the image). A fan-beam source must stay outside the grid for every shift. Zero shifts
    /// give exactly [`Projector::new`]'s rays.
    pub fn with_object_shifts(
        grid: &Grid,
        geom: &Geometry,
        shifts: &[[f64; 2]],
    ) -> Result<Projector> {
        check(grid, geom)?;
        if shifts.len() != geom.n_views() {
            return Err(param(
                "shifts",
                format!("{} shifts for {} views", shifts.len(), geom.n_views()),
            ));
        }
        let mut max_shift = 0.0f64;
        for s in shifts {
            let m = s[0].hypot(s[1]);
            if !m.is_finite() {
                return Err(param("shifts", format!("non-finite shift {s:?}")));
            }
            max_shift = max_shift.max(m);
        }
        if let Some(r) = geom.source_iso_mm() {
            let h = grid.half_diagonal_mm();
            if r - max_shift <= h {
                return Err(param(
                    "shifts",
                    format!("a shift of {max_shift:.1} mm brings the source ({r} mm from the isocentre) inside the image grid (half-diagonal {h:.1} mm)"),
                ));
            }
        }
        Ok(Projector {
            grid: *grid,
            geom: geom.clone(),
            table: ray_table_shifted(grid, geom, Some(shifts)),
        })
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The acquisition geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geom
    }

    /// `mu` must have the grid's shape.
    fn check_shape(&self, mu: ArrayView2<f32>) -> Result<()> {
        let grid = &self.grid;
        if mu.dim() != (grid.rows, grid.cols) {
            return Err(param(
                "mu",
                format!(
                    "image shape {:?} does not match the grid {}×{}",
                    mu.dim(),
                    grid.rows,
                    grid.cols
                ),
            ));
        }
        Ok(())
    }

    /// Line integrals of `mu` (mm⁻¹, shape of the grid): the sinogram `(views, n_det)`.
    pub fn forward(&self, mu: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.forward_with(mu, crate::simd::avx2())
    }

    /// [`Projector::forward`] with the kernel chosen by the caller (`avx2` is ignored where
    /// AVX2 is not available).
    pub(crate) fn forward_with(&self, mu: ArrayView2<f32>, avx2: bool) -> Result<Array2<f32>> {
        let (grid, geom, table) = (&self.grid, &self.geom, &self.table);
        self.check_shape(mu)?;
        let (for_col, for_row) = padded_copies(mu);
        let (rows, cols) = (grid.rows, grid.cols);
        let dm_col = avx2_fp::DrivingMajor::new(&for_col, cols, avx2);
        let dm_row = avx2_fp::DrivingMajor::new(&for_row, rows, avx2);
        let mut sino = Array2::<f32>::zeros((geom.n_views(), geom.n_det));
        sino.as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(geom.n_det)
            .zip(table.par_iter())
            .for_each(|(out, view)| {
                project_segs(out, &view.col, &for_col, cols, dm_col.as_ref());
                project_segs(out, &view.row, &for_row, rows, dm_row.as_ref());
            });
        Ok(sino)
    }

    /// [`Projector::forward`] for an image that is zero outside a small region (e.g. a metal
    /// fraction map): the same bytes, but each ray only steps over the part of its range that
    /// can meet the bounding box of the non-zero pixels. Outside it every Joseph term is
    /// exactly `+0`, and adding `+0` never changes the running sum (which starts at `+0` and
    /// so is never `−0`), so skipping those terms is exact. Single-ray loops (no lock-step
    /// groups): a box wider than a quarter of the grid along either axis is projected with
    /// [`Projector::forward`] instead.
    pub fn forward_sparse(&self, mu: ArrayView2<f32>) -> Result<Array2<f32>> {
        let (grid, geom, table) = (&self.grid, &self.geom, &self.table);
        self.check_shape(mu)?;
        let mut sino = Array2::<f32>::zeros((geom.n_views(), geom.n_det));
        // bounding box of the non-zero (and NaN) pixels
        let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
        for ((i, j), &v) in mu.indexed_iter() {
            if v != 0.0 {
                r0 = r0.min(i);
                r1 = r1.max(i);
                c0 = c0.min(j);
                c1 = c1.max(j);
            }
        }
        if r0 == usize::MAX {
            // all zero: every ray sums +0 terms (rays missing the grid stay 0 as well)
            for (v, view) in table.iter().enumerate() {
                for s in view.col.iter().chain(&view.row) {
                    sino[[v, s.k as usize]] = 0.0 * s.w;
                }
            }
            return Ok(sino);
        }
        let (rows, cols) = (grid.rows, grid.cols);
        if 4 * (r1 - r0 + 1) > rows || 4 * (c1 - c0 + 1) > cols {
            // a wide box: the vectorised full projection is faster (and gives the same bytes)
            return self.forward(mu);
        }
        let (for_col, for_row) = padded_copies(mu);
        // (driving range, padded perpendicular range) of the box for each driving axis
        let col_box = ((c0, c1), (r0 + 1, r1 + 1));
        let row_box = ((r0, r1), (c0 + 1, c1 + 1));
        sino.as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(geom.n_det)
            .zip(table.par_iter())
            .for_each(|(out, view)| {
                project_segs_in_box(out, &view.col, &for_col, cols, col_box);
                project_segs_in_box(out, &view.row, &for_row, rows, row_box);
            });
        Ok(sino)
    }

    /// [`Projector::forward`] of an image whose non-zero pixels form a few small, separate
    /// groups (e.g. several metal inserts far apart, whose common bounding box is wide):
    /// each group's box (16-pixel tiles joined by 8-neighbourhood) projected as in
    /// [`Projector::forward_sparse`] and the boxes' sums added per ray, in box order. Equal to the full projection up to the f32
    /// rounding of that sum (the same bytes with one box). `None` when some box is wider than
    /// a quarter of the grid or the boxes cover more than a quarter of it: project in full.
    pub fn forward_sparse_parts(&self, mu: ArrayView2<f32>) -> Result<Option<Array2<f32>>> {
        self.check_shape(mu)?;
        let (rows, cols) = (self.grid.rows, self.grid.cols);
        let boxes = nonzero_boxes(mu, PART_TILE);
        let area: usize = boxes
            .iter()
            .map(|b| (b.1 - b.0 + 1) * (b.3 - b.2 + 1))
            .sum();
        let small = |b: &(usize, usize, usize, usize)| {
            4 * (b.1 - b.0 + 1) <= rows && 4 * (b.3 - b.2 + 1) <= cols
        };
        if !boxes.iter().all(small) || 4 * area > rows * cols {
            return Ok(None);
        }
        if boxes.len() <= 1 {
            return self.forward_sparse(mu).map(Some);
        }
        let (geom, table) = (&self.geom, &self.table);
        let (for_col, for_row) = padded_copies(mu);
        let mut sino = Array2::<f32>::zeros((geom.n_views(), geom.n_det));
        sino.as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(geom.n_det)
            .zip(table.par_iter())
            .for_each(|(out, view)| {
                let mut part = vec![0.0f32; out.len()];
                for &(r0, r1, c0, c1) in &boxes {
                    project_segs_in_box(
                        &mut part,
                        &view.col,
                        &for_col,
                        cols,
                        ((c0, c1), (r0 + 1, r1 + 1)),
                    );
                    project_segs_in_box(
                        &mut part,
                        &view.row,
                        &for_row,
                        rows,
                        ((r0, r1), (c0 + 1, c1 + 1)),
                    );
                    for (o, p) in out.iter_mut().zip(&part) {
                        *o += p;
                    }
                }
            });
        Ok(Some(sino))
    }

    /// Exact adjoint of [`Projector::forward`]: `Aᵀ sino` on the grid.
    pub fn backproject(&self, sino: ArrayView2<f32>) -> Result<Array2<f32>> {
        let (grid, geom, table) = (&self.grid, &self.geom, &self.table);
        if sino.dim() != (geom.n_views(), geom.n_det) {
            return Err(param(
                "sino",
                format!(
                    "sinogram shape {:?} does not match the geometry ({} views, {} bins)",
                    sino.dim(),
                    geom.n_views(),
                    geom.n_det
                ),
            ));
        }
        let sino = sino.as_standard_layout();
        let (rows, cols) = (grid.rows, grid.cols);
        let n_det = geom.n_det;
        let sino_s = sino.as_slice().expect("standard layout");

        // pass 1: column-stepped rays, each task owns one padded column
        let mut by_col = vec![0.0f32; cols * (rows + 2)];
        by_col
            .par_chunks_mut(rows + 2)
            .enumerate()
            .for_each(|(j, line)| {
                for (v, view) in table.iter().enumerate() {
                    let p = &sino_s[v * n_det..(v + 1) * n_det];
                    scatter_line(line, j, &view.col, p);
                }
            });
        // pass 2: row-stepped rays, each task owns one padded row
        let mut by_row = vec![0.0f32; rows * (cols + 2)];
        by_row
            .par_chunks_mut(cols + 2)
            .enumerate()
            .for_each(|(i, line)| {
                for (v, view) in table.iter().enumerate() {
                    let p = &sino_s[v * n_det..(v + 1) * n_det];
                    scatter_line(line, i, &view.row, p);
                }
            });
        let mut out = Array2::<f32>::zeros((rows, cols));
        for ((i, j), o) in out.indexed_iter_mut() {
            *o = by_col[j * (rows + 2) + i + 1] + by_row[i * (cols + 2) + j + 1];
        }
        Ok(out)
    }
}

/// Exact adjoint of [`forward`]: `Aᵀ sino` on `grid`. Invalid input gives zeros; use
/// [`try_backproject`] to get the error.
pub fn backproject(sino: ArrayView2<f32>, geom: &Geometry, grid: &Grid) -> Array2<f32> {
    try_backproject(sino, geom, grid).unwrap_or_else(|_| Array2::zeros((grid.rows, grid.cols)))
}

/// [`backproject`] with validation (plans a [`Projector`] and back-projects once).
pub fn try_backproject(sino: ArrayView2<f32>, geom: &Geometry, grid: &Grid) -> Result<Array2<f32>> {
    Projector::new(grid, geom)?.backproject(sino)
}

#[inline]
fn scatter_line(line: &mut [f32], t: usize, segs: &[Seg], p: &[f32]) {
    let tf = t as f32;
    for s in segs {
        if (s.lo as usize) <= t && t <= s.hi as usize {
            let val = p[s.k as usize] * s.w;
            if val == 0.0 {
                continue;
            }
            let r = s.a + tf * s.b;
            let q = r as usize;
            let f = r - q as f32;
            line[q] += val - f * val;
            line[q + 1] += f * val;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Separate groups of non-zero pixels get separate boxes that cover them; near ones merge.
    #[test]
    fn nonzero_boxes_cover_separate_groups() {
        let mut mu = Array2::<f32>::zeros((128, 128));
        mu[[10, 10]] = 1.0;
        mu[[12, 14]] = 2.0;
        mu[[100, 90]] = 1.0;
        mu[[101, 120]] = 1.0;
        mu[[60, 60]] = f32::NAN;
        let boxes = nonzero_boxes(mu.view(), 16);
        assert_eq!(
            boxes,
            vec![
                (10, 12, 10, 14),
                (60, 60, 60, 60),
                (100, 100, 90, 90),
                (101, 101, 120, 120)
            ]
        );
        // a group across a tile border is one box; two groups whose boxes overlap (an L and a
        // dot inside its box, tiles apart) merge
        let mut mu = Array2::<f32>::zeros((64, 64));
        mu[[40, 14]] = 1.0;
        mu[[40, 17]] = 1.0;
        assert_eq!(nonzero_boxes(mu.view(), 16), vec![(40, 40, 14, 17)]);
        let mut mu = Array2::<f32>::zeros((96, 96));
        for k in 0..90 {
            mu[[k, 0]] = 1.0;
            mu[[89, k]] = 1.0;
        }
        mu[[20, 60]] = 1.0;
        assert_eq!(nonzero_boxes(mu.view(), 16), vec![(0, 89, 0, 89)]);
        assert!(nonzero_boxes(Array2::<f32>::zeros((8, 8)).view(), 16).is_empty());
    }

    /// Projected insert by insert, three small discs far apart (a wide common box) give the
    /// full projection up to f32 rounding; one group gives the sparse projection's bytes; a
    /// wide group is declined.
    #[test]
    fn forward_sparse_parts_equals_full_projection() {
        let n = 128;
        let grid = Grid::new(n, n, 1.0);
        let geom = Geometry::fan_flat(192, 1.0, 500.0, 400.0, 180, 360.0);
        let p = Projector::new(&grid, &geom).unwrap();
        let noise = crate::fbp::tests::random((n, n), 11);
        let mut mu = Array2::<f32>::zeros((n, n));
        for &(r, c) in &[(20usize, 20usize), (20, 100), (100, 60)] {
            for i in r - 4..=r + 4 {
                for j in c - 4..=c + 4 {
                    mu[[i, j]] = noise[[i, j]] + 0.3;
                }
            }
        }
        let full = p.forward(mu.view()).unwrap();
        let parts = p
            .forward_sparse_parts(mu.view())
            .unwrap()
            .expect("small parts");
        let peak = full.iter().fold(0f32, |m, &v| m.max(v));
        let worst = full
            .iter()
            .zip(&parts)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(peak > 1.0 && worst <= 1e-6 * peak, "{worst} of {peak}");
        let mut one = Array2::<f32>::zeros((n, n));
        one[[50, 50]] = 1.0;
        one[[52, 55]] = 0.5;
        let a = p.forward_sparse_parts(one.view()).unwrap().unwrap();
        let b = p.forward_sparse(one.view()).unwrap();
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        let wide = Array2::<f32>::from_elem((n, n), 1.0);
        assert!(p.forward_sparse_parts(wide.view()).unwrap().is_none());
    }

    /// Slow reference forward projection: one ray at a time with [`seg_sum`].
    fn forward_reference(mu: ArrayView2<f32>, grid: &Grid, geom: &Geometry) -> Array2<f32> {
        let table = ray_table(grid, geom);
        let (for_col, for_row) = padded_copies(mu);
        let mut sino = Array2::<f32>::zeros((geom.n_views(), geom.n_det));
        for (v, view) in table.iter().enumerate() {
            for s in &view.col {
                sino[[v, s.k as usize]] = seg_sum(&for_col, grid.cols, s);
            }
            for s in &view.row {
                sino[[v, s.k as usize]] = seg_sum(&for_row, grid.rows, s);
            }
        }
        sino
    }

    fn random(shape: (usize, usize), seed: u64) -> Array2<f32> {
        let mut rng = artefact_core::Seed::from_u64(seed).rng();
        Array2::from_shape_fn(shape, |_| rng.random::<f32>() - 0.3)
    }

    #[test]
    fn fast_forward_equals_reference_bitwise() {
        let mut par = Geometry::parallel(97, 0.9, 37, 180.0);
        par.det_offset_mm = 0.3;
        let mut flat = Geometry::fan_flat(120, 1.3, 150.0, 100.0, 41, 360.0);
        flat.det_offset_mm = -0.4;
        let arc = Geometry::fan_arc(110, 1.4, 160.0, 90.0, 29, 360.0);
        // detector much wider than the grid (many rays miss it) and much finer than the pixels
        let wide = Geometry::parallel(300, 0.4, 19, 180.0);
        // bins coarser than the pixels: 8 neighbouring rays spread over more than the AVX2
        // kernel's 16-element window (its gather variant)
        let coarse = Geometry::parallel(40, 3.0, 23, 180.0);
        let coarse_fan = Geometry::fan_arc(40, 4.0, 160.0, 90.0, 23, 360.0);
        let grid = Grid::new(64, 48, 1.7);
        let x = random((grid.rows, grid.cols), 11);
        // angles in all four quadrants and on the axes
        let mut rng = artefact_core::Seed::from_u64(12).rng();
        let mut angles: Vec<f64> = (0..23)
            .map(|_| rng.random::<f64>() * 4.0 * std::f64::consts::PI - 2.0 * std::f64::consts::PI)
            .collect();
        angles.extend([0.0, 1.0, 2.0, 3.0, 4.0].map(|q| q * std::f64::consts::FRAC_PI_2));
        let quadrants = par.with_angles(angles.clone());
        let fan_quadrants = arc.with_angles(angles);
        // an odd-sized grid with a wide parallel detector too
        let odd = Grid::new(37, 29, 0.9);
        let y = random((odd.rows, odd.cols), 13);
        for (grid, x, geom) in [
            (&grid, &x, par),
            (&grid, &x, flat),
            (&grid, &x, arc.clone()),
            (&grid, &x, arc.short_scan(30)),
            (&grid, &x, wide.clone()),
            (&grid, &x, quadrants.clone()),
            (&grid, &x, fan_quadrants),
            (&grid, &x, coarse),
            (&grid, &x, coarse_fan),
            (&odd, &y, wide),
            (&odd, &y, quadrants),
        ] {
            let slow = forward_reference(x.view(), grid, &geom);
            assert!(slow.iter().any(|&v| v != 0.0));
            let default = forward(x.view(), grid, &geom);
            let portable = Projector::new(grid, &geom)
                .unwrap()
                .forward_with(x.view(), false)
                .unwrap();
            // with AVX2 where the CPU has it (else the portable path again)
            let simd = Projector::new(grid, &geom)
                .unwrap()
                .forward_with(x.view(), true)
                .unwrap();
            for fast in [default, portable, simd] {
                for (a, b) in fast.iter().zip(slow.iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{:?}: {a} vs {b}", geom.beam);
                }
            }
        }
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path is exercised");
        }
    }

    #[test]
    fn sparse_forward_equals_forward_bitwise() {
        let grid = Grid::new(64, 48, 1.7);
        let arc = Geometry::fan_arc(110, 1.4, 160.0, 90.0, 29, 360.0);
        let mut par = Geometry::parallel(97, 0.9, 37, 180.0);
        par.det_offset_mm = 0.3;
        let flat = Geometry::fan_flat(120, 1.3, 150.0, 100.0, 41, 360.0);
        let dense = random((grid.rows, grid.cols), 21);
        let mut blobs = Array2::<f32>::zeros((grid.rows, grid.cols));
        for (i, j) in [
            (10, 12),
            (11, 12),
            (10, 13),
            (40, 30),
            (41, 31),
            (0, 0),
            (63, 47),
        ] {
            blobs[[i, j]] = 0.5 + i as f32 * 0.01;
        }
        let mut one = Array2::<f32>::zeros((grid.rows, grid.cols));
        one[[30, 20]] = -2.0;
        one[[31, 22]] = 3.0;
        one[[33, 21]] = -0.0;
        let zero = Array2::<f32>::zeros((grid.rows, grid.cols));
        let mut small = Array2::<f32>::zeros((grid.rows, grid.cols));
        for (i, j) in [(20, 20), (21, 22), (25, 24), (22, 21)] {
            small[[i, j]] = 1.5 - j as f32 * 0.03;
        }
        for geom in [arc, par, flat] {
            let p = Projector::new(&grid, &geom).unwrap();
            for x in [&dense, &blobs, &one, &zero, &small] {
                let full = p.forward(x.view()).unwrap();
                let sparse = p.forward_sparse(x.view()).unwrap();
                for (a, b) in sparse.iter().zip(full.iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{:?}: {a} vs {b}", geom.beam);
                }
            }
        }
    }

    #[test]
    fn single_pixel_parallel_0deg() {
        // θ = 0: bin k measures the line x = u_k, i.e. a column sum.
        let grid = Grid::new(5, 5, 1.0);
        let geom = Geometry::parallel(5, 1.0, 1, 180.0);
        let mut mu = Array2::<f32>::zeros((5, 5));
        mu[[1, 3]] = 2.0;
        let s = forward(mu.view(), &grid, &geom);
        assert_eq!(s[[0, 3]], 2.0);
        assert_eq!(s.sum(), 2.0);
        // θ = 90°: the line y = u_k, row 1 has y = +1 → bin 3
        let geom = geom.with_angles(vec![std::f64::consts::FRAC_PI_2]);
        let s = forward(mu.view(), &grid, &geom);
        assert!((s[[0, 3]] - 2.0).abs() < 1e-5, "{s:?}");
    }
}
