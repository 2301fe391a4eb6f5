//! Controlled documents: creating one with its first draft, editing a draft,
//! starting the next version, correcting the document's facts; every state
//! change of a version goes through `service::workflow::transition`. A
//! version approved for today becomes effective in the same transaction,
//! and the version effective before it is superseded there too; the
//! scheduler makes future-dated versions effective on their day.

use serde_json::Value;

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::{documents as repo, products, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::document::{
    DocFields, DocInput, DocVersion, DocWorkflow, Document, DraftFields, VersionState, next_review,
};
use crate::domain::ids::UserId;
use crate::domain::user::{Account, Role, Roles};
use crate::domain::workflow::Who;

pub fn document_entity(d: &Document) -> EntityRef {
    EntityRef {
        kind: "document".into(),
        id: format!("doc-{}", d.id),
        key: d.key(),
        version: d.version,
    }
}

crate::versioned!(Document => document_entity);
crate::versioned!(DocVersion => <DocWorkflow as Stored>::entity);

impl Stored for DocWorkflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<DocVersion>> {
        repo::find_version(conn, id)
    }
    fn save(conn: &mut DbConnection, record: &DocVersion) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &DocVersion) -> i64 {
        record.version
    }
    fn bump(record: &mut DocVersion, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
    }
    fn entity(record: &DocVersion) -> EntityRef {
        EntityRef {
            kind: "document_version".into(),
            id: format!("docv-{}", record.id),
            key: record.key(),
            version: record.version,
        }
    }
    fn audit_fields(record: &DocVersion) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &DocVersion) -> Value {
        record.signed_content()
    }
    fn before_save(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        v: &DocVersion,
    ) -> Result<(), RecordError> {
        if action == "make_effective" {
            supersede_effective(conn, ctx, v)?;
        }
        Ok(())
    }
    fn after_step(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        _from: VersionState,
        v: &DocVersion,
    ) -> Result<(), RecordError> {
        match action {
            "submit_review" => keep_round(conn, ctx, v),
            "approve" => {
                // Effective at once when its day has come (WORKFLOWS.md).
                let today = ctx.now.date_naive();
                if v.effective_on.is_none_or(|d| d <= today) {
                    step_as_attest(conn, ctx, v, "make_effective", &[Role::Quality])?;
                }
                Ok(())
            }
            "make_effective" => {
                took_effect(conn, ctx, v)?;
                // Training on it is assigned (or carried forward) at once.
                super::training::reconcile_document(
                    conn,
                    ctx,
                    v.document_id,
                    "no longer in the curriculum",
                )
            }
            "periodic_review" => review_clock(conn, ctx, v, v.reviewed_on),
            "retire" => {
                review_clock(conn, ctx, v, None)?;
                super::training::reconcile_document(conn, ctx, v.document_id, "document retired")
            }
            _ => Ok(()),
        }
    }
}

/// Takes `action` on `v` as Attest itself (no person), with `roles`' authority.
fn step_as_attest(
    conn: &mut DbConnection,
    ctx: &Ctx,
    v: &DocVersion,
    action: &str,
    roles: &[Role],
) -> Result<DocVersion, RecordError> {
    super::workflow::step_as_attest::<DocWorkflow>(
        conn,
        ctx,
        (v.id, v.version),
        action,
        &DocInput::default(),
        roles,
    )
}

/// Keeps the content the round was sent out with: the reviewers' signatures
/// of this round bind it, and verify against it after a request for changes.
fn keep_round(conn: &mut DbConnection, ctx: &Ctx, v: &DocVersion) -> Result<(), RecordError> {
    let content = DocWorkflow::signed_content(v);
    let bytes = crate::audit::canonical::to_vec(&content)
        .map_err(|e| RecordError::invalid(format!("the version cannot be sent: {e}")))?;
    let canonical = String::from_utf8_lossy(&bytes);
    let sha = super::workflow::content_hash::<DocWorkflow>(v)?;
    repo::insert_round(conn, v.id, v.round, (&canonical, &sha), ctx.now)?;
    Ok(())
}

