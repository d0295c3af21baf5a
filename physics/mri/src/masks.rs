//! Sampling masks: fastMRI-compatible 1-D Cartesian line masks and 2-D variable-density
//! Poisson-disc masks.
//!
//! # 1-D Cartesian (fastMRI semantics)
//! Re-implemented from the *definitions* of fastMRI's `RandomMaskFunc`, `EquiSpacedMaskFunc`
//! and `EquispacedMaskFractionFunc` (facebookresearch/fastMRI, `fastmri/data/subsample.py`);
//! no code is copied. For `n` phase-encode lines, acceleration `R` and centre fraction `c`:
//! - low-frequency lines `n_low = round(n·c)` with Python's round-half-to-even, placed as the
//!   contiguous block starting at `pad = (n − n_low + 1) / 2` (integer division), i.e. around the
//!   DC line at `n/2` of the centred FFT;
//! - `random`: every line is additionally kept independently with probability
//!   `p = (n/R − n_low) / (n − n_low)`, so the expected number of lines is `n/R`;
//! - `equispaced`: lines `offset, offset + R, offset + 2R, …` (integer `R`,
//!   `offset ∈ [0, R)`), plus the centre block, so the true acceleration is below `R`;
//! - `equispaced_fraction`: the spacing is adjusted to
//!   `R' = R·(n_low − n) / (n_low·R − n)` so that the total number of lines is ≈ `n/R`; the lines
//!   are `round_half_even(offset + i·R')` for `offset + i·R' < n − 1` (numpy `arange` + `around`
//!   semantics), `offset ∈ [0, round(R'))`.
//!
//! The random streams are artefact's (ChaCha8), not numpy's, so random line *positions* differ
//! from fastMRI for the same integer seed; counts, centre blocks and every equispaced mask for a
//! given offset are identical (tests/undersampling.rs pins fastMRI's own output).
//!
//! # 2-D variable-density Poisson disc
//! Bridson's dart-throwing algorithm on the integer k-space grid with a minimum distance that
//! grows with the normalised k-space radius `ρ` (1 at the edge of each axis):
//! `r(ρ) = s·(1 + slope·ρ)` pixels. The scale `s` is found by a multiplicative fixed-point
//! iteration (`R ∝ s²` for a Poisson-disc pattern), then the sample count is trimmed or topped
//! up with seeded uniformly random points outside the calibration region so that the achieved
//! acceleration `N / n_sampled` equals the target up to one sample. A fully sampled
//! calibration block of `round(n·c)` lines per axis (fastMRI centre convention) is always kept.
//! A 2-D mask of a 2-D slice models the two phase-encode axes (ky, kz) of a 3-D acquisition.
//!
//! References: R. L. Cook, "Stochastic sampling in computer graphics", ACM TOG 5(1), 1986;
//! R. Bridson, "Fast Poisson disk sampling in arbitrary dimensions", SIGGRAPH sketches 2007;
//! M. Lustig, D. Donoho, J. M. Pauly, "Sparse MRI", MRM 58(6), 2007.

use crate::{MriError, Result};
use artefact_core::{SampleRng, Seed};
use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The three fastMRI 1-D line-mask families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartesianKind {
    /// fastMRI `RandomMaskFunc`.
    Random,
    /// fastMRI `EquiSpacedMaskFunc`.
    Equispaced,
    /// fastMRI `EquispacedMaskFractionFunc`.
    EquispacedFraction,
}

/// A sampled 1-D line mask along the phase-encode axis.
#[derive(Clone, Debug, PartialEq)]
pub struct LineMask {
    /// `sampled[i]` is true when phase-encode line `i` is acquired.
    pub sampled: Vec<bool>,
    /// Number of fully sampled low-frequency lines.
    pub num_low_frequencies: usize,
    /// First line of the centre block.
    pub center_start: usize,
    /// Offset used by the equispaced families (`None` for random).
    pub offset: Option<usize>,
}

impl LineMask {
    /// Number of acquired lines.
    pub fn count(&self) -> usize {
        self.sampled.iter().filter(|&&b| b).count()
    }

    /// `n / n_sampled` (infinite when nothing is sampled).
    pub fn achieved_acceleration(&self) -> f64 {
        self.sampled.len() as f64 / self.count() as f64
    }
}

