//! `mri.bias_field`: smooth multiplicative intensity non-uniformity (B1 / receive-coil bias).
//!
//! # Model
//! The observed magnitude is `y = b · x` with a smooth positive field `b = exp(L)`. The
//! log-field `L` is either
//! - `polynomial`: `L(u, v) = Σ_{i+j ≤ order} c_ij · uⁱ · vʲ` with normalised coordinates
//!   `u, v ∈ [−1, 1]` across the field of view (pixel centres, `u = (i + ½ − N/2)/(N/2 − ½)`),
//!   coefficients ordered `i` (row power) outer, `j` (column power) inner — the convention of
//!   TorchIO's `RandomBiasField` restricted to a 2-D slice; or
//! - `grid`: a coarse `grid × grid` lattice of control values spanning the field of view,
//!   upsampled with the uniform cubic B-spline (C² smooth, edge values extended), in the spirit
//!   of N4's B-spline bias model.
//!
//! With `range = Some(r)` the log-field is rescaled and centred so that the field's maximum over
//! the **object** divided by its minimum there is exactly `r`, with geometric mid-range 1
//! (`b ∈ [r^−½, r^½]` on the object), so the object's overall brightness is kept and the clean
//! image's display window still fits; a constant log-field then becomes `b = 1`. The object is
//! the support of the clean image: pixels above its Otsu threshold (all pixels for a constant
//! image). Normalising over the whole field of view instead would let a head that fills half of
//! it sit entirely on the bright (or dark) side of the field. Outside the object the field may
//! leave `[r^−½, r^½]`; the signal there is background. With `range = None` the raw `exp(L)` is used (order 0 is the constant `exp(c₀₀)`).
//! The field multiplies the magnitude, so zero background stays zero. No Fourier transform is
//! needed: a receive-sensitivity profile multiplies the image, which is the same as convolving
//! k-space with the field's spectrum.
//!
//! # References
//! - J. G. Sled, A. P. Zijdenbos, A. C. Evans, "A nonparametric method for automatic correction
//!   of intensity nonuniformity in MRI data", IEEE TMI 17(1), 1998.
//! - N. J. Tustison et al., "N4ITK: improved N3 bias correction", IEEE TMI 29(6), 2010.
//! - F. Pérez-García et al., "TorchIO", CMPB 208, 2021 (`RandomBiasField`).

use crate::kspace::check_finite;
use crate::{MriError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};
use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};

artefact_core::choice! {
    /// Shape model of the log-field.
    pub enum BiasMode {
        Polynomial = "polynomial",
        Grid = "grid",
    }
}

/// Parameters of [`BiasField`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasFieldParams {
    pub mode: BiasMode,
    /// Polynomial order (mode `polynomial`).
    pub order: usize,
    /// Control points per axis (mode `grid`, ≥ 2).
    pub grid: usize,
    /// Polynomial: `(order+1)(order+2)/2` coefficients; grid: `grid²` control values (row major).
    pub coefficients: Vec<f64>,
    /// Max/min of the field over the image (≥ 1); `None` = raw `exp(L)`.
    pub range: Option<f64>,
}

/// Smooth multiplicative bias field.
pub struct BiasField;

artefact_core::params! {
    /// The recipe parameters of [`BiasField`] (the table; the record is [`BiasFieldParams`],
    /// with the coefficients drawn).
    pub struct BiasFieldKnobs {
        /// log-field model: polynomial (TorchIO-style) or grid (cubic B-spline of a coarse grid)
        pub mode: BiasMode = choice(BiasMode::Polynomial),
        /// polynomial order
        pub order: usize = int(3, [0, 8]),
        /// control points per axis (grid mode)
        pub grid: usize = int(4, [2, 32]),
        /// each coefficient / control value is uniform in [−c, c] (shape only; the strength
        /// is set by `range`)
        pub coefficients: f64 = float(0.5, [0.0, 10.0]),
        /// max/min of the field over the image (1 = no bias)
        pub range: f64 = float(1.5, [1.0, 100.0], "ratio"),
    }
}

static INFO: OpInfo = OpInfo {
    name: "mri.bias_field",
    modality: "MR",
    doc: "Smooth multiplicative intensity non-uniformity exp(polynomial or B-spline) with a given \
          max/min ratio over the image.",
    params: BiasFieldKnobs::PARAMS,
};

fn perr(param: &'static str, reason: String) -> MriError {
    MriError::Param { param, reason }
}

