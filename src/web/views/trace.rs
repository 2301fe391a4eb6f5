//! The traceability matrix and the gap report.

use askama::Template;

use super::PageCtx;
use super::admin::PageLink;
use super::audit::Choice;

pub struct TestView {
    pub key: String,
    /// passed, failed, error, skipped, or "not run"
    pub outcome: &'static str,
}

pub struct MatrixRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub kind: &'static str,
    pub version: i64,
    pub retired: bool,
    pub parents: String,
    pub children: String,
    /// The risks whose controls it implements (key, page).
    pub risks: Vec<(String, String)>,
    pub commits: usize,
    pub newest_commit: String,
    pub tests: Vec<TestView>,
    pub more_tests: usize,
    pub coverage: &'static str,
    pub coverage_label: &'static str,
}

#[derive(Template)]
#[template(path = "trace/matrix.html")]
pub struct MatrixPage {
    pub ctx: PageCtx,
    pub product_id: i64,
    pub product: String,
    pub products: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub classes: Vec<Choice>,
    pub coverages: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub q: String,
    pub filtered: bool,
    pub rows: Vec<MatrixRow>,
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub pages: Vec<PageLink>,
    pub chart: crate::domain::svg::Svg,
    pub counts: Vec<(String, usize)>,
    pub no_products: bool,
    /// The export formats, for the one-step export.
    pub formats: Vec<Choice>,
}

pub struct GapRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub gaps: String,
}

pub struct OrphanTest {
    pub key: String,
    pub title: String,
}

pub struct DanglingView {
    pub key: String,
    pub relation: String,
    pub sha: String,
    pub repository: String,
    pub at: String,
}

/// A requirement implementing risk controls that is not verified.
pub struct RiskGapRow {
    pub row: GapRow,
    /// The risks it controls (`RISK-3, RISK-9`).
    pub risks: String,
}

#[derive(Template)]
#[template(path = "trace/gaps.html")]
pub struct GapsPage {
    pub ctx: PageCtx,
    pub product_id: i64,
    pub product: String,
    pub products: Vec<Choice>,
    pub rows: Vec<GapRow>,
    pub orphans: Vec<OrphanTest>,
    pub dangling: Vec<DanglingView>,
    /// Requirements implementing risk controls that are not verified, with
    /// the risks they control.
    pub risk_controls: Vec<RiskGapRow>,
    pub verified: usize,
    pub active: usize,
}

pub struct ExportRow {
    pub id: i64,
    pub file_name: String,
    pub format: String,
    pub size: String,
    pub sha_short: String,
    pub by: String,
    pub at: String,
}

pub struct ReleaseRow {
    pub tag: String,
    pub sha_short: String,
    pub repository: String,
    pub export_id: i64,
    pub at: String,
}

#[derive(Template)]
#[template(path = "trace/exports.html")]
pub struct ExportsPage {
    pub ctx: PageCtx,
    pub product_id: i64,
    pub product: String,
    pub products: Vec<Choice>,
    pub formats: Vec<Choice>,
    pub rows: Vec<ExportRow>,
    pub releases: Vec<ReleaseRow>,
}

#[derive(Template)]
#[template(path = "trace/export.html")]
pub struct ExportPage {
    pub ctx: PageCtx,
    pub id: i64,
    pub product_id: i64,
    pub product: String,
    pub file_name: String,
    pub format: String,
    pub sha256: String,
    pub bytes: i64,
    pub by: String,
    pub at: String,
    pub audit_seq: i64,
    pub verify: String,
    pub manifest_ready: bool,
    /// A print-ready page, which opens in the browser.
    pub printable: bool,
}
