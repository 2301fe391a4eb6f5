//! The dashboard: "What needs me" first.

use actix_web::{HttpResponse, web};

use super::{html, page_ctx, when};
use crate::db::repo::capas;
use crate::db::repo::{nonconformances, users};
use crate::domain::capa::CapaState;
use crate::domain::nonconformance::NcState;
use crate::domain::record;
use crate::domain::user::Role;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::extract::CurrentUser;
use crate::web::views::charts;
use crate::web::views::{ChartView, CoverageRow, DashboardPage, Figures, NeedItem};

pub async fn index(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
) -> Result<HttpResponse, AppError> {
    let is_admin = s.account.roles.contains(Role::Admin);
    let is_quality = s.account.roles.contains(Role::Quality);
    let reads_training = s
        .account
        .roles
        .has_any(&[Role::Quality, Role::Auditor, Role::Admin]);
    let s_analyst = s.account.roles.contains(Role::Engineer);
    let me = s.account.id.0;
    let today = state.clock.today();
    let now = state.clock.now();
    let (cache, matrices) = (state.figures.clone(), state.matrices.clone());
    let (needs, figures, team_overdue, (training_overdue, risks_to_review)) = state
        .db(move |conn| {
            let mut needs = Vec::new();
            // Signatures colleagues asked of me by name, oldest first.
            let asked = crate::db::repo::signature_requests::open_of(conn, me, 50)?;
            let askers: Vec<i64> = asked.iter().map(|r| r.asked_by).collect();
            let askers = match askers.is_empty() {
                true => std::collections::HashMap::new(),
                false => users::names(conn, &askers)?,
            };
            for r in asked {
                let page = record::kind(&r.record_type)
                    .and_then(|k| k.page_of(k.number(&r.record_id)?));
                let by = askers.get(&r.asked_by).cloned().unwrap_or_default();
                let note = match r.note.as_str() {
                    "" => String::new(),
                    n => format!(": “{}”", clip(n, 120)),
                };
                needs.push(NeedItem {
                    href: next_steps(page),
                    title: format!("{}: {by} asks for your signature", r.record_key),
                    detail: format!(
                        "“{}” ({}); asked on {}{note}",
                        r.label,
                        r.meaning,
                        r.created_at.format("%Y-%m-%d")
                    ),
                });
            }
            // My action items, soonest due first, each linked to its place
            // on its CAPA's page.
            let items = capas::open_items_of(conn, me, 50)?;
            let ids: Vec<i64> = items.iter().map(|(_, capa, _)| *capa).collect();
            let numbers = capas::item_numbers(conn, &ids)?;
            for (item, capa, title) in items {
                let overdue = if item.due_on < today { " — overdue" } else { "" };
                let anchor = numbers
                    .get(&item.id)
                    .map_or_else(|| "#actions".to_string(), |n| format!("#item-{n}"));
                needs.push(NeedItem {
                    href: format!("{}{anchor}", record::CAPA.page_of(capa).unwrap_or_default()),
                    title: format!("CAPA-{capa} action: {}", clip(&item.text, 80)),
                    detail: format!("{title}; due {}{overdue}; mark it done with its evidence", item.due_on),
                });
            }
            // CAPAs I own, with what they wait for.
            let open: Vec<&str> = CapaState::ALL
                .iter()
                .filter(|s| !s.terminal())
                .map(|s| s.as_str())
                .collect();
            for c in capas::in_states(conn, &open, Some(me), None, 50)? {
                let next = match c.state {
                    CapaState::Open => "name the problem and priority, then start the investigation",
                    CapaState::Investigation => "record the investigation and root cause, then plan actions",
                    CapaState::Action => "complete the action items and the verification plan, then submit for verification",
                    _ => "waits for quality's effectiveness check",
                };
                let overdue = if c.overdue(today) { " — overdue" } else { "" };
                needs.push(NeedItem {
                    href: next_steps(record::CAPA.page_of(c.id)),
                    title: format!("{} {} (you own it)", c.key(), c.title),
                    detail: format!("{}: {next}{overdue}", c.state.label()),
                });
            }
            if is_quality {
                // Signatures waiting on quality (never the owner's own CAPA).
                for c in capas::in_states(conn, &["verification"], None, Some(me), 50)? {
                    needs.push(NeedItem {
                        href: next_steps(record::CAPA.page_of(c.id)),
                        title: format!("{} {}", c.key(), c.title),
                        detail: "Verification: record the effectiveness result and sign (Approved: effective)".into(),
                    });
                }
            }
            // Training to read and sign, overdue first.
            for n in crate::service::training::needs_of(conn, me, today)? {
                needs.push(NeedItem {
                    href: n.href,
                    title: n.title,
                    detail: n.detail,
                });
            }
            // Documents: reviews, approvals, returned drafts, periodic reviews.
            for n in crate::service::documents::needs_of(conn, me, today)? {
                needs.push(NeedItem {
                    href: n.href,
                    title: n.title,
                    detail: n.detail,
                });
            }
            if is_quality {
                // Every document past its periodic review, whoever owns it.
                let due = crate::db::repo::documents::reviews_due(conn, None, today, 51)?;
                let others = due.iter().filter(|d| d.owner_id != me).count();
                if others > 0 {
                    let n = if due.len() > 50 { "more than 50".to_string() } else { others.to_string() };
                    needs.push(NeedItem {
                        href: "/documents?review=due&sort=review".into(),
                        title: format!("Documents past their periodic review: {n} owned by others"),
                        detail: "ISO 13485 4.2.4: each owner signs Reviewed: still valid or starts a new version".into(),
                    });
                }
            }
            if is_admin {
                for a in users::locked(conn, now, 20)? {
                    needs.push(NeedItem {
                        href: record::USER.page_of(a.id.0).unwrap_or_default(),
                        title: format!("Locked account: {} ({})", a.full_name, a.username),
                        detail: format!("locked until {} after repeated wrong passwords; review and unlock if appropriate", when(a.failures.locked_until)),
                    });
                }
            }
            if is_quality {
                // Every open nonconformance waits on quality for its next step.
                let waiting = [NcState::Reported, NcState::UnderReview, NcState::Dispositioned];
                for nc in nonconformances::waiting(conn, &waiting, 50)? {
                    let next = match nc.state {
                        NcState::Reported => "review it (description, product and severity first)",
                        NcState::UnderReview => "decide the disposition",
                        _ => "record how the disposition was carried out and close it",
                    };
                    needs.push(NeedItem {
                        href: next_steps(record::NONCONFORMANCE.page_of(nc.id)),
                        title: format!("{} {}", nc.key(), nc.title),
                        detail: format!("{}: {next}; reported {}", nc.state.label(), when(Some(nc.created_at))),
                    });
                }
            }
            if is_quality {
                // Risk review decisions (ISO 14971 10) asked by escalated
                // nonconformances and closed CAPAs.
                for r in crate::db::repo::risk_reports::waiting(conn, 50)? {
                    let step = if r.asked_on == "escalate_to_capa" { "escalated" } else { "closed" };
                    needs.push(NeedItem {
                        href: format!("{}#risk-review", r.record_href()),
                        title: format!("{}: risk review decision", r.record_key()),
                        detail: format!("ISO 14971 10: {step} {}; decide whether it brings a new hazard, updates a risk or is a new risk", when(Some(r.asked_at))),
                    });
                }
            }
            let figures = cache.get(conn, today, |c| {
                Ok::<_, AppError>(Figures {
                    capa_charts: chart_views(&crate::service::capas::stats(c, today)?),
                    nc_charts: nc_chart_views(&crate::service::nonconformances::stats(c, today)?),
                    coverage: coverage(c, &matrices)?,
                })
            })?;
            let team_overdue = if is_quality {
                Some(team_overdue(conn, today)?)
            } else {
                None
            };
            let training_overdue = if reads_training {
                Some(crate::service::training::overdue_counts(conn, today)?)
            } else {
                None
            };
            // Risks whose controls' basis changed, for those who review them.
            let risks_to_review = if is_quality || s_analyst {
                Some(crate::db::repo::risks::needing_review_by_product(conn)?)
            } else {
                None
            };
            Ok((needs, figures, team_overdue, (training_overdue, risks_to_review)))
        })
        .await?;
    html(&DashboardPage {
        ctx: page_ctx(&state, &s, "/").await?,
        needs,
        team_overdue,
        training_overdue,
        risks_to_review,
        last_login: when(s.account.last_login_at),
        figures,
    })
}

