//! Controlled documents (issue 15): the master list, a new document, a
//! version's record page with its draft form, starting the next version,
//! the redline, the controlled copy. Every step of a version goes through
//! the one step handler (`web::step`) and its signing ceremony.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::nonconformances::{all_products, choices, choices_of};
use super::{flash, html, html_status, page_ctx, see_other, user_ctx};
use crate::db::DbConnection;
use crate::db::repo::documents::{self as repo, Filter, ListRow, Sort};
use crate::db::repo::users;
use crate::domain::document::{
    DocFields, DocInput, DocType, DocVersion, DocWorkflow, Document, DraftFields, VersionState,
};
use crate::domain::user::Role;
use crate::domain::workflow::Who;
use crate::service::documents as service;
use crate::service::error::RecordError;
use crate::service::workflow::Stored;
use crate::web::AppState;
use crate::web::csrf::{Form, Typed};
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, RoleSet, WithRole};
use crate::web::list::{ListQuery, PerPage};
use crate::web::record::{Fact, RecordHead, Section, next_steps};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::step::{WebWorkflow, text};
use crate::web::views::attachments::size_text;
use crate::web::views::audit::Choice;
use crate::web::views::documents::*;
use crate::web::views::signatures::SignedField;

const PER_PAGE: i64 = 50;

/// Who may write documents: quality and engineering.
pub struct Authors;
impl RoleSet for Authors {
    const ROLES: &'static [Role] = service::AUTHORS;
}
/// Who may correct a document's facts: quality.
pub struct QualityOnly;
impl RoleSet for QualityOnly {
    const ROLES: &'static [Role] = &[Role::Quality];
}

/// The parameters of the master list and `GET /api/v1/documents`.
pub const PARAMS: &[&str] = &["type", "state", "owner", "product", "review", "q", "sort"];

/// The master list's filters and order, as of `today` (the list, its
/// exports and the API share them).
pub fn filter_of(q: &ListQuery, today: chrono::NaiveDate) -> Result<(Filter, Sort), AppError> {
    let filter = Filter {
        doc_type: q.choice("type", "document type", DocType::parse)?,
        state: q.choice("state", "state", VersionState::parse)?,
        owner_id: q.number("owner", "owner")?,
        product_id: q.number("product", "product")?,
        review_due_by: match q.get("review") {
            "" => None,
            "due" => Some(today),
            other => {
                return Err(AppError::BadRequest(format!(
                    "There is no review filter {other:?}: use review=due"
                )));
            }
        },
        text: q.text("q"),
    };
    let order = q.sort(
        "sort",
        &[
            ("number", Sort::Number),
            ("title", Sort::Title),
            ("changed", Sort::RecentlyChanged),
            ("review", Sort::ReviewDue),
        ],
    )?;
    Ok((filter, order))
}

/// People offered on forms: active users, by name.
fn people(conn: &mut DbConnection) -> Result<Vec<crate::domain::user::Account>, AppError> {
    Ok(users::assignable(conn, 500)?)
}

fn person_choices(
    all: &[crate::domain::user::Account],
    keep: impl Fn(&crate::domain::user::Account) -> bool,
    selected: &[&str],
) -> Vec<Choice> {
    all.iter()
        .filter(|a| keep(a))
        .map(|a| Choice {
            selected: selected.contains(&a.id.0.to_string().as_str()),
            value: a.id.0.to_string(),
            label: format!("{} ({})", a.full_name, a.username),
        })
        .collect()
}

fn name_of(names: &HashMap<i64, String>, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("u-{id}"))
}

/// `GET /documents`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let today = state.clock.now().date_naive();
    let (filter, order) = filter_of(&q, today)?;
    let (offset, limit) = (q.offset(), q.per_page);
    let (owner_sel, product_sel) = (q.get("owner").to_string(), q.get("product").to_string());
    // Read by filters, day and data alone (not by who reads), kept until a
    // record changes.
    let key = format!("{filter:?}|{order:?}|{offset}|{limit}|{owner_sel}|{product_sel}|{today}");
    let cache = state.doc_lists.clone();
    let data = state
        .read(move |conn| {
            cache.get(conn, key, |conn| {
                list_page(
                    conn,
                    (&filter, order),
                    (offset, limit),
                    (&owner_sel, &product_sel),
                )
            })
        })
        .await?;
    let (rows, total, names, owners, products) = (*data).clone();
    let (names, product_names) = names;
    let (first, last) = q.shown(rows.len());
    let pages = q.pages("/documents", total);
    let sort = q.get("sort");
    let kept: Vec<(&'static str, String)> = PARAMS
        .iter()
        .map(|k| (*k, q.get(k).to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    html(&DocListPage {
        ctx: page_ctx(&state, s, "/documents").await?,
        rows: rows
            .into_iter()
            .map(|r| row_view(r, &names, &product_names, today))
            .collect(),
        total,
        first,
        last,
        types: choices(DocType::ALL, DocType::as_str, DocType::label, q.get("type")),
        states: choices(
            VersionState::ALL,
            VersionState::as_str,
            VersionState::label,
            q.get("state"),
        ),
        owners,
        products,
        sorts: [
            ("number", "By number"),
            ("title", "By title"),
            ("changed", "Recently changed"),
            ("review", "Review due first"),
        ]
        .into_iter()
        .map(|(value, label)| Choice {
            value: value.into(),
            label: label.into(),
            selected: sort == value || (sort.is_empty() && value == "number"),
        })
        .collect(),
        due: q.get("review") == "due",
        q: q.get("q").to_string(),
        filtered: q.filtered(),
        can_create: s.account.roles.has_any(Authors::ROLES),
        pages,
        kept,
    })
}

/// A page of the master list with what its rows and filters name.
pub type ListPage = (
    Vec<ListRow>,
    i64,
    (HashMap<i64, String>, HashMap<i64, String>),
    Vec<Choice>,
    Vec<Choice>,
);

/// Pages of the master list, kept until a record changes.
pub type ListCache = crate::service::KeptUntilDataChanges<String, ListPage>;

fn list_page(
    conn: &mut DbConnection,
    (filter, order): (&Filter, Sort),
    (offset, limit): (i64, i64),
    (owner_sel, product_sel): (&str, &str),
) -> Result<ListPage, AppError> {
    let (rows, total) = repo::list(conn, filter, order, offset, limit)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.doc.owner_id).collect();
    let names = users::names(conn, &ids)?;
    let all = people(conn)?;
    let owners = person_choices(&all, |_| true, &[owner_sel]);
    let products_all = all_products(conn)?;
    let product_names: HashMap<i64, String> = products_all
        .iter()
        .map(|p| (p.id, p.name.clone()))
        .collect();
    let products = choices_of(&products_all, product_sel);
    Ok((rows, total, (names, product_names), owners, products))
}

fn row_view(
    r: ListRow,
    names: &HashMap<i64, String>,
    products: &HashMap<i64, String>,
    today: chrono::NaiveDate,
) -> DocRow {
    let retired = r.effective.is_none()
        && r.open.is_none()
        && r.latest.is_some_and(|(_, s)| s == VersionState::Obsolete);
    DocRow {
        id: r.doc.id,
        key: r.doc.key(),
        title: r.doc.title.clone(),
        doc_type: r.doc.doc_type.label(),
        effective: r.effective.map_or(String::new(), |(n, from)| match from {
            Some(d) => format!("v{n}, since {d}"),
            None => format!("v{n}"),
        }),
        open: r.open.map_or(String::new(), |(n, s)| {
            format!("v{n} {}", s.label().to_lowercase())
        }),
        open_state: r.open.map_or("", |(_, s)| s.as_str()),
        retired,
        owner: name_of(names, r.doc.owner_id),
        product: r
            .doc
            .product_id
            .and_then(|p| products.get(&p).cloned())
            .unwrap_or_default(),
        next_review: r
            .doc
            .next_review_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        review_overdue: r.doc.review_due(today),
    }
}

/// The new-document form as sent (and the correction form, with a reason).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DocFormData {
    #[serde(default)]
    title: String,
    #[serde(default)]
    doc_type: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    review_months: String,
    #[serde(default)]
    reason: String,
    /// The document's row version (the correction form).
    #[serde(default)]
    version: Option<i64>,
}

