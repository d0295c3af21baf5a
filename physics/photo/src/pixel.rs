//! Per-pixel formulas shared by the operators and their vectorised row loops
//! ([`crate::simd`]): optical density and Beer–Lambert intensity by the branch-free
//! `artefact_core::fastmath` functions, the stain shift of `crate::stain_variation`, Macenko's
//! bounded `atan2` and angle bins (`crate::stain`), and the Blinn–Phong `n·h` of
//! `crate::specular`. A leaf of the crate (it imports none of its modules), so that `simd`
//! can build its rows from these and the operators can call both.
//!
//! Units: optical density in log10 units, intensities in linear light relative to `i0`,
//! angles in radians.

/// Lowest relative intensity used for OD (caps OD at 6).
pub const MIN_TRANSMISSION: f64 = 1e-6;

/// `intensity_exp(contrast · od_ln(v, i0) + add, i0)` with the branch-free
/// `artefact_core::fastmath` logarithm and exponential (each within 2 ulp of the library's),
/// for loops over rows that vectorise (`simd::rescale_od_row`); within a few ulp of
/// the library form (tested). Called one value at a time in a per-pixel loop it is slower
/// than the library functions (latency-bound polynomials).
#[inline(always)]
pub fn rescale_od(v: f64, add: f64, contrast: f64, i0: f64) -> f64 {
    intensity_fast(contrast * od_fast(v, i0) + add, i0)
}

/// `stain::od_ln` by the branch-free `artefact_core::fastmath::ln_f64` (within 2 ulp of the
/// library's logarithm; `+∞` intensities give `−∞` as `stain::od_ln` does), for loops over rows
/// that vectorise: `−log10(max(i/i0, MIN_TRANSMISSION))`.
#[inline(always)]
pub fn od_fast(i: f64, i0: f64) -> f64 {
    od_fast_unit(i / i0)
}

/// [`od_fast`] of `t = i / i0` (for `i0 = 1`, `t = i`).
#[inline(always)]
pub fn od_fast_unit(t: f64) -> f64 {
    let t = t.max(MIN_TRANSMISSION);
    let ln = artefact_core::fastmath::ln_f64(t.min(f64::MAX));
    -((if t == f64::INFINITY { t } else { ln }) * std::f64::consts::LOG10_E)
}

/// `stain::intensity_exp` by the branch-free `artefact_core::fastmath::exp_f64` (within 2 ulp of
/// the library's exponential where the result is below `i0·e⁷⁰⁹`, beyond which it saturates
/// there — far above any f32; NaN stays NaN), for loops over rows that vectorise.
#[inline(always)]
pub fn intensity_fast(od: f64, i0: f64) -> f64 {
    let x = -od * std::f64::consts::LN_10;
    i0 * if x.is_nan() {
        x
    } else {
        artefact_core::fastmath::exp_f64(x)
    }
}

/// A per-pixel stain perturbation in optical density (the model of `crate::stain_variation`):
/// `OD` unmixed into concentrations `c = V⁻ᵀ·OD` of a basis `V`, and each of the first two
/// stains present (`c_s > 0`) replaced by `scale_s · c_s` along the vector `to_s`:
/// `OD' = OD + Σ (scale_s · c_s · to_s − c_s · v_s)`, not below `min(OD, 0)`, back to
/// intensity relative to `i0`.
#[derive(Clone, Debug)]
pub struct StainShift {
    /// rows of `V⁻ᵀ` giving `c_H` and `c_E`
    pub unmix: [[f64; 3]; 2],
    /// the stains' vectors `v_H`, `v_E`
    pub from: [[f64; 3]; 2],
    /// the vectors they are moved to
    pub to: [[f64; 3]; 2],
    /// factors on the concentrations
    pub scale: [f64; 2],
    /// blank-slide intensity (linear)
    pub i0: f64,
}

