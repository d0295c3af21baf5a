//! Ultrasound imaging regions and burned-in text (DICOM PS3.3 C.8.5.5, C.7.6.3).
//!
//! Ultrasound frames carry more than the image: the scanner burns the clinic name, date, probe,
//! depth scale and sometimes the patient's name into the pixels around the imaging region.
//! None of that may reach a degraded image or a benchmark. Model:
//! - with a Sequence of Ultrasound Regions (0018,6011), the frame is cropped to the largest
//!   2-D tissue region (Region Data Type 1 with Region Spatial Format 1; else the largest
//!   region that is not a graphics overlay or an M-mode, spectral or waveform strip), and its pixel
//!   size is taken from Physical Delta X/Y when the physical units are cm (code 3); declared
//!   graphics regions inside the crop (traces, grey and colour bars, area traces: Region Data
//!   Types 0x0A–0x0E and 0x10) are blanked to 0, since a scanner draws them over the image
//!   (the Aloka sample's grey bar sits inside its tissue region). Scanners often write
//!   Region Location Max X1/Y1 one past the last pixel (an 800-column frame with X1 = 800):
//!   bounds up to 2 pixels beyond the frame are clamped to it, not dropped;
//! - without regions, an ultrasound object is refused unless Burned In Annotation (0028,0301)
//!   says `NO` or the caller allows burned-in text (`LoadOptions::allow_burned_in`) — text
//!   detection outside an unknown region is not attempted, so refusing is the safe default.

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

const SEQUENCE_OF_ULTRASOUND_REGIONS: Tag = Tag(0x0018, 0x6011);
const REGION_SPATIAL_FORMAT: Tag = Tag(0x0018, 0x6012);
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
    /// The scan field's sector, in frame pixels, when it was detected as one
    /// (`crate::us_field`): [`crop`] blanks everything outside it.
    pub sector: Option<Sector>,
}

