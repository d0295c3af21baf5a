//! Full-reference metrics on colour images: SSIM on luminance and per channel, CIEDE2000.
//!
//! # Models
//! - SSIM is the grey [`crate::metrics::ssim`] (scikit-image's Gaussian-window SSIM) applied to
//!   **display-encoded** values, as an observer sees them and as SSIM is usually reported for
//!   photographs: per channel on the sRGB-encoded R, G, B planes, and on luminance as
//!   `sRGB-encode(Y)` with `Y = 0.2126 R + 0.7152 G + 0.0722 B` of the linear values; values are
//!   clamped to `[0, 1]` first and the data range is 1.
//! - ΔE2000: linear sRGB → CIE XYZ (D65) with the IEC 61966-2-1 matrix → CIELAB with the
//!   reference white `Xn, Yn, Zn` = the matrix applied to `(1, 1, 1)` (so neutrals have
//!   `a* = b* = 0` exactly) → CIEDE2000 with `kL = kC = kH = 1` as written out by Sharma, Wu &
//!   Dalal (2005), eqs. (1)–(22); [`delta_e2000_mean`] averages over the field of view.
//!
//! # References
//! - G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula: implementation
//!   notes, supplementary test data, and mathematical observations", Color Res. Appl. 30(1),
//!   21–30, 2005 (Table 1: the 34 test pairs used in the tests).
//! - CIE 15:2004, Colorimetry (CIELAB).
//! - IEC 61966-2-1:1999 (sRGB → XYZ matrix).

use crate::colour::{linear_to_srgb, RgbImage, LUMA_709};
use crate::metrics::ssim;
use crate::{CoreError, Result};
use ndarray::Array2;

/// Linear sRGB → CIE XYZ (D65), IEC 61966-2-1.
pub const SRGB_TO_XYZ: [[f64; 3]; 3] = [
    [0.4124, 0.3576, 0.1805],
    [0.2126, 0.7152, 0.0722],
    [0.0193, 0.1192, 0.9505],
];

/// CIE XYZ of linear sRGB `rgb` (D65).
pub fn linear_rgb_to_xyz(rgb: [f64; 3]) -> [f64; 3] {
    let m = SRGB_TO_XYZ;
    std::array::from_fn(|i| m[i][0] * rgb[0] + m[i][1] * rgb[1] + m[i][2] * rgb[2])
}

/// The reference white of [`xyz_to_lab`]: XYZ of sRGB white.
pub fn white_xyz() -> [f64; 3] {
    linear_rgb_to_xyz([1.0, 1.0, 1.0])
}

/// CIELAB `(L*, a*, b*)` of CIE XYZ relative to `white` (CIE 15:2004).
pub fn xyz_to_lab(xyz: [f64; 3], white: [f64; 3]) -> [f64; 3] {
    const D: f64 = 6.0 / 29.0;
    let f = |t: f64| {
        if t > D * D * D {
            t.cbrt()
        } else {
            t / (3.0 * D * D) + 4.0 / 29.0
        }
    };
    let (fx, fy, fz) = (
        f(xyz[0] / white[0]),
        f(xyz[1] / white[1]),
        f(xyz[2] / white[2]),
    );
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB of linear sRGB (D65 white).
pub fn linear_rgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    xyz_to_lab(linear_rgb_to_xyz(rgb), white_xyz())
}

