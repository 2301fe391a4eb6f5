//! Rules for text people supply that is shown to others: names of uploaded
//! files may not carry characters that make one name look like another.

/// The bidirectional embedding, override and isolate controls (U+202A-202E,
/// U+2066-2069): they reorder what follows them, so `invoice\u{202E}vsc.exe`
/// reads as `invoiceexe.csv` (SECURITY.md 27).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Why an uploaded file's name is refused, if it is.
pub fn upload_name_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(is_bidi_control) {
        return Some(
            "The file's name contains a character that reverses or reorders text (U+202A-202E, U+2066-2069); rename the file and upload it again.",
        );
    }
    if name.contains('\0') {
        return Some(
            "The file's name contains a NUL character; rename the file and upload it again.",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_bidi_controls_or_nul_are_refused_security_27() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}',
        ] {
            assert!(
                upload_name_problem(&format!("req{c}vsc.exe")).is_some(),
                "{c:?}"
            );
        }
        assert!(upload_name_problem("a\0b.csv").is_some());
        assert!(upload_name_problem("Anforderungen für Pumpe.csv").is_none());
        assert!(
            upload_name_problem("متطلبات.csv").is_none(),
            "right-to-left letters are fine"
        );
    }
}
