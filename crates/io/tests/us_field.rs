//! Ultrasound without a Sequence of Ultrasound Regions: the scan field is found in the pixels
//! (`us_field`), the frame cropped to it and everything outside blanked, on real files.

use artefact_core::Modality;
use artefact_io::{load_volume_with, IoErrorKind, LoadOptions};
use dicom_core::Tag;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

/// The Aloka B-mode with its region sequence removed: the detector finds the left view
/// (the recorded tissue region x 32…335, y 24…415, where a second view touches it at x 336)
/// within a few pixels, and the cropped values are the declared-region crop's.
#[test]
fn aloka_without_its_regions_gets_the_recorded_field() {
    let src = data("dicom-colour/us_bmode_pelvis_aloka_palette16.dcm");
    let mut obj = dicom_object::open_file(&src).unwrap();
    assert!(obj.remove_element(Tag(0x0018, 0x6011)));
    let dir = tempfile::tempdir().unwrap();
    let stripped = dir.path().join("aloka_no_regions.dcm");
    obj.write_to_file(&stripped).unwrap();

    let keep = LoadOptions {
        keep_overlay: true,
        ..LoadOptions::default()
    };
    let declared = load_volume_with(&src, &keep).unwrap();
    let found = load_volume_with(&stripped, &keep).unwrap();
    let f = found.meta.field_detected.clone().expect("a detected field");
    eprintln!("{f:?}");
    assert_eq!(f.shape, "rectangle");
    let want = (32, 24, 335, 415);
    let got = (f.x0, f.y0, f.x1, f.y1);
    for (g, w) in [
        (got.0, want.0),
        (got.1, want.1),
        (got.2, want.2),
        (got.3, want.3),
    ] {
        assert!(g.abs_diff(w) <= 3, "{got:?} vs recorded {want:?}");
    }
    // no physical size without the region (no Pixel Spacing either)
    assert!(found.meta.spacing_assumed);
    // inside both crops the values are the file's
    let (_, rows, cols) = found.volume.data.dim();
    let mut same = 0;
    let mut both = 0;
    for r in 0..rows {
        for c in 0..cols {
            let (y, x) = (r + f.y0, c + f.x0);
            if (40..=400).contains(&y) && (70..=330).contains(&x) {
                both += 1;
                same += (found.volume.data[[0, r, c]] == declared.volume.data[[0, y - 24, x - 32]])
                    as usize;
            }
        }
    }
    assert_eq!(same, both);
    // the header (clinic, date) and footer rows are not in the crop: it starts below row 20
    assert!(f.y0 >= 20 && f.y1 <= 420);
}

/// Philips obstetric B-mode (palette colour, no region sequence, no Burned In Annotation): the
/// convex sector is found, the text around it (clinic, date, settings, a caliper) is cut away.
#[test]
fn philips_sector_without_regions_is_found() {
    let path = data("dicom-colour/examples_palette.dcm");
    let l = load_volume_with(&path, &LoadOptions::default()).unwrap();
    let f = l.meta.field_detected.clone().expect("a detected field");
    eprintln!("{f:?}");
    assert_eq!(f.shape, "sector");
    // the sector lies below the header bar (rows 0–58) and right of the settings text
    // (columns 0–90), and left of the grey bar (column ≥ 775)
    assert!(f.y0 >= 58 && f.x0 > 200 && f.x1 < 700, "{f:?}");
}

/// A CT slice labelled as ultrasound is no ultrasound screen: no confident field, a clear
/// refusal naming the file and what to do.
#[test]
fn non_ultrasound_image_gives_no_field() {
    for name in ["dicom/CT_head_512.dcm", "dicom/MR_abdomen_484.dcm"] {
        let path = data(name);
        let e = load_volume_with(
            &path,
            &LoadOptions {
                modality: Some(Modality::Us),
                ..LoadOptions::default()
            },
        )
        .unwrap_err();
        assert!(matches!(e.kind, IoErrorKind::BurnedIn(_)), "{e}");
        let msg = e.to_string();
        eprintln!("{msg}");
        assert!(
            msg.contains(path.file_name().unwrap().to_str().unwrap()),
            "{msg}"
        );
        assert!(msg.contains("no scan field found"), "{msg}");
        assert!(msg.contains("--allow-burned-in"), "{msg}");
    }
}
