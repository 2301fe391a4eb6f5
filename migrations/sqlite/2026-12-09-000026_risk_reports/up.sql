-- ISO 14971 7.7, 8 and 10 (issue 17).
-- risk_reports: a product's overall residual risk evaluation (7.7, kind
-- 'evaluation', RRE-n) and its risk management report (8, kind 'report',
-- RMR-n), each a record approved by signature; `checks` keeps the
-- completeness checks as they stood when it was approved (the content the
-- signature binds), `conclusion` the signer's words. At most one draft and
-- one approved of each kind per product; an approval supersedes the one
-- before.
-- risk_reviews: the risk review decision production and post-production
-- information asks for (10): escalating a nonconformance or closing a CAPA
-- on a product asks quality for one; `decision` stays empty until it is
-- recorded (no new hazard, an existing risk updated, a new risk), once.
CREATE TABLE risk_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id  BIGINT NOT NULL REFERENCES products (id),
    kind        TEXT NOT NULL CHECK (kind IN ('evaluation', 'report')),
    plan_id     BIGINT REFERENCES risk_plans (id),
    conclusion  TEXT NOT NULL DEFAULT '',
    checks      TEXT NOT NULL DEFAULT '[]',
    state       TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'superseded')),
    author      BIGINT NOT NULL REFERENCES users (id),
    approved_at TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX risk_reports_by_product ON risk_reports (product_id, kind);
CREATE UNIQUE INDEX risk_reports_one_draft ON risk_reports (product_id, kind) WHERE state = 'draft';
CREATE UNIQUE INDEX risk_reports_one_approved ON risk_reports (product_id, kind) WHERE state = 'approved';
CREATE TABLE risk_reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id  BIGINT NOT NULL REFERENCES products (id),
    record_type TEXT NOT NULL CHECK (record_type IN ('nonconformance', 'capa')),
    record_id   BIGINT NOT NULL,
    asked_on    TEXT NOT NULL,
    asked_at    TIMESTAMP NOT NULL,
    decision    TEXT CHECK (decision IS NULL OR decision IN ('no_new_hazard', 'update_risk', 'new_risk')),
    risk_id     BIGINT REFERENCES risks (id),
    note        TEXT NOT NULL DEFAULT '',
    decided_by  BIGINT REFERENCES users (id),
    decided_at  TIMESTAMP,
    UNIQUE (record_type, record_id)
);
CREATE INDEX risk_reviews_waiting ON risk_reviews (product_id) WHERE decision IS NULL;

-- The risk review decision asked of quality is a domain event too; SQLite
-- changes a CHECK by building the table again.
CREATE TABLE events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue', 'risk_review_requested')),
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    processed_at TIMESTAMP
);
INSERT INTO events_new (id, kind, record_type, record_id, record_key, actor_id, data, created_at, processed_at)
    SELECT id, kind, record_type, record_id, record_key, actor_id, data, created_at, processed_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_unprocessed ON events (processed_at, id);
CREATE INDEX events_by_record ON events (record_type, record_id, id);
CREATE TRIGGER events_no_change BEFORE UPDATE OF id, kind, record_type, record_id, record_key, actor_id, data, created_at ON events
BEGIN SELECT RAISE(ABORT, 'events are kept as written; only processed_at is set'); END;
CREATE TRIGGER events_processed_once BEFORE UPDATE OF processed_at ON events
WHEN OLD.processed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an event is processed once'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are kept as written'); END;

-- A product's risk file is exported and kept as the document master list
-- and the training matrix are (subject 'risks'); SQLite changes a CHECK by
-- building the table again.
CREATE TABLE document_exports_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    file_name  TEXT NOT NULL,
    filters    TEXT NOT NULL,
    rows       BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    content    BLOB NOT NULL,
    manifest   TEXT NOT NULL,
    audit_seq  BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    subject    TEXT NOT NULL DEFAULT 'documents' CHECK (subject IN ('documents', 'training', 'risks'))
);
INSERT INTO document_exports_new (id, format, file_name, filters, rows, sha256, bytes, content, manifest, audit_seq, created_by, created_at, subject)
    SELECT id, format, file_name, filters, rows, sha256, bytes, content, manifest, audit_seq, created_by, created_at, subject FROM document_exports;
DROP TABLE document_exports;
ALTER TABLE document_exports_new RENAME TO document_exports;
CREATE INDEX document_exports_by_subject ON document_exports (subject, id);
CREATE TRIGGER document_exports_no_change BEFORE UPDATE ON document_exports
BEGIN SELECT RAISE(ABORT, 'an export is kept as made'); END;
CREATE TRIGGER document_exports_no_delete BEFORE DELETE ON document_exports
BEGIN SELECT RAISE(ABORT, 'document_exports are never deleted'); END;
