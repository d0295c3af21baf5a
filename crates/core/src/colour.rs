//! Colour images in linear light, the sRGB transfer, luminance and field-of-view masks.
//!
//! # Model and units
//! - [`RgbImage`] holds planar `f32` data of shape `(3, rows, cols)` (channel, row, column) in
//!   **linear light** relative to display white: `0` is black, `1` is the sRGB white of an
//!   8-bit code 255 (values above 1 are allowed inside the pipeline, e.g. highlights, and are
//!   clipped only when encoded). The primaries and white point are those of sRGB
//!   (ITU-R BT.709 primaries, D65 white).
//! - `spacing` is the pixel size in **millimetres**, `[row, column]`, as for every artefact
//!   image; microscopy uses the same unit (0.5 µm/px is `5e-4` mm).
//! - The optional field-of-view mask (`true` = inside) marks where the scene was imaged: the
//!   circular field of fundus and endoscopy photographs. Simulators leave pixels outside it
//!   unchanged.
//!
//! # sRGB transfer (IEC 61966-2-1:1999, piecewise, exact constants)
//! ```text
//! decode: C = V / 12.92                      for V ≤ 0.04045
//!         C = ((V + 0.055) / 1.055)^2.4      otherwise
//! encode: V = 12.92 · C                      for C ≤ 0.0031308
//!         V = 1.055 · C^(1/2.4) − 0.055      otherwise
//! ```
//! 8-bit encoding rounds `255·V` to nearest after clamping `V` to `[0, 1]`; every 8-bit code
//! survives decode → encode (tested on all 256 codes).
//!
//! # Luminance
//! Relative luminance of linear sRGB (Rec. 709 primaries, D65):
//! `Y = 0.2126 R + 0.7152 G + 0.0722 B` (the Y row of the sRGB → XYZ matrix, IEC 61966-2-1).
//!
//! # Field-of-view detection
//! [`detect_fov`] finds the lit disc of fundus/endoscopy photographs: the per-pixel maximum of
//! the sRGB-encoded channels is thresholded at `b + 0.25·(f − b)` with `b` the 2nd and `f` the
//! 60th percentile (robust to JPEG noise in the surround and to vessels and dark lesions inside),
//! then opened (eroded and dilated) by a square of side `2r + 1`, `r` = 1 % of the shorter
//! side, so that text, logos and marks burned into the surround stay separate from the field
//! even where they touch it (strokes thinner than the square vanish; a large disc is
//! unchanged), then the largest 4-connected component is kept and its holes are filled. There is no field
//! of view to keep (`None`) when the darkest 2 % are not dark (encoded level above 0.25, as in
//! H&E), when the field reaches a corner of the frame (no surround there), or when it covers
//! more than 98 % or less than 5 % of the frame.
//!
//! # References
//! - IEC 61966-2-1:1999, Multimedia systems — Colour measurement and management — Default RGB
//!   colour space — sRGB.
//! - ITU-R BT.709-6, Parameter values for the HDTV standards (primaries, luminance weights).

use crate::{CoreError, Image, Modality, Result, Unit};
use ndarray::{Array2, Array3, ArrayView2, Axis};
use std::sync::OnceLock;

/// Luminance weights of linear sRGB / Rec. 709 (`R`, `G`, `B`).
pub const LUMA_709: [f64; 3] = [0.2126, 0.7152, 0.0722];

/// sRGB decode of one value `V ∈ [0, 1]` to linear light (IEC 61966-2-1, exact piecewise).
#[inline]
pub fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// sRGB encode of one linear value (IEC 61966-2-1, exact piecewise). Negative input gives a
/// negative output by the linear segment; callers clamp.
#[inline]
pub fn linear_to_srgb(c: f64) -> f64 {
    if c <= 0.0031308 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Encode linear light to an 8-bit sRGB code (clamped to `[0, 1]`, rounded to nearest;
/// NaN maps to 0) — the slow reference: one `powf` per value.
#[inline]
pub fn linear_to_srgb8_exact(c: f32) -> u8 {
    let c = c as f64;
    let c = if c > 0.0 { c.min(1.0) } else { 0.0 };
    (linear_to_srgb(c) * 255.0).round() as u8
}

/// Buckets of the linear range `[0, 1]` used by [`linear_to_srgb8`].
const ENCODE_BUCKETS: usize = 4096;

/// Decision thresholds of the 8-bit encoder (`t[i]` = linear value at code `i + ½`, above
/// which the code is at least `i + 1`) and, per bucket of `[0, 1]`, the code at its start.
struct EncodeTable {
    thresholds: [f64; 255],
    start: Vec<u8>,
}

fn encode_table() -> &'static EncodeTable {
    static TABLE: OnceLock<EncodeTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let thresholds: [f64; 255] =
            std::array::from_fn(|i| srgb_to_linear((i as f64 + 0.5) / 255.0));
        let start = (0..ENCODE_BUCKETS)
            .map(|b| linear_to_srgb8_exact((b as f64 / ENCODE_BUCKETS as f64) as f32))
            .collect();
        EncodeTable { thresholds, start }
    })
}

