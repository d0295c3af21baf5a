//! Illumination falloff: cos⁴ vignetting of the lens and a point light at the lens
//! (endoscope) with inverse-square falloff and Lambertian reflection.
//!
//! # Model
//! A pinhole camera of focal length `f` (pixels) with optical centre `(cy, cx)` sees pixel
//! `(y, x)` along the ray `v = (x − cx, y − cy, f)`, at angle `θ` to the axis,
//! `cos θ = f / |v|`.
//!
//! - **Natural vignetting** (cos⁴ law): the image irradiance of a uniform-radiance scene falls
//!   as `cos⁴ θ` (one cos for the oblique aperture, one for the oblique pixel, two for the
//!   longer distance).
//! - **Light at the lens**: a point source at the centre of projection with unit intensity
//!   lights a plane at distance `d` along the axis whose unit normal `n` faces the camera (a
//!   tilted tissue wall). The ray meets the plane at range `R = d / (n·v̂)` and the irradiance is
//!   `E = cos α / R²` with `cos α = n·v̂` (inverse square + Lambert's cosine). A Lambertian
//!   surface reflects radiance `∝ E` in all directions, so the image scales by `E / E₀`, with
//!   `E₀` its value on the axis. For a fronto-parallel plane (`n = (0, 0, 1)`) this is
//!   exactly `cos³ θ`.
//!
//! [`apply`] multiplies the linear image by the product of the enabled gains inside the field
//! of view (outside is unchanged).
//!
//! # Operator `photo.illumination`
//! [`Illumination`] wraps the model with resolution-free knobs ([`IlluminationOpParams`]): the
//! focal length in half-diagonals of the frame (`focal = 1`: the frame's corner is 45° off
//! axis), the optical centre — where the endoscope's light and the lens axis point — offset
//! from the frame centre in half-widths/half-heights (an off-centre light), and the tilt of the
//! lit wall. Both falloffs off is the identity.
//!
//! # Units
//! `focal_px`: pixels; `tilt_deg`: degrees (rotation of the plane normal about the image y
//! axis, then x axis); `centre`: pixel coordinates `(row, col)` (default: image centre).
//!
//! # References
//! - M. Born, E. Wolf, *Principles of Optics*, §4.8 (cos⁴ law of illumination).
//! - B. K. P. Horn, *Robot Vision*, MIT Press 1986, ch. 10 (Lambertian reflectance, point
//!   sources).

use crate::error::check_range;
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

/// Parameters of the illumination falloff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IlluminationParams {
    /// Focal length in pixels (smaller = wider field = stronger falloff).
    pub focal_px: f64,
    /// Optical centre `(row, col)`; `None` = image centre.
    pub centre: Option<[f64; 2]>,
    /// Apply the cos⁴ vignetting of the lens.
    pub vignetting: bool,
    /// Apply a point light at the lens (inverse square + Lambert) on a plane.
    pub point_light: bool,
    /// Tilt of the lit plane's normal away from the optical axis, `[about y, about x]`, in
    /// degrees (each in `(−80, 80)`).
    pub tilt_deg: [f64; 2],
}

artefact_core::params! {
    /// Parameters of [`Illumination`] (recorded in manifests, replayed exactly).
    pub struct IlluminationOpParams {
        /// focal length in half-diagonals of the frame (smaller = wider field = stronger falloff)
        pub focal: f64 = float(1.0, [0.1, 100.0], "half-diagonals"),
        /// apply the cos⁴ vignetting of the lens
        pub vignetting: bool = bool(true),
        /// apply a point light at the lens (inverse square + Lambert) on a plane
        pub point_light: bool = bool(true),
        /// optical centre (light) offset to the right of the frame centre
        pub offset_x: f64 = float(0.0, [-1.5, 1.5], "half-widths"),
        /// optical centre (light) offset downwards from the frame centre
        pub offset_y: f64 = float(0.0, [-1.5, 1.5], "half-heights"),
        /// tilt of the lit plane's normal about the image's vertical axis (positive: the right side nearer)
        pub tilt_x_deg: f64 = float(0.0, [-75.0, 75.0], "deg"),
        /// tilt of the lit plane's normal about the image's horizontal axis
        pub tilt_y_deg: f64 = float(0.0, [-75.0, 75.0], "deg"),
    }
}

impl IlluminationOpParams {
    /// The model's parameters for a `rows × cols` frame.
    pub fn model(&self, rows: usize, cols: usize) -> IlluminationParams {
        let (h, w) = (rows as f64, cols as f64);
        let half_diag = 0.5 * h.hypot(w);
        IlluminationParams {
            focal_px: self.focal * half_diag,
            centre: Some([
                (h - 1.0) / 2.0 + self.offset_y * h / 2.0,
                (w - 1.0) / 2.0 + self.offset_x * w / 2.0,
            ]),
            vignetting: self.vignetting,
            point_light: self.point_light,
            tilt_deg: [self.tilt_x_deg, self.tilt_y_deg],
        }
    }
}

