//! Untrusted text at every parser an auditor's inputs reach: verifier keys,
//! signed notes, checkpoint bodies and key files. None may panic; a note that
//! opens must carry a body that is a prefix of the note.
#![no_main]

use attest::audit::key::LogKey;
use attest::audit::note::{self, Checkpoint, NoteVerifier};
use libfuzzer_sys::fuzz_target;

/// The verifier key of Go's sumdb note package example (C2SP signed-note).
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = NoteVerifier::parse(text);
    let _ = Checkpoint::parse(text);
    let _ = LogKey::parse(text, "fuzz");
    if let Ok(verifier) = NoteVerifier::parse(VKEY)
        && let Ok(body) = note::open(text, &verifier)
    {
        assert!(text.starts_with(body));
        let _ = Checkpoint::parse(body);
    }
});
