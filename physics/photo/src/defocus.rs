//! Defocus: the thin-lens circle of confusion and its uniform-disc PSF.
//!
//! # Model
//! A thin lens of focal length `f` and f-number `N` (aperture diameter `A = f/N`) focused at
//! distance `s_f` images a point at distance `s` as a blur disc (geometric optics, no
//! diffraction) of diameter on the sensor
//!
//! ```text
//! c = A · f · |s − s_f| / (s · (s_f − f))          (all lengths in mm)
//! ```
//!
//! which is divided by the pixel pitch to give the disc diameter `D` in pixels. The PSF is the
//! uniform disc of diameter `D`, **anti-aliased**: each pixel holds the fraction of its area
//! covered by the disc (16×16 sub-samples on pixels the rim crosses, exact 0/1 elsewhere),
//! then the weights are normalised to sum to 1. Its MTF is the jinc
//! `2·J1(πρD)/(πρD)` (times the pixel aperture's sinc), whose first zero is at
//! `ρ = 1.2197/D` cycles per pixel. Longitudinal chromatic aberration is modelled by a diameter
//! per channel (`D·(1 + chromatic)`, `D`, `D·(1 − chromatic)` for R, G, B); D < 1 px still gives a (nearly delta) anti-aliased disc and
//! `D = 0` is the identity.
//!
//! # Units
//! `diameter_px`: pixels (green channel; red and blue scaled by `1 ± chromatic`). Distances in [`circle_of_confusion_mm`]: mm.
//!
//! # References
//! - M. Born, E. Wolf, *Principles of Optics*, 7th ed., §8.5 (Airy pattern) and §9 (defocus).
//! - E. Hecht, *Optics*, 5th ed., §5.7 (depth of field, circle of confusion).

