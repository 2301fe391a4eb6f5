//! Where traceability links come from (TRACEABILITY.md): the references in a
//! commit message, and requirement keys inside a test's name. Pure: the
//! caller says which keys exist.

use std::collections::HashMap;

/// Where a repository lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Github,
    Gitlab,
}

named!(Provider {
    Github => ("github", "GitHub"),
    Gitlab => ("gitlab", "GitLab"),
});

/// A registered repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    pub id: i64,
    pub provider: Provider,
    /// `owner/name` on GitHub, `group/subgroup/project` on GitLab.
    pub name: String,
    /// The product whose requirement keys its commits name.
    pub product_id: i64,
    pub secret_sealed: Vec<u8>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl Repository {
    /// What its sealed secret is bound to, and how the audit log names it.
    pub fn binding(&self) -> String {
        format!("{}:{}", self.provider.as_str(), self.name)
    }

    pub fn entity_id(&self) -> String {
        format!("repo-{}", self.id)
    }

    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": self.provider.as_str(),
            "name": self.name,
            "product_id": self.product_id,
            "active": self.active,
        })
    }
}

/// A repository's name as typed: parts of letters, digits, `.`, `_` and `-`
/// joined by `/`, at least two parts, at most 200 characters.
pub fn parse_repository_name(typed: &str) -> Result<String, String> {
    let name = typed.trim().trim_end_matches(".git").trim_matches('/');
    let ok = name.len() <= 200
        && name.split('/').count() >= 2
        && name.split('/').all(|p| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "{:?} is not a repository name: give it as owner/name (GitHub) or group/project (GitLab).",
            typed.trim()
        ))
    }
}

/// A test's result (JUnit: passed, `<failure>`, `<skipped>`, `<error>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
    Error,
}

named!(Outcome {
    Passed => ("passed", "Passed"),
    Failed => ("failed", "Failed"),
    Skipped => ("skipped", "Skipped"),
    Error => ("error", "Error"),
});

/// What an API token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read the JSON API (requirements, test cases, the matrix, CAPAs, NCs).
    Read,
    /// Upload CI test results.
    TestRunsWrite,
}

named!(Scope {
    Read => ("read", "Read the API"),
    TestRunsWrite => ("test-runs:write", "Upload test results"),
});

/// Scopes as stored: names separated by spaces.
pub fn parse_scopes(s: &str) -> Vec<Scope> {
    s.split(' ').filter_map(Scope::parse).collect()
}

/// How a commit message refers to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// `Implements: SRS-012`: the commit implements a requirement.
    Implements,
    /// `Verifies: SRS-012`: a test commit verifies a requirement.
    Verifies,
    /// `Refs: CAPA-7`.
    Refs,
    /// `Fixes: CAPA-7`.
    Fixes,
    /// A bare key in the text; kept only when it names an existing record.
    Mentions,
}

named!(Relation {
    Implements => ("implements", "Implements"),
    Verifies => ("verifies", "Verifies"),
    Refs => ("refs", "Refs"),
    Fixes => ("fixes", "Fixes"),
    Mentions => ("mentions", "Mentions"),
});

/// One reference found in a commit message: the relation and the key, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageRef {
    pub relation: Relation,
    pub key: String,
}

/// Longest key the parser takes (longer words are not keys).
const MAX_KEY: usize = 40;

