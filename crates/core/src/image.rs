//! Grey images and volumes with physical geometry.
//!
//! Array-axis order everywhere: a [`Volume`] is `(slices, rows, cols)`, an [`Image`] is
//! `(rows, cols)`; `spacing[a]` is the voxel size in mm along array axis `a`.

use crate::{CoreError, Result};
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Imaging modality of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modality {
    /// X-ray computed tomography.
    #[serde(rename = "CT")]
    Ct,
    /// Magnetic resonance.
    #[serde(rename = "MR")]
    Mr,
    /// Ultrasound (B-mode).
    #[serde(rename = "US")]
    Us,
    /// Photographic modalities without a more specific variant (e.g. dermoscopy, or a
    /// photograph of unknown kind).
    #[serde(rename = "photo")]
    Photo,
    /// Fundus photography (DICOM `OP`, ophthalmic photography).
    #[serde(rename = "OP")]
    Fundus,
    /// Endoscopy (DICOM `ES`).
    #[serde(rename = "ES")]
    Endoscopy,
    /// Histopathology, whole-slide or tile microscopy (DICOM `SM`, slide microscopy).
    #[serde(rename = "SM")]
    Histopathology,
    /// Anything else (e.g. a DICOM modality artefact does not simulate).
    #[serde(rename = "other")]
    Other,
}

impl Modality {
    /// Short code used in manifests (`CT`, `MR`, `US`, `OP`, `ES`, `SM`, `photo`, `other`;
    /// the photographic codes are DICOM's).
    pub fn code(self) -> &'static str {
        match self {
            Modality::Ct => "CT",
            Modality::Mr => "MR",
            Modality::Us => "US",
            Modality::Photo => "photo",
            Modality::Fundus => "OP",
            Modality::Endoscopy => "ES",
            Modality::Histopathology => "SM",
            Modality::Other => "other",
        }
    }

    /// Human name used in question text ("CT", "MRI", "ultrasound", …).
    pub fn display_name(self) -> &'static str {
        match self {
            Modality::Ct => "CT",
            Modality::Mr => "MRI",
            Modality::Us => "ultrasound",
            Modality::Photo => "photograph",
            Modality::Fundus => "fundus photography",
            Modality::Endoscopy => "endoscopy",
            Modality::Histopathology => "histopathology",
            Modality::Other => "medical",
        }
    }

    /// Map a DICOM Modality (0008,0060) code.
    pub fn from_dicom(code: &str) -> Modality {
        match code.trim().to_ascii_uppercase().as_str() {
            "CT" => Modality::Ct,
            "MR" => Modality::Mr,
            "US" => Modality::Us,
            "OP" => Modality::Fundus,
            "ES" => Modality::Endoscopy,
            "SM" => Modality::Histopathology,
            "XC" | "GM" => Modality::Photo,
            _ => Modality::Other,
        }
    }

    /// The unit a loader should assign to this modality's stored values.
    pub fn natural_unit(self) -> Unit {
        match self {
            Modality::Ct => Unit::Hu,
            Modality::Us => Unit::Echogenicity,
            Modality::Photo | Modality::Fundus | Modality::Endoscopy | Modality::Histopathology => {
                Unit::Colour8
            }
            Modality::Mr | Modality::Other => Unit::Arbitrary,
        }
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Modality {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ct" => Ok(Modality::Ct),
            "mr" | "mri" => Ok(Modality::Mr),
            "us" | "ultrasound" => Ok(Modality::Us),
            "photo" => Ok(Modality::Photo),
            "op" | "fundus" => Ok(Modality::Fundus),
            "es" | "endoscopy" => Ok(Modality::Endoscopy),
            "sm" | "histopathology" | "histo" => Ok(Modality::Histopathology),
            "other" => Ok(Modality::Other),
            _ => Err(format!(
                "unknown modality `{s}` (allowed: CT, MR, US, OP or fundus, ES or endoscopy, \
                 SM or histopathology, photo, other)"
            )),
        }
    }
}

