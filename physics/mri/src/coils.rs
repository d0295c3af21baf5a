//! Synthetic receive-coil sensitivities and root-sum-of-squares (RSS) combination.
//!
//! # Model
//! `N` small surface loops sit on a circle around the field of view (a birdcage-like array).
//! Positions are in FOV-normalised coordinates `x = (j − C/2)/(C/2)`, `y = (i − R/2)/(R/2)`
//! (so the slice spans `[−1, 1]²` whatever its pixel spacing); coil `c` is centred at
//! `1.5·(cos φ_c, sin φ_c)`, `φ_c = 2πc/N`. Its raw sensitivity is the on-axis Biot–Savart
//! field of a loop of radius `a = 0.6`, `|b_c| = (a² / (a² + d²))^{3/2}` with `d` the distance to
//! the loop centre, times a phase `φ_c + (π/2)·(r · n_c)` (a constant coil phase plus a linear
//! ramp along the coil's direction `n_c`). The maps are then normalised pixel-wise,
//! `s_c = b_c / sqrt(Σ_c |b_c|²)`, so `RSS(s) = 1` everywhere: with no corruption the RSS of the
//! coil images `s_c·x` reproduces `|x|` exactly, and any artefact comes from the simulated
//! physics, not from coil shading.
//!
//! A single coil (`coils = 1`) is a uniform sensitivity `s = 1` (fastMRI single-coil data).
//! Per-coil simulation: coil image `s_c·x` → operator-specific corruption (k-space sampling,
//! noise, …) → complex coil image; combination by `sqrt(Σ_c |x_c|²)` (Larsson et al. 2003).
//! For independent noise of σ per real channel in every coil, the RSS of pure noise follows a
//! central χ distribution with 2N degrees of freedom, mean `σ·√2·Γ(N + ½)/Γ(N)`.
//!
//! References: P. B. Roemer et al., "The NMR phased array", MRM 16(2), 1990;
//! E. G. Larsson et al., "SNR-optimality of sum-of-squares reconstruction for phased-array
//! MRI", JMR 163, 2003; C. D. Constantinides et al., "Signal-to-noise measurements in
//! magnitude images from NMR phased arrays", MRM 38, 1997.

use crate::{MriError, Result};
use artefact_core::{Complex32, Image};
use ndarray::{Array2, Array3, ArrayView2, Axis};

/// Largest supported coil count.
pub const MAX_COILS: usize = 32;

/// Complex sensitivity maps, shape `(coils, rows, cols)`.
#[derive(Clone, Debug, PartialEq)]
pub struct CoilMaps {
    maps: Array3<Complex32>,
}

/// Check a `coils` parameter.
pub fn check_coils(coils: usize) -> Result<()> {
    if (1..=MAX_COILS).contains(&coils) {
        Ok(())
    } else {
        Err(MriError::Param {
            param: "coils",
            reason: format!("must lie in [1, {MAX_COILS}], got {coils}"),
        })
    }
}

impl CoilMaps {
    /// Uniform single-coil sensitivity.
    pub fn uniform(rows: usize, cols: usize) -> Self {
        CoilMaps {
            maps: Array3::from_elem((1, rows, cols), Complex32::new(1.0, 0.0)),
        }
    }

