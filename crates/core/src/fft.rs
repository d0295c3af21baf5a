//! Centred, orthonormal FFTs (fastMRI's `fft2c`/`ifft2c` convention).
//!
//! Along every transformed axis of length `n`, with `h = n / 2` (floor):
//!
//! ```text
//! X[k] = 1/√n · Σ_m x[m] · exp(−2πi (k − h)(m − h) / n)        (forward)
//! x[m] = 1/√n · Σ_k X[k] · exp(+2πi (k − h)(m − h) / n)        (inverse)
//! ```
//!
//! which is exactly `fftshift(fft(ifftshift(x), norm="ortho"))`. DC sits at index `h`, the
//! transform is unitary (Parseval holds), and the inverse undoes the forward for even and odd `n`.
//!
//! Plans come from a thread-local [`rustfft::FftPlanner`], which caches every plan it makes, so
//! repeated calls with the same length never re-plan. The shifts are fused into the copy that
//! gathers lanes into a contiguous batch buffer, so each axis costs one gather, one batched FFT
//! and one scatter.

use ndarray::{Array2, Array3, ArrayViewMut, Axis, Dimension};
use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use std::cell::RefCell;
use std::sync::Arc;

/// Transform direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Inverse,
}

thread_local! {
    static PLANNER: RefCell<FftPlanner<f32>> = RefCell::new(FftPlanner::new());
}

/// A cached plan for a 1-D transform of length `n` (planned once per thread and length).
pub fn plan(n: usize, dir: Direction) -> Arc<dyn Fft<f32>> {
    PLANNER.with(|p| {
        let mut p = p.borrow_mut();
        match dir {
            Direction::Forward => p.plan_fft_forward(n),
            Direction::Inverse => p.plan_fft_inverse(n),
        }
    })
}

/// Elements gathered per batch (about 256 KiB of complex f32).
const BATCH_ELEMS: usize = 32 * 1024;

/// Centred orthonormal FFT of `x` along one `axis`, in place.
pub fn fftc_axis<D: Dimension>(
    x: &mut ArrayViewMut<'_, Complex32, D>,
    axis: usize,
    dir: Direction,
) {
    let n = x.len_of(Axis(axis));
    if n == 0 || x.is_empty() {
        return;
    }
    let fft = plan(n, dir);
    let h = n / 2;
    let scale = 1.0 / (n as f32).sqrt();
    let per_batch = (BATCH_ELEMS / n).max(1);
    let mut buf = vec![Complex32::default(); per_batch * n];
    let mut scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
    let mut lanes: Vec<_> = x.lanes_mut(Axis(axis)).into_iter().collect();
    for chunk in lanes.chunks_mut(per_batch) {
        let used = chunk.len() * n;
        // gather with ifftshift: z[m] = x[(m + h) mod n]
        for (lane, dst) in chunk.iter().zip(buf.chunks_exact_mut(n)) {
            for (m, d) in dst.iter_mut().enumerate() {
                let src = if m + h < n { m + h } else { m + h - n };
                *d = lane[src];
            }
        }
        fft.process_with_scratch(&mut buf[..used], &mut scratch);
        // scatter with fftshift: y[(j + h) mod n] = z[j], times 1/√n
        for (lane, src) in chunk.iter_mut().zip(buf.chunks_exact(n)) {
            for (j, s) in src.iter().enumerate() {
                let dst = if j + h < n { j + h } else { j + h - n };
                lane[dst] = s * scale;
            }
        }
    }
}

/// Centred orthonormal FFT over several axes, in place.
pub fn fftc_axes<D: Dimension>(
    x: &mut ArrayViewMut<'_, Complex32, D>,
    axes: &[usize],
    dir: Direction,
) {
    for &a in axes {
        fftc_axis(x, a, dir);
    }
}

/// `fft2c`: forward centred orthonormal 2-D FFT in place.
pub fn fft2c(x: &mut Array2<Complex32>) {
    fftc_axes(&mut x.view_mut(), &[1, 0], Direction::Forward);
}

