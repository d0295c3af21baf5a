//! The clean B-mode render path shared by every operator, and its settings.
//!
//! Pipeline: echogenicity map → amplitude map on the (r, θ) beam grid (with shadowing) →
//! random scatterers ([`crate::scatterers`]) → IQ by convolution with the separable PSF
//! ([`crate::rf`], [`crate::psf`]) plus haze and specular/reverberation echoes → depth gain
//! (attenuation and TGC, [`crate::attenuation`]) → envelope `|iq|` ([`crate::envelope`]) → log
//! compression with dynamic range and gain → scan conversion to the input's pixel grid
//! ([`crate::scan_conversion`]).
//!
//! [`Settings::default`] is the clean render; each degradation operator changes exactly one
//! group of fields, so "none" and degraded images of one source with one seed share the same
//! scatterer realisation and differ only by the degradation (identity at zero strength is
//! byte-exact).

use crate::envelope::{envelope_iq, log_compress};
use crate::error::{check_range, UsError};
use crate::haze::Haze;
use crate::probe::{Probe, ProbeKind};
use crate::reverberation::Reverberation;
use crate::rf::Sim;
use crate::scan_conversion::scan_convert;
use crate::scatterers::AmplitudeLaw;
use crate::shadowing::{ImageShadow, Reflector};
use artefact_core::{
    Image, Modality, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng, Unit,
};
use ndarray::Array2;
use num_complex::Complex32;
use rand::Rng;

/// Everything the render path needs besides the probe; `Default` is the clean render.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Scatterers per nominal resolution cell (axial FWHM × lateral FWHM at the focus);
    /// ≥ 10 gives fully developed speckle. Default 16 (with Rayleigh amplitudes: effective
    /// K-distribution shape ≈ 18, envelope mean/std ≈ 1.85).
    pub scatterers_per_cell: f64,
    /// Scatterer amplitude distribution. Default Rayleigh (as MUST's `genscat`).
    pub amplitude_law: AmplitudeLaw,
    /// Displayed dynamic range, dB. Default 60.
    pub dynamic_range_db: f64,
    /// Echogenicity → amplitude mapping range, dB (0 = linear). Default 60 (= dynamic range,
    /// so display grey ≈ echogenicity).
    pub echo_range_db: f64,
    /// Receiver gain, dB. Default 0.
    pub gain_db: f64,
    /// Tissue attenuation, dB/cm/MHz (one way). Default 0.5.
    pub alpha_db_cm_mhz: f64,
    /// Fraction of the round-trip attenuation the TGC compensates (1 = correct, 0 = no TGC,
    /// > 1 over-compensation). Default 1.
    pub tgc_compensation: f64,
    /// TGC slider errors, dB, at equally spaced depths from 0 to the imaging depth (linear
    /// interpolation in between; empty = none). Default empty.
    pub tgc_slider_db: Vec<f64>,
    /// Centre-frequency multiplier (resolution loss). Default 1.
    pub fc_scale: f64,
    /// Lateral beam-width multiplier (resolution loss). Default 1.
    pub beam_width_scale: f64,
    /// Strong reflectors inserted into the field, each casting an acoustic shadow.
    pub reflectors: Vec<Reflector>,
    /// Shadowing below bright structures already present in the echogenicity map.
    pub image_shadow: Option<ImageShadow>,
    /// Reverberation of a bright interface.
    pub reverberation: Option<Reverberation>,
    /// Clutter / haze.
    pub haze: Option<Haze>,
    /// Beam-grid refinement factor (1 = resolve the nominal PSF at one sample per σ).
    pub oversample: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            scatterers_per_cell: 16.0,
            amplitude_law: AmplitudeLaw::Rayleigh,
            dynamic_range_db: 60.0,
            echo_range_db: 60.0,
            gain_db: 0.0,
            alpha_db_cm_mhz: 0.5,
            tgc_compensation: 1.0,
            tgc_slider_db: Vec::new(),
            fc_scale: 1.0,
            beam_width_scale: 1.0,
            reflectors: Vec::new(),
            image_shadow: None,
            reverberation: None,
            haze: None,
            oversample: 1.0,
        }
    }
}

impl Settings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), UsError> {
        check_range(
            "scatterers_per_cell",
            self.scatterers_per_cell,
            0.01,
            1000.0,
        )?;
        check_range("dynamic_range_db", self.dynamic_range_db, 10.0, 120.0)?;
        check_range("echo_range_db", self.echo_range_db, 0.0, 120.0)?;
        check_range("gain_db", self.gain_db, -60.0, 60.0)?;
        check_range("alpha_db_cm_mhz", self.alpha_db_cm_mhz, 0.0, 5.0)?;
        check_range("tgc_compensation", self.tgc_compensation, 0.0, 3.0)?;
        for &v in &self.tgc_slider_db {
            check_range("tgc_slider_db", v, -60.0, 60.0)?;
        }
        if self.tgc_slider_db.len() == 1 || self.tgc_slider_db.len() > 64 {
            return Err(UsError::param(
                "tgc_slider_db",
                format!(
                    "needs 2 to 64 sliders (or none), got {}",
                    self.tgc_slider_db.len()
                ),
            ));
        }
        check_range("fc_scale", self.fc_scale, 0.25, 1.0)?;
        check_range("beam_width_scale", self.beam_width_scale, 1.0, 8.0)?;
        for r in &self.reflectors {
            r.validate()?;
        }
        if let Some(s) = &self.image_shadow {
            s.validate()?;
        }
        if let Some(r) = &self.reverberation {
            r.validate()?;
        }
        if let Some(h) = &self.haze {
            h.validate()?;
        }
        check_range("oversample", self.oversample, 0.25, 8.0)?;
        Ok(())
    }
}