/// Physical meaning of the stored intensities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Hounsfield units (CT after Rescale Slope/Intercept).
    Hu,
    /// Arbitrary scanner units (MR magnitude, unscaled grey).
    Arbitrary,
    /// Ultrasound echogenicity in `[0, 1]`.
    Echogenicity,
    /// 8-bit colour/grey levels `0..=255`.
    Colour8,
    /// Linear light relative to display white (`0` black, `1` white; see [`crate::colour`]).
    LinearLight,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Hu => "HU",
            Unit::Arbitrary => "arbitrary",
            Unit::Echogenicity => "echogenicity",
            Unit::Colour8 => "8-bit",
            Unit::LinearLight => "linear light",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 2-D grey slice with pixel spacing.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Pixel values, shape `(rows, cols)`.
    pub data: Array2<f32>,
    /// Pixel size in mm, `[row spacing, column spacing]` (i.e. along axis 0, axis 1).
    pub spacing: [f64; 2],
    pub modality: Modality,
    pub unit: Unit,
}

impl Image {
    /// A new image; spacing must be finite and positive.
    pub fn new(
        data: Array2<f32>,
        spacing: [f64; 2],
        modality: Modality,
        unit: Unit,
    ) -> Result<Self> {
        check_spacing(&spacing)?;
        if data.is_empty() {
            return Err(CoreError::Shape(format!(
                "image has a zero-sized axis: {:?}",
                data.dim()
            )));
        }
        Ok(Image {
            data,
            spacing,
            modality,
            unit,
        })
    }

    pub fn rows(&self) -> usize {
        self.data.nrows()
    }

    pub fn cols(&self) -> usize {
        self.data.ncols()
    }

    pub fn shape(&self) -> (usize, usize) {
        self.data.dim()
    }

    /// Same geometry and labels, new pixel data (must have the same shape).
    pub fn with_data(&self, data: Array2<f32>) -> Result<Image> {
        if data.dim() != self.data.dim() {
            return Err(CoreError::Shape(format!(
                "new data {:?} differs from image shape {:?}",
                data.dim(),
                self.data.dim()
            )));
        }
        Ok(Image {
            data,
            spacing: self.spacing,
            modality: self.modality,
            unit: self.unit,
        })
    }

    /// Minimum and maximum of finite values (`None` when there are none).
    pub fn finite_range(&self) -> Option<(f32, f32)> {
        match self.data.as_slice_memory_order() {
            Some(s) => finite_range_slice(s),
            None => finite_range(self.data.iter().copied()),
        }
    }

    /// Fraction of pixels strictly above `threshold`.
    pub fn foreground_fraction(&self, threshold: f32) -> f64 {
        let n = self.data.len();
        let above = self.data.iter().filter(|&&v| v > threshold).count();
        above as f64 / n as f64
    }

    /// Otsu's threshold over a 256-bin histogram of the finite values (None if constant).
    pub fn otsu_threshold(&self) -> Option<f32> {
        match self.data.as_slice_memory_order() {
            Some(s) => otsu_threshold_slice(s),
            None => otsu_threshold(self.data.iter().copied()),
        }
    }

    /// Foreground fraction with Otsu's threshold (0 for a constant image).
    pub fn foreground_fraction_otsu(&self) -> f64 {
        match self.otsu_threshold() {
            Some(t) => self.foreground_fraction(t),
            None => 0.0,
        }
    }
}

/// A 3-D grey volume with spacing and affine.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    /// Voxel values, shape `(slices, rows, cols)`.
    pub data: Array3<f32>,
    /// Voxel size in mm along array axes `(0, 1, 2)`.
    pub spacing: [f64; 3],
    /// Voxel `(i, j, k, 1)` = `(col, row, slice, 1)` → RAS+ world mm (NIfTI convention).
    pub affine: [[f64; 4]; 4],
    pub modality: Modality,
    pub unit: Unit,
}

