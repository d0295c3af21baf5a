//! The operator registry: one table of every degradation operator, type-erased.
//!
//! An [`OpEntry`] wraps an [`Operator`] so that recipes, the builder and the CLI can use it by
//! name. Parameters cross the boundary as JSON values: `sample` returns the concrete params
//! serialised (this is what manifests record), `apply` deserialises them and runs the
//! deterministic operator, so `apply(sample(..))` and a replay from the manifest are identical.

use artefact_core::{
    Image, OpInfo, OpVisitor, Operator, ParamDefault, ParamKind, ParamSpec, SampleRng,
};
use serde_json::Value;

/// Draw concrete params (as JSON) from a spec.
pub type SampleFn = fn(&ParamSpec, &mut SampleRng) -> Result<Value, String>;
/// Apply params (as JSON) to a clean slice.
pub type ApplyFn = fn(&Value, &Image) -> Result<Image, String>;
/// Complete params (as JSON) with what applying them to this image derives (for the record).
pub type ResolveFn = fn(&Value, &Image) -> Result<Value, String>;

/// One registered operator.
#[derive(Clone, Copy)]
pub struct OpEntry {
    pub info: &'static OpInfo,
    pub sample: SampleFn,
    pub apply: ApplyFn,
    pub resolve: ResolveFn,
}

impl std::fmt::Debug for OpEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpEntry")
            .field("name", &self.info.name)
            .finish()
    }
}

fn sample_json<O: Operator>(spec: &ParamSpec, rng: &mut SampleRng) -> Result<Value, String> {
    let p = O::sample(spec, rng).map_err(|e| e.to_string())?;
    serde_json::to_value(&p).map_err(|e| format!("cannot record params of {}: {e}", O::info().name))
}

fn apply_json<O: Operator>(params: &Value, image: &Image) -> Result<Image, String> {
    let p: O::Params = serde_json::from_value(params.clone())
        .map_err(|e| format!("params do not fit {}: {e}", O::info().name))?;
    O::apply(&p, image).map_err(|e| e.to_string())
}

fn resolve_json<O: Operator>(params: &Value, image: &Image) -> Result<Value, String> {
    let p: O::Params = serde_json::from_value(params.clone())
        .map_err(|e| format!("params do not fit {}: {e}", O::info().name))?;
    let r = O::resolve(&p, image).map_err(|e| e.to_string())?;
    serde_json::to_value(&r).map_err(|e| format!("cannot record params of {}: {e}", O::info().name))
}

impl OpEntry {
    /// Type-erase an operator.
    pub fn of<O: Operator>() -> OpEntry {
        OpEntry {
            info: O::info(),
            sample: sample_json::<O>,
            apply: apply_json::<O>,
            resolve: resolve_json::<O>,
        }
    }
}

/// Registering operators listed by a physics crate: `artefact_mri::visit_operators(&mut r)`.
impl OpVisitor for Registry {
    fn visit<O: Operator + 'static>(&mut self) {
        self.push(OpEntry::of::<O>());
    }
}

/// A table of operators, looked up by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: Vec<OpEntry>,
}

impl Registry {
    /// A registry of the given entries (names must be unique).
    pub fn new(entries: Vec<OpEntry>) -> Registry {
        let mut names: Vec<&str> = entries.iter().map(|e| e.info.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            entries.len(),
            "duplicate operator names in registry"
        );
        Registry { entries }
    }

    /// Add one entry.
    ///
    /// # Panics
    /// If an operator of that name is already registered (a programming error).
    pub fn push(&mut self, entry: OpEntry) {
        assert!(
            self.get(entry.info.name).is_none(),
            "duplicate operator name `{}` in registry",
            entry.info.name
        );
        self.entries.push(entry);
    }

    /// Add an operator (builder style), e.g. `Registry::builtin().with::<MyOp>()`.
    pub fn with<O: Operator + 'static>(mut self) -> Registry {
        self.push(OpEntry::of::<O>());
        self
    }

    /// Number of registered operators.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&self, name: &str) -> Option<&OpEntry> {
        self.entries.iter().find(|e| e.info.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &OpEntry> {
        self.entries.iter()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.info.name).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The registry as a Markdown table (for `artefact recipes ops` and the docs).
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        for e in &self.entries {
            s.push_str(&format!(
                "### `{}` ({})\n\n{}\n\n",
                e.info.name, e.info.modality, e.info.doc
            ));
            s.push_str("| parameter | type | allowed | default | unit | meaning |\n|---|---|---|---|---|---|\n");
            for p in e.info.params {
                s.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | {} |\n",
                    p.name,
                    kind_name(&p.kind),
                    allowed_text(&p.kind),
                    default_text(&p.default),
                    p.unit,
                    p.doc
                ));
            }
            s.push('\n');
        }
        s
    }
}

pub(crate) fn kind_name(k: &ParamKind) -> &'static str {
    match k {
        ParamKind::Float { .. } => "float",
        ParamKind::Int { .. } => "int",
        ParamKind::Bool => "bool",
        ParamKind::Choice { .. } => "choice",
    }
}

pub(crate) fn allowed_text(k: &ParamKind) -> String {
    match k {
        ParamKind::Float { min, max } => format!("[{min}, {max}]"),
        ParamKind::Int { min, max } => format!("[{min}, {max}]"),
        ParamKind::Bool => "true, false".into(),
        ParamKind::Choice { allowed } => allowed.join(", "),
    }
}

pub(crate) fn default_text(d: &ParamDefault) -> String {
    match d {
        ParamDefault::Float(v) => v.to_string(),
        ParamDefault::Int(v) => v.to_string(),
        ParamDefault::Bool(v) => v.to_string(),
        ParamDefault::Choice(v) => v.to_string(),
        ParamDefault::Required => "required".into(),
        ParamDefault::Sampled => "sampled".into(),
    }
}
