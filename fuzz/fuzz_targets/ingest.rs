//! What machines send, on any bytes: JUnit XML and the GitHub and GitLab
//! push parsers never panic, and a JUnit error always says where.
#![no_main]

use attest::ingest::{junit, push};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = push::github(data);
    let _ = push::gitlab(data);
    if let Ok(text) = std::str::from_utf8(data) {
        match junit::parse(text) {
            Ok(cases) => assert!(cases.len() <= junit::MAX_CASES),
            Err(e) => assert!(e.line >= 1 && e.column >= 1, "{e}"),
        }
    }
});
