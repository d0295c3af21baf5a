//! ct.sparse_view: k = 1 is the pipeline; fewer views → more streak error.

use artefact_core::{metrics, Image, Modality, Unit};
use artefact_ct::pipeline::{simulate, ScanSettings};
use artefact_ct::sparse_view::{apply_with, SparseViewParams};
use ndarray::Array2;

fn phantom(n: usize, pixel: f64) -> Image {
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = ((j as f64 - c) * pixel, (i as f64 - c) * pixel);
        if (x - 30.0).hypot(y + 10.0) < 8.0 {
            1200.0 // bone-like insert: streak source
        } else if x.hypot(y) <= 80.0 {
            40.0
        } else {
            -1000.0
        }
    });
    Image::new(data, [pixel, pixel], Modality::Ct, Unit::Hu).unwrap()
}

#[test]
fn keep_every_one_is_identity_and_streaks_grow_with_k() {
    let img = phantom(96, 2.0);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    let one = apply_with(
        &SparseViewParams {
            keep_every: 1,
            scan: Default::default(),
        },
        &img,
        &scan,
    )
    .unwrap();
    assert_eq!(one.data, clean.data);
    let mut prev = 0.0;
    for k in [2u32, 6, 16] {
        let out = apply_with(
            &SparseViewParams {
                keep_every: k,
                scan: Default::default(),
            },
            &img,
            &scan,
        )
        .unwrap();
        let e = metrics::nrmse(clean.data.view(), out.data.view()).unwrap();
        assert!(e > prev, "k={k}: nrmse {e} not above {prev}");
        prev = e;
    }
    assert!(apply_with(
        &SparseViewParams {
            scan: artefact_ct::pipeline::ScanSettings::default(),
            keep_every: 100_000
        },
        &img,
        &scan
    )
    .is_err());
}
