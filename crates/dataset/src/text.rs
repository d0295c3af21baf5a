//! Question, description and comparison text.
//!
//! Every template is written for every grammatical number of an attribute's noun
//! ([`NounNumber`]): "Are there motion artifacts …", "Is there noise …", "Is there a bias field
//! …". Each question family has at least four phrasings, each clean-image description at least
//! three per modality, and the description and comparison sentences have several structures, so
//! that no wording is tied to a label. Questions never presuppose a degradation: "how strong"
//! questions offer "Not present", and "what" questions say "if any" and offer
//! [`NO_ARTIFACT`].

use artefact_core::{Modality, QualityGrade, SampleRng, Severity};
use artefact_recipe::{AttributeRecipe, NounNumber};
use rand::Rng;

/// "No obvious artifact" option text of "what" questions.
pub const NO_ARTIFACT: &str = "No obvious artifact";

/// Options of "how would you rate the quality" questions, in MedQ-Bench's ordinal order.
pub const GRADE_OPTIONS: [&str; 3] = ["Good", "Usable", "Reject"];

/// Options of "how strong is the …" questions, in ordinal order. Not "None": pandas (and so
/// VLMEvalKit's TSV loader) reads a bare `None` cell as a missing value.
pub const LEVEL_OPTIONS: [&str; 3] = ["Not present", "Mild", "Severe"];

/// Options of yes-or-no questions, in this order.
pub const YES_NO_OPTIONS: [&str; 2] = ["Yes", "No"];

/// Capitalised grade word for options.
pub fn grade_option(g: QualityGrade) -> &'static str {
    match g {
        QualityGrade::Good => GRADE_OPTIONS[0],
        QualityGrade::Usable => GRADE_OPTIONS[1],
        QualityGrade::Reject => GRADE_OPTIONS[2],
    }
}

/// Option word of a "how strong" question.
pub fn severity_option(s: Severity) -> &'static str {
    match s {
        Severity::None => LEVEL_OPTIONS[0],
        Severity::Mild => LEVEL_OPTIONS[1],
        Severity::Severe => LEVEL_OPTIONS[2],
    }
}

/// `a` or `an` before `word` (by its first letter; enough for the nouns of quality attributes).
pub fn indefinite_article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// An attribute noun with its number, for templates.
#[derive(Clone, Copy, Debug)]
pub struct Noun<'a> {
    pub text: &'a str,
    pub number: NounNumber,
}

impl<'a> Noun<'a> {
    pub fn of(a: &'a AttributeRecipe) -> Noun<'a> {
        Noun {
            text: &a.noun,
            number: a.number,
        }
    }

    /// The noun as an indefinite phrase: "motion artifacts", "noise", "a bias field".
    pub fn indefinite(&self) -> String {
        match self.number {
            NounNumber::Singular => format!("{} {}", indefinite_article(self.text), self.text),
            _ => self.text.to_string(),
        }
    }

    /// "is" or "are".
    pub fn be(&self) -> &'static str {
        match self.number {
            NounNumber::Plural => "are",
            _ => "is",
        }
    }

    /// "Is" or "Are".
    pub fn be_cap(&self) -> &'static str {
        match self.number {
            NounNumber::Plural => "Are",
            _ => "Is",
        }
    }
}

/// Question families. The family and the target attribute decide the correct answer; the
/// phrasing is drawn at random among at least four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// "Are there motion artifacts in this MRI image?" — Yes iff the image has the attribute.
    Presence,
    /// "Is this MRI image free of motion artifacts?" — Yes iff it does not.
    Absence,
    /// "Is the quality of this CT image acceptable for diagnosis?" — Yes iff not graded reject.
    Acceptable,
    /// "What is the most prominent quality issue in this image, if any?"
    What,
    /// "How would you rate the overall quality of this image?" — Good / Usable / Reject.
    Grade,
    /// "How pronounced are the motion artifacts in this image, if present?" — Not present /
    /// Mild / Severe.
    Level,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Presence,
        Family::Absence,
        Family::Acceptable,
        Family::What,
        Family::Grade,
        Family::Level,
    ];

    /// MedQ-Bench's question category: `general` questions are asked of any image in the same
    /// words; `modality-specific` ones name a modality-specific attribute.
    pub fn category(self) -> &'static str {
        match self {
            Family::Acceptable | Family::Grade => "general",
            Family::Presence | Family::Absence | Family::What | Family::Level => {
                "modality-specific"
            }
        }
    }

    /// Does this family name an attribute?
    pub fn needs_attribute(self) -> bool {
        matches!(self, Family::Presence | Family::Absence | Family::Level)
    }

    /// Number of phrasings of this family.
    pub fn phrasings(self) -> usize {
        5
    }
}

