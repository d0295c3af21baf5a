//! `artefact build [BENCHMARK.toml] -o DIR`: build a dataset (default: the bundled demo).
//!
//! `--shard I/N` (0-based I) renders one shard into `DIR/shard-I-of-N/` for `artefact merge`;
//! without it the shard comes from a Slurm array task or a Kubernetes Indexed Job
//! ([`shard_from_env`]).

use artefact_dataset::{build, BuildOptions, ShardSpec};
use artefact_recipe::{BenchmarkRecipe, RecipeLibrary, Registry};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Benchmark recipe (default: recipes/benchmarks/demo.toml, the demo on the bundled files).
    pub recipe: Option<PathBuf>,
    /// Output directory.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Worker threads (0 = one per core). The output bytes do not depend on it.
    #[arg(short, long, default_value_t = 0)]
    pub jobs: usize,
    /// Replace an earlier artefact build in the output directory.
    #[arg(long)]
    pub force: bool,
    /// Continue a killed build in the output directory (finished samples are kept).
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Skip unreadable sources (listed in skipped.jsonl) instead of stopping.
    #[arg(long)]
    pub keep_going: bool,
    /// Secret for the pseudonymous source keys (never written), for keys linkable across
    /// builds. Default: a random per-build key kept in `<OUT>.artefact-key` beside the output
    /// directory (reused by --resume and replay; NEVER publish that file).
    #[arg(long, env = "ARTEFACT_KEY_SECRET", hide_env_values = true)]
    pub key_secret: Option<String>,
    /// Read the secret from this private file instead (e.g. made by `openssl rand -hex 32`;
    /// not readable by other users). Wins over --key-secret and ARTEFACT_KEY_SECRET.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Render only shard I of N (I from 0 to N-1) into OUT/shard-I-of-N/, then join the
    /// shards with `artefact merge`. Needs --key-secret or --key-file, the same on every
    /// shard. Default: from a Slurm array task (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN,
    /// SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with
    /// ARTEFACT_SHARD_COUNT set to the job's completions).
    #[arg(long, value_name = "I/N", value_parser = ShardSpec::parse)]
    pub shard: Option<ShardSpec>,
    /// Ignore the Slurm and Kubernetes variables: a whole build even inside an array task.
    #[arg(long, conflicts_with = "shard")]
    pub no_shard: bool,
    /// Memory budget per source, e.g. 2G, 512M or a number of bytes (default: half of the
    /// available memory, capped). A source needing more is refused (skipped with --keep-going).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_memory: Option<u64>,
    /// Time budget in seconds for loading one source (file or series); a source that takes
    /// longer is abandoned (skipped with --keep-going). 0: no budget.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub source_timeout: u64,
    /// Attributes rendered (mild and severe) per clean slice.
    #[arg(long, default_value_t = 2)]
    pub attributes_per_slice: usize,
    /// When the images cannot supply the questions or pairs the recipe asks for, write what
    /// can be made and report the shortfall (stderr and summary.json) instead of stopping.
    #[arg(long)]
    pub allow_shortfall: bool,
    /// Fail the build when its audit (audit.json) fails.
    #[arg(long)]
    pub strict: bool,
    /// Also write every image as DICOM, `dicom/<split>/<id>.dcm` (Secondary Capture: grey in
    /// source units, e.g. HU, colour as the PNG's sRGB; nothing of the source header, nothing
    /// of the answer).
    #[arg(long)]
    pub dicom: bool,
    /// Print where the time went (per stage, per attribute) to stderr when done.
    #[arg(long)]
    pub timings: bool,
}

/// `--source-timeout SECS` as a time budget (0: none).
pub fn time_budget(secs: u64) -> Option<std::time::Duration> {
    (secs > 0).then(|| std::time::Duration::from_secs(secs))
}

/// `2G`, `512M`, `64K` or plain bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("`{s}`: unknown unit (use K, M, G or T)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 2G, 512M or 1048576"))?;
    n.checked_mul(mult)
        .filter(|v| *v >= 1 << 20)
        .ok_or_else(|| format!("`{s}`: the budget must be between 1M and 16E"))
}

/// Where the demo benchmark sits in a recipe folder.
const DEMO: &str = "benchmarks/demo.toml";