/// Every overdue open action item on the team's open CAPAs (at most 50),
/// each linked to its place on its CAPA's page.
fn team_overdue(
    conn: &mut crate::db::DbConnection,
    today: chrono::NaiveDate,
) -> Result<Vec<NeedItem>, AppError> {
    let items = capas::overdue_items(conn, today, 50)?;
    let ids: Vec<i64> = items.iter().map(|(_, capa, _)| *capa).collect();
    let numbers = capas::item_numbers(conn, &ids)?;
    let owners: Vec<i64> = items.iter().map(|(i, _, _)| i.owner_id).collect();
    let names = users::names(conn, &owners)?;
    Ok(items
        .into_iter()
        .map(|(item, capa, title)| {
            let anchor = numbers
                .get(&item.id)
                .map_or_else(|| "#actions".to_string(), |n| format!("#item-{n}"));
            let owner = names
                .get(&item.owner_id)
                .cloned()
                .unwrap_or_else(|| format!("u-{}", item.owner_id));
            let late = (today - item.due_on).num_days();
            NeedItem {
                href: format!("{}{anchor}", record::CAPA.page_of(capa).unwrap_or_default()),
                title: format!("CAPA-{capa} action: {}", clip(&item.text, 80)),
                detail: format!(
                    "{title}; {owner}'s; due {} ({late} {} late)",
                    item.due_on,
                    if late == 1 { "day" } else { "days" }
                ),
            }
        })
        .collect())
}

