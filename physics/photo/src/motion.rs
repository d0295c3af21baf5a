//! Motion blur: the PSF of a camera path during the exposure.
//!
//! # Model
//! While the shutter is open the image of a scene point moves along a path `p(t)`,
//! `t ∈ [0, 1]`, on the sensor (camera shake, endoscope tip motion). The PSF is the time the
//! point spends at each position: a line density along the path. The path is a polyline in
//! pixels traversed at constant speed (so time ∝ arc length); it is sampled every 1/16 px of arc
//! and each sample is splatted bilinearly onto the pixel grid (anti-aliased), then the weights
//! are normalised to sum to 1. The path is re-centred on its time-average position so the blur
//! does not shift the image.
//!
//! For a straight path of length `L` the PSF is a box of length `L` (convolved with the
//! bilinear splat's triangle), so the MTF along the motion is `|sinc(ρL)|` (times `sinc²(ρ)`),
//! with zeros at `ρ = k/L` cycles per pixel — exactly, for integer `L`, on the pixel grid.
//!
//! # Units
//! Path coordinates, lengths: pixels (`x` = column, `y` = row, y down). Angles: degrees,
//! counter-clockwise from the +x axis as seen on the image (y up on screen).
//!
//! # References
//! - R. L. Lagendijk, J. Biemond, "Basic methods for image restoration and identification", in
//!   *Handbook of Image and Video Processing*, 2005 (linear-motion PSF and its sinc MTF).
//! - R. Fergus et al., "Removing camera shake from a single photograph", SIGGRAPH 2006
//!   (camera-path kernels).

use crate::convolve::convolve_in_fov;
use crate::error::check_range;
use crate::{PhotoError, Psf, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Largest path extent simulated (pixels).
pub const MAX_EXTENT_PX: f64 = 256.0;
/// Sub-samples per pixel of arc.
const SAMPLES_PER_PX: f64 = 16.0;

/// A camera path in pixels (the model's input; [`MotionBlurParams`] builds a straight one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotionPath {
    /// Polyline vertices `[x, y]` in pixels, traversed at constant speed.
    pub path: Vec<[f64; 2]>,
}

impl MotionPath {
    /// A straight path of `length_px` at `angle_deg` (counter-clockwise from +x on screen).
    pub fn linear(length_px: f64, angle_deg: f64) -> MotionPath {
        let a = angle_deg.to_radians();
        let (dx, dy) = (0.5 * length_px * a.cos(), -0.5 * length_px * a.sin());
        MotionPath {
            path: vec![[-dx, -dy], [dx, dy]],
        }
    }

    /// Total arc length in pixels.
    pub fn length(&self) -> f64 {
        self.path
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum()
    }
}

