//! The audit browser, one entry's page, and the History panel that record
//! pages embed (`{% include "partials/history.html" %}` with a `history`
//! field).

use std::collections::HashMap;

use askama::Template;
use serde_json::{Map, Value};

use super::PageCtx;
use crate::audit::{StoredEntry, actions};
use crate::domain::user::Roles;
use crate::domain::words::{self, Reads};

/// A recorded value as people read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Not recorded (before a record existed, or no value).
    Absent,
    /// Recorded as empty text.
    Empty,
    Text(String),
    /// A list (whys, causes, roles), one item a line.
    List(Vec<String>),
}

impl Cell {
    /// On one line (CSV, a stale form's note).
    pub fn plain(&self) -> String {
        match self {
            Cell::Absent => "—".into(),
            Cell::Empty => "(empty)".into(),
            Cell::Text(t) => t.clone(),
            Cell::List(items) if items.is_empty() => "(none)".into(),
            Cell::List(items) => items.join("; "),
        }
    }

    /// The items of a list; empty for anything else.
    pub fn items(&self) -> &[String] {
        match self {
            Cell::List(items) => items,
            _ => &[],
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Cell::List(items) if !items.is_empty())
    }

    /// Nothing in it (absent, empty text, an empty list).
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Absent | Cell::Empty => true,
            Cell::List(items) => items.is_empty(),
            Cell::Text(_) => false,
        }
    }
}

/// One changed field, its old value beside its new one.
pub struct FieldChange {
    /// The field's name as recorded (`due_on`).
    pub key: String,
    /// Its label ("Due date").
    pub field: String,
    pub before: Cell,
    pub after: Cell,
    pub changed: bool,
}

/// The record an entry is about, linked when the reader may open it.
pub struct RecordLink {
    /// Its key as people know it ("CAPA-7", "Product PUMP").
    pub text: String,
    pub version: i64,
    pub href: Option<String>,
}

/// An entry as people read it.
pub struct EntryView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_id: String,
    /// The recorded action (`capa.transition`), for the entry's own page.
    pub action: String,
    /// What happened, in words ("CAPA: Close as effective").
    pub label: String,
    pub record: Option<RecordLink>,
    pub changes: Vec<FieldChange>,
    /// The entry made the record (nothing before it): its values are shown
    /// as recorded, not as a change.
    pub created: bool,
    /// Fields recorded empty at creation, not listed one by one.
    pub empty_fields: usize,
    pub reason: Option<String>,
    /// The signature's meaning and the step it signed ('Approved:
    /// effective, for “Close as effective”').
    pub signature: Option<String>,
    pub op: Option<String>,
}

/// The names a page's entries refer to by number: people and products.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub users: HashMap<i64, String>,
    pub products: HashMap<i64, String>,
}

impl Names {
    /// The user and product numbers the entries' values name.
    pub fn wanted(entries: &[StoredEntry]) -> (Vec<i64>, Vec<i64>) {
        let (mut users, mut products) = (Vec::new(), Vec::new());
        for e in entries {
            let v = e.json();
            let kind = v
                .pointer("/entity/type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            for side in ["before", "after"] {
                let Some(Value::Object(map)) = v.get(side) else {
                    continue;
                };
                for (key, value) in flat(&kind, map) {
                    let n = value.as_i64();
                    match (words::field(&key.0, &key.1).reads, n) {
                        (Reads::User, Some(n)) => users.push(n),
                        (Reads::Product, Some(n)) => products.push(n),
                        _ => {}
                    }
                }
            }
        }
        (users, products)
    }
}

/// An entry's fields one level deep: a nested object (a CAPA's action
/// item) gives its own fields, read as that kind (`capa_item`).
fn flat<'a>(kind: &str, map: &'a Map<String, Value>) -> Vec<((String, String), &'a Value)> {
    let mut out = Vec::new();
    for (k, v) in map {
        match (kind, k.as_str(), v) {
            ("capa", "item", Value::Object(inner)) => {
                for (ik, iv) in inner {
                    out.push((("capa_item".to_string(), ik.clone()), iv));
                }
            }
            _ => out.push(((kind.to_string(), k.clone()), v)),
        }
    }
    out
}

