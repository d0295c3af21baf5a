//! `merge`: turn the shard directories of a sharded build ([`crate::shard`]) into the build.
//!
//! The shards are checked to be one complete build — the same recipe, seed, tool version,
//! secret (by fingerprint) and plan on every shard, every shard index `0..N` exactly once, every
//! planned image in exactly one shard, each PNG equal to the hash its record states — and the
//! merge refuses otherwise, naming the shard directory. The images are copied (or hard-linked)
//! into a temporary sibling of the output, the rows are put back in plan order and the tail of
//! [`crate::build()`] (`build::finish`, the same code) writes the exports, tables,
//! audit and summary; the finished tree is then renamed to the output. So the merged tree is
//! byte-identical to a single-machine build of the same recipe, seed and secret, and a failed
//! merge leaves no output.

use crate::build::{fail_strict, finish, BuildInfo, Summary, Tail};
use crate::error::DatasetError;
use crate::export::DatasetNames;
use crate::fsutil::write_atomic;
use crate::generate::{ManifestRow, TOOL_VERSION};
use crate::plan::build_key;
use crate::shard::{key_fingerprint, plan_fingerprint, read_shard, ShardItem, ShardManifest};
use artefact_recipe::BenchmarkRecipe;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// How to merge.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// The output directory (must not exist, or be empty, or — with `force` — hold an earlier
    /// artefact build, which is replaced once the merged tree is complete).
    pub out: PathBuf,
    /// The secret the shards were built with (checked against their key fingerprint).
    pub key_secret: Vec<u8>,
    /// Hard-link the images instead of copying them (falls back to a copy across file systems).
    pub link: bool,
    /// Replace an earlier artefact build in `out`.
    pub force: bool,
    /// Fail (and write nothing) when the audit of the merged build fails.
    pub strict_audit: bool,
}

impl MergeOptions {
    pub fn new(out: impl Into<PathBuf>, key_secret: Vec<u8>) -> MergeOptions {
        MergeOptions {
            out: out.into(),
            key_secret,
            link: false,
            force: false,
            strict_audit: false,
        }
    }
}

/// The shard directories in `dirs`: each one itself when it holds a `shard.json`, else its
/// `shard-*-of-*` subdirectories (so `merge SHARDS_DIR` finds every shard a build wrote there).
pub fn expand_shard_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        if d.join(crate::shard::SHARD_MANIFEST).exists() {
            out.push(d.clone());
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_dir()
                    && p.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        n.starts_with("shard-") && n.contains("-of-")
                    })
            })
            .collect();
        if subs.is_empty() {
            // left as given: reading it names the missing manifest
            out.push(d.clone());
        } else {
            subs.sort();
            out.append(&mut subs);
        }
    }
    out
}

/// The first field in which shard manifest `b` differs from `a` (as a build), if any.
fn differs(a: &ShardManifest, b: &ShardManifest) -> Option<&'static str> {
    let (x, y): (&BuildInfo, &BuildInfo) = (&a.build, &b.build);
    [
        (x.benchmark_hash != y.benchmark_hash, "benchmark recipe"),
        (x.seed != y.seed, "seed"),
        (
            x.attributes_per_slice != y.attributes_per_slice,
            "attributes per slice",
        ),
        (x.tool_version != y.tool_version, "tool version"),
        (a.key_fingerprint != b.key_fingerprint, "secret"),
        (a.shards != b.shards, "number of shards"),
        (
            a.plan_fingerprint != b.plan_fingerprint
                || a.planned != b.planned
                || a.clean_slices != b.clean_slices,
            "plan (the sources differ)",
        ),
        (a.skipped != b.skipped, "skipped sources"),
        (a.allow_shortfall != b.allow_shortfall, "--allow-shortfall"),
        (x != y, "recipe path or dataset name"),
    ]
    .into_iter()
    .find_map(|(d, what)| d.then_some(what))
}

