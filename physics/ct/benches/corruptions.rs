//! Criterion benchmarks of every CT corruption operator's `apply` at 256² (1 mm pixels,
//! operators' default scan: arc fan beam, 360°, ≈ 1.5 views per bin, 2× finer projection grid),
//! on a water body with a bone insert; plus the photon-noise step alone on a 576-view sinogram.
//! Thread count: set `RAYON_NUM_THREADS` (1 for single-thread numbers).

use artefact_core::{Image, Modality, Operator, Unit};
use artefact_ct::limited_angle::{LimitedAngle, LimitedAngleParams};
use artefact_ct::low_dose::{self, LowDose, LowDoseParams, DEFAULT_FULL_DOSE_I0};
use artefact_ct::metal::{Metal, MetalParams};
use artefact_ct::motion::{Motion, MotionParams};
use artefact_ct::pipeline::{simulate, ScanSettings};
use artefact_ct::ring::{Ring, RingParams};
use artefact_ct::sparse_view::{SparseView, SparseViewParams};
use artefact_ct::truncation::{Truncation, TruncationParams};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use std::hint::black_box;

fn body(n: usize) -> Image {
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = (j as f64 - c, i as f64 - c);
        if (x - 30.0).hypot(y + 20.0) < 12.0 {
            1200.0
        } else if (x / 110.0).powi(2) + (y / 85.0).powi(2) <= 1.0 {
            40.0
        } else {
            -1000.0
        }
    });
    Image::new(data, [1.0, 1.0], Modality::Ct, Unit::Hu).unwrap()
}

fn bench(c: &mut Criterion) {
    let img = body(256);
    let mut g = c.benchmark_group("ct_corruptions_256");
    g.sample_size(10);
    g.bench_function("pipeline_clean", |b| {
        b.iter(|| simulate(black_box(&img), &ScanSettings::default(), |_, _| Ok(())).unwrap())
    });
    let ld = LowDoseParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        dose_fraction: 0.25,
        full_dose_i0: DEFAULT_FULL_DOSE_I0,
        electronic_noise: 3.0,
        scatter_fraction: 0.0,
        noise: true,
        seed: 1,
    };
    g.bench_function("low_dose", |b| {
        b.iter(|| LowDose::apply(&ld, black_box(&img)).unwrap())
    });
    let geom = ScanSettings::default().geometry_for(&img).unwrap();
    let sino = Array2::<f32>::from_elem((geom.n_views(), geom.n_det), 3.0);
    g.bench_function("low_dose_noise_only", |b| {
        b.iter(|| {
            let mut s = sino.clone();
            low_dose::corrupt(&mut s, &ld).unwrap();
            s
        })
    });
    let sv = SparseViewParams {
        keep_every: 8,
        scan: Default::default(),
    };
    g.bench_function("sparse_view_k8", |b| {
        b.iter(|| SparseView::apply(&sv, black_box(&img)).unwrap())
    });
    let la = LimitedAngleParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        missing_deg: 60.0,
        start_deg: 0.0,
    };
    g.bench_function("limited_angle_60", |b| {
        b.iter(|| LimitedAngle::apply(&la, black_box(&img)).unwrap())
    });
    let ring = RingParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        gain_std: 0.01,
        dead_detectors: 1,
        seed: 2,
    };
    g.bench_function("ring", |b| {
        b.iter(|| Ring::apply(&ring, black_box(&img)).unwrap())
    });
    let tr = TruncationParams {
        fov_fraction: 0.7,
        scan: Default::default(),
    };
    g.bench_function("truncation_0.7", |b| {
        b.iter(|| Truncation::apply(&tr, black_box(&img)).unwrap())
    });
    let mo = MotionParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        pattern: artefact_ct::motion::Pattern::RaisedCosine,
        translation_mm: 5.0,
        direction_deg: 30.0,
        rotation_deg: 2.0,
        onset: 0.3,
        duration: 0.3,
        cycles: 1.0,
    };
    g.bench_function("motion_5mm_2deg", |b| {
        b.iter(|| Motion::apply(&mo, black_box(&img)).unwrap())
    });
    let me = MetalParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        material: artefact_ct::materials::Metal::Iron,
        count: 2,
        radius_mm: 4.0,
        shape: artefact_ct::metal::InsertShape::Rod,
        aspect: 1.0,
        i0: DEFAULT_FULL_DOSE_I0,
        scatter_fraction: 0.001,
        electronic_noise: 3.0,
        bhc: true,
        seed: 3,
    };
    g.bench_function("metal_2xFe", |b| {
        b.iter(|| Metal::apply(&me, black_box(&img)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
