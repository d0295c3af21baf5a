//! CT acquisition geometry: parallel beam, flat-detector fan beam and equiangular (arc) fan beam,
//! and the reconstruction/projection pixel grid.
//!
//! # Coordinates and units
//! World coordinates are in mm with the isocentre at the origin, `x` to the right (increasing
//! column) and `y` up (decreasing row). A [`Grid`] of `rows × cols` square pixels of side
//! `pixel_mm` is centred on the isocentre: pixel `(i, j)` has its centre at
//! `x = (j − (cols−1)/2)·pixel_mm`, `y = ((rows−1)/2 − i)·pixel_mm`.
//!
//! Detector bin `k` (of `n_det`) sits at `u_k = (k − (n_det−1)/2)·det_pitch_mm + det_offset_mm`
//! along the detector (mm; for the arc detector the arc length at the detector radius
//! `source_iso_mm + iso_det_mm`, i.e. fan angle `γ_k = u_k / (source_iso_mm + iso_det_mm)`).
//!
//! * Parallel beam, view angle `θ`: bin `k` measures the line `x·cosθ + y·sinθ = u_k`
//!   (the convention of scikit-image `radon`/`iradon`; ray direction `(−sinθ, cosθ)`).
//! * Fan beam, view angle `β`: the source sits at `S = R_s·(sinβ, −cosβ)`, the central ray runs
//!   along `d = (−sinβ, cosβ)` through the isocentre, the detector axis is `e = (cosβ, sinβ)`.
//!   The ray of fan angle `γ` has direction `cosγ·d + sinγ·e`; it is the parallel-beam line
//!   `θ = β − γ`, `s = R_s·sinγ`. Flat detector: `γ_k = atan(u_k / (R_s + R_d))`; arc detector:
//!   `γ_k = u_k / (R_s + R_d)`. At `γ = 0` both coincide with the parallel ray of `θ = β`.
//!
//! Angles are in radians; a full fan scan covers 360°, a short scan 180° + the full fan angle
//! (Parker 1982). Sinograms have shape `(views, n_det)`.
//!
//! # References
//! - A. C. Kak, M. Slaney, *Principles of Computerized Tomographic Imaging*, IEEE Press 1988,
//!   ch. 3 (parallel, equiangular and equally spaced fan geometries).
//! - D. L. Parker, "Optimal short scan convolution reconstruction for fan beam CT",
//!   Med. Phys. 9(2), 1982.

use crate::{CtError, Result};

/// Beam geometry. Distances in mm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Beam {
    /// Parallel rays (synchrotron / rebinned data; the scikit-image and ASTRA `parallel` convention).
    Parallel,
    /// Fan beam onto a flat detector. `det_pitch_mm` is measured on the detector.
    FanFlat { source_iso_mm: f64, iso_det_mm: f64 },
    /// Fan beam onto an arc detector centred on the source (equiangular bins, third-generation
    /// clinical CT). `det_pitch_mm` is the arc length at the detector.
    FanArc { source_iso_mm: f64, iso_det_mm: f64 },
}

/// A 2-D CT acquisition.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    pub beam: Beam,
    /// Number of detector bins per view.
    pub n_det: usize,
    /// Bin pitch in mm at the detector (arc length for [`Beam::FanArc`]).
    pub det_pitch_mm: f64,
    /// Lateral detector shift in mm at the detector (quarter-detector offset etc.).
    pub det_offset_mm: f64,
    /// View angles in radians (`θ` for parallel beam, source angle `β` for fan beam).
    pub angles_rad: Vec<f64>,
}

/// `n` equally spaced angles over `arc_deg` degrees, endpoint excluded.
pub fn uniform_angles(n_views: usize, arc_deg: f64) -> Vec<f64> {
    let arc = arc_deg.to_radians();
    (0..n_views)
        .map(|i| i as f64 * arc / n_views.max(1) as f64)
        .collect()
}

impl Geometry {
    /// Parallel beam with `n_views` equally spaced views over `arc_deg` (180 or 360).
    pub fn parallel(n_det: usize, det_pitch_mm: f64, n_views: usize, arc_deg: f64) -> Self {
        Geometry {
            beam: Beam::Parallel,
            n_det,
            det_pitch_mm,
            det_offset_mm: 0.0,
            angles_rad: uniform_angles(n_views, arc_deg),
        }
    }

    /// Flat-detector fan beam with `n_views` equally spaced source angles over `arc_deg`.
    pub fn fan_flat(
        n_det: usize,
        det_pitch_mm: f64,
        source_iso_mm: f64,
        iso_det_mm: f64,
        n_views: usize,
        arc_deg: f64,
    ) -> Self {
        Geometry {
            beam: Beam::FanFlat {
                source_iso_mm,
                iso_det_mm,
            },
            n_det,
            det_pitch_mm,
            det_offset_mm: 0.0,
            angles_rad: uniform_angles(n_views, arc_deg),
        }
    }

