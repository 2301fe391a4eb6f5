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

/// What `check` calls with each top-level member's name and raw value.
pub type TopMember<'f> = dyn FnMut(&str, &[u8]) + 'f;

/// Deepest nesting `check` accepts (serde_json's own limit is 128).
const MAX_DEPTH: usize = 128;

/// Checks in one pass, without building a value, that `bytes` are exactly
/// the canonical form of the JSON they hold (the same answer as
/// `is_canonical`, which a test compares it with), calling `top(name, raw)`
/// with the raw bytes of each member of a top-level object. Used by the
/// verifier, which checks a million entries in well under a second with it.
pub fn check(bytes: &[u8], top: &mut TopMember<'_>) -> bool {
    // Bytes of 0x80 and above can only be inside strings, where `string`
    // checks that they are UTF-8; anywhere else the grammar refuses them.
    let mut s = Scan { b: bytes, i: 0 };
    s.value(0, Some(top)) && s.i == bytes.len()
}

/// The length of the run of bytes at the start of `b` that a canonical
/// string holds as they are (not `"`, `\\` or below 0x20), and whether the
/// run is all ASCII. Eight bytes at a time: this loop is most of the check.
fn plain_run(b: &[u8]) -> (usize, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut high = 0;
    let mut i = 0;
    for word in b.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        let special = zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if special != 0 {
            break;
        }
        high |= w & HIGH;
        i += 8;
    }
    let mut ascii = high == 0;
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        ascii &= c.is_ascii();
        i += 1;
    }
    (i, ascii)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize, top: Option<&mut TopMember<'_>>) -> bool {
        match self.peek() {
            Some(b'{') => self.object(depth + 1, top),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    /// `-?(0|[1-9][0-9]*)`, not `-0`, magnitude at most 2^53 - 1.
    fn integer(&mut self) -> bool {
        let negative = self.eat(b'-');
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        if digits.is_empty() || digits.len() > 16 || (digits[0] == b'0' && digits.len() > 1) {
            return false;
        }
        if negative && digits == b"0" {
            return false;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return false;
        }
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        n <= MAX_SAFE
    }

    /// A string written as `JSON.stringify` writes it; returns its raw body
    /// (between the quotes) and whether it holds escapes.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        let mut escaped = false;
        let mut ascii = true;
        loop {
            let (plain, run_ascii) = plain_run(&self.b[self.i..]);
            self.i += plain;
            ascii &= run_ascii;
            match self.peek()? {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    if !ascii && std::str::from_utf8(&self.b[start..end]).is_err() {
                        return None;
                    }
                    return Some((start, end, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r' => self.i += 1,
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5)?;
                            let ok = hex[0] == b'0'
                                && hex[1] == b'0'
                                && matches!(hex[2], b'0' | b'1')
                                && matches!(hex[3], b'0'..=b'9' | b'a'..=b'f');
                            if !ok {
                                return None;
                            }
                            let low = if hex[3].is_ascii_digit() {
                                hex[3] - b'0'
                            } else {
                                hex[3] - b'a' + 10
                            };
                            let code = low + if hex[2] == b'1' { 16 } else { 0 };
                            if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
    }

    fn array(&mut self, depth: usize) -> bool {
        if depth >= MAX_DEPTH || !self.eat(b'[') {
            return false;
        }
        if self.eat(b']') {
            return true;
        }
        loop {
            if !self.value(depth, None) {
                return false;
            }
            if self.eat(b']') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    fn object(&mut self, depth: usize, mut top: Option<&mut TopMember<'_>>) -> bool {
        if depth >= MAX_DEPTH || !self.eat(b'{') {
            return false;
        }
        if self.eat(b'}') {
            return true;
        }
        let b: &'a [u8] = self.b;
        let mut previous: Option<std::borrow::Cow<'a, str>> = None;
        loop {
            let Some((start, end, escaped)) = self.string() else {
                return false;
            };
            let raw = &b[start..end];
            let name = if escaped {
                match serde_json::from_slice::<String>(&b[start - 1..end + 1]) {
                    Ok(n) => std::borrow::Cow::Owned(n),
                    Err(_) => return false,
                }
            } else {
                match std::str::from_utf8(raw) {
                    Ok(n) => std::borrow::Cow::Borrowed(n),
                    Err(_) => return false,
                }
            };
            if let Some(prev) = &previous {
                let increasing = if prev.is_ascii() && name.is_ascii() {
                    prev.as_bytes() < name.as_bytes()
                } else {
                    prev.encode_utf16().lt(name.encode_utf16())
                };
                if !increasing {
                    return false;
                }
            }
            if !self.eat(b':') {
                return false;
            }
            let value_start = self.i;
            if !self.value(depth, None) {
                return false;
            }
            if let Some(f) = top.as_mut() {
                f(&name, &self.b[value_start..self.i]);
            }
            previous = Some(name);
            if self.eat(b'}') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
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

    fn fast(bytes: &[u8]) -> bool {
        check(bytes, &mut |_, _| {})
    }

    #[test]
    fn the_one_pass_check_agrees_on_the_edge_cases() {
        let cases: &[&[u8]] = &[
            b"0",
            b"-0",
            b"01",
            b"1.0",
            b"1e2",
            b"-1",
            b"9007199254740991",
            b"9007199254740992",
            b"-9007199254740991",
            b"-9007199254740992",
            b"18446744073709551616",
            b"true",
            b"tru",
            b"null",
            b" null",
            b"null ",
            b"\"\\/\"",
            b"\"\\u00e9\"",
            b"\"\\u001f\"",
            b"\"\\u001F\"",
            b"\"\\u0008\"",
            b"\"\\b\"",
            b"\"\\ud83d\\ude00\"",
            b"\"\x01\"",
            b"\"\x7f\"",
            b"\"\xc3\xa9\"",
            b"\"\xc3\"",
            b"{}",
            b"[]",
            b"[1,]",
            b"[,1]",
            b"{\"a\":1,\"a\":2}",
            b"{\"b\":1,\"a\":2}",
            b"{\"a\":1,\"b\":2}",
            b"{\"a\" :1}",
            b"{\"a\":1}x",
            "{\"\u{1f600}\":2,\"\u{fb33}\":1}".as_bytes(),
            "{\"\u{fb33}\":1,\"\u{1f600}\":2}".as_bytes(),
            b"{\"\\u0001\":1,\"a\":2}",
            b"{\"a\":2,\"\\u0001\":1}",
            b"",
            b"[",
            b"\"",
            b"[\xff]",
            b"\"\xff\"",
            b"\"abcdefgh\xed\xa0\x80ijklmnop\"",
            b"\"abcdefghijklmn\x1fopq\"",
            b"\"abcdefghijklmn\\\"opq\"",
            b"\"abcdefgh\xc3\xa9ijklmnopqrstu\"",
            b"\"abcdefghijklmnop\x7f\"",
        ];
        for case in cases {
            assert_eq!(
                fast(case),
                is_canonical(case),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
    }

    /// Random values, their canonical bytes, and random damage to them: the
    /// one-pass check must agree with parse-and-reserialise every time.
    #[test]
    fn the_one_pass_check_agrees_with_reserialising_on_random_input() {
        // The seeds' generator: the same walks on every run.
        use crate::seed::Dice as Rng;
        fn value(r: &mut Rng, depth: u32) -> Value {
            const ALPHABET: &[char] = &[
                'a',
                'b',
                'Z',
                '"',
                '\\',
                '\n',
                '\u{1}',
                '\u{1f}',
                '/',
                'é',
                '\u{fb33}',
                '\u{1f600}',
                ' ',
            ];
            let text = |r: &mut Rng| -> String {
                (0..r.roll(24))
                    .map(|_| ALPHABET[r.roll(ALPHABET.len() as u64) as usize])
                    .collect()
            };
            match r.roll(if depth > 3 { 5 } else { 7 }) {
                0 => Value::Null,
                1 => Value::Bool(r.roll(2) == 0),
                2 => json!(r.roll(1 << 54) as i64 - (1 << 53)),
                3 => json!(r.roll(20) as i64 - 10),
                4 => Value::String(text(r)),
                5 => Value::Array((0..r.roll(4)).map(|_| value(r, depth + 1)).collect()),
                _ => Value::Object(
                    (0..r.roll(5))
                        .map(|_| (text(r), value(r, depth + 1)))
                        .collect(),
                ),
            }
        }
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut agreed, mut rejected) = (0, 0);
        for _ in 0..20_000 {
            let v = value(&mut r, 0);
            let Ok(good) = to_vec(&v) else { continue };
            assert!(fast(&good), "{}", String::from_utf8_lossy(&good));
            let mut bad = good.clone();
            for _ in 0..=r.roll(2) {
                let at = r.roll(bad.len() as u64 + 1) as usize;
                match r.roll(4) {
                    0 => bad.insert(
                        at,
                        b" \\0-.e\"{}[],:1"
                            .get(r.roll(14) as usize)
                            .copied()
                            .unwrap_or(b' '),
                    ),
                    1 if at < bad.len() => {
                        bad.remove(at);
                    }
                    2 if at < bad.len() => bad[at] = bad[at].wrapping_add(1),
                    _ => {
                        let plain: Value = serde_json::from_slice(&good).unwrap_or(Value::Null);
                        bad = serde_json::to_vec_pretty(&plain).unwrap_or_default();
                    }
                }
            }
            let verdict = fast(&bad);
            assert_eq!(
                verdict,
                is_canonical(&bad),
                "{}",
                String::from_utf8_lossy(&bad)
            );
            agreed += 1;
            rejected += usize::from(!verdict);
        }
        assert!(agreed > 15_000);
        assert!(
            rejected > 5_000 && rejected < agreed,
            "{rejected} of {agreed} rejected"
        );
    }

    #[test]
    fn the_one_pass_check_hands_over_top_level_members() {
        let mut seen = Vec::new();
        assert!(check(
            br#"{"log":"x/audit","n":{"seq":9},"seq":41}"#,
            &mut |k, v| {
                seen.push((k.to_string(), String::from_utf8_lossy(v).into_owned()));
            }
        ));
        assert_eq!(
            seen,
            vec![
                ("log".to_string(), "\"x/audit\"".to_string()),
                ("n".to_string(), "{\"seq\":9}".to_string()),
                ("seq".to_string(), "41".to_string())
            ]
        );
    }
}
