//! Requirements (TRACEABILITY.md; IEC 62304 5.2, 5.1.1): a key unique in its
//! product, kind, safety class, status, and a statement (title and text)
//! whose every change makes a new version. Parents form a graph (a
//! requirement may derive from several) that must stay free of cycles.
//! Also the CSV import's reading of a file into checked rows.

use std::collections::{HashMap, HashSet};

/// The relation of a requirement to a parent it derives from.
pub const DERIVES_FROM: &str = "derives_from";

use super::product::SafetyClass;
use super::user::FieldError;

/// Longest key, title and text, in characters (stated on the forms).
pub const MAX_KEY: usize = 40;
pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;
/// Most parents of one requirement.
pub const MAX_PARENTS: usize = 50;
/// Most rows in one imported file.
pub const MAX_IMPORT_ROWS: usize = 20_000;

/// Prefixes that name Attest's own records (NC-3, CAPA-7, ...) or test
/// cases; a requirement key may not start with them, so a key in a commit
/// message or a test name means one thing only.
pub const RESERVED_PREFIXES: [&str; 5] = ["NC", "CAPA", "DOC", "RISK", "TC"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReqKind {
    UserNeed,
    System,
    Software,
    RiskControl,
}

named!(ReqKind {
    UserNeed => ("user_need", "User need"),
    System => ("system", "System requirement"),
    Software => ("software", "Software requirement"),
    RiskControl => ("risk_control", "Risk control measure"),
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqStatus {
    Active,
    Retired,
}

named!(ReqStatus {
    Active => ("active", "Active"),
    Retired => ("retired", "Retired"),
});

/// A stored requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub id: i64,
    pub product_id: i64,
    pub key: String,
    pub title: String,
    pub body: String,
    pub kind: ReqKind,
    pub safety_class: SafetyClass,
    pub status: ReqStatus,
    /// The statement's version: 1, then one more on every change of the
    /// title or the text.
    pub text_version: i64,
    pub text_changed_at: chrono::DateTime<chrono::Utc>,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The row's version, for stale-form checks.
    pub version: i64,
}

impl Requirement {
    /// The id the audit log and links use (`req-12`).
    pub fn entity_id(&self) -> String {
        format!("req-{}", self.id)
    }

    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "product_id": self.product_id,
            "key": self.key,
            "title": self.title,
            "text": self.body,
            "kind": self.kind.as_str(),
            "safety_class": self.safety_class.as_str(),
            "status": self.status.as_str(),
            "text_version": self.text_version,
        })
    }

    /// The fields as a form or an import row would give them.
    pub fn fields(&self) -> RequirementFields {
        RequirementFields {
            key: self.key.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            kind: self.kind,
            safety_class: self.safety_class,
        }
    }

    /// This requirement with `f` applied: the statement's version moves on
    /// when the title or the text changes.
    pub fn with(&self, f: &RequirementFields, now: chrono::DateTime<chrono::Utc>) -> Self {
        let text_changed = f.title != self.title || f.body != self.body;
        Self {
            key: f.key.clone(),
            title: f.title.clone(),
            body: f.body.clone(),
            kind: f.kind,
            safety_class: f.safety_class,
            text_version: self.text_version + i64::from(text_changed),
            text_changed_at: if text_changed {
                now
            } else {
                self.text_changed_at
            },
            ..self.clone()
        }
    }
}

/// A requirement's fields, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementFields {
    pub key: String,
    pub title: String,
    pub body: String,
    pub kind: ReqKind,
    pub safety_class: SafetyClass,
}

/// A key as typed, checked and in its stored (upper-case) form: letters
/// and digits in parts joined by `-` or `.`, starting with a letter, at
/// least two parts (`SRS-012`, `UN-4.1`), at most 40 characters, not
/// starting with a prefix of Attest's own records.
pub fn parse_key(typed: &str) -> Result<String, String> {
    let key = typed.trim().to_ascii_uppercase();
    let shape = key.len() >= 3
        && key.len() <= MAX_KEY
        && key.starts_with(|c: char| c.is_ascii_uppercase())
        && key.contains(['-', '.'])
        && key
            .split(['-', '.'])
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !shape {
        return Err(format!(
            "{:?} is not a requirement key: use letters and digits in parts joined by - or . (for example SRS-012), at most {MAX_KEY} characters.",
            typed.trim()
        ));
    }
    let prefix = key.split(['-', '.']).next().unwrap_or_default();
    if RESERVED_PREFIXES.contains(&prefix) {
        return Err(format!(
            "Requirement keys cannot start with {prefix}-: it names Attest's own records."
        ));
    }
    Ok(key)
}

