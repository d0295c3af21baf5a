//! `mri.motion`: rigid object motion during a Cartesian acquisition.
//!
//! # Model
//! A Cartesian scan acquires one k-space line (all readout samples at one phase-encode index)
//! per repetition. The phase-encode lines are acquired in an **order** ([`PeOrdering`]):
//! `sequential` (linear, from the most negative to the most positive ky, so the k-space centre
//! is acquired half-way through the scan) or `centric` (centre-out: ky = 0, −1, +1, −2, …, so
//! the centre is acquired first and the periphery last). Line number `p` in acquisition order is
//! acquired at normalised time `t = (p + ½)/N` ∈ (0, 1).
//!
//! Motion is a list of [`MotionEvent`]s: during `start ≤ t < end` the object is displaced by a
//! rigid transform (rotation about the field-of-view centre, then translation); overlapping
//! events add their translations and angles. Each line is taken from the k-space of the object
//! in the pose it had when that line was acquired:
//! - **translation** is applied as the exact k-space phase ramp
//!   `exp(−2πi (kx·dx/Nx + ky·dy/Ny))` (shift theorem; `d` in pixels = mm / spacing);
//! - **rotation** is applied by rotating the image (band-limited three-pass Fourier shear, see
//!   [`crate::rigid`]) and transforming it. Resampling in the image domain was chosen over
//!   rotating k-space because the acquired lines are Cartesian samples of the *rotated*
//!   object's spectrum; rotating k-space would need off-grid interpolation (gridding) of the
//!   spectrum, whose errors are concentrated where the energy is (the centre), while the shear
//!   rotation is exact for band-limited images and preserves energy.
//!
//! The corrupted k-space is transformed back and the magnitude is returned.
//!
//! Physics of the result: the error lives on a subset of phase-encode lines, i.e. it is a
//! modulation along ky; in the image it is therefore spread (ghosts, blur) along the
//! **phase-encode** axis, whatever the direction of the motion, while along readout it stays
//! localised at the object's edges. Motion while the k-space centre is acquired (low spatial
//! frequencies, most of the energy) gives strong ghosts; motion during the periphery gives mild
//! edge blurring — so severity is set by displacement *and* by `onset`/`duration` together with
//! the ordering.
//!
//! A 3-D variant with 6 degrees of freedom ([`apply_volume`], reachable from tests and
//! benches) lives in [`crate::motion_volume`] and is re-exported here.
//!
//! # Implementation
//! The image is real, so every FFT works on real data two lanes per complex transform
//! ([`crate::rfft`]). In 2-D the first shear runs on packed rows, the second on packed
//! adjacent column pairs gathered in batches, and the third is fused into the real 2-D
//! transform, which computes only the non-negative readout frequencies (half spectrum); each
//! line is completed from it by Hermitian symmetry, multiplied by its translation ramps and
//! (phase encode along rows) inverse transformed along readout at once, and the last inverse
//! is fused with the magnitude. In 3-D each moved volume is resampled a few planes at a time
//! straight into its readout half spectrum, transformed along the partition axis and along
//! phase encode only on the partition planes the pose supplies; its lines are completed,
//! ramped and inverse transformed along readout as they are filled, so the combined data is
//! kept in the hybrid `(kz, ky, x)` domain and the final inverse needs only the phase-encode
//! and partition passes, the last fused with the magnitude and the crop.
//! [`apply_reference`] and [`apply_volume_reference`] are the direct complex versions (on the
//! same acquisition matrix), kept and tested against (relative error < 1e-4; same bytes for
//! any rayon thread count).
//!
//! Units: translations in mm, rotations in degrees, times as fractions of the scan.
//!
//! # References
//! - M. Zaitsev, J. Maclaren, M. Herbst, "Motion artifacts in MRI: a complex problem with many
//!   partial solutions", JMRI 42(4), 2015.
//! - R. Shaw et al., "MRI k-space motion artefact augmentation: model robustness and task-specific
//!   uncertainty", MIDL 2019 (TorchIO `RandomMotion`).
//! - M. Unser, P. Thévenaz, L. Yaroslavsky, "Convolution-based interpolation for fast,
//!   high-quality rotation of images", IEEE TIP 4(10), 1995.

use crate::kspace::{check_finite, magnitude_image, PhaseEncode};
use crate::rfft::{fftc_columns, ifftc_columns_abs, ifftc_rows_abs, mirror};
use crate::rigid::{rotated_kspace, rotated_kspace_half_real, shift_phasors};
use crate::{MriError, Result};
use artefact_core::fft::{plan, Direction};
use artefact_core::{Complex32, Image, OpInfo, Operator, ParamSpec, SampleRng};
use ndarray::Axis;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

