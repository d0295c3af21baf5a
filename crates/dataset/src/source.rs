//! Sources → clean slices: load every source of a benchmark, pick slices with enough
//! foreground, pad them to a square with the modality's background and resample to the output
//! size. Each slice carries pseudonymous keys (never the identifiers themselves) and the display
//! map computed from it.
//!
//! Sources of a colour modality (fundus photography, endoscopy, histopathology: the source's
//! `modality` says which) are read as colour photographs in linear light ([`prepare_colour`]):
//! one image per file, its field of view detected for the modalities with a dark surround.

use crate::error::DatasetError;
use crate::render::DisplayMap;
use artefact_core::resample::resize;
use artefact_core::{Image, Modality, Picture, RgbImage, Unit};
use artefact_io::{list_all, read_rgb_source, LoadOptions, PendingSource, RgbLoadOptions};
use artefact_recipe::benchmark::SourceSpec;
use artefact_recipe::BenchmarkRecipe;
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeSet;

/// One clean slice ready for degradation.
#[derive(Clone, Debug)]
pub struct SourceSlice {
    /// Pseudonymous key of the source series (16 hex digits).
    pub source_key: String,
    /// Pseudonymous key of the subject (patient), used for splits (16 hex digits).
    pub subject_key: String,
    pub modality: Modality,
    /// Array axis and index of the slice in its volume.
    pub axis: usize,
    pub index: usize,
    /// The prepared clean slice (square, `image_size` pixels, physical units; colour
    /// photographs in linear light). Degradations act on it at this size, so parameters in
    /// pixels (blur diameters, stroke widths) mean pixels of the image a model is shown.
    pub image: Picture,
    /// Display map computed from the clean slice.
    pub display: DisplayMap,
    /// Body region (the source's `anatomy`, else DICOM BodyPartExamined), lower case.
    pub anatomy: Option<String>,
    /// The whole clean volume (source grid and units), shared by its slices: kept only when
    /// the benchmark asks for `volume_physics` and the source is a volume, so that attributes
    /// with 3-D forms degrade it whole and cut this slice from the result.
    pub volume: Option<std::sync::Arc<artefact_core::Volume>>,
    /// A scanned B-mode (the file's own modality is ultrasound, not a grey map given
    /// `modality = "US"`): it already has its probe's geometry, so its renders use the linear
    /// probe, which keeps the image's rectangle (no second scan conversion).
    pub scanned_us: bool,
}

/// A source that could not be used, with the reason (no identifiers, only the path given).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Under `--keep-going` record `reason` for `path` in `skipped`; otherwise fail naming the file.
fn skip_or_fail(
    keep_going: bool,
    skipped: &mut Vec<Skipped>,
    path: &std::path::Path,
    reason: String,
) -> Result<(), DatasetError> {
    if keep_going {
        skipped.push(Skipped {
            path: path.display().to_string(),
            reason,
        });
        Ok(())
    } else {
        // I/O errors already start with the file: name it once
        let shown = path.display().to_string();
        let reason = reason
            .strip_prefix(&shown)
            .and_then(|r| r.strip_prefix(": "))
            .unwrap_or(&reason);
        Err(DatasetError::file(
            path,
            format!("{reason} (use --keep-going to skip it)"),
        ))
    }
}

/// What loading one source may cost: memory (`artefact_io::LoadOptions::max_bytes`) and time
/// (`artefact_io::LoadOptions::time_budget`).
#[derive(Clone, Copy, Debug)]
pub struct SourceLimits {
    pub max_bytes: u64,
    pub time_budget: Option<std::time::Duration>,
}

impl Default for SourceLimits {
    fn default() -> Self {
        SourceLimits {
            max_bytes: artefact_io::default_max_bytes(),
            time_budget: Some(artefact_io::DEFAULT_TIME_BUDGET),
        }
    }
}

/// Load every source and pick its slices. With `keep_going`, unreadable sources are returned
/// as [`Skipped`]; otherwise the first one is an error. Memory budget per source:
/// [`artefact_io::default_max_bytes`].
pub fn collect_slices(
    bench: &BenchmarkRecipe,
    secret: &[u8],
    keep_going: bool,
) -> Result<(Vec<SourceSlice>, Vec<Skipped>), DatasetError> {
    collect_slices_with(bench, secret, keep_going, SourceLimits::default())
}

/// Run `f` so that a panic becomes an error message (the source boundary: one bad file is one
/// skipped row, never the end of the build).
fn isolated<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(format!("internal error while reading this source ({msg})"))
    })
}

