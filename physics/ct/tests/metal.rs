//! ct.metal: polychromatic streaks ≫ monochromatic reference; water BHC removes cupping;
//! inserts are placed inside the body.

mod common;
use artefact_core::{Image, Operator, ParamSpec, Seed};
use artefact_ct::metal::{
    apply_with, apply_with_inserts, apply_with_mask, place_inserts, Metal, MetalParams, Physics,
};
use artefact_ct::phantom::Ellipse;
use artefact_ct::pipeline::{simulate, ScanSettings};
use common::water_disc;
use ndarray::Array2;

fn params(material: &str) -> MetalParams {
    MetalParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        material: artefact_ct::materials::Metal::parse(material).unwrap(),
        count: 2,
        radius_mm: 4.0,
        shape: artefact_ct::metal::InsertShape::Rod,
        aspect: 1.0,
        i0: 2e5,
        scatter_fraction: 0.001,
        electronic_noise: 3.0,
        bhc: true,
        seed: 9,
    }
}

fn rod(x0: f64, r: f64) -> Ellipse {
    Ellipse {
        x0,
        y0: 0.0,
        a: r,
        b: r,
        phi: 0.0,
        value: 1.0,
    }
}

/// Mean squared HU error along the centre row between x = ±x_max mm (outside the rods).
fn line_energy(img: &Image, x_max: f64) -> f64 {
    let (n, _) = img.data.dim();
    let c = (n as f64 - 1.0) / 2.0;
    let i = n / 2;
    let mut v = Vec::new();
    for j in 0..n {
        let x = (j as f64 - c) * img.spacing[1];
        if x.abs() <= x_max {
            v.push(((img.data[[i, j]] + img.data[[i - 1, j]]) / 2.0) as f64);
        }
    }
    v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64
}

#[test]
fn polychromatic_streaks_dwarf_the_monochromatic_reference() {
    let img = water_disc(128, 1.5, 85.0);
    let scan = ScanSettings::default();
    let rods = [rod(-35.0, 4.0), rod(35.0, 4.0)];
    let p = params("Fe");
    let poly = apply_with_inserts(&p, &img, &rods, &scan, Physics::Polychromatic).unwrap();
    let mono = apply_with_inserts(&p, &img, &rods, &scan, Physics::Monochromatic).unwrap();
    let x_max = 35.0 - 4.0 - 6.0;
    let e_poly = line_energy(&poly, x_max);
    let e_mono = line_energy(&mono, x_max);
    eprintln!("streak energy: poly {e_poly:.1} HU², mono {e_mono:.1} HU²");
    assert!(
        e_poly > 20.0 * e_mono,
        "streak energy poly {e_poly:.1} vs mono {e_mono:.1} HU²"
    );
    // dark band between the rods
    let (n, _) = poly.data.dim();
    let mid = poly.data[[n / 2, n / 2]];
    assert!(mid < -20.0, "centre between the rods {mid} HU is not dark");
    // the metal itself is reconstructed far above bone
    assert!(mono.data.iter().cloned().fold(f32::MIN, f32::max) > 5000.0);
}

#[test]
fn water_bhc_flattens_a_polychromatic_water_disc() {
    let img = water_disc(128, 1.5, 85.0);
    let scan = ScanSettings::default();
    let none = Array2::<f32>::zeros(img.data.dim());
    let ring = |im: &Image, r0: f64, r1: f64| {
        let (n, _) = im.data.dim();
        let c = (n as f64 - 1.0) / 2.0;
        let (mut s, mut k) = (0.0, 0);
        for ((i, j), &v) in im.data.indexed_iter() {
            let r = (j as f64 - c).hypot(i as f64 - c) * im.spacing[0];
            if r >= r0 && r < r1 {
                s += v as f64;
                k += 1;
            }
        }
        s / k as f64
    };
    let mut p = params("Ti");
    p.scatter_fraction = 0.0; // scatter cups too; this test isolates beam hardening
    p.bhc = false;
    let raw = apply_with_mask(&p, &img, &none, &scan, Physics::PolychromaticNoiseless).unwrap();
    p.bhc = true;
    let bhc = apply_with_mask(&p, &img, &none, &scan, Physics::PolychromaticNoiseless).unwrap();
    let cup_raw = ring(&raw, 65.0, 75.0) - ring(&raw, 0.0, 15.0);
    let cup_bhc = ring(&bhc, 65.0, 75.0) - ring(&bhc, 0.0, 15.0);
    eprintln!("cupping: raw {cup_raw:.1} HU, after BHC {cup_bhc:.1} HU");
    assert!(cup_raw > 15.0, "no cupping without BHC: {cup_raw} HU");
    assert!(cup_bhc.abs() < 5.0, "cupping after BHC {cup_bhc} HU");
    assert!(
        ring(&bhc, 0.0, 15.0).abs() < 8.0,
        "water centre {} HU",
        ring(&bhc, 0.0, 15.0)
    );
    let _ = simulate(&img, &scan, |_, _| Ok(())).unwrap();
}

#[test]
fn inserts_lie_inside_the_body_and_the_operator_replays() {
    let img = water_disc(96, 2.0, 60.0);
    let mut p = params("Cu");
    p.count = 3;
    p.radius_mm = 5.0;
    for seed in 0..20 {
        p.seed = seed;
        for e in place_inserts(&p, &img).unwrap() {
            assert!(
                e.x0.hypot(e.y0) + e.a <= 60.0 - 2.0,
                "insert {e:?} leaves the body"
            );
        }
    }
    p.radius_mm = 40.0;
    assert!(
        place_inserts(&p, &img).is_err(),
        "a 40 mm insert cannot fit"
    );
    let mut rng = Seed::derive(3, "metal").rng();
    let q = Metal::sample(&ParamSpec::new(), &mut rng).unwrap();
    let small = water_disc(64, 3.0, 80.0);
    let scan = ScanSettings::default();
    let a = apply_with(&q, &small, &scan, Physics::Polychromatic).unwrap();
    let b = apply_with(&q, &small, &scan, Physics::Polychromatic).unwrap();
    assert_eq!(a.data, b.data);
    assert!(a.data.iter().all(|v| v.is_finite()));
    assert_eq!(Metal::info().name, "ct.metal");
}
