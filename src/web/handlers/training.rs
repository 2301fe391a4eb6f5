//! Training pages (ISO 13485 6.2): the matrix (quality, auditors,
//! administrators), "My training" and each assignment's record page (the
//! trainee reads the version, passes its quiz and signs *Read and
//! understood* through the one step handler and signing ceremony), a
//! person's training record and its print view, curricula and settings
//! (quality), the quiz editor of a version (its document's owner or
//! quality), and the matrix's exports.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::documents::IgnoredFields;
use super::{deny, flash, html, html_status, page_ctx, see_other, user_ctx};
use crate::db::DbConnection;
use crate::db::repo::{documents as docs, training as repo, users};
use crate::domain::training::{
    Assignment, AssignmentState, Cell, GateMode, QuestionInput, TrainingInput, TrainingWorkflow,
    parse_due_days, parse_quiz,
};
use crate::domain::user::{Role, Roles};
use crate::domain::workflow::{Refused, Who};
use crate::service::error::RecordError;
use crate::service::training::{self as service, Curriculum, MatrixFilter, Settings};
use crate::web::AppState;
use crate::web::csrf::Typed;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, RoleSet, WithRole};
use crate::web::list::{ListQuery, PerPage};
use crate::web::record::{Fact, RecordHead, Section, next_steps};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::step::WebWorkflow;
use crate::web::views::audit::Choice;
use crate::web::views::signatures::SignedField;
use crate::web::views::training::*;

/// Who reads the matrix and everyone's training records.
pub struct TrainingReaders;
impl RoleSet for TrainingReaders {
    const ROLES: &'static [Role] = &[Role::Quality, Role::Auditor, Role::Admin];
}

/// Who sets curricula and the training settings.
pub struct TrainingManagers;
impl RoleSet for TrainingManagers {
    const ROLES: &'static [Role] = &[Role::Quality];
}

const PER_PAGE: i64 = 25;
const PERSON_ONLY: &str =
    "a training record is for its person, quality, auditors and administrators";
const TRAINEE_ONLY: &str =
    "a training assignment is for its trainee, quality, auditors and administrators";
pub const PARAMS: &[&str] = &["role", "person", "document", "state"];

pub fn filter_of(q: &ListQuery) -> Result<MatrixFilter, AppError> {
    let bad = |what: &str, v: &str| AppError::BadRequest(format!("There is no {what} {v:?}"));
    let number = |k: &str, prefix: &str| -> Result<Option<i64>, AppError> {
        let v = q.get(k);
        if v.is_empty() {
            return Ok(None);
        }
        let n = v
            .strip_prefix(prefix)
            .or_else(|| v.strip_prefix(&prefix.to_uppercase()))
            .unwrap_or(v);
        n.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| bad(k, v))
    };
    Ok(MatrixFilter {
        role: match q.get("role") {
            "" => None,
            v => Some(Role::parse(v).ok_or_else(|| bad("role", v))?),
        },
        person: number("person", "u-")?,
        document: number("document", "doc-")?,
        cell: match q.get("state") {
            "" => None,
            v => Some(Cell::parse(v).ok_or_else(|| bad("training standing", v))?),
        },
    })
}

fn choices<T: Copy>(
    all: impl IntoIterator<Item = T>,
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
    selected: &str,
) -> Vec<Choice> {
    all.into_iter()
        .map(|t| Choice {
            selected: value(t) == selected,
            value: value(t),
            label: label(t),
        })
        .collect()
}

/// A page of the matrix with its filters' choices.
pub struct MatrixData {
    pub m: service::Matrix,
    pub people: Vec<(i64, String, String, Roles)>,
    pub documents: Vec<(i64, String)>,
}

/// Pages of the matrix by filters, page and day, kept until the data changes.
pub type MatrixCache = crate::service::KeptUntilDataChanges<String, MatrixData>;

