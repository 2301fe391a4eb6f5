-- Reverting takes away what this migration added: its tables, and the
-- events of the kind it added (their records' risk review decisions go
-- with the table), so the events' CHECK can be what it was. The exports'
-- wider subject CHECK stays: it accepts every row the earlier one did.
DROP TABLE risk_reviews;
DROP TABLE risk_reports;
ALTER TABLE events DISABLE TRIGGER events_no_change;
DELETE FROM events WHERE kind = 'risk_review_requested';
ALTER TABLE events ENABLE TRIGGER events_no_change;
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked', 'training_assigned', 'training_overdue'));
