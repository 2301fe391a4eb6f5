-- Each person's mail preferences (issue 18): per category of notification,
-- mail immediately, in the digest or not at all (signature requests and
-- overdue items cannot be off: the service refuses it), and whether the
-- digest is daily or weekly. A person without a row has every category
-- immediately. Notifications held for the digest are marked, and marked
-- again when a digest has told them.
CREATE TABLE mail_preferences (
    user_id        BIGINT PRIMARY KEY NOT NULL REFERENCES users (id),
    digest         TEXT NOT NULL CHECK (digest IN ('daily', 'weekly')),
    categories     TEXT NOT NULL,
    last_digest_at TIMESTAMP,
    updated_at     TIMESTAMP NOT NULL,
    version        BIGINT NOT NULL
);
ALTER TABLE notifications ADD COLUMN held BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN digested_at TIMESTAMP;
CREATE INDEX notifications_held ON notifications (held, digested_at, user_id);
