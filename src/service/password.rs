//! Password hashing: argon2id with m = 19 MiB, t = 2, p = 1 (SECURITY.md),
//! at most `concurrency` hashes at once so a sign-in flood cannot eat the box.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the server is busy checking other passwords; try again in a moment")]
    Busy,
}

fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes on the current thread (CLI and start-up).
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let password = crate::domain::user::normalised_password(password);
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Verifies on the current thread; a malformed stored hash never matches.
/// The password is compared in NFC; a hash made before passwords were
/// normalised is also tried with the password as typed.
pub fn verify_blocking(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(a) = argon2() else { return false };
    let nfc = crate::domain::user::normalised_password(password);
    a.verify_password(nfc.as_bytes(), &parsed).is_ok()
        || (nfc != password && a.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A random one-time password: 16 characters from an alphabet without
/// look-alikes, in groups of four (about 92 bits).
pub fn one_time_password() -> Result<String, PasswordError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(19);
    let mut i = 0;
    while i < 16 {
        let mut b = [0u8; 1];
        getrandom::fill(&mut b).map_err(|e| PasswordError::Hash(e.to_string()))?;
        // Rejection sampling keeps every character equally likely.
        if usize::from(b[0]) >= 256 - 256 % ALPHABET.len() {
            continue;
        }
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b[0]) % ALPHABET.len()]));
        i += 1;
    }
    Ok(out)
}

/// The async face used by request handlers.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(concurrency: u32) -> Result<Self, PasswordError> {
        let dummy = hash_blocking("timing-equaliser-not-a-password")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(
                usize::try_from(concurrency).unwrap_or(1).max(1),
            )),
            dummy_hash: dummy.into(),
        })
    }

    /// Runs argon2id work (hashing, or opening and wrapping signing keys)
    /// on the blocking pool, at most `concurrency` at once.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = tokio::time::timeout(Duration::from_secs(20), self.permits.acquire())
            .await
            .map_err(|_| PasswordError::Busy)?
            .map_err(|_| PasswordError::Busy)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, PasswordError> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Verifies against `stored`, or against a dummy hash when there is no
    /// account, so unknown usernames take as long as wrong passwords.
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_required_parameters_and_verify() {
        let h = hash_blocking("correct horse battery staple").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse battery staple", &h));
        assert!(!verify_blocking("correct horse battery stapler", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }

    #[test]
    fn a_password_typed_decomposed_matches_the_composed_one_security_30() {
        let h = hash_blocking("caf\u{e9} au lait 1234").unwrap_or_default();
        assert!(verify_blocking("cafe\u{301} au lait 1234", &h));
        assert!(!verify_blocking("cafe au lait 1234", &h));
    }

    #[test]
    fn one_time_passwords_are_four_groups_of_four_and_differ() {
        let a = one_time_password().unwrap_or_default();
        let b = one_time_password().unwrap_or_default();
        assert_eq!(a.len(), 19);
        assert_eq!(a.split('-').count(), 4);
        assert_ne!(a, b);
    }
}
