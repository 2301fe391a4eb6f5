//! The record registry: each kind of record declares once how its audited
//! id and its key are formed, where its page is, what people call it and
//! who may open it. Links, the audit browser, commit-message keys, the
//! signature check and "What needs me" read it here; adding a kind of
//! record (documents, risks, complaints) is one entry in [`KINDS`].

use super::user::{Role, Roles};

/// One kind of record.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordKind {
    /// The entity type its audit entries, links and signatures name (`capa`).
    pub kind: &'static str,
    /// What people call one ("CAPA") and several ("CAPAs").
    pub name: &'static str,
    pub plural: &'static str,
    /// Its audited id is this prefix and the row number (`capa-7`).
    pub id_prefix: &'static str,
    /// Its key is this prefix and the number (`CAPA-7`), when numbered;
    /// requirement and product keys are chosen by people.
    pub key_prefix: Option<&'static str>,
    /// Its page is this path and the number (`/capas/7`); `None` when it has
    /// no page of its own.
    pub page: Option<&'static str>,
    /// Who may open its page: `None` for every signed-in user.
    pub opened_by: Option<Role>,
    /// Whether everyone who may open it may read its history (else only
    /// auditors, quality and administrators).
    pub history_for_all: bool,
    /// Whether its numbered key in a commit message (`Fixes: CAPA-7`) links
    /// the commit.
    pub in_commits: bool,
}

/// What a kind has unless it says otherwise: no numbered key, no page,
/// open to everyone, its history only for auditors, quality and
/// administrators, not named in commits.
const PLAIN: RecordKind = RecordKind {
    kind: "",
    name: "",
    plural: "",
    id_prefix: "",
    key_prefix: None,
    page: None,
    opened_by: None,
    history_for_all: false,
    in_commits: false,
};

