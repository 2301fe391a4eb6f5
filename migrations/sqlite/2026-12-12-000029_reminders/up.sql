-- Reminders of due dates (issue 18): each reminder sent is kept under its
-- key (the duty, the record, the stage, the due date and, for an overdue
-- reminder, the day), written in the same transaction as the domain event
-- that tells people, so a reminder goes out once however often the job
-- runs and on however many instances. Kept: never deleted.
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    idem_key    TEXT NOT NULL UNIQUE,
    duty        TEXT NOT NULL,
    stage       TEXT NOT NULL CHECK (stage IN ('due_soon', 'overdue', 'escalated')),
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    user_id     BIGINT REFERENCES users (id),
    due_on      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX reminders_of_record ON reminders (record_type, record_id, id);
CREATE TRIGGER reminders_no_delete BEFORE DELETE ON reminders
BEGIN SELECT RAISE(ABORT, 'reminders are kept'); END;

-- A reminder is a domain event too; SQLite changes a CHECK by building the
-- table again.
-- Notifications refer to events: their check waits for the commit, when
-- the table built again holds the same rows under the same ids.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue', 'risk_review_requested', 'reminder')),
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    processed_at TIMESTAMP
);
INSERT INTO events_new (id, kind, record_type, record_id, record_key, actor_id, data, created_at, processed_at)
    SELECT id, kind, record_type, record_id, record_key, actor_id, data, created_at, processed_at FROM events;
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
