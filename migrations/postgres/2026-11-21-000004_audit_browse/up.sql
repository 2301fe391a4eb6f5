-- The audit browser finds a record's history by its human key (CAPA-12,
-- a username) as well as by its id; newest first.
CREATE INDEX audit_entries_by_key ON audit_entries (entity_key, seq);
