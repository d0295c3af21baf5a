//! `artefact report`: a static HTML site of a finished build, for curators.
//!
//! Pages (plain files, no server, no CDN; they work from `file://`):
//! - `index.html`: the build (`build.json`), its counts (`summary.json`) and the audit table
//!   (`audit.json`);
//! - `sheets.html`: per (modality, attribute) a contact sheet — clean, mild and severe renders
//!   of the same slice side by side, captioned with the measured SSIM and PSNR against the clean
//!   render (from the manifest);
//! - `questions.html`: every perception question with its image, options and answer, filterable
//!   by split, modality, attribute, level and question type, paginated (data in
//!   `data/questions.js`; filters live in the URL hash, e.g. `#modality=CT&level=mild`);
//! - `pairs.html`: comparison pairs side by side with their description (same filters);
//! - `descriptions.html`: the no-reference descriptions;
//! - `scores.html` (with [`ReportOptions::scores`], the JSON of `artefact score --json`): the
//!   accuracy plots and tables.
//!
//! Images: `thumbs/<id>.png` (downscaled to at most [`THUMB`] px) and `images/<id>.png` (hard
//! links to, or copies of, the build's PNGs). Every page records load errors (scripts, images,
//! uncaught exceptions, `console.error`) in the `data-errors` attribute of `<html>`, which the
//! headless-browser test reads.

use crate::audit::AuditReport;
use crate::error::DatasetError;
use crate::export::Description;
use crate::fsutil::{link_or_copy, write_atomic};
use crate::generate::ManifestRow;
use crate::pairs::Pair;
use crate::questions::Question;
use crate::score::{read_jsonl, svg_accuracy_by_attribute, svg_accuracy_by_modality, xml_escape};
use crate::score::{Cell, ScoreReport};
use rayon::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Longest side of a thumbnail, in pixels.
pub const THUMB: u32 = 160;

/// Contact-sheet rows (slices) per attribute.
pub const SHEET_SLICES: usize = 3;

const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

/// What to put in the report.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// `artefact score --json` output to show (plots and tables).
    pub scores: Option<PathBuf>,
}

/// What was written.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ReportSummary {
    pub pages: Vec<PathBuf>,
    pub images: usize,
    pub questions: usize,
    pub pairs: usize,
    pub sheets: usize,
}

