//! C2SP signed notes and tlog checkpoints (AUDIT-LOG.md section 3).
//!
//! A signed note is its text (non-empty, every line ending in "\n"), a blank
//! line, then signature lines `— <key name> <base64(key id || signature)>\n`,
//! the dash being U+2014. A checkpoint is a note whose text is the log origin,
//! the tree size in decimal and the root hash in standard base64, one per line.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

use super::key::{LogKey, key_id, valid_name};
use super::merkle::Hash;

/// Notes larger than this are refused before parsing.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// Signature lines beyond this are refused (as Go's note package does).
pub const MAX_SIGNATURES: usize = 100;
const DASH: &str = "\u{2014} ";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("the verifier key is malformed: {0}")]
    BadVerifierKey(&'static str),
    #[error("the note text must be non-empty and end with a newline")]
    BadText,
    #[error("the note is malformed: {0}")]
    Malformed(&'static str),
    #[error("the note is not signed by {0}")]
    NotSignedBy(String),
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    #[error("the checkpoint is malformed: {0}")]
    BadCheckpoint(&'static str),
}

/// A public key able to check notes: parsed from `<name>+<id hex>+<base64(0x01 || key)>`.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    pub name: String,
    pub key_id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.trim_end().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadVerifierKey("expected <name>+<key id>+<key>"));
        };
        if !valid_name(name) {
            return Err(NoteError::BadVerifierKey(
                "the name is empty or has spaces or '+'",
            ));
        }
        let id: [u8; 4] = hex::decode(id_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(NoteError::BadVerifierKey("the key id is not 8 hex digits"))?;
        let material = B64
            .decode(material)
            .map_err(|_| NoteError::BadVerifierKey("the key is not base64"))?;
        let raw: [u8; 32] = match material.as_slice() {
            [0x01, rest @ ..] => rest
                .try_into()
                .map_err(|_| NoteError::BadVerifierKey("the key is not 32 bytes"))?,
            _ => {
                return Err(NoteError::BadVerifierKey(
                    "only Ed25519 keys (algorithm 0x01) are supported",
                ));
            }
        };
        if key_id(name, &raw) != id {
            return Err(NoteError::BadVerifierKey(
                "the key id does not match the key",
            ));
        }
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|_| NoteError::BadVerifierKey("not a valid Ed25519 public key"))?;
        Ok(Self {
            name: name.to_string(),
            key_id: id,
            key,
        })
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') || text.contains("\n\n") || text.starts_with('\n') {
        return Err(NoteError::BadText);
    }
    Ok(())
}

/// Signs `text` with the log key and returns the whole note.
pub fn sign(key: &LogKey, text: &str) -> Result<String, NoteError> {
    check_text(text)?;
    let mut blob = key.key_id().to_vec();
    blob.extend_from_slice(&key.sign(text.as_bytes()));
    Ok(format!(
        "{text}\n{DASH}{} {}\n",
        key.name(),
        B64.encode(blob)
    ))
}

/// Checks that `note` carries a valid signature by `verifier` and returns its
/// text. Signatures by other keys are allowed and ignored.
pub fn open<'a>(note: &'a str, verifier: &NoteVerifier) -> Result<&'a str, NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::Malformed("larger than 1 MiB"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    check_text(text)?;
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the signature block must end with a newline",
        ));
    }
    let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(NoteError::Malformed("too many signatures"));
    }
    let mut found = false;
    for line in lines {
        let rest = line.strip_prefix(DASH).ok_or(NoteError::Malformed(
            "a signature line does not start with '— '",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("a signature line has no key name"))?;
        let blob = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
        if name.is_empty() || blob.len() < 5 {
            return Err(NoteError::Malformed("a signature line is too short"));
        }
        if name != verifier.name || blob[..4] != verifier.key_id {
            continue;
        }
        let sig = Signature::from_slice(&blob[4..])
            .map_err(|_| NoteError::BadSignature(name.to_string()))?;
        verifier
            .key
            .verify(text.as_bytes(), &sig)
            .map_err(|_| NoteError::BadSignature(name.to_string()))?;
        found = true;
    }
    if found {
        Ok(text)
    } else {
        Err(NoteError::NotSignedBy(verifier.name.clone()))
    }
}

