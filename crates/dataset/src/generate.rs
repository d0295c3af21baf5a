//! Rendering one planned image: sample the attribute's op chain from a per-sample seed, apply
//! it to the clean slice, measure it against the clean slice, re-sample (bounded) until it lands
//! in the recipe's metric band, and render it with the clean slice's display map.
//!
//! Metrics are computed on the display intensities in [0, 1] (what a reader or a model sees),
//! with data range 1: SSIM (scikit-image compatible; on the encoded luminance for colour),
//! PSNR and NRMSE over every sample; for colour also SSIM per channel and the mean CIEDE2000
//! colour difference inside the field of view.

use crate::error::DatasetError;
use crate::plan::PlannedImage;
use crate::render::{encode_png, luma, to_u8, DisplayMap, Shown};
use crate::source::{prepare, shown_size, SourceSlice};
use artefact_core::metrics::{nrmse, psnr, ssim};
use artefact_core::{
    Modality, ParamKind, ParamSpec, Picture, QualityGrade, RgbImage, Seed, Severity, SpecValue,
};
use artefact_recipe::attribute::{
    apply_chain, apply_chain_resolving, apply_volume_chain, AppliedOp,
};
use artefact_recipe::{BenchmarkRecipe, MetricKind, Registry};
use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

/// Full-reference metrics vs the clean slice (display space, data range 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub ssim: f64,
    /// `None` when the image equals the clean one (infinite PSNR).
    pub psnr: Option<f64>,
    /// `None` when the clean display image is all zero.
    pub nrmse: Option<f64>,
    /// Colour only: SSIM of the sRGB-encoded R, G and B channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim_rgb: Option<[f64; 3]>,
    /// Colour only: mean CIEDE2000 difference inside the field of view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_e2000: Option<f64>,
}

/// Outcome of the metric-band search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandResult {
    pub kind: MetricKind,
    pub lo: f64,
    pub hi: f64,
    pub value: f64,
    pub met: bool,
    pub tries: u32,
}

/// One row of `manifest.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestRow {
    /// Opaque public id (carries no label).
    pub id: String,
    /// Internal sample key (seeds the sample; names slice, attribute and severity): for the
    /// curator only, never in a model-facing file.
    pub sample_key: String,
    /// Path of the PNG relative to the output directory.
    pub file_name: String,
    pub split: String,
    /// Full modality name (`CT`, `MRI`, `ultrasound`, …).
    pub modality: String,
    /// The degradation attribute, `None` for a clean image.
    pub attribute: Option<String>,
    pub severity: Severity,
    /// Quality grade from the measured quality (the attribute recipe's grading rule).
    pub quality_grade: QualityGrade,
    /// Body region, when the source names it.
    pub anatomy: Option<String>,
    pub params: Vec<AppliedOp>,
    /// The params are the operators' 3-D forms, applied to the whole source volume before
    /// this slice was cut from it (benchmark `volume_physics`); absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub volume_physics: bool,
    pub metrics: Metrics,
    pub band: Option<BandResult>,
    pub source_key: String,
    pub subject_key: String,
    pub slice_axis: usize,
    pub slice_index: usize,
    pub width: usize,
    pub height: usize,
    pub display: DisplayMap,
    pub seed: u64,
    pub tool_version: String,
    pub benchmark_hash: String,
    pub recipe_hash: Option<String>,
    pub png_sha256: String,
    /// Path of the DICOM copy (`dicom/<split>/<id>.dcm`, grey modalities, `build --dicom`)
    /// relative to the output directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dicom_file: Option<String>,
}

/// One sampling attempt: distance to the band, chain, display image, metrics, tries used.
type Attempt = (f64, Vec<AppliedOp>, Shown, Metrics, u32, Picture);

pub const TOOL_VERSION: &str = concat!("artefact ", env!("CARGO_PKG_VERSION"));

/// Samples of a display image as one plane (PSNR and NRMSE are per-sample means).
fn flat(d: &Shown) -> Array2<f32> {
    let (r, c, ch) = d.dim();
    d.as_standard_layout()
        .to_owned()
        .into_shape_with_order((r, c * ch))
        .expect("contiguous")
}

/// Linear-light colour image of an sRGB display image (for colour differences).
fn decoded(d: &Shown, fov: Option<&Array2<bool>>) -> Result<RgbImage, String> {
    let (r, c, _) = d.dim();
    let data = Array3::from_shape_fn((3, r, c), |(ch, i, j)| {
        artefact_core::colour::srgb_to_linear(d[[i, j, ch]] as f64) as f32
    });
    RgbImage::new(data, [1.0, 1.0], Modality::Photo, fov.cloned()).map_err(|e| e.to_string())
}