/// Encode linear light to an 8-bit sRGB code (clamped to `[0, 1]`, rounded to nearest;
/// NaN maps to 0). Equal to [`linear_to_srgb8_exact`] for every input: the code at the start
/// of the value's bucket is stepped past the decision thresholds below the value (at most two
/// steps), and a value within 1e-9 of a threshold is decided by the exact formula.
#[inline]
pub fn linear_to_srgb8(c: f32) -> u8 {
    let v = c as f64;
    if v.is_nan() || v <= 0.0 {
        return 0;
    }
    if v >= 1.0 {
        return 255;
    }
    let t = encode_table();
    let mut code = t.start[(v * ENCODE_BUCKETS as f64) as usize] as usize;
    while code < 255 && v >= t.thresholds[code] {
        if (v - t.thresholds[code]).abs() < 1e-9 {
            return linear_to_srgb8_exact(c);
        }
        code += 1;
    }
    if code < 255 && (t.thresholds[code] - v) < 1e-9 {
        return linear_to_srgb8_exact(c);
    }
    code as u8
}

/// Linear value of every 8-bit sRGB code (`srgb_to_linear(code / 255)`).
pub fn srgb8_decode_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f64 / 255.0) as f32))
}

/// A colour image in linear light with physical pixel size (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    /// Linear-light values, shape `(3, rows, cols)`: R, G, B planes.
    pub data: Array3<f32>,
    /// Pixel size in mm, `[row spacing, column spacing]`.
    pub spacing: [f64; 2],
    pub modality: Modality,
    /// Field of view (`true` = imaged), shape `(rows, cols)`; `None` = the whole frame.
    pub fov: Option<Array2<bool>>,
}

