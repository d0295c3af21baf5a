//! The HU → μ (fine grid) → sinogram → FBP → HU path on synthetic images: a water disc comes
//! back at 0 ± 5 HU, air at −1000 HU, padding becomes air, the corruption hook sees physical
//! line integrals, bad inputs are errors.

use artefact_core::{Image, Modality, Unit};
use artefact_ct::fbp::Filter;
use artefact_ct::pipeline::{
    reconstruct_hu, simulate, simulate_with, to_mu_fine, BeamKind, ScanSettings,
};
use artefact_ct::projector::try_forward;
use artefact_ct::units::MU_WATER_70KEV;
use artefact_ct::CtError;
use ndarray::Array2;

/// 256² image, 0.9 mm pixels: water disc (0 HU) of radius 80 mm in air (−1000 HU), with the
/// scanner padding value −3024 in the corners outside a 120 mm circle.
fn water_phantom() -> Image {
    let n = 256;
    let px = 0.9;
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let r = ((i as f64 - c).powi(2) + (j as f64 - c).powi(2)).sqrt() * px;
        if r <= 80.0 {
            0.0
        } else if r <= 120.0 {
            -1000.0
        } else {
            -3024.0
        }
    });
    Image::new(data, [px, px], Modality::Ct, Unit::Hu).unwrap()
}

fn mean_box(img: &Array2<f32>, ci: usize, cj: usize, half: usize) -> f64 {
    let mut s = 0.0;
    let mut n = 0;
    for i in ci - half..=ci + half {
        for j in cj - half..=cj + half {
            s += img[[i, j]] as f64;
            n += 1;
        }
    }
    s / n as f64
}

#[test]
fn water_disc_is_zero_hu_for_every_beam() {
    let img = water_phantom();
    for (beam, short) in [
        (BeamKind::FanArc, false),
        (BeamKind::FanFlat, false),
        (BeamKind::Parallel, false),
        (BeamKind::FanArc, true),
    ] {
        let scan = ScanSettings {
            beam,
            short_scan: short,
            ..Default::default()
        };
        let out = simulate(&img, &scan, |_, _| Ok(())).unwrap();
        assert_eq!(out.data.dim(), img.data.dim());
        assert_eq!(out.spacing, img.spacing);
        assert_eq!(out.unit, Unit::Hu);
        assert!(out.data.iter().all(|v| v.is_finite()));
        let water = mean_box(&out.data, 128, 128, 10);
        assert!(
            water.abs() <= 5.0,
            "{beam:?} short={short}: water {water:.2} HU"
        );
        // air ring between the disc and the padding, and the padding itself → −1000
        let air = mean_box(&out.data, 128, 128 + 110, 3);
        assert!((air + 1000.0).abs() <= 15.0, "{beam:?}: air {air:.1} HU");
        let corner = mean_box(&out.data, 8, 8, 4);
        assert!(
            (corner + 1000.0).abs() <= 15.0,
            "{beam:?}: padding corner {corner:.1} HU"
        );
    }
}

#[test]
fn corruption_hook_sees_line_integrals() {
    let img = water_phantom();
    let scan = ScanSettings::parallel();
    let mut seen = 0.0f32;
    simulate(&img, &scan, |sino, geom| {
        assert_eq!(sino.dim(), (geom.n_views(), geom.n_det));
        seen = sino.iter().cloned().fold(0.0, f32::max);
        Ok(())
    })
    .unwrap();
    // the central ray crosses 160 mm of water: p = 0.0192 × 160 ≈ 3.07
    let expect = (MU_WATER_70KEV * 160.0) as f32;
    assert!(
        (seen - expect).abs() / expect < 0.01,
        "max line integral {seen} vs {expect}"
    );

    // the hook's errors propagate
    let err = simulate(&img, &scan, |_, _| Err(CtError::Input("boom".into())));
    assert!(err.is_err());
}

#[test]
fn simulate_with_can_drop_views() {
    let img = water_phantom();
    let scan = ScanSettings::parallel();
    let out = simulate_with(&img, &scan, |sino, geom| {
        // keep every 4th view (sparse view): FBP must keep the scale
        let keep: Vec<usize> = (0..geom.n_views()).step_by(4).collect();
        let angles = keep.iter().map(|&v| geom.angles_rad[v]).collect();
        let s = sino.select(ndarray::Axis(0), &keep);
        Ok((s, geom.with_angles(angles)))
    })
    .unwrap();
    let water = mean_box(&out.data, 128, 128, 10);
    assert!(water.abs() <= 10.0, "sparse-view water {water}");
}

#[test]
fn fine_grid_and_anisotropic_pixels() {
    let img = water_phantom();
    let (mu, grid) = to_mu_fine(&img, 2);
    assert_eq!(mu.dim(), (512, 512));
    assert!((grid.pixel_mm - 0.45).abs() < 1e-12);
    assert!((mu[[256, 256]] as f64 - MU_WATER_70KEV).abs() < 1e-7);
    assert!(mu[[0, 0]] >= 0.0 && mu[[0, 0]] < 1e-4);

    // anisotropic spacing: reconstruct on a square grid then resample back
    let data = Array2::from_shape_fn((120, 160), |(i, j)| {
        let (y, x) = ((i as f64 - 59.5) * 1.5, (j as f64 - 79.5) * 1.0);
        if x * x + y * y < 60.0 * 60.0 {
            0.0
        } else {
            -1000.0
        }
    });
    let img = Image::new(data, [1.5, 1.0], Modality::Ct, Unit::Hu).unwrap();
    let scan = ScanSettings {
        filter: Filter::Hann,
        ..Default::default()
    };
    let out = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    assert_eq!(out.data.dim(), (120, 160));
    let water = mean_box(&out.data, 60, 80, 5);
    assert!(water.abs() <= 5.0, "anisotropic water {water}");

    // reconstruct_hu is the lower-level piece of the same path
    let geom = scan.geometry_for(&img).unwrap();
    let (mu, grid) = to_mu_fine(&img, 2);
    let sino = try_forward(mu.view(), &grid, &geom).unwrap();
    let rec = reconstruct_hu(&sino, &geom, &img).unwrap();
    assert!(mean_box(&rec.data, 60, 80, 5).abs() <= 5.0);
}

#[test]
fn bad_inputs_are_errors() {
    let img = water_phantom();
    let mr = Image::new(img.data.clone(), img.spacing, Modality::Mr, Unit::Arbitrary).unwrap();
    assert!(simulate(&mr, &ScanSettings::default(), |_, _| Ok(())).is_err());
    let bad = ScanSettings {
        upsample: 0,
        ..Default::default()
    };
    assert!(simulate(&img, &bad, |_, _| Ok(())).is_err());
    let close = ScanSettings {
        source_iso_mm: 100.0,
        ..Default::default()
    };
    assert!(simulate(&img, &close, |_, _| Ok(())).is_err());
    let zero_views = ScanSettings {
        n_views: Some(0),
        ..Default::default()
    };
    assert!(simulate(&img, &zero_views, |_, _| Ok(())).is_err());
    // a corruption returning a mismatched sinogram
    let r = simulate_with(&img, &ScanSettings::parallel(), |s, g| {
        Ok((s.slice(ndarray::s![..3, ..]).to_owned(), g))
    });
    assert!(r.is_err());
}
