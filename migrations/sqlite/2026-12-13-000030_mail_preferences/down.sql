DROP INDEX notifications_held;
ALTER TABLE notifications DROP COLUMN digested_at;
ALTER TABLE notifications DROP COLUMN held;
DROP TABLE mail_preferences;
