//! Checking stored signatures as `attest verify --signatures` and every
//! page that shows one do: the signer's key on file and in the audit trail,
//! the Ed25519 signature, and the signed record's content as it is now.

use super::workflow::Stored;
use crate::db::DbConnection;
use crate::db::repo::signatures as repo;
use crate::domain::ids::UserId;
use crate::signature::{self, Message};

/// The hex SHA-256 of the signed content of a stored record as it is now,
/// by the record type and id a signature names; `None` if there is no such
/// record (or Attest does not know the type).
pub fn current_content_hash(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
) -> diesel::QueryResult<Option<String>> {
    use crate::domain::capa::CapaWorkflow;
    use crate::domain::nonconformance::NcWorkflow;
    use crate::domain::record::{self, CAPA, NONCONFORMANCE};
    fn hash<W: Stored>(
        conn: &mut DbConnection,
        n: Option<i64>,
    ) -> diesel::QueryResult<Option<String>> {
        let Some(n) = n else { return Ok(None) };
        Ok(W::load(conn, n)?.and_then(|r| signature::content_sha256(&W::signed_content(&r)).ok()))
    }
    match record::kind(record_type) {
        Some(k) if *k == NONCONFORMANCE => hash::<NcWorkflow>(conn, k.number(record_id)),
        Some(k) if *k == CAPA => hash::<CapaWorkflow>(conn, k.number(record_id)),
        Some(k) if *k == record::DOCUMENT_VERSION => {
            hash::<crate::domain::document::DocWorkflow>(conn, k.number(record_id))
        }
        Some(k) if *k == record::RISK => {
            hash::<crate::domain::risk::workflow::RiskWorkflow>(conn, k.number(record_id))
        }
        Some(k) if *k == record::RISK_PLAN => {
            hash::<crate::domain::risk::plan::PlanWorkflow>(conn, k.number(record_id))
        }
        Some(k) if *k == record::RISK_REPORT => {
            hash::<crate::domain::risk::report::ReportWorkflow>(conn, k.number(record_id))
        }
        Some(k) if *k == record::TRAINING_ASSIGNMENT => {
            hash::<crate::domain::training::TrainingWorkflow>(conn, k.number(record_id))
        }
        // A user account is signed only by its certification (11.100(c)).
        Some(k) if *k == record::USER => match k.number(record_id) {
            Some(n) if crate::db::repo::users::find(conn, UserId(n))?.is_some() => Ok(
                signature::content_sha256(&super::signing::certification_content(UserId(n))).ok(),
            ),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// One stored signature, checked.
pub struct Checked {
    pub stored: signature::Stored,
    pub outcome: Result<Message, String>,
}

/// Verifies a stored signature as `attest verify --signatures` and every
/// page showing it do: key on file and in the audit trail, Ed25519, and the
/// record's current content.
pub fn check(conn: &mut DbConnection, stored: signature::Stored) -> diesel::QueryResult<Checked> {
    let key = repo::key_on_file(conn, &stored.key_id)?;
    let content = current_content_hash(conn, &stored.record_type, &stored.record_id)?;
    let rounds = earlier_rounds(conn, &stored.record_type, &stored.record_id)?;
    let content = content_signed(&stored, content, &rounds);
    Ok(checked(stored, key.as_ref(), content.as_deref()))
}

/// The hashes of content signed earlier and kept as it was (recomputed
/// from the content kept, never read as stored): each review round of a
/// document version, each acceptance of a risk; empty for any other record.
fn earlier_rounds(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
) -> diesel::QueryResult<Vec<String>> {
    let number = |prefix: &str| {
        record_id
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<i64>().ok())
    };
    let kept: Vec<String> = match (record_type, number("docv-"), number("risk-")) {
        ("document_version", Some(n), _) => crate::db::repo::documents::rounds(conn, n)?
            .into_iter()
            .map(|(_, content)| content)
            .collect(),
        ("risk", _, Some(n)) => crate::db::repo::risks::acceptances(conn, n)?,
        _ => return Ok(Vec::new()),
    };
    Ok(kept
        .into_iter()
        .filter_map(|content| {
            let value: serde_json::Value = serde_json::from_str(&content).ok()?;
            signature::content_sha256(&value).ok()
        })
        .collect())
}

/// The content a signature is checked against: the record's as it is now,
/// or, for a reviewer's signature of a round returned for changes, the
/// content that round was sent out with (WORKFLOWS.md: kept in history,
/// void for approval). A signature whose content is neither is checked
/// against the record's current content, and fails.
fn content_signed(
    stored: &signature::Stored,
    now: Option<String>,
    rounds: &[String],
) -> Option<String> {
    let signed = Message::parse(&stored.message).map(|m| m.content_sha256);
    match signed {
        Some(h) if now.as_ref() != Some(&h) && now.is_some() && rounds.contains(&h) => Some(h),
        _ => now,
    }
}

/// A record's content hash as it is now, already known to the caller (a
/// record page that has just read the record in the same transaction).
pub struct Known<'a> {
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub content: Option<String>,
}

/// Checks a page's signatures as [`check`] does, reading each record's
/// current content and each key once for all of them (a record page's
/// signatures are all of one record, usually by few keys), now; `known`
/// is one record's content the caller has just read.
pub fn check_all(
    conn: &mut DbConnection,
    stored: Vec<signature::Stored>,
    known: Option<Known<'_>>,
) -> diesel::QueryResult<Vec<Checked>> {
    use std::collections::HashMap;
    let mut contents: HashMap<(String, String), Option<String>> = HashMap::new();
    if let Some(k) = known {
        contents.insert((k.record_type.into(), k.record_id.into()), k.content);
    }
    let mut keys = HashMap::new();
    let mut rounds: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut out = Vec::with_capacity(stored.len());
    for s in stored {
        let record = (s.record_type.clone(), s.record_id.clone());
        if !contents.contains_key(&record) {
            let now = current_content_hash(conn, &record.0, &record.1)?;
            contents.insert(record.clone(), now);
        }
        if !rounds.contains_key(&record) {
            let kept = earlier_rounds(conn, &record.0, &record.1)?;
            rounds.insert(record.clone(), kept);
        }
        if !keys.contains_key(&s.key_id) {
            let key = repo::key_on_file(conn, &s.key_id)?;
            keys.insert(s.key_id.clone(), key);
        }
        let content = contents.get(&record).cloned().flatten();
        let content = content_signed(&s, content, rounds.get(&record).map_or(&[], |r| r));
        let key = keys.get(&s.key_id).and_then(Option::as_ref);
        out.push(checked(s, key, content.as_deref()));
    }
    Ok(out)
}

fn checked(
    stored: signature::Stored,
    key: Option<&signature::KeyOnFile>,
    content: Option<&str>,
) -> Checked {
    let outcome = match content {
        None => Err(format!(
            "the signed record {} {} does not exist",
            stored.record_type, stored.record_id
        )),
        Some(now) => signature::verify(&stored, key, Some(now)).map_err(|f| f.to_string()),
    };
    Checked { stored, outcome }
}

/// The result of checking every signature and every signer key.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub ok: bool,
    pub signatures: u64,
    pub keys: u64,
    /// `sig-N: reason` or `key K: reason`, in order.
    pub failures: Vec<String>,
}

