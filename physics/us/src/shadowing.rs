//! `us.shadowing`: acoustic shadowing below strong reflectors (per-beam transmission loss).
//!
//! Model: [`crate::effects::shadows`] — each inserted reflector (a bright specular line at a
//! sampled depth, centre and width) weakens every echo below it on its beams by the round-trip
//! transmission loss `L` dB, and optionally bright structures of the input (echogenicity ≥
//! `threshold`) cast shadows too. `L = 0` is the clean render (identity).
//!
//! Units: loss dB (round trip), depths and widths as fractions of the imaging depth and of the
//! field of view's lateral extent. Reference: Szabo, *Diagnostic Ultrasound Imaging: Inside
//! Out*, 2014, §3.2 (reflection/transmission), §10.11 (shadowing artefacts).

pub use crate::effects::shadows::{ImageShadow, Reflector};

use crate::effects::shadows::Shadows;
use crate::error::UsError;
use crate::ops_common::{float_or_uniform, render};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};
use serde::{Deserialize, Serialize};

/// `us.shadowing` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShadowingParams {
    pub probe: ProbeKind,
    pub seed: u64,
    /// Inserted reflectors (each with its loss).
    pub reflectors: Vec<Reflector>,
    /// Shadows of bright structures of the input (None = off).
    pub image_shadow: Option<ImageShadow>,
}

artefact_core::params! {
    /// The recipe parameters of [`Shadowing`] (the table; the record is [`ShadowingParams`],
    /// one [`Reflector`] per inserted reflector). `depth`, `center` and `width` are drawn per
    /// reflector, uniform in the ranges their docs give when the spec does not name them.
    pub struct ShadowingKnobs {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// round-trip transmission loss below each reflector (0 = no reflector, identity)
        pub loss_db: f64 = float(20.0, [0.0, 80.0], "dB"),
        /// number of reflectors inserted
        pub reflectors: usize = int(1, [0, 8]),
        /// reflector depth / imaging depth (uniform in [0.15, 0.5] when absent)
        pub depth: f64 = float(0.3, [0.0, 1.0], "fraction"),
        /// lateral centre / field of view (uniform in [0.2, 0.8] when absent)
        pub center: f64 = float(0.5, [0.0, 1.0], "fraction"),
        /// lateral width / field of view (uniform in [0.08, 0.25] when absent)
        pub width: f64 = float(0.15, [0.0, 1.0], "fraction"),
        /// also shadow below bright structures of the input (echogenicity ≥ threshold)
        pub from_image: bool = bool(false),
        /// echogenicity of strong reflectors for from_image
        pub threshold: f64 = float(0.9, [0.0, 1.0], "echogenicity"),
    }
}

/// Acoustic shadowing below strong reflectors.
pub struct Shadowing;

static INFO: OpInfo = OpInfo {
    name: "us.shadowing",
    modality: "US",
    doc: "strong reflectors (bright specular lines) cast acoustic shadows: echoes below them \
          on the same beams are weaker by the transmission loss",
    params: ShadowingKnobs::PARAMS,
};

impl Operator for Shadowing {
    type Params = ShadowingParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ShadowingParams, UsError> {
        type K = ShadowingKnobs;
        let probe = K::probe.sample(spec, rng)?;
        let seed = K::seed.sample(spec, rng)?;
        let loss_db = K::loss_db.sample(spec, rng)?;
        let n = K::reflectors.sample(spec, rng)?;
        let mut reflectors = Vec::with_capacity(n);
        for _ in 0..n {
            reflectors.push(Reflector {
                depth_frac: float_or_uniform(spec, &K::depth, (0.15, 0.5), rng)?,
                center_frac: float_or_uniform(spec, &K::center, (0.2, 0.8), rng)?,
                width_frac: float_or_uniform(spec, &K::width, (0.08, 0.25), rng)?,
                loss_db,
            });
        }
        let image_shadow = if K::from_image.sample(spec, rng)? {
            Some(ImageShadow {
                loss_db,
                threshold: K::threshold.sample(spec, rng)?,
                thickness_mm: 1.0,
            })
        } else {
            None
        };
        Ok(ShadowingParams {
            probe,
            seed,
            reflectors,
            image_shadow,
        })
    }

    fn apply(p: &ShadowingParams, image: &Image) -> Result<Image, UsError> {
        type K = ShadowingKnobs;
        K::reflectors.check(p.reflectors.len())?;
        for r in &p.reflectors {
            K::loss_db.check(r.loss_db)?;
            K::depth.check(r.depth_frac)?;
            K::center.check(r.center_frac)?;
            K::width.check(r.width_frac)?;
        }
        if let Some(sh) = &p.image_shadow {
            K::loss_db.check(sh.loss_db)?;
            K::threshold.check(sh.threshold)?;
        }
        let shadows = Shadows {
            reflectors: p.reflectors.clone(),
            image_shadow: p.image_shadow.clone(),
        };
        render(image, p.probe, &Settings::default(), &[&shadows], p.seed)
    }
}
