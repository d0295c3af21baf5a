//! Tissue cut: the operator `photo.tissue_cut` — a knife cut or tear through the section: a
//! crack along a curve where tissue is missing (bare glass), with ragged edges, the two sides
//! pulled apart and sheared.
//!
//! # Model
//! The cut follows a smooth curve (a line at `angle_deg` through the point `offset` short
//! sides from the centre along its normal, bent into a parabola of sagitta `bend`). The crack
//! opens by `g = gap` short sides: tissue originally at distance `s ≥ 0` from the line on one
//! side moves to
//!
//! ```text
//! d = s + (g/2)·e^(−s/L)        (normal displacement, relaxing over L = relax short sides)
//! ```
//!
//! and slides along the line by `±(shear_px/2)·e^(−s/L)` (opposite on the two sides).
//! For each output pixel at signed distance `d` the source distance `s` is found by Newton's
//! method (the map is monotone for `L > g/2`, which is enforced; beyond `5L` from
//! the cut the tissue is left in place; the solution is tabulated once per image, see
//! [`SourceTable`], to within 1e-10 px) and the tissue is read there
//! (bilinear). Where `|d| < g/2 + ragged_px·n(p)` (`n` seeded value noise in `[−1, 1]`, cells
//! of `max(2, 2·ragged_px)` px, three octaves: ragged torn edges) there is no tissue: optical
//! density 0, i.e. the blank-slide intensity `i0` (anti-aliased over one pixel).
//! `gap = 0` and `shear_px = 0` is the identity.
//!
//! # Units
//! `gap`, `offset`, `bend`, `relax`: fractions of the shorter side; `ragged_px`, `shear_px`:
//! pixels; `angle_deg`: degrees counter-clockwise from the column axis; `i0`: linear light.
//!
//! # References
//! - S. Kothari et al., "Pathology imaging informatics for quantitative analysis of whole-slide
//!   images", JAMIA 20(6), 2013 (tears and knife marks among slide artefacts).
//! - K. Perlin, "An image synthesizer", SIGGRAPH 1985 (lattice noise for the ragged edge).

use crate::slide::{
    bilinear3, floor_positive, short_side, smoothstep, Curve, FieldStrip, RowNoise,
};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};

artefact_core::params! {
    /// Parameters of [`TissueCut`] (recorded in manifests, replayed exactly).
    pub struct TissueCutParams {
        /// opening of the crack (bare glass), fraction of the shorter side
        pub gap: f64 = float(0.03, [0.0, 0.5], "fraction"),
        /// direction of the cut, counter-clockwise from the column axis
        pub angle_deg: f64 = sampled_float([0.0, 180.0], "deg"),
        /// distance of the cut from the image centre along its normal, fraction of the shorter side
        pub offset: f64 = sampled_float([-0.25, 0.25], "fraction"),
        /// sagitta of the cut's bend over half the image diagonal, fraction of the shorter side
        pub bend: f64 = float(0.05, [-0.5, 0.5], "fraction"),
        /// amplitude of the ragged edges
        pub ragged_px: f64 = float(2.0, [0.0, 50.0], "px"),
        /// relative slide of the two sides along the cut
        pub shear_px: f64 = float(3.0, [0.0, 100.0], "px"),
        /// distance over which the displacement relaxes, fraction of the shorter side
        pub relax: f64 = float(0.03, [0.005, 2.0], "fraction"),
        /// seed of the ragged edges; drawn by `sample` unless fixed
        pub seed: u64 = seed,
        /// blank-slide (glass) intensity in linear light
        pub i0: f64 = float(1.0, [0.05, 2.0], "linear"),
    }
}

/// The operator `photo.tissue_cut` (see the module docs).
pub struct TissueCut;

static INFO: OpInfo = OpInfo {
    name: "photo.tissue_cut",
    modality: "photo",
    doc: "Knife cut or tear: a crack along a curve where the tissue is missing (bare glass, optical density 0) with ragged edges, the two sides pulled apart and sheared with a displacement that relaxes away from the cut.",
    params: TissueCutParams::PARAMS,
};

