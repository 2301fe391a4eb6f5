//! CAPAs end to end over HTTP: escalation from a nonconformance, each
//! guard's refusal, the investigation tools, action items, verification,
//! and closure signed by quality but never by the owner.

use crate::helpers::*;
use crate::nonconformances::{act as nc_act, nc_id, product, report_fields};

const QUINN_PW: &str = "violet sunrise passphrase 1";
const RAVI_PW: &str = "amber harbour passphrase 2";
const ELLEN_PW: &str = "granite orchard passphrase 3";

fn version(app: &TestApp, id: i64) -> String {
    attest::db::repo::capas::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

fn capa(app: &TestApp, id: i64) -> attest::domain::capa::Capa {
    attest::db::repo::capas::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
}

/// Posts a form of the CAPA page at the stored version.
async fn post(
    app: &TestApp,
    b: &Browser,
    id: i64,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/capas/{id}");
    let v = version(app, id);
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    b.submit(&page, &format!("{page}/{path}"), &all).await
}

async fn text_of(res: reqwest::Response) -> (u16, String) {
    (res.status().as_u16(), res.text().await.unwrap())
}

fn in_days(n: i64) -> String {
    (attest::clock::now().date_naive() + chrono::Duration::days(n)).to_string()
}

#[tokio::test]
async fn a_capa_escalated_from_an_nc_is_investigated_acted_on_verified_and_closed_signed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (auditor, _) = app
        .user_with_roles("audrey", &["auditor"], "slate meadow passphrase 5")
        .await;
    let pid = product(&admin, &app, "HNG").await;
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields(
                "Cracked hinge",
                &pid,
                "high",
                "Hinges crack after 200 cycles",
            ),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc = nc_id(&app);
    assert_eq!(
        nc_act(&app, &quinn, nc, "start_review", &[]).await.status(),
        303
    );

    // Escalation opens the linked CAPA in the same transaction.
    let res = nc_act(&app, &quinn, nc, "escalate_to_capa", &[]).await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/capas/"), "{to}");
    let id: i64 = to[7..].parse().unwrap();
    let c = capa(&app, id);
    assert_eq!(c.source_ref, format!("NC-{nc}"));
    assert_eq!(c.problem, "Hinges crack after 200 cycles");
    assert_eq!(app.audit_of("link.created").len(), 1);
    let nc_page = quinn.get_html(&format!("/nonconformances/{nc}")).await;
    assert!(nc_page.contains(&format!("<a href=\"/capas/{id}\">CAPA-{id}</a>")));
    // The NC keeps its state, shows the CAPA and stays on the open list.
    assert!(nc_page.contains(&format!("CAPA-{id} opened</a>")));
    assert!(nc_page.contains("state-under_review"));
    let stored = attest::db::repo::nonconformances::find(&mut app.conn(), nc)
        .unwrap()
        .unwrap();
    assert_eq!(stored.state.as_str(), "under_review");
    assert_eq!(stored.capa_id, Some(id));
    let open = quinn.get_html("/nonconformances?state=open").await;
    assert!(open.contains(&format!("/nonconformances/{nc}\"")), "{open}");
    // One CAPA per NC: a second escalation is refused, nothing is opened.
    let res = nc_act(&app, &quinn, nc, "escalate_to_capa", &[]).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "CAPA-{id} was opened from this nonconformance already (ISO 13485 8.5.2)"
        )),
        "{html}"
    );
    assert_eq!(app.audit_of("capa.created").len(), 1);
    // ... and it is dispositioned and closed as usual.
    let res = nc_act(
        &app,
        &quinn,
        nc,
        "disposition",
        &[
            ("disposition", "scrap"),
            ("justification", "Cracked hinges cannot be reworked"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = nc_act(
        &app,
        &quinn,
        nc,
        "close",
        &[("closure_note", "40 hinges scrapped")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let nc_page = quinn.get_html(&format!("/nonconformances/{nc}")).await;
    assert!(nc_page.contains("state-closed"), "{nc_page}");
    assert!(nc_page.contains(&format!("CAPA-{id} opened</a>")));
    let page = quinn.get_html(&to).await;
    assert!(page.contains(&format!("<a href=\"/nonconformances/{nc}\">NC-{nc}</a>")));

    // Each missing field of 8.5.2 a is named.
    let (status, html) = text_of(post(&app, &quinn, id, "start_investigation", &[]).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("An owner must be named before the investigation starts (ISO 13485 8.5.2 a)")
    );
    assert!(
        html.contains("A priority must be set before the investigation starts (ISO 13485 8.5.2 a)")
    );

    // An auditor changes nothing.
    assert_eq!(
        post(&app, &auditor, id, "start_investigation", &[])
            .await
            .status(),
        403
    );

    // The owner must be able to do the work; a past due date is refused with the input kept.
    let details = |owner: &str, due: &str| {
        vec![
            ("title".to_string(), "Cracked hinge".to_string()),
            ("kind".into(), "corrective".into()),
            ("source".into(), "nonconformance".into()),
            ("source_ref".into(), format!("NC-{nc}")),
            ("product_id".into(), pid.clone()),
            ("problem".into(), "Hinges crack after 200 cycles".into()),
            ("priority".into(), "high".into()),
            ("owner_id".into(), owner.to_string()),
            ("due_on".into(), due.to_string()),
            ("containment".into(), "Lots 7-9 quarantined".into()),
        ]
    };
    let auditor_id = app.user_id("audrey").to_string();
    let d = details(&auditor_id, "");
    let (status, html) = text_of(post(&app, &quinn, id, "details", &as_refs(&d)).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("must hold the quality or engineer role"),
        "{html}"
    );
    let d = details(&ellen_id.to_string(), "2020-01-01");
    let (status, html) = text_of(post(&app, &quinn, id, "details", &as_refs(&d)).await).await;
    assert_eq!(status, 400);
    assert!(html.contains("The due date cannot be in the past."));
    assert!(html.contains("Lots 7-9 quarantined"), "input kept");
    // No due date typed: the priority's default (high: 30 days).
    let d = details(&ellen_id.to_string(), "");
    assert_eq!(
        post(&app, &quinn, id, "details", &as_refs(&d))
            .await
            .status(),
        303
    );
    assert_eq!(
        capa(&app, id).due_on.map(|d| d.to_string()),
        Some(in_days(30))
    );

    // The owner (an engineer) starts the investigation.
    assert_eq!(
        post(&app, &ellen, id, "start_investigation", &[])
            .await
            .status(),
        303
    );

    // A five-whys chain with an empty answer is refused; nothing saved, input kept.
    let inv = |answer2: &str| {
        vec![
            ("rca_method", "five_whys".to_string()),
            ("why_pos", "1".into()),
            ("why_q", "Why did the hinge crack?".into()),
            ("why_a", "The wall is too thin".into()),
            ("why_pos", "2".into()),
            ("why_q", "Why is the wall thin?".into()),
            ("why_a", answer2.to_string()),
            ("cause_cat", "machine".into()),
            ("cause_text", "Worn mould\nNo maintenance plan".into()),
            ("cause_cat", "method".into()),
            ("cause_text", String::new()),
            ("root_cause", "Mould wear thins the hinge wall".into()),
            ("action_required", "yes".into()),
            ("action_rationale", "Safety-relevant failure".into()),
        ]
    };
    let bad = inv("");
    let refs: Vec<(&str, &str)> = bad.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, html) = text_of(post(&app, &ellen, id, "investigation", &refs).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Why 2 needs both the question and its answer"),
        "{html}"
    );
    assert!(html.contains("Why is the wall thin?"), "input kept");
    assert!(capa(&app, id).whys.is_empty());
    let good = inv("Mould wear");
    let refs: Vec<(&str, &str)> = good.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        post(&app, &ellen, id, "investigation", &refs)
            .await
            .status(),
        303
    );
    let c = capa(&app, id);
    assert_eq!(c.whys.len(), 2);
    assert_eq!(c.causes.len(), 2);
    let page = quinn.get_html(&to).await;
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"fishbone\""));
    assert!(page.contains("Worn mould"));

    // Planning needs an action item (8.5.2 d).
    let (status, html) = text_of(post(&app, &ellen, id, "plan_actions", &[]).await).await;
    assert_eq!(status, 400);
    assert!(html.contains("Plan at least one action item (ISO 13485 8.5.2 d)"));
    let eid = ellen_id.to_string();
    let item = |due: String| {
        vec![
            ("text", "Replace the mould insert".to_string()),
            ("kind", "corrective".into()),
            ("owner_id", eid.clone()),
            ("due_on", due),
        ]
    };
    let past = item("2020-01-01".into());
    let refs: Vec<(&str, &str)> = past.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, html) = text_of(post(&app, &ellen, id, "items", &refs).await).await;
    assert_eq!(status, 400);
    assert!(html.contains("The due date cannot be in the past."));
    let ok = item(in_days(14));
    let refs: Vec<(&str, &str)> = ok.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(post(&app, &ellen, id, "items", &refs).await.status(), 303);
    assert_eq!(
        post(&app, &ellen, id, "plan_actions", &[]).await.status(),
        303
    );
    assert_eq!(capa(&app, id).state.as_str(), "action");
    // What needs Ellen: her action item and the CAPA she owns.
    let dash = ellen.get_html("/").await;
    assert!(
        dash.contains(&format!("CAPA-{id} action: Replace the mould insert")),
        "{dash}"
    );
    assert!(dash.contains(&format!("CAPA-{id} Cracked hinge (you own it)")));

    // Only the owner submits for verification, and only with everything done.
    let (status, _) = text_of(post(&app, &quinn, id, "submit_verification", &[]).await).await;
    assert_eq!(status, 403);
    let (status, html) = text_of(post(&app, &ellen, id, "submit_verification", &[]).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains(
            "Action item 1 is not done with evidence of what was done (ISO 13485 8.5.2 d)"
        )
    );
    assert!(html.contains("(ISO 13485 8.5.2 e)") && html.contains("(ISO 13485 8.5.2 f)"));
    let item_id = c_item(&app, id);
    let today = in_days(0);
    let res = post(
        &app,
        &ellen,
        id,
        &format!("items/{item_id}/done"),
        &[
            ("done_on", &today),
            ("evidence", "Insert replaced, work order WO-88"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let due = in_days(60);
    let res = post(
        &app,
        &ellen,
        id,
        "plan",
        &[
            (
                "no_adverse_effect",
                "Same material and geometry; no effect on safety",
            ),
            (
                "effectiveness_criteria",
                "No cracked hinge in the next 3 lots",
            ),
            ("effectiveness_due", &due),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        post(&app, &ellen, id, "submit_verification", &[])
            .await
            .status(),
        303
    );
    // Quality records the check in one form: the evidence once, a button
    // per outcome, each carrying its result.
    let page = quinn.get_html(&format!("/capas/{id}")).await;
    assert_eq!(page.matches("name=\"effectiveness_evidence\"").count(), 1);
    assert!(page.contains("<h3>Record the effectiveness check (8.5.2 f)</h3>"));
    for (step, result) in [
        ("close_effective", "effective"),
        ("reopen_actions", "not_effective"),
    ] {
        assert!(
            page.contains(&format!(
                "formaction=\"/capas/{id}/{step}\" name=\"effectiveness_result\" value=\"{result}\""
            )),
            "{step}"
        );
    }
    // The effectiveness check and its signature now wait on quality.
    let dash = quinn.get_html("/").await;
    assert!(dash.contains("record the effectiveness result and sign (Approved: effective)"));

    // Closing needs quality and a signature; the signing form shows what is signed.
    let effective = [
        ("effectiveness_result", "effective"),
        ("effectiveness_evidence", "3 lots, 0 cracks"),
    ];
    assert_eq!(
        post(&app, &ellen, id, "close_effective", &effective)
            .await
            .status(),
        403
    );
    let (status, html) = text_of(post(&app, &quinn, id, "close_effective", &effective).await).await;
    assert_eq!(status, 200);
    assert!(html.contains("Sign: Close as effective of CAPA-"), "{html}");
    assert!(html.contains("Replace the mould insert"));
    assert_eq!(
        SignForm::of(&html)
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await
            .status(),
        303
    );
    let c = capa(&app, id);
    assert_eq!(c.state.as_str(), "closed");
    let entry = app.audit_of("capa.transition").pop().unwrap();
    assert_eq!(entry["signature"]["meaning"], "Approved: effective");
    let page = quinn.get_html(&to).await;
    assert!(page.contains("Approved: effective</strong> by <strong>quinn Person</strong>"));
    assert!(page.contains("✓ verified"));
    assert!(
        attest::service::verification::verify_all(&mut app.conn())
            .unwrap()
            .ok
    );

    // A closed CAPA is frozen: edits and steps are refused, nothing changes.
    let d = details(&ellen_id.to_string(), "");
    let (status, html) = text_of(post(&app, &quinn, id, "details", &as_refs(&d)).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("is closed: its details cannot be changed now"),
        "{html}"
    );
    let before = version(&app, id);
    let (status, _) =
        text_of(post(&app, &quinn, id, "cancel", &[("justification", "x")]).await).await;
    assert_eq!(status, 409);
    assert_eq!(version(&app, id), before);

    // What others need to be told of was written beside each change: the
    // owner assigned once (the refused edits wrote nothing), the action item
    // assigned, every step taken in order, and the closing signature due
    // once in verification, with the owner barred from giving it.
    let events =
        attest::db::repo::events::of_record(&mut app.conn(), "capa", &format!("capa-{id}"), 100)
            .unwrap();
    let of = |kind: &str| -> Vec<&attest::db::repo::events::StoredEvent> {
        events.iter().filter(|e| e.kind.as_str() == kind).collect()
    };
    let ellen_ref = format!("u-{ellen_id}");
    let assigned = of("assigned");
    assert_eq!(assigned.len(), 1, "{events:?}");
    assert_eq!(assigned[0].data["to"], ellen_ref.as_str());
    assert_eq!(assigned[0].record_key, format!("CAPA-{id}"));
    let items = of("item_assigned");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].data["to"], ellen_ref.as_str());
    let steps: Vec<String> = of("step_taken")
        .iter()
        .map(|e| e.data["action"].as_str().unwrap().to_string())
        .collect();
    let audited: Vec<String> = app
        .audit_of("capa.transition")
        .iter()
        .map(|e| e["after"]["transition"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(steps, audited);
    let closing: Vec<_> = of("signature_needed")
        .into_iter()
        .filter(|e| e.data["action"] == "close_effective")
        .collect();
    assert!(!closing.is_empty(), "{events:?}");
    assert_eq!(closing[0].data["meaning"], "Approved: effective");
    assert_eq!(closing[0].data["barred_signer"], ellen_ref.as_str());
    assert!(
        events
            .iter()
            .all(|e| e.processed_at.is_none() && e.actor_id.starts_with("u-"))
    );
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn c_item(app: &TestApp, id: i64) -> i64 {
    capa(app, id).items[0].id
}

#[tokio::test]
async fn the_owner_may_not_sign_closure_and_lists_filter_by_state_owner_and_overdue() {
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ravi, _) = app.user_with_roles("ravi", &["quality"], RAVI_PW).await;
    let open = |title: &'static str, owner: String, priority: &'static str| {
        vec![
            ("title", title.to_string()),
            ("kind", "preventive".into()),
            ("source", "trend".into()),
            ("problem", "Complaint trend up".into()),
            ("priority", priority.into()),
            ("owner_id", owner),
        ]
    };
    for (title, owner, priority) in [
        ("Trend of loose screws", quinn_id.to_string(), "low"),
        ("Label smudging", quinn_id.to_string(), "critical"),
    ] {
        let f = open(title, owner, priority);
        let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
        assert_eq!(
            quinn.submit("/capas/new", "/capas", &refs).await.status(),
            303
        );
    }
    let id = app.audit_of("capa.created")[0]["entity"]["id"]
        .as_str()
        .unwrap()[5..]
        .parse::<i64>()
        .unwrap();
    assert_eq!(
        post(&app, &quinn, id, "start_investigation", &[])
            .await
            .status(),
        303
    );
    let inv = [
        ("rca_method", "other"),
        ("root_cause", "Torque spec ambiguous"),
        ("action_required", "no"),
        ("action_rationale", "Spec clarified; no device impact"),
    ];
    assert_eq!(
        post(&app, &quinn, id, "investigation", &inv).await.status(),
        303
    );
    // Quinn owns it: the signature must come from someone else (SoD). The
    // page does not offer the step to the owner and says who it waits on;
    // the server refuses it all the same.
    let page = quinn.get_html(&format!("/capas/{id}")).await;
    assert!(
        page.contains(
            "Waiting on a quality signature that is not the owner&#39;s (Approved: no action required)"
        ),
        "{page}"
    );
    assert!(
        !page.contains("/close_no_action\""),
        "no form for the owner"
    );
    let other = ravi.get_html(&format!("/capas/{id}")).await;
    assert!(other.contains(&format!("action=\"/capas/{id}/close_no_action\"")));
    let (status, html) = text_of(post(&app, &quinn, id, "close_no_action", &[]).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("The owner may not sign this (segregation of duties)"),
        "{html}"
    );
    // Ravi (quality, not the owner) signs.
    let (status, html) = text_of(post(&app, &ravi, id, "close_no_action", &[]).await).await;
    assert_eq!(status, 200);
    assert!(html.contains("Approved: no action required"));
    let res = SignForm::of(&html).send(&ravi, Some("ravi"), RAVI_PW).await;
    assert_eq!(res.status(), 303);

    // Lists: open only, by owner, by priority order, overdue (a due date forced into the past).
    let list = quinn.get_html("/capas?state=open").await;
    assert!(list.contains("Label smudging") && !list.contains("Trend of loose screws"));
    let list = quinn.get_html("/capas?state=closed").await;
    assert!(list.contains("Trend of loose screws"));
    assert!(list.contains(">Download it as CSV<"), "one CAPA, said so");
    let list = quinn.get_html("/capas?source=trend").await;
    assert!(list.contains(">Download these 2 as CSV<"));
    let list = quinn
        .get_html(&format!("/capas?owner={quinn_id}&sort=priority"))
        .await;
    assert!(list.find("Label smudging").unwrap() < list.find("Trend of loose screws").unwrap());
    let list = quinn.get_html("/capas?overdue=1").await;
    assert!(list.contains("No CAPA matches these filters."));
    let list = quinn.get_html("/capas?source=trend").await;
    assert!(list.contains("Label smudging") && list.contains("Trend of loose screws"));
    let list = quinn.get_html("/capas?source=complaint").await;
    assert!(list.contains("No CAPA matches these filters."));
    assert_eq!(quinn.get("/capas?source=rumour").await.status(), 400);
    // A year later every open CAPA is past its due date (and the session
    // long ended: sign in again).
    app.clock.advance(chrono::Duration::days(366));
    assert_eq!(quinn.login("quinn", QUINN_PW).await.status(), 303);
    let list = quinn.get_html("/capas?overdue=1").await;
    assert!(list.contains("Label smudging") && list.contains("overdue"));
    assert!(
        !list.contains("Trend of loose screws"),
        "closed CAPAs are never overdue"
    );
    assert_eq!(quinn.get("/capas?state=melted").await.status(), 400);
    assert_eq!(quinn.get("/capas?sort=sideways").await.status(), 400);

    // The API reads the same filters and orders as the list page.
    let token = quinn.api_token("list script", &["read"]).await;
    let app = &app;
    let api = |query: String| {
        let token = token.clone();
        async move {
            let (status, body) = app.api_get(&format!("/api/v1/capas?{query}"), &token).await;
            let titles: Vec<String> = body["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| c["title"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            (status, titles)
        }
    };
    assert_eq!(
        api(format!("owner={quinn_id}&sort=priority")).await,
        (
            200,
            vec!["Label smudging".into(), "Trend of loose screws".into()]
        )
    );
    assert_eq!(
        api("overdue=1".into()).await,
        (200, vec!["Label smudging".into()])
    );
    assert_eq!(
        api("state=closed&q=SCREWS".into()).await,
        (200, vec!["Trend of loose screws".into()])
    );
    assert_eq!(api("source=complaint".into()).await, (200, vec![]));
    assert_eq!(api("source=rumour".into()).await.0, 400);
    assert_eq!(api("sort=sideways".into()).await.0, 400);
}

// SECURITY.md 18
#[tokio::test]
async fn the_filtered_list_exports_as_csv_with_formulas_neutralised_and_due_days_from_settings() {
    let app = spawn_app_with(|s| s.capa_due_days = [100, 50, 20, 3]).await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    for (title, priority) in [
        ("=HYPERLINK(\"http://x\")", "critical"),
        ("Plain, with comma", "low"),
    ] {
        let f = [
            ("title", title),
            ("kind", "corrective"),
            ("source", "complaint"),
            ("priority", priority),
        ];
        assert_eq!(quinn.submit("/capas/new", "/capas", &f).await.status(), 303);
    }
    let all = app.audit_of("capa.created");
    let due = |i: usize| all[i]["after"]["due_on"].as_str().unwrap().to_string();
    assert_eq!(due(0), in_days(3), "critical: the configured 3 days");
    assert_eq!(due(1), in_days(100), "low: the configured 100 days");

    let res = quinn.get("/capas/export.csv?priority=critical").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].starts_with("key,title,type,state,priority,owner"));
    assert!(
        lines[1].starts_with("CAPA-1,\"'=HYPERLINK(\"\"http://x\"\")\",corrective,open,critical,"),
        "{body}"
    );
    let all = quinn.get("/capas/export.csv").await.text().await.unwrap();
    assert!(all.contains("\"Plain, with comma\""));
    let exported = app.audit_of("capa.exported");
    assert_eq!(exported.len(), 2);
    assert_eq!(exported[0]["after"]["rows"], 1);
    assert_eq!(exported[0]["after"]["filters"][0], "priority=critical");
    assert_eq!(
        quinn.get("/capas/export.csv?state=melted").await.status(),
        400
    );
}

/// The dashboard's figures against a known data set: six CAPAs walked
/// through the workflow by the services (never set by SQL), each opened on
/// a chosen day and stepped at a chosen pace, so every stay is known.
#[tokio::test]
async fn the_dashboard_charts_count_a_known_data_set_exactly() {
    use attest::domain::capa::{CapaFields, CapaState};
    use attest::seed::walk::{self, Signer, Times};
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    // The keys are made now; the data set lies in the 250 days after.
    app.clock.advance(chrono::Duration::days(250));
    let now = app.clock.now();
    let today = now.date_naive();
    let at = |days_ago: i64| {
        (today - chrono::Duration::days(days_ago))
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc()
    };
    let mut conn = app.conn();
    let ctx = attest::service::Ctx {
        log: app.log_origin.clone(),
        actor: attest::audit::Actor::system(),
        now,
        op: None,
    };
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(ellen_id)).unwrap();
    let quality = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, quality, QUINN_PW).unwrap();
    // (title, state reached, opened days ago, due days from today, days
    // between steps). A walk's open stay is one step, investigation and
    // action four each, verification one.
    let set: [(&str, CapaState, i64, Option<i64>, i64); 6] = [
        ("A", CapaState::Open, 5, Some(10), 1),
        ("B", CapaState::Investigation, 40, Some(-3), 1),
        ("C", CapaState::Action, 75, Some(-20), 3),
        ("D", CapaState::Verification, 200, Some(-100), 2),
        ("E", CapaState::Closed, 100, Some(-70), 5),
        ("F", CapaState::Cancelled, 30, None, 10),
    ];
    for (title, target, opened, due, pace) in set {
        let fields = CapaFields {
            priority: Some(attest::domain::capa::Priority::Medium),
            due_on: due.map(|d| today + chrono::Duration::days(d)),
            ..walked_fields(title, ellen_id)
        };
        let mut times = Times::new(
            at(opened),
            now,
            Box::new(move || chrono::Duration::days(pace)),
        );
        let c = walk::capa_to(
            &mut conn,
            &ctx,
            &owner,
            &mut signer,
            fields,
            target,
            &mut times,
        )
        .unwrap();
        assert_eq!(c.state, target, "{title}");
    }
    let st = attest::service::capas::stats(&mut conn, today).unwrap();
    let counts: Vec<i64> = st.by_state.iter().map(|s| s.1).collect();
    assert_eq!(
        counts,
        [1, 1, 1, 1, 1, 1],
        "open, investigation, action, verification, closed, cancelled"
    );
    let ageing: Vec<i64> = st.ageing.iter().map(|a| a.1).collect();
    assert_eq!(
        ageing,
        [1, 1, 1, 1],
        "A, B, C, D by age: 0–30, 31–60, 61–90, over 90"
    );
    // Twelve weekly points, oldest first: D is overdue at every one; E (due
    // 70 days ago, closed 50 days ago) at the two weeks between; C from 20
    // days ago; B from 3 days ago; A is not due yet and F has no due date.
    let trend: Vec<i64> = st.overdue_trend.iter().map(|t| t.1).collect();
    assert_eq!(trend, [1, 1, 2, 2, 1, 1, 1, 1, 1, 2, 2, 3]);
    assert_eq!(st.overdue_trend[11].0, today);
    let medians: Vec<(String, Option<f64>, i64)> = st
        .median_days
        .iter()
        .map(|(s, m, n)| (s.as_str().to_string(), *m, *n))
        .collect();
    assert_eq!(
        medians,
        [
            // Open: B 1, D 2, C 3, E 5, F 10 days.
            ("open".to_string(), Some(3.0), 5),
            // Investigation: D 8, C 12, E 20 days.
            ("investigation".into(), Some(12.0), 3),
            // Action: D 8, E 20 days.
            ("action".into(), Some(14.0), 2),
            ("verification".into(), Some(5.0), 1),
        ]
    );
    // The page shows the same numbers in its tables, folded under the
    // charts: four for CAPAs (and three for nonconformances after them).
    assert_eq!(quinn.login("quinn", QUINN_PW).await.status(), 303);
    let page = quinn.get_html("/").await;
    let capa_part = page
        .split("id=\"capa-figures\"")
        .nth(1)
        .and_then(|r| r.split("id=\"nc-figures\"").next())
        .unwrap_or_default();
    assert_eq!(
        capa_part
            .matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"")
            .count(),
        4
    );
    assert_eq!(capa_part.matches("<details class=\"numbers\">").count(), 4);
    assert!(
        page.contains(&format!("<td>{today}</td><td>3</td>")),
        "{page}"
    );
    assert!(
        page.contains("<td>Investigation</td><td>12.0 (3)</td>"),
        "{page}"
    );
    assert!(page.contains("<td>over 90 days</td><td>1</td>"));
}

