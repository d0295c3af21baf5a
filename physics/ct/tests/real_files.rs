//! The no-corruption simulate path on the real CT fixtures (CT_small 128², CT_head_512):
//! no NaN, air-like regions keep their HU (≈ −1000 HU on CT_head_512; CT_small's downsized
//! scan has its air at ≈ −850 HU), high SSIM against the input.

use artefact_core::metrics::ssim;
use artefact_core::Image;
use artefact_ct::pipeline::{simulate, ScanSettings};
use std::path::PathBuf;

fn load(name: &str) -> Image {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/dicom")
        .join(name);
    let loaded = artefact_io::load_volume(&p).unwrap();
    loaded.volume.slice(0, 0).unwrap()
}

fn check(name: &str, air_hu: Option<f64>, min_ssim: f64) {
    let img = load(name);
    let out = simulate(&img, &ScanSettings::default(), |_, _| Ok(())).unwrap();
    assert_eq!(out.data.dim(), img.data.dim());
    assert!(out.data.iter().all(|v| v.is_finite()), "{name}: NaN");
    // air: pixels whose 7×7 neighbourhood is air-like (< −700 HU) in the input; padding
    // (< −1024 HU) counts as air (−1000 HU)
    let (mut s, mut s_in, mut n) = (0.0f64, 0.0f64, 0usize);
    let (rows, cols) = img.data.dim();
    for i in 4..rows - 4 {
        for j in 4..cols - 4 {
            let win = img.data.slice(ndarray::s![i - 3..=i + 3, j - 3..=j + 3]);
            if win.iter().all(|&v| v < -700.0) {
                s += out.data[[i, j]] as f64;
                s_in += (if img.data[[i, j]] < -1024.0 {
                    -1000.0
                } else {
                    img.data[[i, j]]
                }) as f64;
                n += 1;
            }
        }
    }
    assert!(n > 100, "{name}: too few air pixels ({n})");
    let (air, air_in) = (s / n as f64, s_in / n as f64);
    assert!(
        (air - air_in).abs() < 25.0,
        "{name}: air {air:.1} HU, input {air_in:.1} HU"
    );
    if let Some(a) = air_hu {
        assert!(
            (air - a).abs() < 30.0,
            "{name}: air {air:.1} HU, expected ≈ {a}"
        );
    }
    // SSIM over a [-1024, 3071] window clipped like a display window
    let clip = |a: &ndarray::Array2<f32>| a.mapv(|v| v.clamp(-1024.0, 3071.0));
    let s = ssim(clip(&img.data).view(), clip(&out.data).view(), 4095.0).unwrap();
    eprintln!("{name}: air {air:.1} HU (input {air_in:.1}), SSIM {s:.4}");
    assert!(s >= min_ssim, "{name}: SSIM {s}");
}

#[test]
fn ct_small_round_trip() {
    check("CT_small.dcm", None, 0.9);
}

#[test]
fn ct_head_512_round_trip() {
    check("CT_head_512.dcm", Some(-1000.0), 0.9);
}
