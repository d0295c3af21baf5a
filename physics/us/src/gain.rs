//! `us.gain`: receiver gain set too low or too high.
//!
//! Model. The overall receiver gain `G` (dB) shifts every echo before log compression:
//! `v = clip(1 + (20·log10(env) + G) / DR, 0, 1)`. Too low a gain pushes weak echoes below the
//! display floor (a dark image that loses low-level tissue); too high a gain saturates bright
//! tissue and lifts noise and anechoic regions (a washed-out image). `G = 0` is the clean
//! render (identity).
//!
//! Units: dB. Reference: Szabo, *Diagnostic Ultrasound Imaging: Inside Out*, 2014, §10.6.

use crate::error::UsError;
use crate::ops_common::render;
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// `us.gain` parameters (the recipe table, sampling, validation and the record).
    pub struct GainParams {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// gain error added before log compression (0 = identity)
        pub gain_db: f64 = float(0.0, [-60.0, 60.0], "dB"),
    }
}

/// Gain too low or too high.
pub struct Gain;

static INFO: OpInfo = OpInfo {
    name: "us.gain",
    modality: "US",
    doc: "receiver gain too low (dark, weak echoes lost) or too high (saturated, washed out)",
    params: GainParams::PARAMS,
};

impl Operator for Gain {
    type Params = GainParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<GainParams, UsError> {
        Ok(GainParams::sample(spec, rng)?)
    }

    fn apply(p: &GainParams, image: &Image) -> Result<Image, UsError> {
        p.validate()?;
        let s = Settings {
            gain_db: p.gain_db,
            ..Settings::default()
        };
        render(image, p.probe, &s, &[], p.seed)
    }
}
