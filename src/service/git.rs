//! Git repositories (registered by administrators, each with its own
//! webhook secret) and what their pushes bring: commits, the references in
//! their messages, and the links those make to requirements, CAPAs and
//! nonconformances. A push is ingested in one transaction with one audit
//! entry; a delivery seen before changes nothing.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use zeroize::Zeroizing;

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::repo::git::{self as repo, NewCommit};
use crate::db::repo::links as link_repo;
use crate::db::repo::{products, requirements};
use crate::db::{DbConnection, write_tx};
use crate::domain::requirement::Requirement;
use crate::domain::trace::{Provider, Relation, Repository, parse_message};
use crate::ingest::push::Push;
use crate::ingest::secret;

pub fn entity(r: &Repository) -> EntityRef {
    EntityRef {
        kind: "repository".into(),
        id: r.entity_id(),
        key: r.binding(),
        version: r.version,
    }
}

fn active_product(conn: &mut DbConnection, id: i64) -> Result<(), RecordError> {
    match products::find(conn, id)? {
        Some(p) if p.active => Ok(()),
        _ => Err(RecordError::field(
            "product",
            "Choose an active product from the list.",
        )),
    }
}

/// Registers a repository; returns it and its new secret (shown once).
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &[u8; 32],
    provider: Provider,
    name: &str,
    product: i64,
) -> Result<(Repository, Zeroizing<String>), RecordError> {
    let secret = secret::generate().map_err(RecordError::fault)?;
    let binding = format!("{}:{name}", provider.as_str());
    let sealed = secret::seal(key, &binding, &secret).map_err(RecordError::Fault)?;
    write_tx(conn, |conn| {
        active_product(conn, product)?;
        if repo::find_by_name(conn, provider, name)?.is_some() {
            return Err(RecordError::taken(
                "name",
                format!("{binding} is registered already; repositories are never registered twice"),
            ));
        }
        let r = repo::insert(
            conn,
            provider,
            name,
            product,
            &sealed,
            super::actor_user(ctx),
            ctx.now,
        )?;
        audit::append(
            conn,
            &ctx.entry("repository.created")
                .entity(entity(&r))
                .after(r.audit_fields()),
        )?;
        Ok((r, secret.clone()))
    })
}

fn load(conn: &mut DbConnection, id: i64, version: i64) -> Result<Repository, RecordError> {
    let r = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
    if r.version != version {
        return Err(RecordError::Stale);
    }
    Ok(r)
}

fn save(
    conn: &mut DbConnection,
    ctx: &Ctx,
    action: &str,
    before: &Repository,
    after: Repository,
    reason: Option<&str>,
) -> Result<Repository, RecordError> {
    // Always saved: a new secret is a change the entry records without it.
    super::edit::save_version(conn, ctx, action, before, after, reason, |conn, r| {
        Ok(repo::save(conn, r)?)
    })
}

/// Replaces a repository's secret; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &[u8; 32],
    id: i64,
    version: i64,
) -> Result<(Repository, Zeroizing<String>), RecordError> {
    let secret = secret::generate().map_err(RecordError::fault)?;
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        let sealed = secret::seal(key, &before.binding(), &secret).map_err(RecordError::Fault)?;
        let after = Repository {
            secret_sealed: sealed,
            ..before.clone()
        };
        let r = save(conn, ctx, "repository.secret_rotated", &before, after, None)?;
        Ok((r, secret.clone()))
    })
}

/// Deactivates (its webhooks are refused) or activates a repository.
pub fn set_active(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
    reason: &str,
) -> Result<Repository, RecordError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RecordError::NoReason);
    }
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        let after = Repository {
            active,
            ..before.clone()
        };
        let action = if active {
            "repository.activated"
        } else {
            "repository.deactivated"
        };
        save(conn, ctx, action, &before, after, Some(reason))
    })
}

/// The repository a webhook body belongs to: the one named by number, or
/// else the active one of `provider` whose secret `check` accepts.
pub fn authenticate(
    conn: &mut DbConnection,
    key: &[u8; 32],
    provider: Provider,
    named: Option<i64>,
    check: impl Fn(&[u8]) -> bool,
) -> diesel::QueryResult<Option<Repository>> {
    let candidates = match named {
        Some(id) => repo::find(conn, id)?
            .filter(|r| r.provider == provider && r.active)
            .into_iter()
            .collect(),
        None => repo::active_of(conn, provider)?,
    };
    Ok(candidates
        .into_iter()
        .find(|r| secret::open(key, &r.binding(), &r.secret_sealed).is_some_and(|s| check(&s))))
}

