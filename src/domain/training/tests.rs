use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::domain::user::Roles;
use crate::domain::workflow::{Refused, decide, decide_at};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
}

fn assignment() -> Assignment {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    Assignment {
        id: 7,
        user_id: 3,
        username: "tess".into(),
        trainee: "Tess Trainee".into(),
        document_id: 4,
        version_id: 12,
        version_number: 2,
        title: "CAPA procedure".into(),
        content_sha256: "a".repeat(64),
        state: AssignmentState::Assigned,
        due_on: day(15),
        because: "role quality".into(),
        trained_before: None,
        carried_from: None,
        opened_at: None,
        quiz_passed_at: None,
        quiz_score: String::new(),
        acknowledged_at: None,
        quiz: None,
        overdue_noted: false,
        now: None,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

#[test]
fn a_cell_reads_the_standing_on_the_day() {
    use AssignmentState::*;
    assert_eq!(
        cell(Acknowledged, day(1), None, day(30)),
        Some(Cell::Current)
    );
    assert_eq!(
        cell(NotRequired, day(1), None, day(30)),
        Some(Cell::NotRequired)
    );
    assert_eq!(cell(Superseded, day(1), None, day(30)), None);
    assert_eq!(cell(Assigned, day(15), None, day(15)), Some(Cell::Due));
    assert_eq!(cell(Assigned, day(15), None, day(16)), Some(Cell::Overdue));
    assert_eq!(
        cell(Assigned, day(15), Some(1), day(10)),
        Some(Cell::Superseded)
    );
    // Overdue says more than "trained on an older version".
    assert_eq!(
        cell(Assigned, day(15), Some(1), day(16)),
        Some(Cell::Overdue)
    );
}

#[test]
fn only_the_trainee_signs_and_only_after_opening_and_passing_the_quiz() {
    let quality = Roles::new([Role::Quality, Role::Admin]);
    let mut a = assignment();
    let someone_else = Who {
        user: Some(9),
        roles: &quality,
    };
    let input = TrainingInput::default();
    assert!(matches!(
        decide::<TrainingWorkflow>(&a, "acknowledge", &input, someone_else),
        Err(Refused::Role { .. })
    ));
    let none = Roles::default();
    let trainee = Who {
        user: Some(3),
        roles: &none,
    };
    let Err(Refused::Guards(r)) = decide::<TrainingWorkflow>(&a, "acknowledge", &input, trainee)
    else {
        panic!("refused before opening")
    };
    assert_eq!(r[0].id, "training.not_opened");
    a.opened_at = Some(a.created_at);
    a.quiz = Some(QuizFacts {
        questions: 2,
        pass_mark: 50,
    });
    let Err(Refused::Guards(r)) = decide::<TrainingWorkflow>(&a, "acknowledge", &input, trainee)
    else {
        panic!("refused before the quiz is passed")
    };
    assert_eq!(r[0].id, "training.quiz_not_passed");
    a.quiz_passed_at = Some(a.created_at);
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
    let d = decide_at::<TrainingWorkflow>(&a, "acknowledge", &input, trainee, now).unwrap();
    assert_eq!(d.record.state, AssignmentState::Acknowledged);
    assert_eq!(d.record.acknowledged_at, Some(now));
    assert_eq!(d.signature.unwrap().meaning, READ_AND_UNDERSTOOD);
    // A signed-for version cannot be signed again, nor a superseded one.
    assert!(matches!(
        decide::<TrainingWorkflow>(&d.record, "acknowledge", &input, trainee),
        Err(Refused::WrongState { .. })
    ));
    let mut superseded = d.record.clone();
    superseded.state = AssignmentState::Superseded;
    assert!(matches!(
        decide::<TrainingWorkflow>(&superseded, "acknowledge", &input, trainee),
        Err(Refused::Frozen { .. })
    ));
}

#[test]
fn people_never_take_the_steps_attest_takes() {
    let quality = Roles::new([Role::Quality]);
    let who = Who {
        user: Some(3),
        roles: &quality,
    };
    let a = assignment();
    for step in ["not_required", "supersede"] {
        assert!(
            decide::<TrainingWorkflow>(&a, step, &TrainingInput::default(), who).is_err(),
            "{step}"
        );
    }
}

#[test]
fn the_signature_binds_the_version_content_so_v2_is_not_v3() {
    let v2 = assignment();
    let mut v3 = assignment();
    v3.version_number = 3;
    v3.version_id = 13;
    v3.content_sha256 = "b".repeat(64);
    assert_ne!(v2.signed_content(), v3.signed_content());
    assert_eq!(
        v2.signed_content()["version_content_sha256"],
        serde_json::json!("a".repeat(64))
    );
    // Later steps leave what was signed alone.
    let mut later = v2.clone();
    later.state = AssignmentState::Superseded;
    later.because = "superseded by v3".into();
    later.due_on = day(30);
    assert_eq!(v2.signed_content(), later.signed_content());
}

fn q(text: &str, choices: &str, correct: &str) -> QuestionInput {
    QuestionInput {
        text: text.into(),
        choices: choices.into(),
        correct: correct.into(),
    }
}

#[test]
fn a_quiz_form_is_read_strictly() {
    let quiz = parse_quiz(
        "80",
        &[
            q("Who signs a CAPA closure?", "Anyone\nQuality\n", "2"),
            q("", "", ""),
            q("When is training due?", "14 days\nNever", "1"),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(quiz.questions.len(), 2);
    assert_eq!(quiz.questions[1].n, 2);
    assert_eq!(quiz.questions[0].correct, 1);
    assert_eq!(parse_quiz("", &[q("", "", "")]), Ok(None));
    let errors = parse_quiz(
        "0",
        &[
            q("One choice only", "Yes", "1"),
            q("Right answer out of range", "A\nB", "3"),
            q("", "A\nB", ""),
        ],
    )
    .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["q1", "q2", "q3", "pass_mark"]);
    let eleven = vec![q("Q", "A\nB", "1"); 11];
    assert!(parse_quiz("50", &eleven).is_err());
}

#[test]
fn answers_are_scored_against_this_quiz_only() {
    let mut quiz = parse_quiz(
        "60",
        &[
            q("One", "A\nB", "1"),
            q("Two", "A\nB", "2"),
            q("Three", "A\nB\nC", "3"),
        ],
    )
    .unwrap()
    .unwrap();
    for (i, question) in quiz.questions.iter_mut().enumerate() {
        question.id = 100 + i as i64;
    }
    let answers = |a: &[(i64, usize)]| a.iter().copied().collect::<BTreeMap<_, _>>();
    let two_right = score(&quiz, &answers(&[(100, 0), (101, 1), (102, 0)])).unwrap();
    assert_eq!((two_right.correct, two_right.passed), (2, true));
    let one_right = score(&quiz, &answers(&[(100, 0), (101, 0), (102, 0)])).unwrap();
    assert!(!one_right.passed);
    assert_eq!(
        score(&quiz, &answers(&[(100, 0), (101, 1), (102, 0), (999, 0)])),
        Err(AnswerError::NotThisQuiz(999))
    );
    assert_eq!(
        score(&quiz, &answers(&[(100, 0), (101, 1)])),
        Err(AnswerError::Unanswered(3))
    );
    assert_eq!(
        score(&quiz, &answers(&[(100, 0), (101, 1), (102, 5)])),
        Err(AnswerError::NoSuchChoice(3))
    );
}

#[test]
fn due_days_are_one_to_a_year() {
    assert_eq!(parse_due_days(" ", "due_days"), Ok(None));
    assert_eq!(parse_due_days("30", "due_days"), Ok(Some(30)));
    assert!(parse_due_days("0", "due_days").is_err());
    assert!(parse_due_days("366", "due_days").is_err());
    assert!(parse_due_days("ten", "due_days").is_err());
}
