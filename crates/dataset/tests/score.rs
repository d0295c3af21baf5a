//! `artefact score` on a small real build: oracle predictions score 100 %, constant "A" scores
//! exactly A's share in every cell, seeded random predictions land in the reported interval
//! around chance; missing, unknown and duplicate predictions are reported, never skipped;
//! the reasoning tasks' judge-free quality accuracy and judge round trip.

mod small;

use artefact_core::Seed;
use artefact_dataset::export::Description;
use artefact_dataset::judge::{
    aggregate_judgements, custom_id, grade_accuracy, items, judge_requests, AXES,
};
use artefact_dataset::pairs::Pair;
use artefact_dataset::questions::Question;
use artefact_dataset::score::{
    read_jsonl, read_predictions, score, svg_accuracy_by_attribute, Cell, ScoreOptions, Task,
};
use rand::Rng;
use std::path::Path;

fn write_jsonl(path: &Path, rows: &[(usize, String)]) {
    let mut s = String::new();
    for (i, p) in rows {
        s.push_str(&serde_json::json!({"index": i, "prediction": p}).to_string());
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn all_cells(r: &artefact_dataset::score::ScoreReport) -> Vec<&Cell> {
    std::iter::once(&r.overall)
        .chain(&r.by_modality)
        .chain(&r.by_question_type)
        .chain(&r.by_level)
        .chain(&r.by_attribute)
        .chain(&r.by_attribute_level)
        .chain(&r.by_modality_level)
        .chain(&r.cells)
        .collect()
}

#[test]
fn oracle_constant_and_random_predictions() {
    let (tmp, out) = small::small_build(3);
    let qs: Vec<Question> = read_jsonl(&out.join("perception.jsonl")).unwrap();
    assert!(qs.len() >= 60, "{} questions", qs.len());
    let p = tmp.path().join("pred.jsonl");

    // oracle, written the way a chatty model answers
    write_jsonl(
        &p,
        &qs.iter()
            .map(|q| (q.index, format!("Answer: ({})", q.answer)))
            .collect::<Vec<_>>(),
    );
    let r = score(&out, &p, &ScoreOptions::default()).unwrap();
    assert_eq!(r.questions, qs.len());
    assert_eq!((r.missing, r.unmatched), (0, 0));
    for c in all_cells(&r) {
        assert_eq!(c.correct, c.n, "{}", c.label());
        assert_eq!(c.accuracy, 1.0);
        assert!(c.ci_low > 0.0 && c.ci_high == 1.0);
    }
    assert_eq!(r.splits, vec!["dev".to_string(), "test".to_string()]);

    // constant "A": exactly the share of A answers, in every cell
    write_jsonl(
        &p,
        &qs.iter().map(|q| (q.index, "A".into())).collect::<Vec<_>>(),
    );
    let r = score(&out, &p, &ScoreOptions::default()).unwrap();
    let share_a = qs.iter().filter(|q| q.answer == "A").count();
    assert_eq!(r.overall.correct, share_a);
    assert_eq!(r.overall.accuracy, share_a as f64 / qs.len() as f64);
    for c in &r.by_modality_level {
        let n_a = qs
            .iter()
            .filter(|q| {
                Some(&q.modality) == c.modality.as_ref()
                    && Some(q.level.as_str()) == c.level.as_deref()
                    && q.answer == "A"
            })
            .count();
        assert_eq!(c.correct, n_a, "{}", c.label());
    }

    // seeded uniform random letters: accuracy within the reported 95 % interval of chance
    let mut rng = Seed::from_u64(20261203).rng();
    write_jsonl(
        &p,
        &qs.iter()
            .map(|q| {
                let k = q.options.iter().filter(|o| !o.is_empty()).count();
                (q.index, ["A", "B", "C", "D"][rng.random_range(0..k)].into())
            })
            .collect::<Vec<_>>(),
    );
    let r = score(&out, &p, &ScoreOptions::default()).unwrap();
    let c = &r.overall;
    assert!(
        c.ci_low <= c.chance && c.chance <= c.ci_high,
        "random accuracy {:.3} [{:.3}, {:.3}] excludes chance {:.3}",
        c.accuracy,
        c.ci_low,
        c.ci_high,
        c.chance
    );
    // chance = mean of 1/options: between 1/4 and 1/2, and exactly that mean
    let want: f64 = qs
        .iter()
        .map(|q| 1.0 / q.options.iter().filter(|o| !o.is_empty()).count() as f64)
        .sum::<f64>()
        / qs.len() as f64;
    assert!((c.chance - want).abs() < 1e-12);
    // the plot has one bar (and one chance mark) per attribute × level cell
    let svg = svg_accuracy_by_attribute(&r);
    assert_eq!(
        svg.matches("class=\"chance\"").count(),
        r.by_attribute_level.len()
    );
}

#[test]
fn missing_unknown_duplicate_and_vlmevalkit_tsv() {
    let (tmp, out) = small::small_build(3);
    let qs: Vec<Question> = read_jsonl(&out.join("perception.jsonl")).unwrap();
    let test: Vec<&Question> = qs.iter().filter(|q| q.split == "test").collect();

    // a VLMEvalKit-style result TSV for the test split: extra columns, a quoted multi-line
    // prediction, one empty prediction cell and two rows left out
    let tsv = tmp.path().join("model_unit_MCQ_test.tsv");
    let mut s = String::from("index\tquestion\tA\tB\tanswer\tprediction\n");
    for (k, q) in test.iter().enumerate().skip(2) {
        let pred = match k {
            2 => String::new(),
            3 => format!("\"The image shows it.\nAnswer: {}\"", q.answer),
            _ => q.answer.clone(),
        };
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{pred}\n",
            q.index, q.question, q.options[0], q.options[1], q.answer
        ));
    }
    std::fs::write(&tsv, &s).unwrap();
    let r = score(&out, &tsv, &ScoreOptions::default()).unwrap();
    assert_eq!(r.splits, vec!["test".to_string()]);
    assert_eq!(r.questions, test.len());
    assert_eq!(r.missing, 3, "two rows left out and one empty cell");
    assert_eq!(r.overall.correct, test.len() - 3);
    let mut miss = r.missing_indices.clone();
    miss.sort();
    let mut want: Vec<usize> = test[..3].iter().map(|q| q.index).collect();
    want.sort();
    assert_eq!(miss, want);
    assert_eq!(Task::from_file_name(&tsv), Some(Task::Mcq));

    // the same as CSV
    let csv = tmp.path().join("pred.csv");
    let mut s = String::from("index,prediction\n");
    for q in &test {
        s.push_str(&format!("{},\"{}, surely\"\n", q.index, q.answer));
    }
    std::fs::write(&csv, &s).unwrap();
    let r = score(&out, &csv, &ScoreOptions::default()).unwrap();
    assert_eq!(r.overall.accuracy, 1.0);

    // an index that is no question of the build
    let bad = tmp.path().join("bad.jsonl");
    write_jsonl(&bad, &[(qs.len() + 1000, "A".into())]);
    let e = score(&out, &bad, &ScoreOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not a question of this build"), "{e}");
    // duplicates
    write_jsonl(&bad, &[(0, "A".into()), (0, "B".into())]);
    let e = read_predictions(&bad).unwrap_err().to_string();
    assert!(e.contains("appears twice"), "{e}");
    // a question text from another build
    let other = tmp.path().join("other.tsv");
    std::fs::write(
        &other,
        format!(
            "index\tquestion\tprediction\n{}\tIs this a cat?\tA\n",
            qs[0].index
        ),
    )
    .unwrap();
    let e = score(&out, &other, &ScoreOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("differs from this build"), "{e}");
    // a file that is not a workbook
    std::fs::write(tmp.path().join("x.xlsx"), "index\tprediction\n").unwrap();
    let e = read_predictions(&tmp.path().join("x.xlsx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.xlsx") && e.contains("XLSX"), "{e}");
}

/// VLMEvalKit's default result file is an XLSX written by pandas + openpyxl:
/// tests/data/score/vlmevalkit_result.xlsx was made with pandas 3.1 / openpyxl 3.1 by
///
/// ```text
/// pd.DataFrame({"index": [0, 7, 12, 40],
///               "question": ["Is there motion blur?", "What degradation?", "How severe?",
///                            "Is it noisy?"],
///               "A": ["Yes", "noise", "none", "Yes"], "B": ["No", "blur", "mild", "No"],
///               "answer": ["A", "B", "C", "B"],
///               "prediction": ["A", "The answer is (B) blur", None, "No, it is not."],
///               }).to_excel("vlmevalkit_result.xlsx", index=False)
/// ```
#[test]
fn vlmevalkit_xlsx_results_are_read() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/score/vlmevalkit_result.xlsx");
    let rows = read_predictions(&path).unwrap();
    let got: Vec<(usize, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|r| (r.index, r.prediction.as_deref(), r.question.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, Some("A"), Some("Is there motion blur?")),
            (7, Some("The answer is (B) blur"), Some("What degradation?")),
            (12, None, Some("How severe?")),
            (40, Some("No, it is not."), Some("Is it noisy?")),
        ]
    );
}

