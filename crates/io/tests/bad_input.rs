//! Malformed and unusual inputs, generated in temporary directories: each must give a clear
//! error naming the file and the reason — never a panic, never a huge allocation.

#![allow(clippy::needless_range_loop)]

use artefact_core::{Modality, Unit, Volume};
use artefact_io::{
    load_all, load_volume, load_volume_with, write_nifti, IoErrorKind, LoadOptions, NonFinitePolicy,
};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use ndarray::Array3;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

fn small_volume() -> Volume {
    let d = Array3::from_shape_fn((3, 4, 5), |(k, j, i)| (100 * k + 10 * j + i) as f32);
    Volume::new(d, [3.0, 2.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

/// A NIfTI-1 file written by artefact-io, as bytes.
fn nifti_bytes(dir: &Path) -> Vec<u8> {
    let p = dir.join("ok.nii");
    write_nifti(&p, &small_volume()).unwrap();
    std::fs::read(p).unwrap()
}

fn put_i16(b: &mut [u8], off: usize, v: i16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn expect_err(path: &Path) -> artefact_io::IoError {
    let e = load_volume(path).expect_err("must fail");
    let msg = e.to_string();
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(msg.contains(&*name), "error does not name the file: {msg}");
    e
}

#[test]
fn nifti_truncated_and_dims_disagreeing_with_size() {
    let dir = tempfile::tempdir().unwrap();
    let good = nifti_bytes(dir.path());
    // cut inside the data
    let p = dir.path().join("cut.nii");
    std::fs::write(&p, &good[..good.len() - 7]).unwrap();
    let e = expect_err(&p);
    assert!(e.to_string().contains("need"), "{e}");
    // cut inside the header
    let p = dir.path().join("cut_header.nii");
    std::fs::write(&p, &good[..200]).unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::Truncated(_)), "{e}");
    // header says more slices than the data holds
    let mut b = good.clone();
    put_i16(&mut b, 46, 4); // dim[3] = 4 instead of 3
    let p = dir.path().join("dims.nii");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(e.to_string().contains("5×4×4×1"), "{e}");
    // gzip cut short
    let gz = dir.path().join("v.nii.gz");
    write_nifti(&gz, &small_volume()).unwrap();
    let z = std::fs::read(&gz).unwrap();
    let p = dir.path().join("cut.nii.gz");
    std::fs::write(&p, &z[..z.len() / 2]).unwrap();
    let e = expect_err(&p);
    assert!(
        matches!(e.kind, IoErrorKind::Truncated(_) | IoErrorKind::Invalid(_)),
        "{e}"
    );
}

#[test]
fn nifti_wrong_magic_and_unknown_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = nifti_bytes(dir.path());
    b[344..348].copy_from_slice(b"xyz\0");
    let p = dir.path().join("magic.nii");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(e.to_string().contains("wrong magic"), "{e}");
    let p = dir.path().join("noise.nii");
    std::fs::write(&p, b"this is not an image at all, just text").unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::UnknownFormat(_)), "{e}");
    let p = dir.path().join("empty.dcm");
    std::fs::write(&p, b"").unwrap();
    expect_err(&p);
    let e = load_volume(&dir.path().join("missing.nii")).unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::Os(_)) && e.to_string().contains("missing.nii"));
}

