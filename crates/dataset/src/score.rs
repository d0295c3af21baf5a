//! Scoring model predictions on a finished build (`artefact score`).
//!
//! Predictions come as VLMEvalKit writes them for our MCQ TSVs (its result file: XLSX — its
//! default — TSV or CSV with an `index` and a `prediction` column) or as JSON Lines `{"index": 3, "prediction": "B"}`. The option letter is extracted the
//! way VLMEvalKit's exact matching does (see [`infer_letter`]): a single option letter among the
//! words of the answer (`A`, `A.`, `(A)`, `Answer: A`), else a single option whose text occurs
//! in the answer; anything else is *unmatched* and counted wrong (and listed).
//!
//! Accuracy is reported overall and by modality, question type, level, attribute (within its
//! modality), attribute × level and the full modality × question type × level × attribute
//! cross, each with a 95 % Wilson score interval and the cell's chance level (the mean over its
//! questions of 1 / number of options). A question of a scored split with no prediction row is
//! *missing*: counted wrong and counted explicitly; a prediction whose index is not a question
//! of the build is an error, never skipped.
//!
//! Plots ([`svg_accuracy_by_attribute`], [`svg_accuracy_by_modality`]) are hand-written SVG:
//! bars per severity, 95 % whiskers, a dashed chance mark per bar.

use crate::error::DatasetError;
use crate::questions::{Question, LETTERS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// z of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Attribute label of a clean image in the tables.
pub const CLEAN: &str = "clean";

/// Read a JSON Lines file (blank lines ignored; errors name file and line).
pub fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| DatasetError::file(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| DatasetError::file(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// letter extraction (VLMEvalKit's `can_infer_option` / `can_infer_text`, reimplemented)

/// What a free-text answer says about a multiple-choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extracted {
    /// An option letter.
    Letter(String),
    /// The model declined to answer (VLMEvalKit's `Z`).
    Refused,
    /// Nothing could be extracted.
    Unmatched,
}

/// Phrases with which a model declines (VLMEvalKit maps them to `Z`).
const REFUSALS: [&str; 4] = [
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
];

/// The option letter stated in `answer` (`letters`: the question's option letters). As in
/// VLMEvalKit: the punctuation `.()[],:;!*#{}` becomes spaces, and when exactly one of the
/// letters is a whole word, that letter; when none is but `Z` is, a refusal. Case-sensitive
/// (`a` is an article, not an option).
pub fn infer_option(answer: &str, letters: &[&str]) -> Option<Extracted> {
    if answer.contains("Failed to obtain answer via API") {
        return None;
    }
    if REFUSALS.iter().any(|r| answer.contains(r)) {
        return Some(Extracted::Refused);
    }
    let cleaned: String = answer
        .chars()
        .map(|c| if ".()[],:;!*#{}".contains(c) { ' ' } else { c })
        .collect();
    let words: BTreeSet<&str> = cleaned.split_whitespace().collect();
    let found: Vec<&&str> = letters.iter().filter(|l| words.contains(**l)).collect();
    match found.len() {
        1 => Some(Extracted::Letter(found[0].to_string())),
        0 if words.contains("Z") => Some(Extracted::Refused),
        _ => None,
    }
}

/// The option whose text occurs in `answer` (case-insensitive), when exactly one does. As in
/// VLMEvalKit, an answer longer than twice the options' total length is not searched.
pub fn infer_text(answer: &str, options: &[(&str, &str)]) -> Option<String> {
    let a = answer.to_lowercase();
    let total: usize = options.iter().map(|(_, t)| t.chars().count()).sum();
    if a.chars().count() > 2 * total {
        return None;
    }
    let hits: Vec<&str> = options
        .iter()
        .filter(|(_, t)| a.contains(&t.to_lowercase()))
        .map(|(l, _)| *l)
        .collect();
    (hits.len() == 1).then(|| hits[0].to_string())
}

/// Letter of `answer` for a question with option texts `options` (letters A, B, … in order;
/// empty options are not offered): [`infer_option`], else [`infer_text`].
pub fn infer_letter(answer: &str, options: &[String]) -> Extracted {
    let offered: Vec<(&str, &str)> = LETTERS
        .iter()
        .zip(options)
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(l, t)| (*l, t.as_str()))
        .collect();
    let letters: Vec<&str> = offered.iter().map(|(l, _)| *l).collect();
    if let Some(e) = infer_option(answer, &letters) {
        return e;
    }
    match infer_text(answer, &offered) {
        Some(l) => Extracted::Letter(l),
        None => Extracted::Unmatched,
    }
}

// ---------------------------------------------------------------------------------------------
// prediction files

/// Which table of a build predictions answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// `perception.jsonl` (the `_MCQ_` TSVs).
    Mcq,
    /// `reasoning.jsonl` (the `_Description_` TSVs).
    Description,
    /// `pairs.jsonl` (the `_PairedDescription_` TSVs).
    Paired,
}

