//! Replays every corpus file through its target under plain `cargo test` (stable): the seed
//! files from tests/data, the regression inputs in fuzz/corpus/<target>/, and a fixed set of
//! deterministic mutants of each seed (truncations and byte flips), so the targets are
//! exercised even where cargo-fuzz cannot run.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let n = p.file_name().unwrap().to_string_lossy().to_lowercase();
        if p.is_file() && (ext.is_empty() || ext.iter().any(|x| n.ends_with(x))) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn replay(target: fn(&[u8]), seeds: &[PathBuf], corpus: &str) {
    let mut inputs: Vec<Vec<u8>> = files(&root().join("corpus").join(corpus), &[])
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    for s in seeds {
        let b = std::fs::read(s).unwrap();
        if b.len() > 2 << 20 {
            continue;
        }
        for k in 1..8 {
            inputs.push(b[..b.len() * k / 8].to_vec());
        }
        let mut x = 0x9E37_79B9u32;
        for _ in 0..32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut m = b.clone();
            let at = (x as usize) % m.len().min(2048).max(1);
            m[at] ^= (x >> 24) as u8 | 1;
            inputs.push(m);
        }
        inputs.push(b);
    }
    for i in &inputs {
        target(i);
    }
}

fn data(sub: &str) -> PathBuf {
    root().join("../tests/data").join(sub)
}

#[test]
fn dicom_corpus() {
    replay(
        artefact_fuzz::dicom,
        &files(&data("dicom"), &[".dcm"]),
        "dicom",
    );
}

#[test]
fn nifti_corpus() {
    replay(
        artefact_fuzz::nifti,
        &files(&data("nifti"), &[".nii", ".nii.gz"]),
        "nifti",
    );
}

#[test]
fn raster_corpus() {
    let mut seeds = files(&data("photo/fundus"), &[".png", ".jpg", ".tif"]);
    seeds.extend(files(
        &data("photo/histopathology"),
        &[".png", ".jpg", ".tif"],
    ));
    replay(artefact_fuzz::raster, &seeds, "raster");
}

#[test]
fn recipe_corpus() {
    let mut seeds = files(&root().join("../recipes/benchmarks"), &[".toml"]);
    seeds.extend(files(&root().join("../recipes/mri"), &[".toml"]));
    replay(artefact_fuzz::recipe, &seeds, "recipe");
}
