//! Pixel-driven fan-beam back-projection (flat and equiangular detectors) with distance
//! weighting: per view and image row the source-frame coordinates are linear in the column, the
//! detector coordinate is `atan2` (arc, branch-free polynomial) or a division (flat), computed
//! for 64 pixels in a load-free pass before the gathers. The AVX2 build is
//! `crate::simd::fbp::fan_tile_avx2` (same bytes, tested there).

use super::tile::{FanTile, ATAN_C, FAN_BEHIND, TILE};
use crate::geometry::{Beam, Geometry, Grid};
use ndarray::Array2;
use rayon::prelude::*;

/// Pixel-driven fan-beam back-projection with distance weighting (`arc`: equiangular detector).
pub(crate) fn bp_fan(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
    arc: bool,
) -> Array2<f32> {
    bp_fan_with(q, geom, grid, vw, arc, crate::simd::avx2())
}

/// [`bp_fan`] with the code path chosen by the caller (`avx2`: the same loops compiled for
/// AVX2, same bytes; ignored where AVX2 is not available).
pub(crate) fn bp_fan_with(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
    arc: bool,
    avx2: bool,
) -> Array2<f32> {
    if arc {
        bp_fan_impl::<true>(q, geom, grid, vw, avx2)
    } else {
        bp_fan_impl::<false>(q, geom, grid, vw, avx2)
    }
}

/// Fan-beam back-projection, branch-free inner loop in f32 (vectorisable apart from the two
/// detector loads): per view and image row the source-frame coordinates `along`/`across` are
/// linear in the column; the detector coordinate is `atan2(across, along)` (arc, one division
/// plus a polynomial) or `R_s·across/along` (flat, one division). The detector row is padded
/// with one zero in front and two behind, and the position is clamped to `[0, n_det + 1]`, so
/// rays outside the detector read zeros without a branch.
fn bp_fan_impl<const ARC: bool>(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
    avx2: bool,
) -> Array2<f32> {
    let nd = geom.n_det;
    let (rs, rd) = match geom.beam {
        Beam::FanFlat {
            source_iso_mm,
            iso_det_mm,
        }
        | Beam::FanArc {
            source_iso_mm,
            iso_det_mm,
        } => (source_iso_mm, iso_det_mm),
        Beam::Parallel => unreachable!("bp_fan is only called for fan beams"),
    };
    // one zero in front, `FAN_BEHIND` behind (the AVX2 kernel loads 16 values from any
    // clamped position, the portable one reads index + 1)
    let stride = nd + 1 + FAN_BEHIND;
    let mut qp = vec![0.0f32; geom.n_views() * stride];
    for (v, row) in q.outer_iter().enumerate() {
        for (k, &x) in row.iter().enumerate() {
            qp[v * stride + k + 1] = x * vw[v];
        }
    }
    let dsd = rs + rd;
    // detector coordinate → padded index: flat: t (iso) → u = t·dsd/rs ; arc: γ → u = γ·dsd
    let c0 = (nd as f64 - 1.0) / 2.0 + 1.0;
    let scale = if ARC {
        dsd / geom.det_pitch_mm
    } else {
        dsd / rs / geom.det_pitch_mm
    };
    let shift = (c0 - geom.det_offset_mm / geom.det_pitch_mm) as f32;
    let scale = scale as f32;
    let rs32 = rs as f32;
    let pix = grid.pixel_mm;
    let cc = (grid.cols as f64 - 1.0) / 2.0;
    let cr = (grid.rows as f64 - 1.0) / 2.0;
    let trig: Vec<(f64, f64)> = geom.angles_rad.iter().map(|a| a.sin_cos()).collect();
    let mut out = Array2::<f32>::zeros((grid.rows, grid.cols));
    let cols = grid.cols;
    let kmax = (nd + 1) as f32;
    let x0 = -cc as f32;
    let params = FanTile {
        trig: &trig,
        qp: &qp,
        stride,
        pix,
        cr,
        rs,
        rs32,
        cols,
        kmax,
        x0,
        scale,
        shift,
    };
    // (the AVX2 kernel steps column positions in f32: exact below 2²² columns)
    let avx2 = avx2 && crate::simd::avx2_available() && cols < (1 << 22);
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols * TILE)
        .enumerate()
        .for_each(|(ti, tile)| {
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: AVX2 is available (checked above)
                unsafe { crate::simd::fbp::fan_tile_avx2::<ARC>(&params, ti, tile) };
                return;
            }
            fan_tile::<ARC>(&params, ti, tile);
        });
    out
}

