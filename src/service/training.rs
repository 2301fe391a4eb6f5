//! Training (ISO 13485 6.2; WORKFLOWS.md "Training"). One rule keeps every
//! person's standing on every document in line with the curricula and the
//! version in force ([`reconcile`]); it runs, in the changing transaction,
//! when a version becomes effective or a document is retired, when a
//! curriculum changes, and when a person is created, changes roles or is
//! disabled or enabled. Acknowledgement is the assignment workflow's signed
//! step; opening the version and passing its quiz are noted on the
//! assignment, audited. The training gate of a signed step is read here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::{documents as docs, training as repo, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::document::{DocWorkflow, VersionState};
use crate::domain::event::{DomainEvent, EventKind};
use crate::domain::ids::UserId;
use crate::domain::training::{
    AnswerError, Assignment, AssignmentState, Cell, DEFAULT_DUE_DAYS, GateMode, Quiz,
    TrainingInput, TrainingWorkflow, score,
};
use crate::domain::user::{FieldError, Role, Roles};
use crate::domain::workflow::{Refused, Workflow};

pub fn entity(a: &Assignment) -> EntityRef {
    EntityRef {
        kind: TrainingWorkflow::KIND.into(),
        id: format!("trn-{}", a.id),
        key: a.key(),
        version: a.version,
    }
}

impl Stored for TrainingWorkflow {
    const AUDITS_REFUSALS: bool = true;
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Assignment>> {
        repo::find(conn, id)
    }
    fn save(conn: &mut DbConnection, record: &Assignment) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &Assignment) -> i64 {
        record.version
    }
    fn bump(record: &mut Assignment, now: chrono::DateTime<chrono::Utc>) {
        record.version += 1;
        record.updated_at = now;
    }
    fn entity(record: &Assignment) -> EntityRef {
        entity(record)
    }
    fn audit_fields(record: &Assignment) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &Assignment) -> Value {
        record.signed_content()
    }
}

pub use super::gate::{DUE_DAYS, GateFinding, gate, gate_mode_setting, governs_setting};

/// The days to train in when a document names none: the setting, or 14.
pub fn default_due_days(conn: &mut DbConnection) -> diesel::QueryResult<u32> {
    Ok(repo::setting(conn, DUE_DAYS)?
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=crate::domain::training::MAX_DUE_DAYS).contains(n))
        .unwrap_or(DEFAULT_DUE_DAYS))
}

/// What a version in force asks of the people trained on its document.
#[derive(Clone, Debug)]
pub struct InForce {
    pub version_id: i64,
    pub number: i64,
    pub training_required: bool,
    pub content_sha256: String,
    pub due_days: u32,
}

/// The version in force of document `doc`, if one is.
pub fn in_force(conn: &mut DbConnection, doc: i64) -> Result<Option<InForce>, RecordError> {
    let Some(id) = docs::version_in(conn, doc, &[VersionState::Effective])? else {
        return Ok(None);
    };
    let Some(v) = docs::find_version(conn, id)? else {
        return Ok(None);
    };
    let content_sha256 = super::workflow::content_hash::<DocWorkflow>(&v)?;
    let due_days = match repo::due_days(conn, doc)? {
        Some(n) => n,
        None => default_due_days(conn)?,
    };
    Ok(Some(InForce {
        version_id: v.id,
        number: v.number,
        training_required: v.training_required,
        content_sha256,
        due_days,
    }))
}

/// Takes `action` on assignment `a` as Attest itself.
fn step(
    conn: &mut DbConnection,
    ctx: &Ctx,
    a: &Assignment,
    action: &str,
    input: TrainingInput,
) -> Result<Assignment, RecordError> {
    super::workflow::step_as_attest::<TrainingWorkflow>(
        conn,
        ctx,
        (a.id, a.version),
        action,
        &input,
        &[],
    )
}

/// Stores a new assignment, audited, with its event when it is to be done.
#[allow(clippy::too_many_arguments)]
fn assign(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (user, doc): (i64, i64),
    v: &InForce,
    state: AssignmentState,
    due_on: NaiveDate,
    because: &str,
    (trained_before, carried_from): (Option<i64>, Option<i64>),
) -> Result<Assignment, RecordError> {
    let id = repo::insert(
        conn,
        &repo::NewAssignment {
            user_id: user,
            document_id: doc,
            version_id: v.version_id,
            version_number: v.number,
            content_sha256: &v.content_sha256,
            state,
            due_on,
            because,
            trained_before,
            carried_from,
            acknowledged_at: (state == AssignmentState::Acknowledged).then_some(ctx.now),
        },
        ctx.now,
    )?;
    let a = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
    audit::append(
        conn,
        &ctx.entry("training_assignment.created")
            .entity(entity(&a))
            .after(a.audit_fields()),
    )?;
    if state == AssignmentState::Assigned {
        super::events::append(
            conn,
            ctx,
            &entity(&a),
            &[DomainEvent::training(
                EventKind::TrainingAssigned,
                user,
                &a.doc_key(),
                a.version_number,
                due_on,
            )],
        )?;
    }
    Ok(a)
}

