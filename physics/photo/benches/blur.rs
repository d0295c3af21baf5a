//! Defocus and motion blur on a 1024² colour image (one thread), with and without a
//! field-of-view disc. Compare with bench/photo/peers.py (OpenCV filter2D / GaussianBlur,
//! albumentations Defocus / MotionBlur) on the same synthetic image.

use artefact_core::{Modality, RgbImage};
use artefact_photo::defocus::{self, DefocusParams};
use artefact_photo::motion::{self, MotionBlurParams};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array2, Array3};
use std::hint::black_box;

fn image(fov: bool) -> RgbImage {
    let n = 1024;
    let data = Array3::from_shape_fn((3, n, n), |(c, r, k)| {
        (((r * 7 + k * 13 + c * 5) % 251) as f32 / 251.0).powf(2.2)
    });
    let mask = fov.then(|| {
        Array2::from_shape_fn((n, n), |(r, c)| {
            let (y, x) = (r as f64 - 511.5, c as f64 - 511.5);
            x * x + y * y < 480.0 * 480.0
        })
    });
    RgbImage::new(data, [1.0, 1.0], Modality::Fundus, mask).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("photo_1024_rgb");
    g.sample_size(10);
    for fov in [false, true] {
        let img = image(fov);
        let tag = if fov { "fov" } else { "full" };
        let d = DefocusParams {
            diameter_px: 15.0,
            chromatic: 0.0,
        };
        g.bench_function(format!("defocus_d15_{tag}"), |b| {
            b.iter(|| defocus::apply(black_box(&d), black_box(&img)).unwrap())
        });
        let m = MotionBlurParams {
            length_px: 15.0,
            angle_deg: 30.0,
        };
        g.bench_function(format!("motion_l15_{tag}"), |b| {
            b.iter(|| motion::apply(black_box(&m), black_box(&img)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
