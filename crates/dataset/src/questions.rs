//! Perception questions (MedQ-Bench style): yes-or-no, what, how.
//!
//! - yes-or-no: "Is there {noun} in this {modality} image?" — Yes for the image's own attribute,
//!   No for a clean image or for another attribute of the same modality. Yes and No are
//!   balanced greedily, and so is the letter of the correct option.
//! - what: "What is the most prominent quality issue in this {modality} image?" — the image's
//!   attribute label (or "No obvious artifact") among same-modality distractors.
//! - how: alternately the overall grade (Good / Usable / Reject) and "How severe is the {noun}
//!   in this image?" (None / Mild / Severe).
//!
//! Images are drawn per split with the benchmark's severity proportions; questions per split are
//! allotted by the split's share of images. Everything is seeded.

use crate::generate::ManifestRow;
use crate::text::{grade_option, severity_option, NO_ARTIFACT};
use artefact_core::{Modality, SampleRng, Seed, Severity};
use artefact_recipe::{AttributeRecipe, BenchmarkRecipe};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

/// One row of `perception.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub index: usize,
    pub id: String,
    pub image_id: String,
    pub split: String,
    pub modality: String,
    /// `yes-or-no`, `what` or `how`.
    pub question_type: String,
    /// Degradation level of the image: none, mild or severe.
    pub level: Severity,
    /// The image's attribute, or `none` for a clean image.
    pub category: String,
    pub question: String,
    /// Option texts in letter order (2 to 4).
    pub options: Vec<String>,
    /// Letter of the correct option.
    pub answer: String,
}

/// Largest-remainder allocation of `total` over `weights`.
pub fn allocate(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if total == 0 || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - out[b] as f64)
            .total_cmp(&(exact[a] - out[a] as f64))
            .then(a.cmp(&b))
    });
    let mut left = total - out.iter().sum::<usize>();
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// Greedy balancer of the correct option's letter position.
#[derive(Default)]
struct LetterBalance {
    counts: [usize; 4],
}

impl LetterBalance {
    fn pick(&mut self, n_options: usize, rng: &mut SampleRng) -> usize {
        let min = *self.counts[..n_options].iter().min().expect("options");
        let ties: Vec<usize> = (0..n_options).filter(|&i| self.counts[i] == min).collect();
        let p = ties[rng.random_range(0..ties.len())];
        self.counts[p] += 1;
        p
    }
}

/// Place `correct` at position `pos` among the shuffled distractors.
fn arrange(
    correct: &str,
    mut distractors: Vec<String>,
    pos: usize,
    rng: &mut SampleRng,
) -> Vec<String> {
    distractors.shuffle(rng);
    let mut opts = distractors;
    opts.insert(pos.min(opts.len()), correct.to_string());
    opts
}

fn attrs_of<'a>(bench: &'a BenchmarkRecipe, m: &str) -> Vec<&'a AttributeRecipe> {
    bench
        .attributes
        .iter()
        .filter(|a| a.modality.code() == m)
        .collect()
}

/// Draw the images a question type is asked about, per split.
fn draw_images<'a>(
    bench: &BenchmarkRecipe,
    rows: &'a [ManifestRow],
    total: usize,
    qtype: &str,
) -> Vec<&'a ManifestRow> {
    let split_names: Vec<&String> = bench.splits.iter().map(|(n, _)| n).collect();
    let shares: Vec<f64> = split_names
        .iter()
        .map(|s| rows.iter().filter(|r| &&r.split == s).count() as f64)
        .collect();
    let per_split = allocate(total, &shares);
    let mut out = Vec::new();
    for (si, split) in split_names.iter().enumerate() {
        let mut by_sev: BTreeMap<Severity, Vec<&ManifestRow>> = BTreeMap::new();
        for r in rows.iter().filter(|r| &&r.split == split) {
            by_sev.entry(r.severity).or_default().push(r);
        }
        let sevs: Vec<Severity> = Severity::ALL
            .into_iter()
            .filter(|s| by_sev.contains_key(s))
            .collect();
        let weights: Vec<f64> = sevs.iter().map(|s| bench.severity[s]).collect();
        let counts = allocate(per_split[si], &weights);
        for (s, n) in sevs.iter().zip(counts) {
            let mut pool = by_sev[s].clone();
            let mut rng = Seed::derive(bench.seed, &format!("questions/{qtype}/{split}/{s}")).rng();
            pool.shuffle(&mut rng);
            out.extend((0..n).map(|k| pool[k % pool.len()]));
        }
    }
    out
}

