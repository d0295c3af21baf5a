//! Shared helpers of mri-a's integration tests (phantoms, statistics).
#![allow(dead_code)]

use artefact_core::{Image, Modality, Unit};
use ndarray::Array2;

/// Disc phantom of value `inner` and radius `radius_frac·min(rows, cols)/2` on a zero background,
/// with a smaller brighter ellipse inside (some structure for SSIM).
pub fn disc_phantom(rows: usize, cols: usize, radius_frac: f64, inner: f32) -> Image {
    let (hr, hc) = (rows as f64 / 2.0, cols as f64 / 2.0);
    let r = radius_frac * rows.min(cols) as f64 / 2.0;
    let data = Array2::from_shape_fn((rows, cols), |(i, j)| {
        let (y, x) = (i as f64 - hr, j as f64 - hc);
        let mut v = 0.0f32;
        if x * x + y * y < r * r {
            v = inner;
            if ((x - 0.2 * r) / (0.35 * r)).powi(2) + ((y + 0.1 * r) / (0.2 * r)).powi(2) < 1.0 {
                v = 1.6 * inner;
            }
            if ((x + 0.3 * r) / (0.15 * r)).powi(2) + ((y - 0.3 * r) / (0.3 * r)).powi(2) < 1.0 {
                v = 0.5 * inner;
            }
        }
        v
    });
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

/// Smooth Gaussian blob phantom (band-limited enough for radial tests).
pub fn smooth_phantom(rows: usize, cols: usize) -> Image {
    let (hr, hc) = (rows as f64 / 2.0, cols as f64 / 2.0);
    let s = rows.min(cols) as f64 / 8.0;
    let data = Array2::from_shape_fn((rows, cols), |(i, j)| {
        let (y, x) = (i as f64 - hr, j as f64 - hc);
        let a = (-(x * x + y * y) / (2.0 * s * s)).exp();
        let b = (-((x - 1.2 * s).powi(2) + (y + 0.8 * s).powi(2)) / (0.5 * s * s)).exp();
        (100.0 * a + 60.0 * b) as f32
    });
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

pub fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

pub fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var)
}

pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}
