//! Probe geometry: the (r, θ) beam grid and its placement in the Cartesian image.
//!
//! Coordinates (mm): `x` lateral (positive to the image's right), `y` depth (positive down),
//! origin at the centre of the probe face.
//!
//! - Linear: beam `b` runs vertically at `x = lat(b)`; a sample at depth `r` sits at
//!   `(x, y) = (lat, r)`. The image width spans the array aperture (elements × pitch); the depth
//!   follows from the image's rows, columns and pixel aspect.
//! - Convex: beams radiate from the centre of curvature at `(0, −R)`; a sample at range `r`
//!   (depth below the probe face) on the beam at angle `θ` sits at
//!   `x = (R + r)·sin θ`, `y = (R + r)·cos θ − R`.
//! - Phased: as convex with `R = 0` (apex at the centre of the probe face).
//!
//! The sector's bounding box (`x ∈ ±(R + D)·sin θmax`, `y ∈ [R·cos θmax − R, D]`) is fitted into
//! the image keeping the pixel aspect of the input spacing, centred laterally and aligned at the
//! top; pixels outside the sector are black after scan conversion.
//!
//! The beam grid samples depth every `dr ≈ σz / oversample` (σz: axial PSF standard deviation)
//! and the lateral direction so that neighbouring beams are at most one lateral PSF standard
//! deviation apart at every depth (divided by `oversample`), so the envelope is sampled without
//! aliasing the speckle.

use crate::error::UsError;
use crate::probe::{Probe, ProbeKind};
use crate::psf::Psf;

/// Largest beam grid the simulator accepts (samples).
pub const MAX_GRID_SAMPLES: usize = 1 << 24;

/// The beam grid and the Cartesian output frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    pub kind: ProbeKind,
    /// Number of depth samples per beam.
    pub n_r: usize,
    /// Number of beams.
    pub n_b: usize,
    /// Depth step, mm (`r_m = m·dr`).
    pub dr: f64,
    /// Lateral position of beam 0: mm (linear) or rad (sector).
    pub lat0: f64,
    /// Lateral step between beams: mm (linear) or rad (sector).
    pub dlat: f64,
    /// Radius of curvature (convex), 0 otherwise, mm.
    pub radius: f64,
    /// Imaging depth, mm.
    pub depth: f64,
    /// Output image rows and columns.
    pub rows: usize,
    pub cols: usize,
    /// Output pixel size `[row, col]`, mm.
    pub spacing: [f64; 2],
    /// Left edge of column 0 and top edge of row 0, mm.
    pub x_left: f64,
    pub y_top: f64,
}

impl Geometry {
    /// Geometry of `probe` for an output image of `rows × cols` pixels whose input spacing is
    /// `spacing` (only its aspect ratio is used), sampling `oversample` times finer than the
    /// nominal PSF requires.
    pub fn new(
        probe: &Probe,
        rows: usize,
        cols: usize,
        spacing: [f64; 2],
        oversample: f64,
    ) -> Result<Geometry, UsError> {
        probe.validate()?;
        if rows < 2 || cols < 2 {
            return Err(UsError::Input(format!(
                "image must be at least 2×2 pixels, got {rows}×{cols}"
            )));
        }
        if !(spacing[0] > 0.0 && spacing[1] > 0.0 && spacing.iter().all(|s| s.is_finite())) {
            return Err(UsError::Input(format!(
                "pixel spacing must be finite and positive, got {spacing:?}"
            )));
        }
        crate::error::check_range("oversample", oversample, 0.25, 8.0)?;
        let aspect = spacing[1] / spacing[0]; // px / py
        let psf = Psf::nominal(probe);
        let (depth, py, px, x_left, y_top, radius) = match probe.kind {
            ProbeKind::Linear => {
                let a = probe.aperture_mm();
                let px = a / cols as f64;
                let py = px / aspect;
                (rows as f64 * py, py, px, -a / 2.0, 0.0, 0.0)
            }
            ProbeKind::Convex | ProbeKind::Phased => {
                let r0 = if probe.kind == ProbeKind::Convex {
                    probe.radius_mm
                } else {
                    0.0
                };
                let tm = probe.half_sector_rad();
                let d = probe.depth_mm;
                let y_min = r0 * tm.cos() - r0;
                let h = d - y_min;
                let w = 2.0 * (r0 + d) * tm.sin();
                let py = (h / rows as f64).max(w / (cols as f64 * aspect));
                let px = aspect * py;
                (d, py, px, -(cols as f64) * px / 2.0, y_min, r0)
            }
        };
        let dr_max = psf.axial_sigma_mm() / oversample;
        let n_r = (depth / dr_max).ceil() as usize + 1;
        let dr = depth / (n_r - 1) as f64;
        // lateral step: at most σx(r)/oversample at every depth
        let steps = 512;
        let (lat0, dlat, n_b) = match probe.kind {
            ProbeKind::Linear => {
                let a = probe.aperture_mm();
                let smin = (0..=steps)
                    .map(|i| psf.lateral_sigma_mm(depth * i as f64 / steps as f64))
                    .fold(f64::INFINITY, f64::min);
                let n_b = (a / (smin / oversample)).ceil() as usize + 1;
                (-a / 2.0, a / (n_b - 1) as f64, n_b)
            }
            _ => {
                let tm = probe.half_sector_rad();
                let amin = (0..=steps)
                    .map(|i| {
                        let r = depth * i as f64 / steps as f64;
                        psf.lateral_sigma_mm(r) / (radius + r).max(1e-9)
                    })
                    .fold(f64::INFINITY, f64::min);
                let n_b = (2.0 * tm / (amin / oversample)).ceil() as usize + 1;
                (-tm, 2.0 * tm / (n_b - 1) as f64, n_b)
            }
        };
        if n_r.saturating_mul(n_b) > MAX_GRID_SAMPLES {
            return Err(UsError::Input(format!(
                "beam grid {n_r}×{n_b} is too large (limit {MAX_GRID_SAMPLES} samples); \
                 lower `oversample` or use a lower-frequency probe"
            )));
        }
        Ok(Geometry {
            kind: probe.kind,
            n_r,
            n_b,
            dr,
            lat0,
            dlat,
            radius,
            depth,
            rows,
            cols,
            spacing: [py, px],
            x_left,
            y_top,
        })
    }

