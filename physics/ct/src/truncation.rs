//! `ct.truncation`: the detector is narrower than the body (data truncation).
//!
//! # Model
//! The scan field of view (FOV) is a circle of radius `r_fov = fov_fraction · r_body` around the
//! isocentre, where `r_body` is the largest distance of a body pixel (> −500 HU) from the
//! centre. Only the detector bins whose rays pass within `r_fov` exist (a centred, narrower
//! detector with the same pitch and the same views); the body outside the FOV still attenuates
//! every ray that crosses it, but the rays that would have measured it alone are missing.
//! FBP with the ramp filter of the projections truncated at a non-zero value over-estimates
//! μ near the FOV edge: a **bright rim** at `r_fov`, with cupping/shading inwards. As on a
//! scanner, pixels outside the scan FOV are not reconstructed and are shown as air
//! (−1000 HU). `fov_fraction ≥` the body's full extent gives the pipeline's clean image
//! (up to the masking of pixels outside the FOV).
//!
//! # Typical severities
//! mild: `fov_fraction` 0.85–0.95 (thin bright rim, edge of body cut); severe: 0.55–0.7
//! (large part cut, strong rim and shading).
//!
//! # References
//! - J. Hsieh, E. Chao, J. Thibault et al., "A novel reconstruction algorithm to extend the CT
//!   scan field-of-view", Med. Phys. 31(9), 2004 (truncation artefacts).
//! - B. Ohnesorge, T. Flohr, K. Schwarz, J. P. Heiken, K. T. Bae, "Efficient correction for CT
//!   image artifacts caused by objects extending outside the scan field of view", Med. Phys.
//!   27(1), 2000.

use crate::corrupt_util::{body_radius_mm, check_hu, ray_distance_mm};
use crate::geometry::Geometry;
use crate::pipeline::{reconstruct_hu_with, to_mu_fine_with, ScanSettings};
use crate::units::HU_AIR;
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// Parameters of `ct.truncation`.
    pub struct TruncationParams {
        /// scan-FOV radius / body radius (mild 0.85–0.95, severe 0.55–0.7)
        pub fov_fraction: f64 = float(0.85, [0.3, 1.0], "fraction"),
        /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
        /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
        #[serde(default = "ScanSettings::legacy")]
        pub scan: ScanSettings = derived(ScanSettings::default()),
    }
}

static INFO: OpInfo = OpInfo {
    name: "ct.truncation",
    modality: "CT",
    doc: "Truncation: detector narrower than the body (FOV radius = fov_fraction × body radius), \
          FBP → bright rim at the FOV edge and shading; outside the FOV shown as air. Mild: \
          0.85–0.95; severe: 0.55–0.7.",
    params: TruncationParams::PARAMS,
};

impl TruncationParams {}

/// The truncated geometry: the contiguous bins of `full` whose rays pass within `r_fov_mm` of
/// the isocentre (same pitch, same views, re-centred offset). `None` if nothing is cut.
pub fn truncated_geometry(full: &Geometry, r_fov_mm: f64) -> Result<Option<Geometry>> {
    Ok(truncated_bins(full, r_fov_mm)?.map(|(_, g)| g))
}

/// [`truncated_geometry`] with the index in `full` of its first bin.
fn truncated_bins(full: &Geometry, r_fov_mm: f64) -> Result<Option<(usize, Geometry)>> {
    let inside: Vec<usize> = (0..full.n_det)
        .filter(|&k| ray_distance_mm(full, k).abs() <= r_fov_mm)
        .collect();
    if inside.len() == full.n_det {
        return Ok(None);
    }
    if inside.len() < 2 {
        return Err(CtError::Param {
            param: "fov_fraction",
            reason: format!("a FOV of radius {r_fov_mm:.1} mm leaves fewer than 2 detector bins"),
        });
    }
    let (k0, k1) = (inside[0], *inside.last().expect("non-empty"));
    let n = k1 - k0 + 1;
    let offset = full.det_u_mm(k0) + (n as f64 - 1.0) / 2.0 * full.det_pitch_mm;
    Ok(Some((
        k0,
        Geometry {
            n_det: n,
            det_offset_mm: offset,
            ..full.clone()
        },
    )))
}

/// Apply with an explicit scan (the operator uses the recorded `params.scan`).
pub fn apply_with(params: &TruncationParams, image: &Image, scan: &ScanSettings) -> Result<Image> {
    check_hu(image)?;
    params.validate()?;
    let full = scan.geometry_for(image)?;
    let r_body = body_radius_mm(image);
    let r_fov = params.fov_fraction * r_body;
    if r_body <= 0.0 {
        return Err(CtError::Input(
            "no body (pixels above −500 HU) to truncate".into(),
        ));
    }
    let (mu, grid) = to_mu_fine_with(image, scan.upsample, scan.mu_water);
    // the truncated detector is bins k0..=k1 of the full one (the same rays): cut them from
    // the (memoised) clean full scan, shared with the other attributes of the slice
    let all = crate::memo::forward(mu.view(), &grid, &full)?;
    let (geom, sino) = match truncated_bins(&full, r_fov)? {
        Some((k0, g)) => {
            let sino = all.slice(ndarray::s![.., k0..k0 + g.n_det]).to_owned();
            (g, sino)
        }
        None => (full, all.as_ref().clone()),
    };
    let mut out = reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water)?;
    // outside the scan FOV nothing is reconstructed: show air
    let r_show = geom.fov_radius_mm().min(r_fov.max(0.0));
    let (rows, cols) = out.data.dim();
    let (cr, cc) = ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
    let [sr, sc] = out.spacing;
    for ((i, j), v) in out.data.indexed_iter_mut() {
        let y = (i as f64 - cr) * sr;
        let x = (j as f64 - cc) * sc;
        if x * x + y * y > r_show * r_show {
            *v = HU_AIR;
        }
    }
    Ok(out)
}

/// The `ct.truncation` operator.
pub struct Truncation;

impl Operator for Truncation {
    type Params = TruncationParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<TruncationParams> {
        Ok(TruncationParams::sample(spec, rng)?)
    }

    fn apply(params: &TruncationParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan)
    }
}