    /// Birdcage-like maps of `n` coils (see module docs); `n = 1` gives [`CoilMaps::uniform`].
    pub fn birdcage(n: usize, rows: usize, cols: usize) -> Result<Self> {
        check_coils(n)?;
        if rows == 0 || cols == 0 {
            return Err(MriError::Input("empty image".into()));
        }
        if n == 1 {
            return Ok(Self::uniform(rows, cols));
        }
        const RING: f64 = 1.5;
        const LOOP: f64 = 0.6;
        let (hr, hc) = ((rows / 2) as f64, (cols / 2) as f64);
        let (nr, nc) = ((rows as f64 / 2.0).max(0.5), (cols as f64 / 2.0).max(0.5));
        let ys: Vec<f64> = (0..rows).map(|i| (i as f64 - hr) / nr).collect();
        let xs: Vec<f64> = (0..cols).map(|j| (j as f64 - hc) / nc).collect();
        let a2 = LOOP * LOOP;
        let mut maps = Array3::<Complex32>::zeros((n, rows, cols));
        let mut sumsq = Array2::<f64>::zeros((rows, cols));
        for c in 0..n {
            let phi = std::f64::consts::TAU * c as f64 / n as f64;
            let (sn, cs) = phi.sin_cos();
            let (cx, cy) = (RING * cs, RING * sn);
            // the phase φ + (π/2)(x cos φ + y sin φ) is separable: e^{iφ}·e^{iκx}·e^{iκy}
            let kappa = std::f64::consts::FRAC_PI_2;
            let row_ph: Vec<(f64, f64)> = ys
                .iter()
                .map(|&y| {
                    let (s, c) = (phi + kappa * y * sn).sin_cos();
                    (c, s)
                })
                .collect();
            let col_ph: Vec<(f64, f64)> = xs
                .iter()
                .map(|&x| {
                    let (s, c) = (kappa * x * cs).sin_cos();
                    (c, s)
                })
                .collect();
            let dx2: Vec<f64> = xs.iter().map(|&x| (x - cx).powi(2)).collect();
            for (i, &y) in ys.iter().enumerate() {
                let dy2 = (y - cy).powi(2);
                let (rc, rs) = row_ph[i];
                for j in 0..cols {
                    // on-axis Biot–Savart of a loop: (a²/(a² + d²))^{3/2}
                    let q = a2 / (a2 + dx2[j] + dy2);
                    let mag = q * q.sqrt();
                    let (cc, cs2) = col_ph[j];
                    let (pc, ps) = (rc * cc - rs * cs2, rc * cs2 + rs * cc);
                    maps[[c, i, j]] = Complex32::new((mag * pc) as f32, (mag * ps) as f32);
                    sumsq[[i, j]] += mag * mag;
                }
            }
        }
        let inv = sumsq.mapv(|s| (1.0 / s.sqrt()) as f32);
        for mut m in maps.axis_iter_mut(Axis(0)) {
            ndarray::Zip::from(&mut m)
                .and(&inv)
                .for_each(|z, &w| *z *= w);
        }
        Ok(CoilMaps { maps })
    }

    pub fn n_coils(&self) -> usize {
        self.maps.len_of(Axis(0))
    }

    /// Sensitivity of coil `c`.
    pub fn map(&self, c: usize) -> ArrayView2<'_, Complex32> {
        self.maps.index_axis(Axis(0), c)
    }

    /// All maps, shape `(coils, rows, cols)`.
    pub fn maps(&self) -> &Array3<Complex32> {
        &self.maps
    }

    /// Root-sum-of-squares of the maps (1 everywhere after normalisation).
    pub fn rss(&self) -> Array2<f32> {
        rss(self.maps.axis_iter(Axis(0)))
    }
}

/// `sqrt(Σ_c |x_c|²)` of complex coil images (f64 accumulation).
pub fn rss<'a>(images: impl IntoIterator<Item = ArrayView2<'a, Complex32>>) -> Array2<f32> {
    let mut acc: Option<Array2<f64>> = None;
    for im in images {
        let a = acc.get_or_insert_with(|| Array2::zeros(im.dim()));
        ndarray::Zip::from(a)
            .and(&im)
            .for_each(|s, z| *s += z.norm_sqr() as f64);
    }
    acc.map(|a| a.mapv(|v| v.sqrt() as f32))
        .unwrap_or_else(|| Array2::zeros((0, 0)))
}