/// Asserts a step or edit is accepted (303 to the CAPA page).
async fn accepted(app: &TestApp, b: &Browser, id: i64, path: &str, fields: &[(&str, &str)]) {
    let (status, html) = text_of(post(app, b, id, path, fields).await).await;
    assert_eq!(status, 303, "{path}: {html}");
}

/// Asserts a refused step or edit: the status, every expected message on
/// the page, and that the CAPA's version did not move.
async fn refused(
    app: &TestApp,
    b: &Browser,
    id: i64,
    path: &str,
    fields: &[(&str, &str)],
    status: u16,
    messages: &[&str],
) {
    let before = version(app, id);
    let res = post(app, b, id, path, fields).await;
    let rules: Vec<String> = res
        .headers()
        .get("attest-refused-rules")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(' ').map(str::to_string).collect())
        .unwrap_or_default();
    let (got, html) = text_of(res).await;
    assert_eq!(got, status, "{path}: {html}");
    // A rule id (`capa.root_cause_required`) is matched against the rules
    // the refusal names; the sentences are asserted once, in the domain.
    for m in messages {
        if !m.contains(' ') && m.contains('.') {
            assert!(
                rules.iter().any(|r| r == m),
                "{path} should break {m}: {rules:?}"
            );
        } else {
            assert!(html.contains(m), "{path} should say {m:?}: {html}");
        }
    }
    assert_eq!(version(app, id), before, "{path} changed nothing");
}