impl Volume {
    /// A new volume with an axis-aligned affine built from `spacing` (origin at voxel 0).
    pub fn new(
        data: Array3<f32>,
        spacing: [f64; 3],
        modality: Modality,
        unit: Unit,
    ) -> Result<Self> {
        check_spacing(&spacing)?;
        let affine = diagonal_affine(spacing);
        Volume::with_affine(data, spacing, affine, modality, unit)
    }

    /// A new volume with an explicit affine.
    pub fn with_affine(
        data: Array3<f32>,
        spacing: [f64; 3],
        affine: [[f64; 4]; 4],
        modality: Modality,
        unit: Unit,
    ) -> Result<Self> {
        check_spacing(&spacing)?;
        if data.is_empty() {
            return Err(CoreError::Shape(format!(
                "volume has a zero-sized axis: {:?}",
                data.dim()
            )));
        }
        if affine.iter().flatten().any(|v| !v.is_finite()) {
            return Err(CoreError::Invalid("affine has non-finite entries".into()));
        }
        Ok(Volume {
            data,
            spacing,
            affine,
            modality,
            unit,
        })
    }

    pub fn shape(&self) -> (usize, usize, usize) {
        self.data.dim()
    }

    /// Extract slice `index` perpendicular to array axis `axis` (0, 1 or 2).
    ///
    /// The remaining two axes keep their order: axis 0 gives `(rows, cols)`, axis 1 gives
    /// `(slices, cols)`, axis 2 gives `(slices, rows)`. No display flips are applied.
    pub fn slice(&self, axis: usize, index: usize) -> Result<Image> {
        if axis > 2 {
            return Err(CoreError::Invalid(format!(
                "slice axis must be 0, 1 or 2, got {axis}"
            )));
        }
        let n = self.data.len_of(Axis(axis));
        if index >= n {
            return Err(CoreError::Invalid(format!(
                "slice index {index} out of range for axis {axis} of length {n}"
            )));
        }
        let data = self.data.index_axis(Axis(axis), index).to_owned();
        let spacing = match axis {
            0 => [self.spacing[1], self.spacing[2]],
            1 => [self.spacing[0], self.spacing[2]],
            _ => [self.spacing[0], self.spacing[1]],
        };
        Image::new(data, spacing, self.modality, self.unit)
    }

    /// Number of slices along `axis`.
    pub fn len_of(&self, axis: usize) -> usize {
        self.data.len_of(Axis(axis.min(2)))
    }

    /// World (RAS+ mm) position of a voxel given in array-axis order `(slice, row, col)`.
    pub fn world(&self, idx: [f64; 3]) -> [f64; 3] {
        let ijk = [idx[2], idx[1], idx[0], 1.0];
        let mut out = [0.0; 3];
        for (r, o) in out.iter_mut().enumerate() {
            *o = (0..4).map(|c| self.affine[r][c] * ijk[c]).sum();
        }
        out
    }

    pub fn finite_range(&self) -> Option<(f32, f32)> {
        finite_range(self.data.iter().copied())
    }
}

