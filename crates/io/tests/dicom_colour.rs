//! Colour DICOM (RGB, YBR_FULL, YBR_FULL_422, PALETTE COLOR incl. segmented 16-bit LUTs) read
//! as colour and as luminance, against pydicom.
//!
//! Reference values come from `tools/pydicom_colour_reference.py` (pydicom 3.0.2, numpy 2.4,
//! pylibjpeg 2.1 with -libjpeg 2.5 / -openjpeg 2.6 / -rle 2.2): encoded colour in `[0, 1]` of
//! the middle frame, per-channel means and 12 pixels at `((7k+3) mod rows, (13k+5) mod cols)`.
//! The files are in tests/data/dicom-colour (see tests/data/README.md for provenance and
//! licences). `corpus_matches_pydicom` (ignored) runs the same comparison over any folder, e.g.
//! pydicom's whole test corpus:
//!
//! ```text
//! v/bin/python tools/pydicom_colour_reference.py DIR/*.dcm > ref.json
//! ARTEFACT_DICOM_REF=ref.json ARTEFACT_DICOM_DIR=DIR \
//!     cargo test -p artefact-io --test dicom_colour -- --ignored
//! ```

use artefact_core::colour::linear_to_srgb;
use artefact_core::Modality;
use artefact_io::{load_volume_with, read_rgb, IoErrorKind, LoadOptions, RgbLoadOptions};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

struct Reference {
    rows: usize,
    cols: usize,
    mean: [f64; 3],
    pixels: Vec<(usize, usize, [f64; 3])>,
}

/// Compare our encoded colour with the reference: pixels within `tol` (in full-scale units),
/// means within `tol` as well.
fn check(path: &Path, r: &Reference, tol: f64) -> Result<(), String> {
    // whole frames, as pydicom gives them (overlay kept, burned-in text allowed: these are
    // test files); ultrasound is still cropped to its scan field
    let opts = RgbLoadOptions {
        allow_burned_in: true,
        keep_overlay: true,
        ..Default::default()
    };
    let l = read_rgb(path, &opts).map_err(|e| e.to_string())?;
    let (rows, cols) = l.image.shape();
    let enc = |c: usize, y: usize, x: usize| linear_to_srgb(l.image.data[[c, y, x]] as f64);
    // ultrasound is cropped to its declared region, or to the scan field found in its pixels
    // when it declares none: compare the reference pixels inside it, at its offset
    if let Some(f) = l
        .meta
        .field_detected
        .as_ref()
        .or(l.meta.region_declared.as_ref())
    {
        if (rows, cols) != (f.y1 - f.y0 + 1, f.x1 - f.x0 + 1) {
            return Err(format!("shape {rows}×{cols} vs detected field {f:?}"));
        }
        for &(y, x, want) in &r.pixels {
            if !(f.y0..=f.y1).contains(&y) || !(f.x0..=f.x1).contains(&x) {
                continue;
            }
            for (c, w) in want.iter().enumerate() {
                let got = enc(c, y - f.y0, x - f.x0);
                // outside a detected sector the crop is blanked
                if (got - w).abs() > tol && got != 0.0 {
                    return Err(format!("pixel ({y},{x}) channel {c}: {got} vs {w}"));
                }
            }
        }
        return Ok(());
    }
    if (rows, cols) != (r.rows, r.cols) {
        return Err(format!("shape {rows}×{cols} vs {}×{}", r.rows, r.cols));
    }
    for c in 0..3 {
        let mut s = 0.0;
        for y in 0..rows {
            for x in 0..cols {
                s += enc(c, y, x);
            }
        }
        let m = s / (rows * cols) as f64;
        if (m - r.mean[c]).abs() > tol {
            return Err(format!("channel {c} mean {m} vs {}", r.mean[c]));
        }
    }
    for &(y, x, want) in &r.pixels {
        for (c, w) in want.iter().enumerate() {
            let got = enc(c, y, x);
            if (got - w).abs() > tol {
                return Err(format!("pixel ({y},{x}) channel {c}: {got} vs {w}"));
            }
        }
    }
    Ok(())
}