/// Check the shards in `shard_dirs` are one complete build of `bench` and write it to
/// `opts.out` (see the module documentation). Returns the build's summary.
pub fn merge(
    bench: &BenchmarkRecipe,
    shard_dirs: &[PathBuf],
    opts: &MergeOptions,
) -> Result<Summary, DatasetError> {
    if opts.key_secret.is_empty() {
        return Err(DatasetError::Plan(
            "merge needs the secret the shards were built with: pass --key-secret (or set ARTEFACT_KEY_SECRET) or --key-file PATH".into(),
        ));
    }
    if shard_dirs.is_empty() {
        return Err(DatasetError::Plan("no shard directory given".into()));
    }
    let shards: Vec<(&Path, ShardManifest)> = shard_dirs
        .iter()
        .map(|d| read_shard(d).map(|m| (d.as_path(), m)))
        .collect::<Result<_, _>>()?;
    let (first_dir, first) = (&shards[0].0, &shards[0].1);
    for (d, m) in &shards[1..] {
        if let Some(what) = differs(first, m) {
            return Err(DatasetError::file(
                d,
                format!(
                    "belongs to another build than {} (the {what} differs)",
                    first_dir.display()
                ),
            ));
        }
    }
    // every shard index exactly once
    let n = first.shards;
    let mut by_index: Vec<Option<&Path>> = vec![None; n];
    for (d, m) in &shards {
        if m.shard >= n {
            return Err(DatasetError::file(
                d,
                format!("shard index {} is out of range for {n} shards", m.shard),
            ));
        }
        if let Some(other) = by_index[m.shard] {
            return Err(DatasetError::file(
                d,
                format!(
                    "is shard {}/{n} like {}: every shard must be given exactly once",
                    m.shard,
                    other.display()
                ),
            ));
        }
        by_index[m.shard] = Some(d);
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| by_index[i].is_none())
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(DatasetError::Plan(format!(
            "shard{} {} of this build (from {}) {} missing; give every shard-<I>-of-{n} directory",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            first_dir.display(),
            if missing.len() > 1 { "are" } else { "is" }
        )));
    }
    // the recipe, tool and secret are the shards'
    let info = &first.build;
    if bench.hash != info.benchmark_hash || bench.seed != info.seed {
        return Err(DatasetError::file(
            &bench.path,
            format!(
                "is not the benchmark recipe the shards in {} were built from (its content, an attribute recipe or the seed differs); pass the recipe they used",
                first_dir.display()
            ),
        ));
    }
    if info.tool_version != TOOL_VERSION {
        return Err(DatasetError::file(
            first_dir,
            format!(
                "was built by {}, this is {TOOL_VERSION}: merge with the same version",
                info.tool_version
            ),
        ));
    }
    if key_fingerprint(&opts.key_secret) != first.key_fingerprint {
        return Err(DatasetError::file(
            first_dir,
            "was built with another secret (the key fingerprints differ): pass the secret the shards used",
        ));
    }
    let key = build_key(bench, info.attributes_per_slice, &opts.key_secret);
    let names = DatasetNames::new(&bench.name, &key);
    // every planned image in exactly one shard, and the plan is the one fingerprinted
    let mut slots: Vec<Option<(&Path, &ShardItem)>> = vec![None; first.planned];
    for (d, m) in &shards {
        for it in &m.items {
            let slot = slots.get_mut(it.index).ok_or_else(|| {
                DatasetError::file(
                    d,
                    format!(
                        "image {} has plan index {} beyond the {} planned",
                        it.id, it.index, first.planned
                    ),
                )
            })?;
            if let Some((other, _)) = slot {
                return Err(DatasetError::file(
                    d,
                    format!("image {} is also in {}", it.id, other.display()),
                ));
            }
            *slot = Some((d, it));
        }
    }
    let absent = slots.iter().filter(|s| s.is_none()).count();
    if absent > 0 {
        return Err(DatasetError::Plan(format!(
            "{absent} of the {} planned images are in no shard directory (the shard manifests are incomplete)",
            first.planned
        )));
    }
    let slots: Vec<(&Path, &ShardItem)> = slots.into_iter().flatten().collect();
    let fp = plan_fingerprint(
        &key,
        slots
            .iter()
            .map(|(_, it)| (it.id.as_str(), it.split.as_str())),
    );
    if fp != first.plan_fingerprint || names.prefix != info.dataset_prefix {
        return Err(DatasetError::file(
            first_dir,
            "the shard manifests do not describe the plan they fingerprint (edited or from several builds)",
        ));
    }
    check_merge_out(opts)?;

    // the tree is written beside the output and renamed into place when complete
    let out = &opts.out;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| DatasetError::file(out, "not a directory name"))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| DatasetError::file(&parent, e))?;
    let tmp = parent.join(format!(".{name}.artefact-merge-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| DatasetError::file(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| DatasetError::file(&tmp, e))?;
    let result = (|| {
        let rows: Vec<ManifestRow> = slots
            .par_iter()
            .map(|(d, it)| take_image(d, it, &tmp, opts.link))
            .collect::<Result<_, _>>()?;
        write_atomic(
            &tmp.join("build.json"),
            &serde_json::to_vec_pretty(info).expect("info"),
        )?;
        let tail = Tail {
            out: &tmp,
            bench,
            key: &key,
            names: &names,
            clean_slices: first.clean_slices,
            skipped: &first.skipped,
            allow_shortfall: first.allow_shortfall,
        };
        let (summary, report) = finish(&tail, rows)?;
        fail_strict(opts.strict_audit, out, &report)?;
        check_merge_out(opts)?;
        if out.exists() {
            std::fs::remove_dir_all(out).map_err(|e| DatasetError::file(out, e))?;
        }
        std::fs::rename(&tmp, out).map_err(|e| DatasetError::file(out, e))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// May the merge write `opts.out`? (Absent, empty, or an artefact build with `force`.)
fn check_merge_out(opts: &MergeOptions) -> Result<(), DatasetError> {
    let out = &opts.out;
    let err = |reason: &str| DatasetError::Output {
        path: out.clone(),
        reason: reason.into(),
    };
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(err("exists and is not a directory"));
    }
    let empty = std::fs::read_dir(out)
        .map_err(|e| err(&e.to_string()))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    if !opts.force {
        return Err(err("is not empty; use --force to replace an earlier build"));
    }
    if !out.join("build.json").is_file() {
        return Err(err(
            "is not empty and is not an artefact output (no build.json); refusing to delete it",
        ));
    }
    Ok(())
}

/// Read the record of image `it` in shard `dir`, check its PNG against the recorded hash and
/// put the PNG into the tree `tmp`; returns the manifest row.
fn take_image(
    dir: &Path,
    it: &ShardItem,
    tmp: &Path,
    link: bool,
) -> Result<ManifestRow, DatasetError> {
    let record = dir.join("records").join(format!("{}.json", it.id));
    let bytes = std::fs::read(&record).map_err(|e| {
        DatasetError::file(
            dir,
            format!(
                "image {} is not rendered ({e}); finish the shard (build --resume)",
                it.id
            ),
        )
    })?;
    let row: ManifestRow = serde_json::from_slice(&bytes)
        .map_err(|e| DatasetError::file(&record, format!("not an image record ({e})")))?;
    let rel = format!("images/{}/{}.png", it.split, it.id);
    if row.id != it.id || row.split != it.split || row.file_name != rel {
        return Err(DatasetError::file(
            &record,
            format!("the record is not the one of image {}", it.id),
        ));
    }
    let src = dir.join(&rel);
    let png = std::fs::read(&src).map_err(|e| DatasetError::file(&src, e))?;
    if artefact_recipe::content_hash(&png) != row.png_sha256 {
        return Err(DatasetError::file(
            &src,
            "the image does not match the hash in its record (damaged or changed after rendering)",
        ));
    }
    let dst = tmp.join(&rel);
    if link {
        crate::fsutil::link_or_copy(&src, &dst)?;
    } else {
        crate::fsutil::write_replace(&dst, &png)?;
    }
    // the DICOM copy (build --dicom) goes along
    if let Some(d) = &row.dicom_file {
        if *d != format!("dicom/{}/{}.dcm", it.split, it.id) {
            return Err(DatasetError::file(
                &record,
                format!("the record is not the one of image {}", it.id),
            ));
        }
        let (src, dst) = (dir.join(d), tmp.join(d));
        if link {
            crate::fsutil::link_or_copy(&src, &dst)?;
        } else {
            let bytes = std::fs::read(&src).map_err(|e| DatasetError::file(&src, e))?;
            crate::fsutil::write_replace(&dst, &bytes)?;
        }
    }
    Ok(row)
}
