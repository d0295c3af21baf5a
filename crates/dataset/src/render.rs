//! Rendering a slice for display: CT window, MR robust percentile scaling, ultrasound as is,
//! colour photographs through the sRGB transfer curve.
//!
//! A display image is an `(rows, cols, channels)` array of values in [0, 1]: one channel for
//! grey modalities, three sRGB-encoded channels for colour ones (linear light clipped to
//! display white, then IEC 61966-2-1 encoded — what a viewer shows).
//!
//! The display mapping is computed once from the **clean** slice and applied unchanged to every
//! degraded version of it, so the degradation is the only difference between the images a
//! model compares (same size, window, bit depth and PNG encoder settings).

use artefact_core::colour::linear_to_srgb;
use artefact_core::{Image, Modality, Picture};
use artefact_recipe::benchmark::Window;
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};

/// A display image: `(rows, cols, channels)`, values in [0, 1]; 1 channel (grey) or 3 (sRGB).
pub type Shown = Array3<f32>;

/// How display values are encoded after the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// Grey: the windowed value is the display value.
    #[default]
    Linear,
    /// Colour: the windowed linear light is encoded with the sRGB curve.
    Srgb,
}

impl Transfer {
    fn is_linear(&self) -> bool {
        *self == Transfer::Linear
    }
}

/// A linear display map `v ↦ clamp((v − lo) / (hi − lo), 0, 1)`, then the transfer curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DisplayMap {
    pub lo: f64,
    pub hi: f64,
    /// Absent (linear) for grey images, so their records are unchanged.
    #[serde(default, skip_serializing_if = "Transfer::is_linear")]
    pub transfer: Transfer,
}

impl DisplayMap {
    /// The map of colour photographs: linear light in [0, 1] (display white = 1), sRGB encoded.
    pub fn srgb() -> DisplayMap {
        DisplayMap {
            lo: 0.0,
            hi: 1.0,
            transfer: Transfer::Srgb,
        }
    }

    /// The map for a clean picture: [`DisplayMap::for_clean`] for grey slices,
    /// [`DisplayMap::srgb`] for colour.
    pub fn for_picture(p: &Picture, ct_window: Window, mr_percentiles: [f64; 2]) -> DisplayMap {
        match p {
            Picture::Grey(i) => DisplayMap::for_clean(i, ct_window, mr_percentiles),
            Picture::Colour(_) => DisplayMap::srgb(),
        }
    }

    /// Display values of a picture (see the module docs).
    pub fn show(&self, p: &Picture) -> Shown {
        match p {
            Picture::Grey(i) => self.apply(&i.data).insert_axis(Axis(2)),
            Picture::Colour(c) => {
                let (rows, cols) = c.shape();
                let scale = 1.0 / (self.hi - self.lo);
                Array3::from_shape_fn((rows, cols, 3), |(r, k, ch)| {
                    let x = (c.data[[ch, r, k]] as f64 - self.lo) * scale;
                    let x = if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) };
                    match self.transfer {
                        Transfer::Linear => x as f32,
                        Transfer::Srgb => linear_to_srgb(x) as f32,
                    }
                })
            }
        }
    }

    /// The map for a clean slice of the given modality.
    pub fn for_clean(img: &Image, ct_window: Window, mr_percentiles: [f64; 2]) -> DisplayMap {
        match img.modality {
            Modality::Ct => DisplayMap {
                lo: ct_window.centre - ct_window.width / 2.0,
                hi: ct_window.centre + ct_window.width / 2.0,
                transfer: Transfer::Linear,
            },
            Modality::Us => DisplayMap {
                lo: 0.0,
                hi: 1.0,
                transfer: Transfer::Linear,
            },
            _ => {
                let lo = percentile(&img.data, mr_percentiles[0]);
                let mut hi = percentile(&img.data, mr_percentiles[1]);
                if hi <= lo {
                    hi = lo + 1.0;
                }
                DisplayMap {
                    lo,
                    hi,
                    transfer: Transfer::Linear,
                }
            }
        }
    }

    /// Display intensities in [0, 1] of grey data (the window only).
    pub fn apply(&self, data: &Array2<f32>) -> Array2<f32> {
        let scale = 1.0 / (self.hi - self.lo);
        data.mapv(|v| {
            let x = ((v as f64 - self.lo) * scale) as f32;
            if x.is_nan() {
                0.0
            } else {
                x.clamp(0.0, 1.0)
            }
        })
    }
}

