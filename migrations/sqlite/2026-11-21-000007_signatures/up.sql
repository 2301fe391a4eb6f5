-- Part 11 electronic signatures (SIGNATURES.md, docs/signatures.md).
--
-- signing_keys: each user's Ed25519 key history. The private key is stored
-- only wrapped (XChaCha20-Poly1305 under an argon2id key derived from the
-- user's own password); a retired key keeps its public half, so signatures
-- made with it still verify, and loses its wrapped private half. At most one
-- key per user is active (valid_until IS NULL). Rows are never deleted, and
-- the identity of a key (key id, owner, public key, valid from) never changes.
CREATE TABLE signing_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    key_id         TEXT NOT NULL UNIQUE,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    public_key     BLOB NOT NULL,
    wrapped_key    BLOB,
    kdf_salt       BLOB,
    valid_from     TIMESTAMP NOT NULL,
    valid_until    TIMESTAMP,
    retired_reason TEXT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (user_id) WHERE valid_until IS NULL;
CREATE INDEX signing_keys_by_user ON signing_keys (user_id, id);
CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
BEGIN SELECT RAISE(ABORT, 'signing keys are retired, never deleted'); END;
CREATE TRIGGER signing_keys_identity_fixed BEFORE UPDATE ON signing_keys
WHEN NEW.id IS NOT OLD.id OR NEW.key_id IS NOT OLD.key_id OR NEW.user_id IS NOT OLD.user_id
  OR NEW.public_key IS NOT OLD.public_key OR NEW.valid_from IS NOT OLD.valid_from
  OR (OLD.valid_until IS NOT NULL AND (NEW.valid_until IS NOT OLD.valid_until
      OR NEW.wrapped_key IS NOT OLD.wrapped_key))
BEGIN SELECT RAISE(ABORT, 'a signing key''s identity never changes and a retired key stays retired'); END;

-- signatures: the exact signed message bytes (RFC 8785 JSON), the 64-byte
-- Ed25519 signature and the key id. The other columns are copied from the
-- message for queries; verification reads only the message. Append-only.
CREATE TABLE signatures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    record_key  TEXT NOT NULL,
    transition  TEXT,
    meaning     TEXT NOT NULL,
    signer_id   BIGINT NOT NULL REFERENCES users (id),
    key_id      TEXT NOT NULL,
    message     BLOB NOT NULL,
    signature   BLOB NOT NULL,
    signed_at   TIMESTAMP NOT NULL
);
CREATE INDEX signatures_by_record ON signatures (record_type, record_id, id);
CREATE INDEX signatures_by_signer ON signatures (signer_id, id);
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;

-- 11.200(a)(1): the first signature of a session asks for the username too.
ALTER TABLE sessions ADD COLUMN first_signed_at TIMESTAMP;