pub use crate::motion_volume::{
    apply_volume, apply_volume_reference, apply_volume_with, line_times_3d, sample_volume,
    AcquisitionMatrix, VolumeMotionEvent, VolumeMotionParams, VolumeScratch,
};

artefact_core::choice! {
    /// Order in which phase-encode lines are acquired.
    pub enum PeOrdering {
        /// Linear: most negative ky first, k-space centre at half the scan time.
        Sequential = "sequential",
        /// Centre-out: ky = 0 first, then ±1, ±2, …; the periphery is acquired last.
        Centric = "centric",
    }
}

/// Normalised acquisition time `t ∈ (0, 1)` of every phase-encode line index `0..n`.
pub fn line_times(n: usize, ordering: PeOrdering) -> Vec<f64> {
    let h = (n / 2) as i64;
    let mut order: Vec<usize> = (0..n).collect();
    if ordering == PeOrdering::Centric {
        // centre first; at equal |ky| the negative side first
        order.sort_by_key(|&i| ((i as i64 - h).abs(), i));
    }
    let mut t = vec![0.0; n];
    for (p, &i) in order.iter().enumerate() {
        t[i] = (p as f64 + 0.5) / n as f64;
    }
    t
}

/// One rigid displacement during `start ≤ t < end` (fractions of the scan time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotionEvent {
    pub start: f64,
    pub end: f64,
    /// Translation in mm along array axes `[rows, cols]`.
    pub translation_mm: [f64; 2],
    /// In-plane rotation in degrees about the field-of-view centre, from +row toward +col.
    pub rotation_deg: f64,
}

/// Parameters of [`Motion`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotionParams {
    pub phase_encode: PhaseEncode,
    pub ordering: PeOrdering,
    pub events: Vec<MotionEvent>,
}

/// Rigid in-plane motion during a 2-D Cartesian acquisition.
pub struct Motion;

artefact_core::params! {
    /// The recipe parameters of [`Motion`] (the table; the record is [`MotionParams`], one
    /// [`MotionEvent`] per event, each drawing its magnitudes and timing from these).
    pub struct MotionKnobs {
        /// phase-encode axis (rows: k-space rows are the acquired lines)
        pub phase_encode: PhaseEncode = choice(PhaseEncode::Rows),
        /// phase-encode order: sequential (centre at mid-scan) or centric (centre first)
        pub ordering: PeOrdering = choice(PeOrdering::Sequential),
        /// number of motion events (each a displaced pose held for `duration`)
        pub events: usize = int(1, [1, 8]),
        /// translation magnitude of each event (direction uniform in the plane)
        pub translation_mm: f64 = float(2.0, [0.0, 50.0], "mm"),
        /// rotation magnitude of each event (random sign)
        pub rotation_deg: f64 = float(2.0, [0.0, 45.0], "deg"),
        /// time of each event's start as a fraction of the scan (with `ordering` this sets
        /// whether the k-space centre or periphery is affected)
        pub onset: f64 = float(0.5, [0.0, 1.0], "fraction"),
        /// how long the object stays displaced, as a fraction of the scan (clipped at the end)
        pub duration: f64 = float(1.0, [0.0, 1.0], "fraction"),
    }
}

static INFO: OpInfo = OpInfo {
    name: "mri.motion",
    modality: "MR",
    doc: "Rigid in-plane motion during a Cartesian acquisition: k-space lines acquired after the \
          onset come from the moved object (translation = exact phase ramp, rotation = \
          band-limited resampling); ghosts/blur along the phase-encode axis.",
    params: MotionKnobs::PARAMS,
};

pub(crate) fn param_err(param: &'static str, reason: String) -> MriError {
    MriError::Param { param, reason }
}

pub(crate) fn check_window(start: f64, end: f64) -> Result<()> {
    let ok = start.is_finite() && end.is_finite() && (0.0..=1.0).contains(&start);
    if !(ok && (0.0..=1.0).contains(&end)) || start > end {
        return Err(param_err(
            "events",
            format!("event window [{start}, {end}] must satisfy 0 ≤ start ≤ end ≤ 1"),
        ));
    }
    Ok(())
}

/// Sample the shared event-timing and magnitude parameters.
pub(crate) fn sample_timing(spec: &ParamSpec, rng: &mut SampleRng) -> Result<(f64, f64)> {
    let onset = MotionKnobs::onset.sample(spec, rng)?;
    let duration = MotionKnobs::duration.sample(spec, rng)?;
    Ok((onset, (onset + duration).min(1.0)))
}

pub(crate) fn sample_magnitudes(
    spec: &ParamSpec,
    rng: &mut SampleRng,
) -> Result<(usize, f64, f64)> {
    let events = MotionKnobs::events.sample(spec, rng)?;
    let t = MotionKnobs::translation_mm.sample(spec, rng)?;
    let r = MotionKnobs::rotation_deg.sample(spec, rng)?;
    Ok((events, t, r))
}

