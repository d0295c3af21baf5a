//! Physics tests of `mri.motion` (2-D) and `motion::apply_volume` (3-D).

mod real;
use real::data_path;

use artefact_core::metrics::ssim;
use artefact_core::{Image, Modality, Operator, ParamSpec, Seed, SpecValue, Unit, Volume};
use artefact_mri::motion::{
    apply_volume, line_times, line_times_3d, sample_volume, AcquisitionMatrix, Motion, MotionEvent,
    MotionParams, PeOrdering, VolumeMotionEvent, VolumeMotionParams,
};
use artefact_mri::PhaseEncode;
use ndarray::{Array2, Array3, Axis};

/// Head-like phantom: skull ring, brain ellipse, a few inner structures (values 0..1).
fn phantom(n0: usize, n1: usize) -> Array2<f32> {
    let ell = |y: f64, x: f64, cy: f64, cx: f64, ry: f64, rx: f64| {
        ((y - cy) / ry).powi(2) + ((x - cx) / rx).powi(2) <= 1.0
    };
    Array2::from_shape_fn((n0, n1), |(i, j)| {
        let y = (i as f64 + 0.5) / n0 as f64 * 2.0 - 1.0;
        let x = (j as f64 + 0.5) / n1 as f64 * 2.0 - 1.0;
        let mut v = 0.0;
        if ell(y, x, 0.0, 0.0, 0.85, 0.7) {
            v = 1.0;
        }
        if ell(y, x, 0.0, 0.0, 0.78, 0.63) {
            v = 0.5;
        }
        if ell(y, x, -0.2, -0.25, 0.25, 0.12) {
            v = 0.2;
        }
        if ell(y, x, -0.2, 0.25, 0.25, 0.12) {
            v = 0.2;
        }
        if ell(y, x, 0.35, 0.0, 0.1, 0.1) {
            v = 0.8;
        }
        if ell(y, x, 0.55, -0.1, 0.05, 0.04) {
            v = 0.9;
        }
        v
    })
}

fn mr(data: Array2<f32>, spacing: [f64; 2]) -> Image {
    Image::new(data, spacing, Modality::Mr, Unit::Arbitrary).unwrap()
}

fn event(start: f64, end: f64, t: [f64; 2], r: f64) -> MotionEvent {
    MotionEvent {
        start,
        end,
        translation_mm: t,
        rotation_deg: r,
    }
}

fn params(pe: PhaseEncode, ord: PeOrdering, events: Vec<MotionEvent>) -> MotionParams {
    MotionParams {
        phase_encode: pe,
        ordering: ord,
        events,
    }
}

fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn line_orderings() {
    let seq = line_times(8, PeOrdering::Sequential);
    assert!(seq.windows(2).all(|w| w[0] < w[1]));
    let cen = line_times(8, PeOrdering::Centric);
    // centre index 4 first, then 3, 5, 2, 6, 1, 7, 0
    let order = [4, 3, 5, 2, 6, 1, 7, 0];
    for (p, &i) in order.iter().enumerate() {
        assert!((cen[i] - (p as f64 + 0.5) / 8.0).abs() < 1e-12);
    }
    let t3 = line_times_3d(4, 3, PeOrdering::Sequential);
    assert!((t3[[0, 0]] - 0.5 / 12.0).abs() < 1e-12);
    assert!(
        (t3[[1, 0]] - 1.5 / 12.0).abs() < 1e-12,
        "phase encode is the inner loop"
    );
    let c3 = line_times_3d(4, 3, PeOrdering::Centric);
    assert!(
        (c3[[2, 1]] - 0.5 / 12.0).abs() < 1e-12,
        "k-space centre first"
    );
}

#[test]
fn zero_motion_is_identity() {
    let img = mr(phantom(64, 48), [1.0, 1.2]);
    for p in [
        params(PhaseEncode::Rows, PeOrdering::Sequential, vec![]),
        params(
            PhaseEncode::Cols,
            PeOrdering::Centric,
            vec![event(0.2, 0.9, [0.0, 0.0], 0.0)],
        ),
        params(
            PhaseEncode::Rows,
            PeOrdering::Sequential,
            vec![event(0.5, 0.5, [5.0, 3.0], 10.0)], // empty window
        ),
    ] {
        assert_eq!(Motion::apply(&p, &img).unwrap(), img);
    }
}

