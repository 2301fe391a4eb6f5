//! Matrix exports for auditors (TRACEABILITY.md): CSV, XLSX, JSON, a
//! print-ready HTML page and ReqIF 1.2, from the same rows. Spreadsheet
//! cells that start with = + - @ are neutralised. Pure: bytes in, bytes out.

use askama::Template;
use serde_json::json;

use super::matrix::{Coverage, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
    Html,
    Reqif,
}

impl Format {
    pub const ALL: [Format; 5] = [Self::Csv, Self::Xlsx, Self::Json, Self::Html, Self::Reqif];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Json => "json",
            Self::Html => "html",
            Self::Reqif => "reqif",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Xlsx => "Excel (XLSX)",
            Self::Json => "JSON",
            Self::Html => "Print-ready HTML (A4)",
            Self::Reqif => "ReqIF 1.2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Json => "application/json",
            Self::Html => "text/html; charset=utf-8",
            Self::Reqif => "application/xml",
        }
    }
}

/// What every export says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub product: String,
    pub key_prefix: String,
    /// UTC, as the audit log writes times.
    pub generated_at: String,
    pub generated_by: String,
    /// The audit log's size when the rows were read.
    pub log_size: u64,
    /// The log's Merkle tree root at that size (base64): the signed
    /// checkpoint in the manifest names the same root.
    pub log_root: String,
}

/// The columns of the tabular exports, in people's words (issue 14, item
/// 9); the requirement import reads these headings as well as its own.
pub const COLUMNS: [&str; 16] = [
    "Key",
    "Title",
    "Text",
    "Kind",
    "Software safety class",
    "Version",
    "Status",
    "Derives from",
    "Derived requirements",
    "Risks",
    "Commits",
    "Newest commit",
    "Tests",
    "Latest results",
    "Coverage",
    "Gaps",
];

/// The columns that hold whole numbers (a spreadsheet keeps them numbers).
const NUMBERS: [usize; 2] = [5, 10];

fn kind_label(kind: &str) -> &str {
    crate::domain::requirement::ReqKind::label_of(kind).unwrap_or(kind)
}

fn status_label(status: &str) -> &str {
    crate::domain::requirement::ReqStatus::label_of(status).unwrap_or(status)
}

fn outcome_label(o: Option<crate::domain::trace::Outcome>) -> &'static str {
    o.map_or("Not run", |o| o.label())
}

fn cells(r: &Row) -> [String; 16] {
    let tests: Vec<&str> = r.tests.iter().map(|t| t.key.as_str()).collect();
    let results: Vec<String> = r
        .tests
        .iter()
        .map(|t| format!("{}: {}", t.key, outcome_label(t.latest)))
        .collect();
    [
        r.key.clone(),
        r.title.clone(),
        r.text.clone(),
        kind_label(r.kind).to_string(),
        r.safety_class.to_string(),
        r.version.to_string(),
        status_label(r.status).to_string(),
        r.parents.join("; "),
        r.children.join("; "),
        r.risks.join("; "),
        r.commits.to_string(),
        r.newest_commit.clone().unwrap_or_default(),
        tests.join("; "),
        results.join("; "),
        r.coverage.label().to_string(),
        r.gaps
            .iter()
            .map(|g| g.label())
            .collect::<Vec<_>>()
            .join("; "),
    ]
}

