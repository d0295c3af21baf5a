//! Loader tests on the real fixtures in tests/data (see tests/data/README.md).
//!
//! Reference numbers come from pydicom 3.0.2 / nibabel 5.4.2 on the same files:
//! ```python
//! import pydicom, nibabel as nib, numpy as np
//! from pydicom.pixels import apply_modality_lut
//! def hu(f):
//!     ds = pydicom.dcmread(f); return apply_modality_lut(ds.pixel_array, ds).astype(float)
//! v = hu('dicom/CT_small.dcm'); v.min(), v.max(), v.mean()        # -896, 1167, -119.073853
//! v[0:40, 0:32].mean(), v[80:112, 8:120].mean()                  # -773.93671875, 17.665736607142858
//! w = hu('dicom/CT_head_512.dcm'); w.min(), w.max(), w.mean()    # -3995, 1812, -1032.322845
//! w[40:64, 200:224].mean(), w[224:288, 224:288].mean()           # -988.4791666666666, 32.0
//! m = hu('dicom/MR_small.dcm'); m.min(), m.max(), m.sum()        # 127, 2145, 2125338
//! a = pydicom.dcmread('dicom/MR_abdomen_484.dcm').pixel_array    # 0..1123, mean 119.670275
//! a[200:260, 200:260].mean()                                     # 300.84027777777777
//! f = pydicom.dcmread('dicom/MR_multiframe_64x64x10.dcm').pixel_array  # (10,64,64) 0..467 mean 109.699121
//! f[3, 30:34, 30:34]  # [[177,188,167,171],[127,163,167,162],[50,137,159,160],[52,76,147,151]]
//! d = np.asanyarray(nib.load('nifti/mni152_t1_1mm.nii.gz').dataobj)  # (197,233,189) uint8
//! d[98,116,94], d[60,120,100], d.mean()                          # 198, 226, 38.438930
//! d = np.asanyarray(nib.load('nifti/anatomical.nii').dataobj)    # (33,41,25) >i2
//! d[16,20,12], d[5,30,20], d.sum()                               # 11881, 9110, 284166082
//! d = np.asanyarray(nib.load('nifti/example4d.nii.gz').dataobj)  # (128,96,24,2)
//! d[64,48,12,0], d[64,48,12,1], d[...,0].sum(), d[...,1].sum()   # 265, 266, 50994397, 50990959
//! d = np.asanyarray(nib.load('nifti/example_nifti2.nii.gz').dataobj)  # (32,20,12,2)
//! d[16,10,6,0], d[16,10,6,1], d[...,0].sum(), d[...,1].sum()     # 265, 266, 3461748, 3465054
//! nib.load('nifti/example4d.nii.gz').affine  # [[-2,0,0,117.8551],[0,1.973711,-0.3555282,-35.72294],
//!                                            #  [0,0.3232076,2.171082,-7.248798],[0,0,0,1]]
//! ```
//! pydicom itself cannot decode JPEG-lossy.dcm ("misplaced marker segment"); it decodes the
//! same code stream in JPGExtended.dcm.

#![allow(clippy::needless_range_loop)]

use artefact_core::{Modality, Unit};
use artefact_io::{
    load_all, load_volume, load_volume_with, Format, IoErrorKind, LoadOptions, Loaded,
};
use ndarray::s;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

fn load(rel: &str) -> Loaded {
    load_volume(&data(rel)).unwrap_or_else(|e| panic!("{e}"))
}

fn mean(it: impl Iterator<Item = f32>) -> f64 {
    let (s, n) = it.fold((0.0f64, 0usize), |(s, n), v| (s + v as f64, n + 1));
    s / n as f64
}

#[test]
fn mr_small_reference_values() {
    let l = load("dicom/MR_small.dcm");
    assert_eq!(l.volume.shape(), (1, 64, 64));
    assert_eq!(l.meta.format, Format::Dicom);
    assert_eq!(l.meta.modality, Modality::Mr);
    let (lo, hi) = l.volume.finite_range().unwrap();
    assert_eq!((lo, hi), (127.0, 2145.0));
    let sum: f64 = l.volume.data.iter().map(|&v| v as f64).sum();
    assert_eq!(sum, 2125338.0);
    assert_eq!(l.volume.spacing, [0.8, 0.3125, 0.3125]);
    let ts = l.meta.transfer_syntax.as_ref().unwrap();
    assert_eq!(ts.uid, "1.2.840.10008.1.2.1");
    assert_eq!(ts.name, "Explicit VR Little Endian");
    // affine: LPS position (-83.9063, -91.2, 6.6406) → RAS (83.9063, 91.2, 6.6406);
    // rows along +x (LPS) → −x (RAS)
    let a = l.volume.affine;
    assert!((a[0][3] - 83.9063).abs() < 1e-9 && (a[1][3] - 91.2).abs() < 1e-9);
    assert!((a[2][3] - 6.6406).abs() < 1e-9);
    assert!((a[0][0] + 0.3125).abs() < 1e-12 && (a[1][1] + 0.3125).abs() < 1e-12);
}