/// `GET /training`: the matrix, people × documents, grouped by role.
pub async fn matrix(
    state: web::Data<AppState>,
    r: WithRole<TrainingReaders>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let filter = filter_of(&q)?;
    let today = state.clock.now().date_naive();
    let cache = state.training.clone();
    let (offset, limit) = (q.offset(), q.per_page);
    let key = format!("{filter:?}|{today}|{offset}|{limit}");
    let data = state
        .read(move |conn| {
            cache.get(conn, key, |conn| {
                let page = (
                    usize::try_from(offset).unwrap_or(0),
                    usize::try_from(limit).unwrap_or(0),
                );
                let m = service::matrix(conn, &filter, today, Some(page))?;
                let people = repo::active_people(conn)?;
                let ids = repo::trained_documents(conn)?;
                let titles = repo::document_titles(conn, &ids)?;
                let documents: Vec<(i64, String)> = ids
                    .into_iter()
                    .map(|d| (d, titles.get(&d).cloned().unwrap_or_default()))
                    .collect();
                Ok::<_, AppError>(MatrixData {
                    m,
                    people,
                    documents,
                })
            })
        })
        .await?;
    let (m, people, documents) = (&data.m, &data.people, &data.documents);
    let total = i64::try_from(m.total).unwrap_or(i64::MAX);
    let shown: Vec<&service::MatrixRow> = m.rows.iter().collect();
    let (first, last) = q.shown(shown.len());
    let mut groups: Vec<MatrixGroup> = Vec::new();
    for row in shown {
        let label = row
            .group
            .map_or("No role".to_string(), |g| g.label().to_string());
        if groups.last().is_none_or(|g| g.label != label) {
            groups.push(MatrixGroup {
                label,
                rows: Vec::new(),
            });
        }
        let cells = row
            .cells
            .iter()
            .map(|c| match c {
                None => CellView {
                    state: "",
                    label: String::new(),
                    href: String::new(),
                },
                Some(c) => CellView {
                    state: c.cell.as_str(),
                    label: match c.cell {
                        Cell::Current => format!("v{}", c.version),
                        Cell::Superseded => {
                            format!("v{}→v{}", c.trained_before.unwrap_or(0), c.version)
                        }
                        Cell::NotRequired => "n/r".into(),
                        _ => c.due_on.format("%d %b").to_string(),
                    },
                    href: format!("/training/{}", c.assignment),
                },
            })
            .collect();
        if let Some(g) = groups.last_mut() {
            g.rows.push(MatrixRowView {
                name: row.name.clone(),
                username: row.username.clone(),
                roles: row
                    .roles
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                record_href: format!("/training/people/{}", row.user_id),
                cells,
            });
        }
    }
    let kept: Vec<(&'static str, String)> = PARAMS
        .iter()
        .map(|k| (*k, q.get(k).to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let counts = Cell::ALL
        .into_iter()
        .map(|c| {
            let mut params: Vec<String> = kept
                .iter()
                .filter(|(k, _)| *k != "state")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            params.push(format!("state={}", c.as_str()));
            CountView {
                state: c.as_str(),
                label: c.label(),
                n: m.counts.get(&c).copied().unwrap_or(0),
                href: format!("/training?{}", params.join("&")),
            }
        })
        .collect();
    let roles = &s.account.roles;
    html(&MatrixPage {
        ctx: page_ctx(&state, s, "/training").await?,
        columns: m
            .documents
            .iter()
            .map(|d| ColumnView {
                key: format!("DOC-{}", d.id),
                title: d.title.clone(),
                in_force: d.in_force.map(|v| format!("v{v}")).unwrap_or_default(),
                href: format!("/documents/{}", d.id),
            })
            .collect(),
        groups,
        counts,
        roles: choices(
            service::GROUP_ORDER,
            |r| r.as_str().to_string(),
            |r| r.label().to_string(),
            q.get("role"),
        ),
        people: people
            .iter()
            .map(|p| Choice {
                value: p.0.to_string(),
                label: format!("{} ({})", p.1, p.2),
                selected: q.get("person") == p.0.to_string(),
            })
            .collect(),
        documents: documents
            .iter()
            .map(|(d, t)| Choice {
                value: d.to_string(),
                label: format!("DOC-{d} {t}"),
                selected: q.get("document") == d.to_string(),
            })
            .collect(),
        states: choices(
            Cell::ALL,
            |c| c.as_str().to_string(),
            |c| c.label().to_string(),
            q.get("state"),
        ),
        filtered: q.filtered(),
        total,
        first,
        last,
        pages: q.pages("/training", total),
        kept,
        can_manage: roles.contains(Role::Quality),
        can_export: roles.has_any(TrainingReaders::ROLES),
    })
}

fn row_of(
    a: &Assignment,
    today: chrono::NaiveDate,
    signature: Option<crate::web::views::signatures::SignatureView>,
) -> AssignmentRow {
    let cell = a.cell(today);
    AssignmentRow {
        id: a.id,
        key: a.key(),
        document: a.doc_key(),
        document_href: format!("/documents/{}", a.document_id),
        title: a.title.clone(),
        version: a.version_number,
        state: cell.map_or("replaced", Cell::as_str),
        standing: cell.map_or("Superseded by a newer version".into(), |c| {
            c.label().to_string()
        }),
        due_on: a.due_on.to_string(),
        overdue: cell == Some(Cell::Overdue),
        acknowledged_at: a
            .acknowledged_at
            .map(crate::audit::format_time)
            .unwrap_or_default(),
        because: a.because.clone(),
        quiz_score: a.quiz_score.clone(),
        signature,
    }
}

/// A person's assignments with each signature checked.
fn rows_of(
    conn: &mut DbConnection,
    user: i64,
    roles: &Roles,
    today: chrono::NaiveDate,
) -> Result<Vec<AssignmentRow>, AppError> {
    let all = repo::of_person(conn, user)?;
    let ids: Vec<String> = all.iter().map(|a| format!("trn-{}", a.id)).collect();
    let stored = crate::db::repo::signatures::for_records(conn, "training_assignment", &ids)?;
    let checked = crate::service::verification::check_all(conn, stored, None)?;
    let mut by_record: HashMap<String, crate::web::views::signatures::SignatureView> =
        HashMap::new();
    for c in &checked {
        by_record.insert(
            c.stored.record_id.clone(),
            super::signatures::view(c, roles),
        );
    }
    Ok(all
        .iter()
        .map(|a| row_of(a, today, by_record.remove(&format!("trn-{}", a.id))))
        .collect())
}

/// `GET /training/mine`: what I am to read, and what I am trained on.
pub async fn mine(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (me, roles) = (s.account.id.0, s.account.roles.clone());
    let today = state.clock.now().date_naive();
    let rows = state
        .read(move |conn| rows_of(conn, me, &roles, today))
        .await?;
    // Superseded assignments stay on the person's training record only.
    let (mut to_do, done): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .filter(|r| r.state != "replaced")
        .partition(|r| matches!(r.state, "due" | "overdue" | "superseded"));
    to_do.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.due_on.cmp(&b.due_on)));
    html(&MinePage {
        ctx: page_ctx(&state, s, "/training/mine").await?,
        to_do,
        done,
        record_href: format!("/training/people/{me}"),
    })
}

/// `GET /training/people/{id}` (and `/print`): a person's training record,
/// for the person themselves and for quality, auditors and administrators.
pub async fn person(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    person_page(state, user, op, path.into_inner(), false).await
}

pub async fn person_print(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    person_page(state, user, op, path.into_inner(), true).await
}

async fn person_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    op: Option<String>,
    id: i64,
    print: bool,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let roles = s.account.roles.clone();
    let path = format!("/training/people/{id}{}", if print { "/print" } else { "" });
    if s.account.id.0 != id && !roles.has_any(TrainingReaders::ROLES) {
        let entity = Some(crate::audit::EntityRef {
            kind: "user".into(),
            id: format!("u-{id}"),
            key: format!("u-{id}"),
            version: 0,
        });
        deny(&state, s, op, entity, "GET", path, PERSON_ONLY.into()).await?;
        return Err(AppError::Forbidden(PERSON_ONLY.into()));
    }
    let today = state.clock.now().date_naive();
    let ctx = user_ctx(&state, s, op);
    let (account, rows) = state
        .db(move |conn| {
            let account =
                users::find(conn, crate::domain::ids::UserId(id))?.ok_or(AppError::NotFound)?;
            let rows = rows_of(conn, id, &roles, today)?;
            if print {
                let entry = ctx
                    .entry("training.record_printed")
                    .entity(crate::service::accounts::entity(&account))
                    .after(serde_json::json!({"assignments": rows.len()}));
                crate::db::write_tx(conn, |conn| crate::audit::append(conn, &entry))?;
            }
            Ok::<_, AppError>((account, rows))
        })
        .await?;
    html(&PersonPage {
        ctx: page_ctx(&state, s, "/training").await?,
        name: account.full_name.clone(),
        username: account.username.clone(),
        roles: account
            .roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", "),
        rows,
        print,
        printed_at: crate::audit::format_time(state.clock.now()),
        print_href: format!("/training/people/{id}/print"),
    })
}

