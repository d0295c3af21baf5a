//! `ct.motion`: rigid in-plane patient motion between views.
//!
//! # Model
//! During the scan the object moves rigidly: at the time of view `v` (`t = v / n_views` of the
//! acquisition) it is rotated by `α(t)` about the isocentre and then translated by `d(t)`,
//! `x' = R(α)·x + d` (mm, `x` right, `y` up; positive α counter-clockwise in the displayed image).
//! Trajectories are smooth, scaled by a shape function `s(t)`:
//! * `raised_cosine`: still until `onset`, a raised-cosine transition of length `duration`,
//!   then still at the displaced pose — `s = ½(1 − cos(π(t − onset)/duration))` (a patient
//!   shifting once);
//! * `sinusoid`: `s = sin(2π·cycles·t)` (periodic motion such as breathing or tremor).
//!
//! `d(t) = s(t)·translation_mm·(cos φ, sin φ)` with direction φ, `α(t) = s(t)·rotation_deg`.
//! Each view projects the moved object exactly: a rotation by α is the same as acquiring the
//! view at source angle `β − α` (the projection is rotation-covariant), and the translation of
//! the object, `f(x − R(−α)d)`, is the same as moving that view's rays (source and detector)
//! by `−R(−α)d` — so every view is one projection of the unmoved 2×-fine μ grid with its own
//! ray table, no resampling ([`sinogram`]; the first implementation, which resampled the grid
//! bilinearly at every shift, is kept as [`sinogram_resampled`]). The scanner reconstructs
//! with the nominal angles (it does not know about the motion), giving doubled edges, streaks
//! and blur. Amplitude 0 is exactly the pipeline's clean reconstruction.
//!
//! # Typical severities
//! mild: translation 1–3 mm and/or rotation 0.5–1.5° (slight blur, faint streaks);
//! severe: 5–12 mm and/or 3–8° (ghosted edges, strong streaks).
//!
//! # References
//! - J. Hsieh, *Computed Tomography*, 2nd ed., SPIE 2009, §7.5 (motion artefacts).
//! - S. Kim, Y. Chang, J. B. Ra, "Cardiac motion correction based on partial angle
//!   reconstructed images in x-ray CT", Med. Phys. 42(5), 2015 (rigid motion as per-view pose).

use crate::corrupt_util::check_hu;
use crate::geometry::{Geometry, Grid};
use crate::pipeline::{reconstruct_hu_with, to_mu_fine_with, ScanSettings};
use crate::projector::{try_forward, Projector};
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng, Seed};
use ndarray::{s, Array2, ArrayView2};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

artefact_core::choice! {
    /// Trajectory shapes.
    pub enum Pattern {
        /// One smooth shift (raised cosine from `onset` over `duration`).
        RaisedCosine = "raised_cosine",
        /// Periodic motion, `cycles` periods per scan.
        Sinusoid = "sinusoid",
    }
}

artefact_core::params! {
    /// The recipe parameters of [`Motion`] (the table; the record is [`MotionParams`], which
    /// keeps the drawn direction but not the seed it was drawn with).
    pub struct MotionKnobs {
        /// trajectory shape: one smooth shift (raised_cosine) or periodic (sinusoid)
        pub pattern: Pattern = choice(Pattern::RaisedCosine),
        /// translation amplitude (mild 1–3, severe 5–12)
        pub translation_mm: f64 = float(3.0, [0.0, 50.0], "mm"),
        /// translation direction, 0 = +x (sampled uniformly in [0, 360) when absent)
        pub direction_deg: f64 = sampled_float([0.0, 360.0], "deg"),
        /// in-plane rotation amplitude about the isocentre (mild 0.5–1.5, severe 3–8)
        pub rotation_deg: f64 = float(0.0, [-30.0, 30.0], "deg"),
        /// raised_cosine: start of the movement as a fraction of the scan
        pub onset: f64 = float(0.3, [0.0, 1.0], "fraction"),
        /// raised_cosine: length of the movement as a fraction of the scan
        pub duration: f64 = float(0.3, [0.001, 1.0], "fraction"),
        /// sinusoid: periods per scan
        pub cycles: f64 = float(1.0, [0.1, 10.0]),
        /// only used to sample direction_deg when absent
        pub seed: u64 = seed,
    }
}

/// Parameters of `ct.motion`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotionParams {
    pub pattern: Pattern,
    /// Translation amplitude, mm.
    pub translation_mm: f64,
    /// Direction of the translation (0° = +x, 90° = +y, up in the image).
    pub direction_deg: f64,
    /// Rotation amplitude, degrees (counter-clockwise positive).
    pub rotation_deg: f64,
    /// Start of the raised-cosine transition, fraction of the scan.
    pub onset: f64,
    /// Length of the raised-cosine transition, fraction of the scan.
    pub duration: f64,
    /// Periods per scan of the sinusoid.
    pub cycles: f64,
    /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
    /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
    #[serde(default = "ScanSettings::legacy")]
    pub scan: ScanSettings,
}

