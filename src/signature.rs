//! Part 11 electronic signatures (SIGNATURES.md, docs/signatures.md): the
//! signer's key, wrapped under their own password; the signed message; and
//! verification with a specific reason for every way it can fail.
//!
//! Nothing here touches the database: `service::signing` stores and loads,
//! this module computes.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::audit::canonical;

/// The key-derivation parameters written beside each wrapped key's salt:
/// argon2id, 19 MiB, two passes, one lane (the login hash's cost, its own salt).
pub const KDF_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
/// nonce || ciphertext of the 32-byte seed || tag.
pub const WRAPPED_LEN: usize = NONCE_LEN + 32 + 16;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not create a random value: {0}")]
    Random(String),
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// The password does not open the wrapped key.
    #[error("the password is wrong")]
    WrongPassword,
    #[error("the stored signing key is damaged: {0}")]
    Damaged(&'static str),
}

/// A key id: hex of the first 8 bytes of SHA-256(public key).
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// A freshly made key pair, its private half wrapped under a password.
pub struct NewKey {
    pub key_id: String,
    pub public_key: [u8; 32],
    pub wrapped: Vec<u8>,
    pub salt: Vec<u8>,
}

fn random<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(b)
}

fn kek(password: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let (m, t, p) = KDF_PARAMS;
    let params = Params::new(m, t, p, Some(32)).map_err(|e| KeyError::Kdf(e.to_string()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut out[..])
        .map_err(|e| KeyError::Kdf(e.to_string()))?;
    Ok(out)
}

/// Binds a wrapped key to its owner and key id, so a wrapped key copied onto
/// another user's row does not open.
fn aad(user_id: i64, key_id: &str) -> Vec<u8> {
    format!("attest signing key v1\nu-{user_id}\n{key_id}").into_bytes()
}

/// Wraps `seed` under `password` with a fresh salt and nonce.
pub fn wrap(
    user_id: i64,
    key_id: &str,
    seed: &[u8; 32],
    password: &str,
) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let salt = random::<SALT_LEN>()?;
    let nonce = random::<NONCE_LEN>()?;
    let kek = kek(&crate::domain::user::normalised_password(password), &salt)?;
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(kek.as_slice()));
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: seed,
                aad: &aad(user_id, key_id),
            },
        )
        .map_err(|_| KeyError::Kdf("encryption failed".into()))?;
    let mut wrapped = nonce.to_vec();
    wrapped.extend_from_slice(&sealed);
    Ok((wrapped, salt.to_vec()))
}

/// Opens a wrapped key with `password`.
pub fn unwrap(
    user_id: i64,
    key_id: &str,
    wrapped: &[u8],
    salt: &[u8],
    password: &str,
) -> Result<SigningKey, KeyError> {
    if wrapped.len() != WRAPPED_LEN || salt.len() != SALT_LEN {
        return Err(KeyError::Damaged("wrong length"));
    }
    let open = |password: &str| -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let kek = kek(password, salt)?;
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(kek.as_slice()));
        cipher
            .decrypt(
                XNonce::from_slice(&wrapped[..NONCE_LEN]),
                Payload {
                    msg: &wrapped[NONCE_LEN..],
                    aad: &aad(user_id, key_id),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeyError::WrongPassword)
    };
    // Keys are wrapped under the NFC password; one wrapped before that was
    // so opens with the password as typed.
    let nfc = crate::domain::user::normalised_password(password);
    let seed = match open(&nfc) {
        Err(KeyError::WrongPassword) if nfc != password => open(password)?,
        other => other?,
    };
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Damaged("wrong seed length"))?;
    let key = SigningKey::from_bytes(seed);
    if self::key_id(key.verifying_key().as_bytes()) != key_id {
        return Err(KeyError::Damaged(
            "the private key does not match its key id",
        ));
    }
    Ok(key)
}

