//! Grey images and volumes with physical geometry.
//!
//! Array-axis order everywhere: a [`Volume`] is `(slices, rows, cols)`, an [`Image`] is
//! `(rows, cols)`; `spacing[a]` is the voxel size in mm along array axis `a`.

use crate::stats::{finite_range, finite_range_slice, otsu_threshold, otsu_threshold_slice};
use crate::{CoreError, Result};
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Imaging modality of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modality {
    /// X-ray computed tomography.
    #[serde(rename = "CT")]
    Ct,
    /// Magnetic resonance.
    #[serde(rename = "MR")]
    Mr,
    /// Ultrasound (B-mode).
    #[serde(rename = "US")]
    Us,
    /// Photographic modalities without a more specific variant (e.g. dermoscopy, or a
    /// photograph of unknown kind).
    #[serde(rename = "photo")]
    Photo,
    /// Fundus photography (DICOM `OP`, ophthalmic photography).
    #[serde(rename = "OP")]
    Fundus,
    /// Endoscopy (DICOM `ES`).
    #[serde(rename = "ES")]
    Endoscopy,
    /// Histopathology, whole-slide or tile microscopy (DICOM `SM`, slide microscopy).
    #[serde(rename = "SM")]
    Histopathology,
    /// Anything else (e.g. a DICOM modality artefact does not simulate).
    #[serde(rename = "other")]
    Other,
}

impl Modality {
    /// Short code used in manifests (`CT`, `MR`, `US`, `OP`, `ES`, `SM`, `photo`, `other`;
    /// the photographic codes are DICOM's).
    pub fn code(self) -> &'static str {
        match self {
            Modality::Ct => "CT",
            Modality::Mr => "MR",
            Modality::Us => "US",
            Modality::Photo => "photo",
            Modality::Fundus => "OP",
            Modality::Endoscopy => "ES",
            Modality::Histopathology => "SM",
            Modality::Other => "other",
        }
    }

    /// Human name used in question text ("CT", "MRI", "ultrasound", …).
    pub fn display_name(self) -> &'static str {
        match self {
            Modality::Ct => "CT",
            Modality::Mr => "MRI",
            Modality::Us => "ultrasound",
            Modality::Photo => "photograph",
            Modality::Fundus => "fundus photography",
            Modality::Endoscopy => "endoscopy",
            Modality::Histopathology => "histopathology",
            Modality::Other => "medical",
        }
    }

    /// Map a DICOM Modality (0008,0060) code.
    pub fn from_dicom(code: &str) -> Modality {
        match code.trim().to_ascii_uppercase().as_str() {
            "CT" => Modality::Ct,
            "MR" => Modality::Mr,
            "US" => Modality::Us,
            "OP" => Modality::Fundus,
            "ES" => Modality::Endoscopy,
            "SM" => Modality::Histopathology,
            "XC" | "GM" => Modality::Photo,
            _ => Modality::Other,
        }
    }

    /// Whether images of this modality are colour photographs (they go through the pipeline
    /// as [`crate::RgbImage`]s in linear light and are degraded by colour operators).
    pub fn is_colour(self) -> bool {
        matches!(
            self,
            Modality::Photo | Modality::Fundus | Modality::Endoscopy | Modality::Histopathology
        )
    }

    /// Whether the field of view of this modality is a lit region inside a black surround
    /// (fundus and endoscopy photographs), to be detected and kept.
    pub fn has_dark_surround(self) -> bool {
        matches!(self, Modality::Fundus | Modality::Endoscopy)
    }

    /// The unit a loader should assign to this modality's stored values.
    pub fn natural_unit(self) -> Unit {
        match self {
            Modality::Ct => Unit::Hu,
            Modality::Us => Unit::Echogenicity,
            Modality::Photo | Modality::Fundus | Modality::Endoscopy | Modality::Histopathology => {
                Unit::Colour8
            }
            Modality::Mr | Modality::Other => Unit::Arbitrary,
        }
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Modality {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ct" => Ok(Modality::Ct),
            "mr" | "mri" => Ok(Modality::Mr),
            "us" | "ultrasound" => Ok(Modality::Us),
            "photo" | "photograph" => Ok(Modality::Photo),
            "op" | "fundus" | "fundus photography" => Ok(Modality::Fundus),
            "es" | "endoscopy" => Ok(Modality::Endoscopy),
            "sm" | "histopathology" | "histo" => Ok(Modality::Histopathology),
            "other" => Ok(Modality::Other),
            _ => Err(format!(
                "unknown modality `{s}` (allowed: CT, MR, US, OP or fundus, ES or endoscopy, \
                 SM or histopathology, photo, other)"
            )),
        }
    }
}

