//! White balance and colour casts: von Kries adaptation in the Bradford cone space.
//!
//! # Model
//! A colour cast is the camera's white balance assuming the wrong illuminant. With `M_B` the
//! Bradford matrix (XYZ → "sharpened" cone responses ρ, γ, β) and `M` the sRGB → XYZ matrix
//! (IEC 61966-2-1), a von Kries adaptation from white `W_s` to white `W_d` is, in linear sRGB,
//!
//! ```text
//! T = M⁻¹ · M_B⁻¹ · diag(M_B·W_d / M_B·W_s) · M_B · M
//! ```
//!
//! i.e. an independent gain on each cone response. [`apply`] adapts from D65 (sRGB white) to
//! the white of chromaticity `(x, y)` at luminance 1 — a neutral surface then takes that
//! white's colour, the cast. `white_xy = D65` is the identity; the inverse adaptation undoes
//! the cast exactly (up to rounding).
//!
//! # Operator `photo.white_balance`
//! [`WhiteBalance`] picks the wrong white as a shift of D65 in the CIE 1960 UCS `(u, v)`
//! diagram: `(u, v) = (u, v)_D65 + Δ·(cos h, sin h)`, with `Δ = shift_uv` (the same unit as
//! Duv: 0.01 is a clearly visible cast) and `h = hue_deg` (0° = towards +u, reddish/magenta;
//! 90° = +v, yellow-green; 180° = cyan-blue; 270° = violet). The Planckian locus leaves D65
//! towards 3000 K at h ≈ 34° (warm, tungsten-like) and towards 10 000 K at h ≈ 238° (cool). `shift_uv = 0` is the
//! identity (to f32 rounding of the identity matrix).
//!
//! # Units
//! `white_xy`: CIE 1931 chromaticity of the destination white; `shift_uv`: CIE 1960 uv;
//! `hue_deg`: degrees.
//!
//! # References
//! - K. M. Lam, "Metamerism and colour constancy", PhD thesis, University of Bradford, 1985;
//!   M. R. Luo, "Colour appearance models", the Bradford transform as used in CIECAM97s.
//! - ICC.1:2010 Annex E (linearised Bradford chromatic adaptation).
//! - J. von Kries, "Chromatic adaptation", 1902.

use crate::error::check_range;
use crate::{PhotoError, Result};
use artefact_core::colour_metrics::SRGB_TO_XYZ;
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use serde::{Deserialize, Serialize};

/// Bradford cone-response matrix (XYZ → ρ, γ, β).
pub const BRADFORD: [[f64; 3]; 3] = [
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
];

/// CIE 1931 chromaticity of D65.
pub const D65_XY: [f64; 2] = [0.3127, 0.3290];

/// Parameters of a white-balance error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhiteBalanceParams {
    /// Chromaticity `(x, y)` of the white the image is adapted to.
    pub white_xy: [f64; 2],
}

type M3 = [[f64; 3]; 3];

artefact_core::params! {
    /// Parameters of [`WhiteBalance`] (recorded in manifests, replayed exactly).
    pub struct WhiteBalanceOpParams {
        /// size of the white-point error in the CIE 1960 uv diagram (0 = correct white balance)
        pub shift_uv: f64 = float(0.02, [0.0, 0.06], "Δuv"),
        /// direction of the error in the uv diagram: 0° reddish, 90° yellow-green, 180° blue-cyan, 270° violet; drawn uniformly unless given
        pub hue_deg: f64 = sampled_float([0.0, 360.0], "deg"),
    }
}

/// CIE 1931 `(x, y)` → CIE 1960 `(u, v)`.
pub fn xy_to_uv(xy: [f64; 2]) -> [f64; 2] {
    let d = -2.0 * xy[0] + 12.0 * xy[1] + 3.0;
    [4.0 * xy[0] / d, 6.0 * xy[1] / d]
}

/// CIE 1960 `(u, v)` → CIE 1931 `(x, y)`.
pub fn uv_to_xy(uv: [f64; 2]) -> [f64; 2] {
    let d = 2.0 * uv[0] - 8.0 * uv[1] + 4.0;
    [3.0 * uv[0] / d, 2.0 * uv[1] / d]
}

impl WhiteBalanceOpParams {
    /// The wrong white's chromaticity.
    pub fn white_xy(&self) -> [f64; 2] {
        let uv = xy_to_uv(D65_XY);
        let h = self.hue_deg.to_radians();
        uv_to_xy([
            uv[0] + self.shift_uv * h.cos(),
            uv[1] + self.shift_uv * h.sin(),
        ])
    }
}

