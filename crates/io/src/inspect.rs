//! Summaries of image sources for `artefact inspect`: what was found, its geometry and value
//! range, or why it could not be read. Text and JSON renderings never contain patient names,
//! IDs or birth dates: only fields of [`crate::Meta`] (which withholds identifiers) are shown.

use crate::{load_all, read_rgb, IoError, IoErrorKind, LoadOptions, Loaded, LoadedRgb};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One source found: its summary or its error.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub path: PathBuf,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Either a summary or an error.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Ok(Box<Summary>),
    Error {
        kind: String,
        /// The full message (`{path}: {reason}`).
        message: String,
        /// The reason alone.
        reason: String,
    },
}

/// What `inspect` reports about a readable source.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub format: String,
    pub modality: String,
    pub unit: String,
    /// Array shape `(slices, rows, cols)`.
    pub shape: [usize; 3],
    /// Samples per pixel as read: 1 (grey) or 3 (colour photographs, read in linear light).
    pub channels: usize,
    /// Size as `x × y × z` = `(cols, rows, slices)` (the NIfTI/nibabel order).
    pub size_xyz: [usize; 3],
    /// Voxel spacing in mm, `x, y, z`.
    pub spacing_xyz_mm: [f64; 3],
    pub spacing_assumed: bool,
    /// Finite minimum and maximum.
    pub range: Option<[f32; 2]>,
    pub mean: Option<f64>,
    pub transfer_syntax: Option<crate::TransferSyntax>,
    pub sop_class: Option<crate::SopClass>,
    pub photometric: Option<String>,
    pub body_part: Option<String>,
    pub datatype: Option<String>,
    pub bits_stored: Option<u16>,
    pub rescale: Option<crate::Rescale>,
    pub inverted: bool,
    pub files: usize,
    pub frames: usize,
    pub volumes: usize,
    pub volume_index: usize,
    pub non_finite_replaced: usize,
    /// Ultrasound: burned-in overlay pixels painted over ([`crate::Meta::overlay_removed`]).
    pub overlay_removed: usize,
    /// Ultrasound without declared regions: the scan field found in its pixels
    /// ([`crate::Meta::field_detected`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_detected: Option<crate::DetectedField>,
    /// Ultrasound with declared regions: the imaging region cropped to
    /// ([`crate::Meta::region_declared`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_declared: Option<crate::DetectedField>,
    /// PNG/JPEG/TIFF: the recorded orientation applied on reading
    /// ([`crate::Meta::orientation_applied`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orientation_applied: Option<String>,
    /// Colour photographs: the embedded ICC profile and what was done with it
    /// ([`crate::Meta::colour_profile`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour_profile: Option<String>,
    /// Colour photographs with transparency ([`crate::Meta::transparency`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency: Option<String>,
}

impl Summary {
    pub fn of(l: &Loaded) -> Summary {
        let v = &l.volume;
        let m = &l.meta;
        let (s, r, c) = v.shape();
        let range = v.finite_range().map(|(a, b)| [a, b]);
        let (sum, n) = v
            .data
            .iter()
            .filter(|x| x.is_finite())
            .fold((0.0f64, 0usize), |(s, n), &x| (s + x as f64, n + 1));
        Summary {
            format: m.format.name().to_string(),
            modality: m.modality.code().to_string(),
            unit: v.unit.as_str().to_string(),
            shape: [s, r, c],
            channels: 1,
            size_xyz: [c, r, s],
            spacing_xyz_mm: [v.spacing[2], v.spacing[1], v.spacing[0]],
            spacing_assumed: m.spacing_assumed,
            range,
            mean: (n > 0).then(|| sum / n as f64),
            transfer_syntax: m.transfer_syntax.clone(),
            sop_class: m.sop_class.clone(),
            photometric: m.photometric.clone(),
            body_part: m.body_part.clone(),
            datatype: m.datatype.clone(),
            bits_stored: m.bits_stored,
            rescale: m.rescale,
            inverted: m.inverted,
            files: m.files,
            frames: m.frames,
            volumes: m.volumes,
            volume_index: m.volume_index,
            non_finite_replaced: m.non_finite_replaced,
            overlay_removed: m.overlay_removed,
            field_detected: m.field_detected.clone(),
            region_declared: m.region_declared.clone(),
            orientation_applied: m.orientation_applied.clone(),
            colour_profile: m.colour_profile.clone(),
            transparency: m.transparency.clone(),
        }
    }
}

