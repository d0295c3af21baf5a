//! Echogenicity maps: the simulator's input.
//!
//! An echogenicity map is an [`Image`] with values in `[0, 1]`: the relative backscatter
//! strength of the tissue, read as the expected display brightness of that tissue in a
//! log-compressed B-mode image (see [`echo_to_amplitude`]: with the default
//! settings the scatterer amplitude scale is `10^(60·(e − 1)/20)`, so `e = 1` is the brightest
//! tissue, `e = 0.5` is 30 dB weaker, and `e = 0` is anechoic).
//!
//! [`echogenicity_from_grey`] derives such a map from any grey image (a clean B-mode image, an
//! MR or CT slice used as a tissue map, a label map rendered to grey): it maps the `lo`-th
//! percentile of the finite values to 0 and the `hi`-th percentile to 1, linearly, clipping
//! outside (robust to a few hot or cold pixels); non-finite pixels become 0.
//! [`echogenicity_from_grey_default`] uses the 1st and 99th percentiles;
//! [`grey_to_echogenicity`] does the same in place on an array of any dimension (the dataset
//! builder maps a whole volume with it, so every slice of a source shares one mapping).
//! Percentiles interpolate linearly between order statistics (numpy's default).

use crate::error::UsError;
use artefact_core::{Image, Modality, Unit};
use ndarray::{Array, Dimension};

/// Tolerance on the `[0, 1]` range of an echogenicity input.
const RANGE_TOL: f32 = 1e-4;

/// The `lo_pct`-th and `hi_pct`-th percentiles of the finite values (`0 ≤ lo < hi ≤ 100`),
/// linearly interpolated between order statistics (numpy's default); an error when there is
/// no finite value or the two coincide (a (nearly) constant image).
pub fn percentile_range<'a>(
    values: impl IntoIterator<Item = &'a f32>,
    lo_pct: f64,
    hi_pct: f64,
) -> Result<(f64, f64), UsError> {
    if !((0.0..100.0).contains(&lo_pct) && lo_pct < hi_pct && hi_pct <= 100.0) {
        return Err(UsError::param(
            "percentiles",
            format!("need 0 ≤ lo < hi ≤ 100, got lo = {lo_pct}, hi = {hi_pct}"),
        ));
    }
    let mut v: Vec<f32> = values
        .into_iter()
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
    Ok((lo, hi))
}

/// The echogenicity of grey value `x` for the percentile range `(lo, hi)`: linear, clipped to
/// `[0, 1]`; non-finite values are 0.
#[inline]
fn grey_value_to_echogenicity(x: f32, (lo, hi): (f64, f64)) -> f32 {
    if x.is_finite() {
        (((x as f64 - lo) / (hi - lo)).clamp(0.0, 1.0)) as f32
    } else {
        0.0
    }
}

/// Map a grey image to echogenicity with robust percentiles (`0 ≤ lo_pct < hi_pct ≤ 100`).
pub fn echogenicity_from_grey(image: &Image, lo_pct: f64, hi_pct: f64) -> Result<Image, UsError> {
    let range = percentile_range(image.data.iter(), lo_pct, hi_pct)?;
    let data = image.data.mapv(|x| grey_value_to_echogenicity(x, range));
    Ok(Image::new(
        data,
        image.spacing,
        Modality::Us,
        Unit::Echogenicity,
    )?)
}

/// [`echogenicity_from_grey`] in place on an array of any dimension (e.g. a whole volume, so
/// that all its slices share one mapping).
pub fn grey_to_echogenicity<D: Dimension>(
    data: &mut Array<f32, D>,
    lo_pct: f64,
    hi_pct: f64,
) -> Result<(), UsError> {
    let range = percentile_range(data.iter(), lo_pct, hi_pct)?;
    data.mapv_inplace(|x| grey_value_to_echogenicity(x, range));
    Ok(())
}

/// [`echogenicity_from_grey`] with the 1st and 99th percentiles.
pub fn echogenicity_from_grey_default(image: &Image) -> Result<Image, UsError> {
    echogenicity_from_grey(image, 1.0, 99.0)
}

/// Map an echogenicity in `[0, 1]` to a scatterer amplitude scale: `10^(R·(e − 1)/20)` for a
/// log mapping over `R = echo_range_db` dB (so the log-compressed display reproduces the map's
/// grey levels when `R` equals the display dynamic range), or `e` itself when `R = 0`.
/// Zero echogenicity is anechoic (scale 0).
pub fn echo_to_amplitude(e: f32, echo_range_db: f64) -> f32 {
    if e <= 0.0 {
        0.0
    } else if echo_range_db <= 0.0 {
        e
    } else {
        (std::f32::consts::LN_10 * echo_range_db as f32 * (e - 1.0) / 20.0).exp()
    }
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

    /// The in-place volume mapping is the image mapping, with one range for the whole array.
    #[test]
    fn volume_mapping_equals_image_mapping() {
        let vol = ndarray::Array3::from_shape_fn((3, 7, 5), |(k, i, j)| {
            ((k * 35 + i * 5 + j) as f32 * 0.37).sin() * 100.0 + k as f32
        });
        let mut mapped = vol.clone();
        grey_to_echogenicity(&mut mapped, 1.0, 99.0).unwrap();
        let flat = Array2::from_shape_vec((3 * 7, 5), vol.iter().copied().collect()).unwrap();
        let img = Image::new(flat, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap();
        let e = echogenicity_from_grey_default(&img).unwrap();
        assert!(mapped
            .iter()
            .zip(e.data.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        // numpy: np.percentile(np.arange(100.0), [1, 99]) = [0.99, 98.01]
        let r = percentile_range(
            (0..100).map(|i| i as f32).collect::<Vec<_>>().iter(),
            1.0,
            99.0,
        )
        .unwrap();
        assert!(
            (r.0 - 0.99).abs() < 1e-12 && (r.1 - 98.01).abs() < 1e-12,
            "{r:?}"
        );
        let mut flat3 = ndarray::Array3::<f32>::from_elem((2, 2, 2), 7.0);
        assert!(grey_to_echogenicity(&mut flat3, 1.0, 99.0).is_err());
    }
}
