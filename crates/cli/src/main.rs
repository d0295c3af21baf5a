//! The `artefact` command line: thin glue over the library crates.
//!
//! One module per subcommand (`inspect.rs`, …); each parses its arguments with clap, calls
//! the library, prints, and returns the process exit code. Behaviour lives in the libraries.

#![forbid(unsafe_code)]

mod audit;
mod build;
mod calibrate;
mod degrade;
mod inspect;
mod merge;
mod recipes;
mod replay;
mod report;
mod score;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// artefact: physics-based degradation of medical images and image-quality benchmark building.
#[derive(Debug, Parser)]
#[command(name = "artefact", version, about, long_about = None)]
struct Cli {
    /// Folder of recipes replacing the bundled ones (laid out like the source tree's
    /// recipes/: mri/, ct/, us/, benchmarks/). Default: $ARTEFACT_RECIPES if set, else the
    /// recipes compiled into this binary.
    #[arg(long, global = true, value_name = "DIR")]
    recipes: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a benchmark dataset from a benchmark recipe (default: the bundled demo).
    Build(build::BuildArgs),
    /// Join the shard directories of a sharded build (`build --shard I/N`) into the build:
    /// the same tree, byte for byte, as one `artefact build`.
    Merge(merge::MergeArgs),
    /// Degrade one slice of an image with one attribute at one severity.
    Degrade(degrade::DegradeArgs),
    /// List, document and validate recipes.
    Recipes(recipes::RecipesArgs),
    /// Measure every shortcut of a finished build (label tokens in names, order, balance,
    /// blind baselines, duplicates, split leaks, render consistency) against chance.
    Audit(audit::AuditArgs),
    /// Regenerate one sample of a finished build and check it equals the stored image.
    Replay(replay::ReplayArgs),
    /// List the images found in files or directories: format, modality, size, spacing, value
    /// range, transfer syntax, frames/volumes (never patient names, IDs or dates).
    Inspect(inspect::InspectArgs),
    /// Score model predictions on a build: accuracy by modality, question type, level and
    /// attribute with 95 % intervals and chance; judge requests for the reasoning tasks.
    Score(score::ScoreArgs),
    /// Write a static HTML report of a build (summary, audit, contact sheets, questions,
    /// descriptions, pairs; scores with --scores).
    Report(report::ReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let library = artefact_recipe::RecipeLibrary::locate(cli.recipes.as_deref());
    let code = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Build(args) => build::run(&args, &artefact_recipe::Registry::builtin(), &library),
        Command::Merge(args) => merge::run(&args, &artefact_recipe::Registry::builtin(), &library),
        Command::Degrade(args) => {
            degrade::run(&args, &artefact_recipe::Registry::builtin(), &library)
        }
        Command::Recipes(args) => {
            recipes::run(&args, &artefact_recipe::Registry::builtin(), &library)
        }
        Command::Replay(args) => replay::run(&args, &artefact_recipe::Registry::builtin()),
        Command::Score(args) => score::run(&args),
        Command::Report(args) => report::run(&args),
    };
    ExitCode::from(code)
}
