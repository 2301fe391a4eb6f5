//! Requirements: created, changed, retired and restored by quality and
//! engineers; parents linked and unlinked; CSV files imported after a
//! preview. Every change is audited in its own transaction; a change of the
//! statement (title or text) makes a new version and keeps the old one.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use super::links;
use crate::audit::{self, EntityRef};
use crate::db::repo::links::{self as link_repo, Link};
use crate::db::repo::products;
use crate::db::repo::requirements::{self as repo, Import};
use crate::db::{DbConnection, write_tx};
use crate::domain::product::Product;
use crate::domain::requirement::{
    ReqStatus, Requirement, RequirementFields, closes_cycle, push_errors, read_import,
};

pub use crate::domain::requirement::DERIVES_FROM;

fn invalid(message: impl Into<String>) -> RecordError {
    RecordError::invalid(message)
}

pub fn entity(r: &Requirement) -> EntityRef {
    EntityRef {
        kind: "requirement".into(),
        id: r.entity_id(),
        key: r.key.clone(),
        version: r.version,
    }
}

/// `key` is held by another requirement of the product already.
fn key_taken(key: &str) -> RecordError {
    RecordError::taken(
        "key",
        format!("{key} already exists in this product; keys are never reused"),
    )
}

fn end(r: &Requirement) -> (String, String) {
    ("requirement".to_string(), r.entity_id())
}

/// The product requirements are written for: it must exist and be active.
fn active_product(conn: &mut DbConnection, id: i64) -> Result<Product, RecordError> {
    match products::find(conn, id)? {
        Some(p) if p.active => Ok(p),
        Some(p) => Err(invalid(format!(
            "{} is archived: restore it to add or change its requirements.",
            p.name
        ))),
        None => Err(invalid("Choose a product from the list.")),
    }
}

/// Creates a requirement in `product` with parents named by key.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    product: i64,
    fields: &RequirementFields,
    parents: &[String],
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        active_product(conn, product)?;
        if !repo::by_keys(conn, product, std::slice::from_ref(&fields.key))?.is_empty() {
            return Err(key_taken(&fields.key));
        }
        let found = resolve(conn, product, parents)?;
        let r =
            repo::insert(conn, product, fields, super::actor_user(ctx), ctx.now).map_err(|e| {
                match crate::db::unique_violation(&e).as_deref() {
                    // Saved by someone else at the same moment.
                    Some("key") => key_taken(&fields.key),
                    _ => RecordError::Storage(e),
                }
            })?;
        audit::append(
            conn,
            &ctx.entry("requirement.created")
                .entity(entity(&r))
                .after(r.audit_fields()),
        )?;
        for p in &found {
            link_parent(conn, ctx, &r, p)?;
        }
        link_earlier_commits(conn, ctx, &r)?;
        Ok(r)
    })
}

/// Commits pushed before the requirement existed, whose messages named its
/// key, link to it now.
fn link_earlier_commits(
    conn: &mut DbConnection,
    ctx: &Ctx,
    r: &Requirement,
) -> Result<(), RecordError> {
    super::git::resolve_dangling(conn, ctx, r)?;
    Ok(())
}

/// The requirements of `product` named by `keys`; every missing one is named.
fn resolve(
    conn: &mut DbConnection,
    product: i64,
    keys: &[String],
) -> Result<Vec<Requirement>, RecordError> {
    let found = repo::by_keys(conn, product, keys)?;
    let missing: Vec<String> = keys
        .iter()
        .filter(|k| !found.iter().any(|r| &r.key == *k))
        .map(|k| format!("There is no requirement {k} in this product."))
        .collect();
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(RecordError::Invalid(
            missing
                .into_iter()
                .map(|m| crate::domain::user::FieldError::new("parents", m))
                .collect(),
        ))
    }
}

fn link_parent(
    conn: &mut DbConnection,
    ctx: &Ctx,
    child: &Requirement,
    parent: &Requirement,
) -> Result<(), RecordError> {
    let (c, p) = (end(child), end(parent));
    links::create(
        conn,
        ctx,
        (&c.0, &c.1),
        DERIVES_FROM,
        (&p.0, &p.1),
        entity(child),
    )?;
    Ok(())
}

