use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::domain::user::Roles;
use crate::domain::workflow::{Offer, Refused, action_def, decide, decide_at, offer};

const AUTHOR: i64 = 1;
const R1: i64 = 2;
const R2: i64 = 3;
const APPROVER: i64 = 4;
const OWNER: i64 = 5;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0)
        .single()
        .unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn doc() -> Document {
    Document {
        id: 4,
        title: "Cleaning of the moulding line".into(),
        doc_type: DocType::Sop,
        owner_id: OWNER,
        product_id: None,
        review_months: 24,
        next_review_on: None,
        created_by: AUTHOR,
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

fn ready_draft() -> DocVersion {
    let mut v = DocVersion::draft(&doc(), 1, AUTHOR, None, now());
    v.body = "# Purpose\nKeep the line clean.".into();
    v.reviewers = vec![R1, R2];
    v.approver_id = Some(APPROVER);
    v
}

fn quality() -> Roles {
    Roles::new([Role::Quality])
}

fn as_user(user: i64, roles: &Roles) -> Who<'_> {
    Who {
        user: Some(user),
        roles,
    }
}

fn step(v: &DocVersion, name: &str, user: i64, roles: &Roles) -> Result<DocVersion, Refused> {
    decide_at::<DocWorkflow>(v, name, &DocInput::default(), as_user(user, roles), now())
        .map(|d| d.record)
}

#[test]
fn a_version_is_approved_only_after_every_reviewer_signed_and_never_by_its_author() {
    let (q, none) = (quality(), Roles::default());
    let v = step(&ready_draft(), "submit_review", AUTHOR, &none).unwrap();
    assert_eq!(v.state, VersionState::InReview);
    assert_eq!(v.round, 1);
    let r = step(&v, "approve", APPROVER, &q).err().unwrap();
    assert_eq!(r.rule_ids(), vec!["document.reviews_missing"]);
    let v = step(&v, "review", R1, &none).unwrap();
    // A reviewer signs once a round.
    let twice = step(&v, "review", R1, &none).err().unwrap();
    assert_eq!(twice.rule_ids(), vec!["workflow.role"]);
    // Someone not named cannot review, whatever their roles.
    assert!(step(&v, "review", OWNER, &q).is_err());
    let v = step(&v, "review", R2, &none).unwrap();
    // Only the named approver, and only with the quality role.
    assert!(step(&v, "approve", APPROVER, &none).is_err());
    assert!(step(&v, "approve", OWNER, &q).is_err());
    let d = decide_at::<DocWorkflow>(
        &v,
        "approve",
        &DocInput::default(),
        as_user(APPROVER, &q),
        now(),
    )
    .unwrap();
    assert_eq!(d.record.state, VersionState::Approved);
    let sig = d.signature.unwrap();
    assert_eq!(sig.meaning, "Approved");
    assert_eq!(d.barred_signer, Some(AUTHOR));
}

#[test]
fn submitting_for_review_states_every_missing_thing() {
    let mut v = DocVersion::draft(&doc(), 2, AUTHOR, None, now());
    v.approver_id = Some(AUTHOR);
    let r = step(&v, "submit_review", AUTHOR, &Roles::default())
        .err()
        .unwrap();
    assert_eq!(
        r.rule_ids(),
        vec![
            "document.content_required",
            "document.change_reason_required",
            "document.reviewer_required",
            "document.approver_is_author",
        ]
    );
    v.reviewers = vec![AUTHOR];
    let r = step(&v, "submit_review", AUTHOR, &Roles::default())
        .err()
        .unwrap();
    assert!(r.rule_ids().contains(&"document.author_is_reviewer"));
    v.reviewers = vec![APPROVER];
    v.approver_id = Some(APPROVER);
    let r = step(&v, "submit_review", AUTHOR, &Roles::default())
        .err()
        .unwrap();
    assert!(r.rule_ids().contains(&"document.approver_is_reviewer"));
}

#[test]
fn a_request_for_changes_needs_a_comment_and_voids_the_rounds_reviews() {
    let none = Roles::default();
    let v = step(&ready_draft(), "submit_review", AUTHOR, &none).unwrap();
    let v = step(&v, "review", R1, &none).unwrap();
    let r = step(&v, "request_changes", R2, &none).err().unwrap();
    assert_eq!(r.rule_ids(), vec!["document.comment_required"]);
    let input = DocInput {
        comment: Some("Section 3 misses the drying time".into()),
        reason: None,
    };
    let back = decide::<DocWorkflow>(&v, "request_changes", &input, as_user(R2, &none))
        .unwrap()
        .record;
    assert_eq!(back.state, VersionState::Draft);
    assert!(back.reviewed.is_empty());
    let again = step(&back, "submit_review", AUTHOR, &none).unwrap();
    assert_eq!(again.round, 2);
    assert_eq!(again.awaiting_review(), vec![R1, R2]);
}

#[test]
fn a_future_dated_version_waits_for_its_date_and_a_passed_date_is_refused() {
    let q = quality();
    let mut v = ready_draft();
    v.state = VersionState::Approved;
    v.effective_on = Some(day("2026-12-10"));
    let r = step(&v, "make_effective", 9, &q).err().unwrap();
    assert_eq!(r.rule_ids(), vec!["document.effective_date_not_reached"]);
    let later = Utc
        .with_ymd_and_hms(2026, 12, 10, 0, 0, 1)
        .single()
        .unwrap();
    let d =
        decide_at::<DocWorkflow>(&v, "make_effective", &DocInput::default(), &q, later).unwrap();
    assert_eq!(d.record.state, VersionState::Effective);
    // In review past its planned date: back to draft for a new date.
    let mut late = ready_draft();
    late.effective_on = Some(day("2026-12-01"));
    let r = step(&late, "submit_review", AUTHOR, &Roles::default())
        .err()
        .unwrap();
    assert_eq!(r.rule_ids(), vec!["document.effective_date_passed"]);
}

#[test]
fn no_person_supersedes_a_version_and_it_is_never_offered() {
    let q = Roles::new(Role::ALL);
    let mut v = ready_draft();
    v.state = VersionState::Effective;
    let r = step(&v, "supersede", 9, &q).err().unwrap();
    assert_eq!(r.rule_ids(), vec!["workflow.role"]);
    let system = decide::<DocWorkflow>(&v, "supersede", &DocInput::default(), &Roles::default());
    assert_eq!(system.unwrap().record.state, VersionState::Superseded);
    let supersede = action_def::<DocWorkflow>("supersede").unwrap();
    assert_eq!(
        offer::<DocWorkflow>(&v, supersede, as_user(9, &q)),
        Offer::Hidden
    );
}

#[test]
fn the_periodic_review_is_the_owners_or_qualitys_and_moves_the_date() {
    let mut v = ready_draft();
    v.state = VersionState::Effective;
    assert!(step(&v, "periodic_review", R1, &Roles::default()).is_err());
    let d = decide_at::<DocWorkflow>(
        &v,
        "periodic_review",
        &DocInput::default(),
        as_user(OWNER, &Roles::default()),
        now(),
    )
    .unwrap();
    assert_eq!(d.record.state, VersionState::Effective);
    assert_eq!(d.record.reviewed_on, Some(now().date_naive()));
    assert_eq!(d.signature.unwrap().meaning, "Reviewed: still valid");
    assert_eq!(
        next_review(day("2026-08-31"), 6),
        Some(day("2027-02-28")),
        "a shorter month ends on its last day"
    );
    assert_eq!(next_review(day("2026-08-31"), 0), None);
}

#[test]
fn the_draft_form_refuses_what_the_issue_names_and_keeps_every_problem() {
    let today = day("2026-12-06");
    let errors = DraftFields::parse(
        2,
        AUTHOR,
        ("", &"x".repeat(MAX_BODY + 1)),
        ("", ""),
        (&["4".to_string(), "2".to_string()], "4"),
        ("2026-12-01", ""),
        today,
    )
    .err()
    .unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        vec![
            "title",
            "body",
            "change_reason",
            "reviewers",
            "effective_on",
            "training_required"
        ]
    );
    let errors = DraftFields::parse(
        1,
        AUTHOR,
        ("T", "B"),
        ("", ""),
        (&[], "1"),
        ("", "no"),
        today,
    )
    .err()
    .unwrap();
    assert_eq!(errors[0].field, "approver");
}