/// [`collect_slices`] with a memory budget in bytes and a time budget for loading each source
/// ([`SourceLimits`]). Each source is isolated: a panic while loading or
/// preparing it becomes a [`Skipped`] row naming the file (or, without `keep_going`, an error
/// naming it). Every slice is kept in memory: for a large collection use [`scan_sources`].
pub fn collect_slices_with(
    bench: &BenchmarkRecipe,
    secret: &[u8],
    keep_going: bool,
    limits: SourceLimits,
) -> Result<(Vec<SourceSlice>, Vec<Skipped>), DatasetError> {
    let mut slices = Vec::new();
    let skipped = visit_sources(bench, secret, keep_going, limits, &mut |_, got, _| {
        slices.extend(got)
    })?;
    Ok((slices, skipped))
}

/// Where the slices of one source come from: enough to load them again ([`load_entry`]).
#[derive(Clone, Debug)]
pub struct SourceEntry {
    /// Index of the source entry in the benchmark recipe.
    pub spec: usize,
    /// The file or series, as listed (for messages).
    pub path: std::path::PathBuf,
    what: Pending,
}

#[derive(Clone, Debug)]
enum Pending {
    Grey(PendingSource),
    Colour(std::path::PathBuf),
}

/// A clean slice without its pixels: what planning needs, and where the pixels come from.
#[derive(Clone, Debug)]
pub struct SliceInfo {
    pub source_key: String,
    pub subject_key: String,
    pub modality: Modality,
    pub axis: usize,
    pub index: usize,
    pub anatomy: Option<String>,
    pub scanned_us: bool,
    /// Index of its source in [`Scan::entries`].
    pub entry: usize,
    /// Hash of the prepared pixels: loading the source again must give the same slice.
    pub fingerprint: u64,
}

/// Every source read once, its slices picked and their pixels dropped ([`scan_sources`]).
#[derive(Clone, Debug, Default)]
pub struct Scan {
    pub entries: Vec<SourceEntry>,
    /// The clean slices, in the order [`collect_slices`] returns them; the slices of one
    /// entry are consecutive.
    pub slices: Vec<SliceInfo>,
    pub skipped: Vec<Skipped>,
}

impl SliceInfo {
    fn of(s: &SourceSlice, entry: usize, fingerprint: u64) -> SliceInfo {
        SliceInfo {
            source_key: s.source_key.clone(),
            subject_key: s.subject_key.clone(),
            modality: s.modality,
            axis: s.axis,
            index: s.index,
            anatomy: s.anatomy.clone(),
            scanned_us: s.scanned_us,
            entry,
            fingerprint,
        }
    }
}

/// FNV-1a over the bits of a picture's samples and its shape.
fn fingerprint(p: &Picture) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bits: u32| {
        for b in bits.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    match p {
        Picture::Grey(g) => {
            let (r, c) = g.shape();
            eat(r as u32);
            eat(c as u32);
            g.data.iter().for_each(|v| eat(v.to_bits()));
        }
        Picture::Colour(c) => {
            let (r, w) = c.shape();
            eat(r as u32 | 0x8000_0000);
            eat(w as u32);
            c.data.iter().for_each(|v| eat(v.to_bits()));
        }
    }
    h
}

/// Read every source once, one at a time, pick its slices, and keep only what planning needs
/// ([`SliceInfo`]) and where to load it again ([`SourceEntry`]): memory stays that of one
/// source, whatever the size of the collection. The slices are those of [`collect_slices`],
/// in the same order, with the same skips.
pub fn scan_sources(
    bench: &BenchmarkRecipe,
    secret: &[u8],
    keep_going: bool,
    limits: SourceLimits,
) -> Result<Scan, DatasetError> {
    let mut scan = Scan::default();
    let skipped = visit_sources(
        bench,
        secret,
        keep_going,
        limits,
        &mut |entry, got, prints| {
            let e = scan.entries.len();
            scan.slices
                .extend(got.iter().zip(prints).map(|(s, f)| SliceInfo::of(s, e, f)));
            scan.entries.push(entry);
        },
    )?;
    scan.skipped = skipped;
    Ok(scan)
}

/// Load the slices of one scanned source again (the same pixels [`scan_sources`] saw,
/// checked by their fingerprints): `slices` are the scan's slices of this entry.
pub fn load_entry(
    bench: &BenchmarkRecipe,
    entry: &SourceEntry,
    slices: &[&SliceInfo],
    secret: &[u8],
    limits: SourceLimits,
) -> Result<Vec<SourceSlice>, DatasetError> {
    let spec = &bench.sources[entry.spec];
    let fail = |reason: String| DatasetError::file(&entry.path, reason);
    let got = load_prepared(bench, spec, &entry.what, secret, limits, None).map_err(fail)?;
    let same = got.len() == slices.len()
        && got.iter().zip(slices).all(|(g, s)| {
            g.source_key == s.source_key
                && (g.axis, g.index) == (s.axis, s.index)
                && fingerprint(&g.image) == s.fingerprint
        });
    if !same {
        return Err(fail(
            "the source changed while the build ran (its slices differ from the first reading)"
                .into(),
        ));
    }
    Ok(got)
}

