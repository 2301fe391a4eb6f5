-- Attachments (issue 14, item 4): files on records, stored by the SHA-256
-- of their content (never under the name they were uploaded with; the same
-- file twice is stored once). file_blobs lists every content stored, and
-- where: a directory of the data (files/ab/cd/<sha256>) or this database
-- (file_chunks, 1 MiB at a time). attachments ties a content to a record
-- (and a part of it: an action item, the effectiveness check) under the
-- name shown. Nothing is deleted: removing an attachment sets removed_*
-- once, and the content stays.
CREATE TABLE file_blobs (
    sha256     TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
    size       BIGINT NOT NULL CHECK (size > 0),
    stored_in  TEXT NOT NULL CHECK (stored_in IN ('directory', 'database')),
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE file_chunks (
    sha256 TEXT NOT NULL REFERENCES file_blobs (sha256),
    n      BIGINT NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, n)
);
CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    record_type    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    part           TEXT NOT NULL,
    name           TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES file_blobs (sha256),
    size           BIGINT NOT NULL,
    added_by       BIGINT NOT NULL REFERENCES users (id),
    added_at       TIMESTAMP NOT NULL,
    removed_by     BIGINT REFERENCES users (id),
    removed_at     TIMESTAMP,
    removed_reason TEXT NOT NULL
);
CREATE INDEX attachments_by_record ON attachments (record_type, record_id, id);
CREATE TRIGGER file_blobs_no_change BEFORE UPDATE ON file_blobs
BEGIN SELECT RAISE(ABORT, 'stored files are never changed'); END;
CREATE TRIGGER file_blobs_no_delete BEFORE DELETE ON file_blobs
BEGIN SELECT RAISE(ABORT, 'stored files are never deleted'); END;
CREATE TRIGGER file_chunks_no_change BEFORE UPDATE ON file_chunks
BEGIN SELECT RAISE(ABORT, 'stored files are never changed'); END;
CREATE TRIGGER file_chunks_no_delete BEFORE DELETE ON file_chunks
BEGIN SELECT RAISE(ABORT, 'stored files are never deleted'); END;
CREATE TRIGGER attachments_no_change BEFORE UPDATE OF id, record_type, record_id, part, name, sha256, size, added_by, added_at ON attachments
BEGIN SELECT RAISE(ABORT, 'attachments are kept as added; only their removal is recorded'); END;
CREATE TRIGGER attachments_removed_once BEFORE UPDATE OF removed_by, removed_at, removed_reason ON attachments
WHEN OLD.removed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an attachment is removed once'); END;
CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments
BEGIN SELECT RAISE(ABORT, 'attachments are never deleted'); END;
CREATE TRIGGER attachments_data_changed_insert AFTER INSERT ON attachments
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER attachments_data_changed_update AFTER UPDATE ON attachments
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
