//! Colour reading and writing on the real photographs in tests/data/photo (see
//! tests/data/README.md for provenance and licences) and on generated PNG/TIFF variants
//! (16-bit, alpha, palette, grey).

use artefact_core::colour::{linear_to_srgb8, srgb8_decode_table};
use artefact_core::{Modality, RgbImage};
use artefact_io::{read_rgb, write_png_rgb, IoErrorKind, RgbLoadOptions};
use ndarray::Array3;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

const HAGGSTROM: &str = "photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg";
const NEI: &str = "photo/fundus/fundus_background_retinopathy_nei_eda03_pd.jpg";
const SKIN: &str = "photo/histopathology/he_skin_cmu1_small_region_aperio20x_x600_y1500_768px.png";
const CRC: &str = "photo/histopathology/he_crc_tumour_nct100k_TUM-AEPINLNQ_224px.png";
const GREEN: &str = "photo/fundus/fundus_hrf07dr_green_crop_microaneurysms_102px.png";

fn fundus_opts() -> RgbLoadOptions {
    RgbLoadOptions {
        modality: Some(Modality::Fundus),
        detect_fov: true,
        ..Default::default()
    }
}

/// The decoded values are the `image` decoder's 8-bit samples through the exact sRGB curve,
/// and writing them back gives the same samples (PNG is lossless).
#[test]
fn he_png_decodes_to_linear_and_round_trips() {
    let path = data(SKIN);
    let l = read_rgb(
        &path,
        &RgbLoadOptions {
            modality: Some(Modality::Histopathology),
            spacing_mm: Some([4.99e-4, 4.99e-4]),
            detect_fov: true,
            ..Default::default()
        },
    )
    .unwrap();
    let img = &l.image;
    assert_eq!(img.shape(), (768, 768));
    assert_eq!(img.modality, Modality::Histopathology);
    assert_eq!(img.spacing, [4.99e-4, 4.99e-4]);
    assert!(!l.meta.spacing_assumed);
    assert!(img.fov.is_none(), "H&E has no dark surround");
    let raw = image::open(&path).unwrap().to_rgb8();
    let lut = srgb8_decode_table();
    for (r, c) in [(0usize, 0usize), (100, 700), (767, 767), (383, 12)] {
        let px = raw.get_pixel(c as u32, r as u32).0;
        for ch in 0..3 {
            assert_eq!(img.data[[ch, r, c]], lut[px[ch] as usize]);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("he.png");
    write_png_rgb(&out, img).unwrap();
    let back = image::open(&out).unwrap().to_rgb8();
    assert_eq!(back.as_raw(), raw.as_raw());
    let again = read_rgb(&out, &RgbLoadOptions::default()).unwrap();
    assert_eq!(again.image.data, img.data);
    assert!(again.meta.spacing_assumed);
    // the CC BY tile too
    let crc = read_rgb(&data(CRC), &RgbLoadOptions::default()).unwrap();
    assert_eq!(crc.image.shape(), (224, 224));
}

/// Field of view of the real fundus photographs: a disc (area ≈ π r² of its bounding box),
/// centred, with the corners and the frame edges outside.
#[test]
fn real_fundus_field_of_view() {
    for (rel, shape) in [(HAGGSTROM, (1411, 1411)), (NEI, (600, 900))] {
        let l = read_rgb(&data(rel), &fundus_opts()).unwrap();
        assert_eq!(l.image.shape(), shape, "{rel}");
        let m = l.image.fov.as_ref().expect("a field of view");
        let area = m.iter().filter(|&&v| v).count() as f64;
        let frac = area / (shape.0 * shape.1) as f64;
        // bounding box of the field
        let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
        for ((r, c), &v) in m.indexed_iter() {
            if v {
                r0 = r0.min(r);
                r1 = r1.max(r);
                c0 = c0.min(c);
                c1 = c1.max(c);
            }
        }
        let (h, w) = ((r1 - r0 + 1) as f64, (c1 - c0 + 1) as f64);
        eprintln!("{rel}: fov {frac:.4} of frame, bbox rows {r0}..{r1} cols {c0}..{c1}");
        assert!(!m[[0, 0]] && !m[[shape.0 - 1, shape.1 - 1]]);
        assert!(m[[shape.0 / 2, shape.1 / 2]]);
        // a disc, possibly cut by the top and bottom of the frame: its width is its diameter;
        // the area equals the disc's area clipped to the box height (within 3 %)
        let rad = w / 2.0;
        let clipped = disc_area_clipped(rad, h);
        assert!(
            (area / clipped - 1.0).abs() < 0.03,
            "{rel}: area {area} vs disc {clipped} (r {rad}, h {h})"
        );
    }
}

/// Area of a disc of radius `r` between two horizontal lines `h` apart, centred.
fn disc_area_clipped(r: f64, h: f64) -> f64 {
    let n = 20000;
    let half = (h / 2.0).min(r);
    let dy = 2.0 * half / n as f64;
    (0..n)
        .map(|i| {
            let y = -half + (i as f64 + 0.5) * dy;
            2.0 * (r * r - y * y).max(0.0).sqrt() * dy
        })
        .sum()
}

#[test]
fn grey_png_becomes_neutral_colour() {
    let l = read_rgb(&data(GREEN), &RgbLoadOptions::default()).unwrap();
    let img = &l.image;
    assert_eq!(img.shape(), (102, 102));
    let raw = image::open(data(GREEN)).unwrap().to_luma8();
    let lut = srgb8_decode_table();
    for ((r, c), v) in img.channel(0).indexed_iter() {
        let code = raw.get_pixel(c as u32, r as u32).0[0];
        assert_eq!(*v, lut[code as usize]);
        assert_eq!(img.data[[1, r, c]], *v);
        assert_eq!(img.data[[2, r, c]], *v);
    }
}

fn test_image() -> RgbImage {
    let lut = srgb8_decode_table();
    RgbImage::new(
        Array3::from_shape_fn((3, 9, 13), |(c, r, k)| lut[(r * 29 + k * 7 + c * 80) % 256]),
        [1.0, 1.0],
        Modality::Endoscopy,
        None,
    )
    .unwrap()
}

/// 16-bit RGB, RGBA (alpha ignored), palette PNG and RGB TIFF all decode to the same linear
/// values as the 8-bit original (16-bit codes are 257 × the 8-bit ones).
#[test]
fn png_variants_and_tiff() {
    let img = test_image();
    let (rows, cols) = img.shape();
    let s8 = img.to_srgb8();
    let dir = tempfile::tempdir().unwrap();
    // 16-bit RGB
    let s16: Vec<u16> = s8.iter().map(|&v| v as u16 * 257).collect();
    let p16 = dir.path().join("rgb16.png");
    image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(cols as u32, rows as u32, s16)
        .unwrap()
        .save(&p16)
        .unwrap();
    // RGBA 8-bit with a varying alpha
    let rgba: Vec<u8> = s8
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i * 37 % 256) as u8])
        .collect();
    let pa = dir.path().join("rgba.png");
    image::RgbaImage::from_raw(cols as u32, rows as u32, rgba)
        .unwrap()
        .save(&pa)
        .unwrap();
    // TIFF
    let pt = dir.path().join("rgb.tif");
    image::RgbImage::from_raw(cols as u32, rows as u32, s8.clone())
        .unwrap()
        .save(&pt)
        .unwrap();
    // palette PNG (the png crate writes indexed colour)
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut idx = Vec::new();
    for p in s8.chunks_exact(3) {
        let q = [p[0], p[1], p[2]];
        let i = palette.iter().position(|x| *x == q).unwrap_or_else(|| {
            palette.push(q);
            palette.len() - 1
        });
        idx.push(i as u8);
    }
    assert!(palette.len() <= 256);
    let pp = dir.path().join("palette.png");
    {
        let f = std::fs::File::create(&pp).unwrap();
        let mut enc = png::Encoder::new(std::io::BufWriter::new(f), cols as u32, rows as u32);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(palette.concat());
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&idx).unwrap();
    }
    for p in [&p16, &pa, &pt, &pp] {
        let l = read_rgb(p, &RgbLoadOptions::default()).unwrap();
        for (a, b) in l.image.data.iter().zip(img.data.iter()) {
            assert!((a - b).abs() < 1e-6, "{}: {a} vs {b}", p.display());
        }
        assert_eq!(l.image.to_srgb8(), s8, "{}", p.display());
    }
}

