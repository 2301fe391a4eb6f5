-- Nonconformances and complaints, key NC-n (WORKFLOWS.md). The state changes
-- only through the workflow engine's transition service; rows are never deleted.
CREATE TABLE nonconformances (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title         TEXT NOT NULL,
    source        TEXT NOT NULL,
    product_id    BIGINT REFERENCES products (id),
    lot_serial    TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    detected_on   TEXT,
    reported_by   BIGINT NOT NULL REFERENCES users (id),
    severity      TEXT,
    state         TEXT NOT NULL,
    disposition   TEXT,
    justification TEXT NOT NULL DEFAULT '',
    closure_note  TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX nonconformances_by_state ON nonconformances (state, id);
CREATE INDEX nonconformances_by_product ON nonconformances (product_id, id);
CREATE TRIGGER nonconformances_no_delete BEFORE DELETE ON nonconformances
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER nonconformances_no_truncate BEFORE TRUNCATE ON nonconformances
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