#[test]
fn mr_small_lossless_transfer_syntaxes_give_identical_pixels() {
    let reference = load("dicom/MR_small.dcm").volume.data;
    for (file, uid) in [
        ("dicom/MR_small_RLE.dcm", "1.2.840.10008.1.2.5"),
        ("dicom/MR_small_bigendian.dcm", "1.2.840.10008.1.2.2"),
        ("dicom/MR_small_implicit.dcm", "1.2.840.10008.1.2"),
        ("dicom/MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90"),
    ] {
        let l = load(file);
        assert_eq!(l.meta.transfer_syntax.as_ref().unwrap().uid, uid, "{file}");
        assert_eq!(
            l.volume.data, reference,
            "{file}: pixels differ from MR_small.dcm"
        );
    }
}

#[test]
fn mr_small_jpeg_ls_identical_to_uncompressed() {
    // decoded by the pure-Rust artefact-jpegls crate (no CharLS, no system package)
    let reference = load("dicom/MR_small.dcm").volume.data;
    let l = load("dicom/MR_small_jpeg_ls_lossless.dcm");
    assert_eq!(
        l.meta.transfer_syntax.as_ref().unwrap().uid,
        "1.2.840.10008.1.2.4.80"
    );
    assert_eq!(l.volume.data, reference);
}

#[test]
fn ct_small_in_hounsfield_units() {
    let l = load("dicom/CT_small.dcm");
    let v = &l.volume;
    assert_eq!(v.shape(), (1, 128, 128));
    assert_eq!(v.modality, Modality::Ct);
    assert_eq!(v.unit, Unit::Hu);
    assert_eq!(v.finite_range().unwrap(), (-896.0, 1167.0));
    let m = mean(v.data.iter().copied());
    assert!((m - -119.073853).abs() < 1e-5, "{m}");
    let img = v.data.index_axis(ndarray::Axis(0), 0);
    let lung = mean(img.slice(s![0..40, 0..32]).iter().copied());
    let soft = mean(img.slice(s![80..112, 8..120]).iter().copied());
    assert!((lung - -773.93671875).abs() < 1e-9, "{lung}");
    assert!((soft - 17.665736607142858).abs() < 1e-9, "{soft}");
    assert!((0.0..80.0).contains(&soft));
    let r = l.meta.rescale.unwrap();
    assert_eq!((r.slope, r.intercept), (1.0, -1024.0));
    assert_eq!(v.spacing[1..], [0.661468, 0.661468]);
}

#[test]
fn ct_head_512_in_hounsfield_units() {
    let l = load("dicom/CT_head_512.dcm");
    let v = &l.volume;
    assert_eq!(v.shape(), (1, 512, 512));
    assert_eq!(v.finite_range().unwrap(), (-3995.0, 1812.0));
    let m = mean(v.data.iter().copied());
    assert!((m - -1032.322845).abs() < 1e-5, "{m}");
    let img = v.data.index_axis(ndarray::Axis(0), 0);
    let air = mean(img.slice(s![40..64, 200..224]).iter().copied());
    let brain = mean(img.slice(s![224..288, 224..288]).iter().copied());
    assert!((air - -988.4791666666666).abs() < 1e-9, "{air}");
    assert!((-1050.0..-950.0).contains(&air));
    assert_eq!(brain, 32.0);
    assert_eq!(l.meta.bits_stored, Some(14));
}

