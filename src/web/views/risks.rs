//! Risk file, risk and risk management plan pages (ISO 14971).

use askama::Template;

use crate::domain::svg::Svg;
use crate::web::record::{NextSteps, RecordHead};
use crate::web::rejected::Sent;

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};

/// A risk in the risk file's table.
pub struct RiskRow {
    pub id: i64,
    pub key: String,
    pub hazard: String,
    pub situation: String,
    pub harm: String,
    pub initial: String,
    pub initial_verdict: &'static str,
    pub residual: String,
    pub residual_verdict: &'static str,
    pub state: &'static str,
    pub controls: usize,
}

/// A heat map and the numbers it draws.
pub struct HeatMap {
    pub title: &'static str,
    pub svg: Svg,
    pub probability: Vec<String>,
    /// Most severe first: the severity's label and each cell's (count, verdict).
    pub rows: Vec<(String, Vec<(i64, &'static str)>)>,
    pub total: i64,
}

/// The choices of an estimate's fields (severity, probability or P1, P2).
pub struct EstimateChoices {
    pub severity: Vec<Choice>,
    pub probability: Vec<Choice>,
    pub p1: Vec<Choice>,
    pub p2: Vec<Choice>,
    pub split: bool,
    /// The fields' names' prefix (`initial_`) and the element ids' (`analysis-`).
    pub prefix: &'static str,
    pub id_prefix: &'static str,
}

impl EstimateChoices {
    /// The message beside field `name` (`severity`) of form `r`.
    pub fn message<'a>(
        &self,
        r: &'a crate::web::rejected::Rejected,
        name: &str,
    ) -> Option<&'a str> {
        r.message(&format!("{}{name}", self.prefix))
    }
}

/// A hazard of the product's list.
pub struct HazardRow {
    pub category: &'static str,
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "risks/file.html")]
pub struct RiskFilePage {
    pub ctx: PageCtx,
    pub sent: Sent,
    /// The filters in force, carried by the export form.
    pub kept: Vec<(String, String)>,
    /// The risk management report's checks as the file stands now.
    pub checks: Vec<CheckView>,
    pub reviews_waiting: usize,
    /// The records whose risk review decision waits: key, page.
    pub waiting: Vec<(String, String)>,
    pub report_kinds: Vec<ReportKindRow>,
    pub product_id: i64,
    pub product: String,
    /// The approved plan (key, page) and the draft's, if any.
    pub plan: Option<(String, String)>,
    pub draft: Option<(String, String)>,
    pub can_plan: bool,
    pub can_edit: bool,
    pub by_state: Vec<(&'static str, i64, String)>,
    pub maps: Vec<HeatMap>,
    pub rows: Vec<RiskRow>,
    pub total: i64,
    pub needing_review: i64,
    /// The "needs review" filter is on.
    pub review: bool,
    pub first: i64,
    pub last: i64,
    pub pages: Vec<PageLink>,
    pub states: Vec<Choice>,
    pub verdicts: Vec<Choice>,
    pub hazard_filter: Vec<Choice>,
    pub q: String,
    pub cell: String,
    pub filtered: bool,
    pub hazards: Vec<HazardRow>,
    pub categories: Vec<Choice>,
    /// The new risk form's hazard and estimate choices.
    pub hazard_choices: Vec<Choice>,
    pub estimate: Option<EstimateChoices>,
}

/// A control as its risk's page shows it.
pub struct ControlView {
    pub id: i64,
    pub option: &'static str,
    pub option_name: &'static str,
    pub description: String,
    /// Its requirement: id, key, title, page.
    pub requirement: Option<(i64, String, String)>,
    /// Its requirement's tests: key and latest outcome.
    pub tests: Vec<(String, &'static str)>,
    pub tests_pass: bool,
    pub effectiveness: String,
    pub options: Vec<Choice>,
    pub requirements: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "risks/show.html")]
pub struct RiskPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    pub sent: Sent,
    pub id: i64,
    pub product_id: i64,
    pub product: String,
    pub hazard: String,
    pub sequence: String,
    pub situation: String,
    pub harm: String,
    pub initial: String,
    pub initial_verdict: &'static str,
    pub residual: String,
    pub residual_verdict: &'static str,
    pub residual_reason: String,
    pub benefit_risk: String,
    pub analyst: String,
    pub reason: String,
    /// Why it needs review (a reason each), since when; empty when it does not.
    pub needs_review: Vec<String>,
    pub needs_review_since: String,
    pub can_review: bool,
    pub introduced_by: Option<(String, String)>,
    pub introduces: Vec<(String, String)>,
    pub plan: Option<(String, String)>,
    pub can_analyze: bool,
    pub can_add_control: bool,
    pub can_edit_controls: bool,
    pub can_residual: bool,
    pub hazards: Vec<Choice>,
    pub initial_choices: Option<EstimateChoices>,
    pub residual_choices: Option<EstimateChoices>,
    pub controls: Vec<ControlView>,
    pub new_control: ControlView,
    /// Linked nonconformances and CAPAs: link id, key, page, title.
    pub records: Vec<(i64, String, String, String)>,
    pub can_link: bool,
    pub attachments: super::attachments::AttachmentsPanel,
    pub history: std::sync::Arc<HistoryPanel>,
    pub signatures: Vec<super::signatures::SignatureView>,
}