/// Back-project every view into the tile `ti` (rows `ti·TILE…`) of the fan-beam image.
#[inline(always)]
fn fan_tile<const ARC: bool>(p: &FanTile, ti: usize, tile: &mut [f32]) {
    let FanTile {
        trig,
        qp,
        stride,
        pix,
        cr,
        rs,
        rs32,
        cols,
        kmax,
        x0,
        scale,
        shift,
    } = *p;
    for (v, &(s, c)) in trig.iter().enumerate() {
        let line = &qp[v * stride..(v + 1) * stride];
        let (l0, l1) = (&line[..stride - 1], &line[1..]);
        let last = l0.len() - 1;
        let along1 = (-s * pix) as f32;
        let across1 = (c * pix) as f32;
        for (r, row) in tile.chunks_mut(cols).enumerate() {
            let y = (cr - (ti * TILE + r) as f64) * pix;
            // along = R_s + P·d0, across = P·e ; d0 = (−s, c), e = (c, s)
            let along0 = (rs + y * c) as f32;
            let across0 = (y * s) as f32;
            // two passes per chunk of CHUNK pixels: the geometry (divisions, atan
            // polynomial, float→int) in a loop without loads, which vectorises, then
            // the gather-and-accumulate
            let mut ks = [0u32; CHUNK];
            let mut fs = [0.0f32; CHUNK];
            let mut ws = [0.0f32; CHUNK];
            for (c, orow) in row.chunks_mut(CHUNK).enumerate() {
                let j0 = c * CHUNK;
                for (m, ((kk, ff), ww)) in ks
                    .iter_mut()
                    .zip(fs.iter_mut())
                    .zip(ws.iter_mut())
                    .enumerate()
                {
                    let xj = x0 + (j0 + m) as f32;
                    let along = along0 + xj * along1;
                    let across = across0 + xj * across1;
                    let (coord, wgt) = if ARC {
                        (
                            atan2_pos(across, along),
                            1.0 / (along * along + across * across),
                        )
                    } else {
                        let inv = 1.0 / along;
                        let u = rs32 * inv;
                        (across * u, u * u)
                    };
                    let x = (coord * scale + shift).max(0.0).min(kmax);
                    let k = x as i32;
                    *kk = k as u32;
                    *ff = x - k as f32;
                    *ww = wgt;
                }
                for (o, ((&k, &f), &w)) in orow.iter_mut().zip(ks.iter().zip(&fs).zip(&ws)) {
                    let k = (k as usize).min(last);
                    let v0 = l0[k];
                    let v1 = l1[k];
                    *o += w * (v0 + f * (v1 - v0));
                }
            }
        }
    }
}

/// Pixels per vectorised geometry pass of [`bp_fan_impl`].
pub(crate) const CHUNK: usize = 64;

/// `atan2(y, x)` for `x > 0` (the source lies outside the grid, so every pixel is in front of
/// it), branch-free (selects only) so that it vectorises; same polynomial as [`fast_atan2`].
#[inline(always)]
pub(crate) fn atan2_pos(y: f32, x: f32) -> f32 {
    let ay = y.abs();
    let swap = ay > x;
    let num = if swap { x } else { ay };
    let den = if swap { ay } else { x };
    let z = num / den;
    let z2 = z * z;
    let mut p = ATAN_C[7];
    for &c in ATAN_C[..7].iter().rev() {
        p = p * z2 + c;
    }
    let p = p * z;
    let r = if swap {
        std::f32::consts::FRAC_PI_2 - p
    } else {
        p
    };
    r.copysign(y)
}

/// Slow reference for [`bp_fan`] (per-pixel `atan2`/division in f64 index arithmetic).
#[cfg(test)]
pub(crate) fn bp_fan_reference(
    q: &Array2<f32>,
    geom: &Geometry,
    grid: &Grid,
    vw: &[f32],
    arc: bool,
) -> Array2<f32> {
    let nd = geom.n_det;
    let (rs, rd) = match geom.beam {
        Beam::FanFlat {
            source_iso_mm,
            iso_det_mm,
        }
        | Beam::FanArc {
            source_iso_mm,
            iso_det_mm,
        } => (source_iso_mm, iso_det_mm),
        Beam::Parallel => unreachable!("bp_fan is only called for fan beams"),
    };
    let stride = nd + 2;
    let mut qp = vec![0.0f32; geom.n_views() * stride];
    for (v, row) in q.outer_iter().enumerate() {
        for (k, &x) in row.iter().enumerate() {
            qp[v * stride + k + 1] = x * vw[v];
        }
    }
    let dsd = rs + rd;
    // detector coordinate → padded index: flat: t (iso) → u = t·dsd/rs ; arc: γ → u = γ·dsd
    let c0 = (nd as f64 - 1.0) / 2.0 + 1.0;
    let (scale, off) = if arc {
        (
            dsd / geom.det_pitch_mm,
            geom.det_offset_mm / geom.det_pitch_mm,
        )
    } else {
        (
            dsd / rs / geom.det_pitch_mm,
            geom.det_offset_mm / geom.det_pitch_mm,
        )
    };
    let pix = grid.pixel_mm;
    let cc = (grid.cols as f64 - 1.0) / 2.0;
    let cr = (grid.rows as f64 - 1.0) / 2.0;
    let trig: Vec<(f64, f64)> = geom.angles_rad.iter().map(|a| a.sin_cos()).collect();
    let mut out = Array2::<f32>::zeros((grid.rows, grid.cols));
    let cols = grid.cols;
    let kmax = (nd + 1) as f32;
    out.as_slice_mut()
        .expect("standard")
        .par_chunks_mut(cols)
        .enumerate()
        .for_each(|(i, row)| {
            let y = (cr - i as f64) * pix;
            for (v, &(s, c)) in trig.iter().enumerate() {
                let line = &qp[v * stride..(v + 1) * stride];
                // along = R_s + P·d0, across = P·e ; d0 = (−s, c), e = (c, s)
                let along0 = (rs + y * c) as f32;
                let along1 = (-s * pix) as f32;
                let across0 = (y * s) as f32;
                let across1 = (c * pix) as f32;
                let x0 = -cc as f32;
                for (j, o) in row.iter_mut().enumerate() {
                    let xj = x0 + j as f32;
                    let along = along0 + xj * along1;
                    let across = across0 + xj * across1;
                    let (coord, wgt) = if arc {
                        let g = fast_atan2(across, along);
                        let l2 = along * along + across * across;
                        (g, 1.0 / l2)
                    } else {
                        let inv = 1.0 / along;
                        let t = rs as f32 * across * inv;
                        let u = rs as f32 * inv;
                        (t, u * u)
                    };
                    let x = (coord as f64 * scale - off + c0) as f32;
                    if x >= 0.0 && x < kmax {
                        let k = x as usize;
                        let f = x - k as f32;
                        if k + 1 < stride {
                            let v0 = line[k];
                            let v1 = line[k + 1];
                            *o += wgt * (v0 + f * (v1 - v0));
                        }
                    }
                }
            }
        });
    out
}

