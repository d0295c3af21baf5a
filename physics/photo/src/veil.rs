//! Scattering veil: media opacity (cataract, vitreous haze), smoke and lens fog.
//!
//! # Model
//! Single-scattering atmospheric model (Koschmieder): light from the scene `J` is attenuated
//! by the transmission `t` of the medium and a veil of scattered light `A` (the colour of the
//! illuminant scattered towards the camera, the "airlight") is added:
//!
//! ```text
//! I = J · t + A · (1 − t),        t = exp(−β·d) ∈ [0, 1]
//! ```
//!
//! per channel in linear light. `t` may vary smoothly over the image (a denser patch of smoke,
//! a cataract denser in the centre): here it is `t(r) = t_centre + (t_edge − t_centre)·ρ²`,
//! with `ρ` the distance from the image centre normalised to 1 at the nearest border. The
//! model is affine in `J` and contracts contrast by exactly `t`: `I − A = t·(J − A)`.
//!
//! # Operator `photo.veil`
//! [`Veil`] gives the airlight relative to the image's own brightness — `A_k = airlight_k · Ȳ`
//! with `Ȳ` the mean relative luminance inside the field of view — because the scattered light
//! comes from the same flash/light guide that lights the scene, so a recipe means the same
//! haze on a dark fundus and on a bright endoscopy frame. For fundus media opacity (cataract)
//! the transmission is lower in the centre than at the edge and the airlight yellowish; for
//! low contrast in endoscopy a uniform, neutral veil. Transmission 1 everywhere is the
//! identity. Turbulent smoke is the same model with a fractal transmission map, in
//! `photo.smoke` ([`crate::smoke`]).
//!
//! # Units
//! `transmission_*`: dimensionless in `[0, 1]`; `airlight`: linear RGB (model) or multiples of
//! the field's mean luminance (operator).
//!
//! # References
//! - H. Koschmieder, "Theorie der horizontalen Sichtweite", Beitr. Phys. freien Atm. 12, 1924.
//! - S. K. Nayar, S. G. Narasimhan, "Vision in bad weather", ICCV 1999.
//! - K. He, J. Sun, X. Tang, "Single image haze removal using dark channel prior", CVPR 2009.

use crate::error::check_range;
use crate::support::mean_luminance;
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Parameters of a scattering veil.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VeilParams {
    /// Transmission at the image centre, in `[0, 1]`.
    pub transmission_centre: f64,
    /// Transmission at the nearest border (equal to the centre for a uniform veil).
    pub transmission_edge: f64,
    /// Scattered light (linear RGB), e.g. the illuminant's colour times its strength.
    pub airlight: [f64; 3],
}

artefact_core::params! {
    /// Parameters of [`Veil`] (recorded in manifests, replayed exactly).
    pub struct VeilOpParams {
        /// transmission of the medium at the centre of the frame (1 = clear)
        pub transmission_centre: f64 = float(0.7, [0.0, 1.0], "fraction"),
        /// transmission at the nearest border of the frame
        pub transmission_edge: f64 = float(0.85, [0.0, 1.0], "fraction"),
        /// red airlight, in multiples of the field's mean luminance
        pub airlight_r: f64 = float(1.5, [0.0, 20.0], "× mean luminance"),
        /// green airlight, in multiples of the field's mean luminance
        pub airlight_g: f64 = float(1.5, [0.0, 20.0], "× mean luminance"),
        /// blue airlight, in multiples of the field's mean luminance
        pub airlight_b: f64 = float(1.5, [0.0, 20.0], "× mean luminance"),
    }
}

/// The operator `photo.veil` (see the module docs).
pub struct Veil;

static INFO: OpInfo = OpInfo {
    name: "photo.veil",
    modality: "photo",
    doc: "Scattering veil (media opacity, cataract, fog): I = J·t + A·(1 − t) with a transmission smoothly varying from centre to edge and an airlight relative to the field's mean luminance.",
    params: VeilOpParams::PARAMS,
};

impl ColourOperator for Veil {
    type Params = VeilOpParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<VeilOpParams> {
        Ok(VeilOpParams::sample(spec, rng)?)
    }
    fn apply(p: &VeilOpParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        let y = mean_luminance(image);
        apply(
            &VeilParams {
                transmission_centre: p.transmission_centre,
                transmission_edge: p.transmission_edge,
                airlight: [p.airlight_r * y, p.airlight_g * y, p.airlight_b * y],
            },
            image,
        )
    }
}

