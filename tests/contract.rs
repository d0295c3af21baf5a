//! The operator contract, checked for every operator of the built-in registry (nothing here
//! names an operator: a new operator is covered by adding it to its crate's `operators!` list):
//! - its parameter table is well formed (unique names, `min ≤ max`, defaults inside the range,
//!   choice defaults among the allowed names);
//! - sampling from the empty spec and from every bundled recipe keeps each recorded declared
//!   parameter inside its declared range;
//! - every bundled attribute recipe applies at none / mild / severe on a real image of its
//!   modality (MR and CT slices, an MR slice as an ultrasound echogenicity map, the real fundus
//!   and H&E photographs for fundus and histopathology, the fundus photograph standing in for
//!   endoscopy), keeping the image size and kind and giving finite values; none is the
//!   identity;
//! - a replay from the recorded params, after a JSON round trip, gives the same bytes;
//! - the generated operator reference `docs/operators.md` is up to date (regenerate with
//!   `ARTEFACT_BLESS=1 cargo test --test contract`).

use artefact_core::{Modality, ParamDefault, ParamKind, ParamSpec, Picture, Seed, Severity};
use artefact_recipe::attribute::{apply_chain, apply_chain_resolving, AppliedOp};
use artefact_recipe::{AttributeRecipe, Registry};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Recorded values that are derived from a parameter rather than the parameter itself.
const DERIVED: &[(&str, &str)] = &[
    // multiplied by `strength`
    ("mri.susceptibility", "echo_spacing_ms"),
    ("mri.susceptibility", "te_ms"),
];

fn check_ranges(registry: &Registry, op: &str, params: &serde_json::Value) -> Vec<String> {
    let info = registry.get(op).unwrap().info;
    let mut bad = Vec::new();
    let Some(obj) = params.as_object() else {
        return vec![format!("{op}: params are not a JSON object")];
    };
    for (k, v) in obj {
        // seeds are u64 (beyond the i64 range of the table)
        if DERIVED.contains(&(op, k.as_str())) || k.ends_with("seed") {
            continue;
        }
        let Some(p) = info.param(k) else { continue };
        match (p.kind, v.as_f64()) {
            (ParamKind::Float { min, max }, Some(x)) if !(min..=max).contains(&x) => {
                bad.push(format!("{op}.{k} = {x} outside [{min}, {max}]"))
            }
            (ParamKind::Int { min, max }, Some(x))
                if p.default != ParamDefault::Sampled
                    && !((min as f64)..=(max as f64)).contains(&x) =>
            {
                bad.push(format!("{op}.{k} = {x} outside [{min}, {max}]"))
            }
            _ => {}
        }
    }
    bad
}

