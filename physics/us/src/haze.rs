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

use crate::effects::Effect;
use crate::error::UsError;
use crate::ops_common::{render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use serde::{Deserialize, Serialize};

/// `us.haze` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HazeParams {
    pub probe: ProbeKind,
    pub seed: u64,
    pub haze: Clutter,
}

/// Clutter / haze.
pub struct Haze;

static INFO: OpInfo = OpInfo {
    name: "us.haze",
    modality: "US",
    doc: "diffuse clutter echoes (strongest near the probe) fill anechoic regions with haze \
          and lower contrast",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "level",
            kind: ParamKind::Float {
                min: 0.0,
                max: 10.0,
            },
            default: ParamDefault::Float(0.05),
            unit: "fraction",
            doc:
                "clutter amplitude relative to echogenicity-1 tissue (0 = identity; 0.03 ≈ −30 dB)",
        },
        ParamInfo {
            name: "near_field",
            kind: ParamKind::Float {
                min: 0.01,
                max: 10.0,
            },
            default: ParamDefault::Float(0.3),
            unit: "fraction",
            doc: "e-folding depth of the near-field clutter / imaging depth",
        },
        ParamInfo {
            name: "floor",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.3),
            unit: "fraction",
            doc: "fraction of the clutter level present at every depth",
        },
    ],
};

impl Operator for Haze {
    type Params = HazeParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<HazeParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let haze = Clutter {
            level: spec.float("level", 0.05, rng)?,
            near_field: spec.float("near_field", 0.3, rng)?,
            floor: spec.float("floor", 0.3, rng)?,
        };
        haze.validate()?;
        Ok(HazeParams { probe, seed, haze })
    }

    fn apply(p: &HazeParams, image: &Image) -> Result<Image, UsError> {
        render(image, p.probe, &Settings::default(), &[&p.haze], p.seed)
    }
}
