//! Attribute recipes: one quality attribute, its text, and its op chain per severity.
//!
//! ```toml
//! [attribute]
//! name = "motion"                       # identifier: lowercase letters, digits, `_`
//! modality = "MR"                       # CT | MR | US
//! label = "Motion artifacts"            # option text in "what" questions
//! noun = "motion artifacts"             # "Is there {noun} in this MRI image?" (default: label, lowercased)
//! region = "global"                     # global | local
//! description.mild = ["mild ghosting of the head along the phase-encode direction"]
//! description.severe = ["strong ghosting and blurring that obscure anatomical detail"]
//! number = "plural"                     # grammatical number of `noun`: plural | singular | mass
//!                                       # (default: inferred from the noun's last word)
//! confusable = ["ghosting"]             # attributes never offered together in one "what" question
//! grade.metric = "ssim"                 # quality grade from measured quality (vs the clean image):
//! grade.reject = 0.70                   #   worse than `reject` → reject,
//! grade.good = 0.99                     #   at least `good` → good, else usable
//! # grade.mild = "usable"               # or a fixed grade per severity (not recommended)
//!
//! [[ops]]                               # applied in order
//! op = "mri.motion"                     # a registry name (`artefact recipes ops`)
//! mild = { translation_mm = [1.0, 2.5] }    # number, [lo, hi] range, bool, string, or list of strings
//! severe = { translation_mm = [5.0, 10.0] }
//!
//! [metric]                              # optional: re-sample until the image lands in the band
//! kind = "ssim"                         # ssim | psnr | nrmse | delta_e2000 (colour) (vs the clean slice)
//! mild = [0.80, 0.95]
//! severe = [0.30, 0.80]
//! max_tries = 8
//! ```

use crate::error::RecipeError;
use crate::registry::{OpEntry, Registry};
use crate::value::to_spec;
use crate::Result;
use artefact_core::{
    Modality, ParamDefault, ParamSpec, Picture, QualityGrade, SampleRng, Severity, Volume,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where the degradation shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Global,
    Local,
}

/// Full-reference metric used for a severity band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Ssim,
    Psnr,
    Nrmse,
    /// Mean CIEDE2000 colour difference inside the field of view (colour modalities only;
    /// lower is better): what a colour cast changes when luminance SSIM does not see it.
    #[serde(rename = "delta_e2000")]
    DeltaE2000,
}

/// Acceptable metric range per severity, with a bounded number of re-samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricBand {
    pub kind: MetricKind,
    pub mild: Option<[f64; 2]>,
    pub severe: Option<[f64; 2]>,
    pub max_tries: u32,
}

impl MetricBand {
    pub fn band(&self, s: Severity) -> Option<[f64; 2]> {
        match s {
            Severity::None => None,
            Severity::Mild => self.mild,
            Severity::Severe => self.severe,
        }
    }
}

/// One operator of the chain with its spec per severity.
#[derive(Clone, Debug)]
pub struct OpStep {
    pub op: OpEntry,
    pub mild: ParamSpec,
    pub severe: ParamSpec,
}

impl OpStep {
    pub fn spec(&self, s: Severity) -> Option<&ParamSpec> {
        match s {
            Severity::None => None,
            Severity::Mild => Some(&self.mild),
            Severity::Severe => Some(&self.severe),
        }
    }
}

/// Grammatical number of an attribute's noun, for agreement in question templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NounNumber {
    /// "motion artifacts": "Are there …", "… are visible".
    Plural,
    /// "bias field": "Is there a …", "… is visible".
    Singular,
    /// "noise", "Gibbs ringing": "Is there …", "… is visible".
    Mass,
}

impl NounNumber {
    pub const NAMES: &'static [&'static str] = &["plural", "singular", "mass"];

    /// The number a noun phrase most likely has, from its head word (the last word outside
    /// parentheses): a regular plural ends in `s` but not `ss`, `us` or `is`.
    pub fn infer(noun: &str) -> NounNumber {
        let mut depth = 0i32;
        let mut outside = String::new();
        for c in noun.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => outside.push(c),
                _ => {}
            }
        }
        let head = outside
            .split_whitespace()
            .last()
            .unwrap_or("")
            .to_ascii_lowercase();
        let plural = head.len() > 2
            && head.ends_with('s')
            && !head.ends_with("ss")
            && !head.ends_with("us")
            && !head.ends_with("is");
        if plural {
            NounNumber::Plural
        } else {
            NounNumber::Mass
        }
    }
}

