//! Real-input FFT helpers for the motion simulators: two real lanes share one complex FFT
//! ("2-for-1" packing), band-limited row and column shifts of real data, the centred
//! orthonormal 2-D k-space of a real slice computed from half spectra plus Hermitian symmetry,
//! and centred column transforms of strided 2-D views (lanes gathered in batches into a padded
//! buffer; the inverse optionally fused with the magnitude).
//!
//! # Conventions
//! Natural-order DFT index `k` of a length-`n` transform has the signed frequency
//! `f = k` for `k < n − n/2` and `f = k − n` otherwise ([`signed_freq`]), which is the frequency
//! range `[−n/2, n − 1 − n/2]` of the centred transform of [`artefact_core::fft`] (for even `n`
//! the unpaired Nyquist bin is `−n/2`). The centred orthonormal transform relates to the plain
//! DFT of the unshifted lane by `X_c[f] = e^{2πi f h/n}/√n · DFT(x)[f mod n]`, `h = n/2`.
//!
//! Packing: with `z = a + i b` (`a`, `b` real) and `Z = DFT(z)`,
//! `A[k] = (Z[k] + conj Z[−k])/2` and `B[k] = (Z[k] − conj Z[−k])/(2i)`; a real-preserving
//! (Hermitian) multiplier applied to each and recombined as `A·p + i B·q` transforms back to
//! `a' + i b'` with both parts real. Every lane pair is processed independently, so parallel
//! callers get the same bytes for any thread count.

use artefact_core::fft::{plan, Direction};
use artefact_core::Complex32;
use ndarray::{Array2, Axis};
use std::f64::consts::PI;

/// Signed frequency of natural-order DFT index `k` for length `n` (see the module docs).
pub fn signed_freq(k: usize, n: usize) -> i64 {
    if k < n - n / 2 {
        k as i64
    } else {
        k as i64 - n as i64
    }
}

/// Natural-order factors `exp(−2πi f s / n)` moving a lane by `s` pixels, with the unpaired
/// Nyquist bin of an even `n` given the real factor `cos(π s)` so real lanes stay real.
pub fn shift_phasors_natural(n: usize, s: f64) -> Vec<Complex32> {
    let mut p = vec![Complex32::new(1.0, 0.0); n];
    if n == 0 || s == 0.0 {
        return p;
    }
    let h = n / 2;
    let d = -2.0 * PI * s / n as f64;
    let (cr, ci) = (d.cos(), d.sin());
    let (mut re, mut im) = (1.0f64, 0.0f64);
    // f = 0 ..= n − 1 − h by a recurrence in f64, the negative frequencies by conjugation
    for k in 0..(n - h) {
        p[k] = Complex32::new(re as f32, im as f32);
        if k > 0 && n - k > k {
            p[n - k] = Complex32::new(re as f32, -im as f32);
        }
        let t = re * cr - im * ci;
        im = re * ci + im * cr;
        re = t;
    }
    if n % 2 == 0 {
        p[h] = Complex32::new((PI * s).cos() as f32, 0.0);
    }
    p
}

/// Natural-order phasors of a shear: row `r` moves by `coeff·(r − h)` pixels. Rows are produced
/// in order by a per-frequency recurrence across rows in f64 (vectorisable, one trig pair per
/// frequency in total), with the real Nyquist factor `cos(π s)` for even `n`.
pub struct ShearPhasors {
    n: usize,
    coeff: f64,
    h: f64,
    cur: Vec<(f64, f64)>,
    step: Vec<(f64, f64)>,
    next_row: usize,
}

impl ShearPhasors {
    pub fn new(n: usize, coeff: f64, h: f64) -> Self {
        // exp(−2πi f s / n) for the signed frequency f of every natural index, by a
        // recurrence over |f| in f64 (two trig pairs per table instead of one per frequency)
        let table = |s: f64| -> Vec<(f64, f64)> {
            let mut t = vec![(1.0, 0.0); n];
            let a = -2.0 * PI * s / n as f64;
            let (cr, ci) = (a.cos(), a.sin());
            let (mut re, mut im) = (1.0f64, 0.0f64);
            for f in 0..=n / 2 {
                if f < n - n / 2 {
                    t[f] = (re, im);
                }
                if f > 0 && n - f >= n - n / 2 {
                    t[n - f] = (re, -im);
                }
                let r = re * cr - im * ci;
                im = re * ci + im * cr;
                re = r;
            }
            t
        };
        ShearPhasors {
            n,
            coeff,
            h,
            cur: table(-coeff * h),
            step: table(coeff),
            next_row: 0,
        }
    }

