//! `artefact report BUILD_DIR -o DIR [--scores FILE]`: a static HTML site of a build
//! (`artefact_dataset::report`).

use artefact_dataset::report::{write_report, ReportOptions};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output directory of a finished `artefact build`.
    pub dir: PathBuf,
    /// Folder to write the site into (open its index.html; works from file://).
    #[arg(short, long)]
    pub out: PathBuf,
    /// JSON of `artefact score --json`: adds a Scores page with the plots.
    #[arg(long, value_name = "FILE")]
    pub scores: Option<PathBuf>,
}

pub fn run(args: &ReportArgs) -> u8 {
    let opts = ReportOptions {
        scores: args.scores.clone(),
    };
    match write_report(&args.dir, &args.out, &opts) {
        Ok(s) => {
            println!(
                "report of {} images, {} questions, {} pairs, {} contact sheets: {}",
                s.images,
                s.questions,
                s.pairs,
                s.sheets,
                args.out.join("index.html").display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
