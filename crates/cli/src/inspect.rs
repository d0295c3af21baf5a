//! `artefact inspect PATH...`: summaries of every image source found (artefact_io::inspect).

use artefact_io::{inspect, LoadOptions, NonFinitePolicy};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files or directories (searched recursively; DICOM files are grouped into series).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when any entry could not be read (by default only when nothing
    /// could be read).
    #[arg(long)]
    pub strict: bool,
    /// Which volume of 4-D images to summarise (0-based).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub volume: usize,
    /// Convert colour images to grey (Rec. 601 luminance) instead of reporting an error.
    #[arg(long)]
    pub grey_from_rgb: bool,
    /// Replace NaN/Inf voxels by 0 instead of reporting an error.
    #[arg(long)]
    pub non_finite_to_zero: bool,
    /// Read ultrasound DICOM that declares no imaging region although its pixels may carry
    /// burned-in text (names, dates).
    #[arg(long)]
    pub allow_burned_in: bool,
    /// Memory budget per source, e.g. 2G, 512M or a number of bytes (default: half of the
    /// available memory, capped). A source needing more is reported as too large.
    #[arg(long, value_name = "BYTES", value_parser = crate::build::parse_bytes)]
    pub max_memory: Option<u64>,
    /// Time budget in seconds for reading one source (file or series); 0: no budget.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub source_timeout: u64,
}

pub fn run(args: &InspectArgs) -> u8 {
    let opts = LoadOptions {
        volume_index: args.volume,
        grey_from_rgb: args.grey_from_rgb,
        allow_burned_in: args.allow_burned_in,
        non_finite: if args.non_finite_to_zero {
            NonFinitePolicy::Zero
        } else {
            NonFinitePolicy::Error
        },
        max_bytes: args
            .max_memory
            .unwrap_or_else(artefact_io::default_max_bytes),
        time_budget: crate::build::time_budget(args.source_timeout),
        ..LoadOptions::default()
    };
    let report = inspect::inspect(&args.paths, &opts);
    let out = if args.json {
        report.to_json() + "\n"
    } else {
        report.to_text()
    };
    // a closed pipe (e.g. `| head`) is not an error worth a panic
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    report.exit_code(args.strict) as u8
}