/// Pixel-centre coordinates normalised to `[−1, 1]` (0 for a single pixel).
pub(crate) fn norm_coords(n: usize) -> Vec<f64> {
    let half = n as f64 / 2.0;
    let max = half - 0.5;
    (0..n)
        .map(|i| {
            if max > 0.0 {
                (i as f64 + 0.5 - half) / max
            } else {
                0.0
            }
        })
        .collect()
}

/// Uniform cubic B-spline basis weights of the 4 nodes around `t` (`t` in node units).
fn bspline_weights(f: f64) -> [f64; 4] {
    let f2 = f * f;
    let f3 = f2 * f;
    [
        (1.0 - f).powi(3) / 6.0,
        (3.0 * f3 - 6.0 * f2 + 4.0) / 6.0,
        (-3.0 * f3 + 3.0 * f2 + 3.0 * f + 1.0) / 6.0,
        f3 / 6.0,
    ]
}

/// Per-pixel B-spline taps along an axis of `n` pixels for `g` control nodes spanning it.
pub(crate) fn spline_taps(n: usize, g: usize) -> Vec<([usize; 4], [f64; 4])> {
    (0..n)
        .map(|i| {
            let t = if n > 1 {
                i as f64 / (n - 1) as f64 * (g - 1) as f64
            } else {
                0.0
            };
            let k = (t.floor() as i64).min(g as i64 - 2).max(0);
            let f = t - k as f64;
            let w = bspline_weights(f);
            let idx = [k - 1, k, k + 1, k + 2].map(|j| j.clamp(0, g as i64 - 1) as usize);
            (idx, w)
        })
        .collect()
}

impl BiasFieldParams {
    fn validate(&self) -> Result<()> {
        let want = match self.mode {
            BiasMode::Polynomial => (self.order + 1) * (self.order + 2) / 2,
            BiasMode::Grid => {
                if self.grid < 2 {
                    return Err(perr(
                        "grid",
                        format!("{} control points; need ≥ 2", self.grid),
                    ));
                }
                self.grid * self.grid
            }
        };
        if self.order > 16 {
            return Err(perr("order", format!("{} is above 16", self.order)));
        }
        if self.coefficients.len() != want {
            return Err(perr(
                "coefficients",
                format!(
                    "{} values given, the model needs {want}",
                    self.coefficients.len()
                ),
            ));
        }
        if !self.coefficients.iter().all(|c| c.is_finite()) {
            return Err(perr("coefficients", "not finite".into()));
        }
        if let Some(r) = self.range {
            if !(r.is_finite() && r >= 1.0) {
                return Err(perr("range", format!("{r} must be finite and ≥ 1")));
            }
        }
        Ok(())
    }

    /// The log-field `L` on a `(rows, cols)` grid (before range normalisation).
    pub fn log_field(&self, shape: (usize, usize)) -> Result<Array2<f64>> {
        let mut out = Vec::with_capacity(shape.0 * shape.1);
        self.for_each_log_row(shape, |_, row| out.extend_from_slice(row))?;
        Ok(Array2::from_shape_vec(shape, out).expect("rows × cols values"))
    }

    /// Calls `f(i, row)` with the log-field of each row `i` in order (the values of
    /// [`Self::log_field`], one row at a time in a reused buffer).
    fn for_each_log_row(
        &self,
        shape: (usize, usize),
        mut f: impl FnMut(usize, &[f64]),
    ) -> Result<()> {
        self.validate()?;
        let (n0, n1) = shape;
        let mut row = vec![0.0f64; n1];
        match self.mode {
            BiasMode::Polynomial => {
                let (u, v) = (norm_coords(n0), norm_coords(n1));
                let o = self.order;
                // w[a][j] = Σ_b c_ab v_j^b
                let mut w = vec![vec![0.0; n1]; o + 1];
                let mut idx = 0;
                for (a, wa) in w.iter_mut().enumerate() {
                    for b in 0..=(o - a) {
                        let c = self.coefficients[idx];
                        idx += 1;
                        for (x, &vj) in wa.iter_mut().zip(v.iter()) {
                            *x += c * vj.powi(b as i32);
                        }
                    }
                }
                // L = Σ_a u_i^a·w_a[j], summed from 0 in the order a = 0, 1, …, o
                for (i, &ui) in u.iter().enumerate() {
                    poly_row(&w, ui, &mut row);
                    f(i, &row);
                }
            }
            BiasMode::Grid => {
                let g = self.grid;
                let (tr, tc) = (spline_taps(n0, g), spline_taps(n1, g));
                // rows first: tmp[r][j] for every control row r
                let c = &self.coefficients;
                let tmp: Vec<Vec<f64>> = (0..g)
                    .map(|r| {
                        tc.iter()
                            .map(|(idx, w)| (0..4).map(|t| w[t] * c[r * g + idx[t]]).sum())
                            .collect()
                    })
                    .collect();
                for (i, (idx, w)) in tr.iter().enumerate() {
                    for (j, s) in row.iter_mut().enumerate() {
                        *s = (0..4).map(|t| w[t] * tmp[idx[t]][j]).sum();
                    }
                    f(i, &row);
                }
            }
        }
        Ok(())
    }

