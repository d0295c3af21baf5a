//! Specular reflection (endoscopy): Blinn–Phong highlights of the endoscope's light on wet
//! mucosa, on a surface whose normals come from the image's own shading.
//!
//! # Model
//! 1. **Shape from shading (approximation).** The relative luminance `ℓ = Y/Ȳ` (`Ȳ` the mean
//!    luminance of the field of view), smoothed by a Gaussian of `smooth` field-of-view
//!    diameters (normalised convolution inside the field), is taken as a height field
//!    `h = relief · D · ℓ_s` (`D` the field-of-view diameter in pixels; bright = raised, as
//!    for a light at the camera nearer surfaces are brighter). The unit normal, `z` towards
//!    the camera, is `n = (−∂h/∂x, −∂h/∂y, 1)/‖·‖` (central differences, one-sided at the
//!    field's edge).
//! 2. **Light at the camera.** A pinhole camera of focal length `focal · D` pixels centred on
//!    the field of view sees pixel `(x, y)` along `v = (−(x − cx), −(y − cy), f)/‖·‖` (from
//!    the surface to the camera); the light guide is at the lens, so the light direction is
//!    `l = v` and the Blinn–Phong half vector is `h = (l + v)/‖l + v‖ = v`.
//! 3. **Irradiance.** The light reaching the surface falls off with distance from the
//!    endoscope (inverse square) exactly as the diffuse shading does, so the broadly smoothed
//!    luminance (Gaussian σ = 0.05 field-of-view diameters, normalised inside the field,
//!    computed at a coarser rate by [`crate::support::gaussian_in_mask`]: within 1e-3 of the
//!    full-rate smoothing) relative to its 99th percentile in
//!    the field, clamped to `[0, 1]`, is used as the irradiance `E`: the dark, distant lumen
//!    gets no highlights.
//! 4. **Blinn–Phong lobe.** The specular radiance `S = strength · E · max(n·h, 0)^shininess`
//!    (in units of display white, neutral: the light's colour) is **added in linear light**
//!    and saturates at the sensor's full well: `I' = max(I, min(I + S, 1))` — strong
//!    highlights are clipped to white.
//!
//! The lobe peaks where the normal bisects the light and view directions (`n = h`); on a
//! flat field (`E = 1`) it is exactly `strength · cos^shininess θ` with `θ` the angle off
//! axis. `strength = 0` is the identity.
//!
//! # Units
//! `strength`: display white; `relief`: field-of-view diameters of height per unit relative
//! luminance; `smooth`, `focal`: field-of-view diameters; `shininess`: Blinn–Phong exponent.
//!
//! # References
//! - J. F. Blinn, "Models of light reflection for computer synthesized pictures",
//!   SIGGRAPH 1977.
//! - B. K. P. Horn, "Obtaining shape from shading information", in *The Psychology of Computer
//!   Vision*, 1975; R. Zhang et al., "Shape from shading: a survey", IEEE TPAMI 21(8), 1999.
//! - M. Arnold et al., "Automatic segmentation and inpainting of specular highlights for
//!   endoscopic imaging", EURASIP J. Image Video Process. 2010 (appearance of endoscopic
//!   highlights).

use crate::error::check_range;
use crate::pixel::ndh;
use crate::simd::{ndh_row, pow_unit_row};
use crate::support::{
    fov_geometry, gaussian_in_mask, gaussian_psf, mean_of_luminance, smooth_in_mask, FovGeometry,
};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use ndarray::Array2;

artefact_core::params! {
    /// Parameters of [`Specular`] (recorded in manifests, replayed exactly).
    pub struct SpecularParams {
        /// peak specular radiance added, in units of display white (≥ 1 saturates the peak)
        pub strength: f64 = float(0.8, [0.0, 20.0], "display white"),
        /// Blinn–Phong exponent (larger = smaller, sharper highlights)
        pub shininess: f64 = float(200.0, [1.0, 20000.0]),
        /// height per unit relative luminance of the shape-from-shading surface
        pub relief: f64 = float(0.02, [0.0, 1.0], "FOV diameters"),
        /// Gaussian smoothing of the luminance before taking normals (σ)
        pub smooth: f64 = float(0.004, [0.0, 0.1], "FOV diameters"),
        /// focal length of the endoscope camera
        pub focal: f64 = float(0.6, [0.05, 100.0], "FOV diameters"),
    }
}

/// The operator `photo.specular` (see the module docs).
pub struct Specular;