fn html_page(
    title: &str,
    nav_active: &str,
    has_scores: bool,
    body: &str,
    scripts: &[&str],
) -> String {
    let mut nav = String::new();
    let mut pages = vec![
        ("index.html", "Build"),
        ("sheets.html", "Contact sheets"),
        ("questions.html", "Questions"),
        ("descriptions.html", "Descriptions"),
        ("pairs.html", "Pairs"),
    ];
    if has_scores {
        pages.push(("scores.html", "Scores"));
    }
    for (href, label) in pages {
        let class = if href == nav_active {
            " class=\"active\""
        } else {
            ""
        };
        nav.push_str(&format!("<a href=\"{href}\"{class}>{label}</a>"));
    }
    let scripts: String = scripts
        .iter()
        .map(|s| format!("<script src=\"{s}\"></script>\n"))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en" data-errors="0">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<script>
window.__errors = [];
(function () {{
  function note(m) {{
    window.__errors.push(String(m));
    document.documentElement.setAttribute('data-errors', String(window.__errors.length));
    document.documentElement.setAttribute('data-error-list', window.__errors.join(' | '));
  }}
  window.addEventListener('error', function (e) {{
    note(e.message || (e.target && (e.target.src || e.target.href)) || 'error');
  }}, true);
  window.addEventListener('unhandledrejection', function (e) {{ note('rejection: ' + e.reason); }});
  var ce = console.error;
  console.error = function () {{ note(Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }};
}})();
</script>
<link rel="stylesheet" href="assets/style.css">
</head>
<body>
<header><strong>artefact report</strong><nav>{nav}</nav></header>
<main>
<h1>{title}</h1>
{body}
</main>
{scripts}</body>
</html>
"#,
        title = xml_escape(title)
    )
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// Thumbnail PNG bytes of the PNG at `src`.
fn thumbnail(src: &Path) -> Result<Vec<u8>, DatasetError> {
    let img = image::open(src).map_err(|e| DatasetError::file(src, e))?;
    let t = if img.width() > THUMB || img.height() > THUMB {
        img.resize(THUMB, THUMB, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    t.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| DatasetError::file(src, e))?;
    Ok(out.into_inner())
}

/// JavaScript file assigning `value` to `window.ARTEFACT_<name>`.
fn data_js(name: &str, value: &serde_json::Value) -> Vec<u8> {
    // `</` cannot end a script element here (the data is a separate file), but keep the file
    // safe to inline anyway
    let s = serde_json::to_string(value)
        .expect("json")
        .replace("</", "<\\/");
    format!("window.ARTEFACT_{name} = {s};\n").into_bytes()
}

fn image_cell(r: &ManifestRow, caption: &str) -> String {
    format!(
        "<figure><a href=\"images/{id}.png\"><img src=\"thumbs/{id}.png\" alt=\"{alt}\" width=\"{w}\" height=\"{h}\"></a><figcaption>{caption}</figcaption></figure>",
        id = r.id,
        alt = xml_escape(&format!(
            "{} {} {}",
            r.modality,
            r.attribute.as_deref().unwrap_or("clean"),
            r.severity
        )),
        w = thumb_dims(r).0,
        h = thumb_dims(r).1,
    )
}

fn thumb_dims(r: &ManifestRow) -> (u32, u32) {
    let (w, h) = (r.width.max(1) as f64, r.height.max(1) as f64);
    let s = (THUMB as f64 / w.max(h)).min(1.0);
    (
        ((w * s).round() as u32).max(1),
        ((h * s).round() as u32).max(1),
    )
}

fn metrics_caption(r: &ManifestRow) -> String {
    let m = &r.metrics;
    let mut s = format!(
        "<b>{}</b> · {}<br>SSIM {} · PSNR {}",
        if r.severity.as_str() == "none" {
            "clean"
        } else {
            r.severity.as_str()
        },
        r.quality_grade,
        fmt_opt(Some(m.ssim), 3),
        m.psnr.map_or("∞".into(), |p| format!("{p:.1} dB"))
    );
    if let Some(de) = m.delta_e2000 {
        s.push_str(&format!(" · ΔE00 {de:.2}"));
    }
    s
}

/// Contact sheets: per (modality, attribute), up to [`SHEET_SLICES`] slices with clean, mild
/// and severe renders (those the build has). Returns the HTML body and the number of sheets.
fn sheets_body(rows: &[ManifestRow]) -> (String, usize) {
    type SliceKey = (String, usize, usize);
    let mut by_slice: BTreeMap<SliceKey, Vec<&ManifestRow>> = BTreeMap::new();
    for r in rows {
        by_slice
            .entry((r.source_key.clone(), r.slice_axis, r.slice_index))
            .or_default()
            .push(r);
    }
    // (modality, attribute) -> slices with (clean, mild, severe)
    type Trio<'a> = (
        Option<&'a ManifestRow>,
        Option<&'a ManifestRow>,
        Option<&'a ManifestRow>,
    );
    let mut sheets: BTreeMap<(String, String), Vec<Trio>> = BTreeMap::new();
    for group in by_slice.values() {
        let clean = group.iter().find(|r| r.attribute.is_none()).copied();
        let mut attrs: Vec<&String> = group.iter().filter_map(|r| r.attribute.as_ref()).collect();
        attrs.sort();
        attrs.dedup();
        for a in attrs {
            let find = |lvl: &str| {
                group
                    .iter()
                    .find(|r| r.attribute.as_ref() == Some(a) && r.severity.as_str() == lvl)
                    .copied()
            };
            sheets
                .entry((group[0].modality.clone(), a.clone()))
                .or_default()
                .push((clean, find("mild"), find("severe")));
        }
    }
    let mut body = String::from(
        "<p>Per attribute, renders of the same slice side by side: clean, mild and severe (where the build has them), with SSIM and PSNR measured against the clean render. Click an image for full size.</p>\n<nav class=\"toc\">",
    );
    for (m, a) in sheets.keys() {
        body.push_str(&format!(
            "<a href=\"#{}\">{} · {}</a> ",
            anchor(m, a),
            xml_escape(m),
            xml_escape(a)
        ));
    }
    body.push_str("</nav>\n<div class=\"sheets\">\n");
    for ((m, a), mut trios) in sheets.clone() {
        // complete trios first, then in slice order (stable)
        trios.sort_by_key(|t| {
            std::cmp::Reverse(t.0.is_some() as u8 + t.1.is_some() as u8 + t.2.is_some() as u8)
        });
        body.push_str(&format!(
            "<section class=\"sheet\" id=\"{}\"><h2>{} · {}</h2>\n",
            anchor(&m, &a),
            xml_escape(&m),
            xml_escape(&a)
        ));
        for (c, mi, se) in trios.iter().take(SHEET_SLICES) {
            body.push_str("<div class=\"trio\">");
            for r in [c, mi, se] {
                match r {
                    Some(r) => body.push_str(&image_cell(r, &metrics_caption(r))),
                    None => body
                        .push_str("<figure class=\"absent\"><div>not in this build</div></figure>"),
                }
            }
            body.push_str("</div>\n");
        }
        body.push_str("</section>\n");
    }
    body.push_str("</div>\n");
    let n = sheets.len();
    (body, n)
}

fn anchor(m: &str, a: &str) -> String {
    format!("{m}-{a}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn index_body(dir: &Path) -> Result<String, DatasetError> {
    let mut body = String::new();
    let read = |name: &str| -> Result<serde_json::Value, DatasetError> {
        let p = dir.join(name);
        let b = std::fs::read(&p).map_err(|e| DatasetError::file(&p, e))?;
        serde_json::from_slice(&b).map_err(|e| DatasetError::file(&p, e))
    };
    let kv_table = |v: &serde_json::Value| -> String {
        let mut s = String::from("<table class=\"kv\">");
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                let val = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                s.push_str(&format!(
                    "<tr><th>{}</th><td>{}</td></tr>",
                    xml_escape(k),
                    xml_escape(&val)
                ));
            }
        }
        s.push_str("</table>\n");
        s
    };
    body.push_str("<h2>Build</h2>\n");
    body.push_str(&kv_table(&read("build.json")?));
    body.push_str("<h2>Summary</h2>\n");
    body.push_str(&kv_table(&read("summary.json")?));
    let audit_path = dir.join("audit.json");
    if audit_path.exists() {
        let a: AuditReport = serde_json::from_slice(
            &std::fs::read(&audit_path).map_err(|e| DatasetError::file(&audit_path, e))?,
        )
        .map_err(|e| DatasetError::file(&audit_path, e))?;
        body.push_str(&format!(
            "<h2>Audit: {}</h2>\n<p>Every shortcut measured against chance (<code>artefact audit</code>); {} checks, {} failed.</p>\n<table class=\"grid\"><tr><th>check</th><th>value</th><th>chance</th><th>limit</th><th>result</th><th>detail</th></tr>\n",
            if a.passed { "passed" } else { "FAILED" },
            a.checks.len(),
            a.checks.iter().filter(|c| !c.passed).count()
        ));
        for c in &a.checks {
            body.push_str(&format!(
                "<tr class=\"{}\"><td>{}</td><td>{:.3}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>\n",
                if c.passed { "pass" } else { "fail" },
                xml_escape(&c.name),
                c.value,
                fmt_opt(c.chance, 3),
                c.limit,
                if c.passed { "pass" } else { "FAIL" },
                xml_escape(&c.detail)
            ));
        }
        body.push_str("</table>\n");
    } else {
        body.push_str("<p>No <code>audit.json</code> in this build.</p>\n");
    }
    Ok(body)
}