#[test]
fn multiframe_mr_gives_ten_slices() {
    let l = load("dicom/MR_multiframe_64x64x10.dcm");
    assert_eq!(l.volume.shape(), (10, 64, 64));
    assert_eq!(l.meta.frames, 10);
    assert_eq!(l.volume.finite_range().unwrap(), (0.0, 467.0));
    let m = mean(l.volume.data.iter().copied());
    assert!((m - 109.699121).abs() < 1e-5, "{m}");
    let patch = l.volume.data.slice(s![3, 30..34, 30..34]).to_owned();
    let want = [
        [177., 188., 167., 171.],
        [127., 163., 167., 162.],
        [50., 137., 159., 160.],
        [52., 76., 147., 151.],
    ];
    for r in 0..4 {
        for c in 0..4 {
            assert_eq!(patch[[r, c]], want[r][c]);
        }
    }
    // the file has SpacingBetweenSlices 1.2 but no PixelSpacing
    assert_eq!(l.volume.spacing[0], 1.2);
    assert!(l.meta.spacing_assumed);
}

#[test]
fn mr_abdomen_484() {
    let l = load("dicom/MR_abdomen_484.dcm");
    assert_eq!(l.volume.shape(), (1, 484, 484));
    assert_eq!(l.volume.finite_range().unwrap(), (0.0, 1123.0));
    let m = mean(l.volume.data.iter().copied());
    assert!((m - 119.670275).abs() < 1e-5, "{m}");
    let c = mean(
        l.volume
            .data
            .slice(s![0, 200..260, 200..260])
            .iter()
            .copied(),
    );
    assert!((c - 300.84027777777777).abs() < 1e-9);
    assert_eq!(l.meta.body_part.as_deref(), Some("ABDOMEN"));
    assert!((l.volume.spacing[1] - 0.72314049586777).abs() < 1e-12);
}

#[test]
fn seg_object_is_refused() {
    let e = load_volume(&data("dicom/liver_1frame.dcm")).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e.kind, IoErrorKind::NotAnImage(_)), "{msg}");
    assert!(
        msg.contains("Segmentation") && msg.contains("liver_1frame.dcm"),
        "{msg}"
    );
}

#[test]
fn truncated_dicom_is_a_clear_error() {
    let e = load_volume(&data("bad/MR_truncated.dcm")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("MR_truncated.dcm"), "{msg}");
    assert!(matches!(e.kind, IoErrorKind::Truncated(_)), "{msg}");
}

#[test]
fn un_coded_header_is_read_as_text() {
    // gdcmconv wrote every element of this RT Dose as UN: its SOP class is still recognised
    // (before, dicom-rs's UN bytes hid it, and Pixel Spacing `10.0…` was read as the
    // character codes 49, 48 mm)
    let e = load_volume(&data("dicom-codecs/rtdose_rle_1frame.dcm")).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e.kind, IoErrorKind::NotAnImage(_)), "{msg}");
    assert!(msg.contains("RT Dose"), "{msg}");
}

#[test]
fn jpeg_lossy_12_bit_decoded() {
    // 12-bit JPEG Extended (Process 2 & 4), NM, 1024×256: artefact-io's own decoder (the
    // same code stream as pydicom's JPGExtended.dcm, whose pixels span 0…264; see
    // crates/io/src/codec/tests.rs for the comparison with pydicom)
    let l = load("dicom/JPEG-lossy.dcm");
    assert_eq!(l.volume.shape(), (1, 1024, 256));
    assert_eq!(l.volume.finite_range().unwrap(), (0.0, 264.0));
}

#[test]
fn mni_nifti() {
    let l = load("nifti/mni152_t1_1mm.nii.gz");
    assert_eq!(l.meta.format, Format::Nifti1);
    assert_eq!(l.volume.shape(), (189, 233, 197));
    assert_eq!(l.volume.spacing, [1.0, 1.0, 1.0]);
    assert_eq!(l.volume.modality, Modality::Mr);
    // nibabel index [i, j, k] = array [k, j, i]
    assert_eq!(l.volume.data[[94, 116, 98]], 198.0);
    assert_eq!(l.volume.data[[100, 120, 60]], 226.0);
    let m = mean(l.volume.data.iter().copied());
    assert!((m - 38.438930).abs() < 1e-5, "{m}");
    // sform (code 2) preferred over qform (code 0)
    assert_eq!(l.volume.affine[0], [1.0, 0.0, 0.0, -98.0]);
    assert_eq!(l.volume.affine[1], [0.0, 1.0, 0.0, -134.0]);
    assert_eq!(l.volume.affine[2], [0.0, 0.0, 1.0, -72.0]);
}

