//! Operators: identity at zero strength, determinism, sampling, errors, output contract.

mod common;
use artefact_core::{Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit};
use artefact_us::attenuation::AttenuationParams;
use artefact_us::gain::GainParams;
use artefact_us::haze::{Clutter, HazeParams};
use artefact_us::low_resolution::LowResolutionParams;
use artefact_us::reverberation::{ReverberatingInterface, ReverberationParams};
use artefact_us::shadowing::{Reflector, ShadowingParams};
use artefact_us::speckle::SpeckleParams;
use artefact_us::*;
use ndarray::Array2;

/// A small phantom: gradient background, anechoic cyst, bright disc.
fn phantom(rows: usize, cols: usize) -> Image {
    let data = Array2::from_shape_fn((rows, cols), |(i, j)| {
        let (y, x) = (i as f32 / rows as f32, j as f32 / cols as f32);
        if (x - 0.3).hypot(y - 0.5) < 0.1 {
            0.0
        } else if (x - 0.7).hypot(y - 0.6) < 0.08 {
            0.98
        } else {
            0.55 + 0.2 * x
        }
    });
    Image::new(data, [0.5, 0.5], Modality::Us, Unit::Echogenicity).unwrap()
}

#[test]
fn zero_strength_is_identity_for_every_operator() {
    let img = phantom(96, 80);
    for probe in [ProbeKind::Linear, ProbeKind::Convex, ProbeKind::Phased] {
        let seed = 77;
        let clean =
            simulate_bmode(&img, &Probe::preset(probe), &Settings::default(), seed).unwrap();
        let checks: Vec<(&str, Image)> = vec![
            (
                "speckle",
                Speckle::apply(
                    &SpeckleParams {
                        probe,
                        seed,
                        scatterers_per_cell: 16.0,
                    },
                    &img,
                )
                .unwrap(),
            ),
            (
                "attenuation",
                Attenuation::apply(
                    &AttenuationParams {
                        probe,
                        seed,
                        alpha_db_cm_mhz: 0.9,
                        tgc_compensation: 1.0,
                        tgc_slider_db: vec![0.0; 8],
                    },
                    &img,
                )
                .unwrap(),
            ),
            (
                "gain",
                Gain::apply(
                    &GainParams {
                        probe,
                        seed,
                        gain_db: 0.0,
                    },
                    &img,
                )
                .unwrap(),
            ),
            (
                "shadowing",
                Shadowing::apply(
                    &ShadowingParams {
                        probe,
                        seed,
                        reflectors: vec![Reflector {
                            depth_frac: 0.3,
                            center_frac: 0.5,
                            width_frac: 0.2,
                            loss_db: 0.0,
                        }],
                        image_shadow: None,
                    },
                    &img,
                )
                .unwrap(),
            ),
            (
                "reverberation",
                Reverberation::apply(
                    &ReverberationParams {
                        probe,
                        seed,
                        reverberation: ReverberatingInterface {
                            depth_frac: 0.1,
                            center_frac: 0.5,
                            width_frac: 0.5,
                            reflectivity: 0.0,
                            max_echoes: 5,
                        },
                    },
                    &img,
                )
                .unwrap(),
            ),
            (
                "low_resolution",
                LowResolution::apply(
                    &LowResolutionParams {
                        probe,
                        seed,
                        fc_scale: 1.0,
                        beam_width_scale: 1.0,
                    },
                    &img,
                )
                .unwrap(),
            ),
            (
                "haze",
                Haze::apply(
                    &HazeParams {
                        probe,
                        seed,
                        haze: Clutter {
                            level: 0.0,
                            near_field: 0.3,
                            floor: 0.3,
                        },
                    },
                    &img,
                )
                .unwrap(),
            ),
        ];
        for (name, out) in checks {
            assert_eq!(
                out, clean,
                "{name} at zero strength with {probe:?} is not the clean render"
            );
        }
    }
}