/// Encoded colour of the files in tests/data/dicom-colour from pydicom: the output of
///
/// ```text
/// import json, glob, pydicom, pydicom_colour_reference as R   # tools/
/// out = {}
/// for p in sorted(glob.glob('*.dcm')):
///     r = R.reference(p)
///     ts = str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID)
///     out[p] = {"ts": ts, "rows": r["rows"], "cols": r["cols"],
///               "mean": [round(x, 6) for x in r["mean"]],
///               "pixels": [[a, b, [round(x, 6) for x in c]] for a, b, c in r["pixels"]]}
/// print(json.dumps(out, separators=(',', ':')))
/// ```
const PINNED: &str = r#"{"SC_rgb_jpeg.dcm":{"ts":"1.2.840.10008.1.2.4.50","rows":256,"cols":256,"mean":[0.956771,0.956775,0.956723],"pixels":[[3,5,[0.956863,0.956863,0.956863]],[10,18,[0.956863,0.956863,0.956863]],[17,31,[0.956863,0.956863,0.956863]],[24,44,[0.956863,0.956863,0.956863]],[31,57,[0.956863,0.956863,0.956863]],[38,70,[0.956863,0.956863,0.956863]],[45,83,[0.956863,0.956863,0.956863]],[52,96,[0.956863,0.956863,0.956863]],[59,109,[0.956863,0.956863,0.956863]],[66,122,[0.956863,0.956863,0.956863]],[73,135,[0.956863,0.956863,0.956863]],[80,148,[0.956863,0.956863,0.956863]]]},
"SC_jpeg_no_color_transform.dcm":{"ts":"1.2.840.10008.1.2.4.50","rows":256,"cols":256,"mean":[0.956771,0.956775,0.956723],"pixels":[[3,5,[0.956863,0.956863,0.956863]],[10,18,[0.956863,0.956863,0.956863]],[17,31,[0.956863,0.956863,0.956863]],[24,44,[0.956863,0.956863,0.956863]],[31,57,[0.956863,0.956863,0.956863]],[38,70,[0.956863,0.956863,0.956863]],[45,83,[0.956863,0.956863,0.956863]],[52,96,[0.956863,0.956863,0.956863]],[59,109,[0.956863,0.956863,0.956863]],[66,122,[0.956863,0.956863,0.956863]],[73,135,[0.956863,0.956863,0.956863]],[80,148,[0.956863,0.956863,0.956863]]]},
"SC_rgb_dcmtk_+eb+cy+np.dcm":{"ts":"1.2.840.10008.1.2.4.50","rows":100,"cols":100,"mean":[0.500275,0.500824,0.499882],"pixels":[[3,5,[0.996078,0.0,0.0]],[10,18,[1.0,0.462745,0.470588]],[17,31,[1.0,0.501961,0.505882]],[24,44,[0.0,1.0,0.011765]],[31,57,[0.509804,1.0,0.505882]],[38,70,[0.509804,0.996078,0.509804]],[45,83,[0.0,0.0,0.996078]],[52,96,[0.498039,0.498039,0.984314]],[59,9,[0.521569,0.505882,0.886275]],[66,22,[0.0,0.0,0.0]],[73,35,[0.25098,0.25098,0.25098]],[80,48,[0.752941,0.752941,0.752941]]]},
"SC_rgb_rle_16bit.dcm":{"ts":"1.2.840.10008.1.2.5","rows":100,"cols":100,"mean":[0.500784,0.500784,0.500784],"pixels":[[3,5,[1.0,0.0,0.0]],[10,18,[1.0,0.501961,0.501961]],[17,31,[1.0,0.501961,0.501961]],[24,44,[0.0,1.0,0.0]],[31,57,[0.501961,1.0,0.501961]],[38,70,[0.501961,1.0,0.501961]],[45,83,[0.0,0.0,1.0]],[52,96,[0.501961,0.501961,1.0]],[59,9,[0.501961,0.501961,1.0]],[66,22,[0.0,0.0,0.0]],[73,35,[0.25098,0.25098,0.25098]],[80,48,[0.752941,0.752941,0.752941]]]},
"SC_rgb_small_odd.dcm":{"ts":"1.2.840.10008.1.2.1","rows":3,"cols":3,"mean":[0.505882,0.504575,0.504575],"pixels":[[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]],[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]],[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]],[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]]]},
"SC_rgb_small_odd_big_endian.dcm":{"ts":"1.2.840.10008.1.2.2","rows":3,"cols":3,"mean":[0.505882,0.504575,0.504575],"pixels":[[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]],[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]],[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]],[0,2,[0.65098,0.552941,0.203922]],[1,0,[0.247059,0.341176,0.690196]],[2,1,[0.619608,0.619608,0.619608]]]},
"SC_ybr_full_422_uncompressed.dcm":{"ts":"1.2.840.10008.1.2.1","rows":100,"cols":100,"mean":[0.500863,0.500588,0.501294],"pixels":[[3,5,[0.996078,0.0,0.0]],[10,18,[1.0,0.498039,0.517647]],[17,31,[0.996078,0.505882,0.490196]],[24,44,[0.003922,1.0,0.003922]],[31,57,[0.505882,1.0,0.505882]],[38,70,[0.505882,1.0,0.505882]],[45,83,[0.0,0.0,0.996078]],[52,96,[0.501961,0.494118,0.976471]],[59,9,[0.513725,0.486275,0.992157]],[66,22,[0.0,0.0,0.0]],[73,35,[0.25098,0.25098,0.25098]],[80,48,[0.752941,0.752941,0.752941]]]},
"examples_palette.dcm":{"ts":"1.2.840.10008.1.2.1","rows":350,"cols":800,"mean":[0.062265,0.07856,0.099332],"pixels":[[3,5,[0.144533,0.242191,0.367193]],[10,18,[0.531258,0.664073,0.824231]],[17,31,[0.144533,0.242191,0.367193]],[24,44,[0.144533,0.242191,0.367193]],[31,57,[0.144533,0.242191,0.367193]],[38,70,[0.144533,0.242191,0.367193]],[45,83,[0.144533,0.242191,0.367193]],[52,96,[0.144533,0.242191,0.367193]],[59,109,[0.144533,0.242191,0.367193]],[66,122,[0.0,0.0,0.0]],[73,135,[0.0,0.0,0.0]],[80,148,[0.0,0.0,0.0]]]},
"us_bmode_pelvis_aloka_palette16.dcm":{"ts":"1.2.840.10008.1.2","rows":480,"cols":640,"mean":[0.111581,0.115914,0.122318],"pixels":[[3,5,[0.156863,0.176471,0.254902]],[10,18,[0.156863,0.176471,0.254902]],[17,31,[0.156863,0.176471,0.254902]],[24,44,[0.0,0.0,0.0]],[31,57,[0.0,0.0,0.0]],[38,70,[0.0,0.0,0.0]],[45,83,[0.0,0.0,0.0]],[52,96,[0.094118,0.094118,0.094118]],[59,109,[0.14902,0.14902,0.14902]],[66,122,[0.094118,0.094118,0.094118]],[73,135,[0.082353,0.082353,0.082353]],[80,148,[0.094118,0.094118,0.094118]]]}}"#;

