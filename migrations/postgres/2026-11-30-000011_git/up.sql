-- Git repositories whose pushes link commits to requirements and CAPAs
-- (TRACEABILITY.md). The webhook secret is kept sealed (XChaCha20-Poly1305
-- under a key derived from the log key); never deleted, only deactivated.
CREATE TABLE repositories (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider      TEXT NOT NULL,
    name          TEXT NOT NULL,
    product_id    BIGINT NOT NULL REFERENCES products (id),
    secret_sealed BYTEA NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by    BIGINT REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX repositories_name ON repositories (provider, name);
CREATE TRIGGER repositories_no_delete BEFORE DELETE ON repositories
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER repositories_no_truncate BEFORE TRUNCATE ON repositories
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();

-- Commits as pushed: kept as received, never changed.
CREATE TABLE commits (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    sha           TEXT NOT NULL,
    author_name   TEXT NOT NULL,
    author_email  TEXT NOT NULL,
    committed_at  TIMESTAMP NOT NULL,
    message       TEXT NOT NULL,
    url           TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX commits_sha ON commits (repository_id, sha);
CREATE TRIGGER commits_no_update BEFORE UPDATE ON commits
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER commits_no_delete BEFORE DELETE ON commits
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER commits_no_truncate BEFORE TRUNCATE ON commits
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();

-- Every reference parsed from a commit message, with what it resolved to
-- (target_type and target_id), or none: a dangling key, for the gap report.
CREATE TABLE commit_refs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commit_id   BIGINT NOT NULL REFERENCES commits (id),
    relation    TEXT NOT NULL,
    key         TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT
);
CREATE INDEX commit_refs_by_commit ON commit_refs (commit_id);
CREATE INDEX commit_refs_by_key ON commit_refs (key);
CREATE TRIGGER commit_refs_no_delete BEFORE DELETE ON commit_refs
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER commit_refs_no_truncate BEFORE TRUNCATE ON commit_refs
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();

-- Webhook deliveries, so a redelivery is processed once.
CREATE TABLE webhook_deliveries (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    delivery_id   TEXT NOT NULL,
    event         TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    commits       BIGINT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (repository_id, delivery_id);
CREATE TRIGGER webhook_deliveries_no_delete BEFORE DELETE ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER webhook_deliveries_no_truncate BEFORE TRUNCATE ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