impl Summary {
    /// A colour photograph (values: linear light, all channels).
    pub fn of_rgb(l: &LoadedRgb) -> Summary {
        let img = &l.image;
        let m = &l.meta;
        let (r, c) = img.shape();
        let (mut lo, mut hi, mut sum, mut n) = (f32::INFINITY, f32::NEG_INFINITY, 0.0f64, 0usize);
        for &x in img.data.iter().filter(|x| x.is_finite()) {
            lo = lo.min(x);
            hi = hi.max(x);
            sum += x as f64;
            n += 1;
        }
        Summary {
            format: m.format.name().to_string(),
            modality: m.modality.code().to_string(),
            unit: artefact_core::Unit::LinearLight.as_str().to_string(),
            shape: [1, r, c],
            channels: 3,
            size_xyz: [c, r, 1],
            spacing_xyz_mm: [img.spacing[1], img.spacing[0], 1.0],
            spacing_assumed: m.spacing_assumed,
            range: (n > 0).then_some([lo, hi]),
            mean: (n > 0).then(|| sum / n as f64),
            transfer_syntax: m.transfer_syntax.clone(),
            sop_class: m.sop_class.clone(),
            photometric: m.photometric.clone(),
            body_part: m.body_part.clone(),
            datatype: m.datatype.clone(),
            bits_stored: m.bits_stored,
            rescale: m.rescale,
            inverted: m.inverted,
            files: m.files,
            frames: m.frames,
            volumes: m.volumes,
            volume_index: m.volume_index,
            non_finite_replaced: m.non_finite_replaced,
            overlay_removed: m.overlay_removed,
            field_detected: m.field_detected.clone(),
            region_declared: m.region_declared.clone(),
            orientation_applied: m.orientation_applied.clone(),
            colour_profile: m.colour_profile.clone(),
            transparency: m.transparency.clone(),
        }
    }
}

/// The result of inspecting one or more paths.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub entries: Vec<Entry>,
    pub read: usize,
    pub failed: usize,
}

impl Report {
    /// Process exit code: non-zero when nothing could be read, or when `strict` and any entry
    /// failed.
    pub fn exit_code(&self, strict: bool) -> i32 {
        if self.read == 0 || (strict && self.failed > 0) {
            1
        } else {
            0
        }
    }

    /// JSON rendering (one object with `entries`, `read`, `failed`).
    pub fn to_json(&self) -> String {
        serde_json_lite(self)
    }

