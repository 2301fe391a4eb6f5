//! ISO 14971 risk management over HTTP (issue 17): the product's plan
//! approved by signature, the hazard list, a risk analyzed, controlled by a
//! requirement whose CI results verify it, its residual risk accepted by
//! someone other than the analyst; bad input refused with the form kept;
//! heat-map counts; the read API and the traceability matrix's risks; a new
//! plan version re-evaluating the risks.

use crate::helpers::*;
use crate::nonconformances::product;

const ELLEN_PW: &str = "granite orchard passphrase 3";
const QA_PW: &str = "approver passphrase 1";
const QA2_PW: &str = "second approver passphrase 2";

fn risk(app: &TestApp, id: i64) -> attest::domain::risk::workflow::Risk {
    attest::db::repo::risks::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
}

/// Takes step `action` on RISK-`id` as `b`, signing as `sign` when asked.
async fn act(
    app: &TestApp,
    b: &Browser,
    id: i64,
    action: &str,
    fields: &[(&str, &str)],
    sign: Option<(&str, &str)>,
) -> reqwest::Response {
    let v = risk(app, id).version.to_string();
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    let page = format!("/risks/{id}");
    let res = b.submit(&page, &format!("{page}/{action}"), &all).await;
    match sign {
        Some((user, pw)) if res.status() == 200 => {
            let html = res.text().await.unwrap();
            SignForm::of(&html).send(b, Some(user), pw).await
        }
        _ => res,
    }
}

/// Sends form `path` of RISK-`id` at its stored version.
async fn save(
    app: &TestApp,
    b: &Browser,
    id: i64,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let v = risk(app, id).version.to_string();
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    b.submit(
        &format!("/risks/{id}"),
        &format!("/risks/{id}/{path}"),
        &all,
    )
    .await
}