/// How an image's quality grade is decided.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "lowercase")]
pub enum Grading {
    /// A fixed grade per severity (the recipe's `grade.mild` / `grade.severe`).
    Fixed {
        mild: QualityGrade,
        severe: QualityGrade,
    },
    /// From the measured quality against the clean image: worse than `reject` → reject, at
    /// least as good as `good` → good, otherwise usable. For SSIM and PSNR higher is better,
    /// for NRMSE lower is better.
    Measured {
        metric: MetricKind,
        reject: f64,
        good: f64,
    },
}

impl MetricKind {
    /// Is `a` at least as good as `b` on this metric?
    pub fn at_least(self, a: f64, b: f64) -> bool {
        match self {
            MetricKind::Ssim | MetricKind::Psnr => a >= b,
            MetricKind::Nrmse | MetricKind::DeltaE2000 => a <= b,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Ssim => "ssim",
            MetricKind::Psnr => "psnr",
            MetricKind::Nrmse => "nrmse",
            MetricKind::DeltaE2000 => "delta_e2000",
        }
    }
}

/// Concrete params of one applied operator (what a manifest records).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppliedOp {
    pub op: String,
    pub params: Value,
}

/// A validated attribute recipe.
#[derive(Clone, Debug)]
pub struct AttributeRecipe {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes.
    pub hash: String,
    pub name: String,
    pub modality: Modality,
    pub label: String,
    pub noun: String,
    /// Grammatical number of `noun`.
    pub number: NounNumber,
    /// Attributes (same modality) never offered together with this one in a "what" question.
    pub confusable: Vec<String>,
    pub region: Region,
    pub description_mild: Vec<String>,
    pub description_severe: Vec<String>,
    pub grading: Grading,
    pub ops: Vec<OpStep>,
    pub metric: Option<MetricBand>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    attribute: Spanned<RawAttr>,
    ops: Option<Spanned<Vec<Spanned<RawOp>>>>,
    metric: Option<Spanned<RawMetric>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttr {
    name: Spanned<String>,
    modality: Spanned<String>,
    label: Spanned<String>,
    noun: Option<String>,
    number: Option<Spanned<String>>,
    confusable: Option<Vec<String>>,
    region: Option<Spanned<String>>,
    description: Spanned<RawDesc>,
    grade: Option<RawGrade>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDesc {
    mild: Spanned<Vec<String>>,
    severe: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    mild: Option<Spanned<String>>,
    severe: Option<Spanned<String>>,
    metric: Option<Spanned<String>>,
    reject: Option<Spanned<f64>>,
    good: Option<Spanned<f64>>,
}

type RawParams = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOp {
    op: Spanned<String>,
    mild: Option<Spanned<RawParams>>,
    severe: Option<Spanned<RawParams>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    kind: Spanned<String>,
    mild: Option<Spanned<[f64; 2]>>,
    severe: Option<Spanned<[f64; 2]>>,
    max_tries: Option<Spanned<i64>>,
}

/// Turn a toml deserialisation error into a located RecipeError.
pub(crate) fn toml_error(path: &Path, src: &str, e: toml::de::Error) -> RecipeError {
    let msg = e.message().trim().to_string();
    let err = RecipeError::new(path, msg);
    match e.span() {
        Some(span) => err.at(src, span),
        None => err,
    }
}

/// Longest identifier (attribute and benchmark names) accepted.
pub const MAX_NAME_LEN: usize = 200;

pub(crate) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl AttributeRecipe {
    /// Read and validate a recipe file.
    pub fn load(path: &Path, registry: &Registry) -> Result<AttributeRecipe> {
        let bytes = std::fs::read(path)
            .map_err(|e| RecipeError::new(path, format!("cannot read recipe: {e}")))?;
        let src = String::from_utf8(bytes)
            .map_err(|_| RecipeError::new(path, "recipe is not valid UTF-8"))?;
        AttributeRecipe::parse(&src, path, registry)
    }

    /// Validate recipe text; `path` is used in errors and recorded.
    pub fn parse(src: &str, path: &Path, registry: &Registry) -> Result<AttributeRecipe> {
        let raw: RawFile = toml::from_str(src).map_err(|e| toml_error(path, src, e))?;
        let err = |span: std::ops::Range<usize>, key: &str, msg: String| {
            RecipeError::new(path, msg).at(src, span).key(key)
        };
        let a = raw.attribute.get_ref();
        let name = a.name.get_ref().clone();
        if !is_identifier(&name) {
            return Err(err(
                a.name.span(),
                "attribute.name",
                format!("`{}` is not an identifier (use at most {MAX_NAME_LEN} lowercase letters, digits, `_`, `-`)", name.chars().take(60).collect::<String>()),
            ));
        }
        let modality: Modality = a
            .modality
            .get_ref()
            .parse()
            .map_err(|m: String| err(a.modality.span(), "attribute.modality", m))?;
        if crate::folders::folder_of(modality).is_none() {
            return Err(err(
                a.modality.span(),
                "attribute.modality",
                "attribute recipes exist for CT, MR, US, fundus photography, endoscopy and \
                 histopathology (allowed: CT, MR, US, OP, ES, SM)"
                    .into(),
            ));
        }
        let label = a.label.get_ref().trim().to_string();
        if label.is_empty() {
            return Err(err(
                a.label.span(),
                "attribute.label",
                "label is empty".into(),
            ));
        }
        let noun = a.noun.clone().unwrap_or_else(|| label.to_lowercase());
        let region = match &a.region {
            None => Region::Global,
            Some(r) => match r.get_ref().as_str() {
                "global" => Region::Global,
                "local" => Region::Local,
                other => {
                    return Err(err(
                        r.span(),
                        "attribute.region",
                        format!("`{other}` is not allowed (allowed: global, local)"),
                    ))
                }
            },
        };
        let desc = a.description.get_ref();
        for (key, list) in [
            ("description.mild", &desc.mild),
            ("description.severe", &desc.severe),
        ] {
            if list.get_ref().iter().all(|s| s.trim().is_empty()) {
                return Err(err(
                    list.span(),
                    &format!("attribute.{key}"),
                    "needs at least one non-empty phrase".into(),
                ));
            }
        }
        let number = match &a.number {
            None => NounNumber::infer(&noun),
            Some(n) => match n.get_ref().as_str() {
                "plural" => NounNumber::Plural,
                "singular" => NounNumber::Singular,
                "mass" => NounNumber::Mass,
                other => {
                    return Err(err(
                        n.span(),
                        "attribute.number",
                        format!(
                            "`{other}` is not allowed (allowed: {})",
                            NounNumber::NAMES.join(", ")
                        ),
                    ))
                }
            },
        };
        let confusable = a.confusable.clone().unwrap_or_default();
        let mut grading = Grading::Fixed {
            mild: Severity::Mild.default_grade(),
            severe: Severity::Severe.default_grade(),
        };
        if let Some(g) = &a.grade {
            let fixed = g.mild.is_some() || g.severe.is_some();
            let measured = g.metric.is_some() || g.reject.is_some() || g.good.is_some();
            if fixed && measured {
                let span = g.mild.as_ref().or(g.severe.as_ref()).expect("fixed").span();
                return Err(err(
                    span,
                    "attribute.grade",
                    "give either fixed grades (grade.mild / grade.severe) or measured thresholds (grade.metric, grade.reject, grade.good), not both".into(),
                ));
            }
            if fixed {
                let (mut mild, mut severe) = (
                    Severity::Mild.default_grade(),
                    Severity::Severe.default_grade(),
                );
                for (key, val, slot) in [
                    ("grade.mild", &g.mild, &mut mild),
                    ("grade.severe", &g.severe, &mut severe),
                ] {
                    if let Some(v) = val {
                        *slot = v
                            .get_ref()
                            .parse()
                            .map_err(|m: String| err(v.span(), &format!("attribute.{key}"), m))?;
                    }
                }
                grading = Grading::Fixed { mild, severe };
            }
            if measured {
                let (Some(m), Some(r), Some(gd)) = (&g.metric, &g.reject, &g.good) else {
                    return Err(RecipeError::new(
                        path,
                        "measured grading needs all of grade.metric, grade.reject and grade.good",
                    )
                    .at(src, raw.attribute.span())
                    .key("attribute.grade"));
                };
                let metric = parse_metric_kind(m.get_ref(), modality)
                    .map_err(|e| err(m.span(), "attribute.grade.metric", e))?;
                let (reject, good) = (*r.get_ref(), *gd.get_ref());
                if !(reject.is_finite() && good.is_finite() && metric.at_least(good, reject)) {
                    return Err(err(
                        r.span(),
                        "attribute.grade.reject",
                        format!(
                            "thresholds must be finite and `good` ({good}) at least as good as `reject` ({reject}) on {}",
                            metric.name()
                        ),
                    ));
                }
                grading = Grading::Measured {
                    metric,
                    reject,
                    good,
                };
            }
        }

        let Some(ops_raw) = raw.ops else {
            return Err(RecipeError::new(
                path,
                "no [[ops]]: an attribute needs at least one operator (see `artefact recipes ops`)",
            )
            .at(src, raw.attribute.span())
            .key("ops"));
        };
        if ops_raw.get_ref().is_empty() {
            return Err(err(ops_raw.span(), "ops", "the op chain is empty".into()));
        }
        let mut ops = Vec::new();
        for (i, op_raw) in ops_raw.get_ref().iter().enumerate() {
            let o = op_raw.get_ref();
            let opname = o.op.get_ref();
            let entry = registry.get(opname).ok_or_else(|| {
                err(
                    o.op.span(),
                    &format!("ops[{i}].op"),
                    format!(
                        "unknown operator `{opname}` (allowed: {})",
                        registry.names().join(", ")
                    ),
                )
            })?;
            let fits = entry.info.modality == modality.code()
                || (entry.info.modality == "photo" && modality.is_colour());
            if !fits {
                return Err(err(
                    o.op.span(),
                    &format!("ops[{i}].op"),
                    format!(
                        "operator `{opname}` is for {} images but the attribute is {}",
                        entry.info.modality,
                        modality.code()
                    ),
                ));
            }
            let mut specs = Vec::new();
            for (sev, table) in [("mild", &o.mild), ("severe", &o.severe)] {
                let key = format!("ops[{i}].{sev}");
                let Some(table) = table else {
                    return Err(err(
                        op_raw.span(),
                        &key,
                        format!("missing `{sev}` parameters for `{opname}` (write `{sev} = {{}}` to use the defaults)"),
                    ));
                };
                specs.push(validate_params(src, path, &key, table, entry)?);
            }
            let severe = specs.pop().expect("two specs");
            let mild = specs.pop().expect("two specs");
            ops.push(OpStep {
                op: *entry,
                mild,
                severe,
            });
        }

        let metric = match raw.metric {
            None => None,
            Some(m) => {
                let mr = m.get_ref();
                let kind = parse_metric_kind(mr.kind.get_ref(), modality)
                    .map_err(|e| err(mr.kind.span(), "metric.kind", e))?;
                let band = |b: &Option<Spanned<[f64; 2]>>, key: &str| -> Result<Option<[f64; 2]>> {
                    match b {
                        None => Ok(None),
                        Some(s) => {
                            let [lo, hi] = *s.get_ref();
                            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                                return Err(err(
                                    s.span(),
                                    key,
                                    format!("band [{lo}, {hi}] must be finite with lo ≤ hi"),
                                ));
                            }
                            Ok(Some([lo, hi]))
                        }
                    }
                };
                let mild = band(&mr.mild, "metric.mild")?;
                let severe = band(&mr.severe, "metric.severe")?;
                if mild.is_none() && severe.is_none() {
                    return Err(err(
                        m.span(),
                        "metric",
                        "give a band for `mild` and/or `severe`".into(),
                    ));
                }
                let max_tries = match &mr.max_tries {
                    None => 8,
                    Some(t) if (1..=100).contains(t.get_ref()) => *t.get_ref() as u32,
                    Some(t) => {
                        return Err(err(
                            t.span(),
                            "metric.max_tries",
                            format!("{} is out of range [1, 100]", t.get_ref()),
                        ))
                    }
                };
                Some(MetricBand {
                    kind,
                    mild,
                    severe,
                    max_tries,
                })
            }
        };

        Ok(AttributeRecipe {
            path: path.to_path_buf(),
            hash: crate::content_hash(src.as_bytes()),
            name,
            modality,
            label,
            noun,
            number,
            confusable,
            region,
            description_mild: desc.mild.get_ref().clone(),
            description_severe: desc.severe.get_ref().clone(),
            grading,
            ops,
            metric,
        })
    }

    /// Quality grade of an image with this attribute at severity `s`, whose measured quality
    /// against the clean image is `measure(metric)` (SSIM, PSNR in dB or NRMSE; `None` when the
    /// metric is undefined, e.g. PSNR of an image equal to the clean one, which counts as
    /// perfect). A clean image is always good.
    pub fn grade(&self, s: Severity, measure: impl Fn(MetricKind) -> Option<f64>) -> QualityGrade {
        if s == Severity::None {
            return QualityGrade::Good;
        }
        match self.grading {
            Grading::Fixed { mild, severe } => {
                if s == Severity::Mild {
                    mild
                } else {
                    severe
                }
            }
            Grading::Measured {
                metric,
                reject,
                good,
            } => match measure(metric) {
                None => QualityGrade::Good,
                Some(v) if metric.at_least(v, good) => QualityGrade::Good,
                Some(v) if metric.at_least(v, reject) => QualityGrade::Usable,
                Some(_) => QualityGrade::Reject,
            },
        }
    }

    /// Description phrases for severity `s` (empty for `none`).
    pub fn descriptions(&self, s: Severity) -> &[String] {
        match s {
            Severity::None => &[],
            Severity::Mild => &self.description_mild,
            Severity::Severe => &self.description_severe,
        }
    }

    /// Sample concrete params for every op of the chain at severity `s` (empty for `none`).
    pub fn sample_chain(
        &self,
        s: Severity,
        rng: &mut SampleRng,
    ) -> std::result::Result<Vec<AppliedOp>, String> {
        self.sample_chain_with(s, rng, &ParamSpec::new())
    }

    /// As [`Self::sample_chain`], with `overrides` replacing the recipe's spec for every
    /// parameter an op declares (e.g. the shared ultrasound probe and scatterer seed of a slice).
    pub fn sample_chain_with(
        &self,
        s: Severity,
        rng: &mut SampleRng,
        overrides: &ParamSpec,
    ) -> std::result::Result<Vec<AppliedOp>, String> {
        let mut out = Vec::new();
        for step in &self.ops {
            if let Some(spec) = step.spec(s) {
                let mut spec = spec.clone();
                for (k, v) in &overrides.0 {
                    if step.op.info.param(k).is_some() {
                        spec.0.insert(k.clone(), v.clone());
                    }
                }
                let params = (step.op.sample)(&spec, rng).map_err(|e| e.to_string())?;
                out.push(AppliedOp {
                    op: step.op.info.name.to_string(),
                    params,
                });
            }
        }
        Ok(out)
    }
}

impl AttributeRecipe {
    /// The operators of this attribute that have no 3-D form (empty: the attribute can
    /// degrade whole volumes).
    pub fn missing_volume_forms(&self) -> Vec<&'static str> {
        self.ops
            .iter()
            .filter(|step| step.op.volume.is_none())
            .filter(|step| step.spec(Severity::Mild).is_some())
            .map(|step| step.op.info.name)
            .collect()
    }