/// The transmission map `(rows, cols)`.
pub fn transmission(p: &VeilParams, rows: usize, cols: usize) -> Result<Array2<f64>> {
    check_range("transmission_centre", p.transmission_centre, 0.0, 1.0)?;
    check_range("transmission_edge", p.transmission_edge, 0.0, 1.0)?;
    let (cy, cx) = ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
    let norm = cy.min(cx).max(0.5);
    Ok(Array2::from_shape_fn((rows, cols), |(r, c)| {
        let rho2 = ((r as f64 - cy).powi(2) + (c as f64 - cx).powi(2)) / (norm * norm);
        let t = p.transmission_centre + (p.transmission_edge - p.transmission_centre) * rho2;
        t.clamp(0.0, 1.0)
    }))
}

/// `I = J·t + A·(1 − t)` inside the field of view.
pub fn apply(p: &VeilParams, img: &RgbImage) -> Result<RgbImage> {
    for (i, a) in p.airlight.iter().enumerate() {
        check_range(
            ["airlight[0]", "airlight[1]", "airlight[2]"][i],
            *a,
            0.0,
            100.0,
        )?;
    }
    let (rows, cols) = img.shape();
    let t = transmission(p, rows, cols)?;
    apply_with_transmission(&t, p.airlight, img)
}

/// `I = J·t + A·(1 − t)` inside the field of view for a given transmission map (values are
/// clamped to `[0, 1]`); a map of ones is the identity, bit for bit.
pub fn apply_with_transmission(
    t: &Array2<f64>,
    airlight: [f64; 3],
    img: &RgbImage,
) -> Result<RgbImage> {
    if t.dim() != img.shape() {
        return Err(PhotoError::Input(format!(
            "transmission map {:?} differs from the image {:?}",
            t.dim(),
            img.shape()
        )));
    }
    let mut out = img.data.clone();
    for (c, mut plane) in out.outer_iter_mut().enumerate() {
        let pixels = plane.iter_mut().zip(t.iter());
        let blend = |v: &mut f32, t: f64| {
            let tt = t.clamp(0.0, 1.0);
            if tt < 1.0 {
                *v = (*v as f64 * tt + airlight[c] * (1.0 - tt)) as f32;
            }
        };
        match &img.fov {
            None => pixels.for_each(|(v, &t)| blend(v, t)),
            Some(m) => pixels
                .zip(m.iter())
                .filter(|(_, &inside)| inside)
                .for_each(|((v, &t), _)| blend(v, t)),
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn img() -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 12, 15), |(c, r, k)| {
                ((r * 5 + k * 3 + c) % 13) as f32 / 13.0
            }),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap()
    }

    #[test]
    fn identity_full_veil_and_contrast_contraction() {
        let j = img();
        let a = [0.8, 0.7, 0.5];
        let id = VeilParams {
            transmission_centre: 1.0,
            transmission_edge: 1.0,
            airlight: a,
        };
        assert_eq!(apply(&id, &j).unwrap().data, j.data);
        let full = VeilParams {
            transmission_centre: 0.0,
            transmission_edge: 0.0,
            airlight: a,
        };
        let o = apply(&full, &j).unwrap();
        for ((c, _, _), &v) in o.data.indexed_iter() {
            assert!((v as f64 - a[c]).abs() < 1e-7);
        }
        let p = VeilParams {
            transmission_centre: 0.4,
            transmission_edge: 0.9,
            airlight: a,
        };
        let t = transmission(&p, 12, 15).unwrap();
        let o = apply(&p, &j).unwrap();
        for ((c, r, k), &v) in o.data.indexed_iter() {
            let lhs = v as f64 - a[c];
            let rhs = t[[r, k]] * (j.data[[c, r, k]] as f64 - a[c]);
            assert!((lhs - rhs).abs() < 1e-6);
        }
        assert!((t[[0, 7]] - 0.9).abs() < 0.05 || t[[0, 7]] >= 0.9);
        // the operator: airlight relative to the mean luminance of the field
        let op = VeilOpParams {
            transmission_centre: 0.0,
            transmission_edge: 0.0,
            airlight_r: 2.0,
            airlight_g: 1.0,
            airlight_b: 0.5,
        };
        let y = mean_luminance(&j);
        let o = Veil::apply(&op, &j).unwrap();
        for ((c, _, _), &v) in o.data.indexed_iter() {
            assert!((v as f64 - [2.0, 1.0, 0.5][c] * y).abs() < 1e-6);
        }
        let clear = VeilOpParams {
            transmission_centre: 1.0,
            transmission_edge: 1.0,
            ..op
        };
        assert_eq!(Veil::apply(&clear, &j).unwrap().data, j.data);
        assert!(apply(
            &VeilParams {
                transmission_centre: 1.5,
                ..p
            },
            &j
        )
        .is_err());
    }
}
