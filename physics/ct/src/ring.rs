//! `ct.ring`: ring artefacts from miscalibrated and dead detector elements.
//!
//! # Model
//! Detector element `k` has a gain `g_k = 1 + σ_g·z_k` (`z_k ~ N(0, 1)`, clamped to ≥ 0.05)
//! that the flat-field (air scan) calibration does not remove, e.g. a gain drift since the
//! last calibration. It is applied in the **intensity domain**: the element records
//! `g_k·I0·e^(−p)` and the log transform with the nominal air scan gives
//! `p' = p − ln g_k`, i.e. a **constant offset of the line integral along all views** of that
//! element. `dead_detectors` elements (chosen among the bins whose rays cross the body) record
//! no signal: after the log floor ε ([`crate::photon::LOG_FLOOR_PHOTONS`]) they read
//! `p' = ln(I0/ε)` with the full-dose `I0` of [`crate::low_dose::DEFAULT_FULL_DOSE_I0`]
//! (uncorrected dead pixels; scanners normally interpolate them away).
//!
//! In a third-generation geometry a bin sees, in every view, the line at the same distance
//! `r_k` from the isocentre (`r_k = u_k` parallel, `R_s·sin γ_k` fan), so its constant error
//! back-projects onto the circle of radius `r_k`: concentric rings (half rings for short
//! scans). The radial-profile test checks that the ring lies at `r_k`.
//!
//! # Typical severities
//! mild: `gain_std` 0.002–0.005, no dead elements (faint thin rings);
//! severe: `gain_std` 0.006–0.012 (strong rings across the body); a dead element adds a
//! very bright ring and a dark offset inside it, more than the bundled recipes use.
//!
//! # References
//! - J. Hsieh, *Computed Tomography*, 2nd ed., SPIE 2009, §7.4 (ring artefacts).
//! - J. Sijbers, A. Postnov, "Reduction of ring artefacts in high resolution micro-CT
//!   reconstructions", Phys. Med. Biol. 49, 2004.

use crate::corrupt_util::{body_radius_mm, check_hu, ray_distance_mm};
use crate::geometry::Geometry;
use crate::low_dose::DEFAULT_FULL_DOSE_I0;
use crate::photon::LOG_FLOOR_PHOTONS;
use crate::pipeline::{simulate, ScanSettings};
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng, Seed};
use ndarray::Array2;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

artefact_core::params! {
    /// Parameters of `ct.ring`.
    pub struct RingParams {
        /// relative std of detector gain errors (mild 0.002–0.005, severe 0.01–0.03)
        pub gain_std: f64 = float(0.005, [0.0, 0.2], "fraction"),
        /// number of dead elements inside the body's shadow (mild 0, severe 1–2)
        pub dead_detectors: u32 = int(0, [0, 16]),
        /// seed of the gain pattern and dead-element positions (sampled when absent)
        pub seed: u64 = seed,
        /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
        /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
        #[serde(default = "ScanSettings::legacy")]
        pub scan: ScanSettings = derived(ScanSettings::default()),
    }
}

static INFO: OpInfo = OpInfo {
    name: "ct.ring",
    modality: "CT",
    doc: "Ring artefacts: uncalibrated per-detector gain errors (constant line-integral offsets \
          −ln g along all views) and dead elements, FBP → concentric rings. Mild: gain_std \
          0.002–0.005; severe: 0.01–0.03 with 1–2 dead elements.",
    params: RingParams::PARAMS,
};

impl RingParams {}

/// Per-element gains (`0` marks a dead element) for `geom`; dead elements are drawn among the
/// bins whose ray passes within `0.9·body_radius_mm` of the isocentre (all bins if 0).
pub fn detector_gains(
    params: &RingParams,
    geom: &Geometry,
    body_radius_mm: f64,
) -> Result<Vec<f64>> {
    params.validate()?;
    let mut rng = Seed::from_u64(params.seed).child("ct.ring").rng();
    let mut g: Vec<f64> = (0..geom.n_det)
        .map(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (1.0 + params.gain_std * z).max(0.05)
        })
        .collect();
    let mut candidates: Vec<usize> = (0..geom.n_det)
        .filter(|&k| {
            body_radius_mm <= 0.0 || ray_distance_mm(geom, k).abs() <= 0.9 * body_radius_mm
        })
        .collect();
    for _ in 0..params.dead_detectors {
        if candidates.is_empty() {
            break;
        }
        let i = rng.random_range(0..candidates.len());
        g[candidates.swap_remove(i)] = 0.0;
    }
    Ok(g)
}

/// Apply gains to a sinogram of line integrals: `p' = p − ln g_k`; dead elements read
/// `ln(I0/ε)`.
pub fn apply_gains(sino: &mut Array2<f32>, gains: &[f64]) -> Result<()> {
    if sino.ncols() != gains.len() {
        return Err(CtError::Input(format!(
            "{} gains for {} detector bins",
            gains.len(),
            sino.ncols()
        )));
    }
    let dead = (DEFAULT_FULL_DOSE_I0 / LOG_FLOOR_PHOTONS).ln() as f32;
    let offs: Vec<Option<f32>> = gains
        .iter()
        .map(|&g| {
            if g > 0.0 {
                Some(-(g.ln()) as f32)
            } else {
                None
            }
        })
        .collect();
    for mut row in sino.rows_mut() {
        for (x, o) in row.iter_mut().zip(&offs) {
            *x = match o {
                Some(d) => *x + d,
                None => dead,
            };
        }
    }
    Ok(())
}

/// Apply with an explicit scan (the operator uses the recorded `params.scan`).
pub fn apply_with(params: &RingParams, image: &Image, scan: &ScanSettings) -> Result<Image> {
    check_hu(image)?;
    params.validate()?;
    let r_body = body_radius_mm(image);
    simulate(image, scan, |sino, geom| {
        let g = detector_gains(params, geom, r_body)?;
        apply_gains(sino, &g)
    })
}

/// The `ct.ring` operator.
pub struct Ring;

impl Operator for Ring {
    type Params = RingParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<RingParams> {
        // draw order of the records made before the declaration: dead_detectors, gain_std, seed
        let dead_detectors = RingParams::dead_detectors.sample(spec, rng)?;
        let gain_std = RingParams::gain_std.sample(spec, rng)?;
        Ok(RingParams {
            gain_std,
            dead_detectors,
            seed: RingParams::seed.sample(spec, rng)?,
            scan: ScanSettings::default(),
        })
    }

    fn apply(params: &RingParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan)
    }
}