/// Physical meaning of the stored intensities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Hounsfield units (CT after Rescale Slope/Intercept).
    Hu,
    /// Arbitrary scanner units (MR magnitude, unscaled grey).
    Arbitrary,
    /// Ultrasound echogenicity in `[0, 1]`.
    Echogenicity,
    /// 8-bit colour/grey levels `0..=255`.
    Colour8,
    /// Linear light relative to display white (`0` black, `1` white; see [`crate::colour`]).
    LinearLight,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Hu => "HU",
            Unit::Arbitrary => "arbitrary",
            Unit::Echogenicity => "echogenicity",
            Unit::Colour8 => "8-bit",
            Unit::LinearLight => "linear light",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 2-D grey slice with pixel spacing.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Pixel values, shape `(rows, cols)`.
    pub data: Array2<f32>,
    /// Pixel size in mm, `[row spacing, column spacing]` (i.e. along axis 0, axis 1).
    pub spacing: [f64; 2],
    pub modality: Modality,
    pub unit: Unit,
}

impl Image {
    /// A new image; spacing must be finite and positive.
    pub fn new(
        data: Array2<f32>,
        spacing: [f64; 2],
        modality: Modality,
        unit: Unit,
    ) -> Result<Self> {
        check_spacing(&spacing)?;
        if data.is_empty() {
            return Err(CoreError::Shape(format!(
                "image has a zero-sized axis: {:?}",
                data.dim()
            )));
        }
        Ok(Image {
            data,
            spacing,
            modality,
            unit,
        })
    }

    pub fn rows(&self) -> usize {
        self.data.nrows()
    }

    pub fn cols(&self) -> usize {
        self.data.ncols()
    }

    pub fn shape(&self) -> (usize, usize) {
        self.data.dim()
    }

    /// Same geometry and labels, new pixel data (must have the same shape).
    pub fn with_data(&self, data: Array2<f32>) -> Result<Image> {
        if data.dim() != self.data.dim() {
            return Err(CoreError::Shape(format!(
                "new data {:?} differs from image shape {:?}",
                data.dim(),
                self.data.dim()
            )));
        }
        Ok(Image {
            data,
            spacing: self.spacing,
            modality: self.modality,
            unit: self.unit,
        })
    }

    /// Minimum and maximum of finite values (`None` when there are none).
    pub fn finite_range(&self) -> Option<(f32, f32)> {
        match self.data.as_slice_memory_order() {
            Some(s) => finite_range_slice(s),
            None => finite_range(self.data.iter().copied()),
        }
    }

    /// Fraction of pixels strictly above `threshold`.
    pub fn foreground_fraction(&self, threshold: f32) -> f64 {
        let n = self.data.len();
        let above = self.data.iter().filter(|&&v| v > threshold).count();
        above as f64 / n as f64
    }

    /// Otsu's threshold over a 256-bin histogram of the finite values (None if constant).
    pub fn otsu_threshold(&self) -> Option<f32> {
        match self.data.as_slice_memory_order() {
            Some(s) => otsu_threshold_slice(s),
            None => otsu_threshold(self.data.iter().copied()),
        }
    }

    /// Foreground fraction with Otsu's threshold (0 for a constant image).
    pub fn foreground_fraction_otsu(&self) -> f64 {
        match self.otsu_threshold() {
            Some(t) => self.foreground_fraction(t),
            None => 0.0,
        }
    }
}

/// A 3-D grey volume with spacing and affine.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    /// Voxel values, shape `(slices, rows, cols)`.
    pub data: Array3<f32>,
    /// Voxel size in mm along array axes `(0, 1, 2)`.
    pub spacing: [f64; 3],
    /// Voxel `(i, j, k, 1)` = `(col, row, slice, 1)` → RAS+ world mm (NIfTI convention).
    pub affine: [[f64; 4]; 4],
    pub modality: Modality,
    pub unit: Unit,
}

