//! Sensor noise in raw: Poisson photon noise plus Gaussian read noise (Poisson–Gaussian).
//!
//! # Model
//! A linear raw value `x ∈ [0, 1]` (1 = full well) collects `λ = x · full_well` photo-electrons
//! on average. The pixel records `n ~ Poisson(λ)` electrons plus read noise
//! `ε ~ N(0, read_noise²)` (electrons), and the raw value is `y = clip((n + ε)/full_well, 0, 1)`.
//! Away from the clipping ends the moments are
//!
//! ```text
//! E[y] = x,     Var[y] = a·x + b,     a = 1/full_well,  b = (read_noise/full_well)²
//! ```
//!
//! — the variance is linear in the signal with slope the gain `a` (signal units per electron)
//! and intercept the read-noise variance `b` (Foi et al. 2008). Each channel is treated as its
//! own photosite (no colour-filter mosaic or demosaicking). Apply this in raw, i.e. before
//! white balance, tone curve and JPEG.
//!
//! # Randomness
//! The realisation is a pure function of `seed`: each image row draws from its own ChaCha8
//! stream `Seed::from_u64(seed).child("row/<r>")`, so the bytes do not depend on thread count
//! or order. Poisson draws use `rand_distr::Poisson` (λ < 1e7); a pixel with λ = 0 gets no
//! photon noise.
//!
//! # Units
//! `full_well`, `read_noise`: electrons.
//!
//! # References
//! - A. Foi, M. Trimeche, V. Katkovnik, K. Egiazarian, "Practical Poissonian-Gaussian noise
//!   modeling and fitting for single-image raw-data", IEEE TIP 17(10), 1737–1754, 2008.
//! - EMVA Standard 1288, release 4.0 (photon transfer: variance linear in mean).

use crate::error::check_range;
use crate::{PhotoError, Result};
use artefact_core::Seed;
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use rand_distr::{Distribution, Normal, Poisson};

