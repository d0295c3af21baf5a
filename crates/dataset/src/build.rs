//! `build`: the whole pipeline into an output directory.
//!
//! Output layout (DESIGN.md §6): `images/<split>/<id>.png`, `manifest.jsonl`, `perception.jsonl`,
//! `reasoning.jsonl`, `pairs.jsonl`, `skipped.jsonl` (only with `keep_going` and skipped
//! sources), `summary.json`, `build.json`, `vlmevalkit/`, `hf/`.
//!
//! Determinism: every random choice derives from `(seed, sample id)`; samples are rendered in
//! parallel but collected in plan order, so the bytes do not depend on `jobs`. Every file is
//! written atomically. While a build runs, each finished sample leaves a record in `.work/`;
//! `resume` reuses records whose PNG is present with the recorded hash, so a killed build
//! resumes to the same bytes. `.work/` is removed when the build completes.
//!
//! Sharded: with [`BuildOptions::shard`] only one shard's images are rendered (into its own
//! directory, [`crate::shard`]); [`crate::merge()`] later runs the same tail (`finish`:
//! questions, descriptions, pairs, seeded shuffles, exports, audit, summary) on the rows of all
//! shards, so the merged tree equals a single build's.

use crate::audit::audit;
use crate::error::DatasetError;
use crate::export::{write_exports, DatasetNames, Description};
use crate::fsutil::{write_atomic, write_jsonl, write_replace};
use crate::generate::{clean_view, render_image, CleanView, ManifestRow, TOOL_VERSION};
use crate::pairs::make_pairs;
use crate::plan::{build_key, opaque_id, plan, PlannedImage};
use crate::questions::{make_questions, ImageFacts, Shortfall};
use crate::shard::{
    key_fingerprint, plan_fingerprint, shard_of_slice, ShardItem, ShardManifest, ShardSpec,
    SHARD_MANIFEST,
};
use crate::source::{Skipped, SourceSlice};
use crate::text::{describe, phrase};
use artefact_core::{Modality, Seed};
use artefact_recipe::{BenchmarkRecipe, Registry};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// How to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub out: PathBuf,
    /// Worker threads (0: one per core). Output bytes do not depend on it.
    pub jobs: usize,
    /// Replace an existing artefact output directory.
    pub force: bool,
    /// Continue a killed build in `out`.
    pub resume: bool,
    /// Skip unreadable sources (listed in `skipped.jsonl`) instead of failing.
    pub keep_going: bool,
    /// Secret for pseudonymous keys (never written anywhere). Empty (the default): a random
    /// per-build key kept in the private key file beside the output ([`key_file`]), created by
    /// a fresh build and reused by `resume` and `replay`. Set it for cross-build linkage or
    /// byte-identical rebuilds.
    pub key_secret: Vec<u8>,
    /// Memory budget in bytes for loading each source (see `artefact_io::LoadOptions`).
    pub max_bytes: u64,
    /// Time budget for loading each source; one that overruns it is abandoned (skipped with
    /// `keep_going`). `None`: no budget. Default: `artefact_io::DEFAULT_TIME_BUDGET`.
    pub source_timeout: Option<std::time::Duration>,
    /// Attributes rendered (mild + severe) per clean slice.
    pub attributes_per_slice: usize,
    /// Write what the images can supply when the recipe asks for more questions or pairs
    /// (reported on stderr and in `summary.json`) instead of failing.
    pub allow_shortfall: bool,
    /// Fail the build when its audit fails.
    pub strict_audit: bool,
    /// Render only this shard of the plan into `<out>/shard-<I>-of-<N>/` (needs `key_secret`);
    /// `artefact merge` ([`crate::merge()`]) turns the shards into the build.
    pub shard: Option<ShardSpec>,
    /// Also write every image as DICOM (`dicom/<split>/<id>.dcm`, see [`dicom_copy`]).
    pub dicom: bool,
    /// Where the time goes ([`crate::timings`]); `None`: not measured.
    pub timings: Option<std::sync::Arc<crate::timings::Timings>>,
}

impl BuildOptions {
    pub fn new(out: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            out: out.into(),
            jobs: 0,
            force: false,
            resume: false,
            keep_going: false,
            key_secret: Vec::new(),
            max_bytes: artefact_io::default_max_bytes(),
            source_timeout: Some(artefact_io::DEFAULT_TIME_BUDGET),
            attributes_per_slice: 2,
            allow_shortfall: false,
            strict_audit: false,
            shard: None,
            dicom: false,
            timings: None,
        }
    }
}

