//! How recorded fields and values read to people (issue 14, item 3): the
//! audit trail stores stable names (`owner_id`, `use_as_is`,
//! `close_effective`); History panels, the audit browser, the record packet
//! and signatures show labels ("Owner", "Use as is", "Close as effective"),
//! names instead of ids, and lists instead of JSON. Pure: the names of
//! people and products are looked up by the caller, told here which values
//! are people and products.

use super::capa::{
    CapaSource, CapaState, CapaWorkflow, Category, Effectiveness, ItemKind, Kind, Priority,
    RcaMethod,
};
use super::nonconformance::{Disposition, NcState, NcWorkflow, Severity, Source};
use super::requirement::{ReqKind, ReqStatus};
use super::trace::{Outcome, Provider, Relation, Scope};
use super::workflow::{Workflow, action_def};

/// How a recorded value reads.
#[derive(Clone, Copy, Debug)]
pub enum Reads {
    /// As written.
    Text,
    /// A stored name with a label (`use_as_is` → "Use as is").
    Label(fn(&str) -> Option<&'static str>),
    /// A user's number: their name.
    User,
    /// A product's number: its name.
    Product,
    /// Yes or no.
    YesNo,
    /// A five-whys chain: "Why…? Because…" a line.
    Whys,
    /// Fishbone causes: "Category: cause" a line.
    Causes,
    /// Role names, as a list of labels.
    Roles,
    /// API token scopes, as a list.
    Scopes,
    /// Another record (`{"type": "capa", "id": "capa-3"}`): its key.
    Record,
    /// A workflow step of a record kind (`close_effective`).
    Step(&'static str),
    /// A workflow state of a record kind (`under_review`).
    State(&'static str),
    /// Not shown: an internal reference (an action item's own id).
    Hidden,
}

/// A field as people read it: its label and how its value reads.
#[derive(Clone, Debug)]
pub struct Field {
    pub label: String,
    pub reads: Reads,
}

fn safety_class(s: &str) -> Option<&'static str> {
    super::product::SafetyClass::parse(s).map(|c| match c {
        super::product::SafetyClass::A => "Class A",
        super::product::SafetyClass::B => "Class B",
        super::product::SafetyClass::C => "Class C",
    })
}

fn relation(s: &str) -> Option<&'static str> {
    Relation::label_of(s).or(match s {
        "escalated_to" => Some("Escalated to"),
        "derives_from" => Some("Derives from"),
        _ => None,
    })
}

/// What part of a record a file is attached to.
fn part(s: &str) -> Option<&'static str> {
    match s {
        "" => Some("The record"),
        "effectiveness" => Some("The effectiveness check"),
        p if p.starts_with("capa-item-") => Some("An action item"),
        _ => None,
    }
}

/// How a signature request ended.
fn ended(s: &str) -> Option<&'static str> {
    match s {
        "withdrawn" => Some("Withdrawn"),
        "taken" => Some("Signed"),
        "moved_on" => Some("Ended: the record moved on"),
        _ => None,
    }
}

/// What an unknown field is called: its name in words ("lot_serial" →
/// "Lot serial").
fn plain(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The fields every kind of record names the same way.
fn common(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "title" => ("Title", Reads::Text),
        "owner_id" => ("Owner", Reads::User),
        "product_id" => ("Product", Reads::Product),
        "due_on" => ("Due date", Reads::Text),
        "description" => ("Description", Reads::Text),
        "active" => ("Active", Reads::YesNo),
        "reason" => ("Reason", Reads::Text),
        "full_name" => ("Printed name", Reads::Text),
        "email" => ("E-mail", Reads::Text),
        "roles" => ("Roles", Reads::Roles),
        "scopes" => ("Scopes", Reads::Scopes),
        "from" => ("From", Reads::Record),
        "to" => ("To", Reads::Record),
        "relation" => ("Relation", Reads::Label(relation)),
        "safety_class" => ("Software safety class", Reads::Label(safety_class)),
        "name" => ("Name", Reads::Text),
        "key_prefix" => ("Key prefix", Reads::Text),
        "method" => ("Request", Reads::Text),
        "path" => ("Page", Reads::Text),
        "why" => ("Why", Reads::Text),
        "ip" => ("Address", Reads::Text),
        "attachment" => ("Attachment", Reads::Hidden),
        "sha256" => ("SHA-256", Reads::Text),
        "size" => ("Size (bytes)", Reads::Text),
        "part" => ("Attached to", Reads::Label(part)),
        // A signature request (service::signature_requests).
        "asked_of" => ("Asked of", Reads::User),
        "request" => ("Request", Reads::Hidden),
        "ended" => ("Request", Reads::Label(ended)),
        _ => return None,
    })
}

