//! Shadows of out-of-focus occluders between the lens and the retina (fundus
//! `artifact_shadow`): eyelashes and dust.
//!
//! # Model
//! An occluder near the pupil or on the front lens is far from the focal plane, so it is not
//! imaged: it removes a fraction of the light reaching every image point whose cone of rays
//! it intercepts. Its effect on the image is a **multiplicative transmission map** — the
//! sharp silhouette's absorption `a(x) ∈ [0, 1]` convolved with the disc PSF of the blur
//! disc at its distance from the focal plane (thin-lens circle of confusion, see
//! [`crate::defocus`]):
//!
//! ```text
//! T(x) = (1 − K_lash * (opacity · a_lash))(x) · (1 − K_dust * (opacity · a_dust))(x),
//! I'(x) = I(x) · T(x)   inside the field of view (all channels: a neutral absorber)
//! ```
//!
//! so a shadow only darkens (never paints), and the blur conserves the absorbed light
//! (`Σ(1 − T) = opacity · Σ a` while the blurred shadow stays in the frame).
//!
//! - **Eyelashes**: `lashes` curved thin strokes (quadratic Bézier curves, width tapering to
//!   40 % at the tip) rooted on the field-of-view border within ±60° of the top (the upper
//!   lid), pointing inwards within ±25° of the centre, with a random bend of up to ±25 % of
//!   their length; anti-aliased by the distance to the curve.
//! - **Dust**: discs with uniform centres in the field of view and radii uniform in
//!   `[0.5, 1.5]·dust_radius`; their number is `dust_coverage · area / (π·E[r²])`, so
//!   `dust_coverage` is the area density of a Boolean model and the sharp silhouettes cover
//!   a fraction `1 − exp(−dust_coverage)` of the field.
//!
//! # Randomness
//! Lash `k` draws from `Seed::from_u64(seed).child("lash/<k>")`, dust from `child("dust")`.
//!
//! # Units
//! Sizes (`*_width`, `*_length`, `*_radius`, `*_defocus` = blur-disc diameter) in
//! field-of-view diameters; blur discs are capped at [`crate::defocus::MAX_DIAMETER_PX`].
//!
//! # References
//! - E. Hecht, *Optics*, 5th ed., §5.7 (circle of confusion).
//! - M. Born, E. Wolf, *Principles of Optics*, §8.3 (shadows of obstacles in an aperture,
//!   geometric limit).

use crate::convolve::{convolve_planes_f32_fft, convolve_two_f32_fft};
use crate::defocus::{disc_psf, MAX_DIAMETER_PX};
use crate::support::{fov_geometry, FovGeometry};
use crate::{PhotoError, Psf, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng, Seed};
use ndarray::Array2;
use rand::Rng;

/// Most dust particles simulated.
pub const MAX_DUST: usize = 20_000;

