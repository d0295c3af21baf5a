//! The plan: which images to render (clean + attribute × severity per slice), their ids and
//! splits. Pure and deterministic: a function of the benchmark recipe, the slices and the seed.
//!
//! Per clean slice the plan renders the clean image and, for `attributes_per_slice` attributes
//! of the slice's modality, one mild and one severe version. Attributes rotate through a seeded
//! permutation so every attribute is used equally often. Splits are assigned per **subject**
//! (pseudonymous patient key), so no patient appears in two splits.

use crate::source::SourceSlice;
use artefact_core::{Modality, Seed, Severity};
use artefact_recipe::BenchmarkRecipe;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One image to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedImage {
    /// Internal sample key (`<slice id>-clean`, `<slice id>-<attribute>-<severity>`): it seeds
    /// the sample's random stream and is recorded only in the curator's manifest.
    pub key: String,
    /// Public id: an opaque keyed hash of the key and the build ([`opaque_id`]); it carries no
    /// label.
    pub id: String,
    /// Index into the slice list.
    pub slice: usize,
    /// Index into `bench.attributes` (None for the clean image).
    pub attribute: Option<usize>,
    pub severity: Severity,
    pub split: String,
}

/// Stable internal id of a slice: `<modality>-<source key 8>-a<axis>i<index>`.
pub fn slice_id(s: &impl SliceKeys) -> String {
    let (source_key, axis, index) = (s.source_key(), s.axis(), s.index());
    format!(
        "{}-{}-a{}i{:04}",
        s.modality().code().to_ascii_lowercase(),
        &source_key[..8.min(source_key.len())],
        axis,
        index
    )
}

/// What planning knows of a clean slice: its keys and place, not its pixels (so a plan can be
/// made from [`crate::source::SliceInfo`]s before any slice is kept in memory).
pub trait SliceKeys {
    fn source_key(&self) -> &str;
    fn subject_key(&self) -> &str;
    fn modality(&self) -> Modality;
    fn axis(&self) -> usize;
    fn index(&self) -> usize;
}

macro_rules! slice_keys {
    ($t:ty) => {
        impl SliceKeys for $t {
            fn source_key(&self) -> &str {
                &self.source_key
            }
            fn subject_key(&self) -> &str {
                &self.subject_key
            }
            fn modality(&self) -> Modality {
                self.modality
            }
            fn axis(&self) -> usize {
                self.axis
            }
            fn index(&self) -> usize {
                self.index
            }
        }
    };
}
slice_keys!(SourceSlice);
slice_keys!(crate::source::SliceInfo);

/// The key of one build: a hash of the benchmark recipe, the seed, the plan option and the
/// pseudonymisation secret (so ids cannot be recomputed without the secret). 64 hex digits.
pub fn build_key(bench: &BenchmarkRecipe, attributes_per_slice: usize, secret: &[u8]) -> String {
    let mut msg = format!(
        "artefact-build\0{}\0{}\0{}\0",
        bench.hash, bench.seed, attributes_per_slice
    )
    .into_bytes();
    msg.extend_from_slice(secret);
    artefact_recipe::content_hash(&msg)
}

/// Opaque public id of an internal key within a build: 16 hex digits of
/// SHA-256(build key, kind, key). `kind` separates name spaces (images, questions, pairs).
pub fn opaque_id(build_key: &str, kind: &str, key: &str) -> String {
    let h = artefact_recipe::content_hash(
        format!("artefact-id\0{build_key}\0{kind}\0{key}").as_bytes(),
    );
    h[..16].to_string()
}