impl Volume {
    /// A new volume with an axis-aligned affine built from `spacing` (origin at voxel 0).
    pub fn new(
        data: Array3<f32>,
        spacing: [f64; 3],
        modality: Modality,
        unit: Unit,
    ) -> Result<Self> {
        check_spacing(&spacing)?;
        let affine = diagonal_affine(spacing);
        Volume::with_affine(data, spacing, affine, modality, unit)
    }

    /// A volume of one slice: `img` along axis 0, 1 mm thick.
    pub fn of_slice(img: &Image) -> Result<Self> {
        let (r, c) = img.shape();
        let data = img
            .data
            .clone()
            .into_shape_with_order((1, r, c))
            .map_err(|e| CoreError::Shape(e.to_string()))?;
        Volume::new(
            data,
            [1.0, img.spacing[0], img.spacing[1]],
            img.modality,
            img.unit,
        )
    }

    /// A new volume with an explicit affine.
    pub fn with_affine(
        data: Array3<f32>,
        spacing: [f64; 3],
        affine: [[f64; 4]; 4],
        modality: Modality,
        unit: Unit,
    ) -> Result<Self> {
        check_spacing(&spacing)?;
        if data.is_empty() {
            return Err(CoreError::Shape(format!(
                "volume has a zero-sized axis: {:?}",
                data.dim()
            )));
        }
        if affine.iter().flatten().any(|v| !v.is_finite()) {
            return Err(CoreError::Invalid("affine has non-finite entries".into()));
        }
        Ok(Volume {
            data,
            spacing,
            affine,
            modality,
            unit,
        })
    }

    pub fn shape(&self) -> (usize, usize, usize) {
        self.data.dim()
    }

    /// Extract slice `index` perpendicular to array axis `axis` (0, 1 or 2).
    ///
    /// The remaining two axes keep their order: axis 0 gives `(rows, cols)`, axis 1 gives
    /// `(slices, cols)`, axis 2 gives `(slices, rows)`. No display flips are applied.
    pub fn slice(&self, axis: usize, index: usize) -> Result<Image> {
        if axis > 2 {
            return Err(CoreError::Invalid(format!(
                "slice axis must be 0, 1 or 2, got {axis}"
            )));
        }
        let n = self.data.len_of(Axis(axis));
        if index >= n {
            return Err(CoreError::Invalid(format!(
                "slice index {index} out of range for axis {axis} of length {n}"
            )));
        }
        let data = self.data.index_axis(Axis(axis), index).to_owned();
        let spacing = match axis {
            0 => [self.spacing[1], self.spacing[2]],
            1 => [self.spacing[0], self.spacing[2]],
            _ => [self.spacing[0], self.spacing[1]],
        };
        Image::new(data, spacing, self.modality, self.unit)
    }

    /// Number of slices along `axis`.
    pub fn len_of(&self, axis: usize) -> usize {
        self.data.len_of(Axis(axis.min(2)))
    }

    /// World (RAS+ mm) position of a voxel given in array-axis order `(slice, row, col)`.
    pub fn world(&self, idx: [f64; 3]) -> [f64; 3] {
        let ijk = [idx[2], idx[1], idx[0], 1.0];
        let mut out = [0.0; 3];
        for (r, o) in out.iter_mut().enumerate() {
            *o = (0..4).map(|c| self.affine[r][c] * ijk[c]).sum();
        }
        out
    }

    pub fn finite_range(&self) -> Option<(f32, f32)> {
        finite_range(self.data.iter().copied())
    }
}

