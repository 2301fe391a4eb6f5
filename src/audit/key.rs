//! The server's audit-log key (AUDIT-LOG.md section 3). The private half is a
//! file outside the database (mode 0600) in the signed-note private-key format
//! `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`; the public half is
//! published as the verifier key `<name>+<key id hex>+<base64(0x01 || public)>`.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const ED25519_ALG: u8 = 0x01;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("log key name {0:?} is not valid: it must be non-empty, with no spaces or '+'")]
    BadName(String),
    #[error("the log key file {path} is not a signed-note private key: {why}")]
    BadFile { path: String, why: String },
    #[error("cannot read or write the log key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// Checks a signed-note key name (also the log origin).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The Ed25519 key that signs checkpoints.
pub struct LogKey {
    name: String,
    signing: SigningKey,
}

impl LogKey {
    /// A fresh random key named `name`.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        if !valid_name(name) {
            return Err(KeyError::BadName(name.to_string()));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            signing: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, &self.public_key())
    }

    /// The verifier key string published for auditors.
    pub fn vkey(&self) -> String {
        let mut material = vec![ED25519_ALG];
        material.extend_from_slice(&self.public_key());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(material)
        )
    }

    /// A 32-byte key for `purpose`, derived from this key's seed with
    /// HMAC-SHA256 (so no other secret file is needed; another purpose, or
    /// another log key, gives an unrelated key).
    pub fn derived_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.signing.as_bytes());
        let tag = ring::hmac::sign(&key, format!("attest derived key: {purpose}").as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Ed25519 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    fn private_string(&self) -> Zeroizing<String> {
        let mut material = Zeroizing::new(vec![ED25519_ALG]);
        material.extend_from_slice(self.signing.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{}+{}\n",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(&material[..])
        ))
    }

    /// Parses the private-key file contents.
    pub fn parse(text: &str, path: &str) -> Result<Self, KeyError> {
        let bad = |why: &str| KeyError::BadFile {
            path: path.to_string(),
            why: why.to_string(),
        };
        let rest = text
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("missing PRIVATE+KEY+ prefix"))?;
        // The name has no '+' and the id is 8 hex digits; the base64 key may contain '+'.
        let (name, rest) = rest
            .split_once('+')
            .ok_or_else(|| bad("expected PRIVATE+KEY+<name>+<id>+<key>"))?;
        let (id_hex, material) = rest
            .split_once('+')
            .ok_or_else(|| bad("expected PRIVATE+KEY+<name>+<id>+<key>"))?;
        let material = Zeroizing::new(B64.decode(material).map_err(|_| bad("key is not base64"))?);
        if material.len() != 33 || material[0] != ED25519_ALG {
            return Err(bad("key is not a 32-byte Ed25519 seed"));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&material[1..]);
        let key = Self {
            name: name.to_string(),
            signing: SigningKey::from_bytes(&seed),
        };
        if !valid_name(name) {
            return Err(KeyError::BadName(name.to_string()));
        }
        if hex::encode(key.key_id()) != id_hex {
            return Err(bad("key id does not match the key"));
        }
        Ok(key)
    }

    /// Reads the key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                    path: shown.clone(),
                    source,
                })?,
            );
        Self::parse(&text, &shown)
    }

    /// Writes the key to a new file with mode 0600; never overwrites.
    pub fn save_new(&self, path: &Path) -> Result<(), KeyError> {
        let shown = path.display().to_string();
        let io = |source| KeyError::Io {
            path: shown.clone(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(self.private_string().as_bytes())
            .map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }
}

/// The signed-note key id of an Ed25519 key.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, ED25519_ALG]);
    h.update(public_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_round_trips_and_matches_the_verifier_key() {
        // 64 keys, so base64 material holding '+' is certainly among them.
        for _ in 0..64 {
            let key = LogKey::generate("attest.example.com/audit")
                .unwrap_or_else(|e| unreachable!("{e}"));
            let again = LogKey::parse(&key.private_string(), "test")
                .unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(again.vkey(), key.vkey());
            // name + id + key: the name has no '+' and the id is hex, so split twice.
            let vkey = key.vkey();
            let parts: Vec<&str> = vkey.splitn(3, '+').collect();
            assert_eq!(parts[0], "attest.example.com/audit");
            assert_eq!(parts[1], hex::encode(key.key_id()));
            assert_eq!(B64.decode(parts[2]).map(|b| b.len()).unwrap_or(0), 33);
        }
    }

    #[test]
    fn keys_whose_base64_holds_a_plus_sign_still_parse() {
        for _ in 0..64 {
            let key = LogKey::generate("a/audit").unwrap_or_else(|e| unreachable!("{e}"));
            let again = LogKey::parse(&key.private_string(), "t").map(|k| k.vkey());
            assert_eq!(again.ok(), Some(key.vkey()));
        }
    }

    #[test]
    fn a_key_file_with_a_wrong_id_is_refused() {
        let key = LogKey::generate("a/audit").unwrap_or_else(|e| unreachable!("{e}"));
        let text = key
            .private_string()
            .replace(&hex::encode(key.key_id()), "00000000");
        assert!(matches!(
            LogKey::parse(&text, "t"),
            Err(KeyError::BadFile { .. })
        ));
    }

    #[test]
    fn key_names_with_spaces_or_plus_are_refused() {
        assert!(!valid_name("a b"));
        assert!(!valid_name("a+b"));
        assert!(!valid_name(""));
        assert!(valid_name("attest.example.com/audit"));
    }

    #[test]
    fn key_id_matches_the_signed_note_definition() {
        // Go's golang.org/x/mod/sumdb/note test vector: "PeterNeumann" with its
        // published verifier key PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW.
        let material = B64
            .decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .unwrap_or_default();
        let mut public = [0u8; 32];
        public.copy_from_slice(&material[1..33]);
        assert_eq!(hex::encode(key_id("PeterNeumann", &public)), "c74f20a3");
    }
}
