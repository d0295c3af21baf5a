//! Spectrum and materials as used by the metal simulation: beam hardening in water follows from
//! the spectrum, and the water BHC polynomial inverts it.

use artefact_ct::materials::Material;
use artefact_ct::metal::WaterBhc;
use artefact_ct::spectrum::Spectrum;
use artefact_ct::units::MU_WATER_70KEV;

#[test]
fn bhc_linearises_polychromatic_water_paths() {
    let s = Spectrum::clinical_120kvp();
    let bhc = WaterBhc::fit(&s, MU_WATER_70KEV);
    let rho = MU_WATER_70KEV / Material::Water.mu_per_mm(70.0, 1.0);
    let mut prev_mu_eff = f64::INFINITY;
    for l in [1.0, 5.0, 50.0, 150.0, 300.0, 450.0, 580.0] {
        let p = -s.transmission(Material::Water, rho, l).ln();
        let corrected = bhc.apply(p);
        let target = MU_WATER_70KEV * l;
        assert!(
            (corrected - target).abs() < 2e-3 * target,
            "L={l}: {corrected} vs {target}"
        );
        // beam hardening: the effective μ = p/L falls with the path length
        assert!(
            p / l < prev_mu_eff,
            "L={l}: μ_eff {} not below {prev_mu_eff}",
            p / l
        );
        prev_mu_eff = p / l;
    }
}

#[test]
fn effective_energy_of_the_clinical_beam_is_plausible() {
    let s = Spectrum::clinical_120kvp();
    let e = s.mean_energy_kev();
    assert!((48.0..58.0).contains(&e), "mean energy {e} keV");
    assert_eq!(bhc_at_zero(), 0.0);
    // thin water: the photon-weighted μ lies between μ(30 keV) and μ(70 keV)
    let mu = -s.transmission(Material::Water, 1.0, 1.0).ln();
    assert!(mu < Material::Water.mu_nominal_per_mm(30.0));
    assert!(mu > Material::Water.mu_nominal_per_mm(70.0));
}

fn bhc_at_zero() -> f64 {
    WaterBhc::fit(&Spectrum::clinical_120kvp(), MU_WATER_70KEV).apply(0.0)
}
