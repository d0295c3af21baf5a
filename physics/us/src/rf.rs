//! RF / IQ beam formation: scatterers convolved with the separable PSF on the beam grid.
//!
//! Model. With scatterers `i` at depth `r_i` (mm) and beam coordinate `u_i`, amplitude
//! `a_i·s_i` (`s_i`: echogenicity scale × shadowing), the RF line is the superposition of
//! pulse-echoes ([`crate::psf::Psf`]):
//!
//! ```text
//! rf(r, u) = Σ_i a_i s_i · g(r − r_i) cos(k (r − r_i)) · L(u − u_i)
//!          = Re{ e^{ikr} · iq(r, u) },    iq(r, u) = Σ_i a_i s_i e^{−i k r_i} g(r − r_i) L(u − u_i)
//! ```
//!
//! so the complex baseband (IQ) signal is the convolution of complex scatterer amplitudes
//! `a_i s_i e^{−ik r_i}` with the real Gaussian envelope, and its modulus is the envelope of the
//! RF line: for a Gaussian pulse whose spectrum does not reach zero frequency (Bedrosian's
//! theorem), `|hilbert(rf)| = |iq|`. The fast path ([`iq`]) computes `iq` directly on a grid
//! that only needs to resolve the envelope (`dr ≈ σz`), which is what makes a 512×512 B-mode
//! image take milliseconds; the reference path ([`rf`]) computes the true RF on a grid
//! fine enough for `fc` (≥ 8 samples per period) so its Hilbert envelope can be checked
//! against `|iq|` (test `iq_envelope_equals_hilbert_envelope_of_rf`).
//!
//! Axially each scatterer is added exactly (the Gaussian envelope is evaluated at its
//! sub-sample offset from a 64-phase table; the phase `e^{−ik r_i}` is exact to 5e-7);
//! laterally it is added to the nearest beam and every depth row is then convolved with the
//! lateral Gaussian taps `k_n` (whose width in beams depends on depth for sector probes and for
//! depths beyond the active aperture's reach). Beam `b` therefore sees a scatterer at beam
//! coordinate `u` through the staircase `k(b − round(u))`; the covariance of two beams `d`
//! apart, `∫ k(b − round(u)) k(b + d − round(u)) du = Σ_n k_n k_{n+d}`, equals the continuous
//! Gaussian's `∫ L(x) L(x + d) dx` up to an aliasing term `≈ 2·exp(−π²σ²)` (σ: kernel width in
//! beams; ≈ 1e-4 at the default grid's σ ≥ 1), so the speckle statistics on the beam grid are
//! those of the continuous model. When the grid is coarser than the beam (oversample < 1, σ <
//! 0.7 beams anywhere) the scatterer is split linearly between the two nearest beams instead.
//! Halo beams beyond the field of view are simulated too, so the edge beams see a full
//! neighbourhood of tissue.
//!
//! Degradations other than a change of [`Settings`] enter as [`Effect`] hooks: a transmission
//! factor on the tissue amplitude map, extra echoes added beside the tissue scatterers, and a
//! depth gain (see [`crate::effects`]); this file never names a model.
//!
//! Normalisation. The IQ rows are divided by `√I_ref(r)`, the exact expected intensity of fully
//! developed speckle from unit-echogenicity tissue for this discrete model:
//! `I_ref = ρ · ∫₀^∞ g(r − r')² Δs(r') dr' · K` (ρ: scatterers per mm², `Δs`: beam spacing in
//! mm at depth r', `K = Σ_n k_n²` for the nearest-beam deposit, `Σ_n (k_n² + k_n k_{n+1} +
//! k_{n+1}²)/3` for the linear split; the integral is `Δs·σz√π` away from the probe face and is
//! evaluated in closed form with erfc). So `E|iq|² = s(e)²` at every depth:
//! brightness does not depend on scatterer density, beam width or depth (energy-normalised
//! beams); attenuation and TGC are then applied as a depth gain.
//!
//! References: Y. Yu & S. T. Acton / J. C. Bamber & R. J. Dickinson, "Ultrasonic B-scanning: a
//! computer simulation", Phys. Med. Biol. 25(3), 1980 (convolution model); J. Meunier & M.
//! Bertrand 1995; E. Bedrosian, "A product theorem for Hilbert transforms", Proc. IEEE 51, 1963;
//! Gao et al., "A fast convolution-based methodology to simulate 2-D/3-D cardiac ultrasound
//! images", IEEE TUFFC 56(2), 2009 (COLE-style fast convolution simulators).

use crate::beam_grid::{echo_phasor, AxialTable, BeamGrid, KERNEL_SIGMAS};
use crate::echogenicity::{check_echogenicity, echo_to_amplitude};
use crate::effects::Effect;
use crate::error::UsError;
use crate::scatterers::{for_each_scatterer, for_each_scatterer_batch};
use crate::settings::Settings;
use artefact_core::{Image, Seed};
use ndarray::Array2;
use num_complex::Complex32;

