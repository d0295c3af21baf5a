//! Coil sensitivities: normalisation, geometry, RSS reproduction.

mod sampling_common;

use artefact_core::Complex32;
use artefact_mri::coils::{rss_noise_mean, simulate_rss, CoilMaps};
use sampling_common::*;

#[test]
fn maps_are_normalised_and_localised() {
    let m = CoilMaps::birdcage(8, 96, 80).unwrap();
    assert_eq!(m.n_coils(), 8);
    let rss = m.rss();
    assert!(rss.iter().all(|v| (v - 1.0).abs() < 1e-5));
    // coil 0 sits at +x (column axis): more sensitive at the right edge than the left
    let c0 = m.map(0);
    assert!(c0[[48, 75]].norm() > 3.0 * c0[[48, 4]].norm());
    // coil 2 (of 8) sits at +y (row axis, 90°)
    let c2 = m.map(2);
    assert!(c2[[90, 40]].norm() > 3.0 * c2[[5, 40]].norm());
    // complex maps with distinct phases
    let ph0 = c0[[48, 40]].arg();
    let ph1 = m.map(1)[[48, 40]].arg();
    assert!((ph0 - ph1).abs() > 0.3);
    // single coil is uniform
    let u = CoilMaps::birdcage(1, 4, 4).unwrap();
    assert!(u.map(0).iter().all(|z| *z == Complex32::new(1.0, 0.0)));
    assert!(CoilMaps::birdcage(0, 4, 4).is_err());
    assert!(CoilMaps::birdcage(33, 4, 4).is_err());
}

#[test]
fn rss_of_uncorrupted_coil_images_reproduces_the_image() {
    let im = disc_phantom(64, 72, 0.8, 120.0);
    for n in [1usize, 2, 8, 16] {
        let mut seen = 0;
        let out = simulate_rss(&im, n, |_, x| {
            seen += 1;
            Ok(x)
        })
        .unwrap();
        assert_eq!(seen, n);
        assert!(max_abs_diff(&out.data, &im.data) < 1e-3, "N={n}");
    }
    // a stage returning the wrong shape is an error
    assert!(simulate_rss(&im, 2, |_, _| Ok(ndarray::Array2::zeros((3, 3)))).is_err());
}

#[test]
fn chi_mean_formula() {
    // Γ(N+½)/Γ(N)·√2 for N = 2: √2·(3√π/4) = 1.87997…
    assert!(
        (rss_noise_mean(1.0, 2) - 2f64.sqrt() * 0.75 * std::f64::consts::PI.sqrt()).abs() < 1e-12
    );
    // large N: mean → σ√(2N − ½)
    let m = rss_noise_mean(1.0, 32);
    assert!((m - (64.0f64 - 0.5).sqrt()).abs() < 0.01, "{m}");
}
