//! Branch-light f32 `ln` and `sin_cos`, and Box–Muller normals built on them, for inner loops
//! that draw millions of random numbers (ultrasound scatterers, MRI thermal noise); libm's
//! `logf` and `sincosf` are not inlined and do not vectorise. And two branch-free f64
//! functions at full precision for per-pixel and per-bin loops: [`exp_nonpositive`] (CT
//! polychromatic spectral sums; its constants are public for the CT crate's AVX2 kernel, which
//! performs the same operations) and [`ln_f64`], with [`pow_unit`] built on them (Blinn–Phong
//! lobes); libm's `exp`/`log`/`pow` are calls that keep such loops scalar.
//!
//! Accuracy (tested against `std` on `(0, 1]` and on `[0, 1]` turns): `ln` within 4e-7
//! relative (absolute where |ln x| < 1), `sin_cos` within 5e-7 absolute. The normals are exact
//! Box–Muller transforms of 24-bit uniforms, so their tail is cut where the uniform's resolution
//! ends (|z| ≤ 5.77, beyond which a true normal pair lies with probability 6e-8).
//! `exp_nonpositive` is within 2 ulp of `f64::exp` on `[−707.6, 0]`, `ln_f64` within 2 ulp of
//! `f64::ln` on positive normal numbers (tested).

/// Natural logarithm of a positive, finite, normal `x`.
///
/// `x = 2^e · m` with `m ∈ [√½, √2)`, then `ln m = 2·atanh(s)`, `s = (m − 1)/(m + 1)`
/// (`|s| ≤ 0.172`), by its odd series to `s⁹` (truncation < 3e-10).
#[inline]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    // shift the mantissa range to [√½, √2): subtract the bit pattern of √½ before taking e
    let t = bits.wrapping_sub(0x3f35_04f3);
    let e = (t as i32) >> 23;
    let m = f32::from_bits(bits.wrapping_sub((e as u32) << 23));
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let p = s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    let lnm = 2.0 * s + 2.0 * s * p;
    e as f32 * std::f32::consts::LN_2 + lnm
}

/// `(sin 2πt, cos 2πt)` for a phase in turns `t ∈ [0, 1]`.
///
/// Reduction to the nearest quarter turn, then Taylor polynomials on `|x| ≤ π/4`
/// (truncation < 3.2e-7 for sin, < 2.5e-8 for cos) and a quadrant rotation.
#[inline]
pub fn sin_cos_turns(t: f32) -> (f32, f32) {
    let q = (t * 4.0 + 0.5) as i32; // nearest quarter turn, t ≥ 0
    sin_cos_quarter(t, q)
}

/// [`sin_cos_turns`] given its quarter turn `q = ⌊4t + ½⌋`.
#[inline(always)]
fn sin_cos_quarter(t: f32, q: i32) -> (f32, f32) {
    let x = (t - q as f32 * 0.25) * std::f32::consts::TAU; // |x| ≤ π/4
    let x2 = x * x;
    let s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0))));
    let c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0))));
    // quadrant rotation without branches (the quadrant of a random phase is unpredictable):
    // q = 0: (s, c), 1: (c, −s), 2: (−s, −c), 3: (−c, s)
    let odd = 0u32.wrapping_sub((q & 1) as u32); // all ones for odd q
    let (sb, cb) = (s.to_bits(), c.to_bits());
    let sin_b = (sb & !odd) | (cb & odd);
    let cos_b = (cb & !odd) | (sb & odd);
    let sin_sign = ((q as u32) & 2) << 30;
    let cos_sign = ((q as u32).wrapping_add(1) & 2) << 30;
    (
        f32::from_bits(sin_b ^ sin_sign),
        f32::from_bits(cos_b ^ cos_sign),
    )
}

