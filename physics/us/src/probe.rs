//! Transducer probes: linear, convex and phased arrays, with documented presets.
//!
//! A [`Probe`] fixes the acoustic and geometric properties the simulator needs:
//! centre frequency `fc` (MHz), −6 dB fractional bandwidth of the pulse-echo spectrum, number of
//! elements and pitch (mm), the active (receive) sub-aperture, the receive F-number (dynamic
//! receive focusing with an expanding aperture, so the lateral resolution `λ·F#` is constant in
//! depth until the active aperture is exhausted, then degrades as `λ·z/A`), and for sector probes
//! the radius of curvature (convex) and the total sector angle.
//!
//! Presets (typical values of commercial probes; see e.g. Szabo, *Diagnostic Ultrasound
//! Imaging: Inside Out*, 2nd ed., 2014, ch. 7 and 10):
//!
//! | preset | kind | fc | bandwidth | elements × pitch | active | F# | geometry | depth |
//! |---|---|---|---|---|---|---|---|---|
//! | [`Probe::linear`] | linear | 7.5 MHz | 70 % | 128 × 0.30 mm (38.4 mm) | 64 | 2 | flat | from image aspect |
//! | [`Probe::convex`] | convex | 3.5 MHz | 70 % | 128 × 0.41 mm | 64 | 2 | R = 50 mm, 60° | 120 mm |
//! | [`Probe::phased`] | phased | 2.5 MHz | 60 % | 64 × 0.30 mm (19.2 mm) | 64 | 2 | 90° sector | 140 mm |
//!
//! The speed of sound is [`SOUND_SPEED_M_S`] = 1540 m/s (soft-tissue convention); the
//! wavelength is `λ = c / fc` (0.205 mm at 7.5 MHz).

use crate::error::{check_range, UsError};
use serde::{Deserialize, Serialize};

/// Speed of sound in soft tissue, m/s.
pub const SOUND_SPEED_M_S: f64 = 1540.0;
/// Speed of sound in mm/µs (= 1540 m/s).
pub const SOUND_SPEED_MM_US: f64 = SOUND_SPEED_M_S / 1000.0;

artefact_core::choice! {
    /// Array geometry (recipe and record names: `linear`, `convex`, `phased`).
    pub enum ProbeKind {
        /// Flat array, parallel vertical beams, rectangular field of view.
        Linear = "linear",
        /// Curved array: beams radiate from the centre of curvature, fan-shaped field of view.
        Convex = "convex",
        /// Small flat array with steered beams from one apex: sector field of view.
        Phased = "phased",
    }
}

/// A transducer: acoustics and geometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub kind: ProbeKind,
    /// Centre frequency, MHz.
    pub fc_mhz: f64,
    /// −6 dB fractional bandwidth of the pulse-echo spectrum (FWHM / fc), e.g. 0.7.
    pub bandwidth: f64,
    /// Number of array elements.
    pub elements: usize,
    /// Element pitch, mm.
    pub pitch_mm: f64,
    /// Elements in the active receive sub-aperture (≤ `elements`).
    pub active_elements: usize,
    /// Receive F-number (focal depth / active aperture width) kept by dynamic focusing.
    pub f_number: f64,
    /// Radius of curvature of a convex array, mm (ignored for linear and phased).
    pub radius_mm: f64,
    /// Total sector angle of convex/phased probes, degrees (ignored for linear).
    pub sector_deg: f64,
    /// Imaging depth of sector probes, mm. A linear image's field of view spans the array
    /// aperture laterally and its depth follows from the image's rows, columns and pixel aspect.
    pub depth_mm: f64,
}

impl Probe {
    /// 7.5 MHz linear array: 128 elements, 0.30 mm pitch (38.4 mm aperture), 70 % bandwidth.
    pub fn linear() -> Probe {
        Probe {
            kind: ProbeKind::Linear,
            fc_mhz: 7.5,
            bandwidth: 0.7,
            elements: 128,
            pitch_mm: 0.3,
            active_elements: 64,
            f_number: 2.0,
            radius_mm: 0.0,
            sector_deg: 0.0,
            depth_mm: 40.0,
        }
    }

