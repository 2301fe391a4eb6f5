-- How long each CAPA stayed in each state: one row per state left, written
-- by the transition that left it (same transaction). The dashboard's
-- "median days in each state" reads it through (state, seconds).
CREATE TABLE capa_stays (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    capa_id    BIGINT NOT NULL REFERENCES capas (id),
    state      TEXT NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    left_at    TIMESTAMP NOT NULL,
    seconds    BIGINT NOT NULL
);
CREATE INDEX capa_stays_by_capa ON capa_stays (capa_id, id);
CREATE INDEX capa_stays_by_state ON capa_stays (state, seconds);
CREATE TRIGGER capa_stays_no_update BEFORE UPDATE ON capa_stays
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER capa_stays_no_delete BEFORE DELETE ON capa_stays
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER capa_stays_no_truncate BEFORE TRUNCATE ON capa_stays
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
-- The dashboard's ageing and overdue figures read every CAPA's dates and
-- state in one pass; this index holds all four, so the pass never reads rows.
CREATE INDEX capas_by_created ON capas (created_at, due_on, state, updated_at);
