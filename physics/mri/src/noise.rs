//! `mri.noise`: thermal noise as complex white Gaussian noise in k-space at a target SNR,
//! giving Rician magnitude statistics (noncentral χ for RSS over several coils).
//!
//! # Model
//! Receiver noise is additive, white, zero-mean complex Gaussian in k-space with standard
//! deviation σ in each of the real and imaginary channels (and independent between coils):
//! `k_c = F(s_c·x) + n_c`. The image is `|Fᴴ k|` (or the RSS over coils). Because the centred
//! orthonormal DFT is unitary, `Fᴴ n` is again white complex Gaussian with the same σ per channel,
//! so the magnitude follows the Rice distribution (Gudbjartsson & Patz 1995): in a region of
//! true signal `A`, `E|x̂| = σ√(π/2)·L_{1/2}(−A²/2σ²)`; in the zero background it is Rayleigh
//! with mean `σ√(π/2)` and variance `(2 − π/2)σ²`. For `N` coils with normalised maps the RSS
//! background is central χ with `2N` degrees of freedom (mean `σ√2·Γ(N+½)/Γ(N)`).
//!
//! Implementation: `Fᴴ(F(s_c x) + n_c) = s_c x + Fᴴ n_c`, and because `Fᴴ` is unitary, `Fᴴ n_c`
//! is again white complex Gaussian with the same σ per channel — the same distribution as
//! `n_c` itself. The noise is therefore drawn directly in the image domain (no FFT; the
//! realisation differs from a k-space draw, the distribution does not): per pixel one complex
//! standard normal by Box–Muller ([`artefact_core::fastmath::normal_pair_words`]) from two
//! 24-bit uniforms, i.e. 48 bits of the params' seed stream (ChaCha8), drawn in blocks of 4096
//! pixels (layout: `for_each_bits_block`). With one coil `|x + σn|` is formed in the same pass,
//! without an intermediate complex image, in f32 (`√(re² + im²)`, within 2 ulp of the correctly
//! rounded modulus that the multi-coil path and `kspace::abs_c` compute in f64; blocks whose
//! squares would leave the normal f32 range use the f64 form). The per-pixel loops have an
//! AVX2 build chosen at run time with the same output bytes (module `simd`, switch
//! `ARTEFACT_MRI_NO_SIMD`).
//!
//! # SNR definition
//! `SNR = S / σ`, where `S` is the mean of the clean image over its foreground (pixels above
//! Otsu's threshold of the clean image; all pixels for a constant image) and `σ` the per-channel
//! noise standard deviation above (per coil with several coils). Since the background of the
//! noisy magnitude image is Rayleigh, σ can be measured back as `mean(background)/√(π/2)`; the
//! tests check the achieved SNR `S / σ̂` against the request within 5 %.
//!
//! References: H. Gudbjartsson, S. Patz, "The Rician distribution of noisy MRI data",
//! MRM 34(6), 1995; C. D. Constantinides, E. Atalar, E. R. McVeigh, MRM 38(5), 1997;
//! O. Dietrich et al., "Measurement of SNRs in MR images", JMRI 26(2), 2007.

use crate::coils::{check_coils, simulate_rss};
use crate::kspace::check_finite;
use crate::{MriError, Result};
use artefact_core::{
    Complex32, Image, OpInfo, Operator, ParamSpec, SampleRng, Seed, Volume, VolumeOperator,
};
use ndarray::Array2;
use rand::Rng;

fn one() -> usize {
    1
}

artefact_core::params! {
    /// Concrete parameters of one noise sample.
    pub struct NoiseParams {
        /// target SNR = mean foreground (Otsu) signal / σ of the complex k-space noise per channel
        pub snr: f64 = float(20.0, [1.0, 1e6]),
        /// receive coils: 1 = single coil (Rician), >1 = birdcage maps with RSS (noncentral χ)
        #[serde(default = "one")]
        pub coils: usize = int(1, [1, 32]),
        /// seed of the k-space noise realisation; drawn by `sample` unless fixed
        pub seed: u64 = seed,
    }
}

/// The `mri.noise` operator.
pub struct Noise;

