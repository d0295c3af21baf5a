//! `audit`: does anything but the pixels answer a question of a build?
//!
//! Reads a finished build directory and measures every shortcut a model (or a careless
//! evaluation) could take, each as a number beside its chance level or limit:
//!
//! | check | what is measured | passes when |
//! |---|---|---|
//! | `label-tokens` | attribute, severity, grade and modality words in ids, file names and every path under `images/`, `hf/`, `vlmevalkit/` | none |
//! | `order/<table>/<column>` | best of the order rules (previous row, index mod k for k = 2..6, position bins) predicting a label column from the row index, cross-fitted, minus the majority chance (tables of ≥ 20 rows) | ≤ 0.05 + 3σ |
//! | `order-rank/<table>/<column>` | \|Spearman ρ\| of an ordinal label with the index (≥ 20 rows) | ≤ 0.05 + 3/√n |
//! | `pair-order` | share of pairs whose better image is `A` | within 0.05 + 1/√n of 0.5 |
//! | `yes-iff-degraded` | accuracy of answering Yes exactly when the image is degraded (or exactly when it is not) | ≤ 0.55 |
//! | `yes-balance` | largest \|P(Yes) − 0.5\| over level × modality strata (≥ 10 questions) | ≤ 0.1 |
//! | `blind/<type>/<features>` | naive-Bayes accuracy from question text only, option order only, or modality only, grouped 5-fold by slice, minus the majority chance | ≤ 0.05 + 2σ |
//! | `what-none-share` | answers "No obvious artifact" minus the most frequent attribute answer, per modality | ≤ 0 |
//! | `duplicates` | (image, question) pairs asked more than once | 0 |
//! | `split-leak` | subjects or sources in more than one split | 0 |
//! | `render-consistency` | slices whose images differ in size, display window or PNG format | 0 |
//! | `modality-coverage` | (split, modality) holes for modalities with ≥ 2 subjects, and (split, modality) cells with images but no question | 0 |
//! | `vlmevalkit-rows` | MCQ rows VLMEvalKit's loader would reject (empty answer option, NaN-like cells, repeated index) | 0 |
//!
//! σ = √(c(1 − c)/n) is the binomial spread of an accuracy at chance c over n rows: a table of a
//! few dozen rows shows chance patterns of that size, a large one may not.

use crate::error::DatasetError;
use crate::export::Description;
use crate::pairs::Pair;
use crate::questions::Question;
use crate::text::PANDAS_NA_TOKENS;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The columns of a `manifest.jsonl` row the audit looks at (the rest, e.g. the applied
/// parameters, is skipped while reading, so the audit's memory stays small on large builds).
#[derive(Deserialize)]
struct AuditRow {
    id: String,
    file_name: String,
    split: String,
    modality: String,
    attribute: Option<String>,
    severity: artefact_core::Severity,
    source_key: String,
    subject_key: String,
    slice_axis: usize,
    slice_index: usize,
    width: usize,
    height: usize,
    display: crate::render::DisplayMap,
}

/// One measured shortcut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    /// The measured value (an accuracy excess over chance, a count, a share …).
    pub value: f64,
    /// Chance level of the underlying accuracy, when there is one.
    pub chance: Option<f64>,
    /// The largest value that passes.
    pub limit: f64,
    pub passed: bool,
    pub detail: String,
}

/// The audit of one build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub passed: bool,
    pub checks: Vec<Check>,
}

