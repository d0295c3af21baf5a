//! Sharded builds: N = 1, 3 and 4 shards merged equal the single-machine build byte for byte,
//! and `merge` refuses shard sets that are not one complete build, writing nothing.

use artefact_dataset::merge::expand_shard_dirs;
use artefact_dataset::shard::{read_shard, ShardSpec};
use artefact_dataset::{build, merge, BuildOptions, MergeOptions};
use artefact_recipe::BenchmarkRecipe;
use std::path::{Path, PathBuf};

mod small;
use small::{assert_same_tree, registry, setup, tree};

const SECRET: &[u8] = b"shared shard test secret";

fn opts(out: &Path, secret: &[u8], shard: Option<ShardSpec>) -> BuildOptions {
    let mut o = BuildOptions::new(out);
    o.jobs = 2;
    o.keep_going = true;
    o.key_secret = secret.to_vec();
    o.shard = shard;
    o
}

/// Build all `n` shards of `bench` into `dir`; returns the shard directories.
fn build_shards(bench: &BenchmarkRecipe, dir: &Path, n: usize, secret: &[u8]) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let spec = ShardSpec::new(i, n).unwrap();
            build(
                &bench.clone(),
                &registry(),
                &opts(dir, secret, Some(spec)),
                &|_, _| {},
            )
            .unwrap();
            spec.dir(dir)
        })
        .collect()
}

fn merge_err(bench: &BenchmarkRecipe, dirs: &[PathBuf], out: &Path) -> String {
    let e = merge(bench, dirs, &MergeOptions::new(out, SECRET.to_vec()))
        .unwrap_err()
        .to_string();
    assert!(!out.exists(), "a failed merge wrote {}", out.display());
    e
}