const SECTIONS: [Section; 4] = [
    Section {
        anchor: "content",
        label: "The version",
    },
    Section {
        anchor: "quiz",
        label: "Quiz",
    },
    Section {
        anchor: "signatures",
        label: "Signature",
    },
    Section {
        anchor: "history",
        label: "History",
    },
];

/// `GET /training/{id}`: an assignment's record page. The trainee's first
/// visit records that they opened the version.
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let s = &user.0;
    let me = s.account.id.0;
    let owner = state
        .read(move |conn| Ok::<_, AppError>(repo::find(conn, id)?.map(|a| a.user_id)))
        .await?
        .ok_or(AppError::NotFound)?;
    if owner == me {
        let ctx = user_ctx(&state, s, op.clone());
        state
            .db(move |conn| Ok(service::opened(conn, &ctx, id, me)?))
            .await?;
    }
    assignment_page(&state, s, op, id, Sent::none(), StatusCode::OK).await
}

async fn assignment_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    op: Option<String>,
    id: i64,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let me = s.account.id.0;
    let histories = state.histories.clone();
    let asks = state.signature_requests.clone();
    let loaded = {
        let roles = roles.clone();
        state
            .read(move |conn| {
                let a = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
                if a.user_id != me && !roles.has_any(TrainingReaders::ROLES) {
                    return Ok(Err(a));
                }
                let asks = crate::web::ask::on_record::<TrainingWorkflow>(conn, &asks, &a)?;
                let v = docs::find_version(conn, a.version_id)?.ok_or(AppError::NotFound)?;
                let files = crate::db::repo::attachments::of_record(
                    conn,
                    "document_version",
                    &format!("docv-{}", v.id),
                )?;
                let quiz = repo::quiz(conn, a.version_id)?.map(|(q, _)| q);
                let attempts = repo::attempts(conn, a.id)?;
                let signatures = super::signatures::panel_of::<TrainingWorkflow>(conn, &a, &roles)?;
                let history = super::audit::history_panel(
                    conn,
                    &histories,
                    "training_assignment",
                    &format!("trn-{id}"),
                    &roles,
                )?;
                let signatures = (signatures, asks);
                Ok::<_, AppError>(Ok((a, v, files, quiz, attempts, signatures, history)))
            })
            .await?
    };
    let (a, v, files, quiz, attempts, (signatures, asks), history) = match loaded {
        Ok(l) => l,
        Err(a) => {
            let entity = Some(<TrainingWorkflow as crate::service::workflow::Stored>::entity(&a));
            deny(
                state,
                s,
                op,
                entity,
                "GET",
                format!("/training/{id}"),
                TRAINEE_ONLY.into(),
            )
            .await?;
            return Err(AppError::Forbidden(TRAINEE_ONLY.into()));
        }
    };
    let now = state.clock.now();
    let today = now.date_naive();
    let mut at = a.clone();
    at.now = Some(now);
    let who = Who {
        user: Some(me),
        roles: &roles,
    };
    let mut head = RecordHead::new::<TrainingWorkflow>(
        ("/training/mine", "My training"),
        (a.key(), format!("{} {}", a.version_key(), a.title)),
        a.state,
        &SECTIONS,
        crate::web::record::diagram::<TrainingWorkflow>(&a.key(), a.state),
    );
    let overdue = a.cell(today) == Some(Cell::Overdue);
    head.overdue = overdue;
    head.facts = vec![
        Fact::new("Trainee", format!("{} ({})", a.trainee, a.username))
            .link(Some(format!("/training/people/{}", a.user_id))),
        Fact::new("Due", a.due_on.to_string()).overdue(overdue),
        Fact::new(
            "Opened",
            a.opened_at
                .map(crate::audit::format_time)
                .unwrap_or_default(),
        ),
        Fact::new(
            "Signed",
            a.acknowledged_at
                .map(crate::audit::format_time)
                .unwrap_or_default(),
        ),
    ];
    let next = next_steps::<TrainingWorkflow>(&at, who, format!("/training/{id}"), a.version);
    let next = crate::web::ask::with_requests::<TrainingWorkflow>(next, asks.as_deref(), &at, s);
    let quiz_form = sent.form("quiz").clone();
    let chosen = |qid: i64, i: usize| quiz_form.value(&format!("q{qid}")) == Some(&i.to_string());
    let (questions, pass_mark) = match &quiz {
        Some(q) => (
            q.questions
                .iter()
                .map(|x| QuestionView {
                    id: x.id,
                    n: x.n,
                    text: x.text.clone(),
                    choices: x
                        .choices
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (i, c.clone(), chosen(x.id, i)))
                        .collect(),
                })
                .collect(),
            q.pass_mark,
        ),
        None => (Vec::new(), 0),
    };
    let is_trainee = a.user_id == me;
    let mut sent = sent;
    let mut forms: Vec<String> = next.forms();
    forms.push("quiz".into());
    sent.place(&forms);
    let page = AssignmentPage {
        ctx: page_ctx(state, s, "/training/mine").await?,
        head,
        next,
        id,
        version_href: format!("/documents/{}/v/{}", a.document_id, a.version_number),
        version_key: a.version_key(),
        content_sha256: a.content_sha256.clone(),
        body_empty: v.body.trim().is_empty(),
        body_html: crate::web::markdown::render(&v.body),
        files: files
            .iter()
            .filter(|f| f.removed.is_none())
            .map(|f| {
                (
                    f.name.clone(),
                    format!("/attachments/{}", f.id),
                    f.sha256.clone(),
                )
            })
            .collect(),
        because: a.because.clone(),
        is_trainee,
        quiz_open: is_trainee && a.state == AssignmentState::Assigned && a.opened_at.is_some(),
        quiz_passed: a.quiz_score.clone(),
        questions,
        pass_mark,
        quiz: quiz_form,
        attempts: attempts
            .iter()
            .map(|t| AttemptView {
                at: crate::audit::format_time(t.at),
                score: format!("{} of {} right", t.correct, t.questions),
                passed: t.passed,
            })
            .collect(),
        signatures,
        history,
        sent,
    };
    html_status(status, &page)
}

