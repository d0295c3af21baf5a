//! Thread: the operator `photo.thread` — textile fibres lying on the section or the coverslip,
//! long thin curved absorbing cylinders, slightly out of focus.
//!
//! # Model
//! Each of `count` fibres follows a smooth random path ([`crate::slide::random_stroke`]:
//! length `length` short sides, heading turning by `N(0, curl_deg²)` between ten control
//! points, stream `Seed::from_u64(seed).child("fibre/<i>")`). A fibre is a cylinder of
//! diameter `width_px`; light crossing it at distance `d` from its axis travels the chord
//! `width·√(1 − (2d/width)²)`, so its optical density is
//!
//! ```text
//! OD_k(d) = density · colour_k · √(1 − (2d / width)²)     (|d| < width/2, else 0)
//! ```
//!
//! (`colour = (0.9, 1.0, 1.1)`, a pale greyish-brown fibre). The fibre lies above the focal
//! plane: its absorbance `1 − 10^(−OD)` is blurred by the disc PSF of diameter `blur_px`
//! ([`crate::slide::blur_absorbance`]). The layer multiplies the transmitted light by
//! `10^(−OD)` (Beer–Lambert). `count = 0`, `density = 0` or `width_px = 0` is the identity.
//!
//! # Units
//! `length`: fraction of the shorter side; `width_px`, `blur_px`: pixels; `density`: decadic
//! OD on the axis; `curl_deg`: degrees per control-point step.
//!
//! # References
//! - A. C. Ruifrok, D. A. Johnston, Anal. Quant. Cytol. Histol. 23(4), 2001 (OD additivity).
//! - M. Born, E. Wolf, *Principles of Optics*, §9 (defocus as a disc PSF in geometric optics).

use crate::slide::{blur_absorbance_tinted, composite_od, random_stroke, Curve};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng, Seed};
use ndarray::Array2;

/// Relative OD per channel of a fibre.
pub const FIBRE_COLOUR: [f64; 3] = [0.9, 1.0, 1.1];