/// A fixed, PUBLIC secret for tests, demos and tools that publish no keys. Keys under it can
/// be recomputed by anyone from a patient ID: builds never use it unless asked to
/// (`BuildOptions::key_secret`); by default they use a random per-build key ([`key_file`]).
pub const DEFAULT_KEY_SECRET: &[u8] =
    b"artefact default pseudonymisation key; set --key-secret for real data";

/// The private key file of the build in `out`: `<out>.artefact-key` BESIDE the output
/// directory (never inside the published tree). It holds the random 32-byte secret of the
/// pseudonymous keys; whoever has it can link subject keys to patient IDs. Never publish it.
pub fn key_file(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "artefact-out".into());
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    parent.join(format!("{name}.artefact-key"))
}

/// The secret to use for an existing build: `opts.key_secret` when set, else the build's key
/// file (an error naming it when it is missing or malformed).
pub fn resolve_secret(opts: &BuildOptions) -> Result<Vec<u8>, DatasetError> {
    if !opts.key_secret.is_empty() {
        return Ok(opts.key_secret.clone());
    }
    let kf = key_file(&opts.out);
    let text = std::fs::read_to_string(&kf).map_err(|e| {
        DatasetError::file(
            &kf,
            format!("cannot read the build's private key file ({e}); pass the --key-secret the build used"),
        )
    })?;
    let hex = text.trim();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(DatasetError::file(
            &kf,
            "not an artefact key file (64 hex digits expected)",
        ));
    }
    Ok(hex.as_bytes().to_vec())
}

/// A fresh random key (32 bytes from the operating system), as the 64 hex digits stored.
fn fresh_secret() -> Result<Vec<u8>, DatasetError> {
    use rand::TryRngCore;
    let mut k = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut k)
        .map_err(|e| DatasetError::Plan(format!("no randomness from the operating system: {e}")))?;
    Ok(k.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes())
}

/// Write the key file (owner read/write only on unix).
fn write_key_file(path: &Path, secret: &[u8]) -> Result<(), DatasetError> {
    let mut bytes = secret.to_vec();
    bytes.push(b'\n');
    write_atomic(path, &bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| DatasetError::file(path, e))?;
    }
    Ok(())
}

/// Remove temporary files a killed writer left in `dir` (recursively): `.<name>.tmp-<pid>`
/// and `.artefact-tmp-*`.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            remove_stale_temporaries(&p);
        } else if ft.is_file() {
            let n = e.file_name().to_string_lossy().to_string();
            let tmp = n.starts_with(".artefact-tmp-")
                || (n.starts_with('.')
                    && n.rsplit_once(".tmp-").is_some_and(|(_, pid)| {
                        !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit())
                    }));
            if tmp {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

pub use crate::info::BuildInfo;

/// Counts reported after a build.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub images: usize,
    pub clean_slices: usize,
    pub questions: usize,
    pub descriptions: usize,
    pub pairs: usize,
    pub skipped_sources: usize,
    pub band_missed: Vec<String>,
    pub images_per_split: std::collections::BTreeMap<String, usize>,
    pub reused: usize,
    /// What the recipe asked for and the images could not supply.
    pub shortfall: Vec<Shortfall>,
    /// Did the audit pass (see `audit.json`)?
    pub audit_passed: bool,
}

/// What a fresh build writes into its output directory (removed by `--force`).
const BUILD_OUTPUTS: [&str; 12] = [
    "images",
    "hf",
    "vlmevalkit",
    ".work",
    "manifest.jsonl",
    "perception.jsonl",
    "reasoning.jsonl",
    "pairs.jsonl",
    "skipped.jsonl",
    "summary.json",
    "build.json",
    "audit.json",
];

/// What a shard writes into its directory (removed by `--force`).
const SHARD_OUTPUTS: [&str; 3] = ["images", "records", SHARD_MANIFEST];

