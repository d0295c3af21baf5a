//! Replay: regenerate one sample of a finished build from its manifest row and check that the
//! bytes equal the stored image.

use crate::build::{resolve_secret, BuildInfo, BuildOptions};
use crate::error::DatasetError;
use crate::generate::{replay, ManifestRow};
use crate::source::{load_entry, scan_sources, SliceInfo, SourceLimits};
use artefact_recipe::{BenchmarkRecipe, Registry};
use std::path::{Path, PathBuf};

/// Result of a replay.
#[derive(Debug)]
pub struct Replayed {
    pub id: String,
    pub file: PathBuf,
    pub identical: bool,
    pub bytes: Vec<u8>,
}

/// Regenerate sample `id` of the build in `out` (same key secret as the build).
pub fn replay_sample(
    out: &Path,
    id: &str,
    registry: &Registry,
    key_secret: &[u8],
) -> Result<Replayed, DatasetError> {
    let info_path = out.join("build.json");
    let info: BuildInfo = serde_json::from_slice(
        &std::fs::read(&info_path)
            .map_err(|e| DatasetError::file(&info_path, format!("not an artefact output: {e}")))?,
    )
    .map_err(|e| DatasetError::file(&info_path, e))?;
    let bench = BenchmarkRecipe::load(&info.benchmark_path, registry)?;
    if bench.hash != info.benchmark_hash {
        return Err(DatasetError::file(
            &info.benchmark_path,
            "the benchmark recipe changed since the build (hash differs); replay needs the original recipe",
        ));
    }
    let manifest = out.join("manifest.jsonl");
    let text = std::fs::read_to_string(&manifest).map_err(|e| DatasetError::file(&manifest, e))?;
    let row: ManifestRow = text
        .lines()
        .filter_map(|l| serde_json::from_str::<ManifestRow>(l).ok())
        .find(|r| r.id == id)
        .ok_or_else(|| DatasetError::file(&manifest, format!("no sample with id `{id}`")))?;
    let mut opts = BuildOptions::new(out);
    opts.key_secret = key_secret.to_vec();
    opts.keep_going = true;
    let secret = resolve_secret(&opts)?;
    let limits = SourceLimits {
        max_bytes: opts.max_bytes,
        time_budget: opts.source_timeout,
    };
    // find the slice from the sources' keys, then load only its source
    let scan = scan_sources(&bench, &secret, true, limits)?;
    let not_found = || DatasetError::Sample {
        id: id.to_string(),
        reason: "its source slice was not found (sources moved, or a different --key-secret)"
            .into(),
    };
    let info = scan
        .slices
        .iter()
        .find(|s| {
            s.source_key == row.source_key && s.axis == row.slice_axis && s.index == row.slice_index
        })
        .ok_or_else(not_found)?;
    let infos: Vec<&SliceInfo> = scan
        .slices
        .iter()
        .filter(|s| s.entry == info.entry)
        .collect();
    let slices = load_entry(&bench, &scan.entries[info.entry], &infos, &secret, limits)?;
    let slice = slices
        .iter()
        .find(|s| s.axis == row.slice_axis && s.index == row.slice_index)
        .ok_or_else(not_found)?;
    let bytes = replay(registry, slice, &row)?;
    let file = out.join(&row.file_name);
    let stored = std::fs::read(&file).map_err(|e| DatasetError::file(&file, e))?;
    Ok(Replayed {
        id: id.to_string(),
        identical: stored == bytes,
        file,
        bytes,
    })
}