fn capa(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "kind" => ("Type", Reads::Label(Kind::label_of)),
        "source" => ("Source", Reads::Label(CapaSource::label_of)),
        "source_ref" => ("Source reference", Reads::Text),
        "problem" => ("Problem statement", Reads::Text),
        "priority" => ("Priority", Reads::Label(Priority::label_of)),
        "containment" => ("Containment / correction", Reads::Text),
        "rca_method" => ("Method", Reads::Label(RcaMethod::label_of)),
        "whys" => ("Five whys", Reads::Whys),
        "causes" => ("Fishbone causes", Reads::Causes),
        "root_cause" => ("Root cause", Reads::Text),
        "action_required" => ("Action needed", Reads::YesNo),
        "action_rationale" => ("Rationale of the decision", Reads::Text),
        "no_adverse_effect" => ("No adverse effect", Reads::Text),
        "effectiveness_criteria" => ("Effectiveness criteria", Reads::Text),
        "effectiveness_due" => ("Effectiveness check due", Reads::Text),
        "effectiveness_result" => (
            "Effectiveness result",
            Reads::Label(Effectiveness::label_of),
        ),
        "effectiveness_evidence" => ("Evidence of the check", Reads::Text),
        "cancel_justification" => ("Cancelled because", Reads::Text),
        "state" => ("State", Reads::State("capa")),
        "transition" => ("Step", Reads::Step("capa")),
        "action" => ("Step", Reads::Step("capa")),
        "item" => ("Action item", Reads::Text),
        _ => return None,
    })
}

fn capa_item(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "id" => ("Item", Reads::Hidden),
        "text" => ("Action", Reads::Text),
        "kind" => ("Kind", Reads::Label(ItemKind::label_of)),
        "done_on" => ("Done on", Reads::Text),
        "evidence" => ("Evidence", Reads::Text),
        _ => return None,
    })
}

fn nonconformance(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "source" => ("Found in", Reads::Label(Source::label_of)),
        "lot_serial" => ("Lot / serial", Reads::Text),
        "detected_on" => ("Detected on", Reads::Text),
        "severity" => ("Severity", Reads::Label(Severity::label_of)),
        "disposition" => ("Disposition", Reads::Label(Disposition::label_of)),
        "justification" => ("Justification", Reads::Text),
        "closure_note" => ("Carried out", Reads::Text),
        "state" => ("State", Reads::State("nonconformance")),
        "transition" => ("Step", Reads::Step("nonconformance")),
        "action" => ("Step", Reads::Step("nonconformance")),
        _ => return None,
    })
}

fn requirement(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "key" => ("Key", Reads::Text),
        "text" => ("Text", Reads::Text),
        "kind" => ("Kind", Reads::Label(ReqKind::label_of)),
        "status" => ("Status", Reads::Label(ReqStatus::label_of)),
        "text_version" => ("Version of the statement", Reads::Text),
        "parents" => ("Derives from", Reads::Text),
        _ => return None,
    })
}

fn repository(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "provider" => ("Provider", Reads::Label(Provider::label_of)),
        "outcome" => ("Outcome", Reads::Label(Outcome::label_of)),
        _ => return None,
    })
}

fn user(key: &str) -> Option<(&'static str, Reads)> {
    Some(match key {
        "username" => ("Username", Reads::Text),
        "must_change_password" => ("Password to change at sign-in", Reads::YesNo),
        _ => return None,
    })
}

