//! `mri.spike`: k-space spikes (herringbone / corduroy artefact).
//!
//! # Model
//! A spike is one corrupted k-space sample — an electrostatic discharge or RF burst during a
//! readout — that adds the complex value `a · max|K| · exp(iφ)` at the sample offset
//! `(oy, ox)` from the k-space centre (`max|K|` is the largest k-space magnitude of the clean
//! slice, so `a` is a relative amplitude). With `conjugate = true` the Hermitian partner
//! `conj(value)` is added at `(−oy, −ox)` as well, so the corruption is a real image-domain
//! pattern.
//!
//! In the centred orthonormal convention a single k-space sample at offset `o` is, after the
//! inverse FFT, the plane wave `v/√N · exp(2πi (oy·(m−hy)/Ny + ox·(n−hx)/Nx))`: stripes with
//! wave vector `(oy/Ny, ox/Nx)` cycles per pixel, i.e. a period of
//! `1/√((oy/Ny)² + (ox/Nx)²)` pixels (`N/|o|` along an axis) — the herringbone pattern. The
//! operator therefore adds the plane waves directly in the image domain (exactly the inverse
//! FFT of the spiked k-space, `O(N)` per spike instead of two 2-D FFTs) and returns the
//! magnitude. For a non-negative slice `max|K|` is the DC sample `Σx/√N` (triangle
//! inequality), otherwise it is found with a forward FFT.
//!
//! # References
//! - Y. Zhang et al., "Spike detection and removal in MRI", MRM 2001; TorchIO `RandomSpike`
//!   (intensity relative to the spectrum maximum), MONAI `RandKSpaceSpikeNoise`.

use crate::kspace::{check_finite, to_kspace};
use crate::{MriError, Result};
use artefact_core::{Complex32, Image, OpInfo, Operator, ParamSpec, SampleRng};
#[cfg(test)]
use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// One spike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpikeSpec {
    /// Position relative to the k-space centre as a fraction of the half-width per axis,
    /// `[rows (ky), cols (kx)]` in `[−1, 1]`; the sample offset is
    /// `o = round(position · N/2)` (clamped to the matrix), so the stripe period is `N/|o|`.
    pub position: [f64; 2],
    /// Amplitude relative to the largest k-space magnitude of the clean slice.
    pub amplitude: f64,
    /// Phase of the spike in degrees.
    pub phase_deg: f64,
}

impl SpikeSpec {
    /// Sample offset `(oy, ox)` from the k-space centre on a `shape` matrix.
    pub fn offset(&self, shape: (usize, usize)) -> [i64; 2] {
        let one = |p: f64, n: usize| -> i64 {
            let h = (n / 2) as i64;
            ((p * n as f64 / 2.0).round() as i64).clamp(-h, n as i64 - 1 - h)
        };
        [
            one(self.position[0], shape.0),
            one(self.position[1], shape.1),
        ]
    }
}

/// Parameters of [`Spike`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpikeParams {
    pub spikes: Vec<SpikeSpec>,
    /// Also add the conjugate-symmetric partner of every spike.
    pub conjugate: bool,
}

/// k-space spike (herringbone) artefact.
pub struct Spike;

artefact_core::params! {
    /// The recipe parameters of [`Spike`] (the table; the record is [`SpikeParams`], one
    /// [`SpikeSpec`] per spike, each drawing `amplitude` and `radius` from these).
    pub struct SpikeKnobs {
        /// number of spikes
        pub count: usize = int(1, [1, 16]),
        /// spike magnitude relative to max |k| (stripe amplitude ≈ amplitude × mean intensity)
        pub amplitude: f64 = float(0.05, [0.0, 10.0], "fraction"),
        /// distance of each spike from the k-space centre as a fraction of the half-width
        /// (direction uniform); small = coarse stripes, large = fine stripes
        pub radius: f64 = float(0.5, [0.0, 1.0], "fraction"),
        /// add the conjugate-symmetric partner (real stripe pattern)
        pub conjugate: bool = bool(false),
    }
}

static INFO: OpInfo = OpInfo {
    name: "mri.spike",
    modality: "MR",
    doc: "Corrupted k-space samples (spikes) of a relative amplitude: herringbone stripes with \
          period N/|offset| pixels.",
    params: SpikeKnobs::PARAMS,
};

fn perr(param: &'static str, reason: String) -> MriError {
    MriError::Param { param, reason }
}

/// Largest k-space magnitude of the slice.
pub fn max_kspace_magnitude(image: &Image) -> f64 {
    let min = image.data.iter().copied().fold(f32::INFINITY, f32::min);
    if min >= 0.0 {
        let s: f64 = image.data.iter().map(|&v| v as f64).sum();
        s / (image.data.len() as f64).sqrt()
    } else {
        to_kspace(image)
            .iter()
            .map(|z| z.norm() as f64)
            .fold(0.0, f64::max)
    }
}

/// `exp(±2πi o (m − h)/n)` for `m = 0..n`.
fn wave(n: usize, o: i64, sign: f64) -> Vec<Complex32> {
    let h = (n / 2) as f64;
    (0..n)
        .map(|m| {
            let ph = sign * 2.0 * PI * (o as f64) * (m as f64 - h) / n as f64;
            Complex32::new(ph.cos() as f32, ph.sin() as f32)
        })
        .collect()
}

/// One plane-wave term: amplitude, row factors, and the column factors split into real and
/// imaginary parts.
type SplitTerm = (Complex32, Vec<Complex32>, Vec<f32>, Vec<f32>);

