//! Shared k-space plumbing: image ↔ k-space and the phase-encode axis.

use crate::{MriError, Result};
use artefact_core::fft::{fft2c, ifft2c};
use artefact_core::{Complex32, Image};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Which array axis is phase encoded (the other one is readout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseEncode {
    /// Phase encoding along array axis 0: each k-space *row* (fixed ky) is one acquired line.
    Rows,
    /// Phase encoding along array axis 1: each k-space *column* is one acquired line.
    Cols,
}

impl PhaseEncode {
    pub const NAMES: &'static [&'static str] = &["rows", "cols"];

    /// Array axis index of the phase-encode direction.
    pub fn axis(self) -> usize {
        match self {
            PhaseEncode::Rows => 0,
            PhaseEncode::Cols => 1,
        }
    }

    /// Array axis index of the readout direction.
    pub fn readout_axis(self) -> usize {
        1 - self.axis()
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "rows" => Ok(PhaseEncode::Rows),
            "cols" => Ok(PhaseEncode::Cols),
            _ => Err(MriError::Param {
                param: "phase_encode",
                reason: format!("`{s}` is not allowed (allowed: rows, cols)"),
            }),
        }
    }
}

/// Centred orthonormal k-space of a real slice.
pub fn to_kspace(image: &Image) -> Array2<Complex32> {
    let mut k = image.data.mapv(|v| Complex32::new(v, 0.0));
    fft2c(&mut k);
    k
}

/// Inverse transform of k-space, returned as the magnitude image with `like`'s geometry.
pub fn magnitude_image(mut k: Array2<Complex32>, like: &Image) -> Result<Image> {
    ifft2c(&mut k);
    Ok(like.with_data(k.mapv(|z| z.norm()))?)
}

/// Reject inputs that no k-space simulator can handle (non-finite pixels).
pub fn check_finite(image: &Image) -> Result<()> {
    if image.data.iter().any(|v| !v.is_finite()) {
        return Err(MriError::Input(
            "image contains NaN or infinite pixels".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::{Modality, Unit};

    #[test]
    fn round_trip_is_identity_for_nonnegative_images() {
        let img = Image::new(
            Array2::from_shape_fn((17, 12), |(i, j)| ((i * 3 + j * 5) % 11) as f32),
            [1.0, 1.0],
            Modality::Mr,
            Unit::Arbitrary,
        )
        .unwrap();
        let back = magnitude_image(to_kspace(&img), &img).unwrap();
        let err = img
            .data
            .iter()
            .zip(back.data.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-4, "{err}");
    }
}
