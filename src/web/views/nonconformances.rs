//! Nonconformance pages.

use crate::domain::svg::Svg;
use askama::Template;

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};

/// A row of the list.
pub struct NcRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub state: &'static str,
    pub state_name: &'static str,
    pub severity: &'static str,
    pub product: String,
    pub source: &'static str,
    pub reported: String,
}

#[derive(Template)]
#[template(path = "nonconformances/list.html")]
pub struct NcListPage {
    pub ctx: PageCtx,
    pub rows: Vec<NcRow>,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub states: Vec<Choice>,
    pub products: Vec<Choice>,
    pub severities: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub q: String,
    pub filtered: bool,
    pub can_report: bool,
    pub pages: Vec<PageLink>,
}

/// The report / correction form as typed.
pub struct NcForm {
    pub title: String,
    pub sources: Vec<Choice>,
    pub products: Vec<Choice>,
    pub lot_serial: String,
    pub description: String,
    pub detected_on: String,
    pub severities: Vec<Choice>,
    /// Why the report is corrected (the correction form only).
    pub reason: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "nonconformances/new.html")]
pub struct NewNcPage {
    pub ctx: PageCtx,
    pub form: NcForm,
}

/// An action of the workflow as the record page offers it.
pub struct ActionView {
    pub name: &'static str,
    pub label: &'static str,
    /// Why it cannot be taken now; `None` when it can.
    pub blocked: Option<String>,
    /// Its form, as the workflow declares it.
    pub form: &'static crate::domain::workflow::StepForm,
}

/// One form of "Next steps": a step, or the steps its declaration asks for
/// together (`StepForm::together`), which share their fields and have a
/// button each.
pub struct StepBlock<'a> {
    pub heading: Option<&'static str>,
    pub disclosure: Option<&'static str>,
    /// The fields asked for once (the first step's; fixed values ride on
    /// each step's button).
    pub inputs: &'static [crate::domain::workflow::InputDef],
    pub steps: Vec<&'a ActionView>,
}

/// The forms of the steps that can be taken now, in declaration order,
/// steps declared together in one form where the first of them stands.
pub fn step_blocks(actions: &[ActionView]) -> Vec<StepBlock<'_>> {
    let mut blocks: Vec<StepBlock<'_>> = Vec::new();
    for a in actions.iter().filter(|a| a.blocked.is_none()) {
        if let Some(heading) = a.form.together
            && let Some(b) = blocks.iter_mut().find(|b| b.heading == Some(heading))
        {
            b.steps.push(a);
            continue;
        }
        blocks.push(StepBlock {
            heading: a.form.together,
            disclosure: a.form.disclosure,
            inputs: a.form.inputs,
            steps: vec![a],
        });
    }
    blocks
}

#[derive(Template)]
#[template(path = "nonconformances/show.html")]
pub struct NcPage {
    /// Where the step forms post (`/capas/4`).
    pub step_base: String,
    pub ctx: PageCtx,
    pub id: i64,
    pub key: String,
    pub version: i64,
    pub title: String,
    pub state: &'static str,
    pub state_name: &'static str,
    pub source: &'static str,
    pub product: String,
    pub product_href: Option<String>,
    pub lot_serial: String,
    pub description: String,
    pub detected_on: String,
    pub severity: &'static str,
    pub reported_by: String,
    pub reported: String,
    pub updated: String,
    pub disposition: &'static str,
    pub justification: String,
    pub closure_note: String,
    pub diagram: Svg,
    pub actions: Vec<ActionView>,
    pub can_edit: bool,
    pub form: NcForm,
    pub action_errors: Vec<String>,
    pub history: std::sync::Arc<HistoryPanel>,
    pub signatures: Vec<super::signatures::SignatureView>,
    /// Linked CAPAs: key and page.
    pub capas: Vec<(String, String)>,
    /// Commits whose messages name the NC (`Refs: NC-1`).
    pub commits: Vec<super::CommitView>,
    pub commits_of: String,
    pub commits_hint: String,
    pub commits_unlink: Option<String>,
}
