//! `ct.metal`: metal implants scanned with a polychromatic 120 kVp beam (beam hardening, photon
//! starvation, scatter, partial volume), water beam-hardening correction and FBP.
//!
//! # Model (after the Zhang & Yu / ADN simulation protocol)
//! 1. **Inserts.** `count` metal rods (discs of radius `radius_mm`) or ellipses (semi-axes
//!    `radius_mm`, `aspect·radius_mm`, random orientation) are placed at random positions
//!    *inside the body* (every point within the insert + 3 mm lies above −500 HU; inserts at
//!    least 5 mm apart), driven by the params' seed; or the caller supplies a metal fraction map
//!    ([`apply_with_mask`]). Metals Ti / Fe / Cu at 4.5 / 7.87 / 8.96 g/cm³.
//! 2. **Partial volume.** The image is resampled to the pipeline's 2× finer grid and the metal
//!    fraction of each fine pixel is its area coverage (4 × 4 point samples per fine pixel), so
//!    pixels on the metal boundary mix metal and tissue; the projector integrates this fraction
//!    map, which gives the metal trace its partial-volume edge.
//! 3. **Tissue decomposition.** Outside metal, each fine pixel's μ at the reference energy
//!    E₀ = 70 keV (μ = μ_water·(1 + HU/1000)) is split into water and cortical bone by HU
//!    thresholds: water below 100 HU, bone above 1500 HU, a linear mix `β = (HU − 100)/1400` in
//!    between (the thresholds of Zhang & Yu's code). Each part becomes an equivalent density
//!    `ρ_w = (1 − β)·μ/μ_w(E₀)`, `ρ_b = β·μ/μ_b(E₀)` so the mixture reproduces μ exactly at E₀.
//! 4. **Polychromatic projection.** Density line integrals `L_w, L_b, L_m` (g/cm³·mm) are
//!    forward-projected ([`crate::projector`]) in the pipeline's fan-beam geometry (by
//!    linearity from the memoised clean scan and sparse projections of the bone and insert
//!    regions, `density_integrals`) and combined
//!    per bin as `λ = I0·Σ_E f(E)·exp(−Σ_m (μ/ρ)_m(E)·L_m/10)` over the 120 kVp Kramers spectrum
//!    with 2.5 mm Al ([`crate::spectrum`], 2 keV bins) and the NIST μ/ρ tables
//!    ([`crate::materials`]); photon-counting detector.
//! 5. **Noise and scatter.** `N = Poisson(λ + s) + N(0, σe²)` with an uncorrected uniform
//!    scatter floor `s = scatter_fraction·I0`; `p = −ln(max(N, ε)/I0)` ([`crate::photon`]). Behind
//!    metal the primary falls to a few photons, so the scatter floor and noise dominate: dark
//!    streaks and photon-starvation noise.
//! 6. **Water beam-hardening correction** (as every scanner does): a polynomial mapping the
//!    polychromatic line integral `p` of water to the monochromatic `μ_water(E₀)·L`, in the form
//!    `p·(c₀ + … + c₄x⁴)`, `x = p/p_max`, least-squares fitted over water paths 0.5–600 mm for the
//!    same spectrum ([`WaterBhc`]).
//!    It flattens water (removes cupping) but not bone or metal beam hardening.
//! 7. FBP ([`crate::fbp`], Shepp–Logan) → HU. The metal itself appears with its μ(E₀) HU
//!    (thousands of HU, typically clipped by the display window), with streaks between the
//!    inserts and dark bands along the lines joining them.
//!
//! A monochromatic, noise-free variant ([`Physics::Monochromatic`]: μ(E₀) everywhere, no noise,
//! no scatter) is provided as the reference that shows what is *not* artefact.
//!
//! # Typical severities
//! mild: one Ti rod of 1.5–3 mm radius (faint streaks); severe: 2–4 Fe/Cu rods of 4–8 mm
//! (strong streaks and dark bands between them).
//!
//! # References
//! - Y. Zhang, H. Yu, "Convolutional Neural Network Based Metal Artifact Reduction in X-Ray
//!   Computed Tomography", IEEE TMI 37(6), 2018 (simulation protocol and HU thresholds).
//! - H. Liao, W.-A. Lin, S. K. Zhou, J. Luo, "ADN: Artifact Disentanglement Network for
//!   Unsupervised Metal Artifact Reduction", IEEE TMI 39(3), 2019.
//! - J. Hsieh, *Computed Tomography*, 2nd ed., SPIE 2009, §7.2 (water beam-hardening correction).