/// The operator `photo.white_balance` (see the module docs).
pub struct WhiteBalance;

static INFO: OpInfo = OpInfo {
    name: "photo.white_balance",
    modality: "photo",
    doc: "Colour cast from a wrong white balance: von Kries adaptation in Bradford cone space from D65 to a white shifted by Δuv in a given hue direction of the CIE 1960 diagram.",
    params: WhiteBalanceOpParams::PARAMS,
};

impl ColourOperator for WhiteBalance {
    type Params = WhiteBalanceOpParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<WhiteBalanceOpParams> {
        Ok(WhiteBalanceOpParams::sample(spec, rng)?)
    }
    fn apply(p: &WhiteBalanceOpParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        if p.shift_uv == 0.0 {
            return Ok(image.clone());
        }
        apply(
            &WhiteBalanceParams {
                white_xy: p.white_xy(),
            },
            image,
        )
    }
}

fn mul(a: &M3, b: &M3) -> M3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

fn mulv(a: &M3, v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| (0..3).map(|k| a[i][k] * v[k]).sum())
}

/// Inverse of a 3×3 matrix (adjugate / determinant).
pub fn invert(m: &M3) -> Option<M3> {
    let c = |i: usize, j: usize| {
        let (i1, i2) = ((i + 1) % 3, (i + 2) % 3);
        let (j1, j2) = ((j + 1) % 3, (j + 2) % 3);
        m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]
    };
    let det: f64 = (0..3).map(|j| m[0][j] * c(0, j)).sum();
    if det.abs() < 1e-300 || !det.is_finite() {
        return None;
    }
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| c(j, i) / det)
    }))
}

/// XYZ (Y = 1) of chromaticity `(x, y)`.
pub fn xy_to_xyz(xy: [f64; 2]) -> [f64; 3] {
    [xy[0] / xy[1], 1.0, (1.0 - xy[0] - xy[1]) / xy[1]]
}

/// The linear-sRGB matrix adapting white `src` to white `dst` (both XYZ).
pub fn adaptation_matrix(src: [f64; 3], dst: [f64; 3]) -> M3 {
    let mb_inv = invert(&BRADFORD).expect("Bradford is invertible");
    let m_inv = invert(&SRGB_TO_XYZ).expect("sRGB matrix is invertible");
    let (s, d) = (mulv(&BRADFORD, src), mulv(&BRADFORD, dst));
    let gain: M3 = [
        [d[0] / s[0], 0.0, 0.0],
        [0.0, d[1] / s[1], 0.0],
        [0.0, 0.0, d[2] / s[2]],
    ];
    mul(
        &m_inv,
        &mul(&mb_inv, &mul(&gain, &mul(&BRADFORD, &SRGB_TO_XYZ))),
    )
}

/// The linear-sRGB matrix of [`apply`]: from sRGB white (the matrix's white, D65) to
/// `white_xy` at Y = 1.
pub fn matrix(p: &WhiteBalanceParams) -> Result<M3> {
    check_range("white_xy[0]", p.white_xy[0], 0.2, 0.6)?;
    check_range("white_xy[1]", p.white_xy[1], 0.2, 0.6)?;
    let src = mulv(&SRGB_TO_XYZ, [1.0, 1.0, 1.0]);
    Ok(adaptation_matrix(src, xy_to_xyz(p.white_xy)))
}

