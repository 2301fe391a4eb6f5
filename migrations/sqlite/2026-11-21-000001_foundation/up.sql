-- Foundation: installation metadata, accounts, server-side sessions, and the
-- append-only audit log (leaf bytes + head). See docs/architecture.md.

CREATE TABLE app_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Accounts are never deleted and their ids never reused (Part 11 11.100):
-- AUTOINCREMENT guarantees no reuse, and a trigger refuses DELETE.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username             TEXT NOT NULL UNIQUE,
    full_name            TEXT NOT NULL,
    email                TEXT NOT NULL,
    roles                TEXT NOT NULL DEFAULT '',
    active               BOOLEAN NOT NULL DEFAULT 1,
    password_hash        TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT 1,
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    failed_window_start  TIMESTAMP,
    locked_until         TIMESTAMP,
    last_login_at        TIMESTAMP,
    password_changed_at  TIMESTAMP NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1
);

CREATE TRIGGER users_no_delete BEFORE DELETE ON users
BEGIN SELECT RAISE(ABORT, 'users are never deleted: disable the account instead'); END;

-- Server-side sessions. Only the SHA-256 of the session token is stored, so a
-- copy of the database does not hand out live sessions.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP,
    ended_reason TEXT,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    flash        TEXT
);
CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
BEGIN SELECT RAISE(ABORT, 'sessions are ended, never deleted'); END;

-- The audit log (docs/audit.md). `leaf` holds the exact RFC 8785 bytes; the
-- other columns are derived for querying and never used for verification.
CREATE TABLE audit_entries (
    seq         INTEGER PRIMARY KEY NOT NULL,
    leaf        BLOB NOT NULL,
    leaf_hash   BLOB NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT,
    entity_id   TEXT,
    entity_key  TEXT
);
CREATE INDEX audit_entries_by_entity ON audit_entries (entity_type, entity_id, seq);
CREATE INDEX audit_entries_by_actor ON audit_entries (actor_id, seq);
CREATE INDEX audit_entries_by_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_by_time ON audit_entries (at);

-- One row: the number of entries. `seq` of the next entry is `size`.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO audit_head (id, size) VALUES (1, 0);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_entries_seq_follows_head BEFORE INSERT ON audit_entries
WHEN NEW.seq IS NOT (SELECT size FROM audit_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit seq must equal the head size'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head is append-only'); END;
CREATE TRIGGER audit_head_grows_by_one BEFORE UPDATE ON audit_head
WHEN NEW.id IS NOT OLD.id
  OR NEW.size IS NOT OLD.size + 1
  OR NOT EXISTS (SELECT 1 FROM audit_entries WHERE seq = OLD.size)
BEGIN SELECT RAISE(ABORT, 'audit_head only grows by one appended entry'); END;