/// `POST /training/{id}/quiz`: the trainee's answers.
pub async fn quiz(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    let mut answers: BTreeMap<i64, usize> = BTreeMap::new();
    for (k, v) in &pairs {
        let question = k.strip_prefix('q').and_then(|n| n.parse::<i64>().ok());
        let choice = v.parse::<usize>().ok();
        match (question, choice) {
            (Some(q), Some(c)) => {
                answers.insert(q, c);
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "The form could not be accepted: {k}={v:?} is not an answer"
                )));
            }
        }
    }
    let ctx = user_ctx(&state, s, op.clone());
    let me = s.account.id.0;
    let done = state
        .db(move |conn| Ok(service::attempt(conn, &ctx, id, me, &answers)))
        .await?;
    match done {
        Ok(a) if a.passed => {
            flash(
                &state,
                s,
                "ok",
                &format!(
                    "Passed: {}. You can now sign that you have read and understood it.",
                    a.words
                ),
            )
            .await?;
            Ok(see_other(&format!("/training/{id}#next")))
        }
        Ok(a) => {
            flash(
                &state,
                s,
                "error",
                &format!("Not passed: {}. Read the version again and retry.", a.words),
            )
            .await?;
            Ok(see_other(&format!("/training/{id}#quiz")))
        }
        Err(e) => {
            refused(
                &state,
                s,
                op,
                id,
                Rejected::named("quiz").typed_all(&pairs),
                e,
            )
            .await
        }
    }
}

