//! Shared helpers of the scene-level operators (not an operator): the field of view's
//! geometry, its mean luminance, a sampled Gaussian PSF, smoothing inside the field of view,
//! and seeded fractal value noise.
//!
//! # Units
//! Pixel coordinates `(row, col)`; the field-of-view "diameter" is that of the disc with the
//! same area as the mask (the frame's shorter side when there is no mask), the unit in which
//! the operators give sizes so that a recipe means the same thing at any resolution.

use crate::convolve::convolve_planes_f32_fft;
use crate::{PhotoError, Psf, Result};
use artefact_core::{RgbImage, Seed};
use ndarray::{Array2, ArrayView2};
use rand::Rng;

/// Centre `(row, col)`, equivalent diameter (px) and pixel count of the field of view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FovGeometry {
    pub centre: [f64; 2],
    pub diameter: f64,
    pub area: f64,
}

/// The geometry of an image's field of view (the whole frame without a mask).
pub fn fov_geometry(img: &RgbImage) -> Result<FovGeometry> {
    let (rows, cols) = img.shape();
    match &img.fov {
        None => Ok(FovGeometry {
            centre: [(rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0],
            diameter: rows.min(cols) as f64,
            area: (rows * cols) as f64,
        }),
        Some(m) => {
            let (mut n, mut sr, mut sc) = (0usize, 0.0, 0.0);
            for ((r, c), &v) in m.indexed_iter() {
                if v {
                    n += 1;
                    sr += r as f64;
                    sc += c as f64;
                }
            }
            if n == 0 {
                return Err(PhotoError::Input(
                    "the field-of-view mask is empty: nothing to simulate".into(),
                ));
            }
            let a = n as f64;
            Ok(FovGeometry {
                centre: [sr / a, sc / a],
                diameter: 2.0 * (a / std::f64::consts::PI).sqrt(),
                area: a,
            })
        }
    }
}

/// Mean relative luminance inside the field of view (0 for an all-black field).
pub fn mean_luminance(img: &RgbImage) -> f64 {
    mean_of_luminance(img, &img.luminance())
}

/// [`mean_luminance`] from the image's luminance `y` (`img.luminance()`, computed once by
/// callers that need it too).
pub fn mean_of_luminance(img: &RgbImage, y: &Array2<f32>) -> f64 {
    let (mut n, mut s) = (0usize, 0.0f64);
    for ((r, c), &v) in y.indexed_iter() {
        if img.in_fov(r, c) && v.is_finite() {
            n += 1;
            s += v as f64;
        }
    }
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// A sampled Gaussian PSF of standard deviation `sigma` px (±3σ support; σ = 0: identity).
pub fn gaussian_psf(sigma: f64) -> Result<Psf> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(PhotoError::Input(format!("Gaussian sigma {sigma} px")));
    }
    if sigma < 1e-3 {
        return Ok(Psf::identity());
    }
    let half = (3.0 * sigma).ceil().max(1.0) as usize;
    let n = 2 * half + 1;
    let w = Array2::from_shape_fn((n, n), |(i, j)| {
        let (y, x) = (i as f64 - half as f64, j as f64 - half as f64);
        (-(x * x + y * y) / (2.0 * sigma * sigma)).exp()
    });
    Psf::normalised(w)
}

/// Normalised convolution of one plane inside a mask: `K*(M·x) / K*M` where `M` is true,
/// `x` elsewhere (a mask-free plane is blurred with renormalised borders). Large kernels are
/// convolved by f32 transforms ([`convolve_planes_f32_fft`]: image precision, within ~1e-6
/// of the f64 ones).
pub fn smooth_in_mask(x: &Array2<f64>, mask: Option<&Array2<bool>>, k: &Psf) -> Array2<f64> {
    smooth_in_mask_by(x, mask, k, convolve_planes_f32_fft)
}

/// A convolution of planes of one size with one kernel.
type PlaneConvolution = fn(&[ArrayView2<f64>], &Psf) -> Vec<Array2<f64>>;

