//! Statistics of grey values used by the image types: the finite value range and Otsu's
//! threshold (256-bin histogram), each with a fast slice path (independent lanes, eight
//! interleaved histograms) that gives the iterator path's result exactly. The SSE2 range
//! kernel and the AVX2 build of the Otsu bin loop are in [`crate::simd`].

pub(crate) fn finite_range(values: impl Iterator<Item = f32>) -> Option<(f32, f32)> {
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo <= hi).then_some((lo, hi))
}

/// [`finite_range`] of a slice with independent accumulators (vectorises; same result).
///
/// One pass takes the lane-wise minimum and maximum of all values with compare-and-select
/// (`x < m ? x : m`, which is `minps`: a NaN never wins) and ORs a non-finite flag (exponent
/// bits all ones) over 8 lanes; if any value is non-finite, the range is recomputed with the
/// non-finite values left out ([`finite_range_slice_filtered`], the same lanes), since an
/// infinity would otherwise win. LLVM vectorises neither loop well on its own (the selects on
/// an 8-lane array come out as shuffles), hence SSE2 intrinsics on x86-64.
pub(crate) fn finite_range_slice(values: &[f32]) -> Option<(f32, f32)> {
    #[cfg(target_arch = "x86_64")]
    let lanes = crate::simd::min_max_lanes_sse2(values);
    #[cfg(not(target_arch = "x86_64"))]
    let lanes = min_max_lanes(values);
    let (lanes, rest) = match lanes {
        Some(r) => r,
        None => return finite_range_slice_filtered(values),
    };
    let (mut l, mut h) = (f32::INFINITY, f32::NEG_INFINITY);
    for (lo, hi) in lanes {
        l = l.min(lo);
        h = h.max(hi);
    }
    for &v in rest.iter().filter(|v| v.is_finite()) {
        l = l.min(v);
        h = h.max(v);
    }
    (l <= h).then_some((l, h))
}

/// Lane-wise `(min, max)` over the 8-value chunks of a slice of finite values, and the
/// remainder; `None` if a chunk holds a non-finite value. Portable twin of
/// `crate::simd::min_max_lanes_sse2` (used instead on x86-64; same result, tested there).
#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::type_complexity)]
fn min_max_lanes(values: &[f32]) -> Option<([(f32, f32); 8], &[f32])> {
    let mut lanes = [(f32::INFINITY, f32::NEG_INFINITY); 8];
    let mut bad = 0u32;
    let mut chunks = values.chunks_exact(8);
    for c in &mut chunks {
        for ((l, h), &v) in lanes.iter_mut().zip(c) {
            bad |= ((v.to_bits() & 0x7f80_0000) == 0x7f80_0000) as u32;
            *l = if v < *l { v } else { *l };
            *h = if v > *h { v } else { *h };
        }
    }
    (bad == 0).then_some((lanes, chunks.remainder()))
}

/// [`finite_range_slice`] for slices with non-finite values (the same lanes; these become
/// the neutral element of each side).
fn finite_range_slice_filtered(values: &[f32]) -> Option<(f32, f32)> {
    const L: usize = 8;
    let (mut lo, mut hi) = ([f32::INFINITY; L], [f32::NEG_INFINITY; L]);
    let mut chunks = values.chunks_exact(L);
    for c in &mut chunks {
        for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(c) {
            let f = (v.to_bits() & 0x7f80_0000) != 0x7f80_0000;
            let a = if f { v } else { f32::INFINITY };
            let b = if f { v } else { f32::NEG_INFINITY };
            *l = if a < *l { a } else { *l };
            *h = if b > *h { b } else { *h };
        }
    }
    let (mut l, mut h) = (f32::INFINITY, f32::NEG_INFINITY);
    for k in 0..L {
        l = l.min(lo[k]);
        h = h.max(hi[k]);
    }
    for &v in chunks.remainder().iter().filter(|v| v.is_finite()) {
        l = l.min(v);
        h = h.max(v);
    }
    (l <= h).then_some((l, h))
}

pub(crate) use crate::otsu_kernel::{otsu_bins_impl, OTSU_BINS};

