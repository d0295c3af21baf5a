//! The operator registry: one table of every degradation operator, type-erased.
//!
//! An [`OpEntry`] wraps an [`Operator`] (grey) or a [`ColourOperator`] so that recipes, the builder and the CLI can use it by
//! name. Parameters cross the boundary as JSON values: `sample` returns the concrete params
//! serialised (this is what manifests record), `apply` deserialises them and runs the
//! deterministic operator, so `apply(sample(..))` and a replay from the manifest are identical.
//! Images cross it as [`Picture`]s: an entry records which kind it takes ([`OpEntry::input`]),
//! and applying it to the other kind is an [`OpError::Input`], never a silent conversion.

use artefact_core::{
    ColourOpVisitor, ColourOperator, Image, OpInfo, OpVisitor, Operator, ParamDefault, ParamKind,
    ParamSpec, Picture, PictureKind, RgbImage, SampleRng, Volume, VolumeOperator,
};
use serde_json::Value;

/// The error of an operator behind the registry, with its source (the physics crate's own
/// error, e.g. `artefact_mri::MriError`, reachable through [`std::error::Error::source`] and
/// downcasting) and the operator's name.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// `sample` refused the spec.
    #[error("{op}: {source}")]
    Sample {
        op: &'static str,
        #[source]
        source: BoxError,
    },
    /// `apply` (or `resolve`) failed on this image.
    #[error("{op}: {source}")]
    Apply {
        op: &'static str,
        #[source]
        source: BoxError,
    },
    /// The params could not be turned into JSON (a bug in the operator's params type).
    #[error("cannot record params of {op}: {source}")]
    Record {
        op: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The image is not the kind (grey or colour) the operator degrades.
    #[error("{op} degrades {expected} images, but this image is {got}")]
    Input {
        op: &'static str,
        expected: PictureKind,
        got: PictureKind,
    },
    /// Recorded params do not deserialise into the operator's params type.
    #[error("params do not fit {op}: {source}")]
    Params {
        op: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// A boxed operator error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl OpError {
    /// Name of the operator that failed.
    pub fn op(&self) -> &'static str {
        match self {
            OpError::Sample { op, .. }
            | OpError::Apply { op, .. }
            | OpError::Record { op, .. }
            | OpError::Input { op, .. }
            | OpError::Params { op, .. } => op,
        }
    }
}

/// For callers that report errors as text (the message includes the operator and its source).
impl From<OpError> for String {
    fn from(e: OpError) -> String {
        e.to_string()
    }
}

/// Draw concrete params (as JSON) from a spec.
pub type SampleFn = fn(&ParamSpec, &mut SampleRng) -> Result<Value, OpError>;
/// Apply params (as JSON) to a clean image.
pub type ApplyFn = fn(&Value, &Picture) -> Result<Picture, OpError>;
/// Complete params (as JSON) with what applying them to this image derives (for the record).
pub type ResolveFn = fn(&Value, &Picture) -> Result<Value, OpError>;

/// Draw the 3-D form's params (as JSON) from the same spec.
pub type SampleVolumeFn = fn(&ParamSpec, &mut SampleRng) -> Result<Value, OpError>;
/// Apply the 3-D form's params (as JSON) to a clean volume.
pub type ApplyVolumeFn = fn(&Value, &Volume) -> Result<Volume, OpError>;

/// The 3-D form of an operator ([`VolumeOperator`]), type-erased like the 2-D one.
#[derive(Clone, Copy)]
pub struct VolumeEntry {
    pub sample: SampleVolumeFn,
    pub apply: ApplyVolumeFn,
}

/// One registered operator.
#[derive(Clone, Copy)]
pub struct OpEntry {
    pub info: &'static OpInfo,
    /// The kind of image the operator takes (and returns).
    pub input: PictureKind,
    pub sample: SampleFn,
    pub apply: ApplyFn,
    pub resolve: ResolveFn,
    /// The 3-D form, for operators whose physics acts on a whole volume.
    pub volume: Option<VolumeEntry>,
}

impl std::fmt::Debug for OpEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpEntry")
            .field("name", &self.info.name)
            .finish()
    }
}

fn sample_json<O: Operator>(spec: &ParamSpec, rng: &mut SampleRng) -> Result<Value, OpError> {
    let op = O::info().name;
    let p = O::sample(spec, rng).map_err(|e| OpError::Sample {
        op,
        source: Box::new(e),
    })?;
    serde_json::to_value(&p).map_err(|source| OpError::Record { op, source })
}

fn params_of<P: serde::de::DeserializeOwned>(
    op: &'static str,
    params: &Value,
) -> Result<P, OpError> {
    P::deserialize(params).map_err(|source| OpError::Params { op, source })
}

fn grey_of<'a>(op: &'static str, image: &'a Picture) -> Result<&'a Image, OpError> {
    image.as_grey().ok_or(OpError::Input {
        op,
        expected: PictureKind::Grey,
        got: image.kind(),
    })
}

fn colour_of<'a>(op: &'static str, image: &'a Picture) -> Result<&'a RgbImage, OpError> {
    image.as_colour().ok_or(OpError::Input {
        op,
        expected: PictureKind::Colour,
        got: image.kind(),
    })
}

