//! `mri.wraparound`: aliasing (fold-over) from a phase-encode field of view smaller than the
//! object.
//!
//! # Model
//! Phase encoding samples k-space at `Δk = 1/FOV`; anatomy outside `FOV` is not suppressed
//! (unlike readout, where an anti-alias filter is applied), so it aliases back into the image
//! at a distance of one FOV: `y(r) = Σ_m x(r + m·FOV)` for `r` inside the field of view. The
//! prescribed FOV along phase encode is `fov_fraction × (input extent)`, keeping the pixel
//! size (resolution) fixed: the reduced matrix has `n' = round(fov_fraction · n)` lines, centred
//! on the input centre shifted by `fov_offset · n` pixels. With `n/n'` an integer `R` this is
//! exactly "acquire every R-th k-space line" (the k-space sampling view); the image-domain
//! fold used here gives the same result for any fraction.
//!
//! Output geometry (documented choice): the output keeps the input matrix and spacing, so every
//! pixel keeps its physical position. Rows (or columns) inside the reduced FOV hold the folded
//! image; the remaining lines outside the prescribed FOV were not imaged and are zero. Resampling
//! the `n'` lines back to `n` would stretch the anatomy and mix a geometric change into the
//! artefact, and periodic tiling would show duplicated anatomy that no scanner displays.
//! The input is the magnitude of a real image, so aliased copies add in magnitude (worst case,
//! no phase cancellation); the output is the magnitude.
//!
//! # References
//! - M. A. Bernstein, K. F. King, X. J. Zhou, *Handbook of MRI Pulse Sequences*, §13 (aliasing).
//! - E. M. Haacke et al., *Magnetic Resonance Imaging: Physical Principles and Sequence Design*,
//!   ch. 12 (field of view and aliasing).

use crate::kspace::{check_finite, PhaseEncode};
use crate::{MriError, Result};
use artefact_core::{
    Image, OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SampleRng,
};
use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

/// Parameters of [`Wraparound`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WraparoundParams {
    pub phase_encode: PhaseEncode,
    /// Prescribed FOV along phase encode as a fraction of the input extent, in (0, 1].
    pub fov_fraction: f64,
    /// Offset of the FOV centre along phase encode as a fraction of the input extent.
    pub fov_offset: f64,
}

/// Phase-encode wrap-around (fold-over) aliasing.
pub struct Wraparound;

static PARAMS: [ParamInfo; 3] = [
    ParamInfo {
        name: "phase_encode",
        kind: ParamKind::Choice {
            allowed: PhaseEncode::NAMES,
        },
        default: ParamDefault::Choice("rows"),
        unit: "",
        doc: "phase-encode axis (the axis that folds over)",
    },
    ParamInfo {
        name: "fov_fraction",
        kind: ParamKind::Float {
            min: 0.25,
            max: 1.0,
        },
        default: ParamDefault::Float(0.8),
        unit: "fraction",
        doc: "phase-encode FOV relative to the input extent (1 = no wrap)",
    },
    ParamInfo {
        name: "fov_offset",
        kind: ParamKind::Float {
            min: -0.25,
            max: 0.25,
        },
        default: ParamDefault::Float(0.0),
        unit: "fraction",
        doc: "shift of the FOV centre along phase encode, as a fraction of the input extent",
    },
];

static INFO: OpInfo = OpInfo {
    name: "mri.wraparound",
    modality: "MR",
    doc: "Phase-encode field of view smaller than the object: anatomy outside the FOV folds over \
          to the opposite side (same matrix and spacing; lines outside the FOV are zero).",
    params: &PARAMS,
};

fn perr(param: &'static str, reason: String) -> MriError {
    MriError::Param { param, reason }
}

impl WraparoundParams {
    fn validate(&self) -> Result<()> {
        if !(self.fov_fraction.is_finite() && self.fov_fraction > 0.0 && self.fov_fraction <= 1.0) {
            return Err(perr(
                "fov_fraction",
                format!("{} is outside (0, 1]", self.fov_fraction),
            ));
        }
        if !(self.fov_offset.is_finite() && self.fov_offset.abs() <= 0.5) {
            return Err(perr(
                "fov_offset",
                format!("{} is outside [−0.5, 0.5]", self.fov_offset),
            ));
        }
        Ok(())
    }

    /// First line and number of lines of the prescribed FOV on an axis of `n` lines (the first
    /// line may be negative or the FOV may extend past the end when offset).
    pub fn fov_lines(&self, n: usize) -> (i64, usize) {
        let m = ((self.fov_fraction * n as f64).round() as usize).clamp(1, n);
        let centre = (n / 2) as f64 + self.fov_offset * n as f64;
        let first = (centre - (m / 2) as f64).round() as i64;
        (first, m)
    }
}

impl Operator for Wraparound {
    type Params = WraparoundParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<WraparoundParams> {
        let pe = spec.choice("phase_encode", PhaseEncode::NAMES, "rows", rng)?;
        let p = WraparoundParams {
            phase_encode: PhaseEncode::parse(&pe)?,
            fov_fraction: spec.float("fov_fraction", 0.8, rng)?,
            fov_offset: spec.float("fov_offset", 0.0, rng)?,
        };
        if p.fov_fraction < 0.25 {
            return Err(perr(
                "fov_fraction",
                format!("{} is below 0.25", p.fov_fraction),
            ));
        }
        if p.fov_offset.abs() > 0.25 {
            return Err(perr(
                "fov_offset",
                format!("{} is outside ±0.25", p.fov_offset),
            ));
        }
        p.validate()?;
        Ok(p)
    }

    fn apply(params: &WraparoundParams, image: &Image) -> Result<Image> {
        check_finite(image)?;
        params.validate()?;
        let axis = params.phase_encode.axis();
        let n = image.data.len_of(Axis(axis));
        let (first, m) = params.fov_lines(n);
        if m == n && first == 0 {
            return Ok(image.clone());
        }
        let mut out = Array2::<f32>::zeros(image.data.dim());
        // every input line i lands on FOV line (i − first) mod m
        for (i, src) in image.data.axis_iter(Axis(axis)).enumerate() {
            let pos = (i as i64 - first).rem_euclid(m as i64);
            let dst_line = first + pos;
            if !(0..n as i64).contains(&dst_line) {
                continue; // FOV extends past the matrix: that part is not displayed
            }
            let mut dst = out.index_axis_mut(Axis(axis), dst_line as usize);
            dst.zip_mut_with(&src, |d, s| *d += s);
        }
        out.mapv_inplace(f32::abs);
        Ok(image.with_data(out)?)
    }
}
