//! `artefact build [BENCHMARK.toml] -o DIR`: build a dataset (default: the bundled demo).

use artefact_dataset::{build, BuildOptions};
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

pub fn run(args: &BuildArgs, registry: &Registry, library: &RecipeLibrary) -> u8 {
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
    opts.strict_audit = args.strict;
    if let Some(s) = &args.key_secret {
        opts.key_secret = s.as_bytes().to_vec();
    }
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
    match result {
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
            if args.key_secret.is_none() {
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
