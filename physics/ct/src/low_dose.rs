//! `ct.low_dose`: reduced tube current (mAs) simulated as photon statistics on the sinogram.
//!
//! # Model
//! The clean image is scanned with the shared pipeline ([`crate::pipeline`]: HU → μ on a 2×
//! finer grid → fan-beam line integrals `p`). Each detector bin of each view then records
//! `N = Poisson(I0·e^(−p) + s) + N(0, σe²)` photons and is log-transformed with the air scan,
//! `p' = −ln(max(N, ε)/I0)` ([`crate::photon`]), before FBP back to HU. `I0 = dose_fraction ·
//! full_dose_i0` photons per bin and view; `s = scatter_fraction · I0` is an uncorrected,
//! uniform scatter floor (default 0); `σe` is the electronic noise in photons. Everything is in
//! physical units: the noise level follows from the attenuation along each ray, never from a
//! normalisation by `max(p)`.
//!
//! # Full dose
//! The default full dose is `I0 = 10⁶` photons per bin and view, the top of the 10⁵–10⁶ range
//! used for routine dose in low-dose CT simulation studies (10⁵ is TIGRE's `addCTnoise` default
//! and common in deep-learning LDCT papers; Zeng et al. 2015 use per-ray blank-scan fluxes of
//! the same order). The choice is calibrated on the pipeline's own sampling (bins of one pixel
//! at the isocentre, ≈ 1.5 views per bin, Shepp–Logan filter, no slice averaging): measured
//! with `tests/low_dose.rs::print_full_dose_noise_of_a_300mm_water_cylinder`, a 300 mm water
//! cylinder at 0.7 mm pixels (512²) has 42.9 HU noise at I0 = 2·10⁵ and 88.1 HU at a quarter
//! of that, so I0 = 10⁶ gives ≈ 19 HU — a routine thin-slice, sharp-kernel level; a lower I0
//! would make "full dose" already look noisy. Electronic noise defaults to σe = 3 photons
//! (σe² ≈ 10, the order Zeng et al. measured on a clinical detector).
//!
//! **Dose fraction 1 is not the clean image**: it adds the quantum noise of the full dose (the
//! clean input is treated as noise-free). Set `noise = false` for the explicit noise-off path,
//! which returns exactly the pipeline's clean reconstruction.
//!
//! # Typical severities
//! mild: `dose_fraction` 0.15–0.35 (noise ≈ 1.7–2.6× full dose, ≈ 30–50 HU at 0.7 mm);
//! severe: 0.02–0.06 (≈ 4–7× full dose, 80–135 HU, plus photon-starvation streaks through
//! dense paths).
//!
//! # References
//! - D. Zeng, J. Huang, Z. Bian, et al., "A simple low-dose X-ray CT simulation from high-dose
//!   scan", IEEE TNS 62(5), 2015 (Poisson + Gaussian electronic noise model, σe² ≈ 10).
//! - L. Yu, M. Shiung, D. Jondal, C. H. McCollough, "Development and validation of a practical
//!   lower-dose-simulation tool for optimizing CT scan protocols", JCAT 36(4), 2012.
//! - J. Hsieh, *Computed Tomography*, 2nd ed., SPIE 2009, ch. 5 (noise ∝ 1/√mAs).

use crate::photon::{add_photon_noise, PhotonModel};
use crate::pipeline::{simulate, ScanSettings};
use crate::{CtError, Result};
use artefact_core::{Image, OpInfo, Operator, ParamSpec, SampleRng, Seed};
use ndarray::Array2;

/// Default full-dose air-scan photons per detector bin and view.
pub const DEFAULT_FULL_DOSE_I0: f64 = 1.0e6;
/// Default electronic noise σe (photons).
pub const DEFAULT_ELECTRONIC_NOISE: f64 = 3.0;

artefact_core::params! {
    /// Parameters of `ct.low_dose`.
    pub struct LowDoseParams {
        /// dose relative to full dose (mild 0.15–0.35, severe 0.02–0.06); 1 still adds full-dose quantum noise
        pub dose_fraction: f64 = float(0.25, [0.005, 1.0], "fraction"),
        /// air-scan photons per detector bin and view at full dose
        pub full_dose_i0: f64 = float(DEFAULT_FULL_DOSE_I0, [1e3, 1e7], "photons"),
        /// standard deviation of the Gaussian readout noise
        pub electronic_noise: f64 = float(DEFAULT_ELECTRONIC_NOISE, [0.0, 100.0], "photons"),
        /// uniform uncorrected scatter floor relative to I0 (adds cupping/streak bias)
        pub scatter_fraction: f64 = float(0.0, [0.0, 0.2], "fraction"),
        /// photon statistics on; false gives the noise-free pipeline (identity path)
        pub noise: bool = bool(true),
        /// noise realisation seed (sampled when absent)
        pub seed: u64 = seed,
        /// Scan geometry, FBP filter and μ_water used (recorded, so a replay never depends on
        /// the code's defaults; records without it replay with [`ScanSettings::legacy`]).
        #[serde(default = "ScanSettings::legacy")]
        pub scan: ScanSettings = derived(ScanSettings::default()),
    }
}

static INFO: OpInfo = OpInfo {
    name: "ct.low_dose",
    modality: "CT",
    doc:
        "Low-dose CT: Poisson photon noise plus Gaussian electronic noise on the fan-beam sinogram \
          (I0 = dose_fraction × full_dose_i0 photons per bin), log transform, FBP. Mild: dose \
          0.15–0.35; severe: 0.02–0.06.",
    params: LowDoseParams::PARAMS,
};

impl LowDoseParams {
    /// The declared ranges and at least one photon per bin.
    pub fn check(&self) -> Result<()> {
        self.validate()?;
        if self.dose_fraction * self.full_dose_i0 < 1.0 {
            return Err(CtError::Param {
                param: "dose_fraction",
                reason: "fewer than one photon per bin at this dose".into(),
            });
        }
        Ok(())
    }

    /// The photon model of the reduced-dose scan.
    pub fn photon_model(&self) -> PhotonModel {
        let i0 = self.dose_fraction * self.full_dose_i0;
        PhotonModel {
            i0,
            scatter: self.scatter_fraction * i0,
            sigma_e: self.electronic_noise,
        }
    }
}

/// Corrupt a sinogram of line integrals in place (the projection-domain step of the operator).
pub fn corrupt(sino: &mut Array2<f32>, params: &LowDoseParams) -> Result<()> {
    params.check()?;
    if !params.noise {
        return Ok(());
    }
    add_photon_noise(
        sino,
        &params.photon_model(),
        &Seed::from_u64(params.seed).child("ct.low_dose"),
    )
}

/// Apply with an explicit scan (the operator uses the recorded `params.scan`).
pub fn apply_with(params: &LowDoseParams, image: &Image, scan: &ScanSettings) -> Result<Image> {
    params.check()?;
    simulate(image, scan, |sino, _| corrupt(sino, params))
}

/// The `ct.low_dose` operator.
pub struct LowDose;

impl Operator for LowDose {
    type Params = LowDoseParams;
    type Error = CtError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<LowDoseParams> {
        let p = LowDoseParams::sample(spec, rng)?;
        p.check()?;
        Ok(p)
    }

    fn apply(params: &LowDoseParams, image: &Image) -> Result<Image> {
        apply_with(params, image, &params.scan)
    }
}
