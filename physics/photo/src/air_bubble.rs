//! Air bubble under the coverslip: the operator `photo.air_bubble` — an elliptic region without
//! mounting medium, bounded by a dark refractive rim, the tissue inside seen slightly magnified
//! and with reduced contrast, a faint bright halo just outside.
//!
//! # Model
//! The bubble is an ellipse of semi-axes `a = radius` and `b = aspect·a` (short sides) at
//! `angle_deg`, centred at `(centre_y, centre_x)` (fractions of the frame). For a pixel `p`,
//! with `ρ` its normalised elliptic radius about the centre `c`, the radial distance to the
//! boundary along the ray from the centre is `δ = (ρ − 1)·|p − c| / ρ` (exact for a circle;
//! `δ < 0` inside).
//!
//! - **Inside** (`δ < 0`): the air–glass and air–tissue interfaces act as a weak lens, so the
//!   content is seen magnified about the centre: the tissue at `c + (p − c)/m` appears at `p`
//!   (bilinear). Without mounting medium the section is not index-matched: light scattered
//!   at its rough surface is lost from the aperture in a way that washes out the stain
//!   contrast, modelled as a uniform scaling of the stain's optical density,
//!   `OD' = contrast·OD` (glass stays glass, tissue looks paler and flatter).
//! - **Rim** (`−rim_px ≤ δ ≤ 0`): the steep meniscus refracts and totally reflects the
//!   illumination out of the objective's aperture: a dark band of neutral optical density
//!   `rim_od · cos²(π (δ + rim/2)/rim)`, darkest on the circle `δ = −rim/2`.
//! - **Halo** (`0 < δ < 1.5·rim_px`): light deflected at the rim lands just outside: the
//!   transmitted light is multiplied by `1 + halo·sin²(π δ/(1.5·rim))` (not above the blank
//!   slide `i0`, nor below the pixel's own value).
//!
//! `radius = 0` is the identity; pixels outside the field of view are never changed, and the
//! content is only sampled from inside it.
//!
//! # Units
//! `radius`: fraction of the shorter side; `centre_*`: fractions of rows / columns; `rim_px`:
//! pixels; `rim_od`: decadic OD; `magnification`, `contrast`, `halo`: factors.
//!
//! # References
//! - M. Born, E. Wolf, *Principles of Optics*, §1.5 (refraction, total internal reflection).
//! - S. Kothari et al., "Pathology imaging informatics for quantitative analysis of whole-slide
//!   images", JAMIA 20(6), 2013 (air bubbles among slide artefacts).
//! - A. C. Ruifrok, D. A. Johnston, Anal. Quant. Cytol. Histol. 23(4), 2001 (optical density).

use crate::simd::rescale_od_row;
use crate::slide::{bilinear3, short_side};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};

artefact_core::params! {
    /// Parameters of [`AirBubble`] (recorded in manifests, replayed exactly).
    pub struct AirBubbleParams {
        /// semi-major axis of the bubble, fraction of the shorter side
        pub radius: f64 = float(0.25, [0.0, 2.0], "fraction"),
        /// ratio of the minor to the major axis
        pub aspect: f64 = float(0.85, [0.1, 1.0], "ratio"),
        /// direction of the major axis, counter-clockwise from the column axis
        pub angle_deg: f64 = sampled_float([0.0, 180.0], "deg"),
        /// row of the bubble's centre, fraction of the rows
        pub centre_y: f64 = sampled_float([0.2, 0.8], "fraction"),
        /// column of the bubble's centre, fraction of the columns
        pub centre_x: f64 = sampled_float([0.2, 0.8], "fraction"),
        /// width of the dark refractive rim
        pub rim_px: f64 = float(6.0, [0.0, 200.0], "px"),
        /// peak optical density of the rim
        pub rim_od: f64 = float(0.8, [0.0, 4.0], "OD"),
        /// magnification of the content seen through the bubble
        pub magnification: f64 = float(1.04, [0.5, 2.0], "factor"),
        /// stain contrast left inside the bubble (1 = unchanged)
        pub contrast: f64 = float(0.7, [0.0, 1.0], "factor"),
        /// relative brightening of the halo just outside the rim
        pub halo: f64 = float(0.06, [0.0, 1.0], "factor"),
        /// blank-slide (glass) intensity in linear light
        pub i0: f64 = float(1.0, [0.05, 2.0], "linear"),
    }
}

