//! End-to-end build tests on synthetic sources with two test operators: output layout, exact
//! export columns, answers consistent with the manifest, balance, splits by subject, replay,
//! `--jobs` independence, resume after a kill, and output-directory safety.

use artefact_core::Severity;
use artefact_dataset::export::{DESCRIPTION_COLUMNS, MCQ_COLUMNS};
use artefact_dataset::generate::{replay, ManifestRow};
use artefact_dataset::pairs::Pair;
use artefact_dataset::questions::Question;
use artefact_dataset::{build, BuildOptions};
use artefact_recipe::BenchmarkRecipe;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod small;
use small::{assert_same_tree, registry, setup, tree, BENCH};

fn read_jsonl<T: for<'de> Deserialize<'de>>(p: &Path) -> Vec<T> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn decode_b64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 {c}"),
        }
    };
    let mut out = Vec::new();
    for ch in s.as_bytes().chunks(4) {
        let pad = ch.iter().filter(|&&c| c == b'=').count();
        let n = ch
            .iter()
            .filter(|&&c| c != b'=')
            .fold(0u32, |a, &c| a << 6 | val(c))
            << (6 * pad);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

#[test]
fn builds_consistent_balanced_reproducible_outputs() {
    let (dir, bench) = setup(4);
    let out1 = dir.path().join("out1");
    let mut opts = test_opts(&out1);
    opts.jobs = 1;
    let s = build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert_eq!(s.clean_slices, 8);
    assert_eq!(
        s.images,
        8 * 5,
        "clean + 2 attributes × (mild, severe) per slice"
    );
    assert_eq!(s.questions, 100);

    // same seed, two threads: identical trees
    let out2 = dir.path().join("out2");
    let mut opts2 = test_opts(&out2);
    opts2.jobs = 2;
    build(&bench, &registry(), &opts2, &|_, _| {}).unwrap();
    let (t1, t2) = (tree(&out1), tree(&out2));
    assert_eq!(t1.keys().collect::<Vec<_>>(), t2.keys().collect::<Vec<_>>());
    for (k, v) in &t1 {
        assert!(
            v == &t2[k],
            "{} differs between --jobs 1 and --jobs 2",
            k.display()
        );
    }
    assert!(!out1.join(".work").exists());

    let rows: Vec<ManifestRow> = read_jsonl(&out1.join("manifest.jsonl"));
    let by_id: BTreeMap<&str, &ManifestRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();

    // no subject in two splits; every image of a slice has the same size
    let mut split_of: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &rows {
        assert_eq!(
            *split_of.entry(&r.subject_key).or_insert(&r.split),
            r.split.as_str(),
            "subject in two splits"
        );
        assert_eq!((r.width, r.height), (32, 32));
        let png = std::fs::read(out1.join(&r.file_name)).unwrap();
        assert_eq!(artefact_recipe::content_hash(&png), r.png_sha256);
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!(
            decoded.color(),
            image::ColorType::L8,
            "every image is 8-bit grey"
        );
        if r.severity == Severity::None {
            assert!(r.params.is_empty() && r.attribute.is_none());
            assert!((r.metrics.ssim - 1.0).abs() < 1e-12);
        } else {
            assert_eq!(r.params.len(), 1);
            assert!(r.metrics.ssim < 1.0);
        }
    }
    assert_eq!(
        split_of.values().collect::<BTreeSet<_>>().len(),
        2,
        "both splits used"
    );
    // mild is closer to clean than severe on average, for every attribute
    for attr in ["noise", "blur"] {
        let mean = |s: Severity| {
            let v: Vec<f64> = rows
                .iter()
                .filter(|r| r.severity == s && r.attribute.as_deref() == Some(attr))
                .map(|r| r.metrics.ssim)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean(Severity::Mild) > mean(Severity::Severe), "{attr}");
    }

    // questions: answers consistent with the manifest; letters and yes/no balanced within
    // every (split, level, modality) stratum; no (image, question) twice
    let qs: Vec<Question> = read_jsonl(&out1.join("perception.jsonl"));
    let mut letters: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut strata: BTreeMap<(String, Severity), (i64, i64)> = BTreeMap::new();
    let mut asked = BTreeSet::new();
    let label = |a: &str| if a == "noise" { "Noise" } else { "Blurring" };
    for (i, q) in qs.iter().enumerate() {
        assert_eq!(q.index, i);
        assert!(
            asked.insert((q.image_id.clone(), q.question.clone())),
            "asked twice: {}",
            q.question
        );
        let r = by_id[q.image_id.as_str()];
        assert_eq!(q.split, r.split);
        assert_eq!(q.level, r.severity);
        assert_eq!(q.attribute, r.attribute);
        let ans = &q.options[(q.answer.as_bytes()[0] - b'A') as usize];
        let has_target = q.target.is_some() && q.target == r.attribute;
        match (q.question_type.as_str(), q.family.as_str()) {
            ("yes-or-no", fam) => {
                assert_eq!(q.options, ["Yes", "No"]);
                let yes = match fam {
                    "presence" => has_target,
                    "absence" => !has_target,
                    "acceptable" => r.quality_grade != artefact_core::QualityGrade::Reject,
                    f => panic!("family {f}"),
                };
                assert_eq!(ans, if yes { "Yes" } else { "No" }, "{}", q.question);
                let e = strata.entry((q.split.clone(), q.level)).or_default();
                if yes {
                    e.0 += 1
                } else {
                    e.1 += 1
                }
            }
            ("what", _) => {
                let expect = r.attribute.as_deref().map_or("No obvious artifact", label);
                assert_eq!(ans, expect);
                assert!(q.options.len() >= 2);
                // distinct phenomena; "No obvious artifact" is one class among the others
                let distinct: std::collections::BTreeSet<&String> = q.options.iter().collect();
                assert_eq!(distinct.len(), q.options.len(), "{:?}", q.options);
            }
            ("how", "grade") => {
                assert_eq!(q.options, ["Good", "Usable", "Reject"], "ordinal order");
                assert_eq!(ans.to_lowercase(), r.quality_grade.as_str());
                assert_eq!(q.category, "general");
            }
            ("how", "level") => {
                assert_eq!(
                    q.options,
                    ["Not present", "Mild", "Severe"],
                    "ordinal order"
                );
                let expect = if has_target {
                    r.severity
                } else {
                    Severity::None
                };
                assert_eq!(
                    ans,
                    artefact_dataset::text::severity_option(expect),
                    "{}",
                    q.question
                );
                assert_eq!(q.category, "modality-specific");
            }
            t => panic!("unknown type {t:?}"),
        }
        *letters
            .entry((q.question_type.as_str(), q.answer.as_str()))
            .or_default() += 1;
    }
    for (k, (yes, no)) in &strata {
        assert!((yes - no).abs() <= 1, "{k:?}: yes {yes} no {no}");
    }
    // one `how` and one `what` per image at most
    for t in ["how", "what"] {
        let mut imgs = BTreeSet::new();
        for q in qs.iter().filter(|q| q.question_type == t) {
            assert!(
                imgs.insert(q.image_id.clone()),
                "two {t} questions for one image"
            );
        }
    }
    let what: Vec<usize> = ["A", "B", "C"]
        .iter()
        .map(|l| letters.get(&("what", *l)).copied().unwrap_or(0))
        .collect();
    assert!(
        what.iter().max().unwrap() - what.iter().min().unwrap() <= 2,
        "{what:?}"
    );

    // pairs: the better image is the less degraded one with the better measured quality; the
    // order is drawn per pair, exactly balanced per kind and split
    let pairs: Vec<Pair> = read_jsonl(&out1.join("pairs.jsonl"));
    assert_eq!(pairs.iter().filter(|p| p.kind == "coarse").count(), 12);
    assert_eq!(pairs.iter().filter(|p| p.kind == "fine").count(), 12);
    let mut first: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    for p in &pairs {
        let (a, b) = (by_id[p.image_a.as_str()], by_id[p.image_b.as_str()]);
        assert_eq!(
            (a.source_key.as_str(), a.slice_index),
            (b.source_key.as_str(), b.slice_index)
        );
        let better_a = a.severity < b.severity;
        assert_eq!(better_a, a.metrics.ssim > b.metrics.ssim);
        assert_eq!(p.better, if better_a { "A" } else { "B" });
        let which = if better_a { "first" } else { "second" };
        assert!(
            p.description
                .ends_with(&format!("the {which} image has better quality."))
                || p.description
                    .ends_with(&format!("The {which} image is of better quality."))
                || p.description
                    .ends_with(&format!("the {which} image is better.")),
            "{}",
            p.description
        );
        let e = first
            .entry((p.kind.as_str(), p.split.as_str()))
            .or_default();
        if better_a {
            e.0 += 1
        } else {
            e.1 += 1
        }
    }
    for (k, (a, b)) in &first {
        assert!((a - b).abs() <= 1, "{k:?}: {a} vs {b}");
    }

    // the build's own audit: every deterministic check passes. The statistical checks (blind
    // baselines, order rules) are tested at chance + 3σ; on this tiny table (a few dozen rows,
    // whose ids depend on the temporary directory's name) one of them exceeds its limit in some
    // runs by chance, so they are asserted on the demo build (tests/build_cli.rs), not here.
    let audit = artefact_dataset::audit::audit(&out1).unwrap();
    let failed: Vec<&str> = audit
        .checks
        .iter()
        .filter(|c| !c.passed && !c.name.starts_with("blind/") && !c.name.starts_with("order"))
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.is_empty(), "{failed:?}\n{}", audit.table(true));
    for r in &rows {
        assert_eq!(r.id.len(), 16);
        assert!(r.id.chars().all(|c| c.is_ascii_hexdigit()), "{}", r.id);
        assert_eq!(r.file_name, format!("images/{}/{}.png", r.split, r.id));
    }
    let info: artefact_dataset::BuildInfo =
        serde_json::from_slice(&std::fs::read(out1.join("build.json")).unwrap()).unwrap();
    assert!(info.dataset_prefix.starts_with("unit_") && info.dataset_prefix.len() == 13);

    // VLMEvalKit TSVs: exact columns, decodable images equal to the stored PNGs
    for split in ["test", "dev"] {
        let mcq = std::fs::read_to_string(out1.join(format!(
            "vlmevalkit/{}_MCQ_{split}.tsv",
            info.dataset_prefix
        )))
        .unwrap();
        let mut lines = mcq.lines();
        assert_eq!(
            lines.next().unwrap().split('\t').collect::<Vec<_>>(),
            MCQ_COLUMNS
        );
        // an image's first row carries its base64, later rows the index of that row (the
        // VLMEvalKit convention for cells of ≤ 64 characters)
        let mut images: std::collections::HashMap<&str, &str> = Default::default();
        let mut references = 0;
        for l in lines {
            let cells: Vec<&str> = l.split('\t').collect();
            assert_eq!(cells.len(), MCQ_COLUMNS.len());
            let q = &qs[cells[0].parse::<usize>().unwrap()];
            let cell = if cells[1].len() <= 64 {
                references += 1;
                images[cells[1]]
            } else {
                cells[1]
            };
            images.insert(cells[0], cell);
            let png = decode_b64(cell);
            assert_eq!(
                png,
                std::fs::read(out1.join(&by_id[q.image_id.as_str()].file_name)).unwrap()
            );
            assert_eq!(cells[7], q.answer);
            // the answer's option is present and no cell reads as NaN in pandas/VLMEvalKit
            let letter = (q.answer.as_bytes()[0] - b'A') as usize;
            assert!(!cells[3 + letter].is_empty());
            for c in [2, 3, 4, 8, 9, 10, 11] {
                assert!(
                    !artefact_dataset::text::PANDAS_NA_TOKENS.contains(&cells[c]),
                    "cell {c} of {l:.80} loads as NaN"
                );
            }
        }
        assert!(references > 0, "no image cell refers to an earlier row");
        let d = std::fs::read_to_string(out1.join(format!(
            "vlmevalkit/{}_Description_{split}.tsv",
            info.dataset_prefix
        )))
        .unwrap();
        assert_eq!(
            d.lines().next().unwrap().split('\t').collect::<Vec<_>>(),
            DESCRIPTION_COLUMNS
        );
        for l in d.lines().skip(1) {
            let cells: Vec<&str> = l.split('\t').collect();
            assert!(
                cells[2].ends_with("good.")
                    || cells[2].ends_with("usable.")
                    || cells[2].ends_with("reject."),
                "{}",
                cells[2]
            );
            image::load_from_memory(&decode_b64(cells[1])).unwrap();
        }
        let pd = std::fs::read_to_string(out1.join(format!(
            "vlmevalkit/{}_PairedDescription_{split}.tsv",
            info.dataset_prefix
        )))
        .unwrap();
        for l in pd.lines().skip(1) {
            let cells: Vec<&str> = l.split('\t').collect();
            assert!(
                cells[1].starts_with("['") && cells[1].ends_with("']"),
                "python list literal"
            );
            let list: Vec<String> = serde_json::from_str(&cells[1].replace('\'', "\"")).unwrap();
            assert_eq!(list.len(), 2);
            for b in list {
                image::load_from_memory(&decode_b64(&b)).unwrap();
            }
        }
        // Hugging Face imagefolder: every file_name exists beside metadata.jsonl
        for task in ["perception", "reasoning", "pairs"] {
            let base = out1.join("hf").join(task).join(split);
            for v in read_jsonl::<serde_json::Value>(&base.join("metadata.jsonl")) {
                for key in ["file_name", "image_a_file_name", "image_b_file_name"] {
                    if let Some(f) = v.get(key) {
                        assert!(
                            base.join(f.as_str().unwrap()).is_file(),
                            "{task}/{split}: {f}"
                        );
                    }
                }
            }
        }
    }

    // replay: regenerating any sample from its recorded params gives the stored bytes
    let (slices, _) = artefact_dataset::build::slices_for(&bench, &opts).unwrap();
    for r in rows.iter().filter(|r| r.severity != Severity::None).take(6) {
        let slice = slices
            .iter()
            .find(|s| s.source_key == r.source_key && s.index == r.slice_index)
            .unwrap();
        let png = replay(&registry(), slice, r).unwrap();
        assert_eq!(
            png,
            std::fs::read(out1.join(&r.file_name)).unwrap(),
            "replay of {}",
            r.id
        );
    }
}