impl Operator for Motion {
    type Params = MotionParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<MotionParams> {
        let phase_encode = MotionKnobs::phase_encode.sample(spec, rng)?;
        let ordering = MotionKnobs::ordering.sample(spec, rng)?;
        let (n_events, _, _) = sample_magnitudes(spec, rng)?;
        let mut events = Vec::with_capacity(n_events);
        for _ in 0..n_events {
            let (_, t, r) = sample_magnitudes(spec, rng)?;
            let (start, end) = sample_timing(spec, rng)?;
            let phi = rng.random_range(0.0..2.0 * PI);
            let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
            events.push(MotionEvent {
                start,
                end,
                translation_mm: [t * phi.cos(), t * phi.sin()],
                rotation_deg: sign * r,
            });
        }
        Ok(MotionParams {
            phase_encode,
            ordering,
            events,
        })
    }

    fn apply(params: &MotionParams, image: &Image) -> Result<Image> {
        apply_2d(params, image, true)
    }
}

/// Slow reference of [`Motion`]'s `apply`: the same model with the complex three-shear
/// rotation [`crate::rigid::rotated_kspace`] (seven complex FFT passes per rotated pose). Kept
/// to test the fast path against.
pub fn apply_reference(params: &MotionParams, image: &Image) -> Result<Image> {
    apply_2d(params, image, false)
}

fn apply_2d(params: &MotionParams, image: &Image, fast: bool) -> Result<Image> {
    check_finite(image)?;
    for e in &params.events {
        check_window(e.start, e.end)?;
        if !e.translation_mm.iter().all(|v| v.is_finite()) {
            return Err(param_err("events", "translation is not finite".into()));
        }
        if !(e.rotation_deg.is_finite() && e.rotation_deg.abs() <= 45.0) {
            return Err(param_err(
                "events",
                format!("rotation {}° is outside ±45°", e.rotation_deg),
            ));
        }
    }
    let pe = params.phase_encode.axis();
    let ro = params.phase_encode.readout_axis();
    let n_pe = image.data.len_of(Axis(pe));
    let n_ro = image.data.len_of(Axis(ro));
    let times = line_times(n_pe, params.ordering);
    // pose of every line: (translation in pixels [rows, cols], rotation in radians)
    let poses: Vec<([f64; 2], f64)> = times
        .iter()
        .map(|&t| {
            let mut tr = [0.0; 2];
            let mut rot = 0.0;
            for e in params.events.iter().filter(|e| e.start <= t && t < e.end) {
                tr[0] += e.translation_mm[0] / image.spacing[0];
                tr[1] += e.translation_mm[1] / image.spacing[1];
                rot += e.rotation_deg;
            }
            (tr, rot.to_radians())
        })
        .collect();
    if poses.iter().all(|&(t, r)| t == [0.0, 0.0] && r == 0.0) {
        return Ok(image.clone());
    }
    let mut angles: Vec<f64> = poses.iter().map(|p| p.1).collect();
    angles.sort_by(f64::total_cmp);
    angles.dedup();
    if fast {
        let mag = motion_2d_fast(image, pe, &poses, &angles);
        return Ok(image.with_data(mag)?);
    }
    let x = image.data.mapv(|v| Complex32::new(v, 0.0));
    let mut out = ndarray::Array2::<Complex32>::zeros(image.data.dim());
    let mut ramps: Vec<(u64, Vec<Complex32>)> = Vec::new();
    for &theta in &angles {
        let k = rotated_kspace(&x, theta, image.spacing);
        for (i, &(tr, rot)) in poses.iter().enumerate() {
            if rot != theta {
                continue;
            }
            let src = k.index_axis(Axis(pe), i);
            let mut dst = out.index_axis_mut(Axis(pe), i);
            if tr == [0.0, 0.0] {
                dst.assign(&src);
                continue;
            }
            let key = tr[ro].to_bits();
            let at = match ramps.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    ramps.push((key, shift_phasors(n_ro, tr[ro])));
                    ramps.len() - 1
                }
            };
            let ro_ph = &ramps[at].1;
            let ph = -2.0 * PI * (i as f64 - (n_pe / 2) as f64) * tr[pe] / n_pe as f64;
            let pe_ph = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            for ((d, s), p) in dst.iter_mut().zip(src.iter()).zip(ro_ph.iter()) {
                *d = s * p * pe_ph;
            }
        }
    }
    magnitude_image(out, image)
}