/// Check the effects' parameters.
pub fn validate_effects(effects: &[&dyn Effect]) -> Result<(), UsError> {
    effects.iter().try_for_each(|e| e.validate())
}

/// The tissue amplitude map of `echo` (values in `[0, 1]`) on the extended beam grid,
/// row-major `(n_r, n_ext)`: the echogenicity sampled bilinearly, mapped to an amplitude scale
/// ([`echo_to_amplitude`]), then scaled by every effect's [`Effect::scale_tissue`] in order.
pub fn tissue_amplitudes(
    grid: &BeamGrid,
    echo: &Image,
    settings: &Settings,
    effects: &[&dyn Effect],
) -> Result<Vec<f32>, UsError> {
    check_echogenicity(echo)?;
    let e = grid.sample_image(echo)?;
    let mut amp: Vec<f32> = e
        .iter()
        .map(|&v| echo_to_amplitude(v, settings.echo_range_db))
        .collect();
    for fx in effects {
        fx.scale_tissue(grid, &e, &mut amp);
    }
    Ok(amp)
}

/// The product of the effects' depth gains, `None` when no effect has one.
fn depth_gain(grid: &BeamGrid, effects: &[&dyn Effect]) -> Option<Vec<f64>> {
    let mut acc: Option<Vec<f64>> = None;
    for fx in effects {
        if let Some(g) = fx.depth_gain(grid) {
            acc = Some(match acc {
                None => g,
                Some(a) => a.iter().zip(&g).map(|(x, y)| x * y).collect(),
            });
        }
    }
    acc
}

/// Add the echoes of the tissue scatterers of stream `tissue` (amplitude map `amp`, see
/// [`tissue_amplitudes`]) into the beam-major buffer. `batched`: the two-pass nearest-beam
/// path; otherwise one [`BeamGrid::add_point_echo`] per scatterer (the reference,
/// bit-identical: same terms added in the same order).
fn add_tissue_echoes(
    grid: &BeamGrid,
    amp: &[f32],
    settings: &Settings,
    tissue: &Seed,
    table: &AxialTable,
    buf: &mut [Complex32],
    batched: bool,
) {
    let g = &grid.geom;
    let k = grid.psf.wavenumber();
    let h = grid.halo as f64;
    let range = (-h, (g.n_b - 1) as f64 + h);
    let n_r = g.n_r;
    let mut spans: Vec<(usize, usize, usize, Complex32)> = Vec::new();
    let mut scale: Vec<f32> = Vec::new();
    for_each_scatterer_batch(
        g,
        grid.density,
        settings.amplitude_law,
        tissue,
        range,
        grid.r_gen,
        |rs, bs, amps| {
            if !(grid.nearest && batched) {
                for ((&r, &b), &a) in rs.iter().zip(bs).zip(amps) {
                    let u = b + h;
                    let s = a * amp[grid.nearest_sample(r, u)];
                    if s != 0.0 {
                        grid.add_point_echo(buf, table, r, u, echo_phasor(s, k, r));
                    }
                }
                return;
            }
            // nearest-beam echoes in two passes (addresses and weights of the whole batch
            // first, then the adds), which keeps several scatterers in flight; same arithmetic
            // as `add_point_echo`
            spans.clear();
            scale.clear();
            scale.extend(
                rs.iter()
                    .zip(bs)
                    .zip(amps)
                    .map(|((&r, &b), &a)| a * amp[grid.nearest_sample(r, b + h)]),
            );
            for ((&r, &b), &s) in rs.iter().zip(bs).zip(&scale) {
                let u = b + h;
                let un = (u.max(0.0) + 0.5) as usize;
                if s == 0.0 || un >= grid.n_ext {
                    continue;
                }
                if let Some((m_lo, t_off, len)) = grid.axial_span(table, r) {
                    spans.push((un * n_r + m_lo, t_off, len, echo_phasor(s, k, r)));
                }
            }
            for &(off, t_off, len, c) in &spans {
                let taps = table.taps(t_off, len);
                for (d, &gv) in buf[off..off + len].iter_mut().zip(taps) {
                    *d += c * gv;
                }
            }
        },
    );
}

/// Normalised IQ image `(n_r, n_b)` of the tissue (amplitude map `amp`, see
/// [`tissue_amplitudes`]) and the effects' echoes, with the effects' depth gain. `seed` is the
/// render's root stream: the tissue uses `seed.child("tissue")`, effects their own children.
pub fn iq(
    grid: &BeamGrid,
    amp: &[f32],
    settings: &Settings,
    effects: &[&dyn Effect],
    seed: u64,
) -> Array2<Complex32> {
    let g = &grid.geom;
    let mut buf = vec![Complex32::new(0.0, 0.0); g.n_r * grid.n_ext];
    let table = grid.axial_table();
    let seed = Seed::from_u64(seed);
    let tissue = seed.child("tissue");
    add_tissue_echoes(grid, amp, settings, &tissue, &table, &mut buf, true);
    for fx in effects {
        fx.add_echoes(grid, settings, &seed, &table, &mut buf);
    }
    let buf = grid.to_row_major(&buf);
    let mut out = grid.lateral(&buf);
    let gain = depth_gain(grid, effects);
    for (m, mut row) in out.rows_mut().into_iter().enumerate() {
        let f = (gain.as_ref().map_or(1.0, |gv| gv[m]) / grid.norm(m)) as f32;
        row.mapv_inplace(|c| c * f);
    }
    out
}

