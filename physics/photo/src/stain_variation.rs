//! Stain variation of H&E slides: the operator `photo.stain` — concentrations scaled and stain
//! colours (hues) rotated along the image's own Macenko stain vectors, then re-synthesised by
//! Beer–Lambert.
//!
//! # Model
//! Per image, the haematoxylin and eosin unit OD vectors `v_H`, `v_E` are estimated with
//! Macenko's method ([`crate::stain::macenko`]; if the image has too few stained pixels for
//! it, Ruifrok & Johnston's standard H&E vectors are used). Each field-of-view pixel's optical
//! density `OD = −log10(I/I₀)` is unmixed into concentrations `c = (c_H, c_E, c_R)` in the
//! basis `(v_H, v_E, v_R = v_H × v_E)`. Where a stain is present (`c_s > 0`) it is replaced by
//! `scale_s · c_s` along the **rotated** vector `R_g(θ_s)·v_s`, where `R_g(θ)` is the rotation
//! by `θ` about the grey axis `g = (1,1,1)/√3` of OD space (a hue shift that keeps the stain's
//! total absorbance `g·v`):
//!
//! ```text
//! OD' = OD + Σ_{s∈{H,E}, c_s>0} (scale_s · c_s · R_g(θ_s) v_s − c_s · v_s),   I' = I₀·10^(−OD')
//! ```
//!
//! The residual `c_R` and negative concentrations (glass, noise) are kept, so
//! `scale = 1, θ = 0` returns the input up to f32 rounding. A channel's OD is not taken below
//! `min(OD, 0)` (a rotation can make a component negative; light is not created).
//!
//! # Units
//! `*_scale`: factor on the concentration; `*_hue_deg`: degrees about the grey axis; `i0`:
//! linear light of the blank slide (1 = white).
//!
//! # References
//! - M. Macenko et al., "A method for normalizing histology slides for quantitative
//!   analysis", IEEE ISBI 2009.
//! - A. C. Ruifrok, D. A. Johnston, "Quantification of histochemical staining by color
//!   deconvolution", Anal. Quant. Cytol. Histol. 23(4), 2001.
//! - D. Tellez et al., "Whole-slide mitosis detection in H&E breast histology using PHH3 as a
//!   reference to train distilled stain-invariant convolutional networks", IEEE TMI 2018 (H&E
//!   stain augmentation by perturbing concentrations).

use crate::error::check_range;
use crate::simd::{od_row, stain_shift_row};
use crate::stain::{macenko, macenko_from_kept, MacenkoSamples, StainBasis, StainShift};
use crate::white_balance::invert;
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};

artefact_core::params! {
    /// Parameters of [`StainVariation`] (recorded in manifests, replayed exactly).
    pub struct StainVariationParams {
        /// factor on the haematoxylin concentration (nuclei: blue-purple)
        pub h_scale: f64 = float(1.2, [0.0, 5.0], "factor"),
        /// factor on the eosin concentration (cytoplasm, stroma: pink)
        pub e_scale: f64 = float(0.85, [0.0, 5.0], "factor"),
        /// hue shift of the haematoxylin vector: rotation about the grey axis of OD space
        pub h_hue_deg: f64 = float(0.0, [-60.0, 60.0], "deg"),
        /// hue shift of the eosin vector: rotation about the grey axis of OD space
        pub e_hue_deg: f64 = float(0.0, [-60.0, 60.0], "deg"),
        /// blank-slide (glass) intensity in linear light
        pub i0: f64 = float(1.0, [0.05, 2.0], "linear"),
    }
}

/// The operator `photo.stain` (see the module docs).
pub struct StainVariation;

static INFO: OpInfo = OpInfo {
    name: "photo.stain",
    modality: "photo",
    doc: "H&E stain variation: the image's own Macenko stain vectors, haematoxylin and eosin concentrations scaled and their colours rotated about the grey axis of optical density, re-synthesised by Beer–Lambert.",
    params: StainVariationParams::PARAMS,
};

