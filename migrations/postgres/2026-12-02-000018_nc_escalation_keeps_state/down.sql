-- The moves back are not undone: the records went on from there.
ALTER TABLE nonconformances DROP CONSTRAINT nonconformances_state_valid;
ALTER TABLE nonconformances ADD CONSTRAINT nonconformances_state_valid CHECK (state IN ('reported', 'under_review', 'dispositioned', 'capa_opened', 'closed'));
DROP TABLE nc_state_restorations;
