//! Small helpers shared by the projection-domain corruption operators (ray
//! geometry of a detector bin, body masks). No physics model of its own.

use crate::geometry::{Beam, Geometry};
use crate::{CtError, Result};
use artefact_core::{Image, Unit};

/// Signed distance (mm) from the isocentre of the ray measured by detector bin `k`
/// (parallel: `u_k`; fan: `R_s·sin γ_k`). A constant error on bin `k` in every view therefore
/// reconstructs as a ring of radius `|ray_distance_mm(geom, k)|`.
pub fn ray_distance_mm(geom: &Geometry, k: usize) -> f64 {
    match geom.beam {
        Beam::Parallel => geom.det_u_mm(k),
        Beam::FanFlat { source_iso_mm, .. } | Beam::FanArc { source_iso_mm, .. } => {
            source_iso_mm * geom.gamma_rad(k).sin()
        }
    }
}

/// Refuse images that are not CT in HU.
pub fn check_hu(image: &Image) -> Result<()> {
    if image.unit != Unit::Hu {
        return Err(CtError::Input(format!(
            "CT operators need an image in HU, got unit `{}`",
            image.unit
        )));
    }
    if image.data.iter().any(|v| !v.is_finite()) {
        return Err(CtError::Input("image holds NaN or infinite values".into()));
    }
    Ok(())
}

/// Body mask threshold (HU): tissue is above, air and padding below.
pub const BODY_HU: f32 = -500.0;

/// Largest distance (mm) from the image centre (the isocentre) of any pixel above
/// [`BODY_HU`]; 0 when the image holds no body.
pub fn body_radius_mm(image: &Image) -> f64 {
    let (rows, cols) = image.data.dim();
    let (cr, cc) = ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
    let mut r2 = 0.0f64;
    for ((i, j), &v) in image.data.indexed_iter() {
        if v > BODY_HU {
            let y = (i as f64 - cr) * image.spacing[0];
            let x = (j as f64 - cc) * image.spacing[1];
            // outer corner of the pixel
            let y = y.abs() + 0.5 * image.spacing[0];
            let x = x.abs() + 0.5 * image.spacing[1];
            r2 = r2.max(x * x + y * y);
        }
    }
    r2.sqrt()
}