/// Beam-grid data of one simulation (before scan conversion).
#[derive(Clone, Debug)]
pub struct Beams {
    pub sim: Sim,
    /// Normalised IQ, shape `(n_r, n_b)`: unit RMS for fully developed speckle of
    /// echogenicity 1 (before depth gain).
    pub iq: Array2<Complex32>,
}

impl Beams {
    /// Envelope `|iq|` on the beam grid.
    pub fn envelope(&self) -> Array2<f32> {
        envelope_iq(&self.iq)
    }
}

/// Simulate the normalised IQ beam data of `echogenicity` (values in `[0, 1]`).
pub fn simulate_beams(
    echogenicity: &Image,
    probe: &Probe,
    settings: &Settings,
    seed: u64,
) -> Result<Beams, UsError> {
    let sim = Sim::new(echogenicity, probe, settings)?;
    let iq = sim.iq(settings, seed);
    Ok(Beams { sim, iq })
}

/// Render a log-compressed, scan-converted B-mode image (`Unit::Echogenicity`, values in
/// `[0, 1]`, same rows × columns as the input; spacing = the field of view's pixel size in mm).
///
/// `echogenicity` must hold values in `[0, 1]` (see
/// [`crate::echogenicity::echogenicity_from_grey`] to derive one from any grey image).
pub fn simulate_bmode(
    echogenicity: &Image,
    probe: &Probe,
    settings: &Settings,
    seed: u64,
) -> Result<Image, UsError> {
    let beams = simulate_beams(echogenicity, probe, settings, seed)?;
    let log = log_compress(
        &beams.envelope(),
        settings.dynamic_range_db,
        settings.gain_db,
    )?;
    let img = scan_convert(&log, &beams.sim.geom)?;
    Ok(Image::new(
        img,
        beams.sim.geom.spacing,
        Modality::Us,
        Unit::Echogenicity,
    )?)
}

/// Parameters every operator shares: the probe and the scatterer seed.
pub(crate) fn sample_common(
    spec: &ParamSpec,
    rng: &mut SampleRng,
) -> Result<(ProbeKind, u64), UsError> {
    let probe: ProbeKind = spec
        .choice("probe", ProbeKind::NAMES, "linear", rng)?
        .parse()?;
    let seed = if spec.get("seed").is_some() {
        let s = spec.int("seed", 0, rng)?;
        if s < 0 {
            return Err(UsError::param("seed", format!("must be ≥ 0, got {s}")));
        }
        s as u64
    } else {
        rng.random::<u64>()
    };
    Ok((probe, seed))
}

/// Documentation row of the shared `probe` parameter.
pub(crate) const PROBE_PARAM: ParamInfo = ParamInfo {
    name: "probe",
    kind: ParamKind::Choice {
        allowed: ProbeKind::NAMES,
    },
    default: ParamDefault::Choice("linear"),
    unit: "",
    doc: "probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)",
};

/// Documentation row of the shared `seed` parameter.
pub(crate) const SEED_PARAM: ParamInfo = ParamInfo {
    name: "seed",
    kind: ParamKind::Int {
        min: 0,
        max: i64::MAX,
    },
    default: ParamDefault::Int(0),
    unit: "",
    doc: "scatterer realisation; drawn from the sample RNG when absent (fix it to pair a \
          degraded image with the clean render of simulate_bmode)",
};

/// Render with a preset probe (used by the operators).
pub(crate) fn render(
    image: &Image,
    probe: ProbeKind,
    settings: &Settings,
    seed: u64,
) -> Result<Image, UsError> {
    simulate_bmode(image, &Probe::preset(probe), settings, seed)
}

/// A float from the spec, or uniform in `[lo, hi]` when the spec does not name it.
pub(crate) fn float_or_uniform(
    spec: &ParamSpec,
    name: &'static str,
    (lo, hi): (f64, f64),
    (min, max): (f64, f64),
    rng: &mut SampleRng,
) -> Result<f64, UsError> {
    let v = if spec.get(name).is_some() {
        spec.float(name, lo, rng)?
    } else {
        rng.random_range(lo..=hi)
    };
    check_range(name, v, min, max)?;
    Ok(v)
}