#[test]
fn resume_after_a_kill_gives_identical_bytes_and_dirs_are_protected() {
    let (dir, bench) = setup(3);
    let full = dir.path().join("full");
    build(&bench, &registry(), &test_opts(&full), &|_, _| {}).unwrap();

    // a build killed part-way: the kill is simulated by a panic after 7 samples, then by
    // removing two finished images and truncating a third (a write cut short)
    let part = dir.path().join("part");
    let mut opts = test_opts(&part);
    opts.jobs = 1;
    let killed = std::panic::catch_unwind(|| {
        build(&bench, &registry(), &opts, &|done, _| {
            if done == 7 {
                panic!("simulated kill");
            }
        })
    });
    assert!(killed.is_err());
    assert!(part.join(".work").is_dir() && !part.join("manifest.jsonl").exists());
    let mut pngs: Vec<PathBuf> = tree(&part.join("images"))
        .into_keys()
        .map(|k| part.join("images").join(k))
        .collect();
    pngs.sort();
    assert!(pngs.len() >= 7);
    std::fs::remove_file(&pngs[0]).unwrap();
    std::fs::remove_file(&pngs[1]).unwrap();
    let bytes = std::fs::read(&pngs[2]).unwrap();
    std::fs::write(&pngs[2], &bytes[..bytes.len() / 2]).unwrap();
    let intact = pngs.len() - 3;

    // a plain build refuses the unfinished directory
    let e = build(&bench, &registry(), &opts, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("--force") && e.contains("--resume"), "{e}");
    opts.resume = true;
    let s = build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert_eq!(s.reused, intact, "only intact finished samples are reused");
    assert_same_tree(&full, &part);

    // --force refuses a directory that is not an artefact output
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("precious.txt"), "keep").unwrap();
    let mut fo = test_opts(&other);
    fo.force = true;
    let e = build(&bench, &registry(), &fo, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("refusing"), "{e}");
    assert!(other.join("precious.txt").exists());
    // --force replaces an earlier build
    let mut fo = test_opts(&full);
    fo.force = true;
    build(&bench, &registry(), &fo, &|_, _| {}).unwrap();
}

