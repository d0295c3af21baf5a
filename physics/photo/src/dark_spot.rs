//! Dark spots (debris, dust): the operator `photo.dark_spot` — small dense particles with
//! irregular outlines on or above the section, some in focus and some out of focus, added as
//! optical density.
//!
//! # Model
//! `count` particles are drawn from the seed (each from its own stream
//! `Seed::from_u64(seed).child("particle/<i>")`): centre uniform over the frame, mean radius
//! `R` log-uniform in `[size/2, 2·size]` short sides, outline `ρ(φ) = R·(1 + roughness·Σ_{k=2}^{5}
//! a_k cos(kφ + ψ_k))` with `a_k ∝ 1/k` (normalised to Σ a_k = 1), density `density · U(0.6, 1)`.
//! A particle covers a pixel by the anti-aliased fraction `clamp(ρ(φ) − r + ½, 0, 1)` and adds
//! `OD = coverage · density · colour` (colour a slightly brownish neutral,
//! `(0.95, 1.0, 1.1)`). A particle is out of focus with probability `defocused`: it lies on
//! the coverslip, above the focal plane, and its absorbance `1 − 10^(−OD)` is blurred by the
//! disc PSF of diameter `blur_px` ([`crate::slide::blur_absorbance`]), conserving the absorbed
//! light. In-focus layers multiply the transmitted light by `10^(−OD)` (Beer–Lambert).
//! `count = 0` or `density = 0` is the identity.
//!
//! # Units
//! `size`: fraction of the shorter side; `density`: decadic OD; `blur_px`: pixels.
//!
//! # References
//! - A. C. Ruifrok, D. A. Johnston, Anal. Quant. Cytol. Histol. 23(4), 2001 (OD additivity).
//! - M. Born, E. Wolf, *Principles of Optics*, §9 (defocus as a disc PSF in geometric optics).
//! - S. Kothari et al., "Pathology imaging informatics for quantitative analysis of whole-slide
//!   images", JAMIA 20(6), 2013 (slide artefacts: dust, debris, pen, folds, bubbles).

use crate::slide::{blur_absorbance_tinted, composite_od};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng, Seed};
use ndarray::Array2;
use rand::Rng;

/// OD colour of debris (relative per channel): a slightly brownish neutral.
pub const DEBRIS_COLOUR: [f64; 3] = [0.95, 1.0, 1.1];

