//! `us.speckle`: speckle strength — too few scatterers per resolution cell.
//!
//! Model. The tissue is simulated with `N` scatterers per nominal resolution cell (axial FWHM ×
//! lateral FWHM at the focus; [`crate::scatterers`]). At `N ≥ 10` the speckle is fully
//! developed: the envelope is Rayleigh distributed with mean/std = √(π/(4 − π)) ≈ 1.91. With
//! fewer scatterers the envelope follows a K (or Nakagami-like, pre-Rayleigh) distribution with
//! mean/std < 1.91: a grainy, spotty texture of isolated bright points. The backscatter
//! coefficient (echogenicity) is kept, so the mean brightness does not change; only the
//! texture does. `N` equal to the clean setting (16) is the clean render (identity).
//!
//! Reference: R. F. Wagner, S. W. Smith, J. M. Sandrik, H. Lopez, "Statistics of speckle in
//! ultrasound B-scans", IEEE Trans. Sonics Ultrason. 30(3), 1983; P. M. Shankar, "A general
//! statistical model for ultrasonic backscattering from tissues", IEEE TUFFC 47(3), 2000.

use crate::error::{check_range, UsError};
use crate::ops_common::{render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use serde::{Deserialize, Serialize};

/// `us.speckle` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeckleParams {
    pub probe: ProbeKind,
    pub seed: u64,
    /// Scatterers per nominal resolution cell.
    pub scatterers_per_cell: f64,
}

/// Under-developed speckle (low scatterer density).
pub struct Speckle;

static INFO: OpInfo = OpInfo {
    name: "us.speckle",
    modality: "US",
    doc: "scatterer density below fully developed speckle: grainy, spotty K-distributed texture",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "scatterers_per_cell",
            kind: ParamKind::Float {
                min: 0.05,
                max: 100.0,
            },
            default: ParamDefault::Float(16.0),
            unit: "per resolution cell",
            doc: "scatterers per nominal resolution cell (16 = clean, fully developed; < 3 spotty)",
        },
    ],
};

impl Operator for Speckle {
    type Params = SpeckleParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SpeckleParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let n = spec.float(
            "scatterers_per_cell",
            Settings::default().scatterers_per_cell,
            rng,
        )?;
        check_range("scatterers_per_cell", n, 0.05, 100.0)?;
        Ok(SpeckleParams {
            probe,
            seed,
            scatterers_per_cell: n,
        })
    }

    fn apply(p: &SpeckleParams, image: &Image) -> Result<Image, UsError> {
        let s = Settings {
            scatterers_per_cell: p.scatterers_per_cell,
            ..Settings::default()
        };
        render(image, p.probe, &s, &[], p.seed)
    }
}