/// A pair of independent standard normals from 64 random bits (Box–Muller):
/// `r = √(−2 ln w)`, `(r·cos 2πv, r·sin 2πv)`, with `w = (u₁ + ½)·2⁻²⁴ ∈ (0, 1)` from the top 24
/// bits of the low word and `v` from the top 24 bits of the high word. `|z| ≤ √(2 ln 2²⁴) ≈ 5.77`.
#[inline]
pub fn normal_pair(bits: u64) -> (f32, f32) {
    normal_pair_words(bits as u32, (bits >> 32) as u32)
}

/// [`normal_pair`] of the 64 bits `lo | hi << 32` given as two 32-bit words (the form that
/// vectorises over a `&[u32]` filled from a generator).
#[inline]
pub fn normal_pair_words(lo: u32, hi: u32) -> (f32, f32) {
    let w = ((lo >> 8) as i32 as f32 + 0.5) * (1.0 / 16_777_216.0);
    let k = hi >> 8;
    let v = (k as i32 as f32) * (1.0 / 16_777_216.0);
    let r = (-2.0 * ln(w)).sqrt();
    let (s, c) = sin_cos_quarter(v, quarter_of_word(k));
    (r * c, r * s)
}

/// The quarter turn `⌊4v + ½⌋` (f32 arithmetic, as in [`sin_cos_turns`]) of `v = k·2⁻²⁴`,
/// `k < 2²⁴`, computed in integers: the same value for every `k` (tested exhaustively), without
/// the saturating float→integer cast, which compiles to scalar code and kept the Box–Muller loop
/// from vectorising fully.
#[inline(always)]
fn quarter_of_word(k: u32) -> i32 {
    ((k + (1 << 21)) >> 22) as i32
}

/// Below this exponent [`exp_nonpositive`] gives 0.
pub const EXP_FLUSH: f64 = -708.0;
pub const EXP_LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split so that `k·EXP_LN2_HI` is exact for |k| < 2¹¹.
pub const EXP_LN2_HI: f64 = 0.693_147_180_369_123_8;
pub const EXP_LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
pub const EXP_SHIFTER: f64 = 6_755_399_441_055_744.0;
/// `1/13!`, the first Horner coefficient, then `1/12!, …, 1/2!, 1, 1`.
pub const EXP_TOP: f64 = 1.0 / 6_227_020_800.0;
pub const EXP_HORNER: [f64; 13] = [
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

/// `eˣ` for `x ≤ 709` (saturating at `e⁷⁰⁹` above it, 0 below −708): the reduction of
/// [`exp_nonpositive`] holds for positive arguments too as long as `2ᵏ` stays a normal
/// number (`k ≤ 1023`); within 2 ulp of `f64::exp` on `[−707.6, 709]` (tested).
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    exp_nonpositive(x.min(709.0))
}

/// `√½` as the bit pattern [`ln_f64`] shifts the mantissa range with.
const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;

/// Natural logarithm of a positive, finite, normal f64 (subnormals, zero, negatives, NaN and
/// infinities are not handled: callers clamp), branch-free so that it vectorises.
///
/// `x = 2^e · m` with `m ∈ [√½, √2)`; `ln m = 2·atanh(s)`, `s = f/(2 + f)`, `f = m − 1`
/// (exact), `|s| ≤ 0.172`, by its odd series to `s²¹` (truncation < 1e-18 relative); then
/// `e·ln2` in two parts. Within 2 ulp of `f64::ln` (tested).
#[inline(always)]
pub fn ln_f64(x: f64) -> f64 {
    let bits = x.to_bits();
    let t = bits.wrapping_sub(SQRT_HALF_BITS);
    let e = (t as i64) >> 52;
    let m = f64::from_bits(bits.wrapping_sub((e as u64) << 52));
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let p = z
        * (1.0 / 3.0
            + z * (1.0 / 5.0
                + z * (1.0 / 7.0
                    + z * (1.0 / 9.0
                        + z * (1.0 / 11.0
                            + z * (1.0 / 13.0
                                + z * (1.0 / 15.0
                                    + z * (1.0 / 17.0 + z * (1.0 / 19.0 + z * (1.0 / 21.0))))))))));
    // ln m = 2s·(1 + p), p = s²/3 + s⁴/5 + …, with 2s = f − s·f (from s·(2 + f) = f):
    // the large part f − s·f without the division's rounding in front, the small 2s·p after
    let e = e as f64;
    // ln 2 in the exponential's two parts (`e·EXP_LN2_HI` exact for |e| < 2¹¹)
    e * EXP_LN2_HI + ((e * EXP_LN2_LO + s * 2.0 * p) + (f - s * f))
}

