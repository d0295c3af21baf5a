//! End-to-end tests of `artefact inspect` on the bundled fixtures (tests/data), running the
//! built binary. A small ripgrep-style harness: `cmd_test!` runs the binary with arguments
//! from the repository root and hands the test body the exit code and stdout.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn artefact(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_artefact"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run artefact");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// `cmd_test!(name, [args…], |run| { … })`: a test running `artefact args…`.
macro_rules! cmd_test {
    ($name:ident, [$($arg:expr),* $(,)?], |$run:ident| $body:block) => {
        #[test]
        fn $name() {
            let $run = artefact(&[$($arg),*]);
            $body
        }
    };
}

/// Every fixture, as the entry name inspect prints.
const FIXTURES: &[&str] = &[
    "tests/data/bad/MR_truncated.dcm",
    "tests/data/dicom/CT_head_512.dcm",
    "tests/data/dicom/CT_small.dcm",
    "tests/data/dicom/JPEG-lossy.dcm",
    "tests/data/dicom/MR_abdomen_484.dcm",
    "tests/data/dicom/MR_multiframe_64x64x10.dcm",
    "tests/data/dicom/MR_small.dcm",
    "tests/data/dicom/MR_small_RLE.dcm",
    "tests/data/dicom/MR_small_bigendian.dcm",
    "tests/data/dicom/MR_small_implicit.dcm",
    "tests/data/dicom/MR_small_jp2klossless.dcm",
    "tests/data/dicom/MR_small_jpeg_ls_lossless.dcm",
    "tests/data/dicom/liver_1frame.dcm",
    "tests/data/nifti/anatomical.nii",
    "tests/data/nifti/example4d.nii.gz",
    "tests/data/nifti/example_nifti2.nii.gz",
    "tests/data/nifti/mni152_t1_1mm.nii.gz",
];

/// Patient names, IDs and birth dates held by the fixtures (read with pydicom):
/// none may ever appear in inspect's output.
const PHI: &[&str] = &[
    "CompressedSamples",
    "1CT1",
    "4MR1",
    "8NM1",
    "CQ500",
    "Sssssss",
    "021234567",
    "11111111",
    "20000101",
    "JANCT000",
    "99000",
    "Lestrade",
    "Lastname",
    "id11111",
];

fn assert_no_phi(text: &str) {
    for p in PHI {
        assert!(!text.contains(p), "output leaks `{p}`:\n{text}");
    }
}

/// The block of text lines inspect prints for one entry.
fn block<'a>(out: &'a str, path: &str) -> &'a str {
    let start = out
        .find(&format!("{path}\n"))
        .unwrap_or_else(|| panic!("{path} not listed:\n{out}"));
    let rest = &out[start + path.len() + 1..];
    let end = rest
        .find("\ntests/data/")
        .or_else(|| rest.find(" source(s):"))
        .unwrap_or(rest.len());
    &rest[..end]
}

cmd_test!(lists_every_fixture, ["inspect", "tests/data"], |run| {
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    for f in FIXTURES {
        assert!(out.contains(&format!("{f}\n")), "{f} missing:\n{out}");
    }
    assert!(!out.contains("README"), "README.md must be skipped");
    assert!(out.contains("50 source(s)"), "{out}");
    // the bad ones carry errors naming the reason
    assert!(block(out, "tests/data/bad/MR_truncated.dcm").contains("ERROR     truncated"));
    assert!(block(out, "tests/data/dicom/liver_1frame.dcm").contains("Segmentation Storage (SEG)"));
    let ls = block(out, "tests/data/dicom/MR_small_jpeg_ls_lossless.dcm");
    // decoded by the pure-Rust JPEG-LS and 12-bit JPEG decoders
    assert!(
        ls.contains("JPEG-LS Lossless") && ls.contains("values    127 … 2145"),
        "{ls}"
    );
    let lossy = block(out, "tests/data/dicom/JPEG-lossy.dcm");
    assert!(
        lossy.contains("JPEG Extended") && lossy.contains("values    0 … 264"),
        "{lossy}"
    );
    // the good ones: modality, size, spacing, values, transfer syntax, frames/volumes
    let ct = block(out, "tests/data/dicom/CT_small.dcm");
    assert!(
        ct.contains("Explicit VR Little Endian, 1.2.840.10008.1.2.1"),
        "{ct}"
    );
    assert!(ct.contains("modality  CT"), "{ct}");
    assert!(ct.contains("size      128 × 128 × 1"), "{ct}");
    assert!(ct.contains("spacing   0.6615 × 0.6615 × 5 mm"), "{ct}");
    assert!(ct.contains("values    -896 … 1167 HU"), "{ct}");
    // colour photographs are summarised as colour in linear light, not refused
    let fundus = block(
        out,
        "tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg",
    );
    assert!(
        fundus.contains("size      1411 × 1411 × 1 voxels (x × y × z), colour (RGB)")
            && fundus.contains("linear light")
            && !fundus.contains("ERROR"),
        "{fundus}"
    );
    // a JPEG-compressed YCbCr TIFF (the slide-scanner layout) reads as colour
    let svs = block(
        out,
        "tests/data/photo/tiff-jpeg/he_jpeg_ycbcr420_tiles64.tif",
    );
    assert!(
        svs.contains("size      200 × 176 × 1 voxels (x × y × z), colour (RGB)")
            && !svs.contains("ERROR"),
        "{svs}"
    );
    let mf = block(out, "tests/data/dicom/MR_multiframe_64x64x10.dcm");
    assert!(
        mf.contains("size      64 × 64 × 10") && mf.contains("frames    10"),
        "{mf}"
    );
    let mni = block(out, "tests/data/nifti/mni152_t1_1mm.nii.gz");
    assert!(
        mni.contains("NIfTI-1") && mni.contains("197 × 233 × 189"),
        "{mni}"
    );
    assert!(
        mni.contains("spacing   1 × 1 × 1 mm") && mni.contains("values    0 … 255"),
        "{mni}"
    );
    let anat = block(out, "tests/data/nifti/anatomical.nii");
    assert!(
        anat.contains("33 × 41 × 25") && anat.contains("2 × 2 × 2 mm"),
        "{anat}"
    );
    let n4 = block(out, "tests/data/nifti/example4d.nii.gz");
    assert!(n4.contains("volumes 2 (showing volume 0)"), "{n4}");
    assert!(block(out, "tests/data/nifti/example_nifti2.nii.gz").contains("NIfTI-2"));
    for v in [
        "RLE Lossless",
        "Explicit VR Big Endian",
        "Implicit VR Little Endian",
        "JPEG 2000 Image Compression (Lossless Only)",
    ] {
        assert!(out.contains(v), "{v} missing");
    }
    assert_no_phi(out);
    assert_no_phi(&run.stderr);
});

