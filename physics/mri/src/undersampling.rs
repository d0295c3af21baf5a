//! `mri.undersampling`: k-space undersampling with zero-filled (or, for radial,
//! density-compensated adjoint) reconstruction.
//!
//! # Model
//! The slice `x` (optionally multiplied by synthetic coil sensitivities, [`crate::coils`]) is
//! taken to centred orthonormal k-space, only the acquired samples are kept, and the image is
//! reconstructed without any prior: zero filling for Cartesian masks (`x̂ = Fᴴ M F x`), and the
//! density-compensated adjoint NUFFT for radial (`x̂ = Aᴴ W A x`). The output is the magnitude
//! (or RSS over coils). Aliasing is the result: coherent fold-over/blurring for equispaced
//! lines, incoherent noise-like aliasing for random and Poisson-disc masks, streaks for radial.
//!
//! Mask kinds ([`MaskKind`]):
//! - `random`, `equispaced`, `equispaced_fraction`: fastMRI's 1-D line masks along the
//!   phase-encode axis (see [`crate::masks`] for the exact semantics; `center_fraction` and
//!   `acceleration` mean what they mean in fastMRI, lines are columns by default as in fastMRI).
//!   Because a line mask is separable, only the phase-encode axis is transformed
//!   (`F_ro` cancels exactly).
//! - `poisson`: 2-D variable-density Poisson disc with a `round(n·center_fraction)`² calibration
//!   block; achieved acceleration equals the target up to one sample.
//! - `radial`: golden-angle spokes, `round(π/2·n_ro / R)` of them (`R` relative to Nyquist
//!   sampling of the disc for `N = max(rows, cols)`; `2N` readout samples per spoke, i.e. 2×
//!   readout oversampling as on scanners), Kaiser–Bessel NUFFT
//!   (σ = 1.5, W = 6; < 2e-4 relative error against the exact NDFT) and analytic ramp density compensation ([`crate::nufft`]).
//!
//! An acceleration of 1 with a Cartesian or Poisson mask samples everything (identity).
//!
//! The achieved acceleration depends on the image shape, which `sample` does not know; it is
//! returned by [`Undersampling::plan`] / [`Undersampling::apply_with_report`] and can be written
//! into the params with [`UndersamplingParams::resolved`] before recording them.
//!
//! References: J. Zbontar et al., "fastMRI", arXiv:1811.08839 (masks, zero-filled baseline);
//! M. Lustig et al., "Sparse MRI", MRM 58(6) 2007; S. Winkelmann et al., IEEE TMI 26(1) 2007.

use crate::coils::{check_coils, simulate_rss};
use crate::kspace::{check_finite, PhaseEncode};
use crate::masks::{cartesian_mask, poisson_disc_mask, CartesianKind, LineMask, PoissonMask};
use crate::nufft::{golden_angle_radial, nyquist_spokes, radial_density, Nufft2d};
use crate::{MriError, Result};
use artefact_core::fft::{fft2c, fftc_axis, ifft2c, Direction};
use artefact_core::{Complex32, Image, OpInfo, Operator, ParamSpec, SampleRng, Seed};
use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

/// Readout oversampling of radial spokes (samples per spoke / max(rows, cols)), as scanners do
/// to keep the circular radial FOV free of along-spoke aliasing.
pub const RADIAL_READOUT_OVERSAMPLING: usize = 2;

artefact_core::choice! {
    /// Sampling pattern.
    pub enum MaskKind {
        Random = "random",
        Equispaced = "equispaced",
        EquispacedFraction = "equispaced_fraction",
        Poisson = "poisson",
        Radial = "radial",
    }
}

impl MaskKind {
    fn cartesian(self) -> Option<CartesianKind> {
        match self {
            MaskKind::Random => Some(CartesianKind::Random),
            MaskKind::Equispaced => Some(CartesianKind::Equispaced),
            MaskKind::EquispacedFraction => Some(CartesianKind::EquispacedFraction),
            _ => None,
        }
    }
}

