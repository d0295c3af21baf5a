//! The Otsu histogram bin loop, shared by its portable caller in `stats` and its AVX2 build in
//! `simd` (the same source compiled twice), so that neither imports the other.

/// Number of histogram bins of the Otsu threshold.
pub(crate) const OTSU_BINS: usize = 256;

#[inline(always)]
pub(crate) fn otsu_bins_impl(block: &[f32], lo: f32, scale: f64, bins: &mut [u32]) {
    for (b, &v) in bins.iter_mut().zip(block) {
        let f = ((v - lo) as f64) * scale;
        // clamp before converting: `as i32` saturates (scalar code), while a value in
        // [0, 255] converts exactly without it; the same bin as `(f as i32).min(255)`
        // for every finite v ≥ lo (f ≥ 0), NaN and ±∞ are replaced below
        let f = if f > 0.0 { f } else { 0.0 };
        let f = if f < (OTSU_BINS - 1) as f64 {
            f
        } else {
            (OTSU_BINS - 1) as f64
        };
        // SAFETY: f is in [0, 255] (a NaN fails `f > 0.0` and became 0)
        let i = unsafe { f.to_int_unchecked::<i32>() } as u32;
        *b = if v.abs() < f32::INFINITY {
            i
        } else {
            OTSU_BINS as u32
        };
    }
}
