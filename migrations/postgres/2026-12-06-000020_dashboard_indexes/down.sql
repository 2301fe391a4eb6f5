DROP INDEX capa_items_open_by_due;
DROP INDEX nonconformances_by_created;
