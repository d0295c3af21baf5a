//! Convolution with a PSF inside a field-of-view mask (normalised convolution, FFT).
//!
//! # Model
//! A blur must not pull the black surround of a fundus or endoscopy photograph into the field
//! of view, nor push the field out into it. With `M` the field-of-view mask (the whole frame
//! when the image has none) and `K` the PSF, each channel `I` becomes
//!
//! ```text
//! I'(x) = (K * (M·I))(x) / (K * M)(x)      for M(x) = 1
//! I'(x) = I(x)                              for M(x) = 0   (unchanged, bit for bit)
//! ```
//!
//! (Knutsson & Westin's normalised convolution with a binary certainty). The frame border is
//! treated the same way: outside the image there is no data, so edges are renormalised rather
//! than darkened or mirrored. Where `K * M` is below 1e-9 (a PSF whose support misses the
//! field) the pixel is left unchanged. Inside a uniform field a constant stays constant.
//!
//! The linear convolutions are zero-padded FFTs (no wrap-around), computed in f64 with two
//! real planes packed into one complex transform (real kernel: the real and imaginary parts
//! of the result are the two convolutions).
//!
//! # Units
//! PSF weights on the pixel grid, origin at the kernel's centre pixel.
//!
//! # References
//! - H. Knutsson, C.-F. Westin, "Normalized and differential convolution: methods for
//!   interpolation and filtering of incomplete and uncertain data", CVPR 1993.

use crate::{PhotoError, Psf, Result};
use artefact_core::RgbImage;
use ndarray::{Array2, ArrayView2, Axis};
use num_complex::Complex64;
use rustfft::{FftDirection, FftPlanner};

/// A real 2-D plane pair convolved with real kernels via one padded complex FFT.
struct Padded {
    rows: usize,
    cols: usize,
    buf: Vec<Complex64>,
}

fn fft_len(n: usize) -> usize {
    // smallest 2^a·3^b·5^c ≥ n (fast sizes for rustfft)
    let mut best = n.next_power_of_two();
    let mut a = 1usize;
    while a < 2 * n {
        let mut b = a;
        while b < 2 * n {
            let mut c = b;
            while c < 2 * n {
                if c >= n && c < best {
                    best = c;
                }
                c *= 5;
            }
            b *= 3;
        }
        a *= 2;
    }
    best
}

impl Padded {
    fn new(rows: usize, cols: usize) -> Padded {
        Padded {
            rows,
            cols,
            buf: vec![Complex64::new(0.0, 0.0); rows * cols],
        }
    }

    fn fft2(&mut self, planner: &mut FftPlanner<f64>, dir: FftDirection) {
        let (rows, cols) = (self.rows, self.cols);
        let row_fft = planner.plan_fft(cols, dir);
        row_fft.process(&mut self.buf);
        let col_fft = planner.plan_fft(rows, dir);
        let mut col = vec![Complex64::new(0.0, 0.0); rows];
        let mut scratch = vec![Complex64::new(0.0, 0.0); col_fft.get_inplace_scratch_len()];
        for c in 0..cols {
            for r in 0..rows {
                col[r] = self.buf[r * cols + c];
            }
            col_fft.process_with_scratch(&mut col, &mut scratch);
            for r in 0..rows {
                self.buf[r * cols + c] = col[r];
            }
        }
    }
}

/// Linear ("same"-size, zero boundary) convolutions of two real planes with one real kernel:
/// `out_k(y, x) = Σ_(i,j) K(i, j) · a_k(y − (i − ry), x − (j − rx))`.
fn convolve_pair(
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    k: &Psf,
    planner: &mut FftPlanner<f64>,
) -> (Array2<f64>, Array2<f64>) {
    let (rows, cols) = a.dim();
    let (kr, kc) = k.weights.dim();
    let (ry, rx) = k.radius();
    let (pr, pc) = (fft_len(rows + kr - 1), fft_len(cols + kc - 1));
    let mut x = Padded::new(pr, pc);
    for r in 0..rows {
        for c in 0..cols {
            x.buf[r * pc + c] = Complex64::new(a[[r, c]], b[[r, c]]);
        }
    }
    let mut kk = Padded::new(pr, pc);
    for ((r, c), &w) in k.weights.indexed_iter() {
        kk.buf[r * pc + c] = Complex64::new(w, 0.0);
    }
    x.fft2(planner, FftDirection::Forward);
    kk.fft2(planner, FftDirection::Forward);
    let norm = 1.0 / (pr * pc) as f64;
    for (v, w) in x.buf.iter_mut().zip(&kk.buf) {
        *v *= *w * norm;
    }
    x.fft2(planner, FftDirection::Inverse);
    let mut oa = Array2::<f64>::zeros((rows, cols));
    let mut ob = Array2::<f64>::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let v = x.buf[(r + ry) * pc + (c + rx)];
            oa[[r, c]] = v.re;
            ob[[r, c]] = v.im;
        }
    }
    (oa, ob)
}