// SECURITY.md 2, 8
#[tokio::test]
async fn every_guard_names_its_rule_a_failed_check_reopens_the_actions_and_a_cancelled_capa_is_frozen()
 {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let eid = ellen_id.to_string();
    let open = [
        ("title", "Seal leaks at 2 bar"),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("problem", "Three complaints of leaking seals"),
        ("priority", "medium"),
        ("owner_id", eid.as_str()),
    ];
    assert_eq!(
        quinn.submit("/capas/new", "/capas", &open).await.status(),
        303
    );
    let id = 1;
    accepted(&app, &ellen, id, "start_investigation", &[]).await;

    // Planning with nothing recorded names each missing part of 8.5.2 b-d.
    refused(
        &app,
        &ellen,
        id,
        "plan_actions",
        &[],
        400,
        &[
            "capa.investigation_required",
            "capa.root_cause_required",
            "capa.action_needed",
            "capa.action_rationale_required",
            "capa.item_required",
        ],
    )
    .await;
    // Closing without action needs the decision recorded as no.
    refused(
        &app,
        &quinn,
        id,
        "close_no_action",
        &[],
        400,
        &["capa.no_action_decided"],
    )
    .await;

    let inv = [
        ("rca_method", "fishbone"),
        ("cause_cat", "material"),
        ("cause_text", "Seal compound from a new supplier"),
        ("root_cause", "The new compound hardens below 10 °C"),
        ("action_required", "yes"),
        ("action_rationale", "Leaks reach patients"),
    ];
    accepted(&app, &ellen, id, "investigation", &inv).await;
    let item = |text: &'static str| {
        let due = in_days(10);
        move |eid: &str| {
            vec![
                ("text".to_string(), text.to_string()),
                ("kind".into(), "corrective".into()),
                ("owner_id".into(), eid.to_string()),
                ("due_on".into(), due),
            ]
        }
    };
    let first = item("Return to the previous compound")(&eid);
    accepted(&app, &ellen, id, "items", &as_refs(&first)).await;
    accepted(&app, &ellen, id, "plan_actions", &[]).await;
    let today = in_days(0);
    let done = |item: i64| format!("items/{item}/done");
    let evidence = [("done_on", today.as_str()), ("evidence", "ECO-17 released")];
    assert_eq!(
        post(&app, &ellen, id, &done(c_item(&app, id)), &evidence)
            .await
            .status(),
        303
    );
    let check_due = in_days(30);
    let plan = [
        ("no_adverse_effect", "Previous compound, validated in 2024"),
        ("effectiveness_criteria", "No leak complaint in 90 days"),
        ("effectiveness_due", check_due.as_str()),
    ];
    accepted(&app, &ellen, id, "plan", &plan).await;
    accepted(&app, &ellen, id, "submit_verification", &[]).await;

    // The effectiveness result must match the step, with its evidence (8.5.2 f).
    refused(
        &app,
        &quinn,
        id,
        "close_effective",
        &[("effectiveness_result", "not_effective")],
        400,
        &[
            "capa.result_effective",
            "capa.effectiveness_evidence_required",
        ],
    )
    .await;
    refused(
        &app,
        &ellen,
        id,
        "reopen_actions",
        &[
            ("effectiveness_result", "effective"),
            ("effectiveness_evidence", "x"),
        ],
        400,
        &["capa.result_not_effective"],
    )
    .await;

    // Not effective: back to action, the failed result kept in the history.
    let failed = [
        ("effectiveness_result", "not_effective"),
        ("effectiveness_evidence", "Complaint CMP-88 after 40 days"),
    ];
    accepted(&app, &ellen, id, "reopen_actions", &failed).await;
    let c = capa(&app, id);
    assert_eq!(c.state.as_str(), "action");
    let entry = app.audit_of("capa.transition").pop().unwrap();
    assert_eq!(entry["after"]["effectiveness_result"], "not_effective");
    assert_eq!(
        entry["after"]["effectiveness_evidence"],
        "Complaint CMP-88 after 40 days"
    );
    assert_eq!(entry["after"]["state"], "action");
    // A further action can be planned and must be done before verification again.
    let second = item("Heat the storage room")(&eid);
    accepted(&app, &ellen, id, "items", &as_refs(&second)).await;
    refused(
        &app,
        &ellen,
        id,
        "submit_verification",
        &[],
        400,
        &["capa.item_not_done"],
    )
    .await;

    // Cancelling needs a justification and a signature; only quality may.
    refused(
        &app,
        &ellen,
        id,
        "cancel",
        &[("justification", "x")],
        403,
        &[],
    )
    .await;
    refused(
        &app,
        &quinn,
        id,
        "cancel",
        &[("justification", "  ")],
        400,
        &["capa.cancel_justification_required"],
    )
    .await;
    let why = [("justification", "Product line discontinued")];
    let (status, html) = text_of(post(&app, &quinn, id, "cancel", &why).await).await;
    assert_eq!(status, 200);
    assert!(html.contains("Approved: cancellation"), "{html}");
    let (status, html) = text_of(
        SignForm::of(&html)
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await,
    )
    .await;
    assert_eq!(status, 303, "{html}");
    assert_eq!(capa(&app, id).state.as_str(), "cancelled");
    let entry = app.audit_of("capa.transition").pop().unwrap();
    assert_eq!(entry["signature"]["meaning"], "Approved: cancellation");

    // Frozen: every edit is refused with the reason, and nothing changes.
    let frozen = "is cancelled";
    refused(&app, &ellen, id, "investigation", &inv, 400, &[frozen]).await;
    refused(&app, &ellen, id, "items", &as_refs(&second), 400, &[frozen]).await;
    refused(&app, &ellen, id, "plan", &plan, 400, &[frozen]).await;
    let open_item = capa(&app, id).items[1].id;
    refused(
        &app,
        &ellen,
        id,
        &done(open_item),
        &evidence,
        400,
        &[frozen],
    )
    .await;
    refused(&app, &quinn, id, "reopen_actions", &failed, 409, &[]).await;
    assert!(capa(&app, id).items[1].done_on.is_none());
}

