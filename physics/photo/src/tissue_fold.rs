//! Tissue fold: the operator `photo.tissue_fold` — a band where the section has folded over
//! itself, so light crosses two layers and their optical densities add.
//!
//! # Model
//! The fold line is a smooth curve (a line at `angle_deg` through the point `offset` short
//! sides from the image centre along its normal, bent into a parabola of sagitta `bend`). For
//! a pixel `p` at signed distance `d` from it (nearest point `f`, unit normal `n`), the band is
//! `0 ≤ d ≤ w`. The tissue on the other side of the hinge is folded onto the band: its second
//! layer at `p` is the tissue at the mirror point `p' = f − d·n = p − 2d·n`. By Beer–Lambert
//! the band's optical density is the sum of the two layers,
//!
//! ```text
//! OD'(p) = OD(p) + m(d) · layer · max(OD(p'), 0),     OD = −log10(I / I₀)
//! ```
//!
//! with `m(d)` the band mask, 1 inside and falling to 0 by a smoothstep over `edge_px` at both
//! borders (the slightly blurred edges of the folded-over layer), and `layer` the folded layer's
//! thickness relative to the section. Folds are therefore darker and more saturated (a
//! stain's OD doubles, its hue is kept). `OD(p')` is read bilinearly; where `p'` falls outside
//! the field of view there is no second layer. `width = 0` is the identity.
//!
//! # Units
//! `width`, `offset`, `bend`: fractions of the image's shorter side; `edge_px`: pixels;
//! `angle_deg`: degrees counter-clockwise from the column axis; `i0`: linear light of glass.
//!
//! # References
//! - A. C. Ruifrok, D. A. Johnston, Anal. Quant. Cytol. Histol. 23(4), 2001 (OD additivity).
//! - S. Kothari et al., "Eliminating tissue-fold artifacts in histopathological whole-slide
//!   images for improved image-based prediction of cancer grade", J. Pathol. Inform. 4, 2013
//!   (folds: darker, more saturated double layers).

use crate::slide::{bilinear3, short_side, smoothstep, Curve, FieldStrip};
use crate::stain::od_ln;
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};

artefact_core::params! {
    /// Parameters of [`TissueFold`] (recorded in manifests, replayed exactly).
    pub struct TissueFoldParams {
        /// width of the folded (double-layer) band, as a fraction of the shorter side
        pub width: f64 = float(0.08, [0.0, 0.6], "fraction"),
        /// direction of the fold line, counter-clockwise from the column axis
        pub angle_deg: f64 = sampled_float([0.0, 180.0], "deg"),
        /// distance of the fold line from the image centre along its normal, fraction of the shorter side
        pub offset: f64 = sampled_float([-0.25, 0.25], "fraction"),
        /// sagitta of the fold line's bend over half the image diagonal, fraction of the shorter side
        pub bend: f64 = float(0.05, [-0.5, 0.5], "fraction"),
        /// thickness of the folded-over layer relative to the section (its OD factor)
        pub layer: f64 = float(1.0, [0.0, 3.0], "factor"),
        /// width of the soft borders of the band
        pub edge_px: f64 = float(2.0, [0.0, 50.0], "px"),
        /// blank-slide (glass) intensity in linear light
        pub i0: f64 = float(1.0, [0.05, 2.0], "linear"),
    }
}

/// The operator `photo.tissue_fold` (see the module docs).
pub struct TissueFold;

static INFO: OpInfo = OpInfo {
    name: "photo.tissue_fold",
    modality: "photo",
    doc: "Tissue fold: a curved band where the section lies folded over itself; the band's optical density is the sum of the tissue and its mirror image across the fold line (Beer–Lambert), with soft edges.",
    params: TissueFoldParams::PARAMS,
};

