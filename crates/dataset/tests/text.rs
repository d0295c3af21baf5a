//! Every question template × every bundled attribute reads correctly: number agreement and
//! articles, no presupposition, enough phrasings and phrases.

use artefact_dataset::text::{agreement_error, question, Family, Noun};
use artefact_recipe::{AttributeRecipe, NounNumber, Registry};
use std::path::{Path, PathBuf};

fn bundled() -> Vec<AttributeRecipe> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes");
    let reg = Registry::builtin();
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("benchmarks"))
        .collect();
    dirs.sort();
    for d in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            out.push(AttributeRecipe::load(&f, &reg).unwrap());
        }
    }
    assert!(out.len() >= 20, "bundled recipes found: {}", out.len());
    out
}

#[test]
fn every_template_for_every_bundled_attribute_agrees() {
    let attrs = bundled();
    let mut rendered = 0;
    for a in &attrs {
        let noun = Noun::of(a);
        // the declared number fits the noun's head word (a singular noun must be declared)
        if a.number != NounNumber::Singular {
            assert_eq!(
                a.number,
                NounNumber::infer(&a.noun),
                "{}: `number` does not fit the noun `{}`",
                a.path.display(),
                a.noun
            );
        }
        for f in Family::ALL {
            for k in 0..f.phrasings() {
                let q = question(
                    f,
                    f.needs_attribute().then_some(noun),
                    a.modality.display_name(),
                    k,
                );
                assert_eq!(agreement_error(&q, noun), None, "{}", a.path.display());
                assert!(!q.contains("  ") && q.ends_with('?'), "{q}");
                rendered += 1;
            }
        }
    }
    assert!(rendered >= attrs.len() * 24);
}

#[test]
fn bundled_attributes_have_enough_distinct_text() {
    let attrs = bundled();
    for a in &attrs {
        for (sev, list) in [
            ("mild", &a.description_mild),
            ("severe", &a.description_severe),
        ] {
            let mut l: Vec<&String> = list.iter().collect();
            l.sort();
            l.dedup();
            assert!(
                l.len() >= 3,
                "{}: {sev} needs ≥ 3 distinct phrases",
                a.path.display()
            );
            for p in list {
                let low = p.to_lowercase();
                assert!(
                    !low.contains("mild") && !low.contains("severe"),
                    "{}: a phrase names the level: {p}",
                    a.path.display()
                );
                assert!(!p.ends_with('.'), "{}: {p}", a.path.display());
            }
        }
        // labels of one modality are distinct; confusable names exist
        for b in attrs
            .iter()
            .filter(|b| b.modality == a.modality && b.name != a.name)
        {
            assert_ne!(a.label.to_lowercase(), b.label.to_lowercase());
        }
        for c in &a.confusable {
            assert!(
                attrs
                    .iter()
                    .any(|b| &b.name == c && b.modality == a.modality),
                "{}: confusable `{c}` is not an attribute of the same modality",
                a.path.display()
            );
        }
        assert!(
            matches!(a.grading, artefact_recipe::Grading::Measured { .. }),
            "{}: bundled attributes grade by measured quality",
            a.path.display()
        );
    }
}
