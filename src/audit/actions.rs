//! Every action the log records, with the words the audit browser shows for
//! it. A test reads the source and fails on an action missing from here, so
//! the browser's action filter always offers every event that can occur.

/// Groups of actions, by the part before the first dot.
pub const GROUPS: &[(&str, &str)] = &[
    ("auth", "Sign-in and sessions"),
    ("user", "User accounts"),
    ("product", "Products"),
    ("nonconformance", "Nonconformances"),
    ("capa", "CAPAs"),
    ("document", "Documents"),
    ("document_version", "Document versions"),
    ("training", "Training"),
    ("training_assignment", "Training assignments"),
    ("risk_plan", "Risk management plans"),
    ("hazard", "Hazards"),
    ("risk", "Risks"),
    ("risk_report", "Risk evaluations and reports"),
    ("risk_review", "Risk review decisions (ISO 14971 10)"),
    ("requirement", "Requirements"),
    ("repository", "Repositories"),
    ("test_run", "Test runs"),
    ("trace", "Traceability"),
    ("api_token", "API tokens"),
    ("api", "API calls"),
    ("link", "Links"),
    ("attachment", "Attachments"),
    ("signature", "Electronic signatures"),
    ("mail", "Mail"),
    ("access", "Access"),
    ("audit", "Audit log"),
    ("system", "System"),
];

/// `(action, label)`, grouped as `GROUPS`.
pub const ACTIONS: &[(&str, &str)] = &[
    ("auth.login", "Signed in"),
    ("auth.login_failed", "Sign-in refused"),
    ("auth.logout", "Signed out"),
    ("auth.session_expired", "Session expired"),
    ("auth.session_ended", "Session ended"),
    ("auth.password_check_failed", "Wrong current password"),
    ("user.created", "User created"),
    ("user.updated", "User details changed"),
    ("user.roles_changed", "Roles changed"),
    ("user.disabled", "User disabled"),
    ("user.enabled", "User enabled"),
    ("user.password_reset", "Password reset"),
    ("user.password_changed", "Password changed"),
    ("user.locked", "User locked out"),
    ("user.unlocked", "User unlocked"),
    ("user.mail_preferences_changed", "Mail preferences changed"),
    (
        "user.signature_certified",
        "Electronic signature certified (11.100(c))",
    ),
    ("product.created", "Product created"),
    ("product.updated", "Product changed"),
    ("product.archived", "Product archived"),
    ("product.restored", "Product restored"),
    ("nonconformance.created", "Nonconformance reported"),
    ("nonconformance.updated", "Nonconformance changed"),
    ("nonconformance.transition", "Nonconformance moved on"),
    (
        "nonconformance.state_restored",
        "Nonconformance back in the state it was escalated from",
    ),
    ("capa.created", "CAPA opened"),
    ("capa.updated", "CAPA details changed"),
    ("capa.investigation_updated", "CAPA investigation recorded"),
    ("capa.plan_updated", "CAPA verification plan changed"),
    ("capa.item_added", "CAPA action item added"),
    ("capa.item_done", "CAPA action item done"),
    ("capa.item_changed", "CAPA action item changed"),
    ("capa.transition", "CAPA moved on"),
    ("capa.exported", "CAPA list exported"),
    ("document.created", "Document created"),
    ("document.updated", "Document changed"),
    ("document.exported", "Master list exported"),
    ("document_version.created", "Document version started"),
    ("document_version.edited", "Draft edited"),
    ("document_version.transition", "Document version moved on"),
    ("document_version.printed", "Controlled copy printed"),
    ("training.curriculum_changed", "Curriculum changed"),
    ("training.settings_changed", "Training settings changed"),
    ("training.quiz_set", "Quiz set"),
    ("training.exported", "Training matrix exported"),
    (
        "training.gate_warned",
        "Signed while training overdue (warned)",
    ),
    (
        "training.gate_refused",
        "Signature refused: training overdue",
    ),
    ("training.record_printed", "Training record printed"),
    ("training_assignment.created", "Training assigned"),
    (
        "training_assignment.transition",
        "Training assignment moved on",
    ),
    ("training_assignment.opened", "Training version opened"),
    ("training_assignment.quiz_attempted", "Quiz attempted"),
    ("training_assignment.overdue", "Training overdue"),
    ("risk_plan.created", "Risk management plan started"),
    ("risk_plan.updated", "Risk management plan edited"),
    ("risk_plan.transition", "Risk management plan moved on"),
    ("hazard.created", "Hazard added"),
    ("risk.created", "Risk identified"),
    ("risk.updated", "Risk edited"),
    ("risk.transition", "Risk moved on"),
    ("risk.reevaluated", "Risk re-evaluated under a new plan"),
    ("risk.control_added", "Risk control added"),
    ("risk.control_updated", "Risk control changed"),
    ("risk.control_withdrawn", "Risk control withdrawn"),
    ("risk.needs_review", "Risk needs review"),
    ("risk.reviewed", "Risk review decision recorded"),
    ("risk.exported", "Risk file exported"),
    ("risk_report.created", "Risk evaluation or report started"),
    ("risk_report.updated", "Risk evaluation or report edited"),
    (
        "risk_report.transition",
        "Risk evaluation or report moved on",
    ),
    (
        "risk_review.requested",
        "Risk review decision asked for (ISO 14971 10)",
    ),
    (
        "risk_review.decided",
        "Risk review decision recorded (ISO 14971 10)",
    ),
    ("requirement.created", "Requirement created"),
    ("requirement.updated", "Requirement changed"),
    ("requirement.retired", "Requirement retired"),
    ("requirement.restored", "Requirement restored"),
    ("requirement.import_uploaded", "Requirement file uploaded"),
    ("requirement.imported", "Requirement file imported"),
    ("repository.created", "Repository registered"),
    ("repository.secret_rotated", "Webhook secret rotated"),
    ("repository.deactivated", "Repository deactivated"),
    ("repository.activated", "Repository activated"),
    ("repository.push_received", "Push received"),
    ("repository.ping_received", "Webhook ping received"),
    ("repository.event_ignored", "Webhook event not used"),
    ("test_run.imported", "Test results uploaded"),
    ("trace.exported", "Matrix exported"),
    ("api_token.created", "API token made"),
    ("api_token.revoked", "API token revoked"),
    ("api.called", "API called"),
    ("link.created", "Records linked"),
    ("link.removed", "Link removed"),
    ("attachment.added", "File attached"),
    ("attachment.removed", "File removed"),
    ("signature.key_issued", "Signing key issued"),
    ("signature.key_retired", "Signing key retired"),
    ("signature.refused", "Signature refused"),
    ("signature.requested", "Signature asked of a colleague"),
    ("signature.request_withdrawn", "Signature request withdrawn"),
    ("mail.retried", "Failed mail queued again"),
    ("mail.test_queued", "Test mail queued"),
    ("access.denied", "Access denied"),
    (
        "audit.restore_acknowledged",
        "Database restore acknowledged",
    ),
    ("system.initialized", "Installation set up"),
    ("system.log_key_registered", "Audit log key registered"),
    ("system.seeded", "Demonstration data seeded"),
];

