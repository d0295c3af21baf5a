//! Scoring the reasoning tasks (no-reference descriptions and paired comparisons).
//!
//! - [`judge_requests`]: one OpenAI-compatible chat-completion request per predicted item, in
//!   the OpenAI batch-file shape (`custom_id`, `method`, `url`, `body`), asking a text judge to
//!   compare the model's text with the build's reference text on four axes scored 0–2 — the
//!   axes MedQ-Bench uses (completeness, preciseness, consistency, quality accuracy), with a
//!   rubric written for this project ([`RUBRIC`]).
//! - [`aggregate_judgements`]: reads the judge's answers back (batch output lines, plain chat
//!   completions with a `custom_id`, or flat `{"custom_id", "completeness", …}` objects) and
//!   averages each axis overall, per modality and per attribute, with a normal 95 % interval.
//!   Answers that cannot be read are listed, never dropped silently.
//! - [`grade_accuracy`]: quality accuracy without a judge, from the model's own verdict: the
//!   last grade word (good / usable / reject) of a description, or the last "first"/"second" of
//!   a comparison, against the reference grade or better image.

use crate::error::DatasetError;
use crate::export::Description;
use crate::pairs::Pair;
use crate::score::{read_jsonl, wilson, PredictionRow, Task, CLEAN, Z95};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// The four axes, in report order.
pub const AXES: [&str; 4] = [
    "completeness",
    "preciseness",
    "consistency",
    "quality_accuracy",
];

/// System prompt of every judge request.
pub const RUBRIC: &str = "You grade how well an AI model assessed the technical quality of medical images. \
You receive the REFERENCE assessment, written by the people who degraded the image on purpose and know exactly what was done to it, \
and the MODEL's assessment. Judge only image quality (artifacts, noise, blur, contrast, exposure and their severity, and the overall verdict); \
ignore style, length and any diagnosis. Give four integer scores, each 0, 1 or 2:\n\
- completeness: does the model mention the degradations the reference names? 2 = all of them (or, for a clean image, it correctly finds none), \
1 = some, 0 = none of them.\n\
- preciseness: does the model avoid claiming degradations, locations or severities that the reference does not support or contradicts? \
2 = no unsupported claim, 1 = minor ones, 0 = its main claim is wrong.\n\
- consistency: does the model's final verdict follow from what it says it sees? 2 = fully, 1 = partly, 0 = the verdict contradicts its own observations.\n\
- quality_accuracy: does the model's final verdict match the reference? For one image the grades are good, usable and reject: \
2 = same grade, 1 = adjacent grade, 0 = two grades apart or no verdict. For two images: 2 = names the same better image, 0 = the other one or none.\n\
Answer with one JSON object and nothing else: {\"completeness\": n, \"preciseness\": n, \"consistency\": n, \"quality_accuracy\": n}.";

/// The reference item a prediction answers.
#[derive(Clone, Debug)]
pub struct Item {
    pub task: Task,
    pub index: usize,
    pub split: String,
    pub modality: String,
    /// Attribute of the image (description) or of the worse image (pair); [`CLEAN`] if none.
    pub attribute: String,
    /// Level of the image (description) or of the worse image (pair).
    pub level: String,
    pub reference: String,
    /// Reference verdict: the grade (`good` / `usable` / `reject`) or the better image
    /// (`first` / `second`).
    pub verdict: String,
}

/// `custom_id` of an item's request: `description-12`, `paired-3`.
pub fn custom_id(task: Task, index: usize) -> String {
    match task {
        Task::Mcq => format!("mcq-{index}"),
        Task::Description => format!("description-{index}"),
        Task::Paired => format!("paired-{index}"),
    }
}