impl RgbImage {
    /// A new colour image; `data` must be `(3, rows, cols)` with non-zero sides, spacing
    /// finite and positive, and the mask (if any) `(rows, cols)`.
    pub fn new(
        data: Array3<f32>,
        spacing: [f64; 2],
        modality: Modality,
        fov: Option<Array2<bool>>,
    ) -> Result<Self> {
        let (c, r, k) = data.dim();
        if c != 3 {
            return Err(CoreError::Shape(format!(
                "a colour image needs 3 channel planes, got shape {:?}",
                data.dim()
            )));
        }
        if r == 0 || k == 0 {
            return Err(CoreError::Shape(format!(
                "colour image has a zero-sized axis: {:?}",
                data.dim()
            )));
        }
        if spacing.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return Err(CoreError::Invalid(format!(
                "pixel spacing must be finite and positive, got {spacing:?} mm"
            )));
        }
        if let Some(m) = &fov {
            if m.dim() != (r, k) {
                return Err(CoreError::Shape(format!(
                    "field-of-view mask {:?} differs from image shape {:?}",
                    m.dim(),
                    (r, k)
                )));
            }
        }
        Ok(RgbImage {
            data,
            spacing,
            modality,
            fov,
        })
    }

    /// Decode interleaved 8-bit sRGB samples (`channels` = 3 or 4 per pixel, alpha ignored;
    /// 1 or 2 = grey with optional alpha, replicated to R = G = B).
    pub fn from_srgb8(
        rows: usize,
        cols: usize,
        samples: &[u8],
        channels: usize,
        spacing: [f64; 2],
        modality: Modality,
    ) -> Result<Self> {
        let lut = srgb8_decode_table();
        Self::from_interleaved(rows, cols, samples, channels, spacing, modality, |v| {
            lut[v as usize]
        })
    }

    /// Decode interleaved 16-bit sRGB samples (code `65535` = white).
    pub fn from_srgb16(
        rows: usize,
        cols: usize,
        samples: &[u16],
        channels: usize,
        spacing: [f64; 2],
        modality: Modality,
    ) -> Result<Self> {
        Self::from_interleaved(rows, cols, samples, channels, spacing, modality, |v| {
            srgb_to_linear(v as f64 / 65535.0) as f32
        })
    }

    fn from_interleaved<T: Copy>(
        rows: usize,
        cols: usize,
        samples: &[T],
        channels: usize,
        spacing: [f64; 2],
        modality: Modality,
        decode: impl Fn(T) -> f32,
    ) -> Result<Self> {
        if !(1..=4).contains(&channels) {
            return Err(CoreError::Invalid(format!(
                "samples per pixel must be 1 to 4, got {channels}"
            )));
        }
        if samples.len() != rows * cols * channels {
            return Err(CoreError::Shape(format!(
                "{} samples do not make {rows}×{cols} pixels of {channels} channels",
                samples.len()
            )));
        }
        let mut data = Array3::<f32>::zeros((3, rows, cols));
        let n = rows * cols;
        {
            let plane = data.as_slice_mut().expect("standard layout");
            for (p, px) in samples.chunks_exact(channels).enumerate() {
                if channels >= 3 {
                    for c in 0..3 {
                        plane[c * n + p] = decode(px[c]);
                    }
                } else {
                    let v = decode(px[0]);
                    for c in 0..3 {
                        plane[c * n + p] = v;
                    }
                }
            }
        }
        RgbImage::new(data, spacing, modality, None)
    }

    /// Interleaved 8-bit sRGB samples `R G B R G B …` (row-major), clamped and rounded.
    pub fn to_srgb8(&self) -> Vec<u8> {
        let (_, r, k) = self.data.dim();
        let n = r * k;
        let mut out = vec![0u8; 3 * n];
        let std = self.data.as_standard_layout();
        let plane = std.as_slice().expect("standard layout");
        for p in 0..n {
            for c in 0..3 {
                out[3 * p + c] = linear_to_srgb8(plane[c * n + p]);
            }
        }
        out
    }

    pub fn rows(&self) -> usize {
        self.data.len_of(Axis(1))
    }

    pub fn cols(&self) -> usize {
        self.data.len_of(Axis(2))
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows(), self.cols())
    }

    /// One channel plane (0 = R, 1 = G, 2 = B).
    pub fn channel(&self, c: usize) -> ArrayView2<'_, f32> {
        self.data.index_axis(Axis(0), c.min(2))
    }

    /// Same geometry, modality and mask; new data of the same shape.
    pub fn with_data(&self, data: Array3<f32>) -> Result<RgbImage> {
        if data.dim() != self.data.dim() {
            return Err(CoreError::Shape(format!(
                "new data {:?} differs from image shape {:?}",
                data.dim(),
                self.data.dim()
            )));
        }
        Ok(RgbImage {
            data,
            spacing: self.spacing,
            modality: self.modality,
            fov: self.fov.clone(),
        })
    }

    /// Relative luminance `Y = 0.2126 R + 0.7152 G + 0.0722 B` of the linear values.
    pub fn luminance(&self) -> Array2<f32> {
        let (r, g, b) = (self.channel(0), self.channel(1), self.channel(2));
        let mut y = Array2::<f32>::zeros(self.shape());
        ndarray::Zip::from(&mut y)
            .and(&r)
            .and(&g)
            .and(&b)
            .for_each(|y, &r, &g, &b| {
                *y = (LUMA_709[0] * r as f64 + LUMA_709[1] * g as f64 + LUMA_709[2] * b as f64)
                    as f32
            });
        y
    }

    /// The grey image of the luminance, in linear light ([`Unit::LinearLight`]).
    pub fn to_grey(&self) -> Result<Image> {
        Image::new(
            self.luminance(),
            self.spacing,
            self.modality,
            Unit::LinearLight,
        )
    }

    /// A neutral colour image (R = G = B) from a grey image.
    ///
    /// - [`Unit::LinearLight`]: the values are linear light already and are copied;
    /// - any other unit: the values are sRGB-encoded codes with `white` the code of display
    ///   white (255 for 8-bit, 65535 for 16-bit sources) and are decoded to linear light.
    pub fn from_grey(img: &Image, white: f64) -> Result<RgbImage> {
        let lin: Array2<f32> = if img.unit == Unit::LinearLight {
            img.data.clone()
        } else {
            if !(white.is_finite() && white > 0.0) {
                return Err(CoreError::Invalid(format!(
                    "white code must be positive and finite, got {white}"
                )));
            }
            img.data.mapv(|v| {
                let v = (v as f64 / white).clamp(0.0, 1.0);
                srgb_to_linear(v) as f32
            })
        };
        let (r, k) = lin.dim();
        let mut data = Array3::<f32>::zeros((3, r, k));
        for c in 0..3 {
            data.index_axis_mut(Axis(0), c).assign(&lin);
        }
        RgbImage::new(data, img.spacing, img.modality, None)
    }

    /// Detect the field of view (see [`detect_fov`]) and store it; returns whether one was
    /// found.
    pub fn detect_and_set_fov(&mut self) -> bool {
        self.fov = detect_fov(self);
        self.fov.is_some()
    }

    /// Set every pixel outside the field of view to black and return how many of them were not
    /// black (0 without a mask). The surround of a fundus or endoscopy photograph holds no
    /// image of the patient, but cameras burn text into it — names, IDs, dates, eye and angle
    /// labels, logos — which must not reach a benchmark: such marks are separate from the lit
    /// field, so they are outside the mask.
    pub fn blank_outside_fov(&mut self) -> usize {
        let Some(m) = &self.fov else { return 0 };
        let mut lit = 0usize;
        for ((r, c), &inside) in m.indexed_iter() {
            if !inside {
                let mut any = false;
                for ch in 0..3 {
                    let v = &mut self.data[[ch, r, c]];
                    any |= *v != 0.0;
                    *v = 0.0;
                }
                lit += any as usize;
            }
        }
        lit
    }

    /// Whether pixel `(r, c)` is inside the field of view (always true without a mask).
    #[inline]
    pub fn in_fov(&self, r: usize, c: usize) -> bool {
        self.fov.as_ref().is_none_or(|m| m[[r, c]])
    }
}

