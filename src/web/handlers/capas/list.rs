//! The CAPA list (filters, sort, pages) and its CSV export.

use super::*;
use crate::web::list::{ListQuery, PerPage};

/// The parameters of the CAPA list, its CSV and `GET /api/v1/capas`.
pub const PARAMS: &[&str] = &[
    "state", "kind", "source", "priority", "owner", "product", "overdue", "q", "sort",
];

/// The list's filters and order (the list, its CSV and the API share them).
pub fn filter_of(q: &ListQuery, today: chrono::NaiveDate) -> Result<(Filter, Sort), AppError> {
    let filter = Filter {
        state: match q.get("state") {
            "" => None,
            "open" => Some("open".into()),
            _ => q
                .choice("state", "state", CapaState::parse)?
                .map(|s| s.as_str().into()),
        },
        kind: q.choice("kind", "type", Kind::parse)?,
        source: q.choice("source", "source", CapaSource::parse)?,
        priority: q.choice("priority", "priority", Priority::parse)?,
        owner_id: q.number("owner", "owner")?,
        product_id: q.number("product", "product")?,
        overdue_on: q.choice("overdue", "overdue value", |v| (v == "1").then_some(today))?,
        text: q.text("q"),
    };
    let order = q.sort(
        "sort",
        &[
            ("newest", Sort::Newest),
            ("due", Sort::Due),
            ("priority", Sort::Priority),
        ],
    )?;
    Ok((filter, order))
}

/// What a page of the CAPA list reads from the database.
#[derive(Clone)]
pub struct ListData {
    rows: Vec<repo::Summary>,
    total: i64,
    owners: Vec<Choice>,
    products: Vec<Choice>,
    names: HashMap<i64, String>,
}

/// Pages of the CAPA list, kept until a record changes.
pub type ListCache = crate::service::KeptUntilDataChanges<String, ListData>;

/// `GET /capas`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let (filter, order) = filter_of(&q, today(&state))?;
    let (offset, limit) = (q.offset(), q.per_page);
    let (owner_sel, product_sel) = (q.get("owner").to_string(), q.get("product").to_string());
    // What the page reads depends on the filters and the data alone (not on
    // who reads it), so it is kept until a record changes.
    let key = format!("{filter:?}|{order:?}|{offset}|{limit}|{owner_sel}|{product_sel}");
    let (f, cache) = (filter.clone(), state.capa_lists.clone());
    let data = state
        .db(move |conn| {
            cache.get(conn, key, |conn| {
                let (rows, total) = repo::list(conn, &f, order, offset, limit)?;
                let ids: Vec<i64> = rows.iter().filter_map(|c| c.owner_id).collect();
                let names = users::names(conn, &ids)?;
                let owners = owner_choices(conn, &owner_sel)?;
                let products = choices_of(&all_products(conn)?, &product_sel);
                Ok::<_, AppError>(ListData {
                    rows,
                    total,
                    owners,
                    products,
                    names,
                })
            })
        })
        .await?;
    let ListData {
        rows,
        total,
        owners,
        products,
        names,
    } = (*data).clone();
    let pages = q.pages("/capas", total);
    let (st, kind, source, priority, sort) = (
        q.get("state"),
        q.get("kind"),
        q.get("source"),
        q.get("priority"),
        q.get("sort"),
    );
    let mut states = vec![Choice {
        value: "open".into(),
        label: "Open (not closed or cancelled)".into(),
        selected: st == "open",
    }];
    states.extend(choices(
        CapaState::ALL,
        CapaState::as_str,
        CapaState::label,
        st,
    ));
    let (first, last) = q.shown(rows.len());
    let day = today(&state);
    let sort_choice = |value: &str, label: &str| Choice {
        value: value.into(),
        label: label.into(),
        selected: sort == value || (sort.is_empty() && value == "newest"),
    };
    html(&CapaListPage {
        ctx: page_ctx(&state, s, "/capas").await?,
        last,
        first,
        rows: rows
            .into_iter()
            .map(|c| CapaRow {
                id: c.id,
                key: c.key(),
                overdue: c.overdue(day),
                owner: c
                    .owner_id
                    .and_then(|o| names.get(&o).cloned())
                    .unwrap_or_default(),
                due: date_text(c.due_on),
                title: c.title,
                kind: c.kind.label(),
                state: c.state.label(),
                state_name: c.state.as_str(),
                priority: c.priority.map_or("—", Priority::label),
            })
            .collect(),
        total,
        states,
        kinds: choices(Kind::ALL, Kind::as_str, Kind::label, kind),
        sources: choices(
            CapaSource::ALL,
            CapaSource::as_str,
            CapaSource::label,
            source,
        ),
        priorities: choices(Priority::ALL, Priority::as_str, Priority::label, priority),
        owners,
        products,
        sorts: vec![
            sort_choice("newest", "Newest first"),
            sort_choice("due", "Due soonest"),
            sort_choice("priority", "Highest priority"),
        ],
        overdue: q.get("overdue") == "1",
        filtered: q.filtered(),
        q: q.get("q").to_string(),
        can_open: s.account.roles.contains(Role::Quality),
        csv_href: format!("/capas/export.csv?{}", q.query_string()),
        pages,
    })
}

/// `GET /capas/export.csv`: the filtered list as CSV, read a page at a time;
/// the export is audited with its filters and row count.
pub async fn export_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let (filter, order) = filter_of(&q, today(&state))?;
    let ctx = user_ctx(&state, s, op);
    let described: Vec<String> = {
        let mut v: Vec<String> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        v.sort();
        v
    };
    let day = today(&state);
    let body = state
        .db(move |conn| {
            Ok(crate::service::capas::export_csv(
                conn, &ctx, &filter, order, day, &described,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"capas-{}.csv\"",
                day.format("%Y%m%d")
            ),
        ))
        .body(body))
}
