//! `artefact report` on a small real build: every page is written, every file a page or its
//! data refers to exists, nothing points outside the folder; and (ignored unless
//! /usr/bin/chromium exists: `cargo test -p artefact-dataset --test report -- --ignored`)
//! the pages load in headless Chromium without an error and the filters change what is shown.

mod small;

use artefact_dataset::questions::Question;
use artefact_dataset::report::{write_report, ReportOptions};
use artefact_dataset::score::{read_jsonl, score, ScoreOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const PAGES: [&str; 6] = [
    "index.html",
    "sheets.html",
    "questions.html",
    "descriptions.html",
    "pairs.html",
    "scores.html",
];

/// The small build and its report (with scores of oracle predictions).
fn report() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, out) = small::small_build(3);
    let qs: Vec<Question> = read_jsonl(&out.join("perception.jsonl")).unwrap();
    let pred = tmp.path().join("pred.jsonl");
    let lines: Vec<String> = qs
        .iter()
        .map(|q| serde_json::json!({"index": q.index, "prediction": q.answer}).to_string())
        .collect();
    std::fs::write(&pred, lines.join("\n")).unwrap();
    let scores = tmp.path().join("scores.json");
    let r = score(&out, &pred, &ScoreOptions::default()).unwrap();
    std::fs::write(&scores, serde_json::to_vec(&r).unwrap()).unwrap();
    let site = tmp.path().join("site");
    let s = write_report(
        &out,
        &site,
        &ReportOptions {
            scores: Some(scores),
        },
    )
    .unwrap();
    assert_eq!(s.questions, qs.len());
    assert!(s.sheets >= 2, "one contact sheet per attribute");
    (tmp, out, site)
}

