-- Products (WORKFLOWS.md): what nonconformances, CAPAs and risks are about.
-- Never deleted: a product no longer made is archived.
CREATE TABLE products (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL UNIQUE,
    safety_class TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    active       BOOLEAN NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE TRIGGER products_no_delete BEFORE DELETE ON products
BEGIN SELECT RAISE(ABORT, 'products are never deleted: archive them instead'); END;
