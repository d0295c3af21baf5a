//! `us.low_resolution`: reduced resolution — lower centre frequency and/or wider beam.
//!
//! Model. The separable PSF ([`crate::psf`]) has axial size ∝ 1/(B·fc) and lateral size
//! ∝ λ·F# = c·F#/fc. Lowering the centre frequency by `fc_scale` (same fractional bandwidth)
//! enlarges both; `beam_width_scale` widens the lateral beam further (poor focusing, a wrong
//! focal zone, an aperture with dead elements). The scatterer field is unchanged (same seed,
//! same positions; the density is fixed per *nominal* resolution cell), so the degraded image
//! shows the same tissue realisation with coarser, blurrier speckle. Beams are energy-
//! normalised, so the mean brightness is preserved. Both factors equal to 1 is the clean
//! render (identity).
//!
//! Reference: Szabo, *Diagnostic Ultrasound Imaging: Inside Out*, 2014, ch. 7 (resolution);
//! Wagner et al. 1983 (speckle size follows the PSF).

use crate::error::{check_range, UsError};
use crate::ops_common::{render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use serde::{Deserialize, Serialize};

/// `us.low_resolution` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LowResolutionParams {
    pub probe: ProbeKind,
    pub seed: u64,
    /// Centre-frequency multiplier in `[0.25, 1]`.
    pub fc_scale: f64,
    /// Lateral beam-width multiplier in `[1, 8]`.
    pub beam_width_scale: f64,
}

/// Reduced resolution.
pub struct LowResolution;

static INFO: OpInfo = OpInfo {
    name: "us.low_resolution",
    modality: "US",
    doc: "lower centre frequency and/or wider beam: coarser speckle, blurred boundaries",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "fc_scale",
            kind: ParamKind::Float {
                min: 0.25,
                max: 1.0,
            },
            default: ParamDefault::Float(1.0),
            unit: "fraction",
            doc: "centre frequency / nominal (1 = identity)",
        },
        ParamInfo {
            name: "beam_width_scale",
            kind: ParamKind::Float { min: 1.0, max: 8.0 },
            default: ParamDefault::Float(1.0),
            unit: "factor",
            doc: "lateral beam width / nominal (1 = identity)",
        },
    ],
};

impl Operator for LowResolution {
    type Params = LowResolutionParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<LowResolutionParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let fc_scale = spec.float("fc_scale", 1.0, rng)?;
        check_range("fc_scale", fc_scale, 0.25, 1.0)?;
        let beam_width_scale = spec.float("beam_width_scale", 1.0, rng)?;
        check_range("beam_width_scale", beam_width_scale, 1.0, 8.0)?;
        Ok(LowResolutionParams {
            probe,
            seed,
            fc_scale,
            beam_width_scale,
        })
    }

    fn apply(p: &LowResolutionParams, image: &Image) -> Result<Image, UsError> {
        let s = Settings {
            fc_scale: p.fc_scale,
            beam_width_scale: p.beam_width_scale,
            ..Settings::default()
        };
        render(image, p.probe, &s, &[], p.seed)
    }
}
