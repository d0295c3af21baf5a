//! Photon statistics of a CT detector bin (photon-counting model), shared by
//! `ct.low_dose`, `ct.ring` and `ct.metal`.
//!
//! # Model
//! A bin whose line integral is `p` (dimensionless, `∫μ dl`) receives on average
//! `λ = I0·e^(−p) + s` photons, with `I0` the unattenuated (air-scan) count per bin and view and
//! `s` a scatter floor in photons. The recorded signal is
//! `N = Poisson(λ) + N(0, σe²)`, where σe is the electronic (readout) noise in photon units.
//! The log transform with the air scan `I0` gives `p' = −ln(max(N, ε)/I0)`, with the floor
//! `ε =` [`LOG_FLOOR_PHOTONS`] guarding the logarithm against zero or negative readings
//! (photon starvation: such bins saturate at `ln(I0/ε)`, which is what produces the dark/bright
//! streaks of real starved projections). Everything stays in photons and in physical line
//! integrals; nothing is normalised by `max(p)` (the TIGRE pitfall named in DESIGN.md §4).
//!
//! Scatter is *not* subtracted before the log (an uncorrected scatter floor): it biases `p'`
//! low behind dense paths (cupping, dark streaks between metal), as in the Zhang & Yu protocol.
//!
//! # Sampling
//! Poisson variates come from `rand_distr::Poisson` (Knuth's multiplication method below
//! λ = 12, exact; the PTRS-style transformed rejection above, exact and O(1)), Gaussian readout
//! noise from `rand_distr::Normal`. Each view has its own ChaCha8 stream
//! `seed.child("view-<v>")`, so the result is a pure function of the seed, identical for any
//! thread count (views are processed in parallel with rayon).

use crate::{CtError, Result};
use artefact_core::{SampleRng, Seed};
use ndarray::Array2;
use rand_distr::{Distribution, Normal, Poisson};
use rayon::prelude::*;

/// Floor ε (photons) of the log transform `p' = −ln(max(N, ε)/I0)`.
pub const LOG_FLOOR_PHOTONS: f64 = 1.0;

/// Photon-statistics settings of one scan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhotonModel {
    /// Unattenuated photons per detector bin and view (air scan).
    pub i0: f64,
    /// Scatter floor added to the expected count (photons per bin), not corrected.
    pub scatter: f64,
    /// Electronic noise standard deviation (photons).
    pub sigma_e: f64,
}

impl PhotonModel {
    /// Check that the numbers are physical.
    pub fn validate(&self) -> Result<()> {
        if !(self.i0.is_finite() && self.i0 >= 1.0 && self.i0 < 1e15) {
            return Err(CtError::Param {
                param: "i0",
                reason: format!(
                    "{} photons per bin is not a valid air-scan count (1 … 1e15)",
                    self.i0
                ),
            });
        }
        if !(self.scatter.is_finite() && self.scatter >= 0.0) {
            return Err(CtError::Param {
                param: "scatter",
                reason: format!("scatter {} photons must be finite and ≥ 0", self.scatter),
            });
        }
        if !(self.sigma_e.is_finite() && self.sigma_e >= 0.0) {
            return Err(CtError::Param {
                param: "electronic_noise",
                reason: format!("σe {} photons must be finite and ≥ 0", self.sigma_e),
            });
        }
        Ok(())
    }
}

/// One noisy reading of a bin with mean `lambda` photons plus Gaussian readout noise.
pub fn sample_count(lambda: f64, sigma_e: f64, rng: &mut SampleRng) -> f64 {
    let q = if lambda > 0.0 && lambda.is_finite() {
        match Poisson::new(lambda) {
            Ok(d) => d.sample(rng),
            Err(_) => lambda, // λ > 1.8e19: far beyond any detector; the mean is exact enough
        }
    } else {
        0.0
    };
    if sigma_e > 0.0 {
        // σe > 0 and finite (validated): Normal::new cannot fail
        let n = Normal::new(0.0, sigma_e).expect("finite σe");
        q + n.sample(rng)
    } else {
        q
    }
}

/// Log transform of a reading with the air scan `i0` and the floor [`LOG_FLOOR_PHOTONS`].
#[inline]
pub fn log_transform(count: f64, i0: f64) -> f64 {
    -(count.max(LOG_FLOOR_PHOTONS) / i0).ln()
}

/// Replace each noise-free line integral `p` of `sino` (views × bins) by the noisy
/// `p' = −ln(max(Poisson(I0·e^(−p) + s) + N(0, σe²), ε)/I0)`.
pub fn add_photon_noise(sino: &mut Array2<f32>, model: &PhotonModel, seed: &Seed) -> Result<()> {
    model.validate()?;
    let m = *model;
    noisy_log_per_bin(sino, model.i0, model.sigma_e, seed, move |p| {
        m.i0 * (-p).exp() + m.scatter
    })
}