#[test]
fn translation_of_the_whole_scan_is_an_exact_shift() {
    let img = mr(phantom(64, 64), [1.0, 0.5]);
    // 3 mm along rows (3 px), −2 mm along cols (−4 px)
    let p = params(
        PhaseEncode::Rows,
        PeOrdering::Sequential,
        vec![event(0.0, 1.0, [3.0, -2.0], 0.0)],
    );
    let out = Motion::apply(&p, &img).unwrap();
    let want = Array2::from_shape_fn((64, 64), |(i, j)| {
        img.data[[(i + 64 - 3) % 64, (j + 4) % 64]]
    });
    let err = max_abs_diff(&out.data, &want);
    assert!(err < 2e-5, "circular shift error {err}");
}

#[test]
fn subpixel_translation_moves_a_gaussian_analytically() {
    let g = |c0: f64, c1: f64| {
        Array2::from_shape_fn((64, 64), |(i, j)| {
            let r2 = (i as f64 - c0).powi(2) + (j as f64 - c1).powi(2);
            (-r2 / (2.0 * 2.5 * 2.5)).exp() as f32
        })
    };
    let img = mr(g(30.0, 33.0), [1.0, 1.0]);
    let p = params(
        PhaseEncode::Cols,
        PeOrdering::Centric,
        vec![event(0.0, 1.0, [0.4, -1.7], 0.0)],
    );
    let out = Motion::apply(&p, &img).unwrap();
    let err = max_abs_diff(&out.data, &g(30.4, 31.3));
    assert!(err < 1e-4, "sub-pixel shift error {err}");
}

#[test]
fn rotation_of_the_whole_scan_rotates_the_object() {
    let (c0, c1) = (32.0 + 9.0, 32.0 + 5.0);
    let g = |c0: f64, c1: f64| {
        Array2::from_shape_fn((64, 64), |(i, j)| {
            let r2 = (i as f64 - c0).powi(2) + (j as f64 - c1).powi(2);
            (-r2 / (2.0 * 3.0 * 3.0)).exp() as f32
        })
    };
    let img = mr(g(c0, c1), [1.0, 1.0]);
    let theta = 15f64;
    let p = params(
        PhaseEncode::Rows,
        PeOrdering::Sequential,
        vec![event(0.0, 1.0, [0.0, 0.0], theta)],
    );
    let out = Motion::apply(&p, &img).unwrap();
    let (s, c) = theta.to_radians().sin_cos();
    let (d0, d1) = (c0 - 32.0, c1 - 32.0);
    let want = g(32.0 + c * d0 - s * d1, 32.0 + s * d0 + c * d1);
    let err = max_abs_diff(&out.data, &want);
    assert!(err < 3e-3, "rotation error {err}");
}

#[test]
fn motion_at_the_kspace_periphery_degrades_less_than_at_the_centre() {
    let img = mr(phantom(128, 128), [1.0, 1.0]);
    let mv = |t0: f64, t1: f64, ord: PeOrdering| {
        let p = params(PhaseEncode::Rows, ord, vec![event(t0, t1, [3.0, 2.0], 3.0)]);
        let out = Motion::apply(&p, &img).unwrap();
        ssim(img.data.view(), out.data.view(), 1.0).unwrap()
    };
    // centric: the first 30 % of the scan is the centre, the last 30 % the periphery
    let centre = mv(0.0, 0.3, PeOrdering::Centric);
    let periphery = mv(0.7, 1.0, PeOrdering::Centric);
    assert!(
        periphery > centre + 0.1,
        "periphery {periphery} vs centre {centre}"
    );
    // sequential: the centre is acquired mid-scan
    let mid = mv(0.4, 0.6, PeOrdering::Sequential);
    let early = mv(0.0, 0.2, PeOrdering::Sequential);
    assert!(early > mid + 0.05, "early {early} vs mid {mid}");
    // more displacement → worse
    let p_small = params(
        PhaseEncode::Rows,
        PeOrdering::Sequential,
        vec![event(0.55, 1.0, [0.5, 0.0], 0.0)],
    );
    let p_big = params(
        PhaseEncode::Rows,
        PeOrdering::Sequential,
        vec![event(0.55, 1.0, [4.0, 0.0], 0.0)],
    );
    let s_small = ssim(
        img.data.view(),
        Motion::apply(&p_small, &img).unwrap().data.view(),
        1.0,
    )
    .unwrap();
    let s_big = ssim(
        img.data.view(),
        Motion::apply(&p_big, &img).unwrap().data.view(),
        1.0,
    )
    .unwrap();
    assert!(s_small > s_big, "{s_small} vs {s_big}");
}