/// A refused quiz attempt, audited (nothing of it was recorded): someone
/// else's assignment is a 403; anything else is the page again with why at
/// the top, the answers kept.
async fn refused(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    op: Option<String>,
    id: i64,
    rejected: Rejected,
    e: RecordError,
) -> Result<HttpResponse, AppError> {
    use crate::service::workflow::Stored;
    let entity = state
        .read(move |conn| {
            Ok::<_, AppError>(repo::find(conn, id)?.map(|a| TrainingWorkflow::entity(&a)))
        })
        .await?;
    let path = format!("/training/{id}/quiz");
    deny(state, s, op.clone(), entity, "POST", path, e.to_string()).await?;
    if let RecordError::Refused(r @ Refused::Role { .. }) = &e {
        return Err(AppError::Forbidden(r.to_string()));
    }
    let (status, rejected) = super::refused_form(state, s, e, rejected, None).await?;
    assignment_page(state, s, op, id, Sent::of(rejected), status).await
}

/// The acknowledgement's form: the record version seen.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StepFields {
    version: i64,
}

impl WebWorkflow for TrainingWorkflow {
    const AREA: &'static str = "training";
    type Form = StepFields;

    fn form_version(f: &StepFields) -> i64 {
        f.version
    }

    fn input(_: &StepFields) -> Result<TrainingInput, AppError> {
        Ok(TrainingInput::default())
    }

    fn title(a: &Assignment) -> String {
        format!("{} {}", a.version_key(), a.title)
    }

    fn signed_fields(
        _conn: &mut DbConnection,
        a: &Assignment,
    ) -> Result<Vec<SignedField>, AppError> {
        let field = |label, value: String| SignedField { label, value };
        let mut out = vec![
            field("Trainee", format!("{} ({})", a.trainee, a.username)),
            field("Document", format!("{} v{}", a.doc_key(), a.version_number)),
            field("Title", a.title.clone()),
            field("Version content SHA-256", a.content_sha256.clone()),
        ];
        if let Some(q) = a.quiz {
            out.push(field(
                "Quiz",
                format!("{} ({} questions)", a.quiz_score, q.questions),
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
        assignment_page(state, s, None, id, Sent::of(rejected), status).await
    }

    fn page(a: &Assignment) -> String {
        format!("/training/{}", a.id)
    }
}

/// `GET /training/curricula`: every document's curriculum.
pub async fn curricula(
    state: web::Data<AppState>,
    r: WithRole<TrainingReaders>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let can_edit = s.account.roles.contains(Role::Quality);
    let (rows, documents) = state
        .read(move |conn| {
            let ids = repo::trained_documents(conn)?;
            let scopes = repo::scopes_of(conn, &ids)?;
            let titles = repo::document_titles(conn, &ids)?;
            let days = repo::due_days_of(conn, &ids)?;
            let mut people: Vec<i64> = scopes
                .values()
                .flatten()
                .filter_map(|l| l.user_id)
                .collect();
            people.sort_unstable();
            people.dedup();
            let names = users::names(conn, &people)?;
            let default = service::default_due_days(conn)?;
            let rows: Vec<CurriculumRow> = ids
                .iter()
                .filter(|d| scopes.contains_key(d))
                .map(|d| {
                    let lines = scopes.get(d).map(Vec::as_slice).unwrap_or_default();
                    CurriculumRow {
                        id: *d,
                        key: format!("DOC-{d}"),
                        title: titles.get(d).cloned().unwrap_or_default(),
                        roles: lines
                            .iter()
                            .filter_map(|l| l.role)
                            .map(|r| r.label())
                            .collect::<Vec<_>>()
                            .join(", "),
                        people: lines
                            .iter()
                            .filter_map(|l| l.user_id)
                            .map(|u| names.get(&u).cloned().unwrap_or_else(|| format!("u-{u}")))
                            .collect::<Vec<_>>()
                            .join(", "),
                        due_days: days
                            .get(d)
                            .map_or(format!("{default} (the setting)"), |n| n.to_string()),
                    }
                })
                .collect();
            let documents = if can_edit {
                document_choices(conn, None)?
            } else {
                Vec::new()
            };
            Ok::<_, AppError>((rows, documents))
        })
        .await?;
    html(&CurriculaPage {
        ctx: page_ctx(&state, s, "/training").await?,
        rows,
        documents,
        can_edit,
    })
}

/// Documents with a version in force or on the way, as choices.
fn document_choices(
    conn: &mut DbConnection,
    selected: Option<i64>,
) -> Result<Vec<Choice>, AppError> {
    let filter = docs::Filter::default();
    let mut out = Vec::new();
    let mut offset = 0;
    // Pickers list at most 2,000 documents (the master list pages the rest).
    while offset < 2_000 {
        let (page, _) = docs::list(conn, &filter, docs::Sort::Number, offset, 500)?;
        if page.is_empty() {
            break;
        }
        offset += i64::try_from(page.len()).unwrap_or(500);
        for r in page {
            out.push(Choice {
                value: r.doc.id.to_string(),
                label: format!("{} {}", r.doc.key(), r.doc.title),
                selected: selected == Some(r.doc.id),
            });
        }
    }
    Ok(out)
}

/// `GET /training/curricula/edit?document=N`: one document's curriculum form.
pub async fn curriculum_form(
    state: web::Data<AppState>,
    r: WithRole<TrainingManagers>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let doc = query
        .get("document")
        .and_then(|d| d.trim().parse::<i64>().ok())
        .ok_or_else(|| AppError::BadRequest("Choose a document".into()))?;
    curriculum_page(&state, r.session(), doc, None, StatusCode::OK).await
}

async fn curriculum_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    doc: i64,
    sent: Option<Rejected>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (document, c, people, default, force) = state
        .read(move |conn| {
            let document = docs::find_document(conn, doc)?.ok_or(AppError::NotFound)?;
            let c = service::curriculum(conn, doc)?;
            let people = repo::active_people(conn)?;
            let default = service::default_due_days(conn)?;
            let force = repo::effective_versions(conn, &[doc])?
                .get(&doc)
                .map(|v| v.1);
            Ok::<_, AppError>((document, c, people, default, force))
        })
        .await?;
    let problems = sent.unwrap_or_else(|| Rejected::named("curriculum"));
    let typed = problems.any();
    let role_on = |r: Role| {
        if typed {
            problems.values("roles").contains(&r.as_str())
        } else {
            c.roles.contains(r)
        }
    };
    let person_on = |p: i64| {
        if typed {
            problems.values("people").contains(&p.to_string().as_str())
        } else {
            c.people.contains(&p)
        }
    };
    let page = CurriculumPage {
        ctx: page_ctx(state, s, "/training").await?,
        doc_id: doc,
        key: document.key(),
        title: document.title.clone(),
        in_force: match force {
            Some(v) => format!("v{v} is in force: saving assigns it to everyone newly named."),
            None => {
                "No version is in force yet: training is assigned when one takes effect.".into()
            }
        },
        roles: Role::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.as_str().into(),
                label: r.label().into(),
                selected: role_on(r),
            })
            .collect(),
        people: people
            .iter()
            .map(|p| Choice {
                value: p.0.to_string(),
                label: format!("{} ({})", p.1, p.2),
                selected: person_on(p.0),
            })
            .collect(),
        due_days: problems
            .or(
                "due_days",
                &c.due_days.map(|d| d.to_string()).unwrap_or_default(),
            )
            .to_string(),
        default_days: default,
        problems,
    };
    html_status(status, &page)
}

