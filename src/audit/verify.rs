//! Offline verification of an exported audit log (AUDIT-LOG.md section 5):
//! every line canonical JSON of this log with seq 0..n-1, the tree recomputed
//! from the leaf bytes, the checkpoint's signature and root, and each earlier
//! checkpoint consistent with it. Each failure says which entry and why.

use std::io::BufRead;

use serde::Serialize;

use super::canonical;
use super::merkle::{self, MemoryTree};
use super::note::{self, Checkpoint, NoteVerifier};

/// One reason the log does not verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The 0-based line (entry) at fault, when one can be named.
    pub entry: Option<u64>,
    pub error: String,
}

/// The result of a verification, also printed with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub entries: u64,
    pub checkpoint_size: Option<u64>,
    pub checkpoint_root: Option<String>,
    pub checkpoints_checked: usize,
    pub failures: Vec<Failure>,
}

fn fail(entry: Option<u64>, error: impl Into<String>) -> Failure {
    Failure {
        entry,
        error: error.into(),
    }
}

/// An empty report and the parsed verifier key, or a failed report when the
/// key itself is malformed.
fn begin(vkey: &str) -> Result<(Report, NoteVerifier), Report> {
    let mut report = Report {
        ok: false,
        entries: 0,
        checkpoint_size: None,
        checkpoint_root: None,
        checkpoints_checked: 0,
        failures: Vec::new(),
    };
    match NoteVerifier::parse(vkey) {
        Ok(verifier) => Ok((report, verifier)),
        Err(e) => {
            report.failures.push(fail(None, e.to_string()));
            Err(report)
        }
    }
}

/// Verifies `entries` (JSON lines) against the signed `checkpoint` note and
/// the `previous` signed notes, with the verifier key `vkey`.
pub fn verify(
    entries: impl BufRead + Send,
    checkpoint: &str,
    vkey: &str,
    previous: &[String],
) -> Report {
    let (mut report, verifier) = match begin(vkey) {
        Ok(pair) => pair,
        Err(failed) => return failed,
    };
    let open = |text: &str, what: &str| -> Result<Checkpoint, Failure> {
        let body = note::open(text, &verifier).map_err(|e| fail(None, format!("{what}: {e}")))?;
        let cp = Checkpoint::parse(body).map_err(|e| fail(None, format!("{what}: {e}")))?;
        if cp.origin != verifier.name {
            return Err(fail(
                None,
                format!(
                    "{what}: it is for log {:?}, not {:?}",
                    cp.origin, verifier.name
                ),
            ));
        }
        Ok(cp)
    };
    let cp = match open(checkpoint, "the checkpoint") {
        Ok(cp) => cp,
        Err(f) => {
            report.failures.push(f);
            return report;
        }
    };
    report.checkpoint_size = Some(cp.size);
    report.checkpoint_root = Some(hex::encode(cp.root));

    // Entries: canonical, of this log, seq 0..n-1 in order; checked and
    // hashed a block at a time, each block's lines split across the cores.
    let origin = origin_json(&verifier.name);
    let mut tree = MemoryTree::new();
    // One thread reads the next block while the cores check this one.
    let failure = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || read_blocks(entries, &tx));
        for block in rx {
            let (buf, ends, error) = block;
            let (runs, failure) = check_block(&buf, &ends, tree.size(), &origin);
            for levels in runs {
                tree.append_levels(levels);
            }
            if failure.is_some() {
                return failure;
            }
            if let Some(e) = error {
                let at = tree.size();
                return Some(fail(Some(at), format!("cannot read the entries file: {e}")));
            }
        }
        None
    });
    if let Some(f) = failure {
        report.failures.push(f);
        return finish(report, &tree);
    }
    report.entries = tree.size();
    if tree.size() < cp.size {
        report.failures.push(fail(Some(tree.size()), format!(
            "the file ends after {} entries but the checkpoint covers {}: entries were removed from the end",
            tree.size(),
            cp.size
        )));
        return finish(report, &tree);
    }
    match merkle::root(&mut tree, cp.size) {
        Ok(root) if root == cp.root => report.checkpoints_checked += 1,
        _ => report.failures.push(fail(None, format!(
            "the entries 0..{} do not hash to the checkpoint's root: an entry was changed, added or removed",
            cp.size
        ))),
    }

    // Earlier checkpoints: each a prefix of this tree, no two roots for one size.
    let mut seen: Vec<(u64, merkle::Hash)> = vec![(cp.size, cp.root)];
    for (n, text) in previous.iter().enumerate() {
        let what = format!("previous checkpoint {}", n + 1);
        let prev = match open(text, &what) {
            Ok(p) => p,
            Err(f) => {
                report.failures.push(f);
                continue;
            }
        };
        if seen
            .iter()
            .any(|(size, root)| *size == prev.size && *root != prev.root)
        {
            report.failures.push(fail(
                None,
                format!(
                    "two different roots were signed for tree size {} (a fork)",
                    prev.size
                ),
            ));
            continue;
        }
        seen.push((prev.size, prev.root));
        if prev.size > cp.size {
            report.failures.push(fail(
                None,
                format!(
                    "{what} covers {} entries, more than the checkpoint's {}",
                    prev.size, cp.size
                ),
            ));
            continue;
        }
        match merkle::root(&mut tree, prev.size) {
            Ok(root) if root == prev.root => report.checkpoints_checked += 1,
            _ => report.failures.push(fail(None, format!(
                "{what} (size {}) is not consistent with these entries: the first {} entries were changed after it was signed",
                prev.size, prev.size
            ))),
        }
    }
    finish(report, &tree)
}

