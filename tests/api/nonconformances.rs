//! Nonconformances end to end over HTTP: report, correct, review,
//! disposition, close; refusals by role, state, guard, staleness and input.

use crate::helpers::*;

pub(crate) async fn product(admin: &Browser, app: &TestApp, prefix: &str) -> String {
    let res = admin
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", &format!("{prefix} device")),
                ("key_prefix", prefix),
                ("safety_class", "B"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.audit_of("product.created")
        .iter()
        .find(|e| e["entity"]["key"] == prefix)
        .map(|e| e["entity"]["id"].as_str().unwrap()[2..].to_string())
        .unwrap()
}

pub(crate) fn report_fields<'a>(
    title: &'a str,
    product: &'a str,
    severity: &'a str,
    description: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("title", title),
        ("source", "production"),
        ("product_id", product),
        ("lot_serial", "LOT-42"),
        ("description", description),
        ("detected_on", "2026-11-20"),
        ("severity", severity),
    ]
}

/// The version hidden in the record page's forms.
fn version(page: &str) -> String {
    let at = page
        .find("name=\"version\" value=\"")
        .unwrap_or_else(|| panic!("{page}"))
        + 22;
    page[at..].split('"').next().unwrap().to_string()
}

/// Takes `action` as `b` would from the record page, at the stored version.
pub(crate) async fn act(
    app: &TestApp,
    b: &Browser,
    id: i64,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/nonconformances/{id}");
    let v = stored_version(app, id);
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    b.submit(&page, &format!("{page}/{action}"), &all).await
}

/// Submits a correction of NC `id`'s report at its stored version, for `reason`.
async fn correct<'a>(
    app: &TestApp,
    b: &Browser,
    id: i64,
    mut fields: Vec<(&'static str, &'a str)>,
    reason: &'a str,
) -> reqwest::Response {
    let page = format!("/nonconformances/{id}");
    let v = stored_version(app, id);
    fields.push(("version", &v));
    fields.push(("reason", reason));
    b.submit(&page, &format!("{page}/edit"), &fields).await
}