/// The version in force before `v` stops being so, before `v` is saved
/// as effective (the database holds at most one effective version).
fn supersede_effective(
    conn: &mut DbConnection,
    ctx: &Ctx,
    v: &DocVersion,
) -> Result<(), RecordError> {
    let effective = [VersionState::Effective];
    if let Some(before) = repo::version_in(conn, v.document_id, &effective)?
        .filter(|id| *id != v.id)
        .map(|id| repo::find_version(conn, id))
        .transpose()?
        .flatten()
    {
        step_as_attest(conn, ctx, &before, "supersede", &[])?;
    }
    Ok(())
}

/// The document names `v`'s title and its next periodic review; the
/// document's row moves on one version, so two versions made effective at
/// once cannot both be.
fn took_effect(conn: &mut DbConnection, ctx: &Ctx, v: &DocVersion) -> Result<(), RecordError> {
    let effective = [VersionState::Effective];
    let from = v.effective_from.unwrap_or_else(|| ctx.now.date_naive());
    update_document(conn, ctx, v.document_id, |d| {
        d.title = v.title.clone();
        d.next_review_on = next_review(from, d.review_months);
    })?;
    // The unique index holds one effective version per document; this reads
    // it back so a breach is an error, never a second effective version.
    if repo::version_in(conn, v.document_id, &effective)? != Some(v.id) {
        return Err(RecordError::Stale);
    }
    Ok(())
}

/// Moves the document's periodic-review clock: on from `reviewed`, or
/// stopped (a retired document).
fn review_clock(
    conn: &mut DbConnection,
    ctx: &Ctx,
    v: &DocVersion,
    reviewed: Option<chrono::NaiveDate>,
) -> Result<(), RecordError> {
    update_document(conn, ctx, v.document_id, |d| {
        d.next_review_on = reviewed.and_then(|r| next_review(r, d.review_months));
    })
    .map(|_| ())
}

/// Changes document `id` with `change`, as its next version, audited.
fn update_document(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    change: impl FnOnce(&mut Document),
) -> Result<Document, RecordError> {
    let before = repo::find_document(conn, id)?.ok_or(RecordError::NotFound)?;
    let mut after = before.clone();
    change(&mut after);
    super::edit::edit(
        conn,
        ctx,
        "document.updated",
        &before,
        after,
        None,
        |c, d| Ok(repo::save_document(c, d)?),
    )
}

/// An owner of a document: an active user.
fn check_person(
    conn: &mut DbConnection,
    id: i64,
    field: &'static str,
    what: &str,
) -> Result<Account, RecordError> {
    match users::find(conn, UserId(id))? {
        Some(a) if a.active => Ok(a),
        _ => Err(RecordError::field(
            field,
            format!("{what} must be an active user: choose one from the list."),
        )),
    }
}

fn check_product(conn: &mut DbConnection, id: Option<i64>) -> Result<(), RecordError> {
    if let Some(id) = id {
        match products::find(conn, id)? {
            Some(p) if p.active => {}
            _ => {
                return Err(RecordError::field(
                    "product_id",
                    "Choose an active product from the list.",
                ));
            }
        }
    }
    Ok(())
}

/// Who may write documents: quality and engineering.
pub const AUTHORS: &[Role] = &[Role::Quality, Role::Engineer];

/// A new document with its first draft, v1, by `author`.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    author: i64,
    fields: DocFields,
) -> Result<(Document, DocVersion), RecordError> {
    write_tx(conn, |conn| {
        check_person(conn, fields.owner_id, "owner", "The owner")?;
        check_product(conn, fields.product_id)?;
        let doc = repo::insert_document(
            conn,
            &Document {
                id: 0,
                title: fields.title.clone(),
                doc_type: fields.doc_type,
                owner_id: fields.owner_id,
                product_id: fields.product_id,
                review_months: fields.review_months,
                next_review_on: None,
                created_by: author,
                created_at: ctx.now,
                updated_at: ctx.now,
                version: 1,
            },
        )?;
        audit::append(
            conn,
            &ctx.entry("document.created")
                .entity(document_entity(&doc))
                .after(doc.audit_fields()),
        )?;
        repo::add_words(conn, doc.id, &crate::domain::document::words(&doc.title))?;
        let v1 = new_version(conn, ctx, &doc, author, None)?;
        Ok((doc, v1))
    })
}

