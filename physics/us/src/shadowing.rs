//! `us.shadowing`: acoustic shadowing below strong reflectors (per-beam transmission loss).
//!
//! Model. A strong specular reflector (calcification, bone, gas) at depth `d` across a range of
//! beams reflects most of the incident energy. With a round-trip transmission loss of `L` dB,
//! every echo from below it on those beams is weaker by `L` dB (amplitude factor
//! `10^(−L/20)`): an acoustic shadow with the beams' geometry (vertical for linear probes, along
//! the radial lines of sector probes). Energy conservation at the interface (intensity
//! transmission `τ = 10^(−L/20)` after the round trip, reflection `1 − τ`) sets the reflector's
//! own echo amplitude to `√(1 − τ)` times a specular level of [`SPECULAR_DB`] above unit-
//! echogenicity speckle, drawn as a coherent line echo with the axial PSF. `L = 0` means a
//! reflector that transmits everything and reflects nothing: the clean render (identity).
//!
//! Optionally ([`ImageShadow`]) bright structures already in the echogenicity map (values
//! ≥ `threshold`) cast shadows too: along each beam, the loss grows linearly with the thickness
//! of bright tissue crossed, reaching `L` after `thickness_mm`.
//!
//! The transmission factors multiply the scatterer amplitudes before the PSF convolution, so
//! shadow edges are blurred by the lateral beam profile exactly as in a scanner.
//!
//! Units: loss dB (round trip), depths and widths as fractions of the imaging depth and of the
//! field of view's lateral extent. Reference: Szabo, *Diagnostic Ultrasound Imaging: Inside
//! Out*, 2014, §3.2 (reflection/transmission), §10.11 (shadowing artefacts).

use crate::bmode::{float_or_uniform, render, sample_common, Settings, PROBE_PARAM, SEED_PARAM};
use crate::error::{check_range, UsError};
use crate::probe::ProbeKind;
use crate::rf::Sim;
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

/// Level of a fully reflecting specular interface above unit-echogenicity speckle RMS, dB.
pub const SPECULAR_DB: f64 = 10.0;

/// A strong reflector inserted into the field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reflector {
    /// Depth as a fraction of the imaging depth.
    pub depth_frac: f64,
    /// Lateral centre as a fraction of the field of view (0 = first beam, 1 = last beam).
    pub center_frac: f64,
    /// Lateral width as a fraction of the field of view.
    pub width_frac: f64,
    /// Round-trip transmission loss below it, dB.
    pub loss_db: f64,
}

impl Reflector {
    pub fn validate(&self) -> Result<(), UsError> {
        check_range("depth", self.depth_frac, 0.0, 1.0)?;
        check_range("center", self.center_frac, 0.0, 1.0)?;
        check_range("width", self.width_frac, 0.0, 1.0)?;
        check_range("loss_db", self.loss_db, 0.0, 80.0)
    }

    /// Inclusive range of real beams covered.
    fn beams(&self, n_b: usize) -> (usize, usize) {
        let last = (n_b - 1) as f64;
        let c = self.center_frac * last;
        let h = 0.5 * self.width_frac * last;
        let lo = (c - h).ceil().max(0.0) as usize;
        let hi = ((c + h).floor().min(last)) as usize;
        (lo, hi.max(lo))
    }
}

/// Shadows cast by bright structures of the echogenicity map itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageShadow {
    /// Round-trip loss after crossing `thickness_mm` of bright tissue, dB.
    pub loss_db: f64,
    /// Echogenicity at or above which tissue counts as a strong reflector.
    pub threshold: f64,
    /// Thickness of bright tissue that produces the full loss, mm.
    pub thickness_mm: f64,
}

impl ImageShadow {
    pub fn validate(&self) -> Result<(), UsError> {
        check_range("loss_db", self.loss_db, 0.0, 80.0)?;
        check_range("threshold", self.threshold, 0.0, 1.0)?;
        check_range("thickness_mm", self.thickness_mm, 0.01, 100.0)
    }
}

/// Multiply the amplitude map (extended grid, row-major) by the shadows' transmission.
pub(crate) fn apply_transmission(sim: &Sim, echo: &[f32], amp: &mut [f32], s: &Settings) {
    let g = &sim.geom;
    let n_ext = sim.n_ext;
    for rf in s.reflectors.iter().filter(|r| r.loss_db > 0.0) {
        let (lo, hi) = rf.beams(g.n_b);
        let t = 10f64.powf(-rf.loss_db / 20.0) as f32;
        let d = rf.depth_frac * g.depth;
        for m in 0..g.n_r {
            if g.r_of(m as f64) <= d {
                continue;
            }
            for b in lo..=hi {
                amp[m * n_ext + b + sim.halo] *= t;
            }
        }
    }
    if let Some(sh) = s.image_shadow.as_ref().filter(|sh| sh.loss_db > 0.0) {
        let thr = sh.threshold as f32;
        for u in 0..n_ext {
            let mut crossed = 0.0f64;
            for m in 0..g.n_r {
                if crossed > 0.0 {
                    let frac = (crossed / sh.thickness_mm).min(1.0);
                    amp[m * n_ext + u] *= 10f64.powf(-sh.loss_db * frac / 20.0) as f32;
                }
                if echo[m * n_ext + u] >= thr {
                    crossed += g.dr;
                }
            }
        }
    }
}

/// Add the reflectors' own specular echoes.
pub(crate) fn deposit_reflectors(
    sim: &Sim,
    s: &Settings,
    table: &crate::rf::AxialTable,
    buf: &mut [Complex32],
) {
    for rf in s.reflectors.iter().filter(|r| r.loss_db > 0.0) {
        let tau = 10f64.powf(-rf.loss_db / 20.0);
        let a = (1.0 - tau).sqrt() * 10f64.powf(SPECULAR_DB / 20.0);
        sim.deposit_line(
            buf,
            table,
            rf.depth_frac * sim.geom.depth,
            rf.beams(sim.geom.n_b),
            a,
        );
    }
}

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
        let s = Settings {
            reflectors: p.reflectors.clone(),
            image_shadow: p.image_shadow.clone(),
            ..Settings::default()
        };
        render(image, p.probe, &s, p.seed)
    }
}