impl Task {
    /// The task a VLMEvalKit result file is for, from its name (`…_MCQ_test…`).
    pub fn from_file_name(path: &Path) -> Option<Task> {
        let n = path.file_name()?.to_string_lossy().to_string();
        if n.contains("_PairedDescription_") {
            Some(Task::Paired)
        } else if n.contains("_Description_") {
            Some(Task::Description)
        } else if n.contains("_MCQ_") {
            Some(Task::Mcq)
        } else {
            None
        }
    }
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Task, String> {
        match s {
            "mcq" => Ok(Task::Mcq),
            "description" => Ok(Task::Description),
            "paired" => Ok(Task::Paired),
            _ => Err(format!(
                "unknown task `{s}` (allowed: mcq, description, paired)"
            )),
        }
    }
}

/// One prediction row.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionRow {
    pub index: usize,
    /// `None` for an empty cell, NaN or JSON null.
    pub prediction: Option<String>,
    /// The `question` cell, when the file has one (checked against the build).
    pub question: Option<String>,
    /// 1-based line (JSONL) or record (TSV/CSV, header = 1) number, for messages.
    pub line: usize,
}

/// Split delimited text into records (RFC 4180 quoting: `"…"` with `""` for a quote; quoted
/// cells may hold delimiters and newlines; CRLF accepted; a UTF-8 BOM skipped).
pub fn parse_delimited(text: &str, delim: char) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut rec: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_cell_start = true;
    let mut line = 1usize;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    quoted = false;
                }
            } else {
                if c == '\n' {
                    line += 1;
                }
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' if at_cell_start => {
                quoted = true;
                at_cell_start = false;
            }
            c if c == delim => {
                rec.push(std::mem::take(&mut cell));
                at_cell_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                rec.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut rec));
                at_cell_start = true;
                line += 1;
            }
            c => {
                cell.push(c);
                at_cell_start = false;
            }
        }
    }
    if quoted {
        return Err(format!(
            "unterminated quoted cell (opened before line {line})"
        ));
    }
    if !cell.is_empty() || !rec.is_empty() {
        rec.push(cell);
        records.push(rec);
    }
    Ok(records)
}

/// An index cell: `12`, `12.0` (pandas writes floats when a column had NaN).
fn parse_index(s: &str) -> Option<usize> {
    let t = s.trim();
    if let Ok(i) = t.parse::<usize>() {
        return Some(i);
    }
    let f: f64 = t.parse().ok()?;
    (f >= 0.0 && f.fract() == 0.0 && f < 1e15).then_some(f as usize)
}

fn nonempty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t != "nan" && t != "NaN").then(|| s.to_string())
}

/// Read a predictions file: `.jsonl`/`.json` (one object per line with `index` and
/// `prediction`), `.tsv` or `.csv` (header with `index` and `prediction`). Duplicate indices
/// are an error.
/// The first worksheet of an XLSX workbook (as VLMEvalKit writes its results with pandas and
/// openpyxl) as text records: integers as integers (`12`, not `12.0`), empty cells empty.
fn read_xlsx(path: &Path) -> Result<Vec<Vec<String>>, DatasetError> {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(path)
        .map_err(|e| DatasetError::file(path, format!("not a readable XLSX workbook: {e}")))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| DatasetError::file(path, "the workbook has no worksheet"))?
        .map_err(|e| DatasetError::file(path, format!("first worksheet: {e}")))?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