fn new_version(
    conn: &mut DbConnection,
    ctx: &Ctx,
    doc: &Document,
    author: i64,
    from: Option<&DocVersion>,
) -> Result<DocVersion, RecordError> {
    let number = repo::last_number(conn, doc.id)? + 1;
    let v = repo::insert_version(conn, &DocVersion::draft(doc, number, author, from, ctx.now))?;
    let mut after = v.audit_fields();
    if let (Value::Object(m), Some(f)) = (&mut after, from) {
        m.insert("revised_from".into(), Value::from(format!("v{}", f.number)));
    }
    audit::append(
        conn,
        &ctx.entry("document_version.created")
            .entity(DocWorkflow::entity(&v))
            .after(after),
    )?;
    Ok(v)
}

/// Starts the next version of document `id` from its effective version
/// (or its newest), by `author`: refused while a version is open, and for
/// a retired document.
pub fn revise(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    author: &Account,
) -> Result<DocVersion, RecordError> {
    if !author.roles.has_any(AUTHORS) {
        return Err(RecordError::Refused(
            crate::domain::workflow::Refused::Role {
                action: "Starting a new version",
                roles: AUTHORS,
                owner: false,
                named: None,
            },
        ));
    }
    write_tx(conn, |conn| {
        let doc = repo::find_document(conn, id)?.ok_or(RecordError::NotFound)?;
        let open = [
            VersionState::Draft,
            VersionState::InReview,
            VersionState::Approved,
        ];
        if let Some(open) = repo::version_in(conn, id, &open)? {
            let v = repo::find_version(conn, open)?.ok_or(RecordError::NotFound)?;
            return Err(RecordError::Conflict(format!(
                "{} is {} already: finish or withdraw it before starting another version",
                v.key(),
                v.state.label().to_lowercase()
            )));
        }
        let from = match repo::version_in(conn, id, &[VersionState::Effective])? {
            Some(e) => repo::find_version(conn, e)?,
            None => {
                let versions = repo::versions_of(conn, &doc)?;
                if versions
                    .first()
                    .is_some_and(|v| v.state == VersionState::Obsolete)
                {
                    return Err(RecordError::Conflict(format!(
                        "{} is retired: a retired document takes no new version",
                        doc.key()
                    )));
                }
                versions.into_iter().next()
            }
        };
        new_version(conn, ctx, &doc, author.id.0, from.as_ref())
    })
}