/// Makes a key pair for `user_id` and wraps it under `password`.
pub fn generate(user_id: i64, password: &str) -> Result<NewKey, KeyError> {
    let seed = Zeroizing::new(random::<32>()?);
    let public_key = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let id = key_id(&public_key);
    let (wrapped, salt) = wrap(user_id, &id, &seed, password)?;
    Ok(NewKey {
        key_id: id,
        public_key,
        wrapped,
        salt,
    })
}

/// Re-wraps an opened key under a new password (password change).
pub fn rewrap(
    user_id: i64,
    key: &SigningKey,
    new_password: &str,
) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let seed = Zeroizing::new(key.to_bytes());
    wrap(
        user_id,
        &key_id(key.verifying_key().as_bytes()),
        &seed,
        new_password,
    )
}

/// The record a signature is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub key: String,
    pub version: i64,
}

/// The signer as the message names them (11.50(a)(1)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerRef {
    pub id: String,
    pub username: String,
    pub name: String,
}

/// The signed message (SIGNATURES.md "What a signature is").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub v: i64,
    pub record: RecordRef,
    pub content_sha256: String,
    pub transition: Option<String>,
    pub meaning: String,
    pub signer: SignerRef,
    pub signed_at: String,
    pub key_id: String,
}

impl Message {
    /// The exact bytes signed: RFC 8785 canonical JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, canonical::CanonicalError> {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        canonical::to_vec(&value)
    }

    /// Reads stored bytes back; `None` unless they are exactly canonical.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if !canonical::is_canonical(bytes) {
            return None;
        }
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|m| m.v == 1)
    }

    pub fn signed_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.signed_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Hex SHA-256 of the RFC 8785 form of a record's signed content.
pub fn content_sha256(content: &Value) -> Result<String, canonical::CanonicalError> {
    Ok(hex::encode(Sha256::digest(canonical::to_vec(content)?)))
}

/// Signs `message` with `key`; returns the bytes signed and the signature.
pub fn sign(key: &SigningKey, message: &Message) -> Result<(Vec<u8>, [u8; 64]), KeyError> {
    let bytes = message
        .to_bytes()
        .map_err(|_| KeyError::Damaged("the message cannot be canonicalised"))?;
    let signature = key.sign(&bytes).to_bytes();
    Ok((bytes, signature))
}

/// A stored signature as verification reads it.
#[derive(Clone, Debug)]
pub struct Stored {
    pub id: i64,
    /// The record the row is attached to.
    pub record_type: String,
    pub record_id: String,
    pub key_id: String,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

/// A public key on file, with what the audit trail recorded when it was issued.
#[derive(Clone, Debug)]
pub struct KeyOnFile {
    pub key_id: String,
    pub user_id: i64,
    pub public_key: Vec<u8>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// The public key in the `signature.key_issued` audit entry, if found.
    pub issued_in_log: Option<Vec<u8>>,
}

/// Why a signature does not verify. Each names what an auditor must look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    Malformed,
    KeyIdColumn {
        column: String,
        signed: String,
    },
    Moved {
        signed_for: String,
        attached_to: String,
    },
    UnknownKey(String),
    KeyReplaced(String),
    NotInLog(String),
    OtherOwner {
        key_id: String,
        signer: String,
    },
    NotValidAt {
        key_id: String,
        signed_at: String,
    },
    BadSignature(String),
    ContentChanged {
        signed: String,
        now: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str(
                "the stored message is not a version-1 signed message in canonical JSON, or the signature is not 64 bytes",
            ),
            Self::KeyIdColumn { column, signed } => write!(
                f,
                "the stored key id {column} differs from the signed key id {signed}"
            ),
            Self::Moved {
                signed_for,
                attached_to,
            } => write!(
                f,
                "the signature was made for {signed_for} but is attached to {attached_to}: it was moved"
            ),
            Self::UnknownKey(k) => write!(f, "no signing key {k} is on file"),
            Self::KeyReplaced(k) => write!(
                f,
                "the public key on file for {k} does not hash to that key id: the key was replaced"
            ),
            Self::NotInLog(k) => write!(
                f,
                "the public key on file for {k} is not the one the audit trail recorded when it was issued: the key was replaced"
            ),
            Self::OtherOwner { key_id, signer } => {
                write!(f, "key {key_id} does not belong to the signer {signer}")
            }
            Self::NotValidAt { key_id, signed_at } => {
                write!(f, "key {key_id} was not valid at {signed_at}")
            }
            Self::BadSignature(k) => write!(
                f,
                "the Ed25519 signature does not verify against key {k}: the signed message or the key was altered"
            ),
            Self::ContentChanged { signed, now } => write!(
                f,
                "the record's content changed after it was signed (SHA-256 signed {}…, now {}…)",
                signed.get(..12).unwrap_or(signed),
                now.get(..12).unwrap_or(now)
            ),
        }
    }
}

