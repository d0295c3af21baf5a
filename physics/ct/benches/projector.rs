//! Criterion benchmarks of the parallel-beam Joseph forward projector and FBP (Ram-Lak) at
//! 256² / 360 views and 512² / 720 views, detector ⌈n·√2⌉ + 1 bins of one pixel, 180° —
//! the geometry used by `bench/ct/compare_projectors.py` for scikit-image and ASTRA.
//! Thread count: set `RAYON_NUM_THREADS` (1 for the single-thread numbers). `forward_*` and
//! `fbp_*` plan and run once per iteration (as an operator does); the `*_planned_*` variants
//! hold a [`Projector`] / [`FbpPlan`] built outside the loop.

use artefact_ct::fbp::{fbp, FbpPlan, Filter};
use artefact_ct::geometry::{Geometry, Grid};
use artefact_ct::phantom::{rasterize, shepp_logan_modified};
use artefact_ct::projector::{forward, try_backproject, Projector};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn setup(n: usize, views: usize) -> (Grid, Geometry, ndarray::Array2<f32>) {
    let grid = Grid::new(n, n, 1.0);
    let n_det = (n as f64 * std::f64::consts::SQRT_2).ceil() as usize + 1;
    let geom = Geometry::parallel(n_det, 1.0, views, 180.0);
    let mu = rasterize(&shepp_logan_modified(0.45 * n as f64, 0.02), &grid, 2);
    (grid, geom, mu)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ct");
    g.sample_size(10);
    for (n, views) in [(256usize, 360usize), (512, 720)] {
        let (grid, geom, mu) = setup(n, views);
        let sino = forward(mu.view(), &grid, &geom);
        g.bench_function(format!("forward_{n}x{n}_{views}v"), |b| {
            b.iter(|| forward(black_box(mu.view()), &grid, &geom))
        });
        g.bench_function(format!("fbp_ramlak_{n}x{n}_{views}v"), |b| {
            b.iter(|| fbp(black_box(sino.view()), &geom, &grid, Filter::RamLak).unwrap())
        });
        // planned once outside the loop (ray table / filter and weights reused)
        let projector = Projector::new(&grid, &geom).unwrap();
        g.bench_function(format!("forward_planned_{n}x{n}_{views}v"), |b| {
            b.iter(|| projector.forward(black_box(mu.view())).unwrap())
        });
        let plan = FbpPlan::new(&geom, &grid, Filter::RamLak).unwrap();
        g.bench_function(format!("fbp_ramlak_planned_{n}x{n}_{views}v"), |b| {
            b.iter(|| plan.reconstruct(black_box(sino.view())).unwrap())
        });
        if n == 256 {
            g.bench_function(format!("adjoint_backproject_{n}x{n}_{views}v"), |b| {
                b.iter(|| try_backproject(black_box(sino.view()), &geom, &grid).unwrap())
            });
        }
    }
    // fan beam (arc) FBP at 512², 720 views over 360°
    let (grid, _, mu) = setup(512, 720);
    let geom = Geometry::fan_arc(900, 1.0 * 1085.6 / 595.0, 595.0, 490.6, 720, 360.0);
    let sino = forward(mu.view(), &grid, &geom);
    g.bench_function("fbp_fan_arc_512x512_720v", |b| {
        b.iter(|| fbp(black_box(sino.view()), &geom, &grid, Filter::RamLak).unwrap())
    });
    // the operators' default scan of a 512² slice (arc fan, 736 bins, 1,152 views over 360°),
    // planned once, and the same fan on a flat detector
    let m = 1085.6 / 595.0;
    for (name, geom) in [
        ("arc", Geometry::fan_arc(736, m, 595.0, 490.6, 1152, 360.0)),
        (
            "flat",
            Geometry::fan_flat(736, m, 595.0, 490.6, 1152, 360.0),
        ),
    ] {
        let sino = forward(mu.view(), &grid, &geom);
        let plan = FbpPlan::new(&geom, &grid, Filter::SheppLogan).unwrap();
        g.bench_function(format!("fbp_fan_{name}_planned_512x512_1152v"), |b| {
            b.iter(|| plan.reconstruct(black_box(sino.view())).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
