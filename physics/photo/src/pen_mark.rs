//! Pen mark: the operator `photo.pen_mark` — a stroke of marker ink on the slide (pathologists
//! circle regions with felt-tip markers), a semi-transparent dye layer added as optical
//! density.
//!
//! # Model
//! The stroke's centre line is a smooth random path ([`crate::slide::random_stroke`]: length
//! `length` short sides, heading turning by `N(0, curl_deg²)` between six control points, from
//! the stream `Seed::from_u64(seed).child("path")`). A pixel at distance `d` from it and arc
//! length `s` along it carries ink of optical density
//!
//! ```text
//! OD_k = density · ink_k · (1 + variation · n(s)) · (1 − smoothstep(w/2 − e, w/2, |d|))
//! ```
//!
//! with `w` the stroke width, `e = min(1.5 px, w/2)` the soft felt-tip edge, `n(s) ∈ [−1, 1]`
//! value noise along the stroke (cell `2w`: the tip running dry and re-inking) and `ink` the
//! dye's relative OD per channel (max 1): blue `(1.0, 0.55, 0.12)` absorbs red and green, green
//! `(1.0, 0.3, 0.8)` red and blue, red `(0.08, 1.0, 0.85)` green and blue, black
//! `(1.0, 0.95, 0.9)` all. By Beer–Lambert the layer multiplies the transmitted light by
//! `10^(−OD)` (dye over tissue darkens both, nothing is painted). The ends are round caps.
//! `density = 0`, `width = 0` or `length = 0` is the identity.
//!
//! # Units
//! `width`, `length`: fractions of the shorter side; `density`: decadic OD of the most
//! absorbed channel; `curl_deg`: degrees per control-point step.
//!
//! # References
//! - A. C. Ruifrok, D. A. Johnston, Anal. Quant. Cytol. Histol. 23(4), 2001 (OD additivity).
//! - S. Ali et al., "Ink removal from histopathology whole slide images by combining
//!   classification, detection and image generation models", ISBI 2021 (marker colours).

use crate::slide::{
    composite_od_scaled, random_stroke, short_side, smoothstep, value_noise, Curve,
};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng, Seed};
use ndarray::Array2;

artefact_core::choice! {
    /// Marker dye.
    pub enum Ink {
        /// Blue marker (absorbs red and green).
        Blue = "blue",
        /// Green marker (absorbs red and blue).
        Green = "green",
        /// Black marker (absorbs all).
        Black = "black",
        /// Red marker (absorbs green and blue).
        Red = "red",
    }
}

impl Ink {
    /// Relative optical density per channel (max 1).
    pub fn od(self) -> [f64; 3] {
        match self {
            Ink::Blue => [1.0, 0.55, 0.12],
            Ink::Green => [1.0, 0.3, 0.8],
            Ink::Black => [1.0, 0.95, 0.9],
            Ink::Red => [0.08, 1.0, 0.85],
        }
    }
}

