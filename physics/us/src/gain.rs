//! `us.gain`: receiver gain set too low or too high.
//!
//! Model. The overall receiver gain `G` (dB) shifts every echo before log compression:
//! `v = clip(1 + (20·log10(env) + G) / DR, 0, 1)`. Too low a gain pushes weak echoes below the
//! display floor (a dark image that loses low-level tissue); too high a gain saturates bright
//! tissue and lifts noise and anechoic regions (a washed-out image). `G = 0` is the clean
//! render (identity).
//!
//! Units: dB. Reference: Szabo, *Diagnostic Ultrasound Imaging: Inside Out*, 2014, §10.6.

use crate::error::{check_range, UsError};
use crate::ops_common::{render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use serde::{Deserialize, Serialize};

/// `us.gain` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GainParams {
    pub probe: ProbeKind,
    pub seed: u64,
    /// Gain error, dB (negative = too low, positive = too high).
    pub gain_db: f64,
}

/// Gain too low or too high.
pub struct Gain;

static INFO: OpInfo = OpInfo {
    name: "us.gain",
    modality: "US",
    doc: "receiver gain too low (dark, weak echoes lost) or too high (saturated, washed out)",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "gain_db",
            kind: ParamKind::Float {
                min: -60.0,
                max: 60.0,
            },
            default: ParamDefault::Float(0.0),
            unit: "dB",
            doc: "gain error added before log compression (0 = identity)",
        },
    ],
};

impl Operator for Gain {
    type Params = GainParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<GainParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let gain_db = spec.float("gain_db", 0.0, rng)?;
        check_range("gain_db", gain_db, -60.0, 60.0)?;
        Ok(GainParams {
            probe,
            seed,
            gain_db,
        })
    }

    fn apply(p: &GainParams, image: &Image) -> Result<Image, UsError> {
        let s = Settings {
            gain_db: p.gain_db,
            ..Settings::default()
        };
        render(image, p.probe, &s, &[], p.seed)
    }
}
