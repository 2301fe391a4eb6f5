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
use crate::web::views::{ChartView, DashboardPage, NeedItem};

pub async fn index(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
) -> Result<HttpResponse, AppError> {
    let is_admin = s.account.roles.contains(Role::Admin);
    let is_quality = s.account.roles.contains(Role::Quality);
    let me = s.account.id.0;
    let today = state.clock.today();
    let now = state.clock.now();
    let cache = state.capa_stats.clone();
    let (needs, stats) = state
        .db(move |conn| {
            let mut needs = Vec::new();
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
            let stats = cache.get(conn, today, |c| crate::service::capas::stats(c, today))?;
            Ok((needs, stats))
        })
        .await?;
    html(&DashboardPage {
        ctx: page_ctx(&state, &s, "/").await?,
        needs,
        last_login: when(s.account.last_login_at),
        charts: chart_views(&stats),
    })
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

/// The four CAPA charts, each with its numbers.
fn chart_views(st: &crate::service::capas::Stats) -> Vec<ChartView> {
    let open: Vec<(String, i64)> = st
        .by_state
        .iter()
        .filter(|(s, _)| !s.terminal())
        .map(|(s, n)| (s.label().to_string(), *n))
        .collect();
    let counts: Vec<(String, String)> = st
        .by_state
        .iter()
        .map(|(s, n)| (s.label().to_string(), n.to_string()))
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
    let table = |v: &[(String, i64)]| -> Vec<(String, String)> {
        v.iter().map(|(l, n)| (l.clone(), n.to_string())).collect()
    };
    vec![
        ChartView {
            id: "chart-state",
            title: "Open CAPAs by state",
            svg: charts::bars("Open CAPAs by state", "chart-state-svg", &open),
            head: ("State", "CAPAs"),
            rows: counts,
            note: "the table counts every state",
        },
        ChartView {
            id: "chart-ageing",
            title: "Age of open CAPAs",
            svg: charts::bars("Age of open CAPAs", "chart-ageing-svg", &ageing),
            head: ("Open for", "CAPAs"),
            rows: table(&ageing),
            note: "since the day each was opened",
        },
        ChartView {
            id: "chart-overdue",
            title: "Overdue CAPAs, last 12 weeks",
            svg: charts::line("Overdue CAPAs, last 12 weeks", "chart-overdue-svg", &trend),
            head: ("As the day began", "Overdue"),
            rows: st
                .overdue_trend
                .iter()
                .map(|(d, n)| (d.to_string(), n.to_string()))
                .collect(),
            note: "weekly, ending today",
        },
        ChartView {
            id: "chart-median",
            title: "Median days in each state",
            svg: charts::bars("Median days in each state", "chart-median-svg", &median),
            head: ("State", "Median days (stays)"),
            rows: st
                .median_days
                .iter()
                .map(|(s, m, n)| {
                    (
                        s.label().to_string(),
                        m.map_or_else(|| "—".to_string(), |d| format!("{d:.1} ({n})")),
                    )
                })
                .collect(),
            note: "over every completed stay",
        },
    ]
}
