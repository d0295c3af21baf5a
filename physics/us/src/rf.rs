//! RF / IQ beam formation: scatterers convolved with the separable PSF on the beam grid.
//!
//! Model. With scatterers `i` at depth `r_i` (mm) and beam coordinate `u_i`, amplitude
//! `a_i·s_i` (`s_i`: echogenicity scale × shadowing), the RF line is the superposition of
//! pulse-echoes ([`crate::psf::Psf`]):
//!
//! ```text
//! rf(r, u) = Σ_i a_i s_i · g(r − r_i) cos(k (r − r_i)) · L(u − u_i)
//!          = Re{ e^{ikr} · iq(r, u) },    iq(r, u) = Σ_i a_i s_i e^{−i k r_i} g(r − r_i) L(u − u_i)
//! ```
//!
//! so the complex baseband (IQ) signal is the convolution of complex scatterer amplitudes
//! `a_i s_i e^{−ik r_i}` with the real Gaussian envelope, and its modulus is the envelope of the
//! RF line: for a Gaussian pulse whose spectrum does not reach zero frequency (Bedrosian's
//! theorem), `|hilbert(rf)| = |iq|`. The fast path ([`Sim::iq`]) computes `iq` directly on a grid
//! that only needs to resolve the envelope (`dr ≈ σz`), which is what makes a 512×512 B-mode
//! image take milliseconds; the reference path ([`Sim::rf`]) computes the true RF on a grid
//! fine enough for `fc` (≥ 8 samples per period) so its Hilbert envelope can be checked
//! against `|iq|` (test `iq_envelope_equals_hilbert_envelope_of_rf`).
//!
//! Axially each scatterer is added exactly (the Gaussian envelope is evaluated at its
//! sub-sample offset from a 64-phase table; the phase `e^{−ik r_i}` is exact to 5e-7);
//! laterally it is added to the nearest beam and every depth row is then convolved with the
//! lateral Gaussian taps `k_n` (whose width in beams depends on depth for sector probes and for
//! depths beyond the active aperture's reach). Beam `b` therefore sees a scatterer at beam
//! coordinate `u` through the staircase `k(b − round(u))`; the covariance of two beams `d`
//! apart, `∫ k(b − round(u)) k(b + d − round(u)) du = Σ_n k_n k_{n+d}`, equals the continuous
//! Gaussian's `∫ L(x) L(x + d) dx` up to an aliasing term `≈ 2·exp(−π²σ²)` (σ: kernel width in
//! beams; ≈ 1e-4 at the default grid's σ ≥ 1), so the speckle statistics on the beam grid are
//! those of the continuous model. When the grid is coarser than the beam (oversample < 1, σ <
//! 0.7 beams anywhere) the scatterer is split linearly between the two nearest beams instead.
//! Halo beams beyond the field of view are simulated too, so the edge beams see a full
//! neighbourhood of tissue.
//!
//! Normalisation. The IQ rows are divided by `√I_ref(r)`, the exact expected intensity of fully
//! developed speckle from unit-echogenicity tissue for this discrete model:
//! `I_ref = ρ · ∫₀^∞ g(r − r')² Δs(r') dr' · K` (ρ: scatterers per mm², `Δs`: beam spacing in
//! mm at depth r', `K = Σ_n k_n²` for the nearest-beam deposit, `Σ_n (k_n² + k_n k_{n+1} +
//! k_{n+1}²)/3` for the linear split; the integral is `Δs·σz√π` away from the probe face and is
//! evaluated in closed form with erfc). So `E|iq|² = s(e)²` at every depth:
//! brightness does not depend on scatterer density, beam width or depth (energy-normalised
//! beams); attenuation and TGC are then applied as a depth gain.
//!
//! References: Y. Yu & S. T. Acton / J. C. Bamber & R. J. Dickinson, "Ultrasonic B-scanning: a
//! computer simulation", Phys. Med. Biol. 25(3), 1980 (convolution model); J. Meunier & M.
//! Bertrand 1995; E. Bedrosian, "A product theorem for Hilbert transforms", Proc. IEEE 51, 1963;
//! Gao et al., "A fast convolution-based methodology to simulate 2-D/3-D cardiac ultrasound
//! images", IEEE TUFFC 56(2), 2009 (COLE-style fast convolution simulators).