/// Make all perception questions.
pub fn make_questions(bench: &BenchmarkRecipe, rows: &[ManifestRow]) -> Vec<Question> {
    let mut qs = Vec::new();
    for (qtype, total) in [
        ("yes-or-no", bench.yes_no),
        ("what", bench.what),
        ("how", bench.how),
    ] {
        let images = draw_images(bench, rows, total, qtype);
        let mut rng = Seed::derive(bench.seed, &format!("questions/{qtype}/text")).rng();
        let mut letters = LetterBalance::default();
        let (mut yes, mut no) = (0usize, 0usize);
        for (k, r) in images.into_iter().enumerate() {
            let modality: Modality = r.modality.parse().unwrap_or(Modality::Other);
            let mname = modality.display_name();
            let attrs = attrs_of(bench, &r.modality);
            let own = r
                .attributes
                .first()
                .and_then(|n| attrs.iter().find(|a| &a.name == n).copied());
            let others: Vec<&AttributeRecipe> = attrs
                .iter()
                .filter(|a| Some(a.name.as_str()) != own.map(|o| o.name.as_str()))
                .copied()
                .collect();
            let (question, correct, distractors): (String, String, Vec<String>) = match qtype {
                "yes-or-no" => {
                    let ask_own = own.is_some() && (yes <= no || others.is_empty());
                    let target = if ask_own {
                        own
                    } else {
                        others
                            .get(rng.random_range(0..others.len().max(1)))
                            .copied()
                    };
                    let Some(target) = target else { continue };
                    if ask_own {
                        yes += 1;
                    } else {
                        no += 1;
                    }
                    let (c, d) = if ask_own {
                        ("Yes", "No")
                    } else {
                        ("No", "Yes")
                    };
                    (
                        format!("Is there {} in this {mname} image?", target.noun),
                        c.into(),
                        vec![d.into()],
                    )
                }
                "what" => {
                    let mut pool: Vec<String> = others.iter().map(|a| a.label.clone()).collect();
                    pool.shuffle(&mut rng);
                    pool.truncate(if own.is_some() { 2 } else { 3 });
                    let correct = match own {
                        Some(a) => {
                            pool.push(NO_ARTIFACT.to_string());
                            a.label.clone()
                        }
                        None => NO_ARTIFACT.to_string(),
                    };
                    if pool.is_empty() {
                        continue;
                    }
                    (
                        format!("What is the most prominent quality issue in this {mname} image?"),
                        correct,
                        pool,
                    )
                }
                _ => {
                    if k % 2 == 0 {
                        let g = r.quality_grade;
                        let d = ["Good", "Usable", "Reject"]
                            .iter()
                            .filter(|o| **o != grade_option(g))
                            .map(|s| s.to_string())
                            .collect();
                        (
                            format!(
                                "How would you rate the overall quality of this {mname} image?"
                            ),
                            grade_option(g).into(),
                            d,
                        )
                    } else {
                        let target = own.or_else(|| {
                            attrs.get(rng.random_range(0..attrs.len().max(1))).copied()
                        });
                        let Some(target) = target else { continue };
                        let sev = if own.is_some() {
                            r.severity
                        } else {
                            Severity::None
                        };
                        let d = Severity::ALL
                            .iter()
                            .filter(|s| **s != sev)
                            .map(|s| severity_option(*s).to_string())
                            .collect();
                        (
                            format!("How severe is the {} in this {mname} image?", target.noun),
                            severity_option(sev).into(),
                            d,
                        )
                    }
                }
            };
            let pos = letters.pick(distractors.len() + 1, &mut rng);
            let options = arrange(&correct, distractors, pos, &mut rng);
            qs.push(Question {
                index: 0,
                id: String::new(),
                image_id: r.id.clone(),
                split: r.split.clone(),
                modality: r.modality.clone(),
                question_type: qtype.to_string(),
                level: r.severity,
                category: r
                    .attributes
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "none".into()),
                question,
                options,
                answer: LETTERS[pos].to_string(),
            });
        }
    }
    for (i, q) in qs.iter_mut().enumerate() {
        q.index = i;
        q.id = format!("q{i:06}");
    }
    qs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_fair() {
        assert_eq!(allocate(10, &[0.2, 0.4, 0.4]), vec![2, 4, 4]);
        assert_eq!(allocate(7, &[1.0, 1.0]), vec![4, 3]);
        assert_eq!(allocate(5, &[0.0, 3.0]), vec![0, 5]);
        assert_eq!(allocate(3, &[0.0, 0.0]), vec![0, 0]);
        assert_eq!(allocate(100, &[0.2, 0.4, 0.4]).iter().sum::<usize>(), 100);
    }

    #[test]
    fn letters_balance() {
        let mut b = LetterBalance::default();
        let mut rng = Seed::derive(0, "t").rng();
        let mut counts = [0usize; 4];
        for _ in 0..400 {
            counts[b.pick(4, &mut rng)] += 1;
        }
        assert_eq!(counts, [100; 4]);
    }
}
