//! The 3-D form of `mri.bias_field`: one smooth multiplicative field over the whole volume, as
//! a receive coil's sensitivity is (the 2-D operator, its model and its recipe parameters are
//! in [`crate::bias_field`]).
//!
//! # Model
//! `y = b · x` with `b = exp(L)`, `L` smooth in three dimensions:
//! - `polynomial`: `L(u, v, w) = Σ_{a+b+c ≤ order} c_abc · uᵃ vᵇ wᶜ` with normalised voxel-centre
//!   coordinates `u, v, w ∈ [−1, 1]` along array axes 0, 1, 2, coefficients ordered `a` outer,
//!   then `b`, then `c` (TorchIO's `RandomBiasField` is this 3-D polynomial);
//!   `(order+1)(order+2)(order+3)/6` coefficients;
//! - `grid`: `grid³` control values (axis 0 outer) upsampled with the uniform cubic B-spline,
//!   separably along each axis (edge values extended), as in N4's B-spline bias model.
//!
//! With `range = r` the log-field is centred and scaled so that the field's maximum over the
//! **object** (voxels above the volume's Otsu threshold) divided by its minimum there is
//! exactly `r`, with geometric mid-range 1: the same normalisation as the 2-D operator, over the
//! volume instead of one slice, so neighbouring slices see one continuous field (a per-slice
//! field would jump from slice to slice). Zero voxels stay zero.
//!
//! References: J. G. Sled et al., IEEE TMI 17(1), 1998; N. J. Tustison et al., IEEE TMI 29(6),
//! 2010 (N4); F. Pérez-García et al., "TorchIO", CMPB 208, 2021 (`RandomBiasField`).

use crate::bias_field::{norm_coords, spline_taps, BiasField, BiasFieldKnobs, BiasMode};
use crate::{MriError, Result};
use artefact_core::{Image, ParamSpec, SampleRng, Volume, VolumeOperator};
use ndarray::{Array2, Array3};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Parameters of the 3-D bias field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeBiasFieldParams {
    pub mode: BiasMode,
    /// Polynomial order (mode `polynomial`).
    pub order: usize,
    /// Control points per axis (mode `grid`, ≥ 2).
    pub grid: usize,
    /// Polynomial: `(order+1)(order+2)(order+3)/6` coefficients; grid: `grid³` control values.
    pub coefficients: Vec<f64>,
    /// Max/min of the field over the object (≥ 1); `None` = raw `exp(L)`.
    pub range: Option<f64>,
}

fn perr(param: &'static str, reason: String) -> MriError {
    MriError::Param { param, reason }
}

impl VolumeBiasFieldParams {
    /// Number of coefficients the model needs.
    pub fn needed(&self) -> Result<usize> {
        match self.mode {
            BiasMode::Polynomial => {
                if self.order > 16 {
                    return Err(perr("order", format!("{} is above 16", self.order)));
                }
                let o = self.order;
                Ok((o + 1) * (o + 2) * (o + 3) / 6)
            }
            BiasMode::Grid => {
                if !(2..=32).contains(&self.grid) {
                    return Err(perr(
                        "grid",
                        format!("{} control points; need 2 to 32", self.grid),
                    ));
                }
                Ok(self.grid.pow(3))
            }
        }
    }

    fn validate(&self) -> Result<()> {
        let want = self.needed()?;
        if self.coefficients.len() != want {
            return Err(perr(
                "coefficients",
                format!(
                    "{} values given, the model needs {want}",
                    self.coefficients.len()
                ),
            ));
        }
        if !self.coefficients.iter().all(|c| c.is_finite()) {
            return Err(perr("coefficients", "not finite".into()));
        }
        if let Some(r) = self.range {
            if !(r.is_finite() && r >= 1.0) {
                return Err(perr("range", format!("{r} must be finite and ≥ 1")));
            }
        }
        Ok(())
    }