/// Threshold position between the dark surround and the lit field (fraction of `f − b`).
const FOV_LEVEL: f64 = 0.25;
/// Percentiles of the encoded channel maximum taken as surround and field levels.
const FOV_DARK_PERCENTILE: f64 = 0.02;
const FOV_BRIGHT_PERCENTILE: f64 = 0.60;
/// Half-width of the opening's square, as a fraction of the shorter side.
const FOV_OPENING: f64 = 0.01;
/// A field is reported only if it covers between these fractions of the frame.
const FOV_MIN_FRACTION: f64 = 0.05;
const FOV_MAX_FRACTION: f64 = 0.98;
/// The surround level (2nd percentile, sRGB-encoded) must be darker than this.
const FOV_MAX_SURROUND: f64 = 0.25;

/// The field of view of a fundus/endoscopy photograph (the lit disc inside the black
/// surround), or `None` when there is no dark surround. See the module docs for the method.
pub fn detect_fov(img: &RgbImage) -> Option<Array2<bool>> {
    let (rows, cols) = img.shape();
    // per-pixel maximum of the sRGB-encoded channels (perceptual scale: the surround's JPEG
    // noise sits at a few codes, the field at tens to hundreds)
    let lut_enc = |v: f32| linear_to_srgb((v as f64).clamp(0.0, 1.0));
    let mut m = Array2::<f64>::zeros((rows, cols));
    for c in 0..3 {
        let ch = img.channel(c);
        ndarray::Zip::from(&mut m)
            .and(&ch)
            .for_each(|m, &v| *m = m.max(lut_enc(v)));
    }
    let mut sorted: Vec<f64> = m.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let (b, f) = (q(FOV_DARK_PERCENTILE), q(FOV_BRIGHT_PERCENTILE));
    if f - b < 0.05 {
        return None; // no contrast between a surround and a field
    }
    if b > FOV_MAX_SURROUND {
        return None; // nothing dark enough to be an unlit surround
    }
    let t = b + FOV_LEVEL * (f - b);
    let above = m.mapv(|v| v > t);
    let r = ((rows.min(cols) as f64 * FOV_OPENING).round() as usize).max(1);
    let above = open_square(&above, r);
    let largest = largest_component(&above)?;
    let filled = fill_holes(&largest);
    // a circular (or octagonal) field leaves the four corners in the surround
    let corners = [(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)];
    if corners.iter().any(|&(r, c)| filled[[r, c]]) {
        return None;
    }
    let frac = filled.iter().filter(|&&v| v).count() as f64 / (rows * cols) as f64;
    (FOV_MIN_FRACTION..=FOV_MAX_FRACTION)
        .contains(&frac)
        .then_some(filled)
}