    /// As [`Self::sample_chain`] for the 3-D forms of the operators (from the same specs): the
    /// params that [`apply_volume_chain`] applies to a whole volume. An error names the
    /// operators without a 3-D form.
    pub fn sample_volume_chain(
        &self,
        s: Severity,
        rng: &mut SampleRng,
    ) -> std::result::Result<Vec<AppliedOp>, String> {
        let missing = self.missing_volume_forms();
        if !missing.is_empty() {
            return Err(format!(
                "attribute `{}` cannot degrade a whole volume: {} {} no 3-D form",
                self.name,
                missing.join(", "),
                if missing.len() == 1 { "has" } else { "have" }
            ));
        }
        let mut out = Vec::new();
        for step in &self.ops {
            if let (Some(spec), Some(vol)) = (step.spec(s), step.op.volume) {
                let params = (vol.sample)(spec, rng).map_err(|e| e.to_string())?;
                out.push(AppliedOp {
                    op: step.op.info.name.to_string(),
                    params,
                });
            }
        }
        Ok(out)
    }
}

/// Apply a recorded chain of 3-D forms ([`AttributeRecipe::sample_volume_chain`]) to a clean
/// volume.
pub fn apply_volume_chain(
    registry: &Registry,
    chain: &[AppliedOp],
    volume: &Volume,
) -> std::result::Result<Volume, String> {
    let mut out: Option<Volume> = None;
    for step in chain {
        let entry = registry
            .get(&step.op)
            .ok_or_else(|| format!("unknown operator `{}` in recorded chain", step.op))?;
        let form = entry
            .volume
            .ok_or_else(|| format!("operator `{}` has no 3-D form", step.op))?;
        out = Some((form.apply)(&step.params, out.as_ref().unwrap_or(volume))?);
    }
    Ok(out.unwrap_or_else(|| volume.clone()))
}

