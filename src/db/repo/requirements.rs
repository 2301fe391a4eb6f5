//! Requirements, every version of their statements, and uploaded import files.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{requirement_imports as im, requirement_texts as tx, requirements as t};
use crate::db::{DbConnection, naive, utc};
use crate::domain::product::SafetyClass;
use crate::domain::requirement::{ReqKind, ReqStatus, Requirement, RequirementFields};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    id: i64,
    product_id: i64,
    key: String,
    title: String,
    body: String,
    kind: String,
    safety_class: String,
    status: String,
    text_version: i64,
    text_changed_at: NaiveDateTime,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn record(r: Row) -> QueryResult<Requirement> {
    let c = crate::db::strict::Cols::new("requirements", r.id);
    Ok(Requirement {
        id: r.id,
        product_id: r.product_id,
        key: r.key,
        title: r.title,
        body: r.body,
        kind: c.one_of("kind", &r.kind, ReqKind::parse)?,
        safety_class: c.one_of("safety_class", &r.safety_class, SafetyClass::parse)?,
        status: c.one_of("status", &r.status, ReqStatus::parse)?,
        text_version: r.text_version,
        text_changed_at: utc(r.text_changed_at),
        created_by: r.created_by,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Requirement>> {
    t::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
        .and_then(|r| r.map(record).transpose())
}

/// The requirements of a product with these (stored, upper-case) keys.
pub fn by_keys(
    conn: &mut DbConnection,
    product: i64,
    keys: &[String],
) -> QueryResult<Vec<Requirement>> {
    super::chunked(keys, |chunk| {
        t::table
            .filter(t::product_id.eq(product).and(t::key.eq_any(chunk)))
            .select(Row::as_select())
            .load(conn)
            .and_then(|rows| rows.into_iter().map(record).collect())
    })
}

/// Requirements of any product with the (stored, upper-case) key `key`, at
/// most `limit` (a key names one when a single product has it).
pub fn with_key(conn: &mut DbConnection, key: &str, limit: i64) -> QueryResult<Vec<Requirement>> {
    t::table
        .filter(t::key.eq(key))
        .order(t::id.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
        .and_then(|rows| rows.into_iter().map(record).collect())
}

pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<Requirement>> {
    super::chunked(ids, |chunk| {
        t::table
            .filter(t::id.eq_any(chunk))
            .select(Row::as_select())
            .load(conn)
            .and_then(|rows| rows.into_iter().map(record).collect())
    })
}

/// Every requirement of a product, in key order (imports compare a whole
/// file with them).
pub fn of_product(conn: &mut DbConnection, product: i64) -> QueryResult<Vec<Requirement>> {
    t::table
        .filter(t::product_id.eq(product))
        .order(t::key.asc())
        .select(Row::as_select())
        .load(conn)
        .and_then(|rows| rows.into_iter().map(record).collect())
}

/// Stores a new requirement (version 1 of its statement, and that version's text).
pub fn insert(
    conn: &mut DbConnection,
    product: i64,
    f: &RequirementFields,
    by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Requirement> {
    diesel::insert_into(t::table)
        .values((
            t::product_id.eq(product),
            t::key.eq(&f.key),
            t::title.eq(&f.title),
            t::body.eq(&f.body),
            t::kind.eq(f.kind.as_str()),
            t::safety_class.eq(f.safety_class.as_str()),
            t::status.eq(ReqStatus::Active.as_str()),
            t::text_version.eq(1),
            t::text_changed_at.eq(naive(now)),
            t::created_by.eq(by),
            t::created_at.eq(naive(now)),
            t::updated_at.eq(naive(now)),
            t::version.eq(1),
        ))
        .execute(conn)?;
    let r = t::table
        .filter(t::product_id.eq(product).and(t::key.eq(&f.key)))
        .select(Row::as_select())
        .first(conn)
        .and_then(record)?;
    insert_text(conn, &r, by)?;
    Ok(r)
}

/// Writes `r` if the stored row is one version behind it.
pub fn save(conn: &mut DbConnection, r: &Requirement) -> QueryResult<bool> {
    let n = diesel::update(t::table.filter(t::id.eq(r.id).and(t::version.eq(r.version - 1))))
        .set((
            t::key.eq(&r.key),
            t::title.eq(&r.title),
            t::body.eq(&r.body),
            t::kind.eq(r.kind.as_str()),
            t::safety_class.eq(r.safety_class.as_str()),
            t::status.eq(r.status.as_str()),
            t::text_version.eq(r.text_version),
            t::text_changed_at.eq(naive(r.text_changed_at)),
            t::updated_at.eq(naive(r.updated_at)),
            t::version.eq(r.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Keeps the statement of `r` as its version `r.text_version`.
pub fn insert_text(conn: &mut DbConnection, r: &Requirement, by: Option<i64>) -> QueryResult<()> {
    diesel::insert_into(tx::table)
        .values((
            tx::requirement_id.eq(r.id),
            tx::text_version.eq(r.text_version),
            tx::title.eq(&r.title),
            tx::body.eq(&r.body),
            tx::changed_by.eq(by),
            tx::changed_at.eq(naive(r.text_changed_at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One version of a requirement's statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextVersion {
    pub text_version: i64,
    pub title: String,
    pub body: String,
    pub changed_by: Option<i64>,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

/// Every version of a requirement's statement, newest first.
pub fn texts_of(conn: &mut DbConnection, requirement: i64) -> QueryResult<Vec<TextVersion>> {
    tx::table
        .filter(tx::requirement_id.eq(requirement))
        .order(tx::text_version.desc())
        .select((
            tx::text_version,
            tx::title,
            tx::body,
            tx::changed_by,
            tx::changed_at,
        ))
        .load::<(i64, String, String, Option<i64>, NaiveDateTime)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|r| TextVersion {
                    text_version: r.0,
                    title: r.1,
                    body: r.2,
                    changed_by: r.3,
                    changed_at: utc(r.4),
                })
                .collect()
        })
}

/// Filters of the requirement list; every one optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub product_id: Option<i64>,
    pub kind: Option<ReqKind>,
    pub status: Option<ReqStatus>,
    pub safety_class: Option<SafetyClass>,
    /// In the key, title or text.
    pub text: Option<String>,
}

/// One page of requirements in product and key order, and how many match.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Requirement>, i64)> {
    let build = || {
        let mut q = t::table.into_boxed();
        if let Some(p) = f.product_id {
            q = q.filter(t::product_id.eq(p));
        }
        if let Some(k) = f.kind {
            q = q.filter(t::kind.eq(k.as_str()));
        }
        if let Some(s) = f.status {
            q = q.filter(t::status.eq(s.as_str()));
        }
        if let Some(c) = f.safety_class {
            q = q.filter(t::safety_class.eq(c.as_str()));
        }
        if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!("%{}%", super::escape_like(&text.to_lowercase()));
            q = q.filter(
                super::lower(t::key)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(super::lower(t::title).like(pattern.clone()).escape('\\'))
                    .or(super::lower(t::body).like(pattern).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order((t::product_id.asc(), t::key.asc()))
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?;
    Ok((
        rows.into_iter().map(record).collect::<QueryResult<_>>()?,
        total,
    ))
}

/// An uploaded import file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub id: i64,
    pub product_id: i64,
    pub file_name: String,
    pub sha256: String,
    pub content: String,
    pub uploaded_by: i64,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = im)]
struct ImportRow {
    id: i64,
    product_id: i64,
    file_name: String,
    sha256: String,
    content: String,
    uploaded_by: i64,
    uploaded_at: NaiveDateTime,
    applied_at: Option<NaiveDateTime>,
    version: i64,
}

pub fn insert_import(
    conn: &mut DbConnection,
    product: i64,
    file_name: &str,
    sha256: &str,
    content: &str,
    by: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(im::table)
        .values((
            im::product_id.eq(product),
            im::file_name.eq(file_name),
            im::sha256.eq(sha256),
            im::content.eq(content),
            im::uploaded_by.eq(by),
            im::uploaded_at.eq(naive(now)),
            im::version.eq(1),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

pub fn find_import(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Import>> {
    im::table
        .find(id)
        .select(ImportRow::as_select())
        .first(conn)
        .optional()
        .map(|r| {
            r.map(|r| Import {
                id: r.id,
                product_id: r.product_id,
                file_name: r.file_name,
                sha256: r.sha256,
                content: r.content,
                uploaded_by: r.uploaded_by,
                uploaded_at: utc(r.uploaded_at),
                applied_at: r.applied_at.map(utc),
                version: r.version,
            })
        })
}

/// Marks an import applied, if it was not yet; false otherwise.
pub fn mark_applied(
    conn: &mut DbConnection,
    id: i64,
    version: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        im::table.filter(
            im::id
                .eq(id)
                .and(im::version.eq(version))
                .and(im::applied_at.is_null()),
        ),
    )
    .set((im::applied_at.eq(naive(now)), im::version.eq(version + 1)))
    .execute(conn)?;
    Ok(n == 1)
}