/// The fixtures reach every CAPA state through the services (never by SQL):
/// each state with its audited steps, the signed ones by the signer, and a
/// record page that shows it.
#[tokio::test]
async fn fixtures_reach_every_capa_state_through_the_workflow() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let mut conn = app.conn();
    let ctx = attest::service::Ctx {
        log: app.log_origin.clone(),
        actor: attest::audit::Actor::system(),
        now: app.clock.now(),
        op: None,
    };
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(ellen_id)).unwrap();
    let signer_account = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, signer_account, QUINN_PW).unwrap();
    for &target in CapaState::ALL {
        let title = format!("Walked to {}", target.as_str());
        let c = walked(
            &app,
            &mut conn,
            (&owner, &mut signer),
            ellen_id,
            &title,
            target,
        );
        assert_eq!(c.state, target);
        let page = quinn.get_html(&format!("/capas/{}", c.id)).await;
        assert!(page.contains(&format!("Walked to {}", target.as_str())));
        // The state diagram is markup by its type, not escaped text.
        assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\""));
        assert!(!page.contains("&lt;svg"));
    }
    let signed: Vec<String> = app
        .audit_of("capa.transition")
        .iter()
        .filter_map(|e| e["signature"]["meaning"].as_str().map(str::to_string))
        .collect();
    assert_eq!(signed, ["Approved: effective", "Approved: cancellation"]);
    assert!(
        attest::service::verification::verify_all(&mut conn)
            .unwrap()
            .ok
    );
    // The walk is a fixture, not a back door: a wrong step is refused.
    let c = attest::db::repo::capas::find(&mut conn, 1)
        .unwrap()
        .unwrap();
    let refused = walk::step(
        &mut conn,
        &ctx,
        &owner,
        c.id,
        "close_effective",
        &attest::domain::capa::CapaInput {
            effectiveness_result: None,
            effectiveness_evidence: None,
            justification: None,
        },
        None,
    );
    assert!(refused.is_err());
}

