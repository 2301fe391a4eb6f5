//! Signed checkpoints (AUDIT-LOG.md section 3): the tree head signed by the
//! log key as a C2SP signed note, stored once per tree size, and written to a
//! file outside the database. A new checkpoint is signed only after the tree
//! is proven consistent with the previous one.

use std::path::Path;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::AuditError;
use super::key::LogKey;
use super::merkle::{self, Hash};
use super::note::{self, Checkpoint};
use super::tree::{self, DbNodes};
use crate::db::schema::audit_checkpoints;
use crate::db::{DbConnection, naive, write_tx};

/// A stored checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

/// The checkpoint with the largest tree size, if any was signed.
pub fn latest(conn: &mut DbConnection) -> Result<Option<Stored>, AuditError> {
    stored(conn, None)
}

/// The first signed checkpoint whose tree holds entry `seq`, if one was signed yet.
pub fn first_covering(conn: &mut DbConnection, seq: u64) -> Result<Option<Stored>, AuditError> {
    stored(conn, Some(i64::try_from(seq).unwrap_or(i64::MAX)))
}

/// The latest checkpoint, or the smallest one with more than `after` entries.
fn stored(conn: &mut DbConnection, after: Option<i64>) -> Result<Option<Stored>, AuditError> {
    let q = audit_checkpoints::table.into_boxed();
    let q = match after {
        None => q.order(audit_checkpoints::size.desc()),
        Some(seq) => q
            .filter(audit_checkpoints::size.gt(seq))
            .order(audit_checkpoints::size.asc()),
    };
    let row: Option<(i64, Vec<u8>, String)> = q
        .select((
            audit_checkpoints::size,
            audit_checkpoints::root,
            audit_checkpoints::note,
        ))
        .first(conn)
        .optional()?;
    row.map(|(size, root, note)| {
        let root: Hash = root.try_into().map_err(|_| {
            AuditError::CorruptTree("a stored checkpoint root is not 32 bytes".into())
        })?;
        Ok(Stored {
            size: size as u64,
            root,
            note,
        })
    })
    .transpose()
}

/// Signs and stores a checkpoint of the current tree unless the latest one
/// already covers it; returns the latest checkpoint either way. Refuses, and
/// says so in the log, when the tree is not consistent with the previous
/// checkpoint (a rewritten or truncated log).
pub fn sign_if_grown(
    conn: &mut DbConnection,
    key: &LogKey,
    now: DateTime<Utc>,
) -> Result<Stored, AuditError> {
    write_tx(conn, |conn| {
        let head = tree::head(conn)?;
        let previous = latest(conn)?;
        if let Some(prev) = &previous {
            if prev.size == head.size && prev.root == head.root {
                return Ok(prev.clone());
            }
            let consistent = prev.size <= head.size
                && match merkle::consistency_proof(&mut DbNodes(conn), prev.size, head.size) {
                    Ok(proof) => merkle::verify_consistency(
                        prev.size, head.size, &prev.root, &head.root, &proof,
                    )
                    .is_ok(),
                    Err(_) => false,
                };
            if !consistent {
                tracing::error!(
                    checkpoint_size = prev.size,
                    tree_size = head.size,
                    "REFUSING TO SIGN: the audit tree is not consistent with the last signed checkpoint"
                );
                return Err(AuditError::Inconsistent {
                    signed: prev.size,
                    tree: head.size,
                });
            }
        }
        let body = Checkpoint {
            origin: key.name().to_string(),
            size: head.size,
            root: head.root,
        }
        .body();
        let note = note::sign(key, &body).map_err(|e| AuditError::CorruptTree(e.to_string()))?;
        diesel::insert_into(audit_checkpoints::table)
            .values((
                audit_checkpoints::size.eq(head.size as i64),
                audit_checkpoints::root.eq(&head.root[..]),
                audit_checkpoints::note.eq(&note),
                audit_checkpoints::signed_at.eq(naive(now)),
            ))
            .execute(conn)?;
        Ok(Stored {
            size: head.size,
            root: head.root,
            note,
        })
    })
}

/// Writes the checkpoint to `path` atomically (a new file renamed over the old).
/// Each write has its own temporary file: the scheduler's job and a reader's
/// request may sign at the same moment, and a shared one would let one writer
/// rename the other's file away before it was synced.
pub fn write_file(path: &Path, checkpoint: &Stored) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    std::fs::write(&tmp, checkpoint.note.as_bytes())?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// What the checkpoint file outside the database says about the database's tree.
#[derive(Debug, PartialEq, Eq)]
pub enum FileCheck {
    /// No file yet (a new installation) or the tree extends the file's checkpoint.
    Consistent,
    /// The database holds fewer entries than were signed: restored or truncated.
    Behind { signed: u64, tree: u64 },
    /// The database's tree at the signed size has another root: a different log.
    Forked { signed: u64 },
}

/// Compares the database's tree with the checkpoint in `path`, which must be
/// signed by `key`. A file that is not a valid checkpoint of this log is an error.
pub fn check_file(conn: &mut DbConnection, key: &LogKey, path: &Path) -> Result<FileCheck, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileCheck::Consistent),
        Err(e) => {
            return Err(format!(
                "cannot read the checkpoint file {}: {e}",
                path.display()
            ));
        }
    };
    let verifier = note::NoteVerifier::parse(&key.vkey()).map_err(|e| e.to_string())?;
    let body = note::open(&text, &verifier).map_err(|e| {
        format!(
            "the checkpoint file {} does not verify: {e}",
            path.display()
        )
    })?;
    let cp = Checkpoint::parse(body).map_err(|e| e.to_string())?;
    let tree = tree::head(conn).map_err(|e| e.to_string())?;
    if tree.size < cp.size {
        return Ok(FileCheck::Behind {
            signed: cp.size,
            tree: tree.size,
        });
    }
    let root = merkle::root(&mut DbNodes(conn), cp.size).map_err(|e| format!("{e:?}"))?;
    Ok(if root == cp.root {
        FileCheck::Consistent
    } else {
        FileCheck::Forked { signed: cp.size }
    })
}

/// Why a checkpoint could not be signed and written.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("cannot write the checkpoint file {path} ({source})")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Signs a checkpoint if the log grew (another instance having signed the
/// same tree size first is no error: its checkpoint is the one kept), and
/// writes the latest checkpoint to `file`.
pub fn sign_and_write(
    conn: &mut DbConnection,
    key: &LogKey,
    file: &Path,
    now: DateTime<Utc>,
) -> Result<Stored, SignError> {
    let signed = match sign_if_grown(conn, key, now) {
        Err(AuditError::Storage(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => latest(conn)?.ok_or(AuditError::Storage(diesel::result::Error::NotFound))?,
        other => other?,
    };
    write_file(file, &signed).map_err(|source| SignError::File {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheduler's job and a request may write the checkpoint file at
    /// the same moment: every write succeeds and the file is always whole.
    #[test]
    fn writers_at_the_same_moment_each_succeed_and_leave_a_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let cp = Stored {
                            size: t * 100 + i,
                            root: [0; 32],
                            note: format!("origin\n{}\nroot\n\n— sig\n", t * 100 + i),
                        };
                        write_file(&path, &cp).unwrap();
                        let text = std::fs::read_to_string(&path).unwrap();
                        assert!(text.starts_with("origin\n") && text.ends_with("sig\n"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "temporary files are renamed, never left");
    }
}
