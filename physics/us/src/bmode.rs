//! `us.bmode`: the clean B-mode render of an echogenicity map.
//!
//! Model: the engine ([`crate::engine`]) with the default [`Settings`] and no effect —
//! scatterers with amplitudes from the echogenicity map, separable PSF, envelope, 60 dB log
//! compression and scan conversion for the chosen probe preset. It is the reference every
//! ultrasound degradation is compared with: a degradation operator with the same `probe` and
//! `seed` renders the same scatterer realisation and differs only by its degradation (each of
//! them at zero strength gives exactly this image). The dataset builder shows it as the clean
//! image of an ultrasound source, with the probe and seed shared by all renders of a slice.
//!
//! Units: input echogenicity in `[0, 1]`; output display grey in `[0, 1]`. References: see the
//! crate docs (Wagner et al. 1983; Bamber & Dickinson 1980; Szabo 2014).

use crate::error::UsError;
use crate::ops_common::render;
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// `us.bmode` parameters (the recipe table, sampling, validation and the record).
    pub struct BmodeParams {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
    }
}

/// The clean B-mode render.
pub struct Bmode;

static INFO: OpInfo = OpInfo {
    name: "us.bmode",
    modality: "US",
    doc: "clean B-mode image of an echogenicity map (fully developed speckle, 60 dB display, \
          scan conversion for the probe): the reference of every ultrasound degradation",
    params: BmodeParams::PARAMS,
};

impl Operator for Bmode {
    type Params = BmodeParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<BmodeParams, UsError> {
        Ok(BmodeParams::sample(spec, rng)?)
    }

    fn apply(p: &BmodeParams, image: &Image) -> Result<Image, UsError> {
        p.validate()?;
        render(image, p.probe, &Settings::default(), &[], p.seed)
    }
}