/// The list pages are kept until a record changes: a change made on one
/// instance shows at once on the other's list, which had kept the page.
#[tokio::test]
async fn a_kept_list_page_shows_a_change_at_once_on_every_instance() {
    let first = spawn_app().await;
    let (quinn, quinn_id) = first.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let second = second_instance(&first).await;
    let other = second.browser();
    assert_eq!(other.login("quinn", QUINN_PW).await.status(), 303);
    // Kept on the second instance: the empty list, twice.
    for _ in 0..2 {
        assert!(other.get_html("/capas").await.contains("No CAPA"));
        assert!(!other.get_html("/nonconformances").await.contains("NC-1"));
    }
    let owner = quinn_id.to_string();
    let open = [
        ("title", "Kept list check"),
        ("kind", "corrective"),
        ("source", "other"),
        ("problem", "A problem"),
        ("priority", "low"),
        ("owner_id", owner.as_str()),
    ];
    assert_eq!(
        quinn.submit("/capas/new", "/capas", &open).await.status(),
        303
    );
    let list = other.get_html("/capas").await;
    assert!(
        list.contains("Kept list check") && list.contains("CAPA-1"),
        "{list}"
    );
    let pid = product(&quinn, &first, "KEP").await;
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Kept NC", &pid, "low", "Seen on the line"),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(other.get_html("/nonconformances").await.contains("Kept NC"));
    // The same filters as another person's view of it.
    let ravi = first.browser();
    first.user_with_roles("ravi", &["engineer"], RAVI_PW).await;
    assert_eq!(ravi.login("ravi", RAVI_PW).await.status(), 303);
    assert!(ravi.get_html("/capas").await.contains("Kept list check"));
}

