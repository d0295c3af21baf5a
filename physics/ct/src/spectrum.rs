//! X-ray tube spectra for the polychromatic (metal / beam-hardening) simulation.
//!
//! # Model
//! A tungsten-anode bremsstrahlung spectrum from **Kramers' law** (H. A. Kramers, Phil. Mag. 46,
//! 836, 1923): for a thick target the energy fluence per unit photon energy is
//! `Ψ(E) ∝ Z·(E_max − E)`, so the photon fluence is `Φ(E) ∝ Z·(E_max − E)/E` for
//! `E < E_max = kVp`. The beam is then hardened by a total aluminium-equivalent filtration `t_Al`
//! (inherent tube window plus added filter; 2.5 mm Al is the usual minimum total filtration of a
//! diagnostic tube above 70 kVp, IEC 60601-1-3):
//! `Φ_f(E) = Φ(E)·exp(−μ_Al(E)·t_Al)` with μ_Al from the NIST tables in [`crate::materials`].
//!
//! The spectrum is discretised in bins of `bin_kev` from 20 keV to kVp; each bin carries the
//! photon fraction of its mid-point density times its width, and fractions sum to 1. Photons
//! below 20 keV are dropped: after 2.5 mm Al they are ≈ 1 % of the fluence and any body
//! thicker than a few cm absorbs them completely.
//!
//! # Limits (what is not modelled)
//! No tungsten characteristic lines (Kα ≈ 58–59 keV, Kβ ≈ 67 keV, ~5–10 % of the photons of a
//! real 120 kVp beam), no self-absorption in the anode (heel effect), no bowtie filter, no
//! detector energy response: the detector is treated as photon counting (each photon counts
//! one). Compared with a TASMIP/SpekPy spectrum at the same kVp and filtration the Kramers
//! spectrum is somewhat softer (see the spectrum test for the numbers). It is a documented,
//! reproducible stand-in that produces beam hardening of the right size and sign; it is not a
//! scanner-specific spectrum.
//!
//! References: Kramers (1923); J. M. Boone, J. A. Seibert, "An accurate method for computer-
//! generating tungsten anode x-ray spectra from 30 to 140 kV", Med. Phys. 24(11), 1997 (TASMIP,
//! the higher-fidelity alternative); Y. Zhang, H. Yu, IEEE TMI 37(6), 2018 (120 kVp spectrum in
//! their metal-artefact simulation).

use crate::materials::Material;
use crate::{CtError, Result};

/// Lowest photon energy kept in the discretised spectra (keV).
pub const MIN_ENERGY_KEV: f64 = 20.0;

/// A discretised photon spectrum: bin-centre energies and photon fractions summing to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    energies_kev: Vec<f64>,
    fractions: Vec<f64>,
}

impl Spectrum {
    /// Kramers' law tungsten spectrum at `kvp` (kV) filtered by `al_mm` of aluminium, in bins of
    /// `bin_kev` from 20 keV to `kvp`.
    pub fn kramers(kvp: f64, al_mm: f64, bin_kev: f64) -> Result<Spectrum> {
        if !(kvp.is_finite() && (40.0..=150.0).contains(&kvp)) {
            return Err(CtError::Param {
                param: "kvp",
                reason: format!("{kvp} kV is outside 40–150 kV"),
            });
        }
        if !(al_mm.is_finite() && (0.0..=20.0).contains(&al_mm)) {
            return Err(CtError::Param {
                param: "al_mm",
                reason: format!("{al_mm} mm Al is outside 0–20 mm"),
            });
        }
        if !(bin_kev.is_finite() && (0.1..=10.0).contains(&bin_kev)) {
            return Err(CtError::Param {
                param: "bin_kev",
                reason: format!("bin width {bin_kev} keV is outside 0.1–10 keV"),
            });
        }
        let n = ((kvp - MIN_ENERGY_KEV) / bin_kev).ceil() as usize;
        let mut energies = Vec::with_capacity(n);
        let mut w = Vec::with_capacity(n);
        for i in 0..n {
            let lo = MIN_ENERGY_KEV + i as f64 * bin_kev;
            let hi = (lo + bin_kev).min(kvp);
            let e = 0.5 * (lo + hi);
            let width = hi - lo;
            let phi = (kvp - e) / e * width;
            let filt = (-Material::Aluminium.mu_nominal_per_mm(e) * al_mm).exp();
            energies.push(e);
            w.push(phi * filt);
        }
        let total: f64 = w.iter().sum();
        let fractions = w.into_iter().map(|x| x / total).collect();
        Ok(Spectrum {
            energies_kev: energies,
            fractions,
        })
    }

    /// The default spectrum of the metal simulation: 120 kVp, 2.5 mm Al, 2 keV bins.
    pub fn clinical_120kvp() -> Spectrum {
        Spectrum::kramers(120.0, 2.5, 2.0).expect("valid constants")
    }