use crate::bmode::Settings;
use crate::error::UsError;
use crate::geometry::Geometry;
use crate::psf::Psf;
use crate::scatterers::{for_each_scatterer, for_each_scatterer_batch};
use crate::{haze, reverberation, shadowing};
use artefact_core::{Image, Seed};
use ndarray::Array2;
use num_complex::Complex32;

/// Sub-sample phases of the axial envelope table.
const TABLE_PHASES: usize = 64;
/// The axial envelope of a point echo is added within ± this many standard deviations.
const AXIAL_SIGMAS: f64 = 3.0;
/// Lateral kernels are truncated at this many standard deviations.
const KERNEL_SIGMAS: f64 = 3.5;
/// Smallest lateral kernel σ (in beams, at every depth) for the nearest-beam lateral deposit.
/// At σ ≥ 0.7 beams the beam-sampled covariance `Σ_n k(n)k(n+d)` of the Gaussian taps equals
/// the continuous one to < 2 % (aliasing term `2·exp(−π²σ²)`); at the default oversample the
/// grid gives σ ≥ 1 (error ≈ 1e-4).
const NEAREST_MIN_SIGMA: f64 = 0.7;
/// Largest number of halo beams on each side.
const MAX_HALO: usize = 48;
/// Scatterers are generated this many nominal σz below the imaging depth (covers `fc_scale`
/// down to 0.25 with the kernel truncation above).
const DEPTH_MARGIN_SIGMAS: f64 = 16.0;

/// Axial envelope taps of a point echo at every sub-sample phase: for a scatterer at fractional
/// sample `mc`, the first tap is `ceil(mc − reach)` and phase row `q = round((start − (mc −
/// reach))·64)` holds `g` at offsets `−reach + q/64 + i`, `i < len`.
#[derive(Clone, Debug)]
pub struct AxialTable {
    len: usize,
    reach: f64,
    taps: Vec<f32>,
}

/// A prepared simulation: geometry, PSF, the amplitude map on the extended beam grid.
#[derive(Clone, Debug)]
pub struct Sim {
    pub geom: Geometry,
    /// The (possibly degraded) PSF used for convolution.
    pub psf: Psf,
    /// The nominal PSF of the probe (fixes grid and scatterer density).
    pub psf_nominal: Psf,
    /// Halo beams on each side.
    pub halo: usize,
    /// Beams in the extended grid (`n_b + 2·halo`).
    pub n_ext: usize,
    /// Scatterers per mm².
    pub density: f64,
    /// Depth up to which scatterers are generated, mm.
    pub r_gen: f64,
    /// Echogenicity scale × shadowing on the extended grid, row-major `(n_r, n_ext)`.
    pub amp: Vec<f32>,
    /// Lateral kernels per depth row: (half width T, taps of length 2T+1).
    kernels: Vec<(usize, Vec<f32>)>,
    /// `√I_ref` per depth row.
    norm: Vec<f64>,
    /// Lateral deposit: nearest beam (`true`) or linear split between the two nearest beams.
    pub nearest: bool,
    /// `1 / dr`.
    inv_dr: f64,
}

/// `(sin φ, cos φ)` in f32 after an exact f64 reduction of `φ ≥ 0` to turns in `[0, 1)`
/// (polynomial sin/cos, |error| < 5e-7; see [`artefact_core::fastmath::sin_cos_turns`]).
#[inline]
pub(crate) fn phase(phi: f64) -> (f32, f32) {
    // truncating casts instead of `rem_euclid`/`floor` (libm calls on baseline x86-64)
    let turns = phi * (1.0 / std::f64::consts::TAU);
    let mut t = turns - (turns as i64) as f64;
    if t < 0.0 {
        t += 1.0;
    }
    artefact_core::fastmath::sin_cos_turns(t as f32)
}

