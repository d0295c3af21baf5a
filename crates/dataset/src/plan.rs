//! The plan: which images to render (clean + attribute × severity per slice), their ids and
//! splits. Pure and deterministic: a function of the benchmark recipe, the slices and the seed.
//!
//! Per clean slice the plan renders the clean image and, for `attributes_per_slice` attributes
//! of the slice's modality, one mild and one severe version. Attributes rotate through a seeded
//! permutation so every attribute is used equally often. Splits are assigned per **subject**
//! (pseudonymous patient key), so no patient appears in two splits.

use crate::source::SourceSlice;
use artefact_core::{Seed, Severity};
use artefact_recipe::BenchmarkRecipe;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One image to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedImage {
    pub id: String,
    /// Index into the slice list.
    pub slice: usize,
    /// Index into `bench.attributes` (None for the clean image).
    pub attribute: Option<usize>,
    pub severity: Severity,
    pub split: String,
}

/// Stable id of a slice: `<modality>-<source key 8>-a<axis>i<index>`.
pub fn slice_id(s: &SourceSlice) -> String {
    format!(
        "{}-{}-a{}i{:04}",
        s.modality.code().to_ascii_lowercase(),
        &s.source_key[..8.min(s.source_key.len())],
        s.axis,
        s.index
    )
}

/// Assign subjects to splits: subjects sorted by a seeded hash of their key, then cut by the
/// cumulative fractions (largest-remainder counts). Every split with a positive fraction gets
/// at least one subject when there are enough subjects.
pub fn assign_splits(
    subjects: &[String],
    splits: &[(String, f64)],
    seed: u64,
) -> BTreeMap<String, String> {
    let mut subj: Vec<&String> = subjects.iter().collect();
    subj.sort();
    subj.dedup();
    subj.sort_by_key(|s| Seed::derive(seed, &format!("split/{s}")).0);
    let n = subj.len();
    let mut counts: Vec<usize> = splits
        .iter()
        .map(|(_, f)| (f * n as f64).floor() as usize)
        .collect();
    let mut rem: Vec<(f64, usize)> = splits
        .iter()
        .enumerate()
        .map(|(i, (_, f))| (f * n as f64 - counts[i] as f64, i))
        .collect();
    rem.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = n - counts.iter().sum::<usize>();
    for (_, i) in rem {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    // give an empty positive-fraction split one subject from the largest split
    for i in 0..splits.len() {
        if counts[i] == 0 && splits[i].1 > 0.0 {
            let (j, &m) = counts
                .iter()
                .enumerate()
                .max_by_key(|(_, c)| **c)
                .expect("splits");
            if m > 1 {
                counts[j] -= 1;
                counts[i] += 1;
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut it = subj.into_iter();
    for (i, (name, _)) in splits.iter().enumerate() {
        for _ in 0..counts[i] {
            if let Some(s) = it.next() {
                out.insert(s.clone(), name.clone());
            }
        }
    }
    out
}

/// Build the plan.
pub fn plan(
    bench: &BenchmarkRecipe,
    slices: &[SourceSlice],
    attributes_per_slice: usize,
) -> Vec<PlannedImage> {
    let subjects: Vec<String> = slices.iter().map(|s| s.subject_key.clone()).collect();
    let split_of = assign_splits(&subjects, &bench.splits, bench.seed);
    // seeded attribute rotation per modality
    let mut rotation: BTreeMap<&str, (Vec<usize>, usize)> = BTreeMap::new();
    for (i, a) in bench.attributes.iter().enumerate() {
        rotation.entry(a.modality.code()).or_default().0.push(i);
    }
    for (m, (list, _)) in rotation.iter_mut() {
        let mut rng = Seed::derive(bench.seed, &format!("attribute-rotation/{m}")).rng();
        list.shuffle(&mut rng);
    }
    let mut out = Vec::new();
    for (si, s) in slices.iter().enumerate() {
        let sid = slice_id(s);
        let split = split_of
            .get(&s.subject_key)
            .cloned()
            .unwrap_or_else(|| bench.splits[0].0.clone());
        out.push(PlannedImage {
            id: format!("{sid}-clean"),
            slice: si,
            attribute: None,
            severity: Severity::None,
            split: split.clone(),
        });
        let Some((list, next)) = rotation.get_mut(s.modality.code()) else {
            continue;
        };
        let k = attributes_per_slice.min(list.len());
        for _ in 0..k {
            let ai = list[*next % list.len()];
            *next += 1;
            for sev in [Severity::Mild, Severity::Severe] {
                out.push(PlannedImage {
                    id: format!("{sid}-{}-{}", bench.attributes[ai].name, sev),
                    slice: si,
                    attribute: Some(ai),
                    severity: sev,
                    split: split.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_follow_fractions_and_are_deterministic() {
        let subjects: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let splits = vec![("test".to_string(), 0.7), ("dev".to_string(), 0.3)];
        let a = assign_splits(&subjects, &splits, 1);
        assert_eq!(a.len(), 10);
        assert_eq!(a.values().filter(|v| *v == "test").count(), 7);
        assert_eq!(a, assign_splits(&subjects, &splits, 1));
        // fewer subjects than splits with positive fractions: no panic, all assigned
        let b = assign_splits(&subjects[..1], &splits, 1);
        assert_eq!(b.len(), 1);
        // a small positive split still gets a subject
        let c = assign_splits(
            &subjects[..3],
            &[("test".into(), 0.9), ("dev".into(), 0.1)],
            3,
        );
        assert_eq!(c.values().filter(|v| *v == "dev").count(), 1);
    }
}