/// Apply a recorded chain to a clean image (grey slice or colour photograph).
pub fn apply_chain(
    registry: &Registry,
    chain: &[AppliedOp],
    image: &Picture,
) -> std::result::Result<Picture, String> {
    let mut img = image.clone();
    for step in chain {
        let entry = registry
            .get(&step.op)
            .ok_or_else(|| format!("unknown operator `{}` in recorded chain", step.op))?;
        img = (entry.apply)(&step.params, &img)?;
    }
    Ok(img)
}

/// Apply a freshly sampled chain to a clean image, replacing each step's params by their
/// resolved form for the image that step received ([`artefact_core::Operator::resolve`]), so
/// that the record carries the derived values (replaying it gives the same bytes).
pub fn apply_chain_resolving(
    registry: &Registry,
    chain: &mut [AppliedOp],
    image: &Picture,
) -> std::result::Result<Picture, String> {
    let mut img = image.clone();
    for step in chain.iter_mut() {
        let entry = registry
            .get(&step.op)
            .ok_or_else(|| format!("unknown operator `{}` in chain", step.op))?;
        step.params = (entry.resolve)(&step.params, &img)?;
        img = (entry.apply)(&step.params, &img)?;
    }
    Ok(img)
}

fn parse_metric_kind(s: &str, modality: Modality) -> std::result::Result<MetricKind, String> {
    match s {
        "ssim" => Ok(MetricKind::Ssim),
        "psnr" => Ok(MetricKind::Psnr),
        "nrmse" => Ok(MetricKind::Nrmse),
        "delta_e2000" if modality.is_colour() => Ok(MetricKind::DeltaE2000),
        "delta_e2000" => Err(format!(
            "delta_e2000 measures colour difference; {modality} images are grey (allowed: ssim, psnr, nrmse)"
        )),
        other => Err(format!(
            "`{other}` is not allowed (allowed: ssim, psnr, nrmse{})",
            if modality.is_colour() {
                ", delta_e2000"
            } else {
                ""
            }
        )),
    }
}

