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
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng, Volume, VolumeOperator};
use ndarray::{Array2, Array3, Axis};

artefact_core::params! {
    /// Parameters of [`Wraparound`].
    pub struct WraparoundParams {
        /// phase-encode axis (the axis that folds over)
        pub phase_encode: PhaseEncode = choice(PhaseEncode::Rows),
        /// phase-encode FOV relative to the input extent (1 = no wrap)
        pub fov_fraction: f64 = float(0.8, [0.25, 1.0], "fraction"),
        /// shift of the FOV centre along phase encode, as a fraction of the input extent
        pub fov_offset: f64 = float(0.0, [-0.25, 0.25], "fraction"),
    }
}

/// Phase-encode wrap-around (fold-over) aliasing.
pub struct Wraparound;

static INFO: OpInfo = OpInfo {
    name: "mri.wraparound",
    modality: "MR",
    doc: "Phase-encode field of view smaller than the object: anatomy outside the FOV folds over \
          to the opposite side (same matrix and spacing; lines outside the FOV are zero).",
    params: WraparoundParams::PARAMS,
};

impl WraparoundParams {
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
        Ok(WraparoundParams::sample(spec, rng)?)
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

/// The 3-D form: one prescribed phase-encode FOV for the whole volume (a 3-D acquisition, or a
/// multi-slice one whose slices share their FOV, as a scanner's do), folding along the
/// in-plane phase-encode axis (`rows` → array axis 1, `cols` → axis 2); every slice is folded
/// exactly as the 2-D operator folds it with the same params. Wrap along the partition (slab)
/// axis is not modelled.
impl VolumeOperator for Wraparound {
    type VolumeParams = WraparoundParams;

    fn sample_volume(spec: &ParamSpec, rng: &mut SampleRng) -> Result<WraparoundParams> {
        Self::sample(spec, rng)
    }

    fn apply_volume(params: &WraparoundParams, volume: &Volume) -> Result<Volume> {
        if volume.data.iter().any(|v| !v.is_finite()) {
            return Err(MriError::Input("volume has NaN or infinite voxels".into()));
        }
        params.validate()?;
        let axis = params.phase_encode.axis() + 1;
        let n = volume.data.len_of(Axis(axis));
        let (first, m) = params.fov_lines(n);
        if m == n && first == 0 {
            return Ok(volume.clone());
        }
        let mut out = Array3::<f32>::zeros(volume.data.dim());
        for (i, src) in volume.data.axis_iter(Axis(axis)).enumerate() {
            let pos = (i as i64 - first).rem_euclid(m as i64);
            let dst_line = first + pos;
            if !(0..n as i64).contains(&dst_line) {
                continue;
            }
            let mut dst = out.index_axis_mut(Axis(axis), dst_line as usize);
            dst.zip_mut_with(&src, |d, s| *d += s);
        }
        out.mapv_inplace(f32::abs);
        Ok(Volume::with_affine(
            out,
            volume.spacing,
            volume.affine,
            volume.modality,
            volume.unit,
        )?)
    }
}