/// Lateral energy factor of one unit scatterer per unit beam width, `∫ |lateral response|² du`
/// for a scatterer at beam coordinate `u`: with the nearest-beam deposit the beam `b` sees
/// `k(b − round(u))`, so the integral is `Σ k_n²`; with the linear split it sees the linear
/// interpolation of the taps, `Σ_n (k_n² + k_n k_{n+1} + k_{n+1}²)/3`.
fn lateral_energy(taps: &[f32], nearest: bool) -> f64 {
    if nearest {
        return taps.iter().map(|&k| k as f64 * k as f64).sum();
    }
    let mut s = 0.0f64;
    for n in 0..=taps.len() {
        let a = if n < taps.len() { taps[n] as f64 } else { 0.0 };
        let b = if n > 0 { taps[n - 1] as f64 } else { 0.0 };
        s += (a * a + a * b + b * b) / 3.0;
    }
    s
}

/// Complementary error function (Numerical Recipes `erfcc`, |relative error| < 1.2e-7).
pub(crate) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Map an echogenicity in `[0, 1]` to a scatterer amplitude scale: `10^(R·(e − 1)/20)` for a
/// log mapping over `R = echo_range_db` dB (so the log-compressed display reproduces the map's
/// grey levels when `R` equals the display dynamic range), or `e` itself when `R = 0`.
/// Zero echogenicity is anechoic (scale 0).
pub fn echo_to_amplitude(e: f32, echo_range_db: f64) -> f32 {
    if e <= 0.0 {
        0.0
    } else if echo_range_db <= 0.0 {
        e
    } else {
        (std::f32::consts::LN_10 * echo_range_db as f32 * (e - 1.0) / 20.0).exp()
    }
}

impl Sim {
    /// Prepare a simulation of `echo` (values in `[0, 1]`) with `probe` and `settings`.
    pub fn new(echo: &Image, probe: &crate::Probe, settings: &Settings) -> Result<Sim, UsError> {
        settings.validate()?;
        crate::echogenicity::check_echogenicity(echo)?;
        let geom = Geometry::new(
            probe,
            echo.rows(),
            echo.cols(),
            echo.spacing,
            settings.oversample,
        )?;
        let psf = Psf::new(probe, settings.fc_scale, settings.beam_width_scale);
        let psf_nominal = Psf::nominal(probe);
        let density = settings.scatterers_per_cell / psf_nominal.resolution_cell_mm2();
        let r_gen = geom.depth + DEPTH_MARGIN_SIGMAS * psf_nominal.axial_sigma_mm();
        // halo: kernel reach at the deepest row (beams are narrowest in beam units there for
        // linear probes, and the near-apex rows of sector probes are clamped)
        // (the first 10 % of the depth is skipped: near the apex of a phased array every
        // beam overlaps every other and the halo would be the whole sector)
        let mut halo = 1usize;
        for m in geom.n_r / 10..geom.n_r {
            let r = geom.r_of(m as f64);
            let sb = psf.lateral_sigma_mm(r) / geom.beam_spacing_mm(r).max(1e-12);
            halo = halo.max((KERNEL_SIGMAS * sb).ceil() as usize + 1);
            if halo >= MAX_HALO {
                halo = MAX_HALO;
                break;
            }
        }
        let n_ext = geom.n_b + 2 * halo;
        // lateral kernels and normalisation per row
        let sz = psf.axial_sigma_mm();
        // nearest-beam lateral deposit when the lateral kernel spans ≥ NEAREST_MIN_SIGMA beams
        // at every depth (always at oversample ≥ 1: the grid puts beams ≤ σx apart)
        let nearest = (0..geom.n_r).all(|m| {
            let r = geom.r_of(m as f64);
            psf.lateral_sigma_mm(r) / geom.beam_spacing_mm(r).max(1e-12) >= NEAREST_MIN_SIGMA
        });
        let mut kernels = Vec::with_capacity(geom.n_r);
        let mut norm = Vec::with_capacity(geom.n_r);
        for m in 0..geom.n_r {
            let r = geom.r_of(m as f64);
            let ds = geom.beam_spacing_mm(r).max(1e-12);
            let sb = psf.lateral_sigma_mm(r) / ds;
            let t = ((KERNEL_SIGMAS * sb).ceil() as usize).min(n_ext);
            let taps: Vec<f32> = (-(t as i64)..=t as i64)
                .map(|i| (-(i as f64).powi(2) / (2.0 * sb * sb)).exp() as f32)
                .collect();
            let s = lateral_energy(&taps, nearest);
            // axial part: ∫₀^∞ g(r − r')² ds(r') dr' (no scatterers above the probe face; in
            // sector geometry ds grows with r' = ρ − R), in closed form with erfc
            let half = 0.5 * sz * std::f64::consts::PI.sqrt() * erfc(-r / sz);
            let tail = 0.5 * sz * sz * (-(r / sz).powi(2)).exp();
            let axial = if geom.is_sector() {
                geom.dlat * ((geom.radius + r) * half + tail)
            } else {
                geom.dlat * half
            };
            let i_ref = density * axial * s;
            norm.push(i_ref.sqrt());
            kernels.push((t, taps));
        }
        let inv_dr = 1.0 / geom.dr;
        let mut sim = Sim {
            geom,
            psf,
            psf_nominal,
            halo,
            n_ext,
            density,
            r_gen,
            amp: Vec::new(),
            kernels,
            norm,
            nearest,
            inv_dr,
        };
        sim.amp = sim.amplitude_map(echo, settings);
        Ok(sim)
    }