/// General form: each bin's expected count is `expected(p)` (photons) given the bin's current
/// value `p`; the bin is replaced by the log-transformed noisy reading relative to `i0`.
pub fn noisy_log_per_bin(
    sino: &mut Array2<f32>,
    i0: f64,
    sigma_e: f64,
    seed: &Seed,
    expected: impl Fn(f64) -> f64 + Sync,
) -> Result<()> {
    if !sino.iter().all(|v| v.is_finite()) {
        return Err(CtError::Input(
            "sinogram holds non-finite line integrals".into(),
        ));
    }
    if !sino.is_standard_layout() {
        *sino = sino.as_standard_layout().into_owned();
    }
    let nd = sino.ncols().max(1);
    sino.as_slice_mut()
        .expect("standard layout")
        .par_chunks_mut(nd)
        .enumerate()
        .for_each(|(v, row)| {
            let mut rng = seed.child(&format!("view-{v}")).rng();
            for x in row.iter_mut() {
                let lam = expected(*x as f64);
                let n = sample_count(lam, sigma_e, &mut rng);
                *x = log_transform(n, i0) as f32;
            }
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_means_follow_the_exact_poisson_law() {
        // P(N = 0) = e^(−λ), P(N = 1) = λe^(−λ): exact probabilities, binomial tolerances (5σ)
        let mut rng = Seed::from_u64(7).rng();
        for &lam in &[0.3f64, 2.0, 8.0] {
            let n = 200_000;
            let (mut z, mut one, mut sum, mut sum2) = (0usize, 0usize, 0.0, 0.0);
            for _ in 0..n {
                let k = sample_count(lam, 0.0, &mut rng);
                assert_eq!(k.fract(), 0.0);
                if k == 0.0 {
                    z += 1;
                }
                if k == 1.0 {
                    one += 1;
                }
                sum += k;
                sum2 += k * k;
            }
            for (count, p) in [(z, (-lam).exp()), (one, lam * (-lam).exp())] {
                let sd = (p * (1.0 - p) / n as f64).sqrt();
                let f = count as f64 / n as f64;
                assert!((f - p).abs() < 5.0 * sd, "λ={lam}: {f} vs {p}");
            }
            let mean = sum / n as f64;
            let var = sum2 / n as f64 - mean * mean;
            assert!((mean - lam).abs() < 5.0 * (lam / n as f64).sqrt());
            assert!((var / lam - 1.0).abs() < 0.03, "λ={lam}: var {var}");
        }
    }

    #[test]
    fn large_means_have_poisson_moments() {
        let mut rng = Seed::from_u64(8).rng();
        let lam = 1.0e5;
        let n = 50_000;
        let xs: Vec<f64> = (0..n).map(|_| sample_count(lam, 0.0, &mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!((mean - lam).abs() < 5.0 * (lam / n as f64).sqrt(), "{mean}");
        assert!((var / lam - 1.0).abs() < 0.04, "{var}");
        // electronic noise adds its variance
        let xs: Vec<f64> = (0..n)
            .map(|_| sample_count(100.0, 10.0, &mut rng))
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!((var / 200.0 - 1.0).abs() < 0.04, "{var}");
    }

    #[test]
    fn deterministic_for_a_seed_and_independent_of_threads() {
        let base = Array2::from_shape_fn((16, 64), |(v, j)| 0.05 * (v + j) as f32);
        let m = PhotonModel {
            i0: 1e4,
            scatter: 0.0,
            sigma_e: 2.0,
        };
        let seed = Seed::from_u64(3);
        let mut a = base.clone();
        add_photon_noise(&mut a, &m, &seed).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut b = base.clone();
        pool.install(|| add_photon_noise(&mut b, &m, &seed).unwrap());
        assert_eq!(a, b);
        let mut c = base.clone();
        add_photon_noise(&mut c, &m, &Seed::from_u64(4)).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn starvation_saturates_at_the_floor_and_bad_models_are_refused() {
        let mut s = Array2::from_elem((2, 50), 40.0f32); // e^-40 · 1e5 ≈ 0 photons
        let m = PhotonModel {
            i0: 1e5,
            scatter: 0.0,
            sigma_e: 0.0,
        };
        add_photon_noise(&mut s, &m, &Seed::from_u64(1)).unwrap();
        let cap = (1e5f64 / LOG_FLOOR_PHOTONS).ln() as f32;
        assert!(s.iter().all(|&v| (v - cap).abs() < 1e-5));
        let bad = PhotonModel { i0: 0.0, ..m };
        assert!(add_photon_noise(&mut s, &bad, &Seed::from_u64(1)).is_err());
        let mut nan = Array2::from_elem((1, 2), f32::NAN);
        assert!(add_photon_noise(&mut nan, &m, &Seed::from_u64(1)).is_err());
    }
}