/// Error energy in a band through the object along `axis`, far from the object.
fn band_energy(
    err: &Array2<f32>,
    axis: usize,
    lo: usize,
    hi: usize,
    exclude: (usize, usize),
) -> f64 {
    let mut e = 0.0;
    for ((i, j), &v) in err.indexed_iter() {
        let (along, across) = if axis == 0 { (i, j) } else { (j, i) };
        if (lo..hi).contains(&across) && !(exclude.0..exclude.1).contains(&along) {
            e += (v as f64).powi(2);
        }
    }
    e
}

#[test]
fn artefacts_spread_along_phase_encode_only() {
    // small bright square in the centre, translated along READOUT for part of the scan
    let mut x = Array2::<f32>::zeros((128, 128));
    x.slice_mut(ndarray::s![56..72, 56..72]).fill(1.0);
    let img = mr(x, [1.0, 1.0]);
    for pe in [PhaseEncode::Rows, PhaseEncode::Cols] {
        let ro = pe.readout_axis();
        let mut t = [0.0; 2];
        t[ro] = 2.0; // readout motion only
        let p = params(pe, PeOrdering::Sequential, vec![event(0.3, 0.7, t, 0.0)]);
        let out = Motion::apply(&p, &img).unwrap();
        let err = (&out.data - &img.data).mapv(f32::abs);
        // band through the object along the PE axis vs along the readout axis, excluding the
        // object's neighbourhood (rows/cols 48..80)
        let along_pe = band_energy(&err, pe.axis(), 56, 72, (48, 80));
        let along_ro = band_energy(&err, ro, 56, 72, (48, 80));
        assert!(
            along_pe > 100.0 * along_ro.max(1e-12),
            "{pe:?}: PE band {along_pe:e} vs readout band {along_ro:e}"
        );
        assert!(along_pe > 1e-2, "{pe:?}: ghosts expected, got {along_pe:e}");
    }
}

#[test]
fn sampling_is_seeded_and_validated() {
    let spec = ParamSpec::new()
        .with("translation_mm", SpecValue::Range([1.0, 3.0]))
        .with("rotation_deg", SpecValue::Range([1.0, 2.0]))
        .with("events", SpecValue::Range([1.0, 3.0]))
        .with("onset", SpecValue::Range([0.3, 0.6]))
        .with(
            "ordering",
            SpecValue::Choice(vec!["sequential".into(), "centric".into()]),
        );
    let a = Motion::sample(&spec, &mut Seed::derive(7, "m").rng()).unwrap();
    let b = Motion::sample(&spec, &mut Seed::derive(7, "m").rng()).unwrap();
    assert_eq!(a, b);
    for e in &a.events {
        let t = (e.translation_mm[0].powi(2) + e.translation_mm[1].powi(2)).sqrt();
        assert!((1.0..=3.0 + 1e-9).contains(&t));
        assert!((0.3..=0.6).contains(&e.start) && e.end == 1.0);
    }
    let img = mr(phantom(64, 64), [1.0, 1.0]);
    let o1 = Motion::apply(&a, &img).unwrap();
    let o2 = Motion::apply(&a, &img).unwrap();
    assert_eq!(o1, o2);
    let bad = ParamSpec::new().with("rotation_deg", SpecValue::Number(60.0));
    assert!(Motion::sample(&bad, &mut Seed::derive(1, "x").rng()).is_err());
    let p = params(
        PhaseEncode::Rows,
        PeOrdering::Sequential,
        vec![event(0.6, 0.2, [1.0, 0.0], 0.0)],
    );
    let e = Motion::apply(&p, &img).unwrap_err().to_string();
    assert!(e.contains("start"), "{e}");
    let mut nan = img.clone();
    nan.data[[3, 3]] = f32::NAN;
    assert!(Motion::apply(
        &params(PhaseEncode::Rows, PeOrdering::Sequential, vec![]),
        &nan
    )
    .is_err());
    assert_eq!(Motion::info().name, "mri.motion");
}