/// atan2 for `x > 0` (fan angles within ±90°), max error ≈ 1e-6 rad (reference version with
/// branches).
#[cfg(test)]
fn fast_atan2(y: f32, x: f32) -> f32 {
    let (ay, ax) = (y.abs(), x.abs());
    let (z, swap) = if ay > ax {
        (ax / ay, true)
    } else {
        (ay / ax, false)
    };
    // odd polynomial for atan on [0, 1] (least-squares fit on Chebyshev nodes, |err| < 2e-7)
    const C: [f32; 8] = [
        0.999_999_44,
        -0.333_301_07,
        0.199_485_1,
        -0.139_158_02,
        0.096_562_565,
        -0.056_063_177,
        0.021_946_61,
        -0.004_073_309_5,
    ];
    let z2 = z * z;
    let mut p = C[7];
    for &c in C[..7].iter().rev() {
        p = p * z2 + c;
    }
    let p = p * z;
    let mut r = if swap {
        std::f32::consts::FRAC_PI_2 - p
    } else {
        p
    };
    if x < 0.0 {
        r = std::f32::consts::PI - r;
    }
    if y < 0.0 {
        -r
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fbp::tests::random;
    use crate::fbp::view_weights;

    #[test]
    fn fast_fan_backprojection_matches_reference() {
        let grid = Grid::new(61, 53, 1.3);
        let mut flat = Geometry::fan_flat(120, 1.3, 150.0, 100.0, 41, 360.0);
        flat.det_offset_mm = -0.4;
        let mut arc = Geometry::fan_arc(110, 1.4, 160.0, 90.0, 29, 360.0);
        arc.det_offset_mm = 0.7;
        // a narrow detector: most pixels project outside it
        let narrow = Geometry::fan_arc(30, 1.0, 200.0, 100.0, 33, 360.0);
        for (geom, is_arc) in [
            (flat, false),
            (arc.clone(), true),
            (arc.short_scan(30), true),
            (narrow, true),
        ] {
            let q = random((geom.n_views(), geom.n_det), 22);
            let vw: Vec<f32> = view_weights(&geom.angles_rad)
                .iter()
                .map(|&d| d as f32)
                .collect();
            let fast = bp_fan(&q, &geom, &grid, &vw, is_arc);
            // the AVX2 build of the same loops gives the same bytes as the portable one
            let simd = bp_fan_with(&q, &geom, &grid, &vw, is_arc, true);
            let portable = bp_fan_with(&q, &geom, &grid, &vw, is_arc, false);
            for (a, b) in simd.iter().zip(portable.iter()) {
                assert_eq!(a.to_bits(), b.to_bits(), "{:?}: {a} vs {b}", geom.beam);
            }
            let slow = bp_fan_reference(&q, &geom, &grid, &vw, is_arc);
            let scale = slow.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0);
            let worst = fast
                .iter()
                .zip(slow.iter())
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                worst <= 1e-5 * scale,
                "{:?}: worst {worst} of {scale}",
                geom.beam
            );
        }
    }

    #[test]
    fn fast_atan_accuracy() {
        let mut worst = 0.0f64;
        for i in -2000..=2000 {
            let y = i as f32 / 1000.0;
            for &x in &[0.3f32, 1.0, 2.5] {
                let e = (fast_atan2(y, x) as f64 - (y as f64).atan2(x as f64)).abs();
                worst = worst.max(e);
            }
        }
        assert!(worst < 1e-6, "{worst}");
    }
}
