-- The events' wider CHECK and the exports' subject column stay: SQLite
-- changes neither without building the table again, and both accept every
-- row the earlier schema did.
DROP INDEX document_exports_by_subject;
DROP TABLE settings;
DROP TABLE training_attempts;
DROP TABLE training_questions;
DROP TABLE training_quizzes;
DROP TABLE training_assignments;
DROP TABLE training_due;
DROP TABLE training_scope;