pub fn read_predictions(path: &Path) -> Result<Vec<PredictionRow>, DatasetError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut rows = Vec::new();
    if ext == "jsonl" || ext == "json" {
        let text = std::fs::read_to_string(path).map_err(|e| DatasetError::file(path, e))?;
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(l)
                .map_err(|e| DatasetError::file(path, format!("line {}: {e}", i + 1)))?;
            let index = match &v["index"] {
                serde_json::Value::Number(n) => n
                    .as_u64()
                    .map(|x| x as usize)
                    .or_else(|| n.as_f64().and_then(|f| parse_index(&f.to_string()))),
                serde_json::Value::String(s) => parse_index(s),
                _ => None,
            }
            .ok_or_else(|| {
                DatasetError::file(path, format!("line {}: no integer `index` field", i + 1))
            })?;
            let prediction = match &v["prediction"] {
                serde_json::Value::String(s) => nonempty(s),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            };
            let question = v["question"].as_str().map(str::to_string);
            rows.push(PredictionRow {
                index,
                prediction,
                question,
                line: i + 1,
            });
        }
    } else {
        let recs = match ext.as_str() {
            "tsv" | "txt" | "csv" => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| DatasetError::file(path, e))?;
                let delim = if ext == "csv" { ',' } else { '\t' };
                parse_delimited(&text, delim).map_err(|e| DatasetError::file(path, e))?
            }
            "xlsx" => read_xlsx(path)?,
            _ => {
                return Err(DatasetError::file(
                    path,
                    "unknown predictions format (expected .xlsx, .tsv, .csv or .jsonl)",
                ))
            }
        };
        let header = recs
            .first()
            .ok_or_else(|| DatasetError::file(path, "empty file"))?;
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let (ix, px) = match (col("index"), col("prediction")) {
            (Some(i), Some(p)) => (i, p),
            _ => {
                return Err(DatasetError::file(
                    path,
                    format!(
                        "needs columns `index` and `prediction`; the header has: {}",
                        header.join(", ")
                    ),
                ))
            }
        };
        let qx = col("question");
        for (r, rec) in recs.iter().enumerate().skip(1) {
            if rec.len() == 1 && rec[0].trim().is_empty() {
                continue;
            }
            let cell = |i: usize| rec.get(i).map(String::as_str).unwrap_or("");
            let index = parse_index(cell(ix)).ok_or_else(|| {
                DatasetError::file(
                    path,
                    format!("record {}: index `{}` is not an integer", r + 1, cell(ix)),
                )
            })?;
            rows.push(PredictionRow {
                index,
                prediction: nonempty(cell(px)),
                question: qx.map(|q| cell(q).to_string()),
                line: r + 1,
            });
        }
    }
    let mut seen = BTreeMap::new();
    for r in &rows {
        if let Some(first) = seen.insert(r.index, r.line) {
            return Err(DatasetError::file(
                path,
                format!(
                    "index {} appears twice (lines/records {first} and {})",
                    r.index, r.line
                ),
            ));
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// statistics

/// 95 % Wilson score interval of `k` successes in `n` trials (`(0, 1)` for `n = 0`).
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // exact ends at 0 and n successes (the formula gives them only up to rounding)
    let lo = if k == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// Accuracy of one group of questions. A `None` key field means "all".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Attribute of the image ([`CLEAN`] for a clean image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Questions in the cell (missing ones included).
    pub n: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// 95 % Wilson interval of the accuracy.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Mean of 1 / number of options.
    pub chance: f64,
    /// Predictions from which no letter could be extracted (or refusals); counted wrong.
    pub unmatched: usize,
    /// Questions without a prediction; counted wrong.
    pub missing: usize,
}

impl Cell {
    /// "MRI / what / severe / motion" (the fields that are set).
    pub fn label(&self) -> String {
        let parts: Vec<&str> = [
            &self.modality,
            &self.question_type,
            &self.level,
            &self.attribute,
        ]
        .iter()
        .filter_map(|f| f.as_deref())
        .collect();
        if parts.is_empty() {
            "overall".into()
        } else {
            parts.join(" / ")
        }
    }
}

/// One scored question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub index: usize,
    pub answer: String,
    /// `None`: no prediction row (or an empty cell).
    pub extracted: Option<Extracted>,
    pub correct: bool,
}

