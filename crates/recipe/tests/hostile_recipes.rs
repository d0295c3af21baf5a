//! Tampered benchmark recipes that `build` could not finish are refused when the recipe is
//! read (and so by `recipes check`), with the key named (issue #14).

use artefact_recipe::{BenchmarkRecipe, Registry};
use std::path::Path;

fn bench(dir: &Path, name: &str, source: &str, severity: &str) -> Result<BenchmarkRecipe, String> {
    let src = format!(
        r#"[benchmark]
name = "{name}"
seed = 1
image_size = 64

[[sources]]
path = "{source}"

[attributes]
recipes = ["{}/../../recipes/mri/ghosting.toml"]

{severity}
"#,
        env!("CARGO_MANIFEST_DIR")
    );
    let p = dir.join("bench.toml");
    std::fs::write(&p, &src).unwrap();
    BenchmarkRecipe::load(&p, &Registry::builtin()).map_err(|e| e.to_string())
}

fn good_source() -> String {
    format!(
        "{}/../../tests/data/nifti/anatomical.nii",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn a_valid_recipe_loads() {
    let dir = tempfile::tempdir().unwrap();
    bench(dir.path(), "ok", &good_source(), "").unwrap();
}

#[test]
fn non_image_and_special_sources_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("passwd"),
        "root:x:0:0:root:/root:/bin/bash\n",
    )
    .unwrap();
    let p = dir.path().join("passwd");
    let e = bench(dir.path(), "b", &p.display().to_string(), "").unwrap_err();
    assert!(
        e.contains("not an image file") && e.contains("sources[0].path"),
        "{e}"
    );
    #[cfg(target_os = "linux")]
    {
        let e = bench(dir.path(), "b", "/proc/self/environ", "").unwrap_err();
        assert!(e.contains("not an image file"), "{e}");
    }
    #[cfg(unix)]
    {
        let f = dir.path().join("pipe.nii");
        let made = std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            let pat = format!("{}/*.nii", dir.path().display());
            let e = bench(dir.path(), "b", &pat, "").unwrap_err();
            assert!(e.contains("FIFO"), "{e}");
        }
    }
}

#[test]
fn overlong_names_and_infinite_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let long = "a".repeat(5000);
    let e = bench(dir.path(), &long, &good_source(), "").unwrap_err();
    assert!(e.contains("benchmark.name") && e.len() < 1000, "{e}");
    let e = bench(
        dir.path(),
        "w",
        &good_source(),
        "[severity]\nnone = 1e308\nmild = 1e308\nsevere = 1e308\n",
    )
    .unwrap_err();
    assert!(e.contains("severity") && e.contains("inf"), "{e}");
}

#[test]
fn counts_beyond_what_the_sources_can_supply_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let b = bench(
        dir.path(),
        "big",
        &good_source(),
        "[selection]\nslices_per_volume = 2\n\n[questions]\nyes_no = 30\nwhat = 7\nhow = 6\n\n[pairs]\ncoarse = 7\nfine = 0\n",
    )
    .unwrap();
    // 1 file × 2 slices × (1 clean + 2 × 1 attribute) = 6 images; 3 pairs per slice
    assert_eq!(b.max_images(), Some(6));
    let excess = b.supply_excess();
    assert_eq!(excess.len(), 2, "{excess:?}");
    assert!(
        excess[0].starts_with("questions.what = 7 but at most 6"),
        "{excess:?}"
    );
    assert!(
        excess[1].starts_with("pairs.coarse = 7 but at most 6"),
        "{excess:?}"
    );
    let ok = bench(
        dir.path(),
        "fits",
        &good_source(),
        "[selection]\nslices_per_volume = 2\n\n[questions]\nyes_no = 30\nwhat = 6\nhow = 6\n\n[pairs]\ncoarse = 6\nfine = 6\n",
    )
    .unwrap();
    assert!(ok.supply_excess().is_empty(), "{:?}", ok.supply_excess());
    // a directory source: the bound needs the images, so nothing is claimed
    let nifti_dir = format!("{}/../../tests/data/nifti", env!("CARGO_MANIFEST_DIR"));
    let d = bench(dir.path(), "dir", &nifti_dir, "").unwrap();
    assert_eq!(d.max_images(), None);
    assert!(d.supply_excess().is_empty());
}

#[test]
fn a_backtracking_glob_returns_quickly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a".repeat(60) + "b"), "x").unwrap();
    let pat = format!("{}/{}c", dir.path().display(), "*a".repeat(20));
    let e = bench(dir.path(), "g", &pat, "").unwrap_err();
    assert!(e.contains("matches nothing"), "{e}");
}

/// Every bundled attribute recipe runs at both severities on its modality's phantom.
#[test]
fn every_bundled_attribute_applies_on_a_phantom() {
    let reg = Registry::builtin();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes");
    let mut n = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() || dir.ends_with("benchmarks") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "toml") {
                let a = artefact_recipe::AttributeRecipe::load(&f, &reg).unwrap();
                artefact_recipe::trial::trial(&a, &reg)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                n += 1;
            }
        }
    }
    assert!(n >= 40, "only {n} attribute recipes found");
}

/// Parameters within every declared range can still fail when the operator runs: six 20 mm
/// copper rods do not fit in a head (issue #14: `recipes check` passed it, `build` failed).
#[test]
fn a_chain_that_fails_at_apply_time_is_refused_by_the_trial() {
    let reg = Registry::builtin();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/ct/metal.toml");
    let src = std::fs::read_to_string(root).unwrap();
    let severe = src
        .lines()
        .find(|l| l.starts_with("severe = "))
        .expect("severe line");
    let tampered = src.replace(
        severe,
        "severe = { material = \"Cu\", count = 6, radius_mm = 20, i0 = 1000 }",
    );
    let p = dir.path().join("metal.toml");
    std::fs::write(&p, tampered).unwrap();
    let a = artefact_recipe::AttributeRecipe::load(&p, &reg).expect("parses: every value in range");
    let e = artefact_recipe::trial::trial(&a, &reg).expect_err("cannot be applied");
    assert!(e.starts_with("severe (sample 0)"), "{e}");
    assert!(e.contains("cannot place 6 insert(s)"), "{e}");
}
