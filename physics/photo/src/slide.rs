//! Shared building blocks of the slide artefacts of bright-field microscopy (tissue fold, air
//! bubble, debris, pen mark, thread, knife cut): optical-density compositing, smooth curves and
//! their distance fields, seeded value noise and bilinear resampling.
//!
//! # Model
//! Bright-field microscopy forms the image in transmission: every absorbing layer in the light
//! path multiplies the transmitted intensity by its transmittance `T = 10^(−ΔOD)`
//! (Beer–Lambert), i.e. optical densities of stacked layers **add**. An artefact that adds
//! material (ink, debris, a second tissue layer, a fibre) is therefore composited as
//! `I' = I · 10^(−ΔOD)` per channel ([`composite_od`]), never painted over the image.
//!
//! A layer that is out of the focal plane (dust on the coverslip, a fibre lying on top) is
//! seen through defocus: its transmittance *modulation* `1 − T` is blurred by the disc PSF of
//! the circle of confusion ([`blur_absorbance`]), so the absorbed fraction of light is
//! conserved and an opaque speck becomes a soft grey disc.
//!
//! Curves ([`Curve`]) are polylines sampled finely (≤ 1 px steps) from Catmull–Rom splines
//! through control points; [`Curve::field`] gives, for every pixel within a reach of the
//! curve, the signed distance, the arc length of the nearest point and the unit normal there.
//! Value noise ([`value_noise`]) is lattice noise with smoothstep interpolation whose lattice
//! values are a hash of `(seed, i, j)` — a pure function of position, independent of any
//! stream order or thread count.
//!
//! # Units
//! Positions and lengths in pixels, `(row, column)` order; optical density decadic.
//!
//! # References
//! - A. C. Ruifrok, D. A. Johnston, Anal. Quant. Cytol. Histol. 23(4), 2001 (OD additivity).
//! - E. Catmull, R. Rom, "A class of local interpolating splines", 1974.
//! - K. Perlin, "An image synthesizer", SIGGRAPH 1985 (lattice noise).

use crate::convolve::convolve_planes_f32_fft;
use crate::defocus::disc_psf;
use crate::{PhotoError, Result};
use artefact_core::RgbImage;
use ndarray::Array2;

/// Multiply the linear intensity of every field-of-view pixel by `10^(−od[k])` (per channel
/// `k`); pixels outside the field are left bit for bit. `od` planes must have the image's shape.
pub fn composite_od(img: &RgbImage, od: &[Array2<f64>; 3]) -> Result<RgbImage> {
    let (rows, cols) = img.shape();
    if od.iter().any(|p| p.dim() != (rows, cols)) {
        return Err(PhotoError::Input(format!(
            "optical-density layer does not match the {rows}×{cols} image"
        )));
    }
    attenuated(img, |k| od[k].iter().copied())
}

/// `img` with every field-of-view pixel of channel `k` multiplied by `10^(−d)`, `d` from
/// `od_of(k)` in pixel order (row-major); `d = 0` and pixels outside the field are left bit
/// for bit.
fn attenuated<I: Iterator<Item = f64>>(
    img: &RgbImage,
    od_of: impl Fn(usize) -> I,
) -> Result<RgbImage> {
    let mut out = img.data.clone();
    for (k, mut plane) in out.outer_iter_mut().enumerate() {
        let pixels = plane.iter_mut().zip(od_of(k));
        // 10^(−d) as exp(−d·ln 10): equal to `powf` to an ulp or two of f64
        let attenuate = |(v, d): (&mut f32, f64)| {
            if d != 0.0 {
                *v = (*v as f64 * (-d * std::f64::consts::LN_10).exp()) as f32;
            }
        };
        match &img.fov {
            None => pixels.for_each(attenuate),
            Some(m) => pixels
                .zip(m.iter())
                .filter(|(_, &inside)| inside)
                .for_each(|(p, _)| attenuate(p)),
        }
    }
    Ok(img.with_data(out)?)
}

/// [`composite_od`] of the layer `density · ink[k]` in channel `k` (one plane instead of
/// three; the same bytes as compositing the three products).
pub fn composite_od_scaled(
    img: &RgbImage,
    density: &Array2<f64>,
    ink: [f64; 3],
) -> Result<RgbImage> {
    if density.dim() != img.shape() {
        return Err(PhotoError::Input(format!(
            "optical-density layer does not match the {:?} image",
            img.shape()
        )));
    }
    attenuated(img, |k| density.iter().map(move |s| s * ink[k]))
}

/// Defocus of an absorbing layer given as optical density: the absorbance `1 − 10^(−od)` is
/// convolved with the disc PSF of `diameter_px` (zero outside the frame: no layer there) and
/// converted back to optical density. Diameter 0 returns the layer unchanged.
pub fn blur_absorbance(od: &Array2<f64>, diameter_px: f64) -> Result<Array2<f64>> {
    if diameter_px <= 0.0 {
        return Ok(od.clone());
    }
    let psf = disc_psf(diameter_px)?;
    let a = od.mapv(absorbance);
    let b = convolve_planes_f32_fft(&[a.view()], &psf).remove(0);
    Ok(b.mapv(density_of_absorbance))
}

/// Absorbance `1 − 10^(−d)` of an optical density (0 without a `powf` where there is no
/// layer: `d = 0` gives exactly 0 either way).
#[inline]
fn absorbance(d: f64) -> f64 {
    if d == 0.0 {
        0.0
    } else {
        1.0 - 10f64.powf(-d)
    }
}

/// Optical density `−log10(1 − a)` of an absorbance clamped to `[0, 1 − 1e-12]` (−0 without a
/// `log10` where there is no layer, the value `log10` gives there).
#[inline]
fn density_of_absorbance(a: f64) -> f64 {
    let a = a.clamp(0.0, 1.0 - 1e-12);
    if a == 0.0 {
        -0.0
    } else {
        -(1.0 - a).log10()
    }
}

/// [`blur_absorbance`] of three planes with one PSF (one kernel transform, planes in pairs).
pub fn blur_absorbance3(od: [&Array2<f64>; 3], diameter_px: f64) -> Result<[Array2<f64>; 3]> {
    if diameter_px <= 0.0 {
        return Ok(od.map(|o| o.clone()));
    }
    let psf = disc_psf(diameter_px)?;
    let a = od.map(|o| o.mapv(absorbance));
    blurred_densities(&a, &psf)
}