/// Checks every signature (in pages, never the whole table at once) and
/// every signer key against the audit trail's record of its issue.
pub fn verify_all(conn: &mut DbConnection) -> diesel::QueryResult<Report> {
    let mut report = Report::default();
    let mut after = 0;
    loop {
        let page = repo::after(conn, after, 500)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for stored in page {
            report.signatures += 1;
            let checked = check(conn, stored)?;
            if let Err(why) = checked.outcome {
                report
                    .failures
                    .push(format!("sig-{}: {why}", checked.stored.id));
            }
        }
    }
    let mut offset = 0;
    loop {
        let (keys, _) = repo::key_page(conn, offset, 500)?;
        if keys.is_empty() {
            break;
        }
        offset += keys.len() as i64;
        for (k, username, _) in keys {
            report.keys += 1;
            if signature::key_id(&k.public_key) != k.key_id {
                report.failures.push(format!(
                    "key {} ({username}): the public key does not hash to its key id: it was replaced",
                    k.key_id
                ));
            } else if repo::issued_in_log(conn, k.user_id, &k.key_id)?.as_deref()
                != Some(k.public_key.as_slice())
            {
                report.failures.push(format!(
                    "key {} ({username}): the audit trail has no matching signature.key_issued entry",
                    k.key_id
                ));
            }
        }
    }
    report.ok = report.failures.is_empty();
    Ok(report)
}