/// Per-coil simulation with RSS combination.
///
/// For each coil `c`, `corrupt(c, s_c·x)` receives the complex coil image and returns the
/// corrupted complex coil image (same shape); the result is the RSS over coils with `image`'s
/// geometry. With `coils = 1` this is `|corrupt(0, x)|`.
pub fn simulate_rss<F>(image: &Image, coils: usize, mut corrupt: F) -> Result<Image>
where
    F: FnMut(usize, Array2<Complex32>) -> Result<Array2<Complex32>>,
{
    check_coils(coils)?;
    let (rows, cols) = image.shape();
    if coils == 1 {
        let out = corrupt(0, image.data.mapv(|v| Complex32::new(v, 0.0)))?;
        check_shape(&out, image)?;
        return Ok(image.with_data(out.mapv(crate::kspace::abs_c))?);
    }
    let maps = cached_birdcage(coils, rows, cols)?;
    let mut acc = Array2::<f64>::zeros((rows, cols));
    for c in 0..coils {
        let mut coil = maps.map(c).to_owned();
        ndarray::Zip::from(&mut coil)
            .and(&image.data)
            .for_each(|z, &v| *z *= v);
        let out = corrupt(c, coil)?;
        check_shape(&out, image)?;
        ndarray::Zip::from(&mut acc)
            .and(&out)
            .for_each(|s, z| *s += z.norm_sqr() as f64);
    }
    Ok(image.with_data(acc.mapv(|v| v.sqrt() as f32))?)
}

thread_local! {
    /// The last few birdcage map sets built on this thread (maps are a pure function of
    /// `(coils, rows, cols)`, so caching cannot change any output).
    static MAP_CACHE: std::cell::RefCell<Vec<std::rc::Rc<CoilMaps>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`CoilMaps::birdcage`] through a small per-thread cache.
pub fn cached_birdcage(n: usize, rows: usize, cols: usize) -> Result<std::rc::Rc<CoilMaps>> {
    if let Some(hit) = MAP_CACHE.with(|c| {
        c.borrow()
            .iter()
            .find(|m| m.n_coils() == n && m.maps.dim() == (n, rows, cols))
            .cloned()
    }) {
        return Ok(hit);
    }
    let maps = std::rc::Rc::new(CoilMaps::birdcage(n, rows, cols)?);
    MAP_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 4 {
            c.remove(0);
        }
        c.push(maps.clone());
    });
    Ok(maps)
}

fn check_shape(out: &Array2<Complex32>, image: &Image) -> Result<()> {
    if out.dim() != image.shape() {
        return Err(MriError::Input(format!(
            "coil stage returned {:?} for a {:?} image",
            out.dim(),
            image.shape()
        )));
    }
    Ok(())
}

/// Mean of the RSS of pure complex Gaussian noise (σ per real channel) over `n` coils:
/// `σ·√2·Γ(n + ½)/Γ(n)` (central χ with 2n degrees of freedom).
pub fn rss_noise_mean(sigma: f64, n: usize) -> f64 {
    // Γ(n + ½)/Γ(n) by the product recursion, exact for integer n ≥ 1
    let mut ratio = std::f64::consts::PI.sqrt() / 2.0; // Γ(3/2)/Γ(1)
    for k in 1..n {
        // Γ(k + 1 + ½)/Γ(k + 1) = Γ(k + ½)/Γ(k) · (k + ½)/k
        ratio *= (k as f64 + 0.5) / k as f64;
    }
    sigma * std::f64::consts::SQRT_2 * ratio
}

/// Variance of the RSS of pure noise: `2nσ² − mean²`.
pub fn rss_noise_variance(sigma: f64, n: usize) -> f64 {
    let m = rss_noise_mean(sigma, n);
    2.0 * n as f64 * sigma * sigma - m * m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_coil_rayleigh_mean() {
        let m = rss_noise_mean(1.0, 1);
        assert!((m - (std::f64::consts::PI / 2.0).sqrt()).abs() < 1e-12);
        let v = rss_noise_variance(1.0, 1);
        assert!((v - (2.0 - std::f64::consts::PI / 2.0)).abs() < 1e-12);
    }
}
