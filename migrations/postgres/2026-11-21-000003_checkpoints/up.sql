-- Signed checkpoints of the audit log (C2SP signed notes), one per tree size,
-- never changed or deleted. `note` is the exact signed note text.
CREATE TABLE audit_checkpoints (
    size      BIGINT PRIMARY KEY NOT NULL,
    root      BYTEA NOT NULL,
    note      TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
