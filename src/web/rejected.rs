//! A rejected form as its page shows it again (STYLE.md, "Forms"): which
//! form it was, every value typed, each problem with the field it is about
//! (the summary at the form's top links to it, the field shows it beside
//! itself), and for a form sent after someone else changed the record, what
//! they changed.
//!
//! Element ids are the form's prefix and the field's name
//! (`item-3-done-evidence`), so a problem links to its field without a
//! table of ids; the summary's id is the prefix and `problems`, and it
//! takes the focus when the page loads (`autofocus`), so the browser
//! scrolls to the refused form without any script.

use crate::domain::user::FieldError;
use crate::service::error::RecordError;
use crate::web::error::capitalise;

/// One thing to correct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field's name in the form; `None` for the form as a whole.
    pub field: Option<String>,
    pub message: String,
    /// Where else on the page it is put right (`#investigation`), for a
    /// problem that is not about a field of this form.
    pub elsewhere: Option<String>,
}

/// A form the server would not save, as it is shown again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    /// The form's id on the page (`plan`, `item-3-done`, `step-close`).
    pub form: String,
    /// What each field's element id starts with (`item-3-done-`).
    pub prefix: String,
    values: Vec<(String, String)>,
    pub problems: Vec<Problem>,
    /// For a stale form: each change made since the version it showed, in
    /// people's words, oldest first.
    pub changed: Vec<String>,
}

/// Fields whose value is never sent back to the browser.
fn secret(name: &str) -> bool {
    name.contains("password") || name == "csrf_token"
}