    /// The multiplicative field `b` on a `(rows, cols)` grid, range-normalised over the whole
    /// grid (see [`Self::field_on`]).
    pub fn field(&self, shape: (usize, usize)) -> Result<Array2<f32>> {
        self.field_on(shape, None)
    }

    /// The multiplicative field `b` on a `(rows, cols)` grid, range-normalised over the pixels
    /// where `support` is true (row-major, one flag per pixel; `None` or no true flag: all).
    /// This is the field [`BiasField::apply`] multiplies with, given the image's support.
    pub fn field_on(&self, shape: (usize, usize), support: Option<&[bool]>) -> Result<Array2<f32>> {
        let l = self.log_field(shape)?;
        let (lo, hi) = support_min_max(l.as_slice().expect("standard layout"), support);
        Ok(match self.range {
            Some(r) => {
                let spread = hi - lo;
                if spread > 1e-12 {
                    let mid = 0.5 * (hi + lo);
                    let k = r.ln() / spread;
                    l.mapv(|v| (((v - mid) * k) as f32).exp())
                } else {
                    Array2::ones(shape)
                }
            }
            None => l.mapv(|v| (v as f32).exp()),
        })
    }
}

/// Min and max of `v` over the flagged entries (all entries without flags or with none set).
fn support_min_max(v: &[f64], support: Option<&[bool]>) -> (f64, f64) {
    match support {
        Some(m) if m.len() == v.len() && m.iter().any(|&f| f) => v
            .iter()
            .zip(m)
            .filter(|(_, &f)| f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (&x, _)| {
                (a.min(x), b.max(x))
            }),
        _ => min_max(v),
    }
}

/// The object of an image for range normalisation: pixels above its Otsu threshold (`None`
/// for a constant image: the whole grid).
pub fn object_support(image: &Image) -> Option<Vec<bool>> {
    let t = image.otsu_threshold()?;
    Some(image.data.iter().map(|&v| v > t).collect())
}

/// One row of the polynomial log-field: `row[j] = Σ_a uⁱᵃ·w[a][j]`, summed from 0 in the order
/// `a = 0, 1, …` (the powers by repeated multiplication; tested against the first version of
/// the log-field, bit for bit).
fn poly_row(w: &[Vec<f64>], ui: f64, row: &mut [f64]) {
    row.fill(0.0);
    let mut p = 1.0;
    for wa in w {
        for (s, &x) in row.iter_mut().zip(wa.iter()) {
            *s += p * x;
        }
        p *= ui;
    }
}

