-- API tokens (TRACEABILITY.md, SECURITY.md 25): made by a user for
-- themselves, scoped, shown once, stored only as SHA-256; revoked, never
-- deleted.
CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, id);

-- Test cases, per product: a key (TC-044, or the test's full name as CI
-- reports it) and a title. Linked to requirements by test-N verifies req-M.
CREATE TABLE test_cases (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    key        TEXT NOT NULL,
    title      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX test_cases_key ON test_cases (product_id, key);

-- Test runs uploaded by CI, and one result per test case of the run.
CREATE TABLE test_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id    BIGINT NOT NULL REFERENCES products (id),
    repository_id BIGINT REFERENCES repositories (id),
    commit_sha    TEXT NOT NULL,
    branch        TEXT NOT NULL,
    ci_url        TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    uploaded_by   BIGINT NOT NULL REFERENCES users (id),
    received_at   TIMESTAMP NOT NULL,
    tests         BIGINT NOT NULL,
    passed        BIGINT NOT NULL,
    failed        BIGINT NOT NULL,
    skipped       BIGINT NOT NULL,
    errors        BIGINT NOT NULL
);
CREATE INDEX test_runs_by_product ON test_runs (product_id, id);
CREATE TABLE test_results (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       BIGINT NOT NULL REFERENCES test_runs (id),
    test_case_id BIGINT NOT NULL REFERENCES test_cases (id),
    outcome      TEXT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    message      TEXT NOT NULL
);
CREATE INDEX test_results_by_case ON test_results (test_case_id, id);
CREATE INDEX test_results_by_run ON test_results (run_id, id);
CREATE TRIGGER api_tokens_no_delete BEFORE DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER api_tokens_no_truncate BEFORE TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER test_cases_no_delete BEFORE DELETE ON test_cases
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER test_cases_no_truncate BEFORE TRUNCATE ON test_cases
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER test_runs_no_change BEFORE UPDATE OR DELETE ON test_runs
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER test_runs_no_truncate BEFORE TRUNCATE ON test_runs
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER test_results_no_change BEFORE UPDATE OR DELETE ON test_results
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER test_results_no_truncate BEFORE TRUNCATE ON test_results
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
