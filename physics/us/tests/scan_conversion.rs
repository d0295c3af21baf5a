//! Scan conversion lands beam-grid patterns at their analytic Cartesian places.

use artefact_us::scan_conversion::scan_convert;
use artefact_us::{Geometry, Probe, ProbeKind};
use ndarray::Array2;

fn geometries() -> Vec<Geometry> {
    [Probe::linear(), Probe::convex(), Probe::phased()]
        .iter()
        .map(|p| Geometry::new(p, 200, 240, [1.0, 1.0], 1.0).unwrap())
        .collect()
}

/// Bilinear interpolation reproduces functions linear in (r, lateral) exactly, so the
/// scan-converted image of `r/D` (and of the beam angle) must equal the analytic `r(x, y)/D`
/// (`θ(x, y)`) at every pixel inside the field of view, and 0 outside.
#[test]
fn linear_ramps_on_the_beam_grid_map_to_analytic_range_and_angle() {
    for g in geometries() {
        let rr =
            Array2::from_shape_fn((g.n_r, g.n_b), |(m, _)| (g.r_of(m as f64) / g.depth) as f32);
        let aa = Array2::from_shape_fn((g.n_r, g.n_b), |(_, b)| {
            (1.0 + (g.lat_of(b as f64) - g.lat0) / (g.dlat * (g.n_b - 1) as f64)) as f32
        });
        let ir = scan_convert(&rr, &g).unwrap();
        let ia = scan_convert(&aa, &g).unwrap();
        let tm = (g.dlat * (g.n_b - 1) as f64) / 2.0; // half angle (sector) / half width (linear)
        let (mut inside, mut outside) = (0, 0);
        for i in 0..g.rows {
            for j in 0..g.cols {
                let (x, y) = g.pixel_xy(i, j);
                let (r, lat) = if g.kind == ProbeKind::Linear {
                    (y, x)
                } else {
                    let yy = y + g.radius;
                    ((x * x + yy * yy).sqrt() - g.radius, x.atan2(yy))
                };
                let margin = 1e-6;
                let inside_fov = r >= margin && r <= g.depth - margin && lat.abs() <= tm - margin;
                let outside_fov = r < -margin || r > g.depth + margin || lat.abs() > tm + margin;
                if inside_fov {
                    inside += 1;
                    let er = (r / g.depth) as f32;
                    let ea = (1.0 + (lat + tm) / (2.0 * tm)) as f32;
                    assert!(
                        (ir[[i, j]] - er).abs() < 2e-4,
                        "{:?} r at ({i},{j})",
                        g.kind
                    );
                    assert!(
                        (ia[[i, j]] - ea).abs() < 2e-4,
                        "{:?} θ at ({i},{j})",
                        g.kind
                    );
                } else if outside_fov {
                    outside += 1;
                    assert_eq!(ir[[i, j]], 0.0, "{:?} outside at ({i},{j})", g.kind);
                    assert_eq!(ia[[i, j]], 0.0);
                }
            }
        }
        eprintln!("{:?}: {inside} pixels inside, {outside} outside", g.kind);
        assert!(inside > g.rows * g.cols / 3);
        if g.kind != ProbeKind::Linear {
            assert!(
                outside > g.rows * g.cols / 10,
                "a sector leaves black corners"
            );
        }
    }
}

/// A bright spot at known (r, θ) lands at the analytic pixel (centroid within 0.5 px).
#[test]
fn a_point_on_the_beam_grid_lands_at_its_analytic_pixel() {
    for g in geometries() {
        for (fm, fb) in [(0.3, 0.2), (0.7, 0.5), (0.9, 0.85)] {
            let m0 = (fm * (g.n_r - 1) as f64).round() as usize;
            let b0 = (fb * (g.n_b - 1) as f64).round() as usize;
            // a smooth blob a few samples wide around (m0, b0)
            let (sm, sb) = (g.n_r as f64 / 60.0, g.n_b as f64 / 60.0);
            let beams = Array2::from_shape_fn((g.n_r, g.n_b), |(m, b)| {
                let d =
                    ((m as f64 - m0 as f64) / sm).powi(2) + ((b as f64 - b0 as f64) / sb).powi(2);
                (-d / 2.0).exp() as f32
            });
            let img = scan_convert(&beams, &g).unwrap();
            let (x, y) = g.to_cartesian(g.r_of(m0 as f64), g.lat_of(b0 as f64));
            let (pi, pj) = g.xy_to_pixel(x, y);
            // intensity-weighted centroid of the bright part
            let (mut si, mut sj, mut sw) = (0.0, 0.0, 0.0);
            for ((i, j), &v) in img.indexed_iter() {
                if v > 0.5 {
                    let w = v as f64;
                    si += w * i as f64;
                    sj += w * j as f64;
                    sw += w;
                }
            }
            let (ci, cj) = (si / sw, sj / sw);
            eprintln!(
                "{:?} ({fm},{fb}): analytic ({pi:.2},{pj:.2}) centroid ({ci:.2},{cj:.2})",
                g.kind
            );
            assert!((ci - pi).abs() < 0.75 && (cj - pj).abs() < 0.75);
        }
    }
}
