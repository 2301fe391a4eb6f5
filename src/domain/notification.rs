//! Who a domain event tells, and in what words (issue 18): each kind of
//! event names its audience (a person the event names, or everyone active
//! with a role, less one it bars) and the line a notification reads. Never
//! the person whose action it was. Pure: the notify job resolves roles to
//! people and writes the notifications.

use serde_json::Value;

use super::event::EventKind;
use super::ids::UserId;
use super::reminder::{self, Stage};
use super::user::Role;

/// Who an event is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Nobody (a step taken tells no one by itself yet).
    Nobody,
    /// The person the event names.
    Person(i64),
    /// The people the event names.
    People(Vec<i64>),
    /// Every active user with the role, but `except`.
    Role { role: Role, except: Option<i64> },
}

fn user_in(data: &Value, field: &str) -> Option<i64> {
    data.get(field)?
        .as_str()?
        .parse::<UserId>()
        .ok()
        .map(|u| u.0)
}

fn text<'a>(data: &'a Value, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// Who an event of `kind` with `data` is for.
pub fn audience(kind: EventKind, data: &Value) -> Audience {
    let person = |field| user_in(data, field).map_or(Audience::Nobody, Audience::Person);
    match kind {
        EventKind::StepTaken => Audience::Nobody,
        EventKind::Assigned
        | EventKind::ItemAssigned
        | EventKind::TrainingAssigned
        | EventKind::TrainingOverdue => person("to"),
        // A signature asked of someone by name is for them alone.
        EventKind::SignatureNeeded if data.get("to").is_some() => person("to"),
        // A signature the record names people for (a document's reviewers,
        // its approver) is theirs, never the barred signer's.
        EventKind::SignatureNeeded if data.get("named").is_some() => {
            let barred = user_in(data, "barred_signer");
            let named: Vec<i64> = data["named"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str()?.parse::<UserId>().ok().map(|u| u.0))
                .filter(|u| Some(*u) != barred)
                .collect();
            Audience::People(named)
        }
        // The signatures a step waits on are quality's (SIGNATURES.md), but
        // never the one segregation of duties bars.
        EventKind::SignatureNeeded => Audience::Role {
            role: Role::Quality,
            except: user_in(data, "barred_signer"),
        },
        EventKind::AccountLocked => Audience::Role {
            role: Role::Admin,
            except: None,
        },
        EventKind::RiskReviewRequested => Audience::Role {
            role: Role::Quality,
            except: None,
        },
        // An escalation goes to quality; a reminder to the person the duty
        // falls to.
        EventKind::Reminder if text(data, "stage") == Stage::Escalated.as_str() => Audience::Role {
            role: Role::Quality,
            except: None,
        },
        EventKind::Reminder => person("to"),
    }
}

/// The line a notification of the event reads, the record's key first:
/// what happened or what is needed, nothing beyond the record's key.
pub fn words(kind: EventKind, record_key: &str, data: &Value) -> String {
    match kind {
        EventKind::StepTaken => format!("{record_key}: {}", text(data, "action")),
        EventKind::Assigned => format!(
            "{record_key} is assigned to you (as {})",
            match text(data, "as") {
                "" => "owner",
                r => r,
            }
        ),
        EventKind::ItemAssigned => match text(data, "due_on") {
            "" => format!("{record_key}: an action item is assigned to you"),
            due => format!("{record_key}: an action item is assigned to you, due {due}"),
        },
        EventKind::SignatureNeeded if data.get("to").is_some() => format!(
            "{record_key}: your signature is asked for “{}” ({})",
            text(data, "label"),
            text(data, "meaning")
        ),
        EventKind::SignatureNeeded => format!(
            "{record_key}: a signature is needed ({}) for “{}”",
            text(data, "meaning"),
            text(data, "label")
        ),
        EventKind::AccountLocked => {
            format!("{record_key}: the account is locked after wrong passwords")
        }
        EventKind::TrainingAssigned => format!(
            "{} version {}: training assigned to you, due {}",
            text(data, "document"),
            data.get("version").and_then(Value::as_i64).unwrap_or(0),
            text(data, "due_on")
        ),
        EventKind::TrainingOverdue => format!(
            "{} version {}: your training is overdue (due {})",
            text(data, "document"),
            data.get("version").and_then(Value::as_i64).unwrap_or(0),
            text(data, "due_on")
        ),
        EventKind::RiskReviewRequested => {
            format!("{record_key}: a risk review decision is needed (ISO 14971 10)")
        }
        EventKind::Reminder => format!(
            "{record_key}: {}",
            reminder::words(
                text(data, "what"),
                Stage::parse(text(data, "stage")).unwrap_or(Stage::Overdue),
                data.get("days").and_then(Value::as_i64).unwrap_or(0),
                text(data, "due_on"),
            )
        ),
    }
}