static INFO: OpInfo = OpInfo {
    name: "ct.motion",
    modality: "CT",
    doc: "Rigid in-plane motion during the scan (raised-cosine shift or sinusoid; translation in \
          mm, rotation in degrees); each view projects the moved object, FBP with nominal angles \
          → ghosting, streaks, blur. Mild: 1–3 mm / 0.5–1.5°; severe: 5–12 mm / 3–8°.",
    params: MotionKnobs::PARAMS,
};

/// Rigid pose of the object at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    /// Translation along x (right), mm.
    pub dx_mm: f64,
    /// Translation along y (up), mm.
    pub dy_mm: f64,
    /// Rotation, radians, counter-clockwise.
    pub rot_rad: f64,
}

impl MotionParams {
    /// The declared ranges of [`MotionKnobs`].
    pub fn validate(&self) -> Result<()> {
        MotionKnobs::translation_mm.check(self.translation_mm)?;
        MotionKnobs::direction_deg.check(self.direction_deg)?;
        MotionKnobs::rotation_deg.check(self.rotation_deg)?;
        MotionKnobs::onset.check(self.onset)?;
        MotionKnobs::duration.check(self.duration)?;
        MotionKnobs::cycles.check(self.cycles)?;
        Ok(())
    }

    /// Shape function `s(t)` of the trajectory at scan fraction `t ∈ [0, 1)`.
    pub fn shape(&self, t: f64) -> f64 {
        if self.pattern == Pattern::Sinusoid {
            (2.0 * PI * self.cycles * t).sin()
        } else if t <= self.onset {
            0.0
        } else if t >= self.onset + self.duration {
            1.0
        } else {
            0.5 * (1.0 - (PI * (t - self.onset) / self.duration).cos())
        }
    }

    /// Pose at scan fraction `t`.
    pub fn pose(&self, t: f64) -> Pose {
        let s = self.shape(t);
        let phi = self.direction_deg.to_radians();
        Pose {
            dx_mm: s * self.translation_mm * phi.cos(),
            dy_mm: s * self.translation_mm * phi.sin(),
            rot_rad: s * self.rotation_deg.to_radians(),
        }
    }
}

/// `f(x − s)`: `mu` on `grid` translated by `(sx, sy)` mm (x right, y up), bilinear, zero
/// outside.
pub fn translate(mu: ArrayView2<f32>, grid: &Grid, sx_mm: f64, sy_mm: f64) -> Array2<f32> {
    let (rows, cols) = mu.dim();
    let dc = sx_mm / grid.pixel_mm; // source column = j − dc
    let dr = -sy_mm / grid.pixel_mm; // source row = i − dr (y up = row down)
    let mut out = Array2::<f32>::zeros((rows, cols));
    let at = |r: isize, c: isize| -> f32 {
        if r < 0 || c < 0 || r >= rows as isize || c >= cols as isize {
            0.0
        } else {
            mu[[r as usize, c as usize]]
        }
    };
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            let r = i as f64 - dr;
            let r0 = r.floor();
            let fr = (r - r0) as f32;
            let r0 = r0 as isize;
            for (j, o) in row.iter_mut().enumerate() {
                let c = j as f64 - dc;
                let c0 = c.floor();
                let fc = (c - c0) as f32;
                let c0 = c0 as isize;
                let top = at(r0, c0) * (1.0 - fc) + at(r0, c0 + 1) * fc;
                let bot = at(r0 + 1, c0) * (1.0 - fc) + at(r0 + 1, c0 + 1) * fc;
                *o = top * (1.0 - fr) + bot * fr;
            }
        });
    out
}

/// Per view: the object shift `R(−α)·d` (mm) and the acquisition angle `β − α`.
fn per_view(params: &MotionParams, geom: &Geometry) -> Vec<(f64, f64, f64)> {
    let n = geom.n_views();
    (0..n)
        .map(|v| {
            let p = params.pose(v as f64 / n as f64);
            let (c, s) = (p.rot_rad.cos(), p.rot_rad.sin());
            let sx = c * p.dx_mm + s * p.dy_mm;
            let sy = -s * p.dx_mm + c * p.dy_mm;
            (sx, sy, geom.angles_rad[v] - p.rot_rad)
        })
        .collect()
}

