use artefact_core::fft::{fft2c, ifft2c};
use artefact_core::metrics::ssim;
use artefact_core::Complex32;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;

fn bench_fft(c: &mut Criterion) {
    for n in [256usize, 512] {
        let mut x = Array2::from_shape_fn((n, n), |(i, j)| Complex32::new((i * j % 7) as f32, 0.0));
        c.bench_function(&format!("fft2c+ifft2c {n}x{n}"), |b| {
            b.iter(|| {
                fft2c(&mut x);
                ifft2c(&mut x);
            })
        });
    }
}

fn bench_ssim(c: &mut Criterion) {
    let a = Array2::from_shape_fn((256, 256), |(i, j)| ((i * 31 + j * 17) % 255) as f32);
    let b = a.mapv(|v| v + 3.0);
    c.bench_function("ssim 256x256", |bn| {
        bn.iter(|| ssim(a.view(), b.view(), 255.0).unwrap())
    });
}

criterion_group!(benches, bench_fft, bench_ssim);
criterion_main!(benches);