/// May the build write into `out`? Its `marker` file (`build.json` or `shard.json`) tells
/// whether it is an artefact output: `same(bytes)` is `None` for a file that is not one,
/// `Some(true)` when it is this build (so `--resume` may continue it). `--force` removes the
/// `outputs` of an earlier build and nothing else.
fn check_out_dir(
    out: &Path,
    opts: &BuildOptions,
    marker: &str,
    same: &dyn Fn(&[u8]) -> Option<bool>,
    outputs: &[&str],
) -> Result<(), DatasetError> {
    let err = |reason: String| DatasetError::Output {
        path: out.to_path_buf(),
        reason,
    };
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(err("exists and is not a directory".into()));
    }
    let empty = std::fs::read_dir(out)
        .map_err(|e| err(e.to_string()))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    let existing: Option<bool> = std::fs::read(out.join(marker)).ok().and_then(|b| same(&b));
    if opts.resume {
        return match existing {
            Some(true) => Ok(()),
            Some(false) => Err(err(format!("was built from another recipe, seed, attributes-per-slice{}; cannot resume (use --force to rebuild)", if opts.shard.is_some() { ", secret or shard" } else { "" }))),
            None => Err(err(format!("is not an artefact output (no {marker}); cannot resume"))),
        };
    }
    if !opts.force {
        return Err(err(
            "is not empty; use --force to replace an earlier build or --resume to continue one"
                .into(),
        ));
    }
    if existing.is_none() {
        return Err(err(format!(
            "is not empty and is not an artefact output (no {marker}); refusing to delete it"
        )));
    }
    for name in outputs {
        let p = out.join(name);
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else if p.exists() {
            std::fs::remove_file(&p)
        } else {
            Ok(())
        };
        r.map_err(|e| DatasetError::file(&p, e))?;
    }
    Ok(())
}

/// Load sources and pick slices (shared by `build` and `replay`).
pub fn slices_for(
    bench: &BenchmarkRecipe,
    opts: &BuildOptions,
) -> Result<(Vec<SourceSlice>, Vec<crate::source::Skipped>), DatasetError> {
    let secret = resolve_secret(opts)?;
    let limits = crate::source::SourceLimits {
        max_bytes: opts.max_bytes,
        time_budget: opts.source_timeout,
    };
    crate::source::collect_slices_with(bench, &secret, opts.keep_going, limits)
}