/// The body of a tlog checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// `<origin>\n<size>\n<base64 root>\n`
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint body; extension lines after the root are ignored.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::BadCheckpoint("no origin line"))?;
        let size = lines
            .next()
            .ok_or(NoteError::BadCheckpoint("no tree size line"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(NoteError::BadCheckpoint(
                "the tree size is not a decimal number",
            ));
        }
        let size = size
            .parse()
            .map_err(|_| NoteError::BadCheckpoint("the tree size is too large"))?;
        let root = lines
            .next()
            .ok_or(NoteError::BadCheckpoint("no root hash line"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(NoteError::BadCheckpoint(
                "the root hash is not 32 bytes of base64",
            ))?;
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published example of Go's golang.org/x/mod/sumdb/note package.
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    fn key() -> LogKey {
        LogKey::parse(SKEY, "test").unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn signing_reproduces_the_published_signed_note_byte_for_byte() {
        assert_eq!(key().vkey(), VKEY);
        assert_eq!(sign(&key(), TEXT).as_deref(), Ok(NOTE));
    }

    #[test]
    fn the_published_note_opens_and_a_changed_one_does_not() {
        let v = NoteVerifier::parse(VKEY).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(open(NOTE, &v), Ok(TEXT));
        let changed = NOTE.replace("cryptography", "cryptographY");
        assert_eq!(
            open(&changed, &v),
            Err(NoteError::BadSignature("PeterNeumann".into()))
        );
    }

    #[test]
    fn a_note_signed_by_another_key_is_refused() {
        let other = LogKey::generate("PeterNeumann").unwrap_or_else(|e| unreachable!("{e}"));
        let note = sign(&other, TEXT).unwrap_or_default();
        let v = NoteVerifier::parse(VKEY).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            open(&note, &v),
            Err(NoteError::NotSignedBy("PeterNeumann".into()))
        );
    }

    #[test]
    fn verifier_keys_with_a_wrong_id_or_algorithm_are_refused() {
        assert!(matches!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::BadVerifierKey(_))
        ));
        assert!(matches!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::BadVerifierKey(_))
        ));
        assert!(matches!(
            NoteVerifier::parse("nonsense"),
            Err(NoteError::BadVerifierKey(_))
        ));
    }

    #[test]
    fn malformed_notes_are_refused_without_panicking() {
        let v = NoteVerifier::parse(VKEY).unwrap_or_else(|e| unreachable!("{e}"));
        for bad in [
            "",
            "\n\n",
            TEXT,
            "text\n\n- PeterNeumann AAAA\n",
            "text\n\n\u{2014} PeterNeumann !!!\n",
            "text\n\n\u{2014} PeterNeumann x08go/ZJ",
            "text\n\n\u{2014}  x08go/ZJkuBS9UG\n",
        ] {
            assert!(open(bad, &v).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checkpoints_round_trip_and_bad_bodies_are_named() {
        let cp = Checkpoint {
            origin: "qms.example.com/audit".into(),
            size: 41,
            root: [7; 32],
        };
        let body = cp.body();
        assert_eq!(
            body,
            "qms.example.com/audit\n41\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
        );
        assert_eq!(Checkpoint::parse(&body), Ok(cp.clone()));
        let signed = sign(
            &LogKey::generate("qms.example.com/audit").unwrap_or_else(|e| unreachable!("{e}")),
            &body,
        );
        assert!(signed.is_ok_and(
            |n| n.starts_with(&body) && n.contains("\n\n\u{2014} qms.example.com/audit ")
        ));
        for bad in [
            "",
            "origin\n",
            "origin\n041\nAAAA\n",
            "origin\n-1\nAAAA\n",
            "origin\n1\nAAAA\n",
            "origin\n99999999999999999999\nAAAA\n",
        ] {
            assert!(
                matches!(Checkpoint::parse(bad), Err(NoteError::BadCheckpoint(_))),
                "{bad:?}"
            );
        }
    }
}