/// Python's `round(n·c)` (round half to even) as a line count.
pub fn num_low_frequencies(n: usize, center_fraction: f64) -> usize {
    (n as f64 * center_fraction).round_ties_even().max(0.0) as usize
}

/// First index of the centre block: `(n − n_low + 1) / 2`.
pub fn center_start(n: usize, n_low: usize) -> usize {
    (n - n_low.min(n)).div_ceil(2)
}

/// Probability of each outer line for the random mask: `(n/R − n_low) / (n − n_low)`.
pub fn random_line_probability(n: usize, acceleration: f64, n_low: usize) -> f64 {
    if n_low >= n {
        return 0.0;
    }
    (n as f64 / acceleration - n_low as f64) / (n - n_low) as f64
}

/// Adjusted spacing of `equispaced_fraction`: `R·(n_low − n) / (n_low·R − n)`.
pub fn adjusted_acceleration(n: usize, acceleration: f64, n_low: usize) -> Result<f64> {
    let (n, l) = (n as f64, n_low as f64);
    let denom = l * acceleration - n;
    if denom >= 0.0 {
        return Err(MriError::Param {
            param: "center_fraction",
            reason: format!(
                "equispaced_fraction needs n_low·R < n, got {l}·{acceleration} ≥ {n} \
                 (lower the centre fraction or the acceleration)"
            ),
        });
    }
    Ok(acceleration * (l - n) / denom)
}

fn check_common(n: usize, acceleration: f64, center_fraction: f64) -> Result<()> {
    if n == 0 {
        return Err(MriError::Input("phase-encode axis has no lines".into()));
    }
    if !(acceleration.is_finite() && acceleration >= 1.0) {
        return Err(MriError::Param {
            param: "acceleration",
            reason: format!("must be finite and ≥ 1, got {acceleration}"),
        });
    }
    if !(center_fraction.is_finite() && (0.0..=1.0).contains(&center_fraction)) {
        return Err(MriError::Param {
            param: "center_fraction",
            reason: format!("must lie in [0, 1], got {center_fraction}"),
        });
    }
    Ok(())
}

/// A fastMRI-compatible 1-D line mask of length `n`.
///
/// `offset` (equispaced families only) fixes the first outer line; when `None` it is drawn
/// uniformly from `rng` in `[0, R)` (equispaced) or `[0, round(R'))` (equispaced_fraction), as
/// fastMRI does. The random family draws one uniform per line from `rng`.
pub fn cartesian_mask(
    kind: CartesianKind,
    n: usize,
    acceleration: f64,
    center_fraction: f64,
    offset: Option<usize>,
    rng: &mut SampleRng,
) -> Result<LineMask> {
    check_common(n, acceleration, center_fraction)?;
    let n_low = num_low_frequencies(n, center_fraction).min(n);
    let start = center_start(n, n_low);
    let mut sampled = vec![false; n];
    let mut used_offset = None;
    match kind {
        CartesianKind::Random => {
            let p = random_line_probability(n, acceleration, n_low);
            for s in sampled.iter_mut() {
                *s = rng.random::<f64>() < p;
            }
        }
        CartesianKind::Equispaced => {
            if acceleration.fract() != 0.0 {
                return Err(MriError::Param {
                    param: "acceleration",
                    reason: format!(
                        "the equispaced mask needs an integer acceleration, got {acceleration}"
                    ),
                });
            }
            let r = acceleration as usize;
            let off = pick_offset(offset, r, rng)?;
            used_offset = Some(off);
            for s in sampled.iter_mut().skip(off).step_by(r) {
                *s = true;
            }
        }
        CartesianKind::EquispacedFraction => {
            let adj = adjusted_acceleration(n, acceleration, n_low)?;
            let off = pick_offset(offset, adj.round_ties_even() as usize, rng)?;
            used_offset = Some(off);
            // numpy.arange(off, n − 1, adj): len = ceil((stop − start)/step), values
            // start + i·delta with delta = (start + step) − start (numpy's fill rule).
            let (start_f, stop_f) = (off as f64, n as f64 - 1.0);
            if stop_f > start_f {
                let len = ((stop_f - start_f) / adj).ceil() as usize;
                let delta = (start_f + adj) - start_f;
                for i in 0..len {
                    let v = if i == 0 {
                        start_f
                    } else {
                        start_f + i as f64 * delta
                    };
                    let idx = v.round_ties_even() as usize;
                    if idx < n {
                        sampled[idx] = true;
                    }
                }
            }
        }
    }
    for s in sampled.iter_mut().skip(start).take(n_low) {
        *s = true;
    }
    Ok(LineMask {
        sampled,
        num_low_frequencies: n_low,
        center_start: start,
        offset: used_offset,
    })
}

