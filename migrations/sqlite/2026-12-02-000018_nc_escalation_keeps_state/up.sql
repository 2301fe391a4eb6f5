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
BEGIN SELECT RAISE(ABORT, 'nc_state_restorations are never deleted'); END;
INSERT INTO nc_state_restorations (nc_id, from_state, to_state, version, restored_at)
SELECT id, state,
       CASE WHEN disposition IS NULL THEN 'under_review' ELSE 'dispositioned' END,
       version + 1, strftime('%Y-%m-%d %H:%M:%f', 'now')
FROM nonconformances WHERE state = 'capa_opened';
UPDATE nonconformances
SET state = CASE WHEN disposition IS NULL THEN 'under_review' ELSE 'dispositioned' END,
    version = version + 1,
    updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
WHERE state = 'capa_opened';
DROP TRIGGER nonconformances_state_valid_insert;
DROP TRIGGER nonconformances_state_valid_update;
CREATE TRIGGER nonconformances_state_valid_insert BEFORE INSERT ON nonconformances WHEN NEW.state NOT IN ('reported', 'under_review', 'dispositioned', 'closed')
BEGIN SELECT RAISE(ABORT, 'nonconformances.state: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_state_valid_update BEFORE UPDATE OF state ON nonconformances WHEN NEW.state NOT IN ('reported', 'under_review', 'dispositioned', 'closed')
BEGIN SELECT RAISE(ABORT, 'nonconformances.state: not one of its allowed values'); END;
