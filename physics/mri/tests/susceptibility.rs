//! Physics tests of `mri.susceptibility`: analytic dipole fields (sphere, cylinder), the slab
//! model against a full 3-D computation, distortion along phase encode only, Jacobian
//! intensity, dephasing loss.

mod real;

use artefact_core::metrics::ssim;
use artefact_core::{Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::susceptibility::{
    apply_with_mask, dipole_field_3d, dipole_field_slice, splat_along, B0Direction, Susceptibility,
    SusceptibilityParams,
};
use artefact_mri::PhaseEncode;
use ndarray::{s, Array2, Array3, Axis};

fn mr(data: Array2<f32>) -> Image {
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn params(pe: PhaseEncode, b0: B0Direction, esp: f64, te: f64) -> SusceptibilityParams {
    SusceptibilityParams {
        phase_encode: pe,
        b0_direction: b0,
        b0_tesla: 3.0,
        delta_chi_ppm: 9.4,
        air_threshold: 0.1,
        slab_mm: 40.0,
        echo_spacing_ms: esp,
        te_ms: te,
        slice_thickness_mm: 3.0,
        pe_polarity: 1,
    }
}

/// Head-like phantom: tissue disc (radius 44) with an air hole (radius 7) off-centre.
fn head() -> Image {
    mr(Array2::from_shape_fn((128, 128), |(i, j)| {
        let (y, x) = (i as f64 - 64.0, j as f64 - 64.0);
        let r = (y * y + x * x).sqrt();
        let hole = ((y + 15.0).powi(2) + (x - 5.0).powi(2)).sqrt() < 7.0;
        if r < 44.0 && !hole {
            0.6 + 0.4 * ((y / 9.0).sin() * (x / 13.0).cos()) as f32 * 0.5
        } else {
            0.0
        }
    }))
}

#[test]
fn sphere_field_matches_the_analytic_dipole() {
    // sphere of χ = 1 ppm, radius 8 voxels, B0 along array axis 0
    let n = 48;
    let c = 24.0;
    let chi = Array3::from_shape_fn((n, n, n), |(i, j, k)| {
        let r2 = (i as f64 - c).powi(2) + (j as f64 - c).powi(2) + (k as f64 - c).powi(2);
        if r2 < 64.0 {
            1.0f32
        } else {
            0.0
        }
    });
    let r_eff = (3.0 * chi.sum() as f64 / (4.0 * std::f64::consts::PI)).cbrt();
    let f = dipole_field_3d(&chi, [1.0; 3], 0).unwrap();
    let mut pts = vec![];
    for ((i, j, k), &v) in f.indexed_iter() {
        let d = [i as f64 - c, j as f64 - c, k as f64 - c];
        let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        if (1.5 * r_eff..2.5 * r_eff).contains(&r) {
            let cos2 = d[0] * d[0] / (r * r);
            let want = (1.0 / 3.0) * (r_eff / r).powi(3) * (3.0 * cos2 - 1.0);
            pts.push((v as f64, want));
        }
    }
    let off = pts.iter().map(|(v, w)| v - w).sum::<f64>() / pts.len() as f64;
    let peak = pts.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
    let err = pts
        .iter()
        .map(|(v, w)| (v - off - w).abs())
        .fold(0.0, f64::max);
    assert!(
        err < 0.06 * peak,
        "max error {err} vs peak {peak} (offset {off})"
    );
    assert!(off.abs() < 0.02, "offset {off}");
    // Lorentz-corrected: no field inside a uniformly magnetised sphere
    assert!(
        (f[[24, 24, 24]] as f64 - off).abs() < 0.03,
        "centre {}",
        f[[24, 24, 24]]
    );
    // along B0 the outside field is positive, perpendicular it is negative (ratio −2)
    let along = f[[24 + 14, 24, 24]] as f64 - off;
    let perp = f[[24, 24 + 14, 24]] as f64 - off;
    assert!(
        along > 0.0 && perp < 0.0 && (along / perp + 2.0).abs() < 0.2,
        "{along} {perp}"
    );
}

#[test]
fn cylinder_perpendicular_to_b0_matches_the_analytic_field() {
    // infinite cylinder (slab → ∞) of χ = 1 ppm along the slice normal, B0 along rows
    let n = 128;
    let c = 64.0;
    let chi = Array2::from_shape_fn((n, n), |(i, j)| {
        if (i as f64 - c).powi(2) + (j as f64 - c).powi(2) < 100.0 {
            1.0f32
        } else {
            0.0
        }
    });
    let r_eff = (chi.sum() as f64 / std::f64::consts::PI).sqrt();
    let f = dipole_field_slice(&chi, [1.0, 1.0], B0Direction::Rows, 1e6);
    let mut pts = vec![];
    for ((i, j), &v) in f.indexed_iter() {
        let (y, x) = (i as f64 - c, j as f64 - c);
        let r = (x * x + y * y).sqrt();
        if (1.5 * r_eff..3.0 * r_eff).contains(&r) {
            let cos2phi = (y * y - x * x) / (r * r);
            pts.push((v as f64, 0.5 * (r_eff / r).powi(2) * cos2phi));
        }
    }
    let off = pts.iter().map(|(v, w)| v - w).sum::<f64>() / pts.len() as f64;
    let peak = pts.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
    let err = pts
        .iter()
        .map(|(v, w)| (v - off - w).abs())
        .fold(0.0, f64::max);
    assert!(err < 0.05 * peak, "max error {err} vs peak {peak}");
    // inside: uniform −χ/6 relative to far field
    let inside = f[[64, 64]] as f64 - off;
    assert!((inside + 1.0 / 6.0).abs() < 0.02, "inside {inside}");
    // B0 along an infinite cylinder: no field outside, uniform χ/3 inside (Lorentz-corrected)
    let g = dipole_field_slice(&chi, [1.0, 1.0], B0Direction::Normal, 1e6);
    let out_ref = g[[5, 5]];
    for ((i, j), &v) in g.indexed_iter() {
        let r2 = (i as f64 - c).powi(2) + (j as f64 - c).powi(2);
        let want = if r2 < 100.0 { 1.0 / 3.0 } else { 0.0 };
        assert!(
            ((v - out_ref) as f64 - want).abs() < 1e-4,
            "({i}, {j}): {}",
            v - out_ref
        );
    }
}

#[test]
fn slab_model_matches_a_full_3d_computation() {
    // disc of radius 8 extruded over 13 slices (13 mm), B0 along the slice normal
    let n = 48;
    let disc = Array2::from_shape_fn((n, n), |(i, j)| {
        if (i as f64 - 24.0).powi(2) + (j as f64 - 24.0).powi(2) < 64.0 {
            1.0f32
        } else {
            0.0
        }
    });
    let mut chi3 = Array3::<f32>::zeros((n, n, n));
    for z in 18..31 {
        chi3.index_axis_mut(Axis(0), z).assign(&disc);
    }
    let f3 = dipole_field_3d(&chi3, [1.0; 3], 0).unwrap();
    let mid = f3.index_axis(Axis(0), 24).to_owned();
    let f2 = dipole_field_slice(&disc, [1.0, 1.0], B0Direction::Normal, 13.0);
    let off = (&mid - &f2).mean().unwrap();
    let peak = mid.iter().map(|v| (v - off).abs()).fold(0.0f32, f32::max);
    let err = mid
        .iter()
        .zip(f2.iter())
        .map(|(a, b)| (a - off - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 0.05 * peak, "slab vs 3-D: {err} (peak {peak})");
}

#[test]
fn splatting_conserves_signal_and_applies_the_jacobian() {
    let mut x = Array2::<f32>::zeros((64, 3));
    x.slice_mut(s![20..30, ..]).fill(1.0);
    let out = splat_along(&x, &Array2::from_elem((64, 3), 2.5), 0);
    assert!((out.column(1).sum() - 10.0).abs() < 1e-5);
    assert!((out[[22, 1]] - 0.5).abs() < 1e-6 && (out[[32, 1]] - 0.5).abs() < 1e-6);
    assert!(out
        .slice(s![23..32, 1])
        .iter()
        .all(|&v| (v - 1.0).abs() < 1e-6));
    // stretch d(y) = 0.5 (y − 32): intensity 1/1.5 in the interior
    let ones = Array2::<f32>::from_elem((3, 64), 1.0);
    let d = Array2::from_shape_fn((3, 64), |(_, j)| 0.5 * (j as f32 - 32.0));
    let out = splat_along(&ones, &d, 1);
    for j in 25..40 {
        assert!(
            (out[[0, j]] - 1.0 / 1.5).abs() < 1e-5,
            "{j}: {}",
            out[[0, j]]
        );
    }
    // compression d' = −0.5: pile-up ×2
    let d = Array2::from_shape_fn((3, 64), |(_, j)| -0.5 * (j as f32 - 32.0));
    let out = splat_along(&ones, &d, 1);
    assert!((out[[1, 32]] - 2.0).abs() < 1e-5);
}

#[test]
fn zero_chi_contrast_is_identity() {
    let img = head();
    let mut p = params(PhaseEncode::Rows, B0Direction::Normal, 0.5, 30.0);
    p.delta_chi_ppm = 0.0;
    assert_eq!(Susceptibility::apply(&p, &img).unwrap(), img);
    let p = params(PhaseEncode::Rows, B0Direction::Normal, 0.0, 0.0);
    assert_eq!(Susceptibility::apply(&p, &img).unwrap(), img);
}

#[test]
fn distortion_moves_signal_along_phase_encode_only() {
    let img = head();
    for (pe, b0) in [
        (PhaseEncode::Rows, B0Direction::Normal),
        (PhaseEncode::Cols, B0Direction::Rows),
    ] {
        let p = params(pe, b0, 0.2, 0.0);
        let out = Susceptibility::apply(&p, &img).unwrap();
        let ax = pe.axis();
        let sum_in = img.data.sum_axis(Axis(ax));
        let sum_out = out.data.sum_axis(Axis(ax));
        let line_err = sum_in
            .iter()
            .zip(sum_out.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            line_err < 1e-3,
            "{pe:?}: signal per phase-encode line changed by {line_err}"
        );
        // profiles along phase encode did change
        let moved = img
            .data
            .iter()
            .zip(out.data.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(moved > 0.1, "{pe:?}: no visible distortion ({moved})");
        // opposite blip polarity shifts the other way
        let mut q = p.clone();
        q.pe_polarity = -1;
        assert_ne!(Susceptibility::apply(&q, &img).unwrap(), out);
    }
}

#[test]
fn dephasing_only_removes_signal_near_air_boundaries() {
    let img = head();
    // B0 in-plane along rows, long slab: the air hole's dipole field has strong gradients at
    // its poles (along B0), the uniform-field bulk of the disc has none
    let mut p = params(PhaseEncode::Rows, B0Direction::Rows, 0.0, 40.0);
    p.slab_mm = 1e6;
    let out = Susceptibility::apply(&p, &img).unwrap();
    assert!(img
        .data
        .iter()
        .zip(out.data.iter())
        .all(|(a, b)| *b <= *a + 1e-6));
    // hole centre (49, 69), radius 7: one pixel beyond its pole along B0 vs deep tissue
    let near = 1.0 - out.data[[49 - 8, 69]] / img.data[[49 - 8, 69]];
    let far = 1.0 - out.data[[90, 50]] / img.data[[90, 50]];
    assert!(near > 0.2 && far < 0.02, "near {near} far {far}");
}

#[test]
fn severity_grows_with_echo_spacing_and_sampling_is_seeded() {
    let img = head();
    let s = |esp: f64| {
        let out = Susceptibility::apply(
            &params(PhaseEncode::Rows, B0Direction::Normal, esp, 30.0),
            &img,
        )
        .unwrap();
        ssim(img.data.view(), out.data.view(), 1.0).unwrap()
    };
    let (a, b, c) = (s(0.1), s(0.4), s(1.0));
    assert!(a > b && b > c, "{a} {b} {c}");
    let spec = ParamSpec::new().with("strength", SpecValue::Range([0.5, 2.0]));
    let p = Susceptibility::sample(&spec, &mut Seed::derive(9, "chi").rng()).unwrap();
    assert_eq!(
        p,
        Susceptibility::sample(&spec, &mut Seed::derive(9, "chi").rng()).unwrap()
    );
    assert_eq!(
        Susceptibility::apply(&p, &img).unwrap(),
        Susceptibility::apply(&p, &img).unwrap()
    );
    let mask = Array2::from_elem((10, 10), true);
    assert!(apply_with_mask(&p, &img, &mask).is_err());
    let mut bad = p.clone();
    bad.b0_tesla = -1.0;
    assert!(Susceptibility::apply(&bad, &img).is_err());
    assert_eq!(Susceptibility::info().name, "mri.susceptibility");
}

#[test]
fn real_images_mild_vs_severe() {
    for img in real::mri_slices() {
        let r = img.finite_range().unwrap();
        let dr = (r.1 - r.0) as f64;
        let mild = Susceptibility::apply(
            &params(PhaseEncode::Rows, B0Direction::Normal, 0.1, 10.0),
            &img,
        )
        .unwrap();
        let severe = Susceptibility::apply(
            &params(PhaseEncode::Rows, B0Direction::Normal, 1.0, 50.0),
            &img,
        )
        .unwrap();
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
