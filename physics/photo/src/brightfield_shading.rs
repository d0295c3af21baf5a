//! Bright-field shading: the operator `photo.brightfield_shading` — uneven illumination of a
//! transmitted-light microscope (a misaligned Köhler lamp field), multiplicative on the
//! transmitted intensity.
//!
//! # Model
//! The lamp field falls off from its centre `c` (at `(centre_y, centre_x)`, fractions of the
//! frame) by the cos⁴ law of an off-axis field point seen at angle `θ = atan(r/f)`:
//!
//! ```text
//! S(r) = cos⁴θ = (1 + (r/f)²)^(−2),      f chosen so that S(r_max) = 1 − falloff
//! ```
//!
//! with `r` the distance from `c` in pixels and `r_max` the distance from `c` to the farthest
//! frame corner. A decentred lamp filament adds a linear gradient: the field is multiplied by
//! `1 + tilt·(p − c)·e/r_half` (`e` the unit vector at `tilt_deg`, `r_half` half the frame
//! diagonal), not below 0. The transmitted light is `I' = I · S · (1 + gradient)` inside the
//! field of view: glass and tissue are shaded alike (Beer–Lambert: a lamp change is a uniform
//! OD offset `−log10 S`). `falloff = 0` and `tilt = 0` is the identity.
//!
//! # Units
//! `falloff`, `tilt`: fractions of the light; `centre_*`: fractions of rows / columns;
//! `tilt_deg`: degrees counter-clockwise from the column axis.
//!
//! # References
//! - M. Born, E. Wolf, *Principles of Optics*, §4.8 (cos⁴ law of illumination).
//! - A. Köhler, "Ein neues Beleuchtungsverfahren für mikrophotographische Zwecke",
//!   Z. wiss. Mikrosk. 10, 433–440, 1893.
//! - T. Peng et al., "A BaSiC tool for background and shading correction of optical
//!   microscopy images", Nat. Commun. 8, 14836, 2017 (multiplicative shading model).

use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};

artefact_core::params! {
    /// Parameters of [`BrightfieldShading`] (recorded in manifests, replayed exactly).
    pub struct BrightfieldShadingParams {
        /// light lost at the frame corner farthest from the lamp-field centre (cos⁴ falloff)
        pub falloff: f64 = float(0.3, [0.0, 0.95], "fraction"),
        /// row of the lamp-field centre, fraction of the rows
        pub centre_y: f64 = sampled_float([0.3, 0.7], "fraction"),
        /// column of the lamp-field centre, fraction of the columns
        pub centre_x: f64 = sampled_float([0.3, 0.7], "fraction"),
        /// amplitude of a linear gradient at half the frame diagonal (decentred filament)
        pub tilt: f64 = float(0.0, [0.0, 0.9], "fraction"),
        /// direction of the gradient, counter-clockwise from the column axis
        pub tilt_deg: f64 = sampled_float([0.0, 360.0], "deg"),
    }
}

/// The operator `photo.brightfield_shading` (see the module docs).
pub struct BrightfieldShading;

static INFO: OpInfo = OpInfo {
    name: "photo.brightfield_shading",
    modality: "photo",
    doc: "Uneven bright-field illumination: a decentred Köhler lamp field with cos⁴ falloff and a linear gradient, multiplying the transmitted light inside the field of view.",
    params: BrightfieldShadingParams::PARAMS,
};

