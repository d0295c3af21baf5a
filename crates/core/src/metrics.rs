//! Full-reference image-quality metrics against the clean image.
//!
//! - [`psnr`]: `10·log10(R² / MSE)` with an explicit data range `R` (never guessed).
//! - [`nrmse`]: `‖ref − test‖₂ / ‖ref‖₂`, scikit-image's `normalized_root_mse` default
//!   (`normalization="euclidean"`).
//! - [`ssim`]: mean SSIM of Wang et al. (2004), computed exactly as scikit-image's
//!   `structural_similarity(im1, im2, data_range=R, gaussian_weights=True, sigma=1.5,
//!   use_sample_covariance=False)`: Gaussian window σ = 1.5 truncated at 3.5σ (radius 5, 11 taps)
//!   applied separably with scipy's `mode="reflect"` boundary (`d c b a | a b c d`),
//!   K1 = 0.01, K2 = 0.03, and the mean taken over the map with a 5-pixel border cropped.
//!
//! All accumulation is in f64.

use crate::{CoreError, Result};
use ndarray::{Array2, ArrayView2, Zip};

fn check_pair(a: &ArrayView2<f32>, b: &ArrayView2<f32>) -> Result<()> {
    if a.dim() != b.dim() {
        return Err(CoreError::Shape(format!(
            "metric inputs differ in shape: {:?} vs {:?}",
            a.dim(),
            b.dim()
        )));
    }
    if a.is_empty() {
        return Err(CoreError::Shape("metric inputs are empty".into()));
    }
    Ok(())
}

/// Mean squared error.
pub fn mse(reference: ArrayView2<f32>, test: ArrayView2<f32>) -> Result<f64> {
    check_pair(&reference, &test)?;
    let mut acc = 0.0f64;
    Zip::from(&reference).and(&test).for_each(|&a, &b| {
        let d = a as f64 - b as f64;
        acc += d * d;
    });
    Ok(acc / reference.len() as f64)
}

/// Peak signal-to-noise ratio in dB for the given data range (`+inf` for identical images).
pub fn psnr(reference: ArrayView2<f32>, test: ArrayView2<f32>, data_range: f64) -> Result<f64> {
    if !(data_range.is_finite() && data_range > 0.0) {
        return Err(CoreError::Invalid(format!(
            "PSNR data range must be positive and finite, got {data_range}"
        )));
    }
    let m = mse(reference, test)?;
    Ok(if m == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (data_range * data_range / m).log10()
    })
}

/// Normalised RMSE `‖ref − test‖ / ‖ref‖` (scikit-image's euclidean normalisation).
pub fn nrmse(reference: ArrayView2<f32>, test: ArrayView2<f32>) -> Result<f64> {
    let m = mse(reference, test)?;
    let denom = reference.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / reference.len() as f64;
    if denom == 0.0 {
        return Err(CoreError::Invalid(
            "NRMSE undefined for an all-zero reference image".into(),
        ));
    }
    Ok((m / denom).sqrt())
}

const SSIM_SIGMA: f64 = 1.5;
const SSIM_TRUNCATE: f64 = 3.5;

fn gaussian_taps() -> Vec<f64> {
    // scipy.ndimage.gaussian_filter1d: radius = int(truncate * sigma + 0.5)
    let radius = (SSIM_TRUNCATE * SSIM_SIGMA + 0.5) as i64;
    let w: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 * (x * x) as f64 / (SSIM_SIGMA * SSIM_SIGMA)).exp())
        .collect();
    let s: f64 = w.iter().sum();
    w.into_iter().map(|v| v / s).collect()
}

/// scipy "reflect" (half-sample symmetric) index folding, valid for any offset.
fn reflect(i: i64, n: i64) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * n;
    let mut m = i.rem_euclid(period);
    if m >= n {
        m = period - 1 - m;
    }
    m as usize
}

