DROP TABLE audit_tree;
DROP TABLE audit_nodes;
DROP FUNCTION attest_audit_tree_grows_by_one();
