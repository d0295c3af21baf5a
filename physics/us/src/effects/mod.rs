//! Effect models: degradations that are not a change of an engine [`Settings`] number, as hooks
//! the engine calls at fixed points of the render path.
//!
//! The engine ([`crate::rf`], [`crate::engine`]) takes a list of `&dyn Effect` and never names
//! a model, as `artefact_ct::pipeline` takes its corruption as a closure. An effect may
//!
//! 1. scale the tissue amplitude map on the extended beam grid ([`Effect::scale_tissue`]):
//!    acoustic shadows (transmission loss below reflectors);
//! 2. add echoes that do not come from the tissue scatterers into the beam-major IQ buffer
//!    before the lateral convolution ([`Effect::add_echoes`]): clutter, specular reflector
//!    lines, reverberations — with the primitives of [`crate::beam_grid`];
//! 3. multiply every depth row by a gain ([`Effect::depth_gain`]): attenuation and TGC.
//!
//! Hooks of several effects run in list order (the order fixes the floating-point sums, so a
//! list is replayed byte-exactly in the same order); depth gains multiply.
//!
//! Models: [`shadows`] (inserted reflectors and shadows of bright structures), [`clutter`]
//! (haze), [`reverberation`] (a reverberating interface), [`tgc`] (depth attenuation with a
//! wrong or missing time-gain compensation). Each file states its model, units and references.

pub mod clutter;
pub mod reverberation;
pub mod shadows;
pub mod tgc;

use crate::beam_grid::{AxialTable, BeamGrid};
use crate::error::UsError;
use crate::settings::Settings;
use artefact_core::Seed;
use num_complex::Complex32;

/// A degradation acting inside the B-mode render path (see the module docs). Every hook has a
/// no-op default.
pub trait Effect {
    /// Check the model's parameters (called by the engine before rendering).
    fn validate(&self) -> Result<(), UsError> {
        Ok(())
    }

    /// Multiply the tissue amplitude map `amp` (row-major `(n_r, n_ext)` on the extended grid)
    /// in place; `echo` is the echogenicity sampled on the same grid.
    fn scale_tissue(&self, grid: &BeamGrid, echo: &[f32], amp: &mut [f32]) {
        let _ = (grid, echo, amp);
    }

    /// Add echoes into the beam-major buffer `buf` (`buf[u·n_r + m]`) of one render whose root
    /// random stream is `seed` (derive a child stream per effect, e.g. `seed.child("haze")`).
    fn add_echoes(
        &self,
        grid: &BeamGrid,
        settings: &Settings,
        seed: &Seed,
        table: &AxialTable,
        buf: &mut [Complex32],
    ) {
        let _ = (grid, settings, seed, table, buf);
    }

    /// Linear amplitude gain per depth row, `None` when it is 1 everywhere.
    fn depth_gain(&self, grid: &BeamGrid) -> Option<Vec<f64>> {
        let _ = grid;
        None
    }
}