#[test]
fn anatomical_big_endian_int16() {
    let l = load("nifti/anatomical.nii");
    assert_eq!(l.volume.shape(), (25, 41, 33));
    assert_eq!(l.volume.spacing, [2.0, 2.0, 2.0]);
    assert_eq!(l.meta.datatype.as_deref(), Some("int16"));
    assert_eq!(l.volume.data[[12, 20, 16]], 11881.0);
    assert_eq!(l.volume.data[[20, 30, 5]], 9110.0);
    let sum: f64 = l.volume.data.iter().map(|&v| v as f64).sum();
    assert_eq!(sum, 284166082.0);
    assert_eq!(l.volume.finite_range().unwrap(), (-610.0, 30393.0));
    assert_eq!(l.volume.affine[0], [-2.0, 0.0, 0.0, 32.0]);
}

#[test]
fn example4d_each_volume() {
    let path = data("nifti/example4d.nii.gz");
    let want = [(265.0, 50994397.0), (266.0, 50990959.0)];
    for (t, (voxel, sum)) in want.into_iter().enumerate() {
        let opts = LoadOptions {
            volume_index: t,
            ..Default::default()
        };
        let l = load_volume_with(&path, &opts).unwrap();
        assert_eq!(l.volume.shape(), (24, 96, 128));
        assert_eq!(l.meta.volumes, 2);
        assert_eq!(l.meta.volume_index, t);
        assert_eq!(l.volume.data[[12, 48, 64]], voxel);
        let s: f64 = l.volume.data.iter().map(|&v| v as f64).sum();
        assert_eq!(s, sum);
        assert!((l.volume.spacing[0] - 2.199999).abs() < 1e-5);
        let a = l.volume.affine;
        assert!((a[1][2] - -0.3555282).abs() < 1e-5 && (a[2][1] - 0.3232076).abs() < 1e-5);
        assert!((a[0][3] - 117.8551).abs() < 1e-3 && (a[2][3] - -7.248798).abs() < 1e-4);
    }
    let bad = LoadOptions {
        volume_index: 2,
        ..Default::default()
    };
    let e = load_volume_with(&path, &bad).unwrap_err();
    assert!(e.to_string().contains("2 volume"), "{e}");
}