use crate::corrupt_util::{check_hu, BODY_HU};
use crate::low_dose::{DEFAULT_ELECTRONIC_NOISE, DEFAULT_FULL_DOSE_I0};
use crate::materials::{Material, Metal as MetalKind};
use crate::phantom::{rasterize, Ellipse};
use crate::photon::{log_transform, sample_count};
use crate::pipeline::{reconstruct_hu_with, resample_to_square, to_mu_fine_with, ScanSettings};
use crate::projector::try_forward;
use crate::spectrum::{water_bone_rows, Spectrum, Transmission3};
use crate::units::mu_to_hu;
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng, Seed};
use ndarray::{Array2, Zip};
use rand::Rng;
use rayon::prelude::*;
use std::sync::Arc;

/// Reference energy (keV) at which image μ values are defined.
pub const REFERENCE_KEV: f64 = 70.0;
/// Water below this HU is pure water-equivalent.
pub const HU_WATER_MAX: f32 = 100.0;
/// Bone above this HU is pure cortical bone.
pub const HU_BONE_MIN: f32 = 1500.0;
artefact_core::choice! {
    /// Insert shapes.
    pub enum InsertShape {
        /// A disc (rod seen end-on).
        Rod = "rod",
        /// An ellipse of random orientation.
        Ellipse = "ellipse",
    }
}

/// Insert shape names.
pub const SHAPES: &[&str] = InsertShape::NAMES;

artefact_core::params! {
    /// Parameters of `ct.metal` (declared in the sampling order).
    pub struct MetalParams {
        /// number of inserts placed inside the body (mild 1, severe 2–4)
        pub count: u32 = int(2, [1, 6]),
        /// insert metal: Ti 4.5, Fe 7.87, Cu 8.96 g/cm³ (mild Ti, severe Fe/Cu)
        pub material: MetalKind = choice(MetalKind::Titanium),
        /// rod radius / ellipse semi-major axis (mild 1.5–3, severe 4–8)
        pub radius_mm: f64 = float(3.0, [0.5, 20.0], "mm"),
        /// rod (disc) or ellipse (random orientation)
        pub shape: InsertShape = choice(InsertShape::Rod),
        /// ellipse minor/major axis ratio
        pub aspect: f64 = float(0.5, [0.2, 1.0]),
        /// air-scan photons per bin and view
        pub i0: f64 = float(DEFAULT_FULL_DOSE_I0, [1e3, 1e7], "photons"),
        /// uncorrected uniform scatter floor relative to I0
        pub scatter_fraction: f64 = float(0.001, [0.0, 0.05], "fraction"),
        /// Gaussian readout noise σe
        pub electronic_noise: f64 = float(DEFAULT_ELECTRONIC_NOISE, [0.0, 100.0], "photons"),
        /// apply the scanner's water beam-hardening correction
        pub bhc: bool = bool(true),
        /// seed of insert placement and noise (sampled when absent)
        pub seed: u64 = seed,
        /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
        /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
        #[serde(default = "ScanSettings::legacy")]
        pub scan: ScanSettings = derived(ScanSettings::default()),
    }
}

static INFO: OpInfo = OpInfo {
    name: "ct.metal",
    modality: "CT",
    doc: "Metal artefacts: Ti/Fe/Cu inserts inside the body, polychromatic 120 kVp projection \
          with water/bone decomposition, partial volume, Poisson noise with scatter floor, water \
          BHC, FBP → streaks and dark bands (Zhang & Yu / ADN protocol). Mild: one Ti rod 1.5–3 \
          mm; severe: 2–4 Fe/Cu rods 4–8 mm.",
    params: MetalParams::PARAMS,
};

