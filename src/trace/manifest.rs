//! The signed manifest of an export (TRACEABILITY.md): the file's SHA-256
//! and size, what it is, and the audit entry that recorded it, as a C2SP
//! signed note by the audit log's key; with it, the first signed checkpoint
//! whose tree holds that entry. `attest verify-export FILE MANIFEST` checks
//! both, offline; any signed-note tool checks the signatures.
//!
//! The manifest file is JSON:
//! `{"manifest": "<signed note>", "checkpoint": "<signed checkpoint note>",
//!   "verifier_key": "<origin>+<key id>+<key>", "verify": "<the command>"}`,
//! and the manifest note's text is, line by line:
//! ```text
//! attest export manifest v1
//! file: pump-matrix-20261130-120000.csv
//! format: csv
//! product: PUMP
//! sha256: <64 hex digits>
//! bytes: 18342
//! created: 2026-11-30T12:00:00.000000Z
//! by: Jane Doe
//! audit-entry: 1234
//! ```

use serde_json::{Value, json};

use crate::audit::key::LogKey;
use crate::audit::note::{self, Checkpoint, NoteVerifier};

const FIRST_LINE: &str = "attest export manifest v1";

/// What a manifest says of its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub file: String,
    pub format: String,
    pub product: String,
    pub sha256: String,
    pub bytes: u64,
    pub created: String,
    pub by: String,
    /// The seq of the export's own audit entry.
    pub audit_entry: u64,
}

/// A value on one line of the note: no line ends or other control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Manifest {
    /// The note's text.
    pub fn body(&self) -> String {
        format!(
            "{FIRST_LINE}\nfile: {}\nformat: {}\nproduct: {}\nsha256: {}\nbytes: {}\ncreated: {}\nby: {}\naudit-entry: {}\n",
            one_line(&self.file),
            one_line(&self.format),
            one_line(&self.product),
            self.sha256,
            self.bytes,
            one_line(&self.created),
            one_line(&self.by),
            self.audit_entry
        )
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(FIRST_LINE) {
            return Err(format!("the note is not an {FIRST_LINE:?}"));
        }
        let mut get = |name: &str| -> Result<String, String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(&format!("{name}: ")))
                .map(str::to_string)
                .ok_or_else(|| format!("the manifest has no {name:?} line where expected"))
        };
        let file = get("file")?;
        let format = get("format")?;
        let product = get("product")?;
        let sha256 = get("sha256")?;
        let bytes = get("bytes")?;
        let created = get("created")?;
        let by = get("by")?;
        let entry = get("audit-entry")?;
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the manifest's sha256 is not 64 hex digits".into());
        }
        Ok(Self {
            file,
            format,
            product,
            sha256,
            bytes: bytes
                .parse()
                .map_err(|_| "the byte count is not a number")?,
            created,
            by,
            audit_entry: entry
                .parse()
                .map_err(|_| "the audit entry is not a number")?,
        })
    }

    /// The signed note.
    pub fn sign(&self, key: &LogKey) -> Result<String, String> {
        note::sign(key, &self.body()).map_err(|e| e.to_string())
    }
}

/// The manifest file handed out beside an export.
pub fn file(note: &str, checkpoint: &str, vkey: &str, file_name: &str) -> Vec<u8> {
    let v = json!({
        "manifest": note,
        "checkpoint": checkpoint,
        "verifier_key": vkey,
        "verify": format!("attest verify-export {file_name} {file_name}.manifest.json --key '{vkey}'"),
    });
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}

/// What verifying an export found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub manifest: Manifest,
    pub checkpoint_size: u64,
}

