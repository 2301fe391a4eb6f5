-- Requirements (TRACEABILITY.md; IEC 62304 5.2): a key unique in its
-- product (stored upper case, e.g. SRS-012), kind, safety class, status
-- (active | retired; never deleted). text_version counts the statement's
-- versions (title and text); every one of them is kept in
-- requirement_texts. Parents are links (req-N derives_from req-M).
CREATE TABLE requirements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id      BIGINT NOT NULL REFERENCES products (id),
    key             TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL,
    safety_class    TEXT NOT NULL,
    status          TEXT NOT NULL,
    text_version    BIGINT NOT NULL DEFAULT 1,
    text_changed_at TIMESTAMP NOT NULL,
    created_by      BIGINT REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX requirements_key ON requirements (product_id, key);
CREATE INDEX requirements_by_key ON requirements (key);
CREATE TRIGGER requirements_no_delete BEFORE DELETE ON requirements
BEGIN SELECT RAISE(ABORT, 'requirements are never deleted: retire them instead'); END;

-- Every version of every requirement's statement; append-only.
CREATE TABLE requirement_texts (
    requirement_id BIGINT NOT NULL REFERENCES requirements (id),
    text_version   BIGINT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    changed_by     BIGINT REFERENCES users (id),
    changed_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (requirement_id, text_version)
);
CREATE TRIGGER requirement_texts_no_update BEFORE UPDATE ON requirement_texts
BEGIN SELECT RAISE(ABORT, 'requirement_texts is append-only'); END;
CREATE TRIGGER requirement_texts_no_delete BEFORE DELETE ON requirement_texts
BEGIN SELECT RAISE(ABORT, 'requirement_texts is append-only'); END;

-- Uploaded requirement CSV files, kept as uploaded (content and SHA-256),
-- previewed, then applied at most once.
CREATE TABLE requirement_imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id  BIGINT NOT NULL REFERENCES products (id),
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    applied_at  TIMESTAMP,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE TRIGGER requirement_imports_no_delete BEFORE DELETE ON requirement_imports
BEGIN SELECT RAISE(ABORT, 'imports are never deleted'); END;
