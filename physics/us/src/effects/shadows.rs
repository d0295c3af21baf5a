//! Acoustic shadows below strong reflectors (per-beam transmission loss).
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

use crate::beam_grid::{AxialTable, BeamGrid, SPECULAR_DB};
use crate::effects::Effect;
use crate::error::{check_range, UsError};
use crate::settings::Settings;
use artefact_core::Seed;
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

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

/// Inserted reflectors and shadows of bright structures of the input, as one effect (the
/// reflectors' transmission is applied first, then the image's).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shadows {
    /// Inserted reflectors (each with its loss).
    pub reflectors: Vec<Reflector>,
    /// Shadows of bright structures of the input (None = off).
    pub image_shadow: Option<ImageShadow>,
}

impl Effect for Shadows {
    fn validate(&self) -> Result<(), UsError> {
        for r in &self.reflectors {
            r.validate()?;
        }
        if let Some(s) = &self.image_shadow {
            s.validate()?;
        }
        Ok(())
    }

    /// Multiply the amplitude map by the shadows' transmission.
    fn scale_tissue(&self, grid: &BeamGrid, echo: &[f32], amp: &mut [f32]) {
        let g = &grid.geom;
        let n_ext = grid.n_ext;
        for rf in self.reflectors.iter().filter(|r| r.loss_db > 0.0) {
            let (lo, hi) = grid.beam_span(rf.center_frac, rf.width_frac);
            let t = 10f64.powf(-rf.loss_db / 20.0) as f32;
            let d = rf.depth_frac * g.depth;
            for m in 0..g.n_r {
                if g.r_of(m as f64) <= d {
                    continue;
                }
                for b in lo..=hi {
                    amp[m * n_ext + b + grid.halo] *= t;
                }
            }
        }
        if let Some(sh) = self.image_shadow.as_ref().filter(|sh| sh.loss_db > 0.0) {
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
    fn add_echoes(
        &self,
        grid: &BeamGrid,
        _settings: &Settings,
        _seed: &Seed,
        table: &AxialTable,
        buf: &mut [Complex32],
    ) {
        for rf in self.reflectors.iter().filter(|r| r.loss_db > 0.0) {
            let tau = 10f64.powf(-rf.loss_db / 20.0);
            let a = (1.0 - tau).sqrt() * 10f64.powf(SPECULAR_DB / 20.0);
            grid.add_line_echo(
                buf,
                table,
                rf.depth_frac * grid.geom.depth,
                grid.beam_span(rf.center_frac, rf.width_frac),
                a,
            );
        }
    }
}