impl Operator for Spike {
    type Params = SpikeParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SpikeParams> {
        let count = SpikeKnobs::count.sample(spec, rng)?;
        let conjugate = SpikeKnobs::conjugate.sample(spec, rng)?;
        let mut spikes = Vec::with_capacity(count);
        for _ in 0..count {
            let amplitude = SpikeKnobs::amplitude.sample(spec, rng)?;
            let radius = SpikeKnobs::radius.sample(spec, rng)?;
            let theta = rng.random_range(0.0..2.0 * PI);
            let position = [radius * theta.cos(), radius * theta.sin()];
            spikes.push(SpikeSpec {
                position,
                amplitude,
                phase_deg: rng.random_range(-180.0..180.0),
            });
        }
        Ok(SpikeParams { spikes, conjugate })
    }

    fn apply(params: &SpikeParams, image: &Image) -> Result<Image> {
        check_finite(image)?;
        let (n0, n1) = image.shape();
        for s in &params.spikes {
            if !(s.amplitude.is_finite() && s.amplitude >= 0.0) {
                return Err(perr(
                    "amplitude",
                    format!("{} must be finite and ≥ 0", s.amplitude),
                ));
            }
            if !s.phase_deg.is_finite() {
                return Err(perr("phase_deg", "not finite".into()));
            }
            if !s.position.iter().all(|p| p.is_finite() && p.abs() <= 1.0) {
                return Err(perr(
                    "position",
                    format!("{:?} must lie in [−1, 1] per axis", s.position),
                ));
            }
        }
        if params.spikes.iter().all(|s| s.amplitude == 0.0) {
            return Ok(image.clone());
        }
        let kmax = max_kspace_magnitude(image);
        let norm = 1.0 / ((n0 * n1) as f64).sqrt();
        // every term's row and column waves, in the order they are added
        let mut terms: Vec<(Complex32, Vec<Complex32>, Vec<Complex32>)> = Vec::new();
        for s in &params.spikes {
            let v = Complex32::from_polar(
                (s.amplitude * kmax * norm) as f32,
                s.phase_deg.to_radians() as f32,
            );
            let mut signs = vec![(v, 1.0)];
            if params.conjugate {
                signs.push((v.conj(), -1.0));
            }
            for (v, sign) in signs {
                let o = s.offset((n0, n1));
                terms.push((v, wave(n0, o[0], sign), wave(n1, o[1], sign)));
            }
        }
        // row by row: z = x + Σ_terms v·wr·wc (same additions in the same order), then |z|
        // split complex rows (re, im) so the per-term update vectorises; the arithmetic is
        // the same as `z += (v·wr[i])·wc[j]` on `Complex32`, in the same order
        let terms: Vec<SplitTerm> = terms
            .into_iter()
            .map(|(v, wr, wc)| {
                let (cr, ci) = wc.iter().map(|c| (c.re, c.im)).unzip();
                (v, wr, cr, ci)
            })
            .collect();
        let mut out = image.data.as_standard_layout().into_owned();
        let (mut re, mut im) = (vec![0f32; n1], vec![0f32; n1]);
        for (i, row) in out
            .as_slice_mut()
            .expect("standard layout")
            .chunks_exact_mut(n1)
            .enumerate()
        {
            re.copy_from_slice(row);
            im.fill(0.0);
            for (v, wr, cr, ci) in &terms {
                let vr = v * wr[i];
                let (a, b) = (vr.re, vr.im);
                for (((r, m), &c), &d) in re.iter_mut().zip(im.iter_mut()).zip(cr).zip(ci) {
                    *r += a * c - b * d;
                    *m += a * d + b * c;
                }
            }
            for ((o, &r), &m) in row.iter_mut().zip(&re).zip(&im) {
                *o = crate::kspace::abs_c(Complex32::new(r, m));
            }
        }
        Ok(image.with_data(out)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::{Modality, Unit};

    /// The previous whole-array implementation: complex copy, add every term, `|z|`.
    fn apply_slow(params: &SpikeParams, image: &Image) -> Image {
        let (n0, n1) = image.shape();
        let kmax = max_kspace_magnitude(image);
        let norm = 1.0 / ((n0 * n1) as f64).sqrt();
        let mut x: Array2<Complex32> = image.data.mapv(|v| Complex32::new(v, 0.0));
        for s in &params.spikes {
            let v = Complex32::from_polar(
                (s.amplitude * kmax * norm) as f32,
                s.phase_deg.to_radians() as f32,
            );
            let mut terms = vec![(v, 1.0)];
            if params.conjugate {
                terms.push((v.conj(), -1.0));
            }
            for (v, sign) in terms {
                let o = s.offset((n0, n1));
                let (wr, wc) = (wave(n0, o[0], sign), wave(n1, o[1], sign));
                for (mut row, r) in x.rows_mut().into_iter().zip(wr.iter()) {
                    let vr = v * r;
                    row.iter_mut()
                        .zip(wc.iter())
                        .for_each(|(z, c)| *z += vr * c);
                }
            }
        }
        image.with_data(x.mapv(|z| z.norm())).unwrap()
    }

    #[test]
    fn row_wise_apply_gives_the_whole_array_bytes() {
        let img = Image::new(
            Array2::from_shape_fn((33, 40), |(i, j)| ((i * 5 + j * 3) % 11) as f32 - 2.0),
            [1.0, 1.0],
            Modality::Mr,
            Unit::Arbitrary,
        )
        .unwrap();
        for conjugate in [false, true] {
            let p = SpikeParams {
                spikes: vec![
                    SpikeSpec {
                        position: [0.3, -0.2],
                        amplitude: 0.1,
                        phase_deg: 30.0,
                    },
                    SpikeSpec {
                        position: [-0.45, 0.1],
                        amplitude: 0.4,
                        phase_deg: -75.0,
                    },
                ],
                conjugate,
            };
            assert_eq!(Spike::apply(&p, &img).unwrap(), apply_slow(&p, &img));
        }
    }
}