fn cell_table(title: &str, cells: &[Cell]) -> String {
    let mut s = format!(
        "<h2>{}</h2>\n<table class=\"grid\"><tr><th>group</th><th>n</th><th>accuracy</th><th>95% CI</th><th>chance</th><th>unmatched</th><th>missing</th></tr>\n",
        xml_escape(title)
    );
    for c in cells {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1} – {:.1}%</td><td>{:.1}%</td><td>{}</td><td>{}</td></tr>\n",
            xml_escape(&c.label()),
            c.n,
            100.0 * c.accuracy,
            100.0 * c.ci_low,
            100.0 * c.ci_high,
            100.0 * c.chance,
            c.unmatched,
            c.missing
        ));
    }
    s.push_str("</table>\n");
    s
}

fn scores_body(r: &ScoreReport, out: &Path) -> Result<String, DatasetError> {
    let plots = out.join("plots");
    write_atomic(
        &plots.join("accuracy_by_attribute.svg"),
        svg_accuracy_by_attribute(r).as_bytes(),
    )?;
    write_atomic(
        &plots.join("accuracy_by_modality.svg"),
        svg_accuracy_by_modality(r).as_bytes(),
    )?;
    let mut s = format!(
        "<p>Predictions <code>{}</code> on splits {}: {} questions, {} predicted, {} missing, {} unmatched, {} refused (all counted wrong). Intervals: 95% Wilson; chance: mean of 1/options.</p>\n<p><img class=\"plot\" src=\"plots/accuracy_by_attribute.svg\" alt=\"accuracy by attribute and severity\"></p>\n<p><img class=\"plot\" src=\"plots/accuracy_by_modality.svg\" alt=\"accuracy by modality and severity\"></p>\n",
        xml_escape(&r.predictions.display().to_string()),
        xml_escape(&r.splits.join(", ")),
        r.questions,
        r.predicted,
        r.missing,
        r.unmatched,
        r.refused
    );
    s.push_str(&cell_table("Overall", std::slice::from_ref(&r.overall)));
    s.push_str(&cell_table("By modality", &r.by_modality));
    s.push_str(&cell_table("By question type", &r.by_question_type));
    s.push_str(&cell_table("By level", &r.by_level));
    s.push_str(&cell_table("By attribute × level", &r.by_attribute_level));
    s.push_str(&cell_table(
        "By modality × question type × level × attribute",
        &r.cells,
    ));
    Ok(s)
}