    /// Phasors of the next row (rows must be requested in order `0, 1, 2, …`).
    pub fn next_into(&mut self, out: &mut [Complex32]) {
        for ((o, c), st) in out.iter_mut().zip(self.cur.iter_mut()).zip(&self.step) {
            *o = Complex32::new(c.0 as f32, c.1 as f32);
            *c = (c.0 * st.0 - c.1 * st.1, c.0 * st.1 + c.1 * st.0);
        }
        if self.n % 2 == 0 && self.n > 0 {
            let s = self.coeff * (self.next_row as f64 - self.h);
            out[self.n / 2] = Complex32::new((PI * s).cos() as f32, 0.0);
        }
        self.next_row += 1;
    }
}

/// `true` if every value is ±0 (NaN and everything else count as non-zero). A branch-free
/// OR over the bits without the sign, so it vectorises.
pub(crate) fn all_zero(x: &[f32]) -> bool {
    x.iter().fold(0u32, |acc, v| acc | (v.to_bits() << 1)) == 0
}

/// Plain (natural order, unnormalised) forward DFT of the real rows of `src` (`rows × n`,
/// row major), two rows per complex FFT. Writes the non-negative-frequency half spectra
/// (`rows × (n/2 + 1)`) to `out`. If `shear` is given, the half spectrum of each row is
/// multiplied by that row's phasors (rows taken in order).
pub fn rfft_rows(
    src: &[f32],
    n: usize,
    out: &mut [Complex32],
    mut shear: Option<&mut ShearPhasors>,
) {
    if n == 0 {
        return;
    }
    let nh = n / 2 + 1;
    let rows = src.len() / n;
    debug_assert_eq!(out.len(), rows * nh);
    let fft = plan(n, Direction::Forward);
    let mut buf = vec![Complex32::default(); n];
    let mut scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
    let (mut ma, mut mb) = (vec![Complex32::default(); n], vec![Complex32::default(); n]);
    let mut r = 0;
    while r < rows {
        let pair = r + 1 < rows;
        let a = &src[r * n..(r + 1) * n];
        let b_zero = !pair || all_zero(&src[(r + 1) * n..(r + 2) * n]);
        if b_zero && all_zero(a) {
            // zero rows have zero spectra (sheared or not): no transform needed
            let end = if pair { r + 2 } else { r + 1 };
            out[r * nh..end * nh].fill(Complex32::default());
            if let Some(p) = shear.as_deref_mut() {
                p.next_into(&mut ma);
                if pair {
                    p.next_into(&mut mb);
                }
            }
            r += 2;
            continue;
        }
        if pair {
            let b = &src[(r + 1) * n..(r + 2) * n];
            for ((z, &x), &y) in buf.iter_mut().zip(a).zip(b) {
                *z = Complex32::new(x, y);
            }
        } else {
            for (z, &x) in buf.iter_mut().zip(a) {
                *z = Complex32::new(x, 0.0);
            }
        }
        fft.process_with_scratch(&mut buf, &mut scratch);
        if let Some(p) = shear.as_deref_mut() {
            p.next_into(&mut ma);
            if pair {
                p.next_into(&mut mb);
            }
        }
        let sh = shear.is_some();
        // row a is the even (Hermitian) part of the packed spectrum, row b the odd part over i:
        // with zk = buf[k] and zm = conj(buf[(n − k) mod n]), a = (zk + zm)/2, b = (zk − zm)/(2i)
        let (out_a, rest) = out[r * nh..].split_at_mut(nh);
        let split = |zk: Complex32, zm: Complex32| {
            let d = zk - zm;
            ((zk + zm) * 0.5, Complex32::new(0.5 * d.im, -0.5 * d.re))
        };
        // k = 0 pairs with itself, k ≥ 1 with n − k (walked backwards)
        let zms =
            std::iter::once(buf[0].conj()).chain(buf[n + 1 - nh..].iter().rev().map(|z| z.conj()));
        let pairs = buf[..nh].iter().copied().zip(zms);
        if pair {
            let out_b = &mut rest[..nh];
            for (k, ((zk, zm), (a, b))) in pairs
                .zip(out_a.iter_mut().zip(out_b.iter_mut()))
                .enumerate()
            {
                let (mut va, mut vb) = split(zk, zm);
                if sh {
                    va *= ma[k];
                    vb *= mb[k];
                }
                *a = va;
                *b = vb;
            }
        } else {
            for (k, ((zk, zm), a)) in pairs.zip(out_a.iter_mut()).enumerate() {
                let mut va = split(zk, zm).0;
                if sh {
                    va *= ma[k];
                }
                *a = va;
            }
        }
        r += 2;
    }
}