/// One level of a scale as the plan page shows and edits it.
pub struct LevelView {
    pub n: usize,
    pub label: String,
    pub description: String,
}

/// A split plan's P1 and P2 levels, and its table: each P1 level's label
/// with its row, each cell's field and probability level (0 when none).
pub struct SplitView {
    pub p1: Vec<LevelView>,
    pub p2: Vec<LevelView>,
    pub rows: Vec<(String, Vec<(String, u8)>)>,
}

#[derive(Template)]
#[template(path = "risks/plan.html")]
pub struct PlanPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    pub sent: Sent,
    pub id: i64,
    pub product_id: i64,
    pub product: String,
    pub severity: Vec<LevelView>,
    pub probability: Vec<LevelView>,
    /// When the plan splits probability: each P1 level's label with its
    /// row of the table, and the P2 levels.
    pub split: Option<SplitView>,
    /// Most severe first: severity label and each cell's (field, verdict).
    pub matrix: Vec<(String, Vec<(String, &'static str)>)>,
    pub reevaluation: String,
    pub can_edit: bool,
    pub levels: Vec<Choice>,
    pub severity_levels: usize,
    pub probability_levels: usize,
    pub verdicts: Vec<(&'static str, &'static str)>,
    pub versions: Vec<(String, String, &'static str)>,
    pub history: std::sync::Arc<HistoryPanel>,
    pub signatures: Vec<super::signatures::SignatureView>,
}

/// One completeness check as a report's page lists it.
pub struct CheckView {
    pub label: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "risks/report.html")]
pub struct ReportPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    pub sent: Sent,
    pub id: i64,
    pub product_id: i64,
    pub clause: &'static str,
    /// What the conclusion states.
    pub asks: &'static str,
    pub conclusion: String,
    /// Whether the checks are the kept ones (approved) or live (a draft).
    pub kept: bool,
    pub checks: Vec<CheckView>,
    pub plan: Option<(String, String)>,
    pub can_edit: bool,
    pub versions: Vec<(String, String, &'static str)>,
    pub history: std::sync::Arc<HistoryPanel>,
    pub signatures: Vec<super::signatures::SignatureView>,
}

/// The risk review section of a nonconformance's or CAPA's page (ISO
/// 14971 10): the decision asked of quality and what was decided, and the
/// risks the record is linked to.
#[derive(Default)]
pub struct RiskReviewPanel {
    /// When it was asked, and by which step, in words.
    pub asked: Option<String>,
    /// What was decided: decision, risk (key, page), note, who, when.
    pub decided: Option<DecidedView>,
    /// Where the decision is posted, while it waits and this reader may
    /// record it.
    pub post_to: Option<String>,
    pub decisions: Vec<Choice>,
    /// The product's risk file, when the record names a product.
    pub file: Option<String>,
    /// Linked risks: key, page, hazardous situation.
    pub risks: Vec<(String, String, String)>,
}

pub struct DecidedView {
    pub decision: &'static str,
    pub risk: Option<(String, String)>,
    pub note: String,
    pub by: String,
    pub at: String,
}

/// The evaluation or the report as the risk file lists it.
pub struct ReportKindRow {
    pub kind: &'static str,
    pub label: &'static str,
    pub clause: &'static str,
    /// Key, page, when approved.
    pub approved: Option<(String, String, String)>,
    /// Key, page.
    pub draft: Option<(String, String)>,
}
