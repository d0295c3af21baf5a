//! artefact-us: ultrasound B-mode simulation from an echogenicity map, and its degradations.
//!
//! # Model
//! An echogenicity map (an [`artefact_core::Image`] with values in `[0, 1]`; derive one from any
//! grey image with [`echogenicity_from_grey`]) is imaged by a simulated probe:
//!
//! 1. **Scatterers** ([`scatterers`]): a uniform 2-D Poisson field, ≥ 10 per resolution cell
//!    (default 16), amplitudes Rayleigh (default) or Gaussian scaled by the echogenicity at their
//!    position ([`echogenicity::echo_to_amplitude`]).
//! 2. **PSF and RF** ([`psf`], [`beam_grid`], [`rf`]): separable pulse-echo PSF — axial Gaussian-modulated
//!    pulse at `fc` with fractional bandwidth `B`, lateral Gaussian beam of −6 dB width `λ·F#`
//!    — convolved with the scatterers on the (r, θ) beam grid. The fast path computes the
//!    complex baseband (IQ) signal, whose modulus equals the Hilbert envelope of the RF; the
//!    true RF at ≥ 8·fc sampling plus a Hilbert transform is kept as a reference path and
//!    tested to agree.
//! 3. **Envelope and log compression** ([`envelope`]): `|analytic signal|`, then
//!    `clip(1 + (20·log10(env) + gain)/DR, 0, 1)` with dynamic range `DR` (60 dB).
//! 4. **Scan conversion** ([`scan_conversion`], [`geometry`]): linear, convex (radius) and
//!    phased (sector) probes ([`probe`] presets: 7.5 MHz linear, 3.5 MHz convex, 2.5 MHz
//!    phased); beams are scan-converted to the input's pixel grid by bilinear interpolation,
//!    outside the field of view is black.
//!
//! [`simulate_bmode`] (the `us.bmode` operator) is the clean render; the operators change one
//! group of [`Settings`] or add one [`effects::Effect`] each and render through the same path,
//! so the clean and degraded images of one source with one seed share the scatterer
//! realisation, and zero strength is byte-exact identity. [`BmodePlan`] plans a probe, frame
//! and settings once (beam grid, scan-conversion table) to render many images.
//!
//! # Layers
//! Files depend only on files of the layers above them (no import cycle; checked for every
//! crate by the workspace test `tests/import_cycles.rs`):
//!
//! 1. ground: [`error`], [`probe`], [`psf`], [`geometry`], [`envelope`], [`echogenicity`];
//! 2. [`scatterers`], [`scan_conversion`], [`settings`];
//! 3. [`beam_grid`]: the beam grid and the echo primitives (point and line echoes);
//! 4. [`effects`]: the effect hook trait and its models ([`effects::shadows`],
//!    [`effects::clutter`], [`effects::reverberation`], [`effects::tgc`]);
//! 5. the engine: [`rf`] (IQ formation, effects as hooks) and [`engine`] (plans, envelope, log
//!    compression, scan conversion) — it never names an effect model or an operator;
//! 6. operators: [`ops_common`] (probe and seed) and one file per operator.
//!
//! # Operators ([`artefact_core::Operator`])
//! | name | type | degradation |
//! |---|---|---|
//! | `us.bmode` | [`bmode::Bmode`] | none: the clean render |
//! | `us.speckle` | [`speckle::Speckle`] | scatterer density below fully developed (K-distributed speckle) |
//! | `us.attenuation` | [`attenuation::Attenuation`] | depth attenuation with wrong or missing TGC |
//! | `us.gain` | [`gain::Gain`] | gain too low / too high |
//! | `us.shadowing` | [`shadowing::Shadowing`] | acoustic shadows below strong reflectors |
//! | `us.reverberation` | [`reverberation::Reverberation`] | echoes of a bright interface at multiples of its depth |
//! | `us.low_resolution` | [`low_resolution::LowResolution`] | lower fc / wider beam |
//! | `us.haze` | [`haze::Haze`] | clutter / haze |
//!
//! Input of every operator: an echogenicity map; output: a log-compressed B-mode image in
//! `[0, 1]` (`Unit::Echogenicity`, `Modality::Us`) of the same rows × columns, whose spacing is
//! the simulated field of view's pixel size in mm.
//!
//! # Units
//! Lengths mm, frequencies MHz, speed of sound 1540 m/s, attenuation dB/cm/MHz (one way),
//! gains and losses dB, angles degrees in presets (radians internally).
//!
//! # References
//! - R. F. Wagner et al., "Statistics of speckle in ultrasound B-scans", IEEE Trans. Sonics
//!   Ultrason. 30(3), 1983 (Rayleigh speckle, mean/std = 1.91).
//! - J. C. Bamber, R. J. Dickinson, "Ultrasonic B-scanning: a computer simulation", Phys. Med.
//!   Biol. 25(3), 1980; J. A. Jensen, "A model for the propagation and scattering of ultrasound
//!   in tissue", JASA 89(1), 1991 (convolution model).
//! - H. Gao et al., "A fast convolution-based methodology to simulate 2-D/3-D cardiac
//!   ultrasound images", IEEE TUFFC 56(2), 2009 (COLE).
//! - T. L. Szabo, *Diagnostic Ultrasound Imaging: Inside Out*, 2nd ed., 2014.
//! - D. Garcia, "SIMUS: an open-source simulator for medical ultrasound imaging",
//!   Comput. Methods Programs Biomed. 218, 2022 (the `pymust` peer used in `bench/us`).

// `deny`, not `forbid`: ndarray's `s!` expands to `#[allow(unsafe_code)]`; no unsafe code here.
#![deny(unsafe_code)]

pub mod attenuation;
pub mod beam_grid;
pub mod bmode;
pub mod echogenicity;
pub mod effects;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod gain;
pub mod geometry;
pub mod haze;
pub mod low_resolution;
pub mod ops_common;
pub mod probe;
pub mod psf;
pub mod reverberation;
pub mod rf;
pub mod scan_conversion;
pub mod scatterers;
pub mod settings;
pub mod shadowing;
pub mod speckle;

pub use echogenicity::{
    echogenicity_from_grey, echogenicity_from_grey_default, grey_to_echogenicity,
};
pub use engine::{
    simulate_beams, simulate_beams_with, simulate_bmode, simulate_bmode_with, Beams, BmodePlan,
};
pub use error::UsError;
pub use geometry::Geometry;
pub use probe::{Probe, ProbeKind, SOUND_SPEED_M_S};
pub use psf::Psf;
pub use scatterers::AmplitudeLaw;
pub use settings::Settings;

// The operators of this crate, in registry order. Adding an operator: its module above, one
// line here (see physics/README.md).
artefact_core::operators! {
    bmode::Bmode,
    speckle::Speckle,
    attenuation::Attenuation,
    gain::Gain,
    shadowing::Shadowing,
    reverberation::Reverberation,
    low_resolution::LowResolution,
    haze::Haze,
}

pub use attenuation::Attenuation;
pub use bmode::Bmode;
pub use gain::Gain;
pub use haze::Haze;
pub use low_resolution::LowResolution;
pub use reverberation::Reverberation;
pub use shadowing::Shadowing;
pub use speckle::Speckle;

/// Result alias for this crate.
pub type Result<T, E = UsError> = std::result::Result<T, E>;
