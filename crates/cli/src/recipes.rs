//! `artefact recipes list|ops|check`.

use crate::degrade::recipes_dir;
use artefact_recipe::{AttributeRecipe, BenchmarkRecipe, Registry};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RecipesArgs {
    #[command(subcommand)]
    pub command: RecipesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RecipesCommand {
    /// List the attribute recipes in a folder (default: ./recipes or the bundled ones).
    List { dir: Option<PathBuf> },
    /// Print the operator registry: every op, its parameters, units, ranges and defaults.
    Ops,
    /// Validate recipe files (attribute or benchmark); errors name file, line, column and key.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Render every attribute's mild and severe levels on a benchmark's slices and print the
    /// SSIM/PSNR spread (and contact sheets with --sheets): checks a recipe's calibration.
    Calibrate(crate::calibrate::CalibrateArgs),
}

pub fn run(args: &RecipesArgs, registry: &Registry) -> u8 {
    match &args.command {
        RecipesCommand::Calibrate(a) => crate::calibrate::run(a, registry),
        RecipesCommand::Ops => {
            print!("{}", registry.markdown());
            0
        }
        RecipesCommand::List { dir } => {
            let dir = recipes_dir(dir);
            let mut code = 0;
            for m in ["mri", "ct", "us"] {
                let Ok(rd) = std::fs::read_dir(dir.join(m)) else {
                    continue;
                };
                let mut files: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                    .collect();
                files.sort();
                for f in files {
                    match AttributeRecipe::load(&f, registry) {
                        Ok(r) => println!(
                            "{:<4} {:<16} {:<40} {}",
                            r.modality,
                            r.name,
                            r.label,
                            f.display()
                        ),
                        Err(e) => {
                            eprintln!("error: {e}");
                            code = 1;
                        }
                    }
                }
            }
            code
        }
        RecipesCommand::Check { files } => {
            let mut code = 0;
            for f in files {
                let is_bench = std::fs::read_to_string(f)
                    .map(|s| s.lines().any(|l| l.trim() == "[benchmark]"))
                    .unwrap_or(false);
                let res = if is_bench {
                    BenchmarkRecipe::load(f, registry).map(|b| {
                        format!(
                            "benchmark `{}`: {} attributes, {} sources",
                            b.name,
                            b.attributes.len(),
                            b.sources.len()
                        )
                    })
                } else {
                    AttributeRecipe::load(f, registry).map(|a| {
                        format!(
                            "attribute `{}` ({}): {} ops",
                            a.name,
                            a.modality,
                            a.ops.len()
                        )
                    })
                };
                match res {
                    Ok(msg) => println!("ok   {}: {msg}", f.display()),
                    Err(e) => {
                        println!("FAIL {e}");
                        code = 1;
                    }
                }
            }
            code
        }
    }
}