#[test]
fn unreadable_sources_fail_or_are_skipped_with_keep_going() {
    let (dir, _) = setup(4);
    std::fs::write(
        dir.path().join("src/broken.nii"),
        b"not a nifti file at all",
    )
    .unwrap();
    let bench = BenchmarkRecipe::load(&dir.path().join("bench.toml"), &registry()).unwrap();
    let out = dir.path().join("o");
    let e = build(&bench, &registry(), &test_opts(&out), &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("broken.nii") && e.contains("--keep-going"),
        "{e}"
    );
    let mut opts = test_opts(dir.path().join("o2"));
    opts.keep_going = true;
    let s = build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert_eq!(s.skipped_sources, 1);
    let sk = std::fs::read_to_string(dir.path().join("o2/skipped.jsonl")).unwrap();
    assert!(sk.contains("broken.nii"));
}

/// A copy of a source under another name (or converted losslessly to another format) is not a
/// second source: its slices would stand in two places of the benchmark, possibly two splits.
#[test]
fn a_copy_of_a_source_is_refused_or_skipped() {
    let (dir, _) = setup(3);
    let src = dir.path().join("src");
    std::fs::copy(src.join("subject1.nii"), src.join("subject9_copy.nii")).unwrap();
    // the same pixels in another format: NIfTI written again as gzip
    let v = artefact_io::load_volume(&src.join("subject2.nii")).unwrap();
    let gz = dir.path().join("gz");
    std::fs::create_dir(&gz).unwrap();
    artefact_io::write_nifti(&gz.join("subject2_again.nii.gz"), &v.volume).unwrap();
    std::fs::copy(
        gz.join("subject2_again.nii.gz"),
        src.join("subject8.nii.gz"),
    )
    .unwrap();
    let toml = std::fs::read_to_string(dir.path().join("bench.toml"))
        .unwrap()
        .replace("path = \"src/*.nii\"", "path = \"src/*.nii*\"");
    std::fs::write(dir.path().join("bench.toml"), toml).unwrap();
    let bench = BenchmarkRecipe::load(&dir.path().join("bench.toml"), &registry()).unwrap();
    let e = build(
        &bench,
        &registry(),
        &test_opts(dir.path().join("o")),
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("identical") && e.contains("--keep-going"), "{e}");
    let mut opts = test_opts(dir.path().join("o2"));
    opts.keep_going = true;
    let s = build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert_eq!(s.skipped_sources, 2);
    let sk: Vec<serde_json::Value> = read_jsonl(&dir.path().join("o2/skipped.jsonl"));
    for (copy, first) in [
        ("subject9_copy.nii", "subject1.nii"),
        ("subject8.nii.gz", "subject2.nii"),
    ] {
        let row = sk
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(copy))
            .unwrap_or_else(|| panic!("{copy} not skipped: {sk:?}"));
        let reason = row["reason"].as_str().unwrap();
        assert!(reason.contains(first), "{reason}");
    }
}

