//! Criterion benches of mri.undersampling, mri.noise and mri.gibbs on a 256×256 slice
//! (single thread; the operators do not spawn threads).

use artefact_core::{Image, Modality, Operator, Unit};
use artefact_mri::gibbs::{Apodization, Gibbs, GibbsParams};
use artefact_mri::masks::poisson_disc_mask;
use artefact_mri::noise::{Noise, NoiseParams};
use artefact_mri::undersampling::{MaskKind, Undersampling, UndersamplingParams};
use artefact_mri::PhaseEncode;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use std::hint::black_box;

fn slice() -> Image {
    let data = Array2::from_shape_fn((256, 256), |(i, j)| {
        let (y, x) = (i as f32 - 128.0, j as f32 - 128.0);
        if x * x + y * y < 100.0 * 100.0 {
            100.0 + 50.0 * ((x / 20.0).sin() * (y / 30.0).cos())
        } else {
            0.0
        }
    });
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn us(mask: MaskKind, acc: f64, cf: f64, coils: usize) -> UndersamplingParams {
    UndersamplingParams {
        mask,
        acceleration: acc,
        center_fraction: cf,
        phase_encode: PhaseEncode::Cols,
        seed: 1,
        offset: None,
        coils,
        vd_slope: 2.0,
        achieved_acceleration: None,
    }
}

fn benches(c: &mut Criterion) {
    let im = slice();
    let mut g = c.benchmark_group("mri_sampling_256");
    g.sample_size(30);
    for (name, p) in [
        (
            "undersampling_random_4x",
            us(MaskKind::Random, 4.0, 0.08, 1),
        ),
        (
            "undersampling_equispaced_fraction_8x",
            us(MaskKind::EquispacedFraction, 8.0, 0.04, 1),
        ),
        (
            "undersampling_random_4x_8coils",
            us(MaskKind::Random, 4.0, 0.08, 8),
        ),
        (
            "undersampling_poisson_6x",
            us(MaskKind::Poisson, 6.0, 0.08, 1),
        ),
        ("undersampling_radial_4x", us(MaskKind::Radial, 4.0, 0.0, 1)),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| Undersampling::apply(black_box(&p), &im).unwrap())
        });
    }
    g.bench_function("poisson_mask_only_6x", |b| {
        b.iter(|| poisson_disc_mask(256, 256, 6.0, 0.08, 2.0, black_box(1)).unwrap())
    });
    for coils in [1usize, 8] {
        let p = NoiseParams {
            snr: 20.0,
            seed: 3,
            coils,
        };
        g.bench_function(format!("noise_snr20_{coils}coil"), |b| {
            b.iter(|| Noise::apply(black_box(&p), &im).unwrap())
        });
    }
    for (name, window) in [
        ("gibbs_0.5", Apodization::None),
        ("gibbs_0.5_hann", Apodization::Hann),
    ] {
        let p = GibbsParams {
            fraction_rows: 0.5,
            fraction_cols: 0.5,
            window,
            tukey_alpha: 0.5,
        };
        g.bench_function(name, |b| {
            b.iter(|| Gibbs::apply(black_box(&p), &im).unwrap())
        });
    }
    g.finish();
}

criterion_group!(sampling, benches);
criterion_main!(sampling);
