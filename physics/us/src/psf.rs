//! Separable pulse-echo point-spread function.
//!
//! Model (pulse-echo, depth `z` in mm measured along the beam, lateral `x` in mm across it):
//!
//! ```text
//! h(z, x) = exp(−z² / 2σz²) · cos(k·z) · exp(−x² / 2σx²),      k = 4π fc / c = 4π / λ
//! ```
//!
//! - Axial: a Gaussian-modulated pulse at the centre frequency `fc`. Its −6 dB (half-amplitude)
//!   spectral width is `B·fc` (`B` = fractional bandwidth), so the spectral standard deviation is
//!   `σf = B·fc / (2√(2 ln 2))`, the temporal envelope has `σt = 1 / (2π σf)`, and in depth
//!   (round trip, `z = c·t / 2`) `σz = c·σt / 2`. Axial resolution (envelope FWHM) is
//!   `2√(2 ln 2)·σz ∝ 1 / (B·fc)`. `k` is the round-trip wavenumber: an echo from depth `z` has
//!   phase `−k·z`.
//! - Lateral: a Gaussian beam whose −6 dB width is `λ·F#_eff`, with `F#_eff = max(F#, z / A)`
//!   for an active aperture `A` (dynamic receive focusing with expanding aperture until the
//!   aperture is exhausted). `σx = λ·F#_eff / (2√(2 ln 2))`.
//!
//! `fc_scale` and `beam_width_scale` (the `us.low_resolution` degradation) scale the centre
//! frequency (keeping the fractional bandwidth, so the absolute bandwidth falls with it) and the
//! lateral width.
//!
//! References: J. A. Jensen, "A model for the propagation and scattering of ultrasound in
//! tissue", JASA 89(1), 1991; T. L. Szabo, *Diagnostic Ultrasound Imaging: Inside Out*, 2014,
//! ch. 6–7; J. Meunier & M. Bertrand, "Ultrasonic texture motion analysis", IEEE TMI 14(2), 1995
//! (separable Gaussian PSF).

use crate::probe::{Probe, SOUND_SPEED_MM_US};

/// `2√(2 ln 2)`: FWHM of a Gaussian in units of its standard deviation.
pub const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;

/// The pulse-echo PSF of a probe (possibly degraded).
#[derive(Clone, Debug, PartialEq)]
pub struct Psf {
    /// Centre frequency, MHz.
    pub fc_mhz: f64,
    /// −6 dB fractional bandwidth.
    pub bandwidth: f64,
    /// Receive F-number.
    pub f_number: f64,
    /// Active aperture, mm.
    pub aperture_mm: f64,
    /// Lateral width multiplier (1 = nominal).
    pub beam_width_scale: f64,
}

impl Psf {
    /// PSF of `probe` with its centre frequency scaled by `fc_scale` and its beam widened by
    /// `beam_width_scale`.
    pub fn new(probe: &Probe, fc_scale: f64, beam_width_scale: f64) -> Psf {
        Psf {
            fc_mhz: probe.fc_mhz * fc_scale,
            bandwidth: probe.bandwidth,
            f_number: probe.f_number,
            aperture_mm: probe.active_aperture_mm(),
            beam_width_scale,
        }
    }

    /// Nominal PSF of a probe.
    pub fn nominal(probe: &Probe) -> Psf {
        Psf::new(probe, 1.0, 1.0)
    }

    /// Wavelength, mm.
    pub fn wavelength_mm(&self) -> f64 {
        SOUND_SPEED_MM_US / self.fc_mhz
    }

    /// Round-trip wavenumber `k = 4π/λ`, rad/mm.
    pub fn wavenumber(&self) -> f64 {
        4.0 * std::f64::consts::PI / self.wavelength_mm()
    }

    /// Axial standard deviation of the pulse-echo envelope, mm.
    pub fn axial_sigma_mm(&self) -> f64 {
        let sigma_f = self.bandwidth * self.fc_mhz / FWHM_PER_SIGMA; // MHz
        let sigma_t = 1.0 / (2.0 * std::f64::consts::PI * sigma_f); // µs
        SOUND_SPEED_MM_US * sigma_t / 2.0
    }

    /// Axial resolution (envelope FWHM), mm.
    pub fn axial_fwhm_mm(&self) -> f64 {
        FWHM_PER_SIGMA * self.axial_sigma_mm()
    }

    /// Lateral −6 dB beam width at `depth_mm`, mm.
    pub fn lateral_fwhm_mm(&self, depth_mm: f64) -> f64 {
        let f_eff = self.f_number.max(depth_mm / self.aperture_mm);
        self.wavelength_mm() * f_eff * self.beam_width_scale
    }

    /// Lateral standard deviation at `depth_mm`, mm.
    pub fn lateral_sigma_mm(&self, depth_mm: f64) -> f64 {
        self.lateral_fwhm_mm(depth_mm) / FWHM_PER_SIGMA
    }

    /// Area of the resolution cell at the focus (axial FWHM × lateral FWHM at `F#`), mm².
    /// Scatterer densities are given per this cell.
    pub fn resolution_cell_mm2(&self) -> f64 {
        self.axial_fwhm_mm() * self.wavelength_mm() * self.f_number * self.beam_width_scale
    }

    /// Axial envelope value at offset `dz` mm.
    pub fn axial_envelope(&self, dz: f64) -> f64 {
        let s = self.axial_sigma_mm();
        (-dz * dz / (2.0 * s * s)).exp()
    }

    /// The real RF pulse-echo waveform at offset `dz` mm: `g(dz)·cos(k·dz)`.
    pub fn rf_pulse(&self, dz: f64) -> f64 {
        self.axial_envelope(dz) * (self.wavenumber() * dz).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_formulas() {
        let p = Psf::nominal(&Probe::linear());
        // λ = 1.54/7.5 mm; lateral FWHM = λ·F# = 0.4107 mm at the focus
        assert!((p.lateral_fwhm_mm(10.0) - 0.410_67).abs() < 1e-4);
        // deeper than F#·A = 2·19.2 mm the aperture limits: λ·z/A
        assert!((p.lateral_fwhm_mm(76.8) - p.wavelength_mm() * 4.0).abs() < 1e-9);
        // axial FWHM = 2√(2ln2)·c/(4π σf), σf = B fc / 2√(2 ln 2)
        let sf = 0.7 * 7.5 / FWHM_PER_SIGMA;
        let expect = FWHM_PER_SIGMA * 1.54 / (4.0 * std::f64::consts::PI * sf);
        assert!((p.axial_fwhm_mm() - expect).abs() < 1e-12);
        // halving bandwidth doubles the axial size
        let mut q = p.clone();
        q.bandwidth /= 2.0;
        assert!((q.axial_fwhm_mm() / p.axial_fwhm_mm() - 2.0).abs() < 1e-12);
    }
}