impl ColourOperator for TissueCut {
    type Params = TissueCutParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<TissueCutParams> {
        Ok(TissueCutParams::sample(spec, rng)?)
    }
    fn apply(p: &TissueCutParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// The cut's centre line on an image of `rows × cols`.
pub fn cut_line(p: &TissueCutParams, rows: usize, cols: usize) -> Result<Curve> {
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

/// Source distance `s ≥ 0` of the tissue seen at distance `d ≥ h` (see module docs): the
/// root of `f(s) = s + h·e^(−s/L) − d` by Newton's method from `s = d` (f is convex and
/// increasing for `L > h`, so the iterates decrease monotonically to the root).
pub fn source_distance(d: f64, h: f64, l: f64) -> f64 {
    let mut s = d;
    for _ in 0..50 {
        let e = h * (-s / l).exp();
        let step = (s + e - d) / (1.0 - e / l);
        s = (s - step).max(0.0);
        if step.abs() < 1e-12 {
            break;
        }
    }
    s
}

/// Node spacing of [`SourceTable`] in `w = √(d − h)` (px^½).
const TABLE_STEP: f64 = 1.0 / 128.0;
/// Largest error (px) of the tabulated source distance, and of the tabulated relaxation
/// times the largest slide, allowed in a cell; cells beyond it are solved exactly.
const TABLE_TOLERANCE_PX: f64 = 1e-10;

/// [`source_distance`] and its relaxation `e^(−s/L)` tabulated over `d ∈ [h, d_max]` on a
/// uniform grid in `w = √(d − h)` (near `d = h` the solution turns like a square root of
/// `d − h` when `L` is close to `h`, and is smooth in `w`): the exact (Newton) values and
/// derivatives at the nodes, cubic Hermite interpolation between them. A cell whose
/// interpolants miss the exact values at its midpoint by more than `TABLE_TOLERANCE_PX`
/// is marked for the exact solve.
pub struct SourceTable {
    h: f64,
    l: f64,
    /// per node: `(s, ds/dw·step, e, de/dw·step)`
    nodes: Vec<[f64; 4]>,
    /// per cell: interpolation within tolerance
    smooth: Vec<bool>,
}

impl SourceTable {
    /// The table for the opening `h`, relaxation `l` and distances up to `d_max`, the
    /// relaxation's errors weighed by `slide` (px of slide per unit relaxation).
    pub fn new(h: f64, l: f64, d_max: f64, slide: f64) -> SourceTable {
        let w_max = (d_max - h).max(0.0).sqrt();
        let cells = ((w_max / TABLE_STEP).ceil() as usize).min(1 << 20);
        let node = |w: f64| -> [f64; 4] {
            let (s, e) = exact_source(h + w * w, h, l);
            // ds/dw = ds/dd · 2w with ds/dd = 1/(1 − h·e/L)
            let ds = 2.0 * w / (1.0 - h * e / l) * TABLE_STEP;
            [s, ds, e, -e * ds / l]
        };
        let nodes: Vec<[f64; 4]> = (0..=cells).map(|j| node(j as f64 * TABLE_STEP)).collect();
        let mut table = SourceTable {
            h,
            l,
            nodes,
            smooth: vec![false; cells],
        };
        for j in 0..cells {
            let w = (j as f64 + 0.5) * TABLE_STEP;
            let (s, e) = table.interpolate(j, 0.5);
            let (s0, e0) = exact_source(h + w * w, h, l);
            table.smooth[j] = (s - s0).abs() <= TABLE_TOLERANCE_PX
                && (e - e0).abs() * slide.max(1.0) <= TABLE_TOLERANCE_PX;
        }
        table
    }

    /// Fraction of the cells that are interpolated (the rest are solved exactly).
    pub fn smooth_fraction(&self) -> f64 {
        if self.smooth.is_empty() {
            return 0.0;
        }
        self.smooth.iter().filter(|&&s| s).count() as f64 / self.smooth.len() as f64
    }

    #[inline]
    fn interpolate(&self, j: usize, t: f64) -> (f64, f64) {
        let (a, b) = (self.nodes[j], self.nodes[j + 1]);
        let (t2, t3) = (t * t, t * t * t);
        let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
        let h10 = t3 - 2.0 * t2 + t;
        let h01 = -2.0 * t3 + 3.0 * t2;
        let h11 = t3 - t2;
        (
            h00 * a[0] + h10 * a[1] + h01 * b[0] + h11 * b[1],
            h00 * a[2] + h10 * a[3] + h01 * b[2] + h11 * b[3],
        )
    }

    /// `(s, e^(−s/L))` at distance `d ≥ h` (exact outside the table and in its rough cells).
    #[inline]
    pub fn eval(&self, d: f64) -> (f64, f64) {
        if d <= self.h {
            // the exact solve at h (node 0), e.g. every pixel in the gap
            let n = self.nodes[0];
            return (n[0], n[2]);
        }
        let u = (d - self.h).sqrt() / TABLE_STEP;
        let j = floor_positive(u);
        if (j as usize) < self.smooth.len() && self.smooth[j as usize] {
            return self.interpolate(j as usize, u - j);
        }
        exact_source(d, self.h, self.l)
    }
}

/// `(s, e^(−s/L))` by the Newton solve of [`source_distance`] (the reference the table
/// replaces).
pub fn exact_source(d: f64, h: f64, l: f64) -> (f64, f64) {
    let s = source_distance(d, h, l);
    (s, (-s / l).exp())
}

/// Cut the section (see module docs).
pub fn apply(p: &TissueCutParams, img: &RgbImage) -> Result<RgbImage> {
    apply_by(p, img, Source::Table, false)
}

/// How [`apply_by`] finds the source distance of a pixel.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Source {
    /// [`SourceTable`] (the operator's path)
    Table,
    /// the Newton solve at every pixel (the tests' reference)
    #[cfg_attr(not(test), allow(dead_code))]
    Exact,
}

/// [`apply`] with the source distance by `source`, and the edge noise evaluated at every
/// pixel within reach when `noise_everywhere` (the tests' reference for the band).
///
/// The cut line's field is filled strip by strip over the rows and columns it can reach
/// (reused buffers, no full-frame temporaries): the bytes of the full-frame field
/// (`apply_full_field`, checked bit for bit by the tests).
fn apply_by(
    p: &TissueCutParams,
    img: &RgbImage,
    source: Source,
    noise_everywhere: bool,
) -> Result<RgbImage> {
    if p.gap == 0.0 && p.shear_px == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let cut = Cut::new(p, img, source);
    let line = cut_line(p, rows, cols)?;
    // outside the window no pixel lies within reach (Curve::window)
    let (r0, r1, c0, c1) = line.window(rows, cols, cut.reach);
    let segments = line.segments(cut.reach);
    let mut out = img.data.clone();
    let mut strip = FieldStrip::default();
    let width = c1 - c0;
    for top in (r0..r1).step_by(STRIP_ROWS) {
        let height = STRIP_ROWS.min(r1 - top);
        segments.fill([top, c0], [height, width], &mut strip);
        for i in 0..height {
            let mut row = cut.row_noise(top + i);
            for j in 0..width {
                let at = i * width + j;
                let (d, n) = (strip.dist[at], strip.normal[at]);
                let mut noise = |x| row.at(x);
                cut.pixel(
                    img,
                    &mut out,
                    top + i,
                    c0 + j,
                    d,
                    n,
                    &mut noise,
                    noise_everywhere,
                );
            }
        }
    }
    Ok(img.with_data(out)?)
}

/// Rows of a field strip (a strip's buffers stay in cache).
const STRIP_ROWS: usize = 16;

/// What the cut needs per pixel besides its field.
struct Cut<'a> {
    p: &'a TissueCutParams,
    h: f64,
    l: f64,
    reach: f64,
    cell: f64,
    table: Option<SourceTable>,
}

impl<'a> Cut<'a> {
    fn new(p: &'a TissueCutParams, img: &RgbImage, source: Source) -> Cut<'a> {
        let short = short_side(img);
        let h = p.gap * short / 2.0;
        let l = (p.relax * short).max(0.51 * p.gap * short).max(1e-3);
        let reach = h + p.ragged_px + 5.0 * l + 0.5 * p.shear_px + 2.0;
        let cell = (2.0 * p.ragged_px).max(2.0);
        // (the field holds distances up to `reach`)
        let table =
            (source == Source::Table).then(|| SourceTable::new(h, l, reach, 0.5 * p.shear_px));
        Cut {
            p,
            h,
            l,
            reach,
            cell,
            table,
        }
    }

    /// The noise of the ragged edge along row `r` (`value_noise` of the seed, three octaves).
    fn row_noise(&self, r: usize) -> RowNoise {
        RowNoise::new(self.p.seed, r as f64, self.cell, 3)
    }

    /// The output at pixel `(r, c)` of signed distance `d` and normal `n` into `out`
    /// (`noise`: the edge noise of the row at a column, `value_noise` of the seed, three
    /// octaves, cells of `self.cell`).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn pixel(
        &self,
        img: &RgbImage,
        out: &mut ndarray::Array3<f32>,
        r: usize,
        c: usize,
        d: f64,
        n: [f64; 2],
        noise: &mut impl FnMut(f64) -> f64,
        noise_everywhere: bool,
    ) {
        let (p, h) = (self.p, self.h);
        if !d.is_finite() || !img.in_fov(r, c) {
            return;
        }
        // the ragged edge lies within h ± ragged_px (the noise is in [−1, 1]): beyond
        // h + ragged_px + 0.5 the smoothstep is exactly 1 whatever the noise, so the noise
        // is evaluated only in that band (the same values as evaluating it everywhere)
        let tissue = if !noise_everywhere && d.abs() >= h + p.ragged_px.abs() + 0.5 {
            1.0
        } else {
            let edge = h + p.ragged_px * noise(c as f64);
            if edge <= 0.0 {
                1.0
            } else {
                smoothstep(edge - 0.5, edge + 0.5, d.abs())
            }
        };
        let t = [-n[1], n[0]];
        let side = if d < 0.0 { -1.0 } else { 1.0 };
        let (s, relax) = match &self.table {
            Some(table) => table.eval(d.abs().max(h)),
            None => exact_source(d.abs().max(h), h, self.l),
        };
        let back = d.abs() - s;
        let slide = side * 0.5 * p.shear_px * relax;
        let (y, x) = (
            r as f64 - side * back * n[0] - slide * t[0],
            c as f64 - side * back * n[1] - slide * t[1],
        );
        let v = if tissue > 0.0 {
            bilinear3(img, y, x)
        } else {
            None
        };
        for k in 0..3 {
            let v = if tissue > 0.0 {
                v.map_or(img.data[[k, r, c]] as f64, |v| v[k])
            } else {
                0.0
            };
            out[[k, r, c]] = (tissue * v + (1.0 - tissue) * p.i0) as f32;
        }
    }
}

/// [`apply_by`] over the full-frame field and every pixel of the frame (the reference the
/// strips replace).
#[cfg(test)]
fn apply_full_field(
    p: &TissueCutParams,
    img: &RgbImage,
    source: Source,
    noise_everywhere: bool,
) -> Result<RgbImage> {
    if p.gap == 0.0 && p.shear_px == 0.0 {
        return Ok(img.clone());
    }
    let (rows, cols) = img.shape();
    let cut = Cut::new(p, img, source);
    let field = cut_line(p, rows, cols)?.field(rows, cols, cut.reach);
    let mut out = img.data.clone();
    for r in 0..rows {
        for c in 0..cols {
            let (d, n) = (field.dist[[r, c]], field.normal[[r, c]]);
            let mut noise = |x| crate::slide::value_noise(p.seed, r as f64, x, cut.cell, 3);
            cut.pixel(img, &mut out, r, c, d, n, &mut noise, noise_everywhere);
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::{Array2, Array3};

    fn image(f: impl Fn(usize, usize, usize) -> f32, fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 101, 120), |(k, r, c)| f(k, r, c)),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn params() -> TissueCutParams {
        TissueCutParams {
            gap: 0.1,
            angle_deg: 0.0,
            offset: 0.0,
            bend: 0.0,
            ragged_px: 0.0,
            shear_px: 0.0,
            relax: 0.1,
            seed: 1,
            i0: 1.0,
        }
    }

    /// A straight cut without raggedness: bare glass over exactly the gap (10.1 px around the
    /// centre row), and the tissue on each side displaced by the relaxing opening.
    #[test]
    fn gap_is_bare_glass_and_sides_move_apart() {
        // a row ramp: the value encodes the row
        let f = |r: f64| 0.2 + 0.005 * r;
        let img = image(|_, r, _| f(r as f64) as f32, None);
        let p = params();
        let out = apply(&p, &img).unwrap();
        let h = 0.1 * 101.0 / 2.0;
        let l = 0.1 * 101.0;
        for r in 0..101 {
            let d = r as f64 - 50.0;
            let got = out.data[[1, r, 60]] as f64;
            if d.abs() < h - 0.5 {
                assert_eq!(got, 1.0, "row {r}");
            } else if d.abs() > h + 0.5 {
                // tissue from s, with s + h·e^(−s/L) = |d|
                let s = source_distance(d.abs(), h, l);
                assert!((s + h * (-s / l).exp() - d.abs()).abs() < 1e-9);
                let want = f(50.0 + d.signum() * s);
                assert!((got - want).abs() < 1e-5, "row {r}: {got} vs {want}");
            }
        }
        // far from the cut (5 L) the displacement has relaxed below 1 % of the opening
        let moved = (out.data[[0, 0, 60]] as f64 - f(0.0)).abs() / 0.005;
        assert!(moved < 0.01 * h, "{moved} px");
        let zero = apply(
            &TissueCutParams {
                gap: 0.0,
                ..params()
            },
            &img,
        )
        .unwrap();
        assert_eq!(zero.data, img.data);
    }

    /// Shear: a column ramp slides by ±shear/2 at the lips, in opposite directions.
    #[test]
    fn shear_slides_the_two_sides_oppositely() {
        let img = image(|_, _, c| 0.2 + 0.004 * c as f32, None);
        let p = TissueCutParams {
            gap: 0.0,
            shear_px: 6.0,
            ..params()
        };
        let out = apply(&p, &img).unwrap();
        let shift = |r: usize| (out.data[[0, r, 60]] - img.data[[0, r, 60]]) as f64 / 0.004;
        let (above, below) = (shift(49), shift(51));
        assert!(above * below < 0.0, "{above} {below}");
        // at 1 px from the line the slide is 3·e^(−1/L)
        let want = 3.0 * (-1.0 / (0.1 * 101.0f64)).exp();
        assert!((above.abs() - want).abs() < 1e-3, "{above} vs {want}");
    }

    /// The edge noise evaluated at every pixel within reach (the reference the band test
    /// replaces) gives the same bytes.
    #[test]
    fn noise_only_in_the_edge_band_is_bit_for_bit() {
        let img = image(
            |k, r, c| 0.3 + 0.1 * k as f32 + 0.001 * ((r * 7 + c) % 40) as f32,
            None,
        );
        for (ragged, angle) in [(3.0, 20.0), (6.0, 75.0), (0.0, 130.0)] {
            let p = TissueCutParams {
                ragged_px: ragged,
                shear_px: 4.0,
                angle_deg: angle,
                bend: 0.1,
                gap: 0.08,
                ..params()
            };
            let want = apply_by(&p, &img, Source::Exact, true).unwrap();
            let got = apply_by(&p, &img, Source::Exact, false).unwrap();
            assert!(got
                .data
                .iter()
                .zip(&want.data)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    /// The strip-by-strip operator against the full-frame field over every pixel, bit for bit:
    /// cuts at several angles, bends and offsets (reach past the frame's edges, the cut line
    /// partly outside), with and without a field of view, with the table and the exact solve.
    #[test]
    fn strips_match_the_full_frame_field_bit_for_bit() {
        let mask = Array2::from_shape_fn((101, 120), |(r, c)| r + c > 30 && c < 110);
        for fov in [None, Some(mask)] {
            let img = image(
                |k, r, c| 0.3 + 0.1 * k as f32 + 0.001 * ((r * 7 + c) % 40) as f32,
                fov,
            );
            for angle in [0.0, 20.0, 75.0, 90.0, 160.0] {
                for (offset, bend, gap) in [(0.0, 0.1, 0.08), (0.24, -0.4, 0.3), (-0.2, 0.0, 0.0)] {
                    let p = TissueCutParams {
                        ragged_px: 4.0,
                        shear_px: 5.0,
                        angle_deg: angle,
                        offset,
                        bend,
                        gap,
                        relax: 0.2,
                        ..params()
                    };
                    for source in [Source::Table, Source::Exact] {
                        let want = apply_full_field(&p, &img, source, false).unwrap();
                        let got = apply_by(&p, &img, source, false).unwrap();
                        assert!(
                            got.data
                                .iter()
                                .zip(&want.data)
                                .all(|(a, b)| a.to_bits() == b.to_bits()),
                            "{p:?} {source:?}"
                        );
                        assert_ne!(got.data, img.data);
                    }
                }
            }
        }
    }

    /// The tabulated source distance and relaxation against the Newton solve on a fixed
    /// sweep (opening close to the relaxation length, where `s(d)` is steep, and far from
    /// it): within the table's tolerance, with most cells interpolated.
    #[test]
    fn source_table_matches_the_newton_solve() {
        for (h, l, slide) in [(46.0, 47.0, 4.0), (25.0, 30.7, 2.0), (5.05, 10.1, 3.0)] {
            let d_max = h + 5.0 * l + 10.0;
            let table = SourceTable::new(h, l, d_max, slide);
            assert!(table.smooth_fraction() > 0.9, "{}", table.smooth_fraction());
            let mut worst = (0.0f64, 0.0f64);
            for i in 0..200_000 {
                // a fixed irrational-step sweep of [h, d_max + 1] (past the table's end too)
                let d = h + ((i as f64 * 0.618_033_988_749_895) % 1.0) * (d_max + 1.0 - h);
                let (s, e) = table.eval(d);
                let (s0, e0) = exact_source(d, h, l);
                worst = (worst.0.max((s - s0).abs()), worst.1.max((e - e0).abs()));
            }
            assert!(
                worst.0 < 1e-9 && worst.1 * slide < 1e-9,
                "{h} {l}: {worst:?}"
            );
            assert_eq!(table.eval(h), exact_source(h, h, l));
        }
    }

    /// The operator (tabulated source) against the Newton solve at every pixel on a
    /// fixed-seed textured image: the same up to the last bits of f32.
    #[test]
    fn tabulated_cut_matches_the_exact_reference() {
        let img = image(
            |k, r, c| {
                let x = (r * 131 + c * 71 + k * 29) as f64;
                (0.2 + 0.6 * (0.5 + 0.5 * (x * 0.37).sin())) as f32
            },
            None,
        );
        for (ragged, angle, gap, relax) in [(3.0, 20.0, 0.08, 0.03), (6.0, 75.0, 0.09, 0.1)] {
            let p = TissueCutParams {
                ragged_px: ragged,
                shear_px: 6.0,
                angle_deg: angle,
                bend: 0.1,
                gap,
                relax,
                ..params()
            };
            let want = apply_by(&p, &img, Source::Exact, false).unwrap();
            let got = apply(&p, &img).unwrap();
            let worst = got
                .data
                .iter()
                .zip(&want.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst <= 1e-6, "{worst}");
        }
    }

    #[test]
    fn ragged_edges_fov_and_seeds() {
        let mask = Array2::from_shape_fn((101, 120), |(_, c)| c > 20);
        let img = image(
            |k, r, c| 0.3 + 0.1 * k as f32 + 0.001 * ((r + c) % 40) as f32,
            Some(mask.clone()),
        );
        let p = TissueCutParams {
            ragged_px: 3.0,
            shear_px: 4.0,
            angle_deg: 20.0,
            bend: 0.1,
            ..params()
        };
        let a = apply(&p, &img).unwrap();
        assert_eq!(a.data, apply(&p, &img).unwrap().data);
        assert_ne!(
            a.data,
            apply(
                &TissueCutParams {
                    seed: 2,
                    ..p.clone()
                },
                &img
            )
            .unwrap()
            .data
        );
        for ((k, r, c), &v) in a.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            }
        }
        // the glass area is about gap × length (ragged edges average out)
        let glass = a.channel(0).iter().filter(|&&v| v > 0.99).count() as f64;
        let want = 0.1 * 101.0 * 99.0 / 20f64.to_radians().cos();
        assert!((glass / want - 1.0).abs() < 0.25, "{glass} vs {want}");
        assert!(TissueCut::apply(&TissueCutParams { gap: 0.9, ..p }, &img)
            .unwrap_err()
            .to_string()
            .contains("gap"));
    }
}