/// [`blur_absorbance3`] of the three layers `density · ink[k]` (the same bytes, without the
/// three product planes).
pub fn blur_absorbance_tinted(
    density: &Array2<f64>,
    ink: [f64; 3],
    diameter_px: f64,
) -> Result<[Array2<f64>; 3]> {
    if diameter_px <= 0.0 {
        return Ok(std::array::from_fn(|k| density.mapv(|d| d * ink[k])));
    }
    let psf = disc_psf(diameter_px)?;
    let a: [Array2<f64>; 3] = std::array::from_fn(|k| density.mapv(|d| absorbance(d * ink[k])));
    blurred_densities(&a, &psf)
}

/// The absorbance planes `a` blurred by `psf`, back as optical densities (in place).
fn blurred_densities(a: &[Array2<f64>; 3], psf: &crate::Psf) -> Result<[Array2<f64>; 3]> {
    let b = convolve_planes_f32_fft(&[a[0].view(), a[1].view(), a[2].view()], psf);
    let mut it = b.into_iter().map(|mut b| {
        b.mapv_inplace(density_of_absorbance);
        b
    });
    Ok(std::array::from_fn(|_| it.next().expect("three planes")))
}

/// Smoothstep from 0 at `e0` to 1 at `e1`.
#[inline]
pub fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    if e1 == e0 {
        return if x < e0 { 0.0 } else { 1.0 };
    }
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of `(seed, i, j)` mapped to `[−1, 1)`.
pub fn lattice(seed: u64, i: i64, j: i64) -> f64 {
    let h = splitmix(seed ^ splitmix((i as u64).wrapping_mul(0x1656_67B1) ^ splitmix(j as u64)));
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// Value noise at `(y, x)` with lattice cell `cell` (pixels), in `[−1, 1]`, summed over
/// `octaves` (each half the cell and half the amplitude, normalised by the total amplitude).
pub fn value_noise(seed: u64, y: f64, x: f64, cell: f64, octaves: usize) -> f64 {
    let (mut sum, mut amp, mut total, mut cell) = (0.0, 1.0, 0.0, cell.max(1e-3));
    for o in 0..octaves.max(1) {
        let s = seed.wrapping_add(o as u64 * 0x51_7CC1);
        let (u, v) = (y / cell, x / cell);
        let (i, j) = (floor_positive(u), floor_positive(v));
        let (fu, fv) = (u - i, v - j);
        let (su, sv) = (fu * fu * (3.0 - 2.0 * fu), fv * fv * (3.0 - 2.0 * fv));
        let (i, j) = (i as i64, j as i64);
        let a = lattice(s, i, j) * (1.0 - sv) + lattice(s, i, j + 1) * sv;
        let b = lattice(s, i + 1, j) * (1.0 - sv) + lattice(s, i + 1, j + 1) * sv;
        sum += amp * (a * (1.0 - su) + b * su);
        total += amp;
        amp *= 0.5;
        cell *= 0.5;
    }
    sum / total
}

/// `v.floor()`, by a cast where that is exact (`0 < v < 2⁵²`: truncation is the floor; the
/// library `floor` is a call on the baseline x86-64 target).
#[inline]
pub(crate) fn floor_positive(v: f64) -> f64 {
    if v > 0.0 && v < 4_503_599_627_370_496.0 {
        (v as u64) as f64
    } else {
        v.floor()
    }
}

/// [`value_noise`] along one row `y`, the lattice values of each octave's current cell kept
/// from column to column: the same values bit for bit, a quarter of the hashes or fewer when
/// the columns come in order.
pub(crate) struct RowNoise {
    octaves: Vec<RowOctave>,
}

struct RowOctave {
    cell: f64,
    amp: f64,
    /// lattice row, its seed and smoothstep weight
    i: i64,
    s: u64,
    su: f64,
    /// lattice column of `l`, and `l` = the values at (i, j), (i, j+1), (i+1, j), (i+1, j+1)
    j: Option<i64>,
    l: [f64; 4],
}

impl RowNoise {
    pub(crate) fn new(seed: u64, y: f64, cell: f64, octaves: usize) -> RowNoise {
        let (mut amp, mut cell) = (1.0, cell.max(1e-3));
        let octaves = (0..octaves.max(1))
            .map(|o| {
                let s = seed.wrapping_add(o as u64 * 0x51_7CC1);
                let u = y / cell;
                let i = floor_positive(u);
                let fu = u - i;
                let oct = RowOctave {
                    cell,
                    amp,
                    i: i as i64,
                    s,
                    su: fu * fu * (3.0 - 2.0 * fu),
                    j: None,
                    l: [0.0; 4],
                };
                amp *= 0.5;
                cell *= 0.5;
                oct
            })
            .collect();
        RowNoise { octaves }
    }

    /// `value_noise(seed, y, x, cell, octaves)` of this row.
    pub(crate) fn at(&mut self, x: f64) -> f64 {
        let (mut sum, mut total) = (0.0, 0.0);
        for o in &mut self.octaves {
            let v = x / o.cell;
            let j = floor_positive(v);
            let fv = v - j;
            let sv = fv * fv * (3.0 - 2.0 * fv);
            let j = j as i64;
            let (s, i) = (o.s, o.i);
            match o.j {
                Some(k) if k == j => {}
                Some(k) if k + 1 == j => {
                    o.l = [
                        o.l[1],
                        lattice(s, i, j + 1),
                        o.l[3],
                        lattice(s, i + 1, j + 1),
                    ];
                }
                _ => {
                    o.l = [
                        lattice(s, i, j),
                        lattice(s, i, j + 1),
                        lattice(s, i + 1, j),
                        lattice(s, i + 1, j + 1),
                    ];
                }
            }
            o.j = Some(j);
            let l = o.l;
            let a = l[0] * (1.0 - sv) + l[1] * sv;
            let b = l[2] * (1.0 - sv) + l[3] * sv;
            sum += o.amp * (a * (1.0 - o.su) + b * o.su);
            total += o.amp;
        }
        sum / total
    }
}

/// The four neighbours `[r0, c0, r1, c1]` of `(y, x)` clamped to the frame, and the weights
/// `(fy, fx)` of the far ones (pixel centres at integers).
#[inline]
fn corners(img: &RgbImage, y: f64, x: f64) -> ([usize; 4], f64, f64) {
    let (rows, cols) = img.shape();
    let y = y.clamp(0.0, (rows - 1) as f64);
    let x = x.clamp(0.0, (cols - 1) as f64);
    // (y, x ≥ 0 or NaN: the cast truncates, as `floor` then the cast would; through i64,
    // exact below 2⁶³, the back conversion is one instruction)
    let (yi, xi) = (y as i64, x as i64);
    let (r0, c0) = (yi as usize, xi as usize);
    let (r1, c1) = ((r0 + 1).min(rows - 1), (c0 + 1).min(cols - 1));
    ([r0, c0, r1, c1], y - yi as f64, x - xi as f64)
}

/// Bilinear sample of channel `k` at `(y, x)` (pixel centres at integers), clamped to the
/// frame. Returns `None` when the four neighbours are not all in the field of view.
pub fn bilinear(img: &RgbImage, k: usize, y: f64, x: f64) -> Option<f64> {
    let ([r0, c0, r1, c1], fy, fx) = corners(img, y, x);
    for (r, c) in [(r0, c0), (r0, c1), (r1, c0), (r1, c1)] {
        if !img.in_fov(r, c) {
            return None;
        }
    }
    let v = |r: usize, c: usize| img.data[[k, r, c]] as f64;
    Some(
        (v(r0, c0) * (1.0 - fx) + v(r0, c1) * fx) * (1.0 - fy)
            + (v(r1, c0) * (1.0 - fx) + v(r1, c1) * fx) * fy,
    )
}

/// [`bilinear`] of the three channels at once (one set of weights and field-of-view checks;
/// the same values bit for bit).
#[inline]
pub fn bilinear3(img: &RgbImage, y: f64, x: f64) -> Option<[f64; 3]> {
    let (rows, cols) = img.shape();
    let ([r0, c0, r1, c1], fy, fx) = corners(img, y, x);
    if let Some(m) = &img.fov {
        if !(m[[r0, c0]] && m[[r0, c1]] && m[[r1, c0]] && m[[r1, c1]]) {
            return None;
        }
    }
    let plane = rows * cols;
    let Some(data) = img.data.as_slice() else {
        return Some(std::array::from_fn(|k| {
            let v = |r: usize, c: usize| img.data[[k, r, c]] as f64;
            (v(r0, c0) * (1.0 - fx) + v(r0, c1) * fx) * (1.0 - fy)
                + (v(r1, c0) * (1.0 - fx) + v(r1, c1) * fx) * fy
        }));
    };
    let (i00, i01, i10, i11) = (
        r0 * cols + c0,
        r0 * cols + c1,
        r1 * cols + c0,
        r1 * cols + c1,
    );
    // plane by plane (one bounds check per plane; the same expression)
    let mix = |k: usize| {
        let p = &data[k * plane..(k + 1) * plane];
        let (v00, v01, v10, v11) = (p[i00] as f64, p[i01] as f64, p[i10] as f64, p[i11] as f64);
        (v00 * (1.0 - fx) + v01 * fx) * (1.0 - fy) + (v10 * (1.0 - fx) + v11 * fx) * fy
    };
    Some([mix(0), mix(1), mix(2)])
}

/// A polyline in pixel coordinates `(row, column)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub points: Vec<[f64; 2]>,
}

