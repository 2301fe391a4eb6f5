-- The data stamp advanced by the database itself on every write to a table
-- that pages and exports read, whoever writes it: Attest, or a person with
-- SQL access to the database. Values kept until the data changes (lists,
-- record pages with their signatures' verified marks, the dashboard, the
-- matrices) are therefore computed again after any change, including one
-- made outside Attest, which a record page then shows at once (a changed
-- signed record is marked "content changed" on its next view). Users and API
-- tokens count only for the columns pages show: sign-ins, lockouts and a
-- token's last use leave the stamp alone.
CREATE TRIGGER products_data_changed_insert AFTER INSERT ON products
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER products_data_changed_update AFTER UPDATE ON products
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER products_data_changed_delete AFTER DELETE ON products
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER nonconformances_data_changed_insert AFTER INSERT ON nonconformances
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER nonconformances_data_changed_update AFTER UPDATE ON nonconformances
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER nonconformances_data_changed_delete AFTER DELETE ON nonconformances
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER signing_keys_data_changed_insert AFTER INSERT ON signing_keys
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER signing_keys_data_changed_update AFTER UPDATE ON signing_keys
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER signing_keys_data_changed_delete AFTER DELETE ON signing_keys
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER signatures_data_changed_insert AFTER INSERT ON signatures
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER signatures_data_changed_update AFTER UPDATE ON signatures
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER signatures_data_changed_delete AFTER DELETE ON signatures
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capas_data_changed_insert AFTER INSERT ON capas
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capas_data_changed_update AFTER UPDATE ON capas
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capas_data_changed_delete AFTER DELETE ON capas
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capa_items_data_changed_insert AFTER INSERT ON capa_items
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capa_items_data_changed_update AFTER UPDATE ON capa_items
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capa_items_data_changed_delete AFTER DELETE ON capa_items
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER links_data_changed_insert AFTER INSERT ON links
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER links_data_changed_update AFTER UPDATE ON links
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER links_data_changed_delete AFTER DELETE ON links
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capa_stays_data_changed_insert AFTER INSERT ON capa_stays
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capa_stays_data_changed_update AFTER UPDATE ON capa_stays
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER capa_stays_data_changed_delete AFTER DELETE ON capa_stays
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER requirements_data_changed_insert AFTER INSERT ON requirements
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER requirements_data_changed_update AFTER UPDATE ON requirements
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER requirements_data_changed_delete AFTER DELETE ON requirements
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER requirement_texts_data_changed_insert AFTER INSERT ON requirement_texts
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER requirement_texts_data_changed_update AFTER UPDATE ON requirement_texts
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER requirement_texts_data_changed_delete AFTER DELETE ON requirement_texts
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER repositories_data_changed_insert AFTER INSERT ON repositories
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER repositories_data_changed_update AFTER UPDATE ON repositories
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER repositories_data_changed_delete AFTER DELETE ON repositories
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER commits_data_changed_insert AFTER INSERT ON commits
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER commits_data_changed_update AFTER UPDATE ON commits
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER commits_data_changed_delete AFTER DELETE ON commits
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER commit_refs_data_changed_insert AFTER INSERT ON commit_refs
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER commit_refs_data_changed_update AFTER UPDATE ON commit_refs
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER commit_refs_data_changed_delete AFTER DELETE ON commit_refs
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_cases_data_changed_insert AFTER INSERT ON test_cases
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_cases_data_changed_update AFTER UPDATE ON test_cases
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_cases_data_changed_delete AFTER DELETE ON test_cases
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_runs_data_changed_insert AFTER INSERT ON test_runs
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_runs_data_changed_update AFTER UPDATE ON test_runs
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_runs_data_changed_delete AFTER DELETE ON test_runs
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_results_data_changed_insert AFTER INSERT ON test_results
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_results_data_changed_update AFTER UPDATE ON test_results
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER test_results_data_changed_delete AFTER DELETE ON test_results
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER exports_data_changed_insert AFTER INSERT ON exports
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER exports_data_changed_update AFTER UPDATE ON exports
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER exports_data_changed_delete AFTER DELETE ON exports
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER releases_data_changed_insert AFTER INSERT ON releases
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER releases_data_changed_update AFTER UPDATE ON releases
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER releases_data_changed_delete AFTER DELETE ON releases
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER users_data_changed_insert AFTER INSERT ON users
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER users_data_changed_update AFTER UPDATE OF username, full_name, email, roles, active ON users
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER users_data_changed_delete AFTER DELETE ON users
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER api_tokens_data_changed_insert AFTER INSERT ON api_tokens
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER api_tokens_data_changed_update AFTER UPDATE OF name, scopes, expires_at, revoked_at ON api_tokens
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
CREATE TRIGGER api_tokens_data_changed_delete AFTER DELETE ON api_tokens
BEGIN UPDATE data_stamp SET changes = changes + 1 WHERE id = 1; END;
