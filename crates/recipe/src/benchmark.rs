//! Benchmark recipes: which sources, which slices, how to render, which attributes, how many
//! questions and pairs, which splits, and the dataset seed.
//!
//! ```toml
//! [benchmark]
//! name = "demo"
//! seed = 20261127
//! image_size = 256                  # every rendered image is image_size × image_size pixels
//!
//! [[sources]]                       # paths relative to this file; `*` and `?` globs allowed
//! path = "../../tests/data/dicom/CT_head_512.dcm"
//! modality = "CT"                   # optional: override (e.g. use a grey image as a US map)
//! anatomy = "head"                  # optional: body region named in descriptions (default: DICOM BodyPartExamined)
//! # tile = 256                      # colour sources only: cut each photograph into tile² pixel tiles
//! #                                 # (e.g. a slide region), each a slice of the same subject
//!
//! [selection]
//! axis = 0                          # array axis perpendicular to the slices (0 = axial for NIfTI/DICOM stacks)
//! slices_per_volume = 4
//! min_foreground = 0.15             # fraction of pixels above Otsu's threshold; photographs:
//!                                   # inside a dark surround (fundus, endoscopy) or stained
//!                                   # (slides), for the whole picture or each tile
//! volume_physics = false            # true: degrade whole volumes with the operators' 3-D forms
//!                                   # (attributes that have them), then cut the slice
//!
//! [render]
//! ct_window = "brain"               # brain | soft_tissue | lung | bone | [centre, width] in HU
//! mr_percentiles = [0.5, 99.5]
//!
//! [attributes]
//! recipes = ["../mri/*.toml", "../ct/*.toml"]
//!
//! [severity]                        # proportions of degraded images per severity
//! none = 0.2
//! mild = 0.4
//! severe = 0.4
//!
//! [questions]
//! yes_no = 60
//! what = 60
//! how = 60
//!
//! [pairs]
//! coarse = 20
//! fine = 20
//!
//! [splits]                          # by source subject; fractions sum to 1
//! test = 0.7
//! dev = 0.3
//! ```

use crate::attribute::{is_identifier, toml_error, AttributeRecipe};
use crate::error::RecipeError;
use crate::library::RecipeLibrary;
use crate::registry::Registry;
use crate::Result;
use artefact_core::{Modality, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A source entry: a file, directory or glob, with an optional modality override.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceSpec {
    /// Paths this entry expands to (files or directories), sorted.
    pub paths: Vec<PathBuf>,
    /// The pattern as written (relative to the recipe file).
    pub pattern: String,
    pub modality: Option<Modality>,
    /// Body region shown by this source (used in descriptions); when absent, DICOM
    /// BodyPartExamined is used where present.
    pub anatomy: Option<String>,
    /// Colour sources: cut each photograph into non-overlapping `tile`² tiles (pixels of the
    /// file), each a slice of the same subject; `None` keeps the whole photograph.
    pub tile: Option<usize>,
}

/// CT display window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub centre: f64,
    pub width: f64,
}

impl Window {
    /// Named presets (centre, width in HU).
    pub fn preset(name: &str) -> Option<Window> {
        let (centre, width) = match name {
            "brain" => (40.0, 80.0),
            "subdural" => (75.0, 215.0),
            "soft_tissue" => (50.0, 400.0),
            "lung" => (-600.0, 1500.0),
            "bone" => (400.0, 1800.0),
            _ => return None,
        };
        Some(Window { centre, width })
    }

    pub const PRESETS: &'static [&'static str] =
        &["brain", "subdural", "soft_tissue", "lung", "bone"];
}

