//! Attachments on records (issue 14, item 4): a file added to an NC, a
//! CAPA (the record, an action item's evidence, the effectiveness check's
//! evidence), a risk (a control's evidence of effectiveness) or a
//! requirement, audited on that record with its name,
//! SHA-256 and size in the transaction that records it; removed (never
//! deleted: the content stays) with a reason, audited too. Who may: the
//! people who may change the record; an action item's owner for their
//! item; not on a closed record.

use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::repo::attachments::{self as repo, Attachment};
use crate::db::{DbConnection, write_tx};
use crate::domain::user::{Account, Role};
use crate::domain::workflow::Refused;
use crate::files::{Staged, Store};

/// What a file is attached to: a record (its audited kind and id) and a
/// part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: String,
    pub id: String,
    /// Empty for the record itself; `capa-item-5`; `effectiveness`.
    pub part: String,
}

/// Longest name shown for a file, in characters.
pub const MAX_NAME: usize = 200;

/// The name a file is shown under: its last path part (never a path), at
/// most 200 characters; `file` when nothing is left. Names that reorder
/// text or hold NUL are refused before this (SECURITY.md 27).
pub fn shown_name(uploaded: &str) -> String {
    let last = uploaded.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !crate::domain::text::is_bidi_control(*c))
        .take(MAX_NAME)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "file".into()
    } else {
        clean
    }
}

fn refused(action: &'static str, roles: &'static [Role], owner: bool) -> RecordError {
    RecordError::Refused(Refused::Role {
        action,
        roles,
        owner,
        named: None,
    })
}

fn closed(key: &str, state: &str) -> RecordError {
    RecordError::Conflict(format!(
        "{key} is {}: a closed record takes no new files and keeps the ones it has",
        state.to_lowercase()
    ))
}

const QUALITY: &[Role] = &[Role::Quality];
const EDITORS: &[Role] = &[Role::Quality, Role::Engineer];

