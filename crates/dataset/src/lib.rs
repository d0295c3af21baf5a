//! artefact-dataset: builds MedQ-Bench-style image-quality datasets from clean sources.
//!
//! Data flow (DESIGN.md §2): sources ([`source`]: load, pick slices with enough foreground,
//! pad to square, resample) → plan ([`plan`]: clean + mild/severe of rotating attributes per
//! slice, splits by pseudonymous subject) → render ([`generate`]: per-sample seeded op chain,
//! metric-band re-sampling, display with the clean slice's window) → questions ([`questions`]),
//! descriptions ([`text`]), pairs ([`pairs`]) → manifest and exporters ([`export`]: JSONL,
//! VLMEvalKit TSVs, Hugging Face imagefolder). [`build()`] ties it together with atomic writes,
//! `--resume` and `--jobs`-independent bytes.
//!
//! Privacy: sources are identified only by keyed hashes (HMAC-SHA-256) of their identifiers;
//! no patient name, ID or birth date is ever written.

// `deny`, not `forbid`: ndarray's `s!` macro expands to `#[allow(unsafe_code)]`, which
// `forbid` rejects; no unsafe code is written in this crate.
#![deny(unsafe_code)]

pub mod audit;
pub mod build;
pub mod calibrate;
pub mod degrade;
pub mod error;
pub mod export;
pub mod fsutil;
pub mod generate;
pub mod info;
pub mod judge;
pub mod merge;
pub mod near_copy;
pub mod pairs;
pub mod plan;
pub mod questions;
pub mod render;
pub mod replay;
pub mod report;
pub mod score;
pub mod shard;
pub mod source;
pub mod text;
pub mod timings;

pub use build::{build, BuildInfo, BuildOptions, Summary};
pub use error::DatasetError;
pub use merge::{merge, MergeOptions};
pub use shard::ShardSpec;