/// Saves what the author typed into draft `id` (seen at `version`): by its
/// author or quality, only while it is a draft; reviewers and the approver
/// must be active users, the approver with the quality role.
pub fn edit_draft(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version): (i64, i64),
    fields: DraftFields,
    who: &Account,
) -> Result<DocVersion, RecordError> {
    write_tx(conn, |conn| {
        let before = repo::find_version(conn, id)?.ok_or(RecordError::NotFound)?;
        if before.version != version {
            return Err(RecordError::Stale);
        }
        if before.state != VersionState::Draft {
            return Err(RecordError::Conflict(format!(
                "{} is {}: from review on its content is fixed; start a new version to change it",
                before.key(),
                before.state.label().to_lowercase()
            )));
        }
        if before.author_id != who.id.0 && !who.roles.contains(Role::Quality) {
            return Err(RecordError::Refused(
                crate::domain::workflow::Refused::Role {
                    action: "Editing a draft",
                    roles: &[Role::Quality],
                    owner: true,
                    named: Some("its author"),
                },
            ));
        }
        let mut problems = Vec::new();
        for r in &fields.reviewers {
            if let Err(RecordError::Invalid(e)) =
                check_person(conn, *r, "reviewers", "Every reviewer")
            {
                problems.extend(e);
                break;
            }
        }
        if let Some(a) = fields.approver_id {
            match check_person(conn, a, "approver", "The approver") {
                Ok(acc) if !acc.roles.contains(Role::Quality) => {
                    problems.push(crate::domain::user::FieldError::new(
                        "approver",
                        format!(
                            "The approver must hold the quality role; {} does not.",
                            acc.full_name
                        ),
                    ))
                }
                Ok(_) => {}
                Err(RecordError::Invalid(e)) => problems.extend(e),
                Err(e) => return Err(e),
            }
        }
        if !problems.is_empty() {
            return Err(RecordError::Invalid(problems));
        }
        let mut after = before.clone();
        fields.apply(&mut after);
        let saved = super::edit::edit(
            conn,
            ctx,
            "document_version.edited",
            &before,
            after,
            None,
            |c, v| Ok(repo::save_version(c, v)?),
        )?;
        let mut words = crate::domain::document::words(&saved.title);
        words.extend(crate::domain::document::words(&saved.body));
        repo::add_words(conn, saved.document_id, &words)?;
        // The document is listed under its newest version's title.
        if saved.title != before.title {
            update_document(conn, ctx, saved.document_id, |d| {
                d.title = saved.title.clone()
            })?;
        }
        Ok(saved)
    })
}

/// Corrects document `id`'s owner, product and review interval (seen at
/// `version`), with a reason; quality only. A new interval moves the next
/// periodic review of the effective version.
pub fn correct(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version): (i64, i64),
    fields: DocFields,
    reason: &str,
) -> Result<Document, RecordError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RecordError::field(
            "reason",
            "Say why the document's facts change: a correction needs a reason.",
        ));
    }
    write_tx(conn, |conn| {
        let before = repo::find_document(conn, id)?.ok_or(RecordError::NotFound)?;
        if before.version != version {
            return Err(RecordError::Stale);
        }
        check_person(conn, fields.owner_id, "owner", "The owner")?;
        if fields.product_id != before.product_id {
            check_product(conn, fields.product_id)?;
        }
        let effective = match repo::version_in(conn, id, &[VersionState::Effective])? {
            Some(e) => repo::find_version(conn, e)?,
            None => None,
        };
        let mut after = before.clone();
        after.owner_id = fields.owner_id;
        after.product_id = fields.product_id;
        after.review_months = fields.review_months;
        if let Some(e) = effective {
            let from = e.reviewed_on.or(e.effective_from);
            after.next_review_on = from.and_then(|f| next_review(f, fields.review_months));
        }
        super::edit::edit(
            conn,
            ctx,
            "document.updated",
            &before,
            after,
            Some(reason),
            |c, d| Ok(repo::save_document(c, d)?),
        )
    })
}

