//! `build.json`: what identifies a build (its own module, so the shard manifest can hold it
//! without depending on the builder).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What `build.json` records (enough for `replay`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BuildInfo {
    pub benchmark: String,
    pub benchmark_path: PathBuf,
    pub benchmark_hash: String,
    pub seed: u64,
    pub attributes_per_slice: usize,
    pub tool_version: String,
    /// VLMEvalKit dataset-name prefix of this build (`<benchmark>_<8 hex>`).
    pub dataset_prefix: String,
}