fn pick_offset(offset: Option<usize>, period: usize, rng: &mut SampleRng) -> Result<usize> {
    let period = period.max(1);
    match offset {
        Some(o) if o < period => Ok(o),
        Some(o) => Err(MriError::Param {
            param: "offset",
            reason: format!("must be below the line spacing {period}, got {o}"),
        }),
        None => Ok(rng.random_range(0..period)),
    }
}

/// A 2-D sampling mask with its achieved acceleration.
#[derive(Clone, Debug, PartialEq)]
pub struct PoissonMask {
    /// `mask[[i, j]]` is true where k-space point `(i, j)` is acquired.
    pub mask: Array2<bool>,
    /// `rows·cols / n_sampled`.
    pub achieved_acceleration: f64,
    /// Calibration block size `(rows, cols)`.
    pub calib: (usize, usize),
    /// Final minimum-distance scale `s` (pixels at the k-space centre).
    pub radius_scale: f64,
}

/// Variable-density Poisson-disc mask with a fully sampled calibration block.
///
/// `slope` sets how fast the minimum distance grows towards the k-space edge
/// (`r = s·(1 + slope·ρ)`); 0 gives a uniform-density Poisson disc.
pub fn poisson_disc_mask(
    rows: usize,
    cols: usize,
    acceleration: f64,
    center_fraction: f64,
    slope: f64,
    seed: u64,
) -> Result<PoissonMask> {
    check_common(rows.min(cols), acceleration, center_fraction)?;
    if !(slope.is_finite() && (0.0..=20.0).contains(&slope)) {
        return Err(MriError::Param {
            param: "vd_slope",
            reason: format!("must lie in [0, 20], got {slope}"),
        });
    }
    let total = rows * cols;
    let (cr, cc) = (
        num_low_frequencies(rows, center_fraction).min(rows),
        num_low_frequencies(cols, center_fraction).min(cols),
    );
    let (r0, c0) = (center_start(rows, cr), center_start(cols, cc));
    let target = ((total as f64 / acceleration).round() as usize).clamp(1, total);
    if cr * cc > target {
        return Err(MriError::Param {
            param: "center_fraction",
            reason: format!(
                "the {cr}×{cc} calibration block alone exceeds the {target} samples allowed \
                 by acceleration {acceleration}"
            ),
        });
    }
    let in_calib = |i: usize, j: usize| i >= r0 && i < r0 + cr && j >= c0 && j < c0 + cc;
    let base = Seed::from_u64(seed);

    let mut best: Option<(Vec<bool>, usize, f64)> = None;
    if target < total {
        // multiplicative fixed point on s: density ∝ 1/s², so s ← s·sqrt(R_target/R).
        let mut s = 0.8 * acceleration.sqrt() / (1.0 + 0.5 * slope);
        for attempt in 0..10 {
            let mut rng = base.child("poisson").rng();
            let mut occ = poisson_attempt(rows, cols, s, slope, &mut rng);
            let mut count = occ.iter().filter(|&&b| b).count();
            for i in r0..r0 + cr {
                for j in c0..c0 + cc {
                    let o = &mut occ[i * cols + j];
                    if !*o {
                        *o = true;
                        count += 1;
                    }
                }
            }
            let err = (count as f64 - target as f64).abs();
            if best
                .as_ref()
                .is_none_or(|b| err < (b.1 as f64 - target as f64).abs())
            {
                best = Some((occ, count, s));
            }
            if err <= 0.01 * target as f64 || attempt == 9 {
                break;
            }
            let achieved = total as f64 / count.max(1) as f64;
            let ratio = (acceleration / achieved).clamp(0.25, 4.0);
            s *= ratio.sqrt();
        }
    }
    let (mut occ, mut count, s) = best.unwrap_or((vec![true; total], total, 0.0));
    // exact trim / top-up with seeded uniform choices outside the calibration block
    let mut rng = base.child("poisson-fixup").rng();
    if count != target {
        let want = count > target; // true: remove sampled points
        let mut pool: Vec<usize> = (0..total)
            .filter(|&p| occ[p] == want && !in_calib(p / cols, p % cols))
            .collect();
        let need = count.abs_diff(target).min(pool.len());
        for k in 0..need {
            let pick = rng.random_range(k..pool.len());
            pool.swap(k, pick);
            occ[pool[k]] = !want;
        }
        count = if want { count - need } else { count + need };
    }
    let mask = Array2::from_shape_vec((rows, cols), occ).expect("shape matches");
    Ok(PoissonMask {
        mask,
        achieved_acceleration: total as f64 / count as f64,
        calib: (cr, cc),
        radius_scale: s,
    })
}

