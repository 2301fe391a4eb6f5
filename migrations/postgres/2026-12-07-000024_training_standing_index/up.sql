-- The training matrix counts each person's standing assignments by state,
-- due date and the version trained on before: this index answers it alone,
-- without reading the rows.
CREATE INDEX training_assignments_standing ON training_assignments (user_id, state, due_on, trained_before);