    /// Lateral coordinate of extended beam `u` (`u = b + halo`).
    fn lat_ext(&self, u: usize) -> f64 {
        self.geom.lat_of(u as f64 - self.halo as f64)
    }

    /// Echogenicity sampled (bilinearly) at every extended-grid sample, mapped to amplitude
    /// scale, times the shadowing transmission.
    fn amplitude_map(&self, echo: &Image, settings: &Settings) -> Vec<f32> {
        let g = &self.geom;
        let (rows, cols) = echo.shape();
        let data = echo.data.as_standard_layout();
        let data = data.as_slice().expect("standard layout");
        let mut e = vec![0f32; g.n_r * self.n_ext];
        for u in 0..self.n_ext {
            let lat = self.lat_ext(u);
            let (sn, cs) = if g.is_sector() {
                lat.sin_cos()
            } else {
                (0.0, 1.0)
            };
            for m in 0..g.n_r {
                let r = g.r_of(m as f64);
                let (x, y) = if g.is_sector() {
                    let rho = g.radius + r;
                    (rho * sn, rho * cs - g.radius)
                } else {
                    (lat, r)
                };
                let (pi, pj) = g.xy_to_pixel(x, y);
                if pi < -0.5 || pj < -0.5 || pi > rows as f64 - 0.5 || pj > cols as f64 - 0.5 {
                    continue;
                }
                let pi = pi.clamp(0.0, (rows - 1) as f64);
                let pj = pj.clamp(0.0, (cols - 1) as f64);
                // pi, pj ≥ 0 here: truncation = floor (no libm call)
                let (i0, j0) = (pi as usize, pj as usize);
                let (i1, j1) = ((i0 + 1).min(rows - 1), (j0 + 1).min(cols - 1));
                let (fi, fj) = ((pi - i0 as f64) as f32, (pj - j0 as f64) as f32);
                let a = data[i0 * cols + j0] * (1.0 - fj) + data[i0 * cols + j1] * fj;
                let b = data[i1 * cols + j0] * (1.0 - fj) + data[i1 * cols + j1] * fj;
                e[m * self.n_ext + u] = a * (1.0 - fi) + b * fi;
            }
        }
        let mut amp: Vec<f32> = e
            .iter()
            .map(|&v| echo_to_amplitude(v, settings.echo_range_db))
            .collect();
        shadowing::apply_transmission(self, &e, &mut amp, settings);
        amp
    }