fn grey_options(spec: &SourceSpec, limits: SourceLimits) -> LoadOptions {
    LoadOptions {
        modality: spec.modality,
        max_bytes: limits.max_bytes,
        time_budget: limits.time_budget,
        ..LoadOptions::default()
    }
}

fn colour_options(spec: &SourceSpec, limits: SourceLimits) -> RgbLoadOptions {
    RgbLoadOptions {
        modality: spec.modality,
        detect_fov: false,
        max_bytes: limits.max_bytes,
        time_budget: limits.time_budget,
        ..RgbLoadOptions::default()
    }
}

/// Load one listed source (isolated: a panic is an error message) and prepare its slices;
/// `seen` as for [`prepare_grey`].
fn load_prepared(
    bench: &BenchmarkRecipe,
    spec: &SourceSpec,
    what: &Pending,
    secret: &[u8],
    limits: SourceLimits,
    seen: Option<&mut BTreeSet<String>>,
) -> Result<Vec<SourceSlice>, String> {
    prepare_loaded(bench, spec, load_raw(spec, what, limits)?, secret, seen)
}

/// A listed source read and decoded, not yet prepared.
enum Raw {
    Grey(artefact_io::Loaded),
    Colour(artefact_io::LoadedRgb),
}

/// Read and decode one listed source (isolated: a panic is an error message).
fn load_raw(spec: &SourceSpec, what: &Pending, limits: SourceLimits) -> Result<Raw, String> {
    match what {
        Pending::Grey(p) => {
            let opts = grey_options(spec, limits);
            isolated(|| p.load(&opts).map_err(|e| e.to_string())).map(Raw::Grey)
        }
        Pending::Colour(f) => {
            let opts = colour_options(spec, limits);
            isolated(|| read_rgb_source(f, &opts).map_err(|e| e.to_string())).map(Raw::Colour)
        }
    }
}

/// Prepare the slices of a decoded source; `seen` as for [`prepare_grey`].
fn prepare_loaded(
    bench: &BenchmarkRecipe,
    spec: &SourceSpec,
    raw: Raw,
    secret: &[u8],
    seen: Option<&mut BTreeSet<String>>,
) -> Result<Vec<SourceSlice>, String> {
    match raw {
        Raw::Grey(loaded) => prepare_grey(bench, spec, loaded, secret, seen),
        Raw::Colour(loaded) => prepare_colour_source(bench, spec, loaded, secret, seen),
    }
}

