//! mri.noise: Rayleigh background, Rician moments, achieved SNR, noncentral-χ with coils.

mod sampling_common;

use artefact_core::{Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::coils::{rss_noise_mean, rss_noise_variance};
use artefact_mri::noise::{foreground_signal, Noise, NoiseParams};
use ndarray::Array2;
use sampling_common::*;
use std::f64::consts::PI;

fn p(snr: f64, seed: u64, coils: usize) -> NoiseParams {
    NoiseParams { snr, seed, coils }
}

/// Background pixels of `disc_phantom(rows, cols, 0.5, ·)` (outside 0.3 of the short side).
fn background(out: &Array2<f32>) -> Vec<f64> {
    let (r, c) = out.dim();
    let lim = 0.3 * r.min(c) as f64;
    out.indexed_iter()
        .filter(|((i, j), _)| {
            let (y, x) = (*i as f64 - r as f64 / 2.0, *j as f64 - c as f64 / 2.0);
            (x * x + y * y).sqrt() > lim
        })
        .map(|(_, &v)| v as f64)
        .collect()
}

#[test]
fn background_is_rayleigh() {
    let im = disc_phantom(256, 256, 0.5, 200.0);
    let params = p(10.0, 1, 1);
    let sigma = Noise::sigma(&params, &im).unwrap();
    let out = Noise::apply(&params, &im).unwrap();
    let bg = background(&out.data);
    assert!(bg.len() > 30_000);
    let (m, v) = mean_var(&bg);
    let m_ref = sigma * (PI / 2.0).sqrt();
    let v_ref = (2.0 - PI / 2.0) * sigma * sigma;
    assert!((m / m_ref - 1.0).abs() < 0.015, "mean {m} vs {m_ref}");
    assert!((v / v_ref - 1.0).abs() < 0.04, "variance {v} vs {v_ref}");
}

fn bessel_i(order: u32, x: f64) -> f64 {
    // power series Σ (x/2)^(2k+ν) / (k! (k+ν)!)
    let mut term = (x / 2.0).powi(order as i32) / (1..=order).map(|k| k as f64).product::<f64>();
    let mut sum = term;
    for k in 1..300 {
        term *= (x / 2.0).powi(2) / (k as f64 * (k + order) as f64);
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

/// Rice mean σ√(π/2)·L_{1/2}(−A²/2σ²), L_{1/2}(t) = e^{t/2}[(1−t)I0(−t/2) − t·I1(−t/2)].
fn rice_mean(a: f64, sigma: f64) -> f64 {
    let t = -a * a / (2.0 * sigma * sigma);
    let l = (t / 2.0).exp() * ((1.0 - t) * bessel_i(0, -t / 2.0) - t * bessel_i(1, -t / 2.0));
    sigma * (PI / 2.0).sqrt() * l
}

#[test]
fn constant_region_follows_rice_moments() {
    // a constant slice: S = A, σ = A/SNR; every pixel is Rice(A, σ)
    let a = 50.0f64;
    for &snr in &[1.0, 2.0, 4.0] {
        let im = Image::new(
            Array2::from_elem((192, 192), a as f32),
            [1.0, 1.0],
            Modality::Mr,
            Unit::Arbitrary,
        )
        .unwrap();
        let out = Noise::apply(&p(snr, 42, 1), &im).unwrap();
        let v: Vec<f64> = out.data.iter().map(|&x| x as f64).collect();
        let (m, var) = mean_var(&v);
        let sigma = a / snr;
        let m_ref = rice_mean(a, sigma);
        let var_ref = a * a + 2.0 * sigma * sigma - m_ref * m_ref;
        assert!(
            (m / m_ref - 1.0).abs() < 0.01,
            "SNR {snr}: mean {m} vs Rice {m_ref}"
        );
        assert!(
            (var / var_ref - 1.0).abs() < 0.04,
            "SNR {snr}: var {var} vs {var_ref}"
        );
        // the Rician bias is real: the mean exceeds A noticeably at SNR 1
        if snr == 1.0 {
            assert!(m > 1.2 * a);
        }
    }
    // limit check of the reference itself: A = 0 is Rayleigh
    assert!((rice_mean(0.0, 1.0) - (PI / 2.0).sqrt()).abs() < 1e-12);
}

#[test]
fn achieved_snr_within_5_percent() {
    let im = disc_phantom(256, 256, 0.5, 300.0);
    let t = im.otsu_threshold().unwrap();
    for (k, &snr) in [8.0, 20.0, 50.0, 120.0].iter().enumerate() {
        let out = Noise::apply(&p(snr, 10 + k as u64, 1), &im).unwrap();
        let sigma_hat = {
            let bg = background(&out.data);
            mean_var(&bg).0 / (PI / 2.0).sqrt()
        };
        let fg: Vec<f64> = im
            .data
            .iter()
            .zip(out.data.iter())
            .filter(|(c, _)| **c > t)
            .map(|(_, &n)| n as f64)
            .collect();
        let s = mean_var(&fg).0;
        let achieved = s / sigma_hat;
        assert!(
            (achieved / snr - 1.0).abs() < 0.05,
            "SNR {snr}: achieved {achieved}"
        );
    }
    // S is the Otsu-foreground mean of the clean image
    let s = foreground_signal(&im).unwrap();
    assert!(s > 300.0 && s < 480.0, "{s}");
}

#[test]
fn multicoil_background_is_noncentral_chi() {
    let im = disc_phantom(192, 192, 0.5, 200.0);
    for &n in &[4usize, 8] {
        let params = p(10.0, 3, n);
        let sigma = Noise::sigma(&params, &im).unwrap();
        let out = Noise::apply(&params, &im).unwrap();
        let bg = background(&out.data);
        let (m, v) = mean_var(&bg);
        let (m_ref, v_ref) = (rss_noise_mean(sigma, n), rss_noise_variance(sigma, n));
        assert!(
            (m / m_ref - 1.0).abs() < 0.015,
            "N={n}: mean {m} vs {m_ref}"
        );
        assert!((v / v_ref - 1.0).abs() < 0.05, "N={n}: var {v} vs {v_ref}");
        // and clearly not Rayleigh any more
        assert!(m > 1.5 * sigma * (PI / 2.0).sqrt());
    }
}

#[test]
fn negligible_noise_is_identity_and_seeds_replay() {
    let im = disc_phantom(64, 80, 0.7, 100.0);
    let out = Noise::apply(&p(1e6, 1, 1), &im).unwrap();
    assert!(max_abs_diff(&out.data, &im.data) < 1e-3);
    let a = Noise::apply(&p(10.0, 5, 2), &im).unwrap();
    let b = Noise::apply(&p(10.0, 5, 2), &im).unwrap();
    let c = Noise::apply(&p(10.0, 6, 2), &im).unwrap();
    assert_eq!(a.data, b.data);
    assert_ne!(a.data, c.data);
}

#[test]
fn sampling_and_errors() {
    let spec = ParamSpec::new()
        .with("snr", SpecValue::Range([5.0, 10.0]))
        .with("coils", SpecValue::Number(4.0));
    let mut rng = Seed::derive(1, "noise").rng();
    let q = Noise::sample(&spec, &mut rng).unwrap();
    assert!((5.0..=10.0).contains(&q.snr) && q.coils == 4);
    let json = serde_json::to_string(&q).unwrap();
    assert_eq!(serde_json::from_str::<NoiseParams>(&json).unwrap(), q);
    let im = disc_phantom(32, 32, 0.5, 1.0);
    for bad in [
        p(0.0, 1, 1),
        p(-3.0, 1, 1),
        p(f64::NAN, 1, 1),
        p(10.0, 1, 0),
        p(10.0, 1, 99),
    ] {
        assert!(Noise::apply(&bad, &im).is_err(), "{bad:?}");
    }
    let zero = im.with_data(Array2::zeros((32, 32))).unwrap();
    assert!(Noise::apply(&p(10.0, 1, 1), &zero).is_err());
    let spec = ParamSpec::new().with("snr", SpecValue::Number(0.1));
    assert!(Noise::sample(&spec, &mut rng).is_err());
}
