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

/// Which kind of [`Picture`] an operator takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PictureKind {
    Grey,
    Colour,
}

impl std::fmt::Display for PictureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PictureKind::Grey => "grey",
            PictureKind::Colour => "colour",
        })
    }
}

impl From<Image> for Picture {
    fn from(i: Image) -> Picture {
        Picture::Grey(i)
    }
}

impl From<RgbImage> for Picture {
    fn from(c: RgbImage) -> Picture {
        Picture::Colour(c)
    }
}

impl Picture {
    /// Grey or colour.
    pub fn kind(&self) -> PictureKind {
        match self {
            Picture::Grey(_) => PictureKind::Grey,
            Picture::Colour(_) => PictureKind::Colour,
        }
    }

    /// The grey image, if this is one.
    pub fn as_grey(&self) -> Option<&Image> {
        match self {
            Picture::Grey(i) => Some(i),
            Picture::Colour(_) => None,
        }
    }

    /// The colour image, if this is one.
    pub fn as_colour(&self) -> Option<&RgbImage> {
        match self {
            Picture::Colour(c) => Some(c),
            Picture::Grey(_) => None,
        }
    }

    /// Whether any sample is NaN or infinite.
    pub fn has_non_finite(&self) -> bool {
        match self {
            Picture::Grey(i) => i.data.iter().any(|v| !v.is_finite()),
            Picture::Colour(c) => c.data.iter().any(|v| !v.is_finite()),
        }
    }

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