/// A CAPA's page is kept until the data changes, and the database itself
/// advances the data stamp on every write to the tables the page reads: a
/// change made behind Attest's back (SQL on the database) shows on the very
/// next view, with the signature over the old content marked as failing;
/// sign-ins and reads leave the kept page alone.
#[tokio::test]
async fn a_kept_capa_page_shows_a_change_made_outside_attest_at_once_and_fails_its_signature() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let mut conn = app.conn();
    let account = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let signing = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, signing, QUINN_PW).unwrap();
    let c = walked(
        &app,
        &mut conn,
        (&account, &mut signer),
        quinn_id,
        "Cancelled and signed",
        CapaState::Cancelled,
    );
    let page = format!("/capas/{}", c.id);
    let stamp = || attest::audit::data_stamp(&mut app.conn()).unwrap();
    for _ in 0..2 {
        let html = quinn.get_html(&page).await;
        assert!(html.contains("Cancelled and signed") && html.contains("✓ verified"));
    }
    // Signing in and reading change no data.
    let before = stamp();
    let other = app.browser();
    assert_eq!(other.login("quinn", QUINN_PW).await.status(), 303);
    other.get_html(&page).await;
    assert_eq!(stamp(), before);

    diesel::sql_query(format!(
        "UPDATE capas SET title = 'Retitled behind the app' WHERE id = {}",
        c.id
    ))
    .execute(&mut conn)
    .unwrap();
    assert!(stamp() > before, "the database advances the stamp itself");
    let html = quinn.get_html(&page).await;
    assert!(html.contains("Retitled behind the app"), "{html}");
    assert!(!html.contains("✓ verified"), "{html}");
    assert!(
        html.contains("content changed after it was signed"),
        "{html}"
    );
    assert!(
        quinn
            .get_html("/capas")
            .await
            .contains("Retitled behind the app")
    );
}

