//! The audit log as written by the foundation: exact leaf bytes, gap-free
//! seq under concurrency, and append-only enforced by the database itself.

use attest::audit::{self, Actor, EntityRef, NewEntry};
use attest::db::{DbConnection, write_tx};
use diesel::prelude::*;
use serde_json::json;

use attest::startup::Application;

use crate::helpers::*;

#[tokio::test]
async fn every_entry_is_canonical_json_with_a_gap_free_seq_and_its_leaf_hash() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin.create_user("someone", "Some One", &["auditor"]).await;
    let mut conn = app.conn();
    let n = audit::size(&mut conn).unwrap();
    let entries = audit::entries(&mut conn, 0, n).unwrap();
    assert!(
        n >= 4,
        "initialised, admin created, signed in, user created"
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64);
        assert!(
            audit::canonical::is_canonical(&e.leaf),
            "entry {i} is RFC 8785"
        );
        assert_eq!(e.leaf_hash, audit::leaf_hash(&e.leaf).to_vec());
        let v = e.json();
        assert_eq!(v["v"], 1);
        assert_eq!(v["seq"], i as u64);
        assert_eq!(v["log"], app.log_origin.as_str());
        let at = v["at"].as_str().unwrap();
        assert_eq!(at.len(), "2026-11-21T10:42:07.123456Z".len(), "{at}");
        assert!(at.ends_with('Z'));
        assert!(v["actor"]["id"].is_string() && v["actor"]["name"].is_string());
    }
    let first = entries[0].json();
    assert_eq!(first["action"], "system.initialized");
    assert_eq!(first["after"]["log_origin"], "test.attest.local/audit");
    assert!(
        first["after"]["verifier_key"]
            .as_str()
            .unwrap()
            .starts_with("test.attest.local/audit+")
    );
}

fn raw(conn: &mut DbConnection, sql: &str) -> Result<usize, diesel::result::Error> {
    diesel::sql_query(sql).execute(conn)
}

// SECURITY.md 7
#[tokio::test]
async fn the_database_itself_refuses_to_change_or_delete_audit_entries() {
    let app = spawn_app().await;
    let _signed_in = app.admin().await; // so that a session row exists
    let mut conn = app.conn();
    let before = app.audit();
    for sql in [
        "UPDATE audit_entries SET action = 'tampered' WHERE seq = 0",
        "DELETE FROM audit_entries WHERE seq = 0",
        "DELETE FROM audit_entries",
        "UPDATE audit_head SET size = 0",
        "UPDATE audit_head SET size = size + 5",
        "DELETE FROM audit_head",
        "DELETE FROM users",
        "DELETE FROM sessions",
    ] {
        let err = raw(&mut conn, sql).expect_err(sql).to_string();
        assert!(
            err.contains("append-only")
                || err.contains("never deleted")
                || err.contains("grows by one"),
            "{sql}: {err}"
        );
    }
    if on_postgres() {
        for sql in ["TRUNCATE audit_entries", "TRUNCATE users"] {
            assert!(raw(&mut conn, sql).is_err(), "{sql}");
        }
    }
    // An entry whose seq does not follow the head is refused too.
    let err = raw(
        &mut conn,
        "INSERT INTO audit_entries (seq, leaf, leaf_hash, at, actor_id, action) VALUES (999, X'00', X'00', '2026-01-01 00:00:00', 'x', 'x')",
    );
    let err = if on_postgres() {
        raw(
            &mut conn,
            "INSERT INTO audit_entries (seq, leaf, leaf_hash, at, actor_id, action) VALUES (999, '\\x00', '\\x00', '2026-01-01 00:00:00', 'x', 'x')",
        )
    } else {
        err
    };
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("seq must equal the head size")
    );
    assert_eq!(app.audit(), before);
}

