//! Physics tests of `mri.ghosting`: ghost positions at FOV/R and analytic ghost amplitudes.

mod real;

use artefact_core::fft::fft2c;
use artefact_core::metrics::ssim;
use artefact_core::{Complex32, Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::ghosting::{apply_reference, Ghosting, GhostingParams};
use artefact_mri::PhaseEncode;
use ndarray::{s, Array2};

fn mr(data: Array2<f32>) -> Image {
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn gp(pe: PhaseEncode, period: usize, intensity: f64, phase_deg: f64, keep: f64) -> GhostingParams {
    GhostingParams {
        phase_encode: pe,
        period,
        intensity,
        phase_deg,
        keep_centre: keep,
    }
}

/// A 10×12 block of value 1 at rows 8..18, cols 40..52 of a 128×96 zero image.
fn block() -> Image {
    let mut x = Array2::<f32>::zeros((128, 96));
    x.slice_mut(s![8..18, 40..52]).fill(1.0);
    mr(x)
}

#[test]
fn zero_modulation_is_identity() {
    let img = block();
    assert_eq!(
        Ghosting::apply(&gp(PhaseEncode::Rows, 2, 0.0, 0.0, 0.0), &img).unwrap(),
        img
    );
    assert_eq!(
        Ghosting::apply(&gp(PhaseEncode::Cols, 4, 0.0, 0.0, 0.3), &img).unwrap(),
        img
    );
}

#[test]
fn ghosts_at_fov_over_r_with_analytic_amplitude() {
    let img = block();
    for &(r, intensity, phase) in &[(4usize, 0.5f64, 30.0f64), (2, 0.3, 0.0), (8, 0.8, -70.0)] {
        let out = Ghosting::apply(&gp(PhaseEncode::Rows, r, intensity, phase, 0.0), &img).unwrap();
        let m = Complex32::from_polar((1.0 - intensity) as f32, (phase as f32).to_radians());
        let ghost = ((m - 1.0) / r as f32).norm();
        let main = (Complex32::new(1.0, 0.0) + (m - 1.0) / r as f32).norm();
        let step = 128 / r;
        for j in 0..r {
            let want = if j == 0 { main } else { ghost };
            for i in 8..18 {
                for c in 40..52 {
                    let v = out.data[[(i + j * step) % 128, c]];
                    assert!((v - want).abs() < 1e-4, "R={r} ghost {j}: {v} vs {want}");
                }
            }
        }
        // nothing outside the replicas, nothing displaced along readout
        let mut support = Array2::<bool>::from_elem((128, 96), false);
        for j in 0..r {
            for i in 8..18 {
                support
                    .slice_mut(s![(i + j * step) % 128, 40..52])
                    .fill(true);
            }
        }
        for ((i, c), &v) in out.data.indexed_iter() {
            if !support[[i, c]] {
                assert!(v < 1e-4, "R={r}: leakage {v} at ({i}, {c})");
            }
        }
    }
}

#[test]
fn n_over_2_ghost_from_a_pure_phase_error_is_sin_half_phi() {
    let img = block();
    let phi = 40f64;
    let out = Ghosting::apply(&gp(PhaseEncode::Cols, 2, 0.0, phi, 0.0), &img).unwrap();
    let ghost = out.data[[12, 45 + 48]]; // half the 96 columns away
    let want = (phi.to_radians() / 2.0).sin() as f32;
    assert!((ghost - want).abs() < 1e-4, "{ghost} vs sin(φ/2) = {want}");
    let main = out.data[[12, 45]];
    assert!((main - (phi.to_radians() / 2.0).cos() as f32).abs() < 1e-4);
    // energy is conserved by a pure phase modulation (unitary)
    let e_in: f64 = img.data.iter().map(|&v| (v as f64).powi(2)).sum();
    let e_out: f64 = out.data.iter().map(|&v| (v as f64).powi(2)).sum();
    assert!((e_in - e_out).abs() / e_in < 1e-4);
}

#[test]
fn cross_correlation_peaks_at_the_ghost_shift() {
    // smooth non-trivial object, R = 3 on 120 rows: ghosts at ±40 rows
    let img = mr(Array2::from_shape_fn((120, 64), |(i, j)| {
        let r2 = ((i as f64 - 30.0) / 8.0).powi(2) + ((j as f64 - 30.0) / 12.0).powi(2);
        (-r2).exp() as f32
    }));
    let out = Ghosting::apply(&gp(PhaseEncode::Rows, 3, 0.6, 0.0, 0.0), &img).unwrap();
    let resid = &out.data - &img.data.mapv(|v| v * 0.8); // main image scaled by 1 − 0.6/3
                                                         // circular cross-correlation along rows of the residual with the object
    let xc = |shift: usize| -> f64 {
        let mut acc = 0.0;
        for ((i, j), &v) in img.data.indexed_iter() {
            acc += v as f64 * resid[[(i + shift) % 120, j]] as f64;
        }
        acc
    };
    let best = (1..120).max_by(|&a, &b| xc(a).total_cmp(&xc(b))).unwrap();
    assert!(best == 40 || best == 80, "peak at {best}");
    // predicted ghost amplitude 0.6/3 = 0.2 of the object: ⟨x, ghost⟩/⟨x, x⟩
    let norm: f64 = img.data.iter().map(|&v| (v as f64).powi(2)).sum();
    assert!((xc(40) / norm - 0.2).abs() < 1e-3, "{}", xc(40) / norm);
}

#[test]
fn kept_centre_lines_are_untouched_and_reduce_the_ghosts() {
    let p = gp(PhaseEncode::Rows, 2, 0.5, 0.0, 0.1);
    let w = p.line_weights(128);
    for (k, z) in w.iter().enumerate() {
        let d = k as i64 - 64;
        let modulated = d.rem_euclid(2) == 0 && (d.abs() as f64) > 6.4;
        assert_eq!(*z != Complex32::new(1.0, 0.0), modulated, "line {k}");
    }
    // the centre line stays in k-space
    let img = block();
    let out = Ghosting::apply(&p, &img).unwrap();
    let mut kin = img.data.mapv(|v| Complex32::new(v, 0.0));
    fft2c(&mut kin);
    let full = Ghosting::apply(&gp(PhaseEncode::Rows, 2, 0.5, 0.0, 0.0), &img).unwrap();
    let ghost_kept = out.data.slice(s![72..82, 40..52]).sum();
    let ghost_full = full.data.slice(s![72..82, 40..52]).sum();
    assert!(ghost_kept < ghost_full, "{ghost_kept} vs {ghost_full}");
    assert!(kin[[64, 48]].norm() > 0.0);
}

#[test]
fn image_domain_fast_path_matches_the_kspace_reference() {
    let img = mr(Array2::from_shape_fn((96, 80), |(i, j)| {
        ((i * 7 + j * 3) % 17) as f32 * 0.1 + if (30..50).contains(&i) { 1.0 } else { 0.0 }
    }));
    for p in [
        gp(PhaseEncode::Rows, 4, 0.4, 25.0, 0.0),
        gp(PhaseEncode::Cols, 2, 0.7, -90.0, 0.05),
        gp(PhaseEncode::Rows, 3, 0.2, 10.0, 0.2),
        gp(PhaseEncode::Rows, 5, 0.5, 0.0, 0.0), // 96 % 5 ≠ 0: reference path
    ] {
        let fast = Ghosting::apply(&p, &img).unwrap();
        let slow = apply_reference(&p, &img).unwrap();
        let err = fast
            .data
            .iter()
            .zip(slow.data.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-4, "{p:?}: {err}");
    }
}

#[test]
fn sampling_and_errors() {
    let spec = ParamSpec::new()
        .with("period", SpecValue::Range([2.0, 4.0]))
        .with("intensity", SpecValue::Range([0.2, 0.4]));
    let a = Ghosting::sample(&spec, &mut Seed::derive(1, "g").rng()).unwrap();
    assert_eq!(
        a,
        Ghosting::sample(&spec, &mut Seed::derive(1, "g").rng()).unwrap()
    );
    assert!((2..=4).contains(&a.period));
    assert!(Ghosting::apply(&gp(PhaseEncode::Rows, 1, 0.5, 0.0, 0.0), &block()).is_err());
    assert!(Ghosting::apply(&gp(PhaseEncode::Rows, 2, 1.5, 0.0, 0.0), &block()).is_err());
    assert_eq!(Ghosting::info().name, "mri.ghosting");
}

#[test]
fn real_images_mild_vs_severe() {
    for img in real::mri_slices() {
        let r = img.finite_range().unwrap();
        let dr = (r.1 - r.0) as f64;
        let mild = Ghosting::apply(&gp(PhaseEncode::Rows, 2, 0.15, 0.0, 0.05), &img).unwrap();
        let severe = Ghosting::apply(&gp(PhaseEncode::Rows, 4, 0.8, 60.0, 0.0), &img).unwrap();
        assert!(mild
            .data
            .iter()
            .chain(severe.data.iter())
            .all(|v| v.is_finite()));
        let (sm, ss) = (
            ssim(img.data.view(), mild.data.view(), dr).unwrap(),
            ssim(img.data.view(), severe.data.view(), dr).unwrap(),
        );
        assert!(sm > ss + 0.05, "mild {sm} vs severe {ss}");
    }
}
