//! Bubbles (endoscopy): transparent refracting spheres with bright Fresnel rims and a
//! specular highlight.
//!
//! # Model
//! Each bubble is a sphere of radius `R` resting on the tissue (the background plane is
//! tangent to its far side), seen along the optical axis (orthographic within the bubble).
//! A pixel at distance `ρ < R` from the bubble's centre is traced exactly in its meridional
//! plane: the ray meets the front surface at incidence `sin θᵢ = ρ/R`, refracts by Snell's law
//! with the relative index `n` (bubble/medium: ≈ 1.33 for a water droplet in air or gas
//! insufflation, ≈ 1/1.33 for an air bubble in fluid), crosses the sphere, refracts out and
//! meets the tissue plane at radial position `ρ'` — the background is sampled there
//! (bilinear), so the scene behind a bubble is displaced, magnified or inverted. Paraxial rays
//! of a ball lens (`n > 1`) cross the axis at `nR/(2(n − 1))` from the centre.
//!
//! Radiance inside the bubble:
//!
//! ```text
//! I' = (1 − F(θᵢ))·(1 − F(θ₂))·B(ρ') + rim · F(θᵢ) · Ȳ + highlight · cos^400 θᵢ
//! ```
//!
//! with `F` the unpolarised Fresnel reflectance (exact Fresnel equations; `F → 1` at grazing
//! incidence, which makes the bright rim, and `F = 1` past the critical angle of an air
//! bubble, `ρ/R > n`), `θ₂` the internal angle at the exit, `Ȳ` the field's mean luminance
//! (the light reflected in the rim is the scene's own scattered light, neutral) and the last
//! term a Blinn–Phong highlight of the light at the camera (peak at the bubble's centre, where
//! the normal faces the camera). The bubble's outline is anti-aliased by its pixel coverage.
//!
//! Bubbles are placed like a Boolean model: centres uniform in the field of view, radii
//! uniform in `R̄·[1 − spread, 1 + spread]`, `coverage · area/(π·E[R²])` of them, drawn one
//! after the other (a later bubble refracts the earlier ones).
//!
//! # Randomness
//! `Seed::from_u64(seed).child("bubbles")`.
//!
//! # Units
//! `radius`: field-of-view diameters; `coverage`: area density; `rim`: multiples of the mean
//! luminance; `highlight`: display white.
//!
//! # References
//! - M. Born, E. Wolf, *Principles of Optics*, §1.5 (Fresnel formulae), §4.4 (ball lens).
//! - E. Hecht, *Optics*, 5th ed., §4.6 (total internal reflection), §5.2 (thick lenses).

use crate::error::check_range;
use crate::support::{fov_geometry, mean_luminance};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng, Seed};
use ndarray::Array3;
use rand::Rng;

/// Most bubbles simulated.
pub const MAX_BUBBLES: usize = 5_000;
/// Blinn–Phong exponent of the bubble's highlight.
pub const HIGHLIGHT_SHININESS: f64 = 400.0;

