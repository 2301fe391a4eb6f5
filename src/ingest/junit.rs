//! JUnit XML as CI tools write it (cargo-nextest, pytest `--junitxml`, Maven
//! Surefire, jest-junit, go-junit-report): `<testsuites>` or a lone
//! `<testsuite>`, nested suites, `<testcase>` with `<failure>`, `<error>` or
//! `<skipped>`, and `<property name="requirement" value="SRS-012"/>` on a
//! test case or any suite around it. A DTD or an entity other than XML's five
//! and character references is refused, so nothing is ever expanded; every
//! error says its line and column.

use quick_xml::events::{BytesStart, Event};

pub use crate::domain::trace::Outcome;

/// Most test cases in one file, and how deep its elements may nest.
pub const MAX_CASES: usize = 100_000;
const MAX_DEPTH: usize = 64;
/// Longest failure message kept, and longest test name, in characters.
const MAX_MESSAGE: usize = 4_000;
const MAX_NAME: usize = 1_000;

/// One test case's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The test's full name: `classname::name`, or the name alone.
    pub key: String,
    /// The name as the file gives it.
    pub name: String,
    pub outcome: Outcome,
    pub duration_ms: i64,
    pub message: String,
    /// Requirement keys named by `requirement` properties, upper case.
    pub requirements: Vec<String>,
}

/// Why a file is not JUnit XML, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct JunitError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn at(xml: &str, pos: usize, message: impl Into<String>) -> JunitError {
    let before = xml.get(..pos.min(xml.len())).unwrap_or(xml);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    JunitError {
        line,
        column,
        message: message.into(),
    }
}

fn attr(e: &BytesStart, name: &str) -> Result<Option<String>, String> {
    match e.try_get_attribute(name) {
        Ok(Some(a)) => a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| Some(v.into_owned()))
            .map_err(|e| format!("an attribute could not be read: {e}")),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("an attribute could not be read: {e}")),
    }
}

