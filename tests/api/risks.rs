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
    // The matrix's exports carry it: ReqIF with the risk as a spec-object
    // and RCM-1's relation to it, JSON with the risks column.
    for (format, carries) in [
        (
            "reqif",
            "<SOURCE><SPEC-OBJECT-REF>req-RCM-1</SPEC-OBJECT-REF></SOURCE><TARGET><SPEC-OBJECT-REF>risk-RISK-1</SPEC-OBJECT-REF></TARGET>",
        ),
        ("json", "\"RISK-1\""),
    ] {
        let res = ellen
            .submit(
                "/traceability/exports?product=1",
                "/traceability/exports",
                &[("product_id", "1"), ("format", format)],
            )
            .await;
        assert_eq!(res.status(), 303, "{format}");
        let to = res.headers()["location"].to_str().unwrap().to_string();
        let file = ellen.get(&format!("{to}/file")).await.text().await.unwrap();
        assert!(file.contains(carries), "{format}: {file}");
    }

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

/// Takes step `action` on RRE/RMR row `id` as `b`, signed by `sign`.
async fn report_step(
    app: &TestApp,
    b: &Browser,
    id: i64,
    sign: Option<(&str, &str)>,
) -> reqwest::Response {
    let v = report(app, id).version.to_string();
    let page = format!("/risk-reports/{id}");
    let res = b
        .submit(
            &page,
            &format!("{page}/approve"),
            &[("version", v.as_str())],
        )
        .await;
    match sign {
        Some((user, pw)) if res.status() == 200 => {
            let html = res.text().await.unwrap();
            SignForm::of(&html).send(b, Some(user), pw).await
        }
        _ => res,
    }
}

fn report(app: &TestApp, id: i64) -> attest::domain::risk::report::RiskReport {
    attest::db::repo::risk_reports::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
}