static INFO: OpInfo = OpInfo {
    name: "mri.noise",
    modality: "MR",
    doc: "complex Gaussian thermal noise in k-space at a target SNR; magnitude (Rician) or RSS over coils (noncentral χ)",
    params: NoiseParams::PARAMS,
};

/// Mean clean signal over the Otsu foreground (all pixels for a constant image).
pub fn foreground_signal(image: &Image) -> Result<f64> {
    check_finite(image)?;
    let (sum, n) = match image.otsu_threshold() {
        Some(t) => match image.data.as_slice_memory_order() {
            Some(x) => sum_above(x, t),
            None => image
                .data
                .iter()
                .filter(|&&v| v > t)
                .fold((0.0f64, 0usize), |(s, n), &v| (s + v.abs() as f64, n + 1)),
        },
        None => (
            image.data.iter().map(|&v| v.abs() as f64).sum::<f64>(),
            image.data.len(),
        ),
    };
    let s = if n > 0 { sum / n as f64 } else { 0.0 };
    if s.is_nan() || s <= 0.0 {
        return Err(MriError::Input(
            "image has no signal: SNR is undefined for an all-zero slice".into(),
        ));
    }
    Ok(s)
}

/// `(Σ |v|, count)` over the values `v > t`, summed in f64 in eight lanes (lane `k` takes the
/// positions `≡ k mod 8`, the tail goes to lane 0; the lanes are added in order at the end) so
/// that the loop vectorises instead of waiting on one chain of additions. Deterministic; it
/// differs from a sequential sum only by f64 rounding. SSE2 intrinsics on x86-64 (LLVM turns
/// the portable loop into scalar code), the same sums as [`sum_above_portable`] (tested).
fn sum_above(x: &[f32], t: f32) -> (f64, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        sum_above_sse2(x, t)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        sum_above_portable(x, t)
    }
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn sum_above_portable(x: &[f32], t: f32) -> (f64, usize) {
    const L: usize = 8;
    let (mut s, mut n) = ([0f64; L], 0usize);
    let mut chunks = x.chunks_exact(L);
    for c in &mut chunks {
        for (s, &v) in s.iter_mut().zip(c) {
            let above = v > t;
            *s += if above { v.abs() as f64 } else { 0.0 };
            n += above as usize;
        }
    }
    sum_above_tail(s, n, chunks.remainder(), t)
}

/// Adds the tail to lane 0 and the lanes in order.
fn sum_above_tail(mut s: [f64; 8], mut n: usize, tail: &[f32], t: f32) -> (f64, usize) {
    for &v in tail {
        if v > t {
            s[0] += v.abs() as f64;
            n += 1;
        }
    }
    (s.iter().sum(), n)
}

#[cfg(target_arch = "x86_64")]
fn sum_above_sse2(x: &[f32], t: f32) -> (f64, usize) {
    use std::arch::x86_64::*;
    let mut s = [0f64; 8];
    let mut n = 0usize;
    let (body, tail) = x.split_at(x.len() / 8 * 8);
    // counts per u32 lane are flushed every 2²⁰ chunks
    for part in body.chunks(8 << 20) {
        let mut cnt = [0u32; 4];
        // SAFETY: SSE2 is part of the x86-64 baseline; each chunk holds 8 f32 (two 4-lane
        // loads), the stores write 2 f64 / 4 u32 into arrays of that size or larger
        unsafe {
            let tv = _mm_set1_ps(t);
            let abs = _mm_castsi128_ps(_mm_set1_epi32(0x7fff_ffff));
            let mut acc = [_mm_loadu_pd(s.as_ptr()), _mm_loadu_pd(s.as_ptr().add(2))];
            let mut acc2 = [
                _mm_loadu_pd(s.as_ptr().add(4)),
                _mm_loadu_pd(s.as_ptr().add(6)),
            ];
            let mut c4 = _mm_setzero_si128();
            for c in part.chunks_exact(8) {
                let (a, b) = (_mm_loadu_ps(c.as_ptr()), _mm_loadu_ps(c.as_ptr().add(4)));
                let (ma, mb) = (_mm_cmpgt_ps(a, tv), _mm_cmpgt_ps(b, tv));
                // |v| where v > t, +0 elsewhere (the comparison mask is all ones or zero)
                let a = _mm_and_ps(_mm_and_ps(a, abs), ma);
                let b = _mm_and_ps(_mm_and_ps(b, abs), mb);
                acc[0] = _mm_add_pd(acc[0], _mm_cvtps_pd(a));
                acc[1] = _mm_add_pd(acc[1], _mm_cvtps_pd(_mm_movehl_ps(a, a)));
                acc2[0] = _mm_add_pd(acc2[0], _mm_cvtps_pd(b));
                acc2[1] = _mm_add_pd(acc2[1], _mm_cvtps_pd(_mm_movehl_ps(b, b)));
                // a mask lane is −1 as an integer
                c4 = _mm_sub_epi32(c4, _mm_castps_si128(ma));
                c4 = _mm_sub_epi32(c4, _mm_castps_si128(mb));
            }
            _mm_storeu_pd(s.as_mut_ptr(), acc[0]);
            _mm_storeu_pd(s.as_mut_ptr().add(2), acc[1]);
            _mm_storeu_pd(s.as_mut_ptr().add(4), acc2[0]);
            _mm_storeu_pd(s.as_mut_ptr().add(6), acc2[1]);
            _mm_storeu_si128(cnt.as_mut_ptr().cast(), c4);
        }
        n += cnt.iter().map(|&c| c as usize).sum::<usize>();
    }
    sum_above_tail(s, n, tail, t)
}

