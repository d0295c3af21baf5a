//! Physics tests of `mri.bias_field`: range, zero background, order 0, TorchIO agreement.

mod real;

use artefact_core::metrics::ssim;
use artefact_core::{Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::bias_field::{object_support, BiasField, BiasFieldParams, BiasMode};
use ndarray::Array2;

fn mr(data: Array2<f32>) -> Image {
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

/// Disc of value 2 in a zero background.
fn disc(n0: usize, n1: usize) -> Image {
    mr(Array2::from_shape_fn((n0, n1), |(i, j)| {
        let y = (i as f64 + 0.5) / n0 as f64 - 0.5;
        let x = (j as f64 + 0.5) / n1 as f64 - 0.5;
        if x * x + y * y < 0.16 {
            2.0
        } else {
            0.0
        }
    }))
}

fn poly(order: usize, coefficients: Vec<f64>, range: Option<f64>) -> BiasFieldParams {
    BiasFieldParams {
        mode: BiasMode::Polynomial,
        order,
        grid: 4,
        coefficients,
        range,
    }
}

#[test]
fn zero_coefficients_are_identity() {
    let img = disc(40, 50);
    for p in [
        poly(3, vec![0.0; 10], None),
        poly(2, vec![0.0; 6], Some(1.8)),
        BiasFieldParams {
            mode: BiasMode::Grid,
            order: 0,
            grid: 5,
            coefficients: vec![0.0; 25],
            range: None,
        },
    ] {
        assert_eq!(BiasField::apply(&p, &img).unwrap(), img);
    }
}

#[test]
fn order_zero_is_a_constant_gain() {
    let img = disc(32, 32);
    let out = BiasField::apply(&poly(0, vec![0.4], None), &img).unwrap();
    let g = 0.4f32.exp();
    for (a, b) in img.data.iter().zip(out.data.iter()) {
        assert!((a * g - b).abs() < 1e-5);
    }
    // with a range request a constant field cannot vary: it is normalised to 1
    let out = BiasField::apply(&poly(0, vec![0.4], Some(2.0)), &img).unwrap();
    assert_eq!(out, img);
}

#[test]
fn requested_range_is_achieved_and_background_stays_zero() {
    let img = disc(64, 48);
    let mut rng = Seed::derive(3, "bias").rng();
    for (mode, r) in [
        (BiasMode::Polynomial, 1.3),
        (BiasMode::Polynomial, 2.5),
        (BiasMode::Grid, 1.7),
    ] {
        let spec = ParamSpec::new()
            .with(
                "mode",
                SpecValue::Text(
                    if mode == BiasMode::Grid {
                        "grid"
                    } else {
                        "polynomial"
                    }
                    .into(),
                ),
            )
            .with("range", SpecValue::Number(r));
        let p = BiasField::sample(&spec, &mut rng).unwrap();
        assert_eq!(p.mode, mode);
        // the range holds over the object (the disc), where apply normalises it
        let support = object_support(&img).unwrap();
        assert_eq!(support.iter().filter(|&&f| f).count(), {
            img.data.iter().filter(|&&v| v > 0.0).count()
        });
        let f = p.field_on(img.shape(), Some(&support)).unwrap();
        let (lo, hi) = f
            .iter()
            .zip(&support)
            .filter(|(_, &s)| s)
            .fold((f32::INFINITY, 0.0f32), |(a, b), (&v, _)| {
                (a.min(v), b.max(v))
            });
        assert!(
            ((hi / lo) as f64 - r).abs() < 1e-4 * r,
            "{mode:?}: {} vs {r}",
            hi / lo
        );
        assert!(
            ((hi * lo) as f64 - 1.0).abs() < 1e-4,
            "geometric mid-range 1"
        );
        let out = BiasField::apply(&p, &img).unwrap();
        for (a, b) in img.data.iter().zip(out.data.iter()) {
            if *a == 0.0 {
                assert_eq!(*b, 0.0);
            } else {
                let ratio = b / a;
                assert!(ratio >= lo * 0.9999 && ratio <= hi * 1.0001);
            }
        }
        // normalising over the whole grid gives a different (wider-support) field
        let whole = p.field(img.shape()).unwrap();
        assert_ne!(whole, f);
    }
}

#[test]
fn object_off_centre_keeps_its_brightness() {
    // a small object in one corner: over the whole field of view a strong linear field would
    // put it entirely on one side; normalised over the object its geometric mean stays ≈ 1
    let img = mr(Array2::from_shape_fn((64, 64), |(i, j)| {
        if i < 16 && j < 16 {
            1.0
        } else {
            0.0
        }
    }));
    let p = poly(1, vec![0.0, 1.0, 1.0], Some(2.0));
    let out = BiasField::apply(&p, &img).unwrap();
    let logs: Vec<f64> = out
        .data
        .iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| (v as f64).ln())
        .collect();
    let (lo, hi) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    assert!((hi - lo - 2f64.ln()).abs() < 1e-5, "range over the object");
    assert!(
        (hi + lo).abs() < 1e-5,
        "geometric mid-range 1 over the object"
    );
    let whole = p.field(img.shape()).unwrap();
    let corner = whole[[8, 8]];
    assert!(
        corner < 0.8,
        "over the whole grid the corner would be darkened: {corner}"
    );
}

#[test]
fn grid_field_is_smooth() {
    let p = BiasFieldParams {
        mode: BiasMode::Grid,
        order: 0,
        grid: 4,
        coefficients: vec![
            0.3, -0.5, 0.8, 0.1, -0.2, 0.4, 0.0, 0.6, 0.9, -0.7, 0.2, 0.5, 0.1, 0.3, -0.4, 0.2,
        ],
        range: None,
    };
    let l = p.log_field((100, 100)).unwrap();
    // second differences stay small: C² spline over ~33 px per knot interval
    let mut max_d2 = 0.0f64;
    for i in 1..99 {
        for j in 0..100 {
            max_d2 = max_d2.max((l[[i + 1, j]] - 2.0 * l[[i, j]] + l[[i - 1, j]]).abs());
        }
    }
    assert!(max_d2 < 5e-3, "second difference {max_d2}");
    // constant control values → constant field (partition of unity)
    let c = BiasFieldParams {
        coefficients: vec![0.7; 16],
        ..p
    };
    let l = c.log_field((37, 53)).unwrap();
    assert!(l.iter().all(|v| (v - 0.7).abs() < 1e-12));
}

#[test]
fn polynomial_matches_torchio_generate_bias_field() {
    // Reference (TorchIO 1.2.1, in /work/.venvs/mri):
    //   import numpy as np, torchio.transforms.augmentation.intensity.random_bias_field as m
    //   f = m.BiasField.generate_bias_field(np.zeros((1, 6, 5, 1), np.float32), 2,
    //         [0.3, 0.7, -0.2, 0.1, -0.4, 0.25, 0.9, -0.15, 0.6, 0.05])
    //   f[:, :, 0].ravel()
    // On a single slice TorchIO's z coordinate is 0, so only the terms with z power 0 remain:
    // [0.3, 0.1, 0.25, 0.9, 0.6, 0.05] in our (row power outer, col power inner) order.
    const TORCHIO: [f64; 30] = [
        1.221403, 0.788597, 0.57695, 0.478308, 0.449329, 1.333757, 0.970931, 0.800915, 0.748638,
        0.792946, 1.479938, 1.214703, 1.129754, 1.190651, 1.421908, 1.668625, 1.544191, 1.61931,
        1.92418, 2.590886, 1.911714, 1.994713, 2.358439, 3.159772, 4.797044, 2.225541, 2.618234,
        3.490343, 5.272476, 9.025014,
    ];
    let p = poly(2, vec![0.3, 0.1, 0.25, 0.9, 0.6, 0.05], None);
    let f = p.field((6, 5)).unwrap();
    for (a, b) in f.iter().zip(TORCHIO.iter()) {
        assert!(((*a as f64) - b).abs() < 1e-5 * b.max(1.0), "{a} vs {b}");
    }
}

#[test]
fn errors_are_reported() {
    let img = disc(16, 16);
    let e = BiasField::apply(&poly(2, vec![0.1; 5], None), &img)
        .unwrap_err()
        .to_string();
    assert!(e.contains("coefficients"), "{e}");
    assert!(BiasField::apply(&poly(1, vec![0.1; 3], Some(0.5)), &img).is_err());
    let bad = ParamSpec::new().with("order", SpecValue::Number(12.0));
    assert!(BiasField::sample(&bad, &mut Seed::derive(1, "b").rng()).is_err());
    assert_eq!(BiasField::info().name, "mri.bias_field");
}

#[test]
fn real_images_mild_vs_severe() {
    let coeffs = vec![0.0, 0.5, -0.3, 0.8, 0.2, -0.6, 0.4, 0.1, -0.2, 0.3];
    for img in real::mri_slices() {
        let r = img.finite_range().unwrap();
        let dr = (r.1 - r.0) as f64;
        let mild = BiasField::apply(&poly(3, coeffs.clone(), Some(1.2)), &img).unwrap();
        let severe = BiasField::apply(&poly(3, coeffs.clone(), Some(3.0)), &img).unwrap();
        assert!(mild
            .data
            .iter()
            .chain(severe.data.iter())
            .all(|v| v.is_finite()));
        let (sm, ss) = (
            ssim(img.data.view(), mild.data.view(), dr).unwrap(),
            ssim(img.data.view(), severe.data.view(), dr).unwrap(),
        );
        assert!(sm > ss + 0.02, "mild {sm} vs severe {ss}");
    }
}

#[test]
fn fused_apply_equals_image_times_field() {
    // zero background, negative and positive pixels; polynomial and grid fields
    let mut img = disc(41, 36);
    img.data[[3, 4]] = -2.5;
    let grid = BiasFieldParams {
        mode: BiasMode::Grid,
        order: 0,
        grid: 4,
        coefficients: (0..16).map(|i| ((i * 7) % 5) as f64 * 0.2 - 0.4).collect(),
        range: Some(2.0),
    };
    for p in [
        poly(
            3,
            vec![0.1, -0.3, 0.2, 0.4, 0.3, -0.2, 0.1, 0.25, -0.15, 0.05],
            Some(1.7),
        ),
        poly(
            5,
            (0..21).map(|i| (i as f64 * 0.37).sin()).collect(),
            Some(3.0),
        ),
        poly(2, vec![0.3, 0.1, -0.2, 0.05, 0.0, 0.1], None),
        grid,
    ] {
        let fast = BiasField::apply(&p, &img).unwrap();
        let support = object_support(&img);
        let slow = &img.data * &p.field_on(img.shape(), support.as_deref()).unwrap();
        assert_eq!(fast.data, slow);
    }
}
