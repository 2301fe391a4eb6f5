-- Signed checkpoints of the audit log (C2SP signed notes), one per tree size,
-- never changed or deleted. `note` is the exact signed note text.
CREATE TABLE audit_checkpoints (
    size      BIGINT PRIMARY KEY NOT NULL,
    root      BLOB NOT NULL,
    note      TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