fn load(conn: &mut DbConnection, id: i64, version: i64) -> Result<Requirement, RecordError> {
    let r = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
    if r.version != version {
        return Err(RecordError::Stale);
    }
    Ok(r)
}

/// Writes `after` as the next version of `before`, keeps a new statement
/// version, and appends `action` with the changed fields.
fn save(
    conn: &mut DbConnection,
    ctx: &Ctx,
    action: &str,
    before: &Requirement,
    after: Requirement,
    reason: Option<&str>,
) -> Result<Requirement, RecordError> {
    let after = super::edit::edit(conn, ctx, action, before, after, reason, |conn, r| {
        Ok::<_, RecordError>(repo::save(conn, r)?)
    })?;
    if after.text_version != before.text_version {
        repo::insert_text(conn, &after, super::actor_user(ctx))?;
        // The risks its statement controls are reviewed against the new text.
        let why = format!(
            "{}'s statement changed (now v{})",
            after.key, after.text_version
        );
        super::risks::flag_requirements(conn, ctx, &[after.id], |_| why.clone())?;
    }
    Ok(after)
}

/// Changes a requirement's statement, kind or class. The key never changes:
/// commits and tests name it.
pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    fields: &RequirementFields,
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        check_changeable(&before)?;
        if fields.key != before.key {
            return Err(invalid(format!(
                "The key {} cannot change: commits and tests name it. Retire it and create a new requirement instead.",
                before.key
            )));
        }
        let after = before.with(fields, ctx.now);
        save(conn, ctx, "requirement.updated", &before, after, None)
    })
}

fn check_changeable(r: &Requirement) -> Result<(), RecordError> {
    if r.status == ReqStatus::Retired {
        return Err(invalid(format!(
            "{} is retired: restore it before changing it.",
            r.key
        )));
    }
    Ok(())
}

/// Retires (kept, shown as retired, out of the matrix) or restores a requirement.
pub fn set_status(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    status: ReqStatus,
    reason: &str,
) -> Result<Requirement, RecordError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RecordError::NoReason);
    }
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        let after = Requirement {
            status,
            ..before.clone()
        };
        let action = match status {
            ReqStatus::Retired => "requirement.retired",
            ReqStatus::Active => "requirement.restored",
        };
        save(conn, ctx, action, &before, after, Some(reason))
    })
}

/// The parents a requirement derives from, with the link that says so.
pub fn parents_of(
    conn: &mut DbConnection,
    r: &Requirement,
) -> diesel::QueryResult<Vec<(Link, Requirement)>> {
    let links = link_repo::from_any(conn, "requirement", &[r.entity_id()], DERIVES_FROM)?;
    with_requirements(conn, links, |l| &l.to_id)
}

/// The requirements that derive from `r`.
pub fn children_of(
    conn: &mut DbConnection,
    r: &Requirement,
) -> diesel::QueryResult<Vec<(Link, Requirement)>> {
    let links = link_repo::to_any(
        conn,
        "requirement",
        DERIVES_FROM,
        "requirement",
        &[r.entity_id()],
    )?;
    with_requirements(conn, links, |l| &l.from_id)
}

fn req_id(entity_id: &str) -> Option<i64> {
    entity_id.strip_prefix("req-").and_then(|n| n.parse().ok())
}

fn with_requirements(
    conn: &mut DbConnection,
    links: Vec<Link>,
    other: fn(&Link) -> &String,
) -> diesel::QueryResult<Vec<(Link, Requirement)>> {
    let ids: Vec<i64> = links.iter().filter_map(|l| req_id(other(l))).collect();
    let found: HashMap<i64, Requirement> = repo::by_ids(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut out: Vec<(Link, Requirement)> = links
        .into_iter()
        .filter_map(|l| {
            let r = req_id(other(&l)).and_then(|id| found.get(&id).cloned())?;
            Some((l, r))
        })
        .collect();
    out.sort_by(|a, b| a.1.key.cmp(&b.1.key));
    Ok(out)
}

/// Adds the parent named `parent_key` (same product), refusing a cycle.
pub fn add_parent(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    parent_key: &str,
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        let child = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        check_changeable(&child)?;
        let key = crate::domain::requirement::parse_key(parent_key).map_err(invalid)?;
        let parent = resolve(conn, child.product_id, &[key])?
            .pop()
            .ok_or(RecordError::NotFound)?;
        let (c, p) = (end(&child), end(&parent));
        if link_repo::find_active(conn, (&c.0, &c.1), DERIVES_FROM, (&p.0, &p.1))?.is_some() {
            return Err(invalid(format!(
                "{} already derives from {}.",
                child.key, parent.key
            )));
        }
        // Walk up from the new parent; reaching the child would close a cycle.
        let mut failure = None;
        let cycle = closes_cycle(&child.id, &parent.id, |&rid| {
            link_repo::from_any(conn, "requirement", &[format!("req-{rid}")], DERIVES_FROM)
                .map_err(|e| failure = Some(e))
                .unwrap_or_default()
                .iter()
                .filter_map(|l| req_id(&l.to_id))
                .collect()
        });
        if let Some(e) = failure {
            return Err(e.into());
        }
        if cycle {
            return Err(invalid(format!(
                "{} cannot derive from {}: {} already derives from {} (parents may not form a cycle).",
                child.key, parent.key, parent.key, child.key
            )));
        }
        link_parent(conn, ctx, &child, &parent)?;
        Ok(child)
    })
}

