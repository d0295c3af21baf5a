//! A small synthetic build shared by the build, score and report tests: two test operators on
//! synthetic MR volumes, their recipes and a benchmark recipe.

#![allow(dead_code)]

use artefact_core::{
    CoreError, Image, Modality, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec,
    SampleRng, Seed, Unit, Volume,
};
use artefact_dataset::{build, BuildOptions};
use artefact_recipe::{BenchmarkRecipe, OpEntry, Registry};
use ndarray::{Array2, Array3};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

struct TestNoise;
#[derive(Clone, Debug, Serialize, Deserialize)]
struct NoiseParams {
    sigma: f64,
    seed: u64,
}
static NOISE: OpInfo = OpInfo {
    name: "test.noise",
    modality: "MR",
    doc: "Gaussian noise with std `sigma` relative to the image maximum",
    params: &[ParamInfo {
        name: "sigma",
        kind: ParamKind::Float { min: 0.0, max: 1.0 },
        default: ParamDefault::Required,
        unit: "fraction",
        doc: "noise std / max",
    }],
};
impl Operator for TestNoise {
    type Params = NoiseParams;
    type Error = CoreError;
    fn info() -> &'static OpInfo {
        &NOISE
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<NoiseParams, CoreError> {
        Ok(NoiseParams {
            sigma: spec.float("sigma", 0.0, rng)?,
            seed: rng.random(),
        })
    }
    fn apply(p: &NoiseParams, img: &Image) -> Result<Image, CoreError> {
        let max = img.finite_range().map_or(1.0, |r| r.1) as f64;
        let mut rng = Seed::from_u64(p.seed).rng();
        let n = Normal::new(0.0, p.sigma * max).unwrap();
        img.with_data(img.data.mapv(|v| v + n.sample(&mut rng) as f32))
    }
}

struct TestBlur;
#[derive(Clone, Debug, Serialize, Deserialize)]
struct BlurParams {
    radius: i64,
}
static BLUR: OpInfo = OpInfo {
    name: "test.blur",
    modality: "MR",
    doc: "box blur",
    params: &[ParamInfo {
        name: "radius",
        kind: ParamKind::Int { min: 0, max: 10 },
        default: ParamDefault::Int(1),
        unit: "px",
        doc: "box radius",
    }],
};
impl Operator for TestBlur {
    type Params = BlurParams;
    type Error = CoreError;
    fn info() -> &'static OpInfo {
        &BLUR
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<BlurParams, CoreError> {
        Ok(BlurParams {
            radius: spec.int("radius", 1, rng)?,
        })
    }
    fn apply(p: &BlurParams, img: &Image) -> Result<Image, CoreError> {
        let (h, w) = img.shape();
        let r = p.radius as isize;
        let out = Array2::from_shape_fn((h, w), |(i, j)| {
            let (mut s, mut n) = (0.0f32, 0.0f32);
            for di in -r..=r {
                for dj in -r..=r {
                    let (a, b) = (i as isize + di, j as isize + dj);
                    if a >= 0 && b >= 0 && (a as usize) < h && (b as usize) < w {
                        s += img.data[[a as usize, b as usize]];
                        n += 1.0;
                    }
                }
            }
            s / n
        });
        img.with_data(out)
    }
}

pub fn registry() -> Registry {
    Registry::new(vec![OpEntry::of::<TestNoise>(), OpEntry::of::<TestBlur>()])
}

/// Synthetic subjects: a bright ellipse with texture in 12 slices, one NIfTI per subject.
pub fn write_sources(dir: &Path, n: usize) {
    for s in 0..n {
        let data = Array3::from_shape_fn((12, 40, 48), |(k, r, c)| {
            let (y, x) = (
                (r as f32 - 20.0) / 15.0,
                (c as f32 - 24.0) / (18.0 + s as f32),
            );
            if y * y + x * x < 1.0 && k > 1 {
                200.0 + 40.0 * ((r * 3 + c * 5 + k) as f32 * 0.3).sin()
            } else {
                0.0
            }
        });
        let v = Volume::new(data, [2.0, 1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap();
        artefact_io::write_nifti(&dir.join(format!("subject{s}.nii")), &v).unwrap();
    }
}

pub const NOISE_RECIPE: &str = r#"[attribute]
name = "noise"
modality = "MR"
label = "Noise"
noun = "noise"
description.mild = ["mild graininess over the whole image"]
description.severe = ["heavy noise that masks fine structures"]
[[ops]]
op = "test.noise"
mild = { sigma = [0.02, 0.04] }
severe = { sigma = [0.15, 0.25] }
[metric]
kind = "ssim"
mild = [0.3, 0.99]
"#;

pub const BLUR_RECIPE: &str = r#"[attribute]
name = "blur"
modality = "MR"
label = "Blurring"
noun = "blurring"
description.mild = ["slightly soft edges"]
description.severe = ["strong blurring of all edges"]
[[ops]]
op = "test.blur"
mild = { radius = 1 }
severe = { radius = [3, 4] }
"#;

pub const BENCH: &str = r#"[benchmark]
name = "unit"
seed = 11
image_size = 32
[[sources]]
path = "src/*.nii"
[selection]
slices_per_volume = 2
min_foreground = 0.1
[attributes]
recipes = ["attr/*.toml"]
[questions]
yes_no = 40
what = 30
how = 30
[pairs]
coarse = 12
fine = 12
[splits]
test = 0.6
dev = 0.4
"#;

pub fn setup(n_subjects: usize) -> (tempfile::TempDir, BenchmarkRecipe) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::create_dir_all(dir.path().join("attr")).unwrap();
    write_sources(&dir.path().join("src"), n_subjects);
    std::fs::write(dir.path().join("attr/noise.toml"), NOISE_RECIPE).unwrap();
    std::fs::write(dir.path().join("attr/blur.toml"), BLUR_RECIPE).unwrap();
    std::fs::write(dir.path().join("bench.toml"), BENCH).unwrap();
    let b = BenchmarkRecipe::load(&dir.path().join("bench.toml"), &registry()).unwrap();
    (dir, b)
}

/// Build the small benchmark of `n_subjects` subjects; returns the temp dir (keep it alive) and
/// the build directory.
pub fn small_build(n_subjects: usize) -> (tempfile::TempDir, PathBuf) {
    let (dir, bench) = setup(n_subjects);
    let out = dir.path().join("out");
    let mut opts = BuildOptions::new(&out);
    opts.jobs = 2;
    build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    (dir, out)
}

/// Every file under `dir` (relative path → bytes).
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
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

/// Assert two trees hold the same files with the same bytes.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let ka: BTreeSet<&PathBuf> = ta.keys().collect();
    let kb: BTreeSet<&PathBuf> = tb.keys().collect();
    assert_eq!(
        ka.symmetric_difference(&kb).collect::<Vec<_>>(),
        Vec::<&&PathBuf>::new(),
        "file sets differ"
    );
    let differ: Vec<&PathBuf> = ta.keys().filter(|k| ta[*k] != tb[*k]).collect();
    assert!(differ.is_empty(), "files differ: {differ:?}");
}
