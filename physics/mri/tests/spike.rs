//! Physics tests of `mri.spike`: the added pattern is the predicted plane wave.

mod real;

use artefact_core::metrics::ssim;
use artefact_core::{Complex32, Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_mri::kspace::{magnitude_image, to_kspace};
use artefact_mri::spike::{max_kspace_magnitude, Spike, SpikeParams, SpikeSpec};
use ndarray::Array2;
use std::f64::consts::PI;

fn mr(data: Array2<f32>) -> Image {
    Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn smooth(n0: usize, n1: usize) -> Image {
    mr(Array2::from_shape_fn((n0, n1), |(i, j)| {
        let r2 = ((i as f64 - 30.0) / 14.0).powi(2) + ((j as f64 - 40.0) / 20.0).powi(2);
        (0.2 + (-r2).exp()) as f32
    }))
}

fn one(position: [f64; 2], amplitude: f64, phase_deg: f64, conjugate: bool) -> SpikeParams {
    SpikeParams {
        spikes: vec![SpikeSpec {
            position,
            amplitude,
            phase_deg,
        }],
        conjugate,
    }
}

#[test]
fn zero_amplitude_is_identity() {
    let img = smooth(64, 96);
    assert_eq!(
        Spike::apply(&one([0.3, -0.2], 0.0, 10.0, true), &img).unwrap(),
        img
    );
    let none = SpikeParams {
        spikes: vec![],
        conjugate: false,
    };
    assert_eq!(Spike::apply(&none, &img).unwrap(), img);
}

#[test]
fn conjugate_spike_adds_a_cosine_with_the_predicted_period() {
    // constant image c: |c + 2A cos(·)| = c + 2A cos(·) since c > 2A
    let (n0, n1) = (64usize, 96usize);
    let c = 1.0f32;
    let img = mr(Array2::from_elem((n0, n1), c));
    // position → offset (round(0.09375·32), round(−0.1042·48)) = (3, −5)
    let p = one([3.0 / 32.0, -5.0 / 48.0], 0.1, 25.0, true);
    assert_eq!(p.spikes[0].offset((n0, n1)), [3, -5]);
    let out = Spike::apply(&p, &img).unwrap();
    // A = a · max|K| / √N = a · c (max|K| = DC = c·√N)
    let a = 0.1 * c as f64;
    let (h0, h1) = ((n0 / 2) as f64, (n1 / 2) as f64);
    let mut max_err = 0.0f64;
    for ((i, j), &v) in out.data.indexed_iter() {
        let ph = 2.0 * PI * (3.0 * (i as f64 - h0) / n0 as f64 - 5.0 * (j as f64 - h1) / n1 as f64)
            + 25f64.to_radians();
        let want = c as f64 + 2.0 * a * ph.cos();
        max_err = max_err.max((v as f64 - want).abs());
    }
    assert!(max_err < 1e-5, "plane-wave error {max_err}");
    // along one axis: offset 8 on 64 columns → period 64/8 = 8 pixels
    let p = one([0.0, 8.0 / 32.0], 0.2, 0.0, true);
    let img = mr(Array2::from_elem((16, 64), c));
    let out = Spike::apply(&p, &img).unwrap();
    let row = out.data.row(5);
    for j in 0..56 {
        assert!((row[j] - row[j + 8]).abs() < 1e-5, "period 8 at {j}");
    }
    assert!(
        (row[0] - row[4]).abs() > 0.5,
        "half a period apart must differ"
    );
}

#[test]
fn matches_explicit_kspace_corruption() {
    let img = smooth(64, 80);
    let p = SpikeParams {
        spikes: vec![
            SpikeSpec {
                position: [0.4, 0.1],
                amplitude: 0.05,
                phase_deg: -40.0,
            },
            SpikeSpec {
                position: [-0.7, 0.55],
                amplitude: 0.02,
                phase_deg: 100.0,
            },
        ],
        conjugate: false,
    };
    let out = Spike::apply(&p, &img).unwrap();
    // reference: add the spikes in k-space, inverse FFT, magnitude
    let mut k = to_kspace(&img);
    let kmax = k.iter().map(|z| z.norm()).fold(0.0f32, f32::max);
    assert!((kmax as f64 - max_kspace_magnitude(&img)).abs() / (kmax as f64) < 1e-5);
    for s in &p.spikes {
        let o = s.offset((64, 80));
        let idx = [(32 + o[0]) as usize, (40 + o[1]) as usize];
        k[idx] +=
            Complex32::from_polar(s.amplitude as f32 * kmax, (s.phase_deg as f32).to_radians());
    }
    let want = magnitude_image(k, &img).unwrap();
    let err = out
        .data
        .iter()
        .zip(want.data.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-5, "direct vs k-space {err}");
    // a single spike (no partner) in an empty region gives a flat magnitude A
    let zero = mr(Array2::from_elem((32, 32), 0.0));
    let mut z = zero.clone();
    z.data[[0, 0]] = 1.0; // max|K| = 1/32
    let out = Spike::apply(&one([0.5, 0.5], 1.0, 0.0, false), &z).unwrap();
    let a = 1.0 / 32.0 / 32.0;
    assert!((out.data[[10, 20]] - a).abs() < 1e-6 && (out.data[[20, 3]] - a).abs() < 1e-6);
}

#[test]
fn sampling_and_errors() {
    let spec = ParamSpec::new()
        .with("count", SpecValue::Range([1.0, 3.0]))
        .with("radius", SpecValue::Range([0.2, 0.6]))
        .with("conjugate", SpecValue::Bool(true));
    let a = Spike::sample(&spec, &mut Seed::derive(5, "s").rng()).unwrap();
    assert_eq!(
        a,
        Spike::sample(&spec, &mut Seed::derive(5, "s").rng()).unwrap()
    );
    for s in &a.spikes {
        let r = (s.position[0].powi(2) + s.position[1].powi(2)).sqrt();
        assert!((0.2 - 1e-9..=0.6 + 1e-9).contains(&r));
    }
    assert!(a.conjugate);
    let img = smooth(32, 32);
    assert!(Spike::apply(&one([1.5, 0.0], 0.1, 0.0, false), &img).is_err());
    assert!(Spike::apply(&one([0.5, 0.0], -0.1, 0.0, false), &img).is_err());
    assert_eq!(Spike::info().name, "mri.spike");
}

#[test]
fn real_images_mild_vs_severe() {
    for img in real::mri_slices() {
        let r = img.finite_range().unwrap();
        let dr = (r.1 - r.0) as f64;
        let mild = Spike::apply(&one([0.3, 0.2], 0.01, 0.0, false), &img).unwrap();
        let severe = Spike::apply(&one([0.3, 0.2], 0.2, 0.0, true), &img).unwrap();
        assert!(mild
            .data
            .iter()
            .chain(severe.data.iter())
            .all(|v| v.is_finite()));
        let (sm, ss) = (
            ssim(img.data.view(), mild.data.view(), dr).unwrap(),
            ssim(img.data.view(), severe.data.view(), dr).unwrap(),
        );
        assert!(sm > ss + 0.05, "mild {sm} vs severe {ss}");
    }
}