/// The operator `photo.air_bubble` (see the module docs).
pub struct AirBubble;

static INFO: OpInfo = OpInfo {
    name: "photo.air_bubble",
    modality: "photo",
    doc: "Air bubble under the coverslip: an ellipse with a dark refractive (total internal reflection) rim, the content inside slightly magnified with reduced stain contrast, and a faint bright halo outside.",
    params: AirBubbleParams::PARAMS,
};

impl ColourOperator for AirBubble {
    type Params = AirBubbleParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<AirBubbleParams> {
        Ok(AirBubbleParams::sample(spec, rng)?)
    }
    fn apply(p: &AirBubbleParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// Geometry of the bubble on an image: centre `(row, col)`, semi-axes (px), major-axis unit
/// vector `(row, col)`.
struct Ellipse {
    c: [f64; 2],
    a: f64,
    b: f64,
    u: [f64; 2],
}

impl Ellipse {
    /// Rows `r0..=r1` and columns `c0..=c1` covering the bubble with its rim and halo.
    fn bounding_box(&self, p: &AirBubbleParams, rows: usize, cols: usize) -> [usize; 4] {
        let reach = 1.5 * p.rim_px + 1.0;
        let lo = |c: f64| (c - self.a - reach).floor().max(0.0) as usize;
        let hi = |c: f64, n: usize| ((c + self.a + reach).ceil().max(0.0) as usize).min(n - 1);
        [
            lo(self.c[0]),
            hi(self.c[0], rows),
            lo(self.c[1]),
            hi(self.c[1], cols),
        ]
    }

    fn new(p: &AirBubbleParams, img: &RgbImage) -> Ellipse {
        let (rows, cols) = img.shape();
        let a = p.radius * short_side(img);
        let t = p.angle_deg.to_radians();
        Ellipse {
            c: [
                p.centre_y * (rows as f64 - 1.0),
                p.centre_x * (cols as f64 - 1.0),
            ],
            a,
            b: a * p.aspect,
            u: [-t.sin(), t.cos()],
        }
    }

    /// Signed radial distance to the boundary (px), negative inside.
    fn delta(&self, r: f64, c: f64) -> f64 {
        let (y, x) = (r - self.c[0], c - self.c[1]);
        let along = y * self.u[0] + x * self.u[1];
        let across = -y * self.u[1] + x * self.u[0];
        let rho = (along / self.a).hypot(across / self.b);
        let dist = y.hypot(x);
        if rho == 0.0 {
            return -self.a.min(self.b);
        }
        (rho - 1.0) * dist / rho
    }
}

/// Neutral OD of the rim at radial distance `delta`.
pub fn rim_profile(p: &AirBubbleParams, delta: f64) -> f64 {
    let w = p.rim_px;
    if w <= 0.0 || !(-w..=0.0).contains(&delta) {
        return 0.0;
    }
    p.rim_od * (std::f64::consts::PI * (delta + w / 2.0) / w).cos().powi(2)
}

/// Relative brightening of the halo at radial distance `delta`.
pub fn halo_profile(p: &AirBubbleParams, delta: f64) -> f64 {
    let w = 1.5 * p.rim_px;
    if w <= 0.0 || delta <= 0.0 || delta >= w {
        return 0.0;
    }
    p.halo * (std::f64::consts::PI * delta / w).sin().powi(2)
}

/// Where a pixel lies, from its squared normalised elliptic radius `ρ²` alone (no square
/// roots): the radial distance to the boundary is `δ = (ρ − 1)·R(θ)` with `R(θ) = |p − c|/ρ`
/// the centre's distance to the boundary along the ray, between the semi-axes `b ≤ R ≤ a`.
/// So `ρ ≤ 1 − (rim + 1)/b` gives `δ ≤ −(rim + 1)`: inside, past the rim (its OD is 0),
/// and `ρ ≥ 1 + (1.5·rim + 1)/b` gives `δ ≥ 1.5·rim + 1`: past the halo (unchanged). Only the
/// band between needs `δ` itself. The 1 px margins dwarf the rounding of `ρ²` and of the
/// rows' spans ([`Ellipse::span`]).
struct Zones {
    /// `ρ²` below which a pixel is inside, past the rim (−1 when no pixel is).
    deep: f64,
    /// `ρ²` from which a pixel is past the halo.
    past: f64,
}

impl Zones {
    fn new(e: &Ellipse, p: &AirBubbleParams) -> Zones {
        let b = e.a.min(e.b);
        let inner = 1.0 - (p.rim_px + 1.0) / b;
        Zones {
            deep: if inner > 0.0 { inner * inner } else { -1.0 },
            past: (1.0 + (1.5 * p.rim_px + 1.0) / b).powi(2),
        }
    }
}

impl Ellipse {
    /// The offsets `x` (columns from the centre) of row offset `y` where `ρ² < t`: the roots
    /// of the quadratic `ρ²(x) = t` (`None` when it has none). Used with the margins of
    /// [`Zones`], which dwarf its rounding.
    fn span(&self, y: f64, t: f64) -> Option<(f64, f64)> {
        // ρ² = (p0 + p1·x)² + (s0 + s1·x)²
        let (p0, p1) = (y * self.u[0] / self.a, self.u[1] / self.a);
        let (s0, s1) = (-y * self.u[1] / self.b, self.u[0] / self.b);
        let qa = p1 * p1 + s1 * s1;
        let qb = 2.0 * (p0 * p1 + s0 * s1);
        let qc = p0 * p0 + s0 * s0 - t;
        let disc = qb * qb - 4.0 * qa * qc;
        if !(disc > 0.0 && qa > 0.0) {
            return None;
        }
        let h = disc.sqrt();
        Some(((-qb - h) / (2.0 * qa), (-qb + h) / (2.0 * qa)))
    }
}

/// The content seen through the bubble: bilinear samples of the input (pixel centres at
/// integers, clamped to the frame; `None` unless the four neighbours are in the field of
/// view) with a row's terms computed once — the same values bit for bit as
/// [`bilinear3`], which it falls back to for a non-contiguous image.
struct Content<'a> {
    img: &'a RgbImage,
    data: Option<&'a [f32]>,
    mask: Option<&'a [bool]>,
    rows: usize,
    cols: usize,
}

/// A sampling row of [`Content`]: neighbouring rows `r0`, `r1`, weight `fy` of `r1`, and the
/// unclamped `y` (for the fallback).
struct SampleRow {
    y: f64,
    r0: usize,
    r1: usize,
    fy: f64,
}

impl<'a> Content<'a> {
    fn new(img: &'a RgbImage) -> Content<'a> {
        let (rows, cols) = img.shape();
        Content {
            img,
            data: img.data.as_slice(),
            mask: img.fov.as_ref().and_then(|m| m.as_slice()),
            rows,
            cols,
        }
    }

    fn row(&self, y: f64) -> SampleRow {
        let yc = y.clamp(0.0, (self.rows - 1) as f64);
        // non-negative: truncation is the floor
        let r0 = yc as usize;
        SampleRow {
            y,
            r0,
            r1: (r0 + 1).min(self.rows - 1),
            fy: yc - r0 as f64,
        }
    }

    #[inline]
    fn sample(&self, row: &SampleRow, x: f64) -> Option<[f64; 3]> {
        let Some(data) = self.data else {
            return bilinear3(self.img, row.y, x);
        };
        let cols = self.cols;
        let xc = x.clamp(0.0, (cols - 1) as f64);
        let c0 = xc as usize;
        let c1 = (c0 + 1).min(cols - 1);
        let fx = xc - c0 as f64;
        let (i00, i01, i10, i11) = (
            row.r0 * cols + c0,
            row.r0 * cols + c1,
            row.r1 * cols + c0,
            row.r1 * cols + c1,
        );
        match (self.mask, &self.img.fov) {
            (Some(m), _) => {
                if !(m[i00] && m[i01] && m[i10] && m[i11]) {
                    return None;
                }
            }
            (None, Some(_)) => return bilinear3(self.img, row.y, x),
            (None, None) => {}
        }
        let plane = self.rows * cols;
        let fy = row.fy;
        let mut v = [0.0; 3];
        for (k, v) in v.iter_mut().enumerate() {
            let p = &data[k * plane..(k + 1) * plane];
            let s = |i: usize| p[i] as f64;
            *v = (s(i00) * (1.0 - fx) + s(i01) * fx) * (1.0 - fy)
                + (s(i10) * (1.0 - fx) + s(i11) * fx) * fy;
        }
        Some(v)
    }
}

/// Add the bubble (see module docs).
pub fn apply(p: &AirBubbleParams, img: &RgbImage) -> Result<RgbImage> {
    if p.radius == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let e = Ellipse::new(p, img);
    let [r0, r1, c0, c1] = e.bounding_box(p, rows, cols);
    let zones = Zones::new(&e, p);
    let content = Content::new(img);
    // one pass over the bounding box: inside, the content seen through the bubble
    // (magnified) as OD with the rim; just outside, the halo (disjoint sets of pixels, both
    // read from the input)
    let mut out = img.data.clone();
    // the interior pixels of a row (column, then the content's three values and the rim's
    // OD for each channel), rescaled in OD together so that the loop vectorises
    let (mut cols_in, mut vals, mut rims) = (Vec::new(), Vec::new(), Vec::new());
    for r in r0..=r1 {
        cols_in.clear();
        vals.clear();
        rims.clear();
        let y = r as f64 - e.c[0];
        // the row's columns short of the halo's end, and those deep inside (past the rim)
        let Some((x0, x1)) = e.span(y, zones.past) else {
            continue;
        };
        let (lo, hi) = (
            (e.c[1] + x0).ceil().max(c0 as f64),
            (e.c[1] + x1).floor().min(c1 as f64),
        );
        if lo > hi {
            continue;
        }
        let deep = e
            .span(y, zones.deep)
            .map_or((f64::INFINITY, f64::NEG_INFINITY), |(x0, x1)| {
                (e.c[1] + x0, e.c[1] + x1)
            });
        let row = content.row(e.c[0] + (r as f64 - e.c[0]) / p.magnification);
        for c in lo as usize..=hi as usize {
            if !img.in_fov(r, c) {
                continue;
            }
            // δ (only its sign deep inside, where the rim's OD is 0)
            let (inside, d) = if (deep.0..=deep.1).contains(&(c as f64)) {
                (true, f64::NEG_INFINITY)
            } else {
                let d = e.delta(r as f64, c as f64);
                (d < 0.0, d)
            };
            if inside {
                let rim = rim_profile(p, d);
                let v = content.sample(&row, e.c[1] + (c as f64 - e.c[1]) / p.magnification);
                cols_in.push(c);
                for k in 0..3 {
                    vals.push(v.map_or(img.data[[k, r, c]] as f64, |v| v[k]));
                    rims.push(rim);
                }
            } else if p.halo > 0.0 {
                let h = halo_profile(p, d);
                if h > 0.0 {
                    for k in 0..3 {
                        let v = img.data[[k, r, c]] as f64;
                        out[[k, r, c]] = (v * (1.0 + h)).min(p.i0.max(v)) as f32;
                    }
                }
            }
        }
        // I' = intensity(contrast · OD(I) + rim)
        rescale_od_row(&mut vals, &rims, p.contrast, p.i0);
        for (&c, v) in cols_in.iter().zip(vals.chunks_exact(3)) {
            for k in 0..3 {
                out[[k, r, c]] = v[k] as f32;
            }
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stain::{intensity, od};
    use artefact_core::Modality;
    use ndarray::{Array2, Array3};

    fn image(f: impl Fn(usize, usize, usize) -> f32, fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 101, 101), |(k, r, c)| f(k, r, c)),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn params() -> AirBubbleParams {
        AirBubbleParams {
            radius: 0.3,
            aspect: 1.0,
            angle_deg: 0.0,
            centre_y: 0.5,
            centre_x: 0.5,
            rim_px: 8.0,
            rim_od: 1.0,
            magnification: 1.0,
            contrast: 1.0,
            halo: 0.1,
            i0: 1.0,
        }
    }

    /// On a flat section the rim is darkest at radius R − rim/2 (R = 0.3·101 = 30.3 px) with
    /// the set OD, the halo brightest at R + 0.75·rim, and the interior unchanged.
    /// The previous two-pass form (the interior collected first with per-channel
    /// `bilinear`, then the halo over the whole bounding box): the reference the single pass
    /// replaces, bit for bit.
    fn two_pass(p: &AirBubbleParams, img: &RgbImage) -> RgbImage {
        use crate::slide::bilinear;
        let (rows, cols) = img.shape();
        let e = Ellipse::new(p, img);
        let [r0, r1, c0, c1] = e.bounding_box(p, rows, cols);
        let mut inside = Vec::new();
        for r in r0..=r1 {
            for c in c0..=c1 {
                let d = e.delta(r as f64, c as f64);
                if d >= 0.0 || !img.in_fov(r, c) {
                    continue;
                }
                let (y, x) = (
                    e.c[0] + (r as f64 - e.c[0]) / p.magnification,
                    e.c[1] + (c as f64 - e.c[1]) / p.magnification,
                );
                let o: [f64; 3] = std::array::from_fn(|k| {
                    bilinear(img, k, y, x).unwrap_or(img.data[[k, r, c]] as f64)
                });
                inside.push((r, c, d, o));
            }
        }
        let mut out = img.data.clone();
        for (r, c, d, o) in inside {
            let rim = rim_profile(p, d);
            for k in 0..3 {
                out[[k, r, c]] = crate::stain::rescale_od(o[k], rim, p.contrast, p.i0) as f32;
            }
        }
        for r in r0..=r1 {
            for c in c0..=c1 {
                let h = halo_profile(p, e.delta(r as f64, c as f64));
                if h > 0.0 && img.in_fov(r, c) {
                    for k in 0..3 {
                        let v = img.data[[k, r, c]] as f64;
                        out[[k, r, c]] = (v * (1.0 + h)).min(p.i0.max(v)) as f32;
                    }
                }
            }
        }
        img.with_data(out).unwrap()
    }

    #[test]
    fn single_pass_matches_two_pass_reference_bit_for_bit() {
        let mask = Array2::from_shape_fn((101, 101), |(r, c)| r + 2 * c > 30);
        let img = image(
            |k, r, c| 0.2 + 0.1 * k as f32 + 0.005 * ((r * 13 + c * 7) % 50) as f32,
            Some(mask),
        );
        for (radius, centre, magnification, angle) in [
            (0.3, 0.5, 1.1, 0.0),
            (0.45, 0.3, 1.05, 30.0),
            (0.2, 0.05, 1.12, 75.0),
        ] {
            let p = AirBubbleParams {
                radius,
                aspect: 0.8,
                angle_deg: angle,
                centre_y: centre,
                centre_x: 0.6,
                magnification,
                contrast: 0.5,
                ..params()
            };
            let got = apply(&p, &img).unwrap();
            let want = two_pass(&p, &img);
            assert!(got
                .data
                .iter()
                .zip(&want.data)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_ne!(got.data, img.data);
        }
    }

    /// The `ρ²` zones (no `δ` deep inside or past the halo): bit for bit the two-pass
    /// reference, which computes `δ` everywhere — thin, thick and no rims (a rim wider than
    /// the minor semi-axis leaves no deep zone), no halo, a very flat ellipse, a bubble of a
    /// few pixels, bubbles centred on the frame's corner and edge, with and without a mask.
    #[test]
    fn zones_match_the_two_pass_reference_bit_for_bit() {
        let mask = Array2::from_shape_fn((101, 101), |(r, c)| {
            (r as f64 - 45.0).hypot(c as f64 - 55.0) < 47.0
        });
        let f = |k: usize, r: usize, c: usize| {
            0.15 + 0.1 * k as f32 + 0.006 * ((r * 11 + c * 5) % 60) as f32
        };
        let masked = image(f, Some(mask));
        let plain = image(f, None);
        let mut cases = 0;
        for img in [&masked, &plain] {
            for (radius, aspect, angle, cy, cx, rim_px, halo) in [
                (0.3, 0.85, 20.0, 0.5, 0.5, 8.0, 0.1),
                (0.4, 0.1, 60.0, 0.45, 0.55, 3.0, 0.2),
                (0.25, 0.6, 110.0, 0.5, 0.4, 0.0, 0.1),
                (0.2, 0.5, 0.0, 0.5, 0.5, 14.0, 0.3),
                (0.03, 1.0, 0.0, 0.52, 0.47, 2.0, 0.1),
                (0.5, 0.9, 45.0, 0.0, 0.0, 10.0, 0.1),
                (0.35, 0.8, 170.0, 1.0, 0.5, 6.0, 0.0),
                (1.5, 0.7, 90.0, 0.5, 0.5, 30.0, 0.5),
            ] {
                let p = AirBubbleParams {
                    radius,
                    aspect,
                    angle_deg: angle,
                    centre_y: cy,
                    centre_x: cx,
                    rim_px,
                    halo,
                    magnification: 1.07,
                    contrast: 0.6,
                    ..params()
                };
                let got = apply(&p, img).unwrap();
                let want = two_pass(&p, img);
                assert!(
                    got.data
                        .iter()
                        .zip(&want.data)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{p:?}"
                );
                assert_ne!(got.data, img.data, "{p:?}");
                cases += 1;
            }
        }
        assert_eq!(cases, 16);
    }

    #[test]
    fn rim_and_halo_positions_on_a_flat_field() {
        let img = image(|_, _, _| 0.6, None);
        let out = apply(&params(), &img).unwrap();
        let row: Vec<f64> = (50..101).map(|c| out.data[[1, 50, c]] as f64).collect();
        let (imin, vmin) =
            row.iter().enumerate().fold(
                (0, f64::MAX),
                |(i, m), (j, &v)| if v < m { (j, v) } else { (i, m) },
            );
        assert_eq!(imin, (30.3f64 - 4.0).round() as usize);
        let rim_od = od(vmin, 1.0) - od(0.6, 1.0);
        // the sampled minimum is within 0.3 px of the rim's centre line
        assert!((rim_od - 1.0).abs() < 0.02, "{rim_od}");
        let (imax, vmax) =
            row.iter().enumerate().fold(
                (0, 0.0),
                |(i, m), (j, &v)| if v > m { (j, v) } else { (i, m) },
            );
        assert_eq!(imax, (30.3f64 + 6.0).round() as usize);
        assert!((vmax / 0.6 - 1.1).abs() < 0.01);
        for c in 50..70 {
            assert!((out.data[[0, 50, c]] - 0.6).abs() < 1e-6);
        }
        assert_eq!(out.data[[0, 50, 100]], 0.6);
        let zero = apply(
            &AirBubbleParams {
                radius: 0.0,
                ..params()
            },
            &img,
        )
        .unwrap();
        assert_eq!(zero.data, img.data);
    }

    /// The content is magnified about the centre and its OD contrast scaled exactly.
    #[test]
    fn magnification_and_contrast() {
        // OD growing linearly along the columns
        let f = |c: usize| 0.2 + 0.004 * c as f64;
        let img = image(|_, _, c| intensity(f(c), 1.0) as f32, None);
        let p = AirBubbleParams {
            rim_px: 0.0,
            halo: 0.0,
            magnification: 1.25,
            ..params()
        };
        let out = apply(&p, &img).unwrap();
        for c in 35..66 {
            let want = f(50) + (c as f64 - 50.0) * 0.004 / 1.25;
            let got = od(out.data[[1, 50, c]] as f64, 1.0);
            assert!((got - want).abs() < 1e-5, "{c}: {got} vs {want}");
        }
        let p = AirBubbleParams {
            magnification: 1.0,
            contrast: 0.5,
            ..p
        };
        let out = apply(&p, &img).unwrap();
        for c in 35..66 {
            let want = 0.5 * f(c);
            let got = od(out.data[[2, 50, c]] as f64, 1.0);
            assert!((got - want).abs() < 1e-5, "{c}: {got} vs {want}");
        }
    }

    #[test]
    fn field_of_view_and_determinism() {
        let mask = Array2::from_shape_fn((101, 101), |(r, _)| r < 55);
        let img = image(
            |k, r, c| 0.3 + 0.1 * k as f32 + 0.002 * ((r * c) % 50) as f32,
            Some(mask.clone()),
        );
        let p = AirBubbleParams {
            aspect: 0.6,
            angle_deg: 30.0,
            magnification: 1.1,
            contrast: 0.6,
            ..params()
        };
        let a = apply(&p, &img).unwrap();
        assert_eq!(a.data, apply(&p, &img).unwrap().data);
        let mut changed = 0;
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            } else if v != img.data[[k, r, c]] {
                changed += 1;
            }
        }
        assert!(changed > 1000);
        assert!(
            AirBubble::apply(&AirBubbleParams { aspect: 0.0, ..p }, &img)
                .unwrap_err()
                .to_string()
                .contains("aspect")
        );
    }
}
