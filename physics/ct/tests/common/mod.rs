//! Fixtures shared by the CT integration tests.

use artefact_core::{Image, Modality, Unit};
use ndarray::Array2;

/// A centred water disc (0 HU) of `radius_mm` in air (−1000 HU) on an `n`² grid of `pixel` mm
/// (point-sampled at pixel centres, no partial volume).
pub fn water_disc(n: usize, pixel: f64, radius_mm: f64) -> Image {
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = ((j as f64 - c) * pixel, (i as f64 - c) * pixel);
        if x.hypot(y) <= radius_mm {
            0.0
        } else {
            -1000.0
        }
    });
    Image::new(data, [pixel, pixel], Modality::Ct, Unit::Hu).unwrap()
}