artefact_core::params! {
    /// Parameters of [`DarkSpot`] (recorded in manifests, replayed exactly).
    pub struct DarkSpotParams {
        /// number of particles
        pub count: u32 = int(8, [0, 2000], "particles"),
        /// median particle radius (radii log-uniform in [size/2, 2·size]), fraction of the shorter side
        pub size: f64 = float(0.012, [0.0, 0.2], "fraction"),
        /// peak optical density of a particle (each scaled by U(0.6, 1))
        pub density: f64 = float(1.5, [0.0, 6.0], "OD"),
        /// irregularity of the outline (relative radius modulation)
        pub roughness: f64 = float(0.3, [0.0, 0.9], "fraction"),
        /// probability that a particle is out of focus (on the coverslip)
        pub defocused: f64 = float(0.5, [0.0, 1.0], "fraction"),
        /// blur-disc diameter of the out-of-focus particles
        pub blur_px: f64 = float(8.0, [0.0, 128.0], "px"),
        /// seed of the particles' positions, sizes and outlines; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.dark_spot` (see the module docs).
pub struct DarkSpot;

static INFO: OpInfo = OpInfo {
    name: "photo.dark_spot",
    modality: "photo",
    doc: "Debris and dust on the slide: dense particles with irregular outlines added as optical density (Beer–Lambert), the out-of-focus ones blurred by a disc PSF conserving the absorbed light.",
    params: DarkSpotParams::PARAMS,
};

impl ColourOperator for DarkSpot {
    type Params = DarkSpotParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<DarkSpotParams> {
        Ok(DarkSpotParams::sample(spec, rng)?)
    }
    fn apply(p: &DarkSpotParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// One particle: centre `(row, col)`, mean radius (px), outline harmonics, density, focus.
#[derive(Clone, Debug, PartialEq)]
pub struct Particle {
    pub centre: [f64; 2],
    pub radius: f64,
    /// `(amplitude, phase)` of the harmonics k = 2..5 (amplitudes sum to `roughness`).
    pub harmonics: [(f64, f64); 4],
    pub density: f64,
    pub in_focus: bool,
}

impl Particle {
    /// Outline radius at polar angle `phi`.
    pub fn outline(&self, phi: f64) -> f64 {
        let m: f64 = self
            .harmonics
            .iter()
            .enumerate()
            .map(|(i, (a, ps))| a * ((i as f64 + 2.0) * phi + ps).cos())
            .sum();
        self.radius * (1.0 + m)
    }
}

/// The particles of `p` on an image of `rows × cols` (short side `short` px).
pub fn particles(p: &DarkSpotParams, rows: usize, cols: usize) -> Vec<Particle> {
    let short = rows.min(cols) as f64;
    let root = Seed::from_u64(p.seed);
    let norm: f64 = (2..=5).map(|k| 1.0 / k as f64).sum();
    (0..p.count)
        .map(|i| {
            let mut rng = root.child(&format!("particle/{i}")).rng();
            let centre = [
                rng.random::<f64>() * rows as f64 - 0.5,
                rng.random::<f64>() * cols as f64 - 0.5,
            ];
            let radius = p.size * short * 2f64.powf(rng.random::<f64>() * 2.0 - 1.0);
            let harmonics = std::array::from_fn(|k| {
                let a = p.roughness / ((k + 2) as f64 * norm) * rng.random::<f64>();
                (a, rng.random::<f64>() * std::f64::consts::TAU)
            });
            let density = p.density * (0.6 + 0.4 * rng.random::<f64>());
            let in_focus = rng.random::<f64>() >= p.defocused;
            Particle {
                centre,
                radius,
                harmonics,
                density,
                in_focus,
            }
        })
        .collect()
}

/// Rasterise a particle's OD (unit colour) into `plane` (adds where particles overlap).
fn rasterise(part: &Particle, plane: &mut Array2<f64>) {
    let (rows, cols) = plane.dim();
    let reach = part.radius * (1.0 + part.harmonics.iter().map(|h| h.0).sum::<f64>()) + 1.0;
    let (cy, cx) = (part.centre[0], part.centre[1]);
    let r0 = (cy - reach).floor().max(0.0) as usize;
    let c0 = (cx - reach).floor().max(0.0) as usize;
    let r1 = ((cy + reach).ceil().max(-1.0) as i64).min(rows as i64 - 1);
    let c1 = ((cx + reach).ceil().max(-1.0) as i64).min(cols as i64 - 1);
    if r1 < 0 || c1 < 0 {
        return;
    }
    for r in r0..=r1 as usize {
        for c in c0..=c1 as usize {
            let (y, x) = (r as f64 - cy, c as f64 - cx);
            let rho = y.hypot(x);
            let cover = (part.outline(y.atan2(x)) - rho + 0.5).clamp(0.0, 1.0);
            if cover > 0.0 {
                plane[[r, c]] += cover * part.density;
            }
        }
    }
}

/// Add the particles (see module docs).
pub fn apply(p: &DarkSpotParams, img: &RgbImage) -> Result<RgbImage> {
    if p.count == 0 || p.density == 0.0 || p.size == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let mut sharp = Array2::<f64>::zeros((rows, cols));
    let mut soft = Array2::<f64>::zeros((rows, cols));
    let mut any_soft = false;
    for part in particles(p, rows, cols) {
        if part.in_focus || p.blur_px == 0.0 {
            rasterise(&part, &mut sharp);
        } else {
            rasterise(&part, &mut soft);
            any_soft = true;
        }
    }
    let layer: [Array2<f64>; 3] = if any_soft {
        // sharp · colour + blurred, summed into the blurred planes (the same sums)
        let mut blurred = blur_absorbance_tinted(&soft, DEBRIS_COLOUR, p.blur_px)?;
        for (k, b) in blurred.iter_mut().enumerate() {
            b.zip_mut_with(&sharp, |b, &d| *b += d * DEBRIS_COLOUR[k]);
        }
        blurred
    } else {
        std::array::from_fn(|k| sharp.mapv(|d| d * DEBRIS_COLOUR[k]))
    };
    composite_od(img, &layer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn flat(level: f32, fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_elem((3, 96, 96), level),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn one(defocused: f64) -> DarkSpotParams {
        DarkSpotParams {
            count: 1,
            size: 0.08,
            density: 1.2,
            roughness: 0.0,
            defocused,
            blur_px: 9.0,
            seed: 11,
        }
    }

    /// A round in-focus particle adds exactly its OD inside and covers πR² (anti-aliased);
    /// out of focus it absorbs the same light, spread over a larger, paler disc.
    #[test]
    fn particle_od_area_and_conserved_absorption() {
        let img = flat(0.8, None);
        let part = &particles(&one(0.0), 96, 96)[0];
        let sharp = apply(&one(0.0), &img).unwrap();
        let od = |x: &RgbImage, k, r, c| crate::stain::od(x.data[[k, r, c]] as f64, 0.8);
        let (cy, cx) = (
            part.centre[0].round() as usize,
            part.centre[1].round() as usize,
        );
        for k in 0..3 {
            let want = part.density * DEBRIS_COLOUR[k];
            assert!((od(&sharp, k, cy, cx) - want).abs() < 1e-5);
        }
        // coverage from the green channel: OD / density summed over the frame
        let (rows, cols) = (96, 96);
        let mut area = 0.0;
        for r in 0..rows {
            for c in 0..cols {
                area += od(&sharp, 1, r, c) / part.density;
            }
        }
        let want = std::f64::consts::PI * part.radius * part.radius;
        // particles near the border are clipped: only check when fully inside
        // (the seed puts the particle and its blur disc well inside the frame)
        let m = part.radius + 6.0;
        assert!(
            part.centre.iter().all(|&v| v > m && v < 95.0 - m),
            "{part:?}"
        );
        assert!((area / want - 1.0).abs() < 0.02, "{area} vs {want}");
        let soft = apply(&one(1.0), &img).unwrap();
        let absorbed = |x: &RgbImage| x.data.iter().map(|&v| 0.8 - v as f64).sum::<f64>();
        assert!((absorbed(&soft) / absorbed(&sharp) - 1.0).abs() < 1e-4);
        assert!(od(&soft, 1, cy, cx) < od(&sharp, 1, cy, cx));
        // the same particle either way: a defocus decision does not move it
        assert_eq!(particles(&one(1.0), 96, 96)[0].centre, part.centre);
    }

    #[test]
    fn identity_fov_and_seeds() {
        let mask = Array2::from_shape_fn((96, 96), |(r, c)| r * r + c * c > 900);
        let img = flat(0.7, Some(mask.clone()));
        let p = DarkSpotParams {
            count: 40,
            size: 0.03,
            density: 2.0,
            roughness: 0.5,
            defocused: 0.5,
            blur_px: 6.0,
            seed: 5,
        };
        let a = apply(&p, &img).unwrap();
        assert_eq!(a.data, apply(&p, &img).unwrap().data);
        let b = apply(
            &DarkSpotParams {
                seed: 6,
                ..p.clone()
            },
            &img,
        )
        .unwrap();
        assert_ne!(a.data, b.data);
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            }
            assert!(v <= 0.7);
        }
        let zero = DarkSpotParams {
            count: 0,
            ..p.clone()
        };
        assert_eq!(apply(&zero, &img).unwrap().data, img.data);
        let zero = DarkSpotParams {
            density: 0.0,
            ..p.clone()
        };
        assert_eq!(apply(&zero, &img).unwrap().data, img.data);
        // covered fraction grows with the count
        let dark = |x: &RgbImage| x.data.iter().filter(|&&v| v < 0.69).count();
        let more = apply(
            &DarkSpotParams {
                count: 120,
                ..p.clone()
            },
            &img,
        )
        .unwrap();
        assert!(dark(&more) > dark(&a));
        assert!(DarkSpot::apply(
            &DarkSpotParams {
                roughness: 1.5,
                ..p
            },
            &img
        )
        .unwrap_err()
        .to_string()
        .contains("roughness"));
    }
}
