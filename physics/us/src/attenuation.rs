//! `us.attenuation`: depth attenuation with a wrong or missing time-gain compensation (TGC).
//!
//! Model. Soft tissue attenuates ultrasound by `α·f` dB/cm one way (`α` in dB/cm/MHz, ≈ 0.5 for
//! soft tissue, `f` the centre frequency in MHz), so an echo from depth `z` (cm) is weaker by
//! `2·α·f·z` dB (round trip). The scanner's TGC adds a depth-dependent gain; a correct TGC
//! cancels the attenuation exactly. This operator models a TGC that compensates only a
//! fraction `c` of it (`c = 0`: no TGC; `c = 1`: correct; `c > 1`: over-compensation) plus
//! per-slider errors (the piecewise-linear gain curve of the TGC slider bank), giving a net
//! echo gain
//!
//! ```text
//! G(z) [dB] = −2·α·f·z·(1 − c) + slider(z)
//! ```
//!
//! applied to the echoes before envelope detection and log compression (the display darkens
//! with depth linearly in dB). `c = 1` with no slider error is the clean render (identity).
//! Frequency-dependent spectral downshift is not modelled.
//!
//! Units: α dB/cm/MHz, depth cm, gains dB. Reference: Szabo, *Diagnostic Ultrasound Imaging:
//! Inside Out*, 2014, ch. 4 (attenuation) and §10.6 (TGC).

use crate::bmode::{render, sample_common, Settings, PROBE_PARAM, SEED_PARAM};
use crate::error::{check_range, UsError};
use crate::probe::ProbeKind;
use crate::rf::Sim;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Net echo gain per depth row of `sim` (linear amplitude factor), `None` when it is 1.
pub(crate) fn depth_gain(sim: &Sim, s: &Settings) -> Option<Vec<f64>> {
    let sliders = s.tgc_slider_db.iter().any(|&v| v != 0.0);
    if s.tgc_compensation == 1.0 && !sliders {
        return None;
    }
    let g = &sim.geom;
    let per_cm = -2.0 * s.alpha_db_cm_mhz * sim.psf.fc_mhz * (1.0 - s.tgc_compensation);
    Some(
        (0..g.n_r)
            .map(|m| {
                let r = g.r_of(m as f64);
                let mut db = per_cm * r / 10.0;
                if sliders {
                    db += slider_db(&s.tgc_slider_db, r / g.depth);
                }
                10f64.powf(db / 20.0)
            })
            .collect(),
    )
}

/// Piecewise-linear slider curve at relative depth `t ∈ [0, 1]`.
fn slider_db(sl: &[f64], t: f64) -> f64 {
    let pos = t.clamp(0.0, 1.0) * (sl.len() - 1) as f64;
    let i = (pos.floor() as usize).min(sl.len() - 2);
    let f = pos - i as f64;
    sl[i] * (1.0 - f) + sl[i + 1] * f
}

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
        let s = Settings {
            alpha_db_cm_mhz: p.alpha_db_cm_mhz,
            tgc_compensation: p.tgc_compensation,
            tgc_slider_db: p.tgc_slider_db.clone(),
            ..Settings::default()
        };
        render(image, p.probe, &s, p.seed)
    }
}
