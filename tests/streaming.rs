//! Streaming (issue #17): a build over a collection keeps one source at a time per worker in
//! memory, not the collection. 240 generated MR volumes (1.5 MB of float32 each, 360 MB in
//! all) in one directory are built with `--jobs 2`; the build's own peak resident memory
//! (`--timings`, `VmHWM`) must stay far below the collection's size. Before sources were
//! streamed, the directory was decoded whole before planning: every volume was held, all
//! 360 MB at once.

use artefact_core::{Modality, Unit, Volume};
use ndarray::Array3;
use std::process::Command;

const VOLUMES: usize = 240;
const SHAPE: (usize, usize, usize) = (24, 128, 128);

fn write_collection(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    for v in 0..VOLUMES {
        // an ellipsoid "head" whose size and brightness vary by volume, with a ventricle-like
        // dark core, so every volume has foreground slices of its own
        let (a, b) = (40.0 + (v % 17) as f32, 50.0 + (v % 11) as f32);
        let level = 200.0 + 3.0 * (v % 29) as f32;
        let data = Array3::from_shape_fn(SHAPE, |(k, r, c)| {
            let (y, x) = (r as f32 - 64.0, c as f32 - 64.0);
            let z = (k as f32 - 12.0) / 14.0;
            let e = (y / a).powi(2) + (x / b).powi(2) + z * z;
            if e < 0.08 {
                60.0
            } else if e < 1.0 {
                level + ((r * 7 + c * 3 + k) % 13) as f32
            } else {
                0.0
            }
        });
        let vol = Volume::new(data, [2.0, 1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap();
        artefact_io::write_nifti(&dir.join(format!("subject{v:03}.nii")), &vol).unwrap();
    }
}

#[test]
fn a_collection_is_built_one_source_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    write_collection(&tmp.path().join("collection"));
    let recipes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/mri");
    let bench = format!(
        r#"[benchmark]
name = "streaming"
seed = 5
image_size = 64
[[sources]]
path = "collection"
modality = "MR"
[selection]
slices_per_volume = 1
min_foreground = 0.1
[attributes]
recipes = ["{noise}", "{bias}"]
[questions]
yes_no = 40
what = 20
how = 20
[pairs]
coarse = 10
fine = 10
[splits]
test = 0.5
dev = 0.5
"#,
        noise = recipes.join("noise.toml").display(),
        bias = recipes.join("bias_field.toml").display(),
    );
    std::fs::write(tmp.path().join("bench.toml"), bench).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_artefact"))
        .current_dir(tmp.path())
        .args([
            "build",
            "bench.toml",
            "-o",
            "out",
            "--jobs",
            "2",
            "--timings",
        ])
        .args(["--key-secret", "streaming test"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("audit: passed"), "{text}");
    // every volume gave its slice: a clean image and both attributes at mild and severe
    let manifest = std::fs::read_to_string(tmp.path().join("out/manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 5 * VOLUMES, "{text}");
    assert!(
        text.contains(&format!("sources loaded again for rendering: {VOLUMES},")),
        "{text}"
    );
    let peak: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("peak resident memory so far: "))
        .and_then(|l| l.trim_end_matches(" MB").parse().ok())
        .expect("the build reports its peak memory (Linux /proc)");
    let collection_mb = (VOLUMES * SHAPE.0 * SHAPE.1 * SHAPE.2 * 4) as f64 / 1048576.0;
    assert!(
        peak < collection_mb / 3.0,
        "peak resident memory {peak:.0} MB for a {collection_mb:.0} MB collection:\n{text}"
    );
}