    /// 3.5 MHz convex (curvilinear) array: 128 elements, 0.41 mm pitch, radius 50 mm, 60°.
    pub fn convex() -> Probe {
        Probe {
            kind: ProbeKind::Convex,
            fc_mhz: 3.5,
            bandwidth: 0.7,
            elements: 128,
            pitch_mm: 0.41,
            active_elements: 64,
            f_number: 2.0,
            radius_mm: 50.0,
            sector_deg: 60.0,
            depth_mm: 120.0,
        }
    }

    /// 2.5 MHz phased array: 64 elements, 0.30 mm pitch (≈ λ/2), 90° sector, 60 % bandwidth.
    pub fn phased() -> Probe {
        Probe {
            kind: ProbeKind::Phased,
            fc_mhz: 2.5,
            bandwidth: 0.6,
            elements: 64,
            pitch_mm: 0.3,
            active_elements: 64,
            f_number: 2.0,
            radius_mm: 0.0,
            sector_deg: 90.0,
            depth_mm: 140.0,
        }
    }

    /// The preset of a kind.
    pub fn preset(kind: ProbeKind) -> Probe {
        match kind {
            ProbeKind::Linear => Probe::linear(),
            ProbeKind::Convex => Probe::convex(),
            ProbeKind::Phased => Probe::phased(),
        }
    }

    /// Wavelength `λ = c / fc`, mm.
    pub fn wavelength_mm(&self) -> f64 {
        SOUND_SPEED_MM_US / self.fc_mhz
    }

    /// Width of the whole array, mm (`elements × pitch`).
    pub fn aperture_mm(&self) -> f64 {
        self.elements as f64 * self.pitch_mm
    }

    /// Width of the active receive aperture, mm.
    pub fn active_aperture_mm(&self) -> f64 {
        self.active_elements.min(self.elements) as f64 * self.pitch_mm
    }

    /// Half the sector angle in radians (0 for linear).
    pub fn half_sector_rad(&self) -> f64 {
        match self.kind {
            ProbeKind::Linear => 0.0,
            _ => 0.5 * self.sector_deg.to_radians(),
        }
    }

    /// Check that every field can be simulated.
    pub fn validate(&self) -> Result<(), UsError> {
        check_range("fc_mhz", self.fc_mhz, 0.5, 50.0)?;
        check_range("bandwidth", self.bandwidth, 0.1, 1.5)?;
        check_range("pitch_mm", self.pitch_mm, 0.01, 5.0)?;
        check_range("f_number", self.f_number, 0.5, 20.0)?;
        if self.elements == 0 || self.elements > 4096 {
            return Err(UsError::param(
                "elements",
                format!("{} is outside [1, 4096]", self.elements),
            ));
        }
        if self.active_elements == 0 {
            return Err(UsError::param("active_elements", "must be at least 1"));
        }
        match self.kind {
            ProbeKind::Linear => {}
            ProbeKind::Convex => {
                check_range("radius_mm", self.radius_mm, 1.0, 500.0)?;
                check_range("sector_deg", self.sector_deg, 1.0, 170.0)?;
                check_range("depth_mm", self.depth_mm, 1.0, 400.0)?;
            }
            ProbeKind::Phased => {
                check_range("sector_deg", self.sector_deg, 1.0, 170.0)?;
                check_range("depth_mm", self.depth_mm, 1.0, 400.0)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_documented_values_hold() {
        for k in [ProbeKind::Linear, ProbeKind::Convex, ProbeKind::Phased] {
            let p = Probe::preset(k);
            p.validate().unwrap();
            assert_eq!(p.kind, k);
            assert_eq!(ProbeKind::parse(k.name()).unwrap(), k);
        }
        assert!((Probe::linear().wavelength_mm() - 0.20533).abs() < 1e-4);
        assert!((Probe::linear().aperture_mm() - 38.4).abs() < 1e-9);
        assert!(ProbeKind::parse("banana")
            .unwrap_err()
            .to_string()
            .contains("allowed: linear, convex, phased"));
        let mut bad = Probe::convex();
        bad.radius_mm = -1.0;
        assert!(bad.validate().is_err());
    }
}
