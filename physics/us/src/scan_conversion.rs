//! Scan conversion: beam-grid (r, θ) data → Cartesian image by bilinear interpolation.
//!
//! Every output pixel centre `(x, y)` is mapped to beam coordinates with
//! [`Geometry::to_grid`] (`r = √(x² + (y + R)²) − R`, `θ = atan2(x, y + R)` for sector probes,
//! `r = y`, lateral = `x` for linear ones) and the beam data are interpolated bilinearly in
//! `(m, b)` = (depth sample, beam index). Pixels outside the field of view (beyond the sector
//! edges, above the probe face or below the imaging depth) are black (0).
//!
//! Reference: the standard polar-to-Cartesian conversion of B-mode scanners, e.g. Szabo,
//! *Diagnostic Ultrasound Imaging: Inside Out*, 2014, §10.12.

use crate::error::UsError;
use crate::geometry::Geometry;
use ndarray::Array2;

/// Scan-convert `beams` (shape `(n_r, n_b)`) to the `rows × cols` Cartesian frame of `geom`.
pub fn scan_convert(beams: &Array2<f32>, geom: &Geometry) -> Result<Array2<f32>, UsError> {
    if beams.dim() != (geom.n_r, geom.n_b) {
        return Err(UsError::Input(format!(
            "beam data {:?} do not match the geometry's grid ({}, {})",
            beams.dim(),
            geom.n_r,
            geom.n_b
        )));
    }
    let (n_r, n_b) = (geom.n_r, geom.n_b);
    let src = beams
        .as_slice()
        .map(std::borrow::Cow::Borrowed)
        .unwrap_or_else(|| std::borrow::Cow::Owned(beams.iter().copied().collect()));
    let mut out = Array2::<f32>::zeros((geom.rows, geom.cols));
    for ((i, j), v) in out.indexed_iter_mut() {
        let (x, y) = geom.pixel_xy(i, j);
        let Some((m, b)) = geom.to_grid(x, y) else {
            continue;
        };
        let m0 = (m.floor() as usize).min(n_r - 1);
        let b0 = (b.floor() as usize).min(n_b - 1);
        let m1 = (m0 + 1).min(n_r - 1);
        let b1 = (b0 + 1).min(n_b - 1);
        let (fm, fb) = ((m - m0 as f64) as f32, (b - b0 as f64) as f32);
        let a = src[m0 * n_b + b0] * (1.0 - fb) + src[m0 * n_b + b1] * fb;
        let c = src[m1 * n_b + b0] * (1.0 - fb) + src[m1 * n_b + b1] * fb;
        *v = a * (1.0 - fm) + c * fm;
    }
    Ok(out)
}
