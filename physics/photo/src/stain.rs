//! Stain optics of H&E: Beer–Lambert optical density, stain vectors (Macenko), concentrations
//! and their perturbation (stain variation between labs, scanners and batches).
//!
//! # Model
//! Bright-field microscopy transmits light through stained tissue. For each channel, the
//! transmitted linear intensity `I` relative to the incident (blank-slide) intensity `I₀`
//! gives the optical density `OD = −log10(I / I₀)` (Beer–Lambert), which is linear in the stain
//! amounts: `OD = Σ_s c_s · v_s` with `v_s` the unit OD vector (colour) of stain `s` and `c_s`
//! its concentration × path length. Working on **linear** light (not sRGB codes) keeps this
//! law exact. A stain basis holds haematoxylin `v_H`, eosin `v_E` and a residual
//! `v_R = v_H × v_E / |·|`, so concentrations are `c = V⁻ᵀ·OD` and `OD = Vᵀ·c` exactly
//! (colour deconvolution, Ruifrok & Johnston 2001).
//!
//! Stain vectors are estimated per image with Macenko's method: drop near-transparent pixels
//! (OD norm `|OD| < β = 0.15`; Macenko's paper drops a pixel if *any* channel is below β,
//! which also drops pure eosin — its red OD is small — and pulls the eosin vector towards
//! haematoxylin by ~4° on a synthetic two-stain image; the norm keeps them), take the plane of the two largest eigenvectors of the OD
//! covariance, measure each pixel's angle in that plane and take the robust extremes
//! (α = 1st and 99th percentiles) as the two stains; the one with the larger red OD is
//! haematoxylin.
//!
//! Stain variation ([`apply`]) keeps the image's own stain vectors and perturbs concentrations
//! per stain where it is present (`c > 0`), `c' = max(0, scale·c + shift·w)` with
//! `w = min(c/0.2, 1)` (a shift fades in with the stain's presence, so unstained glass stays
//! clear), then re-synthesises `I = I₀·10^(−OD)`; the residual
//! concentration is kept, so the identity parameters return the input up to rounding.
//!
//! # Units
//! OD: dimensionless (decadic). Concentrations: OD units along each unit stain vector.
//! `I₀`: linear light of the blank slide (1 = white).
//!
//! # References
//! - A. C. Ruifrok, D. A. Johnston, "Quantification of histochemical staining by color
//!   deconvolution", Anal. Quant. Cytol. Histol. 23(4), 291–299, 2001.
//! - M. Macenko et al., "A method for normalizing histology slides for quantitative
//!   analysis", IEEE ISBI 2009, 1107–1110.

use crate::error::check_range;
#[cfg(test)]
use crate::pixel::atan2_bounded;
use crate::pixel::ANGLE_WIDTH;
pub use crate::pixel::{
    intensity_fast, od_fast, od_fast_unit, rescale_od, StainShift, MIN_TRANSMISSION,
};
use crate::white_balance::invert;
use crate::{PhotoError, Result};
use artefact_core::RgbImage;
use serde::{Deserialize, Serialize};

/// Macenko's transparency threshold β (OD).
pub const MACENKO_BETA: f64 = 0.15;
/// Macenko's robust-extreme percentile α (percent).
pub const MACENKO_ALPHA: f64 = 1.0;

/// Optical density of a linear intensity relative to `i0`.
#[inline]
pub fn od(i: f64, i0: f64) -> f64 {
    -((i / i0).max(MIN_TRANSMISSION)).log10()
}

/// [`od`] as `−ln(i/i0) · log10(e)`: within 4 ulp of the `log10` form (tested), at a
/// fraction of its cost (the per-pixel loops use it).
#[inline]
pub fn od_ln(i: f64, i0: f64) -> f64 {
    -((i / i0).max(MIN_TRANSMISSION).ln() * std::f64::consts::LOG10_E)
}

/// Linear intensity of an optical density relative to `i0`.
#[inline]
pub fn intensity(od: f64, i0: f64) -> f64 {
    i0 * 10f64.powf(-od)
}

/// [`intensity`] as `i0 · exp(−od · ln 10)`: within `(2 + 2 |od| ln 10)` ulp of the `powf`
/// form (tested), at a fraction of its cost.
#[inline]
pub fn intensity_exp(od: f64, i0: f64) -> f64 {
    i0 * (-od * std::f64::consts::LN_10).exp()
}

