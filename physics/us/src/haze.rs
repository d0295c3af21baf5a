//! `us.haze`: clutter / haze — diffuse acoustic noise that fills dark regions.
//!
//! Model. Clutter (near-field reverberation, side-lobe and grating-lobe echoes, phase
//! aberration by the body wall) adds echoes that do not come from the tissue at the displayed
//! position. It is modelled as an independent field of random scatterers (same density and
//! PSF as the tissue, its own random stream `seed.child("haze")`) whose amplitude does not
//! follow the echogenicity map but a depth profile
//!
//! ```text
//! a(z) = level · (floor + (1 − floor) · exp(−z / (near_field · D)))
//! ```
//!
//! (strongest near the probe, where body-wall reverberation dominates; `D` imaging depth),
//! relative to the RMS echo of unit-echogenicity tissue. Being coherent with the tissue echoes
//! it adds speckle-like haze over anechoic regions and lowers contrast. `level = 0` is the
//! clean render (identity).
//!
//! Units: level as an amplitude fraction (20·log10(level) dB relative to echogenicity-1 tissue),
//! near_field as a fraction of the imaging depth. Reference: Lediju et al., "Sources of
//! reverberation clutter in ultrasound images", IEEE Ultrasonics Symp. 2010; Pinton et al.,
//! "Sources of image degradation in fundamental and harmonic ultrasound imaging", IEEE TUFFC
//! 58(9), 2011.

use crate::bmode::{render, sample_common, Settings, PROBE_PARAM, SEED_PARAM};
use crate::error::{check_range, UsError};
use crate::probe::ProbeKind;
use crate::rf::Sim;
use crate::scatterers::for_each_scatterer;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng, Seed,
};
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

/// Clutter field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Haze {
    /// Clutter amplitude relative to unit-echogenicity tissue.
    pub level: f64,
    /// e-folding depth of the near-field part, fraction of the imaging depth.
    pub near_field: f64,
    /// Fraction of the level that persists at all depths.
    pub floor: f64,
}

impl Haze {
    pub fn validate(&self) -> Result<(), UsError> {
        check_range("level", self.level, 0.0, 10.0)?;
        check_range("near_field", self.near_field, 0.01, 10.0)?;
        check_range("floor", self.floor, 0.0, 1.0)
    }

    /// Clutter amplitude at depth `z` of an image of depth `depth`.
    pub fn profile(&self, z: f64, depth: f64) -> f64 {
        self.level * (self.floor + (1.0 - self.floor) * (-z / (self.near_field * depth)).exp())
    }
}

/// Add the clutter scatterers.
pub(crate) fn deposit(
    sim: &Sim,
    hz: &Haze,
    seed: &Seed,
    s: &Settings,
    table: &crate::rf::AxialTable,
    buf: &mut [Complex32],
) {
    if hz.level == 0.0 {
        return;
    }
    let g = &sim.geom;
    let h = sim.halo as f64;
    let k = sim.psf.wavenumber();
    for_each_scatterer(
        g,
        sim.density,
        s.amplitude_law,
        seed,
        (-h, (g.n_b - 1) as f64 + h),
        sim.r_gen,
        |r, b, a| {
            let v = a as f64 * hz.profile(r, g.depth);
            let (sn, cs) = crate::rf::phase(k * r);
            let v = v as f32;
            sim.deposit(buf, table, r, b + h, Complex32::new(v * cs, -v * sn));
        },
    );
}

/// `us.haze` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HazeParams {
    pub probe: ProbeKind,
    pub seed: u64,
    pub haze: Haze,
}

/// Clutter / haze.
pub struct HazeOp;

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

impl Operator for HazeOp {
    type Params = HazeParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<HazeParams, UsError> {
        let (probe, seed) = sample_common(spec, rng)?;
        let haze = Haze {
            level: spec.float("level", 0.05, rng)?,
            near_field: spec.float("near_field", 0.3, rng)?,
            floor: spec.float("floor", 0.3, rng)?,
        };
        haze.validate()?;
        Ok(HazeParams { probe, seed, haze })
    }

    fn apply(p: &HazeParams, image: &Image) -> Result<Image, UsError> {
        let s = Settings {
            haze: Some(p.haze.clone()),
            ..Settings::default()
        };
        render(image, p.probe, &s, p.seed)
    }
}