/// Otsu's threshold over a 256-bin histogram of the finite values (None if constant).
pub(crate) fn otsu_threshold(values: impl Iterator<Item = f32> + Clone) -> Option<f32> {
    let (lo, hi) = finite_range(values.clone())?;
    if hi <= lo {
        return None;
    }
    let mut hist = [0u64; OTSU_BINS];
    let scale = (OTSU_BINS as f64) / ((hi - lo) as f64);
    for v in values.filter(|v| v.is_finite()) {
        let b = (((v - lo) as f64) * scale) as usize;
        hist[b.min(OTSU_BINS - 1)] += 1;
    }
    Some(otsu_from_histogram(&hist, lo, scale))
}

/// [`otsu_threshold`] of a slice: the same bins, counted into eight interleaved histograms so
/// that runs of equal values (the zero background of a slice) do not serialise on one counter.
pub(crate) fn otsu_threshold_slice(values: &[f32]) -> Option<f32> {
    let (lo, hi) = finite_range_slice(values)?;
    if hi <= lo {
        return None;
    }
    let scale = (OTSU_BINS as f64) / ((hi - lo) as f64);
    // bins of a block first (vectorises), then the counts; non-finite values go to an extra
    // bin that is dropped. Eight interleaved u32 histograms (each index masked to the table,
    // so no bounds checks), flushed into `hist` every 2²⁴ values.
    const SUB: usize = 8;
    const TABLE: usize = 512; // ≥ OTSU_BINS + 1, a power of two
    let mut hist = [0u64; OTSU_BINS];
    let mut sub = [[0u32; TABLE]; SUB];
    let mut bins = [0u32; 1024];
    let avx2 = crate::simd::avx2();
    for part in values.chunks(1 << 24) {
        for block in part.chunks(1024) {
            otsu_bins(block, lo, scale, &mut bins[..block.len()], avx2);
            let bins = &bins[..block.len()];
            // runs of one bin (the background of a slice) are counted 16 at a time: a long
            // run would otherwise be a chain of increments of the same counters
            let mut q = bins.chunks_exact(2 * SUB);
            for c in &mut q {
                let b0 = c[0];
                if c.iter().fold(0, |acc, &b| acc | (b ^ b0)) == 0 {
                    sub[0][b0 as usize & (TABLE - 1)] += (2 * SUB) as u32;
                    continue;
                }
                for c in c.chunks_exact(SUB) {
                    for (h, &b) in sub.iter_mut().zip(c) {
                        h[b as usize & (TABLE - 1)] += 1;
                    }
                }
            }
            for &b in q.remainder() {
                sub[0][b as usize & (TABLE - 1)] += 1;
            }
        }
        for (i, h) in hist.iter_mut().enumerate() {
            *h += sub.iter().map(|s| s[i] as u64).sum::<u64>();
        }
        sub.iter_mut().for_each(|s| s.fill(0));
    }
    Some(otsu_from_histogram(&hist, lo, scale))
}