/// Lossy syntaxes (JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000 irreversible) may
/// differ by a few codes between decoders (IDCT, chroma upsampling); lossless ones by the
/// rounding of pydicom's YBR → RGB conversion (≤ 1 code of 8 bits).
fn tolerance(ts: &str) -> f64 {
    let lossy = matches!(
        ts,
        "1.2.840.10008.1.2.4.50"
            | "1.2.840.10008.1.2.4.51"
            | "1.2.840.10008.1.2.4.81"
            | "1.2.840.10008.1.2.4.91"
    );
    if lossy {
        3.0 / 255.0
    } else {
        1.0 / 255.0 + 1e-6
    }
}

#[test]
fn pinned_files_match_pydicom() {
    let refs: serde_json::Value = serde_json::from_str(PINNED).unwrap();
    let mut n = 0;
    for (name, v) in refs.as_object().unwrap() {
        if name.starts_with("us_bmode") {
            continue; // has imaging regions: compared cropped in its own test
        }
        let path = data("dicom-colour").join(name);
        check(&path, &parse(v), tolerance(v["ts"].as_str().unwrap()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        n += 1;
    }
    assert_eq!(n, 8);
}

/// Ultrasound stored as PALETTE COLOR (segmented 16-bit LUTs) reads as grey by itself: the
/// luminance of the palette colour, in LUT units, cropped to the largest tissue region of its
/// Sequence of Ultrasound Regions (x 32…335, y 24…415; 0.03827 cm pixels) so the burned-in
/// header (clinic, date) and footer around it are gone.
#[test]
fn ultrasound_palette_reads_as_luminance_of_its_imaging_region() {
    let path = data("dicom-colour/us_bmode_pelvis_aloka_palette16.dcm");
    // the values as stored: burned-in overlay kept (its removal is tested below)
    let keep = LoadOptions {
        keep_overlay: true,
        ..LoadOptions::default()
    };
    let l = load_volume_with(&path, &keep).unwrap();
    assert_eq!(l.meta.modality, Modality::Us);
    assert_eq!(l.volume.data.shape(), &[1, 392, 304]);
    let sp = l.volume.spacing;
    assert!((sp[1] - 0.3826530650258064).abs() < 1e-9, "{sp:?}");
    assert!((sp[2] - 0.3826530650258064).abs() < 1e-9, "{sp:?}");
    let refs: serde_json::Value = serde_json::from_str(PINNED).unwrap();
    let r = parse(&refs["us_bmode_pelvis_aloka_palette16.dcm"]);
    // this file's LUT entries are 16-bit (full scale 65535)
    let mut compared = 0;
    for &(y, x, c) in &r.pixels {
        if !(24..=415).contains(&y) || !(32..=335).contains(&x) {
            continue;
        }
        let luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
        let got = l.volume.data[[0, y - 24, x - 32]] as f64 / 65535.0;
        assert!((got - luma).abs() < 1e-5, "({y},{x}): {got} vs {luma}");
        compared += 1;
    }
    assert!(compared >= 6, "{compared}");
    // the grey bar the scanner drew inside the tissue region (a declared region of Region Data
    // Type 0x0D at x 32…63, y 40…103) is blanked: it was bright before
    let bar = l.volume.data.slice(ndarray::s![0, 16..=79, 0..=31]);
    assert!(bar.iter().all(|&v| v == 0.0), "grey bar left in the image");
    // read as colour, the same region
    let c = read_rgb(&path, &RgbLoadOptions::default()).unwrap();
    assert!(c.meta.overlay_removed > 0);
    assert_eq!(c.image.shape(), (392, 304));
    assert_eq!(
        c.meta.modality,
        Modality::Photo,
        "US is not a colour modality"
    );
}

/// The text, cursor, depth ticks and focus markers the Aloka scanner burned into its tissue
/// region (undeclared: not graphics regions) are painted over. As stored, the region holds
/// 490 pixels at the text level 48830 ("127/128", "20Hz"; nothing else has that value) and 500
/// at 37714 ("LO", the cursor arrow, ticks, focus markers; tissue has ≈ 25 pixels at each
/// nearby level). After loading, no pixel keeps the text level, 37714 is back to a tissue
/// count, the text's box holds speckle-level values only, and nothing else moved: every
/// changed pixel lies within 2 px of an overlay pixel.
#[test]
fn ultrasound_overlay_inside_the_region_is_painted_over() {
    let path = data("dicom-colour/us_bmode_pelvis_aloka_palette16.dcm");
    let keep = LoadOptions {
        keep_overlay: true,
        ..LoadOptions::default()
    };
    let stored = load_volume_with(&path, &keep).unwrap().volume;
    let l = load_volume_with(&path, &LoadOptions::default()).unwrap();
    let clean = &l.volume;
    let at = |v: &artefact_core::Volume, level: f32| {
        v.data.iter().filter(|x| (**x - level).abs() < 1.0).count()
    };
    let (text, marks) = (48830.0, 37714.8);
    assert_eq!(at(&stored, text), 490, "the text as stored");
    assert_eq!(at(&stored, marks), 500, "the markers as stored");
    assert_eq!(at(clean, text), 0, "text pixels left");
    assert!(
        at(clean, marks) <= 40,
        "{} marker pixels left",
        at(clean, marks)
    );
    // "127/128" and "20Hz" (region rows 8–37, columns 214–303): no bright text left
    let corner = clean.data.slice(ndarray::s![0, 8..=37, 214..=303]);
    assert!(corner.iter().all(|&v| v < 40000.0));
    // only pixels near overlay changed
    let (_, rows, cols) = stored.data.dim();
    let overlay = |r: usize, c: usize| {
        let v = stored.data[[0, r, c]];
        (v - text).abs() < 1.0 || (v - marks).abs() < 1.0
    };
    let mut changed = 0;
    for r in 0..rows {
        for c in 0..cols {
            if stored.data[[0, r, c]] != clean.data[[0, r, c]] {
                changed += 1;
                let near = (r.saturating_sub(2)..(r + 3).min(rows))
                    .any(|rr| (c.saturating_sub(2)..(c + 3).min(cols)).any(|cc| overlay(rr, cc)));
                // the inside of an inverse-video box or a glyph's loop may be farther
                let boxed = r < 40 && c > 200;
                assert!(near || boxed, "({r},{c}) changed far from any overlay");
            }
        }
    }
    assert!(changed <= l.meta.overlay_removed);
    assert!(l.meta.overlay_removed >= 990, "{}", l.meta.overlay_removed);
}

/// Ultrasound without a declared imaging region and without a scan field found in its
/// pixels (here 3 × 3) may carry burned-in names anywhere: refused unless the caller allows it.
#[test]
fn ultrasound_without_region_is_refused_unless_allowed() {
    let path = data("dicom-colour/SC_rgb_small_odd.dcm");
    let us = LoadOptions {
        modality: Some(Modality::Us),
        ..LoadOptions::default()
    };
    let e = load_volume_with(&path, &us).unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::BurnedIn(_)), "{e}");
    assert!(e.to_string().contains("--allow-burned-in"), "{e}");
    let ok = load_volume_with(
        &path,
        &LoadOptions {
            allow_burned_in: true,
            ..us
        },
    )
    .unwrap();
    assert_eq!(ok.volume.data.shape(), &[1, 3, 3]);
}

