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
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let form = state
        .db(move |conn| details_view(conn, &f, problems))
        .await?;
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
    new_page(&state, qm.session(), f, new_form_problems(), StatusCode::OK).await
}

/// The form on `/capas/new`: its element ids are the fields' names.
fn new_form_problems() -> Rejected {
    Rejected::new("new", "")
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
        Err(e) => {
            let problems = new_form_problems().fields(e);
            return new_page(&state, s, f, problems, StatusCode::BAD_REQUEST).await;
        }
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
            let problems = new_form_problems().refused(&e);
            new_page(&state, s, f, problems, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

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
    let rejected = Rejected::named("details");
    let fields = match CapaFields::parse(&f, today(&state)) {
        Ok(fields) => with_default_due(&state, fields),
        Err(e) => {
            let shown = Shown {
                details: Some(f),
                ..Shown::of(rejected.fields(e))
            };
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let result = state
        .db(move |conn| Ok(service::update_details(conn, &ctx, id, version, fields)))
        .await?;
    let rejected = details_typed(rejected, &f);
    after_edit(
        &state,
        s,
        id,
        result,
        (rejected, version),
        |shown| Shown {
            details: Some(f),
            ..shown
        },
        "Saved.",
    )
    .await
}

/// The details form's fields as typed, by name (a stale form marks those
/// someone else changed meanwhile).
fn details_typed(r: Rejected, f: &DetailsForm) -> Rejected {
    r.typed_each(&[
        ("title", &f.title),
        ("kind", &f.kind),
        ("source", &f.source),
        ("source_ref", &f.source_ref),
        ("product_id", &f.product_id),
        ("problem", &f.problem),
        ("priority", &f.priority),
        ("owner_id", &f.owner_id),
        ("due_on", &f.due_on),
        ("containment", &f.containment),
    ])
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
    let rejected = Rejected::named("investigation");
    let inv = match Investigation::parse(&f) {
        Ok(inv) => inv,
        Err(e) => {
            let shown = Shown {
                investigation: Some(f),
                ..Shown::of(rejected.fields(e))
            };
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let result = state
        .db(move |conn| Ok(service::update_investigation(conn, &ctx, id, version, inv)))
        .await?;
    let rejected = rejected.typed_each(&[
        ("rca_method", &f.rca_method),
        ("root_cause", &f.root_cause),
        ("action_required", &f.action_required),
        ("action_rationale", &f.action_rationale),
    ]);
    after_edit(
        &state,
        s,
        id,
        result,
        (rejected, version),
        |shown| Shown {
            investigation: Some(f),
            ..shown
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
    Typed(d, typed): Typed<PlanData>,
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
        errors.push(FieldError::new(
            "effectiveness_due",
            "The check's due date cannot be in the past.",
        ));
    }
    for (field, text, what) in [
        (
            "no_adverse_effect",
            &d.no_adverse_effect,
            "The no-adverse-effect statement",
        ),
        (
            "effectiveness_criteria",
            &d.effectiveness_criteria,
            "The effectiveness criteria",
        ),
    ] {
        if text.chars().count() > MAX_TEXT {
            errors.push(FieldError::new(
                field,
                format!("{what} can have at most {MAX_TEXT} characters."),
            ));
        }
    }
    let rejected = Rejected::named("plan").typed_all(&typed);
    if !errors.is_empty() {
        let shown = Shown::of(rejected.fields(errors));
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
        (rejected, version),
        |shown| shown,
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

/// An action item's text, owner and due date as typed, each checked; the
/// problems with those that are wrong go into `errors`, by field.
fn item_fields(
    errors: &mut Vec<FieldError>,
    text: &str,
    owner_id: &str,
    due_on: &str,
) -> (String, Option<i64>, Option<chrono::NaiveDate>) {
    use crate::domain::capa::MAX_TEXT;
    let text = text.trim().to_string();
    if text.is_empty() {
        errors.push(FieldError::new("text", "Say what will be done."));
    } else if text.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(
            "text",
            format!("The action can have at most {MAX_TEXT} characters."),
        ));
    }
    let owner = owner_id.trim().parse::<i64>().ok();
    if owner.is_none() {
        errors.push(FieldError::new("owner_id", "Choose the action's owner."));
    }
    let due = parse_date(errors, "due_on", "The due date", due_on);
    if due.is_none() && due_on.trim().is_empty() {
        errors.push(FieldError::new("due_on", "Give a due date."));
    }
    (text, owner, due)
}

/// `POST /capas/{id}/items`
pub async fn add_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(d, typed): Typed<ItemData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "items").await?;
    let mut errors = Vec::new();
    let (text, owner, due) = item_fields(&mut errors, &d.text, &d.owner_id, &d.due_on);
    let kind = ItemKind::parse(d.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "Choose the kind: correction, corrective or preventive.",
        ));
    }
    if due.is_some_and(|day| day < today(&state)) {
        errors.push(FieldError::new(
            "due_on",
            "The due date cannot be in the past.",
        ));
    }
    let rejected = Rejected::named("item-new").typed_all(&typed);
    let (Some(kind), Some(owner_id), Some(due_on), true) = (kind, owner, due, errors.is_empty())
    else {
        let shown = Shown::of(rejected.fields(errors));
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
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
    after_edit(
        &state,
        s,
        id,
        result,
        (rejected, version),
        |shown| shown,
        "Action item added.",
    )
    .await
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

/// The form id of action item `item_id`'s `what` form (`done`, `change`),
/// as the record page names it by the item's number on the CAPA.
async fn item_form(
    state: &web::Data<AppState>,
    id: i64,
    item_id: i64,
    what: &str,
) -> Result<Rejected, AppError> {
    let n = state
        .db(move |conn| {
            Ok(repo::find(conn, id)?
                .and_then(|c| c.items.iter().position(|i| i.id == item_id))
                .map_or(0, |p| p + 1))
        })
        .await?;
    Ok(Rejected::named(&format!("item-{n}-{what}")))
}

/// `POST /capas/{id}/items/{item}/edit`: quality or the CAPA's owner
/// reassign an open action item, edit its text or move its due date.
pub async fn change_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Typed(d, typed): Typed<ItemChangeData>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (id, item_id) = path.into_inner();
    editor_check(&state, s, &op, id, "items").await?;
    let mut errors = Vec::new();
    let (text, owner, due) = item_fields(&mut errors, &d.text, &d.owner_id, &d.due_on);
    let rejected = item_form(&state, id, item_id, "change")
        .await?
        .typed_all(&typed);
    let (Some(owner_id), Some(due_on), true) = (owner, due, errors.is_empty()) else {
        let shown = Shown::of(rejected.fields(errors));
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
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
    after_edit(
        &state,
        s,
        id,
        result,
        (rejected, version),
        |shown| shown,
        "Action item changed.",
    )
    .await
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
    Typed(d, typed): Typed<DoneData>,
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
    let evidence = d.evidence.trim().to_string();
    if evidence.is_empty() {
        errors.push(FieldError::new(
            "evidence",
            "Give the evidence of what was done (8.5.2 d).",
        ));
    } else if evidence.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(
            "evidence",
            format!("The evidence can have at most {MAX_TEXT} characters."),
        ));
    }
    match done {
        None if d.done_on.trim().is_empty() => {
            errors.push(FieldError::new("done_on", "Give the date it was done."))
        }
        Some(day) if day > today(&state) => errors.push(FieldError::new(
            "done_on",
            "The date done cannot be in the future.",
        )),
        _ => {}
    }
    let rejected = item_form(&state, id, item_id, "done")
        .await?
        .typed_all(&typed);
    let (Some(done_on), true) = (done, errors.is_empty()) else {
        let shown = Shown::of(rejected.fields(errors));
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
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
    after_edit(
        &state,
        s,
        id,
        result,
        (rejected, version),
        |shown| shown,
        "Action item done.",
    )
    .await
}
