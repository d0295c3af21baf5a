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

/// 16-bit RGB, opaque RGBA, palette PNG, RGB TIFF and BigTIFF all decode to the same linear
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
    // RGBA 8-bit, opaque (transparency: `transparent_pixels_are_composited`)
    let rgba: Vec<u8> = s8
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
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
    // BigTIFF (slide scanners write it for large regions)
    let pb = dir.path().join("big.tif");
    std::fs::write(&pb, bigtiff_rgb(cols as u32, rows as u32, &s8)).unwrap();
    for p in [&p16, &pa, &pt, &pp, &pb] {
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
    // a JPEG cut short (the decoder alone would fill the rest with grey and say nothing),
    // anywhere from inside the header to just before the end-of-image marker, is refused as
    // truncated by both readers (Pillow: "image file is truncated" on the same cuts)
    let bytes = std::fs::read(data(NEI)).unwrap();
    let cut = dir.path().join("cut.jpg");
    for keep in [100, bytes.len() / 3, bytes.len() - 2] {
        std::fs::write(&cut, &bytes[..keep]).unwrap();
        let e = read_rgb(&cut, &RgbLoadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, IoErrorKind::Truncated(_)), "{keep}: {e}");
        assert!(e.to_string().contains("cut.jpg"), "{e}");
        let grey = artefact_io::LoadOptions {
            grey_from_rgb: true,
            ..Default::default()
        };
        let e = artefact_io::load_volume_with(&cut, &grey).unwrap_err();
        assert!(matches!(e.kind, IoErrorKind::Truncated(_)), "{keep}: {e}");
    }
    // bytes after the end-of-image marker (camera trailers) are allowed
    let mut trailer = bytes.clone();
    trailer.extend_from_slice(b"\xFF\x00 trailer");
    std::fs::write(&cut, &trailer).unwrap();
    assert_eq!(
        read_rgb(&cut, &RgbLoadOptions::default())
            .unwrap()
            .image
            .data,
        read_rgb(&data(NEI), &RgbLoadOptions::default())
            .unwrap()
            .image
            .data
    );
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

/// A scan closed before all of its blocks are coded (cut, then an end-of-image marker
/// appended, as partial downloads and file recovery leave them) is refused as truncated: the
/// decoder alone fills the rest with the last colour and says nothing. The whole files are
/// read: the real NEI photograph (one interleaved scan) and two layouts of a 320×240 crop of
/// it made with libjpeg-turbo 2.1.5 (tests/data/photo/jpeg): `cjpeg -restart 2 -quality 85`
/// (restart markers every two MCU rows) and `jpegtran -scans` with one scan per component
/// (`0;` `1;` `2;`) of `cjpeg -quality 85`.
#[test]
fn a_scan_closed_before_its_end_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let early = dir.path().join("early.jpg");
    for name in [
        NEI,
        "photo/jpeg/nei_fundus_crop_restart2.jpg",
        "photo/jpeg/nei_fundus_crop_3scans.jpg",
    ] {
        let bytes = std::fs::read(data(name)).unwrap();
        let whole = read_rgb(&data(name), &RgbLoadOptions::default());
        assert!(whole.is_ok(), "{name}: {:?}", whole.err());
        let last_scan = (0..bytes.len() - 1)
            .rev()
            .find(|&i| bytes[i] == 0xFF && bytes[i + 1] == 0xDA)
            .unwrap();
        for frac in [0.05, 0.5, 0.9, 0.99] {
            let mut keep = last_scan + ((bytes.len() - last_scan) as f64 * frac) as usize;
            while bytes[keep - 1] == 0xFF {
                keep -= 1;
            }
            let cut = [&bytes[..keep], &[0xFF, 0xD9][..]].concat();
            std::fs::write(&early, &cut).unwrap();
            let e = read_rgb(&early, &RgbLoadOptions::default()).unwrap_err();
            assert!(
                matches!(e.kind, IoErrorKind::Truncated(_)),
                "{name} {frac}: {e}"
            );
            assert!(e.to_string().contains("early.jpg"), "{e}");
            assert!(e.to_string().contains("minimum coded units"), "{e}");
        }
    }
}