/// An annular sector in frame pixel coordinates (x right, y down): the points whose distance
/// from the apex lies in `r0..=r1` and whose angle from the downward vertical (positive to the
/// right) lies in `left..=right` (radians).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sector {
    pub ax: f64,
    pub ay: f64,
    pub left: f64,
    pub right: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Sector {
    /// Whether the pixel centred at `(x, y)` lies in the sector (half a pixel of tolerance).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let (dx, dy) = (x - self.ax, y - self.ay);
        let r = dx.hypot(dy);
        if r < self.r0 - 0.5 || r > self.r1 + 0.5 || dy <= 0.0 {
            return false;
        }
        let t = dx.atan2(dy);
        let tol = 0.5 / r.max(1.0);
        t >= self.left - tol && t <= self.right + tol
    }
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
        // one or two past the frame's edge is a common off-by-one (exclusive bounds): clamp
        const SLACK: i64 = 2;
        let (cols_i, rows_i) = (cols as i64, rows as i64);
        if x0 < 0 || y0 < 0 || x1 < x0 || y1 < y0 || x1 >= cols_i + SLACK || y1 >= rows_i + SLACK {
            continue;
        }
        let (x1, y1) = (x1.min(cols_i - 1), y1.min(rows_i - 1));
        if x1 < x0 || y1 < y0 {
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
            sector: None,
        };
        let data_type = int(it, REGION_DATA_TYPE);
        if matches!(data_type, Some(0x0A..=0x0E) | Some(0x10)) {
            graphics.push((r.x0, r.y0, r.x1, r.y1));
            // an overlay is never the image
            continue;
        }
        // Region Spatial Format: 1 = 2-D tissue or flow, 2 = M-mode, 3 = spectral (Doppler),
        // 4 = waveform (physiological or Doppler trace), 5 = graphics; a strip of those is not
        // an image to degrade
        let format = int(it, REGION_SPATIAL_FORMAT);
        if matches!(format, Some(2..=5)) {
            continue;
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
/// and everything outside its sector (when it has one) blanked to 0.
pub(crate) fn crop(values: &[f32], cols: usize, channels: usize, r: &Region) -> Vec<f32> {
    let mut out = Vec::with_capacity(r.rows() * r.cols() * channels);
    for y in r.y0..=r.y1 {
        let start = (y * cols + r.x0) * channels;
        out.extend_from_slice(&values[start..start + r.cols() * channels]);
    }
    if let Some(s) = &r.sector {
        for y in r.y0..=r.y1 {
            for x in r.x0..=r.x1 {
                if !s.contains(x as f64, y as f64) {
                    let p = (y - r.y0) * r.cols() + (x - r.x0);
                    out[p * channels..(p + 1) * channels].fill(0.0);
                }
            }
        }
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

/// Burned-in overlay inside an ultrasound frame (text, cursors, depth ticks, focus markers,
/// box edges) found and painted over; returns how many pixels were replaced.
///
/// Model: a scanner draws its overlay with a few fixed colours, so each is a spike in the
/// frame's histogram of exact values (at least 3× the median count of the 6 nearest levels),
/// while log-compressed speckle spreads over the levels smoothly. The lowest level (black
/// surround, anechoic tissue: overlay drawn in black would be invisible) and levels holding
/// more than 5 % of the frame are never overlay. Pixels at a spike value form connected
/// components (8-neighbourhood, one value). A component of at least 2 pixels is overlay
/// when it is
/// - a glyph, tick or cursor: neither side of its box longer than `L = min(rows, cols) / 10`
///   (clamped to 16–64 px) and thin (at most half of its pixels have all four neighbours in
///   it: strokes, not a saturated blob), or
/// - a dot: both sides under `L / 3` (an orientation marker), or
/// - a line: at most a tenth of its pixels interior and at least `2L` pixels (a box edge, a
///   scale bar).
///
/// A spike level counts only when at least half of its pixels lie in overlay components of 6
/// pixels or more (a tissue level that merely happens to be frequent is scattered in small
/// pieces); then all its overlay components go, small tick marks included. Each
/// overlay component, with what it encloses (the inside of an inverse-video box, a glyph's
/// loops) and grown by one pixel (outlines, anti-aliasing), is painted from the outside in:
/// each pass gives the masked pixels that touch known ones the mean of their known
/// 8-neighbours. No glyph shape is left behind, not even as a dark hole, which re-simulated
/// as anechoic tissue would still spell the text.
///
/// Conservative: data with few repeated values (continuous, or 16-bit without a palette) has
/// no spikes, and nothing changes. Not covered: overlay drawn with smoothly varying values
/// (anti-aliased text on a gradient) and graphics larger than `L` that are not thin lines
/// (grey-scale bars outside a declared region).
pub(crate) fn remove_overlay(
    values: &mut [f32],
    rows: usize,
    cols: usize,
    channels: usize,
) -> usize {
    let n = rows * cols;
    if n == 0 || !(1..=3).contains(&channels) || values.len() != n * channels {
        return 0;
    }
    // each pixel's exact value: the bits of its channels (unused ones 0)
    let keys: Vec<Key> = (0..n)
        .map(|p| {
            let mut k = [0u32; 3];
            for (b, v) in k.iter_mut().zip(&values[p * channels..(p + 1) * channels]) {
                *b = v.to_bits();
            }
            k
        })
        .collect();
    let spikes = spike_levels(&keys, channels);
    if spikes.is_empty() {
        return 0;
    }
    let limit = (rows.min(cols) / 10).clamp(16, 64);
    let comps = components(&keys, &spikes, rows, cols);
    // per spike level: pixels in overlay components and in all components
    let mut share: HashMap<Key, (usize, usize)> = HashMap::new();
    let overlay: Vec<Option<bool>> = comps
        .iter()
        .map(|c| {
            let o = c.overlay(limit);
            // a level is confirmed by its pieces of 6 pixels or more (a tissue level's
            // scattered pixels form small pieces); then its small marks go too
            let e = share.entry(keys[c.members[0]]).or_default();
            let big = c.members.len() >= 6;
            e.0 += if o.is_some() && big {
                c.members.len()
            } else {
                0
            };
            e.1 += c.members.len();
            o
        })
        .collect();
    let mut mask = vec![false; n];
    for (c, o) in comps.iter().zip(overlay) {
        let (over, all) = share[&keys[c.members[0]]];
        if let (Some(enclosed), true) = (o, 2 * over >= all) {
            c.mark(enclosed, &mut mask, rows, cols);
        }
    }
    let replaced = mask.iter().filter(|m| **m).count();
    if replaced == 0 || replaced == n {
        return 0;
    }
    paint_in(values, &mut mask, rows, cols, channels);
    replaced
}

use std::collections::{HashMap, HashSet};

/// A pixel's exact value: the bits of up to three channels.
type Key = [u32; 3];

/// Values (exact bits per channel) whose pixel count is a spike: ≥ 20 pixels and ≥ 3× the
/// median count of the 6 nearest levels; not the lowest level, not above 5 % of the frame.
fn spike_levels(keys: &[Key], channels: usize) -> HashSet<Key> {
    let n = keys.len();
    let mut counts: HashMap<Key, usize> = HashMap::new();
    for k in keys {
        *counts.entry(*k).or_default() += 1;
    }
    let level = |k: &Key| -> f32 {
        k[..channels]
            .iter()
            .map(|b| f32::from_bits(*b))
            .sum::<f32>()
    };
    let mut levels: Vec<(f32, Key, usize)> =
        counts.into_iter().map(|(k, c)| (level(&k), k, c)).collect();
    levels.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut spikes = HashSet::new();
    for i in 1..levels.len() {
        let c = levels[i].2;
        if 20 * c > n || c < 20 {
            continue;
        }
        let mut around: Vec<usize> = (i.saturating_sub(3)..(i + 4).min(levels.len()))
            .filter(|&j| j != i)
            .map(|j| levels[j].2)
            .collect();
        around.sort_unstable();
        let base = around.get(around.len() / 2).copied().unwrap_or(0).max(1);
        if c >= 3 * base {
            spikes.insert(levels[i].1);
        }
    }
    spikes
}

/// One connected set of pixels of one value.
struct Component {
    members: Vec<usize>,
    /// inclusive bounds: first row, last row, first column, last column
    bounds: (usize, usize, usize, usize),
    /// members whose four neighbours are members too
    interior: usize,
}

impl Component {
    /// `None`: image; `Some(true)`: a small piece of overlay (glyph, tick, cursor, dot),
    /// painted with what it encloses; `Some(false)`: a line, painted alone.
    fn overlay(&self, limit: usize) -> Option<bool> {
        let (r0, r1, c0, c1) = self.bounds;
        let (h, w, size) = (r1 - r0 + 1, c1 - c0 + 1, self.members.len());
        if size < 2 {
            return None;
        }
        let glyph = h <= limit && w <= limit && 2 * self.interior <= size;
        let dot = 3 * h < limit && 3 * w < limit;
        let line = 10 * self.interior <= size && size >= 2 * limit;
        if glyph || dot {
            Some(true)
        } else if line {
            Some(false)
        } else {
            None
        }
    }

    /// Mark the component, what it encloses when `enclosed` (a glyph's loops, the inside of
    /// an inverse-video box; not a box drawn around the image), and a one-pixel rim.
    fn mark(&self, enclosed: bool, mask: &mut [bool], rows: usize, cols: usize) {
        let (r0, r1, c0, c1) = self.bounds;
        // a frame one pixel wider on every side, so the outside is connected around it
        let (h, w) = (r1 - r0 + 3, c1 - c0 + 3);
        let mut wall = vec![false; h * w];
        for &p in &self.members {
            wall[(p / cols - r0 + 1) * w + (p % cols - c0 + 1)] = true;
        }
        let mut outside = vec![!enclosed; h * w];
        for (o, wl) in outside.iter_mut().zip(&wall) {
            *o &= !wl;
        }
        let mut stack: Vec<usize> = (0..h * w)
            .filter(|&i| i / w == 0 || i / w == h - 1 || i % w == 0 || i % w == w - 1)
            .collect();
        for &i in &stack {
            outside[i] = true;
        }
        while let Some(i) = stack.pop() {
            let (y, x) = (i / w, i % w);
            let near = [
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
            ];
            for j in near.into_iter().flatten() {
                if !outside[j] && !wall[j] {
                    outside[j] = true;
                    stack.push(j);
                }
            }
        }
        for y in 0..h {
            for x in 0..w {
                let covered = (y.saturating_sub(1)..(y + 2).min(h)).any(|yy| {
                    (x.saturating_sub(1)..(x + 2).min(w)).any(|xx| !outside[yy * w + xx])
                });
                let (r, c) = ((r0 + y) as i64 - 1, (c0 + x) as i64 - 1);
                if covered && r >= 0 && c >= 0 && (r as usize) < rows && (c as usize) < cols {
                    mask[r as usize * cols + c as usize] = true;
                }
            }
        }
    }
}

/// The connected components (8-neighbourhood, equal values) of the pixels at spike values.
fn components(keys: &[Key], spikes: &HashSet<Key>, rows: usize, cols: usize) -> Vec<Component> {
    let n = rows * cols;
    let cand: Vec<bool> = keys.iter().map(|k| spikes.contains(k)).collect();
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..n {
        if !cand[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut members = Vec::new();
        while let Some(p) = stack.pop() {
            members.push(p);
            let (r, c) = (p / cols, p % cols);
            for rr in r.saturating_sub(1)..(r + 2).min(rows) {
                for cc in c.saturating_sub(1)..(c + 2).min(cols) {
                    let q = rr * cols + cc;
                    if cand[q] && !seen[q] && keys[q] == keys[start] {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
        for &p in &members {
            let (r, c) = (p / cols, p % cols);
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
        }
        let same = |r: usize, c: usize| keys[r * cols + c] == keys[start];
        let interior = members
            .iter()
            .filter(|&&p| {
                let (r, c) = (p / cols, p % cols);
                r > 0
                    && c > 0
                    && r + 1 < rows
                    && c + 1 < cols
                    && same(r - 1, c)
                    && same(r + 1, c)
                    && same(r, c - 1)
                    && same(r, c + 1)
            })
            .count();
        out.push(Component {
            members,
            bounds: (r0, r1, c0, c1),
            interior,
        });
    }
    out
}

/// Fill the masked pixels from the outside in, one ring per pass (each pass reads the
/// previous state): a masked pixel touching known ones gets the mean of its known
/// 8-neighbours.
fn paint_in(values: &mut [f32], mask: &mut [bool], rows: usize, cols: usize, channels: usize) {
    let mut todo: Vec<usize> = (0..rows * cols).filter(|&p| mask[p]).collect();
    while !todo.is_empty() {
        let mut ring = Vec::new();
        let mut rest = Vec::new();
        for &p in &todo {
            let (r, c) = (p / cols, p % cols);
            let mut sum = [0f64; 3];
            let mut k = 0usize;
            for rr in r.saturating_sub(1)..(r + 2).min(rows) {
                for cc in c.saturating_sub(1)..(c + 2).min(cols) {
                    let q = rr * cols + cc;
                    if q != p && !mask[q] {
                        k += 1;
                        for (ch, s) in sum[..channels].iter_mut().enumerate() {
                            *s += values[q * channels + ch] as f64;
                        }
                    }
                }
            }
            if k > 0 {
                ring.push((p, sum.map(|s| (s / k as f64) as f32)));
            } else {
                rest.push(p);
            }
        }
        if ring.is_empty() {
            break;
        }
        for (p, v) in ring {
            values[p * channels..(p + 1) * channels].copy_from_slice(&v[..channels]);
            mask[p] = false;
        }
        todo = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-compressed speckle quantised to 64 levels (a palette-like B-mode), seeded.
    fn speckle(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..rows * cols)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = ((x >> 11) as f64 / (1u64 << 53) as f64).max(1e-12);
                // Rayleigh amplitude, log-compressed to [0, 1), 64 levels
                let a = (-2.0 * u.ln()).sqrt();
                let db = (20.0 * a.log10() + 50.0).clamp(0.0, 63.0);
                (db.floor() / 64.0) as f32
            })
            .collect()
    }

    /// 5 × 7 glyphs ("12", "H", "z"), one bit per pixel, rows top to bottom.
    const GLYPHS: [[u8; 7]; 4] = [
        [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        [
            0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        [
            0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
    ];

    #[test]
    fn glyphs_and_a_box_are_painted_over_and_speckle_is_left_alone() {
        let (rows, cols) = (200, 240);
        let clean = speckle(rows, cols, 7);
        // no overlay: nothing changes
        let mut same = clean.clone();
        assert_eq!(remove_overlay(&mut same, rows, cols, 1), 0);
        assert_eq!(same, clean);
        // text at a level the speckle never takes, a box edge at another
        let (text, edge) = (0.99f32, 0.9921875f32);
        let mut img = clean.clone();
        let mut drawn = Vec::new();
        // "12Hz" twice, glyphs drawn 2× (strokes 2 px wide), as a scanner labels its image
        for line in 0..2 {
            for (g, glyph) in GLYPHS.iter().enumerate() {
                for (y, bits) in glyph.iter().enumerate() {
                    for x in 0..5 {
                        if bits >> (4 - x) & 1 == 1 {
                            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                                let p =
                                    (8 + 18 * line + 2 * y + dy) * cols + 150 + 12 * g + 2 * x + dx;
                                img[p] = text;
                                drawn.push(p);
                            }
                        }
                    }
                }
            }
        }
        for x in 40..200 {
            for y in [60, 140] {
                img[y * cols + x] = edge;
                drawn.push(y * cols + x);
            }
        }
        for y in 60..=140 {
            for x in [40, 199] {
                img[y * cols + x] = edge;
                drawn.push(y * cols + x);
            }
        }
        let n = remove_overlay(&mut img, rows, cols, 1);
        assert!(n >= drawn.len(), "{n} of {} drawn", drawn.len());
        let left: Vec<(usize, f32)> = (0..rows * cols)
            .filter(|&p| img[p] == text || img[p] == edge)
            .map(|p| (p, img[p]))
            .take(5)
            .collect();
        assert!(left.is_empty(), "overlay left: {left:?} of {n}");
        // painted pixels take speckle-like values
        let mean = |v: &[f32]| v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64;
        let painted: Vec<f32> = drawn.iter().map(|&p| img[p]).collect();
        assert!((mean(&painted) - mean(&clean)).abs() < 0.1);
        // the inside of the box is image, not overlay: untouched
        for y in 63..=137 {
            for x in 43..=196 {
                assert_eq!(img[y * cols + x], clean[y * cols + x], "({y},{x})");
            }
        }
        // and nothing far from the overlay moved
        let changed = (0..rows * cols).filter(|&p| img[p] != clean[p]).count();
        assert!(changed <= 4 * drawn.len(), "{changed}");
    }
}

#[cfg(test)]
mod region_tests {
    use super::*;
    use dicom_core::value::DataSetSequence;
    use dicom_core::{DataElement, PrimitiveValue, VR};

    fn item(format: u16, data_type: u16, b: [u32; 4]) -> InMemDicomObject {
        let mut it = InMemDicomObject::new_empty();
        it.put(DataElement::new(
            REGION_SPATIAL_FORMAT,
            VR::US,
            PrimitiveValue::from(format),
        ));
        it.put(DataElement::new(
            REGION_DATA_TYPE,
            VR::US,
            PrimitiveValue::from(data_type),
        ));
        for (tag, v) in [MIN_X0, MIN_Y0, MAX_X1, MAX_Y1].into_iter().zip(b) {
            it.put(DataElement::new(tag, VR::UL, PrimitiveValue::from(v)));
        }
        it
    }

    fn object(items: Vec<InMemDicomObject>) -> InMemDicomObject {
        let mut obj = InMemDicomObject::new_empty();
        obj.put(DataElement::new(
            SEQUENCE_OF_ULTRASOUND_REGIONS,
            VR::SQ,
            DataSetSequence::from(items),
        ));
        obj
    }

    /// The layout of pydicom-data's OBXXXX1A.dcm (800 × 600): a 2-D tissue region whose Max X1
    /// is 800 (one past the last column) and a Doppler trace strip below it. The tissue region
    /// is kept, clamped to the frame, and the strip is never chosen.
    #[test]
    fn tissue_region_one_past_the_edge_is_clamped_and_strips_are_not_images() {
        let obj = object(vec![
            item(1, 1, [120, 60, 800, 518]),
            item(4, 0x0A, [176, 522, 743, 576]),
        ]);
        let r = imaging_region(&obj, 600, 800).expect("a region");
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (120, 60, 799, 518));
        // far out of the frame is still a broken region, not clamped
        let obj = object(vec![
            item(1, 1, [120, 60, 900, 518]),
            item(3, 3, [0, 522, 799, 576]),
        ]);
        assert_eq!(imaging_region(&obj, 600, 800), None);
        // a colour-flow 2-D region (data type 2) is an image when no tissue region is declared
        let obj = object(vec![item(1, 2, [10, 10, 409, 309])]);
        let r = imaging_region(&obj, 600, 800).expect("a region");
        assert_eq!((r.cols(), r.rows()), (400, 300));
    }
}
