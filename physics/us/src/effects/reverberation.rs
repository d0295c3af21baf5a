//! Reverberation: multiple reflections between the probe face and a bright interface.
//!
//! Model. A strongly reflecting interface parallel to the probe face at depth `d` (fascia, a
//! needle, the wall of a gas-filled structure) with amplitude reflection coefficient `R`
//! returns its echo at depth `d`; part of it is reflected back by the probe face (taken as a
//! perfect reflector) and returns again after another round trip, appearing at `2d`, then `3d`,
//! … The k-th echo (k = 1, 2, …, while `k·d` is within the image) has amplitude `R^k` times a
//! specular level ([`SPECULAR_DB`] above unit-echogenicity speckle) and the phase of its
//! apparent depth; it is a coherent line echo with the axial PSF, over the beams that the
//! interface spans. Because it arrives at the time of depth `k·d`, it is attenuated and
//! TGC-compensated exactly like a real echo from that depth. `R = 0` adds nothing (the clean
//! render).
//!
//! Units: depths and widths as fractions of the imaging depth / lateral field of view,
//! reflectivity as an amplitude fraction. Reference: Szabo, *Diagnostic Ultrasound Imaging:
//! Inside Out*, 2014, §10.11; Feldman et al., "US artifacts", RadioGraphics 29(4), 2009.

use crate::beam_grid::{AxialTable, BeamGrid, SPECULAR_DB};
use crate::effects::Effect;
use crate::error::{check_range, UsError};
use crate::settings::Settings;
use artefact_core::Seed;
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

/// A reverberating interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReverberatingInterface {
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

impl ReverberatingInterface {
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

impl Effect for ReverberatingInterface {
    fn validate(&self) -> Result<(), UsError> {
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

    /// Add the interface echo and its reverberations.
    fn add_echoes(
        &self,
        grid: &BeamGrid,
        _settings: &Settings,
        _seed: &Seed,
        table: &AxialTable,
        buf: &mut [Complex32],
    ) {
        if self.reflectivity == 0.0 {
            return;
        }
        let beams = grid.beam_span(self.center_frac, self.width_frac);
        for (z, a) in self.echoes(grid.geom.depth) {
            grid.add_line_echo(buf, table, z, beams, a);
        }
    }
}
