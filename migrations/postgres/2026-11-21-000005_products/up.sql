-- Products (WORKFLOWS.md): what nonconformances, CAPAs and risks are about.
-- Never deleted: a product no longer made is archived.
CREATE TABLE products (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL UNIQUE,
    safety_class TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE TRIGGER products_no_delete BEFORE DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION attest_refuse_delete();
CREATE TRIGGER products_no_truncate BEFORE TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_delete();