/// Reference path: the true RF of the tissue scatterers on a depth grid `sub` times finer
/// than the IQ grid (choose `sub` so that `dr/sub ≤ λ/16`, see [`BeamGrid::rf_subdivision`]),
/// normalised like [`iq`] and with the same depth gain. Shape `((n_r − 1)·sub + 1, n_b)`;
/// fine sample `n·sub` coincides with IQ sample `n`. The effects' extra echoes are not
/// included (this path exists to validate the IQ model).
pub fn rf(
    grid: &BeamGrid,
    amp: &[f32],
    settings: &Settings,
    effects: &[&dyn Effect],
    seed: u64,
    sub: usize,
) -> Array2<f32> {
    let g = &grid.geom;
    let sub = sub.max(1);
    let n_f = (g.n_r - 1) * sub + 1;
    let drf = g.dr / sub as f64;
    let n_ext = grid.n_ext;
    let mut buf = vec![0f32; n_f * n_ext];
    let sz = grid.psf.axial_sigma_mm();
    let reach = KERNEL_SIGMAS * sz;
    let h = grid.halo as f64;
    let range = (-h, (g.n_b - 1) as f64 + h);
    let tissue = Seed::from_u64(seed).child("tissue");
    for_each_scatterer(
        g,
        grid.density,
        settings.amplitude_law,
        &tissue,
        range,
        grid.r_gen,
        |r, b, a| {
            let u = b + h;
            let s = a * amp[grid.nearest_sample(r, u)];
            if s == 0.0 {
                return;
            }
            let (u0, fu) = if grid.nearest {
                (u.round() as usize, 0.0f32)
            } else {
                let u0 = u.floor();
                (u0 as usize, (u - u0) as f32)
            };
            let lo = ((r - reach) / drf).ceil().max(0.0) as usize;
            let hi = (((r + reach) / drf).floor() as usize).min(n_f - 1);
            for n in lo..=hi.max(lo) {
                if n > hi {
                    break;
                }
                let v = s * grid.psf.rf_pulse(n as f64 * drf - r) as f32;
                if u0 < n_ext {
                    buf[n * n_ext + u0] += v * (1.0 - fu);
                }
                if u0 + 1 < n_ext && fu != 0.0 {
                    buf[n * n_ext + u0 + 1] += v * fu;
                }
            }
        },
    );
    // lateral convolution and normalisation with the kernel of the nearest IQ row
    let gain = depth_gain(grid, effects);
    let mut out = Array2::<f32>::zeros((n_f, g.n_b));
    for n in 0..n_f {
        let m = ((n as f64 / sub as f64).round() as usize).min(g.n_r - 1);
        let (t, taps) = grid.kernel(m);
        let irow = &buf[n * n_ext..(n + 1) * n_ext];
        let f = (gain.as_ref().map_or(1.0, |gv| gv[m]) / grid.norm(m)) as f32;
        for b in 0..g.n_b {
            let mut acc = 0f32;
            for (ti, &w) in taps.iter().enumerate() {
                let e = b as i64 + grid.halo as i64 + ti as i64 - t as i64;
                if e >= 0 && (e as usize) < n_ext {
                    acc += w * irow[e as usize];
                }
            }
            out[[n, b]] = acc * f;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Probe;
    use artefact_core::{Modality, Unit};

    /// The batched two-pass tissue echoes give the same bytes as one `add_point_echo` per
    /// scatterer.
    #[test]
    fn batched_tissue_echoes_match_per_scatterer_reference() {
        let data = Array2::from_shape_fn((96, 80), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 10.0);
        let img = Image::new(data, [1.0, 1.0], Modality::Us, Unit::Echogenicity).unwrap();
        for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
            let settings = Settings::default();
            let grid = BeamGrid::new(&probe, img.shape(), img.spacing, &settings).unwrap();
            let amp = tissue_amplitudes(&grid, &img, &settings, &[]).unwrap();
            assert!(grid.nearest);
            let table = grid.axial_table();
            let tissue = Seed::from_u64(3).child("tissue");
            let n = grid.geom.n_r * grid.n_ext;
            let mut fast = vec![Complex32::new(0.0, 0.0); n];
            let mut slow = fast.clone();
            add_tissue_echoes(&grid, &amp, &settings, &tissue, &table, &mut fast, true);
            add_tissue_echoes(&grid, &amp, &settings, &tissue, &table, &mut slow, false);
            assert!(fast.iter().any(|c| c.norm() > 0.0));
            assert!(
                fast.iter()
                    .zip(&slow)
                    .all(|(a, b)| a.re.to_bits() == b.re.to_bits()
                        && a.im.to_bits() == b.im.to_bits())
            );
        }
    }
}