artefact_core::params! {
    /// Parameters of [`PenMark`] (recorded in manifests, replayed exactly).
    pub struct PenMarkParams {
        /// marker dye
        pub ink: Ink = choice(Ink::Blue),
        /// mean optical density of the ink in its most absorbed channel
        pub density: f64 = float(0.5, [0.0, 4.0], "OD"),
        /// relative variation of the ink density along the stroke
        pub variation: f64 = float(0.3, [0.0, 1.0], "fraction"),
        /// stroke width, fraction of the shorter side
        pub width: f64 = float(0.05, [0.0, 0.5], "fraction"),
        /// stroke length, fraction of the shorter side
        pub length: f64 = float(0.8, [0.0, 5.0], "fraction"),
        /// turn of the stroke's heading per control-point step (standard deviation)
        pub curl_deg: f64 = float(25.0, [0.0, 120.0], "deg"),
        /// seed of the path and of the density variation; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.pen_mark` (see the module docs).
pub struct PenMark;

static INFO: OpInfo = OpInfo {
    name: "photo.pen_mark",
    modality: "photo",
    doc: "Marker pen on the slide: a broad smooth random stroke of blue, green, red or black dye, semi-transparent (its optical density is added, Beer–Lambert), the ink density varying along the stroke.",
    params: PenMarkParams::PARAMS,
};

impl ColourOperator for PenMark {
    type Params = PenMarkParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<PenMarkParams> {
        Ok(PenMarkParams::sample(spec, rng)?)
    }
    fn apply(p: &PenMarkParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// The stroke's centre line on an image of `rows × cols`.
pub fn stroke(p: &PenMarkParams, rows: usize, cols: usize) -> Result<Curve> {
    let short = rows.min(cols) as f64;
    let mut rng = Seed::from_u64(p.seed).child("path").rng();
    random_stroke(&mut rng, rows, cols, p.length * short, p.curl_deg, 6)
}

/// Add the ink layer (see module docs).
pub fn apply(p: &PenMarkParams, img: &RgbImage) -> Result<RgbImage> {
    if p.density == 0.0 || p.width == 0.0 || p.length == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let w = p.width * short_side(img);
    let e = (1.5f64).min(w / 2.0);
    let field = stroke(p, rows, cols)?.field(rows, cols, w / 2.0 + 1.0);
    let noise_seed: u64 = rand::Rng::random(&mut Seed::from_u64(p.seed).child("density").rng());
    let ink = p.ink.od();
    let mut layer = Array2::<f64>::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let d = field.dist[[r, c]].abs();
            if !d.is_finite() {
                continue;
            }
            let edge = 1.0 - smoothstep(w / 2.0 - e, w / 2.0, d);
            if edge <= 0.0 {
                continue;
            }
            let n = value_noise(noise_seed, field.arc[[r, c]], 0.0, 2.0 * w, 2);
            layer[[r, c]] = p.density * (1.0 + p.variation * n).max(0.0) * edge;
        }
    }
    // the ink layer is `layer · ink[k]` in channel k
    composite_od_scaled(img, &layer, ink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn white(fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_elem((3, 120, 120), 1.0),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn params() -> PenMarkParams {
        PenMarkParams {
            ink: Ink::Green,
            density: 0.7,
            variation: 0.0,
            width: 0.1,
            length: 0.5,
            curl_deg: 0.0,
            seed: 3,
        }
    }

    /// On glass, the stroke's core has exactly the ink's OD and a straight stroke covers
    /// length × width plus its two round caps.
    #[test]
    fn ink_od_and_stroke_area() {
        let img = white(None);
        // the first seed whose stroke lies inside the frame
        let inside = |p: &PenMarkParams| {
            stroke(p, 120, 120)
                .unwrap()
                .points
                .iter()
                .all(|q| q[0] > 8.0 && q[0] < 111.0 && q[1] > 8.0 && q[1] < 111.0)
        };
        let p = (0..100)
            .map(|seed| PenMarkParams { seed, ..params() })
            .find(inside)
            .unwrap();
        let out = apply(&p, &img).unwrap();
        let ink = p.ink.od();
        let (mut core, mut area) = (0, 0.0);
        for r in 0..120 {
            for c in 0..120 {
                let o: [f64; 3] =
                    std::array::from_fn(|k| crate::stain::od(out.data[[k, r, c]] as f64, 1.0));
                let f = o[0] / p.density;
                area += f;
                if f > 1.0 - 1e-6 {
                    core += 1;
                    for k in 0..3 {
                        assert!((o[k] - p.density * ink[k]).abs() < 1e-5, "{o:?}");
                    }
                }
                assert!(f <= 1.0 + 1e-6);
            }
        }
        assert!(core > 500);
        let w: f64 = 12.0;
        // soft edge: smoothstep over 1.5 px inside the border removes 0.75 px on each side
        let want = 60.0 * (w - 1.5) + std::f64::consts::PI * ((w - 1.5) / 2.0).powi(2);
        assert!((area / want - 1.0).abs() < 0.03, "{area} vs {want}");
    }

    #[test]
    fn identity_fov_seeds_and_variation() {
        let mask = Array2::from_shape_fn((120, 120), |(r, _)| r >= 60);
        let img = white(Some(mask.clone()));
        let p = PenMarkParams {
            variation: 0.5,
            curl_deg: 40.0,
            length: 1.5,
            ..params()
        };
        let a = apply(&p, &img).unwrap();
        assert_eq!(a.data, apply(&p, &img).unwrap().data);
        assert_ne!(
            a.data,
            apply(
                &PenMarkParams {
                    seed: 4,
                    ..p.clone()
                },
                &img
            )
            .unwrap()
            .data
        );
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            }
        }
        // the density varies along the stroke: core ODs spread
        let ods: Vec<f64> = a
            .channel(0)
            .iter()
            .filter(|&&v| v < 0.95)
            .map(|&v| -(v as f64).log10())
            .collect();
        let (lo, hi) = ods
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(hi > 0.7 * 1.15 && lo < 0.7, "{lo} {hi}");
        for zero in [
            PenMarkParams {
                density: 0.0,
                ..p.clone()
            },
            PenMarkParams {
                width: 0.0,
                ..p.clone()
            },
        ] {
            assert_eq!(apply(&zero, &img).unwrap().data, img.data);
        }
        assert!(PenMark::apply(&PenMarkParams { density: -1.0, ..p }, &img)
            .unwrap_err()
            .to_string()
            .contains("density"));
    }
}
