//! Echogenicity maps: the simulator's input.
//!
//! An echogenicity map is an [`Image`] with values in `[0, 1]`: the relative backscatter
//! strength of the tissue, read as the expected display brightness of that tissue in a
//! log-compressed B-mode image (see [`crate::rf::echo_to_amplitude`]: with the default
//! settings the scatterer amplitude scale is `10^(60·(e − 1)/20)`, so `e = 1` is the brightest
//! tissue, `e = 0.5` is 30 dB weaker, and `e = 0` is anechoic).
//!
//! [`echogenicity_from_grey`] derives such a map from any grey image (a clean B-mode image, an
//! MR or CT slice used as a tissue map, a label map rendered to grey): it maps the `lo`-th
//! percentile of the finite values to 0 and the `hi`-th percentile to 1, linearly, clipping
//! outside (robust to a few hot or cold pixels); non-finite pixels become 0.
//! [`echogenicity_from_grey_default`] uses the 1st and 99th percentiles.

use crate::error::UsError;
use artefact_core::{Image, Modality, Unit};

/// Tolerance on the `[0, 1]` range of an echogenicity input.
const RANGE_TOL: f32 = 1e-4;

/// Map a grey image to echogenicity with robust percentiles (`0 ≤ lo_pct < hi_pct ≤ 100`).
pub fn echogenicity_from_grey(image: &Image, lo_pct: f64, hi_pct: f64) -> Result<Image, UsError> {
    if !((0.0..100.0).contains(&lo_pct) && lo_pct < hi_pct && hi_pct <= 100.0) {
        return Err(UsError::param(
            "percentiles",
            format!("need 0 ≤ lo < hi ≤ 100, got lo = {lo_pct}, hi = {hi_pct}"),
        ));
    }
    let mut v: Vec<f32> = image
        .data
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return Err(UsError::Input("image has no finite pixels".into()));
    }
    v.sort_unstable_by(|a, b| a.total_cmp(b));
    let pick = |p: f64| -> f64 {
        // linear interpolation between order statistics (numpy's default percentile)
        let pos = p / 100.0 * (v.len() - 1) as f64;
        let i = pos.floor() as usize;
        let j = (i + 1).min(v.len() - 1);
        let f = pos - i as f64;
        v[i] as f64 * (1.0 - f) + v[j] as f64 * f
    };
    let (lo, hi) = (pick(lo_pct), pick(hi_pct));
    if hi <= lo {
        return Err(UsError::Input(format!(
            "image is (nearly) constant between its {lo_pct}th and {hi_pct}th percentiles \
             ({lo}); cannot derive an echogenicity map"
        )));
    }
    let data = image.data.mapv(|x| {
        if x.is_finite() {
            (((x as f64 - lo) / (hi - lo)).clamp(0.0, 1.0)) as f32
        } else {
            0.0
        }
    });
    Ok(Image::new(
        data,
        image.spacing,
        Modality::Us,
        Unit::Echogenicity,
    )?)
}

/// [`echogenicity_from_grey`] with the 1st and 99th percentiles.
pub fn echogenicity_from_grey_default(image: &Image) -> Result<Image, UsError> {
    echogenicity_from_grey(image, 1.0, 99.0)
}

/// Check that an image is a valid echogenicity map (finite, within `[0, 1]`).
pub fn check_echogenicity(image: &Image) -> Result<(), UsError> {
    for &v in image.data.iter() {
        if !v.is_finite() || !(-RANGE_TOL..=1.0 + RANGE_TOL).contains(&v) {
            return Err(UsError::Input(format!(
                "expected an echogenicity map with values in [0, 1], found {v}; derive one \
                 with echogenicity_from_grey"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn percentile_mapping() {
        let data = Array2::from_shape_fn((10, 10), |(i, j)| (i * 10 + j) as f32);
        let img = Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap();
        let e = echogenicity_from_grey(&img, 0.0, 100.0).unwrap();
        assert_eq!(e.data[[0, 0]], 0.0);
        assert_eq!(e.data[[9, 9]], 1.0);
        assert!((e.data[[5, 0]] - 50.0 / 99.0).abs() < 1e-6);
        let e = echogenicity_from_grey_default(&img).unwrap();
        assert!(e.data.iter().all(|&v| (0.0..=1.0).contains(&v)));
        check_echogenicity(&e).unwrap();
        assert!(check_echogenicity(&img).is_err());
        let flat = Image::new(
            Array2::ones((4, 4)),
            [1.0, 1.0],
            Modality::Mr,
            Unit::Arbitrary,
        )
        .unwrap();
        assert!(echogenicity_from_grey_default(&flat).is_err());
        assert!(echogenicity_from_grey(&img, 50.0, 10.0).is_err());
    }
}