static INFO: OpInfo = OpInfo {
    name: "photo.specular",
    modality: "photo",
    doc: "Specular highlights of a light at the camera: normals from the image's smoothed luminance (shape from shading), a Blinn–Phong lobe added in linear light and clipped at white.",
    params: SpecularParams::PARAMS,
};

impl ColourOperator for Specular {
    type Params = SpecularParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<SpecularParams> {
        Ok(SpecularParams::sample(spec, rng)?)
    }
    fn apply(p: &SpecularParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// Smoothing of the irradiance proxy (field-of-view diameters).
pub const IRRADIANCE_SIGMA: f64 = 0.05;

/// Lobe contributions below this, in display white (`2⁻³⁰`), are left out by [`apply`]: a
/// pixel is not brightened where `S = strength · E · max(n·h, 0)^shininess < 2⁻³⁰`. That is at
/// most half an f32 step of any pixel value ≥ 2⁻⁶, so only darker pixels can differ from the
/// full sum, each channel by at most `2⁻³⁰` plus its rounding to f32 (tested). The power is
/// then taken only where it can matter (`lobe_cut`). [`specular_map`] and [`lobe_map`]
/// keep every value.
pub const NEGLIGIBLE: f64 = 1.0 / 1_073_741_824.0;

/// What [`lobe_map`] and [`irradiance_map`] both need of the image: its field-of-view
/// geometry and luminance (computed once for [`specular_map`]).
struct Shading {
    g: FovGeometry,
    y: Array2<f32>,
}

impl Shading {
    fn new(img: &RgbImage) -> Result<Shading> {
        Ok(Shading {
            g: fov_geometry(img)?,
            y: img.luminance(),
        })
    }

    /// The luminance in f64.
    fn y64(&self) -> Array2<f64> {
        self.y.mapv(|v| v as f64)
    }
}

/// The irradiance proxy of the module docs before its normalisation: the broadly smoothed
/// luminance `ys` and its 99th percentile `p99` in the field; `E = (ys/p99)` clamped to
/// `[0, 1]` ([`Irradiance::e`]).
struct Irradiance {
    ys: Array2<f64>,
    p99: f64,
}

impl Irradiance {
    /// From the image's luminance `y` (f64).
    fn new(img: &RgbImage, sh: &Shading, y: &Array2<f64>) -> Result<Irradiance> {
        let ys = gaussian_in_mask(y, img.fov.as_ref(), IRRADIANCE_SIGMA * sh.g.diameter)?;
        let inside: Vec<f64> = match &img.fov {
            None => ys.iter().copied().filter(|v| v.is_finite()).collect(),
            Some(m) => ys
                .iter()
                .zip(m)
                .filter(|&(v, &inside)| inside && v.is_finite())
                .map(|(&v, _)| v)
                .collect(),
        };
        let mut inside = inside;
        // the 99th percentile by selection (the element a full sort would put there)
        let at = ((inside.len() as f64 * 0.99) as usize).min(inside.len().saturating_sub(1));
        let p99 = if inside.is_empty() {
            0.0
        } else {
            *inside.select_nth_unstable_by(at, f64::total_cmp).1
        };
        Ok(Irradiance { ys, p99 })
    }

    /// `E` of one smoothed luminance value `v` (an element of `ys`).
    #[inline(always)]
    fn e(&self, v: f64) -> f64 {
        if self.p99 > 0.0 {
            (v / self.p99).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// The irradiance proxy `E ∈ [0, 1]` of the module docs.
pub fn irradiance_map(img: &RgbImage) -> Result<Array2<f64>> {
    irradiance_of(img, &Shading::new(img)?)
}

fn irradiance_of(img: &RgbImage, sh: &Shading) -> Result<Array2<f64>> {
    let ir = Irradiance::new(img, sh, &sh.y64())?;
    Ok(ir.ys.mapv(|v| ir.e(v)))
}

/// The relative luminance `ℓ = Y/Ȳ` of the module docs, in place of the luminance `y` (f64;
/// all 0 for an all-black field).
fn relative_luminance(img: &RgbImage, sh: &Shading, mut y: Array2<f64>) -> Array2<f64> {
    let ybar = mean_of_luminance(img, &sh.y);
    if ybar > 0.0 {
        y.mapv_inplace(|v| v / ybar);
    } else {
        y.fill(0.0);
    }
    y
}

/// The specular radiance map `S = strength · E · lobe` (display white units).
pub fn specular_map(p: &SpecularParams, img: &RgbImage) -> Result<Array2<f64>> {
    let sh = Shading::new(img)?;
    let mut s = lobe_of(p, img, &sh)?;
    let e = irradiance_of(img, &sh)?;
    s.zip_mut_with(&e, |s, &e| *s *= p.strength * e);
    Ok(s)
}

/// The Blinn–Phong lobe `max(n·h, 0)^shininess` of the module docs (before strength and
/// irradiance).
pub fn lobe_map(p: &SpecularParams, img: &RgbImage) -> Result<Array2<f64>> {
    lobe_of(p, img, &Shading::new(img)?)
}

fn lobe_of(p: &SpecularParams, img: &RgbImage, sh: &Shading) -> Result<Array2<f64>> {
    let (rows, cols) = img.shape();
    let mut s = Array2::<f64>::zeros((rows, cols));
    let l = relative_luminance(img, sh, sh.y64());
    {
        let s = s.as_slice_mut().expect("standard layout");
        lobe_rows(p, img, sh, l, 0.0, |r, at, lobe| {
            for (&c, &v) in at.iter().zip(lobe) {
                s[r * cols + c] = v;
            }
        })?;
    }
    Ok(s)
}

/// The `n·h` below which [`apply`] leaves the lobe out: `(NEGLIGIBLE/strength)^(1/shininess)`,
/// lowered by a relative 1e-12 so that no rounding (of `powf` here, of the lobe's power,
/// of `strength·E`) can put a left-out `S` at or above [`NEGLIGIBLE`] (`E ≤ 1`).
fn lobe_cut(p: &SpecularParams) -> f64 {
    (NEGLIGIBLE / p.strength).powf(1.0 / p.shininess) * (1.0 - 1e-12)
}

/// The lobe row by row from the relative luminance `l` ([`relative_luminance`]): `f(r, at,
/// lobe)` with `lobe[k]` the lobe of pixel `(r, at[k])`, for the pixels of row `r` whose
/// `n·h ≥ cut` (ascending columns; the others' lobes are `< cut^shininess`, and pixels outside
/// the field of view have lobe 0).
///
/// Per pixel the normal and `n·h` as in the module docs (interior pixels a row at a time by
/// [`crate::simd::ndh_row`]); the power `(n·h)^shininess` by `artefact_core::fastmath::pow_unit`
/// (`exp(s·ln x)`, within a few ulp of `powf`, branch-free so that the row vectorises) over
/// the row's kept pixels at once.
fn lobe_rows(
    p: &SpecularParams,
    img: &RgbImage,
    sh: &Shading,
    l: Array2<f64>,
    cut: f64,
    mut f: impl FnMut(usize, &[usize], &[f64]),
) -> Result<()> {
    check_range("strength", p.strength, 0.0, 20.0)?;
    check_range("shininess", p.shininess, 1.0, 20000.0)?;
    check_range("relief", p.relief, 0.0, 1.0)?;
    check_range("smooth", p.smooth, 0.0, 0.1)?;
    check_range("focal", p.focal, 0.05, 100.0)?;
    let g = sh.g;
    let (rows, cols) = img.shape();
    let k = gaussian_psf(p.smooth * g.diameter)?;
    let ls = smooth_in_mask(&l, img.fov.as_ref(), &k);
    drop(l);
    let ls = ls.as_standard_layout();
    let ls = ls.as_slice().expect("standard layout");
    let scale = p.relief * g.diameter;
    let focal = p.focal * g.diameter;
    let all = Array2::from_elem((0, 0), true);
    let fov = img.fov.as_ref().map(|m| m.as_standard_layout());
    let ok: &[bool] = match &fov {
        Some(m) => m.as_slice().expect("standard layout"),
        None => all.as_slice().expect("standard layout"),
    };
    let inside = |i: usize| ok.is_empty() || ok[i];
    let (cy, cx) = (g.centre[0], g.centre[1]);
    // the view vector's x component of each column
    let vx: Vec<f64> = (0..cols).map(|c| -(c as f64 - cx)).collect();
    // a pixel whose four neighbours are all in the frame and the field takes central
    // differences both ways
    let central = |i: usize| {
        inside(i) && inside(i - 1) && inside(i + 1) && inside(i - cols) && inside(i + cols)
    };
    let mut row = vec![0.0f64; cols];
    let (mut at, mut lobe) = (vec![0usize; cols], vec![0.0f64; cols]);
    for r in 0..rows {
        let vy = -(r as f64 - cy);
        let interior = r > 0 && r + 1 < rows && cols > 2;
        if interior {
            // every pixel with central differences, a row at a time; the others are redone
            // below
            let i = r * cols;
            ndh_row(
                &mut row[1..cols - 1],
                [
                    &ls[i..i + cols - 2],
                    &ls[i + 2..i + cols],
                    &ls[i - cols + 1..i - 1],
                    &ls[i + cols + 1..i + 2 * cols - 1],
                ],
                &vx[1..cols - 1],
                [scale, vy, focal],
            );
        }
        for (c, ndh_out) in row.iter_mut().enumerate() {
            let i = r * cols + c;
            if interior && c > 0 && c + 1 < cols && central(i) {
                continue;
            }
            *ndh_out = 0.0;
            if !inside(i) {
                continue;
            }
            // central differences, one-sided where a neighbour is outside the frame or field
            let d = |a: Option<usize>, b: Option<usize>| -> f64 {
                let a = a.filter(|&j| inside(j));
                let b = b.filter(|&j| inside(j));
                match (a, b) {
                    (Some(a), Some(b)) => (ls[b] - ls[a]) / 2.0,
                    (Some(a), None) => ls[i] - ls[a],
                    (None, Some(b)) => ls[b] - ls[i],
                    (None, None) => 0.0,
                }
            };
            let hx = scale * d((c > 0).then(|| i - 1), (c + 1 < cols).then_some(i + 1));
            let hy = scale
                * d(
                    (r > 0).then(|| i - cols),
                    (r + 1 < rows).then_some(i + cols),
                );
            *ndh_out = ndh(hx, hy, [vx[c], vy, focal]);
        }
        // the pixels with n·h ≥ cut, packed (branch-free: each is written, the count moves
        // on only for those kept)
        let mut n = 0;
        for (c, &v) in row.iter().enumerate() {
            at[n] = c;
            lobe[n] = v;
            n += (v >= cut) as usize;
        }
        // 0 ↦ exp(s·ln(smallest normal)) = 0 for s ≥ 1
        pow_unit_row(&mut lobe[..n], p.shininess);
        f(r, &at[..n], &lobe[..n]);
    }
    Ok(())
}

/// Add the highlights in linear light, clipped at white (see the module docs), leaving out
/// contributions below [`NEGLIGIBLE`].
pub fn apply(p: &SpecularParams, img: &RgbImage) -> Result<RgbImage> {
    if p.strength == 0.0 {
        return Ok(img.clone());
    }
    apply_from(p, img, lobe_cut(p))
}

/// [`apply`] with the lobe computed where `n·h ≥ cut` (0: everywhere, the full sum).
fn apply_from(p: &SpecularParams, img: &RgbImage, cut: f64) -> Result<RgbImage> {
    let sh = Shading::new(img)?;
    // the luminance in f64 serves the irradiance, then becomes the relative luminance
    let y = sh.y64();
    let ir = Irradiance::new(img, &sh, &y)?;
    let l = relative_luminance(img, &sh, y);
    let ys = ir.ys.as_standard_layout();
    let ys = ys.as_slice().expect("standard layout");
    let mut out = img.data.as_standard_layout().into_owned();
    let (rows, cols) = img.shape();
    let plane = rows * cols;
    {
        let data = out.as_slice_mut().expect("standard layout");
        lobe_rows(p, img, &sh, l, cut, |r, at, lobe| {
            for (&c, &lobe) in at.iter().zip(lobe) {
                let i = r * cols + c;
                // S = lobe · (strength · E), as `specular_map` forms it; the lobe is 0
                // outside the field of view
                let add = lobe * (p.strength * ir.e(ys[i]));
                if add > 0.0 {
                    for k in 0..3 {
                        let v = &mut data[k * plane + i];
                        let x = *v as f64;
                        *v = x.max((x + add).min(1.0)) as f32;
                    }
                }
            }
        })?;
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::mean_luminance;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn params() -> SpecularParams {
        SpecularParams {
            strength: 0.5,
            shininess: 50.0,
            relief: 0.02,
            smooth: 0.0,
            focal: 1.0,
        }
    }

    /// A flat field: normals face the camera, the lobe is exactly strength·cos^s θ, with its
    /// peak on the axis.
    /// The per-pixel loop as it was before the shared luminance, slice indexing and the
    /// row-wise power (the reference of `lobe_and_apply_match_the_previous_loop`).
    fn lobe_reference(p: &SpecularParams, img: &RgbImage) -> Result<Array2<f64>> {
        check_range("strength", p.strength, 0.0, 20.0)?;
        check_range("shininess", p.shininess, 1.0, 20000.0)?;
        check_range("relief", p.relief, 0.0, 1.0)?;
        check_range("smooth", p.smooth, 0.0, 0.1)?;
        check_range("focal", p.focal, 0.05, 100.0)?;
        let g = fov_geometry(img)?;
        let (rows, cols) = img.shape();
        let ybar = mean_luminance(img);
        let l = if ybar > 0.0 {
            img.luminance().mapv(|v| v as f64 / ybar)
        } else {
            Array2::zeros((rows, cols))
        };
        let k = gaussian_psf(p.smooth * g.diameter)?;
        let ls = smooth_in_mask(&l, img.fov.as_ref(), &k);
        let scale = p.relief * g.diameter;
        let f = p.focal * g.diameter;
        let ok = |r: usize, c: usize| img.in_fov(r, c);
        let mut s = Array2::<f64>::zeros((rows, cols));
        for r in 0..rows {
            for c in 0..cols {
                if !ok(r, c) {
                    continue;
                }
                // central differences, one-sided where a neighbour is outside the frame or field
                let d = |a: Option<(usize, usize)>, b: Option<(usize, usize)>| -> f64 {
                    let a = a.filter(|&(y, x)| ok(y, x));
                    let b = b.filter(|&(y, x)| ok(y, x));
                    match (a, b) {
                        (Some(a), Some(b)) => (ls[b] - ls[a]) / 2.0,
                        (Some(a), None) => ls[[r, c]] - ls[a],
                        (None, Some(b)) => ls[b] - ls[[r, c]],
                        (None, None) => 0.0,
                    }
                };
                let hx = scale
                    * d(
                        c.checked_sub(1).map(|x| (r, x)),
                        (c + 1 < cols).then_some((r, c + 1)),
                    );
                let hy = scale
                    * d(
                        r.checked_sub(1).map(|y| (y, c)),
                        (r + 1 < rows).then_some((r + 1, c)),
                    );
                let nn = (hx * hx + hy * hy + 1.0).sqrt();
                let n = [-hx / nn, -hy / nn, 1.0 / nn];
                let v = [-(c as f64 - g.centre[1]), -(r as f64 - g.centre[0]), f];
                let vn = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                let ndh = (n[0] * v[0] + n[1] * v[1] + n[2] * v[2]) / vn;
                if ndh > 0.0 {
                    s[[r, c]] = ndh.powf(p.shininess);
                }
            }
        }
        Ok(s)
    }

    /// `irradiance_of`, `lobe_rows` and `apply` as they were before the shared f64 luminance,
    /// the row-wise `n·h`, the packed power and [`NEGLIGIBLE`] (the reference of
    /// `apply_matches_the_previous_code`).
    fn previous_irradiance(img: &RgbImage, sh: &Shading) -> Result<Array2<f64>> {
        let y = sh.y.mapv(|v| v as f64);
        let ys = gaussian_in_mask(&y, img.fov.as_ref(), IRRADIANCE_SIGMA * sh.g.diameter)?;
        let inside: Vec<f64> = match &img.fov {
            None => ys.iter().copied().filter(|v| v.is_finite()).collect(),
            Some(m) => ys
                .iter()
                .zip(m)
                .filter(|&(v, &inside)| inside && v.is_finite())
                .map(|(&v, _)| v)
                .collect(),
        };
        let mut inside = inside;
        // the 99th percentile by selection (the element a full sort would put there)
        let at = ((inside.len() as f64 * 0.99) as usize).min(inside.len().saturating_sub(1));
        let p99 = if inside.is_empty() {
            0.0
        } else {
            *inside.select_nth_unstable_by(at, f64::total_cmp).1
        };
        Ok(ys.mapv(|v| {
            if p99 > 0.0 {
                (v / p99).clamp(0.0, 1.0)
            } else {
                0.0
            }
        }))
    }

    fn previous_lobe_rows(
        p: &SpecularParams,
        img: &RgbImage,
        sh: &Shading,
        mut f: impl FnMut(usize, &[f64]),
    ) -> Result<()> {
        check_range("strength", p.strength, 0.0, 20.0)?;
        check_range("shininess", p.shininess, 1.0, 20000.0)?;
        check_range("relief", p.relief, 0.0, 1.0)?;
        check_range("smooth", p.smooth, 0.0, 0.1)?;
        check_range("focal", p.focal, 0.05, 100.0)?;
        let g = sh.g;
        let (rows, cols) = img.shape();
        let ybar = mean_of_luminance(img, &sh.y);
        let l = if ybar > 0.0 {
            sh.y.mapv(|v| v as f64 / ybar)
        } else {
            Array2::zeros((rows, cols))
        };
        let k = gaussian_psf(p.smooth * g.diameter)?;
        let ls = smooth_in_mask(&l, img.fov.as_ref(), &k);
        let ls = ls.as_standard_layout();
        let ls = ls.as_slice().expect("standard layout");
        let scale = p.relief * g.diameter;
        let focal = p.focal * g.diameter;
        let all = Array2::from_elem((0, 0), true);
        let fov = img.fov.as_ref().map(|m| m.as_standard_layout());
        let ok: &[bool] = match &fov {
            Some(m) => m.as_slice().expect("standard layout"),
            None => all.as_slice().expect("standard layout"),
        };
        let inside = |i: usize| ok.is_empty() || ok[i];
        let (cy, cx) = (g.centre[0], g.centre[1]);
        // n·h of pixel i = (r, c) from its height slopes (the module docs' formula, in this order
        // of operations wherever it is evaluated)
        let ndh_of = |r: usize, c: usize, hx: f64, hy: f64| -> f64 {
            let nn = (hx * hx + hy * hy + 1.0).sqrt();
            let n = [-hx / nn, -hy / nn, 1.0 / nn];
            let v = [-(c as f64 - cx), -(r as f64 - cy), focal];
            let vn = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            let ndh = (n[0] * v[0] + n[1] * v[1] + n[2] * v[2]) / vn;
            ndh.max(0.0)
        };
        // a pixel whose four neighbours are all in the frame and the field takes central
        // differences both ways
        let central = |i: usize| {
            inside(i) && inside(i - 1) && inside(i + 1) && inside(i - cols) && inside(i + cols)
        };
        let mut row = vec![0.0f64; cols];
        for r in 0..rows {
            let interior = r > 0 && r + 1 < rows && cols > 2;
            if interior {
                // every pixel with central differences, branch-free (vectorises); the others are
                // redone below
                let at = r * cols;
                for c in 1..cols - 1 {
                    let i = at + c;
                    let hx = scale * ((ls[i + 1] - ls[i - 1]) / 2.0);
                    let hy = scale * ((ls[i + cols] - ls[i - cols]) / 2.0);
                    row[c] = ndh_of(r, c, hx, hy);
                }
            }
            for (c, ndh_out) in row.iter_mut().enumerate() {
                let i = r * cols + c;
                if interior && c > 0 && c + 1 < cols && central(i) {
                    continue;
                }
                *ndh_out = 0.0;
                if !inside(i) {
                    continue;
                }
                // central differences, one-sided where a neighbour is outside the frame or field
                let d = |a: Option<usize>, b: Option<usize>| -> f64 {
                    let a = a.filter(|&j| inside(j));
                    let b = b.filter(|&j| inside(j));
                    match (a, b) {
                        (Some(a), Some(b)) => (ls[b] - ls[a]) / 2.0,
                        (Some(a), None) => ls[i] - ls[a],
                        (None, Some(b)) => ls[b] - ls[i],
                        (None, None) => 0.0,
                    }
                };
                let hx = scale * d((c > 0).then(|| i - 1), (c + 1 < cols).then_some(i + 1));
                let hy = scale
                    * d(
                        (r > 0).then(|| i - cols),
                        (r + 1 < rows).then_some(i + cols),
                    );
                *ndh_out = ndh_of(r, c, hx, hy);
            }
            // 0 ↦ exp(s·ln(smallest normal)) = 0 for s ≥ 1
            pow_unit_row(&mut row, p.shininess);
            f(r, &row);
        }
        Ok(())
    }

    fn previous_apply(p: &SpecularParams, img: &RgbImage) -> Result<RgbImage> {
        if p.strength == 0.0 {
            return Ok(img.clone());
        }
        let sh = Shading::new(img)?;
        let e = previous_irradiance(img, &sh)?;
        let e = e.as_standard_layout();
        let e = e.as_slice().expect("standard layout");
        let mut out = img.data.as_standard_layout().into_owned();
        let (rows, cols) = img.shape();
        let plane = rows * cols;
        {
            let data = out.as_slice_mut().expect("standard layout");
            previous_lobe_rows(p, img, &sh, |r, lobe| {
                let at = r * cols;
                for (c, &lobe) in lobe.iter().enumerate() {
                    // S = lobe · (strength · E), as `specular_map` forms it; the lobe is 0
                    // outside the field of view
                    let add = lobe * (p.strength * e[at + c]);
                    if add > 0.0 {
                        for k in 0..3 {
                            let v = &mut data[k * plane + at + c];
                            let x = *v as f64;
                            *v = x.max((x + add).min(1.0)) as f32;
                        }
                    }
                }
            })?;
        }
        Ok(img.with_data(out)?)
    }

    /// A shaded test image (smooth ramps and stripes), times `gain`: at gain 0.02 most pixels
    /// are darker than 2⁻⁶, where a left-out lobe below [`NEGLIGIBLE`] can show.
    fn shaded(gain: f32, fov: Option<Array2<bool>>) -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 90, 110), |(k, r, c)| {
                let x = (r * 17 + c * 5 + k * 3) as f32;
                gain * (0.1 + 0.5 * (0.5 + 0.5 * (x * 0.05).sin()) + 0.002 * (r + c) as f32)
            }),
            [1e-2, 1e-2],
            Modality::Endoscopy,
            fov,
        )
        .unwrap()
    }

    /// With every lobe computed (`cut` 0) `apply` gives the previous code's bytes (and
    /// `lobe_map`, `irradiance_map` theirs); with the lobes below [`NEGLIGIBLE`] left out, a
    /// pixel differs only where it keeps its input value, by at most the left-out
    /// `S < 2⁻³⁰` and the previous code's rounding of `I + S` to f32 (half an f32 step).
    #[test]
    fn apply_matches_the_previous_code() {
        let disc = ndarray::Array2::from_shape_fn((90, 110), |(r, c)| {
            (r as f64 - 45.0).hypot(c as f64 - 55.0) < 42.0
        });
        let mut dropped = 0;
        for gain in [1.0, 0.02] {
            for fov in [None, Some(disc.clone())] {
                let img = shaded(gain, fov);
                let sh = Shading::new(&img).unwrap();
                let e = irradiance_map(&img).unwrap();
                let e0 = previous_irradiance(&img, &sh).unwrap();
                assert!(e.iter().zip(&e0).all(|(a, b)| a.to_bits() == b.to_bits()));
                for (strength, shininess, smooth) in [
                    (3.0, 150.0, 0.01),
                    (20.0, 1.0, 0.003),
                    (0.5, 5000.0, 0.0),
                    (4.0, 120.0, 0.003),
                ] {
                    let p = SpecularParams {
                        strength,
                        shininess,
                        relief: 0.05,
                        smooth,
                        focal: 0.6,
                    };
                    let mut lobe0 = Vec::new();
                    previous_lobe_rows(&p, &img, &sh, |_, row| lobe0.extend_from_slice(row))
                        .unwrap();
                    let lobe = lobe_map(&p, &img).unwrap();
                    assert!(lobe
                        .iter()
                        .zip(&lobe0)
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                    let want = previous_apply(&p, &img).unwrap();
                    let full = apply_from(&p, &img, 0.0).unwrap();
                    assert!(full
                        .data
                        .iter()
                        .zip(&want.data)
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                    let got = apply(&p, &img).unwrap();
                    for ((&a, &b), &x) in got.data.iter().zip(&want.data).zip(&img.data) {
                        if a.to_bits() != b.to_bits() {
                            assert_eq!(a.to_bits(), x.to_bits());
                            // 2⁻³⁰ as stated (not `NEGLIGIBLE`, so that the test sees a change of it)
                            let bound = 2f64.powi(-30) + 0.5 * f32::EPSILON as f64 * b as f64;
                            assert!(((a - b) as f64).abs() <= bound, "{a} vs {b}");
                            dropped += 1;
                        }
                    }
                    assert!(got.data != img.data);
                }
            }
        }
        // the bound is exercised: dark pixels where a left-out lobe would have shown
        assert!(dropped > 0);
    }

    #[test]
    fn lobe_and_apply_match_the_previous_loop() {
        let fov = ndarray::Array2::from_shape_fn((90, 110), |(r, c)| {
            (r as f64 - 45.0).hypot(c as f64 - 55.0) < 42.0
        });
        for fov in [None, Some(fov)] {
            let img = RgbImage::new(
                Array3::from_shape_fn((3, 90, 110), |(k, r, c)| {
                    let x = (r * 17 + c * 5 + k * 3) as f32;
                    0.1 + 0.5 * (0.5 + 0.5 * (x * 0.05).sin()) + 0.002 * (r + c) as f32
                }),
                [1e-2, 1e-2],
                Modality::Endoscopy,
                fov,
            )
            .unwrap();
            let p = SpecularParams {
                strength: 3.0,
                shininess: 150.0,
                relief: 0.05,
                smooth: 0.01,
                focal: 0.6,
            };
            let got = lobe_map(&p, &img).unwrap();
            let want = lobe_reference(&p, &img).unwrap();
            // the power by exp(s·ln x) instead of powf: a few ulp per unit of |s·ln x| = |ln b|
            for (a, b) in got.iter().zip(&want) {
                let tol = 1e-15 * b * (1.0 + b.ln().abs());
                assert!(
                    (a - b).abs() <= tol || (*b < 1e-300 && *a < 1e-290),
                    "{a} vs {b}"
                );
            }
            assert!(want.iter().any(|&v| v > 0.1));
            // apply: S from the reference lobe, added per pixel as before: the same f32 pixels
            // up to one rounding step where S differs in its last bits
            let mut s = want;
            s.zip_mut_with(&irradiance_map(&img).unwrap(), |s, &e| *s *= p.strength * e);
            let mut out = img.data.clone();
            for ((_, r, c), v) in out.indexed_iter_mut() {
                let add = s[[r, c]];
                if add > 0.0 && img.in_fov(r, c) {
                    let x = *v as f64;
                    *v = x.max((x + add).min(1.0)) as f32;
                }
            }
            let got = apply(&p, &img).unwrap();
            let mut changed = 0;
            for (a, b) in got.data.iter().zip(&out) {
                assert!((a - b).abs() <= 1.2e-7, "{a} vs {b}");
                changed += (a != b) as usize;
            }
            assert!(changed * 1000 < out.len(), "{changed} pixels differ");
            assert!(got.data != img.data);
        }
    }

    #[test]
    fn flat_field_is_cos_power_of_the_angle_off_axis() {
        let img = RgbImage::new(
            Array3::from_elem((3, 31, 41), 0.2f32),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let p = params();
        let s = specular_map(&p, &img).unwrap();
        let f = 31.0;
        for ((r, c), &v) in s.indexed_iter() {
            let (y, x) = (r as f64 - 15.0, c as f64 - 20.0);
            let e = 0.5 * (f / (x * x + y * y + f * f).sqrt()).powf(50.0);
            assert!((v - e).abs() < 1e-12, "{r},{c}: {v} vs {e}");
        }
        let out = apply(&p, &img).unwrap();
        assert!((out.data[[0, 15, 20]] - 0.7).abs() < 1e-6);
        // zero strength is the identity
        let zero = SpecularParams {
            strength: 0.0,
            ..p.clone()
        };
        assert_eq!(apply(&zero, &img).unwrap().data, img.data);
        // saturation: a strong highlight clips to white
        let strong = SpecularParams { strength: 5.0, ..p };
        let o = apply(&strong, &img).unwrap();
        assert_eq!(o.data[[2, 15, 20]], 1.0);
    }

    /// A luminance ramp is a tilted plane of known slope; the highlight peaks where its normal
    /// bisects light and view (n = v): at x − cx = f·∂h/∂x. Outside the field nothing changes.
    #[test]
    fn peak_where_the_normal_bisects_light_and_view() {
        let (rows, cols) = (21usize, 201usize);
        let img = RgbImage::new(
            Array3::from_shape_fn((3, rows, cols), |(_, _, c)| 0.1 + 0.002 * c as f32),
            [1.0, 1.0],
            Modality::Endoscopy,
            Some(Array2::from_shape_fn((rows, cols), |(r, _)| r != 0)),
        )
        .unwrap();
        let p = SpecularParams {
            strength: 0.5,
            shininess: 400.0,
            relief: 0.5,
            smooth: 0.0,
            focal: 1.0,
        };
        let g = fov_geometry(&img).unwrap();
        let ybar = mean_luminance(&img);
        // h = relief·D·Y/Ȳ, ∂Y/∂x = 0.002 per pixel
        let hx = p.relief * g.diameter * 0.002 / ybar;
        let f = p.focal * g.diameter;
        let expected = g.centre[1] + f * hx;
        assert!(expected > 110.0 && expected < 190.0, "{expected}");
        let s = lobe_map(&p, &img).unwrap().mapv(|v| 0.5 * v);
        let row = 10;
        let peak = (0..cols)
            .max_by(|&a, &b| s[[row, a]].total_cmp(&s[[row, b]]))
            .unwrap();
        assert!(
            (peak as f64 - expected).abs() <= 1.0,
            "peak {peak}, expected {expected}"
        );
        // the lobe there is the full strength (n = v to within a pixel's angle)
        assert!(s[[row, peak]] > 0.49);
        let out = apply(&p, &img).unwrap();
        for c in 0..cols {
            for k in 0..3 {
                assert_eq!(out.data[[k, 0, c]], img.data[[k, 0, c]]);
            }
        }
        assert!(apply(
            &SpecularParams {
                shininess: 0.0,
                ..p
            },
            &img
        )
        .unwrap_err()
        .to_string()
        .contains("shininess"));
    }
}
