//! A branch-free exponential for non-positive arguments, shared by the spectral sum of
//! `ct.metal` (`crate::spectrum::Transmission3`) and its AVX2 kernel (`crate::simd::spectral`),
//! which perform the same operations in the same order on these constants.
//!
//! Model: Cody–Waite reduction `x = k·ln2 + r` with `|r| ≤ ln2/2`, a degree-13 Taylor
//! polynomial of `eʳ` (truncation < 2e-16) and `2ᵏ` assembled in the exponent bits; within
//! 2 ulp of `f64::exp` on `[−707.6, 0]`, 0 below −708 (tested in `crate::spectrum`).

/// Energies per lane group of the spectral sum (the AVX2 kernel's 4 f64 lanes).
pub(crate) const LANES: usize = 4;

/// Below this exponent [`exp_nonpositive`] gives 0.
pub(crate) const EXP_FLUSH: f64 = -708.0;
pub(crate) const EXP_LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split so that `k·EXP_LN2_HI` is exact for |k| < 2¹¹.
pub(crate) const EXP_LN2_HI: f64 = 0.693_147_180_369_123_8;
pub(crate) const EXP_LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
pub(crate) const EXP_SHIFTER: f64 = 6_755_399_441_055_744.0;
/// `1/13!`, the first Horner coefficient, then `1/12!, …, 1/2!, 1, 1`.
pub(crate) const EXP_TOP: f64 = 1.0 / 6_227_020_800.0;
pub(crate) const EXP_HORNER: [f64; 13] = [
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `eˣ` for `x ≤ 0` (and NaN-free input), branch-free so that it vectorises: Cody–Waite
/// reduction `x = k·ln2 + r`, `|r| ≤ ln2/2`, a degree-13 Taylor polynomial of `eʳ`
/// (truncation < 2e-16), and `2ᵏ` assembled in the exponent bits. `x < −708` gives 0 (a
/// transmission below 1e-307); within 2 ulp of `f64::exp` elsewhere (tested).
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let flush = x < EXP_FLUSH;
    let x = x.max(EXP_FLUSH);
    let t = x * EXP_LOG2E + EXP_SHIFTER;
    let k = t - EXP_SHIFTER;
    let r = (x - k * EXP_LN2_HI) - k * EXP_LN2_LO;
    // Horner for Σ rⁿ/n!, n = 0…13
    let mut p = EXP_TOP;
    for c in EXP_HORNER {
        p = p * r + c;
    }
    // t's bits are SHIFTER's plus k (two's complement in the low bits): 2ᵏ = (k + 1023) << 52
    let kbits = t.to_bits().wrapping_sub(EXP_SHIFTER.to_bits());
    let scale = f64::from_bits(kbits.wrapping_add(1023) << 52);
    if flush {
        0.0
    } else {
        p * scale
    }
}