fn ball_volume(n: (usize, usize, usize)) -> Array3<f32> {
    Array3::from_shape_fn(n, |(i, j, k)| {
        let c = |v: usize, m: usize| (v as f64 + 0.5) / m as f64 * 2.0 - 1.0;
        let (z, y, x) = (c(i, n.0), c(j, n.1), c(k, n.2));
        let r = (z * z / 0.7 + y * y / 0.8 + x * x / 0.6).sqrt();
        let mut v = if r < 1.0 { 0.6 } else { 0.0 };
        if ((z - 0.2).powi(2) + (y + 0.2).powi(2) + x * x).sqrt() < 0.2 {
            v = 1.0;
        }
        v
    })
}

fn vol(data: Array3<f32>) -> Volume {
    Volume::new(data, [1.2, 1.0, 0.9], Modality::Mr, Unit::Arbitrary).unwrap()
}

fn vparams(ord: PeOrdering, events: Vec<VolumeMotionEvent>) -> VolumeMotionParams {
    VolumeMotionParams {
        phase_encode_axis: 1,
        partition_axis: 0,
        ordering: ord,
        events,
        matrix: AcquisitionMatrix::default(),
    }
}

fn vev(start: f64, end: f64, t: [f64; 3], r: [f64; 3]) -> VolumeMotionEvent {
    VolumeMotionEvent {
        start,
        end,
        translation_mm: t,
        rotation_deg: r,
    }
}

#[test]
fn volume_zero_motion_identity_and_exact_shift() {
    let v = vol(ball_volume((24, 28, 20)));
    assert_eq!(
        apply_volume(&vparams(PeOrdering::Sequential, vec![]), &v).unwrap(),
        v
    );
    // 2.4 mm = 2 voxels on axis 0, −3 mm = −3 voxels on axis 1, 1.8 mm = 2 voxels on axis 2;
    // on the input matrix the shift is circular on the input grid
    let mut p = vparams(
        PeOrdering::Centric,
        vec![vev(0.0, 1.0, [2.4, -3.0, 1.8], [0.0; 3])],
    );
    p.matrix = AcquisitionMatrix::Input;
    let out = apply_volume(&p, &v).unwrap();
    let (n0, n1, n2) = v.shape();
    let want = Array3::from_shape_fn((n0, n1, n2), |(i, j, k)| {
        v.data[[(i + n0 - 2) % n0, (j + 3) % n1, (k + n2 - 2) % n2]]
    });
    let err = out
        .data
        .iter()
        .zip(want.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 2e-5, "3-D shift error {err}");
    assert_eq!(out.affine, v.affine);
}

