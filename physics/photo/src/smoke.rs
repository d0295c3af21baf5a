//! Surgical smoke (endoscopy): a scattering veil whose transmission is turbulent.
//!
//! # Model
//! The veil of [`crate::veil`], `I = J·t + A·(1 − t)`, with a spatially varying optical depth
//! of the smoke (Beer–Lambert along the line of sight):
//!
//! ```text
//! t(x) = exp(−τ(x)),     τ(x) = density · (1 + turbulence · (2·f(x) − 1))
//! ```
//!
//! where `f ∈ [0, 1]` is seeded fractal (fBm) value noise ([`crate::support::fractal_noise`],
//! `octaves` octaves, the largest cells `scale` field-of-view diameters across), whose values
//! (which concentrate around ½ as octaves average) are stretched ×[`NOISE_STRETCH`] about ½
//! and clamped to `[0, 1]`, so that smoke with `turbulence = 1` ranges from clear gaps to
//! twice the mean density. The mean optical depth is `density` (exactly, for a noise
//! symmetric about ½) and `turbulence` sets how patchy the smoke is (0 = a uniform fog). The airlight is grey-white, `A = airlight · Ȳ`
//! (`Ȳ` the field's mean luminance: the smoke scatters the endoscope's own light).
//! `density = 0` is the identity.
//!
//! # Randomness
//! The noise lattice is a pure function of `seed` (`Seed::from_u64(seed).child("smoke")`).
//!
//! # Units
//! `density`: optical depth (nepers); `scale`: field-of-view diameters; `airlight`: multiples
//! of the field's mean luminance.
//!
//! # References
//! - S. K. Nayar, S. G. Narasimhan, "Vision in bad weather", ICCV 1999 (attenuation + airlight).
//! - K. Perlin, "An image synthesizer", SIGGRAPH 1985 (fractal noise for turbulent media).

use crate::error::check_range;
use crate::support::{fov_geometry, fractal_noise, mean_luminance};
use crate::veil::apply_with_transmission;
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng, Seed};

/// Stretch of the fractal noise about ½ (see the module docs).
pub const NOISE_STRETCH: f64 = 3.0;

artefact_core::params! {
    /// Parameters of [`Smoke`] (recorded in manifests, replayed exactly).
    pub struct SmokeParams {
        /// mean optical depth of the smoke along the line of sight (0 = clear)
        pub density: f64 = float(0.5, [0.0, 5.0], "nepers"),
        /// patchiness: relative modulation of the optical depth by the fractal noise (0 = uniform fog)
        pub turbulence: f64 = float(0.7, [0.0, 1.0], "fraction"),
        /// size of the largest smoke eddies
        pub scale: f64 = float(0.35, [0.02, 2.0], "FOV diameters"),
        /// number of noise octaves (finer eddies)
        pub octaves: u32 = int(4, [1, 8]),
        /// brightness of the scattered light, in multiples of the field's mean luminance
        pub airlight: f64 = float(1.6, [0.0, 20.0], "× mean luminance"),
        /// seed of the smoke realisation; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.smoke` (see the module docs).
pub struct Smoke;

static INFO: OpInfo = OpInfo {
    name: "photo.smoke",
    modality: "photo",
    doc: "Surgical smoke: a scattering veil I = J·t + A·(1 − t) whose optical depth is modulated by seeded fractal noise (patchy, turbulent haze) with a grey-white airlight.",
    params: SmokeParams::PARAMS,
};

impl ColourOperator for Smoke {
    type Params = SmokeParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SmokeParams> {
        Ok(SmokeParams::sample(spec, rng)?)
    }
    fn apply(p: &SmokeParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// The transmission map of the smoke for `img`'s geometry.
pub fn transmission(p: &SmokeParams, img: &RgbImage) -> Result<ndarray::Array2<f64>> {
    check_range("density", p.density, 0.0, 5.0)?;
    check_range("turbulence", p.turbulence, 0.0, 1.0)?;
    check_range("scale", p.scale, 0.02, 2.0)?;
    let g = fov_geometry(img)?;
    let (rows, cols) = img.shape();
    let f = fractal_noise(
        rows,
        cols,
        p.scale * g.diameter,
        p.octaves.clamp(1, 8) as usize,
        Seed::from_u64(p.seed).child("smoke"),
    );
    Ok(f.mapv(|f| {
        let f = (0.5 + NOISE_STRETCH * (f - 0.5)).clamp(0.0, 1.0);
        (-p.density * (1.0 + p.turbulence * (2.0 * f - 1.0))).exp()
    }))
}

/// Apply the smoke inside the field of view.
pub fn apply(p: &SmokeParams, img: &RgbImage) -> Result<RgbImage> {
    check_range("airlight", p.airlight, 0.0, 20.0)?;
    if p.density == 0.0 {
        return Ok(img.clone());
    }
    let t = transmission(p, img)?;
    let a = p.airlight * mean_luminance(img);
    apply_with_transmission(&t, [a; 3], img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::{Array2, Array3};

    fn img() -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 64, 80), |(c, r, k)| {
                0.1 + 0.3 * (((r * 7 + k * 3 + c * 5) % 17) as f32 / 17.0)
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            Some(Array2::from_shape_fn((64, 80), |(r, c)| {
                (r as f64 - 32.0).hypot(c as f64 - 40.0) < 30.0
            })),
        )
        .unwrap()
    }

    fn p(density: f64, turbulence: f64, seed: u64) -> SmokeParams {
        SmokeParams {
            density,
            turbulence,
            scale: 0.3,
            octaves: 4,
            airlight: 1.5,
            seed,
        }
    }

    /// Uniform fog (turbulence 0): t = exp(−density) exactly, and contrast about the airlight
    /// contracts by t. Density 0: identity. Outside the FOV untouched; seeds.
    #[test]
    fn beer_lambert_transmission_identity_fov_and_seed() {
        let j = img();
        assert_eq!(apply(&p(0.0, 0.7, 1), &j).unwrap().data, j.data);
        let fog = p(0.8, 0.0, 1);
        let t = transmission(&fog, &j).unwrap();
        assert!(t.iter().all(|&v| (v - (-0.8f64).exp()).abs() < 1e-12));
        let a = 1.5 * mean_luminance(&j);
        let o = apply(&fog, &j).unwrap();
        for ((c, r, k), &v) in o.data.indexed_iter() {
            if j.in_fov(r, k) {
                let e = (j.data[[c, r, k]] as f64 - a) * (-0.8f64).exp() + a;
                assert!((v as f64 - e).abs() < 1e-6);
            } else {
                assert_eq!(v.to_bits(), j.data[[c, r, k]].to_bits());
            }
        }
        // turbulent: mean optical depth ≈ density (noise mean ≈ ½), t varies
        let turb = p(1.0, 1.0, 9);
        let t = transmission(&turb, &j).unwrap();
        let tau: Vec<f64> = t.iter().map(|v| -v.ln()).collect();
        let m = tau.iter().sum::<f64>() / tau.len() as f64;
        assert!((m - 1.0).abs() < 0.25, "mean optical depth {m}");
        let (lo, hi) = tau
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(hi - lo > 0.3, "{lo}..{hi}");
        let a1 = apply(&turb, &j).unwrap();
        let a2 = apply(&turb, &j).unwrap();
        let b = apply(&p(1.0, 1.0, 10), &j).unwrap();
        assert_eq!(a1.data, a2.data);
        assert_ne!(a1.data, b.data);
        assert!(apply(&p(9.0, 1.0, 1), &j)
            .unwrap_err()
            .to_string()
            .contains("density"));
    }
}