artefact_core::params! {
    /// Parameters of [`Bubbles`] (recorded in manifests, replayed exactly).
    pub struct BubblesParams {
        /// area density of bubbles (sum of their areas / field area); 0 = none
        pub coverage: f64 = float(0.1, [0.0, 2.0], "fraction"),
        /// mean bubble radius
        pub radius: f64 = float(0.04, [0.003, 0.3], "FOV diameters"),
        /// relative spread of radii (uniform in radius·(1 ± spread))
        pub spread: f64 = float(0.5, [0.0, 0.9], "fraction"),
        /// refractive index of the bubble relative to its surround (1.33 droplet, 0.75 air in fluid)
        pub index: f64 = float(1.33, [0.5, 2.5]),
        /// brightness of the light reflected at the rim, in multiples of the field's mean luminance
        pub rim: f64 = float(2.0, [0.0, 20.0], "× mean luminance"),
        /// peak of the specular highlight of the light at the camera
        pub highlight: f64 = float(0.6, [0.0, 10.0], "display white"),
        /// seed of the bubbles' placement; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.bubbles` (see the module docs).
pub struct Bubbles;

static INFO: OpInfo = OpInfo {
    name: "photo.bubbles",
    modality: "photo",
    doc: "Bubbles: transparent spheres on the tissue, traced exactly (Snell refraction displaces the background), with Fresnel rims brightening at grazing incidence and a specular highlight of the light at the camera.",
    params: BubblesParams::PARAMS,
};

impl ColourOperator for Bubbles {
    type Params = BubblesParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<BubblesParams> {
        Ok(BubblesParams::sample(spec, rng)?)
    }
    fn apply(p: &BubblesParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// Unpolarised Fresnel reflectance from a medium of index `n1` into `n2` at incidence
/// `cos_i` (1 past the critical angle).
#[inline]
pub fn fresnel(n1: f64, n2: f64, cos_i: f64) -> f64 {
    let cos_i = cos_i.clamp(0.0, 1.0);
    let sin_t = n1 / n2 * (1.0 - cos_i * cos_i).sqrt();
    if sin_t >= 1.0 {
        return 1.0;
    }
    let cos_t = (1.0 - sin_t * sin_t).sqrt();
    let rs = (n1 * cos_i - n2 * cos_t) / (n1 * cos_i + n2 * cos_t);
    let rp = (n1 * cos_t - n2 * cos_i) / (n1 * cos_t + n2 * cos_i);
    0.5 * (rs * rs + rp * rp)
}

/// Snell refraction of unit direction `d` at unit normal `nrm` (facing against `d`) with
/// index ratio `eta = n_from/n_to`; `None` on total internal reflection.
#[inline]
fn refract(d: [f64; 2], nrm: [f64; 2], eta: f64) -> Option<[f64; 2]> {
    let cos_i = -(d[0] * nrm[0] + d[1] * nrm[1]);
    let k = 1.0 - eta * eta * (1.0 - cos_i * cos_i);
    if k < 0.0 {
        return None;
    }
    let a = eta * cos_i - k.sqrt();
    Some([eta * d[0] + a * nrm[0], eta * d[1] + a * nrm[1]])
}

/// One traced ray through a unit sphere (meridional plane `(x, z)`, camera at `+z`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trace {
    /// Reflectance at the entry (1 on total internal reflection).
    pub f_in: f64,
    /// Reflectance at the exit (0 when nothing enters).
    pub f_out: f64,
    /// Exit point `(x, z)` and direction (when the ray enters).
    pub exit: Option<([f64; 2], [f64; 2])>,
    /// Radial position (in radii) where the exit ray meets the tissue plane `z = −1`.
    pub landing: f64,
}

/// Trace the ray entering a unit sphere of relative index `n` at `rho ∈ [0, 1]` (module docs).
#[inline]
pub fn trace(rho: f64, n: f64) -> Trace {
    let rho = rho.clamp(0.0, 1.0);
    let z0 = (1.0 - rho * rho).max(0.0).sqrt();
    let d = [0.0, -1.0];
    let f_in = fresnel(1.0, n, z0);
    let Some(t) = refract(d, [rho, z0], 1.0 / n) else {
        return Trace {
            f_in: 1.0,
            f_out: 0.0,
            exit: None,
            landing: rho,
        };
    };
    // inside: P + s·t on the unit sphere, s = −2 P·t
    let sl = -2.0 * (rho * t[0] + z0 * t[1]);
    let q = [rho + sl * t[0], z0 + sl * t[1]];
    let cos2 = (t[0] * q[0] + t[1] * q[1]).clamp(0.0, 1.0);
    let f_out = fresnel(n, 1.0, cos2);
    let t2 = refract(t, [-q[0], -q[1]], n).unwrap_or(t);
    let landing = if t2[1] < -1e-12 {
        q[0] + (-1.0 - q[1]) / t2[1] * t2[0]
    } else {
        q[0]
    };
    Trace {
        f_in,
        f_out,
        exit: Some((q, t2)),
        landing,
    }
}

/// Where `cos θᵢ ≤ FAINT_COS` the highlight's `cos^400 θᵢ` is at most `0.88^400 ≈ 6.2e-23`
/// (`powf` is within an ulp), below [`FAINT_HIGHLIGHT`].
const FAINT_COS: f64 = 0.88;
/// A bound on `cos^400 θᵢ` where `cos θᵢ ≤ FAINT_COS` (with a margin of 3).
const FAINT_HIGHLIGHT: f64 = 2e-22;

/// Whether adding a non-negative `s ≤ bound` to `x` leaves `x` unchanged (round to nearest):
/// `bound` is below half the spacing of the doubles next to `x` (`|x| ≥ 2^e`: spacing
/// `2^(e−52)` above, `2^(e−53)` just below a power of two; the test takes `2^(e−54)`).
/// False for 0, subnormal and non-finite `x`.
fn below_half_ulp(bound: f64, x: f64) -> bool {
    let a = x.abs();
    if !(a.is_normal()) {
        return false;
    }
    // 2^e: `a` with its mantissa cleared
    let pow2 = f64::from_bits(a.to_bits() & 0x7ff0_0000_0000_0000);
    bound < pow2 * TWO_TO_MINUS_54
}

/// `2^−54`, exact.
const TWO_TO_MINUS_54: f64 = 1.0 / (1u64 << 54) as f64;

/// Rays traced together by [`trace_lanes`].
const LANES: usize = 4;

/// A covered pixel of a bubble: position, offset from the centre, distance, coverage, `ρ`.
struct Hit {
    r: usize,
    c: usize,
    dy: f64,
    dx: f64,
    d: f64,
    cover: f64,
    rho: f64,
}

/// [`fresnel`] of [`LANES`] incidences, without branches (both sides computed, one kept):
/// the same values bit for bit.
#[inline(always)]
fn fresnel_lanes(n1: f64, n2: f64, cos_i: [f64; LANES]) -> [f64; LANES] {
    let mut out = [0.0; LANES];
    for (o, &cos_i) in out.iter_mut().zip(&cos_i) {
        let cos_i = cos_i.clamp(0.0, 1.0);
        let sin_t = n1 / n2 * (1.0 - cos_i * cos_i).sqrt();
        let cos_t = (1.0 - sin_t * sin_t).sqrt();
        let rs = (n1 * cos_i - n2 * cos_t) / (n1 * cos_i + n2 * cos_t);
        let rp = (n1 * cos_t - n2 * cos_i) / (n1 * cos_t + n2 * cos_i);
        let f = 0.5 * (rs * rs + rp * rp);
        *o = if sin_t >= 1.0 { 1.0 } else { f };
    }
    out
}

/// [`trace`] of [`LANES`] rays without branches (both sides of each computed, one kept, so
/// the lanes go through the square roots and divisions together): `[f_in, f_out, landing]`,
/// the same values bit for bit.
#[inline(always)]
fn trace_lanes(rho: [f64; LANES], n: f64) -> [[f64; LANES]; 3] {
    let rho = rho.map(|r| r.clamp(0.0, 1.0));
    let z0 = rho.map(|r| (1.0 - r * r).max(0.0).sqrt());
    let f_in = fresnel_lanes(1.0, n, z0);
    let eta = 1.0 / n;
    let mut t = [[0.0; LANES]; 2];
    let mut tir = [false; LANES];
    for l in 0..LANES {
        // refract([0, −1], [ρ, z0], 1/n) (a product with −1 is the exact negation)
        let cos_i = -(0.0 * rho[l] + -z0[l]);
        let k = 1.0 - eta * eta * (1.0 - cos_i * cos_i);
        let a = eta * cos_i - k.sqrt();
        tir[l] = k < 0.0;
        t[0][l] = eta * 0.0 + a * rho[l];
        t[1][l] = -eta + a * z0[l];
    }
    let mut q = [[0.0; LANES]; 2];
    let mut cos2 = [0.0; LANES];
    for l in 0..LANES {
        let sl = -2.0 * (rho[l] * t[0][l] + z0[l] * t[1][l]);
        q[0][l] = rho[l] + sl * t[0][l];
        q[1][l] = z0[l] + sl * t[1][l];
        cos2[l] = (t[0][l] * q[0][l] + t[1][l] * q[1][l]).clamp(0.0, 1.0);
    }
    let f_out = fresnel_lanes(n, 1.0, cos2);
    let mut out = [[0.0; LANES]; 3];
    for l in 0..LANES {
        // refract(t, −q, n), t itself on total internal reflection
        let (d, nrm) = ([t[0][l], t[1][l]], [-q[0][l], -q[1][l]]);
        let cos_i = -(d[0] * nrm[0] + d[1] * nrm[1]);
        let k = 1.0 - n * n * (1.0 - cos_i * cos_i);
        let a = n * cos_i - k.sqrt();
        let t2 = if k < 0.0 {
            d
        } else {
            [n * d[0] + a * nrm[0], n * d[1] + a * nrm[1]]
        };
        let landing = if t2[1] < -1e-12 {
            q[0][l] + (-1.0 - q[1][l]) / t2[1] * t2[0]
        } else {
            q[0][l]
        };
        out[0][l] = if tir[l] { 1.0 } else { f_in[l] };
        out[1][l] = if tir[l] { 0.0 } else { f_out[l] };
        out[2][l] = if tir[l] { rho[l] } else { landing };
    }
    out
}

/// A window of the frame: rows `r0..r0 + rows`, columns `c0..c0 + cols`.
struct Window {
    r0: usize,
    c0: usize,
    rows: usize,
    cols: usize,
}

impl Window {
    /// Bilinear sample of the three channels of `src` at `(y, x)` in the window's coordinates
    /// (pixel centres at integers), clamped to the window.
    fn bilinear3(&self, src: &Array3<f32>, y: f64, x: f64) -> [f64; 3] {
        let (h, w) = (self.rows, self.cols);
        let y = y.clamp(0.0, (h - 1) as f64);
        let x = x.clamp(0.0, (w - 1) as f64);
        // non-negative: truncation is the floor
        let (y0, x0) = (y as usize, x as usize);
        let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
        let (fy, fx) = (y - y0 as f64, x - x0 as f64);
        let (ya, yb, xa, xb) = (self.r0 + y0, self.r0 + y1, self.c0 + x0, self.c0 + x1);
        let mut v = [0.0; 3];
        for (k, v) in v.iter_mut().enumerate() {
            let a = src[[k, ya, xa]] as f64 * (1.0 - fx) + src[[k, ya, xb]] as f64 * fx;
            let b = src[[k, yb, xa]] as f64 * (1.0 - fx) + src[[k, yb, xb]] as f64 * fx;
            *v = a * (1.0 - fy) + b * fy;
        }
        v
    }
}

/// The bubbles `(centre (row, col), radius px)` for an image.
pub fn layout(p: &BubblesParams, img: &RgbImage) -> Result<Vec<([f64; 2], f64)>> {
    check_range("coverage", p.coverage, 0.0, 2.0)?;
    check_range("radius", p.radius, 0.003, 0.3)?;
    check_range("spread", p.spread, 0.0, 0.9)?;
    let g = fov_geometry(img)?;
    let rbar = p.radius * g.diameter;
    let er2 = rbar * rbar * (1.0 + p.spread * p.spread / 3.0);
    let n = (p.coverage * g.area / (std::f64::consts::PI * er2)).round();
    if n > MAX_BUBBLES as f64 {
        return Err(PhotoError::param(
            "coverage",
            format!("{n} bubbles exceed {MAX_BUBBLES}; use a larger radius"),
        ));
    }
    let (rows, cols) = img.shape();
    let mut rng = Seed::from_u64(p.seed).child("bubbles").rng();
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n as usize {
        let mut centre = [g.centre[0], g.centre[1]];
        for _ in 0..10_000 {
            let (r, c) = (
                rng.random::<f64>() * rows as f64 - 0.5,
                rng.random::<f64>() * cols as f64 - 0.5,
            );
            let (ri, ci) = (
                (r.round().max(0.0) as usize).min(rows - 1),
                (c.round().max(0.0) as usize).min(cols - 1),
            );
            if img.in_fov(ri, ci) {
                centre = [r, c];
                break;
            }
        }
        let rad = rbar * (1.0 + p.spread * (2.0 * rng.random::<f64>() - 1.0));
        out.push((centre, rad.max(0.5)));
    }
    Ok(out)
}

/// Draw the bubbles (module docs) inside the field of view.
pub fn apply(p: &BubblesParams, img: &RgbImage) -> Result<RgbImage> {
    check_range("index", p.index, 0.5, 2.5)?;
    check_range("rim", p.rim, 0.0, 20.0)?;
    check_range("highlight", p.highlight, 0.0, 10.0)?;
    if p.coverage == 0.0 {
        return Ok(img.clone());
    }
    let bubbles = layout(p, img)?;
    let ybar = mean_luminance(img);
    let (rows, cols) = img.shape();
    let mut out = img.data.clone();
    // a bubble's new pixels, written once it is traced: until then `out` holds the scene
    // before it (what it refracts)
    let mut new: Vec<(usize, usize, [f32; 3])> = Vec::new();
    let mut hits: Vec<Hit> = Vec::new();
    // a bound on the highlight where cos θᵢ ≤ FAINT_COS
    let faint = p.highlight * FAINT_HIGHLIGHT;
    for (centre, rad) in bubbles {
        // the neighbourhood the bubble can refract (landing within ±3 R); samples beyond it
        // are clamped to its edge
        let m = 3.0 * rad + 2.0;
        let r0 = (centre[0] - m).floor().max(0.0) as usize;
        let r1 = ((centre[0] + m).ceil().max(0.0) as usize).min(rows - 1);
        let c0 = (centre[1] - m).floor().max(0.0) as usize;
        let c1 = ((centre[1] + m).ceil().max(0.0) as usize).min(cols - 1);
        if r0 > r1 || c0 > c1 {
            continue;
        }
        let near = Window {
            r0,
            c0,
            rows: r1 - r0 + 1,
            cols: c1 - c0 + 1,
        };
        let br0 = (centre[0] - rad - 1.0).floor().max(0.0) as usize;
        let br1 = ((centre[0] + rad + 1.0).ceil().max(0.0) as usize).min(rows - 1);
        let bc0 = (centre[1] - rad - 1.0).floor().max(0.0) as usize;
        let bc1 = ((centre[1] + rad + 1.0).ceil().max(0.0) as usize).min(cols - 1);
        // beyond this squared distance the coverage is 0 (d > rad + 0.5 by far more than
        // the rounding of d² and of `hypot`)
        let outside2 = (rad + 0.5 + 1e-6).powi(2);
        // the covered pixels, then their rays traced [`LANES`] at a time
        hits.clear();
        for r in br0..=br1 {
            let dy = r as f64 - centre[0];
            for c in bc0..=bc1 {
                let dx = c as f64 - centre[1];
                if dy * dy + dx * dx > outside2 || !img.in_fov(r, c) {
                    continue;
                }
                let d = dy.hypot(dx);
                let cover = (rad - d + 0.5).clamp(0.0, 1.0);
                if cover == 0.0 {
                    continue;
                }
                hits.push(Hit {
                    r,
                    c,
                    dy,
                    dx,
                    d,
                    cover,
                    rho: (d / rad).min(1.0),
                });
            }
        }
        new.clear();
        for chunk in hits.chunks(LANES) {
            let mut rho = [0.0; LANES];
            for (l, h) in rho.iter_mut().zip(chunk) {
                *l = h.rho;
            }
            let traced = trace_lanes(rho, p.index);
            for (i, h) in chunk.iter().enumerate() {
                let (f_in, f_out, landing) = (traced[0][i], traced[1][i], traced[2][i]);
                let (r, c, dy, dx, d, cover, rho) = (h.r, h.c, h.dy, h.dx, h.d, h.cover, h.rho);
                let (uy, ux) = if d > 0.0 {
                    (dy / d, dx / d)
                } else {
                    (0.0, 0.0)
                };
                let (sy, sx) = (
                    centre[0] + uy * landing * rad - r0 as f64,
                    centre[1] + ux * landing * rad - c0 as f64,
                );
                let cos_i = (1.0 - rho * rho).max(0.0).sqrt();
                let refl = p.rim * f_in * ybar;
                let trans = (1.0 - f_in) * (1.0 - f_out);
                let b = if trans > 0.0 {
                    near.bilinear3(&out, sy, sx)
                } else {
                    [0.0; 3]
                };
                let base = b.map(|b| trans * b + refl);
                // the highlight, unless it cannot change the sums (see `below_half_ulp`)
                let spec = if cos_i <= FAINT_COS && base.iter().all(|&x| below_half_ulp(faint, x)) {
                    None
                } else {
                    Some(p.highlight * cos_i.powf(HIGHLIGHT_SHININESS))
                };
                let mut v = [0.0f32; 3];
                for (k, v) in v.iter_mut().enumerate() {
                    let bubble = match spec {
                        Some(spec) => base[k] + spec,
                        None => base[k],
                    };
                    let prev = out[[k, r, c]] as f64;
                    *v = (cover * bubble + (1.0 - cover) * prev) as f32;
                }
                new.push((r, c, v));
            }
        }
        for &(r, c, v) in &new {
            for (k, v) in v.into_iter().enumerate() {
                out[[k, r, c]] = v;
            }
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array2;

    /// Fresnel: ((n−1)/(n+1))² at normal incidence, 1 at grazing and past the critical angle;
    /// the axial ray goes straight through; paraxial rays of a ball lens cross the axis at
    /// nR/(2(n − 1)) from the centre; an air bubble (n < 1) totally reflects beyond ρ = n.
    #[test]
    fn sphere_optics_are_exact() {
        let n = 1.33;
        assert!((fresnel(1.0, n, 1.0) - ((n - 1.0) / (n + 1.0)).powi(2)).abs() < 1e-12);
        assert!((fresnel(1.0, n, 0.0) - 1.0).abs() < 1e-12);
        let mut prev = 0.0;
        for k in 0..=20 {
            let f = fresnel(1.0, n, 1.0 - k as f64 / 20.0);
            assert!(f >= prev - 1e-12, "Fresnel rises towards grazing");
            prev = f;
        }
        // textbook values for glass (n = 1.5): 4 % at normal incidence; at Brewster's angle
        // (tan θ_B = n) R_p = 0 and R_s = ((n² − 1)/(n² + 1))², so R = 0.0739645 (Python:
        // `n=1.5; tb=math.atan(n); ... 0.5*(rs+rp)` → 0.07396449704142012)
        assert!((fresnel(1.0, 1.5, 1.0) - 0.04).abs() < 1e-12);
        let tb = 1.5f64.atan();
        assert!((fresnel(1.0, 1.5, tb.cos()) - 0.07396449704142012).abs() < 1e-12);
        let axial = trace(0.0, n);
        assert!(axial.landing.abs() < 1e-12);
        for n in [1.33, 1.5, 2.0] {
            let t = trace(1e-4, n);
            let (q, d) = t.exit.unwrap();
            let z_cross = q[1] + (-q[0] / d[0]) * d[1];
            let efl = n / (2.0 * (n - 1.0));
            assert!(
                (-z_cross / efl - 1.0).abs() < 1e-6,
                "n {n}: {z_cross} vs −{efl}"
            );
        }
        let air = 1.0 / 1.33;
        assert!(trace(air - 1e-3, air).exit.is_some());
        let tir = trace(air + 1e-3, air);
        assert!(tir.exit.is_none() && tir.f_in == 1.0);
        // a droplet on the tissue (focus 2R from the centre, beyond the tissue plane at
        // z = −1) magnifies: a pixel at ρ sees the tissue nearer the axis; an air bubble
        // (diverging) minifies: it sees tissue farther out
        for rho in [0.1, 0.3, 0.5] {
            let l = trace(rho, 1.33).landing;
            assert!(l > 0.0 && l < rho, "droplet ρ {rho}: {l}");
            let l = trace(rho, air).landing;
            assert!(l > rho, "air bubble ρ {rho}: {l}");
        }
    }

    fn img() -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 120, 120), |(k, r, c)| {
                0.15 + 0.1 * (((r / 6 + c / 6) % 2) as f32) + 0.02 * k as f32
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            Some(Array2::from_shape_fn((120, 120), |(r, c)| {
                (r as f64 - 59.5).hypot(c as f64 - 59.5) < 55.0
            })),
        )
        .unwrap()
    }

    /// One big bubble: the rim (ρ → R) is brighter than the background, the centre holds the
    /// highlight; zero coverage is the identity; outside the FOV unchanged; seeds.
    #[test]
    fn rim_highlight_identity_fov_and_seeds() {
        let im = img();
        let p = BubblesParams {
            coverage: 0.3,
            radius: 0.08,
            spread: 0.3,
            index: 1.33,
            rim: 3.0,
            highlight: 0.6,
            seed: 11,
        };
        let out = apply(&p, &im).unwrap();
        assert_ne!(out.data, im.data);
        for ((k, r, c), &v) in out.data.indexed_iter() {
            if !im.in_fov(r, c) {
                assert_eq!(v.to_bits(), im.data[[k, r, c]].to_bits());
            }
        }
        let ybar = mean_luminance(&im);
        let (centre, rad) = layout(&p, &im).unwrap()[0];
        // the first bubble may be covered by later ones: check on a single-bubble layout
        let one = BubblesParams {
            coverage: std::f64::consts::PI * (0.08 * 110.0f64).powi(2) * (1.0 + 0.09 / 3.0)
                / fov_geometry(&im).unwrap().area
                * 0.9,
            ..p.clone()
        };
        let l = layout(&one, &im).unwrap();
        assert_eq!(l.len(), 1, "{l:?}");
        let (centre1, rad1) = l[0];
        let o1 = apply(&one, &im).unwrap();
        let (rc, cc) = (centre1[0].round() as usize, centre1[1].round() as usize);
        // the centre: transmitted background + highlight + rim·F(0)·Ȳ
        let f0 = fresnel(1.0, 1.33, 1.0);
        let d0 = (rc as f64 - centre1[0]).hypot(cc as f64 - centre1[1]);
        assert!(d0 < 1.0);
        let v = o1.data[[1, rc, cc]] as f64;
        assert!(
            v > 0.6 * (1.0 - d0 / rad1).powi(2) * 0.5 + 3.0 * f0 * ybar,
            "{v}"
        );
        // a pixel just inside the rim is bright: reflectance there exceeds 0.5
        let rr = (centre1[0] + (rad1 - 0.8)).round() as usize;
        let rho = ((rr as f64 - centre1[0]).abs() / rad1).min(1.0);
        if im.in_fov(rr, cc) && rho > 0.97 {
            assert!(trace(rho, 1.33).f_in > 0.2);
            assert!(o1.data[[1, rr, cc]] as f64 > 0.2 * 3.0 * ybar);
        }
        let _ = (centre, rad);
        assert_eq!(apply(&p, &im).unwrap().data, out.data);
        let other = BubblesParams {
            seed: 12,
            ..p.clone()
        };
        assert_ne!(apply(&other, &im).unwrap().data, out.data);
        let none = BubblesParams {
            coverage: 0.0,
            ..p.clone()
        };
        assert_eq!(apply(&none, &im).unwrap().data, im.data);
        let bad = BubblesParams { index: 3.0, ..p };
        assert!(apply(&bad, &im).unwrap_err().to_string().contains("index"));
    }

    /// The previous form: a copy of each bubble's ±3 R neighbourhood taken before it is
    /// drawn, sampled channel by channel, every pixel of its box traced. The reference the
    /// deferred writes replace, bit for bit.
    fn reference(p: &BubblesParams, img: &RgbImage) -> RgbImage {
        fn bilinear(src: &Array3<f32>, k: usize, y: f64, x: f64) -> f64 {
            let (_, h, w) = src.dim();
            let y = y.clamp(0.0, (h - 1) as f64);
            let x = x.clamp(0.0, (w - 1) as f64);
            let (y0, x0) = (y.floor() as usize, x.floor() as usize);
            let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
            let (fy, fx) = (y - y0 as f64, x - x0 as f64);
            let a = src[[k, y0, x0]] as f64 * (1.0 - fx) + src[[k, y0, x1]] as f64 * fx;
            let b = src[[k, y1, x0]] as f64 * (1.0 - fx) + src[[k, y1, x1]] as f64 * fx;
            a * (1.0 - fy) + b * fy
        }
        let bubbles = layout(p, img).unwrap();
        let ybar = mean_luminance(img);
        let (rows, cols) = img.shape();
        let mut out = img.data.clone();
        for (centre, rad) in bubbles {
            let m = 3.0 * rad + 2.0;
            let r0 = (centre[0] - m).floor().max(0.0) as usize;
            let r1 = ((centre[0] + m).ceil().max(0.0) as usize).min(rows - 1);
            let c0 = (centre[1] - m).floor().max(0.0) as usize;
            let c1 = ((centre[1] + m).ceil().max(0.0) as usize).min(cols - 1);
            if r0 > r1 || c0 > c1 {
                continue;
            }
            let snap = out.slice(ndarray::s![.., r0..=r1, c0..=c1]).to_owned();
            let br0 = (centre[0] - rad - 1.0).floor().max(0.0) as usize;
            let br1 = ((centre[0] + rad + 1.0).ceil().max(0.0) as usize).min(rows - 1);
            let bc0 = (centre[1] - rad - 1.0).floor().max(0.0) as usize;
            let bc1 = ((centre[1] + rad + 1.0).ceil().max(0.0) as usize).min(cols - 1);
            for r in br0..=br1 {
                for c in bc0..=bc1 {
                    if !img.in_fov(r, c) {
                        continue;
                    }
                    let (dy, dx) = (r as f64 - centre[0], c as f64 - centre[1]);
                    let d = dy.hypot(dx);
                    let cover = (rad - d + 0.5).clamp(0.0, 1.0);
                    if cover == 0.0 {
                        continue;
                    }
                    let rho = (d / rad).min(1.0);
                    let tr = trace(rho, p.index);
                    let (uy, ux) = if d > 0.0 {
                        (dy / d, dx / d)
                    } else {
                        (0.0, 0.0)
                    };
                    let (sy, sx) = (
                        centre[0] + uy * tr.landing * rad - r0 as f64,
                        centre[1] + ux * tr.landing * rad - c0 as f64,
                    );
                    let cos_i = (1.0 - rho * rho).max(0.0).sqrt();
                    let spec = p.highlight * cos_i.powf(HIGHLIGHT_SHININESS);
                    let refl = p.rim * tr.f_in * ybar;
                    let trans = (1.0 - tr.f_in) * (1.0 - tr.f_out);
                    for k in 0..3 {
                        let b = if trans > 0.0 {
                            bilinear(&snap, k, sy, sx)
                        } else {
                            0.0
                        };
                        let bubble = trans * b + refl + spec;
                        let prev = out[[k, r, c]] as f64;
                        out[[k, r, c]] = (cover * bubble + (1.0 - cover) * prev) as f32;
                    }
                }
            }
        }
        img.with_data(out).unwrap()
    }

    /// Deferred writes, the squared-distance skip and the window sampler: the same image bit
    /// for bit as the previous snapshot loop — dense overlapping bubbles (later ones refract
    /// earlier ones), bubbles on the frame's edges and corners (no mask: centres anywhere),
    /// across a field-of-view border, air bubbles (n < 1, landing far out: samples clamped
    /// to the neighbourhood's edge), the extreme indices, sub-pixel and very large radii.
    #[test]
    fn deferred_writes_match_the_snapshot_loop_bit_for_bit() {
        let plain = RgbImage::new(
            Array3::from_shape_fn((3, 90, 117), |(k, r, c)| {
                0.1 + 0.03 * k as f32 + 0.2 * (((r / 5) * 7 + (c / 4) * 3) % 5) as f32 / 5.0
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let masked = img();
        // dark, black and faintly negative pixels: sums too small for the highlight's skip
        let dark = RgbImage::new(
            Array3::from_shape_fn((3, 90, 117), |(k, r, c)| match (r / 9 + c / 13 + k) % 4 {
                0 => 0.0,
                1 => 1e-7 * (c % 7) as f32,
                2 => -1e-6,
                _ => 0.004 * (r % 5) as f32,
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let mut cases = 0;
        for (im, rim, highlight) in [
            (&plain, 2.0, 0.6),
            (&masked, 2.0, 0.6),
            (&dark, 0.0, 10.0),
            (&dark, 0.5, 0.0),
        ] {
            for (coverage, radius, spread, index) in [
                (1.5, 0.05, 0.5, 1.33),
                (0.6, 0.12, 0.9, 0.75),
                (0.4, 0.3, 0.0, 2.5),
                (0.02, 0.003, 0.9, 0.5),
                (0.8, 0.02, 0.3, 1.0),
                (2.0, 0.04, 0.6, 1.4),
            ] {
                for seed in [1, 2, 3] {
                    let p = BubblesParams {
                        coverage,
                        radius,
                        spread,
                        index,
                        rim,
                        highlight,
                        seed,
                    };
                    let got = apply(&p, im).unwrap();
                    let want = reference(&p, im);
                    assert!(
                        got.data
                            .iter()
                            .zip(&want.data)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{p:?}"
                    );
                    assert_ne!(got.data, im.data, "{p:?}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 72);
        // some bubbles of these layouts reach past the frame's edges
        let p = BubblesParams {
            coverage: 2.0,
            radius: 0.04,
            spread: 0.6,
            index: 1.4,
            rim: 2.0,
            highlight: 0.6,
            seed: 1,
        };
        let l = layout(&p, &plain).unwrap();
        assert!(l.iter().any(|(c, r)| c[0] - r < 0.0 || c[1] - r < 0.0));
        assert!(l.iter().any(|(c, r)| c[0] + r > 89.0 || c[1] + r > 116.0));
    }

    /// `below_half_ulp`: when it holds, adding any `s ∈ [0, bound]` leaves `x` unchanged; it
    /// fails where `bound` could change `x`, and for 0, subnormals and non-finite `x`.
    #[test]
    fn below_half_ulp_is_exact() {
        for x in [
            1.0,
            -1.0,
            0.5,
            0.75,
            -0.25,
            1e-3,
            -3.7e-12,
            7.0e5,
            f64::MIN_POSITIVE * 4.0,
        ] {
            let half_down = x.abs() / 2f64.powi(54)
                * if x.abs().log2().fract() == 0.0 {
                    1.0
                } else {
                    1.5
                };
            for bound in [half_down * 0.999, half_down * 0.5, x.abs() * 1e-17, 1e-30] {
                if below_half_ulp(bound, x) {
                    for s in [bound, bound * 0.5, 0.0] {
                        assert_eq!((x + s).to_bits(), x.to_bits(), "{x} + {s}");
                    }
                }
            }
            // a bound of half the spacing is never negligible
            let spacing = f64::from_bits(x.abs().to_bits() + 1) - x.abs();
            assert!(!below_half_ulp(spacing / 2.0, x), "{x}");
            assert!(below_half_ulp(spacing / 8.0, x), "{x}");
        }
        for x in [0.0, -0.0, f64::MIN_POSITIVE / 2.0, f64::INFINITY, f64::NAN] {
            assert!(!below_half_ulp(0.0, x));
        }
    }

    /// The lanes trace every ray exactly as [`trace`]: ρ over [0, 1] densely, at its ends
    /// and around the critical angle of an air bubble (ρ = n), for the index range's ends,
    /// a droplet, an air bubble and n = 1.
    #[test]
    fn lanes_match_the_scalar_trace_bit_for_bit() {
        for n in [0.5, 0.75, 1.0 / 1.33, 1.0, 1.25, 1.33, 1.4, 2.5] {
            let mut rhos: Vec<f64> = (0..=4000).map(|i| i as f64 / 4000.0).collect();
            for k in -20..=20 {
                rhos.push(n + k as f64 * 1e-15);
                rhos.push(n + k as f64 * 1e-9);
            }
            rhos.extend([-0.1, 1.1, 1.0 - 1e-16, f64::MIN_POSITIVE, 0.5 + 1e-17]);
            for chunk in rhos.chunks(LANES) {
                let mut rho = [0.3; LANES];
                rho[..chunk.len()].copy_from_slice(chunk);
                let got = trace_lanes(rho, n);
                for (l, &r) in rho.iter().enumerate() {
                    let want = trace(r, n);
                    let same = [want.f_in, want.f_out, want.landing]
                        .iter()
                        .zip([got[0][l], got[1][l], got[2][l]])
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(
                        same,
                        "n {n} ρ {r}: {want:?} vs {:?}",
                        [got[0][l], got[1][l], got[2][l]]
                    );
                }
            }
        }
    }

    /// The bubbles' total area matches the coverage parameter (Boolean model: sum of areas
    /// = coverage · field area, within 15 % for this small sample).
    #[test]
    fn area_matches_coverage() {
        let im = RgbImage::new(
            Array3::from_elem((3, 400, 400), 0.2f32),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let p = BubblesParams {
            coverage: 0.4,
            radius: 0.02,
            spread: 0.5,
            index: 1.33,
            rim: 2.0,
            highlight: 0.5,
            seed: 2,
        };
        let l = layout(&p, &im).unwrap();
        let area: f64 = l.iter().map(|(_, r)| std::f64::consts::PI * r * r).sum();
        assert!((area / (0.4 * 160000.0) - 1.0).abs() < 0.15, "{area}");
    }
}
