//! Where recipes are found: the bundled set compiled into the library, or a folder.
//!
//! Every file under the workspace's `recipes/` folder is embedded at build time (see the crate's
//! `build.rs`), so an installed `artefact` binary lists, checks and uses its recipes without the
//! source tree. A folder laid out the same way (`mri/`, `ct/`, `us/`, `benchmarks/`) replaces
//! the bundled set when given (`--recipes DIR` or the [`ENV_VAR`] environment variable, see
//! [`RecipeLibrary::locate`]).
//!
//! Recipes are named by their path relative to the library root with `/` separators and
//! without the `.toml` extension: `mri/motion`, `ct/*` (`*` and `?` match within one path
//! component). A benchmark recipe's `attributes.recipes` entry that matches no file beside the
//! benchmark is looked up here by that name.

use crate::attribute::AttributeRecipe;
use crate::error::RecipeError;
use crate::registry::Registry;
use crate::Result;
use std::path::{Path, PathBuf};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// Environment variable naming a recipe folder that replaces the bundled recipes.
pub const ENV_VAR: &str = "ARTEFACT_RECIPES";

/// Prefix of the paths shown for bundled recipes (in listings and errors).
pub const BUNDLED_PREFIX: &str = "bundled:recipes";

pub use crate::folders::{folder_of, folders_for, MODALITY_FOLDERS};

/// Every bundled file: `(path relative to recipes/ with '/' separators, text)`, sorted by path.
pub fn bundled_files() -> &'static [(&'static str, &'static str)] {
    generated::FILES
}

/// A set of recipe files: the bundled one or a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipeLibrary {
    /// The recipes compiled into the library.
    Bundled,
    /// A folder laid out like `recipes/`.
    Dir(PathBuf),
}

impl RecipeLibrary {
    /// The library to use: `flag` (`--recipes DIR`) if given, else the folder named by
    /// [`ENV_VAR`] if set and not empty, else the bundled recipes.
    pub fn locate(flag: Option<&Path>) -> RecipeLibrary {
        if let Some(dir) = flag {
            return RecipeLibrary::Dir(dir.to_path_buf());
        }
        match std::env::var_os(ENV_VAR) {
            Some(v) if !v.is_empty() => RecipeLibrary::Dir(PathBuf::from(v)),
            _ => RecipeLibrary::Bundled,
        }
    }

    /// A short description for messages: `bundled recipes` or the folder.
    pub fn describe(&self) -> String {
        match self {
            RecipeLibrary::Bundled => "the bundled recipes".into(),
            RecipeLibrary::Dir(d) => format!("recipe folder {}", d.display()),
        }
    }

    /// The path shown for (and recorded with) the recipe at `rel` (`mri/motion.toml`).
    pub fn display_path(&self, rel: &str) -> PathBuf {
        match self {
            RecipeLibrary::Bundled => PathBuf::from(format!("{BUNDLED_PREFIX}/{rel}")),
            RecipeLibrary::Dir(d) => d.join(rel),
        }
    }

    /// Relative paths (`/` separators, with extension) of every `.toml` file, sorted.
    pub fn files(&self) -> Result<Vec<String>> {
        match self {
            RecipeLibrary::Bundled => Ok(bundled_files()
                .iter()
                .map(|(p, _)| p.to_string())
                .filter(|p| p.ends_with(".toml"))
                .collect()),
            RecipeLibrary::Dir(d) => {
                if !d.is_dir() {
                    return Err(RecipeError::new(d, "recipe folder does not exist"));
                }
                let mut out = Vec::new();
                walk(d, "", &mut out)
                    .map_err(|e| RecipeError::new(d, format!("cannot list recipes: {e}")))?;
                out.sort();
                Ok(out)
            }
        }
    }

    /// The text of the file at `rel` (`mri/motion.toml`).
    pub fn read(&self, rel: &str) -> Result<String> {
        match self {
            RecipeLibrary::Bundled => bundled_files()
                .iter()
                .find(|(p, _)| *p == rel)
                .map(|(_, s)| s.to_string())
                .ok_or_else(|| RecipeError::new(&self.display_path(rel), "no such bundled recipe")),
            RecipeLibrary::Dir(d) => {
                let p = d.join(rel);
                let bytes = std::fs::read(&p)
                    .map_err(|e| RecipeError::new(&p, format!("cannot read recipe: {e}")))?;
                String::from_utf8(bytes)
                    .map_err(|_| RecipeError::new(&p, "recipe is not valid UTF-8"))
            }
        }
    }

    /// Read and validate the attribute recipe at `rel` (`mri/motion.toml`).
    pub fn attribute(&self, rel: &str, registry: &Registry) -> Result<AttributeRecipe> {
        let src = self.read(rel)?;
        AttributeRecipe::parse(&src, &self.display_path(rel), registry)
    }

