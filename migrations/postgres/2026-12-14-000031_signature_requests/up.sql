-- Signature requests (issue 18): from a step that needs someone else's
-- electronic signature, a person asks a named colleague to give it (the
-- owner of a CAPA asks a quality colleague to close it as effective). The
-- request is open until it is withdrawn, the colleague takes the step, or
-- the record leaves the state it was asked in (`ended`: withdrawn, taken,
-- moved_on); each is written in the transaction of the change that ends it.
-- The record's page shows the open ones ("Waiting on ..."), the colleague's
-- "What needs me" lists them. Kept: never deleted.
CREATE TABLE signature_requests (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    record_key  TEXT NOT NULL,
    action      TEXT NOT NULL,
    label       TEXT NOT NULL,
    meaning     TEXT NOT NULL,
    state       TEXT NOT NULL,
    asked_of    BIGINT NOT NULL REFERENCES users (id),
    asked_by    BIGINT NOT NULL REFERENCES users (id),
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    ended       TEXT CHECK (ended IN ('withdrawn', 'taken', 'moved_on')),
    ended_at    TIMESTAMP,
    ended_by    BIGINT REFERENCES users (id)
);
CREATE INDEX signature_requests_of ON signature_requests (asked_of, ended, created_at);
CREATE INDEX signature_requests_on ON signature_requests (record_type, record_id, ended);
CREATE FUNCTION attest_signature_requests_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'signature requests are kept';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER signature_requests_no_delete BEFORE DELETE ON signature_requests
    FOR EACH ROW EXECUTE FUNCTION attest_signature_requests_kept();
-- Record pages keep their requests until the data changes (the data stamp).
CREATE TRIGGER signature_requests_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signature_requests
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
