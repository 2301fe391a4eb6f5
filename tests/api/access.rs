//! Every refusal of access is audited (SECURITY.md 1 and 29, ARCHITECTURE.md
//! rule 11), and one rule says who reads which audit entries (docs/audit.md).

use crate::helpers::*;
use crate::nonconformances::{act, nc_id, product, report_fields};

const QUINN_PW: &str = "violet sunrise passphrase 1";
const ELLEN_PW: &str = "granite orchard passphrase 3";
const EVE_PW: &str = "harbour lantern passphrase 8";

/// The access.denied entries about one record, in order.
fn denied_on(app: &TestApp, entity_id: &str) -> Vec<serde_json::Value> {
    app.audit_of("access.denied")
        .into_iter()
        .filter(|e| e["entity"]["id"] == entity_id)
        .collect()
}

fn capa_version(app: &TestApp, id: i64) -> String {
    attest::db::repo::capas::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

#[tokio::test]
async fn a_workflow_step_refused_for_role_or_ownership_is_audited_on_the_record_security_29() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (eve, eve_id) = app.user_with_roles("eve", &["engineer"], EVE_PW).await;

    // An engineer may report an NC but not review it (quality's step).
    let pid = product(&admin, &app, "ACC").await;
    let res = ellen
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Burr on edge", &pid, "low", "Sharp burr"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc = nc_id(&app);
    assert_eq!(
        act(&app, &ellen, nc, "start_review", &[]).await.status(),
        403
    );
    let denied = denied_on(&app, &format!("nc-{nc}"));
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["actor"]["id"], format!("u-{ellen_id}"));
    assert_eq!(denied[0]["entity"]["key"], format!("NC-{nc}"));
    assert_eq!(denied[0]["after"]["method"], "POST");
    assert_eq!(
        denied[0]["after"]["path"],
        format!("/nonconformances/{nc}/start_review")
    );
    assert_eq!(
        denied[0]["after"]["why"],
        "Start review needs the role Quality"
    );

    // A CAPA owned by Ellen: Eve, an engineer who is not the owner, can
    // neither take the owner's step nor edit the owner's sections.
    let ellen_s = ellen_id.to_string();
    let open = [
        ("title", "Burrs on machined edges"),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("problem", "Customers cut their fingers"),
        ("priority", "medium"),
        ("owner_id", ellen_s.as_str()),
    ];
    assert_eq!(
        quinn.submit("/capas/new", "/capas", &open).await.status(),
        303
    );
    let v = capa_version(&app, 1);
    let res = eve
        .submit(
            "/capas/1",
            "/capas/1/start_investigation",
            &[("version", &v)],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = eve
        .submit(
            "/capas/1",
            "/capas/1/details",
            &[
                ("version", &v),
                ("title", "Mine now"),
                ("kind", "corrective"),
                ("source", "complaint"),
                ("problem", "x"),
                ("priority", "low"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(capa_version(&app, 1), v, "nothing changed");
    let denied = denied_on(&app, "capa-1");
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(
        denied
            .iter()
            .all(|e| e["actor"]["id"] == format!("u-{eve_id}"))
    );
    assert_eq!(
        denied[0]["after"]["why"],
        "Start investigation needs the role Quality or the record's owner"
    );
    assert_eq!(denied[1]["after"]["path"], "/capas/1/details");
    assert_eq!(
        denied[1]["after"]["why"],
        "Only quality or the CAPA's owner can change it"
    );

    // An action item owned by Ellen: Eve may not mark it done.
    let res = ellen
        .submit(
            "/capas/1",
            "/capas/1/start_investigation",
            &[("version", &v)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let v = capa_version(&app, 1);
    let due = (attest::clock::now().date_naive() + chrono::Duration::days(20)).to_string();
    let res = ellen
        .submit(
            "/capas/1",
            "/capas/1/items",
            &[
                ("version", &v),
                ("text", "Deburr every edge"),
                ("kind", "corrective"),
                ("owner_id", &ellen_s),
                ("due_on", &due),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let item = attest::db::repo::capas::find(&mut app.conn(), 1)
        .unwrap()
        .unwrap()
        .items[0]
        .id;
    let today = attest::clock::now().date_naive().to_string();
    let v = capa_version(&app, 1);
    let res = eve
        .submit(
            "/capas/1",
            &format!("/capas/1/items/{item}/done"),
            &[
                ("version", &v),
                ("done_on", &today),
                ("evidence", "I did it"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    let denied = denied_on(&app, "capa-1");
    assert_eq!(denied.len(), 3);
    assert_eq!(
        denied[2]["after"]["why"],
        "Only the action's owner or quality can mark it done"
    );
    assert_eq!(
        denied[2]["after"]["path"],
        format!("/capas/1/items/{item}/done")
    );
}

#[tokio::test]
async fn another_users_token_or_hidden_audit_entry_is_a_404_and_audited_security_1_29() {
    let app = spawn_app().await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (eve, eve_id) = app.user_with_roles("eve", &["engineer"], EVE_PW).await;
    ellen.api_token("ci", &["read"]).await;
    let token = attest::db::repo::tokens::of_user(&mut app.conn(), ellen_id)
        .unwrap()
        .pop()
        .unwrap();
    let res = eve
        .submit(
            "/account/tokens",
            &format!("/account/tokens/{}/revoke", token.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), 404);
    let still = attest::db::repo::tokens::of_user(&mut app.conn(), ellen_id)
        .unwrap()
        .pop()
        .unwrap();
    assert!(still.revoked_at.is_none(), "Ellen's token still works");
    let denied = denied_on(&app, &token.entity_id());
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["actor"]["id"], format!("u-{eve_id}"));
    assert_eq!(denied[0]["after"]["why"], "another user's API token");
    assert_eq!(app.audit_of("api_token.revoked").len(), 0);

    // An entry about a user account is not for an engineer: 404, audited.
    let seq = app
        .audit()
        .into_iter()
        .find(|e| e["entity"]["type"] == "user")
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    let res = eve.get(&format!("/audit/entry/{seq}")).await;
    assert_eq!(res.status(), 404);
    let last = app.audit_of("access.denied").pop().unwrap();
    assert_eq!(last["actor"]["id"], format!("u-{eve_id}"));
    assert_eq!(last["after"]["path"], format!("/audit/entry/{seq}"));
    // An entry that does not exist is a plain 404, with nothing to audit.
    let before = app.audit_of("access.denied").len();
    assert_eq!(eve.get("/audit/entry/999999").await.status(), 404);
    assert_eq!(app.audit_of("access.denied").len(), before);
}

// SECURITY.md 1, 29
#[tokio::test]
async fn engineers_read_the_entries_of_records_they_open_and_auditors_read_everything() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (audrey, _) = app
        .user_with_roles("audrey", &["auditor"], "slate meadow passphrase 5")
        .await;
    let pid = product(&admin, &app, "RUL").await;
    let res = ellen
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Burr on edge", &pid, "low", "Sharp burr"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc_seq = app.audit_of("nonconformance.created")[0]["seq"]
        .as_u64()
        .unwrap();
    let user_seq = app.audit_of("user.created")[0]["seq"].as_u64().unwrap();

    // Ellen: the record's entries in the browser and on entry pages...
    let browser = ellen.get_html("/audit").await;
    assert!(browser.contains("Nonconformance reported") || browser.contains("NC-1"));
    assert!(!browser.contains("audrey"), "no user-account entries");
    assert_eq!(
        ellen.get(&format!("/audit/entry/{nc_seq}")).await.status(),
        200
    );
    assert_eq!(
        ellen
            .get(&format!("/audit/entry/{user_seq}"))
            .await
            .status(),
        404
    );
    // ...and not the raw log, which holds every entry: 403, audited.
    let before = app.audit_of("access.denied").len();
    assert_eq!(
        ellen.get("/audit/entries?start=0&end=5").await.status(),
        403
    );
    assert_eq!(ellen.get("/audit/export").await.status(), 403);
    assert_eq!(app.audit_of("access.denied").len(), before + 2);
    // Hashes only: key, checkpoint and proofs stay open to her.
    assert_eq!(ellen.get("/audit/key").await.status(), 200);
    assert_eq!(ellen.get("/audit/checkpoint").await.status(), 200);
    let size = attest::audit::size(&mut app.conn()).unwrap();
    assert_eq!(
        ellen
            .get(&format!(
                "/audit/proof/inclusion?index={nc_seq}&size={size}"
            ))
            .await
            .status(),
        200
    );

    // An auditor reads everything, everywhere.
    assert_eq!(
        audrey
            .get(&format!("/audit/entry/{user_seq}"))
            .await
            .status(),
        200
    );
    let res = audrey.get("/audit/entries?start=0&end=10000").await;
    assert_eq!(res.status(), 200);
    let lines = res.text().await.unwrap().lines().count() as u64;
    assert!(lines >= size, "{lines} of {size}");
    assert_eq!(audrey.get("/audit/export").await.status(), 200);
    assert!(audrey.get_html("/audit").await.contains("audrey"));
}
