-- Controlled documents, key DOC-n, and their versions vN (issue 15;
-- WORKFLOWS.md "Document"). A version's state changes only through the
-- workflow engine's transition service; rows are never deleted. At most one
-- version of a document is effective, and at most one is open (draft, in
-- review or approved and waiting for its date): unique partial indexes hold
-- both even against two transactions at once.
CREATE TABLE documents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title          TEXT NOT NULL,
    doc_type       TEXT NOT NULL CHECK (doc_type IN ('sop', 'work_instruction', 'form', 'plan', 'specification', 'report', 'record', 'policy', 'manual')),
    owner_id       BIGINT NOT NULL REFERENCES users (id),
    product_id     BIGINT REFERENCES products (id),
    review_months  BIGINT NOT NULL CHECK (review_months BETWEEN 0 AND 120),
    next_review_on TEXT,
    created_by     BIGINT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);
-- The words of every version's title and body, for the master list's text
-- search (a word's prefix finds it through the primary key; compared byte
-- by byte). Words are only ever added: a word of an earlier draft still
-- finds the document, whose versions all stay readable.
CREATE TABLE document_words (
    word        TEXT NOT NULL,
    document_id BIGINT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (word, document_id)
);
CREATE INDEX documents_by_title ON documents (title, id);
CREATE INDEX documents_by_type ON documents (doc_type, id);
CREATE INDEX documents_by_owner ON documents (owner_id, id);
CREATE INDEX documents_by_product ON documents (product_id, id);
CREATE INDEX documents_by_review ON documents (next_review_on, id);
CREATE TABLE document_versions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    document_id       BIGINT NOT NULL REFERENCES documents (id),
    number            BIGINT NOT NULL CHECK (number >= 1),
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    change_reason     TEXT NOT NULL,
    change_summary    TEXT NOT NULL,
    author_id         BIGINT NOT NULL REFERENCES users (id),
    reviewers         TEXT NOT NULL,
    reviewed          TEXT NOT NULL,
    round             BIGINT NOT NULL,
    approver_id       BIGINT REFERENCES users (id),
    effective_on      TEXT,
    training_required BOOLEAN NOT NULL,
    comment           TEXT NOT NULL,
    reason            TEXT NOT NULL,
    effective_from    TEXT,
    reviewed_on       TEXT,
    state             TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'approved', 'effective', 'superseded', 'obsolete', 'withdrawn')),
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    UNIQUE (document_id, number)
);
CREATE UNIQUE INDEX document_versions_one_effective ON document_versions (document_id) WHERE state = 'effective';
CREATE UNIQUE INDEX document_versions_one_open ON document_versions (document_id) WHERE state IN ('draft', 'in_review', 'approved');
CREATE INDEX document_versions_by_state ON document_versions (state, document_id);
CREATE INDEX document_versions_by_approver ON document_versions (approver_id, state);
-- The content each review round was sent out with (canonical JSON): the
-- reviewers' signatures of a round the approver returned for changes bind
-- it, and verify against it after the draft has changed.
CREATE TABLE document_rounds (
    version_id     BIGINT NOT NULL REFERENCES document_versions (id),
    round          BIGINT NOT NULL,
    content        TEXT NOT NULL,
    content_sha256 TEXT NOT NULL CHECK (length(content_sha256) = 64),
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (version_id, round)
);
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are never deleted'); END;
CREATE TRIGGER documents_data_changed_insert AFTER INSERT ON documents
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER documents_data_changed_update AFTER UPDATE ON documents
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER document_versions_no_delete BEFORE DELETE ON document_versions
BEGIN SELECT RAISE(ABORT, 'document_versions are never deleted'); END;
CREATE TRIGGER document_versions_data_changed_insert AFTER INSERT ON document_versions
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER document_versions_data_changed_update AFTER UPDATE ON document_versions
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER document_rounds_no_delete BEFORE DELETE ON document_rounds
BEGIN SELECT RAISE(ABORT, 'document_rounds are never deleted'); END;
CREATE TRIGGER document_rounds_data_changed_insert AFTER INSERT ON document_rounds
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER document_rounds_data_changed_update AFTER UPDATE ON document_rounds
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER document_rounds_no_change BEFORE UPDATE ON document_rounds
BEGIN SELECT RAISE(ABORT, 'a review round''s content is kept as sent'); END;
-- Exports of the master list, kept byte for byte with their manifest
-- signed by the log key (as the matrix's exports are).
CREATE TABLE document_exports (
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
    created_at TIMESTAMP NOT NULL
);
CREATE TRIGGER document_exports_no_change BEFORE UPDATE ON document_exports
BEGIN SELECT RAISE(ABORT, 'an export is kept as made'); END;
CREATE TRIGGER document_exports_no_delete BEFORE DELETE ON document_exports
BEGIN SELECT RAISE(ABORT, 'document_exports are never deleted'); END;
