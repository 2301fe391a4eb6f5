//! RFC 8785 (JSON Canonicalization Scheme) for the values Attest hashes and
//! signs. Attest never puts floats in a hashed value, so numbers are limited to
//! integers with |n| < 2^53, which JCS serialises exactly as their decimal form.

use serde_json::Value;

/// Why a value cannot be canonicalised.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("floating-point numbers are not allowed in hashed or signed JSON")]
    Float,
    #[error("integer {0} is outside the exact range |n| < 2^53")]
    IntegerRange(String),
}

const MAX_SAFE: u64 = (1 << 53) - 1;

/// The canonical UTF-8 bytes of `value`.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value)?;
    Ok(out)
}

/// True when `bytes` are exactly the canonical form of the JSON they hold.
pub fn is_canonical(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => to_vec(&v).is_ok_and(|c| c == bytes),
        Err(_) => false,
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE {
                    return Err(CanonicalError::IntegerRange(i.to_string()));
                }
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                if u > MAX_SAFE {
                    return Err(CanonicalError::IntegerRange(u.to_string()));
                }
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalError::Float);
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // JCS orders members by the UTF-16 code units of their names.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, name);
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Strings as ECMAScript `JSON.stringify` writes them (RFC 8785 3.2.2.2).
fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{09}' => out.extend_from_slice(b"\\t"),
            '\u{0A}' => out.extend_from_slice(b"\\n"),
            '\u{0C}' => out.extend_from_slice(b"\\f"),
            '\u{0D}' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        String::from_utf8(to_vec(&v).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn members_are_sorted_by_utf16_code_units_not_by_chars() {
        // RFC 8785 3.2.3: U+1F600 (surrogates D83D..) sorts before U+FB33.
        let v = json!({"\u{fb33}": 1, "\u{1f600}": 2, "b": 3, "a": {"z": 1, "y": 2}});
        assert_eq!(
            canon(v),
            "{\"a\":{\"y\":2,\"z\":1},\"b\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn strings_escape_exactly_as_json_stringify() {
        let v = json!("q\"b\\\u{8}\u{c}\n\r\t\u{1}\u{1f}/é€");
        assert_eq!(canon(v), "\"q\\\"b\\\\\\b\\f\\n\\r\\t\\u0001\\u001f/é€\"");
    }

    #[test]
    fn floats_and_unsafe_integers_are_refused() {
        assert_eq!(to_vec(&json!(1.5)), Err(CanonicalError::Float));
        assert!(to_vec(&json!(9_007_199_254_740_991_i64)).is_ok());
        assert!(matches!(
            to_vec(&json!(9_007_199_254_740_992_i64)),
            Err(CanonicalError::IntegerRange(_))
        ));
        assert!(matches!(
            to_vec(&json!(-9_007_199_254_740_992_i64)),
            Err(CanonicalError::IntegerRange(_))
        ));
    }

    #[test]
    fn canonical_bytes_are_recognised_and_others_are_not() {
        assert!(is_canonical(br#"{"a":[1,true,null],"b":"x"}"#));
        assert!(!is_canonical(br#"{"b":"x","a":[1,true,null]}"#));
        assert!(!is_canonical(br#"{"a": 1}"#));
        assert!(!is_canonical(b"{\"a\":\"\\u00e9\"}"));
    }
}
