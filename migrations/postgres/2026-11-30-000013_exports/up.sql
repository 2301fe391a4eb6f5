-- Matrix exports, kept byte for byte with their signed manifest note
-- (TRACEABILITY.md): an auditor can download the very file given to them
-- again. audit_seq is the export's own audit entry; the manifest file adds
-- the first signed checkpoint that covers it.
CREATE TABLE exports (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    format     TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    content    BYTEA NOT NULL,
    manifest   TEXT NOT NULL,
    audit_seq  BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX exports_by_product ON exports (product_id, id);

-- Releases: a tag pushed to a repository, with the matrix as it stood then
-- (a JSON export), IEC 62304 5.8.
CREATE TABLE releases (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    tag           TEXT NOT NULL,
    sha           TEXT NOT NULL,
    export_id     BIGINT NOT NULL REFERENCES exports (id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX releases_by_repository ON releases (repository_id, id);
CREATE TRIGGER exports_no_change BEFORE UPDATE OR DELETE ON exports
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER exports_no_truncate BEFORE TRUNCATE ON exports
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER releases_no_change BEFORE UPDATE OR DELETE ON releases
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER releases_no_truncate BEFORE TRUNCATE ON releases
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