/// [`smooth_in_mask`] with the plane convolution `conv` (the tests' f64 reference).
fn smooth_in_mask_by(
    x: &Array2<f64>,
    mask: Option<&Array2<bool>>,
    k: &Psf,
    conv: PlaneConvolution,
) -> Array2<f64> {
    let m: Array2<f64> = match mask {
        Some(m) => m.mapv(|v| v as u8 as f64),
        None => Array2::from_elem(x.dim(), 1.0),
    };
    let xm = x * &m;
    let mut nd = conv(&[xm.view(), m.view()], k);
    let den = nd.pop().expect("two planes");
    let num = nd.pop().expect("two planes");
    let mut out = x.clone();
    ndarray::Zip::from(&mut out)
        .and(&m)
        .and(&num)
        .and(&den)
        .for_each(|o, &m, &n, &d| {
            if m > 0.0 && d > 1e-9 {
                *o = n / d;
            }
        });
    out
}

/// Fractal (fBm) value noise in `[0, 1]`: `octaves` layers of bicubic-smoothstep-interpolated
/// lattice noise, the first with cells of `cell_px` pixels, each next one half the cell and
/// half the amplitude. Lattice values are drawn from `seed.child("octave/<k>")`, row by row,
/// so the field is a pure function of the seed and the shape.
pub fn fractal_noise(
    rows: usize,
    cols: usize,
    cell_px: f64,
    octaves: usize,
    seed: Seed,
) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((rows, cols));
    let (mut amp, mut cell, mut total) = (1.0, cell_px.max(1.0), 0.0);
    for k in 0..octaves.max(1) {
        let (lr, lc) = (
            (rows as f64 / cell).ceil() as usize + 2,
            (cols as f64 / cell).ceil() as usize + 2,
        );
        let mut rng = seed.child(&format!("octave/{k}")).rng();
        let lattice = Array2::from_shape_simple_fn((lr, lc), || rng.random::<f64>());
        let lat = lattice.as_slice().expect("standard layout");
        let s = |t: f64| t * t * (3.0 - 2.0 * t);
        // the interpolation weights depend on the column (row) alone: computed once
        let xs: Vec<(usize, f64)> = (0..cols)
            .map(|c| {
                let x = c as f64 / cell;
                let x0 = x.floor() as usize;
                (x0, s(x - x0 as f64))
            })
            .collect();
        for (r, orow) in out.outer_iter_mut().enumerate() {
            let y = r as f64 / cell;
            let y0 = y.floor() as usize;
            let fy = s(y - y0 as f64);
            let (l0, l1) = (
                &lat[y0 * lc..(y0 + 1) * lc],
                &lat[(y0 + 1) * lc..(y0 + 2) * lc],
            );
            for (o, &(x0, fx)) in orow.into_iter().zip(&xs) {
                let a = l0[x0] * (1.0 - fx) + l0[x0 + 1] * fx;
                let b = l1[x0] * (1.0 - fx) + l1[x0 + 1] * fx;
                *o += amp * (a * (1.0 - fy) + b * fy);
            }
        }
        total += amp;
        amp *= 0.5;
        cell = (cell / 2.0).max(1.0);
    }
    out.mapv_inplace(|v| v / total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    #[test]
    fn geometry_gaussian_and_noise() {
        let mask = Array2::from_shape_fn((41, 41), |(r, c)| {
            (r as f64 - 20.0).hypot(c as f64 - 20.0) <= 15.0
        });
        let img = RgbImage::new(
            Array3::from_elem((3, 41, 41), 0.25f32),
            [1.0, 1.0],
            Modality::Fundus,
            Some(mask),
        )
        .unwrap();
        let g = fov_geometry(&img).unwrap();
        assert!((g.centre[0] - 20.0).abs() < 1e-9 && (g.centre[1] - 20.0).abs() < 1e-9);
        assert!((g.diameter / 30.0 - 1.0).abs() < 0.03, "{}", g.diameter);
        assert!((mean_luminance(&img) - 0.25).abs() < 1e-6);
        let k = gaussian_psf(2.0).unwrap();
        assert!((k.weights.sum() - 1.0).abs() < 1e-12);
        // second moment of the sampled Gaussian ≈ σ²
        let (h, _) = k.radius();
        let m2: f64 = k
            .weights
            .indexed_iter()
            .map(|((i, _), w)| w * (i as f64 - h as f64).powi(2))
            .sum();
        assert!((m2 - 4.0).abs() < 0.05, "{m2}");
        let a = fractal_noise(30, 40, 8.0, 3, Seed::from_u64(5));
        let b = fractal_noise(30, 40, 8.0, 3, Seed::from_u64(5));
        let c = fractal_noise(30, 40, 8.0, 3, Seed::from_u64(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // bit for bit the per-pixel formula (the reference the separable weights replace)
        let reference = {
            let (rows, cols, octaves, seed) = (30usize, 40usize, 3usize, Seed::from_u64(5));
            let mut out = Array2::<f64>::zeros((rows, cols));
            let (mut amp, mut cell, mut total) = (1.0, 8.0f64, 0.0);
            for k in 0..octaves {
                let (lr, lc) = (
                    (rows as f64 / cell).ceil() as usize + 2,
                    (cols as f64 / cell).ceil() as usize + 2,
                );
                let mut rng = seed.child(&format!("octave/{k}")).rng();
                let lattice = Array2::from_shape_simple_fn((lr, lc), || rng.random::<f64>());
                let s = |t: f64| t * t * (3.0 - 2.0 * t);
                for ((r, c), o) in out.indexed_iter_mut() {
                    let (y, x) = (r as f64 / cell, c as f64 / cell);
                    let (y0, x0) = (y.floor() as usize, x.floor() as usize);
                    let (fy, fx) = (s(y - y0 as f64), s(x - x0 as f64));
                    let a = lattice[[y0, x0]] * (1.0 - fx) + lattice[[y0, x0 + 1]] * fx;
                    let b = lattice[[y0 + 1, x0]] * (1.0 - fx) + lattice[[y0 + 1, x0 + 1]] * fx;
                    *o += amp * (a * (1.0 - fy) + b * fy);
                }
                total += amp;
                amp *= 0.5;
                cell = (cell / 2.0).max(1.0);
            }
            out.mapv(|v| v / total)
        };
        assert!(a
            .iter()
            .zip(&reference)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(a.iter().all(|&v| (0.0..=1.0).contains(&v)));
        // a constant stays constant under masked smoothing
        let x = Array2::from_elem((41, 41), 0.7);
        let s = smooth_in_mask(&x, img.fov.as_ref(), &k);
        assert!(s.iter().all(|&v| (v - 0.7).abs() < 1e-12));
    }

    /// With a kernel large enough for the FFT, `smooth_in_mask`'s f32 transforms agree with
    /// the f64 reference to 1e-5 on a fixed-seed plane (inside and outside a circular mask).
    #[test]
    fn f32_smoothing_matches_f64_reference() {
        let (rows, cols) = (150, 170);
        let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
            (r as f64 - 75.0).hypot(c as f64 - 80.0) <= 70.0
        });
        let x = Array2::from_shape_fn((rows, cols), |(r, c)| {
            let mut z = ((r * cols + c) as u64 + 7).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            2.0 * ((z >> 11) as f64 / (1u64 << 53) as f64)
        });
        let k = gaussian_psf(9.0).unwrap();
        for m in [None, Some(&mask)] {
            let fast = smooth_in_mask(&x, m, &k);
            let slow = smooth_in_mask_by(&x, m, &k, crate::convolve::convolve_planes_fft);
            let worst = fast
                .iter()
                .zip(&slow)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-5 && worst > 1e-12, "max |f32 − f64| = {worst}");
        }
    }
}