/// The label of an action; an unknown one is shown as it is written.
pub fn label(action: &str) -> &str {
    ACTIONS
        .iter()
        .find(|(name, _)| *name == action)
        .map_or(action, |(_, label)| label)
}

/// What an action filter value selects: one action, or a whole group
/// (`user.*`). `None` when the value names neither.
pub fn matching(filter: &str) -> Option<Vec<&'static str>> {
    if let Some(group) = filter.strip_suffix(".*") {
        let names: Vec<&'static str> = ACTIONS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| name.split('.').next() == Some(group))
            .collect();
        return (!names.is_empty()).then_some(names);
    }
    ACTIONS
        .iter()
        .find(|(name, _)| *name == filter)
        .map(|(name, _)| vec![*name])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string literal in the source that looks like an action of a
    /// known group (`"user.created"`), and every `.entry("...")`, is
    /// catalogued: actions passed through a variable are caught too. The
    /// domain records nothing (its `capa.root_cause_required` are rule ids).
    #[test]
    fn every_recorded_action_is_in_the_catalogue() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for item in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = item.path();
                if path.is_dir() {
                    if !path.ends_with("domain") {
                        walk(&path, out);
                    }
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("audit/actions.rs")
                {
                    out.push(std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let is_action = |lit: &str| {
            lit.split_once('.').is_some_and(|(group, rest)| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.')
                    && (GROUPS.iter().any(|(g, _)| *g == group))
            })
        };
        let mut found = 0;
        for text in &files {
            let parts: Vec<&str> = text.split('"').collect();
            for (i, lit) in parts.iter().copied().enumerate() {
                let after_entry = i > 0 && parts[i - 1].trim_end().ends_with(".entry(");
                if is_action(lit) || after_entry {
                    found += 1;
                    assert!(
                        ACTIONS.iter().any(|(n, _)| *n == lit),
                        "action {lit:?} is recorded but not in audit::actions::ACTIONS"
                    );
                }
            }
        }
        assert!(found >= 19, "only {found} recorded actions found in src/");
        for (name, _) in ACTIONS {
            let group = name.split('.').next().unwrap_or_default();
            assert!(
                GROUPS.iter().any(|(g, _)| *g == group),
                "{name} has no group"
            );
        }
    }

    #[test]
    fn filters_select_one_action_or_a_group() {
        assert_eq!(matching("user.created"), Some(vec!["user.created"]));
        assert!(matching("auth.*").is_some_and(|v| v.len() == 6));
        assert_eq!(matching("nope.*"), None);
        assert_eq!(matching("user.deleted"), None);
        assert_eq!(label("auth.login"), "Signed in");
        assert_eq!(label("x.y"), "x.y");
    }
}