#[test]
fn nifti_absurd_and_zero_dims_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let good = nifti_bytes(dir.path());
    // 32767³ voxels: refused by the cap, not by an allocation failure
    let mut b = good.clone();
    for a in 1..=3 {
        put_i16(&mut b, 40 + 2 * a, i16::MAX);
    }
    let p = dir.path().join("huge.nii");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::TooLarge(_)), "{e}");
    // within the cap but far more than the file holds → compared with the file size
    let mut b = good.clone();
    for a in 1..=3 {
        put_i16(&mut b, 40 + 2 * a, 1000);
    }
    let p = dir.path().join("big.nii");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(e.to_string().contains("but the file has"), "{e}");
    // the same header gzip-compressed: read incrementally, fails as truncated
    let p = dir.path().join("big.nii.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &b).unwrap();
    std::fs::write(&p, enc.finish().unwrap()).unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::Truncated(_)), "{e}");
    // zero-sized and negative axes
    for (name, v) in [("zero.nii", 0i16), ("negative.nii", -4)] {
        let mut b = good.clone();
        put_i16(&mut b, 44, v);
        let p = dir.path().join(name);
        std::fs::write(&p, &b).unwrap();
        let e = expect_err(&p);
        assert!(e.to_string().contains("zero-sized or negative axis"), "{e}");
    }
    // a small cap refuses a normal file
    let p = dir.path().join("ok.nii");
    let e = load_volume_with(
        &p,
        &LoadOptions {
            max_voxels: 10,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::TooLarge(_)), "{e}");
    // unsupported datatype (complex64) and bitpix mismatch
    let mut b = good.clone();
    put_i16(&mut b, 70, 32);
    put_i16(&mut b, 72, 64);
    let p = dir.path().join("complex.nii");
    std::fs::write(&p, &b).unwrap();
    assert!(expect_err(&p).to_string().contains("complex64"));
    let mut b = good;
    put_i16(&mut b, 72, 16);
    let p = dir.path().join("bitpix.nii");
    std::fs::write(&p, &b).unwrap();
    assert!(expect_err(&p).to_string().contains("bitpix"));
}

