//! The Attachments section of record pages (`partials/attachments.html`).

use crate::db::repo::attachments::Attachment;
use crate::web::views::audit::Choice;

/// One attachment as a record page lists it.
pub struct AttachmentView {
    pub id: i64,
    /// Shown escaped, as every name is.
    pub name: String,
    pub size: String,
    pub sha256: String,
    /// What of the record it belongs to ("Action item 2").
    pub part: String,
    pub part_id: String,
    pub added_by: String,
    pub added_at: String,
    /// Who removed it, when and why (it stays listed, crossed out).
    pub removed: Option<String>,
    /// Whether this reader may remove it.
    pub can_remove: bool,
}

/// A size as people read it.
pub fn size_text(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

impl AttachmentView {
    pub fn new(
        a: &Attachment,
        part: String,
        name_of: &dyn Fn(i64) -> String,
        can_remove: bool,
    ) -> Self {
        Self {
            id: a.id,
            name: a.name.clone(),
            size: size_text(a.size),
            sha256: a.sha256.clone(),
            part,
            part_id: a.part.clone(),
            added_by: name_of(a.added_by),
            added_at: a.added_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            removed: a.removed.as_ref().map(|r| {
                format!(
                    "Removed by {} on {}: {}",
                    name_of(r.by),
                    r.at.format("%Y-%m-%d %H:%M UTC"),
                    r.reason
                )
            }),
            can_remove: can_remove && a.removed.is_none(),
        }
    }
}

/// A record page's Attachments section.
pub struct AttachmentsPanel {
    pub list: Vec<AttachmentView>,
    /// Where files are posted (`/attachments/capa/capa-7`), when this
    /// reader may attach any.
    pub post_to: Option<String>,
    /// What a file may be attached to, when the record has parts.
    pub parts: Vec<Choice>,
    /// The largest file taken, in people's words ("50 MB").
    pub limit: String,
}

impl AttachmentsPanel {
    /// The forms the section shows (for `Sent::place`): the upload form and
    /// each removal form.
    pub fn forms(&self) -> Vec<String> {
        let mut out: Vec<String> = self.post_to.iter().map(|_| "attach".to_string()).collect();
        out.extend(
            self.list
                .iter()
                .filter(|a| a.can_remove)
                .map(|a| format!("remove-{}", a.id)),
        );
        out
    }

    /// The files attached to `part` (an action item's evidence), not removed.
    pub fn of_part(&self, part: &str) -> Vec<&AttachmentView> {
        self.list
            .iter()
            .filter(|a| a.part_id == part && a.removed.is_none())
            .collect()
    }
}