/// A value as its field reads it.
fn read(reads: Reads, v: Option<&Value>, names: &Names) -> Cell {
    let text = |s: &str| {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    };
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Cell::Absent;
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    match (reads, v) {
        (Reads::Hidden, _) => Cell::Absent,
        (Reads::Label(label), Value::String(s)) => text(label(s).unwrap_or(s)),
        (Reads::Step(kind), Value::String(s)) => text(words::step_label(kind, s).unwrap_or(s)),
        (Reads::State(kind), Value::String(s)) => text(words::state_label(kind, s).unwrap_or(s)),
        (Reads::User, Value::Number(n)) => {
            let n = n.as_i64().unwrap_or_default();
            Cell::Text(
                names
                    .users
                    .get(&n)
                    .cloned()
                    .unwrap_or_else(|| format!("user u-{n}")),
            )
        }
        (Reads::Product, Value::Number(n)) => {
            let n = n.as_i64().unwrap_or_default();
            Cell::Text(
                names
                    .products
                    .get(&n)
                    .cloned()
                    .unwrap_or_else(|| format!("product {n}")),
            )
        }
        (_, Value::Bool(b)) => Cell::Text(if *b { "Yes" } else { "No" }.into()),
        (Reads::Whys, Value::Array(items)) => Cell::List(
            items
                .iter()
                .map(|w| {
                    let s = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or_default();
                    format!("{} — {}", s("question"), s("answer"))
                })
                .collect(),
        ),
        (Reads::Causes, Value::Array(items)) => Cell::List(
            items
                .iter()
                .map(|c| {
                    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default();
                    format!("{}: {}", words::category_label(s("category")), s("text"))
                })
                .collect(),
        ),
        (Reads::Roles, Value::Array(_)) => Cell::List(
            strings(v)
                .iter()
                .map(|r| words::role_label(r).to_string())
                .collect(),
        ),
        (Reads::Scopes, Value::Array(_)) => Cell::List(
            strings(v)
                .iter()
                .map(|r| words::scope_label(r).to_string())
                .collect(),
        ),
        (Reads::Scopes, Value::String(s)) => Cell::List(
            s.split_whitespace()
                .map(|r| words::scope_label(r).to_string())
                .collect(),
        ),
        (Reads::Record, Value::Object(o)) => {
            let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            Cell::Text(crate::domain::record::kind(s("type")).map_or_else(
                || format!("{} {}", s("type"), s("id")),
                |k| k.label(s("id")),
            ))
        }
        (_, Value::String(s)) => text(s),
        (_, Value::Number(n)) => Cell::Text(n.to_string()),
        (_, Value::Array(items)) if items.iter().all(Value::is_string) => Cell::List(strings(v)),
        (_, other) => Cell::Text(other.to_string()),
    }
}

/// The before and after values side by side, one row per field named in
/// either (nested objects by their own fields), in people's words; hidden
/// fields are left out.
fn changes(kind: &str, before: &Value, after: &Value, names: &Names) -> Vec<FieldChange> {
    let empty = Map::new();
    let as_map = |v: &Value| -> Map<String, Value> {
        match v {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                let mut m = Map::new();
                m.insert("value".into(), other.clone());
                m
            }
        }
    };
    let (b, a) = (as_map(before), as_map(after));
    let (b, a) = (
        flat(kind, if before.is_null() { &empty } else { &b }),
        flat(kind, &a),
    );
    let mut keys: Vec<(String, String)> =
        b.iter().chain(a.iter()).map(|(k, _)| k.clone()).collect();
    keys.dedup();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for key in keys {
        if seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        let f = words::field(&key.0, &key.1);
        if matches!(f.reads, Reads::Hidden) {
            continue;
        }
        let old = b.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let new = a.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        out.push(FieldChange {
            changed: old != new,
            before: read(f.reads, old, names),
            after: read(f.reads, new, names),
            field: f.label,
            key: key.1,
        });
    }
    out.sort_by(|x, y| x.field.cmp(&y.field));
    out
}

/// Where a record of `kind` with `id` is opened, for a reader with `roles`
/// (the record registry's page, if they may open it).
pub fn record_href(kind: &str, id: &str, roles: &Roles) -> Option<String> {
    crate::domain::record::href(kind, id, roles)
}

/// How a record is named in a trail: its numbered key alone ("CAPA-7"),
/// else its kind and key ("Product PUMP").
fn record_text(kind: &str, key: &str) -> String {
    match crate::domain::record::kind(kind) {
        Some(k) if k.key_prefix.is_some_and(|p| key.starts_with(p)) => key.to_string(),
        Some(k) => format!("{} {key}", k.name),
        None => format!("{kind} {key}"),
    }
}

