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
//! A 3-D variant ([`apply_volume`]) moves a [`Volume`] with 6 degrees of freedom: lines are
//! `(ky, kz)` pairs (phase encode × partition encode, readout on the third axis), acquired
//! sequentially (partition outer loop, phase encode inner loop) or centric (elliptical
//! centre-out order by normalised k-radius); rotation by trilinear resampling, translation by
//! phase ramps; FFTs and resampling are spread over rayon with scheduling-independent results.
//!
//! # Acquisition matrix (3-D)
//! [`VolumeMotionParams::matrix`] chooses the k-space matrix of the simulated scan:
//! - `fft_friendly` (**the default**): every axis is enlarged to the next length whose prime
//!   factors are 2, 3 and 5 only (MNI 197 × 233 × 189 → 200 × 240 × 192). This is the
//!   acquisition a scanner would make: matrices are chosen FFT-friendly and the field of view
//!   (FOV) is set somewhat larger than the anatomy. The voxel size is unchanged, the added
//!   voxels are air (zero) around the object, the input's centre voxel `n/2` sits on the matrix
//!   centre `N/2` (the isocentre, about which rotations act), and the magnitude is cropped back
//!   to the input grid. The physics is that of the larger FOV: k-space line spacing is 1/FOV of
//!   the larger FOV, so ghost spacing along phase encode scales with it, translations wrap
//!   around the larger FOV (content shifted past the input's edge lands in the margin and is
//!   cropped instead of reappearing on the other side), the line timing is that of the larger
//!   number of lines, and object parts rotated out of the input grid are kept in the margin.
//!   Zero motion returns the input unchanged.
//! - `input`: the input grid is the acquisition matrix (FOV = the input's extent). Prime axis
//!   lengths such as 197 and 233 then need Rader/Bluestein FFTs, several times slower than
//!   5-smooth lengths (the whole MNI simulation about 1.5× slower).
//!
//! The two differ only where the larger FOV matters (wrap-around of translated or rotated
//! content, ghost positions at the scale of the few added voxels). Before this option existed
//! the 3-D simulator always used the input matrix; results on the default matrix differ from
//! earlier versions accordingly. The 2-D operator [`Motion`] always uses the input grid.
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
use crate::rfft::{
    all_zero, centring_half, fftc_columns, ifftc_columns_abs, ifftc_rows_abs, mirror, next_smooth,
    rfft_rows,
};
use crate::rigid::{
    par_fftc3, rotate_trilinear, rotated_kspace, rotated_kspace_half_real, rotation_matrix3,
    shift_phasors, trilinear_planes, GridMap,
};
use crate::{MriError, Result};
use artefact_core::bigbuf::{zeroed, Pool};
use artefact_core::fft::{plan, Direction};
use artefact_core::{Complex32, Image, OpInfo, Operator, ParamSpec, SampleRng, Volume};
use ndarray::{Array3, Axis};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

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

fn param_err(param: &'static str, reason: String) -> MriError {
    MriError::Param { param, reason }
}

fn check_window(start: f64, end: f64) -> Result<()> {
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
fn sample_timing(spec: &ParamSpec, rng: &mut SampleRng) -> Result<(f64, f64)> {
    let onset = MotionKnobs::onset.sample(spec, rng)?;
    let duration = MotionKnobs::duration.sample(spec, rng)?;
    Ok((onset, (onset + duration).min(1.0)))
}

fn sample_magnitudes(spec: &ParamSpec, rng: &mut SampleRng) -> Result<(usize, f64, f64)> {
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

/// One 6-DoF rigid displacement of a volume during `start ≤ t < end`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeMotionEvent {
    pub start: f64,
    pub end: f64,
    /// Translation in mm along array axes `[0, 1, 2]`.
    pub translation_mm: [f64; 3],
    /// Rotation angles in degrees about array axes `[0, 1, 2]` (see
    /// [`crate::rigid::rotation_matrix3`]), about the field-of-view centre.
    pub rotation_deg: [f64; 3],
}

/// Acquisition matrix of the simulated 3-D scan (see the module docs, "Acquisition matrix").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcquisitionMatrix {
    /// The input grid is the acquisition matrix (field of view = the input's extent).
    Input,
    /// Every axis is enlarged to the next length with prime factors 2, 3, 5 only (same voxel
    /// size, air around the object, the input centred on the scanner isocentre); the result is
    /// cropped back to the input grid. The default.
    #[default]
    FftFriendly,
}