#[test]
fn output_contract_and_determinism() {
    let img = phantom(120, 100);
    for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
        let a = simulate_bmode(&img, &probe, &Settings::default(), 5).unwrap();
        let b = simulate_bmode(&img, &probe, &Settings::default(), 5).unwrap();
        let c = simulate_bmode(&img, &probe, &Settings::default(), 6).unwrap();
        assert_eq!(a.shape(), img.shape());
        assert_eq!(a.unit, Unit::Echogenicity);
        assert_eq!(a.modality, Modality::Us);
        assert!(a.data.iter().all(|v| (0.0..=1.0).contains(v)));
        let bytes = |i: &Image| {
            i.data
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        assert_eq!(bytes(&a), bytes(&b), "same seed, same bytes");
        assert_ne!(a, c, "another seed, another speckle");
        // square pixels as the input; physical spacing from the probe
        assert!((a.spacing[0] - a.spacing[1]).abs() < 1e-12);
        // display grey ≈ echogenicity (echo range = dynamic range): the bright disc is
        // brighter than the background, the cyst is black
        let cyst = a.data[[60, 30]];
        assert!(cyst < 0.1, "{:?} cyst {cyst}", probe.kind);
    }
}

#[test]
fn degradations_change_the_image_in_the_expected_direction() {
    let img = phantom(128, 128);
    let seed = 3;
    let probe = ProbeKind::Linear;
    let clean = simulate_bmode(&img, &Probe::preset(probe), &Settings::default(), seed).unwrap();
    let mean = |i: &Image| i.data.mean().unwrap();
    let dark = Gain::apply(
        &GainParams {
            probe,
            seed,
            gain_db: -20.0,
        },
        &img,
    )
    .unwrap();
    let bright = Gain::apply(
        &GainParams {
            probe,
            seed,
            gain_db: 15.0,
        },
        &img,
    )
    .unwrap();
    assert!(mean(&dark) < mean(&clean) - 0.2 && mean(&bright) > mean(&clean) + 0.1);
    let att = Attenuation::apply(
        &AttenuationParams {
            probe,
            seed,
            alpha_db_cm_mhz: 0.5,
            tgc_compensation: 0.0,
            tgc_slider_db: vec![],
        },
        &img,
    )
    .unwrap();
    let bottom = |i: &Image| i.data.slice(ndarray::s![110.., ..]).mean().unwrap();
    assert!(
        bottom(&att) < bottom(&clean) - 0.3,
        "deep tissue darkens without TGC"
    );
    let hz = Haze::apply(
        &HazeParams {
            probe,
            seed,
            haze: Clutter {
                level: 0.1,
                near_field: 0.3,
                floor: 0.5,
            },
        },
        &img,
    )
    .unwrap();
    assert!(
        hz.data[[64, 38]] > clean.data[[64, 38]] + 0.2,
        "haze fills the cyst"
    );
    let lr = LowResolution::apply(
        &LowResolutionParams {
            probe,
            seed,
            fc_scale: 0.4,
            beam_width_scale: 2.0,
        },
        &img,
    )
    .unwrap();
    let ssim = artefact_core::metrics::ssim(clean.data.view(), lr.data.view(), 1.0).unwrap();
    assert!(
        ssim < 0.8,
        "low resolution changes the texture: SSIM {ssim}"
    );
}