/// How the projections are formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Physics {
    /// The full model (polychromatic, noise, scatter, BHC as in the params).
    Polychromatic,
    /// Reference: μ at 70 keV everywhere (metal included), no noise, no scatter, no BHC.
    Monochromatic,
    /// Polychromatic expected counts without noise (scatter and BHC as in the params).
    PolychromaticNoiseless,
}

impl MetalParams {
    fn metal(&self) -> MetalKind {
        self.material
    }
}

/// Water beam-hardening correction: `p_mono = p·Σ_{k<5} c_k·(p/p_max)^k`, fitted for one
/// spectrum (the ratio `p_mono/p` is smooth in `p`; the form is exact at `p = 0`, so air rays
/// stay at 0).
#[derive(Clone, Debug, PartialEq)]
pub struct WaterBhc {
    coeffs: [f64; 5],
    p_max: f64,
}

impl WaterBhc {
    /// Fit for `spectrum`, water density `mu_water/μ_w(E₀)` (the density the HU scale gives
    /// 0 HU), target `mu_water·L`, water paths 0.5–600 mm (least squares on the ratio).
    pub fn fit(spectrum: &Spectrum, mu_water: f64) -> WaterBhc {
        let rho = mu_water / Material::Water.mu_per_mm(REFERENCE_KEV, 1.0);
        let n = 240;
        let pts: Vec<(f64, f64)> = (1..=n)
            .map(|i| {
                // denser sampling at short paths (quadratic spacing)
                let l = 600.0 * (i as f64 / n as f64).powi(2);
                let p = -spectrum.transmission(Material::Water, rho, l).ln();
                (p, mu_water * l / p)
            })
            .collect();
        let p_max = pts.last().expect("points").0.max(1e-9);
        // least squares via normal equations on x = p/p_max ∈ (0, 1]
        let mut ata = [[0.0f64; 5]; 5];
        let mut atb = [0.0f64; 5];
        for &(p, ratio) in &pts {
            let x = p / p_max;
            let pw: Vec<f64> = (0..5).map(|k| x.powi(k)).collect();
            for r in 0..5 {
                atb[r] += pw[r] * ratio;
                for c in 0..5 {
                    ata[r][c] += pw[r] * pw[c];
                }
            }
        }
        let coeffs = solve5(ata, atb);
        WaterBhc { coeffs, p_max }
    }

    /// Corrected (monochromatic-equivalent) line integral.
    #[inline]
    pub fn apply(&self, p: f64) -> f64 {
        let x = p / self.p_max;
        let c = &self.coeffs;
        p * (c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * c[4]))))
    }
}