impl AcquisitionMatrix {
    pub const NAMES: &'static [&'static str] = &["input", "fft_friendly"];

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "input" => Ok(AcquisitionMatrix::Input),
            "fft_friendly" => Ok(AcquisitionMatrix::FftFriendly),
            _ => Err(MriError::Param {
                param: "matrix",
                reason: format!("`{s}` is not allowed (allowed: input, fft_friendly)"),
            }),
        }
    }

    /// Acquisition matrix (k-space size) for an input of `n` voxels along an axis.
    pub fn size(self, n: usize) -> usize {
        match self {
            AcquisitionMatrix::Input => n,
            AcquisitionMatrix::FftFriendly => next_smooth(n),
        }
    }
}

/// Parameters of [`apply_volume`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeMotionParams {
    /// Array axis that is phase encoded (inner loop of the sequential order).
    pub phase_encode_axis: usize,
    /// Array axis that is partition (slab) encoded (outer loop of the sequential order).
    pub partition_axis: usize,
    pub ordering: PeOrdering,
    pub events: Vec<VolumeMotionEvent>,
    /// Acquisition matrix (default [`AcquisitionMatrix::FftFriendly`]).
    #[serde(default)]
    pub matrix: AcquisitionMatrix,
}

/// Normalised acquisition time of every `(phase-encode index, partition index)` line.
pub fn line_times_3d(n_pe: usize, n_par: usize, ordering: PeOrdering) -> ndarray::Array2<f64> {
    let total = n_pe * n_par;
    let mut order: Vec<(usize, usize)> = (0..n_par)
        .flat_map(|z| (0..n_pe).map(move |y| (y, z)))
        .collect();
    if ordering == PeOrdering::Centric {
        let (hy, hz) = ((n_pe / 2) as f64, (n_par / 2) as f64);
        let r2 = |&(y, z): &(usize, usize)| {
            ((y as f64 - hy) / n_pe as f64).powi(2) + ((z as f64 - hz) / n_par as f64).powi(2)
        };
        order.sort_by(|a, b| {
            r2(a)
                .total_cmp(&r2(b))
                .then(a.1.cmp(&b.1))
                .then(a.0.cmp(&b.0))
        });
    }
    let mut t = ndarray::Array2::<f64>::zeros((n_pe, n_par));
    for (p, &(y, z)) in order.iter().enumerate() {
        t[[y, z]] = (p as f64 + 0.5) / total as f64;
    }
    t
}

/// Sample [`VolumeMotionParams`] from the same spec keys as [`Motion`] plus
/// `phase_encode_axis` (default 1), `partition_axis` (default 0) and `matrix` (`input` or
/// `fft_friendly`, default `fft_friendly`). Translation directions are
/// uniform on the sphere; rotation angles are `r·u` for a random unit axis `u`.
pub fn sample_volume(spec: &ParamSpec, rng: &mut SampleRng) -> Result<VolumeMotionParams> {
    let pe = spec.int("phase_encode_axis", 1, rng)?;
    let par = spec.int("partition_axis", 0, rng)?;
    let ord = spec.choice("ordering", PeOrdering::NAMES, "sequential", rng)?;
    let matrix = spec.choice("matrix", AcquisitionMatrix::NAMES, "fft_friendly", rng)?;
    let (n_events, _, _) = sample_magnitudes(spec, rng)?;
    let mut events = Vec::with_capacity(n_events);
    let unit = |rng: &mut SampleRng| -> [f64; 3] {
        let z: f64 = rng.random_range(-1.0..=1.0);
        let phi = rng.random_range(0.0..2.0 * PI);
        let s = (1.0 - z * z).max(0.0).sqrt();
        [z, s * phi.cos(), s * phi.sin()]
    };
    for _ in 0..n_events {
        let (_, t, r) = sample_magnitudes(spec, rng)?;
        let (start, end) = sample_timing(spec, rng)?;
        let u = unit(rng);
        let v = unit(rng);
        events.push(VolumeMotionEvent {
            start,
            end,
            translation_mm: [t * u[0], t * u[1], t * u[2]],
            rotation_deg: [r * v[0], r * v[1], r * v[2]],
        });
    }
    let p = VolumeMotionParams {
        phase_encode_axis: pe.clamp(0, 9) as usize,
        partition_axis: par.clamp(0, 9) as usize,
        ordering: PeOrdering::parse(&ord)?,
        events,
        matrix: AcquisitionMatrix::parse(&matrix)?,
    };
    check_axes(&p)?;
    Ok(p)
}