/// The plan's editor fields: the starting criteria with `change` applied
/// to the matrix.
fn plan_fields(change: impl Fn(&mut Vec<Vec<&'static str>>)) -> Vec<(String, String)> {
    let c = attest::domain::risk::starting_criteria();
    let mut f = vec![
        ("severity_levels".to_string(), "5".to_string()),
        ("probability_levels".to_string(), "5".to_string()),
    ];
    for (what, scale) in [("severity", &c.severity), ("probability", &c.probability)] {
        for (i, l) in scale.0.iter().enumerate() {
            f.push((format!("{what}_label_{}", i + 1), l.label.clone()));
            f.push((
                format!("{what}_description_{}", i + 1),
                l.description.clone(),
            ));
        }
    }
    let mut m: Vec<Vec<&'static str>> = c
        .matrix
        .iter()
        .map(|row| row.iter().map(|a| a.as_str()).collect())
        .collect();
    change(&mut m);
    for (s, row) in m.iter().enumerate() {
        for (p, v) in row.iter().enumerate() {
            f.push((format!("m_{}_{}", s + 1, p + 1), v.to_string()));
        }
    }
    f
}

/// quinn starts the product's next plan, saves `fields` into it and
/// approves it with his signature; the plan's id.
async fn approve_plan(app: &TestApp, qa: &Browser, fields: Option<Vec<(String, String)>>) -> i64 {
    let res = qa
        .submit("/products/1/risks", "/products/1/risk-plan", &[])
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let plan = || {
        attest::db::repo::risks::plans::find_plan(&mut app.conn(), id)
            .unwrap()
            .unwrap()
    };
    if let Some(f) = fields {
        let v = plan().version.to_string();
        let mut all: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.push(("version", &v));
        let res = qa.submit(&to, &format!("{to}/edit"), &all).await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
    let v = plan().version.to_string();
    let res = qa
        .submit(&to, &format!("{to}/approve"), &[("version", v.as_str())])
        .await;
    assert_eq!(res.status(), 200, "the signing form");
    let html = res.text().await.unwrap();
    assert!(html.contains("Approved"), "{html}");
    let res = SignForm::of(&html).send(qa, Some("quinn"), QA_PW).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(plan().state.as_str(), "approved");
    id
}

/// CI uploads `junit` for PUMP with `token`.
async fn ci(app: &TestApp, token: &str, junit: &'static str) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/test-runs?product=PUMP", app.base))
        .bearer_auth(token)
        .body(junit)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

async fn requirement(b: &Browser, product: &str, key: &str, kind: &str) {
    let f = [
        ("product_id", product),
        ("key", key),
        ("title", key),
        ("text", "The device limits leakage current to 10 µA"),
        ("kind", kind),
        ("safety_class", ""),
        ("parents", ""),
    ];
    let res = b.submit("/requirements/new", "/requirements", &f).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn a_risk_is_analyzed_controlled_verified_by_ci_and_accepted_by_someone_other_than_its_analyst()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    product(&admin, &app, "OTHER").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QA_PW).await;
    let (quincy, _) = app.user_with_roles("quincy", &["quality"], QA2_PW).await;
    requirement(&ellen, "1", "RCM-1", "risk_control").await;
    requirement(&ellen, "1", "SRS-1", "software").await;
    requirement(&ellen, "2", "RCM-9", "risk_control").await;
    let req_id = |key: &str, product: i64| {
        attest::db::repo::requirements::by_keys(&mut app.conn(), product, &[key.to_string()])
            .unwrap()
            .pop()
            .unwrap()
            .id
            .to_string()
    };

    // Before a plan is approved, a risk cannot be estimated.
    let page = ellen.get_html("/products/1/risks").await;
    assert!(page.contains("No plan is approved yet"), "{page}");
    let plan1 = approve_plan(&app, &quinn, None).await;

    // The hazard list: a category is required, the name kept when refused.
    let res = ellen
        .submit(
            "/products/1/risks",
            "/products/1/hazards",
            &[
                ("category", ""),
                ("name", "Mains voltage"),
                ("description", ""),
            ],
        )
        .await;
    let html = answers(res, 400, "Choose the hazard").await;
    assert!(html.contains("value=\"Mains voltage\""), "typed name kept");
    let res = ellen
        .submit(
            "/products/1/risks",
            "/products/1/hazards",
            &[
                ("category", "energy_electric"),
                ("name", "Mains voltage"),
                ("description", "230 V supply"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    // A severity off the plan's scale: the message on the form, input kept,
    // nothing saved.
    let new_risk = |severity: &'static str, probability: &'static str| {
        vec![
            ("hazard", "1"),
            (
                "sequence",
                "Insulation cracks; the patient touches the housing",
            ),
            ("situation", "Patient in contact with a live housing"),
            ("harm", "Electric shock"),
            ("initial_severity", severity),
            ("initial_probability", probability),
        ]
    };
    let res = ellen
        .submit(
            "/products/1/risks",
            "/products/1/risks",
            &new_risk("9", "4"),
        )
        .await;
    let html = answers(
        res,
        400,
        "Severity 9 is not on the plan&#39;s scale of 1 to 5",
    )
    .await;
    assert!(
        html.contains("Patient in contact with a live housing"),
        "typed situation kept"
    );
    assert!(app.audit_of("risk.created").is_empty(), "nothing saved");

    // S4 x P4 is unacceptable in the starting matrix.
    let res = ellen
        .submit(
            "/products/1/risks",
            "/products/1/risks",
            &new_risk("4", "4"),
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let r = risk(&app, 1);
    assert_eq!(r.initial_eval.unwrap().verdict.as_str(), "unacceptable");
    assert_eq!(r.hazard, "Mains voltage");
    assert_eq!(
        act(&app, &ellen, 1, "analyze", &[], None).await.status(),
        303
    );

    // Not acceptable: no acceptance without a control.
    let res = act(
        &app,
        &quinn,
        1,
        "accept_without_control",
        &[],
        Some(("quinn", QA_PW)),
    )
    .await;
    assert!(
        res.headers()["attest-refused-rules"]
            .to_str()
            .unwrap()
            .contains("risk.initial_not_acceptable")
    );

    // A control linked to another product's requirement, or to one of
    // another kind, is refused with the form kept.
    let control = |req: String| {
        vec![
            ("option".to_string(), "protective_measure".to_string()),
            (
                "description".to_string(),
                "Leakage current monitor cuts the supply".to_string(),
            ),
            ("requirement".to_string(), req),
            ("effectiveness".to_string(), String::new()),
        ]
    };

    let other = control(req_id("RCM-9", 2));
    let html = answers(
        save(&app, &ellen, 1, "controls", &pairs(&other)).await,
        400,
        "is a requirement of another product",
    )
    .await;
    assert!(
        html.contains("Leakage current monitor cuts the supply"),
        "typed description kept"
    );
    let software = control(req_id("SRS-1", 1));
    answers(
        save(&app, &ellen, 1, "controls", &pairs(&software)).await,
        400,
        "kind risk control",
    )
    .await;
    assert!(risk(&app, 1).controls.is_empty());
    let good = control(req_id("RCM-1", 1));
    assert_eq!(
        save(&app, &ellen, 1, "controls", &pairs(&good))
            .await
            .status(),
        303
    );
    assert_eq!(
        act(&app, &ellen, 1, "control", &[], None).await.status(),
        303
    );

    // Not verified until the requirement's tests pass and effectiveness is shown.
    let res = act(&app, &ellen, 1, "verify", &[], None).await;
    let rules = res.headers()["attest-refused-rules"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        rules.contains("risk.implementation_unverified")
            && rules.contains("risk.effectiveness_unverified"),
        "{rules}"
    );
    let token = ellen.api_token("CI", &["test-runs:write"]).await;
    let junit = r#"<testsuites><testsuite name="pump"><testcase classname="pump" name="test_rcm_1_leakage_cut"/></testsuite></testsuites>"#;
    ci(&app, &token, junit).await;
    let cid = risk(&app, 1).controls[0].id;
    let mut shown = control(req_id("RCM-1", 1));
    shown[3].1 = "Bench test with a simulated insulation fault: supply cut in 8 ms".into();
    assert_eq!(
        save(&app, &ellen, 1, &format!("controls/{cid}"), &pairs(&shown))
            .await
            .status(),
        303
    );
    assert_eq!(
        act(&app, &ellen, 1, "verify", &[], None).await.status(),
        303
    );

    // A residual worse than the initial risk needs a reason.
    let worse = [
        ("residual_severity", "5"),
        ("residual_probability", "4"),
        ("residual_reason", ""),
        ("benefit_risk", ""),
    ];
    answers(
        save(&app, &ellen, 1, "residual", &worse).await,
        400,
        "worse than the initial risk",
    )
    .await;
    let residual = [
        ("residual_severity", "4"),
        ("residual_probability", "1"),
        ("residual_reason", ""),
        ("benefit_risk", ""),
    ];
    assert_eq!(
        save(&app, &ellen, 1, "residual", &residual).await.status(),
        303
    );
    assert_eq!(
        risk(&app, 1).residual_eval.unwrap().verdict.as_str(),
        "acceptable"
    );

    // Accepted by quality, signed, never by the analyst.
    let res = act(&app, &ellen, 1, "accept", &[], Some(("ellen", ELLEN_PW))).await;
    assert_eq!(res.status(), 403, "an engineer does not accept risks");
    let res = act(&app, &quincy, 1, "accept", &[], Some(("quincy", QA2_PW))).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(risk(&app, 1).state.as_str(), "accepted");

    // Two more risks for the heat maps: S2 x P3 (twice).
    for _ in 0..2 {
        let res = ellen
            .submit(
                "/products/1/risks",
                "/products/1/risks",
                &new_risk("2", "3"),
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let page = ellen.get_html("/products/1/risks").await;
    // Initial: S4 row has 1 under P4; S2 row has 2 under P3.
    assert!(page.contains("<tr><th scope=\"row\">Critical</th><td class=\"verdict-acceptable\">0</td><td class=\"verdict-review\">0</td><td class=\"verdict-review\">0</td><td class=\"verdict-unacceptable\">1</td>"), "{page}");
    assert!(page.contains("<tr><th scope=\"row\">Minor</th><td class=\"verdict-acceptable\">0</td><td class=\"verdict-acceptable\">0</td><td class=\"verdict-acceptable\">2</td>"), "{page}");
    assert!(page.contains("Initial risks (before controls): 3 risk(s) estimated"));
    assert!(page.contains("Residual risks (after controls): 1 risk(s) estimated"));
    let cell = ellen.get_html("/products/1/risks?cell=initial-2-3").await;
    assert!(cell.contains("Showing 1–2 of 2"), "{cell}");

    // The analysis of an identified risk is edited; a hazard taken out
    // leaves no name behind.
    let edited = [
        ("hazard", ""),
        ("sequence", "Insulation cracks"),
        ("situation", "Patient in contact with a live housing"),
        ("harm", "Electric shock"),
        ("initial_severity", "2"),
        ("initial_probability", "3"),
    ];
    assert_eq!(
        save(&app, &ellen, 2, "analysis", &edited).await.status(),
        303
    );
    assert_eq!(
        (risk(&app, 2).hazard_id, risk(&app, 2).hazard.as_str()),
        (None, "")
    );

    // A risk one of RISK-1's controls introduces (7.6): each names the other.
    let res = ellen
        .submit(
            "/risks/1",
            "/products/1/risks",
            &[
                ("introduced_by", "1"),
                ("situation", "Monitor trips during defibrillation"),
                ("harm", "Therapy interrupted"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(risk(&app, 4).introduced_by, Some(1));
    assert!(
        ellen
            .get_html("/risks/1")
            .await
            .contains("<a href=\"/risks/4\">RISK-4</a>")
    );
    assert!(
        ellen
            .get_html("/risks/4")
            .await
            .contains("<a href=\"/risks/1\">RISK-1</a>")
    );
    // The requirement's page lists the risk it controls.
    let page = ellen
        .get_html(&format!("/requirements/{}", req_id("RCM-1", 1)))
        .await;
    assert!(page.contains("<a href=\"/risks/1\">RISK-1</a>"), "{page}");

    // Rewording the control's requirement raises "needs review" on RISK-1
    // (on its page and in the risk file's filter); a recorded decision
    // clears it; a failing test of the requirement raises it again.
    let rcm = req_id("RCM-1", 1);
    let v = attest::db::repo::requirements::find(&mut app.conn(), rcm.parse().unwrap())
        .unwrap()
        .unwrap()
        .version
        .to_string();
    let reworded = [
        ("version", v.as_str()),
        ("title", "RCM-1"),
        ("text", "The device limits leakage current to 5 µA"),
        ("kind", "risk_control"),
        ("safety_class", ""),
    ];
    let page = format!("/requirements/{rcm}");
    assert_eq!(ellen.submit(&page, &page, &reworded).await.status(), 303);
    assert_eq!(
        risk(&app, 1).needs_review,
        "RCM-1's statement changed (now v2)"
    );
    assert!(
        ellen
            .get_html("/risks/1")
            .await
            .contains("RCM-1&#39;s statement changed (now v2)")
    );
    let listed = ellen.get_html("/products/1/risks?review=1").await;
    assert!(
        listed.contains("Showing 1–1 of 1") && listed.contains("1 risk(s) need review"),
        "{listed}"
    );
    answers(
        save(&app, &quinn, 1, "review", &[("decision", "  ")]).await,
        400,
        "Write the review decision",
    )
    .await;
    let decided = [(
        "decision",
        "5 µA is stricter: the control and its verification still hold",
    )];
    assert_eq!(
        save(&app, &quinn, 1, "review", &decided).await.status(),
        303
    );
    assert!(risk(&app, 1).needs_review_since.is_none());
    let reviewed = app.audit_of("risk.reviewed");
    assert_eq!(reviewed.len(), 1);
    assert_eq!(reviewed[0]["reason"], decided[0].1);
    let failing = r#"<testsuites><testsuite name="pump"><testcase classname="pump" name="test_rcm_1_leakage_cut"><failure message="9 µA"/></testcase></testsuite></testsuites>"#;
    ci(&app, &token, failing).await;
    assert_eq!(
        risk(&app, 1).needs_review,
        "RCM-1's test pump::test_rcm_1_leakage_cut failed (run 2)"
    );
    assert_eq!(app.audit_of("risk.needs_review").len(), 2);

    // The read API and the traceability matrix carry the risk and its control.
    let read = quinn.api_token("read", &["read"]).await;
    let (status, body) = app.api_get("/api/v1/risks?product=PUMP", &read).await;
    assert_eq!(status, 200, "{body}");
    let first = &body["items"][0];
    assert_eq!(first["key"], "RISK-1");
    assert_eq!(first["controls"][0]["requirement"], "RCM-1");
    assert_eq!(first["initial"]["verdict"], "unacceptable");
    assert_eq!(first["residual"]["verdict"], "acceptable");
    assert_eq!(
        first["needs_review"],
        serde_json::json!(["RCM-1's test pump::test_rcm_1_leakage_cut failed (run 2)"])
    );
    let (_, matrix) = app.api_get("/api/v1/matrix?product=PUMP", &read).await;
    let row = matrix["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "RCM-1")
        .unwrap();
    assert_eq!(row["risks"], serde_json::json!(["RISK-1"]));
    let page = ellen.get_html("/traceability?product=1").await;
    assert!(
        page.contains("<td><a href=\"/risks/1\">RISK-1</a></td>"),
        "{page}"
    );

    // A new plan version where S4 x P1 needs review re-evaluates RISK-1's
    // residual risk, audited, and supersedes the first plan.
    let plan2 = approve_plan(&app, &quinn, Some(plan_fields(|m| m[3][0] = "review"))).await;
    assert_eq!(
        risk(&app, 1).residual_eval.unwrap().verdict.as_str(),
        "review"
    );
    let re = app.audit_of("risk.reevaluated");
    assert_eq!(re.len(), 1, "{re:?}");
    assert_eq!(re[0]["entity"]["key"], "RISK-1");
    let p1 = attest::db::repo::risks::plans::find_plan(&mut app.conn(), plan1)
        .unwrap()
        .unwrap();
    assert_eq!(p1.state.as_str(), "superseded");
    let p2 = attest::db::repo::risks::plans::find_plan(&mut app.conn(), plan2)
        .unwrap()
        .unwrap();
    assert!(p2.reevaluation.contains("RISK-1"), "{}", p2.reevaluation);

    // Every signature (two plan approvals, one acceptance) still verifies.
    let report = attest::service::verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.signatures >= 3);
}
