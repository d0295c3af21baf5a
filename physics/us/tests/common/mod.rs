//! Shared helpers of the physics tests.
#![allow(dead_code)]

use artefact_core::{Image, Modality, Unit};
use ndarray::{s, Array2};

/// A uniform echogenicity map.
pub fn uniform(rows: usize, cols: usize, e: f32) -> Image {
    Image::new(
        Array2::from_elem((rows, cols), e),
        [1.0, 1.0],
        Modality::Us,
        Unit::Echogenicity,
    )
    .unwrap()
}

/// Mean and standard deviation.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

/// Interior of a beam-grid array (drop `fr` fraction of rows at top and bottom, `fc` of
/// columns at each side).
pub fn interior(a: &Array2<f32>, fr: f64, fc: f64) -> Vec<f64> {
    let (r, c) = a.dim();
    let (r0, r1) = ((r as f64 * fr) as usize, r - (r as f64 * fr) as usize);
    let (c0, c1) = ((c as f64 * fc) as usize, c - (c as f64 * fc) as usize);
    a.slice(s![r0..r1, c0..c1])
        .iter()
        .map(|&v| v as f64)
        .collect()
}

/// Full width at half maximum (in samples) of the normalised autocovariance of `a` along
/// `axis`, averaged over all lines, with linear interpolation of the half crossing.
pub fn autocorr_fwhm(a: &Array2<f32>, axis: usize) -> f64 {
    let lines: Vec<Vec<f64>> = if axis == 0 {
        a.columns()
            .into_iter()
            .map(|l| l.iter().map(|&v| v as f64).collect())
            .collect()
    } else {
        a.rows()
            .into_iter()
            .map(|l| l.iter().map(|&v| v as f64).collect())
            .collect()
    };
    let n = lines[0].len();
    let maxlag = (n / 4).max(4);
    let mut acc = vec![0.0; maxlag];
    for l in &lines {
        let m = l.iter().sum::<f64>() / n as f64;
        let d: Vec<f64> = l.iter().map(|v| v - m).collect();
        for (lag, a) in acc.iter_mut().enumerate() {
            *a += (0..n - lag).map(|i| d[i] * d[i + lag]).sum::<f64>() / (n - lag) as f64;
        }
    }
    let c0 = acc[0];
    for lag in 1..maxlag {
        let (p, q) = (acc[lag - 1] / c0, acc[lag] / c0);
        if q <= 0.5 {
            let f = (p - 0.5) / (p - q);
            return 2.0 * ((lag - 1) as f64 + f);
        }
    }
    f64::NAN
}

/// Kolmogorov–Smirnov statistic of samples against the Rayleigh CDF with
/// `σ² = E[x²]/2` estimated from the samples.
pub fn ks_rayleigh(v: &[f64]) -> f64 {
    let mut x = v.to_vec();
    x.sort_by(|a, b| a.total_cmp(b));
    let s2 = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64 / 2.0;
    let n = x.len() as f64;
    let mut d = 0.0f64;
    for (i, &xi) in x.iter().enumerate() {
        let f = 1.0 - (-xi * xi / (2.0 * s2)).exp();
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
    }
    d
}
