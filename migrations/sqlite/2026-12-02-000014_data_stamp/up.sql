-- A counter of changes to records (every audit entry but sign-ins, API
-- reads, refusals), advanced in the change's own transaction: what values
-- computed from the data (the dashboard's figures, the matrices) are kept
-- against, so sign-ins and API reads no longer make them stale.
CREATE TABLE data_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    changes BIGINT NOT NULL
);
INSERT INTO data_stamp (id, changes) VALUES (1, 0);