artefact_core::params! {
    /// Parameters of [`Thread`] (recorded in manifests, replayed exactly).
    pub struct ThreadParams {
        /// number of fibres
        pub count: u32 = int(1, [0, 50], "fibres"),
        /// fibre length, fraction of the shorter side
        pub length: f64 = float(1.0, [0.0, 5.0], "fraction"),
        /// fibre diameter
        pub width_px: f64 = float(4.0, [0.0, 100.0], "px"),
        /// optical density on the fibre's axis
        pub density: f64 = float(0.8, [0.0, 5.0], "OD"),
        /// turn of the fibre's heading per control-point step (standard deviation)
        pub curl_deg: f64 = float(20.0, [0.0, 120.0], "deg"),
        /// blur-disc diameter (the fibre lies above the focal plane)
        pub blur_px: f64 = float(3.0, [0.0, 128.0], "px"),
        /// seed of the fibre paths; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The operator `photo.thread` (see the module docs).
pub struct Thread;

static INFO: OpInfo = OpInfo {
    name: "photo.thread",
    modality: "photo",
    doc: "Textile fibres on the slide: long thin curved absorbing cylinders (chord-length optical density added by Beer–Lambert), slightly out of focus (absorbance blurred by a disc PSF).",
    params: ThreadParams::PARAMS,
};

impl ColourOperator for Thread {
    type Params = ThreadParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ThreadParams> {
        Ok(ThreadParams::sample(spec, rng)?)
    }
    fn apply(p: &ThreadParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// The axes of the fibres on an image of `rows × cols`.
pub fn fibres(p: &ThreadParams, rows: usize, cols: usize) -> Result<Vec<Curve>> {
    let short = rows.min(cols) as f64;
    let root = Seed::from_u64(p.seed);
    (0..p.count)
        .map(|i| {
            let mut rng = root.child(&format!("fibre/{i}")).rng();
            random_stroke(&mut rng, rows, cols, p.length * short, p.curl_deg, 10)
        })
        .collect()
}

/// Unblurred optical density (unit colour) of the fibres: the chord profile, the densest
/// fibre where they cross.
pub fn chord_od(p: &ThreadParams, rows: usize, cols: usize) -> Result<Array2<f64>> {
    let half = p.width_px / 2.0;
    let mut plane = Array2::<f64>::zeros((rows, cols));
    for f in fibres(p, rows, cols)? {
        // only the fibre's bounding box (the field is the full frame's there, infinite outside)
        let (r0, r1, c0, c1) = f.window(rows, cols, half);
        let field = f.field_window([r0, c0], [r1 - r0, c1 - c0], half);
        for ((i, j), &d) in field.dist.indexed_iter() {
            if d.abs() < half {
                let v = p.density * (1.0 - (d / half).powi(2)).sqrt();
                plane[[r0 + i, c0 + j]] += v;
            }
        }
    }
    Ok(plane)
}

/// Add the fibres (see module docs).
pub fn apply(p: &ThreadParams, img: &RgbImage) -> Result<RgbImage> {
    if p.count == 0 || p.density == 0.0 || p.width_px == 0.0 || p.length == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let plane = chord_od(p, rows, cols)?;
    let layer = blur_absorbance_tinted(&plane, FIBRE_COLOUR, p.blur_px)?;
    composite_od(img, &layer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn flat(fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_elem((3, 100, 100), 0.9),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn params() -> ThreadParams {
        ThreadParams {
            count: 1,
            length: 0.6,
            width_px: 6.0,
            density: 0.9,
            curl_deg: 15.0,
            blur_px: 0.0,
            seed: 2,
        }
    }

    /// In focus, the OD across the fibre is the cylinder's chord profile exactly; blurred, the
    /// absorbed light is conserved and the axis gets paler.
    #[test]
    fn chord_profile_and_defocus() {
        let img = flat(None);
        // the first seed whose fibre and its blur stay away from the frame border
        let inside = |p: &ThreadParams| {
            fibres(p, 100, 100).unwrap()[0]
                .points
                .iter()
                .all(|q| q.iter().all(|&v| v > 7.0 && v < 92.0))
        };
        let p = (0..100)
            .map(|seed| ThreadParams { seed, ..params() })
            .find(inside)
            .unwrap();
        let out = apply(&p, &img).unwrap();
        let field = fibres(&p, 100, 100).unwrap()[0].field(100, 100, 3.0);
        let mut n = 0;
        let mut peak = 0.0f64;
        for ((r, c), &d) in field.dist.indexed_iter() {
            if d.is_finite() {
                let want = p.density * (1.0 - (d / 3.0).powi(2)).max(0.0).sqrt();
                for k in 0..3 {
                    let got = crate::stain::od(out.data[[k, r, c]] as f64, 0.9);
                    assert!(
                        (got - want * FIBRE_COLOUR[k]).abs() < 1e-5,
                        "{got} vs {want}"
                    );
                }
                peak = peak.max(want);
                n += 1;
            }
        }
        assert!(n > 300 && peak > 0.85 * p.density);
        let blurred = apply(
            &ThreadParams {
                blur_px: 5.0,
                ..p.clone()
            },
            &img,
        )
        .unwrap();
        let absorbed = |x: &RgbImage| x.data.iter().map(|&v| 0.9 - v as f64).sum::<f64>();
        assert!((absorbed(&blurred) / absorbed(&out) - 1.0).abs() < 1e-4);
        let darkest = |x: &RgbImage| x.data.iter().fold(1.0f32, |m, &v| m.min(v));
        assert!(darkest(&blurred) > darkest(&out));
    }

    /// The fibres' optical density from their windows equals the full-frame fields' (the
    /// reference), bit for bit, for fibres that leave the frame too.
    #[test]
    fn windowed_fibres_match_full_frame_fields() {
        for seed in [2, 5, 9] {
            let p = ThreadParams {
                count: 3,
                length: 1.5,
                seed,
                ..params()
            };
            let (rows, cols) = (90, 110);
            let half = p.width_px / 2.0;
            let mut want = Array2::<f64>::zeros((rows, cols));
            for f in fibres(&p, rows, cols).unwrap() {
                let field = f.field(rows, cols, half);
                for ((r, c), &d) in field.dist.indexed_iter() {
                    if d.abs() < half {
                        want[[r, c]] += p.density * (1.0 - (d / half).powi(2)).sqrt();
                    }
                }
            }
            let got = chord_od(&p, rows, cols).unwrap();
            assert!(want.iter().any(|&v| v > 0.0));
            assert!(got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn identity_fov_and_seeds() {
        let mask = Array2::from_shape_fn((100, 100), |(r, c)| (r as i64 - c as i64).abs() < 60);
        let img = flat(Some(mask.clone()));
        let p = ThreadParams {
            count: 3,
            length: 1.5,
            blur_px: 3.0,
            ..params()
        };
        let a = apply(&p, &img).unwrap();
        assert_eq!(a.data, apply(&p, &img).unwrap().data);
        assert_ne!(
            a.data,
            apply(
                &ThreadParams {
                    seed: 9,
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
        assert_ne!(a.data, img.data);
        for zero in [
            ThreadParams {
                count: 0,
                ..p.clone()
            },
            ThreadParams {
                density: 0.0,
                ..p.clone()
            },
            ThreadParams {
                width_px: 0.0,
                ..p.clone()
            },
        ] {
            assert_eq!(apply(&zero, &img).unwrap().data, img.data);
        }
        assert!(Thread::apply(&ThreadParams { blur_px: -2.0, ..p }, &img)
            .unwrap_err()
            .to_string()
            .contains("blur_px"));
    }
}
