//! The audit log's public endpoints (AUDIT-LOG.md section 4). Any signed-in
//! user may use them; auditors need nothing else.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::json;

use crate::audit::StoredEntry;
use crate::audit::browse::{self, Cursor, Filter};
use crate::audit::merkle::{self, ProofError};
use crate::audit::tree;
use crate::audit::{self, AuditError, actions};
use crate::db::DbConnection;
use crate::db::repo::users;
use crate::domain::ids::UserId;
use crate::domain::user::{Role, Roles};
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::extract::{AuditReader, CurrentUser, OpId};
use crate::web::views::audit::{
    BrowsePage, Choice, ChoiceGroup, EntryPage, EntryView, HistoryPanel, Names, record_href,
};

/// Most entries one `GET /audit/entries` returns.
pub const MAX_ENTRIES_PER_PAGE: u64 = 10_000;

/// `GET /audit/key`: the verifier key, in the signed-note vkey format.
pub async fn key(state: web::Data<AppState>, _user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.log_vkey))
}

/// `GET /audit/checkpoint`: the latest signed checkpoint (signed now if the
/// log grew since the last one), as the C2SP signed note; `?download=1`
/// offers it as a file to keep beside an export.
pub async fn checkpoint(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let cp = state.checkpoint().await?;
    let mut res = HttpResponse::Ok();
    res.content_type("text/plain; charset=utf-8");
    if query.get("download").is_some_and(|v| v == "1") {
        res.insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit-checkpoint-{}.txt\"", cp.size),
        ));
    }
    Ok(res.body(cp.note))
}

/// Entries read per step of the streamed export.
const EXPORT_STEP: u64 = 1_000;

// Who reads what of the log (docs/audit.md, "Who reads what"): auditors,
// quality and administrators read every entry, everywhere. Everyone else
// reads the entries of the records their roles let them open, in the
// browser, on entry pages and in History panels; the raw log
// (`/audit/entries`, `/audit/export`) holds every entry, so it is for the
// readers of the whole log. Key, checkpoint and proofs carry hashes only
// and are open to every signed-in user.

/// `GET /audit/export`: the whole log as JSON lines, streamed, cut at a
/// checkpoint signed for it, which travels base64-encoded in the
/// `Attest-Checkpoint` header (and is at `/audit/checkpoint?download=1`).
pub async fn export(
    state: web::Data<AppState>,
    _reader: AuditReader,
) -> Result<HttpResponse, AppError> {
    let cp = state.checkpoint().await?;
    let size = cp.size;
    let pool = state.pool.clone();
    let stream = futures_util::stream::unfold(0u64, move |start| {
        let pool = pool.clone();
        async move {
            if start >= size {
                return None;
            }
            let end = (start + EXPORT_STEP).min(size);
            let chunk = web::block(move || -> Result<web::Bytes, AppError> {
                let mut conn = pool.get()?;
                let mut out = Vec::new();
                for e in audit::entries(&mut conn, start, end)? {
                    out.extend_from_slice(&e.leaf);
                    out.push(b'\n');
                }
                Ok(web::Bytes::from(out))
            })
            .await;
            match chunk {
                Ok(Ok(bytes)) => Some((Ok(bytes), end)),
                // Stop after an error: the download ends short, and the
                // checkpoint's size tells the auditor it is incomplete.
                Ok(Err(e)) => Some((Err(e), size)),
                Err(e) => Some((Err(AppError::from(e)), size)),
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .insert_header(("Attest-Checkpoint", B64.encode(cp.note.as_bytes())))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit-log-{size}.jsonl\""),
        ))
        .streaming(stream))
}

/// A whole-number query parameter, or a 400 that names it.
fn number(query: &HashMap<String, String>, name: &str) -> Result<u64, AppError> {
    let raw = query
        .get(name)
        .ok_or_else(|| AppError::BadRequest(format!("The parameter {name} is required")))?;
    raw.parse::<u64>()
        .ok()
        .filter(|n| *n < (1 << 62))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "The parameter {name} must be a whole number, not {raw:?}"
            ))
        })
}

fn proof_error(e: ProofError<AuditError>) -> AppError {
    match e {
        ProofError::Source(inner) => inner.into(),
        other => AppError::BadRequest(crate::web::error::capitalise(&other.to_string())),
    }
}