/// Load the given benchmark recipe, its attribute names resolved against `library`; without
/// one, the library's demo benchmark (`benchmarks/demo.toml`; the bundled demo reads the
/// checkout's tests/data, so it is read as `./recipes/benchmarks/demo.toml` and its sources
/// resolve from the current directory). Prints the error and returns `None`.
pub fn load_benchmark(
    recipe: Option<&std::path::Path>,
    registry: &Registry,
    library: &RecipeLibrary,
) -> Option<BenchmarkRecipe> {
    let loaded = match (recipe, library) {
        (Some(path), _) => BenchmarkRecipe::load_with(path, registry, library),
        (None, RecipeLibrary::Dir(d)) => {
            BenchmarkRecipe::load_with(&d.join(DEMO), registry, library)
        }
        (None, RecipeLibrary::Bundled) => library.read(DEMO).and_then(|src| {
            let shown = PathBuf::from("recipes").join(DEMO);
            BenchmarkRecipe::parse_with(&src, &shown, registry, library)
        }),
    };
    loaded.map_err(|e| eprintln!("error: {e}")).ok()
}

/// The shard of a Slurm array task or Kubernetes Indexed Job, from the environment (`var`),
/// with a sentence naming the variables used; `None` outside both.
///
/// - Slurm: `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT` (the
///   array must be contiguous: no step, no gaps, e.g. `--array=0-3` or `--array=1-4`).
/// - Kubernetes: `JOB_COMPLETION_INDEX` of `ARTEFACT_SHARD_COUNT` (Kubernetes does not export
///   the completions count: set it in the pod template, equal to `spec.completions`).
pub fn shard_from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<(ShardSpec, String)>, String> {
    let num = |name: &str| -> Result<Option<usize>, String> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Some)
                .map_err(|_| format!("{name}=`{v}` is not a whole number")),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm older than 17.11?); pass --shard I/N",
        )?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        if num("SLURM_ARRAY_TASK_STEP")?.is_some_and(|s| s != 1) {
            return Err("the Slurm array has a step; use a contiguous array (e.g. --array=0-3) or pass --shard I/N".into());
        }
        if let Some(max) = num("SLURM_ARRAY_TASK_MAX")? {
            if max < min || max - min + 1 != count {
                return Err(format!("the Slurm array {min}-{max} has {count} tasks, not {}: use a contiguous array (e.g. --array=0-3) or pass --shard I/N", max.saturating_sub(min) + 1));
            }
        }
        let index = id.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
        })?;
        let spec = ShardSpec::new(index, count).map_err(|e| format!("Slurm array: {e}"))?;
        return Ok(Some((
            spec,
            format!("SLURM_ARRAY_TASK_ID={id} − SLURM_ARRAY_TASK_MIN={min} of SLURM_ARRAY_TASK_COUNT={count}"),
        )));
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let count = num("ARTEFACT_SHARD_COUNT")?.ok_or(
            "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but ARTEFACT_SHARD_COUNT is not: set it to the job's completions in the pod template, or pass --shard I/N (or --no-shard)",
        )?;
        let spec =
            ShardSpec::new(index, count).map_err(|e| format!("Kubernetes Indexed Job: {e}"))?;
        return Ok(Some((
            spec,
            format!("JOB_COMPLETION_INDEX={index} of ARTEFACT_SHARD_COUNT={count}"),
        )));
    }
    Ok(None)
}

/// The secret from `--key-file`, else `--key-secret` / `ARTEFACT_KEY_SECRET` (empty: none).
/// Prints the error and returns `None`.
pub fn secret_of(key_file: Option<&std::path::Path>, key_secret: Option<&str>) -> Option<Vec<u8>> {
    match (key_file, key_secret) {
        (Some(p), _) => artefact_dataset::shard::read_key_file(p)
            .map_err(|e| eprintln!("error: {e}"))
            .ok(),
        (None, Some(s)) => Some(s.as_bytes().to_vec()),
        (None, None) => Some(Vec::new()),
    }
}

