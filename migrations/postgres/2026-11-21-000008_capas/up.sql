-- CAPAs, key CAPA-n (WORKFLOWS.md; ISO 13485 8.5.2, 8.5.3). The state changes
-- only through the workflow engine's transition service. The five-whys chain
-- and the fishbone causes are JSON arrays on the row: each edit is audited
-- with the old and new chain, and nothing is ever deleted.
CREATE TABLE capas (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title                  TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    source                 TEXT NOT NULL,
    source_ref             TEXT NOT NULL DEFAULT '',
    product_id             BIGINT REFERENCES products (id),
    problem                TEXT NOT NULL DEFAULT '',
    priority               TEXT,
    owner_id               BIGINT REFERENCES users (id),
    due_on                 TEXT,
    containment            TEXT NOT NULL DEFAULT '',
    rca_method             TEXT,
    whys                   TEXT NOT NULL DEFAULT '[]',
    causes                 TEXT NOT NULL DEFAULT '[]',
    root_cause             TEXT NOT NULL DEFAULT '',
    action_required        BOOLEAN,
    action_rationale       TEXT NOT NULL DEFAULT '',
    no_adverse_effect      TEXT NOT NULL DEFAULT '',
    effectiveness_criteria TEXT NOT NULL DEFAULT '',
    effectiveness_due      TEXT,
    effectiveness_result   TEXT,
    effectiveness_evidence TEXT NOT NULL DEFAULT '',
    cancel_justification   TEXT NOT NULL DEFAULT '',
    state                  TEXT NOT NULL,
    created_by             BIGINT NOT NULL REFERENCES users (id),
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    version                BIGINT NOT NULL DEFAULT 1
);

-- Action items (8.5.2 d): done with evidence; never deleted.
CREATE TABLE capa_items (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    capa_id    BIGINT NOT NULL REFERENCES capas (id),
    text       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    owner_id   BIGINT NOT NULL REFERENCES users (id),
    due_on     TEXT NOT NULL,
    done_on    TEXT,
    evidence   TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);

-- Generic links between records, named by entity type and id as the audit
-- log names them (nc-3 escalated_to capa-7; req-12 derives_from req-3;
-- commit-9 implements req-12; test-4 verifies req-12), each audited. Never
-- deleted: an unlinked link keeps its row with who removed it and when.
CREATE TABLE links (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_type  TEXT NOT NULL,
    from_id    TEXT NOT NULL,
    relation   TEXT NOT NULL,
    to_type    TEXT NOT NULL,
    to_id      TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    removed_by BIGINT REFERENCES users (id),
    removed_at TIMESTAMP
);
CREATE INDEX capas_by_state ON capas (state, id);
CREATE INDEX capas_by_owner ON capas (owner_id, id);
CREATE INDEX capas_by_product ON capas (product_id, id);
CREATE INDEX capas_by_due ON capas (due_on, state);
-- The list's two computed orders, as db::repo::capas writes them (the
-- expressions must stay identical for the index to serve the order).
CREATE INDEX capas_by_due_order ON capas ((due_on IS NULL), due_on, id);
CREATE INDEX capas_by_priority_order ON capas ((CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END), id DESC);
CREATE INDEX capa_items_by_capa ON capa_items (capa_id, id);
CREATE INDEX capa_items_by_owner ON capa_items (owner_id, done_on, due_on, id);
CREATE INDEX links_from ON links (from_type, from_id);
CREATE INDEX links_to ON links (to_type, to_id);
CREATE TRIGGER capas_no_delete BEFORE DELETE ON capas
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER capas_no_truncate BEFORE TRUNCATE ON capas
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER capa_items_no_delete BEFORE DELETE ON capa_items
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER capa_items_no_truncate BEFORE TRUNCATE ON capa_items
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER links_no_delete BEFORE DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER links_no_truncate BEFORE TRUNCATE ON links
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
