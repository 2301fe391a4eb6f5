//! Domain events: what happened to a record that someone may need to be
//! told of. A workflow decision carries them (the step taken, the signature
//! the next step needs, an owner assigned); record services add their own
//! (a CAPA opened for an owner, an action item assigned, an account locked).
//! The service writes them to the `events` table in the change's own
//! transaction; notifications read them from there.

use serde_json::{Value, json};

use super::ids::UserId;

/// What kind of thing happened; the stored name is stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A workflow step was taken (`data`: action, from, to).
    StepTaken,
    /// A step of the record now needs someone's electronic signature
    /// (`data`: action, label, meaning, barred_signer, and named when the
    /// record names whom it waits on), or a person is
    /// asked by name for it (`data`: action, label, meaning, to, request).
    SignatureNeeded,
    /// The record was assigned to someone (`data`: to, as).
    Assigned,
    /// An action item of the record was assigned (`data`: item, to, due_on).
    ItemAssigned,
    /// An account was locked after wrong passwords (`data`: until).
    AccountLocked,
    /// A person was assigned training on a document version (`data`: to,
    /// document, version, due_on).
    TrainingAssigned,
    /// A person's training passed its due date (`data`: to, document,
    /// version, due_on).
    TrainingOverdue,
    /// Quality is asked for a risk review decision (ISO 14971 10) on a
    /// nonconformance escalated or a CAPA closed (`data`: product, asked_on).
    RiskReviewRequested,
    /// A dated duty is due soon, overdue, or escalated to quality
    /// (`data`: to, duty, stage, what, due_on, days, anchor).
    Reminder,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        Self::StepTaken,
        Self::SignatureNeeded,
        Self::Assigned,
        Self::ItemAssigned,
        Self::AccountLocked,
        Self::TrainingAssigned,
        Self::TrainingOverdue,
        Self::RiskReviewRequested,
        Self::Reminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StepTaken => "step_taken",
            Self::SignatureNeeded => "signature_needed",
            Self::Assigned => "assigned",
            Self::ItemAssigned => "item_assigned",
            Self::AccountLocked => "account_locked",
            Self::TrainingAssigned => "training_assigned",
            Self::TrainingOverdue => "training_overdue",
            Self::RiskReviewRequested => "risk_review_requested",
            Self::Reminder => "reminder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One event, before it is stored (the service adds the record, the actor
/// and the time).
#[derive(Clone, Debug, PartialEq)]
pub struct DomainEvent {
    pub kind: EventKind,
    pub data: Value,
}

impl DomainEvent {
    pub fn step_taken(action: &str, from: &str, to: &str) -> Self {
        Self {
            kind: EventKind::StepTaken,
            data: json!({ "action": action, "from": from, "to": to }),
        }
    }

    /// The step `action` ("Close as effective") now waits for a signature
    /// with `meaning`; `barred` may not give it (segregation of duties);
    /// `named`, when the record names people for the step, are whom it
    /// waits on.
    pub fn signature_needed(
        action: &str,
        label: &str,
        meaning: &str,
        barred: Option<i64>,
        named: &[i64],
    ) -> Self {
        let mut data = json!({
            "action": action,
            "label": label,
            "meaning": meaning,
            "barred_signer": barred.map(|u| UserId(u).to_string()),
        });
        if !named.is_empty() {
            data["named"] = json!(
                named
                    .iter()
                    .map(|u| UserId(*u).to_string())
                    .collect::<Vec<_>>()
            );
        }
        Self {
            kind: EventKind::SignatureNeeded,
            data,
        }
    }

    /// `to` is asked by name to sign step `action` ("Close as effective")
    /// with `meaning` (signature request `request`).
    pub fn signature_asked(
        action: &str,
        label: &str,
        meaning: &str,
        to: i64,
        request: i64,
    ) -> Self {
        Self {
            kind: EventKind::SignatureNeeded,
            data: json!({
                "action": action,
                "label": label,
                "meaning": meaning,
                "to": UserId(to).to_string(),
                "request": request,
            }),
        }
    }

    /// The record is now `to`'s, as `role` ("owner").
    pub fn assigned(to: i64, role: &str) -> Self {
        Self {
            kind: EventKind::Assigned,
            data: json!({ "to": UserId(to).to_string(), "as": role }),
        }
    }

    /// Action item `item` is now `to`'s, due on `due_on`.
    pub fn item_assigned(item: i64, to: i64, due_on: Option<chrono::NaiveDate>) -> Self {
        Self {
            kind: EventKind::ItemAssigned,
            data: json!({
                "item": item,
                "to": UserId(to).to_string(),
                "due_on": due_on.map(|d| d.to_string()),
            }),
        }
    }

    /// `to` is to be trained on `document` version `version` by `due_on`;
    /// `kind` says whether it was just assigned or is now overdue.
    pub fn training(
        kind: EventKind,
        to: i64,
        document: &str,
        version: i64,
        due_on: chrono::NaiveDate,
    ) -> Self {
        Self {
            kind,
            data: json!({
                "to": UserId(to).to_string(),
                "document": document,
                "version": version,
                "due_on": due_on.to_string(),
            }),
        }
    }

    /// Quality is asked to decide what `asked_on` (the step taken on a
    /// record of product `product`) means for its risk file.
    pub fn risk_review_requested(product: i64, asked_on: &str) -> Self {
        Self {
            kind: EventKind::RiskReviewRequested,
            data: json!({ "product": product, "asked_on": asked_on }),
        }
    }

    /// `r` of a duty falling to `to` (`anchor`: where on the record's page).
    pub fn reminder(
        to: i64,
        duty: super::reminder::Duty,
        r: &super::reminder::Reminder,
        due_on: chrono::NaiveDate,
        anchor: &str,
    ) -> Self {
        Self {
            kind: EventKind::Reminder,
            data: json!({
                "to": UserId(to).to_string(),
                "duty": duty.as_str(),
                "stage": r.stage.as_str(),
                "what": duty.what(),
                "due_on": due_on.to_string(),
                "days": r.days,
                "anchor": anchor,
            }),
        }
    }

    pub fn account_locked(until: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        Self {
            kind: EventKind::AccountLocked,
            data: json!({ "until": until.map(|t| t.to_rfc3339()) }),
        }
    }
}

/// An owner change between two versions of a record, as events: the new
/// owner, when there is one and it is not the old one.
pub fn owner_change(before: Option<i64>, after: Option<i64>) -> Vec<DomainEvent> {
    match after {
        Some(to) if before != Some(to) => vec![DomainEvent::assigned(to, "owner")],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("exploded"), None);
    }

    #[test]
    fn only_a_new_owner_is_an_assignment() {
        assert_eq!(owner_change(Some(2), Some(2)), vec![]);
        assert_eq!(owner_change(Some(2), None), vec![]);
        assert_eq!(
            owner_change(None, Some(3)),
            vec![DomainEvent::assigned(3, "owner")]
        );
        assert_eq!(owner_change(Some(2), Some(3))[0].data["to"], "u-3");
    }
}
