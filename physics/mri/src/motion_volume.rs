//! The 3-D variant of `mri.motion`: rigid 6-DoF motion of a [`Volume`] during a Cartesian 3-D
//! acquisition (the 2-D operator, its timing model and its recipe parameters are in
//! [`crate::motion`], which re-exports this module's public items).
//!
//! [`apply_volume`] moves a [`Volume`] with 6 degrees of freedom: lines are
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
//! earlier versions accordingly. The 2-D operator [`Motion`](crate::motion::Motion) always uses
//! the input grid.
//!
//! # Implementation
//! Each moved volume is resampled a few planes at a time straight into its readout half
//! spectrum, transformed along the partition axis and along phase encode only on the partition
//! planes the pose supplies; its lines are completed, ramped and inverse transformed along
//! readout as they are filled, so the combined data is kept in the hybrid `(kz, ky, x)` domain
//! and the final inverse needs only the phase-encode and partition passes, the last fused with
//! the magnitude and the crop. [`apply_volume_reference`] is the direct complex version (on
//! the same acquisition matrix), kept and tested against. The large work arrays belong to the
//! caller ([`VolumeScratch`], [`apply_volume_with`]); nothing is cached between calls.
//!
//! Units: translations in mm, rotations in degrees, times as fractions of the scan.

use crate::motion::{check_window, param_err, sample_magnitudes, sample_timing, PeOrdering};
use crate::rfft::{
    all_zero, centring_half, fftc_columns, ifftc_columns_abs, mirror, next_smooth, rfft_rows,
};
use crate::rigid::{
    par_fftc3, rotate_trilinear, rotation_matrix3, shift_phasors, trilinear_planes, GridMap,
};
use crate::{MriError, Result};
use artefact_core::bigbuf::{zeroed, Pool};
use artefact_core::fft::{plan, Direction};
use artefact_core::{Complex32, ParamSpec, SampleRng, Volume};
use ndarray::{Array3, Axis};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

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

/// Sample [`VolumeMotionParams`] from the same spec keys as [`Motion`](crate::motion::Motion) plus
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
///
/// Allocates its work arrays for this call; to simulate several volumes, keep a
/// [`VolumeScratch`] and call [`apply_volume_with`].
pub fn apply_volume(params: &VolumeMotionParams, vol: &Volume) -> Result<Volume> {
    apply_volume_impl(params, vol, Some(&VolumeScratch::new()))
}

/// [`apply_volume`] with the caller's work arrays (same bytes; the arrays are kept in
/// `scratch` for the next call).
pub fn apply_volume_with(
    params: &VolumeMotionParams,
    vol: &Volume,
    scratch: &VolumeScratch,
) -> Result<Volume> {
    apply_volume_impl(params, vol, Some(scratch))
}

/// Slow reference of [`apply_volume`]: the volume placed on the same acquisition matrix, one
/// full complex 3-D FFT per rotation (with [`crate::rigid::rotate_trilinear`]), one full
/// inverse, magnitude cropped to the input grid.
pub fn apply_volume_reference(params: &VolumeMotionParams, vol: &Volume) -> Result<Volume> {
    apply_volume_impl(params, vol, None)
}

type Pose3 = ([f64; 3], [f64; 3]);

/// `scratch`: the fast path with these work arrays, `None`: the reference.
fn apply_volume_impl(
    params: &VolumeMotionParams,
    vol: &Volume,
    scratch: Option<&VolumeScratch>,
) -> Result<Volume> {
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
    let data = if let Some(scratch) = scratch {
        volume_fast(
            vol,
            [pe, par, ro],
            dims,
            offset,
            &poses,
            &rotations,
            scratch,
        )
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

/// Work arrays of [`apply_volume_with`], owned by the caller and reused from one call to the
/// next: two complex arrays of the acquisition matrix (12 bytes per matrix voxel) and a copy
/// of the object's bounding box, about 125 MB for the MNI volume. Every element is written
/// before it is read, so a reused workspace gives the bytes of a fresh one. Dropping it (or
/// [`VolumeScratch::release`]) frees the memory.
pub struct VolumeScratch {
    complex: Pool<Complex32>,
    real: Pool<f32>,
}

impl std::fmt::Debug for VolumeScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VolumeScratch").finish_non_exhaustive()
    }
}

impl Default for VolumeScratch {
    fn default() -> Self {
        VolumeScratch::new()
    }
}

impl VolumeScratch {
    /// An empty workspace (arrays are allocated by the first call).
    pub const fn new() -> Self {
        VolumeScratch {
            complex: Pool::new(2),
            real: Pool::new(1),
        }
    }

    /// Frees the arrays kept for the next call.
    pub fn release(&self) {
        self.complex.clear();
        self.real.clear();
    }
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
    scratch: &VolumeScratch,
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
    let mut pbuf = scratch.real.take(pdims[0] * pdims[1] * pdims[2]);
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
        Array3::from_shape_vec(shape, scratch.complex.take(shape.0 * shape.1 * shape.2))
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
            .map_init(Vec::new, |planes: &mut Vec<f32>, (ic, mut gc)| {
                let z0 = ic * PLANES;
                let k = gc.len_of(Axis(0));
                // this task's plane buffer (every element is written below)
                planes.resize(k * ny * nx, 0.0);
                match &map {
                    Some(m) => trilinear_planes(padded, pdims, true, m, z0..z0 + k, ny, nx, planes),
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
    scratch.complex.give(g.into_raw_vec_and_offset().0);
    scratch.real.give(pbuf);
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
    scratch.complex.give(out.into_raw_vec_and_offset().0);
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

/// The 3-D form of [`Motion`](crate::motion::Motion), sampled from the same recipe spec: the
/// attribute's `phase_encode` choice picks the in-plane phase-encode axis (`rows` → array axis
/// 1, `cols` → axis 2), axis 0 (the slice axis) is partition encoded, the matrix is
/// `fft_friendly`, and each event's translation and rotation have the recipe's magnitudes in
/// a direction uniform on the sphere (see [`sample_volume`]).
impl artefact_core::VolumeOperator for crate::motion::Motion {
    type VolumeParams = VolumeMotionParams;

    fn sample_volume(spec: &ParamSpec, rng: &mut SampleRng) -> Result<VolumeMotionParams> {
        use artefact_core::op::SpecValue;
        let pe = crate::motion::MotionKnobs::phase_encode.sample(spec, rng)?;
        let spec = spec
            .clone()
            .with(
                "phase_encode_axis",
                SpecValue::Number((pe.axis() + 1) as f64),
            )
            .with("partition_axis", SpecValue::Number(0.0));
        sample_volume(&spec, rng)
    }

    fn apply_volume(params: &VolumeMotionParams, volume: &Volume) -> Result<Volume> {
        apply_volume(params, volume)
    }
}
