//! The 3-D forms ([`VolumeOperator`]) of `mri.noise`, `mri.motion` and `mri.wraparound`: one
//! noise level for the whole volume (the SNR of a 3-D acquisition), one FOV for every slice,
//! identity at zero strength, the affine kept, sampling from the 2-D recipe spec, and the
//! registry listing.

use artefact_core::{
    Modality, OpVisitor, Operator, ParamSpec, Seed, SpecValue, Unit, Volume, VolumeOperator,
};
use artefact_mri::bias_field::{BiasField, BiasMode};
use artefact_mri::bias_field_volume::VolumeBiasFieldParams;
use artefact_mri::coils::CoilMaps;
use artefact_mri::motion::Motion;
use artefact_mri::noise::{Noise, NoiseParams};
use artefact_mri::undersampling::{MaskKind, Undersampling, UndersamplingParams};
use artefact_mri::wraparound::{Wraparound, WraparoundParams};
use artefact_mri::PhaseEncode;
use ndarray::{s, Array3};

/// Slices of a centred disc whose intensity grows with the slice index (100, 102, … per
/// slice, so Otsu's threshold separates every disc from the zero background), zero
/// background; an oblique affine to check it is carried through.
fn stack(nz: usize, n: usize) -> Volume {
    let data = Array3::from_shape_fn((nz, n, n), |(k, i, j)| {
        let y = (i as f64 + 0.5) / n as f64 - 0.5;
        let x = (j as f64 + 0.5) / n as f64 - 0.5;
        if x * x + y * y < 0.09 {
            100.0 + 2.0 * k as f32
        } else {
            0.0
        }
    });
    let affine = [
        [0.0, 0.0, 2.0, -40.0],
        [0.9, 0.1, 0.0, 12.5],
        [-0.1, 0.9, 0.0, 3.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    Volume::with_affine(
        data,
        [2.0, 0.9055, 0.9055],
        affine,
        Modality::Mr,
        Unit::Arbitrary,
    )
    .unwrap()
}

/// Mean of the noisy magnitude over the zero background of slice `k`.
fn background_mean(clean: &Volume, noisy: &Volume, k: usize) -> f64 {
    let c = clean.data.slice(s![k, .., ..]);
    let y = noisy.data.slice(s![k, .., ..]);
    let (sum, n) = c
        .iter()
        .zip(y.iter())
        .filter(|(c, _)| **c == 0.0)
        .fold((0.0, 0usize), |(s, n), (_, y)| (s + *y as f64, n + 1));
    sum / n as f64
}

#[test]
fn volume_noise_has_one_sigma_for_every_slice() {
    let clean = stack(12, 96);
    let params = NoiseParams {
        snr: 8.0,
        coils: 1,
        seed: 17,
    };
    let noisy = Noise::apply_volume(&params, &clean).unwrap();
    assert_eq!(noisy.data.dim(), clean.data.dim());
    assert_eq!(noisy.affine, clean.affine);
    assert_eq!(noisy.spacing, clean.spacing);
    // the foreground mean over the whole volume is 100 + 2·5.5 = 111: σ = 111/8 in every
    // slice (per-slice SNR would give 100/8 in slice 0 and 122/8 in slice 11)
    let sigma = 111.0 / 8.0;
    let rayleigh = sigma * (std::f64::consts::PI / 2.0).sqrt();
    for k in [0, 5, 11] {
        let m = background_mean(&clean, &noisy, k);
        // ≈ 6,800 background pixels per slice: the Rayleigh mean's standard error is ≈ 0.6 %
        assert!(
            (m / rayleigh - 1.0).abs() < 0.03,
            "slice {k}: background mean {m}, Rayleigh mean of σ = {sigma}: {rayleigh}"
        );
    }
    // the 2-D operator on one slice sets σ from that slice alone (slice 0: σ = 100/8)
    let one = Noise::apply(&params, &clean.slice(0, 0).unwrap()).unwrap();
    let (sum, n) = clean
        .data
        .slice(s![0, .., ..])
        .iter()
        .zip(one.data.iter())
        .filter(|(c, _)| **c == 0.0)
        .fold((0.0, 0usize), |(s, n), (_, y)| (s + *y as f64, n + 1));
    let m2d = sum / n as f64;
    assert!((m2d / (12.5 * (std::f64::consts::PI / 2.0).sqrt()) - 1.0).abs() < 0.03);
    // same params, same bytes
    assert_eq!(
        Noise::apply_volume(&params, &clean).unwrap().data,
        noisy.data
    );
}

#[test]
fn volume_noise_with_coils_keeps_the_level_across_slices_and_differs_per_slice() {
    let clean = stack(6, 64);
    let params = NoiseParams {
        snr: 8.0,
        coils: 4,
        seed: 3,
    };
    let noisy = Noise::apply_volume(&params, &clean).unwrap();
    let (m0, m5) = (
        background_mean(&clean, &noisy, 0),
        background_mean(&clean, &noisy, 5),
    );
    assert!((m0 / m5 - 1.0).abs() < 0.05, "{m0} vs {m5}");
    // slices draw their own noise: two slices' backgrounds are not the same realisation
    let b0 = noisy.data.slice(s![0, 0, ..]).to_vec();
    let b1 = noisy.data.slice(s![1, 0, ..]).to_vec();
    assert_ne!(b0, b1);
}

#[test]
fn volume_motion_is_sampled_from_the_2d_spec_and_zero_motion_is_identity() {
    let clean = stack(16, 48);
    let spec = ParamSpec::new()
        .with("translation_mm", SpecValue::Number(0.0))
        .with("rotation_deg", SpecValue::Number(0.0))
        .with("phase_encode", SpecValue::Text("cols".into()))
        .with("events", SpecValue::Number(2.0));
    let mut rng = Seed::derive(5, "t").rng();
    let p = Motion::sample_volume(&spec, &mut rng).unwrap();
    assert_eq!(p.phase_encode_axis, 2, "cols → array axis 2 of the volume");
    assert_eq!(p.partition_axis, 0);
    assert_eq!(p.events.len(), 2);
    let out = Motion::apply_volume(&p, &clean).unwrap();
    assert_eq!(out.affine, clean.affine);
    let err = out
        .data
        .iter()
        .zip(clean.data.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err < 1e-3, "zero motion changed a voxel by {err}");
    // real motion changes the volume, through-plane too (slices mix)
    let spec = ParamSpec::new()
        .with("translation_mm", SpecValue::Number(6.0))
        .with("rotation_deg", SpecValue::Number(5.0))
        .with("onset", SpecValue::Number(0.4));
    let p = Motion::sample_volume(&spec, &mut rng).unwrap();
    assert_eq!(p.phase_encode_axis, 1, "rows (the default) → array axis 1");
    let moved = Motion::apply_volume(&p, &clean).unwrap();
    let diff: f64 = moved
        .data
        .iter()
        .zip(clean.data.iter())
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    assert!(diff > 1.0, "motion left the volume unchanged");
}

#[test]
fn volume_wraparound_folds_every_slice_with_one_fov_and_keeps_the_mass() {
    let clean = stack(5, 40);
    for pe in [PhaseEncode::Rows, PhaseEncode::Cols] {
        let p = WraparoundParams {
            phase_encode: pe,
            fov_fraction: 0.55,
            fov_offset: 0.1,
        };
        let out = Wraparound::apply_volume(&p, &clean).unwrap();
        assert_eq!(out.affine, clean.affine);
        for k in 0..5 {
            let want = Wraparound::apply(&p, &clean.slice(0, k).unwrap()).unwrap();
            assert_eq!(out.data.slice(s![k, .., ..]), want.data, "slice {k}");
        }
    }
    // fov_fraction 1, no offset: identity
    let id = WraparoundParams {
        phase_encode: PhaseEncode::Rows,
        fov_fraction: 1.0,
        fov_offset: 0.0,
    };
    assert_eq!(
        Wraparound::apply_volume(&id, &clean).unwrap().data,
        clean.data
    );
    // a FOV inside the matrix folds every line onto it: the total signal is kept
    let p = WraparoundParams {
        phase_encode: PhaseEncode::Cols,
        fov_fraction: 0.5,
        fov_offset: 0.0,
    };
    let out = Wraparound::apply_volume(&p, &clean).unwrap();
    let (a, b): (f64, f64) = (
        out.data.iter().map(|&v| v as f64).sum(),
        clean.data.iter().map(|&v| v as f64).sum(),
    );
    assert!((a / b - 1.0).abs() < 1e-6, "{a} vs {b}");
}

/// Field factor `out / in` of every object voxel, per slice.
fn factors(clean: &Volume, out: &Volume) -> Vec<Vec<f64>> {
    (0..clean.data.dim().0)
        .map(|k| {
            clean
                .data
                .slice(s![k, .., ..])
                .iter()
                .zip(out.data.slice(s![k, .., ..]).iter())
                .filter(|(c, _)| **c > 0.0)
                .map(|(c, o)| (*o / *c) as f64)
                .collect()
        })
        .collect()
}

#[test]
fn volume_bias_field_has_the_range_over_the_object_and_is_one_field_across_slices() {
    let clean = stack(9, 40);
    // order 1 with only the axis-0 term: L = u, constant within each slice; the object spans
    // every slice, so slice 0 and slice 8 carry the field's minimum and maximum, ratio r
    let mut p = VolumeBiasFieldParams {
        mode: BiasMode::Polynomial,
        order: 1,
        grid: 4,
        coefficients: vec![0.0, 0.0, 0.0, 1.0],
        range: Some(1.8),
    };
    let out = BiasField::apply_volume(&p, &clean).unwrap();
    assert_eq!(out.affine, clean.affine);
    let f = factors(&clean, &out);
    for (k, slice) in f.iter().enumerate() {
        let (lo, hi) = slice
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(hi / lo - 1.0 < 1e-5, "slice {k}: the field varies in-plane");
    }
    let (first, last) = (f[0][0], f[8][0]);
    assert!((last / first / 1.8 - 1.0).abs() < 1e-5, "{first} {last}");
    // geometric mid-range 1: the middle slice (u = 0) is unchanged
    assert!((f[4][0] - 1.0).abs() < 1e-5, "{}", f[4][0]);
    // log-linear along axis 0: equal ratios between neighbouring slices
    for k in 1..9 {
        let step = (f[k][0] / f[k - 1][0]).ln();
        assert!((step - 1.8f64.ln() / 8.0).abs() < 1e-5, "slice {k}: {step}");
    }
    // the zero background stays zero
    assert!(clean
        .data
        .iter()
        .zip(out.data.iter())
        .all(|(c, o)| *c != 0.0 || *o == 0.0));
    // a random field of order 3: max/min over the object is exactly the range
    let spec = ParamSpec::new()
        .with("order", SpecValue::Number(3.0))
        .with("range", SpecValue::Number(2.5));
    let mut rng = Seed::derive(9, "bias").rng();
    let q = BiasField::sample_volume(&spec, &mut rng).unwrap();
    assert_eq!(q.coefficients.len(), 20);
    let out = BiasField::apply_volume(&q, &clean).unwrap();
    let all: Vec<f64> = factors(&clean, &out).into_iter().flatten().collect();
    let (lo, hi) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!((hi / lo / 2.5 - 1.0).abs() < 1e-5, "{lo} {hi}");
    // constant log-fields are the identity (order 0; a flat grid)
    p.order = 0;
    p.coefficients = vec![0.7];
    assert_eq!(
        BiasField::apply_volume(&p, &clean).unwrap().data,
        clean.data
    );
    let flat = VolumeBiasFieldParams {
        mode: BiasMode::Grid,
        order: 3,
        grid: 3,
        coefficients: vec![0.4; 27],
        range: Some(2.0),
    };
    assert_eq!(
        BiasField::apply_volume(&flat, &clean).unwrap().data,
        clean.data
    );
    // a grid varying along axis 0 only gives a field constant within each slice
    let ramp = VolumeBiasFieldParams {
        coefficients: (0..27).map(|i| (i / 9) as f64).collect(),
        ..flat
    };
    let f = factors(&clean, &BiasField::apply_volume(&ramp, &clean).unwrap());
    for slice in &f {
        assert!(slice.iter().all(|v| (v / slice[0] - 1.0).abs() < 1e-5));
    }
    assert!(f[8][0] > f[0][0]);
    // wrong coefficient counts are errors naming the parameter
    let bad = VolumeBiasFieldParams {
        coefficients: vec![0.0; 3],
        ..p
    };
    let e = BiasField::apply_volume(&bad, &clean).unwrap_err();
    assert!(e.to_string().contains("coefficients"), "{e}");
}

fn us(mask: MaskKind, acceleration: f64, pe: PhaseEncode, coils: usize) -> UndersamplingParams {
    UndersamplingParams {
        mask,
        acceleration,
        center_fraction: 0.1,
        phase_encode: pe,
        coils,
        vd_slope: 2.0,
        seed: 11,
        offset: None,
        achieved_acceleration: None,
    }
}

fn max_abs_diff(a: &Volume, b: &Volume) -> f32 {
    a.data
        .iter()
        .zip(b.data.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn volume_undersampling_lines_are_the_2d_operator_on_every_slice() {
    let clean = stack(6, 32);
    for (mask, pe) in [
        (MaskKind::Random, PhaseEncode::Cols),
        (MaskKind::Equispaced, PhaseEncode::Rows),
        (MaskKind::Radial, PhaseEncode::Cols),
    ] {
        let p = us(mask, 3.0, pe, 1);
        let out = Undersampling::apply_volume(&p, &clean).unwrap();
        assert_eq!(out.affine, clean.affine);
        for k in 0..6 {
            let want = Undersampling::apply(&p, &clean.slice(0, k).unwrap()).unwrap();
            assert_eq!(
                out.data.slice(s![k, .., ..]),
                want.data,
                "{mask:?} slice {k}"
            );
        }
    }
}

#[test]
fn volume_poisson_undersampling_samples_the_kz_ky_plane() {
    let clean = stack(16, 32);
    let top = clean.data.iter().fold(0f32, |a, &v| a.max(v));
    // acceleration 1 samples everything: identity (up to FFT rounding)
    for coils in [1, 4] {
        let full = Undersampling::apply_volume(
            &us(MaskKind::Poisson, 1.0, PhaseEncode::Rows, coils),
            &clean,
        )
        .unwrap();
        if coils == 1 {
            assert!(max_abs_diff(&full, &clean) < 1e-4 * top);
        } else {
            // RSS of the coil images: x · √Σ|s_c|², the maps constant along the slice axis
            let rss = CoilMaps::birdcage(4, 32, 32).unwrap().rss();
            for k in [0, 9] {
                for ((o, c), r) in full
                    .data
                    .slice(s![k, .., ..])
                    .iter()
                    .zip(clean.data.slice(s![k, .., ..]).iter())
                    .zip(rss.iter())
                {
                    assert!((o - c * r).abs() < 1e-4 * top, "{o} vs {}", c * r);
                }
            }
        }
    }
    // a volume constant along the slice and phase-encode axes has all its energy at
    // (kz, ky) = (0, 0), inside the calibration block: kept exactly
    let flat = Volume::new(
        Array3::from_shape_fn((16, 32, 32), |(_, _, x)| 1.0 + x as f32),
        [1.0; 3],
        Modality::Mr,
        Unit::Arbitrary,
    )
    .unwrap();
    let p = us(MaskKind::Poisson, 4.0, PhaseEncode::Rows, 1);
    let out = Undersampling::apply_volume(&p, &flat).unwrap();
    assert!(max_abs_diff(&out, &flat) < 1e-4 * 32.0);
    // Parseval: the zero-filled image keeps only the sampled energy, and aliasing is spread
    // through the partitions: an object in one slice leaks into the others (a per-slice 2-D
    // acquisition could not do that)
    let one = Volume::new(
        Array3::from_shape_fn((16, 32, 32), |(z, y, x)| {
            if z == 8 && (8..24).contains(&y) && (10..22).contains(&x) {
                100.0
            } else {
                0.0
            }
        }),
        [1.0; 3],
        Modality::Mr,
        Unit::Arbitrary,
    )
    .unwrap();
    let out = Undersampling::apply_volume(&p, &one).unwrap();
    let energy = |v: &Volume| v.data.iter().map(|&x| (x as f64).powi(2)).sum::<f64>();
    let (e_in, e_out) = (energy(&one), energy(&out));
    assert!(e_out < e_in && e_out > 0.05 * e_in, "{e_out} of {e_in}");
    let leaked: f64 = out
        .data
        .slice(s![0..4, .., ..])
        .iter()
        .map(|&x| x as f64)
        .sum();
    assert!(leaked > 0.0, "no aliasing through the partitions");
    // same params, same bytes (the Poisson mask is drawn from the seed)
    assert_eq!(
        Undersampling::apply_volume(&p, &one).unwrap().data,
        out.data
    );
}

/// The operators marked `[volume]` in `operators!` are exactly those implementing the trait.
#[test]
fn the_crate_lists_its_volume_forms() {
    #[derive(Default)]
    struct Names(Vec<&'static str>, Vec<&'static str>);
    impl OpVisitor for Names {
        fn visit<O: Operator + 'static>(&mut self) {
            self.0.push(O::info().name);
        }
        fn volume<O: VolumeOperator + 'static>(&mut self) {
            self.1.push(O::info().name);
        }
    }
    let mut n = Names::default();
    artefact_mri::visit_operators(&mut n);
    assert_eq!(n.0.len(), artefact_mri::OPERATOR_COUNT);
    assert_eq!(
        n.1,
        [
            "mri.undersampling",
            "mri.motion",
            "mri.noise",
            "mri.bias_field",
            "mri.wraparound"
        ]
    );
}
