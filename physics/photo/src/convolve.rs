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

/// Blocked transpose of a `rows × cols` row-major buffer into `dst` (`cols × rows`).
fn transpose(src: &[Complex64], dst: &mut [Complex64], rows: usize, cols: usize) {
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// Zero-padded 2-D FFT plan for `rows × cols` planes convolved with one kernel. The spectrum
/// is kept transposed (`pc × pr`), so a forward + inverse pair costs two transposes; rows that
/// are zero padding are not transformed along the rows.
struct ConvPlan {
    rows: usize,
    cols: usize,
    pr: usize,
    pc: usize,
    ry: usize,
    rx: usize,
    row_fwd: std::sync::Arc<dyn rustfft::Fft<f64>>,
    row_inv: std::sync::Arc<dyn rustfft::Fft<f64>>,
    col_fwd: std::sync::Arc<dyn rustfft::Fft<f64>>,
    col_inv: std::sync::Arc<dyn rustfft::Fft<f64>>,
    /// Kernel spectrum (transposed layout), scaled by 1/(pr·pc).
    kernel: Vec<Complex64>,
    spatial: Vec<Complex64>,
    spectrum: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl ConvPlan {
    fn new(rows: usize, cols: usize, k: &Psf) -> ConvPlan {
        let (kr, kc) = k.weights.dim();
        let (ry, rx) = k.radius();
        let (pr, pc) = (fft_len(rows + kr - 1), fft_len(cols + kc - 1));
        let mut planner = FftPlanner::<f64>::new();
        let row_fwd = planner.plan_fft(pc, FftDirection::Forward);
        let row_inv = planner.plan_fft(pc, FftDirection::Inverse);
        let col_fwd = planner.plan_fft(pr, FftDirection::Forward);
        let col_inv = planner.plan_fft(pr, FftDirection::Inverse);
        let scratch_len = [&row_fwd, &row_inv, &col_fwd, &col_inv]
            .iter()
            .map(|f| f.get_inplace_scratch_len())
            .max()
            .unwrap_or(0);
        let mut plan = ConvPlan {
            rows,
            cols,
            pr,
            pc,
            ry,
            rx,
            row_fwd,
            row_inv,
            col_fwd,
            col_inv,
            kernel: Vec::new(),
            spatial: vec![Complex64::new(0.0, 0.0); pr * pc],
            spectrum: vec![Complex64::new(0.0, 0.0); pr * pc],
            scratch: vec![Complex64::new(0.0, 0.0); scratch_len],
        };
        for ((r, c), &w) in k.weights.indexed_iter() {
            plan.spatial[r * pc + c] = Complex64::new(w, 0.0);
        }
        plan.forward(kr);
        let norm = 1.0 / (pr * pc) as f64;
        plan.kernel = plan.spectrum.iter().map(|v| v * norm).collect();
        plan
    }

    /// `spatial` (first `live` rows non-zero) → `spectrum` (transposed).
    fn forward(&mut self, live: usize) {
        let (pr, pc) = (self.pr, self.pc);
        self.row_fwd
            .process_with_scratch(&mut self.spatial[..live * pc], &mut self.scratch);
        transpose(&self.spatial, &mut self.spectrum, pr, pc);
        self.col_fwd
            .process_with_scratch(&mut self.spectrum, &mut self.scratch);
    }

    /// Convolve two real planes (`a` + i·`b`) with the kernel; "same"-size outputs.
    fn pair(
        &mut self,
        a: ArrayView2<f64>,
        b: Option<ArrayView2<f64>>,
    ) -> (Array2<f64>, Array2<f64>) {
        let (rows, cols, pc) = (self.rows, self.cols, self.pc);
        self.spatial.fill(Complex64::new(0.0, 0.0));
        for r in 0..rows {
            let row = &mut self.spatial[r * pc..r * pc + cols];
            match &b {
                Some(b) => {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v = Complex64::new(a[[r, c]], b[[r, c]]);
                    }
                }
                None => {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v = Complex64::new(a[[r, c]], 0.0);
                    }
                }
            }
        }
        self.forward(rows);
        for (v, w) in self.spectrum.iter_mut().zip(&self.kernel) {
            *v *= *w;
        }
        self.col_inv
            .process_with_scratch(&mut self.spectrum, &mut self.scratch);
        transpose(&self.spectrum, &mut self.spatial, self.pc, self.pr);
        let (ry, rx) = (self.ry, self.rx);
        self.row_inv.process_with_scratch(
            &mut self.spatial[ry * pc..(ry + rows) * pc],
            &mut self.scratch,
        );
        let mut oa = Array2::<f64>::zeros((rows, cols));
        let mut ob = Array2::<f64>::zeros((rows, cols));
        for r in 0..rows {
            let row = &self.spatial[(r + ry) * pc + rx..(r + ry) * pc + rx + cols];
            for (c, v) in row.iter().enumerate() {
                oa[[r, c]] = v.re;
                ob[[r, c]] = v.im;
            }
        }
        (oa, ob)
    }
}

