//! Exporters: JSON Lines, VLMEvalKit TSVs (MedQ-Bench column names) and Hugging Face
//! `imagefolder` layouts. Model-facing files carry no label outside the scoring columns: ids and
//! file names are opaque, rows are in the builder's shuffled order.
//!
//! VLMEvalKit (`vlmevalkit/`), one file per task and split, named by the build's unique dataset
//! names ([`DatasetNames`], e.g. `demo_1a2b3c4d_MCQ_test.tsv`) so that two builds never share
//! VLMEvalKit's image cache (`LMUData/images/<dataset name>/<index>.png`):
//! - `<name>_MCQ_<split>.tsv`: `index, image, question, A, B, C, D, answer, modality,
//!   question_type, level, category` (image = base64 PNG in an image's first row, and in
//!   its later rows the `index` of that first row, as VLMEvalKit resolves image cells of
//!   ≤ 64 characters; unused options empty);
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
use crate::fsutil::{link_or_copy, write_atomic, AtomicFile};
use crate::generate::ManifestRow;
use crate::pairs::Pair;
use crate::questions::{Question, LETTERS};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
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

/// A TSV written row by row (atomically, see [`AtomicFile`]).
struct TsvFile {
    f: AtomicFile,
    rows: usize,
}

impl TsvFile {
    fn create(path: &Path, header: &[&str]) -> Result<TsvFile, DatasetError> {
        let mut f = AtomicFile::create(path)?;
        f.write(header.join("\t").as_bytes())?;
        f.write(b"\n")?;
        Ok(TsvFile { f, rows: 0 })
    }

    fn row(&mut self, cells: &[&str]) -> Result<(), DatasetError> {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.f.write(b"\t")?;
            }
            self.f.write(tsv_cell(c).as_bytes())?;
        }
        self.rows += 1;
        self.f.write(b"\n")
    }
}

/// Write the VLMEvalKit TSVs and the Hugging Face layouts.
///
/// Everything is streamed: each PNG is read and encoded when a row needs it and no table is
/// held in memory, so memory does not grow with the build. In an MCQ TSV an image's first
/// row carries its base64 and every later question about the same image carries that row's
/// `index` instead (VLMEvalKit's own space saving: an image cell of ≤ 64 characters names the
/// row holding the image), which halves the file.
pub fn write_exports(
    out: &Path,
    splits: &[String],
    rows: &[ManifestRow],
    questions: &[Question],
    descriptions: &[Description],
    pairs: &[Pair],
    names: &DatasetNames,
) -> Result<(), DatasetError> {
    let by_id: HashMap<&str, &ManifestRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let b64 = |id: &str| -> Result<String, DatasetError> {
        let r = by_id[id];
        let p = out.join(&r.file_name);
        let bytes = std::fs::read(&p).map_err(|e| DatasetError::file(&p, e))?;
        Ok(base64(&bytes))
    };
    let vdir = out.join("vlmevalkit");
    let mut config = serde_json::Map::new();
    for split in splits {
        let mut mcq = TsvFile::create(
            &vdir.join(format!("{}.tsv", names.mcq(split))),
            &MCQ_COLUMNS,
        )?;
        let mut first_row: HashMap<&str, usize> = HashMap::new();
        for q in questions.iter().filter(|q| &q.split == split) {
            let image = match first_row.get(q.image_id.as_str()) {
                Some(i) => i.to_string(),
                None => {
                    first_row.insert(&q.image_id, q.index);
                    b64(&q.image_id)?
                }
            };
            let index = q.index.to_string();
            let opt = |i: usize| q.options.get(i).map_or("", String::as_str);
            let level = q.level.to_string();
            mcq.row(&[
                &index,
                &image,
                &q.question,
                opt(0),
                opt(1),
                opt(2),
                opt(3),
                &q.answer,
                &q.modality,
                &q.question_type,
                &level,
                &q.category,
            ])?;
        }
        let n_mcq = mcq.rows;
        mcq.f.commit()?;
        let mut desc = TsvFile::create(
            &vdir.join(format!("{}.tsv", names.description(split))),
            &DESCRIPTION_COLUMNS,
        )?;
        for d in descriptions.iter().filter(|d| &d.split == split) {
            desc.row(&[&d.index.to_string(), &b64(&d.image_id)?, &d.description])?;
        }
        let n_desc = desc.rows;
        desc.f.commit()?;
        let mut pd = TsvFile::create(
            &vdir.join(format!("{}.tsv", names.paired(split))),
            &DESCRIPTION_COLUMNS,
        )?;
        for p in pairs.iter().filter(|p| &p.split == split) {
            // a Python list literal (VLMEvalKit evaluates list-valued image cells); base64 has
            // no quotes, so the cell needs no TSV quoting
            let list = format!("['{}', '{}']", b64(&p.image_a)?, b64(&p.image_b)?);
            pd.row(&[&p.index.to_string(), &list, &p.description])?;
        }
        let n_pd = pd.rows;
        pd.f.commit()?;
        for (name, class, rows) in [
            (names.mcq(split), "CustomMCQDataset", n_mcq),
            (names.description(split), "CustomVQADataset", n_desc),
            (names.paired(split), "CustomVQADataset", n_pd),
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
        let mut meta =
            AtomicFile::create(&out.join("hf/perception").join(split).join("metadata.jsonl"))?;
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
            meta.json_line(&v)?;
        }
        meta.commit()?;
        let mut meta =
            AtomicFile::create(&out.join("hf/reasoning").join(split).join("metadata.jsonl"))?;
        for d in descriptions.iter().filter(|d| &d.split == split) {
            meta.json_line(&json!({
                "file_name": link("reasoning", &d.image_id)?, "image_id": d.image_id,
                "index": d.index, "modality": d.modality, "level": d.level,
                "quality_grade": d.quality_grade, "description": d.description,
            }))?;
        }
        meta.commit()?;
        let mut meta =
            AtomicFile::create(&out.join("hf/pairs").join(split).join("metadata.jsonl"))?;
        for p in pairs.iter().filter(|p| &p.split == split) {
            meta.json_line(&json!({
                "image_a_file_name": link("pairs", &p.image_a)?, "image_b_file_name": link("pairs", &p.image_b)?,
                "pair_id": p.id, "index": p.index, "kind": p.kind, "modality": p.modality,
                "better": p.better, "description": p.description,
            }))?;
        }
        meta.commit()?;
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