/// List every source of the benchmark, load each in turn and hand its prepared slices and
/// their fingerprints to `sink` (then they may be dropped). Returns the skipped sources.
fn visit_sources(
    bench: &BenchmarkRecipe,
    secret: &[u8],
    keep_going: bool,
    limits: SourceLimits,
    sink: &mut dyn FnMut(SourceEntry, Vec<SourceSlice>, Vec<u64>),
) -> Result<Vec<Skipped>, DatasetError> {
    let mut skipped = Vec::new();
    let mut seen_keys = BTreeSet::new();
    // the first source to show each prepared slice's exact pixels
    let mut seen_pixels: std::collections::HashMap<u64, std::path::PathBuf> =
        std::collections::HashMap::new();
    // the thumbnails of the photographs accepted so far
    let mut seen_photos = crate::near_copy::Seen::default();
    for (si, spec) in bench.sources.iter().enumerate() {
        let colour = spec.modality.is_some_and(Modality::is_colour);
        // every path listed (in parallel, kept in order): its sources, or why it failed
        type Listed = Result<Vec<(std::path::PathBuf, Result<Pending, String>)>, String>;
        let listings: Vec<Listed> = spec
            .paths
            .par_iter()
            .map(|path| {
                if colour {
                    isolated(|| Ok(artefact_io::list_all_rgb(path))).map(|v| {
                        v.into_iter()
                            .map(|(p, r)| (p, r.map(Pending::Colour).map_err(|e| e.to_string())))
                            .collect()
                    })
                } else {
                    let opts = grey_options(spec, limits);
                    isolated(|| Ok(list_all(path, &opts))).map(|v| {
                        v.into_iter()
                            .map(|(p, r)| (p, r.map(Pending::Grey).map_err(|e| e.to_string())))
                            .collect()
                    })
                }
            })
            .collect();
        // in listing order: a failed path (`Err`), or one listed source
        let mut items = spec.paths.iter().zip(listings).flat_map(|(path, listed)| {
            let v: Vec<Result<_, (&std::path::Path, String)>> = match listed {
                Ok(sources) => sources.into_iter().map(Ok).collect(),
                Err(reason) => vec![Err((path.as_path(), reason))],
            };
            v
        });
        // sources are read, decoded and prepared a few at a time in parallel (one per worker
        // thread, so memory stays bounded by the threads × the largest source), then listed
        // once and handed over in listing order: the same outcome, key by key, as reading
        // them in turn
        let batch = rayon::current_num_threads().max(1);
        loop {
            let chunk: Vec<_> = items.by_ref().take(batch).collect();
            if chunk.is_empty() {
                break;
            }
            // each: the key to list once (if preparing reached the listing, as in
            // `prepare_grey`) and the prepared slices with their fingerprints
            type Thumbs = Vec<(Modality, crate::near_copy::Thumb)>;
            type Read = (
                Option<(String, &'static str)>,
                Result<(Vec<SourceSlice>, (Vec<u64>, Thumbs)), String>,
            );
            let read: Vec<Option<Result<Read, String>>> = chunk
                .par_iter()
                .map(|item| {
                    let what = item.as_ref().ok()?.1.as_ref().ok()?;
                    Some((|| {
                        let raw = load_raw(spec, what, limits)?;
                        let kind = match raw {
                            Raw::Grey(_) => "series",
                            Raw::Colour(_) => "image",
                        };
                        // a set of its own records the key if, and only if, preparing
                        // reaches the point where a source is listed
                        let mut own = BTreeSet::new();
                        let prepared = prepare_loaded(bench, spec, raw, secret, Some(&mut own))
                            .map(|slices| {
                                let prints = slices.iter().map(|s| fingerprint(&s.image)).collect();
                                let thumbs = slices
                                    .iter()
                                    .filter_map(|s| match &s.image {
                                        Picture::Colour(c) => {
                                            Some((s.modality, crate::near_copy::Thumb::of(c)))
                                        }
                                        Picture::Grey(_) => None,
                                    })
                                    .collect::<Vec<_>>();
                                (slices, (prints, thumbs))
                            });
                        Ok((own.pop_first().map(|k| (k, kind)), prepared))
                    })())
                })
                .collect();
            for (item, read) in chunk.into_iter().zip(read) {
                let (p, pending) = match item {
                    Ok(source) => source,
                    Err((path, reason)) => {
                        skip_or_fail(keep_going, &mut skipped, path, reason)?;
                        continue;
                    }
                };
                let got = pending.and_then(|what| {
                    let (key, prepared) = read.expect("a listed source was read")?;
                    if let Some((key, kind)) = key {
                        listed_once(Some(&mut seen_keys), &key, kind)?;
                    }
                    let (prepared, (prints, thumbs)) = prepared?;
                    shown_once(&mut seen_pixels, &p, &prints)?;
                    not_a_near_copy(&mut seen_photos, &p, thumbs)?;
                    Ok((what, prepared, prints))
                });
                visit_one(keep_going, &mut skipped, si, p, got, sink)?;
            }
        }
    }
    Ok(skipped)
}

/// Hand one read source to `sink`, or record why it is skipped.
fn visit_one(
    keep_going: bool,
    skipped: &mut Vec<Skipped>,
    si: usize,
    p: std::path::PathBuf,
    got: Result<(Pending, Vec<SourceSlice>, Vec<u64>), String>,
    sink: &mut dyn FnMut(SourceEntry, Vec<SourceSlice>, Vec<u64>),
) -> Result<(), DatasetError> {
    match got {
        Ok((what, slices, prints)) => sink(
            SourceEntry {
                spec: si,
                path: p,
                what,
            },
            slices,
            prints,
        ),
        Err(reason) => skip_or_fail(keep_going, skipped, &p, reason)?,
    }
    Ok(())
}

/// A source whose prepared slice has exactly the pixels of another source's slice (the same
/// picture under another name, a lossless copy in another format) is skipped: one picture in
/// two sources would stand in two places of the benchmark, possibly in two splits. `seen`: the
/// fingerprint of every slice accepted so far and its source; updated when `prints` (the
/// fingerprints of this source's slices) pass.
fn shown_once(
    seen: &mut std::collections::HashMap<u64, std::path::PathBuf>,
    path: &std::path::Path,
    prints: &[u64],
) -> Result<(), String> {
    if let Some(first) = prints.iter().find_map(|f| seen.get(f)) {
        return Err(format!(
            "its pixels are identical to those of {} (the same picture under another name): a \
             copy would put one picture in two places of the benchmark",
            first.display()
        ));
    }
    for &f in prints {
        seen.insert(f, path.to_path_buf());
    }
    Ok(())
}

/// A photograph whose prepared picture is a near copy of an earlier source's (re-encoded,
/// resized, converted: [`crate::near_copy`]) is skipped, for the reason [`shown_once`] gives;
/// otherwise its thumbnails join `seen`.
fn not_a_near_copy(
    seen: &mut crate::near_copy::Seen,
    path: &std::path::Path,
    thumbs: Vec<(Modality, crate::near_copy::Thumb)>,
) -> Result<(), String> {
    if let Some((first, d)) = thumbs.iter().find_map(|(m, t)| seen.copy_of(*m, t)) {
        return Err(format!(
            "its picture is a near copy of {} (thumbnails {:.2} codes of 255 apart on average: \
             the same photograph re-encoded, resized or converted): a copy would put one \
             picture in two places of the benchmark",
            first.display(),
            d * 255.0
        ));
    }
    for (m, t) in thumbs {
        seen.insert(m, t, path);
    }
    Ok(())
}

/// A second listing of one source (same pseudonymous key) is skipped; `seen`: the keys listed
/// so far (`None` when loading a scanned source again).
fn listed_once(seen: Option<&mut BTreeSet<String>>, key: &str, kind: &str) -> Result<(), String> {
    let first = seen.is_none_or(|seen| seen.insert(key.to_string()));
    if first {
        Ok(())
    } else {
        Err(format!(
            "the same {kind} was already listed by another source entry"
        ))
    }
}

/// The prepared slices of one grey source (volume or image), or why it is skipped. `seen`:
/// the source keys listed so far (a second listing of one series is skipped); `None` when
/// loading a scanned source again.
fn prepare_grey(
    bench: &BenchmarkRecipe,
    spec: &SourceSpec,
    loaded: artefact_io::Loaded,
    secret: &[u8],
    seen: Option<&mut BTreeSet<String>>,
) -> Result<Vec<SourceSlice>, String> {
    let mut volume = loaded.volume;
    // the file's own modality (DICOM), not the one a source entry imposes
    let scanned_us = loaded.meta.modality_code.as_deref() == Some("US");
    if let Some(m) = spec.modality {
        volume.modality = m;
        volume.unit = m.natural_unit();
    }
    if volume.modality == Modality::Us && volume.data.iter().any(|v| !(0.0..=1.0).contains(v)) {
        to_echogenicity(&mut volume.data)?;
    }
    if !bench
        .attributes
        .iter()
        .any(|a| a.modality == volume.modality)
    {
        return Err(format!(
            "modality {} has no attribute recipes in this benchmark (set `modality` on the source to use it as another modality)",
            volume.modality
        ));
    }
    let source_key = short(&loaded.meta.pseudonymous_key(secret));
    listed_once(seen, &source_key, "series")?;
    let subject_key = short(&loaded.meta.subject_key(secret));
    let anatomy = spec
        .anatomy
        .clone()
        .or_else(|| loaded.meta.body_part.as_deref().and_then(body_region));
    let axis = if volume.len_of(0) == 1 { 0 } else { bench.axis };
    let prepared = isolated(|| {
        let picked = pick_slices(&volume, axis, bench.slices_per_volume, bench.min_foreground)?;
        if picked.is_empty() {
            return Err(format!(
                "no slice along axis {axis} has a foreground fraction ≥ {}",
                bench.min_foreground
            ));
        }
        picked
            .into_iter()
            .map(|index| {
                let raw = volume.slice(axis, index).map_err(|e| e.to_string())?;
                let image = prepare(&raw, bench.image_size).map_err(|e| e.to_string())?;
                Ok((index, image))
            })
            .collect::<Result<Vec<_>, String>>()
    })?;
    let keep = bench.volume_physics && volume.len_of(0) > 1;
    let whole = keep.then(|| std::sync::Arc::new(volume));
    Ok(prepared
        .into_iter()
        .map(|(index, image)| {
            let display = DisplayMap::for_clean(&image, bench.ct_window, bench.mr_percentiles);
            let image = Picture::Grey(image);
            SourceSlice {
                source_key: source_key.clone(),
                subject_key: subject_key.clone(),
                modality: image.modality(),
                axis,
                index,
                image,
                display,
                anatomy: anatomy.clone(),
                volume: whole.clone(),
                scanned_us,
            }
        })
        .collect())
}

/// The prepared slices (the photograph, or its tiles) of one colour source, or why it is
/// skipped; `seen` as for [`prepare_grey`].
fn prepare_colour_source(
    bench: &BenchmarkRecipe,
    spec: &SourceSpec,
    loaded: artefact_io::LoadedRgb,
    secret: &[u8],
    seen: Option<&mut BTreeSet<String>>,
) -> Result<Vec<SourceSlice>, String> {
    let modality = spec.modality.expect("a colour source names its modality");
    if !bench.attributes.iter().any(|a| a.modality == modality) {
        return Err(format!(
            "modality {modality} has no attribute recipes in this benchmark"
        ));
    }
    let source_key = short(&loaded.meta.pseudonymous_key(secret));
    listed_once(seen, &source_key, "image")?;
    let subject_key = short(&loaded.meta.subject_key(secret));
    let pieces = match spec.tile {
        None => {
            enough_foreground(&loaded.image, bench.min_foreground)?;
            vec![(0, loaded.image)]
        }
        Some(n) => {
            let tiles = pick_tiles(
                &loaded.image,
                n,
                bench.slices_per_volume,
                bench.min_foreground,
            );
            if tiles.is_empty() {
                return Err(format!(
                    "no {n}×{n} tile has a foreground fraction ≥ {}",
                    bench.min_foreground
                ));
            }
            tiles
        }
    };
    let prepared = isolated(|| {
        pieces
            .into_iter()
            .map(|(index, piece)| {
                prepare_colour(&piece, bench.image_size)
                    .map(|im| (index, im))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()
    })?;
    Ok(prepared
        .into_iter()
        .map(|(index, image)| SourceSlice {
            source_key: source_key.clone(),
            subject_key: subject_key.clone(),
            modality,
            axis: 0,
            index,
            image: Picture::Colour(image),
            display: DisplayMap::srgb(),
            anatomy: spec.anatomy.clone(),
            volume: None,
            scanned_us: false,
        })
        .collect())
}

/// Fewest pixels a side of a photograph to be degraded: below it, blurs, bubbles, dust and
/// blocks have no room (a thumbnail or an icon, not a photograph).
pub const MIN_PHOTO_SIDE: usize = 16;

/// Refuse a photograph with a side shorter than [`MIN_PHOTO_SIDE`].
pub fn big_enough(img: &RgbImage) -> Result<(), String> {
    let (rows, cols) = img.shape();
    if rows.min(cols) < MIN_PHOTO_SIDE {
        return Err(format!(
            "a {cols}×{rows} photograph is too small to degrade (at least {MIN_PHOTO_SIDE} \
             pixels a side)"
        ));
    }
    Ok(())
}

/// A whole photograph is a source only if it shows enough of its subject, as a grey slice must
/// (a blank, nearly black or washed-out picture has nothing to degrade, and every severity of
/// it would look the same).
fn enough_foreground(img: &RgbImage, min_fg: f64) -> Result<(), String> {
    big_enough(img)?;
    let fg = colour_foreground_fraction(img);
    if fg < min_fg {
        return Err(format!(
            "the photograph's foreground fraction {fg:.3} is below min_foreground {min_fg} \
             (blank, nearly black or washed out?)"
        ));
    }
    Ok(())
}

/// Fraction of a photograph's pixels that show the subject: for modalities with a dark
/// surround, pixels lit above 2 % of white luminance; otherwise (transmitted light, e.g. a
/// slide) pixels that absorb, i.e. whose darkest channel has an optical density above 0.15
/// (Macenko's background threshold; transmission below 10^−0.15).
pub fn colour_foreground_fraction(img: &RgbImage) -> f64 {
    let (rows, cols) = img.shape();
    if rows * cols == 0 {
        return 0.0;
    }
    let t = 10f32.powf(-0.15);
    let lum = img.luminance();
    let mut n = 0usize;
    for r in 0..rows {
        for c in 0..cols {
            let hit = if img.modality.has_dark_surround() {
                lum[[r, c]] > 0.02
            } else {
                (0..3).any(|ch| img.data[[ch, r, c]] < t)
            };
            n += hit as usize;
        }
    }
    n as f64 / (rows * cols) as f64
}

/// Up to `count` non-overlapping `n`² tiles of a photograph (row-major grid, centred) whose
/// foreground fraction is at least `min_fg`, evenly spread over the qualifying ones; each with
/// its grid index.
pub fn pick_tiles(img: &RgbImage, n: usize, count: usize, min_fg: f64) -> Vec<(usize, RgbImage)> {
    let (rows, cols) = img.shape();
    let (gr, gc) = (rows / n, cols / n);
    let (or, oc) = ((rows - gr * n) / 2, (cols - gc * n) / 2);
    let mut ok = Vec::new();
    for i in 0..gr {
        for j in 0..gc {
            let (y, x) = (or + i * n, oc + j * n);
            let data = img
                .data
                .slice(ndarray::s![.., y..y + n, x..x + n])
                .to_owned();
            let fov = img
                .fov
                .as_ref()
                .map(|m| m.slice(ndarray::s![y..y + n, x..x + n]).to_owned());
            let Ok(t) = RgbImage::new(data, img.spacing, img.modality, fov) else {
                continue;
            };
            if colour_foreground_fraction(&t) >= min_fg {
                ok.push((i * gc + j, t));
            }
        }
    }
    if ok.len() <= count {
        return ok;
    }
    let picks: Vec<usize> = (0..count)
        .map(|k| ((2 * k + 1) * ok.len()) / (2 * count))
        .collect();
    ok.into_iter()
        .enumerate()
        .filter(|(k, _)| picks.contains(k))
        .map(|(_, t)| t)
        .collect()
}

/// A picture at the benchmark's output size: a colour photograph of another size is resized to
/// `size`² (field of view re-detected); grey slices and pictures already at the output size are
/// returned as they are.
pub fn shown_size(p: Picture, size: usize) -> Result<Picture, artefact_core::CoreError> {
    match p {
        Picture::Colour(c) if c.shape() != (size, size) => {
            Ok(Picture::Colour(prepare_colour(&c, size)?))
        }
        other => Ok(other),
    }
}

/// Prepare a colour photograph: a square `size`² image in linear light. Modalities with a dark
/// surround (fundus, endoscopy) are padded to a square with black, keeping the whole field of
/// view, which is then detected on the result and everything outside it set to black (cameras
/// burn names, IDs and dates into the surround); others (histopathology tiles) are cropped to
/// their centred square, since padding would add a border that is not in the slide.
pub fn prepare_colour(img: &RgbImage, size: usize) -> Result<RgbImage, artefact_core::CoreError> {
    let (r, c) = img.shape();
    let pad = img.modality.has_dark_surround();
    let n = if pad { r.max(c) } else { r.min(c) };
    let (or, oc) = ((r as isize - n as isize) / 2, (c as isize - n as isize) / 2);
    let square = ndarray::Array3::from_shape_fn((3, n, n), |(ch, i, j)| {
        let (si, sj) = (i as isize + or, j as isize + oc);
        if si < 0 || sj < 0 || si >= r as isize || sj >= c as isize {
            0.0
        } else {
            let v = img.data[[ch, si as usize, sj as usize]];
            if v.is_finite() {
                v
            } else {
                0.0
            }
        }
    });
    let mut planes = Vec::with_capacity(3 * size * size);
    let mut spacing = img.spacing;
    for ch in 0..3 {
        let plane = Image::new(
            square.index_axis(ndarray::Axis(0), ch).to_owned(),
            img.spacing,
            img.modality,
            Unit::LinearLight,
        )?;
        let out = resize(&plane, size, size)?;
        spacing = out.spacing;
        planes.extend(out.data.iter().copied());
    }
    let data = ndarray::Array3::from_shape_vec((3, size, size), planes)
        .map_err(|e| artefact_core::CoreError::Shape(e.to_string()))?;
    let mut out = RgbImage::new(data, spacing, img.modality, None)?;
    if pad {
        // text burned into the surround (names, IDs, dates) never reaches a benchmark
        out.detect_and_set_fov();
        out.blank_outside_fov();
    }
    Ok(out)
}

/// A DICOM BodyPartExamined value as a body-region word for descriptions ("HEAD" → "head",
/// "ABDOMEN" → "abdomen"), or `None` when it is not a plain region name.
pub fn body_region(code: &str) -> Option<String> {
    let t = code.trim().to_lowercase().replace('_', " ");
    let ok =
        !t.is_empty() && t.len() <= 32 && t.chars().all(|c| c.is_ascii_alphabetic() || c == ' ');
    ok.then_some(t)
}

fn short(key: &str) -> String {
    key.chars().take(16).collect()
}

/// Robust percentile normalisation (1st–99th) of a grey volume into echogenicity [0, 1]
/// (applied to any ultrasound source whose values leave [0, 1]): the physics crate's mapping,
/// [`artefact_us::grey_to_echogenicity`], over the whole volume.
pub fn to_echogenicity(data: &mut ndarray::Array3<f32>) -> Result<(), String> {
    artefact_us::grey_to_echogenicity(data, 1.0, 99.0).map_err(|e| e.to_string())
}

/// Up to `count` slice indices along `axis` whose Otsu foreground fraction is at least
/// `min_fg`, evenly spread over the qualifying range (deterministic).
pub fn pick_slices(
    vol: &artefact_core::Volume,
    axis: usize,
    count: usize,
    min_fg: f64,
) -> Result<Vec<usize>, String> {
    if axis > 2 {
        return Err(format!("slice axis {axis} is not 0, 1 or 2"));
    }
    let n = vol.len_of(axis);
    let mut ok = Vec::new();
    for i in 0..n {
        let s = vol.slice(axis, i).map_err(|e| e.to_string())?;
        if s.foreground_fraction_otsu() >= min_fg {
            ok.push(i);
        }
    }
    if ok.len() <= count {
        return Ok(ok);
    }
    // evenly spaced picks from the middle of `count` equal bins
    Ok((0..count)
        .map(|k| ok[((2 * k + 1) * ok.len()) / (2 * count)])
        .collect())
}

/// Background value used to pad a slice to a square.
fn background(img: &Image) -> f32 {
    match img.unit {
        Unit::Hu => -1000.0,
        Unit::Echogenicity => 0.0,
        _ => img.finite_range().map_or(0.0, |(lo, _)| lo),
    }
}

/// Pad to a square field of view (centred, modality background) and resample to `size`².
pub fn prepare(img: &Image, size: usize) -> Result<Image, artefact_core::CoreError> {
    let (r, c) = img.shape();
    // square in millimetres: pad the axis with the smaller physical extent
    let (er, ec) = (r as f64 * img.spacing[0], c as f64 * img.spacing[1]);
    let bg = background(img);
    let (nr, nc) = if er < ec {
        (((ec / img.spacing[0]).round() as usize).max(r), c)
    } else {
        (r, ((er / img.spacing[1]).round() as usize).max(c))
    };
    // a pixel aspect ratio far from 1 would pad to an enormous square: refuse it
    if (nr as u64) * (nc as u64) > 16 * (r.max(c) as u64).pow(2).max(1 << 20) {
        return Err(artefact_core::CoreError::Shape(format!(
            "pixel spacing {:?} mm gives a {r}×{c} slice a square field of view of {nr}×{nc} \
             pixels; the pixel aspect ratio is implausible",
            img.spacing
        )));
    }
    let mut padded = Array2::from_elem((nr, nc), bg);
    let (or, oc) = ((nr - r) / 2, (nc - c) / 2);
    padded
        .slice_mut(ndarray::s![or..or + r, oc..oc + c])
        .assign(&img.data.mapv(|v| if v.is_finite() { v } else { bg }));
    let sq = Image::new(padded, img.spacing, img.modality, img.unit)?;
    resize(&sq, size, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Volume;
    use ndarray::Array3;

    /// Blank photographs are refused as sources: black fundus frames, white slides without
    /// tissue; a fundus disc on black and stained tissue pass.
    #[test]
    fn blank_photographs_are_not_sources() {
        let img = |m: Modality, f: &dyn Fn(usize, usize) -> f32| {
            RgbImage::new(
                Array3::from_shape_fn((3, 40, 40), |(_, r, c)| f(r, c)),
                [1.0, 1.0],
                m,
                None,
            )
            .unwrap()
        };
        let disc = |r: usize, c: usize| {
            let (y, x) = (r as f32 - 20.0, c as f32 - 20.0);
            if x * x + y * y < 300.0 {
                0.3
            } else {
                0.0
            }
        };
        let black = img(Modality::Fundus, &|_, _| 0.0);
        let e = enough_foreground(&black, 0.15).unwrap_err();
        assert!(e.contains("0.000") && e.contains("0.15"), "{e}");
        assert!(enough_foreground(&img(Modality::Fundus, &disc), 0.15).is_ok());
        let white = img(Modality::Histopathology, &|_, _| 0.95);
        assert!(enough_foreground(&white, 0.15).is_err());
        let tissue = img(Modality::Histopathology, &|r, _| {
            if r < 20 {
                0.2
            } else {
                0.95
            }
        });
        assert!(enough_foreground(&tissue, 0.15).is_ok());
        assert!(enough_foreground(&tissue, 0.6).is_err());
        // a thumbnail is refused whatever it shows
        let small = RgbImage::new(
            Array3::from_elem((3, 12, 40), 0.3),
            [1.0, 1.0],
            Modality::Histopathology,
            None,
        )
        .unwrap();
        let e = enough_foreground(&small, 0.15).unwrap_err();
        assert!(e.contains("40×12") && e.contains("too small"), "{e}");
    }

    #[test]
    fn picks_evenly_among_foreground_slices() {
        // slices 2..=11 have a bright square, the rest are empty
        let data = Array3::from_shape_fn((14, 8, 8), |(k, r, c)| {
            if (2..=11).contains(&k) && (2..6).contains(&r) && (2..6).contains(&c) {
                100.0
            } else {
                0.0
            }
        });
        let v = Volume::new(data, [1.0; 3], Modality::Mr, Unit::Arbitrary).unwrap();
        let p = pick_slices(&v, 0, 3, 0.1).unwrap();
        assert_eq!(p, vec![3, 7, 10]);
        assert_eq!(pick_slices(&v, 0, 20, 0.1).unwrap().len(), 10);
        assert!(pick_slices(&v, 0, 3, 0.9).unwrap().is_empty());
    }

    #[test]
    fn prepare_pads_to_square_in_mm_and_resamples() {
        let img = Image::new(
            Array2::from_elem((10, 20), 5.0),
            [1.0, 1.0],
            Modality::Ct,
            Unit::Hu,
        )
        .unwrap();
        let out = prepare(&img, 16).unwrap();
        assert_eq!(out.shape(), (16, 16));
        assert!((out.spacing[0] - 20.0 / 16.0).abs() < 1e-12);
        // top rows are padding (air), the middle is the image
        assert!((out.data[[0, 8]] + 1000.0).abs() < 1e-3);
        assert!((out.data[[8, 8]] - 5.0).abs() < 1e-3);
    }
}