    /// Equiangular (arc-detector) fan beam with `n_views` source angles over `arc_deg`.
    pub fn fan_arc(
        n_det: usize,
        det_pitch_mm: f64,
        source_iso_mm: f64,
        iso_det_mm: f64,
        n_views: usize,
        arc_deg: f64,
    ) -> Self {
        Geometry {
            beam: Beam::FanArc {
                source_iso_mm,
                iso_det_mm,
            },
            n_det,
            det_pitch_mm,
            det_offset_mm: 0.0,
            angles_rad: uniform_angles(n_views, arc_deg),
        }
    }

    /// The same geometry with another set of view angles (radians).
    pub fn with_angles(&self, angles: Vec<f64>) -> Self {
        Geometry {
            angles_rad: angles,
            ..self.clone()
        }
    }

    /// The same geometry with `n_views` equally spaced views over a short scan
    /// (180° + full fan angle; 180° for parallel beam).
    pub fn short_scan(&self, n_views: usize) -> Self {
        self.with_angles(uniform_angles(n_views, self.short_scan_arc_deg()))
    }

    /// 180° plus the full fan angle, in degrees (exactly 180 for parallel beam).
    pub fn short_scan_arc_deg(&self) -> f64 {
        180.0 + self.fan_angle_rad().to_degrees()
    }

    /// Number of views.
    pub fn n_views(&self) -> usize {
        self.angles_rad.len()
    }

    /// Source–isocentre distance (mm) for fan beams.
    pub fn source_iso_mm(&self) -> Option<f64> {
        match self.beam {
            Beam::Parallel => None,
            Beam::FanFlat { source_iso_mm, .. } | Beam::FanArc { source_iso_mm, .. } => {
                Some(source_iso_mm)
            }
        }
    }

    /// Source–detector distance (mm) for fan beams.
    pub fn source_det_mm(&self) -> Option<f64> {
        match self.beam {
            Beam::Parallel => None,
            Beam::FanFlat {
                source_iso_mm,
                iso_det_mm,
            }
            | Beam::FanArc {
                source_iso_mm,
                iso_det_mm,
            } => Some(source_iso_mm + iso_det_mm),
        }
    }

    /// Position of bin `k` along the detector, mm at the detector.
    #[inline]
    pub fn det_u_mm(&self, k: usize) -> f64 {
        (k as f64 - (self.n_det as f64 - 1.0) / 2.0) * self.det_pitch_mm + self.det_offset_mm
    }

    /// Fan angle `γ` (radians) of detector bin `k`; 0 for parallel beam.
    #[inline]
    pub fn gamma_rad(&self, k: usize) -> f64 {
        let u = self.det_u_mm(k);
        match self.beam {
            Beam::Parallel => 0.0,
            Beam::FanFlat {
                source_iso_mm,
                iso_det_mm,
            } => (u / (source_iso_mm + iso_det_mm)).atan(),
            Beam::FanArc {
                source_iso_mm,
                iso_det_mm,
            } => u / (source_iso_mm + iso_det_mm),
        }
    }

    /// Full fan angle (radians) spanned by the detector edges, `2·max|γ|` (0 for parallel beam).
    pub fn fan_angle_rad(&self) -> f64 {
        if matches!(self.beam, Beam::Parallel) || self.n_det == 0 {
            return 0.0;
        }
        let half = |u: f64| match self.beam {
            Beam::FanFlat {
                source_iso_mm,
                iso_det_mm,
            } => (u / (source_iso_mm + iso_det_mm)).atan().abs(),
            Beam::FanArc {
                source_iso_mm,
                iso_det_mm,
            } => (u / (source_iso_mm + iso_det_mm)).abs(),
            Beam::Parallel => 0.0,
        };
        let edge = self.n_det as f64 / 2.0 * self.det_pitch_mm;
        2.0 * half(self.det_offset_mm - edge).max(half(self.det_offset_mm + edge))
    }

    /// Radius (mm) of the circle around the isocentre seen by every view: the field of view.
    pub fn fov_radius_mm(&self) -> f64 {
        let edge = self.n_det as f64 / 2.0 * self.det_pitch_mm;
        let umin = (self.det_offset_mm - edge)
            .abs()
            .min((self.det_offset_mm + edge).abs());
        match self.beam {
            Beam::Parallel => umin,
            Beam::FanFlat {
                source_iso_mm,
                iso_det_mm,
            } => source_iso_mm * (umin / (source_iso_mm + iso_det_mm)).atan().sin(),
            Beam::FanArc {
                source_iso_mm,
                iso_det_mm,
            } => source_iso_mm * (umin / (source_iso_mm + iso_det_mm)).min(1.5).sin(),
        }
    }

