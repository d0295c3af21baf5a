//! Operators: parameter specs, their documentation table, and the two-phase operator trait.
//!
//! A recipe gives, per severity, a [`ParamSpec`]: a map from parameter name to a
//! [`SpecValue`] (a fixed number, a `[lo, hi]` range sampled uniformly, a bool, a string, or a
//! list of strings to choose from). An [`Operator`] documents its parameters in a static
//! [`OpInfo`] (which drives recipe validation and `artefact recipes ops`), turns a spec into
//! concrete, serialisable `Params` with a seeded RNG (`sample`), and applies them
//! deterministically (`apply`). Any noise realisation needed by `apply` is driven by a seed
//! stored in the params, so the params alone replay a sample exactly.

use crate::{CoreError, Image, Result, SampleRng, Volume};
use rand::Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One parameter's value in a recipe spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SpecValue {
    Bool(bool),
    /// A fixed number.
    Number(f64),
    /// Uniform range `[lo, hi]` (inclusive for integers).
    Range([f64; 2]),
    /// A fixed string (an enumerated choice).
    Text(String),
    /// Pick one of these strings uniformly.
    Choice(Vec<String>),
}

/// Parameter specs of one operator at one severity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParamSpec(pub BTreeMap<String, SpecValue>);

impl ParamSpec {
    pub fn new() -> Self {
        ParamSpec(BTreeMap::new())
    }

    /// Builder-style insert.
    pub fn with(mut self, name: &str, v: SpecValue) -> Self {
        self.0.insert(name.to_string(), v);
        self
    }

    pub fn get(&self, name: &str) -> Option<&SpecValue> {
        self.0.get(name)
    }

    /// Sample a float: fixed value, uniform in a range, or `default` when absent.
    pub fn float(&self, name: &str, default: f64, rng: &mut SampleRng) -> Result<f64> {
        match self.0.get(name) {
            None => Ok(default),
            Some(SpecValue::Number(v)) => finite(name, *v),
            Some(SpecValue::Range([lo, hi])) => {
                let (lo, hi) = ordered(name, *lo, *hi)?;
                Ok(if lo == hi {
                    lo
                } else {
                    rng.random_range(lo..=hi)
                })
            }
            Some(other) => Err(CoreError::spec(
                name,
                format!("expected a number or a [lo, hi] range, got {other:?}"),
            )),
        }
    }

    /// Sample an integer: fixed, uniform in an inclusive range, or `default` when absent.
    pub fn int(&self, name: &str, default: i64, rng: &mut SampleRng) -> Result<i64> {
        let whole = |v: f64| -> Result<i64> {
            if v.fract() != 0.0 || !v.is_finite() {
                Err(CoreError::spec(
                    name,
                    format!("expected an integer, got {v}"),
                ))
            } else {
                Ok(v as i64)
            }
        };
        match self.0.get(name) {
            None => Ok(default),
            Some(SpecValue::Number(v)) => whole(*v),
            Some(SpecValue::Range([lo, hi])) => {
                let (lo, hi) = (whole(*lo)?, whole(*hi)?);
                if lo > hi {
                    return Err(CoreError::spec(
                        name,
                        format!("range [{lo}, {hi}] is reversed"),
                    ));
                }
                Ok(rng.random_range(lo..=hi))
            }
            Some(other) => Err(CoreError::spec(
                name,
                format!("expected an integer or a [lo, hi] range, got {other:?}"),
            )),
        }
    }

    /// A boolean, or `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.0.get(name) {
            None => Ok(default),
            Some(SpecValue::Bool(b)) => Ok(*b),
            Some(other) => Err(CoreError::spec(
                name,
                format!("expected true or false, got {other:?}"),
            )),
        }
    }

    /// One of `allowed`: fixed, picked uniformly from a list, or `default` when absent.
    pub fn choice(
        &self,
        name: &str,
        allowed: &[&str],
        default: &str,
        rng: &mut SampleRng,
    ) -> Result<String> {
        let check = |s: &str| -> Result<String> {
            if allowed.contains(&s) {
                Ok(s.to_string())
            } else {
                Err(CoreError::spec(
                    name,
                    format!("`{s}` is not allowed (allowed: {})", allowed.join(", ")),
                ))
            }
        };
        match self.0.get(name) {
            None => check(default),
            Some(SpecValue::Text(s)) => check(s),
            Some(SpecValue::Choice(list)) if !list.is_empty() => {
                let pick = rng.random_range(0..list.len());
                check(&list[pick])
            }
            Some(other) => Err(CoreError::spec(
                name,
                format!(
                    "expected one of {} or a list of them, got {other:?}",
                    allowed.join(", ")
                ),
            )),
        }
    }
}

fn finite(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(CoreError::spec(name, format!("value {v} is not finite")))
    }
}

fn ordered(name: &str, lo: f64, hi: f64) -> Result<(f64, f64)> {
    let (lo, hi) = (finite(name, lo)?, finite(name, hi)?);
    if lo > hi {
        return Err(CoreError::spec(
            name,
            format!("range [{lo}, {hi}] is reversed"),
        ));
    }
    Ok((lo, hi))
}

/// Type and allowed values of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ParamKind {
    Float { min: f64, max: f64 },
    Int { min: i64, max: i64 },
    Bool,
    Choice { allowed: &'static [&'static str] },
}

/// Default value of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamDefault {
    Float(f64),
    Int(i64),
    Bool(bool),
    Choice(&'static str),
    /// The parameter must be given.
    Required,
    /// Drawn by the operator's `sample` when absent (e.g. a noise-realisation seed); a recipe
    /// may still fix it.
    Sampled,
}

