//! CAPA pages.

use crate::domain::svg::{Svg, escape};
use std::fmt::Write as _;

use askama::Template;

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};
use super::signatures::SignatureView;
use crate::web::record::{NextSteps, RecordHead};
use crate::web::rejected::{Rejected, Sent};

/// A row of the list.
pub struct CapaRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub state_name: &'static str,
    pub priority: &'static str,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "capas/list.html")]
pub struct CapaListPage {
    pub ctx: PageCtx,
    pub rows: Vec<CapaRow>,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub states: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub priorities: Vec<Choice>,
    pub owners: Vec<Choice>,
    pub products: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub overdue: bool,
    pub q: String,
    pub filtered: bool,
    pub can_open: bool,
    pub pages: Vec<PageLink>,
    /// The CSV export with the same filters.
    pub csv_href: String,
}

/// The details form as typed, with its choices.
pub struct DetailsView {
    pub title: String,
    pub kinds: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub source_ref: String,
    pub products: Vec<Choice>,
    pub problem: String,
    pub priorities: Vec<Choice>,
    pub owners: Vec<Choice>,
    pub due_on: String,
    pub containment: String,
    /// The form as refused, or not sent (its element ids' prefix either way).
    pub problems: Rejected,
}

#[derive(Template)]
#[template(path = "capas/new.html")]
pub struct NewCapaPage {
    pub ctx: PageCtx,
    pub form: DetailsView,
}

/// One row of the five-whys editor.
pub struct WhyRow {
    pub position: String,
    pub question: String,
    pub answer: String,
}

/// The causes of one fishbone category, one a line.
pub struct CategoryRow {
    pub name: &'static str,
    pub label: &'static str,
    pub causes: String,
}

/// The investigation form as typed.
pub struct InvestigationView {
    pub methods: Vec<Choice>,
    pub whys: Vec<WhyRow>,
    pub categories: Vec<CategoryRow>,
    pub root_cause: String,
    pub action_required: String,
    pub action_rationale: String,
    pub problems: Rejected,
}

