//! A rendered endoscopy-like test scene (no redistributable real endoscopy image exists; see
//! tests/data/README.md): the camera looks down a tube (the lumen), slightly off its axis.
//!
//! - geometry: a cylinder of radius 1 along +z, the pinhole camera at `(0.25, −0.15, 0)`
//!   looking along +z, focal length 0.45·size pixels (a wide endoscope);
//! - shading: a point light at the camera — irradiance `cos α / d²` (Lambert × inverse
//!   square), so the wall darkens with depth and the far lumen is black;
//! - albedo: pinkish mucosa `(0.80, 0.42, 0.36)` with a fine two-scale texture and darker red
//!   branching vessels drawn in the wall's `(θ, z)` coordinates;
//! - a circular black field of view of radius 0.47·size (the mask is set).
//!
//! Deterministic (no randomness); values in linear light with the brightest wall near 0.85.
#![allow(dead_code)]

use artefact_core::{Modality, RgbImage};
use ndarray::{Array2, Array3};

pub fn endoscopy_scene(size: usize) -> RgbImage {
    let n = size as f64;
    let (cy, cx) = ((n - 1.0) / 2.0, (n - 1.0) / 2.0);
    let f = 0.45 * n;
    let o = [0.25f64, -0.15];
    let fov = Array2::from_shape_fn((size, size), |(r, c)| {
        (r as f64 - cy).hypot(c as f64 - cx) <= 0.47 * n
    });
    let mut data = Array3::<f32>::zeros((3, size, size));
    let mut radiance = Array2::<f64>::zeros((size, size));
    let mut alb = Array3::<f64>::zeros((3, size, size));
    for r in 0..size {
        for c in 0..size {
            if !fov[[r, c]] {
                continue;
            }
            let d = [(c as f64 - cx) / f, (r as f64 - cy) / f, 1.0];
            let dl = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            // |o + s·d_xy| = 1
            let a = d[0] * d[0] + d[1] * d[1];
            if a < 1e-12 {
                continue;
            }
            let b = 2.0 * (o[0] * d[0] + o[1] * d[1]);
            let cc = o[0] * o[0] + o[1] * o[1] - 1.0;
            let s = (-b + (b * b - 4.0 * a * cc).sqrt()) / (2.0 * a);
            let p = [o[0] + s * d[0], o[1] + s * d[1], s];
            let dist = s * dl;
            // inward normal (−p_x, −p_y, 0); light and view at the camera
            let cos_a = ((p[0] * d[0] + p[1] * d[1]) / dl).max(0.0);
            radiance[[r, c]] = cos_a / (dist * dist);
            let th = p[1].atan2(p[0]);
            let z = p[2];
            let tex = 1.0
                + 0.08 * (23.0 * th).sin() * (9.0 * z).sin()
                + 0.05 * (61.0 * th + 3.0 * z).sin() * (27.0 * z).cos();
            let v1 = (5.0 * th + 1.5 * (1.3 * z).sin() + 0.4 * z).sin().abs();
            let v2 = (11.0 * th - 2.0 * (0.9 * z).cos() + 1.1 * z).sin().abs();
            let vessel = (-(v1 / 0.05).powi(2)).exp() + 0.6 * (-(v2 / 0.035).powi(2)).exp();
            let vessel = vessel.min(1.0);
            let base = [0.80, 0.42, 0.36];
            let drop = [0.25, 0.6, 0.55];
            for k in 0..3 {
                alb[[k, r, c]] = base[k] * tex * (1.0 - drop[k] * vessel);
            }
        }
    }
    // expose so that the 99th percentile of the lit wall sits at 0.85
    let mut lit: Vec<f64> = radiance.iter().copied().filter(|&v| v > 0.0).collect();
    lit.sort_by(f64::total_cmp);
    let p99 = lit[(lit.len() as f64 * 0.99) as usize];
    for ((k, r, c), v) in data.indexed_iter_mut() {
        if fov[[r, c]] {
            *v = (alb[[k, r, c]] * radiance[[r, c]] / p99 * 0.85 / 0.8).clamp(0.0, 1.0) as f32;
        }
    }
    RgbImage::new(data, [0.1, 0.1], Modality::Endoscopy, Some(fov)).unwrap()
}