/// Morphological opening of `mask` by the square of side `2r + 1`: the union of every such
/// square that fits inside it (erosion, then dilation, each a box test over a summed-area
/// table; the frame's outside counts as `false`).
pub(crate) fn open_square(mask: &Array2<bool>, r: usize) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    // sat[i][j] = number of true pixels in mask[..i, ..j]
    let sat = |m: &Array2<bool>| {
        let mut t = Array2::<u32>::zeros((rows + 1, cols + 1));
        for i in 0..rows {
            let mut run = 0u32;
            for j in 0..cols {
                run += m[[i, j]] as u32;
                t[[i + 1, j + 1]] = t[[i, j + 1]] + run;
            }
        }
        t
    };
    // count of true pixels in the box of half-width r around (i, j), clipped to the frame
    let boxed = |t: &Array2<u32>, i: usize, j: usize| {
        let (i0, i1) = (i.saturating_sub(r), (i + r + 1).min(rows));
        let (j0, j1) = (j.saturating_sub(r), (j + r + 1).min(cols));
        let n = t[[i1, j1]] + t[[i0, j0]] - t[[i0, j1]] - t[[i1, j0]];
        (n, ((i1 - i0) * (j1 - j0)) as u32)
    };
    let full = (2 * r + 1) * (2 * r + 1);
    let t = sat(mask);
    // erosion: the whole square (inside the frame) is true
    let eroded = Array2::from_shape_fn((rows, cols), |(i, j)| {
        let (n, area) = boxed(&t, i, j);
        area as usize == full && n == area
    });
    let t = sat(&eroded);
    // dilation of the eroded mask by the same square
    Array2::from_shape_fn((rows, cols), |(i, j)| boxed(&t, i, j).0 > 0)
}

/// The largest 4-connected component of `mask` (ties: the first found in raster order).
pub fn largest_component(mask: &Array2<bool>) -> Option<Array2<bool>> {
    let (rows, cols) = mask.dim();
    let mut label = Array2::<u32>::zeros((rows, cols));
    let mut best = (0usize, 0u32);
    let mut next = 0u32;
    let mut stack = Vec::new();
    for r0 in 0..rows {
        for c0 in 0..cols {
            if !mask[[r0, c0]] || label[[r0, c0]] != 0 {
                continue;
            }
            next += 1;
            let mut size = 0usize;
            label[[r0, c0]] = next;
            stack.push((r0, c0));
            while let Some((r, c)) = stack.pop() {
                size += 1;
                let mut visit = |rr: usize, cc: usize| {
                    if mask[[rr, cc]] && label[[rr, cc]] == 0 {
                        label[[rr, cc]] = next;
                        stack.push((rr, cc));
                    }
                };
                if r > 0 {
                    visit(r - 1, c);
                }
                if r + 1 < rows {
                    visit(r + 1, c);
                }
                if c > 0 {
                    visit(r, c - 1);
                }
                if c + 1 < cols {
                    visit(r, c + 1);
                }
            }
            if size > best.0 {
                best = (size, next);
            }
        }
    }
    (best.0 > 0).then(|| label.mapv(|l| l == best.1))
}

