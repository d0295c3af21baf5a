//! `us.reverberation`: multiple reflections between the probe face and a bright interface.
//!
//! Model: [`crate::effects::reverberation`] — a bright interface parallel to the probe at
//! depth `d` with amplitude reflection coefficient `R` returns echoes at `d, 2d, 3d, …` with
//! amplitudes `R^k` times a specular level. `R = 0` is the clean render (identity). Depth,
//! centre and width are uniform in the documented ranges when the spec does not name them.
//!
//! Units: depths and widths as fractions of the imaging depth / lateral field of view,
//! reflectivity as an amplitude fraction. Reference: Szabo, *Diagnostic Ultrasound Imaging:
//! Inside Out*, 2014, §10.11; Feldman et al., "US artifacts", RadioGraphics 29(4), 2009.

pub use crate::effects::reverberation::ReverberatingInterface;

use crate::effects::Effect;
use crate::error::UsError;
use crate::ops_common::{float_or_uniform, render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use serde::{Deserialize, Serialize};

/// `us.reverberation` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReverberationParams {
    pub probe: ProbeKind,
    pub seed: u64,
    pub reverberation: ReverberatingInterface,
}

/// Reverberation: echoes of a bright interface repeated at multiples of its depth.
pub struct Reverberation;

static INFO: OpInfo = OpInfo {
    name: "us.reverberation",
    modality: "US",
    doc: "a bright interface parallel to the probe repeats at 2, 3, … times its depth with \
          amplitudes decaying as R^k (multiple reflections between probe face and interface)",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "reflectivity",
            kind: ParamKind::Float {
                min: 0.0,
                max: 0.99,
            },
            default: ParamDefault::Float(0.7),
            unit: "fraction",
            doc: "amplitude reflection coefficient R of the interface (0 = identity)",
        },
        ParamInfo {
            name: "depth",
            kind: ParamKind::Float {
                min: 0.005,
                max: 1.0,
            },
            default: ParamDefault::Float(0.1),
            unit: "fraction",
            doc: "interface depth / imaging depth (uniform in [0.05, 0.15] when absent)",
        },
        ParamInfo {
            name: "center",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.5),
            unit: "fraction",
            doc: "lateral centre / field of view (uniform in [0.3, 0.7] when absent)",
        },
        ParamInfo {
            name: "width",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.6),
            unit: "fraction",
            doc: "lateral extent / field of view (uniform in [0.3, 0.9] when absent)",
        },
        ParamInfo {
            name: "echoes",
            kind: ParamKind::Int { min: 1, max: 200 },
            default: ParamDefault::Int(10),
            unit: "",
            doc: "largest number of echoes (the interface is the first)",
        },
    ],
};

impl Operator for Reverberation {
    type Params = ReverberationParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ReverberationParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let reflectivity = spec.float("reflectivity", 0.7, rng)?;
        let depth_frac = float_or_uniform(spec, "depth", (0.05, 0.15), (0.005, 1.0), rng)?;
        let center_frac = float_or_uniform(spec, "center", (0.3, 0.7), (0.0, 1.0), rng)?;
        let width_frac = float_or_uniform(spec, "width", (0.3, 0.9), (0.0, 1.0), rng)?;
        let echoes = spec.int("echoes", 10, rng)?;
        let rv = ReverberatingInterface {
            depth_frac,
            center_frac,
            width_frac,
            reflectivity,
            max_echoes: echoes.clamp(0, 1000) as usize,
        };
        rv.validate()?;
        Ok(ReverberationParams {
            probe,
            seed,
            reverberation: rv,
        })
    }

    fn apply(p: &ReverberationParams, image: &Image) -> Result<Image, UsError> {
        render(
            image,
            p.probe,
            &Settings::default(),
            &[&p.reverberation],
            p.seed,
        )
    }
}