/// Per-pixel geometry relative to a curve (see [`Curve::field`]); pixels beyond the reach
/// hold `dist = +∞`.
#[derive(Clone, Debug)]
pub struct CurveField {
    /// Signed distance (positive on the side of the left-hand normal).
    pub dist: Array2<f64>,
    /// Arc length along the curve of the nearest point.
    pub arc: Array2<f64>,
    /// Unit normal `(row, column)` at the nearest point.
    pub normal: Array2<[f64; 2]>,
}

/// A segment of a simplified curve (see [`Curve::field`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    a: [f64; 2],
    b: [f64; 2],
    /// unit direction
    t: [f64; 2],
    len: f64,
    /// arc lengths of `a` and `b` along the curve
    s_a: f64,
    s_b: f64,
    /// how far before `a` and beyond `b` (along `t`) the segment can be a pixel's nearest
    caps: [f64; 2],
}

/// The segments of a curve at a reach ([`Curve::segments`]).
pub(crate) struct Segments {
    segs: Vec<Segment>,
    reach: f64,
}

/// A window of a curve's field in row-major buffers that are reused from window to window
/// (`Segments::fill`): element `i · shape[1] + j` is frame pixel `origin + (i, j)`.
#[derive(Default)]
pub(crate) struct FieldStrip {
    pub(crate) dist: Vec<f64>,
    pub(crate) arc: Vec<f64>,
    pub(crate) normal: Vec<[f64; 2]>,
    seg: Vec<u32>,
}