#[tokio::test]
async fn an_append_outside_a_transaction_is_refused() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let e = NewEntry::new(
        &app.log_origin,
        attest::clock::now(),
        Actor::system(),
        "test.event",
    );
    assert!(matches!(
        audit::append(&mut conn, &e),
        Err(audit::AuditError::NotInTransaction)
    ));
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_entry_and_no_gap() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let n = audit::size(&mut conn).unwrap();
    let e = NewEntry::new(
        &app.log_origin,
        attest::clock::now(),
        Actor::system(),
        "test.event",
    );
    let result: Result<(), audit::AuditError> = write_tx(&mut conn, |conn| {
        audit::append(conn, &e)?;
        Err(audit::AuditError::NotInTransaction) // the change fails after its entry
    });
    assert!(result.is_err());
    assert_eq!(audit::size(&mut conn).unwrap(), n);
    let seq = write_tx(&mut conn, |conn| audit::append(conn, &e)).unwrap();
    assert_eq!(seq, n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_writers_produce_a_gap_free_sequence() {
    let app = spawn_app().await;
    let start = audit::size(&mut app.conn()).unwrap();
    let per_writer = 50u64;
    let mut writers = Vec::new();
    for w in 0..8 {
        let pool = app.pool.clone();
        let log = app.log_origin.clone();
        writers.push(std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            for i in 0..per_writer {
                let e = NewEntry::new(
                    &log,
                    attest::clock::now(),
                    Actor {
                        id: format!("u-{w}"),
                        name: format!("Writer {w}"),
                    },
                    "test.concurrent",
                )
                .entity(EntityRef {
                    kind: "test".into(),
                    id: format!("{w}"),
                    key: format!("W-{w}"),
                    version: i as i64,
                })
                .after(json!({"i": i}));
                write_tx(&mut conn, |conn| audit::append(conn, &e)).unwrap();
            }
        }));
    }
    for w in writers {
        w.join().unwrap();
    }
    let mut conn = app.conn();
    let n = audit::size(&mut conn).unwrap();
    assert_eq!(n, start + 8 * per_writer);
    let entries = audit::entries(&mut conn, 0, n).unwrap();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64);
        assert_eq!(e.json()["seq"], i as u64, "leaf bytes carry the same seq");
    }
    // One valid tree over all of them.
    let (n2, mut reference) = recomputed(&mut conn);
    assert_eq!(n2, n);
    let head = attest::audit::tree::head(&mut conn).unwrap();
    assert_eq!(
        (head.size, Ok(head.root)),
        (n, attest::audit::merkle::root(&mut reference, n))
    );
    // Each writer's own entries are all there, in its order.
    for w in 0..8 {
        let mine: Vec<u64> = entries
            .iter()
            .map(|e| e.json())
            .filter(|v| v["actor"]["id"] == format!("u-{w}"))
            .map(|v| v["after"]["i"].as_u64().unwrap())
            .collect();
        assert_eq!(mine, (0..per_writer).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn signed_in_users_get_the_verifier_key_recorded_at_initialisation() {
    let app = spawn_app().await;
    let (auditor, _) = app
        .user_with_roles("auditor1", &["auditor"], "read only passphrase")
        .await;
    let res = auditor.get("/audit/key").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let vkey = res.text().await.unwrap();
    let vkey = vkey.trim_end();
    let initialized = &app.audit_of("system.initialized")[0];
    assert_eq!(initialized["after"]["verifier_key"], vkey);
    let verifier = attest::audit::note::NoteVerifier::parse(vkey).unwrap();
    assert_eq!(verifier.name, "test.attest.local/audit");

    let res = app.browser().get("/audit/key").await;
    assert_eq!(res.status(), 303, "signed-out visitors are sent to sign in");
}

/// Recomputes the tree from the leaf bytes alone, as an auditor would.
fn recomputed(conn: &mut DbConnection) -> (u64, attest::audit::merkle::MemoryTree) {
    let n = audit::size(conn).unwrap();
    let mut t = attest::audit::merkle::MemoryTree::new();
    for e in audit::entries(conn, 0, n).unwrap() {
        t.push(audit::leaf_hash(&e.leaf));
    }
    (n, t)
}

#[tokio::test]
async fn the_stored_merkle_tree_is_the_tree_of_the_leaf_bytes_and_proves_inclusion_and_consistency()
{
    use attest::audit::merkle::{self, NodeSource};
    use attest::audit::tree::{self, DbNodes};
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..6 {
        admin
            .create_user(&format!("user{i}"), &format!("User {i}"), &["engineer"])
            .await;
    }
    let mut conn = app.conn();
    let (n, mut reference) = recomputed(&mut conn);
    let head = tree::head(&mut conn).unwrap();
    assert_eq!(head.size, n);
    assert_eq!(Ok(head.root), merkle::root(&mut reference, n));
    // Every stored subtree equals the recomputed one.
    let mut db = DbNodes(&mut conn);
    for level in 0..=(63 - n.leading_zeros()) {
        for index in 0..(n >> level) {
            assert_eq!(
                db.node(level, index).unwrap(),
                reference.node(level, index).unwrap(),
                "({level}, {index})"
            );
        }
    }
    // Proofs built from the database, for the current and for older sizes.
    for size in [1, n / 2, n - 1, n] {
        let root = merkle::root(&mut db, size).unwrap();
        assert_eq!(Ok(root), merkle::root(&mut reference, size));
        for index in [0, size / 2, size - 1] {
            let proof = merkle::inclusion_proof(&mut db, index, size).unwrap();
            let leaf = reference.node(0, index).unwrap();
            assert_eq!(
                merkle::verify_inclusion(&leaf, index, size, &proof, &root),
                Ok(())
            );
        }
        let proof = merkle::consistency_proof(&mut db, size, n).unwrap();
        assert_eq!(
            merkle::verify_consistency(size, n, &root, &head.root, &proof),
            Ok(())
        );
    }
}

// SECURITY.md 7
#[tokio::test]
async fn the_database_refuses_to_rewrite_the_merkle_tree() {
    let app = spawn_app().await;
    let _ = app.admin().await;
    let mut conn = app.conn();
    let before = attest::audit::tree::head(&mut conn).unwrap();
    for sql in [
        "UPDATE audit_tree SET size = 0",
        "UPDATE audit_tree SET root = frontier",
        "DELETE FROM audit_tree",
        "DELETE FROM audit_nodes",
        "UPDATE audit_nodes SET hash = hash",
    ] {
        let result = raw(&mut conn, sql);
        // DELETE/UPDATE on an empty audit_nodes changes no row and fires no trigger.
        if sql.contains("audit_nodes") && result == Ok(0) {
            continue;
        }
        let err = result.expect_err(sql).to_string();
        assert!(
            err.contains("append-only") || err.contains("grows by one"),
            "{sql}: {err}"
        );
    }
    assert_eq!(attest::audit::tree::head(&mut conn).unwrap(), before);
}

/// An installation whose log was written before the Merkle tree was kept
/// gets its tree built when the new version starts.
#[tokio::test]
async fn an_older_log_gets_its_merkle_tree_built_at_start_up() {
    use attest::db::schema::{audit_entries, audit_head};
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path());
    let pool = attest::db::build_pool(&settings.database, 2).unwrap();
    let mut conn = pool.get().unwrap();
    assert_eq!(
        attest::db::run_first_migrations(&mut conn, 1)
            .unwrap()
            .len(),
        1
    );
    // Append as the foundation release did: entry and head, no tree.
    for seq in 0..5u64 {
        let e = NewEntry::new(
            "test.attest.local/audit",
            attest::clock::now(),
            Actor::system(),
            "test.old_entry",
        )
        .after(json!({"n": seq}));
        let leaf = audit::leaf_bytes(seq, &e).unwrap();
        write_tx(&mut conn, |conn| -> Result<(), diesel::result::Error> {
            diesel::insert_into(audit_entries::table)
                .values((
                    audit_entries::seq.eq(seq as i64),
                    audit_entries::leaf.eq(&leaf),
                    audit_entries::leaf_hash.eq(&audit::leaf_hash(&leaf)[..]),
                    audit_entries::at.eq(e.at.naive_utc()),
                    audit_entries::actor_id.eq("system"),
                    audit_entries::action.eq("test.old_entry"),
                ))
                .execute(conn)?;
            diesel::update(audit_head::table)
                .set(audit_head::size.eq(seq as i64 + 1))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    }
    drop(conn);
    drop(pool);

    let app = start(settings, dir).await;
    let mut conn = app.conn();
    let (n, mut reference) = recomputed(&mut conn);
    assert!(
        n > 5,
        "start-up appended its own entries after the old ones"
    );
    let head = attest::audit::tree::head(&mut conn).unwrap();
    assert_eq!(
        (head.size, Ok(head.root)),
        (n, attest::audit::merkle::root(&mut reference, n))
    );
    assert_eq!(
        audit::entries(&mut conn, 0, 1).unwrap()[0].json()["action"],
        "test.old_entry"
    );
}

#[tokio::test]
async fn proofs_served_over_http_verify_against_the_entries_served_over_http() {
    use attest::audit::merkle::{self, MemoryTree};
    use base64::Engine;
    let b64 = |s: &serde_json::Value| -> [u8; 32] {
        base64::engine::general_purpose::STANDARD
            .decode(s.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..5 {
        admin
            .create_user(&format!("p{i}x"), &format!("P {i}"), &["auditor"])
            .await;
    }
    let n = audit::size(&mut app.conn()).unwrap();
    // The entries, byte-exact, one per line.
    let res = admin
        .get(&format!("/audit/entries?start=0&end={}", n + 50))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jsonl");
    let body = res.bytes().await.unwrap();
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len() as u64, n, "the end is clamped to the log");
    let stored = audit::entries(&mut app.conn(), 0, n).unwrap();
    let mut tree = MemoryTree::new();
    for (line, e) in lines.iter().zip(&stored) {
        assert_eq!(*line, &e.leaf[..]);
        tree.push(audit::leaf_hash(line));
    }
    let root_n = merkle::root(&mut tree, n).unwrap();
    for (index, size) in [(0, 1), (0, n), (n - 1, n), (3, 7), (6, 7)] {
        let v: serde_json::Value = admin
            .get(&format!("/audit/proof/inclusion?index={index}&size={size}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (v["index"].as_u64(), v["tree_size"].as_u64()),
            (Some(index), Some(size))
        );
        let leaf = b64(&v["leaf_hash"]);
        assert_eq!(leaf, audit::leaf_hash(lines[index as usize]));
        let hashes: Vec<[u8; 32]> = v["hashes"].as_array().unwrap().iter().map(b64).collect();
        let root = merkle::root(&mut tree, size).unwrap();
        assert_eq!(
            merkle::verify_inclusion(&leaf, index, size, &hashes, &root),
            Ok(()),
            "{index} in {size}"
        );
    }
    for (from, to) in [(1, n), (4, 7), (n, n), (n - 1, n)] {
        let v: serde_json::Value = admin
            .get(&format!("/audit/proof/consistency?from={from}&to={to}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (v["from"].as_u64(), v["to"].as_u64()),
            (Some(from), Some(to))
        );
        let hashes: Vec<[u8; 32]> = v["hashes"].as_array().unwrap().iter().map(b64).collect();
        let (r1, r2) = (
            merkle::root(&mut tree, from).unwrap(),
            merkle::root(&mut tree, to).unwrap(),
        );
        assert_eq!(
            merkle::verify_consistency(from, to, &r1, &r2, &hashes),
            Ok(()),
            "{from} -> {to}"
        );
    }
    assert_eq!(
        root_n,
        attest::audit::tree::head(&mut app.conn()).unwrap().root
    );
}

#[tokio::test]
async fn bad_proof_and_entry_parameters_get_a_400_that_says_why() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let n = audit::size(&mut app.conn()).unwrap();
    for (path, says) in [
        (
            "/audit/proof/inclusion?index=0".to_string(),
            "size is required",
        ),
        (
            "/audit/proof/inclusion?index=x&size=1".to_string(),
            "index must be a whole number",
        ),
        (
            "/audit/proof/inclusion?index=-1&size=1".to_string(),
            "index must be a whole number",
        ),
        (
            format!("/audit/proof/inclusion?index={n}&size={n}"),
            "index must be below size",
        ),
        (
            format!("/audit/proof/inclusion?index=0&size={}", n + 1),
            "between 1 and the tree size",
        ),
        (
            "/audit/proof/inclusion?index=0&size=0".to_string(),
            "between 1 and the tree size",
        ),
        (
            "/audit/proof/inclusion?index=0&size=99999999999999999999999".to_string(),
            "size must be a whole number",
        ),
        (
            "/audit/proof/consistency?from=3&to=2".to_string(),
            "from must be at least 1 and at most to",
        ),
        (
            "/audit/proof/consistency?from=0&to=2".to_string(),
            "from must be at least 1",
        ),
        (
            format!("/audit/proof/consistency?from=1&to={}", n + 1),
            "to must be at most the tree size",
        ),
        (
            "/audit/proof/consistency?from=1.5&to=2".to_string(),
            "from must be a whole number",
        ),
        (
            "/audit/entries?start=2&end=2".to_string(),
            "start must be below end",
        ),
        (
            format!("/audit/entries?start={n}&end={}", n + 1),
            "start must be below the log size",
        ),
        (
            "/audit/entries?start=a&end=2".to_string(),
            "start must be a whole number",
        ),
    ] {
        let res = admin.get(&path).await;
        assert_eq!(res.status(), 400, "{path}");
        let body = res.text().await.unwrap().to_lowercase();
        assert!(body.contains(says), "{path}: {body}");
    }
    // Signed out: sent to sign in, nothing served.
    assert_eq!(
        app.browser()
            .get("/audit/proof/inclusion?index=0&size=1")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn checkpoints_are_signed_tree_heads_and_each_is_consistent_with_the_last() {
    use attest::audit::merkle;
    use attest::audit::note::{self, Checkpoint, NoteVerifier};
    use base64::Engine;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let vkey = admin.get("/audit/key").await.text().await.unwrap();
    let verifier = NoteVerifier::parse(vkey.trim_end()).unwrap();

    let first = admin.get("/audit/checkpoint").await;
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    let cp1 = Checkpoint::parse(note::open(&first, &verifier).unwrap()).unwrap();
    let head = attest::audit::tree::head(&mut app.conn()).unwrap();
    assert_eq!(
        (cp1.origin.as_str(), cp1.size, cp1.root),
        ("test.attest.local/audit", head.size, head.root)
    );
    assert_eq!(
        std::fs::read_to_string(app.data_dir().join("checkpoint")).unwrap(),
        first,
        "the file holds the latest"
    );
    assert!(first.contains("\n\n\u{2014} test.attest.local/audit "));

    admin.create_user("later", "Later User", &["auditor"]).await;
    let second = admin.get("/audit/checkpoint").await.text().await.unwrap();
    let cp2 = Checkpoint::parse(note::open(&second, &verifier).unwrap()).unwrap();
    assert!(cp2.size > cp1.size);
    let v: serde_json::Value = admin
        .get(&format!(
            "/audit/proof/consistency?from={}&to={}",
            cp1.size, cp2.size
        ))
        .await
        .json()
        .await
        .unwrap();
    let hashes: Vec<[u8; 32]> = v["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    assert_eq!(
        merkle::verify_consistency(cp1.size, cp2.size, &cp1.root, &cp2.root, &hashes),
        Ok(())
    );
    // Nothing new: the same checkpoint again.
    assert_eq!(
        admin.get("/audit/checkpoint").await.text().await.unwrap(),
        second
    );
    assert_eq!(app.browser().get("/audit/checkpoint").await.status(), 303);
}

#[tokio::test]
async fn a_rewritten_tree_is_refused_a_signature_and_checkpoints_cannot_be_changed() {
    use attest::audit::{AuditError, checkpoint};
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert_eq!(admin.get("/audit/checkpoint").await.status(), 200);
    let mut conn = app.conn();
    for sql in [
        "UPDATE audit_checkpoints SET note = 'forged'",
        "DELETE FROM audit_checkpoints",
    ] {
        let err = raw(&mut conn, sql).expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    // The last covered leaf lies on the consistency proof's path only when
    // the signed size is not a power of two: grow the log until it is not.
    let mut n = 0;
    while checkpoint::latest(&mut conn)
        .unwrap()
        .unwrap()
        .size
        .is_power_of_two()
    {
        n += 1;
        admin
            .create_user(&format!("grow{n}"), "Growing Log", &["auditor"])
            .await;
        assert_eq!(admin.get("/audit/checkpoint").await.status(), 200);
    }
    // Someone with the database owner's rights changes the stored hash of an
    // entry the last checkpoint already covers, behind the triggers' back.
    admin
        .create_user("after", "After Forgery", &["auditor"])
        .await;
    let covered = checkpoint::latest(&mut conn).unwrap().unwrap().size - 1;
    let (disable, forge) = if on_postgres() {
        (
            "ALTER TABLE audit_entries DISABLE TRIGGER USER",
            format!(
                "UPDATE audit_entries SET leaf_hash = decode(repeat('00', 32), 'hex') WHERE seq = {covered}"
            ),
        )
    } else {
        (
            "DROP TRIGGER audit_entries_no_update",
            format!("UPDATE audit_entries SET leaf_hash = zeroblob(32) WHERE seq = {covered}"),
        )
    };
    raw(&mut conn, disable).unwrap();
    assert_eq!(raw(&mut conn, &forge).unwrap(), 1);
    let key = attest::audit::key::LogKey::load(&app.data_dir().join("log-key")).unwrap();
    let before = checkpoint::latest(&mut conn).unwrap().unwrap();
    let result = checkpoint::sign_if_grown(&mut conn, &key, attest::clock::now());
    assert!(
        matches!(result, Err(AuditError::Inconsistent { .. })),
        "{result:?}"
    );
    assert_eq!(
        checkpoint::latest(&mut conn).unwrap().unwrap(),
        before,
        "nothing was signed"
    );
    let res = admin.get("/audit/checkpoint").await;
    assert_eq!(
        res.status(),
        500,
        "the refusal is loud, never a new signature"
    );
}

/// AUDIT-LOG.md 3: a database restored from an older backup is behind the
/// checkpoint kept outside it; start-up refuses to add to it until someone
/// acknowledges the restore, which is itself recorded.
#[tokio::test]
async fn a_restored_older_backup_is_refused_until_the_restore_is_acknowledged() {
    use attest::db::DbTarget;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    // A file-level restore is easiest to stage on SQLite; the check itself
    // reads only the stored tree, the same on both backends.
    settings.database = DbTarget::Sqlite(dir.path().join("attest.db"));
    let backup = dir.path().join("backup.db");
    let app = start(settings.clone(), tempfile::tempdir().unwrap()).await;
    let admin = app.admin().await;
    raw(
        &mut app.conn(),
        &format!("VACUUM INTO '{}'", backup.display()),
    )
    .unwrap();
    admin
        .create_user("afterbackup", "After Backup", &["auditor"])
        .await;
    let signed = admin.get("/audit/checkpoint").await.text().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("checkpoint")).unwrap(),
        signed
    );

    // The backup is put back.
    let mut restored = settings.clone();
    restored.database = DbTarget::Sqlite(backup.clone());
    let err = Application::build(restored.clone())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("restored or truncated"), "{err}");
    assert!(err.contains("attest audit acknowledge-restore"), "{err}");
    let reason = "restored last night's backup after disk failure (change CR-88)";
    assert!(
        attest::startup::acknowledge_restore(&restored, "").is_err(),
        "a reason is required"
    );
    let said = attest::startup::acknowledge_restore(&restored, reason).unwrap();
    assert!(said.contains("Recorded in the audit log"), "{said}");
    let app2 = start(restored, tempfile::tempdir().unwrap()).await;
    let ack = app2.audit_of("audit.restore_acknowledged");
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0]["reason"], reason);
    assert_eq!(ack[0]["after"]["finding"], "behind");
    assert!(
        ack[0]["after"]["signed_checkpoint_size"].as_u64()
            > ack[0]["after"]["database_tree_size"].as_u64()
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("checkpoint.superseded-")
    }));
}

#[tokio::test]
async fn the_export_streams_the_log_cut_at_a_checkpoint_that_verifies_it() {
    use attest::audit::merkle::{self, MemoryTree};
    use attest::audit::note::{self, Checkpoint, NoteVerifier};
    use base64::Engine;
    let app = spawn_app().await;
    let admin = app.admin().await;
    // More than one step of the stream (1,000 entries).
    let mut conn = app.conn();
    for i in 0..1_200u64 {
        let e = NewEntry::new(
            &app.log_origin,
            attest::clock::now(),
            Actor::system(),
            "test.bulk",
        )
        .after(json!({"i": i}));
        write_tx(&mut conn, |conn| audit::append(conn, &e)).unwrap();
    }
    drop(conn);
    let res = admin.get("/audit/export").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jsonl");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"audit-log-")
    );
    let note_b64 = res.headers()["attest-checkpoint"]
        .to_str()
        .unwrap()
        .to_string();
    let body = res.bytes().await.unwrap();

    // What an auditor does offline with the export and the verifier key.
    let vkey = admin.get("/audit/key").await.text().await.unwrap();
    let note_text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(note_b64)
            .unwrap(),
    )
    .unwrap();
    let cp = Checkpoint::parse(
        note::open(&note_text, &NoteVerifier::parse(vkey.trim_end()).unwrap()).unwrap(),
    )
    .unwrap();
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len() as u64, cp.size);
    assert!(cp.size > 1_200);
    let mut tree = MemoryTree::new();
    for (i, line) in lines.iter().enumerate() {
        assert!(audit::canonical::is_canonical(line));
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["seq"], i as u64);
        tree.push(audit::leaf_hash(line));
    }
    assert_eq!(merkle::root(&mut tree, cp.size), Ok(cp.root));
    // The same checkpoint is offered as a file beside the export.
    let file = admin.get("/audit/checkpoint?download=1").await;
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("audit-checkpoint-{}.txt", cp.size))
    );
    assert_eq!(file.text().await.unwrap(), note_text);
}