/// A validated benchmark recipe.
#[derive(Clone, Debug)]
pub struct BenchmarkRecipe {
    pub path: PathBuf,
    pub hash: String,
    pub name: String,
    pub seed: u64,
    pub image_size: usize,
    pub sources: Vec<SourceSpec>,
    pub axis: usize,
    pub slices_per_volume: usize,
    pub min_foreground: f64,
    /// Degrade a volume source whole with the operators' 3-D forms, for attributes whose
    /// operators all have one, and cut the selected slice from the result (a 3-D acquisition);
    /// otherwise (and for other attributes or 2-D sources) each selected slice is degraded.
    pub volume_physics: bool,
    pub ct_window: Window,
    pub mr_percentiles: [f64; 2],
    pub attributes: Vec<AttributeRecipe>,
    /// Proportions of none / mild / severe (normalised to sum 1).
    pub severity: BTreeMap<Severity, f64>,
    pub yes_no: usize,
    pub what: usize,
    pub how: usize,
    pub coarse_pairs: usize,
    pub fine_pairs: usize,
    /// Split name → fraction (sums to 1), in file order.
    pub splits: Vec<(String, f64)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    benchmark: RawBench,
    sources: Spanned<Vec<RawSource>>,
    selection: Option<RawSelection>,
    render: Option<RawRender>,
    attributes: Spanned<RawAttrs>,
    severity: Option<Spanned<BTreeMap<String, Spanned<f64>>>>,
    questions: Option<RawQuestions>,
    pairs: Option<RawPairs>,
    splits: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBench {
    name: Spanned<String>,
    seed: Spanned<i64>,
    image_size: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: Spanned<String>,
    modality: Option<Spanned<String>>,
    anatomy: Option<Spanned<String>>,
    tile: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelection {
    axis: Option<Spanned<i64>>,
    slices_per_volume: Option<Spanned<i64>>,
    min_foreground: Option<Spanned<f64>>,
    volume_physics: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRender {
    ct_window: Option<Spanned<toml::Value>>,
    mr_percentiles: Option<Spanned<[f64; 2]>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttrs {
    recipes: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestions {
    yes_no: Option<Spanned<i64>>,
    what: Option<Spanned<i64>>,
    how: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPairs {
    coarse: Option<Spanned<i64>>,
    fine: Option<Spanned<i64>>,
}

/// Largest number of paths a source pattern may match.
pub const MAX_GLOB_MATCHES: usize = 100_000;

/// Largest question or pair count per type a recipe may ask for (a rough bound on what a
/// build can hold in memory and what sources can supply).
pub const MAX_COUNT: i64 = 100_000;

/// Whether a source path is an image file by its first bytes (DICOM, NIfTI-1/2 plain or
/// gzip, PNG, JPEG, TIFF), a directory, or neither (then the reason). Special files (FIFOs,
/// devices, sockets) are refused without being opened.
pub fn source_kind(p: &Path) -> std::result::Result<(), String> {
    use std::io::Read;
    let md = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if md.is_dir() {
        return Ok(());
    }
    if !md.is_file() {
        return Err("not a regular file or directory (FIFO, device or socket); not opened".into());
    }
    let mut head = Vec::with_capacity(132);
    std::fs::File::open(p)
        .and_then(|f| f.take(132).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    let le = |b: &[u8]| {
        b.len() >= 4 && matches!(i32::from_le_bytes([b[0], b[1], b[2], b[3]]), 348 | 540)
    };
    let be = |b: &[u8]| {
        b.len() >= 4 && matches!(i32::from_be_bytes([b[0], b[1], b[2], b[3]]), 348 | 540)
    };
    let image = (head.len() >= 132 && &head[128..132] == b"DICM")
        || head.starts_with(b"DICM")
        || head.starts_with(&[0x89, b'P', b'N', b'G'])
        || head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(&[0x1f, 0x8b])
        || le(&head)
        || be(&head);
    if image {
        Ok(())
    } else {
        Err("not an image file (no DICOM, NIfTI, PNG, JPEG or TIFF signature)".into())
    }
}

/// Expand `*`/`?` in the last path component(s) of a pattern, sorted; plain paths must exist.
/// Matching is linear in the name length (no backtracking blow-up) and at most
/// [`MAX_GLOB_MATCHES`] paths are returned (more is an error).
pub fn expand_glob(pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
    let s = pattern.to_string_lossy();
    if !s.contains('*') && !s.contains('?') {
        return if pattern.exists() {
            Ok(vec![pattern.to_path_buf()])
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file or directory",
            ))
        };
    }
    let mut bases = vec![PathBuf::new()];
    for comp in pattern.components() {
        let c = comp.as_os_str().to_string_lossy().to_string();
        let mut next = Vec::new();
        for b in &bases {
            if c.contains('*') || c.contains('?') {
                let dir = if b.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    b.as_path()
                };
                let Ok(rd) = std::fs::read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect();
                names.sort();
                for n in names {
                    if wildcard(&c, &n) {
                        next.push(b.join(&n));
                        if next.len() > MAX_GLOB_MATCHES {
                            return Err(std::io::Error::other(format!(
                                "pattern matches more than {MAX_GLOB_MATCHES} paths"
                            )));
                        }
                    }
                }
            } else {
                next.push(b.join(comp.as_os_str()));
            }
        }
        bases = next;
    }
    bases.retain(|p| p.exists());
    bases.sort();
    Ok(bases)
}

/// `*` (any run) and `?` (one character) matching in O(|pat| · |name|) worst case: the
/// classic greedy two-pointer algorithm, backtracking only to the last `*`.
fn wildcard(pat: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pat.chars().collect(), name.chars().collect());
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

#[cfg(test)]
mod glob_tests {
    use super::wildcard;

    #[test]
    fn wildcard_matches_and_stays_linear() {
        assert!(wildcard("*.nii", "a.nii"));
        assert!(wildcard("a?c*", "abcdef"));
        assert!(!wildcard("*.nii", "a.nii.gz"));
        assert!(wildcard("*a*b", "xxaxxb"));
        assert!(!wildcard("*a*b", "xxaxxc"));
        assert!(wildcard("", ""));
        assert!(!wildcard("", "a"));
        // exponential for a backtracking matcher: 20 × `*a` against 60 `a`s and a `b`
        let pat = "*a".repeat(20) + "c";
        let name = "a".repeat(60) + "b";
        assert!(!wildcard(&pat, &name));
    }
}

impl BenchmarkRecipe {
    /// An upper bound on the images a build of this recipe can plan, from the recipe alone
    /// (no pixel read): every named file gives at most `slices_per_volume` clean slices, and
    /// every clean slice at most one clean image plus a mild and a severe image of each
    /// attribute of the recipe (whatever `--attributes-per-slice`). `None` when a source is a
    /// directory or cut into tiles (its slice count needs the images).
    pub fn max_images(&self) -> Option<usize> {
        let mut files = 0usize;
        for s in &self.sources {
            if s.tile.is_some() || s.paths.iter().any(|p| p.is_dir()) {
                return None;
            }
            files = files.saturating_add(s.paths.len());
        }
        let per_slice = 1usize.saturating_add(self.attributes.len().saturating_mul(2));
        Some(
            files
                .saturating_mul(self.slices_per_volume)
                .saturating_mul(per_slice),
        )
    }

    /// Counts this recipe asks for that its sources cannot supply whatever the images hold
    /// (an estimate from [`BenchmarkRecipe::max_images`]: at most one `what` and one `how`
    /// question per image, at most five yes-or-no questions per image — four per degraded
    /// image plus acceptability — and pairs only between images of one slice). Each entry
    /// names the key, the count and the bound; empty when the bound is unknown.
    pub fn supply_excess(&self) -> Vec<String> {
        let Some(images) = self.max_images() else {
            return Vec::new();
        };
        let files: usize = self.sources.iter().map(|s| s.paths.len()).sum();
        let why = format!(
            "{files} source files × at most {} slices each × (1 clean + 2 × {} attributes) = at most {images} images",
            self.slices_per_volume,
            self.attributes.len()
        );
        let per_slice = 1 + 2 * self.attributes.len();
        let slices = images / per_slice;
        let pairs = slices.saturating_mul(per_slice * (per_slice - 1) / 2);
        let checks = [
            ("questions.yes_no", self.yes_no, images.saturating_mul(5)),
            ("questions.what", self.what, images),
            ("questions.how", self.how, images),
            ("pairs.coarse", self.coarse_pairs, pairs),
            ("pairs.fine", self.fine_pairs, pairs),
        ];
        checks
            .iter()
            .filter(|(_, asked, bound)| asked > bound)
            .map(|(key, asked, bound)| {
                format!("{key} = {asked} but at most {bound} can be made ({why})")
            })
            .collect()
    }

    /// Read and validate a benchmark recipe and every attribute recipe it names.
    /// Attribute names that match no file beside it resolve against the bundled recipes.
    pub fn load(path: &Path, registry: &Registry) -> Result<BenchmarkRecipe> {
        BenchmarkRecipe::load_with(path, registry, &RecipeLibrary::Bundled)
    }

    /// [`BenchmarkRecipe::load`] resolving attribute names against `library`.
    pub fn load_with(
        path: &Path,
        registry: &Registry,
        library: &RecipeLibrary,
    ) -> Result<BenchmarkRecipe> {
        let bytes = std::fs::read(path)
            .map_err(|e| RecipeError::new(path, format!("cannot read benchmark recipe: {e}")))?;
        let src = String::from_utf8(bytes)
            .map_err(|_| RecipeError::new(path, "recipe is not valid UTF-8"))?;
        BenchmarkRecipe::parse_with(&src, path, registry, library)
    }

    /// Validate benchmark text; relative paths resolve against `path`'s directory, attribute
    /// names that match no file there against the bundled recipes.
    pub fn parse(src: &str, path: &Path, registry: &Registry) -> Result<BenchmarkRecipe> {
        BenchmarkRecipe::parse_with(src, path, registry, &RecipeLibrary::Bundled)
    }

    /// [`BenchmarkRecipe::parse`] resolving attribute names against `library`: an
    /// `attributes.recipes` entry matching no file beside the benchmark is read as a recipe
    /// name of the library (`"mri/motion"`, `"ct/*"`, see [`RecipeLibrary::matching`]).
    pub fn parse_with(
        src: &str,
        path: &Path,
        registry: &Registry,
        library: &RecipeLibrary,
    ) -> Result<BenchmarkRecipe> {
        let raw: Raw = toml::from_str(src).map_err(|e| toml_error(path, src, e))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let err = |span: std::ops::Range<usize>, key: &str, msg: String| {
            RecipeError::new(path, msg).at(src, span).key(key)
        };
        let count =
            |v: &Option<Spanned<i64>>, key: &str, default: i64, lo: i64, hi: i64| -> Result<i64> {
                match v {
                    None => Ok(default),
                    Some(s) if (lo..=hi).contains(s.get_ref()) => Ok(*s.get_ref()),
                    Some(s) => Err(err(
                        s.span(),
                        key,
                        format!("{} is out of range [{lo}, {hi}]", s.get_ref()),
                    )),
                }
            };

        let name = raw.benchmark.name.get_ref().clone();
        if !is_identifier(&name) {
            return Err(err(
                raw.benchmark.name.span(),
                "benchmark.name",
                format!(
                    "`{}` is not an identifier (at most {} lowercase letters, digits, `_`, `-`)",
                    name.chars().take(60).collect::<String>(),
                    crate::attribute::MAX_NAME_LEN
                ),
            ));
        }
        let seed = *raw.benchmark.seed.get_ref();
        if seed < 0 {
            return Err(err(
                raw.benchmark.seed.span(),
                "benchmark.seed",
                "seed must be ≥ 0".into(),
            ));
        }
        let image_size = count(
            &raw.benchmark.image_size,
            "benchmark.image_size",
            256,
            32,
            4096,
        )? as usize;

        if raw.sources.get_ref().is_empty() {
            return Err(err(
                raw.sources.span(),
                "sources",
                "no sources given".into(),
            ));
        }
        let mut sources = Vec::new();
        for (i, s) in raw.sources.get_ref().iter().enumerate() {
            let pattern = s.path.get_ref().clone();
            let full = dir.join(&pattern);
            let paths = expand_glob(&full).map_err(|e| {
                err(
                    s.path.span(),
                    &format!("sources[{i}].path"),
                    format!("{}: {e}", full.display()),
                )
            })?;
            if paths.is_empty() {
                return Err(err(
                    s.path.span(),
                    &format!("sources[{i}].path"),
                    format!("pattern {} matches nothing", full.display()),
                ));
            }
            // a path named on its own must be an image file or a directory; glob matches
            // only must not be special files (other non-images are build's to list or skip)
            let globbed = pattern.contains('*') || pattern.contains('?');
            for p in &paths {
                let kind = source_kind(p);
                let special = kind.as_ref().is_err_and(|w| w.contains("not opened"));
                if let (Err(why), true) = (kind, !globbed || special) {
                    return Err(err(
                        s.path.span(),
                        &format!("sources[{i}].path"),
                        format!("{}: {why}", p.display()),
                    ));
                }
            }
            let modality = match &s.modality {
                None => None,
                Some(m) => Some(
                    m.get_ref()
                        .parse::<Modality>()
                        .map_err(|e| err(m.span(), &format!("sources[{i}].modality"), e))?,
                ),
            };
            let anatomy = match &s.anatomy {
                None => None,
                Some(a) => {
                    let t = a.get_ref().trim().to_lowercase();
                    let ok = !t.is_empty()
                        && t.len() <= 40
                        && t.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '-');
                    if !ok {
                        return Err(err(
                            a.span(),
                            &format!("sources[{i}].anatomy"),
                            "anatomy is a short body-region name of letters, spaces and hyphens (e.g. \"head\", \"abdomen\")".into(),
                        ));
                    }
                    Some(t)
                }
            };
            let tile = match &s.tile {
                None => None,
                Some(t) => {
                    let key = format!("sources[{i}].tile");
                    if !modality.is_some_and(Modality::is_colour) {
                        return Err(err(
                            t.span(),
                            &key,
                            "tiles are cut from colour photographs: set `modality` to fundus, endoscopy or histopathology".into(),
                        ));
                    }
                    let v = *t.get_ref();
                    if !(32..=8192).contains(&v) {
                        return Err(err(
                            t.span(),
                            &key,
                            format!("{v} is out of range (allowed: 32 to 8192 pixels)"),
                        ));
                    }
                    Some(v as usize)
                }
            };
            sources.push(SourceSpec {
                paths,
                pattern,
                modality,
                anatomy,
                tile,
            });
        }

        let sel = raw.selection.as_ref();
        let axis = count(&sel.and_then(|s| s.axis.clone()), "selection.axis", 0, 0, 2)? as usize;
        let slices_per_volume = count(
            &sel.and_then(|s| s.slices_per_volume.clone()),
            "selection.slices_per_volume",
            4,
            1,
            10_000,
        )? as usize;
        let min_foreground = match sel.and_then(|s| s.min_foreground.clone()) {
            None => 0.1,
            Some(v) if (0.0..=1.0).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => {
                return Err(err(
                    v.span(),
                    "selection.min_foreground",
                    format!("{} is out of range [0, 1]", v.get_ref()),
                ))
            }
        };
        let volume_physics = sel.and_then(|s| s.volume_physics).unwrap_or(false);

        let render = raw.render.as_ref();
        let ct_window = match render.and_then(|r| r.ct_window.clone()) {
            None => Window::preset("soft_tissue").expect("preset"),
            Some(v) => match v.get_ref() {
                toml::Value::String(s) => Window::preset(s).ok_or_else(|| {
                    err(
                        v.span(),
                        "render.ct_window",
                        format!(
                            "unknown window `{s}` (allowed: {}, or [centre, width] in HU)",
                            Window::PRESETS.join(", ")
                        ),
                    )
                })?,
                toml::Value::Array(a) if a.len() == 2 => {
                    let num =
                        |x: &toml::Value| x.as_float().or_else(|| x.as_integer().map(|i| i as f64));
                    match (num(&a[0]), num(&a[1])) {
                        (Some(c), Some(w)) if w > 0.0 && c.is_finite() && w.is_finite() => Window {
                            centre: c,
                            width: w,
                        },
                        _ => {
                            return Err(err(
                                v.span(),
                                "render.ct_window",
                                "expected [centre, width] in HU with width > 0".into(),
                            ))
                        }
                    }
                }
                _ => {
                    return Err(err(
                        v.span(),
                        "render.ct_window",
                        format!(
                            "expected a preset ({}) or [centre, width]",
                            Window::PRESETS.join(", ")
                        ),
                    ))
                }
            },
        };
        let mr_percentiles = match render.and_then(|r| r.mr_percentiles.clone()) {
            None => [0.5, 99.5],
            Some(p) => {
                let [lo, hi] = *p.get_ref();
                if !((0.0..100.0).contains(&lo) && lo < hi && hi <= 100.0) {
                    return Err(err(
                        p.span(),
                        "render.mr_percentiles",
                        format!("[{lo}, {hi}] must satisfy 0 ≤ lo < hi ≤ 100"),
                    ));
                }
                [lo, hi]
            }
        };

        let mut attributes: Vec<AttributeRecipe> = Vec::new();
        for (i, pat) in raw
            .attributes
            .get_ref()
            .recipes
            .get_ref()
            .iter()
            .enumerate()
        {
            let key = format!("attributes.recipes[{i}]");
            let full = dir.join(pat.get_ref());
            // a file (or glob) beside the benchmark first, else a name in the recipe library
            let beside = expand_glob(&full);
            let loaded: Vec<(PathBuf, AttributeRecipe)> = match beside {
                Ok(files) if !files.is_empty() => files
                    .into_iter()
                    .map(|f| AttributeRecipe::load(&f, registry).map(|a| (f, a)))
                    .collect::<Result<_>>()?,
                found => {
                    let named = library
                        .matching(pat.get_ref())
                        .map_err(|e| err(pat.span(), &key, e.to_string()))?;
                    if named.is_empty() {
                        let why = match found {
                            Err(e) => format!("{}: {e}", full.display()),
                            Ok(_) => format!("pattern {} matches nothing", full.display()),
                        };
                        return Err(err(
                            pat.span(),
                            &key,
                            format!(
                                "{why}, and no recipe of {} is named `{}`",
                                library.describe(),
                                pat.get_ref()
                            ),
                        ));
                    }
                    named
                        .iter()
                        .map(|rel| {
                            library
                                .attribute(rel, registry)
                                .map(|a| (library.display_path(rel), a))
                        })
                        .collect::<Result<_>>()?
                }
            };
            for (f, a) in loaded {
                if let Some(prev) = attributes
                    .iter()
                    .find(|p| p.name == a.name && p.modality == a.modality)
                {
                    return Err(err(
                        pat.span(),
                        &key,
                        format!(
                            "attribute `{}` ({}) defined twice: {} and {}",
                            a.name,
                            a.modality,
                            prev.path.display(),
                            f.display()
                        ),
                    ));
                }
                attributes.push(a);
            }
        }
        if attributes.is_empty() {
            return Err(err(
                raw.attributes.span(),
                "attributes",
                "no attribute recipes".into(),
            ));
        }

        let mut severity = BTreeMap::new();
        match &raw.severity {
            None => {
                severity.insert(Severity::None, 0.2);
                severity.insert(Severity::Mild, 0.4);
                severity.insert(Severity::Severe, 0.4);
            }
            Some(t) => {
                for (k, v) in t.get_ref() {
                    let s: Severity = k
                        .parse()
                        .map_err(|m: String| err(v.span(), &format!("severity.{k}"), m))?;
                    if !(v.get_ref().is_finite() && *v.get_ref() >= 0.0) {
                        return Err(err(
                            v.span(),
                            &format!("severity.{k}"),
                            "proportion must be ≥ 0".into(),
                        ));
                    }
                    severity.insert(s, *v.get_ref());
                }
                let total: f64 = severity.values().sum();
                if total <= 0.0 {
                    return Err(err(t.span(), "severity", "proportions sum to zero".into()));
                }
                if !total.is_finite() {
                    return Err(err(
                        t.span(),
                        "severity",
                        format!("proportions sum to {total}: use finite proportions such as 0.2, 0.4, 0.4"),
                    ));
                }
                for s in Severity::ALL {
                    let e = severity.entry(s).or_insert(0.0);
                    *e /= total;
                }
            }
        }

        let q = raw.questions.as_ref();
        let yes_no = count(
            &q.and_then(|q| q.yes_no.clone()),
            "questions.yes_no",
            30,
            0,
            MAX_COUNT,
        )? as usize;
        let what = count(
            &q.and_then(|q| q.what.clone()),
            "questions.what",
            30,
            0,
            MAX_COUNT,
        )? as usize;
        let how = count(
            &q.and_then(|q| q.how.clone()),
            "questions.how",
            30,
            0,
            MAX_COUNT,
        )? as usize;
        let p = raw.pairs.as_ref();
        let coarse_pairs = count(
            &p.and_then(|p| p.coarse.clone()),
            "pairs.coarse",
            10,
            0,
            MAX_COUNT,
        )? as usize;
        let fine_pairs = count(
            &p.and_then(|p| p.fine.clone()),
            "pairs.fine",
            10,
            0,
            MAX_COUNT,
        )? as usize;

        let splits = match &raw.splits {
            None => vec![("test".to_string(), 1.0)],
            Some(t) => {
                let mut v = Vec::new();
                for (k, val) in t.get_ref() {
                    let f = val
                        .as_float()
                        .or_else(|| val.as_integer().map(|i| i as f64));
                    match f {
                        Some(f) if is_identifier(k) && (0.0..=1.0).contains(&f) => {
                            v.push((k.clone(), f))
                        }
                        _ => {
                            return Err(err(
                                t.span(),
                                &format!("splits.{k}"),
                                "each split is `name = fraction` with a fraction in [0, 1]".into(),
                            ))
                        }
                    }
                }
                let total: f64 = v.iter().map(|(_, f)| f).sum();
                if v.is_empty() || (total - 1.0).abs() > 1e-6 {
                    return Err(err(
                        t.span(),
                        "splits",
                        format!("split fractions must sum to 1 (they sum to {total})"),
                    ));
                }
                v
            }
        };

        Ok(BenchmarkRecipe {
            path: path.to_path_buf(),
            hash: crate::content_hash(src.as_bytes()),
            name,
            seed: seed as u64,
            image_size,
            sources,
            axis,
            slices_per_volume,
            min_foreground,
            volume_physics,
            ct_window,
            mr_percentiles,
            attributes,
            severity,
            yes_no,
            what,
            how,
            coarse_pairs,
            fine_pairs,
            splits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.toml", "motion.toml"));
        assert!(!wildcard("*.toml", "motion.tom"));
        assert!(wildcard("m?tion*", "motion.toml"));
        assert!(wildcard("*", ""));
    }
}