    /// Amplitude-map value nearest to `(r, u)` (clamped to the grid).
    #[inline]
    fn amp_at(&self, r: f64, u: f64) -> f32 {
        // r, u ≥ 0: `(x + 0.5) as usize` rounds (saturating casts clamp negatives to 0)
        let m = ((r * self.inv_dr + 0.5) as usize).min(self.geom.n_r - 1);
        let uu = ((u + 0.5) as usize).min(self.n_ext - 1);
        self.amp[m * self.n_ext + uu]
    }

    /// Axial envelope table (see [`AxialTable`]).
    pub(crate) fn axial_table(&self) -> AxialTable {
        let s = self.psf.axial_sigma_mm() / self.geom.dr;
        let reach = AXIAL_SIGMAS * s;
        let len = (2.0 * reach).floor() as usize + 2;
        let mut taps = vec![0f32; (TABLE_PHASES + 1) * len];
        for q in 0..=TABLE_PHASES {
            let o0 = -reach + q as f64 / TABLE_PHASES as f64;
            for i in 0..len {
                let off = o0 + i as f64;
                taps[q * len + i] = (-off * off / (2.0 * s * s)).exp() as f32;
            }
        }
        AxialTable { len, reach, taps }
    }

    /// Axial taps of a point echo at depth `r` (mm): `(first depth sample, offset of its tap in
    /// `table.taps`, number of taps)` clipped to the grid, `None` when none falls on it.
    #[inline]
    fn axial_span(&self, table: &AxialTable, r: f64) -> Option<(usize, usize, usize)> {
        let (w, n_r) = (table.len, self.geom.n_r);
        // first tap: ceil(mc − reach), by truncating casts (no libm floor/ceil)
        let mc = r.max(0.0) * self.inv_dr;
        let t0 = mc - table.reach;
        let mut start = t0 as i64;
        if (start as f64) < t0 {
            start += 1;
        }
        let q = ((start as f64 - t0) * TABLE_PHASES as f64 + 0.5) as usize;
        let i_lo = (-start).max(0) as usize;
        let i_hi = ((n_r as i64 - start).min(w as i64)).max(0) as usize;
        if i_lo >= i_hi {
            return None;
        }
        Some(((start + i_lo as i64) as usize, q * w + i_lo, i_hi - i_lo))
    }

    /// Add one complex point echo at depth `r` (mm), extended beam coordinate `u`, into `buf`
    /// (beam-major: `buf[u·n_r + m]`, so the axial taps of one scatterer are contiguous).
    #[inline]
    pub(crate) fn deposit(
        &self,
        buf: &mut [Complex32],
        table: &AxialTable,
        r: f64,
        u: f64,
        c: Complex32,
    ) {
        let n_r = self.geom.n_r;
        let Some((m_lo, t_off, len)) = self.axial_span(table, r) else {
            return;
        };
        let taps = &table.taps[t_off..t_off + len];
        let u = u.max(0.0);
        let add = |buf: &mut [Complex32], uu: usize, cc: Complex32| {
            let off = uu * n_r + m_lo;
            for (d, &g) in buf[off..off + len].iter_mut().zip(taps) {
                *d += cc * g;
            }
        };
        if self.nearest {
            let un = (u + 0.5) as usize;
            if un < self.n_ext {
                add(buf, un, c);
            }
        } else {
            let u0 = u as usize;
            let fu = (u - u0 as f64) as f32;
            if u0 < self.n_ext {
                add(buf, u0, c * (1.0 - fu));
            }
            if u0 + 1 < self.n_ext {
                add(buf, u0 + 1, c * fu);
            }
        }
    }