impl Noise {
    /// Per-channel noise σ that `params` gives on `image`.
    pub fn sigma(params: &NoiseParams, image: &Image) -> Result<f64> {
        params.validate()?;
        check_coils(params.coils)?;
        Ok(foreground_signal(image)? / params.snr)
    }
}

/// Pixels whose noise bits are drawn per block from the seed stream.
const BLOCK: usize = 4096;

/// Calls `f(start, a, b)` for consecutive blocks of 48 random bits per pixel covering pixels
/// `start..start + a.len()` in row-major order. Each block of `len` pixels draws `len` 32-bit
/// words `a` and then `len` 16-bit words `b` (`⌈len/2⌉` 32-bit words of the stream, low half
/// first) from `rng`; pixel `i` of the block uses `a[i]` and `b[i]` (see
/// [`kernels::normal_pair_48`]). The realisation is a function of the seed and of [`BLOCK`].
fn for_each_bits_block(n: usize, rng: &mut SampleRng, mut f: impl FnMut(usize, &[u32], &[u16])) {
    let b = BLOCK.min(n);
    let (mut a, mut h) = (vec![0u32; b], vec![0u16; b]);
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start);
        rng.fill(&mut a[..len]);
        rng.fill(&mut h[..len]);
        f(start, &a[..len], &h[..len]);
        start += len;
    }
}

/// Calls `f(start, re, im)` for consecutive blocks of white complex Gaussian noise of σ per
/// channel covering pixels `start..start + re.len()` in row-major order: one Box–Muller pair
/// per pixel from 48 bits of `rng` (see [`for_each_bits_block`]).
fn for_each_noise_block(
    n: usize,
    sigma: f32,
    rng: &mut SampleRng,
    mut f: impl FnMut(usize, &[f32], &[f32]),
) {
    let b = BLOCK.min(n);
    let (mut re, mut im) = (vec![0f32; b], vec![0f32; b]);
    for_each_bits_block(n, rng, |start, a, h| {
        let len = a.len();
        kernels::noise(a, h, sigma, &mut re[..len], &mut im[..len]);
        f(start, &re[..len], &im[..len]);
    });
}

/// The per-pixel loops, each in a portable and an AVX2 build of the same source (see
/// [`crate::simd`]): the AVX2 build only lets LLVM use 8-lane instructions (no FMA; Rust never
/// contracts `a * b + c`), so both give the same bytes (tested).
mod kernels {
    use crate::kspace::abs_c;
    use artefact_core::fastmath::normal_pair_words;
    use artefact_core::Complex32;
    use std::mem::MaybeUninit;