/// The record `t` names, if `who` may add files to (or remove them from)
/// that part of it now; else why not.
fn check(conn: &mut DbConnection, t: &Target, who: &Account) -> Result<EntityRef, RecordError> {
    let quality = who.roles.contains(Role::Quality);
    let number = crate::domain::record::kind(&t.kind)
        .and_then(|k| k.number(&t.id))
        .ok_or(RecordError::NotFound)?;
    match t.kind.as_str() {
        "capa" => {
            let c = crate::db::repo::capas::find(conn, number)?.ok_or(RecordError::NotFound)?;
            let item_owner = match t.part.strip_prefix("capa-item-") {
                Some(n) => {
                    let n: i64 = n.parse().map_err(|_| RecordError::NotFound)?;
                    let item = c
                        .items
                        .iter()
                        .find(|i| i.id == n)
                        .ok_or(RecordError::NotFound)?;
                    Some(item.owner_id)
                }
                None if t.part.is_empty() || t.part == "effectiveness" => None,
                None => return Err(RecordError::NotFound),
            };
            if c.state.terminal() {
                return Err(closed(&c.key(), c.state.label()));
            }
            let me = Some(who.id.0);
            if !(quality || c.owner_id == me || item_owner.is_some() && item_owner == me) {
                return Err(refused("Attaching files to this CAPA", QUALITY, true));
            }
            Ok(super::capas::entity(&c))
        }
        "nonconformance" => {
            let nc = crate::db::repo::nonconformances::find(conn, number)?
                .ok_or(RecordError::NotFound)?;
            if !t.part.is_empty() {
                return Err(RecordError::NotFound);
            }
            if nc.state == crate::domain::nonconformance::NcState::Closed {
                return Err(closed(&nc.key(), nc.state.label()));
            }
            if !(quality || nc.reported_by == who.id.0) {
                return Err(refused(
                    "Attaching files to this nonconformance",
                    QUALITY,
                    true,
                ));
            }
            Ok(EntityRef {
                kind: "nonconformance".into(),
                id: format!("nc-{}", nc.id),
                key: nc.key(),
                version: nc.version,
            })
        }
        "requirement" => {
            let r =
                crate::db::repo::requirements::find(conn, number)?.ok_or(RecordError::NotFound)?;
            if !t.part.is_empty() {
                return Err(RecordError::NotFound);
            }
            if r.status == crate::domain::requirement::ReqStatus::Retired {
                return Err(closed(&r.key, r.status.label()));
            }
            if !who.roles.has_any(EDITORS) {
                return Err(refused("Attaching files to requirements", EDITORS, false));
            }
            Ok(super::requirements::entity(&r))
        }
        "risk" => {
            let r = crate::db::repo::risks::find(conn, number)?.ok_or(RecordError::NotFound)?;
            // The risk itself, or the evidence of one control in force.
            if let Some(n) = t.part.strip_prefix("risk-control-") {
                let n: i64 = n.parse().map_err(|_| RecordError::NotFound)?;
                if !r.controls.iter().any(|c| c.id == n) {
                    return Err(RecordError::NotFound);
                }
            } else if !t.part.is_empty() {
                return Err(RecordError::NotFound);
            }
            // An accepted risk's evidence is what its acceptance rested on:
            // reopen it to add or remove files.
            if r.state == crate::domain::risk::workflow::RiskState::Accepted {
                return Err(RecordError::Conflict(format!(
                    "{} is accepted: its evidence is kept as it was accepted; reopen it to change the files",
                    r.key()
                )));
            }
            if !who.roles.has_any(EDITORS) {
                return Err(refused("Attaching files to risks", EDITORS, false));
            }
            Ok(super::risks::risk_entity(&r))
        }
        "document_version" => {
            let v = crate::db::repo::documents::find_version(conn, number)?
                .ok_or(RecordError::NotFound)?;
            if !t.part.is_empty() {
                return Err(RecordError::NotFound);
            }
            // A version's files are its content: fixed once it is sent for
            // review, like its body (WORKFLOWS.md).
            if v.state != crate::domain::document::VersionState::Draft {
                return Err(RecordError::Conflict(format!(
                    "{} is {}: its files are part of its content, fixed from review on; start a new version to change them",
                    v.key(),
                    v.state.label().to_lowercase()
                )));
            }
            if !(quality || v.author_id == who.id.0) {
                return Err(refused("Attaching files to this draft", QUALITY, true));
            }
            Ok(<crate::domain::document::DocWorkflow as super::workflow::Stored>::entity(&v))
        }
        _ => Err(RecordError::NotFound),
    }
}

/// A content's chunk that could not be read from its staging file or
/// written to the database.
enum ChunkError {
    Read(std::io::Error),
    Write(diesel::result::Error),
}

impl From<std::io::Error> for ChunkError {
    fn from(e: std::io::Error) -> Self {
        Self::Read(e)
    }
}

impl From<diesel::result::Error> for ChunkError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Write(e)
    }
}

/// Whether `who` may add files to `t` now, else why not: asked before an
/// upload is read (and again in the transaction that records it).
pub fn may_attach(conn: &mut DbConnection, t: &Target, who: &Account) -> Result<(), RecordError> {
    check(conn, t, who).map(|_| ())
}

