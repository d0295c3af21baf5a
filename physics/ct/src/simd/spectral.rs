//! AVX2 kernel of the polychromatic spectral sum (`crate::spectrum::Transmission3`): 4
//! energies per vector, the same IEEE operations in the same order as the portable
//! `Transmission3::at` and `exp_nonpositive` (no FMA; the lane sums combined as
//! `(l0 + l1) + (l2 + l3)`), so both give the same bytes (tested below).

use crate::fast_exp::{
    EXP_FLUSH, EXP_HORNER, EXP_LN2_HI, EXP_LN2_LO, EXP_LOG2E, EXP_SHIFTER, EXP_TOP, LANES,
};
use std::arch::x86_64::*;

/// `out[i] = Σ_E f_E·exp(−(a_E·x[i] + b_E·y[i] + c_E·z[i]))` with `cols = [f, a, b, c]`
/// padded to a multiple of 4 energies.
///
/// # Safety
/// AVX2 must be available.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn row_avx2(cols: [&[f64]; 4], x: &[f64], y: &[f64], z: &[f32], out: &mut [f64]) {
    let [f, a, b, c] = cols;
    let n = f.len();
    assert!(n % LANES == 0 && a.len() == n && b.len() == n && c.len() == n);
    assert!(x.len() == out.len() && y.len() == out.len() && z.len() == out.len());
    let flush = _mm256_set1_pd(EXP_FLUSH);
    let log2e = _mm256_set1_pd(EXP_LOG2E);
    let shifter = _mm256_set1_pd(EXP_SHIFTER);
    let shifter_bits = _mm256_set1_epi64x(EXP_SHIFTER.to_bits() as i64);
    let bias = _mm256_set1_epi64x(1023);
    let (ln2_hi, ln2_lo) = (_mm256_set1_pd(EXP_LN2_HI), _mm256_set1_pd(EXP_LN2_LO));
    let top = _mm256_set1_pd(EXP_TOP);
    let horner: [__m256d; 13] = std::array::from_fn(|i| _mm256_set1_pd(EXP_HORNER[i]));
    let sign = _mm256_set1_pd(-0.0);
    for i in 0..out.len() {
        let (vx, vy, vz) = (
            _mm256_set1_pd(x[i]),
            _mm256_set1_pd(y[i]),
            _mm256_set1_pd(z[i] as f64),
        );
        let mut acc = _mm256_setzero_pd();
        for e in (0..n).step_by(LANES) {
            let ve = _mm256_add_pd(
                _mm256_add_pd(
                    _mm256_mul_pd(_mm256_loadu_pd(a.as_ptr().add(e)), vx),
                    _mm256_mul_pd(_mm256_loadu_pd(b.as_ptr().add(e)), vy),
                ),
                _mm256_mul_pd(_mm256_loadu_pd(c.as_ptr().add(e)), vz),
            );
            // −(…): flip the sign bit, as the portable negation does
            let ex = _mm256_xor_pd(ve, sign);
            let is_flushed = _mm256_cmp_pd::<_CMP_LT_OQ>(ex, flush);
            // `x.max(EXP_FLUSH)`: Rust's f64::max returns the non-NaN operand; inputs here
            // are never NaN, where maxpd agrees
            let ex = _mm256_max_pd(ex, flush);
            let t = _mm256_add_pd(_mm256_mul_pd(ex, log2e), shifter);
            let k = _mm256_sub_pd(t, shifter);
            let r = _mm256_sub_pd(
                _mm256_sub_pd(ex, _mm256_mul_pd(k, ln2_hi)),
                _mm256_mul_pd(k, ln2_lo),
            );
            let mut p = top;
            for &h in &horner {
                p = _mm256_add_pd(_mm256_mul_pd(p, r), h);
            }
            let kbits = _mm256_sub_epi64(_mm256_castpd_si256(t), shifter_bits);
            let scale = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_add_epi64(kbits, bias)));
            let v = _mm256_andnot_pd(is_flushed, _mm256_mul_pd(p, scale));
            acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(f.as_ptr().add(e)), v));
        }
        let mut l = [0.0f64; 4];
        _mm256_storeu_pd(l.as_mut_ptr(), acc);
        out[i] = (l[0] + l[1]) + (l[2] + l[3]);
    }
}

#[cfg(test)]
mod tests {
    use crate::materials::Material;
    use crate::spectrum::{water_bone_rows, Spectrum, Transmission3};
    use rand::Rng;

    #[test]
    fn avx2_spectral_sum_equals_portable_bitwise() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path is exercised");
            return;
        }
        let rows = water_bone_rows(&Spectrum::clinical_120kvp(), Material::Titanium);
        let t = Transmission3::new(&rows);
        let mut rng = artefact_core::Seed::from_u64(5).rng();
        // zeros, ordinary paths and paths long enough to flush some energies to 0
        let n = 2000;
        let x: Vec<f64> = (0..n)
            .map(|i| match i % 7 {
                0 => 0.0,
                // long enough to flush the soft energies (and, at 10⁵, all of them)
                1 => 3e4 + rng.random::<f64>() * 1e4,
                2 if i % 5 == 0 => 1e5,
                _ => rng.random::<f64>() * 600.0,
            })
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    0.0
                } else {
                    rng.random::<f64>() * 200.0
                }
            })
            .collect();
        let z: Vec<f32> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    0.0
                } else {
                    rng.random::<f32>() * 3000.0
                }
            })
            .collect();
        let mut fast = vec![0.0; n];
        // SAFETY: AVX2 checked above
        unsafe { super::row_avx2(t.columns(), &x, &y, &z, &mut fast) };
        let mut flushed = 0;
        for i in 0..n {
            let portable = t.at(x[i], y[i], z[i] as f64);
            assert_eq!(
                fast[i].to_bits(),
                portable.to_bits(),
                "{i}: {} vs {portable}",
                fast[i]
            );
            flushed += usize::from(portable == 0.0);
        }
        assert!(flushed > 0 && flushed < n, "{flushed}");
    }
}
