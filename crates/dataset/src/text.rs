//! Question, description and comparison text.

use artefact_core::{Modality, QualityGrade, SampleRng, Severity};
use artefact_recipe::AttributeRecipe;
use rand::Rng;

/// "No obvious artifact" option text for clean images.
pub const NO_ARTIFACT: &str = "No obvious artifact";

/// Capitalised grade word for options.
pub fn grade_option(g: QualityGrade) -> &'static str {
    match g {
        QualityGrade::Good => "Good",
        QualityGrade::Usable => "Usable",
        QualityGrade::Reject => "Reject",
    }
}

/// Option word of a "how severe" question. Not "None": pandas (and so VLMEvalKit's TSV loader)
/// reads a bare `None` cell as a missing value.
pub fn severity_option(s: Severity) -> &'static str {
    match s {
        Severity::None => "Not present",
        Severity::Mild => "Mild",
        Severity::Severe => "Severe",
    }
}

/// One phrase describing the image: the recipe's phrase for its severity, or the clean text.
pub fn phrase(attr: Option<&AttributeRecipe>, sev: Severity, rng: &mut SampleRng) -> String {
    match attr {
        Some(a) if sev != Severity::None => {
            let list = a.descriptions(sev);
            list[rng.random_range(0..list.len())].trim().to_string()
        }
        _ => "no obvious artifact; edges are sharp, noise is low and contrast is adequate"
            .to_string(),
    }
}

fn impact(grade: QualityGrade) -> &'static str {
    match grade {
        QualityGrade::Good => "Anatomical structures are clearly depicted.",
        QualityGrade::Usable => {
            "Diagnostic content remains largely visible, although fine detail is affected."
        }
        QualityGrade::Reject => "The degradation obscures diagnostically relevant detail.",
    }
}

/// No-reference description ending with "Overall, the quality of this image is {grade}."
pub fn describe(modality: Modality, phrase: &str, grade: QualityGrade) -> String {
    format!(
        "This {} image shows {}. {} Overall, the quality of this image is {}.",
        modality.display_name(),
        phrase,
        impact(grade),
        grade
    )
}

/// Comparison text ending with which image is better.
pub fn describe_pair(modality: Modality, first: &str, second: &str, first_better: bool) -> String {
    format!(
        "Both are {} images of the same anatomy. The first image shows {}. The second image shows {}. Overall, the {} image has better quality.",
        modality.display_name(),
        first,
        second,
        if first_better { "first" } else { "second" }
    )
}

/// Cell texts that `pandas.read_csv` turns into NaN by default (its `na_values` list); no
/// option, question or description may be exactly one of these.
pub const PANDAS_NA_TOKENS: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_option_words_survive_pandas() {
        let mut words = vec![NO_ARTIFACT, "Yes", "No"];
        words.extend([Severity::None, Severity::Mild, Severity::Severe].map(severity_option));
        words.extend(
            [
                QualityGrade::Good,
                QualityGrade::Usable,
                QualityGrade::Reject,
            ]
            .map(grade_option),
        );
        for w in words {
            assert!(!PANDAS_NA_TOKENS.contains(&w), "{w:?} would load as NaN");
        }
    }
}