    /// True for convex and phased probes.
    pub fn is_sector(&self) -> bool {
        self.kind != ProbeKind::Linear
    }

    /// Depth of sample `m`, mm.
    pub fn r_of(&self, m: f64) -> f64 {
        m * self.dr
    }

    /// Lateral coordinate (mm or rad) of fractional beam index `b`.
    pub fn lat_of(&self, b: f64) -> f64 {
        self.lat0 + b * self.dlat
    }

    /// Distance between neighbouring beams at depth `r`, mm.
    pub fn beam_spacing_mm(&self, r: f64) -> f64 {
        if self.is_sector() {
            (self.radius + r) * self.dlat
        } else {
            self.dlat
        }
    }

    /// Cartesian position (x, y) in mm of depth `r` on the beam at lateral coordinate `lat`.
    pub fn to_cartesian(&self, r: f64, lat: f64) -> (f64, f64) {
        if self.is_sector() {
            let rho = self.radius + r;
            (rho * lat.sin(), rho * lat.cos() - self.radius)
        } else {
            (lat, r)
        }
    }

    /// Beam coordinates `(r, lat)` of a Cartesian point.
    pub fn to_beam(&self, x: f64, y: f64) -> (f64, f64) {
        if self.is_sector() {
            let yy = y + self.radius;
            ((x * x + yy * yy).sqrt() - self.radius, x.atan2(yy))
        } else {
            (y, x)
        }
    }

    /// Fractional grid indices `(m, b)` of a Cartesian point, `None` outside the field of view.
    pub fn to_grid(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let (r, lat) = self.to_beam(x, y);
        let m = r / self.dr;
        let b = (lat - self.lat0) / self.dlat;
        let (mmax, bmax) = ((self.n_r - 1) as f64, (self.n_b - 1) as f64);
        // a hair of tolerance so pixel centres that sit exactly on the border stay inside
        let eps = 1e-9;
        if m < -eps || m > mmax + eps || b < -eps || b > bmax + eps {
            return None;
        }
        Some((m.clamp(0.0, mmax), b.clamp(0.0, bmax)))
    }

    /// Cartesian centre of output pixel `(i, j)`, mm.
    pub fn pixel_xy(&self, i: usize, j: usize) -> (f64, f64) {
        (
            self.x_left + (j as f64 + 0.5) * self.spacing[1],
            self.y_top + (i as f64 + 0.5) * self.spacing[0],
        )
    }

    /// Fractional output pixel `(row, col)` of a Cartesian point (pixel centres are integers).
    pub fn xy_to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (y - self.y_top) / self.spacing[0] - 0.5,
            (x - self.x_left) / self.spacing[1] - 0.5,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_between_beam_and_cartesian() {
        for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
            let g = Geometry::new(&probe, 256, 256, [1.0, 1.0], 1.0).unwrap();
            for (m, b) in [(10.0, 3.0), (100.5, 20.25), ((g.n_r - 1) as f64, 0.0)] {
                let (x, y) = g.to_cartesian(g.r_of(m), g.lat_of(b));
                let (mm, bb) = g.to_grid(x, y).unwrap();
                assert!((mm - m).abs() < 1e-6 && (bb - b).abs() < 1e-6);
            }
            // the whole sector fits into the image
            for b in [0.0, (g.n_b - 1) as f64] {
                let (x, y) = g.to_cartesian(g.depth, g.lat_of(b));
                let (i, j) = g.xy_to_pixel(x, y);
                assert!(i <= g.rows as f64 && j >= -0.5 && j <= g.cols as f64 - 0.5 + 1e-6);
            }
        }
    }
}