/// An action item as the record page shows it.
pub struct ItemView {
    pub id: i64,
    pub n: usize,
    pub text: String,
    pub kind: &'static str,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub done: String,
    pub evidence: String,
    pub can_complete: bool,
    /// Whether this reader may change it (open, and quality or the CAPA's owner).
    pub can_change: bool,
    /// The owner's and due date's form values.
    pub owner_id: String,
    pub due_on: String,
    /// Document versions named as carrying it out: key, page, state.
    pub revisions: Vec<(String, String, &'static str)>,
}

/// A linked record.
pub struct LinkView {
    pub label: String,
    pub href: Option<String>,
}

/// The causes named under one fishbone category, listed beside the drawing.
pub struct CausesView {
    pub label: &'static str,
    pub causes: Vec<String>,
}

#[derive(Template)]
#[template(path = "capas/show.html")]
pub struct CapaPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    /// The form that was refused, as typed.
    pub sent: Sent,
    pub id: i64,
    pub kind: &'static str,
    pub source: &'static str,
    pub source_ref: String,
    /// The nonconformance the CAPA was opened from, when it was.
    pub source_href: Option<String>,
    pub product: String,
    pub product_href: Option<String>,
    pub problem: String,
    pub priority: &'static str,
    pub owner: String,
    pub due: String,
    pub containment: String,
    pub rca_method: &'static str,
    pub whys: Vec<WhyRow>,
    pub fishbone: Svg,
    /// Every category with its causes; empty when no cause is named.
    pub causes: Vec<CausesView>,
    pub root_cause: String,
    pub action_required: &'static str,
    pub action_rationale: String,
    pub no_adverse_effect: String,
    pub effectiveness_criteria: String,
    pub effectiveness_due: String,
    pub effectiveness_result: &'static str,
    pub effectiveness_evidence: String,
    pub cancel_justification: String,
    pub items: Vec<ItemView>,
    pub item_kinds: Vec<Choice>,
    pub item_owners: Vec<Choice>,
    pub today: String,
    pub links: Vec<LinkView>,
    pub commits: Vec<super::CommitView>,
    pub commits_of: String,
    pub commits_hint: String,
    pub commits_unlink: Option<String>,
    pub details: Option<DetailsView>,
    pub investigation: Option<InvestigationView>,
    pub can_add_items: bool,
    pub can_plan: bool,
    pub signatures: Vec<SignatureView>,
    pub attachments: super::attachments::AttachmentsPanel,
    pub risk_review: super::risks::RiskReviewPanel,
    pub history: std::sync::Arc<HistoryPanel>,
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// The fishbone (Ishikawa) diagram as SVG: the problem at the head, the six
/// categories as bones (three above the spine, three below), each cause
/// listed along its bone (a long one cut, whole in its tooltip; the page
/// lists every cause in full beside the drawing). Every text is escaped here; the template marks
/// the result safe for that reason.
pub fn fishbone_svg(problem: &str, causes: &[(&str, Vec<String>)]) -> Svg {
    const W: i32 = 960;
    let rows = causes
        .iter()
        .map(|(_, c)| c.len() as i32)
        .max()
        .unwrap_or(0)
        .max(1);
    let half = 60 + rows * 16;
    let h = half * 2 + 20;
    let spine = half + 10;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="fishbone" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-labelledby="fishbone-title"><title id="fishbone-title">Fishbone diagram: {}</title>"#,
        escape(&clip(problem, 120))
    );
    let _ = write!(
        svg,
        r#"<line class="spine" x1="20" y1="{spine}" x2="{}" y2="{spine}"/><rect class="head" x="{}" y="{}" width="170" height="48" rx="6"/><text class="head-text" x="{}" y="{}" text-anchor="middle">{}</text>"#,
        W - 190,
        W - 186,
        spine - 24,
        W - 101,
        spine + 5,
        escape(&clip(
            if problem.trim().is_empty() {
                "Problem"
            } else {
                problem
            },
            24
        ))
    );
    for (i, (label, list)) in causes.iter().enumerate() {
        let col = (i % 3) as i32;
        let above = i < 3;
        // Each bone meets the spine left of the head and leans back from it.
        let x_end = 250 + col * 240;
        let x_start = x_end - 120;
        let y_far = if above {
            spine - half + 30
        } else {
            spine + half - 30
        };
        let _ = write!(
            svg,
            r#"<line class="bone" x1="{x_start}" y1="{y_far}" x2="{x_end}" y2="{spine}"/><text class="category" x="{x_start}" y="{}" text-anchor="middle">{}</text>"#,
            if above { y_far - 8 } else { y_far + 18 },
            escape(label)
        );
        for (k, cause) in list.iter().enumerate() {
            let k = k as i32;
            // From the far end towards the spine, each beside the bone.
            let y = if above {
                y_far + 16 + k * 16
            } else {
                y_far - 8 - k * 16
            };
            let x = x_start + (x_end - x_start) * (y - y_far) / (spine - y_far);
            let _ = write!(
                svg,
                r#"<text class="cause" x="{}" y="{y}" text-anchor="end"><title>{}</title>{}</text>"#,
                x - 8,
                escape(cause),
                escape(&clip(cause, 36))
            );
        }
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fishbone_has_six_bones_escapes_text_and_lists_each_cause() {
        let causes = vec![
            ("Man", vec!["Untrained <operator>".to_string()]),
            (
                "Machine",
                vec!["Worn mould".into(), "No preventive maintenance".into()],
            ),
            ("Method", vec![]),
            ("Material", vec![]),
            (
                "Measurement",
                vec![
                    "Gauge & fixture".into(),
                    "The torque gauge on line 3 was last calibrated in 2024".into(),
                ],
            ),
            ("Environment", vec![]),
        ];
        let svg = fishbone_svg("Cracked hinge \"A\"", &causes);
        assert_eq!(svg.matches("<line class=\"bone\"").count(), 6);
        assert_eq!(svg.matches("<text class=\"cause\"").count(), 5);
        // A long cause is cut on the bone and whole in its tooltip.
        assert!(svg.contains(
            "<title>The torque gauge on line 3 was last calibrated in 2024</title>The torque gauge on line 3 was last…"
        ));
        assert!(svg.contains("Untrained &lt;operator&gt;"));
        assert!(svg.contains("Gauge &amp; fixture"));
        assert!(svg.contains("Cracked hinge &quot;A&quot;"));
        assert!(!svg.contains("<operator>"));
    }
}
