//! What every ultrasound operator shares: the render with a preset probe, and sampling of a
//! parameter whose absent value is a uniform draw.
//!
//! Every operator declares a `probe` ([`ProbeKind`]) and a `seed` parameter (the scatterer
//! realisation) with its other parameters (`artefact_core::params!`) and renders its input (an echogenicity map) through the engine
//! ([`crate::engine`]) with the probe preset and scatterer seed of its params, the default
//! [`Settings`] changed in one group or one [`Effect`] added; the same probe and seed with no
//! change is the clean render of `us.bmode` ([`crate::bmode::Bmode`]).

use crate::effects::Effect;
use crate::engine::simulate_bmode_with;
use crate::error::UsError;
use crate::probe::{Probe, ProbeKind};
use crate::settings::Settings;
use artefact_core::params::FloatParam;
use artefact_core::{Image, ParamSpec, SampleRng};
use rand::Rng;

/// Render with a preset probe and effects (used by the operators).
pub(crate) fn render(
    image: &Image,
    probe: ProbeKind,
    settings: &Settings,
    effects: &[&dyn Effect],
    seed: u64,
) -> Result<Image, UsError> {
    simulate_bmode_with(image, &Probe::preset(probe), settings, effects, seed)
}

/// The declared float parameter `p` from the spec, or uniform in `[lo, hi]` when the spec does
/// not name it; checked against `p`'s declared range.
pub(crate) fn float_or_uniform(
    spec: &ParamSpec,
    p: &FloatParam,
    (lo, hi): (f64, f64),
    rng: &mut SampleRng,
) -> Result<f64, UsError> {
    let v = if spec.get(p.name).is_some() {
        spec.float(p.name, lo, rng)?
    } else {
        rng.random_range(lo..=hi)
    };
    p.check(v)?;
    Ok(v)
}
