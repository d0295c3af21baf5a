//! AVX2 kernel of the trilinear span loop of [`crate::resample`] (x86-64 only): the same f32
//! operations in the same order as its portable twin, so the same bytes (tested below).

use std::arch::x86_64::*;

/// AVX2 form of the portable span loop, 8 voxels per pass. The neighbours of each voxel
/// are read as four (x, x + 1) pairs with 64-bit loads and transposed in registers (no
/// `vgatherdps`, which is slow on several x86 cores); offsets and weights are computed 8
/// lanes at a time; the interpolation uses the same f32 operations in the same order as
/// the portable loop (no FMA), so the bytes are the same. Returns the number of leading
/// voxels written (a multiple of 8); the caller finishes the rest.
///
/// # Safety
/// AVX2 must be available, `src.len()` must be the product of `sdims`, and every
/// voxel's eight neighbours must lie inside `src`.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn trilinear_span(
    src: &[f32],
    sdims: [usize; 3],
    start: [i64; 3],
    step: [i64; 3],
    out: &mut [f32],
) -> usize {
    let (s0, s1) = (sdims[1] * sdims[2], sdims[2]);
    let blocks = out.len() / 8;
    // 64-bit coordinates of voxels {0, 1, 4, 5} (`lo`) and {2, 3, 6, 7} (`hi`) of a block:
    // taking the high (integer) or low (fraction) 32-bit halves of lo and hi with one
    // in-lane shuffle then gives voxels 0..8 in order
    let lanes = |a: usize, idx: [i64; 4]| {
        _mm256_set_epi64x(
            start[a] + idx[3] * step[a],
            start[a] + idx[2] * step[a],
            start[a] + idx[1] * step[a],
            start[a] + idx[0] * step[a],
        )
    };
    let mut lo = [0, 1, 2].map(|a| lanes(a, [0, 1, 4, 5]));
    let mut hi = [0, 1, 2].map(|a| lanes(a, [2, 3, 6, 7]));
    let adv = [0, 1, 2].map(|a| _mm256_set1_epi64x(8 * step[a]));
    let scale = _mm256_set1_ps(1.0 / 16_777_216.0);
    let (vs0, vs1) = (_mm256_set1_epi32(s0 as i32), _mm256_set1_epi32(s1 as i32));
    let base = src.as_ptr();
    let clamp = src.len() - 1 - s0 - s1;
    let lerp =
        |u: __m256, v: __m256, t: __m256| _mm256_add_ps(u, _mm256_mul_ps(_mm256_sub_ps(v, u), t));
    let mut offs = [0i32; 8];
    for blk in 0..blocks {
        {
            // prefetch the four source rows 16 voxels on (a hint; clamped into `src`)
            let t = (blk * 8 + 16) as i64;
            let at = |a: usize| ((start[a] + t * step[a]) >> 32) as usize;
            let oa = at(0)
                .wrapping_mul(s0)
                .wrapping_add(at(1).wrapping_mul(s1))
                .wrapping_add(at(2))
                .min(clamp);
            for o in [oa, oa + s1, oa + s0, oa + s0 + s1] {
                _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(o) as *const i8);
            }
        }
        let mut int = [_mm256_setzero_si256(); 3];
        let mut w = [_mm256_setzero_ps(); 3];
        for a in 0..3 {
            let (l, h) = (_mm256_castsi256_ps(lo[a]), _mm256_castsi256_ps(hi[a]));
            int[a] = _mm256_castps_si256(_mm256_shuffle_ps::<0b11_01_11_01>(l, h));
            let frac = _mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(l, h));
            w[a] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<8>(frac)), scale);
            lo[a] = _mm256_add_epi64(lo[a], adv[a]);
            hi[a] = _mm256_add_epi64(hi[a], adv[a]);
        }
        let o = _mm256_add_epi32(
            _mm256_add_epi32(
                _mm256_mullo_epi32(int[0], vs0),
                _mm256_mullo_epi32(int[1], vs1),
            ),
            int[2],
        );
        _mm256_storeu_si256(offs.as_mut_ptr() as *mut __m256i, o);
        // (left, right) neighbours of the 8 voxels in the row `row_off` away
        let pairs = |row_off: usize| {
            let pair = |v: usize| {
                let p = base.add(offs[v] as usize + row_off) as *const i64;
                std::ptr::read_unaligned(p)
            };
            // [l0 r0 l1 r1 | l4 r4 l5 r5] and [l2 r2 l3 r3 | l6 r6 l7 r7]
            let a = _mm256_castsi256_ps(_mm256_set_epi64x(pair(5), pair(4), pair(1), pair(0)));
            let b = _mm256_castsi256_ps(_mm256_set_epi64x(pair(7), pair(6), pair(3), pair(2)));
            (
                _mm256_shuffle_ps::<0b10_00_10_00>(a, b),
                _mm256_shuffle_ps::<0b11_01_11_01>(a, b),
            )
        };
        let (l, r) = pairs(0);
        let c00 = lerp(l, r, w[2]);
        let (l, r) = pairs(s1);
        let c01 = lerp(l, r, w[2]);
        let (l, r) = pairs(s0);
        let c10 = lerp(l, r, w[2]);
        let (l, r) = pairs(s0 + s1);
        let c11 = lerp(l, r, w[2]);
        let c0 = lerp(c00, c01, w[1]);
        let c1 = lerp(c10, c11, w[1]);
        _mm256_storeu_ps(out.as_mut_ptr().add(blk * 8), lerp(c0, c1, w[0]));
    }
    blocks * 8
}

#[cfg(test)]
mod tests {
    use crate::resample::{trilinear_span_portable, FIX_ONE};

    #[test]
    fn avx2_trilinear_span_gives_the_portable_bytes() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        let sdims = [23usize, 29, 31];
        let src: Vec<f32> = (0..sdims.iter().product::<usize>())
            .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 37.0 - 5.0)
            .collect();
        let fix = |v: f64| (v * FIX_ONE).round() as i64;
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cases = 0;
        while cases < 400 {
            // random start and step (some exactly axis-aligned or zero); keep spans whose
            // two ends, and so every sample, have all neighbours inside
            let n = 1 + (next() * 45.0) as usize;
            let start = [0, 1, 2].map(|a| next() * (sdims[a] as f64 - 1.0));
            let step = [0, 1, 2].map(|a| match (cases % 5, a) {
                (0, 2) => 1.0,
                (0, _) | (1, 0) => 0.0,
                _ => (next() - 0.5) * 1.6,
            });
            let inside = (0..3).all(|a| {
                [0.0, (n - 1) as f64].iter().all(|&t| {
                    let p = start[a] + t * step[a];
                    p >= 0.0 && p < sdims[a] as f64 - 1.0 - 1e-6
                })
            });
            if !inside {
                continue;
            }
            cases += 1;
            let (st, sp) = (start.map(fix), step.map(fix));
            let mut want = vec![0.0f32; n];
            trilinear_span_portable(&src, sdims, st, sp, 0, &mut want);
            let mut got = vec![0.0f32; n];
            // SAFETY: AVX2 checked above; every sample's neighbours are inside the source
            let done = unsafe { super::trilinear_span(&src, sdims, st, sp, &mut got) };
            assert_eq!(done, n / 8 * 8);
            trilinear_span_portable(&src, sdims, st, sp, done, &mut got);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&want),
                bits(&got),
                "start {start:?} step {step:?} n {n}"
            );
        }
    }
}
