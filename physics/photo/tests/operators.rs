//! The colour operators' contract (sampling from a spec, replay from recorded params, same
//! seed → same bytes, identity at zero strength, nothing outside the field of view changes)
//! and their behaviour on the real photographs in tests/data/photo (provenance and licences in
//! tests/data/README.md).

use artefact_core::colour_metrics::{delta_e2000_mean, ssim_luminance};
use artefact_core::{
    ColourOpVisitor, ColourOperator, Modality, ParamSpec, RgbImage, Seed, SpecValue,
};
use artefact_io::{read_rgb, RgbLoadOptions};
use artefact_photo::defocus::{Defocus, DefocusParams};
use artefact_photo::motion::{MotionBlur, MotionBlurParams};
use artefact_photo::{jpeg, sensor_noise, stain, visit_colour_operators};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

fn fundus() -> RgbImage {
    let l = read_rgb(
        &data("photo/fundus/fundus_background_retinopathy_nei_eda03_pd.jpg"),
        &RgbLoadOptions {
            modality: Some(Modality::Fundus),
            detect_fov: true,
            ..Default::default()
        },
    )
    .unwrap();
    l.image
}

fn he(name: &str) -> RgbImage {
    read_rgb(
        &data(&format!("photo/histopathology/{name}")),
        &RgbLoadOptions {
            modality: Some(Modality::Histopathology),
            spacing_mm: Some([5e-4, 5e-4]),
            ..Default::default()
        },
    )
    .unwrap()
    .image
}

fn bytes(x: &RgbImage) -> Vec<u8> {
    x.data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Every listed operator samples from an empty spec, records params that survive JSON, and
/// replays to the same bytes; outside the field of view nothing changes.
struct Contract {
    img: RgbImage,
    names: Vec<&'static str>,
}

impl ColourOpVisitor for Contract {
    fn visit<O: ColourOperator + 'static>(&mut self) {
        let info = O::info();
        self.names.push(info.name);
        let mut rng = Seed::derive(3, info.name).rng();
        let p = O::sample(&ParamSpec::new(), &mut rng).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let replayed: O::Params = serde_json::from_str(&json).unwrap();
        let a = O::apply(&p, &self.img).unwrap();
        let b = O::apply(&replayed, &self.img).unwrap();
        assert_eq!(bytes(&a), bytes(&b), "{}", info.name);
        assert_eq!(a.fov, self.img.fov);
        let mask = self.img.fov.as_ref().unwrap();
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(
                    v.to_bits(),
                    self.img.data[[k, r, c]].to_bits(),
                    "{}",
                    info.name
                );
            }
        }
        assert_ne!(a.data, self.img.data, "{} changed nothing", info.name);
        assert_eq!(
            info.params.len(),
            info.params.iter().filter(|p| !p.doc.is_empty()).count()
        );
    }
}

#[test]
fn operator_contract_on_a_real_fundus_photograph() {
    let img = fundus();
    assert!(img.fov.is_some());
    let mut c = Contract {
        img,
        names: Vec::new(),
    };
    visit_colour_operators(&mut c);
    assert_eq!(c.names.len(), artefact_photo::COLOUR_OPERATOR_COUNT);
    assert_eq!(
        c.names,
        [
            "photo.defocus",
            "photo.motion_blur",
            "photo.sensor_noise",
            "photo.jpeg",
            "photo.illumination",
            "photo.veil",
            "photo.white_balance",
            "photo.exposure",
            "photo.smoke",
            "photo.shadow",
            "photo.specular",
            "photo.bubbles",
            "photo.instrument",
            "photo.stain",
            "photo.tissue_fold",
            "photo.dark_spot",
            "photo.pen_mark",
            "photo.thread",
            "photo.air_bubble",
            "photo.tissue_cut",
            "photo.brightfield_shading",
        ]
    );
}

