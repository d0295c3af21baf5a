//! Hounsfield units ↔ linear attenuation coefficient μ (mm⁻¹).
//!
//! # Model
//! `HU = 1000·(μ − μ_water)/(μ_water − μ_air)`, so `μ = μ_water + HU/1000·(μ_water − μ_air)`.
//! [`hu_to_mu`] uses the 70 keV air value [`MU_AIR_70KEV`]; [`hu_to_mu_air`] takes both.
//! Values below [`PADDING_HU_BELOW`] (−1024 HU) are scanner padding outside the reconstruction
//! field of view (typically −2000 or −3024) and are mapped to air; resulting μ is clamped at 0
//! (attenuation cannot be negative).
//!
//! # Constants (source)
//! Mass attenuation coefficients from NIST XCOM / J. H. Hubbell, S. M. Seltzer, "Tables of X-Ray
//! Mass Attenuation Coefficients … (NISTIR 5632)", interpolated log–log between 60 and 80 keV to
//! 70 keV (a typical effective energy of a 120 kVp beam):
//! - water: μ/ρ = 0.2059 cm²/g (60 keV), 0.1837 cm²/g (80 keV) → ≈ 0.193 cm²/g at 70 keV,
//!   ρ = 1.000 g/cm³ → μ ≈ 0.0193 mm⁻¹; the project-wide value 0.0192 mm⁻¹ (DESIGN §3, the
//!   usual literature figure) is used — the 0.5 % difference only rescales μ, not HU;
//! - dry air: μ/ρ = 0.1875 / 0.1662 cm²/g (60 / 80 keV) → ≈ 0.176 cm²/g, ρ = 1.205·10⁻³ g/cm³ → μ ≈ 2.1·10⁻⁵ mm⁻¹.

/// μ of water at 70 keV, mm⁻¹ (NIST XCOM, see the module docs).
pub const MU_WATER_70KEV: f64 = 0.0192;
/// μ of dry air at 70 keV, mm⁻¹ (NIST XCOM, see the module docs).
pub const MU_AIR_70KEV: f64 = 2.1e-5;
/// HU of air.
pub const HU_AIR: f32 = -1000.0;
/// Values strictly below this are padding (outside the scanner FOV) and become air.
pub const PADDING_HU_BELOW: f32 = -1024.0;

/// HU → μ (mm⁻¹) with the 70 keV air value; padding (< −1024 HU) → air; NaN → air; μ ≥ 0.
#[inline]
pub fn hu_to_mu(hu: f32, mu_water: f64) -> f32 {
    hu_to_mu_air(hu, mu_water, MU_AIR_70KEV)
}

/// HU → μ (mm⁻¹) with explicit μ_water and μ_air.
#[inline]
pub fn hu_to_mu_air(hu: f32, mu_water: f64, mu_air: f64) -> f32 {
    let hu = if hu.is_nan() || hu < PADDING_HU_BELOW {
        HU_AIR
    } else {
        hu
    };
    let mu = mu_water + hu as f64 / 1000.0 * (mu_water - mu_air);
    mu.max(0.0) as f32
}

/// μ (mm⁻¹) → HU with the 70 keV air value.
#[inline]
pub fn mu_to_hu(mu: f32, mu_water: f64) -> f32 {
    mu_to_hu_air(mu, mu_water, MU_AIR_70KEV)
}

/// μ (mm⁻¹) → HU with explicit μ_water and μ_air.
#[inline]
pub fn mu_to_hu_air(mu: f32, mu_water: f64, mu_air: f64) -> f32 {
    (1000.0 * (mu as f64 - mu_water) / (mu_water - mu_air)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        for &hu in &[-1000.0f32, -500.0, 0.0, 40.0, 1000.0, 3000.0] {
            let back = mu_to_hu(hu_to_mu(hu, MU_WATER_70KEV), MU_WATER_70KEV);
            assert!((back - hu).abs() < 0.02, "{hu} → {back}");
        }
        assert!((hu_to_mu(0.0, MU_WATER_70KEV) - 0.0192).abs() < 1e-7);
        assert!((hu_to_mu(-1000.0, MU_WATER_70KEV) - MU_AIR_70KEV as f32).abs() < 1e-9);
        for &pad in &[-2000.0f32, -3024.0, -1025.0, f32::NAN] {
            assert_eq!(
                hu_to_mu(pad, MU_WATER_70KEV),
                hu_to_mu(-1000.0, MU_WATER_70KEV)
            );
        }
        // −1024 is a valid (air) value, slightly below −1000: clamped at μ ≥ 0
        assert!(hu_to_mu(-1024.0, MU_WATER_70KEV) >= 0.0);
    }
}