/// A CAPA titled `title`, owned by `owner_id`, walked to `target` through
/// the services at the app's time, each step at once after the last.
pub(crate) fn walked(
    app: &TestApp,
    conn: &mut attest::db::DbConnection,
    (owner, signer): (
        &attest::domain::user::Account,
        &mut attest::seed::walk::Signer,
    ),
    owner_id: i64,
    title: &str,
    target: attest::domain::capa::CapaState,
) -> attest::domain::capa::Capa {
    let ctx = attest::service::Ctx {
        log: app.log_origin.clone(),
        actor: attest::audit::Actor::system(),
        now: app.clock.now(),
        op: None,
    };
    let fields = walked_fields(title, owner_id);
    let mut times = attest::seed::walk::Times::new(
        app.clock.now(),
        app.clock.now(),
        Box::new(chrono::Duration::zero),
    );
    attest::seed::walk::capa_to(conn, &ctx, owner, signer, fields, target, &mut times).unwrap()
}

/// The fields a walked CAPA is opened with: high priority, no due date.
fn walked_fields(title: &str, owner_id: i64) -> attest::domain::capa::CapaFields {
    use attest::domain::capa::{CapaFields, CapaSource, Kind, Priority};
    CapaFields {
        title: title.into(),
        kind: Kind::Corrective,
        source: CapaSource::Other,
        source_ref: String::new(),
        product_id: None,
        problem: "A problem".into(),
        priority: Some(Priority::High),
        owner_id: Some(owner_id),
        due_on: None,
        containment: String::new(),
    }
}

/// An open action item is reassigned, its text edited and its due date
/// moved (with a reason) by quality or the CAPA's owner, each change
/// audited with before and after; a done item stays as recorded.
#[tokio::test]
async fn open_action_items_are_reassigned_edited_and_rescheduled_with_a_reason() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let signing = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, signing, QUINN_PW).unwrap();
    let c = walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        quinn_id,
        "Items to change",
        CapaState::Action,
    );
    let item = c
        .items
        .iter()
        .find(|i| i.done_on.is_none())
        .unwrap()
        .clone();
    let page = format!("/capas/{}", c.id);
    let edit = format!("{page}/items/{}/edit", item.id);
    let html = quinn.get_html(&page).await;
    assert!(html.contains(&format!("action=\"{edit}\"")), "{html}");
    let later =
        (app.clock.now().date_naive().max(item.due_on) + chrono::Duration::days(14)).to_string();
    let (same_due, ellen) = (item.due_on.to_string(), ellen_id.to_string());

    // Reassigned and reworded, same due date: no reason needed.
    let text = "Retrain the night shift";
    let res = change_item(&app, &quinn, c.id, &edit, [text, &ellen, &same_due, ""]).await;
    assert_eq!(res.status(), 303);
    let e = app.audit_of("capa.item_changed").pop().unwrap();
    assert_eq!(e["after"]["item"]["owner_id"], ellen_id);
    assert_eq!(e["after"]["item"]["text"], "Retrain the night shift");
    assert_eq!(e["before"]["item"]["text"], item.text);
    // A new due date without a reason: refused, nothing saved.
    let res = change_item(&app, &quinn, c.id, &edit, [text, &ellen, &later, " "]).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("a new due date needs a reason")
    );
    assert_eq!(app.audit_of("capa.item_changed").len(), 1);
    let why = "Trainer on leave until the 14th";
    let res = change_item(&app, &quinn, c.id, &edit, [text, &ellen, &later, why]).await;
    assert_eq!(res.status(), 303);
    let e = app.audit_of("capa.item_changed").pop().unwrap();
    assert_eq!(e["reason"], why);
    assert_eq!(e["after"]["item"]["due_on"], later);

    // A done item stays as recorded.
    if let Some(done) = c.items.iter().find(|i| i.done_on.is_some()) {
        let url = format!("{page}/items/{}/edit", done.id);
        let res = change_item(&app, &quinn, c.id, &url, ["Rewritten", &ellen, &later, "x"]).await;
        assert_eq!(res.status(), 400);
    }
    // Someone who is neither quality nor the CAPA's owner is refused, audited.
    let ellen_b = app.browser();
    assert_eq!(ellen_b.login("ellen", ELLEN_PW).await.status(), 303);
    let denied = app.audit_of("access.denied").len();
    let res = change_item(
        &app,
        &ellen_b,
        c.id,
        &edit,
        ["Mine now", &ellen, &later, ""],
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.audit_of("access.denied").len(), denied + 1);
}