pub(crate) fn stored_version(app: &TestApp, id: i64) -> String {
    attest::db::repo::nonconformances::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

/// Reports an NC as `b` and starts its review; its id.
pub(crate) async fn in_review(
    app: &TestApp,
    b: &Browser,
    title: &str,
    product: &str,
    severity: &str,
    description: &str,
) -> i64 {
    let res = b
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields(title, product, severity, description),
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = nc_id(app);
    assert_eq!(act(app, b, id, "start_review", &[]).await.status(), 303);
    id
}

pub(crate) fn nc_id(app: &TestApp) -> i64 {
    let e = app.audit_of("nonconformance.created").pop().unwrap();
    e["entity"]["id"].as_str().unwrap()[3..].parse().unwrap()
}

#[tokio::test]
async fn a_nonconformance_goes_from_report_to_closure_with_every_step_audited() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "PUMP").await;
    let (engineer, _) = app
        .user_with_roles("ravi", &["engineer"], "engineer passphrase 1")
        .await;
    let (quality, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;

    // An engineer reports what they found, without product or severity.
    let res = engineer
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Bent housing", "", "", ""),
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = nc_id(&app);
    let page = format!("/nonconformances/{id}");
    assert_eq!(res.headers()["location"], page);
    let shown = quality.get_html(&page).await;
    assert!(shown.contains(&format!("NC-{id}")) && shown.contains("Bent housing"));
    assert!(
        shown.contains("class=\"state current\""),
        "the diagram marks the state"
    );

    // Review needs description, product and severity: each rule is named.
    let res = act(&app, &quality, id, "start_review", &[]).await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    for rule in [
        "A description of the nonconformity is required",
        "The affected product must be named",
        "A severity must be set",
    ] {
        assert!(body.contains(rule), "{rule}: {body}");
    }
    assert!(body.contains("ISO 13485 8.3.1"));

    // Quality corrects the report, then reviews, dispositions and closes.
    let v = version(&quality.get_html(&page).await);
    let mut fields = report_fields(
        "Bent housing",
        &pid,
        "high",
        "3 of 40 housings bent at the hinge",
    );
    fields.push(("version", &v));
    fields.push(("reason", "Facts checked again with the line"));
    assert_eq!(
        quality
            .submit(&page, &format!("{page}/edit"), &fields)
            .await
            .status(),
        303
    );
    assert_eq!(
        act(&app, &quality, id, "start_review", &[]).await.status(),
        303
    );
    assert_eq!(
        act(
            &app,
            &quality,
            id,
            "disposition",
            &[
                ("disposition", "scrap"),
                ("justification", "Hinge cannot be reworked")
            ]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        act(
            &app,
            &quality,
            id,
            "close",
            &[("closure_note", "3 housings scrapped, scrap note SN-7")]
        )
        .await
        .status(),
        303
    );
    let closed = quality.get_html(&page).await;
    assert!(closed.contains("Closed") && closed.contains("Scrap"));
    assert!(
        closed.contains("the record is closed and can no longer change"),
        "the page says nothing more happens to it"
    );

    let transitions = app.audit_of("nonconformance.transition");
    let states: Vec<(&str, &str)> = transitions
        .iter()
        .map(|e| {
            (
                e["before"]["state"].as_str().unwrap(),
                e["after"]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("reported", "under_review"),
            ("under_review", "dispositioned"),
            ("dispositioned", "closed")
        ]
    );
    assert_eq!(transitions[1]["after"]["disposition"], "scrap");
    assert_eq!(transitions[1]["after"]["transition"], "disposition");
    assert_eq!(transitions[1]["actor"]["name"], "quinn Person");
    assert_eq!(
        app.audit_of("nonconformance.updated")[0]["after"]["severity"],
        "high"
    );

    // A closed record is frozen.
    assert!(!closed.contains("name=\"version\""), "no form is offered");
    let v = stored_version(&app, id);
    let mut fields = report_fields("Renamed", &pid, "low", "x");
    fields.push(("version", &v));
    fields.push(("reason", "Facts checked again with the line"));
    let res = quality
        .submit(&page, &format!("{page}/edit"), &fields)
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("a closed record cannot be changed")
    );
}

// SECURITY.md 2, 3, 29
#[tokio::test]
async fn refusals_by_role_state_signature_staleness_and_input_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "PUMP").await;
    let (engineer, _) = app
        .user_with_roles("ravi", &["engineer"], "engineer passphrase 1")
        .await;
    let (quality, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    let (auditor, _) = app
        .user_with_roles("olga", &["auditor"], "auditor passphrase 1")
        .await;
    engineer
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Scratch", &pid, "low", "Scratched lens"),
        )
        .await;
    let id = nc_id(&app);
    let page = format!("/nonconformances/{id}");

    assert_eq!(auditor.get("/nonconformances/new").await.status(), 403);
    assert!(
        auditor.get_html(&page).await.contains("Scratch"),
        "auditors read"
    );
    let res = act(&app, &engineer, id, "start_review", &[]).await;
    assert_eq!(res.status(), 403, "review is quality's");
    let res = act(&app, &quality, id, "close", &[("closure_note", "x")]).await;
    assert_eq!(res.status(), 409, "not from reported");
    assert_eq!(act(&app, &quality, id, "delete", &[]).await.status(), 400);
    assert_eq!(
        act(&app, &quality, id, "start_review", &[("owner", "eng")])
            .await
            .status(),
        400,
        "unknown field"
    );

    // A stale form (the version moved on) is a 409 and changes nothing.
    let old = version(&quality.get_html(&page).await);
    assert_eq!(
        act(&app, &quality, id, "start_review", &[]).await.status(),
        303
    );
    let res = quality
        .submit(
            &page,
            &format!("{page}/disposition"),
            &[
                ("version", &old),
                ("disposition", "scrap"),
                ("justification", "x"),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    // The page says what changed since the form was shown and keeps what
    // was typed, ready to be sent again.
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Someone else saved this record after you opened the page"),
        "{html}"
    );
    let changes = html
        .split("Changed since you opened the page:")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_default();
    assert!(changes.contains("<li>"), "the change is listed: {html}");
    assert!(html.contains("<option value=\"scrap\" selected>"), "{html}");
    assert!(html.contains(">x</textarea>"), "{html}");
    assert!(
        !html.contains(&format!("name=\"version\" value=\"{old}\"")),
        "the form now carries the version shown"
    );

    // Accepting nonconforming product needs a signature: the step answers
    // with the signing form, and nothing is saved until it is signed.
    let res = act(
        &app,
        &quality,
        id,
        "disposition",
        &[
            ("disposition", "use_as_is"),
            ("justification", "Cosmetic only"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let form = res.text().await.unwrap();
    assert!(form.contains("Sign: Disposition of NC-"), "{form}");
    assert!(form.contains("name=\"signature_password\""));
    let res = act(
        &app,
        &quality,
        id,
        "disposition",
        &[("disposition", "melt"), ("justification", "x")],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(app.audit_of("nonconformance.transition").len(), 1);

    // Over-long input: the limit is stated, nothing saved.
    let long = "x".repeat(201);
    let res = quality
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields(&long, &pid, "low", ""),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at most 200 characters"));
    assert_eq!(app.audit_of("nonconformance.created").len(), 1);
}

#[tokio::test]
async fn the_list_filters_and_quality_sees_open_nonconformances_on_the_dashboard() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pump = product(&admin, &app, "PUMP").await;
    let meter = product(&admin, &app, "METER").await;
    let (quality, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    for (title, p, sev) in [
        ("Cracked case", &pump, "high"),
        ("Loose screw", &meter, "low"),
        ("Wrong label", &pump, "low"),
    ] {
        let res = quality
            .submit(
                "/nonconformances/new",
                "/nonconformances",
                &report_fields(title, p, sev, "found at final inspection"),
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let list = quality.get_html("/nonconformances").await;
    assert!(
        list.contains("Cracked case")
            && list.contains("Loose screw")
            && list.contains("Wrong label")
    );
    let by_product = quality
        .get_html(&format!("/nonconformances?product={pump}"))
        .await;
    assert!(by_product.contains("Cracked case") && !by_product.contains("Loose screw"));
    let by_severity = quality
        .get_html("/nonconformances?severity=low&q=label")
        .await;
    assert!(by_severity.contains("Wrong label") && !by_severity.contains("Cracked case"));
    let none = quality.get_html("/nonconformances?state=closed").await;
    assert!(none.contains("No nonconformance matches these filters."));
    assert_eq!(
        quality.get("/nonconformances?state=lost").await.status(),
        400
    );
    assert_eq!(quality.get("/nonconformances?page=0").await.status(), 400);

    let home = quality.get_html("/").await;
    assert!(
        home.contains("Cracked case") && home.contains("review it"),
        "{home}"
    );
    let (engineer, _) = app
        .user_with_roles("ravi", &["engineer"], "engineer passphrase 1")
        .await;
    assert!(!engineer.get_html("/").await.contains("Cracked case"));
}

#[tokio::test]
async fn a_report_can_be_corrected_after_its_product_is_archived_but_not_moved_to_an_archived_one()
{
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pump = product(&admin, &app, "PUMP").await;
    let old = product(&admin, &app, "OLD").await;
    let (quality, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    quality
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Crack", &pump, "low", "x"),
        )
        .await;
    let id = nc_id(&app);
    let archive = |pid: String| {
        let admin = &admin;
        async move {
            let p = format!("/products/{pid}");
            admin
                .submit(
                    &p,
                    &format!("{p}/archive"),
                    &[("version", "1"), ("reason", "Discontinued")],
                )
                .await
        }
    };
    assert_eq!(archive(pump.clone()).await.status(), 303);
    assert_eq!(archive(old.clone()).await.status(), 303);

    let why = "Facts checked again with the line";
    let fields = report_fields("Crack in the case", &pump, "low", "x");
    assert_eq!(correct(&app, &quality, id, fields, why).await.status(), 303);

    let fields = report_fields("Crack in the case", &old, "low", "x");
    let res = correct(&app, &quality, id, fields, why).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose an active product")
    );
}

/// A correction of the reported facts needs a reason, kept on its audit
/// entry; the detected-on date is never after today (the app's clock, UTC),
/// on the report or a correction. A refused form comes back with what was
/// typed and changes nothing.
#[tokio::test]
async fn corrections_need_a_reason_and_the_detected_on_date_is_never_in_the_future() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "REA").await;
    let (quality, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    let tomorrow = (app.clock.now().date_naive() + chrono::Duration::days(1)).to_string();
    let today = app.clock.now().date_naive().to_string();

    let mut future = report_fields("Cracked lens", &pid, "low", "Found at inspection");
    future.retain(|(k, _)| *k != "detected_on");
    future.push(("detected_on", &tomorrow));
    let res = quality
        .submit("/nonconformances/new", "/nonconformances", &future)
        .await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!(
            "The detected-on date cannot be in the future (today is {today}, UTC)"
        )),
        "{body}"
    );
    assert!(body.contains("Found at inspection"), "the input is kept");
    assert!(app.audit_of("nonconformance.created").is_empty());

    let mut ok = report_fields("Cracked lens", &pid, "low", "Found at inspection");
    ok.retain(|(k, _)| *k != "detected_on");
    ok.push(("detected_on", &today));
    assert_eq!(
        quality
            .submit("/nonconformances/new", "/nonconformances", &ok)
            .await
            .status(),
        303
    );
    let id = nc_id(&app);

    // Without a reason: refused, the typed correction kept, nothing saved.
    let v = stored_version(&app, id);
    let fields = || report_fields("Cracked lens, two pieces", &pid, "medium", "Two lenses");
    let res = correct(&app, &quality, id, fields(), "").await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("a correction needs a reason"), "{body}");
    assert!(
        body.contains("Cracked lens, two pieces"),
        "the input is kept"
    );
    assert_eq!(stored_version(&app, id), v);

    // A future date on a correction is refused with the reason's check.
    let mut future = fields();
    future.retain(|(k, _)| *k != "detected_on");
    future.push(("detected_on", &tomorrow));
    let res = correct(&app, &quality, id, future, "   ").await;
    let body = res.text().await.unwrap();
    assert!(body.contains("cannot be in the future") && body.contains("needs a reason"));
    assert_eq!(stored_version(&app, id), v);

    let why = "A second lens was found in the same lot";
    assert_eq!(
        correct(&app, &quality, id, fields(), why).await.status(),
        303
    );
    let entry = app.audit_of("nonconformance.updated").pop().unwrap();
    assert_eq!(entry["reason"], "A second lens was found in the same lot");
    assert_eq!(entry["after"]["title"], "Cracked lens, two pieces");
}

/// "Use as is" and "concession" accept nonconforming product: they are
/// signed by someone other than the person who reported it. The reporter
/// is told before any password is asked for, nothing changes, and the
/// refusal names its rule; a disposition that needs no signature is theirs
/// to make; another quality member signs.
#[tokio::test]
async fn accepting_nonconforming_product_is_signed_by_someone_other_than_its_reporter() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "SOD").await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    let (petra, _) = app
        .user_with_roles("petra", &["quality"], "quality passphrase 2")
        .await;
    for title in ["Kept as is", "Scrapped"] {
        in_review(&app, &quinn, title, &pid, "low", "Found by quinn").await;
    }
    for (disposition, id) in [("use_as_is", 1), ("concession", 1)] {
        let v = stored_version(&app, id);
        let res = act(
            &app,
            &quinn,
            id,
            "disposition",
            &[
                ("disposition", disposition),
                ("justification", "Within tolerance"),
            ],
        )
        .await;
        assert_eq!(res.status(), 400, "{disposition}");
        assert_eq!(res.headers()["attest-refused-rules"], "sod.not_reporter");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("The reporter may not sign this (segregation of duties)"),
            "{body}"
        );
        assert!(
            !body.contains("signature_password"),
            "no password is asked for"
        );
        assert_eq!(stored_version(&app, id), v, "nothing changed");
    }
    // Scrap needs no signature: the reporter may decide it.
    let res = act(
        &app,
        &quinn,
        2,
        "disposition",
        &[
            ("disposition", "scrap"),
            ("justification", "Cannot be reworked"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // Another quality member signs the acceptance.
    let res = act(
        &app,
        &petra,
        1,
        "disposition",
        &[
            ("disposition", "use_as_is"),
            ("justification", "Within tolerance"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "the signing form");
    let res = SignForm::of(&res.text().await.unwrap())
        .send(&petra, Some("petra"), "quality passphrase 2")
        .await;
    assert_eq!(res.status(), 303);
    let entry = app.audit_of("nonconformance.transition").pop().unwrap();
    assert_eq!(entry["after"]["disposition"], "use_as_is");
    assert_eq!(entry["actor"]["name"], "petra Person");
}

/// WORKFLOWS.md (updated): escalation no longer moves an NC to a state of
/// its own. Records an earlier release left in "CAPA opened" go back, by
/// migration 18, to the state they were escalated from; the start that ran
/// it audits each move once; the records are then dispositioned and closed
/// as usual.
#[tokio::test]
async fn records_left_in_the_retired_capa_opened_state_go_back_by_migration_audited() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "RST").await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "violet sunrise passphrase 1")
        .await;
    let mut ids = Vec::new();
    for title in ["Escalated in review", "Escalated after disposition"] {
        ids.push(in_review(&app, &quinn, title, &pid, "high", "Seal leaks at 2 bar").await);
    }
    let (a, b) = (ids[0], ids[1]);
    let res = act(
        &app,
        &quinn,
        b,
        "disposition",
        &[
            ("disposition", "rework"),
            ("justification", "Reseal and retest"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    for id in ids.iter() {
        assert_eq!(
            act(&app, &quinn, *id, "escalate_to_capa", &[])
                .await
                .status(),
            303
        );
    }
    let versions: Vec<i64> = ids
        .iter()
        .map(|id| stored_version(&app, *id).parse().unwrap())
        .collect();
    // The database as the earlier release left it: back before migration
    // 18, both NCs in the state that release moved escalated NCs to.
    {
        let mut conn = app.conn();
        // Later migrations first, then 18 itself; the next start applies them all again.
        let mut reverted = attest::db::revert_last_migration(&mut conn).unwrap();
        while !reverted.contains("000018") {
            reverted = attest::db::revert_last_migration(&mut conn).unwrap();
        }
        diesel::sql_query(format!(
            "UPDATE nonconformances SET state = 'capa_opened' WHERE id IN ({a}, {b})"
        ))
        .execute(&mut conn)
        .unwrap();
    }

    // The next start migrates: both go back, each as a new version.
    let second = second_instance(&app).await;
    let nc = |id| {
        attest::db::repo::nonconformances::find(&mut second.conn(), id)
            .unwrap()
            .unwrap()
    };
    assert_eq!(nc(a).state.as_str(), "under_review");
    assert_eq!(nc(b).state.as_str(), "dispositioned");
    assert_eq!(nc(a).version, versions[0] + 1);
    assert_eq!(nc(b).version, versions[1] + 1);
    let moved = app.audit_of("nonconformance.state_restored");
    assert_eq!(moved.len(), 2, "{moved:?}");
    for (entry, (id, (state, version))) in moved.iter().zip(
        ids.iter()
            .zip(["under_review", "dispositioned"].iter().zip(&versions)),
    ) {
        assert_eq!(entry["entity"]["key"], format!("NC-{id}"));
        assert_eq!(entry["entity"]["version"], version + 1);
        assert_eq!(entry["before"]["state"], "capa_opened");
        assert_eq!(entry["after"]["state"], *state);
        assert!(
            entry["reason"]
                .as_str()
                .unwrap()
                .contains("back to the state it was escalated from")
        );
    }
    // The retired state can no longer be written, even behind Attest's back.
    let refused = diesel::sql_query(format!(
        "UPDATE nonconformances SET state = 'capa_opened' WHERE id = {a}"
    ))
    .execute(&mut app.conn());
    assert!(refused.is_err());
    // The history says so in words, and the record goes on to closure.
    let page = quinn.get_html(&format!("/nonconformances/{b}")).await;
    assert!(
        page.contains("Nonconformance back in the state it was escalated from"),
        "{page}"
    );
    let res = act(
        &app,
        &quinn,
        b,
        "close",
        &[("closure_note", "Reworked and retested")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(nc(b).state.as_str(), "closed");
    // A later start records nothing twice.
    let _third = second_instance(&app).await;
    assert_eq!(app.audit_of("nonconformance.state_restored").len(), 2);
}