fn doc_form(
    conn: &mut DbConnection,
    f: &DocFormData,
    problems: Rejected,
) -> Result<DocForm, AppError> {
    let all = people(conn)?;
    Ok(DocForm {
        title: f.title.clone(),
        types: choices(DocType::ALL, DocType::as_str, DocType::label, &f.doc_type),
        owners: person_choices(&all, |_| true, &[&f.owner]),
        products: choices_of(&all_products(conn)?, &f.product_id),
        review_months: f.review_months.clone(),
        reason: f.reason.clone(),
        problems,
    })
}

async fn new_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    f: DocFormData,
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let form = state.db(move |conn| doc_form(conn, &f, problems)).await?;
    html_status(
        status,
        &NewDocPage {
            ctx: page_ctx(state, s, "/documents").await?,
            form,
        },
    )
}

/// `GET /documents/new`
pub async fn new_form(
    state: web::Data<AppState>,
    r: WithRole<Authors>,
) -> Result<HttpResponse, AppError> {
    let me = r.session().account.id.0.to_string();
    let f = DocFormData {
        owner: me,
        ..Default::default()
    };
    new_page(
        &state,
        r.session(),
        f,
        Rejected::new("new", ""),
        StatusCode::OK,
    )
    .await
}

/// `POST /documents`
pub async fn create(
    state: web::Data<AppState>,
    r: WithRole<Authors>,
    OpId(op): OpId,
    Form(f): Form<DocFormData>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let fields = match DocFields::parse(
        &f.title,
        &f.doc_type,
        &f.owner,
        &f.product_id,
        &f.review_months,
    ) {
        Ok(fields) => fields,
        Err(errors) => {
            let problems = Rejected::new("new", "").fields(errors);
            return new_page(&state, s, f, problems, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let author = s.account.id.0;
    let created = state
        .db(move |conn| Ok(service::create(conn, &ctx, author, fields)))
        .await?;
    match created {
        Ok((doc, _)) => {
            flash(
                &state,
                s,
                "ok",
                &format!(
                    "{} created with v1 as a draft: write its content, name reviewers and an approver, then send it for review.",
                    doc.key()
                ),
            )
            .await?;
            Ok(see_other(&format!("/documents/{}/v/1#content", doc.id)))
        }
        Err(e @ RecordError::Invalid(_)) => {
            let problems = Rejected::new("new", "").refused(&e);
            new_page(&state, s, f, problems, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The sections of a version's page before the common ones.
const SECTIONS: [Section; 4] = [
    Section {
        anchor: "overview",
        label: "Document",
    },
    Section {
        anchor: "content",
        label: "Content",
    },
    Section {
        anchor: "people",
        label: "Review and approval",
    },
    Section {
        anchor: "versions",
        label: "Versions",
    },
];

/// The draft form as sent.
#[derive(Default, Clone)]
pub struct DraftData {
    title: String,
    body: String,
    change_reason: String,
    change_summary: String,
    reviewers: Vec<String>,
    approver: String,
    effective_on: String,
    training_required: String,
}

impl DraftData {
    fn of(v: &DocVersion) -> Self {
        Self {
            title: v.title.clone(),
            body: v.body.clone(),
            change_reason: v.change_reason.clone(),
            change_summary: v.change_summary.clone(),
            reviewers: v.reviewers.iter().map(ToString::to_string).collect(),
            approver: v.approver_id.map(|a| a.to_string()).unwrap_or_default(),
            effective_on: v.effective_on.map(|d| d.to_string()).unwrap_or_default(),
            training_required: if v.training_required { "yes" } else { "no" }.into(),
        }
    }

    /// The form's fields from what was sent; anything else is a 400.
    fn sent(pairs: &[(String, String)]) -> Result<(Self, i64), AppError> {
        let mut d = Self::default();
        let mut version = None;
        for (k, v) in pairs {
            match k.as_str() {
                "title" => d.title = v.clone(),
                "body" => d.body = v.clone(),
                "change_reason" => d.change_reason = v.clone(),
                "change_summary" => d.change_summary = v.clone(),
                "reviewers" => d.reviewers.push(v.clone()),
                "approver" => d.approver = v.clone(),
                "effective_on" => d.effective_on = v.clone(),
                "training_required" => d.training_required = v.clone(),
                "version" => version = v.trim().parse::<i64>().ok(),
                other => {
                    return Err(AppError::BadRequest(format!(
                        "The form could not be accepted: unknown field `{other}`"
                    )));
                }
            }
        }
        let version = version.ok_or_else(|| {
            AppError::BadRequest("The form could not be accepted: no version".into())
        })?;
        Ok((d, version))
    }

    fn typed(&self, r: Rejected) -> Rejected {
        let mut r = r.typed_each(&[
            ("title", &self.title),
            ("body", &self.body),
            ("change_reason", &self.change_reason),
            ("change_summary", &self.change_summary),
            ("approver", &self.approver),
            ("effective_on", &self.effective_on),
            ("training_required", &self.training_required),
        ]);
        for v in &self.reviewers {
            r = r.typed("reviewers", v);
        }
        r
    }

    fn form(&self, all: &[crate::domain::user::Account], problems: Rejected) -> DraftForm {
        let chosen: Vec<&str> = self.reviewers.iter().map(String::as_str).collect();
        DraftForm {
            title: self.title.clone(),
            body: self.body.clone(),
            change_reason: self.change_reason.clone(),
            change_summary: self.change_summary.clone(),
            reviewers: person_choices(all, |_| true, &chosen),
            approvers: person_choices(
                all,
                |a| a.roles.contains(Role::Quality),
                &[self.approver.as_str()],
            ),
            effective_on: self.effective_on.clone(),
            training_yes: self.training_required == "yes",
            training_no: self.training_required == "no",
            problems,
        }
    }
}

/// The version to show at `/documents/{n}`: the effective one, else the
/// newest.
fn shown_version(conn: &mut DbConnection, doc: i64) -> Result<i64, AppError> {
    let id = match repo::version_in(conn, doc, &[VersionState::Effective])? {
        Some(id) => Some(id),
        None => {
            let n = repo::last_number(conn, doc)?;
            repo::version_id(conn, doc, n)?
        }
    };
    id.ok_or(AppError::NotFound)
}

/// `GET /documents/{n}`: its effective version, else its newest.
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let doc = path.into_inner();
    let id = state.read(move |conn| shown_version(conn, doc)).await?;
    version_page(&state, &user.0, id, None, Sent::none(), StatusCode::OK).await
}

/// `GET /documents/{n}/v/{number}`
pub async fn show_version(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (doc, number) = path.into_inner();
    let id = state
        .read(move |conn| repo::version_id(conn, doc, number)?.ok_or(AppError::NotFound))
        .await?;
    version_page(&state, &user.0, id, None, Sent::none(), StatusCode::OK).await
}

/// `GET /document-versions/{id}`: the version's page (links from the audit
/// trail and signatures name versions by their row).
pub async fn version_by_id(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = state
        .read(move |conn| repo::find_version(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(see_other(&DocWorkflow::page(&v)))
}

fn file_rows(v: &DocVersion) -> Vec<FileRow> {
    v.files
        .iter()
        .map(|f| FileRow {
            name: f.name.clone(),
            sha256: f.sha256.clone(),
            size: size_text(f.size),
        })
        .collect()
}

/// Everything a version's page reads, in one read transaction.
struct Loaded {
    doc: Document,
    v: DocVersion,
    versions: Vec<DocVersion>,
    names: HashMap<i64, String>,
    product: String,
    people: Vec<crate::domain::user::Account>,
    history: std::sync::Arc<crate::web::views::audit::HistoryPanel>,
    signatures: Vec<crate::web::views::signatures::SignatureView>,
    files: Vec<crate::db::repo::attachments::Attachment>,
    commits: Vec<crate::service::git::LinkedCommit>,
    form_products: Vec<Choice>,
    linked: Vec<service::Linked>,
    carry_items: Vec<(i64, String)>,
    carried: Vec<(String, String)>,
    /// (assigned, acknowledged) of this version, and its quiz.
    trained: (i64, i64, Option<crate::domain::training::QuizFacts>),
    asks: Option<std::sync::Arc<crate::web::ask::OnRecord>>,
}

/// A version's record page, with a refused form as typed when there is one.
async fn version_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    draft: Option<DraftData>,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    // Only those who may write or correct a document see the people pickers.
    let pickers = roles.has_any(Authors::ROLES);
    let histories = state.histories.clone();
    let asks = state.signature_requests.clone();
    let doc_form_sent = match sent.rejected() {
        Some(r) if r.form == "document" => Some(r.clone()),
        _ => None,
    };
    let l = state
        .read(move |conn| {
            let v = repo::find_version(conn, id)?.ok_or(AppError::NotFound)?;
            let doc = repo::find_document(conn, v.document_id)?.ok_or(AppError::NotFound)?;
            let versions = repo::versions_of(conn, &doc)?;
            let mut ids: Vec<i64> = vec![doc.owner_id];
            for x in &versions {
                ids.push(x.author_id);
                ids.extend(x.reviewers.iter().copied());
                ids.extend(x.approver_id);
            }
            let files = crate::db::repo::attachments::of_record(
                conn,
                "document_version",
                &format!("docv-{id}"),
            )?;
            ids.extend(super::attachments::people_of(&files));
            let names = users::names(conn, &ids)?;
            let product = super::nonconformances::product_name(conn, doc.product_id)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "document_version",
                &format!("docv-{id}"),
                &roles,
            )?;
            let signatures = super::signatures::panel_of::<DocWorkflow>(conn, &v, &roles)?;
            let asks = crate::web::ask::on_record::<DocWorkflow>(conn, &asks, &v)?;
            let commits = crate::service::git::commits_linked_to(
                conn,
                ("document", &format!("doc-{}", doc.id)),
            )?;
            let products = all_products(conn)?;
            let selected = doc.product_id.map(|p| p.to_string()).unwrap_or_default();
            let linked = service::linked_records(conn, doc.id)?;
            let carry_items = if v.state.open() || v.state == VersionState::Effective {
                service::open_items_of_linked_capas(conn, doc.id)?
            } else {
                Vec::new()
            };
            let carried = carried_items(conn, v.id)?;
            let (assigned, signed) = crate::db::repo::training::version_counts(conn, v.id)?;
            let quiz = crate::db::repo::training::quiz_facts(conn, v.id)?;
            Ok::<_, AppError>(Loaded {
                trained: (assigned, signed, quiz),
                asks,
                linked,
                carry_items,
                carried,
                people: if pickers { people(conn)? } else { Vec::new() },
                form_products: choices_of(&products, &selected),
                doc,
                v,
                versions,
                names,
                product,
                history,
                signatures,
                files,
                commits,
            })
        })
        .await?;
    render_version(state, s, l, draft, sent, doc_form_sent, status).await
}

#[allow(clippy::too_many_arguments)]
async fn render_version(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    l: Loaded,
    draft: Option<DraftData>,
    mut sent: Sent,
    doc_form_sent: Option<Rejected>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let Loaded {
        doc,
        v,
        versions,
        names,
        product,
        people,
        history,
        signatures,
        files,
        commits,
        form_products,
        linked,
        carry_items,
        carried,
        trained,
        asks,
    } = l;
    let roles = &s.account.roles;
    let me = s.account.id.0;
    let today = state.clock.now().date_naive();
    let who = Who {
        user: Some(me),
        roles,
    };
    let mut at_today = v.clone();
    at_today.today = Some(today);
    let mut head = RecordHead::new::<DocWorkflow>(
        ("/documents", "Documents"),
        (v.key(), v.title.clone()),
        v.state,
        &SECTIONS,
        crate::web::record::diagram::<DocWorkflow>(&v.key(), v.state),
    );
    head.facts = vec![
        Fact::new("Type", v.doc_type.label()),
        Fact::new("Owner", name_of(&names, doc.owner_id)),
        Fact::new("Author", name_of(&names, v.author_id)),
        Fact::new(
            "Effective",
            match (v.effective_from, v.effective_on) {
                (Some(d), _) => format!("since {d}"),
                (None, Some(d)) => format!("on {d}"),
                (None, None) => "on approval".into(),
            },
        ),
        Fact::new(
            "Next review",
            doc.next_review_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
        )
        .overdue(doc.review_due(today) && v.state == VersionState::Effective),
        Fact::new("Product", product.clone())
            .link(doc.product_id.map(|p| format!("/products/{p}"))),
    ];
    let next = next_steps::<DocWorkflow>(
        &at_today,
        who,
        format!("/document-versions/{}", v.id),
        v.version,
    );
    let next = crate::web::ask::with_requests::<DocWorkflow>(next, asks.as_deref(), &at_today, s);
    let quality = roles.contains(Role::Quality);
    let can_edit = v.state == VersionState::Draft && (v.author_id == me || quality);
    let has_open = versions.iter().any(|x| x.state.open());
    let retired = versions
        .first()
        .is_some_and(|x| x.state == VersionState::Obsolete);
    let can_correct = quality && !retired;
    let can_revise = roles.has_any(Authors::ROLES) && !has_open && !retired;
    let effective = versions.iter().find(|x| x.state == VersionState::Effective);
    let open = versions.iter().find(|x| x.state.open());
    let other = match (v.state, effective, open) {
        (VersionState::Effective, _, Some(o)) => Some((
            format!(
                "v{} is {}: open it",
                o.number,
                o.state.label().to_lowercase()
            ),
            format!("/documents/{}/v/{}", doc.id, o.number),
        )),
        (s, Some(e), _) if s != VersionState::Effective => Some((
            format!("v{} is the effective version: open it", e.number),
            format!("/documents/{}/v/{}", doc.id, e.number),
        )),
        _ => None,
    };
    let redline_href = match effective {
        Some(e) if e.number != v.number => Some(format!(
            "/documents/{}/redline?from={}&to={}",
            doc.id, e.number, v.number
        )),
        _ => None,
    };
    let draft_sent = match sent.rejected() {
        Some(r) if r.form == "draft" => r.clone(),
        _ => Rejected::named("draft"),
    };
    let draft = draft
        .unwrap_or_else(|| DraftData::of(&v))
        .form(&people, draft_sent);
    let correct_data = DocFormData {
        owner: doc.owner_id.to_string(),
        product_id: doc.product_id.map(|p| p.to_string()).unwrap_or_default(),
        review_months: doc.review_months.to_string(),
        ..Default::default()
    };
    let correct_problems = doc_form_sent.unwrap_or_else(|| Rejected::named("document"));
    let form = DocForm {
        title: String::new(),
        types: Vec::new(),
        owners: person_choices(
            &people,
            |_| true,
            &[correct_problems.or("owner", &correct_data.owner)],
        ),
        products: form_products,
        review_months: correct_problems
            .or("review_months", &correct_data.review_months)
            .to_string(),
        reason: correct_problems.or("reason", "").to_string(),
        problems: correct_problems,
    };
    let file_people: HashMap<i64, String> = names.clone();
    let attachments = super::attachments::simple_panel(
        state,
        s,
        ("document_version", &format!("docv-{}", v.id)),
        &files,
        (v.state == VersionState::Draft, can_edit),
        &file_people,
    );
    let mut forms: Vec<String> = next.forms();
    if can_edit {
        forms.push("draft".into());
    }
    if can_correct {
        forms.push("document".into());
    }
    let can_link = roles.has_any(Authors::ROLES);
    if can_link {
        forms.push("link".into());
        if !carry_items.is_empty() {
            forms.push("carries".into());
        }
    }
    forms.extend(attachments.forms());
    sent.place(&forms);
    let reviewers: BTreeMap<i64, String> = v
        .reviewers
        .iter()
        .map(|r| (*r, name_of(&names, *r)))
        .collect();
    let page = DocPage {
        ctx: page_ctx(state, s, "/documents").await?,
        head,
        next,
        sent,
        doc_id: doc.id,
        version_id: v.id,
        number: v.number,
        mark: v.state.mark(),
        other,
        body_html: crate::web::markdown::render(&v.body),
        body_empty: v.body.trim().is_empty(),
        files: file_rows(&v),
        change_reason: v.change_reason.clone(),
        change_summary: v.change_summary.clone(),
        comment: if v.state == VersionState::Draft {
            v.comment.clone()
        } else {
            String::new()
        },
        reason: v.reason.clone(),
        author: name_of(&names, v.author_id),
        approver: v
            .approver_id
            .map(|a| name_of(&names, a))
            .unwrap_or_default(),
        reviewers: crate::domain::document::review_progress(&v, &reviewers),
        round: v.round,
        effective_on: v.effective_on.map(|d| d.to_string()).unwrap_or_default(),
        effective_from: v.effective_from.map(|d| d.to_string()).unwrap_or_default(),
        training: if v.training_required {
            "Required: people who use it are trained on this version"
        } else {
            "Not required"
        },
        trained: format!(
            "{} assigned, {} trained on this version",
            trained.0, trained.1
        ),
        quiz: trained
            .2
            .map(|q| format!("{} questions, pass mark {} %", q.questions, q.pass_mark))
            .unwrap_or_default(),
        can_set_quiz: (doc.owner_id == me || roles.contains(Role::Quality))
            && !matches!(
                v.state,
                VersionState::Superseded | VersionState::Obsolete | VersionState::Withdrawn
            ),
        next_review: doc
            .next_review_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        review_overdue: doc.review_due(today),
        review_months: doc.review_months,
        doc_type: doc.doc_type.label(),
        owner: name_of(&names, doc.owner_id),
        product,
        product_href: doc.product_id.map(|p| format!("/products/{p}")),
        can_edit,
        draft,
        can_correct,
        doc_version: doc.version,
        form,
        can_revise,
        versions: versions
            .iter()
            .map(|x| VersionRow {
                number: x.number,
                href: format!("/documents/{}/v/{}", doc.id, x.number),
                state: x.state.label(),
                state_name: x.state.as_str(),
                effective_from: x.effective_from.map(|d| d.to_string()).unwrap_or_default(),
                change_reason: x.change_reason.clone(),
                author: name_of(&names, x.author_id),
                approver: x
                    .approver_id
                    .map(|a| name_of(&names, a))
                    .unwrap_or_default(),
                current: x.id == v.id,
            })
            .collect(),
        redline_href,
        history,
        doc_history_href: format!("/audit?type=document&record=doc-{}", doc.id),
        signatures,
        commits: commits
            .iter()
            .map(crate::web::views::CommitView::new)
            .collect(),
        commits_of: doc.key(),
        commits_hint: format!("Refs: {}", doc.key()),
        commits_unlink: None,
        attachments,
        linked: linked
            .into_iter()
            .map(|l| LinkedView {
                link_id: l.link_id,
                label: l.label,
                href: l.href,
                relation: l.relation,
                about: l.about,
            })
            .collect(),
        can_link,
        carry_items: carry_items
            .into_iter()
            .map(|(id, label)| Choice {
                value: id.to_string(),
                label,
                selected: false,
            })
            .collect(),
        carried,
    };
    html_status(status, &page)
}

/// The action items version `id` is named as carrying out (`CAPA-3 item`,
/// the item's place on its CAPA's page).
fn carried_items(conn: &mut DbConnection, id: i64) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for l in crate::db::repo::links::of(conn, "document_version", &format!("docv-{id}"))? {
        if l.relation != "carried_out_by" {
            continue;
        }
        let Some(item) = l
            .from_id
            .strip_prefix("capa-item-")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        if let Some(stored) = crate::db::repo::capas::find_item(conn, item)? {
            let numbers = crate::db::repo::capas::item_numbers(conn, &[stored.capa_id])?;
            let n = numbers.get(&item).copied().unwrap_or_default();
            out.push((
                format!("CAPA-{} item {n}", stored.capa_id),
                format!("/capas/{}#item-{n}", stored.capa_id),
            ));
        }
    }
    Ok(out)
}

/// `POST /document-versions/{id}/draft`
pub async fn save_draft(
    state: web::Data<AppState>,
    r: WithRole<Authors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (r.session(), path.into_inner());
    let (data, version) = DraftData::sent(&pairs)?;
    let rejected = data.typed(Rejected::named("draft"));
    let today = state.clock.now().date_naive();
    let loaded = state
        .read(move |conn| repo::find_version(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    let fields = match DraftFields::parse(
        loaded.number,
        loaded.author_id,
        (&data.title, &data.body),
        (&data.change_reason, &data.change_summary),
        (&data.reviewers, &data.approver),
        (&data.effective_on, &data.training_required),
        today,
    ) {
        Ok(f) => f,
        Err(errors) => {
            let sent = Sent::of(rejected.fields(errors));
            return version_page(&state, s, id, Some(data), sent, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let account = s.account.clone();
    let saved = state
        .db(move |conn| {
            Ok(service::edit_draft(
                conn,
                &ctx,
                (id, version),
                fields,
                &account,
            ))
        })
        .await?;
    match saved {
        Ok(v) => {
            flash(&state, s, "ok", &format!("{} saved.", v.key())).await?;
            Ok(see_other(&format!("{}#content", DocWorkflow::page(&v))))
        }
        Err(e) => {
            let record = Some(("document_version", id, version));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            version_page(&state, s, id, Some(data), Sent::of(rejected), status).await
        }
    }
}

/// A form read as pairs only (its fields are checked by the handler).
#[derive(Deserialize)]
pub struct IgnoredFields {}

/// `POST /documents/{n}/revise`
pub async fn revise(
    state: web::Data<AppState>,
    r: WithRole<Authors>,
    OpId(op): OpId,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (s, doc) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let account = s.account.clone();
    let made = state
        .db(move |conn| Ok(service::revise(conn, &ctx, doc, &account)))
        .await?;
    match made {
        Ok(v) => {
            flash(
                &state,
                s,
                "ok",
                &format!("{} started as a draft from the version before it: say why it changes, edit it and send it for review.", v.key()),
            )
            .await?;
            Ok(see_other(&format!("{}#content", DocWorkflow::page(&v))))
        }
        Err(RecordError::Conflict(why)) => {
            flash(&state, s, "error", &why).await?;
            Ok(see_other(&format!("/documents/{doc}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /documents/{n}/edit`
pub async fn correct(
    state: web::Data<AppState>,
    qm: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<DocFormData>,
) -> Result<HttpResponse, AppError> {
    let (s, doc_id) = (qm.session(), path.into_inner());
    let version = f.version.unwrap_or_default();
    let rejected = Rejected::named("document").typed_each(&[
        ("owner", &f.owner),
        ("product_id", &f.product_id),
        ("review_months", &f.review_months),
        ("reason", &f.reason),
    ]);
    let shown = state.read(move |conn| shown_version(conn, doc_id)).await?;
    let doc = state
        .read(move |conn| repo::find_document(conn, doc_id)?.ok_or(AppError::NotFound))
        .await?;
    let fields = match DocFields::parse(
        &doc.title,
        doc.doc_type.as_str(),
        &f.owner,
        &f.product_id,
        &f.review_months,
    ) {
        Ok(fields) => fields,
        Err(errors) => {
            let sent = Sent::of(rejected.fields(errors));
            return version_page(&state, s, shown, None, sent, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let reason = f.reason.clone();
    let saved = state
        .db(move |conn| {
            Ok(service::correct(
                conn,
                &ctx,
                (doc_id, version),
                fields,
                &reason,
            ))
        })
        .await?;
    match saved {
        Ok(d) => {
            flash(&state, s, "ok", &format!("{} corrected.", d.key())).await?;
            Ok(see_other(&format!("/documents/{doc_id}")))
        }
        Err(e) => {
            let record = Some(("document", doc_id, version));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            version_page(&state, s, shown, None, Sent::of(rejected), status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    version: i64,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Document version steps on the one step handler (`web::step`).
impl WebWorkflow for DocWorkflow {
    const AREA: &'static str = "document-versions";
    type Form = ActionForm;

    fn form_version(f: &ActionForm) -> i64 {
        f.version
    }

    fn input(f: &ActionForm) -> Result<DocInput, AppError> {
        Ok(DocInput {
            comment: text(f.comment.as_ref()),
            reason: text(f.reason.as_ref()),
        })
    }

    fn title(v: &DocVersion) -> String {
        v.title.clone()
    }

    fn signed_fields(
        conn: &mut DbConnection,
        v: &DocVersion,
    ) -> Result<Vec<SignedField>, AppError> {
        let mut ids = v.reviewers.clone();
        ids.push(v.author_id);
        ids.extend(v.approver_id);
        let names = users::names(conn, &ids)?;
        let field = |label, value: String| SignedField { label, value };
        let body = if v.body.chars().count() > 2_000 {
            let head: String = v.body.chars().take(2_000).collect();
            format!(
                "{head}… ({} characters in all; the whole body is on the version's page and bound by its SHA-256)",
                v.body.chars().count()
            )
        } else {
            v.body.clone()
        };
        let mut out = vec![
            field("Document", format!("{} ({})", v.key(), v.doc_type.label())),
            field("Title", v.title.clone()),
            field("Author", name_of(&names, v.author_id)),
            field(
                "Reviewers",
                v.reviewers
                    .iter()
                    .map(|r| name_of(&names, *r))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            field(
                "Approver",
                v.approver_id
                    .map(|a| name_of(&names, a))
                    .unwrap_or_default(),
            ),
            field(
                "Effective",
                v.effective_on
                    .map_or("on approval".into(), |d| format!("on {d}")),
            ),
            field(
                "Training required",
                if v.training_required { "Yes" } else { "No" }.into(),
            ),
        ];
        if v.number >= 2 {
            out.push(field("Change reason", v.change_reason.clone()));
            out.push(field("Summary of changes", v.change_summary.clone()));
        }
        out.push(field("Body (Markdown)", body));
        for f in &v.files {
            out.push(field(
                "File",
                format!("{} ({} bytes, SHA-256 {})", f.name, f.size, f.sha256),
            ));
        }
        Ok(out)
    }

    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        rejected: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        version_page(state, s, id, None, Sent::of(rejected), status).await
    }

    fn page(v: &DocVersion) -> String {
        format!("/documents/{}/v/{}", v.document_id, v.number)
    }

    /// An approval may have made the version effective in the same
    /// transaction: say where it stands now.
    async fn done(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        v: &DocVersion,
        _action: &str,
    ) -> Result<HttpResponse, AppError> {
        let id = v.id;
        let now = state
            .read(move |conn| repo::find_version(conn, id)?.ok_or(AppError::NotFound))
            .await?;
        let mut words = format!("{} is now {}.", now.key(), now.state.label().to_lowercase());
        if now.state == VersionState::Effective && v.state == VersionState::Approved {
            words.push_str(" The version before it, if any, is superseded.");
        }
        flash(state, s, "ok", &words).await?;
        Ok(see_other(&Self::page(&now)))
    }
}

/// The query of the redline.
#[derive(Deserialize)]
pub struct RedlineQuery {
    from: Option<i64>,
    to: Option<i64>,
    view: Option<String>,
}

/// `GET /documents/{n}/redline?from=&to=&view=side`: what changed between
/// two versions; by default from the effective version (else the one
/// before) to the newest.
pub async fn redline(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<RedlineQuery>,
) -> Result<HttpResponse, AppError> {
    let doc_id = path.into_inner();
    let q = query.into_inner();
    let (doc, versions, names) = state
        .read(move |conn| {
            let doc = repo::find_document(conn, doc_id)?.ok_or(AppError::NotFound)?;
            let versions = repo::versions_of(conn, &doc)?;
            let ids: Vec<i64> = versions
                .iter()
                .flat_map(|v| v.reviewers.iter().copied().chain(v.approver_id))
                .collect();
            let names = users::names(conn, &ids)?;
            Ok::<_, AppError>((doc, versions, names))
        })
        .await?;
    let newest = versions.first().map_or(0, |v| v.number);
    let effective = versions
        .iter()
        .find(|v| v.state == VersionState::Effective)
        .map(|v| v.number);
    let to = q.to.unwrap_or(newest);
    let from = q.from.unwrap_or(match effective {
        Some(e) if e != to => e,
        _ => (to - 1).max(1),
    });
    let find = |n: i64| {
        versions
            .iter()
            .find(|v| v.number == n)
            .ok_or_else(|| AppError::BadRequest(format!("{} has no version v{n}", doc.key())))
    };
    let (old, new) = (find(from)?, find(to)?);
    let r = crate::domain::redline::compare(&old.body, &new.body);
    let run = |x: &crate::domain::redline::Run| RunView {
        mark: match x.mark {
            crate::domain::redline::Mark::Same => "same",
            crate::domain::redline::Mark::Removed => "del",
            crate::domain::redline::Mark::Added => "ins",
        },
        text: x.text.clone(),
    };
    let people = |v: &DocVersion| {
        v.reviewers
            .iter()
            .map(|r| name_of(&names, *r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let files = |v: &DocVersion| {
        v.files
            .iter()
            .map(|f| format!("{} ({})", f.name, &f.sha256[..12.min(f.sha256.len())]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let meta: Vec<(&'static str, String, String)> = [
        ("Title", old.title.clone(), new.title.clone()),
        ("Files", files(old), files(new)),
        ("Reviewers", people(old), people(new)),
        (
            "Training required",
            old.training_required.to_string(),
            new.training_required.to_string(),
        ),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .collect();
    html(&RedlinePage {
        ctx: page_ctx(&state, &user.0, "/documents").await?,
        key: doc.key(),
        doc_id: doc.id,
        title: new.title.clone(),
        from,
        to,
        from_state: old.state.label(),
        to_state: new.state.label(),
        numbers: versions.iter().rev().map(|v| v.number).collect(),
        side: q.view.as_deref() == Some("side"),
        summary: r.summary.words(),
        meta,
        inline: r.inline.iter().map(run).collect(),
        lines: r
            .side
            .iter()
            .map(|l| SideView {
                old: l.old.iter().map(run).collect(),
                new: l.new.iter().map(run).collect(),
                changed: l.changed,
            })
            .collect(),
    })
}

/// `GET /documents/{n}/v/{number}/print`: the controlled copy, printed
/// with its header block, signatures page and revision history, marked by
/// its state and "uncontrolled after" the day it is printed (audited).
pub async fn print(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (doc_id, number) = path.into_inner();
    let ctx = user_ctx(&state, s, op);
    let (doc, v, versions, names, checked) = state
        .db(move |conn| {
            let id = repo::version_id(conn, doc_id, number)?.ok_or(AppError::NotFound)?;
            let v = repo::find_version(conn, id)?.ok_or(AppError::NotFound)?;
            let doc = repo::find_document(conn, doc_id)?.ok_or(AppError::NotFound)?;
            let versions = repo::versions_of(conn, &doc)?;
            let checked = super::signatures::checked_of::<DocWorkflow>(conn, &v)?;
            let mut ids = vec![doc.owner_id];
            ids.extend(versions.iter().filter_map(|x| x.approver_id));
            let names = users::names(conn, &ids)?;
            // Who printed which copy, and when (ISO 13485 4.2.4 distribution).
            let entry = ctx
                .entry("document_version.printed")
                .entity(DocWorkflow::entity(&v));
            crate::db::write_tx(conn, |conn| {
                crate::audit::append(conn, &entry).map_err(RecordError::from)
            })?;
            Ok::<_, AppError>((doc, v, versions, names, checked))
        })
        .await?;
    let now = state.clock.now();
    let content_sha256 =
        crate::service::workflow::content_hash::<DocWorkflow>(&v).map_err(AppError::from)?;
    let signatures = checked
        .iter()
        .map(|c| match &c.outcome {
            Ok(m) => PrintedSignature {
                name: m.signer.name.clone(),
                at: m.signed_at.clone(),
                meaning: m.meaning.clone(),
                verified: true,
                why: String::new(),
            },
            Err(why) => PrintedSignature {
                name: String::new(),
                at: String::new(),
                meaning: String::new(),
                verified: false,
                why: why.clone(),
            },
        })
        .collect();
    html(&PrintPage {
        ctx: page_ctx(&state, s, "/documents").await?,
        doc_id: doc.id,
        key: doc.key(),
        number: v.number,
        title: v.title.clone(),
        doc_type: v.doc_type.label(),
        state: v.state.label(),
        effective: match (v.effective_from, v.effective_on) {
            (Some(d), _) => d.to_string(),
            (None, Some(d)) => format!("planned for {d}"),
            (None, None) => "on approval".into(),
        },
        owner: name_of(&names, doc.owner_id),
        mark: v.state.mark(),
        printed_on: now.date_naive().to_string(),
        printed_by: s.account.full_name.clone(),
        body_html: if v.body.trim().is_empty() {
            String::new()
        } else {
            crate::web::markdown::render(&v.body)
        },
        files: file_rows(&v),
        signatures,
        history: versions
            .iter()
            .rev()
            .map(|x| {
                (
                    x.number,
                    x.effective_from.map(|d| d.to_string()).unwrap_or_default(),
                    x.change_reason.clone(),
                    x.approver_id
                        .map(|a| name_of(&names, a))
                        .unwrap_or_default(),
                    x.state.label(),
                )
            })
            .collect(),
        content_sha256,
    })
}

/// `POST /documents/exports`: the filtered master list (every page) as CSV
/// or XLSX, kept byte for byte with its manifest signed by the log key and
/// audited with its filters and SHA-256; a checkpoint holding its entry is
/// signed at once, so the manifest can be downloaded straight away.
pub async fn export(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (query, format) = export_request(pairs, PARAMS)?;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let (filter, order) = filter_of(&q, state.clock.today())?;
    let mut described: Vec<String> = query
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    described.sort();
    let ctx = user_ctx(&state, s, op);
    let key = state.log_key.clone();
    let id = state
        .db(move |conn| {
            Ok(service::export_list(
                conn,
                &ctx,
                &key,
                (&filter, order),
                &described,
                format,
            )?)
        })
        .await?;
    state.checkpoint().await?;
    flash(
        &state,
        s,
        "ok",
        "Exported: download the file and its signed manifest below.",
    )
    .await?;
    Ok(see_other(&format!("/documents/exports#export-{id}")))
}

/// An export form: the list's filters (`params`) and the format asked for;
/// any other field, or a format that is not CSV or XLSX, is a 400.
pub fn export_request(
    pairs: Vec<(String, String)>,
    params: &[&str],
) -> Result<(HashMap<String, String>, service::ListFormat), AppError> {
    let mut query: HashMap<String, String> = HashMap::new();
    let mut format = String::new();
    for (k, v) in pairs {
        match k.as_str() {
            "format" => format = v,
            k if params.contains(&k) => {
                query.insert(k.to_string(), v);
            }
            other => {
                return Err(AppError::BadRequest(format!(
                    "The form could not be accepted: unknown field `{other}`"
                )));
            }
        }
    }
    let format = match format.as_str() {
        "csv" => service::ListFormat::Csv,
        "xlsx" => service::ListFormat::Xlsx,
        other => {
            return Err(AppError::BadRequest(format!(
                "There is no export format {other:?}"
            )));
        }
    };
    Ok((query, format))
}

/// `GET /documents/exports`: the master list's exports, newest first.
pub async fn exports(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    kept_exports(
        &state,
        &user.0,
        &query,
        ("documents", "the document master list"),
        ("/documents", "Documents"),
    )
    .await
}

/// A page of the kept exports of `subject`, newest first.
pub async fn kept_exports(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    query: &HashMap<String, String>,
    (subject, of): (&'static str, &'static str),
    back: (&'static str, &'static str),
) -> Result<HttpResponse, AppError> {
    let q = ListQuery::read(query, &[], PerPage::Fixed(PER_PAGE))?;
    let (offset, limit) = (q.offset(), q.per_page);
    let (rows, total, names) = state
        .read(move |conn| {
            let (rows, total) = repo::exports(conn, subject, offset, limit)?;
            let ids: Vec<i64> = rows.iter().filter_map(|r| r.created_by).collect();
            let names = users::names(conn, &ids)?;
            Ok::<_, AppError>((rows, total, names))
        })
        .await?;
    let base = match subject {
        "training" => "/training/exports",
        "risks" => "/risk-exports",
        _ => "/documents/exports",
    };
    let pages = q.pages(base, total);
    html(&ExportsPage {
        ctx: page_ctx(state, s, back.0).await?,
        of,
        back,
        base,
        verify: format!(
            "attest verify-export FILE FILE.manifest.json --key '{}'",
            state.log_vkey
        ),
        rows: rows
            .into_iter()
            .map(|r| ExportView {
                id: r.id,
                file_name: r.file_name,
                format: r.format,
                filters: r.filters,
                rows: r.rows,
                sha256: r.sha256,
                bytes: size_text(r.bytes),
                by: r
                    .created_by
                    .map(|u| name_of(&names, u))
                    .unwrap_or_else(|| "system".into()),
                at: crate::audit::format_time(crate::db::utc(r.created_at)),
            })
            .collect(),
        pages,
    })
}

/// `GET /documents/exports/{id}/file`: the exact bytes exported.
pub async fn export_file(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    kept_file(&state, path.into_inner(), "documents").await
}

/// The exact bytes of kept export `id` of `subject`.
pub async fn kept_file(
    state: &web::Data<AppState>,
    id: i64,
    subject: &'static str,
) -> Result<HttpResponse, AppError> {
    let (e, content) = state
        .read(move |conn| {
            let e = repo::find_export(conn, id)?
                .filter(|e| e.subject == subject)
                .ok_or(AppError::NotFound)?;
            let content = repo::export_content(conn, id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>((e, content))
        })
        .await?;
    let mime = if e.format == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    Ok(super::trace::attachment(&e.file_name, mime, content))
}

/// `GET /documents/exports/{id}/manifest`: the signed manifest file.
pub async fn export_manifest(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    kept_manifest(&state, path.into_inner(), "documents").await
}

/// The signed manifest of kept export `id` of `subject`.
pub async fn kept_manifest(
    state: &web::Data<AppState>,
    id: i64,
    subject: &'static str,
) -> Result<HttpResponse, AppError> {
    let vkey = state.log_vkey.clone();
    let file = state
        .db(move |conn| {
            let e = repo::find_export(conn, id)?
                .filter(|e| e.subject == subject)
                .ok_or(AppError::NotFound)?;
            crate::service::exports::manifest_of(
                conn,
                &vkey,
                (e.audit_seq, &e.manifest, &e.file_name),
            )
            .map_err(AppError::from)
        })
        .await?;
    super::trace::manifest_answer(file)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkForm {
    #[serde(default)]
    key: String,
}

/// The version page to show a document's forms on again.
async fn page_again(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    doc: i64,
    rejected: Rejected,
    e: RecordError,
) -> Result<HttpResponse, AppError> {
    let shown = state.read(move |conn| shown_version(conn, doc)).await?;
    let (status, rejected) = super::refused_form(state, s, e, rejected, None).await?;
    version_page(state, s, shown, None, Sent::of(rejected), status).await
}

/// `POST /documents/{n}/links`: links the document to a CAPA, a
/// nonconformance or a requirement by its key.
pub async fn link(
    state: web::Data<AppState>,
    r: WithRole<Authors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let (s, doc) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let account = s.account.clone();
    let key = f.key.clone();
    let done = state
        .db(move |conn| Ok(service::link(conn, &ctx, doc, &key, &account)))
        .await?;
    match done {
        Ok(label) => {
            flash(&state, s, "ok", &format!("DOC-{doc} linked to {label}.")).await?;
            Ok(see_other(&format!("/documents/{doc}#links")))
        }
        Err(e) => {
            let rejected = Rejected::named("link").typed("key", &f.key);
            page_again(&state, s, doc, rejected, e).await
        }
    }
}

/// `POST /documents/{n}/links/{link}/remove`
pub async fn unlink(
    state: web::Data<AppState>,
    r: WithRole<Authors>,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (s, (doc, link)) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let account = s.account.clone();
    state
        .db(move |conn| Ok(service::unlink(conn, &ctx, doc, link, &account)?))
        .await?;
    flash(&state, s, "ok", "Link removed (kept in the History).").await?;
    Ok(see_other(&format!("/documents/{doc}#links")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarriesOutForm {
    #[serde(default)]
    item: String,
}

/// `POST /document-versions/{id}/carries-out`: names this version as the
/// revision that carries out an action item of a linked CAPA.
pub async fn carries_out(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<CarriesOutForm>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    let Ok(item) = f.item.trim().parse::<i64>() else {
        let rejected = Rejected::named("carries")
            .typed("item", &f.item)
            .problem("item", "Choose an action item from the list.");
        return version_page(
            &state,
            s,
            id,
            None,
            Sent::of(rejected),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let ctx = user_ctx(&state, s, op.clone());
    let account = s.account.clone();
    let done = state
        .db(move |conn| Ok(service::carries_out(conn, &ctx, id, item, &account)))
        .await?;
    match done {
        Ok(()) => {
            flash(
                &state,
                s,
                "ok",
                "The CAPA's action item now names this version.",
            )
            .await?;
            let v = state
                .read(move |conn| repo::find_version(conn, id)?.ok_or(AppError::NotFound))
                .await?;
            Ok(see_other(&format!("{}#links", DocWorkflow::page(&v))))
        }
        Err(e) => {
            if let RecordError::Refused(r @ crate::domain::workflow::Refused::Role { .. }) = &e {
                let path = format!("/document-versions/{id}/carries-out");
                super::deny(&state, s, op, None, "POST", path, r.to_string()).await?;
                return Err(AppError::Forbidden(r.to_string()));
            }
            let rejected = Rejected::named("carries").typed("item", &f.item);
            let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
            version_page(&state, s, id, None, Sent::of(rejected), status).await
        }
    }
}
