//! mri.gibbs: Wilbraham–Gibbs overshoot at a step, apodisation, identity, separability.

mod sampling_common;

use artefact_core::{Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::gibbs::{axis_window, kept_half_width, Apodization, Gibbs, GibbsParams};
use ndarray::Array2;
use sampling_common::*;

/// Wilbraham–Gibbs constant: (1/π)·Si(π) − 1/2 = 0.0894898722…
const GIBBS: f64 = 0.089_489_872_236;

fn step_image(rows: usize, cols: usize) -> Image {
    // 1 on the left half, 2 on the right: two jumps of 1 (periodic)
    let d = Array2::from_shape_fn((rows, cols), |(_, j)| if j < cols / 2 { 1.0 } else { 2.0 });
    Image::new(d, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn gp(fr: f64, fc: f64, window: Apodization) -> GibbsParams {
    GibbsParams {
        fraction_rows: fr,
        fraction_cols: fc,
        window,
        tukey_alpha: 0.5,
    }
}

#[test]
fn overshoot_is_nine_percent_of_the_jump() {
    // 1024 columns, keep 1/8 of k-space: ringing period 16 px, so the peak is resolved
    let im = step_image(4, 1024);
    let out = Gibbs::apply(&gp(1.0, 0.125, Apodization::None), &im).unwrap();
    let row = out.data.row(0);
    let over = row.iter().cloned().fold(f32::MIN, f32::max) as f64 - 2.0;
    let under = 1.0 - row.iter().cloned().fold(f32::MAX, f32::min) as f64;
    assert!((over - GIBBS).abs() < 0.003, "overshoot {over}");
    assert!((under - GIBBS).abs() < 0.003, "undershoot {under}");
    // far from the edges the plateau is recovered
    assert!((row[256] - 1.0).abs() < 0.01 && (row[768] - 2.0).abs() < 0.01);
}

#[test]
fn apodisation_suppresses_ringing() {
    let im = step_image(4, 1024);
    let over = |w: Apodization, alpha: f64| {
        let mut q = gp(1.0, 0.125, w);
        q.tukey_alpha = alpha;
        let out = Gibbs::apply(&q, &im).unwrap();
        out.data.row(0).iter().cloned().fold(f32::MIN, f32::max) as f64 - 2.0
    };
    let (none, tukey, hann) = (
        over(Apodization::None, 0.5),
        over(Apodization::Tukey, 0.5),
        over(Apodization::Hann, 0.5),
    );
    assert!(hann < 0.01, "Hann overshoot {hann}");
    assert!(hann < tukey && tukey < none, "{hann} {tukey} {none}");
    // Tukey limits: α = 0 is rectangular, α = 1 is Hann
    assert_eq!(
        axis_window(64, 10, Apodization::Tukey, 0.0),
        axis_window(64, 10, Apodization::None, 0.0)
    );
    let t1 = axis_window(64, 10, Apodization::Tukey, 1.0);
    let h = axis_window(64, 10, Apodization::Hann, 0.0);
    assert!(t1.iter().zip(&h).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn full_fraction_is_identity_and_truncation_is_per_axis() {
    let im = disc_phantom(60, 70, 0.8, 10.0);
    let out = Gibbs::apply(&gp(1.0, 1.0, Apodization::Hann), &im).unwrap();
    assert_eq!(out.data, im.data);
    // a step along columns is constant along rows: truncating rows leaves it unchanged
    let st = step_image(64, 64);
    let out = Gibbs::apply(&gp(0.3, 1.0, Apodization::None), &st).unwrap();
    assert!(max_abs_diff(&out.data, &st.data) < 1e-5);
    let out = Gibbs::apply(&gp(1.0, 0.3, Apodization::None), &st).unwrap();
    assert!(max_abs_diff(&out.data, &st.data) > 0.05);
    // kept band: symmetric, 2K + 1 lines
    assert_eq!(kept_half_width(256, 0.5), Some(64));
    assert_eq!(kept_half_width(256, 1.0), None);
    assert_eq!(kept_half_width(255, 0.999), None);
    let w = axis_window(16, 3, Apodization::None, 0.0);
    assert_eq!(w.iter().filter(|&&v| v > 0.0).count(), 7);
    assert!(w[8] == 1.0 && w[5] == 1.0 && w[11] == 1.0 && w[4] == 0.0 && w[12] == 0.0);
}

#[test]
fn stronger_truncation_rings_more() {
    let im = disc_phantom(128, 128, 0.7, 100.0);
    let err = |f: f64| {
        let out = Gibbs::apply(&gp(f, f, Apodization::None), &im).unwrap();
        artefact_core::metrics::nrmse(im.data.view(), out.data.view()).unwrap()
    };
    let (a, b, c) = (err(0.8), err(0.5), err(0.25));
    assert!(a < b && b < c, "{a} {b} {c}");
}

#[test]
fn sampling_and_errors() {
    let spec = ParamSpec::new()
        .with("fraction", SpecValue::Range([0.3, 0.5]))
        .with("fraction_rows", SpecValue::Number(1.0))
        .with(
            "window",
            SpecValue::Choice(vec!["none".into(), "tukey".into()]),
        );
    let mut rng = Seed::derive(2, "gibbs").rng();
    let q = Gibbs::sample(&spec, &mut rng).unwrap();
    assert_eq!(q.fraction_rows, 1.0);
    assert!((0.3..=0.5).contains(&q.fraction_cols));
    let json = serde_json::to_string(&q).unwrap();
    assert_eq!(serde_json::from_str::<GibbsParams>(&json).unwrap(), q);
    let im = disc_phantom(16, 16, 0.5, 1.0);
    for bad in [
        gp(0.0, 1.0, Apodization::None),
        gp(1.0, 1.5, Apodization::None),
        gp(f64::NAN, 1.0, Apodization::None),
    ] {
        assert!(Gibbs::apply(&bad, &im).is_err());
    }
    let mut q = gp(0.5, 0.5, Apodization::Tukey);
    q.tukey_alpha = 2.0;
    assert!(Gibbs::apply(&q, &im).is_err());
    assert!(Gibbs::sample(
        &ParamSpec::new().with("window", SpecValue::Text("kaiser".into())),
        &mut rng
    )
    .is_err());
}