/// Metrics of a display image against the clean one; `fov` restricts the colour difference.
fn metrics(clean: &Shown, test: &Shown, fov: Option<&Array2<bool>>) -> Result<Metrics, String> {
    let (la, lb) = (luma(clean), luma(test));
    let s = ssim(la.view(), lb.view(), 1.0).map_err(|e| e.to_string())?;
    let (fa, fb) = (flat(clean), flat(test));
    let p = psnr(fa.view(), fb.view(), 1.0).map_err(|e| e.to_string())?;
    let n = nrmse(fa.view(), fb.view()).ok();
    let (mut ssim_rgb, mut delta_e2000) = (None, None);
    if clean.dim().2 == 3 {
        let mut per = [0.0; 3];
        for (c, o) in per.iter_mut().enumerate() {
            let a = clean.index_axis(ndarray::Axis(2), c);
            let b = test.index_axis(ndarray::Axis(2), c);
            *o = ssim(a, b, 1.0).map_err(|e| e.to_string())?;
        }
        ssim_rgb = Some(per);
        let (ca, cb) = (decoded(clean, fov)?, decoded(test, None)?);
        delta_e2000 = artefact_core::colour_metrics::delta_e2000_mean(&ca, &cb).ok();
    }
    Ok(Metrics {
        ssim: s,
        psnr: p.is_finite().then_some(p),
        nrmse: n,
        ssim_rgb,
        delta_e2000,
    })
}

fn metric_value(m: &Metrics, kind: MetricKind) -> f64 {
    match kind {
        MetricKind::Ssim => m.ssim,
        MetricKind::Psnr => m.psnr.unwrap_or(f64::INFINITY),
        MetricKind::Nrmse => m.nrmse.unwrap_or(0.0),
        MetricKind::DeltaE2000 => m.delta_e2000.unwrap_or(0.0),
    }
}

/// The operator that renders the clean image of a modality from its source slice, if any:
/// ultrasound sources are echogenicity maps, shown as the clean B-mode render of `us.bmode`.
fn clean_render_op(modality: Modality) -> Option<&'static str> {
    match modality {
        Modality::Us => Some("us.bmode"),
        _ => None,
    }
}

/// Parameters every image of one slice must share so that the degradation is the only
/// difference: the random choices of the modality's clean render op (for ultrasound, the probe
/// and the scatterer seed of the B-mode render). The choice parameters are picked from the
/// op's own table of allowed values, the seed from the benchmark seed and the slice.
pub fn shared_render_spec(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    slice: &SourceSlice,
) -> ParamSpec {
    let Some(entry) = clean_render_op(slice.modality).and_then(|op| registry.get(op)) else {
        return ParamSpec::new();
    };
    let seed = Seed::derive(
        bench.seed,
        &format!("us-render/{}", crate::plan::slice_id(slice)),
    )
    .to_u64();
    let mut spec = ParamSpec::new();
    for p in entry.info.params {
        match (&p.kind, p.name) {
            // a scanned B-mode keeps its own geometry: the linear probe, no scan conversion
            (ParamKind::Choice { allowed }, "probe")
                if slice.scanned_us && allowed.contains(&"linear") =>
            {
                spec = spec.with("probe", SpecValue::Text("linear".into()));
            }
            (ParamKind::Choice { allowed }, _) if !allowed.is_empty() => {
                let v = allowed[(seed % allowed.len() as u64) as usize];
                spec = spec.with(p.name, SpecValue::Text(v.to_string()));
            }
            (_, "seed") => {
                spec = spec.with("seed", SpecValue::Number((seed >> 12) as f64));
            }
            _ => {}
        }
    }
    spec
}

/// The clean image as shown: the slice itself, or the render of the modality's clean render
/// op (`us.bmode` for ultrasound) with the slice's shared parameters. Returns the recorded
/// chain and the image.
pub fn clean_render(
    registry: &Registry,
    slice: &SourceSlice,
    shared: &ParamSpec,
) -> Result<(Vec<AppliedOp>, Picture), String> {
    let Some(op) = clean_render_op(slice.modality) else {
        return Ok((Vec::new(), slice.image.clone()));
    };
    let entry = registry.get(op).ok_or_else(|| {
        format!(
            "the registry has no `{op}` operator to render clean {} images",
            slice.modality
        )
    })?;
    let mut rng = Seed::from_u64(0).rng();
    let params = (entry.sample)(shared, &mut rng)?;
    let chain = vec![AppliedOp {
        op: op.into(),
        params,
    }];
    let img = apply_chain(registry, &chain, &slice.image)?;
    Ok((chain, img))
}