#[test]
fn calibration_is_jobs_independent_and_orders_severities() {
    use artefact_dataset::calibrate::calibrate;
    let (_dir, bench) = setup(2);
    let (slices, _) = artefact_dataset::source::collect_slices(&bench, b"k", false).unwrap();
    let reg = registry();
    let a = calibrate(&bench, &reg, &slices, 3, 1, true).unwrap();
    let b = calibrate(&bench, &reg, &slices, 3, 2, true).unwrap();
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.sheets, b.sheets);
    // two attributes × {mild, severe}, each over every slice × 3 samples
    assert_eq!(a.rows.len(), 4);
    for r in &a.rows {
        assert_eq!(r.images, slices.len() * 3, "{r:?}");
        assert!(r.ssim.min <= r.ssim.median && r.ssim.median <= r.ssim.max);
    }
    for pair in a.rows.chunks(2) {
        let (mild, severe) = (&pair[0], &pair[1]);
        assert_eq!(mild.attribute, severe.attribute);
        assert!(
            severe.ssim.median < mild.ssim.median,
            "{}: severe must be worse than mild",
            mild.attribute
        );
    }
    // the noise recipe has an SSIM band for mild only; blur has none
    let noise_mild = a.rows.iter().find(|r| r.attribute == "noise").unwrap();
    assert_eq!(noise_mild.band_met.map(|(_, n)| n), Some(noise_mild.images));
    assert!(a
        .rows
        .iter()
        .filter(|r| r.attribute == "blur")
        .all(|r| r.band_met.is_none()));
    // one sheet per attribute: rows = slices, columns = clean + 3 mild + 3 severe
    assert_eq!(a.sheets.len(), 2);
    let img = image::load_from_memory(&a.sheets[0].1).unwrap();
    let n = bench.image_size;
    assert_eq!(img.width() as usize, 7 * n + 6 * 4);
    assert_eq!(
        img.height() as usize,
        slices.len() * n + (slices.len() - 1) * 4
    );
    assert!(calibrate(&bench, &reg, &slices, 0, 1, false).is_err());
}