fn normalise(v: [f64; 3]) -> Result<[f64; 3]> {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if !(n.is_finite() && n > 0.0) {
        return Err(PhotoError::Input(format!(
            "stain vector {v:?} has no direction"
        )));
    }
    Ok([v[0] / n, v[1] / n, v[2] / n])
}

/// A stain basis: rows haematoxylin, eosin, residual (unit OD vectors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StainBasis {
    pub vectors: [[f64; 3]; 3],
}

impl StainBasis {
    /// Basis from two stain vectors (normalised) and their normalised cross product.
    pub fn from_two(h: [f64; 3], e: [f64; 3]) -> Result<StainBasis> {
        let (h, e) = (normalise(h)?, normalise(e)?);
        let r = [
            h[1] * e[2] - h[2] * e[1],
            h[2] * e[0] - h[0] * e[2],
            h[0] * e[1] - h[1] * e[0],
        ];
        let r = normalise(r).map_err(|_| {
            PhotoError::Input("the two stain vectors are parallel: no basis".into())
        })?;
        Ok(StainBasis { vectors: [h, e, r] })
    }

    /// Ruifrok & Johnston's H&E vectors (haematoxylin, eosin).
    pub fn ruifrok_he() -> StainBasis {
        StainBasis::from_two([0.650, 0.704, 0.286], [0.072, 0.990, 0.105])
            .expect("independent vectors")
    }

    fn vt(&self) -> [[f64; 3]; 3] {
        std::array::from_fn(|i| std::array::from_fn(|j| self.vectors[j][i]))
    }

    /// Concentrations `c` with `OD = Σ c_s v_s`.
    pub fn concentrations(&self, od: [f64; 3]) -> Result<[f64; 3]> {
        let inv = invert(&self.vt())
            .ok_or_else(|| PhotoError::Input("stain basis is singular".into()))?;
        Ok(std::array::from_fn(|i| {
            (0..3).map(|k| inv[i][k] * od[k]).sum()
        }))
    }

    /// Optical density of concentrations.
    pub fn od(&self, c: [f64; 3]) -> [f64; 3] {
        std::array::from_fn(|i| (0..3).map(|s| self.vectors[s][i] * c[s]).sum())
    }
}

/// Eigen-decomposition of a symmetric 3×3 matrix (cyclic Jacobi): eigenvalues descending and
/// their unit eigenvectors.
fn symmetric_eigen(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..100 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        if off < 1e-300 {
            break;
        }
        for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    let mut idx = [0usize, 1, 2];
    idx.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let vals = idx.map(|i| a[i][i]);
    let vecs = idx.map(|i| [v[0][i], v[1][i], v[2][i]]);
    (vals, vecs)
}