/// Assign subjects to splits, stratified by modality: within every modality the subjects are
/// ordered by a seeded hash of their key and dealt so that each split gets its fraction
/// (largest remainder), and every split with a positive fraction holds at least one subject of
/// every modality that has at least as many subjects as there are such splits. A subject with
/// several modalities is assigned once (the modality with fewest subjects decides first).
pub fn assign_splits(
    subjects: &[(String, Modality)],
    splits: &[(String, f64)],
    seed: u64,
) -> BTreeMap<String, String> {
    let mut by_mod: BTreeMap<Modality, Vec<&String>> = BTreeMap::new();
    for (s, m) in subjects {
        by_mod.entry(*m).or_default().push(s);
    }
    for list in by_mod.values_mut() {
        list.sort();
        list.dedup();
        list.sort_by_key(|s| Seed::derive(seed, &format!("split/{s}")).0);
    }
    let mut order: Vec<(&Modality, &Vec<&String>)> = by_mod.iter().collect();
    order.sort_by_key(|(m, l)| (l.len(), **m));
    let positive = splits.iter().filter(|(_, f)| *f > 0.0).count();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (_, list) in order {
        let n = list.len();
        let mut want = allocate_counts(n, splits);
        if n >= positive {
            for i in 0..splits.len() {
                if want[i] == 0 && splits[i].1 > 0.0 {
                    let j = (0..want.len())
                        .max_by_key(|&j| (want[j], usize::MAX - j))
                        .expect("splits");
                    if want[j] > 1 {
                        want[j] -= 1;
                        want[i] += 1;
                    }
                }
            }
        }
        let mut have = vec![0usize; splits.len()];
        for s in list.iter() {
            if let Some(sp) = out.get(*s) {
                if let Some(i) = splits.iter().position(|(n, _)| n == sp) {
                    have[i] += 1;
                }
            }
        }
        for s in list.iter() {
            if out.contains_key(*s) {
                continue;
            }
            // the split furthest below its target (empty positive splits first)
            let i = (0..splits.len())
                .max_by(|&a, &b| {
                    let key = |i: usize| {
                        (
                            have[i] == 0 && splits[i].1 > 0.0,
                            want[i] as i64 - have[i] as i64,
                        )
                    };
                    key(a).cmp(&key(b)).then(b.cmp(&a))
                })
                .expect("splits");
            have[i] += 1;
            out.insert((*s).clone(), splits[i].0.clone());
        }
    }
    out
}

/// Largest-remainder counts of `n` items over the split fractions.
fn allocate_counts(n: usize, splits: &[(String, f64)]) -> Vec<usize> {
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
    let mut left = n - counts.iter().sum::<usize>().min(n);
    for (_, i) in rem {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    counts
}

/// Build the plan. `build_key` ([`build_key`]) makes the public ids.
pub fn plan(
    bench: &BenchmarkRecipe,
    slices: &[impl SliceKeys],
    attributes_per_slice: usize,
    build_key: &str,
) -> Vec<PlannedImage> {
    let subjects: Vec<(String, Modality)> = slices
        .iter()
        .map(|s| (s.subject_key().to_string(), s.modality()))
        .collect();
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
    let mut push = |key: String, slice: usize, attribute, severity, split: &String| {
        out.push(PlannedImage {
            id: opaque_id(build_key, "image", &key),
            key,
            slice,
            attribute,
            severity,
            split: split.clone(),
        })
    };
    for (si, s) in slices.iter().enumerate() {
        let sid = slice_id(s);
        let split = split_of
            .get(s.subject_key())
            .cloned()
            .unwrap_or_else(|| bench.splits[0].0.clone());
        push(format!("{sid}-clean"), si, None, Severity::None, &split);
        let Some((list, next)) = rotation.get_mut(s.modality().code()) else {
            continue;
        };
        let k = attributes_per_slice.min(list.len());
        for _ in 0..k {
            let ai = list[*next % list.len()];
            *next += 1;
            for sev in [Severity::Mild, Severity::Severe] {
                push(
                    format!("{sid}-{}-{}", bench.attributes[ai].name, sev),
                    si,
                    Some(ai),
                    sev,
                    &split,
                );
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
        let subjects: Vec<(String, Modality)> =
            (0..10).map(|i| (format!("s{i}"), Modality::Mr)).collect();
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

    #[test]
    fn every_split_holds_every_modality_with_enough_subjects() {
        // 9 MR subjects, 2 CT, 2 US, one subject with both MR and CT
        let mut subjects: Vec<(String, Modality)> =
            (0..9).map(|i| (format!("m{i}"), Modality::Mr)).collect();
        subjects.extend([
            ("c0".into(), Modality::Ct),
            ("m0".into(), Modality::Ct),
            ("u0".into(), Modality::Us),
            ("u1".into(), Modality::Us),
        ]);
        let splits = vec![("test".to_string(), 0.8), ("dev".to_string(), 0.2)];
        for seed in 0..50 {
            let a = assign_splits(&subjects, &splits, seed);
            for m in [Modality::Mr, Modality::Ct, Modality::Us] {
                for split in ["test", "dev"] {
                    assert!(
                        subjects.iter().any(|(s, mm)| *mm == m && a[s] == split),
                        "seed {seed}: {m} missing from {split}"
                    );
                }
            }
        }
    }

    #[test]
    fn ids_are_opaque_and_build_specific() {
        let a = opaque_id("build-a", "image", "ct-0123abcd-a0i0001-metal-severe");
        let b = opaque_id("build-b", "image", "ct-0123abcd-a0i0001-metal-severe");
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
