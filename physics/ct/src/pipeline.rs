//! The shared CT simulation path: HU image → μ on a finer grid → sinogram → corruption in the
//! projection domain → FBP on the image grid → HU.
//!
//! # Model
//! 1. HU → μ (mm⁻¹) per source pixel ([`crate::units`], padding < −1024 HU → air), then bilinear
//!    resampling onto a square grid `upsample`× finer than the image (default 2) covering the
//!    same physical extent. Projecting from a finer grid than the one reconstructed avoids the
//!    "inverse crime" (Guerquin-Kern et al. 2012): the forward model is not the discrete
//!    transpose of the reconstruction model.
//! 2. Joseph forward projection ([`crate::projector`]) in the chosen [`ScanSettings`] geometry:
//!    line integrals `p = ∫μ dl` (dimensionless).
//! 3. The caller's corruption acts on `p` in place (photon noise, detector errors, …).
//! 4. FBP ([`crate::fbp`]) onto the image's own grid and μ → HU.
//!
//! The ray table, the FBP plan and the clean sinogram of steps 2 and 4 come from
//! [`crate::memo`] (exact keys, the same bytes as computing them afresh): a dataset build
//! renders many images of one geometry, and several attributes of one clean slice.
//!
//! # Default scan (derived from the image)
//! * beam: equiangular arc fan (third-generation clinical CT), source–isocentre 595 mm,
//!   isocentre–detector 490.6 mm (source–detector 1085.6 mm, as a Siemens SOMATOM Definition;
//!   vendor technical data), 360° rotation;
//! * detector: bin pitch = the image pixel size at the isocentre (× magnification at the
//!   detector), enough bins for the fan to cover the image's circumscribed circle (+1 pixel),
//!   so the untruncated default never clips the body;
//! * views: 1.5 views per detector bin over 360° (≈ 1152 views for 736 bins, as clinical
//!   scanners), or 0.8 per bin over 180° for parallel beam;
//! * filter: Shepp–Logan; upsample: 2.
//!
//! # References
//! - M. Guerquin-Kern, L. Lejeune, K. P. Pruessmann, M. Unser, "Realistic analytical phantoms
//!   for parallel magnetic resonance imaging", IEEE TMI 31(3), 2012 (inverse crime).
//! - T. G. Flohr et al., "First performance evaluation of a dual-source CT (DSCT) system",
//!   Eur. Radiol. 16, 2006 (595 / 1085.6 mm geometry).

