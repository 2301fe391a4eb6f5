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
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

-- The risk review decision asked of quality is a domain event too.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue', 'risk_review_requested'));

-- A product's risk file is exported and kept as the document master list
-- and the training matrix are.
ALTER TABLE document_exports DROP CONSTRAINT document_exports_subject_check;
ALTER TABLE document_exports ADD CONSTRAINT document_exports_subject_check CHECK (subject IN ('documents', 'training', 'risks'));