/// What ingesting a push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ingested {
    /// This delivery was processed before; nothing changed.
    Duplicate,
    Done {
        /// The export of the matrix a tag push recorded as its release.
        release: Option<i64>,
        commits: usize,
        new_commits: usize,
        links: usize,
        dangling: Vec<String>,
    },
}

/// What keys resolve to: requirements of the product, CAPAs, nonconformances.
fn resolve(
    conn: &mut DbConnection,
    product: i64,
    keys: &HashSet<String>,
) -> diesel::QueryResult<HashMap<String, (&'static str, String)>> {
    use crate::domain::record::{self, RecordKind};
    let mut out = HashMap::new();
    // Numbered keys of the kinds a commit may name (CAPA-7, NC-3).
    let mut numbered: Vec<(&'static RecordKind, Vec<i64>)> = Vec::new();
    for (kind, n) in keys.iter().filter_map(|k| record::by_key(k)) {
        if !kind.in_commits {
            continue;
        }
        match numbered.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, ns)) => ns.push(n),
            None => numbered.push((kind, vec![n])),
        }
    }
    for (kind, ns) in numbered {
        for id in crate::db::repo::existing(conn, kind, &ns)? {
            if let Some(key) = kind.key(id) {
                out.insert(key, (kind.kind, kind.id(id)));
            }
        }
    }
    let wanted: Vec<String> = keys.iter().cloned().collect();
    for r in requirements::by_keys(conn, product, &wanted)? {
        out.insert(r.key.clone(), ("requirement", r.entity_id()));
    }
    Ok(out)
}

/// Most link descriptions one audit entry lists (the entry stays small;
/// every link and reference is in the database).
const AUDIT_LIST: usize = 200;

/// Records a delivery that carries no push (a ping when the webhook is set
/// up, or an event Attest does not use) under the repository's recent
/// deliveries, with its audit entry; a redelivery records nothing again.
/// Returns whether it was new.
pub fn note_delivery(
    conn: &mut DbConnection,
    ctx: &Ctx,
    r: &Repository,
    delivery: &str,
    event: &str,
    outcome: &str,
) -> Result<bool, RecordError> {
    write_tx(conn, |conn| {
        if !repo::insert_delivery(conn, r.id, delivery, event, 0, outcome, ctx.now)? {
            return Ok(false);
        }
        let action = if event == "ping" {
            "repository.ping_received"
        } else {
            "repository.event_ignored"
        };
        audit::append(
            conn,
            &ctx.entry(action)
                .entity(entity(r))
                .after(json!({"delivery": delivery, "event": event, "outcome": outcome})),
        )?;
        Ok(true)
    })
}

