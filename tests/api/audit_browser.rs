//! The audit browser, one entry's page and the History panel (issue 3, UI).

use attest::audit::{self, Actor, NewEntry};
use attest::db::write_tx;
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// The seqs of the entries a browser page lists, in page order.
fn listed(page: &str) -> Vec<u64> {
    page.split("<a href=\"/audit/entry/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The link of the pager entry labelled `label`, unescaped.
fn pager_link(page: &str, label: &str) -> Option<String> {
    let end = page.find(&format!("\" rel=\"{label}\""))?;
    let start = page[..end].rfind("href=\"")? + 6;
    Some(page[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

#[tokio::test]
async fn the_audit_browser_filters_by_record_actor_event_and_time() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (auditor, _) = app
        .user_with_roles("checker", &["auditor"], "read only passphrase")
        .await;
    admin.create_user("ann", "Ann Example", &["engineer"]).await;
    let ann = app.user_id("ann");
    let page = format!("/admin/users/{ann}");
    let v = app.account("ann").version.to_string();
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[
                ("version", &v),
                ("role_engineer", "on"),
                ("role_quality", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    // Everything, newest first, the roles change with old and new values side by side.
    let all = auditor.get_html("/audit").await;
    let seqs = listed(&all);
    let n = audit::size(&mut app.conn()).unwrap();
    assert_eq!(seqs.first(), Some(&(n - 1)), "newest first");
    assert!(seqs.windows(2).all(|w| w[0] > w[1]));
    assert!(all.contains("Roles changed"), "{all}");
    // Roles read as their labels, a list as a list.
    assert!(
        all.contains("<td class=\"old\"><ul class=\"cell-list\"><li>Engineer</li></ul></td><td class=\"new\"><ul class=\"cell-list\"><li>Quality</li><li>Engineer</li></ul></td>"),
        "{all}"
    );

    // By record: the username (the entry's key) or the id.
    for record in ["ann", &format!("u-{ann}")] {
        let page = auditor
            .get_html(&format!("/audit?type=user&record={record}"))
            .await;
        let expected: Vec<u64> = app
            .audit()
            .iter()
            .filter(|e| e["entity"]["id"] == format!("u-{ann}"))
            .map(|e| e["seq"].as_u64().unwrap())
            .rev()
            .collect();
        assert_eq!(listed(&page), expected, "record {record}");
        assert_eq!(expected.len(), 2, "created and roles changed");
    }

    // By actor, by event and by group of events.
    let by_checker = auditor.get_html("/audit?actor=checker").await;
    let expected = app
        .audit()
        .iter()
        .filter(|e| e["actor"]["name"] == "checker Person")
        .count();
    assert!(expected >= 2, "checker signed in and changed a password");
    assert_eq!(listed(&by_checker).len(), expected);
    let roles = auditor.get_html("/audit?action=user.roles_changed").await;
    assert_eq!(
        listed(&roles).len(),
        app.audit_of("user.roles_changed").len()
    );
    let auth = auditor.get_html("/audit?action=auth.*").await;
    let auth_count = app
        .audit()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("auth."))
        .count();
    assert!(auth_count >= 3);
    assert_eq!(listed(&auth).len(), auth_count);

    // By time (UTC days, both ends inclusive).
    let today = chrono::Utc::now().date_naive();
    let days = |d: i64| (today + chrono::Duration::days(d)).to_string();
    let within = auditor
        .get_html(&format!("/audit?from={}&to={}", days(0), days(0)))
        .await;
    assert_eq!(listed(&within).len(), seqs.len());
    let later = auditor.get_html(&format!("/audit?from={}", days(1))).await;
    assert!(listed(&later).is_empty());
    assert!(later.contains("No entry matches these filters."));
    let earlier = auditor.get_html(&format!("/audit?to={}", days(-1))).await;
    assert!(listed(&earlier).is_empty());

    // Bad filters: a 400 that says which, never a 500.
    for (query, message) in [
        ("actor=nobody", "there is no user &#34;nobody&#34;"),
        ("action=user.deleted", "there is no event"),
        ("type=spaceship", "there is no record type"),
        ("from=yesterday", "from must be a date like 2026-11-21"),
        ("from=2026-11-22&to=2026-11-21", "from must not be after to"),
    ] {
        let res = auditor.get(&format!("/audit?{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
        let body = res.text().await.unwrap().to_lowercase();
        assert!(body.contains(message), "{query}: {body}");
    }
    assert_eq!(auditor.get("/audit?before=x").await.status(), 400);
}

#[tokio::test]
async fn the_audit_browser_pages_through_the_whole_log_by_seq() {
    let app = spawn_app().await;
    let (auditor, _) = app
        .user_with_roles("checker", &["auditor"], "read only passphrase")
        .await;
    let mut conn = app.conn();
    for i in 0..120 {
        write_tx(&mut conn, |conn| {
            audit::append(
                conn,
                &NewEntry::new(
                    &app.log_origin,
                    chrono::Utc::now(),
                    Actor::system(),
                    "auth.session_expired",
                )
                .after(serde_json::json!({ "n": i })),
            )
        })
        .unwrap();
    }
    let n = audit::size(&mut conn).unwrap();

    let mut seen = Vec::new();
    let mut page = auditor.get_html("/audit").await;
    assert!(
        pager_link(&page, "prev").is_none(),
        "the first page has nothing newer"
    );
    let mut pages = 1;
    loop {
        let here = listed(&page);
        assert!(here.len() <= 50);
        seen.extend(here);
        let Some(older) = pager_link(&page, "next") else {
            break;
        };
        page = auditor.get_html(&older).await;
        pages += 1;
        if pages == 2 {
            // Back from page 2 is page 1.
            let newer = pager_link(&page, "prev").unwrap();
            assert_eq!(
                listed(&auditor.get_html(&newer).await),
                listed(&auditor.get_html("/audit").await)
            );
        }
    }
    let expected: Vec<u64> = (0..n).rev().collect();
    assert_eq!(seen, expected, "every entry once, newest first");
    assert!(pages >= 3);

    // Filters survive paging.
    let first = auditor.get_html("/audit?action=auth.session_expired").await;
    let older = pager_link(&first, "next").unwrap();
    assert!(older.contains("action=auth.session_expired"), "{older}");
    let second = auditor.get_html(&older).await;
    assert!(listed(&second).iter().all(|s| (n - 120..n).contains(s)));
}

#[tokio::test]
async fn an_entry_page_shows_the_exact_bytes_and_their_leaf_hash() {
    let app = spawn_app().await;
    let (auditor, _) = app
        .user_with_roles("checker", &["auditor"], "read only passphrase")
        .await;
    let stored = audit::entries(&mut app.conn(), 1, 2).unwrap().remove(0);
    let page = auditor.get_html("/audit/entry/1").await;
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(&stored.leaf);
    assert!(page.contains(&hex::encode(h.finalize())), "{page}");
    let leaf = String::from_utf8(stored.leaf.clone()).unwrap();
    let escaped = leaf
        .replace('&', "&#38;")
        .replace('"', "&#34;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('\'', "&#39;");
    assert!(page.contains(&escaped), "{page}");
    assert!(
        page.contains("/audit/proof/inclusion?index=1&#38;size=")
            || page.contains("/audit/proof/inclusion?index=1&amp;size="),
        "{page}"
    );
    assert_eq!(auditor.get("/audit/entry/999999").await.status(), 404);
    assert_eq!(auditor.get("/audit/entry/x").await.status(), 404);
}

#[tokio::test]
async fn engineers_see_only_the_history_of_records_they_can_open() {
    let app = spawn_app().await;
    let (engineer, _) = app
        .user_with_roles("builder", &["engineer"], "engineer passphrase x")
        .await;
    let home = engineer.get_html("/").await;
    assert!(
        !home.contains("href=\"/audit\""),
        "no audit trail in the menu"
    );
    let page = engineer.get_html("/audit").await;
    assert!(listed(&page).is_empty(), "{page}");
    assert!(page.contains("None of the records you can open has recorded history yet."));
    assert_eq!(engineer.get("/audit/entry/0").await.status(), 404);
    assert_eq!(
        listed(&engineer.get_html("/audit?action=user.created").await).len(),
        0
    );
}

#[tokio::test]
async fn a_user_page_embeds_its_history_panel() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin.create_user("ann", "Ann Example", &["engineer"]).await;
    let ann = app.user_id("ann");
    let page = admin.get_html(&format!("/admin/users/{ann}")).await;
    assert!(page.contains("<h2 id=\"history-h\">History</h2>"), "{page}");
    assert!(page.contains("User created"));
    assert!(
        page.contains(&format!("/audit?type=user&#38;record=u-{ann}"))
            || page.contains(&format!("/audit?type=user&amp;record=u-{ann}")),
        "{page}"
    );
    // The panel's rows are the record's entries and nothing else.
    let ids: Vec<u64> = listed(&page);
    assert_eq!(ids.len(), 1);
    assert_eq!(
        app.audit()[ids[0] as usize]["entity"]["id"],
        format!("u-{ann}")
    );
}

/// A record's trail reads in people's words (issue 14, item 3): labels, not
/// stored names; people and products by name; lists as lists; a creation
/// as what was recorded; a signed step by its name. The whole trail comes
/// as CSV and as a printable record packet with the signatures verified;
/// someone who may not read the record's history gets neither (audited).
#[tokio::test]
async fn a_records_trail_reads_in_peoples_words_and_comes_as_csv_and_a_packet() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let (quinn, quinn_id) = app
        .user_with_roles("quinn", &["quality"], "violet sunrise passphrase 1")
        .await;
    let (ellen, ellen_id) = app
        .user_with_roles("ellen", &["engineer"], "granite orchard passphrase 3")
        .await;
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(ellen_id)).unwrap();
    let signing = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, signing, "violet sunrise passphrase 1").unwrap();
    let c = crate::capas::walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        ellen_id,
        "Cracked hinge",
        CapaState::Closed,
    );
    let page = quinn.get_html(&format!("/capas/{}", c.id)).await;
    let history = page.split("id=\"history\"").nth(1).unwrap();
    // A signed step by its name and the signature's meaning.
    assert!(
        history.contains("CAPA: Close as effective</h3>"),
        "{history}"
    );
    assert!(
        history.contains("Approved: effective, for “Close as effective”"),
        "{history}"
    );
    assert!(history.contains("<th scope=\"row\">State</th><td class=\"old\">Verification</td><td class=\"new\">Closed</td>"));
    assert!(!history.contains("close_effective") && !history.contains(">verification<"));
    // The signatures panel names the step too.
    assert!(page.contains("for “Close as effective”"), "{page}");
    // The whole trail in the browser: owner by name, whys as a list, the
    // creation as recorded, no stored names.
    let trail = quinn
        .get_html(&format!("/audit?type=capa&record=capa-{}", c.id))
        .await;
    assert!(trail.contains("<th scope=\"col\">Recorded</th>"), "{trail}");
    assert!(
        trail.contains("<th scope=\"row\">Owner</th><td>ellen Person</td>"),
        "{trail}"
    );
    assert!(
        trail.contains("<li>Why did it happen? — The fixture wore out</li>"),
        "{trail}"
    );
    assert!(!trail.contains("owner id") && !trail.contains("five_whys"));
    let table = quinn
        .get_html(&format!("/audit?type=capa&record=capa-{}&view=table", c.id))
        .await;
    assert!(table.contains("<table class=\"grid trail\">"));
    assert!(
        table.contains("<strong>Method:</strong> <span class=\"old\">—</span> → <span class=\"new\">Five whys</span>"),
        "{table}"
    );

    // CSV: one row per field, in words, each with its entry's leaf hash.
    let res = quinn
        .get(&format!("/audit/record/capa/capa-{}/trail.csv", c.id))
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("CAPA-{}-audit-trail.csv", c.id))
    );
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with(
        "Entry,When (UTC),By,User id,What,Recorded action,Record,Version,Field,Before,After"
    ));
    assert!(
        csv.contains(",CAPA: Close as effective,capa.transition,"),
        "{csv}"
    );
    assert!(
        csv.contains(
            ",State,Verification,Closed,,\"Approved: effective, for “Close as effective”\""
        ),
        "{csv}"
    );
    let entries: Vec<serde_json::Value> = app
        .audit()
        .into_iter()
        .filter(|e| e["entity"]["id"] == format!("capa-{}", c.id))
        .collect();
    for e in &entries {
        assert!(
            csv.contains(&format!("\r\n{},", e["seq"])),
            "entry {} in the CSV",
            e["seq"]
        );
    }

    // The packet: the record, its signature verified now, every entry oldest first.
    let packet = quinn
        .get_html(&format!("/audit/record/capa/capa-{}/packet", c.id))
        .await;
    assert!(
        packet.contains(&format!("Record packet: CAPA CAPA-{}", c.id)),
        "{packet}"
    );
    assert!(packet.contains("now <strong>Closed</strong>"));
    assert!(packet.contains("✓ verified"), "{packet}");
    assert!(packet.contains(&format!("{} audit entries, oldest first", entries.len())));
    let seqs = listed(&packet);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // An engineer reads a CAPA's trail, not a user account's.
    let res = ellen
        .get(&format!("/audit/record/capa/capa-{}/trail.csv", c.id))
        .await;
    assert_eq!(res.status(), 200);
    let before = app.audit_of("access.denied").len();
    let res = ellen
        .get(&format!("/audit/record/user/u-{quinn_id}/packet"))
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.audit_of("access.denied").len(), before + 1);
}