#[test]
fn nifti2_file() {
    let path = data("nifti/example_nifti2.nii.gz");
    let l = load_volume(&path).unwrap();
    assert_eq!(l.meta.format, Format::Nifti2);
    assert_eq!(l.volume.shape(), (12, 20, 32));
    assert_eq!(l.volume.data[[6, 10, 16]], 265.0);
    let s: f64 = l.volume.data.iter().map(|&v| v as f64).sum();
    assert_eq!(s, 3461748.0);
    let l1 = load_volume_with(
        &path,
        &LoadOptions {
            volume_index: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(l1.volume.data[[6, 10, 16]], 266.0);
    let s: f64 = l1.volume.data.iter().map(|&v| v as f64).sum();
    assert_eq!(s, 3465054.0);
}

#[test]
fn load_all_lists_every_fixture() {
    let entries = load_all(&data(""), &LoadOptions::default());
    let names: Vec<String> = entries
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // 12 DICOM + 1 bad + 10 colour DICOM + 6 codec DICOM + 4 NIfTI + 7 photographs + 4 JPEG
    // TIFFs and their 4 reference PNGs + 2 JPEG layouts; README.md is skipped
    assert_eq!(entries.len(), 50, "{names:?}");
    let failed: Vec<&str> = entries
        .iter()
        .zip(&names)
        .filter(|((_, r), _)| r.is_err())
        .map(|(_, n)| n.as_str())
        .collect();
    let expected_failures = [
        "MR_truncated.dcm",
        "liver_1frame.dcm",
        "rtdose_rle_1frame.dcm",
    ];
    assert!(
        !failed.contains(&"us_bmode_pelvis_aloka_palette16.dcm"),
        "palette ultrasound reads as luminance"
    );
    for f in &expected_failures {
        assert!(failed.contains(f), "{f} should fail: {failed:?}");
    }
    for f in &failed {
        assert!(
            expected_failures.contains(f)
                // colour photographs: the grey loader refuses them (read_rgb reads them)
                || f.starts_with("fundus_")
                || f.starts_with("he_")
                || f.starts_with("nei_fundus_")
                // colour DICOM of no grey modality (the ultrasound one reads as luminance)
                || f.starts_with("SC_")
                || f.starts_with("examples_palette"),
            "unexpected failure {f}"
        );
    }
}

/// Over a whole folder against pydicom: every grey image object pydicom decodes is read with
/// the same values. References from `tools/pydicom_grey_reference.py DIR > grey.json`
/// (pydicom 3.0.2, numpy 2.4, pylibjpeg 2.1 with -libjpeg 2.5 / -openjpeg 2.6 / -rle 2.2):
/// per file the Modality-LUT values of all frames, their shape, minimum, maximum and sum.
///
/// ```text
/// ARTEFACT_GREY_REF=grey.json ARTEFACT_DICOM_DIR=DIR \
///     cargo test -p artefact-io --test real_files -- --ignored grey_corpus
/// ```
///
/// Lossless syntaxes must agree to float32 rounding; lossy ones (JPEG baseline/extended,
/// JPEG 2000, JPEG-LS near-lossless), where decoders may differ by a code, within 1 % of the
/// range in the mean. MONOCHROME1 is compared after artefact's inversion `v' = lo + hi − v`
/// over the storable range (Bits Stored through the Modality LUT). Non-image objects must be refused as
/// such; ultrasound cropped to its scan field is compared in its range only.
#[test]
#[ignore = "needs ARTEFACT_GREY_REF and ARTEFACT_DICOM_DIR (pydicom's corpus)"]
fn grey_corpus_matches_pydicom() {
    let (Ok(reference), Ok(dir)) = (
        std::env::var("ARTEFACT_GREY_REF"),
        std::env::var("ARTEFACT_DICOM_DIR"),
    ) else {
        panic!("set ARTEFACT_GREY_REF and ARTEFACT_DICOM_DIR");
    };
    let refs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference).unwrap()).unwrap();
    let lossy = [
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.203",
    ];
    let opts = LoadOptions {
        allow_burned_in: true,
        keep_overlay: true,
        ..Default::default()
    };
    let (mut equal, mut refused, mut failures) = (0, 0, Vec::new());
    for (name, v) in refs.as_object().unwrap() {
        let path = PathBuf::from(&dir).join(name);
        let f = |k: &str| v[k].as_f64().unwrap();
        let l = match load_volume_with(&path, &opts) {
            Ok(l) => l,
            Err(e) if matches!(e.kind, IoErrorKind::NotAnImage(_)) => {
                refused += 1;
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        let shape: Vec<usize> = v["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let (lo, hi) = l.volume.finite_range().unwrap_or((f32::NAN, f32::NAN));
        let (lo, hi) = (lo as f64, hi as f64);
        let n = l.volume.data.len() as f64;
        let sum: f64 = l.volume.data.iter().map(|&x| x as f64).sum();
        let (rmin, rmax, rsum) = (f("min"), f("max"), f("sum"));
        let cropped = l.meta.field_detected.is_some() || l.meta.modality == Modality::Us;
        let (d, r, c) = l.volume.shape();
        if !cropped && [d, r, c] != shape[..] {
            failures.push(format!("{name}: shape {d}×{r}×{c} vs {shape:?}"));
            continue;
        }
        let range = (rmax - rmin).abs().max(1.0);
        let ts = v["ts"].as_str().unwrap_or("");
        // MONOCHROME1 is inverted over the storable range: v' = lo + hi − v
        let mirror = (v["mono1"].as_bool().unwrap_or(false) && !cropped)
            .then(|| f("store_lo") + f("store_hi"));
        let (rmin, rmax, want_sum) = match mirror {
            Some(m) => (m - rmax, m - rmin, n * m - rsum),
            None => (rmin, rmax, rsum),
        };
        let ok = if cropped {
            // a crop of the frame: its values lie within the frame's
            lo >= rmin - 1e-3 * range && hi <= rmax + 1e-3 * range
        } else if lossy.contains(&ts) {
            ((sum - want_sum) / n).abs() <= 0.01 * range
        } else {
            (lo - rmin).abs() <= 1e-4 * range
                && (hi - rmax).abs() <= 1e-4 * range
                && ((sum - want_sum) / n).abs() <= 1e-5 * range
        };
        if ok {
            equal += 1;
        } else {
            failures.push(format!(
                "{name} ({ts}): min/max/mean {lo}/{hi}/{} vs pydicom {rmin}/{rmax}/{}",
                sum / n,
                want_sum / n
            ));
        }
    }
    eprintln!(
        "{equal} equal, {refused} non-image objects refused, {} differ",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
