//! The (r, θ) beam grid of one simulation and the primitives that add echoes to it.
//!
//! A [`BeamGrid`] fixes, for a probe, an output frame and the engine [`Settings`]: the
//! [`Geometry`], the (possibly degraded) PSF, the halo beams simulated beyond the field of view,
//! the scatterer density, the lateral Gaussian taps and the normalisation of every depth row.
//! It depends on the image only through its shape and spacing, so it can be planned once and
//! reused for every image of that frame.
//!
//! Echoes are accumulated in a beam-major complex buffer (`buf[u·n_r + m]`, `u` the extended
//! beam index `b + halo`, `m` the depth sample), so the axial taps of one echo are contiguous:
//! - [`BeamGrid::add_point_echo`]: a point echo (one scatterer) at depth `r` and fractional
//!   extended beam `u` — axially exact (Gaussian envelope at its sub-sample offset from a
//!   64-phase [`AxialTable`]), laterally on the nearest beam (or split linearly between the two
//!   nearest beams on coarse grids);
//! - [`BeamGrid::add_line_echo`]: a specular (coherent) line echo across a range of beams, whose
//!   peak after lateral convolution and normalisation is the requested amplitude.
//!
//! [`BeamGrid::to_row_major`] and [`BeamGrid::lateral`] then convolve every depth row with its
//! lateral taps (extended grid → real beams); dividing row `m` by [`BeamGrid::norm`] makes the
//! expected intensity of fully developed speckle of unit echogenicity 1 at every depth (see
//! [`crate::rf`] for the model and the normalisation).
//!
//! Units: depths mm, beam coordinates in beams, amplitudes relative to the RMS echo of
//! unit-echogenicity tissue.

use crate::error::UsError;
use crate::geometry::Geometry;
use crate::probe::Probe;
use crate::psf::Psf;
use crate::settings::Settings;
use artefact_core::Image;
use ndarray::Array2;
use num_complex::Complex32;

/// Level of a fully reflecting specular interface above unit-echogenicity speckle RMS, dB.
pub const SPECULAR_DB: f64 = 10.0;

/// Sub-sample phases of the axial envelope table.
const TABLE_PHASES: usize = 64;
/// The axial envelope of a point echo is added within ± this many standard deviations.
const AXIAL_SIGMAS: f64 = 3.0;
/// Lateral kernels are truncated at this many standard deviations.
pub(crate) const KERNEL_SIGMAS: f64 = 3.5;
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

impl AxialTable {
    /// The taps starting at offset `t_off` (from [`BeamGrid::axial_span`]).
    #[inline]
    pub(crate) fn taps(&self, t_off: usize, len: usize) -> &[f32] {
        &self.taps[t_off..t_off + len]
    }
}