    /// Human-readable rendering.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for e in &self.entries {
            match &e.outcome {
                Outcome::Ok(sum) => {
                    let _ = writeln!(s, "{}", e.path.display());
                    let ts = sum
                        .transfer_syntax
                        .as_ref()
                        .map(|t| format!(" ({}, {})", t.name, t.uid))
                        .unwrap_or_default();
                    let _ = writeln!(s, "  format    {}{}", sum.format, ts);
                    let body = sum
                        .body_part
                        .as_ref()
                        .map(|b| format!(", body part {b}"))
                        .unwrap_or_default();
                    let _ = writeln!(s, "  modality  {}{}", sum.modality, body);
                    let [x, y, z] = sum.size_xyz;
                    let colour = if sum.channels == 3 {
                        ", colour (RGB)"
                    } else {
                        ""
                    };
                    let _ = writeln!(s, "  size      {x} × {y} × {z} voxels (x × y × z){colour}");
                    let [dx, dy, dz] = sum.spacing_xyz_mm;
                    let _ = writeln!(
                        s,
                        "  spacing   {} × {} × {} mm{}",
                        num(dx),
                        num(dy),
                        num(dz),
                        if sum.spacing_assumed {
                            " (not in file: assumed)"
                        } else {
                            ""
                        }
                    );
                    match sum.range {
                        Some([lo, hi]) => {
                            let _ = writeln!(
                                s,
                                "  values    {} … {} {} (mean {})",
                                num(lo as f64),
                                num(hi as f64),
                                sum.unit,
                                num(sum.mean.unwrap_or(f64::NAN))
                            );
                        }
                        None => {
                            let _ = writeln!(s, "  values    none finite");
                        }
                    }
                    let mut extra = format!("  frames    {}   volumes {}", sum.frames, sum.volumes);
                    if sum.volumes > 1 {
                        let _ = write!(extra, " (showing volume {})", sum.volume_index);
                    }
                    if sum.files > 1 {
                        let _ = write!(extra, "   files {}", sum.files);
                    }
                    let _ = writeln!(s, "{extra}");
                    let mut stored = Vec::new();
                    if let Some(d) = &sum.datatype {
                        stored.push(d.clone());
                    }
                    if let Some(b) = sum.bits_stored {
                        stored.push(format!("{b} bits stored"));
                    }
                    if let Some(p) = &sum.photometric {
                        stored.push(p.clone());
                    }
                    if let Some(r) = sum.rescale {
                        stored.push(format!("rescale ×{} {:+}", num(r.slope), num(r.intercept)));
                    }
                    if sum.inverted {
                        stored.push("MONOCHROME1 inverted".into());
                    }
                    if !stored.is_empty() {
                        let _ = writeln!(s, "  stored    {}", stored.join(", "));
                    }
                    if let Some(f) = &sum.field_detected {
                        let _ = writeln!(
                            s,
                            "  field     {} found in the pixels, columns {}-{}, rows {}-{} \
                             (no region sequence; cropped, outside blanked)",
                            f.shape, f.x0, f.x1, f.y0, f.y1
                        );
                    }
                    if let Some(f) = &sum.region_declared {
                        let _ = writeln!(
                            s,
                            "  region    declared imaging region, columns {}-{}, rows {}-{} \
                             (cropped; overlays and strips outside it dropped)",
                            f.x0, f.x1, f.y0, f.y1
                        );
                    }
                    if let Some(o) = &sum.orientation_applied {
                        let _ = writeln!(
                            s,
                            "  oriented  {o} (the file's recorded orientation, applied on reading)"
                        );
                    }
                    if let Some(p) = &sum.colour_profile {
                        let _ = writeln!(s, "  profile   {p}");
                    }
                    if let Some(t) = &sum.transparency {
                        let _ = writeln!(s, "  alpha     {t}");
                    }
                    if sum.overlay_removed > 0 {
                        let _ = writeln!(
                            s,
                            "  overlay   {} pixels of burned-in text and marks painted over",
                            sum.overlay_removed
                        );
                    }
                }
                Outcome::Error { reason, .. } => {
                    let _ = writeln!(s, "{}", e.path.display());
                    let _ = writeln!(s, "  ERROR     {reason}");
                }
            }
        }
        let _ = writeln!(
            s,
            "{} source(s): {} read, {} failed",
            self.entries.len(),
            self.read,
            self.failed
        );
        s
    }
}

fn num(v: f64) -> String {
    if v.is_finite() && v == v.round() && v.abs() < 1e9 {
        format!("{}", v as i64)
    } else if v.is_finite() {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v}")
    }
}

fn serde_json_lite<T: Serialize>(v: &T) -> String {
    // serde_json is a dependency of this crate only through this function
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Inspect every source under each path.
pub fn inspect(paths: &[PathBuf], opts: &LoadOptions) -> Report {
    let mut entries = Vec::new();
    for p in paths {
        for (path, r) in load_all(Path::new(p), opts) {
            // a colour photograph (PNG/JPEG/TIFF) or colour DICOM object is summarised as
            // colour, not refused
            let colour_raster = matches!(&r, Err(e) if matches!(e.kind, IoErrorKind::Colour(_)))
                && path.is_file()
                && matches!(
                    crate::detect_format(&path),
                    Ok(Some(
                        crate::Format::Png
                            | crate::Format::Jpeg
                            | crate::Format::Tiff
                            | crate::Format::Dicom
                    ))
                );
            if colour_raster {
                let rgb = read_rgb(&path, &crate::RgbLoadOptions::default());
                let outcome = match rgb {
                    Ok(l) => Outcome::Ok(Box::new(Summary::of_rgb(&l))),
                    Err(e) => error_outcome(&e),
                };
                entries.push(Entry { path, outcome });
                continue;
            }
            entries.push(entry(path, r));
        }
    }
    let read = entries
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Ok(_)))
        .count();
    let failed = entries.len() - read;
    Report {
        entries,
        read,
        failed,
    }
}

fn error_outcome(e: &IoError) -> Outcome {
    Outcome::Error {
        kind: e.kind_name().to_string(),
        message: e.to_string(),
        reason: e.reason(),
    }
}

fn entry(path: PathBuf, r: Result<Loaded, IoError>) -> Entry {
    let outcome = match r {
        Ok(l) => Outcome::Ok(Box::new(Summary::of(&l))),
        Err(e) => error_outcome(&e),
    };
    Entry { path, outcome }
}