/// Ingests a push to `r` as delivery `delivery` of event `event`.
pub fn ingest(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &crate::audit::key::LogKey,
    r: &Repository,
    delivery: &str,
    event: &str,
    push: &Push,
) -> Result<Ingested, RecordError> {
    write_tx(conn, |conn| {
        let n = i64::try_from(push.commits.len()).unwrap_or(i64::MAX);
        if !repo::insert_delivery(conn, r.id, delivery, event, n, "processed", ctx.now)? {
            return Ok(Ingested::Duplicate);
        }
        let shas: Vec<String> = push.commits.iter().map(|c| c.sha.clone()).collect();
        let known: HashSet<String> = repo::commits_by_sha(conn, r.id, &shas)?
            .into_iter()
            .map(|c| c.sha)
            .collect();
        let mut fresh = Vec::new();
        let mut seen = HashSet::new();
        for c in &push.commits {
            if known.contains(&c.sha) || !seen.insert(c.sha.clone()) {
                continue;
            }
            repo::insert_commit(
                conn,
                r.id,
                &NewCommit {
                    sha: &c.sha,
                    author_name: &c.author_name,
                    author_email: &c.author_email,
                    committed_at: c.at,
                    message: &c.message,
                    url: &c.url,
                },
                ctx.now,
            )?;
            fresh.push(c);
        }
        let fresh_shas: Vec<String> = fresh.iter().map(|c| c.sha.clone()).collect();
        let ids: HashMap<String, i64> = repo::commits_by_sha(conn, r.id, &fresh_shas)?
            .into_iter()
            .map(|c| (c.sha, c.id))
            .collect();
        let parsed: Vec<(i64, &str, Vec<_>)> = fresh
            .iter()
            .filter_map(|c| Some((*ids.get(&c.sha)?, c.sha.as_str(), parse_message(&c.message))))
            .collect();
        let keys: HashSet<String> = parsed
            .iter()
            .flat_map(|(_, _, refs)| refs.iter().map(|r| r.key.clone()))
            .collect();
        let targets = resolve(conn, r.product_id, &keys)?;
        let (mut links, mut listed, mut dangling) = (0, Vec::new(), Vec::new());
        for (id, sha, refs) in &parsed {
            let from = format!("commit-{id}");
            for m in refs {
                match targets.get(&m.key) {
                    Some((kind, target)) => {
                        repo::insert_ref(
                            conn,
                            *id,
                            m.relation.as_str(),
                            &m.key,
                            Some((kind, target)),
                        )?;
                        link_repo::insert(
                            conn,
                            ("commit", &from),
                            m.relation.as_str(),
                            (kind, target),
                            None,
                            ctx.now,
                        )?;
                        links += 1;
                        if listed.len() < AUDIT_LIST {
                            listed.push(format!(
                                "{} {} {}",
                                &sha[..12.min(sha.len())],
                                m.relation.as_str(),
                                m.key
                            ));
                        }
                    }
                    // A bare key that names nothing is just a word.
                    None if m.relation == Relation::Mentions => {}
                    None => {
                        repo::insert_ref(conn, *id, m.relation.as_str(), &m.key, None)?;
                        if !dangling.contains(&m.key) {
                            dangling.push(m.key.clone());
                        }
                    }
                }
            }
        }
        audit::append(
            conn,
            &ctx.entry("repository.push_received")
                .entity(entity(r))
                .after(json!({
                    "delivery": delivery,
                    "event": event,
                    "ref": push.git_ref,
                    "head": push.head,
                    "commits": push.commits.len(),
                    "new_commits": fresh.len(),
                    "links": links,
                    "linked": listed,
                    "dangling": dangling,
                })),
        )?;
        // A tag push records a release with the matrix as it stands now
        // (IEC 62304 5.8), kept as a JSON export with its signed manifest.
        let release = match push.tag() {
            Some(tag) => {
                let export = super::exports::create(
                    conn,
                    ctx,
                    key,
                    r.product_id,
                    crate::trace::export::Format::Json,
                    Some(tag),
                )?;
                crate::db::repo::exports::insert_release(
                    conn, r.id, tag, &push.head, export, ctx.now,
                )?;
                Some(export)
            }
            None => None,
        };
        Ok(Ingested::Done {
            release,
            commits: push.commits.len(),
            new_commits: fresh.len(),
            links,
            dangling,
        })
    })
}

/// Links the commits whose messages named `req`'s key before it existed
/// (references kept as dangling), each link audited on the requirement.
pub fn resolve_dangling(
    conn: &mut DbConnection,
    ctx: &Ctx,
    req: &Requirement,
) -> Result<usize, RecordError> {
    let refs = repo::dangling(conn, req.product_id, &req.key)?;
    let target = req.entity_id();
    for r in &refs {
        repo::resolve_ref(conn, r.id, ("requirement", &target))?;
        super::links::create(
            conn,
            ctx,
            ("commit", &format!("commit-{}", r.commit_id)),
            &r.relation,
            ("requirement", &target),
            super::edit::Versioned::entity(req),
        )?;
    }
    Ok(refs.len())
}

/// A commit linked to a record, as its page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedCommit {
    /// The link, for unlinking by hand.
    pub link_id: i64,
    pub relation: String,
    pub commit: repo::Commit,
    pub repository: String,
}

/// The commits linked to a record (`("capa", "capa-7")`), newest first.
pub fn commits_linked_to(
    conn: &mut DbConnection,
    to: (&str, &str),
) -> diesel::QueryResult<Vec<LinkedCommit>> {
    let links = link_repo::from_type_to(conn, "commit", to)?;
    let ids: Vec<i64> = links
        .iter()
        .filter_map(|l| l.from_id.strip_prefix("commit-")?.parse().ok())
        .collect();
    let commits: HashMap<i64, repo::Commit> = repo::commits_by_id(conn, &ids)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::new();
    for l in links {
        let Some(c) = l
            .from_id
            .strip_prefix("commit-")
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|id| commits.get(&id))
        else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(c.repository_id) {
            slot.insert(
                repo::find(conn, c.repository_id)?
                    .map(|r| r.name)
                    .unwrap_or_default(),
            );
        }
        out.push(LinkedCommit {
            link_id: l.id,
            relation: l.relation,
            repository: names.get(&c.repository_id).cloned().unwrap_or_default(),
            commit: c.clone(),
        });
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.commit.committed_at));
    Ok(out)
}

crate::versioned!(Repository => entity);
