//! The 3-D form of `mri.undersampling`: a 3-D Cartesian acquisition of the whole volume with
//! readout along one in-plane axis and phase encoding along the other in-plane axis (`ky`, the
//! recipe's `phase_encode`: `rows` → array axis 1, `cols` → axis 2) and along the slice axis
//! (`kz`, partitions, array axis 0). The 2-D operator, its masks and parameters are in
//! [`crate::undersampling`].
//!
//! # Model
//! `x̂ = |F⁻¹ M F x|` (RSS over coils) with `M` a mask over the phase-encode plane
//! `(kz, ky)`, the same for every readout sample (readout is always fully sampled, so its
//! transform cancels and each readout position is an independent `(z, y)` problem):
//! - `poisson`: a 2-D variable-density Poisson disc over `(kz, ky)` with a
//!   `round(n·center_fraction)` calibration block per axis, the 3-D compressed-sensing
//!   pattern (Lustig et al. 2007); the acceleration is over the `nz·ny` phase-encode plane;
//! - `random`, `equispaced`, `equispaced_fraction`: the fastMRI line mask along `ky`, every
//!   partition `kz` acquired (1-D acceleration of a 3-D scan);
//! - `radial`: golden-angle spokes in every `(ky, kx)` partition plane, every `kz` acquired
//!   (stack of stars).
//!
//! Whenever `kz` is fully sampled its transform cancels too and the volume result is exactly
//! the 2-D operator applied to every slice with the same params (same mask): that is how the
//! line and radial kinds are computed. Coils: the birdcage maps are in-plane and constant
//! along the slice axis, as for the 3-D noise.
//!
//! References: M. Lustig, D. Donoho, J. M. Pauly, "Sparse MRI", MRM 58(6), 2007;
//! J. Zbontar et al., "fastMRI", arXiv:1811.08839.

use crate::coils::{check_coils, CoilMaps};
use crate::masks::poisson_disc_mask;
use crate::undersampling::{MaskKind, Undersampling, UndersamplingParams};
use crate::{MriError, Result};
use artefact_core::fft::{fft2c, ifft2c};
use artefact_core::{Complex32, Image, Operator, ParamSpec, SampleRng, Volume, VolumeOperator};
use ndarray::{s, Array2, Array3, Axis};
use rayon::prelude::*;

impl VolumeOperator for Undersampling {
    type VolumeParams = UndersamplingParams;

    fn sample_volume(spec: &ParamSpec, rng: &mut SampleRng) -> Result<UndersamplingParams> {
        Self::sample(spec, rng)
    }

    fn apply_volume(params: &UndersamplingParams, volume: &Volume) -> Result<Volume> {
        if volume.data.iter().any(|v| !v.is_finite()) {
            return Err(MriError::Input("volume has NaN or infinite voxels".into()));
        }
        let (nz, ny, nx) = volume.data.dim();
        let data = if params.mask == MaskKind::Poisson {
            poisson_3d(params, &volume.data)?
        } else {
            // kz fully sampled: the 2-D operator on every slice, one mask for all
            let slices: Vec<Array2<f32>> = (0..nz)
                .into_par_iter()
                .map(|k| {
                    let img = Image::new(
                        volume.data.index_axis(Axis(0), k).to_owned(),
                        [volume.spacing[1], volume.spacing[2]],
                        volume.modality,
                        volume.unit,
                    )?;
                    Ok(Undersampling::apply(params, &img)?.data)
                })
                .collect::<Result<_>>()?;
            let mut out = Array3::<f32>::zeros((nz, ny, nx));
            for (k, sl) in slices.into_iter().enumerate() {
                out.index_axis_mut(Axis(0), k).assign(&sl);
            }
            out
        };
        Ok(Volume::with_affine(
            data,
            volume.spacing,
            volume.affine,
            volume.modality,
            volume.unit,
        )?)
    }
}

/// The Poisson-disc case: a `(kz, k_pe)` mask applied per readout position, RSS over coils.
fn poisson_3d(params: &UndersamplingParams, x: &Array3<f32>) -> Result<Array3<f32>> {
    check_coils(params.coils)?;
    let (nz, ny, nx) = x.dim();
    // array axis of the in-plane phase encode; the other in-plane axis is readout
    let pe_axis = params.phase_encode.axis() + 1;
    let (n_pe, n_ro) = if pe_axis == 1 { (ny, nx) } else { (nx, ny) };
    if nz < 2 || n_pe < 2 {
        return Err(MriError::Input(format!(
            "3-D undersampling needs at least 2 partitions and 2 phase-encode lines, got {nz} × {n_pe}"
        )));
    }
    let mask = poisson_disc_mask(
        nz,
        n_pe,
        params.acceleration,
        params.center_fraction,
        params.vd_slope,
        params.seed,
    )?
    .mask;
    let maps = (params.coils > 1)
        .then(|| CoilMaps::birdcage(params.coils, ny, nx))
        .transpose()?;
    // one readout position: the (z, pe) plane of every coil, squared magnitudes summed
    let plane = |r: usize| -> Array2<f64> {
        let mut acc = Array2::<f64>::zeros((nz, n_pe));
        for c in 0..params.coils {
            let mut p = Array2::from_shape_fn((nz, n_pe), |(z, q)| {
                let (y, xx) = if pe_axis == 1 { (q, r) } else { (r, q) };
                let v = x[[z, y, xx]];
                match &maps {
                    Some(m) => m.map(c)[[y, xx]] * v,
                    None => Complex32::new(v, 0.0),
                }
            });
            fft2c(&mut p);
            ndarray::Zip::from(&mut p).and(&mask).for_each(|z, &m| {
                if !m {
                    *z = Complex32::new(0.0, 0.0);
                }
            });
            ifft2c(&mut p);
            ndarray::Zip::from(&mut acc)
                .and(&p)
                .for_each(|s, z| *s += z.norm_sqr() as f64);
        }
        acc
    };
    let planes: Vec<Array2<f64>> = (0..n_ro).into_par_iter().map(plane).collect();
    let mut out = Array3::<f32>::zeros((nz, ny, nx));
    for (r, p) in planes.into_iter().enumerate() {
        let mut dst = if pe_axis == 1 {
            out.slice_mut(s![.., .., r])
        } else {
            out.slice_mut(s![.., r, ..])
        };
        dst.zip_mut_with(&p, |d, &v| *d = v.sqrt() as f32);
    }
    Ok(out)
}