/// Build the dataset. `progress(done, total)` is called as samples finish.
///
/// With `opts.shard` set, only the shard's images are rendered, into
/// `<opts.out>/shard-<I>-of-<N>/` (see [`crate::shard`]); the returned summary then counts that
/// shard's images and slices, and `artefact merge` writes the exports.
pub fn build(
    bench: &BenchmarkRecipe,
    registry: &Registry,
    opts: &BuildOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Summary, DatasetError> {
    if opts.shard.is_some() && opts.key_secret.is_empty() {
        return Err(DatasetError::Plan(
            "a sharded build needs a secret shared by every shard: pass --key-secret (or set ARTEFACT_KEY_SECRET) or --key-file PATH; the random per-build key of a single build cannot be shared between machines".into(),
        ));
    }
    // the pseudonymisation secret: explicit, the resumed build's key file, or a fresh one
    let (secret, new_key) = if !opts.key_secret.is_empty() || opts.resume {
        (resolve_secret(opts)?, false)
    } else {
        (fresh_secret()?, true)
    };
    let mut with_secret = opts.clone();
    with_secret.key_secret = secret;
    let opts = &with_secret;
    let key = build_key(bench, opts.attributes_per_slice, &opts.key_secret);
    let names = DatasetNames::new(&bench.name, &key);
    let info = build_info(bench, opts.attributes_per_slice, &names);
    let key_fp = key_fingerprint(&opts.key_secret);
    let out = match opts.shard {
        Some(s) => s.dir(&opts.out),
        None => opts.out.clone(),
    };
    let out = &out;
    match opts.shard {
        None => check_out_dir(
            out,
            opts,
            "build.json",
            &|b| {
                serde_json::from_slice::<BuildInfo>(b).ok().map(|e| {
                    e.benchmark_hash == info.benchmark_hash
                        && e.seed == info.seed
                        && e.attributes_per_slice == info.attributes_per_slice
                })
            },
            &BUILD_OUTPUTS,
        )?,
        Some(spec) => check_out_dir(
            out,
            opts,
            SHARD_MANIFEST,
            &|b| {
                serde_json::from_slice::<ShardManifest>(b).ok().map(|e| {
                    e.build.benchmark_hash == info.benchmark_hash
                        && e.build.seed == info.seed
                        && e.build.attributes_per_slice == info.attributes_per_slice
                        && e.key_fingerprint == key_fp
                        && (e.shard, e.shards) == (spec.index, spec.count)
                })
            },
            &SHARD_OUTPUTS,
        )?,
    }
    if new_key {
        write_key_file(&key_file(out), &opts.key_secret)?;
    }
    if opts.resume {
        remove_stale_temporaries(out);
    }
    let clock = std::time::Instant::now();
    // read every source once to pick its slices; only their keys stay in memory, and each
    // source is loaded again, one at a time per worker, when its images are rendered
    let limits = crate::source::SourceLimits {
        max_bytes: opts.max_bytes,
        time_budget: opts.source_timeout,
    };
    let scan = crate::source::scan_sources(bench, &opts.key_secret, opts.keep_going, limits)?;
    let (slices, skipped) = (&scan.slices, &scan.skipped);
    if slices.is_empty() {
        return Err(DatasetError::Plan("no usable slice in any source".into()));
    }
    let timings = opts.timings.as_deref();
    if let Some(t) = timings {
        t.stage("load + prepare sources", clock);
    }
    let clock = std::time::Instant::now();
    let items = plan(bench, slices, opts.attributes_per_slice, &key);
    // what the plan can supply, before rendering (grades estimated from the severities)
    if !opts.allow_shortfall {
        let facts: Vec<ImageFacts> = items
            .iter()
            .map(|it| ImageFacts {
                id: it.id.clone(),
                split: it.split.clone(),
                modality: slices[it.slice].modality,
                attribute: it.attribute.map(|a| bench.attributes[a].name.clone()),
                severity: it.severity,
                grade: it.severity.default_grade(),
            })
            .collect();
        let (_, short) = make_questions(bench, &facts, &key);
        check_shortfall(&bench.path, &short, items.len())?;
    }
    std::fs::create_dir_all(out).map_err(|e| DatasetError::file(out, e))?;
    // this build's (or shard's) images, in plan order
    let mine: Vec<&PlannedImage> = match opts.shard {
        None => items.iter().collect(),
        Some(spec) => items
            .iter()
            .filter(|it| shard_of_slice(it.slice, spec.count) == spec.index)
            .collect(),
    };
    let records = match opts.shard {
        None => {
            write_atomic(
                &out.join("build.json"),
                &serde_json::to_vec_pretty(&info).expect("info"),
            )?;
            out.join(".work")
        }
        Some(spec) => {
            let manifest = ShardManifest {
                build: info.clone(),
                shard: spec.index,
                shards: spec.count,
                key_fingerprint: key_fp.clone(),
                plan_fingerprint: plan_fingerprint(
                    &key,
                    items.iter().map(|it| (it.id.as_str(), it.split.as_str())),
                ),
                planned: items.len(),
                clean_slices: slices.len(),
                skipped: skipped.clone(),
                allow_shortfall: opts.allow_shortfall,
                items: items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| shard_of_slice(it.slice, spec.count) == spec.index)
                    .map(|(index, it)| ShardItem {
                        index,
                        id: it.id.clone(),
                        split: it.split.clone(),
                    })
                    .collect(),
            };
            write_atomic(
                &out.join(SHARD_MANIFEST),
                &serde_json::to_vec_pretty(&manifest).expect("shard manifest"),
            )?;
            out.join("records")
        }
    };

    if let Some(t) = timings {
        t.stage("plan", clock);
    }
    let clock = std::time::Instant::now();
    let done = AtomicUsize::new(0);
    let reused = AtomicUsize::new(0);
    let total = mine.len();
    progress(0, total);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| DatasetError::Plan(format!("cannot start worker threads: {e}")))?;
    // this build's items grouped by source entry, in plan order (a slice's items are
    // consecutive in the plan, and so are an entry's slices)
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (pos, it) in mine.iter().enumerate() {
        let e = slices[it.slice].entry;
        match groups.last_mut() {
            Some((last, v)) if *last == e => v.push(pos),
            _ => groups.push((e, vec![pos])),
        }
    }
    // an item's work record and PNG
    let paths_of = |item: &PlannedImage| {
        let record = records.join(format!("{}.json", item.id));
        let png = out
            .join("images")
            .join(&item.split)
            .join(format!("{}.png", item.id));
        (record, png)
    };
    // where each entry's slices start (an entry's slices are consecutive)
    let mut first_slice = vec![0usize; scan.entries.len()];
    for (i, s) in slices.iter().enumerate().rev() {
        first_slice[s.entry] = i;
    }
    let render_one = |item: &PlannedImage,
                      sl: &SourceSlice,
                      clean: &OnceLock<Result<CleanView, String>>|
     -> Result<ManifestRow, DatasetError> {
        let (record, png_path) = paths_of(item);
        // one clean view per slice, computed by whichever sample needs it first (a pure
        // function of the slice, so the bytes do not depend on which thread computes it)
        let clean = clean
            .get_or_init(|| clean_view(bench, registry, sl).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| DatasetError::Plan(e.clone()))?;
        let started = std::time::Instant::now();
        let r = render_image(bench, registry, sl, clean, item)?;
        let rendered = std::time::Instant::now();
        let (mut row, png) = (r.row, r.png);
        write_replace(&png_path, &png)?;
        if opts.dicom {
            row.dicom_file = dicom_copy(out, &row, &r.image, &r.display, &bench.hash)?;
        }
        write_replace(&record, &serde_json::to_vec(&row).expect("row"))?;
        if let Some(t) = timings {
            let name = row
                .attribute
                .as_ref()
                .map(|a| format!("{} {a}", row.modality));
            t.rendered(name.as_deref(), rendered - started);
            t.wrote(rendered.elapsed());
        }
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        Ok(row)
    };
    // one source entry: reuse what a killed build finished, load the source, render the rest
    let render_entry = |(entry, positions): &(usize, Vec<usize>)| {
        let mut out_rows: Vec<(usize, Result<ManifestRow, DatasetError>)> = Vec::new();
        let mut todo = Vec::new();
        for &pos in positions {
            let item = mine[pos];
            if opts.resume {
                let (record, png_path) = paths_of(item);
                if let Some(row) = reuse(&record, &png_path) {
                    reused.fetch_add(1, Ordering::Relaxed);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    out_rows.push((pos, Ok(row)));
                    continue;
                }
            }
            todo.push(pos);
        }
        if todo.is_empty() {
            return out_rows;
        }
        let first = first_slice[*entry];
        let infos: Vec<&crate::source::SliceInfo> = slices[first..]
            .iter()
            .take_while(|s| s.entry == *entry)
            .collect();
        let loaded_at = std::time::Instant::now();
        let loaded = crate::source::load_entry(
            bench,
            &scan.entries[*entry],
            &infos,
            &opts.key_secret,
            limits,
        );
        if let Some(t) = timings {
            t.reloaded(loaded_at.elapsed());
        }
        let loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                out_rows.push((todo[0], Err(e)));
                return out_rows;
            }
        };
        let cleans: Vec<OnceLock<Result<CleanView, String>>> =
            loaded.iter().map(|_| OnceLock::new()).collect();
        let rendered: Vec<(usize, Result<ManifestRow, DatasetError>)> = todo
            .par_iter()
            .map(|&pos| {
                let item = mine[pos];
                let k = item.slice - first;
                (pos, render_one(item, &loaded[k], &cleans[k]))
            })
            .collect();
        out_rows.extend(rendered);
        out_rows
    };
    let mut indexed: Vec<(usize, Result<ManifestRow, DatasetError>)> = pool.install(|| {
        groups
            .par_iter()
            .flat_map_iter(|g| render_entry(g).into_iter())
            .collect()
    });
    indexed.sort_by_key(|(pos, _)| *pos);
    let rows: Vec<Result<ManifestRow, DatasetError>> =
        indexed.into_iter().map(|(_, r)| r).collect();
    let rows: Vec<ManifestRow> = rows.into_iter().collect::<Result<_, _>>()?;
    let reused = reused.load(Ordering::Relaxed);
    if opts.shard.is_some() {
        let mut shard_slices: Vec<usize> = mine.iter().map(|it| it.slice).collect();
        shard_slices.dedup();
        let mut summary = Summary {
            images: rows.len(),
            clean_slices: shard_slices.len(),
            skipped_sources: skipped.len(),
            reused,
            ..Summary::default()
        };
        for r in &rows {
            *summary.images_per_split.entry(r.split.clone()).or_default() += 1;
        }
        return Ok(summary);
    }
    let tail = Tail {
        out,
        bench,
        key: &key,
        names: &names,
        clean_slices: slices.len(),
        skipped,
        allow_shortfall: opts.allow_shortfall,
    };
    if let Some(t) = timings {
        t.stage("render + write images", clock);
    }
    let clock = std::time::Instant::now();
    let (mut summary, report) = finish(&tail, rows)?;
    let _ = std::fs::remove_dir_all(&records);
    if let Some(t) = timings {
        t.stage("questions, exports, audit", clock);
    }
    summary.reused = reused;
    fail_strict(opts.strict_audit, out, &report)?;
    Ok(summary)
}