    /// The standard normal pair of a pixel from 48 bits:
    /// [`normal_pair_words`] with the radius uniform from the top 24 bits of `a` and the phase
    /// uniform from `b` (top 16 bits) and the low byte of `a` (bottom 8 bits).
    #[inline(always)]
    pub(super) fn normal_pair_48(a: u32, b: u16) -> (f32, f32) {
        normal_pair_words(a, ((b as u32) << 16) | ((a & 0xff) << 8))
    }

    /// `re[i] + i·im[i] = σ·(x + iy)`, `(x, y)` the normal pair of `a[i]`, `b[i]`.
    #[inline(always)]
    fn noise_impl(a: &[u32], b: &[u16], sigma: f32, re: &mut [f32], im: &mut [f32]) {
        for (((&a, &b), r), m) in a.iter().zip(b).zip(re.iter_mut()).zip(im.iter_mut()) {
            let (x, y) = normal_pair_48(a, b);
            *r = x * sigma;
            *m = y * sigma;
        }
    }

    /// `out[i] = |x[i] + σ·(p + iq)|` with the pair of [`noise_impl`], in f32:
    /// `√(re² + im²)` rounded at each step (within 2 ulp of [`abs_c`], the correctly rounded
    /// value; tested). Returns `true` if some `re² + im²` left the range where that holds
    /// (overflow or near-underflow); the caller then redoes the block with
    /// [`magnitude_exact_impl`]. (Writes into uninitialised memory: spares zeroing the output
    /// first.)
    #[inline(always)]
    fn magnitude_impl(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
    ) -> bool {
        let mut outside = false;
        for (((&a, &b), &x), o) in a.iter().zip(b).zip(x).zip(out.iter_mut()) {
            let (p, q) = normal_pair_48(a, b);
            let (re, im) = (x + p * sigma, q * sigma);
            let s = re * re + im * im;
            // s ≥ 2⁻¹⁰⁰: no subnormal squares; s ≤ 2¹²⁶: finite (also catches a NaN/∞)
            outside |= !(s >= f32::from_bits(0x0d80_0000) && s <= f32::from_bits(0x7e80_0000));
            o.write(s.sqrt());
        }
        outside
    }