#[test]
fn fft_friendly_matrix_is_a_larger_field_of_view() {
    // 27 × 21 × 14 → matrix 27 × 24 × 15: the object shifted by whole voxels moves into the
    // air margin instead of wrapping around the input grid; zero motion is the identity
    let v = vol(ball_volume((27, 21, 14)));
    let mut none = vparams(
        PeOrdering::Sequential,
        vec![vev(0.0, 1.0, [0.0; 3], [0.0; 3])],
    );
    none.matrix = AcquisitionMatrix::FftFriendly;
    assert_eq!(apply_volume(&none, &v).unwrap(), v);
    // 1.2 mm = 1 voxel on axis 0, 2 mm = 2 voxels on axis 1, −0.9 mm = −1 voxel on axis 2
    let p = vparams(
        PeOrdering::Sequential,
        vec![vev(0.0, 1.0, [1.2, 2.0, -0.9], [0.0; 3])],
    );
    assert_eq!(p.matrix, AcquisitionMatrix::FftFriendly);
    let out = apply_volume(&p, &v).unwrap();
    let (n0, n1, n2) = v.shape();
    // matrix sizes and where the input sits in them (its centre voxel on the matrix centre)
    let m = [27usize, 24, 15];
    let off = [m[0] / 2 - n0 / 2, m[1] / 2 - n1 / 2, m[2] / 2 - n2 / 2];
    let at = |i: usize, j: usize, k: usize| -> f32 {
        // circular shift on the matrix, then back to input indices
        let q = [
            (i + off[0] + m[0] - 1) % m[0],
            (j + off[1] + m[1] - 2) % m[1],
            (k + off[2] + 1) % m[2],
        ];
        match (
            q[0].checked_sub(off[0]).filter(|&x| x < n0),
            q[1].checked_sub(off[1]).filter(|&x| x < n1),
            q[2].checked_sub(off[2]).filter(|&x| x < n2),
        ) {
            (Some(a), Some(b), Some(c)) => v.data[[a, b, c]],
            _ => 0.0,
        }
    };
    let want = Array3::from_shape_fn((n0, n1, n2), |(i, j, k)| at(i, j, k));
    let err = out
        .data
        .iter()
        .zip(want.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        err < 2e-5,
        "3-D shift error on the fft-friendly matrix {err}"
    );
    // …which differs from the circular shift on the input grid where the object wraps
    let mut q = p.clone();
    q.matrix = AcquisitionMatrix::Input;
    let circ = apply_volume(&q, &v).unwrap();
    let d = circ
        .data
        .iter()
        .zip(out.data.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(d > 0.1, "the margin made no difference ({d})");
}

fn vol_ssim(a: &Volume, b: &Volume) -> f64 {
    // mean SSIM over the axis-0 slices that contain signal
    let mut s = 0.0;
    let mut n = 0;
    for i in 0..a.shape().0 {
        let x = a.data.index_axis(Axis(0), i);
        if x.iter().all(|&v| v == 0.0) {
            continue;
        }
        s += ssim(x, b.data.index_axis(Axis(0), i), 1.0).unwrap();
        n += 1;
    }
    s / n as f64
}

#[test]
fn volume_motion_centre_vs_periphery_and_thread_independence() {
    let v = vol(ball_volume((32, 32, 32)));
    let ev = |t0, t1| vec![vev(t0, t1, [1.5, 2.0, -1.0], [2.0, -3.0, 1.5])];
    let centre = apply_volume(&vparams(PeOrdering::Centric, ev(0.0, 0.3)), &v).unwrap();
    let periph = apply_volume(&vparams(PeOrdering::Centric, ev(0.7, 1.0)), &v).unwrap();
    let (sc, sp) = (vol_ssim(&v, &centre), vol_ssim(&v, &periph));
    assert!(sp > sc + 0.05, "periphery {sp} vs centre {sc}");
    assert!(centre.data.iter().all(|x| x.is_finite()));
    // same bytes with 1 and 3 threads
    let p = vparams(PeOrdering::Sequential, ev(0.4, 0.8));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| apply_volume(&p, &v).unwrap());
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| apply_volume(&p, &v).unwrap());
    assert_eq!(one, three);
    // bad axes are an error
    let mut bad = p.clone();
    bad.partition_axis = 1;
    assert!(apply_volume(&bad, &v).is_err());
    let spec = ParamSpec::new().with("rotation_deg", SpecValue::Number(3.0));
    let s = sample_volume(&spec, &mut Seed::derive(3, "v").rng()).unwrap();
    let r = s.events[0].rotation_deg;
    assert!(((r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt() - 3.0).abs() < 1e-9);
}