/// A cell as a spreadsheet must show it: text, never a formula.
pub fn neutral(value: &str) -> String {
    if value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'))
    {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// Renders `rows` in `format`.
pub fn render(format: Format, meta: &Meta, rows: &[Row]) -> Result<Vec<u8>, String> {
    match format {
        Format::Csv => Ok(csv(rows)),
        Format::Xlsx => xlsx(meta, rows),
        Format::Json => json_export(meta, rows),
        Format::Html => html(meta, rows),
        Format::Reqif => Ok(reqif(meta, rows)),
    }
}

fn csv(rows: &[Row]) -> Vec<u8> {
    let mut out = crate::csv::line(&COLUMNS);
    for r in rows {
        out.push_str(&crate::csv::line(&cells(r)));
    }
    out.into_bytes()
}

fn xlsx(meta: &Meta, rows: &[Row]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as Fmt, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| format!("the spreadsheet could not be written: {e}");
    let mut book = Workbook::new();
    let bold = Fmt::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("Matrix").map_err(err)?;
    for (c, name) in COLUMNS.iter().enumerate() {
        let col = u16::try_from(c).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, *name, &bold)
            .map_err(err)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|e| e.to_string())?;
        for (c, value) in cells(r).iter().enumerate() {
            let col = u16::try_from(c).map_err(|e| e.to_string())?;
            match value.parse::<f64>() {
                Ok(n) if NUMBERS.contains(&c) => sheet.write_number(row, col, n).map_err(err)?,
                _ => sheet.write_string(row, col, neutral(value)).map_err(err)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 1).map_err(err)?;
    let about = book.add_worksheet();
    about.set_name("About").map_err(err)?;
    for (i, (k, v)) in [
        ("Product", meta.product.as_str()),
        ("Key prefix", meta.key_prefix.as_str()),
        ("Generated (UTC)", meta.generated_at.as_str()),
        ("Generated by", meta.generated_by.as_str()),
        ("Audit log root (RFC 9162, base64)", meta.log_root.as_str()),
    ]
    .iter()
    .enumerate()
    {
        let row = u32::try_from(i).map_err(|e| e.to_string())?;
        about
            .write_string_with_format(row, 0, *k, &bold)
            .map_err(err)?;
        about.write_string(row, 1, neutral(v)).map_err(err)?;
    }
    for (i, (k, n)) in [
        ("Audit log size (entries)", meta.log_size as f64),
        ("Requirements", rows.len() as f64),
    ]
    .iter()
    .enumerate()
    {
        let row = u32::try_from(i + 5).map_err(|e| e.to_string())?;
        about
            .write_string_with_format(row, 0, *k, &bold)
            .map_err(err)?;
        about.write_number(row, 1, *n).map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}

fn json_export(meta: &Meta, rows: &[Row]) -> Result<Vec<u8>, String> {
    serde_json::to_vec_pretty(&json!({
        "product": meta.product,
        "key_prefix": meta.key_prefix,
        "generated_at": meta.generated_at,
        "generated_by": meta.generated_by,
        "audit_log_size": meta.log_size,
        "requirements": rows,
    }))
    .map_err(|e| e.to_string())
}

/// One row of the print page, in people's words.
struct PrintRow<'a> {
    row: &'a Row,
    kind: &'a str,
    status: &'a str,
    results: String,
}

#[derive(Template)]
#[template(path = "trace/print.html")]
struct PrintPage<'a> {
    meta: &'a Meta,
    rows: Vec<PrintRow<'a>>,
    counts: Vec<(&'static str, usize)>,
    css: &'static str,
}

fn html(meta: &Meta, rows: &[Row]) -> Result<Vec<u8>, String> {
    let page = PrintPage {
        meta,
        rows: rows
            .iter()
            .map(|r| PrintRow {
                row: r,
                kind: kind_label(r.kind),
                status: status_label(r.status),
                results: r
                    .tests
                    .iter()
                    .map(|t| format!("{} ({})", t.key, outcome_label(t.latest)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        counts: Coverage::ALL
            .iter()
            .map(|c| (c.label(), rows.iter().filter(|r| r.coverage == *c).count()))
            .collect(),
        css: PRINT_CSS,
    };
    page.render()
        .map(String::into_bytes)
        .map_err(|e| e.to_string())
}

/// The print page's style: A4, a header block, page x of y, repeated table
/// heads, keys never wrapped. The style travels inside the file (it is a
/// file on its own); opened in the app, the page's CSP allows exactly this
/// style by its hash.
pub const PRINT_CSS: &str = "@page { size: A4 landscape; margin: 14mm 10mm 16mm; @bottom-right { content: \"Page \" counter(page) \" of \" counter(pages); font: 9pt sans-serif; } @bottom-left { content: \"Attest traceability matrix\"; font: 9pt sans-serif; } }
body { font: 9pt/1.35 system-ui, sans-serif; color: #111; margin: 0 auto; max-width: 277mm; }
h1 { font-size: 15pt; margin: 0 0 6pt; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; }
.head { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 1pt 10pt; margin: 0 0 8pt; }
.head dt { font-weight: bold; } .head dd { margin: 0; }
.counts { display: flex; flex-wrap: wrap; gap: 2pt 14pt; margin: 0 0 8pt; padding: 0; list-style: none; }
.key, .nowrap { white-space: nowrap; }
.failing { color: #9b1c1c; font-weight: bold; } .verified { color: #14633a; }
.text { white-space: pre-wrap; color: #333; }
.page-count::after { content: \"(page numbers print at the foot of each page)\"; color: #555; }
@media print { .page-count { display: none; } }";

/// XML text with its five special characters escaped.
fn x(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A ReqIF identifier from any text, one to one: letters, digits, `-` and
/// `.` stand for themselves, every other character (`_` included) is `_`
/// and its UTF-8 bytes in hex, so `SRS-001 rate/limit`, `SRS-001 rate limit`
/// and `SRS-001 rate_limit` stay three identifiers (an XML ID, unique in
/// the file, as strict schema validation checks).
fn ident(prefix: &str, s: &str) -> String {
    let mut out = format!("{prefix}-");
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("_{b:02X}"));
            }
        }
    }
    out
}

/// ReqIF 1.2 (OMG formal/16-07-01): requirements, tests and risks as
/// spec-objects with string attributes, parent, verification and risk
/// control links as spec-relations, and one specification holding the
/// requirements under their parents.
fn reqif(meta: &Meta, rows: &[Row]) -> Vec<u8> {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let now = &meta.generated_at;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd">
  <THE-HEADER>
    <REQ-IF-HEADER IDENTIFIER="{id}">
      <COMMENT>Traceability matrix of {product}, audit log size {size}</COMMENT>
      <CREATION-TIME>{now}</CREATION-TIME>
      <REQ-IF-TOOL-ID>Attest</REQ-IF-TOOL-ID>
      <REQ-IF-VERSION>1.0</REQ-IF-VERSION>
      <SOURCE-TOOL-ID>Attest</SOURCE-TOOL-ID>
      <TITLE>{product} requirements</TITLE>
    </REQ-IF-HEADER>
  </THE-HEADER>
  <CORE-CONTENT>
    <REQ-IF-CONTENT>
      <DATATYPES>
        <DATATYPE-DEFINITION-STRING IDENTIFIER="dt-string" LAST-CHANGE="{now}" LONG-NAME="String" MAX-LENGTH="100000"/>
      </DATATYPES>
      <SPEC-TYPES>
"#,
        id = x(&ident(
            "header",
            &format!("{}-{}", meta.key_prefix, meta.log_size)
        )),
        product = x(&meta.product),
        size = meta.log_size,
        now = x(now),
    );
    let req_attrs = [
        "Key",
        "Title",
        "Text",
        "Kind",
        "SafetyClass",
        "Version",
        "Status",
        "Coverage",
    ];
    let _ = writeln!(
        o,
        r#"        <SPEC-OBJECT-TYPE IDENTIFIER="type-requirement" LAST-CHANGE="{}" LONG-NAME="Requirement">
          <SPEC-ATTRIBUTES>"#,
        x(now)
    );
    for a in req_attrs {
        let _ = writeln!(
            o,
            r#"            <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="attr-req-{a}" LAST-CHANGE="{now}" LONG-NAME="{a}"><TYPE><DATATYPE-DEFINITION-STRING-REF>dt-string</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>"#,
            now = x(now)
        );
    }
    let _ = write!(
        o,
        r#"          </SPEC-ATTRIBUTES>
        </SPEC-OBJECT-TYPE>
        <SPEC-OBJECT-TYPE IDENTIFIER="type-test" LAST-CHANGE="{now}" LONG-NAME="Test case">
          <SPEC-ATTRIBUTES>
            <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="attr-test-Key" LAST-CHANGE="{now}" LONG-NAME="Key"><TYPE><DATATYPE-DEFINITION-STRING-REF>dt-string</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
            <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="attr-test-LatestResult" LAST-CHANGE="{now}" LONG-NAME="LatestResult"><TYPE><DATATYPE-DEFINITION-STRING-REF>dt-string</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
          </SPEC-ATTRIBUTES>
        </SPEC-OBJECT-TYPE>
        <SPEC-OBJECT-TYPE IDENTIFIER="type-risk" LAST-CHANGE="{now}" LONG-NAME="Risk">
          <SPEC-ATTRIBUTES>
            <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="attr-risk-Key" LAST-CHANGE="{now}" LONG-NAME="Key"><TYPE><DATATYPE-DEFINITION-STRING-REF>dt-string</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
          </SPEC-ATTRIBUTES>
        </SPEC-OBJECT-TYPE>
        <SPEC-RELATION-TYPE IDENTIFIER="rel-parent" LAST-CHANGE="{now}" LONG-NAME="derives from"/>
        <SPEC-RELATION-TYPE IDENTIFIER="rel-verifies" LAST-CHANGE="{now}" LONG-NAME="verifies"/>
        <SPEC-RELATION-TYPE IDENTIFIER="rel-controls" LAST-CHANGE="{now}" LONG-NAME="implements a control of"/>
        <SPECIFICATION-TYPE IDENTIFIER="type-spec" LAST-CHANGE="{now}" LONG-NAME="Requirements specification"/>
      </SPEC-TYPES>
      <SPEC-OBJECTS>
"#,
        now = x(now)
    );
    let string_value = |o: &mut String, attr: &str, v: &str| {
        let _ = writeln!(
            o,
            r#"            <ATTRIBUTE-VALUE-STRING THE-VALUE="{}"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>{attr}</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>"#,
            x(v)
        );
    };
    let mut tests: BTreeMap<String, String> = BTreeMap::new();
    let mut risks: std::collections::BTreeSet<&str> = Default::default();
    for r in rows {
        risks.extend(r.risks.iter().map(String::as_str));
        let _ = writeln!(
            o,
            r#"        <SPEC-OBJECT IDENTIFIER="{}" LAST-CHANGE="{}" LONG-NAME="{}">
          <TYPE><SPEC-OBJECT-TYPE-REF>type-requirement</SPEC-OBJECT-TYPE-REF></TYPE>
          <VALUES>"#,
            x(&ident("req", &r.key)),
            x(now),
            x(&r.key)
        );
        for (a, v) in [
            ("Key", r.key.clone()),
            ("Title", r.title.clone()),
            ("Text", r.text.clone()),
            ("Kind", r.kind.to_string()),
            ("SafetyClass", r.safety_class.to_string()),
            ("Version", r.version.to_string()),
            ("Status", r.status.to_string()),
            ("Coverage", r.coverage.as_str().to_string()),
        ] {
            string_value(&mut o, &format!("attr-req-{a}"), &v);
        }
        o.push_str("          </VALUES>\n        </SPEC-OBJECT>\n");
        for t in &r.tests {
            tests.insert(
                t.key.clone(),
                t.latest.map_or("not run", |l| l.as_str()).to_string(),
            );
        }
    }
    for (key, latest) in &tests {
        let _ = writeln!(
            o,
            r#"        <SPEC-OBJECT IDENTIFIER="{}" LAST-CHANGE="{}" LONG-NAME="{}">
          <TYPE><SPEC-OBJECT-TYPE-REF>type-test</SPEC-OBJECT-TYPE-REF></TYPE>
          <VALUES>"#,
            x(&ident("test", key)),
            x(now),
            x(key)
        );
        string_value(&mut o, "attr-test-Key", key);
        string_value(&mut o, "attr-test-LatestResult", latest);
        o.push_str("          </VALUES>\n        </SPEC-OBJECT>\n");
    }
    for key in &risks {
        let _ = writeln!(
            o,
            r#"        <SPEC-OBJECT IDENTIFIER="{}" LAST-CHANGE="{}" LONG-NAME="{}">
          <TYPE><SPEC-OBJECT-TYPE-REF>type-risk</SPEC-OBJECT-TYPE-REF></TYPE>
          <VALUES>"#,
            x(&ident("risk", key)),
            x(now),
            x(key)
        );
        string_value(&mut o, "attr-risk-Key", key);
        o.push_str("          </VALUES>\n        </SPEC-OBJECT>\n");
    }
    o.push_str("      </SPEC-OBJECTS>\n      <SPEC-RELATIONS>\n");
    let mut n = 0;
    let mut relation = |o: &mut String, kind: &str, source: String, target: String| {
        n += 1;
        let _ = writeln!(
            o,
            r#"        <SPEC-RELATION IDENTIFIER="rel-{n}" LAST-CHANGE="{}"><TYPE><SPEC-RELATION-TYPE-REF>{kind}</SPEC-RELATION-TYPE-REF></TYPE><SOURCE><SPEC-OBJECT-REF>{}</SPEC-OBJECT-REF></SOURCE><TARGET><SPEC-OBJECT-REF>{}</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>"#,
            x(now),
            x(&source),
            x(&target)
        );
    };
    for r in rows {
        for p in &r.parents {
            relation(&mut o, "rel-parent", ident("req", &r.key), ident("req", p));
        }
        for t in &r.tests {
            relation(
                &mut o,
                "rel-verifies",
                ident("test", &t.key),
                ident("req", &r.key),
            );
        }
        for k in &r.risks {
            relation(
                &mut o,
                "rel-controls",
                ident("req", &r.key),
                ident("risk", k),
            );
        }
    }
    let _ = write!(
        o,
        r#"      </SPEC-RELATIONS>
      <SPECIFICATIONS>
        <SPECIFICATION IDENTIFIER="spec-{}" LAST-CHANGE="{}" LONG-NAME="{}">
          <TYPE><SPECIFICATION-TYPE-REF>type-spec</SPECIFICATION-TYPE-REF></TYPE>
          <CHILDREN>
"#,
        x(&ident("p", &meta.key_prefix)),
        x(now),
        x(&meta.product)
    );
    // Requirements without a parent in the export head the hierarchy;
    // children hang under their first parent (a graph has no single tree).
    let keys: std::collections::HashSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let mut kids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut roots = Vec::new();
    for r in rows {
        match r.parents.iter().find(|p| keys.contains(p.as_str())) {
            Some(p) => kids.entry(p.as_str()).or_default().push(r.key.as_str()),
            None => roots.push(r.key.as_str()),
        }
    }
    let mut placed = std::collections::HashSet::new();
    fn hierarchy<'a>(
        o: &mut String,
        key: &'a str,
        kids: &BTreeMap<&'a str, Vec<&'a str>>,
        placed: &mut std::collections::HashSet<&'a str>,
        now: &str,
        depth: usize,
    ) {
        if !placed.insert(key) || depth > 64 {
            return;
        }
        let indent = "  ".repeat(depth + 6);
        let _ = write!(
            o,
            r#"{indent}<SPEC-HIERARCHY IDENTIFIER="{}" LAST-CHANGE="{}"><OBJECT><SPEC-OBJECT-REF>{}</SPEC-OBJECT-REF></OBJECT>"#,
            x(&ident("h", key)),
            x(now),
            x(&ident("req", key))
        );
        if let Some(children) = kids.get(key) {
            o.push_str("<CHILDREN>\n");
            for c in children {
                hierarchy(o, c, kids, placed, now, depth + 1);
            }
            let _ = write!(o, "{indent}</CHILDREN>");
        }
        o.push_str("</SPEC-HIERARCHY>\n");
    }
    for r in &roots {
        hierarchy(&mut o, r, &kids, &mut placed, now, 0);
    }
    // Anything a cycle kept out of the tree still appears, at the top.
    for r in rows {
        hierarchy(&mut o, r.key.as_str(), &kids, &mut placed, now, 0);
    }
    o.push_str(
        "          </CHILDREN>\n        </SPECIFICATION>\n      </SPECIFICATIONS>\n    </REQ-IF-CONTENT>\n  </CORE-CONTENT>\n</REQ-IF>\n",
    );
    o.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trace::Outcome;
    use crate::trace::matrix::TestRef;

    fn row(key: &str, parents: &[&str], title: &str) -> Row {
        Row {
            id: 1,
            key: key.into(),
            title: title.into(),
            text: "Text with <b>markup</b> & \"quotes\"".into(),
            kind: "software",
            safety_class: "B",
            version: 2,
            status: "active",
            parents: parents.iter().map(|p| p.to_string()).collect(),
            children: Vec::new(),
            risks: Vec::new(),
            commits: 1,
            newest_commit: Some("abc".into()),
            newest_commit_at: None,
            tests: vec![TestRef {
                key: format!("t::{key}"),
                latest: Some(Outcome::Passed),
                latest_at: None,
            }],
            coverage: Coverage::Verified,
            gaps: Vec::new(),
        }
    }

    fn meta() -> Meta {
        Meta {
            product: "Pump & Co <1>".into(),
            key_prefix: "PUMP".into(),
            generated_at: "2026-11-30T12:00:00.000000Z".into(),
            generated_by: "Jane Doe".into(),
            log_size: 42,
            log_root: "qlhHMQ4IcfLMfNyzU4AbZjVqQOlg0XEK0ojW4zLcfaY=".into(),
        }
    }

    #[test]
    fn reqif_is_well_formed_with_every_requirement_and_relation() {
        let mut rcm = row("RCM-1", &["SYS-1"], "Leakage monitor");
        rcm.risks = vec!["RISK-1".into(), "RISK-2".into()];
        let rows = vec![
            row("SYS-1", &[], "System"),
            row("SRS-1", &["SYS-1"], "=cmd|' /C calc'!A0"),
            rcm,
        ];
        let out = render(Format::Reqif, &meta(), &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut reader = quick_xml::Reader::from_str(&text);
        let (mut objects, mut relations, mut hierarchy) = (0, 0, 0);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                    match e.local_name().as_ref() {
                        "SPEC-OBJECT" => objects += 1,
                        "SPEC-RELATION" => relations += 1,
                        "SPEC-HIERARCHY" => hierarchy += 1,
                        _ => {}
                    }
                }
                Ok(quick_xml::events::Event::Eof) => break,
                Err(e) => panic!("not well-formed: {e}\n{text}"),
                Ok(_) => {}
            }
        }
        assert_eq!(objects, 8, "three requirements, three tests, two risks");
        assert_eq!(
            relations, 7,
            "two parent links, three verifications, two risk controls"
        );
        assert_eq!(hierarchy, 3);
        assert!(text.contains(
            "<TYPE><SPEC-RELATION-TYPE-REF>rel-controls</SPEC-RELATION-TYPE-REF></TYPE><SOURCE><SPEC-OBJECT-REF>req-RCM-1</SPEC-OBJECT-REF></SOURCE><TARGET><SPEC-OBJECT-REF>risk-RISK-2</SPEC-OBJECT-REF></TARGET>"
        ), "{text}");
        assert!(text.contains("Pump &amp; Co &lt;1&gt;"));
    }

    #[test]
    fn reqif_identifiers_differ_when_names_differ_only_in_punctuation() {
        let names = [
            "SRS-001 rate/limit",
            "SRS-001 rate limit",
            "SRS-001 rate_limit",
            "SRS-001 rate_2Flimit",
            "SRS-001 ratë",
        ];
        let ids: std::collections::BTreeSet<String> =
            names.iter().map(|n| ident("test", n)).collect();
        assert_eq!(ids.len(), names.len(), "{ids:?}");
        for id in &ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')),
                "{id} is an XML NCName"
            );
        }
        assert_eq!(ident("req", "SRS-1"), "req-SRS-1");
        let mut one = row("SRS-1", &[], "One");
        one.tests = names
            .iter()
            .map(|n| TestRef {
                key: n.to_string(),
                latest: Some(Outcome::Passed),
                latest_at: None,
            })
            .collect();
        let text = String::from_utf8(render(Format::Reqif, &meta(), &[one]).unwrap()).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for part in text.split("<SPEC-OBJECT IDENTIFIER=\"").skip(1) {
            let id = part.split('"').next().unwrap_or_default();
            assert!(seen.insert(id.to_string()), "{id} twice");
        }
        assert_eq!(seen.len(), 1 + names.len());
    }

    #[test]
    fn spreadsheet_exports_neutralise_formulas() {
        let rows = vec![row("SRS-1", &[], "=HYPERLINK(\"http://x\")")];
        let csv = String::from_utf8(render(Format::Csv, &meta(), &rows).unwrap()).unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
        assert_eq!(neutral("+1"), "'+1");
        assert_eq!(neutral("@SUM"), "'@SUM");
        assert_eq!(neutral("plain"), "plain");
        let xlsx = render(Format::Xlsx, &meta(), &rows).unwrap();
        assert!(xlsx.starts_with(b"PK"), "a zip container");
    }

    #[test]
    fn the_print_page_escapes_text_and_counts_coverage() {
        let rows = vec![row("SRS-1", &[], "<script>alert(1)</script>")];
        let html = String::from_utf8(render(Format::Html, &meta(), &rows).unwrap()).unwrap();
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("counter(pages)"));
        assert!(
            html.contains("<li><strong>Verified:</strong> 1</li>"),
            "{html}"
        );
        // The header block names the product, when, who and the log's root;
        // keys never wrap.
        assert!(html.contains("<dt>Generated</dt><dd>2026-11-30T12:00:00.000000Z UTC</dd>"));
        assert!(html.contains("<dt>By</dt><dd>Jane Doe</dd>"));
        assert!(html.contains("qlhHMQ4IcfLMfNyzU4AbZjVqQOlg0XEK0ojW4zLcfaY="));
        assert!(html.contains("<td class=\"key\">SRS-1</td>"));
        assert!(PRINT_CSS.contains(".key, .nowrap { white-space: nowrap; }"));
    }

    #[test]
    fn tabular_exports_use_labels_and_keep_numbers_numbers() {
        let rows = vec![row("SRS-1", &[], "Locks")];
        let csv = String::from_utf8(render(Format::Csv, &meta(), &rows).unwrap()).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(COLUMNS.join(",").as_str()));
        let first = lines.next().unwrap_or_default();
        assert!(first.contains(",Software requirement,"), "{first}");
        assert!(first.contains(",Active,"), "{first}");
        assert!(first.ends_with(",Verified,"), "{first}");
        assert!(!csv.contains("software,") && !csv.contains(",verified"));
        // The export reads back as an import.
        let back =
            crate::domain::requirement::read_import(&csv, crate::domain::product::SafetyClass::B)
                .unwrap();
        assert_eq!(back.len(), 1);
        assert!(back[0].fields.is_ok(), "{:?}", back[0].fields);
        // In the spreadsheet the version and the commit count are numbers.
        let xlsx = render(Format::Xlsx, &meta(), &rows).unwrap();
        let sheet = zip_entry(&xlsx, "xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<c r=\"F2\"><v>2</v></c>"), "{sheet}");
        assert!(sheet.contains("<c r=\"K2\"><v>"), "{sheet}");
    }

    /// One file of a zip container, inflated, found through its central
    /// directory (a writer may leave sizes out of the local headers).
    fn zip_entry(zip: &[u8], name: &str) -> String {
        use std::io::Read;
        let u16_at = |o: usize| u16::from_le_bytes([zip[o], zip[o + 1]]) as usize;
        let u32_at =
            |o: usize| u32::from_le_bytes([zip[o], zip[o + 1], zip[o + 2], zip[o + 3]]) as usize;
        let end = (0..zip.len() - 3)
            .rev()
            .find(|&i| &zip[i..i + 4] == b"PK\x05\x06")
            .unwrap();
        let mut at = u32_at(end + 16);
        for _ in 0..u16_at(end + 10) {
            let (method, size) = (u16_at(at + 10), u32_at(at + 20));
            let (name_len, extra, comment) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
            let local = u32_at(at + 42);
            let file = String::from_utf8_lossy(&zip[at + 46..at + 46 + name_len]).into_owned();
            if file == name {
                let start = local + 30 + u16_at(local + 26) + u16_at(local + 28);
                let data = &zip[start..start + size];
                let mut out = String::new();
                match method {
                    8 => {
                        flate2::read::DeflateDecoder::new(data)
                            .read_to_string(&mut out)
                            .unwrap();
                    }
                    _ => out = String::from_utf8_lossy(data).into_owned(),
                }
                return out;
            }
            at += 46 + name_len + extra + comment;
        }
        panic!("no {name} in the zip")
    }
}
