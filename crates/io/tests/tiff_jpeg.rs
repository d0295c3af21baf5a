//! JPEG-compressed TIFF (the slide-scanner layout) against libjpeg-turbo.
//!
//! The fixtures in tests/data/photo/tiff-jpeg are a 176×200 crop (rows 200–375, columns
//! 100–299) of the CC0 H&E skin photograph in tests/data/photo/histopathology, written by
//! tifffile 2026.3.3 / imagecodecs (libjpeg-turbo) in four layouts; each `*_libjpeg.png` is that
//! file decoded by tifffile (libjpeg-turbo, `jpeg_decode` with tifffile's colour rules) and, for
//! the Orientation 6 file, turned 90° clockwise as viewers show it:
//!
//! ```python
//! a = np.asarray(Image.open(SKIN).convert('RGB'))[200:376, 100:300]
//! # YCbCr 4:2:0, 64×64 tiles (edge tiles reach past the image), q 90
//! tifffile.imwrite('he_jpeg_ycbcr420_tiles64.tif', a, photometric='rgb', compression='jpeg',
//!                  compressionargs={'level': 90}, tile=(64, 64))
//! # RGB-coded JPEG without JFIF or Adobe segment (the Aperio form), strips of 48 rows
//! strips = [drop_app14(imagecodecs.jpeg8_encode(a[y:y+48], level=90, colorspace='rgb',
//!           outcolorspace='rgb')) for y in range(0, 176, 48)]
//! tifffile.imwrite('he_jpeg_rgb_strips48.tif', iter(strips), shape=a.shape, dtype='uint8',
//!                  photometric='rgb', compression='jpeg',
//!                  compressionargs={'outcolorspace': 'rgb'}, rowsperstrip=48)
//! # abbreviated YCbCr tiles sharing a JPEGTables tag (DQT/DHT moved out of each stream), q 85,
//! # Orientation 6
//! tifffile.imwrite('he_jpeg_tables_tiles64_orient6.tif', iter(abbreviated), shape=a.shape,
//!                  dtype='uint8', photometric='ycbcr', compression='jpeg', tile=(64, 64),
//!                  subsampling=(2, 2), extratags=[(347, 7, len(tables), tables, True),
//!                                                 (274, 3, 1, 6, True)])
//! # grey (BlackIsZero), one strip
//! tifffile.imwrite('he_jpeg_grey.tif', np.asarray(Image.fromarray(a).convert('L')),
//!                  photometric='minisblack', compression='jpeg', compressionargs={'level': 90})
//! ref = tifffile.imread(f)            # then np.rot90(ref, -1) for the Orientation 6 file
//! ```
//!
//! Two JPEG decoders agree to within rounding of their inverse DCT and chroma upsampling, not
//! bit for bit; a wrong colour transform or a misplaced tile is off by tens of codes.

use artefact_core::Modality;
use artefact_io::{read_rgb, IoErrorKind, LoadOptions, RgbLoadOptions};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

const SKIN: &str = "photo/histopathology/he_skin_cmu1_small_region_aperio20x_x600_y1500_768px.png";

fn histo() -> RgbLoadOptions {
    RgbLoadOptions {
        modality: Some(Modality::Histopathology),
        ..Default::default()
    }
}

/// (max, mean) absolute difference of two equally long 8-bit buffers.
fn diff(a: &[u8], b: &[u8]) -> (u8, f64) {
    assert_eq!(a.len(), b.len());
    let max = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
    let sum: u64 = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as u64).sum();
    (max, sum as f64 / a.len() as f64)
}

/// The source crop, turned 90° clockwise when `turned`.
fn source_crop(turned: bool) -> Vec<u8> {
    let src = image::open(data(SKIN)).unwrap().to_rgb8();
    let crop = image::imageops::crop_imm(&src, 100, 200, 200, 176).to_image();
    if turned {
        image::imageops::rotate90(&crop).into_raw()
    } else {
        crop.into_raw()
    }
}

