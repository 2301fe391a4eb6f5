//! The commit-message and test-name link parsers on any text: never a
//! panic, and every key they return has a key's shape and occurs in the text.
#![no_main]

use std::collections::HashMap;

use attest::domain::trace::{key_shape, keys_in_test_name, name_form, parse_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let upper = text.to_ascii_uppercase();
    for r in parse_message(text) {
        assert_eq!(key_shape(&r.key).as_deref(), Some(r.key.as_str()), "{text:?}");
        assert!(upper.contains(&r.key), "{:?} not in {text:?}", r.key);
    }
    let known: HashMap<String, String> = ["SRS-012", "UN-4.1"]
        .iter()
        .map(|k| (name_form(k), k.to_string()))
        .collect();
    for k in keys_in_test_name(text, &known) {
        assert!(known.values().any(|v| v == &k));
    }
});
