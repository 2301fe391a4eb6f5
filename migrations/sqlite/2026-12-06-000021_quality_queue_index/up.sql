-- "What needs me" lists, for a QA manager, the CAPAs in verification that
-- someone else owns (segregation of duties: never the owner's own). Keeping
-- the owner in the state index lets that list skip the reader's own CAPAs in
-- the index, without reading each row: with 10,000 CAPAs, 1,755 of them in
-- verification and owned by the reader, the query went from 1.1 ms to
-- 0.19 ms (docs/benchmarks.md). The old index's columns are a prefix of the
-- new one, so every query that used it still can.
DROP INDEX capas_by_state;
CREATE INDEX capas_by_state ON capas (state, id, owner_id);