/// Band-limited circular shear of the real rows of `x` (`rows × n`, row major): row `r` moves
/// by `coeff·(r − h)` pixels along the row (Fourier shift with the real Nyquist factor), two
/// rows per complex FFT.
pub fn shear_rows_real(x: &mut [f32], n: usize, coeff: f64, h: f64) {
    if n == 0 {
        return;
    }
    let rows = x.len() / n;
    let mut ph = ShearPhasors::new(n, coeff, h);
    let (mut pa, mut pb) = (vec![Complex32::default(); n], vec![Complex32::default(); n]);
    let fwd = plan(n, Direction::Forward);
    let inv = plan(n, Direction::Inverse);
    let mut buf = vec![Complex32::default(); n];
    let mut y = vec![Complex32::default(); n];
    let mut scratch = vec![
        Complex32::default();
        fwd.get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len())
    ];
    let scale = 1.0 / n as f32;
    let mut r = 0;
    while r < rows {
        let pair = r + 1 < rows;
        ph.next_into(&mut pa);
        if pair {
            ph.next_into(&mut pb);
        } else {
            pb.fill(Complex32::new(1.0, 0.0));
        }
        {
            let a = &x[r * n..(r + 1) * n];
            if pair {
                let b = &x[(r + 1) * n..(r + 2) * n];
                for ((z, &u), &v) in buf.iter_mut().zip(a).zip(b) {
                    *z = Complex32::new(u, v);
                }
            } else {
                for (z, &u) in buf.iter_mut().zip(a) {
                    *z = Complex32::new(u, 0.0);
                }
            }
        }
        fwd.process_with_scratch(&mut buf, &mut scratch);
        for k in 0..n {
            let zk = buf[k];
            let zm = buf[if k == 0 { 0 } else { n - k }].conj();
            // A·p + i·B·q = Z·(p + q)/2 + conj Z[−k]·(p − q)/2
            let (p, q) = (pa[k], pb[k]);
            y[k] = zk * ((p + q) * 0.5) + zm * ((p - q) * 0.5);
        }
        inv.process_with_scratch(&mut y, &mut scratch);
        for (o, z) in x[r * n..(r + 1) * n].iter_mut().zip(&y) {
            *o = z.re * scale;
        }
        if pair {
            for (o, z) in x[(r + 1) * n..(r + 2) * n].iter_mut().zip(&y) {
                *o = z.im * scale;
            }
        }
        r += 2;
    }
}

/// Band-limited circular shear of the real columns of `x` (`rows × cols`, row major): column
/// `j` moves by `coeff·(j − h)` pixels along the columns (the same Fourier shift as
/// [`shear_rows_real`], applied to columns). Adjacent columns are packed two per complex FFT
/// and gathered in batches, so no transpose of the image is needed.
pub fn shear_cols_real(x: &mut [f32], rows: usize, cols: usize, coeff: f64, h: f64) {
    let n = rows;
    if n == 0 || cols == 0 {
        return;
    }
    const PAIRS: usize = 8;
    let mut ph = ShearPhasors::new(n, coeff, h);
    let (mut pa, mut pb) = (vec![Complex32::default(); n], vec![Complex32::default(); n]);
    let fwd = plan(n, Direction::Forward);
    let inv = plan(n, Direction::Inverse);
    let ls = lane_stride(n);
    let mut buf = vec![Complex32::default(); PAIRS * ls];
    let mut scratch = vec![
        Complex32::default();
        fwd.get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len())
    ];
    let mut y = vec![Complex32::default(); n];
    let scale = 1.0 / n as f32;
    let mut c0 = 0;
    while c0 < cols {
        let c1 = (c0 + 2 * PAIRS).min(cols);
        let lanes = (c1 - c0).div_ceil(2);
        // gather: lane l holds columns c0 + 2l (real part) and c0 + 2l + 1 (imaginary part)
        for t0 in (c0..c1).step_by(2 * TILE) {
            let t1 = (t0 + 2 * TILE).min(c1);
            let l0 = (t0 - c0) / 2;
            for r in 0..n {
                let row = &x[r * cols + t0..r * cols + t1];
                let mut it = row.chunks_exact(2);
                for (l, p) in (l0..).zip(it.by_ref()) {
                    buf[l * ls + r] = Complex32::new(p[0], p[1]);
                }
                if let [last] = it.remainder() {
                    buf[(lanes - 1) * ls + r] = Complex32::new(*last, 0.0);
                }
            }
        }
        process_lanes(&*fwd, &mut buf, lanes, n, &mut scratch);
        for l in 0..lanes {
            let pair = c0 + 2 * l + 1 < c1;
            ph.next_into(&mut pa);
            if pair {
                ph.next_into(&mut pb);
            } else {
                pb.fill(Complex32::new(1.0, 0.0));
            }
            let z = &buf[l * ls..l * ls + n];
            for k in 0..n {
                let zk = z[k];
                let zm = z[if k == 0 { 0 } else { n - k }].conj();
                let (p, q) = (pa[k], pb[k]);
                y[k] = zk * ((p + q) * 0.5) + zm * ((p - q) * 0.5);
            }
            buf[l * ls..l * ls + n].copy_from_slice(&y);
        }
        process_lanes(&*inv, &mut buf, lanes, n, &mut scratch);
        for t0 in (c0..c1).step_by(2 * TILE) {
            let t1 = (t0 + 2 * TILE).min(c1);
            let l0 = (t0 - c0) / 2;
            for r in 0..n {
                let row = &mut x[r * cols + t0..r * cols + t1];
                let mut it = row.chunks_exact_mut(2);
                for (l, p) in (l0..).zip(it.by_ref()) {
                    let v = buf[l * ls + r];
                    p[0] = v.re * scale;
                    p[1] = v.im * scale;
                }
                if let [last] = it.into_remainder() {
                    *last = buf[(lanes - 1) * ls + r].re * scale;
                }
            }
        }
        c0 = c1;
    }
}