/// Affine `(i, j, k) → mm` for axis-aligned voxels, spacing given in array-axis order.
pub fn diagonal_affine(spacing: [f64; 3]) -> [[f64; 4]; 4] {
    [
        [spacing[2], 0.0, 0.0, 0.0],
        [0.0, spacing[1], 0.0, 0.0],
        [0.0, 0.0, spacing[0], 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

fn check_spacing(spacing: &[f64]) -> Result<()> {
    if spacing.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(CoreError::Invalid(format!(
            "voxel spacing must be finite and positive, got {spacing:?} mm"
        )));
    }
    Ok(())
}

fn finite_range(values: impl Iterator<Item = f32>) -> Option<(f32, f32)> {
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
fn finite_range_slice(values: &[f32]) -> Option<(f32, f32)> {
    let (lanes, rest) = match min_max_lanes(values) {
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
/// remainder; `None` if a chunk holds a non-finite value.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::type_complexity)]
fn min_max_lanes(values: &[f32]) -> Option<([(f32, f32); 8], &[f32])> {
    use std::arch::x86_64::*;
    let mut chunks = values.chunks_exact(8);
    let (mut lo, mut hi) = ([0f32; 8], [0f32; 8]);
    // SAFETY: SSE2 is part of the x86-64 baseline; the loads read the 8 f32 of a chunk and the
    // stores write 4 f32 into each half of 8-element arrays
    let bad = unsafe {
        let exp = _mm_set1_epi32(0x7f80_0000);
        let (mut lo0, mut lo1) = (_mm_set1_ps(f32::INFINITY), _mm_set1_ps(f32::INFINITY));
        let (mut hi0, mut hi1) = (
            _mm_set1_ps(f32::NEG_INFINITY),
            _mm_set1_ps(f32::NEG_INFINITY),
        );
        let mut bad = _mm_setzero_si128();
        for c in &mut chunks {
            let (a, b) = (_mm_loadu_ps(c.as_ptr()), _mm_loadu_ps(c.as_ptr().add(4)));
            let ea = _mm_and_si128(_mm_castps_si128(a), exp);
            let eb = _mm_and_si128(_mm_castps_si128(b), exp);
            bad = _mm_or_si128(
                bad,
                _mm_or_si128(_mm_cmpeq_epi32(ea, exp), _mm_cmpeq_epi32(eb, exp)),
            );
            // minps(x, m) = x < m ? x : m, maxps(x, m) = x > m ? x : m
            lo0 = _mm_min_ps(a, lo0);
            lo1 = _mm_min_ps(b, lo1);
            hi0 = _mm_max_ps(a, hi0);
            hi1 = _mm_max_ps(b, hi1);
        }
        _mm_storeu_ps(lo.as_mut_ptr(), lo0);
        _mm_storeu_ps(lo.as_mut_ptr().add(4), lo1);
        _mm_storeu_ps(hi.as_mut_ptr(), hi0);
        _mm_storeu_ps(hi.as_mut_ptr().add(4), hi1);
        _mm_movemask_epi8(bad) != 0
    };
    (!bad).then(|| (std::array::from_fn(|k| (lo[k], hi[k])), chunks.remainder()))
}

/// Portable [`min_max_lanes`].
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

const OTSU_BINS: usize = 256;

/// Otsu's threshold over a 256-bin histogram of the finite values (None if constant).
fn otsu_threshold(values: impl Iterator<Item = f32> + Clone) -> Option<f32> {
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
fn otsu_threshold_slice(values: &[f32]) -> Option<f32> {
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
fn otsu_bins(block: &[f32], lo: f32, scale: f64, bins: &mut [u32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 && crate::simd::avx2_available() {
        // SAFETY: the CPU has AVX2 (checked above)
        return unsafe { otsu_bins_avx2(block, lo, scale, bins) };
    }
    let _ = avx2;
    otsu_bins_impl(block, lo, scale, bins)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn otsu_bins_avx2(block: &[f32], lo: f32, scale: f64, bins: &mut [u32]) {
    otsu_bins_impl(block, lo, scale, bins)
}

#[inline(always)]
fn otsu_bins_impl(block: &[f32], lo: f32, scale: f64, bins: &mut [u32]) {
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

    /// The AVX2 build of the bin loop gives the portable bins (tails, non-finite values,
    /// values on and next to bin edges, an overflowing range).
    #[test]
    fn avx2_otsu_bins_match_the_portable_loop() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path exists");
            return;
        }
        let mut v: Vec<f32> = (0..1031)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.255 - 1.0)
            .collect();
        v[3] = f32::NAN;
        v[10] = f32::INFINITY;
        v[11] = f32::NEG_INFINITY;
        for (lo, hi) in [(-1.0f32, 253.745f32), (0.0, 255.0), (-3e38, 3e38)] {
            let scale = (OTSU_BINS as f64) / ((hi - lo) as f64);
            for n in [0usize, 1, 3, 4, 5, 8, 13, 1031] {
                let (mut a, mut b) = (vec![0u32; n], vec![7u32; n]);
                otsu_bins(&v[..n], lo, scale, &mut a, false);
                otsu_bins(&v[..n], lo, scale, &mut b, true);
                assert_eq!(a, b, "lo {lo} n {n}");
            }
        }
    }

    use ndarray::Array3;

    fn ramp_volume() -> Volume {
        let data = Array3::from_shape_fn((4, 5, 6), |(k, j, i)| (100 * k + 10 * j + i) as f32);
        Volume::new(data, [3.0, 2.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
    }

    #[test]
    fn slices_along_each_axis_keep_values_and_spacing() {
        let v = ramp_volume();
        let s0 = v.slice(0, 2).unwrap();
        assert_eq!(s0.shape(), (5, 6));
        assert_eq!(s0.data[[3, 4]], 234.0);
        assert_eq!(s0.spacing, [2.0, 1.0]);
        let s1 = v.slice(1, 3).unwrap();
        assert_eq!(s1.shape(), (4, 6));
        assert_eq!(s1.data[[2, 5]], 235.0);
        assert_eq!(s1.spacing, [3.0, 1.0]);
        let s2 = v.slice(2, 1).unwrap();
        assert_eq!(s2.shape(), (4, 5));
        assert_eq!(s2.data[[1, 4]], 141.0);
        assert_eq!(s2.spacing, [3.0, 2.0]);
        assert!(v.slice(3, 0).is_err());
        assert!(v.slice(0, 4).is_err());
    }

    #[test]
    fn affine_maps_ijk_to_mm() {
        let v = ramp_volume();
        assert_eq!(v.world([1.0, 2.0, 3.0]), [3.0, 4.0, 3.0]);
    }

    #[test]
    fn rejects_bad_geometry() {
        let d = Array2::<f32>::zeros((2, 2));
        assert!(Image::new(d.clone(), [0.0, 1.0], Modality::Ct, Unit::Hu).is_err());
        assert!(Image::new(d, [f64::NAN, 1.0], Modality::Ct, Unit::Hu).is_err());
        assert!(Image::new(Array2::zeros((0, 3)), [1.0, 1.0], Modality::Ct, Unit::Hu).is_err());
    }

    #[test]
    fn foreground_fraction_with_otsu() {
        // 25 % bright square on a dark background with a little texture
        let data = Array2::from_shape_fn((40, 40), |(r, c)| {
            let base = if r < 20 && c < 20 { 100.0 } else { 0.0 };
            base + ((r * 7 + c * 3) % 5) as f32
        });
        let img = Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap();
        let t = img.otsu_threshold().unwrap();
        assert!(t > 4.0 && t < 100.0, "threshold {t}");
        assert!((img.foreground_fraction_otsu() - 0.25).abs() < 1e-12);
        let flat = Image::new(
            Array2::ones((4, 4)),
            [1.0, 1.0],
            Modality::Mr,
            Unit::Arbitrary,
        )
        .unwrap();
        assert_eq!(flat.foreground_fraction_otsu(), 0.0);
    }

    #[test]
    fn modality_codes_round_trip() {
        for m in [
            Modality::Ct,
            Modality::Mr,
            Modality::Us,
            Modality::Photo,
            Modality::Fundus,
            Modality::Endoscopy,
            Modality::Histopathology,
            Modality::Other,
        ] {
            assert_eq!(m.code().parse::<Modality>().unwrap(), m);
        }
        assert_eq!(Modality::from_dicom("OP"), Modality::Fundus);
        assert_eq!(Modality::from_dicom("es"), Modality::Endoscopy);
        assert_eq!(Modality::from_dicom("SM"), Modality::Histopathology);
        assert_eq!("fundus".parse::<Modality>().unwrap(), Modality::Fundus);
        assert_eq!(Modality::Fundus.display_name(), "fundus photography");
        assert_eq!(Modality::Histopathology.display_name(), "histopathology");
        assert_eq!(Modality::from_dicom("MR "), Modality::Mr);
        assert_eq!(Modality::from_dicom("SEG"), Modality::Other);
    }
}