/// "Same"-size linear convolution of one plane with zero boundary (exposed for the adjoint
/// test and for callers that need the plain operator):
/// `out(y, x) = Σ_(i,j) K(i, j) · x(y − (i − ry), x − (j − rx))`.
pub fn convolve_plane(x: ArrayView2<f64>, k: &Psf) -> Array2<f64> {
    convolve_planes(&[x], k).remove(0)
}

/// "Same"-size linear convolutions of several planes of one size with one kernel: one kernel
/// transform, the planes transformed two at a time (real and imaginary parts).
pub fn convolve_planes(planes: &[ArrayView2<f64>], k: &Psf) -> Vec<Array2<f64>> {
    let Some(first) = planes.first() else {
        return Vec::new();
    };
    let (rows, cols) = first.dim();
    let mut plan = ConvPlan::new(rows, cols, k);
    let mut out = Vec::with_capacity(planes.len());
    for two in planes.chunks(2) {
        let (x, y) = plan.pair(two[0], two.get(1).copied());
        out.push(x);
        if two.len() == 2 {
            out.push(y);
        }
    }
    out
}

/// Blur channel `c` of `img` with `psfs[c]` by normalised convolution inside the field of view
/// (see module docs); pixels outside the field are copied unchanged.
///
/// Channels that share a PSF share one kernel transform and one denominator `K * M`; the
/// planes of a PSF (its masked channels, then `M`) are convolved two at a time as the real and
/// imaginary parts of one complex transform.
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
    let masked = |c: usize| -> Array2<f64> {
        let ch = img.data.index_axis(Axis(0), c);
        let mut m = ch.mapv(|v| v as f64);
        m.zip_mut_with(&mask, |v, &w| *v *= w);
        m
    };
    let identity = |p: &Psf| p.weights.len() == 1 && p.weights[[0, 0]] == 1.0;
    let mut out = img.data.clone();
    let mut done = [false; 3];
    for c in 0..3 {
        if done[c] || identity(&psfs[c]) {
            continue;
        }
        let group: Vec<usize> = (c..3).filter(|&d| !done[d] && psfs[d] == psfs[c]).collect();
        // planes: the group's masked channels, then the mask (denominator)
        let planes: Vec<Array2<f64>> = group.iter().map(|&d| masked(d)).collect();
        let mut views: Vec<ArrayView2<f64>> = planes.iter().map(|p| p.view()).collect();
        views.push(mask.view());
        let mut blurred = convolve_planes(&views, &psfs[c]);
        let den = blurred.pop().expect("the mask plane");
        for (&ch, num) in group.iter().zip(&blurred) {
            let mut plane = out.index_axis_mut(Axis(0), ch);
            for r in 0..rows {
                for k in 0..cols {
                    if mask[[r, k]] > 0.0 && den[[r, k]] > 1e-9 {
                        plane[[r, k]] = (num[[r, k]] / den[[r, k]]) as f32;
                    }
                }
            }
            done[ch] = true;
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
