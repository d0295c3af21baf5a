//! `artefact recipes list|ops|check|calibrate`.

use artefact_recipe::{AttributeRecipe, BenchmarkRecipe, RecipeLibrary, Registry};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RecipesArgs {
    #[command(subcommand)]
    pub command: RecipesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RecipesCommand {
    /// List the attribute recipes of a folder (default: --recipes / $ARTEFACT_RECIPES, else the
    /// recipes bundled in this binary).
    List { dir: Option<PathBuf> },
    /// Print the operator registry: every op, its parameters, units, ranges and defaults.
    Ops,
    /// Validate recipe files (attribute or benchmark), or recipe names of the library
    /// (`mri/motion`, `ct/*`); with none, every attribute recipe of the library. Errors name
    /// file, line, column and key.
    Check { files: Vec<PathBuf> },
    /// Render every attribute's mild and severe levels on a benchmark's slices and print the
    /// SSIM/PSNR spread (and contact sheets with --sheets): checks a recipe's calibration.
    Calibrate(crate::calibrate::CalibrateArgs),
}

pub fn run(args: &RecipesArgs, registry: &Registry, library: &RecipeLibrary) -> u8 {
    match &args.command {
        RecipesCommand::Calibrate(a) => crate::calibrate::run(a, registry, library),
        RecipesCommand::Ops => {
            print!("{}", registry.markdown());
            0
        }
        RecipesCommand::List { dir } => {
            let library = match dir {
                Some(d) => RecipeLibrary::Dir(d.clone()),
                None => library.clone(),
            };
            let attributes = match library.attributes(registry) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            let mut code = 0;
            for (rel, r) in attributes {
                match r {
                    Ok(r) => println!(
                        "{:<4} {:<16} {:<40} {}",
                        r.modality,
                        r.name,
                        r.label,
                        library.display_path(&rel).display()
                    ),
                    Err(e) => {
                        eprintln!("error: {e}");
                        code = 1;
                    }
                }
            }
            code
        }
        RecipesCommand::Check { files } => {
            let mut code = 0;
            let report =
                |res: artefact_recipe::Result<String>, shown: &str, code: &mut u8| match res {
                    Ok(msg) => println!("ok   {shown}: {msg}"),
                    Err(e) => {
                        println!("FAIL {e}");
                        *code = 1;
                    }
                };
            if files.is_empty() {
                match library.attributes(registry) {
                    Ok(all) => {
                        for (rel, r) in all {
                            let shown = library.display_path(&rel).display().to_string();
                            report(checked(r, registry), &shown, &mut code);
                        }
                    }
                    Err(e) => report(Err(e), "", &mut code),
                }
                return code;
            }
            for f in files {
                if !f.exists() {
                    // a recipe name of the library (`mri/motion`, `ct/*`)
                    let name = f.to_string_lossy();
                    match library.matching(&name) {
                        Ok(rels) if !rels.is_empty() => {
                            for rel in rels {
                                let shown = library.display_path(&rel).display().to_string();
                                let r = library.attribute(&rel, registry);
                                report(checked(r, registry), &shown, &mut code);
                            }
                            continue;
                        }
                        Err(e) => {
                            report(Err(e), "", &mut code);
                            continue;
                        }
                        Ok(_) => {}
                    }
                }
                let is_bench = std::fs::read_to_string(f)
                    .map(|s| s.lines().any(|l| l.trim() == "[benchmark]"))
                    .unwrap_or(false);
                let res = if is_bench {
                    BenchmarkRecipe::load_with(f, registry, library).and_then(|b| {
                        let excess = b.supply_excess();
                        if !excess.is_empty() {
                            return Err(artefact_recipe::RecipeError::new(
                                &b.path,
                                format!(
                                    "the sources cannot supply what is asked: {}; build would stop with a shortfall (or write less with --allow-shortfall)",
                                    excess.join("; ")
                                ),
                            ));
                        }
                        for a in &b.attributes {
                            trial(a, registry)?;
                        }
                        Ok(format!(
                            "benchmark `{}`: {} attributes, {} sources (every attribute applied on a phantom)",
                            b.name,
                            b.attributes.len(),
                            b.sources.len()
                        ))
                    })
                } else {
                    checked(AttributeRecipe::load(f, registry), registry)
                };
                report(res, &f.display().to_string(), &mut code);
            }
            code
        }
    }
}

/// An attribute recipe that parsed, then applied at both severities on a phantom
/// (`artefact_recipe::trial`): what `check` reports for it.
fn checked(
    r: artefact_recipe::Result<AttributeRecipe>,
    registry: &Registry,
) -> artefact_recipe::Result<String> {
    let a = r?;
    trial(&a, registry)?;
    Ok(describe_attribute(&a) + ", applied on a phantom")
}

/// [`artefact_recipe::trial::trial`] with its message as a recipe error naming the file.
fn trial(a: &AttributeRecipe, registry: &Registry) -> artefact_recipe::Result<()> {
    artefact_recipe::trial::trial(a, registry).map_err(|why| {
        artefact_recipe::RecipeError::new(&a.path, format!("attribute `{}`: {why}", a.name))
    })
}

fn describe_attribute(a: &AttributeRecipe) -> String {
    format!(
        "attribute `{}` ({}): {} ops",
        a.name,
        a.modality,
        a.ops.len()
    )
}
