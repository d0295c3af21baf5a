//! Envelope detection (analytic signal) and log compression.
//!
//! - Envelope: the modulus of the analytic signal `x + i·H{x}` along the axial direction, with
//!   the Hilbert transform `H` computed by FFT (zero-padded to a power of two ≥ 2n to avoid
//!   circular wrap-around): `X(f)` is kept at DC and Nyquist, doubled at positive and zeroed at
//!   negative frequencies (Marple, "Computing the discrete-time analytic signal via FFT", IEEE
//!   TSP 47(9), 1999 — the same construction as `scipy.signal.hilbert`). For the IQ fast path
//!   the envelope is `|iq|` (see [`crate::rf`]).
//! - Log compression: `v = clip(1 + (20·log10(env) + gain_dB) / DR_dB, 0, 1)`, where `env` is
//!   normalised so that tissue of echogenicity 1 has unit RMS envelope (0 dB); `DR` is the
//!   displayed dynamic range (default 60 dB) and `gain` the receiver gain (0 dB nominal).

use crate::error::{check_range, UsError};
use artefact_core::fft::{plan, Direction};
use ndarray::Array2;
use num_complex::Complex32;

/// Hilbert envelope `|x + i·H{x}|` of a real signal.
pub fn hilbert_envelope(x: &[f32]) -> Vec<f32> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let nf = (2 * n).next_power_of_two();
    let mut buf: Vec<Complex32> = x
        .iter()
        .map(|&v| Complex32::new(v, 0.0))
        .chain(std::iter::repeat(Complex32::new(0.0, 0.0)))
        .take(nf)
        .collect();
    plan(nf, Direction::Forward).process(&mut buf);
    let half = nf / 2;
    for (i, v) in buf.iter_mut().enumerate() {
        if i == 0 || i == half {
            continue;
        } else if i < half {
            *v *= 2.0;
        } else {
            *v = Complex32::new(0.0, 0.0);
        }
    }
    plan(nf, Direction::Inverse).process(&mut buf);
    let scale = 1.0 / nf as f32;
    buf[..n].iter().map(|c| c.norm() * scale).collect()
}

/// Hilbert envelope of every column (axial direction = axis 0) of an RF image.
pub fn envelope_rf(rf: &Array2<f32>) -> Array2<f32> {
    let mut out = Array2::<f32>::zeros(rf.dim());
    for (src, mut dst) in rf.columns().into_iter().zip(out.columns_mut()) {
        let col: Vec<f32> = src.iter().copied().collect();
        for (d, v) in dst.iter_mut().zip(hilbert_envelope(&col)) {
            *d = v;
        }
    }
    out
}

/// Envelope `|iq|` of a complex baseband image.
pub fn envelope_iq(iq: &Array2<Complex32>) -> Array2<f32> {
    iq.mapv(|c| c.norm())
}

/// Log compression to display values in `[0, 1]`.
pub fn log_compress(
    env: &Array2<f32>,
    dynamic_range_db: f64,
    gain_db: f64,
) -> Result<Array2<f32>, UsError> {
    check_range("dynamic_range_db", dynamic_range_db, 1.0, 200.0)?;
    check_range("gain_db", gain_db, -200.0, 200.0)?;
    let (dr, g) = (dynamic_range_db as f32, gain_db as f32);
    Ok(env.mapv(|e| {
        if e <= 0.0 {
            0.0
        } else {
            (1.0 + (20.0 * e.log10() + g) / dr).clamp(0.0, 1.0)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_of_a_gaussian_pulse_is_its_envelope() {
        let n = 400;
        let (s, k) = (20.0f64, 0.6f64);
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 - 200.0;
                ((-t * t / (2.0 * s * s)).exp() * (k * t).cos()) as f32
            })
            .collect();
        let e = hilbert_envelope(&x);
        for i in (120..280).step_by(7) {
            let t = i as f64 - 200.0;
            let g = (-t * t / (2.0 * s * s)).exp();
            assert!((e[i] as f64 - g).abs() < 2e-3, "{i}: {} vs {g}", e[i]);
        }
    }

    #[test]
    fn log_compression_levels() {
        let env = Array2::from_shape_vec((1, 4), vec![1.0, 0.1, 1e-4, 0.0]).unwrap();
        let v = log_compress(&env, 60.0, 0.0).unwrap();
        assert!((v[[0, 0]] - 1.0).abs() < 1e-6);
        assert!((v[[0, 1]] - (1.0 - 20.0 / 60.0)).abs() < 1e-6);
        assert_eq!(v[[0, 2]], 0.0);
        assert_eq!(v[[0, 3]], 0.0);
        assert!(log_compress(&env, 0.0, 0.0).is_err());
    }
}