/// Documentation of one operator parameter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ParamInfo {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: ParamDefault,
    /// Physical unit (`"mm"`, `"dB"`, `"fraction"`, `""` for dimensionless).
    pub unit: &'static str,
    pub doc: &'static str,
}

/// Documentation of one operator: drives validation, `artefact recipes ops` and the docs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OpInfo {
    /// Registry name, e.g. `"mri.motion"`.
    pub name: &'static str,
    /// Modality code the operator applies to (`"CT"`, `"MR"`, `"US"`).
    pub modality: &'static str,
    pub doc: &'static str,
    pub params: &'static [ParamInfo],
}

impl OpInfo {
    pub fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A degradation operator in two phases (random `sample`, deterministic `apply`).
pub trait Operator {
    /// Concrete parameters, recorded in the manifest and enough to replay the sample.
    type Params: Clone + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync;
    /// The crate's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Static documentation of the operator and its parameters.
    fn info() -> &'static OpInfo;

    /// Draw concrete parameters from a spec (one severity level of a recipe).
    fn sample(
        spec: &ParamSpec,
        rng: &mut SampleRng,
    ) -> std::result::Result<Self::Params, Self::Error>;

    /// Apply the parameters to a clean slice. Deterministic: same params, same bytes.
    fn apply(params: &Self::Params, image: &Image) -> std::result::Result<Image, Self::Error>;

    /// The params as they should be recorded for an application to `image`. By default they
    /// are returned unchanged; an operator whose outcome depends on the image in a way worth
    /// recording (e.g. the acceleration a sampling mask achieves on this matrix) fills those
    /// informative fields here. Applying the resolved params must give the same bytes as
    /// applying the original ones.
    fn resolve(
        params: &Self::Params,
        image: &Image,
    ) -> std::result::Result<Self::Params, Self::Error> {
        let _ = image;
        Ok(params.clone())
    }
}

/// The 3-D form of an operator whose physics acts on a whole volume: a 3-D acquisition
/// (k-space sampled over two phase-encode axes, motion with six degrees of freedom, noise and
/// receive fields over the whole field of view) rather than one slice of a multi-slice scan.
///
/// It is sampled from the **same recipe spec** as the 2-D form (so an attribute recipe needs no
/// second table) into its own params, which are recorded and replay the volume exactly; any
/// randomness of `apply_volume` is driven by a seed in those params. Listed as `Op [volume]` in
/// [`operators!`](crate::operators!).
pub trait VolumeOperator: Operator {
    type VolumeParams: Clone + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync;

    /// Draw concrete volume params from the recipe spec.
    fn sample_volume(
        spec: &ParamSpec,
        rng: &mut SampleRng,
    ) -> std::result::Result<Self::VolumeParams, Self::Error>;

    /// Apply to the whole volume; the result has the input's shape, spacing, affine and unit.
    fn apply_volume(
        params: &Self::VolumeParams,
        volume: &Volume,
    ) -> std::result::Result<Volume, Self::Error>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed;

    #[test]
    fn sampling_from_specs() {
        let spec = ParamSpec::new()
            .with("a", SpecValue::Number(2.5))
            .with("b", SpecValue::Range([1.0, 2.0]))
            .with("n", SpecValue::Range([3.0, 5.0]))
            .with("axis", SpecValue::Choice(vec!["row".into(), "col".into()]))
            .with("flag", SpecValue::Bool(true));
        let mut rng = Seed::derive(1, "t").rng();
        assert_eq!(spec.float("a", 0.0, &mut rng).unwrap(), 2.5);
        for _ in 0..100 {
            let b = spec.float("b", 0.0, &mut rng).unwrap();
            assert!((1.0..=2.0).contains(&b));
            let n = spec.int("n", 0, &mut rng).unwrap();
            assert!((3..=5).contains(&n));
            let ax = spec
                .choice("axis", &["row", "col"], "row", &mut rng)
                .unwrap();
            assert!(ax == "row" || ax == "col");
        }
        assert_eq!(spec.float("missing", 7.0, &mut rng).unwrap(), 7.0);
        assert!(spec.bool("flag", false).unwrap());
        let half = ParamSpec::new().with("h", SpecValue::Range([0.5, 2.0]));
        assert!(half.int("h", 0, &mut rng).is_err(), "0.5 is not an integer");
    }

    #[test]
    fn spec_errors_name_the_parameter() {
        let spec = ParamSpec::new()
            .with("r", SpecValue::Range([2.0, 1.0]))
            .with("c", SpecValue::Text("diagonal".into()))
            .with("i", SpecValue::Number(1.5));
        let mut rng = Seed::derive(1, "t").rng();
        let e = spec.float("r", 0.0, &mut rng).unwrap_err().to_string();
        assert!(e.contains("`r`") && e.contains("reversed"), "{e}");
        let e = spec
            .choice("c", &["row", "col"], "row", &mut rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("allowed: row, col"), "{e}");
        assert!(spec.int("i", 0, &mut rng).is_err());
    }

    #[test]
    fn spec_values_deserialize_from_plain_data() {
        // what a TOML/JSON recipe produces
        let v: ParamSpec = serde_json_like();
        assert_eq!(v.get("x"), Some(&SpecValue::Range([0.1, 0.2])));
    }

    fn serde_json_like() -> ParamSpec {
        let mut m = BTreeMap::new();
        m.insert("x".to_string(), SpecValue::Range([0.1, 0.2]));
        ParamSpec(m)
    }
}
