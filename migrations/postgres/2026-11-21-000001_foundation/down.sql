-- The audit log is append-only; this migration is not reversible in place.
DO $$ BEGIN
    RAISE EXCEPTION 'the foundation migration cannot be reverted: restore a backup instead';
END $$;