/// The question of `family` about attribute noun `noun` (if the family names one) for an
/// image of modality display name `m`, in phrasing `k` (taken modulo the number of phrasings).
pub fn question(family: Family, noun: Option<Noun<'_>>, m: &str, k: usize) -> String {
    let k = k % family.phrasings();
    let n = noun.unwrap_or(Noun {
        text: "degradation",
        number: NounNumber::Mass,
    });
    let ind = n.indefinite();
    let t = n.text;
    match family {
        Family::Presence => match k {
            0 => match n.number {
                NounNumber::Plural => format!("Are there {t} in this {m} image?"),
                _ => format!("Is there {ind} in this {m} image?"),
            },
            1 => format!("Does this {m} image show {ind}?"),
            2 => format!("{} {ind} visible in this {m} image?", n.be_cap()),
            3 => format!("Can {ind} be seen in this {m} image?"),
            _ => format!("Is this {m} image affected by {ind}?"),
        },
        Family::Absence => match k {
            0 => format!("Is this {m} image free of {t}?"),
            1 => format!("Is this {m} image free of visible {t}?"),
            2 => format!("Does this {m} image appear free of {t}?"),
            3 => format!("Does this {m} image show no {t}?"),
            _ => format!("Would you say this {m} image is unaffected by {ind}?"),
        },
        Family::Acceptable => match k {
            0 => format!("Is the quality of this {m} image acceptable for diagnosis?"),
            1 => format!("Is this {m} image of diagnostic quality?"),
            2 => format!("Could this {m} image be used for diagnostic reading?"),
            3 => format!(
                "Is the image quality of this {m} scan sufficient for clinical interpretation?"
            ),
            _ => format!("Is this {m} image good enough to report on?"),
        },
        Family::What => match k {
            0 => format!("What is the most prominent quality issue in this {m} image, if any?"),
            1 => format!("Which quality problem, if any, best describes this {m} image?"),
            2 => format!("What kind of degradation, if any, affects this {m} image?"),
            3 => format!("Which of the following best describes the quality of this {m} image?"),
            _ => format!("Which artifact, if any, dominates this {m} image?"),
        },
        Family::Grade => match k {
            0 => format!("How would you rate the overall quality of this {m} image?"),
            1 => format!("How would you grade the diagnostic quality of this {m} image?"),
            2 => format!("How good is the quality of this {m} image for diagnosis?"),
            3 => format!("How usable is this {m} image for clinical reading?"),
            _ => format!("How would you judge the image quality of this {m} scan?"),
        },
        Family::Level => match k {
            0 => format!(
                "How pronounced {} the {t} in this {m} image, if present?",
                n.be()
            ),
            1 => format!("How strong {} the {t} in this {m} image, if any?", n.be()),
            2 => format!("How would you grade the level of {t} in this {m} image?"),
            3 => format!("To what degree is this {m} image affected by {ind}?"),
            _ => format!(
                "How severe, if present at all, {} the {t} in this {m} image?",
                n.be()
            ),
        },
    }
}

/// Clean-image phrases per modality: what a good image of that modality looks like (speckle is
/// normal in ultrasound).
pub fn clean_phrases(m: Modality) -> &'static [&'static str] {
    match m {
        Modality::Ct => &[
            "no obvious artifact: edges are sharp, quantum noise is low and soft-tissue contrast is adequate",
            "well-defined anatomical boundaries with low noise and no streak, ring or truncation artifacts",
            "uniform attenuation in homogeneous tissue, crisp edges and no streaks or dark bands",
        ],
        Modality::Mr => &[
            "no obvious artifact: tissue boundaries are sharp, signal is uniform and noise is low",
            "clear tissue contrast with well-defined edges and no ghosting, ringing or wrap-around",
            "homogeneous signal without shading, with crisp boundaries free of motion blurring",
        ],
        Modality::Us => &[
            "a fully developed, uniform speckle texture as expected in ultrasound, with appropriate gain and no shadowing, haze or reverberation",
            "well-balanced brightness from the near to the far field, normal speckle and clearly delineated echogenic structures",
            "good penetration with even depth gain; the speckle pattern is typical and interfaces are sharply shown",
        ],
        Modality::Fundus => &[
            "no obvious artifact: the optic disc and vessels are sharply focused, illumination is even across the field and colours look natural",
            "well-exposed retina with clear vessel edges, a visible macula and no shadows, haze or colour cast",
            "a crisp view of the disc, vessels and macula with balanced brightness from centre to periphery",
        ],
        Modality::Endoscopy => &[
            "no obvious artifact: the mucosa is in focus, evenly lit and free of glare, bubbles or smoke",
            "clear mucosal texture and vessel pattern with balanced exposure and no obstruction of the view",
            "a sharp, well-illuminated view of the lumen with natural colour and no motion blur",
        ],
        Modality::Histopathology => &[
            "no obvious artifact: nuclei and stroma are sharply focused and the haematoxylin and eosin staining is balanced",
            "well-prepared tissue with crisp cellular detail, even illumination and no folds, bubbles, debris or marks",
            "clear nuclear and cytoplasmic detail with natural stain colours and an intact section",
        ],
        _ => &[
            "no obvious artifact: structures are sharp, exposure is balanced and colours look natural",
            "even illumination, natural colour and crisp detail without blur or noise",
            "well-focused detail with adequate contrast and no visible artifact",
        ],
    }
}