fn apply_json<O: Operator>(params: &Value, image: &Picture) -> Result<Picture, OpError> {
    let op = O::info().name;
    let p: O::Params = params_of(op, params)?;
    O::apply(&p, grey_of(op, image)?)
        .map(Picture::Grey)
        .map_err(|e| OpError::Apply {
            op,
            source: Box::new(e),
        })
}

fn resolve_json<O: Operator>(params: &Value, image: &Picture) -> Result<Value, OpError> {
    let op = O::info().name;
    let p: O::Params = params_of(op, params)?;
    let r = O::resolve(&p, grey_of(op, image)?).map_err(|e| OpError::Apply {
        op,
        source: Box::new(e),
    })?;
    serde_json::to_value(&r).map_err(|source| OpError::Record { op, source })
}

fn sample_colour_json<O: ColourOperator>(
    spec: &ParamSpec,
    rng: &mut SampleRng,
) -> Result<Value, OpError> {
    let op = O::info().name;
    let p = O::sample(spec, rng).map_err(|e| OpError::Sample {
        op,
        source: Box::new(e),
    })?;
    serde_json::to_value(&p).map_err(|source| OpError::Record { op, source })
}

fn apply_colour_json<O: ColourOperator>(
    params: &Value,
    image: &Picture,
) -> Result<Picture, OpError> {
    let op = O::info().name;
    let p: O::Params = params_of(op, params)?;
    O::apply(&p, colour_of(op, image)?)
        .map(Picture::Colour)
        .map_err(|e| OpError::Apply {
            op,
            source: Box::new(e),
        })
}

/// Colour operators derive nothing from the image beyond their params: the record is the
/// params themselves (after checking they fit the operator and the image kind).
fn resolve_colour_json<O: ColourOperator>(
    params: &Value,
    image: &Picture,
) -> Result<Value, OpError> {
    let op = O::info().name;
    colour_of(op, image)?;
    let p: O::Params = params_of(op, params)?;
    serde_json::to_value(&p).map_err(|source| OpError::Record { op, source })
}

fn sample_volume_json<O: VolumeOperator>(
    spec: &ParamSpec,
    rng: &mut SampleRng,
) -> Result<Value, OpError> {
    let op = O::info().name;
    let p = O::sample_volume(spec, rng).map_err(|e| OpError::Sample {
        op,
        source: Box::new(e),
    })?;
    serde_json::to_value(&p).map_err(|source| OpError::Record { op, source })
}

fn apply_volume_json<O: VolumeOperator>(
    params: &Value,
    volume: &Volume,
) -> Result<Volume, OpError> {
    let op = O::info().name;
    let p: O::VolumeParams = params_of(op, params)?;
    O::apply_volume(&p, volume).map_err(|e| OpError::Apply {
        op,
        source: Box::new(e),
    })
}

impl VolumeEntry {
    /// Type-erase the 3-D form of an operator.
    pub fn of<O: VolumeOperator>() -> VolumeEntry {
        VolumeEntry {
            sample: sample_volume_json::<O>,
            apply: apply_volume_json::<O>,
        }
    }
}

impl OpEntry {
    /// Type-erase a grey operator.
    pub fn of<O: Operator>() -> OpEntry {
        OpEntry {
            info: O::info(),
            input: PictureKind::Grey,
            sample: sample_json::<O>,
            apply: apply_json::<O>,
            resolve: resolve_json::<O>,
            volume: None,
        }
    }

    /// Type-erase a colour operator.
    pub fn of_colour<O: ColourOperator>() -> OpEntry {
        OpEntry {
            info: O::info(),
            input: PictureKind::Colour,
            sample: sample_colour_json::<O>,
            apply: apply_colour_json::<O>,
            resolve: resolve_colour_json::<O>,
            volume: None,
        }
    }
}

/// Registering colour operators listed by a physics crate:
/// `artefact_photo::visit_colour_operators(&mut r)`.
impl ColourOpVisitor for Registry {
    fn visit<O: ColourOperator + 'static>(&mut self) {
        self.push(OpEntry::of_colour::<O>());
    }
}

/// Registering operators listed by a physics crate: `artefact_mri::visit_operators(&mut r)`.
impl OpVisitor for Registry {
    fn visit<O: Operator + 'static>(&mut self) {
        self.push(OpEntry::of::<O>());
    }

    fn volume<O: VolumeOperator + 'static>(&mut self) {
        self.set_volume::<O>();
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

    /// Give the registered operator `O` its 3-D form (`O` is added first if missing).
    pub fn set_volume<O: VolumeOperator + 'static>(&mut self) {
        let name = O::info().name;
        if self.get(name).is_none() {
            self.push(OpEntry::of::<O>());
        }
        if let Some(e) = self.entries.iter_mut().find(|e| e.info.name == name) {
            e.volume = Some(VolumeEntry::of::<O>());
        }
    }

    /// Add a colour operator (builder style), e.g. `Registry::builtin().with_colour::<MyOp>()`.
    pub fn with_colour<O: ColourOperator + 'static>(mut self) -> Registry {
        self.push(OpEntry::of_colour::<O>());
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
                "### `{}` ({}, {}{})\n\n{}\n\n",
                e.info.name,
                e.info.modality,
                e.input,
                if e.volume.is_some() {
                    "; also a 3-D form on whole volumes"
                } else {
                    ""
                },
                e.info.doc
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