/// The PSF of a camera path (see module docs).
pub fn path_psf(p: &MotionPath) -> Result<Psf> {
    if p.path.is_empty() {
        return Err(PhotoError::param("path", "needs at least one point"));
    }
    for v in &p.path {
        if !(v[0].is_finite() && v[1].is_finite()) {
            return Err(PhotoError::param(
                "path",
                format!("non-finite vertex {v:?}"),
            ));
        }
    }
    let length = p.length();
    if length == 0.0 {
        return Ok(Psf::identity());
    }
    // samples at constant arc-length spacing (midpoints of equal arc intervals)
    let n = ((length * SAMPLES_PER_PX).ceil() as usize).max(2);
    let mut pts = Vec::with_capacity(n);
    let seg: Vec<f64> = p
        .path
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .collect();
    let (mut k, mut start) = (0usize, 0.0f64);
    for i in 0..n {
        let s = (i as f64 + 0.5) / n as f64 * length;
        while k + 1 < seg.len() && s > start + seg[k] {
            start += seg[k];
            k += 1;
        }
        let t = if seg[k] > 0.0 {
            ((s - start) / seg[k]).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (a, b) = (p.path[k], p.path[k + 1]);
        pts.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
    }
    let cx = pts.iter().map(|q| q[0]).sum::<f64>() / n as f64;
    let cy = pts.iter().map(|q| q[1]).sum::<f64>() / n as f64;
    let ext = pts
        .iter()
        .map(|q| (q[0] - cx).abs().max((q[1] - cy).abs()))
        .fold(0.0, f64::max);
    check_range("path extent (px)", 2.0 * ext, 0.0, MAX_EXTENT_PX)?;
    let half = ext.ceil() as usize + 1;
    let size = 2 * half + 1;
    let mut w = Array2::<f64>::zeros((size, size));
    for q in &pts {
        let (x, y) = (q[0] - cx + half as f64, q[1] - cy + half as f64);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (c, r) = (x0 as usize, y0 as usize);
        w[[r, c]] += (1.0 - fx) * (1.0 - fy);
        w[[r, c + 1]] += fx * (1.0 - fy);
        w[[r + 1, c]] += (1.0 - fx) * fy;
        w[[r + 1, c + 1]] += fx * fy;
    }
    Psf::normalised(w)
}

/// Blur every channel with the PSF of `path` inside the field of view.
pub fn blur_along(path: &MotionPath, img: &RgbImage) -> Result<RgbImage> {
    let psf = path_psf(path)?;
    convolve_in_fov(img, &[psf.clone(), psf.clone(), psf])
}

artefact_core::params! {
    /// Parameters of [`MotionBlur`] (recorded in manifests, replayed exactly).
    pub struct MotionBlurParams {
        /// length of the straight camera path during the exposure
        pub length_px: f64 = float(10.0, [0.0, 256.0], "px"),
        /// direction of the motion, counter-clockwise from the image's +x axis
        pub angle_deg: f64 = float(0.0, [0.0, 180.0], "deg"),
    }
}

/// Straight-path motion blur of [`MotionBlurParams`].
pub fn apply(p: &MotionBlurParams, img: &RgbImage) -> Result<RgbImage> {
    blur_along(&MotionPath::linear(p.length_px, p.angle_deg), img)
}

/// The operator `photo.motion_blur` (see the module docs).
pub struct MotionBlur;

static INFO: OpInfo = OpInfo {
    name: "photo.motion_blur",
    modality: "photo",
    doc: "Motion blur: the PSF of a straight camera path during the exposure (time along the path, anti-aliased), by normalised convolution inside the field of view.",
    params: MotionBlurParams::PARAMS,
};

impl ColourOperator for MotionBlur {
    type Params = MotionBlurParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<MotionBlurParams> {
        Ok(MotionBlurParams::sample(spec, rng)?)
    }
    fn apply(p: &MotionBlurParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mtf(p: &Psf, fy: f64, fx: f64) -> f64 {
        let (re, im) = p.dtft(fy, fx);
        re.hypot(im)
    }

    /// MTF zeros at multiples of 1/L along the motion, none across it.
    #[test]
    fn linear_motion_mtf_zeros_at_multiples_of_one_over_length() {
        for l in [8.0, 15.0, 24.0] {
            let psf = path_psf(&MotionPath::linear(l, 0.0)).unwrap();
            assert!((psf.weights.sum() - 1.0).abs() < 1e-12);
            for k in 1..=3 {
                let f = k as f64 / l;
                assert!(
                    mtf(&psf, 0.0, f) < 1e-3,
                    "L={l} k={k}: {}",
                    mtf(&psf, 0.0, f)
                );
            }
            // the whole curve: box of length L convolved with the splat's triangle, sampled
            // on the pixel grid: Σ_m sinc(L(ρ+m))·sinc²(ρ+m)
            let sinc = |x: f64| {
                if x == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                }
            };
            for i in 0..=50 {
                let rho = 0.5 * i as f64 / 50.0;
                let expected: f64 = (-40..=40)
                    .map(|m| sinc(l * (rho + m as f64)) * sinc(rho + m as f64).powi(2))
                    .sum();
                let got = psf.dtft(0.0, rho).0;
                assert!(
                    (got - expected).abs() < 2e-3,
                    "L={l} ρ={rho}: {got} vs {expected}"
                );
            }
            // across the motion nothing is blurred
            assert!((mtf(&psf, 1.0 / l, 0.0) - 1.0).abs() < 1e-12);
        }
        // vertical motion blurs along y only
        let v = path_psf(&MotionPath::linear(10.0, 90.0)).unwrap();
        assert!(mtf(&v, 0.1, 0.0) < 1e-3);
        assert!((mtf(&v, 0.0, 0.1) - 1.0).abs() < 1e-9);
    }

    /// A diagonal path: zeros along the motion direction at k/L (non-integer projections, so
    /// a looser tolerance); an L-shaped path keeps its centroid at the origin.
    #[test]
    fn oblique_and_polyline_paths() {
        let l: f64 = 20.0;
        let psf = path_psf(&MotionPath::linear(l, 30.0)).unwrap();
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        // spatial frequency along the motion direction (y is down: direction (c, −s))
        let f = 1.0 / l;
        assert!(
            mtf(&psf, -s * f, c * f) < 0.02,
            "{}",
            mtf(&psf, -s * f, c * f)
        );
        let poly = MotionPath {
            path: vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]],
        };
        let p = path_psf(&poly).unwrap();
        let (ry, rx) = p.radius();
        let (mut mx, mut my) = (0.0, 0.0);
        for ((r, cc), &w) in p.weights.indexed_iter() {
            mx += w * (cc as f64 - rx as f64);
            my += w * (r as f64 - ry as f64);
        }
        assert!(mx.abs() < 1e-9 && my.abs() < 1e-9, "centroid {mx}, {my}");
        assert_eq!(
            path_psf(&MotionPath {
                path: vec![[1.0, 1.0]]
            })
            .unwrap(),
            Psf::identity()
        );
        assert!(path_psf(&MotionPath { path: vec![] }).is_err());
        assert!(path_psf(&MotionPath::linear(1000.0, 0.0)).is_err());
    }
}