fn check_axes(p: &VolumeMotionParams) -> Result<usize> {
    let (a, b) = (p.phase_encode_axis, p.partition_axis);
    if a > 2 || b > 2 || a == b {
        return Err(param_err(
            "phase_encode_axis",
            format!("phase-encode axis {a} and partition axis {b} must be distinct axes in 0..=2"),
        ));
    }
    Ok(3 - a - b)
}

/// 3-D rigid (6-DoF) motion during a 3-D Cartesian acquisition on the acquisition matrix
/// `params.matrix` (see the module docs).
///
/// Fast path: per rotation, the real moved volume is transformed along readout two lanes per
/// complex FFT (non-negative readout frequencies only), then along the partition axis, and
/// along the phase-encode axis only for the partition planes whose lines this pose supplies
/// (or their Hermitian mirrors); the other half of each line follows from Hermitian symmetry.
/// Lines are accumulated after their readout inverse (hybrid domain), so the final inverse has
/// two passes. [`apply_volume_reference`] is the straightforward version it is tested against.
pub fn apply_volume(params: &VolumeMotionParams, vol: &Volume) -> Result<Volume> {
    apply_volume_impl(params, vol, true)
}

/// Slow reference of [`apply_volume`]: the volume placed on the same acquisition matrix, one
/// full complex 3-D FFT per rotation (with [`crate::rigid::rotate_trilinear`]), one full
/// inverse, magnitude cropped to the input grid.
pub fn apply_volume_reference(params: &VolumeMotionParams, vol: &Volume) -> Result<Volume> {
    apply_volume_impl(params, vol, false)
}

type Pose3 = ([f64; 3], [f64; 3]);

fn apply_volume_impl(params: &VolumeMotionParams, vol: &Volume, fast: bool) -> Result<Volume> {
    let ro = check_axes(params)?;
    let finite = match vol.data.as_slice() {
        // exponent bits all set marks inf and NaN; OR-reduced over planes-sized chunks (this
        // vectorises, unlike a short-circuiting `any`)
        Some(s) => s.par_chunks(1 << 16).all(|c| {
            c.iter().fold(0u32, |acc, v| {
                acc | (!v.to_bits() & 0x7f80_0000 == 0) as u32
            }) == 0
        }),
        None => vol.data.iter().all(|v| v.is_finite()),
    };
    if !finite {
        return Err(MriError::Input(
            "volume contains NaN or infinite voxels".into(),
        ));
    }
    for e in &params.events {
        check_window(e.start, e.end)?;
        if !e
            .translation_mm
            .iter()
            .chain(e.rotation_deg.iter())
            .all(|v| v.is_finite())
        {
            return Err(param_err(
                "events",
                "translation/rotation is not finite".into(),
            ));
        }
        if e.rotation_deg.iter().any(|r| r.abs() > 45.0) {
            return Err(param_err(
                "events",
                "rotation angles must be within ±45°".into(),
            ));
        }
    }
    let (pe, par) = (params.phase_encode_axis, params.partition_axis);
    let in_dims = [
        vol.data.len_of(Axis(0)),
        vol.data.len_of(Axis(1)),
        vol.data.len_of(Axis(2)),
    ];
    // acquisition matrix; the input sits at `offset` so that its centre voxel n/2 is the
    // matrix centre N/2 (the rotation centre and k-space origin stay on the same voxel)
    let dims = in_dims.map(|n| params.matrix.size(n));
    let offset = [0, 1, 2].map(|a| dims[a] / 2 - in_dims[a] / 2);
    let times = line_times_3d(dims[pe], dims[par], params.ordering);
    // pose per (pe, par) line: translation in voxels [3], angles in degrees [3]
    let pose_at = |t: f64| -> Pose3 {
        let mut tr = [0.0; 3];
        let mut rot = [0.0; 3];
        for e in params.events.iter().filter(|e| e.start <= t && t < e.end) {
            for a in 0..3 {
                tr[a] += e.translation_mm[a] / vol.spacing[a];
                rot[a] += e.rotation_deg[a];
            }
        }
        (tr, rot)
    };
    let poses = times.mapv(pose_at);
    if poses.iter().all(|(t, r)| *t == [0.0; 3] && *r == [0.0; 3]) {
        return Ok(vol.clone());
    }
    let mut rotations: Vec<[f64; 3]> = poses.iter().map(|p| p.1).collect();
    rotations.sort_by(|a, b| {
        a[0].total_cmp(&b[0])
            .then(a[1].total_cmp(&b[1]))
            .then(a[2].total_cmp(&b[2]))
    });
    rotations.dedup();
    let data = if fast {
        volume_fast(vol, [pe, par, ro], dims, offset, &poses, &rotations)
    } else {
        let crop = ndarray::s![
            offset[0]..offset[0] + in_dims[0],
            offset[1]..offset[1] + in_dims[1],
            offset[2]..offset[2] + in_dims[2]
        ];
        let padded = if dims == in_dims {
            vol.clone()
        } else {
            let mut x = Array3::<f32>::zeros((dims[0], dims[1], dims[2]));
            x.slice_mut(crop).assign(&vol.data);
            Volume::with_affine(x, vol.spacing, vol.affine, vol.modality, vol.unit)?
        };
        let out = volume_reference(&padded, [pe, par, ro], dims, &poses, &rotations)?;
        out.slice(crop).to_owned()
    };
    Ok(Volume::with_affine(
        data,
        vol.spacing,
        vol.affine,
        vol.modality,
        vol.unit,
    )?)
}