/// An unmatched prediction (for the curator to look at).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unmatched {
    pub index: usize,
    pub prediction: String,
}

/// The result of `artefact score` on MCQ predictions (`--json` prints it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    /// VLMEvalKit dataset prefix of the build.
    pub build: String,
    pub predictions: PathBuf,
    /// Splits scored: those the predictions cover (or the one asked for).
    pub splits: Vec<String>,
    pub questions: usize,
    pub predicted: usize,
    pub missing: usize,
    pub unmatched: usize,
    pub refused: usize,
    pub overall: Cell,
    pub by_modality: Vec<Cell>,
    pub by_question_type: Vec<Cell>,
    pub by_level: Vec<Cell>,
    /// Per (modality, attribute).
    pub by_attribute: Vec<Cell>,
    /// Per (modality, attribute, level).
    pub by_attribute_level: Vec<Cell>,
    /// Per (modality, level).
    pub by_modality_level: Vec<Cell>,
    /// Full modality × question type × level × attribute cross (non-empty cells).
    pub cells: Vec<Cell>,
    /// Every unmatched prediction.
    pub unmatched_predictions: Vec<Unmatched>,
    /// Indices of the questions without a prediction.
    pub missing_indices: Vec<usize>,
}

fn level_rank(l: &str) -> usize {
    match l {
        "none" => 0,
        "mild" => 1,
        "severe" => 2,
        _ => 3,
    }
}

/// Group `items` by `key` (the four key fields) into cells, sorted by key (levels in
/// severity order).
fn cells_by(
    items: &[(&Question, &Scored)],
    key: impl Fn(&Question) -> [Option<String>; 4],
) -> Vec<Cell> {
    type SortKey = Vec<(usize, Option<String>)>;
    let mut groups: BTreeMap<SortKey, Vec<(&Question, &Scored)>> = BTreeMap::new();
    for &(q, s) in items {
        let k = key(q);
        let sort: Vec<(usize, Option<String>)> = k
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let rank = if i == 2 {
                    f.as_deref().map_or(0, level_rank)
                } else {
                    0
                };
                (rank, f.clone())
            })
            .collect();
        groups.entry(sort).or_default().push((q, s));
    }
    groups
        .into_iter()
        .map(|(k, v)| {
            let n = v.len();
            let correct = v.iter().filter(|(_, s)| s.correct).count();
            let (lo, hi) = wilson(correct, n);
            let chance = v
                .iter()
                .map(|(q, _)| 1.0 / offered(q).max(1) as f64)
                .sum::<f64>()
                / n as f64;
            Cell {
                modality: k[0].1.clone(),
                question_type: k[1].1.clone(),
                level: k[2].1.clone(),
                attribute: k[3].1.clone(),
                n,
                correct,
                accuracy: correct as f64 / n as f64,
                ci_low: lo,
                ci_high: hi,
                chance,
                unmatched: v
                    .iter()
                    .filter(|(_, s)| {
                        matches!(
                            s.extracted,
                            Some(Extracted::Unmatched) | Some(Extracted::Refused)
                        )
                    })
                    .count(),
                missing: v.iter().filter(|(_, s)| s.extracted.is_none()).count(),
            }
        })
        .collect()
}

/// Number of offered (non-empty) options.
fn offered(q: &Question) -> usize {
    q.options.iter().filter(|o| !o.trim().is_empty()).count()
}

fn attr(q: &Question) -> String {
    q.attribute.clone().unwrap_or_else(|| CLEAN.to_string())
}

/// Options of [`score`].
#[derive(Clone, Debug, Default)]
pub struct ScoreOptions {
    /// Score this split only (default: every split the predictions cover).
    pub split: Option<String>,
}

/// Score MCQ predictions against the questions of the build in `dir`.
pub fn score(
    dir: &Path,
    predictions: &Path,
    opts: &ScoreOptions,
) -> Result<ScoreReport, DatasetError> {
    let questions: Vec<Question> = read_jsonl(&dir.join("perception.jsonl"))?;
    let preds = read_predictions(predictions)?;
    let build = build_prefix(dir);
    score_rows(&build, &questions, predictions, &preds, opts)
}