    /// Bin-centre energies (keV).
    pub fn energies_kev(&self) -> &[f64] {
        &self.energies_kev
    }

    /// Photon fractions per bin (sum 1).
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    /// Photon-weighted mean energy (keV).
    pub fn mean_energy_kev(&self) -> f64 {
        self.energies_kev
            .iter()
            .zip(&self.fractions)
            .map(|(e, f)| e * f)
            .sum()
    }

    /// Fraction of photons transmitted through `length_mm` of `material` at density
    /// `rho_g_cm3` (photon-counting detector).
    pub fn transmission(&self, material: Material, rho_g_cm3: f64, length_mm: f64) -> f64 {
        self.energies_kev
            .iter()
            .zip(&self.fractions)
            .map(|(&e, &f)| f * (-material.mu_per_mm(e, rho_g_cm3) * length_mm).exp())
            .sum()
    }

    /// Half-value layer (mm) in `material` at its nominal density (bisection to 1e-6 mm).
    pub fn hvl_mm(&self, material: Material) -> f64 {
        let rho = material.density();
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while self.transmission(material, rho, hi) > 0.5 {
            hi *= 2.0;
        }
        while hi - lo > 1e-6 {
            let mid = 0.5 * (lo + hi);
            if self.transmission(material, rho, mid) > 0.5 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfiltered_kramers_mean_energy_matches_closed_form() {
        // Φ(E) ∝ (E0 − E)/E on [a, E0]: mean = ∫(E0−E)dE / ∫(E0−E)/E dE
        //   = (E0−a)²/2 / (E0·ln(E0/a) − (E0−a)).
        let s = Spectrum::kramers(120.0, 0.0, 0.1).unwrap();
        let (e0, a) = (120.0f64, MIN_ENERGY_KEV);
        let exact = (e0 - a).powi(2) / 2.0 / (e0 * (e0 / a).ln() - (e0 - a));
        assert!(
            (s.mean_energy_kev() - exact).abs() < 0.05,
            "{} vs {exact}",
            s.mean_energy_kev()
        );
        let sum: f64 = s.fractions().iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn filtration_hardens_the_beam() {
        let soft = Spectrum::kramers(120.0, 0.0, 2.0).unwrap();
        let hard = Spectrum::kramers(120.0, 2.5, 2.0).unwrap();
        let harder = Spectrum::kramers(120.0, 6.0, 2.0).unwrap();
        assert!(hard.mean_energy_kev() > soft.mean_energy_kev() + 2.0);
        assert!(harder.mean_energy_kev() > hard.mean_energy_kev() + 2.0);
        assert!(harder.hvl_mm(Material::Aluminium) > hard.hvl_mm(Material::Aluminium));
        // beam hardening in water: the effective μ falls with depth
        let mu_eff = |l: f64| -hard.transmission(Material::Water, 1.0, l).ln() / l;
        assert!(mu_eff(10.0) > mu_eff(100.0) && mu_eff(100.0) > mu_eff(300.0));
        // monochromatic limit: a 0.2 keV-wide beam just below 60 keV follows Beer–Lambert
        let mono = Spectrum {
            energies_kev: vec![60.0],
            fractions: vec![1.0],
        };
        let t = mono.transmission(Material::Water, 1.0, 200.0);
        assert!((t - (-0.02059f64 * 200.0).exp()).abs() < 1e-12);
    }

    #[test]
    fn matches_python_reference_and_documents_the_gap_to_spekpy() {
        // Reference numbers from bench/ct-corruptions/spectrum_reference.py (same Kramers model
        // in NumPy, 0.5 keV bins, NIST Al table, log-log interpolation):
        //   kramers: mean 51.170 keV, photon-count HVL 5.1549 mm Al
        // SpekPy 2.5.4 (Spek(kvp=120, th=12), 2.5 mm Al, photons ≥ 20 keV) for comparison:
        //   mean 54.640 keV, photon-count HVL 6.1264 mm Al — Kramers is ≈ 3.5 keV softer
        //   (no anode self-filtration, no characteristic lines).
        let s = Spectrum::kramers(120.0, 2.5, 0.5).unwrap();
        assert!(
            (s.mean_energy_kev() - 51.170).abs() < 0.01,
            "{}",
            s.mean_energy_kev()
        );
        let hvl = s.hvl_mm(Material::Aluminium);
        assert!((hvl - 5.1549).abs() < 0.005, "{hvl}");
        let spekpy_mean = 54.640;
        assert!((s.mean_energy_kev() - spekpy_mean).abs() < 4.0);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Spectrum::kramers(20.0, 2.5, 1.0).is_err());
        assert!(Spectrum::kramers(120.0, -1.0, 1.0).is_err());
        assert!(Spectrum::kramers(120.0, 2.5, 0.0).is_err());
        assert!(Spectrum::kramers(f64::NAN, 2.5, 1.0).is_err());
    }
}