impl EntryView {
    pub fn new(e: &StoredEntry, roles: &Roles, names: &Names) -> Self {
        let v = e.json();
        let text = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).map(str::to_string);
        let action = text("/action").unwrap_or_default();
        let kind = text("/entity/type").unwrap_or_default();
        let record = v.get("entity").filter(|x| x.is_object()).map(|ent| {
            let s = |k: &str| ent.get(k).and_then(Value::as_str).unwrap_or_default();
            let key = if s("key").is_empty() {
                s("id")
            } else {
                s("key")
            };
            RecordLink {
                text: record_text(s("type"), key),
                version: ent.get("version").and_then(Value::as_i64).unwrap_or(0),
                href: record_href(s("type"), s("id"), roles),
            }
        });
        let null = Value::Null;
        let before = v.get("before").unwrap_or(&null);
        let after = v.get("after").unwrap_or(&null);
        // A step is told by its name; its own row would say it again.
        let step = text("/after/transition")
            .filter(|_| action.ends_with(".transition"))
            .map(|t| words::step_label(&kind, &t).map_or(t.clone(), str::to_string));
        let mut changes = changes(&kind, before, after, names);
        if step.is_some() {
            changes.retain(|c| c.key != "transition");
        }
        let created = before.is_null() && !after.is_null();
        let mut empty_fields = 0;
        if created {
            let before_len = changes.len();
            changes.retain(|c| !c.after.is_blank());
            empty_fields = before_len - changes.len();
        }
        let label = match &step {
            Some(step) => {
                let name = crate::domain::record::kind(&kind).map_or(kind.as_str(), |k| k.name);
                format!("{name}: {step}")
            }
            None => actions::label(&action).to_string(),
        };
        Self {
            seq: e.seq,
            at: text("/at")
                .map(|t| {
                    // To the second: enough to tell entries apart.
                    let t = t.replace('T', " ");
                    let t = t.trim_end_matches('Z');
                    format!("{} UTC", t.split('.').next().unwrap_or(t))
                })
                .unwrap_or_default(),
            actor: text("/actor/name").unwrap_or_default(),
            actor_id: text("/actor/id").unwrap_or_default(),
            label,
            action,
            record,
            changes,
            created,
            empty_fields,
            reason: text("/reason"),
            signature: v.get("signature").filter(|s| s.is_object()).map(|s| {
                let meaning = s.get("meaning").and_then(Value::as_str).unwrap_or_default();
                match &step {
                    Some(step) => format!("{meaning}, for “{step}”"),
                    None => meaning.to_string(),
                }
            }),
            op: text("/op"),
        }
    }
}

/// The History panel of a record page.
pub struct HistoryPanel {
    pub entries: Vec<EntryView>,
    /// The audit browser filtered to this record.
    pub all_href: String,
    /// The record's whole trail as CSV, and as a printable record packet.
    pub csv_href: String,
    pub packet_href: String,
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
    /// A compact table, one line an entry, instead of the cards.
    pub table: bool,
    /// This page in the other view.
    pub other_view: String,
}

/// The record packet: the record, its signatures verified now, its whole
/// trail, printable.
#[derive(Template)]
#[template(path = "audit/packet.html")]
pub struct PacketPage {
    pub ctx: PageCtx,
    pub kind_name: &'static str,
    pub key: String,
    pub title: String,
    pub record_state: String,
    pub record_href: Option<String>,
    pub csv_href: String,
    pub generated_at: String,
    pub generated_by: String,
    pub checkpoint_size: u64,
    pub checkpoint_root: String,
    pub origin: String,
    pub signatures: Vec<super::signatures::SignatureView>,
    pub count: usize,
    pub entries: Vec<EntryView>,
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
    fn old_and_new_values_line_up_by_field_in_peoples_words() {
        let names = Names {
            users: [(2, "Quinn Quality".to_string())].into(),
            products: [(1, "Infusion pump".to_string())].into(),
        };
        let rows = changes(
            "user",
            &json!({"roles": ["engineer"], "full_name": "Ann"}),
            &json!({"roles": ["engineer", "quality"], "full_name": "Ann"}),
            &names,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].field, "Printed name");
        assert!(!rows[0].changed);
        assert_eq!(rows[1].field, "Roles");
        assert_eq!(rows[1].before, Cell::List(vec!["Engineer".into()]));
        assert_eq!(
            rows[1].after,
            Cell::List(vec!["Engineer".into(), "Quality".into()])
        );
        assert!(rows[1].changed);
        let rows = changes(
            "nonconformance",
            &json!({"disposition": null, "product_id": 1}),
            &json!({"disposition": "use_as_is", "product_id": 1}),
            &names,
        );
        let by = |f: &str| rows.iter().find(|r| r.field == f).unwrap();
        assert_eq!(by("Disposition").after, Cell::Text("Use as is".into()));
        assert_eq!(by("Disposition").before, Cell::Absent);
        assert_eq!(by("Product").after, Cell::Text("Infusion pump".into()));
        let rows = changes(
            "capa",
            &Value::Null,
            &json!({"owner_id": 2, "whys": [{"question": "Why?", "answer": "Worn"}], "causes": [{"category": "machine", "text": "Old die"}]}),
            &names,
        );
        let by = |f: &str| rows.iter().find(|r| r.field == f).unwrap();
        assert_eq!(by("Owner").after, Cell::Text("Quinn Quality".into()));
        assert_eq!(
            by("Five whys").after,
            Cell::List(vec!["Why? — Worn".into()])
        );
        assert_eq!(
            by("Fishbone causes").after,
            Cell::List(vec!["Machine: Old die".into()])
        );
        let item = changes(
            "capa",
            &json!({"item": {"id": "capa-item-3", "evidence": "", "owner_id": 2}}),
            &json!({"item": {"id": "capa-item-3", "evidence": "WO-88", "owner_id": 2}}),
            &names,
        );
        assert!(
            item.iter().all(|r| r.key != "id"),
            "an item's own id is not shown"
        );
        assert!(item.iter().any(|r| r.field == "Evidence" && r.changed));
        assert_eq!(changes("capa", &Value::Null, &Value::Null, &names).len(), 0);
    }
}
