//! `us.attenuation`: depth attenuation with a wrong or missing time-gain compensation (TGC).
//!
//! Model: [`crate::effects::tgc`] — soft tissue attenuates echoes by `2·α·f·z` dB (round
//! trip) and the TGC compensates only a fraction `c` of it, plus per-slider gain errors:
//! `G(z) [dB] = −2·α·f·z·(1 − c) + slider(z)`. `c = 1` with no slider error is the clean render
//! (identity). The slider errors are drawn here: `sliders` values, each `N(0, σ²)` clipped to
//! ±2σ, with `σ = slider_error_db`.
//!
//! Units: α dB/cm/MHz, gains dB. Reference: Szabo, *Diagnostic Ultrasound Imaging: Inside
//! Out*, 2014, ch. 4 (attenuation) and §10.6 (TGC).

use crate::effects::tgc::Tgc;
use crate::error::{check_range, UsError};
use crate::ops_common::{render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// `us.attenuation` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttenuationParams {
    pub probe: ProbeKind,
    pub seed: u64,
    /// Tissue attenuation, dB/cm/MHz.
    pub alpha_db_cm_mhz: f64,
    /// Fraction of the attenuation compensated by the TGC.
    pub tgc_compensation: f64,
    /// Slider gain errors, dB, equally spaced in depth (empty = none).
    pub tgc_slider_db: Vec<f64>,
}

/// Depth attenuation with wrong or missing TGC.
pub struct Attenuation;

static INFO: OpInfo = OpInfo {
    name: "us.attenuation",
    modality: "US",
    doc: "depth attenuation (α·f dB/cm, round trip) with a TGC that compensates only part of \
          it (or too much), plus TGC slider errors: the image darkens (or brightens) with depth",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "alpha",
            kind: ParamKind::Float { min: 0.0, max: 5.0 },
            default: ParamDefault::Float(0.5),
            unit: "dB/cm/MHz",
            doc: "tissue attenuation coefficient (one way)",
        },
        ParamInfo {
            name: "tgc_compensation",
            kind: ParamKind::Float { min: 0.0, max: 3.0 },
            default: ParamDefault::Float(1.0),
            unit: "fraction",
            doc: "fraction of the round-trip attenuation the TGC compensates (1 = correct, 0 = no TGC)",
        },
        ParamInfo {
            name: "slider_error_db",
            kind: ParamKind::Float { min: 0.0, max: 30.0 },
            default: ParamDefault::Float(0.0),
            unit: "dB",
            doc: "standard deviation of per-slider TGC gain errors (0 = none)",
        },
        ParamInfo {
            name: "sliders",
            kind: ParamKind::Int { min: 2, max: 16 },
            default: ParamDefault::Int(8),
            unit: "",
            doc: "number of TGC sliders (equally spaced in depth)",
        },
    ],
};

impl Operator for Attenuation {
    type Params = AttenuationParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<AttenuationParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let alpha = spec.float("alpha", 0.5, rng)?;
        check_range("alpha", alpha, 0.0, 5.0)?;
        let comp = spec.float("tgc_compensation", 1.0, rng)?;
        check_range("tgc_compensation", comp, 0.0, 3.0)?;
        let err = spec.float("slider_error_db", 0.0, rng)?;
        check_range("slider_error_db", err, 0.0, 30.0)?;
        let n = spec.int("sliders", 8, rng)?;
        if !(2..=16).contains(&n) {
            return Err(UsError::param("sliders", format!("{n} is outside [2, 16]")));
        }
        let sliders = if err > 0.0 {
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    (err * z).clamp(-2.0 * err, 2.0 * err).clamp(-60.0, 60.0)
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(AttenuationParams {
            probe,
            seed,
            alpha_db_cm_mhz: alpha,
            tgc_compensation: comp,
            tgc_slider_db: sliders,
        })
    }

    fn apply(p: &AttenuationParams, image: &Image) -> Result<Image, UsError> {
        let tgc = Tgc {
            alpha_db_cm_mhz: p.alpha_db_cm_mhz,
            compensation: p.tgc_compensation,
            slider_db: p.tgc_slider_db.clone(),
        };
        render(image, p.probe, &Settings::default(), &[&tgc], p.seed)
    }
}
