//! Exporters: JSON Lines, VLMEvalKit TSVs (MedQ-Bench column names) and Hugging Face
//! `imagefolder` layouts. Model-facing files carry no label outside the scoring columns: ids and
//! file names are opaque, rows are in the builder's shuffled order.
//!
//! VLMEvalKit (`vlmevalkit/`), one file per task and split, named by the build's unique dataset
//! names ([`DatasetNames`], e.g. `demo_1a2b3c4d_MCQ_test.tsv`) so that two builds never share
//! VLMEvalKit's image cache (`LMUData/images/<dataset name>/<index>.png`):
//! - `<name>_MCQ_<split>.tsv`: `index, image, question, A, B, C, D, answer, modality,
//!   question_type, level, category` (image = base64 PNG; unused options empty);
//! - `<name>_Description_<split>.tsv`: `index, image, description`;
//! - `<name>_PairedDescription_<split>.tsv`: `index, image, description`, with `image` a
//!   Python list literal `['<base64 A>', '<base64 B>']` (VLMEvalKit evaluates list-valued
//!   image cells);
//! - `config.json`: a VLMEvalKit `--config` file naming every TSV as a custom dataset
//!   (`CustomMCQDataset` / `CustomVQADataset`; copy the TSVs into `$LMUData`).
//!
//! Hugging Face (`hf/<task>/<split>/`): `metadata.jsonl` beside an `images/` folder (hard links
//! to the PNGs): `file_name` for perception and reasoning rows, `image_a_file_name` /
//! `image_b_file_name` for pairs. Load with `datasets.load_dataset("imagefolder",
//! data_dir="OUT/hf/perception")`.

use crate::error::DatasetError;
use crate::fsutil::{link_or_copy, write_atomic};
use crate::generate::ManifestRow;
use crate::pairs::Pair;
use crate::questions::{Question, LETTERS};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// A TSV cell: tabs and newlines become spaces; a cell with a double quote is quoted
/// CSV-style (pandas' default `read_csv(sep="\t")` reads it back).
pub fn tsv_cell(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c == '\t' || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if clean.contains('"') {
        format!("\"{}\"", clean.replace('"', "\"\""))
    } else {
        clean
    }
}

fn tsv(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = header.join("\t");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|c| tsv_cell(c)).collect::<Vec<_>>().join("\t"));
        out.push('\n');
    }
    out.into_bytes()
}

/// Serialise rows as JSON Lines.
pub fn jsonl<T: Serialize>(rows: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut out, r).expect("rows serialise");
        out.push(b'\n');
    }
    out
}

/// One row of `reasoning.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Description {
    pub index: usize,
    /// Opaque id.
    pub id: String,
    pub image_id: String,
    pub split: String,
    /// Full modality name.
    pub modality: String,
    pub level: artefact_core::Severity,
    pub quality_grade: artefact_core::QualityGrade,
    /// The image's attribute (`None` for a clean image).
    pub attribute: Option<String>,
    pub description: String,
}

/// The VLMEvalKit dataset names of one build: `<benchmark>_<8 hex of the build key>_<task>_<split>`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DatasetNames {
    /// `<benchmark>_<8 hex>`.
    pub prefix: String,
}

impl DatasetNames {
    pub fn new(benchmark: &str, build_key: &str) -> DatasetNames {
        DatasetNames {
            prefix: format!("{benchmark}_{}", &build_key[..8.min(build_key.len())]),
        }
    }
    pub fn mcq(&self, split: &str) -> String {
        format!("{}_MCQ_{split}", self.prefix)
    }
    pub fn description(&self, split: &str) -> String {
        format!("{}_Description_{split}", self.prefix)
    }
    pub fn paired(&self, split: &str) -> String {
        format!("{}_PairedDescription_{split}", self.prefix)
    }
}

pub const MCQ_COLUMNS: [&str; 12] = [
    "index",
    "image",
    "question",
    "A",
    "B",
    "C",
    "D",
    "answer",
    "modality",
    "question_type",
    "level",
    "category",
];
pub const DESCRIPTION_COLUMNS: [&str; 3] = ["index", "image", "description"];

