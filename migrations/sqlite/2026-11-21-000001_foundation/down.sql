-- The audit log is append-only; this migration is not reversible in place.
SELECT RAISE(ABORT, 'the foundation migration cannot be reverted: restore a backup instead');
