-- The dashboard's figures read indexes, never whole tables (issue 14,
-- item 8): nonconformances reported per month by source read a covering
-- index on the report time; the team's overdue action items read the open
-- items by due date only (a partial index: done items are most of them).
CREATE INDEX nonconformances_by_created ON nonconformances (created_at, source);
CREATE INDEX capa_items_open_by_due ON capa_items (due_on, id) WHERE done_on IS NULL;
