//! Exposure, sensor saturation and the tone curve.
//!
//! # Model
//! Exposure scales the scene's linear light by `g = 2^ev` (stops). The sensor saturates at full
//! well: raw values are clipped to `[0, 1]` **before** any processing, so over-exposed
//! highlights lose their colour and texture (a clipped channel cannot be recovered by the tone
//! curve). The camera then applies a tone curve on the display-encoded value
//! `V = sRGB(x)`: a contrast curve around mid-grey `V' = 0.5 + (V − 0.5)·contrast` followed by a
//! gamma `V'' = V'^(1/gamma)` (both clamped to `[0, 1]`), decoded back to linear light.
//! `ev = 0, contrast = 1, gamma = 1` is the identity on `[0, 1]`.
//!
//! The fraction of clipped samples is predicted exactly by counting samples with `x ≥ 1/g`
//! ([`predicted_clip_fraction`]).
//!
//! # Operator `photo.exposure`
//! [`Exposure`] is this model with its three knobs: negative `ev` under-exposes (dark,
//! noisy-looking shadows once quantised), positive `ev` over-exposes (clipped, colourless
//! highlights — the endoscopy "saturation" attribute). `ev = 0, contrast = 1, gamma = 1` is
//! the identity.
//!
//! # Units
//! `ev`: stops; `contrast`, `gamma`: dimensionless.
//!
//! # References
//! - S. W. Hasinoff, "Saturation (imaging)", in *Computer Vision: A Reference Guide*, 2014.
//! - IEC 61966-2-1 (display encoding).

use crate::error::check_range;
use crate::{PhotoError, Result};
use artefact_core::colour::{linear_to_srgb, srgb_to_linear};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};

artefact_core::choice! {
    /// Sign of the exposure error (lets a recipe draw under or over exposure at random).
    pub enum EvDirection {
        /// `ev` as given (its own sign).
        AsGiven = "as_given",
        /// Under-exposure: `−|ev|`.
        Under = "under",
        /// Over-exposure: `+|ev|`.
        Over = "over",
    }
}

artefact_core::params! {
    /// Parameters of exposure and tone ([`Exposure`]; recorded in manifests, replayed exactly).
    pub struct ExposureParams {
        /// exposure change in stops (gain 2^ev); the sensor clips at full well before the tone curve
        pub ev: f64 = float(1.0, [-10.0, 10.0], "stops"),
        /// contrast of the tone curve around display mid-grey (1 = unchanged, < 1 = flatter)
        pub contrast: f64 = float(1.0, [0.0, 4.0], "factor"),
        /// display gamma of the tone curve (1 = unchanged, > 1 = brighter mid-tones)
        pub gamma: f64 = float(1.0, [0.1, 10.0], "factor"),
        /// sign of the exposure error: as_given (ev's own sign), under (−|ev|) or over (+|ev|); a list draws one
        pub direction: EvDirection = choice(EvDirection::AsGiven),
    }
}

/// The operator `photo.exposure` (see the module docs).
pub struct Exposure;

static INFO: OpInfo = OpInfo {
    name: "photo.exposure",
    modality: "photo",
    doc: "Exposure error: gain 2^ev on linear light, clipping at the sensor's full well (highlights lose colour and texture), then a contrast/gamma tone curve on display values.",
    params: ExposureParams::PARAMS,
};

