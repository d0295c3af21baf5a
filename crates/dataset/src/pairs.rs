//! Comparison pairs from images of the same slice.
//!
//! - coarse: clean vs severe of one attribute, or mild of one attribute vs severe of another,
//!   with different quality grades;
//! - fine: mild vs severe of one attribute, or clean vs mild (grades may be equal: the
//!   difference is subtle).
//!
//! The better image is the less degraded one, and a pair is kept only when the measured quality
//! (SSIM against the clean image) agrees. Which image is shown first is drawn per pair, exactly
//! balanced over each kind and split (never tied to the row index); rows are shuffled later.

use crate::generate::ManifestRow;
use crate::plan::opaque_id;
use crate::questions::{allocate, Shortfall};
use crate::text::{describe_pair, phrase};
use artefact_core::{Modality, Seed, Severity};
use artefact_recipe::BenchmarkRecipe;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One row of `pairs.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub index: usize,
    /// Opaque id.
    pub id: String,
    pub split: String,
    /// Full modality name.
    pub modality: String,
    /// `coarse` or `fine`.
    pub kind: String,
    pub image_a: String,
    pub image_b: String,
    pub severity_a: Severity,
    pub severity_b: Severity,
    pub attribute_a: Option<String>,
    pub attribute_b: Option<String>,
    /// `A` or `B`: the image with better quality.
    pub better: String,
    pub description: String,
}

fn slice_group(r: &ManifestRow) -> (String, usize, usize) {
    (r.source_key.clone(), r.slice_axis, r.slice_index)
}

/// Make coarse and fine pairs; also returns what could not be made.
pub fn make_pairs(
    bench: &BenchmarkRecipe,
    rows: &[ManifestRow],
    build_key: &str,
) -> (Vec<Pair>, Vec<Shortfall>) {
    let mut groups: BTreeMap<(String, usize, usize), Vec<&ManifestRow>> = BTreeMap::new();
    for r in rows {
        groups.entry(slice_group(r)).or_default().push(r);
    }
    let mut out = Vec::new();
    let mut short = Vec::new();
    let split_names: Vec<&String> = bench.splits.iter().map(|(n, _)| n).collect();
    let shares: Vec<f64> = split_names
        .iter()
        .map(|s| rows.iter().filter(|r| &&r.split == s).count() as f64)
        .collect();
    for (kind, total) in [("coarse", bench.coarse_pairs), ("fine", bench.fine_pairs)] {
        let per_split = allocate(total, &shares);
        for (si, split) in split_names.iter().enumerate() {
            let mut cands: Vec<(&ManifestRow, &ManifestRow)> = Vec::new(); // (better, worse)
            for g in groups.values().filter(|g| &&g[0].split == split) {
                for a in g {
                    for b in g {
                        let same_attr = a.attribute == b.attribute;
                        let ok = match (kind, a.severity, b.severity) {
                            ("coarse", Severity::None, Severity::Severe) => true,
                            ("coarse", Severity::Mild, Severity::Severe) => !same_attr,
                            ("fine", Severity::Mild, Severity::Severe) => same_attr,
                            ("fine", Severity::None, Severity::Mild) => true,
                            _ => false,
                        };
                        let grades_ok = if kind == "coarse" {
                            a.quality_grade < b.quality_grade
                        } else {
                            a.quality_grade <= b.quality_grade
                        };
                        if ok && grades_ok && a.metrics.ssim > b.metrics.ssim {
                            cands.push((a, b));
                        }
                    }
                }
            }
            let mut rng = Seed::derive(bench.seed, &format!("pairs/{kind}/{split}")).rng();
            cands.shuffle(&mut rng);
            let n = per_split[si].min(cands.len());
            if n < per_split[si] {
                short.push(Shortfall {
                    kind: kind.to_string(),
                    split: (*split).clone(),
                    requested: per_split[si],
                    made: n,
                });
            }
            // exactly balanced order: half of the pairs show the better image first
            let mut first: Vec<bool> = (0..n).map(|i| i < n / 2).collect();
            if n % 2 == 1 && rng.random_bool(0.5) {
                first[n - 1] = true;
            }
            first.shuffle(&mut rng);
            for ((better, worse), better_first) in cands.into_iter().take(n).zip(first) {
                let (a, b) = if better_first {
                    (better, worse)
                } else {
                    (worse, better)
                };
                let modality: Modality = a.modality.parse().unwrap_or(Modality::Other);
                let attr_of = |r: &ManifestRow| {
                    r.attribute.as_ref().and_then(|n| {
                        bench
                            .attributes
                            .iter()
                            .find(|x| &x.name == n && x.modality == modality)
                    })
                };
                let pa = phrase(modality, attr_of(a), a.severity, &mut rng);
                let pb = phrase(modality, attr_of(b), b.severity, &mut rng);
                let description = describe_pair(
                    modality,
                    a.anatomy.as_deref(),
                    &pa,
                    &pb,
                    better_first,
                    &mut rng,
                );
                out.push(Pair {
                    index: 0,
                    id: opaque_id(build_key, "pair", &format!("{}\0{}", a.id, b.id)),
                    split: (*split).clone(),
                    modality: a.modality.clone(),
                    kind: kind.to_string(),
                    image_a: a.id.clone(),
                    image_b: b.id.clone(),
                    severity_a: a.severity,
                    severity_b: b.severity,
                    attribute_a: a.attribute.clone(),
                    attribute_b: b.attribute.clone(),
                    better: if better_first { "A".into() } else { "B".into() },
                    description,
                });
            }
        }
    }
    (out, short)
}