fn one() -> usize {
    1
}
fn default_slope() -> f64 {
    2.0
}

artefact_core::params! {
    /// Concrete parameters of one undersampling sample (enough to replay it).
    pub struct UndersamplingParams {
        /// sampling pattern: fastMRI 1-D line masks, 2-D variable-density Poisson disc, or golden-angle radial
        pub mask: MaskKind = choice(MaskKind::Random),
        /// target acceleration R (fully sampled / acquired; rounded to an integer for `equispaced`; radial: relative to π/2·N spokes)
        pub acceleration: f64 = float(4.0, [1.0, 12.0]),
        /// fraction of fully sampled low-frequency lines, round(n·fraction) as in fastMRI (Poisson: per axis calibration block)
        pub center_fraction: f64 = float(0.08, [0.0, 0.5], "fraction"),
        /// phase-encode axis of 1-D line masks (cols: lines are k-space columns, as in fastMRI)
        pub phase_encode: PhaseEncode = choice(PhaseEncode::Cols),
        /// receive coils: 1 = single coil, >1 = birdcage sensitivities with RSS combination
        #[serde(default = "one")]
        pub coils: usize = int(1, [1, 32]),
        /// Poisson disc variable density: minimum distance grows as 1 + slope·(normalised k radius)
        #[serde(default = "default_slope")]
        pub vd_slope: f64 = float(2.0, [0.0, 8.0]),
        /// seed of the mask randomness (random lines, equispaced offset, Poisson disc); drawn by `sample` unless fixed
        pub seed: u64 = seed,
        /// Fixed first outer line of the equispaced masks (`None`: drawn from `seed`).
        #[serde(default)]
        pub offset: Option<usize> = derived(None),
        /// Achieved acceleration `N / n_sampled` for the image shape it was resolved for
        /// (informative; filled by [`UndersamplingParams::resolved`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub achieved_acceleration: Option<f64> = derived(None),
    }
}

impl UndersamplingParams {
    /// A copy with `achieved_acceleration` computed for an image of `shape`.
    pub fn resolved(&self, shape: (usize, usize)) -> Result<Self> {
        let plan = cached_plan(self, shape)?;
        Ok(UndersamplingParams {
            achieved_acceleration: Some(plan.achieved_acceleration()),
            ..self.clone()
        })
    }

    /// The declared ranges and the coil count.
    fn check(&self) -> Result<()> {
        self.validate()?;
        check_coils(self.coils)
    }
}

/// A planned sampling pattern for one image shape.
#[derive(Clone, Debug)]
pub enum SamplingPlan {
    /// 1-D line mask along `axis`.
    Lines { mask: LineMask, axis: usize },
    /// 2-D mask.
    Grid(PoissonMask),
    /// Radial NUFFT with density compensation.
    Radial {
        nufft: Box<Nufft2d>,
        density: Vec<f32>,
        spokes: usize,
        readout: usize,
    },
}

impl SamplingPlan {
    /// Fully sampled / acquired ratio (radial: Nyquist spokes / spokes).
    pub fn achieved_acceleration(&self) -> f64 {
        match self {
            SamplingPlan::Lines { mask, .. } => mask.achieved_acceleration(),
            SamplingPlan::Grid(m) => m.achieved_acceleration,
            SamplingPlan::Radial {
                spokes, readout, ..
            } => nyquist_spokes(*readout / RADIAL_READOUT_OVERSAMPLING) / *spokes as f64,
        }
    }