/// What a notification is about, for a person's mail preferences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    Assignments,
    Signatures,
    RiskReviews,
    Training,
    DueSoon,
    Overdue,
    Accounts,
}

impl Category {
    pub const ALL: [Self; 7] = [
        Self::Assignments,
        Self::Signatures,
        Self::RiskReviews,
        Self::Training,
        Self::DueSoon,
        Self::Overdue,
        Self::Accounts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assignments => "assignments",
            Self::Signatures => "signatures",
            Self::RiskReviews => "risk_reviews",
            Self::Training => "training",
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
            Self::Accounts => "accounts",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Assignments => "Records and action items assigned to you",
            Self::Signatures => "Signatures requested of you",
            Self::RiskReviews => "Risk review decisions (ISO 14971 10)",
            Self::Training => "Training assigned to you",
            Self::DueSoon => "Due soon",
            Self::Overdue => "Overdue and escalated",
            Self::Accounts => "Locked accounts (administrators)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Its field on the mail settings form.
    pub fn field(self) -> &'static str {
        match self {
            Self::Assignments => "cat_assignments",
            Self::Signatures => "cat_signatures",
            Self::RiskReviews => "cat_risk_reviews",
            Self::Training => "cat_training",
            Self::DueSoon => "cat_due_soon",
            Self::Overdue => "cat_overdue",
            Self::Accounts => "cat_accounts",
        }
    }

    /// Signature requests and overdue items are never silenced.
    pub fn can_be_off(self) -> bool {
        !matches!(self, Self::Signatures | Self::Overdue)
    }
}

/// How a person wants the mail of a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Delivery {
    #[default]
    Immediately,
    /// In the daily or weekly digest.
    Digest,
    /// No mail (the app still shows it).
    Off,
}

impl Delivery {
    pub const ALL: [Self; 3] = [Self::Immediately, Self::Digest, Self::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediately => "immediately",
            Self::Digest => "digest",
            Self::Off => "off",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Immediately => "Immediately",
            Self::Digest => "In the digest",
            Self::Off => "Off",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// How often a person's digest goes out (at 07:00 UTC; weekly on Mondays).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DigestEvery {
    #[default]
    Daily,
    Weekly,
}

impl DigestEvery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Daily, Self::Weekly]
            .into_iter()
            .find(|d| d.as_str() == s)
    }

    /// The latest time a digest was due at or before `now`: today's (or
    /// this Monday's) 07:00 UTC, or the one before it.
    pub fn due_at(self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        use chrono::{Datelike, Duration, TimeZone, Utc};
        let at_seven = |d: chrono::NaiveDate| {
            Utc.from_utc_datetime(&d.and_hms_opt(7, 0, 0).unwrap_or_default())
        };
        let today = now.date_naive();
        match self {
            Self::Daily if at_seven(today) <= now => at_seven(today),
            Self::Daily => at_seven(today - Duration::days(1)),
            Self::Weekly => {
                let monday =
                    today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                if at_seven(monday) <= now {
                    at_seven(monday)
                } else {
                    at_seven(monday - Duration::days(7))
                }
            }
        }
    }
}

/// The category of an event of `kind` with `data`.
pub fn category(kind: EventKind, data: &Value) -> Category {
    match kind {
        EventKind::Assigned | EventKind::ItemAssigned | EventKind::StepTaken => {
            Category::Assignments
        }
        EventKind::SignatureNeeded => Category::Signatures,
        EventKind::RiskReviewRequested => Category::RiskReviews,
        EventKind::TrainingAssigned => Category::Training,
        EventKind::TrainingOverdue => Category::Overdue,
        EventKind::AccountLocked => Category::Accounts,
        EventKind::Reminder if text(data, "stage") == Stage::DueSoon.as_str() => Category::DueSoon,
        EventKind::Reminder => Category::Overdue,
    }
}

/// The subject of a notification's mail: the record's key and what is
/// needed of the person it goes to.
pub fn subject(kind: EventKind, record_key: &str, data: &Value) -> String {
    match kind {
        EventKind::SignatureNeeded => format!(
            "{record_key}: your signature is requested ({})",
            text(data, "meaning")
        ),
        EventKind::AccountLocked => format!("{record_key}: account locked after wrong passwords"),
        EventKind::RiskReviewRequested => {
            format!("{record_key}: your risk review decision is needed")
        }
        _ => words(kind, record_key, data),
    }
}