    /// Add a specular (coherent) line echo of normalised amplitude `amp` at depth `r` on the
    /// real beams `b_lo..=b_hi`: after lateral convolution and normalisation its peak is `amp`.
    pub(crate) fn deposit_line(
        &self,
        buf: &mut [Complex32],
        table: &AxialTable,
        r: f64,
        (b_lo, b_hi): (usize, usize),
        amp: f64,
    ) {
        if amp == 0.0 || r < 0.0 || r > self.geom.depth {
            return;
        }
        let m = ((r / self.geom.dr).round() as usize).min(self.geom.n_r - 1);
        let ksum: f64 = self.kernels[m].1.iter().map(|&v| v as f64).sum();
        let a = amp * self.norm[m] / ksum;
        let ph = -self.psf.wavenumber() * r;
        let c = Complex32::new((a * ph.cos()) as f32, (a * ph.sin()) as f32);
        for b in b_lo..=b_hi.min(self.geom.n_b - 1) {
            self.deposit(buf, table, r, (b + self.halo) as f64, c);
        }
    }

    /// Deposit the tissue scatterers of `tissue` into the beam-major buffer. `batched`: the
    /// two-pass nearest-beam path; otherwise one [`Sim::deposit`] per scatterer (the reference,
    /// bit-identical: same terms added in the same order).
    fn deposit_tissue(
        &self,
        settings: &Settings,
        tissue: &Seed,
        table: &AxialTable,
        buf: &mut [Complex32],
        batched: bool,
    ) {
        let g = &self.geom;
        let k = self.psf.wavenumber();
        let h = self.halo as f64;
        let range = (-h, (g.n_b - 1) as f64 + h);
        let n_r = g.n_r;
        let mut spans: Vec<(usize, usize, usize, Complex32)> = Vec::new();
        let mut scale: Vec<f32> = Vec::new();
        for_each_scatterer_batch(
            g,
            self.density,
            settings.amplitude_law,
            tissue,
            range,
            self.r_gen,
            |rs, bs, amps| {
                if !(self.nearest && batched) {
                    for ((&r, &b), &a) in rs.iter().zip(bs).zip(amps) {
                        let u = b + h;
                        let s = a * self.amp_at(r, u);
                        if s != 0.0 {
                            let (sn, cs) = phase(k * r);
                            self.deposit(buf, table, r, u, Complex32::new(s * cs, -s * sn));
                        }
                    }
                    return;
                }
                // nearest-beam deposit in two passes (addresses and weights of the whole
                // batch first, then the adds), which keeps several scatterers in flight;
                // same arithmetic as `deposit`
                spans.clear();
                scale.clear();
                scale.extend(
                    rs.iter()
                        .zip(bs)
                        .zip(amps)
                        .map(|((&r, &b), &a)| a * self.amp_at(r, b + h)),
                );
                for ((&r, &b), &s) in rs.iter().zip(bs).zip(&scale) {
                    let u = b + h;
                    let un = (u.max(0.0) + 0.5) as usize;
                    if s == 0.0 || un >= self.n_ext {
                        continue;
                    }
                    if let Some((m_lo, t_off, len)) = self.axial_span(table, r) {
                        let (sn, cs) = phase(k * r);
                        let c = Complex32::new(s * cs, -s * sn);
                        spans.push((un * n_r + m_lo, t_off, len, c));
                    }
                }
                for &(off, t_off, len, c) in &spans {
                    let taps = &table.taps[t_off..t_off + len];
                    for (d, &gv) in buf[off..off + len].iter_mut().zip(taps) {
                        *d += c * gv;
                    }
                }
            },
        );
    }