#[test]
fn jpeg_values_are_the_decoders_samples() {
    let l = read_rgb(&data(NEI), &RgbLoadOptions::default()).unwrap();
    let raw = image::open(data(NEI)).unwrap().to_rgb8();
    assert_eq!(l.image.to_srgb8(), raw.as_raw().clone());
    assert!(l.image.data.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert_eq!(
        linear_to_srgb8(l.image.data[[0, 300, 450]]),
        raw.get_pixel(450, 300).0[0]
    );
}

/// Errors name the file and say why.
#[test]
fn clear_errors_naming_the_file() {
    let missing = data("photo/no_such_photo.png");
    let e = read_rgb(&missing, &RgbLoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no_such_photo.png"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    // a JPEG cut short
    let bytes = std::fs::read(data(NEI)).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    match read_rgb(&cut, &RgbLoadOptions::default()) {
        Err(e) => assert!(e.to_string().contains("cut.jpg"), "{e}"),
        // some decoders fill a truncated baseline JPEG with grey: then the size must hold
        Ok(l) => assert_eq!(l.image.shape(), (600, 900)),
    }
    // not a photograph
    let e = read_rgb(&data("nifti/anatomical.nii"), &RgbLoadOptions::default()).unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::Unsupported(_)), "{e}");
    assert!(e.to_string().contains("anatomical.nii"), "{e}");
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not an image at all").unwrap();
    let e = read_rgb(&junk, &RgbLoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("junk.png"), "{e}");
    // pixel cap
    let e = read_rgb(
        &data(CRC),
        &RgbLoadOptions {
            max_pixels: 1000,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::TooLarge(_)), "{e}");
}
