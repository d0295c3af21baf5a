//! `us.reverberation`: multiple reflections between the probe face and a bright interface.
//!
//! Model: [`crate::effects::reverberation`] — a bright interface parallel to the probe at
//! depth `d` with amplitude reflection coefficient `R` returns echoes at `d, 2d, 3d, …` with
//! amplitudes `R^k` times a specular level. `R = 0` is the clean render (identity). Depth,
//! centre and width are uniform in the documented ranges when the spec does not name them.
//!
//! Units: depths and widths as fractions of the imaging depth / lateral field of view,
//! reflectivity as an amplitude fraction. Reference: Szabo, *Diagnostic Ultrasound Imaging:
//! Inside Out*, 2014, §10.11; Feldman et al., "US artifacts", RadioGraphics 29(4), 2009.

pub use crate::effects::reverberation::ReverberatingInterface;

use crate::error::UsError;
use crate::ops_common::{float_or_uniform, render};
use crate::probe::ProbeKind;
use crate::settings::Settings;
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng};
use serde::{Deserialize, Serialize};

/// `us.reverberation` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReverberationParams {
    pub probe: ProbeKind,
    pub seed: u64,
    pub reverberation: ReverberatingInterface,
}

artefact_core::params! {
    /// The recipe parameters of [`Reverberation`] (the table; the record is
    /// [`ReverberationParams`]). `depth`, `center` and `width` are uniform in the ranges their
    /// docs give when the spec does not name them.
    pub struct ReverberationKnobs {
        /// probe preset (7.5 MHz linear, 3.5 MHz convex, 2.5 MHz phased)
        pub probe: ProbeKind = choice(ProbeKind::Linear),
        /// scatterer realisation; drawn from the sample RNG when absent (fix it to pair a
        /// degraded image with the clean render of us.bmode)
        pub seed: u64 = seed,
        /// amplitude reflection coefficient R of the interface (0 = identity)
        pub reflectivity: f64 = float(0.7, [0.0, 0.99], "fraction"),
        /// interface depth / imaging depth (uniform in [0.05, 0.15] when absent)
        pub depth: f64 = float(0.1, [0.005, 1.0], "fraction"),
        /// lateral centre / field of view (uniform in [0.3, 0.7] when absent)
        pub center: f64 = float(0.5, [0.0, 1.0], "fraction"),
        /// lateral extent / field of view (uniform in [0.3, 0.9] when absent)
        pub width: f64 = float(0.6, [0.0, 1.0], "fraction"),
        /// largest number of echoes (the interface is the first)
        pub echoes: usize = int(10, [1, 200]),
    }
}

/// Reverberation: echoes of a bright interface repeated at multiples of its depth.
pub struct Reverberation;

static INFO: OpInfo = OpInfo {
    name: "us.reverberation",
    modality: "US",
    doc: "a bright interface parallel to the probe repeats at 2, 3, … times its depth with \
          amplitudes decaying as R^k (multiple reflections between probe face and interface)",
    params: ReverberationKnobs::PARAMS,
};

impl Operator for Reverberation {
    type Params = ReverberationParams;
    type Error = UsError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ReverberationParams, UsError> {
        type K = ReverberationKnobs;
        let probe = K::probe.sample(spec, rng)?;
        let seed = K::seed.sample(spec, rng)?;
        let reflectivity = K::reflectivity.sample(spec, rng)?;
        let depth_frac = float_or_uniform(spec, &K::depth, (0.05, 0.15), rng)?;
        let center_frac = float_or_uniform(spec, &K::center, (0.3, 0.7), rng)?;
        let width_frac = float_or_uniform(spec, &K::width, (0.3, 0.9), rng)?;
        let max_echoes = K::echoes.sample(spec, rng)?;
        Ok(ReverberationParams {
            probe,
            seed,
            reverberation: ReverberatingInterface {
                depth_frac,
                center_frac,
                width_frac,
                reflectivity,
                max_echoes,
            },
        })
    }

    fn apply(p: &ReverberationParams, image: &Image) -> Result<Image, UsError> {
        type K = ReverberationKnobs;
        let rv = &p.reverberation;
        K::reflectivity.check(rv.reflectivity)?;
        K::depth.check(rv.depth_frac)?;
        K::center.check(rv.center_frac)?;
        K::width.check(rv.width_frac)?;
        K::echoes.check(rv.max_echoes)?;
        render(
            image,
            p.probe,
            &Settings::default(),
            &[&p.reverberation],
            p.seed,
        )
    }
}