/// Linear-interpolated percentile (numpy's default method) of the finite values.
pub fn percentile(data: &Array2<f32>, p: f64) -> f64 {
    let mut v: Vec<f32> = data.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let pos = (p / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let i = pos.floor() as usize;
    let f = pos - i as f64;
    let a = v[i] as f64;
    let b = v[(i + 1).min(v.len() - 1)] as f64;
    a + f * (b - a)
}

/// Quantise display values in [0, 1] to 8 bits (round half up).
pub fn to_u8(display: &Shown) -> Array3<u8> {
    display.mapv(|x| (x * 255.0 + 0.5).floor().clamp(0.0, 255.0) as u8)
}

/// Encode an 8-bit display image (1 channel: grey, 3: sRGB) as PNG with fixed encoder
/// settings.
///
/// # Panics
/// On a channel count other than 1 or 3 (display images are built with one of those).
pub fn encode_png(pixels: &Array3<u8>) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::{ExtendedColorType, ImageEncoder};
    let (h, w, ch) = pixels.dim();
    let colour = match ch {
        1 => ExtendedColorType::L8,
        3 => ExtendedColorType::Rgb8,
        n => panic!("display images have 1 or 3 channels, not {n}"),
    };
    let data: Vec<u8> = pixels.iter().copied().collect();
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(&data, w as u32, h as u32, colour)
        .expect("encoding to memory cannot fail");
    out
}

/// The grey a metric compares: the channel itself for grey images; for colour, the
/// sRGB-encoded relative luminance (channels decoded to linear light, Rec. 709 weights,
/// re-encoded — the definition of [`artefact_core::colour_metrics::ssim_luminance`]).
pub fn luma(display: &Shown) -> Array2<f32> {
    if display.dim().2 == 1 {
        return display.index_axis(Axis(2), 0).to_owned();
    }
    let w = artefact_core::colour::LUMA_709;
    let dec = |v: f32| artefact_core::colour::srgb_to_linear(v as f64);
    Array2::from_shape_fn((display.dim().0, display.dim().1), |(r, c)| {
        let y = w[0] * dec(display[[r, c, 0]])
            + w[1] * dec(display[[r, c, 1]])
            + w[2] * dec(display[[r, c, 2]]);
        linear_to_srgb(y.clamp(0.0, 1.0)) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 99.5]) = [1, 1.75, 2.5, 3.985]
        let a = Array2::from_shape_vec((2, 2), vec![4.0f32, 1.0, 3.0, 2.0]).unwrap();
        for (p, e) in [(0.0, 1.0), (25.0, 1.75), (50.0, 2.5), (99.5, 3.985)] {
            assert!((percentile(&a, p) - e).abs() < 1e-9, "{p}");
        }
    }

    #[test]
    fn ct_window_and_quantisation() {
        let img = Image::new(
            Array2::from_shape_vec((1, 4), vec![-1000.0f32, 0.0, 40.0, 80.0]).unwrap(),
            [1.0, 1.0],
            Modality::Ct,
            artefact_core::Unit::Hu,
        )
        .unwrap();
        let m = DisplayMap::for_clean(&img, Window::preset("brain").unwrap(), [0.5, 99.5]);
        assert_eq!((m.lo, m.hi), (0.0, 80.0));
        let px = to_u8(&m.show(&Picture::Grey(img.clone())));
        assert_eq!(px.iter().copied().collect::<Vec<_>>(), vec![0, 0, 128, 255]);
        let png = encode_png(&px);
        let back = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(back.as_raw(), &vec![0, 0, 128, 255]);
        // grey records carry no transfer field (unchanged from before colour)
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"lo":0.0,"hi":80.0}"#
        );
    }

    #[test]
    fn colour_is_srgb_encoded_and_written_as_rgb() {
        // linear 0, 0.2140 (≈ sRGB 128/255), 1 and an over-exposed 2 (clipped to white)
        let data = ndarray::Array3::from_shape_fn((3, 1, 4), |(c, _, k)| {
            [0.0f32, 0.214_041_14, 1.0, 2.0][k] * if c == 2 { 0.0 } else { 1.0 }
        });
        let img = artefact_core::RgbImage::new(data, [1.0, 1.0], Modality::Fundus, None).unwrap();
        let p = Picture::Colour(img);
        let m = DisplayMap::for_picture(&p, Window::preset("brain").unwrap(), [0.5, 99.5]);
        assert_eq!(m, DisplayMap::srgb());
        let px = to_u8(&m.show(&p));
        assert_eq!(px.dim(), (1, 4, 3));
        let row: Vec<u8> = px.iter().copied().collect();
        assert_eq!(row, vec![0, 0, 0, 128, 128, 0, 255, 255, 0, 255, 255, 0]);
        let back = image::load_from_memory(&encode_png(&px)).unwrap();
        assert_eq!(back.color(), image::ColorType::Rgb8);
        assert_eq!(back.to_rgb8().as_raw(), &row);
        let l = luma(&m.show(&p));
        // yellow (1, 1, 0): Y = 0.2126 + 0.7152, then encoded
        let y = linear_to_srgb(0.2126 + 0.7152) as f32;
        assert!((l[[0, 2]] - y).abs() < 1e-6, "{} vs {y}", l[[0, 2]]);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"lo":0.0,"hi":1.0,"transfer":"srgb"}"#
        );
    }
}
