//! Training: curricula (who must be trained on a document), assignments
//! (one person, one version), quizzes and their attempts, and the settings
//! quality keeps in the app. Rows are never deleted; an assignment's state
//! is written only by `save_step`, which only the transition service calls.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{
    document_versions as v, documents as d, settings as st, training_assignments as ta,
    training_attempts as tt, training_due as td, training_questions as tq, training_quizzes as tz,
    training_scope as sc, users as u,
};
use crate::db::strict::Cols;
use crate::db::{DbConnection, naive, utc};
use crate::domain::training::{Assignment, AssignmentState, Question, Quiz, QuizFacts};
use crate::domain::user::{Role, Roles};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ta)]
struct Row {
    id: i64,
    user_id: i64,
    document_id: i64,
    version_id: i64,
    version_number: i64,
    content_sha256: String,
    state: String,
    due_on: String,
    because: String,
    trained_before: Option<i64>,
    carried_from: Option<i64>,
    opened_at: Option<NaiveDateTime>,
    quiz_passed_at: Option<NaiveDateTime>,
    quiz_score: String,
    acknowledged_at: Option<NaiveDateTime>,
    overdue_noted: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn assignment(
    r: Row,
    (username, trainee): (String, String),
    title: String,
    quiz: Option<QuizFacts>,
) -> QueryResult<Assignment> {
    let c = Cols::new("training_assignments", r.id);
    Ok(Assignment {
        id: r.id,
        user_id: r.user_id,
        username,
        trainee,
        document_id: r.document_id,
        version_id: r.version_id,
        version_number: r.version_number,
        title,
        content_sha256: r.content_sha256,
        state: c.one_of("state", &r.state, AssignmentState::parse)?,
        due_on: c.date("due_on", &r.due_on)?,
        because: r.because,
        trained_before: r.trained_before,
        carried_from: r.carried_from,
        opened_at: r.opened_at.map(utc),
        quiz_passed_at: r.quiz_passed_at.map(utc),
        quiz_score: r.quiz_score,
        acknowledged_at: r.acknowledged_at.map(utc),
        quiz,
        overdue_noted: r.overdue_noted,
        now: None,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

/// Assignment `id` with its trainee's names, its version's title and quiz.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Assignment>> {
    let Some(r) = ta::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let names: (String, String) = u::table
        .find(r.user_id)
        .select((u::username, u::full_name))
        .first(conn)?;
    let title: String = v::table.find(r.version_id).select(v::title).first(conn)?;
    let quiz = quiz_facts(conn, r.version_id)?;
    assignment(r, names, title, quiz).map(Some)
}

/// The version's quiz as a guard reads it (how many questions, the pass mark).
pub fn quiz_facts(conn: &mut DbConnection, version_id: i64) -> QueryResult<Option<QuizFacts>> {
    let Some(mark) = tz::table
        .find(version_id)
        .select(tz::pass_mark)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let n: i64 = tq::table
        .filter(tq::version_id.eq(version_id).and(tq::retired.eq(false)))
        .count()
        .get_result(conn)?;
    Ok((n > 0).then(|| QuizFacts {
        questions: u32::try_from(n).unwrap_or(u32::MAX),
        pass_mark: u32::try_from(mark).unwrap_or(100),
    }))
}

/// Writes an assignment's step as its next version; false if the stored
/// version moved.
pub fn save_step(conn: &mut DbConnection, a: &Assignment) -> QueryResult<bool> {
    let n = diesel::update(ta::table.filter(ta::id.eq(a.id).and(ta::version.eq(a.version - 1))))
        .set((
            ta::state.eq(a.state.as_str()),
            ta::due_on.eq(a.due_on.to_string()),
            ta::because.eq(&a.because),
            ta::acknowledged_at.eq(a.acknowledged_at.map(naive)),
            ta::updated_at.eq(naive(a.updated_at)),
            ta::version.eq(a.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// A new assignment.
pub struct NewAssignment<'a> {
    pub user_id: i64,
    pub document_id: i64,
    pub version_id: i64,
    pub version_number: i64,
    pub content_sha256: &'a str,
    pub state: AssignmentState,
    pub due_on: NaiveDate,
    pub because: &'a str,
    pub trained_before: Option<i64>,
    pub carried_from: Option<i64>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Stores a new assignment; its number.
pub fn insert(
    conn: &mut DbConnection,
    a: &NewAssignment<'_>,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(ta::table)
        .values((
            ta::user_id.eq(a.user_id),
            ta::document_id.eq(a.document_id),
            ta::version_id.eq(a.version_id),
            ta::version_number.eq(a.version_number),
            ta::content_sha256.eq(a.content_sha256),
            ta::state.eq(a.state.as_str()),
            ta::due_on.eq(a.due_on.to_string()),
            ta::because.eq(a.because),
            ta::trained_before.eq(a.trained_before),
            ta::carried_from.eq(a.carried_from),
            ta::acknowledged_at.eq(a.acknowledged_at.map(naive)),
            ta::created_at.eq(naive(now)),
            ta::updated_at.eq(naive(now)),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

/// Notes a fact of an assignment that is not a step (opened, quiz passed,
/// overdue told) as its next version; false if the stored version moved.
pub fn note(conn: &mut DbConnection, a: &Assignment, now: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::update(ta::table.filter(ta::id.eq(a.id).and(ta::version.eq(a.version - 1))))
        .set((
            ta::opened_at.eq(a.opened_at.map(naive)),
            ta::quiz_passed_at.eq(a.quiz_passed_at.map(naive)),
            ta::quiz_score.eq(&a.quiz_score),
            ta::overdue_noted.eq(a.overdue_noted),
            ta::updated_at.eq(naive(now)),
            ta::version.eq(a.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// A person's standing assignment on a document (the one not superseded).
pub fn standing_of(
    conn: &mut DbConnection,
    user_id: i64,
    document_id: i64,
) -> QueryResult<Option<i64>> {
    ta::table
        .filter(
            ta::user_id
                .eq(user_id)
                .and(ta::document_id.eq(document_id))
                .and(ta::state.ne(AssignmentState::Superseded.as_str())),
        )
        .select(ta::id)
        .first(conn)
        .optional()
}

/// The people with a standing assignment on a document.
pub fn holders_of(conn: &mut DbConnection, document_id: i64) -> QueryResult<Vec<i64>> {
    ta::table
        .filter(
            ta::document_id
                .eq(document_id)
                .and(ta::state.ne(AssignmentState::Superseded.as_str())),
        )
        .select(ta::user_id)
        .load(conn)
}

/// The documents a person has a standing assignment on.
pub fn documents_held(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    ta::table
        .filter(
            ta::user_id
                .eq(user_id)
                .and(ta::state.ne(AssignmentState::Superseded.as_str())),
        )
        .select(ta::document_id)
        .load(conn)
}

/// One curriculum line: a role's holders, or a named person, must be
/// trained on a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeLine {
    pub id: i64,
    pub document_id: i64,
    pub role: Option<Role>,
    pub user_id: Option<i64>,
}

fn scope_lines(rows: Vec<(i64, i64, Option<String>, Option<i64>)>) -> Vec<ScopeLine> {
    rows.into_iter()
        .map(|(id, document_id, role, user_id)| ScopeLine {
            id,
            document_id,
            role: role.as_deref().and_then(Role::parse),
            user_id,
        })
        .collect()
}

/// The curriculum lines in force of a document.
pub fn scope_of(conn: &mut DbConnection, document_id: i64) -> QueryResult<Vec<ScopeLine>> {
    sc::table
        .filter(
            sc::document_id
                .eq(document_id)
                .and(sc::removed_at.is_null()),
        )
        .order(sc::id.asc())
        .select((sc::id, sc::document_id, sc::role, sc::user_id))
        .load(conn)
        .map(scope_lines)
}

/// The curriculum lines in force of documents `ids`.
pub fn scopes_of(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<BTreeMap<i64, Vec<ScopeLine>>> {
    let mut out: BTreeMap<i64, Vec<ScopeLine>> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let rows = sc::table
            .filter(sc::document_id.eq_any(chunk).and(sc::removed_at.is_null()))
            .order(sc::id.asc())
            .select((sc::id, sc::document_id, sc::role, sc::user_id))
            .load(conn)?;
        for line in scope_lines(rows) {
            out.entry(line.document_id).or_default().push(line);
        }
    }
    Ok(out)
}

/// The documents whose curriculum names a person, or one of `roles`.
pub fn documents_for(
    conn: &mut DbConnection,
    user_id: i64,
    roles: &Roles,
) -> QueryResult<Vec<i64>> {
    let names: Vec<&str> = roles.iter().map(Role::as_str).collect();
    let mut ids: Vec<i64> = sc::table
        .filter(sc::removed_at.is_null())
        .filter(sc::user_id.eq(user_id).or(sc::role.eq_any(names)))
        .select(sc::document_id)
        .load(conn)?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The active people a document's curriculum names (by role or by name).
pub fn people_for(conn: &mut DbConnection, doc: i64) -> QueryResult<Vec<i64>> {
    let lines = scope_of(conn, doc)?;
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = lines.iter().filter_map(|l| l.user_id).collect();
    for role in lines.iter().filter_map(|l| l.role) {
        let holders: Vec<i64> = u::table
            .filter(u::active.eq(true))
            .filter(super::users::role_filter(role))
            .select(u::id)
            .load(conn)?;
        ids.extend(holders);
    }
    ids.sort_unstable();
    ids.dedup();
    // Named people who are no longer active are not trained.
    let active: Vec<i64> = u::table
        .filter(u::id.eq_any(&ids).and(u::active.eq(true)))
        .select(u::id)
        .load(conn)?;
    Ok(active)
}

/// Adds a curriculum line.
pub fn add_scope(
    conn: &mut DbConnection,
    doc: i64,
    who: (Option<Role>, Option<i64>),
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(sc::table)
        .values((
            sc::document_id.eq(doc),
            sc::role.eq(who.0.map(Role::as_str)),
            sc::user_id.eq(who.1),
            sc::added_at.eq(naive(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Marks a curriculum line removed (kept, never deleted).
pub fn remove_scope(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sc::table.filter(sc::id.eq(id).and(sc::removed_at.is_null())))
        .set(sc::removed_at.eq(naive(now)))
        .execute(conn)
        .map(|_| ())
}

/// A document's own days to train in.
pub fn due_days(conn: &mut DbConnection, doc: i64) -> QueryResult<Option<u32>> {
    Ok(td::table
        .find(doc)
        .select(td::due_days)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten()
        .and_then(|n| u32::try_from(n).ok()))
}

/// Days to train in of documents `ids` that name their own.
pub fn due_days_of(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<HashMap<i64, u32>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, Option<i64>)> = td::table
            .filter(td::document_id.eq_any(chunk))
            .select((td::document_id, td::due_days))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .filter_map(|(d, n)| Some((d, u32::try_from(n?).ok()?))),
        );
    }
    Ok(out)
}

pub fn set_due_days(conn: &mut DbConnection, doc: i64, days: Option<u32>) -> QueryResult<()> {
    let days = days.map(i64::from);
    let n = diesel::update(td::table.find(doc))
        .set(td::due_days.eq(days))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(td::table)
            .values((td::document_id.eq(doc), td::due_days.eq(days)))
            .execute(conn)?;
    }
    Ok(())
}

/// The documents with a curriculum line in force: the matrix's columns.
/// (Every assigned or acknowledged training stands on a document in a
/// curriculum: leaving it marks the training not required.)
pub fn trained_documents(conn: &mut DbConnection) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = sc::table
        .filter(sc::removed_at.is_null())
        .select(sc::document_id)
        .distinct()
        .load(conn)?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A standing assignment as a matrix cell reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub id: i64,
    pub user_id: i64,
    pub document_id: i64,
    pub version_number: i64,
    pub state: AssignmentState,
    pub due_on: NaiveDate,
    pub trained_before: Option<i64>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

type StandingCols = (
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<NaiveDateTime>,
);

fn standing(r: StandingCols) -> QueryResult<Standing> {
    let c = Cols::new("training_assignments", r.0);
    Ok(Standing {
        id: r.0,
        user_id: r.1,
        document_id: r.2,
        version_number: r.3,
        state: c.one_of("state", &r.4, AssignmentState::parse)?,
        due_on: c.date("due_on", &r.5)?,
        trained_before: r.6,
        acknowledged_at: r.7.map(utc),
    })
}

macro_rules! standing_cols {
    () => {
        (
            ta::id,
            ta::user_id,
            ta::document_id,
            ta::version_number,
            ta::state,
            ta::due_on,
            ta::trained_before,
            ta::acknowledged_at,
        )
    };
}

/// The standing assignments of people `users` (on documents `docs`, when given).
pub fn standings_of(
    conn: &mut DbConnection,
    users: &[i64],
    docs: Option<&[i64]>,
) -> QueryResult<Vec<Standing>> {
    let mut out = Vec::new();
    for chunk in users.chunks(200) {
        let mut q = ta::table
            .filter(ta::user_id.eq_any(chunk))
            .filter(ta::state.ne(AssignmentState::Superseded.as_str()))
            .into_boxed();
        if let Some(docs) = docs {
            q = q.filter(ta::document_id.eq_any(docs.to_vec()));
        }
        let rows: Vec<StandingCols> = q.select(standing_cols!()).load(conn)?;
        for r in rows {
            out.push(standing(r)?);
        }
    }
    Ok(out)
}

/// A count of standing assignments: (state, due on, trained before, how many).
pub type StandingCount = (AssignmentState, NaiveDate, Option<i64>, usize);

/// The standing assignments of people `users` (on document `doc`, when
/// given), counted by state, due date and the version trained on before:
/// (state, due on, trained before, how many).
pub fn standing_counts(
    conn: &mut DbConnection,
    users: &[i64],
    doc: Option<i64>,
) -> QueryResult<Vec<StandingCount>> {
    let mut out = Vec::new();
    for chunk in users.chunks(2_000) {
        // Every document when none is named: ids are never 0 or below.
        let (low, high) = match doc {
            Some(d) => (d, d),
            None => (1, i64::MAX),
        };
        let rows: Vec<(String, String, Option<i64>, i64)> = ta::table
            .filter(ta::user_id.eq_any(chunk))
            .filter(ta::state.ne(AssignmentState::Superseded.as_str()))
            .filter(ta::document_id.between(low, high))
            .group_by((ta::state, ta::due_on, ta::trained_before))
            .select((
                ta::state,
                ta::due_on,
                ta::trained_before,
                diesel::dsl::count_star(),
            ))
            .load(conn)?;
        for (state, due_on, before, n) in rows {
            let c = Cols::new("training_assignments", "counts");
            out.push((
                c.one_of("state", &state, AssignmentState::parse)?,
                c.date("due_on", &due_on)?,
                before,
                usize::try_from(n).unwrap_or(0),
            ));
        }
    }
    Ok(out)
}

/// Standing assignments open (assigned) and due before `today`: overdue.
pub fn overdue(
    conn: &mut DbConnection,
    today: NaiveDate,
    user: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Standing>> {
    let mut q = ta::table
        .filter(ta::state.eq(AssignmentState::Assigned.as_str()))
        .filter(ta::due_on.lt(today.to_string()))
        .into_boxed();
    if let Some(u) = user {
        q = q.filter(ta::user_id.eq(u));
    }
    q.order((ta::due_on.asc(), ta::id.asc()))
        .limit(limit)
        .select(standing_cols!())
        .load::<StandingCols>(conn)?
        .into_iter()
        .map(standing)
        .collect()
}

/// (id, how many) of a count grouped by one column.
pub type Counted = Vec<(i64, i64)>;

/// Overdue assignments (assigned, due before `today`) counted per person
/// and per document, by the database.
pub fn overdue_counts(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> QueryResult<(Counted, Counted)> {
    let today = today.to_string();
    let open = AssignmentState::Assigned.as_str();
    let by_user: Vec<(i64, i64)> = ta::table
        .filter(ta::state.eq(open).and(ta::due_on.lt(&today)))
        .group_by(ta::user_id)
        .select((ta::user_id, diesel::dsl::count_star()))
        .load(conn)?;
    let by_document: Vec<(i64, i64)> = ta::table
        .filter(ta::state.eq(open).and(ta::due_on.lt(&today)))
        .group_by(ta::document_id)
        .select((ta::document_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok((by_user, by_document))
}

/// Overdue assignments not yet told as events (the scheduler's job).
pub fn overdue_untold(
    conn: &mut DbConnection,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    ta::table
        .filter(ta::state.eq(AssignmentState::Assigned.as_str()))
        .filter(ta::due_on.lt(today.to_string()))
        .filter(ta::overdue_noted.eq(false))
        .order(ta::id.asc())
        .limit(limit)
        .select(ta::id)
        .load(conn)
}

/// People whose standing on some document is in `state` (assigned ones
/// split by `today` into due and overdue by the caller's filter).
pub fn people_in(
    conn: &mut DbConnection,
    cell: crate::domain::training::Cell,
    today: NaiveDate,
) -> QueryResult<Vec<i64>> {
    use crate::domain::training::Cell;
    let today = today.to_string();
    let assigned = AssignmentState::Assigned.as_str();
    let base = ta::table.select(ta::user_id).distinct().into_boxed();
    let q = match cell {
        Cell::Current => base.filter(ta::state.eq(AssignmentState::Acknowledged.as_str())),
        Cell::NotRequired => base.filter(ta::state.eq(AssignmentState::NotRequired.as_str())),
        Cell::Overdue => base.filter(ta::state.eq(assigned).and(ta::due_on.lt(today))),
        Cell::Superseded => base.filter(
            ta::state
                .eq(assigned)
                .and(ta::due_on.ge(today))
                .and(ta::trained_before.is_not_null()),
        ),
        Cell::Due => base.filter(
            ta::state
                .eq(assigned)
                .and(ta::due_on.ge(today))
                .and(ta::trained_before.is_null()),
        ),
    };
    q.load(conn)
}

/// Every assignment of a person, newest first (their training record).
pub fn of_person(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<Assignment>> {
    let rows: Vec<Row> = ta::table
        .filter(ta::user_id.eq(user_id))
        .order((ta::document_id.asc(), ta::version_number.desc()))
        .select(Row::as_select())
        .load(conn)?;
    let names: (String, String) = u::table
        .find(user_id)
        .select((u::username, u::full_name))
        .first(conn)?;
    let vids: Vec<i64> = rows.iter().map(|r| r.version_id).collect();
    let mut titles: HashMap<i64, String> = HashMap::new();
    for chunk in vids.chunks(500) {
        let t: Vec<(i64, String)> = v::table
            .filter(v::id.eq_any(chunk))
            .select((v::id, v::title))
            .load(conn)?;
        titles.extend(t);
    }
    let mut quizzes: HashMap<i64, Option<QuizFacts>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let quiz = match quizzes.get(&r.version_id) {
            Some(q) => *q,
            None => {
                let q = quiz_facts(conn, r.version_id)?;
                quizzes.insert(r.version_id, q);
                q
            }
        };
        let title = titles.get(&r.version_id).cloned().unwrap_or_default();
        out.push(assignment(r, names.clone(), title, quiz)?);
    }
    Ok(out)
}

/// The number of people assigned to, and acknowledged on, a version.
pub fn version_counts(conn: &mut DbConnection, version_id: i64) -> QueryResult<(i64, i64)> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = ta::table
        .filter(ta::version_id.eq(version_id))
        .select((ta::state, ta::acknowledged_at))
        .load(conn)?;
    let acknowledged = rows.iter().filter(|r| r.1.is_some()).count();
    Ok((
        i64::try_from(rows.len()).unwrap_or(i64::MAX),
        i64::try_from(acknowledged).unwrap_or(i64::MAX),
    ))
}

/// A version's quiz, with its questions' numbers.
pub fn quiz(conn: &mut DbConnection, version_id: i64) -> QueryResult<Option<(Quiz, i64)>> {
    let Some((mark, version)) = tz::table
        .find(version_id)
        .select((tz::pass_mark, tz::version))
        .first::<(i64, i64)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let rows: Vec<(i64, i64, String, String, i64)> = tq::table
        .filter(tq::version_id.eq(version_id).and(tq::retired.eq(false)))
        .order(tq::n.asc())
        .select((tq::id, tq::n, tq::question, tq::choices, tq::correct))
        .load(conn)?;
    let mut questions = Vec::with_capacity(rows.len());
    for (id, n, text, choices, correct) in rows {
        let c = Cols::new("training_questions", id);
        questions.push(Question {
            id,
            n: u32::try_from(n).unwrap_or(0),
            text,
            choices: c.json("choices", &choices)?,
            correct: usize::try_from(correct).unwrap_or(usize::MAX),
        });
    }
    if questions.is_empty() {
        return Ok(None);
    }
    Ok(Some((
        Quiz {
            pass_mark: u32::try_from(mark).unwrap_or(100),
            questions,
        },
        version,
    )))
}

/// Replaces a version's quiz: the questions before are retired (kept),
/// the new ones stored; `None` removes the quiz.
pub fn set_quiz(
    conn: &mut DbConnection,
    version_id: i64,
    quiz: Option<&Quiz>,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(tq::table.filter(tq::version_id.eq(version_id).and(tq::retired.eq(false))))
        .set(tq::retired.eq(true))
        .execute(conn)?;
    let Some(quiz) = quiz else {
        return Ok(());
    };
    let mark = i64::from(quiz.pass_mark);
    let n = diesel::update(tz::table.find(version_id))
        .set((
            tz::pass_mark.eq(mark),
            tz::set_by.eq(by),
            tz::set_at.eq(naive(now)),
            tz::version.eq(tz::version + 1),
        ))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(tz::table)
            .values((
                tz::version_id.eq(version_id),
                tz::pass_mark.eq(mark),
                tz::set_by.eq(by),
                tz::set_at.eq(naive(now)),
            ))
            .execute(conn)?;
    }
    for q in &quiz.questions {
        diesel::insert_into(tq::table)
            .values((
                tq::version_id.eq(version_id),
                tq::n.eq(i64::from(q.n)),
                tq::question.eq(&q.text),
                tq::choices.eq(serde_json::to_string(&q.choices).unwrap_or_default()),
                tq::correct.eq(i64::try_from(q.correct).unwrap_or(0)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether anyone has tried a version's quiz or signed for the version
/// (its quiz is fixed from then on).
pub fn quiz_in_use(conn: &mut DbConnection, version_id: i64) -> QueryResult<bool> {
    let ids: Vec<i64> = ta::table
        .filter(ta::version_id.eq(version_id))
        .select(ta::id)
        .load(conn)?;
    let acknowledged: i64 = ta::table
        .filter(
            ta::version_id
                .eq(version_id)
                .and(ta::acknowledged_at.is_not_null()),
        )
        .count()
        .get_result(conn)?;
    if acknowledged > 0 {
        return Ok(true);
    }
    for chunk in ids.chunks(500) {
        let tried: i64 = tt::table
            .filter(tt::assignment_id.eq_any(chunk))
            .count()
            .get_result(conn)?;
        if tried > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One quiz attempt as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub correct: i64,
    pub questions: i64,
    pub passed: bool,
    pub at: DateTime<Utc>,
}

pub fn insert_attempt(
    conn: &mut DbConnection,
    assignment_id: i64,
    answers: &str,
    (correct, questions, passed): (i64, i64, bool),
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(tt::table)
        .values((
            tt::assignment_id.eq(assignment_id),
            tt::answers.eq(answers),
            tt::correct.eq(correct),
            tt::questions.eq(questions),
            tt::passed.eq(passed),
            tt::created_at.eq(naive(now)),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

pub fn attempts(conn: &mut DbConnection, assignment_id: i64) -> QueryResult<Vec<Attempt>> {
    let rows: Vec<(i64, i64, i64, bool, NaiveDateTime)> = tt::table
        .filter(tt::assignment_id.eq(assignment_id))
        .order(tt::id.asc())
        .select((
            tt::id,
            tt::correct,
            tt::questions,
            tt::passed,
            tt::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, correct, questions, passed, at)| Attempt {
            id,
            correct,
            questions,
            passed,
            at: utc(at),
        })
        .collect())
}

/// A document's number and title of its version in force (or latest).
pub fn document_titles(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = d::table
            .filter(d::id.eq_any(chunk))
            .select((d::id, d::title))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// A setting quality keeps in the app.
pub fn setting(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    st::table
        .find(name)
        .select(st::value)
        .first(conn)
        .optional()
}

/// Settings whose names start with `prefix`.
pub fn settings_like(
    conn: &mut DbConnection,
    prefix: &str,
) -> QueryResult<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = st::table
        .filter(st::name.like(format!("{prefix}%")))
        .select((st::name, st::value))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Sets a setting (an empty value stands for its default; settings are
/// changed, never deleted).
pub fn set_setting(
    conn: &mut DbConnection,
    name: &str,
    value: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let n = diesel::update(st::table.find(name))
        .set((st::value.eq(value), st::updated_at.eq(naive(now))))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(st::table)
            .values((
                st::name.eq(name),
                st::value.eq(value),
                st::updated_at.eq(naive(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The effective version of each of documents `ids`: (version id, number).
pub fn effective_versions(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<HashMap<i64, (i64, i64)>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, i64, i64)> = v::table
            .filter(v::document_id.eq_any(chunk).and(v::state.eq("effective")))
            .select((v::document_id, v::id, v::number))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(d, id, n)| (d, (id, n))));
    }
    Ok(out)
}

/// An active person as the matrix lists them: (id, full name, username, roles).
pub fn active_people(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String, String, Roles)>> {
    let rows: Vec<(i64, String, String, String)> = u::table
        .filter(u::active.eq(true))
        .order((u::full_name.asc(), u::id.asc()))
        .select((u::id, u::full_name, u::username, u::roles))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, username, roles)| (id, name, username, Roles::from_stored(&roles)))
        .collect())
}
