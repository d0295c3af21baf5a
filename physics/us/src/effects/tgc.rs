//! Depth attenuation with a wrong or missing time-gain compensation (TGC).
//!
//! Model. Soft tissue attenuates ultrasound by `α·f` dB/cm one way (`α` in dB/cm/MHz, ≈ 0.5 for
//! soft tissue, `f` the centre frequency in MHz of the simulated, possibly degraded, pulse), so
//! an echo from depth `z` (cm) is weaker by `2·α·f·z` dB (round trip). The scanner's TGC adds a
//! depth-dependent gain; a correct TGC cancels the attenuation exactly. This model has a TGC
//! that compensates only a fraction `c` of it (`c = 0`: no TGC; `c = 1`: correct; `c > 1`:
//! over-compensation) plus per-slider errors (the piecewise-linear gain curve of the TGC slider
//! bank, sliders equally spaced from depth 0 to the imaging depth), giving a net echo gain
//!
//! ```text
//! G(z) [dB] = −2·α·f·z·(1 − c) + slider(z)
//! ```
//!
//! applied to the echoes before envelope detection and log compression (the display darkens
//! with depth linearly in dB). `c = 1` with no slider error is the clean render (identity).
//! Frequency-dependent spectral downshift is not modelled.
//!
//! Units: α dB/cm/MHz, depth cm, gains dB. Reference: Szabo, *Diagnostic Ultrasound Imaging:
//! Inside Out*, 2014, ch. 4 (attenuation) and §10.6 (TGC).

use crate::beam_grid::BeamGrid;
use crate::effects::Effect;
use crate::error::{check_range, UsError};

/// Attenuation and TGC.
#[derive(Clone, Debug, PartialEq)]
pub struct Tgc {
    /// Tissue attenuation, dB/cm/MHz (one way).
    pub alpha_db_cm_mhz: f64,
    /// Fraction of the round-trip attenuation the TGC compensates.
    pub compensation: f64,
    /// Slider gain errors, dB, at equally spaced depths from 0 to the imaging depth (linear
    /// interpolation in between; empty = none).
    pub slider_db: Vec<f64>,
}

impl Default for Tgc {
    /// Soft tissue (0.5 dB/cm/MHz) with a correct TGC: no change.
    fn default() -> Self {
        Tgc {
            alpha_db_cm_mhz: 0.5,
            compensation: 1.0,
            slider_db: Vec::new(),
        }
    }
}

/// Piecewise-linear slider curve at relative depth `t ∈ [0, 1]`.
fn slider_db(sl: &[f64], t: f64) -> f64 {
    let pos = t.clamp(0.0, 1.0) * (sl.len() - 1) as f64;
    let i = (pos.floor() as usize).min(sl.len() - 2);
    let f = pos - i as f64;
    sl[i] * (1.0 - f) + sl[i + 1] * f
}

impl Effect for Tgc {
    fn validate(&self) -> Result<(), UsError> {
        check_range("alpha_db_cm_mhz", self.alpha_db_cm_mhz, 0.0, 5.0)?;
        check_range("tgc_compensation", self.compensation, 0.0, 3.0)?;
        for &v in &self.slider_db {
            check_range("tgc_slider_db", v, -60.0, 60.0)?;
        }
        if self.slider_db.len() == 1 || self.slider_db.len() > 64 {
            return Err(UsError::param(
                "tgc_slider_db",
                format!(
                    "needs 2 to 64 sliders (or none), got {}",
                    self.slider_db.len()
                ),
            ));
        }
        Ok(())
    }

    /// Net echo gain per depth row (linear amplitude factor), `None` when it is 1.
    fn depth_gain(&self, grid: &BeamGrid) -> Option<Vec<f64>> {
        let sliders = self.slider_db.iter().any(|&v| v != 0.0);
        if self.compensation == 1.0 && !sliders {
            return None;
        }
        let g = &grid.geom;
        let per_cm = -2.0 * self.alpha_db_cm_mhz * grid.psf.fc_mhz * (1.0 - self.compensation);
        Some(
            (0..g.n_r)
                .map(|m| {
                    let r = g.r_of(m as f64);
                    let mut db = per_cm * r / 10.0;
                    if sliders {
                        db += slider_db(&self.slider_db, r / g.depth);
                    }
                    10f64.powf(db / 20.0)
                })
                .collect(),
        )
    }
}
