//! Repositories, the commits pushed to them, the references parsed from
//! their messages, and webhook deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    commit_refs as cr, commits as c, repositories as t, webhook_deliveries as wd,
};
use crate::db::{DbConnection, naive, utc};
use crate::domain::trace::{Provider, Repository};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    id: i64,
    provider: String,
    name: String,
    product_id: i64,
    secret_sealed: Vec<u8>,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn record(r: Row) -> QueryResult<Repository> {
    let c = crate::db::strict::Cols::new("repositories", r.id);
    Ok(Repository {
        id: r.id,
        provider: c.one_of("provider", &r.provider, Provider::parse)?,
        name: r.name,
        product_id: r.product_id,
        secret_sealed: r.secret_sealed,
        active: r.active,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Repository>> {
    t::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
        .and_then(|r| r.map(record).transpose())
}

pub fn find_by_name(
    conn: &mut DbConnection,
    provider: Provider,
    name: &str,
) -> QueryResult<Option<Repository>> {
    t::table
        .filter(t::provider.eq(provider.as_str()).and(t::name.eq(name)))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .and_then(|r| r.map(record).transpose())
}

/// Every repository, by provider and name (an installation has a few dozen).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<Repository>> {
    t::table
        .order((t::provider.asc(), t::name.asc()))
        .limit(1_000)
        .select(Row::as_select())
        .load(conn)
        .and_then(|rows| rows.into_iter().map(record).collect())
}

/// The active repositories of a provider (a webhook names none by number).
pub fn active_of(conn: &mut DbConnection, provider: Provider) -> QueryResult<Vec<Repository>> {
    t::table
        .filter(t::provider.eq(provider.as_str()).and(t::active.eq(true)))
        .order(t::id.asc())
        .limit(1_000)
        .select(Row::as_select())
        .load(conn)
        .and_then(|rows| rows.into_iter().map(record).collect())
}

pub fn insert(
    conn: &mut DbConnection,
    provider: Provider,
    name: &str,
    product: i64,
    sealed: &[u8],
    by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Repository> {
    diesel::insert_into(t::table)
        .values((
            t::provider.eq(provider.as_str()),
            t::name.eq(name),
            t::product_id.eq(product),
            t::secret_sealed.eq(sealed),
            t::active.eq(true),
            t::created_by.eq(by),
            t::created_at.eq(naive(now)),
            t::updated_at.eq(naive(now)),
            t::version.eq(1),
        ))
        .execute(conn)?;
    find_by_name(conn, provider, name)?.ok_or(diesel::result::Error::NotFound)
}

/// Writes `r` if the stored row is one version behind it.
pub fn save(conn: &mut DbConnection, r: &Repository) -> QueryResult<bool> {
    let n = diesel::update(t::table.filter(t::id.eq(r.id).and(t::version.eq(r.version - 1))))
        .set((
            t::product_id.eq(r.product_id),
            t::secret_sealed.eq(&r.secret_sealed),
            t::active.eq(r.active),
            t::updated_at.eq(naive(r.updated_at)),
            t::version.eq(r.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a delivery; false when this repository has seen its id before.
pub fn insert_delivery(
    conn: &mut DbConnection,
    repository: i64,
    delivery: &str,
    event: &str,
    commits: i64,
    outcome: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let seen: i64 = wd::table
        .filter(
            wd::repository_id
                .eq(repository)
                .and(wd::delivery_id.eq(delivery)),
        )
        .count()
        .get_result(conn)?;
    if seen > 0 {
        return Ok(false);
    }
    diesel::insert_into(wd::table)
        .values((
            wd::repository_id.eq(repository),
            wd::delivery_id.eq(delivery),
            wd::event.eq(event),
            wd::received_at.eq(naive(now)),
            wd::commits.eq(commits),
            wd::outcome.eq(outcome),
        ))
        .execute(conn)?;
    Ok(true)
}

/// A stored commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    pub id: i64,
    pub repository_id: i64,
    pub sha: String,
    pub author_name: String,
    pub author_email: String,
    pub committed_at: chrono::DateTime<chrono::Utc>,
    pub message: String,
    pub url: String,
}

impl Commit {
    pub fn entity_id(&self) -> String {
        format!("commit-{}", self.id)
    }

    /// The message's first line.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = c)]
struct CommitRow {
    id: i64,
    repository_id: i64,
    sha: String,
    author_name: String,
    author_email: String,
    committed_at: NaiveDateTime,
    message: String,
    url: String,
}

fn commit(r: CommitRow) -> Commit {
    Commit {
        id: r.id,
        repository_id: r.repository_id,
        sha: r.sha,
        author_name: r.author_name,
        author_email: r.author_email,
        committed_at: utc(r.committed_at),
        message: r.message,
        url: r.url,
    }
}

/// The commits of a repository among `shas`.
pub fn commits_by_sha(
    conn: &mut DbConnection,
    repository: i64,
    shas: &[String],
) -> QueryResult<Vec<Commit>> {
    super::chunked(shas, |chunk| {
        c::table
            .filter(c::repository_id.eq(repository).and(c::sha.eq_any(chunk)))
            .select(CommitRow::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(commit).collect())
    })
}

pub fn commits_by_id(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<Commit>> {
    super::chunked(ids, |chunk| {
        c::table
            .filter(c::id.eq_any(chunk))
            .select(CommitRow::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(commit).collect())
    })
}

/// A commit to store.
pub struct NewCommit<'a> {
    pub sha: &'a str,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub committed_at: chrono::DateTime<chrono::Utc>,
    pub message: &'a str,
    pub url: &'a str,
}

pub fn insert_commit(
    conn: &mut DbConnection,
    repository: i64,
    n: &NewCommit,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    diesel::insert_into(c::table)
        .values((
            c::repository_id.eq(repository),
            c::sha.eq(n.sha),
            c::author_name.eq(n.author_name),
            c::author_email.eq(n.author_email),
            c::committed_at.eq(naive(n.committed_at)),
            c::message.eq(n.message),
            c::url.eq(n.url),
            c::received_at.eq(naive(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One reference parsed from a commit message and what it resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRef {
    pub id: i64,
    pub commit_id: i64,
    pub relation: String,
    pub key: String,
    pub target: Option<(String, String)>,
}

pub fn insert_ref(
    conn: &mut DbConnection,
    commit: i64,
    relation: &str,
    key: &str,
    target: Option<(&str, &str)>,
) -> QueryResult<()> {
    diesel::insert_into(cr::table)
        .values((
            cr::commit_id.eq(commit),
            cr::relation.eq(relation),
            cr::key.eq(key),
            cr::target_type.eq(target.map(|t| t.0)),
            cr::target_id.eq(target.map(|t| t.1)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The references that named `key` and resolved to nothing, in commits of
/// the repositories of `product` (they resolve once the record exists).
pub fn dangling(conn: &mut DbConnection, product: i64, key: &str) -> QueryResult<Vec<CommitRef>> {
    cr::table
        .inner_join(c::table.on(c::id.eq(cr::commit_id)))
        .inner_join(t::table.on(t::id.eq(c::repository_id)))
        .filter(cr::key.eq(key).and(cr::target_id.is_null()))
        .filter(t::product_id.eq(product))
        .select((cr::id, cr::commit_id, cr::relation, cr::key))
        .load::<(i64, i64, String, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|r| CommitRef {
                    id: r.0,
                    commit_id: r.1,
                    relation: r.2,
                    key: r.3,
                    target: None,
                })
                .collect()
        })
}

/// Records what a dangling reference now resolves to.
pub fn resolve_ref(conn: &mut DbConnection, id: i64, target: (&str, &str)) -> QueryResult<()> {
    diesel::update(cr::table.filter(cr::id.eq(id).and(cr::target_id.is_null())))
        .set((cr::target_type.eq(target.0), cr::target_id.eq(target.1)))
        .execute(conn)
        .map(|_| ())
}

/// A recorded delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub delivery_id: String,
    pub event: String,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub commits: i64,
    pub outcome: String,
}

/// The newest deliveries to a repository.
pub fn recent_deliveries(
    conn: &mut DbConnection,
    repository: i64,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    wd::table
        .filter(wd::repository_id.eq(repository))
        .order(wd::id.desc())
        .limit(limit)
        .select((
            wd::delivery_id,
            wd::event,
            wd::received_at,
            wd::commits,
            wd::outcome,
        ))
        .load::<(String, String, NaiveDateTime, i64, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|r| Delivery {
                    delivery_id: r.0,
                    event: r.1,
                    received_at: utc(r.2),
                    commits: r.3,
                    outcome: r.4,
                })
                .collect()
        })
}

/// The sha and time of each of `ids` (what the matrix needs of a commit).
pub fn commit_times(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<Vec<(i64, String, chrono::DateTime<chrono::Utc>)>> {
    super::chunked(ids, |chunk| {
        c::table
            .filter(c::id.eq_any(chunk))
            .select((c::id, c::sha, c::committed_at))
            .load::<(i64, String, NaiveDateTime)>(conn)
            .map(|rows| rows.into_iter().map(|r| (r.0, r.1, utc(r.2))).collect())
    })
}

/// A reference that names nothing, as the gap report lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dangling {
    pub key: String,
    pub relation: String,
    pub sha: String,
    pub repository: String,
    pub committed_at: chrono::DateTime<chrono::Utc>,
}

/// The dangling references in commits of `product`'s repositories, newest first.
pub fn dangling_of_product(
    conn: &mut DbConnection,
    product: i64,
    limit: i64,
) -> QueryResult<Vec<Dangling>> {
    cr::table
        .inner_join(c::table.on(c::id.eq(cr::commit_id)))
        .inner_join(t::table.on(t::id.eq(c::repository_id)))
        .filter(cr::target_id.is_null())
        .filter(t::product_id.eq(product))
        .order(c::committed_at.desc())
        .limit(limit)
        .select((cr::key, cr::relation, c::sha, t::name, c::committed_at))
        .load::<(String, String, String, String, NaiveDateTime)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|r| Dangling {
                    key: r.0,
                    relation: r.1,
                    sha: r.2,
                    repository: r.3,
                    committed_at: utc(r.4),
                })
                .collect()
        })
}

/// The commits of `product`'s repositories whose sha starts with `prefix` (at most 2).
pub fn commits_of_product_by_prefix(
    conn: &mut DbConnection,
    product: i64,
    prefix: &str,
) -> QueryResult<Vec<Commit>> {
    c::table
        .inner_join(t::table.on(t::id.eq(c::repository_id)))
        .filter(t::product_id.eq(product))
        .filter(
            c::sha
                .like(format!("{}%", super::escape_like(prefix)))
                .escape('\\'),
        )
        .limit(2)
        .select(CommitRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(commit).collect())
}