impl AuditReport {
    /// Names and values of the failed checks.
    pub fn failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| {
                format!(
                    "{} = {:.3} (limit {:.3}; {})",
                    c.name, c.value, c.limit, c.detail
                )
            })
            .collect()
    }

    /// A plain-text table of the checks (one line each; order and blind checks summarised by
    /// their worst case unless `verbose`).
    pub fn table(&self, verbose: bool) -> String {
        let mut s = format!(
            "{:<44} {:>8} {:>8} {:>8}  result\n",
            "check", "value", "chance", "limit"
        );
        let mut shown: Vec<&Check> = Vec::new();
        if verbose {
            shown = self.checks.iter().collect();
        } else {
            // worst case of each check family, plus every failure
            let mut worst: BTreeMap<String, &Check> = BTreeMap::new();
            for c in &self.checks {
                let fam = family(&c.name);
                let margin = |c: &Check| c.value - c.limit;
                let e = worst.entry(fam).or_insert(c);
                if margin(c) > margin(e) {
                    *e = c;
                }
            }
            shown.extend(worst.values().copied());
        }
        for c in shown {
            s.push_str(&format!(
                "{:<44} {:>8.3} {:>8} {:>8.3}  {}\n",
                c.name,
                c.value,
                c.chance.map_or("-".to_string(), |x| format!("{x:.3}")),
                c.limit,
                if c.passed { "pass" } else { "FAIL" }
            ));
        }
        s.push_str(if self.passed {
            "audit passed\n"
        } else {
            "audit FAILED\n"
        });
        s
    }
}

fn family(name: &str) -> String {
    let mut parts = name.split('/');
    let first = parts.next().unwrap_or("");
    match first {
        "order" | "order-rank" | "blind" => first.to_string(),
        _ => name.to_string(),
    }
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, DatasetError> {
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

/// Binomial spread of an accuracy at chance `c` over `n` rows.
fn sigma(c: f64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    (c * (1.0 - c) / n as f64).sqrt()
}

/// Count of each label.
fn frequencies<'a>(labels: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels {
        *m.entry(l).or_default() += 1;
    }
    m
}

/// Share of the most frequent label: the accuracy of always answering it.
fn majority_share(freq: &BTreeMap<&str, usize>, n: usize) -> f64 {
    *freq.values().max().unwrap_or(&0) as f64 / n.max(1) as f64
}

fn majority(labels: &[&str]) -> Option<String> {
    frequencies(labels.iter().copied())
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k.to_string())
}

/// Accuracy of the best order rule predicting `labels` from the row index, and the chance
/// level it is compared with (both cross-fitted on the two interleaved halves of the rows).
/// Returns (excess over chance, accuracy, chance, rule name).
pub fn best_order_rule(labels: &[&str]) -> (f64, f64, f64, String) {
    let n = labels.len();
    if n < 4 {
        return (0.0, 0.0, 0.0, "too few rows".into());
    }
    let fold = |i: usize| i % 2;
    // chance: always answering the most frequent label (a cross-fitted majority would be
    // biased low on balanced labels, and make every rule look better than chance)
    let freq = frequencies(labels.iter().copied());
    let chance = majority_share(&freq, n);
    let mut best = (f64::NEG_INFINITY, 0.0, chance, String::new());
    let mut consider = |acc: f64, rule: String| {
        if acc - chance > best.0 {
            best = (acc - chance, acc, chance, rule);
        }
    };
    // previous row: compared with the chance that two random rows agree
    let same = (1..n).filter(|&i| labels[i] == labels[i - 1]).count() as f64 / (n - 1) as f64;
    let agree: f64 = freq.values().map(|&c| (c as f64 / n as f64).powi(2)).sum();
    consider(same - agree + chance, "same as the previous row".into());
    // residue classes: learned on the other half of the rows (by position), tested on this
    for k in 2..=6usize {
        let half = |i: usize| usize::from(i >= n / 2);
        let mut correct = 0;
        for h in 0..2 {
            for r in 0..k {
                let train: Vec<&str> = (0..n)
                    .filter(|&i| half(i) != h && i % k == r)
                    .map(|i| labels[i])
                    .collect();
                let Some(m) = majority(&train) else { continue };
                correct += (0..n)
                    .filter(|&i| half(i) == h && i % k == r && labels[i] == m)
                    .count();
            }
        }
        consider(correct as f64 / n as f64, format!("index mod {k}"));
    }
    // position bins: learned on the other interleaved fold
    let bins = 10.min(n / 4).max(2);
    let bin = |i: usize| i * bins / n;
    let mut correct = 0;
    for f in 0..2 {
        for b in 0..bins {
            let train: Vec<&str> = (0..n)
                .filter(|&i| fold(i) != f && bin(i) == b)
                .map(|i| labels[i])
                .collect();
            let Some(m) = majority(&train) else { continue };
            correct += (0..n)
                .filter(|&i| fold(i) == f && bin(i) == b && labels[i] == m)
                .count();
        }
    }
    consider(correct as f64 / n as f64, format!("{bins} position bins"));
    best
}

