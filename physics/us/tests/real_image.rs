//! The simulator on a real grey image: an MNI152 T1 slice used as a tissue map.

use artefact_core::Operator;
use artefact_us::shadowing::ShadowingParams;
use artefact_us::*;
use std::path::Path;

#[test]
fn mni_slice_as_tissue_map() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/nifti/mni152_t1_1mm.nii.gz");
    let loaded = artefact_io::load_volume(&path).expect("load MNI152");
    let v = &loaded.volume;
    let mid = v.len_of(0) / 2;
    let slice = v.slice(0, mid).unwrap();
    let echo = echogenicity_from_grey_default(&slice).unwrap();
    assert!(echo.data.iter().all(|x| (0.0..=1.0).contains(x)));
    let fg = echo.data.iter().filter(|&&x| x > 0.2).count() as f64 / echo.data.len() as f64;
    assert!(fg > 0.2, "the head occupies part of the slice ({fg})");
    for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
        let b = simulate_bmode(&echo, &probe, &Settings::default(), 1).unwrap();
        assert_eq!(b.shape(), echo.shape());
        assert!(b
            .data
            .iter()
            .all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
        // brightness follows the tissue map: correlation of heavily smoothed images
        let (m1, m2) = (echo.data.mean().unwrap(), b.data.mean().unwrap());
        eprintln!(
            "{:?}: mean echogenicity {m1:.3}, mean B-mode {m2:.3}",
            probe.kind
        );
        if probe.kind == ProbeKind::Linear {
            let small_e =
                artefact_core::resample::resize(&echo, echo.rows() / 8, echo.cols() / 8).unwrap();
            let small_b = artefact_core::resample::resize(&b, b.rows() / 8, b.cols() / 8).unwrap();
            let (a, c) = (&small_e.data, &small_b.data);
            let (ma, mc) = (a.mean().unwrap(), c.mean().unwrap());
            let cov: f32 = a
                .iter()
                .zip(c.iter())
                .map(|(x, y)| (x - ma) * (y - mc))
                .sum();
            let va: f32 = a.iter().map(|x| (x - ma).powi(2)).sum();
            let vc: f32 = c.iter().map(|y| (y - mc).powi(2)).sum();
            let corr = cov / (va * vc).sqrt();
            eprintln!("linear: correlation of 8× downsampled maps {corr:.3}");
            assert!(corr > 0.8, "{corr}");
        }
    }
    let p = ShadowingParams {
        probe: ProbeKind::Convex,
        seed: 1,
        reflectors: vec![],
        image_shadow: Some(artefact_us::shadowing::ImageShadow {
            loss_db: 20.0,
            threshold: 0.8,
            thickness_mm: 1.0,
        }),
    };
    let sh = Shadowing::apply(&p, &echo).unwrap();
    let clean = simulate_bmode(&echo, &Probe::convex(), &Settings::default(), 1).unwrap();
    assert!(sh.data.mean().unwrap() < clean.data.mean().unwrap());
}
