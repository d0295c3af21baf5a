//! Recipe validation: every error names file, line, column and key, and lists what is allowed.

use artefact_core::{
    CoreError, Image, Modality, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec,
    Picture, SampleRng, Seed, Severity, Unit,
};
use artefact_recipe::attribute::{apply_chain, apply_chain_resolving, AppliedOp};
use artefact_recipe::{AttributeRecipe, OpEntry, Registry};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Test operator: adds `offset` (mm-free) to every pixel, `mode` chosen from a list.
struct AddOffset;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct AddParams {
    offset: f64,
    repeats: i64,
    mode: String,
    flag: bool,
}

static ADD_INFO: OpInfo = OpInfo {
    name: "test.add",
    modality: "MR",
    doc: "adds an offset",
    params: &[
        ParamInfo {
            name: "offset",
            kind: ParamKind::Float {
                min: 0.0,
                max: 10.0,
            },
            default: ParamDefault::Required,
            unit: "a.u.",
            doc: "offset added",
        },
        ParamInfo {
            name: "repeats",
            kind: ParamKind::Int { min: 1, max: 5 },
            default: ParamDefault::Int(1),
            unit: "",
            doc: "times",
        },
        ParamInfo {
            name: "mode",
            kind: ParamKind::Choice {
                allowed: &["plain", "fancy"],
            },
            default: ParamDefault::Choice("plain"),
            unit: "",
            doc: "mode",
        },
        ParamInfo {
            name: "flag",
            kind: ParamKind::Bool,
            default: ParamDefault::Bool(false),
            unit: "",
            doc: "flag",
        },
    ],
};

impl Operator for AddOffset {
    type Params = AddParams;
    type Error = CoreError;
    fn info() -> &'static OpInfo {
        &ADD_INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<AddParams, CoreError> {
        Ok(AddParams {
            offset: spec.float("offset", 0.0, rng)?,
            repeats: spec.int("repeats", 1, rng)?,
            mode: spec.choice("mode", &["plain", "fancy"], "plain", rng)?,
            flag: spec.bool("flag", false)?,
        })
    }
    fn apply(p: &AddParams, image: &Image) -> Result<Image, CoreError> {
        image.with_data(
            image
                .data
                .mapv(|v| v + (p.offset * p.repeats as f64) as f32),
        )
    }
}

fn registry() -> Registry {
    Registry::new(vec![OpEntry::of::<AddOffset>()])
}

const GOOD: &str = r#"[attribute]
name = "offset"
modality = "MR"
label = "Offset artifacts"
description.mild = ["a slight offset"]
description.severe = ["a strong offset"]

[[ops]]
op = "test.add"
mild = { offset = [0.5, 1.0], repeats = 1 }
severe = { offset = 5.0, repeats = [2, 3], mode = ["plain", "fancy"], flag = true }

[metric]
kind = "ssim"
mild = [0.8, 0.95]
"#;

fn parse(src: &str) -> Result<AttributeRecipe, artefact_recipe::RecipeError> {
    AttributeRecipe::parse(src, Path::new("recipes/mri/offset.toml"), &registry())
}

