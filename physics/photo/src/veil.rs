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
//! # Units
//! `transmission_*`: dimensionless in `[0, 1]`; `airlight`: linear RGB.
//!
//! # References
//! - H. Koschmieder, "Theorie der horizontalen Sichtweite", Beitr. Phys. freien Atm. 12, 1924.
//! - S. K. Nayar, S. G. Narasimhan, "Vision in bad weather", ICCV 1999.
//! - K. He, J. Sun, X. Tang, "Single image haze removal using dark channel prior", CVPR 2009.

use crate::error::check_range;
use crate::Result;
use artefact_core::RgbImage;
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
    let mut out = img.data.clone();
    for ((c, r, k), v) in out.indexed_iter_mut() {
        if img.in_fov(r, k) {
            let tt = t[[r, k]];
            *v = (*v as f64 * tt + p.airlight[c] * (1.0 - tt)) as f32;
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