    /// The log-field `L` on a `(n0, n1, n2)` grid (before range normalisation).
    pub fn log_field(&self, shape: (usize, usize, usize)) -> Result<Array3<f64>> {
        self.validate()?;
        let (n0, n1, n2) = shape;
        let c = &self.coefficients;
        Ok(match self.mode {
            BiasMode::Polynomial => {
                let o = self.order;
                let (u, v, w) = (norm_coords(n0), norm_coords(n1), norm_coords(n2));
                // planes[a][j, k] = Σ_{b+c ≤ o−a} c_abc vⱼᵇ w_kᶜ
                let mut planes = vec![Array2::<f64>::zeros((n1, n2)); o + 1];
                let mut idx = 0;
                for (a, plane) in planes.iter_mut().enumerate() {
                    for b in 0..=(o - a) {
                        for cc in 0..=(o - a - b) {
                            let coef = c[idx];
                            idx += 1;
                            if coef == 0.0 {
                                continue;
                            }
                            for (j, &vj) in v.iter().enumerate() {
                                let vb = coef * vj.powi(b as i32);
                                for (k, &wk) in w.iter().enumerate() {
                                    plane[[j, k]] += vb * wk.powi(cc as i32);
                                }
                            }
                        }
                    }
                }
                Array3::from_shape_fn(shape, |(i, j, k)| {
                    let mut s = 0.0;
                    let mut p = 1.0;
                    for plane in &planes {
                        s += p * plane[[j, k]];
                        p *= u[i];
                    }
                    s
                })
            }
            BiasMode::Grid => {
                let g = self.grid;
                let (t0, t1, t2) = (spline_taps(n0, g), spline_taps(n1, g), spline_taps(n2, g));
                // along axis 2, then 1, then 0
                let a = Array3::from_shape_fn((g, g, n2), |(r0, r1, k)| {
                    let (ix, wt) = &t2[k];
                    (0..4)
                        .map(|t| wt[t] * c[(r0 * g + r1) * g + ix[t]])
                        .sum::<f64>()
                });
                let b = Array3::from_shape_fn((g, n1, n2), |(r0, j, k)| {
                    let (ix, wt) = &t1[j];
                    (0..4).map(|t| wt[t] * a[[r0, ix[t], k]]).sum::<f64>()
                });
                Array3::from_shape_fn(shape, |(i, j, k)| {
                    let (ix, wt) = &t0[i];
                    (0..4).map(|t| wt[t] * b[[ix[t], j, k]]).sum::<f64>()
                })
            }
        })
    }
}

/// The 3-D form of [`BiasField`], sampled from the same recipe spec (mode, order or grid,
/// coefficient magnitude, range); see the module docs.
impl VolumeOperator for BiasField {
    type VolumeParams = VolumeBiasFieldParams;

    fn sample_volume(spec: &ParamSpec, rng: &mut SampleRng) -> Result<VolumeBiasFieldParams> {
        let BiasFieldKnobs {
            mode,
            order,
            grid,
            coefficients: c,
            range,
        } = BiasFieldKnobs::sample(spec, rng)?;
        let mut p = VolumeBiasFieldParams {
            mode,
            order,
            grid,
            coefficients: Vec::new(),
            range: Some(range),
        };
        let n = p.needed()?;
        p.coefficients = (0..n)
            .map(|_| {
                if c > 0.0 {
                    rng.random_range(-c..=c)
                } else {
                    0.0
                }
            })
            .collect();
        Ok(p)
    }

    fn apply_volume(params: &VolumeBiasFieldParams, volume: &Volume) -> Result<Volume> {
        if volume.data.iter().any(|v| !v.is_finite()) {
            return Err(MriError::Input("volume has NaN or infinite voxels".into()));
        }
        let l = params.log_field(volume.data.dim())?;
        let x = volume.data.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let ls = l.as_slice().expect("standard layout");
        let (lo, hi) = match params.range {
            None => (0.0, 0.0),
            Some(_) => {
                // the object: voxels above the volume's Otsu threshold (all if none)
                let (n0, n1, n2) = volume.data.dim();
                let tall = Image::new(
                    x.to_owned()
                        .into_shape_with_order((n0 * n1, n2))
                        .expect("standard layout"),
                    [1.0, 1.0],
                    volume.modality,
                    volume.unit,
                )?;
                let t = tall.otsu_threshold();
                let pick = |(&v, &xv): (&f64, &f32)| t.is_none_or(|t| xv > t).then_some(v);
                let mut it = ls.iter().zip(xs).filter_map(pick).peekable();
                if it.peek().is_none() {
                    min_max(ls.iter().copied())
                } else {
                    min_max(it)
                }
            }
        };
        let out: Vec<f32> = match params.range {
            None => xs
                .iter()
                .zip(ls)
                .map(|(&x, &v)| if x != 0.0 { x * (v as f32).exp() } else { x })
                .collect(),
            Some(r) => {
                let spread = hi - lo;
                if spread <= 1e-12 {
                    return Ok(volume.clone());
                }
                let (mid, k) = (0.5 * (hi + lo), r.ln() / spread);
                xs.iter()
                    .zip(ls)
                    .map(|(&x, &v)| {
                        if x != 0.0 {
                            x * (((v - mid) * k) as f32).exp()
                        } else {
                            x
                        }
                    })
                    .collect()
            }
        };
        let data = Array3::from_shape_vec(volume.data.dim(), out).expect("same voxels");
        Ok(Volume::with_affine(
            data,
            volume.spacing,
            volume.affine,
            volume.modality,
            volume.unit,
        )?)
    }
}

fn min_max(it: impl Iterator<Item = f64>) -> (f64, f64) {
    it.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    })
}