/// Records `staged` (already kept by the caller when the store is a
/// directory) as attached to `t` under `name`, in one transaction with its
/// audit entry; for the database store its content's chunks are written
/// in that transaction, unless the same content is stored already.
pub fn add(
    conn: &mut DbConnection,
    ctx: &Ctx,
    store: &Store,
    t: &Target,
    name: &str,
    staged: &Staged,
    who: &Account,
) -> Result<Attachment, RecordError> {
    write_tx(conn, |conn| {
        let entity = check(conn, t, who)?;
        let size = i64::try_from(staged.size).map_err(RecordError::fault)?;
        if repo::stored_in(conn, &staged.sha256)?.is_none()
            && repo::insert_blob(conn, &staged.sha256, size, store.name(), ctx.now)?
            && *store == Store::Database
        {
            crate::files::each_chunk::<ChunkError>(staged, |n, bytes| {
                Ok(repo::insert_chunk(conn, &staged.sha256, n, bytes)?)
            })
            .map_err(|e| match e {
                ChunkError::Read(e) => RecordError::fault(format!("the staged upload: {e}")),
                ChunkError::Write(e) => RecordError::Storage(e),
            })?;
        }
        let id = repo::insert(
            conn,
            &repo::New {
                record: (&t.kind, &t.id),
                part: &t.part,
                name,
                sha256: &staged.sha256,
                size,
                by: who.id.0,
                at: ctx.now,
            },
        )?;
        audit::append(
            conn,
            &ctx.entry("attachment.added").entity(entity).after(json!({
                "attachment": format!("att-{id}"),
                "name": name,
                "sha256": staged.sha256,
                "size": size,
                "part": t.part,
            })),
        )?;
        repo::find(conn, id)?.ok_or(RecordError::NotFound)
    })
}

/// Removes attachment `id` from its record with `reason` (its content
/// stays), audited on the record: by the person who added it or quality,
/// while the record is open.
pub fn remove(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    reason: &str,
    who: &Account,
) -> Result<Attachment, RecordError> {
    let reason = super::accounts::required_reason(reason)?.to_string();
    write_tx(conn, |conn| {
        let a = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        if a.removed.is_some() {
            return Err(RecordError::Conflict(format!(
                "{} was removed already",
                a.name
            )));
        }
        let target = Target {
            kind: a.record_type.clone(),
            id: a.record_id.clone(),
            part: a.part.clone(),
        };
        let entity = check(conn, &target, who)?;
        if !(who.roles.contains(Role::Quality) || a.added_by == who.id.0) {
            return Err(refused(
                "Removing a file someone else added",
                QUALITY,
                false,
            ));
        }
        if !repo::remove(conn, id, who.id.0, ctx.now, &reason)? {
            return Err(RecordError::Stale);
        }
        audit::append(
            conn,
            &ctx.entry("attachment.removed")
                .entity(entity)
                .reason(&reason)
                .before(json!({
                    "attachment": format!("att-{id}"),
                    "name": a.name,
                    "sha256": a.sha256,
                    "size": a.size,
                    "part": a.part,
                })),
        )?;
        repo::find(conn, id)?.ok_or(RecordError::NotFound)
    })
}

/// Where attachment `a`'s content is read from.
pub enum Source {
    /// A file of this directory store.
    Directory(std::path::PathBuf),
    /// Chunks in the database.
    Database,
}

/// The attachment `id` and where its content is, for a reader who may
/// open its record; `None` when there is none or they may not.
pub fn for_reading(
    conn: &mut DbConnection,
    id: i64,
    store: &Store,
    roles: &crate::domain::user::Roles,
) -> Result<Option<(Attachment, Source)>, RecordError> {
    let Some(a) = repo::find(conn, id)? else {
        return Ok(None);
    };
    if crate::domain::record::href(&a.record_type, &a.record_id, roles).is_none() {
        return Ok(None);
    }
    let source = match repo::stored_in(conn, &a.sha256)?.as_deref() {
        Some("database") => Source::Database,
        Some(_) => match store {
            Store::Directory(dir) => Source::Directory(dir.clone()),
            // Kept in a directory this instance is not set up with.
            Store::Database => {
                return Err(RecordError::Fault(format!(
                    "the content of attachment {id} is in a directory store, and this instance stores files in the database"
                )));
            }
        },
        None => {
            return Err(RecordError::Fault(format!(
                "attachment {id} names no stored content"
            )));
        }
    };
    Ok(Some((a, source)))
}