pub const USER: RecordKind = RecordKind {
    kind: "user",
    name: "User account",
    plural: "User accounts",
    id_prefix: "u-",
    page: Some("/admin/users/"),
    opened_by: Some(Role::Admin),
    ..PLAIN
};
pub const PRODUCT: RecordKind = RecordKind {
    kind: "product",
    name: "Product",
    plural: "Products",
    id_prefix: "p-",
    page: Some("/products/"),
    history_for_all: true,
    ..PLAIN
};
pub const NONCONFORMANCE: RecordKind = RecordKind {
    kind: "nonconformance",
    name: "Nonconformance",
    plural: "Nonconformances",
    id_prefix: "nc-",
    key_prefix: Some("NC-"),
    page: Some("/nonconformances/"),
    history_for_all: true,
    in_commits: true,
    ..PLAIN
};
pub const CAPA: RecordKind = RecordKind {
    kind: "capa",
    name: "CAPA",
    plural: "CAPAs",
    id_prefix: "capa-",
    key_prefix: Some("CAPA-"),
    page: Some("/capas/"),
    history_for_all: true,
    in_commits: true,
    ..PLAIN
};
pub const DOCUMENT: RecordKind = RecordKind {
    kind: "document",
    name: "Document",
    plural: "Documents",
    id_prefix: "doc-",
    key_prefix: Some("DOC-"),
    page: Some("/documents/"),
    history_for_all: true,
    in_commits: true,
    ..PLAIN
};
/// A version of a document: its key is the document's and the number
/// (`DOC-4 v3`); its page is the document's, at that version.
pub const DOCUMENT_VERSION: RecordKind = RecordKind {
    kind: "document_version",
    name: "Document version",
    plural: "Document versions",
    id_prefix: "docv-",
    page: Some("/document-versions/"),
    history_for_all: true,
    ..PLAIN
};
/// One person's training on one document version (`TRN-12`); its page is
/// for the trainee, quality, auditors and administrators.
pub const TRAINING_ASSIGNMENT: RecordKind = RecordKind {
    kind: "training_assignment",
    name: "Training assignment",
    plural: "Training assignments",
    id_prefix: "trn-",
    key_prefix: Some("TRN-"),
    page: Some("/training/"),
    ..PLAIN
};
/// A risk of a product's risk file (`RISK-7`, ISO 14971).
pub const RISK: RecordKind = RecordKind {
    kind: "risk",
    name: "Risk",
    plural: "Risks",
    id_prefix: "risk-",
    key_prefix: Some("RISK-"),
    page: Some("/risks/"),
    history_for_all: true,
    in_commits: true,
    ..PLAIN
};
/// A version of a product's risk management plan (`RMP-3 v2`).
pub const RISK_PLAN: RecordKind = RecordKind {
    kind: "risk_plan",
    name: "Risk management plan",
    plural: "Risk management plans",
    id_prefix: "rmp-",
    page: Some("/risk-plans/"),
    history_for_all: true,
    ..PLAIN
};
/// A product's overall residual risk evaluation (`RRE-4`) or risk
/// management report (`RMR-5`).
pub const RISK_REPORT: RecordKind = RecordKind {
    kind: "risk_report",
    name: "Risk evaluation or report",
    plural: "Risk evaluations and reports",
    id_prefix: "rr-",
    page: Some("/risk-reports/"),
    history_for_all: true,
    ..PLAIN
};
/// A hazard of a product's hazard list; shown on its risk file.
pub const HAZARD: RecordKind = RecordKind {
    kind: "hazard",
    name: "Hazard",
    plural: "Hazards",
    id_prefix: "hz-",
    history_for_all: true,
    ..PLAIN
};
/// Requirement keys (`SRS-012`) are chosen per product; commits name them
/// through the product's repositories, not through this registry.
pub const REQUIREMENT: RecordKind = RecordKind {
    kind: "requirement",
    name: "Requirement",
    plural: "Requirements",
    id_prefix: "req-",
    page: Some("/requirements/"),
    history_for_all: true,
    ..PLAIN
};
pub const REQUIREMENT_IMPORT: RecordKind = RecordKind {
    kind: "requirement_import",
    name: "Requirement import",
    plural: "Requirement imports",
    id_prefix: "imp-",
    page: Some("/requirements/imports/"),
    history_for_all: true,
    ..PLAIN
};
pub const REPOSITORY: RecordKind = RecordKind {
    kind: "repository",
    name: "Repository",
    plural: "Repositories",
    id_prefix: "repo-",
    page: Some("/admin/repositories/"),
    opened_by: Some(Role::Admin),
    ..PLAIN
};
pub const MAIL: RecordKind = RecordKind {
    kind: "mail",
    name: "Mail",
    plural: "Mails",
    id_prefix: "mail-",
    page: Some("/admin/outbox/"),
    opened_by: Some(Role::Admin),
    ..PLAIN
};
pub const TEST_RUN: RecordKind = RecordKind {
    kind: "test_run",
    name: "Test run",
    plural: "Test runs",
    id_prefix: "run-",
    ..PLAIN
};
pub const API_TOKEN: RecordKind = RecordKind {
    kind: "api_token",
    name: "API token",
    plural: "API tokens",
    id_prefix: "tok-",
    ..PLAIN
};

/// Every kind of record, in the order filters list them.
pub const KINDS: &[&RecordKind] = &[
    &USER,
    &PRODUCT,
    &NONCONFORMANCE,
    &CAPA,
    &DOCUMENT,
    &DOCUMENT_VERSION,
    &TRAINING_ASSIGNMENT,
    &RISK,
    &RISK_PLAN,
    &RISK_REPORT,
    &HAZARD,
    &REQUIREMENT,
    &REQUIREMENT_IMPORT,
    &REPOSITORY,
    &TEST_RUN,
    &API_TOKEN,
    &MAIL,
];

/// The kind named `kind` (`capa`).
pub fn kind(kind: &str) -> Option<&'static RecordKind> {
    KINDS.iter().copied().find(|k| k.kind == kind)
}