    /// Normalised IQ image `(n_r, n_b)` of tissue, haze and specular echoes, with depth gain.
    pub fn iq(&self, settings: &Settings, seed: u64) -> Array2<Complex32> {
        let g = &self.geom;
        let mut buf = vec![Complex32::new(0.0, 0.0); g.n_r * self.n_ext];
        let table = self.axial_table();
        let seed = Seed::from_u64(seed);
        let tissue = seed.child("tissue");
        self.deposit_tissue(settings, &tissue, &table, &mut buf, true);
        if let Some(hz) = &settings.haze {
            haze::deposit(self, hz, &seed.child("haze"), settings, &table, &mut buf);
        }
        shadowing::deposit_reflectors(self, settings, &table, &mut buf);
        if let Some(rv) = &settings.reverberation {
            reverberation::deposit(self, rv, &table, &mut buf);
        }
        let buf = self.to_row_major(&buf);
        let mut out = self.lateral(&buf);
        let gain = crate::attenuation::depth_gain(self, settings);
        for (m, mut row) in out.rows_mut().into_iter().enumerate() {
            let f = (gain.as_ref().map_or(1.0, |gv| gv[m]) / self.norm[m]) as f32;
            row.mapv_inplace(|c| c * f);
        }
        out
    }

    /// Beam-major `(n_ext, n_r)` → row-major `(n_r, n_ext)`, in cache-friendly tiles.
    fn to_row_major(&self, buf: &[Complex32]) -> Vec<Complex32> {
        let (n_r, n_ext) = (self.geom.n_r, self.n_ext);
        let mut out = vec![Complex32::new(0.0, 0.0); buf.len()];
        const T: usize = 32;
        for u0 in (0..n_ext).step_by(T) {
            for m0 in (0..n_r).step_by(T) {
                for u in u0..(u0 + T).min(n_ext) {
                    for m in m0..(m0 + T).min(n_r) {
                        out[m * n_ext + u] = buf[u * n_r + m];
                    }
                }
            }
        }
        out
    }

    /// Lateral convolution of every row (extended grid → real beams).
    fn lateral<T>(&self, buf: &[T]) -> Array2<T>
    where
        T: Copy + Default + std::ops::AddAssign + std::ops::Mul<f32, Output = T>,
    {
        let g = &self.geom;
        let mut out = Array2::<T>::default((g.n_r, g.n_b));
        for (m, mut orow) in out.rows_mut().into_iter().enumerate() {
            let irow = &buf[m * self.n_ext..(m + 1) * self.n_ext];
            let (t, ref taps) = self.kernels[m];
            let o = orow.as_slice_mut().expect("contiguous row");
            for (ti, &w) in taps.iter().enumerate() {
                // output beam b reads extended beam b + halo + (ti − t)
                let shift = self.halo as i64 + ti as i64 - t as i64;
                let b_lo = (-shift).max(0) as usize;
                let b_hi = ((self.n_ext as i64 - shift).min(g.n_b as i64)).max(0) as usize;
                for b in b_lo..b_hi {
                    o[b] += irow[(b as i64 + shift) as usize] * w;
                }
            }
        }
        out
    }