/// One phrase describing the image: the recipe's phrase for its severity, or a clean phrase of
/// the modality.
pub fn phrase(
    modality: Modality,
    attr: Option<&AttributeRecipe>,
    sev: Severity,
    rng: &mut SampleRng,
) -> String {
    match attr {
        Some(a) if sev != Severity::None => {
            let list = a.descriptions(sev);
            list[rng.random_range(0..list.len())].trim().to_string()
        }
        _ => {
            let list = clean_phrases(modality);
            list[rng.random_range(0..list.len())].to_string()
        }
    }
}

fn impact(grade: QualityGrade, k: usize) -> &'static str {
    match (grade, k % 3) {
        (QualityGrade::Good, 0) => "Anatomical structures are clearly depicted.",
        (QualityGrade::Good, 1) => "Diagnostic detail is fully preserved.",
        (QualityGrade::Good, _) => "The image can be read with confidence.",
        (QualityGrade::Usable, 0) => {
            "Diagnostic content remains largely visible, although fine detail is affected."
        }
        (QualityGrade::Usable, 1) => {
            "The main structures can still be assessed, but subtle findings could be missed."
        }
        (QualityGrade::Usable, _) => "Reading is possible with some loss of fine detail.",
        (QualityGrade::Reject, 0) => "The degradation obscures diagnostically relevant detail.",
        (QualityGrade::Reject, 1) => "Relevant structures cannot be assessed reliably.",
        (QualityGrade::Reject, _) => "The image would need to be repeated for a reliable reading.",
    }
}

/// "CT image of the head" / "CT image".
fn subject(modality: Modality, anatomy: Option<&str>) -> String {
    match anatomy {
        Some(a) => format!("{} image of the {a}", modality.display_name()),
        None => format!("{} image", modality.display_name()),
    }
}

/// No-reference description naming the modality (and the body region when known), ending with
/// the quality grade.
pub fn describe(
    modality: Modality,
    anatomy: Option<&str>,
    phrase: &str,
    grade: QualityGrade,
    rng: &mut SampleRng,
) -> String {
    let s = subject(modality, anatomy);
    let k = rng.random_range(0..3usize);
    let imp = impact(grade, rng.random_range(0..3usize));
    match k {
        0 => {
            format!("This {s} shows {phrase}. {imp} Overall, the quality of this image is {grade}.")
        }
        1 => format!("The {s} presents {phrase}. {imp} The overall quality is {grade}."),
        _ => format!("In this {s} one sees {phrase}. {imp} Quality grade: {grade}."),
    }
}

/// Comparison text ending with which image is better.
pub fn describe_pair(
    modality: Modality,
    anatomy: Option<&str>,
    first: &str,
    second: &str,
    first_better: bool,
    rng: &mut SampleRng,
) -> String {
    let which = if first_better { "first" } else { "second" };
    let what = match anatomy {
        Some(a) => format!("{} images of the {a}", modality.display_name()),
        None => format!("{} images of the same anatomy", modality.display_name()),
    };
    match rng.random_range(0..3usize) {
        0 => format!(
            "Both are {what}. The first image shows {first}. The second image shows {second}. Overall, the {which} image has better quality."
        ),
        1 => format!(
            "These are two {what}. In the first, one sees {first}; in the second, {second}. The {which} image is of better quality."
        ),
        _ => format!(
            "Comparing the two {what}: the first shows {first}, while the second shows {second}. Overall, the {which} image is better."
        ),
    }
}