/// Min and max of `l[i]` over `x[i] > t` (`(∞, −∞)` if none) and the count of such `i`:
/// [`support_min_max`] with the flags `x > t` of [`object_support`], without building them.
/// Lanes of compare-and-select (SSE2 `minpd`/`maxpd`, which LLVM does not produce from the
/// portable fold); min and max are exact, so the result is the fold's (up to the sign of a
/// zero, which cancels in the mid-range and the spread; a NaN never wins either way).
#[cfg(target_arch = "x86_64")]
fn masked_min_max(l: &[f64], x: &[f32], t: f32) -> (f64, f64, usize) {
    use std::arch::x86_64::*;
    assert_eq!(l.len(), x.len());
    let n4 = x.len() / 4 * 4;
    let (mut lo, mut hi) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
    let mut count = [0u32; 4];
    // SAFETY: SSE2 is part of the x86-64 baseline; the loads read l[i..i + 4] and x[i..i + 4]
    // for i + 4 ≤ n4 ≤ len, the stores write 2 f64 into each half of 4-element arrays and
    // 4 u32 into a 4-element array
    unsafe {
        let tv = _mm_set1_ps(t);
        let (inf, ninf) = (_mm_set1_pd(f64::INFINITY), _mm_set1_pd(f64::NEG_INFINITY));
        let (mut lo0, mut lo1, mut hi0, mut hi1) = (inf, inf, ninf, ninf);
        let mut c4 = _mm_setzero_si128();
        for (xc, lc) in x[..n4].chunks_exact(4).zip(l[..n4].chunks_exact(4)) {
            let m = _mm_cmpgt_ps(_mm_loadu_ps(xc.as_ptr()), tv);
            // a mask lane is −1 as an integer (a row has far fewer than 2³² pixels)
            c4 = _mm_sub_epi32(c4, _mm_castps_si128(m));
            // the 32-bit lane masks widened to 64 bits
            let (m0, m1) = (
                _mm_castps_pd(_mm_unpacklo_ps(m, m)),
                _mm_castps_pd(_mm_unpackhi_ps(m, m)),
            );
            let (a0, a1) = (_mm_loadu_pd(lc.as_ptr()), _mm_loadu_pd(lc.as_ptr().add(2)));
            let sel = |m: __m128d, a: __m128d, other: __m128d| {
                _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, other))
            };
            // minpd(a, m) = a < m ? a : m
            lo0 = _mm_min_pd(sel(m0, a0, inf), lo0);
            lo1 = _mm_min_pd(sel(m1, a1, inf), lo1);
            hi0 = _mm_max_pd(sel(m0, a0, ninf), hi0);
            hi1 = _mm_max_pd(sel(m1, a1, ninf), hi1);
        }
        _mm_storeu_pd(lo.as_mut_ptr(), lo0);
        _mm_storeu_pd(lo.as_mut_ptr().add(2), lo1);
        _mm_storeu_pd(hi.as_mut_ptr(), hi0);
        _mm_storeu_pd(hi.as_mut_ptr().add(2), hi1);
        _mm_storeu_si128(count.as_mut_ptr().cast(), c4);
    }
    let mut n = count.iter().map(|&c| c as usize).sum::<usize>();
    let (mut a, mut b) = (f64::INFINITY, f64::NEG_INFINITY);
    for k in 0..4 {
        a = a.min(lo[k]);
        b = b.max(hi[k]);
    }
    for (&v, &xv) in l[n4..].iter().zip(&x[n4..]) {
        if xv > t {
            a = a.min(v);
            b = b.max(v);
            n += 1;
        }
    }
    (a, b, n)
}

/// Portable [`masked_min_max`].
#[cfg(not(target_arch = "x86_64"))]
fn masked_min_max(l: &[f64], x: &[f32], t: f32) -> (f64, f64, usize) {
    l.iter().zip(x).filter(|(_, &xv)| xv > t).fold(
        (f64::INFINITY, f64::NEG_INFINITY, 0),
        |(a, b, n), (&v, _)| (a.min(v), b.max(v), n + 1),
    )
}