/// Fast backend of [`Motion`]: per angle the half spectrum of the rotated real image
/// ([`rotated_kspace_half_real`]); each line is completed by Hermitian symmetry and multiplied
/// by its translation ramps. With phase encode along rows the readout inverse runs on each
/// line as it is filled and the last (column) inverse is fused with the magnitude; with phase
/// encode along columns the column inverse runs first and the row inverse is fused with the
/// magnitude.
fn motion_2d_fast(
    image: &Image,
    pe: usize,
    poses: &[([f64; 2], f64)],
    angles: &[f64],
) -> ndarray::Array2<f32> {
    let (n0, n1) = image.data.dim();
    let ro = 1 - pe;
    let n_pe = [n0, n1][pe];
    let n_ro = [n0, n1][ro];
    let h1 = n1 / 2;
    let mut out = ndarray::Array2::<Complex32>::zeros((n0, n1));
    let mut ramps: Vec<(u64, Vec<Complex32>)> = Vec::new();
    let mut line = vec![Complex32::default(); n_ro];
    let ifft = plan(n_ro, Direction::Inverse);
    let mut scratch = vec![Complex32::default(); ifft.get_inplace_scratch_len()];
    let h_ro = n_ro / 2;
    let scale = 1.0 / (n_ro as f32).sqrt();
    for &theta in angles {
        let half = rotated_kspace_half_real(&image.data, theta, image.spacing);
        for (i, &(tr, rot)) in poses.iter().enumerate() {
            if rot != theta {
                continue;
            }
            let ramp = if tr != [0.0, 0.0] {
                let key = tr[ro].to_bits();
                let at = match ramps.iter().position(|(k, _)| *k == key) {
                    Some(at) => at,
                    None => {
                        ramps.push((key, shift_phasors(n_ro, tr[ro])));
                        ramps.len() - 1
                    }
                };
                let ph = -2.0 * PI * (i as f64 - (n_pe / 2) as f64) * tr[pe] / n_pe as f64;
                Some((at, Complex32::new(ph.cos() as f32, ph.sin() as f32)))
            } else {
                None
            };
            if pe == 0 {
                // line i in natural readout order (index m holds frequency f(m)) for the
                // readout inverse: f ≥ 0 directly, f < 0 from the Hermitian mirror
                let direct = half.row(i);
                let direct = direct.as_slice().expect("standard layout");
                let mirrored = half.row(mirror(i, n0));
                let mirrored = mirrored.as_slice().expect("standard layout");
                let (pos, neg) = line.split_at_mut(n_ro - h_ro);
                pos.copy_from_slice(&direct[..n_ro - h_ro]);
                for (j, d) in neg.iter_mut().enumerate() {
                    *d = mirrored[h_ro - j].conj();
                }
                if let Some((at, c)) = ramp {
                    // ramp is in centred order: frequency f at index f + h
                    let (rneg, rpos) = ramps[at].1.split_at(h_ro);
                    for (d, p) in pos.iter_mut().zip(rpos) {
                        *d = *d * p * c;
                    }
                    for (d, p) in neg.iter_mut().zip(rneg) {
                        *d = *d * p * c;
                    }
                }
                ifft.process_with_scratch(&mut line, &mut scratch);
                // fftshift into the hybrid row: natural output k to centred (k + h) mod n
                let mut dst = out.row_mut(i);
                let dst = dst.as_slice_mut().expect("standard layout");
                let (dneg, dpos) = dst.split_at_mut(h_ro);
                for (d, z) in dpos.iter_mut().zip(&line[..n_ro - h_ro]) {
                    *d = z * scale;
                }
                for (d, z) in dneg.iter_mut().zip(&line[n_ro - h_ro..]) {
                    *d = z * scale;
                }
            } else {
                // column i in centred order
                if i >= h1 {
                    line.iter_mut()
                        .zip(half.column(i - h1))
                        .for_each(|(d, v)| *d = *v);
                } else {
                    let col = half.column(h1 - i);
                    for (k0, d) in line.iter_mut().enumerate() {
                        *d = col[mirror(k0, n0)].conj();
                    }
                }
                if let Some((at, c)) = ramp {
                    for (d, p) in line.iter_mut().zip(ramps[at].1.iter()) {
                        *d = *d * p * c;
                    }
                }
                out.column_mut(i)
                    .iter_mut()
                    .zip(&line)
                    .for_each(|(d, v)| *d = *v);
            }
        }
    }
    let mut mag = ndarray::Array2::<f32>::zeros((n0, n1));
    if pe == 0 {
        ifftc_columns_abs(&out.view(), 0..n0, 0..n1, &mut mag.view_mut());
    } else {
        fftc_columns(&mut out.view_mut(), Direction::Inverse);
        ifftc_rows_abs(&out, &mut mag);
    }
    mag
}
