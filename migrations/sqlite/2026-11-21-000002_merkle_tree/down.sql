DROP TRIGGER audit_tree_grows_by_one;
DROP TRIGGER audit_tree_no_delete;
DROP TRIGGER audit_nodes_no_delete;
DROP TRIGGER audit_nodes_no_update;
DROP TABLE audit_tree;
DROP TABLE audit_nodes;
