//! Random scatterer field.
//!
//! Model: point scatterers uniformly distributed in the image plane (a 2-D Poisson point process
//! with `density` scatterers per mm²), each with an independent random amplitude `a` with
//! `E[a²] = 1` — Rayleigh (default, as MUST's `genscat`) or zero-mean Gaussian — later scaled by
//! the echogenicity of the tissue at its position. The density is usually given per resolution
//! cell ([`crate::psf::Psf::resolution_cell_mm2`]); at ≥ 10 scatterers per cell the speckle is
//! fully developed (Rayleigh envelope, mean/std = √(π/(4 − π)) ≈ 1.91); below that the envelope
//! statistics become K-distributed (mean/std < 1.91) — Wagner et al., "Statistics of speckle in
//! ultrasound B-scans", IEEE Trans. Sonics Ultrason. 30(3), 1983; Jakeman & Pusey, IEEE TAP
//! 1976 (K distribution).
//!
//! Positions are drawn in beam coordinates: the lateral beam-index axis is cut into blocks of
//! [`BLOCK_BEAMS`] beams and the depth axis into tiles of [`TILE_ROWS`] depth samples (anchored
//! at r = 0); every tile has its own ChaCha8 stream (`seed.child("block/k").child("tile/j")`)
//! and a Poisson number of scatterers for its area; in sector geometry the radius `ρ = R + r`
//! is drawn with density ∝ ρ (`ρ = √(ρ0² + u·(ρ1² − ρ0²))` within the tile) so the field is
//! uniform per mm² in the image plane. Tiles are anchored at beam 0 and depth 0, so the
//! realisation in a region does not depend on how far the simulation extends beyond it (halo
//! beams, generation depth). Uniforms are 32-bit words drawn in bulk from the stream;
//! amplitudes by inversion (Rayleigh: `√(−ln w)`) or Box–Muller (Gaussian) with the f32 `ln`
//! and `sin_cos` of `fastmath` (checked against libm in the tests).

use crate::geometry::Geometry;
use artefact_core::Seed;
use rand::Rng;
use rand_distr::{Distribution, Poisson};
use serde::{Deserialize, Serialize};

/// Beams per scatterer block.
pub const BLOCK_BEAMS: i64 = 16;
/// Depth samples (of the beam grid) per scatterer tile.
pub const TILE_ROWS: usize = 64;

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
/// The same scatterers, in the same order, as [`for_each_scatterer_batch`].
pub fn for_each_scatterer(
    geom: &Geometry,
    density_per_mm2: f64,
    law: AmplitudeLaw,
    seed: &Seed,
    range: (f64, f64),
    r_max: f64,
    mut f: impl FnMut(f64, f64, f32),
) {
    for_each_scatterer_batch(geom, density_per_mm2, law, seed, range, r_max, |r, b, a| {
        for i in 0..r.len() {
            f(r[i], b[i], a[i]);
        }
    });
}

/// Scatterers per batch.
const BATCH: usize = 512;