/// `xᵃ` for `x ∈ (0, 1]` and `a ≥ 0` as `exp(a·ln x)` by [`exp_nonpositive`] and [`ln_f64`]
/// (`x` below the smallest normal is taken as it; results below 1e-307 are 0): within
/// `(1 + |a·ln x|)·4` ulp of `f64::powf` (tested), branch-free.
#[inline(always)]
pub fn pow_unit(x: f64, a: f64) -> f64 {
    exp_nonpositive((a * ln_f64(x.max(f64::MIN_POSITIVE))).min(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_nonpositive_is_within_two_ulp_of_std() {
        let mut worst = 0u64;
        let mut x = 0.0f64;
        while x > -707.6 {
            for d in [0.0, -1e-300, -0.123_456_789, -0.5 * std::f64::consts::LN_2] {
                let v = x + d;
                let (a, b) = (exp_nonpositive(v), v.exp());
                worst = worst.max(a.to_bits().abs_diff(b.to_bits()));
            }
            x -= 0.013_7;
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-708.5), 0.0);
        assert_eq!(exp_nonpositive(-1000.0), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn exp_f64_is_within_two_ulp_of_std() {
        let mut worst = 0u64;
        let mut x = -707.6f64;
        while x < 709.0 {
            for d in [0.0, 0.123_456_789, 0.5 * std::f64::consts::LN_2] {
                let v = (x + d).min(709.0);
                worst = worst.max(exp_f64(v).to_bits().abs_diff(v.exp().to_bits()));
            }
            x += 0.013_7;
        }
        for v in [0.0, 1e-300, -1e-300, 1.0, 0.1, 708.9, 709.0] {
            worst = worst.max(exp_f64(v).to_bits().abs_diff(v.exp().to_bits()));
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_f64(1e6), exp_f64(709.0));
        assert_eq!(exp_f64(-1000.0), 0.0);
    }

    #[test]
    fn ln_f64_is_within_two_ulp_of_std() {
        let mut worst = 0u64;
        // across the whole normal range, geometrically, and densely around 1 (where ln is
        // small and relative accuracy is hardest)
        let mut x = f64::MIN_POSITIVE;
        while x < 1e300 {
            let (a, b) = (ln_f64(x), x.ln());
            worst = worst.max(a.to_bits().abs_diff(b.to_bits()));
            x *= 1.000_913_7;
        }
        for i in -200_000i64..=200_000 {
            let x = 1.0 + i as f64 * 3.1e-6;
            let (a, b) = (ln_f64(x), x.ln());
            if b != 0.0 {
                worst = worst.max(a.to_bits().abs_diff(b.to_bits()));
            } else {
                assert_eq!(a, 0.0);
            }
        }
        for x in [
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::SQRT_2,
            0.5,
            2.0,
            1e-300,
        ] {
            worst = worst.max(ln_f64(x).to_bits().abs_diff(x.ln().to_bits()));
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(ln_f64(1.0), 0.0);
    }

    #[test]
    fn pow_unit_matches_powf() {
        let mut worst = 0f64;
        for a in [0.0, 1.0, 7.5, 120.0, 187.3, 250.0, 1000.0, 20000.0] {
            for i in 0..=20_000 {
                let x = i as f64 / 20_000.0;
                let (p, q) = (pow_unit(x, a), x.powf(a));
                if q < 1e-300 {
                    assert!(p < 1e-290, "{x}^{a}: {p} vs {q}");
                    continue;
                }
                let ulps = p.to_bits().abs_diff(q.to_bits()) as f64;
                worst = worst.max(ulps / (1.0 + (a * x.ln()).abs()));
            }
        }
        assert!(worst <= 4.0, "{worst} ulp per unit of |a ln x|");
        assert_eq!(pow_unit(1.0, 200.0), 1.0);
        assert_eq!(pow_unit(0.0, 3.0), 0.0);
    }

    #[test]
    fn ln_matches_std() {
        let mut worst = 0f32;
        let mut x = 1e-30f32;
        while x <= 1.0 {
            let d = (ln(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            worst = worst.max(d);
            x *= 1.000_37;
        }
        for i in 1..=(1 << 16) {
            let x = i as f32 / (1 << 16) as f32;
            let d = (ln(x) - x.ln()).abs();
            worst = worst.max(d / x.ln().abs().max(1.0));
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
    }

    #[test]
    fn sin_cos_matches_std() {
        let mut worst = 0f64;
        for i in 0..=100_000 {
            let t = i as f32 / 100_000.0;
            let (s, c) = sin_cos_turns(t);
            let (se, ce) = (std::f64::consts::TAU * t as f64).sin_cos();
            worst = worst.max((s as f64 - se).abs()).max((c as f64 - ce).abs());
        }
        assert!(worst < 5e-7, "worst absolute error {worst}");
    }

    /// The integer quarter turn of [`normal_pair_words`] equals the float formula of
    /// [`sin_cos_turns`] for every 24-bit phase word.
    #[test]
    fn integer_quarter_turn_matches_the_float_formula() {
        for k in 0..(1u32 << 24) {
            let v = (k as i32 as f32) * (1.0 / 16_777_216.0);
            assert_eq!(quarter_of_word(k), (v * 4.0 + 0.5) as i32, "k = {k}");
        }
        // so the pairs are those of `sin_cos_turns`
        for k in (0..(1u32 << 24))
            .step_by(4099)
            .chain([(1 << 24) - 1, 1 << 23])
        {
            let (lo, hi) = (k.wrapping_mul(2_654_435_761), k << 8);
            let w = ((lo >> 8) as i32 as f32 + 0.5) * (1.0 / 16_777_216.0);
            let r = (-2.0 * ln(w)).sqrt();
            let (s, c) = sin_cos_turns((k as i32 as f32) * (1.0 / 16_777_216.0));
            let (a, b) = normal_pair_words(lo, hi);
            assert_eq!(
                (a.to_bits(), b.to_bits()),
                ((r * c).to_bits(), (r * s).to_bits())
            );
        }
    }

    /// Moments and a coarse shape check of the Box–Muller pairs on a counter-based bit stream:
    /// mean 0, variance 1, no correlation between the two members, fourth moment 3, and the
    /// fraction beyond 1σ and 2σ as for a normal (0.3173, 0.0455).
    #[test]
    fn normal_pairs_are_standard_normal() {
        let n = 400_000u64;
        let (mut s1, mut s2, mut s4, mut sxy, mut out1, mut out2) =
            (0f64, 0f64, 0f64, 0f64, 0u64, 0u64);
        for i in 0..n {
            // splitmix64 as the bit source (independent of the generator used by callers)
            let mut z = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let (a, b) = normal_pair(z);
            for v in [a as f64, b as f64] {
                s1 += v;
                s2 += v * v;
                s4 += v * v * v * v;
                out1 += (v.abs() > 1.0) as u64;
                out2 += (v.abs() > 2.0) as u64;
            }
            sxy += a as f64 * b as f64;
        }
        let m = 2.0 * n as f64;
        assert!((s1 / m).abs() < 0.005, "mean {}", s1 / m);
        assert!((s2 / m - 1.0).abs() < 0.01, "variance {}", s2 / m);
        assert!((s4 / m - 3.0).abs() < 0.05, "fourth moment {}", s4 / m);
        assert!(
            (sxy / n as f64).abs() < 0.01,
            "correlation {}",
            sxy / n as f64
        );
        assert!((out1 as f64 / m - 0.3173).abs() < 0.003);
        assert!((out2 as f64 / m - 0.0455).abs() < 0.001);
    }
}
