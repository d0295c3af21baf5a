//! 2-D non-uniform FFT (Kaiser–Bessel gridding), golden-angle radial trajectories and their
//! density compensation.
//!
//! # Model
//! The forward operator `A` evaluates the centred, orthonormal DFT of an `R×C` image at
//! arbitrary frequencies `ω = (ω0, ω1)` (radians per pixel, `[-π, π)` per array axis):
//!
//! ```text
//! y_j = 1/√(RC) · Σ_m x[m] · exp(−i (ω_j0 (m0 − R/2) + ω_j1 (m1 − C/2)))
//! ```
//!
//! which equals `fft2c` at the Cartesian frequencies `ω = 2π(k − n/2)/n`. It is approximated by
//! gridding (Jackson et al. 1991; Fessler & Sutton 2003; Beatty et al. 2005): divide by the
//! kernel's Fourier transform (deapodisation), zero-pad to an oversampled grid `G = σ·n`
//! (σ ≥ 1.25), centred FFT, then interpolate with a separable Kaiser–Bessel kernel of width `W`
//! grid cells, `ψ(v) = I0(β√(1 − (2v/W)²)) / I0(β)`, with Beatty's
//! `β = π√((W/σ)²(σ − ½)² − 0.8)`. The deapodisation uses the kernel's analytic transform
//! `Ψ(f) = W·sinh(√(β² − (πWf)²)) / √(β² − (πWf)²)`. The adjoint `Aᴴ` spreads with the same
//! kernel weights, inverse FFT, crops and deapodises, so `⟨Ax, y⟩ = ⟨x, Aᴴy⟩` holds to rounding.
//!
//! # Radial sampling
//! [`golden_angle_radial`] gives `n_spokes` full-diameter spokes at angles
//! `θ_j = j·π/φ mod π` (φ the golden ratio, 111.246°; Winkelmann et al. 2007) with `n_ro`
//! readout samples `ρ ∈ [−1, 1)` each, `ω = π·ρ·(cos θ, sin θ)`. Nyquist sampling of the disc
//! needs `π/2 · n_ro` spokes. [`radial_density`] is the analytic area-per-sample density
//! compensation (ramp `|k|·Δk·Δθ`, with the DC sample sharing the central disc), in units of
//! Cartesian k-space cells, so `Aᴴ W A ≈ I` for well-sampled radial data.
//!
//! References: J. I. Jackson et al., IEEE TMI 10(3) 1991; J. A. Fessler, B. P. Sutton, IEEE TSP
//! 51(2) 2003; P. J. Beatty, D. G. Nishimura, J. M. Pauly, IEEE TMI 24(6) 2005;
//! S. Winkelmann et al., IEEE TMI 26(1) 2007.

use crate::{MriError, Result};
use artefact_core::fft::{fft2c, ifft2c};
use artefact_core::Complex32;
use ndarray::Array2;

/// Default grid oversampling σ.
pub const DEFAULT_OVERSAMPLING: f64 = 1.5;
/// Default kernel width in oversampled grid cells.
pub const DEFAULT_WIDTH: usize = 6;

/// Table samples per grid cell for the kernel lookup (linear interpolation).
const TABLE_PER_CELL: usize = 2048;