    /// Apply the sampling and reconstruction to one complex coil image.
    fn reconstruct(&self, mut x: Array2<Complex32>) -> Result<Array2<Complex32>> {
        match self {
            SamplingPlan::Lines { mask, axis } => {
                if mask.sampled.iter().all(|&b| b) {
                    return Ok(x);
                }
                let mut v = x.view_mut();
                fftc_axis(&mut v, *axis, Direction::Forward);
                for (i, &keep) in mask.sampled.iter().enumerate() {
                    if !keep {
                        x.index_axis_mut(Axis(*axis), i)
                            .fill(Complex32::new(0.0, 0.0));
                    }
                }
                fftc_axis(&mut x.view_mut(), *axis, Direction::Inverse);
                Ok(x)
            }
            SamplingPlan::Grid(m) => {
                if m.mask.iter().all(|&b| b) {
                    return Ok(x);
                }
                fft2c(&mut x);
                ndarray::Zip::from(&mut x).and(&m.mask).for_each(|z, &k| {
                    if !k {
                        *z = Complex32::new(0.0, 0.0);
                    }
                });
                ifft2c(&mut x);
                Ok(x)
            }
            SamplingPlan::Radial { nufft, density, .. } => {
                let mut y = nufft.forward(&x)?;
                for (v, &w) in y.iter_mut().zip(density) {
                    *v *= w;
                }
                nufft.adjoint(&y)
            }
        }
    }
}

/// `|Fᴴ M F x|` for a real slice `x` and a 1-D line mask `sampled` along `axis`, two lanes per
/// complex FFT (the fast path of the single-coil Cartesian case; the same values as
/// `SamplingPlan::reconstruct` up to float rounding, tested).
///
/// Only the phase-encode axis is transformed (the readout transforms cancel). With two real
/// lanes packed as `z = a + i b` and the mask split into its symmetric and antisymmetric parts
/// `m_s(k) = (m(k) + m(−k))/2`, `m_a(k) = (m(k) − m(−k))/2`: the spectra of real lanes are
/// Hermitian, so `Fᴴ(m_s A)` is real and `Fᴴ(m_a A)` imaginary, and from
/// `P = Fᴴ(m_s Z) = r_a + i r_b`, `Q = Fᴴ(m_a Z) = i q_a − q_b` the two zero-filled lanes are
/// `y_a = Re P + i Im Q` and `y_b = Im P − i Re Q`: one forward and two inverse FFTs per lane
/// pair instead of two of each. Lanes are independent, so the bytes do not depend on order.
pub fn zero_filled_lines_real(x: &Array2<f32>, sampled: &[bool], axis: usize) -> Array2<f32> {
    let n = sampled.len();
    debug_assert_eq!(x.len_of(Axis(axis)), n);
    if sampled.iter().all(|&b| b) {
        return x.clone();
    }
    // lanes as contiguous rows
    let xt = x.t();
    let lanes = if axis == 1 {
        x.as_standard_layout()
    } else {
        xt.as_standard_layout()
    };
    let rows = lanes.nrows();
    let src = lanes.as_slice().expect("standard layout");
    let h = n / 2;
    // mask in natural (ifftshifted) order: natural index j is centred index (j + h) mod n
    let m = |j: usize| -> f32 { sampled[(j + h) % n] as u8 as f32 };
    let mirror = |j: usize| (n - j) % n;
    let ms: Vec<f32> = (0..n).map(|j| 0.5 * (m(j) + m(mirror(j)))).collect();
    let ma: Vec<f32> = (0..n).map(|j| 0.5 * (m(j) - m(mirror(j)))).collect();
    let fwd = artefact_core::fft::plan(n, Direction::Forward);
    let inv = artefact_core::fft::plan(n, Direction::Inverse);
    let mut scratch = vec![
        Complex32::default();
        fwd.get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len())
    ];
    let (mut z, mut p, mut q) = (
        vec![Complex32::default(); n],
        vec![Complex32::default(); n],
        vec![Complex32::default(); n],
    );
    let scale = 1.0 / n as f32;
    let mut out = vec![0f32; rows * n];
    let mut r = 0;
    while r < rows {
        let pair = r + 1 < rows;
        let a = &src[r * n..(r + 1) * n];
        // gather with ifftshift: natural j holds centred sample (j + h) mod n
        for (j, zj) in z.iter_mut().enumerate() {
            let i = if j + h < n { j + h } else { j + h - n };
            let b = if pair { src[(r + 1) * n + i] } else { 0.0 };
            *zj = Complex32::new(a[i], b);
        }
        fwd.process_with_scratch(&mut z, &mut scratch);
        for (((pj, qj), zj), (&s, &t)) in p
            .iter_mut()
            .zip(q.iter_mut())
            .zip(&z)
            .zip(ms.iter().zip(&ma))
        {
            *pj = zj * s;
            *qj = zj * t;
        }
        inv.process_with_scratch(&mut p, &mut scratch);
        inv.process_with_scratch(&mut q, &mut scratch);
        // scatter with fftshift: centred sample (j + h) mod n is natural j
        for j in 0..n {
            let i = if j + h < n { j + h } else { j + h - n };
            let (pj, qj) = (p[j] * scale, q[j] * scale);
            out[r * n + i] = crate::kspace::abs_c(Complex32::new(pj.re, qj.im));
            if pair {
                out[(r + 1) * n + i] = crate::kspace::abs_c(Complex32::new(pj.im, qj.re));
            }
        }
        r += 2;
    }
    let out = Array2::from_shape_vec((rows, n), out).expect("shape");
    if axis == 1 {
        out
    } else {
        out.t().as_standard_layout().into_owned()
    }
}

