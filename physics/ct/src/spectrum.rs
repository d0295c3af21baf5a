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

pub use crate::fast_exp::exp_nonpositive;
use crate::fast_exp::LANES;
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

/// Per energy of `spectrum`: the photon fraction and the mass attenuations of water, cortical
/// bone and `third` per g/cm³·mm (cm²/g × 0.1), the rows of [`Transmission3::new`].
pub fn water_bone_rows(spectrum: &Spectrum, third: Material) -> Vec<[f64; 4]> {
    spectrum
        .energies_kev()
        .iter()
        .zip(spectrum.fractions())
        .map(|(&e, &f)| {
            [
                f,
                0.1 * Material::Water.mass_attenuation(e),
                0.1 * Material::CorticalBone.mass_attenuation(e),
                0.1 * third.mass_attenuation(e),
            ]
        })
        .collect()
}

/// The polychromatic transmission of many rays through three materials,
/// `t = Σ_E f_E·exp(−(a_E·x + b_E·y + c_E·z))`, for density line integrals `(x, y, z)` and
/// per-energy attenuations `(a_E, b_E, c_E)` (per g/cm³·mm).
///
/// Fast path of the per-bin spectral sum of `ct.metal` (hundreds of thousands of bins × the
/// spectrum's energies): the energies are processed in lanes of `LANES` with a branch-free
/// exponential ([`exp_nonpositive`], within 2 ulp of `f64::exp`) that the compiler
/// vectorises, and summed in a fixed order (lane sums, then the lanes in order), so the result
/// does not depend on the CPU. Equal to the plain sum of `f64::exp` terms within 1e-14
/// relative (tested).
#[derive(Clone, Debug)]
pub struct Transmission3 {
    /// `[f, a, b, c]` per energy, padded with `f = 0` to a multiple of `LANES`
    f: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl Transmission3 {
    /// From rows `[f_E, a_E, b_E, c_E]` (photon fraction and the three attenuations).
    pub fn new(rows: &[[f64; 4]]) -> Transmission3 {
        let n = rows.len().div_ceil(LANES) * LANES;
        let col = |i: usize| {
            let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
            v.resize(n, 0.0);
            v
        };
        Transmission3 {
            f: col(0),
            a: col(1),
            b: col(2),
            c: col(3),
        }
    }

    /// [`Transmission3::at`] of every `(x[i], y[i], z[i])` into `out[i]`; the AVX2 kernel
    /// (`crate::simd::spectral`, same bytes) where the CPU has it.
    pub fn row(&self, x: &[f64], y: &[f64], z: &[f32], out: &mut [f64]) {
        assert!(x.len() == out.len() && y.len() == out.len() && z.len() == out.len());
        #[cfg(target_arch = "x86_64")]
        if crate::simd::avx2() {
            // SAFETY: AVX2 is available (checked by `avx2`)
            unsafe { crate::simd::spectral::row_avx2(self.columns(), x, y, z, out) };
            return;
        }
        for (((o, &a), &b), &c) in out.iter_mut().zip(x).zip(y).zip(z) {
            *o = self.at(a, b, c as f64);
        }
    }

    /// The padded columns `(f, a, b, c)`.
    pub(crate) fn columns(&self) -> [&[f64]; 4] {
        [&self.f, &self.a, &self.b, &self.c]
    }

    /// `Σ_E f_E·exp(−(a_E·x + b_E·y + c_E·z))` for non-negative `x, y, z` (portable; the
    /// energies in lanes of 4, summed per lane, then `(l0 + l1) + (l2 + l3)`).
    #[inline]
    pub fn at(&self, x: f64, y: f64, z: f64) -> f64 {
        let mut acc = [0.0f64; LANES];
        for (((f, a), b), c) in self
            .f
            .chunks_exact(LANES)
            .zip(self.a.chunks_exact(LANES))
            .zip(self.b.chunks_exact(LANES))
            .zip(self.c.chunks_exact(LANES))
        {
            for l in 0..LANES {
                let e = -(a[l] * x + b[l] * y + c[l] * z);
                acc[l] += f[l] * exp_nonpositive(e);
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
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

    #[test]
    fn transmission3_equals_the_plain_spectral_sum() {
        let rows = water_bone_rows(&Spectrum::clinical_120kvp(), Material::Iron);
        assert!(rows.len() % LANES != 0, "padding exercised");
        let t = Transmission3::new(&rows);
        for x in [0.0, 0.3, 17.0, 250.0, 400.0] {
            for y in [0.0, 1.0, 30.0, 150.0] {
                for z in [0.0, 0.01, 2.0, 20.0, 80.0] {
                    let plain: f64 = rows
                        .iter()
                        .map(|e| e[0] * (-(e[1] * x + e[2] * y + e[3] * z)).exp())
                        .sum();
                    let fast = t.at(x, y, z);
                    assert!(
                        (fast - plain).abs() <= 1e-14 * plain.abs() + 1e-300,
                        "({x}, {y}, {z}): {fast} vs {plain}"
                    );
                }
            }
        }
        assert_eq!(t.at(0.0, 0.0, 0.0), rows.iter().map(|r| r[0]).sum::<f64>());
    }
}