impl StainShift {
    /// The shifted optical density of `o` (library-free arithmetic: vectorises).
    #[inline(always)]
    pub fn od(&self, o: [f64; 3]) -> [f64; 3] {
        let mut o2 = o;
        for s in 0..2 {
            let u = &self.unmix[s];
            let c = u[0] * o[0] + u[1] * o[1] + u[2] * o[2];
            for k in 0..3 {
                let d = self.scale[s] * c * self.to[s][k] - c * self.from[s][k];
                o2[k] += if c > 0.0 { d } else { 0.0 };
            }
        }
        [
            o2[0].max(o[0].min(0.0)),
            o2[1].max(o[1].min(0.0)),
            o2[2].max(o[2].min(0.0)),
        ]
    }

    /// The shifted intensities of a pixel of optical density `o`, by [`intensity_fast`].
    #[inline(always)]
    pub fn intensity(&self, o: [f64; 3]) -> [f64; 3] {
        // (no `array::map`: its closure is not always inlined into the AVX2 build)
        let d = self.od(o);
        [
            intensity_fast(d[0], self.i0),
            intensity_fast(d[1], self.i0),
            intensity_fast(d[2], self.i0),
        ]
    }
}

/// Histogram bins of width `ANGLE_WIDTH` from `ANGLE_LO` (every angle lies in `[−π, π]`).
pub(crate) const ANGLE_BINS: usize = 1 << 14;
pub(crate) const ANGLE_LO: f64 = -3.5;
pub(crate) const ANGLE_WIDTH: f64 = -2.0 * ANGLE_LO / ANGLE_BINS as f64;

/// The bin of an angle: `⌊(g − ANGLE_LO) / ANGLE_WIDTH⌋` up to the rounding of the product
/// (far below a bin), clamped to the histogram (NaN to bin 0). Clamped as a float, then
/// truncated through `i32` (a conversion that vectorises): the same bins as truncating first.
#[inline(always)]
pub(crate) fn angle_bin(g: f64) -> u16 {
    ((g - ANGLE_LO) * (1.0 / ANGLE_WIDTH)).clamp(0.0, (ANGLE_BINS - 1) as f64) as i32 as u16
}

/// `atan2(y, x)` within 1e-8 rad for finite arguments, signed zeros as `atan2` (a degree-16
/// polynomial of the octant ratio, Abramowitz & Stegun 4.4.49); unspecified for infinite or
/// NaN arguments (callers check finiteness). Branch-free, so that loops over it vectorise.
#[inline(always)]
pub(crate) fn atan2_bounded(y: f64, x: f64) -> f64 {
    use std::f64::consts::{FRAC_PI_2, PI};
    let (ax, ay) = (x.abs(), y.abs());
    let swap = ay > ax;
    let (small, large) = if swap { (ax, ay) } else { (ay, ax) };
    // a zero vector has angle 0 (or π for x = −0, below)
    let t = if large > 0.0 { small / large } else { 0.0 };
    let t2 = t * t;
    let poly = 1.0
        + t2 * (-0.333_331_452_8
            + t2 * (0.199_935_508_5
                + t2 * (-0.142_088_994_4
                    + t2 * (0.106_562_639_3
                        + t2 * (-0.075_289_640_0
                            + t2 * (0.042_909_613_8
                                + t2 * (-0.016_165_736_7 + t2 * 0.002_866_225_7)))))));
    let g = t * poly;
    let g = if swap { FRAC_PI_2 - g } else { g };
    // x = −0 reflects like a negative x: π − π/2 = π/2 exactly when y ≠ 0, π when y = 0
    let g = if x.is_sign_negative() { PI - g } else { g };
    if y.is_sign_negative() {
        -g
    } else {
        g
    }
}

/// `n·h` of `crate::specular`'s model, clamped at 0, for the height slopes `(hx, hy)` and the
/// unnormalised view vector `v = (−(x − cx), −(y − cy), f)`: `n = (−hx, −hy, 1)/‖·‖`,
/// `max(n·v/‖v‖, 0)` (in this order of operations wherever it is evaluated).
#[inline(always)]
pub(crate) fn ndh(hx: f64, hy: f64, v: [f64; 3]) -> f64 {
    let nn = (hx * hx + hy * hy + 1.0).sqrt();
    let n = [-hx / nn, -hy / nn, 1.0 / nn];
    let vn = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let ndh = (n[0] * v[0] + n[1] * v[1] + n[2] * v[2]) / vn;
    ndh.max(0.0)
}
