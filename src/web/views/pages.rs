//! Sign-in, dashboard, account and error pages.

use askama::Template;

use super::PageCtx;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub ctx: PageCtx,
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
    pub op: &'a str,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

/// One line of "What needs me".
pub struct NeedItem {
    pub href: String,
    pub title: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageCtx,
    pub needs: Vec<NeedItem>,
    /// For quality: the team's overdue action items, not only the reader's.
    pub team_overdue: Option<Vec<NeedItem>>,
    /// For quality, auditors and administrators: overdue training counted
    /// per role and per document.
    pub training_overdue: Option<crate::service::training::OverdueCounts>,
    /// Risks needing review per product (id, name, count), for quality
    /// and engineers.
    pub risks_to_review: Option<Vec<(i64, String, i64)>>,
    pub last_login: String,
    /// The same for everyone, kept until the data changes.
    pub figures: std::sync::Arc<Figures>,
}

/// The dashboard's figures, drawn: the same for every reader, so drawn once
/// per day and change of the data (see `AppState::figures`).
pub struct Figures {
    pub capa_charts: Vec<ChartView>,
    pub nc_charts: Vec<ChartView>,
    pub coverage: Vec<CoverageRow>,
}

impl DashboardPage {
    /// The figures' sections: (anchor, heading, charts).
    pub fn chart_groups(&self) -> [(&'static str, &'static str, &[ChartView]); 2] {
        [
            (
                "capa-figures",
                "CAPAs in figures",
                &self.figures.capa_charts,
            ),
            (
                "nc-figures",
                "Nonconformances in figures",
                &self.figures.nc_charts,
            ),
        ]
    }
}

/// A chart with the numbers it is drawn from (in a table folded under it).
pub struct ChartView {
    pub id: &'static str,
    pub title: &'static str,
    pub svg: crate::domain::svg::Svg,
    /// Column headings of the table.
    pub head: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub note: &'static str,
}

/// One product's traceability coverage.
pub struct CoverageRow {
    pub product_id: i64,
    pub product: String,
    pub requirements: usize,
    /// (coverage label, CSS name, count), in the matrix's order.
    pub counts: Vec<(&'static str, &'static str, usize)>,
    /// Verified, in whole percent of the active requirements.
    pub verified_percent: usize,
}

#[derive(Template)]
#[template(path = "account/show.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: String,
    pub last_login: String,
    pub password_changed: String,
    /// The active signing key's id and since when.
    pub signing_key: Option<String>,
}

#[derive(Template)]
#[template(path = "account/certification.html")]
pub struct CertificationPage {
    pub ctx: PageCtx,
    /// The 11.100(c) certification statement, and its signature once given.
    pub statement: &'static str,
    pub signatures: Vec<crate::web::views::signatures::SignatureView>,
}

#[derive(Template)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    pub ctx: PageCtx,
    pub forced: bool,
    /// Why the change was refused (nothing typed is sent back).
    pub problems: crate::web::rejected::Rejected,
}

#[derive(Template)]
#[template(path = "audit/verify.html")]
pub struct VerifyPage {
    pub ctx: PageCtx,
    pub ok: bool,
    pub origin: String,
    pub vkey: String,
    pub entries: u64,
    pub checkpoints_checked: usize,
    pub checkpoint_size: Option<u64>,
    pub checkpoint_root: String,
    pub failures: Vec<crate::audit::verify::Failure>,
    pub elapsed_ms: u128,
}
