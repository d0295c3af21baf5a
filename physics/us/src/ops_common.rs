//! What every ultrasound operator shares: the `probe` and `seed` parameters and the render
//! with a preset probe.
//!
//! Every operator renders its input (an echogenicity map) through the engine
//! ([`crate::engine`]) with the probe preset and scatterer seed of its params, the default
//! [`Settings`] changed in one group or one [`Effect`] added; the same probe and seed with no
//! change is the clean render of `us.bmode` ([`crate::bmode::Bmode`]).

use crate::effects::Effect;
use crate::engine::simulate_bmode_with;
use crate::error::{check_range, UsError};
use crate::probe::{Probe, ProbeKind};
use crate::settings::Settings;
use artefact_core::{Image, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng};
use rand::Rng;

/// Parameters every operator shares: the probe and the scatterer seed.
pub(crate) fn sample_common(
    spec: &ParamSpec,
    rng: &mut SampleRng,
) -> Result<(ProbeKind, u64), UsError> {
    let probe: ProbeKind = spec
        .choice("probe", ProbeKind::NAMES, "linear", rng)?
        .parse()?;
    let seed = if spec.get("seed").is_some() {
        let s = spec.int("seed", 0, rng)?;
        if s < 0 {
            return Err(UsError::param("seed", format!("must be ≥ 0, got {s}")));
        }
        s as u64
    } else {
        rng.random::<u64>()
    };
    Ok((probe, seed))
}

/// Documentation row of the shared `probe` parameter.
pub(crate) const PROBE_PARAM: ParamInfo = ParamInfo {
    name: "probe",
    kind: ParamKind::Choice {
        allowed: ProbeKind::NAMES,
    },
    default: ParamDefault::Choice("linear"),
    unit: "",
    doc: "probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)",
};

/// Documentation row of the shared `seed` parameter.
pub(crate) const SEED_PARAM: ParamInfo = ParamInfo {
    name: "seed",
    kind: ParamKind::Int {
        min: 0,
        max: i64::MAX,
    },
    default: ParamDefault::Int(0),
    unit: "",
    doc: "scatterer realisation; drawn from the sample RNG when absent (fix it to pair a \
          degraded image with the clean render of us.bmode)",
};

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

/// A float from the spec, or uniform in `[lo, hi]` when the spec does not name it.
pub(crate) fn float_or_uniform(
    spec: &ParamSpec,
    name: &'static str,
    (lo, hi): (f64, f64),
    (min, max): (f64, f64),
    rng: &mut SampleRng,
) -> Result<f64, UsError> {
    let v = if spec.get(name).is_some() {
        spec.float(name, lo, rng)?
    } else {
        rng.random_range(lo..=hi)
    };
    check_range(name, v, min, max)?;
    Ok(v)
}
