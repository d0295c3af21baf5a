//! Random scatterer field.
//!
//! Model: point scatterers uniformly distributed in the image plane (a 2-D Poisson point process
//! with `density` scatterers per mm²), each with an independent random amplitude `a` with
//! `E[a²] = 1` — zero-mean Gaussian (default) or Rayleigh — later scaled by the echogenicity of
//! the tissue at its position. The density is usually given per resolution cell
//! ([`crate::psf::Psf::resolution_cell_mm2`]); at ≥ 10 scatterers per cell the speckle is fully
//! developed (Rayleigh envelope, mean/std = √(π/(4 − π)) ≈ 1.91); below that the envelope
//! statistics become K-distributed (mean/std < 1.91) — Wagner et al., "Statistics of speckle in
//! ultrasound B-scans", IEEE Trans. Sonics Ultrason. 30(3), 1983; Jakeman & Pusey, IEEE TAP
//! 1976 (K distribution).
//!
//! Positions are drawn in beam coordinates: the lateral beam-index axis is cut into blocks of
//! [`BLOCK_BEAMS`] beams, each block with its own ChaCha8 stream (`seed.child("block/k")`) and a
//! Poisson number of scatterers for its area; in sector geometry the radius `ρ = R + r` is drawn
//! with density ∝ ρ (`ρ = √(ρ0² + u·(ρ1² − ρ0²))`) so the field is uniform per mm² in the image
//! plane. Blocks are anchored at beam 0, so the realisation in a region does not depend on how
//! far the simulation extends beyond it (halo beams).

use crate::geometry::Geometry;
use artefact_core::Seed;
use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

/// Beams per scatterer block.
pub const BLOCK_BEAMS: i64 = 16;

/// Distribution of scatterer amplitudes (both normalised to `E[a²] = 1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AmplitudeLaw {
    /// Zero-mean Gaussian, unit variance.
    Gaussian,
    /// Rayleigh with `E[a²] = 1` (σ = 1/√2).
    #[default]
    Rayleigh,
}

/// Call `f(r_mm, beam_index, amplitude)` for every scatterer with beam index in
/// `[b_lo, b_hi]` (fractional, may be negative for halo beams) and depth in `[0, r_max]`.
pub fn for_each_scatterer(
    geom: &Geometry,
    density_per_mm2: f64,
    law: AmplitudeLaw,
    seed: &Seed,
    (b_lo, b_hi): (f64, f64),
    r_max: f64,
    mut f: impl FnMut(f64, f64, f32),
) {
    if density_per_mm2 <= 0.0 || r_max <= 0.0 || b_hi < b_lo {
        return;
    }
    let k_lo = (b_lo / BLOCK_BEAMS as f64).floor() as i64;
    let k_hi = (b_hi / BLOCK_BEAMS as f64).floor() as i64;
    let width = BLOCK_BEAMS as f64 * geom.dlat;
    let (rho0, rho1) = (geom.radius, geom.radius + r_max);
    let area = if geom.is_sector() {
        width * (rho1 * rho1 - rho0 * rho0) / 2.0
    } else {
        width * r_max
    };
    let mean = density_per_mm2 * area;
    let Ok(poisson) = Poisson::new(mean) else {
        return;
    };
    for k in k_lo..=k_hi {
        let mut rng = seed.child(&format!("block/{k}")).rng();
        let n = poisson.sample(&mut rng) as u64;
        let b0 = (k * BLOCK_BEAMS) as f64;
        for _ in 0..n {
            let b = b0 + BLOCK_BEAMS as f64 * rng.random::<f64>();
            let u: f64 = rng.random();
            let r = if geom.is_sector() {
                (rho0 * rho0 + u * (rho1 * rho1 - rho0 * rho0)).sqrt() - rho0
            } else {
                u * r_max
            };
            let a = match law {
                AmplitudeLaw::Gaussian => {
                    let g: f64 = StandardNormal.sample(&mut rng);
                    g as f32
                }
                AmplitudeLaw::Rayleigh => {
                    let v: f64 = rng.random();
                    (-(1.0 - v).ln()).sqrt() as f32
                }
            };
            if b >= b_lo && b <= b_hi {
                f(r, b, a);
            }
        }
    }
}