#[test]
fn sampling_draws_valid_params_and_rejects_bad_specs() {
    let mut rng = Seed::derive(1, "us").rng();
    let spec = ParamSpec::new()
        .with(
            "probe",
            SpecValue::Choice(vec!["convex".into(), "phased".into()]),
        )
        .with("loss_db", SpecValue::Range([10.0, 20.0]))
        .with("reflectors", SpecValue::Number(2.0));
    for _ in 0..20 {
        let p = Shadowing::sample(&spec, &mut rng).unwrap();
        assert!(p.probe != ProbeKind::Linear);
        assert_eq!(p.reflectors.len(), 2);
        for r in &p.reflectors {
            assert!((10.0..=20.0).contains(&r.loss_db));
            assert!((0.15..=0.5).contains(&r.depth_frac));
        }
    }
    // a fixed seed in the spec is kept (pairs with the clean render)
    let spec = ParamSpec::new().with("seed", SpecValue::Number(1234.0));
    assert_eq!(Gain::sample(&spec, &mut rng).unwrap().seed, 1234);
    let p = Attenuation::sample(
        &ParamSpec::new().with("slider_error_db", SpecValue::Number(6.0)),
        &mut rng,
    )
    .unwrap();
    assert_eq!(p.tgc_slider_db.len(), 8);
    // errors name the parameter
    let bad = |op: &str, spec: ParamSpec| -> String {
        let mut rng = Seed::derive(2, "bad").rng();
        match op {
            "gain" => Gain::sample(&spec, &mut rng).unwrap_err().to_string(),
            "speckle" => Speckle::sample(&spec, &mut rng).unwrap_err().to_string(),
            "lowres" => LowResolution::sample(&spec, &mut rng)
                .unwrap_err()
                .to_string(),
            _ => Reverberation::sample(&spec, &mut rng)
                .unwrap_err()
                .to_string(),
        }
    };
    let e = bad(
        "gain",
        ParamSpec::new().with("probe", SpecValue::Text("annular".into())),
    );
    assert!(e.contains("probe") && e.contains("linear"), "{e}");
    let e = bad(
        "speckle",
        ParamSpec::new().with("scatterers_per_cell", SpecValue::Number(-1.0)),
    );
    assert!(e.contains("scatterers_per_cell"), "{e}");
    let e = bad(
        "lowres",
        ParamSpec::new().with("fc_scale", SpecValue::Number(2.0)),
    );
    assert!(e.contains("fc_scale"), "{e}");
    let e = bad(
        "reverb",
        ParamSpec::new().with("reflectivity", SpecValue::Number(1.5)),
    );
    assert!(e.contains("reflectivity"), "{e}");
    let e = bad(
        "gain",
        ParamSpec::new().with("seed", SpecValue::Number(-3.0)),
    );
    assert!(e.contains("seed"), "{e}");
}

#[test]
fn op_infos_are_named_and_documented() {
    let infos = [
        Speckle::info(),
        Attenuation::info(),
        Gain::info(),
        Shadowing::info(),
        Reverberation::info(),
        LowResolution::info(),
        Haze::info(),
    ];
    let names: Vec<&str> = infos.iter().map(|i| i.name).collect();
    assert_eq!(
        names,
        [
            "us.speckle",
            "us.attenuation",
            "us.gain",
            "us.shadowing",
            "us.reverberation",
            "us.low_resolution",
            "us.haze"
        ]
    );
    for i in infos {
        assert_eq!(i.modality, "US");
        assert!(i.param("probe").is_some() && i.param("seed").is_some());
        assert!(i.params.iter().all(|p| !p.doc.is_empty()));
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let grey = Image::new(
        Array2::from_elem((32, 32), 200.0f32),
        [1.0, 1.0],
        Modality::Mr,
        Unit::Arbitrary,
    )
    .unwrap();
    let e = simulate_bmode(&grey, &Probe::linear(), &Settings::default(), 1).unwrap_err();
    assert!(e.to_string().contains("echogenicity_from_grey"), "{e}");
    let mut nan = phantom(32, 32);
    nan.data[[3, 3]] = f32::NAN;
    assert!(simulate_bmode(&nan, &Probe::linear(), &Settings::default(), 1).is_err());
    let tiny = Image::new(
        Array2::zeros((1, 5)),
        [1.0, 1.0],
        Modality::Us,
        Unit::Echogenicity,
    )
    .unwrap();
    assert!(simulate_bmode(&tiny, &Probe::linear(), &Settings::default(), 1).is_err());
    let s = Settings {
        dynamic_range_db: 0.0,
        ..Settings::default()
    };
    assert!(simulate_bmode(&phantom(32, 32), &Probe::linear(), &s, 1).is_err());
    let mut p = Probe::phased();
    p.sector_deg = 400.0;
    assert!(simulate_bmode(&phantom(32, 32), &p, &Settings::default(), 1).is_err());
    let huge = Probe {
        fc_mhz: 40.0,
        ..Probe::convex()
    };
    let s = Settings {
        oversample: 8.0,
        ..Settings::default()
    };
    assert!(
        simulate_bmode(&phantom(32, 32), &huge, &s, 1).is_err(),
        "grid too large is an error"
    );
}
