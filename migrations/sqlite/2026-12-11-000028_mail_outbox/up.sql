-- The mail outbox (issue 18): every e-mail Attest sends is written here
-- first, rendered, in the transaction that decides it is needed (the notify
-- job's, an administrator's test mail), and the mail job delivers it after
-- that transaction commits, retrying with backoff (1 minute doubling up to
-- 6 hours) until it is sent or, after 2 days or a permanent refusal (5xx),
-- marked failed with the server's answer. idem_key makes each mail once
-- (`event-<event>-u-<user>`, `test-<random>`). Kept: never deleted.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    idem_key        TEXT NOT NULL UNIQUE,
    user_id         BIGINT REFERENCES users (id),
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at, id);
CREATE INDEX mail_outbox_by_status ON mail_outbox (status, id);
CREATE TRIGGER mail_outbox_no_delete BEFORE DELETE ON mail_outbox
BEGIN SELECT RAISE(ABORT, 'the mail outbox is kept'); END;
