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
//! # Units
//! `white_xy`: CIE 1931 chromaticity of the destination white.
//!
//! # References
//! - K. M. Lam, "Metamerism and colour constancy", PhD thesis, University of Bradford, 1985;
//!   M. R. Luo, "Colour appearance models", the Bradford transform as used in CIECAM97s.
//! - ICC.1:2010 Annex E (linearised Bradford chromatic adaptation).
//! - J. von Kries, "Chromatic adaptation", 1902.

use crate::error::check_range;
use crate::Result;
use artefact_core::colour_metrics::SRGB_TO_XYZ;
use artefact_core::RgbImage;
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
