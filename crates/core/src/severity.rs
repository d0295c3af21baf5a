//! Severity levels and quality grades (DESIGN.md §3).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How strongly an attribute degrades an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Mild,
    Severe,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::None, Severity::Mild, Severity::Severe];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Mild => "mild",
            Severity::Severe => "severe",
        }
    }

    /// Default quality grade: none → good, mild → usable, severe → reject.
    pub fn default_grade(self) -> QualityGrade {
        match self {
            Severity::None => QualityGrade::Good,
            Severity::Mild => QualityGrade::Usable,
            Severity::Severe => QualityGrade::Reject,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Severity::None),
            "mild" => Ok(Severity::Mild),
            "severe" => Ok(Severity::Severe),
            _ => Err(format!(
                "unknown severity `{s}` (allowed: none, mild, severe)"
            )),
        }
    }
}

/// Overall quality grade of an image, as in MedQ-Bench.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityGrade {
    Good,
    Usable,
    Reject,
}

impl QualityGrade {
    pub fn as_str(self) -> &'static str {
        match self {
            QualityGrade::Good => "good",
            QualityGrade::Usable => "usable",
            QualityGrade::Reject => "reject",
        }
    }
}

impl fmt::Display for QualityGrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for QualityGrade {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "good" => Ok(QualityGrade::Good),
            "usable" => Ok(QualityGrade::Usable),
            "reject" => Ok(QualityGrade::Reject),
            _ => Err(format!(
                "unknown quality grade `{s}` (allowed: good, usable, reject)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grades_and_parsing() {
        assert_eq!(Severity::None.default_grade(), QualityGrade::Good);
        assert_eq!(Severity::Mild.default_grade(), QualityGrade::Usable);
        assert_eq!(Severity::Severe.default_grade(), QualityGrade::Reject);
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        assert!("medium"
            .parse::<Severity>()
            .unwrap_err()
            .contains("allowed"));
        assert!(Severity::None < Severity::Mild && Severity::Mild < Severity::Severe);
    }
}
