//! What people type into a CAPA's forms, read and checked field by field.

use super::*;

/// The fields entered when a CAPA is opened (and corrected while open or
/// in investigation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapaFields {
    pub title: String,
    pub kind: Kind,
    pub source: CapaSource,
    pub source_ref: String,
    pub product_id: Option<i64>,
    pub problem: String,
    pub priority: Option<Priority>,
    pub owner_id: Option<i64>,
    pub due_on: Option<chrono::NaiveDate>,
    pub containment: String,
}

/// Checks a length; pushes the error naming the limit.
fn limit(errors: &mut Vec<FieldError>, field: &'static str, what: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("{what} can have at most {max} characters."),
        ));
    }
}

/// A date typed as YYYY-MM-DD, or none.
pub fn parse_date(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    what: &str,
    text: &str,
) -> Option<chrono::NaiveDate> {
    match text.trim() {
        "" => None,
        d => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    format!("{what} must be a date like 2026-11-21."),
                ));
                None
            }
        },
    }
}

fn parse_id(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    what: &str,
    text: &str,
) -> Option<i64> {
    match text.trim() {
        "" => None,
        p => match p.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("Choose {what} from the list."),
                ));
                None
            }
        },
    }
}

/// What the form of a CAPA's details sends, as typed.
#[derive(Clone, Debug, Default)]
pub struct DetailsForm {
    pub title: String,
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    pub product_id: String,
    pub problem: String,
    pub priority: String,
    pub owner_id: String,
    pub due_on: String,
    pub containment: String,
}

impl CapaFields {
    /// Checks what was typed; every problem is reported. `today` is for
    /// due dates, which must not be in the past.
    pub fn parse(f: &DetailsForm, today: chrono::NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = f.title.trim();
        if title.is_empty() {
            errors.push(FieldError::new("title", "Enter a short title."));
        }
        limit(&mut errors, "title", "The title", title, MAX_TITLE);
        let kind = Kind::parse(f.kind.trim());
        if kind.is_none() {
            errors.push(FieldError::new("kind", "Choose corrective or preventive."));
        }
        let source = CapaSource::parse(f.source.trim());
        if source.is_none() {
            errors.push(FieldError::new(
                "source",
                "Choose where the CAPA comes from.",
            ));
        }
        limit(
            &mut errors,
            "source_ref",
            "The source reference",
            f.source_ref.trim(),
            MAX_REF,
        );
        let product_id = parse_id(&mut errors, "product_id", "a product", &f.product_id);
        limit(
            &mut errors,
            "problem",
            "The problem statement",
            &f.problem,
            MAX_TEXT,
        );
        let priority = match f.priority.trim() {
            "" => None,
            p => {
                let parsed = Priority::parse(p);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "priority",
                        "Choose a priority: low, medium, high or critical.",
                    ));
                }
                parsed
            }
        };
        let owner_id = parse_id(&mut errors, "owner_id", "an owner", &f.owner_id);
        let due_on = parse_date(&mut errors, "due_on", "The due date", &f.due_on);
        if due_on.is_some_and(|d| d < today) {
            errors.push(FieldError::new(
                "due_on",
                "The due date cannot be in the past.",
            ));
        }
        limit(
            &mut errors,
            "containment",
            "The containment / correction",
            &f.containment,
            MAX_TEXT,
        );
        match (kind, source) {
            (Some(kind), Some(source)) if errors.is_empty() => Ok(Self {
                title: title.to_string(),
                kind,
                source,
                source_ref: f.source_ref.trim().to_string(),
                product_id,
                problem: f.problem.trim().to_string(),
                priority,
                owner_id,
                due_on,
                containment: f.containment.trim().to_string(),
            }),
            _ => Err(errors),
        }
    }
}