/// Removes a parent link of requirement `id`.
pub fn remove_parent(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    link_id: i64,
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        let child = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        check_changeable(&child)?;
        let link = parents_of(conn, &child)?
            .into_iter()
            .map(|(l, _)| l)
            .find(|l| l.id == link_id)
            .ok_or(RecordError::NotFound)?;
        links::remove(conn, ctx, &link, entity(&child))?;
        Ok(child)
    })
}

/// Stores an uploaded import file (kept as uploaded) for its preview.
pub fn upload(
    conn: &mut DbConnection,
    ctx: &Ctx,
    product: i64,
    file_name: &str,
    content: &str,
) -> Result<i64, RecordError> {
    let by = super::actor_user(ctx).ok_or_else(|| invalid("Sign in to import."))?;
    write_tx(conn, |conn| {
        let p = active_product(conn, product)?;
        let sha = super::sha256_hex(content.as_bytes());
        let id = repo::insert_import(conn, product, file_name, &sha, content, by, ctx.now)?;
        audit::append(
            conn,
            &ctx.entry("requirement.import_uploaded")
                .entity(import_entity(id, file_name, 1))
                .after(json!({"product": p.name, "file_name": file_name, "sha256": sha, "bytes": content.len()})),
        )?;
        Ok(id)
    })
}

fn import_entity(id: i64, file_name: &str, version: i64) -> EntityRef {
    EntityRef {
        kind: "requirement_import".into(),
        id: format!("imp-{id}"),
        key: file_name.to_string(),
        version,
    }
}

/// What an import would do to one row of its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowPlan {
    New,
    /// An existing requirement whose fields or parents change; `text` when
    /// its statement gets a new version.
    Changed {
        what: Vec<&'static str>,
        text: bool,
    },
    Unchanged,
    Invalid(Vec<String>),
}

/// One planned row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRow {
    pub line: u64,
    pub key: String,
    pub title: String,
    pub plan: RowPlan,
    fields: Option<RequirementFields>,
    parents: Option<Vec<String>>,
}

/// What an import would do: a reason the whole file is refused, or a plan
/// for each row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPlan {
    pub file_error: Option<String>,
    pub rows: Vec<PlannedRow>,
}

impl ImportPlan {
    fn count(&self, f: fn(&RowPlan) -> bool) -> usize {
        self.rows.iter().filter(|r| f(&r.plan)).count()
    }
    pub fn new_rows(&self) -> usize {
        self.count(|p| matches!(p, RowPlan::New))
    }
    pub fn changed_rows(&self) -> usize {
        self.count(|p| matches!(p, RowPlan::Changed { .. }))
    }
    pub fn unchanged_rows(&self) -> usize {
        self.count(|p| matches!(p, RowPlan::Unchanged))
    }
    pub fn invalid_rows(&self) -> usize {
        self.count(|p| matches!(p, RowPlan::Invalid(_)))
    }
    /// An import applies only whole: no refused file, no row in error, and
    /// something to do.
    pub fn can_apply(&self) -> bool {
        self.file_error.is_none()
            && self.invalid_rows() == 0
            && self.new_rows() + self.changed_rows() > 0
    }
}

