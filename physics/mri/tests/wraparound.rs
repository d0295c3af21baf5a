//! Physics tests of `mri.wraparound`: fold-over positions and the k-space sampling view.

mod real;

use artefact_core::metrics::ssim;
use artefact_core::{Complex32, Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::kspace::{magnitude_image, to_kspace};
use artefact_mri::wraparound::{Wraparound, WraparoundParams};
use artefact_mri::PhaseEncode;
use ndarray::{s, Array2};

fn mr(data: Array2<f32>) -> Image {
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn wp(pe: PhaseEncode, f: f64, off: f64) -> WraparoundParams {
    WraparoundParams {
        phase_encode: pe,
        fov_fraction: f,
        fov_offset: off,
    }
}

#[test]
fn full_fov_is_identity() {
    let img = mr(Array2::from_shape_fn((40, 30), |(i, j)| (i * j % 7) as f32));
    assert_eq!(
        Wraparound::apply(&wp(PhaseEncode::Rows, 1.0, 0.0), &img).unwrap(),
        img
    );
}

#[test]
fn bright_object_at_the_top_folds_to_the_bottom() {
    // body filling rows 10..118 with value 1, a bright marker at rows 4..8 (above the FOV)
    let mut x = Array2::<f32>::zeros((128, 64));
    x.slice_mut(s![10..118, 8..56]).fill(1.0);
    x.slice_mut(s![4..8, 20..30]).fill(10.0);
    let img = mr(x);
    let p = wp(PhaseEncode::Rows, 0.75, 0.0);
    assert_eq!(p.fov_lines(128), (16, 96)); // FOV rows 16..112
    let out = Wraparound::apply(&p, &img).unwrap();
    // marker rows 4..8 appear at rows 4 + 96 = 100..104, on top of the body (1 + 10)
    for i in 100..104 {
        for j in 20..30 {
            assert_eq!(out.data[[i, j]], 11.0, "({i}, {j})");
        }
    }
    // body rows 112..118 (below the FOV) fold to 16..22; rows 10..16 (above) fold to 106..112
    assert_eq!(out.data[[18, 40]], 2.0);
    assert_eq!(out.data[[108, 40]], 2.0);
    assert_eq!(out.data[[60, 40]], 1.0);
    // outside the prescribed FOV nothing is imaged; readout is untouched
    assert!(out.data.slice(s![0..16, ..]).iter().all(|&v| v == 0.0));
    assert!(out.data.slice(s![112..128, ..]).iter().all(|&v| v == 0.0));
    assert!(out.data.slice(s![.., 0..8]).iter().all(|&v| v == 0.0));
    // all signal is kept (aliased, not lost)
    assert!((out.data.sum() - img.data.sum()).abs() < 1e-3);
}

#[test]
fn columns_as_phase_encode_and_offset_fov() {
    let mut x = Array2::<f32>::zeros((32, 100));
    x.slice_mut(s![10..12, 95..98]).fill(3.0);
    let img = mr(x);
    let p = wp(PhaseEncode::Cols, 0.6, 0.1); // 60 columns centred on column 60: 30..90
    assert_eq!(p.fov_lines(100), (30, 60));
    let out = Wraparound::apply(&p, &img).unwrap();
    for j in 35..38 {
        assert_eq!(out.data[[10, j]], 3.0);
    }
    assert!((out.data.sum() - img.data.sum()).abs() < 1e-4);
}

#[test]
fn half_fov_equals_keeping_every_second_kspace_line() {
    // k-space view: sampling every 2nd ky line (×2) gives x + x shifted by N/2
    let img = mr(Array2::from_shape_fn((64, 48), |(i, j)| {
        let r2 = ((i as f64 - 20.0) / 9.0).powi(2) + ((j as f64 - 24.0) / 12.0).powi(2);
        (2.0 * (-r2).exp()) as f32
    }));
    let out = Wraparound::apply(&wp(PhaseEncode::Rows, 0.5, 0.0), &img).unwrap();
    let mut k = to_kspace(&img);
    for (ky, mut line) in k.rows_mut().into_iter().enumerate() {
        let keep = (ky as i64 - 32).rem_euclid(2) == 0;
        line.mapv_inplace(|z| {
            if keep {
                z * 2.0
            } else {
                Complex32::new(0.0, 0.0)
            }
        });
    }
    let tiled = magnitude_image(k, &img).unwrap();
    // inside the FOV (rows 16..48) the two agree
    let err = out
        .data
        .slice(s![16..48, ..])
        .iter()
        .zip(tiled.data.slice(s![16..48, ..]).iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-4, "fold vs k-space subsampling: {err}");
}

#[test]
fn sampling_and_errors() {
    let spec = ParamSpec::new().with("fov_fraction", SpecValue::Range([0.6, 0.9]));
    let a = Wraparound::sample(&spec, &mut Seed::derive(2, "w").rng()).unwrap();
    assert_eq!(
        a,
        Wraparound::sample(&spec, &mut Seed::derive(2, "w").rng()).unwrap()
    );
    assert!((0.6..=0.9).contains(&a.fov_fraction));
    let img = mr(Array2::zeros((16, 16)));
    assert!(Wraparound::apply(&wp(PhaseEncode::Rows, 0.0, 0.0), &img).is_err());
    assert!(Wraparound::apply(&wp(PhaseEncode::Rows, 1.2, 0.0), &img).is_err());
    assert_eq!(Wraparound::info().name, "mri.wraparound");
}

#[test]
fn real_images_mild_vs_severe() {
    for img in real::mri_slices() {
        let r = img.finite_range().unwrap();
        let dr = (r.1 - r.0) as f64;
        let mild = Wraparound::apply(&wp(PhaseEncode::Rows, 0.9, 0.0), &img).unwrap();
        let severe = Wraparound::apply(&wp(PhaseEncode::Rows, 0.6, 0.0), &img).unwrap();
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
