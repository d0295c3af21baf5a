//! Operators on colour images: the two-phase operator contract of [`crate::Operator`] for
//! [`RgbImage`]s, and [`Picture`], the image a pipeline stage holds (grey or colour).
//!
//! The grey [`crate::Operator`] takes an [`crate::Image`]; photographic simulators act on
//! linear-light colour. [`ColourOperator`] is the same contract — static [`OpInfo`] (the
//! `params!` table), `sample(spec, rng) -> Params` (random), `apply(&Params, &RgbImage)`
//! (deterministic, any noise driven by a seed in the params) — with a colour image.
//! [`ColourOpVisitor`] lets a crate list its colour operators as `operators!` does for grey
//! ones, so a registry can hold both kinds side by side and dispatch on [`Picture`].

use crate::{Image, Modality, OpInfo, ParamSpec, RgbImage, SampleRng};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A two-phase operator on colour images (see the module docs).
pub trait ColourOperator {
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

    /// Apply the parameters to a clean colour image (linear light). Deterministic; pixels
    /// outside the image's field of view are left unchanged.
    fn apply(params: &Self::Params, image: &RgbImage)
        -> std::result::Result<RgbImage, Self::Error>;
}

/// Visits the colour operators of a crate (the colour counterpart of
/// [`crate::params::OpVisitor`]).
pub trait ColourOpVisitor {
    fn visit<O: ColourOperator + 'static>(&mut self);
}

/// The image a pipeline stage holds: a grey slice or a colour photograph.
#[derive(Clone, Debug, PartialEq)]
pub enum Picture {
    Grey(Image),
    Colour(RgbImage),
}

impl Picture {
    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Picture::Grey(i) => i.shape(),
            Picture::Colour(c) => c.shape(),
        }
    }

    pub fn modality(&self) -> Modality {
        match self {
            Picture::Grey(i) => i.modality,
            Picture::Colour(c) => c.modality,
        }
    }

    /// Pixel size in mm `[row, column]`.
    pub fn spacing(&self) -> [f64; 2] {
        match self {
            Picture::Grey(i) => i.spacing,
            Picture::Colour(c) => c.spacing,
        }
    }
}