/// Compares an import file with the product's requirements as they are now.
pub fn plan(conn: &mut DbConnection, import: &Import) -> Result<ImportPlan, RecordError> {
    let product = products::find(conn, import.product_id)?.ok_or(RecordError::NotFound)?;
    let rows = match read_import(&import.content, product.safety_class) {
        Ok(rows) => rows,
        Err(e) => {
            return Ok(ImportPlan {
                file_error: Some(e),
                rows: Vec::new(),
            });
        }
    };
    let existing: HashMap<String, Requirement> = repo::of_product(conn, product.id)?
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let by_id: HashMap<i64, &str> = existing.values().map(|r| (r.id, r.key.as_str())).collect();
    // The parent graph as it is, by key.
    let ids: Vec<String> = existing.values().map(Requirement::entity_id).collect();
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in link_repo::from_any(conn, "requirement", &ids, DERIVES_FROM)? {
        if let (Some(c), Some(p)) = (
            req_id(&l.from_id).and_then(|i| by_id.get(&i)),
            req_id(&l.to_id).and_then(|i| by_id.get(&i)),
        ) {
            graph.entry(c.to_string()).or_default().push(p.to_string());
        }
    }
    let before = graph.clone();
    let file_keys: HashSet<String> = rows
        .iter()
        .filter_map(|r| r.fields.as_ref().ok().map(|f| f.key.clone()))
        .collect();
    let mut planned = Vec::with_capacity(rows.len());
    for mut row in rows {
        if let (Ok(f), Some(parents)) = (&row.fields, &row.parents) {
            let mut errs = Vec::new();
            for p in parents {
                if p == &f.key {
                    errs.push(format!("{p} cannot be its own parent."));
                } else if !existing.contains_key(p) && !file_keys.contains(p) {
                    errs.push(format!(
                        "The parent {p} is neither in this file nor in the product."
                    ));
                }
            }
            if errs.is_empty() {
                let mut sorted = parents.clone();
                sorted.sort();
                graph.insert(f.key.clone(), sorted);
            } else {
                push_errors(&mut row.fields, errs);
            }
        }
        if let Ok(f) = &row.fields
            && let Some(old) = existing.get(&f.key)
            && old.status == ReqStatus::Retired
            && old.fields() != *f
        {
            let e = format!("{} is retired: restore it before importing changes.", f.key);
            push_errors(&mut row.fields, vec![e]);
        }
        planned.push(row);
    }
    // A cycle anywhere in the graph the file would leave is an error of each
    // row of the file on it.
    let on_cycle = keys_on_cycles(&graph);
    let mut out = Vec::with_capacity(planned.len());
    for mut row in planned {
        if let Ok(f) = &row.fields
            && row.parents.is_some()
            && on_cycle.contains(&f.key)
        {
            let e = format!("{}'s parents would form a cycle.", f.key);
            push_errors(&mut row.fields, vec![e]);
        }
        let plan = match &row.fields {
            Err(errs) => RowPlan::Invalid(errs.clone()),
            Ok(f) => match existing.get(&f.key) {
                None => RowPlan::New,
                Some(old) => {
                    let mut what = Vec::new();
                    let text = old.title != f.title || old.body != f.body;
                    if text {
                        what.push("statement");
                    }
                    if old.kind != f.kind {
                        what.push("kind");
                    }
                    if old.safety_class != f.safety_class {
                        what.push("safety class");
                    }
                    if row.parents.is_some() {
                        let mut was = before.get(&f.key).cloned().unwrap_or_default();
                        was.sort();
                        if graph.get(&f.key).cloned().unwrap_or_default() != was {
                            what.push("parents");
                        }
                    }
                    if what.is_empty() {
                        RowPlan::Unchanged
                    } else {
                        RowPlan::Changed { what, text }
                    }
                }
            },
        };
        out.push(PlannedRow {
            line: row.line,
            title: row.title,
            key: row.key,
            plan,
            fields: row.fields.ok(),
            parents: row.parents,
        });
    }
    Ok(ImportPlan {
        file_error: None,
        rows: out,
    })
}

/// Every key that lies on a cycle of `graph` (key -> parent keys).
fn keys_on_cycles(graph: &BTreeMap<String, Vec<String>>) -> HashSet<String> {
    let mut on = HashSet::new();
    for start in graph.keys() {
        if on.contains(start) {
            continue;
        }
        let parents_of = |k: &String| graph.get(k).cloned().unwrap_or_default();
        for p in graph.get(start).into_iter().flatten() {
            if closes_cycle(start, p, parents_of) {
                on.insert(start.clone());
                break;
            }
        }
    }
    on
}