impl Segments {
    /// The field of the `shape` pixels starting at frame pixel `origin` into `out` (the values
    /// of [`Curve::field`] there, bit for bit).
    pub(crate) fn fill(&self, origin: [usize; 2], shape: [usize; 2], out: &mut FieldStrip) {
        let [rows, cols] = shape;
        let [or, oc] = origin;
        let reach = self.reach;
        let n = rows * cols;
        let FieldStrip {
            dist,
            arc,
            normal,
            seg,
        } = out;
        dist.clear();
        dist.resize(n, f64::INFINITY);
        arc.clear();
        arc.resize(n, 0.0);
        normal.clear();
        normal.resize(n, [0.0, 0.0]);
        seg.clear();
        seg.resize(n, u32::MAX);
        // during the scan `dist` holds the squared distance of the nearest segment so far
        // (negative on the right-hand side), `seg` that segment; the distance itself
        // (`hypot`) is taken once per pixel at the end, and during the scan only where the
        // squared distances are too close to order (within a relative 1e-9, far above their
        // rounding): the same pixels, segments and values as taking `hypot` at every update
        let segs = &self.segs;
        // the offset of pixel (r, c) from the nearest point of segment `k`
        let offset = |k: usize, r: usize, c: usize| {
            let Segment { a, t, len, .. } = segs[k];
            let p = [r as f64 - a[0], c as f64 - a[1]];
            let u = (p[0] * t[0] + p[1] * t[1]).clamp(0.0, len);
            [p[0] - u * t[0], p[1] - u * t[1]]
        };
        let (fr, fc) = (or as f64, oc as f64);
        let reach2 = reach * reach * (1.0 + 1e-9);
        let sure_reach2 = reach * reach * (1.0 - 1e-9);
        for (k, sg) in segs.iter().enumerate() {
            let Segment {
                a,
                b,
                t,
                len,
                s_a,
                s_b,
                caps,
            } = *sg;
            let nrm = [t[1], -t[0]];
            let lo_r = (a[0].min(b[0]) - reach).floor().max(fr);
            let hi_r = (a[0].max(b[0]) + reach).ceil().min(fr + rows as f64 - 1.0);
            let lo_c = (a[1].min(b[1]) - reach).floor().max(fc);
            let hi_c = (a[1].max(b[1]) + reach).ceil().min(fc + cols as f64 - 1.0);
            if hi_r < lo_r || hi_c < lo_c {
                continue;
            }
            for r in lo_r as usize..=hi_r as usize {
                let py = r as f64 - a[0];
                let slab = [-caps[0], len + caps[1]];
                let (c0, c1) = capsule_columns(py, a[1], t, reach, slab, lo_c, hi_c);
                let row = (r - or) * cols;
                for c in c0..=c1 {
                    let p = [py, c as f64 - a[1]];
                    let u = (p[0] * t[0] + p[1] * t[1]).clamp(0.0, len);
                    let q = [p[0] - u * t[0], p[1] - u * t[1]];
                    let e2 = q[0] * q[0] + q[1] * q[1];
                    let i = row + c - oc;
                    let cur2 = dist[i].abs();
                    if e2 > reach2 || e2 > cur2 * (1.0 + 1e-9) {
                        continue;
                    }
                    let nearer = if e2 < cur2 * (1.0 - 1e-9) && e2 < sure_reach2 {
                        true
                    } else {
                        // too close to order by the squares: the distances themselves
                        let e = q[0].hypot(q[1]);
                        let cur = match seg[i] {
                            u32::MAX => f64::INFINITY,
                            b => {
                                let qb = offset(b as usize, r, c);
                                qb[0].hypot(qb[1])
                            }
                        };
                        e <= reach && e < cur
                    };
                    if nearer {
                        let side = q[0] * nrm[0] + q[1] * nrm[1];
                        dist[i] = if side < 0.0 { -e2 } else { e2 };
                        seg[i] = k as u32;
                        arc[i] = s_a + (s_b - s_a) * u / len;
                        normal[i] = nrm;
                    }
                }
            }
        }
        for (i, d) in dist.iter_mut().enumerate() {
            let k = seg[i];
            if k != u32::MAX {
                let q = offset(k as usize, or + i / cols, oc + i % cols);
                let e = q[0].hypot(q[1]);
                *d = if d.is_sign_negative() { -e } else { e };
            }
        }
    }
}

impl Curve {
    /// Catmull–Rom spline through `ctrl` (≥ 2 points), sampled every ≤ `step` pixels.
    pub fn catmull_rom(ctrl: &[[f64; 2]], step: f64) -> Result<Curve> {
        if ctrl.len() < 2 || ctrl.iter().flatten().any(|v| !v.is_finite()) {
            return Err(PhotoError::Input(
                "a curve needs at least two finite control points".into(),
            ));
        }
        let n = ctrl.len();
        let at = |i: isize| ctrl[i.clamp(0, n as isize - 1) as usize];
        let mut points = vec![ctrl[0]];
        for i in 0..n - 1 {
            let (p0, p1, p2, p3) = (
                at(i as isize - 1),
                at(i as isize),
                at(i as isize + 1),
                at(i as isize + 2),
            );
            let len = (p2[0] - p1[0]).hypot(p2[1] - p1[1]);
            let m = ((len / step.max(0.05)).ceil() as usize).clamp(1, 100_000);
            for s in 1..=m {
                let t = s as f64 / m as f64;
                let (t2, t3) = (t * t, t * t * t);
                points.push(std::array::from_fn(|k| {
                    0.5 * (2.0 * p1[k]
                        + (p2[k] - p0[k]) * t
                        + (2.0 * p0[k] - 5.0 * p1[k] + 4.0 * p2[k] - p3[k]) * t2
                        + (3.0 * p1[k] - p0[k] - 3.0 * p2[k] + p3[k]) * t3)
                }));
            }
        }
        Ok(Curve { points })
    }

    /// A line through `centre` at `angle_deg` (from the column axis, counter-clockwise as
    /// seen on screen) bent into a parabola of sagitta `bend` over `half_len` on each side,
    /// sampled every ≤ 1 px.
    pub fn bent_line(centre: [f64; 2], angle_deg: f64, bend: f64, half_len: f64) -> Result<Curve> {
        let a = angle_deg.to_radians();
        let t = [-a.sin(), a.cos()];
        let n = [-t[1], t[0]];
        let ctrl: Vec<[f64; 2]> = (0..=8)
            .map(|i| {
                let u = (i as f64 / 4.0 - 1.0) * half_len;
                let v = bend * (u / half_len).powi(2);
                [
                    centre[0] + u * t[0] + v * n[0],
                    centre[1] + u * t[1] + v * n[1],
                ]
            })
            .collect();
        Curve::catmull_rom(&ctrl, 1.0)
    }

    /// Total length in pixels.
    pub fn length(&self) -> f64 {
        self.points
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum()
    }

    /// Signed distance, arc length and normal of every pixel within `reach` pixels of the
    /// curve (nearest segment; the normal is the left-hand normal `(t_x, −t_y)` of the
    /// segment's direction `(t_y, t_x)` in `(row, column)` order).
    pub fn field(&self, rows: usize, cols: usize, reach: f64) -> CurveField {
        self.field_window([0, 0], [rows, cols], reach)
    }