#[test]
fn shortfall_is_an_error_unless_allowed_and_builds_get_their_own_names() {
    let (dir, _) = setup(4);
    // 4 subjects × 2 slices × 5 images = 40 images cannot give 100 `what` questions
    let text = BENCH.replace("what = 30", "what = 100");
    std::fs::write(dir.path().join("big.toml"), text).unwrap();
    let bench = BenchmarkRecipe::load(&dir.path().join("big.toml"), &registry()).unwrap();
    let out = dir.path().join("short");
    let e = build(&bench, &registry(), &test_opts(&out), &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("what of") && e.contains("--allow-shortfall"),
        "{e}"
    );
    let mut opts = test_opts(&out);
    opts.allow_shortfall = true;
    opts.force = true;
    let s = build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert!(s
        .shortfall
        .iter()
        .any(|x| x.kind == "what" && x.made < x.requested));
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("shortfall"));

    // another seed: other ids and another VLMEvalKit dataset name (no shared image cache)
    let text = BENCH.replace("seed = 11", "seed = 12");
    std::fs::write(dir.path().join("other.toml"), text).unwrap();
    let other = BenchmarkRecipe::load(&dir.path().join("other.toml"), &registry()).unwrap();
    let (o1, o2) = (dir.path().join("o1"), dir.path().join("o2"));
    let b1 = BenchmarkRecipe::load(&dir.path().join("bench.toml"), &registry()).unwrap();
    build(&b1, &registry(), &test_opts(&o1), &|_, _| {}).unwrap();
    build(&other, &registry(), &test_opts(&o2), &|_, _| {}).unwrap();
    let names = |d: &Path| -> BTreeSet<String> {
        std::fs::read_dir(d.join("vlmevalkit"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".tsv"))
            .collect()
    };
    let (n1, n2) = (names(&o1), names(&o2));
    assert!(!n1.is_empty() && n1.is_disjoint(&n2), "{n1:?} {n2:?}");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o1.join("vlmevalkit/config.json")).unwrap()).unwrap();
    for n in &n1 {
        let stem = n.trim_end_matches(".tsv");
        assert_eq!(cfg["data"][stem]["dataset"], stem, "config names {stem}");
    }
}

