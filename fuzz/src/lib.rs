//! The fuzz targets as plain functions, shared by the libFuzzer entry points
//! (`fuzz_targets/*.rs`, run with cargo-fuzz on nightly) and by the corpus replay test
//! (`tests/replay.rs`, plain `cargo test` on stable). Each target must return without
//! panicking, aborting or hanging for any input; errors are the expected outcome and must name
//! the file.

use std::path::Path;

/// libFuzzer's panic hook aborts on every panic, also on those the loaders deliberately catch
/// at the decoder boundary (`guard::no_panic` turns a decoder panic into an error naming the
/// file). Put the default hook back once, so only a panic that escapes a target is a crash
/// (libfuzzer-sys still aborts on those).
pub fn caught_panics_are_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::panic::take_hook();
    });
}

/// A small memory budget, so the fuzzer's own limit (`-rss_limit_mb`) is never the one hit.
fn opts() -> artefact_io::LoadOptions {
    artefact_io::LoadOptions {
        max_bytes: 256 << 20,
        grey_from_rgb: true,
        // no load thread: libFuzzer's own -timeout reports a hang with its stack
        time_budget: None,
        ..Default::default()
    }
}

/// Load `data` written to a temporary file named `name`; an error must name the file.
fn load(data: &[u8], name: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let p = dir.path().join(name);
    std::fs::write(&p, data).expect("write input");
    if let Err(e) = artefact_io::load_volume_with(&p, &opts()) {
        assert!(
            e.to_string().contains(name),
            "error does not name the file: {e}"
        );
    }
}

/// DICOM loader (any transfer syntax; pre-scan, guards, decoders).
pub fn dicom(data: &[u8]) {
    load(data, "input.dcm");
}

/// NIfTI-1/2 loader, plain or gzip.
pub fn nifti(data: &[u8]) {
    load(data, "input.nii");
}

/// PNG/JPEG/TIFF: grey loader and colour loader.
pub fn raster(data: &[u8]) {
    load(data, "input.png");
    let dir = tempfile::tempdir().expect("temporary directory");
    let p = dir.path().join("input.png");
    std::fs::write(&p, data).expect("write input");
    let o = artefact_io::RgbLoadOptions {
        max_bytes: 256 << 20,
        ..Default::default()
    };
    let _ = artefact_io::read_rgb(&p, &o);
}

/// Benchmark and attribute recipe parsers (UTF-8 text; sources resolve in a scratch dir).
pub fn recipe(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let reg = artefact_recipe::Registry::builtin();
    let dir = tempfile::tempdir().expect("temporary directory");
    let _ = artefact_recipe::BenchmarkRecipe::parse(src, &dir.path().join("bench.toml"), &reg);
    let _ = artefact_recipe::AttributeRecipe::parse(src, Path::new("attr.toml"), &reg);
}