/// The build's dataset prefix from `build.json` (empty when unreadable).
pub fn build_prefix(dir: &Path) -> String {
    std::fs::read(dir.join("build.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["dataset_prefix"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// [`score`] on questions and prediction rows already read.
pub fn score_rows(
    build: &str,
    questions: &[Question],
    predictions: &Path,
    preds: &[PredictionRow],
    opts: &ScoreOptions,
) -> Result<ScoreReport, DatasetError> {
    let by_index: BTreeMap<usize, &Question> = questions.iter().map(|q| (q.index, q)).collect();
    let max = questions.iter().map(|q| q.index).max();
    for p in preds {
        let q = by_index.get(&p.index).ok_or_else(|| {
            DatasetError::file(
                predictions,
                format!(
                    "line/record {}: index {} is not a question of this build (perception.jsonl has {} questions, indices 0..={}); are these predictions for another build or task?",
                    p.line,
                    p.index,
                    questions.len(),
                    max.map_or("-".into(), |m| m.to_string())
                ),
            )
        })?;
        if let Some(text) = &p.question {
            if text.trim() != q.question.trim() {
                return Err(DatasetError::file(
                    predictions,
                    format!(
                        "line/record {}: the question of index {} differs from this build's (`{}` vs `{}`): predictions for another build?",
                        p.line, p.index, text, q.question
                    ),
                ));
            }
        }
    }
    let splits: Vec<String> = match &opts.split {
        Some(s) => {
            if !questions.iter().any(|q| &q.split == s) {
                return Err(DatasetError::Plan(format!(
                    "split `{s}` has no question in this build"
                )));
            }
            vec![s.clone()]
        }
        None => preds
            .iter()
            .map(|p| by_index[&p.index].split.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let pred_of: BTreeMap<usize, &PredictionRow> = preds.iter().map(|p| (p.index, p)).collect();
    let in_scope: Vec<&Question> = questions
        .iter()
        .filter(|q| splits.contains(&q.split))
        .collect();
    if in_scope.is_empty() {
        return Err(DatasetError::file(predictions, "no prediction row"));
    }
    let mut scored = Vec::new();
    let mut unmatched_predictions = Vec::new();
    for q in &in_scope {
        let extracted = pred_of
            .get(&q.index)
            .and_then(|p| p.prediction.as_deref())
            .map(|text| {
                let e = infer_letter(text, &q.options);
                if !matches!(e, Extracted::Letter(_)) {
                    unmatched_predictions.push(Unmatched {
                        index: q.index,
                        prediction: text.to_string(),
                    });
                }
                e
            });
        let correct = matches!(&extracted, Some(Extracted::Letter(l)) if *l == q.answer);
        scored.push(Scored {
            index: q.index,
            answer: q.answer.clone(),
            extracted,
            correct,
        });
    }
    let items: Vec<(&Question, &Scored)> = in_scope.iter().copied().zip(scored.iter()).collect();
    let overall = cells_by(&items, |_| [None, None, None, None])
        .pop()
        .expect("non-empty");
    let s = |x: &str| Some(x.to_string());
    Ok(ScoreReport {
        build: build.to_string(),
        predictions: predictions.to_path_buf(),
        splits,
        questions: in_scope.len(),
        predicted: scored.iter().filter(|s| s.extracted.is_some()).count(),
        missing: overall.missing,
        unmatched: scored
            .iter()
            .filter(|s| s.extracted == Some(Extracted::Unmatched))
            .count(),
        refused: scored
            .iter()
            .filter(|s| s.extracted == Some(Extracted::Refused))
            .count(),
        by_modality: cells_by(&items, |q| [s(&q.modality), None, None, None]),
        by_question_type: cells_by(&items, |q| [None, s(&q.question_type), None, None]),
        by_level: cells_by(&items, |q| [None, None, s(q.level.as_str()), None]),
        by_attribute: cells_by(&items, |q| [s(&q.modality), None, None, Some(attr(q))]),
        by_attribute_level: cells_by(&items, |q| {
            [s(&q.modality), None, s(q.level.as_str()), Some(attr(q))]
        }),
        by_modality_level: cells_by(&items, |q| {
            [s(&q.modality), None, s(q.level.as_str()), None]
        }),
        cells: cells_by(&items, |q| {
            [
                s(&q.modality),
                s(&q.question_type),
                s(q.level.as_str()),
                Some(attr(q)),
            ]
        }),
        missing_indices: scored
            .iter()
            .filter(|s| s.extracted.is_none())
            .map(|s| s.index)
            .collect(),
        unmatched_predictions,
        overall,
    })
}

fn row(c: &Cell, width: usize) -> String {
    format!(
        "{:<width$} {:>5} {:>7.1}%  [{:>5.1}, {:>5.1}]  {:>6.1}%  {:>5} {:>5}\n",
        c.label(),
        c.n,
        100.0 * c.accuracy,
        100.0 * c.ci_low,
        100.0 * c.ci_high,
        100.0 * c.chance,
        c.unmatched,
        c.missing,
    )
}

impl ScoreReport {
    /// Human-readable tables (accuracy, 95 % Wilson interval, chance, unmatched, missing).
    pub fn table(&self, full: bool) -> String {
        let mut sections: Vec<(&str, &Vec<Cell>)> = vec![
            ("by modality", &self.by_modality),
            ("by question type", &self.by_question_type),
            ("by level", &self.by_level),
            ("by modality × level", &self.by_modality_level),
            ("by attribute", &self.by_attribute),
            ("by attribute × level", &self.by_attribute_level),
        ];
        if full {
            sections.push((
                "by modality × question type × level × attribute",
                &self.cells,
            ));
        }
        let width = sections
            .iter()
            .flat_map(|(_, v)| v.iter().map(|c| c.label().chars().count()))
            .max()
            .unwrap_or(10)
            .max(24);
        let mut out = format!(
            "build {} · splits {} · {} questions, {} predicted, {} missing, {} unmatched, {} refused\n\n",
            self.build,
            self.splits.join(", "),
            self.questions,
            self.predicted,
            self.missing,
            self.unmatched,
            self.refused
        );
        let header = format!(
            "{:<width$} {:>5} {:>8}  {:>14}  {:>7}  {:>5} {:>5}\n",
            "", "n", "accuracy", "95% CI", "chance", "unm.", "miss."
        );
        out.push_str(&header);
        out.push_str(&row(&self.overall, width));
        for (title, cells) in sections {
            out.push_str(&format!("\n{title}\n"));
            for c in cells {
                out.push_str(&row(c, width));
            }
        }
        if !self.unmatched_predictions.is_empty() {
            out.push_str(&format!(
                "\n{} predictions without an extractable letter (counted wrong), e.g.:\n",
                self.unmatched_predictions.len()
            ));
            for u in self.unmatched_predictions.iter().take(10) {
                let p: String = u.prediction.chars().take(80).collect();
                out.push_str(&format!("  index {}: {p:?}\n", u.index));
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// plots

/// Escape text for XML/HTML.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn level_colour(l: &str) -> &'static str {
    match l {
        "none" => "#4c9a5b",
        "mild" => "#e0a030",
        "severe" => "#c8443a",
        _ => "#777777",
    }
}

/// Grouped bar chart: one group per label, one bar per level, 95 % whiskers, dashed chance
/// mark per bar.
fn bar_chart(title: &str, groups: &[(String, Vec<&Cell>)]) -> String {
    // labels rotated by 40° (about 5.5 px per character at 11 px) reach cos 40° of their
    // length to the left and sin 40° of it down
    let longest = groups
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let (bar, gap, top, plot_h) = (16.0, 14.0, 40.0, 220.0);
    let (left, bottom) = (56.0f64.max(4.3 * longest - 10.0), 30.0 + 3.6 * longest);
    let group_w: Vec<f64> = groups
        .iter()
        .map(|(_, v)| v.len() as f64 * bar + gap)
        .collect();
    let width = left + group_w.iter().sum::<f64>() + 20.0 + 110.0;
    let height = top + plot_h + bottom;
    let y = |a: f64| top + plot_h * (1.0 - a);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
        xml_escape(title)
    );
    for t in 0..=4 {
        let a = t as f64 / 4.0;
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}%</text>\n",
            width - 130.0,
            y(a),
            y(a),
            left - 6.0,
            y(a) + 4.0,
            a * 100.0
        ));
    }
    let mut x = left + gap / 2.0;
    for ((label, cells), w) in groups.iter().zip(&group_w) {
        for (i, c) in cells.iter().enumerate() {
            let bx = x + i as f64 * bar;
            let lvl = c.level.as_deref().unwrap_or("");
            s.push_str(&format!(
                "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {:.1}% [{:.1}, {:.1}] of {} (chance {:.1}%)</title></rect>\n",
                y(c.accuracy),
                bar - 2.0,
                plot_h * c.accuracy,
                level_colour(lvl),
                xml_escape(&c.label()),
                100.0 * c.accuracy,
                100.0 * c.ci_low,
                100.0 * c.ci_high,
                c.n,
                100.0 * c.chance
            ));
            let cx = bx + (bar - 2.0) / 2.0;
            s.push_str(&format!(
                "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n",
                y(c.ci_low),
                y(c.ci_high),
                cx - 3.0,
                cx + 3.0,
                y(c.ci_low),
                y(c.ci_low),
                cx - 3.0,
                cx + 3.0,
                y(c.ci_high),
                y(c.ci_high),
            ));
            s.push_str(&format!(
                "<line class=\"chance\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1f4e9c\" stroke-width=\"2\" stroke-dasharray=\"3,2\"/>\n",
                bx - 1.0,
                bx + bar - 1.0,
                y(c.chance),
                y(c.chance)
            ));
        }
        let lx = x + (w - gap) / 2.0;
        s.push_str(&format!(
            "<text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-40 {lx:.1} {:.1})\">{}</text>\n",
            top + plot_h + 14.0,
            top + plot_h + 14.0,
            xml_escape(label)
        ));
        x += w;
    }
    s.push_str(&format!(
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"black\"/>\n",
        top + plot_h
    ));
    let lx = width - 120.0;
    for (i, l) in ["none", "mild", "severe"].iter().enumerate() {
        let ly = top + 10.0 + 18.0 * i as f64;
        s.push_str(&format!(
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            ly - 10.0,
            level_colour(l),
            lx + 16.0,
            ly,
            if *l == "none" { "clean" } else { l }
        ));
    }
    let ly = top + 10.0 + 18.0 * 3.0;
    s.push_str(&format!(
        "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1f4e9c\" stroke-width=\"2\" stroke-dasharray=\"3,2\"/><text x=\"{:.1}\" y=\"{ly:.1}\">chance</text>\n<text x=\"{lx:.1}\" y=\"{:.1}\">whiskers: 95% CI</text>\n",
        lx + 12.0,
        ly - 4.0,
        ly - 4.0,
        lx + 16.0,
        ly + 18.0
    ));
    s.push_str("</svg>\n");
    s
}

/// Accuracy by (modality, attribute) and level.
pub fn svg_accuracy_by_attribute(r: &ScoreReport) -> String {
    let mut groups: Vec<(String, Vec<&Cell>)> = Vec::new();
    for c in &r.by_attribute {
        let cells: Vec<&Cell> = r
            .by_attribute_level
            .iter()
            .filter(|d| d.modality == c.modality && d.attribute == c.attribute)
            .collect();
        groups.push((
            format!(
                "{} · {}",
                c.modality.as_deref().unwrap_or(""),
                c.attribute.as_deref().unwrap_or("")
            ),
            cells,
        ));
    }
    bar_chart("Accuracy by attribute and severity", &groups)
}

/// Accuracy by modality and level.
pub fn svg_accuracy_by_modality(r: &ScoreReport) -> String {
    let groups: Vec<(String, Vec<&Cell>)> = r
        .by_modality
        .iter()
        .map(|m| {
            (
                m.modality.clone().unwrap_or_default(),
                r.by_modality_level
                    .iter()
                    .filter(|c| c.modality == m.modality)
                    .collect(),
            )
        })
        .collect();
    bar_chart("Accuracy by modality and severity", &groups)
}

/// Write the plots into `dir` (`accuracy_by_attribute.svg`, `accuracy_by_modality.svg`).
pub fn write_plots(r: &ScoreReport, dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut out = Vec::new();
    for (name, svg) in [
        ("accuracy_by_attribute.svg", svg_accuracy_by_attribute(r)),
        ("accuracy_by_modality.svg", svg_accuracy_by_modality(r)),
    ] {
        let p = dir.join(name);
        crate::fsutil::write_atomic(&p, svg.as_bytes())?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|s| s.to_string()).collect()
    }

    fn letter(l: &str) -> Extracted {
        Extracted::Letter(l.into())
    }

    #[test]
    fn letters_the_vlmevalkit_way() {
        let o = opts(&[
            "No obvious artifact",
            "Wrap-around artifacts",
            "Motion artifacts",
            "Intensity inhomogeneity (bias field)",
        ]);
        for (answer, want) in [
            ("C", letter("C")),
            ("C.", letter("C")),
            ("(C)", letter("C")),
            ("[B]", letter("B")),
            ("Answer: D", letter("D")),
            ("**A**", letter("A")),
            ("The answer is C. Motion artifacts", letter("C")),
            ("C: Motion artifacts", letter("C")),
            // text of exactly one option
            ("motion artifacts", letter("C")),
            ("It shows wrap-around artifacts.", letter("B")),
            // two letters: ambiguous, and no single option text either
            ("A or B", Extracted::Unmatched),
            // lowercase letters are words, not options
            ("c", Extracted::Unmatched),
            ("I can't tell", Extracted::Unmatched),
            ("Z", Extracted::Refused),
            ("Cannot determine the answer", Extracted::Refused),
            ("Failed to obtain answer via API", Extracted::Unmatched),
            ("", Extracted::Unmatched),
        ] {
            assert_eq!(infer_letter(answer, &o), want, "answer {answer:?}");
        }
    }

    #[test]
    fn only_offered_letters_count() {
        let yn = opts(&["Yes", "No", "", ""]);
        assert_eq!(infer_letter("B", &yn), letter("B"));
        // C is not an option of a yes/no question: no letter, and no option text
        assert_eq!(infer_letter("C", &yn), Extracted::Unmatched);
        assert_eq!(infer_letter("No.", &yn), letter("B"));
        assert_eq!(infer_letter("Yes, it is", &yn), letter("A"));
        // both option texts occur: ambiguous
        assert_eq!(infer_letter("yes and no", &yn), Extracted::Unmatched);
        // too long to be searched for option text
        let long = "no ".repeat(20);
        assert_eq!(infer_letter(&long, &yn), Extracted::Unmatched);
    }

    #[test]
    fn wilson_reference_values() {
        // statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
        // gives (8, 10) -> (0.4901624, 0.9433178), (0, 10) -> (0, 0.2775328),
        // (50, 100) -> (0.4038315, 0.5961685); checked here with plain Python:
        //   from statistics import NormalDist; from math import sqrt
        //   z = NormalDist().inv_cdf(0.975)
        //   w = lambda k, n: [((k/n + z*z/(2*n)) + s*z*sqrt(k/n*(1-k/n)/n + z*z/(4*n*n)))
        //                     / (1 + z*z/n) for s in (-1, 1)]
        let (lo, hi) = wilson(8, 10);
        assert!((lo - 0.490_162_4).abs() < 1e-6 && (hi - 0.943_317_8).abs() < 1e-6);
        let (lo, hi) = wilson(0, 10);
        assert!(lo.abs() < 1e-12 && (hi - 0.277_532_8).abs() < 1e-6);
        let (lo, hi) = wilson(50, 100);
        assert!((lo - 0.403_831_5).abs() < 1e-6 && (hi - 0.596_168_5).abs() < 1e-6);
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn delimited_quoting() {
        let t = "index\tprediction\n0\t\"A,\n\"\"B\"\"\"\r\n1\tC\n";
        let r = parse_delimited(t, '\t').unwrap();
        assert_eq!(
            r,
            vec![
                vec!["index".to_string(), "prediction".into()],
                vec!["0".into(), "A,\n\"B\"".into()],
                vec!["1".into(), "C".into()],
            ]
        );
        assert!(parse_delimited("a\t\"b\n", '\t').is_err());
        assert_eq!(parse_index("12.0"), Some(12));
        assert_eq!(parse_index("1.5"), None);
    }
}
