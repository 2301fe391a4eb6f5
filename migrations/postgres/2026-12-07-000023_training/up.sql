-- Training records (issue 16; WORKFLOWS.md "Training"; ISO 13485 6.2).
-- Curricula say who must be trained on a document: a role's holders, or
-- named people. An assignment is one person's training on one version; its
-- state changes only through the workflow engine's transition service, and
-- rows are never deleted. Each person holds at most one assignment per
-- document that is not superseded (their standing on it): a unique partial
-- index keeps it so against two transactions at once.
CREATE TABLE training_scope (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents (id),
    role        TEXT CHECK (role IN ('admin', 'quality', 'engineer', 'auditor')),
    user_id     BIGINT REFERENCES users (id),
    added_at    TIMESTAMP NOT NULL,
    removed_at  TIMESTAMP,
    CHECK ((role IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX training_scope_role_once ON training_scope (document_id, role) WHERE removed_at IS NULL AND role IS NOT NULL;
CREATE UNIQUE INDEX training_scope_person_once ON training_scope (document_id, user_id) WHERE removed_at IS NULL AND user_id IS NOT NULL;
CREATE INDEX training_scope_by_role ON training_scope (role, removed_at, document_id);
CREATE INDEX training_scope_by_user ON training_scope (user_id, removed_at, document_id);
-- A document's own number of days to train in (blank: the setting).
CREATE TABLE training_due (
    document_id BIGINT PRIMARY KEY REFERENCES documents (id),
    due_days    BIGINT CHECK (due_days BETWEEN 1 AND 365)
);
CREATE TABLE training_assignments (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    document_id     BIGINT NOT NULL REFERENCES documents (id),
    version_id      BIGINT NOT NULL REFERENCES document_versions (id),
    version_number  BIGINT NOT NULL,
    content_sha256  TEXT NOT NULL CHECK (length(content_sha256) = 64),
    state           TEXT NOT NULL CHECK (state IN ('assigned', 'acknowledged', 'not_required', 'superseded')),
    due_on          TEXT NOT NULL,
    because         TEXT NOT NULL,
    trained_before  BIGINT,
    carried_from    BIGINT REFERENCES training_assignments (id),
    opened_at       TIMESTAMP,
    quiz_passed_at  TIMESTAMP,
    quiz_score      TEXT NOT NULL DEFAULT '',
    acknowledged_at TIMESTAMP,
    overdue_noted   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,
    UNIQUE (user_id, version_id)
);
CREATE UNIQUE INDEX training_assignments_one_standing ON training_assignments (user_id, document_id) WHERE state <> 'superseded';
CREATE INDEX training_assignments_by_document ON training_assignments (document_id, state, user_id);
CREATE INDEX training_assignments_open_by_due ON training_assignments (state, due_on, user_id);
CREATE INDEX training_assignments_by_version ON training_assignments (version_id, state);
-- A version's quiz: up to ten multiple-choice questions and a pass mark in
-- per cent, set by the document's owner (or quality) before anyone tries it.
CREATE TABLE training_quizzes (
    version_id BIGINT PRIMARY KEY REFERENCES document_versions (id),
    pass_mark  BIGINT NOT NULL CHECK (pass_mark BETWEEN 1 AND 100),
    set_by     BIGINT NOT NULL REFERENCES users (id),
    set_at     TIMESTAMP NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE training_questions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES document_versions (id),
    n          BIGINT NOT NULL CHECK (n BETWEEN 1 AND 10),
    question   TEXT NOT NULL,
    choices    TEXT NOT NULL,
    correct    BIGINT NOT NULL,
    retired    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX training_questions_by_version ON training_questions (version_id, retired, n);
CREATE TABLE training_attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment_id BIGINT NOT NULL REFERENCES training_assignments (id),
    answers       TEXT NOT NULL,
    correct       BIGINT NOT NULL,
    questions     BIGINT NOT NULL,
    passed        BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX training_attempts_by_assignment ON training_attempts (assignment_id, id);
-- Settings quality keeps in the app (training due days, the training gate
-- of each workflow and the documents governing its steps).
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Kept exports now say what they list (the document master list, the
-- training matrix).
ALTER TABLE document_exports ADD COLUMN subject TEXT NOT NULL DEFAULT 'documents' CHECK (subject IN ('documents', 'training'));
CREATE INDEX document_exports_by_subject ON document_exports (subject, id);

CREATE TRIGGER training_assignments_no_delete BEFORE DELETE ON training_assignments
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER training_assignments_no_truncate BEFORE TRUNCATE ON training_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER training_scope_no_delete BEFORE DELETE ON training_scope
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER training_attempts_no_change BEFORE UPDATE ON training_attempts
    FOR EACH ROW EXECUTE FUNCTION attest_round_kept();
CREATE TRIGGER training_attempts_no_delete BEFORE DELETE ON training_attempts
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER training_questions_no_delete BEFORE DELETE ON training_questions
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER training_assignments_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON training_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER training_scope_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON training_scope
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();

-- Training needs two more kinds of domain event.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue'));
