//! The imaging field of an ultrasound frame found from its pixels, for objects without a
//! Sequence of Ultrasound Regions (0018,6011).
//!
//! Model: the B-mode field is the one large connected area of speckle texture; outside it the
//! scanner draws on a constant background (text, depth and grey scales, logos, colour bars).
//! Its outline is either a rectangle (linear probe) or an annular sector (convex or phased
//! probe: two straight side edges meeting at an apex at or above the top of the field, a near
//! arc and a far arc centred on the apex).
//!
//! Steps, on the frame's luminance scaled to `[0, 1]` by its minimum and 99.9th percentile:
//! 1. *texture*: a pixel is textured when the standard deviation of its 7 × 7 neighbourhood
//!    is at least 0.02 and no exact value fills half of its 5 × 5 neighbourhood (a flat
//!    background with text, scales and bars on it is not);
//! 2. an opening with a 3 × 3 square removes strokes up to 2 px wide (text, tick marks, box
//!    edges) so text next to the field does not join it, a closing with a 7 × 7 square joins
//!    sparse texture (shadows); the largest 4-connected component is kept and its holes
//!    (anechoic areas surrounded by tissue) filled, and so are the areas of its bounding box
//!    not reachable from the frame's border through the background value (the frame's most
//!    common exact value): dark tissue at the field's edge is drawn with other values;
//! 3. *views side by side*: where two views touch (a dual display), adjacent columns of one
//!    view are strongly correlated (speckle is wider than a pixel) but the two columns at the
//!    seam are not: a column pair with correlation below 0.3 whose neighbours (±10 columns)
//!    have a median above 0.6, at least a quarter of the width from either side, splits the
//!    component; the larger part is kept (the left on a tie);
//! 4. *fit*: from the component's outline — leftmost and rightmost column of each row, top
//!    and bottom row of each column — the side edges are fitted as straight lines by an
//!    exhaustive consensus search over pairs of rows (inliers within 1.5 px, then least
//!    squares on the inliers). Near-vertical sides (|slope| < 0.03) give a rectangle whose
//!    edges are the modes (±2 px) of the outline; diverging sides give a sector with the apex
//!    at their intersection, the far radius the mode of the bottom outline's distances from
//!    the apex (else its 98th percentile) and the near radius the mode of the top outline's
//!    (else its 2nd percentile; under 6 px it is 0: a phased probe's field starts at the apex);
//! 5. *confidence*: the field must cover at least 2 % of the frame and leave a surround (at
//!    most 97 % of the frame), both side edges must hold at least half of the outline rows
//!    as inliers, the fitted shape and the component must overlap (intersection over union)
//!    by at least 0.8, and at least 70 % of the frame outside the field (and outside a
//!    second view beside it) must be flat-coded and without texture (a scanner draws its
//!    surround, text and scales with a few exact values; the noisy air of a CT or MR slice,
//!    a photograph, is not).
//!
//! The result is a [`Region`](crate::us_region::Region) like the one a region sequence gives
//! (bounding box, no physical size), with the sector kept so everything outside it is blanked.

use crate::us_region::{Region, Sector};

/// Why no field was found, in words for an error message.
pub(crate) type Failure = String;

/// Activity threshold: 3 × 3 standard deviation, in units of the frame's range.
const ACTIVE_STD: f64 = 0.02;

