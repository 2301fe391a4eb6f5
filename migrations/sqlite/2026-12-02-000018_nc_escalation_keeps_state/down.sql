-- The moves back are not undone: the records went on from there.
DROP TRIGGER nonconformances_state_valid_insert;
DROP TRIGGER nonconformances_state_valid_update;
CREATE TRIGGER nonconformances_state_valid_insert BEFORE INSERT ON nonconformances WHEN NEW.state NOT IN ('reported', 'under_review', 'dispositioned', 'capa_opened', 'closed')
BEGIN SELECT RAISE(ABORT, 'nonconformances.state: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_state_valid_update BEFORE UPDATE OF state ON nonconformances WHEN NEW.state NOT IN ('reported', 'under_review', 'dispositioned', 'capa_opened', 'closed')
BEGIN SELECT RAISE(ABORT, 'nonconformances.state: not one of its allowed values'); END;
DROP TRIGGER nc_state_restorations_no_delete;
DROP TABLE nc_state_restorations;
