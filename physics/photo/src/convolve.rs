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
//! The linear convolutions are computed by whichever of two exact methods costs less for the
//! kernel and frame (a cost estimate: kernel taps × pixels against `P log P` of the padded
//! transforms):
//! - **direct** sums over the kernel's non-zero taps (or two 1-D passes when the kernel is
//!   separable, e.g. a sampled Gaussian), row by row (`out += w · shifted input row`, the loop
//!   of the `simd` module); [`convolve_in_fov`] runs them in f32 (the image's precision), the
//!   f64 plane API ([`convolve_planes`]) in f64. Without a field-of-view mask the denominator
//!   `K * 1` is read from the kernel's summed-area table (no convolution);
//! - **FFT**: zero-padded transforms (no wrap-around), in f64 with two real planes packed into
//!   one complex transform (real kernel: the real and imaginary parts of the result are the two
//!   convolutions).
//!
//! Both are tested against each other and against a plain sum; they agree to rounding.
//!
//! # Units
//! PSF weights on the pixel grid, origin at the kernel's centre pixel.
//!
//! # References
//! - H. Knutsson, C.-F. Westin, "Normalized and differential convolution: methods for
//!   interpolation and filtering of incomplete and uncertain data", CVPR 1993.

use crate::simd::{axpy, axpy4, Real};
use crate::{PhotoError, Psf, Result};
use artefact_core::RgbImage;
use ndarray::{Array2, ArrayView2, Axis};
use num_complex::Complex;
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

/// Element type of the FFT path: f64 (the plane API, [`convolve_planes`]) or f32 (the image
/// path of [`convolve_in_fov`], whose pixels are f32), each with its own buffer pool.
trait FftFloat: rustfft::FftNum + Real {
    fn to_f64(self) -> f64;
    /// Run `f` on this thread's pool of buffers of this type.
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Complex<Self>>>) -> R) -> R;
}

thread_local! {
    /// Transform buffers of finished plans, kept for the next plan on this thread (a fresh
    /// 20 MB buffer per transform cost more in page faults than the transform's butterflies).
    static POOL64: std::cell::RefCell<Vec<Vec<Complex<f64>>>> = const { std::cell::RefCell::new(Vec::new()) };
    static POOL32: std::cell::RefCell<Vec<Vec<Complex<f32>>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl FftFloat for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Complex<f64>>>) -> R) -> R {
        POOL64.with(|p| f(&mut p.borrow_mut()))
    }
}

impl FftFloat for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Complex<f32>>>) -> R) -> R {
        POOL32.with(|p| f(&mut p.borrow_mut()))
    }
}