/// A person as the curricula read them.
struct Person {
    id: i64,
    roles: Roles,
    active: bool,
}

fn person(conn: &mut DbConnection, id: i64) -> Result<Option<Person>, RecordError> {
    Ok(users::find(conn, UserId(id))?.map(|a| Person {
        id: a.id.0,
        roles: a.roles,
        active: a.active,
    }))
}

/// Why a person is in a document's curriculum (`lines`), in words.
fn why_in_scope(lines: &[repo::ScopeLine], p: &Person) -> Option<String> {
    if !p.active {
        return None;
    }
    let mut why: Vec<String> = lines
        .iter()
        .filter_map(|l| l.role)
        .filter(|r| p.roles.contains(*r))
        .map(|r| format!("role {}", r.label()))
        .collect();
    if lines.iter().any(|l| l.user_id == Some(p.id)) {
        why.push("named in the curriculum".into());
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// Brings person `p`'s standing on document `doc` in line with its
/// curriculum and its version in force (`force`), as Attest, audited:
/// assigns the version in force to someone newly in scope; supersedes an
/// older version's assignment with the new one (a version needing no
/// training carries an acknowledgement forward, recorded as such, and an
/// open assignment keeps its due date); marks the assignment not required
/// when the person is no longer in scope or nothing is in force; requires
/// it again when they are back in scope. Never assigns a version twice.
fn reconcile(
    conn: &mut DbConnection,
    ctx: &Ctx,
    p: &Person,
    (doc, lines): (i64, &[repo::ScopeLine]),
    force: Option<&InForce>,
    gone: &str,
) -> Result<(), RecordError> {
    let why = why_in_scope(lines, p);
    let standing = match repo::standing_of(conn, p.id, doc)? {
        Some(id) => repo::find(conn, id)?,
        None => None,
    };
    let today = ctx.now.date_naive();
    let open = |a: &Assignment| {
        matches!(
            a.state,
            AssignmentState::Assigned | AssignmentState::Acknowledged
        )
    };
    let because = |s: &str| TrainingInput {
        because: Some(s.to_string()),
        due_on: None,
    };
    match (force, standing, why) {
        (None, Some(a), _) if open(&a) => {
            step(
                conn,
                ctx,
                &a,
                "not_required",
                because(&format!("{}: no version in force", a.doc_key())),
            )?;
        }
        (Some(_), Some(a), None) if open(&a) => {
            step(conn, ctx, &a, "not_required", because(gone))?;
        }
        (Some(f), None, Some(why)) => {
            let due = today + Duration::days(i64::from(f.due_days));
            assign(
                conn,
                ctx,
                (p.id, doc),
                f,
                AssignmentState::Assigned,
                due,
                &why,
                (None, None),
            )?;
        }
        (Some(f), Some(a), Some(why))
            if a.version_id == f.version_id && a.state == AssignmentState::NotRequired =>
        {
            let (action, due_on) = match a.acknowledged_at {
                Some(_) => ("required_again_trained", None),
                None => (
                    "required_again",
                    Some(today + Duration::days(i64::from(f.due_days))),
                ),
            };
            step(
                conn,
                ctx,
                &a,
                action,
                TrainingInput {
                    because: Some(why),
                    due_on,
                },
            )?;
        }
        (Some(f), Some(a), Some(why)) if a.version_number < f.number => {
            let trained = match a.acknowledged_at {
                Some(_) => Some(a.version_number),
                None => a.trained_before,
            };
            let carry = !f.training_required && a.acknowledged_at.is_some();
            let move_open = !f.training_required && a.state == AssignmentState::Assigned;
            let words = if carry || move_open {
                format!("v{} in force, approved as needing no training", f.number)
            } else {
                format!("v{} in force and assigned", f.number)
            };
            step(conn, ctx, &a, "supersede", because(&words))?;
            if carry {
                assign(
                    conn,
                    ctx,
                    (p.id, doc),
                    f,
                    AssignmentState::Acknowledged,
                    a.due_on,
                    &format!(
                        "{why}; training on v{} carried forward: v{} was approved as needing no training",
                        a.version_number, f.number
                    ),
                    (trained, Some(a.id)),
                )?;
            } else if move_open {
                assign(
                    conn,
                    ctx,
                    (p.id, doc),
                    f,
                    AssignmentState::Assigned,
                    a.due_on,
                    &format!(
                        "{why}; open training on v{} moved to v{}",
                        a.version_number, f.number
                    ),
                    (trained, None),
                )?;
            } else {
                let due = today + Duration::days(i64::from(f.due_days));
                assign(
                    conn,
                    ctx,
                    (p.id, doc),
                    f,
                    AssignmentState::Assigned,
                    due,
                    &why,
                    (trained, None),
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Brings everyone's standing on document `doc` in line (a version became
/// effective, the document was retired, its curriculum changed).
pub fn reconcile_document(
    conn: &mut DbConnection,
    ctx: &Ctx,
    doc: i64,
    gone: &str,
) -> Result<(), RecordError> {
    let force = in_force(conn, doc)?;
    let lines = repo::scope_of(conn, doc)?;
    let mut people: BTreeSet<i64> = repo::people_for(conn, doc)?.into_iter().collect();
    people.extend(repo::holders_of(conn, doc)?);
    for id in people {
        if let Some(p) = person(conn, id)? {
            reconcile(conn, ctx, &p, (doc, &lines), force.as_ref(), gone)?;
        }
    }
    Ok(())
}

/// Brings one person's standing on every document in line (created, roles
/// changed, disabled or enabled).
pub fn reconcile_person(conn: &mut DbConnection, ctx: &Ctx, user: i64) -> Result<(), RecordError> {
    let Some(p) = person(conn, user)? else {
        return Ok(());
    };
    let mut documents: BTreeSet<i64> = repo::documents_for(conn, p.id, &p.roles)?
        .into_iter()
        .collect();
    documents.extend(repo::documents_held(conn, p.id)?);
    let gone = if p.active {
        "no longer in the curriculum (roles changed)"
    } else {
        "account disabled"
    };
    for doc in documents {
        let force = in_force(conn, doc)?;
        let lines = repo::scope_of(conn, doc)?;
        reconcile(conn, ctx, &p, (doc, &lines), force.as_ref(), gone)?;
    }
    Ok(())
}

/// A document's curriculum as quality edits it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Curriculum {
    pub roles: Roles,
    pub people: BTreeSet<i64>,
    pub due_days: Option<u32>,
}

/// The curriculum of document `doc` as it stands.
pub fn curriculum(conn: &mut DbConnection, doc: i64) -> Result<Curriculum, RecordError> {
    let lines = repo::scope_of(conn, doc)?;
    Ok(Curriculum {
        roles: Roles::new(lines.iter().filter_map(|l| l.role)),
        people: lines.iter().filter_map(|l| l.user_id).collect(),
        due_days: repo::due_days(conn, doc)?,
    })
}

fn curriculum_json(c: &Curriculum) -> Value {
    json!({
        "roles": c.roles.to_json(),
        "people": c.people.iter().map(|p| format!("u-{p}")).collect::<Vec<_>>(),
        "due_days": c.due_days,
    })
}

/// Sets document `doc`'s curriculum (quality), audited with what it was and
/// is, and brings everyone's standing on it in line in the same transaction.
pub fn set_curriculum(
    conn: &mut DbConnection,
    ctx: &Ctx,
    doc: i64,
    next: &Curriculum,
) -> Result<Curriculum, RecordError> {
    write_tx(conn, |conn| {
        let document = docs::find_document(conn, doc)?.ok_or(RecordError::NotFound)?;
        let mut errors = Vec::new();
        for p in &next.people {
            match users::find(conn, UserId(*p))? {
                Some(a) if a.active => {}
                _ => errors.push(FieldError::new(
                    "people",
                    format!("u-{p} is not an active user: choose people from the list."),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(RecordError::Invalid(errors));
        }
        let before = curriculum(conn, doc)?;
        if before == *next {
            return Ok(before);
        }
        for line in repo::scope_of(conn, doc)? {
            let kept = match (line.role, line.user_id) {
                (Some(r), _) => next.roles.contains(r),
                (_, Some(u)) => next.people.contains(&u),
                _ => false,
            };
            if !kept {
                repo::remove_scope(conn, line.id, ctx.now)?;
            }
        }
        for r in next.roles.iter().filter(|r| !before.roles.contains(*r)) {
            repo::add_scope(conn, doc, (Some(r), None), ctx.now)?;
        }
        for p in next.people.iter().filter(|p| !before.people.contains(p)) {
            repo::add_scope(conn, doc, (None, Some(*p)), ctx.now)?;
        }
        if before.due_days != next.due_days {
            repo::set_due_days(conn, doc, next.due_days)?;
        }
        audit::append(
            conn,
            &ctx.entry("training.curriculum_changed")
                .entity(EntityRef {
                    kind: "document".into(),
                    id: format!("doc-{}", document.id),
                    key: document.key(),
                    version: document.version,
                })
                .before(curriculum_json(&before))
                .after(curriculum_json(next)),
        )?;
        reconcile_document(
            conn,
            ctx,
            doc,
            &format!("{} removed from the curriculum", document.key()),
        )?;
        Ok(next.clone())
    })
}

/// Refuses anyone but the trainee (the refusal is theirs to audit).
fn own(a: &Assignment, me: i64) -> Result<(), RecordError> {
    if a.user_id != me {
        return Err(RecordError::Refused(Refused::Role {
            action: "Training",
            roles: &[],
            owner: false,
            named: Some("the trainee it is assigned to"),
        }));
    }
    Ok(())
}

/// Notes that the trainee opened the version (the first time), audited.
pub fn opened(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    me: i64,
) -> Result<Assignment, RecordError> {
    write_tx(conn, |conn| {
        let mut a = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        own(&a, me)?;
        if a.opened_at.is_some() || a.state != AssignmentState::Assigned {
            return Ok(a);
        }
        a.opened_at = Some(ctx.now);
        a.version += 1;
        if !repo::note(conn, &a, ctx.now)? {
            return Err(RecordError::Stale);
        }
        audit::append(
            conn,
            &ctx.entry("training_assignment.opened")
                .entity(entity(&a))
                .before(json!({"opened_at": null}))
                .after(json!({"opened_at": audit::format_time(ctx.now)})),
        )?;
        Ok(a)
    })
}

/// What became of a quiz attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempted {
    pub passed: bool,
    pub words: String,
}

/// Records the trainee's answers (question id → choice from 0) to the
/// version's quiz, audited; a pass lets them sign. Answers naming another
/// quiz's questions, a quiz not open to them, or an unanswered question
/// are refused and nothing is recorded.
pub fn attempt(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    me: i64,
    answers: &BTreeMap<i64, usize>,
) -> Result<Attempted, RecordError> {
    write_tx(conn, |conn| {
        let mut a = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        own(&a, me)?;
        if a.state != AssignmentState::Assigned {
            return Err(RecordError::Conflict(format!(
                "{} is {}: its quiz is closed",
                a.key(),
                a.state.label().to_lowercase()
            )));
        }
        if a.opened_at.is_none() {
            return Err(RecordError::Conflict(
                "open and read the version before taking its quiz".into(),
            ));
        }
        let Some((quiz, _)) = repo::quiz(conn, a.version_id)? else {
            return Err(RecordError::Conflict(format!(
                "{} has no quiz",
                a.version_key()
            )));
        };
        let s = score(&quiz, answers).map_err(|e| match e {
            AnswerError::NotThisQuiz(_) => RecordError::invalid(e.to_string()),
            _ => RecordError::Invalid(vec![FieldError::new("answers", e.to_string())]),
        })?;
        let words = s.words(quiz.pass_mark);
        let answers_json = serde_json::to_string(answers).unwrap_or_default();
        repo::insert_attempt(
            conn,
            a.id,
            &answers_json,
            (i64::from(s.correct), i64::from(s.questions), s.passed),
            ctx.now,
        )?;
        let before = json!({"quiz_passed_at": a.quiz_passed_at.map(audit::format_time), "quiz_score": a.quiz_score});
        if s.passed && a.quiz_passed_at.is_none() {
            a.quiz_passed_at = Some(ctx.now);
            a.quiz_score = words.clone();
        }
        a.version += 1;
        if !repo::note(conn, &a, ctx.now)? {
            return Err(RecordError::Stale);
        }
        audit::append(
            conn,
            &ctx.entry("training_assignment.quiz_attempted")
                .entity(entity(&a))
                .before(before)
                .after(json!({
                    "score": words,
                    "passed": s.passed,
                    "quiz_passed_at": a.quiz_passed_at.map(audit::format_time),
                })),
        )?;
        Ok(Attempted {
            passed: s.passed,
            words,
        })
    })
}

/// Sets version `version_id`'s quiz (its document's owner, or quality);
/// refused once anyone has tried it or signed for the version, or once the
/// version is out of force.
pub fn set_quiz(
    conn: &mut DbConnection,
    ctx: &Ctx,
    version_id: i64,
    who: (i64, &Roles),
    quiz: Option<&Quiz>,
) -> Result<(), RecordError> {
    write_tx(conn, |conn| {
        let v = docs::find_version(conn, version_id)?.ok_or(RecordError::NotFound)?;
        if v.doc_owner != who.0 && !who.1.contains(Role::Quality) {
            return Err(RecordError::Refused(Refused::Role {
                action: "Setting a quiz",
                roles: &[Role::Quality],
                owner: false,
                named: Some("the document's owner"),
            }));
        }
        if matches!(
            v.state,
            VersionState::Superseded | VersionState::Obsolete | VersionState::Withdrawn
        ) {
            return Err(RecordError::Conflict(format!(
                "{} is {}: its quiz can no longer change",
                v.key(),
                v.state.label().to_lowercase()
            )));
        }
        if repo::quiz_in_use(conn, version_id)? {
            return Err(RecordError::Conflict(format!(
                "someone has already taken {}'s quiz or signed for it: the quiz is fixed (start a new version to change it)",
                v.key()
            )));
        }
        let before = repo::quiz(conn, version_id)?.map(|(q, _)| quiz_json(&q));
        repo::set_quiz(conn, version_id, quiz, who.0, ctx.now)?;
        audit::append(
            conn,
            &ctx.entry("training.quiz_set")
                .entity(<DocWorkflow as Stored>::entity(&v))
                .before(json!({ "quiz": before }))
                .after(json!({ "quiz": quiz.map(quiz_json) })),
        )?;
        Ok(())
    })
}

fn quiz_json(q: &Quiz) -> Value {
    json!({
        "pass_mark": q.pass_mark,
        "questions": q.questions.iter().map(|q| json!({
            "n": q.n, "question": q.text, "choices": q.choices, "correct": q.correct + 1,
        })).collect::<Vec<_>>(),
    })
}

/// The training settings as the settings page shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub due_days: u32,
    /// Workflow kind → gate mode.
    pub modes: BTreeMap<String, GateMode>,
    /// (workflow kind, action) → governing document.
    pub governs: BTreeMap<(String, String), i64>,
}

/// A workflow a document may govern steps of: its kind, its name, and its
/// steps people take (action, label).
pub type GatedWorkflow = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

/// The workflows whose signed steps a document may govern, with their
/// steps people sign: (kind, name, [(action, label)]).
pub fn gated_workflows() -> Vec<GatedWorkflow> {
    use crate::domain::capa::CapaWorkflow;
    use crate::domain::nonconformance::NcWorkflow;
    use crate::domain::workflow::Workflow;
    fn steps<W: Workflow>() -> Vec<(&'static str, &'static str)> {
        // The steps a person may sign (their form says who signs and when).
        W::actions()
            .iter()
            .filter(|a| !W::by_system(a.action) && !a.form.sign_note.is_empty())
            .map(|a| (a.name, a.label))
            .collect()
    }
    vec![
        (NcWorkflow::KIND, "Nonconformances", steps::<NcWorkflow>()),
        (CapaWorkflow::KIND, "CAPAs", steps::<CapaWorkflow>()),
        (
            DocWorkflow::KIND,
            "Document versions",
            steps::<DocWorkflow>(),
        ),
    ]
}

pub fn settings(conn: &mut DbConnection) -> diesel::QueryResult<Settings> {
    let all = repo::settings_like(conn, "training/")?;
    let mut out = Settings {
        due_days: default_due_days(conn)?,
        ..Settings::default()
    };
    for (kind, _, actions) in gated_workflows() {
        let mode = all
            .get(&gate_mode_setting(kind))
            .and_then(|m| GateMode::parse(m))
            .unwrap_or_default();
        out.modes.insert(kind.to_string(), mode);
        for (action, _) in actions {
            if let Some(doc) = all
                .get(&governs_setting(kind, action))
                .and_then(|v| v.parse::<i64>().ok())
            {
                out.governs
                    .insert((kind.to_string(), action.to_string()), doc);
            }
        }
    }
    Ok(out)
}

fn settings_json(s: &Settings) -> Value {
    json!({
        "due_days": s.due_days,
        "gates": s.modes.iter().map(|(k, m)| (k.clone(), json!(m.as_str()))).collect::<serde_json::Map<_, _>>(),
        "governs": s.governs.iter().map(|((k, a), d)| (format!("{k}.{a}"), json!(format!("DOC-{d}")))).collect::<serde_json::Map<_, _>>(),
    })
}

/// Saves the training settings (quality), audited with before and after.
pub fn save_settings(
    conn: &mut DbConnection,
    ctx: &Ctx,
    next: &Settings,
) -> Result<Settings, RecordError> {
    write_tx(conn, |conn| {
        let mut errors = Vec::new();
        for ((kind, action), doc) in &next.governs {
            if docs::find_document(conn, *doc)?.is_none() {
                errors.push(FieldError::new(
                    "governs",
                    format!("{kind} {action}: there is no document DOC-{doc}."),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(RecordError::Invalid(errors));
        }
        let before = settings(conn)?;
        if before == *next {
            return Ok(before);
        }
        repo::set_setting(conn, DUE_DAYS, &next.due_days.to_string(), ctx.now)?;
        for (kind, _, actions) in gated_workflows() {
            let mode = next.modes.get(kind).copied().unwrap_or_default();
            repo::set_setting(conn, &gate_mode_setting(kind), mode.as_str(), ctx.now)?;
            for (action, _) in actions {
                let doc = next
                    .governs
                    .get(&(kind.to_string(), action.to_string()))
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                let name = governs_setting(kind, action);
                if !doc.is_empty() || repo::setting(conn, &name)?.is_some() {
                    repo::set_setting(conn, &name, &doc, ctx.now)?;
                }
            }
        }
        audit::append(
            conn,
            &ctx.entry("training.settings_changed")
                .before(settings_json(&before))
                .after(settings_json(next)),
        )?;
        Ok(next.clone())
    })
}

/// Notes each assignment that has passed its due date, once, as a
/// `training_overdue` event for notifications, audited; how many.
pub fn tell_overdue(conn: &mut DbConnection, ctx: &Ctx) -> Result<usize, RecordError> {
    let ids = repo::overdue_untold(conn, ctx.now.date_naive(), 500)?;
    let mut told = 0;
    for id in ids {
        write_tx(conn, |conn| {
            let Some(mut a) = repo::find(conn, id)? else {
                return Ok(());
            };
            if a.overdue_noted || a.state != AssignmentState::Assigned {
                return Ok(());
            }
            a.overdue_noted = true;
            a.version += 1;
            if !repo::note(conn, &a, ctx.now)? {
                return Ok(());
            }
            audit::append(
                conn,
                &ctx.entry("training_assignment.overdue")
                    .entity(entity(&a))
                    .after(json!({"due_on": a.due_on.to_string(), "user_id": a.user_id})),
            )?;
            super::events::append(
                conn,
                ctx,
                &entity(&a),
                &[DomainEvent::training(
                    EventKind::TrainingOverdue,
                    a.user_id,
                    &a.doc_key(),
                    a.version_number,
                    a.due_on,
                )],
            )?;
            told += 1;
            Ok::<_, RecordError>(())
        })?;
    }
    Ok(told)
}

/// The scheduler's job that tells of training passing its due date.
pub fn overdue_job(log: String, every: std::time::Duration) -> crate::jobs::Job {
    super::system_job(
        "training_overdue",
        log,
        every,
        tell_overdue,
        "training assignments newly overdue",
    )
}

/// Counts of overdue training per role and per document (the dashboard).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OverdueCounts {
    pub total: usize,
    pub by_role: Vec<(Role, usize)>,
    /// (document id, title, count), most first.
    pub by_document: Vec<(i64, String, usize)>,
}

pub fn overdue_counts(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> diesel::QueryResult<OverdueCounts> {
    let (by_user, by_doc) = repo::overdue_counts(conn, today)?;
    let users: Vec<i64> = by_user.iter().map(|(u, _)| *u).collect();
    let roles = users::roles_of(conn, &users)?;
    let mut by_role: BTreeMap<Role, usize> = BTreeMap::new();
    let mut total = 0;
    for (u, n) in &by_user {
        let n = usize::try_from(*n).unwrap_or(0);
        total += n;
        for role in roles
            .get(u)
            .map(|r| r.iter().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            *by_role.entry(role).or_default() += n;
        }
    }
    let ids: Vec<i64> = by_doc.iter().map(|(d, _)| *d).collect();
    let titles = repo::document_titles(conn, &ids)?;
    let mut by_document: Vec<(i64, String, usize)> = by_doc
        .into_iter()
        .map(|(d, n)| {
            (
                d,
                titles.get(&d).cloned().unwrap_or_default(),
                usize::try_from(n).unwrap_or(0),
            )
        })
        .collect();
    by_document.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    Ok(OverdueCounts {
        total,
        by_role: by_role.into_iter().collect(),
        by_document,
    })
}

/// Something a person's training waits on them for ("What needs me").
pub struct Need {
    pub href: String,
    pub title: String,
    pub detail: String,
    pub overdue: bool,
}

/// The training `me` has still to do, overdue first.
pub fn needs_of(
    conn: &mut DbConnection,
    me: i64,
    today: NaiveDate,
) -> diesel::QueryResult<Vec<Need>> {
    let mut rows: Vec<repo::Standing> = repo::standings_of(conn, &[me], None)?
        .into_iter()
        .filter(|s| s.state == AssignmentState::Assigned)
        .collect();
    rows.sort_by_key(|s| (s.due_on, s.id));
    let ids: Vec<i64> = rows.iter().map(|r| r.document_id).collect();
    let titles = repo::document_titles(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|s| {
            let overdue = s.due_on < today;
            Need {
                href: format!("/training/{}", s.id),
                title: format!(
                    "DOC-{} v{} {}",
                    s.document_id,
                    s.version_number,
                    titles.get(&s.document_id).cloned().unwrap_or_default()
                ),
                detail: if overdue {
                    format!("Training overdue since {}: read and sign", s.due_on)
                } else {
                    format!("Training due by {}: read and sign", s.due_on)
                },
                overdue,
            }
        })
        .collect())
}

/// The matrix's filters, as its page and the API take them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MatrixFilter {
    pub role: Option<Role>,
    pub person: Option<i64>,
    pub document: Option<i64>,
    pub cell: Option<Cell>,
}

impl MatrixFilter {
    /// The filters in words, for an export's manifest and audit entry.
    pub fn described(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(r) = self.role {
            out.push(format!("role={}", r.as_str()));
        }
        if let Some(p) = self.person {
            out.push(format!("person=u-{p}"));
        }
        if let Some(d) = self.document {
            out.push(format!("document=DOC-{d}"));
        }
        if let Some(c) = self.cell {
            out.push(format!("state={}", c.as_str()));
        }
        out
    }
}

/// A column of the matrix: a document and its version in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixDoc {
    pub id: i64,
    pub title: String,
    pub in_force: Option<i64>,
}

/// A cell: the person's standing on a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixCell {
    pub cell: Cell,
    pub assignment: i64,
    pub version: i64,
    pub due_on: NaiveDate,
    pub trained_before: Option<i64>,
    pub acknowledged_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A row: a person and their cells, one per column (blank when the
/// document does not concern them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixRow {
    pub user_id: i64,
    pub name: String,
    pub username: String,
    pub roles: Roles,
    pub group: Option<Role>,
    pub cells: Vec<Option<MatrixCell>>,
}

/// The training matrix: people × documents, grouped by role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matrix {
    pub documents: Vec<MatrixDoc>,
    /// The people of the page asked for (or every person the filters keep),
    /// grouped (quality, engineer, administrator, auditor: each under the
    /// first of their roles), with their cells.
    pub rows: Vec<MatrixRow>,
    /// How many people the filters keep.
    pub total: usize,
    /// How many cells stand in each state, over every kept person (only the
    /// standing filtered on, when there is one).
    pub counts: BTreeMap<Cell, usize>,
}

/// The order role groups are listed in.
pub const GROUP_ORDER: [Role; 4] = [Role::Quality, Role::Engineer, Role::Admin, Role::Auditor];

/// Builds the matrix on `today` for `filter`: the counts over every person
/// it keeps, the cells of `page` (offset, count) of them, or of all.
pub fn matrix(
    conn: &mut DbConnection,
    filter: &MatrixFilter,
    today: NaiveDate,
    page: Option<(usize, usize)>,
) -> diesel::QueryResult<Matrix> {
    let mut people = repo::active_people(conn)?;
    if let Some(r) = filter.role {
        people.retain(|p| p.3.contains(r));
    }
    if let Some(id) = filter.person {
        people.retain(|p| p.0 == id);
    }
    if let Some(c) = filter.cell {
        let with: BTreeSet<i64> = repo::people_in(conn, c, today)?.into_iter().collect();
        people.retain(|p| with.contains(&p.0));
    }
    let group_of = |roles: &Roles| match filter.role {
        Some(r) => Some(r),
        None => GROUP_ORDER.into_iter().find(|r| roles.contains(*r)),
    };
    let rank = |g: Option<Role>| {
        g.and_then(|g| GROUP_ORDER.iter().position(|r| *r == g))
            .unwrap_or(GROUP_ORDER.len())
    };
    people.sort_by(|a, b| {
        rank(group_of(&a.3))
            .cmp(&rank(group_of(&b.3)))
            .then_with(|| a.1.cmp(&b.1))
            .then(a.0.cmp(&b.0))
    });
    let mut doc_ids = repo::trained_documents(conn)?;
    if let Some(d) = filter.document {
        doc_ids.retain(|x| *x == d);
    }
    let titles = repo::document_titles(conn, &doc_ids)?;
    let force = repo::effective_versions(conn, &doc_ids)?;
    let documents: Vec<MatrixDoc> = doc_ids
        .iter()
        .map(|d| MatrixDoc {
            id: *d,
            title: titles.get(d).cloned().unwrap_or_default(),
            in_force: force.get(d).map(|v| v.1),
        })
        .collect();
    // Counts: standings grouped by state, due date and whether trained
    // before, read by the database, never row by row.
    let ids: Vec<i64> = people.iter().map(|p| p.0).collect();
    let mut counts: BTreeMap<Cell, usize> = BTreeMap::new();
    for (state, due_on, before, n) in repo::standing_counts(conn, &ids, filter.document)? {
        let Some(cell) = crate::domain::training::cell(state, due_on, before, today) else {
            continue;
        };
        if filter.cell.is_none_or(|c| c == cell) {
            *counts.entry(cell).or_default() += n;
        }
    }
    let total = people.len();
    let shown: Vec<(i64, String, String, Roles)> = match page {
        Some((offset, count)) => people.into_iter().skip(offset).take(count).collect(),
        None => people,
    };
    let column: HashMap<i64, usize> = doc_ids.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let shown_ids: Vec<i64> = shown.iter().map(|p| p.0).collect();
    let docs_filter = filter.document.map(|d| vec![d]);
    let mut cells: HashMap<i64, Vec<Option<MatrixCell>>> = HashMap::new();
    for s in repo::standings_of(conn, &shown_ids, docs_filter.as_deref())? {
        let Some(col) = column.get(&s.document_id) else {
            continue;
        };
        let Some(cell) = crate::domain::training::cell(s.state, s.due_on, s.trained_before, today)
        else {
            continue;
        };
        if filter.cell.is_some_and(|c| c != cell) {
            continue;
        }
        let row = cells
            .entry(s.user_id)
            .or_insert_with(|| vec![None; doc_ids.len()]);
        row[*col] = Some(MatrixCell {
            cell,
            assignment: s.id,
            version: s.version_number,
            due_on: s.due_on,
            trained_before: s.trained_before,
            acknowledged_at: s.acknowledged_at,
        });
    }
    let rows = shown
        .into_iter()
        .map(|(id, name, username, roles)| MatrixRow {
            cells: cells
                .remove(&id)
                .unwrap_or_else(|| vec![None; doc_ids.len()]),
            user_id: id,
            name,
            username,
            group: group_of(&roles),
            roles,
        })
        .collect();
    Ok(Matrix {
        documents,
        rows,
        total,
        counts,
    })
}

const MATRIX_COLUMNS: [&str; 11] = [
    "person",
    "username",
    "roles",
    "document",
    "title",
    "version_in_force",
    "standing",
    "version",
    "due_on",
    "acknowledged_at",
    "trained_before",
];

/// The matrix (every kept person, one line a cell) as a kept file with a
/// manifest signed by the log key, audited; the export's number.
pub fn export_matrix(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &crate::audit::key::LogKey,
    filter: &MatrixFilter,
    format: super::exports::ListFormat,
) -> Result<i64, RecordError> {
    write_tx(conn, |conn| {
        let m = matrix(conn, filter, ctx.now.date_naive(), None)?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        for r in &m.rows {
            let roles: Vec<&str> = r.roles.iter().map(Role::as_str).collect();
            for (d, c) in m.documents.iter().zip(&r.cells) {
                let Some(c) = c else { continue };
                rows.push(vec![
                    r.name.clone(),
                    r.username.clone(),
                    roles.join(" "),
                    format!("DOC-{}", d.id),
                    d.title.clone(),
                    d.in_force.map(|v| v.to_string()).unwrap_or_default(),
                    c.cell.as_str().to_string(),
                    c.version.to_string(),
                    c.due_on.to_string(),
                    c.acknowledged_at
                        .map(audit::format_time)
                        .unwrap_or_default(),
                    c.trained_before.map(|v| v.to_string()).unwrap_or_default(),
                ]);
            }
        }
        super::exports::keep_list(
            conn,
            ctx,
            key,
            &super::exports::KeptList {
                subject: "training",
                stem: "training",
                what: "training matrix",
                action: "training.exported",
                sheet: "Training matrix",
                columns: &MATRIX_COLUMNS,
                number_columns: &[5, 7, 10],
                rows: &rows,
                described: &filter.described(),
            },
            format,
        )
    })
}