fn b64_all(hashes: &[merkle::Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// `GET /audit/proof/inclusion?index=I&size=N` (RFC 9162 2.1.3), for any
/// tree size up to the current one.
pub async fn inclusion(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (index, size) = (number(&query, "index")?, number(&query, "size")?);
    let body = state
        .db(move |conn| {
            let current = tree::head(conn)?.size;
            if size == 0 || size > current {
                return Err(AppError::BadRequest(format!("size must be between 1 and the tree size {current}")));
            }
            if index >= size {
                return Err(AppError::BadRequest(format!("index must be below size ({index} is not below {size})")));
            }
            let (hashes, leaf) = tree::inclusion_proof(conn, index, size).map_err(proof_error)?;
            Ok(json!({"index": index, "tree_size": size, "leaf_hash": B64.encode(leaf), "hashes": b64_all(&hashes)}))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string()))
}

/// `GET /audit/proof/consistency?from=M&to=N` (RFC 9162 2.1.4).
pub async fn consistency(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (from, to) = (number(&query, "from")?, number(&query, "to")?);
    let body = state
        .db(move |conn| {
            let current = tree::head(conn)?.size;
            if from == 0 || from > to {
                return Err(AppError::BadRequest(format!(
                    "from must be at least 1 and at most to ({from} > {to} or 0)"
                )));
            }
            if to > current {
                return Err(AppError::BadRequest(format!(
                    "to must be at most the tree size {current}"
                )));
            }
            let hashes = tree::consistency_proof(conn, from, to).map_err(proof_error)?;
            Ok(json!({"from": from, "to": to, "hashes": b64_all(&hashes)}))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string()))
}

/// `GET /audit/entries?start=S&end=E`: the leaf bytes of entries S..E-1, one
/// per line, byte-exact; at most 10,000, and never past the end of the log.
pub async fn entries(
    state: web::Data<AppState>,
    _reader: AuditReader,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (start, end) = (number(&query, "start")?, number(&query, "end")?);
    if start >= end {
        return Err(AppError::BadRequest(format!(
            "start must be below end ({start} is not below {end})"
        )));
    }
    let body = state
        .db(move |conn| {
            let size = audit::size(conn)?;
            if start >= size {
                return Err(AppError::BadRequest(format!(
                    "start must be below the log size {size}"
                )));
            }
            let end = end.min(size).min(start + MAX_ENTRIES_PER_PAGE);
            let mut body = Vec::new();
            for e in audit::entries(conn, start, end)? {
                body.extend_from_slice(&e.leaf);
                body.push(b'\n');
            }
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .body(body))
}

/// `GET /audit/verify`: the "Verify now" page. Re-reads and re-hashes every
/// entry, compares the stored tree, and checks every stored checkpoint.
pub async fn verify_now(
    state: web::Data<AppState>,
    reader: AuditReader,
) -> Result<HttpResponse, AppError> {
    let vkey = state.log_vkey.clone();
    let started = std::time::Instant::now();
    let report = state
        .db(move |conn| Ok(crate::audit::verify::verify_database(conn, &vkey)))
        .await?;
    let page = crate::web::views::VerifyPage {
        ctx: super::page_ctx(&state, reader.session(), "/audit").await?,
        ok: report.ok,
        origin: state.log_origin.clone(),
        vkey: state.log_vkey.clone(),
        entries: report.entries,
        checkpoints_checked: report.checkpoints_checked,
        checkpoint_size: report.checkpoint_size,
        checkpoint_root: report.checkpoint_root.clone().unwrap_or_default(),
        failures: report.failures,
        elapsed_ms: started.elapsed().as_millis(),
    };
    super::html(&page)
}

/// The names of the people and products `entries` name by number, read in
/// two queries.
pub fn names_of(conn: &mut DbConnection, entries: &[StoredEntry]) -> Result<Names, AppError> {
    let (people, products) = Names::wanted(entries);
    Ok(Names {
        users: users::names(conn, &people)?,
        products: crate::db::repo::products::names(conn, &products)?,
    })
}

/// Entries shown per page of the audit browser, and in a History panel.
const BROWSE_PAGE: i64 = 50;
const HISTORY_PANEL: i64 = 20;

/// The entity types a reader may see the history of; `None` for the whole
/// log. Auditors, quality and administrators read everything; everyone else
/// only the history of records their roles let them open (products,
/// nonconformances, CAPAs and requirements so far; user accounts are opened only by administrators).
pub fn visible_types(roles: &Roles) -> Option<Vec<String>> {
    if roles.has_any(&[Role::Auditor, Role::Quality, Role::Admin]) {
        None
    } else {
        Some(
            crate::domain::record::KINDS
                .iter()
                .filter(|k| k.history_for_all)
                .map(|k| k.kind.to_string())
                .collect(),
        )
    }
}

/// History panels by record and reader's roles, kept until the log grows:
/// entries are only ever appended, so a panel changes only when the log
/// does (refusals and sign-ins included, which the data stamp leaves alone).
pub type HistoryCache = crate::service::KeptUntilDataChanges<(String, String, Roles), HistoryPanel>;

/// The History panel of one record: its newest entries and a link to the
/// audit browser filtered to it.
pub fn history_panel(
    conn: &mut DbConnection,
    kept: &HistoryCache,
    kind: &str,
    id: &str,
    roles: &Roles,
) -> Result<std::sync::Arc<HistoryPanel>, AppError> {
    let size = crate::audit::size(conn)? as i64;
    let key = (kind.to_string(), id.to_string(), roles.clone());
    kept.get_at(conn, size, key, |conn| {
        let filter = Filter {
            visible_types: visible_types(roles),
            entity_type: Some(kind.to_string()),
            record: Some(id.to_string()),
            ..Filter::default()
        };
        let page = browse::page(conn, &filter, Cursor::Newest, HISTORY_PANEL)?;
        let names = names_of(conn, &page.entries)?;
        Ok(HistoryPanel {
            entries: page
                .entries
                .iter()
                .map(|e| EntryView::new(e, roles, &names))
                .collect(),
            all_href: format!("/audit?type={}&record={}", urlencode(kind), urlencode(id)),
            csv_href: format!(
                "/audit/record/{}/{}/trail.csv",
                urlencode(kind),
                urlencode(id)
            ),
            packet_href: format!("/audit/record/{}/{}/packet", urlencode(kind), urlencode(id)),
            more: page.has_older,
        })
    })
}

/// What someone else saved after the version a stale form showed.
#[derive(Debug, Default)]
pub struct ChangesSince {
    /// Each change in people's words, oldest first ("2026-12-02 10:31 UTC,
    /// Quinn Quality: CAPA details changed (title: “Hinge” → “Cracked
    /// hinge”)").
    pub lines: Vec<String>,
    /// Each field changed, as recorded (`title`), with its value now.
    pub fields: Vec<(String, String)>,
}

/// What changed in record `id` after the version a stale form showed: a
/// form refused because someone else saved first says what they saved. The
/// newest 20 entries are looked at; older ones are on the History panel.
pub fn changes_since(
    conn: &mut DbConnection,
    kind: &str,
    id: &str,
    version: i64,
    roles: &Roles,
) -> Result<ChangesSince, AppError> {
    let filter = Filter {
        visible_types: visible_types(roles),
        entity_type: Some(kind.to_string()),
        record: Some(id.to_string()),
        ..Filter::default()
    };
    let page = browse::page(conn, &filter, Cursor::Newest, 20)?;
    let names = names_of(conn, &page.entries)?;
    let short = |v: &str| -> String {
        let mut out: String = v.chars().take(120).collect();
        if v.chars().count() > 120 {
            out.push('…');
        }
        out
    };
    let mut out = ChangesSince::default();
    // Newest first: the first value seen of a field is its value now.
    for e in page.entries.iter().filter(|e| {
        e.json()
            .pointer("/entity/version")
            .and_then(serde_json::Value::as_i64)
            .is_some_and(|v| v > version)
    }) {
        let v = EntryView::new(e, roles, &names);
        let changed: Vec<_> = v
            .changes
            .iter()
            .filter(|c| c.changed && c.key != "transition")
            .collect();
        for c in &changed {
            if !out.fields.iter().any(|(k, _)| k == &c.key) {
                out.fields.push((c.key.clone(), c.after.plain()));
            }
        }
        let words: Vec<String> = changed
            .iter()
            .map(|c| {
                format!(
                    "{}: “{}” → “{}”",
                    c.field,
                    short(&c.before.plain()),
                    short(&c.after.plain())
                )
            })
            .collect();
        let mut line = format!("{}, {}: {}", v.at, v.actor, v.label);
        if !words.is_empty() {
            line.push_str(&format!(" ({})", words.join("; ")));
        }
        out.lines.push(line);
    }
    out.lines.reverse();
    Ok(out)
}

/// A date (`2026-11-21`, the whole day) or a time (`2026-11-21T10:42`,
/// that minute) in UTC; `end` gives the instant just after it.
fn parse_when(raw: &str, end: bool) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0)?;
        return Some(if end {
            start + Duration::days(1)
        } else {
            start
        });
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(if end { t + Duration::minutes(1) } else { t });
        }
    }
    None
}

