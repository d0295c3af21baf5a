//! Rendering a slice for display: CT window, MR robust percentile scaling, ultrasound as is.
//!
//! The display mapping is computed once from the **clean** slice and applied unchanged to every
//! degraded version of it, so the degradation is the only difference between the images a
//! model compares (same size, window, bit depth and PNG encoder settings).

use artefact_core::{Image, Modality};
use artefact_recipe::benchmark::Window;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// A linear display map `v ↦ clamp((v − lo) / (hi − lo), 0, 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DisplayMap {
    pub lo: f64,
    pub hi: f64,
}

impl DisplayMap {
    /// The map for a clean slice of the given modality.
    pub fn for_clean(img: &Image, ct_window: Window, mr_percentiles: [f64; 2]) -> DisplayMap {
        match img.modality {
            Modality::Ct => DisplayMap {
                lo: ct_window.centre - ct_window.width / 2.0,
                hi: ct_window.centre + ct_window.width / 2.0,
            },
            Modality::Us => DisplayMap { lo: 0.0, hi: 1.0 },
            _ => {
                let lo = percentile(&img.data, mr_percentiles[0]);
                let mut hi = percentile(&img.data, mr_percentiles[1]);
                if hi <= lo {
                    hi = lo + 1.0;
                }
                DisplayMap { lo, hi }
            }
        }
    }

    /// Display intensities in [0, 1].
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
pub fn to_u8(display: &Array2<f32>) -> Array2<u8> {
    display.mapv(|x| (x * 255.0 + 0.5).floor().clamp(0.0, 255.0) as u8)
}

/// Encode an 8-bit grey image as PNG with fixed encoder settings.
pub fn encode_png(pixels: &Array2<u8>) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::{ExtendedColorType, ImageEncoder};
    let (h, w) = pixels.dim();
    let data: Vec<u8> = pixels.iter().copied().collect();
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(&data, w as u32, h as u32, ExtendedColorType::L8)
        .expect("encoding to memory cannot fail");
    out
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
        let px = to_u8(&m.apply(&img.data));
        assert_eq!(px.iter().copied().collect::<Vec<_>>(), vec![0, 0, 128, 255]);
        let png = encode_png(&px);
        let back = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(back.as_raw(), &vec![0, 0, 128, 255]);
    }
}
