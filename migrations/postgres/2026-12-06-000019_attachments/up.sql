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
    data   BYTEA NOT NULL,
    PRIMARY KEY (sha256, n)
);
CREATE TABLE attachments (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE TRIGGER file_blobs_no_change BEFORE UPDATE OR DELETE ON file_blobs
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER file_blobs_no_truncate BEFORE TRUNCATE ON file_blobs
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER file_chunks_no_change BEFORE UPDATE OR DELETE ON file_chunks
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER file_chunks_no_truncate BEFORE TRUNCATE ON file_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE FUNCTION attest_attachments_only_removed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'attachments are never deleted';
    END IF;
    IF (NEW.id, NEW.record_type, NEW.record_id, NEW.part, NEW.name, NEW.sha256, NEW.size, NEW.added_by, NEW.added_at)
        IS DISTINCT FROM
       (OLD.id, OLD.record_type, OLD.record_id, OLD.part, OLD.name, OLD.sha256, OLD.size, OLD.added_by, OLD.added_at) THEN
        RAISE EXCEPTION 'attachments are kept as added; only their removal is recorded';
    END IF;
    IF OLD.removed_at IS NOT NULL THEN
        RAISE EXCEPTION 'an attachment is removed once';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER attachments_no_change BEFORE UPDATE OR DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION attest_attachments_only_removed();
CREATE TRIGGER attachments_no_truncate BEFORE TRUNCATE ON attachments
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER attachments_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON attachments
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
