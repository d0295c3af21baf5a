//! Writers checked by independent readers: NIfTI by the `nifti` crate (nifti-rs) and by
//! byte-level header checks, PNG by the `image` decoder. Our own reader round-trips too.

#![allow(clippy::needless_range_loop)]

use artefact_core::{Modality, Unit, Volume};
use artefact_io::{load_volume, write_nifti, write_png, write_png16};
use ndarray::{Array2, Array3};
use nifti::volume::RandomAccessNiftiVolume;
use nifti::{NiftiObject, ReaderOptions};

/// A 4×5×6 volume (slices, rows, cols) with an oblique, left-handed affine.
fn oblique_volume() -> Volume {
    let d = Array3::from_shape_fn((4, 5, 6), |(k, j, i)| {
        (1000 * k + 100 * j + i) as f32 * 0.5 - 300.0
    });
    let (s, c) = (0.25f64.sin(), 0.25f64.cos());
    let sp = [3.0, 2.0, 1.5]; // array-axis order: slice, row, col
    let affine = [
        [-c * sp[2], s * sp[1], 0.0, 12.5],
        [s * sp[2], c * sp[1], 0.0, -40.0],
        [0.0, 0.0, sp[0], 7.25],
        [0.0, 0.0, 0.0, 1.0],
    ];
    Volume::with_affine(d, sp, affine, Modality::Ct, Unit::Hu).unwrap()
}

fn check_with_nifti_rs(path: &std::path::Path, v: &Volume) {
    let obj = ReaderOptions::new()
        .read_file(path)
        .expect("nifti-rs reads our file");
    let h = obj.header();
    assert_eq!(&h.magic, b"n+1\0");
    assert_eq!(h.dim[..4], [3, 6, 5, 4]);
    assert_eq!(h.datatype, 16);
    assert_eq!(h.pixdim[1..4], [1.5, 2.0, 3.0]);
    assert_eq!(h.vox_offset, 352.0);
    assert_eq!(h.sform_code, 1);
    assert_eq!(h.qform_code, 1);
    assert_eq!(h.xyzt_units & 7, 2);
    for (row, srow) in [h.srow_x, h.srow_y, h.srow_z].iter().enumerate() {
        for c in 0..4 {
            assert!(
                (srow[c] as f64 - v.affine[row][c]).abs() < 1e-5,
                "srow {row} {c}"
            );
        }
    }
    // left-handed affine: qfac = −1 (the qform itself is checked in qform_written_matches_the_affine)
    assert_eq!(h.pixdim[0], -1.0);
    let vol = obj.volume();
    for (k, j, i) in [(0usize, 0usize, 0usize), (3, 4, 5), (2, 1, 3)] {
        let got = vol.get_f32(&[i as u16, j as u16, k as u16]).unwrap();
        assert_eq!(got, v.data[[k, j, i]]);
    }
}

#[test]
fn nifti_written_is_read_by_nifti_rs_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let v = oblique_volume();
    for name in ["out.nii", "out.nii.gz"] {
        let p = dir.path().join(name);
        write_nifti(&p, &v).unwrap();
        check_with_nifti_rs(&p, &v);
        let back = load_volume(&p).unwrap();
        assert_eq!(back.volume.data, v.data);
        assert_eq!(back.volume.spacing, v.spacing);
        for r in 0..4 {
            for c in 0..4 {
                assert!((back.volume.affine[r][c] - v.affine[r][c]).abs() < 1e-5);
            }
        }
    }
    // gzip really is gzip; plain really is plain
    let gz = std::fs::read(dir.path().join("out.nii.gz")).unwrap();
    assert_eq!(gz[..2], [0x1f, 0x8b]);
    let raw = std::fs::read(dir.path().join("out.nii")).unwrap();
    assert_eq!(raw.len(), 352 + 4 * 5 * 6 * 4);
    assert_eq!(i32::from_le_bytes(raw[0..4].try_into().unwrap()), 348);
    // first voxel at byte 352, little-endian float32
    let first = f32::from_le_bytes(raw[352..356].try_into().unwrap());
    assert_eq!(first, -300.0);
    // no temporary file is left behind
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn qform_written_matches_the_affine() {
    // read the qform back with only the qform (sform_code set to 0 in the bytes)
    let dir = tempfile::tempdir().unwrap();
    let v = oblique_volume();
    let p = dir.path().join("q.nii");
    write_nifti(&p, &v).unwrap();
    let mut b = std::fs::read(&p).unwrap();
    b[254..256].copy_from_slice(&0i16.to_le_bytes());
    std::fs::write(&p, &b).unwrap();
    let back = load_volume(&p).unwrap();
    for r in 0..3 {
        for c in 0..4 {
            assert!(
                (back.volume.affine[r][c] - v.affine[r][c]).abs() < 1e-4,
                "{:?} vs {:?}",
                back.volume.affine,
                v.affine
            );
        }
    }
}

#[test]
fn mni_nifti_rewritten_keeps_affine_and_values() {
    let src = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/nifti/anatomical.nii"
    ));
    let l = load_volume(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("anat.nii.gz");
    write_nifti(&p, &l.volume).unwrap();
    let back = load_volume(&p).unwrap();
    assert_eq!(back.volume.data, l.volume.data);
    assert_eq!(back.volume.affine, l.volume.affine);
}

#[test]
fn png_8_and_16_bit_decoded_by_image() {
    let dir = tempfile::tempdir().unwrap();
    let a8 = Array2::from_shape_fn((3, 5), |(r, c)| (r * 50 + c * 7) as u8);
    let p8 = dir.path().join("a.png");
    write_png(&p8, &a8).unwrap();
    let img = image::open(&p8).unwrap();
    assert_eq!(img.color(), image::ColorType::L8);
    let g = img.to_luma8();
    assert_eq!((g.width(), g.height()), (5, 3));
    assert_eq!(g.get_pixel(4, 2).0[0], 2 * 50 + 4 * 7);
    let a16 = Array2::from_shape_fn((4, 2), |(r, c)| (r * 20000 + c * 301) as u16);
    let p16 = dir.path().join("b.png");
    write_png16(&p16, &a16).unwrap();
    let img = image::open(&p16).unwrap();
    assert_eq!(img.color(), image::ColorType::L16);
    let g = img.to_luma16();
    assert_eq!(g.get_pixel(1, 3).0[0], 3 * 20000 + 301);
    // and our reader gives the same numbers
    let l = load_volume(&p16).unwrap();
    assert_eq!(l.volume.data[[0, 3, 1]], (3 * 20000 + 301) as f32);
    assert!(write_png(&dir.path().join("e.png"), &Array2::zeros((0, 3))).is_err());
}
