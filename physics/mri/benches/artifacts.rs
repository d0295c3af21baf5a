//! Criterion benchmarks of the MRI artefact simulators (motion, ghosting, spike, bias field,
//! noise, wrap-around, susceptibility) on a 256×256 slice, and 3-D motion on the MNI volume.
//!
//! Input: the middle axial slice of `tests/data/nifti/mni152_t1_1mm.nii.gz` (233×197),
//! zero-padded (centred) to 256×256 — the same input `bench/mri/compare_artifacts.py` builds.
//! The 2-D simulators are single-threaded; 3-D motion is timed with the default rayon pool and
//! with a one-thread pool, on the default (`fft_friendly`) acquisition matrix and on the input
//! matrix (`motion3d_input_matrix_*`).

use artefact_core::{Image, Operator, Volume};
use artefact_mri::bias_field::{BiasField, BiasFieldParams, BiasMode};
use artefact_mri::ghosting::{Ghosting, GhostingParams};
use artefact_mri::motion::{
    apply_volume, apply_volume_with, AcquisitionMatrix, Motion, MotionEvent, MotionParams,
    PeOrdering, VolumeMotionEvent, VolumeMotionParams, VolumeScratch,
};
use artefact_mri::noise::{Noise, NoiseParams};
use artefact_mri::spike::{Spike, SpikeParams, SpikeSpec};
use artefact_mri::susceptibility::{B0Direction, Susceptibility, SusceptibilityParams};
use artefact_mri::wraparound::{Wraparound, WraparoundParams};
use artefact_mri::PhaseEncode;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{s, Array2};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn mni() -> Volume {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/nifti/mni152_t1_1mm.nii.gz");
    artefact_io::load_volume(&p).expect("MNI volume").volume
}

fn slice256(v: &Volume) -> Image {
    let sl = v.slice(0, v.shape().0 / 2).unwrap();
    let (r, c) = sl.shape();
    let mut x = Array2::<f32>::zeros((256, 256));
    let (o0, o1) = ((256 - r) / 2, (256 - c) / 2);
    x.slice_mut(s![o0..o0 + r, o1..o1 + c]).assign(&sl.data);
    Image::new(x, sl.spacing, sl.modality, sl.unit).unwrap()
}

fn two_events_2d() -> MotionParams {
    MotionParams {
        phase_encode: PhaseEncode::Rows,
        ordering: PeOrdering::Sequential,
        events: vec![
            MotionEvent {
                start: 0.3,
                end: 0.6,
                translation_mm: [3.0, -4.0],
                rotation_deg: 5.0,
            },
            MotionEvent {
                start: 0.6,
                end: 1.0,
                translation_mm: [-2.0, 5.0],
                rotation_deg: -4.0,
            },
        ],
    }
}

fn two_events_3d(matrix: AcquisitionMatrix) -> VolumeMotionParams {
    VolumeMotionParams {
        matrix,
        phase_encode_axis: 1,
        partition_axis: 0,
        ordering: PeOrdering::Sequential,
        events: vec![
            VolumeMotionEvent {
                start: 0.3,
                end: 0.6,
                translation_mm: [3.0, -4.0, 2.0],
                rotation_deg: [5.0, -3.0, 2.0],
            },
            VolumeMotionEvent {
                start: 0.6,
                end: 1.0,
                translation_mm: [-2.0, 5.0, -1.0],
                rotation_deg: [-4.0, 2.0, 3.0],
            },
        ],
    }
}

