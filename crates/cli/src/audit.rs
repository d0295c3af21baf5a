//! `artefact audit BUILD_DIR [--json] [--strict]`: measure every shortcut of a build.

use artefact_dataset::audit::audit;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Output directory of a finished `artefact build`.
    pub dir: PathBuf,
    /// Print the full report as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when any check fails.
    #[arg(long)]
    pub strict: bool,
    /// Show every check, not only the worst of each family.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: &AuditArgs) -> u8 {
    match audit(&args.dir) {
        Ok(r) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r).expect("report"));
            } else {
                print!("{}", r.table(args.verbose));
                for f in r.failures() {
                    eprintln!("failed: {f}");
                }
            }
            if args.strict && !r.passed {
                1
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
