//! Sharded builds: which planned images a shard renders, and the shard's manifest.
//!
//! Every shard of a build computes the same plan (same recipe, seed and secret) and renders
//! only its own images into its own directory (`<OUT>/shard-<I>-of-<N>/`, I 0-based):
//! `images/<split>/<id>.png`, `records/<id>.json` (the manifest row of each image) and
//! `shard.json` ([`ShardManifest`]). [`crate::merge()`] checks that a set of shard directories
//! is one complete build and writes the same tree a single-machine build writes.
//!
//! Assignment ([`shard_of_slice`]): whole clean slices are dealt round-robin (slice index mod
//! N), so the clean view of a slice (a full simulation for ultrasound) is computed on one shard
//! only, and slices of costly sources, which sit together in the slice list, are spread over
//! all shards instead of landing on one.
//!
//! Secrets: a sharded build needs a secret every shard shares (`--key-secret`,
//! `ARTEFACT_KEY_SECRET` or `--key-file`); the shard manifest records only its fingerprint
//! ([`key_fingerprint`]), never the secret.

use crate::error::DatasetError;
use crate::info::BuildInfo;
use crate::source::Skipped;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One shard of a build: `index` in `0..count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl ShardSpec {
    /// A checked shard (`count` ≥ 1, `index` < `count`).
    pub fn new(index: usize, count: usize) -> Result<ShardSpec, String> {
        if count == 0 {
            return Err("the number of shards must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards (indices are 0-based: 0 to {})",
                count - 1
            ));
        }
        Ok(ShardSpec { index, count })
    }

    /// Parse `I/N` (0-based I).
    pub fn parse(s: &str) -> Result<ShardSpec, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: expected I/N, e.g. 0/4 (I is 0-based)"))?;
        let num = |t: &str, what: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}`: the {what} `{t}` is not a whole number"))
        };
        ShardSpec::new(num(i, "shard index")?, num(n, "shard count")?)
            .map_err(|e| format!("`{s}`: {e}"))
    }

    /// The directory of this shard inside the shards directory `parent`.
    pub fn dir(&self, parent: &Path) -> PathBuf {
        parent.join(format!("shard-{}-of-{}", self.index, self.count))
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard that renders the images of clean slice `slice` among `count` shards.
pub fn shard_of_slice(slice: usize, count: usize) -> usize {
    slice % count.max(1)
}

/// A public fingerprint of a pseudonymisation secret (16 hex digits of a domain-separated
/// SHA-256): equal secrets give equal fingerprints; the secret cannot be read back from it.
pub fn key_fingerprint(secret: &[u8]) -> String {
    let mut msg = b"artefact-key-fingerprint\0".to_vec();
    msg.extend_from_slice(secret);
    artefact_recipe::content_hash(&msg)[..16].to_string()
}

/// A fingerprint of a whole plan: the build key's fingerprint and every planned image's index,
/// id and split (`items`, in plan order). Equal on every shard of one build.
pub fn plan_fingerprint<'a>(
    build_key: &str,
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut msg = format!("artefact-plan\0{}\0", key_fingerprint(build_key.as_bytes()));
    for (i, (id, split)) in items.into_iter().enumerate() {
        msg.push_str(&format!("{i}\0{id}\0{split}\0"));
    }
    artefact_recipe::content_hash(msg.as_bytes())
}

/// One image of a shard: its index in the plan, its id and split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardItem {
    pub index: usize,
    pub id: String,
    pub split: String,
}

