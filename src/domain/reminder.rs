//! Reminders of due dates (issue 18): which reminder a dated duty needs on a
//! given day, and the key that makes each go out once. Due soon, some days
//! before the date (by kind, and by priority for a CAPA); overdue, every day
//! after it until the duty is done; escalated to quality once, after a
//! number of days overdue. Pure: the reminders job reads the duties, asks
//! here, and writes each new reminder as a domain event in the same
//! transaction as its key.

use chrono::NaiveDate;

use super::capa::Priority;

/// What falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    /// A CAPA's due date, reminded ahead by its priority.
    Capa(Option<Priority>),
    /// An action item of a CAPA not done yet.
    ActionItem,
    /// A CAPA's effectiveness check, while it is in verification.
    Effectiveness,
    /// A document's periodic review (ISO 13485 4.2.4).
    DocumentReview,
    /// A person's training on a document version (ISO 13485 6.2).
    Training,
}

impl Duty {
    /// Stable, for keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capa(_) => "capa",
            Self::ActionItem => "item",
            Self::Effectiveness => "effectiveness",
            Self::DocumentReview => "review",
            Self::Training => "training",
        }
    }

    /// How it reads after the record's key.
    pub fn what(self) -> &'static str {
        match self {
            Self::Capa(_) => "the CAPA",
            Self::ActionItem => "an action item",
            Self::Effectiveness => "the effectiveness check",
            Self::DocumentReview => "the periodic review",
            Self::Training => "your training",
        }
    }

    /// Days before the due date the first reminder goes out.
    pub fn lead_days(self) -> i64 {
        match self {
            Self::Capa(Some(Priority::Critical)) => 2,
            Self::Capa(Some(Priority::High)) => 5,
            Self::Capa(Some(Priority::Medium) | None) => 7,
            Self::Capa(Some(Priority::Low)) => 14,
            Self::ActionItem => 3,
            Self::Effectiveness => 14,
            Self::DocumentReview => 30,
            Self::Training => 7,
        }
    }

    /// The first day overdue reminders go out: training's first overdue
    /// day is told by the training job itself.
    fn first_overdue_day(self) -> i64 {
        match self {
            Self::Training => 2,
            _ => 1,
        }
    }
}

/// Which reminder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    DueSoon,
    Overdue,
    /// To quality, once.
    Escalated,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
            Self::Escalated => "escalated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::DueSoon, Self::Overdue, Self::Escalated]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A reminder due today: its stage, its key (one reminder per key, ever)
/// and the days to the due date (negative: overdue by that many).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub stage: Stage,
    pub key: String,
    pub days: i64,
}

/// The reminders the duty `duty` of the record `record_id`, due `due_on`,
/// needs `today`, when escalation comes `escalate_after` days overdue.
/// The due date is in every key, so a date moved later reminds again; the
/// day is in an overdue reminder's, so it goes out once a day.
pub fn due_today(
    duty: Duty,
    record_id: &str,
    due_on: NaiveDate,
    today: NaiveDate,
    escalate_after: i64,
) -> Vec<Reminder> {
    let days = (due_on - today).num_days();
    let key = |stage: Stage, tail: &str| {
        format!(
            "{}:{record_id}:{}:{due_on}{tail}",
            duty.as_str(),
            stage.as_str()
        )
    };
    let mut out = Vec::new();
    if (0..=duty.lead_days()).contains(&days) {
        out.push(Reminder {
            stage: Stage::DueSoon,
            key: key(Stage::DueSoon, ""),
            days,
        });
    }
    if -days >= duty.first_overdue_day() {
        out.push(Reminder {
            stage: Stage::Overdue,
            key: key(Stage::Overdue, &format!(":{today}")),
            days,
        });
    }
    if -days >= escalate_after.max(1) {
        out.push(Reminder {
            stage: Stage::Escalated,
            key: key(Stage::Escalated, ""),
            days,
        });
    }
    out
}

/// The line a reminder reads after the record's key.
pub fn words(what: &str, stage: Stage, days: i64, due_on: &str) -> String {
    let late = -days;
    match stage {
        Stage::DueSoon => match days {
            0 => format!("{what} is due today"),
            1 => format!("{what} is due tomorrow ({due_on})"),
            d => format!("{what} is due in {d} days ({due_on})"),
        },
        Stage::Overdue if late == 1 => format!("{what} is overdue by 1 day (due {due_on})"),
        Stage::Overdue => format!("{what} is overdue by {late} days (due {due_on})"),
        Stage::Escalated => {
            format!("{what} is {late} days overdue (due {due_on}): escalated to quality")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn stages(duty: Duty, due: &str, today: &str) -> Vec<Stage> {
        due_today(duty, "capa-1", day(due), day(today), 7)
            .into_iter()
            .map(|r| r.stage)
            .collect()
    }

    #[test]
    fn due_soon_by_priority_then_overdue_daily_then_escalated_once() {
        let high = Duty::Capa(Some(Priority::High));
        assert!(
            stages(high, "2026-12-20", "2026-12-14").is_empty(),
            "6 days ahead"
        );
        assert_eq!(stages(high, "2026-12-20", "2026-12-15"), [Stage::DueSoon]);
        let low = Duty::Capa(Some(Priority::Low));
        assert_eq!(
            stages(low, "2026-12-20", "2026-12-06"),
            [Stage::DueSoon],
            "14 days"
        );
        assert_eq!(stages(high, "2026-12-20", "2026-12-20"), [Stage::DueSoon]);
        assert_eq!(stages(high, "2026-12-20", "2026-12-21"), [Stage::Overdue]);
        assert_eq!(
            stages(high, "2026-12-20", "2026-12-27"),
            [Stage::Overdue, Stage::Escalated]
        );
        assert_eq!(stages(Duty::Training, "2026-12-20", "2026-12-21"), []);
        assert_eq!(
            stages(Duty::Training, "2026-12-20", "2026-12-22"),
            [Stage::Overdue]
        );
        // Keys: due soon and escalated once per due date, overdue once a day.
        let k = |today| due_today(high, "capa-1", day("2026-12-20"), day(today), 7);
        assert_eq!(k("2026-12-16")[0].key, k("2026-12-17")[0].key);
        assert_ne!(k("2026-12-22")[0].key, k("2026-12-23")[0].key);
        assert_eq!(k("2026-12-28")[1].key, k("2026-12-29")[1].key);
        assert_eq!(
            k("2026-12-22")[0].key,
            "capa:capa-1:overdue:2026-12-20:2026-12-22"
        );
    }

    #[test]
    fn a_reminder_says_when() {
        assert_eq!(
            words("the CAPA", Stage::DueSoon, 3, "2026-12-20"),
            "the CAPA is due in 3 days (2026-12-20)"
        );
        assert_eq!(
            words("the CAPA", Stage::DueSoon, 0, "2026-12-20"),
            "the CAPA is due today"
        );
        assert_eq!(
            words("an action item", Stage::Overdue, -1, "2026-12-20"),
            "an action item is overdue by 1 day (due 2026-12-20)"
        );
        assert_eq!(
            words("the CAPA", Stage::Escalated, -7, "2026-12-20"),
            "the CAPA is 7 days overdue (due 2026-12-20): escalated to quality"
        );
    }
}