/// Random walks over one version: no sequence of steps, by anyone, with
/// drafts edited between them, approves a version without every named
/// reviewer's signature in its last round and a signature its author may
/// not give; and from approval on its signed content never changes.
#[test]
fn no_walk_approves_without_every_review_or_changes_an_approved_version() {
    // The seeds' generator: the same walks on every run.
    use crate::seed::Dice as Rng;
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let names: Vec<&str> = ACTIONS.iter().map(|a| a.name).chain(["publish"]).collect();
    let users = [AUTHOR, R1, R2, APPROVER, OWNER, 9];
    let texts = ["", "Fix the drying time"];
    let (mut approved, mut effective) = (0, 0);
    for _ in 0..3_000 {
        let mut v = ready_draft();
        let mut fixed: Option<serde_json::Value> = None;
        for _ in 0..50 {
            if v.state == VersionState::Draft && r.roll(3) == 0 {
                // An edit of the draft (the service allows only drafts).
                v.body = texts[r.roll(2) as usize].into();
                v.reviewers = [vec![R1], vec![R1, R2], vec![]][r.roll(3) as usize].clone();
                v.approver_id = [Some(APPROVER), Some(AUTHOR), None][r.roll(3) as usize];
            }
            let roles = Roles::new(Role::ALL.into_iter().filter(|_| r.roll(2) == 0));
            let user = users[r.roll(users.len() as u64) as usize];
            let input = DocInput {
                comment: Some(texts[r.roll(2) as usize].into()),
                reason: Some(texts[r.roll(2) as usize].into()),
            };
            let name = names[r.roll(names.len() as u64) as usize];
            let Ok(d) = decide_at::<DocWorkflow>(&v, name, &input, as_user(user, &roles), now())
            else {
                continue;
            };
            if name == "approve" {
                approved += 1;
                assert!(v.awaiting_review().is_empty() && !v.reviewers.is_empty());
                assert_eq!(v.approver_id, Some(user));
                assert!(roles.contains(Role::Quality));
                assert_ne!(user, AUTHOR);
                assert_eq!(d.barred_signer, Some(AUTHOR));
                assert_eq!(d.signature.map(|s| s.meaning), Some("Approved"));
            }
            if d.record.state == VersionState::Effective {
                effective += 1;
            }
            v = d.record;
            if v.state.content_fixed() && v.state != VersionState::InReview {
                let now = v.signed_content();
                match &fixed {
                    None => fixed = Some(now),
                    Some(f) => assert_eq!(f, &now, "an approved version changed"),
                }
            }
            if matches!(
                v.state,
                VersionState::Obsolete | VersionState::Superseded | VersionState::Withdrawn
            ) {
                break;
            }
        }
    }
    assert!(
        approved > 0 && effective > 0,
        "the walk never approved a version: it proves nothing"
    );
}
