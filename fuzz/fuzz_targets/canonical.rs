//! The verifier's one-pass canonical-JSON check must give the same answer as
//! parsing and re-serialising, on any bytes.
#![no_main]

use attest::audit::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fast = canonical::check(data, &mut |_, _| {});
    assert_eq!(fast, canonical::is_canonical(data), "{:?}", String::from_utf8_lossy(data));
});
