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
use crate::error::{check_range, UsError};
use crate::ops_common::{float_or_uniform, render, sample_common, PROBE_PARAM, SEED_PARAM};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
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

/// Acoustic shadowing below strong reflectors.
pub struct Shadowing;

static INFO: OpInfo = OpInfo {
    name: "us.shadowing",
    modality: "US",
    doc: "strong reflectors (bright specular lines) cast acoustic shadows: echoes below them \
          on the same beams are weaker by the transmission loss",
    params: &[
        PROBE_PARAM,
        SEED_PARAM,
        ParamInfo {
            name: "loss_db",
            kind: ParamKind::Float {
                min: 0.0,
                max: 80.0,
            },
            default: ParamDefault::Float(20.0),
            unit: "dB",
            doc: "round-trip transmission loss below each reflector (0 = no reflector, identity)",
        },
        ParamInfo {
            name: "reflectors",
            kind: ParamKind::Int { min: 0, max: 8 },
            default: ParamDefault::Int(1),
            unit: "",
            doc: "number of reflectors inserted",
        },
        ParamInfo {
            name: "depth",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.3),
            unit: "fraction",
            doc: "reflector depth / imaging depth (uniform in [0.15, 0.5] when absent)",
        },
        ParamInfo {
            name: "center",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.5),
            unit: "fraction",
            doc: "lateral centre / field of view (uniform in [0.2, 0.8] when absent)",
        },
        ParamInfo {
            name: "width",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.15),
            unit: "fraction",
            doc: "lateral width / field of view (uniform in [0.08, 0.25] when absent)",
        },
        ParamInfo {
            name: "from_image",
            kind: ParamKind::Bool,
            default: ParamDefault::Bool(false),
            unit: "",
            doc: "also shadow below bright structures of the input (echogenicity ≥ threshold)",
        },
        ParamInfo {
            name: "threshold",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: ParamDefault::Float(0.9),
            unit: "echogenicity",
            doc: "echogenicity of strong reflectors for from_image",
        },
    ],
};

impl Operator for Shadowing {
    type Params = ShadowingParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ShadowingParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let loss = spec.float("loss_db", 20.0, rng)?;
        check_range("loss_db", loss, 0.0, 80.0)?;
        let n = spec.int("reflectors", 1, rng)?;
        if !(0..=8).contains(&n) {
            return Err(UsError::param(
                "reflectors",
                format!("{n} is outside [0, 8]"),
            ));
        }
        let mut reflectors = Vec::new();
        for _ in 0..n {
            reflectors.push(Reflector {
                depth_frac: float_or_uniform(spec, "depth", (0.15, 0.5), (0.0, 1.0), rng)?,
                center_frac: float_or_uniform(spec, "center", (0.2, 0.8), (0.0, 1.0), rng)?,
                width_frac: float_or_uniform(spec, "width", (0.08, 0.25), (0.0, 1.0), rng)?,
                loss_db: loss,
            });
        }
        let image_shadow = if spec.bool("from_image", false)? {
            let threshold = spec.float("threshold", 0.9, rng)?;
            let sh = ImageShadow {
                loss_db: loss,
                threshold,
                thickness_mm: 1.0,
            };
            sh.validate()?;
            Some(sh)
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
        let shadows = Shadows {
            reflectors: p.reflectors.clone(),
            image_shadow: p.image_shadow.clone(),
        };
        render(image, p.probe, &Settings::default(), &[&shadows], p.seed)
    }
}
