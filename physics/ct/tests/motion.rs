//! ct.motion: zero amplitude is the pipeline; a step pose reconstructs the moved object (sign
//! conventions), larger motion gives larger error.

use artefact_core::{metrics, Image, Modality, Unit};
use artefact_ct::motion::{apply_with, MotionParams};
use artefact_ct::pipeline::{simulate, ScanSettings};
use ndarray::Array2;

fn phantom(n: usize, pixel: f64) -> Image {
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = ((j as f64 - c) * pixel, (c - i as f64) * pixel);
        if (x - 40.0).hypot(y) < 8.0 {
            2000.0
        } else if x.hypot(y) <= 75.0 {
            0.0
        } else {
            -1000.0
        }
    });
    Image::new(data, [pixel, pixel], Modality::Ct, Unit::Hu).unwrap()
}

fn params(t: f64, rot: f64) -> MotionParams {
    MotionParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        pattern: artefact_ct::motion::Pattern::RaisedCosine,
        translation_mm: t,
        direction_deg: 90.0,
        rotation_deg: rot,
        onset: 0.0,
        duration: 0.002,
        cycles: 1.0,
    }
}

/// Centroid (x right, y up, mm) of pixels above 1000 HU.
fn insert_centroid(img: &Image) -> (f64, f64) {
    let (n, _) = img.data.dim();
    let c = (n as f64 - 1.0) / 2.0;
    let (mut sx, mut sy, mut k) = (0.0, 0.0, 0.0);
    for ((i, j), &v) in img.data.indexed_iter() {
        if v > 1000.0 {
            sx += (j as f64 - c) * img.spacing[1];
            sy += (c - i as f64) * img.spacing[0];
            k += 1.0;
        }
    }
    (sx / k, sy / k)
}

#[test]
fn zero_amplitude_is_identity_and_step_poses_move_the_object() {
    let img = phantom(96, 2.0);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    assert_eq!(
        apply_with(&params(0.0, 0.0), &img, &scan).unwrap().data,
        clean.data
    );
    let (x0, y0) = insert_centroid(&clean);
    // a step to +8 mm along +y right at the start: the image shows the object moved up
    let up = apply_with(&params(8.0, 0.0), &img, &scan).unwrap();
    let (x1, y1) = insert_centroid(&up);
    assert!(
        (y1 - y0 - 8.0).abs() < 1.0 && (x1 - x0).abs() < 1.0,
        "({x1},{y1}) vs ({x0},{y0})"
    );
    // a step rotation of +30° (counter-clockwise) about the isocentre
    let rot = apply_with(&params(0.0, 30.0), &img, &scan).unwrap();
    let (x2, y2) = insert_centroid(&rot);
    let ang = y2.atan2(x2).to_degrees() - y0.atan2(x0).to_degrees();
    assert!((ang - 30.0).abs() < 2.0, "rotated by {ang}°");
}

#[test]
fn error_grows_with_amplitude_for_both_patterns() {
    let img = phantom(64, 3.0);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    for pattern in ["raised_cosine", "sinusoid"] {
        let mut prev = 0.0;
        for amp in [1.0, 4.0, 10.0] {
            let p = MotionParams {
                scan: artefact_ct::pipeline::ScanSettings::default(),
                pattern: artefact_ct::motion::Pattern::parse(pattern).unwrap(),
                translation_mm: amp,
                direction_deg: 30.0,
                rotation_deg: amp / 2.0,
                onset: 0.3,
                duration: 0.4,
                cycles: 1.0,
            };
            let out = apply_with(&p, &img, &scan).unwrap();
            let e = metrics::nrmse(clean.data.view(), out.data.view()).unwrap();
            assert!(e > prev, "{pattern} amp {amp}: {e} not above {prev}");
            prev = e;
        }
    }
}