/// `(rows × cols)` row-major → `(cols × rows)` row-major, in cache blocks.
pub fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * cols];
    const B: usize = 32;
    for i0 in (0..rows).step_by(B) {
        for j0 in (0..cols).step_by(B) {
            for i in i0..(i0 + B).min(rows) {
                for j in j0..(j0 + B).min(cols) {
                    out[j * rows + i] = src[i * cols + j];
                }
            }
        }
    }
    out
}

/// Centring phase `e^{2πi f h/n}/√n` of the non-negative frequencies `f = 0..=n/2`.
pub fn centring_half(n: usize) -> Vec<Complex32> {
    let h = (n / 2) as f64;
    let norm = 1.0 / (n as f64).sqrt();
    (0..n / 2 + 1)
        .map(|f| {
            let ph = 2.0 * PI * f as f64 * h / n as f64;
            Complex32::new((ph.cos() * norm) as f32, (ph.sin() * norm) as f32)
        })
        .collect()
}

/// Index of the centred frequency mirrored through DC: `(2h − k) mod n`.
#[inline]
pub fn mirror(k: usize, n: usize) -> usize {
    (2 * (n / 2) + n - k) % n
}

/// Centred orthonormal 2-D k-space of the real slice `x` (`rows × cols`, row major), where row
/// `r`'s half spectrum is first multiplied by `row_mult(r)` (natural order; it must be a
/// Hermitian multiplier, e.g. [`shift_phasors_natural`], so the row stays real). Rows are
/// transformed two per complex FFT, columns only for the `cols/2 + 1` non-negative
/// frequencies; the rest follows from Hermitian symmetry.
pub fn kspace2_real(
    x: &[f32],
    rows: usize,
    cols: usize,
    shear: Option<&mut ShearPhasors>,
) -> Array2<Complex32> {
    let half = kspace2_real_half(x, rows, cols, shear);
    let h1 = cols / 2;
    let mut k = Array2::<Complex32>::zeros((rows, cols));
    for (k0, mut row) in k.axis_iter_mut(Axis(0)).enumerate() {
        let row = row.as_slice_mut().expect("standard layout");
        let direct = half.row(k0);
        let direct = direct.as_slice().expect("standard layout");
        let mirrored = half.row(mirror(k0, rows));
        let mirrored = mirrored.as_slice().expect("standard layout");
        let (neg, pos) = row.split_at_mut(h1);
        pos.copy_from_slice(&direct[..cols - h1]);
        for (j, d) in neg.iter_mut().enumerate() {
            *d = mirrored[h1 - j].conj();
        }
    }
    k
}