#[test]
fn real_images_mild_vs_severe() {
    for img in real::mri_slices() {
        let range = img.finite_range().unwrap();
        let dr = (range.1 - range.0) as f64;
        let run = |t: f64, r: f64, t0: f64| {
            let p = params(
                PhaseEncode::Rows,
                PeOrdering::Sequential,
                vec![event(t0, 1.0, [t, t * 0.5], r)],
            );
            let out = Motion::apply(&p, &img).unwrap();
            assert!(out.data.iter().all(|v| v.is_finite()));
            ssim(img.data.view(), out.data.view(), dr).unwrap()
        };
        let mild = run(1.0, 0.5, 0.7);
        let severe = run(6.0, 4.0, 0.4);
        assert!(mild > severe + 0.05, "mild {mild} vs severe {severe}");
    }
}

#[test]
fn real_volume_3d_motion() {
    let mni = artefact_io::load_volume(&data_path("nifti/mni152_t1_1mm.nii.gz")).unwrap();
    let v = &mni.volume;
    let p = VolumeMotionParams {
        phase_encode_axis: 1,
        partition_axis: 0,
        ordering: PeOrdering::Sequential,
        events: vec![vev(0.45, 1.0, [2.0, -1.5, 1.0], [1.5, 2.0, -1.0])],
        matrix: AcquisitionMatrix::default(),
    };
    let out = apply_volume(&p, v).unwrap();
    assert_eq!(out.shape(), v.shape());
    assert!(out.data.iter().all(|x| x.is_finite()));
    let mid = v.shape().0 / 2;
    let a = v.slice(0, mid).unwrap();
    let b = out.slice(0, mid).unwrap();
    let r = a.finite_range().unwrap();
    let s = ssim(a.data.view(), b.data.view(), (r.1 - r.0) as f64).unwrap();
    assert!(s < 0.99 && s > 0.2, "MNI 3-D motion SSIM {s}");
}

/// Largest `|a − b|` relative to the largest `|b|`.
fn rel_err<'a>(a: impl Iterator<Item = &'a f32>, b: impl Iterator<Item = &'a f32> + Clone) -> f32 {
    let scale = b.clone().fold(0.0f32, |m, v| m.max(v.abs()));
    a.zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max) / scale
}

#[test]
fn fast_2d_motion_matches_the_complex_reference() {
    use artefact_mri::motion::apply_reference;
    let evs = vec![
        event(0.2, 0.55, [1.7, -2.3], 6.0),
        event(0.45, 0.8, [-0.6, 3.1], -11.0),
        event(0.85, 1.0, [0.0, 0.0], 30.0),
    ];
    for (n0, n1, sp) in [
        (64, 64, [1.0, 1.0]),
        (63, 50, [1.1, 0.9]),
        (40, 57, [1.0, 1.3]),
    ] {
        let img = mr(phantom(n0, n1), sp);
        for pe in [PhaseEncode::Rows, PhaseEncode::Cols] {
            for ord in [PeOrdering::Sequential, PeOrdering::Centric] {
                let p = params(pe, ord, evs.clone());
                let fast = Motion::apply(&p, &img).unwrap();
                let slow = apply_reference(&p, &img).unwrap();
                let e = rel_err(fast.data.iter(), slow.data.iter());
                assert!(e < 1e-4, "{n0}x{n1} {pe:?} {ord:?}: relative error {e}");
            }
        }
    }
}

/// `apply_volume` against `apply_volume_reference` (relative error < 1e-4) for the given
/// (phase-encode, partition) axis pairs, both orderings and both acquisition matrices.
fn assert_fast_matches_reference(v: &Volume, axes: &[(usize, usize)], evs: &[VolumeMotionEvent]) {
    use artefact_mri::motion::apply_volume_reference;
    for &(pe, par) in axes {
        for ord in [PeOrdering::Sequential, PeOrdering::Centric] {
            for matrix in [AcquisitionMatrix::Input, AcquisitionMatrix::FftFriendly] {
                let p = VolumeMotionParams {
                    phase_encode_axis: pe,
                    partition_axis: par,
                    ordering: ord,
                    events: evs.to_vec(),
                    matrix,
                };
                let fast = apply_volume(&p, v).unwrap();
                let slow = apply_volume_reference(&p, v).unwrap();
                assert_eq!(fast.data.dim(), slow.data.dim());
                let e = rel_err(fast.data.iter(), slow.data.iter());
                assert!(
                    e < 1e-4,
                    "{:?} pe {pe} par {par} {ord:?} {matrix:?}: relative error {e}",
                    v.shape()
                );
            }
        }
    }
}

