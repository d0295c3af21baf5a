//! ct.limited_angle: 0° missing is the complete short scan; a larger wedge → larger error.

use artefact_core::{metrics, Image, Modality, Unit};
use artefact_ct::limited_angle::{apply_with, short_scan_settings, LimitedAngleParams};
use artefact_ct::pipeline::{simulate, ScanSettings};
use ndarray::Array2;

fn phantom(n: usize, pixel: f64) -> Image {
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = ((j as f64 - c) * pixel, (i as f64 - c) * pixel);
        if (x / 60.0).powi(2) + (y / 20.0).powi(2) < 1.0 {
            300.0
        } else if x.hypot(y) <= 80.0 {
            40.0
        } else {
            -1000.0
        }
    });
    Image::new(data, [pixel, pixel], Modality::Ct, Unit::Hu).unwrap()
}

#[test]
fn zero_wedge_is_the_short_scan_and_error_grows_with_the_wedge() {
    let img = phantom(96, 2.0);
    for scan in [ScanSettings::default(), ScanSettings::parallel()] {
        let short = short_scan_settings(&scan);
        let clean = simulate(&img, &short, |_, _| Ok(())).unwrap();
        let zero = LimitedAngleParams {
            scan: artefact_ct::pipeline::ScanSettings::default(),
            missing_deg: 0.0,
            start_deg: 0.0,
        };
        assert_eq!(apply_with(&zero, &img, &scan).unwrap().data, clean.data);
        let mut prev = 0.0;
        for w in [20.0, 60.0, 110.0] {
            let p = LimitedAngleParams {
                scan: artefact_ct::pipeline::ScanSettings::default(),
                missing_deg: w,
                start_deg: 40.0,
            };
            let out = apply_with(&p, &img, &scan).unwrap();
            let e = metrics::nrmse(clean.data.view(), out.data.view()).unwrap();
            assert!(e > prev, "wedge {w}°: nrmse {e} not above {prev}");
            prev = e;
        }
    }
    let bad = LimitedAngleParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        missing_deg: 400.0,
        start_deg: 0.0,
    };
    assert!(apply_with(&bad, &img, &ScanSettings::default()).is_err());
}
