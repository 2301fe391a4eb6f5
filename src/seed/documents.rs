//! `attest seed documents --count N`: controlled documents for trials and
//! measurement, each with three versions taken through the workflow by the
//! services: written by the given author, reviewed by a seeded reviewer,
//! approved by a seeded quality approver (their keys opened once), v1 and
//! v2 superseded, v3 effective. One `system.seeded` entry says so.

use anyhow::bail;
use diesel::prelude::*;

use super::Dice;
use super::walk::{self, Signer};
use crate::db::DbConnection;
use crate::domain::document::{DocFields, DocInput, DocType, DocWorkflow, DraftFields};
use crate::domain::ids::UserId;
use crate::service::Ctx;
use crate::service::documents as service;

const WORDS: [&str; 16] = [
    "inspect",
    "housing",
    "record",
    "calliper",
    "limit",
    "operator",
    "batch",
    "clean",
    "verify",
    "label",
    "sterile",
    "torque",
    "gauge",
    "sample",
    "release",
    "deviation",
];

/// A body of about `len` bytes, different for each `seed`.
pub fn body(dice: &mut u64, len: usize) -> String {
    let mut d = Dice(*dice | 1);
    let mut out = String::with_capacity(len + 64);
    let mut line = 0;
    while out.len() < len {
        if line % 12 == 0 {
            out.push_str(&format!("\n## Section {}\n\n", line / 12 + 1));
        }
        for _ in 0..12 {
            out.push_str(WORDS[d.roll(WORDS.len() as u64) as usize]);
            out.push(' ');
        }
        out.push_str(".\n");
        line += 1;
    }
    *dice = d.0;
    out
}

/// Seeds `count` documents written by `author`; refuses a database that
/// already holds documents. Returns how many it made.
pub fn documents(
    conn: &mut DbConnection,
    ctx: &Ctx,
    author: i64,
    count: u64,
) -> anyhow::Result<u64> {
    use crate::db::schema::documents as d;
    let existing: i64 = d::table.count().get_result(conn)?;
    if existing > 0 {
        bail!(
            "this database already holds {existing} documents; seed only a fresh trial or measurement database"
        );
    }
    let author = walk::account(conn, UserId(author))?;
    let mut reviewer = Signer::seeded(conn, ctx, "seed-reviewer")?;
    let mut approver = Signer::seeded(conn, ctx, "seed-approver")?;
    let types = DocType::ALL;
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let mut words = 0x1234_5678_u64;
    for n in 0..count {
        let doc_type = types[dice.roll(types.len() as u64) as usize];
        let (doc, mut v) = service::create(
            conn,
            ctx,
            author.id.0,
            DocFields {
                title: format!("Seeded {} {}", doc_type.label().to_lowercase(), n + 1),
                doc_type,
                owner_id: author.id.0,
                product_id: None,
                review_months: doc_type.default_review_months(),
            },
        )?;
        for number in 1..=3 {
            if number > 1 {
                v = service::revise(conn, ctx, doc.id, &author)?;
            }
            let fields = DraftFields {
                title: v.title.clone(),
                body: body(&mut words, 600 + dice.roll(1200) as usize),
                change_reason: if number > 1 {
                    format!("Seeded revision {number}")
                } else {
                    String::new()
                },
                change_summary: String::new(),
                reviewers: vec![reviewer.account.id.0],
                approver_id: Some(approver.account.id.0),
                effective_on: None,
                training_required: doc_type.default_training(),
            };
            let v2 = service::edit_draft(conn, ctx, (v.id, v.version), fields, &author)?;
            let input = DocInput::default();
            walk::take::<DocWorkflow>(conn, ctx, &author, v2.id, "submit_review", &input, None)?;
            let who = reviewer.account.clone();
            walk::take::<DocWorkflow>(
                conn,
                ctx,
                &who,
                v2.id,
                "review",
                &input,
                Some(&mut reviewer),
            )?;
            let who = approver.account.clone();
            walk::take::<DocWorkflow>(
                conn,
                ctx,
                &who,
                v2.id,
                "approve",
                &input,
                Some(&mut approver),
            )?;
        }
    }
    crate::db::write_tx(conn, |conn| {
        crate::audit::append(
            conn,
            &ctx.entry("system.seeded")
                .after(serde_json::json!({"documents": count, "versions": count * 3})),
        )
    })?;
    Ok(count)
}