/// `POST /training/curricula/{doc}`: saves a document's curriculum.
pub async fn save_curriculum(
    state: web::Data<AppState>,
    r: WithRole<TrainingManagers>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let (s, doc) = (r.session(), path.into_inner());
    let mut next = Curriculum::default();
    let mut rejected = Rejected::named("curriculum").typed_all(&pairs);
    let mut roles = Vec::new();
    for (k, v) in &pairs {
        match k.as_str() {
            "roles" => roles.push(
                Role::parse(v)
                    .ok_or_else(|| AppError::BadRequest(format!("There is no role {v:?}")))?,
            ),
            "people" => {
                next.people.insert(
                    v.parse::<i64>()
                        .map_err(|_| AppError::BadRequest(format!("There is no person {v:?}")))?,
                );
            }
            "due_days" => match parse_due_days(v, "due_days") {
                Ok(d) => next.due_days = d,
                Err(e) => rejected = rejected.problem("due_days", e.message),
            },
            other => {
                return Err(AppError::BadRequest(format!(
                    "The form could not be accepted: unknown field `{other}`"
                )));
            }
        }
    }
    next.roles = Roles::new(roles);
    if rejected.any() {
        return curriculum_page(&state, s, doc, Some(rejected), StatusCode::BAD_REQUEST).await;
    }
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| Ok(service::set_curriculum(conn, &ctx, doc, &next)))
        .await?;
    match done {
        Ok(_) => {
            flash(&state, s, "ok", &format!("Curriculum of DOC-{doc} saved.")).await?;
            Ok(see_other("/training/curricula"))
        }
        Err(e) => {
            let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
            curriculum_page(&state, s, doc, Some(rejected), status).await
        }
    }
}

/// `GET /training/settings`
pub async fn settings_form(
    state: web::Data<AppState>,
    r: WithRole<TrainingManagers>,
) -> Result<HttpResponse, AppError> {
    settings_page(&state, r.session(), None, StatusCode::OK).await
}