impl ColourOperator for Exposure {
    type Params = ExposureParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<ExposureParams> {
        Ok(ExposureParams::sample(spec, rng)?)
    }
    fn apply(p: &ExposureParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

impl ExposureParams {
    pub fn identity() -> ExposureParams {
        ExposureParams {
            ev: 0.0,
            contrast: 1.0,
            gamma: 1.0,
            direction: EvDirection::AsGiven,
        }
    }

    /// The signed exposure change in stops.
    pub fn signed_ev(&self) -> f64 {
        match self.direction {
            EvDirection::AsGiven => self.ev,
            EvDirection::Under => -self.ev.abs(),
            EvDirection::Over => self.ev.abs(),
        }
    }
}

fn check(p: &ExposureParams) -> Result<()> {
    check_range("ev", p.ev, -10.0, 10.0)?;
    check_range("contrast", p.contrast, 0.0, 4.0)?;
    check_range("gamma", p.gamma, 0.1, 10.0)?;
    Ok(())
}

/// Fraction of channel samples inside the field of view that the exposure drives to full well
/// (`x·2^ev ≥ 1`).
pub fn predicted_clip_fraction(p: &ExposureParams, img: &RgbImage) -> Result<f64> {
    check(p)?;
    let limit = 1.0 / 2f64.powf(p.signed_ev());
    let (mut n, mut clipped) = (0usize, 0usize);
    for ((_, r, c), &v) in img.data.indexed_iter() {
        if img.in_fov(r, c) {
            n += 1;
            clipped += (v as f64 >= limit) as usize;
        }
    }
    Ok(if n == 0 {
        0.0
    } else {
        clipped as f64 / n as f64
    })
}

/// One sample through exposure, clipping and the tone curve.
#[inline]
pub fn tone(p: &ExposureParams, x: f64) -> f64 {
    let raw = (x * 2f64.powf(p.signed_ev())).clamp(0.0, 1.0);
    if p.contrast == 1.0 && p.gamma == 1.0 {
        return raw;
    }
    let v = linear_to_srgb(raw);
    let v = (0.5 + (v - 0.5) * p.contrast).clamp(0.0, 1.0);
    let v = v.powf(1.0 / p.gamma);
    srgb_to_linear(v)
}

/// Apply exposure, clipping and tone inside the field of view.
pub fn apply(p: &ExposureParams, img: &RgbImage) -> Result<RgbImage> {
    check(p)?;
    if p.signed_ev() == 0.0 && p.contrast == 1.0 && p.gamma == 1.0 {
        return Ok(img.clone());
    }
    let mut out = img.data.clone();
    for ((_, r, c), v) in out.indexed_iter_mut() {
        if img.in_fov(r, c) {
            *v = tone(p, *v as f64) as f32;
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn ramp() -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 20, 50), |(c, r, k)| {
                ((r * 50 + k) as f32 / 1000.0) * [1.0, 0.8, 0.6][c]
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap()
    }

    #[test]
    fn identity_and_clipping_fraction_as_predicted() {
        let img = ramp();
        let id = apply(&ExposureParams::identity(), &img).unwrap();
        assert_eq!(id.data, img.data);
        for ev in [0.5, 1.0, 1.7] {
            let p = ExposureParams {
                ev,
                ..ExposureParams::identity()
            };
            let out = apply(&p, &img).unwrap();
            let measured =
                out.data.iter().filter(|&&v| v >= 1.0).count() as f64 / out.data.len() as f64;
            let predicted = predicted_clip_fraction(&p, &img).unwrap();
            // analytic for this ramp: channel scale s, values i/1000 > 2^-ev/s
            let analytic: f64 = [1.0, 0.8, 0.6]
                .iter()
                .map(|s| {
                    let lim = 2f64.powf(-ev) / s * 1000.0;
                    (1000 - (lim.ceil() as usize).min(1000)) as f64 / 1000.0
                })
                .sum::<f64>()
                / 3.0;
            assert_eq!(measured, predicted, "ev {ev}");
            assert!(
                (predicted - analytic).abs() < 2e-3,
                "ev {ev}: {predicted} vs {analytic}"
            );
        }
        // clipping happens before the tone curve: a flat contrast curve cannot bring a
        // clipped highlight's colour back (all three channels end equal)
        let p = ExposureParams {
            ev: 3.0,
            contrast: 0.5,
            gamma: 1.0,
            direction: EvDirection::AsGiven,
        };
        let px = [0.9f64, 0.5, 0.3].map(|x| tone(&p, x));
        assert!(px[0] == px[1] && px[1] == px[2], "{px:?}");
        // direction: under/over take |ev| with their sign
        let under = ExposureParams {
            ev: 1.0,
            direction: EvDirection::Under,
            ..ExposureParams::identity()
        };
        assert!((tone(&under, 0.4) - 0.2).abs() < 1e-12);
        let over = ExposureParams {
            ev: -1.0,
            direction: EvDirection::Over,
            ..ExposureParams::identity()
        };
        assert!((tone(&over, 0.4) - 0.8).abs() < 1e-12);
        assert!(apply(
            &ExposureParams {
                ev: f64::NAN,
                ..ExposureParams::identity()
            },
            &img
        )
        .is_err());
    }

    #[test]
    fn tone_curve_lowers_contrast() {
        let p = ExposureParams {
            ev: 0.0,
            contrast: 0.5,
            gamma: 1.0,
            direction: EvDirection::AsGiven,
        };
        let (lo, hi) = (tone(&p, 0.05), tone(&p, 0.8));
        assert!(lo > 0.05 && hi < 0.8);
        // mid-grey in display terms is a fixed point
        let mid = srgb_to_linear(0.5);
        assert!((tone(&p, mid) - mid).abs() < 1e-12);
    }
}