/// Apply the adaptation to every pixel inside the field of view.
pub fn apply(p: &WhiteBalanceParams, img: &RgbImage) -> Result<RgbImage> {
    let t = matrix(p)?;
    let (rows, cols) = img.shape();
    let mut out = img.data.clone();
    for r in 0..rows {
        for c in 0..cols {
            if !img.in_fov(r, c) {
                continue;
            }
            let v: [f64; 3] = std::array::from_fn(|k| img.data[[k, r, c]] as f64);
            let w = mulv(&t, v);
            for k in 0..3 {
                out[[k, r, c]] = w[k] as f32;
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

    #[test]
    fn white_goes_to_the_target_white_and_back() {
        // illuminant A (2856 K) and a bluish 9300 K white
        for xy in [[0.44757, 0.40745], [0.2848, 0.2932]] {
            let t = matrix(&WhiteBalanceParams { white_xy: xy }).unwrap();
            let w = mulv(&t, [1.0, 1.0, 1.0]);
            let xyz = mulv(&SRGB_TO_XYZ, w);
            let s = xyz[0] + xyz[1] + xyz[2];
            assert!((xyz[0] / s - xy[0]).abs() < 1e-12 && (xyz[1] / s - xy[1]).abs() < 1e-12);
            assert!((xyz[1] - 1.0).abs() < 1e-12, "luminance of white kept");
            // inverse adaptation undoes it
            let back = adaptation_matrix(xy_to_xyz(xy), mulv(&SRGB_TO_XYZ, [1.0; 3]));
            let id = mul(&back, &t);
            for i in 0..3 {
                for j in 0..3 {
                    assert!((id[i][j] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
                }
            }
        }
        // warm cast: red up, blue down on a grey
        let t = matrix(&WhiteBalanceParams {
            white_xy: [0.44757, 0.40745],
        })
        .unwrap();
        let g = mulv(&t, [0.2, 0.2, 0.2]);
        assert!(g[0] > 0.2 && g[2] < 0.2, "{g:?}");
    }

    /// The operator: zero shift is the identity; the uv round trip is exact; the white of a
    /// shifted cast lies at distance Δ in the given direction.
    #[test]
    fn operator_shift_in_uv() {
        let img = RgbImage::new(
            Array3::from_shape_fn((3, 4, 5), |(c, r, k)| (c + r + k) as f32 / 10.0),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap();
        let zero = WhiteBalanceOpParams {
            shift_uv: 0.0,
            hue_deg: 123.0,
        };
        assert_eq!(WhiteBalance::apply(&zero, &img).unwrap().data, img.data);
        let back = uv_to_xy(xy_to_uv([0.44757, 0.40745]));
        assert!((back[0] - 0.44757).abs() < 1e-12 && (back[1] - 0.40745).abs() < 1e-12);
        for h in [0.0, 90.0, 200.0, 300.0] {
            let p = WhiteBalanceOpParams {
                shift_uv: 0.02,
                hue_deg: h,
            };
            let t = matrix(&WhiteBalanceParams {
                white_xy: p.white_xy(),
            })
            .unwrap();
            let xyz = mulv(&SRGB_TO_XYZ, mulv(&t, [1.0; 3]));
            let s = xyz[0] + xyz[1] + xyz[2];
            let uv = xy_to_uv([xyz[0] / s, xyz[1] / s]);
            let d = xy_to_uv(D65_XY);
            let (du, dv) = (uv[0] - d[0], uv[1] - d[1]);
            // the sRGB white is D65 to 4 decimals of xy: within 3e-4 in uv
            assert!((du.hypot(dv) - 0.02).abs() < 3e-4, "h {h}: {du} {dv}");
            let ang = dv.atan2(du).to_degrees().rem_euclid(360.0);
            let diff = (ang - h).rem_euclid(360.0);
            assert!(diff.min(360.0 - diff) < 2.0, "h {h}: {ang}");
        }
        // warm direction: red up, blue down on grey
        let warm = WhiteBalance::apply(
            &WhiteBalanceOpParams {
                shift_uv: 0.03,
                hue_deg: 20.0,
            },
            &img,
        )
        .unwrap();
        assert!(warm.data[[0, 1, 1]] > img.data[[0, 1, 1]]);
        assert!(warm.data[[2, 1, 1]] < img.data[[2, 1, 1]]);
        assert!(WhiteBalance::apply(
            &WhiteBalanceOpParams {
                shift_uv: 0.5,
                hue_deg: 0.0
            },
            &img
        )
        .unwrap_err()
        .to_string()
        .contains("shift_uv"));
    }

    /// D65 (the sRGB matrix's own white, to the 4 decimals of D65_XY) is (nearly) the
    /// identity; an exact identity for the matrix's white.
    #[test]
    fn identity_at_d65() {
        let w = mulv(&SRGB_TO_XYZ, [1.0; 3]);
        let t = adaptation_matrix(w, w);
        let img = RgbImage::new(
            Array3::from_shape_fn((3, 4, 5), |(c, r, k)| (c + r + k) as f32 / 10.0),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        for i in 0..3 {
            for j in 0..3 {
                assert!((t[i][j] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        let o = apply(&WhiteBalanceParams { white_xy: D65_XY }, &img).unwrap();
        for (a, b) in o.data.iter().zip(img.data.iter()) {
            assert!((a - b).abs() < 2e-3, "{a} vs {b}");
        }
        assert!(matrix(&WhiteBalanceParams {
            white_xy: [0.9, 0.3]
        })
        .is_err());
    }
}
