//! ct.ring: constant-along-view offsets reconstruct as concentric rings at the bin's radius.

mod common;
use artefact_core::{Image, Operator, ParamSpec, Seed};
use artefact_ct::corrupt_util::ray_distance_mm;
use artefact_ct::pipeline::{simulate, ScanSettings};
use artefact_ct::ring::{apply_gains, apply_with, detector_gains, Ring, RingParams};
use common::water_disc;

/// Mean |difference| in 1-pixel-wide radial bins.
fn radial_profile(a: &Image, b: &Image) -> Vec<f64> {
    let (n, _) = a.data.dim();
    let c = (n as f64 - 1.0) / 2.0;
    let nb = n / 2;
    let (mut s, mut k) = (vec![0.0; nb], vec![0usize; nb]);
    for ((i, j), &x) in a.data.indexed_iter() {
        let r = (j as f64 - c).hypot(i as f64 - c);
        let bin = r.round() as usize;
        if bin < nb {
            s[bin] += (x - b.data[[i, j]]) as f64;
            k[bin] += 1;
        }
    }
    s.iter()
        .zip(&k)
        .map(|(s, &k)| (s / k.max(1) as f64).abs())
        .collect()
}

#[test]
fn offsets_on_one_bin_make_a_ring_at_its_ray_radius() {
    let img = water_disc(128, 1.5, 85.0);
    for (scan, name) in [
        (ScanSettings::parallel(), "parallel"),
        (ScanSettings::default(), "fan"),
    ] {
        let geom = scan.geometry_for(&img).unwrap();
        let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
        for &frac in &[0.18f64, 0.33] {
            let k = (geom.n_det as f64 * (0.5 + frac)) as usize;
            let r_expect = ray_distance_mm(&geom, k).abs() / img.spacing[0];
            let out = simulate(&img, &scan, |s, _| {
                let mut g = vec![1.0; s.ncols()];
                g[k] = 0.9; // −ln 0.9 = +0.105 on every view of bin k
                apply_gains(s, &g)
            })
            .unwrap();
            let prof = radial_profile(&out, &clean);
            let peak = (0..prof.len())
                .max_by(|&a, &b| prof[a].total_cmp(&prof[b]))
                .unwrap();
            assert!(
                (peak as f64 - r_expect).abs() <= 1.0,
                "{name}: ring at {peak} px, bin radius {r_expect:.2} px"
            );
            // a ring, not a global shift: far from the ring the image is untouched
            let far = prof[(r_expect as usize + 8).min(prof.len() - 1)];
            // (fan beam: the 1/U² back-projection weight spreads the ring's tail further)
            let contrast = if name == "parallel" { 10.0 } else { 3.0 };
            assert!(
                prof[peak] > contrast * far.max(0.05),
                "{name}: peak {} far {far}",
                prof[peak]
            );
        }
    }
}

#[test]
fn zero_gain_error_is_identity_and_dead_elements_are_placed_in_the_body() {
    let img = water_disc(64, 3.0, 80.0);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    let p0 = RingParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        gain_std: 0.0,
        dead_detectors: 0,
        seed: 3,
    };
    assert_eq!(apply_with(&p0, &img, &scan).unwrap().data, clean.data);
    let geom = scan.geometry_for(&img).unwrap();
    let p = RingParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        gain_std: 0.01,
        dead_detectors: 3,
        seed: 4,
    };
    let g = detector_gains(&p, &geom, 80.0).unwrap();
    let dead: Vec<usize> = (0..g.len()).filter(|&k| g[k] == 0.0).collect();
    assert_eq!(dead.len(), 3);
    assert!(dead
        .iter()
        .all(|&k| ray_distance_mm(&geom, k).abs() <= 72.0));
    let sd = {
        let live: Vec<f64> = g.iter().copied().filter(|&x| x > 0.0).collect();
        let m = live.iter().sum::<f64>() / live.len() as f64;
        (live.iter().map(|x| (x - m).powi(2)).sum::<f64>() / live.len() as f64).sqrt()
    };
    assert!((sd / 0.01 - 1.0).abs() < 0.25, "gain std {sd}");
    let out = apply_with(&p, &img, &scan).unwrap();
    assert!(out.data.iter().all(|v| v.is_finite()));
    let mut rng = Seed::derive(2, "ring").rng();
    assert!(Ring::sample(&ParamSpec::new(), &mut rng).is_ok());
    assert_eq!(Ring::info().name, "ct.ring");
}