#[test]
fn non_finite_voxels_error_by_default_and_zero_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = small_volume();
    v.data[[0, 0, 0]] = f32::NAN;
    v.data[[1, 2, 3]] = f32::INFINITY;
    v.data[[2, 3, 4]] = f32::NEG_INFINITY;
    let p = dir.path().join("nan.nii");
    write_nifti(&p, &v).unwrap();
    let e = expect_err(&p);
    match e.kind {
        IoErrorKind::NonFinite { count, total } => assert_eq!((count, total), (3, 60)),
        _ => panic!("{e}"),
    }
    assert!(e.to_string().contains("3 of 60"), "{e}");
    let l = load_volume_with(
        &p,
        &LoadOptions {
            non_finite: NonFinitePolicy::Zero,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(l.meta.non_finite_replaced, 3);
    assert_eq!(l.volume.data[[1, 2, 3]], 0.0);
    assert_eq!(l.volume.data[[1, 2, 2]], 122.0);
}

#[test]
fn rgb_png_refused_unless_grey_from_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rgb.png");
    let img = image::RgbImage::from_fn(3, 2, |x, y| {
        image::Rgb([(x * 100) as u8, (y * 200) as u8, 50])
    });
    img.save(&p).unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::Colour(_)), "{e}");
    let l = load_volume_with(
        &p,
        &LoadOptions {
            grey_from_rgb: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(l.volume.shape(), (1, 2, 3));
    // Rec.601: 0.299 R + 0.587 G + 0.114 B at x=2, y=1: (200, 200, 50)
    let want = 0.299 * 200.0 + 0.587 * 200.0 + 0.114 * 50.0;
    assert!((l.volume.data[[0, 1, 2]] as f64 - want).abs() < 1e-4);
    assert_eq!(l.volume.modality, Modality::Photo);
}

fn patch_us(bytes: &mut [u8], group: u16, elem: u16, value: u16) {
    // explicit VR little endian: tag, "US", length 2, value
    let mut pat = Vec::new();
    pat.extend_from_slice(&group.to_le_bytes());
    pat.extend_from_slice(&elem.to_le_bytes());
    pat.extend_from_slice(b"US");
    pat.extend_from_slice(&2u16.to_le_bytes());
    let at = bytes
        .windows(pat.len())
        .position(|w| w == pat.as_slice())
        .expect("tag present");
    bytes[at + 8..at + 10].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn dicom_cut_anywhere_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/MR_small.dcm")).unwrap();
    for (i, cut) in [
        10usize,
        131,
        200,
        400,
        700,
        1000,
        good.len() - 4000,
        good.len() - 1,
    ]
    .into_iter()
    .enumerate()
    {
        let p = dir.path().join(format!("cut{i}.dcm"));
        std::fs::write(&p, &good[..cut]).unwrap();
        let e = load_volume(&p).expect_err("cut file must fail");
        assert!(e.to_string().contains(&format!("cut{i}.dcm")), "{e}");
    }
}

#[test]
fn dicom_header_sizes_disagreeing_with_pixel_data() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/MR_small.dcm")).unwrap();
    let mut b = good.clone();
    patch_us(&mut b, 0x0028, 0x0010, 0xFFFF); // Rows
    patch_us(&mut b, 0x0028, 0x0011, 0xFFFF); // Columns
    let p = dir.path().join("huge_rows.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::TooLarge(_)), "{e}");
    let mut b = good.clone();
    patch_us(&mut b, 0x0028, 0x0010, 1000); // Rows
    patch_us(&mut b, 0x0028, 0x0011, 1000); // Columns
    let p = dir.path().join("big_rows.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::Truncated(_)), "{e}");
    assert!(e.to_string().contains("holds 8192 bytes"), "{e}");
    let mut b = good;
    patch_us(&mut b, 0x0028, 0x0010, 0);
    let p = dir.path().join("zero_rows.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = expect_err(&p);
    assert!(e.to_string().contains("zero-sized"), "{e}");
}

/// A small synthetic DICOM object (explicit VR LE) for cases the fixtures do not cover.
struct Synth {
    rows: u16,
    cols: u16,
    photometric: &'static str,
    spp: u16,
    pixels: Vec<u16>,
    position: Option<[f64; 3]>,
    instance: i32,
    series: &'static str,
    sop: String,
    sop_class: &'static str,
    with_pixels: bool,
    rescale: Option<(f64, f64)>,
    /// Further elements put as they are (a Modality LUT, values with VR UN, …).
    extra: Vec<DataElement<InMemDicomObject>>,
}

impl Synth {
    fn mono(pixels: Vec<u16>, rows: u16, cols: u16) -> Synth {
        Synth {
            rows,
            cols,
            photometric: "MONOCHROME2",
            spp: 1,
            pixels,
            position: None,
            instance: 1,
            series: "1.2.826.0.1.3680043.9999.1",
            sop: "1.2.826.0.1.3680043.9999.1.1".into(),
            sop_class: "1.2.840.10008.5.1.4.1.1.2",
            with_pixels: true,
            rescale: None,
            extra: Vec::new(),
        }
    }

    fn write(&self, path: &Path) {
        let mut o = InMemDicomObject::new_empty();
        let s = |o: &mut InMemDicomObject, t, vr, v: &str| {
            o.put(DataElement::new(t, vr, PrimitiveValue::from(v)))
        };
        let u = |o: &mut InMemDicomObject, t, v: u16| {
            o.put(DataElement::new(t, VR::US, PrimitiveValue::from(v)))
        };
        s(&mut o, tags::SOP_CLASS_UID, VR::UI, self.sop_class);
        s(&mut o, tags::SOP_INSTANCE_UID, VR::UI, &self.sop);
        s(&mut o, tags::MODALITY, VR::CS, "CT");
        s(&mut o, tags::PATIENT_NAME, VR::PN, "Secret^Person");
        s(&mut o, tags::PATIENT_ID, VR::LO, "SECRET-ID-7");
        s(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, self.series);
        s(
            &mut o,
            tags::INSTANCE_NUMBER,
            VR::IS,
            &self.instance.to_string(),
        );
        if let Some(p) = self.position {
            s(
                &mut o,
                tags::IMAGE_POSITION_PATIENT,
                VR::DS,
                &format!("{}\\{}\\{}", p[0], p[1], p[2]),
            );
            s(
                &mut o,
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                "1\\0\\0\\0\\1\\0",
            );
        }
        s(&mut o, tags::PIXEL_SPACING, VR::DS, "0.5\\0.75");
        if let Some((m, b)) = self.rescale {
            s(&mut o, tags::RESCALE_SLOPE, VR::DS, &m.to_string());
            s(&mut o, tags::RESCALE_INTERCEPT, VR::DS, &b.to_string());
        }
        for e in &self.extra {
            o.put(e.clone());
        }
        u(&mut o, tags::SAMPLES_PER_PIXEL, self.spp);
        s(
            &mut o,
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            self.photometric,
        );
        if self.spp > 1 {
            u(&mut o, tags::PLANAR_CONFIGURATION, 0);
        }
        u(&mut o, tags::ROWS, self.rows);
        u(&mut o, tags::COLUMNS, self.cols);
        u(&mut o, tags::BITS_ALLOCATED, 16);
        u(&mut o, tags::BITS_STORED, 12);
        u(&mut o, tags::HIGH_BIT, 11);
        u(&mut o, tags::PIXEL_REPRESENTATION, 0);
        if self.with_pixels {
            o.put(DataElement::new(
                tags::PIXEL_DATA,
                VR::OW,
                PrimitiveValue::U16(self.pixels.iter().copied().collect()),
            ));
        }
        let f = o
            .with_meta(
                FileMetaTableBuilder::new()
                    .transfer_syntax("1.2.840.10008.1.2.1")
                    .media_storage_sop_class_uid(self.sop_class)
                    .media_storage_sop_instance_uid(self.sop.as_str()),
            )
            .unwrap();
        f.write_to_file(path).unwrap();
    }
}

#[test]
fn monochrome1_is_inverted_and_rescaled() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mono1.dcm");
    let mut s = Synth::mono(vec![0, 100, 4095, 1000], 2, 2);
    s.photometric = "MONOCHROME1";
    s.rescale = Some((2.0, -10.0));
    s.write(&p);
    let l = load_volume(&p).unwrap();
    // rescaled range of 12-bit storage: [-10, 8180]; v' = -10 + 8180 - (2 s - 10)
    let want = [8180.0, 7980.0, -10.0, 6180.0];
    for (got, w) in l.volume.data.iter().zip(want) {
        assert_eq!(*got, w);
    }
    assert!(l.meta.inverted);
    assert_eq!(l.volume.spacing[1..], [0.5, 0.75]);
}

#[test]
fn rgb_dicom_refused_unless_grey_from_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rgb.dcm");
    let mut s = Synth::mono(vec![100, 200, 50, 0, 0, 0], 1, 2);
    s.photometric = "RGB";
    s.spp = 3;
    s.write(&p);
    let e = expect_err(&p);
    assert!(matches!(e.kind, IoErrorKind::Colour(_)), "{e}");
    let l = load_volume_with(
        &p,
        &LoadOptions {
            grey_from_rgb: true,
            ..Default::default()
        },
    )
    .unwrap();
    let want = 0.299 * 100.0 + 0.587 * 200.0 + 0.114 * 50.0;
    assert!((l.volume.data[[0, 0, 0]] as f64 - want).abs() < 1e-3);
    assert_eq!(l.volume.data[[0, 0, 1]], 0.0);
}

#[test]
fn non_image_objects_refused() {
    let dir = tempfile::tempdir().unwrap();
    // SR by SOP class
    let p = dir.path().join("report.dcm");
    let mut s = Synth::mono(vec![], 1, 1);
    s.sop_class = "1.2.840.10008.5.1.4.1.1.88.22";
    s.with_pixels = false;
    s.write(&p);
    let e = expect_err(&p);
    assert!(e.to_string().contains("Structured Report"), "{e}");
    // an image class without Pixel Data
    let p = dir.path().join("nopixels.dcm");
    let mut s = Synth::mono(vec![], 1, 1);
    s.with_pixels = false;
    s.write(&p);
    let e = expect_err(&p);
    assert!(e.to_string().contains("no Pixel Data"), "{e}");
}

#[test]
fn series_directory_sorted_by_position_not_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("series");
    std::fs::create_dir(&series).unwrap();
    // z positions 10, 4, 7 (LPS), instance numbers deliberately misleading
    for (i, (z, inst)) in [(10.0, 1), (4.0, 3), (7.0, 2)].into_iter().enumerate() {
        let mut s = Synth::mono(vec![z as u16; 6], 2, 3);
        s.position = Some([5.0, -3.0, z]);
        s.instance = inst;
        s.sop = format!("1.2.826.0.1.3680043.9999.1.{}", i + 10);
        s.write(&series.join(format!("f{i}.dcm")));
    }
    let l = load_volume(&series).unwrap();
    assert_eq!(l.volume.shape(), (3, 2, 3));
    assert_eq!(l.meta.files, 3);
    let firsts: Vec<f32> = (0..3).map(|k| l.volume.data[[k, 0, 0]]).collect();
    assert_eq!(firsts, [4.0, 7.0, 10.0]);
    assert_eq!(l.volume.spacing, [3.0, 0.5, 0.75]);
    // RAS affine: x, y negated; k step +3 mm along z; origin from the lowest slice
    let a = l.volume.affine;
    assert_eq!(a[0], [-0.75, 0.0, 0.0, -5.0]);
    assert_eq!(a[1], [0.0, -0.5, 0.0, 3.0]);
    assert_eq!(a[2], [0.0, 0.0, 3.0, 4.0]);
    // without positions, InstanceNumber decides
    let series2 = dir.path().join("series2");
    std::fs::create_dir(&series2).unwrap();
    for (i, inst) in [2, 3, 1].into_iter().enumerate() {
        let mut s = Synth::mono(vec![inst as u16; 6], 2, 3);
        s.instance = inst;
        s.series = "1.2.826.0.1.3680043.9999.2";
        s.sop = format!("1.2.826.0.1.3680043.9999.2.{}", i + 10);
        s.write(&series2.join(format!("g{i}.dcm")));
    }
    let l2 = load_volume(&series2).unwrap();
    let firsts: Vec<f32> = (0..3).map(|k| l2.volume.data[[k, 0, 0]]).collect();
    assert_eq!(firsts, [1.0, 2.0, 3.0]);
    // the parent holds two series: load_volume refuses, load_all lists both
    let e = load_volume(dir.path()).unwrap_err();
    assert!(e.to_string().contains("2 image sources"), "{e}");
    let all = load_all(dir.path(), &LoadOptions::default());
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|(_, r)| r.is_ok()));
    // no identifier leaks into Debug output
    let dbg = format!("{:?}", l.meta);
    assert!(
        !dbg.contains("SECRET-ID-7") && !dbg.contains("Secret"),
        "{dbg}"
    );
    assert_ne!(
        l.meta.pseudonymous_key(b"k"),
        l2.meta.pseudonymous_key(b"k")
    );
}

