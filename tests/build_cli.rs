//! End-to-end: `artefact build` of the bundled demo benchmark with the real simulators on the
//! real files, `--jobs` independence, replay through the CLI, `degrade` and `recipes check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn artefact() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_artefact"));
    // an explicit key: builds compared byte for byte must share their pseudonymisation key
    // (without one, every build draws its own random key; see README "Privacy")
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ARTEFACT_KEY_SECRET", "artefact test key");
    c
}

fn run_ok(c: &mut Command) -> String {
    let out = c.output().expect("run artefact");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{c:?} failed:\n{text}");
    text
}

fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn demo_build_is_complete_reproducible_and_replayable() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let text = run_ok(
        artefact()
            .args(["build", "-o"])
            .arg(&a)
            .args(["--jobs", "1"]),
    );
    assert!(text.contains("built `demo`"), "{text}");
    run_ok(
        artefact()
            .args(["build", "recipes/benchmarks/demo.toml", "-o"])
            .arg(&b)
            .args(["--jobs", "2"]),
    );
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    let differ: Vec<_> = ta.keys().filter(|k| ta[*k] != tb[*k]).collect();
    assert!(differ.is_empty(), "--jobs 1 vs 2 differ: {differ:?}");

    for f in [
        "manifest.jsonl",
        "perception.jsonl",
        "reasoning.jsonl",
        "pairs.jsonl",
        "summary.json",
        "build.json",
    ] {
        assert!(a.join(f).is_file(), "{f} missing");
    }
    let manifest = std::fs::read_to_string(a.join("manifest.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // every modality and both degraded severities are present; every PNG exists
    for m in ["CT", "MRI", "ultrasound"] {
        assert!(
            rows.iter()
                .any(|r| r["modality"] == m && r["severity"] == "severe"),
            "no severe {m}"
        );
    }
    // no PHI: CT_small carries PatientName CompressedSamples^CT1 and PatientID 1CT1
    for (p, bytes) in &ta {
        if p.extension()
            .is_some_and(|e| e == "jsonl" || e == "json" || e == "tsv")
        {
            let s = String::from_utf8_lossy(bytes);
            // the TSVs carry base64 images, where a 4-character string like `1CT1` occurs by
            // chance (its presence depends on the key): look for the ID in the other files
            let tsv = p.extension().is_some_and(|e| e == "tsv");
            assert!(
                !s.contains("CompressedSamples") && (tsv || !s.contains("1CT1")),
                "PHI in {}",
                p.display()
            );
        }
    }
    // exact VLMEvalKit columns, under this build's own dataset name
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("build.json")).unwrap()).unwrap();
    let prefix = info["dataset_prefix"].as_str().unwrap();
    assert!(
        prefix.starts_with("demo_") && prefix.len() == "demo_".len() + 8,
        "{prefix}"
    );
    let mcq = std::fs::read_to_string(a.join(format!("vlmevalkit/{prefix}_MCQ_test.tsv"))).unwrap();
    assert_eq!(
        mcq.lines().next().unwrap(),
        "index\timage\tquestion\tA\tB\tC\tD\tanswer\tmodality\tquestion_type\tlevel\tcategory"
    );
    // no label in any file name or id: only opaque hex, split names and fixed folder names
    for p in ta.keys() {
        let s = p.to_string_lossy().to_lowercase();
        for word in [
            "clean", "mild", "severe", "metal", "motion", "noise", "-ct-", "mr-", "us-",
        ] {
            assert!(!s.contains(word), "label word `{word}` in {s}");
        }
    }
    // the build's audit passed, and `artefact audit --strict` agrees
    let audit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("audit.json")).unwrap()).unwrap();
    assert_eq!(audit["passed"], true, "{audit:#}");
    let text = run_ok(artefact().arg("audit").arg(&a).arg("--strict"));
    assert!(text.contains("audit passed"), "{text}");
    // replay one degraded sample of each modality, and a clean ultrasound one
    for m in ["CT", "MRI", "ultrasound"] {
        let r = rows
            .iter()
            .find(|r| r["modality"] == m && r["severity"] == "mild")
            .unwrap();
        let id = r["id"].as_str().unwrap();
        let text = run_ok(artefact().arg("replay").arg(&a).arg(id));
        assert!(text.contains(": identical to"), "{text}");
    }
    let us_clean = rows
        .iter()
        .find(|r| r["modality"] == "ultrasound" && r["severity"] == "none")
        .unwrap();
    assert_eq!(
        us_clean["params"][0]["op"], "us.bmode",
        "clean ultrasound is rendered through the B-mode path"
    );
    run_ok(
        artefact()
            .arg("replay")
            .arg(&a)
            .arg(us_clean["id"].as_str().unwrap()),
    );

    // refusing to overwrite, then --force
    let out = artefact().args(["build", "-o"]).arg(&a).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}

