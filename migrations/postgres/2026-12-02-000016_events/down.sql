DROP TABLE events;
DROP FUNCTION attest_events_only_processed();
