//! The engine's own settings: scatterer field, PSF scaling, beam grid, echo mapping, display.
//!
//! [`Settings::default`] is the clean render. Degradations that are not a change of one of
//! these numbers (shadowing, clutter, reverberation, attenuation/TGC) are
//! [`crate::effects::Effect`] hooks passed beside the settings, so the engine never names them.
//!
//! Units: dB for ranges and gains; scatterer density per nominal resolution cell (axial FWHM ×
//! lateral FWHM at the focus, [`crate::psf::Psf::resolution_cell_mm2`]); scale factors are
//! dimensionless.

use crate::error::{check_range, UsError};
use crate::scatterers::AmplitudeLaw;

/// Everything the render path needs besides the probe and the effects; `Default` is the
/// clean render.
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
    /// Centre-frequency multiplier (resolution loss). Default 1.
    pub fc_scale: f64,
    /// Lateral beam-width multiplier (resolution loss). Default 1.
    pub beam_width_scale: f64,
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
            fc_scale: 1.0,
            beam_width_scale: 1.0,
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
        check_range("fc_scale", self.fc_scale, 0.25, 1.0)?;
        check_range("beam_width_scale", self.beam_width_scale, 1.0, 8.0)?;
        check_range("oversample", self.oversample, 0.25, 8.0)?;
        Ok(())
    }
}
