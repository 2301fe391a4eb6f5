-- ISO 14971 risk management (issue 17; WORKFLOWS.md "Risk").
-- A product's risk management plan (4.4) is a versioned record: its
-- criteria (scales, optional P1 x P2 table, acceptability matrix) as JSON,
-- approved by signature; a product has at most one draft and one approved
-- plan at a time (unique partial indexes), older approved ones superseded.
-- Hazards are the product's hazard list (ISO 14971 annex C categories).
-- Risks carry their estimates and the evaluation the approved plan gives
-- them (written again when a new plan is approved, each change audited);
-- their state changes only through the transition service; "needs review"
-- (the reasons, one a line; empty when none) is raised by what the controls
-- rest on and cleared by a recorded review decision. Controls are
-- never deleted: a control taken out is withdrawn and kept.
CREATE TABLE risk_plans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id   BIGINT NOT NULL REFERENCES products (id),
    number       BIGINT NOT NULL CHECK (number >= 1),
    criteria     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'superseded')),
    author       BIGINT NOT NULL REFERENCES users (id),
    approved_at  TIMESTAMP,
    reevaluation TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (product_id, number)
);
CREATE UNIQUE INDEX risk_plans_one_draft ON risk_plans (product_id) WHERE state = 'draft';
CREATE UNIQUE INDEX risk_plans_one_approved ON risk_plans (product_id) WHERE state = 'approved';
CREATE TABLE hazards (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id  BIGINT NOT NULL REFERENCES products (id),
    category    TEXT NOT NULL CHECK (category IN ('energy_acoustic', 'energy_electric', 'energy_mechanical', 'energy_radiation', 'energy_thermal', 'biological', 'chemical', 'immunological', 'performance_data', 'performance_delivery', 'performance_diagnostic', 'performance_functionality', 'use', 'other')),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by  BIGINT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (product_id, name)
);
CREATE TABLE risks (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id          BIGINT NOT NULL REFERENCES products (id),
    hazard_id           BIGINT REFERENCES hazards (id),
    sequence            TEXT NOT NULL DEFAULT '',
    situation           TEXT NOT NULL DEFAULT '',
    harm                TEXT NOT NULL DEFAULT '',
    initial_severity    BIGINT CHECK (initial_severity BETWEEN 1 AND 5),
    initial_probability BIGINT CHECK (initial_probability BETWEEN 1 AND 5),
    initial_p1          BIGINT CHECK (initial_p1 BETWEEN 1 AND 5),
    initial_p2          BIGINT CHECK (initial_p2 BETWEEN 1 AND 5),
    initial_level       BIGINT CHECK (initial_level BETWEEN 1 AND 5),
    initial_verdict     TEXT CHECK (initial_verdict IN ('acceptable', 'review', 'unacceptable')),
    residual_severity    BIGINT CHECK (residual_severity BETWEEN 1 AND 5),
    residual_probability BIGINT CHECK (residual_probability BETWEEN 1 AND 5),
    residual_p1          BIGINT CHECK (residual_p1 BETWEEN 1 AND 5),
    residual_p2          BIGINT CHECK (residual_p2 BETWEEN 1 AND 5),
    residual_level       BIGINT CHECK (residual_level BETWEEN 1 AND 5),
    residual_verdict     TEXT CHECK (residual_verdict IN ('acceptable', 'review', 'unacceptable')),
    residual_reason     TEXT NOT NULL DEFAULT '',
    benefit_risk        TEXT NOT NULL DEFAULT '',
    introduced_by       BIGINT REFERENCES risks (id),
    analyst             BIGINT REFERENCES users (id),
    reason              TEXT NOT NULL DEFAULT '',
    needs_review        TEXT NOT NULL DEFAULT '',
    needs_review_since  TIMESTAMP,
    state               TEXT NOT NULL CHECK (state IN ('identified', 'analyzed', 'controlled', 'verified', 'accepted')),
    created_by          BIGINT NOT NULL REFERENCES users (id),
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX risks_by_product ON risks (product_id, state, id);
CREATE INDEX risks_by_initial ON risks (product_id, initial_severity, initial_level);
CREATE INDEX risks_by_residual ON risks (product_id, residual_severity, residual_level);
CREATE INDEX risks_by_hazard ON risks (hazard_id);
-- Risks needing review (a control's requirement reworded, its test failing):
-- the risk file's filter and the dashboard's count.
CREATE INDEX risks_needing_review ON risks (product_id, needs_review_since);
CREATE TABLE risk_controls (
    id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    risk_id        BIGINT NOT NULL REFERENCES risks (id),
    option         TEXT NOT NULL CHECK (option IN ('inherent_safety', 'protective_measure', 'information_for_safety')),
    description    TEXT NOT NULL,
    requirement_id BIGINT REFERENCES requirements (id),
    effectiveness  TEXT NOT NULL DEFAULT '',
    withdrawn_at   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX risk_controls_by_risk ON risk_controls (risk_id, withdrawn_at);
CREATE INDEX risk_controls_by_requirement ON risk_controls (requirement_id, withdrawn_at);
-- The content each acceptance of a risk signed, kept as it was: a risk
-- reopened and changed afterwards still shows its earlier acceptance
-- signatures verifying against what they bound.
CREATE TABLE risk_acceptances (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    risk_id     BIGINT NOT NULL REFERENCES risks (id),
    content     TEXT NOT NULL,
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    accepted_at TIMESTAMP NOT NULL
);
CREATE INDEX risk_acceptances_by_risk ON risk_acceptances (risk_id);