/// A planned beam grid: geometry, PSF, halo, scatterer density, lateral kernels and row
/// normalisation.
#[derive(Clone, Debug)]
pub struct BeamGrid {
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
    /// Lateral deposit: nearest beam (`true`) or linear split between the two nearest beams.
    pub nearest: bool,
    /// Lateral kernels per depth row: (half width T, taps of length 2T+1).
    kernels: Vec<(usize, Vec<f32>)>,
    /// `√I_ref` per depth row.
    norm: Vec<f64>,
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

/// The complex amplitude `a·e^{−ikr}` of a point echo of real amplitude `a` at depth `r` (mm)
/// for the round-trip wavenumber `k` (rad/mm).
#[inline]
pub(crate) fn echo_phasor(a: f32, k: f64, r: f64) -> Complex32 {
    let (sn, cs) = phase(k * r);
    Complex32::new(a * cs, -a * sn)
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

impl BeamGrid {
    /// Plan the beam grid of `probe` for an output frame of `rows × cols` pixels with input
    /// spacing `spacing` (mm; only its aspect is used), with the PSF scaling, scatterer density
    /// and oversampling of `settings` (validated here).
    pub fn new(
        probe: &Probe,
        (rows, cols): (usize, usize),
        spacing: [f64; 2],
        settings: &Settings,
    ) -> Result<BeamGrid, UsError> {
        settings.validate()?;
        let geom = Geometry::new(probe, rows, cols, spacing, settings.oversample)?;
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
        Ok(BeamGrid {
            geom,
            psf,
            psf_nominal,
            halo,
            n_ext,
            density,
            r_gen,
            nearest,
            kernels,
            norm,
            inv_dr,
        })
    }

    /// Lateral coordinate of extended beam `u` (`u = b + halo`).
    fn lat_ext(&self, u: usize) -> f64 {
        self.geom.lat_of(u as f64 - self.halo as f64)
    }

    /// `√I_ref` of depth row `m`: the RMS of fully developed speckle of unit echogenicity
    /// before normalisation.
    #[inline]
    pub fn norm(&self, m: usize) -> f64 {
        self.norm[m]
    }

    /// Lateral taps of depth row `m`: (half width `T`, taps of length `2T + 1`).
    #[inline]
    pub fn kernel(&self, m: usize) -> (usize, &[f32]) {
        let (t, ref taps) = self.kernels[m];
        (t, taps)
    }

    /// Inclusive range of real beams covered by a structure centred at `center_frac` of the
    /// field of view (0 = first beam, 1 = last beam) spanning `width_frac` of it.
    pub fn beam_span(&self, center_frac: f64, width_frac: f64) -> (usize, usize) {
        let last = (self.geom.n_b - 1) as f64;
        let c = center_frac * last;
        let h = 0.5 * width_frac * last;
        let lo = (c - h).ceil().max(0.0) as usize;
        let hi = ((c + h).floor().min(last)) as usize;
        (lo, hi.max(lo))
    }

    /// An image (`rows × cols` of this grid) sampled bilinearly at every extended-grid sample,
    /// row-major `(n_r, n_ext)`; samples outside the image are 0.
    pub fn sample_image(&self, image: &Image) -> Result<Vec<f32>, UsError> {
        let g = &self.geom;
        let (rows, cols) = image.shape();
        if (rows, cols) != (g.rows, g.cols) {
            return Err(UsError::Input(format!(
                "image of {rows} × {cols} pixels does not match the planned frame of {} × {}",
                g.rows, g.cols
            )));
        }
        let data = image.data.as_standard_layout();
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
        Ok(e)
    }

    /// Index of the extended-grid sample nearest to `(r, u)` in a row-major `(n_r, n_ext)` map
    /// (clamped to the grid).
    #[inline]
    pub(crate) fn nearest_sample(&self, r: f64, u: f64) -> usize {
        // r, u ≥ 0: `(x + 0.5) as usize` rounds (saturating casts clamp negatives to 0)
        let m = ((r * self.inv_dr + 0.5) as usize).min(self.geom.n_r - 1);
        let uu = ((u + 0.5) as usize).min(self.n_ext - 1);
        m * self.n_ext + uu
    }

    /// Axial envelope table (see [`AxialTable`]).
    pub fn axial_table(&self) -> AxialTable {
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
    pub(crate) fn axial_span(&self, table: &AxialTable, r: f64) -> Option<(usize, usize, usize)> {
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

    /// Add one complex point echo `c` at depth `r` (mm), extended beam coordinate `u`, into the
    /// beam-major `buf` (`buf[u·n_r + m]`, so the axial taps of one echo are contiguous).
    #[inline]
    pub fn add_point_echo(
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
        let taps = table.taps(t_off, len);
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

    /// Add a specular (coherent) line echo of normalised amplitude `amp` at depth `r` (mm) on
    /// the real beams `b_lo..=b_hi`: after lateral convolution and normalisation its peak is
    /// `amp`.
    pub fn add_line_echo(
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
            self.add_point_echo(buf, table, r, (b + self.halo) as f64, c);
        }
    }

    /// Beam-major `(n_ext, n_r)` → row-major `(n_r, n_ext)`, in cache-friendly tiles.
    pub fn to_row_major(&self, buf: &[Complex32]) -> Vec<Complex32> {
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

    /// Lateral convolution of every row of a row-major `(n_r, n_ext)` buffer (extended grid →
    /// real beams).
    pub fn lateral<T>(&self, buf: &[T]) -> Array2<T>
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

    /// Smallest subdivision of the IQ depth step that samples the RF at ≥ 16 samples per
    /// wavelength of the round trip (i.e. `dr/sub ≤ λ/16`, sampling rate ≥ 8·fc).
    pub fn rf_subdivision(&self) -> usize {
        (self.geom.dr / (self.psf.wavelength_mm() / 16.0))
            .ceil()
            .max(1.0) as usize
    }
}