/// How much the order of rows predicts any of their label columns (`rows[i]` = the labels of
/// row i): the largest excess over chance of any order rule on any column.
pub fn order_leak(rows: &[Vec<String>]) -> f64 {
    let cols = rows.first().map_or(0, |r| r.len());
    (0..cols)
        .map(|c| {
            let labels: Vec<&str> = rows.iter().map(|r| r[c].as_str()).collect();
            best_order_rule(&labels).0
        })
        .fold(0.0, f64::max)
}

/// Spearman rank correlation of `values` with their index.
fn spearman_with_index(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 3 {
        return 0.0;
    }
    // average ranks for ties
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut rank = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0;
        for k in i..=j {
            rank[idx[k]] = r;
        }
        i = j + 1;
    }
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(&xs), mean(&rank));
    let cov: f64 = (0..n).map(|i| (xs[i] - mx) * (rank[i] - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = rank.iter().map(|y| (y - my).powi(2)).sum();
    if vy == 0.0 {
        0.0
    } else {
        cov / (vx * vy).sqrt()
    }
}

/// Multinomial naive Bayes over token features, grouped k-fold: accuracy and the majority
/// chance (the share of the most frequent label: a training fold's majority applied to its
/// test fold is biased low on balanced labels).
fn blind_accuracy(
    features: &[Vec<String>],
    labels: &[String],
    groups: &[String],
    k: usize,
) -> (f64, f64) {
    let n = labels.len();
    let group_ids: BTreeSet<&String> = groups.iter().collect();
    let fold_of: BTreeMap<&String, usize> = group_ids
        .iter()
        .enumerate()
        .map(|(i, g)| {
            // fold by a hash of the group, so folds do not follow the row order
            let h = artefact_recipe::content_hash(g.as_bytes());
            let v = u64::from_str_radix(&h[..8], 16).unwrap_or(i as u64);
            (*g, (v % k as u64) as usize)
        })
        .collect();
    let mut correct = 0usize;
    for f in 0..k {
        let train: Vec<usize> = (0..n).filter(|&i| fold_of[&groups[i]] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| fold_of[&groups[i]] == f).collect();
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let mut class_n: BTreeMap<&str, usize> = BTreeMap::new();
        let mut tok_n: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut class_tokens: BTreeMap<&str, usize> = BTreeMap::new();
        let mut vocab: BTreeSet<&str> = BTreeSet::new();
        for &i in &train {
            let c = labels[i].as_str();
            *class_n.entry(c).or_default() += 1;
            for t in &features[i] {
                *tok_n.entry((c, t.as_str())).or_default() += 1;
                *class_tokens.entry(c).or_default() += 1;
                vocab.insert(t.as_str());
            }
        }
        let v = vocab.len().max(1) as f64;
        for &i in &test {
            let mut best: Option<(f64, &str)> = None;
            for (&c, &cn) in &class_n {
                let mut lp = (cn as f64 / train.len() as f64).ln();
                let denom = class_tokens.get(c).copied().unwrap_or(0) as f64 + v;
                for t in &features[i] {
                    let num = tok_n.get(&(c, t.as_str())).copied().unwrap_or(0) as f64 + 1.0;
                    lp += (num / denom).ln();
                }
                if best.is_none_or(|b| lp > b.0) {
                    best = Some((lp, c));
                }
            }
            if best.map(|b| b.1) == Some(labels[i].as_str()) {
                correct += 1;
            }
        }
    }
    let chance = majority_share(&frequencies(labels.iter().map(String::as_str)), n);
    (correct as f64 / n.max(1) as f64, chance)
}

fn tokens(s: &str) -> Vec<String> {
    let words: Vec<String> = s
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let mut out = words.clone();
    out.extend(words.windows(2).map(|w| format!("{} {}", w[0], w[1])));
    out
}

fn list_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let Ok(ft) = std::fs::symlink_metadata(&p).map(|m| m.file_type()) else {
            continue;
        };
        if let Ok(rel) = p.strip_prefix(base) {
            out.push(rel.to_string_lossy().to_string());
        }
        if ft.is_dir() {
            list_files(&p, base, out);
        }
    }
}