/// Checks `export` against its manifest file with `vkey`: both signatures,
/// the SHA-256 and size, and that the checkpoint's tree holds the export's
/// audit entry. The first failure is the error.
pub fn verify(export: &[u8], manifest_file: &[u8], vkey: &str) -> Result<Verified, String> {
    let verifier = NoteVerifier::parse(vkey.trim()).map_err(|e| format!("the key: {e}"))?;
    let v: Value = serde_json::from_slice(manifest_file)
        .map_err(|e| format!("the manifest file is not JSON: {e}"))?;
    let text = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the manifest file has no {name:?}"))
    };
    let body = note::open(text("manifest")?, &verifier)
        .map_err(|e| format!("the manifest's signature: {e}"))?;
    let m = Manifest::parse(body)?;
    let digest = crate::service::sha256_hex(export);
    if digest != m.sha256.to_ascii_lowercase() {
        return Err(format!(
            "the file's SHA-256 is {digest}, but the manifest names {}: the file is not the one exported",
            m.sha256
        ));
    }
    if export.len() as u64 != m.bytes {
        return Err(format!(
            "the file has {} bytes, the manifest names {}",
            export.len(),
            m.bytes
        ));
    }
    let cp_body = note::open(text("checkpoint")?, &verifier)
        .map_err(|e| format!("the checkpoint's signature: {e}"))?;
    let cp = Checkpoint::parse(cp_body).map_err(|e| e.to_string())?;
    if cp.origin != verifier.name {
        return Err(format!(
            "the checkpoint is of the log {:?}, not {:?}",
            cp.origin, verifier.name
        ));
    }
    if cp.size <= m.audit_entry {
        return Err(format!(
            "the checkpoint's tree has {} entries and does not hold the export's entry {}",
            cp.size, m.audit_entry
        ));
    }
    Ok(Verified {
        manifest: m,
        checkpoint_size: cp.size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle;

    fn setup() -> (LogKey, Manifest, String, Vec<u8>) {
        let key = LogKey::generate("qms.example.com/audit").unwrap();
        let export = b"key,title\r\nSRS-1,Lockout\r\n".to_vec();
        let m = Manifest {
            file: "pump.csv".into(),
            format: "csv".into(),
            product: "PUMP".into(),
            sha256: crate::service::sha256_hex(&export),
            bytes: export.len() as u64,
            created: "2026-11-30T12:00:00.000000Z".into(),
            by: "Jane\nDoe".into(),
            audit_entry: 7,
        };
        let cp = Checkpoint {
            origin: key.name().into(),
            size: 8,
            root: merkle::EMPTY_ROOT,
        };
        let checkpoint = note::sign(&key, &cp.body()).unwrap();
        (key, m, checkpoint, export)
    }

    #[test]
    fn an_untouched_export_verifies_and_any_change_is_named() {
        let (key, m, checkpoint, export) = setup();
        let file = file(&m.sign(&key).unwrap(), &checkpoint, &key.vkey(), "pump.csv");
        let ok = verify(&export, &file, &key.vkey()).unwrap();
        assert_eq!(ok.manifest.by, "Jane Doe", "a line end cannot forge a line");
        assert_eq!(ok.checkpoint_size, 8);

        let mut changed = export.clone();
        changed[12] ^= 1;
        assert!(
            verify(&changed, &file, &key.vkey())
                .unwrap_err()
                .contains("not the one exported")
        );
        let forged = String::from_utf8(file.clone())
            .unwrap()
            .replace(&m.sha256, &"0".repeat(64));
        assert!(
            verify(&export, forged.as_bytes(), &key.vkey())
                .unwrap_err()
                .contains("signature")
        );
        let other = LogKey::generate("qms.example.com/audit").unwrap();
        assert!(
            verify(&export, &file, &other.vkey())
                .unwrap_err()
                .contains("signature")
        );
        let early = note::sign(
            &key,
            &Checkpoint {
                origin: key.name().into(),
                size: 7,
                root: merkle::EMPTY_ROOT,
            }
            .body(),
        )
        .unwrap();
        let file = super::file(&m.sign(&key).unwrap(), &early, &key.vkey(), "pump.csv");
        assert!(
            verify(&export, &file, &key.vkey())
                .unwrap_err()
                .contains("does not hold the export's entry 7")
        );
    }
}