/// Verifies a stored signature: the message, the key valid at `signed_at`
/// (on file, matching its id, its owner and the audit trail), the Ed25519
/// signature, and, when `current_content` is given, that the record's
/// content is still what was signed. Returns the message for display.
pub fn verify(
    stored: &Stored,
    key: Option<&KeyOnFile>,
    current_content: Option<&str>,
) -> Result<Message, Failure> {
    let message = Message::parse(&stored.message).ok_or(Failure::Malformed)?;
    let signature: [u8; 64] = stored
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| Failure::Malformed)?;
    if stored.key_id != message.key_id {
        return Err(Failure::KeyIdColumn {
            column: stored.key_id.clone(),
            signed: message.key_id.clone(),
        });
    }
    if stored.record_type != message.record.kind || stored.record_id != message.record.id {
        return Err(Failure::Moved {
            signed_for: format!(
                "{} {} ({})",
                message.record.kind, message.record.key, message.record.id
            ),
            attached_to: format!("{} {}", stored.record_type, stored.record_id),
        });
    }
    let kid = message.key_id.clone();
    let key = key.ok_or_else(|| Failure::UnknownKey(kid.clone()))?;
    if key_id(&key.public_key) != kid || key.key_id != kid {
        return Err(Failure::KeyReplaced(kid));
    }
    if key.issued_in_log.as_deref() != Some(key.public_key.as_slice()) {
        return Err(Failure::NotInLog(kid));
    }
    if format!("u-{}", key.user_id) != message.signer.id {
        return Err(Failure::OtherOwner {
            key_id: kid,
            signer: message.signer.id.clone(),
        });
    }
    let valid = message
        .signed_at()
        .is_some_and(|t| t >= key.valid_from && key.valid_until.is_none_or(|until| t < until));
    if !valid {
        return Err(Failure::NotValidAt {
            key_id: kid,
            signed_at: message.signed_at.clone(),
        });
    }
    let public: [u8; 32] = key
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| Failure::KeyReplaced(kid.clone()))?;
    let triple = ed25519_triple(&public, &stored.message, &signature);
    if !ed25519_holds(&triple) {
        let verifying =
            VerifyingKey::from_bytes(&public).map_err(|_| Failure::KeyReplaced(kid.clone()))?;
        verifying
            .verify_strict(&stored.message, &Signature::from_bytes(&signature))
            .map_err(|_| Failure::BadSignature(kid))?;
        ed25519_held(triple);
    }
    if let Some(now) = current_content
        && now != message.content_sha256
    {
        return Err(Failure::ContentChanged {
            signed: message.content_sha256.clone(),
            now: now.to_string(),
        });
    }
    Ok(message)
}

/// Ed25519 checks that held, by the SHA-256 of key, message and signature.
/// The check is a pure function of those bytes, so one that held once holds
/// again: a record page shows its signatures on every view, and the key on
/// file, the signer, the validity and the content are still checked against
/// the database each time; only the curve arithmetic is not done twice.
static ED25519_HELD: std::sync::Mutex<Option<std::collections::HashSet<[u8; 32]>>> =
    std::sync::Mutex::new(None);

/// How many held checks are remembered; past that the set starts again.
const ED25519_KEPT: usize = 65_536;

fn ed25519_triple(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(public);
    h.update(signature);
    h.update(message);
    h.finalize().into()
}

