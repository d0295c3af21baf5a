//! `us.haze`: clutter / haze — diffuse acoustic noise that fills dark regions.
//!
//! Model: [`crate::effects::clutter`] — an independent field of random scatterers (same
//! density and PSF as the tissue, its own random stream) whose amplitude follows a depth profile
//! `a(z) = level · (floor + (1 − floor) · exp(−z / (near_field · D)))` relative to
//! unit-echogenicity tissue instead of the echogenicity map. `level = 0` is the clean render
//! (identity).
//!
//! Units: level as an amplitude fraction, near_field as a fraction of the imaging depth.
//! Reference: Lediju et al., "Sources of reverberation clutter in ultrasound images", IEEE
//! Ultrasonics Symp. 2010; Pinton et al., "Sources of image degradation in fundamental and
//! harmonic ultrasound imaging", IEEE TUFFC 58(9), 2011.

pub use crate::effects::clutter::Clutter;

use crate::error::UsError;
use crate::ops_common::render;
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};
use serde::{Deserialize, Serialize};

/// `us.haze` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HazeParams {
    pub probe: ProbeKind,
    pub seed: u64,
    pub haze: Clutter,
}

artefact_core::params! {
    /// The recipe parameters of [`Haze`] (the table; the record is [`HazeParams`], whose
    /// `haze` holds the last three as a [`Clutter`]).
    pub struct HazeKnobs {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// clutter amplitude relative to echogenicity-1 tissue (0 = identity; 0.03 ≈ −30 dB)
        pub level: f64 = float(0.05, [0.0, 10.0], "fraction"),
        /// e-folding depth of the near-field clutter / imaging depth
        pub near_field: f64 = float(0.3, [0.01, 10.0], "fraction"),
        /// fraction of the clutter level present at every depth
        pub floor: f64 = float(0.3, [0.0, 1.0], "fraction"),
    }
}

/// Clutter / haze.
pub struct Haze;

static INFO: OpInfo = OpInfo {
    name: "us.haze",
    modality: "US",
    doc: "diffuse clutter echoes (strongest near the probe) fill anechoic regions with haze \
          and lower contrast",
    params: HazeKnobs::PARAMS,
};

impl Operator for Haze {
    type Params = HazeParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<HazeParams, UsError> {
        let k = HazeKnobs::sample(spec, rng)?;
        Ok(HazeParams {
            probe: k.probe,
            seed: k.seed,
            haze: Clutter {
                level: k.level,
                near_field: k.near_field,
                floor: k.floor,
            },
        })
    }

    fn apply(p: &HazeParams, image: &Image) -> Result<Image, UsError> {
        HazeKnobs::level.check(p.haze.level)?;
        HazeKnobs::near_field.check(p.haze.near_field)?;
        HazeKnobs::floor.check(p.haze.floor)?;
        render(image, p.probe, &Settings::default(), &[&p.haze], p.seed)
    }
}