/// Call `f(depths_mm, beam_indices, amplitudes)` (three slices of equal length) for batches of
/// scatterers with beam index in `[b_lo, b_hi]` and depth in `[0, r_max]`.
///
/// Scatterers come tile by tile ([`BLOCK_BEAMS`] beams × [`TILE_ROWS`] depth samples), so
/// consecutive batches touch a small, cache-resident part of the beam grid. In every batch the
/// tile's ChaCha8 stream gives, in this order, the 32-bit lateral uniforms of all its
/// scatterers, then the depth uniforms, then the amplitude words (one per scatterer for
/// Rayleigh, two for Gaussian), so the transforms run over contiguous arrays.
pub fn for_each_scatterer_batch(
    geom: &Geometry,
    density_per_mm2: f64,
    law: AmplitudeLaw,
    seed: &Seed,
    (b_lo, b_hi): (f64, f64),
    r_max: f64,
    mut f: impl FnMut(&[f64], &[f64], &[f32]),
) {
    if density_per_mm2 <= 0.0 || r_max <= 0.0 || b_hi < b_lo || !density_per_mm2.is_finite() {
        return;
    }
    let k_lo = (b_lo / BLOCK_BEAMS as f64).floor() as i64;
    let k_hi = (b_hi / BLOCK_BEAMS as f64).floor() as i64;
    let width = BLOCK_BEAMS as f64 * geom.dlat;
    let sector = geom.is_sector();
    let rho0 = geom.radius;
    // depth tiles anchored at r = 0, the last one cut at r_max
    let h = TILE_ROWS as f64 * geom.dr;
    let n_tiles = (r_max / h).ceil().max(1.0) as usize;
    // per tile: (r0, r1, ρ0², ρ1² − ρ0², Poisson law of its count)
    let tiles: Vec<_> = (0..n_tiles)
        .filter_map(|j| {
            let (r0, r1) = (j as f64 * h, ((j + 1) as f64 * h).min(r_max));
            let (p0, p1) = (rho0 + r0, rho0 + r1);
            let area = if sector {
                width * (p1 * p1 - p0 * p0) / 2.0
            } else {
                width * (r1 - r0)
            };
            let poisson = Poisson::new(density_per_mm2 * area).ok()?;
            Some((j, r0, r1, p0 * p0, p1 * p1 - p0 * p0, poisson))
        })
        .collect();
    let words = match law {
        AmplitudeLaw::Rayleigh => 1,
        AmplitudeLaw::Gaussian => 2,
    };
    let mut wb = [0u32; BATCH];
    let mut wr = [0u32; BATCH];
    let mut wa = [0u32; 2 * BATCH];
    let (mut rs, mut bs, mut amps) = ([0f64; BATCH], [0f64; BATCH], [0f32; BATCH]);
    for k in k_lo..=k_hi {
        let block = seed.child(&format!("block/{k}"));
        let b0 = (k * BLOCK_BEAMS) as f64;
        let clip = b0 < b_lo || b0 + BLOCK_BEAMS as f64 > b_hi;
        for &(j, r0, r1, p0_sq, dp_sq, poisson) in &tiles {
            let mut rng = block.child(&format!("tile/{j}")).rng();
            let mut left = poisson.sample(&mut rng) as usize;
            while left > 0 {
                let n = left.min(BATCH);
                left -= n;
                // 32-bit uniforms: 2^-32 of a block's width or a tile's depth is far below
                // any resolution of the model
                rng.fill(&mut wb[..n]);
                rng.fill(&mut wr[..n]);
                rng.fill(&mut wa[..words * n]);
                for i in 0..n {
                    bs[i] = b0 + BLOCK_BEAMS as f64 * U32_TO_UNIT * wb[i] as f64;
                }
                if sector {
                    for i in 0..n {
                        let u = U32_TO_UNIT * (wr[i] as f64 + 0.5);
                        rs[i] = (p0_sq + u * dp_sq).sqrt() - rho0;
                    }
                } else {
                    for i in 0..n {
                        rs[i] = r0 + U32_TO_UNIT * (wr[i] as f64 + 0.5) * (r1 - r0);
                    }
                }
                match law {
                    AmplitudeLaw::Rayleigh => {
                        for i in 0..n {
                            amps[i] = rayleigh(wa[i]);
                        }
                    }
                    AmplitudeLaw::Gaussian => {
                        for i in 0..n {
                            amps[i] = gaussian(wa[2 * i], wa[2 * i + 1]);
                        }
                    }
                }
                if clip {
                    let mut m = 0;
                    for i in 0..n {
                        if bs[i] >= b_lo && bs[i] <= b_hi {
                            (rs[m], bs[m], amps[m]) = (rs[i], bs[i], amps[i]);
                            m += 1;
                        }
                    }
                    f(&rs[..m], &bs[..m], &amps[..m]);
                } else {
                    f(&rs[..n], &bs[..n], &amps[..n]);
                }
            }
        }
    }
}

/// Standard normal from 64 random bits by Box–Muller: `√(−2 ln w)·cos 2πv`, `w` from the top
/// 23 bits of `x` as in [`rayleigh`], `v` from the top 24 bits of `y`.
#[inline]
pub(crate) fn gaussian(x: u32, y: u32) -> f32 {
    let v = (y >> 8) as f32 * (1.0 / 16_777_216.0);
    std::f32::consts::SQRT_2 * rayleigh(x) * artefact_core::fastmath::sin_cos_turns(v).1
}

/// `2^-32`.
const U32_TO_UNIT: f64 = 1.0 / 4_294_967_296.0;

/// Rayleigh amplitude with `E[a²] = 1` from 32 random bits, by inversion: `a = √(−ln w)`,
/// `w = (v' + ½)·2^-23` uniform in `(0, 1)` from the top 23 bits `v'` of `v` (exact in f32;
/// largest amplitude √(ln 2^24) ≈ 4.08, i.e. the tail beyond probability 6e-8 is cut).
#[inline]
pub(crate) fn rayleigh(v: u32) -> f32 {
    let w = ((v >> 9) as f32 + 0.5) * (1.0 / 8_388_608.0);
    (-artefact_core::fastmath::ln(w)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast inversion agrees with the libm one on every 24-bit input (sampled).
    #[test]
    fn rayleigh_inversion_matches_libm() {
        for v in (0..=u32::MAX).step_by(4099).chain([0, u32::MAX]) {
            let w = ((v >> 9) as f64 + 0.5) / 8_388_608.0;
            let exact = (-w.ln()).sqrt();
            let fast = rayleigh(v) as f64;
            assert!(
                (fast - exact).abs() < 2e-6 * exact.max(1e-3),
                "{v}: {fast} vs {exact}"
            );
        }
    }
}
