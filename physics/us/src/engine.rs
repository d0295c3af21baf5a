//! The B-mode engine: echogenicity → beam-grid IQ → envelope → log compression → scan
//! conversion, with degradations as [`Effect`] hooks.
//!
//! Pipeline: echogenicity map → amplitude map on the (r, θ) beam grid (scaled by the effects'
//! transmission, e.g. shadows) → random scatterers ([`crate::scatterers`]) → IQ by convolution
//! with the separable PSF ([`crate::rf`], [`crate::beam_grid`]) plus the effects' own echoes →
//! the effects' depth gain → envelope `|iq|` ([`crate::envelope`]) → log compression with
//! dynamic range and gain → scan conversion to the input's pixel grid
//! ([`crate::scan_conversion`]).
//!
//! A [`BmodePlan`] holds everything that depends only on the probe, the frame (rows, columns,
//! pixel aspect) and the [`Settings`]: the beam grid (lateral kernels, normalisation) and the
//! scan-conversion table. Plan once and render many images of one frame with it;
//! [`simulate_bmode`] and friends plan and render in one call.
//!
//! [`Settings::default`] with no effect is the clean render; each degradation operator changes
//! one group of settings or adds one effect, so "none" and degraded images of one source with
//! one seed share the same scatterer realisation and differ only by the degradation (identity
//! at zero strength is byte-exact).

use crate::beam_grid::BeamGrid;
use crate::effects::Effect;
use crate::envelope::{envelope_iq, log_compress};
use crate::error::UsError;
use crate::geometry::Geometry;
use crate::probe::Probe;
use crate::rf;
use crate::scan_conversion::ScanPlan;
use crate::settings::Settings;
use artefact_core::{Image, Modality, Unit};
use ndarray::Array2;
use num_complex::Complex32;
use std::sync::OnceLock;

/// Beam-grid data of one simulation (before scan conversion).
#[derive(Clone, Debug)]
pub struct Beams {
    /// The beam grid's geometry.
    pub geom: Geometry,
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

/// A planned B-mode simulation of one probe, frame and settings.
#[derive(Debug)]
pub struct BmodePlan {
    settings: Settings,
    grid: BeamGrid,
    /// Built on the first render (beam-data users never need it).
    scan: OnceLock<ScanPlan>,
}

impl BmodePlan {
    /// Plan the simulation of `rows × cols` images of spacing `spacing` (mm; only the aspect is
    /// used) with `probe` and `settings` (validated here).
    pub fn new(
        probe: &Probe,
        shape: (usize, usize),
        spacing: [f64; 2],
        settings: &Settings,
    ) -> Result<BmodePlan, UsError> {
        Ok(BmodePlan {
            settings: settings.clone(),
            grid: BeamGrid::new(probe, shape, spacing, settings)?,
            scan: OnceLock::new(),
        })
    }

    /// Plan for images of the shape and spacing of `image`.
    pub fn for_image(
        image: &Image,
        probe: &Probe,
        settings: &Settings,
    ) -> Result<BmodePlan, UsError> {
        BmodePlan::new(probe, image.shape(), image.spacing, settings)
    }

    pub fn grid(&self) -> &BeamGrid {
        &self.grid
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The scan-conversion plan of this frame.
    pub fn scan_plan(&self) -> &ScanPlan {
        self.scan.get_or_init(|| ScanPlan::new(&self.grid.geom))
    }

    /// Normalised IQ beam data `(n_r, n_b)` of `echo` (values in `[0, 1]`) with `effects`.
    pub fn iq(
        &self,
        echo: &Image,
        effects: &[&dyn Effect],
        seed: u64,
    ) -> Result<Array2<Complex32>, UsError> {
        rf::validate_effects(effects)?;
        let amp = rf::tissue_amplitudes(&self.grid, echo, &self.settings, effects)?;
        Ok(rf::iq(&self.grid, &amp, &self.settings, effects, seed))
    }

    /// The reference RF path ([`rf::rf`]) of `echo` with `effects`, `sub` fine samples per IQ
    /// depth step.
    pub fn rf(
        &self,
        echo: &Image,
        effects: &[&dyn Effect],
        seed: u64,
        sub: usize,
    ) -> Result<Array2<f32>, UsError> {
        rf::validate_effects(effects)?;
        let amp = rf::tissue_amplitudes(&self.grid, echo, &self.settings, effects)?;
        Ok(rf::rf(&self.grid, &amp, &self.settings, effects, seed, sub))
    }

    /// Beam data of `echo` with `effects`.
    pub fn beams(
        &self,
        echo: &Image,
        effects: &[&dyn Effect],
        seed: u64,
    ) -> Result<Beams, UsError> {
        Ok(Beams {
            geom: self.grid.geom.clone(),
            iq: self.iq(echo, effects, seed)?,
        })
    }

    /// Render a log-compressed, scan-converted B-mode image of `echo` with `effects`
    /// (`Unit::Echogenicity`, values in `[0, 1]`, the plan's rows × columns; spacing = the field
    /// of view's pixel size in mm).
    pub fn render(
        &self,
        echo: &Image,
        effects: &[&dyn Effect],
        seed: u64,
    ) -> Result<Image, UsError> {
        let iq = self.iq(echo, effects, seed)?;
        let log = log_compress(
            &envelope_iq(&iq),
            self.settings.dynamic_range_db,
            self.settings.gain_db,
        )?;
        let img = self.scan_plan().convert(&log)?;
        Ok(Image::new(
            img,
            self.grid.geom.spacing,
            Modality::Us,
            Unit::Echogenicity,
        )?)
    }
}

/// Simulate the normalised IQ beam data of `echogenicity` (values in `[0, 1]`), clean.
pub fn simulate_beams(
    echogenicity: &Image,
    probe: &Probe,
    settings: &Settings,
    seed: u64,
) -> Result<Beams, UsError> {
    simulate_beams_with(echogenicity, probe, settings, &[], seed)
}

/// [`simulate_beams`] with effects.
pub fn simulate_beams_with(
    echogenicity: &Image,
    probe: &Probe,
    settings: &Settings,
    effects: &[&dyn Effect],
    seed: u64,
) -> Result<Beams, UsError> {
    BmodePlan::for_image(echogenicity, probe, settings)?.beams(echogenicity, effects, seed)
}

/// Render a log-compressed, scan-converted B-mode image (`Unit::Echogenicity`, values in
/// `[0, 1]`, same rows × columns as the input; spacing = the field of view's pixel size in mm):
/// the clean render.
///
/// `echogenicity` must hold values in `[0, 1]` (see
/// [`crate::echogenicity::echogenicity_from_grey`] to derive one from any grey image).
pub fn simulate_bmode(
    echogenicity: &Image,
    probe: &Probe,
    settings: &Settings,
    seed: u64,
) -> Result<Image, UsError> {
    simulate_bmode_with(echogenicity, probe, settings, &[], seed)
}

/// [`simulate_bmode`] with effects.
pub fn simulate_bmode_with(
    echogenicity: &Image,
    probe: &Probe,
    settings: &Settings,
    effects: &[&dyn Effect],
    seed: u64,
) -> Result<Image, UsError> {
    BmodePlan::for_image(echogenicity, probe, settings)?.render(echogenicity, effects, seed)
}