/// The motion-corrupted sinogram of `image` and the nominal geometry the scanner
/// reconstructs with. Every view is one projection of the unmoved fine μ grid with its own
/// rays: acquired at `β − α` and moved by `−R(−α)·d` ([`Projector::with_object_shifts`]),
/// which are exactly the line integrals of the moved object.
pub fn sinogram(
    params: &MotionParams,
    image: &Image,
    scan: &ScanSettings,
) -> Result<(Array2<f32>, Geometry)> {
    check_hu(image)?;
    params.validate()?;
    let geom = scan.geometry_for(image)?;
    let (mu, grid) = to_mu_fine_with(image, scan.upsample, scan.mu_water);
    let views = per_view(params, &geom);
    // views at rest (before a raised-cosine onset) see the unmoved object through the
    // nominal rays: when the clean scan of this slice is memoised (another attribute of the
    // slice made it), they are its rows and only the moving views are projected
    let moving: Vec<usize> = (0..views.len())
        .filter(|&v| !at_rest(views[v], geom.angles_rad[v]))
        .collect();
    if moving.len() < views.len() {
        if let Some(clean) = crate::memo::forward_if_known(mu.view(), &grid, &geom) {
            let mut sino = clean.as_ref().clone();
            if !moving.is_empty() {
                let part = project_moving(&mu, &grid, &geom, &views, &moving)?;
                for (row, &v) in part.outer_iter().zip(&moving) {
                    sino.row_mut(v).assign(&row);
                }
            }
            return Ok((sino, geom));
        }
    }
    let all: Vec<usize> = (0..views.len()).collect();
    Ok((project_moving(&mu, &grid, &geom, &views, &all)?, geom))
}

/// Whether a view's pose is the identity (no shift, the nominal angle).
fn at_rest((sx, sy, angle): (f64, f64, f64), nominal: f64) -> bool {
    sx == 0.0 && sy == 0.0 && angle == nominal
}

/// The projections of the views `which` (in that order), each acquired at its moved angle
/// with its rays moved by the object shift.
fn project_moving(
    mu: &Array2<f32>,
    grid: &Grid,
    geom: &Geometry,
    views: &[(f64, f64, f64)],
    which: &[usize],
) -> Result<Array2<f32>> {
    let shifts: Vec<[f64; 2]> = which.iter().map(|&v| [views[v].0, views[v].1]).collect();
    let moved = geom.with_angles(which.iter().map(|&v| views[v].2).collect());
    Projector::with_object_shifts(grid, &moved, &shifts)?.forward(mu.view())
}

/// Slow reference of [`sinogram`] (the operator's first implementation): the fine μ grid is
/// resampled at every distinct shift ([`translate`], bilinear; views whose shifts differ by
/// less than 0.05 fine pixel share one shifted grid) and projected with the unshifted rays.
/// It agrees with [`sinogram`] up to the bilinear resampling (exactly for whole-pixel
/// shifts of an object that stays inside the grid); kept for the tests.
pub fn sinogram_resampled(
    params: &MotionParams,
    image: &Image,
    scan: &ScanSettings,
) -> Result<(Array2<f32>, Geometry)> {
    check_hu(image)?;
    params.validate()?;
    let geom = scan.geometry_for(image)?;
    let (mu, grid) = to_mu_fine_with(image, scan.upsample, scan.mu_water);
    let n = geom.n_views();
    let per_view = per_view(params, &geom);
    let tol = 0.05 * grid.pixel_mm;
    let mut sino = Array2::<f32>::zeros((n, geom.n_det));
    let mut v0 = 0;
    while v0 < n {
        let (sx, sy, _) = per_view[v0];
        let mut v1 = v0 + 1;
        while v1 < n && (per_view[v1].0 - sx).abs() <= tol && (per_view[v1].1 - sy).abs() <= tol {
            v1 += 1;
        }
        let angles: Vec<f64> = per_view[v0..v1].iter().map(|p| p.2).collect();
        let g = geom.with_angles(angles);
        let part = if sx == 0.0 && sy == 0.0 {
            try_forward(mu.view(), &grid, &g)?
        } else {
            let moved = translate(mu.view(), &grid, sx, sy);
            try_forward(moved.view(), &grid, &g)?
        };
        sino.slice_mut(s![v0..v1, ..]).assign(&part);
        v0 = v1;
    }
    Ok((sino, geom))
}

/// Apply with an explicit scan (the operator uses the recorded `params.scan`).
pub fn apply_with(params: &MotionParams, image: &Image, scan: &ScanSettings) -> Result<Image> {
    let (sino, geom) = sinogram(params, image, scan)?;
    reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water)
}

/// The `ct.motion` operator.
pub struct Motion;

impl Operator for Motion {
    type Params = MotionParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<MotionParams> {
        let seed = MotionKnobs::seed.sample(spec, rng)?;
        let direction_deg = match spec.get("direction_deg") {
            Some(_) => MotionKnobs::direction_deg.sample(spec, rng)?,
            None => Seed::from_u64(seed)
                .child("direction")
                .rng()
                .random_range(0.0..360.0),
        };
        let p = MotionParams {
            pattern: MotionKnobs::pattern.sample(spec, rng)?,
            translation_mm: MotionKnobs::translation_mm.sample(spec, rng)?,
            direction_deg,
            rotation_deg: MotionKnobs::rotation_deg.sample(spec, rng)?,
            onset: MotionKnobs::onset.sample(spec, rng)?,
            duration: MotionKnobs::duration.sample(spec, rng)?,
            cycles: MotionKnobs::cycles.sample(spec, rng)?,
            scan: ScanSettings::default(),
        };
        p.validate()?;
        Ok(p)
    }

    fn apply(params: &MotionParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan)
    }
}
