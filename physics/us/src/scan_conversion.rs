//! Scan conversion: beam-grid (r, θ) data → Cartesian image by bilinear interpolation.
//!
//! Every output pixel centre `(x, y)` is mapped to beam coordinates with
//! [`Geometry::to_grid`] (`r = √(x² + (y + R)²) − R`, `θ = atan2(x, y + R)` for sector probes,
//! `r = y`, lateral = `x` for linear ones) and the beam data are interpolated bilinearly in
//! `(m, b)` = (depth sample, beam index). Pixels outside the field of view (beyond the sector
//! edges, above the probe face or below the imaging depth) are black (0).
//!
//! The per-pixel neighbours and weights depend only on the geometry; they are computed once per
//! geometry and kept in a small process-wide cache (bit-identical to the direct computation,
//! [`scan_convert_reference`]).
//!
//! Reference: the standard polar-to-Cartesian conversion of B-mode scanners, e.g. Szabo,
//! *Diagnostic Ultrasound Imaging: Inside Out*, 2014, §10.12.

use crate::error::UsError;
use crate::geometry::Geometry;
use ndarray::Array2;
use std::sync::{Arc, Mutex};

/// Bilinear interpolation table of one geometry: for every output pixel inside the field of
/// view, the first of its four beam-grid neighbours and the two fractional weights.
#[derive(Debug)]
struct Lut {
    /// Per pixel (row-major): `m0·n_b + b0`, or `u32::MAX` outside the field of view.
    index: Vec<u32>,
    /// Per pixel: `(fm, fb)`.
    frac: Vec<[f32; 2]>,
    /// Per pixel: bit 0 set when `b1 = b0 + 1` (else `b1 = b0`, last beam), bit 1 when
    /// `m1 = m0 + 1` (else the last depth sample).
    step: Vec<u8>,
}

impl Lut {
    fn new(geom: &Geometry) -> Lut {
        let (n_r, n_b) = (geom.n_r, geom.n_b);
        let n = geom.rows * geom.cols;
        let mut lut = Lut {
            index: vec![u32::MAX; n],
            frac: vec![[0.0; 2]; n],
            step: vec![0; n],
        };
        for i in 0..geom.rows {
            for j in 0..geom.cols {
                let (x, y) = geom.pixel_xy(i, j);
                let Some((m, b)) = geom.to_grid(x, y) else {
                    continue;
                };
                // m, b ≥ 0 (clamped by `to_grid`): truncation = floor
                let m0 = (m as usize).min(n_r - 1);
                let b0 = (b as usize).min(n_b - 1);
                let p = i * geom.cols + j;
                lut.index[p] = (m0 * n_b + b0) as u32;
                lut.frac[p] = [(m - m0 as f64) as f32, (b - b0 as f64) as f32];
                lut.step[p] = (b0 + 1 < n_b) as u8 | (((m0 + 1 < n_r) as u8) << 1);
            }
        }
        lut
    }
}

/// The tables of the geometries used most recently (a render of a 512×512 image spends about
/// as long computing the table — a `sqrt` and an `atan2` per pixel for sector probes — as
/// simulating one depth band of scatterers, and datasets render many images per geometry).
static CACHE: Mutex<Vec<(Geometry, Arc<Lut>)>> = Mutex::new(Vec::new());
/// Tables kept in [`CACHE`].
const CACHE_SIZE: usize = 6;

fn lut(geom: &Geometry) -> Arc<Lut> {
    if let Ok(c) = CACHE.lock() {
        if let Some((_, l)) = c.iter().find(|(g, _)| g == geom) {
            return Arc::clone(l);
        }
    }
    let l = Arc::new(Lut::new(geom));
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= CACHE_SIZE {
            c.remove(0);
        }
        c.push((geom.clone(), Arc::clone(&l)));
    }
    l
}

fn check_shape(beams: &Array2<f32>, geom: &Geometry) -> Result<(), UsError> {
    if beams.dim() != (geom.n_r, geom.n_b) {
        return Err(UsError::Input(format!(
            "beam data {:?} do not match the geometry's grid ({}, {})",
            beams.dim(),
            geom.n_r,
            geom.n_b
        )));
    }
    Ok(())
}

/// Scan-convert `beams` (shape `(n_r, n_b)`) to the `rows × cols` Cartesian frame of `geom`,
/// with a per-geometry interpolation table (cached); bit-identical to [`scan_convert_reference`].
pub fn scan_convert(beams: &Array2<f32>, geom: &Geometry) -> Result<Array2<f32>, UsError> {
    check_shape(beams, geom)?;
    let n_b = geom.n_b;
    let src = beams
        .as_slice()
        .map(std::borrow::Cow::Borrowed)
        .unwrap_or_else(|| std::borrow::Cow::Owned(beams.iter().copied().collect()));
    let lut = lut(geom);
    let mut out = vec![0f32; geom.rows * geom.cols];
    for (p, v) in out.iter_mut().enumerate() {
        let i00 = lut.index[p];
        if i00 == u32::MAX {
            continue;
        }
        let i00 = i00 as usize;
        let [fm, fb] = lut.frac[p];
        let st = lut.step[p];
        let db = (st & 1) as usize;
        let i10 = i00 + if st & 2 != 0 { n_b } else { 0 };
        let a = src[i00] * (1.0 - fb) + src[i00 + db] * fb;
        let c = src[i10] * (1.0 - fb) + src[i10 + db] * fb;
        *v = a * (1.0 - fm) + c * fm;
    }
    Ok(Array2::from_shape_vec((geom.rows, geom.cols), out).expect("rows × cols"))
}

/// Direct scan conversion (no table): the reference for [`scan_convert`].
pub fn scan_convert_reference(
    beams: &Array2<f32>,
    geom: &Geometry,
) -> Result<Array2<f32>, UsError> {
    check_shape(beams, geom)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Probe;

    /// The table path gives the same bytes as the direct one, for every probe, on the first
    /// (table built) and second (cached) call.
    #[test]
    fn table_matches_reference() {
        for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
            let g = Geometry::new(&probe, 97, 131, [1.0, 0.8], 1.0).unwrap();
            let beams = Array2::from_shape_fn((g.n_r, g.n_b), |(m, b)| {
                ((m * 31 + b * 17) % 101) as f32 / 100.0 + (m as f32 * 0.37).sin()
            });
            let r = scan_convert_reference(&beams, &g).unwrap();
            for _ in 0..2 {
                let f = scan_convert(&beams, &g).unwrap();
                assert!(f.iter().zip(&r).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }
}
