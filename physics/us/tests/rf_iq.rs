//! The fast IQ path agrees with the true RF + Hilbert envelope path.

mod common;
use artefact_us::envelope::envelope_rf;
use artefact_us::{BmodePlan, Probe, Settings};
use common::*;

#[test]
fn iq_envelope_equals_hilbert_envelope_of_rf() {
    for probe in [Probe::linear(), Probe::phased()] {
        let img = uniform(64, 64, 1.0);
        let settings = Settings::default();
        let plan = BmodePlan::for_image(&img, &probe, &settings).unwrap();
        let iq = plan.iq(&img, &[], 11).unwrap();
        let sub = plan.grid().rf_subdivision();
        let rf = plan.rf(&img, &[], 11, sub).unwrap();
        // the RF grid samples fc at ≥ 8 samples per period
        let fs_mhz = 1.54 / (2.0 * plan.grid().geom.dr / sub as f64);
        assert!(fs_mhz >= 8.0 * probe.fc_mhz, "fs {fs_mhz} MHz");
        let env_rf = envelope_rf(&rf);
        let (n_r, n_b) = iq.dim();
        let (mut num, mut den, mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for m in n_r / 10..n_r - n_r / 10 {
            for b in 0..n_b {
                let a = iq[[m, b]].norm() as f64;
                let h = env_rf[[m * sub, b]] as f64;
                num += (a - h) * (a - h);
                den += a * a;
                sab += a * h;
                saa += a * a;
                sbb += h * h;
            }
        }
        let rel = (num / den).sqrt();
        let corr = sab / (saa * sbb).sqrt();
        eprintln!(
            "{:?}: sub {sub}, relative RMS difference {rel:.4}, correlation {corr:.5}",
            probe.kind
        );
        assert!(rel < 0.03, "relative difference {rel}");
        assert!(corr > 0.999, "correlation {corr}");
    }
}
