//! Webhook secrets: made here, shown once, kept sealed with
//! XChaCha20-Poly1305 under a key derived from the log key, bound to the
//! repository they belong to, and compared in constant time.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// What the derived key is for (changing it makes every sealed secret unreadable).
pub const PURPOSE: &str = "repository webhook secrets v1";

/// A new secret: 32 random bytes as 64 hex digits.
pub fn generate() -> Result<Zeroizing<String>, getrandom::Error> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..])?;
    Ok(Zeroizing::new(hex::encode(&bytes[..])))
}

/// Seals `secret` for the repository named by `binding` (e.g.
/// `github:acme/pump-fw`): a random nonce, then the ciphertext.
pub fn seal(key: &[u8; 32], binding: &str, secret: &str) -> Result<Vec<u8>, String> {
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key));
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: binding.as_bytes(),
            },
        )
        .map_err(|_| "sealing failed".to_string())?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a sealed secret; `None` when it was not sealed under this key for
/// this repository (a swapped row, another log key).
pub fn open(key: &[u8; 32], binding: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, ct) = (sealed.get(..24)?, sealed.get(24..)?);
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key));
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: binding.as_bytes(),
            },
        )
        .ok()
        .map(Zeroizing::new)
}

/// GitHub's `X-Hub-Signature-256`: exactly `sha256=` and 64 lower-case hex
/// digits of HMAC-SHA256(secret, body), compared in constant time. Anything
/// else (`sha1=`, upper case, truncated, missing) fails.
pub fn github_signature_ok(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_digits) = header.strip_prefix("sha256=") else {
        return false;
    };
    if hex_digits.len() != 64
        || !hex_digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return false;
    }
    let Ok(tag) = hex::decode(hex_digits) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::verify(&key, body, &tag).is_ok()
}

/// GitLab's `X-Gitlab-Token`: the secret itself, compared in constant time.
pub fn gitlab_token_ok(secret: &[u8], token: &str) -> bool {
    use subtle::ConstantTimeEq;
    secret.len() == token.len() && bool::from(secret.ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_published_test_vector_verifies() {
        // docs.github.com, "Validating webhook deliveries".
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_ok(secret, body, good));
        assert!(!github_signature_ok(secret, b"Hello, World?", good));
        assert!(!github_signature_ok(b"another secret", body, good));
        for bad in [
            "",
            "sha256=",
            "sha1=01f5e8a5e3d2a9c19e8f1d0d1e4f0c8f0a0b0c0d",
            &good.to_uppercase(),
            &good.replace("sha256=", "SHA256="),
            &good[..good.len() - 2],
            &format!("{good}00"),
            &format!(" {good}"),
        ] {
            assert!(!github_signature_ok(secret, body, bad), "{bad:?}");
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_repository_and_key() {
        let key = [7u8; 32];
        let sealed = seal(&key, "github:acme/pump", "s3cret").unwrap();
        assert_eq!(
            open(&key, "github:acme/pump", &sealed)
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"s3cret"[..])
        );
        assert!(open(&key, "github:acme/other", &sealed).is_none());
        assert!(open(&[8u8; 32], "github:acme/pump", &sealed).is_none());
        assert!(open(&key, "github:acme/pump", &sealed[..10]).is_none());
        assert!(gitlab_token_ok(b"tok", "tok"));
        assert!(!gitlab_token_ok(b"tok", "to") && !gitlab_token_ok(b"tok", "tak"));
    }
}
