//! The forms that change a CAPA: opening one, its details, investigation,
//! verification plan and action items.

use super::*;

/// The details form's fields as submitted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailsData {
    #[serde(default)]
    version: Option<i64>,
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_ref: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    containment: String,
}

impl DetailsData {
    fn form(self) -> (Option<i64>, DetailsForm) {
        (
            self.version,
            DetailsForm {
                title: self.title,
                kind: self.kind,
                source: self.source,
                source_ref: self.source_ref,
                product_id: self.product_id,
                problem: self.problem,
                priority: self.priority,
                owner_id: self.owner_id,
                due_on: self.due_on,
                containment: self.containment,
            },
        )
    }
}

async fn new_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    f: DetailsForm,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let form = state.db(move |conn| details_view(conn, &f, errors)).await?;
    html_status(
        status,
        &NewCapaPage {
            ctx: page_ctx(state, s, "/capas").await?,
            form,
        },
    )
}

/// `GET /capas/new`
pub async fn new_form(
    state: web::Data<AppState>,
    qm: WithRole<QualityOnly>,
) -> Result<HttpResponse, AppError> {
    let f = DetailsForm {
        kind: Kind::Corrective.as_str().into(),
        ..Default::default()
    };
    new_page(&state, qm.session(), f, Vec::new(), StatusCode::OK).await
}

fn messages(errors: Vec<crate::domain::user::FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.message).collect()
}