async fn settings_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    sent: Option<Rejected>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (now, documents) = state
        .read(move |conn| {
            Ok::<_, AppError>((service::settings(conn)?, document_choices(conn, None)?))
        })
        .await?;
    let problems = sent.unwrap_or_else(|| Rejected::named("settings"));
    let gates = service::gated_workflows()
        .into_iter()
        .map(|(kind, name, steps)| {
            let field = format!("gate.{kind}");
            let mode = now.modes.get(kind).copied().unwrap_or_default();
            GateView {
                kind,
                name,
                block: problems.or(&field, mode.as_str()) == "block",
                steps: steps
                    .into_iter()
                    .map(|(action, label)| {
                        let field = format!("governs.{kind}.{action}");
                        let stored = now
                            .governs
                            .get(&(kind.to_string(), action.to_string()))
                            .map(|d| d.to_string())
                            .unwrap_or_default();
                        let chosen = problems.or(&field, &stored).to_string();
                        GovernedStep {
                            label,
                            documents: documents
                                .iter()
                                .map(|c| Choice {
                                    value: c.value.clone(),
                                    label: c.label.clone(),
                                    selected: c.value == chosen,
                                })
                                .collect(),
                            field,
                        }
                    })
                    .collect(),
                field,
            }
        })
        .collect();
    let page = SettingsPage {
        ctx: page_ctx(state, s, "/training").await?,
        due_days: problems
            .or("due_days", &now.due_days.to_string())
            .to_string(),
        gates,
        problems,
    };
    html_status(status, &page)
}

/// `POST /training/settings`
pub async fn save_settings(
    state: web::Data<AppState>,
    r: WithRole<TrainingManagers>,
    OpId(op): OpId,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let mut rejected = Rejected::named("settings").typed_all(&pairs);
    let mut next = Settings::default();
    let workflows = service::gated_workflows();
    for (k, v) in &pairs {
        if k == "due_days" {
            match parse_due_days(v, "due_days") {
                Ok(Some(d)) => next.due_days = d,
                Ok(None) => rejected = rejected.problem("due_days", "Give the days to train in."),
                Err(e) => rejected = rejected.problem("due_days", e.message),
            }
        } else if let Some(kind) = k.strip_prefix("gate.") {
            let kind = workflows
                .iter()
                .find(|w| w.0 == kind)
                .map(|w| w.0)
                .ok_or_else(|| AppError::BadRequest(format!("There is no workflow {kind:?}")))?;
            let mode = GateMode::parse(v)
                .ok_or_else(|| AppError::BadRequest(format!("There is no gate mode {v:?}")))?;
            next.modes.insert(kind.to_string(), mode);
        } else if let Some(rest) = k.strip_prefix("governs.") {
            let known = workflows.iter().any(|(kind, _, steps)| {
                rest.strip_prefix(kind)
                    .and_then(|a| a.strip_prefix('.'))
                    .is_some_and(|a| steps.iter().any(|(s, _)| *s == a))
            });
            let Some((kind, action)) = rest.split_once('.').filter(|_| known) else {
                return Err(AppError::BadRequest(format!("There is no step {rest:?}")));
            };
            if v.trim().is_empty() {
                continue;
            }
            let doc = v
                .trim()
                .parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("There is no document {v:?}")))?;
            next.governs
                .insert((kind.to_string(), action.to_string()), doc);
        } else {
            return Err(AppError::BadRequest(format!(
                "The form could not be accepted: unknown field `{k}`"
            )));
        }
    }
    if next.due_days == 0 && rejected.message("due_days").is_none() {
        rejected = rejected.problem("due_days", "Give the days to train in.");
    }
    if rejected.any() {
        return settings_page(&state, s, Some(rejected), StatusCode::BAD_REQUEST).await;
    }
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| Ok(service::save_settings(conn, &ctx, &next)))
        .await?;
    match done {
        Ok(_) => {
            flash(&state, s, "ok", "Training settings saved.").await?;
            Ok(see_other("/training/settings"))
        }
        Err(e) => {
            let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
            settings_page(&state, s, Some(rejected), status).await
        }
    }
}