/// The investigation as typed: the method, the chain (question, answer)
/// rows in the order given, causes per category one a line, the root cause
/// and the need-for-action decision.
#[derive(Clone, Debug, Default)]
pub struct InvestigationForm {
    pub rca_method: String,
    /// (position, question, answer), as typed.
    pub whys: Vec<(String, String, String)>,
    /// (category, causes one per line).
    pub causes: Vec<(String, String)>,
    pub root_cause: String,
    pub action_required: String,
    pub action_rationale: String,
}

/// The checked investigation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Investigation {
    pub rca_method: Option<RcaMethod>,
    pub whys: Vec<Why>,
    pub causes: Vec<Cause>,
    pub root_cause: String,
    pub action_required: Option<bool>,
    pub action_rationale: String,
}

impl Investigation {
    pub fn parse(f: &InvestigationForm) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let rca_method = match f.rca_method.trim() {
            "" => None,
            m => {
                let parsed = RcaMethod::parse(m);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "rca_method",
                        "Choose a method from the list.",
                    ));
                }
                parsed
            }
        };
        // Rows wholly empty are dropped (the form always offers a spare one);
        // the rest are ordered by the position typed, ties keeping their order.
        let mut rows: Vec<(i64, usize, &str, &str)> = Vec::new();
        for (i, (pos, q, a)) in f.whys.iter().enumerate() {
            let (q, a) = (q.trim(), a.trim());
            if q.is_empty() && a.is_empty() {
                continue;
            }
            let pos = match pos.trim() {
                "" => i as i64 + 1,
                p => p.parse::<i64>().unwrap_or_else(|_| {
                    errors.push(FieldError::new(
                        "whys",
                        format!("The order of why {} must be a whole number.", i + 1),
                    ));
                    i as i64 + 1
                }),
            };
            if q.is_empty() || a.is_empty() {
                errors.push(FieldError::new(
                    "whys",
                    format!(
                        "Why {} needs both the question and its answer (a chain with empty answers proves nothing).",
                        i + 1
                    ),
                ));
            }
            if q.chars().count() > MAX_SHORT || a.chars().count() > MAX_SHORT {
                errors.push(FieldError::new(
                    "whys",
                    format!("Each question and answer can have at most {MAX_SHORT} characters."),
                ));
            }
            rows.push((pos, i, q, a));
        }
        if rows.len() > MAX_WHYS {
            errors.push(FieldError::new(
                "whys",
                format!("A chain can have at most {MAX_WHYS} whys."),
            ));
        }
        rows.sort_by_key(|r| (r.0, r.1));
        let whys = rows
            .into_iter()
            .map(|(_, _, q, a)| Why {
                question: q.to_string(),
                answer: a.to_string(),
            })
            .collect();
        let mut causes = Vec::new();
        for (cat, text) in &f.causes {
            let Some(category) = Category::parse(cat.trim()) else {
                errors.push(FieldError::new("causes", "Unknown fishbone category."));
                continue;
            };
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if line.chars().count() > MAX_SHORT {
                    errors.push(FieldError::new(
                        "causes",
                        format!("Each cause can have at most {MAX_SHORT} characters."),
                    ));
                }
                causes.push(Cause {
                    category: category.as_str().to_string(),
                    text: line.to_string(),
                });
            }
        }
        if causes.len() > MAX_CAUSES {
            errors.push(FieldError::new(
                "causes",
                format!("A fishbone can have at most {MAX_CAUSES} causes."),
            ));
        }
        limit(
            &mut errors,
            "root_cause",
            "The root cause statement",
            &f.root_cause,
            MAX_TEXT,
        );
        let action_required = match f.action_required.trim() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.push(FieldError::new("action_required", "Answer yes or no."));
                None
            }
        };
        limit(
            &mut errors,
            "action_rationale",
            "The rationale",
            &f.action_rationale,
            MAX_TEXT,
        );
        if errors.is_empty() {
            Ok(Self {
                rca_method,
                whys,
                causes,
                root_cause: f.root_cause.trim().to_string(),
                action_required,
                action_rationale: f.action_rationale.trim().to_string(),
            })
        } else {
            Err(errors)
        }
    }
}