/// A token of a message.
#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    /// Letters and digits, possibly joined by single `-` or `.` into parts.
    Word(&'a str),
    Colon,
    /// Spaces, tabs, commas, semicolons: what may separate keys in a list.
    Gap,
    /// A line end: a trailer's list ends there.
    Newline,
    Other,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphanumeric() {
            let start = i;
            i += 1;
            loop {
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                // A joiner counts only between two letters or digits.
                if i + 1 < bytes.len()
                    && (bytes[i] == b'-' || bytes[i] == b'.')
                    && bytes[i + 1].is_ascii_alphanumeric()
                {
                    i += 1;
                } else {
                    break;
                }
            }
            // A word glued to other letters (é, _, …) is not a key.
            let glued = |b: Option<&u8>| b.is_some_and(|b| *b == b'_' || !b.is_ascii());
            let before = start.checked_sub(1).and_then(|p| bytes.get(p));
            if glued(before) || glued(bytes.get(i)) {
                out.push(Token::Other);
            } else {
                out.push(Token::Word(text.get(start..i).unwrap_or_default()));
            }
        } else {
            out.push(match c {
                b':' => Token::Colon,
                b' ' | b'\t' | b',' | b';' => Token::Gap,
                b'\n' | b'\r' => Token::Newline,
                _ => Token::Other,
            });
            i += 1;
        }
    }
    out
}

/// The key a word stands for, if it has a key's shape: a letter first, at
/// least two parts joined by `-` or `.`, at most 40 characters.
pub fn key_shape(word: &str) -> Option<String> {
    let ok = word.len() <= MAX_KEY
        && word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word.contains(['-', '.'])
        && word
            .split(['-', '.'])
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
    ok.then(|| word.to_ascii_uppercase())
}

fn keyword(word: &str) -> Option<Relation> {
    match word.to_ascii_lowercase().as_str() {
        "implements" | "implement" | "implemented" => Some(Relation::Implements),
        "verifies" | "verify" | "verified" => Some(Relation::Verifies),
        "refs" | "ref" | "references" => Some(Relation::Refs),
        "fixes" | "fix" | "fixed" | "closes" => Some(Relation::Fixes),
        _ => None,
    }
}

/// Every reference in a commit message, each (relation, key) once, in the
/// order first seen. A keyword (`Implements`, `Verifies`, `Refs`, `Fixes`,
/// any case, with or without a colon) takes the keys that follow it on its
/// line, separated by spaces, commas or semicolons; any other word shaped
/// like a key is a bare mention.
pub fn parse_message(message: &str) -> Vec<MessageRef> {
    let toks = tokens(message);
    let mut out: Vec<MessageRef> = Vec::new();
    let mut push = |relation, key: String| {
        let r = MessageRef { relation, key };
        if !out.contains(&r) {
            out.push(r);
        }
    };
    let mut i = 0;
    while i < toks.len() {
        let Token::Word(w) = toks[i] else {
            i += 1;
            continue;
        };
        if let Some(relation) = keyword(w) {
            // keyword [gap] [:] gap* key ((gap)+ key)*
            let mut j = i + 1;
            while matches!(toks.get(j), Some(Token::Gap)) {
                j += 1;
            }
            if matches!(toks.get(j), Some(Token::Colon)) {
                j += 1;
            }
            let mut taken = 0;
            loop {
                let mut k = j;
                while matches!(toks.get(k), Some(Token::Gap)) {
                    k += 1;
                }
                match toks.get(k) {
                    Some(Token::Word(w)) => match key_shape(w) {
                        Some(key) => {
                            push(relation, key);
                            taken += 1;
                            j = k + 1;
                        }
                        None => break,
                    },
                    _ => break,
                }
            }
            if taken > 0 {
                i = j;
                continue;
            }
        } else if let Some(key) = key_shape(w) {
            push(Relation::Mentions, key);
        }
        i += 1;
    }
    // A key named with a relation is not also a bare mention.
    let related: Vec<String> = out
        .iter()
        .filter(|r| r.relation != Relation::Mentions)
        .map(|r| r.key.clone())
        .collect();
    out.retain(|r| r.relation != Relation::Mentions || !related.contains(&r.key));
    out
}

