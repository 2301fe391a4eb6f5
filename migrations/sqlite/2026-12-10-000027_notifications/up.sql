-- In-app notifications (issue 18): what a domain event tells each person it
-- names, written by the notify job from the events not processed yet (the
-- event marked processed in the same transaction), once per person and
-- event. Kept: a notification is marked read, never deleted.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    event_id    BIGINT NOT NULL REFERENCES events (id),
    kind        TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    record_key  TEXT NOT NULL,
    words       TEXT NOT NULL,
    href        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    read_at     TIMESTAMP,
    UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_of_user ON notifications (user_id, read_at, id);
CREATE TRIGGER notifications_no_delete BEFORE DELETE ON notifications
BEGIN SELECT RAISE(ABORT, 'notifications are kept'); END;