fn volume_reference(
    vol: &Volume,
    [pe, par, ro]: [usize; 3],
    dims: [usize; 3],
    poses: &ndarray::Array2<Pose3>,
    rotations: &[[f64; 3]],
) -> Result<Array3<f32>> {
    let phasors: [Vec<f64>; 2] = [pe, par].map(|a| {
        // frequency (k − h)/n of each index along axis a, times −2π
        let n = dims[a];
        let h = (n / 2) as f64;
        (0..n)
            .map(|k| -2.0 * PI * (k as f64 - h) / n as f64)
            .collect()
    });
    let mut out = Array3::<Complex32>::zeros(vol.data.dim());
    for rot in rotations {
        let moved = if *rot == [0.0; 3] {
            None
        } else {
            let r = rotation_matrix3(rot.map(f64::to_radians));
            Some(rotate_trilinear(&vol.data, r, vol.spacing))
        };
        let src = moved.as_ref().unwrap_or(&vol.data);
        let mut k = to_complex_par(src);
        par_fftc3(&mut k, &[2, 1, 0], Direction::Forward);
        // copy this rotation's lines (lanes along readout) with their translation ramps
        let dst_lanes: Vec<_> = out.lanes_mut(Axis(ro)).into_iter().collect();
        let src_lanes: Vec<_> = k.lanes(Axis(ro)).into_iter().collect();
        let (lo_axis, hi_axis) = if pe < par { (pe, par) } else { (par, pe) };
        let n_hi = dims[hi_axis];
        let n_ro = dims[ro];
        // readout phase ramps of the distinct translations of this rotation group
        let mut shifts: Vec<f64> = poses
            .iter()
            .filter(|p| p.1 == *rot)
            .map(|p| p.0[ro])
            .collect();
        shifts.sort_by(f64::total_cmp);
        shifts.dedup();
        let ramps: Vec<Vec<Complex32>> = shifts.iter().map(|&s| shift_phasors(n_ro, s)).collect();
        dst_lanes
            .into_par_iter()
            .zip(src_lanes.into_par_iter())
            .enumerate()
            .for_each(|(idx, (mut d, s))| {
                let (i_lo, i_hi) = (idx / n_hi, idx % n_hi);
                let mut ix = [0usize; 3];
                ix[lo_axis] = i_lo;
                ix[hi_axis] = i_hi;
                let (tr, r) = poses[[ix[pe], ix[par]]];
                if r != *rot {
                    return;
                }
                if tr == [0.0; 3] {
                    d.assign(&s);
                    return;
                }
                let c = phasors[0][ix[pe]] * tr[pe] + phasors[1][ix[par]] * tr[par];
                let c = Complex32::new(c.cos() as f32, c.sin() as f32);
                let which = shifts.partition_point(|&v| v < tr[ro]);
                let ramp = &ramps[which];
                for ((dv, sv), p) in d.iter_mut().zip(s.iter()).zip(ramp.iter()) {
                    *dv = sv * p * c;
                }
            });
    }
    par_fftc3(&mut out, &[2, 1, 0], Direction::Inverse);
    let mag: Vec<f32> = out
        .as_slice()
        .expect("standard layout")
        .par_iter()
        .map(|z| z.norm())
        .collect();
    let data = Array3::from_shape_vec(vol.data.dim(), mag)
        .map_err(|e| MriError::Input(format!("shape error: {e}")))?;
    Ok(data)
}

