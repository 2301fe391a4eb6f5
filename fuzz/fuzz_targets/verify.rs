//! `attest verify` on an arbitrary entries file and checkpoint: it must end
//! with a report, never a panic, and never call a damaged log verified.
#![no_main]

use attest::audit::verify;
use libfuzzer_sys::fuzz_target;

const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    // The first line is the checkpoint note, the rest the entries.
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let note = String::from_utf8_lossy(&data[..split]);
    let entries = data.get(split + 1..).unwrap_or_default();
    let report = verify::verify(entries, &note, VKEY, &[]);
    // Nobody holds that key's private half here: nothing can verify.
    assert!(!report.ok);
});
