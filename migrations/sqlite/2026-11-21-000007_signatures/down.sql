ALTER TABLE sessions DROP COLUMN first_signed_at;
DROP TABLE signatures;
DROP TABLE signing_keys;