    /// [`magnitude_impl`] with [`abs_c`] (the f64 evaluation, correctly rounded): exactly the
    /// values of adding [`noise_impl`]'s `re`, `im` to the real `x` and taking [`abs_c`].
    #[inline(always)]
    fn magnitude_exact_impl(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
    ) {
        for (((&a, &b), &x), o) in a.iter().zip(b).zip(x).zip(out.iter_mut()) {
            let (p, q) = normal_pair_48(a, b);
            o.write(abs_c(Complex32::new(x + p * sigma, q * sigma)));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn noise_avx2(a: &[u32], b: &[u16], sigma: f32, re: &mut [f32], im: &mut [f32]) {
        noise_impl(a, b, sigma, re, im)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn magnitude_avx2(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
    ) -> bool {
        magnitude_impl(a, b, x, sigma, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn magnitude_exact_avx2(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
    ) {
        magnitude_exact_impl(a, b, x, sigma, out)
    }

    /// Complex noise of one block: [`noise_impl`], AVX2 build when [`crate::simd::avx2`].
    pub(super) fn noise(a: &[u32], b: &[u16], sigma: f32, re: &mut [f32], im: &mut [f32]) {
        noise_with(a, b, sigma, re, im, crate::simd::avx2())
    }

    /// Single-coil magnitude of one block: [`magnitude_impl`], AVX2 build when
    /// [`crate::simd::avx2`].
    pub(super) fn magnitude(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
    ) {
        magnitude_with(a, b, x, sigma, out, crate::simd::avx2())
    }

    pub(super) fn noise_with(
        a: &[u32],
        b: &[u16],
        sigma: f32,
        re: &mut [f32],
        im: &mut [f32],
        avx2: bool,
    ) {
        #[cfg(target_arch = "x86_64")]
        if avx2 && crate::simd::avx2_available() {
            // SAFETY: the CPU has AVX2 (checked above)
            return unsafe { noise_avx2(a, b, sigma, re, im) };
        }
        let _ = avx2;
        noise_impl(a, b, sigma, re, im)
    }

    pub(super) fn magnitude_with(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
        avx2: bool,
    ) {
        // every output value is written (the caller relies on it)
        assert!(a.len() == x.len() && b.len() == x.len() && out.len() == x.len());
        #[cfg(target_arch = "x86_64")]
        if avx2 && crate::simd::avx2_available() {
            // SAFETY: the CPU has AVX2 (checked above)
            unsafe {
                if magnitude_avx2(a, b, x, sigma, out) {
                    magnitude_exact_avx2(a, b, x, sigma, out);
                }
            }
            return;
        }
        let _ = avx2;
        if magnitude_impl(a, b, x, sigma, out) {
            magnitude_exact_impl(a, b, x, sigma, out);
        }
    }

    /// [`magnitude_exact_impl`] (the reference of the single-coil magnitude), portable build.
    #[cfg(test)]
    pub(super) fn magnitude_exact(
        a: &[u32],
        b: &[u16],
        x: &[f32],
        sigma: f32,
        out: &mut [MaybeUninit<f32>],
    ) {
        magnitude_exact_impl(a, b, x, sigma, out)
    }
}

impl Operator for Noise {
    type Params = NoiseParams;
    type Error = MriError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<NoiseParams> {
        Ok(NoiseParams::sample(spec, rng)?)
    }

    fn apply(params: &NoiseParams, image: &Image) -> Result<Image> {
        let sigma = Self::sigma(params, image)? as f32;
        apply_sigma(params, image, sigma, Seed::from_u64(params.seed))
    }
}

/// The 3-D form: noise of one 3-D acquisition. σ is set from the SNR over the **volume's**
/// foreground (Otsu over all voxels), so every slice carries the same noise level, as in a
/// real scan (per-slice SNR would scale the noise with each slice's content). One coil: the
/// voxels draw i.i.d. complex normals from the params' seed in the volume's row-major order
/// (the 2-D realisation of a tall image of all slices). Several coils: the birdcage maps are
/// in-plane and constant along axis 0 (a birdcage's sensitivity hardly varies along its long
/// axis near the isocentre); slice `k` draws its coils' noise from the seed's child
/// `slice-k`.
impl VolumeOperator for Noise {
    type VolumeParams = NoiseParams;

    fn sample_volume(spec: &ParamSpec, rng: &mut SampleRng) -> Result<NoiseParams> {
        Self::sample(spec, rng)
    }

    fn apply_volume(params: &NoiseParams, volume: &Volume) -> Result<Volume> {
        params.validate()?;
        check_coils(params.coils)?;
        let (nz, ny, nx) = volume.data.dim();
        let tall = |data: Array2<f32>| {
            Image::new(
                data,
                [volume.spacing[1], volume.spacing[2]],
                volume.modality,
                volume.unit,
            )
        };
        let flat = volume
            .data
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((nz * ny, nx))
            .expect("standard layout");
        let all = tall(flat)?;
        let sigma = (foreground_signal(&all)? / params.snr) as f32;
        let seed = Seed::from_u64(params.seed);
        let out = if params.coils == 1 {
            apply_sigma(params, &all, sigma, seed)?.data
        } else {
            let mut out = Array2::<f32>::zeros((nz * ny, nx));
            for k in 0..nz {
                let rows = k * ny..(k + 1) * ny;
                let slice = tall(all.data.slice(ndarray::s![rows.clone(), ..]).to_owned())?;
                let noisy = apply_sigma(params, &slice, sigma, seed.child(&format!("slice-{k}")))?;
                out.slice_mut(ndarray::s![rows, ..]).assign(&noisy.data);
            }
            out
        };
        let data = out
            .into_shape_with_order((nz, ny, nx))
            .expect("same number of voxels");
        Ok(Volume::with_affine(
            data,
            volume.spacing,
            volume.affine,
            volume.modality,
            volume.unit,
        )?)
    }
}

/// [`Noise`] at a given σ per channel, noise drawn from `seed`.
fn apply_sigma(params: &NoiseParams, image: &Image, sigma: f32, seed: Seed) -> Result<Image> {
    if params.coils == 1 {
        // single coil: |x + n| in one pass (the same values as `simulate_rss` with one
        // coil, without the intermediate complex image)
        let mut rng = seed.child("coil-0").rng();
        let x = image.data.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(x.len());
        let spare = &mut out.spare_capacity_mut()[..x.len()];
        for_each_bits_block(x.len(), &mut rng, |start, a, b| {
            let r = start..start + a.len();
            kernels::magnitude(a, b, &x[r.clone()], sigma, &mut spare[r]);
        });
        // SAFETY: the blocks cover 0..x.len() and `magnitude` wrote every value of each
        unsafe { out.set_len(x.len()) };
        let out = Array2::from_shape_vec(image.data.dim(), out).expect("shape");
        return Ok(image.with_data(out)?);
    }
    simulate_rss(image, params.coils, |c, x| {
        let mut rng = seed.child(&format!("coil-{c}")).rng();
        let mut x = if x.is_standard_layout() {
            x
        } else {
            x.as_standard_layout().into_owned()
        };
        let xs = x.as_slice_mut().expect("standard layout");
        for_each_noise_block(xs.len(), sigma, &mut rng, |start, re, im| {
            for ((z, &r), &m) in xs[start..start + re.len()].iter_mut().zip(re).zip(im) {
                *z += Complex32::new(r, m);
            }
        });
        Ok(x)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::{Modality, Unit};

    #[test]
    fn single_coil_fast_path_matches_the_rss_path() {
        let disc = |scale: f32| {
            Image::new(
                Array2::from_shape_fn((37, 30), |(i, j)| {
                    if (i as i64 - 18).pow(2) + (j as i64 - 15).pow(2) < 120 {
                        (50.0 + (i * j % 7) as f32) * scale
                    } else {
                        0.0
                    }
                }),
                [1.0, 1.0],
                Modality::Mr,
                Unit::Arbitrary,
            )
            .unwrap()
        };
        // scale 1: the f32 magnitude, within 2 ulp of the RSS path's correctly rounded |z|;
        // 1e30 and 1e-30: squares out of the f32 range, so the exact (f64) magnitude
        for (scale, max_ulp) in [(1.0f32, 2i64), (1e30, 0), (1e-30, 0)] {
            let img = disc(scale);
            let p = NoiseParams {
                snr: 12.0,
                seed: 99,
                coils: 1,
            };
            let fast = Noise::apply(&p, &img).unwrap();
            let sigma = Noise::sigma(&p, &img).unwrap() as f32;
            let seed = Seed::from_u64(p.seed);
            let slow = simulate_rss(&img, 1, |c, mut x| {
                let mut rng = seed.child(&format!("coil-{c}")).rng();
                let xs = x.as_slice_mut().unwrap();
                for_each_noise_block(xs.len(), sigma, &mut rng, |start, re, im| {
                    for ((z, &r), &m) in xs[start..].iter_mut().zip(re).zip(im) {
                        *z += Complex32::new(r, m);
                    }
                });
                Ok(x)
            })
            .unwrap();
            assert_eq!(fast.shape(), slow.shape());
            let worst = fast
                .data
                .iter()
                .zip(slow.data.iter())
                .map(|(a, b)| (a.to_bits() as i64 - b.to_bits() as i64).abs())
                .max()
                .unwrap();
            assert!(worst <= max_ulp, "scale {scale}: {worst} ulp");
        }
    }

    /// The AVX2 builds of the per-pixel loops give the portable bytes, on block lengths that
    /// are and are not multiples of the vector width (tails), with zero, small, large and
    /// negative pixel values.
    #[test]
    fn avx2_kernels_give_the_portable_bytes() {
        if !crate::simd::avx2_available() {
            eprintln!("no AVX2 on this CPU: only the portable path exists");
            return;
        }
        let mut rng = Seed::from_u64(17).rng();
        for len in [
            0usize,
            1,
            2,
            3,
            7,
            8,
            9,
            15,
            16,
            17,
            31,
            33,
            1000,
            BLOCK,
            BLOCK + 13,
        ] {
            let (mut a, mut b) = (vec![0u32; len], vec![0u16; len]);
            rng.fill(&mut a[..]);
            rng.fill(&mut b[..]);
            // extreme words too: all ones / all zeros in the used bits
            if len >= 2 {
                (a[0], b[0]) = (u32::MAX, 0);
                (a[1], b[1]) = (0, u16::MAX);
            }
            let x: Vec<f32> = (0..len)
                .map(|i| match i % 5 {
                    0 => 0.0,
                    1 => (i as f32).sqrt() * 13.7,
                    2 => -3.25e-3 * i as f32,
                    3 => 1.0e6 + i as f32,
                    _ => 0.5,
                })
                .collect();
            for sigma in [0.0f32, 1e-6, 0.37, 12.5] {
                let (mut r0, mut i0) = (vec![0f32; len], vec![0f32; len]);
                let (mut r1, mut i1) = (vec![1f32; len], vec![1f32; len]);
                kernels::noise_with(&a, &b, sigma, &mut r0, &mut i0, false);
                kernels::noise_with(&a, &b, sigma, &mut r1, &mut i1, true);
                let bytes = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bytes(&r0), bytes(&r1), "re, len {len}, σ {sigma}");
                assert_eq!(bytes(&i0), bytes(&i1), "im, len {len}, σ {sigma}");
                let mut m0 = vec![std::mem::MaybeUninit::new(0f32); len];
                let mut m1 = vec![std::mem::MaybeUninit::new(1f32); len];
                kernels::magnitude_with(&a, &b, &x, sigma, &mut m0, false);
                kernels::magnitude_with(&a, &b, &x, sigma, &mut m1, true);
                // SAFETY: initialised above (and overwritten by the kernels)
                let (m0, m1): (Vec<u32>, Vec<u32>) = unsafe {
                    (
                        m0.iter().map(|m| m.assume_init().to_bits()).collect(),
                        m1.iter().map(|m| m.assume_init().to_bits()).collect(),
                    )
                };
                assert_eq!(m0, m1, "magnitude, len {len}, σ {sigma}");
                // and the magnitude is |x + re + i·im| of the noise kernel: exactly the f32
                // formula, within 2 ulp of the correctly rounded value of the exact kernel
                // (or the exact values if some square is out of the f32 range, e.g. σ = 0)
                let mut e = vec![std::mem::MaybeUninit::new(0f32); len];
                kernels::magnitude_exact(&a, &b, &x, sigma, &mut e);
                let sq = |k: usize| (x[k] + r0[k]).powi(2) + i0[k] * i0[k];
                let fallback =
                    (0..len).any(|k| !(sq(k) >= 2f32.powi(-100) && sq(k) <= 2f32.powi(126)));
                for k in 0..len {
                    let (re, im) = (x[k] + r0[k], i0[k]);
                    let z = crate::kspace::abs_c(Complex32::new(re, im)).to_bits();
                    // SAFETY: initialised above
                    assert_eq!(unsafe { e[k].assume_init() }.to_bits(), z);
                    if fallback {
                        assert_eq!(m0[k], z);
                    } else {
                        assert_eq!(m0[k], (re * re + im * im).sqrt().to_bits());
                        assert!((m0[k] as i64 - z as i64).abs() <= 2, "{} vs {z}", m0[k]);
                    }
                }
            }
        }
    }

    /// The f32 magnitude stays within 2 ulp of the correctly rounded `|z|` over magnitudes from
    /// 1e-12 to 1e17 and all ratios of the parts (the range where no square is subnormal or
    /// infinite), and blocks outside that range fall back to the exact values.
    #[test]
    fn f32_magnitude_is_within_2_ulp_and_falls_back_outside_its_range() {
        let mut rng = Seed::from_u64(5).rng();
        let n = 4000;
        let (mut a, mut b) = (vec![0u32; n], vec![0u16; n]);
        rng.fill(&mut a[..]);
        rng.fill(&mut b[..]);
        for scale in [1e-12f32, 1e-3, 1.0, 7.0e3, 1e9, 1e17] {
            for ratio in [0.0f32, 0.01, 1.0, 3.0, 100.0] {
                let x: Vec<f32> = (0..n)
                    .map(|i| scale * ratio * ((i % 13) as f32 - 6.0))
                    .collect();
                let mut m = vec![std::mem::MaybeUninit::new(0f32); n];
                let mut e = vec![std::mem::MaybeUninit::new(0f32); n];
                kernels::magnitude_with(&a, &b, &x, scale, &mut m, false);
                kernels::magnitude_exact(&a, &b, &x, scale, &mut e);
                for k in 0..n {
                    // SAFETY: initialised above
                    let (m, e) = unsafe { (m[k].assume_init(), e[k].assume_init()) };
                    let d = (m.to_bits() as i64 - e.to_bits() as i64).abs();
                    assert!(d <= 2, "scale {scale} ratio {ratio}: {m} vs {e}");
                }
            }
        }
        for scale in [1e-25f32, 1e25] {
            let x: Vec<f32> = (0..n).map(|i| scale * (i % 5) as f32).collect();
            for avx2 in [false, true] {
                let mut m = vec![std::mem::MaybeUninit::new(0f32); n];
                let mut e = vec![std::mem::MaybeUninit::new(0f32); n];
                kernels::magnitude_with(&a, &b, &x, scale, &mut m, avx2);
                kernels::magnitude_exact(&a, &b, &x, scale, &mut e);
                let bits = |v: &[std::mem::MaybeUninit<f32>]| {
                    v.iter()
                        .map(|m| {
                            // SAFETY: initialised above
                            unsafe { m.assume_init() }.to_bits()
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&m), bits(&e), "scale {scale}");
            }
        }
    }

    /// The SSE2 foreground sum gives the portable lanes' sums exactly, and the sequential sum
    /// up to rounding.
    #[test]
    fn foreground_sum_matches_the_portable_lanes() {
        let v: Vec<f32> = (0..5003)
            .map(|i| {
                if i % 7 < 3 {
                    0.0
                } else {
                    ((i * 7919) % 1000) as f32 * 0.37 - 20.0
                }
            })
            .collect();
        for n in [0usize, 1, 7, 8, 9, 100, 1003, 5003] {
            for t in [-30.0f32, 0.0, 17.5, 400.0] {
                let x = &v[..n];
                let fast = sum_above(x, t);
                let lanes = sum_above_portable(x, t);
                assert_eq!(fast.0.to_bits(), lanes.0.to_bits(), "n {n} t {t}");
                assert_eq!(fast.1, lanes.1);
                let (s, c) = x
                    .iter()
                    .filter(|&&v| v > t)
                    .fold((0.0f64, 0usize), |(s, n), &v| (s + v.abs() as f64, n + 1));
                assert_eq!(fast.1, c);
                assert!((fast.0 - s).abs() <= 1e-12 * s.abs(), "{} vs {s}", fast.0);
            }
        }
    }

    /// The realisation follows the documented stream layout: per block `len` words for the
    /// radius, then `⌈len/2⌉` words split into two 16-bit halves (low first) for the phase,
    /// a final odd block included.
    #[test]
    fn noise_stream_follows_the_documented_layout() {
        let n = BLOCK * 2 + 77;
        let mut a = Vec::new();
        for_each_noise_block(n, 1.5, &mut Seed::from_u64(3).rng(), |_, re, im| {
            a.extend(re.iter().copied().zip(im.iter().copied()))
        });
        let mut rng = Seed::from_u64(3).rng();
        let mut b = Vec::new();
        let mut left = n;
        while left > 0 {
            let len = BLOCK.min(left);
            let radius: Vec<u32> = (0..len).map(|_| rng.random()).collect();
            let phase: Vec<u16> = (0..len.div_ceil(2))
                .flat_map(|_| {
                    let w: u32 = rng.random();
                    [w as u16, (w >> 16) as u16]
                })
                .collect();
            for i in 0..len {
                // 24 + 24 bits: phase = 16 bits of the half word above the low byte of `a`
                let lo = radius[i];
                let hi = ((phase[i] as u32) << 16) | ((lo & 0xff) << 8);
                let (re, im) = artefact_core::fastmath::normal_pair_words(lo, hi);
                b.push((re * 1.5, im * 1.5));
            }
            left -= len;
        }
        assert_eq!(a, b);
    }
}