#[test]
fn load_all_skips_non_image_files_but_lists_broken_images() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, b"an archive, not an image").unwrap();
    std::fs::write(dir.path().join("archive.tar.gz"), enc.finish().unwrap()).unwrap();
    std::fs::write(dir.path().join("notes.md"), b"# notes").unwrap();
    std::fs::write(dir.path().join(".hidden.nii"), b"hidden").unwrap();
    std::fs::write(dir.path().join("broken.nii.gz"), b"not gzip").unwrap();
    let all = load_all(dir.path(), &LoadOptions::default());
    assert_eq!(
        all.len(),
        1,
        "{:?}",
        all.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    assert!(all[0].0.ends_with("broken.nii.gz"));
    let e = all[0].1.as_ref().unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::UnknownFormat(_)), "{e}");
}

/// Pixel Spacing `0\0` is how some writers (e.g. pydicom-data's RG1 radiographs) say the
/// spacing is unknown: the image is read with 1 mm assumed and flagged, not refused; a
/// negative spacing is still refused, naming the tag.
#[test]
fn zero_pixel_spacing_reads_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("zero_spacing.dcm");
    Synth::mono(vec![0, 100, 4095, 1000], 2, 2).write(&p);
    let bytes = std::fs::read(&p).unwrap();
    let at = bytes
        .windows(8)
        .position(|w| w == b"0.5\\0.75")
        .expect("the spacing value");
    let mut zero = bytes.clone();
    zero[at..at + 8].copy_from_slice(b"0.0\\0.0 ");
    std::fs::write(&p, &zero).unwrap();
    let l = load_volume(&p).unwrap();
    assert!(l.meta.spacing_assumed);
    assert_eq!(l.volume.spacing[1..], [1.0, 1.0]);
    let mut negative = bytes;
    negative[at..at + 8].copy_from_slice(b"-0.5\\0.5");
    std::fs::write(&p, &negative).unwrap();
    let e = load_volume(&p).unwrap_err().to_string();
    assert!(e.contains("Pixel Spacing (0028,0030)"), "{e}");
}