/// How field `key` of a `kind` record (its audited entity type) reads.
/// `capa_item` names the fields of a CAPA's action item.
pub fn field(kind: &str, key: &str) -> Field {
    let own = match kind {
        "capa" => capa(key),
        "capa_item" => capa_item(key),
        "nonconformance" => nonconformance(key),
        "requirement" => requirement(key),
        "repository" => repository(key),
        "user" => user(key),
        _ => None,
    };
    match own.or_else(|| common(key)) {
        Some((label, reads)) => Field {
            label: label.to_string(),
            reads,
        },
        None => Field {
            label: plain(key),
            reads: Reads::Text,
        },
    }
}

/// The label of workflow step `action` of a `kind` record ("Close as
/// effective"), if the kind has that step.
pub fn step_label(kind: &str, action: &str) -> Option<&'static str> {
    match kind {
        "capa" => action_def::<CapaWorkflow>(action).map(|a| a.label),
        "nonconformance" => action_def::<NcWorkflow>(action).map(|a| a.label),
        _ => None,
    }
}

/// The label of workflow state `state` of a `kind` record ("Under review").
pub fn state_label(kind: &str, state: &str) -> Option<&'static str> {
    match kind {
        "capa" => CapaState::label_of(state),
        "nonconformance" => NcState::label_of(state)
            // NCs were once left in this state after escalation (migration 18).
            .or((state == "capa_opened").then_some("CAPA opened")),
        _ => None,
    }
}

/// A stored label of something else a field may name (a fishbone category,
/// a role, a scope), for the list readers.
pub fn category_label(name: &str) -> &str {
    Category::label_of(name).unwrap_or(name)
}

pub fn role_label(name: &str) -> &str {
    super::user::Role::ALL
        .iter()
        .find(|r| r.as_str() == name)
        .map_or(name, |r| r.label())
}

pub fn scope_label(name: &str) -> &str {
    Scope::label_of(name).unwrap_or(name)
}

/// Whether every workflow's steps and states have their words here.
pub fn knows_workflow_kinds() -> [&'static str; 2] {
    [CapaWorkflow::KIND, NcWorkflow::KIND]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_labels_and_ids_as_people_and_products() {
        let f = field("nonconformance", "disposition");
        assert_eq!(f.label, "Disposition");
        let Reads::Label(label) = f.reads else {
            panic!("a label")
        };
        assert_eq!(label("use_as_is"), Some("Use as is"));
        assert!(matches!(field("capa", "owner_id").reads, Reads::User));
        assert_eq!(field("capa", "owner_id").label, "Owner");
        assert!(matches!(
            field("nonconformance", "product_id").reads,
            Reads::Product
        ));
        assert!(matches!(field("capa", "whys").reads, Reads::Whys));
        assert!(matches!(field("capa_item", "id").reads, Reads::Hidden));
        assert_eq!(field("anything", "lot_number").label, "Lot number");
        assert_eq!(
            step_label("capa", "close_effective"),
            Some("Close as effective")
        );
        assert_eq!(
            step_label("nonconformance", "escalate_to_capa"),
            Some("Escalate to CAPA")
        );
        assert_eq!(
            state_label("nonconformance", "under_review"),
            Some("Under review")
        );
        assert_eq!(role_label("quality"), "Quality");
        // A signature request reads with the step's words and a name.
        assert!(matches!(field("capa", "action").reads, Reads::Step("capa")));
        assert!(matches!(field("risk", "asked_of").reads, Reads::User));
        assert!(matches!(field("capa", "request").reads, Reads::Hidden));
        // Every step and state of every workflow has its words.
        for kind in knows_workflow_kinds() {
            let (steps, states): (Vec<&str>, Vec<&str>) = match kind {
                "capa" => (
                    CapaWorkflow::actions().iter().map(|a| a.name).collect(),
                    CapaWorkflow::states().iter().map(|s| s.name).collect(),
                ),
                _ => (
                    NcWorkflow::actions().iter().map(|a| a.name).collect(),
                    NcWorkflow::states().iter().map(|s| s.name).collect(),
                ),
            };
            assert!(
                steps.iter().all(|s| step_label(kind, s).is_some()),
                "{kind}"
            );
            assert!(
                states.iter().all(|s| state_label(kind, s).is_some()),
                "{kind}"
            );
        }
    }
}