/// The reasoning items of the build in `dir` (`task`: description or paired).
pub fn items(dir: &Path, task: Task) -> Result<Vec<Item>, DatasetError> {
    match task {
        Task::Mcq => Err(DatasetError::Plan(
            "judge requests are for the description and paired tasks".into(),
        )),
        Task::Description => {
            let d: Vec<Description> = read_jsonl(&dir.join("reasoning.jsonl"))?;
            Ok(d.into_iter()
                .map(|d| Item {
                    task,
                    index: d.index,
                    split: d.split,
                    modality: d.modality,
                    attribute: d.attribute.unwrap_or_else(|| CLEAN.into()),
                    level: d.level.to_string(),
                    reference: d.description,
                    verdict: d.quality_grade.to_string(),
                })
                .collect())
        }
        Task::Paired => {
            let p: Vec<Pair> = read_jsonl(&dir.join("pairs.jsonl"))?;
            Ok(p.into_iter()
                .map(|p| {
                    let a_better = p.better == "A";
                    let (attr, level) = if a_better {
                        (p.attribute_b, p.severity_b)
                    } else {
                        (p.attribute_a, p.severity_a)
                    };
                    Item {
                        task,
                        index: p.index,
                        split: p.split,
                        modality: p.modality,
                        attribute: attr.unwrap_or_else(|| CLEAN.into()),
                        level: level.to_string(),
                        reference: p.description,
                        verdict: if a_better { "first" } else { "second" }.into(),
                    }
                })
                .collect())
        }
    }
}

/// Join predictions to items; an index that is not an item of the task is an error.
fn join<'a>(
    items: &'a [Item],
    preds: &'a [PredictionRow],
    path: &Path,
) -> Result<Vec<(&'a Item, Option<&'a str>)>, DatasetError> {
    let by: BTreeMap<usize, &Item> = items.iter().map(|i| (i.index, i)).collect();
    let mut out = Vec::new();
    for p in preds {
        let it = by.get(&p.index).ok_or_else(|| {
            DatasetError::file(
                path,
                format!(
                    "line/record {}: index {} is not an item of this build's {:?} task ({} items); predictions for another build or task?",
                    p.line,
                    p.index,
                    items.first().map_or(Task::Description, |i| i.task),
                    items.len()
                ),
            )
        })?;
        out.push((*it, p.prediction.as_deref()));
    }
    Ok(out)
}

/// One request per prediction (predictions with an empty cell are skipped and counted: the
/// second value).
pub fn judge_requests(
    items: &[Item],
    preds: &[PredictionRow],
    predictions_path: &Path,
    model: &str,
) -> Result<(Vec<serde_json::Value>, usize), DatasetError> {
    let mut out = Vec::new();
    let mut empty = 0;
    for (it, pred) in join(items, preds, predictions_path)? {
        let Some(pred) = pred else {
            empty += 1;
            continue;
        };
        let what = match it.task {
            Task::Paired => "two images of the same anatomy (the first and the second image)",
            _ => "one image",
        };
        let user = format!(
            "Task: assess the quality of {what} ({}).\n\nREFERENCE:\n{}\n\nMODEL:\n{}\n\nScore the MODEL against the REFERENCE.",
            it.modality, it.reference, pred
        );
        out.push(json!({
            "custom_id": custom_id(it.task, it.index),
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": model,
                "temperature": 0,
                "response_format": {"type": "json_object"},
                "messages": [
                    {"role": "system", "content": RUBRIC},
                    {"role": "user", "content": user},
                ],
            },
        }));
    }
    Ok((out, empty))
}

/// Mean of one axis with a normal 95 % interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisStats {
    pub n: usize,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

fn axis_stats(v: &[f64]) -> AxisStats {
    let n = v.len();
    if n == 0 {
        return AxisStats {
            n,
            mean: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let half = Z95 * (var / n as f64).sqrt();
    AxisStats {
        n,
        mean,
        ci_low: mean - half,
        ci_high: mean + half,
    }
}

/// Judge scores of one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgeGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub n: usize,
    /// Per axis (0–2), in [`AXES`] order.
    pub axes: BTreeMap<String, AxisStats>,
    /// Sum of the four axes (0–8).
    pub total: AxisStats,
}

/// Aggregated judge scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgementReport {
    pub task: Task,
    pub judged: usize,
    /// `custom_id: reason` of answers that could not be read (not counted).
    pub invalid: Vec<String>,
    pub overall: JudgeGroup,
    pub by_modality: Vec<JudgeGroup>,
    pub by_attribute: Vec<JudgeGroup>,
}

/// The four scores of a judge's message text: a JSON object, possibly inside other text.
pub fn parse_scores(content: &str) -> Result<[f64; 4], String> {
    let v: serde_json::Value = serde_json::from_str(content.trim()).or_else(|_| {
        let (a, b) = (content.find('{'), content.rfind('}'));
        match (a, b) {
            (Some(a), Some(b)) if b > a => serde_json::from_str(&content[a..=b])
                .map_err(|e| format!("no JSON object in the answer ({e})")),
            _ => Err("no JSON object in the answer".to_string()),
        }
    })?;
    scores_of(&v)
}