/// `mask` with every background region that does not touch the frame border set to true.
pub fn fill_holes(mask: &Array2<bool>) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    let mut outside = Array2::<bool>::from_elem((rows, cols), false);
    let mut stack = Vec::new();
    let seed = |r: usize, c: usize, outside: &mut Array2<bool>, stack: &mut Vec<_>| {
        if !mask[[r, c]] && !outside[[r, c]] {
            outside[[r, c]] = true;
            stack.push((r, c));
        }
    };
    for c in 0..cols {
        seed(0, c, &mut outside, &mut stack);
        seed(rows - 1, c, &mut outside, &mut stack);
    }
    for r in 0..rows {
        seed(r, 0, &mut outside, &mut stack);
        seed(r, cols - 1, &mut outside, &mut stack);
    }
    while let Some((r, c)) = stack.pop() {
        let nb = [
            (r.wrapping_sub(1), c),
            (r + 1, c),
            (r, c.wrapping_sub(1)),
            (r, c + 1),
        ];
        for (rr, cc) in nb {
            if rr < rows && cc < cols && !mask[[rr, cc]] && !outside[[rr, cc]] {
                outside[[rr, cc]] = true;
                stack.push((rr, cc));
            }
        }
    }
    outside.mapv(|o| !o)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 8-bit code survives decode → encode, and the table is the formula.
    #[test]
    fn srgb_round_trip_all_8bit_codes() {
        let lut = srgb8_decode_table();
        for code in 0..=255u8 {
            let lin = lut[code as usize];
            assert_eq!(linear_to_srgb8(lin), code, "code {code}");
            let v = code as f64 / 255.0;
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-12);
        }
    }

    /// Values at the published breakpoints and ends: decode(0.04045) = 0.04045/12.92, both
    /// branches agree there to 1e-7 (IEC's constants meet only approximately), white is 1.
    #[test]
    fn srgb_breakpoints_and_ends() {
        assert_eq!(srgb_to_linear(0.0), 0.0);
        assert!((srgb_to_linear(1.0) - 1.0).abs() < 1e-15);
        assert!((linear_to_srgb(1.0) - 1.0).abs() < 1e-15);
        let lo = 0.04045 / 12.92;
        let hi = ((0.04045f64 + 0.055) / 1.055).powf(2.4);
        assert!((lo - hi).abs() < 1e-7, "{lo} vs {hi}");
        assert!((linear_to_srgb(0.0031308) - 12.92 * 0.0031308).abs() < 1e-12);
        // mid grey: code 128 → 0.21586 (known value of the sRGB curve)
        assert!((srgb8_decode_table()[128] as f64 - 0.215_860_5).abs() < 1e-6);
        assert_eq!(linear_to_srgb8(f32::NAN), 0);
        assert_eq!(linear_to_srgb8(f32::INFINITY), 255);
        assert_eq!(linear_to_srgb8(f32::NEG_INFINITY), 0);
        assert_eq!(linear_to_srgb8(7.0), 255);
        assert_eq!(linear_to_srgb8(-1.0), 0);
    }

    #[test]
    fn luminance_weights_and_grey_round_trip() {
        let data = Array3::from_shape_fn((3, 2, 2), |(c, _, _)| [1.0f32, 0.0, 0.0][c]);
        let img = RgbImage::new(data, [1.0, 1.0], Modality::Fundus, None).unwrap();
        assert!((img.luminance()[[0, 0]] - 0.2126).abs() < 1e-7);
        let white = RgbImage::new(
            Array3::from_elem((3, 2, 2), 1.0f32),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap();
        assert!((white.luminance()[[1, 1]] - 1.0).abs() < 1e-6);
        let g = white.to_grey().unwrap();
        assert_eq!(g.unit, Unit::LinearLight);
        let back = RgbImage::from_grey(&g, 1.0).unwrap();
        assert!(back.data.iter().all(|&v| (v - 1.0).abs() < 1e-6));
        // 8-bit grey codes decode through the sRGB curve
        let grey8 = Image::new(
            Array2::from_elem((2, 2), 128.0),
            [1.0, 1.0],
            Modality::Photo,
            Unit::Colour8,
        )
        .unwrap();
        let c = RgbImage::from_grey(&grey8, 255.0).unwrap();
        assert!((c.data[[2, 1, 1]] - srgb8_decode_table()[128]).abs() < 1e-7);
    }

    #[test]
    fn interleaved_codec_round_trips_and_checks_sizes() {
        let samples: Vec<u8> = (0..4 * 5 * 3).map(|i| (i * 17 % 256) as u8).collect();
        let img = RgbImage::from_srgb8(4, 5, &samples, 3, [1.0, 1.0], Modality::Endoscopy).unwrap();
        assert_eq!(img.to_srgb8(), samples);
        assert!(
            RgbImage::from_srgb8(4, 5, &samples[1..], 3, [1.0, 1.0], Modality::Endoscopy).is_err()
        );
        assert!(
            RgbImage::new(Array3::zeros((2, 3, 3)), [1.0, 1.0], Modality::Photo, None).is_err()
        );
        assert!(RgbImage::new(
            Array3::zeros((3, 3, 3)),
            [1.0, 1.0],
            Modality::Photo,
            Some(Array2::from_elem((3, 4), true))
        )
        .is_err());
    }

    /// A textured disc of known radius on a noisy black surround, with dark vessels and a
    /// dark blob inside (a hole to fill) and a bright speck outside (a smaller component).
    fn synthetic_fundus(n: usize, radius: f64) -> RgbImage {
        let c0 = (n as f64 - 1.0) / 2.0;
        let data = Array3::from_shape_fn((3, n, n), |(ch, r, c)| {
            let (dy, dx) = (r as f64 - c0, c as f64 - c0);
            let d = (dx * dx + dy * dy).sqrt();
            let noise = ((r * 7919 + c * 104729 + ch * 31) % 97) as f64 / 97.0;
            let v = if d <= radius {
                let vessel = ((dx * 0.15).sin() * (dy * 0.05).cos()).abs() < 0.05;
                let blob = (dx - 20.0).powi(2) + (dy + 10.0).powi(2) < 64.0;
                let base = [0.45, 0.12, 0.04][ch] * (0.8 + 0.4 * noise);
                if blob {
                    0.0005
                } else if vessel {
                    base * 0.3
                } else {
                    base
                }
            } else if r < 6 && c < 6 {
                0.5 // bright speck in the corner
            } else {
                0.0008 * noise
            };
            v as f32
        });
        RgbImage::new(data, [0.01, 0.01], Modality::Fundus, None).unwrap()
    }

    #[test]
    fn fov_of_a_synthetic_disc_has_the_known_radius() {
        let (n, radius) = (201usize, 80.0f64);
        let img = synthetic_fundus(n, radius);
        let m = detect_fov(&img).expect("a field of view");
        let area = m.iter().filter(|&&v| v).count() as f64;
        let r_eq = (area / std::f64::consts::PI).sqrt();
        assert!((r_eq - radius).abs() < 0.75, "equivalent radius {r_eq}");
        // the dark blob inside is filled, the corner speck is dropped
        assert!(m[[100 - 10, 100 + 20]]);
        assert!(!m[[2, 2]]);
        // centroid at the centre
        let (mut sr, mut sc) = (0.0, 0.0);
        for ((r, c), &v) in m.indexed_iter() {
            if v {
                sr += r as f64;
                sc += c as f64;
            }
        }
        assert!((sr / area - 100.0).abs() < 0.5 && (sc / area - 100.0).abs() < 0.5);
    }

    /// The summed-area opening equals the opening by its definition (the union of the
    /// `(2r+1)²` squares inside the mask and the frame) on random masks.
    #[test]
    fn square_opening_matches_its_definition() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut bit = |p: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % 100 < p
        };
        for (rows, cols, r, p) in [
            (23, 31, 1, 70),
            (40, 17, 2, 85),
            (9, 9, 4, 95),
            (30, 30, 3, 90),
        ] {
            let m = Array2::from_shape_fn((rows, cols), |_| bit(p));
            let mut want = Array2::from_elem((rows, cols), false);
            for i in r..rows.saturating_sub(r) {
                for j in r..cols.saturating_sub(r) {
                    let fits = (i - r..=i + r).all(|a| (j - r..=j + r).all(|b| m[[a, b]]));
                    if fits {
                        for a in i - r..=i + r {
                            for b in j - r..=j + r {
                                want[[a, b]] = true;
                            }
                        }
                    }
                }
            }
            assert_eq!(open_square(&m, r), want, "{rows}×{cols} r={r}");
        }
    }

    /// Text burned into the surround that touches the field (letters joined to the disc's
    /// edge) is not part of the field of view, so it is blanked.
    #[test]
    fn text_touching_the_field_is_outside_it() {
        let mut img = synthetic_fundus(301, 120.0);
        let c0 = 150.0;
        // a 3-px-stroke "label" running from the surround into the disc's edge at the top:
        // vertical strokes every 8 px joined by a 3-px bar, drawn down to 2 px inside the disc
        let mut text = Vec::new();
        for r in 20..40 {
            for c in 100..200 {
                let stroke = (c % 8) < 3 || r < 23;
                let (dy, dx) = (r as f64 - c0, c as f64 - c0);
                let d = (dx * dx + dy * dy).sqrt();
                if stroke && d > 118.0 {
                    if d > 121.0 {
                        text.push((r, c));
                    }
                    for ch in 0..3 {
                        img.data[[ch, r, c]] = 0.8;
                    }
                }
            }
        }
        assert!(text.len() > 300, "{}", text.len());
        assert!(img.detect_and_set_fov());
        let m = img.fov.clone().unwrap();
        // only roots of strokes within the opening's reach (r = 3 px) of the edge may stay
        let d = |r: usize, c: usize| ((r as f64 - c0).powi(2) + (c as f64 - c0).powi(2)).sqrt();
        let inside: Vec<_> = text.iter().filter(|&&(r, c)| m[[r, c]]).collect();
        assert!(
            inside.len() * 100 < text.len() && inside.iter().all(|&&(r, c)| d(r, c) < 124.0),
            "text pixels taken for the field: {inside:?}"
        );
        let area = m.iter().filter(|&&v| v).count() as f64;
        let r_eq = (area / std::f64::consts::PI).sqrt();
        assert!((r_eq - 120.0).abs() < 1.0, "equivalent radius {r_eq}");
        img.blank_outside_fov();
        assert!(text
            .iter()
            .all(|&(r, c)| img.data[[0, r, c]] == 0.0 || d(r, c) < 124.0));
    }

    /// Marks in the surround (the corner speck, text) are blanked; the field is untouched.
    #[test]
    fn blanking_the_surround_removes_marks_and_keeps_the_field() {
        let mut img = synthetic_fundus(201, 80.0);
        // a line of "text" at the bottom left, apart from the field
        for r in 190..196 {
            for c in 4..60 {
                if (c / 3) % 2 == 0 {
                    for ch in 0..3 {
                        img.data[[ch, r, c]] = 0.9;
                    }
                }
            }
        }
        assert_eq!(
            img.clone().blank_outside_fov(),
            0,
            "no mask yet: nothing blanked"
        );
        let before = img.clone();
        assert!(img.detect_and_set_fov());
        let lit = img.blank_outside_fov();
        let m = img.fov.clone().unwrap();
        let outside = m.iter().filter(|&&v| !v).count();
        assert_eq!(
            lit, outside,
            "every surround pixel had noise, speck or text"
        );
        for ((r, c), &inside) in m.indexed_iter() {
            for ch in 0..3 {
                let want = if inside { before.data[[ch, r, c]] } else { 0.0 };
                assert_eq!(img.data[[ch, r, c]], want);
            }
        }
        assert!((190..196).all(|r| (4..60).all(|c| img.data[[0, r, c]] == 0.0)));
    }

    #[test]
    fn no_fov_without_a_dark_surround() {
        let img = RgbImage::new(
            Array3::from_shape_fn((3, 50, 50), |(c, r, k)| {
                0.3 + 0.2 * (((r * 13 + k * 7 + c) % 11) as f32 / 11.0)
            }),
            [1.0, 1.0],
            Modality::Histopathology,
            None,
        )
        .unwrap();
        assert!(detect_fov(&img).is_none());
    }

    #[test]
    fn hole_fill_and_components() {
        let mut m = Array2::from_elem((7, 7), false);
        for r in 1..6 {
            for c in 1..6 {
                m[[r, c]] = !(r == 3 && c == 3);
            }
        }
        m[[0, 6]] = true;
        let l = largest_component(&m).unwrap();
        assert!(!l[[0, 6]] && l[[1, 1]] && !l[[3, 3]]);
        let f = fill_holes(&l);
        assert!(f[[3, 3]] && !f[[0, 0]]);
        assert_eq!(f.iter().filter(|&&v| v).count(), 25);
        assert!(largest_component(&Array2::from_elem((3, 3), false)).is_none());
    }

    /// The table-driven encoder against the `powf` reference: every f32 in [0, 1] at a stride
    /// (≈ 2 million values, including all the decision thresholds' neighbourhoods by density)
    /// plus each threshold's neighbours one ulp either side.
    #[test]
    fn fast_srgb8_encoder_equals_the_exact_one() {
        let one = 1.0f32.to_bits();
        let mut bits = 0u32;
        while bits <= one {
            let c = f32::from_bits(bits);
            assert_eq!(linear_to_srgb8(c), linear_to_srgb8_exact(c), "{c:e}");
            bits += 509;
        }
        for i in 0..255 {
            let t = srgb_to_linear((i as f64 + 0.5) / 255.0) as f32;
            for c in [
                f32::from_bits(t.to_bits() - 1),
                t,
                f32::from_bits(t.to_bits() + 1),
            ] {
                assert_eq!(linear_to_srgb8(c), linear_to_srgb8_exact(c), "{c:e}");
            }
        }
    }
}