#[test]
fn every_operator_table_is_well_formed_and_samples_within_range() {
    let reg = Registry::builtin();
    assert!(reg.len() >= 23);
    let mut bad = Vec::new();
    for e in reg.iter() {
        let info = e.info;
        assert!(!info.doc.is_empty(), "{}: no doc", info.name);
        let mut names: Vec<&str> = info.params.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), info.params.len(), "{}: duplicate", info.name);
        for p in info.params {
            let here = format!("{}.{}", info.name, p.name);
            assert!(!p.doc.is_empty(), "{here}: no doc");
            match (p.kind, p.default) {
                (ParamKind::Float { min, max }, ParamDefault::Float(d)) => {
                    assert!(min <= max && (min..=max).contains(&d), "{here}: {d}")
                }
                (ParamKind::Int { min, max }, ParamDefault::Int(d)) => {
                    assert!(min <= max && (min..=max).contains(&d), "{here}: {d}")
                }
                (ParamKind::Choice { allowed }, ParamDefault::Choice(d)) => {
                    assert!(allowed.contains(&d), "{here}: `{d}` not allowed")
                }
                (ParamKind::Bool, ParamDefault::Bool(_)) => {}
                (_, ParamDefault::Sampled | ParamDefault::Required) => {}
                (k, d) => panic!("{here}: default {d:?} does not fit {k:?}"),
            }
        }
        // the empty spec: every default
        for i in 0..8 {
            let mut rng = Seed::derive(i, info.name).rng();
            let v = (e.sample)(&ParamSpec::new(), &mut rng)
                .unwrap_or_else(|err| panic!("{}: {err}", info.name));
            bad.extend(check_ranges(&reg, info.name, &v));
            // params round-trip through JSON text
            let text = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// A small real image of a modality (downsized to keep the debug-build test fast).
fn image_for(modality: Modality) -> Picture {
    let grey = |file: &str| {
        let loaded = artefact_io::load_volume(&root().join(file)).unwrap();
        let n = loaded.volume.data.shape()[0];
        loaded.volume.slice(0, n / 2).unwrap()
    };
    let colour = |file: &str| {
        let opts = artefact_io::RgbLoadOptions {
            modality: Some(modality),
            ..Default::default()
        };
        let img = artefact_io::read_rgb(&root().join(file), &opts)
            .unwrap()
            .image;
        Picture::Colour(artefact_dataset::source::prepare_colour(&img, 128).unwrap())
    };
    match modality {
        Modality::Ct => Picture::Grey(grey("tests/data/dicom/CT_small.dcm")),
        Modality::Mr => Picture::Grey(grey("tests/data/dicom/MR_small.dcm")),
        Modality::Us => {
            let loaded =
                artefact_io::load_volume(&root().join("tests/data/dicom/MR_small.dcm")).unwrap();
            let mut v = loaded.volume;
            artefact_dataset::source::to_echogenicity(&mut v.data).unwrap();
            let mut img = v.slice(0, 0).unwrap();
            img.modality = Modality::Us;
            img.unit = artefact_core::Unit::Echogenicity;
            Picture::Grey(img)
        }
        Modality::Fundus | Modality::Endoscopy => {
            colour("tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg")
        }
        Modality::Histopathology => {
            colour("tests/data/photo/histopathology/he_crc_tumour_nct100k_TUM-AEPINLNQ_224px.png")
        }
        other => panic!("no test image for {other}"),
    }
}

fn bits(p: &Picture) -> Vec<u32> {
    match p {
        Picture::Grey(i) => i.data.iter().map(|v| v.to_bits()).collect(),
        Picture::Colour(c) => c.data.iter().map(|v| v.to_bits()).collect(),
    }
}

fn bundled_recipes(reg: &Registry) -> Vec<AttributeRecipe> {
    let mut out = Vec::new();
    for dir in artefact_recipe::library::MODALITY_FOLDERS {
        let Ok(entries) = std::fs::read_dir(root().join("recipes").join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for f in files {
            out.push(AttributeRecipe::load(&f, reg).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    out
}

#[test]
fn every_bundled_recipe_applies_at_every_severity_and_replays_from_its_record() {
    let reg = Registry::builtin();
    let mut bad = Vec::new();
    for recipe in bundled_recipes(&reg) {
        let modality = recipe.modality;
        let img = image_for(modality);
        for (k, s) in [Severity::None, Severity::Mild, Severity::Severe]
            .into_iter()
            .enumerate()
        {
            let mut rng = Seed::derive(7 + k as u64, &recipe.name).rng();
            let mut chain = recipe
                .sample_chain(s, &mut rng)
                .unwrap_or_else(|e| panic!("{} {s}: {e}", recipe.name));
            for step in &chain {
                bad.extend(check_ranges(&reg, &step.op, &step.params));
            }
            let out = apply_chain_resolving(&reg, &mut chain, &img)
                .unwrap_or_else(|e| panic!("{} {s}: {e}", recipe.name));
            let here = format!("{} ({modality}) {s}", recipe.name);
            assert_eq!(out.shape(), img.shape(), "{here}");
            assert_eq!(out.kind(), img.kind(), "{here}");
            assert!(!out.has_non_finite(), "{here}");
            if s == Severity::None {
                assert!(chain.is_empty() && out == img, "{here}");
                continue;
            }
            assert!(!chain.is_empty(), "{here}: empty chain");
            // replay from the record, after a JSON round trip of the params
            let text = serde_json::to_string(&chain).unwrap();
            let recorded: Vec<AppliedOp> = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&recorded).unwrap(), text, "{here}");
            let again = apply_chain(&reg, &recorded, &img).unwrap();
            assert_eq!(bits(&again), bits(&out), "{here}: replay differs");
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn operator_reference_is_generated_from_the_tables() {
    let reg = Registry::builtin();
    let text = format!(
        "# Operator reference\n\nGenerated from the operators' parameter declarations \
         (`artefact recipes ops` prints the same); do not edit. Regenerate with \
         `ARTEFACT_BLESS=1 cargo test --test contract`. {} operators.\n\n{}",
        reg.len(),
        reg.markdown()
    );
    let path = root().join("docs/operators.md");
    if std::env::var_os("ARTEFACT_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run `ARTEFACT_BLESS=1 cargo test --test contract`",
        Path::new("docs/operators.md").display()
    );
}
