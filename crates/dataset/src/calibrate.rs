//! Calibration of attribute recipes: how strong is "mild" and "severe" on real slices?
//!
//! For every attribute of a benchmark and every clean slice of its modality, render `samples`
//! mild and `samples` severe images exactly as `build` would (same per-sample seeding, metric-band
//! re-sampling, display map), and summarise the full-reference metrics per attribute × severity.
//! Optionally also return one contact sheet per attribute: one row per slice, columns
//! `clean | mild × k | severe × k` (k = min(samples, 3)), separated by 4-pixel black gutters.
//!
//! This is what a researcher runs after writing or changing an attribute recipe, to check that
//! mild is visible but usable and severe clearly degraded. Results do not depend on `jobs`.

use crate::error::DatasetError;
use crate::generate::{clean_view, render_with_display, Metrics};
use crate::plan::{slice_id, PlannedImage};
use crate::render::{encode_png, to_u8, Shown};
use crate::source::SourceSlice;
use artefact_core::Severity;
use artefact_recipe::{BenchmarkRecipe, Registry};
use ndarray::s;
use rayon::prelude::*;
use serde::Serialize;

/// Min / median / max of a metric over the samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for an empty sample.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        };
        Some(Spread {
            min: v[0],
            median,
            max: v[n - 1],
        })
    }
}

/// Metrics of one attribute at one severity over all its calibration samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationRow {
    pub attribute: String,
    pub modality: String,
    pub severity: Severity,
    /// Number of rendered images (slices × samples).
    pub images: usize,
    pub ssim: Spread,
    /// Over the images whose PSNR is finite; `None` when all equal the clean image.
    pub psnr: Option<Spread>,
    /// (images inside the recipe's metric band, images) when the recipe has a band.
    pub band_met: Option<(usize, usize)>,
}

/// Calibration result: rows in benchmark attribute order (mild then severe), and contact sheets
/// as (file name, PNG bytes) when requested.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub rows: Vec<CalibrationRow>,
    pub sheets: Vec<(String, Vec<u8>)>,
}

/// One calibration render: its metrics, whether it met the band, and (for sheets) its display.
type Rendered = (Metrics, Option<bool>, Option<Shown>);

struct Task {
    slice: usize,
    attribute: usize,
    severity: Severity,
    sample: usize,
}

