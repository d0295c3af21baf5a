//! `mri.ghosting`: periodic modulation of phase-encode lines (N/R ghosts, the N/2 ghost).
//!
//! # Model
//! Every `period`-th phase-encode line — the lines with `(ky − h) mod R = 0`, `h = N/2`, which
//! include the centre line ky = 0 — is multiplied by the complex factor
//! `m = (1 − intensity) · exp(i·phase)`, as happens with a periodic amplitude/phase
//! inconsistency between shots or echo trains (pulsatile flow, respiratory modulation, EPI
//! odd/even echo misalignment for `R = 2`). Lines within the central `keep_centre` fraction of
//! k-space can be left untouched (as TorchIO's `restore`), which keeps the image contrast.
//!
//! Writing the line selector as `c(ky) = (1/R) Σ_{j<R} exp(2πi j (ky − h)/R)` gives, without
//! kept centre lines,
//! `y(r) = x(r) · (1 + (m − 1)/R) + (m − 1)/R · Σ_{j=1}^{R−1} x(r − j·N/R) · e^{iψ_j}`
//! (circular shifts along phase encode): ghosts of relative amplitude `|m − 1|/R` at multiples of
//! `FOV/R` along the phase-encode axis, the main image scaled by `|1 + (m − 1)/R|`. For the
//! N/2 ghost (`R = 2`) with a pure phase error φ the ghost amplitude is `sin(φ/2)`.
//!
//! The modulation depends on ky only, so the readout transforms cancel. When `R` divides `N`
//! the identity above is evaluated directly in the image domain (`R` shifted sums, exact), and
//! the few kept centre lines are restored by subtracting their single-line DFT contribution;
//! otherwise [`apply_reference`] runs a 1-D centred FFT along phase encode, the line weights and
//! the inverse FFT. The magnitude is returned.
//!
//! # References
//! - D. G. Nishimura, *Principles of Magnetic Resonance Imaging*, ch. 9 (ghosts from periodic
//!   k-space modulation).
//! - TorchIO `RandomGhosting` (Pérez-García et al., CMPB 208, 2021), which scales every
//!   `num_ghosts`-th plane by `1 − intensity`.

use crate::kspace::{check_finite, PhaseEncode};
use crate::{MriError, Result};
use artefact_core::fft::{fftc_axis, Direction};
use artefact_core::{Complex32, Image, OpInfo, Operator, ParamSpec, SampleRng};
use ndarray::{Array2, Axis};

artefact_core::params! {
    /// Parameters of [`Ghosting`].
    pub struct GhostingParams {
        /// phase-encode axis (ghosts are displaced along it)
        pub phase_encode: PhaseEncode = choice(PhaseEncode::Rows),
        /// every `period`-th line is modulated; ghosts at multiples of FOV/period (2 = N/2 ghost)
        pub period: usize = int(2, [2, 16], "lines"),
        /// amplitude loss of the modulated lines (scaled by 1 − intensity)
        pub intensity: f64 = float(0.3, [0.0, 1.0], "fraction"),
        /// phase error of the modulated lines
        pub phase_deg: f64 = float(0.0, [-180.0, 180.0], "deg"),
        /// central fraction of k-space lines left unmodulated
        pub keep_centre: f64 = float(0.0, [0.0, 0.5], "fraction"),
    }
}

/// Periodic phase-encode line modulation.
pub struct Ghosting;

static INFO: OpInfo = OpInfo {
    name: "mri.ghosting",
    modality: "MR",
    doc: "Periodic amplitude/phase modulation of every R-th phase-encode line: ghosts at FOV/R \
          along the phase-encode axis (R = 2: the N/2 ghost).",
    params: GhostingParams::PARAMS,
};

impl GhostingParams {
    /// Complex weight of each phase-encode line `0..n`.
    pub fn line_weights(&self, n: usize) -> Vec<Complex32> {
        let h = (n / 2) as i64;
        let m = Complex32::from_polar(
            (1.0 - self.intensity) as f32,
            self.phase_deg.to_radians() as f32,
        );
        let half_keep = self.keep_centre * n as f64 / 2.0;
        (0..n)
            .map(|k| {
                let d = k as i64 - h;
                let kept = self.keep_centre > 0.0 && (d.abs() as f64) <= half_keep;
                if d.rem_euclid(self.period as i64) == 0 && !kept {
                    m
                } else {
                    Complex32::new(1.0, 0.0)
                }
            })
            .collect()
    }
}