#[test]
fn valid_recipe_parses_and_replays() {
    let r = parse(GOOD).unwrap();
    assert_eq!(r.name, "offset");
    assert_eq!(r.modality, Modality::Mr);
    assert_eq!(r.noun, "offset artifacts");
    assert_eq!(r.grade(Severity::Severe, |_| Some(0.5)).as_str(), "reject");
    assert_eq!(r.metric.as_ref().unwrap().max_tries, 8);
    assert_eq!(r.hash.len(), 64);

    let img = Image::new(
        Array2::zeros((4, 4)),
        [1.0, 1.0],
        Modality::Mr,
        Unit::Arbitrary,
    )
    .unwrap();
    let img = Picture::Grey(img);
    let mut rng = Seed::derive(7, "k").rng();
    let chain = r.sample_chain(Severity::Severe, &mut rng).unwrap();
    assert_eq!(chain.len(), 1);
    let p: AddParams = serde_json::from_value(chain[0].params.clone()).unwrap();
    assert_eq!(p.offset, 5.0);
    assert!((2..=3).contains(&p.repeats) && p.flag);
    let out = apply_chain(&registry(), &chain, &img).unwrap();
    // the default `resolve` records the params unchanged
    let mut resolved = chain.clone();
    let out2 = apply_chain_resolving(&registry(), &mut resolved, &img).unwrap();
    assert_eq!(out2, out);
    assert_eq!(
        serde_json::to_string(&resolved).unwrap(),
        serde_json::to_string(&chain).unwrap()
    );
    // replay from the recorded JSON text gives the same bytes
    let text = serde_json::to_string(&chain).unwrap();
    let again = apply_chain(
        &registry(),
        &serde_json::from_str::<Vec<_>>(&text).unwrap(),
        &img,
    )
    .unwrap();
    assert_eq!(out, again);
    assert_eq!(
        out.as_grey().unwrap().data[[0, 0]],
        (5.0 * p.repeats as f64) as f32
    );
    assert!(r.sample_chain(Severity::None, &mut rng).unwrap().is_empty());
}

/// Every invalid recipe: (edit, expected line, expected key fragment, expected message fragment)
#[test]
fn errors_point_at_file_line_column_and_key() {
    let cases: &[(&str, &str, usize, &str, &str)] = &[
        (
            "op = \"test.add\"",
            "op = \"test.nope\"",
            9,
            "ops[0].op",
            "unknown operator `test.nope` (allowed: test.add)",
        ),
        (
            "offset = 5.0,",
            "offset = 50.0,",
            11,
            "ops[0].severe.offset",
            "out of range [0, 10] a.u.",
        ),
        (
            "offset = 5.0,",
            "offset = \"big\",",
            11,
            "ops[0].severe.offset",
            "expected float",
        ),
        (
            "repeats = 1 }",
            "repeats = 1.5 }",
            10,
            "ops[0].mild.repeats",
            "expected int",
        ),
        (
            "repeats = 1 }",
            "repetitions = 1 }",
            10,
            "ops[0].mild.repetitions",
            "allowed: offset, repeats, mode, flag",
        ),
        (
            "\"plain\", \"fancy\"]",
            "\"plain\", \"wild\"]",
            11,
            "ops[0].severe.mode",
            "`wild` is not allowed (allowed: plain, fancy)",
        ),
        (
            "offset = [0.5, 1.0]",
            "offset = [1.0, 0.5]",
            10,
            "ops[0].mild.offset",
            "reversed",
        ),
        (
            "mild = { offset = [0.5, 1.0], repeats = 1 }",
            "mild = { repeats = 1 }",
            10,
            "ops[0].mild",
            "missing required parameter `offset`",
        ),
        (
            "mild = { offset = [0.5, 1.0], repeats = 1 }\n",
            "",
            8,
            "ops[0].mild",
            "missing `mild` parameters",
        ),
        (
            "modality = \"MR\"",
            "modality = \"PET\"",
            3,
            "attribute.modality",
            "allowed: CT, MR, US",
        ),
        (
            "modality = \"MR\"",
            "modality = \"CT\"",
            9,
            "ops[0].op",
            "for MR images but the attribute is CT",
        ),
        (
            "kind = \"ssim\"",
            "kind = \"lpips\"",
            14,
            "metric.kind",
            "allowed: ssim, psnr, nrmse",
        ),
        (
            "description.severe = [\"a strong offset\"]",
            "description.severe = [\"  \"]",
            6,
            "attribute.description.severe",
            "non-empty phrase",
        ),
    ];
    for (from, to, line, key, msg) in cases {
        assert!(GOOD.contains(from), "case edit `{from}` not found");
        let src = GOOD.replacen(from, to, 1);
        let e = parse(&src).expect_err(&format!("`{to}` should be refused"));
        let text = e.to_string();
        assert!(text.starts_with("recipes/mri/offset.toml:"), "{text}");
        assert_eq!(e.line, Some(*line), "line for `{to}`: {text}");
        assert!(e.col.is_some(), "{text}");
        assert!(
            e.key.as_deref().unwrap_or("").contains(key),
            "key for `{to}`: {text}"
        );
        assert!(text.contains(msg), "message for `{to}`: {text}");
    }
}