/// "Same"-size linear convolution of one plane with zero boundary (exposed for the adjoint
/// test and for callers that need the plain operator).
pub fn convolve_plane(x: ArrayView2<f64>, k: &Psf) -> Array2<f64> {
    let mut planner = FftPlanner::new();
    let zero = Array2::<f64>::zeros(x.dim());
    convolve_pair(x, zero.view(), k, &mut planner).0
}

/// Blur channel `c` of `img` with `psfs[c]` by normalised convolution inside the field of view
/// (see module docs); pixels outside the field are copied unchanged.
pub fn convolve_in_fov(img: &RgbImage, psfs: &[Psf; 3]) -> Result<RgbImage> {
    let (rows, cols) = img.shape();
    for p in psfs {
        let (kr, kc) = p.weights.dim();
        if kr % 2 == 0 || kc % 2 == 0 {
            return Err(PhotoError::Input(format!(
                "point-spread function must have odd sides, got {kr}×{kc}"
            )));
        }
    }
    let mask: Array2<f64> = match &img.fov {
        Some(m) => m.mapv(|v| if v { 1.0 } else { 0.0 }),
        None => Array2::from_elem((rows, cols), 1.0),
    };
    let mut planner = FftPlanner::new();
    let mut out = img.data.clone();
    // channels sharing a PSF share the denominator
    let mut dens: Vec<(usize, Array2<f64>)> = Vec::new();
    let mut den_of = |c: usize, planner: &mut FftPlanner<f64>| -> Array2<f64> {
        if let Some((_, d)) = dens.iter().find(|(k, _)| psfs[*k] == psfs[c]) {
            return d.clone();
        }
        let zero = Array2::<f64>::zeros((rows, cols));
        let d = convolve_pair(mask.view(), zero.view(), &psfs[c], planner).0;
        dens.push((c, d.clone()));
        d
    };
    let masked = |c: usize| -> Array2<f64> {
        let ch = img.data.index_axis(Axis(0), c);
        let mut m = ch.mapv(|v| v as f64);
        m.zip_mut_with(&mask, |v, &w| *v *= w);
        m
    };
    // R and G together when they share a PSF, B alone
    let mut done = [false; 3];
    for c in 0..3 {
        if done[c] || psfs[c].weights.len() == 1 && psfs[c].weights[[0, 0]] == 1.0 {
            continue;
        }
        let partner = (c + 1..3).find(|&d| !done[d] && psfs[d] == psfs[c]);
        let a = masked(c);
        let b = partner.map_or_else(|| Array2::zeros((rows, cols)), masked);
        let (na, nb) = convolve_pair(a.view(), b.view(), &psfs[c], &mut planner);
        let den = den_of(c, &mut planner);
        let mut write = |ch: usize, num: &Array2<f64>| {
            let mut plane = out.index_axis_mut(Axis(0), ch);
            for r in 0..rows {
                for k in 0..cols {
                    if mask[[r, k]] > 0.0 && den[[r, k]] > 1e-9 {
                        plane[[r, k]] = (num[[r, k]] / den[[r, k]]) as f32;
                    }
                }
            }
        };
        write(c, &na);
        done[c] = true;
        if let Some(d) = partner {
            write(d, &nb);
            done[d] = true;
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn direct(x: &Array2<f64>, k: &Psf) -> Array2<f64> {
        let (rows, cols) = x.dim();
        let (ry, rx) = k.radius();
        Array2::from_shape_fn((rows, cols), |(r, c)| {
            let mut acc = 0.0;
            for ((i, j), &w) in k.weights.indexed_iter() {
                let (y, xx) = (
                    r as i64 - (i as i64 - ry as i64),
                    c as i64 - (j as i64 - rx as i64),
                );
                if y >= 0 && xx >= 0 && (y as usize) < rows && (xx as usize) < cols {
                    acc += w * x[[y as usize, xx as usize]];
                }
            }
            acc
        })
    }

    fn kernel() -> Psf {
        Psf::normalised(Array2::from_shape_fn((5, 3), |(i, j)| {
            1.0 + (i * 3 + j) as f64 * 0.37
        }))
        .unwrap()
    }

    fn field(rows: usize, cols: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(r, c)| ((r * 31 + c * 17) % 23) as f64 / 7.0)
    }

    #[test]
    fn fft_convolution_matches_direct_sum() {
        let x = field(17, 22);
        let k = kernel();
        let a = convolve_plane(x.view(), &k);
        let b = direct(&x, &k);
        for (u, v) in a.iter().zip(b.iter()) {
            assert!((u - v).abs() < 1e-10, "{u} vs {v}");
        }
    }

    /// Dot-product test: ⟨K x, y⟩ = ⟨x, Kᵀ y⟩ with Kᵀ the convolution with the flipped kernel.
    #[test]
    fn adjoint_is_convolution_with_the_flipped_kernel() {
        let k = kernel();
        let flipped = Psf {
            weights: Array2::from_shape_fn(k.weights.dim(), |(i, j)| {
                k.weights[[k.weights.nrows() - 1 - i, k.weights.ncols() - 1 - j]]
            }),
        };
        let x = field(19, 14);
        let y = Array2::from_shape_fn((19, 14), |(r, c)| ((r * 7 + c * 3) % 11) as f64 - 5.0);
        let lhs = (convolve_plane(x.view(), &k) * &y).sum();
        let rhs = (&x * &convolve_plane(y.view(), &flipped)).sum();
        assert!(
            (lhs - rhs).abs() < 1e-9 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }

    fn rgb(rows: usize, cols: usize, fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, rows, cols), |(c, r, k)| {
                0.1 + ((r * 13 + k * 5 + c * 3) % 17) as f32 / 20.0
            }),
            [1.0, 1.0],
            Modality::Fundus,
            fov,
        )
        .unwrap()
    }

    #[test]
    fn identity_psf_and_outside_fov_unchanged() {
        let img = rgb(20, 25, None);
        let id = Psf::identity();
        let out = convolve_in_fov(&img, &[id.clone(), id.clone(), id]).unwrap();
        assert_eq!(out.data, img.data);
        // a disc field: outside bit-identical, inside changed
        let mask = Array2::from_shape_fn((20, 25), |(r, c)| {
            ((r as f64 - 9.5).powi(2) + (c as f64 - 12.0).powi(2)) < 64.0
        });
        let img = rgb(20, 25, Some(mask.clone()));
        let k = kernel();
        let out = convolve_in_fov(&img, &[k.clone(), k.clone(), k]).unwrap();
        let mut changed = 0;
        for ((c, r, x), &v) in out.data.indexed_iter() {
            if !mask[[r, x]] {
                assert_eq!(v.to_bits(), img.data[[c, r, x]].to_bits());
            } else if v != img.data[[c, r, x]] {
                changed += 1;
            }
        }
        assert!(changed > 100);
        assert_eq!(out.fov, img.fov);
    }

    /// A constant inside the field stays constant (the surround does not leak in), with
    /// different PSFs per channel.
    #[test]
    fn constant_field_stays_constant() {
        let mask = Array2::from_shape_fn((30, 30), |(r, c)| r > 3 && c > 5 && r + c < 50);
        let mut img = rgb(30, 30, Some(mask.clone()));
        for ((c, r, x), v) in img.data.indexed_iter_mut() {
            *v = if mask[[r, x]] {
                [0.6, 0.3, 0.1][c]
            } else {
                0.0
            };
        }
        let psfs = [
            crate::defocus::disc_psf(7.0).unwrap(),
            kernel(),
            crate::motion::path_psf(&crate::motion::MotionPath::linear(9.0, 20.0)).unwrap(),
        ];
        let out = convolve_in_fov(&img, &psfs).unwrap();
        for ((c, r, x), &v) in out.data.indexed_iter() {
            if mask[[r, x]] {
                assert!((v - [0.6, 0.3, 0.1][c]).abs() < 1e-6, "{c} {r} {x}: {v}");
            } else {
                assert_eq!(v, 0.0);
            }
        }
        assert!(convolve_in_fov(
            &img,
            &[
                Psf {
                    weights: Array2::ones((2, 2))
                },
                Psf::identity(),
                Psf::identity()
            ]
        )
        .is_err());
    }

    #[test]
    fn fast_sizes() {
        assert_eq!(fft_len(1), 1);
        assert_eq!(fft_len(7), 8);
        assert_eq!(fft_len(1100), 1125);
        assert_eq!(fft_len(1024 + 40), 1080);
    }
}