/// The anchor of the record's page a notification of `kind` opens at.
pub fn anchor(kind: EventKind, data: &Value) -> &str {
    match kind {
        EventKind::Reminder => text(data, "anchor"),
        EventKind::SignatureNeeded | EventKind::StepTaken => "#next",
        EventKind::RiskReviewRequested => "#risk-review",
        EventKind::ItemAssigned => "#actions",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::DomainEvent;
    use serde_json::json;

    #[test]
    fn digests_are_due_at_seven_daily_or_on_mondays() {
        use chrono::{TimeZone, Utc};
        let at = |d, h| {
            Utc.with_ymd_and_hms(2026, 12, d, h, 30, 0)
                .single()
                .unwrap_or_default()
        };
        // 2026-12-09 is a Wednesday.
        assert_eq!(
            DigestEvery::Daily.due_at(at(9, 8)),
            at(9, 7) - chrono::Duration::minutes(30)
        );
        assert_eq!(
            DigestEvery::Daily.due_at(at(9, 6)),
            at(8, 7) - chrono::Duration::minutes(30)
        );
        assert_eq!(
            DigestEvery::Weekly.due_at(at(9, 8)),
            at(7, 7) - chrono::Duration::minutes(30)
        );
        assert!(!Category::Signatures.can_be_off() && !Category::Overdue.can_be_off());
        assert_eq!(
            category(EventKind::Reminder, &json!({"stage": "due_soon"})),
            Category::DueSoon
        );
        assert_eq!(
            category(EventKind::Reminder, &json!({"stage": "escalated"})),
            Category::Overdue
        );
    }

    #[test]
    fn each_kind_names_its_audience_and_says_what_is_needed() {
        assert_eq!(
            audience(EventKind::Assigned, &json!({"to": "u-4", "as": "owner"})),
            Audience::Person(4)
        );
        assert_eq!(
            audience(
                EventKind::SignatureNeeded,
                &json!({"action": "close_effective", "label": "Close as effective", "meaning": "Approved: effective", "barred_signer": "u-7"})
            ),
            Audience::Role {
                role: Role::Quality,
                except: Some(7)
            }
        );
        let named = DomainEvent::signature_needed(
            "review",
            "Sign as reviewed",
            "Reviewed",
            Some(4),
            &[3, 4, 5],
        );
        assert_eq!(
            audience(named.kind, &named.data),
            Audience::People(vec![3, 5]),
            "the people the record names, never the barred signer"
        );
        let asked = DomainEvent::signature_asked(
            "close_effective",
            "Close as effective",
            "Approved: effective",
            9,
            1,
        );
        assert_eq!(
            audience(asked.kind, &asked.data),
            Audience::Person(9),
            "a signature asked of someone by name is for them alone"
        );
        assert_eq!(
            words(asked.kind, "CAPA-12", &asked.data),
            "CAPA-12: your signature is asked for “Close as effective” (Approved: effective)"
        );
        assert_eq!(
            subject(asked.kind, "CAPA-12", &asked.data),
            "CAPA-12: your signature is requested (Approved: effective)"
        );
        assert_eq!(
            audience(EventKind::AccountLocked, &json!({})),
            Audience::Role {
                role: Role::Admin,
                except: None
            }
        );
        assert_eq!(
            audience(EventKind::StepTaken, &json!({"action": "x"})),
            Audience::Nobody
        );
        assert_eq!(
            audience(EventKind::Assigned, &json!({"to": "nobody"})),
            Audience::Nobody,
            "a malformed person tells no one"
        );
        assert_eq!(
            words(
                EventKind::SignatureNeeded,
                "CAPA-12",
                &json!({"label": "Close as effective", "meaning": "Approved: effective"})
            ),
            "CAPA-12: a signature is needed (Approved: effective) for “Close as effective”"
        );
        assert_eq!(
            words(
                EventKind::ItemAssigned,
                "CAPA-3",
                &json!({"to": "u-2", "item": 5, "due_on": "2026-12-20"})
            ),
            "CAPA-3: an action item is assigned to you, due 2026-12-20"
        );
        assert_eq!(
            subject(
                EventKind::SignatureNeeded,
                "CAPA-12",
                &json!({"label": "Close as effective", "meaning": "Approved: effective"})
            ),
            "CAPA-12: your signature is requested (Approved: effective)"
        );
        for k in EventKind::ALL {
            assert!(!words(k, "X-1", &json!({})).is_empty());
            assert!(!subject(k, "X-1", &json!({})).is_empty());
        }
    }
}
