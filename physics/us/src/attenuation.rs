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
use crate::error::UsError;
use crate::ops_common::render;
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};
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

artefact_core::params! {
    /// The recipe parameters of [`Attenuation`] (the table; the record is
    /// [`AttenuationParams`], with the drawn slider errors instead of their spread and count).
    pub struct AttenuationKnobs {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// tissue attenuation coefficient (one way)
        pub alpha: f64 = float(0.5, [0.0, 5.0], "dB/cm/MHz"),
        /// fraction of the round-trip attenuation the TGC compensates (1 = correct, 0 = no TGC)
        pub tgc_compensation: f64 = float(1.0, [0.0, 3.0], "fraction"),
        /// standard deviation of per-slider TGC gain errors (0 = none)
        pub slider_error_db: f64 = float(0.0, [0.0, 30.0], "dB"),
        /// number of TGC sliders (equally spaced in depth)
        pub sliders: usize = int(8, [2, 16]),
    }
}

/// Depth attenuation with wrong or missing TGC.
pub struct Attenuation;

static INFO: OpInfo = OpInfo {
    name: "us.attenuation",
    modality: "US",
    doc: "depth attenuation (α·f dB/cm, round trip) with a TGC that compensates only part of \
          it (or too much), plus TGC slider errors: the image darkens (or brightens) with depth",
    params: AttenuationKnobs::PARAMS,
};

impl Operator for Attenuation {
    type Params = AttenuationParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<AttenuationParams, UsError> {
        let k = AttenuationKnobs::sample(spec, rng)?;
        let err = k.slider_error_db;
        let sliders = if err > 0.0 {
            (0..k.sliders)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    (err * z).clamp(-2.0 * err, 2.0 * err).clamp(-60.0, 60.0)
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(AttenuationParams {
            probe: k.probe,
            seed: k.seed,
            alpha_db_cm_mhz: k.alpha,
            tgc_compensation: k.tgc_compensation,
            tgc_slider_db: sliders,
        })
    }

    fn apply(p: &AttenuationParams, image: &Image) -> Result<Image, UsError> {
        AttenuationKnobs::alpha.check(p.alpha_db_cm_mhz)?;
        AttenuationKnobs::tgc_compensation.check(p.tgc_compensation)?;
        let tgc = Tgc {
            alpha_db_cm_mhz: p.alpha_db_cm_mhz,
            compensation: p.tgc_compensation,
            slider_db: p.tgc_slider_db.clone(),
        };
        render(image, p.probe, &Settings::default(), &[&tgc], p.seed)
    }
}