/// The `build.json` of a build.
fn build_info(
    bench: &BenchmarkRecipe,
    attributes_per_slice: usize,
    names: &DatasetNames,
) -> BuildInfo {
    BuildInfo {
        benchmark: bench.name.clone(),
        benchmark_path: bench.path.clone(),
        benchmark_hash: bench.hash.clone(),
        seed: bench.seed,
        attributes_per_slice,
        tool_version: TOOL_VERSION.to_string(),
        dataset_prefix: names.prefix.clone(),
    }
}

/// What the tail of a build needs besides the rendered rows: shared by [`build`] and
/// [`crate::merge::merge`], so a merged tree is written by the same code as a single build.
pub(crate) struct Tail<'a> {
    /// The output tree (its `images/` already complete).
    pub out: &'a Path,
    pub bench: &'a BenchmarkRecipe,
    /// The build key ([`build_key`]).
    pub key: &'a str,
    pub names: &'a DatasetNames,
    pub clean_slices: usize,
    pub skipped: &'a [Skipped],
    pub allow_shortfall: bool,
}

/// The tail of a build: from the rendered rows (in plan order) make the questions,
/// descriptions and pairs, shuffle every table with the seed, write the exports, tables,
/// audit and summary into `tail.out`.
pub(crate) fn finish(
    tail: &Tail,
    mut rows: Vec<ManifestRow>,
) -> Result<(Summary, crate::audit::AuditReport), DatasetError> {
    let (bench, key, out) = (tail.bench, tail.key, tail.out);
    let facts: Vec<ImageFacts> = rows.iter().map(ImageFacts::of).collect();
    let (mut questions, mut shortfall) = make_questions(bench, &facts, key);
    let mut descriptions = make_descriptions(bench, &rows, key);
    let (mut pairs, pair_short) = make_pairs(bench, &rows, key);
    shortfall.extend(pair_short);
    if !tail.allow_shortfall {
        check_shortfall(&bench.path, &shortfall, rows.len())?;
    }
    for s in &shortfall {
        eprintln!(
            "shortfall: {} of {} {} {} in split `{}` (the images cannot supply more; see summary.json)",
            s.made,
            s.requested,
            s.kind,
            if matches!(s.kind.as_str(), "coarse" | "fine") { "pairs" } else { "questions" },
            s.split
        );
    }
    // row order carries nothing: every table in a seeded random order, indices after it
    shuffle_rows(&mut rows, bench.seed, "manifest", |r| {
        (
            String::new(),
            vec![
                r.severity.to_string(),
                r.attribute.clone().unwrap_or_default(),
                r.quality_grade.to_string(),
            ],
        )
    });
    shuffle_rows(&mut questions, bench.seed, "perception", |q| {
        (
            format!("{}/{}", q.split, q.question_type),
            vec![
                q.answer.clone(),
                q.level.to_string(),
                q.question_type.clone(),
                q.modality.clone(),
                q.category.clone(),
            ],
        )
    });
    shuffle_rows(&mut descriptions, bench.seed, "reasoning", |d| {
        (
            d.split.clone(),
            vec![
                d.level.to_string(),
                d.quality_grade.to_string(),
                d.modality.clone(),
            ],
        )
    });
    shuffle_rows(&mut pairs, bench.seed, "pairs", |p| {
        (
            p.split.clone(),
            vec![p.better.clone(), p.kind.clone(), p.modality.clone()],
        )
    });
    for (i, q) in questions.iter_mut().enumerate() {
        q.index = i;
    }
    for (i, d) in descriptions.iter_mut().enumerate() {
        d.index = i;
    }
    for (i, p) in pairs.iter_mut().enumerate() {
        p.index = i;
    }
    let splits: Vec<String> = bench.splits.iter().map(|(n, _)| n.clone()).collect();
    write_exports(
        out,
        &splits,
        &rows,
        &questions,
        &descriptions,
        &pairs,
        tail.names,
    )?;
    write_jsonl(&out.join("manifest.jsonl"), &rows)?;
    write_jsonl(&out.join("perception.jsonl"), &questions)?;
    write_jsonl(&out.join("reasoning.jsonl"), &descriptions)?;
    write_jsonl(&out.join("pairs.jsonl"), &pairs)?;
    if !tail.skipped.is_empty() {
        write_jsonl(&out.join("skipped.jsonl"), tail.skipped)?;
    }
    let mut summary = Summary {
        images: rows.len(),
        clean_slices: tail.clean_slices,
        questions: questions.len(),
        descriptions: descriptions.len(),
        pairs: pairs.len(),
        skipped_sources: tail.skipped.len(),
        band_missed: rows
            .iter()
            .filter(|r| r.band.as_ref().is_some_and(|b| !b.met))
            .map(|r| r.id.clone())
            .collect(),
        reused: 0,
        shortfall,
        ..Summary::default()
    };
    for r in &rows {
        *summary.images_per_split.entry(r.split.clone()).or_default() += 1;
    }
    // the audit reads the tables back from the files: the build's own copies go first
    drop((rows, questions, descriptions, pairs));
    let report = audit(out)?;
    write_atomic(
        &out.join("audit.json"),
        &serde_json::to_vec_pretty(&report).expect("audit"),
    )?;
    summary.audit_passed = report.passed;
    write_atomic(
        &out.join("summary.json"),
        &serde_json::to_vec_pretty(&summary).expect("summary"),
    )?;
    Ok((summary, report))
}

