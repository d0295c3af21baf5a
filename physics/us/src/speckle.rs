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

use crate::error::UsError;
use crate::ops_common::render;
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// `us.speckle` parameters (the recipe table, sampling, validation and the record).
    pub struct SpeckleParams {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// scatterers per nominal resolution cell (16 = clean, fully developed; < 3 spotty)
        pub scatterers_per_cell: f64 = float(16.0, [0.05, 100.0], "per resolution cell"),
    }
}

/// Under-developed speckle (low scatterer density).
pub struct Speckle;

static INFO: OpInfo = OpInfo {
    name: "us.speckle",
    modality: "US",
    doc: "scatterer density below fully developed speckle: grainy, spotty K-distributed texture",
    params: SpeckleParams::PARAMS,
};

impl Operator for Speckle {
    type Params = SpeckleParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SpeckleParams, UsError> {
        Ok(SpeckleParams::sample(spec, rng)?)
    }

    fn apply(p: &SpeckleParams, image: &Image) -> Result<Image, UsError> {
        p.validate()?;
        let s = Settings {
            scatterers_per_cell: p.scatterers_per_cell,
            ..Settings::default()
        };
        render(image, p.probe, &s, &[], p.seed)
    }
}