use crate::fbp::Filter;
use crate::geometry::{param, Beam, Geometry, Grid};
use crate::units::{hu_to_mu, mu_to_hu, MU_WATER_70KEV};
use crate::{CtError, Result};
use artefact_core::{Image, Unit};
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Beam kind of a [`ScanSettings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeamKind {
    Parallel,
    FanFlat,
    #[default]
    FanArc,
}

/// How to scan an image. `None` fields are derived from the image size and spacing.
///
/// Every CT operator records the scan it used in its params (field `scan`), so a replay never
/// depends on this crate's defaults; records made before the field existed replay with
/// [`ScanSettings::legacy`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanSettings {
    pub beam: BeamKind,
    /// Number of views (default: 1.5 per detector bin over 360°, 0.8 per bin over 180°).
    pub n_views: Option<usize>,
    /// Detector bins (default: enough to cover the image's circumscribed circle).
    pub n_det: Option<usize>,
    /// Bin pitch at the detector, mm (default: pixel size × magnification).
    pub det_pitch_mm: Option<f64>,
    /// Lateral detector offset at the detector, mm.
    pub det_offset_mm: f64,
    /// Source–isocentre distance, mm (fan beams).
    pub source_iso_mm: f64,
    /// Isocentre–detector distance, mm (fan beams).
    pub iso_det_mm: f64,
    /// Angular range in degrees (default: 360 for fan beams, 180 for parallel; with
    /// `short_scan` 180° + fan angle).
    pub arc_deg: Option<f64>,
    /// Fan-beam short scan (180° + fan angle, Parker weights).
    pub short_scan: bool,
    /// FBP filter.
    #[serde(with = "filter_name")]
    pub filter: Filter,
    /// Projection grid refinement factor (≥ 1; default 2).
    pub upsample: usize,
    /// μ of water, mm⁻¹.
    pub mu_water: f64,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            beam: BeamKind::FanArc,
            n_views: None,
            n_det: None,
            det_pitch_mm: None,
            det_offset_mm: 0.0,
            source_iso_mm: 595.0,
            iso_det_mm: 490.6,
            arc_deg: None,
            short_scan: false,
            filter: Filter::SheppLogan,
            upsample: 2,
            mu_water: MU_WATER_70KEV,
        }
    }
}

/// Serde of [`Filter`] as its name (`shepp-logan`, …).
mod filter_name {
    use crate::fbp::Filter;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &Filter, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Filter, D::Error> {
        let s = String::deserialize(d)?;
        Filter::from_name(&s).map_err(serde::de::Error::custom)
    }
}

impl ScanSettings {
    /// The scan every CT operator used before the scan was recorded in its params (arc fan
    /// 595 / 490.6 mm, Shepp–Logan, upsample 2, μ_water at 70 keV, counts derived from the
    /// image). Frozen: records without a `scan` field replay with exactly this, whatever
    /// [`ScanSettings::default`] becomes.
    pub fn legacy() -> Self {
        ScanSettings {
            beam: BeamKind::FanArc,
            n_views: None,
            n_det: None,
            det_pitch_mm: None,
            det_offset_mm: 0.0,
            source_iso_mm: 595.0,
            iso_det_mm: 490.6,
            arc_deg: None,
            short_scan: false,
            filter: Filter::SheppLogan,
            upsample: 2,
            mu_water: 0.0192,
        }
    }

    /// Parallel-beam defaults (180°).
    pub fn parallel() -> Self {
        ScanSettings {
            beam: BeamKind::Parallel,
            ..Default::default()
        }
    }

    /// Flat-detector fan-beam defaults.
    pub fn fan_flat() -> Self {
        ScanSettings {
            beam: BeamKind::FanFlat,
            ..Default::default()
        }
    }

    /// Arc-detector fan-beam defaults (same as `Default`).
    pub fn fan_arc() -> Self {
        ScanSettings::default()
    }

    /// The acquisition geometry for `image` (physical extent `rows·spacing[0] × cols·spacing[1]`).
    pub fn geometry_for(&self, image: &Image) -> Result<Geometry> {
        let (rows, cols) = image.data.dim();
        self.geometry_for_extent(
            rows as f64 * image.spacing[0],
            cols as f64 * image.spacing[1],
            image.spacing[0].min(image.spacing[1]),
        )
    }

    /// The acquisition geometry for an object of `height_mm × width_mm` reconstructed with
    /// `pixel_mm` pixels.
    pub fn geometry_for_extent(
        &self,
        height_mm: f64,
        width_mm: f64,
        pixel_mm: f64,
    ) -> Result<Geometry> {
        if self.upsample == 0 || self.upsample > 16 {
            return Err(param(
                "upsample",
                format!("must be in 1..=16, got {}", self.upsample),
            ));
        }
        if !(pixel_mm.is_finite() && pixel_mm > 0.0) {
            return Err(param("pixel_mm", format!("must be > 0, got {pixel_mm}")));
        }
        // radius covering the whole image + one pixel
        let r_fov = 0.5 * (height_mm * height_mm + width_mm * width_mm).sqrt() + pixel_mm;
        if let Some(n) = self.n_views {
            if n == 0 {
                return Err(param("n_views", "need at least one view".into()));
            }
        }
        if let Some(a) = self.arc_deg {
            if !(a.is_finite() && a > 0.0 && a <= 720.0) {
                return Err(param("arc_deg", format!("must be in (0, 720], got {a}")));
            }
        }
        let geom = match self.beam {
            BeamKind::Parallel => {
                let pitch = self.det_pitch_mm.unwrap_or(pixel_mm);
                let n_det = self
                    .n_det
                    .unwrap_or_else(|| (2.0 * r_fov / pitch).ceil() as usize + 2);
                let arc = self.arc_deg.unwrap_or(180.0);
                let n_views = self
                    .n_views
                    .unwrap_or_else(|| round_even(0.8 * n_det as f64 * arc / 180.0));
                let mut g = Geometry::parallel(n_det, pitch, n_views, arc);
                g.det_offset_mm = self.det_offset_mm;
                g
            }
            BeamKind::FanFlat | BeamKind::FanArc => {
                let (rs, rd) = (self.source_iso_mm, self.iso_det_mm);
                if !(rs.is_finite() && rs > 0.0 && rd.is_finite() && rd >= 0.0) {
                    return Err(param(
                        "source_iso_mm",
                        format!("distances must be positive, got {rs} / {rd}"),
                    ));
                }
                if rs <= 1.02 * r_fov {
                    return Err(param(
                        "source_iso_mm",
                        format!("the source ({rs} mm) must lie outside the object (radius {r_fov:.1} mm)"),
                    ));
                }
                let mag = (rs + rd) / rs;
                let pitch = self.det_pitch_mm.unwrap_or(pixel_mm * mag);
                let half_fan = (r_fov / rs).asin();
                let half_u = match self.beam {
                    BeamKind::FanFlat => (rs + rd) * half_fan.tan(),
                    _ => (rs + rd) * half_fan,
                };
                let n_det = self
                    .n_det
                    .unwrap_or_else(|| (2.0 * half_u / pitch).ceil() as usize + 2);
                let mut g = if self.beam == BeamKind::FanFlat {
                    Geometry::fan_flat(n_det, pitch, rs, rd, 1, 360.0)
                } else {
                    Geometry::fan_arc(n_det, pitch, rs, rd, 1, 360.0)
                };
                g.det_offset_mm = self.det_offset_mm;
                let arc = match (self.arc_deg, self.short_scan) {
                    (Some(a), _) => a,
                    (None, true) => g.short_scan_arc_deg(),
                    (None, false) => 360.0,
                };
                let n_views = self
                    .n_views
                    .unwrap_or_else(|| round_even(1.5 * n_det as f64 * arc / 360.0));
                g.with_angles(crate::geometry::uniform_angles(n_views, arc))
            }
        };
        geom.validate()?;
        Ok(geom)
    }
}

fn round_even(x: f64) -> usize {
    ((x / 2.0).ceil() as usize * 2).max(2)
}

/// μ (mm⁻¹, μ_water = [`MU_WATER_70KEV`]) of `image` (HU) on a square grid `upsample`× finer,
/// covering the same physical extent. `upsample = 0` is treated as 1.
pub fn to_mu_fine(image: &Image, upsample: usize) -> (Array2<f32>, Grid) {
    to_mu_fine_with(image, upsample, MU_WATER_70KEV)
}

/// [`to_mu_fine`] with an explicit μ_water (mm⁻¹).
pub fn to_mu_fine_with(image: &Image, upsample: usize, mu_water: f64) -> (Array2<f32>, Grid) {
    let up = upsample.max(1);
    let mu = image.data.mapv(|h| hu_to_mu(h, mu_water));
    resample_to_square(&mu, image.spacing, up)
}

/// Bilinear resampling of `src` (spacing `[row, col]` mm) onto a square grid of pixel
/// `min(spacing)/up` covering the same extent.
pub(crate) fn resample_to_square(
    src: &Array2<f32>,
    spacing: [f64; 2],
    up: usize,
) -> (Array2<f32>, Grid) {
    let (rows, cols) = src.dim();
    let pf = spacing[0].min(spacing[1]) / up as f64;
    let rows_f = ((rows as f64 * spacing[0] / pf).round() as usize).max(1);
    let cols_f = ((cols as f64 * spacing[1] / pf).round() as usize).max(1);
    let grid = Grid::new(rows_f, cols_f, pf);
    if rows_f == rows && cols_f == cols {
        return (src.clone(), grid);
    }
    let mut out = Array2::<f32>::zeros((rows_f, cols_f));
    let (cr, cc) = ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
    let colpos: Vec<(usize, usize, f32)> = (0..cols_f)
        .map(|j| {
            let c = (grid.x_mm(j) / spacing[1] + cc).clamp(0.0, cols as f64 - 1.0);
            let c0 = (c.floor() as usize).min(cols - 1);
            let c1 = (c0 + 1).min(cols - 1);
            (c0, c1, (c - c0 as f64) as f32)
        })
        .collect();
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols_f)
        .enumerate()
        .for_each(|(i, row)| {
            let r = (cr - grid.y_mm(i) / spacing[0]).clamp(0.0, rows as f64 - 1.0);
            let r0 = (r.floor() as usize).min(rows - 1);
            let r1 = (r0 + 1).min(rows - 1);
            let fr = (r - r0 as f64) as f32;
            for (o, &(c0, c1, fc)) in row.iter_mut().zip(colpos.iter()) {
                let top = src[[r0, c0]] + fc * (src[[r0, c1]] - src[[r0, c0]]);
                let bot = src[[r1, c0]] + fc * (src[[r1, c1]] - src[[r1, c0]]);
                *o = top + fr * (bot - top);
            }
        });
    (out, grid)
}

/// FBP (Shepp–Logan filter, μ_water = [`MU_WATER_70KEV`]) of `sino` onto `image`'s grid, in HU;
/// same size, spacing and modality as `image`.
pub fn reconstruct_hu(sino: &Array2<f32>, geom: &Geometry, image: &Image) -> Result<Image> {
    reconstruct_hu_with(sino, geom, image, Filter::SheppLogan, MU_WATER_70KEV)
}

/// [`reconstruct_hu`] with an explicit filter and μ_water.
pub fn reconstruct_hu_with(
    sino: &Array2<f32>,
    geom: &Geometry,
    image: &Image,
    filter: Filter,
    mu_water: f64,
) -> Result<Image> {
    let (rows, cols) = image.data.dim();
    let [sr, sc] = image.spacing;
    let square = ((sr - sc) / sr).abs() < 1e-6;
    let mu = if square {
        crate::memo::fbp_plan(geom, &Grid::new(rows, cols, sr), filter)?.reconstruct(sino.view())?
    } else {
        // reconstruct on a square grid, then resample to the (anisotropic) image grid
        let pf = sr.min(sc);
        let grid = Grid::new(
            (rows as f64 * sr / pf).round() as usize,
            (cols as f64 * sc / pf).round() as usize,
            pf,
        );
        let sq = crate::memo::fbp_plan(geom, &grid, filter)?.reconstruct(sino.view())?;
        let tmp = Image::new(sq, [pf, pf], image.modality, image.unit)?;
        artefact_core::resample::resize(&tmp, rows, cols)?.data
    };
    let hu = mu.mapv(|m| mu_to_hu(m, mu_water));
    Ok(Image::new(hu, image.spacing, image.modality, Unit::Hu)?)
}

fn check_hu(image: &Image) -> Result<()> {
    if image.unit != Unit::Hu {
        return Err(CtError::Input(format!(
            "CT simulation needs an image in HU, got unit `{}`",
            image.unit
        )));
    }
    Ok(())
}

/// Simulate a scan of `image` (HU): project from a finer grid, let `corrupt` alter the
/// sinogram (line integrals, shape `(views, n_det)`) in place, reconstruct with FBP, return HU
/// on the image's own grid.
pub fn simulate(
    image: &Image,
    scan: &ScanSettings,
    corrupt: impl FnOnce(&mut Array2<f32>, &Geometry) -> Result<()>,
) -> Result<Image> {
    simulate_with(image, scan, |mut sino, geom| {
        corrupt(&mut sino, &geom)?;
        Ok((sino, geom))
    })
}

/// Like [`simulate`], but the corruption may also replace the geometry (e.g. drop views for
/// sparse-view or limited-angle scans) — it receives and returns the sinogram and geometry.
pub fn simulate_with(
    image: &Image,
    scan: &ScanSettings,
    corrupt: impl FnOnce(Array2<f32>, Geometry) -> Result<(Array2<f32>, Geometry)>,
) -> Result<Image> {
    check_hu(image)?;
    let geom = scan.geometry_for(image)?;
    let (mu, grid) = to_mu_fine_with(image, scan.upsample, scan.mu_water);
    // the clean sinogram of this image and scan, memoised: the attributes rendered from one
    // clean slice (low dose, ring) share it (same bytes as a fresh projection)
    let sino = crate::memo::forward(mu.view(), &grid, &geom)?
        .as_ref()
        .clone();
    let (sino, geom) = corrupt(sino, geom)?;
    if sino.dim() != (geom.n_views(), geom.n_det) {
        return Err(CtError::Input(format!(
            "corrupted sinogram {:?} does not match its geometry ({} views × {} bins)",
            sino.dim(),
            geom.n_views(),
            geom.n_det
        )));
    }
    reconstruct_hu_with(&sino, &geom, image, scan.filter, scan.mu_water)
}

/// Convenience: is a beam a fan beam?
pub fn is_fan(beam: &Beam) -> bool {
    !matches!(beam, Beam::Parallel)
}
