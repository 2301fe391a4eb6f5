//! ISO 14971:2019 risk management (WORKFLOWS.md "Risk"). This part is the
//! risk management plan's criteria (4.4 d): a severity scale and a
//! probability scale of 3 to 5 levels, each level with a label and a
//! description; optionally probability split into P1 (the hazardous
//! situation occurs) and P2 (it leads to harm) with the table that combines
//! them; and the acceptability matrix, one verdict per (severity,
//! probability) cell. A risk's estimate is evaluated against a plan; a new
//! plan version re-evaluates every estimate and says which evaluations
//! changed. Pure: no clock, no database.

use std::fmt;

use super::user::FieldError;

pub mod plan;
pub mod report;
pub mod workflow;

/// Fewest and most levels of a scale.
pub const MIN_LEVELS: usize = 3;
pub const MAX_LEVELS: usize = 5;
pub const MAX_LABEL: usize = 60;
pub const MAX_DESCRIPTION: usize = 500;

/// One level of a scale: its number (1 is the least severe or probable),
/// the label people pick, and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    pub label: String,
    pub description: String,
}

/// A scale of 3 to 5 levels, least first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale(pub Vec<Level>);

impl Scale {
    pub fn len(&self) -> u8 {
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Level `n` (from 1), if the scale has it.
    pub fn level(&self, n: u8) -> Option<&Level> {
        usize::from(n).checked_sub(1).and_then(|i| self.0.get(i))
    }

    /// "3 (Serious)".
    pub fn words(&self, n: u8) -> String {
        match self.level(n) {
            Some(l) => format!("{n} ({})", l.label),
            None => n.to_string(),
        }
    }

    fn check(&self, field: &'static str, what: &str, out: &mut Vec<FieldError>) {
        if !(MIN_LEVELS..=MAX_LEVELS).contains(&self.0.len()) {
            out.push(FieldError::new(
                field,
                format!(
                    "The {what} scale has {MIN_LEVELS} to {MAX_LEVELS} levels ({} given).",
                    self.0.len()
                ),
            ));
        }
        for (i, l) in self.0.iter().enumerate() {
            let label = l.label.trim();
            if label.is_empty() || label.chars().count() > MAX_LABEL {
                out.push(FieldError::new(
                    field,
                    format!(
                        "{what} level {}: a label of 1 to {MAX_LABEL} characters.",
                        i + 1
                    ),
                ));
            }
            if l.description.chars().count() > MAX_DESCRIPTION {
                out.push(FieldError::new(
                    field,
                    format!(
                        "{what} level {}: a description of at most {MAX_DESCRIPTION} characters.",
                        i + 1
                    ),
                ));
            }
        }
        let mut labels: Vec<String> = self
            .0
            .iter()
            .map(|l| l.label.trim().to_lowercase())
            .collect();
        labels.sort();
        labels.dedup();
        if labels.len() != self.0.len() {
            out.push(FieldError::new(
                field,
                format!("Each {what} level needs its own label."),
            ));
        }
    }
}

/// What the plan says of a risk in one cell of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Acceptability {
    Acceptable,
    /// Acceptable only after review (ALARP, or as the plan defines it).
    Review,
    Unacceptable,
}

impl Acceptability {
    pub const ALL: [Acceptability; 3] = [Self::Acceptable, Self::Review, Self::Unacceptable];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acceptable => "acceptable",
            Self::Review => "review",
            Self::Unacceptable => "unacceptable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Acceptable => "Acceptable",
            Self::Review => "Review",
            Self::Unacceptable => "Unacceptable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Probability split into P1 and P2 (ISO/TR 24971 5.5), and the table
/// giving the probability level of each (P1, P2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub p1: Scale,
    pub p2: Scale,
    /// `combine[p1 - 1][p2 - 1]` is a level of the probability scale.
    pub combine: Vec<Vec<u8>>,
}

/// The plan's criteria for risk acceptability (4.4 d).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Criteria {
    pub severity: Scale,
    pub probability: Scale,
    pub split: Option<Split>,
    /// `matrix[severity - 1][probability - 1]`.
    pub matrix: Vec<Vec<Acceptability>>,
}