    /// Relative paths of the `.toml` files matching a recipe name such as `mri/motion`,
    /// `ct/*` or `mri/motion.toml` (sorted; empty when nothing matches).
    pub fn matching(&self, pattern: &str) -> Result<Vec<String>> {
        // names are relative to the library root: a benchmark's `../mri/x` names `mri/x`
        let mut pattern = pattern;
        while let Some(rest) = pattern
            .strip_prefix("./")
            .or_else(|| pattern.strip_prefix("../"))
        {
            pattern = rest;
        }
        let pattern = pattern.strip_suffix(".toml").unwrap_or(pattern);
        let pat: Vec<&str> = pattern.split('/').collect();
        Ok(self
            .files()?
            .into_iter()
            .filter(|f| {
                let stem = f.strip_suffix(".toml").unwrap_or(f);
                let parts: Vec<&str> = stem.split('/').collect();
                parts.len() == pat.len() && parts.iter().zip(&pat).all(|(n, p)| wildcard(p, n))
            })
            .collect())
    }

    /// Every attribute recipe in the modality folders, in path order, with its relative path.
    pub fn attributes(
        &self,
        registry: &Registry,
    ) -> Result<Vec<(String, Result<AttributeRecipe>)>> {
        Ok(self
            .files()?
            .into_iter()
            .filter(|f| {
                MODALITY_FOLDERS
                    .iter()
                    .any(|m| f.strip_prefix(m).is_some_and(|r| r.starts_with('/')))
            })
            .map(|f| {
                let r = self.attribute(&f, registry);
                (f, r)
            })
            .collect())
    }

    /// The attribute recipe `name` in the given modality folders (`mri`, `ct`, `us`). `Ok(None)`
    /// when there is none; an error when several folders hold one.
    pub fn find_attribute(
        &self,
        name: &str,
        folders: &[&str],
        registry: &Registry,
    ) -> Result<Option<AttributeRecipe>> {
        let files = self.files()?;
        let found: Vec<String> = folders
            .iter()
            .map(|f| format!("{f}/{name}.toml"))
            .filter(|rel| files.contains(rel))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => self.attribute(one, registry).map(Some),
            _ => Err(RecipeError::new(
                &self.display_path(""),
                format!(
                    "attribute `{name}` exists for several modalities ({}); say which with --modality",
                    found.join(", ")
                ),
            )),
        }
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let ty = e.file_type()?;
        if ty.is_dir() {
            walk(&e.path(), &rel, out)?;
        } else if name.ends_with(".toml") {
            out.push(rel);
        }
    }
    Ok(())
}

/// `*` (any run) and `?` (one character) matching of one path component.
pub(crate) fn wildcard(pat: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pat.chars().collect(), name.chars().collect());
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_recipes_is_bundled() {
        // the test may use the checkout: it checks the build script missed nothing
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes");
        let mut on_disk = Vec::new();
        fn all(dir: &Path, prefix: &str, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                let rel = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                if e.file_type().unwrap().is_dir() {
                    all(&e.path(), &rel, out);
                } else {
                    out.push(rel);
                }
            }
        }
        all(&root, "", &mut on_disk);
        on_disk.sort();
        let bundled: Vec<String> = bundled_files().iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(bundled, on_disk);
        for (p, text) in bundled_files() {
            assert_eq!(*text, std::fs::read_to_string(root.join(p)).unwrap(), "{p}");
        }
    }

    #[test]
    fn names_match_like_paths() {
        let lib = RecipeLibrary::Bundled;
        assert_eq!(lib.matching("mri/motion").unwrap(), ["mri/motion.toml"]);
        assert_eq!(
            lib.matching("mri/motion.toml").unwrap(),
            ["mri/motion.toml"]
        );
        let ct = lib.matching("ct/*").unwrap();
        assert!(
            ct.len() >= 7 && ct.iter().all(|f| f.starts_with("ct/")),
            "{ct:?}"
        );
        assert!(lib.matching("mri/nope").unwrap().is_empty());
        assert_eq!(
            lib.matching("../mri/motion.toml").unwrap(),
            ["mri/motion.toml"]
        );
        assert!(
            lib.matching("motion").unwrap().is_empty(),
            "folder is part of the name"
        );
    }

    #[test]
    fn bundled_and_folder_libraries_agree() {
        let reg = Registry::builtin();
        let dir = RecipeLibrary::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes"));
        let (a, b) = (
            RecipeLibrary::Bundled.attributes(&reg).unwrap(),
            dir.attributes(&reg).unwrap(),
        );
        assert_eq!(a.len(), b.len());
        for ((pa, ra), (pb, rb)) in a.iter().zip(&b) {
            assert_eq!(pa, pb);
            let (ra, rb) = (ra.as_ref().unwrap(), rb.as_ref().unwrap());
            assert_eq!(
                (&ra.name, ra.modality, &ra.hash),
                (&rb.name, rb.modality, &rb.hash)
            );
        }
        let m = RecipeLibrary::Bundled
            .find_attribute("motion", &["mri"], &reg)
            .unwrap()
            .unwrap();
        assert_eq!(m.path, Path::new("bundled:recipes/mri/motion.toml"));
        assert!(RecipeLibrary::Bundled
            .find_attribute("motion", &["mri", "ct"], &reg)
            .is_err());
        assert!(RecipeLibrary::Bundled
            .find_attribute("nope", &["mri"], &reg)
            .unwrap()
            .is_none());
    }

    #[test]
    fn locate_prefers_the_flag() {
        let d = RecipeLibrary::locate(Some(Path::new("/x")));
        assert_eq!(d, RecipeLibrary::Dir(PathBuf::from("/x")));
    }
}