#[cfg(test)]
fn percentile(sorted: &[f64], pct: f64) -> f64 {
    // linear interpolation between closest ranks (numpy's default)
    let pos = (sorted.len() - 1) as f64 * pct / 100.0;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Macenko's stain vectors (haematoxylin, eosin) of a set of OD samples.
///
/// Computed without copying the kept samples (sums and covariance accumulated in the
/// samples' order) and with `atan2` only where it decides a percentile: every kept sample's
/// angle is first approximated by a polynomial `atan2` (within `ATAN2_BOUND` rad) and counted
/// in a histogram of bins much wider than that bound; only the samples in the bins holding
/// the percentiles' ranks and their neighbours get the exact angle, the rest only count.
/// The same values as sorting all exact angles (tested bit for bit against that reference).
pub fn macenko_from_od(ods: &[[f64; 3]]) -> Result<StainBasis> {
    let mut samples = MacenkoSamples::new(ods.len());
    let [x, y, z] = samples.row_mut(0, ods.len());
    for (j, o) in ods.iter().enumerate() {
        (x[j], y[j], z[j]) = (o[0], o[1], o[2]);
    }
    samples.offer(0, ods.len(), None);
    macenko_from_kept(&samples)
}

/// Optical densities stored by channel, with the samples Macenko keeps among those offered
/// (finite, `|OD| ≥ β`) flagged, and the kept samples' per-channel sums in their order (so
/// the sums of `.sum()` over them). Values stored but not offered (outside a field of view)
/// are never kept.
pub(crate) struct MacenkoSamples {
    od: [Vec<f64>; 3],
    keep: Vec<bool>,
    count: usize,
    sum: [f64; 3],
}

impl MacenkoSamples {
    /// Room for `n` samples (zeros, none kept).
    pub(crate) fn new(n: usize) -> MacenkoSamples {
        // the neutral element `Sum` folds from
        let zero: f64 = std::iter::empty::<f64>().sum();
        MacenkoSamples {
            od: std::array::from_fn(|_| vec![0.0; n]),
            keep: vec![false; n],
            count: 0,
            sum: [zero; 3],
        }
    }

    /// The stored optical densities `at..at + len` by channel, to write.
    pub(crate) fn row_mut(&mut self, at: usize, len: usize) -> [&mut [f64]; 3] {
        let [x, y, z] = &mut self.od;
        [
            &mut x[at..at + len],
            &mut y[at..at + len],
            &mut z[at..at + len],
        ]
    }

    /// Offer the stored samples `at..at + len` that are `inside` (all if `None`); samples
    /// must be offered in order.
    pub(crate) fn offer(&mut self, at: usize, len: usize, inside: Option<&[bool]>) {
        let [x, y, z] = &self.od;
        let (x, y, z) = (&x[at..at + len], &y[at..at + len], &z[at..at + len]);
        let keep = &mut self.keep[at..at + len];
        for (j, k) in keep.iter_mut().enumerate() {
            let o = [x[j], y[j], z[j]];
            *k = inside.is_none_or(|m| m[j])
                & o[0].is_finite()
                & o[1].is_finite()
                & o[2].is_finite()
                & ((o[0] * o[0] + o[1] * o[1] + o[2] * o[2]).sqrt() >= MACENKO_BETA);
        }
        // −0 is the identity of addition (v + (−0) = v for every v, zeros included), so the
        // masked sums are the kept samples' sums bit for bit
        let mut sum = self.sum;
        for (j, &k) in keep.iter().enumerate() {
            sum[0] += if k { x[j] } else { -0.0 };
            sum[1] += if k { y[j] } else { -0.0 };
            sum[2] += if k { z[j] } else { -0.0 };
        }
        self.sum = sum;
        self.count += keep.iter().filter(|&&k| k).count();
    }

    /// The stored optical densities by channel.
    pub(crate) fn od(&self) -> [&[f64]; 3] {
        [&self.od[0], &self.od[1], &self.od[2]]
    }
}

/// [`macenko_from_od`] of the samples kept in `samples`.
pub(crate) fn macenko_from_kept(samples: &MacenkoSamples) -> Result<StainBasis> {
    let MacenkoSamples {
        od,
        keep,
        count,
        sum,
    } = samples;
    let [x, y, z] = od;
    let count = *count;
    if count < 10 {
        return Err(PhotoError::Input(format!(
            "only {count} stained pixels (|OD| ≥ {MACENKO_BETA}): too few to \
             estimate stain vectors"
        )));
    }
    let n = count as f64;
    let mean: [f64; 3] = std::array::from_fn(|k| sum[k] / n);
    // the upper triangle; (x·y)/(n−1) and (y·x)/(n−1) are the same float, so the lower
    // triangle is the mirror of the upper, bit for bit
    let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    let upper = crate::simd::covariance_upper([x, y, z], keep, mean, n);
    let mut cov = [[0.0; 3]; 3];
    for (&v, &(i, j)) in upper.iter().zip(&pairs) {
        cov[i][j] = v;
        cov[j][i] = v;
    }
    let (_, vecs) = symmetric_eigen(cov);
    // orient the plane's axes towards positive OD
    let orient = |v: [f64; 3]| {
        if v.iter().sum::<f64>() < 0.0 {
            v.map(|x| -x)
        } else {
            v
        }
    };
    let (e1, e2) = (orient(vecs[0]), orient(vecs[1]));
    // the plane coordinates of sample j
    let plane = |j: usize| {
        (
            x[j] * e1[0] + y[j] * e1[1] + z[j] * e1[2],
            x[j] * e2[0] + y[j] * e2[1] + z[j] * e2[2],
        )
    };
    // every sample's bin (a branch-free loop), then the histogram
    let mut bins = vec![0u16; keep.len()];
    let finite = crate::simd::angle_bins([x, y, z], keep, [e1, e2], &mut bins);
    // samples not kept are in the extra bin `ANGLE_BINS`, left out
    let mut hist = vec![0u32; crate::pixel::ANGLE_BINS + 1];
    for &b in &bins {
        hist[b as usize] += 1;
    }
    hist.pop();
    let [lo, hi] = if finite {
        exact_percentiles(
            &hist,
            [MACENKO_ALPHA, 100.0 - MACENKO_ALPHA],
            |wanted: &dyn Fn(u16) -> bool, got: &mut Vec<(u16, f64)>| {
                for (j, &bin) in bins.iter().enumerate() {
                    if wanted(bin) {
                        let (a, b) = plane(j);
                        got.push((bin, b.atan2(a)));
                    }
                }
            },
        )
    } else {
        // plane coordinates overflowed (ODs near f64's range): every angle, by selection
        let mut phi: Vec<f64> = (0..keep.len())
            .filter(|&j| keep[j])
            .map(plane)
            .map(|(a, b)| b.atan2(a))
            .collect();
        [
            percentile_select(&mut phi, MACENKO_ALPHA),
            percentile_select(&mut phi, 100.0 - MACENKO_ALPHA),
        ]
    };
    let dir = |t: f64| -> [f64; 3] { std::array::from_fn(|k| e1[k] * t.cos() + e2[k] * t.sin()) };
    let (v_lo, v_hi) = (orient(dir(lo)), orient(dir(hi)));
    let (h, e) = if v_lo[0] > v_hi[0] {
        (v_lo, v_hi)
    } else {
        (v_hi, v_lo)
    };
    StainBasis::from_two(h, e)
}

/// Bound on `|atan2_bounded(y, x) − y.atan2(x)|` (rad), far above the polynomial's 2e-8
/// (tested on a dense sweep) and far below a histogram bin.
const ATAN2_BOUND: f64 = 1e-6;
/// The percentiles `pcts` (numpy's linear interpolation between closest ranks) of exact
/// values `f` known through the histogram `hist` of their bounded approximations `g`
/// (`|g − f| ≤ ATAN2_BOUND`, bins by `angle_bin`): the same values as sorting all `f`.
/// `scan` must push `(bin, f)` of every sample whose bin the filter it gets accepts.
///
/// The order statistics of `f` and `g` differ by at most the bound, so the bins holding the
/// wanted order statistics of `g`, widened by a bin each side (wider than twice the bound
/// plus the bins' rounding), hold those of `f`; samples in lower (higher) bins are strictly
/// below (above) them in `f`: only the count below matters, and `f` is taken only in the
/// widened bins.
fn exact_percentiles(
    hist: &[u32],
    pcts: [f64; 2],
    scan: impl FnOnce(&dyn Fn(u16) -> bool, &mut Vec<(u16, f64)>),
) -> [f64; 2] {
    const { assert!(ANGLE_WIDTH > 2.0 * ATAN2_BOUND + 1e-9) };
    let len: usize = hist.iter().map(|&h| h as usize).sum();
    // the bin holding a rank of the approximations
    let bin_of_rank = |rank: usize| {
        let mut seen = 0usize;
        for (b, &h) in hist.iter().enumerate() {
            seen += h as usize;
            if seen > rank {
                return b;
            }
        }
        hist.len() - 1
    };
    // per percentile: position, ranks, widened bins and the count of samples below them
    let brackets = pcts.map(|pct| {
        let pos = (len - 1) as f64 * pct / 100.0;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        let from = bin_of_rank(lo).saturating_sub(1);
        let to = (bin_of_rank(hi) + 1).min(hist.len() - 1);
        let below: usize = hist[..from].iter().map(|&h| h as usize).sum();
        (pos, lo, hi, from as u16, to as u16, below)
    });
    let mut got = Vec::new();
    scan(
        &|bin| brackets.iter().any(|b| (b.3..=b.4).contains(&bin)),
        &mut got,
    );
    brackets.map(|(pos, lo, hi, from, to, below)| {
        let mut f: Vec<f64> = got
            .iter()
            .filter(|g| (from..=to).contains(&g.0))
            .map(|g| g.1)
            .collect();
        f.sort_unstable_by(|x, y| x.total_cmp(y));
        let (x, y) = (f[lo - below], f[hi - below]);
        x + (y - x) * (pos - lo as f64)
    })
}

/// [`percentile`] of an unsorted slice without sorting it all: the two closest ranks by
/// selection (`select_nth_unstable`, O(n)), so the same values as the sorted lookup. Reorders
/// `values`.
fn percentile_select(values: &mut [f64], pct: f64) -> f64 {
    let pos = (values.len() - 1) as f64 * pct / 100.0;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (_, &mut a, upper) = values.select_nth_unstable_by(lo, |a, b| a.total_cmp(b));
    let b = if hi == lo {
        a
    } else {
        // the next rank is the smallest of the values above rank `lo`
        *upper
            .iter()
            .min_by(|x, y| x.total_cmp(y))
            .expect("hi < len")
    };
    a + (b - a) * (pos - lo as f64)
}

/// [`macenko_from_od`] as first written: the kept samples copied, every angle by `atan2`, the
/// percentiles by selection (the reference the operator must match bit for bit).
#[cfg(test)]
pub(crate) fn macenko_from_od_reference(ods: &[[f64; 3]]) -> Result<StainBasis> {
    let kept: Vec<[f64; 3]> = ods
        .iter()
        .copied()
        .filter(|o| {
            o.iter().all(|v| v.is_finite())
                && (o[0] * o[0] + o[1] * o[1] + o[2] * o[2]).sqrt() >= MACENKO_BETA
        })
        .collect();
    if kept.len() < 10 {
        return Err(PhotoError::Input(format!(
            "only {} stained pixels (|OD| ≥ {MACENKO_BETA}): too few to \
             estimate stain vectors",
            kept.len()
        )));
    }
    let n = kept.len() as f64;
    let mean: [f64; 3] = std::array::from_fn(|k| kept.iter().map(|o| o[k]).sum::<f64>() / n);
    let mut cov = [[0.0; 3]; 3];
    for o in &kept {
        for i in 0..3 {
            for j in 0..3 {
                cov[i][j] += (o[i] - mean[i]) * (o[j] - mean[j]) / (n - 1.0);
            }
        }
    }
    let (_, vecs) = symmetric_eigen(cov);
    // orient the plane's axes towards positive OD
    let orient = |v: [f64; 3]| {
        if v.iter().sum::<f64>() < 0.0 {
            v.map(|x| -x)
        } else {
            v
        }
    };
    let (e1, e2) = (orient(vecs[0]), orient(vecs[1]));
    let mut phi: Vec<f64> = kept
        .iter()
        .map(|o| {
            let a = o[0] * e1[0] + o[1] * e1[1] + o[2] * e1[2];
            let b = o[0] * e2[0] + o[1] * e2[1] + o[2] * e2[2];
            b.atan2(a)
        })
        .collect();
    let (lo, hi) = (
        percentile_select(&mut phi, MACENKO_ALPHA),
        percentile_select(&mut phi, 100.0 - MACENKO_ALPHA),
    );
    let dir = |t: f64| -> [f64; 3] { std::array::from_fn(|k| e1[k] * t.cos() + e2[k] * t.sin()) };
    let (v_lo, v_hi) = (orient(dir(lo)), orient(dir(hi)));
    let (h, e) = if v_lo[0] > v_hi[0] {
        (v_lo, v_hi)
    } else {
        (v_hi, v_lo)
    };
    StainBasis::from_two(h, e)
}

/// Macenko's stain basis of an image (linear light, blank slide `i0`), over its field of view.
pub fn macenko(img: &RgbImage, i0: f64) -> Result<StainBasis> {
    check_range("i0", i0, 1e-6, 1e6)?;
    let (rows, cols) = img.shape();
    let mut ods = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            if img.in_fov(r, c) {
                ods.push(std::array::from_fn(|k| od(img.data[[k, r, c]] as f64, i0)));
            }
        }
    }
    macenko_from_od(&ods)
}

