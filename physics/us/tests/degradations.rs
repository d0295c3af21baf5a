//! Physics of the degradations, measured on the beam-grid envelope.

mod common;
use artefact_us::effects::clutter::Clutter;
use artefact_us::effects::reverberation::ReverberatingInterface;
use artefact_us::effects::shadows::{Reflector, Shadows};
use artefact_us::effects::tgc::Tgc;
use artefact_us::{simulate_beams, simulate_beams_with, Probe, Settings};
use common::*;

/// Mean intensity of rows `m0..m1`, beams `b0..b1`.
fn mean_int(env: &ndarray::Array2<f32>, (m0, m1): (usize, usize), (b0, b1): (usize, usize)) -> f64 {
    let mut s = 0.0;
    let mut n = 0.0;
    for m in m0..m1 {
        for b in b0..b1 {
            s += (env[[m, b]] as f64).powi(2);
            n += 1.0;
        }
    }
    s / n
}

#[test]
fn attenuation_without_tgc_decays_at_alpha_f() {
    for (alpha, probe) in [(0.5, Probe::linear()), (0.7, Probe::convex())] {
        let tgc = Tgc {
            alpha_db_cm_mhz: alpha,
            compensation: 0.0,
            ..Tgc::default()
        };
        let b = simulate_beams_with(
            &uniform(256, 256, 1.0),
            &probe,
            &Settings::default(),
            &[&tgc],
            5,
        )
        .unwrap();
        let env = b.envelope();
        let g = &b.geom;
        // mean intensity (dB) per block of 8 rows vs depth (cm): least-squares slope
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let blk = 8;
        for m0 in (g.n_r / 20..g.n_r - blk).step_by(blk) {
            let i = mean_int(&env, (m0, m0 + blk), (0, g.n_b));
            xs.push(g.r_of((m0 as f64) + (blk as f64 - 1.0) / 2.0) / 10.0);
            ys.push(10.0 * i.log10());
        }
        let n = xs.len() as f64;
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let slope = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (x - mx) * (y - my))
            .sum::<f64>()
            / xs.iter().map(|x| (x - mx) * (x - mx)).sum::<f64>();
        let expect = -2.0 * alpha * probe.fc_mhz;
        eprintln!(
            "{:?}: slope {slope:.3} dB/cm, expected {expect:.3}",
            probe.kind
        );
        assert!(
            (slope / expect - 1.0).abs() < 0.03,
            "slope {slope} vs {expect}"
        );
    }
}

#[test]
fn correct_tgc_cancels_attenuation_and_slider_errors_show() {
    let probe = Probe::linear();
    let img = uniform(128, 128, 1.0);
    let clean = simulate_beams(&img, &probe, &Settings::default(), 2)
        .unwrap()
        .envelope();
    let tgc = Tgc {
        alpha_db_cm_mhz: 1.2,
        compensation: 1.0,
        ..Tgc::default()
    };
    let same = simulate_beams_with(&img, &probe, &Settings::default(), &[&tgc], 2)
        .unwrap()
        .envelope();
    assert_eq!(clean, same, "correct TGC is the clean render whatever α");
    let tgc = Tgc {
        slider_db: vec![0.0, -20.0],
        ..Tgc::default()
    };
    let b = simulate_beams_with(&img, &probe, &Settings::default(), &[&tgc], 2).unwrap();
    let env = b.envelope();
    let n_r = b.geom.n_r;
    let top = mean_int(&env, (n_r / 20, n_r / 5), (0, b.geom.n_b));
    let bottom = mean_int(&env, (n_r - n_r / 8, n_r), (0, b.geom.n_b));
    let db = 10.0 * (bottom / top).log10();
    eprintln!("slider ramp 0 → −20 dB: bottom vs top {db:.2} dB");
    assert!(db < -14.0 && db > -21.0, "{db}");
}

