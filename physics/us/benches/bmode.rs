//! Criterion benchmarks: full B-mode simulation (scatterers → IQ/RF → envelope → log →
//! scan conversion) of a 512×512 echogenicity map for each probe preset, single-threaded
//! (the simulator does not spawn threads): `bmode_512` plans and renders in one call
//! ([`simulate_bmode`], what every operator does), `bmode_512_planned` renders with one
//! [`BmodePlan`] made beforehand (beam grid and scan-conversion table reused).

use artefact_core::{Image, Modality, Unit};
use artefact_us::{simulate_bmode, BmodePlan, Probe, Settings};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use std::hint::black_box;

/// A 512×512 phantom: background 0.7 with an anechoic cyst and a bright inclusion.
fn phantom(n: usize) -> Image {
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (y, x) = (i as f32 / n as f32, j as f32 / n as f32);
        let d1 = ((x - 0.35).powi(2) + (y - 0.5).powi(2)).sqrt();
        let d2 = ((x - 0.65).powi(2) + (y - 0.6).powi(2)).sqrt();
        if d1 < 0.08 {
            0.0
        } else if d2 < 0.06 {
            0.95
        } else {
            0.7
        }
    });
    Image::new(data, [1.0, 1.0], Modality::Us, Unit::Echogenicity).unwrap()
}

fn bench(c: &mut Criterion) {
    let img = phantom(512);
    let settings = Settings::default();
    let mut g = c.benchmark_group("bmode_512");
    g.sample_size(20);
    for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
        g.bench_function(probe.kind.name(), |b| {
            b.iter(|| simulate_bmode(black_box(&img), &probe, &settings, 7).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("bmode_512_planned");
    g.sample_size(20);
    for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
        let plan = BmodePlan::for_image(&img, &probe, &settings).unwrap();
        g.bench_function(probe.kind.name(), |b| {
            b.iter(|| plan.render(black_box(&img), &[], 7).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