/// Separable correlation with `taps` along both axes, reflect boundary. The row pass reads
/// each row once into a reflect-padded buffer and sums the taps in order (the same sums as
/// [`filter2_reference`], bit for bit, tested).
fn filter2(x: &Array2<f64>, taps: &[f64]) -> Array2<f64> {
    let (r, c) = x.dim();
    let rad = taps.len() / 2;
    let mut tmp = Array2::<f64>::zeros((r, c));
    let mut padded = vec![0.0f64; c + 2 * rad];
    for (src, mut dst) in x.outer_iter().zip(tmp.outer_iter_mut()) {
        for (m, p) in padded.iter_mut().enumerate() {
            *p = src[reflect(m as i64 - rad as i64, c as i64)];
        }
        for (d, win) in dst.iter_mut().zip(padded.windows(taps.len())) {
            let mut acc = 0.0;
            for (w, v) in taps.iter().zip(win) {
                acc += w * v;
            }
            *d = acc;
        }
    }
    filter2_columns(&tmp, taps)
}

/// The column pass of [`filter2`].
fn filter2_columns(tmp: &Array2<f64>, taps: &[f64]) -> Array2<f64> {
    let (r, c) = tmp.dim();
    let rad = (taps.len() / 2) as i64;
    let mut out = Array2::<f64>::zeros((r, c));
    for i in 0..r {
        for (t, w) in taps.iter().enumerate() {
            let src = reflect(i as i64 + t as i64 - rad, r as i64);
            let row = tmp.row(src);
            let mut dst = out.row_mut(i);
            dst.zip_mut_with(&row, |d, s| *d += w * s);
        }
    }
    out
}

/// Slow reference for [`filter2`] (per-tap reflect indexing).
#[cfg(test)]
fn filter2_reference(x: &Array2<f64>, taps: &[f64]) -> Array2<f64> {
    let (r, c) = x.dim();
    let rad = (taps.len() / 2) as i64;
    let mut tmp = Array2::<f64>::zeros((r, c));
    for i in 0..r {
        for j in 0..c {
            let mut acc = 0.0;
            for (t, w) in taps.iter().enumerate() {
                acc += w * x[[i, reflect(j as i64 + t as i64 - rad, c as i64)]];
            }
            tmp[[i, j]] = acc;
        }
    }
    filter2_columns(&tmp, taps)
}