use crate::convolve::convolve_in_fov;
use crate::error::check_range;
use crate::{PhotoError, Psf, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use ndarray::Array2;

/// Largest disc diameter simulated (pixels).
pub const MAX_DIAMETER_PX: f64 = 256.0;

artefact_core::params! {
    /// Parameters of [`Defocus`] (recorded in manifests, replayed exactly).
    pub struct DefocusParams {
        /// blur-disc (circle of confusion) diameter in the green channel
        pub diameter_px: f64 = float(4.0, [0.0, 256.0], "px"),
        /// longitudinal chromatic aberration: the red disc is (1 + c)·D, the blue (1 − c)·D
        pub chromatic: f64 = float(0.0, [-0.5, 0.5], "fraction"),
    }
}

impl DefocusParams {
    /// Disc diameters of R, G, B in pixels.
    pub fn diameters(&self) -> [f64; 3] {
        let (d, c) = (self.diameter_px, self.chromatic);
        [d * (1.0 + c), d, d * (1.0 - c)]
    }
}

/// The operator `photo.defocus` (see the module docs).
pub struct Defocus;

static INFO: OpInfo = OpInfo {
    name: "photo.defocus",
    modality: "photo",
    doc: "Defocus blur: the thin-lens circle of confusion as an anti-aliased uniform-disc PSF per channel (longitudinal chromatic aberration as a per-channel diameter), by normalised convolution inside the field of view.",
    params: DefocusParams::PARAMS,
};

impl ColourOperator for Defocus {
    type Params = DefocusParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<DefocusParams> {
        Ok(DefocusParams::sample(spec, rng)?)
    }
    fn apply(p: &DefocusParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// Diameter on the sensor (mm) of the circle of confusion of a thin lens (see module docs).
pub fn circle_of_confusion_mm(
    focal_mm: f64,
    f_number: f64,
    focus_mm: f64,
    object_mm: f64,
) -> Result<f64> {
    check_range("focal_mm", focal_mm, 1e-6, 1e6)?;
    check_range("f_number", f_number, 0.1, 1e3)?;
    check_range("focus_mm", focus_mm, focal_mm * (1.0 + 1e-9), f64::MAX)?;
    check_range("object_mm", object_mm, 1e-9, f64::MAX)?;
    let aperture = focal_mm / f_number;
    Ok(aperture * focal_mm * (object_mm - focus_mm).abs() / (object_mm * (focus_mm - focal_mm)))
}

/// The anti-aliased uniform-disc PSF of diameter `diameter_px` (see module docs).
pub fn disc_psf(diameter_px: f64) -> Result<Psf> {
    check_range("diameter_px", diameter_px, 0.0, MAX_DIAMETER_PX)?;
    if diameter_px == 0.0 {
        return Ok(Psf::identity());
    }
    let r = diameter_px / 2.0;
    let half = (r + 1.0).ceil() as usize;
    let n = 2 * half + 1;
    const SUB: usize = 16;
    let mut w = Array2::<f64>::zeros((n, n));
    let diag = std::f64::consts::SQRT_2 / 2.0;
    for i in 0..n {
        for j in 0..n {
            let (y, x) = (i as f64 - half as f64, j as f64 - half as f64);
            let d = x.hypot(y);
            w[[i, j]] = if d + diag <= r {
                1.0
            } else if d - diag >= r {
                0.0
            } else {
                let mut inside = 0usize;
                for a in 0..SUB {
                    for b in 0..SUB {
                        let yy = y - 0.5 + (a as f64 + 0.5) / SUB as f64;
                        let xx = x - 0.5 + (b as f64 + 0.5) / SUB as f64;
                        if xx * xx + yy * yy <= r * r {
                            inside += 1;
                        }
                    }
                }
                inside as f64 / (SUB * SUB) as f64
            };
        }
    }
    if w.sum() == 0.0 {
        // a disc smaller than one sub-sample: the centre pixel
        w[[half, half]] = 1.0;
    }
    Psf::normalised(w)
}

/// Blur each channel with its disc inside the field of view (pixels outside are unchanged).
pub fn apply(p: &DefocusParams, img: &RgbImage) -> Result<RgbImage> {
    let [r, g, b] = p.diameters();
    let psfs = [disc_psf(r)?, disc_psf(g)?, disc_psf(b)?];
    convolve_in_fov(img, &psfs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First zero of the DTFT along x by bisection after a sign change.
    fn first_zero(psf: &Psf, hi: f64) -> f64 {
        let f = |fx: f64| psf.dtft(0.0, fx).0;
        let steps = 2000;
        let mut prev = (0.0, f(0.0));
        for k in 1..=steps {
            let x = hi * k as f64 / steps as f64;
            let v = f(x);
            if v.signum() != prev.1.signum() {
                let (mut a, mut b) = (prev.0, x);
                for _ in 0..60 {
                    let m = 0.5 * (a + b);
                    if f(m).signum() == f(a).signum() {
                        a = m;
                    } else {
                        b = m;
                    }
                }
                return 0.5 * (a + b);
            }
            prev = (x, v);
        }
        f64::NAN
    }

    #[test]
    fn disc_sums_to_one_and_is_symmetric() {
        for d in [0.3, 1.0, 2.5, 7.0, 20.0, 41.3] {
            let p = disc_psf(d).unwrap();
            assert!((p.weights.sum() - 1.0).abs() < 1e-12, "d={d}");
            let n = p.weights.nrows();
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(p.weights[[i, j]], p.weights[[n - 1 - i, j]]);
                    assert_eq!(p.weights[[i, j]], p.weights[[j, i]]);
                }
            }
            // imaginary part of the DTFT vanishes (centred, symmetric)
            assert!(p.dtft(0.01, 0.03).1.abs() < 1e-12);
        }
        assert_eq!(disc_psf(0.0).unwrap(), Psf::identity());
        assert!(disc_psf(-1.0).is_err());
        assert!(disc_psf(f64::NAN).is_err());
    }

    /// The MTF's first zero falls where the jinc's does, ρ = 1.2197/D (within 1 % for discs
    /// large enough that the pixel grid does not matter).
    #[test]
    fn mtf_first_zero_is_the_jincs() {
        for d in [12.0, 20.0, 33.0, 50.0] {
            let p = disc_psf(d).unwrap();
            let z = first_zero(&p, 2.0 / d);
            let expected = 1.2197 / d;
            assert!(
                (z / expected - 1.0).abs() < 0.01,
                "D={d}: zero at {z}, jinc {expected}"
            );
        }
        // the area of the anti-aliased disc is πD²/4 (before normalisation)
        let d: f64 = 30.0;
        let p = disc_psf(d).unwrap();
        let peak = p.weights[[p.radius().0, p.radius().1]];
        let area = 1.0 / peak;
        assert!((area / (std::f64::consts::PI * d * d / 4.0) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn thin_lens_circle_of_confusion() {
        // in focus: no blur
        assert_eq!(
            circle_of_confusion_mm(50.0, 2.0, 1000.0, 1000.0).unwrap(),
            0.0
        );
        // f = 50, N = 2 (A = 25), focus 1000, object 2000: 25·50·1000/(2000·950)
        let c = circle_of_confusion_mm(50.0, 2.0, 1000.0, 2000.0).unwrap();
        assert!((c - 25.0 * 50.0 * 1000.0 / (2000.0 * 950.0)).abs() < 1e-12);
        // at infinity the disc tends to A·f/(s_f − f)
        let inf = circle_of_confusion_mm(50.0, 2.0, 1000.0, 1e12).unwrap();
        assert!((inf - 25.0 * 50.0 / 950.0).abs() < 1e-6);
        assert!(circle_of_confusion_mm(50.0, 2.0, 40.0, 100.0).is_err());
    }
}
