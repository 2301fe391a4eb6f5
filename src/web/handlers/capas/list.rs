//! The CAPA list (filters, sort, pages) and its CSV export.

use super::*;

/// The list's filters and order from the query (the list and its CSV share them).
fn filter_of(
    query: &HashMap<String, String>,
    today: chrono::NaiveDate,
) -> Result<(Filter, Sort), AppError> {
    let get = |k| query_text(query, k);
    let (st, kind, source, priority, owner, product, overdue, text, sort) = (
        get("state"),
        get("kind"),
        get("source"),
        get("priority"),
        get("owner"),
        get("product"),
        get("overdue"),
        get("q"),
        get("sort"),
    );
    let bad = |what: &str, v: &str| AppError::BadRequest(format!("There is no {what} {v:?}"));
    if text.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "The search text can have at most 200 characters".into(),
        ));
    }
    let id = |what: &str, v: &str| -> Result<Option<i64>, AppError> {
        match v {
            "" => Ok(None),
            v => v.parse().map(Some).map_err(|_| bad(what, v)),
        }
    };
    let filter = Filter {
        state: match st.as_str() {
            "" => None,
            "open" => Some("open".into()),
            v => Some(
                CapaState::parse(v)
                    .ok_or_else(|| bad("state", v))?
                    .as_str()
                    .into(),
            ),
        },
        kind: super::super::filter_value(&kind, "type", Kind::parse)?,
        source: super::super::filter_value(&source, "source", CapaSource::parse)?,
        priority: super::super::filter_value(&priority, "priority", Priority::parse)?,
        owner_id: id("owner", &owner)?,
        product_id: id("product", &product)?,
        overdue_on: match overdue.as_str() {
            "" => None,
            "1" => Some(today),
            v => return Err(bad("overdue value", v)),
        },
        text: Some(text.clone()).filter(|t| !t.is_empty()),
    };
    let order = match sort.as_str() {
        "" | "newest" => Sort::Newest,
        "due" => Sort::Due,
        "priority" => Sort::Priority,
        v => return Err(bad("sort order", v)),
    };
    Ok((filter, order))
}

/// `GET /capas`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let get = |k| query_text(&query, k);
    let (st, kind, source, priority, owner, product, overdue, text, sort) = (
        get("state"),
        get("kind"),
        get("source"),
        get("priority"),
        get("owner"),
        get("product"),
        get("overdue"),
        get("q"),
        get("sort"),
    );
    let (filter, order) = filter_of(&query, today(&state))?;
    let page = super::super::page_number(&query)?;
    let (f, owner_sel, product_sel) = (filter.clone(), owner.clone(), product.clone());
    let (rows, total, owners, products, names) = state
        .db(move |conn| {
            let (rows, total) = repo::list(conn, &f, order, (page - 1) * PER_PAGE, PER_PAGE)?;
            let ids: Vec<i64> = rows.iter().filter_map(|c| c.owner_id).collect();
            let names = users::names(conn, &ids)?;
            let owners = owner_choices(conn, &owner_sel)?;
            let products = choices_of(&all_products(conn)?, &product_sel);
            Ok((rows, total, owners, products, names))
        })
        .await?;
    let mut params: Vec<String> = Vec::new();
    for (k, v) in [
        ("state", &st),
        ("kind", &kind),
        ("source", &source),
        ("priority", &priority),
        ("owner", &owner),
        ("product", &product),
        ("overdue", &overdue),
        ("q", &text),
        ("sort", &sort),
    ] {
        if !v.is_empty() {
            params.push(format!("{k}={}", urlencode(v)));
        }
    }
    let pages = PageLink::window(page, total, PER_PAGE, |n| {
        let mut p = params.clone();
        p.push(format!("page={n}"));
        format!("/capas?{}", p.join("&"))
    });
    let mut states = vec![Choice {
        value: "open".into(),
        label: "Open (not closed or cancelled)".into(),
        selected: st == "open",
    }];
    states.extend(choices(
        CapaState::ALL,
        CapaState::as_str,
        CapaState::label,
        &st,
    ));
    let first = if total == 0 {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    let day = today(&state);
    let sort_choice = |value: &str, label: &str| Choice {
        value: value.into(),
        label: label.into(),
        selected: sort == value || (sort.is_empty() && value == "newest"),
    };
    html(&CapaListPage {
        ctx: page_ctx(&state, s, "/capas").await?,
        last: first + rows.len() as i64 - 1,
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
        kinds: choices(Kind::ALL, Kind::as_str, Kind::label, &kind),
        sources: choices(
            CapaSource::ALL,
            CapaSource::as_str,
            CapaSource::label,
            &source,
        ),
        priorities: choices(Priority::ALL, Priority::as_str, Priority::label, &priority),
        owners,
        products,
        sorts: vec![
            sort_choice("newest", "Newest first"),
            sort_choice("due", "Due soonest"),
            sort_choice("priority", "Highest priority"),
        ],
        overdue: overdue == "1",
        filtered: !params.iter().all(|p| p.starts_with("sort=")),
        q: text,
        can_open: s.account.roles.contains(Role::Quality),
        csv_href: format!("/capas/export.csv?{}", params.join("&")),
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
    let (filter, order) = filter_of(&query, today(&state))?;
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