/// The numbered kind whose key `key` is (`CAPA-7` → CAPA and 7), in any case.
pub fn by_key(key: &str) -> Option<(&'static RecordKind, i64)> {
    KINDS.iter().copied().find_map(|k| {
        let prefix = k.key_prefix?;
        let head = key.get(..prefix.len())?;
        if !head.eq_ignore_ascii_case(prefix) {
            return None;
        }
        let n = key[prefix.len()..].parse::<i64>().ok().filter(|n| *n > 0)?;
        Some((k, n))
    })
}

impl RecordKind {
    /// The audited id of row `n` (`capa-7`).
    pub fn id(&self, n: i64) -> String {
        format!("{}{n}", self.id_prefix)
    }

    /// The row number in an audited id of this kind (`capa-7` → 7).
    pub fn number(&self, id: &str) -> Option<i64> {
        id.strip_prefix(self.id_prefix)?
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
    }

    /// The key of row `n`, when this kind's keys are numbered (`CAPA-7`).
    pub fn key(&self, n: i64) -> Option<String> {
        self.key_prefix.map(|p| format!("{p}{n}"))
    }

    /// The page of row `n`, when it has one.
    pub fn page_of(&self, n: i64) -> Option<String> {
        self.page.map(|p| format!("{p}{n}"))
    }

    /// The page of the record with audited id `id`, for a reader with
    /// `roles`; `None` when it has no page or they may not open it.
    pub fn href(&self, id: &str, roles: &Roles) -> Option<String> {
        if self.opened_by.is_some_and(|r| !roles.contains(r)) {
            return None;
        }
        self.page_of(self.number(id)?)
    }

    /// What a link to the record with audited id `id` reads: its numbered
    /// key, or the kind's name and the id.
    pub fn label(&self, id: &str) -> String {
        match self.number(id).and_then(|n| self.key(n)) {
            Some(key) => key,
            None => format!("{} {id}", self.name),
        }
    }
}

/// The page of the record `kind`/`id` for a reader with `roles`.
pub fn href(kind_name: &str, id: &str, roles: &Roles) -> Option<String> {
    kind(kind_name)?.href(id, roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keys_and_pages_follow_each_kinds_declaration() {
        assert_eq!(CAPA.id(7), "capa-7");
        assert_eq!(CAPA.number("capa-7"), Some(7));
        assert_eq!(CAPA.number("nc-7"), None);
        assert_eq!(CAPA.number("capa-x"), None);
        assert_eq!(CAPA.key(7).as_deref(), Some("CAPA-7"));
        assert_eq!(CAPA.label("capa-7"), "CAPA-7");
        assert_eq!(PRODUCT.label("p-2"), "Product p-2");
        assert_eq!(
            by_key("capa-8").map(|(k, n)| (k.kind, n)),
            Some(("capa", 8))
        );
        assert_eq!(
            by_key("NC-3").map(|(k, n)| (k.kind, n)),
            Some(("nonconformance", 3))
        );
        assert_eq!(by_key("SRS-012"), None);
        assert_eq!(by_key("CAPA-0"), None);
        let everyone = Roles::new([Role::Engineer]);
        let admin = Roles::new([Role::Admin]);
        assert_eq!(
            href("capa", "capa-7", &everyone).as_deref(),
            Some("/capas/7")
        );
        assert_eq!(href("user", "u-3", &everyone), None);
        assert_eq!(
            href("user", "u-3", &admin).as_deref(),
            Some("/admin/users/3")
        );
        assert_eq!(href("test_run", "run-3", &admin), None);
        assert_eq!(href("spaceship", "s-1", &admin), None);
    }

    #[test]
    fn kinds_are_unique_by_name_id_prefix_and_key_prefix() {
        for (i, a) in KINDS.iter().enumerate() {
            for b in &KINDS[i + 1..] {
                assert_ne!(a.kind, b.kind);
                assert_ne!(a.id_prefix, b.id_prefix);
                assert!(a.key_prefix.is_none() || a.key_prefix != b.key_prefix);
            }
        }
    }
}