impl ColourOperator for TissueFold {
    type Params = TissueFoldParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<TissueFoldParams> {
        Ok(TissueFoldParams::sample(spec, rng)?)
    }
    fn apply(p: &TissueFoldParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// The fold line of `p` on an image of `rows × cols`.
pub fn fold_line(p: &TissueFoldParams, rows: usize, cols: usize) -> Result<Curve> {
    let short = rows.min(cols) as f64;
    let half = (rows as f64).hypot(cols as f64);
    let a = p.angle_deg.to_radians();
    let n = [-a.cos(), -a.sin()];
    let centre = [
        (rows as f64 - 1.0) / 2.0 + p.offset * short * n[0],
        (cols as f64 - 1.0) / 2.0 + p.offset * short * n[1],
    ];
    Curve::bent_line(centre, p.angle_deg, p.bend * short, half)
}

/// Add the folded-over layer (see module docs).
///
/// The fold line's field is filled strip by strip over the rows and columns it can reach
/// (reused buffers, no full-frame temporaries), and each band pixel's second layer is
/// composited as it is found: the bytes of building the full field and the three layer
/// planes and compositing them (`composite_od`), which the tests check bit for bit.
pub fn apply(p: &TissueFoldParams, img: &RgbImage) -> Result<RgbImage> {
    if p.width == 0.0 || p.layer == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let w = p.width * short_side(img);
    let e = p.edge_px;
    let reach = w + e + 1.0;
    let line = fold_line(p, rows, cols)?;
    // outside the window no pixel lies within reach (Curve::window)
    let (r0, r1, c0, c1) = line.window(rows, cols, reach);
    let segments = line.segments(reach);
    let mut out = img.data.clone();
    let mut strip = FieldStrip::default();
    let width = c1 - c0;
    for top in (r0..r1).step_by(STRIP_ROWS) {
        let height = STRIP_ROWS.min(r1 - top);
        segments.fill([top, c0], [height, width], &mut strip);
        for i in 0..height {
            let r = top + i;
            for j in 0..width {
                let (c, at) = (c0 + j, i * width + j);
                let d = strip.dist[at];
                if !d.is_finite() || !img.in_fov(r, c) {
                    continue;
                }
                let m = smoothstep(-e / 2.0, e / 2.0, d)
                    * (1.0 - smoothstep(w - e / 2.0, w + e / 2.0, d));
                if m <= 0.0 {
                    continue;
                }
                let n = strip.normal[at];
                let (y, x) = (r as f64 - 2.0 * d * n[0], c as f64 - 2.0 * d * n[1]);
                if y < -0.5 || x < -0.5 || y > rows as f64 - 0.5 || x > cols as f64 - 0.5 {
                    continue;
                }
                // the three channels' `bilinear` values (one field-of-view test)
                let Some(v) = bilinear3(img, y, x) else {
                    continue;
                };
                for (k, v) in v.into_iter().enumerate() {
                    let od = m * p.layer * od_ln(v, p.i0).max(0.0);
                    // `composite_od` of this layer value
                    if od != 0.0 {
                        let o = &mut out[[k, r, c]];
                        *o = (*o as f64 * (-od * std::f64::consts::LN_10).exp()) as f32;
                    }
                }
            }
        }
    }
    Ok(img.with_data(out)?)
}

/// Rows of a field strip (a strip's buffers stay in cache).
const STRIP_ROWS: usize = 16;

/// The operator's layer built in full (full-frame field, three layer planes, `bilinear` per
/// channel) and composited by `composite_od`: the reference [`apply`] must match bit for bit.
#[cfg(test)]
fn apply_reference(p: &TissueFoldParams, img: &RgbImage) -> Result<RgbImage> {
    use crate::slide::{bilinear, composite_od};
    use ndarray::Array2;
    if p.width == 0.0 || p.layer == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let w = p.width * short_side(img);
    let e = p.edge_px;
    let field = fold_line(p, rows, cols)?.field(rows, cols, w + e + 1.0);
    let mut layer: [Array2<f64>; 3] = std::array::from_fn(|_| Array2::zeros((rows, cols)));
    for r in 0..rows {
        for c in 0..cols {
            let d = field.dist[[r, c]];
            if !d.is_finite() || !img.in_fov(r, c) {
                continue;
            }
            let m =
                smoothstep(-e / 2.0, e / 2.0, d) * (1.0 - smoothstep(w - e / 2.0, w + e / 2.0, d));
            if m <= 0.0 {
                continue;
            }
            let n = field.normal[[r, c]];
            let (y, x) = (r as f64 - 2.0 * d * n[0], c as f64 - 2.0 * d * n[1]);
            if y < -0.5 || x < -0.5 || y > rows as f64 - 0.5 || x > cols as f64 - 0.5 {
                continue;
            }
            for k in 0..3 {
                if let Some(v) = bilinear(img, k, y, x) {
                    layer[k][[r, c]] = m * p.layer * od_ln(v, p.i0).max(0.0);
                }
            }
        }
    }
    composite_od(img, &layer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stain::od;
    use artefact_core::Modality;
    use ndarray::{Array2, Array3};

    fn params() -> TissueFoldParams {
        TissueFoldParams {
            width: 0.2,
            angle_deg: 0.0,
            offset: 0.0,
            bend: 0.0,
            layer: 1.0,
            edge_px: 2.0,
            i0: 1.0,
        }
    }

    fn image(f: impl Fn(usize, usize, usize) -> f64, fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 61, 80), |(k, r, c)| {
                crate::stain::intensity(f(k, r, c), 1.0) as f32
            }),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn od_of(x: &RgbImage, k: usize, r: usize, c: usize) -> f64 {
        od(x.data[[k, r, c]] as f64, 1.0)
    }

    /// A uniform section: the band's OD is exactly twice the section's, outside it nothing
    /// changes; the band covers width × length.
    #[test]
    fn uniform_section_doubles_od_in_the_band() {
        let ods = [0.3, 0.5, 0.2];
        let img = image(|k, _, _| ods[k], None);
        let out = apply(&params(), &img).unwrap();
        let mut inside = 0;
        for r in 0..61 {
            for c in 0..80 {
                let g = od_of(&out, 1, r, c) / ods[1];
                if (g - 2.0).abs() < 1e-5 {
                    inside += 1;
                    for k in 0..3 {
                        assert!((od_of(&out, k, r, c) - 2.0 * ods[k]).abs() < 1e-5);
                    }
                } else {
                    assert!((1.0..=2.0).contains(&(g + 1e-6)), "{g}");
                }
            }
        }
        // horizontal line through the centre row 30, band rows with d in [1, 11] fully inside
        // (width 0.2·61 = 12.2 px, soft borders 1 px on each side)
        let rows_full = inside as f64 / 80.0;
        assert!((rows_full - 11.0).abs() <= 1.0, "{rows_full} rows");
        let id = apply(
            &TissueFoldParams {
                width: 0.0,
                ..params()
            },
            &img,
        )
        .unwrap();
        assert_eq!(id.data, img.data);
    }

    /// The second layer is the mirror image across the fold line: on a section whose OD grows
    /// linearly down the rows, OD'(r) − OD(r) = OD(r − 2d).
    #[test]
    fn second_layer_is_the_mirror_image() {
        let f = |k: usize, r: usize| 0.1 + 0.01 * r as f64 + 0.05 * k as f64;
        let img = image(|k, r, _| f(k, r), None);
        let p = params();
        let out = apply(&p, &img).unwrap();
        let field = fold_line(&p, 61, 80).unwrap().field(61, 80, 20.0);
        let mut checked = 0;
        for r in 0..61 {
            let d = field.dist[[r, 40]];
            if d > 1.5 && d < 10.0 {
                let n = field.normal[[r, 40]];
                let mirror = r as f64 - 2.0 * d * n[0];
                for k in 0..3 {
                    let want = 0.1 + 0.01 * mirror + 0.05 * k as f64;
                    let got = od_of(&out, k, r, 40) - od_of(&img, k, r, 40);
                    assert!((got - want).abs() < 1e-5, "r {r} d {d}: {got} vs {want}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 7, "{checked}");
    }

    /// The strip-by-strip operator against the full-frame reference (full field, three layer
    /// planes, `composite_od`) bit for bit: folds across the frame at several angles, bends and
    /// offsets (band partly or wholly outside the frame, mirror points outside it), with and
    /// without a field of view, on a textured image, several strip boundaries.
    #[test]
    fn strips_match_the_full_frame_reference_bit_for_bit() {
        let mask = Array2::from_shape_fn((61, 80), |(r, c)| {
            (r as f64 - 30.0).hypot(c as f64 - 40.0) < 38.0
        });
        for fov in [None, Some(mask)] {
            let img = image(
                |k, r, c| {
                    0.1 + 0.2 * k as f64
                        + 0.3 * (0.5 + 0.5 * ((r * 13 + c * 7) as f64 * 0.31).sin())
                },
                fov,
            );
            let mut n = 0;
            for angle in [0.0, 17.0, 45.0, 90.0, 133.0, 179.0] {
                for (offset, bend) in [(0.0, 0.0), (0.2, 0.3), (-0.25, -0.5), (0.1, 0.05)] {
                    for (width, edge) in [(0.3, 2.0), (0.6, 7.5), (0.05, 0.0)] {
                        let p = TissueFoldParams {
                            width,
                            angle_deg: angle,
                            offset,
                            bend,
                            layer: 1.3,
                            edge_px: edge,
                            i0: 0.9,
                        };
                        let want = apply_reference(&p, &img).unwrap();
                        let got = apply(&p, &img).unwrap();
                        assert!(
                            got.data
                                .iter()
                                .zip(&want.data)
                                .all(|(a, b)| a.to_bits() == b.to_bits()),
                            "{p:?}"
                        );
                        n += (got.data != img.data) as usize;
                    }
                }
            }
            assert!(n > 50, "{n}");
        }
    }

    #[test]
    fn field_of_view_untouched_and_deterministic() {
        let mask = Array2::from_shape_fn((61, 80), |(r, c)| r > 5 && c < 70);
        let img = image(
            |k, r, c| 0.2 + 0.1 * k as f64 + 0.002 * (r * c) as f64,
            Some(mask.clone()),
        );
        let p = TissueFoldParams {
            angle_deg: 35.0,
            bend: 0.1,
            offset: 0.1,
            ..params()
        };
        let a = apply(&p, &img).unwrap();
        assert_eq!(a.data, apply(&p, &img).unwrap().data);
        let mut changed = 0;
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            } else if v < img.data[[k, r, c]] {
                changed += 1;
            }
            assert!(v <= img.data[[k, r, c]]);
        }
        assert!(changed > 500);
        let other = apply(
            &TissueFoldParams {
                angle_deg: 80.0,
                ..p.clone()
            },
            &img,
        )
        .unwrap();
        assert_ne!(other.data, a.data);
        assert!(
            TissueFold::apply(&TissueFoldParams { width: 2.0, ..p }, &img)
                .unwrap_err()
                .to_string()
                .contains("width")
        );
    }
}