/// The clean image of a slice as every render of it compares against: its recorded chain and
/// its display intensities in [0, 1]. For ultrasound this is a full B-mode simulation, so it is
/// computed once per slice and shared by all of the slice's renders.
#[derive(Clone, Debug)]
pub struct CleanView {
    pub chain: Vec<AppliedOp>,
    pub display: Shown,
    /// Field of view of a colour photograph at the output size (metrics compare inside it).
    pub fov: Option<Array2<bool>>,
    /// The clean image at the output size, in source units (before the display map).
    pub image: Picture,
}

/// The [`CleanView`] of a slice.
pub fn clean_view(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    slice: &SourceSlice,
) -> Result<CleanView, DatasetError> {
    let shared = shared_render_spec(bench, registry, slice);
    let (chain, img) =
        clean_render(registry, slice, &shared).map_err(|reason| DatasetError::Sample {
            id: crate::plan::slice_id(slice),
            reason,
        })?;
    let shown = shown_size(img, bench.image_size).map_err(|e| DatasetError::Sample {
        id: crate::plan::slice_id(slice),
        reason: e.to_string(),
    })?;
    Ok(CleanView {
        chain,
        display: slice.display.show(&shown),
        fov: shown.as_colour().and_then(|c| c.fov.clone()),
        image: shown,
    })
}

/// Render a planned image; returns its manifest row and PNG bytes.
pub fn render(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    slice: &SourceSlice,
    item: &PlannedImage,
) -> Result<(ManifestRow, Vec<u8>), DatasetError> {
    let clean = clean_view(bench, registry, slice)?;
    render_with_display(bench, registry, slice, &clean, item).map(|(row, png, _)| (row, png))
}

/// [`render`] against a precomputed [`CleanView`] of the slice, also returning the display
/// image in [0, 1] (before 8-bit quantisation).
///
/// The metrics of a colour image compare inside the clean image's field of view.
pub fn render_with_display(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    slice: &SourceSlice,
    clean: &CleanView,
    item: &PlannedImage,
) -> Result<(ManifestRow, Vec<u8>, Shown), DatasetError> {
    render_image(bench, registry, slice, clean, item).map(|r| (r.row, r.png, r.display))
}

/// One rendered image: its manifest row, PNG bytes, display intensities in [0, 1] and the
/// image itself at the output size in source units (HU for CT; before the display map).
#[derive(Clone, Debug)]
pub struct Rendered {
    pub row: ManifestRow,
    pub png: Vec<u8>,
    pub display: Shown,
    pub image: Picture,
}