/// Verifies the log as stored in the database: every entry canonical with
/// seq 0..n-1 and its stored leaf hash right, the stored tree head equal to
/// the tree recomputed from the leaf bytes, and every stored checkpoint
/// signed by `vkey` with the root of the recomputed tree at its size.
pub fn verify_database(conn: &mut crate::db::DbConnection, vkey: &str) -> Report {
    let (mut report, verifier) = match begin(vkey) {
        Ok(pair) => pair,
        Err(failed) => return failed,
    };
    let size = match super::size(conn) {
        Ok(n) => n,
        Err(e) => {
            report
                .failures
                .push(fail(None, format!("cannot read the log: {e}")));
            return report;
        }
    };
    let origin = origin_json(&verifier.name);
    let mut tree = MemoryTree::new();
    let mut start = 0;
    while start < size {
        let end = (start + 10_000).min(size);
        let batch = match super::entries_with_columns(conn, start, end) {
            Ok(b) => b,
            Err(e) => {
                report
                    .failures
                    .push(fail(Some(start), format!("cannot read the log: {e}")));
                return finish(report, &tree);
            }
        };
        for e in batch {
            let at = tree.size();
            if e.seq as u64 != at {
                report.failures.push(fail(
                    Some(at),
                    format!("entry {at} is missing from the table"),
                ));
                return finish(report, &tree);
            }
            if let Some(f) = check_entry(&e.leaf, at, &origin) {
                report.failures.push(f);
                return finish(report, &tree);
            }
            let hash = merkle::leaf_hash(&e.leaf);
            if e.leaf_hash != hash {
                report.failures.push(fail(
                    Some(at),
                    format!("entry {at}'s stored leaf hash does not match its bytes"),
                ));
                return finish(report, &tree);
            }
            if let Some(f) = check_columns(&e, at) {
                report.failures.push(f);
                return finish(report, &tree);
            }
            tree.push(hash);
        }
        start = end;
    }
    if let Some(f) = compare_nodes(conn, &mut tree) {
        report.failures.push(f);
    }
    match super::tree::head(conn) {
        Ok(head) if head.size == size && merkle::root(&mut tree, size).ok() == Some(head.root) => {}
        Ok(head) => report.failures.push(fail(None, format!(
            "the stored tree head (size {}) does not match the tree recomputed from the {size} entries",
            head.size
        ))),
        Err(e) => report.failures.push(fail(None, e.to_string())),
    }
    let checkpoints: Result<Vec<(i64, String)>, _> = {
        use crate::db::schema::audit_checkpoints as c;
        use diesel::prelude::*;
        c::table
            .order(c::size.asc())
            .select((c::size, c::note))
            .load(conn)
    };
    match checkpoints {
        Ok(list) => {
            for (n, text) in list {
                let what = format!("the stored checkpoint of size {n}");
                let cp = match note::open(&text, &verifier)
                    .map_err(|e| e.to_string())
                    .and_then(|b| Checkpoint::parse(b).map_err(|e| e.to_string()))
                {
                    Ok(cp) => cp,
                    Err(e) => {
                        report
                            .failures
                            .push(fail(None, format!("{what} does not verify: {e}")));
                        continue;
                    }
                };
                if cp.size > size || merkle::root(&mut tree, cp.size).ok() != Some(cp.root) {
                    report.failures.push(fail(None, format!("{what} does not match the entries: the first {} entries changed after it was signed", cp.size)));
                    continue;
                }
                report.checkpoints_checked += 1;
                report.checkpoint_size = Some(cp.size);
                report.checkpoint_root = Some(hex::encode(cp.root));
            }
        }
        Err(e) => report
            .failures
            .push(fail(None, format!("cannot read the checkpoints: {e}"))),
    }
    finish(report, &tree)
}

