//! `ct.limited_angle`: a contiguous wedge of view angles is missing (limited-angle tomography).
//!
//! # Model
//! A complete data set is a **short scan**: 180° for parallel beam, 180° + the full fan angle
//! for fan beam (Parker-weighted FBP, [`crate::fbp`]). `ct.limited_angle` acquires only the
//! contiguous arc `[start, start + arc_short − missing)`, i.e. a wedge of `missing_deg` degrees
//! of projection directions is absent, and reconstructs with FBP over the views it has (no
//! extrapolation; the angular weights of the remaining views are unchanged, so the missing
//! wedge acts as zero data). Edges tangent to the missing directions blur out and streaks fan
//! out along the limits of the wedge — the classic limited-angle artefact. The wedge's
//! orientation is `start_deg` (sampled uniformly by default). `missing_deg = 0` is exactly the
//! pipeline's complete short scan ([`short_scan_settings`]).
//!
//! # Typical severities
//! mild: `missing_deg` 15–30 (directional blur of some edges); severe: 60–90 (strong
//! directional smearing and wedge streaks).
//!
//! # References
//! - D. L. Parker, Med. Phys. 9(2), 1982 (short scan).
//! - E. T. Quinto, "Singularities of the X-ray transform and limited data tomography in R² and
//!   R³", SIAM J. Math. Anal. 24(5), 1993 (which edges are lost in a missing wedge).

use crate::corrupt_util::check_hu;
use crate::pipeline::{reconstruct_hu_with, to_mu_fine_with, ScanSettings};
use crate::projector::try_forward;
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// Parameters of `ct.limited_angle`.
    pub struct LimitedAngleParams {
        /// missing wedge of the short scan (mild 15–30, severe 60–90)
        pub missing_deg: f64 = float(30.0, [0.0, 150.0], "deg"),
        /// start angle of the acquired arc (orientation of the wedge; uniform in [0, 360) when absent)
        pub start_deg: f64 = sampled_float([0.0, 360.0], "deg"),
        /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
        /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
        #[serde(default = "ScanSettings::legacy")]
        pub scan: ScanSettings = derived(ScanSettings::default()),
    }
}

static INFO: OpInfo = OpInfo {
    name: "ct.limited_angle",
    modality: "CT",
    doc: "Limited-angle CT: a contiguous wedge of missing_deg degrees is absent from the short \
          scan (180° + fan), FBP of the rest → directional blur and wedge streaks. Mild: 15–30°; \
          severe: 60–90°.",
    params: LimitedAngleParams::PARAMS,
};

impl LimitedAngleParams {}

/// The complete (short-scan) settings that `ct.limited_angle` removes a wedge from.
pub fn short_scan_settings(scan: &ScanSettings) -> ScanSettings {
    ScanSettings {
        short_scan: true,
        arc_deg: None,
        ..scan.clone()
    }
}

/// Apply with an explicit scan (its beam, detector and filter; the arc is replaced by the short
/// scan). The operator uses the recorded `params.scan`.
pub fn apply_with(
    params: &LimitedAngleParams,
    image: &Image,
    scan: &ScanSettings,
) -> Result<Image> {
    check_hu(image)?;
    params.validate()?;
    let full = short_scan_settings(scan).geometry_for(image)?;
    let n = full.n_views();
    let step = full.angles_rad.get(1).copied().unwrap_or(0.0) - full.angles_rad[0];
    let arc = step * n as f64;
    let keep_arc = arc - params.missing_deg.to_radians();
    let start = params.start_deg.to_radians();
    let kept: Vec<f64> = full
        .angles_rad
        .iter()
        .filter(|&&a| a - full.angles_rad[0] < keep_arc - 1e-9 * arc)
        .map(|&a| a + start)
        .collect();
    if kept.len() < 2 {
        return Err(CtError::Param {
            param: "missing_deg",
            reason: format!(
                "a wedge of {}° leaves fewer than 2 views",
                params.missing_deg
            ),
        });
    }
    let geom = full.with_angles(kept);
    let (mu, grid) = to_mu_fine_with(image, scan.upsample, scan.mu_water);
    let sino = try_forward(mu.view(), &grid, &geom)?;
    reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water)
}

/// The `ct.limited_angle` operator.
pub struct LimitedAngle;

impl Operator for LimitedAngle {
    type Params = LimitedAngleParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<LimitedAngleParams> {
        Ok(LimitedAngleParams::sample(spec, rng)?)
    }

    fn apply(params: &LimitedAngleParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan)
    }
}