/// `ifft2c`: inverse centred orthonormal 2-D FFT in place.
pub fn ifft2c(x: &mut Array2<Complex32>) {
    fftc_axes(&mut x.view_mut(), &[1, 0], Direction::Inverse);
}

/// Forward centred orthonormal 3-D FFT in place.
pub fn fft3c(x: &mut Array3<Complex32>) {
    fftc_axes(&mut x.view_mut(), &[2, 1, 0], Direction::Forward);
}

/// Inverse centred orthonormal 3-D FFT in place.
pub fn ifft3c(x: &mut Array3<Complex32>) {
    fftc_axes(&mut x.view_mut(), &[2, 1, 0], Direction::Inverse);
}

/// Real image → complex array (zero imaginary part).
pub fn to_complex<D: Dimension>(x: &ndarray::Array<f32, D>) -> ndarray::Array<Complex32, D> {
    x.mapv(|v| Complex32::new(v, 0.0))
}

/// Magnitude `|z|` of a complex array (MRI output is the magnitude, never the real part).
pub fn magnitude<D: Dimension>(z: &ndarray::Array<Complex32, D>) -> ndarray::Array<f32, D> {
    z.mapv(|c| c.norm())
}

/// Roll by `n/2` along `axis` (numpy `fftshift` for that axis).
pub fn fftshift_axis<T: Clone, D: Dimension>(x: &mut ArrayViewMut<'_, T, D>, axis: usize) {
    let n = x.len_of(Axis(axis));
    roll_axis(x, axis, n / 2);
}

/// Roll by `−(n/2)` along `axis` (numpy `ifftshift` for that axis).
pub fn ifftshift_axis<T: Clone, D: Dimension>(x: &mut ArrayViewMut<'_, T, D>, axis: usize) {
    let n = x.len_of(Axis(axis));
    roll_axis(x, axis, n - n / 2);
}