/// Compares every stored complete-subtree hash (`audit_nodes`) with the tree
/// recomputed from the entries: proofs are served from those rows, so a
/// forged row would make the server hand out proofs that do not verify.
fn compare_nodes(conn: &mut crate::db::DbConnection, tree: &mut MemoryTree) -> Option<Failure> {
    use crate::db::schema::audit_nodes as n;
    use diesel::prelude::*;
    const BATCH: i64 = 10_000;
    let mut after: (i32, i64) = (0, -1);
    let mut count = 0u64;
    loop {
        let rows: Vec<(i32, i64, Vec<u8>)> = match n::table
            .filter(
                n::level
                    .gt(after.0)
                    .or(n::level.eq(after.0).and(n::idx.gt(after.1))),
            )
            .order((n::level.asc(), n::idx.asc()))
            .limit(BATCH)
            .select((n::level, n::idx, n::hash))
            .load(conn)
        {
            Ok(rows) => rows,
            Err(e) => return Some(fail(None, format!("cannot read the stored tree: {e}"))),
        };
        let Some(last) = rows.last() else {
            break;
        };
        after = (last.0, last.1);
        for (level, idx, hash) in &rows {
            count += 1;
            let expected = u32::try_from(*level)
                .ok()
                .zip(u64::try_from(*idx).ok())
                .filter(|(l, _)| *l > 0)
                .and_then(|(l, i)| merkle::NodeSource::node(tree, l, i).ok());
            match expected {
                Some(h) if h[..] == hash[..] => {}
                Some(_) => {
                    return Some(fail(
                        None,
                        format!(
                            "the stored tree node (level {level}, index {idx}) does not match the entries it covers"
                        ),
                    ));
                }
                None => {
                    return Some(fail(
                        None,
                        format!(
                            "the stored tree has a node (level {level}, index {idx}) that covers no complete run of entries"
                        ),
                    ));
                }
            }
        }
    }
    let expected = tree.interior_count();
    (count != expected).then(|| {
        fail(
            None,
            format!(
                "the stored tree has {count} nodes above the entries; {expected} were expected"
            ),
        )
    })
}

fn finish(mut report: Report, tree: &MemoryTree) -> Report {
    report.entries = report.entries.max(tree.size());
    report.ok = report.failures.is_empty();
    report
}

/// Lines checked per block by `verify`.
const BLOCK_LINES: usize = 16_384;

/// A block of lines (line i ends at `ends[i]`; empty lines dropped), and the
/// read error that ended the input early, if one did.
type Block = (Vec<u8>, Vec<usize>, Option<std::io::Error>);

/// Reads `entries` a block at a time into `tx`, until the end, a read error,
/// or the receiver stops listening (the check failed).
fn read_blocks(mut entries: impl BufRead, tx: &std::sync::mpsc::SyncSender<Block>) {
    loop {
        let (mut buf, mut ends) = (Vec::with_capacity(8 << 20), Vec::with_capacity(BLOCK_LINES));
        let mut end = None;
        while ends.len() < BLOCK_LINES {
            let before = buf.len();
            match entries.read_until(b'\n', &mut buf) {
                Ok(0) => {
                    end = Some(None);
                    break;
                }
                Ok(_) => {
                    if buf.last() == Some(&b'\n') {
                        buf.pop();
                    }
                    if buf.len() > before {
                        ends.push(buf.len());
                    }
                }
                Err(e) => {
                    buf.truncate(before);
                    end = Some(Some(e));
                    break;
                }
            }
        }
        let done = end.is_some();
        if tx.send((buf, ends, end.flatten())).is_err() || done {
            return;
        }
    }
}