/// What an applied import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// Applies an import whole, in one transaction, after planning it again
/// against the product as it is now; refuses it when any row is in error.
pub fn apply(
    conn: &mut DbConnection,
    ctx: &Ctx,
    import_id: i64,
    version: i64,
) -> Result<Applied, RecordError> {
    write_tx(conn, |conn| {
        let import = repo::find_import(conn, import_id)?.ok_or(RecordError::NotFound)?;
        if let Some(at) = import.applied_at {
            return Err(invalid(format!(
                "This file was imported already, at {}.",
                crate::audit::format_time(at)
            )));
        }
        if import.version != version {
            return Err(RecordError::Stale);
        }
        active_product(conn, import.product_id)?;
        let plan = plan(conn, &import)?;
        if let Some(e) = plan.file_error {
            return Err(invalid(e));
        }
        if !plan.can_apply() {
            return Err(invalid(format!(
                "Nothing was imported: {} rows have errors and {} would change anything.",
                plan.invalid_rows(),
                plan.new_rows() + plan.changed_rows()
            )));
        }
        let reason = format!("imported from {} ({})", import.file_name, import.sha256);
        let mut by_key: HashMap<String, Requirement> = HashMap::new();
        for row in &plan.rows {
            let Some(f) = &row.fields else { continue };
            let r = match row.plan {
                RowPlan::New => {
                    let r =
                        repo::insert(conn, import.product_id, f, super::actor_user(ctx), ctx.now)?;
                    audit::append(
                        conn,
                        &ctx.entry("requirement.created")
                            .entity(entity(&r))
                            .after(r.audit_fields())
                            .reason(reason.clone()),
                    )?;
                    link_earlier_commits(conn, ctx, &r)?;
                    r
                }
                _ => {
                    let before =
                        repo::by_keys(conn, import.product_id, std::slice::from_ref(&f.key))?
                            .pop()
                            .ok_or(RecordError::NotFound)?;
                    let after = before.with(f, ctx.now);
                    save(
                        conn,
                        ctx,
                        "requirement.updated",
                        &before,
                        after,
                        Some(&reason),
                    )?
                }
            };
            by_key.insert(r.key.clone(), r);
        }
        // Parents once every requirement of the file exists.
        let mut missing: Vec<String> = Vec::new();
        for parents in plan.rows.iter().filter_map(|r| r.parents.as_ref()) {
            missing.extend(parents.iter().filter(|p| !by_key.contains_key(*p)).cloned());
        }
        missing.sort();
        missing.dedup();
        for r in repo::by_keys(conn, import.product_id, &missing)? {
            by_key.insert(r.key.clone(), r);
        }
        for row in &plan.rows {
            let (Some(f), Some(parents)) = (&row.fields, &row.parents) else {
                continue;
            };
            let Some(child) = by_key.get(&f.key).cloned() else {
                continue;
            };
            let current = parents_of(conn, &child)?;
            for (link, parent) in &current {
                if !parents.contains(&parent.key) {
                    links::remove(conn, ctx, link, entity(&child))?;
                }
            }
            for key in parents {
                if current.iter().any(|(_, p)| &p.key == key) {
                    continue;
                }
                let parent = by_key.get(key).ok_or(RecordError::NotFound)?;
                link_parent(conn, ctx, &child, parent)?;
            }
        }
        let applied = Applied {
            created: plan.new_rows(),
            changed: plan.changed_rows(),
            unchanged: plan.unchanged_rows(),
        };
        if !repo::mark_applied(conn, import.id, version, ctx.now)? {
            return Err(RecordError::Stale);
        }
        audit::append(
            conn,
            &ctx.entry("requirement.imported")
                .entity(import_entity(import.id, &import.file_name, version + 1))
                .after(json!({
                    "file_name": import.file_name,
                    "sha256": import.sha256,
                    "created": applied.created,
                    "changed": applied.changed,
                    "unchanged": applied.unchanged,
                })),
        )?;
        Ok(applied)
    })
}