/// What a [`SamplingPlan`] is a pure function of: every param except the informative
/// `achieved_acceleration` and `coils`, plus the image shape (floats by their bits).
type PlanKey = (
    MaskKind,
    u64,
    u64,
    PhaseEncode,
    u64,
    Option<usize>,
    u64,
    (usize, usize),
);

fn plan_key(p: &UndersamplingParams, shape: (usize, usize)) -> PlanKey {
    (
        p.mask,
        p.acceleration.to_bits(),
        p.center_fraction.to_bits(),
        p.phase_encode,
        p.seed,
        p.offset,
        p.vd_slope.to_bits(),
        shape,
    )
}

thread_local! {
    /// The last plan built on this thread. `resolve` followed by `apply` (what the dataset
    /// builder does) would otherwise build a Poisson-disc mask or a NUFFT plan twice; a plan
    /// is a pure function of its key, so the cache cannot change any output.
    static LAST_PLAN: std::cell::RefCell<Option<(PlanKey, std::rc::Rc<SamplingPlan>)>> =
        const { std::cell::RefCell::new(None) };
}

/// [`Undersampling::plan`] through the one-entry per-thread cache.
fn cached_plan(
    p: &UndersamplingParams,
    shape: (usize, usize),
) -> Result<std::rc::Rc<SamplingPlan>> {
    p.check()?;
    let key = plan_key(p, shape);
    if let Some(plan) = LAST_PLAN.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, plan)| plan.clone())
    }) {
        return Ok(plan);
    }
    let plan = std::rc::Rc::new(Undersampling::plan(p, shape)?);
    LAST_PLAN.with(|c| *c.borrow_mut() = Some((key, plan.clone())));
    Ok(plan)
}

/// Report of one application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UndersamplingReport {
    pub achieved_acceleration: f64,
    /// Acquired samples (lines for 1-D masks, points for Poisson, spokes×readout for radial).
    pub acquired: usize,
    /// Fully sampled count (lines, points, Nyquist spokes×readout).
    pub total: usize,
    pub offset: Option<usize>,
    pub num_low_frequencies: Option<usize>,
    pub spokes: Option<usize>,
}

/// The `mri.undersampling` operator.
pub struct Undersampling;

static INFO: OpInfo = OpInfo {
    name: "mri.undersampling",
    modality: "MR",
    doc: "k-space undersampling (fastMRI line masks, variable-density Poisson disc, golden-angle radial) with zero-filled / density-compensated adjoint reconstruction; magnitude or RSS output",
    params: UndersamplingParams::PARAMS,
};

