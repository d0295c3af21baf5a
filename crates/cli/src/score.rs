//! `artefact score BUILD_DIR PREDICTIONS`: accuracy of model predictions on a build, and the
//! judge requests / judge-score aggregation of the reasoning tasks. Thin glue over
//! `artefact_dataset::score` and `artefact_dataset::judge`.

use artefact_dataset::judge::{aggregate_judgements, grade_accuracy, items, judge_requests};
use artefact_dataset::score::{read_predictions, score, write_plots, ScoreOptions, Task};
use artefact_dataset::DatasetError;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Output directory of a finished `artefact build`.
    pub dir: PathBuf,
    /// Predictions: VLMEvalKit's result file (TSV or CSV with `index` and `prediction`
    /// columns) or JSON Lines `{"index": 0, "prediction": "B"}`.
    pub predictions: Option<PathBuf>,
    /// Which task the predictions answer: mcq, description or paired (default: from a
    /// VLMEvalKit file name, `…_MCQ_…`, `…_Description_…`, `…_PairedDescription_…`, else mcq).
    #[arg(long)]
    pub task: Option<Task>,
    /// Score this split only (default: every split the predictions cover).
    #[arg(long)]
    pub split: Option<String>,
    /// Print the report as JSON (`artefact report --scores` reads it).
    #[arg(long)]
    pub json: bool,
    /// Also print the full modality × question type × level × attribute table.
    #[arg(long)]
    pub full: bool,
    /// Write SVG plots (accuracy by attribute and severity, by modality) into this folder.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Description / paired predictions: write one OpenAI-compatible judge request per item
    /// (OpenAI batch-file lines) to this file.
    #[arg(long, value_name = "OUT.jsonl")]
    pub judge_requests: Option<PathBuf>,
    /// Model name written into the judge requests.
    #[arg(long, default_value = "gpt-4o")]
    pub judge_model: String,
    /// Aggregate a judge's answers (batch output lines or `{"custom_id", "completeness", …}`)
    /// per axis, modality and attribute.
    #[arg(long, value_name = "FILE")]
    pub judgements: Option<PathBuf>,
}

fn run_inner(args: &ScoreArgs) -> Result<(), DatasetError> {
    let task = args
        .task
        .or_else(|| args.predictions.as_deref().and_then(Task::from_file_name))
        .unwrap_or(Task::Mcq);
    if task == Task::Mcq {
        if args.judge_requests.is_some() || args.judgements.is_some() {
            return Err(DatasetError::Plan(
                "--judge-requests and --judgements are for the description and paired tasks (pass --task description or --task paired)".into(),
            ));
        }
        let Some(pred) = &args.predictions else {
            return Err(DatasetError::Plan("no PREDICTIONS file given".into()));
        };
        let r = score(
            &args.dir,
            pred,
            &ScoreOptions {
                split: args.split.clone(),
            },
        )?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r).expect("report"));
        } else {
            print!("{}", r.table(args.full));
        }
        if let Some(dir) = &args.plots {
            for p in write_plots(&r, dir)? {
                eprintln!("wrote {}", p.display());
            }
        }
        return Ok(());
    }
    let its = items(&args.dir, task)?;
    let mut json = serde_json::Map::new();
    if let Some(pred) = &args.predictions {
        let rows = read_predictions(pred)?;
        let g = grade_accuracy(&its, task, &rows, pred)?;
        if !args.json {
            print!("{}", g.table());
        }
        json.insert(
            "quality_accuracy".into(),
            serde_json::to_value(&g).expect("json"),
        );
        if let Some(out) = &args.judge_requests {
            let (reqs, empty) = judge_requests(&its, &rows, pred, &args.judge_model)?;
            artefact_dataset::fsutil::write_atomic(out, &artefact_dataset::export::jsonl(&reqs))?;
            eprintln!(
                "wrote {} judge requests to {} ({} empty predictions skipped)",
                reqs.len(),
                out.display(),
                empty
            );
        }
    } else if args.judge_requests.is_some() {
        return Err(DatasetError::Plan(
            "--judge-requests needs the PREDICTIONS file".into(),
        ));
    }
    if let Some(j) = &args.judgements {
        let r = aggregate_judgements(&its, task, j)?;
        if !args.json {
            print!("{}", r.table());
        }
        json.insert("judgements".into(), serde_json::to_value(&r).expect("json"));
    }
    if json.is_empty() {
        return Err(DatasetError::Plan(
            "nothing to do: give PREDICTIONS and/or --judgements".into(),
        ));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(json)).expect("json")
        );
    }
    Ok(())
}

pub fn run(args: &ScoreArgs) -> u8 {
    match run_inner(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