#[test]
fn shadow_below_a_reflector_is_darker_by_the_loss() {
    let probe = Probe::linear();
    for loss in [6.0, 15.0] {
        let shadows = Shadows {
            reflectors: vec![Reflector {
                depth_frac: 0.3,
                center_frac: 0.5,
                width_frac: 0.4,
                loss_db: loss,
            }],
            image_shadow: None,
        };
        let b = simulate_beams_with(
            &uniform(256, 256, 1.0),
            &probe,
            &Settings::default(),
            &[&shadows],
            9,
        )
        .unwrap();
        let env = b.envelope();
        let g = &b.geom;
        let rows = (g.n_r / 2, g.n_r - g.n_r / 20);
        let nb = g.n_b;
        // shadow: central 60 % of the reflector's beams; beside: outside it with a margin
        let inside = mean_int(&env, rows, (nb / 2 - nb / 8, nb / 2 + nb / 8));
        let left = mean_int(&env, rows, (nb / 20, nb / 4));
        let right = mean_int(&env, rows, (nb - nb / 4, nb - nb / 20));
        let db = 10.0 * (inside / (0.5 * (left + right))).log10();
        eprintln!("loss {loss} dB: shadow {db:.2} dB");
        assert!((db + loss).abs() < 1.0, "shadow {db} dB vs −{loss}");
        // the reflector itself is a bright line
        let mr = (0.3 * g.depth / g.dr).round() as usize;
        let line = mean_int(&env, (mr, mr + 1), (nb / 2 - nb / 8, nb / 2 + nb / 8));
        assert!(line > 3.0, "reflector echo intensity {line}");
    }
}

#[test]
fn reverberation_repeats_the_interface_at_multiples_of_its_depth() {
    let probe = Probe::linear();
    let rv = ReverberatingInterface {
        depth_frac: 0.15,
        center_frac: 0.5,
        width_frac: 0.8,
        reflectivity: 0.6,
        max_echoes: 10,
    };
    // anechoic medium: only the interface and its reverberations
    let b = simulate_beams_with(
        &uniform(256, 256, 0.0),
        &probe,
        &Settings::default(),
        &[&rv],
        4,
    )
    .unwrap();
    let env = b.envelope();
    let g = &b.geom;
    let nb = g.n_b;
    let mut prev = f64::INFINITY;
    for k in 1..=6 {
        let z = k as f64 * rv.depth_frac * g.depth;
        let m = (z / g.dr).round() as usize;
        let peak = (m.saturating_sub(2)..(m + 3).min(g.n_r))
            .map(|mm| env[[mm, nb / 2]] as f64)
            .fold(0.0, f64::max);
        let expect = 10f64.powf(10.0 / 20.0) * rv.reflectivity.powi(k);
        eprintln!("echo {k} at {z:.2} mm: {peak:.3} (expected {expect:.3})");
        assert!(
            (peak / expect - 1.0).abs() < 0.1,
            "echo {k}: {peak} vs {expect}"
        );
        assert!(peak < prev);
        prev = peak;
        // nothing between echoes
        let mid = ((z + 0.5 * rv.depth_frac * g.depth) / g.dr).round() as usize;
        assert!(env[[mid, nb / 2]] < 1e-3 * expect as f32);
    }
    // outside the interface's lateral extent: nothing
    assert!(env.column(2).iter().all(|&v| v < 1e-3));
}

#[test]
fn haze_fills_anechoic_regions_with_the_set_level() {
    let probe = Probe::linear();
    let hz = Clutter {
        level: 0.1,
        near_field: 0.3,
        floor: 1.0, // uniform level
    };
    let b = simulate_beams_with(
        &uniform(128, 128, 0.0),
        &probe,
        &Settings::default(),
        &[&hz],
        4,
    )
    .unwrap();
    let env = b.envelope();
    let g = &b.geom;
    let i = mean_int(
        &env,
        (g.n_r / 10, g.n_r - g.n_r / 10),
        (g.n_b / 20, g.n_b - g.n_b / 20),
    );
    eprintln!("haze rms {:.4} (set 0.1)", i.sqrt());
    assert!((i.sqrt() / 0.1 - 1.0).abs() < 0.1);
}
