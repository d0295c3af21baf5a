//! Ramp filter design (Kak & Slaney eq. 3.61, band-limited spatial kernel, zero-padded to
//! `P = next_pow2(max(64, 2·n_det))`), the windows (Shepp–Logan, cosine, Hamming, Hann as in
//! scikit-image `iradon`), the arc-fan kernel `(γ/sinγ)²·h(γ)`, and [`FilterPlan`], a filter with
//! its FFT plans ready to apply to the rows of a sinogram.

use crate::geometry::param;
use crate::Result;
use num_complex::Complex32;
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};
use std::f64::consts::PI;
use std::sync::Arc;

/// Reconstruction filter: the ramp times a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Filter {
    /// Pure ramp (Ram-Lak).
    RamLak,
    /// Ramp × sinc (Shepp–Logan).
    #[default]
    SheppLogan,
    /// Ramp × cos(πf).
    Cosine,
    /// Ramp × Hamming window.
    Hamming,
    /// Ramp × Hann window.
    Hann,
}

impl Filter {
    /// All filters, in declaration order.
    pub const ALL: [Filter; 5] = [
        Filter::RamLak,
        Filter::SheppLogan,
        Filter::Cosine,
        Filter::Hamming,
        Filter::Hann,
    ];

    /// Lower-case name (`ramlak`, `shepp-logan`, `cosine`, `hamming`, `hann`).
    pub fn name(self) -> &'static str {
        match self {
            Filter::RamLak => "ramlak",
            Filter::SheppLogan => "shepp-logan",
            Filter::Cosine => "cosine",
            Filter::Hamming => "hamming",
            Filter::Hann => "hann",
        }
    }

    /// Parse a name (`ramlak`/`ram-lak`/`ramp`, `shepp-logan`, `cosine`, `hamming`, `hann`).
    pub fn from_name(s: &str) -> Result<Filter> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "ramlak" | "ram-lak" | "ramp" => Ok(Filter::RamLak),
            "shepp-logan" | "shepplogan" => Ok(Filter::SheppLogan),
            "cosine" => Ok(Filter::Cosine),
            "hamming" => Ok(Filter::Hamming),
            "hann" | "hanning" => Ok(Filter::Hann),
            _ => Err(param(
                "filter",
                format!(
                    "unknown filter `{s}` (allowed: ramlak, shepp-logan, cosine, hamming, hann)"
                ),
            )),
        }
    }

    /// Window value at frequency `f` (cycles/sample, |f| ≤ ½).
    pub fn window(self, f: f64) -> f64 {
        match self {
            Filter::RamLak => 1.0,
            Filter::SheppLogan => {
                if f == 0.0 {
                    1.0
                } else {
                    (PI * f).sin() / (PI * f)
                }
            }
            Filter::Cosine => (PI * f).cos(),
            Filter::Hamming => 0.54 + 0.46 * (2.0 * PI * f).cos(),
            Filter::Hann => 0.5 + 0.5 * (2.0 * PI * f).cos(),
        }
    }
}

/// Padded FFT length for `n_det` bins: the next power of two ≥ max(64, 2·n_det).
pub fn padded_len(n_det: usize) -> usize {
    (2 * n_det).max(64).next_power_of_two()
}

/// Frequency response (length `P`, FFT order) of the windowed ramp for sample spacing `tau`,
/// including the `τ` factor of the discrete convolution. For `arc_alpha = Some(α)` the spatial
/// kernel is multiplied by `(nα / sin nα)²` (equiangular fan beam).
pub fn filter_response(n_det: usize, tau: f64, filter: Filter, arc_alpha: Option<f64>) -> Vec<f64> {
    let p = padded_len(n_det);
    let mut planner = FftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(p);
    let inv = planner.plan_fft_inverse(p);
    // spatial ramp kernel in circular order
    let mut h: Vec<num_complex::Complex64> = (0..p)
        .map(|m| {
            let n = if m <= p / 2 {
                m as i64
            } else {
                m as i64 - p as i64
            };
            let v = if n == 0 {
                1.0 / (4.0 * tau * tau)
            } else if n % 2 == 0 {
                0.0
            } else {
                -1.0 / ((n * n) as f64 * PI * PI * tau * tau)
            };
            num_complex::Complex64::new(v * tau, 0.0)
        })
        .collect();
    fwd.process(&mut h);
    for (m, z) in h.iter_mut().enumerate() {
        let f = if m <= p / 2 {
            m as f64
        } else {
            m as f64 - p as f64
        } / p as f64;
        *z = num_complex::Complex64::new(z.re * filter.window(f), 0.0);
    }
    if let Some(alpha) = arc_alpha {
        inv.process(&mut h);
        for (m, z) in h.iter_mut().enumerate() {
            let n = if m <= p / 2 {
                m as i64
            } else {
                m as i64 - p as i64
            };
            let g = n as f64 * alpha;
            let s = if n == 0 || g.sin().abs() < 1e-9 {
                1.0
            } else {
                (g / g.sin()).powi(2)
            };
            *z = num_complex::Complex64::new(z.re / p as f64 * s, 0.0);
        }
        fwd.process(&mut h);
    }
    h.iter().map(|z| z.re).collect()
}

