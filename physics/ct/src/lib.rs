//! artefact-ct: CT artefacts simulated in the projection domain.
//!
//! Pipeline: HU → linear attenuation μ (mm⁻¹, `μ = μ_water·(1 + HU/1000)`) on a grid finer than
//! the reconstruction grid (no inverse crime) → line integrals (sinogram, dimensionless) →
//! corruption in the projection domain (photon statistics, view selection, detector errors,
//! polychromatic metal physics) → filtered back-projection → HU.
//!
//! Units: mm, mm⁻¹, photons per detector bin, radians internally (degrees in recipe params).
//! (Per-module model notes and references are in each module.)

pub mod corrupt_util;
pub mod error;
pub mod fast_exp;

pub mod fbp;
pub mod geometry;
pub mod memo;
pub mod phantom;
pub mod pipeline;
pub mod projector;
mod simd;
pub mod units;

pub mod limited_angle;
pub mod low_dose;
pub mod materials;
pub mod metal;
pub mod motion;
pub mod photon;
pub mod ring;
pub mod sparse_view;
pub mod spectrum;
pub mod truncation;

pub use error::CtError;

// The operators of this crate, in registry order. Adding an operator: its module above, one
// line here (see physics/README.md).
artefact_core::operators! {
    low_dose::LowDose,
    sparse_view::SparseView,
    limited_angle::LimitedAngle,
    metal::Metal,
    ring::Ring,
    truncation::Truncation,
    motion::Motion,
}

/// Result alias for this crate.
pub type Result<T, E = CtError> = std::result::Result<T, E>;
