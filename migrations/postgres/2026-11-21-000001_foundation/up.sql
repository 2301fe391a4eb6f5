-- Foundation: installation metadata, accounts, server-side sessions, and the
-- append-only audit log (leaf bytes + head). See docs/architecture.md.

CREATE TABLE app_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Accounts are never deleted and their ids never reused (Part 11 11.100).
CREATE TABLE users (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    full_name            TEXT NOT NULL,
    email                TEXT NOT NULL,
    roles                TEXT NOT NULL DEFAULT '',
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash        TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    failed_window_start  TIMESTAMP,
    locked_until         TIMESTAMP,
    last_login_at        TIMESTAMP,
    password_changed_at  TIMESTAMP NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1
);

-- Server-side sessions. Only the SHA-256 of the session token is stored.
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

-- The audit log (docs/audit.md). `leaf` holds the exact RFC 8785 bytes; the
-- other columns are derived for querying and never used for verification.
CREATE TABLE audit_entries (
    seq         BIGINT PRIMARY KEY NOT NULL,
    leaf        BYTEA NOT NULL,
    leaf_hash   BYTEA NOT NULL,
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
-- Appends take this row FOR UPDATE inside the business transaction.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO audit_head (id, size) VALUES (1, 0);

CREATE FUNCTION attest_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE FUNCTION attest_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE FUNCTION attest_audit_seq_follows_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM (SELECT size FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit seq must equal the head size' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION attest_audit_head_grows_by_one() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.size IS DISTINCT FROM OLD.size + 1
       OR NOT EXISTS (SELECT 1 FROM audit_entries WHERE seq = OLD.size) THEN
        RAISE EXCEPTION 'audit_head only grows by one appended entry' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_no_delete BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER users_no_truncate BEFORE TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER sessions_no_truncate BEFORE TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_entries_seq_follows_head BEFORE INSERT ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION attest_audit_seq_follows_head();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_head_grows_by_one BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION attest_audit_head_grows_by_one();