/// Blocked transpose of a `rows × cols` block of `src` (row stride `src_stride`) into `dst`
/// (`cols × rows`, row stride `dst_stride`): `dst[c·dst_stride + r] = src[r·src_stride + c]`.
///
/// 64 × 64 blocks walked in 8 × 8 tiles: a tile's eight source rows are copied into a local
/// array and written out as eight contiguous destination runs (one cache line each for
/// complex f32), 2–3× the element-by-element loop's speed; edge tiles go one by one.
fn transpose<T: Copy + Default>(
    src: &[T],
    src_stride: usize,
    dst: &mut [T],
    dst_stride: usize,
    rows: usize,
    cols: usize,
) {
    const TILE: usize = 8;
    const BLOCK: usize = 64;
    for r0 in (0..rows).step_by(BLOCK) {
        for c0 in (0..cols).step_by(BLOCK) {
            let (r1, c1) = ((r0 + BLOCK).min(rows), (c0 + BLOCK).min(cols));
            for r in (r0..r1).step_by(TILE) {
                let rn = (r + TILE).min(r1);
                for c in (c0..c1).step_by(TILE) {
                    let cn = (c + TILE).min(c1);
                    if rn - r == TILE && cn - c == TILE {
                        let mut tile = [[T::default(); TILE]; TILE];
                        for (i, t) in tile.iter_mut().enumerate() {
                            let at = (r + i) * src_stride + c;
                            t.copy_from_slice(&src[at..at + TILE]);
                        }
                        for j in 0..TILE {
                            let at = (c + j) * dst_stride + r;
                            for (d, t) in dst[at..at + TILE].iter_mut().zip(&tile) {
                                *d = t[j];
                            }
                        }
                    } else {
                        for i in r..rn {
                            for j in c..cn {
                                dst[j * dst_stride + i] = src[i * src_stride + j];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Buffers kept per thread and type at most (a plan holds four, five with two kernels).
const POOL_BUFFERS: usize = 5;

/// A buffer of `len` values, reusing a pooled one when there is one: its contents are
/// whatever the last plan left (zeros when freshly allocated), so a plan writes every value
/// it reads (the kernel's rows are zeroed before its taps are placed; see [`ConvPlan::new`]).
fn pooled<T: FftFloat>(len: usize) -> Vec<Complex<T>> {
    let mut v = T::with_pool(|p| {
        // the smallest pooled buffer that holds `len`, else the largest
        let best = (0..p.len())
            .filter(|&i| p[i].capacity() >= len)
            .min_by_key(|&i| p[i].capacity())
            .or_else(|| (0..p.len()).max_by_key(|&i| p[i].capacity()));
        best.map(|i| p.swap_remove(i))
    })
    .unwrap_or_default();
    if v.len() >= len {
        v.truncate(len);
    } else {
        v.resize(len, Complex::new(T::default(), T::default()));
    }
    v
}

impl<T: FftFloat> Drop for ConvPlan<T> {
    fn drop(&mut self) {
        let bufs = [
            std::mem::take(&mut self.kernel),
            std::mem::take(&mut self.kernel2),
            std::mem::take(&mut self.spatial),
            std::mem::take(&mut self.spectrum),
            std::mem::take(&mut self.scratch),
        ];
        T::with_pool(|p| {
            for b in bufs {
                if b.capacity() > 0 {
                    p.push(b);
                }
            }
            // keep the largest few
            p.sort_by_key(|b| std::cmp::Reverse(b.capacity()));
            p.truncate(POOL_BUFFERS);
        });
    }
}

/// Zero-padded 2-D FFT plan for `rows × cols` planes convolved with one kernel, in f64 or f32.
/// The spectrum is kept transposed (`pc × pr`), so a forward + inverse pair costs two
/// transposes; rows that are zero padding are not transformed along the rows.
struct ConvPlan<T: FftFloat> {
    rows: usize,
    cols: usize,
    pr: usize,
    pc: usize,
    ry: usize,
    rx: usize,
    row_fwd: std::sync::Arc<dyn rustfft::Fft<T>>,
    row_inv: std::sync::Arc<dyn rustfft::Fft<T>>,
    col_fwd: std::sync::Arc<dyn rustfft::Fft<T>>,
    col_inv: std::sync::Arc<dyn rustfft::Fft<T>>,
    /// Kernel spectrum (transposed layout), scaled by 1/(pr·pc).
    kernel: Vec<Complex<T>>,
    /// The second kernel's spectrum of a two-kernel plan ([`Self::new_two`]; empty otherwise)
    /// and its "same"-output offsets.
    kernel2: Vec<Complex<T>>,
    ry2: usize,
    rx2: usize,
    spatial: Vec<Complex<T>>,
    spectrum: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
}

impl<T: FftFloat> ConvPlan<T> {
    fn new(rows: usize, cols: usize, k: &Psf) -> ConvPlan<T> {
        Self::build(rows, cols, k, None)
    }

    /// A plan for two kernels, padded for the larger: [`Self::pair_two`] convolves one plane
    /// with each.
    fn new_two(rows: usize, cols: usize, k: &Psf, k2: &Psf) -> ConvPlan<T> {
        Self::build(rows, cols, k, Some(k2))
    }

    fn build(rows: usize, cols: usize, k: &Psf, k2: Option<&Psf>) -> ConvPlan<T> {
        let (kr, kc) = k.weights.dim();
        let (kr, kc) = k2.map_or((kr, kc), |k2| {
            (kr.max(k2.weights.nrows()), kc.max(k2.weights.ncols()))
        });
        let (ry, rx) = k.radius();
        let (ry2, rx2) = k2.map_or((ry, rx), |k2| k2.radius());
        let (pr, pc) = (fft_len(rows + kr - 1), fft_len(cols + kc - 1));
        let mut planner = FftPlanner::<T>::new();
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
            kernel2: Vec::new(),
            ry2,
            rx2,
            spatial: pooled(pr * pc),
            spectrum: pooled(pr * pc),
            scratch: pooled(scratch_len),
        };
        plan.kernel = plan.kernel_spectrum(k);
        if let Some(k2) = k2 {
            plan.kernel2 = plan.kernel_spectrum(k2);
        }
        plan
    }

    /// The spectrum of `k` zero-padded to the plan's size (transposed layout), scaled by
    /// 1/(pr·pc).
    ///
    /// The kernel is real, so its spectrum is Hermitian, `K(−k) = conj K(k)`: the column
    /// transforms are taken for the frequencies `kc ≤ pc/2` only, and the column `pc − kc`
    /// is the conjugate of column `kc` with its rows reversed (`kr ↦ (pr − kr) mod pr`).
    /// Tested against direct sums, with asymmetric kernels and odd and even sizes.
    fn kernel_spectrum(&mut self, k: &Psf) -> Vec<Complex<T>> {
        let (pr, pc) = (self.pr, self.pc);
        let kr = k.weights.nrows();
        let mut out = pooled(pr * pc);
        // the kernel's rows, zero-padded to the transform's width (the buffer may hold a
        // previous plan's values)
        self.spatial[..kr * pc].fill(Complex::new(T::default(), T::default()));
        for ((r, c), &w) in k.weights.indexed_iter() {
            self.spatial[r * pc + c] = Complex::new(<T as Real>::from_f64(w), T::default());
        }
        let half = pc / 2 + 1;
        self.forward_columns(kr, half);
        let norm = <T as Real>::from_f64(1.0 / (pr * pc) as f64);
        let (low, high) = out.split_at_mut(half * pr);
        for (k, v) in low.iter_mut().zip(&self.spectrum) {
            *k = Complex::new(v.re * norm, v.im * norm);
        }
        for (j, col) in high.chunks_exact_mut(pr).enumerate() {
            let src = &self.spectrum[(pc - half - j) * pr..][..pr];
            col[0] = Complex::new(src[0].re * norm, -(src[0].im * norm));
            for (k, v) in col[1..].iter_mut().zip(src[1..].iter().rev()) {
                *k = Complex::new(v.re * norm, -(v.im * norm));
            }
        }
        out
    }

    /// `spatial` (first `live` rows non-zero) → `spectrum` (transposed).
    fn forward(&mut self, live: usize) {
        self.forward_columns(live, self.pc);
    }

    /// [`Self::forward`] with only the first `ncols` frequency columns of `spectrum`
    /// computed (the rest left as they were).
    fn forward_columns(&mut self, live: usize, ncols: usize) {
        let (pr, pc) = (self.pr, self.pc);
        self.row_fwd
            .process_with_scratch(&mut self.spatial[..live * pc], &mut self.scratch);
        // only the live rows are transposed; the rest of the spectrum is zero padding
        let zero = T::default();
        let spectrum = &mut self.spectrum[..ncols * pr];
        for col in spectrum.chunks_exact_mut(pr) {
            col[live..].fill(Complex::new(zero, zero));
        }
        transpose(&self.spatial, pc, spectrum, pr, live, ncols);
        self.col_fwd
            .process_with_scratch(spectrum, &mut self.scratch);
    }

    /// `spatial`'s first `rows` rows ← `a` + i·`b` (zero-padded to the transform's width).
    fn load(&mut self, a: ArrayView2<T>, b: Option<ArrayView2<T>>) {
        let (rows, cols, pc) = (self.rows, self.cols, self.pc);
        let zero = T::default();
        // (rows below `rows` are not read: [`Self::forward`] transposes the live rows only)
        for (r, row) in self.spatial[..rows * pc].chunks_exact_mut(pc).enumerate() {
            let (live, pad) = row.split_at_mut(cols);
            pad.fill(Complex::new(zero, zero));
            let ar = a.row(r);
            match &b {
                Some(b) => {
                    for ((v, &x), &y) in live.iter_mut().zip(ar.iter()).zip(b.row(r).iter()) {
                        *v = Complex::new(x, y);
                    }
                }
                None => {
                    for (v, &x) in live.iter_mut().zip(ar.iter()) {
                        *v = Complex::new(x, zero);
                    }
                }
            }
        }
    }

    /// Inverse transform of `spectrum`; the real part of the result read at offset
    /// `(ry, rx)`, the imaginary part at `(ry2, rx2)`, each `rows × cols`.
    fn inverse(
        &mut self,
        (ry, rx): (usize, usize),
        (ry2, rx2): (usize, usize),
    ) -> (Array2<T>, Array2<T>) {
        let (rows, cols, pc) = (self.rows, self.cols, self.pc);
        self.col_inv
            .process_with_scratch(&mut self.spectrum, &mut self.scratch);
        // only the rows of the "same"-size outputs are transposed back and transformed
        let (lo, hi) = (ry.min(ry2), ry.max(ry2) + rows);
        transpose(
            &self.spectrum[lo..],
            self.pr,
            &mut self.spatial[lo * pc..],
            pc,
            pc,
            hi - lo,
        );
        self.row_inv
            .process_with_scratch(&mut self.spatial[lo * pc..hi * pc], &mut self.scratch);
        let mut oa = Vec::with_capacity(rows * cols);
        let mut ob = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let row = &self.spatial[(r + ry) * pc + rx..(r + ry) * pc + rx + cols];
            oa.extend(row.iter().map(|v| v.re));
            let row = &self.spatial[(r + ry2) * pc + rx2..(r + ry2) * pc + rx2 + cols];
            ob.extend(row.iter().map(|v| v.im));
        }
        (
            Array2::from_shape_vec((rows, cols), oa).expect("rows × cols"),
            Array2::from_shape_vec((rows, cols), ob).expect("rows × cols"),
        )
    }

    /// Convolve two real planes (`a` + i·`b`) with the kernel; "same"-size outputs.
    fn pair(&mut self, a: ArrayView2<T>, b: Option<ArrayView2<T>>) -> (Array2<T>, Array2<T>) {
        self.load(a, b);
        self.forward(self.rows);
        for (v, w) in self.spectrum.iter_mut().zip(&self.kernel) {
            *v = *v * *w;
        }
        let at = (self.ry, self.rx);
        self.inverse(at, at)
    }

    /// Convolve `a` with the first kernel and `b` with the second ([`Self::new_two`]) through
    /// one forward and one inverse transform: with `Z = F(a + i·b)` and `Z⁻(k) = Z(−k)`, the
    /// spectra of the real planes are `A = (Z + conj Z⁻)/2`, `B = (Z − conj Z⁻)/2i`, and
    /// `A·K₁ + i·B·K₂ = ½[Z·(K₁ + K₂) + conj Z⁻·(K₁ − K₂)]` is the spectrum of
    /// `a * k₁ + i·(b * k₂)` (both real).
    fn pair_two(&mut self, a: ArrayView2<T>, b: ArrayView2<T>) -> (Array2<T>, Array2<T>) {
        assert_eq!(self.kernel2.len(), self.kernel.len(), "a two-kernel plan");
        self.load(a, Some(b));
        self.forward(self.rows);
        let (pr, pc) = (self.pr, self.pc);
        let half = <T as Real>::from_f64(0.5);
        let (k1, k2) = (&self.kernel, &self.kernel2);
        let z = &mut self.spectrum;
        // transposed layout: index kc·pr + kr holds frequency (kr, kc); −k is ((pr − kr) mod
        // pr, (pc − kc) mod pc). Each pair {k, −k} is done once, from both old values.
        for kc in 0..pc {
            let mc = (pc - kc) % pc;
            for kr in 0..pr {
                let mr = (pr - kr) % pr;
                let (i, j) = (kc * pr + kr, mc * pr + mr);
                if j < i {
                    continue;
                }
                let (zi, zj) = (z[i], z[j]);
                let yi = (zi * (k1[i] + k2[i]) + zj.conj() * (k1[i] - k2[i])) * half;
                let yj = (zj * (k1[j] + k2[j]) + zi.conj() * (k1[j] - k2[j])) * half;
                z[i] = yi;
                z[j] = yj;
            }
        }
        let (a_at, b_at) = ((self.ry, self.rx), (self.ry2, self.rx2));
        self.inverse(a_at, b_at)
    }
}

/// Time of one multiply-add of the direct convolution per pixel, relative to one unit
/// `P log2 P` of a padded f64 transform (measured on the 1024² bench: a 1080² transform pair
/// costs about as much as 60 taps in f64; f32 runs twice the lanes).
const DIRECT_TAP_F64: f64 = 0.34;
const DIRECT_TAP_F32: f64 = 0.17;

/// The kernel's non-zero taps by kernel row, for [`direct_same`]: `(i, taps)` with
/// `taps = [(dx, w)]`, `out(y, x) += w · in(y + ry − i, x + dx)`.
type TapRows<T> = Vec<(usize, Vec<(isize, T)>)>;

/// How a kernel is applied directly: all its non-zero taps, or two 1-D passes.
enum Direct<T> {
    Full(TapRows<T>),
    /// horizontal taps (one kernel row), then vertical taps (one tap per kernel row)
    Separable(TapRows<T>, TapRows<T>),
}

impl<T: Real> Direct<T> {
    fn new(k: &Psf) -> Direct<T> {
        let (ry, rx) = k.radius();
        if let Some((u, v)) = separable(k) {
            let h: Vec<(isize, T)> = v
                .iter()
                .enumerate()
                .filter(|(_, &w)| w != 0.0)
                .map(|(j, &w)| (rx as isize - j as isize, <T as Real>::from_f64(w)))
                .collect();
            let vert: TapRows<T> = u
                .iter()
                .enumerate()
                .filter(|(_, &w)| w != 0.0)
                .map(|(i, &w)| (i, vec![(0isize, <T as Real>::from_f64(w))]))
                .collect();
            let _ = ry;
            return Direct::Separable(vec![(0, h)], vert);
        }
        let rows = k
            .weights
            .outer_iter()
            .enumerate()
            .filter_map(|(i, row)| {
                let taps: Vec<(isize, T)> = row
                    .iter()
                    .enumerate()
                    .filter(|(_, &w)| w != 0.0)
                    .map(|(j, &w)| (rx as isize - j as isize, <T as Real>::from_f64(w)))
                    .collect();
                (!taps.is_empty()).then_some((i, taps))
            })
            .collect();
        Direct::Full(rows)
    }

    /// Multiply-adds per pixel.
    fn taps(&self) -> usize {
        let count = |t: &TapRows<T>| t.iter().map(|(_, r)| r.len()).sum::<usize>();
        match self {
            Direct::Full(t) => count(t),
            Direct::Separable(h, v) => count(h) + count(v),
        }
    }

    /// "Same"-size zero-boundary convolution of a row-major `rows × cols` plane.
    fn apply(&self, x: &[T], rows: usize, cols: usize, ry: usize, scratch: &mut Vec<T>) -> Vec<T> {
        match self {
            Direct::Full(t) => direct_same(x, rows, cols, t, ry),
            Direct::Separable(h, v) => {
                let tmp = direct_same(x, rows, cols, h, 0);
                let out = direct_same(&tmp, rows, cols, v, ry);
                *scratch = tmp;
                out
            }
        }
    }
}

/// `K ≈ u vᵀ` when the kernel is separable to 1e-12 of its largest weight (a sampled
/// Gaussian is), else `None`.
fn separable(k: &Psf) -> Option<(Vec<f64>, Vec<f64>)> {
    let w = &k.weights;
    let (kr, kc) = w.dim();
    if kr < 3 || kc < 3 {
        return None;
    }
    let ((pi, pj), &peak) = w
        .indexed_iter()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    if !(peak.is_finite() && peak != 0.0) {
        return None;
    }
    let u: Vec<f64> = (0..kr).map(|i| w[[i, pj]]).collect();
    let v: Vec<f64> = (0..kc).map(|j| w[[pi, j]] / peak).collect();
    let tol = 1e-12 * peak.abs();
    for ((i, j), &x) in w.indexed_iter() {
        if (x - u[i] * v[j]).abs() > tol {
            return None;
        }
    }
    Some((u, v))
}

/// "Same"-size linear convolution, zero boundary, by rows:
/// `out(y, x) = Σ_(i, taps) Σ_(dx, w) w · in(y + ry − i, x + dx)` (terms outside the frame
/// are zero).
fn direct_same<T: Real>(x: &[T], rows: usize, cols: usize, taps: &TapRows<T>, ry: usize) -> Vec<T> {
    direct_same_by(x, rows, cols, taps, ry, true)
}

/// [`direct_same`], summing only each input row's non-zero span when `spans` (else whole
/// rows: the reference of the bit-for-bit test).
fn direct_same_by<T: Real>(
    x: &[T],
    rows: usize,
    cols: usize,
    taps: &TapRows<T>,
    ry: usize,
    spans: bool,
) -> Vec<T> {
    let mut out = vec![T::default(); rows * cols];
    // input zeros add nothing (w · 0 = 0 to a sum that starts at +0, in the same per-pixel
    // order wherever a span starts): rows of zeros are skipped, and in the others only the
    // output columns the row's non-zero span can reach are summed, which leaves sparse
    // layers (threads, debris, lashes) a fraction of the work
    let zero = T::default();
    let live: Vec<Option<(usize, usize)>> = x
        .chunks_exact(cols)
        .map(|r| {
            let first = r.iter().position(|&v| v != zero)?;
            let last = r.iter().rposition(|&v| v != zero)?;
            Some(if spans { (first, last) } else { (0, cols - 1) })
        })
        .collect();
    for (y, orow) in out.chunks_exact_mut(cols).enumerate() {
        for (i, row) in taps {
            let yy = y as isize + ry as isize - *i as isize;
            if yy < 0 || yy >= rows as isize {
                continue;
            }
            let Some((first, last)) = live[yy as usize] else {
                continue;
            };
            let irow = &x[yy as usize * cols..(yy as usize + 1) * cols];
            // over the interior span (every tap's source inside the row) the taps go four at a
            // time, in their order; the span's ends and the remainder one at a time, so each
            // pixel sums its taps in the same order either way
            let max_shift = row
                .iter()
                .map(|&(dx, _)| dx.unsigned_abs())
                .max()
                .unwrap_or(0);
            let (lo, hi) = (max_shift, cols.saturating_sub(max_shift));
            // output columns [a, b) can see the row's non-zero samples
            let (a, b) = (
                first.saturating_sub(max_shift),
                (last + max_shift + 1).min(cols),
            );
            let fused = if hi > lo { row.len() / 4 * 4 } else { 0 };
            let (fa, fb) = (lo.max(a), hi.min(b));
            if fb > fa {
                for q in row[..fused].chunks_exact(4) {
                    let src = |t: usize| {
                        let s0 = (fa as isize + q[t].0) as usize;
                        &irow[s0..s0 + (fb - fa)]
                    };
                    axpy4(
                        &mut orow[fa..fb],
                        [src(0), src(1), src(2), src(3)],
                        [q[0].1, q[1].1, q[2].1, q[3].1],
                    );
                }
            }
            for (t, &(dx, w)) in row.iter().enumerate() {
                let x0 = (-dx).max(0) as usize;
                let x1 = (cols as isize - dx).min(cols as isize);
                if x1 <= x0 as isize {
                    continue;
                }
                let x1 = x1 as usize;
                let mut run = |p: usize, q: usize| {
                    // [p, q) ∩ [a, b)
                    let (p, q) = (p.max(a), q.min(b));
                    if q > p {
                        let s0 = (p as isize + dx) as usize;
                        axpy(&mut orow[p..q], &irow[s0..s0 + (q - p)], w);
                    }
                };
                if t < fused {
                    // only the ends outside the fused span
                    if x0 < lo {
                        run(x0, lo);
                    }
                    if hi < x1 {
                        run(hi, x1);
                    }
                } else {
                    run(x0, x1);
                }
            }
        }
    }
    out
}

/// The horizontal pass `direct_same(m, 1, cols, h, 0)` of one mask row `m` (0/1), and the
/// columns `[fa, fb]` whose whole window `±rx` lies in the row's longest run of ones, where
/// the pass is `hsum` (the weights added in order, as the sum adds them): there it is filled
/// in, and only the two sides are summed (each side from the row's slice that holds all of its
/// windows' ones, so each of its pixels sums the same taps in the same order).
fn mask_row_pass(
    m: &[f64],
    h: &TapRows<f64>,
    rx: usize,
    hsum: f64,
) -> (Vec<f64>, Option<(usize, usize)>) {
    let cols = m.len();
    // the longest run of ones
    let (mut best, mut start): (Option<(usize, usize)>, Option<usize>) = (None, None);
    let mut keep = |run: (usize, usize)| {
        if best.is_none_or(|b| run.1 - run.0 > b.1 - b.0) {
            best = Some(run);
        }
    };
    for (c, &v) in m.iter().enumerate() {
        if v != 0.0 {
            start.get_or_insert(c);
        } else if let Some(s) = start.take() {
            keep((s, c - 1));
        }
    }
    if let Some(s) = start {
        keep((s, cols - 1));
    }
    let Some((fa, fb)) = best.and_then(|(s, e)| (e >= s + 2 * rx).then(|| (s + rx, e - rx))) else {
        return (direct_same(m, 1, cols, h, 0), None);
    };
    let mut out = vec![0.0f64; cols];
    // pixels left of fa see sources up to fa − 1 + rx, right of fb from fb + 1 − rx
    let left = direct_same(&m[..fa + rx], 1, fa + rx, h, 0);
    out[..fa].copy_from_slice(&left[..fa]);
    out[fa..=fb].fill(hsum);
    let s = fb + 1 - rx;
    let right = direct_same(&m[s..], 1, cols - s, h, 0);
    out[fb + 1..].copy_from_slice(&right[rx..]);
    (out, Some((fa, fb)))
}

/// Normalised convolution `K*(M·x) / K*M` of one f64 plane inside `mask` (`x` kept where the
/// mask is false or `K*M ≤ 1e-9`), streamed by rows when `k` is separable and the direct sum
/// is the cheaper path for the two planes: each input row's horizontal pass goes into a ring
/// of the last `kr` rows, each output row sums its vertical taps from the ring, so no
/// full-size intermediate plane is made. The per-pixel sums are those of [`convolve_planes`]'s
/// separable direct path in the same order (same bytes, tested); `None` when that path would
/// not be taken (FFT cheaper, or `k` not separable).
pub(crate) fn normalised_separable(
    x: &Array2<f64>,
    mask: Option<&Array2<bool>>,
    k: &Psf,
) -> Option<Array2<f64>> {
    let (rows, cols) = x.dim();
    let direct = Direct::<f64>::new(k);
    let Direct::Separable(h, v) = &direct else {
        return None;
    };
    if rows == 0 || cols == 0 || !direct_is_cheaper(rows, cols, k, direct.taps(), 2, DIRECT_TAP_F64)
    {
        return None;
    }
    let (kr, _) = k.weights.dim();
    let (ry, rx) = k.radius();
    // ring slot of input row yy: yy % kr, with its horizontal pass of M·x and M and their
    // non-zero spans
    struct Slot {
        num: Vec<f64>,
        den: Vec<f64>,
        spans: [Option<(usize, usize)>; 2],
        // columns whose whole horizontal window lies in the field: `den` is `hsum` there
        full: Option<(usize, usize)>,
    }
    let span = |r: &[f64]| -> Option<(usize, usize)> {
        let first = r.iter().position(|&v| v != 0.0)?;
        let last = r.iter().rposition(|&v| v != 0.0)?;
        Some((first, last))
    };
    let mut ring: Vec<Slot> = (0..kr)
        .map(|_| Slot {
            num: Vec::new(),
            den: Vec::new(),
            spans: [None, None],
            full: None,
        })
        .collect();
    // the horizontal and vertical sums of the mask where the kernel's whole support lies in
    // the field and the frame: each weight times 1, added in the kernel's order from +0 as the
    // sums below add them (so the same bytes), computed once
    let hsum = h[0].1.iter().fold(0.0f64, |s, &(_, w)| s + w * 1.0);
    let vsum = v.iter().fold(0.0f64, |s, (_, t)| s + t[0].1 * hsum);
    // rows as slices (so that the per-pixel loops vectorise)
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let mask = mask.map(|m| m.as_standard_layout());
    let mask = mask
        .as_ref()
        .map(|m| m.as_slice().expect("standard layout"));
    let (mut xm, mut m) = (vec![0.0f64; cols], vec![0.0f64; cols]);
    let mut fill = |yy: usize, ring: &mut Vec<Slot>| {
        let xr = &x[yy * cols..(yy + 1) * cols];
        match mask {
            Some(mask) => {
                for (((a, b), &v), &inside) in xm
                    .iter_mut()
                    .zip(m.iter_mut())
                    .zip(xr)
                    .zip(&mask[yy * cols..(yy + 1) * cols])
                {
                    let w = inside as u8 as f64;
                    *a = v * w;
                    *b = w;
                }
            }
            None => {
                for ((a, b), &v) in xm.iter_mut().zip(m.iter_mut()).zip(xr) {
                    *a = v * 1.0;
                    *b = 1.0;
                }
            }
        }
        let slot = &mut ring[yy % kr];
        slot.num = direct_same(&xm, 1, cols, h, 0);
        (slot.den, slot.full) = mask_row_pass(&m, h, rx, hsum);
        slot.spans = [span(&slot.num), span(&slot.den)];
    };
    let mut out = Array2::from_shape_vec((rows, cols), x.to_vec()).expect("rows × cols");
    let (mut nrow, mut drow) = (vec![0.0f64; cols], vec![0.0f64; cols]);
    let mut filled = 0usize; // input rows [0, filled) have been through the horizontal pass
    for (y, orow) in out
        .as_slice_mut()
        .expect("standard layout")
        .chunks_exact_mut(cols)
        .enumerate()
    {
        let need = (y + ry + 1).min(rows);
        while filled < need {
            fill(filled, &mut ring);
            filled += 1;
        }
        nrow.fill(0.0);
        drow.fill(0.0);
        // the vertical taps whose source row is in the frame, in the kernel's order
        let live: Vec<(&Slot, f64)> = v
            .iter()
            .filter_map(|(i, taps)| {
                let yy = y as isize + ry as isize - *i as isize;
                (0..rows as isize)
                    .contains(&yy)
                    .then(|| (&ring[yy as usize % kr], taps[0].1))
            })
            .collect();
        // the columns where every vertical tap's row is in the frame with its whole
        // horizontal window in the field: the denominator is `vsum` there
        let interior = (live.len() == v.len())
            .then(|| {
                live.iter()
                    .try_fold((0usize, usize::MAX), |(a, b), (s, _)| {
                        s.full.map(|(fa, fb)| (a.max(fa), b.min(fb)))
                    })
            })
            .flatten()
            .filter(|&(a, b)| a <= b);
        for (plane, acc) in [(0, &mut nrow), (1, &mut drow)] {
            fn src(s: &Slot, plane: usize) -> &[f64] {
                if plane == 0 {
                    &s.num
                } else {
                    &s.den
                }
            }
            // the columns [a, b] to sum, less the denominator's interior (filled below)
            let skip = if plane == 1 { interior } else { None };
            let pieces = |a: usize, b: usize| -> [Option<(usize, usize)>; 2] {
                match skip {
                    None => [Some((a, b)), None],
                    Some((ia, ib)) => [
                        (a < ia).then(|| (a, b.min(ia - 1))),
                        (b > ib).then(|| (a.max(ib + 1), b)),
                    ],
                }
            };
            let mut quads = live.chunks_exact(4);
            // four taps at a time over the union of their rows' non-zero spans: outside a
            // row's span its values are ±0, and w·(±0) added to a sum that started at +0
            // leaves it unchanged, so each pixel gets the one-tap-at-a-time sums exactly
            for q in &mut quads {
                let spans = q.iter().filter_map(|(s, _)| s.spans[plane]);
                let (Some(a), Some(b)) = (
                    spans.clone().map(|(a, _)| a).min(),
                    spans.map(|(_, b)| b).max(),
                ) else {
                    continue;
                };
                for (a, b) in pieces(a, b).into_iter().flatten() {
                    axpy4(
                        &mut acc[a..=b],
                        [0, 1, 2, 3].map(|t| &src(q[t].0, plane)[a..=b]),
                        [0, 1, 2, 3].map(|t| q[t].1),
                    );
                }
            }
            for (s, w) in quads.remainder() {
                if let Some((a, b)) = s.spans[plane] {
                    for (a, b) in pieces(a, b).into_iter().flatten() {
                        axpy(&mut acc[a..=b], &src(s, plane)[a..=b], *w);
                    }
                }
            }
            if let Some((ia, ib)) = skip {
                acc[ia..=ib].fill(vsum);
            }
        }
        // n/d where inside and d > 1e-9, else x (a select, so that the loop vectorises)
        match mask {
            Some(mask) => {
                for (((o, &n), &d), &inside) in orow
                    .iter_mut()
                    .zip(&nrow)
                    .zip(&drow)
                    .zip(&mask[y * cols..(y + 1) * cols])
                {
                    let q = n / d;
                    *o = if inside & (d > 1e-9) { q } else { *o };
                }
            }
            None => {
                for ((o, &n), &d) in orow.iter_mut().zip(&nrow).zip(&drow) {
                    let q = n / d;
                    *o = if d > 1e-9 { q } else { *o };
                }
            }
        }
    }
    Some(out)
}

/// Cost (in `P log2 P` units of the f64 transform) of `n` planes through the FFT path.
fn fft_cost(rows: usize, cols: usize, k: &Psf, n: usize) -> f64 {
    let (kr, kc) = k.weights.dim();
    let p = (fft_len(rows + kr - 1) * fft_len(cols + kc - 1)) as f64;
    // one (half-live) kernel transform, then a forward and an inverse per pair of planes
    (0.5 + 2.0 * n.div_ceil(2) as f64) * p * p.log2()
}

/// `true` if the direct sum is cheaper than the FFT for `n` planes (`tap_cost` per tap).
fn direct_is_cheaper(
    rows: usize,
    cols: usize,
    k: &Psf,
    taps: usize,
    n: usize,
    tap_cost: f64,
) -> bool {
    (taps * rows * cols * n) as f64 * tap_cost < fft_cost(rows, cols, k, n)
}

/// Zero-boundary "same" denominator `K * 1` of a frame without a mask: for each pixel the sum
/// of the kernel weights whose source lies inside the frame, from the kernel's summed-area
/// table.
fn frame_denominator(rows: usize, cols: usize, k: &Psf) -> Vec<f64> {
    let (kr, kc) = k.weights.dim();
    let (ry, rx) = k.radius();
    let mut sat = vec![0.0f64; (kr + 1) * (kc + 1)];
    for i in 0..kr {
        for j in 0..kc {
            sat[(i + 1) * (kc + 1) + j + 1] =
                k.weights[[i, j]] + sat[i * (kc + 1) + j + 1] + sat[(i + 1) * (kc + 1) + j]
                    - sat[i * (kc + 1) + j];
        }
    }
    // kernel rows i with 0 ≤ y + ry − i < rows, columns j with 0 ≤ x + rx − j < cols
    let range = |p: usize, r: usize, n: usize, k: usize| -> (usize, usize) {
        let lo = (p + r + 1).saturating_sub(n);
        let hi = (p + r).min(k - 1) + 1;
        (lo, hi.max(lo))
    };
    let xr: Vec<(usize, usize)> = (0..cols).map(|x| range(x, rx, cols, kc)).collect();
    let mut den = vec![0.0; rows * cols];
    for (y, drow) in den.chunks_exact_mut(cols).enumerate() {
        let (i0, i1) = range(y, ry, rows, kr);
        for (d, &(j0, j1)) in drow.iter_mut().zip(&xr) {
            *d = sat[i1 * (kc + 1) + j1] - sat[i0 * (kc + 1) + j1] - sat[i1 * (kc + 1) + j0]
                + sat[i0 * (kc + 1) + j0];
        }
    }
    den
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
    let direct = Direct::<f64>::new(k);
    if direct_is_cheaper(rows, cols, k, direct.taps(), planes.len(), DIRECT_TAP_F64) {
        let (ry, _) = k.radius();
        let mut scratch = Vec::new();
        return planes
            .iter()
            .map(|p| {
                let y = match p.as_slice() {
                    Some(x) => direct.apply(x, rows, cols, ry, &mut scratch),
                    None => {
                        let x: Vec<f64> = p.iter().copied().collect();
                        direct.apply(&x, rows, cols, ry, &mut scratch)
                    }
                };
                Array2::from_shape_vec((rows, cols), y).expect("rows × cols")
            })
            .collect();
    }
    convolve_planes_fft(planes, k)
}

/// [`convolve_planes`] with the transforms in f32 when the FFT is the cheaper path (for planes
/// of image precision, e.g. smoothed luminance: the results agree with the f64 transforms to
/// about 1e-6 of the planes' magnitude); the direct path is the f64 one, bit for bit.
pub fn convolve_planes_f32_fft(planes: &[ArrayView2<f64>], k: &Psf) -> Vec<Array2<f64>> {
    let Some(first) = planes.first() else {
        return Vec::new();
    };
    let (rows, cols) = first.dim();
    let taps = Direct::<f64>::new(k).taps();
    if direct_is_cheaper(rows, cols, k, taps, planes.len(), DIRECT_TAP_F64) {
        return convolve_planes(planes, k);
    }
    let p32: Vec<Array2<f32>> = planes.iter().map(|p| p.mapv(|v| v as f32)).collect();
    let views: Vec<ArrayView2<f32>> = p32.iter().map(|p| p.view()).collect();
    planes_fft(&views, k)
        .into_iter()
        .map(|p| p.mapv(|v| v as f64))
        .collect()
}

/// `(a * ka, b * kb)`, "same"-size, zero boundary: as two [`convolve_planes_f32_fft`] calls,
/// except that when both would take the transforms the two planes share one forward and one
/// inverse f32 transform (the real and imaginary parts, separated by the spectrum's Hermitian
/// symmetry; see `ConvPlan::pair_two`), within ~1e-6 of the planes' magnitude of the f64
/// transforms (tested).
pub fn convolve_two_f32_fft(
    a: ArrayView2<f64>,
    ka: &Psf,
    b: ArrayView2<f64>,
    kb: &Psf,
) -> (Array2<f64>, Array2<f64>) {
    let (rows, cols) = a.dim();
    assert_eq!(b.dim(), (rows, cols), "planes of one size");
    let fft = |k: &Psf| {
        rows > 0
            && cols > 0
            && !direct_is_cheaper(
                rows,
                cols,
                k,
                Direct::<f64>::new(k).taps(),
                1,
                DIRECT_TAP_F64,
            )
    };
    if !(fft(ka) && fft(kb)) {
        let mut x = convolve_planes_f32_fft(&[a], ka);
        let mut y = convolve_planes_f32_fft(&[b], kb);
        return (x.remove(0), y.remove(0));
    }
    let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
    let mut plan = ConvPlan::<f32>::new_two(rows, cols, ka, kb);
    let (x, y) = plan.pair_two(a32.view(), b32.view());
    (x.mapv(|v| v as f64), y.mapv(|v| v as f64))
}

/// [`convolve_planes`] by zero-padded FFTs, whatever the kernel (the reference of the direct
/// path's test).
pub(crate) fn convolve_planes_fft(planes: &[ArrayView2<f64>], k: &Psf) -> Vec<Array2<f64>> {
    planes_fft(planes, k)
}

/// Zero-padded FFT convolutions of planes of one size with one kernel, in `T`: one kernel
/// transform, the planes transformed two at a time (real and imaginary parts).
fn planes_fft<T: FftFloat>(planes: &[ArrayView2<T>], k: &Psf) -> Vec<Array2<T>> {
    let Some(first) = planes.first() else {
        return Vec::new();
    };
    let (rows, cols) = first.dim();
    let mut plan = ConvPlan::<T>::new(rows, cols, k);
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
    convolve_in_fov_by(img, psfs, None, false)
}

/// [`convolve_in_fov`] by the cheaper path (`force = None`), or by the direct path
/// (`Some(true)`) or the FFT (`Some(false)`) whatever the cost; the FFT in f32 unless
/// `f64_fft` (the slower reference the f32 transforms are tested against).
fn convolve_in_fov_by(
    img: &RgbImage,
    psfs: &[Psf; 3],
    force: Option<bool>,
    f64_fft: bool,
) -> Result<RgbImage> {
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
    let mut m32: Option<Array2<f32>> = None;
    for c in 0..3 {
        if done[c] || identity(&psfs[c]) {
            continue;
        }
        let group: Vec<usize> = (c..3).filter(|&d| !done[d] && psfs[d] == psfs[c]).collect();
        let direct = Direct::<f32>::new(&psfs[c]);
        let n = group.len() + usize::from(img.fov.is_some());
        if force.unwrap_or_else(|| {
            direct_is_cheaper(rows, cols, &psfs[c], direct.taps(), n, DIRECT_TAP_F32)
        }) {
            direct_group(img, &mask, &group, &psfs[c], &direct, &mut out);
            for &ch in &group {
                done[ch] = true;
            }
            continue;
        }
        // planes: the group's masked channels, then the mask (denominator), in f32 (the
        // image's precision; `f64_fft` keeps the f64 transforms as the test's reference)
        if f64_fft {
            let planes: Vec<Array2<f64>> = group.iter().map(|&d| masked(d)).collect();
            let mut views: Vec<ArrayView2<f64>> = planes.iter().map(|p| p.view()).collect();
            views.push(mask.view());
            quotients(
                &mut out,
                &mask,
                &group,
                &convolve_planes_fft(&views, &psfs[c]),
            );
        } else {
            // the f32 mask once for all groups; the f32 results read directly (no f64 copies)
            let m32 = m32.get_or_insert_with(|| mask.mapv(|v| v as f32));
            let planes: Vec<Array2<f32>> = group
                .iter()
                .map(|&d| {
                    let mut x = img.data.index_axis(Axis(0), d).to_owned();
                    x.zip_mut_with(m32, |v, &w| *v *= w);
                    x
                })
                .collect();
            let mut views: Vec<ArrayView2<f32>> = planes.iter().map(|p| p.view()).collect();
            views.push(m32.view());
            quotients(&mut out, &mask, &group, &planes_fft(&views, &psfs[c]));
        }
        for &ch in &group {
            done[ch] = true;
        }
    }
    Ok(img.with_data(out)?)
}

/// `out[ch] = num / den` inside the field where the denominator (the last plane of
/// `blurred`, after one numerator per channel of `group`) is above 1e-9, in f64.
fn quotients<T: FftFloat>(
    out: &mut ndarray::Array3<f32>,
    mask: &Array2<f64>,
    group: &[usize],
    blurred: &[Array2<T>],
) {
    let (den, nums) = blurred.split_last().expect("the mask plane");
    for (&ch, num) in group.iter().zip(nums) {
        ndarray::Zip::from(out.index_axis_mut(Axis(0), ch))
            .and(mask)
            .and(num)
            .and(den)
            .for_each(|o, &m, &n, &d| {
                let (n, d) = (n.to_f64(), d.to_f64());
                if m > 0.0 && d > 1e-9 {
                    *o = (n / d) as f32;
                }
            });
    }
}

/// The direct (f32) path of [`convolve_in_fov`] for the channels `group` sharing `k`.
fn direct_group(
    img: &RgbImage,
    mask: &Array2<f64>,
    group: &[usize],
    k: &Psf,
    direct: &Direct<f32>,
    out: &mut ndarray::Array3<f32>,
) {
    let (rows, cols) = img.shape();
    let (ry, _) = k.radius();
    // the mask in f32 (without a field of view every pixel is inside: no mask, no product)
    let m32: Option<Vec<f32>> = img
        .fov
        .as_ref()
        .map(|_| mask.iter().map(|&v| v as f32).collect());
    let mut scratch = Vec::new();
    let den: Vec<f32> = match &m32 {
        Some(m) => direct.apply(m, rows, cols, ry, &mut scratch),
        None => frame_denominator(rows, cols, k)
            .into_iter()
            .map(|v| v as f32)
            .collect(),
    };
    for &ch in group {
        let plane = img.data.index_axis(Axis(0), ch);
        let num = match (&m32, plane.as_slice()) {
            (Some(m), _) => {
                let x: Vec<f32> = plane.iter().zip(m).map(|(&v, &m)| v * m).collect();
                direct.apply(&x, rows, cols, ry, &mut scratch)
            }
            (None, Some(x)) => direct.apply(x, rows, cols, ry, &mut scratch),
            (None, None) => {
                let x: Vec<f32> = plane.iter().copied().collect();
                direct.apply(&x, rows, cols, ry, &mut scratch)
            }
        };
        let mut o = out.index_axis_mut(Axis(0), ch);
        match &m32 {
            Some(m) => {
                for (((o, &n), &d), &m) in o.iter_mut().zip(&num).zip(&den).zip(m) {
                    if m > 0.0 && d > 1e-9 {
                        *o = n / d;
                    }
                }
            }
            None => {
                for ((o, &n), &d) in o.iter_mut().zip(&num).zip(&den) {
                    if d > 1e-9 {
                        *o = n / d;
                    }
                }
            }
        }
    }
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

    /// The kernel spectrum from half the column transforms and Hermitian symmetry equals the
    /// full transform (f64, asymmetric kernels, odd and even padded sizes both ways).
    #[test]
    fn kernel_spectrum_by_symmetry_is_the_full_transform() {
        let asym = Psf::normalised(Array2::from_shape_fn((5, 7), |(i, j)| {
            1.0 + ((i * 7 + j) * 13 % 11) as f64 * 0.37
        }))
        .unwrap();
        let mut sizes = 0;
        for (rows, cols) in [(17, 22), (11, 9), (20, 13), (12, 18)] {
            for k in [kernel(), asym.clone()] {
                let mut plan = ConvPlan::<f64>::new(rows, cols, &k);
                let fast = plan.kernel_spectrum(&k);
                let (pr, pc) = (plan.pr, plan.pc);
                sizes |= 1 << (pr % 2) | 4 << (pc % 2);
                plan.spatial[..k.weights.nrows() * pc].fill(Complex::new(0.0, 0.0));
                for ((r, c), &w) in k.weights.indexed_iter() {
                    plan.spatial[r * pc + c] = Complex::new(w, 0.0);
                }
                plan.forward(k.weights.nrows());
                let norm = 1.0 / (pr * pc) as f64;
                for (a, b) in fast.iter().zip(&plan.spectrum) {
                    assert!((a - b * norm).norm() < 1e-15, "{rows}×{cols}: {a} vs {b}");
                }
            }
        }
        // odd and even transform lengths in both directions were exercised
        assert_eq!(sizes, 0b1111);
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

    /// A fixed-seed field in [0, 1) (splitmix-style hash of the index).
    fn noisy(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(r, c)| {
            let mut z = seed ^ ((r * cols + c) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z >> 11) as f64 / (1u64 << 53) as f64
        })
    }

    fn test_kernels() -> Vec<Psf> {
        vec![
            kernel(),
            crate::defocus::disc_psf(9.0).unwrap(),
            crate::defocus::disc_psf(1.5).unwrap(),
            crate::motion::path_psf(&crate::motion::MotionPath::linear(13.0, 33.0)).unwrap(),
            crate::support::gaussian_psf(2.5).unwrap(),
        ]
    }

    /// The direct path (full taps and separable) equals the FFT path and the plain sum.
    #[test]
    fn direct_path_matches_fft_and_plain_sum() {
        assert!(separable(&crate::support::gaussian_psf(2.5).unwrap()).is_some());
        assert!(separable(&crate::defocus::disc_psf(9.0).unwrap()).is_none());
        // the third plane sparse (rows of zeros are skipped by the direct path)
        let n3 = noisy(37, 45, 3);
        let sparse = Array2::from_shape_fn((37, 45), |(r, c)| {
            if r % 5 == 2 || (r == 0 && c > 30) {
                n3[[r, c]]
            } else {
                0.0
            }
        });
        let planes = [noisy(37, 45, 1), noisy(37, 45, 2), sparse];
        let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
        for k in test_kernels() {
            let d = Direct::<f64>::new(&k);
            let (ry, _) = k.radius();
            let fft = convolve_planes_fft(&views, &k);
            for (p, f) in planes.iter().zip(&fft) {
                let x: Vec<f64> = p.iter().copied().collect();
                let y = d.apply(&x, 37, 45, ry, &mut Vec::new());
                let plain = direct(p, &k);
                for ((a, b), c) in y.iter().zip(f.iter()).zip(plain.iter()) {
                    assert!(
                        (a - b).abs() < 1e-12 && (a - c).abs() < 1e-12,
                        "{a} {b} {c}"
                    );
                }
            }
        }
        // the frame denominator equals the convolution of ones
        for k in test_kernels() {
            let ones = Array2::from_elem((20, 31), 1.0);
            let want = convolve_planes_fft(&[ones.view()], &k).remove(0);
            let got = frame_denominator(20, 31, &k);
            for (a, b) in got.iter().zip(want.iter()) {
                assert!((a - b).abs() < 1e-12, "{a} {b}");
            }
        }
    }

    /// Summing only the non-zero span of each input row gives the whole-row sums bit for bit
    /// (sparse specks, a row with two far-apart specks, dense rows; full and separable
    /// kernels, f32 and f64).
    #[test]
    fn direct_spans_match_whole_rows_bit_for_bit() {
        let (rows, cols) = (41usize, 97usize);
        let n = noisy(rows, cols, 5);
        let x = Array2::from_shape_fn((rows, cols), |(r, c)| {
            let speck = (r as isize - 12).abs() < 4 && (c as isize - 20).abs() < 3;
            let far = r == 30 && (c == 2 || c == 90);
            if speck || far || r == 38 {
                n[[r, c]]
            } else {
                0.0
            }
        });
        let x64: Vec<f64> = x.iter().copied().collect();
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let mut kernels = test_kernels();
        kernels.push(crate::defocus::disc_psf(9.0).unwrap());
        kernels.push(crate::support::gaussian_psf(2.5).unwrap());
        for k in kernels {
            let (ry, _) = k.radius();
            // the separable kernel's passes: horizontal (no row shift), then vertical
            let passes = match Direct::<f64>::new(&k) {
                Direct::Full(t) => vec![(t, ry)],
                Direct::Separable(h, v) => vec![(h, 0), (v, ry)],
            };
            for (tr, r) in &passes {
                let a = direct_same_by(&x64, rows, cols, tr, *r, true);
                let b = direct_same_by(&x64, rows, cols, tr, *r, false);
                assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
                assert!(a.iter().any(|&v| v != 0.0));
            }
            if let Direct::Full(tr) = Direct::<f32>::new(&k) {
                let a = direct_same_by(&x32, rows, cols, &tr, ry, true);
                let b = direct_same_by(&x32, rows, cols, &tr, ry, false);
                assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
            }
        }
    }

    /// `convolve_in_fov`'s direct f32 path equals its FFT f64 path to f32 rounding, with and
    /// without a mask, and leaves the outside bit for bit.
    #[test]
    fn direct_in_fov_matches_fft_in_fov() {
        let (rows, cols) = (48, 53);
        let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
            ((r as f64 - 23.5).powi(2) + (c as f64 - 26.0).powi(2)) < 22.0f64.powi(2)
        });
        let data = Array3::from_shape_fn((3, rows, cols), |(c, r, k)| {
            noisy(rows, cols, 10 + c as u64)[[r, k]] as f32
        });
        for fov in [None, Some(mask)] {
            let img = RgbImage::new(data.clone(), [1.0, 1.0], Modality::Fundus, fov).unwrap();
            let ks = test_kernels();
            for psfs in [
                [ks[1].clone(), ks[1].clone(), ks[1].clone()],
                [ks[3].clone(), ks[3].clone(), ks[3].clone()],
                [ks[1].clone(), ks[2].clone(), ks[4].clone()],
            ] {
                let a = convolve_in_fov_by(&img, &psfs, Some(true), false).unwrap();
                let b = convolve_in_fov_by(&img, &psfs, Some(false), true).unwrap();
                for ((c, r, k), &v) in a.data.indexed_iter() {
                    let w = b.data[[c, r, k]];
                    assert!((v - w).abs() < 2e-6, "{c} {r} {k}: {v} vs {w}");
                    if !img.in_fov(r, k) {
                        assert_eq!(v.to_bits(), img.data[[c, r, k]].to_bits());
                    }
                }
            }
        }
    }

    /// `convolve_in_fov`'s f32 transforms agree with the f64 reference transforms to 1e-5 on
    /// a fixed-seed frame, with three chromatic disc PSFs (defocus) and a shared Gaussian, with
    /// and without a circular field; the outside is unchanged bit for bit.
    #[test]
    fn f32_fft_in_fov_matches_f64_reference() {
        let (rows, cols) = (160, 190);
        let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
            ((r as f64 - 80.0).powi(2) + (c as f64 - 96.0).powi(2)) < 75.0f64.powi(2)
        });
        let data = Array3::from_shape_fn((3, rows, cols), |(c, r, k)| {
            noisy(rows, cols, 20 + c as u64)[[r, k]] as f32
        });
        let g = crate::support::gaussian_psf(6.0).unwrap();
        let discs = [9.0, 12.5, 17.0].map(|d| crate::defocus::disc_psf(d).unwrap());
        for fov in [None, Some(mask)] {
            let img = RgbImage::new(data.clone(), [1.0, 1.0], Modality::Fundus, fov).unwrap();
            for psfs in [discs.clone(), [g.clone(), g.clone(), g.clone()]] {
                let fast = convolve_in_fov_by(&img, &psfs, Some(false), false).unwrap();
                let slow = convolve_in_fov_by(&img, &psfs, Some(false), true).unwrap();
                let mut worst = 0.0f32;
                for ((c, r, k), &v) in fast.data.indexed_iter() {
                    worst = worst.max((v - slow.data[[c, r, k]]).abs());
                    if !img.in_fov(r, k) {
                        assert_eq!(v.to_bits(), img.data[[c, r, k]].to_bits());
                    }
                }
                assert!(worst < 1e-5, "max |f32 − f64| = {worst}");
            }
        }
    }

    /// `convolve_planes_f32_fft` agrees with the f64 transforms to 1e-5 (planes in [0, 1],
    /// fixed seed, a disc large enough for the FFT; one, two and three
    /// planes) and is the f64 direct path bit for bit below the crossover.
    #[test]
    fn f32_fft_planes_match_f64_reference() {
        let planes = [noisy(120, 140, 3), noisy(120, 140, 4), noisy(120, 140, 5)];
        let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
        // a disc large enough for the FFT (a separable Gaussian of this frame goes direct)
        let big = [crate::defocus::disc_psf(21.0).unwrap()];
        for k in &big {
            for n in 1..=3 {
                let fast = convolve_planes_f32_fft(&views[..n], k);
                let slow = convolve_planes_fft(&views[..n], k);
                for (f, s) in fast.iter().zip(&slow) {
                    let worst = f
                        .iter()
                        .zip(s)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    // above f64 rounding: the f32 transforms were used
                    assert!(worst < 1e-5 && worst > 1e-12, "max |f32 − f64| = {worst}");
                }
            }
        }
        let small = crate::support::gaussian_psf(1.0).unwrap();
        assert_eq!(
            convolve_planes_f32_fft(&views, &small),
            convolve_planes(&views, &small)
        );
    }

    /// Pooled transform buffers are handed out with a previous plan's values in them: the
    /// results are those of a thread whose pool is empty (zeroed buffers), bit for bit, in
    /// f32 and f64, for a plan smaller and one larger than the previous.
    #[test]
    fn stale_pooled_buffers_give_the_fresh_bytes() {
        let planes = [noisy(100, 90, 8), noisy(100, 90, 9), noisy(100, 90, 10)];
        let k = crate::defocus::disc_psf(19.0).unwrap();
        let fresh = || {
            let planes = planes.clone();
            let k = k.clone();
            std::thread::spawn(move || {
                let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
                (
                    convolve_planes_f32_fft(&views, &k),
                    convolve_planes_fft(&views, &k),
                )
            })
            .join()
            .unwrap()
        };
        let (want32, want64) = fresh();
        let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
        for other in [noisy(160, 170, 11), noisy(40, 30, 12)] {
            // fill this thread's pools with another plan's values
            let big = crate::defocus::disc_psf(25.0).unwrap();
            let _ = convolve_planes_f32_fft(&[other.view(), other.view()], &big);
            let _ = convolve_planes_fft(&[other.view()], &big);
            let got32 = convolve_planes_f32_fft(&views, &k);
            let got64 = convolve_planes_fft(&views, &k);
            for (got, want) in [(&got32, &want32), (&got64, &want64)] {
                for (g, w) in got.iter().zip(want.iter()) {
                    assert!(g.iter().zip(w).all(|(a, b)| a.to_bits() == b.to_bits()));
                }
            }
        }
    }

    /// The tiled transpose against the element-by-element definition: sizes that are and
    /// are not multiples of the tile and block, strides wider than the block.
    #[test]
    fn tiled_transpose_matches_the_definition() {
        for (rows, cols) in [
            (1usize, 1usize),
            (8, 8),
            (13, 70),
            (64, 64),
            (130, 67),
            (71, 200),
        ] {
            let (ss, ds) = (cols + 3, rows + 5);
            let src: Vec<u32> = (0..rows * ss).map(|i| i as u32 * 7 + 1).collect();
            let mut dst = vec![0u32; cols * ds];
            transpose(&src, ss, &mut dst, ds, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(dst[c * ds + r], src[r * ss + c], "{rows}×{cols} at {r},{c}");
                }
            }
            // nothing written beyond each destination row's `rows` values
            for c in 0..cols {
                assert!(dst[c * ds + rows..c * ds + ds].iter().all(|&v| v == 0));
            }
        }
    }

    /// Two planes with two different kernels through one packed transform pair agree with
    /// each plane's own f64 transforms to f32 precision, on frames whose padded sizes are odd
    /// and even (self-conjugate frequencies on both axes) and with kernels of different radii
    /// (different output offsets); a kernel cheap enough for the direct sum falls back to it.
    #[test]
    fn two_kernels_share_one_transform_pair() {
        let disc = |d: f64| crate::defocus::disc_psf(d).unwrap();
        for (rows, cols) in [(120usize, 140usize), (97, 131)] {
            let (a, b) = (noisy(rows, cols, 21), noisy(rows, cols, 22));
            for (ka, kb) in [
                (disc(21.0), disc(31.0)),
                (disc(31.0), disc(19.0)),
                (disc(25.0), disc(25.0)),
            ] {
                let (x, y) = convolve_two_f32_fft(a.view(), &ka, b.view(), &kb);
                let want_x = convolve_planes_fft(&[a.view()], &ka).remove(0);
                let want_y = convolve_planes_fft(&[b.view()], &kb).remove(0);
                for (got, want) in [(&x, &want_x), (&y, &want_y)] {
                    let worst = got
                        .iter()
                        .zip(want)
                        .map(|(p, q)| (p - q).abs())
                        .fold(0.0, f64::max);
                    assert!(worst < 2e-5 && worst > 1e-12, "{rows}×{cols}: {worst}");
                }
                // the packed pair, not two single-plane transforms
                assert_ne!(x, convolve_planes_f32_fft(&[a.view()], &ka).remove(0));
            }
            // a small Gaussian goes direct: the plain f64 path's bytes
            let small = crate::support::gaussian_psf(1.0).unwrap();
            let (x, y) = convolve_two_f32_fft(a.view(), &small, b.view(), &disc(21.0));
            assert_eq!(x, convolve_planes(&[a.view()], &small).remove(0));
            assert_eq!(
                y,
                convolve_planes_f32_fft(&[b.view()], &disc(21.0)).remove(0)
            );
        }
    }

    #[test]
    fn fast_sizes() {
        assert_eq!(fft_len(1), 1);
        assert_eq!(fft_len(7), 8);
        assert_eq!(fft_len(1100), 1125);
        assert_eq!(fft_len(1024 + 40), 1080);
    }
}
