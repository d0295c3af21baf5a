//! Projector physics: adjoint (dot-product) test, agreement with the analytic Radon transform
//! of the Shepp–Logan ellipse phantom for all three geometries, determinism across thread counts.

use artefact_ct::geometry::{Geometry, Grid};
use artefact_ct::phantom::{radon, rasterize, shepp_logan_modified};
use artefact_ct::projector::{backproject, forward, ray_of, try_backproject, try_forward};
use ndarray::Array2;
use rand::Rng;

fn geometries() -> Vec<(&'static str, Geometry)> {
    let mut par = Geometry::parallel(97, 0.9, 37, 180.0);
    par.det_offset_mm = 0.3;
    let mut flat = Geometry::fan_flat(120, 1.3, 150.0, 100.0, 41, 360.0);
    flat.det_offset_mm = -0.4;
    let arc = Geometry::fan_arc(110, 1.4, 160.0, 90.0, 29, 360.0);
    let arc_short = arc.short_scan(30);
    vec![
        ("parallel", par),
        ("fan_flat", flat),
        ("fan_arc", arc),
        ("fan_arc_short", arc_short),
    ]
}

fn random(shape: (usize, usize), seed: u64) -> Array2<f32> {
    let mut rng = artefact_core::Seed::from_u64(seed).rng();
    Array2::from_shape_fn(shape, |_| rng.random::<f32>() - 0.3)
}

#[test]
fn adjoint_dot_product_all_geometries() {
    // non-square grid with pixels not equal to the detector pitch
    let grid = Grid::new(64, 48, 1.7);
    for (name, geom) in geometries() {
        let x = random((grid.rows, grid.cols), 1);
        let y = random((geom.n_views(), geom.n_det), 2);
        let ax = try_forward(x.view(), &grid, &geom).unwrap();
        let aty = try_backproject(y.view(), &geom, &grid).unwrap();
        let lhs: f64 = ax
            .iter()
            .zip(y.iter())
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        let rhs: f64 = x
            .iter()
            .zip(aty.iter())
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        let rel = (lhs - rhs).abs() / lhs.abs().max(rhs.abs());
        assert!(
            rel < 1e-4,
            "{name}: ⟨Ax,y⟩ = {lhs}, ⟨x,Aᵀy⟩ = {rhs}, rel {rel:e}"
        );
        assert!(ax.iter().any(|&v| v != 0.0), "{name}: empty projection");
    }
}

#[test]
fn adjoint_steep_and_fine_detector() {
    // detector finer than the pixels: several rays per pixel column (multi-tap transpose)
    let grid = Grid::new(40, 40, 2.0);
    for geom in [
        Geometry::parallel(150, 0.6, 23, 180.0),
        Geometry::fan_arc(150, 0.9, 200.0, 100.0, 23, 360.0),
    ] {
        let x = random((grid.rows, grid.cols), 3);
        let y = random((geom.n_views(), geom.n_det), 4);
        let ax = forward(x.view(), &grid, &geom);
        let aty = backproject(y.view(), &geom, &grid);
        let lhs: f64 = ax
            .iter()
            .zip(y.iter())
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        let rhs: f64 = x
            .iter()
            .zip(aty.iter())
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        assert!((lhs - rhs).abs() / lhs.abs() < 1e-4, "{lhs} vs {rhs}");
    }
}

/// Relative error of the projection of the (finely rasterised) Shepp–Logan phantom against
/// its analytic line integrals over the sinogram interior: rays crossing the brain ellipse at
/// `|s'| ≤ 0.8·a(θ)` of its half-width (chord ≥ 60 % of the central chord), so rays tangent to
/// the skull — where a pixelised edge cannot match the analytic chord — are excluded.
fn sinogram_error(geom: &Geometry) -> (f64, f64) {
    let phantom = shepp_logan_modified(100.0, 0.02);
    let brain = phantom[1];
    let grid = Grid::new(720, 720, 1.0 / 3.0);
    let mu = rasterize(&phantom, &grid, 4);
    let p = forward(mu.view(), &grid, geom);
    let r = radon(&phantom, geom);
    let (mut worst, mut num, mut den) = (0.0f64, 0.0f64, 0.0f64);
    for (v, &ang) in geom.angles_rad.iter().enumerate() {
        for k in 0..geom.n_det {
            let (pt, d) = ray_of(geom, ang, k);
            let chord = brain.chord(pt, d);
            let central = brain.chord([brain.x0, brain.y0], d);
            if chord < 0.6 * central {
                continue;
            }
            let (a, b) = (p[[v, k]] as f64, r[[v, k]] as f64);
            worst = worst.max((a - b).abs() / b);
            num += (a - b).powi(2);
            den += b * b;
        }
    }
    (worst, (num / den).sqrt())
}

#[test]
fn projector_matches_analytic_radon() {
    let geoms = [
        ("parallel", Geometry::parallel(260, 1.0, 60, 180.0)),
        (
            "fan_flat",
            Geometry::fan_flat(300, 1.6, 300.0, 200.0, 60, 360.0),
        ),
        (
            "fan_arc",
            Geometry::fan_arc(300, 1.6, 300.0, 200.0, 60, 360.0),
        ),
    ];
    for (name, g) in geoms {
        let (worst, rel) = sinogram_error(&g);
        eprintln!("{name}: worst {worst:.4}, relative L2 {rel:.5}");
        assert!(worst <= 0.02, "{name}: worst relative error {worst}");
        assert!(rel <= 0.005, "{name}: relative L2 error {rel}");
    }
}

#[test]
fn deterministic_across_thread_counts() {
    let grid = Grid::new(70, 66, 1.0);
    let x = random((grid.rows, grid.cols), 5);
    for (name, geom) in geometries() {
        let y = random((geom.n_views(), geom.n_det), 6);
        let run = |n: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| {
                    (
                        forward(x.view(), &grid, &geom),
                        backproject(y.view(), &geom, &grid),
                    )
                })
        };
        let (f1, b1) = run(1);
        for n in [2, 3] {
            let (fm, bm) = run(n);
            assert!(
                f1.iter()
                    .zip(fm.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} forward, {n} threads"
            );
            assert!(
                b1.iter()
                    .zip(bm.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} back, {n} threads"
            );
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let grid = Grid::new(32, 32, 1.0);
    let g = Geometry::parallel(40, 1.0, 10, 180.0);
    assert!(try_forward(Array2::<f32>::zeros((31, 32)).view(), &grid, &g).is_err());
    assert!(try_backproject(Array2::<f32>::zeros((9, 40)).view(), &g, &grid).is_err());
    // source inside the grid
    let f = Geometry::fan_arc(40, 1.0, 10.0, 10.0, 10, 360.0);
    assert!(try_forward(Array2::<f32>::zeros((32, 32)).view(), &grid, &f).is_err());
    let bad = Geometry::parallel(40, f64::NAN, 10, 180.0);
    assert!(try_forward(Array2::<f32>::zeros((32, 32)).view(), &grid, &bad).is_err());
}
