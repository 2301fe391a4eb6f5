-- Requirements (TRACEABILITY.md; IEC 62304 5.2): a key unique in its
-- product (stored upper case, e.g. SRS-012), kind, safety class, status
-- (active | retired; never deleted). text_version counts the statement's
-- versions (title and text); every one of them is kept in
-- requirement_texts. Parents are links (req-N derives_from req-M).
CREATE TABLE requirements (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER requirements_no_truncate BEFORE TRUNCATE ON requirements
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();

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
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER requirement_texts_no_delete BEFORE DELETE ON requirement_texts
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER requirement_texts_no_truncate BEFORE TRUNCATE ON requirement_texts
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();

-- Uploaded requirement CSV files, kept as uploaded (content and SHA-256),
-- previewed, then applied at most once.
CREATE TABLE requirement_imports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER requirement_imports_no_truncate BEFORE TRUNCATE ON requirement_imports
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