/// Cell texts that `pandas.read_csv` turns into NaN by default (its `na_values` list); no
/// option, question or description may be exactly one of these.
pub const PANDAS_NA_TOKENS: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// A grammar check of a rendered question for `noun`: the verb or article next to the noun
/// agrees with its number. Returns the problem, if any. Used by the template test over every
/// bundled attribute and by `audit`.
pub fn agreement_error(question: &str, noun: Noun<'_>) -> Option<String> {
    let q = question;
    let t = noun.text;
    let bad: Vec<String> = match noun.number {
        NounNumber::Plural => vec![
            format!("Is there {t}"),
            format!("Is {t}"),
            format!("is the {t}"),
            format!("the {t} is"),
            format!("{t} is "),
            format!("a {t}"),
            format!("an {t}"),
        ],
        NounNumber::Mass => vec![
            format!("Are there {t}"),
            format!("Are {t}"),
            format!("are the {t}"),
            format!("{t} are "),
            format!("a {t}"),
            format!("an {t}"),
        ],
        NounNumber::Singular => vec![
            format!("Are there {t}"),
            format!("Are {t}"),
            format!("are the {t}"),
            format!("Is there {t}"),
            format!("show {t}"),
            format!("by {t}"),
            format!("Can {t}"),
        ],
    };
    // a pattern counts only at a word start ("Can motion artifacts" holds no "an motion …")
    let at_word = |b: &str| {
        q.match_indices(b).any(|(i, _)| {
            q[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
        })
    };
    bad.into_iter().find(|b| at_word(b)).map(|b| {
        format!(
            "`{b}` in \"{q}\" does not agree with the {:?} noun `{t}`",
            noun.number
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_option_words_survive_pandas() {
        let mut words = vec![NO_ARTIFACT];
        words.extend(YES_NO_OPTIONS);
        words.extend(GRADE_OPTIONS);
        words.extend(LEVEL_OPTIONS);
        for w in words {
            assert!(!PANDAS_NA_TOKENS.contains(&w), "{w:?} would load as NaN");
        }
    }

    #[test]
    fn every_template_agrees_for_every_number() {
        for (text, number) in [
            ("motion artifacts", NounNumber::Plural),
            ("noise", NounNumber::Mass),
            ("bias field", NounNumber::Singular),
            ("intensity inhomogeneity", NounNumber::Mass),
        ] {
            let n = Noun { text, number };
            for f in Family::ALL {
                for k in 0..f.phrasings() {
                    let q = question(f, f.needs_attribute().then_some(n), "MRI", k);
                    assert!(q.ends_with('?'), "{q}");
                    assert!(!q.contains("  "), "{q}");
                    if f.needs_attribute() {
                        assert!(q.contains(text), "{q}");
                        assert_eq!(agreement_error(&q, n), None);
                    }
                }
            }
        }
        // the checker itself catches the errors the first round shipped
        let n = Noun {
            text: "motion artifacts",
            number: NounNumber::Plural,
        };
        assert!(agreement_error("Is there motion artifacts in this MRI image?", n).is_some());
        let n = Noun {
            text: "wrap-around artifacts",
            number: NounNumber::Plural,
        };
        assert!(agreement_error("How severe is the wrap-around artifacts?", n).is_some());
    }

    #[test]
    fn articles() {
        assert_eq!(indefinite_article("artifact"), "an");
        assert_eq!(indefinite_article("bias field"), "a");
        let n = Noun {
            text: "bias field",
            number: NounNumber::Singular,
        };
        assert_eq!(
            question(Family::Presence, Some(n), "MRI", 0),
            "Is there a bias field in this MRI image?"
        );
    }

    #[test]
    fn enough_phrasings() {
        for f in Family::ALL {
            assert!(f.phrasings() >= 4);
            let qs: std::collections::BTreeSet<String> = (0..f.phrasings())
                .map(|k| question(f, None, "CT", k))
                .collect();
            assert_eq!(qs.len(), f.phrasings(), "{f:?} phrasings are distinct");
        }
        for m in [
            Modality::Ct,
            Modality::Mr,
            Modality::Us,
            Modality::Photo,
            Modality::Fundus,
            Modality::Endoscopy,
            Modality::Histopathology,
        ] {
            assert!(clean_phrases(m).len() >= 3);
        }
    }
}