fn ed25519_holds(triple: &[u8; 32]) -> bool {
    ED25519_HELD
        .lock()
        .is_ok_and(|held| held.as_ref().is_some_and(|h| h.contains(triple)))
}

fn ed25519_held(triple: [u8; 32]) {
    if let Ok(mut held) = ED25519_HELD.lock() {
        let set = held.get_or_insert_with(Default::default);
        if set.len() >= ED25519_KEPT {
            set.clear();
        }
        set.insert(triple);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PW: &str = "a long passphrase of my own";

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + s, 0)
            .single()
            .unwrap_or_default()
    }

    fn fixture() -> (SigningKey, KeyOnFile, Stored, Message) {
        let made = generate(7, PW).unwrap_or_else(|e| panic!("{e}"));
        let key = unwrap(7, &made.key_id, &made.wrapped, &made.salt, PW)
            .unwrap_or_else(|e| panic!("{e}"));
        let on_file = KeyOnFile {
            key_id: made.key_id.clone(),
            user_id: 7,
            public_key: made.public_key.to_vec(),
            valid_from: at(0),
            valid_until: None,
            issued_in_log: Some(made.public_key.to_vec()),
        };
        let message = Message {
            v: 1,
            record: RecordRef {
                kind: "nonconformance".into(),
                id: "nc-3".into(),
                key: "NC-3".into(),
                version: 4,
            },
            content_sha256: content_sha256(&serde_json::json!({"title": "Burr"}))
                .unwrap_or_default(),
            transition: Some("disposition".into()),
            meaning: "Approved".into(),
            signer: SignerRef {
                id: "u-7".into(),
                username: "jdoe".into(),
                name: "Jane Doe".into(),
            },
            signed_at: crate::audit::format_time(at(60)),
            key_id: made.key_id.clone(),
        };
        let (bytes, sig) = sign(&key, &message).unwrap_or_else(|e| panic!("{e}"));
        let stored = Stored {
            id: 1,
            record_type: "nonconformance".into(),
            record_id: "nc-3".into(),
            key_id: made.key_id,
            message: bytes,
            signature: sig.to_vec(),
        };
        (key, on_file, stored, message)
    }

    #[test]
    fn a_wrapped_key_opens_only_with_its_password_owner_and_id() {
        let made = generate(7, PW).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(made.wrapped.len(), WRAPPED_LEN);
        assert_eq!(made.key_id, key_id(&made.public_key));
        assert_eq!(made.key_id.len(), 16);
        assert!(unwrap(7, &made.key_id, &made.wrapped, &made.salt, PW).is_ok());
        assert!(matches!(
            unwrap(
                7,
                &made.key_id,
                &made.wrapped,
                &made.salt,
                "not my passphrase"
            ),
            Err(KeyError::WrongPassword)
        ));
        // Copied onto another user's row, it does not open.
        assert!(unwrap(8, &made.key_id, &made.wrapped, &made.salt, PW).is_err());
        let mut flipped = made.wrapped.clone();
        flipped[30] ^= 1;
        assert!(unwrap(7, &made.key_id, &flipped, &made.salt, PW).is_err());
    }

    #[test]
    fn rewrapping_keeps_the_key_and_changes_the_password() {
        let made = generate(7, PW).unwrap_or_else(|e| panic!("{e}"));
        let key = unwrap(7, &made.key_id, &made.wrapped, &made.salt, PW)
            .unwrap_or_else(|e| panic!("{e}"));
        let (wrapped, salt) = rewrap(7, &key, "another passphrase of mine").unwrap_or_default();
        assert_ne!(salt, made.salt);
        let again = unwrap(
            7,
            &made.key_id,
            &wrapped,
            &salt,
            "another passphrase of mine",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.verifying_key().to_bytes(), made.public_key);
        assert!(unwrap(7, &made.key_id, &wrapped, &salt, PW).is_err());
    }

    #[test]
    fn the_message_is_canonical_json_with_every_member_of_the_spec() {
        let (_, _, stored, message) = fixture();
        let text = String::from_utf8(stored.message.clone()).unwrap_or_default();
        assert!(text.starts_with(r#"{"content_sha256":""#), "{text}");
        for member in [
            r#""key_id":""#,
            r#""meaning":"Approved""#,
            r#""record":{"id":"nc-3","key":"NC-3","type":"nonconformance","version":4}"#,
            r#""signer":{"id":"u-7","name":"Jane Doe","username":"jdoe"}"#,
            r#""transition":"disposition""#,
            r#""v":1"#,
        ] {
            assert!(text.contains(member), "{member} in {text}");
        }
        assert_eq!(Message::parse(&stored.message), Some(message));
    }

    #[test]
    fn a_good_signature_verifies_and_each_kind_of_tampering_fails_with_its_reason() {
        let (_, key, stored, message) = fixture();
        let content = message.content_sha256.clone();
        assert!(verify(&stored, Some(&key), Some(&content)).is_ok());

        // Content changed after signing.
        let other =
            content_sha256(&serde_json::json!({"title": "Burr, edited"})).unwrap_or_default();
        assert!(matches!(
            verify(&stored, Some(&key), Some(&other)),
            Err(Failure::ContentChanged { .. })
        ));
        // Moved to another record.
        let moved = Stored {
            record_id: "nc-4".into(),
            ..stored.clone()
        };
        assert!(matches!(
            verify(&moved, Some(&key), Some(&content)),
            Err(Failure::Moved { .. })
        ));
        // Key swapped: another public key under the same id.
        let (_, other_key, _, _) = fixture();
        let swapped = KeyOnFile {
            public_key: other_key.public_key.clone(),
            ..key.clone()
        };
        assert_eq!(
            verify(&stored, Some(&swapped), Some(&content)),
            Err(Failure::KeyReplaced(key.key_id.clone()))
        );
        // A whole new key row made to look right, but not the one the log recorded.
        let forged = KeyOnFile {
            issued_in_log: Some(other_key.public_key.clone()),
            ..key.clone()
        };
        assert_eq!(
            verify(&stored, Some(&forged), Some(&content)),
            Err(Failure::NotInLog(key.key_id.clone()))
        );
        // Re-signed by another key that claims the signer.
        let mut bytes = stored.message.clone();
        let at = bytes.len() - 3;
        bytes[at] ^= 1;
        let altered = Stored {
            message: bytes,
            ..stored.clone()
        };
        assert!(verify(&altered, Some(&key), Some(&content)).is_err());
        let mut sig = stored.signature.clone();
        sig[5] ^= 1;
        let bad = Stored {
            signature: sig,
            ..stored.clone()
        };
        assert_eq!(
            verify(&bad, Some(&key), Some(&content)),
            Err(Failure::BadSignature(key.key_id.clone()))
        );
        // Remembering the checks that held changes no answer, asked again.
        assert!(verify(&stored, Some(&key), Some(&content)).is_ok());
        assert!(verify(&altered, Some(&key), Some(&content)).is_err());
        assert_eq!(
            verify(&bad, Some(&key), Some(&content)),
            Err(Failure::BadSignature(key.key_id.clone()))
        );
        assert_eq!(
            verify(&stored, None, Some(&content)),
            Err(Failure::UnknownKey(key.key_id.clone()))
        );
        let someone_else = KeyOnFile {
            user_id: 8,
            ..key.clone()
        };
        assert!(matches!(
            verify(&stored, Some(&someone_else), Some(&content)),
            Err(Failure::OtherOwner { .. })
        ));
        // Signed after the key was retired, or before it was issued.
        let retired = KeyOnFile {
            valid_until: Some(self::tests::at(30)),
            ..key.clone()
        };
        assert!(matches!(
            verify(&stored, Some(&retired), Some(&content)),
            Err(Failure::NotValidAt { .. })
        ));
        // Retired later: the signature made while it was valid still verifies.
        let later = KeyOnFile {
            valid_until: Some(self::tests::at(120)),
            ..key.clone()
        };
        assert!(verify(&stored, Some(&later), Some(&content)).is_ok());
    }
}