#[test]
fn unknown_keys_and_syntax_errors_are_located() {
    let e = parse(&GOOD.replace("label = ", "lable = ")).unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.to_string().contains("lable"), "{e}");
    let e = parse(&GOOD.replace("[[ops]]", "[[ops]")).unwrap_err();
    assert_eq!(e.line, Some(8), "{e}");
    let e = parse(GOOD.split("[[ops]]").next().unwrap()).unwrap_err();
    assert!(e.to_string().contains("no [[ops]]"), "{e}");
}

#[test]
fn markdown_table_lists_every_parameter() {
    let md = registry().markdown();
    for p in [
        "offset",
        "repeats",
        "mode",
        "flag",
        "[0, 10]",
        "plain, fancy",
        "required",
    ] {
        assert!(md.contains(p), "{p} missing from\n{md}");
    }
}

/// Test operator with a derived, informative field: `resolve` records the width of the image
/// it is applied to (as `mri.undersampling` records its achieved acceleration).
struct Tagged;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct TagParams {
    scale: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<usize>,
}

static TAG_INFO: OpInfo = OpInfo {
    name: "test.tagged",
    modality: "MR",
    doc: "scales the image; records the width it saw",
    params: &[],
};

impl Operator for Tagged {
    type Params = TagParams;
    type Error = CoreError;
    fn info() -> &'static OpInfo {
        &TAG_INFO
    }
    fn sample(_: &ParamSpec, _: &mut SampleRng) -> Result<TagParams, CoreError> {
        Ok(TagParams {
            scale: 2.0,
            width: None,
        })
    }
    fn apply(p: &TagParams, image: &Image) -> Result<Image, CoreError> {
        image.with_data(image.data.mapv(|v| v * p.scale as f32))
    }
    fn resolve(p: &TagParams, image: &Image) -> Result<TagParams, CoreError> {
        Ok(TagParams {
            width: Some(image.shape().1),
            ..p.clone()
        })
    }
}

/// `apply_chain_resolving` records each step's derived values for the image that step received,
/// and replaying the recorded chain gives the same bytes.
#[test]
fn resolving_records_derived_values_and_replays_identically() {
    let reg = Registry::new(vec![OpEntry::of::<AddOffset>(), OpEntry::of::<Tagged>()]);
    let img = Image::new(
        Array2::from_shape_fn((3, 5), |(i, j)| (i * 5 + j) as f32),
        [1.0, 1.0],
        Modality::Mr,
        Unit::Arbitrary,
    )
    .unwrap();
    let img = Picture::Grey(img);
    let mut chain = vec![
        AppliedOp {
            op: "test.add".into(),
            params: serde_json::json!({"offset": 1.0, "repeats": 1, "mode": "plain", "flag": false}),
        },
        AppliedOp {
            op: "test.tagged".into(),
            params: serde_json::json!({"scale": 2.0}),
        },
    ];
    let plain = apply_chain(&reg, &chain, &img).unwrap();
    let out = apply_chain_resolving(&reg, &mut chain, &img).unwrap();
    assert_eq!(out, plain);
    assert_eq!(chain[1].params["width"], serde_json::json!(5));
    assert!(chain[0].params.get("width").is_none());
    let text = serde_json::to_string(&chain).unwrap();
    let replayed = apply_chain(
        &reg,
        &serde_json::from_str::<Vec<AppliedOp>>(&text).unwrap(),
        &img,
    )
    .unwrap();
    assert_eq!(replayed, out);
}