/// `GET /audit`: the audit browser. Filters: `type`, `record` (id or key),
/// `actor` (username, `u-7` or `system`), `action` (one, or `group.*`),
/// `from` and `to` (dates or times, UTC, both inclusive); pages by `before`
/// and `after` (seq).
pub async fn browse(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let roles = s.account.roles.clone();
    let (kind, record, actor, action, from, to) = (
        super::query_text(&query, "type"),
        super::query_text(&query, "record"),
        super::query_text(&query, "actor"),
        super::query_text(&query, "action"),
        super::query_text(&query, "from"),
        super::query_text(&query, "to"),
    );
    let mut errors = Vec::new();
    let mut filter = Filter {
        visible_types: visible_types(&roles),
        entity_type: Some(kind.clone()).filter(|k| !k.is_empty()),
        record: Some(record.clone()).filter(|r| !r.is_empty()),
        ..Filter::default()
    };
    if let Some(kind) = &filter.entity_type
        && crate::domain::record::kind(kind).is_none()
    {
        errors.push(format!("There is no record type {kind:?}"));
    }
    if !action.is_empty() {
        match actions::matching(&action) {
            Some(names) => filter.actions = Some(names.into_iter().map(String::from).collect()),
            None => errors.push(format!("There is no event {action:?}")),
        }
    }
    for (raw, end, name) in [(&from, false, "From"), (&to, true, "To")] {
        if raw.is_empty() {
            continue;
        }
        match parse_when(raw, end) {
            Some(t) if end => filter.until = Some(t),
            Some(t) => filter.from = Some(t),
            None => errors.push(format!(
                "{name} must be a date like 2026-11-21 or a time like 2026-11-21T10:42, not {raw:?}"
            )),
        }
    }
    if let (Some(a), Some(b)) = (filter.from, filter.until)
        && a >= b
    {
        errors.push("From must not be after To".to_string());
    }
    let cursor = match (query.get("before"), query.get("after")) {
        (Some(b), _) => b.parse().map(Cursor::Before).ok(),
        (None, Some(a)) => a.parse().map(Cursor::After).ok(),
        (None, None) => Some(Cursor::Newest),
    };
    let Some(cursor) = cursor else {
        return Err(AppError::BadRequest(
            "The page position (before / after) must be an entry number".into(),
        ));
    };
    let actor_raw = actor.clone();
    let (page, log_size, actor_error) = state
        .db(move |conn| {
            let log_size = audit::size(conn)?;
            let mut actor_error = None;
            if !actor_raw.is_empty() {
                if actor_raw == "system" {
                    filter.actor_id = Some(actor_raw.clone());
                } else if let Some(a) = users::find_by_username(conn, &actor_raw.to_lowercase())? {
                    filter.actor_id = Some(a.id.to_string());
                } else if let Ok(id) = actor_raw.parse::<UserId>() {
                    filter.actor_id = Some(id.to_string());
                } else {
                    actor_error = Some(format!("There is no user {actor_raw:?}"));
                }
            }
            if actor_error.is_some() || !errors.is_empty() {
                return Ok((
                    None,
                    log_size,
                    actor_error.into_iter().chain(errors).collect::<Vec<_>>(),
                ));
            }
            let page = browse::page(conn, &filter, cursor, BROWSE_PAGE)?;
            let names = names_of(conn, &page.entries)?;
            Ok((Some((page, names)), log_size, Vec::new()))
        })
        .await?;
    let errors = actor_error;
    let table = query.get("view").is_some_and(|v| v == "table");
    let mut params: Vec<(&str, &str)> = Vec::new();
    for (name, value) in [
        ("type", &kind),
        ("record", &record),
        ("actor", &actor),
        ("action", &action),
        ("from", &from),
        ("to", &to),
    ] {
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    let filtered = !params.is_empty();
    let query_of = |view: bool| -> Vec<String> {
        let mut q: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        if view {
            q.push("view=table".into());
        }
        q
    };
    let link = |side: &str, seq: i64| {
        let mut q = query_of(table);
        q.push(format!("{side}={seq}"));
        format!("/audit?{}", q.join("&"))
    };
    let other_view = format!("/audit?{}", query_of(!table).join("&"));
    let (entries, newer, older) = match &page {
        Some((p, names)) => (
            p.entries
                .iter()
                .map(|e| EntryView::new(e, &roles, names))
                .collect::<Vec<_>>(),
            p.entries
                .first()
                .filter(|_| p.has_newer)
                .map(|e| link("after", e.seq)),
            p.entries
                .last()
                .filter(|_| p.has_older)
                .map(|e| link("before", e.seq)),
        ),
        None => (Vec::new(), None, None),
    };
    let limited = visible_types(&roles).is_some();
    let types = crate::domain::record::KINDS
        .iter()
        .filter(|k| visible_types(&roles).is_none_or(|v| v.iter().any(|t| t == k.kind)))
        .map(|k| Choice {
            value: k.kind.to_string(),
            label: k.name.to_string(),
            selected: k.kind == kind,
        })
        .collect();
    let action_groups = actions::GROUPS
        .iter()
        .map(|(group, label)| {
            let all = format!("{group}.*");
            let mut choices = vec![Choice {
                selected: action == all,
                label: format!("Any: {}", label.to_lowercase()),
                value: all,
            }];
            choices.extend(
                actions::ACTIONS
                    .iter()
                    .filter(|(name, _)| name.split('.').next() == Some(*group))
                    .map(|(name, label)| Choice {
                        value: (*name).to_string(),
                        label: (*label).to_string(),
                        selected: *name == action,
                    }),
            );
            ChoiceGroup {
                label: (*label).to_string(),
                choices,
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = BrowsePage {
        ctx: super::page_ctx(&state, s, "/audit").await?,
        entries,
        types,
        actions: action_groups,
        filtered,
        record,
        actor,
        from,
        to,
        errors,
        newer,
        older,
        log_size,
        limited,
        table,
        other_view,
    };
    super::html_status(status, &page)
}

/// `GET /audit/entry/{seq}`: one entry whole: the changes, the exact leaf
/// bytes and their hash, and where to get its inclusion proof.
pub async fn entry(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let seq: i64 = path.parse().map_err(|_| AppError::NotFound)?;
    let visible = visible_types(&s.account.roles);
    if visible.is_some() {
        // An entry that exists but is not for this reader: a 404, audited.
        let v = visible.clone();
        let hidden = state
            .db(move |conn| {
                Ok(browse::one(conn, v, seq)?.is_none() && browse::one(conn, None, seq)?.is_some())
            })
            .await?;
        if hidden {
            let why = "an audit entry about a record the reader's roles do not open".to_string();
            super::deny(
                &state,
                s,
                op,
                None,
                "GET",
                format!("/audit/entry/{seq}"),
                why,
            )
            .await?;
            return Err(AppError::NotFound);
        }
    }
    let ((found, names), tree_size, previous, next) = state
        .db(move |conn| {
            let found = browse::one(conn, visible.clone(), seq)?.ok_or(AppError::NotFound)?;
            let tree_size = tree::head(conn)?.size;
            let filter = Filter {
                visible_types: visible,
                ..Filter::default()
            };
            let previous = browse::page(conn, &filter, Cursor::Before(seq), 1)?;
            let next = browse::page(conn, &filter, Cursor::After(seq), 1)?;
            let names = names_of(conn, std::slice::from_ref(&found))?;
            Ok((
                (found, names),
                tree_size,
                previous.entries.first().map(|e| e.seq),
                next.entries.first().map(|e| e.seq).filter(|n| *n > seq),
            ))
        })
        .await?;
    let page = EntryPage {
        ctx: super::page_ctx(&state, s, "/audit").await?,
        entry: EntryView::new(&found, &s.account.roles, &names),
        leaf: String::from_utf8_lossy(&found.leaf).into_owned(),
        leaf_hash_hex: hex::encode(&found.leaf_hash),
        leaf_hash_b64: B64.encode(&found.leaf_hash),
        tree_size,
        previous,
        next,
    };
    super::html(&page)
}

/// Most entries a record's trail download holds (its History has no limit;
/// a record with more is exported through `/audit/export`).
const MAX_TRAIL: i64 = 20_000;

/// Every entry of record `kind`/`id` the reader may see, oldest first.
fn record_trail(
    conn: &mut DbConnection,
    kind: &str,
    id: &str,
    roles: &Roles,
) -> Result<Vec<StoredEntry>, AppError> {
    let filter = Filter {
        visible_types: visible_types(roles),
        entity_type: Some(kind.to_string()),
        record: Some(id.to_string()),
        ..Filter::default()
    };
    // Newest first, page by page to the oldest, then turned round.
    let mut out = Vec::new();
    let mut cursor = Cursor::Newest;
    loop {
        let page = browse::page(conn, &filter, cursor, 500)?;
        let oldest = page.entries.last().map(|e| e.seq);
        let more = page.has_older;
        out.extend(page.entries);
        match oldest {
            Some(seq) if more && (out.len() as i64) < MAX_TRAIL => cursor = Cursor::Before(seq),
            _ => break,
        }
    }
    out.reverse();
    out.truncate(MAX_TRAIL as usize);
    Ok(out)
}

/// The record `kind`/`id` named by a trail URL, when this reader may read
/// its history; else a 404, audited as a refusal of access.
async fn trail_record(
    state: &web::Data<AppState>,
    s: &crate::web::session::SessionCtx,
    op: Option<String>,
    (kind, id): (&str, &str),
    what: &str,
) -> Result<&'static crate::domain::record::RecordKind, AppError> {
    let Some(k) = crate::domain::record::kind(kind) else {
        return Err(AppError::NotFound);
    };
    let readable = visible_types(&s.account.roles).is_none_or(|v| v.iter().any(|t| t == kind));
    if !readable {
        let why = "the history of a record the reader's roles do not open".to_string();
        let path = format!("/audit/record/{kind}/{id}/{what}");
        super::deny(state, s, op, None, "GET", path, why).await?;
        return Err(AppError::NotFound);
    }
    Ok(k)
}

/// What a trail's header says of its record: its key, title and state.
fn record_summary(
    conn: &mut DbConnection,
    kind: &str,
    id: &str,
) -> Result<Option<(String, String, String)>, AppError> {
    let number = crate::domain::record::kind(kind).and_then(|k| k.number(id));
    let Some(n) = number else {
        return Ok(None);
    };
    Ok(match kind {
        "capa" => crate::db::repo::capas::find(conn, n)?
            .map(|c| (c.key(), c.title.clone(), c.state.label().to_string())),
        "nonconformance" => crate::db::repo::nonconformances::find(conn, n)?
            .map(|c| (c.key(), c.title.clone(), c.state.label().to_string())),
        "product" => crate::db::repo::products::find(conn, n)?.map(|p| {
            let status = if p.active { "Active" } else { "Archived" };
            (p.key_prefix, p.name, status.to_string())
        }),
        "requirement" => crate::db::repo::requirements::find(conn, n)?
            .map(|r| (r.key, r.title, r.status.label().to_string())),
        _ => None,
    })
}

/// `GET /audit/record/{type}/{id}/trail.csv`: one record's whole trail, a
/// row per changed field (an entry without fields has one row), in
/// people's words, with each entry's leaf hash to check it against the log.
pub async fn record_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (kind, id) = path.into_inner();
    let k = trail_record(&state, s, op, (&kind, &id), "trail.csv").await?;
    let roles = s.account.roles.clone();
    let (kind2, id2) = (kind.clone(), id.clone());
    let (entries, names) = state
        .read(move |conn| {
            let entries = record_trail(conn, &kind2, &id2, &roles)?;
            let names = names_of(conn, &entries)?;
            Ok((entries, names))
        })
        .await?;
    let roles = &s.account.roles;
    let mut out = crate::csv::line(&[
        "Entry",
        "When (UTC)",
        "By",
        "User id",
        "What",
        "Recorded action",
        "Record",
        "Version",
        "Field",
        "Before",
        "After",
        "Reason",
        "Electronic signature",
        "Operation",
        "Leaf hash (SHA-256, hex)",
    ]);
    for e in &entries {
        let v = EntryView::new(e, roles, &names);
        let (record, version) = v
            .record
            .as_ref()
            .map_or((String::new(), String::new()), |r| {
                (r.text.clone(), r.version.to_string())
            });
        let head = [
            v.seq.to_string(),
            v.at.trim_end_matches(" UTC").to_string(),
            v.actor.clone(),
            v.actor_id.clone(),
            v.label.clone(),
            v.action.clone(),
            record,
            version,
        ];
        let tail = [
            v.reason.clone().unwrap_or_default(),
            v.signature.clone().unwrap_or_default(),
            v.op.clone().unwrap_or_default(),
            hex::encode(&e.leaf_hash),
        ];
        let rows: Vec<[String; 3]> = if v.changes.is_empty() {
            vec![Default::default()]
        } else {
            v.changes
                .iter()
                .map(|c| {
                    let before = if v.created {
                        String::new()
                    } else {
                        c.before.plain()
                    };
                    [c.field.clone(), before, c.after.plain()]
                })
                .collect()
        };
        for r in rows {
            let cells: Vec<&str> = head
                .iter()
                .chain(r.iter())
                .chain(tail.iter())
                .map(String::as_str)
                .collect();
            out.push_str(&crate::csv::line(&cells));
        }
    }
    let name = k.key_prefix.map_or_else(|| id.clone(), |_| k.label(&id));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{}-audit-trail.csv\"",
                file_part(&name)
            ),
        ))
        .body(out))
}

