//! A small process-wide memo of the geometry-only parts of a CT simulation, shared by the
//! operators of this crate: the [`Projector`] ray table and the [`FbpPlan`] of a (grid,
//! geometry), and the clean sinogram of an image under a scan.
//!
//! # Why
//! A dataset build applies the CT operators to thousands of images of the same size and pixel
//! spacing, so the same geometry (and, for the several attributes rendered from one clean
//! slice, the same clean sinogram) is planned and projected again and again. The ray table is
//! about a tenth of a forward projection, and the clean forward projection is about half of a
//! `ct.low_dose` or `ct.ring` apply.
//!
//! # Exactness
//! Every entry is a pure function of its key, and keys are compared exactly (bit patterns of
//! every float, every angle, every pixel), so a hit returns the very bytes a fresh computation
//! would; the results never depend on what was computed before, on the thread count or on the
//! order of the calls (tested: `memo_hits_give_fresh_bytes`). Two threads that miss the same
//! key at once both compute it (the same bytes) and one of them is kept.
//!
//! # Bounds
//! Each table keeps its [`CAPACITY`] (FBP plans: [`PLAN_CAPACITY`], sinograms:
//! [`SINOGRAM_CAPACITY`]) most recently used entries
//! (a 256² image at the default scan: ray table ≈ 5 MB, FBP plan ≈ 1 MB, sinogram ≈ 0.8 MB
//! plus the 1 MB projection-grid image of its key).
//! Setting `ARTEFACT_CT_NO_MEMO` (to anything) turns the memo off for the whole process (read
//! once), to time the unmemoised path.

use crate::fbp::{FbpPlan, Filter};
use crate::geometry::{Beam, Geometry, Grid};
use crate::projector::Projector;
use crate::Result;
use ndarray::{Array2, ArrayView2};
use std::sync::{Arc, Mutex, OnceLock};

/// Entries kept in the table of projectors.
pub const CAPACITY: usize = 4;

/// Entries kept in the table of sinograms: per worker the clean scan of its slice and, for
/// `ct.metal`, the scan of the slice's bone part.
pub const SINOGRAM_CAPACITY: usize = 8;

/// Entries kept in the table of FBP plans (larger: sparse-view, limited-angle and truncated
/// scans reconstruct with geometries of their own).
pub const PLAN_CAPACITY: usize = 8;

/// Least-recently-used table of at most `cap` entries, most recent last.
struct Lru<K, V> {
    entries: Mutex<Vec<(K, Arc<V>)>>,
    cap: usize,
}

impl<K: PartialEq, V> Lru<K, V> {
    const fn new(cap: usize) -> Self {
        Lru {
            entries: Mutex::new(Vec::new()),
            cap,
        }
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let at = e.iter().position(|(k, _)| k == key)?;
        let hit = e.remove(at);
        let v = hit.1.clone();
        e.push(hit);
        Some(v)
    }

    fn put(&self, key: K, value: Arc<V>) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.iter().any(|(k, _)| k == &key) {
            return;
        }
        if e.len() >= self.cap {
            e.remove(0);
        }
        e.push((key, value));
    }

    /// The value of `key`, computed by `make` (outside the lock) on a miss.
    fn get_or(&self, key: K, make: impl FnOnce() -> Result<V>) -> Result<Arc<V>> {
        if !enabled() {
            return make().map(Arc::new);
        }
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let v = Arc::new(make()?);
        self.put(key, v.clone());
        Ok(v)
    }
}

/// `false` if `ARTEFACT_CT_NO_MEMO` is set (read once per process).
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("ARTEFACT_CT_NO_MEMO").is_none())
}

/// Exact key of a grid and a geometry: every field, floats by their bits.
#[derive(PartialEq)]
struct GeomKey(Vec<u64>);

