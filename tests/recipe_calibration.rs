//! The bundled attribute recipes are calibrated on the bundled real images: for every
//! bundled attribute, `artefact recipes calibrate` (the calibration benchmark's slices, 2 samples per
//! slice and severity) must show
//! - mild **visible**: median SSIM ≤ 0.985 or median PSNR ≤ 35 dB against the clean image
//!   (SSIM barely sees smooth shading, e.g. a bias field or an acoustic shadow; PSNR does);
//! - mild **usable**: median SSIM ≥ 0.6 or median PSNR ≥ 25 dB (SSIM over-penalises noise in a
//!   dark background, e.g. Rician noise);
//! - severe **clearly degraded**: median SSIM ≤ 0.96 or median PSNR ≤ 27 dB;
//! - severe worse than mild: lower median SSIM **and** lower median PSNR.
//!
//! Metrics are on the displayed 8-bit-range intensities (CT soft-tissue window, MR 0.5–99.5
//! percentiles, US B-mode), which is what a reader or a model sees. The thresholds were set from
//! the calibration table in `docs/recipes-calibration.md`, with margin; they catch a recipe edit
//! that makes a level invisible or turns mild into severe.

use serde_json::Value;
use std::process::Command;

#[test]
fn bundled_recipes_are_visible_when_mild_and_clearly_degraded_when_severe() {
    let out = Command::new(env!("CARGO_BIN_EXE_artefact"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "recipes",
            "calibrate",
            "recipes/benchmarks/calibration.toml",
            "-n",
            "2",
            "--json",
        ])
        .output()
        .expect("run artefact");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let attributes: usize = ["ct", "mri", "us"]
        .iter()
        .map(|d| {
            std::fs::read_dir(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("recipes")
                    .join(d),
            )
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "toml")
            })
            .count()
        })
        .sum();
    assert_eq!(rows.len(), 2 * attributes, "attributes × 2 severities");
    let med = |r: &Value, k: &str| r[k]["median"].as_f64().unwrap_or(f64::INFINITY);
    let mut failures = Vec::new();
    for pair in rows.chunks(2) {
        let (mild, severe) = (&pair[0], &pair[1]);
        let name = format!("{} {}", mild["modality"], mild["attribute"]);
        assert_eq!(mild["severity"], "mild");
        assert_eq!(severe["severity"], "severe");
        assert_eq!(mild["attribute"], severe["attribute"]);
        let (ms, mp) = (med(mild, "ssim"), med(mild, "psnr"));
        let (ss, sp) = (med(severe, "ssim"), med(severe, "psnr"));
        if !(ms <= 0.985 || mp <= 35.0) {
            failures.push(format!(
                "{name}: mild invisible (SSIM {ms:.3}, PSNR {mp:.1})"
            ));
        }
        if !(ms >= 0.6 || mp >= 25.0) {
            failures.push(format!(
                "{name}: mild not usable (SSIM {ms:.3}, PSNR {mp:.1})"
            ));
        }
        if !(ss <= 0.96 || sp <= 27.0) {
            failures.push(format!(
                "{name}: severe too weak (SSIM {ss:.3}, PSNR {sp:.1})"
            ));
        }
        if !(ss < ms && sp < mp) {
            failures.push(format!(
                "{name}: severe (SSIM {ss:.3}, PSNR {sp:.1}) not worse than mild (SSIM {ms:.3}, PSNR {mp:.1})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