/// The Otsu bin of each value of `block` (`OTSU_BINS` for a non-finite value): the portable
/// loop, or its AVX2 build (4 f64 lanes; same operations, same bins — tested).
pub(crate) fn otsu_bins(block: &[f32], lo: f32, scale: f64, bins: &mut [u32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 && crate::simd::avx2_available() {
        // SAFETY: the CPU has AVX2 (checked above)
        return unsafe { crate::simd::otsu_bins_avx2(block, lo, scale, bins) };
    }
    let _ = avx2;
    otsu_bins_impl(block, lo, scale, bins)
}

/// The threshold maximising the between-class variance of a histogram of `[lo, hi]` in bins
/// of width `1/scale`: the upper edge of the best bin.
fn otsu_from_histogram(hist: &[u64; OTSU_BINS], lo: f32, scale: f64) -> f32 {
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &h)| i as f64 * h as f64)
        .sum();
    let (mut w0, mut sum0) = (0.0f64, 0.0f64);
    let mut best = (f64::MIN, 0usize);
    for (i, &h) in hist.iter().enumerate().take(OTSU_BINS - 1) {
        w0 += h as f64;
        sum0 += i as f64 * h as f64;
        let w1 = total as f64 - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let m0 = sum0 / w0;
        let m1 = (sum_all - sum0) / w1;
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best.0 {
            best = (between, i);
        }
    }
    lo + ((best.1 + 1) as f64 / scale) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slice paths (used for contiguous arrays) give the iterator paths' results exactly,
    /// including non-finite values, ties at the range ends and lengths not divisible by 8.
    #[test]
    fn slice_range_and_otsu_match_the_iterator_versions() {
        let mut v: Vec<f32> = (0..1003)
            .map(|i| {
                if i % 3 == 0 {
                    0.0
                } else {
                    ((i * 7919) % 1000) as f32 * 0.37 - 20.0
                }
            })
            .collect();
        v[5] = f32::NAN;
        v[17] = f32::INFINITY;
        v[1002] = -55.0;
        for n in [0usize, 1, 7, 8, 9, 100, 1003] {
            let s = &v[..n];
            assert_eq!(
                finite_range_slice(s),
                finite_range(s.iter().copied()),
                "range n={n}"
            );
            assert_eq!(
                otsu_threshold_slice(s),
                otsu_threshold(s.iter().copied()),
                "otsu n={n}"
            );
        }
    }

    /// The same on all-finite slices (the single-pass range), with the extremes in every lane
    /// and in the tail, signed zeros, and ranges so wide that `v − lo` overflows to +∞ (the
    /// clamped bin conversion); and with each kind of non-finite value inside a full chunk.
    #[test]
    fn slice_range_and_otsu_match_on_finite_and_extreme_values() {
        let base: Vec<f32> = (0..203)
            .map(|i| ((i * 37) % 101) as f32 * 1.5 - 40.0)
            .collect();
        for pos in 0..base.len() {
            for (lo, hi) in [(-1e3f32, 1e3f32), (-3.0e38, 3.0e38), (-0.0, 0.0)] {
                let mut v = base.clone();
                v[pos] = lo;
                v[(pos * 7 + 3) % base.len()] = hi;
                for n in [pos + 1, base.len()] {
                    let s = &v[..n];
                    assert_eq!(finite_range_slice(s), finite_range(s.iter().copied()));
                    assert_eq!(
                        otsu_threshold_slice(s).map(f32::to_bits),
                        otsu_threshold(s.iter().copied()).map(f32::to_bits),
                        "otsu pos={pos} n={n} lo={lo}"
                    );
                }
            }
        }
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for pos in [0usize, 3, 8, 15, 200] {
                let mut v = base.clone();
                v[pos] = bad;
                assert_eq!(
                    finite_range_slice(&v),
                    finite_range(v.iter().copied()),
                    "{bad} at {pos}"
                );
                assert_eq!(
                    otsu_threshold_slice(&v).map(f32::to_bits),
                    otsu_threshold(v.iter().copied()).map(f32::to_bits)
                );
            }
        }
    }

    /// Runs of equal values (counted 16 at a time) of every length and phase against the
    /// 16-value chunks and the 1024-value blocks give the iterator version's threshold.
    #[test]
    fn slice_otsu_matches_with_runs_of_equal_values() {
        let mut v = Vec::new();
        let mut k = 0usize;
        while v.len() < 5000 {
            let run = [1usize, 3, 15, 16, 17, 31, 32, 33, 100, 1024][k % 10];
            let value = if k % 3 == 0 {
                0.0
            } else {
                (k * 37 % 50) as f32
            };
            v.extend(std::iter::repeat_n(value, run));
            k += 1;
        }
        for n in [15usize, 16, 17, 1023, 1024, 1025, 3000, v.len()] {
            for start in [0usize, 1, 7] {
                let s = &v[start..n];
                assert_eq!(
                    otsu_threshold_slice(s).map(f32::to_bits),
                    otsu_threshold(s.iter().copied()).map(f32::to_bits),
                    "n={n} start={start}"
                );
            }
        }
    }
}