#[test]
fn zero_strength_is_the_identity_and_ranges_are_checked() {
    let img = fundus();
    let d = DefocusParams {
        diameter_px: 0.0,
        chromatic: 0.0,
    };
    assert_eq!(Defocus::apply(&d, &img).unwrap().data, img.data);
    let m = MotionBlurParams {
        length_px: 0.0,
        angle_deg: 30.0,
    };
    assert_eq!(MotionBlur::apply(&m, &img).unwrap().data, img.data);
    let bad = DefocusParams {
        diameter_px: 1000.0,
        chromatic: 0.0,
    };
    let e = Defocus::apply(&bad, &img).unwrap_err().to_string();
    assert!(e.contains("diameter_px"), "{e}");
    let spec = ParamSpec::new().with("quality", SpecValue::Number(0.0));
    let e = jpeg::Jpeg::sample(&spec, &mut Seed::from_u64(1).rng()).unwrap_err();
    assert!(e.to_string().contains("quality"), "{e}");
}

/// Severe is measurably worse than mild on the real fundus photograph (SSIM of luminance and
/// mean ΔE2000 inside the field of view), and the same seed gives the same noise.
#[test]
fn severity_orders_quality_on_a_real_fundus() {
    let img = fundus();
    let ssim = |x: &RgbImage| ssim_luminance(&img, x).unwrap();
    let mild = Defocus::apply(
        &DefocusParams {
            diameter_px: 3.0,
            chromatic: 0.0,
        },
        &img,
    )
    .unwrap();
    let severe = Defocus::apply(
        &DefocusParams {
            diameter_px: 12.0,
            chromatic: 0.1,
        },
        &img,
    )
    .unwrap();
    eprintln!(
        "defocus SSIM mild {:.4} severe {:.4}",
        ssim(&mild),
        ssim(&severe)
    );
    assert!(ssim(&severe) < ssim(&mild) && ssim(&mild) < 1.0);
    let n = |fw: f64, seed: u64| {
        sensor_noise::SensorNoise::apply(
            &sensor_noise::SensorNoiseParams {
                full_well: fw,
                read_noise: 5.0,
                seed,
            },
            &img,
        )
        .unwrap()
    };
    let (a, b) = (n(400.0, 9), n(400.0, 9));
    assert_eq!(bytes(&a), bytes(&b));
    let mild_n = n(4000.0, 9);
    eprintln!(
        "noise ΔE00 mild {:.3} severe {:.3}",
        delta_e2000_mean(&img, &mild_n).unwrap(),
        delta_e2000_mean(&img, &a).unwrap()
    );
    assert!(delta_e2000_mean(&img, &a).unwrap() > delta_e2000_mean(&img, &mild_n).unwrap());
}

/// Macenko on the real H&E tiles: haematoxylin and eosin come out near Ruifrok's vectors
/// (stain protocols differ between labs, so within 25°), haematoxylin redder in OD than eosin,
/// and the identity stain variation returns the image.
#[test]
fn macenko_on_real_he_tiles() {
    let ruifrok = stain::StainBasis::ruifrok_he();
    let ang = |a: [f64; 3], b: [f64; 3]| {
        (a[0] * b[0] + a[1] * b[1] + a[2] * b[2])
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees()
    };
    for name in [
        "he_crc_tumour_nct100k_TUM-AEPINLNQ_224px.png",
        "he_crc_tumour_nct100k_TUM-EWFNFSQL_224px.png",
        "he_crc_tumour_crcval7k_TUM-TCGA-CVATFAAT_224px.png",
        "he_skin_cmu1_small_region_aperio20x_x600_y1500_768px.png",
    ] {
        let img = he(name);
        let b = stain::macenko(&img, 1.0).unwrap();
        let (h, e) = (b.vectors[0], b.vectors[1]);
        eprintln!(
            "{name}: H {h:.3?} ({:.1}° from Ruifrok), E {e:.3?} ({:.1}°)",
            ang(h, ruifrok.vectors[0]),
            ang(e, ruifrok.vectors[1])
        );
        assert!(h[0] > e[0]);
        assert!(ang(h, ruifrok.vectors[0]) < 25.0 && ang(e, ruifrok.vectors[1]) < 25.0);
        let id = stain::StainParams {
            scale: [1.0, 1.0],
            shift: [0.0, 0.0],
            i0: 1.0,
        };
        let out = stain::apply(&id, &img).unwrap();
        let worst = out
            .data
            .iter()
            .zip(img.data.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{name}: identity off by {worst}");
    }
}