/// A probability as estimated: a level of the scale, or P1 and P2 when the
/// plan splits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Probability {
    Level(u8),
    Split { p1: u8, p2: u8 },
}

/// A risk's estimate: its severity and probability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Estimate {
    pub severity: u8,
    pub probability: Probability,
}

/// An estimate placed in the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Evaluation {
    pub severity: u8,
    /// The probability level (combined from P1 and P2 when split).
    pub probability: u8,
    pub verdict: Acceptability,
}

/// Why an estimate cannot be evaluated against a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EstimateError {
    Severity(u8, u8),
    Probability(u8, u8),
    P1(u8, u8),
    P2(u8, u8),
    /// P1 and P2 given to a plan that does not split probability, or a
    /// single level to one that does.
    Shape(&'static str),
}

impl fmt::Display for EstimateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Severity(n, max) => {
                write!(f, "Severity {n} is not on the plan's scale of 1 to {max}")
            }
            Self::Probability(n, max) => {
                write!(
                    f,
                    "Probability {n} is not on the plan's scale of 1 to {max}"
                )
            }
            Self::P1(n, max) => write!(f, "P1 {n} is not on the plan's scale of 1 to {max}"),
            Self::P2(n, max) => write!(f, "P2 {n} is not on the plan's scale of 1 to {max}"),
            Self::Shape(words) => f.write_str(words),
        }
    }
}

impl EstimateError {
    /// The form field the error belongs beside.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Severity(..) => "severity",
            Self::Probability(..) | Self::Shape(_) => "probability",
            Self::P1(..) => "p1",
            Self::P2(..) => "p2",
        }
    }
}

impl Criteria {
    /// Every rule of a plan's criteria, each broken one with its words:
    /// scales of 3 to 5 labelled levels, a verdict for every cell, a split's
    /// table filled with levels of the probability scale, and a matrix that
    /// never gets more acceptable as severity or probability rises.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut out = Vec::new();
        self.severity.check("severity", "Severity", &mut out);
        self.probability
            .check("probability", "Probability", &mut out);
        let (s, p) = (self.severity.0.len(), self.probability.0.len());
        if self.matrix.len() != s || self.matrix.iter().any(|row| row.len() != p) {
            out.push(FieldError::new(
                "matrix",
                format!(
                    "The acceptability matrix needs a verdict for each of the {s} x {p} cells."
                ),
            ));
        } else {
            let worse_down =
                (1..s).all(|i| (0..p).all(|j| self.matrix[i][j] >= self.matrix[i - 1][j]));
            let worse_right =
                (0..s).all(|i| (1..p).all(|j| self.matrix[i][j] >= self.matrix[i][j - 1]));
            if !(worse_down && worse_right) {
                out.push(FieldError::new(
                    "matrix",
                    "A cell cannot be more acceptable than one of lower severity or probability.",
                ));
            }
        }
        if let Some(split) = &self.split {
            split.p1.check("p1", "P1", &mut out);
            split.p2.check("p2", "P2", &mut out);
            let (a, b) = (split.p1.0.len(), split.p2.0.len());
            let max = self.probability.len();
            if split.combine.len() != a || split.combine.iter().any(|row| row.len() != b) {
                out.push(FieldError::new(
                    "combine",
                    format!("The P1 x P2 table needs a probability level for each of the {a} x {b} cells."),
                ));
            } else if split.combine.iter().flatten().any(|v| *v == 0 || *v > max) {
                out.push(FieldError::new(
                    "combine",
                    format!(
                        "Each cell of the P1 x P2 table is a probability level from 1 to {max}."
                    ),
                ));
            }
        }
        if out.is_empty() { Ok(()) } else { Err(out) }
    }

    /// The probability level of `p` under this plan.
    pub fn probability_of(&self, p: Probability) -> Result<u8, EstimateError> {
        match (p, &self.split) {
            (Probability::Level(n), None) => {
                let max = self.probability.len();
                if n == 0 || n > max {
                    return Err(EstimateError::Probability(n, max));
                }
                Ok(n)
            }
            (Probability::Split { p1, p2 }, Some(split)) => {
                let (m1, m2) = (split.p1.len(), split.p2.len());
                if p1 == 0 || p1 > m1 {
                    return Err(EstimateError::P1(p1, m1));
                }
                if p2 == 0 || p2 > m2 {
                    return Err(EstimateError::P2(p2, m2));
                }
                split
                    .combine
                    .get(usize::from(p1 - 1))
                    .and_then(|row| row.get(usize::from(p2 - 1)))
                    .copied()
                    .ok_or(EstimateError::Shape(
                        "The plan's P1 x P2 table is incomplete",
                    ))
            }
            (Probability::Level(_), Some(_)) => Err(EstimateError::Shape(
                "The plan splits probability: give P1 (the hazardous situation occurs) and P2 (it leads to harm)",
            )),
            (Probability::Split { .. }, None) => Err(EstimateError::Shape(
                "The plan does not split probability: give one probability level",
            )),
        }
    }

    /// Places `e` in the matrix.
    pub fn evaluate(&self, e: Estimate) -> Result<Evaluation, EstimateError> {
        let max = self.severity.len();
        if e.severity == 0 || e.severity > max {
            return Err(EstimateError::Severity(e.severity, max));
        }
        let probability = self.probability_of(e.probability)?;
        let verdict = self
            .matrix
            .get(usize::from(e.severity - 1))
            .and_then(|row| row.get(usize::from(probability - 1)))
            .copied()
            .ok_or(EstimateError::Shape("The plan's matrix is incomplete"))?;
        Ok(Evaluation {
            severity: e.severity,
            probability,
            verdict,
        })
    }
}

