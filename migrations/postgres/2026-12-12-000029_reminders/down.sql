-- Reverting takes away what this migration added: the reminders, their
-- events and the notifications of those events, so the events' CHECK can
-- be what it was.
DROP TABLE reminders;
DROP FUNCTION attest_reminders_kept();
ALTER TABLE notifications DISABLE TRIGGER notifications_no_delete;
DELETE FROM notifications WHERE event_id IN (SELECT id FROM events WHERE kind = 'reminder');
ALTER TABLE notifications ENABLE TRIGGER notifications_no_delete;
ALTER TABLE events DISABLE TRIGGER events_no_change;
DELETE FROM events WHERE kind = 'reminder';
ALTER TABLE events ENABLE TRIGGER events_no_change;
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue', 'risk_review_requested'));