struct Audit {
    checks: Vec<Check>,
}

impl Audit {
    fn add(&mut self, name: &str, value: f64, chance: Option<f64>, limit: f64, detail: String) {
        let passed = value <= limit + 1e-12;
        self.checks.push(Check {
            name: name.to_string(),
            value,
            chance,
            limit,
            passed,
            detail,
        });
    }

    fn order(&mut self, table: &str, column: &str, labels: &[&str]) {
        if labels.len() < 20 {
            return;
        }
        let (excess, acc, chance, rule) = best_order_rule(labels);
        // 3σ: several rules are tried on every column
        let limit = 0.05 + 3.0 * sigma(chance, labels.len());
        self.add(
            &format!("order/{table}/{column}"),
            excess,
            Some(chance),
            limit,
            format!("{rule}: accuracy {acc:.3} over {} rows", labels.len()),
        );
    }

    fn rank(&mut self, table: &str, column: &str, values: &[f64]) {
        if values.len() < 20 {
            return;
        }
        let rho = spearman_with_index(values).abs();
        let limit = 0.05 + 3.0 / (values.len() as f64).sqrt();
        self.add(
            &format!("order-rank/{table}/{column}"),
            rho,
            None,
            limit,
            format!("|Spearman ρ| with the row index over {} rows", values.len()),
        );
    }
}

fn level_rank(s: &str) -> f64 {
    match s {
        "none" | "good" => 0.0,
        "mild" | "usable" => 1.0,
        _ => 2.0,
    }
}

