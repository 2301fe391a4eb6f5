-- The Merkle tree over the audit log (RFC 9162), kept in the same transaction
-- as each append. audit_nodes holds the hash of every complete subtree above
-- the leaves: (level, idx) covers entries idx*2^level .. (idx+1)*2^level - 1;
-- level 0 is audit_entries.leaf_hash. audit_tree is the tree head: how many
-- entries it covers, its root, and the frontier (the complete subtrees that
-- make up that size, largest first, 32 bytes each) so an append reads nothing.

CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_tree (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    size     BIGINT NOT NULL,
    root     BYTEA NOT NULL,
    frontier BYTEA NOT NULL
);
INSERT INTO audit_tree (id, size, root, frontier)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea, '\x'::bytea);

CREATE FUNCTION attest_audit_tree_grows_by_one() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.size IS DISTINCT FROM OLD.size + 1
       OR NOT EXISTS (SELECT 1 FROM audit_entries WHERE seq = OLD.size) THEN
        RAISE EXCEPTION 'audit_tree only grows by one appended entry' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change();
CREATE TRIGGER audit_tree_grows_by_one BEFORE UPDATE ON audit_tree
    FOR EACH ROW EXECUTE FUNCTION attest_audit_tree_grows_by_one();
