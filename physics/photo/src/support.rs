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
            // integer sums, exact (and equal to the f64 sums pixel by pixel, whose partial
            // sums stay below 2^53), counted row by row
            let (mut n, mut sr, mut sc) = (0u64, 0u64, 0u64);
            for (r, row) in m.outer_iter().enumerate() {
                let (mut rn, mut rc) = (0u64, 0u64);
                for (c, &v) in row.iter().enumerate() {
                    rn += v as u64;
                    rc += if v { c as u64 } else { 0 };
                }
                n += rn;
                sr += rn * r as u64;
                sc += rc;
            }
            let (n, sr, sc) = (n as usize, sr as f64, sc as f64);
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
    // pixels in row-major order, as a plain loop over the frame would take them
    let mut add = |v: f32| {
        if v.is_finite() {
            n += 1;
            s += v as f64;
        }
    };
    match &img.fov {
        None => y
            .outer_iter()
            .for_each(|row| row.iter().for_each(|&v| add(v))),
        Some(m) => {
            for (yr, mr) in y.outer_iter().zip(m.outer_iter()) {
                for (&v, &inside) in yr.iter().zip(mr.iter()) {
                    if inside {
                        add(v)
                    }
                }
            }
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
    // separable kernels small enough for the direct sum: streamed by rows, same bytes as
    // the plane convolution below
    if let Some(out) = crate::convolve::normalised_separable(x, mask, k) {
        return out;
    }
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

/// Smallest σ (px) that [`gaussian_in_mask`] smooths on a coarser grid.
pub const MULTIRATE_SIGMA_PX: f64 = 16.0;

/// Coarse-grid samples per σ of [`gaussian_in_mask`]'s coarse smoothing (block size
/// `⌊σ / this⌋`).
const COARSE_SAMPLES_PER_SIGMA: f64 = 8.0;

/// Normalised Gaussian smoothing inside a mask, as [`smooth_in_mask`] with
/// [`gaussian_psf`]`(sigma)`, computed at a coarser rate when the Gaussian is broad.
///
/// For `sigma < `[`MULTIRATE_SIGMA_PX`] this is exactly `smooth_in_mask(x, mask,
/// &gaussian_psf(sigma)?)`. For broader Gaussians the planes `M·x` and `M` are summed over
/// blocks of `b = ⌊σ/8⌋` px, each block sum placed at its block's centre; both are
/// convolved with a sampled Gaussian of `σ_c = √(σ² − (b² − 1)/12)/b` coarse pixels (so
/// that block averaging and coarse Gaussian together have the variance `σ²`) and
/// interpolated back by cubic convolution, and their quotient is taken pixel by pixel. A Gaussian of
/// σ ≥ 8 samples passes nothing the coarse grid cannot represent (its transfer at the coarse
/// Nyquist frequency is `exp(−π²·8²/2) ≈ 1e-137`), and a block average's zeros fall on the
/// frequencies that alias to zero, so the result differs from the full-rate smoothing by
/// far less than the field varies: within 1e-3 of the plane's range on real photographs
/// (tested), at a fraction of the cost of the full-rate transforms (`O(P)` instead of
/// `O(P log P)` with the wide kernel's padding).
pub fn gaussian_in_mask(
    x: &Array2<f64>,
    mask: Option<&Array2<bool>>,
    sigma: f64,
) -> Result<Array2<f64>> {
    if !(sigma.is_finite() && sigma >= MULTIRATE_SIGMA_PX) {
        return Ok(smooth_in_mask(x, mask, &gaussian_psf(sigma)?));
    }
    let (rows, cols) = x.dim();
    let b = (sigma / COARSE_SAMPLES_PER_SIGMA).floor().max(1.0) as usize;
    // two empty blocks beyond each edge of the frame (no data there: M = 0), so that the
    // interpolation near the edges has samples on both sides
    const PAD: usize = 2;
    let (cr, cc) = (rows.div_ceil(b) + 2 * PAD, cols.div_ceil(b) + 2 * PAD);
    // block sums of M·x and M
    let mut num = Array2::<f64>::zeros((cr, cc));
    let mut den = Array2::<f64>::zeros((cr, cc));
    let xs = x.as_standard_layout();
    let ms = mask.map(|m| m.as_standard_layout());
    for (r, xr) in xs.outer_iter().enumerate() {
        let xr = xr.to_slice().expect("standard layout");
        let (nr, dr) = (
            num.row_mut(r / b + PAD)
                .into_slice()
                .expect("standard layout"),
            den.row_mut(r / b + PAD)
                .into_slice()
                .expect("standard layout"),
        );
        match &ms {
            None => {
                for (j, xc) in xr.chunks(b).enumerate() {
                    nr[j + PAD] += xc.iter().sum::<f64>();
                    dr[j + PAD] += xc.len() as f64;
                }
            }
            Some(m) => {
                let mr = m.row(r).to_slice().expect("standard layout");
                for (j, (xc, mc)) in xr.chunks(b).zip(mr.chunks(b)).enumerate() {
                    let (mut sn, mut sd) = (0.0, 0.0);
                    for (&v, &inside) in xc.iter().zip(mc) {
                        if inside {
                            sn += v;
                            sd += 1.0;
                        }
                    }
                    nr[j + PAD] += sn;
                    dr[j + PAD] += sd;
                }
            }
        }
    }
    let bf = b as f64;
    let sigma_c = (sigma * sigma - (bf * bf - 1.0) / 12.0).sqrt() / bf;
    let k = gaussian_psf(sigma_c)?;
    let mut nd = crate::convolve::convolve_planes(&[num.view(), den.view()], &k);
    let den = nd.pop().expect("two planes");
    let num = nd.pop().expect("two planes");
    // cubic convolution (Keys, a = −½; exact for quadratics) from the block centres
    // ((i − PAD + ½)·b − ½ on the fine grid; the padding keeps all four taps on the grid):
    // rows first into one coarse row per fine row, then along it
    let taps = |n: usize| -> Vec<([usize; 4], [f64; 4])> {
        (0..n)
            .map(|p| {
                let u = (p as f64 + 0.5) / bf - 0.5 + PAD as f64;
                let i = u.floor() as usize;
                let t = u - i as f64;
                let at = |d: usize| i + d - 1;
                let w = [
                    ((-0.5 * t + 1.0) * t - 0.5) * t,
                    (1.5 * t - 2.5) * t * t + 1.0,
                    ((-1.5 * t + 2.0) * t + 0.5) * t,
                    (0.5 * t - 0.5) * t * t,
                ];
                ([at(0), at(1), at(2), at(3)], w)
            })
            .collect()
    };
    let (tr, tc) = (taps(rows), taps(cols));
    let floor = 1e-9 * bf * bf;
    let mut out = x.clone();
    let (num, den) = (
        num.as_slice().expect("standard layout"),
        den.as_slice().expect("standard layout"),
    );
    let (mut nrow, mut drow) = (vec![0.0; cc], vec![0.0; cc]);
    for (r, mut orow) in out.outer_iter_mut().enumerate() {
        let (ri, rw) = tr[r];
        for (plane, row) in [(num, &mut nrow), (den, &mut drow)] {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..4).map(|q| rw[q] * plane[ri[q] * cc + j]).sum();
            }
        }
        let inside = mask.map(|m| m.row(r));
        for (c, (o, &(ci, cw))) in orow.iter_mut().zip(&tc).enumerate() {
            if inside.is_some_and(|m| !m[c]) {
                continue;
            }
            let at = |row: &[f64]| (0..4).map(|q| cw[q] * row[ci[q]]).sum::<f64>();
            let d = at(&drow);
            if d > floor {
                *o = at(&nrow) / d;
            }
        }
    }
    Ok(out)
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

    /// The row-streamed separable path gives the plane convolution's bytes: masks with
    /// holes and a strip outside, negative values and zeros (signed zeros from `x·0`), a frame
    /// shorter than the kernel, no mask; and it is the path taken for small Gaussians.
    #[test]
    fn streamed_separable_smoothing_matches_plane_convolution_bit_for_bit() {
        let noise = |rows: usize, cols: usize| {
            Array2::from_shape_fn((rows, cols), |(r, c)| {
                let mut z = ((r * cols + c) as u64 + 11).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                let v = 2.0 * ((z >> 11) as f64 / (1u64 << 53) as f64) - 0.7;
                if (r + 2 * c) % 13 == 0 {
                    0.0
                } else {
                    v
                }
            })
        };
        for (rows, cols, sigma) in [
            (90usize, 110usize, 3.0),
            (7, 60, 2.5),
            (40, 41, 1.0),
            (130, 150, 3.3),
        ] {
            let x = noise(rows, cols);
            let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
                let d = (r as f64 - rows as f64 / 2.0).hypot(c as f64 - cols as f64 / 2.0);
                d < rows.max(cols) as f64 * 0.45 && d > 3.0 && c > 4
            });
            let k = gaussian_psf(sigma).unwrap();
            for m in [None, Some(&mask)] {
                let fast = crate::convolve::normalised_separable(&x, m, &k)
                    .expect("a small Gaussian takes the streamed path");
                let slow = smooth_in_mask_by(&x, m, &k, crate::convolve::convolve_planes);
                assert!(
                    fast.iter()
                        .zip(&slow)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{rows}×{cols} σ {sigma}"
                );
                assert_eq!(smooth_in_mask(&x, m, &k), fast);
                assert!(fast.iter().zip(&x).any(|(a, b)| a != b));
            }
        }
        // a broad kernel goes to the transforms instead
        let x = Array2::<f64>::zeros((600, 600));
        assert!(
            crate::convolve::normalised_separable(&x, None, &gaussian_psf(40.0).unwrap()).is_none()
        );
    }

    /// The field's geometry from integer row sums and the mean luminance by rows equal the
    /// per-pixel f64 sums they replace, bit for bit (an off-centre irregular field).
    #[test]
    fn geometry_and_mean_match_per_pixel_sums_bit_for_bit() {
        let (rows, cols) = (173, 211);
        let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
            (r as f64 - 60.3).hypot(1.3 * (c as f64 - 130.7)) < 80.0 && (r * 7 + c) % 19 != 0
        });
        let img = RgbImage::new(
            Array3::from_shape_fn((3, rows, cols), |(k, r, c)| {
                ((r * 31 + c * 17 + k * 5) % 97) as f32 / 97.0
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            Some(mask.clone()),
        )
        .unwrap();
        let (mut n, mut sr, mut sc) = (0usize, 0.0f64, 0.0f64);
        for ((r, c), &v) in mask.indexed_iter() {
            if v {
                n += 1;
                sr += r as f64;
                sc += c as f64;
            }
        }
        let g = fov_geometry(&img).unwrap();
        assert_eq!(g.area, n as f64);
        assert_eq!(g.centre[0].to_bits(), (sr / n as f64).to_bits());
        assert_eq!(g.centre[1].to_bits(), (sc / n as f64).to_bits());
        let y = img.luminance();
        let (mut m, mut s) = (0usize, 0.0f64);
        for ((r, c), &v) in y.indexed_iter() {
            if img.in_fov(r, c) && v.is_finite() {
                m += 1;
                s += v as f64;
            }
        }
        assert_eq!(
            mean_of_luminance(&img, &y).to_bits(),
            (s / m as f64).to_bits()
        );
    }
}