/// Modified Bessel function of the first kind, order 0 (power series, f64).
pub fn bessel_i0(x: f64) -> f64 {
    let q = 0.25 * x * x;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..200 {
        term *= q / ((k * k) as f64);
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

/// A planned 2-D NUFFT for one image shape and one set of frequencies.
#[derive(Clone, Debug)]
pub struct Nufft2d {
    shape: (usize, usize),
    grid: (usize, usize),
    width: usize,
    beta: f64,
    /// `1/Ψ` per image row and column.
    deapod: [Vec<f32>; 2],
    /// first grid index (already wrapped to `[0, G)`) per sample and axis
    start: Vec<[u32; 2]>,
    /// `W` kernel weights for axis 0 then `W` for axis 1, per sample
    weights: Vec<f32>,
    scale: f32,
}

fn smooth_even(n: usize) -> usize {
    // smallest even 2·3·5-smooth number ≥ n (FFT friendly)
    let mut m = n.max(2);
    loop {
        let s = crate::rfft::next_smooth(m);
        if s % 2 == 0 {
            return s;
        }
        m = s + 1;
    }
}

impl Nufft2d {
    /// Plan `A` for an image of `shape` at frequencies `omega` (radians/pixel, array-axis order).
    pub fn new(
        shape: (usize, usize),
        omega: &[[f64; 2]],
        oversampling: f64,
        width: usize,
    ) -> Result<Self> {
        if shape.0 == 0 || shape.1 == 0 {
            return Err(MriError::Input("empty image".into()));
        }
        if !(oversampling.is_finite() && (1.25..=4.0).contains(&oversampling)) {
            return Err(MriError::Param {
                param: "oversampling",
                reason: format!("must lie in [1.25, 4], got {oversampling}"),
            });
        }
        if !(2..=12).contains(&width) {
            return Err(MriError::Param {
                param: "width",
                reason: format!("kernel width must lie in [2, 12] cells, got {width}"),
            });
        }
        let w = width as f64;
        let inner = (w / oversampling).powi(2) * (oversampling - 0.5).powi(2) - 0.8;
        let beta = std::f64::consts::PI * inner.max(0.0).sqrt();
        let grid = (
            smooth_even((oversampling * shape.0 as f64).ceil() as usize),
            smooth_even((oversampling * shape.1 as f64).ceil() as usize),
        );
        // analytic deapodisation per axis
        let i0b = bessel_i0(beta);
        let kernel_ft = |f: f64| -> f64 {
            let a = std::f64::consts::PI * w * f;
            let z2 = beta * beta - a * a;
            let v = if z2 > 1e-12 {
                let z = z2.sqrt();
                z.sinh() / z
            } else if z2 < -1e-12 {
                let z = (-z2).sqrt();
                z.sin() / z
            } else {
                1.0
            };
            w * v / i0b
        };
        let deapod = [0usize, 1].map(|a| {
            let (n, g) = if a == 0 {
                (shape.0, grid.0)
            } else {
                (shape.1, grid.1)
            };
            let h = (n / 2) as f64;
            (0..n)
                .map(|m| (1.0 / kernel_ft((m as f64 - h) / g as f64)) as f32)
                .collect::<Vec<f32>>()
        });
        // kernel table on [0, W/2]
        let half = w / 2.0;
        let tlen = (half * TABLE_PER_CELL as f64).ceil() as usize + 2;
        let table: Vec<f64> = (0..tlen)
            .map(|t| {
                let v = t as f64 / TABLE_PER_CELL as f64;
                let u = 1.0 - (v / half).powi(2);
                if u <= 0.0 {
                    0.0
                } else {
                    bessel_i0(beta * u.sqrt()) / i0b
                }
            })
            .collect();
        let kernel = |v: f64| -> f32 {
            let p = v.abs() * TABLE_PER_CELL as f64;
            let i = p.floor() as usize;
            if i + 1 >= tlen {
                return 0.0;
            }
            let f = p - i as f64;
            (table[i] * (1.0 - f) + table[i + 1] * f) as f32
        };
        let mut start = Vec::with_capacity(omega.len());
        let mut weights = Vec::with_capacity(omega.len() * 2 * width);
        let two_pi = std::f64::consts::TAU;
        for (j, om) in omega.iter().enumerate() {
            if !(om[0].is_finite() && om[1].is_finite()) {
                return Err(MriError::Param {
                    param: "omega",
                    reason: format!("frequency {j} is not finite"),
                });
            }
            let mut st = [0u32; 2];
            for a in 0..2 {
                let g = if a == 0 { grid.0 } else { grid.1 };
                let u = om[a] * g as f64 / two_pi + (g / 2) as f64;
                let q0 = (u - half).floor() as i64 + 1;
                st[a] = q0.rem_euclid(g as i64) as u32;
                for t in 0..width {
                    weights.push(kernel(u - (q0 + t as i64) as f64));
                }
            }
            start.push(st);
        }
        let scale = ((grid.0 * grid.1) as f64 / (shape.0 * shape.1) as f64).sqrt() as f32;
        Ok(Nufft2d {
            shape,
            grid,
            width,
            beta,
            deapod,
            start,
            weights,
            scale,
        })
    }

    /// Image shape `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Oversampled grid shape.
    pub fn grid(&self) -> (usize, usize) {
        self.grid
    }

    /// Kaiser–Bessel shape parameter β.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Number of non-uniform samples.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// `y = A x`.
    pub fn forward(&self, x: &Array2<Complex32>) -> Result<Vec<Complex32>> {
        if x.dim() != self.shape {
            return Err(MriError::Input(format!(
                "NUFFT planned for {:?}, got {:?}",
                self.shape,
                x.dim()
            )));
        }
        let (g0, g1) = self.grid;
        let (n0, n1) = self.shape;
        let (o0, o1) = (g0 / 2 - n0 / 2, g1 / 2 - n1 / 2);
        let mut big = Array2::<Complex32>::zeros(self.grid);
        for i in 0..n0 {
            let d0 = self.deapod[0][i];
            for j in 0..n1 {
                big[[i + o0, j + o1]] = x[[i, j]] * (d0 * self.deapod[1][j]);
            }
        }
        fft2c(&mut big);
        let gs = big.as_slice().expect("standard layout");
        let w = self.width;
        let mut y = Vec::with_capacity(self.len());
        let mut cols = vec![0usize; w];
        for (st, wt) in self.start.iter().zip(self.weights.chunks_exact(2 * w)) {
            let (w0, w1) = wt.split_at(w);
            for (t, c) in cols.iter_mut().enumerate() {
                let q = st[1] as usize + t;
                *c = if q >= g1 { q - g1 } else { q };
            }
            let mut acc = Complex32::new(0.0, 0.0);
            for (a, &wa) in w0.iter().enumerate() {
                let q = st[0] as usize + a;
                let r = if q >= g0 { q - g0 } else { q };
                let row = &gs[r * g1..(r + 1) * g1];
                let mut racc = Complex32::new(0.0, 0.0);
                for (&c, &wb) in cols.iter().zip(w1) {
                    racc += row[c] * wb;
                }
                acc += racc * wa;
            }
            y.push(acc * self.scale);
        }
        Ok(y)
    }

    /// `x = Aᴴ y`.
    pub fn adjoint(&self, y: &[Complex32]) -> Result<Array2<Complex32>> {
        if y.len() != self.len() {
            return Err(MriError::Input(format!(
                "NUFFT planned for {} samples, got {}",
                self.len(),
                y.len()
            )));
        }
        let (g0, g1) = self.grid;
        let (n0, n1) = self.shape;
        let w = self.width;
        let mut big = Array2::<Complex32>::zeros(self.grid);
        {
            let gs = big.as_slice_mut().expect("standard layout");
            let mut cols = vec![0usize; w];
            for ((st, wt), &v) in self
                .start
                .iter()
                .zip(self.weights.chunks_exact(2 * w))
                .zip(y)
            {
                let (w0, w1) = wt.split_at(w);
                for (t, c) in cols.iter_mut().enumerate() {
                    let q = st[1] as usize + t;
                    *c = if q >= g1 { q - g1 } else { q };
                }
                for (a, &wa) in w0.iter().enumerate() {
                    let q = st[0] as usize + a;
                    let r = if q >= g0 { q - g0 } else { q };
                    let row = &mut gs[r * g1..(r + 1) * g1];
                    let va = v * wa;
                    for (&c, &wb) in cols.iter().zip(w1) {
                        row[c] += va * wb;
                    }
                }
            }
        }
        ifft2c(&mut big);
        let (o0, o1) = (g0 / 2 - n0 / 2, g1 / 2 - n1 / 2);
        Ok(Array2::from_shape_fn(self.shape, |(i, j)| {
            big[[i + o0, j + o1]] * (self.deapod[0][i] * self.deapod[1][j] * self.scale)
        }))
    }
}

/// Slow exact non-uniform DFT `y = A x` in f64 (reference for tests).
pub fn ndft_forward(x: &Array2<Complex32>, omega: &[[f64; 2]]) -> Vec<(f64, f64)> {
    let (n0, n1) = x.dim();
    let (h0, h1) = ((n0 / 2) as f64, (n1 / 2) as f64);
    let norm = 1.0 / ((n0 * n1) as f64).sqrt();
    omega
        .iter()
        .map(|om| {
            let (mut re, mut im) = (0.0, 0.0);
            for ((i, j), z) in x.indexed_iter() {
                let ph = -(om[0] * (i as f64 - h0) + om[1] * (j as f64 - h1));
                let (s, c) = ph.sin_cos();
                re += z.re as f64 * c - z.im as f64 * s;
                im += z.re as f64 * s + z.im as f64 * c;
            }
            (re * norm, im * norm)
        })
        .collect()
}

/// Golden-angle increment for full-diameter spokes: π/φ (≈ 111.246°).
pub fn golden_angle() -> f64 {
    let phi = (1.0 + 5f64.sqrt()) / 2.0;
    std::f64::consts::PI / phi
}

/// Spokes needed for Nyquist sampling of the k-space disc with `n_ro` readout points.
pub fn nyquist_spokes(n_ro: usize) -> f64 {
    std::f64::consts::FRAC_PI_2 * n_ro as f64
}

/// Golden-angle radial frequencies: spoke-major, `n_spokes × n_ro` points.
pub fn golden_angle_radial(n_spokes: usize, n_ro: usize) -> Vec<[f64; 2]> {
    let ga = golden_angle();
    let pi = std::f64::consts::PI;
    let mut out = Vec::with_capacity(n_spokes * n_ro);
    for s in 0..n_spokes {
        let th = (s as f64 * ga) % pi;
        let (sn, cs) = th.sin_cos();
        for m in 0..n_ro {
            let rho = 2.0 * (m as f64 - (n_ro / 2) as f64) / n_ro as f64;
            out.push([pi * rho * cs, pi * rho * sn]);
        }
    }
    out
}

/// Analytic density compensation of [`golden_angle_radial`], in Cartesian k-space cells of an
/// image of `shape`: area per sample `|ω|·Δω·Δθ` (DC: the central disc `π(Δω/2)²` shared by all
/// spokes), times `R·C/(4π²)`.
pub fn radial_density(n_spokes: usize, n_ro: usize, shape: (usize, usize)) -> Vec<f32> {
    let pi = std::f64::consts::PI;
    let dw = 2.0 * pi / n_ro as f64;
    let dth = pi / n_spokes.max(1) as f64;
    let cells = (shape.0 * shape.1) as f64 / (4.0 * pi * pi);
    let mut out = Vec::with_capacity(n_spokes * n_ro);
    for _ in 0..n_spokes {
        for m in 0..n_ro {
            let r = (m as f64 - (n_ro / 2) as f64).abs() * dw;
            let area = if r == 0.0 {
                pi * (dw / 2.0).powi(2) / n_spokes.max(1) as f64
            } else {
                r * dw * dth
            };
            out.push((area * cells) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i0_reference_values() {
        // scipy.special.i0(1.0), i0(10.0)
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-14);
        assert!((bessel_i0(10.0) / 2_815.716_628_466_254 - 1.0).abs() < 1e-13);
    }

    #[test]
    fn grid_sizes_are_even_and_smooth() {
        assert_eq!(smooth_even(512), 512);
        assert_eq!(smooth_even(321), 324);
        assert_eq!(smooth_even(7), 8);
    }
}
