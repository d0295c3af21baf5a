//! The binary away from its source tree: a copy of the built `artefact` run from a temporary
//! directory (no `recipes/` there, `ARTEFACT_RECIPES` unset) lists and checks its bundled
//! recipes, degrades an image by attribute name, and builds a benchmark whose TOML names only
//! attribute names and its own sources; `--recipes DIR` and `ARTEFACT_RECIPES` replace the
//! bundled set. (`cargo install` itself is too slow for a test; the copy stands for it.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// The checkout's test data (copied into the temporary directory, never used in place).
fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

struct Installed {
    dir: tempfile::TempDir,
    exe: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let exe = bin.join("artefact");
        std::fs::copy(env!("CARGO_BIN_EXE_artefact"), &exe).unwrap();
        for f in ["dicom/CT_small.dcm", "dicom/MR_small.dcm"] {
            let to = dir.path().join(Path::new(f).file_name().unwrap());
            std::fs::copy(data(f), to).unwrap();
        }
        Installed { dir, exe }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.current_dir(self.dir.path())
            .env_remove("ARTEFACT_RECIPES");
        c
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn run_ok(c: &mut Command) -> String {
    // a copied executable can be briefly "busy" (ETXTBSY) while another test thread forks
    // with the copy's write descriptor still open: retry
    let mut tries = 0;
    let out = loop {
        match c.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            r => break r.expect("run artefact"),
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{c:?} failed:\n{text}");
    text
}

fn bundled_count(modality_folder: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("recipes")
            .join(modality_folder),
    ) else {
        return 0;
    };
    entries
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count()
}

#[test]
fn lists_and_checks_the_bundled_recipes_without_the_checkout() {
    let inst = Installed::new();
    assert!(!inst.path("recipes").exists());
    let all: usize = artefact_recipe::library::MODALITY_FOLDERS
        .iter()
        .map(|f| bundled_count(f))
        .sum();
    let list = run_ok(inst.cmd().args(["recipes", "list"]));
    assert_eq!(list.lines().count(), all, "{list}");
    assert!(list.contains("bundled:recipes/mri/motion.toml"), "{list}");
    let check = run_ok(inst.cmd().args(["recipes", "check"]));
    assert_eq!(check.matches("ok ").count(), all, "{check}");
    let named = run_ok(inst.cmd().args(["recipes", "check", "ct/*", "mri/motion"]));
    assert_eq!(
        named.matches("ok ").count(),
        bundled_count("ct") + 1,
        "{named}"
    );
}

#[test]
fn degrades_by_attribute_name_without_the_checkout() {
    let inst = Installed::new();
    let out = inst.path("motion.png");
    let text = run_ok(
        inst.cmd()
            .args([
                "degrade",
                "MR_small.dcm",
                "--attribute",
                "motion",
                "--severity",
                "severe",
                "--seed",
                "3",
                "-o",
            ])
            .arg(&out),
    );
    assert!(text.contains("mri.motion"), "{text}");
    let png = image::open(&out).unwrap().to_luma8();
    assert!(png.width() > 0 && png.pixels().any(|p| p.0[0] > 0));
}

#[test]
fn builds_a_benchmark_naming_only_attributes_and_its_sources() {
    let inst = Installed::new();
    std::fs::write(
        inst.path("bench.toml"),
        r#"[benchmark]
name = "away"
seed = 7
image_size = 64

[[sources]]
path = "CT_small.dcm"

[[sources]]
path = "MR_small.dcm"

[selection]
axis = 0
slices_per_volume = 1
min_foreground = 0.05

[attributes]
recipes = ["mri/noise", "mri/gibbs", "ct/ring"]

[questions]
yes_no = 2
what = 1
how = 1

[pairs]
coarse = 1
fine = 1

[splits]
test = 1.0
"#,
    )
    .unwrap();
    let check = run_ok(inst.cmd().args(["recipes", "check", "bench.toml"]));
    assert!(check.contains("3 attributes, 2 sources"), "{check}");
    let text = run_ok(
        inst.cmd()
            .args(["build", "bench.toml", "-o", "out", "--jobs", "1"]),
    );
    assert!(text.contains("built `away`"), "{text}");
    let manifest = std::fs::read_to_string(inst.path("out/manifest.jsonl")).unwrap();
    assert!(manifest.lines().count() > 2, "{manifest}");
}

#[test]
fn recipe_folder_replaces_the_bundled_set() {
    let inst = Installed::new();
    let mine = inst.path("mine/mri");
    std::fs::create_dir_all(&mine).unwrap();
    let noise = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/mri/noise.toml"),
    )
    .unwrap();
    std::fs::write(
        mine.join("grain.toml"),
        noise.replace("name = \"noise\"", "name = \"grain\""),
    )
    .unwrap();
    let by_flag = run_ok(inst.cmd().args(["recipes", "list", "--recipes", "mine"]));
    let by_env = run_ok(
        inst.cmd()
            .env("ARTEFACT_RECIPES", inst.path("mine"))
            .args(["recipes", "list"]),
    );
    for text in [&by_flag, &by_env] {
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("grain"), "{text}");
    }
    let png = inst.path("grain.png");
    run_ok(
        inst.cmd()
            .args([
                "--recipes",
                "mine",
                "degrade",
                "MR_small.dcm",
                "-a",
                "grain",
            ])
            .args(["-s", "mild", "-o"])
            .arg(&png),
    );
    assert!(png.is_file());
    // not in the bundled set
    let out = inst
        .cmd()
        .args(["degrade", "MR_small.dcm", "-a", "grain", "-s", "mild", "-o"])
        .arg(inst.path("x.png"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no attribute recipe `grain`"));
}
