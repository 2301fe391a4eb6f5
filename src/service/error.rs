//! The one error of record operations: every service that creates, edits,
//! steps, signs, imports or exports a record answers with [`RecordError`],
//! and the web layer maps it to a status in one place (`web::error`). The
//! database's own words never reach a person through it: a storage fault
//! is mapped by its kind, a unique-constraint violation by the field it
//! names.

use crate::audit::AuditError;
use crate::domain::user::FieldError;
use crate::domain::workflow::Refused;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No such record, or the person cannot see it.
    #[error("no such record")]
    NotFound,
    /// Someone saved the record after the person opened it.
    #[error(
        "this record was changed by someone else after you opened the page (or the form was sent twice); reload it and try again"
    )]
    Stale,
    /// What the person typed cannot be saved: each message names its field
    /// (an empty field name is about the form as a whole).
    #[error("{}", messages(.0))]
    Invalid(Vec<FieldError>),
    /// Another record already holds a value that is never reused.
    #[error("{message}")]
    Taken {
        field: &'static str,
        message: String,
    },
    #[error("a reason is required")]
    NoReason,
    /// The record as it stands does not allow the change (the last
    /// administrator, one's own account).
    #[error("{0}")]
    Conflict(String),
    /// The workflow engine refused the step.
    #[error("{0}")]
    Refused(Refused),
    #[error("{action} needs your electronic signature with the meaning {meaning:?}")]
    SignatureRequired {
        action: &'static str,
        meaning: &'static str,
    },
    #[error("you cannot sign: {0}")]
    Signer(#[from] SignerRefused),
    /// The signing form showed something other than what would be signed
    /// (another record, step, meaning, version or content): nothing signed.
    #[error(
        "nothing was signed: what the signing form showed you is not what would be signed now ({}). Open the record again and sign what it shows",
        .0.join("; ")
    )]
    NotAsShown(Vec<String>),
    /// Something on the server's side that is no one's mistake (no random
    /// bytes, a secret that could not be sealed, an export that could not
    /// be rendered): a 500, details in the log.
    #[error("{0}")]
    Fault(String),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("database error: {0}")]
    Storage(#[from] diesel::result::Error),
}

/// Why the signer may not sign now (checked inside the transaction).
#[derive(Debug, thiserror::Error)]
pub enum SignerRefused {
    #[error("disabled accounts cannot sign")]
    Disabled,
    #[error("the account is locked after wrong passwords; it cannot sign until the lock ends")]
    Locked,
    #[error(
        "your signing key changed while you were signing (a password change or reset); sign again"
    )]
    KeyChanged,
}

fn messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl RecordError {
    /// A refusal of the form as a whole (no one field is at fault).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new("", message)])
    }

    /// A refusal of one field's value.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// A value another record holds already.
    pub fn taken(field: &'static str, message: impl Into<String>) -> Self {
        Self::Taken {
            field,
            message: message.into(),
        }
    }

    /// A fault on the server's side.
    pub fn fault(e: impl std::fmt::Display) -> Self {
        Self::Fault(e.to_string())
    }

    /// A signing form sent to a step that needs no signature (another step,
    /// or values that make this one unsigned): refused, nothing done.
    pub fn unsigned_step(action: &str) -> Self {
        Self::NotAsShown(vec![format!(
            "the step “{action}” with these values needs no signature: the signing form was for another step or other values"
        )])
    }

    /// Stable ids of why a change was refused (`capa.root_cause_required`,
    /// `workflow.wrong_state`, `record.stale`, `signing.not_as_shown`), for programs and tests that
    /// must not depend on the wording; empty for a fault.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        match self {
            Self::Refused(r) => r.rule_ids(),
            Self::NotFound => vec!["record.not_found"],
            Self::Stale => vec!["record.stale"],
            Self::Invalid(_) => vec!["record.invalid"],
            Self::Taken { .. } => vec!["record.taken"],
            Self::NoReason => vec!["record.reason_required"],
            Self::Conflict(_) => vec!["record.conflict"],
            Self::SignatureRequired { .. } => vec!["signing.required"],
            Self::Signer(SignerRefused::Disabled) => vec!["signing.signer_disabled"],
            Self::Signer(SignerRefused::Locked) => vec!["signing.signer_locked"],
            Self::Signer(SignerRefused::KeyChanged) => vec!["signing.key_changed"],
            Self::NotAsShown(_) => vec!["signing.not_as_shown"],
            Self::Fault(_) | Self::Audit(_) | Self::Storage(_) => Vec::new(),
        }
    }

    /// The messages of an `Invalid` refusal, one per field; empty for any
    /// other error.
    pub fn field_messages(&self) -> Vec<String> {
        match self {
            Self::Invalid(errors) => errors.iter().map(|e| e.message.clone()).collect(),
            _ => Vec::new(),
        }
    }
}