#[test]
fn degrade_writes_png_and_nifti_in_source_units() {
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("ct.png");
    run_ok(
        artefact()
            .args([
                "degrade",
                "tests/data/dicom/CT_small.dcm",
                "--attribute",
                "ring",
                "--severity",
                "severe",
                "--seed",
                "3",
                "-o",
            ])
            .arg(&png),
    );
    let img = image::open(&png).unwrap().to_luma8();
    assert_eq!(img.dimensions(), (128, 128));
    let nii = tmp.path().join("mr.nii.gz");
    run_ok(
        artefact()
            .args([
                "degrade",
                "tests/data/nifti/mni152_t1_1mm.nii.gz",
                "--attribute",
                "motion",
                "--severity",
                "mild",
                "-o",
            ])
            .arg(&nii),
    );
    // a volume to NIfTI is degraded whole: 3-D motion, the input's grid and affine kept
    let v = artefact_io::load_volume(&nii).unwrap().volume;
    let src = artefact_io::load_volume(Path::new("tests/data/nifti/mni152_t1_1mm.nii.gz"))
        .unwrap()
        .volume;
    assert_eq!(v.shape(), (189, 233, 197));
    assert_eq!(v.shape(), src.shape());
    for (r, (a, b)) in v.affine.iter().zip(src.affine.iter()).enumerate() {
        for c in 0..4 {
            assert!(
                (a[c] - b[c]).abs() < 1e-4,
                "affine[{r}][{c}]: {} vs {}",
                a[c],
                b[c]
            );
        }
    }
    assert!(v
        .data
        .iter()
        .zip(src.data.iter())
        .any(|(a, b)| (a - b).abs() > 1.0));
    // an attribute without 3-D forms goes slice by slice; slice k equals `--slice k`
    let whole = tmp.path().join("gibbs.nii");
    let one = tmp.path().join("gibbs90.nii");
    for (out, slice) in [(&whole, None), (&one, Some("90"))] {
        let mut cmd = artefact();
        cmd.args([
            "degrade",
            "tests/data/nifti/mni152_t1_1mm.nii.gz",
            "--attribute",
            "gibbs",
            "--severity",
            "severe",
            "-o",
        ])
        .arg(out);
        if let Some(k) = slice {
            cmd.args(["--slice", k]);
        }
        let text = run_ok(&mut cmd);
        assert!(
            text.contains(if slice.is_some() {
                "(slice)"
            } else {
                "(per slice"
            }),
            "{text}"
        );
    }
    let whole = artefact_io::load_volume(&whole).unwrap().volume;
    let one = artefact_io::load_volume(&one).unwrap().volume;
    assert_eq!(whole.shape(), (189, 233, 197));
    assert_eq!(
        whole.data.index_axis(ndarray::Axis(0), 90),
        one.data.index_axis(ndarray::Axis(0), 0)
    );
    // a scanned B-mode keeps its own geometry: rendered with the linear probe whatever the
    // recipe's probe choices
    let text = run_ok(
        artefact()
            .args([
                "degrade",
                "tests/data/dicom-colour/us_bmode_pelvis_aloka_palette16.dcm",
                "--attribute",
                "speckle",
                "--severity",
                "severe",
                "-o",
            ])
            .arg(tmp.path().join("us.png")),
    );
    assert!(text.contains("\"probe\":\"linear\""), "{text}");
    let us = image::open(tmp.path().join("us.png")).unwrap().to_luma8();
    assert_eq!(us.dimensions(), (304, 392), "the imaging region's size");
    // unknown attribute: clear error, non-zero exit
    let out = artefact()
        .args([
            "degrade",
            "tests/data/dicom/CT_small.dcm",
            "--attribute",
            "nope",
            "--severity",
            "mild",
            "-o",
        ])
        .arg(&png)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no attribute recipe `nope`"));
}

