-- Domain events (ARCHITECTURE.md rule 10): what happened to a record that
-- someone may need to be told of ("CAPA-7 assigned to u-3", "a signature
-- is needed"), written in the change's own transaction, so an event exists
-- exactly when its change does. Notifications read the unprocessed ones in
-- order and set processed_at; nothing else of an event ever changes, and no
-- event is deleted.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('step_taken', 'signature_needed', 'assigned', 'item_assigned', 'account_locked')),
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    processed_at TIMESTAMP
);
CREATE INDEX events_unprocessed ON events (processed_at, id);
CREATE INDEX events_by_record ON events (record_type, record_id, id);
CREATE FUNCTION attest_events_only_processed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'events are kept as written';
    END IF;
    IF (NEW.id, NEW.kind, NEW.record_type, NEW.record_id, NEW.record_key, NEW.actor_id, NEW.data, NEW.created_at)
        IS DISTINCT FROM
       (OLD.id, OLD.kind, OLD.record_type, OLD.record_id, OLD.record_key, OLD.actor_id, OLD.data, OLD.created_at) THEN
        RAISE EXCEPTION 'events are kept as written; only processed_at is set';
    END IF;
    IF OLD.processed_at IS NOT NULL THEN
        RAISE EXCEPTION 'an event is processed once';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION attest_events_only_processed();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
