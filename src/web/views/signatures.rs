//! Electronic signatures: the signing form, the manifestation on record
//! pages, and the auditors' lists of signatures and signer keys.

use askama::Template;

use super::PageCtx;

/// One signature as every page shows it (11.50): printed name, UTC date and
/// time, meaning, and whether it verifies now.
pub struct SignatureView {
    pub id: String,
    pub record_key: String,
    pub record_href: Option<String>,
    pub name: String,
    pub username: String,
    pub signed_at: String,
    pub meaning: String,
    pub transition: String,
    pub key_id: String,
    pub verified: bool,
    /// Why it does not verify, when it does not.
    pub problem: String,
}

/// A label and a value of what is being signed.
pub struct SignedField {
    pub label: &'static str,
    pub value: String,
}

/// A field the signing form carries back unchanged.
pub struct Carried {
    pub name: String,
    pub value: String,
}

/// What a signing form shows and carries back.
pub struct SignRequest {
    pub record_key: String,
    pub record_title: String,
    pub back_to: String,
    pub post_to: String,
    pub action_label: &'static str,
    pub meaning: &'static str,
    pub fields: Vec<SignedField>,
    pub content_sha256: String,
    pub carried: Vec<Carried>,
    /// What identifies the signed message; carried back and checked.
    pub shown: crate::service::signing::Shown,
    /// A warning the signer reads before signing (overdue training on the
    /// procedure governing the step).
    pub warning: Option<String>,
}

impl SignRequest {
    /// The hidden fields that carry [`Self::shown`] back.
    pub fn shown_fields(&self) -> Vec<(&'static str, String)> {
        crate::service::signing::Shown::FIELDS
            .into_iter()
            .zip(self.shown.values())
            .collect()
    }
}

#[derive(Template)]
#[template(path = "signatures/sign.html")]
pub struct SignPage {
    pub ctx: PageCtx,
    pub r: SignRequest,
    pub signer_name: String,
    pub signer_username: String,
    pub need_username: bool,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "signatures/list.html")]
pub struct SignatureListPage {
    pub ctx: PageCtx,
    pub tab: &'static str,
    pub rows: Vec<SignatureView>,
    pub total: i64,
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// A row of the key history.
pub struct KeyView {
    pub key_id: String,
    pub owner: String,
    pub username: String,
    pub public_key: String,
    pub valid_from: String,
    pub valid_until: String,
    pub active: bool,
    pub retired_reason: String,
}

#[derive(Template)]
#[template(path = "signatures/keys.html")]
pub struct KeyListPage {
    pub ctx: PageCtx,
    pub tab: &'static str,
    pub rows: Vec<KeyView>,
    pub total: i64,
    pub newer: Option<String>,
    pub older: Option<String>,
}