/// Minimum and maximum of finite values with eight independent accumulators (min/max are
/// exact, so the result equals a sequential fold).
fn min_max(v: &[f64]) -> (f64, f64) {
    let mut lo = [f64::INFINITY; 8];
    let mut hi = [f64::NEG_INFINITY; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    let mut lo = lo.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for &x in chunks.remainder() {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo, hi)
}

impl Operator for BiasField {
    type Params = BiasFieldParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<BiasFieldParams> {
        let BiasFieldKnobs {
            mode,
            order,
            grid,
            coefficients: c,
            range,
        } = BiasFieldKnobs::sample(spec, rng)?;
        let n = match mode {
            BiasMode::Polynomial => (order + 1) * (order + 2) / 2,
            BiasMode::Grid => grid * grid,
        };
        let coefficients = (0..n)
            .map(|_| {
                if c > 0.0 {
                    rng.random_range(-c..=c)
                } else {
                    0.0
                }
            })
            .collect();
        Ok(BiasFieldParams {
            mode,
            order,
            grid,
            coefficients,
            range: Some(range),
        })
    }

    fn apply(params: &BiasFieldParams, image: &Image) -> Result<Image> {
        check_finite(image)?;
        let Some(r) = params.range else {
            let b = params.field(image.shape())?;
            return Ok(image.with_data(&image.data * &b)?);
        };
        // fused `x · field`: the same f32 factor as [`BiasFieldParams::field`], evaluated only
        // where the pixel is non-zero (the field is finite and positive there, so a zero pixel
        // stays exactly zero)
        let l = params.log_field(image.shape())?;
        let l = l.as_slice().expect("standard layout");
        let mut out = image.data.as_standard_layout().into_owned();
        let o = out.as_slice_mut().expect("standard layout");
        // the range over the object (`object_support`), or over all pixels if it is empty
        let (lo, hi) = match image.otsu_threshold() {
            Some(t) => match masked_min_max(l, o, t) {
                (lo, hi, n) if n > 0 => (lo, hi),
                _ => min_max(l),
            },
            None => min_max(l),
        };
        let spread = hi - lo;
        if spread <= 1e-12 {
            return Ok(image.clone());
        }
        let mid = 0.5 * (hi + lo);
        let k = r.ln() / spread;
        for (x, &v) in o.iter_mut().zip(l) {
            if *x != 0.0 {
                *x *= (((v - mid) * k) as f32).exp();
            }
        }
        Ok(image.with_data(out)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polynomial log-field as first written: a zeroed array, then `Σ_a uⁱᵃ·w_a` added pass
    /// by pass (the reference for the row evaluation).
    fn poly_log_field_reference(p: &BiasFieldParams, (n0, n1): (usize, usize)) -> Array2<f64> {
        let (u, v) = (norm_coords(n0), norm_coords(n1));
        let o = p.order;
        let mut w = vec![vec![0.0; n1]; o + 1];
        let mut idx = 0;
        for (a, wa) in w.iter_mut().enumerate() {
            for b in 0..=(o - a) {
                let c = p.coefficients[idx];
                idx += 1;
                for (x, &vj) in wa.iter_mut().zip(v.iter()) {
                    *x += c * vj.powi(b as i32);
                }
            }
        }
        let mut out = Array2::<f64>::zeros((n0, n1));
        for ((i, j), s) in out.indexed_iter_mut() {
            let mut p = 1.0;
            for wa in &w {
                *s += p * wa[j];
                p *= u[i];
            }
        }
        out
    }

    fn poly(order: usize) -> BiasFieldParams {
        let n = (order + 1) * (order + 2) / 2;
        BiasFieldParams {
            mode: BiasMode::Polynomial,
            order,
            grid: 4,
            coefficients: (0..n).map(|i| (i as f64 * 0.37).sin()).collect(),
            range: Some(2.0),
        }
    }

    /// The row evaluation of the log-field gives the reference's bits (row lengths with and
    /// without vector tails).
    #[test]
    fn poly_rows_match_the_reference_bit_for_bit() {
        for order in [0usize, 1, 3, 5] {
            let p = poly(order);
            for shape in [(1, 1), (7, 13), (33, 256), (256, 257)] {
                let reference = poly_log_field_reference(&p, shape);
                assert_eq!(p.log_field(shape).unwrap(), reference, "{order} {shape:?}");
                let (u, v) = (norm_coords(shape.0), norm_coords(shape.1));
                let mut w = vec![vec![0.0; shape.1]; order + 1];
                let mut idx = 0;
                for (a, wa) in w.iter_mut().enumerate() {
                    for b in 0..=(order - a) {
                        for (x, &vj) in wa.iter_mut().zip(v.iter()) {
                            *x += p.coefficients[idx] * vj.powi(b as i32);
                        }
                        idx += 1;
                    }
                }
                for (i, &ui) in u.iter().enumerate() {
                    let mut row = vec![f64::NAN; shape.1];
                    poly_row(&w, ui, &mut row);
                    let bits = |r: &[f64]| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&row), bits(reference.row(i).as_slice().unwrap()));
                }
            }
        }
    }

    /// The masked range equals `support_min_max` over `object_support`, including an empty
    /// object and lengths with a tail.
    #[test]
    fn masked_range_matches_the_support_fold() {
        let l: Vec<f64> = (0..1003)
            .map(|i| ((i * 7919) % 1009) as f64 * 0.01 - 3.0)
            .collect();
        let x: Vec<f32> = (0..1003).map(|i| ((i * 31) % 17) as f32).collect();
        for n in [0usize, 1, 3, 4, 5, 100, 1003] {
            for t in [-1.0f32, 0.0, 8.5, 16.0, 100.0] {
                let flags: Vec<bool> = x[..n].iter().map(|&v| v > t).collect();
                let (lo, hi, c) = masked_min_max(&l[..n], &x[..n], t);
                assert_eq!(c, flags.iter().filter(|&&f| f).count());
                if c > 0 {
                    assert_eq!((lo, hi), support_min_max(&l[..n], Some(&flags)));
                } else {
                    assert_eq!((lo, hi), (f64::INFINITY, f64::NEG_INFINITY));
                }
            }
        }
    }
}