/// Refuses an entity other than XML's five and character references in any
/// attribute of an element, read or not (docs/api.md): nothing is expanded.
fn check_entities(e: &BytesStart) -> Result<(), String> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| format!("an attribute could not be read: {e}"))?;
        let raw = &a.value;
        let mut rest = raw.as_ref();
        while let Some(i) = rest.find('&') {
            let after = &rest[i + 1..];
            let name = after.split(';').next().unwrap_or_default();
            let known = matches!(name, "lt" | "gt" | "amp" | "apos" | "quot")
                || name
                    .strip_prefix("#x")
                    .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                || name
                    .strip_prefix('#')
                    .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            if !known || !after.contains(';') {
                return Err(format!(
                    "the entity &{name}; is not accepted (only XML's five and character references are)"
                ));
            }
            rest = &after[name.len() + 1..];
        }
    }
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Milliseconds from JUnit's seconds (`0.004`, `12`, `1,234.5`).
fn millis(time: Option<String>) -> i64 {
    time.and_then(|t| t.replace(',', "").trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(0, |s| (s * 1000.0).round().min(1e15) as i64)
}

/// Requirement keys in a property value (`SRS-012`, `SRS-012, SRS-013`).
fn property_keys(name: Option<String>, value: Option<String>) -> Vec<String> {
    let wanted = name.is_some_and(|n| {
        matches!(
            n.trim().to_ascii_lowercase().as_str(),
            "requirement" | "requirements" | "verifies"
        )
    });
    if !wanted {
        return Vec::new();
    }
    value
        .unwrap_or_default()
        .split([',', ';', ' '])
        .filter(|k| !k.is_empty())
        .map(|k| k.trim().to_ascii_uppercase())
        .collect()
}

struct Open {
    key: String,
    name: String,
    outcome: Outcome,
    duration_ms: i64,
    message: String,
    requirements: Vec<String>,
    /// Inside `<failure>`, `<error>` or `<skipped>`: its text is the message.
    in_result: bool,
    /// The element's text has begun (after its `message` attribute).
    text_started: bool,
}

/// Reads a JUnit file into its test cases.
pub fn parse(xml: &str) -> Result<Vec<Case>, JunitError> {
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut suites: Vec<Vec<String>> = Vec::new();
    let mut case: Option<Open> = None;
    let mut cases = Vec::new();
    let mut root_seen = false;
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| {
            let p = usize::try_from(reader.error_position()).unwrap_or(pos);
            at(xml, p, format!("not well-formed XML: {e}"))
        })?;
        let fail = |m: String| at(xml, pos, m);
        match event {
            Event::DocType(_) => {
                return Err(fail(
                    "a DTD is not accepted (its entities could be expanded)".into(),
                ));
            }
            Event::Start(e) | Event::Empty(e) if depth >= MAX_DEPTH => {
                let _ = e;
                return Err(fail(format!("elements nest deeper than {MAX_DEPTH}")));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                check_entities(e).map_err(&fail)?;
                let empty = matches!(event, Event::Empty(_));
                let tag = e.local_name().as_ref().to_string();
                if !root_seen {
                    root_seen = true;
                    if tag != "testsuites" && tag != "testsuite" {
                        return Err(fail(format!(
                            "the root element is <{}>, not <testsuites> or <testsuite>",
                            tag
                        )));
                    }
                }
                match tag.as_str() {
                    "testsuite" if case.is_none() && !empty => suites.push(Vec::new()),
                    "testcase" if case.is_none() => {
                        if cases.len() >= MAX_CASES {
                            return Err(fail(format!("more than {MAX_CASES} test cases")));
                        }
                        let name = clip(
                            &attr(e, "name").map_err(&fail)?.unwrap_or_default(),
                            MAX_NAME,
                        );
                        let class = clip(
                            &attr(e, "classname").map_err(&fail)?.unwrap_or_default(),
                            MAX_NAME,
                        );
                        if name.trim().is_empty() {
                            return Err(fail("a <testcase> has no name".into()));
                        }
                        let key = if class.trim().is_empty() || name.starts_with(&class) {
                            name.clone()
                        } else {
                            format!("{class}::{name}")
                        };
                        let open = Open {
                            key,
                            name,
                            outcome: Outcome::Passed,
                            duration_ms: millis(attr(e, "time").map_err(&fail)?),
                            message: String::new(),
                            requirements: Vec::new(),
                            in_result: false,
                            text_started: false,
                        };
                        if empty {
                            cases.push(finish(open, &suites));
                        } else {
                            case = Some(open);
                        }
                    }
                    "failure" | "error" | "skipped" => {
                        if let Some(c) = case.as_mut() {
                            let outcome = match tag.as_str() {
                                "failure" => Outcome::Failed,
                                "error" => Outcome::Error,
                                _ => Outcome::Skipped,
                            };
                            // An error outranks a failure, and both a skip.
                            if c.outcome == Outcome::Passed
                                || (c.outcome == Outcome::Skipped && outcome != Outcome::Skipped)
                                || (c.outcome == Outcome::Failed && outcome == Outcome::Error)
                            {
                                c.outcome = outcome;
                            }
                            if let Some(m) = attr(e, "message").map_err(&fail)? {
                                c.message = clip(&m, MAX_MESSAGE);
                            }
                            c.in_result = !empty;
                        }
                    }
                    "property" => {
                        let keys = property_keys(
                            attr(e, "name").map_err(&fail)?,
                            attr(e, "value").map_err(&fail)?,
                        );
                        match (case.as_mut(), suites.last_mut()) {
                            (Some(c), _) => c.requirements.extend(keys),
                            (None, Some(s)) => s.extend(keys),
                            (None, None) => {}
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    "testcase" => {
                        if let Some(c) = case.take() {
                            cases.push(finish(c, &suites));
                        }
                    }
                    "testsuite" if case.is_none() => {
                        suites.pop();
                    }
                    "failure" | "error" | "skipped" => {
                        if let Some(c) = case.as_mut() {
                            c.in_result = false;
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(c) = case.as_mut().filter(|c| c.in_result) {
                    push_text(c, &t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(c) = case.as_mut().filter(|c| c.in_result) {
                    push_text(c, &t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(fail(format!(
                                "the entity &{other}; is not accepted (only XML's five and character references are)"
                            )));
                        }
                    },
                    Err(e) => return Err(fail(format!("a character reference is wrong: {e}"))),
                };
                if let Some(c) = case.as_mut().filter(|c| c.in_result) {
                    push_text(c, ch.encode_utf8(&mut [0u8; 4]));
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !root_seen {
        return Err(at(
            xml,
            xml.len(),
            "the file has no <testsuites> or <testsuite> element",
        ));
    }
    Ok(cases)
}

/// The message attribute first, then a blank line and the element's text
/// (a stack trace, a location).
fn push_text(c: &mut Open, text: &str) {
    if !c.text_started {
        if text.trim().is_empty() {
            return;
        }
        c.text_started = true;
        if !c.message.is_empty() {
            c.message.push_str("\n\n");
        }
    }
    if c.message.chars().count() < MAX_MESSAGE {
        c.message.push_str(text);
        c.message = clip(&c.message, MAX_MESSAGE);
    }
}

fn finish(c: Open, suites: &[Vec<String>]) -> Case {
    let mut requirements = c.requirements;
    for s in suites {
        requirements.extend(s.iter().cloned());
    }
    let mut seen = std::collections::HashSet::new();
    requirements.retain(|k| seen.insert(k.clone()));
    Case {
        key: c.key,
        name: c.name,
        outcome: c.outcome,
        duration_ms: c.duration_ms,
        message: c.message.trim().to_string(),
        requirements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(xml: &str) -> Vec<(String, &'static str)> {
        parse(xml)
            .unwrap()
            .into_iter()
            .map(|c| (c.key, c.outcome.as_str()))
            .collect()
    }

    #[test]
    fn cargo_nextest() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="2" failures="1" errors="0" uuid="x" timestamp="2026-11-30T10:00:00.000+00:00" time="0.5">
    <testsuite name="attest::api" tests="2" disabled="0" errors="0" failures="1">
        <testcase name="auth::srs_012_lockout" classname="attest::api" timestamp="2026-11-30T10:00:00.000+00:00" time="0.250">
        </testcase>
        <testcase name="auth::bad" classname="attest::api" time="0.010">
            <failure type="test failure">thread 'auth::bad' panicked at tests/api/auth.rs:10:5:
assertion `left == right` failed</failure>
            <system-out></system-out>
        </testcase>
    </testsuite>
</testsuites>"#;
        let cases = parse(xml).unwrap();
        assert_eq!(cases[0].key, "attest::api::auth::srs_012_lockout");
        assert_eq!(
            (cases[0].outcome, cases[0].duration_ms),
            (Outcome::Passed, 250)
        );
        assert_eq!(cases[1].outcome, Outcome::Failed);
        assert!(
            cases[1]
                .message
                .contains("assertion `left == right` failed")
        );
    }

    #[test]
    fn pytest_with_skips_errors_and_properties() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="0" skipped="1" tests="3" time="0.05" timestamp="2026-11-30T10:00:00" hostname="ci">
<properties><property name="requirement" value="SYS-001"/></properties>
<testcase classname="tests.test_pump" name="test_rate" time="0.001"><properties><property name="requirement" value="srs-020, SRS-021"/></properties></testcase>
<testcase classname="tests.test_pump" name="test_skip" time="0.000"><skipped type="pytest.skip" message="not on this rig">/x.py:3: not on this rig</skipped></testcase>
<testcase classname="tests.test_pump" name="test_boom" time="0.002"><error message="failed on setup with &quot;ValueError&quot;">E &lt;boom&gt; &amp; more</error></testcase>
</testsuite></testsuites>"#;
        let cases = parse(xml).unwrap();
        assert_eq!(cases[0].requirements, ["SRS-020", "SRS-021", "SYS-001"]);
        assert_eq!(cases[1].outcome, Outcome::Skipped);
        assert_eq!(
            cases[1].message,
            "not on this rig\n\n/x.py:3: not on this rig"
        );
        assert_eq!(cases[2].outcome, Outcome::Error);
        assert_eq!(
            cases[2].message,
            "failed on setup with \"ValueError\"\n\nE <boom> & more"
        );
    }

    #[test]
    fn maven_surefire_jest_and_go() {
        let surefire = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.acme.PumpTest" time="0.02" tests="1" errors="0" skipped="0" failures="0">
  <properties><property name="java.version" value="17"/></properties>
  <testcase name="lockoutAfterThreePins" classname="com.acme.PumpTest" time="0.011"/>
</testsuite>"#;
        assert_eq!(
            outcomes(surefire),
            [(
                "com.acme.PumpTest::lockoutAfterThreePins".to_string(),
                "passed"
            )]
        );
        let jest = r#"<testsuites name="jest tests" tests="1" failures="0"><testsuite name="Keypad" tests="1"><testcase classname="Keypad SRS-012 locks" name="Keypad SRS-012 locks" time="0.003"></testcase></testsuite></testsuites>"#;
        assert_eq!(
            outcomes(jest),
            [("Keypad SRS-012 locks".to_string(), "passed")]
        );
        let go = r#"<testsuites tests="1" failures="1"><testsuite name="acme/pump" tests="1" failures="1" errors="0" id="0" hostname="ci" time="0.001" timestamp="2026-11-30T10:00:00Z"><properties><property name="go.version" value="go1.23"></property></properties><testcase name="TestSRS012Lockout" classname="acme/pump" time="0.000"><failure message="Failed" type="">pump_test.go:12: got 5</failure></testcase></testsuite></testsuites>"#;
        assert_eq!(
            outcomes(go),
            [("acme/pump::TestSRS012Lockout".to_string(), "failed")]
        );
    }

    #[test]
    fn bad_files_say_where_and_nothing_is_expanded_security_17() {
        let err = |x: &str| parse(x).unwrap_err();
        let e = err("<testsuites>\n  <testsuite>\n    <testcase name=\"a\">\n  </testsuite>");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("not well-formed"), "{e}");
        let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\n<testsuites>&lol2;</testsuites>";
        let e = err(xxe);
        assert!(e.message.contains("a DTD is not accepted"), "{e}");
        assert_eq!(e.line, 2);
        let e = err(
            "<testsuites><testsuite><testcase name=\"a\"><failure>&ext;</failure></testcase></testsuite></testsuites>",
        );
        assert!(
            e.message.contains("the entity &ext; is not accepted"),
            "{e}"
        );
        // Wherever it appears: in an attribute that is read, one that is not,
        // in text outside a result, on any element (docs/api.md).
        for xml in [
            "<testsuites><testsuite><testcase name=\"&ext;\"/></testsuite></testsuites>",
            "<testsuites><testsuite file=\"&ext;\"><testcase name=\"a\"/></testsuite></testsuites>",
            "<testsuites name=\"x &ext; y\"><testsuite><testcase name=\"a\"/></testsuite></testsuites>",
            "<testsuites><testsuite><testcase name=\"a\"><system-out>&ext;</system-out></testcase></testsuite></testsuites>",
            "<testsuites>&ext;<testsuite/></testsuites>",
        ] {
            let e = err(xml);
            assert!(
                e.message.contains("the entity &ext; is not accepted"),
                "{xml}: {e}"
            );
        }
        // XML's five and character references are read as such.
        let ok = parse(
            "<testsuites><testsuite name=\"a &amp; b &#38; &#x26;\"><testcase name=\"x &lt;y&gt;\"/></testsuite></testsuites>",
        )
        .unwrap();
        assert_eq!(ok[0].name, "x <y>");
        assert!(
            err("<html><body/></html>")
                .message
                .contains("not <testsuites>")
        );
        assert!(err("").message.contains("no <testsuites>"));
        assert!(
            err(&"<testsuite>".repeat(100))
                .message
                .contains("nest deeper")
        );
        assert!(
            err("<testsuites><testcase/></testsuites>")
                .message
                .contains("has no name")
        );
    }
}