    /// Check every value is finite and simulable.
    pub fn validate(&self) -> Result<()> {
        if self.n_det < 2 {
            return Err(param(
                "n_det",
                format!("need at least 2 detector bins, got {}", self.n_det),
            ));
        }
        if !(self.det_pitch_mm.is_finite() && self.det_pitch_mm > 0.0) {
            return Err(param(
                "det_pitch_mm",
                format!("must be finite and > 0, got {}", self.det_pitch_mm),
            ));
        }
        if !self.det_offset_mm.is_finite() {
            return Err(param("det_offset_mm", "must be finite".into()));
        }
        if self.angles_rad.is_empty() {
            return Err(param("angles_rad", "need at least one view".into()));
        }
        if self.angles_rad.iter().any(|a| !a.is_finite()) {
            return Err(param("angles_rad", "angles must be finite".into()));
        }
        if let Beam::FanFlat {
            source_iso_mm,
            iso_det_mm,
        }
        | Beam::FanArc {
            source_iso_mm,
            iso_det_mm,
        } = self.beam
        {
            if !(source_iso_mm.is_finite() && source_iso_mm > 0.0) {
                return Err(param(
                    "source_iso_mm",
                    format!("must be finite and > 0, got {source_iso_mm}"),
                ));
            }
            if !(iso_det_mm.is_finite() && iso_det_mm >= 0.0) {
                return Err(param(
                    "iso_det_mm",
                    format!("must be finite and ≥ 0, got {iso_det_mm}"),
                ));
            }
            if self.fan_angle_rad() >= 0.95 * std::f64::consts::PI {
                return Err(param(
                    "det_pitch_mm",
                    format!(
                        "the detector spans a fan angle of {:.1}° (must be < 171°)",
                        self.fan_angle_rad().to_degrees()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A square-pixel image grid centred at the isocentre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
    /// Pixel side in mm.
    pub pixel_mm: f64,
}

impl Grid {
    pub fn new(rows: usize, cols: usize, pixel_mm: f64) -> Self {
        Grid {
            rows,
            cols,
            pixel_mm,
        }
    }

    /// `x` (mm) of the centre of column `j`.
    #[inline]
    pub fn x_mm(&self, j: usize) -> f64 {
        (j as f64 - (self.cols as f64 - 1.0) / 2.0) * self.pixel_mm
    }

    /// `y` (mm) of the centre of row `i`.
    #[inline]
    pub fn y_mm(&self, i: usize) -> f64 {
        ((self.rows as f64 - 1.0) / 2.0 - i as f64) * self.pixel_mm
    }

    /// Half the diagonal of the grid's outer edges (mm): every pixel lies within this radius.
    pub fn half_diagonal_mm(&self) -> f64 {
        0.5 * self.pixel_mm * ((self.rows * self.rows + self.cols * self.cols) as f64).sqrt()
    }

    /// Check the grid is non-empty with a finite positive pixel size.
    pub fn validate(&self) -> Result<()> {
        if self.rows == 0 || self.cols == 0 {
            return Err(param(
                "grid",
                format!("empty grid {}×{}", self.rows, self.cols),
            ));
        }
        if !(self.pixel_mm.is_finite() && self.pixel_mm > 0.0) {
            return Err(param(
                "pixel_mm",
                format!("must be finite and > 0, got {}", self.pixel_mm),
            ));
        }
        Ok(())
    }
}

/// Check that a fan-beam source stays outside the grid (rays are half-lines from the source).
pub(crate) fn check_source_outside(geom: &Geometry, grid: &Grid) -> Result<()> {
    if let Some(r) = geom.source_iso_mm() {
        let h = grid.half_diagonal_mm();
        if r <= h {
            return Err(param(
                "source_iso_mm",
                format!("the source ({r} mm from the isocentre) must lie outside the image grid (half-diagonal {h:.1} mm)"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn param(param: &'static str, reason: String) -> CtError {
    CtError::Param { param, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fan_angle_and_short_scan() {
        let g = Geometry::fan_arc(100, 1.0, 500.0, 500.0, 10, 360.0);
        assert!((g.fan_angle_rad() - 0.1).abs() < 1e-12);
        assert!((g.short_scan_arc_deg() - (180.0 + 0.1f64.to_degrees())).abs() < 1e-9);
        let p = Geometry::parallel(10, 1.0, 4, 180.0);
        assert_eq!(p.angles_rad.len(), 4);
        assert!((p.angles_rad[1] - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
        assert_eq!(p.fan_angle_rad(), 0.0);
        assert!(Geometry::parallel(1, 1.0, 4, 180.0).validate().is_err());
        assert!(Geometry::parallel(8, -1.0, 4, 180.0).validate().is_err());
    }
}