thread_local! {
    /// Per-thread buffer of the moved planes resampled together in [`volume_fast`].
    static PLANE_BUF: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Work arrays of [`apply_volume`] kept between calls (see [`release_scratch`]).
static SCRATCH: Pool<Complex32> = Pool::new(2);
static SCRATCH_REAL: Pool<f32> = Pool::new(1);

/// Frees the work arrays [`apply_volume`] keeps for its next call (two complex arrays of the
/// acquisition matrix, 12 bytes per matrix voxel, and a copy of the object's bounding box:
/// about 125 MB for the MNI volume). Calls after
/// this allocate them again.
pub fn release_scratch() {
    SCRATCH.clear();
    SCRATCH_REAL.clear();
}

/// Fast backend of [`apply_volume`] (see its docs). Works on the acquisition matrix `dims`
/// (the input sits at `offset`) in the `(partition, phase-encode, readout)` axis order; every
/// parallel step writes disjoint lanes or planes, so the bytes do not depend on the thread
/// count.
///
/// Per rotation: each plane of the moved volume is resampled (or copied) into a buffer and
/// transformed along readout at once (real rows two per complex FFT, non-negative
/// frequencies); then the partition axis for every lane, the phase-encode axis only on the
/// planes the pose needs (directly or as Hermitian mirrors). The pose's lines are completed by
/// Hermitian symmetry, multiplied by their translation ramps and inverse transformed along
/// readout right away, so the combined data is held in the hybrid `(kz, ky, x)` domain and the
/// final inverse needs only the phase-encode and partition passes (the last one fused with the
/// magnitude and the crop to the input grid).
fn volume_fast(
    vol: &Volume,
    [pe, par, ro]: [usize; 3],
    dims: [usize; 3],
    offset: [usize; 3],
    poses: &ndarray::Array2<Pose3>,
    rotations: &[[f64; 3]],
) -> Array3<f32> {
    let perm = [par, pe, ro];
    let (nz, ny, nx) = (dims[par], dims[pe], dims[ro]);
    let nh = nx / 2 + 1;
    let (i0, i1, i2) = vol.data.dim();
    let in_dims = [i0, i1, i2];
    // the moved volumes are resampled from the bounding box of the object's non-zero voxels:
    // outside it the input is zero, as it is outside the input grid, so this gives the same
    // samples while the loops skip the empty margin (most of a skull-stripped or masked
    // volume); `offset` then locates the box in the acquisition matrix
    let (bbox_lo, bbox) = nonzero_box(&vol.data);
    if bbox[0] == 0 {
        // all zero: every line is zero whatever the pose
        return Array3::zeros((i0, i1, i2));
    }
    let owned;
    let src: &[f32] = match vol.data.as_slice() {
        Some(s) => s,
        None => {
            owned = vol.data.iter().copied().collect::<Vec<f32>>();
            &owned
        }
    };
    let box_offset = [0, 1, 2].map(|a| offset[a] + bbox_lo[a]);
    // the box with a one-voxel zero margin for the resampler: every sample whose neighbours
    // reach outside it is then exactly zero, so no sample needs bounds checks (buffer from the
    // pool, zeroed, then filled plane by plane in parallel)
    let pdims = bbox.map(|n| n + 2);
    let mut pbuf = SCRATCH_REAL.take(pdims[0] * pdims[1] * pdims[2]);
    let pplane = pdims[1] * pdims[2];
    pbuf.par_chunks_mut(pplane)
        .enumerate()
        .for_each(|(i, plane)| {
            plane.fill(0.0);
            if i == 0 || i > bbox[0] {
                return;
            }
            let z = bbox_lo[0] + i - 1;
            for y in 0..bbox[1] {
                let s0 = (z * in_dims[1] + bbox_lo[1] + y) * in_dims[2] + bbox_lo[2];
                let d0 = (y + 1) * pdims[2] + 1;
                plane[d0..d0 + bbox[2]].copy_from_slice(&src[s0..s0 + bbox[2]]);
            }
        });
    let padded: &[f32] = &pbuf;
    let cphase = centring_half(nx);
    let phase_z: Vec<f64> = (0..nz)
        .map(|k| -2.0 * PI * (k as f64 - (nz / 2) as f64) / nz as f64)
        .collect();
    let phase_y: Vec<f64> = (0..ny)
        .map(|k| -2.0 * PI * (k as f64 - (ny / 2) as f64) / ny as f64)
        .collect();
    let hx = nx / 2;
    let scale_x = 1.0 / (nx as f32).sqrt();
    // output planes resampled together (see `trilinear_planes`)
    const PLANES: usize = 8;
    // combined lines, inverse transformed along readout: (kz, ky, x)
    // work arrays from the scratch pool (every element is written before it is read: each
    // line of `out` belongs to exactly one pose, and every row of `g` is transformed anew per
    // pose)
    let big = |shape: (usize, usize, usize)| {
        Array3::from_shape_vec(shape, SCRATCH.take(shape.0 * shape.1 * shape.2))
            .expect("same shape")
    };
    let mut out: Array3<Complex32> = big((nz, ny, nx));
    let mut g: Array3<Complex32> = big((nz, ny, nh));
    for rot in rotations {
        let map = if *rot == [0.0; 3] {
            None
        } else {
            let r = rotation_matrix3(rot.map(f64::to_radians));
            let mut m = GridMap::rigid(r, vol.spacing, dims, box_offset, perm);
            // source indices of the padded box are one more than those of the box
            m.off.iter_mut().for_each(|o| *o += 1.0);
            Some(m)
        };
        // moved volume a few planes at a time, straight into its readout half spectrum
        let chunks: Vec<_> = g.axis_chunks_iter_mut(Axis(0), PLANES).collect();
        // rows (phase-encode index) that are non-zero in some plane of the moved volume
        let live: Vec<bool> = chunks
            .into_par_iter()
            .enumerate()
            .map(|(ic, mut gc)| {
                let z0 = ic * PLANES;
                let k = gc.len_of(Axis(0));
                // this thread's plane buffer (every element is written below)
                let mut planes = PLANE_BUF.with(|b| b.take());
                planes.resize(k * ny * nx, 0.0);
                match &map {
                    Some(m) => {
                        trilinear_planes(padded, pdims, true, m, z0..z0 + k, ny, nx, &mut planes)
                    }
                    None => {
                        for (i, p) in planes.chunks_exact_mut(ny * nx).enumerate() {
                            copy_plane(src, in_dims, offset, perm, z0 + i, ny, nx, p);
                        }
                    }
                }
                let mut live = vec![false; ny];
                let gs = gc.as_slice_mut().expect("standard layout");
                for (p, o) in planes
                    .chunks_exact(ny * nx)
                    .zip(gs.chunks_exact_mut(ny * nh))
                {
                    rfft_rows(p, nx, o, None);
                    for ((row, l), out) in p
                        .chunks_exact(nx)
                        .zip(&mut live)
                        .zip(o.chunks_exact_mut(nh))
                    {
                        if !all_zero(row) {
                            *l = true;
                            out.iter_mut().zip(&cphase).for_each(|(z, p)| *z *= p);
                        }
                    }
                }
                PLANE_BUF.with(|b| b.set(planes));
                live
            })
            .reduce(
                || vec![false; ny],
                |a, b| a.iter().zip(&b).map(|(x, y)| *x || *y).collect(),
            );
        // partition axis for every lane with data (the others are zero and stay zero)
        let lanes: Vec<_> = g
            .axis_iter_mut(Axis(1))
            .zip(&live)
            .filter(|(_, l)| **l)
            .map(|(v, _)| v)
            .collect();
        lanes
            .into_par_iter()
            .for_each(|mut v| fftc_columns(&mut v, Direction::Forward));
        // phase-encode axis only on the planes this pose needs (directly or as a mirror)
        let mut need = vec![false; nz];
        for kz in 0..nz {
            if (0..ny).any(|ky| poses[[ky, kz]].1 == *rot) {
                need[kz] = true;
                need[mirror(kz, nz)] = true;
            }
        }
        let planes: Vec<_> = g
            .axis_iter_mut(Axis(0))
            .enumerate()
            .filter(|(kz, _)| need[*kz])
            .map(|(_, p)| p)
            .collect();
        planes
            .into_par_iter()
            .for_each(|mut p| fftc_columns(&mut p, Direction::Forward));
        // readout ramps of the distinct translations of this rotation
        let mut shifts: Vec<f64> = poses
            .iter()
            .filter(|p| p.1 == *rot)
            .map(|p| p.0[ro])
            .collect();
        shifts.sort_by(f64::total_cmp);
        shifts.dedup();
        let ramps: Vec<Vec<Complex32>> = shifts.iter().map(|&s| shift_phasors(nx, s)).collect();
        let gs = g.as_slice().expect("standard layout");
        let g_line = |kz: usize, ky: usize| &gs[(kz * ny + ky) * nh..(kz * ny + ky + 1) * nh];
        let out_planes: Vec<_> = out.axis_iter_mut(Axis(0)).enumerate().collect();
        out_planes.into_par_iter().for_each(|(kz, mut plane)| {
            let plane = plane.as_slice_mut().expect("standard layout");
            let mz = mirror(kz, nz);
            let ifft = plan(nx, Direction::Inverse);
            let mut scratch = vec![Complex32::default(); ifft.get_inplace_scratch_len()];
            let mut buf = vec![Complex32::default(); nx];
            for ky in 0..ny {
                let (tr, r) = poses[[ky, kz]];
                if r != *rot {
                    continue;
                }
                let my = mirror(ky, ny);
                let (direct, mirrored) = (g_line(kz, ky), g_line(mz, my));
                // natural order for the inverse transform: index m holds frequency f(m); the
                // negative frequencies −hx.. −1 are the conjugates of mirrored hx..1
                let (pos, neg) = buf.split_at_mut(nx - hx);
                pos.copy_from_slice(&direct[..nx - hx]);
                for (d, m) in neg.iter_mut().zip(mirrored[1..=hx].iter().rev()) {
                    *d = m.conj();
                }
                if tr != [0.0; 3] {
                    let c = phase_y[ky] * tr[pe] + phase_z[kz] * tr[par];
                    let c = Complex32::new(c.cos() as f32, c.sin() as f32);
                    let ramp = &ramps[shifts.partition_point(|&v| v < tr[ro])];
                    // ramp is in centred order: frequency f at index f + hx
                    let (rneg, rpos) = ramp.split_at(hx);
                    for (d, p) in pos.iter_mut().zip(rpos) {
                        *d = *d * p * c;
                    }
                    for (d, p) in neg.iter_mut().zip(rneg) {
                        *d = *d * p * c;
                    }
                }
                ifft.process_with_scratch(&mut buf, &mut scratch);
                let line = &mut plane[ky * nx..(ky + 1) * nx];
                // fftshift: natural output k goes to centred index (k + hx) mod nx
                let (lneg, lpos) = line.split_at_mut(hx);
                for (d, z) in lpos.iter_mut().zip(&buf[..nx - hx]) {
                    *d = z * scale_x;
                }
                for (d, z) in lneg.iter_mut().zip(&buf[nx - hx..]) {
                    *d = z * scale_x;
                }
            }
        });
    }
    SCRATCH.give(g.into_raw_vec_and_offset().0);
    SCRATCH_REAL.give(pbuf);
    // inverse along phase encode on every partition plane
    let planes: Vec<_> = out.axis_iter_mut(Axis(0)).collect();
    planes
        .into_par_iter()
        .for_each(|mut p| fftc_columns(&mut p, Direction::Inverse));
    // inverse along partition, magnitude, crop to the input grid
    let (cz, cy, cx) = (in_dims[par], in_dims[pe], in_dims[ro]);
    let (oz, oy, ox) = (offset[par], offset[pe], offset[ro]);
    let mut res =
        Array3::from_shape_vec((cz, cy, cx), zeroed::<f32>(cz * cy * cx)).expect("same shape");
    let rows: Vec<_> = res.axis_iter_mut(Axis(1)).collect();
    let hybrid = &out;
    rows.into_par_iter().enumerate().for_each(|(y, mut r)| {
        let v = hybrid.index_axis(Axis(1), y + oy);
        ifftc_columns_abs(&v, oz..oz + cz, ox..ox + cx, &mut r);
    });
    SCRATCH.give(out.into_raw_vec_and_offset().0);
    let mut inv = [0usize; 3];
    for (j, &a) in perm.iter().enumerate() {
        inv[a] = j;
    }
    let back = res.permuted_axes(inv);
    if back.is_standard_layout() {
        back
    } else {
        back.as_standard_layout().into_owned()
    }
}

/// Bounding box of the non-zero voxels of `x` as `(first index, extent)` per axis; a box of
/// extent 0 on every axis if `x` is all zero.
fn nonzero_box(x: &Array3<f32>) -> ([usize; 3], [usize; 3]) {
    let (n0, _, n2) = x.dim();
    // per plane: (first row, end row, first column, end column) of its non-zero voxels
    let per_plane: Vec<Option<[usize; 4]>> = (0..n0)
        .into_par_iter()
        .map(|i| {
            let p = x.index_axis(Axis(0), i);
            let mut b: Option<[usize; 4]> = None;
            for (j, row) in p.outer_iter().enumerate() {
                if row.as_slice().is_some_and(all_zero) {
                    continue;
                }
                let first = row.iter().position(|&v| v != 0.0);
                if let Some(f) = first {
                    let l = n2 - row.iter().rev().position(|&v| v != 0.0).unwrap_or(0);
                    b = Some(match b {
                        None => [j, j + 1, f, l],
                        Some(c) => [c[0], j + 1, c[2].min(f), c[3].max(l)],
                    });
                }
            }
            b
        })
        .collect();
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    for (i, b) in per_plane.iter().enumerate() {
        if let Some(b) = b {
            lo = [lo[0].min(i), lo[1].min(b[0]), lo[2].min(b[2])];
            hi = [hi[0].max(i + 1), hi[1].max(b[1]), hi[2].max(b[3])];
        }
    }
    if hi[0] == 0 {
        return ([0; 3], [0; 3]);
    }
    (lo, [0, 1, 2].map(|a| hi[a] - lo[a]))
}

/// One plane (`q0`, `n1 × n2`) of the input placed at `offset` in the acquisition matrix, in
/// the permuted axis order `perm` (zero outside the input).
#[allow(clippy::too_many_arguments)]
fn copy_plane(
    src: &[f32],
    sdims: [usize; 3],
    offset: [usize; 3],
    perm: [usize; 3],
    q0: usize,
    n1: usize,
    n2: usize,
    out: &mut [f32],
) {
    out.fill(0.0);
    let strides = [sdims[1] * sdims[2], sdims[2], 1];
    let inside = |a: usize, q: usize| q.checked_sub(offset[a]).filter(|&i| i < sdims[a]);
    let Some(j0) = inside(perm[0], q0) else {
        return;
    };
    let (st, o2, len) = (strides[perm[2]], offset[perm[2]], sdims[perm[2]]);
    for q1 in 0..n1 {
        let Some(j1) = inside(perm[1], q1) else {
            continue;
        };
        let base = j0 * strides[perm[0]] + j1 * strides[perm[1]];
        let row = &mut out[q1 * n2 + o2..q1 * n2 + o2 + len];
        if st == 1 {
            row.copy_from_slice(&src[base..base + len]);
        } else {
            for (i, v) in row.iter_mut().enumerate() {
                *v = src[base + i * st];
            }
        }
    }
}

fn to_complex_par(x: &Array3<f32>) -> Array3<Complex32> {
    let v: Vec<Complex32> = match x.as_slice() {
        Some(s) => s.par_iter().map(|&v| Complex32::new(v, 0.0)).collect(),
        None => x.iter().map(|&v| Complex32::new(v, 0.0)).collect(),
    };
    Array3::from_shape_vec(x.dim(), v).expect("same shape")
}