/// Calibrate every attribute of `bench` on `slices` (from [`crate::source::collect_slices`]).
pub fn calibrate(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    slices: &[SourceSlice],
    samples: usize,
    jobs: usize,
    with_sheets: bool,
) -> Result<Calibration, DatasetError> {
    if samples == 0 {
        return Err(DatasetError::Plan(
            "calibration needs at least one sample".into(),
        ));
    }
    let mut tasks = Vec::new();
    for (ai, attr) in bench.attributes.iter().enumerate() {
        for (si, sl) in slices.iter().enumerate() {
            if sl.modality != attr.modality {
                continue;
            }
            for severity in [Severity::Mild, Severity::Severe] {
                for sample in 0..samples {
                    tasks.push(Task {
                        slice: si,
                        attribute: ai,
                        severity,
                        sample,
                    });
                }
            }
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| DatasetError::Plan(format!("thread pool: {e}")))?;
    let keep = samples.min(3);
    // the clean view of each slice once (a full B-mode simulation for ultrasound)
    let cleans: Vec<_> = pool.install(|| {
        slices
            .par_iter()
            .map(|sl| clean_view(bench, registry, sl))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let results: Vec<Result<Rendered, DatasetError>> = pool.install(|| {
        tasks
            .par_iter()
            .map(|t| {
                let sl = &slices[t.slice];
                let attr = &bench.attributes[t.attribute];
                let key = format!(
                    "calibrate/{}/{}/{}/{}",
                    slice_id(sl),
                    attr.name,
                    t.severity.as_str(),
                    t.sample
                );
                let item = PlannedImage {
                    id: key.clone(),
                    key,
                    slice: t.slice,
                    attribute: Some(t.attribute),
                    severity: t.severity,
                    split: "calibrate".into(),
                };
                let (row, _, disp) =
                    render_with_display(bench, registry, sl, &cleans[t.slice], &item)?;
                let disp = (with_sheets && t.sample < keep).then_some(disp);
                Ok((row.metrics, row.band.map(|b| b.met), disp))
            })
            .collect()
    });
    let mut rendered = Vec::with_capacity(results.len());
    for r in results {
        rendered.push(r?);
    }

    let mut rows = Vec::new();
    for (ai, attr) in bench.attributes.iter().enumerate() {
        for severity in [Severity::Mild, Severity::Severe] {
            let mine: Vec<usize> = (0..tasks.len())
                .filter(|&i| tasks[i].attribute == ai && tasks[i].severity == severity)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let ssim: Vec<f64> = mine.iter().map(|&i| rendered[i].0.ssim).collect();
            let psnr: Vec<f64> = mine.iter().filter_map(|&i| rendered[i].0.psnr).collect();
            let bands: Vec<bool> = mine.iter().filter_map(|&i| rendered[i].1).collect();
            rows.push(CalibrationRow {
                attribute: attr.name.clone(),
                modality: attr.modality.code().to_string(),
                severity,
                images: mine.len(),
                ssim: Spread::of(&ssim).expect("non-empty"),
                psnr: Spread::of(&psnr),
                band_met: (!bands.is_empty())
                    .then(|| (bands.iter().filter(|&&m| m).count(), bands.len())),
            });
        }
    }

    let mut sheets = Vec::new();
    if with_sheets {
        for (ai, attr) in bench.attributes.iter().enumerate() {
            let mut grid: Vec<Vec<Shown>> = Vec::new();
            for (si, sl) in slices.iter().enumerate() {
                if sl.modality != attr.modality {
                    continue;
                }
                let mut row = vec![cleans[si].display.clone()];
                for severity in [Severity::Mild, Severity::Severe] {
                    for (i, t) in tasks.iter().enumerate() {
                        if t.slice == si && t.attribute == ai && t.severity == severity {
                            if let Some(d) = &rendered[i].2 {
                                row.push(d.clone());
                            }
                        }
                    }
                }
                grid.push(row);
            }
            if let Some(png) = contact_sheet(&grid) {
                let name = format!(
                    "{}-{}.png",
                    attr.modality.code().to_ascii_lowercase(),
                    attr.name
                );
                sheets.push((name, png));
            }
        }
    }
    Ok(Calibration { rows, sheets })
}

/// Tile display images (rows of equal-size images) into one 8-bit PNG with 4-pixel gutters.
fn contact_sheet(grid: &[Vec<Shown>]) -> Option<Vec<u8>> {
    const GAP: usize = 4;
    let cols = grid.iter().map(Vec::len).max()?;
    let (h, w, ch) = grid.first()?.first()?.dim();
    if cols == 0 || grid.iter().flatten().any(|im| im.dim() != (h, w, ch)) {
        return None;
    }
    let rows = grid.len();
    let mut sheet = Shown::zeros((rows * h + (rows - 1) * GAP, cols * w + (cols - 1) * GAP, ch));
    for (r, line) in grid.iter().enumerate() {
        for (c, im) in line.iter().enumerate() {
            let (y, x) = (r * (h + GAP), c * (w + GAP));
            sheet.slice_mut(s![y..y + h, x..x + w, ..]).assign(im);
        }
    }
    Some(encode_png(&to_u8(&sheet)))
}

/// Plain-text table of the rows (what `artefact recipes calibrate` prints).
pub fn table(rows: &[CalibrationRow]) -> String {
    let mut out = String::from(
        "modality attribute        severity images  SSIM min  median    max   PSNR median  band\n",
    );
    for r in rows {
        let psnr = r
            .psnr
            .map_or("       inf".to_string(), |p| format!("{:>10.1}", p.median));
        let band = r
            .band_met
            .map_or("-".to_string(), |(m, n)| format!("{m}/{n}"));
        out.push_str(&format!(
            "{:<8} {:<17} {:<8} {:>6}  {:>8.3} {:>7.3} {:>6.3}  {psnr}  {band}\n",
            r.modality,
            r.attribute,
            r.severity.as_str(),
            r.images,
            r.ssim.min,
            r.ssim.median,
            r.ssim.max,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_median_odd_and_even() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn sheet_layout() {
        let a = Shown::ones((2, 3, 1));
        let png = contact_sheet(&[vec![a.clone(), a.clone()], vec![a]]).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!((img.width(), img.height()), (3 + 4 + 3, 2 + 4 + 2));
        assert_eq!(img.get_pixel(0, 0).0[0], 255);
        assert_eq!(img.get_pixel(3, 0).0[0], 0); // gutter
        assert_eq!(img.get_pixel(7, 6).0[0], 0); // missing cell stays black
    }
}