/// Checks the lines of one block (line i ends at `ends[i]`, the next starts
/// there) in order, split across the cores in runs of a power of two lines,
/// each run hashed into its complete subtrees on its own thread. Returns the
/// runs up to the first failure, and it.
fn check_block(
    buf: &[u8],
    ends: &[usize],
    base: u64,
    origin: &[u8],
) -> (Vec<Vec<Vec<merkle::Hash>>>, Option<Failure>) {
    let n = ends.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let chunk = (BLOCK_LINES / threads.next_power_of_two()).max(1);
    let run = |lo: usize, hi: usize| {
        let mut leaves = Vec::with_capacity(hi - lo);
        for i in lo..hi {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            let line = &buf[start..ends[i]];
            if let Some(f) = check_entry(line, base + i as u64, origin) {
                return (merkle::subtree_levels(leaves), Some(f));
            }
            leaves.push(merkle::leaf_hash(line));
        }
        (merkle::subtree_levels(leaves), None)
    };
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|lo| scope.spawn(move || run(lo, (lo + chunk).min(n))))
            .collect();
        let mut done = Vec::with_capacity(parts.len());
        let mut checked = 0u64;
        for part in parts {
            match part.join() {
                Ok((levels, failure)) => {
                    checked += levels.first().map_or(0, |l| l.len() as u64);
                    done.push(levels);
                    if failure.is_some() {
                        return (done, failure);
                    }
                }
                Err(_) => {
                    let at = Some(base + checked);
                    return (
                        done,
                        Some(fail(at, "the check of this entry stopped unexpectedly")),
                    );
                }
            }
        }
        (done, None)
    })
}

/// The log's name as it appears in an entry: a canonical JSON string.
fn origin_json(origin: &str) -> Vec<u8> {
    canonical::to_vec(&serde_json::Value::String(origin.to_string())).unwrap_or_default()
}

/// Checks one line; `expected` is its seq and `origin` the log's name as
/// `origin_json` gives it. The one-pass canonical check decides; only a line
/// that fails it is parsed again to say why.
/// Compares the columns stored beside an entry for queries (time, actor,
/// action, entity type, id and key) with what its leaf bytes say; the first
/// that differs is named. An edited column would hide an entry from a
/// record's History or put it under another record.
fn check_columns(e: &super::StoredColumns, at: u64) -> Option<Failure> {
    use serde_json::Value;
    let Ok(leaf) = serde_json::from_slice::<Value>(&e.leaf) else {
        return Some(fail(Some(at), format!("entry {at} is not valid JSON")));
    };
    let text = |v: &Value| v.as_str().map(str::to_string);
    let entity = &leaf["entity"];
    let stored_at = super::format_time(e.at.and_utc());
    let columns: [(&str, Option<String>, Option<String>); 6] = [
        ("at", Some(stored_at), text(&leaf["at"])),
        (
            "actor_id",
            Some(e.actor_id.clone()),
            text(&leaf["actor"]["id"]),
        ),
        ("action", Some(e.action.clone()), text(&leaf["action"])),
        ("entity_type", e.entity_type.clone(), text(&entity["type"])),
        ("entity_id", e.entity_id.clone(), text(&entity["id"])),
        ("entity_key", e.entity_key.clone(), text(&entity["key"])),
    ];
    let shown = |v: &Option<String>| {
        v.as_deref()
            .map_or("null".to_string(), |s| format!("{s:?}"))
    };
    columns
        .into_iter()
        .find(|(_, stored, leaf)| stored != leaf)
        .map(|(column, stored, leaf)| {
            fail(
                Some(at),
                format!(
                    "entry {at}'s stored {column} column is {} but its bytes say {}: the column was edited",
                    shown(&stored),
                    shown(&leaf)
                ),
            )
        })
}

