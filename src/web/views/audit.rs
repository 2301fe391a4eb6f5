//! The audit browser, one entry's page, and the History panel that record
//! pages embed (`{% include "partials/history.html" %}` with a `history`
//! field).

use askama::Template;
use serde_json::Value;

use super::PageCtx;
use crate::audit::{StoredEntry, actions};
use crate::domain::user::Roles;

/// One changed field, its old value beside its new one.
pub struct FieldChange {
    /// The field's name as recorded (`due_on`).
    pub key: String,
    pub field: String,
    pub before: String,
    pub after: String,
    pub changed: bool,
}

/// The record an entry is about, linked when the reader may open it.
pub struct RecordLink {
    pub text: String,
    pub href: Option<String>,
}

/// An entry as people read it.
pub struct EntryView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_id: String,
    pub action: String,
    pub label: String,
    pub record: Option<RecordLink>,
    pub changes: Vec<FieldChange>,
    pub reason: Option<String>,
    pub signature: Option<String>,
    pub op: Option<String>,
}

/// A value as a cell shows it: text as it is, absent as a dash, lists of
/// text joined by commas, anything else as compact JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(s)) if s.is_empty() => "(empty)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            if parts.is_empty() {
                "(none)".to_string()
            } else {
                parts.join(", ")
            }
        }
        Some(other) => other.to_string(),
    }
}

/// The before and after values side by side, one row per field named in
/// either; a value that is not an object is shown as the field "value".
fn changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let as_map = |v: &Value| -> Vec<(String, Value)> {
        match v {
            Value::Null => Vec::new(),
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            other => vec![("value".to_string(), other.clone())],
        }
    };
    let (b, a) = (as_map(before), as_map(after));
    let mut fields: Vec<String> = b.iter().chain(a.iter()).map(|(k, _)| k.clone()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .map(|field| {
            let old = b.iter().find(|(k, _)| *k == field).map(|(_, v)| v);
            let new = a.iter().find(|(k, _)| *k == field).map(|(_, v)| v);
            FieldChange {
                changed: old != new,
                before: cell(old),
                after: cell(new),
                field: field.replace('_', " "),
                key: field,
            }
        })
        .collect()
}

/// Where a record of `kind` with `id` is opened, for a reader with `roles`
/// (the record registry's page, if they may open it).
pub fn record_href(kind: &str, id: &str, roles: &Roles) -> Option<String> {
    crate::domain::record::href(kind, id, roles)
}

impl EntryView {
    pub fn new(e: &StoredEntry, roles: &Roles) -> Self {
        let v = e.json();
        let text = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).map(str::to_string);
        let action = text("/action").unwrap_or_default();
        let record = v.get("entity").filter(|x| x.is_object()).map(|ent| {
            let s = |k: &str| ent.get(k).and_then(Value::as_str).unwrap_or_default();
            let kind = s("type");
            let key = if s("key").is_empty() {
                s("id")
            } else {
                s("key")
            };
            let version = ent.get("version").and_then(Value::as_i64).unwrap_or(0);
            RecordLink {
                text: format!("{kind} {key} (version {version})"),
                href: record_href(kind, s("id"), roles),
            }
        });
        let null = Value::Null;
        Self {
            seq: e.seq,
            at: text("/at")
                .map(|t| format!("{} UTC", t.replace('T', " ").trim_end_matches('Z')))
                .unwrap_or_default(),
            actor: text("/actor/name").unwrap_or_default(),
            actor_id: text("/actor/id").unwrap_or_default(),
            label: actions::label(&action).to_string(),
            action,
            record,
            changes: changes(
                v.get("before").unwrap_or(&null),
                v.get("after").unwrap_or(&null),
            ),
            reason: text("/reason"),
            signature: v
                .get("signature")
                .filter(|s| s.is_object())
                .map(|s| cell(s.get("meaning"))),
            op: text("/op"),
        }
    }
}

/// The History panel of a record page.
pub struct HistoryPanel {
    pub entries: Vec<EntryView>,
    /// The audit browser filtered to this record.
    pub all_href: String,
    /// More entries exist than the panel shows.
    pub more: bool,
}

/// An option of a filter's select.
#[derive(Clone, Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A group of options.
pub struct ChoiceGroup {
    pub label: String,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "audit/browse.html")]
pub struct BrowsePage {
    pub ctx: PageCtx,
    pub entries: Vec<EntryView>,
    pub types: Vec<Choice>,
    pub actions: Vec<ChoiceGroup>,
    pub record: String,
    pub actor: String,
    pub from: String,
    pub to: String,
    pub filtered: bool,
    pub errors: Vec<String>,
    pub newer: Option<String>,
    pub older: Option<String>,
    pub log_size: u64,
    pub limited: bool,
}

#[derive(Template)]
#[template(path = "audit/entry.html")]
pub struct EntryPage {
    pub ctx: PageCtx,
    pub entry: EntryView,
    pub leaf: String,
    pub leaf_hash_hex: String,
    pub leaf_hash_b64: String,
    pub tree_size: u64,
    pub previous: Option<i64>,
    pub next: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_and_new_values_line_up_by_field() {
        let rows = changes(
            &json!({"roles": ["engineer"], "full_name": "Ann"}),
            &json!({"roles": ["engineer", "quality"], "full_name": "Ann"}),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].field, "full name");
        assert!(!rows[0].changed);
        assert_eq!(rows[1].before, "engineer");
        assert_eq!(rows[1].after, "engineer, quality");
        assert!(rows[1].changed);
        let created = changes(&Value::Null, &json!({"state": "open", "count": 3}));
        assert_eq!(created[0].before, "—");
        assert_eq!(created[0].after, "3");
        assert_eq!(changes(&Value::Null, &Value::Null).len(), 0);
    }
}