#[test]
fn fast_3d_motion_matches_the_reference_for_every_axis_order() {
    let v = vol(ball_volume((15, 18, 13)));
    let evs = vec![
        vev(0.1, 0.5, [1.3, -2.1, 0.7], [4.0, -2.0, 3.0]),
        vev(0.4, 0.9, [-0.8, 0.5, 1.9], [-3.0, 5.0, 1.0]),
        vev(0.9, 1.0, [0.6, 0.0, 0.0], [0.0; 3]),
    ];
    let all_axes = [(1, 0), (0, 1), (2, 0), (0, 2), (1, 2), (2, 1)];
    assert_fast_matches_reference(&v, &all_axes, &evs);
    // the fast path resamples from the bounding box of the non-zero voxels: an object off
    // centre (uneven empty margins) and one with no zero voxel at all (whole grid) must give
    // the reference too
    let ball = ball_volume((12, 14, 11));
    let mut off_centre = Array3::<f32>::zeros((17, 19, 15));
    off_centre
        .slice_mut(ndarray::s![1..13, 4..18, 0..11])
        .assign(&ball);
    let background = ball_volume((15, 18, 13)).mapv(|x| x + 0.05);
    for data in [off_centre, background] {
        assert_fast_matches_reference(&vol(data), &[(1, 0), (2, 1)], &evs);
    }
    // a reused workspace holds the previous volume's data: a call after a call on another
    // volume gives the bytes of a call on fresh memory
    {
        use artefact_mri::motion::{apply_volume_with, VolumeScratch};
        let p = vparams(PeOrdering::Sequential, evs.clone());
        let a = vol(ball_volume((16, 20, 14)).mapv(|x| 3.0 * x + 0.1));
        let b = vol(ball_volume((16, 20, 14)));
        let scratch = VolumeScratch::new();
        apply_volume_with(&p, &a, &scratch).unwrap();
        let after_a = apply_volume_with(&p, &b, &scratch).unwrap();
        let fresh = apply_volume(&p, &b).unwrap();
        assert_eq!(after_a, fresh);
        scratch.release();
        assert_eq!(apply_volume_with(&p, &b, &scratch).unwrap(), fresh);
    }
    // an all-zero volume stays zero
    let zero = vol(Array3::zeros((9, 10, 11)));
    let out = apply_volume(&vparams(PeOrdering::Sequential, evs.clone()), &zero).unwrap();
    assert!(out.data.iter().all(|&x| x == 0.0));
    // same bytes for any thread count on an even-sized volume too
    let v = vol(ball_volume((16, 20, 14)));
    for matrix in [AcquisitionMatrix::Input, AcquisitionMatrix::FftFriendly] {
        let mut p = vparams(PeOrdering::Centric, evs.clone());
        p.matrix = matrix;
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| apply_volume(&p, &v).unwrap())
        };
        assert_eq!(run(1), run(2));
        assert_eq!(run(1), run(4));
    }
}

#[test]
fn non_finite_volumes_are_refused() {
    let evs = vec![vev(0.2, 0.6, [1.0, 0.0, 0.5], [2.0, 0.0, 1.0])];
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut data = ball_volume((10, 12, 9));
        data[[7, 3, 8]] = bad;
        let err = apply_volume(&vparams(PeOrdering::Sequential, evs.clone()), &vol(data));
        let msg = err.expect_err("non-finite voxel accepted").to_string();
        assert!(msg.contains("NaN or infinite"), "{msg}");
    }
    // the largest finite values and subnormals are fine
    let mut data = ball_volume((10, 12, 9));
    data[[1, 1, 1]] = f32::MAX / 1e6;
    data[[2, 2, 2]] = f32::MIN_POSITIVE / 4.0;
    assert!(apply_volume(&vparams(PeOrdering::Sequential, evs), &vol(data)).is_ok());
}
