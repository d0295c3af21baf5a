//! Clutter / haze: diffuse acoustic noise that fills dark regions.
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
//! it adds speckle-like haze over anechoic regions and lowers contrast. `level = 0` adds
//! nothing (the clean render).
//!
//! Units: level as an amplitude fraction (20·log10(level) dB relative to echogenicity-1 tissue),
//! near_field as a fraction of the imaging depth. Reference: Lediju et al., "Sources of
//! reverberation clutter in ultrasound images", IEEE Ultrasonics Symp. 2010; Pinton et al.,
//! "Sources of image degradation in fundamental and harmonic ultrasound imaging", IEEE TUFFC
//! 58(9), 2011.

use crate::beam_grid::{echo_phasor, AxialTable, BeamGrid};
use crate::effects::Effect;
use crate::error::{check_range, UsError};
use crate::scatterers::for_each_scatterer;
use crate::settings::Settings;
use artefact_core::Seed;
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

/// Clutter field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clutter {
    /// Clutter amplitude relative to unit-echogenicity tissue.
    pub level: f64,
    /// e-folding depth of the near-field part, fraction of the imaging depth.
    pub near_field: f64,
    /// Fraction of the level that persists at all depths.
    pub floor: f64,
}

impl Clutter {
    /// Clutter amplitude at depth `z` of an image of depth `depth`.
    pub fn profile(&self, z: f64, depth: f64) -> f64 {
        self.level * (self.floor + (1.0 - self.floor) * (-z / (self.near_field * depth)).exp())
    }
}

impl Effect for Clutter {
    fn validate(&self) -> Result<(), UsError> {
        check_range("level", self.level, 0.0, 10.0)?;
        check_range("near_field", self.near_field, 0.01, 10.0)?;
        check_range("floor", self.floor, 0.0, 1.0)
    }

    /// Add the clutter scatterers.
    fn add_echoes(
        &self,
        grid: &BeamGrid,
        settings: &Settings,
        seed: &Seed,
        table: &AxialTable,
        buf: &mut [Complex32],
    ) {
        if self.level == 0.0 {
            return;
        }
        let g = &grid.geom;
        let h = grid.halo as f64;
        let k = grid.psf.wavenumber();
        for_each_scatterer(
            g,
            grid.density,
            settings.amplitude_law,
            &seed.child("haze"),
            (-h, (g.n_b - 1) as f64 + h),
            grid.r_gen,
            |r, b, a| {
                let v = (a as f64 * self.profile(r, g.depth)) as f32;
                grid.add_point_echo(buf, table, r, b + h, echo_phasor(v, k, r));
            },
        );
    }
}