/// The non-negative column frequencies of [`kspace2_real`]: `(rows × (cols/2 + 1))`, rows in
/// centred order, column `f` holding frequency `f`. The value at centred `(k0, k1)` is
/// `half[k0][k1 − h1]` for `k1 ≥ h1`, else `conj(half[mirror(k0)][h1 − k1])` (`h1 = cols/2`).
pub fn kspace2_real_half(
    x: &[f32],
    rows: usize,
    cols: usize,
    shear: Option<&mut ShearPhasors>,
) -> Array2<Complex32> {
    let nh = cols / 2 + 1;
    let mut half = Array2::<Complex32>::zeros((rows, nh));
    rfft_rows(
        x,
        cols,
        half.as_slice_mut().expect("standard layout"),
        shear,
    );
    let cphase = centring_half(cols);
    for mut row in half.axis_iter_mut(Axis(0)) {
        row.iter_mut().zip(&cphase).for_each(|(z, p)| *z *= p);
    }
    fftc_columns(&mut half.view_mut(), Direction::Forward);
    half
}

/// Smallest `m ≥ n` whose only prime factors are 2, 3 and 5 (`n ≥ 1`).
pub fn next_smooth(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r % p == 0 {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 1;
    }
}

thread_local! {
    static COLUMN_BUF: std::cell::RefCell<(Vec<Complex32>, Vec<Complex32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Columns gathered per batch by the column transforms (about 256 KiB for n ≈ 200).
const COLUMN_BATCH: usize = 32;

/// Gathers columns `c0..c1` of `x` (`n × m`) into `buf` (lane `j` at `buf[j·n..(j+1)·n]`),
/// row by row (sequential reads along each row), applying the ifftshift: centred row `r` goes
/// to natural index `(r − n/2) mod n`.
fn gather_columns(
    x: &ndarray::ArrayView2<'_, Complex32>,
    c0: usize,
    c1: usize,
    buf: &mut [Complex32],
) {
    let n = x.nrows();
    let ls = lane_stride(n);
    let h = n / 2;
    // per row a segment of TILE values is read and TILE lanes advance together; lanes are
    // `lane_stride(n)` apart, not n, so that power-of-two lengths do not put every lane into
    // the same few cache sets
    let dst_of = |r: usize| if r >= h { r - h } else { r + n - h };
    for t0 in (c0..c1).step_by(TILE) {
        let t1 = (t0 + TILE).min(c1);
        let mut r = 0;
        // four rows at a time: each lane receives four consecutive values (one 32-byte write)
        while r + 4 <= n {
            let d0 = dst_of(r);
            let rows = [x.row(r), x.row(r + 1), x.row(r + 2), x.row(r + 3)];
            let sl = [
                rows[0].as_slice(),
                rows[1].as_slice(),
                rows[2].as_slice(),
                rows[3].as_slice(),
            ];
            let (Some(a), Some(b), Some(c), Some(d)) = (sl[0], sl[1], sl[2], sl[3]) else {
                break;
            };
            if dst_of(r + 3) != d0 + 3 {
                break;
            }
            let (a, b, c, d) = (&a[t0..t1], &b[t0..t1], &c[t0..t1], &d[t0..t1]);
            for (i, j) in (t0 - c0..t1 - c0).enumerate() {
                let o = &mut buf[j * ls + d0..j * ls + d0 + 4];
                o[0] = a[i];
                o[1] = b[i];
                o[2] = c[i];
                o[3] = d[i];
            }
            r += 4;
        }
        for r in r..n {
            let dst = dst_of(r);
            let row = x.row(r);
            match row.as_slice() {
                Some(row) => {
                    for (j, v) in (t0 - c0..).zip(&row[t0..t1]) {
                        buf[j * ls + dst] = *v;
                    }
                }
                None => {
                    for j in t0..t1 {
                        buf[(j - c0) * ls + dst] = row[j];
                    }
                }
            }
        }
    }
}

/// Lanes moved together by the column gathers and scatters.
const TILE: usize = 32;

/// Distance between lanes in the column buffers: `n` plus one cache line of padding.
fn lane_stride(n: usize) -> usize {
    n + 8
}

/// Transforms lanes `0..w` of `buf` (lane `j` at `buf[j·ls..j·ls + n]`) one by one.
fn process_lanes(
    fft: &dyn rustfft::Fft<f32>,
    buf: &mut [Complex32],
    w: usize,
    n: usize,
    scratch: &mut [Complex32],
) {
    let ls = lane_stride(n);
    for j in 0..w {
        fft.process_with_scratch(&mut buf[j * ls..j * ls + n], scratch);
    }
}

/// Runs `body(fft, buf, scratch)` with this thread's reusable column buffers, sized for `n`.
fn with_column_buffers<R>(
    n: usize,
    m: usize,
    dir: Direction,
    body: impl FnOnce(&dyn rustfft::Fft<f32>, &mut [Complex32], &mut [Complex32]) -> R,
) -> R {
    let fft = plan(n, dir);
    COLUMN_BUF.with(|b| {
        let mut b = b.borrow_mut();
        let (buf, scratch) = &mut *b;
        let want = COLUMN_BATCH.min(m) * lane_stride(n);
        if buf.len() < want {
            buf.resize(want, Complex32::default());
        }
        let sl = fft.get_inplace_scratch_len();
        if scratch.len() < sl {
            scratch.resize(sl, Complex32::default());
        }
        body(&*fft, &mut buf[..want], &mut scratch[..sl])
    })
}

/// Centred index of natural output index `k` of a length-`n` transform: `(k + n/2) mod n`.
#[inline]
fn centred(k: usize, n: usize) -> usize {
    let c = k + n / 2;
    if c >= n {
        c - n
    } else {
        c
    }
}

/// In-place centred orthonormal FFT (the [`artefact_core::fft`] convention) of every column
/// of the 2-D view `x` (`n × m`, lanes along axis 0; rows may be strided, each row should be
/// contiguous for speed). Columns are gathered in batches into a contiguous buffer, so every
/// column is transformed independently of the others.
pub fn fftc_columns(x: &mut ndarray::ArrayViewMut2<'_, Complex32>, dir: Direction) {
    let (n, m) = x.dim();
    if n == 0 || m == 0 {
        return;
    }
    let scale = 1.0 / (n as f32).sqrt();
    let ls = lane_stride(n);
    with_column_buffers(n, m, dir, |fft, buf, scratch| {
        let mut c0 = 0;
        while c0 < m {
            let c1 = (c0 + COLUMN_BATCH).min(m);
            let w = c1 - c0;
            gather_columns(&x.view(), c0, c1, buf);
            process_lanes(fft, buf, w, n, scratch);
            for t0 in (0..w).step_by(TILE) {
                let t1 = (t0 + TILE).min(w);
                let mut k = 0;
                // four output rows at a time: each lane gives four consecutive values (one
                // 32-byte read)
                let mut rows: Vec<_> = x.outer_iter_mut().collect();
                while k + 4 <= n && centred(k + 3, n) == centred(k, n) + 3 {
                    let r = centred(k, n);
                    let [a, b, c, d] = &mut rows[r..r + 4] else {
                        break;
                    };
                    let (Some(a), Some(b), Some(c), Some(d)) = (
                        a.as_slice_mut(),
                        b.as_slice_mut(),
                        c.as_slice_mut(),
                        d.as_slice_mut(),
                    ) else {
                        break;
                    };
                    let s = c0 + t0..c0 + t1;
                    let (a, b, c, d) = (
                        &mut a[s.clone()],
                        &mut b[s.clone()],
                        &mut c[s.clone()],
                        &mut d[s],
                    );
                    for (i, j) in (t0..t1).enumerate() {
                        let v = &buf[j * ls + k..j * ls + k + 4];
                        a[i] = v[0] * scale;
                        b[i] = v[1] * scale;
                        c[i] = v[2] * scale;
                        d[i] = v[3] * scale;
                    }
                    k += 4;
                }
                drop(rows);
                for k in k..n {
                    let mut row = x.row_mut(centred(k, n));
                    match row.as_slice_mut() {
                        Some(row) => {
                            for (j, d) in (t0..).zip(row[c0 + t0..c0 + t1].iter_mut()) {
                                *d = buf[j * ls + k] * scale;
                            }
                        }
                        None => {
                            for j in t0..t1 {
                                row[c0 + j] = buf[j * ls + k] * scale;
                            }
                        }
                    }
                }
            }
            c0 = c1;
        }
    });
}

/// Inverse centred orthonormal FFT of the columns `cols` of `x` (`n × m`), keeping only the
/// magnitudes of rows `rows`: `out[[r − rows.start, c − cols.start]] = |ifftc(x[.., c])[r]|`
/// (evaluated in f64 like [`crate::kspace::abs_c`]).
pub fn ifftc_columns_abs(
    x: &ndarray::ArrayView2<'_, Complex32>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    out: &mut ndarray::ArrayViewMut2<'_, f32>,
) {
    let n = x.nrows();
    if n == 0 || cols.is_empty() || rows.is_empty() {
        return;
    }
    let scale = 1.0 / (n as f32).sqrt();
    let m = cols.len();
    let ls = lane_stride(n);
    with_column_buffers(n, m, Direction::Inverse, |fft, buf, scratch| {
        let mut c0 = 0;
        while c0 < m {
            let c1 = (c0 + COLUMN_BATCH).min(m);
            let w = c1 - c0;
            gather_columns(x, cols.start + c0, cols.start + c1, buf);
            process_lanes(fft, buf, w, n, scratch);
            // magnitudes lane by lane (contiguous, vectorisable), in place in the real parts
            for lane in buf.chunks_mut(ls).take(w) {
                for z in lane[..n].iter_mut() {
                    z.re = crate::kspace::abs_c(*z * scale);
                }
            }
            for t0 in (0..w).step_by(TILE) {
                let t1 = (t0 + TILE).min(w);
                for k in 0..n {
                    let r = centred(k, n);
                    if !rows.contains(&r) {
                        continue;
                    }
                    let mut orow = out.row_mut(r - rows.start);
                    match orow.as_slice_mut() {
                        Some(orow) => {
                            for (j, d) in (t0..).zip(orow[c0 + t0..c0 + t1].iter_mut()) {
                                *d = buf[j * ls + k].re;
                            }
                        }
                        None => {
                            for j in t0..t1 {
                                orow[c0 + j] = buf[j * ls + k].re;
                            }
                        }
                    }
                }
            }
            c0 = c1;
        }
    });
}

/// `out[r][c] = |ifftc(x[r, ..])[c]|`: centred orthonormal inverse FFT of every row, then the
/// magnitude (evaluated in f64 like [`crate::kspace::abs_c`]).
pub fn ifftc_rows_abs(x: &Array2<Complex32>, out: &mut Array2<f32>) {
    let (rows, n) = x.dim();
    if n == 0 || rows == 0 {
        return;
    }
    let fft = plan(n, Direction::Inverse);
    let mut scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
    let h = n / 2;
    let scale = 1.0 / (n as f32).sqrt();
    let mut buf = vec![Complex32::default(); n];
    for (src, mut dst) in x.axis_iter(Axis(0)).zip(out.axis_iter_mut(Axis(0))) {
        let src = src.as_slice().expect("standard layout");
        buf[..n - h].copy_from_slice(&src[h..]);
        buf[n - h..].copy_from_slice(&src[..h]);
        fft.process_with_scratch(&mut buf, &mut scratch);
        let dst = dst.as_slice_mut().expect("standard layout");
        let (dneg, dpos) = dst.split_at_mut(h);
        for (d, z) in dpos.iter_mut().zip(&buf[..n - h]) {
            *d = crate::kspace::abs_c(z * scale);
        }
        for (d, z) in dneg.iter_mut().zip(&buf[n - h..]) {
            *d = crate::kspace::abs_c(z * scale);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::fft::fft2c;

    fn real_img(r: usize, c: usize) -> Array2<f32> {
        Array2::from_shape_fn((r, c), |(i, j)| {
            ((i * 7 + j * 13) % 17) as f32 * 0.3 - 1.0 + (i as f32 * 0.2).sin()
        })
    }

    #[test]
    fn column_transforms_match_the_core_fft() {
        use artefact_core::fft::fftc_axis;
        // several batches of columns, row blocks with and without the fftshift wrap inside a
        // block (odd lengths), and non-contiguous rows (every other column of a wider array)
        for (r, c) in [
            (8usize, 21usize),
            (7, 9),
            (16, 3),
            (5, 1),
            (12, 70),
            (13, 40),
        ] {
            let x = Array2::from_shape_fn((r, c), |(i, j)| {
                Complex32::new(((i * 5 + j * 3) % 7) as f32 - 3.0, (i as f32 * 0.7).cos())
            });
            let mut wide = Array2::<Complex32>::zeros((r, 2 * c));
            wide.slice_mut(ndarray::s![.., ..;2]).assign(&x);
            for dir in [Direction::Forward, Direction::Inverse] {
                let mut a = x.clone();
                fftc_axis(&mut a.view_mut(), 0, dir);
                let mut b = wide.clone();
                fftc_columns(&mut b.slice_mut(ndarray::s![.., ..;2]), dir);
                assert_eq!(a, b.slice(ndarray::s![.., ..;2]), "{r}x{c} {dir:?} strided");
            }
            for dir in [Direction::Forward, Direction::Inverse] {
                let mut a = x.clone();
                fftc_axis(&mut a.view_mut(), 0, dir);
                let mut b = x.clone();
                fftc_columns(&mut b.view_mut(), dir);
                assert_eq!(a, b, "{r}x{c} {dir:?}");
            }
            let mut want = x.clone();
            fftc_axis(&mut want.view_mut(), 0, Direction::Inverse);
            let (rows, cols) = (1..r, c / 3..c);
            let mut got = Array2::<f32>::zeros((rows.len(), cols.len()));
            ifftc_columns_abs(&x.view(), rows.clone(), cols.clone(), &mut got.view_mut());
            for ((i, j), v) in got.indexed_iter() {
                assert_eq!(
                    *v,
                    crate::kspace::abs_c(want[[i + rows.start, j + cols.start]])
                );
            }
            let mut want = x.clone();
            fftc_axis(&mut want.view_mut(), 1, Direction::Inverse);
            let mut got = Array2::<f32>::zeros((r, c));
            ifftc_rows_abs(&x, &mut got);
            assert_eq!(got, want.mapv(crate::kspace::abs_c), "{r}x{c} rows");
        }
    }

    #[test]
    fn column_shear_is_the_row_shear_of_the_transpose() {
        for (rows, cols) in [(9usize, 7usize), (8, 20), (5, 1)] {
            let x = real_img(rows, cols);
            let (coeff, h) = (0.29, 3.0);
            let mut a = x.clone();
            shear_cols_real(a.as_slice_mut().unwrap(), rows, cols, coeff, h);
            let mut t = x.t().as_standard_layout().into_owned();
            shear_rows_real(t.as_slice_mut().unwrap(), rows, coeff, h);
            let err = a
                .iter()
                .zip(t.t().iter())
                .map(|(u, v)| (u - v).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 1e-5, "{rows}x{cols}: {err}");
        }
    }

    #[test]
    fn all_zero_is_exact() {
        assert!(all_zero(&[]));
        assert!(all_zero(&[0.0, -0.0, 0.0]));
        for bad in [
            f32::MIN_POSITIVE / 8.0,
            -1e-40,
            1.0,
            f32::NAN,
            f32::INFINITY,
        ] {
            let mut v = vec![0.0f32; 37];
            v[29] = bad;
            assert!(!all_zero(&v), "{bad}");
        }
    }

    #[test]
    fn signed_freq_matches_the_centred_range() {
        for n in [1usize, 2, 5, 8, 9] {
            let mut f: Vec<i64> = (0..n).map(|k| signed_freq(k, n)).collect();
            f.sort();
            let h = (n / 2) as i64;
            let want: Vec<i64> = (0..n as i64).map(|k| k - h).collect();
            assert_eq!(f, want);
        }
    }

    #[test]
    fn real_kspace_matches_the_complex_fft() {
        for (r, c) in [(8, 8), (7, 9), (6, 5), (1, 4), (5, 1), (16, 12)] {
            let x = real_img(r, c);
            let fast = kspace2_real(x.as_slice().unwrap(), r, c, None);
            let mut slow = x.mapv(|v| Complex32::new(v, 0.0));
            fft2c(&mut slow);
            let err = fast
                .iter()
                .zip(slow.iter())
                .map(|(a, b)| (a - b).norm())
                .fold(0.0f32, f32::max);
            assert!(err < 1e-5, "{r}x{c}: {err}");
        }
    }

    #[test]
    fn row_shifts_match_per_row_complex_shifts() {
        for (rows, n) in [(5usize, 8usize), (4, 9), (3, 6)] {
            let x = real_img(rows, n);
            let (coeff, h) = (0.37, 1.6);
            let shifts: Vec<f64> = (0..rows).map(|r| coeff * (r as f64 - h)).collect();
            let mut fast = x.clone();
            shear_rows_real(fast.as_slice_mut().unwrap(), n, coeff, h);
            for r in 0..rows {
                // slow: direct DFT, multiply, inverse DFT in f64
                let row: Vec<f64> = x.row(r).iter().map(|&v| v as f64).collect();
                let p = shift_phasors_natural(n, shifts[r]);
                for m in 0..n {
                    let mut acc = (0.0f64, 0.0f64);
                    for (k, pk) in p.iter().enumerate() {
                        let (mut re, mut im) = (0.0, 0.0);
                        for (j, &v) in row.iter().enumerate() {
                            let ph = -2.0 * PI * (k * j) as f64 / n as f64;
                            re += v * ph.cos();
                            im += v * ph.sin();
                        }
                        let (pr, pi) = (pk.re as f64, pk.im as f64);
                        let (yr, yi) = (re * pr - im * pi, re * pi + im * pr);
                        let ph = 2.0 * PI * (k * m) as f64 / n as f64;
                        acc.0 += yr * ph.cos() - yi * ph.sin();
                        acc.1 += yr * ph.sin() + yi * ph.cos();
                    }
                    let want = acc.0 / n as f64;
                    assert!(acc.1.abs() / (n as f64) < 1e-4, "imaginary residue");
                    let got = fast[[r, m]] as f64;
                    assert!((got - want).abs() < 1e-4, "row {r} m {m}: {got} vs {want}");
                }
            }
        }
    }
}
