//! Controlled documents and their versions. Rows are never deleted; saves
//! check the version read (`WHERE version = old`). A version's state is
//! written only by `save_step`, which only the transition service calls.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{
    document_rounds as r, document_versions as v, document_words as w, documents as d,
};
use crate::db::strict::Cols;
use crate::db::{DbConnection, naive, utc};
use crate::domain::document::{DocType, DocVersion, Document, VersionFile, VersionState};

#[derive(Queryable, Selectable)]
#[diesel(table_name = d)]
struct DocRow {
    id: i64,
    title: String,
    doc_type: String,
    owner_id: i64,
    product_id: Option<i64>,
    review_months: i64,
    next_review_on: Option<String>,
    created_by: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn document(row: DocRow) -> QueryResult<Document> {
    let c = Cols::new("documents", row.id);
    Ok(Document {
        id: row.id,
        title: row.title,
        doc_type: c.one_of("doc_type", &row.doc_type, DocType::parse)?,
        owner_id: row.owner_id,
        product_id: row.product_id,
        review_months: u32::try_from(row.review_months)
            .map_err(|_| c.bad("review_months", &row.review_months.to_string(), "0 to 120"))?,
        next_review_on: c.opt_date("next_review_on", row.next_review_on.as_deref())?,
        created_by: row.created_by,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = v)]
struct VersionRow {
    id: i64,
    document_id: i64,
    number: i64,
    title: String,
    body: String,
    change_reason: String,
    change_summary: String,
    author_id: i64,
    reviewers: String,
    reviewed: String,
    round: i64,
    approver_id: Option<i64>,
    effective_on: Option<String>,
    training_required: bool,
    comment: String,
    reason: String,
    effective_from: Option<String>,
    reviewed_on: Option<String>,
    state: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn version(row: VersionRow, doc: &Document, files: Vec<VersionFile>) -> QueryResult<DocVersion> {
    let c = Cols::new("document_versions", row.id);
    Ok(DocVersion {
        id: row.id,
        document_id: row.document_id,
        number: row.number,
        doc_type: doc.doc_type,
        doc_owner: doc.owner_id,
        review_months: doc.review_months,
        product_id: doc.product_id,
        title: row.title,
        body: row.body,
        change_reason: row.change_reason,
        change_summary: row.change_summary,
        author_id: row.author_id,
        reviewers: c.json("reviewers", &row.reviewers)?,
        reviewed: c.json("reviewed", &row.reviewed)?,
        round: row.round,
        approver_id: row.approver_id,
        effective_on: c.opt_date("effective_on", row.effective_on.as_deref())?,
        training_required: row.training_required,
        comment: row.comment,
        reason: row.reason,
        effective_from: c.opt_date("effective_from", row.effective_from.as_deref())?,
        reviewed_on: c.opt_date("reviewed_on", row.reviewed_on.as_deref())?,
        files,
        state: c.one_of("state", &row.state, VersionState::parse)?,
        today: None,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    })
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// Stores a new document and returns it with its number.
pub fn insert_document(conn: &mut DbConnection, doc: &Document) -> QueryResult<Document> {
    diesel::insert_into(d::table)
        .values((
            d::title.eq(&doc.title),
            d::doc_type.eq(doc.doc_type.as_str()),
            d::owner_id.eq(doc.owner_id),
            d::product_id.eq(doc.product_id),
            d::review_months.eq(i64::from(doc.review_months)),
            d::next_review_on.eq(date_text(doc.next_review_on)),
            d::created_by.eq(doc.created_by),
            d::created_at.eq(naive(doc.created_at)),
            d::updated_at.eq(naive(doc.updated_at)),
            d::version.eq(1),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    find_document(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_document(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Document>> {
    d::table
        .find(id)
        .select(DocRow::as_select())
        .first::<DocRow>(conn)
        .optional()?
        .map(document)
        .transpose()
}

/// Writes `doc` as version `doc.version` if the stored one is `doc.version - 1`.
pub fn save_document(conn: &mut DbConnection, doc: &Document) -> QueryResult<bool> {
    let n = diesel::update(d::table.filter(d::id.eq(doc.id).and(d::version.eq(doc.version - 1))))
        .set((
            d::title.eq(&doc.title),
            d::owner_id.eq(doc.owner_id),
            d::product_id.eq(doc.product_id),
            d::review_months.eq(i64::from(doc.review_months)),
            d::next_review_on.eq(date_text(doc.next_review_on)),
            d::updated_at.eq(naive(doc.updated_at)),
            d::version.eq(doc.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The files attached to version `id` and not removed, in the order added.
fn files_of(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<VersionFile>> {
    Ok(
        super::attachments::of_record(conn, "document_version", &format!("docv-{id}"))?
            .into_iter()
            .filter(|a| a.removed.is_none())
            .map(|a| VersionFile {
                name: a.name,
                sha256: a.sha256,
                size: a.size,
            })
            .collect(),
    )
}

/// Stores a new version and returns it with its row number.
pub fn insert_version(conn: &mut DbConnection, x: &DocVersion) -> QueryResult<DocVersion> {
    diesel::insert_into(v::table)
        .values((
            v::document_id.eq(x.document_id),
            v::number.eq(x.number),
            v::title.eq(&x.title),
            v::body.eq(&x.body),
            v::change_reason.eq(&x.change_reason),
            v::change_summary.eq(&x.change_summary),
            v::author_id.eq(x.author_id),
            v::reviewers.eq(ids_json(&x.reviewers)),
            v::reviewed.eq(ids_json(&x.reviewed)),
            v::round.eq(x.round),
            v::approver_id.eq(x.approver_id),
            v::effective_on.eq(date_text(x.effective_on)),
            v::training_required.eq(x.training_required),
            v::comment.eq(&x.comment),
            v::reason.eq(&x.reason),
            v::state.eq(x.state.as_str()),
            v::created_at.eq(naive(x.created_at)),
            v::updated_at.eq(naive(x.updated_at)),
            v::version.eq(1),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    find_version(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

/// Version row `id` with its document's facts and its files.
pub fn find_version(conn: &mut DbConnection, id: i64) -> QueryResult<Option<DocVersion>> {
    let Some(row) = v::table
        .find(id)
        .select(VersionRow::as_select())
        .first::<VersionRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let doc = find_document(conn, row.document_id)?.ok_or(diesel::result::Error::NotFound)?;
    let files = files_of(conn, row.id)?;
    version(row, &doc, files).map(Some)
}

/// The row number of version `number` of document `doc`.
pub fn version_id(conn: &mut DbConnection, doc: i64, number: i64) -> QueryResult<Option<i64>> {
    v::table
        .filter(v::document_id.eq(doc).and(v::number.eq(number)))
        .select(v::id)
        .first(conn)
        .optional()
}

/// Every version of `doc`, newest first, with files (a document has few).
pub fn versions_of(conn: &mut DbConnection, doc: &Document) -> QueryResult<Vec<DocVersion>> {
    let rows: Vec<VersionRow> = v::table
        .filter(v::document_id.eq(doc.id))
        .order(v::number.desc())
        .limit(1000)
        .select(VersionRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let files = files_of(conn, row.id)?;
            version(row, doc, files)
        })
        .collect()
}

/// The row number of `doc`'s version in `state` (effective, or the open one).
pub fn version_in(
    conn: &mut DbConnection,
    doc: i64,
    states: &[VersionState],
) -> QueryResult<Option<i64>> {
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    v::table
        .filter(v::document_id.eq(doc).and(v::state.eq_any(names)))
        .order(v::number.desc())
        .select(v::id)
        .first(conn)
        .optional()
}

/// The highest version number of `doc` (0 when it has none).
pub fn last_number(conn: &mut DbConnection, doc: i64) -> QueryResult<i64> {
    v::table
        .filter(v::document_id.eq(doc))
        .select(diesel::dsl::max(v::number))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}

/// Writes a version's fields (never its state) as version `x.version`.
pub fn save_version(conn: &mut DbConnection, x: &DocVersion) -> QueryResult<bool> {
    let n = diesel::update(v::table.filter(v::id.eq(x.id).and(v::version.eq(x.version - 1))))
        .set((
            v::title.eq(&x.title),
            v::body.eq(&x.body),
            v::change_reason.eq(&x.change_reason),
            v::change_summary.eq(&x.change_summary),
            v::reviewers.eq(ids_json(&x.reviewers)),
            v::reviewed.eq(ids_json(&x.reviewed)),
            v::round.eq(x.round),
            v::approver_id.eq(x.approver_id),
            v::effective_on.eq(date_text(x.effective_on)),
            v::training_required.eq(x.training_required),
            v::comment.eq(&x.comment),
            v::reason.eq(&x.reason),
            v::effective_from.eq(date_text(x.effective_from)),
            v::reviewed_on.eq(date_text(x.reviewed_on)),
            v::updated_at.eq(naive(x.updated_at)),
            v::version.eq(x.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Saves a workflow step: the fields and the new state. Only the
/// transition service calls it (`service::workflow::Stored::save`).
pub(crate) fn save_step(conn: &mut DbConnection, x: &DocVersion) -> QueryResult<bool> {
    if !save_version(conn, x)? {
        return Ok(false);
    }
    let n = diesel::update(v::table.filter(v::id.eq(x.id).and(v::version.eq(x.version))))
        .set(v::state.eq(x.state.as_str()))
        .execute(conn)?;
    Ok(n == 1)
}

/// Adds `words` to document `doc`'s search words (those it has already
/// are left as they are). The caller's transaction holds the document
/// (its version was just saved), so no other adds its words meanwhile.
pub fn add_words(
    conn: &mut DbConnection,
    doc: i64,
    words: &std::collections::BTreeSet<String>,
) -> QueryResult<()> {
    let all: Vec<&str> = words.iter().map(String::as_str).collect();
    for chunk in all.chunks(400) {
        let known: std::collections::HashSet<String> = w::table
            .filter(w::document_id.eq(doc).and(w::word.eq_any(chunk)))
            .select(w::word)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for word in chunk.iter().filter(|x| !known.contains(**x)) {
            diesel::insert_into(w::table)
                .values((w::word.eq(*word), w::document_id.eq(doc)))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Keeps the content a review round was sent with.
pub fn insert_round(
    conn: &mut DbConnection,
    version_id: i64,
    round: i64,
    (content, sha256): (&str, &str),
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    diesel::insert_into(r::table)
        .values((
            r::version_id.eq(version_id),
            r::round.eq(round),
            r::content.eq(content),
            r::content_sha256.eq(sha256),
            r::created_at.eq(naive(at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The content of each review round of version `id`, as sent.
pub fn rounds(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<(i64, String)>> {
    r::table
        .filter(r::version_id.eq(id))
        .order(r::round.asc())
        .select((r::round, r::content))
        .load(conn)
}

/// Approved versions whose effective date has come by `today`, oldest first.
pub fn due_to_take_effect(
    conn: &mut DbConnection,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    v::table
        .filter(v::state.eq(VersionState::Approved.as_str()))
        .filter(
            v::effective_on
                .is_null()
                .or(v::effective_on.le(today.to_string())),
        )
        .order(v::id.asc())
        .limit(limit)
        .select(v::id)
        .load(conn)
}

/// A version in review as "What needs me" reads it: who reviews and
/// approves it, not its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InReview {
    pub document_id: i64,
    pub number: i64,
    pub title: String,
    pub reviewers: Vec<i64>,
    pub reviewed: Vec<i64>,
    pub approver_id: Option<i64>,
}

impl InReview {
    /// `DOC-4 v3`.
    pub fn key(&self) -> String {
        format!("DOC-{} v{}", self.document_id, self.number)
    }

    /// How many reviewers have not signed in this round.
    pub fn reviews_missing(&self) -> usize {
        self.reviewers
            .iter()
            .filter(|r| !self.reviewed.contains(r))
            .count()
    }
}

/// Versions in review, oldest first, without their bodies (the dashboard
/// reads them on every view).
pub fn in_review(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<InReview>> {
    type Row = (i64, i64, i64, String, String, String, Option<i64>);
    let rows: Vec<Row> = v::table
        .filter(v::state.eq(VersionState::InReview.as_str()))
        .order(v::id.asc())
        .limit(limit)
        .select((
            v::id,
            v::document_id,
            v::number,
            v::title,
            v::reviewers,
            v::reviewed,
            v::approver_id,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, document_id, number, title, reviewers, reviewed, approver_id)| {
                let c = Cols::new("document_versions", id);
                Ok(InReview {
                    document_id,
                    number,
                    title,
                    reviewers: c.json("reviewers", &reviewers)?,
                    reviewed: c.json("reviewed", &reviewed)?,
                    approver_id,
                })
            },
        )
        .collect()
}

/// The number and state of each version of document `doc`, newest first.
pub fn states_of(conn: &mut DbConnection, doc: i64) -> QueryResult<Vec<(i64, VersionState)>> {
    let rows: Vec<(i64, i64, String)> = v::table
        .filter(v::document_id.eq(doc))
        .order(v::number.desc())
        .limit(1000)
        .select((v::id, v::number, v::state))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, number, state)| {
            let c = Cols::new("document_versions", id);
            Ok((number, c.one_of("state", &state, VersionState::parse)?))
        })
        .collect()
}

/// Drafts by `author` returned with a request for changes.
pub fn returned_to(
    conn: &mut DbConnection,
    author: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, i64, String)>> {
    v::table
        .filter(v::state.eq(VersionState::Draft.as_str()))
        .filter(v::author_id.eq(author))
        .filter(v::comment.ne(""))
        .order(v::id.asc())
        .limit(limit)
        .select((v::document_id, v::number, v::title))
        .load(conn)
}

/// Documents `owner` owns whose periodic review is due by `today`.
pub fn reviews_due(
    conn: &mut DbConnection,
    owner: Option<i64>,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<Document>> {
    let mut q = d::table
        .filter(d::next_review_on.le(today.to_string()))
        .into_boxed();
    if let Some(o) = owner {
        q = q.filter(d::owner_id.eq(o));
    }
    q.order((d::next_review_on.asc(), d::id.asc()))
        .limit(limit)
        .select(DocRow::as_select())
        .load::<DocRow>(conn)?
        .into_iter()
        .map(document)
        .collect()
}

/// The master list's filters; empty ones do not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub doc_type: Option<DocType>,
    /// Documents with a version in this state.
    pub state: Option<VersionState>,
    pub owner_id: Option<i64>,
    pub product_id: Option<i64>,
    /// Periodic review due by this day.
    pub review_due_by: Option<NaiveDate>,
    /// In the title, or in the body of a version.
    pub text: Option<String>,
}

/// How the master list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Number,
    Title,
    RecentlyChanged,
    ReviewDue,
}

/// One row of the master list: the document, its effective version (number,
/// since when) and its open one (number, state).
#[derive(Clone, Debug)]
pub struct ListRow {
    pub doc: Document,
    pub effective: Option<(i64, Option<NaiveDate>)>,
    pub open: Option<(i64, VersionState)>,
    /// The newest version's number and state (what a retired document shows).
    pub latest: Option<(i64, VersionState)>,
}

/// A page of the master list and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    sort: Sort,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<ListRow>, i64)> {
    use diesel::dsl::exists;
    let build = || {
        let mut q = d::table.into_boxed();
        if let Some(t) = f.doc_type {
            q = q.filter(d::doc_type.eq(t.as_str()));
        }
        if let Some(o) = f.owner_id {
            q = q.filter(d::owner_id.eq(o));
        }
        if let Some(p) = f.product_id {
            q = q.filter(d::product_id.eq(p));
        }
        if let Some(day) = f.review_due_by {
            q = q.filter(d::next_review_on.le(day.to_string()));
        }
        if let Some(s) = f.state {
            q = q.filter(exists(
                v::table
                    .filter(v::document_id.eq(d::id))
                    .filter(v::state.eq(s.as_str())),
            ));
        }
        if let Some(text) = f.text.as_deref().filter(|x| !x.is_empty()) {
            // Every word typed begins a word of the title or of a version's
            // body (found through the words' primary key, byte by byte);
            // text without such words is looked for in the titles.
            let typed = crate::domain::document::words(text);
            if typed.is_empty() {
                let pattern = format!("%{}%", super::escape_like(text));
                q = q.filter(d::title.like(pattern).escape('\\'));
            }
            for word in typed {
                let above = format!("{word}\u{10FFFF}");
                q = q.filter(
                    d::id.eq_any(
                        w::table
                            .filter(w::word.ge(word).and(w::word.lt(above)))
                            .select(w::document_id),
                    ),
                );
            }
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let q = build();
    let q = match sort {
        Sort::Number => q.order(d::id.asc()),
        Sort::Title => q.order((d::title.asc(), d::id.asc())),
        Sort::RecentlyChanged => q.order((d::updated_at.desc(), d::id.desc())),
        Sort::ReviewDue => q.order((
            d::next_review_on.is_null(),
            d::next_review_on.asc(),
            d::id.asc(),
        )),
    };
    let docs: Vec<Document> = q
        .offset(offset)
        .limit(limit)
        .select(DocRow::as_select())
        .load::<DocRow>(conn)?
        .into_iter()
        .map(document)
        .collect::<QueryResult<_>>()?;
    // The page's versions in one query: number, state, effective since.
    let ids: Vec<i64> = docs.iter().map(|x| x.id).collect();
    let versions: Vec<(i64, i64, String, Option<String>)> = v::table
        .filter(v::document_id.eq_any(&ids))
        .select((v::document_id, v::number, v::state, v::effective_from))
        .load(conn)?;
    let mut rows = Vec::with_capacity(docs.len());
    for doc in docs {
        let mut row = ListRow {
            effective: None,
            open: None,
            latest: None,
            doc,
        };
        for (doc_id, number, state, from) in versions.iter().filter(|x| x.0 == row.doc.id) {
            let c = Cols::new("document_versions", format!("{doc_id} v{number}"));
            let state = c.one_of("state", state, VersionState::parse)?;
            if state == VersionState::Effective {
                row.effective = Some((*number, c.opt_date("effective_from", from.as_deref())?));
            }
            if state.open() {
                row.open = Some((*number, state));
            }
            if row.latest.is_none_or(|(n, _)| *number > n) {
                row.latest = Some((*number, state));
            }
        }
        rows.push(row);
    }
    Ok((rows, total))
}

/// An export of the master list, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::document_exports)]
pub struct ExportRow {
    pub id: i64,
    pub format: String,
    pub file_name: String,
    pub filters: String,
    pub rows: i64,
    pub sha256: String,
    pub bytes: i64,
    pub manifest: String,
    pub audit_seq: i64,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    /// What it lists: `documents` (the master list) or `training` (the matrix).
    pub subject: String,
}

/// A new kept export (the master list, the training matrix).
pub struct NewExport<'a> {
    pub subject: &'a str,
    pub format: &'a str,
    pub file_name: &'a str,
    pub filters: &'a str,
    pub rows: i64,
    pub sha256: &'a str,
    pub content: &'a [u8],
    pub manifest: &'a str,
    pub audit_seq: i64,
    pub created_by: Option<i64>,
}

/// Keeps an export; its number.
pub fn insert_export(
    conn: &mut DbConnection,
    x: &NewExport<'_>,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    use crate::db::schema::document_exports as e;
    diesel::insert_into(e::table)
        .values((
            e::subject.eq(x.subject),
            e::format.eq(x.format),
            e::file_name.eq(x.file_name),
            e::filters.eq(x.filters),
            e::rows.eq(x.rows),
            e::sha256.eq(x.sha256),
            e::bytes.eq(i64::try_from(x.content.len()).unwrap_or(i64::MAX)),
            e::content.eq(x.content),
            e::manifest.eq(x.manifest),
            e::audit_seq.eq(x.audit_seq),
            e::created_by.eq(x.created_by),
            e::created_at.eq(naive(at)),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

pub fn find_export(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ExportRow>> {
    use crate::db::schema::document_exports as e;
    e::table
        .find(id)
        .select(ExportRow::as_select())
        .first(conn)
        .optional()
}

/// The kept bytes of export `id`.
pub fn export_content(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Vec<u8>>> {
    use crate::db::schema::document_exports as e;
    e::table.find(id).select(e::content).first(conn).optional()
}

/// Kept exports of `subject`, newest first, and how many there are.
pub fn exports(
    conn: &mut DbConnection,
    subject: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<ExportRow>, i64)> {
    use crate::db::schema::document_exports as e;
    let total = e::table
        .filter(e::subject.eq(subject))
        .count()
        .get_result(conn)?;
    let rows = e::table
        .filter(e::subject.eq(subject))
        .order(e::id.desc())
        .offset(offset)
        .limit(limit)
        .select(ExportRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}