impl ColourOperator for StainVariation {
    type Params = StainVariationParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<StainVariationParams> {
        Ok(StainVariationParams::sample(spec, rng)?)
    }
    fn apply(p: &StainVariationParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// Rotation of `v` by `deg` degrees about the grey axis `(1,1,1)/√3` (Rodrigues).
pub fn rotate_about_grey(v: [f64; 3], deg: f64) -> [f64; 3] {
    let g = 1.0 / 3f64.sqrt();
    let (s, c) = deg.to_radians().sin_cos();
    let gv = g * (v[0] + v[1] + v[2]);
    let cross = [g * (v[2] - v[1]), g * (v[0] - v[2]), g * (v[1] - v[0])];
    std::array::from_fn(|k| v[k] * c + cross[k] * s + g * gv * (1.0 - c))
}

/// The stain basis the operator uses: Macenko's, or Ruifrok's H&E when the image has too few
/// stained pixels for Macenko.
pub fn estimated_basis(img: &RgbImage, i0: f64) -> StainBasis {
    macenko(img, i0).unwrap_or_else(|_| StainBasis::ruifrok_he())
}

/// Perturb the stains of `img` (see module docs).
///
/// Two passes over rows: optical densities (kept by channel; the field of view's are
/// Macenko's samples), then every row's stains moved and taken back to intensity
/// ([`StainShift`]). The logarithm and exponential are the branch-free ones of
/// `artefact_core::fastmath` over rows (vectorised; within a few ulp of the library
/// functions: the output is tested against the library form).
pub fn apply(p: &StainVariationParams, img: &RgbImage) -> Result<RgbImage> {
    let (rows, cols) = img.shape();
    let n = rows * cols;
    let data = img.data.as_standard_layout();
    let data = data.as_slice().expect("standard layout");
    // the field of view as one row-major slice, looked up once
    let fov = img.fov.as_ref().map(|m| m.as_standard_layout());
    let fov = fov.as_ref().map(|m| m.as_slice().expect("standard layout"));
    let mask_row = |r: usize| fov.map(|m| &m[r * cols..(r + 1) * cols]);
    // every pixel's optical densities, row by row; the field of view's are Macenko's samples
    let mut samples = MacenkoSamples::new(n);
    for r in 0..rows {
        let at = r * cols;
        for (k, od) in samples.row_mut(at, cols).into_iter().enumerate() {
            od_row(&data[k * n + at..][..cols], p.i0, od);
        }
        samples.offer(at, cols, mask_row(r));
    }
    // `estimated_basis` on the same samples
    let basis = check_range("i0", p.i0, 1e-6, 1e6)
        .and_then(|_| macenko_from_kept(&samples))
        .unwrap_or_else(|_| StainBasis::ruifrok_he());
    // c = V⁻ᵀ·OD with the inverse computed once
    let vt: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| basis.vectors[j][i]));
    let inv = invert(&vt).ok_or_else(|| PhotoError::Input("stain basis is singular".into()))?;
    let shift = StainShift {
        unmix: [inv[0], inv[1]],
        from: [basis.vectors[0], basis.vectors[1]],
        to: [
            rotate_about_grey(basis.vectors[0], p.h_hue_deg),
            rotate_about_grey(basis.vectors[1], p.e_hue_deg),
        ],
        scale: [p.h_scale, p.e_scale],
        i0: p.i0,
    };
    // every value is written below: inside the field by the shift, outside copied
    let mut out = vec![0.0f32; 3 * n];
    let (p0, rest) = out.split_at_mut(n);
    let (p1, p2) = rest.split_at_mut(n);
    let ods = samples.od();
    for r in 0..rows {
        // the first pass's optical densities (outside the field: unused)
        let at = r * cols;
        let [o0, o1, o2] = ods.map(|o| &o[at..at + cols]);
        let m = mask_row(r);
        let (d0, d1, d2) = (
            &mut p0[at..at + cols],
            &mut p1[at..at + cols],
            &mut p2[at..at + cols],
        );
        stain_shift_row(&shift, [o0, o1, o2], [&mut *d0, &mut *d1, &mut *d2]);
        if let Some(m) = m {
            for (k, d) in [d0, d1, d2].into_iter().enumerate() {
                let src = &data[k * n + at..k * n + at + cols];
                for ((d, &s), &inside) in d.iter_mut().zip(src).zip(m) {
                    if !inside {
                        *d = s;
                    }
                }
            }
        }
    }
    let out = ndarray::Array3::from_shape_vec((3, rows, cols), out).expect("3 × rows × cols");
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stain::{intensity, intensity_exp, od, od_ln};
    use artefact_core::Modality;
    use ndarray::{Array2, Array3};

