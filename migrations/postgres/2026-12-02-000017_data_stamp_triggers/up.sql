-- The data stamp advanced by the database itself on every write to a table
-- that pages and exports read, whoever writes it: Attest, or a person with
-- SQL access to the database. Values kept until the data changes (lists,
-- record pages with their signatures' verified marks, the dashboard, the
-- matrices) are therefore computed again after any change, including one
-- made outside Attest, which a record page then shows at once (a changed
-- signed record is marked "content changed" on its next view). Users and API
-- tokens count only for the columns pages show: sign-ins, lockouts and a
-- token's last use leave the stamp alone.
CREATE FUNCTION attest_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_stamp SET changes = changes + 1 WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER products_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER nonconformances_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON nonconformances
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER signing_keys_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER signatures_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signatures
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER capas_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON capas
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER capa_items_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON capa_items
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER links_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON links
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER capa_stays_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON capa_stays
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER requirements_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON requirements
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER requirement_texts_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON requirement_texts
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER repositories_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON repositories
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER commits_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON commits
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER commit_refs_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON commit_refs
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER test_cases_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON test_cases
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER test_runs_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON test_runs
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER test_results_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON test_results
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER exports_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON exports
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER releases_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON releases
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER users_data_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF username, full_name, email, roles, active ON users
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
CREATE TRIGGER api_tokens_data_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, scopes, expires_at, revoked_at ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION attest_data_changed();