/// How one risk's evaluation moves from one plan version to the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reevaluated<K> {
    pub risk: K,
    pub before: Option<Evaluation>,
    /// The evaluation under the new plan, or why it cannot be made (a level
    /// the new scale no longer has): the risk must be estimated again.
    pub after: Result<Evaluation, EstimateError>,
}

/// Evaluates every estimate under `before` and `next` and lists the risks
/// whose evaluation changed (or can no longer be made), in the given order.
pub fn reevaluate<K: Clone>(
    before: &Criteria,
    next: &Criteria,
    risks: &[(K, Estimate)],
) -> Vec<Reevaluated<K>> {
    risks
        .iter()
        .filter_map(|(k, e)| {
            let was = before.evaluate(*e).ok();
            let now = next.evaluate(*e);
            let changed = match (&was, &now) {
                (Some(a), Ok(b)) => a.verdict != b.verdict || a.probability != b.probability,
                _ => true,
            };
            changed.then(|| Reevaluated {
                risk: k.clone(),
                before: was,
                after: now,
            })
        })
        .collect()
}

/// The plan a product starts from: five levels of severity (ISO/TR 24971
/// annex C style) and of probability, and a matrix with unacceptable in the
/// upper right, review along the diagonal. Quality edits it before approving.
pub fn starting_criteria() -> Criteria {
    let scale = |levels: [(&str, &str); 5]| {
        Scale(
            levels
                .iter()
                .map(|(label, description)| Level {
                    label: (*label).into(),
                    description: (*description).into(),
                })
                .collect(),
        )
    };
    use Acceptability::{Acceptable as A, Review as R, Unacceptable as U};
    Criteria {
        severity: scale([
            ("Negligible", "Inconvenience or temporary discomfort"),
            (
                "Minor",
                "Temporary injury or impairment not requiring professional medical intervention",
            ),
            (
                "Serious",
                "Injury or impairment requiring professional medical intervention",
            ),
            (
                "Critical",
                "Permanent impairment or life-threatening injury",
            ),
            ("Catastrophic", "Results in patient death"),
        ]),
        probability: scale([
            ("Improbable", "Less than 1 in 1,000,000 uses"),
            ("Remote", "1 in 100,000 to 1 in 1,000,000 uses"),
            ("Occasional", "1 in 1,000 to 1 in 100,000 uses"),
            ("Probable", "1 in 100 to 1 in 1,000 uses"),
            ("Frequent", "More than 1 in 100 uses"),
        ]),
        split: None,
        matrix: vec![
            vec![A, A, A, A, R],
            vec![A, A, A, R, R],
            vec![A, A, R, R, U],
            vec![A, R, R, U, U],
            vec![R, R, U, U, U],
        ],
    }
}

#[cfg(test)]
mod tests;
