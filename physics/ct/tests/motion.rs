//! ct.motion: zero amplitude is the pipeline; a step pose reconstructs the moved object (sign
//! conventions), larger motion gives larger error.

use artefact_core::{metrics, Image, Modality, Unit};
use artefact_ct::motion::{apply_with, sinogram, sinogram_resampled, MotionParams};
use artefact_ct::pipeline::reconstruct_hu_with;
use artefact_ct::pipeline::{simulate, ScanSettings};
use ndarray::Array2;

fn phantom(n: usize, pixel: f64) -> Image {
    let c = (n as f64 - 1.0) / 2.0;
    let data = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = ((j as f64 - c) * pixel, (c - i as f64) * pixel);
        if (x - 40.0).hypot(y) < 8.0 {
            2000.0
        } else if x.hypot(y) <= 75.0 {
            0.0
        } else {
            -1000.0
        }
    });
    Image::new(data, [pixel, pixel], Modality::Ct, Unit::Hu).unwrap()
}

fn params(t: f64, rot: f64) -> MotionParams {
    MotionParams {
        scan: artefact_ct::pipeline::ScanSettings::default(),
        pattern: artefact_ct::motion::Pattern::RaisedCosine,
        translation_mm: t,
        direction_deg: 90.0,
        rotation_deg: rot,
        onset: 0.0,
        duration: 0.002,
        cycles: 1.0,
    }
}

/// Centroid (x right, y up, mm) of pixels above 1000 HU.
fn insert_centroid(img: &Image) -> (f64, f64) {
    let (n, _) = img.data.dim();
    let c = (n as f64 - 1.0) / 2.0;
    let (mut sx, mut sy, mut k) = (0.0, 0.0, 0.0);
    for ((i, j), &v) in img.data.indexed_iter() {
        if v > 1000.0 {
            sx += (j as f64 - c) * img.spacing[1];
            sy += (c - i as f64) * img.spacing[0];
            k += 1.0;
        }
    }
    (sx / k, sy / k)
}

#[test]
fn zero_amplitude_is_identity_and_step_poses_move_the_object() {
    let img = phantom(96, 2.0);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    assert_eq!(
        apply_with(&params(0.0, 0.0), &img, &scan).unwrap().data,
        clean.data
    );
    let (x0, y0) = insert_centroid(&clean);
    // a step to +8 mm along +y right at the start: the image shows the object moved up
    let up = apply_with(&params(8.0, 0.0), &img, &scan).unwrap();
    let (x1, y1) = insert_centroid(&up);
    assert!(
        (y1 - y0 - 8.0).abs() < 1.0 && (x1 - x0).abs() < 1.0,
        "({x1},{y1}) vs ({x0},{y0})"
    );
    // a step rotation of +30° (counter-clockwise) about the isocentre
    let rot = apply_with(&params(0.0, 30.0), &img, &scan).unwrap();
    let (x2, y2) = insert_centroid(&rot);
    let ang = y2.atan2(x2).to_degrees() - y0.atan2(x0).to_degrees();
    assert!((ang - 30.0).abs() < 2.0, "rotated by {ang}°");
}

#[test]
fn error_grows_with_amplitude_for_both_patterns() {
    let img = phantom(64, 3.0);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    for pattern in ["raised_cosine", "sinusoid"] {
        let mut prev = 0.0;
        for amp in [1.0, 4.0, 10.0] {
            let p = MotionParams {
                scan: artefact_ct::pipeline::ScanSettings::default(),
                pattern: artefact_ct::motion::Pattern::parse(pattern).unwrap(),
                translation_mm: amp,
                direction_deg: 30.0,
                rotation_deg: amp / 2.0,
                onset: 0.3,
                duration: 0.4,
                cycles: 1.0,
            };
            let out = apply_with(&p, &img, &scan).unwrap();
            let e = metrics::nrmse(clean.data.view(), out.data.view()).unwrap();
            assert!(e > prev, "{pattern} amp {amp}: {e} not above {prev}");
            prev = e;
        }
    }
}

fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn rms(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    let s: f64 = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum();
    (s / a.len() as f64).sqrt()
}

/// Moving the rays ([`sinogram`]) is the same as resampling the object
/// ([`sinogram_resampled`]) when the shift is a whole number of fine pixels: the bilinear
/// resampling is then exact, and only the rounding of the ray intercepts differs. One
/// difference is by design: air has μ > 0, and the reference shifts vacuum into the grid (and
/// the air at the far edge out of it) while moving the rays moves the whole grid of air; that
/// part is measured on an all-air image and removed (the projections are linear in μ).
#[test]
fn ray_shift_equals_resampling_for_whole_pixel_shifts() {
    let img = phantom(96, 2.0); // fine grid: 1 mm pixels
    let air = Image::new(
        Array2::from_elem((96, 96), -1000.0f32),
        [2.0, 2.0],
        Modality::Ct,
        Unit::Hu,
    )
    .unwrap();
    for (scan, (t, dir)) in [
        (ScanSettings::default(), (3.0, 0.0)),
        (ScanSettings::default(), (2.0, 90.0)),
        (ScanSettings::default(), (5.0, 180.0)),
        (ScanSettings::parallel(), (4.0, 270.0)),
        (ScanSettings::fan_flat(), (3.0, 90.0)),
    ] {
        let p = MotionParams {
            direction_deg: dir,
            duration: 0.001,
            ..params(t, 0.0)
        };
        let (fast, g1) = sinogram(&p, &img, &scan).unwrap();
        let (slow, g2) = sinogram_resampled(&p, &img, &scan).unwrap();
        assert_eq!(g1, g2);
        let (fast_air, _) = sinogram(&p, &air, &scan).unwrap();
        let (slow_air, _) = sinogram_resampled(&p, &air, &scan).unwrap();
        let air_edge = max_abs_diff(&fast_air, &slow_air);
        assert!(air_edge < 0.01, "air edge {air_edge}");
        let peak = slow.iter().fold(0.0f32, |m, &v| m.max(v));
        let d = max_abs_diff(&(&fast - &fast_air), &(&slow - &slow_air));
        assert!(
            d <= 1e-5 * peak,
            "{t} mm at {dir}°: max |Δp| {d} (peak {peak}, air edge {air_edge})"
        );
    }
}