/// Gaussian elimination with partial pivoting for a 5×5 system.
fn solve5(mut a: [[f64; 5]; 5], mut b: [f64; 5]) -> [f64; 5] {
    for col in 0..5 {
        let piv = (col..5)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("rows");
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col];
        for r in col + 1..5 {
            let f = a[r][col] / pivot_row[col];
            for (x, &p) in a[r].iter_mut().zip(pivot_row.iter()).skip(col) {
                *x -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; 5];
    for r in (0..5).rev() {
        let s: f64 = (r + 1..5).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// Place `params.count` inserts inside the body of `image` (HU), deterministically from the
/// seed. Returned ellipses are in world mm (x right, y up), value 1.
pub fn place_inserts(params: &MetalParams, image: &Image) -> Result<Vec<Ellipse>> {
    params.validate()?;
    let mut rng = Seed::from_u64(params.seed).child("ct.metal/place").rng();
    let (rows, cols) = image.data.dim();
    let [sr, sc] = image.spacing;
    let (h, w) = (rows as f64 * sr, cols as f64 * sc);
    let a = params.radius_mm;
    let b = if params.shape == InsertShape::Ellipse {
        params.aspect * a
    } else {
        a
    };
    let margin = 3.0;
    let reach = a + margin;
    let inside_body = |x: f64, y: f64| -> bool {
        // every image pixel centre within `reach` of (x, y) must be body; and the disc must fit
        let c0 = (((x - reach) + w / 2.0) / sc - 0.5).floor().max(0.0) as usize;
        let c1 = ((((x + reach) + w / 2.0) / sc - 0.5).ceil().max(0.0) as usize).min(cols - 1);
        let r0 = (((h / 2.0 - (y + reach)) / sr) - 0.5).floor().max(0.0) as usize;
        let r1 = ((((h / 2.0 - (y - reach)) / sr) - 0.5).ceil().max(0.0) as usize).min(rows - 1);
        if x - reach < -w / 2.0
            || x + reach > w / 2.0
            || y - reach < -h / 2.0
            || y + reach > h / 2.0
        {
            return false;
        }
        for i in r0..=r1 {
            for j in c0..=c1 {
                let px = (j as f64 + 0.5) * sc - w / 2.0;
                let py = h / 2.0 - (i as f64 + 0.5) * sr;
                if (px - x).powi(2) + (py - y).powi(2) <= reach * reach
                    && image.data[[i, j]] <= BODY_HU
                {
                    return false;
                }
            }
        }
        true
    };
    let mut out: Vec<Ellipse> = Vec::new();
    for _ in 0..params.count {
        let mut placed = false;
        for _ in 0..4000 {
            let x = rng.random_range(-w / 2.0..w / 2.0);
            let y = rng.random_range(-h / 2.0..h / 2.0);
            let phi = rng.random_range(0.0..std::f64::consts::PI);
            if out
                .iter()
                .any(|e| (e.x0 - x).hypot(e.y0 - y) < e.a + a + 5.0)
            {
                continue;
            }
            if inside_body(x, y) {
                out.push(Ellipse {
                    x0: x,
                    y0: y,
                    a,
                    b,
                    phi,
                    value: 1.0,
                });
                placed = true;
                break;
            }
        }
        if !placed {
            return Err(CtError::Input(format!(
                "cannot place {} insert(s) of radius {} mm inside the body",
                params.count, params.radius_mm
            )));
        }
    }
    Ok(out)
}

/// Apply with an explicit scan and physics (the operator uses the default scan and
/// [`Physics::Polychromatic`]); the inserts are placed by [`place_inserts`].
pub fn apply_with(
    params: &MetalParams,
    image: &Image,
    scan: &ScanSettings,
    physics: Physics,
) -> Result<Image> {
    check_hu(image)?;
    let inserts = place_inserts(params, image)?;
    apply_with_inserts(params, image, &inserts, scan, physics)
}

/// Like [`apply_with`] with caller-chosen inserts (world mm, x right, y up; `value` ignored).
/// `params.count`, `radius_mm`, `shape` and `aspect` are then unused.
pub fn apply_with_inserts(
    params: &MetalParams,
    image: &Image,
    inserts: &[Ellipse],
    scan: &ScanSettings,
    physics: Physics,
) -> Result<Image> {
    check_hu(image)?;
    let up = scan.upsample.max(1);
    let (_, grid) = to_mu_fine_with(image, up, scan.mu_water);
    let unit: Vec<Ellipse> = inserts
        .iter()
        .map(|e| Ellipse { value: 1.0, ..*e })
        .collect();
    let frac = rasterize(&unit, &grid, 4).mapv(|v| v.min(1.0));
    simulate_metal(params, image, &frac, scan, physics)
}

/// Like [`apply_with`] with a caller-supplied metal fraction map on the image grid (values in
/// [0, 1]; e.g. a segmented implant), resampled bilinearly onto the fine grid.
pub fn apply_with_mask(
    params: &MetalParams,
    image: &Image,
    mask: &Array2<f32>,
    scan: &ScanSettings,
    physics: Physics,
) -> Result<Image> {
    check_hu(image)?;
    if mask.dim() != image.data.dim() {
        return Err(CtError::Input(format!(
            "metal mask {:?} does not match the image {:?}",
            mask.dim(),
            image.data.dim()
        )));
    }
    if mask
        .iter()
        .any(|v| !(v.is_finite() && (0.0..=1.0).contains(v)))
    {
        return Err(CtError::Input(
            "metal mask values must lie in [0, 1]".into(),
        ));
    }
    let (frac, _) = resample_to_square(mask, image.spacing, scan.upsample.max(1));
    simulate_metal(params, image, &frac, scan, physics)
}

fn simulate_metal(
    params: &MetalParams,
    image: &Image,
    frac: &Array2<f32>,
    scan: &ScanSettings,
    physics: Physics,
) -> Result<Image> {
    params.validate()?;
    let metal = params.metal().material();
    let geom = scan.geometry_for(image)?;
    let (mu, grid) = to_mu_fine_with(image, scan.upsample.max(1), scan.mu_water);
    if frac.dim() != mu.dim() {
        return Err(CtError::Input(format!(
            "metal fraction grid {:?} does not match the projection grid {:?}",
            frac.dim(),
            mu.dim()
        )));
    }
    if physics == Physics::Monochromatic {
        let rho_m = metal.density();
        let mu_m = metal.mu_per_mm(REFERENCE_KEV, rho_m) as f32;
        let mut mono = mu.clone();
        Zip::from(&mut mono)
            .and(frac)
            .for_each(|m, &f| *m = (1.0 - f) * *m + f * mu_m);
        let sino = try_forward(mono.view(), &grid, &geom)?;
        return reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water);
    }
    let (lw, lb, lm) = density_integrals(&mu, frac, &grid, &geom, metal, scan.mu_water)?;
    let spectrum = Spectrum::clinical_120kvp();
    // per-energy photon fraction and mass attenuations per g/cm³·mm
    let table = Transmission3::new(&water_bone_rows(&spectrum, metal));
    let i0 = params.i0;
    let scatter = params.scatter_fraction * i0;
    let bhc = params.bhc.then(|| WaterBhc::fit(&spectrum, scan.mu_water));
    let seed = Seed::from_u64(params.seed).child("ct.metal/noise");
    let noisy = physics == Physics::Polychromatic;
    let sigma_e = params.electronic_noise;
    let nd = geom.n_det;
    let mut sino = Array2::<f32>::zeros((geom.n_views(), nd));
    sino.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(nd.max(1))
        .enumerate()
        .for_each(|(v, row)| {
            let mut rng = seed.child(&format!("view-{v}")).rng();
            let mut trans = vec![0.0f64; nd];
            table.row(
                lw.row(v).as_slice().expect("standard"),
                lb.row(v).as_slice().expect("standard"),
                lm.row(v).as_slice().expect("standard"),
                &mut trans,
            );
            for (out, &t) in row.iter_mut().zip(&trans) {
                let lam = i0 * t + scatter;
                let n = if noisy {
                    sample_count(lam, sigma_e, &mut rng)
                } else {
                    lam
                };
                let p = log_transform(n, i0);
                *out = match &bhc {
                    Some(w) => w.apply(p),
                    None => p,
                } as f32;
            }
        });
    reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water)
}

/// Density line integrals `(L_w, L_b, L_m)` (g/cm³·mm) of the water, bone and metal maps of
/// `mu` with metal fraction `frac`, each `(views, n_det)`.
///
/// By linearity of the projector, so the one full projection is the clean scan `P(μ)`,
/// memoised ([`crate::memo`]): shared with the other attributes of the slice and with every
/// retry of a severity band (new inserts, same slice). With `B = β·μ` the bone part,
/// `μ_w·ρ_w = (1 − f)(μ − B)` and `μ_b·ρ_b = (1 − f)·B`, so
/// `μ_w·L_w = P(μ) − P(B) − P(f·(μ − B))` and `μ_b·L_b = P(B) − P(f·B)`. `P(B)` is memoised
/// too when the bone is spread over the slice (else projected in its boxes), and the `f`
/// terms are zero outside the inserts: projected insert by insert
/// ([`crate::projector::Projector::forward_sparse_parts`]).
/// Equal to projecting the density maps directly up to f32 rounding (tested).
fn density_integrals(
    mu: &Array2<f32>,
    frac: &Array2<f32>,
    grid: &crate::geometry::Grid,
    geom: &crate::geometry::Geometry,
    metal: Material,
    mu_water: f64,
) -> Result<(Array2<f64>, Array2<f64>, Array2<f32>)> {
    let parts = decompose(mu, frac, metal, mu_water);
    let projector = crate::memo::projector(grid, geom)?;
    let clean = crate::memo::forward(mu.view(), grid, geom)?;
    // the bone part depends on the slice only: memoised like the clean scan when it is spread
    // out (a skull, ribs); the insert parts change with every sample: projected per insert
    let pb = match projector.forward_sparse_parts(parts.bone.view())? {
        Some(s) => Arc::new(s),
        None => crate::memo::forward(parts.bone.view(), grid, geom)?,
    };
    let fresh = |m: &Array2<f32>| -> Result<Array2<f32>> {
        match projector.forward_sparse_parts(m.view())? {
            Some(s) => Ok(s),
            None => projector.forward(m.view()),
        }
    };
    let pfw = fresh(&parts.metal_water)?;
    let pfb = fresh(&parts.metal_bone)?;
    let lm = fresh(&parts.metal)?;
    let kw = Material::Water.mu_per_mm(REFERENCE_KEV, 1.0);
    let kb = Material::CorticalBone.mu_per_mm(REFERENCE_KEV, 1.0);
    // f64 differences of f32 projections; a path is never negative (rounding at air rays)
    let mut lw = Array2::<f64>::zeros(clean.dim());
    let mut lb = Array2::<f64>::zeros(clean.dim());
    Zip::from(&mut lw)
        .and(&mut lb)
        .and(clean.as_ref())
        .and(pb.as_ref())
        .and(&pfw)
        .and(&pfb)
        .for_each(|w, b, &c, &pb, &pfw, &pfb| {
            *w = ((c as f64 - pb as f64 - pfw as f64) / kw).max(0.0);
            *b = ((pb as f64 - pfb as f64) / kb).max(0.0);
        });
    Ok((lw, lb, lm))
}

/// The maps whose projections give the density line integrals (see `simulate_metal`).
struct Parts {
    /// `B = β·μ` (mm⁻¹): the bone part of the clean image.
    bone: Array2<f32>,
    /// `f·(μ − B)` (mm⁻¹): the water part replaced by metal.
    metal_water: Array2<f32>,
    /// `f·B` (mm⁻¹): the bone part replaced by metal.
    metal_bone: Array2<f32>,
    /// `f·ρ_m` (g/cm³): the metal density.
    metal: Array2<f32>,
}

/// Split μ (mm⁻¹ at 70 keV) by the HU thresholds into its bone part and the parts that the
/// metal fraction `frac` replaces (water by `(1 − β)`, bone by `β`), and the metal density.
fn decompose(mu: &Array2<f32>, frac: &Array2<f32>, metal: Material, mu_water: f64) -> Parts {
    let rho_m = metal.density() as f32;
    let zeros = || Array2::<f32>::zeros(mu.dim());
    let (mut bone, mut mw, mut mb, mut dm) = (zeros(), zeros(), zeros(), zeros());
    Zip::from(&mut bone)
        .and(&mut mw)
        .and(&mut mb)
        .and(&mut dm)
        .and(mu)
        .and(frac)
        .for_each(|b, w, m_b, m, &u, &f| {
            let hu = mu_to_hu(u, mu_water);
            let beta = ((hu - HU_WATER_MAX) / (HU_BONE_MIN - HU_WATER_MAX)).clamp(0.0, 1.0);
            *b = beta * u;
            *w = f * (u - *b);
            *m_b = f * *b;
            *m = f * rho_m;
        });
    Parts {
        bone,
        metal_water: mw,
        metal_bone: mb,
        metal: dm,
    }
}

/// The `ct.metal` operator.
pub struct Metal;

impl Operator for Metal {
    type Params = MetalParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<MetalParams> {
        Ok(MetalParams::sample(spec, rng)?)
    }

    fn apply(params: &MetalParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan, Physics::Polychromatic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The density line integrals by linearity (clean scan minus sparse parts) equal the direct
    /// projections of the density maps `ρ_w = (1 − f)(1 − β)μ/μ_w`, `ρ_b = (1 − f)βμ/μ_b` (the
    /// slow reference, the form before the memoised clean scan) up to f32 rounding, on a
    /// water body with bone (a mixed-HU ring and dense bone) and two inserts, one of them in bone.
    #[test]
    fn density_integrals_by_linearity_equal_direct_projections() {
        let n = 128;
        let c = (n as f64 - 1.0) / 2.0;
        let data = Array2::from_shape_fn((n, n), |(r, col)| {
            let (y, x) = (r as f64 - c, col as f64 - c);
            let d = x.hypot(y);
            let hu = if d > 56.0 {
                -1000.0
            } else if (40.0..44.0).contains(&d) {
                800.0 // β = 0.5
            } else if (x - 10.0).hypot(y + 20.0) < 8.0 {
                1900.0 // β = 1
            } else {
                40.0
            };
            hu as f32
        });
        let image = Image::new(
            data,
            [1.0, 1.0],
            artefact_core::Modality::Ct,
            artefact_core::Unit::Hu,
        )
        .unwrap();
        let scan = ScanSettings::default();
        let geom = scan.geometry_for(&image).unwrap();
        let (mu, grid) = to_mu_fine_with(&image, scan.upsample.max(1), scan.mu_water);
        let inserts = [
            Ellipse {
                x0: 10.0,
                y0: 20.0,
                a: 5.0,
                b: 5.0,
                phi: 0.0,
                value: 1.0,
            },
            Ellipse {
                x0: -30.0,
                y0: 0.0,
                a: 3.0,
                b: 3.0,
                phi: 0.0,
                value: 1.0,
            },
        ];
        let frac = rasterize(&inserts, &grid, 4).mapv(|v| v.min(1.0));
        assert!(frac.iter().any(|&f| f > 0.0));
        let metal = Material::Iron;
        let (lw, lb, lm) =
            density_integrals(&mu, &frac, &grid, &geom, metal, scan.mu_water).unwrap();
        // reference: the density maps projected directly
        let kw = Material::Water.mu_per_mm(REFERENCE_KEV, 1.0);
        let kb = Material::CorticalBone.mu_per_mm(REFERENCE_KEV, 1.0);
        let mut dw = Array2::<f32>::zeros(mu.dim());
        let mut db = Array2::<f32>::zeros(mu.dim());
        Zip::from(&mut dw)
            .and(&mut db)
            .and(&mu)
            .and(&frac)
            .for_each(|w, b, &u, &f| {
                let hu = mu_to_hu(u, scan.mu_water);
                let beta = ((hu - HU_WATER_MAX) / (HU_BONE_MIN - HU_WATER_MAX)).clamp(0.0, 1.0);
                *w = (1.0 - f) * (1.0 - beta) * u / kw as f32;
                *b = (1.0 - f) * beta * u / kb as f32;
            });
        let p = crate::projector::Projector::new(&grid, &geom).unwrap();
        let (rw, rb) = (p.forward(dw.view()).unwrap(), p.forward(db.view()).unwrap());
        let rm = p
            .forward(frac.mapv(|f| f * metal.density() as f32).view())
            .unwrap();
        let max_w = rw.iter().fold(0f32, |m, &v| m.max(v)) as f64;
        let max_b = rb.iter().fold(0f32, |m, &v| m.max(v)) as f64;
        assert!(max_b > 1.0, "bone present: {max_b}");
        let worst = |a: &Array2<f64>, r: &Array2<f32>| {
            a.iter()
                .zip(r)
                .map(|(&x, &y)| (x - y as f64).abs())
                .fold(0f64, f64::max)
        };
        let (ew, eb) = (worst(&lw, &rw), worst(&lb, &rb));
        assert!(ew <= 1e-5 * max_w, "water: {ew} of {max_w}");
        assert!(eb <= 1e-5 * max_b, "bone: {eb} of {max_b}");
        let em = lm
            .iter()
            .zip(&rm)
            .map(|(&x, &y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(
            em <= 1e-5 * rm.iter().fold(0f32, |m, &v| m.max(v)),
            "metal: {em}"
        );
    }
}