/// Concentration over which a shift fades in (OD units).
pub const SHIFT_RAMP_OD: f64 = 0.2;

/// Parameters of a stain variation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StainParams {
    /// Multiplicative change of the haematoxylin and eosin concentrations.
    pub scale: [f64; 2],
    /// Additive change of the haematoxylin and eosin concentrations (OD units).
    pub shift: [f64; 2],
    /// Blank-slide intensity (linear light); the brightest background of a scan is ≈ 1.
    pub i0: f64,
}

/// Perturb the H and E concentrations along the image's own Macenko stain vectors.
pub fn apply(p: &StainParams, img: &RgbImage) -> Result<RgbImage> {
    for (name, v, lo, hi) in [
        ("scale[0]", p.scale[0], 0.0, 10.0),
        ("scale[1]", p.scale[1], 0.0, 10.0),
        ("shift[0]", p.shift[0], -3.0, 3.0),
        ("shift[1]", p.shift[1], -3.0, 3.0),
    ] {
        check_range(name, v, lo, hi)?;
    }
    let basis = macenko(img, p.i0)?;
    let (rows, cols) = img.shape();
    let mut out = img.data.clone();
    for r in 0..rows {
        for c in 0..cols {
            if !img.in_fov(r, c) {
                continue;
            }
            let o: [f64; 3] = std::array::from_fn(|k| od(img.data[[k, r, c]] as f64, p.i0));
            let mut conc = basis.concentrations(o)?;
            for s in 0..2 {
                // the shift fades in with the stain's presence so unstained glass stays clear;
                // negative concentrations (noise, glass) are kept as they are
                if conc[s] > 0.0 {
                    let w = (conc[s] / SHIFT_RAMP_OD).min(1.0);
                    conc[s] = (p.scale[s] * conc[s] + p.shift[s] * w).max(0.0);
                }
            }
            let o2 = basis.od(conc);
            for k in 0..3 {
                out[[k, r, c]] = intensity(o2[k], p.i0) as f32;
            }
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    #[test]
    fn intensity_exp_matches_powf() {
        for k in 0..200_001 {
            let d = -1.0 + 8.0 * k as f64 / 200_000.0;
            let (a, b) = (intensity_exp(d, 0.9), intensity(d, 0.9));
            let ulps = 2.0 + 2.0 * d.abs() * std::f64::consts::LN_10;
            assert!((a - b).abs() <= ulps * f64::EPSILON * b, "{d}: {a} {b}");
        }
    }

    /// The branch-free optical density and intensity against the library forms: within 2 ulp
    /// (plus the product's rounding) over the whole range, clamped below, and `+∞`/NaN as
    /// the library forms give them.
    #[test]
    fn fast_od_and_intensity_match_the_library_forms() {
        for k in 0..=200_000 {
            let i = 1.3 * k as f64 / 200_000.0;
            for i0 in [1.0, 0.93] {
                let (a, b) = (od_fast(i, i0), od_ln(i, i0));
                assert!(
                    (a - b).abs() <= 3.0 * f64::EPSILON * b.abs(),
                    "{i}: {a} {b}"
                );
            }
            let d = -2.0 + 10.0 * k as f64 / 200_000.0;
            let (a, b) = (intensity_fast(d, 0.9), intensity_exp(d, 0.9));
            let ulps = 2.0 + 2.0 * d.abs() * std::f64::consts::LN_10;
            assert!((a - b).abs() <= ulps * f64::EPSILON * b, "{d}: {a} {b}");
        }
        assert_eq!(od_fast(f64::INFINITY, 1.0), f64::NEG_INFINITY);
        assert_eq!(od_fast(f64::NAN, 1.0), od_ln(f64::NAN, 1.0));
        assert_eq!(od_fast(-1.0, 1.0), od_ln(-1.0, 1.0));
        assert!(intensity_fast(f64::NAN, 1.0).is_nan());
        assert_eq!(intensity_fast(f64::INFINITY, 1.0), 0.0);
        assert_eq!(
            intensity_fast(f64::NEG_INFINITY, 0.05) as f32,
            f32::INFINITY
        );
        assert_eq!(od_fast_unit(0.37).to_bits(), od_fast(0.37, 1.0).to_bits());
    }

    #[test]
    fn rescale_od_matches_the_library_form() {
        let mut worst = 0f64;
        for k in 0..=40_000 {
            let v = k as f64 / 20_000.0; // 0 … 2: clamped, below and above i0
            for (add, contrast) in [(0.0, 1.0), (0.7, 0.5), (-0.2, 1.3), (1.4, 0.4)] {
                let a = rescale_od(v, add, contrast, 0.9);
                let arg = (contrast * od_ln(v, 0.9) + add) * std::f64::consts::LN_10;
                let b = intensity_exp(contrast * od_ln(v, 0.9) + add, 0.9);
                // a few ulp, growing with the exponent (its rounding is amplified by |arg|)
                worst = worst.max((a - b).abs() / b / (4.0 + 2.0 * arg.abs()));
            }
        }
        assert!(worst <= 2.0 * f64::EPSILON, "{worst}");
    }

    #[test]
    fn od_ln_matches_log10() {
        for k in 0..200_001 {
            let i = 1.2 * k as f64 / 200_000.0;
            let (a, b) = (od_ln(i, 0.9), od(i, 0.9));
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b.abs(),
                "{i}: {a} {b}"
            );
        }
        assert_eq!(od_ln(0.9, 0.9).to_bits(), od(0.9, 0.9).to_bits());
    }

    /// Selection gives the sorted lookup's percentiles exactly (fixed-seed values with ties).
    #[test]
    fn percentile_by_selection_equals_sorted() {
        let mut z = 7u64;
        for n in [1usize, 2, 3, 10, 101, 1000, 4097] {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    z = z
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((z >> 40) % 500) as f64 / 7.0 - 30.0
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            for pct in [0.0, 1.0, 37.5, 50.0, 99.0, 100.0] {
                let mut w = v.clone();
                assert_eq!(
                    percentile_select(&mut w, pct).to_bits(),
                    percentile(&sorted, pct).to_bits(),
                    "{n} {pct}"
                );
            }
        }
    }

    /// The bounded `atan2` against `atan2` on a dense sweep of directions in every octant and
    /// of magnitudes (and the f32 rounding the estimate stores): within `ATAN2_BOUND`, with a
    /// wide margin; signed zeros and zero vectors as `atan2`.
    #[test]
    fn bounded_atan2_is_within_its_bound() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000u32 {
            let th = -std::f64::consts::PI + std::f64::consts::TAU * i as f64 / 2_000_000.0;
            for r in [1e-3, 0.7, 3.0, 1e3] {
                let (y, x) = (r * th.sin(), r * th.cos());
                let g = atan2_bounded(y, x) as f32 as f64;
                worst = worst.max((g - y.atan2(x)).abs());
            }
        }
        assert!(worst < ATAN2_BOUND / 4.0, "{worst}");
        for (y, x) in [
            (0.0, 0.0),
            (-0.0, 0.0),
            (0.0, -0.0),
            (-0.0, -1.0),
            (0.0, -1.0),
        ] {
            assert!(
                (atan2_bounded(y, x) - f64::atan2(y, x)).abs() <= 1e-15,
                "{y} {x}"
            );
            assert_eq!(atan2_bounded(y, x).is_sign_negative(), y.is_sign_negative());
        }
        assert!(atan2_bounded(1.0, f64::INFINITY) == 0.0);
    }

    /// Macenko by streamed sums, bounded angles and histogram brackets against the reference
    /// (copied samples, `atan2` everywhere, selection) bit for bit: synthetic two-stain images
    /// with noise, heavy ties (quantised ODs), few samples, angles around ±π and angles packed
    /// within the bound of each other.
    #[test]
    fn macenko_matches_the_reference_bit_for_bit() {
        let same = |ods: &[[f64; 3]]| {
            let (a, b) = (macenko_from_od(ods), macenko_from_od_reference(ods));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    let bits = |x: &StainBasis| x.vectors.map(|v| v.map(f64::to_bits));
                    assert_eq!(bits(&a), bits(&b));
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        };
        let mut z = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            z = z
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (z >> 11) as f64 / (1u64 << 53) as f64
        };
        for (h, e) in [
            ([0.650, 0.704, 0.286], [0.072, 0.990, 0.105]),
            ([0.55, 0.76, 0.34], [0.16, 0.92, 0.36]),
        ] {
            let img = two_stain_image(h, e);
            let ods: Vec<[f64; 3]> = (0..60 * 80)
                .map(|i| std::array::from_fn(|k| od(img.data[[k, i / 80, i % 80]] as f64, 1.0)))
                .collect();
            same(&ods);
            // quantised: many exact ties among the angles
            let q: Vec<[f64; 3]> = ods
                .iter()
                .map(|o| o.map(|v| (v * 20.0).round() / 20.0))
                .collect();
            same(&q);
            // a few samples only, and too few
            same(&ods[..40]);
            same(&ods[..12]);
            same(&ods[..9]);
        }
        for n in [50usize, 1000, 30_000] {
            // random directions in the positive octant and beyond (negative ODs, glass),
            // some not finite, some transparent
            let ods: Vec<[f64; 3]> = (0..n)
                .map(|i| {
                    if i % 97 == 3 {
                        return [f64::NAN, 0.3, 0.3];
                    }
                    let s = if i % 5 == 0 { 0.05 } else { 0.2 + 2.0 * next() };
                    std::array::from_fn(|_| s * (next() * 1.4 - 0.2))
                })
                .collect();
            same(&ods);
            // two clusters of nearly parallel samples: angles packed far closer than the
            // bound, so the brackets hold many samples
            let packed: Vec<[f64; 3]> = (0..n)
                .map(|i| {
                    let e = 1e-9 * next();
                    if i % 2 == 0 {
                        [0.6 + e, 0.7, 0.3 - e]
                    } else {
                        [0.1, 0.9 + e, 0.1]
                    }
                })
                .collect();
            same(&packed);
        }
        // plane coordinates that overflow (the selection fallback)
        let mut huge: Vec<[f64; 3]> = (0..200)
            .map(|i| [0.3 + 0.01 * (i % 17) as f64, 0.5, 0.2])
            .collect();
        huge[7] = [1e308, 1e308, 1e308];
        huge[9] = [-1e308, 1e308, 1e308];
        same(&huge);
    }

    fn angle_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
        let d = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]).clamp(-1.0, 1.0);
        d.acos().to_degrees()
    }

    /// OD → concentrations → OD within 1e-6 (here to 1e-12), and intensity ↔ OD.
    #[test]
    fn beer_lambert_round_trip() {
        let b = StainBasis::ruifrok_he();
        for i in 0..200 {
            let o = [
                (i % 7) as f64 * 0.31,
                (i % 11) as f64 * 0.17,
                (i % 5) as f64 * 0.23,
            ];
            let c = b.concentrations(o).unwrap();
            let back = b.od(c);
            for k in 0..3 {
                assert!((back[k] - o[k]).abs() < 1e-12, "{o:?} → {c:?} → {back:?}");
            }
        }
        for x in [1.0, 0.5, 0.01, 1e-4] {
            assert!((intensity(od(x, 1.0), 1.0) - x).abs() < 1e-15);
        }
        assert!((od(0.1, 1.0) - 1.0).abs() < 1e-15);
        assert!(StainBasis::from_two([1.0, 0.0, 0.0], [2.0, 0.0, 0.0]).is_err());
    }

    /// A synthetic two-stain image (Ruifrok's H and E, mixtures from pure H to pure E, a
    /// little noise): Macenko recovers both vectors within 2°.
    fn two_stain_image(h: [f64; 3], e: [f64; 3]) -> RgbImage {
        let b = StainBasis::from_two(h, e).unwrap();
        let (rows, cols) = (60, 80);
        RgbImage::new(
            Array3::from_shape_fn((3, rows, cols), |(k, r, c)| {
                let i = r * cols + c;
                // mixture H fraction; about 9 % of the pixels are pure H and 9 % pure E
                let t = (((i * 37) % 121) as f64 / 100.0 - 0.1).clamp(0.0, 1.0);
                let s = 0.4 + ((i * 53) % 97) as f64 / 97.0; // total amount
                let o = b.od([s * t, s * (1.0 - t), 0.0]);
                let noise = (((i * 7919 + k * 31) % 1000) as f64 / 1000.0 - 0.5) * 0.004;
                intensity(o[k] + noise, 1.0) as f32
            }),
            [5e-4, 5e-4],
            Modality::Histopathology,
            None,
        )
        .unwrap()
    }

    #[test]
    fn macenko_recovers_two_stain_vectors_within_two_degrees() {
        let truth = StainBasis::ruifrok_he();
        let img = two_stain_image(truth.vectors[0], truth.vectors[1]);
        let est = macenko(&img, 1.0).unwrap();
        let (ah, ae) = (
            angle_deg(est.vectors[0], truth.vectors[0]),
            angle_deg(est.vectors[1], truth.vectors[1]),
        );
        assert!(ah < 2.0 && ae < 2.0, "H off by {ah}°, E off by {ae}°");
        // a different (pinker, bluer) pair too
        let (h2, e2) = ([0.55, 0.76, 0.34], [0.16, 0.92, 0.36]);
        let img = two_stain_image(h2, e2);
        let est = macenko(&img, 1.0).unwrap();
        let (h2, e2) = (normalise(h2).unwrap(), normalise(e2).unwrap());
        let (ah, ae) = (angle_deg(est.vectors[0], h2), angle_deg(est.vectors[1], e2));
        assert!(ah < 2.0 && ae < 2.0, "H off by {ah}°, E off by {ae}°");
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        let (vals, vecs) = symmetric_eigen([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]);
        assert!((vals[0] - 5.0).abs() < 1e-12 && (vals[1] - 3.0).abs() < 1e-12);
        assert!((vals[2] - 1.0).abs() < 1e-12);
        assert!(vecs[1][0].abs() - std::f64::consts::FRAC_1_SQRT_2 < 1e-12);
    }

    #[test]
    fn stain_variation_identity_and_direction() {
        let truth = StainBasis::ruifrok_he();
        let img = two_stain_image(truth.vectors[0], truth.vectors[1]);
        let id = StainParams {
            scale: [1.0, 1.0],
            shift: [0.0, 0.0],
            i0: 1.0,
        };
        let out = apply(&id, &img).unwrap();
        for (a, b) in out.data.iter().zip(img.data.iter()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // more eosin: the image gets darker in green (eosin absorbs green most)
        let more_e = StainParams {
            scale: [1.0, 1.6],
            ..id
        };
        let out = apply(&more_e, &img).unwrap();
        let g = |x: &RgbImage| x.channel(1).sum();
        assert!(g(&out) < g(&img));
        assert!(apply(&StainParams { i0: 0.0, ..more_e }, &img).is_err());
    }
}
