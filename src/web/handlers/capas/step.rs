//! A CAPA's part in the one step handler (`POST /capas/{id}/{action}`).

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    version: i64,
    #[serde(default)]
    effectiveness_result: Option<String>,
    #[serde(default)]
    effectiveness_evidence: Option<String>,
    #[serde(default)]
    justification: Option<String>,
}

/// CAPA steps on the one step handler (`web::step`).
impl WebWorkflow for CapaWorkflow {
    const AREA: &'static str = "capas";
    type Form = ActionForm;

    fn form_version(f: &ActionForm) -> i64 {
        f.version
    }

    fn input(f: &ActionForm) -> Result<CapaInput, AppError> {
        Ok(CapaInput {
            effectiveness_result: choice(
                f.effectiveness_result.as_ref(),
                "effectiveness result",
                Effectiveness::parse,
            )?,
            effectiveness_evidence: text(f.effectiveness_evidence.as_ref()),
            justification: text(f.justification.as_ref()),
        })
    }

    fn title(c: &Capa) -> String {
        c.title.clone()
    }

    fn signed_fields(_conn: &mut DbConnection, c: &Capa) -> Result<Vec<SignedField>, AppError> {
        let field = |label, value: String| SignedField { label, value };
        let items: Vec<String> = c
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                format!(
                    "{}. {} ({}; done {}: {})",
                    n + 1,
                    i.text,
                    i.kind.label(),
                    date_text(i.done_on),
                    i.evidence
                )
            })
            .collect();
        Ok(vec![
            field("Type", c.kind.label().into()),
            field("Problem statement", c.problem.clone()),
            field("Root cause", c.root_cause.clone()),
            field(
                "Action needed",
                match c.action_required {
                    Some(true) => format!("Yes: {}", c.action_rationale),
                    Some(false) => format!("No: {}", c.action_rationale),
                    None => String::new(),
                },
            ),
            field("Action items", items.join("\n")),
            field("No adverse effect", c.no_adverse_effect.clone()),
            field("Effectiveness criteria", c.effectiveness_criteria.clone()),
            field(
                "Effectiveness result",
                c.effectiveness_result
                    .map(|r| format!("{}: {}", r.label(), c.effectiveness_evidence))
                    .unwrap_or_default(),
            ),
            field("Cancellation", c.cancel_justification.clone()),
        ])
    }

    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        rejected: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        show_page(state, s, id, Shown::of(rejected), status).await
    }

    async fn done(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        c: &Capa,
        _action: &str,
    ) -> Result<HttpResponse, AppError> {
        flash(
            state,
            s,
            "ok",
            &format!("{} is now {}.", c.key(), state_phrase(c.state)),
        )
        .await?;
        Ok(see_other(&format!("/capas/{}", c.id)))
    }
}
