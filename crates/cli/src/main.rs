//! The `artefact` command line: thin glue over the library crates.
//!
//! One module per subcommand (`inspect.rs`, …); each parses its arguments with clap, calls
//! the library, prints, and returns the process exit code. Behaviour lives in the libraries.

mod inspect;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// artefact: physics-based degradation of medical images and image-quality benchmark building.
#[derive(Debug, Parser)]
#[command(name = "artefact", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the images found in files or directories: format, modality, size, spacing, value
    /// range, transfer syntax, frames/volumes (never patient names, IDs or dates).
    Inspect(inspect::InspectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
    };
    ExitCode::from(code)
}