/// Mean SSIM, matching scikit-image (see module docs). Needs both sides ≥ 11 pixels.
pub fn ssim(reference: ArrayView2<f32>, test: ArrayView2<f32>, data_range: f64) -> Result<f64> {
    check_pair(&reference, &test)?;
    if !(data_range.is_finite() && data_range > 0.0) {
        return Err(CoreError::Invalid(format!(
            "SSIM data range must be positive and finite, got {data_range}"
        )));
    }
    let taps = gaussian_taps();
    let win = taps.len();
    let (r, c) = reference.dim();
    if r < win || c < win {
        return Err(CoreError::Shape(format!(
            "SSIM needs images of at least {win}×{win} pixels, got {r}×{c}"
        )));
    }
    let x = reference.mapv(|v| v as f64);
    let y = test.mapv(|v| v as f64);
    let ux = filter2(&x, &taps);
    let uy = filter2(&y, &taps);
    let uxx = filter2(&(&x * &x), &taps);
    let uyy = filter2(&(&y * &y), &taps);
    let uxy = filter2(&(&x * &y), &taps);
    let c1 = (0.01 * data_range).powi(2);
    let c2 = (0.03 * data_range).powi(2);
    let pad = (win - 1) / 2;
    let mut acc = 0.0f64;
    let mut count = 0usize;
    for i in pad..r - pad {
        for j in pad..c - pad {
            let (mx, my) = (ux[[i, j]], uy[[i, j]]);
            let vx = uxx[[i, j]] - mx * mx;
            let vy = uyy[[i, j]] - my * my;
            let vxy = uxy[[i, j]] - mx * my;
            let s = ((2.0 * mx * my + c1) * (2.0 * vxy + c2))
                / ((mx * mx + my * my + c1) * (vx + vy + c2));
            acc += s;
            count += 1;
        }
    }
    Ok(acc / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn filter2_equals_reference_bitwise() {
        let taps = gaussian_taps();
        // sizes below, at and above the window (reflections of several periods)
        for (r, c) in [(1, 1), (3, 5), (11, 11), (37, 29), (64, 70)] {
            let x = Array2::from_shape_fn((r, c), |(i, j)| {
                ((i * 7919 + j * 104_729) % 1000) as f64 * 0.37 - 150.0
            });
            let fast = filter2(&x, &taps);
            let slow = filter2_reference(&x, &taps);
            for (a, b) in fast.iter().zip(slow.iter()) {
                assert_eq!(a.to_bits(), b.to_bits(), "{r}×{c}");
            }
        }
    }

    #[test]
    fn reflect_matches_scipy_mode() {
        // n = 4: ... 1 0 | 0 1 2 3 | 3 2 ...
        let idx: Vec<usize> = (-3..7).map(|i| reflect(i, 4)).collect();
        assert_eq!(idx, vec![2, 1, 0, 0, 1, 2, 3, 3, 2, 1]);
    }

    #[test]
    fn identical_images() {
        let a = Array2::from_shape_fn((20, 20), |(i, j)| (i * j) as f32);
        assert_eq!(psnr(a.view(), a.view(), 400.0).unwrap(), f64::INFINITY);
        assert!((ssim(a.view(), a.view(), 400.0).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(nrmse(a.view(), a.view()).unwrap(), 0.0);
    }

    #[test]
    fn psnr_and_nrmse_analytic() {
        let a = Array2::from_elem((10, 10), 2.0f32);
        let b = Array2::from_elem((10, 10), 3.0f32);
        // MSE = 1, R = 10 → 20 dB; NRMSE = 1/2
        assert!((psnr(a.view(), b.view(), 10.0).unwrap() - 20.0).abs() < 1e-12);
        assert!((nrmse(a.view(), b.view()).unwrap() - 0.5).abs() < 1e-12);
        assert!(psnr(a.view(), b.view(), 0.0).is_err());
        assert!(nrmse(Array2::zeros((3, 3)).view(), b.slice(ndarray::s![..3, ..3])).is_err());
    }

    /// Reference values from scikit-image 0.25 / numpy on the same inputs:
    /// ```python
    /// import numpy as np
    /// from skimage.metrics import structural_similarity as ssim, peak_signal_noise_ratio as psnr, normalized_root_mse as nrmse
    /// i, j = np.meshgrid(np.arange(48), np.arange(64), indexing="ij")
    /// x = (128 + 100*np.sin(i/7.0)*np.cos(j/5.0)).astype(np.float32).astype(np.float64)
    /// y = (x + 20*np.sin(i*j*0.37) + 0.1*i).astype(np.float32).astype(np.float64)
    /// z = (0.5*x + 30).astype(np.float32).astype(np.float64)
    /// for b in (y, z):
    ///     print(ssim(x, b, data_range=255.0, gaussian_weights=True, sigma=1.5,
    ///                use_sample_covariance=False), psnr(x, b, data_range=255.0), nrmse(x, b))
    /// ```
    #[test]
    fn agrees_with_scikit_image() {
        let x = Array2::from_shape_fn((48, 64), |(i, j)| {
            (128.0 + 100.0 * (i as f64 / 7.0).sin() * (j as f64 / 5.0).cos()) as f32
        });
        let y = Array2::from_shape_fn((48, 64), |(i, j)| {
            (x[[i, j]] as f64 + 20.0 * ((i * j) as f64 * 0.37).sin() + 0.1 * i as f64) as f32
        });
        let z = x.mapv(|v| (0.5 * v as f64 + 30.0) as f32);
        let cases = [
            (
                &y,
                0.7617552176448981,
                25.18294440468164,
                0.10252881444839572,
            ),
            (&z, 0.793100602155061, 15.7065460168666, 0.3052571569156589),
        ];
        for (b, s_ref, p_ref, n_ref) in cases {
            let s = ssim(x.view(), b.view(), 255.0).unwrap();
            assert!((s - s_ref).abs() < 1e-6, "ssim {s} vs skimage {s_ref}");
            let p = psnr(x.view(), b.view(), 255.0).unwrap();
            assert!((p - p_ref).abs() < 1e-4, "psnr {p} vs skimage {p_ref}");
            let n = nrmse(x.view(), b.view()).unwrap();
            assert!((n - n_ref).abs() < 1e-6, "nrmse {n} vs skimage {n_ref}");
        }
    }

    #[test]
    fn errors_on_shape() {
        let a = Array2::<f32>::zeros((12, 12));
        let b = Array2::<f32>::zeros((12, 13));
        assert!(ssim(a.view(), b.view(), 1.0).is_err());
        let small = Array2::<f32>::zeros((10, 30));
        assert!(ssim(small.view(), small.view(), 1.0).is_err());
    }
}