/// One Bridson pass with a radius field `s·(1 + slope·ρ)`; returns the occupancy grid.
fn poisson_attempt(rows: usize, cols: usize, s: f64, slope: f64, rng: &mut SampleRng) -> Vec<bool> {
    const CANDIDATES: usize = 16;
    let (hr, hc) = ((rows / 2) as f64, (cols / 2) as f64);
    let (nr, nc) = ((rows as f64 / 2.0).max(0.5), (cols as f64 / 2.0).max(0.5));
    let radius = |i: f64, j: f64| -> f64 {
        let rho = (((i - hr) / nr).powi(2) + ((j - hc) / nc).powi(2)).sqrt();
        s * (1.0 + slope * rho)
    };
    let mut occ = vec![false; rows * cols];
    let mut active: Vec<(usize, usize)> = Vec::new();
    let first = (rows / 2, cols / 2);
    occ[first.0 * cols + first.1] = true;
    active.push(first);
    let tau = std::f64::consts::TAU;
    while !active.is_empty() {
        let a = rng.random_range(0..active.len());
        let (pi, pj) = active[a];
        let rp = radius(pi as f64, pj as f64);
        let mut accepted = false;
        for _ in 0..CANDIDATES {
            let d = rp * (1.0 + rng.random::<f64>());
            let th = tau * rng.random::<f64>();
            let ci = (pi as f64 + d * th.cos()).round();
            let cj = (pj as f64 + d * th.sin()).round();
            if ci < 0.0 || cj < 0.0 || ci >= rows as f64 || cj >= cols as f64 {
                continue;
            }
            let (ci, cj) = (ci as usize, cj as usize);
            if occ[ci * cols + cj] {
                continue;
            }
            let rc = radius(ci as f64, cj as f64);
            let r2 = rc * rc;
            let w = rc.ceil() as usize;
            let (i0, i1) = (ci.saturating_sub(w), (ci + w).min(rows - 1));
            let (j0, j1) = (cj.saturating_sub(w), (cj + w).min(cols - 1));
            let mut free = true;
            'scan: for i in i0..=i1 {
                let di = i as f64 - ci as f64;
                let row = &occ[i * cols..(i + 1) * cols];
                for (j, &o) in row.iter().enumerate().take(j1 + 1).skip(j0) {
                    if o {
                        let dj = j as f64 - cj as f64;
                        if di * di + dj * dj < r2 {
                            free = false;
                            break 'scan;
                        }
                    }
                }
            }
            if free {
                occ[ci * cols + cj] = true;
                active.push((ci, cj));
                accepted = true;
                break;
            }
        }
        if !accepted {
            active.swap_remove(a);
        }
    }
    occ
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_even_like_python() {
        // Python: round(2.5) == 2, round(3.5) == 4, round(368*0.08) == 29
        assert_eq!(num_low_frequencies(100, 0.025), 2);
        assert_eq!(num_low_frequencies(100, 0.035), 4);
        assert_eq!(num_low_frequencies(368, 0.08), 29);
        assert_eq!(center_start(368, 29), 170);
    }

    #[test]
    fn poisson_is_deterministic_and_keeps_calibration() {
        let a = poisson_disc_mask(64, 48, 4.0, 0.1, 2.0, 9).unwrap();
        let b = poisson_disc_mask(64, 48, 4.0, 0.1, 2.0, 9).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.calib, (6, 5));
        for i in 29..35 {
            for j in 22..27 {
                assert!(a.mask[[i, j]]);
            }
        }
        assert!((a.achieved_acceleration - 4.0).abs() < 0.1);
    }
}
