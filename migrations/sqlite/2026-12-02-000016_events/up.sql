-- Domain events (ARCHITECTURE.md rule 10): what happened to a record that
-- someone may need to be told of ("CAPA-7 assigned to u-3", "a signature
-- is needed"), written in the change's own transaction, so an event exists
-- exactly when its change does. Notifications read the unprocessed ones in
-- order and set processed_at; nothing else of an event ever changes, and no
-- event is deleted.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked')),
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    processed_at TIMESTAMP
);
CREATE INDEX events_unprocessed ON events (processed_at, id);
CREATE INDEX events_by_record ON events (record_type, record_id, id);
CREATE TRIGGER events_no_change BEFORE UPDATE OF id, kind, record_type, record_id, record_key, actor_id, data, created_at ON events
BEGIN SELECT RAISE(ABORT, 'events are kept as written; only processed_at is set'); END;
CREATE TRIGGER events_processed_once BEFORE UPDATE OF processed_at ON events
WHEN OLD.processed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an event is processed once'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are kept as written'); END;