const FILTER_PAGE: &str = r#"<div id="filters" class="filters"></div>
<p class="count"><span id="count" data-shown="0" data-total="0"></span></p>
<div id="pager" class="pager"></div>
<div id="list" class="list"></div>
<div id="pager2" class="pager"></div>
"#;

/// Write the report of the build in `dir` into `out`.
pub fn write_report(
    dir: &Path,
    out: &Path,
    opts: &ReportOptions,
) -> Result<ReportSummary, DatasetError> {
    let rows: Vec<ManifestRow> = read_jsonl(&dir.join("manifest.jsonl"))?;
    let questions: Vec<Question> = read_jsonl(&dir.join("perception.jsonl"))?;
    let descriptions: Vec<Description> = read_jsonl(&dir.join("reasoning.jsonl"))?;
    let pairs: Vec<Pair> = read_jsonl(&dir.join("pairs.jsonl"))?;
    let scores: Option<ScoreReport> = match &opts.scores {
        Some(p) => Some(
            serde_json::from_slice(&std::fs::read(p).map_err(|e| DatasetError::file(p, e))?)
                .map_err(|e| {
                    DatasetError::file(p, format!("not the JSON of `artefact score --json` ({e})"))
                })?,
        ),
        None => None,
    };
    if out.exists() && !out.is_dir() {
        return Err(DatasetError::Output {
            path: out.to_path_buf(),
            reason: "exists and is not a directory".into(),
        });
    }
    let by_id: BTreeMap<&str, &ManifestRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    // every referenced image must be in the manifest
    for id in questions
        .iter()
        .map(|q| q.image_id.as_str())
        .chain(descriptions.iter().map(|d| d.image_id.as_str()))
        .chain(
            pairs
                .iter()
                .flat_map(|p| [p.image_a.as_str(), p.image_b.as_str()]),
        )
    {
        if !by_id.contains_key(id) {
            return Err(DatasetError::Sample {
                id: id.to_string(),
                reason: "referenced by a question, description or pair but not in manifest.jsonl"
                    .into(),
            });
        }
    }
    // images and thumbnails
    rows.par_iter()
        .map(|r| -> Result<(), DatasetError> {
            let src = dir.join(&r.file_name);
            link_or_copy(&src, &out.join("images").join(format!("{}.png", r.id)))?;
            write_atomic(
                &out.join("thumbs").join(format!("{}.png", r.id)),
                &thumbnail(&src)?,
            )
        })
        .collect::<Result<Vec<()>, DatasetError>>()?;
    write_atomic(&out.join("assets/app.js"), APP_JS.as_bytes())?;
    write_atomic(&out.join("assets/style.css"), STYLE_CSS.as_bytes())?;

    let has_scores = scores.is_some();
    let mut pages = Vec::new();
    let mut page = |name: &str, html: String| -> Result<(), DatasetError> {
        let p = out.join(name);
        write_atomic(&p, html.as_bytes())?;
        pages.push(p);
        Ok(())
    };
    page(
        "index.html",
        html_page(
            &format!("Build {}", crate::score::build_prefix(dir)),
            "index.html",
            has_scores,
            &index_body(dir)?,
            &[],
        ),
    )?;
    let (sheets, n_sheets) = sheets_body(&rows);
    page(
        "sheets.html",
        html_page("Contact sheets", "sheets.html", has_scores, &sheets, &[]),
    )?;

    let img = |id: &str| {
        let r = by_id[id];
        let (w, h) = thumb_dims(r);
        json!([r.id, w, h])
    };
    let attr = |a: &Option<String>| a.clone().unwrap_or_else(|| "clean".into());
    let qdata: Vec<serde_json::Value> = questions
        .iter()
        .map(|q| {
            json!({
                "index": q.index, "id": q.id, "image": img(&q.image_id), "split": q.split,
                "modality": q.modality, "attribute": attr(&q.attribute), "level": q.level,
                "question_type": q.question_type, "family": q.family, "question": q.question,
                "options": q.options, "answer": q.answer,
            })
        })
        .collect();
    write_atomic(
        &out.join("data/questions.js"),
        &data_js("QUESTIONS", &json!(qdata)),
    )?;
    page(
        "questions.html",
        html_page(
            "Questions",
            "questions.html",
            has_scores,
            FILTER_PAGE,
            &["data/questions.js", "assets/app.js"],
        ),
    )?;
    let ddata: Vec<serde_json::Value> = descriptions
        .iter()
        .map(|d| {
            json!({
                "index": d.index, "id": d.id, "image": img(&d.image_id), "split": d.split,
                "modality": d.modality, "attribute": attr(&d.attribute), "level": d.level,
                "grade": d.quality_grade, "description": d.description,
            })
        })
        .collect();
    write_atomic(
        &out.join("data/descriptions.js"),
        &data_js("DESCRIPTIONS", &json!(ddata)),
    )?;
    page(
        "descriptions.html",
        html_page(
            "Descriptions",
            "descriptions.html",
            has_scores,
            FILTER_PAGE,
            &["data/descriptions.js", "assets/app.js"],
        ),
    )?;
    let pdata: Vec<serde_json::Value> = pairs
        .iter()
        .map(|p| {
            let worse = if p.better == "A" {
                (&p.attribute_b, p.severity_b)
            } else {
                (&p.attribute_a, p.severity_a)
            };
            json!({
                "index": p.index, "id": p.id, "split": p.split, "modality": p.modality,
                "kind": p.kind, "a": img(&p.image_a), "b": img(&p.image_b),
                "level_a": p.severity_a, "level_b": p.severity_b,
                "attribute_a": attr(&p.attribute_a), "attribute_b": attr(&p.attribute_b),
                "attribute": attr(worse.0), "level": worse.1,
                "better": p.better, "description": p.description,
            })
        })
        .collect();
    write_atomic(&out.join("data/pairs.js"), &data_js("PAIRS", &json!(pdata)))?;
    page(
        "pairs.html",
        html_page(
            "Pairs",
            "pairs.html",
            has_scores,
            FILTER_PAGE,
            &["data/pairs.js", "assets/app.js"],
        ),
    )?;
    if let Some(r) = &scores {
        page(
            "scores.html",
            html_page("Scores", "scores.html", true, &scores_body(r, out)?, &[]),
        )?;
    }
    Ok(ReportSummary {
        pages,
        images: rows.len(),
        questions: questions.len(),
        pairs: pairs.len(),
        sheets: n_sheets,
    })
}
