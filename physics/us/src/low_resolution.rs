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

use crate::error::UsError;
use crate::ops_common::render;
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};

artefact_core::params! {
    /// `us.low_resolution` parameters (the recipe table, sampling, validation and the record).
    pub struct LowResolutionParams {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// centre frequency / nominal (1 = identity)
        pub fc_scale: f64 = float(1.0, [0.25, 1.0], "fraction"),
        /// lateral beam width / nominal (1 = identity)
        pub beam_width_scale: f64 = float(1.0, [1.0, 8.0], "factor"),
    }
}

/// Reduced resolution.
pub struct LowResolution;

static INFO: OpInfo = OpInfo {
    name: "us.low_resolution",
    modality: "US",
    doc: "lower centre frequency and/or wider beam: coarser speckle, blurred boundaries",
    params: LowResolutionParams::PARAMS,
};

impl Operator for LowResolution {
    type Params = LowResolutionParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<LowResolutionParams, UsError> {
        Ok(LowResolutionParams::sample(spec, rng)?)
    }

    fn apply(p: &LowResolutionParams, image: &Image) -> Result<Image, UsError> {
        p.validate()?;
        let s = Settings {
            fc_scale: p.fc_scale,
            beam_width_scale: p.beam_width_scale,
            ..Settings::default()
        };
        render(image, p.probe, &s, &[], p.seed)
    }
}