#[test]
fn recipes_check_accepts_bundled_and_locates_errors() {
    let text = run_ok(
        artefact().args(["recipes", "check"]).args(
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/mri"))
                .unwrap()
                .map(|e| e.unwrap().path()),
        ),
    );
    assert_eq!(text.matches("ok ").count(), 9, "{text}");
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    let src =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/ct/ring.toml"))
            .unwrap();
    let broken = src.replace("gain_std = [0.006, 0.012]", "gain_std = [0.006, 3.0]");
    assert_ne!(
        broken, src,
        "recipes/ct/ring.toml changed: update this test's edit"
    );
    std::fs::write(&bad, broken).unwrap();
    let out = artefact()
        .args(["recipes", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("bad.toml:")
            && s.contains("ops[0].severe.gain_std")
            && s.contains("out of range"),
        "{s}"
    );
    let ops = run_ok(artefact().args(["recipes", "ops"]));
    assert_eq!(
        ops.matches("### `").count(),
        artefact_recipe::Registry::builtin().len()
    );
}

#[test]
fn sharded_build_needs_a_shared_secret_and_merge_names_bad_shard_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |c: &mut Command| {
        let out = c.output().expect("run artefact");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // no secret: a shard cannot share the random per-build key
    let (code, err) = run(artefact()
        .env_remove("ARTEFACT_KEY_SECRET")
        .args(["build", "-o"])
        .arg(tmp.path().join("s"))
        .args(["--shard", "0/2"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--key-file") && err.contains("shard 0/2 (from --shard)"),
        "{err}"
    );
    // I is 0-based and checked
    let (code, err) = run(artefact()
        .args(["build", "-o"])
        .arg(tmp.path().join("s"))
        .args(["--shard", "2/2"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("0-based"), "{err}");
    // an Indexed Job index without the count is refused with the variable to set
    let (code, err) = run(artefact()
        .env("JOB_COMPLETION_INDEX", "1")
        .args(["build", "-o"])
        .arg(tmp.path().join("s")));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("ARTEFACT_SHARD_COUNT"), "{err}");
    // a directory that is no shard is named
    std::fs::create_dir_all(tmp.path().join("notashard")).unwrap();
    let (code, err) = run(artefact()
        .arg("merge")
        .arg(tmp.path().join("notashard"))
        .arg("-o")
        .arg(tmp.path().join("m")));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("notashard") && err.contains("shard.json"),
        "{err}"
    );
    assert!(!tmp.path().join("m").exists());
}

/// `volume_physics = true`: attributes whose operators all have 3-D forms (motion, bias field)
/// degrade the whole NIfTI volume and cut the slice; the others (Gibbs) degrade the slice. The
/// manifest says which, replay reproduces a 3-D sample, and the tree does not depend on
/// `--jobs`.
#[test]
fn volume_physics_degrades_whole_volumes_and_replays() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let bench = tmp.path().join("bench.toml");
    let r = |p: &str| root.join(p).display().to_string().replace('\\', "/");
    std::fs::write(
        &bench,
        format!(
            r#"[benchmark]
name = "volumes"
seed = 5
image_size = 64

[[sources]]
path = "{}"

[selection]
slices_per_volume = 3
volume_physics = true

[attributes]
recipes = ["{}", "{}", "{}"]

[questions]
yes_no = 4
what = 2
how = 2

[pairs]
coarse = 1
fine = 1

[splits]
test = 1.0
"#,
            r("tests/data/nifti/anatomical.nii"),
            r("recipes/mri/motion.toml"),
            r("recipes/mri/bias_field.toml"),
            r("recipes/mri/gibbs.toml"),
        ),
    )
    .unwrap();
    let mut trees = Vec::new();
    for jobs in ["1", "2"] {
        let out = tmp.path().join(format!("out{jobs}"));
        run_ok(
            artefact()
                .arg("build")
                .arg(&bench)
                .arg("-o")
                .arg(&out)
                .args(["--jobs", jobs]),
        );
        trees.push(tree(&out));
    }
    assert!(trees[0] == trees[1], "--jobs 1 and --jobs 2 differ");
    let out = tmp.path().join("out1");
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut three_d = None;
    for row in &rows {
        let attr = row["attribute"].as_str();
        let vol = row["volume_physics"].as_bool().unwrap_or(false);
        assert_eq!(
            vol,
            matches!(attr, Some("motion") | Some("bias_field")),
            "{row}"
        );
        if attr == Some("motion") {
            // the 3-D form's record: translations in three dimensions
            let t = &row["params"][0]["params"]["events"][0]["translation_mm"];
            assert_eq!(t.as_array().map(Vec::len), Some(3), "{row}");
            three_d = Some(row["id"].as_str().unwrap().to_string());
        }
    }
    let id = three_d.expect("a motion sample");
    let text = run_ok(artefact().arg("replay").arg(&out).arg(&id));
    assert!(text.contains(": identical to"), "{text}");
}

/// A scanned B-mode source in a build: every render (clean and degraded) uses the linear
/// probe, keeping the image's own geometry, and the build replays.
#[test]
fn scanned_ultrasound_builds_with_its_own_geometry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let bench = tmp.path().join("bench.toml");
    let r = |p: &str| root.join(p).display().to_string().replace('\\', "/");
    std::fs::write(
        &bench,
        format!(
            r#"[benchmark]
name = "scanned-us"
seed = 12
image_size = 64

[[sources]]
path = "{}"

[attributes]
recipes = ["{}"]

[questions]
yes_no = 4
what = 1
how = 1

[pairs]
coarse = 1
fine = 1

[splits]
test = 1.0
"#,
            r("tests/data/dicom-colour/us_bmode_pelvis_aloka_palette16.dcm"),
            r("recipes/us/*.toml"),
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    run_ok(artefact().arg("build").arg(&bench).arg("-o").arg(&out));
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.len(),
        5,
        "one frame: clean + 2 attributes × 2 severities"
    );
    for row in &rows {
        assert_eq!(row["modality"], "ultrasound");
        for op in row["params"].as_array().unwrap() {
            assert_eq!(op["params"]["probe"], "linear", "{row}");
        }
    }
    let id = rows[1]["id"].as_str().unwrap();
    let text = run_ok(artefact().arg("replay").arg(&out).arg(id));
    assert!(text.contains(": identical to"), "{text}");
}

/// Text a fundus camera burns into the black surround (a name at the top left touching the
/// field, an ID at the bottom left) is not written out by `degrade` or `build`: everything
/// outside the field of view is black in the outputs, and the field is kept.
#[test]
fn burned_in_text_in_a_fundus_surround_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = image::open("tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg")
        .unwrap()
        .to_rgb8();
    let (w, h) = img.dimensions();
    // "glyphs": 5-px strokes in two lines of text, white and yellow
    let mut text = Vec::new();
    for (y0, x1, colour) in [
        (20u32, 700u32, [255u8, 255, 255]),
        (h - 70, 600, [255, 255, 0]),
    ] {
        for y in y0..y0 + 40 {
            for x in 20..x1 {
                if (x / 5) % 3 == 0 || y < y0 + 5 {
                    img.put_pixel(x, y, image::Rgb(colour));
                    text.push((x, y));
                }
            }
        }
    }
    let src = dir.path().join("fundus_with_text.png");
    img.save(&src).unwrap();
    let out = dir.path().join("degraded.png");
    run_ok(
        artefact()
            .args(["degrade", src.to_str().unwrap(), "--modality", "fundus"])
            .args([
                "-a",
                "exposure",
                "-s",
                "severe",
                "-o",
                out.to_str().unwrap(),
            ]),
    );
    let got = image::open(&out).unwrap().to_rgb8();
    assert_eq!(got.dimensions(), (w, h));
    // the surround, text included, is black, except the strokes' roots at the field's edge
    // (within the opening's 2 × 14 px); the field: centre (704, 702), radius 695 px (its
    // extent in the clean photograph, rows 6–1399 and columns 9–1399)
    let (cx, cy, radius) = (704.0, 702.0, 695.0 + 30.0);
    let far: Vec<_> = text
        .iter()
        .filter(|&&(x, y)| {
            ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() > radius + 20.0
        })
        .collect();
    assert!(far.len() > 1000, "{}", far.len());
    let lit: Vec<_> = far
        .iter()
        .filter(|&&&(x, y)| got.get_pixel(x, y).0 != [0, 0, 0])
        .collect();
    assert!(
        lit.is_empty(),
        "{} text pixels written, e.g. {:?}",
        lit.len(),
        &lit[..lit.len().min(5)]
    );
    // the field is kept
    assert_ne!(got.get_pixel(w / 2, h / 2).0, [0, 0, 0]);
}

/// A photograph that reaches the collection twice (JPEG again at quality 60, a half-size PNG)
/// is one source: the copies are refused naming the original (skipped with `--keep-going`),
/// so one picture cannot stand in two places, or two splits, of the benchmark; the other real
/// photograph is kept.
#[test]
fn near_copies_of_a_photograph_are_refused_naming_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("photos");
    std::fs::create_dir(&src).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fundus = root.join("tests/data/photo/fundus");
    for name in [
        "fundus_normal_left_eye_haggstrom_cc0.jpg",
        "fundus_background_retinopathy_nei_eda03_pd.jpg",
    ] {
        std::fs::copy(fundus.join(name), src.join(format!("a_{name}"))).unwrap();
    }
    let img = image::open(fundus.join("fundus_normal_left_eye_haggstrom_cc0.jpg"))
        .unwrap()
        .to_rgb8();
    let f = std::fs::File::create(src.join("b_export_q60.jpg")).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(f, 60)
        .encode_image(&img)
        .unwrap();
    let (w, h) = img.dimensions();
    image::imageops::resize(&img, w / 2, h / 2, image::imageops::Triangle)
        .save(src.join("c_thumbnail_half.png"))
        .unwrap();
    let bench = dir.path().join("bench.toml");
    std::fs::write(
        &bench,
        format!(
            r#"[benchmark]
name = "copies"
seed = 7
image_size = 128

[[sources]]
path = "photos/*"
modality = "fundus"

[selection]
min_foreground = 0.15

[attributes]
recipes = ["{}/recipes/fundus/*.toml"]

[questions]
yes_no = 4

[splits]
test = 1.0
"#,
            root.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let refused = artefact()
        .args([
            "build",
            bench.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{text}");
    assert!(
        text.contains("near copy") && text.contains("--keep-going"),
        "{text}"
    );
    run_ok(artefact().args([
        "build",
        bench.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--keep-going",
        "--allow-shortfall",
    ]));
    let skipped = std::fs::read_to_string(out.join("skipped.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = skipped
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{skipped}");
    for (row, copy) in rows
        .iter()
        .zip(["b_export_q60.jpg", "c_thumbnail_half.png"])
    {
        assert!(row["path"].as_str().unwrap().ends_with(copy), "{row}");
        let reason = row["reason"].as_str().unwrap();
        assert!(
            reason.contains("near copy") && reason.contains("a_fundus_normal_left_eye"),
            "{reason}"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["clean_slices"], 2, "{summary}");
}
