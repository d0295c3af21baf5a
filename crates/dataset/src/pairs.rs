//! Comparison pairs from images of the same slice.
//!
//! - coarse: clean vs severe of one attribute, or mild of one attribute vs severe of another;
//! - fine: mild vs severe of one attribute, or clean vs mild.
//!
//! The better image is the one with the better quality grade. Which image comes first is
//! balanced. Counts per split follow the split's share of images.

use crate::generate::ManifestRow;
use crate::questions::allocate;
use crate::text::{describe_pair, phrase};
use artefact_core::{Modality, Seed, Severity};
use artefact_recipe::BenchmarkRecipe;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One row of `pairs.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub index: usize,
    pub id: String,
    pub split: String,
    pub modality: String,
    /// `coarse` or `fine`.
    pub kind: String,
    pub image_a: String,
    pub image_b: String,
    pub severity_a: Severity,
    pub severity_b: Severity,
    pub category_a: String,
    pub category_b: String,
    /// `A` or `B`: the image with better quality.
    pub better: String,
    pub description: String,
}

fn slice_group(r: &ManifestRow) -> (String, usize, usize) {
    (r.source_key.clone(), r.slice_axis, r.slice_index)
}

/// Make coarse and fine pairs.
pub fn make_pairs(bench: &BenchmarkRecipe, rows: &[ManifestRow]) -> Vec<Pair> {
    let mut groups: BTreeMap<(String, usize, usize), Vec<&ManifestRow>> = BTreeMap::new();
    for r in rows {
        groups.entry(slice_group(r)).or_default().push(r);
    }
    let mut out = Vec::new();
    let split_names: Vec<&String> = bench.splits.iter().map(|(n, _)| n).collect();
    let shares: Vec<f64> = split_names
        .iter()
        .map(|s| rows.iter().filter(|r| &&r.split == s).count() as f64)
        .collect();
    for (kind, total) in [("coarse", bench.coarse_pairs), ("fine", bench.fine_pairs)] {
        let per_split = allocate(total, &shares);
        let mut first_better = 0usize;
        let mut second_better = 0usize;
        for (si, split) in split_names.iter().enumerate() {
            let mut cands: Vec<(&ManifestRow, &ManifestRow)> = Vec::new(); // (better, worse)
            for g in groups.values().filter(|g| &&g[0].split == split) {
                for a in g {
                    for b in g {
                        let same_attr = a.attributes == b.attributes;
                        let ok = match (kind, a.severity, b.severity) {
                            ("coarse", Severity::None, Severity::Severe) => true,
                            ("coarse", Severity::Mild, Severity::Severe) => !same_attr,
                            ("fine", Severity::Mild, Severity::Severe) => same_attr,
                            ("fine", Severity::None, Severity::Mild) => true,
                            _ => false,
                        };
                        if ok && a.quality_grade < b.quality_grade {
                            cands.push((a, b));
                        }
                    }
                }
            }
            let mut rng = Seed::derive(bench.seed, &format!("pairs/{kind}/{split}")).rng();
            cands.shuffle(&mut rng);
            for (better, worse) in cands.into_iter().take(per_split[si]) {
                let better_first = first_better <= second_better;
                if better_first {
                    first_better += 1;
                } else {
                    second_better += 1;
                }
                let (a, b) = if better_first {
                    (better, worse)
                } else {
                    (worse, better)
                };
                let modality: Modality = a.modality.parse().unwrap_or(Modality::Other);
                let attr_of = |r: &ManifestRow| {
                    r.attributes.first().and_then(|n| {
                        bench
                            .attributes
                            .iter()
                            .find(|x| &x.name == n && x.modality == modality)
                    })
                };
                let pa = phrase(attr_of(a), a.severity, &mut rng);
                let pb = phrase(attr_of(b), b.severity, &mut rng);
                out.push(Pair {
                    index: 0,
                    id: String::new(),
                    split: (*split).clone(),
                    modality: a.modality.clone(),
                    kind: kind.to_string(),
                    image_a: a.id.clone(),
                    image_b: b.id.clone(),
                    severity_a: a.severity,
                    severity_b: b.severity,
                    category_a: a
                        .attributes
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "none".into()),
                    category_b: b
                        .attributes
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "none".into()),
                    better: if better_first { "A".into() } else { "B".into() },
                    description: describe_pair(modality, &pa, &pb, better_first),
                });
            }
        }
    }
    for (i, p) in out.iter_mut().enumerate() {
        p.index = i;
        p.id = format!("p{i:06}");
    }
    out
}
