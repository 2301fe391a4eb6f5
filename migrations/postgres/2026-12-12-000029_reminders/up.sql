-- Reminders of due dates (issue 18): each reminder sent is kept under its
-- key (the duty, the record, the stage, the due date and, for an overdue
-- reminder, the day), written in the same transaction as the domain event
-- that tells people, so a reminder goes out once however often the job
-- runs and on however many instances. Kept: never deleted.
CREATE TABLE reminders (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE FUNCTION attest_reminders_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'reminders are kept';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reminders_no_delete BEFORE DELETE ON reminders
    FOR EACH ROW EXECUTE FUNCTION attest_reminders_kept();

-- A reminder is a domain event too.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue', 'risk_review_requested', 'reminder'));