impl Undersampling {
    /// Build the sampling pattern of `params` for an image of `shape`.
    pub fn plan(params: &UndersamplingParams, shape: (usize, usize)) -> Result<SamplingPlan> {
        params.check()?;
        let (rows, cols) = shape;
        if rows < 2 || cols < 2 {
            return Err(MriError::Input(format!(
                "undersampling needs at least 2×2 pixels, got {rows}×{cols}"
            )));
        }
        let seed = Seed::from_u64(params.seed);
        Ok(match params.mask {
            MaskKind::Poisson => SamplingPlan::Grid(poisson_disc_mask(
                rows,
                cols,
                params.acceleration,
                params.center_fraction,
                params.vd_slope,
                params.seed,
            )?),
            MaskKind::Radial => {
                let n = rows.max(cols);
                let readout = RADIAL_READOUT_OVERSAMPLING * n;
                let spokes = ((nyquist_spokes(n) / params.acceleration).round() as usize).max(1);
                let omega = golden_angle_radial(spokes, readout);
                let nufft = Nufft2d::new(
                    shape,
                    &omega,
                    crate::nufft::DEFAULT_OVERSAMPLING,
                    crate::nufft::DEFAULT_WIDTH,
                )?;
                SamplingPlan::Radial {
                    nufft: Box::new(nufft),
                    density: radial_density(spokes, readout, shape),
                    spokes,
                    readout,
                }
            }
            kind => {
                let axis = params.phase_encode.axis();
                let n = if axis == 0 { rows } else { cols };
                let mut rng = seed.child("lines").rng();
                let mask = cartesian_mask(
                    kind.cartesian().expect("cartesian kind"),
                    n,
                    params.acceleration,
                    params.center_fraction,
                    params.offset,
                    &mut rng,
                )?;
                SamplingPlan::Lines { mask, axis }
            }
        })
    }

    /// Apply and report what was sampled.
    pub fn apply_with_report(
        params: &UndersamplingParams,
        image: &Image,
    ) -> Result<(Image, UndersamplingReport)> {
        check_finite(image)?;
        let plan = cached_plan(params, image.shape())?;
        let out = match &*plan {
            SamplingPlan::Lines { mask, axis } if params.coils == 1 => {
                image.with_data(zero_filled_lines_real(&image.data, &mask.sampled, *axis))?
            }
            _ => simulate_rss(image, params.coils, |_, x| plan.reconstruct(x))?,
        };
        let (rows, cols) = image.shape();
        let report = match &*plan {
            SamplingPlan::Lines { mask, .. } => UndersamplingReport {
                achieved_acceleration: plan.achieved_acceleration(),
                acquired: mask.count(),
                total: mask.sampled.len(),
                offset: mask.offset,
                num_low_frequencies: Some(mask.num_low_frequencies),
                spokes: None,
            },
            SamplingPlan::Grid(m) => UndersamplingReport {
                achieved_acceleration: m.achieved_acceleration,
                acquired: m.mask.iter().filter(|&&b| b).count(),
                total: rows * cols,
                offset: None,
                num_low_frequencies: Some(m.calib.0.min(m.calib.1)),
                spokes: None,
            },
            SamplingPlan::Radial {
                spokes, readout, ..
            } => UndersamplingReport {
                achieved_acceleration: plan.achieved_acceleration(),
                acquired: spokes * readout,
                total: (nyquist_spokes(*readout / RADIAL_READOUT_OVERSAMPLING).round() as usize)
                    * readout,
                offset: None,
                num_low_frequencies: None,
                spokes: Some(*spokes),
            },
        };
        Ok((out, report))
    }
}

impl Operator for Undersampling {
    type Params = UndersamplingParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<UndersamplingParams> {
        let mut p = UndersamplingParams::sample(spec, rng)?;
        if p.mask == MaskKind::Equispaced {
            p.acceleration = p.acceleration.round();
        }
        p.check()?;
        Ok(p)
    }

    fn apply(params: &UndersamplingParams, image: &Image) -> Result<Image> {
        Self::apply_with_report(params, image).map(|(img, _)| img)
    }

    /// Records the acceleration the mask achieves on this image's matrix.
    fn resolve(params: &UndersamplingParams, image: &Image) -> Result<UndersamplingParams> {
        params.resolved(image.shape())
    }
}