/// CIEDE2000 colour difference of two CIELAB colours (`kL = kC = kH = 1`).
pub fn delta_e2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    let [l1, a1, b1] = lab1;
    let [l2, a2, b2] = lab2;
    let pow7 = |x: f64| x.powi(7);
    let c1 = a1.hypot(b1);
    let c2 = a2.hypot(b2);
    let cbar = 0.5 * (c1 + c2);
    let g = 0.5 * (1.0 - (pow7(cbar) / (pow7(cbar) + pow7(25.0))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
    let hue = |b: f64, a: f64| {
        if a == 0.0 && b == 0.0 {
            0.0
        } else {
            b.atan2(a).to_degrees().rem_euclid(360.0)
        }
    };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let cprod = c1p * c2p;
    let dh = if cprod == 0.0 {
        0.0
    } else {
        let d = h2p - h1p;
        if d > 180.0 {
            d - 360.0
        } else if d < -180.0 {
            d + 360.0
        } else {
            d
        }
    };
    let dhh = 2.0 * cprod.sqrt() * (dh.to_radians() / 2.0).sin();
    let lbar = 0.5 * (l1 + l2);
    let cbarp = 0.5 * (c1p + c2p);
    let hbar = if cprod == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        0.5 * (h1p + h2p)
    } else if h1p + h2p < 360.0 {
        0.5 * (h1p + h2p + 360.0)
    } else {
        0.5 * (h1p + h2p - 360.0)
    };
    let cosd = |deg: f64| deg.to_radians().cos();
    let t =
        1.0 - 0.17 * cosd(hbar - 30.0) + 0.24 * cosd(2.0 * hbar) + 0.32 * cosd(3.0 * hbar + 6.0)
            - 0.20 * cosd(4.0 * hbar - 63.0);
    let dtheta = 30.0 * (-((hbar - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (pow7(cbarp) / (pow7(cbarp) + pow7(25.0))).sqrt();
    let l50 = (lbar - 50.0).powi(2);
    let sl = 1.0 + 0.015 * l50 / (20.0 + l50).sqrt();
    let sc = 1.0 + 0.045 * cbarp;
    let sh = 1.0 + 0.015 * cbarp * t;
    let rt = -(2.0 * dtheta).to_radians().sin() * rc;
    let (tl, tc, th) = (dl / sl, dc / sc, dhh / sh);
    (tl * tl + tc * tc + th * th + rt * tc * th).max(0.0).sqrt()
}

fn check_pair(a: &RgbImage, b: &RgbImage) -> Result<()> {
    if a.data.dim() != b.data.dim() {
        return Err(CoreError::Shape(format!(
            "colour metric inputs differ in shape: {:?} vs {:?}",
            a.data.dim(),
            b.data.dim()
        )));
    }
    Ok(())
}

/// Mean ΔE2000 over the pixels inside the reference's field of view (all pixels without a
/// mask).
pub fn delta_e2000_mean(reference: &RgbImage, test: &RgbImage) -> Result<f64> {
    check_pair(reference, test)?;
    let (rows, cols) = reference.shape();
    let white = white_xyz();
    let (mut acc, mut n) = (0.0f64, 0usize);
    for r in 0..rows {
        for c in 0..cols {
            if !reference.in_fov(r, c) {
                continue;
            }
            let px = |img: &RgbImage| -> [f64; 3] {
                std::array::from_fn(|k| img.data[[k, r, c]] as f64)
            };
            let la = xyz_to_lab(linear_rgb_to_xyz(px(reference)), white);
            let lb = xyz_to_lab(linear_rgb_to_xyz(px(test)), white);
            acc += delta_e2000(la, lb);
            n += 1;
        }
    }
    if n == 0 {
        return Err(CoreError::Invalid(
            "the field of view is empty: no pixel to compare".into(),
        ));
    }
    Ok(acc / n as f64)
}

fn encode_plane(p: ndarray::ArrayView2<f32>) -> Array2<f32> {
    p.mapv(|v| linear_to_srgb((v as f64).clamp(0.0, 1.0)) as f32)
}

/// SSIM of each sRGB-encoded channel (R, G, B), data range 1.
pub fn ssim_per_channel(reference: &RgbImage, test: &RgbImage) -> Result<[f64; 3]> {
    check_pair(reference, test)?;
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let a = encode_plane(reference.channel(c));
        let b = encode_plane(test.channel(c));
        *o = ssim(a.view(), b.view(), 1.0)?;
    }
    Ok(out)
}

/// SSIM of the sRGB-encoded luminance, data range 1.
pub fn ssim_luminance(reference: &RgbImage, test: &RgbImage) -> Result<f64> {
    check_pair(reference, test)?;
    let a = encode_plane(reference.luminance().view());
    let b = encode_plane(test.luminance().view());
    ssim(a.view(), b.view(), 1.0)
}

/// Luminance weights, re-exported for callers that build their own grey.
pub const LUMINANCE_WEIGHTS: [f64; 3] = LUMA_709;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Modality;
    use ndarray::Array3;

    /// Sharma, Wu & Dalal (2005), Table 1: `[L1, a1, b1, L2, a2, b2, ΔE00]`, all 34 pairs.
    const SHARMA: [[f64; 7]; 34] = [
        [50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425],
        [50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615],
        [50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412],
        [
            50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000,
        ],
        [
            50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000,
        ],
        [
            50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000,
        ],
        [50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669],
        [50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461],
        [50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065],
        [50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492],
        [50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977],
        [50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030],
        [50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000],
        [
            60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644,
        ],
        [
            63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630,
        ],
        [61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731],
        [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
        [
            22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373,
        ],
        [36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
        [90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441],
        [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
        [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377],
        [2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082],
    ];

    /// All 34 published pairs to 4 decimals (rounded as published), both orders.
    #[test]
    fn ciede2000_matches_sharma_table_1() {
        for (i, p) in SHARMA.iter().enumerate() {
            let (a, b) = ([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
            let d = delta_e2000(a, b);
            assert!(
                ((d * 1e4).round() / 1e4 - p[6]).abs() < 1e-9,
                "pair {}: {d:.6} vs {}",
                i + 1,
                p[6]
            );
            assert!(
                (delta_e2000(b, a) - d).abs() < 1e-12,
                "symmetry pair {}",
                i + 1
            );
        }
        assert_eq!(delta_e2000([50.0, 0.0, 0.0], [50.0, 0.0, 0.0]), 0.0);
    }

    /// sRGB primaries and white in CIELAB (D65), the usual published values (computed with the
    /// 7-decimal matrix and white (0.95047, 1, 1.08883); the 4-decimal IEC matrix used here
    /// moves them by up to 0.02): white (100, 0, 0), red (53.24, 80.09, 67.20), green
    /// (87.73, −86.18, 83.18), blue (32.30, 79.19, −107.86).
    #[test]
    fn srgb_to_lab_known_values() {
        let w = linear_rgb_to_lab([1.0, 1.0, 1.0]);
        assert!((w[0] - 100.0).abs() < 1e-9 && w[1].abs() < 1e-9 && w[2].abs() < 1e-9);
        let cases = [
            ([1.0, 0.0, 0.0], [53.24, 80.09, 67.20]),
            ([0.0, 1.0, 0.0], [87.73, -86.18, 83.18]),
            ([0.0, 0.0, 1.0], [32.30, 79.19, -107.86]),
        ];
        for (rgb, lab) in cases {
            let l = linear_rgb_to_lab(rgb);
            for k in 0..3 {
                assert!((l[k] - lab[k]).abs() < 0.05, "{rgb:?}: {l:?} vs {lab:?}");
            }
        }
    }

    fn img(f: impl Fn(usize, usize, usize) -> f32) -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 24, 24), |(c, r, k)| f(c, r, k)),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap()
    }

    #[test]
    fn colour_ssim_and_mean_delta_e() {
        let a = img(|c, r, k| 0.1 + 0.1 * c as f32 + 0.3 * ((r * 3 + k) % 7) as f32 / 7.0);
        assert!((ssim_luminance(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(ssim_per_channel(&a, &a).unwrap(), [1.0; 3]);
        assert_eq!(delta_e2000_mean(&a, &a).unwrap(), 0.0);
        // a blue cast changes only the blue channel's SSIM
        let b = a.with_data(a.data.clone()).unwrap();
        let mut b = b;
        b.data
            .index_axis_mut(ndarray::Axis(0), 2)
            .mapv_inplace(|v| v * 0.5 + 0.05 * ((v * 1e3) as i32 % 3) as f32);
        let s = ssim_per_channel(&a, &b).unwrap();
        assert_eq!(s[0], 1.0);
        assert_eq!(s[1], 1.0);
        assert!(s[2] < 0.99, "{s:?}");
        assert!(delta_e2000_mean(&a, &b).unwrap() > 1.0);
        // ΔE restricted to the field of view ignores changes outside it
        let mut mask = Array2::from_elem((24, 24), true);
        mask.row_mut(0).fill(false);
        let mut a_m = a.clone();
        a_m.fov = Some(mask);
        let mut c = a.clone();
        c.data[[0, 0, 5]] = 0.9;
        assert_eq!(delta_e2000_mean(&a_m, &c).unwrap(), 0.0);
        assert!(delta_e2000_mean(&a, &c).unwrap() > 0.0);
        let small = img(|_, _, _| 0.0);
        let other = RgbImage::new(
            Array3::zeros((3, 24, 25)),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap();
        assert!(delta_e2000_mean(&small, &other).is_err());
    }
}