cmd_test!(
    strict_fails_when_an_entry_fails,
    ["inspect", "--strict", "tests/data"],
    |run| {
        assert_ne!(run.code, 0);
        assert!(run.stdout.contains("50 source(s)"));
    }
);

cmd_test!(
    strict_passes_when_all_read,
    [
        "inspect",
        "--strict",
        "tests/data/dicom/CT_small.dcm",
        "tests/data/nifti"
    ],
    |run| {
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert!(
            run.stdout.contains("5 source(s): 5 read, 0 failed"),
            "{}",
            run.stdout
        );
    }
);

cmd_test!(
    nothing_readable_is_an_error,
    [
        "inspect",
        "tests/data/bad",
        "tests/data/dicom/liver_1frame.dcm"
    ],
    |run| {
        assert_eq!(run.code, 1);
        assert!(run.stdout.contains("0 read, 2 failed"), "{}", run.stdout);
    }
);

cmd_test!(
    missing_path_is_an_error_naming_it,
    ["inspect", "tests/data/no_such_file.nii"],
    |run| {
        assert_eq!(run.code, 1);
        assert!(run.stdout.contains("no_such_file.nii"), "{}", run.stdout);
    }
);

cmd_test!(no_arguments_is_a_usage_error, ["inspect"], |run| {
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("PATH"), "{}", run.stderr);
});

cmd_test!(
    json_parses_and_carries_the_fields,
    ["inspect", "--json", "tests/data"],
    |run| {
        assert_eq!(run.code, 0);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 50);
        assert_eq!(
            v["read"].as_u64().unwrap() + v["failed"].as_u64().unwrap(),
            50
        );
        let find = |suffix: &str| {
            entries
                .iter()
                .find(|e| e["path"].as_str().unwrap().ends_with(suffix))
                .unwrap_or_else(|| panic!("{suffix}"))
        };
        let ct = find("CT_small.dcm");
        assert_eq!(ct["status"], "ok");
        assert_eq!(ct["modality"], "CT");
        assert_eq!(ct["unit"], "HU");
        assert_eq!(ct["size_xyz"], serde_json::json!([128, 128, 1]));
        assert_eq!(ct["range"], serde_json::json!([-896.0, 1167.0]));
        assert_eq!(ct["transfer_syntax"]["uid"], "1.2.840.10008.1.2.1");
        assert_eq!(ct["frames"], 1);
        let seg = find("liver_1frame.dcm");
        assert_eq!(seg["status"], "error");
        assert_eq!(seg["kind"], "not-an-image");
        assert!(seg["message"]
            .as_str()
            .unwrap()
            .contains("liver_1frame.dcm"));
        let n2 = find("example_nifti2.nii.gz");
        assert_eq!(n2["format"], "NIfTI-2");
        assert_eq!(n2["volumes"], 2);
        assert_eq!(find("MR_truncated.dcm")["kind"], "truncated");
        assert_no_phi(&run.stdout);
    }
);

cmd_test!(
    no_phi_for_ct_small_text,
    ["inspect", "tests/data/dicom/CT_small.dcm"],
    |run| {
        assert_eq!(run.code, 0);
        assert!(!run.stdout.contains("CompressedSamples^CT1") && !run.stdout.contains("1CT1"));
        assert_no_phi(&run.stdout);
    }
);

cmd_test!(
    no_phi_for_ct_small_json,
    ["inspect", "--json", "tests/data/dicom/CT_small.dcm"],
    |run| {
        assert_eq!(run.code, 0);
        assert!(!run.stdout.contains("CompressedSamples") && !run.stdout.contains("1CT1"));
    }
);

cmd_test!(
    volume_option_picks_the_second_volume,
    [
        "inspect",
        "--volume",
        "1",
        "tests/data/nifti/example4d.nii.gz"
    ],
    |run| {
        assert_eq!(run.code, 0);
        assert!(
            run.stdout.contains("showing volume 1") && run.stdout.contains("0 … 1140"),
            "{}",
            run.stdout
        );
    }
);

#[test]
fn directory_series_and_bad_files_in_a_temp_tree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        root().join("tests/data/dicom/CT_small.dcm"),
        d.join("a.dcm"),
    )
    .unwrap();
    std::fs::write(d.join("broken.nii"), b"not a nifti").unwrap();
    std::fs::write(d.join("notes.txt"), b"skipped").unwrap();
    let run = artefact(&["inspect", d.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("2 source(s): 1 read, 1 failed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("broken.nii") && run.stdout.contains("wrong magic"));
    assert!(!run.stdout.contains("notes.txt"));
    let strict = artefact(&["inspect", "--strict", d.to_str().unwrap()]);
    assert_eq!(strict.code, 1);
}