/// Makes every approved version whose effective date has come effective,
/// as Attest itself at `ctx.now`; the number made effective.
pub fn make_due_effective(conn: &mut DbConnection, ctx: &Ctx) -> Result<usize, RecordError> {
    let due = repo::due_to_take_effect(conn, ctx.now.date_naive(), 500)?;
    let mut done = 0;
    for id in due {
        let roles = Roles::new([Role::Quality]);
        let who = Who {
            user: None,
            roles: &roles,
        };
        let Some(v) = repo::find_version(conn, id)? else {
            continue;
        };
        match super::workflow::transition::<DocWorkflow>(
            conn,
            ctx,
            who,
            id,
            v.version,
            "make_effective",
            &DocInput::default(),
            None,
        ) {
            Ok(_) => done += 1,
            // Taken meanwhile by a person or another instance.
            Err(RecordError::Stale | RecordError::Refused(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The scheduler's job that makes versions effective on their day.
pub fn effective_dates_job(log: String, every: std::time::Duration) -> crate::jobs::Job {
    super::system_job(
        "document_effective_dates",
        log,
        every,
        make_due_effective,
        "document versions made effective",
    )
}

pub use super::exports::ListFormat;

const LIST_COLUMNS: [&str; 11] = [
    "number",
    "title",
    "type",
    "effective_version",
    "effective_from",
    "open_version",
    "open_state",
    "owner",
    "product_id",
    "review_months",
    "next_review_on",
];

/// The filtered master list as a file (read a page at a time), audited
/// with its filters, row count and SHA-256, kept byte for byte with its
/// manifest signed by the log key, in one transaction; the export's number.
pub fn export_list(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &crate::audit::key::LogKey,
    (filter, order): (&repo::Filter, repo::Sort),
    described: &[String],
    format: ListFormat,
) -> Result<i64, RecordError> {
    write_tx(conn, |conn| {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut offset = 0;
        loop {
            let (page, _) = repo::list(conn, filter, order, offset, 1000)?;
            if page.is_empty() {
                break;
            }
            offset += page.len() as i64;
            let ids: Vec<i64> = page.iter().map(|r| r.doc.owner_id).collect();
            let names = users::names(conn, &ids)?;
            for r in page {
                rows.push(vec![
                    r.doc.key(),
                    r.doc.title.clone(),
                    r.doc.doc_type.label().into(),
                    r.effective
                        .map(|(n, _)| format!("v{n}"))
                        .unwrap_or_default(),
                    r.effective
                        .and_then(|(_, d)| d)
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    r.open.map(|(n, _)| format!("v{n}")).unwrap_or_default(),
                    r.open
                        .map(|(_, s)| s.label().to_string())
                        .unwrap_or_default(),
                    names.get(&r.doc.owner_id).cloned().unwrap_or_default(),
                    r.doc.product_id.map(|p| p.to_string()).unwrap_or_default(),
                    r.doc.review_months.to_string(),
                    r.doc
                        .next_review_on
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ]);
            }
        }
        super::exports::keep_list(
            conn,
            ctx,
            key,
            &super::exports::KeptList {
                subject: "documents",
                stem: "documents",
                what: "documents (master list)",
                action: "document.exported",
                sheet: "Documents",
                columns: &LIST_COLUMNS,
                number_columns: &[9],
                rows: &rows,
                described,
            },
            format,
        )
    })
}

/// Something a document waits on a person for ("What needs me").
pub struct Need {
    /// The version's page, or the document's.
    pub href: String,
    pub title: String,
    pub detail: String,
}

/// What documents wait on `me` for, as of `today`: reviews to sign,
/// approvals to give, drafts returned with a request for changes, periodic
/// reviews of documents they own due within 30 days.
pub fn needs_of(
    conn: &mut DbConnection,
    me: i64,
    today: chrono::NaiveDate,
) -> diesel::QueryResult<Vec<Need>> {
    let mut out = Vec::new();
    for v in repo::in_review(conn, 500)? {
        let page = format!("/documents/{}/v/{}#next", v.document_id, v.number);
        if v.reviewers.contains(&me) && !v.reviewed.contains(&me) {
            out.push(Need {
                href: page,
                title: format!("{} {}", v.key(), v.title),
                detail: "In review: read it (the redline shows what changed) and sign Reviewed, or request changes".into(),
            });
        } else if v.approver_id == Some(me) {
            let waiting = v.reviews_missing();
            out.push(Need {
                href: page,
                title: format!("{} {}", v.key(), v.title),
                detail: if waiting == 0 {
                    "Every reviewer signed: approve it (Approved) or request changes".into()
                } else {
                    format!("Yours to approve once {waiting} more reviewer(s) sign")
                },
            });
        }
    }
    for (doc, number, title) in repo::returned_to(conn, me, 50)? {
        out.push(Need {
            href: format!("/documents/{doc}/v/{number}#content"),
            title: format!("DOC-{doc} v{number} {title}"),
            detail: "Returned to you with a request for changes: edit the draft and send it for review again".into(),
        });
    }
    let soon = today + chrono::Days::new(30);
    for d in repo::reviews_due(conn, Some(me), soon, 50)? {
        let when = d.next_review_on.map(|n| n.to_string()).unwrap_or_default();
        let overdue = if d.review_due(today) {
            " — overdue"
        } else {
            ""
        };
        out.push(Need {
            href: format!("/documents/{}#next", d.id),
            title: format!("{} {} (you own it)", d.key(), d.title),
            detail: format!("Periodic review due {when}{overdue}: sign Reviewed: still valid, or start a new version"),
        });
    }
    Ok(out)
}

/// A record a document is linked to, as its page lists it.
pub struct Linked {
    pub link_id: i64,
    /// `CAPA-3`, `NC-2`, `SRS-012 (PUMP)`.
    pub label: String,
    pub href: Option<String>,
    /// How they relate, in words ("its impact names this document").
    pub relation: &'static str,
    /// The other record's title and state, when known.
    pub about: String,
}

/// How a link between a document and another record reads on its page.
fn relation_words(relation: &str) -> &'static str {
    match relation {
        "impact" => "the CAPA's impact names this document to revise",
        "concerns" => "the nonconformance concerns this document",
        "covers" => "this document covers the requirement",
        _ => "linked",
    }
}

/// Links document `doc_id` to the CAPA, nonconformance or requirement
/// named by `key` (`CAPA-3`, `NC-2`, `SRS-012`), audited on the document;
/// by quality or engineering. A key that names nothing, or names a
/// requirement of more than one product, is refused on the form.
pub fn link(
    conn: &mut DbConnection,
    ctx: &Ctx,
    doc_id: i64,
    key: &str,
    who: &Account,
) -> Result<String, RecordError> {
    use crate::domain::record::{self, CAPA, NONCONFORMANCE};
    if !who.roles.has_any(AUTHORS) {
        return Err(RecordError::Refused(
            crate::domain::workflow::Refused::Role {
                action: "Linking documents",
                roles: AUTHORS,
                owner: false,
                named: None,
            },
        ));
    }
    let key = key.trim().to_uppercase();
    if key.is_empty() {
        return Err(RecordError::field(
            "key",
            "Type the key of a CAPA (CAPA-3), a nonconformance (NC-2) or a requirement (SRS-012).",
        ));
    }
    write_tx(conn, |conn| {
        let doc = repo::find_document(conn, doc_id)?.ok_or(RecordError::NotFound)?;
        let doc_end = ("document".to_string(), format!("doc-{doc_id}"));
        let (from, relation, to, label) = match record::by_key(&key) {
            Some((k, n)) if *k == CAPA || *k == NONCONFORMANCE => {
                if crate::db::repo::existing(conn, k, &[n])?.is_empty() {
                    return Err(RecordError::field("key", format!("There is no {key}.")));
                }
                let relation = if *k == CAPA { "impact" } else { "concerns" };
                (
                    (k.kind.to_string(), k.id(n)),
                    relation,
                    doc_end.clone(),
                    key.clone(),
                )
            }
            _ => {
                let found = crate::db::repo::requirements::with_key(conn, &key, 2)?;
                match found.as_slice() {
                    [r] => (
                        doc_end.clone(),
                        "covers",
                        ("requirement".to_string(), format!("req-{}", r.id)),
                        r.key.clone(),
                    ),
                    [] => {
                        return Err(RecordError::field(
                            "key",
                            format!(
                                "Nothing has the key {key}: type a CAPA (CAPA-3), a nonconformance (NC-2) or a requirement key."
                            ),
                        ));
                    }
                    _ => {
                        return Err(RecordError::field(
                            "key",
                            format!(
                                "More than one product has a requirement {key}: link it from the requirement's page."
                            ),
                        ));
                    }
                }
            }
        };
        let (from, to) = (
            (from.0.as_str(), from.1.as_str()),
            (to.0.as_str(), to.1.as_str()),
        );
        if crate::db::repo::links::find_active(conn, from, relation, to)?.is_some() {
            return Err(RecordError::field(
                "key",
                format!("{} is linked to {label} already.", doc.key()),
            ));
        }
        super::links::create(conn, ctx, from, relation, to, document_entity(&doc))?;
        Ok(label)
    })
}

/// Removes link `link_id` from document `doc_id` (the link stays in the
/// History, marked removed); by quality or engineering.
pub fn unlink(
    conn: &mut DbConnection,
    ctx: &Ctx,
    doc_id: i64,
    link_id: i64,
    who: &Account,
) -> Result<(), RecordError> {
    if !who.roles.has_any(AUTHORS) {
        return Err(RecordError::Refused(
            crate::domain::workflow::Refused::Role {
                action: "Unlinking documents",
                roles: AUTHORS,
                owner: false,
                named: None,
            },
        ));
    }
    write_tx(conn, |conn| {
        let doc = repo::find_document(conn, doc_id)?.ok_or(RecordError::NotFound)?;
        let me = format!("doc-{doc_id}");
        let link = crate::db::repo::links::of(conn, "document", &me)?
            .into_iter()
            .find(|l| l.id == link_id)
            .ok_or(RecordError::NotFound)?;
        super::links::remove(conn, ctx, &link, document_entity(&doc))?;
        Ok(())
    })
}

/// The records document `doc_id` is linked to (not commits), with their
/// titles and states.
pub fn linked_records(conn: &mut DbConnection, doc_id: i64) -> diesel::QueryResult<Vec<Linked>> {
    use crate::domain::record;
    let me = format!("doc-{doc_id}");
    let mut out = Vec::new();
    for l in crate::db::repo::links::of(conn, "document", &me)? {
        let (kind, id) = if l.from_type == "document" && l.from_id == me {
            (l.to_type.clone(), l.to_id.clone())
        } else {
            (l.from_type.clone(), l.from_id.clone())
        };
        let Some(k) = record::kind(&kind).filter(|k| k.kind != "commit") else {
            continue;
        };
        let n = k.number(&id).unwrap_or_default();
        let (label, about) = match k.kind {
            "capa" => match crate::db::repo::capas::find(conn, n)? {
                Some(c) => (c.key(), format!("{}: {}", c.title, c.state.label())),
                None => (k.label(&id), String::new()),
            },
            "nonconformance" => match crate::db::repo::nonconformances::find(conn, n)? {
                Some(x) => (x.key(), format!("{}: {}", x.title, x.state.label())),
                None => (k.label(&id), String::new()),
            },
            "requirement" => match crate::db::repo::requirements::find(conn, n)? {
                Some(r) => (r.key.clone(), format!("{}: {}", r.title, r.status.label())),
                None => (k.label(&id), String::new()),
            },
            _ => (k.label(&id), String::new()),
        };
        out.push(Linked {
            link_id: l.id,
            label,
            href: k.page_of(n),
            relation: relation_words(&l.relation),
            about,
        });
    }
    Ok(out)
}

/// Where a document stands, in a few words ("v3 effective; v4 in review"),
/// for pages that link to it.
pub fn standing(conn: &mut DbConnection, doc_id: i64) -> diesel::QueryResult<String> {
    let Some(doc) = repo::find_document(conn, doc_id)? else {
        return Ok(String::new());
    };
    let versions = repo::states_of(conn, doc_id)?;
    let words = |(n, s): &(i64, VersionState)| format!("v{n} {}", s.label().to_lowercase());
    let mut parts: Vec<String> = Vec::new();
    parts.extend(
        versions
            .iter()
            .find(|(_, s)| *s == VersionState::Effective)
            .map(words),
    );
    parts.extend(versions.iter().find(|(_, s)| s.open()).map(words));
    if parts.is_empty() {
        parts.extend(versions.first().map(words));
    }
    Ok(format!("{}: {}", doc.title, parts.join("; ")))
}

/// Records that version `version_id` carries out action item `item_id` of
/// a CAPA linked to its document, audited on the CAPA; by quality or the
/// CAPA's owner or the item's owner, while the item is not done.
pub fn carries_out(
    conn: &mut DbConnection,
    ctx: &Ctx,
    version_id: i64,
    item_id: i64,
    who: &Account,
) -> Result<(), RecordError> {
    write_tx(conn, |conn| {
        let v = repo::find_version(conn, version_id)?.ok_or(RecordError::NotFound)?;
        let capa_id = crate::db::repo::capas::find_item(conn, item_id)?
            .map(|i| i.capa_id)
            .ok_or_else(|| RecordError::field("item", "Choose an action item from the list."))?;
        let capa = crate::db::repo::capas::find(conn, capa_id)?.ok_or(RecordError::NotFound)?;
        let item = capa
            .items
            .iter()
            .find(|i| i.id == item_id)
            .ok_or(RecordError::NotFound)?;
        let me = Some(who.id.0);
        if !(who.roles.contains(Role::Quality) || capa.owner_id == me || Some(item.owner_id) == me)
        {
            return Err(RecordError::Refused(
                crate::domain::workflow::Refused::Role {
                    action: "Naming the revision that carries out an action item",
                    roles: &[Role::Quality],
                    owner: true,
                    named: Some("the CAPA's or the item's owner"),
                },
            ));
        }
        if item.done_on.is_some() || capa.state.terminal() {
            return Err(RecordError::Conflict(format!(
                "That action item of {} is done: it keeps the record it was done with",
                capa.key()
            )));
        }
        let from = ("capa_item", format!("capa-item-{item_id}"));
        let to = ("document_version", format!("docv-{}", v.id));
        if crate::db::repo::links::find_active(
            conn,
            (from.0, &from.1),
            "carried_out_by",
            (to.0, &to.1),
        )?
        .is_some()
        {
            return Err(RecordError::field(
                "item",
                format!("{} is named for that item already.", v.key()),
            ));
        }
        super::links::create(
            conn,
            ctx,
            (from.0, &from.1),
            "carried_out_by",
            (to.0, &to.1),
            super::capas::entity(&capa),
        )?;
        Ok(())
    })
}

/// A version named for an action item: `DOC-4 v2`, its page, its state.
pub type Revision = (String, String, &'static str);

/// The document versions named as carrying out each of `items` (item id →
/// revisions), for a CAPA's page.
pub fn revisions_of_items(
    conn: &mut DbConnection,
    items: &[i64],
) -> diesel::QueryResult<std::collections::HashMap<i64, Vec<Revision>>> {
    let mut out: std::collections::HashMap<i64, Vec<Revision>> = std::collections::HashMap::new();
    for item in items {
        for l in crate::db::repo::links::of(conn, "capa_item", &format!("capa-item-{item}"))? {
            if l.relation != "carried_out_by" {
                continue;
            }
            let Some(id) = l.to_id.strip_prefix("docv-").and_then(|n| n.parse().ok()) else {
                continue;
            };
            if let Some(v) = repo::find_version(conn, id)? {
                out.entry(*item).or_default().push((
                    v.key(),
                    format!("/documents/{}/v/{}", v.document_id, v.number),
                    v.state.label(),
                ));
            }
        }
    }
    Ok(out)
}

/// The open action items of the CAPAs linked to document `doc_id` (item
/// id, `CAPA-3 item 2: text`), for the version page's picker.
pub fn open_items_of_linked_capas(
    conn: &mut DbConnection,
    doc_id: i64,
) -> diesel::QueryResult<Vec<(i64, String)>> {
    let me = format!("doc-{doc_id}");
    let mut out = Vec::new();
    for l in crate::db::repo::links::of(conn, "document", &me)? {
        if l.from_type != "capa" || l.relation != "impact" {
            continue;
        }
        let Some(n) = l.from_id.strip_prefix("capa-").and_then(|n| n.parse().ok()) else {
            continue;
        };
        if let Some(c) = crate::db::repo::capas::find(conn, n)?
            && !c.state.terminal()
        {
            for (i, item) in c.items.iter().enumerate() {
                if item.done_on.is_none() {
                    let text: String = item.text.chars().take(80).collect();
                    out.push((item.id, format!("{} item {}: {text}", c.key(), i + 1)));
                }
            }
        }
    }
    Ok(out)
}