/// Affine `(i, j, k) → mm` for axis-aligned voxels, spacing given in array-axis order.
pub fn diagonal_affine(spacing: [f64; 3]) -> [[f64; 4]; 4] {
    [
        [spacing[2], 0.0, 0.0, 0.0],
        [0.0, spacing[1], 0.0, 0.0],
        [0.0, 0.0, spacing[0], 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

fn check_spacing(spacing: &[f64]) -> Result<()> {
    if spacing.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(CoreError::Invalid(format!(
            "voxel spacing must be finite and positive, got {spacing:?} mm"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use ndarray::Array3;

    fn ramp_volume() -> Volume {
        let data = Array3::from_shape_fn((4, 5, 6), |(k, j, i)| (100 * k + 10 * j + i) as f32);
        Volume::new(data, [3.0, 2.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap()
    }

    #[test]
    fn slices_along_each_axis_keep_values_and_spacing() {
        let v = ramp_volume();
        let s0 = v.slice(0, 2).unwrap();
        assert_eq!(s0.shape(), (5, 6));
        assert_eq!(s0.data[[3, 4]], 234.0);
        assert_eq!(s0.spacing, [2.0, 1.0]);
        let s1 = v.slice(1, 3).unwrap();
        assert_eq!(s1.shape(), (4, 6));
        assert_eq!(s1.data[[2, 5]], 235.0);
        assert_eq!(s1.spacing, [3.0, 1.0]);
        let s2 = v.slice(2, 1).unwrap();
        assert_eq!(s2.shape(), (4, 5));
        assert_eq!(s2.data[[1, 4]], 141.0);
        assert_eq!(s2.spacing, [3.0, 2.0]);
        assert!(v.slice(3, 0).is_err());
        assert!(v.slice(0, 4).is_err());
    }

    #[test]
    fn affine_maps_ijk_to_mm() {
        let v = ramp_volume();
        assert_eq!(v.world([1.0, 2.0, 3.0]), [3.0, 4.0, 3.0]);
    }

    #[test]
    fn rejects_bad_geometry() {
        let d = Array2::<f32>::zeros((2, 2));
        assert!(Image::new(d.clone(), [0.0, 1.0], Modality::Ct, Unit::Hu).is_err());
        assert!(Image::new(d, [f64::NAN, 1.0], Modality::Ct, Unit::Hu).is_err());
        assert!(Image::new(Array2::zeros((0, 3)), [1.0, 1.0], Modality::Ct, Unit::Hu).is_err());
    }

    #[test]
    fn foreground_fraction_with_otsu() {
        // 25 % bright square on a dark background with a little texture
        let data = Array2::from_shape_fn((40, 40), |(r, c)| {
            let base = if r < 20 && c < 20 { 100.0 } else { 0.0 };
            base + ((r * 7 + c * 3) % 5) as f32
        });
        let img = Image::new(data, [1.0, 1.0], Modality::Mr, Unit::Arbitrary).unwrap();
        let t = img.otsu_threshold().unwrap();
        assert!(t > 4.0 && t < 100.0, "threshold {t}");
        assert!((img.foreground_fraction_otsu() - 0.25).abs() < 1e-12);
        let flat = Image::new(
            Array2::ones((4, 4)),
            [1.0, 1.0],
            Modality::Mr,
            Unit::Arbitrary,
        )
        .unwrap();
        assert_eq!(flat.foreground_fraction_otsu(), 0.0);
    }

    #[test]
    fn modality_codes_round_trip() {
        for m in [
            Modality::Ct,
            Modality::Mr,
            Modality::Us,
            Modality::Photo,
            Modality::Fundus,
            Modality::Endoscopy,
            Modality::Histopathology,
            Modality::Other,
        ] {
            assert_eq!(m.code().parse::<Modality>().unwrap(), m);
        }
        assert_eq!(Modality::from_dicom("OP"), Modality::Fundus);
        assert_eq!(Modality::from_dicom("es"), Modality::Endoscopy);
        assert_eq!(Modality::from_dicom("SM"), Modality::Histopathology);
        assert_eq!("fundus".parse::<Modality>().unwrap(), Modality::Fundus);
        // every display name parses back to its modality (manifests store display names)
        for m in [
            Modality::Ct,
            Modality::Mr,
            Modality::Us,
            Modality::Photo,
            Modality::Fundus,
            Modality::Endoscopy,
            Modality::Histopathology,
        ] {
            assert_eq!(m.display_name().parse::<Modality>().unwrap(), m);
            assert_eq!(m.code().parse::<Modality>().unwrap(), m);
        }
        assert_eq!(Modality::Fundus.display_name(), "fundus photography");
        assert_eq!(Modality::Histopathology.display_name(), "histopathology");
        assert_eq!(Modality::from_dicom("MR "), Modality::Mr);
        assert_eq!(Modality::from_dicom("SEG"), Modality::Other);
    }
}