fn validate_params(
    src: &str,
    path: &Path,
    key: &str,
    table: &Spanned<RawParams>,
    entry: &OpEntry,
) -> Result<ParamSpec> {
    let info = entry.info;
    let mut spec = ParamSpec::new();
    for (name, value) in table.get_ref() {
        let pkey = format!("{key}.{}", name.get_ref());
        let pinfo = info.param(name.get_ref()).ok_or_else(|| {
            let allowed: Vec<&str> = info.params.iter().map(|p| p.name).collect();
            RecipeError::new(
                path,
                format!(
                    "unknown parameter `{}` for `{}` (allowed: {})",
                    name.get_ref(),
                    info.name,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            )
            .at(src, name.span())
            .key(&pkey)
        })?;
        let v = to_spec(value.get_ref(), pinfo)
            .map_err(|m| RecipeError::new(path, m).at(src, value.span()).key(&pkey))?;
        spec = spec.with(pinfo.name, v);
    }
    for p in info.params {
        if p.default == ParamDefault::Required && spec.get(p.name).is_none() {
            return Err(RecipeError::new(
                path,
                format!(
                    "missing required parameter `{}` of `{}` ({})",
                    p.name, info.name, p.doc
                ),
            )
            .at(src, table.span())
            .key(key));
        }
    }
    Ok(spec)
}