/// Find the imaging field of a `rows × cols` luminance frame.
pub(crate) fn detect_field(luma: &[f32], rows: usize, cols: usize) -> Result<Region, Failure> {
    if rows < 32 || cols < 32 || luma.len() != rows * cols {
        return Err(format!(
            "the frame ({rows} × {cols}) is too small to hold a scan field"
        ));
    }
    let (active, flat) = activity(luma, rows, cols);
    let opened = dilate(&erode(&active, rows, cols), rows, cols);
    // close gaps of sparse texture (shadows, dark tissue) up to 6 px
    let mut closed = opened;
    for _ in 0..3 {
        closed = dilate(&closed, rows, cols);
    }
    for _ in 0..3 {
        closed = erode_in_frame(&closed, rows, cols);
    }
    let mut comp = largest_component(&closed, rows, cols);
    let n = rows * cols;
    let size = comp.iter().filter(|c| **c).count();
    if size * 50 < n {
        return Err(format!(
            "no large textured area (the largest covers {:.1} % of the frame)",
            100.0 * size as f64 / n as f64
        ));
    }
    fill_holes(&mut comp, rows, cols);
    fill_dark(&mut comp, luma, rows, cols);
    // both views of a dual display, before one is chosen: the other is not "outside"
    let views = comp.clone();
    split_views(&mut comp, luma, rows, cols);
    let comp = largest_component(&comp, rows, cols);
    let size = comp.iter().filter(|c| **c).count();
    if size * 50 < n {
        return Err("no large textured area after separating side-by-side views".into());
    }
    let fit = fit_shape(&comp, rows, cols)?;
    let model = fit.mask(rows, cols);
    let (mut inter, mut union, mut area) = (0usize, 0usize, 0usize);
    for (m, c) in model.iter().zip(&comp) {
        inter += (*m && *c) as usize;
        union += (*m || *c) as usize;
        area += *m as usize;
    }
    let iou = inter as f64 / union.max(1) as f64;
    if area * 50 < n {
        return Err("the fitted field covers less than 2 % of the frame".into());
    }
    if area * 100 > n * 97 {
        return Err(
            "the textured area fills the whole frame: no flat surround as a scanner draws it \
             (not an ultrasound screen, or already cropped)"
                .into(),
        );
    }
    if iou < 0.8 {
        return Err(format!(
            "the textured area's outline fits neither a sector nor a rectangle (overlap {iou:.2})"
        ));
    }
    let outside = model
        .iter()
        .zip(&views)
        .filter(|(m, v)| !**m && !**v)
        .count();
    let busy = (0..n)
        .filter(|&p| !model[p] && !views[p] && (active[p] || !flat[p]))
        .count();
    if busy * 10 > outside * 3 {
        return Err(format!(
            "{:.0} % of the frame outside the textured area is not flat (a scanner draws \
             around its field with a few exact values; this looks like another kind of image)",
            100.0 * busy as f64 / outside.max(1) as f64
        ));
    }
    let (mut x0, mut y0, mut x1, mut y1) = (cols, rows, 0, 0);
    for (p, m) in model.iter().enumerate() {
        if *m {
            let (y, x) = (p / cols, p % cols);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    Ok(Region {
        x0,
        y0,
        x1,
        y1,
        spacing_mm: None,
        graphics: Vec::new(),
        sector: match fit {
            Shape::Rect { .. } => None,
            Shape::Sector(s) => Some(s),
        },
    })
}

/// Speckle texture: pixels whose 7 × 7 neighbourhood varies (standard deviation ≥
/// [`ACTIVE_STD`] of the range) and is not flat-coded (no single exact value fills half of
/// its 5 × 5 neighbourhood: a scanner's background with text, scales and bars on it does,
/// speckle even at 6 bits does not).
fn activity(luma: &[f32], rows: usize, cols: usize) -> (Vec<bool>, Vec<bool>) {
    let mut sorted: Vec<f32> = luma.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return (vec![false; rows * cols], vec![false; rows * cols]);
    }
    sorted.sort_unstable_by(f32::total_cmp);
    let lo = sorted[0] as f64;
    let hi = sorted[((sorted.len() - 1) as f64 * 0.999) as usize] as f64;
    let scale = if hi > lo { 1.0 / (hi - lo) } else { 0.0 };
    let v: Vec<f64> = luma
        .iter()
        .map(|x| {
            if x.is_finite() {
                ((*x as f64 - lo) * scale).min(1.0)
            } else {
                0.0
            }
        })
        .collect();
    // flat-coded: the most common exact value of the 5 × 5 neighbourhood holds half of it
    let flat: Vec<f64> = (0..rows * cols)
        .map(|p| {
            let (y, x) = (p / cols, p % cols);
            let mut w = [0f32; 25];
            let mut k = 0;
            for yy in y.saturating_sub(2)..(y + 3).min(rows) {
                for xx in x.saturating_sub(2)..(x + 3).min(cols) {
                    w[k] = luma[yy * cols + xx];
                    k += 1;
                }
            }
            let w = &mut w[..k];
            w.sort_unstable_by(f32::total_cmp);
            let (mut best, mut run) = (1, 1);
            for i in 1..k {
                run = if w[i] == w[i - 1] { run + 1 } else { 1 };
                best = best.max(run);
            }
            (2 * best >= k) as u8 as f64
        })
        .collect();
    let sq: Vec<f64> = v.iter().map(|a| a * a).collect();
    let (sv, ss) = (integral(&v, rows, cols), integral(&sq, rows, cols));
    let mut out = vec![false; rows * cols];
    for y in 0..rows {
        for x in 0..cols {
            let (ya, yb) = (y.saturating_sub(3), (y + 4).min(rows));
            let (xa, xb) = (x.saturating_sub(3), (x + 4).min(cols));
            let k = ((yb - ya) * (xb - xa)) as f64;
            let bx = |t: &[f64]| box_sum(t, cols, ya, yb, xa, xb) / k;
            let m = bx(&sv);
            let var = (bx(&ss) - m * m).max(0.0);
            out[y * cols + x] = var >= ACTIVE_STD * ACTIVE_STD && flat[y * cols + x] == 0.0;
        }
    }
    (out, flat.iter().map(|f| *f > 0.0).collect())
}

/// Summed-area table with a zero first row and column: `(rows + 1) × (cols + 1)`.
fn integral(v: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let w = cols + 1;
    let mut t = vec![0.0; (rows + 1) * w];
    for y in 0..rows {
        let mut run = 0.0;
        for x in 0..cols {
            run += v[y * cols + x];
            t[(y + 1) * w + x + 1] = t[y * w + x + 1] + run;
        }
    }
    t
}

/// Sum over rows `ya..yb`, columns `xa..xb` from a table of [`integral`].
fn box_sum(t: &[f64], cols: usize, ya: usize, yb: usize, xa: usize, xb: usize) -> f64 {
    let w = cols + 1;
    t[yb * w + xb] - t[ya * w + xb] - t[yb * w + xa] + t[ya * w + xa]
}

fn erode(m: &[bool], rows: usize, cols: usize) -> Vec<bool> {
    morph(m, rows, cols, true)
}

fn dilate(m: &[bool], rows: usize, cols: usize) -> Vec<bool> {
    morph(m, rows, cols, false)
}

/// Erosion where the outside of the frame does not count (so a closing keeps a field that
/// touches the frame's edge).
fn erode_in_frame(m: &[bool], rows: usize, cols: usize) -> Vec<bool> {
    let mut out = vec![false; rows * cols];
    for y in 0..rows {
        for x in 0..cols {
            out[y * cols + x] = (y.saturating_sub(1)..(y + 2).min(rows))
                .all(|yy| (x.saturating_sub(1)..(x + 2).min(cols)).all(|xx| m[yy * cols + xx]));
        }
    }
    out
}

/// 3 × 3 erosion (`all`) or dilation; outside the frame counts as inactive for erosion.
fn morph(m: &[bool], rows: usize, cols: usize, all: bool) -> Vec<bool> {
    let mut out = vec![false; rows * cols];
    for y in 0..rows {
        for x in 0..cols {
            let mut hit = all;
            for yy in y as i64 - 1..=y as i64 + 1 {
                for xx in x as i64 - 1..=x as i64 + 1 {
                    let inside = yy >= 0 && xx >= 0 && (yy as usize) < rows && (xx as usize) < cols;
                    let v = inside && m[yy as usize * cols + xx as usize];
                    if all {
                        hit &= v;
                    } else {
                        hit |= v;
                    }
                }
            }
            out[y * cols + x] = hit;
        }
    }
    out
}

/// The largest 4-connected set of `true` pixels (first found on a tie).
fn largest_component(m: &[bool], rows: usize, cols: usize) -> Vec<bool> {
    let mut label = vec![0u32; rows * cols];
    let (mut best, mut best_size, mut next) = (0u32, 0usize, 0u32);
    let mut stack = Vec::new();
    for start in 0..rows * cols {
        if !m[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let mut size = 0;
        while let Some(p) = stack.pop() {
            size += 1;
            for q in neighbours4(p, rows, cols).into_iter().flatten() {
                if m[q] && label[q] == 0 {
                    label[q] = next;
                    stack.push(q);
                }
            }
        }
        if size > best_size {
            (best, best_size) = (next, size);
        }
    }
    label.iter().map(|l| best != 0 && *l == best).collect()
}

fn neighbours4(p: usize, rows: usize, cols: usize) -> [Option<usize>; 4] {
    let (y, x) = (p / cols, p % cols);
    [
        (y > 0).then(|| p - cols),
        (y + 1 < rows).then(|| p + cols),
        (x > 0).then(|| p - 1),
        (x + 1 < cols).then(|| p + 1),
    ]
}

/// Set the pixels not connected to the frame's border through unset pixels.
fn fill_holes(m: &mut [bool], rows: usize, cols: usize) {
    let mut outside = vec![false; rows * cols];
    let mut stack: Vec<usize> = (0..rows * cols)
        .filter(|&p| {
            let (y, x) = (p / cols, p % cols);
            (y == 0 || x == 0 || y + 1 == rows || x + 1 == cols) && !m[p]
        })
        .collect();
    for &p in &stack {
        outside[p] = true;
    }
    while let Some(p) = stack.pop() {
        for q in neighbours4(p, rows, cols).into_iter().flatten() {
            if !m[q] && !outside[q] {
                outside[q] = true;
                stack.push(q);
            }
        }
    }
    for (v, o) in m.iter_mut().zip(&outside) {
        *v = !o;
    }
}

/// Add the flat areas inside the field that the texture test leaves out where they touch the
/// field's edge (an anechoic bladder, an acoustic shadow): within the component's bounding
/// box, every pixel that cannot be reached from the frame's border through pixels of the
/// background value (the frame's most common exact value) joins; then the largest
/// 4-connected part is kept. A scanner's background is one value; dark tissue, however dark,
/// is drawn with others.
fn fill_dark(m: &mut Vec<bool>, luma: &[f32], rows: usize, cols: usize) {
    let mut counts: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for v in luma {
        *counts.entry(v.to_bits()).or_default() += 1;
    }
    let Some(bg) = counts
        .into_iter()
        .max_by_key(|&(k, c)| (c, std::cmp::Reverse(k)))
        .map(|(k, _)| k)
    else {
        return;
    };
    let is_bg = |p: usize| luma[p].to_bits() == bg;
    let mut outside = vec![false; rows * cols];
    let mut stack: Vec<usize> = (0..rows * cols)
        .filter(|&p| {
            let (y, x) = (p / cols, p % cols);
            (y == 0 || x == 0 || y + 1 == rows || x + 1 == cols) && !m[p] && is_bg(p)
        })
        .collect();
    for &p in &stack {
        outside[p] = true;
    }
    while let Some(p) = stack.pop() {
        for q in neighbours4(p, rows, cols).into_iter().flatten() {
            if !m[q] && !outside[q] && is_bg(q) {
                outside[q] = true;
                stack.push(q);
            }
        }
    }
    let (mut x0, mut y0, mut x1, mut y1) = (cols, rows, 0, 0);
    for (p, v) in m.iter().enumerate() {
        if *v {
            let (y, x) = (p / cols, p % cols);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    if x1 < x0 {
        return;
    }
    let mut grown = m.clone();
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = y * cols + x;
            grown[p] |= !outside[p];
        }
    }
    // opening: thin text strokes that joined on the way do not stay
    let grown = dilate(&erode(&grown, rows, cols), rows, cols);
    *m = largest_component(&grown, rows, cols);
    fill_holes(m, rows, cols);
}

/// Split two views displayed side by side at the seam where adjacent columns stop being
/// correlated; keep the larger part (the left on a tie).
fn split_views(m: &mut [bool], luma: &[f32], rows: usize, cols: usize) {
    let (mut x0, mut x1) = (cols, 0);
    for (p, v) in m.iter().enumerate() {
        if *v {
            (x0, x1) = (x0.min(p % cols), x1.max(p % cols));
        }
    }
    if x1 < x0 + 40 {
        return;
    }
    // correlation of columns x and x + 1 over the rows where both are in the component, in
    // four bands of rows (a seam runs the whole height; a cyst's edge does not)
    let (mut y0, mut y1) = (rows, 0);
    for (p, v) in m.iter().enumerate() {
        if *v {
            (y0, y1) = (y0.min(p / cols), y1.max(p / cols));
        }
    }
    let band = (y1 + 1 - y0).div_ceil(4);
    let corr_in = |x: usize, ya: usize, yb: usize| -> f64 {
        let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for y in ya..yb.min(rows) {
            let (p, q) = (y * cols + x, y * cols + x + 1);
            if m[p] && m[q] {
                let (a, b) = (luma[p] as f64, luma[q] as f64);
                n += 1.0;
                sa += a;
                sb += b;
                saa += a * a;
                sbb += b * b;
                sab += a * b;
            }
        }
        if n < 8.0 {
            return f64::NAN;
        }
        let va = saa / n - (sa / n).powi(2);
        let vb = sbb / n - (sb / n).powi(2);
        if va <= 0.0 || vb <= 0.0 {
            return f64::NAN;
        }
        (sab / n - sa * sb / (n * n)) / (va * vb).sqrt()
    };
    let bands: Vec<Vec<f64>> = (0..4)
        .map(|k| {
            (x0..x1)
                .map(|x| corr_in(x, y0 + k * band, y0 + (k + 1) * band))
                .collect()
        })
        .collect();
    // per column pair: how many bands show a seam (low here, high around)
    let corr: Vec<f64> = (0..x1 - x0)
        .map(|i| {
            let seams = bands
                .iter()
                .filter(|c| {
                    let mut around: Vec<f64> = (i.saturating_sub(10)..(i + 11).min(c.len()))
                        .filter(|&j| j != i && c[j].is_finite())
                        .map(|j| c[j])
                        .collect();
                    around.sort_unstable_by(f64::total_cmp);
                    c[i].is_finite()
                        && c[i] < 0.3
                        && around.len() >= 10
                        && around[around.len() / 2] > 0.6
                })
                .count();
            if seams >= 3 {
                bands
                    .iter()
                    .map(|c| c[i])
                    .filter(|v| v.is_finite())
                    .sum::<f64>()
            } else {
                f64::NAN
            }
        })
        .collect();
    let width = x1 - x0 + 1;
    let mut seam: Option<(f64, usize)> = None;
    for (i, c) in corr.iter().enumerate() {
        if c.is_finite()
            && 4 * i >= width
            && 4 * (width - i) >= width
            && seam.is_none_or(|(b, _)| *c < b)
        {
            seam = Some((*c, i));
        }
    }
    let Some((_, i)) = seam else { return };
    // the seam lies between columns x0 + i and x0 + i + 1
    let cut = x0 + i;
    let count = |left: bool| {
        m.iter()
            .enumerate()
            .filter(|(p, v)| **v && ((p % cols <= cut) == left))
            .count()
    };
    let keep_left = count(true) >= count(false);
    for (p, v) in m.iter_mut().enumerate() {
        if (p % cols <= cut) != keep_left {
            *v = false;
        }
    }
}

/// A fitted field outline.
#[derive(Clone, Debug)]
enum Shape {
    Rect { x0: f64, y0: f64, x1: f64, y1: f64 },
    Sector(Sector),
}

impl Shape {
    fn mask(&self, rows: usize, cols: usize) -> Vec<bool> {
        (0..rows * cols)
            .map(|p| {
                let (y, x) = ((p / cols) as f64, (p % cols) as f64);
                match self {
                    Shape::Rect { x0, y0, x1, y1 } => {
                        x >= x0 - 0.5 && x <= x1 + 0.5 && y >= y0 - 0.5 && y <= y1 + 0.5
                    }
                    Shape::Sector(s) => s.contains(x, y),
                }
            })
            .collect()
    }
}

/// The value most outline points agree on within `tol`, and the share that does.
fn mode(values: &[f64], tol: f64) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let (mut best, mut j) = ((0usize, 0usize), 0usize);
    for i in 0..v.len() {
        while v[i] - v[j] > 2.0 * tol {
            j += 1;
        }
        if i + 1 - j > best.1 - best.0 {
            best = (j, i + 1);
        }
    }
    let win = &v[best.0..best.1];
    Some((win[win.len() / 2], win.len() as f64 / v.len() as f64))
}

fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Straight line `x = a + b·y` through the most points `(y, x)` within 1.5 px: every pair of
/// up to 48 evenly spread points is tried, then least squares on the best pair's inliers.
/// Returns `(a, b, inlier share)`.
fn fit_line(pts: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    if pts.len() < 8 {
        return None;
    }
    let step = (pts.len() / 48).max(1);
    let sample: Vec<(f64, f64)> = pts.iter().step_by(step).copied().collect();
    let inliers = |a: f64, b: f64| -> Vec<(f64, f64)> {
        pts.iter()
            .copied()
            .filter(|(y, x)| (x - (a + b * y)).abs() <= 1.5)
            .collect()
    };
    let mut best: Option<(usize, f64, f64)> = None;
    for i in 0..sample.len() {
        for j in i + 1..sample.len() {
            let ((ya, xa), (yb, xb)) = (sample[i], sample[j]);
            if (yb - ya).abs() < 4.0 {
                continue;
            }
            let b = (xb - xa) / (yb - ya);
            let a = xa - b * ya;
            let k = inliers(a, b).len();
            if best.is_none_or(|(bk, _, _)| k > bk) {
                best = Some((k, a, b));
            }
        }
    }
    let (_, a, b) = best?;
    let inl = inliers(a, b);
    let n = inl.len() as f64;
    let (sy, sx) = inl.iter().fold((0.0, 0.0), |s, p| (s.0 + p.0, s.1 + p.1));
    let (my, mx) = (sy / n, sx / n);
    let (mut syy, mut sxy) = (0.0, 0.0);
    for (y, x) in &inl {
        syy += (y - my) * (y - my);
        sxy += (y - my) * (x - mx);
    }
    let b = if syy > 0.0 { sxy / syy } else { b };
    let a = mx - b * my;
    let share = inliers(a, b).len() as f64 / pts.len() as f64;
    Some((a, b, share))
}

/// Fit a rectangle or a sector to the component's outline.
fn fit_shape(m: &[bool], rows: usize, cols: usize) -> Result<Shape, Failure> {
    let mut left = Vec::new();
    let mut right = Vec::new();
    for y in 0..rows {
        let row = &m[y * cols..(y + 1) * cols];
        if let (Some(a), Some(b)) = (row.iter().position(|v| *v), row.iter().rposition(|v| *v)) {
            left.push((y as f64, a as f64));
            right.push((y as f64, b as f64));
        }
    }
    let mut top = Vec::new();
    let mut bottom = Vec::new();
    for x in 0..cols {
        let col = (0..rows).map(|y| m[y * cols + x]);
        let first = col.clone().position(|v| v);
        let last = (0..rows).rev().find(|&y| m[y * cols + x]);
        if let (Some(a), Some(b)) = (first, last) {
            top.push((x as f64, a as f64));
            bottom.push((x as f64, b as f64));
        }
    }
    let no_fit = || "the textured area's sides are not straight (neither a sector nor a rectangle)";
    let (al, bl, sl) = fit_line(&left).ok_or_else(no_fit)?;
    let (ar, br, sr) = fit_line(&right).ok_or_else(no_fit)?;
    if sl < 0.5 || sr < 0.5 {
        return Err(format!(
            "the textured area's sides are not straight (only {:.0} % and {:.0} % of its \
             outline rows lie on a line)",
            100.0 * sl,
            100.0 * sr
        ));
    }
    let linear = bl.abs() < 0.03 && br.abs() < 0.03;
    if linear {
        let xs = |p: &[(f64, f64)]| p.iter().map(|q| q.1).collect::<Vec<_>>();
        let ys = |p: &[(f64, f64)]| p.iter().map(|q| q.1).collect::<Vec<_>>();
        let (x0, _) = mode(&xs(&left), 2.0).ok_or_else(no_fit)?;
        let (x1, _) = mode(&xs(&right), 2.0).ok_or_else(no_fit)?;
        let inside = |p: &&(f64, f64)| p.0 >= x0 && p.0 <= x1;
        let t: Vec<(f64, f64)> = top.iter().filter(inside).copied().collect();
        let b: Vec<(f64, f64)> = bottom.iter().filter(inside).copied().collect();
        if t.len() < 8 {
            return Err(no_fit().into());
        }
        // top and bottom: the outline's extremes (a curved near field, a convex image
        // clipped to a rectangle, still fits in the box)
        let (y0, y1) = (percentile(&ys(&t), 0.01), percentile(&ys(&b), 0.99));
        if x1 <= x0 || y1 <= y0 {
            return Err(no_fit().into());
        }
        return Ok(Shape::Rect { x0, y0, x1, y1 });
    }
    // sides diverging downwards: left edge moves left (b < 0), right edge right (b > 0)
    if bl >= 0.0 || br <= 0.0 {
        return Err(
            "the textured area's straight sides do not diverge from an apex above it".into(),
        );
    }
    let ay = (ar - al) / (bl - br);
    let ax = al + bl * ay;
    let first_row = left.first().map(|p| p.0).unwrap_or(0.0);
    if ay > first_row + 2.0 || !ax.is_finite() || ay < -10.0 * rows as f64 {
        return Err("the textured area's sides do not meet at an apex above it".into());
    }
    let (tl, tr) = (bl.atan(), br.atan());
    let dist = |p: &[(f64, f64)]| -> Vec<f64> {
        p.iter()
            .filter(|(x, y)| {
                let t = (x - ax).atan2(y - ay);
                t > tl && t < tr
            })
            .map(|(x, y)| (x - ax).hypot(y - ay))
            .collect()
    };
    let (dt, db) = (dist(&top), dist(&bottom));
    if dt.len() < 8 || db.len() < 8 {
        return Err(no_fit().into());
    }
    let r0 = match mode(&dt, 1.5) {
        Some((r, share)) if share >= 0.25 => r,
        _ => percentile(&dt, 0.02),
    };
    let r1 = match mode(&db, 1.5) {
        Some((r, share)) if share >= 0.25 => r,
        _ => percentile(&db, 0.98),
    };
    // a phased probe's field starts at the apex, whose tip the texture window cannot see
    let r0 = if r0 < 6.0 { 0.0 } else { r0 };
    if r1 <= r0 + 8.0 {
        return Err("the fitted sector is too thin".into());
    }
    Ok(Shape::Sector(Sector {
        ax,
        ay,
        left: tl,
        right: tr,
        r0,
        r1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_finds_the_common_value() {
        let v = [1.0, 10.0, 10.5, 11.0, 10.2, 30.0];
        let (m, share) = mode(&v, 1.0).unwrap();
        assert!((m - 10.5).abs() <= 0.5, "{m}");
        assert!((share - 4.0 / 6.0).abs() < 1e-9);
    }

    #[test]
    fn line_fit_ignores_outliers() {
        let mut pts: Vec<(f64, f64)> = (0..100)
            .map(|y| (y as f64, 50.0 - 0.5 * y as f64))
            .collect();
        for p in pts.iter_mut().step_by(5) {
            p.1 += 30.0;
        }
        let (a, b, share) = fit_line(&pts).unwrap();
        assert!((a - 50.0).abs() < 1e-6 && (b + 0.5).abs() < 1e-6, "{a} {b}");
        assert!((share - 0.8).abs() < 1e-9);
    }
}

#[cfg(test)]
mod synthetic {
    use super::*;
    use crate::us_region::crop;

    /// Seeded generator (SplitMix64), uniform in (0, 1).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
    }

    /// Log-compressed speckle (Rayleigh envelope, correlated over 3 × 2 px) inside `inside`,
    /// with an anechoic disc, on a zero background, quantised to 8 bits.
    fn bmode(rows: usize, cols: usize, seed: u64, inside: &dyn Fn(f64, f64) -> bool) -> Vec<f32> {
        let mut rng = Rng(seed);
        let env: Vec<f64> = (0..rows * cols)
            .map(|_| (-2.0 * rng.next().ln()).sqrt())
            .collect();
        let mut out = vec![0f32; rows * cols];
        for y in 0..rows {
            for x in 0..cols {
                if !inside(x as f64, y as f64) {
                    continue;
                }
                let mut s = 0.0;
                let mut k = 0.0;
                for yy in y.saturating_sub(1)..(y + 1).min(rows) {
                    for xx in x.saturating_sub(1)..(x + 2).min(cols) {
                        s += env[yy * cols + xx];
                        k += 1.0;
                    }
                }
                let echo = if (x as f64 - cols as f64 * 0.5).hypot(y as f64 - rows as f64 * 0.55)
                    < rows as f64 * 0.1
                {
                    0.05 // a cyst: nearly anechoic
                } else {
                    1.0
                };
                let db = 20.0 * (echo * s / k).max(1e-6).log10();
                let v = ((db + 40.0) / 50.0).clamp(0.0, 1.0);
                out[y * cols + x] = ((v * 255.0).round() / 255.0) as f32;
            }
        }
        out
    }

    const TEXT: f32 = 0.987_654;

    /// Burned-in annotation outside the field: rows of block glyphs at the text level, a
    /// header bar, a depth scale with ticks and a grey bar.
    fn annotate(img: &mut [f32], rows: usize, cols: usize, field: &dyn Fn(f64, f64) -> bool) {
        let mut put = |y: usize, x: usize, v: f32| {
            if y < rows && x < cols && !field(x as f64, y as f64) {
                img[y * cols + x] = v;
            }
        };
        // header bar with text
        for y in 0..14 {
            for x in 0..cols {
                put(y, x, 0.3);
            }
        }
        for g in 0..(cols / 10) {
            for y in 3..11 {
                for x in 0..6 {
                    if (x + y + g) % 3 != 0 {
                        put(y, g * 10 + 2 + x, TEXT);
                    }
                }
            }
        }
        // a text block at the lower left and right
        for line in 0..4 {
            for g in 0..6 {
                for y in 0..7 {
                    for x in 0..5 {
                        if (x * 3 + y * 5 + g + line) % 4 != 0 {
                            put(rows - 60 + 12 * line + y, 4 + 8 * g + x, TEXT);
                            put(rows - 60 + 12 * line + y, cols - 52 + 8 * g + x, TEXT);
                        }
                    }
                }
            }
        }
        // depth scale: a vertical line with ticks at the right, a grey bar at the left
        for y in 20..rows - 70 {
            put(y, cols - 12, TEXT);
            if y % 20 == 0 {
                for x in cols - 16..cols - 12 {
                    put(y, x, TEXT);
                }
            }
            for x in 6..14 {
                put(y, x, (y - 20) as f32 / (rows - 90) as f32);
            }
        }
    }

    fn check(
        rows: usize,
        cols: usize,
        field: &dyn Fn(f64, f64) -> bool,
        want: (usize, usize, usize, usize),
        sector: bool,
    ) {
        let mut img = bmode(rows, cols, 11, field);
        annotate(&mut img, rows, cols, field);
        let r = detect_field(&img, rows, cols).unwrap();
        assert_eq!(r.sector.is_some(), sector, "{r:?}");
        let got = (r.x0, r.y0, r.x1, r.y1);
        let close = |a: usize, b: usize| a.abs_diff(b) <= 2;
        assert!(
            close(got.0, want.0)
                && close(got.1, want.1)
                && close(got.2, want.2)
                && close(got.3, want.3),
            "{got:?} vs {want:?}"
        );
        // nothing drawn outside the field reaches the crop
        let out = crop(&img, cols, 1, &r);
        assert!(!out.contains(&TEXT), "text left in the crop");
        // and the field itself is kept: at most 2 % of its pixels blanked
        let mut lost = 0;
        let mut total = 0;
        for y in r.y0..=r.y1 {
            for x in r.x0..=r.x1 {
                if field(x as f64, y as f64) {
                    total += 1;
                    let v = out[(y - r.y0) * r.cols() + x - r.x0];
                    lost += (v == 0.0 && img[y * cols + x] != 0.0) as usize;
                }
            }
        }
        assert!(lost * 50 <= total, "{lost} of {total} field pixels blanked");
    }

    #[test]
    fn convex_sector_with_text_outside_is_found() {
        let (ax, ay, a, r0, r1) = (200.0, -40.0, 0.6f64, 70.0, 300.0);
        let field = move |x: f64, y: f64| {
            let (dx, dy) = (x - ax, y - ay);
            let r = dx.hypot(dy);
            dy > 0.0 && r >= r0 && r <= r1 && dx.atan2(dy).abs() <= a
        };
        // bounds: x = 200 ± 300·sin 0.6, top = −40 + 70·cos 0.6, bottom = −40 + 300
        let half = 300.0 * a.sin();
        let want = (
            (ax - half).ceil() as usize,
            (ay + r0 * a.cos()).ceil() as usize,
            (ax + half).floor() as usize,
            (ay + r1) as usize,
        );
        check(300, 400, &field, want, true);
    }

    #[test]
    fn phased_sector_from_an_apex_in_the_frame_is_found() {
        let (ax, ay, a, r1) = (200.0, 16.0, 0.75f64, 250.0);
        let field = move |x: f64, y: f64| {
            let (dx, dy) = (x - ax, y - ay);
            dy > 0.0 && dx.hypot(dy) <= r1 && dx.atan2(dy).abs() <= a
        };
        let half = r1 * a.sin();
        let want = (
            (ax - half).ceil() as usize,
            ay as usize + 1,
            (ax + half).floor() as usize,
            (ay + r1) as usize,
        );
        check(280, 400, &field, want, true);
    }

    #[test]
    fn linear_field_with_text_outside_is_found() {
        let field = |x: f64, y: f64| (60.0..=299.0).contains(&x) && (30.0..=249.0).contains(&y);
        check(320, 360, &field, (60, 30, 299, 249), false);
    }

    #[test]
    fn images_that_are_not_ultrasound_screens_give_no_field() {
        let (rows, cols) = (256, 256);
        let mut rng = Rng(3);
        // noise everywhere (an MR or CT slice's background, a photograph)
        let noise: Vec<f32> = (0..rows * cols).map(|_| rng.next() as f32).collect();
        let e = detect_field(&noise, rows, cols).unwrap_err();
        assert!(e.contains("surround") || e.contains("flat"), "{e}");
        // a textured ellipse on a flat background (a head phantom)
        let ell = bmode(rows, cols, 5, &|x, y| {
            ((x - 128.0) / 110.0).powi(2) + ((y - 128.0) / 80.0).powi(2) <= 1.0
        });
        assert!(detect_field(&ell, rows, cols).is_err());
        // a flat image
        let flat = vec![0.5f32; rows * cols];
        assert!(detect_field(&flat, rows, cols).is_err());
    }
}
