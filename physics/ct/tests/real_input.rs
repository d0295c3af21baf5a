//! Every CT corruption on the real fixtures (tests/data/dicom): CT_small (128²) with the
//! operators' default scan, and CT_head_512 (512²) with the default fan geometry but upsample 1
//! and 0.25 views per bin to keep the test fast. No NaN; air stays ≈ −1000 HU.

use artefact_core::{Image, Operator, ParamSpec, Seed};
use artefact_ct::limited_angle::{self, LimitedAngleParams};
use artefact_ct::low_dose::{self, LowDose};
use artefact_ct::metal::{self, Metal, Physics};
use artefact_ct::motion::{self, Motion};
use artefact_ct::pipeline::ScanSettings;
use artefact_ct::ring::{self, Ring};
use artefact_ct::sparse_view::{self, SparseViewParams};
use artefact_ct::truncation::{self, TruncationParams};
use std::path::PathBuf;

fn load(name: &str) -> Image {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/dicom")
        .join(name);
    let v = artefact_io::load_volume(&p).expect("fixture loads").volume;
    v.slice(0, 0).expect("first slice")
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// Medians of input and output over the input's darkest pixels (below −700 HU: air, or the
/// darkest background a cropped fixture has — CT_small's minimum is −896 HU).
fn air_medians(clean: &Image, out: &Image) -> (f32, f32) {
    let idx: Vec<usize> = clean
        .data
        .iter()
        .enumerate()
        .filter(|(_, &c)| c < -700.0)
        .map(|(i, _)| i)
        .collect();
    assert!(idx.len() > 100, "fixture has air");
    let c: Vec<f32> = clean.data.iter().copied().collect();
    let o: Vec<f32> = out.data.iter().copied().collect();
    (
        median(idx.iter().map(|&i| c[i]).collect()),
        median(idx.iter().map(|&i| o[i]).collect()),
    )
}

fn run_all(img: &Image, scan: &ScanSettings, label: &str) {
    let mut rng = Seed::derive(7, label).rng();
    let spec = ParamSpec::new();
    let outs: Vec<(&str, Image)> = vec![
        (
            "low_dose",
            low_dose::apply_with(&LowDose::sample(&spec, &mut rng).unwrap(), img, scan).unwrap(),
        ),
        (
            "sparse_view",
            sparse_view::apply_with(
                &SparseViewParams {
                    keep_every: 6,
                    scan: Default::default(),
                },
                img,
                scan,
            )
            .unwrap(),
        ),
        (
            "limited_angle",
            limited_angle::apply_with(
                &LimitedAngleParams {
                    scan: artefact_ct::pipeline::ScanSettings::default(),
                    missing_deg: 25.0,
                    start_deg: 30.0,
                },
                img,
                scan,
            )
            .unwrap(),
        ),
        (
            "ring",
            ring::apply_with(&Ring::sample(&spec, &mut rng).unwrap(), img, scan).unwrap(),
        ),
        (
            "truncation",
            truncation::apply_with(
                &TruncationParams {
                    fov_fraction: 0.8,
                    scan: Default::default(),
                },
                img,
                scan,
            )
            .unwrap(),
        ),
        (
            "motion",
            motion::apply_with(&Motion::sample(&spec, &mut rng).unwrap(), img, scan).unwrap(),
        ),
        (
            "metal",
            metal::apply_with(
                &Metal::sample(&spec, &mut rng).unwrap(),
                img,
                scan,
                Physics::Polychromatic,
            )
            .unwrap(),
        ),
    ];
    for (name, out) in outs {
        assert_eq!(out.data.dim(), img.data.dim());
        assert!(
            out.data.iter().all(|v| v.is_finite()),
            "{label} {name}: non-finite output"
        );
        let (air_in, air_out) = air_medians(img, &out);
        assert!(
            (air_out - air_in).abs() < 60.0,
            "{label} {name}: air median {air_out} HU, input {air_in} HU"
        );
        if label == "CT_head_512" {
            assert!(
                (air_out + 1000.0).abs() < 60.0,
                "{label} {name}: air {air_out} HU"
            );
        }
    }
}

#[test]
fn ct_small_through_every_corruption() {
    let img = load("CT_small.dcm");
    run_all(&img, &ScanSettings::default(), "CT_small");
}

#[test]
fn ct_head_512_through_every_corruption() {
    let img = load("CT_head_512.dcm");
    let geom = ScanSettings::default().geometry_for(&img).unwrap();
    let scan = ScanSettings {
        upsample: 1,
        n_views: Some((geom.n_det / 8) * 2),
        ..ScanSettings::default()
    };
    run_all(&img, &scan, "CT_head_512");
}