/// Each active product's traceability coverage (its matrix, kept until the
/// data changes), at most 50 products.
fn coverage(
    conn: &mut crate::db::DbConnection,
    matrices: &crate::service::trace::MatrixCache,
) -> Result<Vec<CoverageRow>, AppError> {
    use crate::trace::matrix::{self, Coverage};
    let products = crate::db::repo::products::list(conn, false, 0, 50)?.0;
    let mut out = Vec::new();
    for p in products {
        let rows = matrices.get(conn, p.id, |c| crate::service::trace::rows(c, p.id))?;
        let active: Vec<&matrix::Row> = rows
            .iter()
            .filter(|r| r.status == crate::domain::requirement::ReqStatus::Active.as_str())
            .collect();
        let counts = matrix::counts(active.iter().copied());
        let verified = counts
            .iter()
            .find(|(c, _)| *c == Coverage::Verified)
            .map_or(0, |c| c.1);
        out.push(CoverageRow {
            product_id: p.id,
            product: p.name,
            requirements: active.len(),
            verified_percent: (verified * 100).checked_div(active.len()).unwrap_or(0),
            counts: counts
                .into_iter()
                .map(|(c, n)| (c.label(), c.as_str(), n))
                .collect(),
        });
    }
    Ok(out)
}

/// A record page at its "Next steps" panel.
fn next_steps(page: Option<String>) -> String {
    format!("{}#next", page.unwrap_or_default())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

fn pairs(v: &[(String, i64)]) -> Vec<Vec<String>> {
    v.iter()
        .map(|(l, n)| vec![l.clone(), n.to_string()])
        .collect()
}

/// The four CAPA charts, each with its numbers.
fn chart_views(st: &crate::service::capas::Stats) -> Vec<ChartView> {
    let open: Vec<(String, i64)> = st
        .by_state
        .iter()
        .filter(|(s, _)| !s.terminal())
        .map(|(s, n)| (s.label().to_string(), *n))
        .collect();
    let counts: Vec<(String, i64)> = st
        .by_state
        .iter()
        .map(|(s, n)| (s.label().to_string(), *n))
        .collect();
    let ageing: Vec<(String, i64)> = st
        .ageing
        .iter()
        .map(|(l, n)| ((*l).to_string(), *n))
        .collect();
    let trend: Vec<(String, i64)> = st
        .overdue_trend
        .iter()
        .map(|(d, n)| (d.format("%m-%d").to_string(), *n))
        .collect();
    let median: Vec<(String, i64)> = st
        .median_days
        .iter()
        .map(|(s, m, _)| (s.label().to_string(), m.map_or(0, |d| d.round() as i64)))
        .collect();
    vec![
        ChartView {
            id: "chart-state",
            title: "Open CAPAs by state",
            svg: charts::bars("Open CAPAs by state", "chart-state-svg", &open),
            head: vec!["State", "CAPAs"],
            rows: pairs(&counts),
            note: "the table counts every state",
        },
        ChartView {
            id: "chart-ageing",
            title: "Age of open CAPAs",
            svg: charts::bars("Age of open CAPAs", "chart-ageing-svg", &ageing),
            head: vec!["Open for", "CAPAs"],
            rows: pairs(&ageing),
            note: "since the day each was opened",
        },
        ChartView {
            id: "chart-overdue",
            title: "Overdue CAPAs, last 12 weeks",
            svg: charts::line("Overdue CAPAs, last 12 weeks", "chart-overdue-svg", &trend),
            head: vec!["As the day began", "Overdue"],
            rows: st
                .overdue_trend
                .iter()
                .map(|(d, n)| vec![d.to_string(), n.to_string()])
                .collect(),
            note: "weekly, ending today",
        },
        ChartView {
            id: "chart-median",
            title: "Median days in each state",
            svg: charts::bars("Median days in each state", "chart-median-svg", &median),
            head: vec!["State", "Median days (stays)"],
            rows: st
                .median_days
                .iter()
                .map(|(s, m, n)| {
                    vec![
                        s.label().to_string(),
                        m.map_or_else(|| "—".to_string(), |d| format!("{d:.1} ({n})")),
                    ]
                })
                .collect(),
            note: "over every completed stay",
        },
    ]
}

/// The three nonconformance charts, each with its numbers.
fn nc_chart_views(st: &crate::service::nonconformances::NcStats) -> Vec<ChartView> {
    use crate::domain::nonconformance::{NcState, Source};
    let open: Vec<(String, i64)> = st
        .by_state
        .iter()
        .filter(|(s, _)| *s != NcState::Closed)
        .map(|(s, n)| (s.label().to_string(), *n))
        .collect();
    let all: Vec<(String, i64)> = st
        .by_state
        .iter()
        .map(|(s, n)| (s.label().to_string(), *n))
        .collect();
    let severity: Vec<(String, i64)> = st
        .by_severity
        .iter()
        .map(|(l, n)| ((*l).to_string(), *n))
        .collect();
    let sources: Vec<&str> = Source::ALL.iter().map(|s| s.label()).collect();
    let months: Vec<(String, Vec<i64>)> = st
        .months
        .iter()
        .map(|(m, v)| (m.format("%b").to_string(), v.clone()))
        .collect();
    let mut head = vec!["Month"];
    head.extend(sources.iter().copied());
    head.push("All");
    vec![
        ChartView {
            id: "chart-nc-state",
            title: "Open nonconformances by state",
            svg: charts::bars("Open nonconformances by state", "chart-nc-state-svg", &open),
            head: vec!["State", "Nonconformances"],
            rows: pairs(&all),
            note: "the table counts every state",
        },
        ChartView {
            id: "chart-nc-severity",
            title: "Open nonconformances by severity",
            svg: charts::bars(
                "Open nonconformances by severity",
                "chart-nc-severity-svg",
                &severity,
            ),
            head: vec!["Severity", "Open"],
            rows: pairs(&severity),
            note: "not closed",
        },
        ChartView {
            id: "chart-nc-reported",
            title: "Nonconformances reported per month, by source",
            svg: charts::stacked(
                "Nonconformances reported per month, by source",
                "chart-nc-reported-svg",
                &months,
                &sources,
            ),
            head,
            rows: st
                .months
                .iter()
                .map(|(m, v)| {
                    let mut row = vec![m.format("%Y-%m").to_string()];
                    row.extend(v.iter().map(i64::to_string));
                    row.push(v.iter().sum::<i64>().to_string());
                    row
                })
                .collect(),
            note: "the last 12 months",
        },
    ]
}
