//! Forms never lose input (issue 14, item 1): a refused form comes back on
//! the same page with every value typed, a summary at its top whose items
//! link to their fields, each field's message beside it, and its panel
//! open; the summary takes the focus, so the browser lands on it. A form
//! someone else's save made stale says what they changed.

use crate::helpers::*;

const QUINN_PW: &str = "violet sunrise passphrase 1";
const RAVI_PW: &str = "amber harbour passphrase 2";

/// The attributes of the `<details>` that holds the element `id`.
fn disclosure_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let open = html[..at].rfind("<details").expect("inside a disclosure");
    html[open..at]
        .split('>')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Asserts the page shows form `form` refused: its summary links to each
/// field named, each field has its message beside it, its panel is open.
pub fn assert_refused(html: &str, form: &str, fields: &[&str]) {
    assert!(
        html.contains(&format!("id=\"{form}-problems\"")),
        "{form}'s summary: {html}"
    );
    for f in fields {
        assert!(
            html.contains(&format!("href=\"#{form}-{f}\"")),
            "the summary links to {f}: {html}"
        );
        assert!(
            html.contains(&format!("id=\"{form}-{f}-error\"")),
            "{f} has its message beside it: {html}"
        );
        assert!(
            html.contains(&format!("aria-describedby=\"{form}-{f}-error\"")),
            "{f} is marked invalid: {html}"
        );
    }
}