/// Audit the build in `dir`.
pub fn audit(dir: &Path) -> Result<AuditReport, DatasetError> {
    let rows: Vec<AuditRow> = read_jsonl(&dir.join("manifest.jsonl"))?;
    let questions: Vec<Question> = read_jsonl(&dir.join("perception.jsonl"))?;
    let descriptions: Vec<Description> = read_jsonl(&dir.join("reasoning.jsonl"))?;
    let pairs: Vec<Pair> = read_jsonl(&dir.join("pairs.jsonl"))?;
    let by_id: BTreeMap<&str, &AuditRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut a = Audit { checks: Vec::new() };

    // 1. label tokens in identifiers and paths
    let mut words: BTreeSet<String> = [
        "clean",
        "none",
        "mild",
        "severe",
        "good",
        "usable",
        "reject",
        "degraded",
        "ct",
        "mr",
        "mri",
        "us",
        "ultrasound",
        "artifact",
        "artefact",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for r in &rows {
        if let Some(at) = &r.attribute {
            words.insert(at.to_lowercase());
            words.extend(
                at.to_lowercase()
                    .split(['_', '-'])
                    .filter(|w| w.len() >= 4)
                    .map(str::to_string),
            );
        }
        words.insert(r.modality.to_lowercase());
    }
    let splits: BTreeSet<&str> = rows.iter().map(|r| r.split.as_str()).collect();
    // build.json's dataset prefix, read as plain JSON (the audit does not depend on the builder)
    let info: Option<serde_json::Value> = std::fs::read(dir.join("build.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let prefix = info
        .as_ref()
        .and_then(|i| i["dataset_prefix"].as_str())
        .unwrap_or_default()
        .to_string();
    let structural: BTreeSet<&str> = [
        "images",
        "hf",
        "perception",
        "reasoning",
        "pairs",
        "vlmevalkit",
        "metadata",
        "jsonl",
        "png",
        "tsv",
        "json",
        "config",
        "mcq",
        "description",
        "paireddescription",
    ]
    .into_iter()
    .chain(splits.iter().copied())
    .collect();
    let mut names: Vec<String> = Vec::new();
    for sub in ["images", "hf", "vlmevalkit"] {
        list_files(&dir.join(sub), dir, &mut names);
    }
    for r in &rows {
        names.push(r.id.clone());
        names.push(r.file_name.clone());
    }
    names.extend(
        questions
            .iter()
            .flat_map(|q| [q.id.clone(), q.image_id.clone()]),
    );
    names.extend(descriptions.iter().map(|d| d.id.clone()));
    names.extend(pairs.iter().map(|p| p.id.clone()));
    let mut hits = Vec::new();
    for n in &names {
        let stripped = if prefix.is_empty() {
            n.clone()
        } else {
            n.replace(&prefix, "")
        };
        for tok in stripped
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| !t.is_empty() && !structural.contains(t))
        {
            let hit = words.contains(tok)
                || words.iter().any(|w| {
                    w.len() >= 4
                        && tok.contains(w.as_str())
                        && !tok.chars().all(|c| c.is_ascii_hexdigit())
                });
            if hit {
                hits.push(n.clone());
                break;
            }
        }
    }
    a.add(
        "label-tokens",
        hits.len() as f64,
        None,
        0.0,
        format!(
            "{} names scanned{}",
            names.len(),
            hits.first()
                .map_or(String::new(), |h| format!("; e.g. `{h}`"))
        ),
    );

    // 2. order: every table, every label column
    let col = |v: Vec<String>| v;
    let q_answer = col(questions.iter().map(|q| q.answer.clone()).collect());
    let q_level = col(questions.iter().map(|q| q.level.to_string()).collect());
    let q_type = col(questions.iter().map(|q| q.question_type.clone()).collect());
    let q_cat = col(questions.iter().map(|q| q.category.clone()).collect());
    let q_mod = col(questions.iter().map(|q| q.modality.clone()).collect());
    for (name, c) in [
        ("answer", &q_answer),
        ("level", &q_level),
        ("question_type", &q_type),
        ("category", &q_cat),
        ("modality", &q_mod),
    ] {
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        a.order("perception", name, &v);
    }
    for split in &splits {
        for qt in ["yes-or-no", "what", "how"] {
            let sel: Vec<&Question> = questions
                .iter()
                .filter(|q| q.split == *split && q.question_type == qt)
                .collect();
            let ans: Vec<&str> = sel.iter().map(|q| q.answer.as_str()).collect();
            a.order(&format!("mcq-{split}-{qt}"), "answer", &ans);
            let lv: Vec<f64> = sel.iter().map(|q| level_rank(q.level.as_str())).collect();
            a.rank(&format!("mcq-{split}-{qt}"), "level", &lv);
        }
    }
    let lv: Vec<f64> = questions
        .iter()
        .map(|q| level_rank(q.level.as_str()))
        .collect();
    a.rank("perception", "level", &lv);
    let d_grade: Vec<String> = descriptions
        .iter()
        .map(|d| d.quality_grade.to_string())
        .collect();
    let d_level: Vec<String> = descriptions.iter().map(|d| d.level.to_string()).collect();
    for (name, c) in [("quality_grade", &d_grade), ("level", &d_level)] {
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        a.order("reasoning", name, &v);
        a.rank(
            "reasoning",
            name,
            &c.iter().map(|s| level_rank(s)).collect::<Vec<_>>(),
        );
    }
    let p_better: Vec<&str> = pairs.iter().map(|p| p.better.as_str()).collect();
    let p_kind: Vec<&str> = pairs.iter().map(|p| p.kind.as_str()).collect();
    a.order("pairs", "better", &p_better);
    a.order("pairs", "kind", &p_kind);
    let m_sev: Vec<String> = rows.iter().map(|r| r.severity.to_string()).collect();
    let m_attr: Vec<String> = rows
        .iter()
        .map(|r| r.attribute.clone().unwrap_or_else(|| "none".into()))
        .collect();
    for (name, c) in [("severity", &m_sev), ("attribute", &m_attr)] {
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        a.order("manifest", name, &v);
    }

    // 3. pair order
    if !pairs.is_empty() {
        let n = pairs.len();
        let share = pairs.iter().filter(|p| p.better == "A").count() as f64 / n as f64;
        a.add(
            "pair-order",
            (share - 0.5).abs(),
            Some(0.5),
            0.05 + 1.0 / (n as f64).sqrt(),
            format!("{:.3} of {n} pairs show the better image first", share),
        );
    }

    // 4. yes/no: "Yes iff degraded" and balance per stratum
    let yn: Vec<&Question> = questions
        .iter()
        .filter(|q| q.question_type == "yes-or-no")
        .collect();
    let is_yes = |q: &Question| {
        let i = ["A", "B", "C", "D"]
            .iter()
            .position(|l| *l == q.answer)
            .unwrap_or(0);
        q.options.get(i).map(String::as_str) == Some("Yes")
    };
    if !yn.is_empty() {
        let acc = yn
            .iter()
            .filter(|q| is_yes(q) == (q.level != artefact_core::Severity::None))
            .count() as f64
            / yn.len() as f64;
        // either direction is a shortcut ("No iff degraded" as well)
        let acc = acc.max(1.0 - acc);
        a.add(
            "yes-iff-degraded",
            acc,
            Some(0.5),
            0.55,
            format!("over {} yes-or-no questions", yn.len()),
        );
        let mut strata: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
        for q in &yn {
            let e = strata
                .entry((q.level.to_string(), q.modality.clone()))
                .or_default();
            e.0 += 1;
            e.1 += usize::from(is_yes(q));
        }
        let mut worst = (0.0f64, String::new());
        for ((l, m), (n, y)) in &strata {
            if *n >= 10 {
                let d = (*y as f64 / *n as f64 - 0.5).abs();
                if d > worst.0 {
                    worst = (d, format!("{m} {l}: {y} Yes of {n}"));
                }
            }
        }
        a.add("yes-balance", worst.0, Some(0.5), 0.1, worst.1);
    }

    // 5. blind baselines, grouped 5-fold by slice
    let slice_of = |q: &Question| {
        by_id
            .get(q.image_id.as_str())
            .map(|r| format!("{}/{}/{}", r.source_key, r.slice_axis, r.slice_index))
            .unwrap_or_else(|| q.image_id.clone())
    };
    for qt in ["yes-or-no", "what", "how"] {
        let sel: Vec<&Question> = questions.iter().filter(|q| q.question_type == qt).collect();
        if sel.len() < 20 {
            continue;
        }
        let labels: Vec<String> = sel.iter().map(|q| q.answer.clone()).collect();
        let groups: Vec<String> = sel.iter().map(|q| slice_of(q)).collect();
        for (fname, feats) in [
            (
                "question-text",
                sel.iter().map(|q| tokens(&q.question)).collect::<Vec<_>>(),
            ),
            (
                "option-order",
                sel.iter()
                    .map(|q| {
                        q.options
                            .iter()
                            .enumerate()
                            .map(|(i, o)| format!("{}={o}", ["A", "B", "C", "D"][i]))
                            .collect()
                    })
                    .collect(),
            ),
            (
                "modality",
                sel.iter().map(|q| vec![q.modality.clone()]).collect(),
            ),
        ] {
            let (acc, chance) = blind_accuracy(&feats, &labels, &groups, 5);
            a.add(
                &format!("blind/{qt}/{fname}"),
                acc - chance,
                Some(chance),
                0.05 + 2.0 * sigma(chance, sel.len()),
                format!("accuracy {acc:.3} over {} questions", sel.len()),
            );
        }
    }

    // 6. "No obvious artifact" is not the most frequent "what" answer
    // (per split and modality: each split is one VLMEvalKit dataset)
    let mut what_counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for q in questions.iter().filter(|q| q.question_type == "what") {
        let i = ["A", "B", "C", "D"]
            .iter()
            .position(|l| *l == q.answer)
            .unwrap_or(0);
        let ans = q.options.get(i).cloned().unwrap_or_default();
        *what_counts
            .entry((format!("{} {}", q.split, q.modality), ans))
            .or_default() += 1;
    }
    let mut none_excess = 0.0f64;
    let mut none_detail = String::new();
    let mods: BTreeSet<&String> = what_counts.keys().map(|(m, _)| m).collect();
    for m in mods {
        let none = what_counts
            .get(&(m.clone(), crate::text::NO_ARTIFACT.to_string()))
            .copied()
            .unwrap_or(0);
        let top = what_counts
            .iter()
            .filter(|((mm, a), _)| mm == m && a != crate::text::NO_ARTIFACT)
            .map(|(_, c)| *c)
            .max()
            .unwrap_or(0);
        if none as f64 - top as f64 > none_excess {
            none_excess = none as f64 - top as f64;
            none_detail = format!("{m}: {none} vs {top}");
        }
    }
    a.add("what-none-share", none_excess, None, 0.0, none_detail);

    // 7. duplicates
    let mut seen = BTreeSet::new();
    let dups = questions
        .iter()
        .filter(|q| !seen.insert((q.image_id.clone(), q.question.clone())))
        .count();
    a.add(
        "duplicates",
        dups as f64,
        None,
        0.0,
        format!("over {} questions", questions.len()),
    );

    // 8. subjects or sources in two splits
    let mut subj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut src: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &rows {
        subj.entry(&r.subject_key).or_default().insert(&r.split);
        src.entry(&r.source_key).or_default().insert(&r.split);
    }
    let leaks = subj.values().filter(|s| s.len() > 1).count()
        + src.values().filter(|s| s.len() > 1).count();
    a.add(
        "split-leak",
        leaks as f64,
        None,
        0.0,
        format!("{} subjects, {} sources", subj.len(), src.len()),
    );

    // 9. render consistency per slice
    let mut by_slice: BTreeMap<(String, usize, usize), Vec<&AuditRow>> = BTreeMap::new();
    for r in &rows {
        by_slice
            .entry((r.source_key.clone(), r.slice_axis, r.slice_index))
            .or_default()
            .push(r);
    }
    let mut bad = 0;
    let mut bad_detail = String::new();
    for (k, g) in &by_slice {
        // bit depth and colour type from the PNG header (IHDR), without reading the image
        let png_format = |r: &AuditRow| -> Option<(u8, u8)> {
            use std::io::Read;
            let mut b = [0u8; 26];
            std::fs::File::open(dir.join(&r.file_name))
                .ok()?
                .read_exact(&mut b)
                .ok()?;
            (&b[1..4] == b"PNG").then_some((b[24], b[25]))
        };
        let first = g[0];
        let f0 = png_format(first);
        let consistent = g.iter().all(|r| {
            r.width == first.width
                && r.height == first.height
                && r.display == first.display
                && png_format(r) == f0
                && f0.is_some()
        });
        if !consistent {
            bad += 1;
            bad_detail = format!("slice {}/{}/{}", k.0, k.1, k.2);
        }
    }
    a.add(
        "render-consistency",
        bad as f64,
        None,
        0.0,
        format!(
            "{} slices{}",
            by_slice.len(),
            if bad_detail.is_empty() {
                String::new()
            } else {
                format!("; e.g. {bad_detail}")
            }
        ),
    );

    // 10. modality coverage per split
    let mut subjects_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut present: BTreeSet<(&str, &str)> = BTreeSet::new();
    for r in &rows {
        subjects_of
            .entry(&r.modality)
            .or_default()
            .insert(&r.subject_key);
        present.insert((&r.split, &r.modality));
    }
    let asked: BTreeSet<(&str, &str)> = questions
        .iter()
        .map(|q| (q.split.as_str(), q.modality.as_str()))
        .collect();
    let mut holes: Vec<String> = present
        .iter()
        .filter(|k| !asked.contains(*k))
        .map(|(sp, m)| format!("{m} in {sp} has images but no question"))
        .collect();
    for (m, s) in &subjects_of {
        if s.len() >= 2.max(splits.len()) {
            for sp in &splits {
                if !present.contains(&(*sp, *m)) {
                    holes.push(format!("{m} in {sp}"));
                }
            }
        }
    }
    a.add(
        "modality-coverage",
        holes.len() as f64,
        None,
        0.0,
        holes.join(", "),
    );

    // 11. rows VLMEvalKit's MCQ loader would reject
    let mut bad_rows = 0;
    let mut indices = BTreeSet::new();
    for q in &questions {
        let i = ["A", "B", "C", "D"].iter().position(|l| *l == q.answer);
        let answer_ok = i
            .and_then(|i| q.options.get(i))
            .is_some_and(|o| !o.trim().is_empty());
        let cells_ok = std::iter::once(&q.question)
            .chain(q.options.iter())
            .all(|c| !PANDAS_NA_TOKENS.contains(&c.as_str()));
        if !answer_ok || !cells_ok || !indices.insert(q.index) || q.options.len() < 2 {
            bad_rows += 1;
        }
    }
    a.add(
        "vlmevalkit-rows",
        bad_rows as f64,
        None,
        0.0,
        format!("over {} MCQ rows", questions.len()),
    );

    let passed = a.checks.iter().all(|c| c.passed);
    Ok(AuditReport {
        passed,
        checks: a.checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Seed;
    use rand::seq::SliceRandom;

    #[test]
    fn order_rules_find_patterns_and_not_noise() {
        // alternating labels: the previous-row rule and mod 2 see it
        let alt: Vec<&str> = (0..200)
            .map(|i| if i % 2 == 0 { "A" } else { "B" })
            .collect();
        assert!(best_order_rule(&alt).0 > 0.4);
        // sorted blocks: position bins see it
        let blocks: Vec<&str> = (0..200).map(|i| if i < 100 { "A" } else { "B" }).collect();
        assert!(best_order_rule(&blocks).0 > 0.3);
        // a seeded random order: nothing beyond noise
        let mut v: Vec<&str> = (0..400).map(|i| ["A", "B", "C"][i % 3]).collect();
        v.shuffle(&mut Seed::derive(1, "t").rng());
        let (excess, _, chance, _) = best_order_rule(&v);
        assert!(excess < 0.05 + 2.0 * sigma(chance, 400), "{excess}");
    }

    #[test]
    fn spearman_of_sorted_and_reversed() {
        let up: Vec<f64> = (0..50).map(|i| (i / 10) as f64).collect();
        assert!(spearman_with_index(&up) > 0.9);
        let down: Vec<f64> = up.iter().rev().copied().collect();
        assert!(spearman_with_index(&down) < -0.9);
    }

    #[test]
    fn blind_classifier_learns_a_real_cue_and_not_a_fake_one() {
        let n = 300;
        let groups: Vec<String> = (0..n).map(|i| format!("g{}", i / 3)).collect();
        let labels: Vec<String> = (0..n)
            .map(|i| if i % 2 == 0 { "A".into() } else { "B".into() })
            .collect();
        // a cue: the answer's word is in the text
        let cue: Vec<Vec<String>> = labels
            .iter()
            .map(|l| tokens(&format!("is it {l}")))
            .collect();
        let (acc, chance) = blind_accuracy(&cue, &labels, &groups, 5);
        assert!(acc > 0.95 && chance < 0.6, "{acc} {chance}");
        // no cue: the same text everywhere
        let none: Vec<Vec<String>> = (0..n).map(|_| tokens("is it so")).collect();
        let (acc, chance) = blind_accuracy(&none, &labels, &groups, 5);
        assert!(acc - chance < 0.1, "{acc} {chance}");
    }
}