#[test]
fn bare_dicom_data_set_without_preamble_says_so() {
    // the start of a data set as ACR-NEMA-era tools wrote it: no preamble, no `DICM`, no
    // file meta group; implicit VR (SpecificCharacterSet, 4-byte length) and explicit VR
    let dir = tempfile::tempdir().unwrap();
    let implicit = dir.path().join("bare_implicit.dcm");
    let mut b = vec![0x08, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00];
    b.extend_from_slice(b"ISO_IR 100");
    std::fs::write(&implicit, &b).unwrap();
    let explicit = dir.path().join("bare_explicit.dcm");
    let mut b = vec![0x08, 0x00, 0x05, 0x00, b'C', b'S', 0x0a, 0x00];
    b.extend_from_slice(b"ISO_IR 100");
    std::fs::write(&explicit, &b).unwrap();
    for p in [&implicit, &explicit] {
        let e = expect_err(p);
        assert!(matches!(e.kind, IoErrorKind::UnknownFormat(_)), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("without the 128-byte preamble"), "{msg}");
        assert!(msg.contains("re-save it as a DICOM file"), "{msg}");
    }
    // other unknown bytes keep the plain message
    let other = dir.path().join("noise.bin");
    std::fs::write(&other, b"hello, world, not an image").unwrap();
    assert!(expect_err(&other).to_string().contains("wrong magic"));
}

