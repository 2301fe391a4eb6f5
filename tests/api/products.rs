//! Products: quality and administrators manage them, everyone reads them,
//! every change is audited, nothing is ever deleted.

use crate::helpers::*;

fn product_id(app: &TestApp, prefix: &str) -> i64 {
    let p = app
        .audit_of("product.created")
        .into_iter()
        .find(|e| e["entity"]["key"] == prefix)
        .unwrap();
    p["entity"]["id"].as_str().unwrap()[2..].parse().unwrap()
}

#[tokio::test]
async fn quality_creates_and_changes_a_product_and_each_change_is_audited() {
    let app = spawn_app().await;
    let (quality, _) = app
        .user_with_roles("qm", &["quality"], "quality passphrase 1")
        .await;
    let res = quality
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", "Infusion pump"),
                ("key_prefix", "pump2"),
                ("safety_class", "C"),
                ("description", "Ambulatory infusion pump"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = product_id(&app, "PUMP2");
    assert_eq!(res.headers()["location"], format!("/products/{id}"));
    let created = &app.audit_of("product.created")[0];
    assert_eq!(created["after"]["safety_class"], "C");
    assert_eq!(created["actor"]["name"], "qm Person");

    let list = quality.get_html("/products").await;
    assert!(
        list.contains("Infusion pump") && list.contains("PUMP2"),
        "{list}"
    );

    let page = format!("/products/{id}");
    let res = quality
        .submit(
            &page,
            &page,
            &[
                ("version", "1"),
                ("name", "Infusion pump"),
                ("key_prefix", "PUMP2"),
                ("safety_class", "B"),
                ("description", "Ambulatory infusion pump"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let changed = &app.audit_of("product.updated")[0];
    assert_eq!(changed["before"], serde_json::json!({"safety_class": "C"}));
    assert_eq!(changed["after"], serde_json::json!({"safety_class": "B"}));
    let shown = quality.get_html(&page).await;
    assert!(shown.contains("Class B"), "{shown}");
    assert!(shown.contains("<h2 id=\"history-h\">History</h2>"));
    assert!(shown.contains("Product changed"));

    // The same form again is stale: 409, nothing written.
    let res = quality
        .submit(
            &page,
            &page,
            &[
                ("version", "1"),
                ("name", "Pump"),
                ("key_prefix", "PUMP2"),
                ("safety_class", "A"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Someone else saved this record after you opened the page")
    );
    assert_eq!(app.audit_of("product.updated").len(), 1);

    // Archive with a reason; restore.
    let res = quality
        .submit(
            &page,
            &format!("{page}/archive"),
            &[("version", "2"), ("reason", "Discontinued")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        !quality
            .get_html("/products")
            .await
            .contains("Infusion pump")
    );
    assert!(
        quality
            .get_html("/products?archived=1")
            .await
            .contains("Infusion pump")
    );
    let archived = &app.audit_of("product.archived")[0];
    assert_eq!(archived["reason"], "Discontinued");
    let res = quality
        .submit(
            &page,
            &format!("{page}/restore"),
            &[("version", "3"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status(), 400, "a reason is required");
    let res = quality
        .submit(
            &page,
            &format!("{page}/restore"),
            &[("version", "3"), ("reason", "Back in production")],
        )
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn bad_product_forms_say_what_is_wrong_and_save_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fields = |name: &'static str, prefix: &'static str, class: &'static str| {
        vec![
            ("name", name),
            ("key_prefix", prefix),
            ("safety_class", class),
            ("description", ""),
        ]
    };
    let res = admin
        .submit("/products/new", "/products", &fields("", "2X", "D"))
        .await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Enter the product&#39;s name.") || body.contains("Enter the product"),
        "{body}"
    );
    assert!(body.contains("The key prefix is 2 to 10 letters or digits"));
    assert!(body.contains("Choose the software safety class"));
    assert!(app.audit_of("product.created").is_empty());

    assert_eq!(
        admin
            .submit("/products/new", "/products", &fields("Pump", "PUMP", "A"))
            .await
            .status(),
        303
    );
    let res = admin
        .submit(
            "/products/new",
            "/products",
            &fields("Other pump", "pump", "A"),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("already has this key prefix")
    );

    // Mass assignment: a field the form does not have is refused.
    let mut extra = fields("Third", "THIRD", "A");
    extra.push(("active", "false"));
    assert_eq!(
        admin
            .submit("/products/new", "/products", &extra)
            .await
            .status(),
        400
    );
    assert_eq!(app.audit_of("product.created").len(), 1);
}

#[tokio::test]
async fn engineers_and_auditors_read_products_but_cannot_change_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", "Pump"),
                ("key_prefix", "PUMP"),
                ("safety_class", "A"),
                ("description", ""),
            ],
        )
        .await;
    let id = product_id(&app, "PUMP");
    for (name, role) in [("eng", "engineer"), ("aud", "auditor")] {
        let (b, _) = app
            .user_with_roles(name, &[role], "reader passphrase 12")
            .await;
        assert!(b.get_html("/products").await.contains("Pump"));
        let page = b.get_html(&format!("/products/{id}")).await;
        assert!(!page.contains("Save product"), "{role} sees no edit form");
        assert!(page.contains("Product created"), "{role} sees the history");
        assert_eq!(b.get("/products/new").await.status(), 403);
        let token = csrf_token(&b.get_html("/products").await);
        let res = b
            .post_form(
                &format!("/products/{id}/archive"),
                &[("version", "1"), ("reason", "x"), ("csrf_token", &token)],
            )
            .await;
        assert_eq!(res.status(), 403, "{role}");
    }
    assert!(app.audit_of("product.archived").is_empty());
    // The engineer's audit trail shows product history, not account events.
    let (eng, _) = app
        .user_with_roles("eng2", &["engineer"], "reader passphrase 12")
        .await;
    let trail = eng.get_html("/audit").await;
    assert!(trail.contains("Product created</h3>"), "{trail}");
    assert!(!trail.contains("User created</h3>"));
}

/// Posts the same form from `n` tasks at once; returns each answer's status
/// and page.
async fn at_once(
    b: &std::sync::Arc<Browser>,
    page: &str,
    action: &str,
    n: usize,
    fields: Vec<(String, String)>,
) -> Vec<(u16, String)> {
    let token = csrf_token(&b.get_html(page).await);
    let mut tasks = Vec::new();
    for i in 0..n {
        let (b, token, action) = (b.clone(), token.clone(), action.to_string());
        let mut fields = fields.clone();
        for (_, v) in &mut fields {
            *v = v.replace("{i}", &i.to_string());
        }
        tasks.push(tokio::spawn(async move {
            let mut all: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            all.push(("csrf_token", &token));
            let res = b.post_form(&action, &all).await;
            (res.status().as_u16(), res.text().await.unwrap())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_saved_by_several_people_at_once_is_one_record_and_clear_409s() {
    let app = spawn_app().await;
    let admin = std::sync::Arc::new(app.admin().await);
    let f = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    // Eight products with the same key prefix, each with its own name.
    let answers = at_once(
        &admin,
        "/products/new",
        "/products",
        8,
        f(&[
            ("name", "Pump {i}"),
            ("key_prefix", "SAME"),
            ("safety_class", "B"),
            ("description", ""),
        ]),
    )
    .await;
    let ok = answers.iter().filter(|a| a.0 == 303).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    for (status, html) in answers.iter().filter(|a| a.0 != 303) {
        assert_eq!(*status, 409, "{html}");
        assert!(
            html.contains("Another product already has this key prefix"),
            "{html}"
        );
        assert!(
            !html.contains("UNIQUE") && !html.contains("duplicate key"),
            "{html}"
        );
    }
    assert_eq!(app.audit_of("product.created").len(), 1);

    // Eight requirements with the same key in that product.
    let (ellen, _) = app
        .user_with_roles("ellen", &["engineer"], "granite orchard passphrase 3")
        .await;
    let ellen = std::sync::Arc::new(ellen);
    let pid = product_id(&app, "SAME").to_string();
    let answers = at_once(
        &ellen,
        "/requirements/new",
        "/requirements",
        8,
        f(&[
            ("product_id", &pid),
            ("key", "SRS-001"),
            ("title", "Statement {i}"),
            ("text", "The pump stops"),
            ("kind", "software"),
            ("safety_class", ""),
            ("parents", ""),
        ]),
    )
    .await;
    let ok = answers.iter().filter(|a| a.0 == 303).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|a| a.0 == 303 || a.0 == 409));
    assert_eq!(app.audit_of("requirement.created").len(), 1);
}

#[test]
fn a_duplicate_the_database_refuses_after_the_check_passed_is_taken_not_a_storage_error() {
    use attest::domain::product::{ProductFields, SafetyClass};
    use attest::service::error::RecordError;
    use attest::service::products;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let ctx = attest::service::Ctx {
        log: app.log_origin.clone(),
        actor: attest::audit::Actor::system(),
        now: attest::clock::now(),
        op: None,
    };
    let fields = |name: &str| ProductFields {
        name: name.into(),
        key_prefix: "RACE".into(),
        safety_class: SafetyClass::B,
        description: String::new(),
    };
    // The first save is made but not yet committed when the second checks
    // for a clash: only the database can see the duplicate then.
    let (started, go) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let (tx_started, rx_started) = started;
    let (tx_go, rx_go) = go;
    let pool = app.pool.clone();
    let (ctx1, f1) = (ctx.clone(), fields("First pump"));
    let first = std::thread::spawn(move || {
        let mut conn = pool.get().unwrap();
        attest::db::write_tx(&mut conn, |c| {
            let made = products::create(c, &ctx1, &f1);
            tx_started.send(()).unwrap();
            rx_go.recv().unwrap();
            made
        })
    });
    rx_started.recv().unwrap();
    let pool = app.pool.clone();
    let (ctx2, f2) = (ctx.clone(), fields("Second pump"));
    let second = std::thread::spawn(move || products::create(&mut pool.get().unwrap(), &ctx2, &f2));
    std::thread::sleep(std::time::Duration::from_millis(300));
    tx_go.send(()).unwrap();
    assert!(first.join().unwrap().is_ok());
    match second.join().unwrap() {
        Err(e @ RecordError::Taken { field, .. }) => {
            assert_eq!(field, "key_prefix");
            assert!(e.to_string().contains("already has this key prefix"), "{e}");
        }
        other => panic!("expected Taken, got {:?}", other.map(|p| p.key_prefix)),
    }
}
