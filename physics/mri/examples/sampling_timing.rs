//! Timing of mri-a's operators on one 256×256 slice, for bench/mri/compare_sampling.py.
//!
//! Usage: `sampling_timing [raw_f32_le_file rows cols]` — without arguments a synthetic disc
//! phantom is used. Prints one line per operator: `name median_ms min_ms iterations`.
//! Everything runs on the calling thread (the operators do not spawn threads).

use artefact_core::{Image, Modality, Operator, Unit};
use artefact_mri::gibbs::{Apodization, Gibbs, GibbsParams};
use artefact_mri::noise::{Noise, NoiseParams};
use artefact_mri::undersampling::{MaskKind, Undersampling, UndersamplingParams};
use artefact_mri::PhaseEncode;
use ndarray::Array2;
use std::time::Instant;

fn load() -> Image {
    let args: Vec<String> = std::env::args().collect();
    let data = if args.len() == 4 {
        let bytes = std::fs::read(&args[1]).expect("read raw f32 file");
        let (r, c): (usize, usize) = (args[2].parse().unwrap(), args[3].parse().unwrap());
        let v: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Array2::from_shape_vec((r, c), v).expect("rows·cols floats")
    } else {
        Array2::from_shape_fn((256, 256), |(i, j)| {
            let (y, x) = (i as f32 - 128.0, j as f32 - 128.0);
            if x * x + y * y < 100.0 * 100.0 {
                100.0 + 50.0 * ((x / 20.0).sin() * (y / 30.0).cos())
            } else {
                0.0
            }
        })
    };
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn time<F: FnMut() -> Image>(name: &str, iters: usize, mut f: F) {
    for _ in 0..3 {
        std::hint::black_box(f());
    }
    let mut t: Vec<f64> = (0..iters)
        .map(|_| {
            let s = Instant::now();
            std::hint::black_box(f());
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{name} {:.4} {:.4} {iters}", t[iters / 2], t[0]);
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

fn main() {
    let im = load();
    let mut seed = 0u64;
    let mut next = || {
        seed += 1;
        seed
    };
    time("undersampling_random_4x", 300, || {
        let mut p = us(MaskKind::Random, 4.0, 0.08, 1);
        p.seed = next();
        Undersampling::apply(&p, &im).unwrap()
    });
    time("undersampling_equispaced_fraction_8x", 300, || {
        Undersampling::apply(&us(MaskKind::EquispacedFraction, 8.0, 0.04, 1), &im).unwrap()
    });
    time("undersampling_random_4x_8coils", 50, || {
        Undersampling::apply(&us(MaskKind::Random, 4.0, 0.08, 8), &im).unwrap()
    });
    time("undersampling_poisson_6x", 20, || {
        Undersampling::apply(&us(MaskKind::Poisson, 6.0, 0.08, 1), &im).unwrap()
    });
    time("undersampling_radial_4x", 20, || {
        Undersampling::apply(&us(MaskKind::Radial, 4.0, 0.0, 1), &im).unwrap()
    });
    time("noise_snr20", 300, || {
        let p = NoiseParams {
            snr: 20.0,
            seed: next(),
            coils: 1,
        };
        Noise::apply(&p, &im).unwrap()
    });
    time("noise_snr20_8coils", 50, || {
        let p = NoiseParams {
            snr: 20.0,
            seed: next(),
            coils: 8,
        };
        Noise::apply(&p, &im).unwrap()
    });
    let g = |f: f64, window| GibbsParams {
        fraction_rows: f,
        fraction_cols: f,
        window,
        tukey_alpha: 0.5,
    };
    time("gibbs_0.5", 300, || {
        Gibbs::apply(&g(0.5, Apodization::None), &im).unwrap()
    });
    time("gibbs_0.5_hann", 300, || {
        Gibbs::apply(&g(0.5, Apodization::Hann), &im).unwrap()
    });
}
