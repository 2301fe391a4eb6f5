-- Reverting takes away what this migration added: the reminders, their
-- events and the notifications of those events, so the events' CHECK can
-- be what it was; SQLite builds the table again for that (a DROP TABLE
-- fires no trigger).
DROP TABLE reminders;
DROP TRIGGER notifications_no_delete;
DELETE FROM notifications WHERE event_id IN (SELECT id FROM events WHERE kind = 'reminder');
CREATE TRIGGER notifications_no_delete BEFORE DELETE ON notifications
BEGIN SELECT RAISE(ABORT, 'notifications are kept'); END;
-- Notifications refer to events: their check waits for the commit, when
-- the table built again holds the same rows under the same ids.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue', 'risk_review_requested')),
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    processed_at TIMESTAMP
);
INSERT INTO events_new (id, kind, record_type, record_id, record_key, actor_id, data, created_at, processed_at)
    SELECT id, kind, record_type, record_id, record_key, actor_id, data, created_at, processed_at FROM events WHERE kind <> 'reminder';
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_unprocessed ON events (processed_at, id);
CREATE INDEX events_by_record ON events (record_type, record_id, id);
CREATE TRIGGER events_no_change BEFORE UPDATE OF id, kind, record_type, record_id, record_key, actor_id, data, created_at ON events
BEGIN SELECT RAISE(ABORT, 'events are kept as written; only processed_at is set'); END;
CREATE TRIGGER events_processed_once BEFORE UPDATE OF processed_at ON events
WHEN OLD.processed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an event is processed once'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are kept as written'); END;
