//! `us.reverberation`: multiple reflections between the probe face and a bright interface.
//!
//! Model. A strongly reflecting interface parallel to the probe face at depth `d` (fascia, a
//! needle, the wall of a gas-filled structure) with amplitude reflection coefficient `R`
//! returns its echo at depth `d`; part of it is reflected back by the probe face (taken as a
//! perfect reflector) and returns again after another round trip, appearing at `2d`, then `3d`,
//! … The k-th echo (k = 1, 2, …, while `k·d` is within the image) has amplitude `R^k` times a
//! specular level ([`crate::shadowing::SPECULAR_DB`] above unit-echogenicity speckle) and the
//! phase of its apparent depth; it is a coherent line echo with the axial PSF, over the beams
//! that the interface spans. Because it arrives at the time of depth `k·d`, it is attenuated
//! and TGC-compensated exactly like a real echo from that depth. `R = 0` is the clean render.
//!
//! Units: depths and widths as fractions of the imaging depth / lateral field of view,
//! reflectivity as an amplitude fraction. Reference: Szabo, *Diagnostic Ultrasound Imaging:
//! Inside Out*, 2014, §10.11; Feldman et al., "US artifacts", RadioGraphics 29(4), 2009.

use crate::bmode::{float_or_uniform, render, sample_common, Settings, PROBE_PARAM, SEED_PARAM};
use crate::error::{check_range, UsError};
use crate::probe::ProbeKind;
use crate::rf::Sim;
use crate::shadowing::SPECULAR_DB;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

/// A reverberating interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reverberation {
    /// Interface depth as a fraction of the imaging depth.
    pub depth_frac: f64,
    /// Lateral centre as a fraction of the field of view.
    pub center_frac: f64,
    /// Lateral width as a fraction of the field of view.
    pub width_frac: f64,
    /// Amplitude reflection coefficient of the interface, `[0, 0.99]`.
    pub reflectivity: f64,
    /// Largest number of echoes drawn (the interface itself is echo 1).
    pub max_echoes: usize,
}

impl Reverberation {
    pub fn validate(&self) -> Result<(), UsError> {
        check_range("depth", self.depth_frac, 0.005, 1.0)?;
        check_range("center", self.center_frac, 0.0, 1.0)?;
        check_range("width", self.width_frac, 0.0, 1.0)?;
        check_range("reflectivity", self.reflectivity, 0.0, 0.99)?;
        if self.max_echoes == 0 || self.max_echoes > 200 {
            return Err(UsError::param(
                "echoes",
                format!("{} is outside [1, 200]", self.max_echoes),
            ));
        }
        Ok(())
    }

    /// Depths (mm) and amplitudes of the echoes inside the imaging depth `depth`.
    pub fn echoes(&self, depth: f64) -> Vec<(f64, f64)> {
        let d = self.depth_frac * depth;
        let spec = 10f64.powf(SPECULAR_DB / 20.0);
        (1..=self.max_echoes)
            .map(|k| (k as f64 * d, spec * self.reflectivity.powi(k as i32)))
            .take_while(|&(z, _)| z <= depth)
            .collect()
    }
}

/// Add the interface echo and its reverberations.
pub(crate) fn deposit(
    sim: &Sim,
    rv: &Reverberation,
    table: &crate::rf::AxialTable,
    buf: &mut [Complex32],
) {
    if rv.reflectivity == 0.0 {
        return;
    }
    let last = (sim.geom.n_b - 1) as f64;
    let c = rv.center_frac * last;
    let h = 0.5 * rv.width_frac * last;
    let lo = (c - h).ceil().max(0.0) as usize;
    let hi = ((c + h).floor().min(last)) as usize;
    for (z, a) in rv.echoes(sim.geom.depth) {
        sim.deposit_line(buf, table, z, (lo, hi.max(lo)), a);
    }
}

/// `us.reverberation` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReverberationParams {
    pub probe: ProbeKind,
    pub seed: u64,
    pub reverberation: Reverberation,
}

/// Reverberation: echoes of a bright interface repeated at multiples of its depth.
pub struct Reverb;

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

impl Operator for Reverb {
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
        let rv = Reverberation {
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
        let s = Settings {
            reverberation: Some(p.reverberation.clone()),
            ..Settings::default()
        };
        render(image, p.probe, &s, p.seed)
    }
}