/// `GET /document-versions/{id}/quiz`: the quiz editor, with the right
/// answers, for the document's owner and quality alone.
pub async fn quiz_form(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    let (me, quality) = (s.account.id.0, s.account.roles.contains(Role::Quality));
    let owner = state
        .read(move |conn| {
            Ok::<_, AppError>(docs::find_version(conn, id)?.map(|v| (v.doc_owner, v)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    if owner.0 != me && !quality {
        let why = "a quiz (and its answers) is for the document's owner and quality".to_string();
        let entity = Some(
            <crate::domain::document::DocWorkflow as crate::service::workflow::Stored>::entity(
                &owner.1,
            ),
        );
        deny(
            &state,
            s,
            op,
            entity,
            "GET",
            format!("/document-versions/{id}/quiz"),
            why.clone(),
        )
        .await?;
        return Err(AppError::Forbidden(why));
    }
    quiz_page(&state, s, id, None, StatusCode::OK).await
}

async fn quiz_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    sent: Option<Rejected>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (v, quiz, fixed) = state
        .read(move |conn| {
            let v = docs::find_version(conn, id)?.ok_or(AppError::NotFound)?;
            let quiz = repo::quiz(conn, id)?.map(|(q, _)| q);
            let fixed = repo::quiz_in_use(conn, id)?;
            Ok::<_, AppError>((v, quiz, fixed))
        })
        .await?;
    let problems = sent.unwrap_or_else(|| Rejected::named("quiz"));
    let rows = (1..=crate::domain::training::MAX_QUESTIONS)
        .map(|n| {
            let stored = quiz.as_ref().and_then(|q| q.questions.get(n - 1));
            let text = stored.map(|q| q.text.clone()).unwrap_or_default();
            let choices = stored.map(|q| q.choices.join("\n")).unwrap_or_default();
            let correct = stored
                .map(|q| (q.correct + 1).to_string())
                .unwrap_or_default();
            QuestionEdit {
                n,
                text: problems.or(&format!("q{n}_text"), &text).to_string(),
                choices: problems.or(&format!("q{n}_choices"), &choices).to_string(),
                correct: problems.or(&format!("q{n}_correct"), &correct).to_string(),
            }
        })
        .collect();
    let mark = quiz
        .as_ref()
        .map(|q| q.pass_mark.to_string())
        .unwrap_or_else(|| "80".into());
    let page = QuizEditPage {
        ctx: page_ctx(state, s, "/documents").await?,
        version_id: id,
        key: v.key(),
        title: v.title.clone(),
        back: format!("/documents/{}/v/{}", v.document_id, v.number),
        pass_mark: problems.or("pass_mark", &mark).to_string(),
        rows,
        fixed,
        problems,
    };
    html_status(status, &page)
}

/// `POST /document-versions/{id}/quiz`: sets the version's quiz (its
/// document's owner, or quality).
pub async fn save_quiz(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    let value = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    for (k, _) in &pairs {
        let known = k == "pass_mark"
            || (1..=crate::domain::training::MAX_QUESTIONS).any(|n| {
                [
                    format!("q{n}_text"),
                    format!("q{n}_choices"),
                    format!("q{n}_correct"),
                ]
                .contains(k)
            });
        if !known {
            return Err(AppError::BadRequest(format!(
                "The form could not be accepted: unknown field `{k}`"
            )));
        }
    }
    let rows: Vec<QuestionInput> = (1..=crate::domain::training::MAX_QUESTIONS)
        .map(|n| QuestionInput {
            text: value(&format!("q{n}_text")),
            choices: value(&format!("q{n}_choices")),
            correct: value(&format!("q{n}_correct")),
        })
        .collect();
    let rejected = Rejected::named("quiz").typed_all(&pairs);
    let quiz = match parse_quiz(&value("pass_mark"), &rows) {
        Ok(q) => q,
        Err(errors) => {
            return quiz_page(
                &state,
                s,
                id,
                Some(rejected.fields(errors)),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let ctx = user_ctx(&state, s, op.clone());
    let (me, roles) = (s.account.id.0, s.account.roles.clone());
    let done = state
        .db(move |conn| {
            Ok(service::set_quiz(
                conn,
                &ctx,
                id,
                (me, &roles),
                quiz.as_ref(),
            ))
        })
        .await?;
    match done {
        Ok(()) => {
            let back = state
                .read(move |conn| {
                    Ok::<_, AppError>(
                        docs::find_version(conn, id)?
                            .map(|v| {
                                format!("/documents/{}/v/{}#training", v.document_id, v.number)
                            })
                            .unwrap_or_else(|| "/documents".into()),
                    )
                })
                .await?;
            flash(&state, s, "ok", "Quiz saved.").await?;
            Ok(see_other(&back))
        }
        Err(RecordError::Refused(r @ Refused::Role { .. })) => {
            deny(
                &state,
                s,
                op,
                None,
                "POST",
                format!("/document-versions/{id}/quiz"),
                r.to_string(),
            )
            .await?;
            Err(AppError::Forbidden(r.to_string()))
        }
        Err(e) => {
            let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
            quiz_page(&state, s, id, Some(rejected), status).await
        }
    }
}

/// `POST /training/exports`: the filtered matrix as CSV or XLSX, kept with
/// its signed manifest, a checkpoint signed at once.
pub async fn export(
    state: web::Data<AppState>,
    r: WithRole<TrainingReaders>,
    OpId(op): OpId,
    Typed(_, pairs): Typed<IgnoredFields>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let (query, format) = super::documents::export_request(pairs, PARAMS)?;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let filter = filter_of(&q)?;
    let ctx = user_ctx(&state, s, op);
    let key = state.log_key.clone();
    let id = state
        .db(move |conn| Ok(service::export_matrix(conn, &ctx, &key, &filter, format)?))
        .await?;
    state.checkpoint().await?;
    flash(
        &state,
        s,
        "ok",
        "Exported: download the file and its signed manifest below.",
    )
    .await?;
    Ok(see_other(&format!("/training/exports#export-{id}")))
}

/// `GET /training/exports`
pub async fn exports(
    state: web::Data<AppState>,
    r: WithRole<TrainingReaders>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    super::documents::kept_exports(
        &state,
        r.session(),
        &query,
        ("training", "the training matrix"),
        ("/training", "Training matrix"),
    )
    .await
}

pub async fn export_file(
    state: web::Data<AppState>,
    _r: WithRole<TrainingReaders>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    super::documents::kept_file(&state, path.into_inner(), "training").await
}

pub async fn export_manifest(
    state: web::Data<AppState>,
    _r: WithRole<TrainingReaders>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    super::documents::kept_manifest(&state, path.into_inner(), "training").await
}