/// A file name part: letters, digits, `-` and `.`, the rest `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `GET /audit/record/{type}/{id}/packet`: the record packet an inspector
/// asks for, ready to print: the record, its electronic signatures each
/// verified now, and its whole trail in people's words, under a header
/// naming who made it when and the signed checkpoint it was cut at.
pub async fn record_packet(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (kind, id) = path.into_inner();
    let k = trail_record(&state, s, op, (&kind, &id), "packet").await?;
    let cp = state.checkpoint().await?;
    let roles = s.account.roles.clone();
    let (kind2, id2) = (kind.clone(), id.clone());
    let (entries, names, summary, signatures) = state
        .read(move |conn| {
            let entries = record_trail(conn, &kind2, &id2, &roles)?;
            let names = names_of(conn, &entries)?;
            let summary = record_summary(conn, &kind2, &id2)?;
            let signatures = super::signatures::panel(conn, &kind2, &id2, &roles)?;
            Ok((entries, names, summary, signatures))
        })
        .await?;
    let roles = &s.account.roles;
    let (key, title, record_state) =
        summary.unwrap_or_else(|| (k.label(&id), String::new(), String::new()));
    let entries: Vec<EntryView> = entries
        .iter()
        .map(|e| EntryView::new(e, roles, &names))
        .collect();
    let page = crate::web::views::audit::PacketPage {
        ctx: super::page_ctx(&state, s, "/audit").await?,
        kind_name: k.name,
        key,
        title,
        record_state,
        record_href: record_href(&kind, &id, roles),
        csv_href: format!(
            "/audit/record/{}/{}/trail.csv",
            urlencode(&kind),
            urlencode(&id)
        ),
        generated_at: state
            .clock
            .now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        generated_by: format!("{} ({})", s.account.full_name, s.account.username),
        checkpoint_size: cp.size,
        checkpoint_root: B64.encode(cp.root),
        origin: state.log_origin.clone(),
        signatures,
        count: entries.len(),
        entries,
    };
    super::html(&page)
}