impl Operator for Ghosting {
    type Params = GhostingParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<GhostingParams> {
        Ok(GhostingParams::sample(spec, rng)?)
    }

    fn apply(params: &GhostingParams, image: &Image) -> Result<Image> {
        check_finite(image)?;
        params.validate()?;
        let axis = params.phase_encode.axis();
        let n = image.data.len_of(Axis(axis));
        let w = params.line_weights(n);
        let one = Complex32::new(1.0, 0.0);
        if w.iter().all(|z| *z == one) {
            return Ok(image.clone());
        }
        let r = params.period;
        let h = (n / 2) as i64;
        // lines that the periodic pattern would modulate but `keep_centre` restores
        let kept: Vec<usize> = (0..n)
            .filter(|&k| (k as i64 - h).rem_euclid(r as i64) == 0 && w[k] == one)
            .collect();
        if n % r != 0 || kept.len() > 8 {
            return apply_reference(params, image);
        }
        // image domain: y = x + (m − 1)/R · Σ_j roll(x, j·n/R) − (m − 1) · (kept lines)
        let m = Complex32::from_polar(
            (1.0 - params.intensity) as f32,
            params.phase_deg.to_radians() as f32,
        );
        let g = (m - one) / r as f32;
        let step = n / r;
        let x = &image.data;
        let mut sum = x.clone();
        for j in 1..r {
            for (i, mut dst) in sum.axis_iter_mut(Axis(axis)).enumerate() {
                let src = x.index_axis(Axis(axis), (i + j * step) % n);
                dst.zip_mut_with(&src, |d, s| *d += s);
            }
        }
        let mut y: Array2<Complex32> = ndarray::Zip::from(x)
            .and(&sum)
            .map_collect(|&v, &s| Complex32::new(v, 0.0) + g * s);
        // restore kept lines: subtract (m − 1) × their image-domain contribution
        let norm = 1.0 / n as f64;
        for &k in &kept {
            let f = |row: usize, sign: f64| {
                let ph = sign
                    * 2.0
                    * std::f64::consts::PI
                    * (k as f64 - h as f64)
                    * (row as f64 - h as f64)
                    / n as f64;
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            };
            let fwd: Vec<Complex32> = (0..n).map(|row| f(row, -1.0)).collect();
            let inv: Vec<Complex32> = (0..n).map(|row| f(row, 1.0) * norm as f32).collect();
            let mut a = ndarray::Array1::<Complex32>::zeros(x.len_of(Axis(1 - axis)));
            for (row, line) in x.axis_iter(Axis(axis)).enumerate() {
                let c = fwd[row];
                a.zip_mut_with(&line, |acc, &v| *acc += c * v);
            }
            let a = a.mapv(|z| z * (m - one));
            for (row, mut line) in y.axis_iter_mut(Axis(axis)).enumerate() {
                let c = inv[row];
                line.zip_mut_with(&a, |d, &v| *d -= c * v);
            }
        }
        Ok(image.with_data(y.mapv(crate::kspace::abs_c))?)
    }
}

/// The straightforward implementation (1-D FFT along phase encode, line weights, inverse FFT),
/// used for matrices not divisible by `period` or many kept lines, and to validate the
/// image-domain fast path of [`Ghosting::apply`] in tests.
pub fn apply_reference(params: &GhostingParams, image: &Image) -> Result<Image> {
    check_finite(image)?;
    params.validate()?;
    let axis = params.phase_encode.axis();
    let n = image.data.len_of(Axis(axis));
    let w = params.line_weights(n);
    let mut x: Array2<Complex32> = image.data.mapv(|v| Complex32::new(v, 0.0));
    fftc_axis(&mut x.view_mut(), axis, Direction::Forward);
    for (mut line, wk) in x.axis_iter_mut(Axis(axis)).zip(w.iter()) {
        if *wk != Complex32::new(1.0, 0.0) {
            line.mapv_inplace(|z| z * wk);
        }
    }
    fftc_axis(&mut x.view_mut(), axis, Direction::Inverse);
    Ok(image.with_data(x.mapv(|z| z.norm()))?)
}
