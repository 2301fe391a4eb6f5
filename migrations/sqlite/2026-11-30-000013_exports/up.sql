-- Matrix exports, kept byte for byte with their signed manifest note
-- (TRACEABILITY.md): an auditor can download the very file given to them
-- again. audit_seq is the export's own audit entry; the manifest file adds
-- the first signed checkpoint that covers it.
CREATE TABLE exports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    format     TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    content    BLOB NOT NULL,
    manifest   TEXT NOT NULL,
    audit_seq  BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX exports_by_product ON exports (product_id, id);

-- Releases: a tag pushed to a repository, with the matrix as it stood then
-- (a JSON export), IEC 62304 5.8.
CREATE TABLE releases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    tag           TEXT NOT NULL,
    sha           TEXT NOT NULL,
    export_id     BIGINT NOT NULL REFERENCES exports (id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX releases_by_repository ON releases (repository_id, id);
CREATE TRIGGER exports_no_change BEFORE UPDATE ON exports
BEGIN SELECT RAISE(ABORT, 'exports are kept as made'); END;
CREATE TRIGGER exports_no_delete BEFORE DELETE ON exports
BEGIN SELECT RAISE(ABORT, 'exports are kept as made'); END;
CREATE TRIGGER releases_no_change BEFORE UPDATE ON releases
BEGIN SELECT RAISE(ABORT, 'releases are kept as recorded'); END;
CREATE TRIGGER releases_no_delete BEFORE DELETE ON releases
BEGIN SELECT RAISE(ABORT, 'releases are kept as recorded'); END;