/// Posts a change of an action item (text, owner, due date, reason) at the
/// CAPA's stored version.
async fn change_item(
    app: &TestApp,
    b: &Browser,
    capa_id: i64,
    url: &str,
    [text, owner, due, why]: [&str; 4],
) -> reqwest::Response {
    let v = attest::db::repo::capas::find(&mut app.conn(), capa_id)
        .unwrap()
        .unwrap()
        .version
        .to_string();
    let page = format!("/capas/{capa_id}");
    let fields = [
        ("version", v.as_str()),
        ("text", text),
        ("owner_id", owner),
        ("due_on", due),
        ("reason", why),
    ];
    b.submit(&page, url, &fields).await
}

/// "What needs me" links each of my action items to its place on its CAPA's
/// page (`#item-2`) and each CAPA I own to its next steps.
#[tokio::test]
async fn the_dashboard_links_each_action_item_to_its_place_on_the_record_page() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, owner.clone(), QUINN_PW).unwrap();
    let first = walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        quinn_id,
        "First",
        CapaState::Action,
    );
    let c = walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        quinn_id,
        "Second",
        CapaState::Action,
    );
    let dash = quinn.get_html("/").await;
    for n in [1, 2] {
        assert!(
            dash.contains(&format!("href=\"/capas/{}#item-{n}\"", c.id)),
            "{dash}"
        );
        assert!(dash.contains(&format!("href=\"/capas/{}#item-{n}\"", first.id)));
    }
    assert!(dash.contains(&format!("href=\"/capas/{}#next\"", c.id)));
    let page = quinn.get_html(&format!("/capas/{}", c.id)).await;
    assert!(
        page.contains("<article class=\"item item-open\" id=\"item-2\""),
        "{page}"
    );
    assert!(page.contains("id=\"next\""));
}

/// Issue 14, item 8: quality sees the team's overdue action items, not
/// only their own; the dashboard counts nonconformances by state, severity
/// and source per month, and shows each product's coverage; every chart's
/// numbers are folded under it.
#[tokio::test]
async fn the_dashboard_shows_the_teams_overdue_items_nc_figures_and_coverage() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let pid = product(&admin, &app, "HNG").await;
    for (title, severity) in [("One", "high"), ("Two", "high"), ("Three", "low")] {
        let res = ellen
            .submit(
                "/nonconformances/new",
                "/nonconformances",
                &report_fields(title, &pid, severity, "Found"),
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(ellen_id)).unwrap();
    let signing = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, signing, QUINN_PW).unwrap();
    let c = walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        ellen_id,
        "Late",
        CapaState::Action,
    );
    // Its items fall due in 30 days; 40 days on they are late.
    app.clock.advance(chrono::Duration::days(40));
    assert_eq!(quinn.login("quinn", QUINN_PW).await.status(), 303);
    let dash = quinn.get_html("/").await;
    let team = dash
        .split("id=\"team-overdue\"")
        .nth(1)
        .and_then(|r| r.split("</section>").next())
        .unwrap_or_default();
    assert!(
        team.contains(&format!("href=\"/capas/{}#item-1\"", c.id)),
        "{dash}"
    );
    assert!(team.contains("ellen Person&#39;s"), "{team}");
    assert!(team.contains("(10 days late)"), "{team}");
    // An engineer sees their own, not the team's.
    assert_eq!(ellen.login("ellen", ELLEN_PW).await.status(), 303);
    let theirs = ellen.get_html("/").await;
    assert!(!theirs.contains("id=\"team-overdue\""));
    assert!(theirs.contains(&format!("href=\"/capas/{}#item-1\"", c.id)));
    // Nonconformance figures, their numbers folded under each chart.
    let nc = dash
        .split("id=\"nc-figures\"")
        .nth(1)
        .and_then(|r| r.split("</section>").next())
        .unwrap_or_default();
    assert_eq!(nc.matches("<details class=\"numbers\">").count(), 3, "{nc}");
    assert!(nc.contains("<tr><td>Reported</td><td>3</td></tr>"), "{nc}");
    assert!(nc.contains("<tr><td>High</td><td>2</td></tr>"), "{nc}");
    assert!(nc.contains("<tr><td>Low</td><td>1</td></tr>"), "{nc}");
    let month = app.clock.today().format("%Y-%m").to_string();
    let reported_then = (app.clock.today() - chrono::Duration::days(40))
        .format("%Y-%m")
        .to_string();
    assert!(nc.contains(&format!("<td>{month}</td>")), "{nc}");
    // report_fields reports from production; the row of that month has 3 in all.
    let row = nc
        .split(&format!("<tr><td>{reported_then}</td>"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(row.ends_with("<td>3</td>"), "{row}");
    // Coverage by product.
    assert!(
        dash.contains("<a href=\"/traceability?product=1\">"),
        "{dash}"
    );
    // The figures are kept drawn for everyone, and drawn again as soon as
    // the data changes: a fourth report counts at once, for every reader.
    let res = ellen
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Four", &pid, "low", "Found"),
        )
        .await;
    assert_eq!(res.status(), 303);
    for reader in [&quinn, &ellen] {
        let again = reader.get_html("/").await;
        assert!(
            again.contains("<tr><td>Reported</td><td>4</td></tr>"),
            "{again}"
        );
        assert!(again.contains("<tr><td>Low</td><td>2</td></tr>"), "{again}");
    }
}