/// Write the VLMEvalKit TSVs and the Hugging Face layouts.
pub fn write_exports(
    out: &Path,
    splits: &[String],
    rows: &[ManifestRow],
    questions: &[Question],
    descriptions: &[Description],
    pairs: &[Pair],
    names: &DatasetNames,
) -> Result<(), DatasetError> {
    let by_id: BTreeMap<&str, &ManifestRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut b64_cache: BTreeMap<&str, String> = BTreeMap::new();
    let mut b64 = |id: &str| -> Result<String, DatasetError> {
        let r = by_id[id];
        if let Some(s) = b64_cache.get(r.id.as_str()) {
            return Ok(s.clone());
        }
        let p = out.join(&r.file_name);
        let bytes = std::fs::read(&p).map_err(|e| DatasetError::file(&p, e))?;
        let s = base64(&bytes);
        b64_cache.insert(r.id.as_str(), s.clone());
        Ok(s)
    };
    let vdir = out.join("vlmevalkit");
    let mut config = serde_json::Map::new();
    for split in splits {
        let mut mcq = Vec::new();
        for q in questions.iter().filter(|q| &q.split == split) {
            let mut row = vec![q.index.to_string(), b64(&q.image_id)?, q.question.clone()];
            for i in 0..4 {
                row.push(q.options.get(i).cloned().unwrap_or_default());
            }
            row.extend([
                q.answer.clone(),
                q.modality.clone(),
                q.question_type.clone(),
                q.level.to_string(),
                q.category.clone(),
            ]);
            mcq.push(row);
        }
        write_atomic(
            &vdir.join(format!("{}.tsv", names.mcq(split))),
            &tsv(&MCQ_COLUMNS, &mcq),
        )?;
        let mut desc = Vec::new();
        for d in descriptions.iter().filter(|d| &d.split == split) {
            desc.push(vec![
                d.index.to_string(),
                b64(&d.image_id)?,
                d.description.clone(),
            ]);
        }
        write_atomic(
            &vdir.join(format!("{}.tsv", names.description(split))),
            &tsv(&DESCRIPTION_COLUMNS, &desc),
        )?;
        let mut pd = Vec::new();
        for p in pairs.iter().filter(|p| &p.split == split) {
            // a Python list literal (VLMEvalKit evaluates list-valued image cells); base64 has
            // no quotes, so the cell needs no TSV quoting
            let list = format!("['{}', '{}']", b64(&p.image_a)?, b64(&p.image_b)?);
            pd.push(vec![p.index.to_string(), list, p.description.clone()]);
        }
        write_atomic(
            &vdir.join(format!("{}.tsv", names.paired(split))),
            &tsv(&DESCRIPTION_COLUMNS, &pd),
        )?;
        for (name, class, rows) in [
            (names.mcq(split), "CustomMCQDataset", mcq.len()),
            (names.description(split), "CustomVQADataset", desc.len()),
            (names.paired(split), "CustomVQADataset", pd.len()),
        ] {
            if rows > 0 {
                config.insert(name.clone(), json!({"class": class, "dataset": name}));
            }
        }

        // Hugging Face imagefolder layouts
        let link = |task: &str, id: &str| -> Result<String, DatasetError> {
            let r = by_id[id];
            let name = format!("images/{}.png", r.id);
            link_or_copy(
                &out.join(&r.file_name),
                &out.join("hf").join(task).join(split).join(&name),
            )?;
            Ok(name)
        };
        let mut meta = Vec::new();
        for q in questions.iter().filter(|q| &q.split == split) {
            let mut v = json!({
                "file_name": link("perception", &q.image_id)?,
                "question_id": q.id, "image_id": q.image_id, "question": q.question,
                "answer": q.answer, "modality": q.modality, "question_type": q.question_type,
                "level": q.level, "category": q.category, "index": q.index,
            });
            for (i, l) in LETTERS.iter().enumerate() {
                v[*l] = json!(q.options.get(i).cloned().unwrap_or_default());
            }
            meta.push(v);
        }
        write_atomic(
            &out.join("hf/perception").join(split).join("metadata.jsonl"),
            &jsonl(&meta),
        )?;
        let mut meta = Vec::new();
        for d in descriptions.iter().filter(|d| &d.split == split) {
            meta.push(json!({
                "file_name": link("reasoning", &d.image_id)?, "image_id": d.image_id,
                "index": d.index, "modality": d.modality, "level": d.level,
                "quality_grade": d.quality_grade, "description": d.description,
            }));
        }
        write_atomic(
            &out.join("hf/reasoning").join(split).join("metadata.jsonl"),
            &jsonl(&meta),
        )?;
        let mut meta = Vec::new();
        for p in pairs.iter().filter(|p| &p.split == split) {
            meta.push(json!({
                "image_a_file_name": link("pairs", &p.image_a)?, "image_b_file_name": link("pairs", &p.image_b)?,
                "pair_id": p.id, "index": p.index, "kind": p.kind, "modality": p.modality,
                "better": p.better, "description": p.description,
            }));
        }
        write_atomic(
            &out.join("hf/pairs").join(split).join("metadata.jsonl"),
            &jsonl(&meta),
        )?;
    }
    let cfg = json!({
        "model": {"REPLACE_WITH_A_VLMEVALKIT_MODEL_NAME": {}},
        "data": serde_json::Value::Object(config),
    });
    write_atomic(
        &vdir.join("config.json"),
        &serde_json::to_vec_pretty(&cfg).expect("config"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn tsv_cells_are_safe() {
        assert_eq!(tsv_cell("a\tb\nc"), "a b c");
        assert_eq!(tsv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
