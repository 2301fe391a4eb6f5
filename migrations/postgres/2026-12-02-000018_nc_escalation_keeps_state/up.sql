-- Escalating a nonconformance to a CAPA keeps its state (WORKFLOWS.md,
-- updated): the retired state 'capa_opened' led nowhere, so an escalated
-- NC was never dispositioned or closed. Each NC still in it goes back to the
-- state it was escalated from: 'dispositioned' if it has a disposition (only
-- the disposition step sets one), 'under_review' if not. The log cannot be
-- signed from SQL: each move is kept in nc_state_restorations and the next
-- start appends its audit entry (service::nonconformances::audit_restorations).
CREATE TABLE nc_state_restorations (
    nc_id        BIGINT PRIMARY KEY NOT NULL REFERENCES nonconformances (id),
    from_state   TEXT NOT NULL,
    to_state     TEXT NOT NULL,
    version      BIGINT NOT NULL,
    restored_at  TIMESTAMP NOT NULL,
    audit_seq    BIGINT
);
CREATE TRIGGER nc_state_restorations_no_delete BEFORE DELETE ON nc_state_restorations
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER nc_state_restorations_no_truncate BEFORE TRUNCATE ON nc_state_restorations
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
INSERT INTO nc_state_restorations (nc_id, from_state, to_state, version, restored_at)
SELECT id, state,
       CASE WHEN disposition IS NULL THEN 'under_review' ELSE 'dispositioned' END,
       version + 1, (now() AT TIME ZONE 'UTC')
FROM nonconformances WHERE state = 'capa_opened';
UPDATE nonconformances
SET state = CASE WHEN disposition IS NULL THEN 'under_review' ELSE 'dispositioned' END,
    version = version + 1,
    updated_at = (now() AT TIME ZONE 'UTC')
WHERE state = 'capa_opened';
ALTER TABLE nonconformances DROP CONSTRAINT nonconformances_state_valid;
ALTER TABLE nonconformances ADD CONSTRAINT nonconformances_state_valid CHECK (state IN ('reported', 'under_review', 'dispositioned', 'closed'));