artefact_core::params! {
    /// Parameters of [`SensorNoise`] (recorded in manifests, replayed exactly).
    pub struct SensorNoiseParams {
        /// photo-electrons at full well (raw value 1); fewer = more photon noise
        pub full_well: f64 = float(5000.0, [1.0, 1e7], "e-"),
        /// read noise, RMS
        pub read_noise: f64 = float(5.0, [0.0, 1e4], "e-"),
        /// seed of the noise realisation; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.sensor_noise` (see the module docs).
pub struct SensorNoise;

static INFO: OpInfo = OpInfo {
    name: "photo.sensor_noise",
    modality: "photo",
    doc: "Raw sensor noise: Poisson photon noise at the set full well plus Gaussian read noise, clipped at full well; variance linear in the signal. Apply before white balance, tone and JPEG.",
    params: SensorNoiseParams::PARAMS,
};

impl ColourOperator for SensorNoise {
    type Params = SensorNoiseParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SensorNoiseParams> {
        Ok(SensorNoiseParams::sample(spec, rng)?)
    }
    fn apply(p: &SensorNoiseParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

impl SensorNoiseParams {
    /// Slope `a` of the variance–mean line (signal units per electron).
    pub fn gain(&self) -> f64 {
        1.0 / self.full_well
    }

    /// Intercept `b` of the variance–mean line (read-noise variance in signal units²).
    pub fn read_variance(&self) -> f64 {
        (self.read_noise / self.full_well).powi(2)
    }
}

/// Add Poisson–Gaussian noise inside the field of view (raw values are clipped to `[0, 1]`).
pub fn apply(p: &SensorNoiseParams, img: &RgbImage) -> Result<RgbImage> {
    check_range("full_well", p.full_well, 1.0, 1e7)?;
    check_range("read_noise", p.read_noise, 0.0, 1e4)?;
    let (rows, cols) = img.shape();
    let root = Seed::from_u64(p.seed);
    let read = Normal::new(0.0, p.read_noise).map_err(|e| {
        PhotoError::param("read_noise", format!("cannot build the distribution: {e}"))
    })?;
    let mut out = img.data.clone();
    for r in 0..rows {
        let mut rng = root.child(&format!("row/{r}")).rng();
        for c in 0..cols {
            for k in 0..3 {
                // draw for every pixel (inside or not) so the stream does not depend on the mask
                let x = (img.data[[k, r, c]] as f64).clamp(0.0, 1.0);
                let lambda = x * p.full_well;
                let n = if lambda > 0.0 {
                    Poisson::new(lambda)
                        .map(|d| d.sample(&mut rng))
                        .unwrap_or(lambda)
                } else {
                    0.0
                };
                let e = read.sample(&mut rng);
                if img.in_fov(r, c) {
                    out[[k, r, c]] = ((n + e) / p.full_well).clamp(0.0, 1.0) as f32;
                }
            }
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    /// Flat patches at several levels: mean unbiased, variance on the line a·x + b with the set
    /// gain and read noise (least-squares fit within 3 % / 10 %).
    #[test]
    fn variance_is_linear_in_signal_with_set_gain_and_read_noise() {
        let levels = [0.1f32, 0.25, 0.4, 0.55, 0.7];
        let (rows, cols) = (100, 200);
        let img = RgbImage::new(
            Array3::from_shape_fn((3, rows * levels.len(), cols), |(_, r, _)| levels[r / rows]),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let p = SensorNoiseParams {
            full_well: 2000.0,
            read_noise: 20.0,
            seed: 7,
        };
        let out = apply(&p, &img).unwrap();
        let mut pts = Vec::new();
        for (i, &x) in levels.iter().enumerate() {
            let vals: Vec<f64> = out
                .data
                .slice(ndarray::s![.., i * rows..(i + 1) * rows, ..])
                .iter()
                .map(|&v| v as f64)
                .collect();
            let n = vals.len() as f64;
            let m = vals.iter().sum::<f64>() / n;
            let var = vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
            assert!((m - x as f64).abs() < 5e-4, "mean {m} at {x}");
            pts.push((m, var));
        }
        let n = pts.len() as f64;
        let (sx, sy) = (
            pts.iter().map(|p| p.0).sum::<f64>(),
            pts.iter().map(|p| p.1).sum::<f64>(),
        );
        let sxx = pts.iter().map(|p| p.0 * p.0).sum::<f64>();
        let sxy = pts.iter().map(|p| p.0 * p.1).sum::<f64>();
        let a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        let b = (sy - a * sx) / n;
        assert!(
            (a / p.gain() - 1.0).abs() < 0.03,
            "slope {a} vs {}",
            p.gain()
        );
        assert!(
            (b / p.read_variance() - 1.0).abs() < 0.10,
            "intercept {b} vs {}",
            p.read_variance()
        );
    }

    #[test]
    fn same_seed_same_bytes_and_zero_noise_limit() {
        let img = RgbImage::new(
            Array3::from_shape_fn((3, 16, 16), |(c, r, k)| (c + r + k) as f32 / 40.0),
            [1.0, 1.0],
            Modality::Fundus,
            Some(ndarray::Array2::from_shape_fn((16, 16), |(r, _)| r > 2)),
        )
        .unwrap();
        let p = SensorNoiseParams {
            full_well: 500.0,
            read_noise: 3.0,
            seed: 42,
        };
        let a = apply(&p, &img).unwrap();
        let b = apply(&p, &img).unwrap();
        let bytes = |x: &RgbImage| {
            x.data
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<_>>()
        };
        assert_eq!(bytes(&a), bytes(&b));
        let c = apply(
            &SensorNoiseParams {
                seed: 43,
                ..p.clone()
            },
            &img,
        )
        .unwrap();
        assert_ne!(bytes(&a), bytes(&c));
        // outside the field of view nothing changes
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if r <= 2 {
                assert_eq!(v, img.data[[k, r, c]]);
            }
        }
        // a huge full well and no read noise: the noise vanishes
        let quiet = apply(
            &SensorNoiseParams {
                full_well: 1e7,
                read_noise: 0.0,
                seed: 1,
            },
            &img,
        )
        .unwrap();
        for (x, y) in quiet.data.iter().zip(img.data.iter()) {
            assert!((x - y).abs() < 2e-3);
        }
        assert!(apply(
            &SensorNoiseParams {
                full_well: 0.0,
                ..p
            },
            &img
        )
        .is_err());
    }
}