fn scores_of(v: &serde_json::Value) -> Result<[f64; 4], String> {
    let mut out = [0.0; 4];
    for (i, a) in AXES.iter().enumerate() {
        let x = v
            .get(*a)
            .or_else(|| v.get(a.replace('_', " ")))
            .and_then(|x| {
                x.as_f64()
                    .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
            })
            .ok_or_else(|| format!("no numeric `{a}`"))?;
        if !(0.0..=2.0).contains(&x) {
            return Err(format!("`{a}` = {x} is outside 0–2"));
        }
        out[i] = x;
    }
    Ok(out)
}

/// The judge's message text of one returned line, or the scores when given flat.
fn line_scores(v: &serde_json::Value) -> Result<[f64; 4], String> {
    if v.get(AXES[0]).is_some() {
        return scores_of(v);
    }
    let body = v
        .pointer("/response/body")
        .or_else(|| v.get("response"))
        .unwrap_or(v);
    let content = body
        .pointer("/choices/0/message/content")
        .and_then(|c| c.as_str())
        .ok_or_else(|| {
            v.pointer("/error/message")
                .or_else(|| v.pointer("/response/body/error/message"))
                .and_then(|e| e.as_str())
                .map_or("no choices[0].message.content".to_string(), |e| {
                    format!("judge error: {e}")
                })
        })?;
    parse_scores(content)
}

fn group(
    modality: Option<String>,
    attribute: Option<String>,
    rows: &[(&Item, [f64; 4])],
) -> JudgeGroup {
    let mut axes = BTreeMap::new();
    for (i, a) in AXES.iter().enumerate() {
        let v: Vec<f64> = rows.iter().map(|r| r.1[i]).collect();
        axes.insert(a.to_string(), axis_stats(&v));
    }
    let tot: Vec<f64> = rows.iter().map(|r| r.1.iter().sum()).collect();
    JudgeGroup {
        modality,
        attribute,
        n: rows.len(),
        axes,
        total: axis_stats(&tot),
    }
}

/// Aggregate the judge's answers in `path` for the items of `task`.
pub fn aggregate_judgements(
    items: &[Item],
    task: Task,
    path: &Path,
) -> Result<JudgementReport, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| DatasetError::file(path, e))?;
    let by: BTreeMap<String, &Item> = items
        .iter()
        .map(|i| (custom_id(i.task, i.index), i))
        .collect();
    let mut rows: Vec<(&Item, [f64; 4])> = Vec::new();
    let mut invalid = Vec::new();
    let mut seen = BTreeMap::new();
    for (ln, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(l)
            .map_err(|e| DatasetError::file(path, format!("line {}: {e}", ln + 1)))?;
        let id = v["custom_id"]
            .as_str()
            .ok_or_else(|| DatasetError::file(path, format!("line {}: no `custom_id`", ln + 1)))?;
        let item = by.get(id).ok_or_else(|| {
            DatasetError::file(
                path,
                format!(
                    "line {}: `{id}` is not an item of this build's {task:?} task",
                    ln + 1
                ),
            )
        })?;
        if let Some(first) = seen.insert(id.to_string(), ln + 1) {
            return Err(DatasetError::file(
                path,
                format!("`{id}` answered twice (lines {first} and {})", ln + 1),
            ));
        }
        match line_scores(&v) {
            Ok(s) => rows.push((item, s)),
            Err(e) => invalid.push(format!("{id}: {e}")),
        }
    }
    let mut by_mod: BTreeMap<String, Vec<(&Item, [f64; 4])>> = BTreeMap::new();
    type Scored<'a> = (&'a Item, [f64; 4]);
    let mut by_attr: BTreeMap<(String, String), Vec<Scored>> = BTreeMap::new();
    for r in &rows {
        by_mod.entry(r.0.modality.clone()).or_default().push(*r);
        by_attr
            .entry((r.0.modality.clone(), r.0.attribute.clone()))
            .or_default()
            .push(*r);
    }
    Ok(JudgementReport {
        task,
        judged: rows.len(),
        invalid,
        overall: group(None, None, &rows),
        by_modality: by_mod
            .into_iter()
            .map(|(m, v)| group(Some(m), None, &v))
            .collect(),
        by_attribute: by_attr
            .into_iter()
            .map(|((m, a), v)| group(Some(m), Some(a), &v))
            .collect(),
    })
}