impl Rejected {
    /// The form `form` whose element ids start with `prefix`.
    pub fn new(form: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            form: form.into(),
            prefix: prefix.into(),
            ..Default::default()
        }
    }

    /// The form `form`, its element ids `<form>-<field>`.
    pub fn named(form: &str) -> Self {
        Self::new(form, format!("{form}-"))
    }

    /// Keeps what was typed into `name` (never a password).
    pub fn typed(mut self, name: &str, value: &str) -> Self {
        if !secret(name) {
            self.values.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// Keeps every value of the form as sent.
    pub fn typed_all(mut self, pairs: &[(String, String)]) -> Self {
        for (k, v) in pairs {
            self = self.typed(k, v);
        }
        self
    }

    /// Keeps each (field, value) typed, for a form read into a struct.
    pub fn typed_each(mut self, fields: &[(&str, &str)]) -> Self {
        for (k, v) in fields {
            self = self.typed(k, v);
        }
        self
    }

    /// A problem with `field` (empty: the form as a whole).
    pub fn problem(mut self, field: &str, message: impl Into<String>) -> Self {
        self.problems.push(Problem {
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
            elsewhere: None,
        });
        self
    }

    /// A problem put right in another section of the page (`investigation`).
    pub fn problem_in(mut self, section: &str, message: impl Into<String>) -> Self {
        self.problems.push(Problem {
            field: None,
            message: message.into(),
            elsewhere: Some(section.to_string()),
        });
        self
    }

    /// Each field error as a problem with its field.
    pub fn fields(mut self, errors: Vec<FieldError>) -> Self {
        for e in errors {
            self = self.problem(e.field, e.message);
        }
        self
    }

    /// The refusal's problems: each field's for what was typed, each failed
    /// workflow rule where it is put right, else its sentence, about the
    /// form as a whole.
    pub fn refused(self, e: &RecordError) -> Self {
        use crate::domain::workflow::{At, Refused};
        match e {
            RecordError::Invalid(errors) => self.fields(errors.clone()),
            RecordError::Taken { field, message } => self.problem(field, capitalise(message)),
            RecordError::NoReason => {
                self.problem("reason", "Give a reason: it is kept in the audit trail.")
            }
            RecordError::Refused(Refused::Guards(rules)) => {
                rules.iter().fold(self, |r, rule| match rule.at {
                    At::Input(field) => r.problem(field, capitalise(&rule.to_string())),
                    At::Section(s) => r.problem_in(s, capitalise(&rule.to_string())),
                    At::Record => r.problem("", capitalise(&rule.to_string())),
                })
            }
            other => {
                let words = crate::web::error::refusal_messages(other).join(" ");
                self.problem("", words)
            }
        }
    }

    /// The changes since the form was opened, for a stale form.
    pub fn with_changes(mut self, changed: Vec<String>) -> Self {
        self.changed = changed;
        self
    }

    /// What was typed into `name`, if this form was sent with it.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value typed into `name`, in order (a field sent several times).
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// What was typed into `name`, or `stored` when the form was not sent.
    pub fn or<'a>(&'a self, name: &str, stored: &'a str) -> &'a str {
        self.value(name).unwrap_or(stored)
    }

    /// Whether `value` is the one chosen for `name`: as sent, or, when the
    /// form was not sent, as `stored`.
    pub fn chose(&self, name: &str, value: &str, stored: &str) -> bool {
        match self.value(name) {
            Some(v) => v == value,
            None if self.form.is_empty() => stored == value,
            None => false,
        }
    }

    /// The first message about `name`.
    pub fn message(&self, name: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field.as_deref() == Some(name))
            .map(|p| p.message.as_str())
    }

    /// Whether the form was refused (it has something to correct).
    pub fn any(&self) -> bool {
        !self.problems.is_empty() || !self.changed.is_empty()
    }

    pub fn is_stale(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The element id a problem links to: its field's, the section where it
    /// is put right, or the summary's.
    pub fn anchor(&self, p: &Problem) -> String {
        match (&p.field, &p.elsewhere) {
            (Some(f), _) => format!("{}{f}", self.prefix),
            (None, Some(section)) => section.clone(),
            (None, None) => format!("{}problems", self.prefix),
        }
    }

    /// The problems as plain sentences (for a list of messages).
    pub fn messages(&self) -> Vec<String> {
        self.problems.iter().map(|p| p.message.clone()).collect()
    }
}

/// Not sent: every field shows its stored value and no message.
static NOT_SENT: Rejected = Rejected {
    form: String::new(),
    prefix: String::new(),
    values: Vec::new(),
    problems: Vec::new(),
    changed: Vec::new(),
};

/// The one rejected form of a page, if any; templates ask it about each
/// form (`sent.form("plan")`) and get that form's values and messages, or
/// nothing typed and no message when another form (or none) was sent.
#[derive(Clone, Debug, Default)]
pub struct Sent(Option<Rejected>, bool);

impl Sent {
    pub fn of(r: Rejected) -> Self {
        Self(Some(r), false)
    }

    /// Nothing was sent.
    pub fn none() -> Self {
        Self(None, false)
    }

    /// Notes which forms the page shows: a refused form that is not among
    /// them (the record moved on meanwhile) has its problems listed at the
    /// top of the page instead.
    pub fn place(&mut self, forms: &[String]) {
        self.1 = self.0.as_ref().is_some_and(|r| !forms.contains(&r.form));
    }

    /// The refused form is not on the page.
    pub fn orphan(&self) -> bool {
        self.1
    }

    /// The rejected form, whichever it is.
    pub fn rejected(&self) -> Option<&Rejected> {
        self.0.as_ref()
    }

    /// `form` as sent, or not sent.
    pub fn form(&self, form: &str) -> &Rejected {
        self.0
            .as_ref()
            .filter(|r| r.form == form)
            .unwrap_or(&NOT_SENT)
    }

    /// Whether `form` is the one that was refused (its panel opens).
    pub fn failed(&self, form: &str) -> bool {
        self.0.as_ref().is_some_and(|r| r.form == form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_form_keeps_every_value_and_links_each_problem_to_its_field() {
        let r = Rejected::named("item-3-done")
            .typed("evidence", "WO-88 <done>")
            .typed("done_on", "2099-01-01")
            .typed("password", "hunter2hunter2")
            .problem("done_on", "The date done cannot be in the future.")
            .problem("", "Someone else changed it.")
            .problem_in("investigation", "Root cause is required.");
        assert_eq!(r.value("evidence"), Some("WO-88 <done>"));
        assert_eq!(r.value("password"), None, "a password is never sent back");
        assert_eq!(r.value("nothing"), None);
        assert_eq!(
            r.message("done_on"),
            Some("The date done cannot be in the future.")
        );
        assert_eq!(r.anchor(&r.problems[0]), "item-3-done-done_on");
        assert_eq!(r.anchor(&r.problems[1]), "item-3-done-problems");
        assert_eq!(r.anchor(&r.problems[2]), "investigation");
        let sent = Sent::of(r);
        assert!(sent.failed("item-3-done"));
        assert!(!sent.failed("item-4-done"));
        assert_eq!(
            sent.form("item-3-done").or("evidence", "stored"),
            "WO-88 <done>"
        );
        assert_eq!(sent.form("item-4-done").or("evidence", "stored"), "stored");
        assert_eq!(sent.form("item-4-done").message("done_on"), None);
        assert!(sent.form("item-4-done").chose("kind", "a", "a"));
        assert!(sent.form("item-3-done").chose("done_on", "2099-01-01", "x"));
        assert!(
            !sent.form("item-3-done").chose("kind", "a", "a"),
            "sent without it"
        );
        let refused =
            Rejected::new("details", "").refused(&RecordError::Invalid(vec![FieldError::new(
                "title",
                "Enter a title.",
            )]));
        assert_eq!(refused.anchor(&refused.problems[0]), "title");
    }

    #[test]
    fn a_refused_steps_rules_go_beside_its_fields_or_link_to_their_section() {
        use crate::domain::workflow::{At, Refusal, Refused};
        let e = RecordError::Refused(Refused::Guards(vec![
            Refusal::new("a", "A justification is required", Some("8.5.2"))
                .at(At::Input("justification")),
            Refusal::new("b", "Root cause is required", None).at(At::Section("investigation")),
        ]));
        let r = Rejected::named("step-cancel").refused(&e);
        assert_eq!(
            r.message("justification"),
            Some("A justification is required (8.5.2).")
        );
        assert_eq!(r.anchor(&r.problems[1]), "investigation");
    }
}