    /// The frame's rows and columns `(r0, r1, c0, c1)` (half-open) that can lie within `reach`
    /// of the curve: its bounding box widened by `reach` and a pixel, clamped to the frame.
    pub fn window(&self, rows: usize, cols: usize, reach: f64) -> (usize, usize, usize, usize) {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &self.points {
            for a in 0..2 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        let span = |a: usize, n: usize| {
            let l = (lo[a] - reach - 1.0).floor().clamp(0.0, n as f64) as usize;
            let h = ((hi[a] + reach + 1.0).ceil() + 1.0).clamp(0.0, n as f64) as usize;
            (l, h.max(l))
        };
        let ((r0, r1), (c0, c1)) = (span(0, rows), span(1, cols));
        (r0, r1, c0, c1)
    }

    /// [`Curve::field`] of the `shape` pixels of the frame starting at `origin` (row, column):
    /// element `[i, j]` is the field of frame pixel `(origin[0] + i, origin[1] + j)`, bit for
    /// bit the value the full-frame field has there.
    pub fn field_window(&self, origin: [usize; 2], shape: [usize; 2], reach: f64) -> CurveField {
        let mut strip = FieldStrip::default();
        self.segments(reach).fill(origin, shape, &mut strip);
        let as2 = |v| Array2::from_shape_vec((shape[0], shape[1]), v).expect("rows × cols");
        CurveField {
            dist: as2(strip.dist),
            arc: as2(strip.arc),
            normal: Array2::from_shape_vec((shape[0], shape[1]), strip.normal)
                .expect("rows × cols"),
        }
    }

    /// The segments of the simplified polyline with what [`Curve::field`] needs of them, for
    /// filling any number of windows (`Segments::fill`) at `reach`.
    pub(crate) fn segments(&self, reach: f64) -> Segments {
        let verts = self.simplified(SIMPLIFY_TOLERANCE_PX);
        let mut segs: Vec<Segment> = Vec::with_capacity(verts.len());
        for w in verts.windows(2) {
            let ((a, s_a), (b, s_b)) = (w[0], w[1]);
            let d = [b[0] - a[0], b[1] - a[1]];
            let len = d[0].hypot(d[1]);
            if len == 0.0 {
                continue;
            }
            let t = [d[0] / len, d[1] / len];
            segs.push(Segment {
                a,
                b,
                t,
                len,
                s_a,
                s_b,
                caps: [reach, reach],
            });
        }
        // Trimmed caps. A pixel p whose projection on segment k lies more than m beyond its end
        // b (u > len + m) is at |p − b| from k. If the next segment starts at b with direction
        // t' and |p − b| ≤ reach, p's projection on it is v = (p − b)·t' ≥ m − reach·|t' − t|,
        // so with m = reach·|t' − t| + 1.5 (a little more for rounding) v ≥ 1 and the next
        // segment is nearer by at least min(1, len')² in squared distance: k is not the nearest
        // segment at p (nor tied with it), and skipping k there changes nothing — the nearest
        // (first on ties) segment of every pixel is still scanned. The same holds before the
        // start with the previous segment. Ends of the curve, short or disjoint neighbours and
        // huge reaches keep the full cap.
        if reach < 1e5 {
            for k in 0..segs.len() {
                let cap = |n: &Segment, shared: bool| {
                    if !shared || n.len < 0.01 {
                        return reach;
                    }
                    let turn = (n.t[0] - segs[k].t[0]).hypot(n.t[1] - segs[k].t[1]);
                    (reach * (1.0 + 1e-3) * turn + 1.5).min(reach)
                };
                let start = match k.checked_sub(1) {
                    Some(j) => cap(&segs[j], segs[j].b == segs[k].a),
                    None => reach,
                };
                let end = match segs.get(k + 1) {
                    Some(n) => cap(n, n.a == segs[k].b),
                    None => reach,
                };
                segs[k].caps = [start, end];
            }
        }
        Segments { segs, reach }
    }

    /// The vertices (with their arc lengths along the full polyline) of a Douglas–Peucker
    /// simplification: every dropped point lies within `tol` pixels of the kept chord.
    pub fn simplified(&self, tol: f64) -> Vec<([f64; 2], f64)> {
        let pts = &self.points;
        let n = pts.len();
        let mut arc = vec![0.0; n];
        for i in 1..n {
            arc[i] = arc[i - 1] + (pts[i][0] - pts[i - 1][0]).hypot(pts[i][1] - pts[i - 1][1]);
        }
        if n <= 2 {
            return (0..n).map(|i| (pts[i], arc[i])).collect();
        }
        let mut keep = vec![false; n];
        keep[0] = true;
        keep[n - 1] = true;
        let mut stack = vec![(0usize, n - 1)];
        while let Some((i, j)) = stack.pop() {
            if j <= i + 1 {
                continue;
            }
            let (a, b) = (pts[i], pts[j]);
            let d = [b[0] - a[0], b[1] - a[1]];
            let len = d[0].hypot(d[1]);
            let (mut worst, mut at) = (0.0, i);
            for (k, p) in pts.iter().enumerate().take(j).skip(i + 1) {
                let q = [p[0] - a[0], p[1] - a[1]];
                let e = if len == 0.0 {
                    q[0].hypot(q[1])
                } else {
                    let u = ((q[0] * d[0] + q[1] * d[1]) / len).clamp(0.0, len);
                    (q[0] - u * d[0] / len).hypot(q[1] - u * d[1] / len)
                };
                if e > worst {
                    worst = e;
                    at = k;
                }
            }
            if worst > tol {
                keep[at] = true;
                stack.push((i, at));
                stack.push((at, j));
            }
        }
        (0..n)
            .filter(|&i| keep[i])
            .map(|i| (pts[i], arc[i]))
            .collect()
    }
}

/// Largest distance (px) of a curve's sample points from the chords [`Curve::field`] uses.
pub const SIMPLIFY_TOLERANCE_PX: f64 = 0.02;

/// A smooth random stroke of `length` pixels: it starts at a uniform point of the central
/// `[0.1, 0.9]` of the frame with a uniform heading, and passes through `segments + 1`
/// control points `length/segments` apart, the heading turning by a normal
/// `N(0, curl_deg²)` at each; Catmull–Rom through them, sampled every ≤ 1 px.
pub fn random_stroke(
    rng: &mut artefact_core::SampleRng,
    rows: usize,
    cols: usize,
    length: f64,
    curl_deg: f64,
    segments: usize,
) -> Result<Curve> {
    use rand::Rng;
    use rand_distr::{Distribution, Normal};
    let turn = Normal::new(0.0, curl_deg.max(0.0).to_radians())
        .map_err(|e| PhotoError::param("curl_deg", e.to_string()))?;
    let mut p = [
        (0.1 + 0.8 * rng.random::<f64>()) * rows as f64,
        (0.1 + 0.8 * rng.random::<f64>()) * cols as f64,
    ];
    let mut heading = rng.random::<f64>() * std::f64::consts::TAU;
    let n = segments.max(1);
    let step = length / n as f64;
    let mut ctrl = vec![p];
    for _ in 0..n {
        heading += turn.sample(rng);
        p = [p[0] + step * heading.sin(), p[1] + step * heading.cos()];
        ctrl.push(p);
    }
    Curve::catmull_rom(&ctrl, 1.0)
}

/// A uniform draw in `[lo, hi)` from a hashed position (a pure function of its arguments).
pub fn uniform(seed: u64, i: i64, j: i64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * 0.5 * (lattice(seed, i, j) + 1.0)
}

/// Shorter side of an image in pixels (lengths given as fractions of it).
pub fn short_side(img: &RgbImage) -> f64 {
    let (r, c) = img.shape();
    r.min(c) as f64
}

/// Columns `(c0, c1)` (inclusive, within `[lo_c, hi_c]`; `c0 > c1` when none) of row offset
/// `py` from a segment's start `a` (column `a_col`, unit tangent `t`) that can lie within
/// `reach` of the segment's line and within the tangential slab `slab[0] ≤ p·t ≤ slab[1]`
/// (`[−reach, len + reach]` holds the whole capsule; trimmed caps are narrower), widened by a
/// pixel for rounding. A superset of those pixels: the exact test is the caller's.
fn capsule_columns(
    py: f64,
    a_col: f64,
    t: [f64; 2],
    reach: f64,
    slab: [f64; 2],
    lo_c: f64,
    hi_c: f64,
) -> (usize, usize) {
    let (mut lo, mut hi) = (lo_c, hi_c);
    // lo ≤ o + k·px ≤ hi for the perpendicular (p·n = py·t1 − px·t0) and the tangential slab
    for (o, k, s0, s1) in [
        (py * t[1], -t[0], -reach, reach),
        (py * t[0], t[1], slab[0], slab[1]),
    ] {
        if k.abs() < 1e-6 {
            if o < s0 - 1.0 || o > s1 + 1.0 {
                return (1, 0);
            }
            continue;
        }
        let (x0, x1) = ((s0 - o) / k, (s1 - o) / k);
        let (x0, x1) = if x0 <= x1 { (x0, x1) } else { (x1, x0) };
        lo = lo.max((a_col + x0 - 1.0).floor());
        hi = hi.min((a_col + x1 + 1.0).ceil());
    }
    if hi < lo {
        (1, 0)
    } else {
        (lo as usize, hi as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    /// The fast paths of the OD conversions against `powf`/`log10` on a fixed-seed sweep of
    /// OD 0–6: `exp(−d ln 10)` within `(2 + 2 d ln 10)` ulp of `10^(−d)` (the rounding of
    /// `d · ln 10`, amplified by the exponential), the composite within one f32 ulp; zero
    /// layers give the reference's exact zeros.
    #[test]
    fn od_fast_paths_match_powf_reference() {
        let mut z = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            z = splitmix(z);
            (z >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..100_000 {
            let d = next() * 6.0;
            let (fast, slow) = ((-d * std::f64::consts::LN_10).exp(), 10f64.powf(-d));
            let ulps = 2.0 + 2.0 * d * std::f64::consts::LN_10;
            assert!(
                (fast - slow).abs() <= ulps * f64::EPSILON * slow,
                "{d}: {fast} {slow}"
            );
            assert_eq!(absorbance(d), 1.0 - 10f64.powf(-d));
            let a = next();
            assert_eq!(
                density_of_absorbance(a),
                -(1.0 - a.clamp(0.0, 1.0 - 1e-12)).log10()
            );
        }
        assert_eq!(
            absorbance(0.0).to_bits(),
            (1.0 - 10f64.powf(-0.0)).to_bits()
        );
        assert_eq!(
            density_of_absorbance(0.0).to_bits(),
            (-(1.0f64).log10()).to_bits()
        );
        let img = RgbImage::new(
            Array3::from_shape_fn((3, 40, 50), |(k, r, c)| {
                0.05 + ((k * 7 + r * 3 + c) % 19) as f32 / 20.0
            }),
            [1.0, 1.0],
            Modality::Histopathology,
            Some(Array2::from_shape_fn((40, 50), |(r, c)| r + c > 10)),
        )
        .unwrap();
        let od: [Array2<f64>; 3] = std::array::from_fn(|_| {
            Array2::from_shape_simple_fn((40, 50), || {
                let v = next();
                if v < 0.3 {
                    0.0
                } else {
                    v * 3.0
                }
            })
        });
        let out = composite_od(&img, &od).unwrap();
        // one density plane times an ink: the bytes of the three product layers
        let ink = [0.9, 0.35, 1.7];
        let scaled = composite_od_scaled(&img, &od[0], ink).unwrap();
        let layers: [Array2<f64>; 3] = std::array::from_fn(|k| od[0].mapv(|d| d * ink[k]));
        assert_eq!(scaled.data, composite_od(&img, &layers).unwrap().data);
        for ((k, r, c), &v) in out.data.indexed_iter() {
            let x = img.data[[k, r, c]];
            let want = if od[k][[r, c]] != 0.0 && img.in_fov(r, c) {
                (x as f64 * 10f64.powf(-od[k][[r, c]])) as f32
            } else {
                x
            };
            assert!(
                (v.to_bits() as i64 - want.to_bits() as i64).abs() <= 1,
                "{v} {want}"
            );
        }
    }

    #[test]
    fn od_layers_add_exactly() {
        let img = RgbImage::new(
            Array3::from_shape_fn((3, 8, 9), |(k, r, c)| 0.2 + 0.05 * (k + r + c) as f32 / 4.0),
            [1.0, 1.0],
            Modality::Histopathology,
            Some(Array2::from_shape_fn((8, 9), |(r, _)| r > 1)),
        )
        .unwrap();
        let layer: [Array2<f64>; 3] = std::array::from_fn(|k| {
            Array2::from_shape_fn((8, 9), |(r, c)| 0.1 * (k + r * c % 3) as f64)
        });
        let out = composite_od(&img, &layer).unwrap();
        for ((k, r, c), &v) in out.data.indexed_iter() {
            let before = img.data[[k, r, c]] as f64;
            if r <= 1 {
                assert_eq!(v, img.data[[k, r, c]]);
            } else {
                let d = crate::stain::od(v as f64, 1.0) - crate::stain::od(before, 1.0);
                assert!((d - layer[k][[r, c]]).abs() < 1e-6, "{d}");
            }
        }
    }

    /// The tinted form (absorbance of `density · ink[k]` directly, densities converted in
    /// place) gives the bytes of building the three product layers for `blur_absorbance3`.
    #[test]
    fn tinted_blur_matches_product_layers_bit_for_bit() {
        let density = Array2::from_shape_fn((60, 70), |(r, c)| {
            if (r as f64 - 20.0).hypot(c as f64 - 30.0) < 6.0 || (r == 50 && c > 40) {
                0.3 + 0.01 * ((r * 7 + c) % 13) as f64
            } else {
                0.0
            }
        });
        let ink = [0.95, 1.0, 1.1];
        for diameter in [0.0, 3.0, 9.0, 40.0] {
            let layers: [Array2<f64>; 3] = std::array::from_fn(|k| density.mapv(|d| d * ink[k]));
            let want = blur_absorbance3([&layers[0], &layers[1], &layers[2]], diameter).unwrap();
            let got = blur_absorbance_tinted(&density, ink, diameter).unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(g.iter().zip(w).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }

    #[test]
    fn blurred_absorbance_is_conserved() {
        let od = Array2::from_shape_fn((41, 41), |(r, c)| {
            if (r as f64 - 20.0).hypot(c as f64 - 20.0) < 4.0 {
                2.0
            } else {
                0.0
            }
        });
        let b = blur_absorbance(&od, 9.0).unwrap();
        let absorbed = |x: &Array2<f64>| x.mapv(|d| 1.0 - 10f64.powf(-d)).sum();
        assert!((absorbed(&b) / absorbed(&od) - 1.0).abs() < 1e-9);
        assert!(b[[20, 20]] < od[[20, 20]] && b[[20, 25]] > 0.0);
        assert_eq!(blur_absorbance(&od, 0.0).unwrap(), od);
    }

    /// The field by the plain scan of every segment's box with `hypot` (the reference the
    /// capsule rows, the squared-distance rejection and the windows replace), bit for bit.
    #[test]
    fn curve_field_matches_the_plain_scan_bit_for_bit() {
        fn reference(curve: &Curve, rows: usize, cols: usize, reach: f64) -> CurveField {
            let mut dist = Array2::from_elem((rows, cols), f64::INFINITY);
            let mut arc = Array2::zeros((rows, cols));
            let mut normal = Array2::from_elem((rows, cols), [0.0, 0.0]);
            let verts = curve.simplified(SIMPLIFY_TOLERANCE_PX);
            for w in verts.windows(2) {
                let ((a, s_a), (b, s_b)) = (w[0], w[1]);
                let d = [b[0] - a[0], b[1] - a[1]];
                let len = d[0].hypot(d[1]);
                if len == 0.0 {
                    continue;
                }
                let t = [d[0] / len, d[1] / len];
                let nrm = [t[1], -t[0]];
                let lo_r = (a[0].min(b[0]) - reach).floor().max(0.0);
                let hi_r = (a[0].max(b[0]) + reach).ceil().min(rows as f64 - 1.0);
                let lo_c = (a[1].min(b[1]) - reach).floor().max(0.0);
                let hi_c = (a[1].max(b[1]) + reach).ceil().min(cols as f64 - 1.0);
                if hi_r < lo_r || hi_c < lo_c {
                    continue;
                }
                for r in lo_r as usize..=hi_r as usize {
                    for c in lo_c as usize..=hi_c as usize {
                        let p = [r as f64 - a[0], c as f64 - a[1]];
                        let u = (p[0] * t[0] + p[1] * t[1]).clamp(0.0, len);
                        let q = [p[0] - u * t[0], p[1] - u * t[1]];
                        let e = q[0].hypot(q[1]);
                        if e <= reach && e < dist[[r, c]].abs() {
                            let side = q[0] * nrm[0] + q[1] * nrm[1];
                            dist[[r, c]] = if side < 0.0 { -e } else { e };
                            arc[[r, c]] = s_a + (s_b - s_a) * u / len;
                            normal[[r, c]] = nrm;
                        }
                    }
                }
            }
            CurveField { dist, arc, normal }
        }
        let bits = |a: &Array2<f64>, b: &Array2<f64>| {
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        let (rows, cols) = (150usize, 170usize);
        let mut rng = artefact_core::Seed::from_u64(11).rng();
        let mut curves = vec![
            Curve::bent_line([70.0, 90.0], 33.0, 20.0, 230.0).unwrap(),
            Curve::bent_line([40.0, 60.0], 90.0, -8.0, 100.0).unwrap(),
            Curve::bent_line([75.0, 85.0], 0.0, 0.0, 120.0).unwrap(),
        ];
        for _ in 0..4 {
            curves.push(random_stroke(&mut rng, rows, cols, 120.0, 40.0, 5).unwrap());
        }
        // sharp turns, hairpins and loops (the trimmed caps keep the full cap there), strokes
        // leaving the frame, short segments
        for (len, curl, segments) in [(300.0, 90.0, 12), (200.0, 150.0, 30), (600.0, 25.0, 8)] {
            for _ in 0..3 {
                curves.push(random_stroke(&mut rng, rows, cols, len, curl, segments).unwrap());
            }
        }
        curves.push(
            Curve::catmull_rom(
                &[[10.0, 10.0], [10.3, 10.2], [60.0, 20.0], [10.5, 30.0]],
                1.0,
            )
            .unwrap(),
        );
        curves.push(Curve::bent_line([-30.0, 200.0], 120.0, 60.0, 150.0).unwrap());
        for (n, curve) in curves.iter().enumerate() {
            for reach in [2.5, 9.0, 60.0, 400.0] {
                let want = reference(curve, rows, cols, reach);
                let got = curve.field(rows, cols, reach);
                assert!(
                    bits(&got.dist, &want.dist),
                    "curve {n}, reach {reach}: dist"
                );
                assert!(bits(&got.arc, &want.arc), "curve {n}, reach {reach}: arc");
                assert_eq!(got.normal, want.normal, "curve {n}, reach {reach}: normal");
                // a window holds the full field's values at its pixels; outside it nothing
                // lies within reach
                let (r0, r1, c0, c1) = curve.window(rows, cols, reach);
                let w = curve.field_window([r0, c0], [r1 - r0, c1 - c0], reach);
                let cut = want.dist.slice(ndarray::s![r0..r1, c0..c1]).to_owned();
                assert!(bits(&w.dist, &cut), "curve {n}, reach {reach}: window");
                let inside = want.dist.iter().filter(|d| d.is_finite()).count();
                assert_eq!(inside, w.dist.iter().filter(|d| d.is_finite()).count());
                // strips of a window through reused buffers hold the same values
                let segments = curve.segments(reach);
                let mut strip = FieldStrip::default();
                for top in (r0..r1).step_by(7) {
                    let h = 7.min(r1 - top);
                    segments.fill([top, c0], [h, c1 - c0], &mut strip);
                    let cut = |a: &Array2<f64>| {
                        a.slice(ndarray::s![top..top + h, c0..c1])
                            .iter()
                            .copied()
                            .collect::<Vec<_>>()
                    };
                    let same = |x: &[f64], y: &[f64]| {
                        x.iter().zip(y).all(|(a, b)| a.to_bits() == b.to_bits())
                    };
                    assert!(
                        same(&strip.dist, &cut(&want.dist)),
                        "curve {n}, reach {reach}: strip"
                    );
                    assert!(
                        same(&strip.arc, &cut(&want.arc)),
                        "curve {n}, reach {reach}: strip arc"
                    );
                    let nrm: Vec<[f64; 2]> = want
                        .normal
                        .slice(ndarray::s![top..top + h, c0..c1])
                        .iter()
                        .copied()
                        .collect();
                    assert_eq!(strip.normal, nrm);
                }
            }
        }
    }

    #[test]
    fn curve_field_of_a_straight_line() {
        // a horizontal line along row 10 from column −5 to 45
        let c = Curve::catmull_rom(&[[10.0, -5.0], [10.0, 45.0]], 1.0).unwrap();
        assert!((c.length() - 50.0).abs() < 1e-9);
        let f = c.field(30, 40, 6.0);
        for r in 0..30 {
            let d = f.dist[[r, 20]];
            if (r as f64 - 10.0).abs() <= 6.0 {
                assert!((d.abs() - (r as f64 - 10.0).abs()).abs() < 1e-9);
                assert!((f.arc[[r, 20]] - 25.0).abs() < 1e-9);
            } else {
                assert!(d.is_infinite());
            }
        }
        // the sign flips across the line and agrees with the normal
        let (a, b) = (f.dist[[5, 20]], f.dist[[15, 20]]);
        assert!(a * b < 0.0);
        let n = f.normal[[15, 20]];
        assert!((n[0] * b.signum() - 1.0).abs() < 1e-9, "{n:?} {b}");
        let bent = Curve::bent_line([15.0, 20.0], 0.0, 5.0, 20.0).unwrap();
        // the ends are bent by the sagitta, the centre is on the line
        let mid = bent.points[bent.points.len() / 2];
        assert!((mid[0] - 15.0).abs() < 1e-6);
        assert!(Curve::catmull_rom(&[[0.0, 0.0]], 1.0).is_err());
    }

    /// The row form of the noise (cached lattice values, cast floors) against `value_noise`
    /// bit for bit: columns in order, backwards, jumping, negative and fractional positions,
    /// cells from 1e-4 (clamped) to 40 px; the cast floor against `floor`.
    #[test]
    fn row_noise_matches_value_noise_bit_for_bit() {
        for v in [
            0.0,
            -0.0,
            0.3,
            1.0,
            2.5,
            -2.5,
            1e15,
            5e15,
            1e300,
            f64::NAN,
            -1e-300,
        ] {
            assert_eq!(floor_positive(v).to_bits(), v.floor().to_bits(), "{v}");
        }
        let value_noise_floor = |seed: u64, y: f64, x: f64, cell: f64, octaves: usize| {
            // value_noise as first written (library floor)
            let (mut sum, mut amp, mut total, mut cell) = (0.0, 1.0, 0.0, cell.max(1e-3));
            for o in 0..octaves.max(1) {
                let s = seed.wrapping_add(o as u64 * 0x51_7CC1);
                let (u, v) = (y / cell, x / cell);
                let (i, j) = (u.floor(), v.floor());
                let (fu, fv) = (u - i, v - j);
                let (su, sv) = (fu * fu * (3.0 - 2.0 * fu), fv * fv * (3.0 - 2.0 * fv));
                let (i, j) = (i as i64, j as i64);
                let a = lattice(s, i, j) * (1.0 - sv) + lattice(s, i, j + 1) * sv;
                let b = lattice(s, i + 1, j) * (1.0 - sv) + lattice(s, i + 1, j + 1) * sv;
                sum += amp * (a * (1.0 - su) + b * su);
                total += amp;
                amp *= 0.5;
                cell *= 0.5;
            }
            sum / total
        };
        for (seed, cell, octaves) in [
            (3u64, 8.0, 3usize),
            (99, 2.0, 3),
            (7, 1e-4, 2),
            (5, 40.0, 1),
        ] {
            for y in [0.0, 1.0, 17.0, 333.0, -4.5, 12.25] {
                let mut row = RowNoise::new(seed, y, cell, octaves);
                let xs = (0..400)
                    .map(|c| c as f64)
                    .chain((0..50).map(|c| 300.0 - 3.0 * c as f64))
                    .chain([5.0, 1000.0, 6.0, -3.0, 0.5, 0.75, 1.0]);
                for x in xs {
                    let want = value_noise_floor(seed, y, x, cell, octaves);
                    assert_eq!(row.at(x).to_bits(), want.to_bits(), "{seed} {y} {x}");
                    assert_eq!(
                        value_noise(seed, y, x, cell, octaves).to_bits(),
                        want.to_bits()
                    );
                }
            }
        }
    }

    #[test]
    fn value_noise_is_bounded_and_a_function_of_position() {
        let mut m = 0.0f64;
        for i in 0..500 {
            let v = value_noise(7, i as f64 * 0.37, i as f64 * 1.1, 8.0, 3);
            assert!((-1.0..=1.0).contains(&v));
            assert_eq!(v, value_noise(7, i as f64 * 0.37, i as f64 * 1.1, 8.0, 3));
            m = m.max(v.abs());
        }
        assert!(m > 0.3);
        assert_ne!(
            value_noise(7, 3.3, 4.4, 8.0, 1),
            value_noise(8, 3.3, 4.4, 8.0, 1)
        );
    }
}