fn geom_key(grid: &Grid, geom: &Geometry, extra: u64) -> GeomKey {
    let (kind, rs, rd) = match geom.beam {
        Beam::Parallel => (0, 0.0, 0.0),
        Beam::FanFlat {
            source_iso_mm,
            iso_det_mm,
        } => (1, source_iso_mm, iso_det_mm),
        Beam::FanArc {
            source_iso_mm,
            iso_det_mm,
        } => (2, source_iso_mm, iso_det_mm),
    };
    let mut k = vec![
        extra,
        grid.rows as u64,
        grid.cols as u64,
        grid.pixel_mm.to_bits(),
        kind,
        rs.to_bits(),
        rd.to_bits(),
        geom.n_det as u64,
        geom.det_pitch_mm.to_bits(),
        geom.det_offset_mm.to_bits(),
        geom.angles_rad.len() as u64,
    ];
    k.extend(geom.angles_rad.iter().map(|a| a.to_bits()));
    GeomKey(k)
}

static PROJECTORS: Lru<GeomKey, Projector> = Lru::new(CAPACITY);
static PLANS: Lru<GeomKey, FbpPlan> = Lru::new(PLAN_CAPACITY);
static SINOGRAMS: Lru<(GeomKey, Vec<u32>), Array2<f32>> = Lru::new(SINOGRAM_CAPACITY);

/// [`Projector::new`] of `(grid, geom)`, memoised.
pub fn projector(grid: &Grid, geom: &Geometry) -> Result<Arc<Projector>> {
    PROJECTORS.get_or(geom_key(grid, geom, 0), || Projector::new(grid, geom))
}

/// [`FbpPlan::new`] of `(geom, grid, filter)`, memoised.
pub fn fbp_plan(geom: &Geometry, grid: &Grid, filter: Filter) -> Result<Arc<FbpPlan>> {
    let f = Filter::ALL.iter().position(|&x| x == filter).unwrap_or(0) as u64;
    PLANS.get_or(geom_key(grid, geom, f), || FbpPlan::new(geom, grid, filter))
}

/// Exact key of an image on a geometry.
fn image_key(mu: ArrayView2<f32>, grid: &Grid, geom: &Geometry) -> (GeomKey, Vec<u32>) {
    let pixels: Vec<u32> = mu.iter().map(|v| v.to_bits()).collect();
    let (rows, cols) = mu.dim();
    let mut key = geom_key(grid, geom, 0);
    key.0.extend([rows as u64, cols as u64]);
    (key, pixels)
}

/// The forward projection of `mu` on `(grid, geom)` (as [`Projector::forward`] of
/// [`projector`]), memoised by the exact pixel values.
pub fn forward(mu: ArrayView2<f32>, grid: &Grid, geom: &Geometry) -> Result<Arc<Array2<f32>>> {
    SINOGRAMS.get_or(image_key(mu, grid, geom), || {
        projector(grid, geom)?.forward(mu)
    })
}