/// The operator `photo.illumination` (see the module docs).
pub struct Illumination;

static INFO: OpInfo = OpInfo {
    name: "photo.illumination",
    modality: "photo",
    doc: "Uneven illumination: cos⁴ vignetting of the lens and a point light at the lens (inverse square + Lambert on a possibly tilted wall), optical centre possibly off the frame centre; a gain map inside the field of view.",
    params: IlluminationOpParams::PARAMS,
};

impl ColourOperator for Illumination {
    type Params = IlluminationOpParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<IlluminationOpParams> {
        Ok(IlluminationOpParams::sample(spec, rng)?)
    }
    fn apply(p: &IlluminationOpParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        let (rows, cols) = image.shape();
        apply(&p.model(rows, cols), image)
    }
}

/// The gain map `(rows, cols)` of the enabled falloffs (1 on the optical axis).
pub fn gain_map(p: &IlluminationParams, rows: usize, cols: usize) -> Result<Array2<f64>> {
    check_range("focal_px", p.focal_px, 1e-3, 1e7)?;
    check_range("tilt_deg[0]", p.tilt_deg[0], -80.0, 80.0)?;
    check_range("tilt_deg[1]", p.tilt_deg[1], -80.0, 80.0)?;
    let [cy, cx] = p
        .centre
        .unwrap_or([(rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0]);
    check_range("centre row", cy, -1e7, 1e7)?;
    check_range("centre col", cx, -1e7, 1e7)?;
    let (ay, ax) = (p.tilt_deg[0].to_radians(), p.tilt_deg[1].to_radians());
    // normal (0, 0, 1) rotated about the y axis by ay, then about the x axis by ax
    let n0 = [ay.sin(), 0.0, ay.cos()];
    let n = [
        n0[0],
        n0[1] * ax.cos() - n0[2] * ax.sin(),
        n0[1] * ax.sin() + n0[2] * ax.cos(),
    ];
    let f = p.focal_px;
    Ok(Array2::from_shape_fn((rows, cols), |(r, c)| {
        let v = [c as f64 - cx, r as f64 - cy, f];
        let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        let cos_t = f / len;
        let mut g = 1.0;
        if p.vignetting {
            g *= cos_t.powi(4);
        }
        if p.point_light {
            let ndv = (n[0] * v[0] + n[1] * v[1] + n[2] * v[2]) / len;
            // plane n·P = d (d = 1): R = 1/(n·v̂), E = (n·v̂)·(n·v̂)² = (n·v̂)³; on axis n_z³
            g *= if ndv > 0.0 {
                (ndv / n[2]).powi(3)
            } else {
                0.0 // the ray misses the lit side of the plane
            };
        }
        g
    }))
}

/// Multiply the image by the gain map inside the field of view.
pub fn apply(p: &IlluminationParams, img: &RgbImage) -> Result<RgbImage> {
    let (rows, cols) = img.shape();
    let g = gain_map(p, rows, cols)?;
    let mut out = img.data.clone();
    for mut plane in out.axis_iter_mut(Axis(0)) {
        for ((r, c), v) in plane.indexed_iter_mut() {
            if img.in_fov(r, c) {
                *v = (*v as f64 * g[[r, c]]) as f32;
            }
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn params(vig: bool, light: bool, tilt: [f64; 2]) -> IlluminationParams {
        IlluminationParams {
            focal_px: 120.0,
            centre: None,
            vignetting: vig,
            point_light: light,
            tilt_deg: tilt,
        }
    }

    fn cos_theta(r: usize, c: usize, rows: usize, cols: usize, f: f64) -> f64 {
        let (y, x) = (
            r as f64 - (rows as f64 - 1.0) / 2.0,
            c as f64 - (cols as f64 - 1.0) / 2.0,
        );
        f / (x * x + y * y + f * f).sqrt()
    }

    /// On a flat field: vignetting is cos⁴θ, the light at the lens cos³θ, both cos⁷θ —
    /// exact to rounding.
    #[test]
    fn flat_field_falloffs_are_exact() {
        let (rows, cols) = (41, 60);
        for (vig, light, power) in [(true, false, 4), (false, true, 3), (true, true, 7)] {
            let g = gain_map(&params(vig, light, [0.0, 0.0]), rows, cols).unwrap();
            for ((r, c), &v) in g.indexed_iter() {
                let e = cos_theta(r, c, rows, cols, 120.0).powi(power);
                assert!(
                    (v - e).abs() < 1e-12,
                    "power {power} at {r},{c}: {v} vs {e}"
                );
            }
        }
        let none = gain_map(&params(false, false, [0.0, 0.0]), 5, 5).unwrap();
        assert!(none.iter().all(|&v| v == 1.0));
    }

    /// Inverse square on a tilted plane: along the tilt direction the range to the plane
    /// changes; the gain equals (R₀/R)²·cos α / cos α₀ computed by ray–plane intersection.
    #[test]
    fn tilted_plane_inverse_square_and_lambert() {
        let (rows, cols) = (21, 31);
        let tilt: f64 = 30.0;
        let g = gain_map(&params(false, true, [tilt, 0.0]), rows, cols).unwrap();
        let n = [tilt.to_radians().sin(), 0.0, tilt.to_radians().cos()];
        for (r, c) in [(10usize, 0usize), (10, 30), (0, 15), (20, 3)] {
            let v = [c as f64 - 15.0, r as f64 - 10.0, 120.0];
            let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            let vh = [v[0] / len, v[1] / len, v[2] / len];
            let ndv = n[0] * vh[0] + n[1] * vh[1] + n[2] * vh[2];
            let range = 1.0 / ndv; // plane n·P = 1
            let e = ndv / (range * range);
            let e0 = n[2] / (1.0 / n[2]).powi(2);
            assert!((g[[r, c]] - e / e0).abs() < 1e-12);
        }
        // the side tilted towards the camera is brighter
        assert!(
            g[[10, 30]] > 1.0 && g[[10, 0]] < 1.0,
            "{} {}",
            g[[10, 30]],
            g[[10, 0]]
        );
        assert!(gain_map(&params(true, true, [85.0, 0.0]), 3, 3).is_err());
    }

    /// The operator: both falloffs off is the identity; focal 1 puts the frame corner 45° off
    /// axis (vignetting gain cos⁴45° = 1/4 there); an off-centre light moves the peak.
    #[test]
    fn operator_identity_corner_and_offset() {
        let img = RgbImage::new(
            Array3::from_elem((3, 21, 31), 0.5f32),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let off = IlluminationOpParams {
            focal: 1.0,
            vignetting: false,
            point_light: false,
            offset_x: 0.3,
            offset_y: 0.0,
            tilt_x_deg: 10.0,
            tilt_y_deg: 0.0,
        };
        assert_eq!(Illumination::apply(&off, &img).unwrap().data, img.data);
        let vig = IlluminationOpParams {
            vignetting: true,
            offset_x: 0.0,
            tilt_x_deg: 0.0,
            ..off.clone()
        };
        let out = Illumination::apply(&vig, &img).unwrap();
        // corner pixel centre is slightly inside the half-diagonal: compare with its own angle
        let (y, x) = (10.0f64, 15.0f64);
        let f = 0.5 * 21f64.hypot(31.0);
        let e = 0.5 * (f / (x * x + y * y + f * f).sqrt()).powi(4);
        assert!((out.data[[0, 0, 0]] as f64 - e).abs() < 1e-6);
        assert!((out.data[[1, 20, 30]] as f64 - 0.25 * 0.5).abs() < 0.02);
        let light = IlluminationOpParams {
            offset_x: 0.5,
            point_light: true,
            ..vig
        };
        let out = Illumination::apply(&light, &img).unwrap();
        let row: Vec<f32> = (0..31).map(|c| out.data[[1, 10, c]]).collect();
        let peak = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!(
            (peak as f64 - (15.0 + 0.5 * 15.5)).abs() <= 1.0,
            "peak at {peak}"
        );
        let bad = IlluminationOpParams {
            focal: 0.0,
            ..light
        };
        let e = Illumination::apply(&bad, &img).unwrap_err().to_string();
        assert!(e.contains("focal"), "{e}");
    }

    #[test]
    fn apply_respects_the_field_of_view() {
        let mask = Array2::from_shape_fn((9, 9), |(r, c)| r > 1 && c > 1);
        let img = RgbImage::new(
            Array3::from_elem((3, 9, 9), 0.5f32),
            [1.0, 1.0],
            Modality::Endoscopy,
            Some(mask.clone()),
        )
        .unwrap();
        let out = apply(&params(true, true, [0.0, 0.0]), &img).unwrap();
        for ((_, r, c), &v) in out.data.indexed_iter() {
            if mask[[r, c]] {
                let e = 0.5 * cos_theta(r, c, 9, 9, 120.0).powi(7);
                assert!((v as f64 - e).abs() < 1e-6);
            } else {
                assert_eq!(v, 0.5);
            }
        }
    }
}