/// A ramp filter planned once for a detector (`n_det`, sample spacing `τ`, window, arc `α`):
/// the f32 frequency response (including the `1/P` of the inverse FFT) and the forward and
/// inverse FFT plans of length `P` ([`padded_len`]). Plan once, filter many sinograms of that
/// detector with [`FilterPlan::apply`].
pub struct FilterPlan {
    resp32: Vec<f32>,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
}

impl std::fmt::Debug for FilterPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterPlan")
            .field("padded_len", &self.resp32.len())
            .finish_non_exhaustive()
    }
}

impl FilterPlan {
    /// The filter for `(n_det, τ, window, arc α)` (see [`filter_response`]).
    pub fn new(n_det: usize, tau: f64, filter: Filter, arc_alpha: Option<f64>) -> FilterPlan {
        let resp = filter_response(n_det, tau, filter, arc_alpha);
        let p = resp.len();
        let mut planner = FftPlanner::<f32>::new();
        FilterPlan {
            resp32: resp.iter().map(|&r| (r / p as f64) as f32).collect(),
            fwd: planner.plan_fft_forward(p),
            inv: planner.plan_fft_inverse(p),
        }
    }

    /// Padded FFT length `P`.
    pub fn padded_len(&self) -> usize {
        self.resp32.len()
    }

    /// Filter every row (length `n`) of `data` in place: two rows per complex FFT, in
    /// parallel over row pairs (each task owns its FFT buffer and scratch).
    pub fn apply(&self, data: &mut [f32], n: usize) {
        filter_rows(data, n, self)
    }
}

/// Filter every row of `data` (length `n`) in place with `plan`: two rows per complex FFT.
fn filter_rows(data: &mut [f32], n: usize, plan: &FilterPlan) {
    let p = plan.resp32.len();
    let (fwd, inv, resp32) = (&plan.fwd, &plan.inv, &plan.resp32);
    data.par_chunks_mut(2 * n).for_each_init(
        || {
            (
                vec![Complex32::new(0.0, 0.0); p],
                vec![
                    Complex32::new(0.0, 0.0);
                    fwd.get_inplace_scratch_len()
                        .max(inv.get_inplace_scratch_len())
                ],
            )
        },
        |(buf, scratch), pair| {
            let (a, b) = pair.split_at_mut(n.min(pair.len()));
            for z in buf.iter_mut() {
                *z = Complex32::new(0.0, 0.0);
            }
            for (z, &x) in buf.iter_mut().zip(a.iter()) {
                z.re = x;
            }
            for (z, &x) in buf.iter_mut().zip(b.iter()) {
                z.im = x;
            }
            fwd.process_with_scratch(buf, scratch);
            for (z, &r) in buf.iter_mut().zip(resp32.iter()) {
                *z *= r;
            }
            inv.process_with_scratch(buf, scratch);
            for (x, z) in a.iter_mut().zip(buf.iter()) {
                *x = z.re;
            }
            for (x, z) in b.iter_mut().zip(buf.iter()) {
                *x = z.im;
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_response_dc_and_nyquist() {
        // DC of the band-limited ramp is small but non-zero (Kak & Slaney), Nyquist ≈ 1/(2τ)·τ
        let r = filter_response(128, 1.0, Filter::RamLak, None);
        let p = r.len();
        assert!(r[0] > 0.0 && r[0] < 0.01, "{}", r[0]);
        assert!((r[p / 2] - 0.5).abs() < 0.01, "{}", r[p / 2]);
    }
}
