//! Shared k-space plumbing: image ↔ k-space and the phase-encode axis.

use crate::{MriError, Result};
use artefact_core::fft::{fft2c, ifft2c};
use artefact_core::{Complex32, Image};
use ndarray::Array2;

artefact_core::choice! {
    /// Which array axis is phase encoded (the other one is readout).
    pub enum PhaseEncode {
        /// Phase encoding along array axis 0: each k-space *row* (fixed ky) is one acquired line.
        Rows = "rows",
        /// Phase encoding along array axis 1: each k-space *column* is one acquired line.
        Cols = "cols",
    }
}

impl PhaseEncode {
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
}

/// Centred orthonormal k-space of a real slice.
pub fn to_kspace(image: &Image) -> Array2<Complex32> {
    let mut k = image.data.mapv(|v| Complex32::new(v, 0.0));
    fft2c(&mut k);
    k
}

/// `|z|` evaluated in f64 and rounded once to f32. glibc's `hypotf` (what `Complex32::norm`
/// calls on Linux) computes exactly this in double precision, so the value is the same, but
/// this inlines and vectorises; no overflow for finite input.
#[inline]
pub fn abs_c(z: Complex32) -> f32 {
    let (re, im) = (z.re as f64, z.im as f64);
    (re * re + im * im).sqrt() as f32
}

/// Inverse transform of k-space, returned as the magnitude image with `like`'s geometry.
pub fn magnitude_image(mut k: Array2<Complex32>, like: &Image) -> Result<Image> {
    ifft2c(&mut k);
    Ok(like.with_data(k.mapv(abs_c))?)
}

/// Whether every value is finite (branch-free over blocks, so it vectorises).
pub fn all_finite<D: ndarray::Dimension>(x: &ndarray::Array<f32, D>) -> bool {
    const EXP: u32 = 0x7f80_0000;
    let block_ok = |b: &[f32]| {
        b.iter()
            .fold(0u32, |acc, v| acc | ((v.to_bits() & EXP == EXP) as u32))
            == 0
    };
    match x.as_slice_memory_order() {
        Some(s) => s.chunks(256).all(block_ok),
        None => x.iter().all(|v| v.is_finite()),
    }
}

/// Reject inputs that no k-space simulator can handle (non-finite pixels).
pub fn check_finite(image: &Image) -> Result<()> {
    if !all_finite(&image.data) {
        return Err(MriError::Input(
            "image contains NaN or infinite pixels".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs_c_is_within_an_ulp_of_hypot_and_equal_on_glibc() {
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let re = f32::from_bits(s as u32);
            let im = f32::from_bits((s >> 32) as u32);
            if !(re.is_finite() && im.is_finite()) {
                continue;
            }
            let (a, b) = (abs_c(Complex32::new(re, im)), Complex32::new(re, im).norm());
            if cfg!(all(target_os = "linux", target_env = "gnu")) {
                assert_eq!(a.to_bits(), b.to_bits(), "{re} {im}");
            } else {
                assert!((a.to_bits() as i64 - b.to_bits() as i64).abs() <= 1);
            }
        }
    }
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