/// Keys separated by commas, semicolons or spaces, each checked; duplicates
/// are dropped, the first order kept.
pub fn parse_key_list(typed: &str) -> Result<Vec<String>, Vec<String>> {
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for part in typed
        .split([',', ';', ' ', '\t', '\n', '\r'])
        .filter(|p| !p.is_empty())
    {
        match parse_key(part) {
            Ok(k) if !keys.contains(&k) => keys.push(k),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if keys.len() > MAX_PARENTS {
        errors.push(format!(
            "A requirement can have at most {MAX_PARENTS} parents."
        ));
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

impl RequirementFields {
    /// Checks what was typed and reports every problem. An empty safety
    /// class takes `default_class` (the product's).
    pub fn parse(
        key: &str,
        title: &str,
        body: &str,
        kind: &str,
        safety_class: &str,
        default_class: SafetyClass,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let key = parse_key(key).map_err(|e| errors.push(FieldError::new("key", e)));
        let title = title.trim();
        if title.is_empty() {
            errors.push(FieldError::new("title", "Enter a title."));
        } else if title.chars().count() > MAX_TITLE {
            errors.push(FieldError::new(
                "title",
                format!("The title can have at most {MAX_TITLE} characters."),
            ));
        }
        let body = body.trim();
        if body.chars().count() > MAX_TEXT {
            errors.push(FieldError::new(
                "text",
                format!("The text can have at most {MAX_TEXT} characters."),
            ));
        }
        // The stored name, or its label as an export writes it.
        let kind = ReqKind::parse(kind.trim()).or_else(|| {
            ReqKind::ALL
                .iter()
                .copied()
                .find(|k| k.label().eq_ignore_ascii_case(kind.trim()))
        });
        if kind.is_none() {
            errors.push(FieldError::new(
                "kind",
                "Choose the kind: user_need, system, software or risk_control.",
            ));
        }
        let class = match safety_class.trim() {
            "" => Some(default_class),
            c => SafetyClass::parse(&c.to_ascii_uppercase()),
        };
        if class.is_none() {
            errors.push(FieldError::new(
                "safety_class",
                "The safety class is A, B or C (IEC 62304 4.3).",
            ));
        }
        match (key, kind, class) {
            (Ok(key), Some(kind), Some(safety_class)) if errors.is_empty() => Ok(Self {
                key,
                title: title.to_string(),
                body: body.to_string(),
                kind,
                safety_class,
            }),
            _ => Err(errors),
        }
    }
}

/// Whether making `parent` a parent of `child` would close a cycle: true
/// when they are the same or `child` is already an ancestor of `parent`.
/// `parents_of` gives the current parents of a requirement.
pub fn closes_cycle<K, F>(child: &K, parent: &K, mut parents_of: F) -> bool
where
    K: Eq + std::hash::Hash + Clone,
    F: FnMut(&K) -> Vec<K>,
{
    let mut seen = HashSet::new();
    let mut todo = vec![parent.clone()];
    while let Some(k) = todo.pop() {
        if &k == child {
            return true;
        }
        if seen.insert(k.clone()) {
            todo.extend(parents_of(&k));
        }
    }
    false
}

/// One row of an imported file, as read: its line in the file, the fields
/// (or every problem with them), and the parent keys when the file has a
/// `parents` column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    pub line: u64,
    /// The key and title as typed (for the preview of a row in error).
    pub key: String,
    pub title: String,
    pub fields: Result<RequirementFields, Vec<String>>,
    pub parents: Option<Vec<String>>,
}

/// The columns an import file may have (the first row names them; any
/// order; case and surrounding spaces do not matter).
pub const IMPORT_COLUMNS: [&str; 6] = ["key", "title", "text", "kind", "safety_class", "parents"];

/// The headings of a matrix export that an import passes over.
const EXPORT_ONLY: [&str; 10] = [
    "version",
    "status",
    "derived requirements",
    "risks",
    "commits",
    "newest commit",
    "tests",
    "latest results",
    "coverage",
    "gaps",
];

/// Reads an import file: a header row, then one requirement a row. Errors
/// that stop the whole file (no header, unknown or missing columns, bad
/// CSV, too many rows) come back as `Err`; a row's own problems stay with
/// the row, and a key given twice is a problem of its second row.
pub fn read_import(text: &str, default_class: SafetyClass) -> Result<Vec<ImportRow>, String> {
    // Line ends as LF: the CSV reader counts lines wrongly after CRLF, and
    // texts keep one kind of line end.
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("The file is not readable as CSV: {e}"))?
        .clone();
    let mut column: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().to_ascii_lowercase();
        // A matrix export (its columns in people's words) reads back: its
        // headings name the same columns, and the ones only the matrix
        // has (coverage, tests, ...) are passed over.
        let name = match name.as_str() {
            "software safety class" => "safety_class".to_string(),
            "derives from" => "parents".to_string(),
            other if EXPORT_ONLY.contains(&other) => continue,
            _ => name,
        };
        match IMPORT_COLUMNS.iter().find(|c| **c == name) {
            Some(c) if column.contains_key(c) => {
                return Err(format!("The column {c:?} appears twice."));
            }
            Some(c) => {
                column.insert(c, i);
            }
            None => {
                return Err(format!(
                    "Unknown column {:?}: the columns are {}.",
                    h.trim(),
                    IMPORT_COLUMNS.join(", ")
                ));
            }
        }
    }
    for required in ["key", "title", "kind"] {
        if !column.contains_key(required) {
            return Err(format!(
                "The file needs a {required:?} column (the first row names the columns: {}).",
                IMPORT_COLUMNS.join(", ")
            ));
        }
    }
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(p) => format!("Line {}: {e}", p.line()),
            None => format!("The file is not readable as CSV: {e}"),
        })?;
        if rows.len() >= MAX_IMPORT_ROWS {
            return Err(format!(
                "The file has more than {MAX_IMPORT_ROWS} requirements; split it."
            ));
        }
        let line = record.position().map_or(0, |p| p.line());
        let get = |c: &str| {
            column
                .get(c)
                .and_then(|&i| record.get(i))
                .unwrap_or_default()
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let mut fields = RequirementFields::parse(
            get("key"),
            get("title"),
            get("text"),
            get("kind"),
            get("safety_class"),
            default_class,
        )
        .map_err(|errs| errs.into_iter().map(|e| e.message).collect::<Vec<_>>());
        let parents = match column.get("parents") {
            None => None,
            Some(_) => match parse_key_list(get("parents")) {
                Ok(keys) => Some(keys),
                Err(errs) => {
                    push_errors(&mut fields, errs);
                    Some(Vec::new())
                }
            },
        };
        let key = get("key").trim().to_ascii_uppercase();
        if let Ok(f) = &fields {
            if let Some(first) = seen.get(&f.key) {
                let again = format!("{} is already on line {first}.", f.key);
                push_errors(&mut fields, vec![again]);
            } else {
                seen.insert(f.key.clone(), line);
            }
        }
        rows.push(ImportRow {
            line,
            key,
            title: get("title").trim().to_string(),
            fields,
            parents,
        });
    }
    if rows.is_empty() {
        return Err("The file has a header row but no requirements.".into());
    }
    Ok(rows)
}