/// A colour object where a grey modality needs grey is refused with advice a user can act on
/// (no internal function names).
#[test]
fn colour_for_a_grey_modality_says_what_to_do() {
    let path = data("dicom-colour/SC_rgb_small_odd.dcm");
    let e = load_volume_with(
        &path,
        &LoadOptions {
            modality: Some(Modality::Ct),
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::Colour(_)), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("SC_rgb_small_odd.dcm"), "{msg}");
    assert!(
        msg.contains("--grey-from-rgb") && msg.contains("fundus"),
        "{msg}"
    );
    assert!(!msg.contains("grey_from_rgb"), "internal name in {msg}");
    let ok = load_volume_with(
        &path,
        &LoadOptions {
            modality: Some(Modality::Ct),
            grey_from_rgb: true,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ok.volume.data.shape(), &[1, 3, 3]);
}

#[test]
fn colour_folder_reads_every_dicom_and_frames_are_checked() {
    let all = artefact_io::load_all_rgb(&data("dicom-colour"), &RgbLoadOptions::default());
    assert_eq!(all.len(), 10);
    for (p, r) in &all {
        let name = p.file_name().unwrap().to_string_lossy();
        if name == "examples_palette.dcm" {
            // obstetric ultrasound without imaging regions: cropped to the sector found in
            // its pixels (tests/us_field.rs), the text around it gone
            let l = r.as_ref().unwrap();
            assert!(l.meta.field_detected.is_some(), "{:?}", l.meta);
        } else {
            assert!(r.is_ok(), "{}: {:?}", p.display(), r.as_ref().err());
        }
    }
    let e = read_rgb(
        &data("dicom-colour/SC_rgb_rle_16bit.dcm"),
        &RgbLoadOptions {
            frame: Some(1),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e.kind, IoErrorKind::Selection(_)), "{e}");
}

fn parse(v: &serde_json::Value) -> Reference {
    let f = |x: &serde_json::Value| x.as_f64().unwrap();
    Reference {
        rows: v["rows"].as_u64().unwrap() as usize,
        cols: v["cols"].as_u64().unwrap() as usize,
        mean: [f(&v["mean"][0]), f(&v["mean"][1]), f(&v["mean"][2])],
        pixels: v["pixels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_u64().unwrap() as usize,
                    p[1].as_u64().unwrap() as usize,
                    [f(&p[2][0]), f(&p[2][1]), f(&p[2][2])],
                )
            })
            .collect(),
    }
}