#[test]
fn reasoning_tasks_quality_accuracy_and_judge_round_trip() {
    let (tmp, out) = small::small_build(3);
    let descs: Vec<Description> = read_jsonl(&out.join("reasoning.jsonl")).unwrap();
    let pairs: Vec<Pair> = read_jsonl(&out.join("pairs.jsonl")).unwrap();
    assert!(!descs.is_empty() && !pairs.is_empty());

    // the reference texts themselves carry the right verdict
    for (task, texts) in [
        (
            Task::Description,
            descs
                .iter()
                .map(|d| (d.index, d.description.clone()))
                .collect::<Vec<_>>(),
        ),
        (
            Task::Paired,
            pairs
                .iter()
                .map(|p| (p.index, p.description.clone()))
                .collect(),
        ),
    ] {
        let p = tmp.path().join("reason.jsonl");
        write_jsonl(&p, &texts);
        let its = items(&out, task).unwrap();
        let rows = read_predictions(&p).unwrap();
        let g = grade_accuracy(&its, task, &rows, &p).unwrap();
        assert_eq!(g.overall.n, texts.len());
        assert_eq!(g.overall.accuracy, 1.0, "{task:?}: {}", g.table());
        // judge requests: one per item, with the rubric and both texts
        let (reqs, empty) = judge_requests(&its, &rows, &p, "judge-x").unwrap();
        assert_eq!((reqs.len(), empty), (texts.len(), 0));
        for r in &reqs {
            assert_eq!(r["url"], "/v1/chat/completions");
            assert_eq!(r["body"]["model"], "judge-x");
            let sys = r["body"]["messages"][0]["content"].as_str().unwrap();
            for a in AXES {
                assert!(sys.contains(a));
            }
        }
        // a judge answering 2,1,0,2 for every item (batch output format), one unreadable
        let j = tmp.path().join("judged.jsonl");
        let mut s = String::new();
        for (k, it) in its.iter().enumerate() {
            let content = if k == 0 {
                "I cannot grade this.".to_string()
            } else {
                "{\"completeness\": 2, \"preciseness\": 1, \"consistency\": 0, \"quality_accuracy\": 2}".into()
            };
            s.push_str(
                &serde_json::json!({"custom_id": custom_id(task, it.index),
                    "response": {"status_code": 200, "body": {"choices": [{"message": {"content": content}}]}}})
                .to_string(),
            );
            s.push('\n');
        }
        std::fs::write(&j, s).unwrap();
        let r = aggregate_judgements(&its, task, &j).unwrap();
        assert_eq!(r.judged, its.len() - 1);
        assert_eq!(r.invalid.len(), 1);
        assert_eq!(r.overall.axes["completeness"].mean, 2.0);
        assert_eq!(r.overall.axes["preciseness"].mean, 1.0);
        assert_eq!(r.overall.axes["consistency"].mean, 0.0);
        assert_eq!(r.overall.total.mean, 5.0);
        assert_eq!(
            r.by_modality.iter().map(|g| g.n).sum::<usize>(),
            its.len() - 1
        );
        assert_eq!(
            r.by_attribute.iter().map(|g| g.n).sum::<usize>(),
            its.len() - 1
        );
    }
}