/// `y[(j + shift) mod n] = x[j]` along `axis`.
fn roll_axis<T: Clone, D: Dimension>(x: &mut ArrayViewMut<'_, T, D>, axis: usize, shift: usize) {
    let n = x.len_of(Axis(axis));
    if n == 0 || shift % n == 0 {
        return;
    }
    let mut tmp: Vec<T> = Vec::with_capacity(n);
    for mut lane in x.lanes_mut(Axis(axis)) {
        tmp.clear();
        tmp.extend(lane.iter().cloned());
        for (j, v) in tmp.iter().enumerate() {
            lane[(j + shift) % n] = v.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::f64::consts::PI;

    fn random_c(rows: usize, cols: usize, seed: u64) -> Array2<Complex32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((rows, cols), |_| {
            Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0))
        })
    }

    /// Slow reference: the centred orthonormal DFT written out in f64.
    fn naive_dft2c(x: &Array2<Complex32>, sign: f64) -> Array2<(f64, f64)> {
        let (r, c) = x.dim();
        let (hr, hc) = ((r / 2) as f64, (c / 2) as f64);
        let norm = 1.0 / ((r * c) as f64).sqrt();
        Array2::from_shape_fn((r, c), |(ku, kv)| {
            let (mut re, mut im) = (0.0, 0.0);
            for u in 0..r {
                for v in 0..c {
                    let ph = sign
                        * 2.0
                        * PI
                        * ((ku as f64 - hr) * (u as f64 - hr) / r as f64
                            + (kv as f64 - hc) * (v as f64 - hc) / c as f64);
                    let z = x[[u, v]];
                    let (cs, sn) = (ph.cos(), ph.sin());
                    re += z.re as f64 * cs - z.im as f64 * sn;
                    im += z.re as f64 * sn + z.im as f64 * cs;
                }
            }
            (re * norm, im * norm)
        })
    }

    fn max_err(a: &Array2<Complex32>, b: &Array2<(f64, f64)>) -> f64 {
        a.iter()
            .zip(b.iter())
            .map(|(z, &(re, im))| ((z.re as f64 - re).powi(2) + (z.im as f64 - im).powi(2)).sqrt())
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_naive_centred_dft_even_and_odd() {
        for &(r, c) in &[(8, 8), (6, 5), (7, 9), (16, 12), (1, 4)] {
            let x = random_c(r, c, (r * 100 + c) as u64);
            let mut y = x.clone();
            fft2c(&mut y);
            let e = max_err(&y, &naive_dft2c(&x, -1.0));
            assert!(e < 1e-5, "forward {r}x{c}: {e}");
            let mut z = x.clone();
            ifft2c(&mut z);
            let e = max_err(&z, &naive_dft2c(&x, 1.0));
            assert!(e < 1e-5, "inverse {r}x{c}: {e}");
        }
    }

    #[test]
    fn round_trip_and_parseval() {
        for &(r, c) in &[(64, 64), (33, 47), (256, 10)] {
            let x = random_c(r, c, 7);
            let mut y = x.clone();
            fft2c(&mut y);
            let e_x: f64 = x.iter().map(|z| z.norm_sqr() as f64).sum();
            let e_y: f64 = y.iter().map(|z| z.norm_sqr() as f64).sum();
            assert!((e_x - e_y).abs() / e_x < 1e-5);
            ifft2c(&mut y);
            let err = x
                .iter()
                .zip(y.iter())
                .map(|(a, b)| (a - b).norm())
                .fold(0.0f32, f32::max);
            assert!(err < 1e-5, "round trip {r}x{c}: {err}");
        }
    }

    #[test]
    fn dc_at_centre_index() {
        let mut x = Array2::from_elem((6, 7), Complex32::new(1.0, 0.0));
        fft2c(&mut x);
        let dc = x[[3, 3]];
        assert!((dc.re - (42f32).sqrt()).abs() < 1e-4 && dc.im.abs() < 1e-5);
        let rest: f32 = x.iter().map(|z| z.norm()).sum::<f32>() - dc.norm();
        assert!(rest < 1e-4);
    }

    #[test]
    fn three_d_matches_axiswise_2d_and_1d() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = Array3::from_shape_fn((5, 6, 7), |_| Complex32::new(rng.random(), rng.random()));
        let mut a = x.clone();
        fft3c(&mut a);
        // reference: 2-D per slice, then 1-D along axis 0
        let mut b = x.clone();
        for mut s in b.axis_iter_mut(Axis(0)) {
            let mut owned = s.to_owned();
            fft2c(&mut owned);
            s.assign(&owned);
        }
        fftc_axis(&mut b.view_mut(), 0, Direction::Forward);
        let err = a
            .iter()
            .zip(b.iter())
            .map(|(p, q)| (p - q).norm())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-5);
        ifft3c(&mut a);
        let err = a
            .iter()
            .zip(x.iter())
            .map(|(p, q)| (p - q).norm())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-5);
    }

    #[test]
    fn shifts_match_numpy() {
        // numpy: fftshift([0,1,2,3,4]) = [3,4,0,1,2]; ifftshift = [2,3,4,0,1]
        let mut a = ndarray::arr1(&[0, 1, 2, 3, 4]);
        fftshift_axis(&mut a.view_mut(), 0);
        assert_eq!(a.to_vec(), vec![3, 4, 0, 1, 2]);
        let mut b = ndarray::arr1(&[0, 1, 2, 3, 4]);
        ifftshift_axis(&mut b.view_mut(), 0);
        assert_eq!(b.to_vec(), vec![2, 3, 4, 0, 1]);
        let mut c = ndarray::arr1(&[0, 1, 2, 3]);
        fftshift_axis(&mut c.view_mut(), 0);
        assert_eq!(c.to_vec(), vec![2, 3, 0, 1]);
    }
}
