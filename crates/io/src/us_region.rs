//! Ultrasound imaging regions and burned-in text (DICOM PS3.3 C.8.5.5, C.7.6.3).
//!
//! Ultrasound frames carry more than the image: the scanner burns the clinic name, date, probe,
//! depth scale and sometimes the patient's name into the pixels around the imaging region.
//! None of that may reach a degraded image or a benchmark. Model:
//! - with a Sequence of Ultrasound Regions (0018,6011), the frame is cropped to the largest
//!   tissue region (Region Data Type 1; else the largest region of any type), and its pixel
//!   size is taken from Physical Delta X/Y when the physical units are cm (code 3); declared
//!   graphics regions inside the crop (traces, grey and colour bars, area traces: Region Data
//!   Types 0x0A–0x0E and 0x10) are blanked to 0, since a scanner draws them over the image
//!   (the Aloka sample's grey bar sits inside its tissue region);
//! - without regions, an ultrasound object is refused unless Burned In Annotation (0028,0301)
//!   says `NO` or the caller allows burned-in text (`LoadOptions::allow_burned_in`) — text
//!   detection outside an unknown region is not attempted, so refusing is the safe default.

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

const SEQUENCE_OF_ULTRASOUND_REGIONS: Tag = Tag(0x0018, 0x6011);
const REGION_DATA_TYPE: Tag = Tag(0x0018, 0x6014);
const MIN_X0: Tag = Tag(0x0018, 0x6018);
const MIN_Y0: Tag = Tag(0x0018, 0x601A);
const MAX_X1: Tag = Tag(0x0018, 0x601C);
const MAX_Y1: Tag = Tag(0x0018, 0x601E);
const UNITS_X: Tag = Tag(0x0018, 0x6024);
const UNITS_Y: Tag = Tag(0x0018, 0x6026);
const DELTA_X: Tag = Tag(0x0018, 0x602C);
const DELTA_Y: Tag = Tag(0x0018, 0x602E);
/// Burned In Annotation (0028,0301).
pub(crate) const BURNED_IN_ANNOTATION: Tag = Tag(0x0028, 0x0301);

/// A rectangle of the frame (inclusive pixel bounds) and its pixel size.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Region {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    /// `[row, column]` pixel size in mm, when the region states it in cm.
    pub spacing_mm: Option<[f64; 2]>,
    /// Declared graphics regions overlapping this one, `(x0, y0, x1, y1)` in frame pixels
    /// (inclusive): blanked by [`crop`].
    pub graphics: Vec<(usize, usize, usize, usize)>,
}

impl Region {
    pub fn rows(&self) -> usize {
        self.y1 - self.y0 + 1
    }
    pub fn cols(&self) -> usize {
        self.x1 - self.x0 + 1
    }
}

fn int(item: &InMemDicomObject, tag: Tag) -> Option<i64> {
    item.element_opt(tag).ok().flatten()?.to_int::<i64>().ok()
}

fn float(item: &InMemDicomObject, tag: Tag) -> Option<f64> {
    item.element_opt(tag).ok().flatten()?.to_float64().ok()
}

/// The imaging region of an ultrasound frame of `rows × cols`, if the object declares one that
/// fits the frame.
pub(crate) fn imaging_region(obj: &InMemDicomObject, rows: usize, cols: usize) -> Option<Region> {
    let items = obj
        .element_opt(SEQUENCE_OF_ULTRASOUND_REGIONS)
        .ok()
        .flatten()?
        .items()?;
    let mut best: Option<(bool, usize, Region)> = None;
    let mut graphics = Vec::new();
    for it in items {
        let (Some(x0), Some(y0), Some(x1), Some(y1)) = (
            int(it, MIN_X0),
            int(it, MIN_Y0),
            int(it, MAX_X1),
            int(it, MAX_Y1),
        ) else {
            continue;
        };
        if x0 < 0 || y0 < 0 || x1 < x0 || y1 < y0 || x1 as usize >= cols || y1 as usize >= rows {
            continue;
        }
        let cm = |units: Tag, delta: Tag| {
            (int(it, units) == Some(3))
                .then(|| float(it, delta))
                .flatten()
                .filter(|d| d.is_finite() && *d > 0.0 && *d < 10.0)
                .map(|d| d * 10.0)
        };
        let spacing_mm = match (cm(UNITS_Y, DELTA_Y), cm(UNITS_X, DELTA_X)) {
            (Some(dy), Some(dx)) => Some([dy, dx]),
            _ => None,
        };
        let r = Region {
            x0: x0 as usize,
            y0: y0 as usize,
            x1: x1 as usize,
            y1: y1 as usize,
            spacing_mm,
            graphics: Vec::new(),
        };
        let data_type = int(it, REGION_DATA_TYPE);
        if matches!(data_type, Some(0x0A..=0x0E) | Some(0x10)) {
            graphics.push((r.x0, r.y0, r.x1, r.y1));
        }
        let tissue = data_type == Some(1);
        let area = r.rows() * r.cols();
        let better = match &best {
            None => true,
            Some((t, a, _)) => (tissue, area) > (*t, *a),
        };
        if better {
            best = Some((tissue, area, r));
        }
    }
    best.map(|(_, _, mut r)| {
        r.graphics = graphics
            .into_iter()
            .filter(|&(x0, y0, x1, y1)| x0 <= r.x1 && x1 >= r.x0 && y0 <= r.y1 && y1 >= r.y0)
            .collect();
        r
    })
}

/// Crop interleaved frame values (`channels` per pixel) to the region, its declared graphics
/// blanked to 0.
pub(crate) fn crop(values: &[f32], cols: usize, channels: usize, r: &Region) -> Vec<f32> {
    let mut out = Vec::with_capacity(r.rows() * r.cols() * channels);
    for y in r.y0..=r.y1 {
        let start = (y * cols + r.x0) * channels;
        out.extend_from_slice(&values[start..start + r.cols() * channels]);
    }
    for &(x0, y0, x1, y1) in &r.graphics {
        for y in y0.max(r.y0)..=y1.min(r.y1) {
            let row = (y - r.y0) * r.cols();
            let (a, b) = (x0.max(r.x0) - r.x0, x1.min(r.x1) - r.x0);
            out[(row + a) * channels..(row + b + 1) * channels].fill(0.0);
        }
    }
    out
}