/// Values of `attr="…"` in `text`.
fn attr_values<'a>(text: &'a str, attr: &str) -> Vec<&'a str> {
    let pat = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&pat) {
        rest = &rest[i + pat.len()..];
        let end = rest.find('"').unwrap();
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

fn data(site: &Path, name: &str) -> Vec<serde_json::Value> {
    let t = std::fs::read_to_string(site.join(format!("data/{name}.js"))).unwrap();
    let json = t.trim().split_once(" = ").unwrap().1.trim_end_matches(';');
    serde_json::from_str::<serde_json::Value>(json)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn site_is_complete_and_self_contained() {
    let (_tmp, out, site) = report();
    for p in PAGES {
        assert!(site.join(p).is_file(), "{p} missing");
    }
    // every src/href of every page exists inside the site
    let mut refs = 0;
    for p in PAGES {
        let html = std::fs::read_to_string(site.join(p)).unwrap();
        for r in attr_values(&html, "src")
            .into_iter()
            .chain(attr_values(&html, "href"))
        {
            let path = r.split('#').next().unwrap();
            if path.is_empty() {
                continue; // in-page anchor
            }
            assert!(
                !path.contains("//") && !path.contains(':'),
                "{p}: external {r}"
            );
            assert!(site.join(path).is_file(), "{p}: {r} does not exist");
            refs += 1;
        }
    }
    assert!(refs > 50, "{refs} references checked");
    // every image the data files name has its thumbnail and full-size copy
    let rows: Vec<serde_json::Value> = read_jsonl(&out.join("manifest.jsonl")).unwrap();
    let qs = data(&site, "questions");
    assert_eq!(
        qs.len(),
        read_jsonl::<Question>(&out.join("perception.jsonl"))
            .unwrap()
            .len()
    );
    let pairs = data(&site, "pairs");
    let descs = data(&site, "descriptions");
    assert_eq!(descs.len(), rows.len());
    let mut ids: Vec<&str> = qs
        .iter()
        .chain(&descs)
        .map(|d| d["image"][0].as_str().unwrap())
        .collect();
    for p in &pairs {
        ids.push(p["a"][0].as_str().unwrap());
        ids.push(p["b"][0].as_str().unwrap());
    }
    for id in ids {
        for sub in ["thumbs", "images"] {
            assert!(
                site.join(format!("{sub}/{id}.png")).is_file(),
                "{sub}/{id}.png"
            );
        }
    }
    // thumbnails are small PNGs
    let t = image::open(site.join(format!("thumbs/{}.png", rows[0]["id"].as_str().unwrap())));
    let t = t.unwrap();
    assert!(
        t.width() <= artefact_dataset::report::THUMB
            && t.height() <= artefact_dataset::report::THUMB
    );
    // nothing refers outside the folder (the SVG namespace is a name, not a fetch)
    for f in files(&site) {
        if f.extension().is_some_and(|e| e == "png") {
            continue;
        }
        let t = std::fs::read_to_string(&f)
            .unwrap()
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for bad in [
            "http:",
            "https:",
            "src=\"//",
            "href=\"//",
            "url(",
            "@import",
        ] {
            assert!(!t.contains(bad), "{} contains {bad}", f.display());
        }
    }
    // contact sheets carry the measured SSIM and PSNR
    let sheets = std::fs::read_to_string(site.join("sheets.html")).unwrap();
    assert!(sheets.contains("SSIM 1.000") && sheets.contains("PSNR"));
    assert!(sheets.contains("<b>mild</b>") && sheets.contains("<b>severe</b>"));
    let scores = std::fs::read_to_string(site.join("scores.html")).unwrap();
    assert!(scores.contains("plots/accuracy_by_attribute.svg"));
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// The DOM of `url` after load, in headless Chromium.
fn dom(url: &str, profile: &Path) -> String {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed on {url}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn html_attr<'a>(dom: &'a str, tag_start: &str, attr: &str) -> &'a str {
    let i = dom
        .find(tag_start)
        .unwrap_or_else(|| panic!("no {tag_start}"));
    let tag = &dom[i..i + dom[i..].find('>').unwrap()];
    attr_values(tag, attr)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
}

#[test]
#[ignore = "needs /usr/bin/chromium (Debian package chromium); run with --ignored"]
fn pages_load_without_errors_and_filters_work_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} not installed");
        return;
    }
    let (tmp, _out, site) = report();
    let profile = tmp.path().join("chromium-profile");
    let url = |page: &str| format!("file://{}/{page}", site.display());
    for p in PAGES {
        let d = dom(&url(p), &profile);
        assert_eq!(
            html_attr(&d, "<html", "data-errors"),
            "0",
            "{p}: {}",
            d.lines().next().unwrap_or("")
        );
    }
    let qs = data(&site, "questions");
    let all = dom(&url("questions.html"), &profile);
    let total = qs.len().to_string();
    assert_eq!(html_attr(&all, "<span id=\"count\"", "data-shown"), total);
    assert_eq!(html_attr(&all, "<span id=\"count\"", "data-total"), total);
    // a filter (in the URL hash) changes what is shown: only matching cards, the right count
    for (key, value) in [
        ("level", "severe"),
        ("attribute", qs[0]["attribute"].as_str().unwrap()),
        ("split", "dev"),
    ] {
        let want = qs.iter().filter(|q| q[key].as_str() == Some(value)).count();
        assert!(want > 0 && want < qs.len());
        let d = dom(&url(&format!("questions.html#{key}={value}")), &profile);
        assert_eq!(html_attr(&d, "<html", "data-errors"), "0");
        assert_eq!(
            html_attr(&d, "<span id=\"count\"", "data-shown"),
            want.to_string(),
            "{key}={value}"
        );
        let cards = attr_values(&d, &format!("data-{key}"));
        assert_eq!(cards.len(), want.min(40), "cards shown for {key}={value}");
        assert!(
            cards.iter().all(|v| *v == value),
            "{key}={value}: {cards:?}"
        );
    }
    // pagination: page 2 shows the next cards
    let d = dom(&url("questions.html#page=2"), &profile);
    assert_eq!(html_attr(&d, "<span id=\"count\"", "data-page"), "2");
    assert_eq!(attr_values(&d, "data-level").len(), (qs.len() - 40).min(40));
}