#[test]
fn colour_layouts_agree_with_libjpeg_turbo() {
    for (name, turned) in [
        ("he_jpeg_ycbcr420_tiles64", false),
        ("he_jpeg_rgb_strips48", false),
        ("he_jpeg_tables_tiles64_orient6", true),
    ] {
        let path = data(&format!("photo/tiff-jpeg/{name}.tif"));
        let l = read_rgb(&path, &histo()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want_shape = if turned { (200, 176) } else { (176, 200) };
        assert_eq!(l.image.shape(), want_shape, "{name}");
        assert_eq!(l.meta.orientation_applied.is_some(), turned, "{name}");
        let ours = l.image.to_srgb8();
        let reference = image::open(data(&format!("photo/tiff-jpeg/{name}_libjpeg.png")))
            .unwrap()
            .to_rgb8()
            .into_raw();
        let (max, mean) = diff(&ours, &reference);
        eprintln!("{name}: against libjpeg-turbo max {max}, mean {mean:.3}");
        assert!(max <= 3 && mean < 0.5, "{name}: max {max}, mean {mean}");
        // and the picture is the source's, through a q 85–90 JPEG
        let (_, mean) = diff(&ours, &source_crop(turned));
        assert!(
            mean < 6.0,
            "{name}: {mean} codes from the source on average"
        );
    }
}

#[test]
fn grey_layout_agrees_with_libjpeg_turbo_in_both_readers() {
    let path = data("photo/tiff-jpeg/he_jpeg_grey.tif");
    let reference = image::open(data("photo/tiff-jpeg/he_jpeg_grey_libjpeg.png"))
        .unwrap()
        .to_luma8()
        .into_raw();
    let grey = artefact_io::load_volume_with(&path, &LoadOptions::default()).unwrap();
    let ours: Vec<u8> = grey.volume.data.iter().map(|&v| v as u8).collect();
    assert_eq!(grey.volume.data.dim(), (1, 176, 200));
    let (max, mean) = diff(&ours, &reference);
    assert!(max <= 2 && mean < 0.5, "grey: max {max}, mean {mean}");
    let colour = read_rgb(&path, &histo()).unwrap().image.to_srgb8();
    for (px, &g) in colour.chunks_exact(3).zip(&ours) {
        assert_eq!(px, [g, g, g]);
    }
}

/// A cut-off or damaged JPEG TIFF is an error naming the file, never a filled-in picture.
#[test]
fn damaged_jpeg_tiffs_are_refused() {
    let good = std::fs::read(data("photo/tiff-jpeg/he_jpeg_ycbcr420_tiles64.tif")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // the last tile cut short: the file ends inside it
    let cut = dir.path().join("cut.tif");
    std::fs::write(&cut, &good[..good.len() - 300]).unwrap();
    // every tile's entropy-coded data overwritten with a marker that ends it early
    let mut smashed = good.clone();
    let starts: Vec<usize> = (0..smashed.len() - 1)
        .filter(|&i| smashed[i] == 0xFF && smashed[i + 1] == 0xDA)
        .collect();
    assert_eq!(starts.len(), 12, "one scan per tile");
    for s in starts {
        let at = s + 40;
        smashed[at..at + 2].copy_from_slice(&[0xFF, 0xD9]);
        smashed[at + 2..at + 200].fill(0);
    }
    let smashed_path = dir.path().join("smashed.tif");
    std::fs::write(&smashed_path, &smashed).unwrap();
    for p in [&cut, &smashed_path] {
        let e = read_rgb(p, &histo()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(p.file_name().unwrap().to_str().unwrap()),
            "{msg}"
        );
        assert!(
            matches!(e.kind, IoErrorKind::Truncated(_) | IoErrorKind::Invalid(_)),
            "{msg}"
        );
        eprintln!("{msg}");
    }
}

/// Cut anywhere, the file is refused naming it; bytes flipped anywhere, it loads or is refused
/// naming it (a flip inside entropy-coded data can decode to other valid samples, as with any
/// JPEG reader), and the reader never panics (`read_rgb` reports a caught panic as "loading
/// failed on malformed data").
#[test]
fn cuts_and_flips_never_panic_and_cuts_are_refused() {
    let good = std::fs::read(data("photo/tiff-jpeg/he_jpeg_tables_tiles64_orient6.tif")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hostile.tif");
    let check = |bytes: &[u8], must_fail: bool| {
        std::fs::write(&p, bytes).unwrap();
        match read_rgb(&p, &histo()) {
            Ok(_) => assert!(!must_fail, "a file cut to {} bytes loaded", bytes.len()),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains("hostile.tif"), "{msg}");
                assert!(!msg.contains("failed on malformed data"), "a panic: {msg}");
            }
        }
    };
    for cut in (0..good.len()).step_by(97) {
        check(&good[..cut], true);
    }
    let mut x = 0x9E37_79B9u32;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let mut b = good.clone();
        let at = x as usize % b.len();
        b[at] ^= 1 << (x >> 29);
        check(&b, false);
    }
}