fn version(app: &TestApp, id: i64) -> String {
    attest::db::repo::capas::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

#[tokio::test]
async fn a_refused_capa_form_comes_back_filled_in_with_each_message_beside_its_field() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ravi, _) = app.user_with_roles("ravi", &["quality"], RAVI_PW).await;
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let signing = owner.clone();
    let mut signer = Signer::open(&mut conn, signing, QUINN_PW).unwrap();
    let c = crate::capas::walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        quinn_id,
        "Cracked hinge",
        CapaState::Action,
    );
    let (id, page) = (c.id, format!("/capas/{}", c.id));
    let yesterday = (app.clock.today() - chrono::Duration::days(1)).to_string();
    let tomorrow = (app.clock.today() + chrono::Duration::days(1)).to_string();

    // The verification plan with a check due in the past.
    let v = version(&app, id);
    let res = quinn
        .submit(
            &page,
            &format!("{page}/plan"),
            &[
                ("version", &v),
                ("no_adverse_effect", "None on <other> lines"),
                ("effectiveness_criteria", "Zero cracks in 500 cycles"),
                ("effectiveness_due", &yesterday),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "plan", &["effectiveness_due"]);
    assert!(
        html.contains(">Zero cracks in 500 cycles</textarea>"),
        "{html}"
    );
    assert!(
        html.contains(">None on &#60;other&#62; lines</textarea>"),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{yesterday}\"")));
    assert!(disclosure_of(&html, "plan").contains(" open"));
    assert!(
        html.contains("id=\"plan-problems\" tabindex=\"-1\" autofocus>"),
        "the browser lands on the summary"
    );
    assert_eq!(version(&app, id), v, "nothing saved");

    // Marking an item done on a day still to come.
    let item = c.items[0].id;
    let res = quinn
        .submit(
            &page,
            &format!("{page}/items/{item}/done"),
            &[
                ("version", &v),
                ("done_on", &tomorrow),
                ("evidence", "Fixture replaced, WO-88"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "item-1-done", &["done_on"]);
    assert!(html.contains(">Fixture replaced, WO-88</textarea>"));
    assert!(disclosure_of(&html, "item-1-done").contains(" open"));
    assert!(
        !disclosure_of(&html, "item-2-done").contains(" open"),
        "only the refused form opens"
    );

    // A new action item without its owner.
    let res = quinn
        .submit(
            &page,
            &format!("{page}/items"),
            &[
                ("version", &v),
                ("text", "Add a hinge gauge"),
                ("kind", "preventive"),
                ("owner_id", ""),
                ("due_on", &tomorrow),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "item-new", &["owner_id"]);
    assert!(html.contains(">Add a hinge gauge</textarea>"));
    assert!(html.contains("<option value=\"preventive\" selected>"));

    // A step refused for its own field: the message is beside the field.
    let res = quinn
        .submit(
            &page,
            &format!("{page}/cancel"),
            &[("version", &v), ("justification", " ")],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "step-cancel", &["justification"]);
    assert!(disclosure_of(&html, "step-cancel").contains(" open"));
    assert_eq!(version(&app, id), v, "nothing saved");

    // Someone else saves first: the stale form keeps what was typed, says
    // what they changed, beside the field too, and now carries the
    // version shown, ready to be sent again.
    let res = ravi
        .submit(
            &page,
            &format!("{page}/plan"),
            &[
                ("version", &v),
                ("no_adverse_effect", "None"),
                ("effectiveness_criteria", "No crack in 1,000 cycles"),
                ("effectiveness_due", &tomorrow),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = quinn
        .submit(
            &page,
            &format!("{page}/plan"),
            &[
                ("version", &v),
                ("no_adverse_effect", "None on other lines"),
                ("effectiveness_criteria", "Zero cracks in 500 cycles"),
                ("effectiveness_due", &tomorrow),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Someone else saved this record after you opened the page"),
        "{html}"
    );
    assert!(html.contains("ravi Person"), "who changed it: {html}");
    assert_refused(&html, "plan", &["effectiveness_criteria"]);
    assert!(html.contains("Saved meanwhile by someone else: “No crack in 1,000 cycles”."));
    assert!(
        html.contains(">Zero cracks in 500 cycles</textarea>"),
        "kept"
    );
    let now = version(&app, id);
    assert_ne!(now, v);
    assert!(html.contains(&format!("name=\"version\" value=\"{now}\"")));
    let saved = attest::db::repo::capas::find(&mut app.conn(), id)
        .unwrap()
        .unwrap();
    assert_eq!(saved.effectiveness_criteria, "No crack in 1,000 cycles");
}

#[tokio::test]
async fn a_refused_nonconformance_correction_keeps_what_was_typed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let pid = crate::nonconformances::product(&admin, &app, "HNG").await;
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields("Cracked hinge", &pid, "high", "Cracks"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = crate::nonconformances::nc_id(&app);
    let page = format!("/nonconformances/{id}");
    let html = quinn.get_html(&page).await;
    let v = html
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let future = (app.clock.today() + chrono::Duration::days(3)).to_string();
    let res = quinn
        .submit(
            &page,
            &format!("{page}/edit"),
            &[
                ("version", &v),
                ("title", "Cracked hinge, lot 42"),
                ("source", "production"),
                ("product_id", &pid),
                ("lot_serial", "L-42"),
                ("description", "Cracks at the hinge"),
                ("detected_on", &future),
                ("severity", "critical"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "details", &["detected_on"]);
    assert!(html.contains("value=\"Cracked hinge, lot 42\""));
    assert!(html.contains("<option value=\"critical\" selected>"));
    assert!(disclosure_of(&html, "details").contains(" open"));
}

/// The first version field's value on a page.
fn version_on(html: &str) -> String {
    html.split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn refused_product_requirement_user_token_and_repository_forms_keep_what_was_typed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;

    // Products: a key prefix another product has; an archive without reason.
    let fields = |name: &'static str| {
        [
            ("name", name),
            ("key_prefix", "HNG"),
            ("safety_class", "B"),
            ("description", "Hinge <assembly>"),
        ]
    };
    let res = quinn
        .submit("/products/new", "/products", &fields("Hinge"))
        .await;
    assert_eq!(res.status(), 303);
    let page = res.headers()["location"].to_str().unwrap().to_string();
    let res = quinn
        .submit("/products/new", "/products", &fields("Second hinge"))
        .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"problems\""), "{html}");
    assert!(html.contains("href=\"#key_prefix\""));
    assert!(html.contains("id=\"key_prefix-error\""));
    assert!(html.contains("value=\"Second hinge\""));
    assert!(html.contains(">Hinge &#60;assembly&#62;</textarea>"));
    let v = version_on(&quinn.get_html(&page).await);
    let res = quinn
        .submit(
            &page,
            &format!("{page}/archive"),
            &[("version", &v), ("reason", "  ")],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "status", &["reason"]);

    // Requirements: a parent that does not exist; an edit with no kind.
    let pid = page.rsplit('/').next().unwrap().to_string();
    let res = quinn
        .submit(
            "/requirements/new",
            "/requirements",
            &[
                ("product_id", &pid),
                ("key", "SRS-001"),
                ("title", "Locks after 5 wrong PINs"),
                ("text", "The keypad locks"),
                ("kind", "software"),
                ("safety_class", ""),
                ("parents", "SYS-404"),
            ],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"SYS-404\""), "{html}");
    assert!(html.contains("value=\"Locks after 5 wrong PINs\""));
    assert!(html.contains("id=\"parents-error\""), "{html}");
    let res = quinn
        .submit(
            "/requirements/new",
            "/requirements",
            &[
                ("product_id", &pid),
                ("key", "SRS-001"),
                ("title", "Locks after 5 wrong PINs"),
                ("text", ""),
                ("kind", "software"),
                ("safety_class", ""),
                ("parents", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let req = res.headers()["location"].to_str().unwrap().to_string();
    let v = version_on(&quinn.get_html(&req).await);
    let res = quinn
        .submit(
            &req,
            &req,
            &[
                ("version", &v),
                ("title", "Locks after 3 wrong PINs"),
                ("text", "Three, not five"),
                ("kind", ""),
                ("safety_class", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "edit", &["kind"]);
    assert!(html.contains("value=\"Locks after 3 wrong PINs\""));
    assert!(html.contains(">Three, not five</textarea>"));

    // Users: a username that is taken; a profile with a bad e-mail.
    let res = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("username", "quinn"),
                ("full_name", "Quinn Other"),
                ("email", "other@example.com"),
                ("role_engineer", "on"),
            ],
        )
        .await;
    assert!(res.status().is_client_error());
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"username-error\""), "{html}");
    assert!(html.contains("value=\"Quinn Other\""));
    assert!(html.contains("name=\"role_engineer\" value=\"on\" checked"));
    let user = format!("/admin/users/{}", app.user_id("quinn"));
    let v = version_on(&admin.get_html(&user).await);
    let res = admin
        .submit(
            &user,
            &format!("{user}/profile"),
            &[
                ("version", &v),
                ("full_name", "Quinn Q. Quality"),
                ("email", "not an address"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert_refused(&html, "profile", &["email"]);
    assert!(html.contains("value=\"Quinn Q. Quality\""));
    assert!(html.contains("value=\"not an address\""));

    // Tokens: an expiry date in the past.
    let yesterday = (app.clock.today() - chrono::Duration::days(1)).to_string();
    let res = quinn
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[
                ("name", "CI pump-fw"),
                ("scope", "read"),
                ("expires_on", &yesterday),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"expires_on-error\""), "{html}");
    assert!(html.contains("value=\"CI pump-fw\""));
    assert!(html.contains("value=\"read\" checked"));

    // Repositories: a name that is not owner/name.
    let res = admin
        .submit(
            "/admin/repositories",
            "/admin/repositories",
            &[
                ("provider", "github"),
                ("name", "no-slash"),
                ("product_id", &pid),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"name-error\""), "{html}");
    assert!(html.contains("value=\"no-slash\""));
}