/// A Modality LUT Sequence instead of a rescale (PS3.3 C.11.1, as pydicom-data's mlut_18.dcm):
/// stored values map through the table, clamped to its ends outside it; the result equals
/// pydicom's `apply_modality_lut` (pydicom 3.0.2; 16 entries from stored value 100, entry
/// k = 3k − 7 as unsigned 16-bit words):
///
/// ```text
/// ds = Dataset(); ds.PixelRepresentation = 0; ds.BitsStored = 12; ds.BitsAllocated = 16
/// ds.file_meta = FileMetaDataset(); ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
/// it = Dataset(); it.LUTDescriptor = [16, 100, 16]; it.ModalityLUTType = "HU"
/// it.LUTData = struct.pack("<16H", *[(3 * k - 7) & 0xFFFF for k in range(16)])
/// it["LUTData"].VR = "OW"; ds.ModalityLUTSequence = Sequence([it])
/// apply_modality_lut(np.array([0, 100, 105, 115, 4095], dtype=np.uint16), ds)
/// # [65529 65529     8    38    38]
/// ```
#[test]
fn modality_lut_sequence_maps_stored_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mlut.dcm");
    let mut s = Synth::mono(vec![0, 100, 105, 115], 2, 2);
    let mut item = InMemDicomObject::new_empty();
    item.put(DataElement::new(
        tags::LUT_DESCRIPTOR,
        VR::US,
        PrimitiveValue::U16([16, 100, 16].into_iter().collect()),
    ));
    item.put(DataElement::new(
        tags::MODALITY_LUT_TYPE,
        VR::LO,
        PrimitiveValue::from("HU"),
    ));
    // 3k − 7 as 16-bit two's complement words, read unsigned as pydicom does for US data
    let table: Vec<u16> = (0..16i32).map(|k| (3 * k - 7) as u16).collect();
    item.put(DataElement::new(
        tags::LUT_DATA,
        VR::OW,
        PrimitiveValue::U16(table.into_iter().collect()),
    ));
    s.extra.push(DataElement::new(
        tags::MODALITY_LUT_SEQUENCE,
        VR::SQ,
        dicom_core::value::DataSetSequence::from(vec![item]),
    ));
    s.write(&p);
    let l = load_volume(&p).unwrap();
    // 65529 is −7 as an unsigned word: pydicom gives 65529 for entry 0 too
    assert_eq!(
        l.volume.data.iter().copied().collect::<Vec<f32>>(),
        vec![65529.0, 65529.0, 8.0, 38.0]
    );
}

/// Rescale Slope/Intercept stored with VR UN (an implicit-VR private converter's output, as
/// pydicom-data's explicit_VR-UN.dcm) are read as the decimal strings they hold, not as their
/// character codes (`2` as 50).
#[test]
fn rescale_stored_as_un_is_read_as_decimal_strings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("un.dcm");
    let mut s = Synth::mono(vec![0, 1, 2, 10], 2, 2);
    for (tag, v) in [
        (tags::RESCALE_SLOPE, "2 "),
        (tags::RESCALE_INTERCEPT, "-1024 "),
    ] {
        s.extra.push(DataElement::new(
            tag,
            VR::UN,
            PrimitiveValue::U8(v.bytes().collect()),
        ));
    }
    s.write(&p);
    let l = load_volume(&p).unwrap();
    assert_eq!(
        l.volume.data.iter().copied().collect::<Vec<f32>>(),
        vec![-1024.0, -1022.0, -1020.0, -1004.0]
    );
}