/// `POST /capas`
pub async fn create(
    state: web::Data<AppState>,
    qm: WithRole<QualityOnly>,
    OpId(op): OpId,
    Form(data): Form<DetailsData>,
) -> Result<HttpResponse, AppError> {
    let s = qm.session();
    let (_, f) = data.form();
    let fields = match CapaFields::parse(&f, today(&state)) {
        Ok(fields) => with_default_due(&state, fields),
        Err(e) => return new_page(&state, s, f, messages(e), StatusCode::BAD_REQUEST).await,
    };
    let ctx = user_ctx(&state, s, op);
    let by = s.account.id.0;
    let opened = state
        .db(move |conn| Ok(service::open(conn, &ctx, by, fields)))
        .await?;
    match opened {
        Ok(c) => {
            flash(&state, s, "ok", &format!("{} opened.", c.key())).await?;
            Ok(see_other(&format!("/capas/{}", c.id)))
        }
        Err(e @ RecordError::Invalid(_)) => {
            new_page(&state, s, f, e.field_messages(), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// What a record page shows besides the stored record: the errors of one
/// section's form and what was typed there.
/// `POST /capas/{id}/details`
pub async fn details(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(data): Form<DetailsData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "details").await?;
    let (version, f) = data.form();
    let version = version.ok_or_else(|| AppError::BadRequest("The form has no version".into()))?;
    let fields = match CapaFields::parse(&f, today(&state)) {
        Ok(fields) => with_default_due(&state, fields),
        Err(e) => {
            let shown = Shown {
                details: Some((f, messages(e))),
                ..Default::default()
            };
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let result = state
        .db(move |conn| Ok(service::update_details(conn, &ctx, id, version, fields)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            details: Some((f, e)),
            ..Default::default()
        },
        "Saved.",
    )
    .await
}

/// `POST /capas/{id}/investigation`: the form repeats `why_pos`, `why_q`,
/// `why_a` and `cause_cat`, `cause_text`, so it is read as pairs.
pub async fn investigation(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    const KNOWN: [&str; 10] = [
        "action_rationale",
        "version",
        "rca_method",
        "why_pos",
        "why_q",
        "why_a",
        "cause_cat",
        "cause_text",
        "root_cause",
        "action_required",
    ];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        return Err(AppError::BadRequest(format!(
            "The form has a field it should not have: {k:?}"
        )));
    }
    editor_check(&state, s, &op, id, "investigation").await?;
    let version: i64 = one("version")
        .parse()
        .map_err(|_| AppError::BadRequest("The form has no version".into()))?;
    let (pos, q, a) = (all("why_pos"), all("why_q"), all("why_a"));
    let (cats, texts) = (all("cause_cat"), all("cause_text"));
    if pos.len() != q.len() || q.len() != a.len() || cats.len() != texts.len() {
        return Err(AppError::BadRequest(
            "The five-whys or fishbone rows are incomplete".into(),
        ));
    }
    let f = InvestigationForm {
        rca_method: one("rca_method"),
        whys: pos
            .into_iter()
            .zip(q)
            .zip(a)
            .map(|((p, q), a)| (p, q, a))
            .collect(),
        causes: cats.into_iter().zip(texts).collect(),
        root_cause: one("root_cause"),
        action_required: one("action_required"),
        action_rationale: one("action_rationale"),
    };
    let inv = match Investigation::parse(&f) {
        Ok(inv) => inv,
        Err(e) => {
            let shown = Shown {
                investigation: Some((f, messages(e))),
                ..Default::default()
            };
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let result = state
        .db(move |conn| Ok(service::update_investigation(conn, &ctx, id, version, inv)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            investigation: Some((f, e)),
            ..Default::default()
        },
        "Investigation saved.",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanData {
    version: i64,
    #[serde(default)]
    no_adverse_effect: String,
    #[serde(default)]
    effectiveness_criteria: String,
    #[serde(default)]
    effectiveness_due: String,
}

/// `POST /capas/{id}/plan`
pub async fn plan(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(d): Form<PlanData>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::capa::MAX_TEXT;
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "plan").await?;
    let mut errors = Vec::new();
    let due = parse_date(
        &mut errors,
        "effectiveness_due",
        "The check's due date",
        &d.effectiveness_due,
    );
    if due.is_some_and(|d| d < today(&state)) {
        errors.push(crate::domain::user::FieldError::new(
            "effectiveness_due",
            "The check's due date cannot be in the past.",
        ));
    }
    for (text, what) in [
        (&d.no_adverse_effect, "The no-adverse-effect statement"),
        (&d.effectiveness_criteria, "The effectiveness criteria"),
    ] {
        if text.chars().count() > MAX_TEXT {
            errors.push(crate::domain::user::FieldError::new(
                "plan",
                format!("{what} can have at most {MAX_TEXT} characters."),
            ));
        }
    }
    if !errors.is_empty() {
        let shown = Shown {
            plan_errors: messages(errors),
            ..Default::default()
        };
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
    }
    let plan = service::Plan {
        no_adverse_effect: d.no_adverse_effect.trim().to_string(),
        effectiveness_criteria: d.effectiveness_criteria.trim().to_string(),
        effectiveness_due: due,
    };
    let ctx = user_ctx(&state, s, op);
    let version = d.version;
    let result = state
        .db(move |conn| Ok(service::update_plan(conn, &ctx, id, version, plan)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            plan_errors: e,
            ..Default::default()
        },
        "Plan saved.",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemData {
    version: i64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
}

/// The page shown again with the action items' messages on top of their section.
fn item_errors(errors: Vec<String>) -> Shown {
    Shown {
        item_errors: errors,
        ..Default::default()
    }
}

/// An action item's text, owner and due date as typed, each checked; the
/// messages of those that are wrong go into `errors`.
fn item_fields(
    errors: &mut Vec<String>,
    text: &str,
    owner_id: &str,
    due_on: &str,
) -> (String, Option<i64>, Option<chrono::NaiveDate>) {
    use crate::domain::capa::MAX_TEXT;
    let text = text.trim().to_string();
    if text.is_empty() {
        errors.push("Say what will be done.".to_string());
    } else if text.chars().count() > MAX_TEXT {
        errors.push(format!(
            "The action can have at most {MAX_TEXT} characters."
        ));
    }
    let owner = owner_id.trim().parse::<i64>().ok();
    if owner.is_none() {
        errors.push("Choose the action's owner.".into());
    }
    let mut date_errors = Vec::new();
    let due = parse_date(&mut date_errors, "due_on", "The due date", due_on);
    errors.extend(messages(date_errors));
    if due.is_none() && due_on.trim().is_empty() {
        errors.push("Give a due date.".into());
    }
    (text, owner, due)
}

/// `POST /capas/{id}/items`
pub async fn add_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(d): Form<ItemData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "items").await?;
    let mut errors = Vec::new();
    let (text, owner, due) = item_fields(&mut errors, &d.text, &d.owner_id, &d.due_on);
    let kind = ItemKind::parse(d.kind.trim());
    if kind.is_none() {
        errors.push("Choose the kind: correction, corrective or preventive.".into());
    }
    if due.is_some_and(|day| day < today(&state)) {
        errors.push("The due date cannot be in the past.".into());
    }
    let (Some(kind), Some(owner_id), Some(due_on), true) = (kind, owner, due, errors.is_empty())
    else {
        return show_page(&state, s, id, item_errors(errors), StatusCode::BAD_REQUEST).await;
    };
    let item = Item {
        id: 0,
        text,
        kind,
        owner_id,
        due_on,
        done_on: None,
        evidence: String::new(),
    };
    let ctx = user_ctx(&state, s, op);
    let version = d.version;
    let result = state
        .db(move |conn| Ok(service::add_item(conn, &ctx, id, version, item)))
        .await?;
    after_edit(&state, s, id, result, item_errors, "Action item added.").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemChangeData {
    version: i64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    reason: String,
}

/// `POST /capas/{id}/items/{item}/edit`: quality or the CAPA's owner
/// reassign an open action item, edit its text or move its due date.
pub async fn change_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Form(d): Form<ItemChangeData>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (id, item_id) = path.into_inner();
    editor_check(&state, s, &op, id, "items").await?;
    let mut errors = Vec::new();
    let (text, owner, due) = item_fields(&mut errors, &d.text, &d.owner_id, &d.due_on);
    let (Some(owner_id), Some(due_on), true) = (owner, due, errors.is_empty()) else {
        return show_page(&state, s, id, item_errors(errors), StatusCode::BAD_REQUEST).await;
    };
    let change = service::ItemChange {
        text,
        owner_id,
        due_on,
    };
    let ctx = user_ctx(&state, s, op);
    let (version, reason) = (d.version, d.reason);
    let result = state
        .db(move |conn| {
            Ok(service::change_item(
                conn, &ctx, id, version, item_id, change, &reason,
            ))
        })
        .await?;
    after_edit(&state, s, id, result, item_errors, "Action item changed.").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneData {
    version: i64,
    #[serde(default)]
    done_on: String,
    #[serde(default)]
    evidence: String,
}

/// `POST /capas/{id}/items/{item}/done`: the item's owner or quality.
pub async fn complete_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Form(d): Form<DoneData>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::capa::MAX_TEXT;
    let s = &user.0;
    let (id, item_id) = path.into_inner();
    let owner = state
        .db(move |conn| Ok(repo::find_item(conn, item_id)?))
        .await?
        .filter(|i| i.capa_id == id)
        .ok_or(AppError::NotFound)?
        .item
        .owner_id;
    if !(s.account.roles.contains(Role::Quality) || owner == s.account.id.0) {
        let why = "Only the action's owner or quality can mark it done";
        let entity = state
            .db(move |conn| Ok(repo::find(conn, id)?.map(|c| <CapaWorkflow as Stored>::entity(&c))))
            .await?;
        let path = format!("/capas/{id}/items/{item_id}/done");
        super::super::deny(&state, s, op.clone(), entity, "POST", path, why.into()).await?;
        return Err(AppError::Forbidden(why.into()));
    }
    let mut errors = Vec::new();
    let done = parse_date(&mut errors, "done_on", "The date done", &d.done_on);
    let mut errors = messages(errors);
    let evidence = d.evidence.trim().to_string();
    if evidence.is_empty() {
        errors.push("Give the evidence of what was done (8.5.2 d).".into());
    } else if evidence.chars().count() > MAX_TEXT {
        errors.push(format!(
            "The evidence can have at most {MAX_TEXT} characters."
        ));
    }
    match done {
        None if errors.is_empty() => errors.push("Give the date it was done.".into()),
        Some(day) if day > today(&state) => {
            errors.push("The date done cannot be in the future.".into())
        }
        _ => {}
    }
    let (Some(done_on), true) = (done, errors.is_empty()) else {
        return show_page(&state, s, id, item_errors(errors), StatusCode::BAD_REQUEST).await;
    };
    let ctx = user_ctx(&state, s, op);
    let version = d.version;
    let result = state
        .db(move |conn| {
            Ok(service::complete_item(
                conn, &ctx, id, version, item_id, done_on, evidence,
            ))
        })
        .await?;
    after_edit(&state, s, id, result, item_errors, "Action item done.").await
}
