//! Apply-time check of an attribute recipe (`artefact recipes check`).
//!
//! Parsing checks each parameter against its operator's declared range, but some combinations
//! are refused only when an operator runs (a kernel wider than the image, a metal insert
//! outside the body, a band of parameters that leaves nothing to sample). [`trial`] samples the
//! op chain of every severity a few times with a fixed seed and applies it to a small synthetic
//! image of the recipe's modality, so such a recipe fails at `check` time instead of in the
//! middle of a build.
//!
//! The phantom is a centred disc with an inner structure, sized like a typical field of view of
//! the modality (CT 200 mm: a head, the smallest body part a CT recipe must fit; MR 240 mm, US 30 mm; fundus 12 mm, endoscopy 40 mm, histopathology
//! 0.25 mm across), in the modality's natural unit (HU, arbitrary [0, 1], echogenicity, or
//! linear-light colour). It is a smoke test of the chain, not a calibration: image-dependent
//! behaviour is checked by `recipes calibrate` on real sources.

use crate::attribute::AttributeRecipe;
use crate::registry::Registry;
use artefact_core::{Image, Modality, Picture, RgbImage, Seed, Severity};
use ndarray::{Array2, Array3};

/// Side of the phantom in pixels.
pub const TRIAL_SIZE: usize = 64;

/// Chains sampled and applied per severity.
pub const TRIAL_SAMPLES: usize = 2;

/// A synthetic image of `modality`: a disc filling most of the frame with a smaller, brighter
/// disc off centre (`size` × `size` pixels).
pub fn phantom(modality: Modality, size: usize) -> Result<Picture, String> {
    let fov_mm = match modality {
        Modality::Ct => 200.0,
        Modality::Mr | Modality::Other => 240.0,
        Modality::Us => 30.0,
        Modality::Fundus => 12.0,
        Modality::Endoscopy | Modality::Photo => 40.0,
        Modality::Histopathology => 0.25,
    };
    let spacing = fov_mm / size as f64;
    let c = (size as f64 - 1.0) / 2.0;
    // 0 outside, 1 in the body disc, 2 in the inner disc
    let label = Array2::from_shape_fn((size, size), |(r, k)| {
        let (y, x) = (r as f64 - c, k as f64 - c);
        let body = (y * y + x * x).sqrt() < 0.42 * size as f64;
        let (yi, xi) = (y + 0.12 * size as f64, x - 0.1 * size as f64);
        let inner = (yi * yi + xi * xi).sqrt() < 0.12 * size as f64;
        u8::from(body) + u8::from(body && inner)
    });
    let pick = |v: [f32; 3]| label.mapv(|l| v[l as usize]);
    let grey = |values: [f32; 3]| {
        Image::new(
            pick(values),
            [spacing; 2],
            modality,
            modality.natural_unit(),
        )
        .map(Picture::Grey)
        .map_err(|e| e.to_string())
    };
    match modality {
        Modality::Ct => grey([-1000.0, 40.0, 700.0]),
        Modality::Us => grey([0.05, 0.45, 0.8]),
        Modality::Mr | Modality::Other => grey([0.0, 0.5, 0.9]),
        Modality::Photo | Modality::Fundus | Modality::Endoscopy | Modality::Histopathology => {
            // linear-light tissue colours: dark surround, reddish field, paler structure
            let rgb = [[0.01, 0.01, 0.01], [0.45, 0.18, 0.12], [0.7, 0.5, 0.45]];
            let data = Array3::from_shape_fn((3, size, size), |(ch, r, k)| {
                rgb[label[[r, k]] as usize][ch]
            });
            let fov = matches!(modality, Modality::Fundus | Modality::Endoscopy)
                .then(|| label.mapv(|l| l > 0));
            RgbImage::new(data, [spacing; 2], modality, fov)
                .map(Picture::Colour)
                .map_err(|e| e.to_string())
        }
    }
}

/// Sample and apply the chain of every severity [`TRIAL_SAMPLES`] times on the modality's
/// [`phantom`]. The error names the severity, the sample and the operator's message.
pub fn trial(recipe: &AttributeRecipe, registry: &Registry) -> Result<(), String> {
    let image = phantom(recipe.modality, TRIAL_SIZE)?;
    for severity in [Severity::Mild, Severity::Severe] {
        for i in 0..TRIAL_SAMPLES {
            let seed = Seed::derive(0, &format!("trial/{}/{severity}/{i}", recipe.name));
            let mut rng = seed.rng();
            let mut chain = recipe
                .sample_chain(severity, &mut rng)
                .map_err(|e| format!("{severity} (sample {i}): cannot sample parameters: {e}"))?;
            let out =
                crate::attribute::apply_chain_resolving(registry, &mut chain, &image).map_err(
                    |e| {
                        let params = serde_json::to_string(&chain).unwrap_or_default();
                        format!(
                            "{severity} (sample {i}) fails when applied to a {TRIAL_SIZE}×{TRIAL_SIZE} \
                             {} phantom: {e} (parameters {params})",
                            recipe.modality
                        )
                    },
                )?;
            let finite = match &out {
                Picture::Grey(g) => g.data.iter().all(|v| v.is_finite()),
                Picture::Colour(c) => c.data.iter().all(|v| v.is_finite()),
            };
            if !finite {
                return Err(format!(
                    "{severity} (sample {i}) produces NaN or infinite pixels on the {} phantom",
                    recipe.modality
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phantoms_exist_for_every_modality_and_are_not_flat() {
        for m in [
            Modality::Ct,
            Modality::Mr,
            Modality::Us,
            Modality::Fundus,
            Modality::Endoscopy,
            Modality::Histopathology,
            Modality::Photo,
        ] {
            let p = phantom(m, 32).unwrap();
            let (lo, hi) = match &p {
                Picture::Grey(g) => g
                    .data
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v))),
                Picture::Colour(c) => c
                    .data
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v))),
            };
            assert!(hi > lo, "{m}");
        }
    }
}