impl ColourOperator for BrightfieldShading {
    type Params = BrightfieldShadingParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<BrightfieldShadingParams> {
        Ok(BrightfieldShadingParams::sample(spec, rng)?)
    }
    fn apply(p: &BrightfieldShadingParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// The shading factor at pixel `(r, c)` of a `rows × cols` frame.
pub fn shading(p: &BrightfieldShadingParams, rows: usize, cols: usize, r: f64, c: f64) -> f64 {
    let (h, w) = ((rows as f64 - 1.0).max(1.0), (cols as f64 - 1.0).max(1.0));
    let (cy, cx) = (p.centre_y * h, p.centre_x * w);
    let r_max = cy.max(h - cy).hypot(cx.max(w - cx)).max(1.0);
    let s = if p.falloff > 0.0 {
        // (1 + (r_max/f)²)^(−2) = 1 − falloff
        let q = (1.0 - p.falloff).powf(-0.5) - 1.0;
        let f2 = r_max * r_max / q;
        let rr = (r - cy).powi(2) + (c - cx).powi(2);
        (1.0 + rr / f2).powi(-2)
    } else {
        1.0
    };
    let t = p.tilt_deg.to_radians();
    let proj = (r - cy) * (-t.sin()) + (c - cx) * t.cos();
    let half = 0.5 * h.hypot(w);
    s * (1.0 + p.tilt * proj / half).max(0.0)
}

/// Shade the image (see module docs).
pub fn apply(p: &BrightfieldShadingParams, img: &RgbImage) -> Result<RgbImage> {
    if p.falloff == 0.0 && p.tilt == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let mut out = img.data.clone();
    for r in 0..rows {
        for c in 0..cols {
            if !img.in_fov(r, c) {
                continue;
            }
            let s = shading(p, rows, cols, r as f64, c as f64);
            for k in 0..3 {
                out[[k, r, c]] = (img.data[[k, r, c]] as f64 * s) as f32;
            }
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::{Array2, Array3};

    fn flat(fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_elem((3, 81, 101), 0.9),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn params() -> BrightfieldShadingParams {
        BrightfieldShadingParams {
            falloff: 0.4,
            centre_y: 0.5,
            centre_x: 0.5,
            tilt: 0.0,
            tilt_deg: 0.0,
        }
    }

    /// On a flat field the shading is the cos⁴ law exactly: 1 at the centre, 1 − falloff at
    /// the corners, (1 + (r/f)²)^(−2) in between.
    #[test]
    fn cos4_falloff_exact_on_a_flat_field() {
        let img = flat(None);
        let out = apply(&params(), &img).unwrap();
        let rel = |r: usize, c: usize| out.data[[1, r, c]] as f64 / 0.9;
        assert!((rel(40, 50) - 1.0).abs() < 1e-6);
        for (r, c) in [(0, 0), (0, 100), (80, 0), (80, 100)] {
            assert!((rel(r, c) - 0.6).abs() < 1e-6, "{}", rel(r, c));
        }
        let r_max = 40f64.hypot(50.0);
        let f2 = r_max * r_max / (0.6f64.powf(-0.5) - 1.0);
        for c in [60usize, 75, 90] {
            let x = (c as f64 - 50.0).powi(2);
            let want = (1.0 + x / f2).powi(-2);
            assert!((rel(40, c) - want).abs() < 1e-6);
            // the angle form: cos⁴(atan(r/f))
            let cos4 = ((c as f64 - 50.0) / f2.sqrt()).atan().cos().powi(4);
            assert!((want - cos4).abs() < 1e-12);
        }
        let id = apply(
            &BrightfieldShadingParams {
                falloff: 0.0,
                ..params()
            },
            &img,
        )
        .unwrap();
        assert_eq!(id.data, img.data);
    }

    #[test]
    fn tilt_direction_and_field_of_view() {
        let mask = Array2::from_shape_fn((81, 101), |(r, c)| r > 10 && c > 10);
        let img = flat(Some(mask.clone()));
        let p = BrightfieldShadingParams {
            falloff: 0.0,
            tilt: 0.3,
            tilt_deg: 0.0,
            ..params()
        };
        let out = apply(&p, &img).unwrap();
        // brighter towards +columns, linear: at the right edge 1 + 0.3·50/half
        let half = 0.5 * 80f64.hypot(100.0);
        let rel = out.data[[0, 40, 100]] as f64 / 0.9;
        assert!((rel - (1.0 + 0.3 * 50.0 / half)).abs() < 1e-6);
        assert!(out.data[[0, 40, 20]] < 0.9);
        for ((k, r, c), &v) in out.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            }
        }
        assert_eq!(out.data, apply(&p, &img).unwrap().data);
        assert!(
            BrightfieldShading::apply(&BrightfieldShadingParams { falloff: 1.0, ..p }, &img)
                .unwrap_err()
                .to_string()
                .contains("falloff")
        );
    }
}