fn check_entry(line: &[u8], expected: u64, origin: &[u8]) -> Option<Failure> {
    let at = Some(expected);
    let (mut seq, mut log_ok) = (None, false);
    let canonical = canonical::check(line, &mut |name, raw| match name {
        "seq" => {
            seq = std::str::from_utf8(raw)
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
        }
        "log" => log_ok = raw == origin,
        _ => {}
    });
    if !canonical {
        return Some(match serde_json::from_slice::<serde_json::Value>(line) {
            Err(e) => fail(at, format!("entry {expected} is not valid JSON: {e}")),
            Ok(_) => fail(
                at,
                format!(
                    "entry {expected} is not in canonical (RFC 8785) form: its bytes were edited"
                ),
            ),
        });
    }
    match seq {
        Some(seq) if seq == expected => {}
        Some(seq) if seq > expected => {
            return Some(fail(
                at,
                format!("entry {expected} is missing: the next line has seq {seq}"),
            ));
        }
        Some(seq) => {
            return Some(fail(
                at,
                format!("line {expected} has seq {seq}: entries are out of order or repeated"),
            ));
        }
        None => return Some(fail(at, format!("entry {expected} has no seq"))),
    }
    if !log_ok {
        return Some(fail(at, format!("entry {expected} belongs to another log")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::key::LogKey;
    use crate::audit::{Actor, NewEntry, leaf_bytes};

    const ORIGIN: &str = "verify.test/audit";

    fn key() -> LogKey {
        LogKey::generate(ORIGIN).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn lines(n: u64) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let e = NewEntry::new(
                    ORIGIN,
                    chrono::DateTime::UNIX_EPOCH,
                    Actor::system(),
                    "test.entry",
                )
                .reason(format!("entry number {i}"));
                leaf_bytes(i, &e).unwrap_or_default()
            })
            .collect()
    }

    fn checkpoint(key: &LogKey, lines: &[Vec<u8>]) -> String {
        let mut t = MemoryTree::new();
        for l in lines {
            t.push(merkle::leaf_hash(l));
        }
        let root = merkle::root(&mut t, lines.len() as u64).unwrap_or(merkle::EMPTY_ROOT);
        note::sign(
            key,
            &Checkpoint {
                origin: ORIGIN.into(),
                size: lines.len() as u64,
                root,
            }
            .body(),
        )
        .unwrap_or_default()
    }

    fn file(lines: &[Vec<u8>]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect()
    }

    fn run(lines: &[Vec<u8>], cp: &str, key: &LogKey, previous: &[String]) -> Report {
        verify(&file(lines)[..], cp, &key.vkey(), previous)
    }

    fn first_error(r: &Report) -> String {
        r.failures
            .first()
            .map(|f| f.error.clone())
            .unwrap_or_default()
    }

    #[test]
    fn an_untouched_export_verifies_with_its_previous_checkpoints() {
        let k = key();
        let all = lines(40);
        let previous = vec![checkpoint(&k, &all[..7]), checkpoint(&k, &all[..32])];
        let r = run(&all, &checkpoint(&k, &all), &k, &previous);
        assert!(r.ok, "{:?}", r.failures);
        assert_eq!(
            (r.entries, r.checkpoint_size, r.checkpoints_checked),
            (40, Some(40), 3)
        );
    }

    #[test]
    fn each_kind_of_tampering_fails_with_its_own_error() {
        let k = key();
        let all = lines(20);
        let cp = checkpoint(&k, &all);

        // One byte of a leaf edited (breaks the canonical form).
        let mut edited = all.clone();
        edited[5] = String::from_utf8_lossy(&edited[5])
            .replacen("\"reason\":", "\"reason\" :", 1)
            .into_bytes();
        let r = run(&edited, &cp, &k, &[]);
        assert_eq!(r.failures[0].entry, Some(5));
        assert!(
            first_error(&r).contains("not in canonical"),
            "{}",
            first_error(&r)
        );

        // A leaf rewritten, still canonical (as if its stored hash were rewritten too).
        let mut rewritten = all.clone();
        rewritten[5] = String::from_utf8_lossy(&rewritten[5])
            .replace("entry number 5", "entry number X")
            .into_bytes();
        let r = run(&rewritten, &cp, &k, &[]);
        assert!(
            first_error(&r).contains("do not hash to the checkpoint's root"),
            "{}",
            first_error(&r)
        );

        // A middle entry deleted.
        let mut deleted = all.clone();
        deleted.remove(7);
        let r = run(&deleted, &cp, &k, &[]);
        assert_eq!(r.failures[0].entry, Some(7));
        assert!(
            first_error(&r).contains("entry 7 is missing"),
            "{}",
            first_error(&r)
        );

        // Two entries swapped.
        let mut swapped = all.clone();
        swapped.swap(3, 4);
        let r = run(&swapped, &cp, &k, &[]);
        assert_eq!(r.failures[0].entry, Some(3));
        assert!(
            first_error(&r).contains("entry 3 is missing"),
            "{}",
            first_error(&r)
        );

        // The tail deleted, below the checkpoint.
        let r = run(&all[..15], &cp, &k, &[]);
        assert!(
            first_error(&r).contains("removed from the end"),
            "{}",
            first_error(&r)
        );

        // A checkpoint signed by another key, and one with a mismatched key id.
        let stranger = LogKey::generate(ORIGIN).unwrap_or_else(|e| unreachable!("{e}"));
        let r = run(&all, &checkpoint(&stranger, &all), &k, &[]);
        assert!(
            first_error(&r).contains("not signed by"),
            "{}",
            first_error(&r)
        );
        let vkey = k.vkey();
        let (name, rest) = vkey.split_once('+').unwrap_or_default();
        let bad_id = format!(
            "{name}+00000000+{}",
            rest.split_once('+').map(|x| x.1).unwrap_or_default()
        );
        let r = verify(&file(&all)[..], &cp, &bad_id, &[]);
        assert!(
            first_error(&r).contains("key id does not match"),
            "{}",
            first_error(&r)
        );

        // Two different roots signed for the same size (a fork).
        let mut other = all.clone();
        other[2] = String::from_utf8_lossy(&other[2])
            .replace("entry number 2", "entry number Z")
            .into_bytes();
        let r = run(&all, &cp, &k, &[checkpoint(&k, &other)]);
        assert!(
            first_error(&r).contains("two different roots"),
            "{}",
            first_error(&r)
        );

        // An earlier checkpoint the entries no longer match.
        let r = run(&all, &cp, &k, &[checkpoint(&k, &other[..10])]);
        assert!(
            first_error(&r).contains("not consistent with these entries"),
            "{}",
            first_error(&r)
        );

        // Entries of another log.
        let foreign: Vec<Vec<u8>> = all
            .iter()
            .map(|l| {
                String::from_utf8_lossy(l)
                    .replace(ORIGIN, "other/audit")
                    .into_bytes()
            })
            .collect();
        let r = run(&foreign, &cp, &k, &[]);
        assert!(
            first_error(&r).contains("belongs to another log"),
            "{}",
            first_error(&r)
        );
    }

    /// Logs longer than a block, of sizes that are not powers of two, check
    /// in parallel runs and still give the one tree; a change deep in a later
    /// block is named by its own seq.
    #[test]
    fn logs_spanning_several_blocks_verify_and_name_the_failing_entry() {
        let k = key();
        let mut all = lines(BLOCK_LINES as u64 * 2 + 1_234);
        let cp = checkpoint(&k, &all);
        let report = run(&all, &cp, &k, &[]);
        assert!(report.ok, "{:?}", report.failures);
        assert_eq!(report.entries, all.len() as u64);
        let at = BLOCK_LINES + 9_000;
        all[at] = String::from_utf8_lossy(&all[at])
            .replace("\"reason\":", "\"reason\": ")
            .into_bytes();
        let report = run(&all, &cp, &k, &[]);
        assert_eq!(report.failures[0].entry, Some(at as u64));
        assert_eq!(report.entries, at as u64);
        let mut reordered = lines(BLOCK_LINES as u64 + 10);
        reordered.swap(BLOCK_LINES + 3, BLOCK_LINES + 4);
        let report = run(&reordered, &cp, &k, &[]);
        assert_eq!(report.failures[0].entry, Some(BLOCK_LINES as u64 + 3));
    }
}