#[test]
fn merged_shards_equal_the_single_build_and_bad_shard_sets_are_refused() {
    let (dir, _) = setup(3);
    // a skipped source (under --keep-going) must reach the merged tree too
    std::fs::write(dir.path().join("src/broken.nii"), b"not a nifti file").unwrap();
    let bench = BenchmarkRecipe::load(&dir.path().join("bench.toml"), &registry()).unwrap();
    let single = dir.path().join("single");
    let s = build(
        &bench,
        &registry(),
        &opts(&single, SECRET, None),
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(s.skipped_sources, 1);
    assert!(single.join("skipped.jsonl").exists());
    let planned = s.images;

    let mut four = Vec::new();
    for n in [1, 3, 4] {
        let shards_dir = dir.path().join(format!("shards{n}"));
        let dirs = build_shards(&bench, &shards_dir, n, SECRET);
        // every image rendered exactly once over the shards, whole slices per shard
        let counts: Vec<usize> = dirs
            .iter()
            .map(|d| read_shard(d).unwrap().items.len())
            .collect();
        assert_eq!(counts.iter().sum::<usize>(), planned, "{counts:?}");
        assert!(counts.iter().all(|&c| c > 0 && c % 5 == 0), "{counts:?}");
        let out = dir.path().join(format!("merged{n}"));
        let mut mo = MergeOptions::new(&out, SECRET.to_vec());
        mo.link = n == 4;
        // the shards directory expands to its shard-I-of-N subdirectories
        let m = merge(&bench, &expand_shard_dirs(&[shards_dir]), &mo).unwrap();
        assert_eq!((m.images, m.skipped_sources), (planned, 1));
        assert_same_tree(&single, &out);
        // no temporary directory left beside the output
        let stray: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("artefact-merge"))
            .collect();
        assert!(stray.is_empty());
        if n == 4 {
            four = dirs;
        }
    }

    // the merged tree holds no shard bookkeeping
    let files = tree(&dir.path().join("merged3"));
    assert!(files
        .keys()
        .all(|p| !p.starts_with("records") && !p.ends_with("shard.json")));

    let bad = dir.path().join("bad");
    // a missing shard
    let e = merge_err(&bench, &four[..3], &bad);
    assert!(e.contains("3/4") && e.contains("missing"), "{e}");
    // a shard given twice
    let twice = vec![
        four[0].clone(),
        four[1].clone(),
        four[2].clone(),
        four[2].clone(),
    ];
    let e = merge_err(&bench, &twice, &bad);
    assert!(
        e.contains("shard-2-of-4") && e.contains("exactly once"),
        "{e}"
    );
    // a shard of another build (another secret) names its directory
    let other = dir.path().join("other");
    let odirs = build_shards(&bench, &other, 4, b"another shard secret");
    let mixed = vec![
        four[0].clone(),
        four[1].clone(),
        odirs[2].clone(),
        four[3].clone(),
    ];
    let e = merge_err(&bench, &mixed, &bad);
    assert!(
        e.contains("other/shard-2-of-4") && e.contains("secret"),
        "{e}"
    );
    // a shard of another N
    let three: Vec<PathBuf> = expand_shard_dirs(&[dir.path().join("shards3")]);
    let e = merge_err(&bench, &[four[0].clone(), three[1].clone()], &bad);
    assert!(e.contains("number of shards"), "{e}");
    // the wrong secret at merge time
    let e = merge(&bench, &four, &MergeOptions::new(&bad, b"wrong".to_vec()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("another secret"), "{e}");
    assert!(!bad.exists());
    // a damaged image is found by its hash
    let victim = read_shard(&four[1]).unwrap().items[0].clone();
    let png = four[1].join(format!("images/{}/{}.png", victim.split, victim.id));
    let mut bytes = std::fs::read(&png).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&png, &bytes).unwrap();
    let e = merge_err(&bench, &four, &bad);
    assert!(e.contains(&victim.id) && e.contains("hash"), "{e}");
    // an unfinished shard (a record missing) asks for --resume, which completes it
    std::fs::remove_file(&png).unwrap();
    std::fs::remove_file(four[1].join(format!("records/{}.json", victim.id))).unwrap();
    let e = merge_err(&bench, &four, &bad);
    assert!(e.contains("shard-1-of-4") && e.contains("--resume"), "{e}");
    let mut ro = opts(
        &dir.path().join("shards4"),
        SECRET,
        Some(ShardSpec::new(1, 4).unwrap()),
    );
    ro.resume = true;
    let r = build(&bench, &registry(), &ro, &|_, _| {}).unwrap();
    assert_eq!(r.reused + 1, r.images);
    // an existing output is not replaced without --force, and is with it
    let out = dir.path().join("merged4");
    let e = merge(&bench, &four, &MergeOptions::new(&out, SECRET.to_vec()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--force"), "{e}");
    let mut mo = MergeOptions::new(&out, SECRET.to_vec());
    mo.force = true;
    merge(&bench, &four, &mo).unwrap();
    assert_same_tree(&single, &out);
}

#[test]
fn sharded_builds_need_a_shared_secret_and_their_own_directory() {
    let (dir, bench) = setup(3);
    let shards = dir.path().join("shards");
    let spec = ShardSpec::new(0, 2).unwrap();
    let e = build(
        &bench,
        &registry(),
        &opts(&shards, b"", Some(spec)),
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("--key-secret") && e.contains("--key-file"),
        "{e}"
    );
    assert!(!shards.exists());
    build(
        &bench,
        &registry(),
        &opts(&shards, SECRET, Some(spec)),
        &|_, _| {},
    )
    .unwrap();
    let m = read_shard(&spec.dir(&shards)).unwrap();
    assert_eq!((m.shard, m.shards), (0, 2));
    // the manifest names the secret only by its fingerprint
    let text = std::fs::read_to_string(spec.dir(&shards).join("shard.json")).unwrap();
    assert!(!text.contains(std::str::from_utf8(SECRET).unwrap()));
    // a second run into the same shard directory needs --resume or --force
    let e = build(
        &bench,
        &registry(),
        &opts(&shards, SECRET, Some(spec)),
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--resume"), "{e}");
    // resuming with another secret is refused
    let mut o = opts(&shards, b"some other secret", Some(spec));
    o.resume = true;
    let e = build(&bench, &registry(), &o, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot resume"), "{e}");
    // merging only shard 0 of 2 is refused
    let e = merge(
        &bench,
        &[spec.dir(&shards)],
        &MergeOptions::new(dir.path().join("out"), SECRET.to_vec()),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("1/2") && e.contains("missing"), "{e}");
}

/// `--dicom`: every grey image also as DICOM; the copies follow the shards into the merged
/// tree (byte-identical to the single build), a missing copy is re-made by `--resume`, and the
/// copies carry nothing of the answer (one Derivation Description for every image).
#[test]
fn dicom_copies_merge_and_resume_like_the_images() {
    let (dir, bench) = setup(3);
    let with_dicom = |out: &Path, shard| {
        let mut o = opts(out, SECRET, shard);
        o.dicom = true;
        o
    };
    let single = dir.path().join("single");
    let s = build(&bench, &registry(), &with_dicom(&single, None), &|_, _| {}).unwrap();
    let files = tree(&single);
    let dcm: Vec<_> = files
        .keys()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    assert_eq!(dcm.len(), s.images, "one DICOM per image");
    let descriptions: std::collections::BTreeSet<Vec<u8>> = dcm
        .iter()
        .map(|p| {
            let b = &files[*p];
            let at = b
                .windows(12)
                .position(|w| w == b"benchmark im")
                .expect("Derivation Description");
            b[at - 20..at + 12].to_vec()
        })
        .collect();
    assert_eq!(
        descriptions.len(),
        1,
        "the same description for every image"
    );
    // two shards merged: the same tree, DICOM copies included
    let shards_dir = dir.path().join("shards");
    for i in 0..2 {
        let spec = ShardSpec::new(i, 2).unwrap();
        build(
            &bench,
            &registry(),
            &with_dicom(&shards_dir, Some(spec)),
            &|_, _| {},
        )
        .unwrap();
    }
    let merged = dir.path().join("merged");
    merge(
        &bench,
        &expand_shard_dirs(&[shards_dir]),
        &MergeOptions::new(&merged, SECRET.to_vec()),
    )
    .unwrap();
    assert_same_tree(&single, &merged);
    // a DICOM copy lost in a killed build is re-made by --resume, identical
    std::fs::remove_file(single.join(dcm[0])).unwrap();
    let mut o = with_dicom(&single, None);
    o.resume = true;
    build(&bench, &registry(), &o, &|_, _| {}).unwrap();
    assert_same_tree(&merged, &single);
}