/// The words of a name, upper case: split at anything but letters and
/// digits, between letters and digits, and where case turns (`testSRS012`
/// and `SRSLockout` both give `SRS`, `012`...).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                let split = prev.is_ascii_digit() != c.is_ascii_digit()
                    || (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                    || (prev.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower);
                if split && !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            word.push(c.to_ascii_uppercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// A key as test names spell it: its words joined by `-` (`UN-4.1` and
/// `un_4_1` both give `UN-4-1`).
pub fn name_form(key: &str) -> String {
    words(key).join("-")
}

/// The known keys inside a test's name (`test_srs_012_login_lockout`,
/// `SRS-012 login lockout`, `TestSRS012Lockout`): runs of two to six of the
/// name's words are looked up in `known` (name form -> key).
pub fn keys_in_test_name(name: &str, known: &HashMap<String, String>) -> Vec<String> {
    let parts = words(name);
    let mut out: Vec<String> = Vec::new();
    for start in 0..parts.len() {
        for len in 2..=6 {
            let Some(run) = parts.get(start..start + len) else {
                break;
            };
            if let Some(key) = known.get(&run.join("-"))
                && !out.contains(key)
            {
                out.push(key.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(message: &str) -> Vec<(&'static str, String)> {
        parse_message(message)
            .into_iter()
            .map(|r| (r.relation.as_str(), r.key))
            .collect()
    }

    fn r(rel: &'static str, key: &str) -> (&'static str, String) {
        (rel, key.to_string())
    }

    #[test]
    fn trailers_in_any_case_with_lists_of_keys() {
        let m = "Lock the keypad after 3 wrong PINs\n\nThe old limit was 5.\n\nImplements: SRS-012, srs-013; SRS-014\nverifies: SYS-001\nRefs: CAPA-7\nFIXES: capa-8\n";
        assert_eq!(
            refs(m),
            [
                r("implements", "SRS-012"),
                r("implements", "SRS-013"),
                r("implements", "SRS-014"),
                r("verifies", "SYS-001"),
                r("refs", "CAPA-7"),
                r("fixes", "CAPA-8"),
            ]
        );
    }

    #[test]
    fn inline_references_and_bare_keys() {
        assert_eq!(
            refs("Fix rounding (implements SRS-012). See UN-4.1 and SRS-012."),
            [r("implements", "SRS-012"), r("mentions", "UN-4.1")],
            "a key with a relation is not also a mention; the full stop ends the key"
        );
        assert_eq!(
            refs("fixes CAPA-7 and SRS-1"),
            [r("fixes", "CAPA-7"), r("mentions", "SRS-1")]
        );
        assert_eq!(
            refs("Implements:\nSRS-1"),
            [r("mentions", "SRS-1")],
            "a trailer's keys are on its line"
        );
    }

    #[test]
    fn things_that_are_not_keys() {
        for m in [
            "Implements: nothing",
            "bump to 1.2.3",
            "use -SRS",
            "foo_SRS-12",
            "SRS-12_x",
            "é-12",
            "Implements:",
            "",
            "SRS-",
            "a--b",
        ] {
            assert_eq!(refs(m), [], "{m:?}");
        }
        assert_eq!(
            refs(&format!("S-{}", "1".repeat(50))),
            [],
            "longer than a key can be"
        );
    }

    #[test]
    fn requirement_keys_are_found_inside_test_names() {
        let known: HashMap<String, String> = ["SRS-012", "UN-4.1", "SRS-1"]
            .iter()
            .map(|k| (name_form(k), k.to_string()))
            .collect();
        let find = |n: &str| keys_in_test_name(n, &known);
        assert_eq!(find("test_srs_012_login_lockout"), ["SRS-012"]);
        assert_eq!(find("SRS-012 login lockout"), ["SRS-012"]);
        assert_eq!(find("tests::un_4_1::alarm"), ["UN-4.1"]);
        assert_eq!(find("TestSRS012Lockout"), ["SRS-012"]);
        assert_eq!(find("TestSRS_012_Lockout"), ["SRS-012"]);
        assert_eq!(find("SRSLockout012"), Vec::<String>::new());
        assert_eq!(find("srs_0120_other"), Vec::<String>::new());
        assert_eq!(find("srs_1_and_srs_012"), ["SRS-1", "SRS-012"]);
        assert_eq!(find("plain_test"), Vec::<String>::new());
    }
}