/// quinn starts the product's draft of `kind` and writes its conclusion;
/// the draft's id.
async fn draft_report(app: &TestApp, qa: &Browser, kind: &str, conclusion: &str) -> i64 {
    let res = qa
        .submit(
            "/products/1/risks",
            "/products/1/risk-reports",
            &[("kind", kind)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    if !conclusion.is_empty() {
        let v = report(app, id).version.to_string();
        let res = qa
            .submit(
                &to,
                &format!("{to}/edit"),
                &[("version", v.as_str()), ("conclusion", conclusion)],
            )
            .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
    id
}

fn refused_rules(res: &reqwest::Response) -> String {
    res.headers()
        .get("attest-refused-rules")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_risk_file_closes_with_signed_reports_and_production_information_reopens_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "PUMP").await;
    let other = product(&admin, &app, "OTHER").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QA_PW).await;
    let (quincy, _) = app.user_with_roles("quincy", &["quality"], QA2_PW).await;
    approve_plan(&app, &quinn, None).await;
    let res = ellen
        .submit(
            "/products/1/risks",
            "/products/1/hazards",
            &[
                ("category", "energy_thermal"),
                ("name", "Hot surface"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = ellen
        .submit(
            "/products/1/risks",
            "/products/1/risks",
            &[
                ("hazard", "1"),
                ("sequence", "The heater stays on"),
                ("situation", "Hand on a warm housing"),
                ("harm", "Discomfort"),
                ("initial_severity", "1"),
                ("initial_probability", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

    // The risk file lists the report's checks as the file stands.
    let file = quinn.get_html("/products/1/risks").await;
    assert!(file.contains("Every risk is accepted"), "{file}");
    assert!(file.contains("1 risk not accepted"), "{file}");

    // The overall residual risk evaluation (7.7): refused without a
    // conclusion and while a risk is not accepted, each check named.
    let rre = draft_report(&app, &quinn, "evaluation", "").await;
    let page = quinn.get_html(&format!("/risk-reports/{rre}")).await;
    assert!(page.contains(&format!("RRE-{rre}")), "{page}");
    assert!(page.contains("Every risk is evaluated"), "{page}");
    let res = report_step(&app, &quinn, rre, Some(("quinn", QA_PW))).await;
    let rules = refused_rules(&res);
    assert!(rules.contains("risk_report.no_conclusion"), "{rules}");
    assert!(rules.contains("risk_report.not_accepted"), "{rules}");
    assert!(!rules.contains("risk_report.not_evaluated"), "{rules}");
    // Only quality writes the conclusion.
    let v = report(&app, rre).version.to_string();
    let res = ellen
        .submit(
            &format!("/risk-reports/{rre}"),
            &format!("/risk-reports/{rre}/edit"),
            &[("version", v.as_str()), ("conclusion", "x")],
        )
        .await;
    assert_eq!(res.status(), 403);
    draft_report(
        &app,
        &quinn,
        "evaluation",
        "The overall residual risk is acceptable against the benefit of home infusion.",
    )
    .await;
    assert_eq!(
        act(&app, &ellen, 1, "analyze", &[], None).await.status(),
        303
    );
    let res = act(
        &app,
        &quinn,
        1,
        "accept_without_control",
        &[],
        Some(("quinn", QA_PW)),
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

    // Now every check holds: the signing form shows them, the signature
    // binds them, and approving keeps them as they were.
    let v = report(&app, rre).version.to_string();
    let page = format!("/risk-reports/{rre}");
    let res = quinn
        .submit(
            &page,
            &format!("{page}/approve"),
            &[("version", v.as_str())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("✓ Every risk is accepted (0 risks not accepted)"),
        "{html}"
    );
    assert!(html.contains("benefit of home infusion"), "{html}");
    let res = SignForm::of(&html).send(&quinn, Some("quinn"), QA_PW).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let approved = report(&app, rre);
    assert_eq!(approved.state.as_str(), "approved");
    assert!(approved.checks.iter().all(|c| c.passed));
    assert_eq!(approved.checks.len(), 8);
    assert!(approved.plan_id.is_some());

    // The report (8) needs the approved evaluation, and names it.
    let rmr = draft_report(
        &app,
        &quinn,
        "report",
        "The plan was carried out; post-production information is collected by complaint handling and CAPA.",
    )
    .await;
    // The signature binds the checks as the signing form showed them: a
    // new plan version approved in between (every check still holding, the
    // plan they name changed), and the signature is refused. (A check that
    // stops holding is refused before, by the step's guard.)
    let res = report_step(&app, &quincy, rmr, None).await;
    assert_eq!(res.status(), 200, "the signing form");
    let form = res.text().await.unwrap();
    approve_plan(&app, &quinn, None).await;
    let res = SignForm::of(&form)
        .send(&quincy, Some("quincy"), QA2_PW)
        .await;
    assert_eq!(res.status(), 409);
    assert!(refused_rules(&res).contains("signing.not_as_shown"));
    assert_eq!(report(&app, rmr).state.as_str(), "draft");
    let res = report_step(&app, &quincy, rmr, Some(("quincy", QA2_PW))).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let page = ellen.get_html(&format!("/risk-reports/{rmr}")).await;
    assert!(
        page.contains(&format!("The overall residual risk evaluation is approved <span class=\"muted small\">(RRE-{rre})")),
        "{page}"
    );
    let file = ellen.get_html("/products/1/risks").await;
    assert!(file.contains(&format!("RMR-{rmr}")), "{file}");

    // Production and post-production (10): escalating a nonconformance on
    // the product asks quality for a risk review decision, with an event.
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields(
                "Housing too hot",
                &pid,
                "high",
                "48 °C measured on the housing",
            ),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc = crate::nonconformances::nc_id(&app);
    for step in ["start_review", "escalate_to_capa"] {
        let res = crate::nonconformances::act(&app, &quinn, nc, step, &[]).await;
        assert_eq!(res.status(), 303, "{step}");
    }
    assert_eq!(app.audit_of("risk_review.requested").len(), 1);
    let events = attest::db::repo::events::of_record(
        &mut app.conn(),
        "nonconformance",
        &format!("nc-{nc}"),
        100,
    )
    .unwrap();
    let asked: Vec<_> = events
        .iter()
        .filter(|e| e.kind.as_str() == "risk_review_requested")
        .collect();
    assert_eq!(asked.len(), 1, "{events:?}");
    assert_eq!(asked[0].data["asked_on"], "escalate_to_capa");
    let page = quinn.get_html(&format!("/nonconformances/{nc}")).await;
    assert!(page.contains("id=\"risk-review-form\""), "{page}");
    let dash = quinn.get_html("/").await;
    assert!(
        dash.contains(&format!("NC-{nc}: risk review decision")),
        "{dash}"
    );
    let page = ellen.get_html(&format!("/nonconformances/{nc}")).await;
    assert!(!page.contains("id=\"risk-review-form\""), "quality decides");
    // The risk file is no longer complete.
    let file = quinn.get_html("/products/1/risks").await;
    assert!(file.contains("1 decision waiting"), "{file}");

    // A decision without its reasoning, or naming a risk of no file, is
    // refused with the form kept.
    let post = format!("/risk-reviews/nonconformance/{nc}");
    let page = format!("/nonconformances/{nc}");
    let res = quinn
        .submit(
            &page,
            &post,
            &[
                ("decision", "update_risk"),
                ("risk", "RISK-99"),
                ("note", ""),
            ],
        )
        .await;
    let html = answers(res, 400, "Write why").await;
    assert!(html.contains("value=\"RISK-99\""), "typed risk kept");
    let res = quinn
        .submit(
            &page,
            &post,
            &[
                ("decision", "update_risk"),
                ("risk", "RISK-99"),
                ("note", "The housing runs hotter"),
            ],
        )
        .await;
    answers(res, 400, "There is no RISK-99 in this product").await;
    assert!(app.audit_of("risk_review.decided").is_empty());
    let res = ellen
        .submit(
            &format!("/nonconformances/{nc}"),
            &post,
            &[("decision", "no_new_hazard"), ("risk", ""), ("note", "x")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        app.audit_of("access.denied").iter().any(|e| e
            .to_string()
            .contains(&format!("/risk-reviews/nonconformance/{nc}"))),
        "the refusal is audited"
    );
    let res = quinn
        .submit(
            &page,
            &post,
            &[
                ("decision", "update_risk"),
                ("risk", "risk-1"),
                (
                    "note",
                    "The housing runs hotter than estimated: probability to revisit",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let decided = app.audit_of("risk_review.decided");
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["entity"]["key"], format!("NC-{nc}"));
    assert_eq!(decided[0]["after"]["risk"], "RISK-1");
    // Recorded once; RISK-1 is linked and needs review.
    let res = quinn
        .submit(
            &page,
            &post,
            &[
                ("decision", "no_new_hazard"),
                ("risk", ""),
                ("note", "again"),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    let r = risk(&app, 1);
    assert!(
        r.needs_review.contains(&format!("NC-{nc} linked")),
        "{}",
        r.needs_review
    );
    let page = ellen.get_html("/risks/1").await;
    assert!(
        page.contains(&format!("href=\"/nonconformances/{nc}\"")),
        "{page}"
    );
    let page = ellen.get_html(&format!("/nonconformances/{nc}")).await;
    assert!(page.contains("An existing risk is to be updated"), "{page}");
    assert!(page.contains("href=\"/risks/1\""), "{page}");

    // The next report is refused while the risk needs review.
    let rmr2 = draft_report(&app, &quinn, "report", "Again").await;
    let res = report_step(&app, &quinn, rmr2, Some(("quinn", QA_PW))).await;
    let rules = refused_rules(&res);
    assert!(rules.contains("risk_report.needs_review"), "{rules}");
    assert!(!rules.contains("risk_report.reviews_waiting"), "{rules}");

    // Linking from the risk's page: a record of another product is refused
    // with the key kept; the CAPA opened from the NC is linked.
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields("Other", &other, "low", "x"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let other_nc = crate::nonconformances::nc_id(&app);
    let res = ellen
        .submit(
            "/risks/1",
            "/risks/1/links",
            &[("key", &format!("NC-{other_nc}"))],
        )
        .await;
    let html = answers(res, 400, "is about another product").await;
    assert!(
        html.contains(&format!("value=\"NC-{other_nc}\"")),
        "key kept"
    );
    let capa = attest::db::repo::nonconformances::find(&mut app.conn(), nc)
        .unwrap()
        .unwrap()
        .capa_id
        .unwrap();
    let res = ellen
        .submit(
            "/risks/1",
            "/risks/1/links",
            &[("key", &format!("capa-{capa}"))],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        risk(&app, 1)
            .needs_review
            .contains(&format!("CAPA-{capa} linked"))
    );
    let res = ellen
        .submit(
            "/risks/1",
            "/risks/1/links",
            &[("key", &format!("CAPA-{capa}"))],
        )
        .await;
    answers(res, 400, "linked to CAPA").await;

    // A new risk from a closed CAPA (10): closing it without action asks
    // again; "a new risk" identifies one in the file, linked to the CAPA.
    let cpage = format!("/capas/{capa}");
    let cv = |app: &TestApp| {
        attest::db::repo::capas::find(&mut app.conn(), capa)
            .unwrap()
            .unwrap()
            .version
            .to_string()
    };
    let v = cv(&app);
    let owner = quinn_id.to_string();
    let res = quinn
        .submit(
            &cpage,
            &format!("{cpage}/details"),
            &[
                ("version", v.as_str()),
                ("title", "Housing too hot"),
                ("kind", "corrective"),
                ("source", "nonconformance"),
                ("source_ref", &format!("NC-{nc}")),
                ("product_id", &pid),
                ("problem", "48 °C measured on the housing"),
                ("priority", "high"),
                ("owner_id", &owner),
                ("due_on", ""),
                ("containment", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let v = cv(&app);
    let res = quinn
        .submit(
            &cpage,
            &format!("{cpage}/start_investigation"),
            &[("version", v.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let v = cv(&app);
    let res = quinn
        .submit(
            &cpage,
            &format!("{cpage}/investigation"),
            &[
                ("version", v.as_str()),
                ("rca_method", "other"),
                ("root_cause", "Thermostat tolerance"),
                ("action_required", "no"),
                ("action_rationale", "Within specification"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let v = cv(&app);
    let res = quincy
        .submit(
            &cpage,
            &format!("{cpage}/close_no_action"),
            &[("version", v.as_str())],
        )
        .await;
    assert_eq!(res.status(), 200, "the signing form");
    let html = res.text().await.unwrap();
    let res = SignForm::of(&html)
        .send(&quincy, Some("quincy"), QA2_PW)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(app.audit_of("risk_review.requested").len(), 2);
    let res = quinn
        .submit(
            &cpage,
            &format!("/risk-reviews/capa/{capa}"),
            &[
                ("decision", "new_risk"),
                ("risk", ""),
                ("note", "A thermostat stuck closed is a hazard of its own"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let new = risk(&app, 2);
    assert_eq!(new.state.as_str(), "identified");
    assert!(
        new.sequence.starts_with(&format!("From CAPA-{capa}")),
        "{}",
        new.sequence
    );
    let page = quinn.get_html(&cpage).await;
    assert!(page.contains("A new risk is identified"), "{page}");
    assert!(page.contains("href=\"/risks/2\""), "{page}");

    // Evidence of a control's effectiveness is attached to that control.
    requirement(&ellen, "1", "RCM-1", "risk_control").await;
    let rcm = attest::db::repo::requirements::by_keys(&mut app.conn(), 1, &["RCM-1".to_string()])
        .unwrap()
        .pop()
        .unwrap()
        .id
        .to_string();
    let v = risk(&app, 2).version.to_string();
    let res = ellen
        .submit(
            "/risks/2",
            "/risks/2/analysis",
            &[
                ("version", v.as_str()),
                ("hazard", "1"),
                ("sequence", "Thermostat sticks closed"),
                ("situation", "Housing overheats"),
                ("harm", "Burn"),
                ("initial_severity", "3"),
                ("initial_probability", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(
        act(&app, &ellen, 2, "analyze", &[], None).await.status(),
        303
    );
    let control = [
        ("option", "protective_measure"),
        ("description", "Thermal fuse opens at 60 °C"),
        ("requirement", rcm.as_str()),
        ("effectiveness", "Fuse tested at 60 °C on 10 units"),
    ];
    assert_eq!(
        save(&app, &ellen, 2, "controls", &control).await.status(),
        303
    );
    let control_id = risk(&app, 2).controls[0].id;
    let res = crate::attachments::attach(
        &ellen,
        ("/risks/2", "/attachments/risk/risk-2"),
        &format!("risk-control-{control_id}"),
        (
            "fuse-test.txt",
            b"10 of 10 fuses opened between 58 and 61 C",
        ),
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let page = ellen.get_html("/risks/2").await;
    assert!(page.contains("<strong>Evidence:</strong>"), "{page}");
    assert!(page.contains("fuse-test.txt"), "{page}");
    assert_eq!(app.audit_of("attachment.added").len(), 1);
    // Not on a control of another risk.
    let res = crate::attachments::attach(
        &ellen,
        ("/risks/1", "/attachments/risk/risk-1"),
        &format!("risk-control-{control_id}"),
        ("x.txt", b"x"),
    )
    .await;
    assert_eq!(res.status(), 404);

    // The risk file exported (CSV, kept with a signed manifest): a line a
    // risk with its estimates, controls, their requirements and tests, and
    // the records linked to it; the filters apply.
    let res = export_form(&ellen, "/products/1/risks/export", &[("format", "csv")]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let list = ellen.get_html("/risk-exports").await;
    let id: i64 = list
        .split("id=\"export-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let csv = ellen
        .get(&format!("/risk-exports/{id}/file"))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two risks: {csv}");
    assert!(lines[0].starts_with("key,state,hazard,"), "{csv}");
    assert!(
        lines[1].starts_with("RISK-1,accepted,Hot surface,")
            && lines[1].contains(",1,1,1,acceptable,"),
        "{csv}"
    );
    assert!(
        lines[1].contains(&format!("NC-{nc} CAPA-{capa}")),
        "linked records: {csv}"
    );
    assert!(
        lines[2].contains("Protective measure: Thermal fuse opens at 60 °C,RCM-1,no,"),
        "{csv}"
    );
    let manifest = ellen.get(&format!("/risk-exports/{id}/manifest")).await;
    assert_eq!(manifest.status(), 200);
    let manifest = manifest.bytes().await.unwrap().to_vec();
    let vkey = ellen.get("/audit/key").await.text().await.unwrap();
    let checked = attest::trace::manifest::verify(csv.as_bytes(), &manifest, &vkey)
        .unwrap_or_else(|e| panic!("the manifest does not verify: {e}"));
    assert_eq!(checked.manifest.product, "risk file of PUMP");
    assert_eq!(app.audit_of("risk.exported").len(), 1);
    let res = export_form(
        &ellen,
        "/products/1/risks/export",
        &[("state", "identified"), ("format", "xlsx")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let kept = app.audit_of("risk.exported");
    assert_eq!(kept[1]["after"]["rows"], 0, "no risk is identified now");
    assert_eq!(
        ellen.get("/documents/exports/1/file").await.status(),
        404,
        "not served as a document export"
    );

    // The plan's next version splits probability into P1 x P2: turned on,
    // the editor comes back with the P1 and P2 scales and their table to
    // fill in (nothing saved); filled in, they are saved and shown.
    let res = quinn
        .submit("/products/1/risks", "/products/1/risk-plan", &[])
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let plan2: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let plan_version = |app: &TestApp| {
        attest::db::repo::risks::plans::find_plan(&mut app.conn(), plan2)
            .unwrap()
            .unwrap()
            .version
            .to_string()
    };
    let mut f = plan_fields(|_| {});
    f.push(("split".into(), "yes".into()));
    f.push(("version".into(), plan_version(&app)));
    let res = quinn.submit(&to, &format!("{to}/edit"), &pairs(&f)).await;
    let html = answers(res, 400, "P1").await;
    assert!(html.contains("name=\"p1_label_3\""), "{html}");
    assert!(html.contains("name=\"c_3_3\""), "{html}");
    let mut f = plan_fields(|_| {});
    f.push(("split".into(), "yes".into()));
    f.push(("version".into(), plan_version(&app)));
    for (what, labels) in [
        ("p1", ["Rare", "Occasional", "Frequent"]),
        ("p2", ["Unlikely", "Possible", "Likely"]),
    ] {
        f.push((format!("{what}_levels"), "3".into()));
        for (i, l) in labels.iter().enumerate() {
            f.push((format!("{what}_label_{}", i + 1), l.to_string()));
            f.push((format!("{what}_description_{}", i + 1), String::new()));
        }
    }
    for a in 1..=3 {
        for b in 1..=3 {
            f.push((format!("c_{a}_{b}"), (a + b - 1).to_string()));
        }
    }
    let res = quinn.submit(&to, &format!("{to}/edit"), &pairs(&f)).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let split = attest::db::repo::risks::plans::find_plan(&mut app.conn(), plan2)
        .unwrap()
        .unwrap()
        .criteria
        .split
        .expect("the split is saved");
    assert_eq!(
        split.combine,
        vec![vec![1, 2, 3], vec![2, 3, 4], vec![3, 4, 5]]
    );
    assert_eq!(split.p2.0[2].label, "Likely");
    let page = ellen.get_html(&to).await;
    assert!(page.contains("P1 × P2"), "{page}");

    // Every signature still verifies: plan, acceptance, evaluation, report,
    // CAPA closure.
    let report = attest::service::verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.signatures >= 5);
}

/// Posts the risk file's export form as `b`.
async fn export_form(b: &Browser, to: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    b.submit("/products/1/risks", to, fields).await
}

/// Random walks through the stored services (the domain's walks check the
/// guards on records in memory; these go through the transition service,
/// the database, the signatures and the CI results): whatever is tried, in
/// any order, by any of three people, a risk is never accepted with an
/// unacceptable residual risk and no benefit-risk rationale, never verified
/// without every control's requirement passing its latest tests, and never
/// accepted by its analyst; every signature still verifies at the end.
#[tokio::test]
async fn random_walks_through_the_stored_risk_file_keep_the_rules() {
    use attest::domain::risk::workflow::{RiskInput, RiskState, RiskWorkflow};
    use attest::seed::walk::{self, Signer};
    use attest::service::risks::{self as svc, Analysis, ControlText, EstimateText, Residual};
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QA_PW).await;
    let (_, quincy_id) = app.user_with_roles("quincy", &["quality"], QA2_PW).await;
    approve_plan(&app, &quinn, None).await;
    requirement(&ellen, "1", "RCM-1", "risk_control").await;
    requirement(&ellen, "1", "RCM-2", "risk_control").await;
    let token = ellen.api_token("CI", &["test-runs:write"]).await;
    ci(
        &app,
        &token,
        r#"<testsuites><testsuite name="pump"><testcase classname="pump" name="test_rcm_1_cut"/></testsuite></testsuites>"#,
    )
    .await;
    let req = |key: &str| {
        attest::db::repo::requirements::by_keys(&mut app.conn(), 1, &[key.to_string()])
            .unwrap()
            .pop()
            .unwrap()
            .id
    };
    let (rcm1, rcm2) = (req("RCM-1"), req("RCM-2"));
    let mut conn = app.conn();
    let ctx = attest::service::Ctx {
        log: app.log_origin.clone(),
        actor: attest::audit::Actor::system(),
        now: app.clock.now(),
        op: None,
    };
    let hazard = svc::add_hazard(
        &mut conn,
        &ctx,
        ellen_id,
        1,
        ("energy_electric", "Mains", ""),
    )
    .unwrap()
    .id;
    let account = |conn: &mut attest::db::DbConnection, id: i64| {
        walk::account(conn, attest::domain::ids::UserId(id)).unwrap()
    };
    let people = [
        account(&mut conn, ellen_id),
        account(&mut conn, quinn_id),
        account(&mut conn, quincy_id),
    ];
    let mut signers = [
        None,
        Some(Signer::open(&mut conn, people[1].clone(), QA_PW).unwrap()),
        Some(Signer::open(&mut conn, people[2].clone(), QA2_PW).unwrap()),
    ];
    let mut g: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut roll = |n: u64| {
        g ^= g << 13;
        g ^= g >> 7;
        g ^= g << 17;
        g % n
    };
    let mut ids = Vec::new();
    for i in 0..6 {
        let a = Analysis {
            hazard: hazard.to_string(),
            sequence: format!("Sequence {i}"),
            situation: format!("Situation {i}"),
            harm: format!("Harm {i}"),
            estimate: EstimateText::default(),
        };
        ids.push(
            svc::identify(&mut conn, &ctx, ellen_id, 1, &a, None)
                .unwrap()
                .id,
        );
    }
    let stored = |conn: &mut attest::db::DbConnection, id: i64| {
        <RiskWorkflow as attest::service::workflow::Stored>::load(conn, id)
            .unwrap()
            .unwrap()
    };
    let estimate = |s: u64, p: u64| EstimateText {
        severity: s.to_string(),
        probability: p.to_string(),
        ..EstimateText::default()
    };
    let (mut taken, mut refused_analyst, mut accepted, mut verified) = (0, 0, 0, 0);
    for _ in 0..1500 {
        let id = ids[roll(ids.len() as u64) as usize];
        let person = roll(3) as usize;
        let r = stored(&mut conn, id);
        let before = r.clone();
        let step = match roll(10) {
            0 => "analyze",
            1 => "accept_without_control",
            2 => "control",
            3 => "verify",
            4 => "accept",
            5 => "reopen",
            _ => "",
        };
        if step.is_empty() {
            // An edit: the analysis, a control, the residual risk.
            let _ = match roll(5) {
                3 | 4 if !r.controls.is_empty() => {
                    // A control withdrawn, or its effectiveness recorded.
                    let c = &r.controls[roll(r.controls.len() as u64) as usize];
                    if c.requirement == Some(rcm2) {
                        svc::withdraw_control(&mut conn, &ctx, (id, r.version, c.id))
                    } else {
                        svc::update_control(
                            &mut conn,
                            &ctx,
                            (id, r.version, c.id),
                            &ControlText {
                                option: c.option.as_str().into(),
                                description: c.description.clone(),
                                requirement: rcm1.to_string(),
                                effectiveness: "Shown on the bench".into(),
                            },
                        )
                    }
                }
                0 => svc::update_analysis(
                    &mut conn,
                    &ctx,
                    id,
                    r.version,
                    &Analysis {
                        hazard: hazard.to_string(),
                        sequence: r.sequence.clone(),
                        situation: r.situation.clone(),
                        harm: r.harm.clone(),
                        estimate: estimate(roll(5) + 1, roll(5) + 1),
                    },
                ),
                1 | 3 | 4 => svc::add_control(
                    &mut conn,
                    &ctx,
                    id,
                    r.version,
                    &ControlText {
                        option: "protective_measure".into(),
                        description: "A control".into(),
                        requirement: [rcm1, rcm1, rcm1, rcm2][roll(4) as usize].to_string(),
                        effectiveness: ["", "Shown on the bench"][roll(2) as usize].into(),
                    },
                ),
                _ => svc::update_residual(
                    &mut conn,
                    &ctx,
                    id,
                    r.version,
                    &Residual {
                        estimate: estimate(roll(5) + 1, roll(5) + 1),
                        reason: ["", "The control adds a hazard"][roll(2) as usize].into(),
                        benefit_risk: ["", "Benefits outweigh it"][roll(2) as usize].into(),
                    },
                ),
            };
            continue;
        }
        let input = RiskInput {
            reason: (step == "reopen").then(|| "New information".to_string()),
        };
        let signer = match step {
            "accept" | "accept_without_control" => signers[person].as_mut(),
            _ => None,
        };
        let who = &people[person];
        match walk::take::<RiskWorkflow>(&mut conn, &ctx, who, id, step, &input, signer) {
            Ok(after) => {
                taken += 1;
                match step {
                    "accept" | "accept_without_control" => {
                        accepted += 1;
                        assert_eq!(after.state, RiskState::Accepted);
                        assert_ne!(
                            before.analyst,
                            Some(who.id.0),
                            "accepted by its analyst: {after:?}"
                        );
                        let unacceptable = |e: Option<attest::domain::risk::Evaluation>| {
                            e.is_some_and(|e| e.verdict.as_str() == "unacceptable")
                        };
                        if step == "accept" {
                            assert!(
                                !unacceptable(after.residual_eval)
                                    || !after.benefit_risk.is_empty(),
                                "accepted unacceptable without rationale: {after:?}"
                            );
                        } else {
                            assert!(
                                after.controls.is_empty() || before.state == RiskState::Analyzed
                            );
                            assert!(!unacceptable(after.initial_eval), "{after:?}");
                        }
                    }
                    "verify" => {
                        verified += 1;
                        assert!(!after.controls.is_empty());
                        for c in &after.controls {
                            assert_eq!(c.requirement, Some(rcm1), "verified on {c:?}");
                            assert!(c.tests_pass && !c.effectiveness.is_empty(), "{c:?}");
                        }
                    }
                    _ => {}
                }
            }
            Err(e) => {
                let words = e.to_string();
                if matches!(step, "accept" | "accept_without_control") && words.contains("analys") {
                    refused_analyst += 1;
                }
                // Refused: nothing of it was saved.
                assert_eq!(stored(&mut conn, id).version, before.version, "{words}");
            }
        }
    }
    println!(
        "risk walk: {taken} steps taken, {accepted} acceptances, {verified} verifications, {refused_analyst} acceptances refused to the analyst"
    );
    assert!(
        taken > 100 && accepted >= 3 && verified >= 3 && refused_analyst > 0,
        "the walk reached too little: {taken} steps, {accepted} acceptances, {verified} verifications, {refused_analyst} analyst refusals"
    );
    let report = attest::service::verification::verify_all(&mut conn).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}
