//! artefact-recipe: recipe files and the operator registry.
//!
//! Two kinds of TOML files:
//! - an **attribute recipe** (`recipes/<modality>/<attribute>.toml`, [`attribute`]) names a
//!   quality attribute, its modality, the text used in questions and descriptions, an op chain
//!   with parameter specs per severity (`mild`, `severe`), quality grades, and an optional
//!   metric band per severity that the builder re-samples into;
//! - a **benchmark recipe** (`recipes/benchmarks/*.toml`, [`benchmark`]) names sources, slice
//!   selection, rendering, the attribute recipes to use, question and pair counts, splits and
//!   the dataset seed.
//!
//! Every parameter is checked against the operator's static [`artefact_core::OpInfo`] table held
//! in a [`Registry`]: unknown op or parameter, wrong type, out-of-range value, a missing
//! severity — each error names the file, line, column and key, and lists what is allowed.
//! The registry's `sample`/`apply` adapters turn any [`artefact_core::Operator`] into a
//! type-erased entry whose parameters travel as JSON (recorded in manifests, replayed exactly).

#![forbid(unsafe_code)]

pub mod attribute;
pub mod benchmark;
mod builtin;
pub mod error;
pub mod folders;
pub mod library;
pub mod registry;
pub mod trial;
mod value;

pub use attribute::{AttributeRecipe, Grading, MetricBand, MetricKind, NounNumber, OpStep, Region};
pub use benchmark::BenchmarkRecipe;
pub use error::RecipeError;
pub use library::RecipeLibrary;
pub use registry::{OpEntry, OpError, Registry};

/// Result alias for this crate.
pub type Result<T, E = RecipeError> = std::result::Result<T, E>;

/// Hex SHA-256 of a recipe's bytes (recorded in manifests).
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
