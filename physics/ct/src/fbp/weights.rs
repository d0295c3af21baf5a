//! Angular weights of the back-projection: per-view integration weights `Δ_v` from an
//! arbitrary (possibly irregular) angle list, and fan-beam redundancy weights (½ for full
//! scans, Parker weights for short scans; Parker 1982, Wesarg et al. 2002).

use crate::geometry::Geometry;
use ndarray::Array2;
use std::f64::consts::PI;

/// Per-view angular integration weights `Δ_v` (radians) for an arbitrary angle list.
pub fn view_weights(angles: &[f64]) -> Vec<f64> {
    let n = angles.len();
    if n == 1 {
        return vec![PI];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| angles[a].total_cmp(&angles[b]));
    let gaps: Vec<f64> = order
        .windows(2)
        .map(|w| (angles[w[1]] - angles[w[0]]).abs())
        .collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let med = sorted[sorted.len() / 2].max(1e-12);
    let g = |x: f64| if x > 3.0 * med { med } else { x };
    let mut w = vec![0.0; n];
    for (pos, &v) in order.iter().enumerate() {
        let left = if pos > 0 {
            Some(g(gaps[pos - 1]))
        } else {
            None
        };
        let right = if pos + 1 < n {
            Some(g(gaps[pos]))
        } else {
            None
        };
        w[v] = match (left, right) {
            (Some(l), Some(r)) => 0.5 * (l + r),
            (Some(l), None) => l,
            (None, Some(r)) => r,
            (None, None) => PI,
        };
    }
    w
}

/// Parker weight for source angle `beta` ∈ [0, π + 2δ] (relative to the scan start) and the
/// ray's fan angle in the θ = β + γ convention.
pub fn parker_weight(beta: f64, gamma: f64, delta: f64) -> f64 {
    let sq = |x: f64| x.sin().powi(2);
    if beta < 0.0 {
        0.0
    } else if beta < 2.0 * (delta - gamma) {
        sq(PI / 4.0 * beta / (delta - gamma))
    } else if beta <= PI - 2.0 * gamma {
        1.0
    } else if beta <= PI + 2.0 * delta {
        sq(PI / 4.0 * (PI + 2.0 * delta - beta) / (delta + gamma))
    } else {
        0.0
    }
}

/// Redundancy weights `(views, n_det)` of a fan-beam scan (½ for full scans, Parker otherwise).
pub fn fan_redundancy_weights(geom: &Geometry) -> Array2<f64> {
    let nv = geom.n_views();
    let nd = geom.n_det;
    let dv = view_weights(&geom.angles_rad);
    let span: f64 = dv.iter().sum();
    if span >= 2.0 * PI * (1.0 - 1e-3) {
        return Array2::from_elem((nv, nd), 0.5);
    }
    let gmax = geom.fan_angle_rad() / 2.0;
    let bmin = geom
        .angles_rad
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let bmax = geom
        .angles_rad
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    let delta = ((bmax - bmin - PI) / 2.0).max(gmax + 1e-6);
    let mut w = Array2::zeros((nv, nd));
    for (v, &b) in geom.angles_rad.iter().enumerate() {
        for k in 0..nd {
            // our rays are θ = β − γ; Parker's formula is written for θ = β + γ
            let g = -geom.gamma_rad(k);
            w[[v, k]] = parker_weight(b - bmin, g, delta);
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parker_redundancy() {
        let d = 0.3;
        for &g in &[-0.25, -0.1, 0.0, 0.2] {
            for i in 0..50 {
                let b = i as f64 / 50.0 * (PI + 2.0 * d);
                let b2 = b + PI + 2.0 * g;
                let b2 = if b2 > PI + 2.0 * d { b2 - 2.0 * PI } else { b2 };
                let s = parker_weight(b, g, d) + parker_weight(b2, -g, d);
                if (0.0..=PI + 2.0 * d).contains(&b2) {
                    assert!((s - 1.0).abs() < 1e-9, "b {b} g {g} s {s}");
                }
            }
        }
    }
}