/// Build options with an explicit key: builds compared byte for byte share their
/// pseudonymisation key (the default is a random per-build key in a file beside the output).
fn test_opts(out: impl Into<std::path::PathBuf>) -> BuildOptions {
    let mut o = BuildOptions::new(out);
    o.key_secret = b"artefact test key".to_vec();
    o
}

/// A gzip stream of `bytes`.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn keep_going_isolates_hostile_files_and_keeps_good_outputs_identical() {
    let (dir, bench) = setup(3);
    let good = dir.path().join("good");
    build(&bench, &registry(), &test_opts(&good), &|_, _| {}).unwrap();

    // hostile files in a directory matching the source glob `src/*.nii` (a FIFO or a
    // non-image file named directly by the recipe is refused when the recipe is read)
    let nii = std::fs::read(dir.path().join("src/subject0.nii")).unwrap();
    let src = dir.path().join("src/zz_hostile.nii");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("bad_truncated.nii"), &nii[..nii.len() / 2]).unwrap();
    let mut flipped = nii.clone();
    flipped[40..42].copy_from_slice(&(-7i16).to_le_bytes()); // dim[0]
    std::fs::write(src.join("bad_dims.nii"), &flipped).unwrap();
    // a gzip bomb: a header announcing 32767×32767×32 voxels, then zeros
    let mut hdr = nii[..352].to_vec();
    for (i, v) in [3i16, 32767, 32767, 32].iter().enumerate() {
        hdr[40 + 2 * i..42 + 2 * i].copy_from_slice(&v.to_le_bytes());
    }
    let mut bomb = gzip(&hdr);
    let zeros = gzip(&vec![0u8; 4 << 20]);
    for _ in 0..16 {
        bomb.extend_from_slice(&zeros);
    }
    std::fs::write(src.join("bad_bomb.nii"), &bomb).unwrap();
    // a bit-flipped gzip of a good file
    let mut gz = gzip(&nii);
    let n = gz.len();
    gz[n - 6] ^= 0x10; // CRC-32
    std::fs::write(src.join("bad_crc.nii"), &gz).unwrap();
    // a DICOM file with 20,000 nested sequences
    let mut dcm = vec![0u8; 128];
    dcm.extend_from_slice(b"DICM");
    for _ in 0..20_000 {
        dcm.extend_from_slice(&[
            0x40, 0x00, 0x60, 0x02, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        dcm.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    std::fs::write(src.join("bad_nested.nii"), &dcm).unwrap();
    let mut bad = vec![
        "bad_truncated.nii",
        "bad_dims.nii",
        "bad_bomb.nii",
        "bad_crc.nii",
        "bad_nested.nii",
    ];
    #[cfg(unix)]
    {
        let ok = std::process::Command::new("mkfifo")
            .arg(src.join("bad_fifo.nii"))
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            bad.push("bad_fifo.nii");
        }
    }

    let bench_mixed = BenchmarkRecipe::load(&dir.path().join("bench.toml"), &registry()).unwrap();
    assert_eq!(bench_mixed.hash, bench.hash);
    let bench = bench_mixed;
    let mixed = dir.path().join("mixed");
    let mut opts = test_opts(&mixed);
    opts.keep_going = true;
    opts.max_bytes = 256 << 20;
    let s = build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert_eq!(s.skipped_sources, bad.len());
    let skipped: Vec<serde_json::Value> = read_jsonl(&mixed.join("skipped.jsonl"));
    for b in &bad {
        let row = skipped
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(b))
            .unwrap_or_else(|| panic!("{b} not in skipped.jsonl: {skipped:?}"));
        assert!(!row["reason"].as_str().unwrap().is_empty());
    }
    // the good files' outputs are byte-identical to a build of the good files alone
    let (tg, tm) = (tree(&good), tree(&mixed));
    for (k, v) in &tg {
        let name = k.to_string_lossy();
        if name == "summary.json" || name == "skipped.jsonl" {
            continue;
        }
        assert!(
            tm.get(k) == Some(v),
            "{name} differs with hostile files present"
        );
    }
}