    fn angle(a: [f64; 3], b: [f64; 3]) -> f64 {
        let n = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        ((a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (n(a) * n(b)))
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees()
    }

    /// Mixtures from pure H to pure E of Ruifrok's vectors, with a little deterministic noise.
    fn two_stain(fov: Option<Array2<bool>>) -> RgbImage {
        let b = StainBasis::ruifrok_he();
        let (rows, cols) = (60, 80);
        RgbImage::new(
            Array3::from_shape_fn((3, rows, cols), |(k, r, c)| {
                let i = r * cols + c;
                let t = (((i * 37) % 121) as f64 / 100.0 - 0.1).clamp(0.0, 1.0);
                let s = 0.4 + ((i * 53) % 97) as f64 / 97.0;
                let o = b.od([s * t, s * (1.0 - t), 0.0]);
                let noise = (((i * 7919 + k * 31) % 1000) as f64 / 1000.0 - 0.5) * 0.004;
                intensity(o[k] + noise, 1.0) as f32
            }),
            [5e-4, 5e-4],
            Modality::Histopathology,
            fov,
        )
        .unwrap()
    }

    fn identity() -> StainVariationParams {
        StainVariationParams {
            h_scale: 1.0,
            e_scale: 1.0,
            h_hue_deg: 0.0,
            e_hue_deg: 0.0,
            i0: 1.0,
        }
    }

    #[test]
    fn identity_and_field_of_view() {
        let img = two_stain(None);
        let out = apply(&identity(), &img).unwrap();
        for (a, b) in out.data.iter().zip(img.data.iter()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        let mask = Array2::from_shape_fn((60, 80), |(r, c)| r + c > 30);
        let img = two_stain(Some(mask.clone()));
        let p = StainVariationParams {
            h_scale: 1.6,
            e_hue_deg: 12.0,
            ..identity()
        };
        let out = apply(&p, &img).unwrap();
        let mut changed = 0;
        for ((k, r, c), &v) in out.data.indexed_iter() {
            if !mask[[r, c]] {
                assert_eq!(v.to_bits(), img.data[[k, r, c]].to_bits());
            } else if (v - img.data[[k, r, c]]).abs() > 1e-3 {
                changed += 1;
            }
        }
        assert!(changed > 1000);
        // deterministic: same params, same bytes
        assert_eq!(apply(&p, &img).unwrap().data, out.data);
        assert!(StainVariation::apply(
            &StainVariationParams {
                h_scale: -1.0,
                ..identity()
            },
            &img
        )
        .unwrap_err()
        .to_string()
        .contains("h_scale"));
    }

    /// Unmixed in the operator's basis, each stained pixel's H and E concentrations are exactly
    /// the set multiples of the input's (Beer–Lambert synthesis is exact).
    #[test]
    fn concentrations_scale_exactly() {
        let img = two_stain(None);
        let p = StainVariationParams {
            h_scale: 1.5,
            e_scale: 0.6,
            ..identity()
        };
        let out = apply(&p, &img).unwrap();
        let b = estimated_basis(&img, 1.0);
        let (rows, cols) = img.shape();
        let mut n = 0;
        for r in 0..rows {
            for c in 0..cols {
                let o = |x: &RgbImage| -> [f64; 3] {
                    std::array::from_fn(|k| od(x.data[[k, r, c]] as f64, 1.0))
                };
                let (ci, co) = (
                    b.concentrations(o(&img)).unwrap(),
                    b.concentrations(o(&out)).unwrap(),
                );
                for (s, f) in [(0, 1.5), (1, 0.6)] {
                    if ci[s] > 0.0 {
                        assert!((co[s] - f * ci[s]).abs() < 2e-4, "{ci:?} {co:?}");
                        n += 1;
                    }
                }
                assert!((co[2] - ci[2]).abs() < 2e-4);
            }
        }
        assert!(n > 4000);
    }

    /// The hue shift rotates the stain vector about the grey axis: Macenko on the output
    /// recovers the rotated haematoxylin (and the unchanged eosin) within 2°.
    #[test]
    fn hue_shift_rotates_the_recovered_stain_vector() {
        let img = two_stain(None);
        let truth = StainBasis::ruifrok_he();
        for deg in [-15.0, 10.0, 25.0] {
            let out = apply(
                &StainVariationParams {
                    h_hue_deg: deg,
                    ..identity()
                },
                &img,
            )
            .unwrap();
            let est = macenko(&out, 1.0).unwrap();
            let want = rotate_about_grey(truth.vectors[0], deg);
            let (ah, ae) = (
                angle(est.vectors[0], want),
                angle(est.vectors[1], truth.vectors[1]),
            );
            assert!(ah < 2.0 && ae < 2.0, "{deg}°: H off by {ah}°, E by {ae}°");
            assert!(angle(want, truth.vectors[0]) > deg.abs() * 0.3);
        }
        // the rotation keeps the grey-axis component and the norm
        let v = rotate_about_grey([0.65, 0.70, 0.29], 33.0);
        assert!((v.iter().sum::<f64>() - 1.64).abs() < 1e-12);
        let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        assert!((n - (0.65f64 * 0.65 + 0.49 + 0.29 * 0.29).sqrt()).abs() < 1e-12);
        // a full turn is the identity
        let w = rotate_about_grey([0.65, 0.70, 0.29], 360.0);
        assert!((w[0] - 0.65).abs() < 1e-12);
    }

    /// The operator as first written (samples collected, then `macenko_from_od` by sorting
    /// exact angles, the library's logarithm and exponential per pixel, output buffer copied
    /// from the input): the reference `apply` must match within a rounding step.
    fn apply_reference(p: &StainVariationParams, img: &RgbImage) -> Result<RgbImage> {
        let (rows, cols) = img.shape();
        let n = rows * cols;
        let data = img.data.as_standard_layout();
        let data = data.as_slice().expect("standard layout");
        let inside = |i: usize| img.fov.as_ref().is_none_or(|m| m[[i / cols, i % cols]]);
        let ods: Vec<[f64; 3]> = (0..n)
            .filter(|&i| inside(i))
            .map(|i| std::array::from_fn(|k| od_ln(data[k * n + i] as f64, p.i0)))
            .collect();
        let basis = check_range("i0", p.i0, 1e-6, 1e6)
            .and_then(|_| crate::stain::macenko_from_od_reference(&ods))
            .unwrap_or_else(|_| StainBasis::ruifrok_he());
        let rot = [
            rotate_about_grey(basis.vectors[0], p.h_hue_deg),
            rotate_about_grey(basis.vectors[1], p.e_hue_deg),
        ];
        let scale = [p.h_scale, p.e_scale];
        let vt: [[f64; 3]; 3] =
            std::array::from_fn(|i| std::array::from_fn(|j| basis.vectors[j][i]));
        let inv = invert(&vt).unwrap();
        let mut out = data.to_vec();
        for (i, o) in (0..n).filter(|&i| inside(i)).zip(&ods) {
            let o = *o;
            let conc: [f64; 3] = std::array::from_fn(|i| (0..3).map(|k| inv[i][k] * o[k]).sum());
            let mut o2 = o;
            for s in 0..2 {
                if conc[s] > 0.0 {
                    for k in 0..3 {
                        o2[k] += scale[s] * conc[s] * rot[s][k] - conc[s] * basis.vectors[s][k];
                    }
                }
            }
            for k in 0..3 {
                out[k * n + i] = intensity_exp(o2[k].max(o[k].min(0.0)), p.i0) as f32;
            }
        }
        let out = Array3::from_shape_vec((3, rows, cols), out).unwrap();
        Ok(img.with_data(out)?)
    }

    /// The operator against the reference, with and without a field of view, severe
    /// parameters, a non-unit glass intensity and a blank slide (Ruifrok fallback).
    #[test]
    fn matches_the_reference() {
        let mask = Array2::from_shape_fn((60, 80), |(r, c)| (r * 3 + c) % 11 != 0 && r + c > 12);
        let blank = RgbImage::new(
            Array3::from_elem((3, 60, 80), 0.97),
            [5e-4, 5e-4],
            Modality::Histopathology,
            None,
        )
        .unwrap();
        for img in [two_stain(None), two_stain(Some(mask)), blank] {
            for p in [
                identity(),
                StainVariationParams {
                    h_scale: 2.2,
                    e_scale: 0.4,
                    h_hue_deg: 16.0,
                    e_hue_deg: -14.0,
                    i0: 0.93,
                },
            ] {
                let (got, want) = (apply(&p, &img).unwrap(), apply_reference(&p, &img).unwrap());
                // the branch-free ln/exp are within 2 ulp (f64) of the library's: at most
                // a rounding step of the f32 output (in practice none)
                for (&a, &b) in got.data.iter().zip(&want.data) {
                    assert!(
                        (a.to_bits() as i64 - b.to_bits() as i64).abs() <= 1,
                        "{a} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn blank_slide_falls_back_to_ruifrok() {
        let img = RgbImage::new(
            Array3::from_elem((3, 20, 20), 0.97),
            [5e-4, 5e-4],
            Modality::Histopathology,
            None,
        )
        .unwrap();
        assert_eq!(estimated_basis(&img, 1.0), StainBasis::ruifrok_he());
        assert!(apply(&identity(), &img).is_ok());
    }
}
