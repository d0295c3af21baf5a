//! `artefact recipes calibrate [BENCHMARK.toml]`: metric spread of every attribute's mild and
//! severe levels on the benchmark's own slices, with optional contact sheets.

use crate::build::load_benchmark;
use artefact_dataset::calibrate::{calibrate, table};
use artefact_dataset::fsutil::write_atomic;
use artefact_dataset::source::collect_slices;
use artefact_recipe::{RecipeLibrary, Registry};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Benchmark recipe (default: the bundled demo).
    pub recipe: Option<PathBuf>,
    /// Images per slice, attribute and severity.
    #[arg(short = 'n', long, default_value_t = 4)]
    pub samples: usize,
    /// Worker threads (0 = one per core). The results do not depend on it.
    #[arg(short, long, default_value_t = 0)]
    pub jobs: usize,
    /// Write one contact sheet per attribute (rows: slices; columns: clean, mild, severe) here.
    #[arg(long)]
    pub sheets: Option<PathBuf>,
    /// Print the rows as JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CalibrateArgs, registry: &Registry, library: &RecipeLibrary) -> u8 {
    let Some(bench) = load_benchmark(args.recipe.as_deref(), registry, library) else {
        return 2;
    };
    // calibration publishes no keys: the fixed public secret keeps it reproducible
    let secret = artefact_dataset::build::DEFAULT_KEY_SECRET.to_vec();
    let slices = match collect_slices(&bench, &secret, false) {
        Ok((s, _)) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let cal = match calibrate(
        &bench,
        registry,
        &slices,
        args.samples,
        args.jobs,
        args.sheets.is_some(),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if args.json {
        for r in &cal.rows {
            println!("{}", serde_json::to_string(r).expect("row"));
        }
    } else {
        print!("{}", table(&cal.rows));
    }
    if let Some(dir) = &args.sheets {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: {}: {e}", dir.display());
            return 1;
        }
        for (name, png) in &cal.sheets {
            if let Err(e) = write_atomic(&dir.join(name), png) {
                eprintln!("error: {e}");
                return 1;
            }
        }
        eprintln!("{} contact sheets in {}", cal.sheets.len(), dir.display());
    }
    0
}