pub fn run(args: &BuildArgs, registry: &Registry, library: &RecipeLibrary) -> u8 {
    let shard = if let Some(s) = args.shard {
        eprintln!("shard {s} (from --shard)");
        Some(s)
    } else if args.no_shard {
        None
    } else {
        match shard_from_env(|k| std::env::var(k).ok()) {
            Ok(Some((s, source))) => {
                eprintln!("shard {s} (from {source})");
                Some(s)
            }
            Ok(None) => None,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    };
    let Some(secret) = secret_of(args.key_file.as_deref(), args.key_secret.as_deref()) else {
        return 2;
    };
    let Some(bench) = load_benchmark(args.recipe.as_deref(), registry, library) else {
        return 2;
    };
    let mut opts = BuildOptions::new(&args.out);
    opts.jobs = args.jobs;
    opts.force = args.force;
    opts.resume = args.resume;
    opts.keep_going = args.keep_going;
    opts.attributes_per_slice = args.attributes_per_slice;
    opts.allow_shortfall = args.allow_shortfall;
    opts.dicom = args.dicom;
    if args.timings {
        opts.timings = Some(Default::default());
    }
    opts.strict_audit = args.strict;
    opts.key_secret = secret;
    opts.shard = shard;
    if let Some(m) = args.max_memory {
        opts.max_bytes = m;
    }
    opts.source_timeout = crate::build::time_budget(args.source_timeout);
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} samples, ETA {eta}",
        )
        .expect("template"),
    );
    let result = build(&bench, registry, &opts, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    if let (Some(t), Ok(_)) = (&opts.timings, &result) {
        eprintln!("{}", t.report());
    }
    match result {
        Ok(s) if shard.is_some() => {
            let spec = shard.expect("a shard");
            println!(
                "built shard {spec} of `{}` in {}: {} images from {} clean slices{}; join all {} shards with `artefact merge {} -o OUT`",
                bench.name,
                spec.dir(&args.out).display(),
                s.images,
                s.clean_slices,
                if s.reused > 0 { format!(" ({} samples reused)", s.reused) } else { String::new() },
                spec.count,
                args.out.display()
            );
            0
        }
        Ok(s) => {
            println!(
                "built `{}` in {}: {} images from {} clean slices, {} questions, {} descriptions, {} pairs{}",
                bench.name,
                args.out.display(),
                s.images,
                s.clean_slices,
                s.questions,
                s.descriptions,
                s.pairs,
                if s.reused > 0 { format!(" ({} samples reused)", s.reused) } else { String::new() }
            );
            if args.key_secret.is_none() && args.key_file.is_none() {
                println!(
                    "  private key: {} (needed by --resume and replay; never publish it)",
                    artefact_dataset::build::key_file(&args.out).display()
                );
            }
            for (split, n) in &s.images_per_split {
                println!("  {split}: {n} images");
            }
            if s.skipped_sources > 0 {
                println!(
                    "  {} sources skipped (see skipped.jsonl)",
                    s.skipped_sources
                );
            }
            println!(
                "  audit: {} (artefact audit {} for the table; audit.json)",
                if s.audit_passed { "passed" } else { "FAILED" },
                args.out.display()
            );
            if !s.band_missed.is_empty() {
                println!(
                    "  {} samples missed their metric band (see summary.json)",
                    s.band_missed.len()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(pairs: &[(&str, &str)]) -> Result<Option<(ShardSpec, String)>, String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        shard_from_env(|k| m.get(k).cloned())
    }

    #[test]
    fn shards_come_from_slurm_arrays_and_indexed_jobs() {
        assert_eq!(env(&[]), Ok(None));
        let (s, src) = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s, ShardSpec::new(2, 4).unwrap());
        assert!(src.contains("SLURM_ARRAY_TASK_ID=3"));
        let (s, _) = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s, ShardSpec::new(0, 2).unwrap());
        // steps and gaps cannot be mapped to 0..N
        assert!(env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ])
        .unwrap_err()
        .contains("step"));
        assert!(env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ])
        .unwrap_err()
        .contains("contiguous"));
        assert!(env(&[("SLURM_ARRAY_TASK_ID", "1")])
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_COUNT"));
        let (s, src) = env(&[("JOB_COMPLETION_INDEX", "1"), ("ARTEFACT_SHARD_COUNT", "3")])
            .unwrap()
            .unwrap();
        assert_eq!(s, ShardSpec::new(1, 3).unwrap());
        assert!(src.contains("JOB_COMPLETION_INDEX=1"));
        assert!(env(&[("JOB_COMPLETION_INDEX", "1")])
            .unwrap_err()
            .contains("ARTEFACT_SHARD_COUNT"));
        assert!(
            env(&[("JOB_COMPLETION_INDEX", "3"), ("ARTEFACT_SHARD_COUNT", "3")])
                .unwrap_err()
                .contains("out of range")
        );
        // Slurm wins over Kubernetes variables
        let (s, _) = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("JOB_COMPLETION_INDEX", "1"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.count, 1);
    }
}
