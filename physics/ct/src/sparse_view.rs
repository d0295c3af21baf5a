//! `ct.sparse_view`: sparse-view acquisition (every k-th view kept) reconstructed with FBP.
//!
//! # Model
//! The scan of the shared pipeline ([`crate::pipeline`], default: arc fan beam, 360°, ≈ 1.5
//! views per detector bin) keeps only views `0, k, 2k, …`; only those are projected (from the
//! 2× finer grid) and FBP reconstructs with the reduced angle set (angular weights `k·Δβ`,
//! [`crate::fbp::view_weights`]). Angular undersampling violates the sampling condition
//! (≈ π/2 · n_det views for a 360° scan), so high-contrast edges produce the radial streaks
//! typical of sparse-view CT. `keep_every = 1` is exactly the pipeline's clean reconstruction.
//!
//! # Typical severities
//! With ≈ 1100 views for a 512² slice (≈ 290 for 128²): mild `keep_every` 3–6 (fine streaks
//! far from the body), severe 12–24 (≈ 50–90 views: dense streaks across the body).
//!
//! # References
//! - E. Y. Sidky, X. Pan, "Image reconstruction in circular cone-beam computed tomography by
//!   constrained, total-variation minimization", Phys. Med. Biol. 53, 2008 (sparse-view CT).
//! - A. C. Kak, M. Slaney, *Principles of Computerized Tomographic Imaging*, 1988, §5.1
//!   (angular aliasing).

use crate::corrupt_util::check_hu;
use crate::pipeline::{reconstruct_hu_with, to_mu_fine_with, ScanSettings};
use crate::projector::try_forward;
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// Parameters of `ct.sparse_view`.
    pub struct SparseViewParams {
        /// keep every k-th of the ≈1.5 views per detector bin (mild 3–6, severe 12–24); 1 = full scan
        pub keep_every: u32 = int(4, [1, 64], "views"),
        /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
        /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
        #[serde(default = "ScanSettings::legacy")]
        pub scan: ScanSettings = derived(ScanSettings::default()),
    }
}

static INFO: OpInfo = OpInfo {
    name: "ct.sparse_view",
    modality: "CT",
    doc: "Sparse-view CT: keep every k-th view of the 360° fan-beam scan and reconstruct with FBP \
          → radial streaks. Mild: k 3–6; severe: k 12–24.",
    params: SparseViewParams::PARAMS,
};

impl SparseViewParams {}

/// Apply with an explicit scan (the operator uses the recorded `params.scan`).
pub fn apply_with(params: &SparseViewParams, image: &Image, scan: &ScanSettings) -> Result<Image> {
    check_hu(image)?;
    params.validate()?;
    let full = scan.geometry_for(image)?;
    let kept: Vec<f64> = full
        .angles_rad
        .iter()
        .step_by(params.keep_every as usize)
        .copied()
        .collect();
    if kept.len() < 2 {
        return Err(CtError::Param {
            param: "keep_every",
            reason: format!(
                "keeping every {}-th of {} views leaves fewer than 2",
                params.keep_every,
                full.n_views()
            ),
        });
    }
    let geom = full.with_angles(kept);
    let (mu, grid) = to_mu_fine_with(image, scan.upsample, scan.mu_water);
    // a view's line integrals depend only on its angle: if the full scan of this image is
    // memoised (another attribute of the same slice), its kept rows are this sinogram bit for
    // bit; otherwise project the kept views only
    let step = params.keep_every as usize;
    let sino = match crate::memo::forward_if_known(mu.view(), &grid, &full) {
        Some(all) => all.slice(ndarray::s![..;step, ..]).to_owned(),
        None => try_forward(mu.view(), &grid, &geom)?,
    };
    reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water)
}

/// The `ct.sparse_view` operator.
pub struct SparseView;

impl Operator for SparseView {
    type Params = SparseViewParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SparseViewParams> {
        Ok(SparseViewParams::sample(spec, rng)?)
    }

    fn apply(params: &SparseViewParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan)
    }
}