/// Over a whole folder with a reference JSON (see the module docs).
#[test]
#[ignore = "needs ARTEFACT_DICOM_REF and ARTEFACT_DICOM_DIR (pydicom's corpus)"]
fn corpus_matches_pydicom() {
    let (Ok(reference), Ok(dir)) = (
        std::env::var("ARTEFACT_DICOM_REF"),
        std::env::var("ARTEFACT_DICOM_DIR"),
    ) else {
        panic!("set ARTEFACT_DICOM_REF and ARTEFACT_DICOM_DIR");
    };
    let refs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut passed = 0;
    for (name, v) in refs.as_object().unwrap() {
        let path = Path::new(&dir).join(name);
        let tol = tolerance(v["ts"].as_str().unwrap_or(""));
        match check(&path, &parse(v), tol) {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{passed} match; {} differ", failures.len());
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A colour DICOM object's ICC Profile (0028,2000) is applied as a PNG's embedded profile is:
/// the same codes with the same Display P3 profile give the same linear values by both readers
/// (the PNG path is checked against LittleCMS in tests/colour.rs).
#[test]
fn dicom_icc_profile_is_applied_like_a_png_profile() {
    use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
    use image::ImageEncoder;
    let src = data("dicom-colour/SC_rgb_small_odd.dcm");
    let plain = read_rgb(&src, &RgbLoadOptions::default()).unwrap();
    assert_eq!(plain.meta.colour_profile, None);
    let (rows, cols) = plain.image.shape();
    let codes = plain.image.to_srgb8();
    let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut obj = dicom_object::open_file(&src).unwrap();
    obj.put(DataElement::new(
        Tag(0x0028, 0x2000),
        VR::OB,
        PrimitiveValue::from(icc.clone()),
    ));
    let dcm = dir.path().join("p3.dcm");
    obj.write_to_file(&dcm).unwrap();
    let mut png = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut png);
    enc.set_icc_profile(icc).unwrap();
    enc.write_image(
        &codes,
        cols as u32,
        rows as u32,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    let pp = dir.path().join("p3.png");
    std::fs::write(&pp, png).unwrap();
    let from_dicom = read_rgb(&dcm, &RgbLoadOptions::default()).unwrap();
    let from_png = read_rgb(&pp, &RgbLoadOptions::default()).unwrap();
    assert!(from_dicom
        .meta
        .colour_profile
        .as_deref()
        .unwrap()
        .contains("converted to sRGB"));
    assert_eq!(from_dicom.image.data, from_png.image.data);
    assert_ne!(from_dicom.image.data, plain.image.data);
}

/// An RGB JPEG frame with neither JFIF nor Adobe segment and component ids 1, 2, 3 (decoders
/// guess YCbCr for it; Photometric Interpretation RGB says the samples are stored as is) on a
/// real, non-uniform picture: pydicom's `SC_jpeg_no_color_transform.dcm` is nearly uniform and
/// would not show rows coming out plane by plane. The file holds the 176×200 H&E crop of
/// tests/data/photo/tiff-jpeg encoded by libjpeg-turbo (imagecodecs `jpeg8_encode(a, level=90,
/// colorspace='rgb', outcolorspace='rgb')`, APP14 removed, ids 'R','G','B' set to 1, 2, 3;
/// written by pydicom 3.0.2 as Secondary Capture, JPEG Baseline). Its libjpeg-turbo decode
/// (`jpeg8_decode(jpg, colorspace='rgb', outcolorspace='rgb')`) is pixel for pixel the one of
/// the RGB-strip TIFF there (same encoder, same 8×8 blocks), so that PNG is the reference.
#[test]
fn rgb_jpeg_without_markers_agrees_with_libjpeg_turbo() {
    let path = data("dicom-colour/SC_rgb_jpeg_ids123_no_markers.dcm");
    let l = read_rgb(&path, &RgbLoadOptions::default()).unwrap();
    assert_eq!(l.image.shape(), (176, 200));
    let ours = l.image.to_srgb8();
    let reference = image::open(data("photo/tiff-jpeg/he_jpeg_rgb_strips48_libjpeg.png"))
        .unwrap()
        .to_rgb8()
        .into_raw();
    let max = ours
        .iter()
        .zip(&reference)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    let mean = ours
        .iter()
        .zip(&reference)
        .map(|(a, b)| a.abs_diff(*b) as f64)
        .sum::<f64>()
        / ours.len() as f64;
    assert!(max <= 2 && mean < 0.1, "max {max}, mean {mean}");
}