/// The memoised forward projection of `mu` on `(grid, geom)` if there is one (never
/// computes it). Only for uses whose bytes are the same with or without it.
pub fn forward_if_known(
    mu: ArrayView2<f32>,
    grid: &Grid,
    geom: &Geometry,
) -> Option<Arc<Array2<f32>>> {
    if !enabled() {
        return None;
    }
    SINOGRAMS.get(&image_key(mu, grid, geom))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fbp::tests::random;

    #[test]
    fn memo_hits_give_fresh_bytes() {
        let grid = Grid::new(40, 36, 1.5);
        let arc = Geometry::fan_arc(80, 1.6, 150.0, 100.0, 33, 360.0);
        let par = Geometry::parallel(70, 1.0, 29, 180.0);
        for geom in [arc, par] {
            for seed in [1, 2, 1] {
                let mu = random((grid.rows, grid.cols), seed);
                let fresh = Projector::new(&grid, &geom)
                    .unwrap()
                    .forward(mu.view())
                    .unwrap();
                // twice: a miss, then a hit
                for _ in 0..2 {
                    let memo = forward(mu.view(), &grid, &geom).unwrap();
                    assert_eq!(memo.dim(), fresh.dim());
                    for (a, b) in memo.iter().zip(fresh.iter()) {
                        assert_eq!(a.to_bits(), b.to_bits());
                    }
                    let sino = random((geom.n_views(), geom.n_det), seed + 10);
                    let want = FbpPlan::new(&geom, &grid, Filter::Hann)
                        .unwrap()
                        .reconstruct(sino.view())
                        .unwrap();
                    let got = fbp_plan(&geom, &grid, Filter::Hann)
                        .unwrap()
                        .reconstruct(sino.view())
                        .unwrap();
                    for (a, b) in want.iter().zip(got.iter()) {
                        assert_eq!(a.to_bits(), b.to_bits());
                    }
                }
            }
        }
        // a different filter or one changed angle is another key
        let geom = Geometry::fan_arc(80, 1.6, 150.0, 100.0, 33, 360.0);
        let a = fbp_plan(&geom, &grid, Filter::Hann).unwrap();
        let b = fbp_plan(&geom, &grid, Filter::SheppLogan).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        let mut moved = geom.clone();
        moved.angles_rad[5] += 1e-12;
        assert_ne!(geom_key(&grid, &geom, 0).0, geom_key(&grid, &moved, 0).0);
    }

    fn phantom(n: usize, seed: u64) -> artefact_core::Image {
        let c = (n as f64 - 1.0) / 2.0;
        let noise = random((n, n), seed);
        let data = ndarray::Array2::from_shape_fn((n, n), |(i, j)| {
            let (x, y) = (j as f64 - c, i as f64 - c);
            if (x / (0.4 * n as f64)).powi(2) + (y / (0.3 * n as f64)).powi(2) <= 1.0 {
                40.0 + 100.0 * noise[[i, j]]
            } else {
                -1000.0
            }
        });
        artefact_core::Image::new(
            data,
            [1.0, 1.0],
            artefact_core::Modality::Ct,
            artefact_core::Unit::Hu,
        )
        .unwrap()
    }

    #[test]
    fn sparse_view_from_the_memoised_full_scan_is_bit_identical() {
        use crate::sparse_view::{apply_with, SparseViewParams};
        let img = phantom(48, 77);
        let scan = crate::pipeline::ScanSettings::default();
        let params = SparseViewParams {
            keep_every: 3,
            scan: scan.clone(),
        };
        // not memoised yet: the kept views are projected
        let fresh = apply_with(&params, &img, &scan).unwrap();
        // memoise the full scan (as low dose of the same slice would), then cut its rows
        let geom = scan.geometry_for(&img).unwrap();
        let (mu, grid) = crate::pipeline::to_mu_fine(&img, scan.upsample);
        assert!(forward_if_known(mu.view(), &grid, &geom).is_none() || !enabled());
        forward(mu.view(), &grid, &geom).unwrap();
        let cut = apply_with(&params, &img, &scan).unwrap();
        for (a, b) in fresh.data.iter().zip(cut.data.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn truncated_bins_of_the_full_scan_match_a_truncated_projection() {
        // the slow reference: project the truncated geometry itself
        let img = phantom(48, 78);
        let scan = crate::pipeline::ScanSettings::default();
        let full = scan.geometry_for(&img).unwrap();
        let (mu, grid) = crate::pipeline::to_mu_fine(&img, scan.upsample);
        let all = forward(mu.view(), &grid, &full).unwrap();
        let r_fov = 15.0;
        let geom = crate::truncation::truncated_geometry(&full, r_fov)
            .unwrap()
            .unwrap();
        let k0 = (0..full.n_det)
            .find(|&k| crate::corrupt_util::ray_distance_mm(&full, k).abs() <= r_fov)
            .unwrap();
        let direct = Projector::new(&grid, &geom)
            .unwrap()
            .forward(mu.view())
            .unwrap();
        let peak = direct.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.1);
        let mut worst = 0.0f32;
        for v in 0..full.n_views() {
            for k in 0..geom.n_det {
                worst = worst.max((all[[v, k0 + k]] - direct[[v, k]]).abs());
            }
        }
        // the same rays up to the rounding of their offsets
        assert!(worst <= 1e-5 * peak, "worst {worst} of {peak}");
        // and in HU after FBP
        let cut = all.slice(ndarray::s![.., k0..k0 + geom.n_det]).to_owned();
        let hu = |s: &Array2<f32>| {
            crate::pipeline::reconstruct_hu_with(s, &geom, &img, scan.filter, scan.mu_water)
                .unwrap()
        };
        let (a, b) = (hu(&cut), hu(&direct));
        let d = a
            .data
            .iter()
            .zip(b.data.iter())
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        eprintln!("truncation: cut vs direct projection, max |ΔHU| = {d}");
        assert!(d <= 0.05, "{d} HU");
    }
}