/// An EXIF block (big-endian TIFF structure) holding only the Orientation tag (0x0112).
fn exif_orientation(o: u16) -> Vec<u8> {
    let mut e = b"MM\0\x2a\0\0\0\x08".to_vec();
    e.extend_from_slice(&1u16.to_be_bytes()); // one entry
    e.extend_from_slice(&0x0112u16.to_be_bytes());
    e.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    e.extend_from_slice(&1u32.to_be_bytes());
    e.extend_from_slice(&o.to_be_bytes());
    e.extend_from_slice(&[0, 0]);
    e.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    e
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A PNG with an `eXIf` chunk inserted before its first `IDAT`.
fn png_with_exif(png: &[u8], exif: &[u8]) -> Vec<u8> {
    let at = png.windows(4).position(|w| w == b"IDAT").unwrap() - 4;
    let mut body = b"eXIf".to_vec();
    body.extend_from_slice(exif);
    let mut out = png[..at].to_vec();
    out.extend_from_slice(&(exif.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out.extend_from_slice(&png[at..]);
    out
}

/// A JPEG with an APP1 Exif segment right after its SOI marker.
fn jpeg_with_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((2 + 6 + exif.len()) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An uncompressed little-endian 8-bit RGB TIFF, one strip, with an Orientation tag.
fn tiff_rgb(cols: u32, rows: u32, rgb: &[u8], orientation: u16) -> Vec<u8> {
    let entries: u32 = 10;
    let ifd = 8u32;
    let bps = ifd + 2 + entries * 12 + 4; // three SHORTs of BitsPerSample
    let strip = bps + 6;
    let mut t = b"II\x2a\0".to_vec();
    t.extend_from_slice(&ifd.to_le_bytes());
    t.extend_from_slice(&(entries as u16).to_le_bytes());
    let mut entry = |tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    entry(256, 4, 1, cols); // ImageWidth
    entry(257, 4, 1, rows); // ImageLength
    entry(258, 3, 3, bps); // BitsPerSample
    entry(259, 3, 1, 1); // no compression
    entry(262, 3, 1, 2); // RGB
    entry(273, 4, 1, strip); // StripOffsets
    entry(274, 3, 1, orientation as u32); // Orientation
    entry(277, 3, 1, 3); // SamplesPerPixel
    entry(278, 4, 1, rows); // RowsPerStrip
    entry(279, 4, 1, rgb.len() as u32); // StripByteCounts
    t.extend_from_slice(&0u32.to_le_bytes());
    for _ in 0..3 {
        t.extend_from_slice(&8u16.to_le_bytes());
    }
    t.extend_from_slice(rgb);
    t
}

/// The same as a BigTIFF (version 43: 64-bit offsets, 20-byte entries), no Orientation tag.
fn bigtiff_rgb(cols: u32, rows: u32, rgb: &[u8]) -> Vec<u8> {
    let entries: u64 = 9;
    let ifd = 16u64;
    let strip = ifd + 8 + entries * 20 + 8;
    let mut t = b"II\x2b\0".to_vec();
    t.extend_from_slice(&8u16.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    t.extend_from_slice(&ifd.to_le_bytes());
    t.extend_from_slice(&entries.to_le_bytes());
    let mut entry = |tag: u16, kind: u16, count: u64, value: u64| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    entry(256, 4, 1, cols as u64);
    entry(257, 4, 1, rows as u64);
    entry(258, 3, 3, 8 | 8 << 16 | 8 << 32); // three SHORTs fit in the entry
    entry(259, 3, 1, 1);
    entry(262, 3, 1, 2);
    entry(273, 16, 1, strip); // LONG8
    entry(277, 3, 1, 3);
    entry(278, 4, 1, rows as u64);
    entry(279, 16, 1, rgb.len() as u64);
    t.extend_from_slice(&0u64.to_le_bytes());
    t.extend_from_slice(rgb);
    t
}

/// The image a viewer shows for stored pixels `s` (rows × cols × 3) under EXIF orientation
/// `o`, written from the definitions of TIFF 6.0 / Exif 2.3 (where stored row 0 and column 0
/// go): 1 as stored, 2 mirrored left-right, 3 turned 180°, 4 mirrored top-bottom, 5 transposed,
/// 6 turned 90° clockwise, 7 transverse, 8 turned 90° counter-clockwise.
fn displayed(s: &[u8], rows: usize, cols: usize, o: u16) -> (usize, usize, Vec<u8>) {
    let (h, w) = (rows, cols);
    let (dr, dc) = if o >= 5 { (w, h) } else { (h, w) };
    let mut d = vec![0u8; s.len()];
    for r in 0..dr {
        for c in 0..dc {
            let (sr, sc) = match o {
                1 => (r, c),
                2 => (r, w - 1 - c),
                3 => (h - 1 - r, w - 1 - c),
                4 => (h - 1 - r, c),
                5 => (c, r),
                6 => (h - 1 - c, r),
                7 => (h - 1 - c, w - 1 - r),
                8 => (c, w - 1 - r),
                _ => unreachable!(),
            };
            d[(r * dc + c) * 3..][..3].copy_from_slice(&s[(sr * w + sc) * 3..][..3]);
        }
    }
    (dr, dc, d)
}

/// Photographs from cameras record how they were held: the pixels are turned to the
/// orientation the file records (EXIF in PNG and JPEG, the TIFF Orientation tag), as every
/// viewer shows them, for all eight orientations; the turn is recorded in the metadata.
/// Reference orientation 6 from Pillow: `ImageOps.exif_transpose` of a 400 × 600 JPEG with
/// Orientation 6 gives 600 × 400, the same image as `inspect`/`degrade` here (max difference 5
/// codes, the two JPEG decoders' upsampling).
#[test]
fn recorded_orientation_is_applied_on_reading() {
    let img = test_image(); // 9 rows × 13 columns, distinct rows and columns
    let (rows, cols) = img.shape();
    let s8 = img.to_srgb8();
    let dir = tempfile::tempdir().unwrap();
    let mut png = Vec::new();
    image::RgbImage::from_raw(cols as u32, rows as u32, s8.clone())
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut jpeg = Vec::new();
    image::RgbImage::from_raw(cols as u32, rows as u32, s8.clone())
        .unwrap()
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let pj = dir.path().join("stored.jpg");
    std::fs::write(&pj, &jpeg).unwrap();
    let jpeg_stored = read_rgb(&pj, &RgbLoadOptions::default()).unwrap();
    assert_eq!(jpeg_stored.meta.orientation_applied, None);
    let jpeg_s8 = jpeg_stored.image.to_srgb8();
    for o in 1..=8u16 {
        let exif = exif_orientation(o);
        let cases = [
            ("png", png_with_exif(&png, &exif), s8.clone()),
            (
                "tif",
                tiff_rgb(cols as u32, rows as u32, &s8, o),
                s8.clone(),
            ),
            ("jpg", jpeg_with_exif(&jpeg, &exif), jpeg_s8.clone()),
        ];
        for (ext, bytes, stored) in cases {
            let p = dir.path().join(format!("o{o}.{ext}"));
            std::fs::write(&p, bytes).unwrap();
            let l = read_rgb(&p, &RgbLoadOptions::default()).unwrap();
            let (dr, dc, want) = displayed(&stored, rows, cols, o);
            assert_eq!(l.image.shape(), (dr, dc), "{ext} orientation {o}");
            assert_eq!(l.image.to_srgb8(), want, "{ext} orientation {o}");
            assert_eq!(
                l.meta.orientation_applied.is_some(),
                o != 1,
                "{ext} orientation {o}: {:?}",
                l.meta.orientation_applied
            );
        }
    }
    // the grey reader turns the same way
    let mut grey = Vec::new();
    let g: Vec<u8> = s8.chunks_exact(3).map(|p| p[1]).collect();
    image::GrayImage::from_raw(cols as u32, rows as u32, g.clone())
        .unwrap()
        .write_to(
            &mut std::io::Cursor::new(&mut grey),
            image::ImageFormat::Png,
        )
        .unwrap();
    let pg = dir.path().join("grey6.png");
    std::fs::write(&pg, png_with_exif(&grey, &exif_orientation(6))).unwrap();
    let l = artefact_io::load_volume(&pg).unwrap();
    let g3: Vec<u8> = g.iter().flat_map(|&v| [v, v, v]).collect();
    let (dr, dc, want) = displayed(&g3, rows, cols, 6);
    assert_eq!(l.volume.shape(), (1, dr, dc));
    let got: Vec<u8> = l.volume.data.iter().map(|&v| v as u8).collect();
    let want: Vec<u8> = want.chunks_exact(3).map(|p| p[0]).collect();
    assert_eq!(got, want);
    assert_eq!(l.meta.orientation_applied.as_deref(), Some("Rotate90"));
}

/// Colour patches (8-bit codes) for the ICC profile test.
const PATCHES: [[u8; 3]; 12] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 255],
    [0, 0, 0],
    [128, 128, 128],
    [200, 100, 50],
    [30, 180, 220],
    [240, 200, 210],
    [90, 40, 120],
    [10, 250, 10],
    [255, 128, 0],
];

/// A 4 × 3 PNG of [`PATCHES`] carrying `icc` as its iCCP profile.
fn png_with_profile(icc: Vec<u8>) -> Vec<u8> {
    use image::ImageEncoder;
    let raw: Vec<u8> = PATCHES.concat();
    let mut out = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut out);
    enc.set_icc_profile(icc).unwrap();
    enc.write_image(&raw, 4, 3, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A photograph encoded in another colour space says so with an embedded ICC profile; its
/// codes are converted to sRGB through it, agreeing with LittleCMS (through Pillow) within one
/// 8-bit code. An sRGB profile keeps the exact decode; a profile that cannot be read, or one
/// for other data, is not applied and the metadata says so.
///
/// Reference (Pillow 13.0.0, LittleCMS 2.19) on the PNGs this test writes (profiles encoded by
/// moxcms, read by LittleCMS):
/// ```python
/// im = Image.open("p3.png"); src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
/// list(ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB").getdata())
/// ```
#[test]
fn embedded_colour_profiles_are_converted_to_srgb() {
    const P3: [[u8; 3]; 12] = [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 255],
        [0, 0, 0],
        [128, 128, 128],
        [215, 93, 31],
        [0, 183, 225],
        [248, 198, 210],
        [97, 36, 124],
        [0, 255, 0],
        [255, 119, 0],
    ];
    const ADOBE: [[u8; 3]; 12] = [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 255],
        [0, 0, 0],
        [129, 129, 129],
        [227, 100, 42],
        [0, 181, 222],
        [254, 201, 212],
        [103, 35, 123],
        [0, 250, 0],
        [255, 129, 0],
    ];
    let dir = tempfile::tempdir().unwrap();
    let read = |name: &str, icc: Vec<u8>| {
        let p = dir.path().join(name);
        std::fs::write(&p, png_with_profile(icc)).unwrap();
        read_rgb(&p, &RgbLoadOptions::default()).unwrap()
    };
    for (name, profile, want) in [
        ("p3.png", moxcms::ColorProfile::new_display_p3(), P3),
        ("adobe.png", moxcms::ColorProfile::new_adobe_rgb(), ADOBE),
    ] {
        let l = read(name, profile.encode().unwrap());
        let got = l.image.to_srgb8();
        for (i, w) in want.iter().enumerate() {
            for c in 0..3 {
                let g = got[i * 3 + c];
                assert!(
                    (g as i32 - w[c] as i32).abs() <= 1,
                    "{name} patch {i} {:?}: {:?} vs LittleCMS {w:?}",
                    PATCHES[i],
                    &got[i * 3..i * 3 + 3]
                );
            }
        }
        let note = l.meta.colour_profile.unwrap();
        assert!(note.contains("converted to sRGB"), "{note}");
    }
    // an sRGB profile: the exact 8-bit decode, as without a profile
    let l = read(
        "srgb.png",
        moxcms::ColorProfile::new_srgb().encode().unwrap(),
    );
    assert_eq!(l.image.to_srgb8(), PATCHES.concat());
    let lut = srgb8_decode_table();
    assert_eq!(l.image.data[[0, 0, 0]], lut[255]);
    assert!(l.meta.colour_profile.unwrap().contains("is sRGB"));
    // unreadable, or for other data: codes taken as sRGB, and said
    for (name, icc, says) in [
        (
            "junk.png",
            b"not a colour profile at all".repeat(8),
            "unreadable",
        ),
        (
            "grey_profile_on_rgb.png",
            moxcms::ColorProfile::new_gray_with_gamma(2.2)
                .encode()
                .unwrap(),
            "not applied",
        ),
    ] {
        let l = read(name, icc);
        assert_eq!(l.image.to_srgb8(), PATCHES.concat(), "{name}");
        let note = l.meta.colour_profile.unwrap();
        assert!(note.contains(says), "{name}: {note}");
    }
    // no profile: nothing said
    let l = read_rgb(&data(CRC), &RgbLoadOptions::default()).unwrap();
    assert_eq!(l.meta.colour_profile, None);
}

/// Transparent pixels are composited in linear light over the modality's background: white
/// glass for slides, black surround otherwise; opaque pixels keep their values, and the
/// metadata says how many were transparent.
#[test]
fn transparent_pixels_are_composited() {
    let img = test_image();
    let (rows, cols) = img.shape();
    let s8 = img.to_srgb8();
    let alpha = |i: usize| [0u8, 64, 255][i % 3];
    let rgba: Vec<u8> = s8
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], alpha(i)])
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tile.png");
    image::RgbaImage::from_raw(cols as u32, rows as u32, rgba)
        .unwrap()
        .save(&path)
        .unwrap();
    let lut = srgb8_decode_table();
    for (modality, bg) in [(Modality::Histopathology, 1.0f32), (Modality::Fundus, 0.0)] {
        let l = read_rgb(
            &path,
            &RgbLoadOptions {
                modality: Some(modality),
                ..Default::default()
            },
        )
        .unwrap();
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                let a = alpha(i) as f32 / 255.0;
                for ch in 0..3 {
                    let v = lut[s8[i * 3 + ch] as usize];
                    let want = if a < 1.0 { v * a + bg * (1.0 - a) } else { v };
                    assert_eq!(l.image.data[[ch, r, c]], want, "{modality:?} ({r}, {c})");
                }
            }
        }
        let n = (0..rows * cols).filter(|&i| alpha(i) < 255).count();
        let note = l.meta.transparency.unwrap();
        assert!(note.starts_with(&format!("{n} ")), "{note}");
    }
}