/// With `strict`, an error when the audit failed.
pub(crate) fn fail_strict(
    strict: bool,
    out: &Path,
    report: &crate::audit::AuditReport,
) -> Result<(), DatasetError> {
    if strict && !report.passed {
        return Err(DatasetError::Output {
            path: out.to_path_buf(),
            reason: format!(
                "the audit failed (--strict): {}; see audit.json",
                report.failures().join("; ")
            ),
        });
    }
    Ok(())
}

/// Fail when questions or pairs fall short of the recipe's counts.
fn check_shortfall(
    recipe: &std::path::Path,
    short: &[Shortfall],
    images: usize,
) -> Result<(), DatasetError> {
    if short.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = short
        .iter()
        .map(|s| {
            format!(
                "{} {} of {} requested in split `{}`",
                s.made, s.kind, s.requested, s.split
            )
        })
        .collect();
    Err(DatasetError::Plan(format!(
        "{}: the {images} planned images can supply only: {} (each image gets at most one `what` and one `how` question, no (image, question) twice, answers balanced). Lower the counts in the benchmark recipe, add sources or slices, or pass --allow-shortfall to write what can be made",
        recipe.display(),
        list.join(", ")
    )))
}

/// Shuffle `rows` with the build seed. `labels(row)` gives the row's group (e.g. split and
/// question type: each group becomes its own file or table) and its label columns. Of a few
/// seeded permutations the one whose order predicts the label columns least — in the whole
/// table and within every group, by the audit's order rules — is kept, so small tables do not
/// show a chance pattern either. Deterministic.
fn shuffle_rows<T>(
    rows: &mut Vec<T>,
    seed: u64,
    table: &str,
    labels: impl Fn(&T) -> (String, Vec<String>),
) {
    let n = rows.len();
    if n < 2 {
        return;
    }
    let mut best: Option<(f64, Vec<usize>)> = None;
    for t in 0..16 {
        let mut perm: Vec<usize> = (0..n).collect();
        let mut rng = Seed::derive(seed, &format!("order/{table}/{t}")).rng();
        perm.shuffle(&mut rng);
        let cols: Vec<(String, Vec<String>)> = perm.iter().map(|&i| labels(&rows[i])).collect();
        let whole: Vec<Vec<String>> = cols.iter().map(|c| c.1.clone()).collect();
        let mut score = crate::audit::order_leak(&whole);
        let mut groups: std::collections::BTreeMap<&str, Vec<Vec<String>>> = Default::default();
        for (g, c) in &cols {
            groups.entry(g.as_str()).or_default().push(c.clone());
        }
        if groups.len() > 1 {
            for g in groups.values() {
                score = score.max(crate::audit::order_leak(g));
            }
        }
        if best.as_ref().is_none_or(|b| score < b.0) {
            best = Some((score, perm));
        }
    }
    let (_, perm) = best.expect("permutations");
    let mut slots: Vec<Option<T>> = rows.drain(..).map(Some).collect();
    for i in perm {
        rows.push(slots[i].take().expect("a permutation"));
    }
}