/// Links a test case of the product (by its key) to requirement `id` by hand.
pub fn link_test(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    test_key: &str,
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        let r = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        check_changeable(&r)?;
        let key = test_key.trim();
        let test = crate::db::repo::tests::cases_by_key(conn, r.product_id, &[key.to_string()])?
            .pop()
            .ok_or_else(|| {
                invalid(format!(
                    "There is no test case {key:?} in this product (test cases arrive with CI results; give the name CI reports)."
                ))
            })?;
        let (from, to) = (test.entity_id(), r.entity_id());
        if link_repo::find_active(conn, ("test_case", &from), "verifies", ("requirement", &to))?
            .is_some()
        {
            return Err(invalid(format!("{} already verifies {}.", test.key, r.key)));
        }
        links::create(
            conn,
            ctx,
            ("test_case", &from),
            "verifies",
            ("requirement", &to),
            entity(&r),
        )?;
        Ok(r)
    })
}

/// Links a commit of one of the product's repositories (by its sha, or the
/// first 7 or more characters of it) to requirement `id` by hand.
pub fn link_commit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    sha: &str,
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        let r = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        check_changeable(&r)?;
        let sha = sha.trim().to_ascii_lowercase();
        if sha.len() < 7 || sha.len() > 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                "Give the commit's id: at least its first 7 hex digits.",
            ));
        }
        let found = crate::db::repo::git::commits_of_product_by_prefix(conn, r.product_id, &sha)?;
        let commit = match found.as_slice() {
            [c] => c.clone(),
            [] => {
                return Err(invalid(format!(
                    "No commit {sha} was pushed to a repository of this product."
                )));
            }
            _ => {
                return Err(invalid(format!(
                    "{sha} names several commits: give more of it."
                )));
            }
        };
        let (from, to) = (commit.entity_id(), r.entity_id());
        if link_repo::find_active(conn, ("commit", &from), "implements", ("requirement", &to))?
            .is_some()
        {
            return Err(invalid(format!(
                "That commit already implements {}.",
                r.key
            )));
        }
        links::create(
            conn,
            ctx,
            ("commit", &from),
            "implements",
            ("requirement", &to),
            entity(&r),
        )?;
        Ok(r)
    })
}

/// Removes a link from a test case or a commit to requirement `id`.
pub fn unlink(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    link_id: i64,
) -> Result<Requirement, RecordError> {
    write_tx(conn, |conn| {
        let r = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        check_changeable(&r)?;
        let to = r.entity_id();
        let link = link_repo::of(conn, "requirement", &to)?
            .into_iter()
            .find(|l| {
                l.id == link_id
                    && l.to_id == to
                    && matches!(l.from_type.as_str(), "test_case" | "commit")
            })
            .ok_or(RecordError::NotFound)?;
        links::remove(conn, ctx, &link, entity(&r))?;
        Ok(r)
    })
}

/// The tests that verify `r`, with their latest results, by key.
pub fn tests_of(
    conn: &mut DbConnection,
    r: &Requirement,
) -> diesel::QueryResult<
    Vec<(
        Link,
        crate::db::repo::tests::TestCase,
        Option<crate::domain::trace::Outcome>,
    )>,
> {
    let links = link_repo::to_any(
        conn,
        "test_case",
        "verifies",
        "requirement",
        &[r.entity_id()],
    )?;
    let ids: Vec<i64> = links
        .iter()
        .filter_map(|l| l.from_id.strip_prefix("test-")?.parse().ok())
        .collect();
    let cases: HashMap<i64, crate::db::repo::tests::TestCase> =
        crate::db::repo::tests::cases_by_id(conn, &ids)?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let latest: HashMap<i64, crate::domain::trace::Outcome> =
        crate::db::repo::tests::latest_results(conn, &ids)?
            .into_iter()
            .map(|l| (l.test_case_id, l.outcome))
            .collect();
    let mut out: Vec<_> = links
        .into_iter()
        .filter_map(|l| {
            let id: i64 = l.from_id.strip_prefix("test-")?.parse().ok()?;
            let c = cases.get(&id)?.clone();
            let outcome = latest.get(&id).copied();
            Some((l, c, outcome))
        })
        .collect();
    out.sort_by(|a, b| a.1.key.cmp(&b.1.key));
    Ok(out)
}

crate::versioned!(Requirement => entity);