impl JudgementReport {
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:?} task: {} judged, {} unreadable answers\n{:<40} {:>4} {:>13} {:>13} {:>13} {:>16} {:>9}\n",
            self.task,
            self.judged,
            self.invalid.len(),
            "",
            "n",
            "completeness",
            "preciseness",
            "consistency",
            "quality_accuracy",
            "total/8"
        );
        let mut line = |label: String, g: &JudgeGroup| {
            s.push_str(&format!("{label:<40} {:>4}", g.n));
            for (a, w) in AXES.iter().zip([13, 13, 13, 16]) {
                s.push_str(&format!(" {:>w$.2}", g.axes[*a].mean));
            }
            s.push_str(&format!(" {:>9.2}\n", g.total.mean));
        };
        line("overall".into(), &self.overall);
        for g in &self.by_modality {
            line(g.modality.clone().unwrap_or_default(), g);
        }
        for g in &self.by_attribute {
            line(
                format!(
                    "{} / {}",
                    g.modality.as_deref().unwrap_or(""),
                    g.attribute.as_deref().unwrap_or("")
                ),
                g,
            );
        }
        for i in self.invalid.iter().take(10) {
            s.push_str(&format!("unreadable: {i}\n"));
        }
        s
    }
}

/// The verdict a model's text ends with: the last grade word (`good`, `usable`, `reject`;
/// `rejected` and `unusable` read as `reject`) for a description, the last `first`/`second`
/// for a comparison. `None` when there is none.
pub fn predicted_verdict(task: Task, text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let words = lower
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty());
    let mut last = None;
    for w in words {
        let v = match (task, w) {
            (Task::Paired, "first") => "first",
            (Task::Paired, "second") => "second",
            (Task::Description, "good") => "good",
            (Task::Description, "usable") => "usable",
            (Task::Description, "reject" | "rejected" | "unusable") => "reject",
            _ => continue,
        };
        last = Some(v.to_string());
    }
    last
}

/// Quality accuracy without a judge, in one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeCell {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub n: usize,
    pub correct: usize,
    /// Texts with no verdict word (counted wrong).
    pub no_verdict: usize,
    pub accuracy: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// 1/3 (three grades) or 1/2 (two images).
    pub chance: f64,
}

/// Judge-free quality accuracy of description or paired predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeReport {
    pub task: Task,
    pub predictions: usize,
    /// Prediction rows with an empty cell (counted wrong).
    pub empty: usize,
    pub overall: GradeCell,
    pub by_modality: Vec<GradeCell>,
    pub by_attribute: Vec<GradeCell>,
}

/// Quality accuracy from the verdict of each predicted text ([`predicted_verdict`]).
pub fn grade_accuracy(
    items: &[Item],
    task: Task,
    preds: &[PredictionRow],
    path: &Path,
) -> Result<GradeReport, DatasetError> {
    let joined = join(items, preds, path)?;
    let chance = if task == Task::Paired { 0.5 } else { 1.0 / 3.0 };
    let judged: Vec<(&Item, Option<String>)> = joined
        .iter()
        .map(|(it, p)| (*it, p.and_then(|t| predicted_verdict(task, t))))
        .collect();
    let cell = |m: Option<String>, a: Option<String>, v: &[&(&Item, Option<String>)]| {
        let n = v.len();
        let correct = v
            .iter()
            .filter(|(it, p)| p.as_deref() == Some(it.verdict.as_str()))
            .count();
        let (lo, hi) = wilson(correct, n);
        GradeCell {
            modality: m,
            attribute: a,
            n,
            correct,
            no_verdict: v.iter().filter(|(_, p)| p.is_none()).count(),
            accuracy: if n > 0 {
                correct as f64 / n as f64
            } else {
                0.0
            },
            ci_low: lo,
            ci_high: hi,
            chance,
        }
    };
    let all: Vec<&(&Item, Option<String>)> = judged.iter().collect();
    let mut by_mod: BTreeMap<String, Vec<&(&Item, Option<String>)>> = BTreeMap::new();
    type Verdict<'a, 'b> = &'b (&'a Item, Option<String>);
    let mut by_attr: BTreeMap<(String, String), Vec<Verdict>> = BTreeMap::new();
    for r in &judged {
        by_mod.entry(r.0.modality.clone()).or_default().push(r);
        by_attr
            .entry((r.0.modality.clone(), r.0.attribute.clone()))
            .or_default()
            .push(r);
    }
    Ok(GradeReport {
        task,
        predictions: joined.len(),
        empty: joined.iter().filter(|(_, p)| p.is_none()).count(),
        overall: cell(None, None, &all),
        by_modality: by_mod
            .into_iter()
            .map(|(m, v)| cell(Some(m), None, &v))
            .collect(),
        by_attribute: by_attr
            .into_iter()
            .map(|((m, a), v)| cell(Some(m), Some(a), &v))
            .collect(),
    })
}