/// [`render_with_display`], also returning the image in source units ([`Rendered`]).
pub fn render_image(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    slice: &SourceSlice,
    clean: &CleanView,
    item: &PlannedImage,
) -> Result<Rendered, DatasetError> {
    let fail = |reason: String| DatasetError::Sample {
        id: item.key.clone(),
        reason,
    };
    let overrides = shared_render_spec(bench, registry, slice);
    let clean_disp = &clean.display;
    let fov = clean.fov.as_ref();
    let mut in_volume = false;
    let (chain, disp, m, band, grade, attrs, recipe_hash, image) = match item.attribute {
        None => {
            let m = metrics(clean_disp, clean_disp, fov).map_err(fail)?;
            (
                clean.chain.clone(),
                clean_disp.clone(),
                m,
                None,
                QualityGrade::Good,
                None,
                None,
                clean.image.clone(),
            )
        }
        Some(ai) => {
            let attr = &bench.attributes[ai];
            let band_spec = attr
                .metric
                .as_ref()
                .and_then(|b| b.band(item.severity).map(|r| (b.kind, r, b.max_tries)));
            let tries = band_spec.map_or(1, |(_, _, t)| t);
            // the whole volume with the 3-D forms, when kept and the attribute has them all
            let whole = slice
                .volume
                .as_deref()
                .filter(|_| attr.missing_volume_forms().is_empty());
            in_volume = whole.is_some();
            let mut best: Option<Attempt> = None;
            for t in 0..tries {
                let mut rng = Seed::derive(bench.seed, &format!("{}/try{t}", item.key)).rng();
                let (chain, out) = match whole {
                    Some(vol) => {
                        let chain = attr
                            .sample_volume_chain(item.severity, &mut rng)
                            .map_err(fail)?;
                        let out = degrade_in_volume(registry, slice, vol, &chain, bench.image_size)
                            .map_err(fail)?;
                        (chain, out)
                    }
                    None => {
                        let mut chain = attr
                            .sample_chain_with(item.severity, &mut rng, &overrides)
                            .map_err(fail)?;
                        let out = apply_chain_resolving(registry, &mut chain, &slice.image)
                            .map_err(fail)?;
                        (chain, out)
                    }
                };
                if out.shape() != slice.image.shape() {
                    return Err(fail(format!(
                        "operator chain changed the image size from {:?} to {:?}",
                        slice.image.shape(),
                        out.shape()
                    )));
                }
                if out.has_non_finite() {
                    return Err(fail(
                        "operator chain produced NaN or infinite pixels".into(),
                    ));
                }
                let out = shown_size(out, bench.image_size).map_err(|e| fail(e.to_string()))?;
                let disp = slice.display.show(&out);
                let m = metrics(clean_disp, &disp, fov).map_err(fail)?;
                let dist = match band_spec {
                    None => 0.0,
                    Some((kind, [lo, hi], _)) => {
                        let v = metric_value(&m, kind);
                        if v < lo {
                            lo - v
                        } else if v > hi {
                            v - hi
                        } else {
                            0.0
                        }
                    }
                };
                let better = best.as_ref().is_none_or(|b| dist < b.0);
                if better {
                    best = Some((dist, chain, disp, m, t + 1, out));
                }
                if dist == 0.0 {
                    break;
                }
            }
            let (dist, chain, disp, m, used, image) = best.expect("at least one try");
            let band = band_spec.map(|(kind, [lo, hi], _)| BandResult {
                kind,
                lo,
                hi,
                value: metric_value(&m, kind),
                met: dist == 0.0,
                tries: used,
            });
            let grade = attr.grade(item.severity, |k| match k {
                MetricKind::Ssim => Some(m.ssim),
                MetricKind::Psnr => m.psnr,
                MetricKind::Nrmse => m.nrmse,
                MetricKind::DeltaE2000 => m.delta_e2000,
            });
            (
                chain,
                disp,
                m,
                band,
                grade,
                Some(attr.name.clone()),
                Some(attr.hash.clone()),
                image,
            )
        }
    };
    let png = encode_png(&to_u8(&disp));
    let (h, w, _) = disp.dim();
    let row = ManifestRow {
        id: item.id.clone(),
        sample_key: item.key.clone(),
        file_name: format!("images/{}/{}.png", item.split, item.id),
        split: item.split.clone(),
        modality: slice.modality.display_name().to_string(),
        attribute: attrs,
        severity: item.severity,
        quality_grade: grade,
        anatomy: slice.anatomy.clone(),
        params: chain,
        volume_physics: in_volume,
        metrics: m,
        band,
        source_key: slice.source_key.clone(),
        subject_key: slice.subject_key.clone(),
        slice_axis: slice.axis,
        slice_index: slice.index,
        width: w,
        height: h,
        display: slice.display,
        seed: bench.seed,
        tool_version: TOOL_VERSION.to_string(),
        benchmark_hash: bench.hash.clone(),
        recipe_hash,
        png_sha256: artefact_recipe::content_hash(&png),
        dicom_file: None,
    };
    Ok(Rendered {
        row,
        png,
        display: disp,
        image,
    })
}

/// The degraded slice of a 3-D degradation: the chain's 3-D forms applied to the whole clean
/// volume, the slice cut from the result and prepared (padded, resampled to `size`) exactly as
/// the clean slice was.
fn degrade_in_volume(
    registry: &Registry,
    slice: &SourceSlice,
    volume: &artefact_core::Volume,
    chain: &[AppliedOp],
    size: usize,
) -> Result<Picture, String> {
    let out = apply_volume_chain(registry, chain, volume)?;
    let raw = out
        .slice(slice.axis, slice.index)
        .map_err(|e| e.to_string())?;
    Ok(Picture::Grey(
        prepare(&raw, size).map_err(|e| e.to_string())?,
    ))
}

/// Re-render a manifest row from its recorded params (for `artefact replay`).
pub fn replay(
    registry: &Registry,
    slice: &SourceSlice,
    row: &ManifestRow,
) -> Result<Vec<u8>, DatasetError> {
    let fail = |reason: String| DatasetError::Sample {
        id: row.id.clone(),
        reason,
    };
    let out = if row.volume_physics {
        let vol = slice.volume.as_deref().ok_or_else(|| {
            fail("degraded as a volume, but its source volume was not kept (the benchmark recipe no longer sets volume_physics?)".into())
        })?;
        degrade_in_volume(registry, slice, vol, &row.params, row.width).map_err(fail)?
    } else {
        apply_chain(registry, &row.params, &slice.image).map_err(fail)?
    };
    let out = shown_size(out, row.width).map_err(|e| DatasetError::Sample {
        id: row.id.clone(),
        reason: e.to_string(),
    })?;
    Ok(encode_png(&to_u8(&row.display.show(&out))))
}