/// AUDIT-LOG.md 7: two app instances sharing one database (PostgreSQL in CI;
/// one SQLite file otherwise), 8 writers x 200 appends: 1,600 entries with
/// consecutive seq and one valid tree, verified from an export.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_write_one_gap_free_log() {
    let first = spawn_app().await;
    let second = second_instance(&first).await;
    let start_size = audit::size(&mut first.conn()).unwrap();

    let mut writers = Vec::new();
    for w in 0..8u64 {
        let pool = if w % 2 == 0 {
            first.pool.clone()
        } else {
            second.pool.clone()
        };
        let log = first.log_origin.clone();
        writers.push(std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            for i in 0..200u64 {
                let e = NewEntry::new(
                    &log,
                    attest::clock::now(),
                    Actor {
                        id: format!("u-{w}"),
                        name: format!("Writer {w}"),
                    },
                    "test.two_instances",
                )
                .after(json!({"i": i}));
                write_tx(&mut conn, |conn| audit::append(conn, &e)).unwrap();
            }
        }));
    }
    for w in writers {
        w.join().unwrap();
    }
    let mut conn = second.conn();
    let n = audit::size(&mut conn).unwrap();
    assert_eq!(n - start_size, 1_600);
    for (i, e) in audit::entries(&mut conn, 0, n).unwrap().iter().enumerate() {
        assert_eq!(e.json()["seq"], i as u64);
    }
    // One valid tree: the export of either instance verifies offline.
    let admin = second.admin().await;
    let res = admin.get("/audit/export").await;
    use base64::Engine;
    let note = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(res.headers()["attest-checkpoint"].to_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let body = res.bytes().await.unwrap();
    let vkey = admin.get("/audit/key").await.text().await.unwrap();
    let report = attest::audit::verify::verify(&body[..], &note, vkey.trim_end(), &[]);
    assert!(report.ok, "{:?}", report.failures);
    assert!(report.entries >= n);
}