/// At recipe amplitudes (fractional shifts and rotation) the ray-shift sinogram differs from
/// the bilinearly resampled reference only by the reference's interpolation blur: small
/// against the motion artefact itself, in the sinogram and in the reconstruction.
#[test]
fn ray_shift_agrees_with_resampling_at_recipe_amplitudes() {
    let img = phantom(128, 1.5);
    let scan = ScanSettings::default();
    let clean = simulate(&img, &scan, |_, _| Ok(())).unwrap();
    for (pattern, t, rot) in [
        ("raised_cosine", 2.3, 1.1),
        ("raised_cosine", 9.7, 6.3),
        ("sinusoid", 4.1, 2.7),
    ] {
        let p = MotionParams {
            pattern: artefact_ct::motion::Pattern::parse(pattern).unwrap(),
            direction_deg: 37.0,
            onset: 0.3,
            duration: 0.4,
            ..params(t, rot)
        };
        let (fast, _) = sinogram(&p, &img, &scan).unwrap();
        let (slow, _) = sinogram_resampled(&p, &img, &scan).unwrap();
        let zero = Array2::<f32>::zeros(slow.dim());
        let rel = rms(&fast, &slow) / rms(&slow, &zero);
        let a = apply_with(&p, &img, &scan).unwrap();
        let (sino, geom) = sinogram_resampled(&p, &img, &scan).unwrap();
        let b = reconstruct_hu_with(&sino, &geom, &img, scan.filter, scan.mu_water).unwrap();
        let diff = rms(&a.data, &b.data);
        let artefact = rms(&b.data, &clean.data);
        eprintln!("{pattern} {t} mm {rot}°: sinogram rel. RMS {rel:.2e}, image RMS diff {diff:.2} HU, artefact RMS {artefact:.1} HU");
        assert!(
            rel < 5e-3,
            "{pattern}: sinogram relative RMS difference {rel}"
        );
        assert!(
            diff < 0.1 * artefact,
            "{pattern}: {diff} HU vs artefact {artefact} HU"
        );
    }
}

/// The per-view shifted ray tables are built in parallel: the output must not depend on the
/// thread count.
#[test]
fn same_bytes_on_any_thread_count() {
    let img = phantom(64, 3.0);
    let scan = ScanSettings::default();
    let p = MotionParams {
        direction_deg: 37.0,
        onset: 0.2,
        duration: 0.5,
        ..params(6.5, 3.3)
    };
    let run = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| apply_with(&p, &img, &scan).unwrap())
    };
    let one = run(1);
    for n in [2, 3] {
        let other = run(n);
        assert!(
            one.data
                .iter()
                .zip(other.data.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{n} threads"
        );
    }
}

/// Views at rest (before a raised-cosine onset) are taken from the memoised clean scan when
/// another attribute of the slice made it: the same bytes as projecting every view.
#[test]
fn views_at_rest_from_the_memoised_clean_scan_give_the_same_bytes() {
    // a phantom no other test of this binary uses, so the memo is cold for it
    let img = phantom(88, 2.1);
    let scan = ScanSettings::default();
    let mut p = params(6.0, 2.0);
    p.onset = 0.4;
    p.duration = 0.3;
    let (cold, geom) = sinogram(&p, &img, &scan).unwrap();
    // the clean scan of the slice, as `ct.low_dose` or `ct.ring` would leave it
    let (mu, grid) = artefact_ct::pipeline::to_mu_fine_with(&img, scan.upsample, scan.mu_water);
    let clean = artefact_ct::memo::forward(mu.view(), &grid, &geom).unwrap();
    let (warm, _) = sinogram(&p, &img, &scan).unwrap();
    assert!(
        artefact_ct::memo::forward_if_known(mu.view(), &grid, &geom).is_some()
            || std::env::var_os("ARTEFACT_CT_NO_MEMO").is_some()
    );
    // rest views are the clean rows, later ones differ from them
    let rest = (0.4 * geom.n_views() as f64) as usize;
    assert_eq!(cold.row(0), clean.row(0));
    assert_eq!(cold.row(rest - 1), clean.row(rest - 1));
    assert_ne!(cold.row(geom.n_views() - 1), clean.row(geom.n_views() - 1));
    for (a, b) in cold.iter().zip(warm.iter()) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
}