    /// Reference path: the true RF of the tissue scatterers on a depth grid `sub` times finer
    /// than the IQ grid (choose `sub` so that `dr/sub ≤ λ/16`, see [`Sim::rf_subdivision`]),
    /// normalised like [`Sim::iq`] and with the same depth gain. Shape `((n_r − 1)·sub + 1, n_b)`;
    /// fine sample `n·sub` coincides with IQ sample `n`. Haze and specular echoes are not
    /// included (this path exists to validate the IQ model).
    pub fn rf(&self, settings: &Settings, seed: u64, sub: usize) -> Array2<f32> {
        let g = &self.geom;
        let sub = sub.max(1);
        let n_f = (g.n_r - 1) * sub + 1;
        let drf = g.dr / sub as f64;
        let mut buf = vec![0f32; n_f * self.n_ext];
        let sz = self.psf.axial_sigma_mm();
        let reach = KERNEL_SIGMAS * sz;
        let h = self.halo as f64;
        let range = (-h, (g.n_b - 1) as f64 + h);
        let tissue = Seed::from_u64(seed).child("tissue");
        for_each_scatterer(
            g,
            self.density,
            settings.amplitude_law,
            &tissue,
            range,
            self.r_gen,
            |r, b, a| {
                let u = b + h;
                let s = a * self.amp_at(r, u);
                if s == 0.0 {
                    return;
                }
                let (u0, fu) = if self.nearest {
                    (u.round() as usize, 0.0f32)
                } else {
                    let u0 = u.floor();
                    (u0 as usize, (u - u0) as f32)
                };
                let lo = ((r - reach) / drf).ceil().max(0.0) as usize;
                let hi = (((r + reach) / drf).floor() as usize).min(n_f - 1);
                for n in lo..=hi.max(lo) {
                    if n > hi {
                        break;
                    }
                    let v = s * self.psf.rf_pulse(n as f64 * drf - r) as f32;
                    if u0 < self.n_ext {
                        buf[n * self.n_ext + u0] += v * (1.0 - fu);
                    }
                    if u0 + 1 < self.n_ext && fu != 0.0 {
                        buf[n * self.n_ext + u0 + 1] += v * fu;
                    }
                }
            },
        );
        // lateral convolution and normalisation with the kernel of the nearest IQ row
        let gain = crate::attenuation::depth_gain(self, settings);
        let mut out = Array2::<f32>::zeros((n_f, g.n_b));
        for n in 0..n_f {
            let m = ((n as f64 / sub as f64).round() as usize).min(g.n_r - 1);
            let (t, ref taps) = self.kernels[m];
            let irow = &buf[n * self.n_ext..(n + 1) * self.n_ext];
            let f = (gain.as_ref().map_or(1.0, |gv| gv[m]) / self.norm[m]) as f32;
            for b in 0..g.n_b {
                let mut acc = 0f32;
                for (ti, &w) in taps.iter().enumerate() {
                    let e = b as i64 + self.halo as i64 + ti as i64 - t as i64;
                    if e >= 0 && (e as usize) < self.n_ext {
                        acc += w * irow[e as usize];
                    }
                }
                out[[n, b]] = acc * f;
            }
        }
        out
    }

    /// Smallest subdivision of the IQ depth step that samples the RF at ≥ 16 samples per
    /// wavelength of the round trip (i.e. `dr/sub ≤ λ/16`, sampling rate ≥ 8·fc).
    pub fn rf_subdivision(&self) -> usize {
        (self.geom.dr / (self.psf.wavelength_mm() / 16.0))
            .ceil()
            .max(1.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Probe;
    use artefact_core::{Modality, Unit};

    /// The batched two-pass tissue deposit gives the same bytes as one `deposit` per scatterer.
    #[test]
    fn batched_deposit_matches_per_scatterer_reference() {
        let data = Array2::from_shape_fn((96, 80), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 10.0);
        let img = Image::new(data, [1.0, 1.0], Modality::Us, Unit::Echogenicity).unwrap();
        for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
            let settings = Settings::default();
            let sim = Sim::new(&img, &probe, &settings).unwrap();
            assert!(sim.nearest);
            let table = sim.axial_table();
            let tissue = Seed::from_u64(3).child("tissue");
            let n = sim.geom.n_r * sim.n_ext;
            let mut fast = vec![Complex32::new(0.0, 0.0); n];
            let mut slow = fast.clone();
            sim.deposit_tissue(&settings, &tissue, &table, &mut fast, true);
            sim.deposit_tissue(&settings, &tissue, &table, &mut slow, false);
            assert!(fast.iter().any(|c| c.norm() > 0.0));
            assert!(
                fast.iter()
                    .zip(&slow)
                    .all(|(a, b)| a.re.to_bits() == b.re.to_bits()
                        && a.im.to_bits() == b.im.to_bits())
            );
        }
    }
}