fn bench_2d(c: &mut Criterion) {
    let vol = mni();
    let img = slice256(&vol);
    let mut g = c.benchmark_group("mri_artifacts_256");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    let motion = two_events_2d();
    g.bench_function("motion", |b| {
        b.iter(|| Motion::apply(black_box(&motion), &img).unwrap())
    });
    let ghost = GhostingParams {
        phase_encode: PhaseEncode::Rows,
        period: 4,
        intensity: 0.5,
        phase_deg: 0.0,
        keep_centre: 0.02,
    };
    g.bench_function("ghosting", |b| {
        b.iter(|| Ghosting::apply(black_box(&ghost), &img).unwrap())
    });
    let spike = SpikeParams {
        spikes: vec![SpikeSpec {
            position: [0.3, -0.2],
            amplitude: 0.1,
            phase_deg: 30.0,
        }],
        conjugate: false,
    };
    g.bench_function("spike", |b| {
        b.iter(|| Spike::apply(black_box(&spike), &img).unwrap())
    });
    let bias = BiasFieldParams {
        mode: BiasMode::Polynomial,
        order: 3,
        grid: 4,
        coefficients: vec![0.1, -0.3, 0.2, 0.4, 0.3, -0.2, 0.1, 0.25, -0.15, 0.05],
        range: Some(1.5),
    };
    g.bench_function("bias_field", |b| {
        b.iter(|| BiasField::apply(black_box(&bias), &img).unwrap())
    });
    // SNR 20, one coil (Rician magnitude); `compare_artifacts.py` times TorchIO RandomNoise
    let noise = NoiseParams {
        snr: 20.0,
        seed: 3,
        coils: 1,
    };
    g.bench_function("noise", |b| {
        b.iter(|| Noise::apply(black_box(&noise), &img).unwrap())
    });
    let wrap = WraparoundParams {
        phase_encode: PhaseEncode::Rows,
        fov_fraction: 0.8,
        fov_offset: 0.0,
    };
    g.bench_function("wraparound", |b| {
        b.iter(|| Wraparound::apply(black_box(&wrap), &img).unwrap())
    });
    let chi = SusceptibilityParams {
        phase_encode: PhaseEncode::Rows,
        b0_direction: B0Direction::Normal,
        b0_tesla: 3.0,
        delta_chi_ppm: 9.4,
        air_threshold: 0.1,
        slab_mm: 40.0,
        echo_spacing_ms: 0.5,
        te_ms: 30.0,
        slice_thickness_mm: 3.0,
        pe_polarity: 1,
    };
    g.bench_function("susceptibility", |b| {
        b.iter(|| Susceptibility::apply(black_box(&chi), &img).unwrap())
    });
    g.finish();
}

fn bench_3d(c: &mut Criterion) {
    let vol = mni();
    let mut g = c.benchmark_group("mri_motion_3d_mni");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    // the default acquisition matrix (fft_friendly) under the names bench/mri reads, and the
    // input matrix for comparison
    for (tag, matrix) in [
        ("", AcquisitionMatrix::FftFriendly),
        ("input_matrix_", AcquisitionMatrix::Input),
    ] {
        let p = two_events_3d(matrix);
        g.bench_function(format!("motion3d_{tag}default_threads"), |b| {
            b.iter(|| apply_volume(black_box(&p), &vol).unwrap())
        });
        g.bench_function(format!("motion3d_{tag}1_thread"), |b| {
            b.iter(|| one.install(|| apply_volume(black_box(&p), &vol).unwrap()))
        });
        // work arrays kept by the caller between iterations
        let scratch = VolumeScratch::new();
        g.bench_function(format!("motion3d_{tag}scratch_1_thread"), |b| {
            b.iter(|| one.install(|| apply_volume_with(black_box(&p), &vol, &scratch).unwrap()))
        });
    }
    // the same volume with no zero voxel (a constant 1 % of its maximum added everywhere, as
    // a stand-in for a noisy background): the bounding-box and zero-row shortcuts do not
    // apply, so this is the dense cost
    let peak = vol.data.iter().fold(0.0f32, |m, &v| m.max(v));
    let mut dense = vol.clone();
    dense.data.mapv_inplace(|v| v + 0.01 * peak);
    let p = two_events_3d(AcquisitionMatrix::FftFriendly);
    g.bench_function("motion3d_dense_background_1_thread", |b| {
        b.iter(|| one.install(|| apply_volume(black_box(&p), &dense).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench_2d, bench_3d);
criterion_main!(benches);
