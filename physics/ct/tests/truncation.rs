//! ct.truncation: a detector narrower than the body gives a bright rim at the FOV edge.

mod common;
use artefact_core::Image;
use artefact_ct::pipeline::ScanSettings;
use artefact_ct::truncation::{apply_with, TruncationParams};
use common::water_disc;

fn annulus_mean(img: &Image, r0: f64, r1: f64) -> f64 {
    let (n, _) = img.data.dim();
    let c = (n as f64 - 1.0) / 2.0;
    let (mut s, mut k) = (0.0, 0);
    for ((i, j), &v) in img.data.indexed_iter() {
        let r = (j as f64 - c).hypot(i as f64 - c) * img.spacing[0];
        if r >= r0 && r < r1 {
            s += v as f64;
            k += 1;
        }
    }
    s / k as f64
}

#[test]
fn bright_rim_at_the_fov_edge() {
    let img = water_disc(128, 1.5, 85.0);
    let scan = ScanSettings::default();
    let full = apply_with(
        &TruncationParams {
            fov_fraction: 1.0,
            scan: Default::default(),
        },
        &img,
        &scan,
    )
    .unwrap();
    // untruncated: flat water
    assert!(annulus_mean(&full, 0.0, 30.0).abs() < 15.0);
    let out = apply_with(
        &TruncationParams {
            fov_fraction: 0.65,
            scan: Default::default(),
        },
        &img,
        &scan,
    )
    .unwrap();
    let r_body = 85.0 + 0.75 * 2f64.sqrt(); // outer pixel corner, as body_radius_mm
    let r_fov = 0.65 * r_body;
    let rim = annulus_mean(&out, r_fov - 6.0, r_fov - 1.5);
    let centre = annulus_mean(&out, 0.0, 20.0);
    assert!(rim > centre + 100.0, "rim {rim} HU, centre {centre} HU");
    assert!(rim > 100.0, "rim {rim} HU is not bright");
    // outside the scan FOV: air
    assert!((annulus_mean(&out, r_fov + 2.0, r_fov + 10.0) + 1000.0).abs() < 1e-3);
    assert!(out.data.iter().all(|v| v.is_finite()));
}
