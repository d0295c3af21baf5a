//! `degrade -o X.dcm`: DICOM output (Multi-frame Grayscale Word Secondary Capture) of a slice
//! and of a whole volume, and of a colour photograph (Multi-frame True Color SC), read back in source units, byte-reproducible, carrying nothing of
//! the source's header; and (opt-in, needs Debian's dicom3tools and dcmtk) valid under
//! `dciodvfy` and readable by dcmtk.

use std::path::{Path, PathBuf};
use std::process::Command;

fn artefact() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_artefact"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn degrade(input: &str, attribute: &str, out: &Path) {
    let o = artefact()
        .args(["degrade", input, "--attribute", attribute])
        .args(["--severity", "severe", "--seed", "4", "-o"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The DICOM and NIfTI outputs of the same degradation, for each case.
fn outputs(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut v = Vec::new();
    for (input, attribute, name) in [
        ("tests/data/dicom/CT_small.dcm", "ring", "ct_ring"),
        (
            "tests/data/nifti/mni152_t1_1mm.nii.gz",
            "motion",
            "mni_motion",
        ),
    ] {
        let dcm = dir.join(format!("{name}.dcm"));
        let nii = dir.join(format!("{name}.nii"));
        degrade(input, attribute, &dcm);
        degrade(input, attribute, &nii);
        v.push((dcm, nii));
    }
    v
}

#[test]
fn dicom_output_reads_back_in_source_units_and_carries_nothing_of_the_source() {
    let dir = tempfile::tempdir().unwrap();
    for (dcm, nii) in outputs(dir.path()) {
        let d = artefact_io::load_volume(&dcm).unwrap().volume;
        let n = artefact_io::load_volume(&nii).unwrap().volume;
        assert_eq!(d.shape(), n.shape(), "{}", dcm.display());
        // the DICOM carries the source's modality (NIfTI has none)
        let ct = dcm.ends_with("ct_ring.dcm");
        assert_eq!(d.modality.to_string(), if ct { "CT" } else { "MR" });
        let (lo, hi) = n
            .data
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        // 16-bit quantisation of the range: at most half a step (+ f32 rounding)
        let step = (hi - lo) as f64 / 65535.0;
        let err = d
            .data
            .iter()
            .zip(n.data.iter())
            .map(|(a, b)| (a - b).abs() as f64)
            .fold(0.0, f64::max);
        assert!(
            err <= 0.5 * step + 1e-4 * hi.abs().max(1.0) as f64,
            "{err} vs step {step}"
        );
        // same degradation, same bytes
        let again = dir.path().join("again.dcm");
        let src = if dcm.ends_with("ct_ring.dcm") {
            ("tests/data/dicom/CT_small.dcm", "ring")
        } else {
            ("tests/data/nifti/mni152_t1_1mm.nii.gz", "motion")
        };
        degrade(src.0, src.1, &again);
        assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&dcm).unwrap());
    }
    // CT_small.dcm's identifying values (patient, institution, dates, times, other IDs, its
    // UID root; from `dcmdump tests/data/dicom/CT_small.dcm`) appear nowhere in the output
    let bytes = std::fs::read(dir.path().join("ct_ring.dcm")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for secret in [
        "CompressedSamples",
        "1CT1",
        "JFK IMAGING",
        "20040119",
        "19970430",
        "072730",
        "112749",
        "ABCD1234",
        "1234ABCD",
        "1.3.6.1.4.1.5962",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked into the DICOM output"
        );
    }
    assert!(text.contains("2.25."), "UUID-derived UIDs");
}

const FUNDUS: &str = "tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg";

/// A colour photograph degraded to `.dcm`: a True Color Secondary Capture holding exactly the
/// sRGB bytes of the PNG of the same degradation.
#[test]
fn colour_dicom_output_holds_the_png_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (dcm, png) = (dir.path().join("f.dcm"), dir.path().join("f.png"));
    degrade(FUNDUS, "defocus", &dcm);
    degrade(FUNDUS, "defocus", &png);
    let shown = image::open(&png).unwrap().to_rgb8();
    let opts = artefact_io::RgbLoadOptions::default();
    let back = artefact_io::read_rgb(&dcm, &opts).unwrap();
    assert_eq!(
        back.image.shape(),
        (shown.height() as usize, shown.width() as usize)
    );
    let (a, b) = (back.image.to_srgb8(), shown.as_raw().clone());
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    assert!(
        a == b,
        "DICOM and PNG pixels differ: {differ} of {} samples, by up to {worst}",
        a.len()
    );
    let again = dir.path().join("again.dcm");
    degrade(FUNDUS, "defocus", &again);
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&dcm).unwrap());
    let text = String::from_utf8_lossy(&std::fs::read(&dcm).unwrap()).to_string();
    assert!(
        text.contains("1.2.840.10008.5.1.4.1.1.7.4"),
        "True Color SC"
    );
}

/// dciodvfy (dicom3tools) finds no error, dcmtk's dcmdump reads the object.
#[test]
#[ignore = "needs /usr/bin/dciodvfy and /usr/bin/dcmdump (Debian packages dicom3tools, dcmtk); run with --ignored"]
fn dicom_output_passes_dciodvfy_and_dcmtk_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let colour = dir.path().join("fundus.dcm");
    degrade(FUNDUS, "defocus", &colour);
    let mut files: Vec<PathBuf> = outputs(dir.path()).into_iter().map(|(d, _)| d).collect();
    files.push(colour.clone());
    for dcm in files {
        let grey = dcm != colour;
        let v = Command::new("dciodvfy").arg(&dcm).output().unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        let iod = if grey {
            "MultiframeGrayscaleWordSCImage"
        } else {
            "MultiframeTrueColorSCImage"
        };
        assert!(report.contains(iod), "{report}");
        let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("Error")).collect();
        assert!(errors.is_empty(), "{}:\n{report}", dcm.display());
        let d = Command::new("dcmdump").arg(&dcm).output().unwrap();
        assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
        let dump = String::from_utf8_lossy(&d.stdout);
        let class = if grey {
            "MultiframeGrayscaleWordSecondaryCaptureImageStorage"
        } else {
            "MultiframeTrueColorSecondaryCaptureImageStorage"
        };
        assert!(dump.contains(class), "{dump}");
        assert!(dump.contains("(0012,0062) CS [YES]"), "{dump}");
    }
}