#[test]
fn default_key_is_random_private_beside_the_output_and_reused_by_resume() {
    let (dir, bench) = setup(4);
    let out = dir.path().join("k");
    build(&bench, &registry(), &BuildOptions::new(&out), &|_, _| {}).unwrap();
    let kf = artefact_dataset::build::key_file(&out);
    assert_eq!(kf, dir.path().join("k.artefact-key"));
    let key = std::fs::read_to_string(&kf).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kf).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
    }
    // nothing inside the published tree holds the key
    for (p, bytes) in tree(&out) {
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(key.trim()), "{} holds the key", p.display());
    }
    // a second default build draws another key: subject keys differ (unlinkable)
    let other = dir.path().join("k2");
    build(&bench, &registry(), &BuildOptions::new(&other), &|_, _| {}).unwrap();
    let key2 = std::fs::read_to_string(artefact_dataset::build::key_file(&other)).unwrap();
    assert_ne!(key, key2);
    let m1 = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let m2 = std::fs::read_to_string(other.join("manifest.jsonl")).unwrap();
    assert_ne!(m1, m2);

    // resume: reuses the key file, removes stale temporaries, same bytes
    let before = tree(&out);
    let img = out.join("images");
    let first = tree(&img).into_keys().next().unwrap();
    std::fs::remove_file(img.join(&first)).unwrap();
    let stale = img.join(first.parent().unwrap()).join(".x.png.tmp-4242");
    std::fs::write(&stale, b"half").unwrap();
    std::fs::write(out.join(".artefact-tmp-abc"), b"half").unwrap();
    std::fs::remove_file(out.join("build.json")).ok();
    let mut opts = BuildOptions::new(&out);
    opts.resume = true;
    // build.json is needed to resume: restore it
    std::fs::write(
        out.join("build.json"),
        &before[&PathBuf::from("build.json")],
    )
    .unwrap();
    build(&bench, &registry(), &opts, &|_, _| {}).unwrap();
    assert!(!stale.exists() && !out.join(".artefact-tmp-abc").exists());
    assert_eq!(tree(&out), before);
    // without the key file, resume refuses and names the file
    std::fs::remove_file(&kf).unwrap();
    let e = build(&bench, &registry(), &opts, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("k.artefact-key"), "{e}");
}