/// `shard.json`: what a shard holds and which build it belongs to. Written before rendering
/// (everything in it follows from the plan); the images are complete when every item has its
/// record and PNG, which [`crate::merge()`] checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// `build.json` of the merged build (recipe name, path and hash, seed, tool version, ...).
    pub build: BuildInfo,
    /// 0-based shard index.
    pub shard: usize,
    /// Number of shards.
    pub shards: usize,
    /// [`key_fingerprint`] of the secret (never the secret).
    pub key_fingerprint: String,
    /// [`plan_fingerprint`] of the whole plan.
    pub plan_fingerprint: String,
    /// Images in the whole plan (all shards).
    pub planned: usize,
    /// Clean slices in the whole plan.
    pub clean_slices: usize,
    /// Sources skipped under `--keep-going` (the same on every shard).
    pub skipped: Vec<Skipped>,
    /// Whether the build allows a question or pair shortfall.
    pub allow_shortfall: bool,
    /// This shard's images, in plan order.
    pub items: Vec<ShardItem>,
}

/// File name of the shard manifest inside a shard directory.
pub const SHARD_MANIFEST: &str = "shard.json";

/// Read the manifest of the shard directory `dir` (an error naming it otherwise).
pub fn read_shard(dir: &Path) -> Result<ShardManifest, DatasetError> {
    let p = dir.join(SHARD_MANIFEST);
    let bytes = std::fs::read(&p).map_err(|e| {
        DatasetError::file(
            dir,
            format!("not a shard directory: cannot read {SHARD_MANIFEST} ({e})"),
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| DatasetError::file(&p, format!("not an artefact shard manifest ({e})")))
}

/// Read a secret from a private file (`--key-file`): its bytes without trailing white space,
/// at least 16 of them. On unix a file other users can read is refused.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, DatasetError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| DatasetError::file(path, e))?;
        if meta.permissions().mode() & 0o004 != 0 {
            return Err(DatasetError::file(
                path,
                "the key file is readable by every user; make it private (chmod 600)",
            ));
        }
    }
    let mut bytes = std::fs::read(path).map_err(|e| DatasetError::file(path, e))?;
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    if bytes.len() < 16 {
        return Err(DatasetError::file(
            path,
            format!(
                "the key file holds {} bytes; a secret of at least 16 is needed (e.g. `openssl rand -hex 32`)",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_shards() {
        assert_eq!(
            ShardSpec::parse("0/4"),
            Ok(ShardSpec { index: 0, count: 4 })
        );
        assert_eq!(
            ShardSpec::parse(" 3 / 4 "),
            Ok(ShardSpec { index: 3, count: 4 })
        );
        assert!(ShardSpec::parse("4/4").unwrap_err().contains("0-based"));
        assert!(ShardSpec::parse("0/0").unwrap_err().contains("at least 1"));
        assert!(ShardSpec::parse("1").is_err());
        assert!(ShardSpec::parse("-1/4").is_err());
        assert!(ShardSpec::parse("a/4").is_err());
        assert_eq!(
            ShardSpec::new(2, 5).unwrap().dir(Path::new("x")),
            PathBuf::from("x/shard-2-of-5")
        );
    }

    #[test]
    fn fingerprints_separate_secrets_and_hide_them() {
        let a = key_fingerprint(b"secret one");
        assert_eq!(a, key_fingerprint(b"secret one"));
        assert_ne!(a, key_fingerprint(b"secret two"));
        assert_eq!(a.len(), 16);
        assert!(!a.contains("secret"));
    }

    #[test]
    fn every_slice_has_exactly_one_shard() {
        for n in 1..6 {
            let mut per = vec![0; n];
            for s in 0..23 {
                per[shard_of_slice(s, n)] += 1;
            }
            assert_eq!(per.iter().sum::<usize>(), 23);
            assert!(per.iter().max().unwrap() - per.iter().min().unwrap() <= 1);
        }
    }

    #[cfg(unix)]
    #[test]
    fn key_files_must_be_private_and_long_enough() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        std::fs::write(&p, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_key_file(&p)
            .unwrap_err()
            .to_string()
            .contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_key_file(&p).unwrap(), b"0123456789abcdef0123".to_vec());
        std::fs::write(&p, "short\n").unwrap();
        assert!(read_key_file(&p)
            .unwrap_err()
            .to_string()
            .contains("at least 16"));
    }
}