// SECURITY.md 7
#[tokio::test]
async fn verify_now_and_attest_verify_database_find_a_leaf_rewritten_behind_the_triggers() {
    use attest::db::DbTarget;
    let app = spawn_app().await;
    let (auditor, _) = app
        .user_with_roles("checker", &["auditor"], "read only passphrase")
        .await;
    let (engineer, _) = app
        .user_with_roles("builder", &["engineer"], "engineer passphrase x")
        .await;
    assert!(auditor.get_html("/").await.contains("href=\"/audit\""));
    assert!(!engineer.get_html("/").await.contains("href=\"/audit\""));
    assert_eq!(engineer.get("/audit/verify").await.status(), 403);
    let page = auditor.get_html("/audit/verify").await;
    assert!(page.contains("Verified."), "{page}");

    let url = match &app.database {
        DbTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
        DbTarget::Postgres(url) => url.clone(),
    };
    let vkey = auditor.get("/audit/key").await.text().await.unwrap();
    let cli = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_attest"))
            .args(["verify", "--database", &url, "--key", vkey.trim_end()])
            .output()
            .unwrap()
    };
    let ok = cli();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // The database owner rewrites entry 1's bytes, keeping the stored hash.
    let mut conn = app.conn();
    let (disable, forge) = if on_postgres() {
        (
            "ALTER TABLE audit_entries DISABLE TRIGGER USER",
            "UPDATE audit_entries SET leaf = convert_to(replace(convert_from(leaf, 'UTF8'), 'Administrator', 'Administrat0r'), 'UTF8') WHERE seq = 1",
        )
    } else {
        (
            "DROP TRIGGER audit_entries_no_update",
            "UPDATE audit_entries SET leaf = CAST(replace(CAST(leaf AS TEXT), 'Administrator', 'Administrat0r') AS BLOB) WHERE seq = 1",
        )
    };
    raw(&mut conn, disable).unwrap();
    assert_eq!(raw(&mut conn, forge).unwrap(), 1);
    let page = auditor.get_html("/audit/verify").await;
    assert!(page.contains("Verification FAILED"), "{page}");
    assert!(
        page.contains("Entry 1: entry 1&#39;s stored leaf hash does not match its bytes")
            || page.contains("Entry 1: entry 1"),
        "{page}"
    );
    let bad = cli();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("FAILED at entry 1"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[tokio::test]
async fn verification_of_the_database_finds_a_forged_or_missing_tree_node() {
    let app = spawn_app().await;
    let (auditor, _) = app
        .user_with_roles("checker", &["auditor"], "read only passphrase")
        .await;
    let vkey = auditor.get("/audit/key").await.text().await.unwrap();
    let check = |app: &crate::helpers::TestApp| {
        attest::audit::verify::verify_database(&mut app.conn(), vkey.trim_end())
    };
    assert!(check(&app).ok, "{:?}", check(&app).failures);
    let mut conn = app.conn();
    let (disable, forge, drop) = if on_postgres() {
        (
            "ALTER TABLE audit_nodes DISABLE TRIGGER USER",
            "UPDATE audit_nodes SET hash = decode(repeat('00', 32), 'hex') WHERE level = 1 AND idx = 1",
            "DELETE FROM audit_nodes WHERE level = 2 AND idx = 0",
        )
    } else {
        (
            "DROP TRIGGER audit_nodes_no_update",
            "UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 1",
            "DELETE FROM audit_nodes WHERE level = 2 AND idx = 0",
        )
    };
    raw(&mut conn, disable).unwrap();
    if !on_postgres() {
        raw(&mut conn, "DROP TRIGGER audit_nodes_no_delete").unwrap();
    }
    assert_eq!(raw(&mut conn, drop).unwrap(), 1);
    let report = check(&app);
    assert!(!report.ok);
    assert!(
        report.failures[0].error.starts_with("the stored tree has ")
            && report.failures[0]
                .error
                .contains("nodes above the entries;"),
        "{:?}",
        report.failures
    );

    assert_eq!(raw(&mut conn, forge).unwrap(), 1);
    let report = check(&app);
    assert_eq!(
        report.failures[0].error,
        "the stored tree node (level 1, index 1) does not match the entries it covers"
    );
    let page = auditor.get_html("/audit/verify").await;
    assert!(page.contains("Verification FAILED"), "{page}");
    assert!(page.contains("(level 1, index 1)"), "{page}");
}

#[tokio::test]
async fn an_offline_edit_of_any_derived_audit_column_is_named_by_verification_security_28() {
    use attest::db::DbTarget;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (auditor, _) = app
        .user_with_roles("checker", &["auditor"], "read only passphrase")
        .await;
    let pid = crate::nonconformances::product(&admin, &app, "COL").await;
    let res = admin
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", "Second device"),
                ("key_prefix", "COM"),
                ("safety_class", "A"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let entry = app
        .audit_of("product.created")
        .into_iter()
        .find(|e| e["entity"]["id"] == format!("p-{pid}"))
        .unwrap();
    let seq = entry["seq"].as_u64().unwrap();
    let vkey = auditor.get("/audit/key").await.text().await.unwrap();
    let vkey = vkey.trim_end().to_string();
    let check = || attest::audit::verify::verify_database(&mut app.conn(), &vkey);
    assert!(check().ok, "{:?}", check().failures);

    let mut conn = app.conn();
    if on_postgres() {
        raw(&mut conn, "ALTER TABLE audit_entries DISABLE TRIGGER USER").unwrap();
    } else {
        raw(&mut conn, "DROP TRIGGER audit_entries_no_update").unwrap();
    }
    let key = entry["entity"]["key"].as_str().unwrap().to_string();
    let actor = entry["actor"]["id"].as_str().unwrap().to_string();
    // Each column edited alone, named, then put back (and the log verifies again).
    for (column, forged, original) in [
        ("entity_key", "'NC-999'".to_string(), format!("'{key}'")),
        ("entity_id", "'p-999'".to_string(), format!("'p-{pid}'")),
        ("entity_type", "'capa'".to_string(), "'product'".to_string()),
        (
            "action",
            "'product.viewed'".to_string(),
            "'product.created'".to_string(),
        ),
        ("actor_id", "'u-999'".to_string(), format!("'{actor}'")),
    ] {
        let set = |value: &str| {
            raw(
                &mut app.conn(),
                &format!("UPDATE audit_entries SET {column} = {value} WHERE seq = {seq}"),
            )
            .unwrap()
        };
        assert_eq!(set(&forged), 1);
        let report = check();
        assert!(!report.ok, "{column}");
        assert_eq!(report.failures[0].entry, Some(seq), "{column}");
        assert!(
            report.failures[0]
                .error
                .starts_with(&format!("entry {seq}'s stored {column} column is ")),
            "{column}: {:?}",
            report.failures
        );
        set(&original);
        assert!(check().ok, "{column} put back: {:?}", check().failures);
    }
    // The time column.
    raw(
        &mut conn,
        &format!("UPDATE audit_entries SET at = '2020-01-01 00:00:00' WHERE seq = {seq}"),
    )
    .unwrap();
    let report = check();
    assert!(
        report.failures[0].error.starts_with(&format!(
            "entry {seq}'s stored at column is \"2020-01-01T00:00:00.000000Z\""
        )),
        "{:?}",
        report.failures
    );
    // "Verify now" and `attest verify --database` name it too.
    let page = auditor.get_html("/audit/verify").await;
    assert!(page.contains("Verification FAILED"), "{page}");
    assert!(page.contains("stored at column is"), "{page}");
    let url = match &app.database {
        DbTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
        DbTarget::Postgres(url) => url.clone(),
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_attest"))
        .args(["verify", "--database", &url, "--key", &vkey])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("FAILED at entry {seq}")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn proofs_read_in_one_batch_equal_proofs_read_hash_by_hash() {
    use attest::audit::{merkle, tree};
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..12 {
        admin
            .create_user(&format!("batch{i}"), &format!("Batch {i}"), &["auditor"])
            .await;
    }
    let mut conn = app.conn();
    let n = audit::size(&mut conn).unwrap();
    assert!(n > 12, "{n}");
    for size in 1..=n {
        for index in 0..size {
            let (batched, leaf) = tree::inclusion_proof(&mut conn, index, size).unwrap();
            let one_by_one =
                merkle::inclusion_proof(&mut tree::DbNodes(&mut conn), index, size).unwrap();
            assert_eq!(batched, one_by_one, "inclusion {index} in {size}");
            assert_eq!(
                leaf,
                merkle::NodeSource::node(&mut tree::DbNodes(&mut conn), 0, index).unwrap()
            );
        }
        for from in 1..=size {
            assert_eq!(
                tree::consistency_proof(&mut conn, from, size).unwrap(),
                merkle::consistency_proof(&mut tree::DbNodes(&mut conn), from, size).unwrap(),
                "consistency {from} to {size}"
            );
        }
    }
}
