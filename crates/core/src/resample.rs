//! Resampling a 2-D image to a target size.
//!
//! Separable linear interpolation with pixel-centre alignment (`x_in = (x_out + ½)·s − ½`,
//! `s = n_in / n_out`, as scikit-image's `resize` and PIL). When shrinking (`s > 1`) the
//! triangle kernel is widened by `s`, which averages all source pixels under each output pixel
//! (an anti-aliasing prefilter, like PIL's bilinear reduce); taps falling outside the image are
//! dropped and the weights renormalised. Spacing is scaled so the field of view is preserved.

use crate::{CoreError, Image, Result};
use ndarray::Array2;

/// Weights of one output sample: first source index and its taps.
struct Taps {
    start: usize,
    w: Vec<f32>,
}

fn taps_1d(n_in: usize, n_out: usize) -> Vec<Taps> {
    let s = n_in as f64 / n_out as f64;
    let support = s.max(1.0);
    (0..n_out)
        .map(|o| {
            let centre = (o as f64 + 0.5) * s - 0.5;
            let lo = (centre - support).floor().max(0.0) as usize;
            let hi = ((centre + support).ceil() as usize).min(n_in - 1);
            let mut w: Vec<f64> = (lo..=hi)
                .map(|i| (1.0 - (i as f64 - centre).abs() / support).max(0.0))
                .collect();
            let sum: f64 = w.iter().sum();
            if sum <= 0.0 {
                // centre beyond the last sample: nearest edge pixel
                w.iter_mut().for_each(|v| *v = 0.0);
                let nearest = centre.round().clamp(lo as f64, hi as f64) as usize - lo;
                w[nearest] = 1.0;
            } else {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            Taps {
                start: lo,
                w: w.into_iter().map(|v| v as f32).collect(),
            }
        })
        .collect()
}

/// Resize `img` to `(rows, cols)`; see the module docs for the kernel.
pub fn resize(img: &Image, rows: usize, cols: usize) -> Result<Image> {
    if rows == 0 || cols == 0 {
        return Err(CoreError::Invalid(format!(
            "target size must be non-zero, got {rows}×{cols}"
        )));
    }
    let (r0, c0) = img.shape();
    if (r0, c0) == (rows, cols) {
        return Ok(img.clone());
    }
    let tc = taps_1d(c0, cols);
    let tr = taps_1d(r0, rows);
    // columns first
    let mut tmp = Array2::<f32>::zeros((r0, cols));
    for i in 0..r0 {
        let src = img.data.row(i);
        for (j, t) in tc.iter().enumerate() {
            tmp[[i, j]] =
                t.w.iter()
                    .enumerate()
                    .map(|(k, w)| w * src[t.start + k])
                    .sum();
        }
    }
    let mut out = Array2::<f32>::zeros((rows, cols));
    for (i, t) in tr.iter().enumerate() {
        let mut dst = out.row_mut(i);
        for (k, w) in t.w.iter().enumerate() {
            let src = tmp.row(t.start + k);
            dst.zip_mut_with(&src, |d, s| *d += w * s);
        }
    }
    let spacing = [
        img.spacing[0] * r0 as f64 / rows as f64,
        img.spacing[1] * c0 as f64 / cols as f64,
    ];
    Image::new(out, spacing, img.modality, img.unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Modality, Unit};

    fn img(data: Array2<f32>) -> Image {
        Image::new(data, [1.0, 2.0], Modality::Mr, Unit::Arbitrary).unwrap()
    }

    #[test]
    fn identity_size_and_constant_preserved() {
        let a = img(Array2::from_elem((9, 7), 3.5));
        let b = resize(&a, 9, 7).unwrap();
        assert_eq!(a, b);
        for &(r, c) in &[(4, 3), (20, 31), (1, 1)] {
            let d = resize(&a, r, c).unwrap();
            assert!(d.data.iter().all(|v| (v - 3.5).abs() < 1e-5));
        }
    }

    #[test]
    fn linear_ramp_upsampled_exactly_inside() {
        // a linear ramp stays linear under linear interpolation (away from the clamped edges)
        let a = img(Array2::from_shape_fn((8, 8), |(_, j)| j as f32));
        let b = resize(&a, 8, 16).unwrap();
        for j in 1..15 {
            let expect = (j as f32 + 0.5) * 0.5 - 0.5;
            assert!((b.data[[3, j]] - expect).abs() < 1e-5, "{j}");
        }
        assert_eq!(b.spacing, [1.0, 1.0]);
    }

    #[test]
    fn shrinking_by_two_averages_pairs_and_kills_nyquist() {
        // alternating ±1 columns (Nyquist): plain bilinear sampling at the half-pixel
        // positions would alias; the widened kernel averages it away.
        let a = img(Array2::from_shape_fn((8, 16), |(_, j)| {
            if j % 2 == 0 {
                1.0
            } else {
                -1.0
            }
        }));
        let b = resize(&a, 8, 8).unwrap();
        for j in 1..7 {
            assert!(b.data[[4, j]].abs() < 1e-6, "{}", b.data[[4, j]]);
        }
        assert_eq!(b.spacing, [1.0, 4.0]);
    }

    #[test]
    fn rejects_zero_size() {
        let a = img(Array2::zeros((4, 4)));
        assert!(resize(&a, 0, 4).is_err());
    }
}
