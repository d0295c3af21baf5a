//! mri.undersampling / mri.noise / mri.gibbs on the real fixtures: the middle axial slice of
//! the MNI152 T1 template (NIfTI) and MR_small.dcm. Outputs must be finite, keep the geometry,
//! and degrade monotonically with severity (SSIM mild > SSIM severe).

mod sampling_common;

use artefact_core::metrics::ssim;
use artefact_core::{Image, Operator};
use artefact_mri::gibbs::{Apodization, Gibbs, GibbsParams};
use artefact_mri::noise::{Noise, NoiseParams};
use artefact_mri::undersampling::{MaskKind, Undersampling, UndersamplingParams};
use artefact_mri::PhaseEncode;
use sampling_common::data_dir;

fn slices() -> Vec<(&'static str, Image)> {
    let mni = artefact_io::load_volume(&data_dir().join("nifti/mni152_t1_1mm.nii.gz"))
        .expect("load MNI")
        .volume;
    let mid = mni.len_of(0) / 2;
    let mr = artefact_io::load_volume(&data_dir().join("dicom/MR_small.dcm"))
        .expect("load MR_small")
        .volume;
    vec![
        ("mni", mni.slice(0, mid).unwrap()),
        ("mr_small", mr.slice(0, 0).unwrap()),
    ]
}

fn score(clean: &Image, out: &Image) -> f64 {
    assert_eq!(out.shape(), clean.shape());
    assert_eq!(out.spacing, clean.spacing);
    assert!(out.data.iter().all(|v| v.is_finite() && *v >= 0.0));
    let (lo, hi) = clean.finite_range().unwrap();
    ssim(clean.data.view(), out.data.view(), (hi - lo) as f64).unwrap()
}

fn us(mask: MaskKind, acc: f64, cf: f64, coils: usize) -> UndersamplingParams {
    UndersamplingParams {
        mask,
        acceleration: acc,
        center_fraction: cf,
        phase_encode: PhaseEncode::Cols,
        seed: 11,
        offset: None,
        coils,
        vd_slope: 2.0,
        achieved_acceleration: None,
    }
}

#[test]
fn undersampling_on_real_slices() {
    for (name, im) in slices() {
        for (mild, severe) in [
            (
                us(MaskKind::Random, 4.0, 0.08, 1),
                us(MaskKind::Random, 8.0, 0.04, 1),
            ),
            (
                us(MaskKind::EquispacedFraction, 4.0, 0.08, 1),
                us(MaskKind::EquispacedFraction, 8.0, 0.04, 1),
            ),
            (
                us(MaskKind::Poisson, 3.0, 0.08, 1),
                us(MaskKind::Poisson, 10.0, 0.04, 1),
            ),
            (
                us(MaskKind::Radial, 2.0, 0.0, 1),
                us(MaskKind::Radial, 10.0, 0.0, 1),
            ),
            (
                us(MaskKind::Random, 4.0, 0.08, 4),
                us(MaskKind::Random, 8.0, 0.04, 4),
            ),
        ] {
            let a = score(&im, &Undersampling::apply(&mild, &im).unwrap());
            let b = score(&im, &Undersampling::apply(&severe, &im).unwrap());
            assert!(
                a > b && a < 1.0,
                "{name} {:?}: SSIM mild {a} vs severe {b}",
                mild.mask
            );
        }
        // rows as phase encode works too and differs from cols
        let mut p = us(MaskKind::Equispaced, 4.0, 0.08, 1);
        p.offset = Some(1);
        let c = Undersampling::apply(&p, &im).unwrap();
        p.phase_encode = PhaseEncode::Rows;
        let r = Undersampling::apply(&p, &im).unwrap();
        assert_ne!(c.data, r.data, "{name}");
    }
}

#[test]
fn noise_on_real_slices() {
    for (name, im) in slices() {
        let p = |snr, coils| NoiseParams {
            snr,
            seed: 5,
            coils,
        };
        for coils in [1usize, 8] {
            let a = score(&im, &Noise::apply(&p(30.0, coils), &im).unwrap());
            let b = score(&im, &Noise::apply(&p(5.0, coils), &im).unwrap());
            assert!(a > b && a < 1.0, "{name} coils {coils}: SSIM {a} vs {b}");
        }
    }
}

#[test]
fn gibbs_on_real_slices() {
    for (name, im) in slices() {
        let g = |f, window| GibbsParams {
            fraction_rows: f,
            fraction_cols: f,
            window,
            tukey_alpha: 0.5,
        };
        let a = score(&im, &Gibbs::apply(&g(0.6, Apodization::None), &im).unwrap());
        let b = score(
            &im,
            &Gibbs::apply(&g(0.25, Apodization::None), &im).unwrap(),
        );
        assert!(a > b && a < 1.0, "{name}: SSIM {a} vs {b}");
        let id = Gibbs::apply(&g(1.0, Apodization::None), &im).unwrap();
        assert_eq!(id.data, im.data);
    }
}
