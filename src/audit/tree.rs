//! The Merkle tree stored beside the log (AUDIT-LOG.md section 2): every
//! complete subtree's hash in `audit_nodes` (level 0 is each entry's leaf
//! hash) and the tree head in `audit_tree`, both written in the transaction
//! of the append. Proofs for any tree size then need O(log n) reads.

use diesel::prelude::*;

use super::AuditError;
use super::merkle::{self, Hash, NodeSource};
use crate::db::schema::{audit_entries, audit_nodes, audit_tree};
use crate::db::{DbConnection, write_tx};

/// The stored tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
    frontier: Vec<Hash>,
}

fn to_hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

/// Reads the tree head.
pub fn head(conn: &mut DbConnection) -> Result<TreeHead, AuditError> {
    read_head(conn, false)
}

/// Reads the tree head for an append: on PostgreSQL the row stays locked
/// until commit, which serialises appends from every app instance; on
/// SQLite the write transaction (`BEGIN IMMEDIATE`) already does.
pub(crate) fn head_for_append(conn: &mut DbConnection) -> Result<TreeHead, AuditError> {
    read_head(conn, true)
}

fn read_head(conn: &mut DbConnection, lock: bool) -> Result<TreeHead, AuditError> {
    let query = audit_tree::table.filter(audit_tree::id.eq(1)).select((
        audit_tree::size,
        audit_tree::root,
        audit_tree::frontier,
    ));
    let (size, root, frontier): (i64, Vec<u8>, Vec<u8>) = match conn {
        DbConnection::Postgres(pg) if lock => query.for_update().first(pg)?,
        _ => query.first(conn)?,
    };
    let bad = || AuditError::CorruptTree("the stored tree head is malformed".into());
    if frontier.len() % 32 != 0 {
        return Err(bad());
    }
    Ok(TreeHead {
        size: u64::try_from(size).map_err(|_| bad())?,
        root: to_hash(&root).ok_or_else(bad)?,
        frontier: frontier.chunks_exact(32).filter_map(to_hash).collect(),
    })
}

/// Adds the entry at index `tree.size` (its leaf hash `leaf`) to the tree
/// and moves `tree` on; called inside the append's transaction, after the
/// entry row is written, with the head read by `head_for_append`.
pub(crate) fn advance(
    conn: &mut DbConnection,
    tree: &mut TreeHead,
    leaf: &Hash,
) -> Result<(), AuditError> {
    let seq = tree.size;
    let (frontier, created) = merkle::frontier_push(&tree.frontier, seq, *leaf);
    for (level, index, hash) in created {
        diesel::insert_into(audit_nodes::table)
            .values((
                audit_nodes::level.eq(i32::try_from(level).unwrap_or(i32::MAX)),
                audit_nodes::idx.eq(i64::try_from(index).unwrap_or(i64::MAX)),
                audit_nodes::hash.eq(&hash[..]),
            ))
            .execute(conn)?;
    }
    let root = merkle::frontier_root(&frontier);
    diesel::update(audit_tree::table.filter(audit_tree::id.eq(1)))
        .set((
            audit_tree::size.eq(i64::try_from(seq + 1).unwrap_or(i64::MAX)),
            audit_tree::root.eq(&root[..]),
            audit_tree::frontier.eq(frontier.concat()),
        ))
        .execute(conn)?;
    *tree = TreeHead {
        size: seq + 1,
        root,
        frontier,
    };
    Ok(())
}

/// Builds the tree for entries appended before it existed (an installation
/// created before the tree was kept). Returns how many entries were added.
pub fn catch_up(conn: &mut DbConnection) -> Result<u64, AuditError> {
    const BATCH: u64 = 1_000;
    let mut added = 0;
    loop {
        let step = write_tx(conn, |conn| -> Result<u64, AuditError> {
            let log = super::size(conn)?;
            let tree = head(conn)?;
            if tree.size >= log {
                return Ok(0);
            }
            let end = log.min(tree.size + BATCH);
            let hashes: Vec<Vec<u8>> = audit_entries::table
                .filter(
                    audit_entries::seq
                        .ge(tree.size as i64)
                        .and(audit_entries::seq.lt(end as i64)),
                )
                .order(audit_entries::seq.asc())
                .select(audit_entries::leaf_hash)
                .load(conn)?;
            let mut tree = tree;
            for h in &hashes {
                let h = to_hash(h).ok_or_else(|| {
                    AuditError::CorruptTree(format!("entry {} has no 32-byte leaf hash", tree.size))
                })?;
                advance(conn, &mut tree, &h)?;
            }
            Ok(hashes.len() as u64)
        })?;
        if step == 0 {
            return Ok(added);
        }
        added += step;
    }
}

/// Complete-subtree hashes read from the database.
/// The stored tree as a source of subtree hashes, one query per hash. For a
/// proof, `Prefetched` reads them all at once.
pub struct DbNodes<'a>(pub &'a mut DbConnection);

/// Subtree hashes read in one query per table for one computation: a first,
/// dry run of the computation records which subtrees it asks for (which
/// depends only on the sizes and indexes involved, never on hash values),
/// they are read together, and the computation runs on them.
pub struct Prefetched {
    hashes: std::collections::HashMap<(u32, u64), Hash>,
}

