//! `artefact merge SHARD_DIR... -o OUT`: join the shards of a sharded build into the build.

use crate::build::{load_benchmark, secret_of};
use artefact_dataset::merge::expand_shard_dirs;
use artefact_dataset::{merge, MergeOptions};
use artefact_recipe::{RecipeLibrary, Registry};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard directories (`shard-I-of-N`, written by `build --shard`), or the directory
    /// holding them. Every shard of the build, each once.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// Output directory: receives the same tree a single `artefact build` writes.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Benchmark recipe the shards were built from (default: the path their manifest records).
    #[arg(long, value_name = "BENCHMARK.toml")]
    pub recipe: Option<PathBuf>,
    /// The secret the shards were built with.
    #[arg(long, env = "ARTEFACT_KEY_SECRET", hide_env_values = true)]
    pub key_secret: Option<String>,
    /// Read the secret from this private file instead (wins over --key-secret and
    /// ARTEFACT_KEY_SECRET).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Hard-link the images from the shards instead of copying them.
    #[arg(long)]
    pub link: bool,
    /// Replace an earlier artefact build in the output directory.
    #[arg(long)]
    pub force: bool,
    /// Fail (writing nothing) when the audit of the merged build fails.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: &MergeArgs, registry: &Registry, library: &RecipeLibrary) -> u8 {
    let dirs = expand_shard_dirs(&args.shards);
    let Some(secret) = secret_of(args.key_file.as_deref(), args.key_secret.as_deref()) else {
        return 2;
    };
    let recipe = match &args.recipe {
        Some(r) => Some(r.clone()),
        None => {
            let first = match artefact_dataset::shard::read_shard(&dirs[0]) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            let p = first.build.benchmark_path;
            // the bundled demo is recorded by its place in a checkout
            if !p.exists() && p == std::path::Path::new("recipes/benchmarks/demo.toml") {
                None
            } else if p.exists() {
                Some(p)
            } else {
                eprintln!(
                    "error: the shards were built from {}, which is not here; pass --recipe",
                    p.display()
                );
                return 2;
            }
        }
    };
    let Some(bench) = load_benchmark(recipe.as_deref(), registry, library) else {
        return 2;
    };
    let mut opts = MergeOptions::new(&args.out, secret);
    opts.link = args.link;
    opts.force = args.force;
    opts.strict_audit = args.strict;
    match merge(&bench, &dirs, &opts) {
        Ok(s) => {
            println!(
                "merged {} shards of `{}` into {}: {} images from {} clean slices, {} questions, {} descriptions, {} pairs",
                dirs.len(),
                bench.name,
                args.out.display(),
                s.images,
                s.clean_slices,
                s.questions,
                s.descriptions,
                s.pairs
            );
            println!(
                "  audit: {} (artefact audit {} for the table; audit.json)",
                if s.audit_passed { "passed" } else { "FAILED" },
                args.out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
