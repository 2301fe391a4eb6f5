DROP INDEX capas_by_state;
CREATE INDEX capas_by_state ON capas (state, id);