/// Records the subtrees a computation asks for, answering with zeros.
#[derive(Default)]
struct Recorder(Vec<(u32, u64)>);

impl NodeSource for Recorder {
    type Error = AuditError;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, AuditError> {
        self.0.push((level, index));
        Ok([0; 32])
    }
}

impl Prefetched {
    /// The hashes `run` asks for, read from the stored tree.
    pub fn for_run<T, E>(
        conn: &mut DbConnection,
        run: impl Fn(&mut dyn FnMut(u32, u64) -> Result<Hash, AuditError>) -> Result<T, E>,
    ) -> Result<Self, AuditError> {
        let mut rec = Recorder::default();
        let _ = run(&mut |l, i| rec.node(l, i));
        Self::load(conn, &rec.0)
    }

    fn load(conn: &mut DbConnection, wanted: &[(u32, u64)]) -> Result<Self, AuditError> {
        let mut hashes = std::collections::HashMap::new();
        let leaves: Vec<i64> = wanted
            .iter()
            .filter(|(l, _)| *l == 0)
            .filter_map(|(_, i)| i64::try_from(*i).ok())
            .collect();
        if !leaves.is_empty() {
            let rows: Vec<(i64, Vec<u8>)> = audit_entries::table
                .filter(audit_entries::seq.eq_any(&leaves))
                .select((audit_entries::seq, audit_entries::leaf_hash))
                .load(conn)?;
            for (seq, bytes) in rows {
                if let (Ok(i), Some(h)) = (u64::try_from(seq), to_hash(&bytes)) {
                    hashes.insert((0, i), h);
                }
            }
        }
        let inner: Vec<(i32, i64)> = wanted
            .iter()
            .filter(|(l, _)| *l > 0)
            .filter_map(|(l, i)| Some((i32::try_from(*l).ok()?, i64::try_from(*i).ok()?)))
            .collect();
        if !inner.is_empty() {
            let mut q = audit_nodes::table
                .select((audit_nodes::level, audit_nodes::idx, audit_nodes::hash))
                .into_boxed();
            for (l, i) in &inner {
                q = q.or_filter(audit_nodes::level.eq(*l).and(audit_nodes::idx.eq(*i)));
            }
            let rows: Vec<(i32, i64, Vec<u8>)> = q.load(conn)?;
            for (l, i, bytes) in rows {
                if let (Ok(l), Ok(i), Some(h)) =
                    (u32::try_from(l), u64::try_from(i), to_hash(&bytes))
                {
                    hashes.insert((l, i), h);
                }
            }
        }
        Ok(Self { hashes })
    }
}

impl NodeSource for Prefetched {
    type Error = AuditError;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, AuditError> {
        self.hashes.get(&(level, index)).copied().ok_or_else(|| {
            AuditError::CorruptTree(format!("subtree ({level}, {index}) is not stored"))
        })
    }
}

/// An inclusion proof (RFC 9162 2.1.3) from the stored tree, its hashes
/// read in one query, and the leaf's hash.
pub fn inclusion_proof(
    conn: &mut DbConnection,
    index: u64,
    size: u64,
) -> Result<(Vec<Hash>, Hash), merkle::ProofError<AuditError>> {
    let mut pre = Prefetched::for_run(conn, |node| {
        let mut src = FnSource(node);
        merkle::inclusion_proof(&mut src, index, size)?;
        src.node(0, index).map_err(merkle::ProofError::Source)
    })
    .map_err(merkle::ProofError::Source)?;
    let proof = merkle::inclusion_proof(&mut pre, index, size)?;
    let leaf = pre.node(0, index).map_err(merkle::ProofError::Source)?;
    Ok((proof, leaf))
}

/// A consistency proof (RFC 9162 2.1.4) from the stored tree, its hashes
/// read in one query.
pub fn consistency_proof(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, merkle::ProofError<AuditError>> {
    let mut pre = Prefetched::for_run(conn, |node| {
        merkle::consistency_proof(&mut FnSource(node), from, to)
    })
    .map_err(merkle::ProofError::Source)?;
    merkle::consistency_proof(&mut pre, from, to)
}

/// A closure as a source of subtree hashes.
struct FnSource<'f>(&'f mut dyn FnMut(u32, u64) -> Result<Hash, AuditError>);

impl NodeSource for FnSource<'_> {
    type Error = AuditError;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, AuditError> {
        (self.0)(level, index)
    }
}

impl NodeSource for DbNodes<'_> {
    type Error = AuditError;

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, AuditError> {
        let missing =
            || AuditError::CorruptTree(format!("subtree ({level}, {index}) is not stored"));
        let index = i64::try_from(index).map_err(|_| missing())?;
        let bytes: Option<Vec<u8>> = if level == 0 {
            audit_entries::table
                .filter(audit_entries::seq.eq(index))
                .select(audit_entries::leaf_hash)
                .first(self.0)
                .optional()?
        } else {
            audit_nodes::table
                .filter(
                    audit_nodes::level
                        .eq(level as i32)
                        .and(audit_nodes::idx.eq(index)),
                )
                .select(audit_nodes::hash)
                .first(self.0)
                .optional()?
        };
        bytes.as_deref().and_then(to_hash).ok_or_else(missing)
    }
}