/// Adds problems to a row: its fields become the list of everything wrong.
pub fn push_errors(fields: &mut Result<RequirementFields, Vec<String>>, more: Vec<String>) {
    match fields {
        Ok(_) => *fields = Err(more),
        Err(errs) => errs.extend(more),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_upper_cased_and_checked_and_attest_prefixes_are_refused() {
        assert_eq!(parse_key(" srs-012 "), Ok("SRS-012".into()));
        assert_eq!(parse_key("UN-4.1"), Ok("UN-4.1".into()));
        for bad in ["SRS", "012-SRS", "SRS--1", "SRS-1-", "SRS 1", "SRS-é", ""] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
        assert!(parse_key(&format!("S-{}", "1".repeat(MAX_KEY))).is_err());
        let capa = parse_key("capa-7").unwrap_err();
        assert!(capa.contains("cannot start with CAPA-"), "{capa}");
        assert_eq!(
            parse_key_list("SRS-1; srs-2, SRS-1 SYS-3"),
            Ok(vec!["SRS-1".into(), "SRS-2".into(), "SYS-3".into()])
        );
        assert!(parse_key_list("SRS-1;bad key").is_err());
    }

    #[test]
    fn a_text_change_makes_a_new_version_and_other_changes_do_not() {
        let at = |h| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
                .and_then(|d| d.and_hms_opt(h, 0, 0))
                .map(|t| t.and_utc())
                .unwrap_or_default()
        };
        let r = Requirement {
            id: 1,
            product_id: 1,
            key: "SRS-1".into(),
            title: "Lockout".into(),
            body: "Lock after 5 failures".into(),
            kind: ReqKind::Software,
            safety_class: SafetyClass::B,
            status: ReqStatus::Active,
            text_version: 1,
            text_changed_at: at(1),
            created_by: None,
            created_at: at(1),
            updated_at: at(1),
            version: 1,
        };
        let mut f = r.fields();
        f.safety_class = SafetyClass::C;
        let reclassed = r.with(&f, at(2));
        assert_eq!(
            (reclassed.text_version, reclassed.text_changed_at),
            (1, at(1))
        );
        f.body = "Lock after 3 failures".into();
        let reworded = reclassed.with(&f, at(3));
        assert_eq!(
            (reworded.text_version, reworded.text_changed_at),
            (2, at(3))
        );
    }

    #[test]
    fn a_parent_that_descends_from_the_child_closes_a_cycle() {
        // 3 derives from 2, 2 from 1.
        let parents = |k: &i32| match k {
            3 => vec![2],
            2 => vec![1],
            _ => vec![],
        };
        assert!(closes_cycle(&1, &3, parents), "1 under 3 under 2 under 1");
        assert!(closes_cycle(&2, &2, parents), "its own parent");
        assert!(!closes_cycle(&3, &1, parents), "a further ancestor is fine");
        assert!(!closes_cycle(&4, &3, parents));
    }

    #[test]
    fn an_import_file_is_read_into_rows_each_with_its_own_problems() {
        let file = "\u{feff}Key,Title,text,kind,Safety_Class,parents\r\n\
            SYS-1,Pump delivers,\"Rate 0.1-999 ml/h, ±5%\",system,,\r\n\
            srs-1,Rate check,,software,C,SYS-1\r\n\
            ,,,,,\r\n\
            SRS-2,,,firmware,D,bad_key\r\n\
            SRS-1,Again,,software,,\r\n";
        let rows = read_import(file, SafetyClass::B).unwrap();
        assert_eq!(rows.len(), 4, "the empty row is skipped");
        let sys = rows[0].fields.as_ref().unwrap();
        assert_eq!(sys.body, "Rate 0.1-999 ml/h, ±5%");
        assert_eq!(sys.safety_class, SafetyClass::B, "the product's class");
        assert_eq!(rows[1].fields.as_ref().unwrap().key, "SRS-1");
        assert_eq!(rows[1].parents, Some(vec!["SYS-1".into()]));
        let bad = rows[2].fields.as_ref().unwrap_err();
        assert_eq!(
            bad.len(),
            4,
            "{bad:?}: title, kind, class and the parent key"
        );
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 5, 6]);
        assert_eq!(
            rows[3].fields.as_ref().unwrap_err(),
            &vec!["SRS-1 is already on line 3.".to_string()]
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_as_requirements_is_refused_whole() {
        let err = |f: &str| read_import(f, SafetyClass::A).unwrap_err();
        assert!(err("key,title,colour\nA-1,x,red\n").contains("Unknown column \"colour\""));
        assert!(err("key,title\nA-1,x\n").contains("needs a \"kind\" column"));
        assert!(err("key,title,kind\n").contains("no requirements"));
        assert!(err("key,title,kind\nA-1,x\n").contains("Line 2"));
        assert!(err("key,key,title,kind\n").contains("appears twice"));
    }
}