impl GradeReport {
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:?} task, quality accuracy from the predicted verdict: {} predictions ({} empty)\n",
            self.task, self.predictions, self.empty
        );
        let mut line = |label: String, c: &GradeCell| {
            s.push_str(&format!(
                "{label:<40} {:>5} {:>7.1}%  [{:>5.1}, {:>5.1}]  chance {:>5.1}%  no verdict {}\n",
                c.n,
                100.0 * c.accuracy,
                100.0 * c.ci_low,
                100.0 * c.ci_high,
                100.0 * c.chance,
                c.no_verdict
            ));
        };
        line("overall".into(), &self.overall);
        for c in &self.by_modality {
            line(c.modality.clone().unwrap_or_default(), c);
        }
        for c in &self.by_attribute {
            line(
                format!(
                    "{} / {}",
                    c.modality.as_deref().unwrap_or(""),
                    c.attribute.as_deref().unwrap_or("")
                ),
                c,
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_from_our_own_wording() {
        let d = Task::Description;
        // the three endings text.rs writes
        for (t, g) in [
            (
                "This CT image shows x. Overall, the quality of this image is usable.",
                "usable",
            ),
            (
                "The MRI image presents x. The overall quality is reject.",
                "reject",
            ),
            ("In this CT image one sees x. Quality grade: good.", "good"),
            (
                "Good contrast, but heavy noise: the image is unusable.",
                "reject",
            ),
        ] {
            assert_eq!(predicted_verdict(d, t).as_deref(), Some(g), "{t}");
        }
        assert_eq!(predicted_verdict(d, "Hard to say."), None);
        let p = Task::Paired;
        assert_eq!(
            predicted_verdict(
                p,
                "The first shows noise. Overall, the second image is better."
            )
            .as_deref(),
            Some("second")
        );
    }

    #[test]
    fn judge_answers_are_read_or_refused() {
        assert_eq!(
            parse_scores("{\"completeness\": 2, \"preciseness\": 1, \"consistency\": 2, \"quality_accuracy\": 0}")
                .unwrap(),
            [2.0, 1.0, 2.0, 0.0]
        );
        assert_eq!(
            parse_scores("Sure! {\"completeness\": \"1\", \"preciseness\": 1, \"consistency\": 1, \"quality accuracy\": 2} Done")
                .unwrap(),
            [1.0, 1.0, 1.0, 2.0]
        );
        assert!(parse_scores("{\"completeness\": 3, \"preciseness\": 1, \"consistency\": 1, \"quality_accuracy\": 2}").is_err());
        assert!(parse_scores("no idea").is_err());
        let batch = json!({"custom_id": "description-1", "response": {"status_code": 200, "body": {"choices": [{"message": {"role": "assistant", "content": "{\"completeness\": 2, \"preciseness\": 2, \"consistency\": 2, \"quality_accuracy\": 1}"}}]}}});
        assert_eq!(line_scores(&batch).unwrap(), [2.0, 2.0, 2.0, 1.0]);
    }

    #[test]
    fn axis_interval() {
        let s = axis_stats(&[0.0, 2.0, 2.0, 2.0]);
        assert!((s.mean - 1.5).abs() < 1e-12);
        // sd = 1, n = 4 -> half width 1.96 / 2
        assert!((s.ci_high - s.mean - Z95 / 2.0).abs() < 1e-12);
    }
}