artefact_core::params! {
    /// Parameters of [`Shadow`] (recorded in manifests, replayed exactly).
    pub struct ShadowParams {
        /// number of eyelashes
        pub lashes: u32 = int(2, [0, 16]),
        /// eyelash width at the root
        pub lash_width: f64 = float(0.012, [0.001, 0.1], "FOV diameters"),
        /// eyelash length
        pub lash_length: f64 = float(0.5, [0.05, 1.5], "FOV diameters"),
        /// blur-disc diameter of the eyelashes' shadows (their distance from the focal plane)
        pub lash_defocus: f64 = float(0.06, [0.0, 0.5], "FOV diameters"),
        /// dust area density (sum of dust areas / field area)
        pub dust_coverage: f64 = float(0.0, [0.0, 1.0], "fraction"),
        /// mean dust radius
        pub dust_radius: f64 = float(0.01, [0.001, 0.1], "FOV diameters"),
        /// blur-disc diameter of the dust shadows
        pub dust_defocus: f64 = float(0.02, [0.0, 0.5], "FOV diameters"),
        /// fraction of light an occluder absorbs where it is opaque
        pub opacity: f64 = float(0.9, [0.0, 1.0], "fraction"),
        /// seed of the occluders' placement; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.shadow` (see the module docs).
pub struct Shadow;

static INFO: OpInfo = OpInfo {
    name: "photo.shadow",
    modality: "photo",
    doc: "Shadows of out-of-focus eyelashes (curved thin strokes) and dust (discs) between lens and retina: sharp silhouettes blurred by their defocus disc, applied as a multiplicative transmission map.",
    params: ShadowParams::PARAMS,
};

impl ColourOperator for Shadow {
    type Params = ShadowParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ShadowParams> {
        Ok(ShadowParams::sample(spec, rng)?)
    }
    fn apply(p: &ShadowParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// Paint a stroke along a polyline with linearly tapering half-width: `a = max(a, coverage)`.
fn stroke(a: &mut Array2<f64>, pts: &[[f64; 2]], hw0: f64, hw1: f64) {
    let (rows, cols) = a.dim();
    let n = pts.len().saturating_sub(1).max(1) as f64;
    for (i, w) in pts.windows(2).enumerate() {
        let (p, q) = (w[0], w[1]);
        let (ha, hb) = (
            hw0 + (hw1 - hw0) * i as f64 / n,
            hw0 + (hw1 - hw0) * (i + 1) as f64 / n,
        );
        let m = ha.max(hb) + 1.0;
        let r0 = (p[0].min(q[0]) - m).floor().max(0.0) as usize;
        let r1 = ((p[0].max(q[0]) + m).ceil().max(0.0) as usize).min(rows.saturating_sub(1));
        let c0 = (p[1].min(q[1]) - m).floor().max(0.0) as usize;
        let c1 = ((p[1].max(q[1]) + m).ceil().max(0.0) as usize).min(cols.saturating_sub(1));
        let (dr, dc) = (q[0] - p[0], q[1] - p[1]);
        let l2 = dr * dr + dc * dc;
        for r in r0..=r1 {
            for c in c0..=c1 {
                let (y, x) = (r as f64 - p[0], c as f64 - p[1]);
                let t = if l2 > 0.0 {
                    ((y * dr + x * dc) / l2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = (y - t * dr).hypot(x - t * dc);
                let hw = ha + (hb - ha) * t;
                let cov = (hw - d + 0.5).clamp(0.0, 1.0);
                if cov > a[[r, c]] {
                    a[[r, c]] = cov;
                }
            }
        }
    }
}

/// Paint an anti-aliased disc: `a = max(a, coverage)`.
pub(crate) fn disc(a: &mut Array2<f64>, centre: [f64; 2], radius: f64) {
    stroke(a, &[centre, centre], radius, radius);
}

/// A uniform point of the field of view (rejection sampling in its bounding box).
fn point_in_fov(img: &RgbImage, rng: &mut SampleRng) -> [f64; 2] {
    let (rows, cols) = img.shape();
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
            return [r, c];
        }
    }
    [(rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0]
}

/// The sharp absorption maps `(lashes, dust)` of the occluders (before defocus).
pub fn silhouettes(p: &ShadowParams, img: &RgbImage) -> Result<(Array2<f64>, Array2<f64>)> {
    let g: FovGeometry = fov_geometry(img)?;
    let d = g.diameter;
    let root = Seed::from_u64(p.seed);
    let mut lash = Array2::<f64>::zeros(img.shape());
    for k in 0..p.lashes {
        let mut rng = root.child(&format!("lash/{k}")).rng();
        // root on the FOV border within ±60° of the top; angle measured from "up"
        let phi = (rng.random::<f64>() * 2.0 - 1.0) * 60f64.to_radians();
        let rad = 0.5 * d;
        let start = [g.centre[0] - rad * phi.cos(), g.centre[1] + rad * phi.sin()];
        let dev = (rng.random::<f64>() * 2.0 - 1.0) * 25f64.to_radians();
        let (mut dir_r, mut dir_c) = (g.centre[0] - start[0], g.centre[1] - start[1]);
        let nn = dir_r.hypot(dir_c).max(1e-9);
        (dir_r, dir_c) = (dir_r / nn, dir_c / nn);
        let (dr, dc) = (
            dir_r * dev.cos() - dir_c * dev.sin(),
            dir_r * dev.sin() + dir_c * dev.cos(),
        );
        let len = p.lash_length * d;
        let end = [start[0] + dr * len, start[1] + dc * len];
        let bend = (rng.random::<f64>() * 2.0 - 1.0) * 0.25 * len;
        let ctrl = [
            0.5 * (start[0] + end[0]) - dc * bend,
            0.5 * (start[1] + end[1]) + dr * bend,
        ];
        let pts: Vec<[f64; 2]> = (0..=32)
            .map(|i| {
                let t = i as f64 / 32.0;
                let (a, b, c) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
                [
                    a * start[0] + b * ctrl[0] + c * end[0],
                    a * start[1] + b * ctrl[1] + c * end[1],
                ]
            })
            .collect();
        let hw = 0.5 * p.lash_width * d;
        stroke(&mut lash, &pts, hw, 0.4 * hw);
    }
    let mut dust = Array2::<f64>::zeros(img.shape());
    if p.dust_coverage > 0.0 {
        let rbar = p.dust_radius * d;
        let mean_r2 = rbar * rbar * 13.0 / 12.0;
        let n = (p.dust_coverage * g.area / (std::f64::consts::PI * mean_r2)).round();
        if n > MAX_DUST as f64 {
            return Err(PhotoError::param(
                "dust_coverage",
                format!("{n} dust particles exceed {MAX_DUST}; use larger dust_radius"),
            ));
        }
        let mut rng = root.child("dust").rng();
        for _ in 0..n as usize {
            let c = point_in_fov(img, &mut rng);
            let r = rbar * (0.5 + rng.random::<f64>());
            disc(&mut dust, c, r);
        }
    }
    Ok((lash, dust))
}

/// The transmission map `T` (see the module docs).
pub fn transmission(p: &ShadowParams, img: &RgbImage) -> Result<Array2<f64>> {
    let g = fov_geometry(img)?;
    let (lash, dust) = silhouettes(p, img)?;
    let mut t = Array2::<f64>::from_elem(img.shape(), 1.0);
    // each occluder layer present, with its blur disc
    let layer = |a: Array2<f64>, defocus: f64| -> Result<Option<(Array2<f64>, Psf)>> {
        if a.iter().all(|&v| v == 0.0) {
            return Ok(None);
        }
        let dpx = (defocus * g.diameter).min(MAX_DIAMETER_PX);
        Ok(Some((a.mapv(|v| p.opacity * v), disc_psf(dpx)?)))
    };
    let blurred = match (layer(lash, p.lash_defocus)?, layer(dust, p.dust_defocus)?) {
        (None, None) => Vec::new(),
        (Some((a, k)), None) | (None, Some((a, k))) => convolve_planes_f32_fft(&[a.view()], &k),
        (Some((a, ka)), Some((b, kb))) => {
            // lashes and dust through one transform pair (two kernels)
            let (x, y) = convolve_two_f32_fft(a.view(), &ka, b.view(), &kb);
            vec![x, y]
        }
    };
    for b in &blurred {
        t.zip_mut_with(b, |t, &b| *t *= (1.0 - b).clamp(0.0, 1.0));
    }
    Ok(t)
}

/// Multiply the image by the occluders' transmission inside the field of view.
pub fn apply(p: &ShadowParams, img: &RgbImage) -> Result<RgbImage> {
    if p.opacity == 0.0 || (p.lashes == 0 && p.dust_coverage == 0.0) {
        return Ok(img.clone());
    }
    let t = transmission(p, img)?;
    let mut out = img.data.clone();
    for mut plane in out.outer_iter_mut() {
        let scale = |v: &mut f32, &t: &f64| {
            if t < 1.0 {
                *v = (*v as f64 * t) as f32;
            }
        };
        match &img.fov {
            None => ndarray::Zip::from(&mut plane).and(&t).for_each(scale),
            Some(m) => ndarray::Zip::from(&mut plane)
                .and(&t)
                .and(m)
                .for_each(|v, t, &inside| {
                    if inside {
                        scale(v, t)
                    }
                }),
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn flat(n: usize, fov_radius: Option<f64>) -> RgbImage {
        let c = (n as f64 - 1.0) / 2.0;
        RgbImage::new(
            Array3::from_shape_fn((3, n, n), |(k, _, _)| [0.6f32, 0.3, 0.2][k]),
            [1.0, 1.0],
            Modality::Fundus,
            fov_radius.map(|rad| {
                Array2::from_shape_fn((n, n), |(r, k)| (r as f64 - c).hypot(k as f64 - c) <= rad)
            }),
        )
        .unwrap()
    }

    fn params() -> ShadowParams {
        ShadowParams {
            lashes: 0,
            lash_width: 0.012,
            lash_length: 0.5,
            lash_defocus: 0.06,
            dust_coverage: 0.0,
            dust_radius: 0.01,
            dust_defocus: 0.0,
            opacity: 1.0,
            seed: 3,
        }
    }

    /// Sharp opaque dust covers 1 − exp(−coverage) of the field (Boolean model), within 0.02.
    #[test]
    fn dust_area_fraction_matches_the_boolean_model() {
        let img = flat(300, None);
        for cov in [0.1, 0.3, 0.8] {
            let p = ShadowParams {
                dust_coverage: cov,
                dust_radius: 0.012,
                ..params()
            };
            let (_, dust) = silhouettes(&p, &img).unwrap();
            let covered = dust.sum() / dust.len() as f64;
            let e = 1.0 - (-cov).exp();
            assert!(
                (covered - e).abs() < 0.02,
                "coverage {cov}: {covered} vs {e}"
            );
        }
    }

    /// Shadows only darken, by the same factor in every channel; defocus conserves the
    /// absorbed light; zero occluders or zero opacity is the identity; outside the field of
    /// view nothing changes; same seed same bytes.
    #[test]
    fn multiplicative_neutral_conserving_and_identity() {
        let img = flat(200, Some(70.0));
        let p = ShadowParams {
            lashes: 3,
            lash_defocus: 0.08,
            dust_coverage: 0.05,
            dust_defocus: 0.05,
            opacity: 0.6,
            ..params()
        };
        let out = apply(&p, &img).unwrap();
        let mut darker = 0;
        for r in 0..200 {
            for c in 0..200 {
                let f: Vec<f64> = (0..3)
                    .map(|k| out.data[[k, r, c]] as f64 / img.data[[k, r, c]] as f64)
                    .collect();
                assert!(f.iter().all(|x| (0.0..=1.0 + 1e-7).contains(x)));
                assert!((f[0] - f[1]).abs() < 1e-5 && (f[1] - f[2]).abs() < 1e-5);
                if !img.in_fov(r, c) {
                    assert_eq!(f[0], 1.0);
                }
                darker += (f[0] < 0.99) as usize;
            }
        }
        assert!(darker > 500, "{darker}");
        // conservation of absorbed light under the defocus blur (dust only: stays in frame)
        let dp = ShadowParams {
            lashes: 0,
            ..p.clone()
        };
        let (_, a) = silhouettes(&dp, &img).unwrap();
        let t = transmission(&dp, &img).unwrap();
        let absorbed: f64 = t.iter().map(|v| 1.0 - v).sum();
        let sharp = 0.6 * a.sum();
        assert!(
            (absorbed / sharp - 1.0).abs() < 1e-6,
            "{absorbed} vs {sharp}"
        );
        // identity and seeds
        assert_eq!(apply(&params(), &img).unwrap().data, img.data);
        let z = ShadowParams {
            opacity: 0.0,
            ..p.clone()
        };
        assert_eq!(apply(&z, &img).unwrap().data, img.data);
        assert_eq!(apply(&p, &img).unwrap().data, out.data);
        let other = ShadowParams {
            seed: 4,
            ..p.clone()
        };
        assert_ne!(apply(&other, &img).unwrap().data, out.data);
        let bad = ShadowParams {
            dust_coverage: 1.0,
            dust_radius: 0.001,
            ..p
        };
        assert!(apply(&bad, &img)
            .unwrap_err()
            .to_string()
            .contains("dust_coverage"));
    }

    /// Lashes and dust together (one packed transform pair) give the product of each
    /// layer's own transmission (single-plane transforms), to f32 transform precision.
    #[test]
    fn both_layers_are_the_product_of_each() {
        let img = flat(160, Some(75.0));
        let both = ShadowParams {
            lashes: 3,
            lash_width: 0.03,
            dust_coverage: 0.06,
            dust_radius: 0.02,
            dust_defocus: 0.05,
            opacity: 0.9,
            ..params()
        };
        let lash = ShadowParams {
            dust_coverage: 0.0,
            ..both.clone()
        };
        let dust = ShadowParams {
            lashes: 0,
            ..both.clone()
        };
        let (t, t1, t2) = (
            transmission(&both, &img).unwrap(),
            transmission(&lash, &img).unwrap(),
            transmission(&dust, &img).unwrap(),
        );
        assert!(t1.iter().any(|&v| v < 0.95) && t2.iter().any(|&v| v < 0.95));
        let worst = t
            .iter()
            .zip(t1.iter().zip(&t2))
            .map(|(&a, (&b, &c))| (a - b * c).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2e-5, "{worst}");
    }
}
