//! The training gate (ISO 13485 6.2; WORKFLOWS.md "Training"): a step
//! may name the document that governs it; signing it while one's training on
//! that document's version in force is overdue warns on the signing form
//! (the warning audited beside the signature) or is refused, as quality
//! sets per workflow. The transition service and the step handler read it
//! here; it reads the settings and the assignments, nothing above them.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::DbConnection;
use crate::db::repo::training as repo;
use crate::domain::training::{Cell, GATE_RULE, GateMode};
use crate::domain::workflow::{Refusal, Refused};

/// The setting naming the days to train in.
pub const DUE_DAYS: &str = "training/due_days";

/// The setting naming a workflow's gate mode.
pub fn gate_mode_setting(workflow: &str) -> String {
    format!("training/gate/{workflow}")
}

/// The setting naming the document governing a workflow's step.
pub fn governs_setting(workflow: &str, action: &str) -> String {
    format!("training/governs/{workflow}/{action}")
}

/// A signer's overdue training on the document governing a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateFinding {
    pub mode: GateMode,
    pub document: String,
    pub version: i64,
    pub due_on: NaiveDate,
    pub assignment: i64,
}

impl GateFinding {
    pub fn words(&self) -> String {
        format!(
            "Your training on {} v{} (the procedure governing this step) has been overdue since {}",
            self.document, self.version, self.due_on
        )
    }

    pub fn refusal(&self) -> Refusal {
        Refusal::new(
            GATE_RULE,
            format!(
                "{}: complete it (TRN-{}) before signing this step",
                self.words(),
                self.assignment
            ),
            Some("ISO 13485 6.2"),
        )
    }

    pub fn audit_json(&self) -> Value {
        json!({
            "document": self.document,
            "version": self.version,
            "due_on": self.due_on.to_string(),
            "assignment": format!("trn-{}", self.assignment),
            "mode": self.mode.as_str(),
        })
    }
}

/// The training gate for `user` signing `action` of workflow `kind` on
/// `today`: a finding when the step names a governing document and the
/// user's training on its version in force is overdue.
pub fn gate(
    conn: &mut DbConnection,
    kind: &str,
    action: &str,
    user: i64,
    today: NaiveDate,
) -> diesel::QueryResult<Option<GateFinding>> {
    let Some(doc) =
        repo::setting(conn, &governs_setting(kind, action))?.and_then(|v| v.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    let Some(id) = repo::standing_of(conn, user, doc)? else {
        return Ok(None);
    };
    let Some(a) = repo::find(conn, id)? else {
        return Ok(None);
    };
    if a.cell(today) != Some(Cell::Overdue) {
        return Ok(None);
    }
    let mode = repo::setting(conn, &gate_mode_setting(kind))?
        .as_deref()
        .and_then(GateMode::parse)
        .unwrap_or_default();
    Ok(Some(GateFinding {
        mode,
        document: a.doc_key(),
        version: a.version_number,
        due_on: a.due_on,
        assignment: a.id,
    }))
}

/// The training gate in the signing transaction: a refusal when blocked,
/// else the warning audited beside the signature. (Only the workflows the
/// settings list have governed steps; a trainee's own signature has none.)
pub fn at_signing(
    conn: &mut DbConnection,
    ctx: &Ctx,
    kind: &str,
    action: &str,
    user: i64,
    on: &EntityRef,
) -> Result<(), RecordError> {
    let Some(g) = gate(conn, kind, action, user, ctx.now.date_naive())? else {
        return Ok(());
    };
    match g.mode {
        GateMode::Block => Err(RecordError::Refused(Refused::Guards(vec![g.refusal()]))),
        GateMode::Warn => {
            let mut after = g.audit_json();
            after["action"] = json!(action);
            audit::append(
                conn,
                &ctx.entry("training.gate_warned")
                    .entity(on.clone())
                    .after(after),
            )?;
            Ok(())
        }
    }
}