fn reuse(record: &Path, png: &Path) -> Option<ManifestRow> {
    let row: ManifestRow = serde_json::from_slice(&std::fs::read(record).ok()?).ok()?;
    let bytes = std::fs::read(png).ok()?;
    // a DICOM copy is written before the record: present whenever the record names it
    let out = png.parent()?.parent()?.parent()?;
    if let Some(d) = &row.dicom_file {
        if !out.join(d).is_file() {
            return None;
        }
    }
    (artefact_recipe::content_hash(&bytes) == row.png_sha256).then_some(row)
}

/// The DICOM copy of an image (`build --dicom`): `dicom/<split>/<id>.dcm`. A grey image is a
/// Multi-frame Grayscale Word Secondary Capture at the output size in source units (HU for
/// CT, [`artefact_io::write_dicom`]); a colour photograph a Multi-frame True Color Secondary
/// Capture holding the PNG's sRGB bytes ([`artefact_io::write_dicom_rgb`]). Model-facing like
/// the PNG, so it says nothing of the answer: the Derivation Description is the same for
/// every image, the UIDs follow from the image id, the PNG's hash and the benchmark, nothing
/// of the source header is copied.
pub fn dicom_copy(
    out: &Path,
    row: &ManifestRow,
    image: &artefact_core::Picture,
    display: &crate::render::Shown,
    benchmark_hash: &str,
) -> Result<Option<String>, DatasetError> {
    let rel = format!("dicom/{}/{}.dcm", row.split, row.id);
    let path = out.join(&rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::file(dir, e))?;
    }
    let derivation = artefact_io::DicomDerivation {
        description: format!("{TOOL_VERSION}: benchmark image"),
        uid_seed: format!("{benchmark_hash}\0{}\0{}", row.id, row.png_sha256),
    };
    match image {
        artefact_core::Picture::Grey(img) => {
            let vol =
                artefact_core::Volume::of_slice(img).map_err(|e| DatasetError::file(&path, e))?;
            artefact_io::write_dicom(&path, &vol, &derivation)?;
        }
        artefact_core::Picture::Colour(img) => {
            // the PNG's bytes
            let shown = crate::render::to_u8(display);
            let (rows, cols, _) = shown.dim();
            let samples: Vec<u8> = shown.iter().copied().collect();
            let srgb = artefact_io::Srgb8 {
                rows,
                cols,
                samples: &samples,
                spacing: img.spacing,
                modality: img.modality,
            };
            artefact_io::write_dicom_rgb(&path, &srgb, &derivation)?;
        }
    }
    Ok(Some(rel))
}

/// One no-reference description per image.
pub fn make_descriptions(
    bench: &BenchmarkRecipe,
    rows: &[ManifestRow],
    build_key: &str,
) -> Vec<Description> {
    rows.iter()
        .map(|r| {
            let modality: Modality = r.modality.parse().unwrap_or(Modality::Other);
            let attr = r.attribute.as_ref().and_then(|n| {
                bench
                    .attributes
                    .iter()
                    .find(|a| &a.name == n && a.modality == modality)
            });
            let mut rng = Seed::derive(bench.seed, &format!("describe/{}", r.sample_key)).rng();
            let p = phrase(modality, attr, r.severity, &mut rng);
            Description {
                index: 0,
                id: opaque_id(build_key, "description", &r.id),
                image_id: r.id.clone(),
                split: r.split.clone(),
                modality: r.modality.clone(),
                level: r.severity,
                quality_grade: r.quality_grade,
                attribute: r.attribute.clone(),
                description: describe(
                    modality,
                    r.anatomy.as_deref(),
                    &p,
                    r.quality_grade,
                    &mut rng,
                ),
            }
        })
        .collect()
}
